/* api-pulls.c: the JSON API for a project's pull requests and branches (scope "pulls"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "service/auth.h"
#include "service/pulls.h"
#include "service/webhooks.h"
#include "web/app.h"
#include "web/fields.h"

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *web_pull_json(const struct pull *pr)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "number", json_object_new_int(pr->number));
	json_object_object_add(o, "title", json_object_new_string(pr->title ? pr->title : ""));
	json_object_object_add(o, "body", json_object_new_string(pr->body ? pr->body : ""));
	json_object_object_add(o, "state", json_object_new_string(pr->state ? pr->state : ""));
	json_object_object_add(o, "draft", json_object_new_boolean(pr->draft));
	json_object_object_add(o, "head", jstr_or_null(pr->head_ref));
	json_object_object_add(o, "head_sha", jstr_or_null(pr->head_sha));
	json_object_object_add(o, "base", jstr_or_null(pr->base_ref));
	json_object_object_add(o, "author", jstr_or_null(pr->author));
	json_object_object_add(o, "html_url", jstr_or_null(pr->html_url));
	json_object_object_add(o, "mergeable", pr->mergeable < 0 ? NULL : json_object_new_boolean(pr->mergeable));
	json_object_object_add(o, "mergeable_state", jstr_or_null(pr->mergeable_state));
	json_object_object_add(o, "merged_by", jstr_or_null(pr->merged_by));
	json_object_object_add(o, "merge_commit_sha", jstr_or_null(pr->merge_commit_sha));
	json_object_object_add(o, "additions", json_object_new_int(pr->additions));
	json_object_object_add(o, "deletions", json_object_new_int(pr->deletions));
	json_object_object_add(o, "changed_files", json_object_new_int(pr->changed_files));
	json_object_object_add(o, "commits", json_object_new_int(pr->commits));
	struct json_object *c = json_object_new_object(), *items = pr->checks ? json_tokener_parse(pr->checks) : NULL;
	json_object_object_add(c, "state", pr->checks_state && *pr->checks_state ? json_object_new_string(pr->checks_state)
										  : NULL);
	json_object_object_add(c, "items", items ? items : json_object_new_array());
	json_object_object_add(o, "checks", c);
	json_object_object_add(o, "created_at", jstr_or_null(pr->gh_created_at));
	json_object_object_add(o, "updated_at", jstr_or_null(pr->gh_updated_at));
	json_object_object_add(o, "closed_at", jstr_or_null(pr->closed_at));
	json_object_object_add(o, "merged_at", jstr_or_null(pr->merged_at));
	json_object_object_add(o, "refreshed_at", jstr_or_null(pr->refreshed_at));
	json_object_object_add(o, "refreshed_seconds_ago", json_object_new_int64(pr->refreshed_age));
	if (pr->files) {
		struct json_object *f = json_tokener_parse(pr->files);
		json_object_object_add(o, "files", f ? f : json_object_new_array());
	}
	return o;
}

/* 1 (answered 403) when an API key lacks the scope; sessions have them all. */
/* 404 for missing projects and other people's alike. */
/* A service failure as JSON: GitHub's refusals keep their words; "why" names them for programs. */
static int fail(struct request *req, struct response *resp, const char *why)
{
	int status;
	const char *code;
	switch (req->err.code) {
	case ERR_NOTFOUND: status = 404; code = "not_found"; break;
	case ERR_INVALID: status = 422; code = "invalid"; break;
	case ERR_CONFLICT: status = 409; code = "conflict"; break;
	case ERR_FORBIDDEN: status = 403; code = "forbidden"; break;
	/* GitHub refused the user's token: not this request's credentials, so not a 401. */
	case ERR_UNAUTH: status = 403; code = "github_unauthorized"; break;
	case ERR_RATELIMIT: status = 429; code = "github_rate_limited"; break;
	case ERR_TIMEOUT: status = 504; code = "github_timeout"; break;
	case ERR_FAIL:
		if (strstr(req->err.msg, "GitHub")) {
			status = 502;
			code = "github_error";
			break;
		}
		/* fall through */
	default:
		render_err(req, resp);
		return 0;
	}
	render_json_error(req, resp, status, why ? why : code, req->err.msg);
	return 0;
}

