/* util.c: fakehub's shared helpers: queries, JSON building, GitHub-shaped errors, pagination, accounts, tokens. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "core/log.h"
#include "http/parse.h"
#include "tests/fakehub/fakehub.h"

struct fh_global g_fh;
struct fh_ctx *C;

/* The CLI has no request: it uses this arena for fh_ll and friends. */
static struct arena cli_arena = ARENA_INIT;
static struct arena *ar(void) { return C && C->req ? C->req->arena : &cli_arena; }
struct arena *fh_arena(void) { return ar(); }

PGresult *fh_q(struct db_stmt *st, int n, const char *const *params)
{
	PGresult *r = NULL;
	struct err e = { 0 };
	if (db_query(&r, g_fh.db, st, n, params, &e) != 0) {
		log_msg(LOG_ERROR, "query %s: %s", st->name, e.msg);
		return NULL;
	}
	return r;
}

const char *fh_ll(long long v) { return arena_printf(ar(), "%lld", v); }
/* A whole decimal number or 0: "1abc" is not pull request 1 (GitHub: 404), and nothing wraps. */
long long fh_atoll(const char *s)
{
	long long v = 0;
	return s && http_num_parse(&v, s, LLONG_MIN, LLONG_MAX) == 0 ? v : 0;
}

const char *fh_val(PGresult *r, int row, const char *col)
{
	int c = PQfnumber(r, col);
	if (c < 0 || row >= PQntuples(r) || PQgetisnull(r, row, c))
		return NULL;
	return PQgetvalue(r, row, c);
}

long long fh_vall(PGresult *r, int row, const char *col) { return fh_atoll(fh_val(r, row, col)); }

int fh_vbool(PGresult *r, int row, const char *col)
{
	const char *v = fh_val(r, row, col);
	return v && v[0] == 't';
}

const char *fh_iso(long long t)
{
	if (t <= 0)
		return NULL;
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	char *s = arena_alloc(ar(), 24);
	strftime(s, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return s;
}

void fh_sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof h);
}

void fh_random_token(char *out, size_t outlen, const char *prefix)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = (size_t)snprintf(out, outlen, "%s_", prefix);
	for (int i = 0; i < 36 && n + 1 < outlen; i++)
		out[n++] = alphabet[randombytes_uniform(62)];
	out[n] = '\0';
}

void fh_uuid(char out[37])
{
	unsigned char b[16];
	randombytes_buf(b, sizeof b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* GitHub's legacy global node ids are base64 of "<len>:<Type><id>". */
const char *fh_node_id(const char *kind, long long id)
{
	char raw[96];
	int n = snprintf(raw, sizeof raw, "%02zu:%s%lld", strlen(kind), kind, id);
	size_t cap = sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_ORIGINAL);
	char *out = arena_alloc(ar(), cap);
	sodium_bin2base64(out, cap, (const unsigned char *)raw, (size_t)n, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

void js(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}
void ji(struct json_object *o, const char *k, long long v) { json_object_object_add(o, k, json_object_new_int64(v)); }
void jb(struct json_object *o, const char *k, int v) { json_object_object_add(o, k, json_object_new_boolean(v)); }
void jt(struct json_object *o, const char *k, long long t) { js(o, k, fh_iso(t)); }
void jo(struct json_object *o, const char *k, struct json_object *v) { json_object_object_add(o, k, v); }

const char *jget(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v) || !v)
		return NULL;
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_boolean))
		return json_object_get_string(v);
	return NULL;
}

int jget_bool(struct json_object *o, const char *k, int def)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v) || !v)
		return def;
	if (json_object_is_type(v, json_type_string))
		return strcmp(json_object_get_string(v), "true") == 0;
	return json_object_get_boolean(v);
}

const char *fh_in(const char *k)
{
	const char *v = jget(C->json, k);
	if (!v)
		v = req_form(C->req, k);
	return v;
}

const char *fh_utf8_scrub(const char *s, size_t len, size_t *outlen)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len(s + i, len - i);
		if (n) {
			buf_append(&b, s + i, n);
			i += n;
		} else {
			buf_puts(&b, "\xef\xbf\xbd"); /* U+FFFD REPLACEMENT CHARACTER, one per bad byte */
			i++;
		}
	}
	const char *out = arena_strndup(fh_arena(), b.data ? b.data : "", b.len);
	if (outlen)
		*outlen = b.len;
	buf_free(&b);
	return out;
}

