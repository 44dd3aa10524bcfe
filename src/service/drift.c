/* service/drift.c: the drift check (periodic, by conditional requests), "members are authoritative", "Remove from
 * GitHub", and the log of collaborator calls with retry. No HTTP. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "core/cfg.h"
#include "core/log.h"
#include "github/gh.h"
#include "jobs/jobs.h"
#include "service/auth.h"
#include "service/drift.h"
#include "service/members.h"
#include "service/ops.h"
#include "store/projects.h"

#define DRIFT_PRIORITY 150 /* after a person's syncs (100), before the periodic poll (200) */
#define OPS_SHOWN 100

long members_drift_interval(void)
{
	long s = cfg_long(CFG_MEMBER_DRIFT_SECONDS);
	return s > 0 ? s : 0;
}

int members_drift_sweep(int *queued, struct db *db, struct err *e)
{
	long long *ids = NULL;
	int n = 0, rc;
	*queued = 0;
	long iv = members_drift_interval();
	if (iv <= 0)
		return 0;
	if ((rc = store_drift_sweep(&ids, &n, db, iv, 100, e)))
		return rc;
	for (int i = 0; i < n && rc == 0; i++) {
		/* The same dedup key as "Compare with GitHub" (members_check_drift), at a lower priority: many projects
		 * coming due at once never hold up a person's sync. */
		char dedup[64];
		snprintf(dedup, sizeof dedup, "member_drift:%lld", ids[i]);
		struct jobs_enqueue_opts o = { .project_id = ids[i], .payload = "{\"periodic\":true}", .dedup_key = dedup,
					       .priority = DRIFT_PRIORITY };
		long long job;
		if ((rc = jobs_enqueue(&job, NULL, db, "member_drift", &o, e)) == 0)
			(*queued)++;
	}
	free(ids);
	return rc;
}

/* ---- the log of collaborator calls */

void members_op_note(struct job_ctx *ctx, const struct job *job, long long project_id, const char *login,
		     const char *action, const char *request, const struct gh_resp *g, const char *no_answer, int out)
{
	struct err e = { 0 };
	char answer[300];
	const char *state = out == JOB_DONE ? "ok" : out == JOB_PERMANENT ? "failed"
			  : out == JOB_RETRY && job->attempt >= job->max_attempts ? "failed" : "retrying";
	if (g && g->status) {
		if (g->status >= 200 && g->status < 300) {
			struct json_object *id;
			if (g->status == 201 && g->json && json_object_object_get_ex(g->json, "id", &id))
				snprintf(answer, sizeof answer, "%ld: invitation %lld", g->status, (long long)json_object_get_int64(id));
			else
				snprintf(answer, sizeof answer, "%ld", g->status);
		} else {
			char m[256];
			snprintf(answer, sizeof answer, "%s", gh_error_message(g, m, sizeof m));
		}
	} else
		snprintf(answer, sizeof answer, "no answer: %s", no_answer ? no_answer : "?");
	struct json_object *v;
	int unaccounted = json_object_object_get_ex(job->payload, "unaccounted", &v) && json_object_get_boolean(v);
	if (store_member_op_note(ctx->db, project_id, job->id, login, action, request, state, g ? (int)g->status : 0,
				 answer, job->attempt, job->kind, job->payload_text ? job->payload_text : "{}", unaccounted, &e))
		log_msg(LOG_WARN, "project %lld: logging the collaborator call %s: %s", project_id, request, e.msg);
}

int members_ops_list(struct member_op **rows, int *n, struct db *db, long long project_id, int failed_only,
		     struct err *e)
{
	return store_member_ops_list(rows, n, db, project_id, failed_only, OPS_SHOWN, e);
}

/* The op's job again: the same kind and payload (a member's access coalesces with one queued for them). */
static int op_requeue(long long *job_id, struct db *db, const struct member_op *op, struct err *e)
{
	struct json_object *pl = json_tokener_parse(op->job_payload ? op->job_payload : "{}"), *v;
	char dedup[64];
	const char *dk = NULL;
	if (pl && json_object_object_get_ex(pl, "member_id", &v)) {
		snprintf(dedup, sizeof dedup, "member_github:%lld", (long long)json_object_get_int64(v));
		dk = dedup;
	}
	if (pl)
		json_object_put(pl);
	struct jobs_enqueue_opts o = { .project_id = op->project_id, .payload = op->job_payload, .dedup_key = dk,
				       .priority = 60 };
	return jobs_enqueue(job_id, NULL, db, op->job_kind, &o, e);
}

