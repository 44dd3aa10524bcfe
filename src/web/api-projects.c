/* api-projects.c: the JSON API for projects, their files, repository, settings, sync, status and history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "service/auth.h"
#include "service/ghrepos.h"
#include "service/projects.h"
#include "web/app.h"
#include "web/fields.h"

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *web_project_json(const struct project *p)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(p->id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "owner", json_object_new_string(p->owner_login ? p->owner_login : ""));
	json_object_object_add(o, "status", json_object_new_string(p->status));
	json_object_object_add(o, "last_error", jstr_or_null(p->last_error));
	json_object_object_add(o, "last_commit_sha", jstr_or_null(p->last_commit_sha));
	json_object_object_add(o, "last_sync_at", jstr_or_null(p->last_sync_at));
	/* the periodic check's last run (workspace folder, and GitHub's branch when pulling is on) */
	json_object_object_add(o, "checked_at", jstr_or_null(p->polled_at));
	json_object_object_add(o, "conflict_branch", jstr_or_null(p->conflict_branch));
	json_object_object_add(o, "conflict_url", jstr_or_null(p->conflict_url));
	json_object_object_add(o, "created_at", jstr_or_null(p->created_at));
	json_object_object_add(o, "workspace", json_object_new_string(p->workspace));
	struct json_object *prog = p->progress ? json_tokener_parse(p->progress) : NULL;
	json_object_object_add(o, "progress", prog ? prog : json_object_new_object());
	if (p->repo_owner) {
		struct json_object *r = json_object_new_object();
		json_object_object_add(r, "owner", json_object_new_string(p->repo_owner));
		json_object_object_add(r, "name", json_object_new_string(p->repo_name));
		char full[256];
		snprintf(full, sizeof full, "%s/%s", p->repo_owner, p->repo_name);
		json_object_object_add(r, "full_name", json_object_new_string(full));
		json_object_object_add(r, "default_branch", jstr_or_null(p->repo_default_branch));
		json_object_object_add(r, "html_url", jstr_or_null(p->repo_html_url));
		json_object_object_add(r, "clone_url", jstr_or_null(p->repo_clone_url));
		json_object_object_add(r, "private", json_object_new_boolean(p->repo_private));
		json_object_object_add(o, "repository", r);
	} else {
		json_object_object_add(o, "repository", NULL);
	}
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "auto_sync", json_object_new_boolean(p->auto_sync));
	json_object_object_add(s, "sync_branch", json_object_new_string(projects_branch(p)));
	json_object_object_add(s, "commit_template", json_object_new_string(p->commit_template));
	json_object_object_add(s, "exclude_patterns", json_object_new_string(p->exclude_patterns));
	json_object_object_add(s, "batch_minutes", json_object_new_int(p->batch_minutes));
	json_object_object_add(s, "lfs_threshold_mib", json_object_new_int(p->lfs_threshold_mib));
	json_object_object_add(s, "pull_enabled", json_object_new_boolean(p->pull_enabled));
	json_object_object_add(o, "settings", s);
	json_object_object_add(o, "connection", web_connection_json(p));
	return o;
}

struct json_object *web_connection_json(const struct project *p)
{
	if (!p->connect_state)
		return NULL;
	struct json_object *c = json_object_new_object();
	json_object_object_add(c, "state", json_object_new_string(p->connect_state));
	json_object_object_add(c, "mode", jstr_or_null(p->connect_mode));
	json_object_object_add(c, "repository", jstr_or_null(p->connect_repo));
	json_object_object_add(c, "step", jstr_or_null(p->connect_step));
	json_object_object_add(c, "error", jstr_or_null(p->connect_error));
	json_object_object_add(c, "error_code", jstr_or_null(p->connect_error_code));
	json_object_object_add(c, "job_id", p->connect_job_id ? json_object_new_int64(p->connect_job_id) : NULL);
	return c;
}

