/* parse.c: request parsers. Written by hand: libfcgi hands over raw bytes and no
 * Debian C library parses forms and multipart bodies with the limits we need. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "http/parse.h"

int kv_add(struct arena *a, struct kvlist *l, size_t max, const struct kv *kv, struct err *e)
{
	if (l->n >= max)
		return err_set(e, ERR_TOOBIG, "too many fields (limit %zu)", max);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct kv *items = arena_alloc(a, cap * sizeof *items);
		if (l->n)
			memcpy(items, l->items, l->n * sizeof *items);
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n++] = *kv;
	return 0;
}

const struct kv *kv_find(const struct kvlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	return NULL;
}

const char *kv_get(const struct kvlist *l, const char *name)
{
	const struct kv *kv = kv_find(l, name);
	return kv ? kv->value : NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int http_url_decode(char **out, size_t *outlen, struct arena *a, const char *s, size_t len,
		    int plus_space, struct err *e)
{
	char *d = arena_alloc(a, len + 1);
	size_t j = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int h, l;
			if (len - i < 3)
				return err_set(e, ERR_INVALID, "truncated percent-escape");
			h = hexval((unsigned char)s[i + 1]);
			l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return err_set(e, ERR_INVALID, "malformed percent-escape");
			c = (unsigned char)(h * 16 + l);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == '\0')
			return err_set(e, ERR_INVALID, "NUL byte in input");
		d[j++] = (char)c;
	}
	d[j] = '\0';
	*out = d;
	if (outlen)
		*outlen = j;
	return 0;
}

int http_num_parse(long long *out, const char *s, long long min, long long max)
{
	if (!s)
		return ERR_INVALID;
	const char *p = s;
	int neg = *p == '-';
	if (neg)
		p++;
	if (!*p)
		return ERR_INVALID;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return ERR_INVALID;
	/* Accumulate as a negative number: its range holds LLONG_MIN too. */
	long long v = 0;
	for (; *p; p++) {
		int d = *p - '0';
		if (v < (LLONG_MIN + d) / 10)
			return ERR_TOOBIG;
		v = v * 10 - d;
	}
	if (!neg) {
		if (v == LLONG_MIN)
			return ERR_TOOBIG;
		v = -v;
	}
	if (v < min || v > max)
		return ERR_TOOBIG;
	*out = v;
	return 0;
}

static int hex4(const unsigned char *s, size_t len, unsigned int *cp)
{
	if (len < 4)
		return -1;
	*cp = 0;
	for (int k = 0; k < 4; k++) {
		int h = hexval(s[k]);
		if (h < 0)
			return -1;
		*cp = *cp * 16 + (unsigned int)h;
	}
	return 0;
}

/* Copies the plain start of the string whose text begins at s[i] (at most fieldsz-1 bytes). */
static void copy_key(char *field, size_t fieldsz, const unsigned char *s, size_t len, size_t i)
{
	size_t j = 0;
	for (size_t k = i; k < len && s[k] != '"' && j + 1 < fieldsz; k++) {
		if (s[k] == '\\' || s[k] < 0x20 || s[k] >= 0x7f)
			break; /* the name is for a message: keep its plain printable ASCII start */
		field[j++] = (char)s[k];
	}
	field[j] = '\0';
}

/* 1 when the string whose opening quote is at s[open] is followed by ':' (it is a key). */
static int string_is_key(const unsigned char *s, size_t len, size_t open)
{
	size_t k = open + 1;
	while (k < len && s[k] != '"')
		k += s[k] == '\\' ? 2 : 1;
	for (k++; k < len; k++)
		if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\n')
			return s[k] == ':';
	return 0;
}

