/* tmpl.c: mustache-style templates, compiled once (at start and on SIGHUP).
 *
 * Written by hand because Debian ships no maintained C mustache library (only
 * C++, Perl, Java… ones), and we want compile-once trees, errors that name
 * file and line, and escaping of both quote kinds so values are safe inside
 * quoted attributes.
 *
 * Syntax: {{name}} {{a.b}} {{.}} escaped; {{{name}}} raw (use only with a
 * reason in a {{! comment }}); {{#name}}…{{/name}} section (loops over arrays,
 * enters objects, renders once for other truthy values); {{^name}}…{{/name}}
 * inverted; {{> partial}}; {{! comment}}. Falsy: null, false, 0, "", []. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "view/tmpl.h"

enum node_kind { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL };

struct node {
	enum node_kind kind;
	char *text;           /* N_TEXT: bytes; others: the tag name */
	size_t len;
	struct node *kids;    /* sections */
	size_t nkids;
	int line;
};

struct tmpl {
	char *name;
	char *file;
	struct node *nodes;
	size_t n;
};

struct tmpl_set {
	struct tmpl *items;
	size_t n;
};

#define MAX_DEPTH 32

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		abort();
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		abort();
	return p;
}

static void nodes_free(struct node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(nodes[i].text);
		nodes_free(nodes[i].kids, nodes[i].nkids);
	}
	free(nodes);
}

static void push_node(struct node **arr, size_t *n, struct node nd)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof **arr);
	(*arr)[(*n)++] = nd;
}

static int count_lines(const char *from, const char *to)
{
	int n = 0;
	for (; from < to; from++)
		if (*from == '\n')
			n++;
	return n;
}

static int valid_name(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	if (len == 1 && s[0] == '.')
		return 1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-' || c == '/'))
			return 0;
	}
	return 1;
}

/* Parses src from *pos until {{/close}} (or end when close is NULL). */
static int parse_nodes(struct node **out, size_t *nout, const char *src, const char **pos,
		       const char *close, int depth, const char *file, struct err *e)
{
	const char *p = *pos;
	struct node *nodes = NULL;
	size_t n = 0;
	if (depth > MAX_DEPTH)
		return err_set(e, ERR_INVALID, "%s:%d: sections nested too deeply", file,
			       1 + count_lines(src, p));
	for (;;) {
		const char *open = strstr(p, "{{");
		if (!open) {
			if (*p)
				push_node(&nodes, &n, (struct node){ N_TEXT, xstrndup(p, strlen(p)), strlen(p), NULL, 0, 0 });
			if (close) {
				nodes_free(nodes, n);
				return err_set(e, ERR_INVALID, "%s:%d: section '%s' is never closed", file,
					       1 + count_lines(src, *pos), close);
			}
			*out = nodes;
			*nout = n;
			*pos = p + strlen(p);
			return 0;
		}
		if (open > p)
			push_node(&nodes, &n, (struct node){ N_TEXT, xstrndup(p, (size_t)(open - p)), (size_t)(open - p), NULL, 0, 0 });
		int line = 1 + count_lines(src, open);
		int triple = open[2] == '{';
		const char *tag = open + (triple ? 3 : 2);
		const char *end = strstr(tag, triple ? "}}}" : "}}");
		if (!end) {
			nodes_free(nodes, n);
			return err_set(e, ERR_INVALID, "%s:%d: unterminated tag", file, line);
		}
		p = end + (triple ? 3 : 2);
		char sigil = triple ? '{' : *tag;
		if (!triple && strchr("#^/>!", sigil))
			tag++;
		while (*tag == ' ')
			tag++;
		const char *tend = end;
		while (tend > tag && tend[-1] == ' ')
			tend--;
		size_t tlen = (size_t)(tend - tag);
		if (sigil == '!')
			continue;
		if (!valid_name(tag, tlen)) {
			nodes_free(nodes, n);
			return err_set(e, ERR_INVALID, "%s:%d: bad tag name '%.*s'", file, line, (int)tlen, tag);
		}
		char *name = xstrndup(tag, tlen);
		if (sigil == '/') {
			if (!close || strcmp(close, name) != 0) {
				err_set(e, ERR_INVALID, "%s:%d: unexpected {{/%s}}%s%s", file, line, name,
					close ? ", expected {{/" : "", close ? close : "");
				if (close)
					strncat(e->msg, "}}", sizeof e->msg - strlen(e->msg) - 1);
				free(name);
				nodes_free(nodes, n);
				return ERR_INVALID;
			}
			free(name);
			*out = nodes;
			*nout = n;
			*pos = p;
			return 0;
		}
		struct node nd = { N_VAR, name, tlen, NULL, 0, line };
		if (triple || sigil == '&')
			nd.kind = N_RAW;
		else if (sigil == '>')
			nd.kind = N_PARTIAL;
		else if (sigil == '#' || sigil == '^') {
			nd.kind = sigil == '#' ? N_SECTION : N_INVERTED;
			int rc = parse_nodes(&nd.kids, &nd.nkids, src, &p, name, depth + 1, file, e);
			if (rc) {
				free(name);
				nodes_free(nodes, n);
				return rc;
			}
		}
		push_node(&nodes, &n, nd);
	}
}