int fh_json(int status, struct json_object *o)
{
	/* RFC 9110 15.3.2 and GitHub: a 201 names what it created in Location (the object's own url). */
	const char *url = status == 201 ? jget(o, "url") : NULL;
	if (url && !strstr(buf_cstr(&C->resp->headers), "Location:"))
		resp_header(C->resp, "Location", url);
	resp_json(C->resp, status, o);
	C->resp->content_type = "application/json; charset=utf-8";
	/* GitHub's JSON is UTF-8 whatever git holds (a commit message or ref in Latin-1): bytes that are
	 * not become U+FFFD, as they would in its answers. The structure is ASCII and stays intact. */
	struct buf *body = &C->resp->body;
	if (!utf8_valid(body->data ? body->data : "", body->len)) {
		size_t n;
		const char *fixed = fh_utf8_scrub(body->data, body->len, &n);
		buf_reset(body);
		buf_append(body, fixed, n);
	}
	json_object_put(o);
	return 0;
}

int fh_error_doc(int status, const char *message, const char *doc)
{
	struct json_object *o = json_object_new_object();
	js(o, "message", message);
	js(o, "documentation_url", doc ? doc : FH_DOCS);
	js(o, "status", fh_ll(status));
	return fh_json(status, o);
}

int fh_error(int status, const char *message) { return fh_error_doc(status, message, NULL); }
int fh_not_found(void) { return fh_error(404, "Not Found"); }

int fh_no_content(void)
{
	C->resp->status = 204;
	C->resp->content_type = "text/plain";
	buf_reset(&C->resp->body);
	return 0;
}

int fh_validation(const char *message, const char *resource, const char *field, const char *code,
		  const char *detail)
{
	struct json_object *o = json_object_new_object(), *errs = json_object_new_array(),
			   *e = json_object_new_object();
	js(o, "message", message ? message : "Validation Failed");
	js(e, "resource", resource);
	if (field)
		js(e, "field", field);
	js(e, "code", code);
	if (detail)
		js(e, "message", detail);
	json_object_array_add(errs, e);
	jo(o, "errors", errs);
	js(o, "documentation_url", FH_DOCS);
	js(o, "status", "422");
	return fh_json(422, o);
}

/* Link: <…?page=2&per_page=30>; rel="next", <…>; rel="last" — built from the request's own URL. */
static void link_add(struct buf *b, long long page, long long per_page, const char *rel)
{
	struct request *req = C->req;
	const char *host = req_header(req, "Host");
	if (b->len)
		buf_puts(b, ", ");
	buf_printf(b, "<%s://%s%s?", req->scheme, host ? host : "127.0.0.1", req->raw_path);
	for (size_t i = 0; i < req->query.n; i++) {
		const struct kv *kv = &req->query.items[i];
		if (strcmp(kv->name, "page") == 0 || strcmp(kv->name, "per_page") == 0)
			continue;
		char *enc = arena_alloc(req->arena, strlen(kv->value) * 3 + 1), *p = enc;
		for (const unsigned char *s = (const unsigned char *)kv->value; *s; s++) {
			if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
			    strchr("-_.~", *s))
				*p++ = (char)*s;
			else
				p += sprintf(p, "%%%02X", *s);
		}
		*p = '\0';
		buf_printf(b, "%s=%s&", kv->name, enc);
	}
	buf_printf(b, "per_page=%lld&page=%lld>; rel=\"%s\"", per_page, page, rel);
}

void fh_paginate(long long total, long long *offset, long long *limit)
{
	long long per = fh_atoll(req_query(C->req, "per_page")), page = fh_atoll(req_query(C->req, "page"));
	if (per <= 0)
		per = 30;
	if (per > 100)
		per = 100;
	if (page <= 0)
		page = 1;
	long long last = total == 0 ? 1 : (total + per - 1) / per;
	/* Past the last page GitHub answers an empty list; page 10^18 must not wrap the offset. */
	if (page > last + 1)
		page = last + 1;
	struct buf b = BUF_INIT;
	if (page > 1) {
		link_add(&b, page - 1 > last ? last : page - 1, per, "prev");
	}
	if (page < last) {
		link_add(&b, page + 1, per, "next");
		link_add(&b, last, per, "last");
	}
	if (page > 1)
		link_add(&b, 1, per, "first");
	if (b.len)
		resp_header(C->resp, "Link", b.data);
	buf_free(&b);
	*offset = (page - 1) * per;
	*limit = per;
}

