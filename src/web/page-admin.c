/* page-admin.c: the operators' pages and API: /admin (pause, resume, sync all), the audit log (/admin/audit, /api/v1/audit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/arena.h"
#include "core/buf.h"
#include "core/metrics.h"
#include "jobs/jobs.h"
#include "service/auth.h"
#include "service/ops.h"
#include "web/app.h"
#include "web/fields.h"

/* The request's actor, handed to the database handle for the length of the handler (web.c calls
 * this just before it and clears it just after): services record it in audit rows without
 * knowing HTTP and without one more parameter each. Arena memory, so it lives as long as the request. */
void web_actor_bind(struct request *req)
{
	struct actor *a = arena_zalloc(req->arena, sizeof *a);
	const struct auth_user *u = req->user;
	if (!u) {
		a->type = "anonymous";
	} else if (u->kind && strcmp(u->kind, "api_key") == 0) {
		a->type = "api_key";
		a->key_id = u->api_key_public;
	} else {
		a->type = "user";
	}
	if (u) {
		a->user_id = u->user_id;
		a->login = u->login;
	}
	a->ip = req->remote_addr;
	a->user_agent = req_header(req, "User-Agent");
	a->request_id = req->request_id;
	db_actor_set(g_app.db, a);
}

static int require_admin_page(struct request *req)
{
	if (!req->user || !req->user->is_admin)
		return err_set(&req->err, ERR_FORBIDDEN, "This page is for administrators.");
	return 0;
}

/* The API's admin routes: an administrator's session, or an administrator's API key with the admin scope. */
static int lacks_admin(struct request *req, struct response *resp)
{
	if (web_lacks_scope(req, resp, "admin"))
		return 1;
	if (!req->user->is_admin) {
		render_json_error(req, resp, 403, "forbidden", "This is for administrators.");
		return 1;
	}
	return 0;
}

static struct json_object *pause_json(const struct sync_pause *p)
{
	struct json_object *o = json_object_new_object();
	char msg[768];
	ops_pause_message(msg, sizeof msg, p);
	json_object_object_add(o, "scope", json_object_new_string(p->project_id ? "project" : "service"));
	json_object_object_add(o, "project_id", p->project_id ? json_object_new_int64(p->project_id) : NULL);
	json_object_object_add(o, "paused_by", json_object_new_string(p->paused_by ? p->paused_by : ""));
	json_object_object_add(o, "reason", json_object_new_string(p->reason ? p->reason : ""));
	json_object_object_add(o, "paused_at", json_object_new_string(p->paused_at ? p->paused_at : ""));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}

struct json_object *web_pause_json(long long project_id)
{
	struct sync_pause p;
	int found = 0;
	struct err e = { 0 };
	if (store_pause_get(&p, &found, g_app.db, project_id, &e) != 0 || !found)
		return NULL;
	struct json_object *o = pause_json(&p);
	store_pause_free(&p);
	return o;
}

/* The worker processes seen in the last minute, as JSON (for /admin and GET /api/v1/admin/workers). */
static int workers_json(struct json_object **out, struct request *req)
{
	struct worker_beat *w = NULL;
	size_t n = 0;
	int rc = store_workers_list(&w, &n, g_app.db, 60, &req->err);
	if (rc)
		return rc;
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "host", json_object_new_string(w[i].host ? w[i].host : ""));
		json_object_object_add(o, "pid", json_object_new_int(w[i].pid));
		json_object_object_add(o, "started_at", json_object_new_string(w[i].started_at ? w[i].started_at : ""));
		json_object_object_add(o, "last_seen_at", json_object_new_string(w[i].last_seen_at ? w[i].last_seen_at : ""));
		json_object_object_add(o, "seen_ago", json_object_new_int64(w[i].seen_ago_s));
		json_object_object_add(o, "job_id", w[i].job_id ? json_object_new_int64(w[i].job_id) : NULL);
		json_object_object_add(o, "job_kind", w[i].job_kind ? json_object_new_string(w[i].job_kind) : NULL);
		json_object_array_add(a, o);
	}
	store_workers_free(w, n);
	*out = a;
	return 0;
}

