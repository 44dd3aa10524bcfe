/* lfs.c: fakehub's Git LFS server: the Batch API, basic transfers (PUT, GET through nginx, verify), quotas. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcgiapp.h>
#include <sodium.h>
#include "http/server.h"
#include "tests/fakehub/fakehub.h"

/* GitHub's words when an account's LFS storage or bandwidth is used up (git lfs prints them after
 * "batch response: "), and its largest object (docs "About Git Large File Storage": 2 GB on Free). */
#define LFS_QUOTA_MSG "This repository is over its data quota. Account responsible for LFS bandwidth should " \
		      "purchase more data packs to restore access."
#define LFS_DOCS "https://docs.github.com/repositories/working-with-files/managing-large-files/about-storage-and-bandwidth-usage"
#define LFS_MAX_OBJECT_DEFAULT 2147483648LL
#define LFS_BATCH_MAX 100 /* git-lfs sends at most 100 objects a request (lfs.transfer.batchSize) */
#define LFS_TYPE "application/vnd.git-lfs+json"

static const char *lfs_dir(void)
{
	static char dir[1024];
	if (!dir[0]) {
		const char *d = getenv("FAKEHUB_LFS_DIR");
		if (d && *d)
			snprintf(dir, sizeof dir, "%s", d);
		else
			snprintf(dir, sizeof dir, "%s/../lfs", g_fh.repos_dir);
		mkdir(dir, 0755);
	}
	return dir;
}

static long long max_object(void)
{
	const char *s = getenv("FAKEHUB_LFS_MAX_OBJECT");
	return s && *s ? atoll(s) : LFS_MAX_OBJECT_DEFAULT;
}

static int oid_ok(const char *oid)
{
	return oid && strlen(oid) == 64 && strspn(oid, "0123456789abcdef") == 64;
}

/* An LFS answer: the vnd.git-lfs+json type, and {"message", "documentation_url"} for a whole-request error. */
static int lfs_json(int status, struct json_object *o)
{
	fh_json(status, o);
	C->resp->content_type = LFS_TYPE;
	return 0;
}

static int lfs_error(int status, const char *message, const char *doc)
{
	struct json_object *o = json_object_new_object();
	js(o, "message", message);
	js(o, "documentation_url", doc ? doc : "https://help.github.com");
	return lfs_json(status, o);
}

static int repo_lfs_disabled(const struct fh_repo *r)
{
	FH_STMT(st, "SELECT lfs_disabled FROM repos WHERE id = $1");
	PGresult *x = Q(st, fh_ll(r->id));
	int off = x && PQntuples(x) == 1 && fh_vbool(x, 0, "lfs_disabled");
	if (x)
		PQclear(x);
	return off;
}

/* The repository owner's limits and use: storage used is the sum of its repositories' objects. */
static void quota_of(long long owner_id, long long *storage_limit, long long *storage_used, long long *bw_limit,
		     long long *bw_used)
{
	FH_STMT(ins, "INSERT INTO lfs_quotas (account_id) VALUES ($1) ON CONFLICT DO NOTHING");
	FH_STMT(st, "SELECT q.storage_limit, q.bandwidth_limit, q.bandwidth_used, "
		    "(SELECT coalesce(sum(o.size), 0) FROM lfs_objects o JOIN repos r ON r.id = o.repo_id "
		    "WHERE r.owner_id = $1) AS used FROM lfs_quotas q WHERE q.account_id = $1");
	PGresult *x = Q(ins, fh_ll(owner_id));
	if (x)
		PQclear(x);
	x = Q(st, fh_ll(owner_id));
	*storage_limit = *bw_limit = 0;
	*storage_used = *bw_used = 0;
	if (x && PQntuples(x) == 1) {
		*storage_limit = fh_vall(x, 0, "storage_limit");
		*bw_limit = fh_vall(x, 0, "bandwidth_limit");
		*bw_used = fh_vall(x, 0, "bandwidth_used");
		*storage_used = fh_vall(x, 0, "used");
	}
	if (x)
		PQclear(x);
}