int members_op_retry(long long *job_id, struct db *db, long long project_id, long long op_id, struct err *e)
{
	struct member_op op;
	*job_id = 0;
	int rc = db_begin(db, e);
	if (rc)
		return rc;
	if ((rc = store_member_op_take_failed(&op, db, project_id, op_id, e)) == 0) {
		rc = op_requeue(job_id, db, &op, e);
		store_member_op_clear(&op);
	}
	char details[64];
	snprintf(details, sizeof details, "{\"op\":%lld}", op_id);
	return ops_audit_commit(db, rc, "member.github_retried", "member_op", NULL, project_id, details, e);
}

int members_ops_retry_failed(int *n, struct db *db, long long project_id, struct err *e)
{
	struct member_op *rows = NULL;
	int k = 0;
	*n = 0;
	int rc = store_member_ops_list(&rows, &k, db, project_id, 1, 1000, e);
	for (int i = 0; i < k && rc == 0; i++) {
		long long job;
		rc = members_op_retry(&job, db, project_id, rows[i].id, e);
		if (rc == ERR_CONFLICT) { /* retried by someone else meanwhile */
			err_clear(e);
			rc = 0;
		} else if (rc == 0)
			(*n)++;
	}
	store_member_ops_free(rows, k);
	return rc;
}

/* ---- settings and "Remove from GitHub" */

int members_authoritative(int *on, struct db *db, long long project_id, struct err *e)
{
	return store_members_authoritative(on, db, project_id, e);
}

int members_set_authoritative(struct db *db, long long project_id, int on, int confirmed, struct err *e)
{
	if (on && !confirmed)
		return err_set_field(e, ERR_INVALID, "confirm", "Turning \"members are authoritative\" on removes from GitHub "
				     "every collaborator and invitation no member accounts for: confirm it.");
	int rc = db_begin(db, e);
	if (rc == 0)
		rc = store_members_set_authoritative(db, project_id, on, e);
	return ops_audit_commit(db, rc, on ? "member.authoritative_on" : "member.authoritative_off", "project", NULL,
				project_id, NULL, e);
}

static int login_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 39 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isascii((unsigned char)s[i]) && isalnum((unsigned char)s[i])) && !(s[i] == '-' && s[i + 1] != '-'))
			return 0;
	return 1;
}

/* A member_github remove job for someone no member accounts for; dedup per login so that checks in a row
 * queue one removal. github_id (GitHub's id for login at the comparison) lets the job check that the login still
 * names them before its collaborator DELETE (members.c login_holder: a login freed by a rename may be anyone's,
 * a member's too, by the time the removal runs). */
static int queue_unaccounted_removal(long long *job_id, struct db *db, long long project_id, const char *login,
				     long long github_id, long long invitation_id, struct err *e)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "action", json_object_new_string("remove"));
	json_object_object_add(o, "login", json_object_new_string(login));
	json_object_object_add(o, "invitation_id", json_object_new_int64(invitation_id));
	json_object_object_add(o, "github_user_id", json_object_new_int64(github_id));
	json_object_object_add(o, "unaccounted", json_object_new_boolean(1));
	char dedup[96], lower[40];
	snprintf(lower, sizeof lower, "%s", login);
	for (char *c = lower; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	snprintf(dedup, sizeof dedup, "member_remove:%lld:%s", project_id, lower);
	struct jobs_enqueue_opts opts = { .project_id = project_id, .payload = json_object_to_json_string(o),
					  .dedup_key = dedup, .priority = 60 };
	long long id = 0;
	int rc = jobs_enqueue(&id, NULL, db, "member_github", &opts, e);
	json_object_put(o);
	if (rc == 0 && job_id)
		*job_id = id;
	return rc;
}

