/* app.h: what one responder process holds for its whole life: a database connection and the templates. */
#ifndef GHB_APP_H
#define GHB_APP_H

#include "http/router.h"
#include "store/db.h"
#include "view/tmpl.h"

struct app {
	struct db *db;
	struct tmpl_set *tmpl;
	const char *templates_dir;
};

extern struct app g_app;

/* The route table (routes.c). */
extern const struct route web_routes[];
extern const size_t web_nroutes;

/* What a project route's handler is handed (ROUTE_PROJECT): the project named by {id} and the caller's role
 * on it (service/members.h ROLE_*), both checked by web_handle before the handler runs. Borrowed: the
 * dispatcher frees the project after the handler returns. */
struct project;
struct call {
	struct project *project;   /* the handler may read and pass it on, never free it */
	int role;
};
/* A project route row: its scope (API keys; NULL: none) and least role are required arguments, and a role
 * that is not ROLE_VIEWER..ROLE_OWNER does not compile (a negative array size); the handler is a call_fn. */
#define ROUTE_ROLE(ro) ((int)(0 * sizeof(char[((ro) >= 1 && (ro) <= 4) ? 1 : -1])) + (ro))
#define PROJ(m, p, fn, fl, sc, ro) { m, p, NULL, ROUTE_SESSION | ROUTE_PROJECT | (fl), sc, ROUTE_ROLE(ro), fn }
/* 0 when every route under /projects/{id} or /api/v1/projects/{id} is a PROJ row with a role; else -1 and
 * the offending pattern in *bad (web_child_init refuses to start: a project route without a declared
 * requirement never serves). */
int web_routes_check(const char **bad);

/* Server hooks (web.c). */
int web_child_init(struct err *e);
void web_child_reload(void);
void web_child_exit(void);
void web_handle(struct request *req, struct response *resp);

/* The signed-in user for an error page answered before (or without) authentication, such as a 404 from
 * routing: req->user from the session cookie when there is a valid one; nothing otherwise. */
void web_user_peek(struct request *req);

/* render.c: ctx is consumed (put) by these. */
struct json_object;
void render_page(struct request *req, struct response *resp, int status, const char *page,
		 const char *title, struct json_object *ctx);
void render_error(struct request *req, struct response *resp, int status, const char *message);
/* Renders req->err (set by a failing handler or service) with its mapped status. */
void render_err(struct request *req, struct response *resp);
/* web_time_text: an ISO 8601 UTC time as the pages show times ("2026-11-30T00:21:45.777Z" →
 * "2026-11-30 00:21:45 UTC"), in req's arena; "" for NULL or anything shorter than "YYYY-MM-DDTHH:MM:SS".
 * Pages keep the ISO text for machines in a <time datetime="…"> around it. */
const char *web_time_text(struct request *req, const char *iso);
/* 1 when a destructive form came with confirm=1 (its checkbox, the confirm page, or static/app.js's dialog). */
int web_confirmed(const struct request *req);
/* The confirm step of a destructive form posted without confirm=1 (no JavaScript): a page (200) saying what
 * will happen (what, and note when not NULL), carrying the form's text fields again with confirm=1 to the
 * same address, a button labelled button, and a way back (back, a path). Nothing has changed yet. */
void render_confirm(struct request *req, struct response *resp, const char *title, const char *what, const char *note,
		    const char *button, const char *back);
/* {"error":{"code":…,"message":…}}, with "field" when req->err names the request field at fault. */
void render_json_error(struct request *req, struct response *resp, int status, const char *code,
		       const char *message);

/* helpers.c: shared by the page and API families. */
struct project;
/* The {number} path parameter, or 0 when it is not a positive number. */
int web_number_param(struct request *req);
/* 1 (and a 403 JSON answer) when the caller lacks scope. */
int web_lacks_scope(struct request *req, struct response *resp, const char *scope);
/* The body as a JSON object, or NULL after a 400 JSON answer. The caller puts it. */
struct json_object *web_json_body(struct request *req, struct response *resp);
/* Checks every key of the JSON object b against names (NULL-terminated) and the type each must have, types[i]:
 * 's' string, 'b' boolean; null counts as absent. Answers 422 itself (and returns 1) for an unknown field or a
 * wrong type; 0 when all are known. */
int web_json_fields_ok(struct request *req, struct response *resp, struct json_object *b, const char *const *names,
		       const char *types);

