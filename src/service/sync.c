/* sync.c: the sync job: fetch, merge GitHub's changes, commit the workspace, push; conflicts become pull requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/cfg.h"
#include "core/log.h"
#include "github/gh.h"
#include "git/workspace.h"
#include "service/auth.h"
#include "service/poll.h"
#include "service/projects.h"
#include "service/sync.h"

/* What happens to GitHub's changes, by setting and trigger:
 *
 * - pull on (the default): every sync fetches the branch and merges GitHub's side into the workspace
 *   (fast-forward, or a three-way merge when both sides changed different files) before it pushes.
 * - trigger "pull" (the periodic check saw GitHub move): only GitHub's changes come in; the
 *   workspace's own changes are neither committed nor pushed, so a pull never overrides auto-sync
 *   off or a batch timeout. Unsynced files are kept; when GitHub changed one of them the pull does
 *   nothing and the next sync merges both sides.
 * - pull off: GitHub's changes never reach the workspace. A sync still never overwrites GitHub:
 *   when GitHub's branch has commits the workspace lacks, the local commits go to a branch
 *   ghbridge/unmerged-<time> with a pull request against the sync branch, and the project shows
 *   CONFLICT until someone merges it; with nothing new locally the sync does nothing.
 *   The first sync of a linked repository still starts from GitHub's history (its files come in),
 *   since nothing could be pushed on top of it otherwise without forcing. */

struct run {
	struct job_ctx *ctx;
	struct project *p;
	long long hist;
	const char *branch;
	char *token;
	int refreshed;
	struct ws_commit c;
	char commit_sha[41];
	int committed;
	const char *note;          /* history-only remark for a run that is not an error */
	double progress_at;        /* when the push progress was last written */
	long wait_until;           /* GitHub's rate limit: epoch second to come back at */
};

enum reason { REASON_CONFLICT, REASON_PULL_OFF };

static void progress_of(struct run *r, const char *step, long long n, long long total)
{
	char j[160];
	if (total > 0)
		snprintf(j, sizeof j, "{\"step\":\"%s\",\"count\":%lld,\"total\":%lld}", step, n, total);
	else
		snprintf(j, sizeof j, "{\"step\":\"%s\",\"count\":%lld}", step, n);
	struct err e = { 0 };
	store_project_set_progress(r->ctx->db, r->p->id, j, &e);
}

static void progress(struct run *r, const char *step, long long n)
{
	progress_of(r, step, n, 0);
}

/* Objects sent so far, written at most twice a second: the project page and the status API show it. */
static void on_push_progress(void *arg, unsigned current, unsigned total, size_t bytes)
{
	struct run *r = arg;
	struct timespec t;
	(void)bytes;
	clock_gettime(CLOCK_MONOTONIC, &t);
	double now = (double)t.tv_sec + t.tv_nsec / 1e9;
	if (now - r->progress_at < 0.5 && current != total)
		return;
	r->progress_at = now;
	progress_of(r, "pushing", current, total);
}

static void finish(struct run *r, const char *hstatus, const char *pstatus, const char *error, const char *cbranch,
		   const char *curl)
{
	struct err e = { 0 };
	const char *files = r->c.files ? json_object_to_json_string(r->c.files) : "[]";
	/* A commit that did not reach GitHub is nobody's to link to, and the next attempt must be
	 * able to tell that it is new (sync_run, "GitHub has it all"). */
	int done = strcmp(hstatus, "error") != 0;
	const char *sha = done && r->commit_sha[0] ? r->commit_sha : NULL;
	if (!done && !cbranch) {
		/* A failed attempt keeps the project's side branch: the next one reuses it, and its PR. */
		cbranch = r->p->conflict_branch;
		curl = r->p->conflict_url;
	}
	if (r->hist && store_sync_finish(r->ctx->db, r->hist, hstatus, sha, r->c.files_changed, r->c.additions,
					 r->c.deletions, error ? error : r->note, files, &e))
		log_msg(LOG_WARN, "project %lld: history: %s", r->p->id, e.msg);
	if (store_project_set_status(r->ctx->db, r->p->id, pstatus, error, sha, cbranch, curl, done, &e))
		log_msg(LOG_WARN, "project %lld: status: %s", r->p->id, e.msg);
}

static void free_token(char **t)
{
	if (*t) {
		memset(*t, 0, strlen(*t));
		free(*t);
		*t = NULL;
	}
}