struct json_object *web_sync_json(const struct sync_run *s, int with_files)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(s->id));
	json_object_object_add(o, "job_id", s->job_id ? json_object_new_int64(s->job_id) : NULL);
	json_object_object_add(o, "trigger", json_object_new_string(s->trigger));
	json_object_object_add(o, "status", json_object_new_string(s->status));
	json_object_object_add(o, "commit_sha", jstr_or_null(s->commit_sha));
	json_object_object_add(o, "files_changed", json_object_new_int(s->files_changed));
	json_object_object_add(o, "additions", json_object_new_int(s->additions));
	json_object_object_add(o, "deletions", json_object_new_int(s->deletions));
	json_object_object_add(o, "error", jstr_or_null(s->error));
	json_object_object_add(o, "attempt", json_object_new_int(s->attempts));
	json_object_object_add(o, "started_at", jstr_or_null(s->started_at));
	json_object_object_add(o, "finished_at", jstr_or_null(s->finished_at));
	/* Milliseconds are as precise as a sync's timing means anything; json-c would print the double's
	 * every digit (0.042082000000000001). */
	char dur[32];
	snprintf(dur, sizeof dur, "%.3f", s->duration_s);
	json_object_object_add(o, "duration_s", s->duration_s >= 0 ? json_object_new_double_s(s->duration_s, dur) : NULL);
	if (with_files) {
		struct json_object *f = s->files ? json_tokener_parse(s->files) : NULL;
		json_object_object_add(o, "files", f ? f : json_object_new_array());
	}
	return o;
}

/* 1 (answered 403) when the caller lacks scope. */
static const char *jget_str(struct json_object *o, const char *k, int *bad)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !v)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*bad = 1;
		return NULL;
	}
	return json_object_get_string(v);
}

/* Loads {id} for the caller: 404 for missing and for other people's projects alike. */
static void project_reply(struct response *resp, int status, const struct project *p)
{
	struct json_object *o = web_project_json(p);
	json_object_object_add(o, "paused", web_pause_json(p->id));
	resp_json(resp, status, o);
	json_object_put(o);
}

/* POST /api/v1/projects {"name"} → 201 | 400 | 403 */
int api_projects_create(struct request *req, struct response *resp)
{
	if (web_lacks_scope(req, resp, "projects:write"))
		return 0;
	struct json_object *b = web_json_body(req, resp);
	if (!b)
		return 0;
	int bad = 0;
	const char *name = jget_str(b, "name", &bad);
	struct project p;
	int rc = projects_create(&p, g_app.db, req->user->user_id, name, &req->err);
	json_object_put(b);
	if (rc)
		return rc;
	resp_header(resp, "Location", arena_printf(req->arena, "/api/v1/projects/%lld", p.id));
	project_reply(resp, 201, &p);
	store_project_free(&p);
	return 0;
}

/* GET /api/v1/projects → 200 {"projects":[…]} */
int api_projects_list(struct request *req, struct response *resp)
{
	if (web_lacks_scope(req, resp, "projects:read"))
		return 0;
	struct project *rows;
	int n, rc = projects_list(&rows, &n, g_app.db, req->user->user_id, &req->err);
	if (rc)
		return rc;
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(a, web_project_json(&rows[i]));
	json_object_object_add(o, "projects", a);
	resp_json(resp, 200, o);
	json_object_put(o);
	store_projects_free(rows, n);
	return 0;
}

/* GET /api/v1/projects/{id} → 200 | 404 */
int api_project_get(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	project_reply(resp, 200, p);
	return 0;
}

/* PATCH /api/v1/projects/{id} {"name"} → 200 | 400 | 404 */
int api_project_patch(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct json_object *b = web_json_body(req, resp);
	if (b) {
		int bad = 0;
		const char *name = jget_str(b, "name", &bad);
		if (name || bad)
			rc = projects_rename(g_app.db, p, name, &req->err);
		if (!rc)
			project_reply(resp, 200, p);
		json_object_put(b);
	}
	return rc;
}