/* GitHub rate-limit headroom per token class from this host's shared counters (core/metrics.c). */
static struct json_object *ratelimits_json(void)
{
	long long rem[MT_NTOKEN], reset[MT_NTOKEN];
	metrics_github_headroom(rem, reset);
	struct json_object *a = json_object_new_array();
	for (int c = 0; c < MT_NTOKEN; c++) {
		if (rem[c] < 0)
			continue;
		struct json_object *o = json_object_new_object();
		char at[32];
		time_t t = (time_t)reset[c];
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S", &tm);
		json_object_object_add(o, "class", json_object_new_string(metrics_token_names[c]));
		json_object_object_add(o, "remaining", json_object_new_int64(rem[c]));
		json_object_object_add(o, "reset", json_object_new_int64(reset[c]));
		json_object_object_add(o, "reset_at", json_object_new_string(at));
		json_object_array_add(a, o);
	}
	return a;
}

/* GET /api/v1/admin/workers → 200 {"workers":[…],"github_ratelimits":[…]} | 403: worker processes seen in
 * the last minute (host, pid, started, last seen, job in hand) and GitHub's rate-limit headroom. */
int api_admin_workers(struct request *req, struct response *resp)
{
	if (lacks_admin(req, resp))
		return 0;
	struct json_object *w;
	int rc = workers_json(&w, req);
	if (rc)
		return rc;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "workers", w);
	json_object_object_add(o, "github_ratelimits", ratelimits_json());
	resp_json(resp, 200, o);
	json_object_put(o);
	return 0;
}

/* admin_render: the /admin page with status; when pause_error is set (the "Pause this project" form
 * was refused), it shows that message at the project id field and keeps what was typed (f_project,
 * f_reason). Returns 0, or the store's error before anything is sent. */
static int admin_render(struct request *req, struct response *resp, int status, const char *pause_error,
			const char *f_project, const char *f_reason)
{
	int rc;
	struct sync_pause *rows = NULL;
	size_t n = 0;
	if ((rc = store_pause_list(&rows, &n, g_app.db, &req->err)))
		return rc;
	struct job_stats st;
	if ((rc = jobs_stats(&st, g_app.db, &req->err))) {
		store_pauses_free(rows, n);
		return rc;
	}
	struct json_object *ctx = json_object_new_object(), *projects = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = pause_json(&rows[i]);
		json_object_object_add(o, "paused_at_text", json_object_new_string(web_time_text(req, rows[i].paused_at)));
		if (rows[i].project_id == 0)
			json_object_object_add(ctx, "service_paused", o);
		else
			json_object_array_add(projects, o);
	}
	json_object_object_add(ctx, "paused_projects", projects);
	long long queued = 0, running = 0, dead = 0;
	for (size_t i = 0; i < st.n; i++) {
		if (strcmp(st.rows[i].state, "queued") == 0)
			queued += st.rows[i].count;
		else if (strcmp(st.rows[i].state, "running") == 0)
			running += st.rows[i].count;
		else if (strcmp(st.rows[i].state, "dead") == 0)
			dead += st.rows[i].count;
	}
	json_object_object_add(ctx, "queued", json_object_new_int64(queued));
	json_object_object_add(ctx, "running", json_object_new_int64(running));
	json_object_object_add(ctx, "dead", json_object_new_int64(dead));
	char secs[32];
	snprintf(secs, sizeof secs, "%.1f", st.oldest_wait_seconds);
	json_object_object_add(ctx, "oldest_seconds", json_object_new_string(secs));
	struct json_object *workers;
	if (workers_json(&workers, req) == 0)
		json_object_object_add(ctx, "workers", workers);
	else
		json_object_object_add(ctx, "workers_error", json_object_new_string(req->err.msg));
	err_clear(&req->err);
	json_object_object_add(ctx, "ratelimits", ratelimits_json());
	const char *done = req_query(req, "done");
	static const char *const flashes[][2] = {
		{ "paused", "Syncing is paused. Queued work stays queued." },
		{ "resumed", "Syncing resumed. Queued work runs now." },
		{ "notpaused", "That was not paused." },
		{ "syncall", "A sync of every connected project is queued." },
	};
	for (size_t i = 0; done && i < sizeof flashes / sizeof flashes[0]; i++)
		if (strcmp(done, flashes[i][0]) == 0)
			json_object_object_add(ctx, "flash", json_object_new_string(flashes[i][1]));
	if (pause_error) {
		json_object_object_add(ctx, "pause_error", json_object_new_string(pause_error));
		json_object_object_add(ctx, "f_project", json_object_new_string(f_project ? f_project : ""));
		json_object_object_add(ctx, "f_reason", json_object_new_string(f_reason ? f_reason : ""));
	}
	store_job_stats_free(&st);
	store_pauses_free(rows, n);
	render_page(req, resp, status, "admin", "Administration", ctx);
	return 0;
}

