/* page-members.c: the Members tab and /api/v1/projects/{id}/members: list, invite, role, remove, transfer,
 * sync to GitHub, drift. Every handler is a ROUTE_PROJECT row (routes.c): the dispatcher has loaded the
 * project and checked the caller's role and scope before any of these runs. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "service/auth.h"
#include "service/members.h"
#include "store/projects.h"
#include "web/app.h"

static struct json_object *js(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *member_json(const struct member *m)
{
	struct json_object *o = json_object_new_object(), *g = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(m->id));
	json_object_object_add(o, "login", js(m->login));
	json_object_object_add(o, "github_user_id", m->github_user_id ? json_object_new_int64(m->github_user_id) : NULL);
	json_object_object_add(o, "role", js(m->role));
	json_object_object_add(o, "state", js(m->state));
	/* The state in words, as the tab shows it: an invitation whose login GitHub does not know (the lookup's 404)
	 * never becomes active, and says so instead of waiting for a sign-in that cannot come. */
	int active = m->state && strcmp(m->state, "active") == 0;
	char words[96];
	snprintf(words, sizeof words, "no GitHub user named %s", m->login ? m->login : "");
	json_object_object_add(o, "state_text", js(active ? "active" : m->no_github_user ? words
								      : "invited: active when they first sign in"));
	json_object_object_add(o, "github_user_missing", json_object_new_boolean(m->no_github_user));
	json_object_object_add(o, "signed_in", json_object_new_boolean(m->user_id != 0));
	json_object_object_add(o, "lookup_error", js(m->lookup_error));
	json_object_object_add(o, "created_at", js(m->created_at));
	json_object_object_add(g, "state", js(m->gh_state));
	json_object_object_add(g, "permission", js(m->gh_permission));
	json_object_object_add(g, "invitation_id", m->gh_invitation_id ? json_object_new_int64(m->gh_invitation_id) : NULL);
	json_object_object_add(g, "added_by_ghbridge", json_object_new_boolean(m->gh_added));
	/* organisation (026): GitHub refused the role's permission below the organisation's base permission; the
	 * member has access through the organisation. Not a failure: GitHub's words are a note, not an error. */
	int org = m->gh_state && strcmp(m->gh_state, "organisation") == 0;
	json_object_object_add(g, "error", js(org ? NULL : m->gh_error));
	json_object_object_add(g, "note", js(org ? m->gh_error : NULL));
	json_object_object_add(g, "through_organisation", json_object_new_boolean(org));
	json_object_object_add(g, "failed", json_object_new_boolean(m->gh_state && strcmp(m->gh_state, "error") == 0));
	json_object_object_add(g, "attempts", json_object_new_int(m->gh_attempts));
	json_object_object_add(g, "updated_at", js(m->gh_updated_at));
	/* Invitations followed (019): when the last one expired, how often ghbridge sent it again, and until when
	 * GitHub's 50-a-day limit holds this one back. */
	json_object_object_add(g, "expired_at", js(m->gh_expired_at));
	json_object_object_add(g, "reinvites", json_object_new_int(m->gh_reinvites));
	json_object_object_add(g, "deferred_until", js(m->gh_state && strcmp(m->gh_state, "deferred") == 0 ? m->gh_deferred_until : NULL));
	json_object_object_add(g, "can_retry", json_object_new_boolean(m->gh_state && (strcmp(m->gh_state, "error") == 0 ||
		strcmp(m->gh_state, "deferred") == 0 || (strcmp(m->gh_state, "expired") == 0 && m->gh_reinvites > 0))));
	json_object_object_add(o, "github", g);
	return o;
}

int drift_ctx_add(struct request *req, struct json_object *ctx, long long project_id);