/* ---- accounts */

int fh_account_by_login(PGresult **out, const char *login)
{
	FH_STMT(st, "SELECT id, login, type, name, email, created_at FROM accounts WHERE lower(login) = lower($1)");
	PGresult *r = Q(st, login);
	if (!r)
		return ERR_DB;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ERR_NOTFOUND;
	}
	*out = r;
	return 0;
}

struct json_object *fh_user_json(long long id, const char *login, const char *type)
{
	struct json_object *o = json_object_new_object();
	const char *api = g_fh.api_url;
	int org = type && strcmp(type, "Organization") == 0;
	js(o, "login", login);
	ji(o, "id", id);
	js(o, "node_id", fh_node_id(org ? "Organization" : "User", id));
	js(o, "avatar_url", arena_printf(ar(), "%s/avatars/u/%lld?v=4", g_fh.web_url, id));
	js(o, "gravatar_id", "");
	js(o, "url", arena_printf(ar(), "%s/users/%s", api, login));
	js(o, "html_url", arena_printf(ar(), "%s/%s", g_fh.web_url, login));
	js(o, "followers_url", arena_printf(ar(), "%s/users/%s/followers", api, login));
	js(o, "following_url", arena_printf(ar(), "%s/users/%s/following{/other_user}", api, login));
	js(o, "gists_url", arena_printf(ar(), "%s/users/%s/gists{/gist_id}", api, login));
	js(o, "starred_url", arena_printf(ar(), "%s/users/%s/starred{/owner}{/repo}", api, login));
	js(o, "subscriptions_url", arena_printf(ar(), "%s/users/%s/subscriptions", api, login));
	js(o, "organizations_url", arena_printf(ar(), "%s/users/%s/orgs", api, login));
	js(o, "repos_url", arena_printf(ar(), "%s/users/%s/repos", api, login));
	js(o, "events_url", arena_printf(ar(), "%s/users/%s/events{/privacy}", api, login));
	js(o, "received_events_url", arena_printf(ar(), "%s/users/%s/received_events", api, login));
	js(o, "type", org ? "Organization" : "User");
	jb(o, "site_admin", 0);
	return o;
}

struct json_object *fh_user_json_row(PGresult *r, int row, const char *idcol, const char *logincol,
				     const char *typecol)
{
	if (!fh_val(r, row, idcol))
		return NULL;
	return fh_user_json(fh_vall(r, row, idcol), fh_val(r, row, logincol), typecol ? fh_val(r, row, typecol) : "User");
}

static int login_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 39 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	return 1;
}

int fh_account_create(long long *id, const char *login, const char *type, const char *name,
		      const char *email, struct err *e)
{
	if (!login || !login_valid(login))
		return err_set(e, ERR_INVALID, "login must be 1-39 letters, digits or inner hyphens");
	FH_STMT(st, "INSERT INTO accounts (login, type, name, email, created_at) VALUES ($1, $2, $3, $4, $5) "
		    "ON CONFLICT (lower(login)) DO UPDATE SET name = COALESCE(EXCLUDED.name, accounts.name), "
		    "email = COALESCE(EXCLUDED.email, accounts.email) RETURNING id, type");
	PGresult *r = Q(st, login, type ? type : "User", name, email, fh_ll(fh_clock_now()));
	if (!r)
		return err_set(e, ERR_DB, "database error");
	if (strcmp(PQgetvalue(r, 0, 1), type ? type : "User") != 0) {
		PQclear(r);
		return err_set(e, ERR_CONFLICT, "%s exists as another account type", login);
	}
	if (id)
		*id = fh_vall(r, 0, "id");
	PQclear(r);
	return 0;
}

int fh_member_add(const char *org, const char *user, const char *role, struct err *e)
{
	FH_STMT(st, "INSERT INTO memberships (org_id, user_id, role) "
		    "SELECT o.id, u.id, $3 FROM accounts o, accounts u WHERE lower(o.login) = lower($1) "
		    "AND o.type = 'Organization' AND lower(u.login) = lower($2) AND u.type = 'User' "
		    "ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role RETURNING org_id");
	PGresult *r = Q(st, org, user, role ? role : "member");
	if (!r)
		return err_set(e, ERR_DB, "database error");
	int n = PQntuples(r);
	PQclear(r);
	return n ? 0 : err_set(e, ERR_NOTFOUND, "no organisation %s or user %s", org, user);
}