/* GET /admin → 200 | 403: the queue in figures, what is paused, the switches. */
int page_admin(struct request *req, struct response *resp)
{
	int rc = require_admin_page(req);
	if (rc)
		return rc;
	return admin_render(req, resp, 200, NULL, NULL, NULL);
}

/* POST /admin/pause (project_id absent: the whole service; reason; confirm) → 303 | 200 the confirm page |
 * 400 | 403 | 422.
 * Pausing the whole service stops every project's syncing, so it is asked first like the other
 * confirmed actions: without confirm=1 the answer is the confirm page (with JavaScript the form's
 * data-confirm dialog asks and sends confirm=1) and nothing is paused.
 * The "Pause this project" form always sends project_id: there it must name an existing project
 * (a whole number from 1), else the page comes back with the message at the field and what was typed
 * kept (422), so a typo (0, a word, an unknown id) neither pauses the whole service nor ends on an
 * error page. */
int page_admin_pause(struct request *req, struct response *resp)
{
	int rc = require_admin_page(req);
	if (rc)
		return rc;
	const char *f_project = req_form(req, "project_id");
	long long id = 0;
	if (f_project) {
		if (web_form_int(&id, req, "project_id", 0) || id < 1) {
			err_clear(&req->err);
			return admin_render(req, resp, 422, "A project id is a whole number from 1: the number in the project's address, /projects/N.",
					    f_project, req_form(req, "reason"));
		}
	}
	if (!f_project && !web_confirmed(req)) {
		render_confirm(req, resp, "Pause syncing for everyone?",
			       "Every project stops syncing until an operator resumes it: edits and GitHub's changes "
			       "wait in the queue.",
			       "Nothing is lost: queued syncs run when syncing resumes. Project owners see the reason you gave.",
			       "Pause syncing for everyone", "/admin");
		return 0;
	}
	if ((rc = ops_pause(g_app.db, id, req_form(req, "reason"), &req->err))) {
		if (f_project && (rc == ERR_NOTFOUND || rc == ERR_INVALID)) {
			char msg[sizeof req->err.msg];
			snprintf(msg, sizeof msg, "%s", req->err.msg);
			err_clear(&req->err);
			return admin_render(req, resp, 422, msg, f_project, req_form(req, "reason"));
		}
		return rc;
	}
	resp_redirect(resp, 303, "/admin?done=paused");
	return 0;
}

/* POST /admin/resume (project_id: 0 or absent the whole service) → 303 | 400 | 403 */
int page_admin_resume(struct request *req, struct response *resp)
{
	int rc = require_admin_page(req);
	if (rc)
		return rc;
	long long id;
	if ((rc = web_form_int(&id, req, "project_id", 0)))
		return rc;
	int was = 0;
	if ((rc = ops_resume(&was, g_app.db, id, &req->err)))
		return rc;
	resp_redirect(resp, 303, was ? "/admin?done=resumed" : "/admin?done=notpaused");
	return 0;
}

/* POST /admin/sync-all → 303 | 403 */
int page_admin_sync_all(struct request *req, struct response *resp)
{
	int rc = require_admin_page(req);
	if (rc)
		return rc;
	long long n;
	if ((rc = ops_sync_all(&n, g_app.db, &req->err)))
		return rc;
	resp_redirect(resp, 303, "/admin?done=syncall");
	return 0;
}

/* GET /api/v1/admin/pauses → 200 {"pauses":[…]} | 403 */
int api_admin_pauses(struct request *req, struct response *resp)
{
	if (lacks_admin(req, resp))
		return 0;
	struct sync_pause *rows = NULL;
	size_t n = 0;
	int rc = store_pause_list(&rows, &n, g_app.db, &req->err);
	if (rc)
		return rc;
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, pause_json(&rows[i]));
	json_object_object_add(o, "pauses", a);
	resp_json(resp, 200, o);
	json_object_put(o);
	store_pauses_free(rows, n);
	return 0;
}

static int pause_body(long long *id, const char **reason, struct json_object **b, struct request *req,
		      struct response *resp)
{
	*id = 0;
	*reason = NULL;
	/* An empty body is the whole service. */
	if (req->body_len == 0) {
		*b = NULL;
		return 0;
	}
	if (!(*b = web_json_body(req, resp)))
		return 1;
	int present;
	if (web_json_int(id, &present, req, *b, "project_id")) {
		render_json_error(req, resp, 400, "invalid", req->err.msg);
		return 1;
	}
	struct json_object *r;
	if (json_object_object_get_ex(*b, "reason", &r) && json_object_is_type(r, json_type_string))
		*reason = json_object_get_string(r);
	return 0;
}