static struct json_object *drift_json(const struct member_drift *d)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "login", js(d->login));
	json_object_object_add(o, "github_user_id", d->github_user_id ? json_object_new_int64(d->github_user_id) : NULL);
	json_object_object_add(o, "kind", js(d->kind));
	json_object_object_add(o, "detail", js(d->detail));
	json_object_object_add(o, "checked_at", js(d->checked_at));
	json_object_object_add(o, "stranger", json_object_new_boolean(strcmp(d->kind, "not_member") == 0 ||
									strcmp(d->kind, "invitation_not_member") == 0));
	/* page-drift.c's part: what GitHub named the access, whether "Remove from GitHub" can take it away. */
	const char *r = d->github_role ? d->github_role : "";
	json_object_object_add(o, "github_role", js(d->github_role));
	json_object_object_add(o, "suggested_role", js(strcmp(r, "write") == 0 ? "developer" : strcmp(r, "maintain") == 0 ||
						      strcmp(r, "admin") == 0 ? "maintainer" : "viewer"));
	json_object_object_add(o, "invitation_id", d->invitation_id ? json_object_new_int64(d->invitation_id) : NULL);
	json_object_object_add(o, "removable", json_object_new_boolean(d->removable));
	json_object_object_add(o, "removing", json_object_new_boolean(d->removing));
	return o;
}