/* GitHub answered 401: an expired GitHub App token is refreshed once and the call repeated; a
 * revoked grant marks the connection "reconnect" (auth_github_token_refused) and stays a failure. */
static int token_refreshed(struct run *r)
{
	if (r->refreshed)
		return 0;
	r->refreshed = 1;
	char *fresh = NULL;
	struct err e = { 0 };
	if (auth_github_token_refused(&fresh, r->ctx->db, r->p->owner_id, r->token, &e)) {
		log_msg(LOG_INFO, "project %lld: token refused, not refreshed: %s", r->p->id, e.msg);
		return 0;
	}
	log_msg(LOG_INFO, "project %lld: GitHub refused the token; refreshed it", r->p->id);
	free_token(&r->token);
	r->token = fresh;
	return 1;
}

static int fetch(char remote[41], struct run *r, struct err *e)
{
	int rc;
	while ((rc = git_workspace_fetch(remote, r->p->workspace, r->p->repo_clone_url, r->branch, r->token, e)) ==
		       ERR_UNAUTH &&
	       token_refreshed(r))
		err_clear(e);
	return rc;
}

static int push(unsigned *objects, struct run *r, const char *sha, const char *remote_branch, struct err *e)
{
	int rc;
	while ((rc = git_workspace_push(objects, r->p->workspace, r->p->repo_clone_url, sha, remote_branch, r->token,
					e)) == ERR_UNAUTH &&
	       token_refreshed(r))
		err_clear(e);
	return rc;
}

static int rest(struct gh_resp *g, struct run *r, const char *method, const char *path, const char *body,
		struct err *e)
{
	for (;;) {
		memset(g, 0, sizeof *g);
		int rc = gh_call(g, method, path, r->token, body, NULL, e);
		if (rc || g->status != 401 || !token_refreshed(r))
			return rc;
		gh_resp_free(g);
	}
}

static int rest_failed(struct run *r, struct gh_resp *g, struct err *e, const char *what)
{
	char m[256];
	long until;
	if (gh_is_rate_limited(g, &until)) {
		r->wait_until = until;
		return err_set(e, ERR_RATELIMIT, "GitHub's rate limit stopped %s", what);
	}
	if (g->status == 401)
		return err_set(e, ERR_UNAUTH, "GitHub refused the token (%s)", what);
	return err_set(e, ERR_FAIL, "%s: %s", what, gh_error_message(g, m, sizeof m));
}

/* Opens (or finds) the pull request for the side branch; url gets its html_url. */
static int open_pull(char *url, size_t urllen, struct run *r, const char *cbranch, const char *conflicts,
		     enum reason why, struct err *e)
{
	struct gh_resp g;
	char *path;
	if (asprintf(&path, "/repos/%s/%s/pulls?state=open&head=%s:%s", r->p->repo_owner, r->p->repo_name,
		     r->p->repo_owner, cbranch) < 0)
		abort();
	int rc = rest(&g, r, "GET", path, NULL, e);
	free(path);
	if (rc) {
		gh_resp_free(&g);
		return rc;
	}
	if (g.status == 200 && json_object_is_type(g.json, json_type_array) && json_object_array_length(g.json) > 0) {
		struct json_object *pr = json_object_array_get_idx(g.json, 0), *h;
		if (json_object_object_get_ex(pr, "html_url", &h))
			snprintf(url, urllen, "%s", json_object_get_string(h));
		gh_resp_free(&g);
		return 0;
	}
	if (g.status != 200) {
		rc = rest_failed(r, &g, e, "looking for the pull request");
		gh_resp_free(&g);
		return rc;
	}
	gh_resp_free(&g);
	struct json_object *b = json_object_new_object();
	char title[256], *body;
	int n;
	if (why == REASON_PULL_OFF) {
		snprintf(title, sizeof title, "ghbridge: changes to %s (pulling from %s is off)", r->p->name, r->branch);
		n = asprintf(&body,
			     "The project **%s** has changes to sync, but `%s` on GitHub has commits the project does "
			     "not have, and pulling GitHub's changes into the project is turned off in its settings.\n\n"
			     "Nothing was overwritten: the project's version is on this branch (`%s`) and GitHub's "
			     "version stays on `%s`. Merge this pull request to bring both together; ghbridge keeps "
			     "adding the project's next changes here until then.\n",
			     r->p->name, r->branch, cbranch, r->branch);
	} else {
		snprintf(title, sizeof title, "ghbridge: changes to %s conflict with %s", r->p->name, r->branch);
		n = asprintf(&body,
			     "ghbridge could not merge the changes made in the project **%s** with changes made on `%s` "
			     "on GitHub: both sides changed the same lines.\n\nNothing was overwritten: the project's "
			     "version is on this branch (`%s`) and GitHub's version stays on `%s`. Resolve the conflicts "
			     "here and merge this pull request; the next sync picks up the result.\n\nConflicting files: %s\n",
			     r->p->name, r->branch, cbranch, r->branch, conflicts ? conflicts : "[]");
	}
	if (n < 0)
		abort();
	json_object_object_add(b, "title", json_object_new_string(title));
	json_object_object_add(b, "head", json_object_new_string(cbranch));
	json_object_object_add(b, "base", json_object_new_string(r->branch));
	json_object_object_add(b, "body", json_object_new_string(body));
	free(body);
	if (asprintf(&path, "/repos/%s/%s/pulls", r->p->repo_owner, r->p->repo_name) < 0)
		abort();
	rc = rest(&g, r, "POST", path, json_object_to_json_string(b), e);
	free(path);
	json_object_put(b);
	if (rc == 0 && g.status != 201) {
		rc = rest_failed(r, &g, e, "opening the pull request");
	} else if (rc == 0) {
		struct json_object *h;
		if (json_object_object_get_ex(g.json, "html_url", &h))
			snprintf(url, urllen, "%s", json_object_get_string(h));
	}
	gh_resp_free(&g);
	return rc;
}