static int tmpl_add(struct tmpl_set **setp, const char *name, const char *file, const char *src,
		    struct err *e)
{
	if (!*setp) {
		*setp = calloc(1, sizeof **setp);
		if (!*setp)
			abort();
	}
	struct tmpl t = { 0 };
	const char *pos = src;
	int rc = parse_nodes(&t.nodes, &t.n, src, &pos, NULL, 0, file, e);
	if (rc)
		return rc;
	t.name = strdup(name);
	t.file = strdup(file);
	struct tmpl_set *set = *setp;
	set->items = xrealloc(set->items, (set->n + 1) * sizeof *set->items);
	set->items[set->n++] = t;
	return 0;
}

int tmpl_set_add_string(struct tmpl_set **setp, const char *name, const char *src, struct err *e)
{
	return tmpl_add(setp, name, name, src, e);
}

static const struct tmpl *tmpl_find(const struct tmpl_set *set, const char *name)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (strcmp(set->items[i].name, name) == 0)
			return &set->items[i];
	return NULL;
}

int tmpl_exists(const struct tmpl_set *set, const char *name)
{
	return tmpl_find(set, name) != NULL;
}

static int load_dir(struct tmpl_set **set, const char *root, const char *rel, int depth, struct err *e)
{
	char path[4096];
	snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
	DIR *d = opendir(path);
	if (!d)
		return err_set(e, ERR_NOTFOUND, "templates folder %s: %s", path, strerror(errno));
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char relname[1024], full[4096];
		snprintf(relname, sizeof relname, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		snprintf(full, sizeof full, "%s/%s", root, relname);
		struct stat st;
		if (stat(full, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth < 4)
				rc = load_dir(set, root, relname, depth + 1, e);
			continue;
		}
		size_t len = strlen(relname);
		if (len < 6 || strcmp(relname + len - 5, ".html") != 0)
			continue;
		FILE *f = fopen(full, "rb");
		if (!f) {
			rc = err_set(e, ERR_FAIL, "%s: %s", full, strerror(errno));
			break;
		}
		char *src = malloc((size_t)st.st_size + 1);
		if (!src)
			abort();
		size_t got = fread(src, 1, (size_t)st.st_size, f);
		fclose(f);
		src[got] = '\0';
		relname[len - 5] = '\0';
		rc = tmpl_add(set, relname, full, src, e);
		free(src);
	}
	closedir(d);
	return rc;
}

static int check_partials(const struct tmpl_set *set, const struct tmpl *t, const struct node *nodes,
			  size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		if (nodes[i].kind == N_PARTIAL && !tmpl_find(set, nodes[i].text))
			return err_set(e, ERR_INVALID, "%s:%d: partial '%s' not found", t->file, nodes[i].line,
				       nodes[i].text);
		if (check_partials(set, t, nodes[i].kids, nodes[i].nkids, e))
			return ERR_INVALID;
	}
	return 0;
}

int tmpl_set_load(struct tmpl_set **out, const char *dir, struct err *e)
{
	struct tmpl_set *set = calloc(1, sizeof *set);
	if (!set)
		abort();
	int rc = load_dir(&set, dir, "", 0, e);
	for (size_t i = 0; rc == 0 && i < set->n; i++)
		rc = check_partials(set, &set->items[i], set->items[i].nodes, set->items[i].n, e);
	if (rc) {
		tmpl_set_free(set);
		return rc;
	}
	*out = set;
	return 0;
}

void tmpl_set_free(struct tmpl_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free(set->items[i].name);
		free(set->items[i].file);
		nodes_free(set->items[i].nodes, set->items[i].n);
	}
	free(set->items);
	free(set);
}

void html_escape(struct buf *out, const char *s, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		buf_append(out, s + start, i - start);
		buf_puts(out, rep);
		start = i + 1;
	}
	buf_append(out, s + start, len - start);
}

struct ctx {
	struct json_object *stack[MAX_DEPTH * 2 + 2];
	int depth;
};

