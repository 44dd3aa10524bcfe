/* lfs.c: Git LFS for workspaces: pointer files, the local object store, the "lfs" filter, Batch API transfers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <git2.h>
#include <git2/sys/filter.h>
#include <json-c/json.h>
#include <sodium.h>
#include "core/fsafe.h"
#include "git/lfs.h"
#include "git/workspace.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define LFS_VERSION "version https://git-lfs.github.com/spec/v1\n"
#define LFS_TYPE "application/vnd.git-lfs+json"
#define LFS_BATCH 100              /* objects per Batch API request, as git-lfs sends */
#define LFS_ANSWER_MAX (4u << 20)  /* a Batch API answer larger than this is not one */
#define LFS_CHUNK (1u << 16)

static int hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int git_lfs_pointer_parse(char oid[65], long long *size, const char *data, size_t len)
{
	size_t vl = sizeof LFS_VERSION - 1;
	if (len >= GIT_LFS_POINTER_MAX || len < vl || memcmp(data, LFS_VERSION, vl) != 0)
		return -1;
	const char *p = data + vl, *end = data + len;
	if ((size_t)(end - p) < 4 + 7 + 64 + 1 || memcmp(p, "oid sha256:", 11) != 0 || !hex64(p + 11) || p[75] != '\n')
		return -1;
	memcpy(oid, p + 11, 64);
	oid[64] = '\0';
	p += 76;
	if (end - p < 7 || memcmp(p, "size ", 5) != 0)
		return -1;
	p += 5;
	long long n = 0;
	const char *d = p;
	while (p < end && *p >= '0' && *p <= '9' && p - d < 18)
		n = n * 10 + (*p++ - '0');
	if (p == d || p >= end || *p != '\n' || (p - d > 1 && *d == '0'))
		return -1;
	/* Extension lines ("ext-0-…") come before oid in the spec; nothing may follow size. */
	if (p + 1 != end)
		return -1;
	*size = n;
	return 0;
}

size_t git_lfs_pointer_format(char *out, size_t outlen, const char *oid, long long size)
{
	int n = snprintf(out, outlen, LFS_VERSION "oid sha256:%s\nsize %lld\n", oid, size);
	return n < 0 ? 0 : (size_t)n;
}

/* mkdir, and 0 only when path is then a folder itself, not a link to one: the store never leads
 * outside the workspace's .git, whatever was put there. */