static void side_branch_name(char *out, size_t len, enum reason why)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, len, why == REASON_PULL_OFF ? "ghbridge/unmerged-%Y%m%d-%H%M%S" : "ghbridge/conflict-%Y%m%d-%H%M%S",
		 &tm);
}

/* The local side goes to a branch of its own with a pull request: nothing is overwritten or forced. */
static int conflict(struct run *r, const char *conflicts, enum reason why)
{
	struct err e = { 0 };
	char head[41], cbranch[128], url[512] = "";
	if (git_workspace_head(head, r->p->workspace, r->branch, &e) || !head[0])
		return job_retry(r->ctx, "conflict: reading the workspace: %s", e.msg);
	if (r->p->conflict_branch && *r->p->conflict_branch)
		snprintf(cbranch, sizeof cbranch, "%s", r->p->conflict_branch);
	else
		side_branch_name(cbranch, sizeof cbranch, why);
	progress(r, "pushing", 0);
	int rc = push(NULL, r, head, cbranch, &e);
	if (rc == ERR_CONFLICT) {
		/* Someone worked on the old side branch: leave it alone, use a new one. */
		side_branch_name(cbranch, sizeof cbranch, why);
		rc = push(NULL, r, head, cbranch, &e);
	}
	if (rc) {
		if (rc == ERR_UNAUTH) {
			finish(r, "error", "ERROR", "GitHub refused the token. Reconnect GitHub.", NULL, NULL);
			return job_permanent(r->ctx, "Reconnect GitHub: %s", e.msg);
		}
		finish(r, "error", "ERROR", e.msg, NULL, NULL);
		return job_retry(r->ctx, "pushing the side branch: %s", e.msg);
	}
	if ((rc = open_pull(url, sizeof url, r, cbranch, conflicts, why, &e))) {
		if (rc == ERR_RATELIMIT) {
			char when[32], msg[400];
			time_t t = (time_t)r->wait_until;
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(when, sizeof when, "%H:%M:%S UTC", &tm);
			snprintf(msg, sizeof msg, "GitHub's rate limit: the pull request for %s is opened after %s.", cbranch,
				 when);
			finish(r, "error", "PENDING", msg, cbranch, NULL);
			return job_wait(r->ctx, (double)r->wait_until + 1, "%s", msg);
		}
		if (rc == ERR_UNAUTH) {
			finish(r, "error", "ERROR", "GitHub refused the token. Reconnect GitHub.", NULL, NULL);
			return job_permanent(r->ctx, "Reconnect GitHub: %s", e.msg);
		}
		finish(r, "error", "ERROR", e.msg, NULL, NULL);
		return job_retry(r->ctx, "%s", e.msg);
	}
	char msg[600];
	if (why == REASON_PULL_OFF)
		snprintf(msg, sizeof msg, "GitHub's %s has changes this project does not have, and pulling them is off. "
			 "Your changes are on %s; merge the pull request (or turn pulling on) to bring both together.",
			 r->branch, cbranch);
	else
		snprintf(msg, sizeof msg, "GitHub's %s and this project changed the same lines in %s. Your version is "
			 "on %s; resolve the pull request to finish.", r->branch, conflicts ? conflicts : "some files", cbranch);
	snprintf(r->commit_sha, sizeof r->commit_sha, "%s", head);
	finish(r, "conflict", "CONFLICT", msg, cbranch, url[0] ? url : NULL);
	return JOB_DONE;
}