/* DELETE /api/v1/projects/{id} → 204 | 404. The GitHub repository stays. */
int api_project_delete(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	rc = projects_delete(g_app.db, p, &req->err);
	if (!rc)
		resp_text(resp, 204, "text/plain", "");
	return rc;
}

/* ---------------------------------------------------------------- file versions (RFC 9110 §8.8.3, §13.1) */

/* 1 when the entity-tag list hdr ("a", W/"b", …) holds version v. If-Match compares strongly (a weak tag
 * never matches), If-None-Match weakly (§8.8.3.2). A tag without its quotes is taken as the same tag. */
static int etag_list_has(const char *hdr, const char *v, int weak_ok)
{
	size_t vl = strlen(v);
	for (const char *s = hdr; *s;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			break;
		int weak = 0;
		if ((s[0] == 'W' || s[0] == 'w') && s[1] == '/') {
			weak = 1;
			s += 2;
		}
		int quoted = *s == '"';
		const char *t = s + quoted, *end = t;
		while (*end && (quoted ? *end != '"' : (*end != ',' && *end != ' ' && *end != '\t')))
			end++;
		if ((size_t)(end - t) == vl && strncmp(t, v, vl) == 0 && (weak_ok || !weak))
			return 1;
		s = *end ? end + 1 : end;
	}
	return 0;
}

static int is_star(const char *h)
{
	while (*h == ' ' || *h == '\t')
		h++;
	if (*h != '*')
		return 0;
	for (h++; *h == ' ' || *h == '\t'; h++)
		;
	return *h == '\0';
}

struct file_cond {
	const char *if_match, *if_none_match;
};

/* project_file_ok_fn for If-Match / If-None-Match (RFC 9110 §13.1.1, §13.1.2; a PUT or DELETE). */
static int file_cond_ok(void *arg, const char *current)
{
	const struct file_cond *c = arg;
	if (c->if_match && (!current || (!is_star(c->if_match) && !etag_list_has(c->if_match, current, 0))))
		return 0;
	if (c->if_none_match && current && (is_star(c->if_none_match) || etag_list_has(c->if_none_match, current, 1)))
		return 0;
	return 1;
}

static void etag_header(struct request *req, struct response *resp, const char *version)
{
	if (version && *version)
		resp_header(resp, "ETag", arena_printf(req->arena, "\"%s\"", version));
}

/* 412 {"error":{"code":"precondition_failed","message","current_version"}} with the file's ETag. */
static void precondition_failed(struct request *req, struct response *resp, const char *current)
{
	struct json_object *o = json_object_new_object(), *inner = json_object_new_object();
	json_object_object_add(inner, "code", json_object_new_string("precondition_failed"));
	json_object_object_add(inner, "message", json_object_new_string(req->err.msg));
	json_object_object_add(inner, "current_version", current && *current ? json_object_new_string(current) : NULL);
	json_object_object_add(inner, "request_id", json_object_new_string(req->request_id));
	json_object_object_add(o, "error", inner);
	resp_json(resp, 412, o);
	json_object_put(o);
	etag_header(req, resp, current);
}

/* PUT /api/v1/projects/{id}/files/{path*} (raw bytes) → 201 new | 200 replaced, each with the new version
 * as ETag and "version" | 400 bad path | 413 too big | 404 | 409 a folder, a link (GitHub's, read-only,
 * or one in the folder) or a path through one | 412 If-Match names another version (or there is no file),
 * If-None-Match: * and there is a file: {"error":{"code":"precondition_failed","current_version"}} and
 * the current ETag. Without either header the file is written whatever is there (as before). */
