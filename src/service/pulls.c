/* pulls.c: pull requests of a project's repository: create, list, refresh (ETag), merge, close.
 * Dependency direction (no circle): webhooks.c and web/ call this file; it calls branches.c (branch names,
 * a branch's tip on GitHub), ghx.c (GitHub calls), projects.c and follow.c, never webhooks.c. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "service/ops.h"
#include "core/cfg.h"
#include "core/log.h"
#include "git/branch.h"
#include "git/lfs.h"
#include "git/refname.h"
#include "github/gh.h"
#include "service/auth.h"
#include "service/authorship.h"
#include "service/follow.h"
#include "service/branches.h"
#include "service/ghx.h"
#include "service/pulls.h"
#include "store/pulls.h"
#include "store/users.h"

/* ---------------------------------------------------------------- small helpers */

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static struct json_object *jobj(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v = jobj(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static long long jint(struct json_object *o, const char *k)
{
	struct json_object *v = jobj(o, k);
	return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		       ? (long long)json_object_get_int64(v) : 0;
}

static int jbool(struct json_object *o, const char *k, int def)
{
	struct json_object *v = jobj(o, k);
	return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

/* GitHub's timestamps go to PostgreSQL as text: only pass what looks like one. */
static char *ts_or_null(const char *s)
{
	if (!s || !*s || strlen(s) > 40)
		return NULL;
	for (const char *c = s; *c; c++)
		if (!strchr("0123456789-:TZ+. ", *c))
			return NULL;
	return xstrdup(s);
}

/* Links shown in the panel: only http(s) (a status's target_url is whatever a CI wrote). */
static const char *web_url(const char *u)
{
	return u && (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) ? u : NULL;
}

/* ---------------------------------------------------------------- pull requests from JSON */

int pulls_from_json(struct pull *out, struct json_object *o, long long project_id)
{
	memset(out, 0, sizeof *out);
	struct json_object *head = jobj(o, "head"), *base = jobj(o, "base"), *user = jobj(o, "user");
	struct json_object *mb = jobj(o, "merged_by"), *m = jobj(o, "mergeable");
	long long num = jint(o, "number");
	const char *hr = jstr(head, "ref"), *br = jstr(base, "ref"), *st = jstr(o, "state");
	if (num <= 0 || num > INT_MAX || !hr || !br || !st || !branches_gh_name_ok(hr) || !branches_gh_name_ok(br))
		return ERR_INVALID;
	out->project_id = project_id;
	out->number = (int)num;
	out->gh_id = jint(o, "id");
	out->node_id = dup_or_null(jstr(o, "node_id"));
	out->title = xstrdup(jstr(o, "title"));
	out->body = xstrdup(jstr(o, "body"));
	int merged = jbool(o, "merged", 0) || jstr(o, "merged_at");
	out->state = xstrdup(strcmp(st, "open") == 0 ? "open" : merged ? "merged" : "closed");
	out->draft = jbool(o, "draft", 0);
	out->head_ref = xstrdup(hr);
	out->head_sha = xstrdup(jstr(head, "sha"));
	out->base_ref = xstrdup(br);
	out->author = xstrdup(jstr(user, "login"));
	out->html_url = dup_or_null(web_url(jstr(o, "html_url")));
	out->mergeable = m && json_object_is_type(m, json_type_boolean) ? json_object_get_boolean(m) : -1;
	out->mergeable_state = xstrdup(jstr(o, "mergeable_state") ? jstr(o, "mergeable_state") : "unknown");
	out->merged_by = dup_or_null(jstr(mb, "login"));
	out->merge_commit_sha = merged ? dup_or_null(jstr(o, "merge_commit_sha")) : NULL;
	out->additions = (int)jint(o, "additions");
	out->deletions = (int)jint(o, "deletions");
	out->changed_files = (int)jint(o, "changed_files");
	out->commits = (int)jint(o, "commits");
	out->gh_created_at = ts_or_null(jstr(o, "created_at"));
	out->gh_updated_at = ts_or_null(jstr(o, "updated_at"));
	out->closed_at = ts_or_null(jstr(o, "closed_at"));
	out->merged_at = ts_or_null(jstr(o, "merged_at"));
	return 0;
}

/* Stores GitHub's answer for one pull request; out (when not NULL) gets the stored row. */
static int store_answer(struct pull *out, struct db *db, long long project_id, struct json_object *o, const char *etag,
			struct err *e)
{
	struct pull p;
	if (pulls_from_json(&p, o, project_id))
		return err_set(e, ERR_FAIL, "GitHub's pull request answer lacks number, state, head or base");
	p.etag = etag && *etag ? xstrdup(etag) : NULL;
	int applied = 0, rc = store_pull_upsert(&applied, db, &p, e);
	int number = p.number;
	store_pull_free(&p);
	if (rc == 0 && out)
		rc = store_pull_get(out, db, project_id, number, e);
	return rc;
}

/* ---------------------------------------------------------------- checks */

static const char *run_state(struct json_object *run)
{
	const char *status = jstr(run, "status"), *c = jstr(run, "conclusion");
	if (!status || strcmp(status, "completed") != 0)
		return "pending";
	if (c && (strcmp(c, "success") == 0 || strcmp(c, "neutral") == 0 || strcmp(c, "skipped") == 0))
		return "success";
	return "failure";
}

static const char *status_state(const char *s)
{
	if (s && strcmp(s, "success") == 0)
		return "success";
	if (s && strcmp(s, "pending") == 0)
		return "pending";
	return "failure";
}

static void keep_kind(struct json_object *into, const char *old_json, const char *kind)
{
	struct json_object *old = old_json ? json_tokener_parse(old_json) : NULL;
	if (old && json_object_is_type(old, json_type_array))
		for (size_t i = 0; i < json_object_array_length(old); i++) {
			struct json_object *x = json_object_array_get_idx(old, i);
			const char *k = jstr(x, "kind");
			if (k && strcmp(k, kind) == 0)
				json_object_array_add(into, json_object_get(x));
		}
	json_object_put(old);
}

static void check_add(struct json_object *a, const char *kind, const char *name, const char *state, const char *url,
		      const char *description)
{
	struct json_object *c = json_object_new_object();
	json_object_object_add(c, "kind", json_object_new_string(kind));
	json_object_object_add(c, "name", json_object_new_string(name ? name : ""));
	json_object_object_add(c, "state", json_object_new_string(state));
	json_object_object_add(c, "url", web_url(url) ? json_object_new_string(url) : NULL);
	json_object_object_add(c, "description", description ? json_object_new_string(description) : NULL);
	json_object_array_add(a, c);
}

/* The combined status and the check runs of the head commit, each with its own ETag. */
static int refresh_checks(struct ghx *g, const struct pull *pr, struct err *e)
{
	if (!pr->head_sha || strlen(pr->head_sha) != 40)
		return 0;
	int same = pr->checks_sha && strcmp(pr->checks_sha, pr->head_sha) == 0;
	struct gh_resp s, r;
	int rc = ghx_call(&s, g, "GET", same ? pr->status_etag : NULL, NULL, e, "/commits/%s/status", pr->head_sha);
	if (rc)
		return rc;
	rc = ghx_call(&r, g, "GET", same ? pr->runs_etag : NULL, NULL, e, "/commits/%s/check-runs?per_page=100",
		      pr->head_sha);
	if (rc) {
		gh_resp_free(&s);
		return rc;
	}
	if (same && s.status == 304 && r.status == 304)
		goto out;
	if (g->wait_until) {
		rc = err_set(e, ERR_RATELIMIT, "GitHub's rate limit is reached");
		goto out;
	}
	struct json_object *a = json_object_new_array();
	if (s.status == 304) {
		keep_kind(a, pr->checks, "status");
	} else if (s.status == 200) {
		struct json_object *list = jobj(s.json, "statuses");
		for (size_t i = 0; list && json_object_is_type(list, json_type_array) &&
				   i < json_object_array_length(list); i++) {
			struct json_object *x = json_object_array_get_idx(list, i);
			check_add(a, "status", jstr(x, "context"), status_state(jstr(x, "state")), jstr(x, "target_url"),
				  jstr(x, "description"));
		}
	}
	if (r.status == 304) {
		keep_kind(a, pr->checks, "run");
	} else if (r.status == 200) {
		struct json_object *list = jobj(r.json, "check_runs");
		for (size_t i = 0; list && json_object_is_type(list, json_type_array) &&
				   i < json_object_array_length(list); i++) {
			struct json_object *x = json_object_array_get_idx(list, i);
			const char *url = jstr(x, "html_url") ? jstr(x, "html_url") : jstr(x, "details_url");
			check_add(a, "run", jstr(x, "name"), run_state(x), url, jstr(x, "conclusion"));
		}
	}
	/* Any failure fails the whole; anything still running keeps it pending. */
	int fail = 0, pending = 0, n = (int)json_object_array_length(a);
	for (int i = 0; i < n; i++) {
		const char *st = jstr(json_object_array_get_idx(a, i), "state");
		fail += st && strcmp(st, "failure") == 0;
		pending += st && strcmp(st, "pending") == 0;
	}
	const char *summary = n == 0 ? "" : fail ? "failure" : pending ? "pending" : "success";
	const char *setag = s.status == 304 ? pr->status_etag : s.status == 200 ? s.etag : NULL;
	const char *retag = r.status == 304 ? pr->runs_etag : r.status == 200 ? r.etag : NULL;
	rc = store_pull_set_checks(g->db, g->p->id, pr->number, pr->head_sha, summary, json_object_to_json_string(a),
				   setag && *setag ? setag : NULL, retag && *retag ? retag : NULL, e);
	json_object_put(a);
out:
	gh_resp_free(&s);
	gh_resp_free(&r);
	return rc;
}

/* ---------------------------------------------------------------- refresh */

/* An open pull request whose answer says mergeable null: GitHub is still computing it. */
static int mergeable_pending(struct json_object *o)
{
	struct json_object *m = NULL;
	const char *st = jstr(o, "state");
	return st && strcmp(st, "open") == 0 && json_object_object_get_ex(o, "mergeable", &m) && m == NULL;
}

/* How many times refresh_one asks again while GitHub computes mergeability, and the first pause. */
#define MERGEABLE_ASKS 3
#define MERGEABLE_PAUSE_MS 250

/* A conditional GET of one pull request (a 304 costs no rate limit), then its checks when open.
 * docs pulls/get: "If the value [of mergeable] is null, then GitHub has started a background job to
 * compute the mergeability. After giving the job time to complete, resubmit the request." So an open
 * pull request answered with mergeable null is asked again up to MERGEABLE_ASKS times, pausing
 * MERGEABLE_PAUSE_MS doubled each time (1.75 s at most); still null after that, it is stored as
 * "unknown" and the next refresh asks again. */
static int refresh_one(struct ghx *g, int number, struct err *e)
{
	struct pull cur;
	struct err e2 = { 0 };
	int have = store_pull_get(&cur, g->db, g->p->id, number, &e2) == 0;
	struct gh_resp r;
	int rc;
	for (int ask = 0;; ask++) {
		rc = ghx_call(&r, g, "GET", have ? cur.etag : NULL, NULL, e, "/pulls/%d", number);
		if (rc || r.status != 200 || !r.json || g->wait_until || ask == MERGEABLE_ASKS || !mergeable_pending(r.json))
			break;
		gh_resp_free(&r);
		struct timespec pause = { 0, (long)MERGEABLE_PAUSE_MS * 1000000L << ask };
		while (pause.tv_nsec >= 1000000000L) {
			pause.tv_sec++;
			pause.tv_nsec -= 1000000000L;
		}
		nanosleep(&pause, NULL);
	}
	if (rc)
		goto out;
	if (r.status == 304 && have) {
		rc = store_pull_touch(g->db, g->p->id, number, NULL, e);
	} else if (r.status == 200 && r.json) {
		store_pull_free(&cur);
		have = 0;
		rc = store_answer(&cur, g->db, g->p->id, r.json, r.etag, e);
		have = rc == 0;
	} else {
		char what[64];
		snprintf(what, sizeof what, "Reading pull request #%d", number);
		rc = ghx_refused(&r, e, what);
	}
	if (rc == 0 && have && strcmp(cur.state, "open") == 0)
		rc = refresh_checks(g, &cur, e);
out:
	gh_resp_free(&r);
	if (have)
		store_pull_free(&cur);
	return rc;
}

static int refresh_settings(struct ghx *g, const struct pull_settings *old, struct err *e)
{
	struct gh_resp r;
	int rc = ghx_call(&r, g, "GET", old->repo_etag, NULL, e, "%s", "");
	if (rc)
		return rc;
	if (r.status == 304)
		rc = store_pull_settings_touch_repo(g->db, g->p->id, e);
	else if (r.status == 200 && r.json)
		/* Absent fields (older GitHub Enterprise, no admin view) mean GitHub's defaults: allowed. */
		rc = store_pull_settings_put_repo(g->db, g->p->id, jbool(r.json, "allow_merge_commit", 1),
						  jbool(r.json, "allow_squash_merge", 1),
						  jbool(r.json, "allow_rebase_merge", 1),
						  jbool(r.json, "delete_branch_on_merge", 0), r.etag[0] ? r.etag : NULL, e);
	else
		rc = ghx_refused(&r, e, "Reading the repository");
	gh_resp_free(&r);
	return rc;
}

static long refresh_seconds(void)
{
	long s = cfg_long(CFG_PULLS_REFRESH_SECONDS);
	return s < 0 ? 0 : s;
}

int pulls_settings(struct pull_settings *out, struct db *db, struct project *p, struct err *e)
{
	int rc = store_pull_settings_get(out, db, p->id, e);
	if (rc || (out->repo_age >= 0 && out->repo_age < refresh_seconds()))
		return rc;
	struct ghx g;
	struct err e2 = { 0 };
	if (ghx_open(&g, db, p, p->owner_id, &e2) == 0 && refresh_settings(&g, out, &e2) == 0) {
		store_pull_settings_free(out);
		rc = store_pull_settings_get(out, db, p->id, e);
	} else {
		/* The stored (or default) methods still serve; GitHub has the last word at merge time. */
		log_msg(LOG_INFO, "project %lld: repository settings not refreshed: %s", p->id, e2.msg);
	}
	ghx_close(&g);
	return rc;
}

int pulls_list(struct pull **rows, int *n, struct db *db, struct project *p, const char *state, const char *head,
	       int limit, int offset, struct err *e)
{
	if (!state || !*state)
		state = "open";
	if (strcmp(state, "open") && strcmp(state, "closed") && strcmp(state, "merged") && strcmp(state, "all"))
		return err_set(e, ERR_INVALID, "state is open, closed, merged or all.");
	if (limit <= 0 || limit > 100 || offset < 0)
		return err_set(e, ERR_INVALID, "limit is 1 to 100 and offset at least 0.");
	return store_pulls_list(rows, n, db, p->id, state, head && *head ? head : NULL, limit, offset, e);
}

int pulls_list_stale(struct db *db, struct project *p, long long *age, struct err *e)
{
	struct pull_settings s;
	if (store_pull_settings_get(&s, db, p->id, e))
		return 0;
	*age = s.list_age;
	store_pull_settings_free(&s);
	return s.list_age < 0 || s.list_age >= refresh_seconds();
}

int pulls_refresh_enqueue(long long *job_id, struct db *db, struct project *p, long long delay_ms, struct err *e)
{
	if (!p->repo_owner)
		return 0;
	char key[64];
	snprintf(key, sizeof key, "pulls_refresh:%lld", p->id);
	struct jobs_enqueue_opts o = { .project_id = p->id, .dedup_key = key, .delay_ms = delay_ms };
	long long id = 0;
	int coalesced = 0, rc = jobs_enqueue(&id, &coalesced, db, "pulls_refresh", &o, e);
	if (rc == 0 && job_id)
		*job_id = id;
	return rc;
}

int pulls_get(struct pull *out, int *stale, struct db *db, struct project *p, int number, int refresh, struct err *e)
{
	if (stale)
		*stale = 0;
	if (number <= 0)
		return err_set(e, ERR_NOTFOUND, "There is no such pull request.");
	int rc = store_pull_get(out, db, p->id, number, e);
	if (rc && rc != ERR_NOTFOUND)
		return rc;
	int have = rc == 0;
	/* An open pull request whose mergeable GitHub was still computing is asked again on the next view
	 * even when fresh (the page's "refresh" link): GitHub has the answer seconds later (docs pulls/get). */
	int pending = have && out->state && strcmp(out->state, "open") == 0 && out->mergeable < 0;
	if (refresh == PULLS_STORED ||
	    (refresh == PULLS_IF_STALE && have && !pending && out->refreshed_age < refresh_seconds()))
		return rc;
	struct ghx g;
	struct err e2 = { 0 };
	int grc = ghx_open(&g, db, p, p->owner_id, &e2);
	if (grc == 0)
		grc = refresh_one(&g, number, &e2);
	ghx_close(&g);
	if (grc == ERR_NOTFOUND && !have)
		return err_set(e, ERR_NOTFOUND, "There is no pull request #%d in %s/%s.", number, p->repo_owner,
			       p->repo_name);
	if (grc) {
		if (!have) {
			*e = e2;
			return grc;
		}
		/* GitHub did not answer: the stored view, marked stale, is better than an error page. */
		if (stale)
			*stale = 1;
		log_msg(LOG_INFO, "project %lld: pull #%d not refreshed: %s", p->id, number, e2.msg);
		return 0;
	}
	if (have)
		store_pull_free(out);
	return store_pull_get(out, db, p->id, number, e);
}

int pulls_files(struct pull *pr, struct db *db, struct project *p, struct err *e)
{
	struct ghx g;
	int rc = ghx_open(&g, db, p, p->owner_id, e);
	if (rc) {
		ghx_close(&g);
		return rc;
	}
	int same = pr->files && pr->files_sha && strcmp(pr->files_sha, pr->head_sha) == 0;
	struct gh_resp r;
	rc = ghx_call(&r, &g, "GET", same ? pr->files_etag : NULL, NULL, e, "/pulls/%d/files?per_page=100", pr->number);
	if (rc || r.status == 304)
		goto out;
	if (r.status != 200 || !r.json || !json_object_is_type(r.json, json_type_array)) {
		rc = ghx_refused(&r, e, "Reading the changed files");
		goto out;
	}
	char etag[128];
	snprintf(etag, sizeof etag, "%s", r.etag);
	struct json_object *a = json_object_new_array();
	/* GitHub lists at most 3,000 files: 30 pages of 100. */
	for (int page = 1; page <= 30; page++) {
		for (size_t i = 0; i < json_object_array_length(r.json); i++) {
			struct json_object *x = json_object_array_get_idx(r.json, i), *f = json_object_new_object();
			json_object_object_add(f, "filename", json_object_new_string(jstr(x, "filename") ? jstr(x, "filename") : ""));
			json_object_object_add(f, "status", json_object_new_string(jstr(x, "status") ? jstr(x, "status") : "modified"));
			json_object_object_add(f, "additions", json_object_new_int64(jint(x, "additions")));
			json_object_object_add(f, "deletions", json_object_new_int64(jint(x, "deletions")));
			if (jstr(x, "previous_filename"))
				json_object_object_add(f, "previous_filename", json_object_new_string(jstr(x, "previous_filename")));
			json_object_array_add(a, f);
		}
		if (!r.link_next[0])
			break;
		char next[1024];
		snprintf(next, sizeof next, "%s", r.link_next);
		gh_resp_free(&r);
		if ((rc = ghx_call(&r, &g, "GET", NULL, NULL, e, "%s", next)))
			break;
		if (r.status != 200 || !r.json || !json_object_is_type(r.json, json_type_array))
			break;
	}
	if (rc == 0) {
		const char *txt = json_object_to_json_string(a);
		rc = store_pull_set_files(db, p->id, pr->number, pr->head_sha, txt, etag[0] ? etag : NULL, e);
		if (rc == 0) {
			free(pr->files);
			pr->files = xstrdup(txt);
		}
	}
	json_object_put(a);
out:
	gh_resp_free(&r);
	ghx_close(&g);
	return rc;
}

/* ---------------------------------------------------------------- create */

static int text_ok(const char *s, int allow_newlines)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if ((*c < 0x20 && !(allow_newlines && (*c == '\n' || *c == '\r' || *c == '\t'))) || *c == 0x7f)
			return 0;
	return 1;
}

/* The open pull request whose head is branch, from GitHub (check before create). *found = 0 if none. */
static int find_open(struct pull *out, int *found, struct ghx *g, const char *branch, struct err *e)
{
	*found = 0;
	char enc[3 * BRANCH_NAME_MAX + 1];
	ghx_url_encode(enc, sizeof enc, branch, 0);
	struct gh_resp r;
	int rc = ghx_call(&r, g, "GET", NULL, NULL, e, "/pulls?state=open&head=%s:%s&per_page=10", g->p->repo_owner, enc);
	if (rc)
		return rc;
	if (r.status != 200 || !r.json || !json_object_is_type(r.json, json_type_array)) {
		rc = ghx_refused(&r, e, "Looking for an open pull request");
	} else if (json_object_array_length(r.json) > 0) {
		/* The list item lacks mergeable and the counts: read the whole pull request. */
		long long number = jint(json_object_array_get_idx(r.json, 0), "number");
		gh_resp_free(&r);
		if ((rc = ghx_call(&r, g, "GET", NULL, NULL, e, "/pulls/%lld", number)))
			return rc;
		if (r.status == 200 && r.json) {
			rc = store_answer(out, g->db, g->p->id, r.json, r.etag, e);
			*found = rc == 0;
		} else {
			rc = ghx_refused(&r, e, "Reading the open pull request");
		}
	}
	gh_resp_free(&r);
	return rc;
}

static int has_pending_changes(struct project *p, struct err *e)
{
	struct ws_file *f;
	int n, pending = 0;
	int rc = projects_files(&f, &n, p, e);
	if (rc)
		return rc;
	for (int i = 0; i < n; i++)
		pending += strcmp(f[i].status, "new") == 0 || strcmp(f[i].status, "modified") == 0 ||
			   strcmp(f[i].status, "deleted") == 0;
	git_workspace_files_free(f, n);
	return pending > 0;
}

static void field(struct json_object *fe, const char *k, const char *msg)
{
	if (!json_object_object_get_ex(fe, k, NULL))
		json_object_object_add(fe, k, json_object_new_string(msg));
}

/* The description of a pull request a member opens: theirs, then "Opened by @login through ghbridge." after a
 * blank line, so the pull request names them even when the project's account opens it on GitHub (a job acts
 * with the owner's token). The line is left out when the user is not known or it would take the description
 * past GitHub's 65,536 characters. Caller frees. */
static char *body_opened_by(struct db *db, long long user_id, const char *body)
{
	struct user u = { 0 };
	struct err e = { 0 };
	char *out = NULL;
	body = body ? body : "";
	if (user_id > 0 && store_user_get(&u, db, user_id, &e) == 0 && u.login && *u.login &&
	    strlen(body) + strlen(u.login) + 40 <= PULL_BODY_MAX) {
		if (asprintf(&out, "%s%sOpened by @%s through ghbridge.", body, *body ? "\n\n" : "", u.login) < 0)
			abort();
	}
	store_user_free(&u);
	return out ? out : xstrdup(body);
}

/* The body of GitHub's POST /repos/{o}/{r}/pulls. */
static struct json_object *pull_request_body(const char *title, size_t tl, const char *body, const char *head,
					     const char *base, int draft)
{
	struct json_object *b = json_object_new_object();
	json_object_object_add(b, "title", json_object_new_string_len(title, (int)tl));
	json_object_object_add(b, "body", json_object_new_string(body));
	json_object_object_add(b, "head", json_object_new_string(head));
	json_object_object_add(b, "base", json_object_new_string(base));
	json_object_object_add(b, "draft", json_object_new_boolean(draft));
	return b;
}

static void pulls_audit(struct db *db, const struct project *p, const char *action, int number, int rc,
			const struct err *e)
{
	char id[16];
	snprintf(id, sizeof id, "%d", number);
	ghx_audit(db, p, action, "pull_request", id, rc, e);
}

int pulls_create(struct pull *out, int *created, long long *job_id, struct json_object **field_errors,
		 struct db *db, struct project *p, long long user_id, const struct pull_new *in, struct err *e)
{
	memset(out, 0, sizeof *out);
	*created = 0;
	if (job_id)
		*job_id = 0;
	if (field_errors)
		*field_errors = NULL;
	if (!p->repo_owner)
		return err_set(e, ERR_CONFLICT, "Connect a GitHub repository to this project first.");
	const char *sync = projects_branch(p);
	struct json_object *fe = json_object_new_object();
	const char *title = in->title ? in->title : "", *body = in->body ? in->body : "";
	const char *base = in->base && *in->base ? in->base : sync;
	char head[BRANCH_NAME_MAX + 1] = "", suggest[BRANCH_NAME_MAX + 1], *msg = NULL;
	struct err fx = { 0 };
	size_t tl = strlen(title);
	while (tl && (title[tl - 1] == ' ' || title[tl - 1] == '\t'))
		tl--;
	if (tl == 0)
		field(fe, "title", "Give the pull request a title.");
	else if (strlen(title) > PULL_TITLE_MAX)
		field(fe, "title", "The title may be at most 256 characters.");
	else if (!text_ok(title, 0))
		field(fe, "title", "The title may not contain control characters or line breaks.");
	if (strlen(body) > PULL_BODY_MAX)
		field(fe, "body", "The description may be at most 65,536 characters.");
	else if (!text_ok(body, 1))
		field(fe, "body", "The description may not contain control characters.");
	if (branches_name_check(NULL, 0, base, &fx))
		field(fe, "base", fx.msg);
	if (in->from_changes) {
		if (in->head && *in->head)
			snprintf(head, sizeof head, "%.*s", BRANCH_NAME_MAX, in->head);
		else
			branches_default_name(head, sizeof head);
		if (strcmp(base, sync) != 0)
			field(fe, "base", "A pull request from pending changes goes into the sync branch.");
	} else if (!in->head || !*in->head) {
		field(fe, "head", "Name the branch to propose, or choose the pending changes.");
	} else {
		snprintf(head, sizeof head, "%.*s", BRANCH_NAME_MAX, in->head);
	}
	if (head[0] && branches_name_check(suggest, sizeof suggest, in->head && *in->head ? in->head : head, &fx)) {
		field(fe, "head", fx.msg);
		json_object_object_add(fe, "head_suggestion", json_object_new_string(suggest));
	} else if (head[0] && strcmp(head, base) == 0) {
		field(fe, "head", "The branch to propose and the base are the same branch.");
	} else if (in->from_changes && head[0] && p->repo_default_branch && strcmp(head, p->repo_default_branch) == 0) {
		field(fe, "head", "Choose a new branch name, not the repository's default branch.");
	}
	if (json_object_object_length(fe) > 0) {
		if (field_errors)
			*field_errors = fe;
		else
			json_object_put(fe);
		return err_set(e, ERR_INVALID, "Some fields are not valid; nothing was created.");
	}
	json_object_put(fe);

	struct ghx g;
	int rc = ghx_open(&g, db, p, user_id, e), found = 0;
	if (rc)
		goto out;
	/* Asking twice for the same head gives the open pull request, not a second one. */
	if ((rc = find_open(out, &found, &g, head, e)) || found)
		goto out;
	if (in->from_changes) {
		int pend = has_pending_changes(p, e);
		if (pend < 0) {
			rc = pend;
			goto out;
		}
		if (!pend) {
			rc = err_set(e, ERR_INVALID, "There are no pending changes to put in a pull request.");
			goto out;
		}
		/* The new branch is cut from the sync branch as the workspace knows it, and the pull
		 * request goes into it on GitHub: both must exist (an empty repository has neither). */
		char local[41] = "", remote[41] = "";
		int base_there = branches_remote_sha(remote, &g, sync, e);
		if (base_there < 0) {
			rc = base_there;
			goto out;
		}
		if (git_workspace_head(local, p->workspace, sync, e) || !local[0] || !base_there) {
			err_clear(e);
			rc = err_set(e, ERR_CONFLICT, "The project has not been synced to %s on GitHub yet: use Sync now once, "
				     "then propose further changes as a pull request.", sync);
			goto out;
		}
		int exists = branches_remote_sha(NULL, &g, head, e);
		if (exists < 0) {
			rc = exists;
			goto out;
		}
		if (exists) {
			char s2[BRANCH_NAME_MAX + 16];
			snprintf(s2, sizeof s2, "%.*s-2", BRANCH_NAME_MAX - 2, head);
			rc = err_set(e, ERR_CONFLICT, "A branch named '%s' exists on GitHub already; choose another name (e.g. '%s').",
				     head, s2);
			goto out;
		}
		/* The job's payload is GitHub's request body plus who asked. */
		struct json_object *pl = pull_request_body(title, tl, body, head, base, in->draft);
		json_object_object_add(pl, "user_id", json_object_new_int64(user_id));
		char key[BRANCH_NAME_MAX + 64];
		snprintf(key, sizeof key, "pulls_create:%lld:%s", p->id, head);
		struct jobs_enqueue_opts o = { .project_id = p->id, .payload = json_object_to_json_string(pl),
					       .dedup_key = key };
		int coalesced = 0;
		long long id = 0;
		rc = jobs_enqueue(&id, &coalesced, db, "pulls_create", &o, e);
		json_object_put(pl);
		if (rc)
			goto out;
		if (job_id)
			*job_id = id;
		out->project_id = p->id;
		out->head_ref = xstrdup(head);
		out->base_ref = xstrdup(base);
		out->state = xstrdup("creating");
		*created = 1;
		goto out;
	}
	int exists = branches_remote_sha(NULL, &g, head, e);
	if (exists <= 0) {
		rc = exists < 0 ? exists : err_set(e, ERR_INVALID, "There is no branch '%s' on GitHub.", head);
		goto out;
	}
	char *described = body_opened_by(db, user_id, body);
	struct json_object *b = pull_request_body(title, tl, described, head, base, in->draft);
	free(described);
	struct gh_resp r;
	rc = ghx_call(&r, &g, "POST", NULL, b, e, "/pulls");
	json_object_put(b);
	if (rc)
		goto out;
	if (r.status == 201 && r.json) {
		rc = store_answer(out, db, p->id, r.json, NULL, e);
		*created = rc == 0;
	} else if (r.status == 422 && (msg = strstr(r.body.data ? r.body.data : "", "already exists"))) {
		/* Someone (or a second click) was faster: theirs is the answer. */
		gh_resp_free(&r);
		if ((rc = find_open(out, &found, &g, head, e)) == 0 && !found)
			rc = err_set(e, ERR_CONFLICT, "GitHub says a pull request for '%s' exists already.", head);
		goto out;
	} else {
		rc = ghx_refused(&r, e, "Creating the pull request");
	}
	gh_resp_free(&r);
	if (rc == 0)
		pulls_refresh_enqueue(NULL, db, p, 3000, &fx); /* GitHub computes mergeability a little later */
out:
	if (*created && !out->number) /* queued: the job records pull.created when GitHub has it */
		ghx_audit(db, p, "pull.create_requested", "branch", head, rc, e);
	else
		pulls_audit(db, p, *created ? "pull.created" : NULL, out->number, rc, e);
	ghx_close(&g);
	return rc;
}

/* ---------------------------------------------------------------- merge, close, reopen, ready */

/* After GitHub's 405 to a merge and the refresh that followed it: a pull request GitHub now shows as a draft
 * is "draft" (docs pulls/merge: 405 "Pull Request is still a draft"); a method GitHub's repository settings,
 * read again, turn off is "method_not_allowed" (405 "… merges are not allowed on this repository."), as
 * ghbridge's own check before the call says it. Otherwise the outcome stays "not_mergeable". GitHub's words
 * stay in the message. */
static void merge_refusal(struct pull_outcome *o, struct err *e, struct ghx *g, int number, const char *method,
			  const char *words)
{
	struct pull now;
	struct err e2 = { 0 };
	int draft = 0;
	if (store_pull_get(&now, g->db, g->p->id, number, &e2) == 0) {
		draft = now.draft;
		store_pull_free(&now);
	}
	if (draft) {
		o->why = "draft";
		err_set(e, ERR_CONFLICT, "GitHub will not merge #%d: it is a draft (%s). Mark it ready for review, then merge.",
			number, words[0] ? words : "draft");
		return;
	}
	struct pull_settings s;
	if (store_pull_settings_get(&s, g->db, g->p->id, &e2))
		return;
	int read = refresh_settings(g, &s, &e2) == 0;
	store_pull_settings_free(&s);
	if (!read || store_pull_settings_get(&s, g->db, g->p->id, &e2))
		return;
	int allowed = strcmp(method, "merge") == 0 ? s.allow_merge : strcmp(method, "squash") == 0 ? s.allow_squash
												     : s.allow_rebase;
	store_pull_settings_free(&s);
	if (!allowed) {
		o->why = "method_not_allowed";
		err_set(e, ERR_INVALID, "This repository does not allow %s merges (GitHub: %s).",
			strcmp(method, "merge") == 0 ? "merge-commit" : method, words[0] ? words : "405");
	}
}

int pulls_merge(struct pull *out, struct pull_outcome *o, struct db *db, struct project *p, long long user_id,
		int number, const char *method, const char *sha, int delete_branch, struct err *e)
{
	memset(out, 0, sizeof *out);
	memset(o, 0, sizeof *o);
	if (!method || !*method)
		method = "merge";
	if (strcmp(method, "merge") && strcmp(method, "squash") && strcmp(method, "rebase")) {
		o->why = "invalid";
		return err_set(e, ERR_INVALID, "The merge method is merge, squash or rebase.");
	}
	if (sha && *sha && (strlen(sha) != 40 || strspn(sha, "0123456789abcdef") != 40)) {
		o->why = "invalid";
		return err_set(e, ERR_INVALID, "sha is the 40-character head commit you reviewed.");
	}
	struct pull pr;
	int rc = store_pull_get(&pr, db, p->id, number, e);
	if (rc)
		return rc;
	if (strcmp(pr.state, "open") != 0) {
		o->why = "not_open";
		rc = err_set(e, ERR_CONFLICT, "Pull request #%d is %s already.", number, pr.state);
		*out = pr;
		return rc;
	}
	/* GitHub refuses to merge a draft (docs pulls/merge: 405 "Pull Request is still a draft"): refused here
	 * before asking, from what ghbridge last read; a draft GitHub has since made ready is merged after a
	 * refresh shows it (or after "Ready for review"). */
	if (pr.draft) {
		o->why = "draft";
		rc = err_set(e, ERR_CONFLICT, "This pull request is a draft: mark it ready for review first.");
		*out = pr;
		return rc;
	}
	struct pull_settings s;
	if ((rc = pulls_settings(&s, db, p, e))) {
		store_pull_free(&pr);
		return rc;
	}
	int allowed = strcmp(method, "merge") == 0 ? s.allow_merge : strcmp(method, "squash") == 0 ? s.allow_squash
												     : s.allow_rebase;
	store_pull_settings_free(&s);
	if (!allowed) {
		store_pull_free(&pr);
		o->why = "method_not_allowed";
		return err_set(e, ERR_INVALID, "This repository does not allow %s merges.",
			       strcmp(method, "merge") == 0 ? "merge-commit" : method);
	}
	struct ghx g;
	if ((rc = ghx_open(&g, db, p, user_id, e)))
		goto out;
	struct json_object *b = json_object_new_object();
	json_object_object_add(b, "merge_method", json_object_new_string(method));
	if (sha && *sha)
		json_object_object_add(b, "sha", json_object_new_string(sha));
	struct gh_resp r;
	int refused = 0;
	rc = ghx_call(&r, &g, "PUT", NULL, b, e, "/pulls/%d/merge", number);
	json_object_put(b);
	if (rc)
		goto out;
	char m[400];
	ghx_words(&r, m, sizeof m);
	if (r.status == 200) {
		rc = 0;
	} else if (r.status == 405) {
		/* GitHub's 405 also covers a draft and a merge method the repository turned off since ghbridge read
		 * its settings: which one is decided below from GitHub's current view, not from the message. */
		refused = 1;
		o->why = "not_mergeable";
		rc = err_set(e, ERR_CONFLICT, "GitHub will not merge #%d: it is not mergeable (%s). Resolve the conflicts "
			     "or wait for the required checks, then try again.", number, m[0] ? m : "no reason given");
	} else if (r.status == 409) {
		o->why = "head_moved";
		rc = err_set(e, ERR_CONFLICT, "The branch %s moved since you looked at #%d (%s). Review the new commits and "
			     "merge again.", pr.head_ref, number, m[0] ? m : "head changed");
	} else if (r.status == 403 && !g.wait_until) {
		o->why = "forbidden";
		rc = err_set(e, ERR_FORBIDDEN, "GitHub refused the merge: you lack permission or the branch is protected "
			     "(%s).", m[0] ? m : "403");
	} else {
		o->why = r.status == 422 ? "invalid" : NULL; /* the error's own class says the rest */
		rc = ghx_refused(&r, e, "Merging");
	}
	gh_resp_free(&r);
	/* Whatever happened, show GitHub's current view (a moved head, a new mergeable state). */
	struct err e2 = { 0 };
	if (refresh_one(&g, number, &e2))
		log_msg(LOG_INFO, "project %lld: pull #%d not refreshed after merge: %s", p->id, number, e2.msg);
	if (refused)
		merge_refusal(o, e, &g, number, method, m);
	if (rc == 0 && delete_branch) {
		const char *h = pr.head_ref;
		if (strcmp(h, projects_branch(p)) == 0 || (p->repo_default_branch && strcmp(h, p->repo_default_branch) == 0)) {
			snprintf(o->note, sizeof o->note, "The branch %s was kept: it is the sync or default branch.", h);
		} else {
			char enc[3 * BRANCH_NAME_MAX + 1];
			ghx_url_encode(enc, sizeof enc, h, 1);
			struct gh_resp d;
			struct err e3 = { 0 };
			if (ghx_call(&d, &g, "DELETE", NULL, NULL, &e3, "/git/refs/heads/%s", enc) == 0 &&
			    (d.status == 204 || d.status == 422 || d.status == 404)) {
				snprintf(o->note, sizeof o->note, "Branch %s deleted.", h);
			} else {
				char w[300];
				ghx_words(&d, w, sizeof w);
				snprintf(o->note, sizeof o->note, "Merged, but the branch %.80s could not be deleted (%.120s).", h,
					 e3.msg[0] ? e3.msg : w[0] ? w : "GitHub refused");
			}
			gh_resp_free(&d);
		}
	}
out:
	pulls_audit(db, p, "pull.merged", number, rc, e);
	ghx_close(&g);
	store_pull_free(&pr);
	struct err e4 = { 0 };
	if (store_pull_get(out, db, p->id, number, &e4))
		memset(out, 0, sizeof *out);
	return rc;
}

/* GitHub's REST API cannot turn a draft into a ready pull request; its documented way is the
 * GraphQL mutation markPullRequestReadyForReview. */
static int mark_ready(struct ghx *g, const struct pull *pr, struct pull_outcome *o, struct err *e)
{
	if (!pr->node_id || !*pr->node_id)
		return err_set(e, ERR_CONFLICT, "GitHub has not told the pull request's id yet; refresh and try again.");
	const char *api = cfg_str(CFG_GITHUB_API_URL);
	char url[1100];
	size_t n = strlen(api);
	while (n && api[n - 1] == '/')
		n--;
	/* api.github.com/graphql; GitHub Enterprise: https://host/api/v3 → https://host/api/graphql */
	if (n >= 7 && strncmp(api + n - 7, "/api/v3", 7) == 0)
		snprintf(url, sizeof url, "%.*s/api/graphql", (int)(n - 7), api);
	else
		snprintf(url, sizeof url, "%.*s/graphql", (int)n, api);
	struct json_object *b = json_object_new_object(), *vars = json_object_new_object();
	json_object_object_add(b, "query", json_object_new_string(
		"mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id}) { pullRequest { isDraft } } }"));
	json_object_object_add(vars, "id", json_object_new_string(pr->node_id));
	json_object_object_add(b, "variables", vars);
	struct gh_resp r;
	int rc = gh_call(&r, "POST", url, g->token, json_object_to_json_string(b), NULL, e);
	json_object_put(b);
	if (rc)
		return rc;
	struct json_object *errs = jobj(r.json, "errors");
	if (r.status == 200 && errs && json_object_is_type(errs, json_type_array) && json_object_array_length(errs)) {
		const char *m = jstr(json_object_array_get_idx(errs, 0), "message");
		o->why = "invalid";
		rc = err_set(e, ERR_INVALID, "GitHub did not mark #%d ready for review: %s", pr->number, m ? m : "refused");
	} else if (r.status == 404) {
		o->why = "unsupported";
		rc = err_set(e, ERR_CONFLICT, "This GitHub has no GraphQL API, the only way to mark a draft ready for "
			     "review; do it on GitHub.");
	} else if (r.status != 200) {
		o->why = NULL;
		rc = ghx_refused(&r, e, "Marking ready for review");
	}
	gh_resp_free(&r);
	return rc;
}

int pulls_update(struct pull *out, struct pull_outcome *o, struct db *db, struct project *p, long long user_id,
		 int number, const char *title, const char *body, const char *state, int ready, struct err *e)
{
	memset(out, 0, sizeof *out);
	memset(o, 0, sizeof *o);
	o->why = "invalid";
	if (title && (!*title || strlen(title) > PULL_TITLE_MAX || !text_ok(title, 0)))
		return err_set(e, ERR_INVALID, "The title is 1 to 256 characters without line breaks.");
	if (body && (strlen(body) > PULL_BODY_MAX || !text_ok(body, 1)))
		return err_set(e, ERR_INVALID, "The description is at most 65,536 characters without control characters.");
	if (state && strcmp(state, "open") && strcmp(state, "closed"))
		return err_set(e, ERR_INVALID, "state is open or closed.");
	o->why = NULL;
	struct pull pr;
	int rc = store_pull_get(&pr, db, p->id, number, e);
	if (rc)
		return rc;
	if (state && strcmp(state, "open") == 0 && strcmp(pr.state, "merged") == 0) {
		o->why = "not_open";
		rc = err_set(e, ERR_CONFLICT, "Pull request #%d is merged; it cannot be reopened.", number);
		*out = pr;
		return rc;
	}
	struct ghx g;
	if ((rc = ghx_open(&g, db, p, user_id, e)))
		goto out;
	if (title || body || state) {
		struct json_object *b = json_object_new_object();
		if (title)
			json_object_object_add(b, "title", json_object_new_string(title));
		if (body)
			json_object_object_add(b, "body", json_object_new_string(body));
		if (state)
			json_object_object_add(b, "state", json_object_new_string(state));
		struct gh_resp r;
		rc = ghx_call(&r, &g, "PATCH", NULL, b, e, "/pulls/%d", number);
		json_object_put(b);
		if (rc)
			goto out;
		if (r.status == 200 && r.json) {
			rc = store_answer(NULL, db, p->id, r.json, NULL, e);
		} else {
			o->why = r.status == 422 ? "invalid" : NULL;
			rc = ghx_refused(&r, e, strcmp(state ? state : "", "open") == 0 ? "Reopening"
				: strcmp(state ? state : "", "closed") == 0 ? "Closing" : "Updating the pull request");
		}
		gh_resp_free(&r);
		if (rc)
			goto out;
	}
	if (ready && pr.draft) {
		if ((rc = mark_ready(&g, &pr, o, e)))
			goto out;
		struct err e2 = { 0 };
		refresh_one(&g, number, &e2);
	}
out:
	pulls_audit(db, p, state ? (strcmp(state, "closed") == 0 ? "pull.closed" : "pull.reopened") : ready ? "pull.ready" : "pull.edited", number, rc, e);
	ghx_close(&g);
	store_pull_free(&pr);
	struct err e3 = { 0 };
	if (store_pull_get(out, db, p->id, number, &e3))
		memset(out, 0, sizeof *out);
	return rc;
}

/* ---------------------------------------------------------------- jobs */

/* Loads the job's project and its owner's token; JOB_DONE (> 0 never) when there is nothing to do. */
static int job_open(struct ghx *g, struct project *p, struct job_ctx *ctx, const struct job *job, int *outcome)
{
	struct err e = { 0 };
	*outcome = -1;
	int rc = store_project_get(p, ctx->db, job->project_id, 0, &e);
	if (rc == ERR_NOTFOUND) {
		*outcome = JOB_DONE; /* deleted meanwhile */
		return -1;
	}
	if (rc) {
		*outcome = job_retry(ctx, "loading project %lld: %s", job->project_id, e.msg);
		return -1;
	}
	if (!p->repo_owner) {
		store_project_free(p);
		*outcome = JOB_DONE; /* disconnected meanwhile */
		return -1;
	}
	rc = ghx_open(g, ctx->db, p, p->owner_id, &e);
	if (rc) {
		ghx_close(g);
		*outcome = rc == ERR_UNAUTH || rc == ERR_NOTFOUND ? job_permanent(ctx, "Reconnect GitHub: %s", e.msg)
								 : job_retry(ctx, "token: %s", e.msg);
		store_project_free(p);
		return -1;
	}
	/* The repository by GitHub's id, not by a name another repository may have taken since (issue 12). */
	long until = 0;
	int renamed = 0;
	rc = projects_repo_follow(&renamed, ctx->db, p, g->token, &until, &e);
	if (rc == 0 && renamed)
		snprintf(g->repo, sizeof g->repo, "/repos/%s/%s", p->repo_owner, p->repo_name);
	if (rc) {
		ghx_close(g);
		*outcome = rc == ERR_RATELIMIT ? job_wait(ctx, (double)until + 1, "%s", e.msg)
			   : rc == ERR_NOTFOUND    ? job_permanent(ctx, "%s", e.msg)
			   : rc == ERR_UNAUTH      ? job_permanent(ctx, "Reconnect GitHub: %s", e.msg)
						   : job_retry(ctx, "%s", e.msg);
		store_project_free(p);
		return -1;
	}
	return 0;
}

/* A service error inside a job: rate limits wait, GitHub trouble retries, refusals are final. */
static int job_err(struct job_ctx *ctx, struct ghx *g, int rc, const struct err *e)
{
	if (rc == ERR_RATELIMIT)
		return job_wait(ctx, g->wait_until > 0 ? (double)g->wait_until : ctx->clock->now(ctx->clock->arg) + 60,
				"%s", e->msg);
	if (rc == ERR_FAIL || rc == ERR_TIMEOUT || rc == ERR_DB)
		return job_retry(ctx, "%s", e->msg);
	if (rc == ERR_UNAUTH)
		return job_permanent(ctx, "Reconnect GitHub: %s", e->msg);
	return job_permanent(ctx, "%s", e->msg);
}

static const char *payload_str(const struct job *job, const char *k)
{
	return jstr(job->payload, k);
}

int pulls_job_create(struct job_ctx *ctx, const struct job *job)
{
	struct project p;
	struct ghx g;
	int outcome;
	if (job_open(&g, &p, ctx, job, &outcome))
		return outcome;
	struct err e = { 0 };
	const char *title = payload_str(job, "title"), *body = payload_str(job, "body"), *head = payload_str(job, "head");
	const char *sync = projects_branch(&p);
	struct pull pr;
	int found = 0, rc;
	if (!title || !head || !git_branch_name_ok(head)) {
		outcome = job_permanent(ctx, "pulls_create: the payload lacks a title or a valid head");
		goto out;
	}
	/* 1. Done before (a redo, or a second request)? */
	if ((rc = find_open(&pr, &found, &g, head, &e))) {
		outcome = job_err(ctx, &g, rc, &e);
		goto out;
	}
	if (!found) {
		/* 2. Commit the pending changes on a new local branch cut from the sync branch. */
		struct ws_commit c;
		int reused = 0;
		char email[256];
		/* The member who asked is the commit's author (GitHub's no-reply address: docs "Setting your commit
		 * email address"); the project's account when the payload names no user or that user is gone. */
		struct user asker = { 0 };
		struct err ue = { 0 };
		struct json_object *uv;
		long long uid = json_object_object_get_ex(job->payload, "user_id", &uv) ? json_object_get_int64(uv) : 0;
		int have_asker = uid > 0 && store_user_get(&asker, ctx->db, uid, &ue) == 0 && asker.login && asker.github_id > 0;
		const char *alogin = have_asker ? asker.login : p.owner_login;
		/* Their chosen commit address when they set one on the account page (authorship.h). */
		if (!have_asker || authorship_email_of(email, sizeof email, NULL, ctx->db, uid, asker.github_id, alogin, &ue))
			authorship_noreply(email, sizeof email, have_asker ? asker.github_id : p.owner_github_id, alogin);
		char *msg;
		if (asprintf(&msg, "%s\n\n%s", title, body && *body ? body : "Proposed from ghbridge.") < 0)
			abort();
		rc = git_workspace_commit_branch(&c, &reused, p.workspace, sync, head, p.exclude_patterns, msg,
						 alogin, email, &e);
		free(msg);
		store_user_free(&asker);
		int have_commit = rc == 0;
		if (rc == ERR_INVALID) {
			/* Nothing pending: fine only when an earlier attempt pushed the branch already. */
			char sha[41];
			int exists = branches_remote_sha(sha, &g, head, &e);
			if (exists <= 0) {
				outcome = exists < 0 ? job_err(ctx, &g, exists, &e)
						     : job_permanent(ctx, "There are no pending changes to put in a pull request.");
				goto out;
			}
		} else if (rc) {
			outcome = rc == ERR_NOTFOUND ? job_permanent(ctx, "%s", e.msg) : job_retry(ctx, "%s", e.msg);
			goto out;
		}
		/* 3. Push it (never forced). */
		if (have_commit) {
			/* Git LFS (issue 16): the branch's new LFS objects go up first, as git-lfs's pre-push does. */
			char have[41] = "";
			int lfs_n = 0;
			long long lfs_bytes = 0;
			git_workspace_tracking(have, p.workspace, sync, NULL);
			rc = git_lfs_push(&lfs_n, &lfs_bytes, p.workspace, c.sha, have, p.repo_clone_url, g.token, &e);
			if (rc == ERR_FORBIDDEN) {
				outcome = job_permanent(ctx, "%s", e.msg);
				goto out;
			}
			if (rc == 0)
				rc = git_workspace_push(NULL, p.workspace, p.repo_clone_url, c.sha, head, 1, g.token, &e);
			if (rc == ERR_CONFLICT) {
				outcome = job_permanent(ctx, "A branch named '%s' exists on GitHub with other commits; "
							"choose another name.", head);
				goto out;
			}
			if (rc) {
				outcome = rc == ERR_UNAUTH ? job_permanent(ctx, "Reconnect GitHub: %s", e.msg)
							   : job_retry(ctx, "pushing %s: %s", head, e.msg);
				goto out;
			}
		}
		/* 4. Open the pull request. */
		char *described = body_opened_by(ctx->db, uid, body);
		struct json_object *b = pull_request_body(title, strlen(title), described, head, sync,
							  jbool(job->payload, "draft", 0));
		free(described);
		struct gh_resp r;
		rc = ghx_call(&r, &g, "POST", NULL, b, &e, "/pulls");
		json_object_put(b);
		if (rc) {
			outcome = job_retry(ctx, "creating the pull request: %s", e.msg);
			goto out;
		}
		if (r.status == 201 && r.json) {
			rc = store_answer(&pr, ctx->db, p.id, r.json, NULL, &e);
			found = rc == 0;
			if (found) /* a job: the audit log names the system; the request that queued it is in the project's history */
				pulls_audit(ctx->db, &p, "pull.created", pr.number, 0, NULL);
		} else if (r.status == 422 && strstr(r.body.data ? r.body.data : "", "already exists")) {
			rc = find_open(&pr, &found, &g, head, &e);
		} else {
			outcome = ghx_job_failed(ctx, &r, 0, NULL, "Creating the pull request");
			gh_resp_free(&r);
			goto out;
		}
		gh_resp_free(&r);
		if (rc || !found) {
			outcome = rc ? job_err(ctx, &g, rc, &e) : job_retry(ctx, "the new pull request is not listed yet");
			goto out;
		}
	}
	/* 5. The changes now live on the branch: the workspace goes back to the sync branch, so a sync
	 * does not push them past the review. A file changed meanwhile keeps everything as it is. */
	char tip[41] = "";
	struct err e2 = { 0 };
	char ref[BRANCH_NAME_MAX + 1];
	snprintf(ref, sizeof ref, "%s", pr.head_ref);
	if (git_workspace_head(tip, p.workspace, ref, &e2) == 0 && tip[0] &&
	    git_workspace_restore(p.workspace, tip, sync, p.exclude_patterns, &e2))
		log_msg(LOG_WARN, "project %lld: pending changes stay in the workspace after opening #%d: %s", p.id,
			pr.number, e2.msg);
	log_msg(LOG_INFO, "project %lld: pull request #%d opened from pending changes on %s", p.id, pr.number, head);
	pulls_refresh_enqueue(NULL, ctx->db, &p, 3000, &e2);
	store_pull_free(&pr);
	outcome = JOB_DONE;
out:
	ghx_close(&g);
	store_project_free(&p);
	return outcome;
}

static int webhook_active(struct db *db, long long project_id)
{
	struct webhook w;
	struct err e = { 0 };
	if (store_webhook_get(&w, db, project_id, &e))
		return 0;
	int active = w.hook_id && w.status && strcmp(w.status, "active") == 0;
	store_webhook_free(&w);
	return active;
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int pulls_job_refresh(struct job_ctx *ctx, const struct job *job)
{
	struct project p;
	struct ghx g;
	int outcome;
	if (job_open(&g, &p, ctx, job, &outcome))
		return outcome;
	struct err e = { 0 };
	struct pull_settings s;
	int *nums = NULL, n = 0, cap = 0, rc;
	struct gh_resp r = { 0 };
	if ((rc = store_pull_settings_get(&s, ctx->db, p.id, &e))) {
		outcome = job_retry(ctx, "%s", e.msg);
		goto out;
	}
	if ((rc = refresh_settings(&g, &s, &e)) && rc != ERR_NOTFOUND && rc != ERR_FORBIDDEN) {
		outcome = job_err(ctx, &g, rc, &e);
		store_pull_settings_free(&s);
		goto out;
	}
	/* The open list, conditionally: unchanged (304) means the same open numbers as stored. */
	rc = ghx_call(&r, &g, "GET", s.list_etag, NULL, &e, "/pulls?state=open&per_page=100");
	store_pull_settings_free(&s);
	if (rc || (r.status != 200 && r.status != 304)) {
		outcome = ghx_job_failed(ctx, &r, rc, &e, "Listing the open pull requests");
		goto out;
	}
	char list_etag[128] = "";
	if (r.status == 200) {
		snprintf(list_etag, sizeof list_etag, "%s", r.etag);
		for (int page = 0; page < 10; page++) {
			for (size_t i = 0; r.json && json_object_is_type(r.json, json_type_array) &&
					   i < json_object_array_length(r.json); i++) {
				long long num = jint(json_object_array_get_idx(r.json, i), "number");
				if (num <= 0 || num > INT_MAX)
					continue;
				if (n == cap) {
					cap = cap ? cap * 2 : 32;
					nums = realloc(nums, (size_t)cap * sizeof *nums);
					if (!nums)
						abort();
				}
				nums[n++] = (int)num;
			}
			if (!r.link_next[0])
				break;
			char next[1024];
			snprintf(next, sizeof next, "%s", r.link_next);
			gh_resp_free(&r);
			if (ghx_call(&r, &g, "GET", NULL, NULL, &e, "%s", next) || r.status != 200)
				break;
		}
	}
	/* Stored as open but no longer listed: closed or merged since; their own GET tells which. */
	int *stored = NULL, ns = 0;
	if ((rc = store_pulls_open_numbers(&stored, &ns, ctx->db, p.id, &e))) {
		outcome = job_retry(ctx, "%s", e.msg);
		goto out;
	}
	for (int i = 0; i < ns; i++) {
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			nums = realloc(nums, (size_t)cap * sizeof *nums);
			if (!nums)
				abort();
		}
		nums[n++] = stored[i];
	}
	free(stored);
	if (n)
		qsort(nums, (size_t)n, sizeof *nums, int_cmp);
	for (int i = 0; i < n; i++) {
		if (i && nums[i] == nums[i - 1])
			continue;
		if (job_should_stop(ctx)) {
			outcome = job_retry(ctx, "stopped");
			goto out;
		}
		if ((rc = refresh_one(&g, nums[i], &e)) && rc != ERR_NOTFOUND) {
			outcome = job_err(ctx, &g, rc, &e);
			goto out;
		}
	}
	store_pull_settings_put_list(ctx->db, p.id, list_etag[0] ? list_etag : NULL, &e);
	/* Without a webhook nobody tells us about changes: look again later while anything is open. */
	int *open = NULL, no = 0;
	if (store_pulls_open_numbers(&open, &no, ctx->db, p.id, &e) == 0 && no > 0 && !webhook_active(ctx->db, p.id)) {
		long poll = cfg_long(CFG_PULLS_POLL_SECONDS);
		if (poll > 0)
			pulls_refresh_enqueue(NULL, ctx->db, &p, poll * 1000, &e);
	}
	free(open);
	outcome = JOB_DONE;
out:
	gh_resp_free(&r);
	free(nums);
	ghx_close(&g);
	store_project_free(&p);
	return outcome;
}