/* {"members": [...], "drift": [...]} for the project; NULL with req->err on failure. */
static struct json_object *members_ctx(struct request *req, long long project_id)
{
	struct member *ms;
	struct member_drift *ds;
	int n, nd;
	if (members_list(&ms, &n, g_app.db, project_id, &req->err))
		return NULL;
	if (store_drift_list(&ds, &nd, g_app.db, project_id, &req->err)) {
		store_members_free(ms, n);
		return NULL;
	}
	struct json_object *o = json_object_new_object(), *a = json_object_new_array(), *d = json_object_new_array();
	const char *failed = req_query(req, "failed"); /* ?failed=1: only members whose GitHub call failed */
	int queued = 0;
	for (int i = 0; i < n; i++) {
		if (!failed || strcmp(failed, "1") != 0 || (ms[i].gh_state && strcmp(ms[i].gh_state, "error") == 0))
			json_object_array_add(a, member_json(&ms[i]));
		queued += ms[i].gh_state && strcmp(ms[i].gh_state, "queued") == 0;
	}
	/* "Sync all members" (issue 14: with progress): how many members' GitHub jobs are still waiting. */
	struct json_object *pr = json_object_new_object();
	json_object_object_add(pr, "members", json_object_new_int(n));
	json_object_object_add(pr, "queued", json_object_new_int(queued));
	json_object_object_add(pr, "done", json_object_new_int(n - queued));
	json_object_object_add(pr, "busy", json_object_new_boolean(queued > 0));
	json_object_object_add(o, "github_progress", pr);
	for (int i = 0; i < nd; i++)
		json_object_array_add(d, drift_json(&ds[i]));
	json_object_object_add(o, "members", a);
	json_object_object_add(o, "drift", d);
	store_members_free(ms, n);
	store_drifts_free(ds, nd);
	if (drift_ctx_add(req, o, project_id)) { /* page-drift.c: settings and the collaborator call log */
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* GET /api/v1/projects/{id}/members → 200 {members, drift} | 404 | 403 (scope projects:read) */
int api_members_list(struct request *req, struct response *resp, const struct call *c)
{
	struct json_object *o = members_ctx(req, c->project->id);
	if (!o)
		return -1;
	resp_json(resp, 200, o);
	return 0;
}

static const char *body_str(struct json_object *b, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(b, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int member_answer(struct request *req, struct response *resp, long long project_id, const char *key, int status,
			 long long job_id)
{
	struct member m;
	if (members_get(&m, g_app.db, project_id, key, &req->err))
		return -1;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "member", member_json(&m));
	if (job_id)
		json_object_object_add(o, "job_id", json_object_new_int64(job_id));
	store_member_free(&m);
	resp_json(resp, status, o);
	return 0;
}

/* POST /api/v1/projects/{id}/members {login, role} → 202 {member, job_id} (GitHub is asked for the user's id
 * by a job) | 400 (field) | 422 (an unknown field, or one that is not a string) | 409 (field login: a member already) | 404 | 403 (owner; scope projects:write) */
int api_members_invite(struct request *req, struct response *resp, const struct call *c)
{
	static const char *const names[] = { "login", "role", NULL };
	struct json_object *b = web_json_body(req, resp);
	if (!b || web_json_fields_ok(req, resp, b, names, "ss")) {
		json_object_put(b);
		return 0;
	}
	long long id = 0, job = 0;
	const char *login = body_str(b, "login"), *role = body_str(b, "role");
	int rc = members_invite(&id, &job, g_app.db, c->project->id, login, role ? role : "developer",
				req->user->user_id, &req->err);
	if (rc == 0)
		rc = member_answer(req, resp, c->project->id, login, 202, job);
	json_object_put(b);
	return rc;
}

/* PATCH /api/v1/projects/{id}/members/{user} {role} → 200 {member} | 400 | 422 (unknown field, not a string) | 404 | 409 (the last owner) | 403 */
int api_member_patch(struct request *req, struct response *resp, const struct call *c)
{
	static const char *const names[] = { "role", NULL };
	struct json_object *b = web_json_body(req, resp);
	if (!b || web_json_fields_ok(req, resp, b, names, "s")) {
		json_object_put(b);
		return 0;
	}
	const char *key = req_param(req, "user");
	int rc = members_set_role(g_app.db, c->project->id, key, body_str(b, "role"), &req->err);
	if (rc == 0)
		rc = member_answer(req, resp, c->project->id, key, 200, 0);
	json_object_put(b);
	return rc;
}

/* DELETE /api/v1/projects/{id}/members/{user} → 204 | 404 | 409 (the last owner) | 403 */
int api_member_delete(struct request *req, struct response *resp, const struct call *c)
{
	int rc = members_remove(g_app.db, c->project->id, req_param(req, "user"), &req->err);
	if (rc)
		return rc;
	resp->status = 204;
	return 0;
}

/* POST /api/v1/projects/{id}/members/{user}/retry → 202 {member} | 404 | 409 (not connected, not named yet) | 403 */
int api_member_retry(struct request *req, struct response *resp, const struct call *c)
{
	const char *key = req_param(req, "user");
	if (members_retry(g_app.db, c->project->id, key, &req->err))
		return -1;
	return member_answer(req, resp, c->project->id, key, 202, 0);
}

/* POST /api/v1/projects/{id}/members/sync → 202 {queued} | 409 (not connected) | 403 */
int api_members_sync(struct request *req, struct response *resp, const struct call *c)
{
	int n = 0;
	if (members_sync_all(&n, g_app.db, c->project->id, &req->err))
		return -1;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "queued", json_object_new_int(n));
	resp_json(resp, 202, o);
	return 0;
}

/* POST /api/v1/projects/{id}/members/drift → 202 {job_id} | 409 (not connected) | 403 */
int api_members_drift(struct request *req, struct response *resp, const struct call *c)
{
	long long job = 0;
	if (!c->project->repo_owner)
		return err_set(&req->err, ERR_CONFLICT, "Connect the project to a GitHub repository first.");
	if (members_check_drift(&job, g_app.db, c->project->id, &req->err))
		return -1;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "job_id", json_object_new_int64(job));
	resp_json(resp, 202, o);
	return 0;
}

/* POST /api/v1/projects/{id}/transfer {member} → 200 | 400 (field member: not signed in yet) | 404 | 403 */
int api_project_transfer(struct request *req, struct response *resp, const struct call *c)
{
	static const char *const names[] = { "member", NULL };
	struct json_object *b = web_json_body(req, resp);
	if (!b || web_json_fields_ok(req, resp, b, names, "s")) {
		json_object_put(b);
		return 0;
	}
	const char *key = body_str(b, "member");
	int rc = members_transfer(g_app.db, c->project->id, req->user->user_id, key ? key : "", &req->err);
	if (rc == 0)
		rc = member_answer(req, resp, c->project->id, key, 200, 0);
	json_object_put(b);
	return rc;
}

/* ---- the panel */

static int render_members(struct request *req, struct response *resp, const struct call *c, int status,
			  const char *flash, const char *field, const char *field_error)
{
	struct json_object *ctx = members_ctx(req, c->project->id);
	if (!ctx)
		return -1;
	json_object_object_add(ctx, "project", web_project_json(c->project));
	json_object_object_add(ctx, "connected", json_object_new_boolean(c->project->repo_owner != NULL));
	if (flash)
		json_object_object_add(ctx, "flash", js(flash));
	if (field && field_error) {
		struct json_object *errs = json_object_new_object();
		json_object_object_add(errs, field, js(field_error));
		json_object_object_add(ctx, "errors", errs);
		json_object_object_add(ctx, "f_login", js(req_form(req, "login")));
		if (strcmp(field, "transfer") == 0)
			json_object_object_add(ctx, "f_member", js(req_form(req, "member")));
	}
	/* Each member row: which role options to mark, whether it is the caller. */
	struct json_object *ms;
	json_object_object_get_ex(ctx, "members", &ms);
	for (size_t i = 0; i < json_object_array_length(ms); i++) {
		struct json_object *m = json_object_array_get_idx(ms, i), *r, *roles = json_object_new_array();
		json_object_object_get_ex(m, "role", &r);
		for (int k = ROLE_VIEWER; k <= ROLE_OWNER; k++) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "name", js(members_role_name(k)));
			json_object_object_add(o, "selected", json_object_new_boolean(strcmp(json_object_get_string(r),
											      members_role_name(k)) == 0));
			json_object_array_add(roles, o);
		}
		json_object_object_add(m, "roles", roles);
		struct json_object *st;
		json_object_object_get_ex(m, "state", &st);
		json_object_object_add(m, "active", json_object_new_boolean(strcmp(json_object_get_string(st), "active") == 0));
	}
	render_page(req, resp, status, "members", arena_printf(req->arena, "Members · %s", c->project->name), ctx);
	return 0;
}

