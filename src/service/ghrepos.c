/* ghrepos.c: the user's GitHub repositories with push access for "Link": a cache searched and paged by
 * requests, refreshed by a job, so that the picker never waits for GitHub. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/log.h"
#include "github/gh.h"
#include "service/auth.h"
#include "service/ghrepos.h"

#define GH_PER_PAGE 100
/* A refresh asked for less than this long ago and still under way is not asked for again. */
#define ASK_AGAIN_SECONDS 120

void ghrepos_page_free(struct ghrepos_page *pg)
{
	if (!pg)
		return;
	store_ghrepos_free(pg->items, pg->n);
	free(pg->state);
	free(pg->refreshed_at);
	free(pg->error);
	free(pg->error_code);
	memset(pg, 0, sizeof *pg);
}

static int query_ok(const char *q, struct err *e)
{
	if (strlen(q) > GHREPOS_QUERY_MAX)
		return err_set(e, ERR_INVALID, "The search text is longer than %d characters.", GHREPOS_QUERY_MAX);
	for (const unsigned char *c = (const unsigned char *)q; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return err_set(e, ERR_INVALID, "The search text contains a control character.");
	return 0;
}

/* Marks the list refreshing and queues its job, in one transaction: a list that says "refreshing"
 * always has a job (or reads as failed once that job is gone). */
static int ask(long long *job_id, struct db *db, long long user_id, int force, struct err *e)
{
	int asked = 0, rc = db_begin(db, e);
	if (rc)
		return rc;
	if ((rc = store_ghrepos_ask(&asked, db, user_id, force, ASK_AGAIN_SECONDS, e)))
		goto fail;
	if (asked) {
		char key[48], payload[48];
		snprintf(key, sizeof key, "github_repos:%lld", user_id);
		snprintf(payload, sizeof payload, "{\"user_id\":%lld}", user_id);
		/* A person is waiting for this list: ahead of the background work. */
		struct jobs_enqueue_opts o = { .payload = payload, .dedup_key = key, .priority = 50 };
		long long id = 0;
		int coalesced;
		if ((rc = jobs_enqueue(&id, &coalesced, db, "github_repos", &o, e)) ||
		    (rc = store_ghrepos_set_job(db, user_id, id, e)))
			goto fail;
		if (job_id)
			*job_id = id;
	}
	return db_commit(db, e);
fail:
	db_rollback(db);
	return rc;
}

int ghrepos_refresh(long long *job_id, struct db *db, long long user_id, struct err *e)
{
	*job_id = 0;
	int rc = ask(job_id, db, user_id, 1, e);
	if (rc == 0 && !*job_id) {
		struct ghrepos_state st;
		if ((rc = store_ghrepos_state(&st, db, user_id, e)) == 0)
			*job_id = st.job_id;
		store_ghrepos_state_free(&st);
	}
	return rc;
}

int ghrepos_list(struct ghrepos_page *out, struct db *db, long long user_id, const char *q, int page, struct err *e)
{
	memset(out, 0, sizeof *out);
	out->age_seconds = -1;
	if (page < 1 || page > 1000)
		return err_set(e, ERR_INVALID, "page is a whole number from 1 to 1000.");
	if (!q)
		q = "";
	int rc = query_ok(q, e);
	if (rc)
		return rc;
	struct ghrepos_state st;
	if ((rc = store_ghrepos_state(&st, db, user_id, e)))
		return rc;
	/* Never read, or read long ago and not asked for lately (a failing refresh is not asked for at
	 * every page view: the Refresh button is there for that), or ghbridge created a repository since
	 * the last refresh was asked for (once: asking again marks it read). */
	int stale = st.exists && strcmp(st.state, "refreshing") != 0 &&
		    ((st.asked_seconds > GHREPOS_STALE_SECONDS &&
		      (st.age_seconds < 0 || st.age_seconds > GHREPOS_STALE_SECONDS)) || st.changed);
	if (!st.exists || stale) {
		store_ghrepos_state_free(&st);
		if ((rc = ask(NULL, db, user_id, 0, e)) || (rc = store_ghrepos_state(&st, db, user_id, e)))
			return rc;
	}
	out->state = st.state ? strdup(st.state) : strdup("refreshing");
	out->never_read = st.refreshed_at == NULL;
	out->refreshed_at = st.refreshed_at ? strdup(st.refreshed_at) : NULL;
	out->age_seconds = st.age_seconds;
	out->error = st.error ? strdup(st.error) : NULL;
	out->error_code = st.error_code ? strdup(st.error_code) : NULL;
	out->truncated = st.truncated;
	out->job_id = strcmp(out->state, "refreshing") == 0 ? st.job_id : 0;
	store_ghrepos_state_free(&st);
	if (!out->state)
		abort();
	out->page = page;
	/* One more than a page says whether there is a next one. */
	if ((rc = store_ghrepos_page(&out->items, &out->n, db, user_id, q, (page - 1) * GHREPOS_PER_PAGE,
				     GHREPOS_PER_PAGE + 1, e))) {
		ghrepos_page_free(out);
		return rc;
	}
	if (out->n > GHREPOS_PER_PAGE) {
		out->has_next = 1;
		store_ghrepo_free(&out->items[GHREPOS_PER_PAGE]);
		out->n = GHREPOS_PER_PAGE;
	}
	return 0;
}

/* ---------------------------------------------------------------- the refresh job */

int ghrepos_call(struct gh_resp *g, char **token, int *refreshed, struct db *db, long long user_id,
		 const char *method, const char *path, const char *body, struct err *e)
{
	for (;;) {
		memset(g, 0, sizeof *g);
		int rc = gh_call(g, method, path, *token, body, NULL, e);
		if (rc || g->status != 401 || *refreshed)
			return rc;
		*refreshed = 1;
		char *fresh = NULL;
		struct err e2 = { 0 };
		if (auth_github_token_refused(&fresh, db, user_id, *token, &e2))
			return 0; /* the 401 stands */
		gh_resp_free(g);
		memset(*token, 0, strlen(*token));
		free(*token);
		*token = fresh;
	}
}

void ghrepos_clock(char *out, size_t len, long epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%H:%M UTC", &tm);
}

/* Without a permissions object (not the authenticated list) push access is unknown: GitHub's
 * refusal at link time says so then. */
static int can_push(struct json_object *repo)
{
	struct json_object *perm, *push;
	if (!json_object_object_get_ex(repo, "permissions", &perm) || !json_object_object_get_ex(perm, "push", &push))
		return 1;
	return json_object_get_boolean(push);
}

static void copy_str(struct json_object *to, const char *key, struct json_object *from, const char *from_key)
{
	struct json_object *v;
	if (from && json_object_object_get_ex(from, from_key, &v) && json_object_is_type(v, json_type_string))
		json_object_object_add(to, key, json_object_new_string(json_object_get_string(v)));
}

static void note(struct job_ctx *ctx, long long user_id, const char *state, const char *msg, const char *code)
{
	struct err e = { 0 };
	if (store_ghrepos_note(ctx->db, user_id, state, msg, code, &e))
		log_msg(LOG_WARN, "user %lld: repository list state: %s", user_id, e.msg);
}

static void free_token(char **t)
{
	if (*t) {
		memset(*t, 0, strlen(*t));
		free(*t);
		*t = NULL;
	}
}

int ghrepos_job_refresh(struct job_ctx *ctx, const struct job *job)
{
	struct json_object *v;
	long long uid = json_object_object_get_ex(job->payload, "user_id", &v) ? json_object_get_int64(v) : 0;
	if (uid <= 0)
		return job_permanent(ctx, "github_repos: no user_id in the payload");
	struct err e = { 0 };
	char *token = NULL, msg[800], m[256];
	int rc = auth_github_token(&token, ctx->db, uid, &e);
	if (rc == ERR_UNAUTH || rc == ERR_NOTFOUND) {
		note(ctx, uid, "failed", "GitHub is not connected for your account. Reconnect GitHub on your account page, "
		     "then refresh the list.", "github_reconnect");
		return job_permanent(ctx, "Reconnect GitHub: %s", e.msg);
	}
	if (rc)
		return job_retry(ctx, "token: %s", e.msg);
	struct json_object *all = json_object_new_array();
	int refreshed = 0, more = 1, gp, out = JOB_DONE, truncated = 0;
	for (gp = 1; more; gp++) {
		if (gp > GHREPOS_MAX_PAGES) {
			truncated = 1;
			break;
		}
		if (job_should_stop(ctx)) {
			out = job_retry(ctx, "stopped");
			goto done;
		}
		char path[200];
		snprintf(path, sizeof path, "/user/repos?per_page=%d&page=%d&sort=full_name&affiliation=owner,"
			 "collaborator,organization_member", GH_PER_PAGE, gp);
		struct gh_resp g;
		rc = ghrepos_call(&g, &token, &refreshed, ctx->db, uid, "GET", path, NULL, &e);
		long until;
		if (rc) {
			snprintf(msg, sizeof msg, "GitHub did not answer (%s).", e.msg);
			note(ctx, uid, "refreshing", msg, "github_unavailable");
			gh_resp_free(&g);
			out = job_retry(ctx, "listing repositories: %s", e.msg);
			goto done;
		}
		if (g.status != 200 || !json_object_is_type(g.json, json_type_array)) {
			if (gh_is_rate_limited(&g, &until)) {
				char when[16];
				ghrepos_clock(when, sizeof when, until);
				snprintf(msg, sizeof msg, "GitHub's rate limit is reached; the list is read after %s.", when);
				note(ctx, uid, "refreshing", msg, "rate_limited");
				out = job_wait(ctx, (double)until + 1, "%s", msg);
			} else if (g.status == 401) {
				note(ctx, uid, "failed", "GitHub refused your token. Reconnect GitHub on your account page, "
				     "then refresh the list.", "github_reconnect");
				out = job_permanent(ctx, "Reconnect GitHub: GitHub answered 401");
			} else if (g.status == 0 || g.status >= 500) {
				snprintf(msg, sizeof msg, "GitHub did not answer well (%s).", gh_error_message(&g, m, sizeof m));
				note(ctx, uid, "refreshing", msg, "github_unavailable");
				out = job_retry(ctx, "listing repositories: %s", m);
			} else {
				snprintf(msg, sizeof msg, "GitHub refused to list your repositories (%s).",
					 gh_error_message(&g, m, sizeof m));
				note(ctx, uid, "failed", msg, "github_refused");
				out = job_permanent(ctx, "%s", msg);
			}
			gh_resp_free(&g);
			goto done;
		}
		size_t len = json_object_array_length(g.json);
		for (size_t i = 0; i < len; i++) {
			struct json_object *r = json_object_array_get_idx(g.json, i), *ow = NULL, *pv = NULL, *fn;
			if (!json_object_object_get_ex(r, "full_name", &fn) || !json_object_is_type(fn, json_type_string) ||
			    !can_push(r) || !json_object_object_get_ex(r, "owner", &ow))
				continue;
			struct json_object *x = json_object_new_object();
			copy_str(x, "full_name", r, "full_name");
			copy_str(x, "owner", ow, "login");
			copy_str(x, "name", r, "name");
			copy_str(x, "description", r, "description");
			copy_str(x, "default_branch", r, "default_branch");
			copy_str(x, "html_url", r, "html_url");
			json_object_object_get_ex(r, "private", &pv);
			json_object_object_add(x, "private", json_object_new_boolean(pv && json_object_get_boolean(pv)));
			if (!json_object_object_get_ex(x, "owner", NULL) || !json_object_object_get_ex(x, "name", NULL)) {
				json_object_put(x);
				continue;
			}
			json_object_array_add(all, x);
		}
		/* GitHub's Link header says whether there is a next page; a short page ends it too. */
		more = g.link_next[0] != '\0' && len == GH_PER_PAGE;
		gh_resp_free(&g);
	}
	if (store_ghrepos_replace(ctx->db, uid, json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN), truncated,
				  &e))
		out = job_retry(ctx, "storing the list: %s", e.msg);
	else
		log_msg(LOG_INFO, "user %lld: %zu repositories listed", uid, json_object_array_length(all));
done:
	json_object_put(all);
	free_token(&token);
	return out;
}