int api_project_file_put(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *path = req_param(req, "path");
	char *old = NULL;
	size_t oldlen = 0;
	struct err ignore = { 0 };
	int existed = project_path_check(path, &ignore) == 0 &&
		      projects_file_get(&old, &oldlen, p, path, &ignore) == 0;
	free(old);
	struct file_cond cond = { req_header(req, "If-Match"), req_header(req, "If-None-Match") };
	char version[41] = "";
	rc = projects_file_put_if(g_app.db, p, req->user->user_id, path, req->body ? req->body : "", req->body_len,
				  cond.if_match || cond.if_none_match ? file_cond_ok : NULL, &cond, version, &req->err);
	if (rc == ERR_PRECONDITION) {
		precondition_failed(req, resp, version);
		rc = 0;
	}
	if (!rc && resp->status != 422 && resp->status != 412) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(path));
		json_object_object_add(o, "size", json_object_new_int64((long long)req->body_len));
		json_object_object_add(o, "version", json_object_new_string(version));
		resp_json(resp, existed ? 200 : 201, o);
		json_object_put(o);
		etag_header(req, resp, version);
	}
	return rc;
}

/* GET /api/v1/projects/{id}/files/{path*} → 200 raw bytes (a link from GitHub: its text) with the file's
 * version as a strong ETag (its git blob id) | 304 when If-None-Match holds it | 404 (also for a link, fifo
 * or device in the folder and any path through a link: never followed) */
int api_project_file_get(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	char *data = NULL;
	size_t len = 0;
	rc = projects_file_get(&data, &len, p, req_param(req, "path"), &req->err);
	if (!rc) {
		char version[41];
		git_blob_version(version, data, len);
		const char *inm = req_header(req, "If-None-Match");
		resp->content_type = "application/octet-stream";
		buf_reset(&resp->body);
		if (inm && (is_star(inm) || etag_list_has(inm, version, 1))) {
			resp->status = 304;
		} else {
			resp->status = 200;
			buf_append(&resp->body, data, len);
		}
		resp_header(resp, "X-Content-Type-Options", "nosniff");
		etag_header(req, resp, version);
		free(data);
	}
	return rc;
}

/* DELETE /api/v1/projects/{id}/files/{path*} → 204 | 404 (not a regular file, or through a link) | 409 a link
 * from GitHub (read-only) | 412 If-Match names another version, or there is no file (as PUT) */
int api_project_file_delete(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct file_cond cond = { req_header(req, "If-Match"), req_header(req, "If-None-Match") };
	char version[41] = "";
	rc = projects_file_delete_if(g_app.db, p, req->user->user_id, req_param(req, "path"),
				     cond.if_match || cond.if_none_match ? file_cond_ok : NULL, &cond, version, &req->err);
	if (rc == ERR_PRECONDITION) {
		precondition_failed(req, resp, version);
		return 0;
	}
	if (!rc)
		resp_text(resp, 204, "text/plain", "");
	return rc;
}

/* GET /api/v1/projects/{id}/files → 200 {"files":[{path,size,status,kind,version[,target]}]}: version is a
 * regular file's version (the ETag its GET answers with, without quotes), null for the rest; kind "symlink" with
 * status "synced" and its text in target is a link kept from GitHub (read-only); status "skipped" is a
 * link, fifo, socket or device put into the folder, never synced; lfs: under a Git LFS rule (.gitattributes
 * filter=lfs: its content is in Git LFS); status "left_out" with the reason in left_out ("too large: 60 MiB,
 * the limit is 50 MiB", Git LFS) is a file a sync leaves out */
int api_project_files(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct ws_file *f;
	int n;
	rc = projects_files(&f, &n, p, &req->err);
	if (!rc) {
		projects_files_versions(f, 0, n, p);
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		for (int i = 0; i < n; i++) {
			struct json_object *x = json_object_new_object();
			json_object_object_add(x, "path", json_object_new_string(f[i].path));
			json_object_object_add(x, "size", f[i].size >= 0 ? json_object_new_int64(f[i].size) : NULL);
			json_object_object_add(x, "status", json_object_new_string(f[i].status));
			json_object_object_add(x, "lfs", json_object_new_boolean(f[i].lfs));
			if (f[i].refused)
				json_object_object_add(x, "left_out", json_object_new_string(f[i].refused));
			json_object_object_add(x, "kind", json_object_new_string(f[i].kind));
			json_object_object_add(x, "version", f[i].version[0] ? json_object_new_string(f[i].version) : NULL);
			if (f[i].target)
				json_object_object_add(x, "target", json_object_new_string(f[i].target));
			json_object_array_add(a, x);
		}
		json_object_object_add(o, "files", a);
		resp_json(resp, 200, o);
		json_object_put(o);
		git_workspace_files_free(f, n);
	}
	return rc;
}