/* page-drift.c's refusals: the Members tab again with msg at the top. */
int page_members_refused(struct request *req, struct response *resp, const struct call *c, int status,
			 const char *msg);
int page_members_refused(struct request *req, struct response *resp, const struct call *c, int status,
			 const char *msg)
{
	return render_members(req, resp, c, status, NULL, "members", msg);
}

/* GET /projects/{id}/members → 200 | 404 (not a member) */
int page_members(struct request *req, struct response *resp, const struct call *c)
{
	const char *d = req_query(req, "done");
	const char *flash = !d ? NULL : strcmp(d, "invited") == 0 ? "Invitation recorded: GitHub is asked who that is."
			  : strcmp(d, "role") == 0 ? "Role changed." : strcmp(d, "removed") == 0 ? "Member removed."
			  : strcmp(d, "transferred") == 0 ? "Ownership transferred." : strcmp(d, "sync") == 0
			  ? "Every member's GitHub access is being brought in step." : strcmp(d, "drift") == 0
			  ? "GitHub's collaborators are being compared with the members; reload in a moment."
			  : strcmp(d, "authoritative-on") == 0 ? "Members are authoritative: each check removes from GitHub what no member accounts for."
			  : strcmp(d, "authoritative-off") == 0 ? "Members are no longer authoritative: ghbridge removes only access it gave."
			  : strcmp(d, "retried") == 0 ? "GitHub is being asked again."
			  : strcmp(d, "github-removed") == 0 ? "The removal from GitHub is queued; reload in a moment." : NULL;
	return render_members(req, resp, c, 200, flash, NULL, NULL);
}

/* An expected refusal goes back to the page, at its field when it has one; anything else is an error page. */
static int refused(struct request *req, struct response *resp, const struct call *c, const char *field)
{
	int code = req->err.code;
	if (code != ERR_INVALID && code != ERR_CONFLICT && code != ERR_NOTFOUND)
		return code;
	char msg[sizeof req->err.msg];
	snprintf(msg, sizeof msg, "%s", req->err.msg);
	const char *f = req->err.field[0] ? arena_strdup(req->arena, req->err.field) : field;
	err_clear(&req->err);
	return render_members(req, resp, c, code == ERR_CONFLICT ? 409 : code == ERR_NOTFOUND ? 404 : 422,
			      NULL, f, msg);
}

static int back(struct request *req, struct response *resp, const struct call *c, const char *done)
{
	resp_redirect(resp, 303, arena_printf(req->arena, "/projects/%lld/members?done=%s", c->project->id, done));
	return 0;
}

/* POST /projects/{id}/members (login, role) → 303 | 422 at the field | 409 (a member already) */
int page_member_invite(struct request *req, struct response *resp, const struct call *c)
{
	long long id, job;
	if (members_invite(&id, &job, g_app.db, c->project->id, req_form(req, "login"), req_form(req, "role"),
			   req->user->user_id, &req->err))
		return refused(req, resp, c, "login");
	return back(req, resp, c, "invited");
}

/* POST /projects/{id}/members/role (member, role, confirm) → 200 confirm page (a lower role, not confirmed yet) |
 * 303 | 409 (the last owner) | 404. Lowering a role takes access away, on GitHub too (a personal account's
 * repository drops a viewer's access; raising it again sends a new invitation to accept), so it asks first. */