static const char *bstr(struct json_object *b, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(b, k, &v) && v && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

static int bbool(struct json_object *b, const char *k, int def)
{
	struct json_object *v;
	return json_object_object_get_ex(b, k, &v) && v ? json_object_get_boolean(v) : def;
}

static void pull_reply(struct response *resp, int status, const struct pull *pr)
{
	struct json_object *o = web_pull_json(pr);
	resp_json(resp, status, o);
	json_object_put(o);
}

/* GET /api/v1/projects/{id}/pulls?state=open|closed|merged|all&head=&limit=&offset=&refresh=1 → 200 | 422 | 404 */
int api_pulls_list(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *refresh = req_query(req, "refresh");
	long long limit, offset;
	struct pull *rows = NULL;
	int n = 0;
	if ((rc = web_query_int(&limit, req, "limit", 30)) || (rc = web_query_int(&offset, req, "offset", 0)) ||
	    (rc = pulls_list(&rows, &n, g_app.db, p, req_query(req, "state"), req_query(req, "head"), (int)limit,
			     (int)offset, &req->err))) {
		return rc == ERR_INVALID ? fail(req, resp, NULL) : rc;
	}
	long long age = -1, job = 0;
	struct err e2 = { 0 };
	int stale = pulls_list_stale(g_app.db, p, &age, &e2);
	/* Reading never waits for GitHub: a stale list is refreshed by a job, conditionally. */
	if ((stale || (refresh && strcmp(refresh, "1") == 0)) && p->repo_owner)
		pulls_refresh_enqueue(&job, g_app.db, p, 0, &e2);
	webhooks_ensure(g_app.db, p);
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(a, web_pull_json(&rows[i]));
	json_object_object_add(o, "pulls", a);
	json_object_object_add(o, "refreshed_seconds_ago", age >= 0 ? json_object_new_int64(age) : NULL);
	json_object_object_add(o, "refresh_job_id", job ? json_object_new_int64(job) : NULL);
	struct webhook w;
	if (webhooks_status(&w, g_app.db, p, &e2) == 0) {
		struct json_object *h = json_object_new_object();
		json_object_object_add(h, "status", json_object_new_string(w.status));
		json_object_object_add(h, "hook_id", w.hook_id ? json_object_new_int64(w.hook_id) : NULL);
		json_object_object_add(h, "last_error", jstr_or_null(w.last_error));
		json_object_object_add(h, "last_delivery_at", jstr_or_null(w.last_delivery_at));
		json_object_object_add(o, "webhook", h);
		store_webhook_free(&w);
	} else {
		json_object_object_add(o, "webhook", NULL);
	}
	resp_json(resp, 200, o);
	json_object_put(o);
	store_pulls_free(rows, n);
	return 0;
}

/* POST /api/v1/projects/{id}/pulls {"title","body","base","draft", "head" | "from":"changes" (+ "head": new branch)}
 * → 201 created | 200 the open pull request for that head | 202 {"job_id","head"} from changes (a job)
 * | 422 {"error":{…,"fields":{…}}} | 409 | 404 */
int api_pulls_create(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct json_object *b = web_json_body(req, resp);
	static const char *const names[] = { "title", "body", "base", "head", "from", "draft", NULL };
	if (!b || web_json_fields_ok(req, resp, b, names, "sssssb")) {
		json_object_put(b);
		return 0;
	}
	const char *from = bstr(b, "from");
	if (from && strcmp(from, "changes") != 0) {
		render_json_error(req, resp, 422, "invalid", "\"from\" is \"changes\" (the project's pending changes), or leave it out and name an existing \"head\" branch.");
		json_object_put(b);
		return 0;
	}
	struct pull_new in = { .title = bstr(b, "title"), .body = bstr(b, "body"), .base = bstr(b, "base"),
			       .head = bstr(b, "head"), .from_changes = from != NULL, .draft = bbool(b, "draft", 0) };
	struct pull pr;
	struct json_object *fe = NULL;
	int created = 0;
	long long job = 0;
	rc = pulls_create(&pr, &created, &job, &fe, g_app.db, p, req->user->user_id, &in, &req->err);
	if (rc == ERR_INVALID && fe) {
		struct json_object *o = json_object_new_object(), *inner = json_object_new_object();
		json_object_object_add(inner, "code", json_object_new_string("invalid"));
		json_object_object_add(inner, "message", json_object_new_string(req->err.msg));
		json_object_object_add(inner, "request_id", json_object_new_string(req->request_id));
		json_object_object_add(inner, "fields", fe);
		json_object_object_add(o, "error", inner);
		resp_json(resp, 422, o);
		json_object_put(o);
	} else if (rc) {
		fail(req, resp, NULL);
	} else if (job) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "status", json_object_new_string("queued"));
		json_object_object_add(o, "job_id", json_object_new_int64(job));
		json_object_object_add(o, "head", json_object_new_string(pr.head_ref));
		json_object_object_add(o, "base", json_object_new_string(pr.base_ref));
		resp_header(resp, "Location", arena_printf(req->arena, "/api/v1/jobs/%lld", job));
		resp_json(resp, 202, o);
		json_object_put(o);
	} else {
		resp_header(resp, "Location", arena_printf(req->arena, "/api/v1/projects/%lld/pulls/%d", p->id, pr.number));
		pull_reply(resp, created ? 201 : 200, &pr);
	}
	store_pull_free(&pr);
	json_object_put(b);
	return 0;
}