static char *message(void *arg, int files_changed)
{
	const struct project *p = arg;
	return projects_render_message(p->commit_template, p->name, files_changed, p->owner_login);
}

static const char *payload_trigger(const struct job *job)
{
	struct json_object *v;
	static const char *ok[] = { "auto", "manual", "initial", "pull", "webhook", "retry" };
	if (json_object_object_get_ex(job->payload, "trigger", &v))
		for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
			if (strcmp(json_object_get_string(v), ok[i]) == 0)
				return ok[i];
	return "auto";
}

/* The files of a commit an earlier attempt of this job made (and maybe pushed) before it failed:
 * everything between the last synced commit and head is this sync's. */
static int earlier_commit(struct run *r, const char *head)
{
	struct project *p = r->p;
	struct err e = { 0 };
	if (r->committed || !head[0] || !p->last_commit_sha || strcmp(head, p->last_commit_sha) == 0)
		return 0;
	if (r->c.files) {
		json_object_put(r->c.files);
		r->c.files = NULL;
	}
	return git_workspace_diff(&r->c, p->workspace, p->last_commit_sha, head, &e) == 0;
}

static int fail(struct run *r, struct err *e)
{
	if (e->code == ERR_UNAUTH) {
		finish(r, "error", "ERROR", "GitHub refused the token. Reconnect GitHub.", NULL, NULL);
		return job_permanent(r->ctx, "Reconnect GitHub: %s", e->msg);
	}
	finish(r, "error", "ERROR", e->msg, NULL, NULL);
	return job_retry(r->ctx, "%s", e->msg);
}

/* A pull: GitHub's changes into the workspace, nothing out (see the top of this file). */
static int pull_run(struct run *r, const char *remote, const char *before, int adopted)
{
	struct project *p = r->p;
	struct err e = { 0 };
	char head[41] = "";
	if (!p->pull_enabled) {
		r->note = "Pulling GitHub's changes is off in the settings.";
		finish(r, "nochange", "SUCCESS", NULL, NULL, NULL);
		return JOB_DONE;
	}
	int outcome = adopted ? WS_ADOPTED : WS_NOTHING;
	char *conflicts = NULL;
	if (!adopted && remote[0]) {
		int rc = git_workspace_merge(&outcome, &conflicts, p->workspace, r->branch, remote, &e);
		if (rc == ERR_CONFLICT) {
			int jr = conflict(r, conflicts, REASON_CONFLICT);
			free(conflicts);
			return jr;
		}
		free(conflicts);
		if (rc)
			return fail(r, &e);
	}
	if (outcome == WS_BLOCKED) {
		r->note = "GitHub's changes touch files that have unsynced changes here; the next sync merges both.";
		finish(r, "nochange", "SUCCESS", NULL, NULL, NULL);
		return JOB_DONE;
	}
	if (outcome != WS_FASTFORWARD && outcome != WS_MERGED && outcome != WS_ADOPTED) {
		finish(r, "nochange", "SUCCESS", NULL, NULL, NULL);
		return JOB_DONE;
	}
	if (git_workspace_head(head, p->workspace, r->branch, &e) || !head[0])
		return fail(r, &e);
	if (git_workspace_diff(&r->c, p->workspace, before, remote, &e))
		log_msg(LOG_WARN, "project %lld: pull: listing the files: %s", p->id, e.msg);
	snprintf(r->commit_sha, sizeof r->commit_sha, "%s", head);
	finish(r, "success", "SUCCESS", NULL, NULL, NULL);
	/* A merge commit is the workspace's to push: with auto-sync on, that is the next sync's job. */
	if (outcome == WS_MERGED && p->auto_sync && projects_changed(r->ctx->db, p, &e))
		log_msg(LOG_WARN, "project %lld: pull: auto-sync not queued: %s", p->id, e.msg);
	return JOB_DONE;
}