int members_drift_remove(long long *job_id, struct db *db, long long project_id, const char *login, struct err *e)
{
	struct member_drift *ds = NULL;
	struct member m;
	int nd = 0, k = -1;
	*job_id = 0;
	if (!login_ok(login))
		return err_set_field(e, ERR_NOTFOUND, "login", "The last comparison found no such collaborator or invitation.");
	if (store_member_get(&m, db, project_id, login, e) == 0) {
		store_member_free(&m);
		return err_set_field(e, ERR_CONFLICT, "login", "%s is a member now: remove them as a member instead.", login);
	}
	err_clear(e);
	int rc = store_drift_list(&ds, &nd, db, project_id, e);
	if (rc)
		return rc;
	for (int i = 0; i < nd; i++)
		if (ds[i].removable && strcasecmp(ds[i].login, login) == 0)
			k = i;
	if (k < 0)
		rc = err_set_field(e, ERR_NOTFOUND, "login", "The last comparison found no such collaborator or invitation.");
	else {
		char details[160];
		rc = db_begin(db, e);
		if (rc == 0)
			rc = queue_unaccounted_removal(job_id, db, project_id, ds[k].login, ds[k].github_user_id,
						       ds[k].invitation_id, e);
		rc = ops_audit_commit(db, rc, "member.github_removed", "member", ds[k].login, project_id,
				      ops_audit_kv(details, sizeof details, "kind", ds[k].kind), e);
	}
	store_drifts_free(ds, nd);
	return rc;
}

/* ---- the check */

/* 1 read/pull … 5 admin, 0 unknown: requests say pull/push, answers read/write (role_name, invitations). */
static int perm_level(const char *p)
{
	static const char *const req[] = { "", "pull", "triage", "push", "maintain", "admin" };
	static const char *const ans[] = { "", "read", "triage", "write", "maintain", "admin" };
	for (int i = 1; p && i <= 5; i++)
		if (strcmp(p, req[i]) == 0 || strcmp(p, ans[i]) == 0)
			return i;
	return 0;
}

static const char *level_name(int l)
{
	static const char *const ans[] = { "no", "read", "triage", "write", "maintain", "admin" };
	return ans[l < 0 ? 0 : l > 5 ? 5 : l];
}

/* A collaborator's access: role_name (the highest role from every source), else the permissions booleans (a
 * custom role's name is none of the five). */
static int collab_level(struct json_object *o)
{
	struct json_object *v;
	int l = json_object_object_get_ex(o, "role_name", &v) ? perm_level(json_object_get_string(v)) : 0;
	if (l || !json_object_object_get_ex(o, "permissions", &v))
		return l;
	static const char *const names[] = { "admin", "maintain", "push", "triage", "pull" };
	for (int i = 0; i < 5; i++) {
		struct json_object *b;
		if (json_object_object_get_ex(v, names[i], &b) && json_object_get_boolean(b))
			return 5 - i;
	}
	return 0;
}

static long long jid(struct json_object *o)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, "id", &v) ? json_object_get_int64(v) : 0;
}

static const char *jlogin(struct json_object *o)
{
	struct json_object *v;
	const char *s = o && json_object_object_get_ex(o, "login", &v) ? json_object_get_string(v) : NULL;
	return login_ok(s) ? s : NULL;
}

struct fetcher {
	struct job_ctx *ctx;
	struct project *p;
	char *token;
	int refreshed;
	int calls, not_modified;
};

/* GET path with If-None-Match when etag is set, refreshing the token once on 401 (as poll.c does). */
static int cond_get(struct gh_resp *g, struct fetcher *f, const char *path, const char *etag, struct err *e)
{
	for (;;) {
		memset(g, 0, sizeof *g);
		f->calls++;
		int rc = gh_call(g, "GET", path, f->token, NULL, etag, e);
		if (rc || g->status != 401 || f->refreshed)
			return rc;
		f->refreshed = 1;
		char *fresh = NULL;
		struct err e2 = { 0 };
		if (auth_github_token_refused(&fresh, f->ctx->db, f->p->owner_id, f->token, &e2))
			return 0;
		gh_resp_free(g);
		memset(f->token, 0, strlen(f->token));
		free(f->token);
		f->token = fresh;
	}
}

/* What the check reads of a collaborator ({id, login, role_name, permissions}) or an invitation ({id, permissions,
 * expired, created_at, invitee: {id, login}}): all that is kept between checks (a user object is mostly URLs). */
static struct json_object *slim(struct json_object *o)
{
	static const char *const keep[] = { "id", "login", "role_name", "permissions", "expired", "created_at" };
	struct json_object *out = json_object_new_object(), *v;
	for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
		if (json_object_object_get_ex(o, keep[k], &v))
			json_object_object_add(out, keep[k], json_object_get(v));
	if (json_object_object_get_ex(o, "invitee", &v) && json_object_is_type(v, json_type_object)) {
		struct json_object *u = json_object_new_object(), *x;
		if (json_object_object_get_ex(v, "id", &x))
			json_object_object_add(u, "id", json_object_get(x));
		if (json_object_object_get_ex(v, "login", &x))
			json_object_object_add(u, "login", json_object_get(x));
		json_object_object_add(out, "invitee", u);
	}
	return out;
}