static int real_dir(const char *path)
{
	struct stat st;
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -1;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* <gitdir>/lfs/objects/aa/bb/<oid>, and its folders made when mk. */
static int store_path(char *out, size_t outlen, const char *gitdir, const char *oid, int mk)
{
	const char *sep = gitdir[strlen(gitdir) - 1] == '/' ? "" : "/";
	if (mk) {
		char d[4096];
		const char *parts[] = { "lfs", "lfs/objects", NULL, NULL, "lfs/tmp" };
		char p2[32], p3[32];
		snprintf(p2, sizeof p2, "lfs/objects/%.2s", oid);
		snprintf(p3, sizeof p3, "lfs/objects/%.2s/%.2s", oid, oid + 2);
		parts[2] = p2;
		parts[3] = p3;
		for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
			snprintf(d, sizeof d, "%s%s%s", gitdir, sep, parts[i]);
			if (real_dir(d) != 0)
				return -1;
		}
	}
	int n = snprintf(out, outlen, "%s%slfs/objects/%.2s/%.2s/%s", gitdir, sep, oid, oid + 2, oid);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* A temporary file in <gitdir>/lfs/tmp (same file system as the store: rename(2) moves it in). */
static int store_tmp(char *out, size_t outlen, const char *gitdir)
{
	const char *sep = gitdir[strlen(gitdir) - 1] == '/' ? "" : "/";
	snprintf(out, outlen, "%s%slfs", gitdir, sep);
	if (real_dir(out) != 0)
		return -1;
	snprintf(out, outlen, "%s%slfs/tmp", gitdir, sep);
	if (real_dir(out) != 0)
		return -1;
	snprintf(out, outlen, "%s%slfs/tmp/obj-XXXXXX", gitdir, sep);
	int fd = mkostemp(out, O_CLOEXEC);
	if (fd >= 0)
		fchmod(fd, 0644);
	return fd;
}

/* 1 when the store holds oid with that size (a regular file, never a link). */
static int store_has(const char *gitdir, const char *oid, long long size)
{
	char path[4096];
	struct stat st;
	return store_path(path, sizeof path, gitdir, oid, 0) == 0 && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       st.st_size == size;
}

/* ---- the "lfs" filter: a stream in each direction */

struct lfs_stream {
	git_writestream parent;
	git_writestream *next;
	int clean;               /* always 1: content → pointer (lfs_check: nothing is smudged) */
	char gitdir[4096];
	char head[GIT_LFS_POINTER_MAX];
	size_t headlen;
	unsigned long long total;
	crypto_hash_sha256_state h;
	int fd;                  /* clean: the copy into the store */
	char tmp[4200];
	int failed;
};

static int ls_write(git_writestream *s, const char *buf, size_t len)
{
	struct lfs_stream *ls = (struct lfs_stream *)s;
	if (ls->headlen < sizeof ls->head) {
		size_t k = sizeof ls->head - ls->headlen < len ? sizeof ls->head - ls->headlen : len;
		memcpy(ls->head + ls->headlen, buf, k);
		ls->headlen += k;
	}
	ls->total += len;
	crypto_hash_sha256_update(&ls->h, (const unsigned char *)buf, len);
	if (ls->fd >= 0) {
		const char *p = buf;
		size_t left = len;
		while (left) {
			ssize_t w = write(ls->fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				ls->failed = 1;
				break;
			}
			p += w;
			left -= (size_t)w;
		}
	}
	return 0;
}

static int ls_close(git_writestream *s)
{
	struct lfs_stream *ls = (struct lfs_stream *)s;
	char oid[65];
	long long size;
	int rc = 0;
	if (ls->clean) {
		if (ls->fd >= 0)
			close(ls->fd), ls->fd = -1;
		/* A pointer already (an object never downloaded): it stays as it is. */
		if (ls->total < GIT_LFS_POINTER_MAX && git_lfs_pointer_parse(oid, &size, ls->head, ls->headlen) == 0) {
			unlink(ls->tmp);
			rc = ls->next->write(ls->next, ls->head, ls->headlen);
			return rc ? rc : ls->next->close(ls->next);
		}
		unsigned char md[crypto_hash_sha256_BYTES];
		crypto_hash_sha256_final(&ls->h, md);
		sodium_bin2hex(oid, sizeof oid, md, sizeof md);
		char path[4096];
		if (ls->failed || store_path(path, sizeof path, ls->gitdir, oid, 1) != 0 || rename(ls->tmp, path) != 0) {
			unlink(ls->tmp);
			git_error_set(GIT_ERROR_FILTER, "Git LFS: cannot keep the object in the workspace's store");
			return -1;
		}
		char ptr[256];
		size_t n = git_lfs_pointer_format(ptr, sizeof ptr, oid, (long long)ls->total);
		rc = ls->next->write(ls->next, ptr, n);
		return rc ? rc : ls->next->close(ls->next);
	}
	return ls->next->close(ls->next);
}

static void ls_free(git_writestream *s)
{
	struct lfs_stream *ls = (struct lfs_stream *)s;
	if (ls->fd >= 0) {
		close(ls->fd);
		unlink(ls->tmp);
	}
	free(ls);
}

static int lfs_stream_open(git_writestream **out, git_filter *self, void **payload, const git_filter_source *src,
			   git_writestream *next)
{
	(void)self;
	(void)payload;
	struct lfs_stream *ls = calloc(1, sizeof *ls);
	if (!ls)
		return -1;
	ls->parent.write = ls_write;
	ls->parent.close = ls_close;
	ls->parent.free = ls_free;
	ls->next = next;
	ls->fd = -1;
	ls->clean = 1; /* lfs_check: only to the odb */
	snprintf(ls->gitdir, sizeof ls->gitdir, "%s", git_repository_path(git_filter_source_repo(src)));
	if (ls->clean) {
		crypto_hash_sha256_init(&ls->h);
		if ((ls->fd = store_tmp(ls->tmp, sizeof ls->tmp, ls->gitdir)) < 0) {
			free(ls);
			git_error_set(GIT_ERROR_FILTER, "Git LFS: cannot write to the workspace's store");
			return -1;
		}
	}
	*out = &ls->parent;
	return 0;
}

/* Checkout writes the pointer as it is (no smudge): the content comes into the folder afterwards by
 * rename, checked, beneath the folder (git_lfs_settle), never written in place through libgit2. */
static int lfs_check(git_filter *self, void **payload, const git_filter_source *src, const char **attr_values)
{
	(void)self;
	(void)payload;
	(void)attr_values;
	return git_filter_source_mode(src) == GIT_FILTER_TO_ODB ? 0 : GIT_PASSTHROUGH;
}

static git_filter lfs_filter;

int git_lfs_filter_register(void)
{
	static int done;
	if (done)
		return 0;
	git_filter_init(&lfs_filter, GIT_FILTER_VERSION);
	lfs_filter.attributes = "filter=lfs";
	lfs_filter.check = lfs_check;
	lfs_filter.stream = lfs_stream_open;
	int rc = git_filter_register("lfs", &lfs_filter, GIT_FILTER_DRIVER_PRIORITY);
	if (rc == 0 || rc == GIT_EEXISTS)
		done = 1;
	return rc == GIT_EEXISTS ? 0 : rc;
}

/* ---- finding the objects a commit needs */

#define want git_lfs_object

struct wants {
	struct want *v;
	size_t n, cap;
	size_t seq;      /* the next entry's seq */
	size_t settled;  /* n after the last git_lfs_objects_unique */
};

static void wants_free(struct wants *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].path);
	free(w->v);
	memset(w, 0, sizeof *w);
}

static int cmp_oid_seq(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	int c = strcmp(x->oid, y->oid);
	return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t git_lfs_objects_unique(struct git_lfs_object *v, size_t n)
{
	if (n < 2)
		return n;
	qsort(v, n, sizeof *v, cmp_oid_seq);
	size_t k = 1;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(v[i].oid, v[k - 1].oid) == 0)
			free(v[i].path);
		else
			v[k++] = v[i];
	}
	qsort(v, k, sizeof *v, cmp_seq);
	return k;
}

static int cmp_oid(const void *a, const void *b)
{
	return strcmp(((const struct want *)a)->oid, ((const struct want *)b)->oid);
}

size_t git_lfs_objects_drop(struct git_lfs_object *v, size_t n, struct git_lfs_object *known, size_t nk)
{
	if (nk == 0)
		return n;
	qsort(known, nk, sizeof *known, cmp_oid);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (bsearch(&v[i], known, nk, sizeof *known, cmp_oid))
			free(v[i].path);
		else
			v[k++] = v[i];
	}
	return k;
}

/* Appends; duplicates are removed in bulk (git_lfs_objects_unique) each time the list has doubled since
 * the last pass, so a history walk holds at most twice the distinct objects and costs O(n log n). */
static int wants_add(struct wants *w, const char *oid, long long size, const char *path)
{
	if (w->n == w->cap) {
		if (w->n >= 1024 && w->n >= 2 * w->settled) {
			w->n = w->settled = git_lfs_objects_unique(w->v, w->n);
			if (w->n < w->cap)
				goto append;
		}
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct want *v = realloc(w->v, cap * sizeof *v);
		if (!v)
			return -1;
		w->v = v;
		w->cap = cap;
	}
append:;
	struct want *x = &w->v[w->n];
	memcpy(x->oid, oid, 65);
	x->size = size;
	x->seq = w->seq++;
	if (!(x->path = strdup(path)))
		return -1;
	w->n++;
	return 0;
}