/* size of oid in the repository, or -1 when the repository does not hold it. */
static long long object_size(const struct fh_repo *r, const char *oid)
{
	FH_STMT(st, "SELECT size FROM lfs_objects WHERE repo_id = $1 AND oid = $2");
	PGresult *x = Q(st, fh_ll(r->id), oid);
	long long n = x && PQntuples(x) == 1 ? fh_vall(x, 0, "size") : -1;
	if (x)
		PQclear(x);
	return n;
}

static struct json_object *action(const struct fh_repo *r, const char *path, long long expires_in)
{
	struct json_object *a = json_object_new_object();
	js(a, "href", arena_printf(fh_arena(), "%s/%s/%s.git/info/lfs/%s", g_fh.web_url, r->owner, r->name, path));
	/* The client's own credentials, as GitHub's actions carry the headers the transfer needs. */
	const char *auth = req_header(C->req, "Authorization");
	if (auth) {
		struct json_object *h = json_object_new_object();
		js(h, "Authorization", auth);
		jo(a, "header", h);
	}
	if (expires_in)
		ji(a, "expires_in", expires_in);
	return a;
}

static struct json_object *object_error(struct json_object *o, int code, const char *message)
{
	struct json_object *e = json_object_new_object();
	ji(e, "code", code);
	js(e, "message", message);
	jo(o, "error", e);
	return o;
}