static struct json_object *parse_array(const char *s)
{
	struct json_object *o = s ? json_tokener_parse(s) : NULL;
	if (o && !json_object_is_type(o, json_type_array)) {
		json_object_put(o);
		o = NULL;
	}
	return o ? o : json_object_new_array();
}

/* A stored listing is an array of pages (each GitHub's page, slimmed): the entries of every page, in order. */
static struct json_object *flatten(const char *pages_text)
{
	struct json_object *pages = parse_array(pages_text), *all = json_object_new_array();
	for (size_t k = 0; k < json_object_array_length(pages); k++) {
		struct json_object *pg = json_object_array_get_idx(pages, k);
		for (size_t i = 0; json_object_is_type(pg, json_type_array) && i < json_object_array_length(pg); i++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(pg, i)));
	}
	json_object_put(pages);
	return all;
}

/* A listing, every page, each asked with the ETag of the same page last time (docs "Best practices for using
 * the REST API": conditional requests). *pages_out: a JSON array of the pages (a 304's page is the stored one),
 * *etags_out: a JSON array of their ETags ("" when GitHub sent none). *changed: a page answered 200, or the
 * number of pages changed (or nothing was stored). 0, or the job outcome (≠ JOB_DONE) the answer calls for. */
static int fetch_list(char **pages_out, char **etags_out, int *changed, struct fetcher *f, const char *what,
		      const char *old_etags, const char *old_pages)
{
	struct err e = { 0 };
	char path[400];
	*pages_out = *etags_out = NULL;
	*changed = !old_pages || !old_etags;
	struct json_object *pages = json_object_new_array(), *tags = json_object_new_array();
	struct json_object *opages = parse_array(old_pages), *otags = parse_array(old_etags);
	size_t nold = json_object_array_length(opages);
	if (json_object_array_length(otags) != nold)
		nold = 0, *changed = 1; /* not a pair: ask afresh */
	int out = JOB_DONE;
	for (int page = 1; page <= 20; page++) {
		snprintf(path, sizeof path, "/repos/%s/%s/%s%sper_page=100&page=%d", f->p->repo_owner, f->p->repo_name, what,
			 strchr(what, '?') ? "&" : "?", page);
		struct gh_resp g;
		const char *inm = (size_t)page <= nold ? json_object_get_string(json_object_array_get_idx(otags, page - 1)) : NULL;
		if (inm && !*inm)
			inm = NULL;
		if (cond_get(&g, f, path, inm, &e)) {
			gh_resp_free(&g);
			out = job_retry(f->ctx, "GET %s: %s", path, e.msg);
			break;
		}
		int more;
		if (g.status == 304 && inm) {
			/* This page is as it was, and so is whether another follows it. */
			f->not_modified++;
			json_object_array_add(pages, json_object_get(json_object_array_get_idx(opages, page - 1)));
			json_object_array_add(tags, json_object_new_string(inm));
			more = (size_t)page < nold;
		} else if (g.status == 200 && json_object_is_type(g.json, json_type_array)) {
			*changed = 1;
			struct json_object *pg = json_object_new_array();
			for (size_t i = 0; i < json_object_array_length(g.json); i++)
				json_object_array_add(pg, slim(json_object_array_get_idx(g.json, i)));
			json_object_array_add(pages, pg);
			json_object_array_add(tags, json_object_new_string(g.etag));
			more = g.link_next[0] != '\0';
		} else {
			char m[256];
			long until;
			if (gh_is_rate_limited(&g, &until))
				out = job_wait(f->ctx, (double)until + 1, "GET %s: GitHub's rate limit", path);
			else if (g.status == 0 || g.status >= 500)
				out = job_retry(f->ctx, "GET %s: %s", path, gh_error_message(&g, m, sizeof m));
			else
				out = job_permanent(f->ctx, "GET %s: %s", path, gh_error_message(&g, m, sizeof m));
			gh_resp_free(&g);
			break;
		}
		gh_resp_free(&g);
		if (!more)
			break;
	}
	if (json_object_array_length(pages) != nold)
		*changed = 1;
	if (out == JOB_DONE) {
		*pages_out = strdup(json_object_to_json_string_ext(pages, JSON_C_TO_STRING_PLAIN));
		*etags_out = strdup(json_object_to_json_string_ext(tags, JSON_C_TO_STRING_PLAIN));
		if (!*pages_out || !*etags_out)
			abort();
	}
	json_object_put(pages);
	json_object_put(tags);
	json_object_put(opages);
	json_object_put(otags);
	return out;
}