/* POST /api/v1/projects/{id}/repository {"mode","owner","name","private","description"}
 * → 202 {project…, "connection", "job_id"}: the connect job does the GitHub work; follow it with
 * GET /api/v1/projects/{id}/status (connection.state queued → running → done | failed, with error and
 * error_code) or GET /api/v1/jobs/{job_id}
 * | 400 bad input | 404 (another user's project too; nothing queued) | 409 already connected, a connect
 * under way, or github_reconnect */
int api_project_repo_connect(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct json_object *b = web_json_body(req, resp);
	if (!b) {
		return 0;
	}
	int bad = 0;
	struct json_object *pv = NULL;
	int priv = json_object_object_get_ex(b, "private", &pv) && json_object_get_boolean(pv);
	if (pv && !json_object_is_type(pv, json_type_boolean))
		bad = 1; /* "private": "no" is not false: json-c would read it as true */
	const char *mode = jget_str(b, "mode", &bad), *owner = jget_str(b, "owner", &bad), *name = jget_str(b, "name", &bad),
		   *desc = jget_str(b, "description", &bad);
	long long job = 0;
	if (bad)
		rc = err_set(&req->err, ERR_INVALID, "mode, owner, name and description are strings; private is true or false.");
	else
		rc = projects_connect(g_app.db, p, req->user->user_id, mode, owner, name, priv, desc, &job, &req->err);
	json_object_put(b);
	if (rc == ERR_UNAUTH) {
		render_json_error(req, resp, 409, "github_reconnect", req->err.msg);
		rc = 0;
	} else if (rc == ERR_CONFLICT && strcmp(req->err.field, "name") == 0) {
		render_json_error(req, resp, 409, "repository_in_use", req->err.msg); /* another project has it */
		rc = 0;
	} else if (!rc) {
		struct project q;
		if ((rc = projects_get(&q, g_app.db, req->user->user_id, p->id, &req->err)) == 0) {
			struct json_object *o = web_project_json(&q);
			json_object_object_add(o, "job_id", json_object_new_int64(job));
			resp_header(resp, "Location", arena_printf(req->arena, "/api/v1/jobs/%lld", job));
			resp_json(resp, 202, o);
			json_object_put(o);
			store_project_free(&q);
		}
	}
	return rc;
}

/* DELETE /api/v1/projects/{id}/repository → 204 (also calls off a connect under way) | 404. The repository
 * itself is kept. */
int api_project_repo_disconnect(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	rc = projects_disconnect(g_app.db, p, &req->err);
	if (!rc)
		resp_text(resp, 204, "text/plain", "");
	return rc;
}