/* POST {repo}.git/info/lfs/objects/batch (docs/api/batch.md). */
static int lfs_batch(const struct fh_repo *r)
{
	struct request *req = C->req;
	const char *accept = req_header(req, "Accept");
	if (!accept || !strstr(accept, LFS_TYPE))
		return lfs_error(406, "Not Acceptable", "https://support.github.com/contact");
	if (req->content_length > (1u << 20))
		return lfs_error(413, "Request body too large", NULL);
	if (req->content_length && http_read_body(req, 1u << 20, &req->err))
		return lfs_error(400, req->err.msg, NULL);
	struct json_object *in = req->body_len ? json_tokener_parse(req->body) : NULL;
	struct json_object *objs = NULL, *jop = NULL;
	if (!in || !json_object_is_type(in, json_type_object) || !json_object_object_get_ex(in, "operation", &jop) ||
	    !json_object_object_get_ex(in, "objects", &objs) || !json_object_is_type(objs, json_type_array)) {
		if (in)
			json_object_put(in);
		return lfs_error(422, "Unprocessable Entity: the body is not a batch request", NULL);
	}
	const char *op = json_object_get_string(jop);
	int upload = strcmp(op, "upload") == 0;
	if (!upload && strcmp(op, "download") != 0) {
		json_object_put(in);
		return lfs_error(422, "Unprocessable Entity: operation must be download or upload", NULL);
	}
	size_t n = json_object_array_length(objs);
	int rc = 0;
	if (n > LFS_BATCH_MAX) {
		rc = lfs_error(413, "Too many objects in one batch request", NULL);
		goto out;
	}
	if (upload && !C->v.id) {
		resp_header(C->resp, "LFS-Authenticate", "Basic realm=\"GitHub\"");
		rc = lfs_error(401, "Authentication required", NULL);
		goto out;
	}
	if (upload && (!r->can_push || r->archived)) {
		rc = lfs_error(403, r->archived ? "This repository was archived so it is read-only."
						: arena_printf(fh_arena(), "Permission to %s/%s.git denied to %s.",
							       r->owner, r->name, C->v.login),
			       NULL);
		goto out;
	}
	if (repo_lfs_disabled(r)) {
		rc = lfs_error(403, "Git LFS is disabled for this repository.", LFS_DOCS);
		goto out;
	}
	long long slimit, sused, blimit, bused, need = 0;
	quota_of(r->owner_id, &slimit, &sused, &blimit, &bused);
	struct json_object *outs = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_array_get_idx(objs, i), *jo_oid = NULL, *jo_size = NULL;
		json_object_object_get_ex(x, "oid", &jo_oid);
		json_object_object_get_ex(x, "size", &jo_size);
		const char *oid = jo_oid ? json_object_get_string(jo_oid) : "";
		long long size = jo_size ? json_object_get_int64(jo_size) : -1;
		struct json_object *o = json_object_new_object();
		js(o, "oid", oid);
		ji(o, "size", size);
		json_object_array_add(outs, o);
		if (!oid_ok(oid) || !jo_size || !json_object_is_type(jo_size, json_type_int) || size < 0) {
			object_error(o, 422, "Invalid object: oid must be 64 lower-case hex digits, size a whole number");
			continue;
		}
		long long have = object_size(r, oid);
		if (upload) {
			if (size > max_object()) {
				object_error(o, 422, arena_printf(fh_arena(), "Size must be less than or equal to %lld",
								  max_object()));
				continue;
			}
			if (have >= 0 && have == size)
				continue; /* already there: no actions, the client uploads nothing */
			need += size;
			jb(o, "authenticated", 1);
			struct json_object *acts = json_object_new_object();
			jo(acts, "upload", action(r, arena_printf(fh_arena(), "objects/%s", oid), 3600));
			jo(acts, "verify", action(r, "verify", 3600));
			jo(o, "actions", acts);
		} else {
			if (have < 0) {
				object_error(o, 404, "Object does not exist on the server");
				continue;
			}
			if (have != size) {
				object_error(o, 422, "Object size does not match");
				continue;
			}
			need += size;
			jb(o, "authenticated", 1);
			struct json_object *acts = json_object_new_object();
			jo(acts, "download", action(r, arena_printf(fh_arena(), "objects/%s", oid), 3600));
			jo(o, "actions", acts);
		}
	}
	/* Over quota: the whole request is refused, for upload (storage) and download (bandwidth). */
	if ((upload && sused + need > slimit) || (!upload && bused + need > blimit)) {
		json_object_put(outs);
		rc = lfs_error(403, LFS_QUOTA_MSG, LFS_DOCS);
		goto out;
	}
	struct json_object *ans = json_object_new_object();
	js(ans, "transfer", "basic");
	jo(ans, "objects", outs);
	js(ans, "hash_algo", "sha256");
	rc = lfs_json(200, ans);
out:
	json_object_put(in);
	return rc;
}

/* PUT {repo}.git/info/lfs/objects/{oid}: the body streamed to a file beside the store, its SHA-256 and
 * size checked before it takes the oid's name (basic-transfers.md). */