/* The entry of arr (collaborators: the user itself; invitations: under "invitee") with GitHub user id gid. */
static struct json_object *find_user(struct json_object *arr, long long gid, int invitations)
{
	for (size_t i = 0; gid && i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *u = o;
		if (invitations && !json_object_object_get_ex(o, "invitee", &u))
			continue;
		if (jid(u) == gid)
			return o;
	}
	return NULL;
}

struct findings {
	struct member_drift *d;
	int n, cap;
};

static void add_finding(struct findings *f, const char *login, long long gid, const char *kind, long long inv,
			int removable, int level, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void add_finding(struct findings *f, const char *login, long long gid, const char *kind, long long inv,
			int removable, int level, const char *fmt, ...)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->d = realloc(f->d, (size_t)f->cap * sizeof *f->d);
		if (!f->d)
			abort();
	}
	struct member_drift *x = &f->d[f->n++];
	memset(x, 0, sizeof *x);
	char buf[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	x->login = strdup(login);
	x->kind = strdup(kind);
	x->detail = strdup(buf);
	x->github_role = level ? strdup(level_name(level)) : NULL;
	if (!x->login || !x->kind || !x->detail)
		abort();
	x->github_user_id = gid;
	x->invitation_id = inv;
	x->removable = removable;
}

static void findings_free(struct findings *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->d[i].login);
		free(f->d[i].kind);
		free(f->d[i].detail);
		free(f->d[i].github_role);
	}
	free(f->d);
}

/* owner.type of the repository: 1 a personal account's, 0 an organisation's, -1 unknown. */
static int repo_personal(struct fetcher *f, int *out)
{
	struct err e = { 0 };
	char path[256];
	struct gh_resp g;
	snprintf(path, sizeof path, "/repos/%s/%s", f->p->repo_owner, f->p->repo_name);
	if (cond_get(&g, f, path, NULL, &e)) {
		gh_resp_free(&g);
		return job_retry(f->ctx, "GET %s: %s", path, e.msg);
	}
	struct json_object *ow, *t;
	*out = -1;
	if (g.status == 200 && json_object_object_get_ex(g.json, "owner", &ow) && json_object_object_get_ex(ow, "type", &t))
		*out = strcmp(json_object_get_string(t), "User") == 0;
	int rc = JOB_DONE;
	if (g.status != 200) {
		char m[256];
		long until;
		rc = gh_is_rate_limited(&g, &until) ? job_wait(f->ctx, (double)until + 1, "GET %s: GitHub's rate limit", path)
		   : g.status == 0 || g.status >= 500 ? job_retry(f->ctx, "GET %s: %s", path, gh_error_message(&g, m, sizeof m))
		   : job_permanent(f->ctx, "GET %s: %s", path, gh_error_message(&g, m, sizeof m));
	}
	gh_resp_free(&g);
	return rc;
}