/* PATCH /api/v1/projects/{id}/settings → 200 | 422 {"error":{…,"fields":{…}}} nothing saved | 404 */
int api_project_settings(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct json_object *b = web_json_body(req, resp);
	if (!b) {
		return 0;
	}
	struct project_settings s;
	projects_settings_of(&s, p);
	struct json_object *fe = json_object_new_object(), *v;
	struct buf ex = BUF_INIT;
	json_object_object_foreach(b, key, val) {
		v = val;
		if (strcmp(key, "auto_sync") == 0 || strcmp(key, "pull_enabled") == 0) {
			if (!json_object_is_type(v, json_type_boolean))
				json_object_object_add(fe, key, json_object_new_string("Must be true or false."));
			else if (key[0] == 'a')
				s.auto_sync = json_object_get_boolean(v);
			else
				s.pull_enabled = json_object_get_boolean(v);
		} else if (strcmp(key, "batch_minutes") == 0) {
			long long bm;
			int present;
			if (web_json_int(&bm, &present, req, b, key)) {
				json_object_object_add(fe, key, json_object_new_string(req->err.msg));
				err_clear(&req->err);
			} else if (present)
				s.batch_minutes = (int)bm;
		} else if (strcmp(key, "lfs_threshold_mib") == 0) {
			long long lm;
			int present;
			if (web_json_int(&lm, &present, req, b, key)) {
				json_object_object_add(fe, key, json_object_new_string(req->err.msg));
				err_clear(&req->err);
			} else if (present)
				s.lfs_threshold_mib = (int)lm;
		} else if (strcmp(key, "sync_branch") == 0 || strcmp(key, "commit_template") == 0) {
			if (!json_object_is_type(v, json_type_string))
				json_object_object_add(fe, key, json_object_new_string("Must be a string."));
			else if (key[0] == 's')
				s.sync_branch = json_object_get_string(v);
			else
				s.commit_template = json_object_get_string(v);
		} else if (strcmp(key, "exclude_patterns") == 0 || strcmp(key, "excludes") == 0) {
			if (json_object_is_type(v, json_type_string)) {
				s.excludes = json_object_get_string(v);
			} else if (json_object_is_type(v, json_type_array)) {
				for (size_t i = 0; i < json_object_array_length(v); i++) {
					struct json_object *x = json_object_array_get_idx(v, i);
					if (!json_object_is_type(x, json_type_string)) {
						json_object_object_add(fe, "exclude_patterns", json_object_new_string("Give a list of strings."));
						break;
					}
					buf_printf(&ex, "%s%s", i ? "\n" : "", json_object_get_string(x));
				}
				s.excludes = buf_cstr(&ex);
			} else {
				json_object_object_add(fe, "exclude_patterns", json_object_new_string("Give a string or a list of strings."));
			}
		} else {
			json_object_object_add(fe, key, json_object_new_string("Unknown setting."));
		}
	}
	struct json_object *fe2 = NULL;
	if (json_object_object_length(fe) == 0) {
		rc = projects_settings_update(g_app.db, p, &s, &fe2, &req->err);
	} else {
		/* Every field is told at once: the rest are checked as the service would (a field the
		 * boundary refused already keeps the boundary's words). */
		struct json_object *more = json_object_new_object();
		projects_settings_check(more, p, &s);
		json_object_object_foreach(more, mk, mv)
			if (!json_object_object_get_ex(fe, mk, NULL))
				json_object_object_add(fe, mk, json_object_get(mv));
		json_object_put(more);
		rc = err_set(&req->err, ERR_INVALID, "Some settings are not valid; nothing was saved.");
	}
	if (fe2) {
		json_object_put(fe);
		fe = fe2;
	}
	if (rc == ERR_INVALID) {
		struct json_object *o = json_object_new_object(), *in = json_object_new_object();
		json_object_object_add(in, "code", json_object_new_string("invalid"));
		json_object_object_add(in, "message", json_object_new_string(req->err.msg));
		json_object_object_add(in, "fields", json_object_get(fe));
		json_object_object_add(in, "request_id", json_object_new_string(req->request_id));
		json_object_object_add(o, "error", in);
		resp_json(resp, 422, o);
		json_object_put(o);
		rc = 0;
	} else if (!rc) {
		struct project q;
		if ((rc = projects_get(&q, g_app.db, req->user->user_id, p->id, &req->err)) == 0) {
			project_reply(resp, 200, &q);
			store_project_free(&q);
		}
	}
	json_object_put(fe);
	json_object_put(b);
	buf_free(&ex);
	return rc;
}