static int lfs_put(const struct fh_repo *r, const char *oid)
{
	struct request *req = C->req;
	if (!C->v.id || !r->can_push)
		return lfs_error(C->v.id ? 403 : 401, C->v.id ? "Permission denied" : "Authentication required", NULL);
	if (repo_lfs_disabled(r))
		return lfs_error(403, "Git LFS is disabled for this repository.", LFS_DOCS);
	if ((long long)req->content_length > max_object())
		return lfs_error(422, arena_printf(fh_arena(), "Size must be less than or equal to %lld", max_object()),
				 NULL);
	char tmp[1200], dst[1200];
	snprintf(tmp, sizeof tmp, "%s/.put-%d-%s", lfs_dir(), (int)getpid(), oid);
	snprintf(dst, sizeof dst, "%s/%s", lfs_dir(), oid);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return lfs_error(500, "cannot store the object", NULL);
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	FCGX_Stream *inp = (FCGX_Stream *)req->body_io;
	static char chunk[1 << 16];
	size_t got = 0;
	int bad = 0, n;
	while (inp && got < req->content_length &&
	       (n = FCGX_GetStr(chunk, (int)(req->content_length - got < sizeof chunk ? req->content_length - got
										       : sizeof chunk),
				inp)) > 0) {
		crypto_hash_sha256_update(&h, (unsigned char *)chunk, (size_t)n);
		if (write(fd, chunk, (size_t)n) != n)
			bad = 1;
		got += (size_t)n;
	}
	if (close(fd) != 0)
		bad = 1;
	unsigned char md[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&h, md);
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, md, sizeof md);
	if (bad || got != req->content_length) {
		unlink(tmp);
		return lfs_error(400, "the upload ended early", NULL);
	}
	if (strcmp(hex, oid) != 0) {
		unlink(tmp);
		return lfs_error(422, "Object SHA-256 does not match the oid", NULL);
	}
	if (rename(tmp, dst) != 0) {
		unlink(tmp);
		return lfs_error(500, "cannot store the object", NULL);
	}
	FH_STMT(st, "INSERT INTO lfs_objects (repo_id, oid, size) VALUES ($1, $2, $3) "
		    "ON CONFLICT (repo_id, oid) DO UPDATE SET size = EXCLUDED.size");
	PGresult *x = Q(st, fh_ll(r->id), oid, fh_ll((long long)got));
	if (x)
		PQclear(x);
	C->resp->status = 200;
	C->resp->content_type = "text/plain";
	return 0;
}

/* GET {repo}.git/info/lfs/objects/{oid}: nginx sends the file (X-Accel-Redirect to an internal location
 * over the data folder), so a large object never passes through this process's memory. */
static int lfs_get(const struct fh_repo *r, const char *oid)
{
	if (repo_lfs_disabled(r))
		return lfs_error(403, "Git LFS is disabled for this repository.", LFS_DOCS);
	long long size = object_size(r, oid);
	if (size < 0)
		return lfs_error(404, "Object does not exist on the server", NULL);
	long long sl, su, bl, bu;
	quota_of(r->owner_id, &sl, &su, &bl, &bu);
	if (bu + size > bl)
		return lfs_error(403, LFS_QUOTA_MSG, LFS_DOCS);
	FH_STMT(st, "UPDATE lfs_quotas SET bandwidth_used = bandwidth_used + $2 WHERE account_id = $1");
	PGresult *x = Q(st, fh_ll(r->owner_id), fh_ll(size));
	if (x)
		PQclear(x);
	C->resp->status = 200;
	C->resp->content_type = "application/octet-stream";
	resp_header(C->resp, "X-Accel-Redirect", arena_printf(fh_arena(), "/_fakehub_lfs_store/%s", oid));
	return 0;
}

/* POST {repo}.git/info/lfs/verify {oid, size}: 200 when the object is stored with that size, else 404. */
static int lfs_verify(const struct fh_repo *r)
{
	struct request *req = C->req;
	if (!C->v.id || !r->can_push)
		return lfs_error(C->v.id ? 403 : 401, C->v.id ? "Permission denied" : "Authentication required", NULL);
	if (req->content_length > 4096 || (req->content_length && http_read_body(req, 4096, &req->err)))
		return lfs_error(400, "Problems parsing JSON", NULL);
	struct json_object *in = req->body_len ? json_tokener_parse(req->body) : NULL;
	const char *oid = in ? jget(in, "oid") : NULL;
	struct json_object *js_ = NULL;
	long long size = in && json_object_object_get_ex(in, "size", &js_) ? json_object_get_int64(js_) : -1;
	int rc;
	if (!oid_ok(oid))
		rc = lfs_error(422, "Invalid object", NULL);
	else if (object_size(r, oid) != size || size < 0)
		rc = lfs_error(404, "Object does not exist on the server", NULL);
	else {
		C->resp->status = 200;
		C->resp->content_type = LFS_TYPE;
		buf_reset(&C->resp->body);
		rc = 0;
	}
	if (in)
		json_object_put(in);
	return rc;
}