int members_job_drift(struct job_ctx *ctx, const struct job *job)
{
	struct err e = { 0 };
	struct project p = { 0 };
	struct member *ms = NULL;
	struct drift_state old = { 0 }, now = { 0 };
	struct findings fd = { 0 };
	struct fetcher f = { .ctx = ctx, .p = &p };
	struct json_object *all = NULL, *direct = NULL, *invs = NULL;
	int nm = 0, out = JOB_DONE, authoritative = 0;
	old.personal = now.personal = -1;
	if (store_project_get(&p, ctx->db, job->project_id, 0, &e)) {
		out = e.code == ERR_NOTFOUND ? JOB_DONE : job_retry(ctx, "%s", e.msg);
		goto cleanup;
	}
	if (!p.repo_owner)
		goto cleanup;
	if (auth_github_token(&f.token, ctx->db, p.owner_id, &e)) {
		out = job_permanent(ctx, "token: %s", e.msg);
		goto cleanup;
	}
	if (store_drift_state_get(&old, ctx->db, p.id, &e) && e.code != ERR_NOTFOUND) {
		out = job_retry(ctx, "%s", e.msg);
		goto cleanup;
	}
	err_clear(&e);
	char key[300];
	snprintf(key, sizeof key, "%s/%s", p.repo_owner, p.repo_name);
	for (char *c = key; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!old.repo || strcmp(old.repo, key) != 0) /* another repository: nothing stored applies */
		store_drift_state_free(&old);
	now.repo = strdup(key);
	if (!now.repo)
		abort();
	int all_changed = 1, changed;
	if ((out = fetch_list(&now.all_body, &now.all_etag, &all_changed, &f, "collaborators?affiliation=all",
			      old.all_etag, old.all_body)))
		goto cleanup;
	now.personal = old.personal;
	if (all_changed || now.personal < 0)
		if ((out = repo_personal(&f, &now.personal)))
			goto cleanup;
	if (now.personal == 0) {
		/* Who is a direct collaborator changes only with the first listing (a direct grant is part of it). */
		if (all_changed || !old.direct_body) {
			if ((out = fetch_list(&now.direct_body, &now.direct_etag, &changed, &f, "collaborators?affiliation=direct",
					      old.direct_etag, old.direct_body)))
				goto cleanup;
		} else {
			now.direct_body = strdup(old.direct_body);
			now.direct_etag = old.direct_etag ? strdup(old.direct_etag) : NULL;
		}
	}
	if ((out = fetch_list(&now.inv_body, &now.inv_etag, &changed, &f, "invitations", old.inv_etag, old.inv_body)))
		goto cleanup;
	all = flatten(now.all_body);
	direct = now.personal == 0 ? flatten(now.direct_body) : NULL;
	invs = flatten(now.inv_body);
	if (store_members_list(&ms, &nm, ctx->db, p.id, &e) || store_members_authoritative(&authoritative, ctx->db, p.id, &e)) {
		out = job_retry(ctx, "%s", e.msg);
		goto cleanup;
	}

	/* Members: their access against their role. */
	for (int j = 0; j < nm; j++) {
		struct member *m = &ms[j];
		if (!m->github_user_id || (m->user_id && m->user_id == p.owner_id) || m->github_user_id == p.owner_github_id)
			continue; /* not named by GitHub yet, or the project's own account */
		struct json_object *c = find_user(all, m->github_user_id, 0), *inv = find_user(invs, m->github_user_id, 1);
		/* Invitations are followed: an accepted one shows as a collaborator, a gone one as nothing. */
		if (c && m->gh_state && strcmp(m->gh_state, "invited") == 0)
			store_member_set_gh(ctx->db, m->id, "collaborator", m->gh_permission, 0, -1, NULL, 0, &e);
		else if (!c && !inv && m->gh_state && strcmp(m->gh_state, "invited") == 0)
			store_member_set_gh(ctx->db, m->id, "none", NULL, 0, 0,
					    "The invitation is no longer pending on GitHub (declined, expired or cancelled there).", 0, &e);
		/* An invitation GitHub shows expired: re-invited once, then only shown (members_invitation_expired). */
		struct json_object *ex;
		if (!c && inv && json_object_object_get_ex(inv, "expired", &ex) && json_object_get_boolean(ex)) {
			if ((!m->gh_invitation_id || m->gh_invitation_id == jid(inv)) &&
			    members_invitation_expired(ctx->db, m, inv, &e))
				log_msg(LOG_WARN, "member %lld: recording the expired invitation failed: %s", m->id, e.msg);
			continue;
		}
		const char *want = members_permission_for(m->role);
		int wl = perm_level(want);
		static const char *const waiting[] = { "skipped", "queued", "deferred", "expired" };
		int wait = 0;
		for (size_t k = 0; m->gh_state && k < sizeof waiting / sizeof waiting[0]; k++)
			wait |= strcmp(m->gh_state, waiting[k]) == 0;
		if (!want || wait)
			continue; /* no access asked for, a call on its way, or a state the member's row explains */
		if (now.personal == 1)
			wl = 3; /* GitHub gives every collaborator on a personal account's repository write access */
		if (c) {
			int have = collab_level(c);
			if (have < wl)
				add_finding(&fd, m->login, m->github_user_id, "permission", 0, 0, have,
					    "role %s asks for %s (%s); GitHub gives %s access", m->role, level_name(wl), want,
					    level_name(have));
		} else if (inv) {
			struct json_object *v;
			int il = json_object_object_get_ex(inv, "permissions", &v) ? perm_level(json_object_get_string(v)) : 0;
			if (now.personal != 1 && il != wl)
				add_finding(&fd, m->login, m->github_user_id, "permission", 0, 0, il,
					    "role %s asks for %s (%s); the pending invitation is for %s", m->role,
					    level_name(wl), want, level_name(il));
		} else
			add_finding(&fd, m->login, m->github_user_id, "missing", 0, 0, 0,
				    "role %s asks for %s (%s), but GitHub shows neither access nor an invitation", m->role,
				    level_name(wl), want);
	}

	/* Collaborators and invitations no member accounts for. */
	for (int pass = 0; pass < 2; pass++) {
		struct json_object *arr = pass ? invs : all;
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *o = json_object_array_get_idx(arr, i), *u = o, *v;
			if (pass && !json_object_object_get_ex(o, "invitee", &u))
				continue;
			long long gid = jid(u);
			const char *login = jlogin(u);
			if (!login || !gid || gid == p.owner_github_id || strcasecmp(login, p.repo_owner) == 0)
				continue; /* unreadable, the project's own account, or the repository's owner */
			int member = 0;
			for (int j = 0; j < nm && !member; j++)
				member = ms[j].github_user_id == gid;
			if (member)
				continue;
			if (pass) {
				int il = json_object_object_get_ex(o, "permissions", &v) ? perm_level(json_object_get_string(v)) : 0;
				struct json_object *ex;
				int expired = json_object_object_get_ex(o, "expired", &ex) && json_object_get_boolean(ex);
				add_finding(&fd, login, gid, "invitation_not_member", jid(o), 1, il,
					    "invited on GitHub (%s%s), not a member here", level_name(il), expired ? ", expired" : "");
			} else if (now.personal == 1 || find_user(direct, gid, 0)) {
				int have = collab_level(o);
				add_finding(&fd, login, gid, "not_member", 0, 1, have,
					    "%s access on GitHub as a direct collaborator, not a member here", level_name(have));
			}
			/* else: access through the organisation (an owner, the base permission, a team): its business */
		}
	}

	/* Members are authoritative: what no member accounts for goes (one queued removal per login). */
	for (int i = 0; authoritative && i < fd.n; i++) {
		struct member_drift *x = &fd.d[i];
		if (!x->removable)
			continue;
		if (queue_unaccounted_removal(NULL, ctx->db, p.id, x->login, x->github_user_id, x->invitation_id, &e)) {
			out = job_retry(ctx, "queueing the removal of %s: %s", x->login, e.msg);
			goto cleanup;
		}
		x->removing = 1;
	}
	if (store_drift_replace(ctx->db, p.id, fd.d, fd.n, &e)) {
		out = job_retry(ctx, "%s", e.msg);
		goto cleanup;
	}
	char result[200];
	snprintf(result, sizeof result, "%d call(s) to GitHub, %d answered 304 Not Modified; %d finding(s)", f.calls,
		 f.not_modified, fd.n);
	now.last_result = strdup(result);
	if (store_drift_state_put(ctx->db, p.id, &now, members_drift_interval() ? members_drift_interval() : 3600, &e))
		out = job_retry(ctx, "%s", e.msg);
	log_msg(LOG_INFO, "project %lld: drift check: %s", p.id, result);
cleanup:
	if (out != JOB_DONE && p.id && p.repo_owner) {
		/* The tab says why the comparison did not finish, in GitHub's words (ctx->error). */
		char why[600];
		snprintf(why, sizeof why, "%s: %s", out == JOB_WAIT ? "waiting" : out == JOB_PERMANENT ? "failed"
			 : "will retry", ctx->error);
		struct err e2 = { 0 };
		if (store_drift_state_note(ctx->db, p.id, why, members_drift_interval(), &e2))
			log_msg(LOG_WARN, "project %lld: noting the drift check's failure: %s", p.id, e2.msg);
	}
	if (all)
		json_object_put(all);
	if (direct)
		json_object_put(direct);
	if (invs)
		json_object_put(invs);
	findings_free(&fd);
	if (f.token) {
		memset(f.token, 0, strlen(f.token));
		free(f.token);
	}
	store_drift_state_free(&old);
	store_drift_state_free(&now);
	store_members_free(ms, nm);
	store_project_free(&p);
	return out;
}