/* POST /api/v1/admin/pause {"project_id"?: N, "reason"?: "…"} → 200 {"paused":…} | 400 | 403 | 404 */
int api_admin_pause(struct request *req, struct response *resp)
{
	if (lacks_admin(req, resp))
		return 0;
	long long id;
	const char *reason;
	struct json_object *b;
	if (pause_body(&id, &reason, &b, req, resp))
		return 0;
	int rc = ops_pause(g_app.db, id, reason, &req->err);
	if (rc == 0) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "paused", web_pause_json(id));
		resp_json(resp, 200, o);
		json_object_put(o);
	}
	json_object_put(b);
	return rc;
}

/* POST /api/v1/admin/resume {"project_id"?: N} → 200 {"resumed": bool} | 400 | 403 */
int api_admin_resume(struct request *req, struct response *resp)
{
	if (lacks_admin(req, resp))
		return 0;
	long long id;
	const char *reason;
	struct json_object *b;
	if (pause_body(&id, &reason, &b, req, resp))
		return 0;
	int was = 0;
	int rc = ops_resume(&was, g_app.db, id, &req->err);
	if (rc == 0) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "resumed", json_object_new_boolean(was));
		resp_json(resp, 200, o);
		json_object_put(o);
	}
	json_object_put(b);
	return rc;
}

/* POST /api/v1/admin/sync-all → 202 {"projects": N} | 403 */
int api_admin_sync_all(struct request *req, struct response *resp)
{
	if (lacks_admin(req, resp))
		return 0;
	long long n;
	int rc = ops_sync_all(&n, g_app.db, &req->err);
	if (rc)
		return rc;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "projects", json_object_new_int64(n));
	resp_json(resp, 202, o);
	json_object_put(o);
	return 0;
}

/* ---- the audit log ---- */

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *audit_json(const struct audit_event *a)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(a->id));
	json_object_object_add(o, "at", jstr(a->at));
	struct json_object *actor = json_object_new_object();
	json_object_object_add(actor, "type", jstr(a->actor_type));
	json_object_object_add(actor, "user_id", a->actor_user_id ? json_object_new_int64(a->actor_user_id) : NULL);
	json_object_object_add(actor, "login", jstr(a->actor_login));
	json_object_object_add(actor, "api_key", jstr(a->actor_key));
	json_object_object_add(o, "actor", actor);
	json_object_object_add(o, "action", jstr(a->action));
	json_object_object_add(o, "target_type", jstr(a->target_type));
	json_object_object_add(o, "target_id", jstr(a->target_id));
	json_object_object_add(o, "project_id", a->project_id ? json_object_new_int64(a->project_id) : NULL);
	json_object_object_add(o, "outcome", jstr(a->outcome));
	json_object_object_add(o, "ip", jstr(a->ip));
	json_object_object_add(o, "user_agent", jstr(a->user_agent));
	json_object_object_add(o, "request_id", jstr(a->request_id));
	json_object_object_add(o, "details", a->details ? json_tokener_parse(a->details) : NULL);
	return o;
}

/* RFC 4180: every field quoted, quotes doubled. A field a spreadsheet would run as a formula
 * (=, +, -, @ first) gets a leading apostrophe (OWASP's CSV injection advice). */
static void csv_field(struct buf *b, const char *s, int last)
{
	buf_append(b, "\"", 1);
	if (s && (*s == '=' || *s == '+' || *s == '-' || *s == '@'))
		buf_append(b, "'", 1);
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == '"')
			buf_append(b, "\"", 1);
		buf_append(b, p, 1);
	}
	buf_append(b, last ? "\"\r\n" : "\",", last ? 3 : 2);
}

/* YYYY-MM-DD, optionally followed by THH:MM:SS, a fraction, and Z or +hh:mm / -hh:mm: a date that
 * exists (2026-02-31 does not), in the subset of ISO 8601 (RFC 3339) that PostgreSQL reads the same way. */