int fh_client_put(const char *id, const char *secret, const char *kind, const char *callback,
		  const char *name, struct err *e)
{
	if (!id || !*id || !secret || !*secret || !callback || !*callback)
		return err_set(e, ERR_INVALID, "client id, secret and callback URL are required");
	if (!kind)
		kind = "oauth";
	if (strcmp(kind, "oauth") != 0 && strcmp(kind, "app") != 0)
		return err_set(e, ERR_INVALID, "kind is oauth or app");
	FH_STMT(st, "INSERT INTO clients (client_id, client_secret, kind, callback_url, name, created_at) "
		    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (client_id) DO UPDATE SET "
		    "client_secret = EXCLUDED.client_secret, kind = EXCLUDED.kind, "
		    "callback_url = EXCLUDED.callback_url, name = EXCLUDED.name");
	PGresult *r = Q(st, id, secret, kind, callback, name ? name : id, fh_ll(fh_clock_now()));
	if (!r)
		return err_set(e, ERR_DB, "database error");
	PQclear(r);
	return 0;
}

/* Tokens are looked up by SHA-256, as GitHub stores them. token_plain exists only
 * because this is a test emulator: the loopback admin API lists issued tokens so
 * tests can prove ghbridge never stores them in plaintext. */
int fh_token_issue(char *out, size_t outlen, long long user_id, const char *client_id, const char *kind,
		   const char *prefix, const char *scope, long long expires_at, long long *token_id,
		   struct err *e)
{
	fh_random_token(out, outlen, prefix);
	char hash[65];
	fh_sha256_hex(hash, out, strlen(out));
	FH_STMT(st, "INSERT INTO tokens (token_hash, token_plain, kind, client_id, user_id, scope, created_at, "
		    "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id");
	PGresult *r = Q(st, hash, out, kind, client_id, fh_ll(user_id), scope ? scope : "", fh_ll(fh_clock_now()),
			expires_at ? fh_ll(expires_at) : NULL);
	if (!r)
		return err_set(e, ERR_DB, "database error");
	if (token_id)
		*token_id = fh_vall(r, 0, "id");
	PQclear(r);
	return 0;
}

long long fh_clock_now(void)
{
	FH_STMT(st, "SELECT offset_seconds FROM clock WHERE id = 1");
	PGresult *r = Q0(st);
	long long off = r && PQntuples(r) ? fh_vall(r, 0, "offset_seconds") : 0;
	if (r)
		PQclear(r);
	return (long long)time(NULL) + off;
}

