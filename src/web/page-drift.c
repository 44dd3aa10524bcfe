/* page-drift.c: the Members tab's GitHub side beyond members: the drift check's settings ("members are
 * authoritative"), "Remove from GitHub", and the log of collaborator calls with retry, as pages and API. Every
 * handler is a PROJ row (routes.c): the dispatcher has checked the caller's role and scope. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "service/drift.h"
#include "service/members.h"
#include "store/projects.h"
#include "web/app.h"
#include "web/fields.h"

static struct json_object *js(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *op_json(const struct member_op *o)
{
	struct json_object *x = json_object_new_object();
	json_object_object_add(x, "id", json_object_new_int64(o->id));
	json_object_object_add(x, "login", js(o->login));
	json_object_object_add(x, "action", js(o->action));
	json_object_object_add(x, "request", js(o->request));
	json_object_object_add(x, "state", js(o->state));
	json_object_object_add(x, "failed", json_object_new_boolean(strcmp(o->state, "failed") == 0));
	json_object_object_add(x, "http_status", o->http_status ? json_object_new_int(o->http_status) : NULL);
	json_object_object_add(x, "answer", js(o->answer));
	json_object_object_add(x, "attempts", json_object_new_int(o->attempts));
	json_object_object_add(x, "job_id", json_object_new_int64(o->job_id));
	json_object_object_add(x, "unaccounted", json_object_new_boolean(o->unaccounted));
	json_object_object_add(x, "created_at", js(o->created_at));
	json_object_object_add(x, "updated_at", js(o->updated_at));
	return x;
}

/* {authoritative, interval_seconds, checked_at, next_check_at, last_result} of the project. */
static struct json_object *settings_json(long long project_id, struct err *e)
{
	int on = 0;
	struct drift_state s;
	if (members_authoritative(&on, g_app.db, project_id, e))
		return NULL;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "authoritative", json_object_new_boolean(on));
	json_object_object_add(o, "interval_seconds", json_object_new_int64(members_drift_interval()));
	if (store_drift_state_get(&s, g_app.db, project_id, e) == 0) {
		json_object_object_add(o, "checked_at", js(s.checked_at));
		json_object_object_add(o, "next_check_at", js(s.next_at));
		json_object_object_add(o, "last_result", js(s.last_result));
	}
	err_clear(e);
	store_drift_state_free(&s);
	return o;
}

/* Adds "collaborator_settings", "ops" (newest first) and "failed_ops" (a count) to the Members context. */
int drift_ctx_add(struct request *req, struct json_object *ctx, long long project_id);
int drift_ctx_add(struct request *req, struct json_object *ctx, long long project_id)
{
	struct member_op *ops;
	int n, failed = 0;
	struct json_object *s = settings_json(project_id, &req->err);
	if (!s)
		return -1;
	if (members_ops_list(&ops, &n, g_app.db, project_id, 0, &req->err)) {
		json_object_put(s);
		return -1;
	}
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < n; i++) {
		json_object_array_add(a, op_json(&ops[i]));
		failed += strcmp(ops[i].state, "failed") == 0;
	}
	store_member_ops_free(ops, n);
	json_object_object_add(ctx, "collaborator_settings", s);
	json_object_object_add(ctx, "ops", a);
	json_object_object_add(ctx, "failed_ops", json_object_new_int(failed));
	return 0;
}

/* ---- API */

/* GET /api/v1/projects/{id}/collaborator-ops[?failed=1] → 200 {ops: [...] newest first, at most 100} | 404 | 403 */
int api_collaborator_ops(struct request *req, struct response *resp, const struct call *c)
{
	struct member_op *ops;
	int n;
	const char *f = req_query(req, "failed");
	if (members_ops_list(&ops, &n, g_app.db, c->project->id, f && strcmp(f, "1") == 0, &req->err))
		return -1;
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(a, op_json(&ops[i]));
	store_member_ops_free(ops, n);
	json_object_object_add(o, "ops", a);
	resp_json(resp, 200, o);
	return 0;
}

/* POST /api/v1/projects/{id}/collaborator-ops/retry → 202 {retried: n} (every failed call asked again) | 404 | 403 */
int api_collaborator_ops_retry(struct request *req, struct response *resp, const struct call *c)
{
	int n = 0;
	if (members_ops_retry_failed(&n, g_app.db, c->project->id, &req->err))
		return -1;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "retried", json_object_new_int(n));
	resp_json(resp, 202, o);
	return 0;
}

/* POST /api/v1/projects/{id}/collaborator-ops/{op}/retry → 202 {job_id} | 404 | 409 (not failed) | 403 */
int api_collaborator_op_retry(struct request *req, struct response *resp, const struct call *c)
{
	long long op, job = 0;
	if (web_id_param(&op, req, "op"))
		return -1;
	if (members_op_retry(&job, g_app.db, c->project->id, op, &req->err))
		return -1;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "job_id", json_object_new_int64(job));
	resp_json(resp, 202, o);
	return 0;
}

/* GET /api/v1/projects/{id}/collaborator-settings → 200 {authoritative, interval_seconds, checked_at, …} */
int api_collaborator_settings(struct request *req, struct response *resp, const struct call *c)
{
	struct json_object *s = settings_json(c->project->id, &req->err);
	if (!s)
		return -1;
	resp_json(resp, 200, s);
	return 0;
}

/* PATCH /api/v1/projects/{id}/collaborator-settings {authoritative: bool, confirm: true when turning it on}
 * → 200 {settings} | 400 (field authoritative or confirm) | 404 | 403 (owner; scope projects:write) */