/* GET /api/v1/projects/{id}/pulls/{number}?refresh=0|1&files=1 → 200 | 404. Refreshed from GitHub
 * (conditionally) when older than the refresh interval, or always with refresh=1. */
int api_pull_get(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *refresh = req_query(req, "refresh"), *files = req_query(req, "files");
	int mode = !refresh ? PULLS_IF_STALE : strcmp(refresh, "1") == 0 ? PULLS_NOW : PULLS_STORED;
	struct pull pr;
	int stale = 0;
	rc = pulls_get(&pr, &stale, g_app.db, p, web_number_param(req), mode, &req->err);
	if (rc) {
		return fail(req, resp, NULL);
	}
	struct err e2 = { 0 };
	if (files && strcmp(files, "1") == 0 && pulls_files(&pr, g_app.db, p, &e2))
		stale = 1;
	struct json_object *o = web_pull_json(&pr);
	json_object_object_add(o, "stale", json_object_new_boolean(stale));
	resp_json(resp, 200, o);
	json_object_put(o);
	store_pull_free(&pr);
	return 0;
}

/* PATCH /api/v1/projects/{id}/pulls/{number} {"title","body","state":"open"|"closed","draft":false}
 * → 200 | 422 | 409 | 403 | 404 */
int api_pull_patch(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct json_object *b = web_json_body(req, resp), *dv = NULL;
	static const char *const names[] = { "title", "body", "state", "draft", NULL };
	if (!b || web_json_fields_ok(req, resp, b, names, "sssb")) {
		json_object_put(b);
		return 0;
	}
	int ready = 0;
	if (json_object_object_get_ex(b, "draft", &dv) && dv) {
		if (json_object_get_boolean(dv)) {
			render_json_error(req, resp, 422, "invalid", "A pull request can be marked ready for review (\"draft\": false), not turned back into a draft here.");
			json_object_put(b);
			return 0;
		}
		ready = 1;
	}
	struct pull pr;
	struct pull_outcome o;
	rc = pulls_update(&pr, &o, g_app.db, p, req->user->user_id, web_number_param(req), bstr(b, "title"), bstr(b, "body"),
			  bstr(b, "state"), ready, &req->err);
	if (rc)
		fail(req, resp, o.why);
	else
		pull_reply(resp, 200, &pr);
	store_pull_free(&pr);
	json_object_put(b);
	return 0;
}