static struct json_object *lookup(const struct ctx *c, const char *name)
{
	if (strcmp(name, ".") == 0)
		return c->stack[c->depth - 1];
	char first[256];
	size_t flen = strcspn(name, ".");
	if (flen >= sizeof first)
		return NULL;
	memcpy(first, name, flen);
	first[flen] = '\0';
	struct json_object *v = NULL;
	int found = 0;
	for (int i = c->depth - 1; i >= 0 && !found; i--) {
		if (json_object_is_type(c->stack[i], json_type_object) &&
		    json_object_object_get_ex(c->stack[i], first, &v))
			found = 1;
	}
	if (!found)
		return NULL;
	const char *rest = name + flen;
	while (*rest == '.' && v) {
		rest++;
		size_t len = strcspn(rest, ".");
		if (len >= sizeof first)
			return NULL;
		memcpy(first, rest, len);
		first[len] = '\0';
		struct json_object *next = NULL;
		if (!json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, first, &next))
			return NULL;
		v = next;
		rest += len;
	}
	return v;
}

static int truthy(struct json_object *v)
{
	if (!v)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_null: return 0;
	case json_type_boolean: return json_object_get_boolean(v);
	case json_type_int: return json_object_get_int64(v) != 0;
	case json_type_double: return json_object_get_double(v) != 0.0;
	case json_type_string: return json_object_get_string_len(v) > 0;
	case json_type_array: return json_object_array_length(v) > 0;
	case json_type_object: return 1;
	}
	return 0;
}

static void emit_value(struct buf *out, struct json_object *v, int raw)
{
	if (!v || json_object_is_type(v, json_type_null))
		return;
	const char *s;
	size_t len;
	char num[64];
	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		break;
	case json_type_int:
		len = (size_t)snprintf(num, sizeof num, "%lld", (long long)json_object_get_int64(v));
		s = num;
		break;
	case json_type_boolean:
		s = json_object_get_boolean(v) ? "true" : "false";
		len = strlen(s);
		break;
	case json_type_double:
		len = (size_t)snprintf(num, sizeof num, "%g", json_object_get_double(v));
		s = num;
		break;
	default:
		s = json_object_to_json_string(v);
		len = strlen(s);
	}
	if (raw)
		buf_append(out, s, len);
	else
		html_escape(out, s, len);
}

static int render_nodes(struct buf *out, const struct tmpl_set *set, const struct node *nodes, size_t n,
			struct ctx *c, int partial_depth, struct err *e);

static int render_partial(struct buf *out, const struct tmpl_set *set, const char *name, struct ctx *c,
			  int partial_depth, struct err *e)
{
	const struct tmpl *t = tmpl_find(set, name);
	if (!t)
		return err_set(e, ERR_NOTFOUND, "template '%s' not found", name);
	if (partial_depth > MAX_DEPTH)
		return err_set(e, ERR_INVALID, "template '%s': partials nested too deeply", name);
	return render_nodes(out, set, t->nodes, t->n, c, partial_depth + 1, e);
}

static int render_nodes(struct buf *out, const struct tmpl_set *set, const struct node *nodes, size_t n,
			struct ctx *c, int partial_depth, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		const struct node *nd = &nodes[i];
		struct json_object *v;
		switch (nd->kind) {
		case N_TEXT:
			buf_append(out, nd->text, nd->len);
			break;
		case N_VAR:
		case N_RAW:
			emit_value(out, lookup(c, nd->text), nd->kind == N_RAW);
			break;
		case N_PARTIAL:
			if (render_partial(out, set, nd->text, c, partial_depth, e))
				return ERR_INVALID;
			break;
		case N_INVERTED:
			if (!truthy(lookup(c, nd->text)) &&
			    render_nodes(out, set, nd->kids, nd->nkids, c, partial_depth, e))
				return ERR_INVALID;
			break;
		case N_SECTION:
			v = lookup(c, nd->text);
			if (!truthy(v))
				break;
			if (c->depth >= (int)(sizeof c->stack / sizeof c->stack[0]))
				return err_set(e, ERR_INVALID, "context nested too deeply");
			if (json_object_is_type(v, json_type_array)) {
				size_t len = json_object_array_length(v);
				for (size_t k = 0; k < len; k++) {
					c->stack[c->depth++] = json_object_array_get_idx(v, k);
					int rc = render_nodes(out, set, nd->kids, nd->nkids, c, partial_depth, e);
					c->depth--;
					if (rc)
						return rc;
				}
			} else {
				c->stack[c->depth++] = v;
				int rc = render_nodes(out, set, nd->kids, nd->nkids, c, partial_depth, e);
				c->depth--;
				if (rc)
					return rc;
			}
			break;
		}
	}
	return 0;
}

int tmpl_render(struct buf *out, const struct tmpl_set *set, const char *name, struct json_object *ctx,
		struct err *e)
{
	struct ctx c = { .depth = 0 };
	c.stack[c.depth++] = ctx;
	return render_partial(out, set, name, &c, 0, e);
}