/* POST /api/v1/projects/{id}/sync (202 {"after_connect": true, "job_id": the connect's} while a connect is under way) → 202 {"job_id"} | 404 | 409 not connected */
int api_project_sync(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	long long job = 0;
	/* Right after a connect was accepted there is no repository yet: the connect job's initial sync, queued
	 * when it links, sends every file. Said so (202, with the connect's job), not "connect first". */
	if (!p->repo_owner && p->connect_state &&
	    (strcmp(p->connect_state, "queued") == 0 || strcmp(p->connect_state, "running") == 0)) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "job_id", json_object_new_int64(p->connect_job_id));
		json_object_object_add(o, "after_connect", json_object_new_boolean(1));
		json_object_object_add(o, "message", json_object_new_string(arena_printf(req->arena,
			"A connect to %s is under way; the sync that follows it sends this project's files. Follow it with "
			"GET /api/v1/projects/%lld/status.", p->connect_repo ? p->connect_repo : "GitHub", p->id)));
		resp_header(resp, "Location", arena_printf(req->arena, "/api/v1/jobs/%lld", p->connect_job_id));
		resp_json(resp, 202, o);
		json_object_put(o);
		return 0;
	}
	rc = projects_sync_enqueue(&job, g_app.db, p, "manual", 0, &req->err);
	if (!rc) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "job_id", json_object_new_int64(job));
		resp_json(resp, 202, o);
		json_object_put(o);
	}
	return rc;
}

/* GET /api/v1/projects/{id}/status → 200 {status, last_error, last_commit_sha, last_sync_at, progress, pending_changes,
 * repository, connection} */
int api_project_status(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	struct json_object *full = web_project_json(p), *o = json_object_new_object();
	static const char *keep[] = { "id", "status", "last_error", "last_commit_sha", "last_sync_at", "conflict_url",
				      "conflict_branch", "progress", "repository", "connection" };
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		struct json_object *v = NULL;
		json_object_object_get_ex(full, keep[i], &v);
		json_object_object_add(o, keep[i], json_object_get(v));
	}
	int pending;
	projects_pending(&pending, NULL, p, &req->err);
	json_object_object_add(o, "pending_changes", json_object_new_int(pending));
	/* When a queued (maybe batched) sync runs, ISO 8601 UTC; null when none waits. */
	double run_at = 0;
	struct err ne = { 0 };
	char when[32] = "";
	if (projects_next_sync(&run_at, g_app.db, p, &ne) == 0 && run_at > 0) {
		time_t t = (time_t)run_at;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	json_object_object_add(o, "next_sync_at", when[0] ? json_object_new_string(when) : NULL);
	/* Syncing held by an operator (page-admin.c): scope, who, since, reason, and the sentence to show. */
	json_object_object_add(o, "paused", web_pause_json(p->id));
	resp_json(resp, 200, o);
	json_object_put(o);
	json_object_put(full);
	return 0;
}

/* GET /api/v1/projects/{id}/history?limit=&before= → 200 {"history":[…], "next_before"} */
int api_project_history(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	long long limit, before;
	if ((rc = web_query_int(&limit, req, "limit", 20)) || (rc = web_query_int(&before, req, "before", 0))) {
		return rc;
	}
	struct sync_run *rows;
	int n;
	rc = store_sync_list(&rows, &n, g_app.db, p->id, (int)limit, before, &req->err);
	if (!rc) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		for (int i = 0; i < n; i++)
			json_object_array_add(a, web_sync_json(&rows[i], 1));
		json_object_object_add(o, "history", a);
		json_object_object_add(o, "next_before", n == limit ? json_object_new_int64(rows[n - 1].id) : NULL);
		resp_json(resp, 200, o);
		json_object_put(o);
		store_syncs_free(rows, n);
	}
	return rc;
}

struct json_object *web_ghrepo_json(const struct ghrepo *r)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "full_name", json_object_new_string(r->full_name));
	json_object_object_add(o, "owner", json_object_new_string(r->owner));
	json_object_object_add(o, "name", json_object_new_string(r->name));
	json_object_object_add(o, "private", json_object_new_boolean(r->private_));
	json_object_object_add(o, "description", jstr_or_null(r->description));
	json_object_object_add(o, "default_branch", jstr_or_null(r->default_branch));
	json_object_object_add(o, "html_url", jstr_or_null(r->html_url));
	return o;
}