/* Pages (one file per family). Each comment above a handler lists its statuses. */
int page_home(struct request *req, struct response *resp);
int page_healthz(struct request *req, struct response *resp);
int page_logout(struct request *req, struct response *resp);
int page_login(struct request *req, struct response *resp);
int page_oauth_callback(struct request *req, struct response *resp);
int page_account(struct request *req, struct response *resp);
int page_commit_email(struct request *req, struct response *resp);
int page_session_end(struct request *req, struct response *resp);
int page_sessions_end_all(struct request *req, struct response *resp);
int page_sessions_end_others(struct request *req, struct response *resp);
int page_key_create(struct request *req, struct response *resp);
int page_key_revoke(struct request *req, struct response *resp);
int page_disconnect(struct request *req, struct response *resp);
int api_me(struct request *req, struct response *resp);
int api_me_patch(struct request *req, struct response *resp);
/* The job queue (page-jobs.c). */
int api_job_get(struct request *req, struct response *resp);
int page_admin_jobs(struct request *req, struct response *resp);
int page_admin_job_retry(struct request *req, struct response *resp);
/* Operators (page-admin.c): pause/resume, sync all, the audit log. web_actor_bind hands the request's actor
 * (user or API key, IP, user agent, request id) to the database handle for the audit log. */
void web_actor_bind(struct request *req);
struct json_object *web_pause_json(long long project_id);  /* the pause holding a project back, or NULL */
struct json_object *web_account_security_events(struct request *req);
int page_admin(struct request *req, struct response *resp);
int page_admin_pause(struct request *req, struct response *resp);
int page_admin_resume(struct request *req, struct response *resp);
int page_admin_sync_all(struct request *req, struct response *resp);
int page_admin_audit(struct request *req, struct response *resp);
int api_admin_pauses(struct request *req, struct response *resp);
int api_admin_workers(struct request *req, struct response *resp);
int api_admin_pause(struct request *req, struct response *resp);
int api_admin_resume(struct request *req, struct response *resp);
int api_admin_sync_all(struct request *req, struct response *resp);
int api_audit(struct request *req, struct response *resp);
int page_metrics(struct request *req, struct response *resp);  /* page-metrics.c */
const char *web_session_cookie_name(const struct request *req);

/* Projects and sync: JSON API (api-projects.c). */
struct project;
struct sync_run;
struct json_object *web_project_json(const struct project *p);
struct json_object *web_sync_json(const struct sync_run *s, int with_files);
int api_projects_create(struct request *req, struct response *resp);
int api_projects_list(struct request *req, struct response *resp);
int api_project_get(struct request *req, struct response *resp, const struct call *call);
int api_project_patch(struct request *req, struct response *resp, const struct call *call);
int api_project_delete(struct request *req, struct response *resp, const struct call *call);
int api_project_file_put(struct request *req, struct response *resp, const struct call *call);
int api_project_file_get(struct request *req, struct response *resp, const struct call *call);
int api_project_file_delete(struct request *req, struct response *resp, const struct call *call);
int api_project_files(struct request *req, struct response *resp, const struct call *call);
int api_project_repo_connect(struct request *req, struct response *resp, const struct call *call);
int api_project_repo_disconnect(struct request *req, struct response *resp, const struct call *call);
int api_project_settings(struct request *req, struct response *resp, const struct call *call);
int api_project_sync(struct request *req, struct response *resp, const struct call *call);
int api_project_status(struct request *req, struct response *resp, const struct call *call);
int api_project_history(struct request *req, struct response *resp, const struct call *call);
/* The user's repositories a project can be linked to (api-projects.c). */
struct ghrepo;
int api_github_repos(struct request *req, struct response *resp);
int api_github_repos_refresh(struct request *req, struct response *resp);
int page_project_repos_refresh(struct request *req, struct response *resp, const struct call *call);
struct json_object *web_connection_json(const struct project *p);
struct json_object *web_ghrepo_json(const struct ghrepo *r);
int web_page_param(int *page, const char *s);
/* Projects panel (page-projects.c). */
int page_projects(struct request *req, struct response *resp);
int page_project_create(struct request *req, struct response *resp);
int page_project(struct request *req, struct response *resp, const struct call *call);
int page_project_sync(struct request *req, struct response *resp, const struct call *call);
int page_project_rename(struct request *req, struct response *resp, const struct call *call);
int page_project_delete(struct request *req, struct response *resp, const struct call *call);
int page_project_files(struct request *req, struct response *resp, const struct call *call);
int page_project_file(struct request *req, struct response *resp, const struct call *call);
int page_project_file_save(struct request *req, struct response *resp, const struct call *call);
int page_project_upload(struct request *req, struct response *resp, const struct call *call);
int page_project_file_delete(struct request *req, struct response *resp, const struct call *call);
int page_project_connect(struct request *req, struct response *resp, const struct call *call);
int page_project_connect_post(struct request *req, struct response *resp, const struct call *call);
int page_project_disconnect(struct request *req, struct response *resp, const struct call *call);
int page_project_settings(struct request *req, struct response *resp, const struct call *call);
int page_project_settings_post(struct request *req, struct response *resp, const struct call *call);
int page_project_history(struct request *req, struct response *resp, const struct call *call);
int page_project_history_one(struct request *req, struct response *resp, const struct call *call);