int http_json_check(char *field, size_t fieldsz, const char **why, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	int depth = 0, in_string = 0;
	size_t open = 0; /* the opening quote of the string we are in */
	char key[64] = "";
	field[0] = '\0';
	*why = NULL;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if (!in_string) {
			if (c == '"') {
				in_string = 1;
				open = i;
			} else if (c == '{' || c == '[') {
				depth++;
			} else if (c == '}' || c == ']') {
				if (--depth == 0)
					key[0] = '\0';
			} else if (c == '\'') {
				*why = "is not JSON (strings are in double quotes)";
				goto bad;
			} else if (c >= 0x80 || c == 0) {
				*why = "is not valid UTF-8 JSON";
				goto bad;
			}
			i++;
			continue;
		}
		if (c == '"') {
			in_string = 0;
			if (depth == 1 && string_is_key(s, len, open))
				copy_key(key, sizeof key, s, len, open + 1);
			i++;
		} else if (c == '\\') {
			unsigned int cp, lo;
			if (i + 1 >= len || (s[i + 1] == 'u' && hex4(s + i + 2, len - i - 2, &cp))) {
				/* refused here too, so nothing after it goes unchecked whatever a parser makes of it */
				*why = "has a malformed escape";
				goto bad;
			}
			if (s[i + 1] != 'u') {
				i += 2;
				continue;
			}
			i += 6;
			if (cp == 0) {
				*why = "contains a NUL character (\\u0000)";
				goto bad;
			}
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				*why = "contains an unpaired UTF-16 surrogate escape";
				goto bad;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (i + 6 > len || s[i] != '\\' || s[i + 1] != 'u' || hex4(s + i + 2, len - i - 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff) {
					*why = "contains an unpaired UTF-16 surrogate escape";
					goto bad;
				}
				i += 6;
			}
		} else {
			size_t n = utf8_char_len((const char *)s + i, len - i);
			if (!n) {
				*why = c == 0 ? "contains a NUL byte" : "is not valid UTF-8";
				goto bad;
			}
			i += n;
		}
	}
	return 0;
bad:
	if (in_string && depth == 1 && string_is_key(s, len, open))
		copy_key(key, sizeof key, s, len, open + 1);
	if (depth >= 1)
		snprintf(field, fieldsz, "%s", key);
	return ERR_INVALID;
}

int http_parse_urlencoded(struct kvlist *out, struct arena *a, const char *s, size_t len,
			  size_t max_fields, struct err *e)
{
	size_t i = 0;
	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - s) : len;
		if (end > i) {
			const char *eq = memchr(s + i, '=', end - i);
			size_t nend = eq ? (size_t)(eq - s) : end;
			struct kv kv = { 0 };
			char *name, *value;
			if (http_url_decode(&name, NULL, a, s + i, nend - i, 1, e) ||
			    http_url_decode(&value, &kv.value_len, a, eq ? eq + 1 : s + end,
					    eq ? end - nend - 1 : 0, 1, e))
				return ERR_INVALID;
			if (!utf8_valid(name, strlen(name)))
				return err_set(e, ERR_INVALID, "A field name is not valid UTF-8.");
			if (!utf8_valid(value, kv.value_len))
				return err_set_field(e, ERR_INVALID, name, "The field '%.64s' is not valid UTF-8 text.", name);
			kv.name = name;
			kv.value = value;
			int rc = kv_add(a, out, max_fields, &kv, e);
			if (rc)
				return rc;
		}
		i = end + 1;
	}
	return 0;
}

int http_parse_cookies(struct kvlist *out, struct arena *a, const char *header, size_t max, struct err *e)
{
	const char *p = header;
	while (p && *p) {
		while (*p == ' ' || *p == ';' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (eq && eq > p) {
			size_t nlen = (size_t)(eq - p);
			while (nlen && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
				nlen--;
			const char *v = eq + 1;
			size_t vlen = len - (size_t)(v - p);
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			struct kv kv = { .name = arena_strndup(a, p, nlen), .value = arena_strndup(a, v, vlen),
					 .value_len = vlen };
			/* A pair that is not UTF-8 text is malformed too: skipped, so no such value is ever read. */
			if (utf8_valid(p, nlen) && utf8_valid(v, vlen)) {
				int rc = kv_add(a, out, max, &kv, e);
				if (rc)
					return rc;
			}
		}
		p = end;
	}
	return 0;
}

char *http_header_param(struct arena *a, const char *header, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = header ? strchr(header, ';') : NULL;
	while (p) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			if (*v == '"') {
				const char *q = strchr(v + 1, '"');
				if (!q)
					return NULL;
				return arena_strndup(a, v + 1, (size_t)(q - v - 1));
			}
			size_t vlen = strcspn(v, "; \t");
			return arena_strndup(a, v, vlen);
		}
		p = strchr(p, ';');
	}
	return NULL;
}

