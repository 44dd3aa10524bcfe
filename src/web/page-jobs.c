/* page-jobs.c: the job queue on the web: GET /api/v1/jobs/{id} for the project's owner, the admins' queue page. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "jobs/jobs.h"
#include "service/auth.h"
#include "service/projects.h"
#include "web/app.h"

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* The payload stays out: it is internal to the handler, and nothing in it is
 * the caller's business beyond what the project's own pages show. */
static struct json_object *job_json(const struct job_row *j)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(j->id));
	json_object_object_add(o, "kind", json_object_new_string(j->kind));
	json_object_object_add(o, "project_id", j->project_id ? json_object_new_int64(j->project_id) : NULL);
	json_object_object_add(o, "state", json_object_new_string(j->state));
	json_object_object_add(o, "attempts", json_object_new_int(j->attempts));
	json_object_object_add(o, "max_attempts", json_object_new_int(j->max_attempts));
	json_object_object_add(o, "run_after", jstr_or_null(j->run_after));
	json_object_object_add(o, "created_at", jstr_or_null(j->created_at));
	json_object_object_add(o, "started_at", jstr_or_null(j->started_at));
	json_object_object_add(o, "finished_at", jstr_or_null(j->finished_at));
	json_object_object_add(o, "last_error", jstr_or_null(j->last_error));
	return o;
}

static int parse_id(long long *id, const char *s)
{
	return http_num_parse(id, s, 1, LLONG_MAX) ? -1 : 0;
}

/* GET /api/v1/jobs/{id} → 200 | 403 (scope) | 404 (missing, or another person's project: alike) */
int api_job_get(struct request *req, struct response *resp)
{
	if (!auth_has_scope(req->user, "projects:read")) {
		render_json_error(req, resp, 403, "forbidden", "This API key lacks the 'projects:read' scope.");
		return 0;
	}
	long long id;
	if (parse_id(&id, req_param(req, "id")))
		return err_set(&req->err, ERR_NOTFOUND, "There is no such job.");
	struct job_row j;
	int rc = jobs_get(&j, g_app.db, id, &req->err);
	if (rc == ERR_NOTFOUND)
		return err_set(&req->err, ERR_NOTFOUND, "There is no such job.");
	if (rc)
		return rc;
	if (!req->user->is_admin) {
		struct project p;
		rc = j.project_id ? projects_get(&p, g_app.db, req->user->user_id, j.project_id, &req->err)
				  : ERR_NOTFOUND;
		if (rc == 0)
			store_project_free(&p);
		if (rc == ERR_NOTFOUND)
			rc = err_set(&req->err, ERR_NOTFOUND, "There is no such job.");
	}
	if (rc == 0) {
		struct json_object *o = job_json(&j);
		resp_json(resp, 200, o);
		json_object_put(o);
	}
	store_job_row_free(&j);
	return rc;
}

static int require_admin(struct request *req)
{
	if (!req->user || !req->user->is_admin)
		return err_set(&req->err, ERR_FORBIDDEN, "The job queue is for administrators.");
	return 0;
}

/* GET /admin/jobs → 200 | 403: counts by state and kind, the oldest waiting job, dead jobs with Retry. */
int page_admin_jobs(struct request *req, struct response *resp)
{
	int rc = require_admin(req);
	if (rc)
		return rc;
	struct job_stats st;
	rc = jobs_stats(&st, g_app.db, &req->err);
	if (rc)
		return rc;
	struct job_row *dead = NULL;
	size_t ndead = 0;
	rc = jobs_list(&dead, &ndead, g_app.db, "dead", NULL, 50, &req->err);
	if (rc) {
		store_job_stats_free(&st);
		return rc;
	}
	struct json_object *ctx = json_object_new_object(), *counts = json_object_new_array();
	for (size_t i = 0; i < st.n; i++) {
		struct json_object *c = json_object_new_object();
		json_object_object_add(c, "queue", json_object_new_string(st.rows[i].queue));
		json_object_object_add(c, "kind", json_object_new_string(st.rows[i].kind));
		json_object_object_add(c, "state", json_object_new_string(st.rows[i].state));
		json_object_object_add(c, "count", json_object_new_int64(st.rows[i].count));
		json_object_array_add(counts, c);
	}
	json_object_object_add(ctx, "counts", counts);
	if (st.oldest_id) {
		struct json_object *w = json_object_new_object();
		json_object_object_add(w, "id", json_object_new_int64(st.oldest_id));
		char secs[32];
		snprintf(secs, sizeof secs, "%.1f", st.oldest_wait_seconds);
		json_object_object_add(w, "seconds", json_object_new_string(secs));
		json_object_object_add(ctx, "oldest", w);
	}
	struct json_object *d = json_object_new_array();
	for (size_t i = 0; i < ndead; i++)
		json_object_array_add(d, job_json(&dead[i]));
	json_object_object_add(ctx, "dead", d);
	const char *done = req_query(req, "done");
	if (done && strcmp(done, "retry") == 0)
		json_object_object_add(ctx, "retried", json_object_new_boolean(1));
	store_job_rows_free(dead, ndead);
	store_job_stats_free(&st);
	render_page(req, resp, 200, "admin-jobs", "Job queue", ctx);
	return 0;
}

/* POST /admin/jobs/{id}/retry → 303 | 403 | 404 | 409 (not dead or cancelled) */
int page_admin_job_retry(struct request *req, struct response *resp)
{
	int rc = require_admin(req);
	if (rc)
		return rc;
	long long id;
	if (parse_id(&id, req_param(req, "id")))
		return err_set(&req->err, ERR_NOTFOUND, "There is no such job.");
	rc = jobs_retry(g_app.db, id, &req->err);
	if (rc)
		return rc;
	resp_redirect(resp, 303, "/admin/jobs?done=retry");
	return 0;
}