static int iso_time_ok(const char *t)
{
	if (strlen(t) > 40)
		return 0;
	struct tm tm = { 0 };
	const char *end = strptime(t, "%Y-%m-%d", &tm);
	if (!end || end - t != 10)
		return 0;
	struct tm c = tm;
	if (timegm(&c) == (time_t)-1 || c.tm_mon != tm.tm_mon || c.tm_mday != tm.tm_mday)
		return 0;
	if (!*end)
		return 1;
	if (*end != 'T' && *end != ' ')
		return 0;
	const char *hms = end + 1;
	end = strptime(hms, "%H:%M:%S", &tm);
	if (!end || end - hms != 8)
		return 0;
	if (*end == '.') {
		end++;
		size_t n = strspn(end, "0123456789");
		if (n == 0 || n > 9)
			return 0;
		end += n;
	}
	if (!*end || strcmp(end, "Z") == 0)
		return 1;
	return (*end == '+' || *end == '-') && strlen(end) == 6 && strspn(end + 1, "0123456789") == 2 && end[3] == ':' &&
	       strspn(end + 4, "0123456789") == 2;
}

/* Reads the filters (actor, action, project, since, until, before, limit); 0 or ERR_INVALID. */
static int audit_filter_read(struct audit_filter *f, struct request *req)
{
	memset(f, 0, sizeof *f);
	long long limit, before, project;
	int rc;
	if ((rc = web_query_int(&limit, req, "limit", 50)) || (rc = web_query_int(&before, req, "before", 0)) ||
	    (rc = web_query_int(&project, req, "project", 0)))
		return rc;
	f->limit = (int)limit;
	f->before_id = before;
	f->project_id = project;
	const char *s;
	f->actor = (s = req_query(req, "actor")) && *s ? s : NULL;
	f->action = (s = req_query(req, "action")) && *s ? s : NULL;
	f->since = (s = req_query(req, "since")) && *s ? s : NULL;
	f->until = (s = req_query(req, "until")) && *s ? s : NULL;
	static const char *const tf[] = { "since", "until" };
	for (int i = 0; i < 2; i++) {
		const char *t = i ? f->until : f->since;
		/* Only a real ISO 8601 time reaches PostgreSQL's cast; anything else is named here, not a 500. */
		if (t && !iso_time_ok(t))
			return err_set_field(&req->err, ERR_INVALID, tf[i], "%s: an ISO 8601 time such as 2026-11-29T20:00:00Z",
					     tf[i]);
	}
	return 0;
}