int page_member_role(struct request *req, struct response *resp, const struct call *c)
{
	const char *key = req_form(req, "member"), *role = req_form(req, "role");
	struct member m;
	if (!web_confirmed(req) && key && *key && members_role_parse(role) != ROLE_NONE &&
	    members_get(&m, g_app.db, c->project->id, key, &req->err) == 0) {
		int lower = members_role_parse(role) < members_role_parse(m.role);
		if (lower)
			render_confirm(req, resp, arena_printf(req->arena, "Lower the role of %s to %s?", m.login, role),
				       arena_printf(req->arena, "%s goes from %s to %s in %s.", m.login, m.role, role,
						    c->project->name),
				       "Their access on GitHub follows the new role where ghbridge gave it; raising the role "
				       "again may send a new GitHub invitation they have to accept.",
				       "Lower the role", arena_printf(req->arena, "/projects/%lld/members", c->project->id));
		store_member_free(&m);
		if (lower)
			return 0;
	}
	err_clear(&req->err);
	if (members_set_role(g_app.db, c->project->id, key ? key : "", req_form(req, "role"), &req->err)) {
		req->err.field[0] = '\0'; /* about a row's role, not the invite form's: shown above the table */
		return refused(req, resp, c, "members");
	}
	return back(req, resp, c, "role");
}

/* POST /projects/{id}/members/remove (member, confirm) → 200 confirm page | 303 | 409 (the last owner) | 404 */
int page_member_remove(struct request *req, struct response *resp, const struct call *c)
{
	const char *key = req_form(req, "member");
	if (!web_confirmed(req) && key && *key) {
		render_confirm(req, resp, arena_printf(req->arena, "Remove %s from %s?", key, c->project->name),
			       arena_printf(req->arena, "%s loses access to this project here.", key),
			       "Their access on GitHub is removed too when ghbridge gave it; access they had before stays.",
			       "Remove the member", arena_printf(req->arena, "/projects/%lld/members", c->project->id));
		return 0;
	}
	if (members_remove(g_app.db, c->project->id, key ? key : "", &req->err))
		return refused(req, resp, c, "members");
	return back(req, resp, c, "removed");
}

/* POST /projects/{id}/members/transfer (member, confirm) → 200 confirm page | 303 | 422 (not signed in yet) */
int page_member_transfer(struct request *req, struct response *resp, const struct call *c)
{
	const char *key = req_form(req, "member");
	if (!web_confirmed(req) && key && *key) {
		render_confirm(req, resp, arena_printf(req->arena, "Transfer %s to %s?", c->project->name, key),
			       arena_printf(req->arena, "%s becomes an owner and the project uses their GitHub connection "
					    "from now on; you stay as a maintainer.", key),
			       NULL, "Transfer ownership", arena_printf(req->arena, "/projects/%lld/members", c->project->id));
		return 0;
	}
	if (members_transfer(g_app.db, c->project->id, req->user->user_id, key ? key : "", &req->err)) {
		req->err.field[0] = '\0'; /* every refusal here is about the member typed: shown at that field */
		return refused(req, resp, c, "transfer");
	}
	resp_redirect(resp, 303, arena_printf(req->arena, "/projects/%lld?done=transferred", c->project->id));
	return 0;
}

/* POST /projects/{id}/members/retry (member) → 303 | 409 | 404 */
int page_member_retry(struct request *req, struct response *resp, const struct call *c)
{
	const char *key = req_form(req, "member");
	if (members_retry(g_app.db, c->project->id, key ? key : "", &req->err))
		return refused(req, resp, c, "members");
	return back(req, resp, c, "sync");
}

/* POST /projects/{id}/members/sync → 303 | 409 (not connected) */
int page_members_sync(struct request *req, struct response *resp, const struct call *c)
{
	int n;
	if (members_sync_all(&n, g_app.db, c->project->id, &req->err))
		return refused(req, resp, c, "members");
	return back(req, resp, c, "sync");
}

/* POST /projects/{id}/members/drift → 303 | 409 (not connected) */
int page_members_drift(struct request *req, struct response *resp, const struct call *c)
{
	long long job;
	if (!c->project->repo_owner) {
		err_set(&req->err, ERR_CONFLICT, "Connect the project to a GitHub repository first.");
		return refused(req, resp, c, "members");
	}
	if (members_check_drift(&job, g_app.db, c->project->id, &req->err))
		return -1;
	return back(req, resp, c, "drift");
}