int api_collaborator_settings_patch(struct request *req, struct response *resp, const struct call *c)
{
	struct json_object *b = web_json_body(req, resp), *v, *cf;
	if (!b)
		return 0;
	int rc;
	if (!json_object_object_get_ex(b, "authoritative", &v) || !json_object_is_type(v, json_type_boolean))
		rc = err_set_field(&req->err, ERR_INVALID, "authoritative", "authoritative is true or false.");
	else if (json_object_object_get_ex(b, "confirm", &cf) && !json_object_is_type(cf, json_type_boolean))
		rc = err_set_field(&req->err, ERR_INVALID, "confirm", "confirm is true or false.");
	else
		rc = members_set_authoritative(g_app.db, c->project->id, json_object_get_boolean(v),
					       json_object_object_get_ex(b, "confirm", &cf) && json_object_get_boolean(cf),
					       &req->err);
	json_object_put(b);
	if (rc)
		return rc;
	return api_collaborator_settings(req, resp, c);
}

/* POST /api/v1/projects/{id}/drift/{login}/remove → 202 {job_id} ("Remove from GitHub": a direct collaborator
 * or an invitation the last check found no member accounts for) | 404 | 409 (a member now) | 403 */
int api_drift_remove(struct request *req, struct response *resp, const struct call *c)
{
	long long job = 0;
	if (members_drift_remove(&job, g_app.db, c->project->id, req_param(req, "login"), &req->err))
		return -1;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "job_id", json_object_new_int64(job));
	resp_json(resp, 202, o);
	return 0;
}

/* ---- the panel */

static int back(struct request *req, struct response *resp, const struct call *c, const char *done)
{
	resp_redirect(resp, 303, arena_printf(req->arena, "/projects/%lld/members?done=%s", c->project->id, done));
	return 0;
}

int page_members_refused(struct request *req, struct response *resp, const struct call *c, int status,
			 const char *msg);

/* An expected refusal goes back to the Members tab with the message at the top, anything else an error page. */
static int refused(struct request *req, struct response *resp, const struct call *c)
{
	int code = req->err.code;
	if (code != ERR_INVALID && code != ERR_CONFLICT && code != ERR_NOTFOUND)
		return code;
	const char *msg = arena_strdup(req->arena, req->err.msg);
	err_clear(&req->err);
	return page_members_refused(req, resp, c, code == ERR_CONFLICT ? 409 : code == ERR_NOTFOUND ? 404 : 422, msg);
}

/* POST /projects/{id}/collaborator-settings (authoritative=on|off, confirm) → 200 confirm page (turning it on) |
 * 303 | 422 (neither on nor off) */
int page_collaborator_settings(struct request *req, struct response *resp, const struct call *c)
{
	const char *v = req_form(req, "authoritative");
	int on = v && strcmp(v, "on") == 0;
	if (!v || (!on && strcmp(v, "off") != 0)) {
		err_set_field(&req->err, ERR_INVALID, "authoritative", "Choose on or off.");
		return refused(req, resp, c);
	}
	if (on && !web_confirmed(req)) {
		render_confirm(req, resp, arena_printf(req->arena, "Make the members of %s authoritative?", c->project->name),
			       "From now on every drift check removes from GitHub each collaborator and pending invitation "
			       "that no member of this project accounts for, including people ghbridge did not add.",
			       "The repository's owner is never removed, and neither is access that comes from the "
			       "organisation (its owners, its base permission, its teams): change those in the organisation's "
			       "settings on GitHub.",
			       "Make members authoritative", arena_printf(req->arena, "/projects/%lld/members", c->project->id));
		return 0;
	}
	if (members_set_authoritative(g_app.db, c->project->id, on, on, &req->err))
		return refused(req, resp, c);
	return back(req, resp, c, on ? "authoritative-on" : "authoritative-off");
}

/* POST /projects/{id}/collaborator-ops/retry (op: an id, or 0 / absent for every failed call) → 303 | 404 | 409 */
int page_collaborator_ops_retry(struct request *req, struct response *resp, const struct call *c)
{
	long long op = 0, job;
	int n;
	if (web_form_int(&op, req, "op", 0))
		return refused(req, resp, c);
	int rc = op ? members_op_retry(&job, g_app.db, c->project->id, op, &req->err)
		    : members_ops_retry_failed(&n, g_app.db, c->project->id, &req->err);
	if (rc)
		return refused(req, resp, c);
	return back(req, resp, c, "retried");
}

/* POST /projects/{id}/drift/remove (login, confirm) → 200 confirm page | 303 | 404 | 409 */
int page_drift_remove(struct request *req, struct response *resp, const struct call *c)
{
	const char *login = req_form(req, "login");
	long long job;
	if (!web_confirmed(req) && login && *login) {
		render_confirm(req, resp, arena_printf(req->arena, "Remove %s from %s on GitHub?", login,
						       c->project->repo_name ? c->project->repo_name : c->project->name),
			       arena_printf(req->arena, "%s loses their access to the repository (or their pending "
					    "invitation) on GitHub. They are not a member of this project.", login),
			       "Access that comes from the organisation (its owners, base permission or teams) stays.",
			       "Remove from GitHub", arena_printf(req->arena, "/projects/%lld/members", c->project->id));
		return 0;
	}
	if (members_drift_remove(&job, g_app.db, c->project->id, login ? login : "", &req->err))
		return refused(req, resp, c);
	return back(req, resp, c, "github-removed");
}