static const char *mem_find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

/* Parses one part's headers (between start and end) into kv. */
static int multipart_headers(struct kv *kv, struct arena *a, const char *h, size_t len, struct err *e)
{
	const char *p = h, *end = h + len;
	while (p < end) {
		const char *eol = mem_find(p, (size_t)(end - p), "\r\n", 2);
		size_t llen = eol ? (size_t)(eol - p) : (size_t)(end - p);
		char *line = arena_strndup(a, p, llen);
		if (strlen(line) != llen)
			return err_set(e, ERR_INVALID, "NUL byte in multipart header");
		if (strncasecmp(line, "Content-Disposition:", 20) == 0) {
			const char *v = line + 20;
			while (*v == ' ' || *v == '\t')
				v++;
			if (strncasecmp(v, "form-data", 9) != 0)
				return err_set(e, ERR_INVALID, "multipart part is not form-data");
			kv->name = http_header_param(a, v, "name");
			kv->filename = http_header_param(a, v, "filename");
		} else if (strncasecmp(line, "Content-Type:", 13) == 0) {
			const char *v = line + 13;
			while (*v == ' ' || *v == '\t')
				v++;
			kv->content_type = v;
		}
		p += llen + 2;
	}
	if (!kv->name || !*kv->name)
		return err_set(e, ERR_INVALID, "multipart part without a name");
	return 0;
}

int http_parse_multipart(struct kvlist *out, struct arena *a, const char *body, size_t len,
			 const char *content_type, size_t max_fields, struct err *e)
{
	char *boundary = http_header_param(a, content_type, "boundary");
	if (!boundary || !*boundary || strlen(boundary) > 70)
		return err_set(e, ERR_INVALID, "multipart body without a valid boundary");
	char *delim = arena_printf(a, "--%s", boundary);
	size_t dlen = strlen(delim);
	const char *p = mem_find(body, len, delim, dlen);
	if (!p)
		return err_set(e, ERR_INVALID, "multipart body does not contain its boundary");
	const char *end = body + len;
	/* The delimiter between parts is CRLF--boundary. */
	char *next_delim = arena_printf(a, "\r\n--%s", boundary);
	size_t ndlen = dlen + 2;
	p += dlen;
	for (;;) {
		if ((size_t)(end - p) >= 2 && p[0] == '-' && p[1] == '-')
			return 0; /* closing delimiter */
		/* transport padding, then CRLF */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) < 2 || p[0] != '\r' || p[1] != '\n')
			return err_set(e, ERR_INVALID, "truncated multipart body");
		p += 2;
		const char *hend = mem_find(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!hend)
			return err_set(e, ERR_INVALID, "truncated multipart part headers");
		if (hend - p > 8192)
			return err_set(e, ERR_TOOBIG, "multipart part headers too large");
		struct kv kv = { 0 };
		int rc = multipart_headers(&kv, a, p, (size_t)(hend - p), e);
		if (rc)
			return rc;
		const char *content = hend + 4;
		const char *cend = mem_find(content, (size_t)(end - content), next_delim, ndlen);
		if (!cend)
			return err_set(e, ERR_INVALID, "truncated multipart body");
		size_t clen = (size_t)(cend - content);
		if (!utf8_valid(kv.name, strlen(kv.name)) || (kv.filename && !utf8_valid(kv.filename, strlen(kv.filename))))
			return err_set(e, ERR_INVALID, "A multipart part's name or file name is not valid UTF-8.");
		if (!kv.filename && !utf8_valid(content, clen))
			return err_set_field(e, ERR_INVALID, kv.name, "The field '%.64s' is not valid UTF-8 text.", kv.name);
		kv.value = arena_strndup(a, content, clen);
		kv.value_len = clen;
		rc = kv_add(a, out, max_fields, &kv, e);
		if (rc)
			return rc;
		p = cend + ndlen;
	}
}