static void wants_unique(struct wants *w)
{
	w->n = w->settled = git_lfs_objects_unique(w->v, w->n);
}

struct walkctx {
	struct wants *w;
	git_odb *odb;
};

/* Every blob small enough to be a pointer that parses as one (git-lfs's scanner does the same). */
static int tree_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct walkctx *c = payload;
	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB || git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK)
		return 0;
	size_t len;
	git_object_t type;
	if (git_odb_read_header(&len, &type, c->odb, git_tree_entry_id(entry)) != 0 || len >= GIT_LFS_POINTER_MAX ||
	    len < 100)
		return 0;
	git_odb_object *o = NULL;
	if (git_odb_read(&o, c->odb, git_tree_entry_id(entry)) != 0)
		return 0;
	char oid[65];
	long long size;
	if (git_lfs_pointer_parse(oid, &size, git_odb_object_data(o), git_odb_object_size(o)) == 0) {
		char path[4096];
		snprintf(path, sizeof path, "%s%s", root, git_tree_entry_name(entry));
		if (wants_add(c->w, oid, size, path)) {
			git_odb_object_free(o);
			return -1;
		}
	}
	git_odb_object_free(o);
	return 0;
}

static int wants_of_commit(struct wants *w, git_repository *repo, git_odb *odb, const git_oid *id)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	int rc = git_commit_lookup(&c, repo, id);
	if (rc == 0)
		rc = git_commit_tree(&t, c);
	struct walkctx ctx = { w, odb };
	if (rc == 0)
		rc = git_tree_walk(t, GIT_TREEWALK_PRE, tree_cb, &ctx);
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

/* ---- the Batch API over libcurl */

struct mem {
	char *data;
	size_t len;
	int over;
};

static size_t mem_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct mem *m = ud;
	size_t k = sz * n;
	if (m->len + k > LFS_ANSWER_MAX) {
		m->over = 1;
		return 0;
	}
	char *d = realloc(m->data, m->len + k + 1);
	if (!d)
		return 0;
	memcpy(d + m->len, p, k);
	m->len += k;
	d[m->len] = '\0';
	m->data = d;
	return k;
}

static CURL *lfs_curl(const char *url, struct curl_slist *h)
{
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ghbridge git-lfs/3.3.0 (basic)");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer ends; a slow large one does not. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	return c;
}

/* "Authorization: Basic base64(x-access-token:token)", as git sends it. */
static struct curl_slist *auth_header(struct curl_slist *h, const char *token)
{
	char cred[512], b64[800], line[900];
	snprintf(cred, sizeof cred, "x-access-token:%s", token ? token : "");
	sodium_bin2base64(b64, sizeof b64, (const unsigned char *)cred, strlen(cred), sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, sizeof line, "Authorization: Basic %s", b64);
	sodium_memzero(cred, sizeof cred);
	h = curl_slist_append(h, line);
	sodium_memzero(line, sizeof line);
	sodium_memzero(b64, sizeof b64);
	return h;
}

/* The action's headers (Authorization and the like) as curl lines; only plain header names. */
static struct curl_slist *action_headers(struct json_object *action)
{
	struct curl_slist *h = NULL;
	struct json_object *hdr = NULL;
	if (json_object_object_get_ex(action, "header", &hdr) && json_object_is_type(hdr, json_type_object)) {
		json_object_object_foreach(hdr, k, v)
		{
			const char *val = json_object_get_string(v);
			if (!val || strpbrk(k, ":\r\n ") || strpbrk(val, "\r\n") || strlen(k) + strlen(val) > 8000)
				continue;
			char *line;
			if (asprintf(&line, "%s: %s", k, val) < 0)
				continue;
			h = curl_slist_append(h, line);
			sodium_memzero(line, strlen(line));
			free(line);
		}
	}
	return h;
}

/* The words of an LFS error answer: {"message": …} (GitHub's), else the status. */
static int answer_error(struct err *e, long status, const char *body, const char *what)
{
	const char *msg = NULL;
	struct json_object *j = body ? json_tokener_parse(body) : NULL, *m = NULL;
	if (j && json_object_object_get_ex(j, "message", &m))
		msg = json_object_get_string(m);
	int code = status == 401 ? ERR_UNAUTH : status == 403 || status == 422 || status == 413 ? ERR_FORBIDDEN
		 : status == 404 ? ERR_NOTFOUND : status == 429 ? ERR_RATELIMIT : ERR_FAIL;
	char words[600];
	snprintf(words, sizeof words, "%s", msg ? msg : "");
	for (char *p = words; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	err_set(e, code, "Git LFS %s: GitHub answered %ld%s%s", what, status, words[0] ? ": " : "", words);
	if (j)
		json_object_put(j);
	return code;
}

/* POST the batch; *answer (caller puts) is the parsed objects' container on success. */
static int batch(struct json_object **answer, const char *url, const char *token, const char *op, struct want *v,
		 size_t n, struct err *e)
{
	*answer = NULL;
	struct json_object *req = json_object_new_object(), *objs = json_object_new_array(), *tr = json_object_new_array();
	json_object_object_add(req, "operation", json_object_new_string(op));
	json_object_array_add(tr, json_object_new_string("basic"));
	json_object_object_add(req, "transfers", tr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "oid", json_object_new_string(v[i].oid));
		json_object_object_add(o, "size", json_object_new_int64(v[i].size));
		json_object_array_add(objs, o);
	}
	json_object_object_add(req, "objects", objs);
	json_object_object_add(req, "hash_algo", json_object_new_string("sha256"));
	char *endpoint;
	if (asprintf(&endpoint, "%s/info/lfs/objects/batch", url) < 0)
		abort();
	struct curl_slist *h = curl_slist_append(NULL, "Accept: " LFS_TYPE);
	h = curl_slist_append(h, "Content-Type: " LFS_TYPE);
	h = auth_header(h, token);
	struct mem m = { 0 };
	CURL *c = lfs_curl(endpoint, h);
	int rc = -1;
	if (c) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
		CURLcode cc = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (cc != CURLE_OK)
			rc = err_set(e, ERR_FAIL, "Git LFS: cannot reach GitHub's LFS server: %s", curl_easy_strerror(cc));
		else if (status != 200)
			rc = answer_error(e, status, m.data, op);
		else if (!(*answer = m.data ? json_tokener_parse(m.data) : NULL) ||
			 !json_object_is_type(*answer, json_type_object))
			rc = err_set(e, ERR_FAIL, "Git LFS: GitHub's batch answer is not JSON");
		else
			rc = 0;
		curl_easy_cleanup(c);
	}
	if (rc && *answer) {
		json_object_put(*answer);
		*answer = NULL;
	}
	free(m.data);
	curl_slist_free_all(h);
	free(endpoint);
	json_object_put(req);
	return rc;
}