void fh_lfs_serve(const struct fh_repo *r, const char *rest)
{
	const char *m = C->req->method;
	const char *p = rest + strlen("/info/lfs/");
	if (strcmp(p, "objects/batch") == 0) {
		if (strcmp(m, "POST") != 0)
			lfs_error(405, "Method Not Allowed", NULL);
		else
			lfs_batch(r);
		return;
	}
	if (strcmp(p, "verify") == 0 && strcmp(m, "POST") == 0) {
		lfs_verify(r);
		return;
	}
	if (strncmp(p, "objects/", 8) == 0 && oid_ok(p + 8)) {
		if (strcmp(m, "PUT") == 0)
			lfs_put(r, p + 8);
		else if (strcmp(m, "GET") == 0)
			lfs_get(r, p + 8);
		else
			lfs_error(405, "Method Not Allowed", NULL);
		return;
	}
	lfs_error(404, "Not Found", NULL);
}

/* ---- admin: POST /_fakehub/lfs/quotas/{login} {storage_bytes, bandwidth_bytes, bandwidth_used};
 * POST /_fakehub/repos/{owner}/{repo}/lfs {enabled}; GET /_fakehub/repos/{owner}/{repo}/lfs: the objects. */
int admin_lfs_quota(struct request *req, struct response *resp)
{
	(void)resp;
	PGresult *acc = NULL;
	if (fh_account_by_login(&acc, req_param(req, "login")))
		return fh_not_found();
	long long id = fh_vall(acc, 0, "id");
	PQclear(acc);
	quota_of(id, &(long long){ 0 }, &(long long){ 0 }, &(long long){ 0 }, &(long long){ 0 });
	FH_STMT(st, "UPDATE lfs_quotas SET storage_limit = coalesce($2::bigint, storage_limit), "
		    "bandwidth_limit = coalesce($3::bigint, bandwidth_limit), "
		    "bandwidth_used = coalesce($4::bigint, bandwidth_used) WHERE account_id = $1");
	PGresult *x = Q(st, fh_ll(id), fh_in("storage_bytes"), fh_in("bandwidth_bytes"), fh_in("bandwidth_used"));
	if (x)
		PQclear(x);
	return fh_no_content();
}

int admin_lfs_repo(struct request *req, struct response *resp)
{
	(void)resp;
	FH_STMT(st, "UPDATE repos r SET lfs_disabled = NOT $3::boolean FROM accounts a WHERE a.id = r.owner_id "
		    "AND lower(a.login) = lower($1) AND lower(r.name) = lower($2)");
	const char *en = fh_in("enabled");
	PGresult *x = Q(st, req_param(req, "owner"), req_param(req, "repo"),
			en && (strcmp(en, "false") == 0 || strcmp(en, "0") == 0) ? "false" : "true");
	if (x)
		PQclear(x);
	return fh_no_content();
}

int admin_lfs_objects(struct request *req, struct response *resp)
{
	(void)resp;
	FH_STMT(st, "SELECT o.oid, o.size FROM lfs_objects o JOIN repos r ON r.id = o.repo_id JOIN accounts a "
		    "ON a.id = r.owner_id WHERE lower(a.login) = lower($1) AND lower(r.name) = lower($2) ORDER BY o.oid");
	PGresult *x = Q(st, req_param(req, "owner"), req_param(req, "repo"));
	struct json_object *arr = json_object_new_array();
	for (int i = 0; x && i < PQntuples(x); i++) {
		struct json_object *o = json_object_new_object();
		js(o, "oid", fh_val(x, i, "oid"));
		ji(o, "size", fh_vall(x, i, "size"));
		json_object_array_add(arr, o);
	}
	if (x)
		PQclear(x);
	struct json_object *ans = json_object_new_object();
	jo(ans, "objects", arr);
	return fh_json(200, ans);
}