/* 1 when the page parameter is missing (1) or a whole number; *page gets it. */
int web_page_param(int *page, const char *s)
{
	long long v = 1;
	if (s && *s && http_num_parse(&v, s, 1, 1000))
		return 0;
	*page = (int)v;
	return 1;
}

static void repos_page_json(struct json_object *o, const struct ghrepos_page *pg, const char *q)
{
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < pg->n; i++)
		json_object_array_add(a, web_ghrepo_json(&pg->items[i]));
	json_object_object_add(o, "state", json_object_new_string(pg->state));
	json_object_object_add(o, "refreshed_at", jstr_or_null(pg->refreshed_at));
	json_object_object_add(o, "age_seconds", pg->age_seconds >= 0 ? json_object_new_int64(pg->age_seconds) : NULL);
	json_object_object_add(o, "error", jstr_or_null(pg->error));
	json_object_object_add(o, "error_code", jstr_or_null(pg->error_code));
	json_object_object_add(o, "job_id", pg->job_id ? json_object_new_int64(pg->job_id) : NULL);
	json_object_object_add(o, "repositories", a);
	json_object_object_add(o, "q", json_object_new_string(q ? q : ""));
	json_object_object_add(o, "page", json_object_new_int(pg->page));
	json_object_object_add(o, "per_page", json_object_new_int(GHREPOS_PER_PAGE));
	json_object_object_add(o, "next_page", pg->has_next ? json_object_new_int(pg->page + 1) : NULL);
	json_object_object_add(o, "truncated", json_object_new_boolean(pg->truncated));
}

/* GET /api/v1/github/repos?q=&page= → the cached list of the user's repositories with push access; GitHub
 * is never called here. 200 {"state": ready | refreshing (stale: a refresh job is under way) | failed,
 * "refreshed_at", "age_seconds", "error", "repositories":[…], "page", "per_page", "next_page", "truncated"}
 * | 202 (same shape, state "refreshing", no repositories): never read yet, a refresh job is queued; ask again
 * | 400 bad page or q | 409 github_reconnect, 429 github_rate_limited, 502 github_unavailable: the list was
 * never read and its refresh failed */
int api_github_repos(struct request *req, struct response *resp)
{
	if (web_lacks_scope(req, resp, "projects:read"))
		return 0;
	int page;
	if (!web_page_param(&page, req_query(req, "page")))
		return err_set(&req->err, ERR_INVALID, "page is a whole number from 1 to 1000.");
	struct ghrepos_page pg;
	const char *q = req_query(req, "q");
	int rc = ghrepos_list(&pg, g_app.db, req->user->user_id, q, page, &req->err);
	if (rc)
		return rc;
	if (pg.never_read && strcmp(pg.state, "failed") == 0) {
		const char *code = pg.error_code ? pg.error_code : "github_unavailable";
		int st = strcmp(code, "github_reconnect") == 0 ? 409 : strcmp(code, "rate_limited") == 0 ? 429 : 502;
		render_json_error(req, resp, st, st == 429 ? "github_rate_limited" : st == 409 ? code : "github_unavailable",
				  pg.error ? pg.error : "Reading your repositories from GitHub failed.");
		ghrepos_page_free(&pg);
		return 0;
	}
	struct json_object *o = json_object_new_object();
	repos_page_json(o, &pg, q);
	resp_json(resp, pg.never_read ? 202 : 200, o);
	json_object_put(o);
	ghrepos_page_free(&pg);
	return 0;
}

/* POST /api/v1/github/repos/refresh → 202 {"state":"refreshing","job_id"}: the list is read from GitHub again */
int api_github_repos_refresh(struct request *req, struct response *resp)
{
	if (web_lacks_scope(req, resp, "projects:read"))
		return 0;
	long long job = 0;
	int rc = ghrepos_refresh(&job, g_app.db, req->user->user_id, &req->err);
	if (rc)
		return rc;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "state", json_object_new_string("refreshing"));
	json_object_object_add(o, "job_id", job ? json_object_new_int64(job) : NULL);
	resp_json(resp, 202, o);
	json_object_put(o);
	return 0;
}