/* RFC 3986 unreserved characters as they are, every other byte percent-encoded. */
static void query_escape(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			buf_putc(b, (char)*p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

static void audit_query_keep(struct json_object *ctx, const struct audit_filter *f)
{
	json_object_object_add(ctx, "f_actor", jstr(f->actor));
	json_object_object_add(ctx, "f_action", jstr(f->action));
	if (f->project_id)
		json_object_object_add(ctx, "f_project", json_object_new_int64(f->project_id));
	json_object_object_add(ctx, "f_since", jstr(f->since));
	json_object_object_add(ctx, "f_until", jstr(f->until));
}

/* GET /api/v1/audit?actor=&action=&project=&since=&until=&before=&limit=&format=json|jsonl|csv
 * → 200 {"events":[…],"next_before":id|null} (JSON), one event per line (JSON Lines), or CSV | 400 | 403.
 * Pages go backwards by id: next_before is the cursor for the following page. */
int api_audit(struct request *req, struct response *resp)
{
	if (lacks_admin(req, resp))
		return 0;
	struct audit_filter f;
	int rc = audit_filter_read(&f, req);
	if (rc)
		return rc;
	const char *format = req_query(req, "format");
	if (format && strcmp(format, "json") && strcmp(format, "jsonl") && strcmp(format, "csv"))
		return err_set_field(&req->err, ERR_INVALID, "format", "format: json, jsonl or csv");
	struct audit_event *rows = NULL;
	size_t n = 0;
	if ((rc = store_audit_list(&rows, &n, g_app.db, &f, &req->err)))
		return rc;
	if (format && strcmp(format, "csv") == 0) {
		struct buf b = { 0 };
				buf_puts(&b, "id,at,actor_type,actor_login,actor_key,action,target_type,target_id,project_id,outcome,ip,"
			     "user_agent,request_id,details\r\n");
		for (size_t i = 0; i < n; i++) {
			char id[24], pid[24];
			snprintf(id, sizeof id, "%lld", rows[i].id);
			snprintf(pid, sizeof pid, "%lld", rows[i].project_id);
			const char *v[] = { id, rows[i].at, rows[i].actor_type, rows[i].actor_login, rows[i].actor_key,
					    rows[i].action, rows[i].target_type, rows[i].target_id,
					    rows[i].project_id ? pid : "", rows[i].outcome, rows[i].ip, rows[i].user_agent,
					    rows[i].request_id, rows[i].details };
			for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
				csv_field(&b, v[k], k + 1 == sizeof v / sizeof v[0]);
		}
		resp_text(resp, 200, "text/csv; charset=utf-8", buf_cstr(&b));
		resp_header(resp, "Content-Disposition", "attachment; filename=\"audit.csv\"");
		buf_free(&b);
	} else if (format && strcmp(format, "jsonl") == 0) {
		struct buf b = { 0 };
				for (size_t i = 0; i < n; i++) {
			struct json_object *o = audit_json(&rows[i]);
			buf_puts(&b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			buf_puts(&b, "\n");
			json_object_put(o);
		}
		resp_text(resp, 200, "application/jsonl; charset=utf-8", buf_cstr(&b));
		buf_free(&b);
	} else {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(a, audit_json(&rows[i]));
		json_object_object_add(o, "events", a);
		json_object_object_add(o, "next_before",
				       n > 0 && n == (size_t)f.limit ? json_object_new_int64(rows[n - 1].id) : NULL);
		resp_json(resp, 200, o);
		json_object_put(o);
	}
	if (n > 0 && n == (size_t)f.limit) {
		char link[64];
		snprintf(link, sizeof link, "%lld", rows[n - 1].id);
		resp_header(resp, "X-Next-Before", link);
	}
	store_audit_rows_free(rows, n);
	return 0;
}

static struct json_object *audit_rows_ctx(struct request *req, const struct audit_event *rows, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = audit_json(&rows[i]);
		json_object_object_add(o, "at_text", json_object_new_string(web_time_text(req, rows[i].at)));
		json_object_object_add(o, "details_text", jstr(rows[i].details));
		json_object_object_add(o, "who", jstr(rows[i].actor_key     ? rows[i].actor_key
						      : rows[i].actor_login ? rows[i].actor_login
									    : rows[i].actor_type));
		json_object_array_add(a, o);
	}
	return a;
}

/* GET /admin/audit (the API's filters) → 200 | 400 | 403 */
int page_admin_audit(struct request *req, struct response *resp)
{
	int rc = require_admin_page(req);
	if (rc)
		return rc;
	struct audit_filter f;
	if ((rc = audit_filter_read(&f, req)))
		return rc;
	struct audit_event *rows = NULL;
	size_t n = 0;
	if ((rc = store_audit_list(&rows, &n, g_app.db, &f, &req->err)))
		return rc;
	struct json_object *ctx = json_object_new_object();
	json_object_object_add(ctx, "events", audit_rows_ctx(req, rows, n));
	audit_query_keep(ctx, &f);
	if (n > 0 && n == (size_t)f.limit) {
		/* The next page's address keeps the filters (the template escapes it as an attribute). */
		struct buf q = { 0 };
				buf_printf(&q, "/admin/audit?before=%lld&limit=%d", rows[n - 1].id, f.limit);
		const char *names[] = { "actor", "action", "since", "until" };
		const char *vals[] = { f.actor, f.action, f.since, f.until };
		for (int i = 0; i < 4; i++)
			if (vals[i]) {
				buf_printf(&q, "&%s=", names[i]);
				query_escape(&q, vals[i]);
			}
		if (f.project_id)
			buf_printf(&q, "&project=%lld", f.project_id);
		json_object_object_add(ctx, "next", json_object_new_string(buf_cstr(&q)));
		buf_free(&q);
	}
	store_audit_rows_free(rows, n);
	render_page(req, resp, 200, "admin-audit", "Audit log", ctx);
	return 0;
}

/* The signed-in user's own security events (sign-ins, sessions, keys, GitHub), for the account page. */
struct json_object *web_account_security_events(struct request *req)
{
	struct audit_filter f = { .actor_user_id = req->user->user_id, .action = "auth.", .limit = 20 };
	struct audit_event *rows = NULL;
	size_t n = 0;
	struct err e = { 0 };
	if (store_audit_list(&rows, &n, g_app.db, &f, &e) != 0)
		return json_object_new_array();
	struct json_object *a = audit_rows_ctx(req, rows, n);
	store_audit_rows_free(rows, n);
	return a;
}