/* The answer's entry for oid, or NULL. */
static struct json_object *answer_object(struct json_object *ans, const char *oid)
{
	struct json_object *objs = NULL;
	if (!json_object_object_get_ex(ans, "objects", &objs) || !json_object_is_type(objs, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(objs); i++) {
		struct json_object *o = json_object_array_get_idx(objs, i), *jo = NULL;
		if (json_object_object_get_ex(o, "oid", &jo) && strcmp(json_object_get_string(jo), oid) == 0)
			return o;
	}
	return NULL;
}

static struct json_object *action_of(struct json_object *o, const char *name)
{
	struct json_object *acts = NULL, *a = NULL, *href = NULL;
	if (o && json_object_object_get_ex(o, "actions", &acts) && json_object_object_get_ex(acts, name, &a) &&
	    json_object_object_get_ex(a, "href", &href) && json_object_is_type(href, json_type_string))
		return a;
	return NULL;
}

static const char *href_of(struct json_object *a)
{
	struct json_object *href = NULL;
	json_object_object_get_ex(a, "href", &href);
	const char *s = json_object_get_string(href);
	return s && (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0) ? s : NULL;
}

struct sink {
	int fd;
	long long got, want;
	crypto_hash_sha256_state h;
	int bad;
};

static size_t sink_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t k = sz * n;
	if (s->got + (long long)k > s->want) {
		s->bad = 1; /* more bytes than the pointer says: not this object */
		return 0;
	}
	crypto_hash_sha256_update(&s->h, (unsigned char *)p, k);
	for (size_t off = 0; off < k;) {
		ssize_t w = write(s->fd, p + off, k - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		off += (size_t)w;
	}
	s->got += (long long)k;
	return k;
}

/* GET the object into a temporary file, then into the store once its size and SHA-256 are right. */
static int download_one(const char *gitdir, const struct want *w, struct json_object *action, struct err *e)
{
	const char *href = href_of(action);
	if (!href)
		return err_set(e, ERR_FAIL, "Git LFS: GitHub's download action has no usable address");
	char tmp[4200], path[4096];
	if (store_path(path, sizeof path, gitdir, w->oid, 1) != 0)
		return err_set(e, ERR_FAIL, "Git LFS: cannot write to the workspace's store");
	int fd = store_tmp(tmp, sizeof tmp, gitdir);
	if (fd < 0)
		return err_set(e, ERR_FAIL, "Git LFS: cannot write to the workspace's store");
	struct sink s = { .fd = fd, .want = w->size };
	crypto_hash_sha256_init(&s.h);
	struct curl_slist *h = action_headers(action);
	CURL *c = lfs_curl(href, h);
	int rc = -1;
	if (c) {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
		CURLcode cc = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		unsigned char md[crypto_hash_sha256_BYTES];
		char hex[65];
		crypto_hash_sha256_final(&s.h, md);
		sodium_bin2hex(hex, sizeof hex, md, sizeof md);
		if (s.bad || (cc == CURLE_OK && status == 200 && (s.got != w->size || strcmp(hex, w->oid) != 0)))
			rc = err_set(e, ERR_INVALID, "Git LFS: the object for %s from GitHub is not the one its pointer names "
						     "(size or SHA-256 differ); nothing was replaced", w->path);
		else if (cc != CURLE_OK)
			rc = err_set(e, ERR_FAIL, "Git LFS: downloading %s: %s", w->path, curl_easy_strerror(cc));
		else if (status != 200)
			rc = err_set(e, status == 403 ? ERR_FORBIDDEN : ERR_FAIL, "Git LFS: downloading %s: GitHub answered %ld",
				     w->path, status);
		else if (fsync(fd) != 0 || rename(tmp, path) != 0)
			rc = err_set(e, ERR_FAIL, "Git LFS: cannot keep %s in the workspace's store", w->path);
		else
			rc = 0;
		curl_easy_cleanup(c);
	}
	close(fd);
	if (rc)
		unlink(tmp);
	curl_slist_free_all(h);
	return rc;
}

static void append_line(char **list, const char *line)
{
	size_t have = *list ? strlen(*list) : 0, add = strlen(line);
	char *n = realloc(*list, have + add + 2);
	if (!n)
		return;
	memcpy(n + have, line, add);
	n[have + add] = '\n';
	n[have + add + 1] = '\0';
	*list = n;
}

int git_lfs_fetch(char **missing, const char *dir, const char *sha, const char *url, const char *token, struct err *e)
{
	*missing = NULL;
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	struct wants w = { 0 };
	struct json_object *ans = NULL;
	git_oid id;
	int rc = 0;
	if (!sha || !*sha)
		return 0;
	if (git_repository_open(&repo, dir) != 0 || git_repository_odb(&odb, repo) != 0 || git_oid_fromstr(&id, sha) != 0 ||
	    wants_of_commit(&w, repo, odb, &id) != 0) {
		rc = err_set(e, ERR_FAIL, "Git LFS: reading the commit's pointers: %s",
			     git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	wants_unique(&w);
	const char *gitdir = git_repository_path(repo);
	/* Only what the store lacks. */
	size_t k = 0;
	for (size_t i = 0; i < w.n; i++) {
		if (store_has(gitdir, w.v[i].oid, w.v[i].size)) {
			free(w.v[i].path);
			continue;
		}
		w.v[k++] = w.v[i];
	}
	w.n = k;
	for (size_t at = 0; at < w.n && rc == 0; at += LFS_BATCH) {
		size_t n = w.n - at < LFS_BATCH ? w.n - at : LFS_BATCH;
		if ((rc = batch(&ans, url, token, "download", w.v + at, n, e)))
			break;
		for (size_t i = at; i < at + n && rc == 0; i++) {
			struct json_object *o = answer_object(ans, w.v[i].oid), *act = action_of(o, "download"), *er = NULL;
			if (!act) {
				/* An error object (404: the server lacks it) or no entry: the pointer stays. */
				char line[4200];
				const char *why = "GitHub's LFS server does not have its object";
				struct json_object *m = NULL;
				if (o && json_object_object_get_ex(o, "error", &er) && json_object_object_get_ex(er, "message", &m))
					why = json_object_get_string(m);
				snprintf(line, sizeof line, "%s (%s)", w.v[i].path, why);
				append_line(missing, line);
				continue;
			}
			rc = download_one(gitdir, &w.v[i], act, e);
		}
		json_object_put(ans);
		ans = NULL;
	}
out:
	wants_free(&w);
	git_odb_free(odb);
	git_repository_free(repo);
	if (rc) {
		free(*missing);
		*missing = NULL;
	}
	return rc;
}

struct source {
	int fd;
};

static size_t source_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct source *s = ud;
	for (;;) {
		ssize_t r = read(s->fd, p, sz * n);
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
	}
}

static int upload_one(const char *gitdir, const struct want *w, struct json_object *up, struct json_object *verify,
		      const char *token, struct err *e)
{
	(void)token;
	char path[4096];
	const char *href = href_of(up);
	if (!href)
		return err_set(e, ERR_FAIL, "Git LFS: GitHub's upload action has no usable address");
	int fd = -1;
	if (!store_has(gitdir, w->oid, w->size) || store_path(path, sizeof path, gitdir, w->oid, 0) != 0 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return err_set(e, ERR_NOTFOUND, "Git LFS: the workspace has no content for %s (object %.12s…) to upload",
			       w->path, w->oid);
	struct curl_slist *h = action_headers(up);
	h = curl_slist_append(h, "Content-Type: application/octet-stream");
	h = curl_slist_append(h, "Expect:");
	struct source s = { fd };
	struct mem m = { 0 };
	CURL *c = lfs_curl(href, h);
	int rc = -1;
	if (c) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, source_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, &s);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)w->size);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
		CURLcode cc = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (cc != CURLE_OK)
			rc = err_set(e, ERR_FAIL, "Git LFS: uploading %s: %s", w->path, curl_easy_strerror(cc));
		else if (status / 100 != 2)
			rc = answer_error(e, status, m.data, "upload");
		else
			rc = 0;
		curl_easy_cleanup(c);
	}
	close(fd);
	curl_slist_free_all(h);
	free(m.data);
	m = (struct mem){ 0 };
	if (rc || !verify)
		return rc;
	/* basic-transfers.md: POST {oid, size} to verify; anything but 200 is a failed upload. */
	const char *vhref = href_of(verify);
	if (!vhref)
		return err_set(e, ERR_FAIL, "Git LFS: GitHub's verify action has no usable address");
	h = action_headers(verify);
	h = curl_slist_append(h, "Accept: " LFS_TYPE);
	h = curl_slist_append(h, "Content-Type: " LFS_TYPE);
	char body[200];
	snprintf(body, sizeof body, "{\"oid\":\"%s\",\"size\":%lld}", w->oid, w->size);
	c = lfs_curl(vhref, h);
	rc = -1;
	if (c) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
		CURLcode cc = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (cc != CURLE_OK)
			rc = err_set(e, ERR_FAIL, "Git LFS: verifying %s: %s", w->path, curl_easy_strerror(cc));
		else if (status != 200)
			rc = answer_error(e, status, m.data, "verify");
		else
			rc = 0;
		curl_easy_cleanup(c);
	}
	curl_slist_free_all(h);
	free(m.data);
	return rc;
}