static int stage(struct run *r, struct err *e)
{
	struct project *p = r->p;
	char email[256];
	progress(r, "staging", 0);
	snprintf(email, sizeof email, "%lld+%s@users.noreply.github.com", p->owner_github_id, p->owner_login);
	int rc = git_workspace_commit(&r->c, p->workspace, r->branch, p->exclude_patterns, message, p, p->owner_login,
				      email, e);
	if (rc == 0 && r->c.sha[0]) {
		r->committed = 1;
		snprintf(r->commit_sha, sizeof r->commit_sha, "%s", r->c.sha);
		progress(r, "staged", r->c.files_changed);
	}
	return rc;
}

/* When the workspace's last commit is GitHub's tip as last seen, the new commit goes straight
 * out: no fetch first. If GitHub moved meanwhile it refuses the push (it is never forced) and
 * the full round (fetch, merge, push) follows. 1: done; 0: go on with the full round. */
static int push_at_once(int *out, int *staged, struct run *r, struct err *e)
{
	struct project *p = r->p;
	char head[41] = "", tracking[41] = "";
	if (git_workspace_head(head, p->workspace, r->branch, e) ||
	    git_workspace_tracking(tracking, p->workspace, r->branch, e) || !head[0] || strcmp(head, tracking) != 0)
		return 0;
	*staged = 1;
	if (stage(r, e)) {
		*out = fail(r, e);
		return 1;
	}
	if (!r->committed)
		return 0; /* nothing to send: the fetch tells whether GitHub has news */
	progress(r, "pushing", 0);
	unsigned objects = 0;
	int rc = push(&objects, r, r->c.sha, r->branch, e);
	if (rc == ERR_CONFLICT) {
		log_msg(LOG_INFO, "project %lld: GitHub moved; fetching and merging", p->id);
		err_clear(e);
		return 0;
	}
	if (rc) {
		*out = fail(r, e);
		return 1;
	}
	progress(r, "pushed", objects);
	finish(r, "success", "SUCCESS", NULL, NULL, NULL);
	*out = JOB_DONE;
	return 1;
}

static int sync_run(struct run *r, int pull_only)
{
	struct project *p = r->p;
	struct err e = { 0 };
	int rc, staged = 0, out;
	char remote[41] = "", head[41] = "";
	if (!pull_only && push_at_once(&out, &staged, r, &e))
		return out;
	err_clear(&e);
	for (int round = 0; round < 4; round++) {
		if (job_should_stop(r->ctx)) {
			finish(r, "error", "PENDING", "The worker stopped; the sync will resume.", NULL, NULL);
			return job_retry(r->ctx, "stopped");
		}
		progress(r, "fetching", round);
		if ((rc = fetch(remote, r, &e)))
			return fail(r, &e);
		int outcome = 0, adopted = 0;
		char *conflicts = NULL;
		if (git_workspace_head(head, p->workspace, r->branch, &e))
			return fail(r, &e);
		char before[41];
		snprintf(before, sizeof before, "%s", head);
		if (!head[0] && remote[0]) {
			if ((rc = git_workspace_merge(&outcome, NULL, p->workspace, r->branch, remote, &e)))
				return fail(r, &e);
			adopted = outcome == WS_ADOPTED;
		}
		if (pull_only)
			return pull_run(r, remote, before, adopted);
		if (round == 0 && !staged && (rc = stage(r, &e)))
			return fail(r, &e);
		if (!p->pull_enabled && remote[0]) {
			size_t ahead = 0, behind = 0;
			if (git_workspace_head(head, p->workspace, r->branch, &e))
				return fail(r, &e);
			if (head[0] && (rc = git_workspace_ahead_behind(&ahead, &behind, p->workspace, head, remote, &e)))
				return fail(r, &e);
			if (behind > 0 && ahead == 0) {
				r->note = "GitHub's branch has changes; pulling them is off in the settings.";
				finish(r, "nochange", "SUCCESS", NULL, NULL, NULL);
				return JOB_DONE;
			}
			if (behind > 0)
				return conflict(r, NULL, REASON_PULL_OFF);
		}
		if ((rc = git_workspace_merge(&outcome, &conflicts, p->workspace, r->branch, remote, &e))) {
			if (rc == ERR_CONFLICT) {
				int jr = conflict(r, conflicts, REASON_CONFLICT);
				free(conflicts);
				return jr;
			}
			free(conflicts);
			return fail(r, &e);
		}
		if (outcome == WS_BLOCKED) {
			/* Only excluded (untracked) files can be in the way after the commit above. */
			err_set(&e, ERR_CONFLICT, "GitHub's %s has files that would overwrite files excluded here; rename "
				"or remove the excluded files, or change the exclude patterns.", r->branch);
			finish(r, "error", "ERROR", e.msg, NULL, NULL);
			return job_permanent(r->ctx, "%s", e.msg);
		}
		if (git_workspace_head(head, p->workspace, r->branch, &e))
			return fail(r, &e);
		if (!head[0] || strcmp(head, remote) == 0) {
			/* GitHub has it all: no write. */
			int news = r->committed || outcome == WS_FASTFORWARD || outcome == WS_ADOPTED;
			/* An earlier attempt committed and pushed, then lost GitHub's answer (a timeout). */
			if (!news && earlier_commit(r, head))
				news = 1;
			if (head[0] && !r->commit_sha[0])
				snprintf(r->commit_sha, sizeof r->commit_sha, "%s", head);
			finish(r, news ? "success" : "nochange", "SUCCESS", NULL, NULL, NULL);
			return JOB_DONE;
		}
		progress(r, "pushing", 0);
		unsigned objects = 0;
		rc = push(&objects, r, head, r->branch, &e);
		if (rc == ERR_CONFLICT) {
			log_msg(LOG_INFO, "project %lld: push rejected (GitHub moved), merging again", p->id);
			err_clear(&e);
			continue;
		}
		if (rc)
			return fail(r, &e);
		snprintf(r->commit_sha, sizeof r->commit_sha, "%s", head);
		progress(r, "pushed", objects);
		if (!r->committed && outcome != WS_MERGED)
			earlier_commit(r, head);
		finish(r, "success", "SUCCESS", NULL, NULL, NULL);
		return JOB_DONE;
	}
	err_set(&e, ERR_FAIL, "GitHub's branch kept moving during the sync");
	return fail(r, &e);
}