/* POST /api/v1/projects/{id}/pulls/{number}/merge {"method":"merge"|"squash"|"rebase","sha","delete_branch"}
 * → 200 {"merged":true,"pull":…,"note"} | 409 not_mergeable / draft / head_moved / not_open | 422 method_not_allowed | 403 | 404 */
int api_pull_merge(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct json_object *b = web_json_body(req, resp);
	static const char *const names[] = { "method", "sha", "delete_branch", NULL };
	if (!b || web_json_fields_ok(req, resp, b, names, "ssb")) {
		json_object_put(b);
		return 0;
	}
	struct pull pr;
	struct pull_outcome o;
	rc = pulls_merge(&pr, &o, g_app.db, p, req->user->user_id, web_number_param(req), bstr(b, "method"), bstr(b, "sha"),
			 bbool(b, "delete_branch", 0), &req->err);
	if (rc) {
		fail(req, resp, o.why);
	} else {
		struct json_object *out = json_object_new_object();
		json_object_object_add(out, "merged", json_object_new_boolean(1));
		json_object_object_add(out, "pull", web_pull_json(&pr));
		json_object_object_add(out, "note", o.note[0] ? json_object_new_string(o.note) : NULL);
		resp_json(resp, 200, out);
		json_object_put(out);
	}
	store_pull_free(&pr);
	json_object_put(b);
	return 0;
}

/* GET /api/v1/projects/{id}/branches → 200 {"branches":[…]} | 404 */
int api_branches_list(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct branch_info *rows;
	int n;
	if ((rc = branches_list(&rows, &n, g_app.db, p, &req->err))) {
		return fail(req, resp, NULL);
	}
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "name", json_object_new_string(rows[i].name));
		json_object_object_add(x, "sha", json_object_new_string(rows[i].sha));
		json_object_object_add(x, "protected", json_object_new_boolean(rows[i].protected_));
		json_object_object_add(x, "default", json_object_new_boolean(rows[i].is_default));
		json_object_object_add(x, "sync", json_object_new_boolean(rows[i].is_sync));
		json_object_object_add(x, "open_pull", rows[i].open_pull ? json_object_new_int(rows[i].open_pull) : NULL);
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "branches", a);
	resp_json(resp, 200, o);
	json_object_put(o);
	branches_free(rows, n);
	return 0;
}

/* POST /api/v1/projects/{id}/branches {"name","from"} → 201 | 422 (with "suggestion") | 409 exists | 404 */
int api_branch_create(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct json_object *b = web_json_body(req, resp);
	static const char *const names[] = { "name", "from", NULL };
	if (!b || web_json_fields_ok(req, resp, b, names, "ss")) {
		json_object_put(b);
		return 0;
	}
	const char *name = bstr(b, "name");
	char suggest[BRANCH_NAME_MAX + 1];
	if (branches_name_check(suggest, sizeof suggest, name, &req->err)) {
		struct json_object *o = json_object_new_object(), *inner = json_object_new_object();
		json_object_object_add(inner, "code", json_object_new_string("invalid"));
		json_object_object_add(inner, "message", json_object_new_string(req->err.msg));
		json_object_object_add(inner, "request_id", json_object_new_string(req->request_id));
		json_object_object_add(inner, "suggestion", json_object_new_string(suggest));
		json_object_object_add(o, "error", inner);
		resp_json(resp, 422, o);
		json_object_put(o);
	} else if ((rc = branches_create(g_app.db, p, req->user->user_id, name, bstr(b, "from"), &req->err))) {
		fail(req, resp, NULL);
	} else {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		resp_json(resp, 201, o);
		json_object_put(o);
	}
	json_object_put(b);
	return 0;
}

/* DELETE /api/v1/projects/{id}/branches/{name*} → 204 | 409 sync/default/open head | 404 */
int api_branch_delete(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	if (branches_delete(g_app.db, p, req->user->user_id, req_param(req, "name"), &req->err))
		fail(req, resp, NULL);
	else
		resp_text(resp, 204, "text/plain", "");
	return 0;
}