int git_lfs_push(int *uploaded, long long *bytes, const char *dir, const char *sha, const char *have_sha,
		 const char *url, const char *token, struct err *e)
{
	*uploaded = 0;
	*bytes = 0;
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	git_revwalk *walk = NULL;
	struct wants w = { 0 };
	struct json_object *ans = NULL;
	git_oid id, have;
	int rc = 0;
	if (git_repository_open(&repo, dir) != 0 || git_repository_odb(&odb, repo) != 0 || git_oid_fromstr(&id, sha) != 0 ||
	    git_revwalk_new(&walk, repo) != 0 || git_revwalk_push(walk, &id) != 0 ||
	    (have_sha && *have_sha && git_oid_fromstr(&have, have_sha) == 0 && git_revwalk_hide(walk, &have) != 0)) {
		rc = err_set(e, ERR_FAIL, "Git LFS: reading the commits to push: %s",
			     git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	git_oid c;
	while (git_revwalk_next(&c, walk) == 0)
		if (wants_of_commit(&w, repo, odb, &c) != 0) {
			rc = err_set(e, ERR_FAIL, "Git LFS: reading a commit's pointers");
			goto out;
		}
	wants_unique(&w);
	/* What GitHub's commit already points to is GitHub's (uploaded with it, or missing there already: a
	 * pointer without its object that came from GitHub is pushed back as it came, nothing to upload). */
	if (have_sha && *have_sha && git_oid_fromstr(&have, have_sha) == 0) {
		struct wants known = { 0 };
		wants_of_commit(&known, repo, odb, &have);
		w.n = git_lfs_objects_drop(w.v, w.n, known.v, known.n);
		wants_free(&known);
	}
	const char *gitdir = git_repository_path(repo);
	for (size_t at = 0; at < w.n && rc == 0; at += LFS_BATCH) {
		size_t n = w.n - at < LFS_BATCH ? w.n - at : LFS_BATCH;
		if ((rc = batch(&ans, url, token, "upload", w.v + at, n, e)))
			break;
		for (size_t i = at; i < at + n && rc == 0; i++) {
			struct json_object *o = answer_object(ans, w.v[i].oid), *er = NULL, *m = NULL;
			if (o && json_object_object_get_ex(o, "error", &er)) {
				json_object_object_get_ex(er, "message", &m);
				rc = err_set(e, ERR_FORBIDDEN, "Git LFS: GitHub refused %s: %s", w.v[i].path,
					     m ? json_object_get_string(m) : "an error object");
				break;
			}
			struct json_object *up = action_of(o, "upload");
			if (!up)
				continue; /* the server has it */
			if ((rc = upload_one(gitdir, &w.v[i], up, action_of(o, "verify"), token, e)) == 0) {
				(*uploaded)++;
				*bytes += w.v[i].size;
			}
		}
		json_object_put(ans);
		ans = NULL;
	}
out:
	wants_free(&w);
	git_revwalk_free(walk);
	git_odb_free(odb);
	git_repository_free(repo);
	return rc;
}

/* A path as a gitattributes(5) pattern anchored at the root: blanks and wildmatch's specials escaped as
 * git lfs track writes them ([[:space:]] for a space). 0, or -1 for a path no pattern can say (a newline). */
static int attr_pattern(char *out, size_t outlen, const char *path)
{
	size_t o = 0;
	if (outlen < 2)
		return -1;
	out[o++] = '/';
	for (const char *p = path; *p; p++) {
		const char *rep = NULL;
		char two[3] = { '\\', *p, 0 };
		if (*p == '\n' || *p == '\r')
			return -1;
		if (*p == ' ')
			rep = "[[:space:]]";
		else if (*p == '\t')
			rep = "[[:blank:]]";
		else if (strchr("*?[]\\!#\"", *p))
			rep = two;
		size_t k = rep ? strlen(rep) : 1;
		if (o + k + 1 >= outlen)
			return -1;
		if (rep)
			memcpy(out + o, rep, k);
		else
			out[o] = *p;
		o += k;
	}
	out[o] = '\0';
	return 0;
}

int git_lfs_track_large(int *added, char **names, const char *dir, const char *excludes, long long threshold,
			struct err *e)
{
	*added = 0;
	*names = NULL;
	if (threshold <= 0)
		return 0;
	struct ws_file *f = NULL;
	int n = 0, rc;
	if ((rc = git_workspace_files(&f, &n, dir, excludes, e)))
		return rc;
	int root = -1, fd = -1;
	size_t nlen = 0;
	for (int i = 0; i < n; i++) {
		if (f[i].lfs || !f[i].kind || strcmp(f[i].kind, "file") != 0 || f[i].size <= threshold || !f[i].status ||
		    (strcmp(f[i].status, "new") != 0 && strcmp(f[i].status, "modified") != 0 &&
		     strcmp(f[i].status, "left_out") != 0))
			continue;
		char pat[8192], line[8300];
		if (attr_pattern(pat, sizeof pat, f[i].path))
			continue;
		if (fd < 0) {
			if ((root = fsafe_root(dir)) < 0 ||
			    (fd = fsafe_open(root, ".gitattributes", O_RDWR | O_CREAT | O_APPEND, 0644)) < 0) {
				rc = err_set(e, ERR_FAIL, "Git LFS: cannot write the folder's .gitattributes: %s",
					     fd == -ELOOP ? "it is a symbolic link" : "not writable");
				break;
			}
			/* A last line without its newline gets one first. */
			struct stat st;
			char last = '\n';
			if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
			    write(fd, "\n", 1) != 1) {
				rc = err_set(e, ERR_FAIL, "Git LFS: writing the folder's .gitattributes failed");
				break;
			}
		}
		int k = snprintf(line, sizeof line, "%s filter=lfs diff=lfs merge=lfs -text\n", pat);
		if (k < 0 || (size_t)k >= sizeof line || write(fd, line, (size_t)k) != k) {
			rc = err_set(e, ERR_FAIL, "Git LFS: writing the folder's .gitattributes failed");
			break;
		}
		(*added)++;
		size_t pl = strlen(f[i].path);
		char *nn = realloc(*names, nlen + pl + 6);
		if (nn) {
			nlen += (size_t)sprintf(nn + nlen, "%s'%s'", nlen ? "; " : "", f[i].path);
			*names = nn;
		}
	}
	if (fd >= 0)
		close(fd);
	if (root >= 0)
		close(root);
	git_workspace_files_free(f, n);
	if (rc) {
		free(*names);
		*names = NULL;
	}
	return rc;
}

/* SHA-256 of an open file, streamed; -1 on a read error. */
static int hash_fd(char hex[65], long long *size, int fd)
{
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	char *buf = malloc(LFS_CHUNK);
	ssize_t r;
	*size = 0;
	if (!buf)
		return -1;
	while ((r = read(fd, buf, LFS_CHUNK)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -1;
		}
		crypto_hash_sha256_update(&h, (unsigned char *)buf, (size_t)r);
		*size += r;
	}
	free(buf);
	unsigned char md[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&h, md);
	sodium_bin2hex(hex, 65, md, sizeof md);
	return 0;
}

/* ---- the folder: content in by rename, the index's stat data kept right (never hashed in memory) */

static void (*test_hook)(const char *step, const char *path, void *arg);
static void *test_hook_arg;

void git_lfs_test_hook(void (*fn)(const char *step, const char *path, void *arg), void *arg)
{
	test_hook = fn;
	test_hook_arg = arg;
}

/* 1 when the folder's file for path is under a filter=lfs rule (git check-attr, the folder's
 * .gitattributes then the index's): only then does staging clean it back to its pointer. */
static int under_rule(git_repository *repo, const char *path)
{
	const char *v = NULL;
	return git_attr_get(&v, repo, GIT_ATTR_CHECK_FILE_THEN_INDEX, path, "filter") == 0 &&
	       git_attr_value(v) == GIT_ATTR_VALUE_STRING && strcmp(v, "lfs") == 0;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The pointer file at path (st: its lstat, ptr/plen: the pointer blob) becomes the object's content:
 * a temporary file made beside it (fsafe_open beneath the folder fsafe_parent opened: O_CREAT | O_EXCL,
 * never through a link) takes a streamed copy of the store's object, whose SHA-256 and size are
 * checked and which is fsync'd; then, if path is still that pointer file, renameat puts it in place.
 * The folder stays the one opened first: swapped for a link meanwhile, the link is never followed.
 * *out gets the new file's stat. 0, 1 when path is not (or no longer) the pointer or the store lacks
 * the object (nothing changed), or -errno / -1 (nothing changed, the temporary file removed). */
static int materialise(struct stat *out, int root, const char *gitdir, const char *path, const char *oid,
		       long long size, const char *ptr, size_t plen, const struct stat *st, mode_t mode)
{
	char spath[4096], name[64] = "", text[GIT_LFS_POINTER_MAX];
	const char *leaf;
	int dir = -1, src = -1, tfd = -1, rc = 1, fd;
	if (!store_has(gitdir, oid, size) || store_path(spath, sizeof spath, gitdir, oid, 0) != 0)
		return 1;
	/* The file is exactly the pointer's text (read without following anything). */
	if ((fd = fsafe_open(root, path, O_RDONLY | O_NONBLOCK, 0)) < 0)
		return fd;
	ssize_t got = read(fd, text, sizeof text);
	close(fd);
	if (got < 0 || (size_t)got != plen || memcmp(text, ptr, plen) != 0)
		return 1;
	if ((dir = fsafe_parent(root, path, &leaf, 0)) < 0)
		return dir;
	if ((src = open(spath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = 1;
		goto out;
	}
	unsigned char rnd[8];
	randombytes_buf(rnd, sizeof rnd);
	char hx[17];
	sodium_bin2hex(hx, sizeof hx, rnd, sizeof rnd);
	snprintf(name, sizeof name, ".ghbridge-lfs-%s.tmp", hx);
	if ((tfd = fsafe_open(dir, name, O_WRONLY | O_CREAT | O_EXCL, mode)) < 0) {
		rc = tfd;
		goto out;
	}
	fchmod(tfd, mode);
	if (test_hook)
		test_hook("tmp-open", path, test_hook_arg);
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	char *buf = malloc(LFS_CHUNK);
	long long n = 0;
	ssize_t r;
	rc = buf ? 0 : -ENOMEM;
	while (rc == 0 && (r = read(src, buf, LFS_CHUNK)) != 0) {
		if (r < 0) {
			if (errno != EINTR)
				rc = -errno;
			continue;
		}
		crypto_hash_sha256_update(&h, (unsigned char *)buf, (size_t)r);
		n += r;
		for (ssize_t off = 0; rc == 0 && off < r;) {
			ssize_t w = write(tfd, buf + off, (size_t)(r - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				rc = w < 0 ? -errno : -EIO;
			else
				off += w;
		}
	}
	free(buf);
	unsigned char md[crypto_hash_sha256_BYTES];
	char hex[65];
	crypto_hash_sha256_final(&h, md);
	sodium_bin2hex(hex, sizeof hex, md, sizeof md);
	if (rc == 0 && (n != size || strcmp(hex, oid) != 0))
		rc = -1; /* the store's copy is not the object (changed on disk): nothing replaced */
	if (rc == 0 && fsync(tfd) != 0)
		rc = -errno;
	if (rc == 0 && test_hook)
		test_hook("before-rename", path, test_hook_arg);
	struct stat now;
	/* Still the pointer file checked above (in this folder, not a link): else someone wrote it meanwhile. */
	if (rc == 0 && (fstatat(dir, leaf, &now, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(now.st_mode) || !same_file(&now, st)))
		rc = 1;
	if (rc == 0 && renameat(dir, name, dir, leaf) != 0)
		rc = -errno;
	if (rc == 0 && fstat(tfd, out) != 0)
		rc = -errno;
	if (rc == 0)
		name[0] = '\0';
out:
	if (tfd >= 0) {
		close(tfd);
		if (name[0])
			unlinkat(dir, name, 0);
	}
	if (src >= 0)
		close(src);
	if (dir >= 0)
		close(dir);
	return rc;
}

/* The index entry for ie's path with st's stat data. */
static int index_set_stat(git_index *idx, const git_index_entry *ie, const struct stat *st)
{
	git_index_entry x = *ie;
	x.ctime.seconds = (int32_t)st->st_ctim.tv_sec;
	x.ctime.nanoseconds = (uint32_t)st->st_ctim.tv_nsec;
	x.mtime.seconds = (int32_t)st->st_mtim.tv_sec;
	x.mtime.nanoseconds = (uint32_t)st->st_mtim.tv_nsec;
	x.dev = (uint32_t)st->st_dev;
	x.ino = (uint32_t)st->st_ino;
	x.uid = (uint32_t)st->st_uid;
	x.gid = (uint32_t)st->st_gid;
	x.file_size = (uint32_t)st->st_size;
	return git_index_add(idx, &x);
}

/* The entry's cached size made unlike the file's (never 0, which libgit2 reads as "unknown" and hashes):
 * libgit2's diff then calls the file modified from its size alone (diff_generate.c maybe_modified) and
 * staging cleans it through the streaming filter. */
static int index_mark_changed(git_index *idx, const git_index_entry *ie, const struct stat *st)
{
	uint32_t fsz = (uint32_t)st->st_size;
	if (ie->file_size != 0 && ie->file_size != fsz)
		return 1; /* already unlike: nothing to change */
	git_index_entry x = *ie;
	x.file_size = fsz + 1 ? fsz + 1 : 1;
	return git_index_add(idx, &x);
}

/* mtime (or "now" from the coarse clock the kernel stamps files with) as nanoseconds. */
static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

int git_lfs_settle(int *materialised, git_repository *repo, git_index *idx, int root, int flags)
{
	git_odb *odb = NULL;
	int changed = 0, rc = 0;
	long long newest = 0;
	if (materialised)
		*materialised = 0;
	if (git_repository_odb(&odb, repo) != 0)
		return -1;
	const char *gitdir = git_repository_path(repo);
	/* libgit2 calls an entry "racy" (and hashes its file) when the file is not older than the index. */
	struct stat ist = { 0 };
	char ipath[4096];
	snprintf(ipath, sizeof ipath, "%sindex", gitdir);
	stat(ipath, &ist);
	size_t n = git_index_entrycount(idx);
	for (size_t i = 0; i < n; i++) {
		const git_index_entry *ie = git_index_get_byindex(idx, i);
		size_t len;
		git_object_t type;
		if (!ie || git_index_entry_stage(ie) != 0 || (ie->mode != GIT_FILEMODE_BLOB && ie->mode != GIT_FILEMODE_BLOB_EXECUTABLE) ||
		    git_odb_read_header(&len, &type, odb, &ie->id) != 0 || len >= GIT_LFS_POINTER_MAX || len < 100)
			continue;
		git_odb_object *o = NULL;
		char oid[65], ptr[GIT_LFS_POINTER_MAX];
		long long size;
		if (git_odb_read(&o, odb, &ie->id) != 0)
			continue;
		size_t plen = git_odb_object_size(o);
		int isptr = git_lfs_pointer_parse(oid, &size, git_odb_object_data(o), plen) == 0;
		if (isptr)
			memcpy(ptr, git_odb_object_data(o), plen);
		git_odb_object_free(o);
		struct stat st;
		if (!isptr || fsafe_lstat(root, ie->path, &st) != 0 || !S_ISREG(st.st_mode) || !under_rule(repo, ie->path))
			continue;
		char *path = strdup(ie->path);
		if (!path) {
			rc = -1;
			break;
		}
		int set = 0, m = 1;
		struct stat nst;
		if ((size_t)st.st_size == plen && (flags & GIT_LFS_BRING_IN)) {
			/* The pointer's own text (a checkout writes it: git/lfs.c's filter smudges nothing): the content
			 * comes in by rename when the store has it; else the small file is libgit2's to hash. */
			m = materialise(&nst, root, gitdir, path, oid, size, ptr, plen, &st,
					ie->mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
			if (m == 0) {
				set = 1;
				if (materialised)
					(*materialised)++;
			}
		}
		if (m == 0 || ((size_t)st.st_size == plen && st.st_size != size)) {
			/* brought in, or a pointer-sized file: nothing more */
		} else if (st.st_size != size) {
			if (index_mark_changed(idx, ie, &st) == 0)
				changed = 1;
		} else if (!(ie->file_size == (uint32_t)st.st_size && ie->mtime.seconds == (int32_t)st.st_mtim.tv_sec &&
			     ie->mtime.nanoseconds == (uint32_t)st.st_mtim.tv_nsec && ie->ino == (uint32_t)st.st_ino &&
			     ie->ctime.seconds == (int32_t)st.st_ctim.tv_sec &&
			     ie->ctime.nanoseconds == (uint32_t)st.st_ctim.tv_nsec && ns_of(&st.st_mtim) < ns_of(&ist.st_mtim))) {
			/* Stat data unknown, changed or racy, the size the object's: the file is hashed here, streaming
			 * (libgit2 would read all of it into memory to run the filter: git_odb__hashfd_filtered). */
			int fd = fsafe_open(root, path, O_RDONLY | O_NONBLOCK, 0);
			char hex[65];
			long long got;
			struct stat before;
			if (fd >= 0 && fstat(fd, &before) == 0 && hash_fd(hex, &got, fd) == 0 && fstat(fd, &nst) == 0 &&
			    same_file(&before, &nst)) {
				if (got == size && strcmp(hex, oid) == 0)
					set = 1;
				else if (index_mark_changed(idx, ie, &nst) == 0)
					changed = 1;
			}
			if (fd >= 0)
				close(fd);
		}
		if (set && index_set_stat(idx, git_index_get_bypath(idx, path, 0), &nst) == 0) {
			changed = 1;
			if (ns_of(&nst.st_mtim) > newest)
				newest = ns_of(&nst.st_mtim);
		}
		free(path);
		n = git_index_entrycount(idx);
	}
	git_odb_free(odb);
	if (rc == 0 && changed && (flags & GIT_LFS_WRITE_INDEX)) {
		/* The index file written after every mtime it records (the kernel stamps with the coarse clock):
		 * else those entries are racy again and libgit2 hashes them. At most a few milliseconds. */
		struct timespec now;
		for (int k = 0; k < 100 && clock_gettime(CLOCK_REALTIME_COARSE, &now) == 0 && ns_of(&now) <= newest; k++)
			nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
		if (git_index_write(idx) != 0)
			rc = -1;
	}
	return rc;
}

int git_lfs_index_refresh(const char *dir, struct err *e)
{
	git_repository *repo = NULL;
	git_index *idx = NULL;
	int root = -1, rc = 0;
	if (git_repository_open(&repo, dir) != 0 || git_repository_index(&idx, repo) != 0 || (root = fsafe_root(dir)) < 0 ||
	    git_lfs_settle(NULL, repo, idx, root, GIT_LFS_BRING_IN | GIT_LFS_WRITE_INDEX) != 0)
		rc = err_set(e, ERR_FAIL, "Git LFS: bringing the folder's LFS files in: %s",
			     git_error_last() ? git_error_last()->message : "the index");
	if (root >= 0)
		close(root);
	git_index_free(idx);
	git_repository_free(repo);
	return rc;
}