/* Whether the viewer's OAuth scope list (comma or space separated) holds NAME exactly. */
int fh_scope_has(const char *name)
{
	const char *sc = C && C->v.scope ? C->v.scope : "";
	size_t n = strlen(name);
	for (const char *p = sc; *p;) {
		p += strspn(p, ", ");
		size_t len = strcspn(p, ", ");
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

/* ---- repositories */

int fh_repo_load(struct fh_repo *r, const char *owner, const char *name)
{
	FH_STMT(st, "SELECT r.id, r.owner_id, a.login, a.type, r.name, r.description, r.default_branch, r.private, "
		    "r.created_at, r.updated_at, r.pushed_at, r.archived, r.allow_merge_commit, r.allow_squash_merge, "
		    "r.allow_rebase_merge, r.delete_branch_on_merge, "
		    "fh_repo_access(r.id, $3) AS level "
		    "FROM repos r JOIN accounts a ON a.id = r.owner_id "
		    "WHERE lower(a.login) = lower($1) AND lower(r.name) = lower($2)");
	memset(r, 0, sizeof *r);
	PGresult *res = Q(st, owner, name, fh_ll(C ? C->v.id : 0));
	if (!res)
		return ERR_DB;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return ERR_NOTFOUND;
	}
	struct arena *a = ar();
	r->id = fh_vall(res, 0, "id");
	r->owner_id = fh_vall(res, 0, "owner_id");
	r->owner = arena_strdup(a, fh_val(res, 0, "login"));
	r->owner_type = arena_strdup(a, fh_val(res, 0, "type"));
	r->name = arena_strdup(a, fh_val(res, 0, "name"));
	const char *d = fh_val(res, 0, "description");
	r->description = d ? arena_strdup(a, d) : NULL;
	r->default_branch = arena_strdup(a, fh_val(res, 0, "default_branch"));
	r->private_ = fh_vbool(res, 0, "private");
	r->created_at = fh_vall(res, 0, "created_at");
	r->updated_at = fh_vall(res, 0, "updated_at");
	r->pushed_at = fh_vall(res, 0, "pushed_at");
	r->archived = fh_vbool(res, 0, "archived");
	r->allow_merge_commit = fh_vbool(res, 0, "allow_merge_commit");
	r->allow_squash_merge = fh_vbool(res, 0, "allow_squash_merge");
	r->allow_rebase_merge = fh_vbool(res, 0, "allow_rebase_merge");
	r->delete_branch_on_merge = fh_vbool(res, 0, "delete_branch_on_merge");
	/* The highest of owner, organisation owner, base permission, teams and direct grant (010_org_access.sql). */
	long long level = C && C->v.id ? fh_vall(res, 0, "level") : 0;
	r->can_admin = level >= 5;
	r->can_push = level >= 3;
	r->can_read = !r->private_ || level >= 1;
	/* OAuth App tokens act only within their scopes: writes need repo (or public_repo). */
	if (C && C->v.token_prefix && strcmp(C->v.token_prefix, "gho") == 0) {
		const char *sc = C->v.scope ? C->v.scope : "";
		int full_repo = 0;
		char *copy = arena_strdup(a, sc), *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
			if (strcmp(t, "repo") == 0)
				full_repo = 1;
		int public_repo = strstr(sc, "public_repo") != NULL;
		if (r->private_ && !full_repo)
			r->can_read = r->can_push = r->can_admin = 0;
		if (!full_repo && !(public_repo && !r->private_))
			r->can_push = r->can_admin = 0;
	}
	snprintf(r->path, sizeof r->path, "%s/%s/%s.git", g_fh.repos_dir, r->owner, r->name);
	PQclear(res);
	return r->can_read ? 0 : ERR_NOTFOUND;
}

int fh_repo_from_params(struct fh_repo *r)
{
	int rc = fh_repo_load(r, req_param(C->req, "owner"), req_param(C->req, "repo"));
	if (rc == ERR_DB)
		return fh_error(500, "Server Error"), -1;
	if (rc)
		return fh_not_found(), -1;
	return 0;
}

int fh_repo_writable(const struct fh_repo *r)
{
	if (r->archived)
		return fh_error(403, "Repository was archived so is read-only."), -1;
	return 0;
}

/* GitHub's repository object (docs repos/get: the "full-repository" schema, whose required fields the
 * contract test holds it to): every *_url template as api.github.com spells it, the merge-button settings
 * (GitHub shows them to those with push access and leaves them out otherwise), network and subscriber
 * counts. */
struct json_object *fh_repo_json(const struct fh_repo *r)
{
	struct json_object *o = json_object_new_object();
	struct arena *a = ar();
	const char *api = g_fh.api_url, *full = arena_printf(a, "%s/%s", r->owner, r->name);
	const char *base = arena_printf(a, "%s/repos/%s", api, full);
	static const char *const templates[][2] = {
		{ "forks_url", "/forks" },
		{ "keys_url", "/keys{/key_id}" },
		{ "collaborators_url", "/collaborators{/collaborator}" },
		{ "teams_url", "/teams" },
		{ "hooks_url", "/hooks" },
		{ "issue_events_url", "/issues/events{/number}" },
		{ "events_url", "/events" },
		{ "assignees_url", "/assignees{/user}" },
		{ "branches_url", "/branches{/branch}" },
		{ "tags_url", "/tags" },
		{ "blobs_url", "/git/blobs{/sha}" },
		{ "git_tags_url", "/git/tags{/sha}" },
		{ "git_refs_url", "/git/refs{/sha}" },
		{ "trees_url", "/git/trees{/sha}" },
		{ "statuses_url", "/statuses/{sha}" },
		{ "languages_url", "/languages" },
		{ "stargazers_url", "/stargazers" },
		{ "contributors_url", "/contributors" },
		{ "subscribers_url", "/subscribers" },
		{ "subscription_url", "/subscription" },
		{ "commits_url", "/commits{/sha}" },
		{ "git_commits_url", "/git/commits{/sha}" },
		{ "comments_url", "/comments{/number}" },
		{ "issue_comment_url", "/issues/comments{/number}" },
		{ "contents_url", "/contents/{+path}" },
		{ "compare_url", "/compare/{base}...{head}" },
		{ "merges_url", "/merges" },
		{ "archive_url", "/{archive_format}{/ref}" },
		{ "downloads_url", "/downloads" },
		{ "issues_url", "/issues{/number}" },
		{ "pulls_url", "/pulls{/number}" },
		{ "milestones_url", "/milestones{/number}" },
		{ "notifications_url", "/notifications{?since,all,participating}" },
		{ "labels_url", "/labels{/name}" },
		{ "releases_url", "/releases{/id}" },
		{ "deployments_url", "/deployments" },
	};
	ji(o, "id", r->id);
	js(o, "node_id", fh_node_id("Repository", r->id));
	js(o, "name", r->name);
	js(o, "full_name", full);
	jb(o, "private", r->private_);
	jo(o, "owner", fh_user_json(r->owner_id, r->owner, r->owner_type));
	js(o, "html_url", arena_printf(a, "%s/%s", g_fh.web_url, full));
	js(o, "description", r->description);
	jb(o, "fork", 0);
	js(o, "url", base);
	for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
		js(o, templates[i][0], arena_printf(a, "%s%s", base, templates[i][1]));
	jt(o, "created_at", r->created_at);
	jt(o, "updated_at", r->updated_at);
	jt(o, "pushed_at", r->pushed_at ? r->pushed_at : r->created_at);
	js(o, "git_url", arena_printf(a, "git://127.0.0.1/%s.git", full));
	js(o, "ssh_url", arena_printf(a, "git@127.0.0.1:%s.git", full));
	js(o, "clone_url", arena_printf(a, "%s/%s.git", g_fh.web_url, full));
	js(o, "svn_url", arena_printf(a, "%s/%s", g_fh.web_url, full));
	js(o, "homepage", NULL);
	ji(o, "size", 0);
	ji(o, "stargazers_count", 0);
	ji(o, "watchers_count", 0);
	js(o, "language", NULL);
	jb(o, "has_issues", 1);
	jb(o, "has_projects", 1);
	jb(o, "has_downloads", 1);
	jb(o, "has_wiki", 1);
	jb(o, "has_pages", 0);
	jb(o, "has_discussions", 0);
	ji(o, "forks_count", 0);
	js(o, "mirror_url", NULL);
	jb(o, "archived", r->archived);
	jb(o, "disabled", 0);
	ji(o, "open_issues_count", 0);
	js(o, "license", NULL);
	jb(o, "allow_forking", 1);
	jb(o, "is_template", 0);
	jb(o, "web_commit_signoff_required", 0);
	jo(o, "topics", json_object_new_array());
	js(o, "visibility", r->private_ ? "private" : "public");
	ji(o, "forks", 0);
	ji(o, "open_issues", 0);
	ji(o, "watchers", 0);
	js(o, "default_branch", r->default_branch);
	if (C && C->v.id) {
		struct json_object *p = json_object_new_object();
		jb(p, "admin", r->can_admin);
		jb(p, "maintain", r->can_admin);
		jb(p, "push", r->can_push);
		jb(p, "triage", r->can_push);
		jb(p, "pull", r->can_read);
		jo(o, "permissions", p);
		if (r->can_push) {
			jb(o, "allow_merge_commit", r->allow_merge_commit);
			jb(o, "allow_squash_merge", r->allow_squash_merge);
			jb(o, "allow_rebase_merge", r->allow_rebase_merge);
			jb(o, "allow_auto_merge", 0);
			jb(o, "delete_branch_on_merge", r->delete_branch_on_merge);
			jb(o, "allow_update_branch", 0);
			jb(o, "use_squash_pr_title_as_default", 0);
			js(o, "squash_merge_commit_title", "COMMIT_OR_PR_TITLE");
			js(o, "squash_merge_commit_message", "COMMIT_MESSAGES");
			js(o, "merge_commit_title", "MERGE_MESSAGE");
			js(o, "merge_commit_message", "PR_TITLE");
		}
	}
	ji(o, "network_count", 0);
	ji(o, "subscribers_count", 0);
	return o;
}