int sync_job(struct job_ctx *ctx, const struct job *job)
{
	struct project p;
	struct err e = { 0 };
	int rc = store_project_get(&p, ctx->db, job->project_id, 0, &e);
	if (rc == ERR_NOTFOUND)
		return JOB_DONE; /* deleted meanwhile */
	if (rc)
		return job_retry(ctx, "loading project %lld: %s", job->project_id, e.msg);
	struct run r = { .ctx = ctx, .p = &p, .branch = projects_branch(&p) };
	if (!p.repo_owner || !p.repo_clone_url) {
		store_project_free(&p);
		return JOB_DONE; /* disconnected meanwhile */
	}
	git_workspace_set_timeout((int)cfg_long(CFG_GIT_TIMEOUT_SECONDS));
	git_workspace_on_push_progress(on_push_progress, &r);
	const char *trigger = payload_trigger(job);
	/* claims, not attempts: a run deferred by a rate limit gives its attempt back but is a row here. */
	if (store_sync_begin(&r.hist, ctx->db, p.id, job->id, trigger, job->claims, &e)) {
		store_project_free(&p);
		return job_retry(ctx, "history: %s", e.msg);
	}
	store_project_set_status(ctx->db, p.id, "SYNCING", NULL, NULL, p.conflict_branch, p.conflict_url, 0, &e);
	int out;
	rc = auth_github_token(&r.token, ctx->db, p.owner_id, &e);
	if (rc == ERR_UNAUTH || rc == ERR_NOTFOUND) {
		finish(&r, "error", "ERROR", "GitHub is not connected for the project's owner. Reconnect GitHub.", NULL, NULL);
		out = job_permanent(ctx, "Reconnect GitHub: %s", e.msg);
	} else if (rc) {
		finish(&r, "error", "ERROR", e.msg, NULL, NULL);
		out = job_retry(ctx, "token: %s", e.msg);
	} else {
		out = sync_run(&r, strcmp(trigger, "pull") == 0 || strcmp(trigger, "webhook") == 0);
	}
	git_workspace_on_push_progress(NULL, NULL);
	free_token(&r.token);
	if (r.c.files)
		json_object_put(r.c.files);
	/* Every sync leaves a periodic check behind: it starts the chain for a new connection and
	 * mends one that was lost. */
	err_clear(&e);
	if (poll_ensure(ctx->db, p.id, poll_interval_ms(), 0, &e))
		log_msg(LOG_WARN, "project %lld: periodic check not queued: %s", p.id, e.msg);
	store_project_free(&p);
	return out;
}