/* Members (page-members.c): ROUTE_PROJECT handlers taking the dispatcher's struct call. */
int api_members_list(struct request *req, struct response *resp, const struct call *c);
int api_members_invite(struct request *req, struct response *resp, const struct call *c);
int api_member_patch(struct request *req, struct response *resp, const struct call *c);
int api_member_delete(struct request *req, struct response *resp, const struct call *c);
int api_members_sync(struct request *req, struct response *resp, const struct call *c);
int api_member_retry(struct request *req, struct response *resp, const struct call *c);
int page_member_retry(struct request *req, struct response *resp, const struct call *c);
int api_members_drift(struct request *req, struct response *resp, const struct call *c);
int api_project_transfer(struct request *req, struct response *resp, const struct call *c);
/* The drift check's settings, "Remove from GitHub", the collaborator call log (page-drift.c). */
int api_collaborator_settings(struct request *req, struct response *resp, const struct call *c);
int api_collaborator_settings_patch(struct request *req, struct response *resp, const struct call *c);
int api_collaborator_ops(struct request *req, struct response *resp, const struct call *c);
int api_collaborator_ops_retry(struct request *req, struct response *resp, const struct call *c);
int api_collaborator_op_retry(struct request *req, struct response *resp, const struct call *c);
int api_drift_remove(struct request *req, struct response *resp, const struct call *c);
int page_collaborator_settings(struct request *req, struct response *resp, const struct call *c);
int page_collaborator_ops_retry(struct request *req, struct response *resp, const struct call *c);
int page_drift_remove(struct request *req, struct response *resp, const struct call *c);
int page_members(struct request *req, struct response *resp, const struct call *c);
int page_member_invite(struct request *req, struct response *resp, const struct call *c);
int page_member_role(struct request *req, struct response *resp, const struct call *c);
int page_member_remove(struct request *req, struct response *resp, const struct call *c);
int page_member_transfer(struct request *req, struct response *resp, const struct call *c);
int page_members_sync(struct request *req, struct response *resp, const struct call *c);
int page_members_drift(struct request *req, struct response *resp, const struct call *c);

/* Branches, pull requests and webhooks: JSON API (api-pulls.c), panel (page-pulls.c), deliveries (webhooks.c). */
struct pull;
struct json_object *web_pull_json(const struct pull *pr);
int web_webhook_github(struct request *req, struct response *resp);
int api_pulls_list(struct request *req, struct response *resp, const struct call *call);
int api_pulls_create(struct request *req, struct response *resp, const struct call *call);
int api_pull_get(struct request *req, struct response *resp, const struct call *call);
int api_pull_patch(struct request *req, struct response *resp, const struct call *call);
int api_pull_merge(struct request *req, struct response *resp, const struct call *call);
int api_branches_list(struct request *req, struct response *resp, const struct call *call);
int api_branch_create(struct request *req, struct response *resp, const struct call *call);
int api_branch_delete(struct request *req, struct response *resp, const struct call *call);
int page_pulls(struct request *req, struct response *resp, const struct call *call);
int page_pull_create(struct request *req, struct response *resp, const struct call *call);
int page_pull_new(struct request *req, struct response *resp, const struct call *call);
int page_pull(struct request *req, struct response *resp, const struct call *call);
int page_pull_merge(struct request *req, struct response *resp, const struct call *call);
int page_pull_close(struct request *req, struct response *resp, const struct call *call);
int page_pull_reopen(struct request *req, struct response *resp, const struct call *call);
int page_pull_ready(struct request *req, struct response *resp, const struct call *call);
int page_branches(struct request *req, struct response *resp, const struct call *call);
int page_branch_create(struct request *req, struct response *resp, const struct call *call);
int page_branch_delete(struct request *req, struct response *resp, const struct call *call);

#endif
