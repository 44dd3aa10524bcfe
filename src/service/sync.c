/* sync.c: the sync job: fetch, merge GitHub's changes, commit the workspace, push; conflicts become pull requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <json-c/json.h>
#include "core/metrics.h"
#include "core/cfg.h"
#include "core/log.h"
#include "github/gh.h"
#include "git/branch.h"
#include "git/refname.h"
#include "git/rewrite.h"
#include "git/workspace.h"
#include "service/auth.h"
#include "service/authorship.h"
#include "service/follow.h"
#include "git/lfs.h"
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
	char branch_buf[256];      /* GitHub's new default branch, when the project follows it */
	char gh_head[256];         /* GitHub's default branch as the last fetch saw it (HEAD), unchecked */
	int may_create;            /* the sync branch is new: the push may create it on GitHub */
	int followed;              /* this run switched to GitHub's new default branch already */
	char note_buf[600];        /* r->note when it is built */
	const char *side_sha;      /* conflict(): push this to the side branch instead of the workspace's tip */
	char rewrite_note[400];    /* r->note after GitHub's branch was rewritten */
	char *token;
	int refreshed;
	struct ws_commit c;
	char commit_sha[41];
	int committed;
	const char *note;          /* history-only remark for a run that is not an error */
	char skipped_buf[1000];    /* r->note naming what the folder holds and a sync skips */
	double progress_at;        /* when the push progress was last written */
	long wait_until;           /* GitHub's rate limit: epoch second to come back at */
	int manual;                /* "Sync now": a branch that refused pushes is tried again */
	int to_side;               /* GitHub's branch refuses pushes (GH006): changes go to the side branch */
	char left_buf[1600];       /* r->note naming the files staging left out (too large, Git LFS) */
	int remade;                /* GH001: the refused commits were made again without the large files */
	char warning[400];         /* what GitHub warned about on a push that went through (GH001, over 50 MiB) */
	char warn_note[2100];
	char remade_note[600];
	size_t pushed_bytes;       /* what the last push sent (its progress callback), for /metrics */
	char lfs_note[1200];       /* r->note naming LFS pointers whose object GitHub lacks */
	char lfs_track_note[1200]; /* r->note naming files the LFS size setting moved into Git LFS */
	struct edit_row *edits;    /* who changed which path through ghbridge since the last sync (authorship.h) */
	int nedits, edits_read;
	long long edits_seq;       /* the newest edit row read: rows up to it go once a commit is made */
	struct commit_who who;     /* the last staged commit's author and co-authors */
};

/* Why the project's changes go to a side branch with a pull request: both sides changed the same
 * lines; pulling is off and GitHub has changes; GitHub's branch is protected (GH006) and takes changes
 * through pull requests only, as GitHub asks people to (docs "About protected branches"). */
enum reason { REASON_CONFLICT, REASON_PULL_OFF, REASON_PROTECTED };

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
	r->pushed_bytes = bytes;
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
	if (r->warning[0] && !error) {
		/* GitHub took the push with a warning (GH001): history says it in GitHub's words. */
		snprintf(r->warn_note, sizeof r->warn_note, "%s%sGitHub warned: %s", r->note ? r->note : "",
			 r->note ? " " : "", r->warning);
		r->note = r->warn_note;
	}
	const char *sha = done && r->commit_sha[0] ? r->commit_sha : NULL;
	if (!done && !cbranch) {
		/* A failed attempt keeps the project's side branch: the next one reuses it, and its PR. */
		cbranch = r->p->conflict_branch;
		curl = r->p->conflict_url;
	}
	metrics_sync(strcmp(hstatus, "success") == 0 ? MSY_SUCCESS : strcmp(hstatus, "nochange") == 0 ? MSY_NOCHANGE
		     : strcmp(hstatus, "conflict") == 0 ? MSY_CONFLICT : MSY_ERROR,
		     sha ? r->c.files_changed : 0, (long long)r->pushed_bytes);
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

/* Before every fetch and push: the repository is the one the project was linked to, by GitHub's id,
 * whatever it is called now (projects_repo_follow; a new name is used at once). A refused token is
 * refreshed once, as for every call; ERR_NOTFOUND (gone or hidden) stops the sync (fail). */
static int confirm_repo(struct run *r, struct err *e)
{
	for (;;) {
		long until = 0;
		int rc = projects_repo_follow(NULL, r->ctx->db, r->p, r->token, &until, e);
		if (rc == ERR_RATELIMIT)
			r->wait_until = until;
		if (rc != ERR_UNAUTH || !token_refreshed(r))
			return rc;
		err_clear(e);
	}
}

/* Git LFS (issue 16): the objects GitHub's commit points to come into the workspace's store before the
 * merge writes its files (git/lfs.c's filter then writes the content); a pointer whose object GitHub
 * lacks stays a pointer and is named in the history row, and the sync goes on. */
static int lfs_fetch(const char *remote, struct run *r, struct err *e)
{
	char *missing = NULL;
	int rc = git_lfs_fetch(&missing, r->p->workspace, remote, r->p->repo_clone_url, r->token, e);
	if (rc == 0 && missing) {
		size_t len = strlen(missing);
		while (len && missing[len - 1] == '\n')
			missing[--len] = '\0';
		for (char *p = missing; *p; p++)
			if (*p == '\n')
				*p = ';';
		snprintf(r->lfs_note, sizeof r->lfs_note, "%s%sGit LFS objects GitHub does not have (the files stay "
			 "pointers): %s", r->note ? r->note : "", r->note ? " " : "", missing);
		r->note = r->lfs_note;
	}
	free(missing);
	return rc;
}

/* Git LFS: every object the commits being pushed point to that GitHub lacks is uploaded first, as git-lfs's
 * pre-push hook does; an object GitHub has is not sent again. */
static int lfs_push(struct run *r, const char *sha, struct err *e)
{
	char have[41] = "";
	int n = 0;
	long long bytes = 0;
	git_workspace_tracking(have, r->p->workspace, r->branch, NULL);
	int rc = git_lfs_push(&n, &bytes, r->p->workspace, sha, have, r->p->repo_clone_url, r->token, e);
	if (rc == 0)
		r->pushed_bytes += (size_t)bytes;
	return rc;
}

static int fetch(char remote[41], struct run *r, struct err *e)
{
	int rc;
	if ((rc = confirm_repo(r, e)))
		return rc;
	while ((rc = git_workspace_fetch(remote, r->gh_head, sizeof r->gh_head, r->p->workspace, r->p->repo_clone_url,
					 r->branch, r->token, e)) ==
		       ERR_UNAUTH &&
	       token_refreshed(r))
		err_clear(e);
	return rc ? rc : lfs_fetch(remote, r, e);
}

static int push(unsigned *objects, struct run *r, const char *sha, const char *remote_branch, struct err *e)
{
	int rc;
	if ((rc = confirm_repo(r, e)))
		return rc;
	/* The sync branch is created only when this run found it new (branch_check); a side branch
	 * is always the sync's own. */
	int create = strcmp(remote_branch, r->branch) != 0 || r->may_create;
	if ((rc = lfs_push(r, sha, e)))
		return rc;
	while ((rc = git_workspace_push(objects, r->p->workspace, r->p->repo_clone_url, sha, remote_branch, create,
					r->token, e)) == ERR_UNAUTH &&
	       token_refreshed(r))
		err_clear(e);
	if (rc == 0 && git_workspace_push_warning()[0])
		snprintf(r->warning, sizeof r->warning, "%s", git_workspace_push_warning());
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

/* The conflicting files (JSON array text from git_workspace_merge) said in words for people: "a.md",
 * "a.md and b.md", "a.md, b.md and c.md", "a.md, b.md, c.md and 7 more files"; markdown (each path in
 * backticks, one per line) for the pull request body. */
static void files_in_words(char *out, size_t len, const char *conflicts, int markdown)
{
	struct json_object *a = conflicts ? json_tokener_parse(conflicts) : NULL;
	size_t n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0, shown = n > 5 ? 3 : n;
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < (markdown ? n : shown) && at < len; i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(a, i));
		const char *sep = markdown ? "" : i == 0 ? "" : i + 1 == n ? " and " : ", ";
		int w = markdown ? snprintf(out + at, len - at, "- `%s`\n", f) : snprintf(out + at, len - at, "%s%s", sep, f);
		if (w < 0)
			break;
		at += (size_t)w;
	}
	if (!markdown && shown < n && at < len)
		snprintf(out + at, len - at, " and %zu more files", n - shown);
	if (!n)
		snprintf(out, len, "%s", markdown ? "(none named)\n" : "some files");
	if (a)
		json_object_put(a);
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
	if (why == REASON_PROTECTED) {
		snprintf(title, sizeof title, "ghbridge: changes to %s (%s is protected)", r->p->name, r->branch);
		n = asprintf(&body,
			     "GitHub refused ghbridge's push of the project **%s** to `%s`, a protected branch:\n\n"
			     "> %s\n\nNothing was lost or forced: the project's changes are on this branch (`%s`). Merge "
			     "this pull request to bring them into `%s`; ghbridge keeps adding the project's next changes "
			     "here until then.\n",
			     r->p->name, r->branch, conflicts ? conflicts : "GH006: Protected branch update failed.", cbranch,
			     r->branch);
	} else if (why == REASON_PULL_OFF) {
		snprintf(title, sizeof title, "ghbridge: changes to %s (pulling from %s is off)", r->p->name, r->branch);
		n = asprintf(&body,
			     "The project **%s** has changes to sync, but `%s` on GitHub has commits the project does "
			     "not have, and pulling GitHub's changes into the project is turned off in its settings.\n\n"
			     "Nothing was overwritten: the project's version is on this branch (`%s`) and GitHub's "
			     "version stays on `%s`. Merge this pull request to bring both together; ghbridge keeps "
			     "adding the project's next changes here until then.\n",
			     r->p->name, r->branch, cbranch, r->branch);
	} else {
		char list[4096];
		files_in_words(list, sizeof list, conflicts, 1);
		snprintf(title, sizeof title, "ghbridge: changes to %s conflict with %s", r->p->name, r->branch);
		n = asprintf(&body,
			     "ghbridge could not merge the changes made in the project **%s** with changes made on `%s` "
			     "on GitHub: both sides changed the same lines.\n\nNothing was overwritten: the project's "
			     "version is on this branch (`%s`) and GitHub's version stays on `%s`. Resolve the conflicts "
			     "here and merge this pull request; the next sync picks up the result.\n\nConflicting files:\n\n%s",
			     r->p->name, r->branch, cbranch, r->branch, list);
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

/* ghbridge/sync-<project id>-<short sha> for a protected branch's pull request; again (the name is taken
 * by work of someone else's) adds the time. Checked by git's and GitHub's rules (git/refname.h). */
static void protected_branch_name(char *out, size_t len, const struct run *r, const char *sha, int again)
{
	char when[32] = "";
	if (again) {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(when, sizeof when, "-%Y%m%d-%H%M%S", &tm);
	}
	snprintf(out, len, "ghbridge/sync-%lld-%.7s%s", r->p->id, sha, when);
	if (git_branch_name_problem(out))
		side_branch_name(out, len, REASON_CONFLICT);
}

/* The local side goes to a branch of its own with a pull request: nothing is overwritten or forced. */
static int conflict(struct run *r, const char *conflicts, enum reason why)
{
	struct err e = { 0 };
	char head[41], cbranch[128], url[512] = "";
	if (r->side_sha)
		snprintf(head, sizeof head, "%s", r->side_sha);
	else if (git_workspace_head(head, r->p->workspace, r->branch, &e) || !head[0])
		return job_retry(r->ctx, "conflict: reading the workspace: %s", e.msg);
	/* The stored side branch is reused only while its name is one git and GitHub take. */
	if (r->p->conflict_branch && *r->p->conflict_branch && strlen(r->p->conflict_branch) < sizeof cbranch &&
	    !git_branch_name_problem(r->p->conflict_branch))
		snprintf(cbranch, sizeof cbranch, "%s", r->p->conflict_branch);
	else if (why == REASON_PROTECTED)
		protected_branch_name(cbranch, sizeof cbranch, r, head, 0);
	else
		side_branch_name(cbranch, sizeof cbranch, why);
	progress(r, "pushing", 0);
	int rc = push(NULL, r, head, cbranch, &e);
	if (rc == ERR_CONFLICT) {
		/* Someone worked on the old side branch: leave it alone, use a new one. */
		if (why == REASON_PROTECTED)
			protected_branch_name(cbranch, sizeof cbranch, r, head, 1);
		else
			side_branch_name(cbranch, sizeof cbranch, why);
		rc = push(NULL, r, head, cbranch, &e);
	}
	if (rc) {
		if (rc == ERR_UNAUTH) {
			finish(r, "error", "ERROR", "GitHub refused the token. Reconnect GitHub.", NULL, NULL);
			return job_permanent(r->ctx, "Reconnect GitHub: %s", e.msg);
		}
		if (rc == ERR_FORBIDDEN) {
			/* GitHub refuses the side branch too: said in its words, not retried. */
			finish(r, "error", "ERROR", e.msg, NULL, NULL);
			log_msg(LOG_INFO, "project %lld: %s", r->p->id, e.msg);
			return JOB_DONE;
		}
		finish(r, "error", "ERROR", e.msg, NULL, NULL);
		return job_retry(r->ctx, "pushing the side branch: %s", e.msg);
	}
	if (why == REASON_PROTECTED) {
		/* From here the project's changes are on the side branch: a retry (the pull request not opened
		 * yet) goes there too, and never pushes to the protected branch again (refuses_pushes). */
		struct err e2 = { 0 };
		if (store_project_set_push_refused(r->ctx->db, r->p->id, r->branch, &e2))
			log_msg(LOG_WARN, "project %lld: %s", r->p->id, e2.msg);
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
		finish(r, "error", "ERROR", e.msg, why == REASON_PROTECTED ? cbranch : NULL, NULL);
		return job_retry(r->ctx, "%s", e.msg);
	}
	char msg[900];
	if (why == REASON_PROTECTED) {
		const char *num = strrchr(url, '/');
		if (!r->to_side)
			/* conflicts: GitHub's refusal, "GitHub refused the push to main: GH006: …" */
			snprintf(msg, sizeof msg, "%s — pushed to branch %s and opened pull request #%s", conflicts, cbranch,
				 num ? num + 1 : "?");
		else
			snprintf(msg, sizeof msg, "GitHub's %s is protected (GH006: Protected branch update failed): the "
				 "changes were pushed to branch %s, pull request #%s. Merge it to bring them in; \"Sync now\" "
				 "tries %s again.", r->branch, cbranch, num ? num + 1 : "?", r->branch);
	} else if (why == REASON_PULL_OFF)
		snprintf(msg, sizeof msg, "GitHub's %s has changes this project does not have, and pulling them is off. "
			 "Your changes are on %s; merge the pull request (or turn pulling on) to bring both together.",
			 r->branch, cbranch);
	else {
		char words[300];
		files_in_words(words, sizeof words, conflicts, 0);
		snprintf(msg, sizeof msg, "GitHub's %s and this project changed the same lines in %s. Your version is "
			 "on %s; resolve the pull request to finish.", r->branch, words, cbranch);
	}
	snprintf(r->commit_sha, sizeof r->commit_sha, "%s", head);
	finish(r, "conflict", "CONFLICT", msg, cbranch, url[0] ? url : NULL);
	return JOB_DONE;
}

/* The commit's author, by authorship.h's rule (the members who changed its paths; the project's account
 * when none did), and its message: the project's template ({{user}}: the author's login) followed by one
 * Co-authored-by trailer per other editor after a blank line (GitHub docs "Creating a commit with
 * multiple authors"). */
static char *message(void *arg, const struct ws_commit *c, struct ws_author *author)
{
	struct run *r = arg;
	const struct project *p = r->p;
	authorship_pick(&r->who, r->edits, r->nedits, c->files, p->owner_login, p->owner_github_id);
	snprintf(author->name, sizeof author->name, "%s", r->who.name);
	snprintf(author->email, sizeof author->email, "%s", r->who.email);
	char *m = projects_render_message(p->commit_template, p->name, c->files_changed, r->who.name);
	if (!r->who.trailers[0])
		return m;
	size_t n = strlen(m);
	while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	char *full;
	if (asprintf(&full, "%.*s\n\n%s", (int)n, m, r->who.trailers) < 0)
		abort();
	free(m);
	return full;
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

/* A push GitHub refused in a way no retry changes (git_workspace_push: ERR_FORBIDDEN) is not retried
 * (issue 12: 34 pushes of a refused commit). A protected branch (GH006) takes the changes through a
 * pull request, as GitHub asks: they go to a side branch with one. Anything else ends the job with
 * GitHub's words in the history and on the project: a person has to act. */
static int sync_run(struct run *r, int pull_only);

/* Whether GitHub says this account may push to the repository (GET /repos/{owner}/{repo}, permissions.push):
 * 1 yes, 0 no, -1 not known, -2 rate limited (r->wait_until set). */
static int push_access(struct run *r)
{
	struct gh_resp g;
	struct err e = { 0 };
	char *path;
	if (asprintf(&path, "/repos/%s/%s", r->p->repo_owner, r->p->repo_name) < 0)
		abort();
	int rc = rest(&g, r, "GET", path, NULL, &e), out = -1;
	free(path);
	struct json_object *perm, *v;
	long until;
	if (rc == 0 && gh_is_rate_limited(&g, &until)) {
		r->wait_until = until;
		out = -2;
	} else if (rc == 0 && g.status == 200 && json_object_object_get_ex(g.json, "permissions", &perm) &&
		   json_object_object_get_ex(perm, "push", &v)) {
		out = json_object_get_boolean(v) ? 1 : 0;
	} else if (rc == 0 && g.status == 404) {
		out = 0;
	}
	gh_resp_free(&g);
	return out;
}

static int refused(struct run *r, struct err *e)
{
	if (git_workspace_refusal(e->msg) == WS_REFUSED_PROTECTED)
		return conflict(r, e->msg, REASON_PROTECTED);
	char tracking[41] = "";
	struct err e2 = { 0 };
	if (git_workspace_refusal(e->msg) == WS_REFUSED_TOO_LARGE && !r->remade &&
	    git_workspace_tracking(tracking, r->p->workspace, r->branch, &e2) == 0 && tracking[0] &&
	    git_workspace_uncommit(r->p->workspace, r->branch, tracking, &e2) == 0) {
		/* GH001 for commits made before staging applied the limits (an older workspace): the same pack is
		 * never sent again. The commits go back to GitHub's tip, the folder stays, and the sync commits it
		 * again, leaving the large files out (named in history), once. */
		log_msg(LOG_INFO, "project %lld: %s; committing again without the large files", r->p->id, e->msg);
		r->remade = 1;
		snprintf(r->remade_note, sizeof r->remade_note, "%s — the refused commits were made again without the files "
			 "over the limit.", e->msg);
		r->committed = 0;
		r->commit_sha[0] = '\0';
		if (r->c.files) {
			json_object_put(r->c.files);
			r->c.files = NULL;
		}
		r->note = r->remade_note;
		err_clear(e);
		return sync_run(r, 0);
	}
	if (git_workspace_refusal(e->msg) == WS_REFUSED_NO_ACCESS) {
		/* git's 403 says no more than its status: GitHub's answer for the repository tells a user without
		 * push access (for good) from a 403 that passes (a rate limit on the push: retried, or waited for). */
		int can = push_access(r);
		if (can != 0) {
			if (can == -2) {
				finish(r, "error", "PENDING", e->msg, NULL, NULL);
				return job_wait(r->ctx, (double)r->wait_until + 1, "%s", e->msg);
			}
			finish(r, "error", "ERROR", e->msg, NULL, NULL);
			return job_retry(r->ctx, "%s", e->msg);
		}
		/* In GitHub's words (git push prints them behind "remote: "). */
		err_set(e, ERR_FORBIDDEN, "GitHub refused the push to %s: Permission to %s/%s.git denied to %s.", r->branch,
			r->p->repo_owner, r->p->repo_name, r->p->owner_login);
	}
	log_msg(LOG_INFO, "project %lld: %s (not retried)", r->p->id, e->msg);
	finish(r, "error", "ERROR", e->msg, NULL, NULL);
	return JOB_DONE;
}

static int fail(struct run *r, struct err *e)
{
	if (e->code == ERR_UNAUTH) {
		finish(r, "error", "ERROR", "GitHub refused the token. Reconnect GitHub.", NULL, NULL);
		return job_permanent(r->ctx, "Reconnect GitHub: %s", e->msg);
	}
	if (e->code == ERR_NOTFOUND) {
		/* The linked repository is gone or hidden (confirm_repo): no retry brings it back by itself. */
		finish(r, "error", "ERROR", e->msg, NULL, NULL);
		return job_permanent(r->ctx, "%s", e->msg);
	}
	if (e->code == ERR_RATELIMIT && r->wait_until > 0) {
		finish(r, "error", "PENDING", e->msg, NULL, NULL);
		return job_wait(r->ctx, (double)r->wait_until + 1, "%s", e->msg);
	}
	if (e->code == ERR_FORBIDDEN)
		return refused(r, e);
	finish(r, "error", "ERROR", e->msg, NULL, NULL);
	return job_retry(r->ctx, "%s", e->msg);
}

/* A pull: GitHub's changes into the workspace, nothing out (see the top of this file). */
/* git_workspace_merge under the project's file lock (store_project_files_lock), which the files API and
 * the panel hold while they compare a file's version and write it: the merge's checkout never writes a
 * file between such a comparison and its write. Without the lock (the database away) the merge goes on:
 * its checkout (GIT_CHECKOUT_SAFE) still leaves a file changed since the index alone. */
static int merge_locked(struct run *r, int *outcome, char **conflicts, const char *remote, struct err *e)
{
	struct err le = { 0 };
	int locked = store_project_files_lock(r->ctx->db, r->p->id, &le) == 0;
	int rc = git_workspace_merge(outcome, conflicts, r->p->workspace, r->branch, remote, e);
	struct err ie = { 0 };
	/* Git LFS: the index learns the stat data of the content the checkout wrote (git_lfs_index_refresh). */
	if (rc == 0 && git_lfs_index_refresh(r->p->workspace, &ie))
		log_msg(LOG_WARN, "project %lld: %s", r->p->id, ie.msg);
	if (locked)
		store_project_files_unlock(r->ctx->db);
	return rc;
}

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
		int rc = merge_locked(r, &outcome, &conflicts, remote, &e);
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

/* Names the files of list (a JSON array of {path, reason}, taken: put here) in the history row: as entries
 * of its files with this status and the reason, and in its note, after any note the run has already (into
 * buf, cut at a character boundary with " …" when it does not fit). */
static void name_files(struct run *r, struct json_object *list, const char *status, const char *lead, char *buf,
		       size_t size)
{
	size_t n = list ? json_object_array_length(list) : 0;
	if (!n) {
		json_object_put(list);
		return;
	}
	if (!r->c.files)
		r->c.files = json_object_new_array();
	size_t used = 0;
	if (r->note && r->note != buf) /* buf's own text is from an earlier staging of this run: replaced */
		used = (size_t)snprintf(buf, size, "%s ", r->note);
	if (used < size)
		used += (size_t)snprintf(buf + used, size - used, "%s", lead);
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_array_get_idx(list, i), *v;
		const char *path = json_object_object_get_ex(x, "path", &v) ? json_object_get_string(v) : "";
		const char *why = json_object_object_get_ex(x, "reason", &v) ? json_object_get_string(v) : "";
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "path", json_object_new_string(path));
		json_object_object_add(f, "status", json_object_new_string(status));
		json_object_object_add(f, "reason", json_object_new_string(why));
		json_object_array_add(r->c.files, f);
		if (used < size)
			used += (size_t)snprintf(buf + used, size - used, "%s'%s' (%s)", i ? "; " : "", path, why);
	}
	if (used >= size) {
		size_t cut = size - 5; /* " …" and its NUL; never inside a UTF-8 character */
		while (cut > 0 && ((unsigned char)buf[cut] & 0xC0) == 0x80)
			cut--;
		snprintf(buf + cut, 5, " …");
	}
	r->note = buf;
	json_object_put(list);
}

/* What the folder holds and a sync never sends (links, fifos, sockets, devices: workspace.h), and the files
 * staging left out (git_workspace_commit: too large, under a Git LFS rule; also on the files page). */
static void staging_notes(struct run *r)
{
	struct json_object *sk = r->c.skipped, *lo = r->c.left_out;
	r->c.skipped = r->c.left_out = NULL;
	name_files(r, sk, "skipped", "Not synced (only regular files are): ", r->skipped_buf, sizeof r->skipped_buf);
	name_files(r, lo, "left_out", "Left out of the sync: ", r->left_buf, sizeof r->left_buf);
}

/* "Store files over N MiB in Git LFS" (lfs_threshold_mib): their .gitattributes rules are written before
 * staging, so this very commit holds the rule and their pointers; the history row names them. */
static int lfs_track_large(struct run *r, struct err *e)
{
	int added = 0;
	char *names = NULL;
	if (r->p->lfs_threshold_mib <= 0)
		return 0;
	int rc = git_lfs_track_large(&added, &names, r->p->workspace, r->p->exclude_patterns,
				     (long long)r->p->lfs_threshold_mib << 20, e);
	if (rc == 0 && added) {
		snprintf(r->lfs_track_note, sizeof r->lfs_track_note, "%s%sStored in Git LFS from now on (over %d MiB; "
			 "a rule in .gitattributes): %s.", r->note ? r->note : "", r->note ? " " : "",
			 r->p->lfs_threshold_mib, names);
		r->note = r->lfs_track_note;
	}
	free(names);
	return rc;
}

static int stage(struct run *r, struct err *e)
{
	struct project *p = r->p;
	char email[256];
	progress(r, "staging", 0);
	authorship_noreply(email, sizeof email, p->owner_github_id, p->owner_login);
	/* Who changed what, read once per run before staging (a run that stages again, GH001's remade
	 * commit, credits the same people). An edit recorded after this read is credited by the next sync. */
	if (!r->edits_read) {
		struct err ee = { 0 };
		r->edits_read = 1;
		if (store_edits_list(&r->edits, &r->nedits, &r->edits_seq, r->ctx->db, p->id, &ee))
			log_msg(LOG_WARN, "project %lld: who changed the files is not known (the project's account is the "
				"author): %s", p->id, ee.msg);
	}
	int rc = lfs_track_large(r, e);
	if (rc)
		return rc;
	rc = git_workspace_commit(&r->c, p->workspace, r->branch, p->exclude_patterns, message, r, p->owner_login,
				  email, e);
	staging_notes(r);
	/* The rows read are done with once the folder is committed (or had nothing new): the commit holds the
	 * names. A failure to delete them is harmless (the next sync credits only paths it changes). */
	if (rc == 0 && r->edits_seq > 0) {
		struct err ee = { 0 };
		if (store_edits_forget(r->ctx->db, p->id, r->edits_seq, &ee))
			log_msg(LOG_WARN, "project %lld: edit records not cleared: %s", p->id, ee.msg);
	}
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
	char head[41] = "", tracking[41] = "", base[41] = "";
	/* While GitHub's branch is rewritten, the workspace's tip holds what GitHub dropped: never straight out. */
	if (git_workspace_rewrite_base(base, p->workspace, r->branch, e) || base[0])
		return 0;
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
	if (rc == ERR_CONFLICT || rc == ERR_NOTFOUND) {
		/* Moved, or gone (deleted, or no longer the default branch): the fetch tells which. */
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

/* GitHub's side of the sync branch, after each fetch (issue 12):
 * - a project that follows the default branch (no sync branch in its settings) follows GitHub's:
 *   when GitHub's HEAD names another branch, that one is stored and synced from now on, starting
 *   where the workspace is (*again = 1: fetch it);
 * - a branch GitHub lacks but had (the workspace holds GitHub's tip of it) was deleted there: it is
 *   never recreated; the project says so and nothing is pushed (returns 1, *out set);
 * - a branch GitHub never had is new: it starts where the workspace is (its last synced commit,
 *   git_workspace_branch_start), or at the tip of GitHub's default branch when the workspace has no
 *   commit yet, never as a root commit beside GitHub's history; the push may create it, and the
 *   history row says where it started.
 * Returns 0 to go on. */
static int branch_check(int *out, int *again, struct run *r, char remote[41], struct err *e)
{
	struct project *p = r->p;
	*again = 0;
	int follows = !(p->sync_branch && *p->sync_branch);
	if (follows && r->gh_head[0] && strcmp(r->gh_head, r->branch) != 0 && !r->followed) {
		const char *why = git_branch_name_problem(r->gh_head);
		if (why) {
			log_msg(LOG_WARN, "project %lld: GitHub's default branch name is not one git takes (a branch name %s); "
				"not followed", p->id, why);
		} else {
			char was[256], from[41];
			snprintf(was, sizeof was, "%s", r->branch);
			snprintf(r->branch_buf, sizeof r->branch_buf, "%s", r->gh_head);
			r->branch = r->branch_buf;
			r->followed = 1;
			if (store_project_set_default_branch(r->ctx->db, p->id, r->branch, e))
				return *out = fail(r, e), 1;
			char *d = strdup(r->branch);
			if (!d)
				abort();
			free(p->repo_default_branch);
			p->repo_default_branch = d;
			if (git_workspace_branch_start(from, NULL, 0, p->workspace, r->branch, e))
				return *out = fail(r, e), 1;
			log_msg(LOG_INFO, "project %lld: GitHub's default branch is now %s (was %s): following it", p->id,
				r->branch, was);
			char *note = r->note_buf;
			snprintf(note, sizeof r->note_buf, "GitHub's default branch is now '%.200s' (it was '%.200s'): the project follows it.",
				 r->branch, was);
			r->note = note;
			*again = 1;
			return 0;
		}
	}
	if (remote[0] && !r->may_create) {
		/* A branch GitHub has that the workspace never synced with (the settings' sync_branch set to an
		 * existing branch): it starts where the workspace is, so the merge that follows is a three-way
		 * merge of the project's history with GitHub's branch, and a conflict goes to a side branch.
		 * Adopting GitHub's branch instead would commit the folder's files over GitHub's own changes
		 * there (issue 12; tests/sync/test-property.sh, seed 7). Histories with nothing in common
		 * (another repository linked) are adopted as before. */
		char mine[41] = "", cur[41] = "", common[41] = "";
		if (git_workspace_head(mine, p->workspace, r->branch, e) || (!mine[0] && git_workspace_head_commit(cur, p->workspace, e)) ||
		    (cur[0] && git_workspace_merge_base(common, p->workspace, cur, remote, e)))
			return *out = fail(r, e), 1;
		if (common[0]) {
			char from[41] = "", prev[256] = "";
			if (git_workspace_branch_start(from, prev, sizeof prev, p->workspace, r->branch, e))
				return *out = fail(r, e), 1;
			snprintf(r->note_buf, sizeof r->note_buf, "The project now syncs with GitHub's '%.200s': its changes since "
				 "%.7s%s%.200s were merged with that branch.", r->branch, from, prev[0] ? " on " : "", prev);
			r->note = r->note_buf;
		}
	}
	if (remote[0] || r->may_create)
		return 0;
	char tracking[41] = "", head[41] = "";
	if (git_workspace_tracking(tracking, p->workspace, r->branch, e) || git_workspace_head(head, p->workspace, r->branch, e))
		return *out = fail(r, e), 1;
	if (tracking[0]) {
		char msg[700];
		snprintf(msg, sizeof msg, "The branch '%.200s' was deleted on GitHub. Nothing was pushed, and ghbridge does not "
			 "create it again: choose another sync branch in the settings, or create '%.200s' on GitHub again.",
			 r->branch, r->branch);
		finish(r, "error", "ERROR", msg, NULL, NULL);
		return *out = job_permanent(r->ctx, "%s", msg), 1;
	}
	r->may_create = 1;
	if (head[0])
		return 0; /* commits of an earlier attempt that did not reach GitHub */
	char *note = r->note_buf, from[41] = "", prev[256] = "";
	if (git_workspace_branch_start(from, prev, sizeof prev, p->workspace, r->branch, e))
		return *out = fail(r, e), 1;
	if (from[0]) {
		snprintf(note, sizeof r->note_buf, "'%.200s' did not exist on GitHub: it was created from %.7s, the project's last "
			 "synced commit%s%.200s.", r->branch, from, prev[0] ? " on " : "", prev);
		r->note = note;
		return 0;
	}
	/* Nothing synced yet: GitHub's default branch, when there is one, is where the branch starts. */
	if (r->gh_head[0] && strcmp(r->gh_head, r->branch) != 0 && !git_branch_name_problem(r->gh_head)) {
		char tip[41] = "";
		int outcome = 0;
		if (git_workspace_fetch(tip, NULL, 0, p->workspace, p->repo_clone_url, r->gh_head, r->token, e) ||
		    (tip[0] && merge_locked(r, &outcome, NULL, tip, e)))
			return *out = fail(r, e), 1;
		if (tip[0]) {
			snprintf(note, sizeof r->note_buf, "'%.200s' did not exist on GitHub: it was created from the tip of '%.200s' (%.7s).",
				 r->branch, r->gh_head, tip);
			r->note = note;
		}
	}
	return 0;
}

/* GitHub's branch is no longer a descendant of what ghbridge last saw (prev, GitHub's tip before this
 * fetch): someone rewrote it and force-pushed (DESIGN "Trust boundaries"). What GitHub dropped is never
 * pushed back: the workspace's branch is never merged with GitHub's new history nor pushed while it holds
 * the old one. The last commit the workspace shares with the old history is kept as the rewrite base
 * (git_workspace_set_rewrite_base) until the project is on GitHub's new history; what the workspace has
 * beyond it is the project's own:
 * - nothing: the workspace takes GitHub's new history (files GitHub dropped leave the folder too);
 * - changes: they are replayed on GitHub's new history and pushed (git_workspace_replay); where they
 *   collide with it, a commit on GitHub's new history with the project's version of the files it changed
 *   goes to a side branch with a pull request, as for any conflict; pulling off: always that way;
 * - a pull (trigger pull or webhook) pushes nothing: it takes GitHub's history when the folder's unsynced
 *   changes are not in the way, and otherwise leaves the replay to the next sync.
 * Returns 0 when the branch was not rewritten (go on), 1 when the run is over (*out is the job's outcome),
 * 2 when the push was refused because GitHub moved again (fetch again). */
static int rewritten(int *out, struct run *r, const char *prev, const char *remote, int pull_only, int *staged)
{
	struct project *p = r->p;
	struct err e = { 0 };
	char base[41] = "", head[41] = "", sha[41] = "";
	if (git_workspace_rewrite_base(base, p->workspace, r->branch, &e) ||
	    git_workspace_head(head, p->workspace, r->branch, &e))
		return *out = fail(r, &e), 1;
	if (!head[0] || !remote[0])
		return 0;
	if (!base[0]) {
		int descends = 1;
		if (!prev[0] || strcmp(prev, remote) == 0)
			return 0;
		if (git_workspace_descends(&descends, p->workspace, prev, remote, &e))
			return *out = fail(r, &e), 1;
		if (descends)
			return 0;
		if (git_workspace_merge_base(base, p->workspace, head, prev, &e) ||
		    (!base[0] && err_set(&e, ERR_FAIL, "GitHub's %s has no history in common with the project", r->branch)) ||
		    git_workspace_set_rewrite_base(p->workspace, r->branch, base, &e))
			return *out = fail(r, &e), 1;
		log_msg(LOG_WARN, "project %lld: GitHub's %s was rewritten (%.12s is not in the history of %.12s); replaying "
			"the project's changes since %.12s, never pushing what GitHub dropped", p->id, r->branch, prev, remote, base);
	}
	if (!pull_only && !*staged) {
		*staged = 1;
		if (stage(r, &e) || git_workspace_head(head, p->workspace, r->branch, &e))
			return *out = fail(r, &e), 1;
	}
	int rc;
	if (strcmp(head, base) == 0 && p->pull_enabled) {
		/* Nothing of the project's own: GitHub's new history is the project's. */
		if ((rc = git_workspace_take(p->workspace, r->branch, remote, &e)) == ERR_CONFLICT) {
			snprintf(r->rewrite_note, sizeof r->rewrite_note, "GitHub's %.100s was rewritten (force-pushed); files with "
				 "unsynced changes here are in the way of its new history: the next sync replays them on top of it.",
				 r->branch);
			r->note = r->rewrite_note;
			finish(r, "nochange", "SUCCESS", NULL, NULL, NULL);
			return *out = JOB_DONE, 1;
		}
		if (rc || git_workspace_set_rewrite_base(p->workspace, r->branch, NULL, &e))
			return *out = fail(r, &e), 1;
		if (r->c.files) {
			json_object_put(r->c.files);
			r->c.files = NULL;
		}
		if (git_workspace_diff(&r->c, p->workspace, head, remote, &e))
			log_msg(LOG_WARN, "project %lld: listing the rewritten files: %s", p->id, e.msg);
		snprintf(r->commit_sha, sizeof r->commit_sha, "%s", remote);
		snprintf(r->rewrite_note, sizeof r->rewrite_note, "GitHub's %.100s was rewritten (force-pushed): the project "
			 "took GitHub's new history, and what GitHub dropped was not pushed back.", r->branch);
		r->note = r->rewrite_note;
		finish(r, "success", "SUCCESS", NULL, NULL, NULL);
		return *out = JOB_DONE, 1;
	}
	if (pull_only || strcmp(head, base) == 0) {
		snprintf(r->rewrite_note, sizeof r->rewrite_note, "GitHub's %.100s was rewritten (force-pushed). %s", r->branch,
			 !p->pull_enabled ? "Pulling GitHub's changes is off: the project keeps its files, and what GitHub "
					    "dropped is not pushed back."
					  : "The next sync replays the project's changes on top of GitHub's new history.");
		r->note = r->rewrite_note;
		finish(r, "nochange", "SUCCESS", NULL, NULL, NULL);
		return *out = JOB_DONE, 1;
	}
	int conflicted = 0;
	char *conflicts = NULL;
	char side[41] = "";
	if (p->conflict_branch && *p->conflict_branch &&
	    git_workspace_tracking(side, p->workspace, p->conflict_branch, &e))
		return *out = fail(r, &e), 1;
	if ((rc = git_workspace_replay(sha, &conflicted, &conflicts, p->workspace, r->branch, base, remote, head, side,
				       !p->pull_enabled, &e)))
		return *out = fail(r, &e), 1;
	if (conflicted) {
		r->side_sha = sha;
		*out = conflict(r, p->pull_enabled ? conflicts : NULL, p->pull_enabled ? REASON_CONFLICT : REASON_PULL_OFF);
		r->side_sha = NULL;
		free(conflicts);
		return 1;
	}
	free(conflicts);
	if (git_workspace_set_rewrite_base(p->workspace, r->branch, NULL, &e))
		return *out = fail(r, &e), 1;
	if (strcmp(sha, remote) != 0) {
		progress(r, "pushing", 0);
		unsigned objects = 0;
		rc = push(&objects, r, sha, r->branch, &e);
		if (rc == ERR_CONFLICT) {
			log_msg(LOG_INFO, "project %lld: push of the replayed changes rejected (GitHub moved), again", p->id);
			return 2;
		}
		if (rc)
			return *out = fail(r, &e), 1;
		progress(r, "pushed", objects);
	}
	if (r->c.files) {
		json_object_put(r->c.files);
		r->c.files = NULL;
	}
	if (git_workspace_diff(&r->c, p->workspace, remote, sha, &e))
		log_msg(LOG_WARN, "project %lld: listing the replayed files: %s", p->id, e.msg);
	snprintf(r->commit_sha, sizeof r->commit_sha, "%s", sha);
	snprintf(r->rewrite_note, sizeof r->rewrite_note, "GitHub's %.100s was rewritten (force-pushed): the project's "
		 "changes were replayed on top of GitHub's new history, and what GitHub dropped was not pushed back.",
		 r->branch);
	r->note = r->rewrite_note;
	finish(r, "success", "SUCCESS", NULL, NULL, NULL);
	return *out = JOB_DONE, 1;
}

/* 1 when GitHub refused a push to the sync branch for good (GH006) and the project's side branch with
 * its pull request is still open: the changes go there, and main is not pushed to again (issue 12).
 * "Sync now" tries the branch again (the protection may be gone); so does the first sync after the
 * side branch is done with (a sync that finds GitHub has it all clears it). */
static int refuses_pushes(struct run *r)
{
	char *b = NULL;
	struct err e = { 0 };
	if (store_project_push_refused(&b, r->ctx->db, r->p->id, &e) || !b)
		return 0;
	int on = strcmp(b, r->branch) == 0 && r->p->conflict_branch && *r->p->conflict_branch && !r->manual;
	free(b);
	return on;
}

static int sync_run(struct run *r, int pull_only)
{
	struct project *p = r->p;
	struct err e = { 0 };
	int rc, staged = 0, out;
	char remote[41] = "", head[41] = "";
	if (!pull_only)
		r->to_side = refuses_pushes(r);
	if (!pull_only && !r->to_side && push_at_once(&out, &staged, r, &e))
		return out;
	err_clear(&e);
	for (int round = 0; round < 4; round++) {
		if (job_should_stop(r->ctx)) {
			finish(r, "error", "PENDING", "The worker stopped; the sync will resume.", NULL, NULL);
			return job_retry(r->ctx, "stopped");
		}
		progress(r, "fetching", round);
		char prev[41] = ""; /* GitHub's tip as the last fetch or push saw it */
		if (git_workspace_tracking(prev, p->workspace, r->branch, &e))
			return fail(r, &e);
		if ((rc = fetch(remote, r, &e)))
			return fail(r, &e);
		int again = 0;
		if (branch_check(&out, &again, r, remote, &e))
			return out;
		if (again) {
			round--;
			continue;
		}
		int rw = rewritten(&out, r, prev, remote, pull_only, &staged);
		if (rw == 1)
			return out;
		if (rw == 2)
			continue;
		int outcome = 0, adopted = 0;
		char *conflicts = NULL;
		if (git_workspace_head(head, p->workspace, r->branch, &e))
			return fail(r, &e);
		char before[41];
		snprintf(before, sizeof before, "%s", head);
		if (!head[0] && remote[0]) {
			if ((rc = merge_locked(r, &outcome, NULL, remote, &e)))
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
		if ((rc = merge_locked(r, &outcome, &conflicts, remote, &e))) {
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
		if (r->to_side)
			return conflict(r, NULL, REASON_PROTECTED);
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
	/* Stored before names were checked at every entry point (issue 11): never used in a ref path. */
	const char *why = git_branch_name_problem(r.branch);
	if (why) {
		char msg[300];
		snprintf(msg, sizeof msg, "The sync branch's name is not one git takes (a branch name %s): choose another "
			 "in the settings. Nothing was synced.", why);
		store_project_set_status(ctx->db, p.id, "ERROR", msg, NULL, p.conflict_branch, p.conflict_url, 0, &e);
		store_project_free(&p);
		return job_permanent(ctx, "%s", msg);
	}
	git_workspace_set_timeout((int)cfg_long(CFG_GIT_TIMEOUT_SECONDS));
	git_workspace_set_file_limit(cfg_long(CFG_PROJECT_MAX_FILE));
	git_workspace_on_push_progress(on_push_progress, &r);
	const char *trigger = payload_trigger(job);
	r.manual = strcmp(trigger, "manual") == 0;
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
	if (r.c.left_out)
		json_object_put(r.c.left_out);
	store_edits_free(r.edits, r.nedits);
	/* Every sync leaves a periodic check behind: it starts the chain for a new connection and
	 * mends one that was lost. */
	err_clear(&e);
	if (poll_ensure(ctx->db, p.id, poll_interval_ms(), 0, &e))
		log_msg(LOG_WARN, "project %lld: periodic check not queued: %s", p.id, e.msg);
	store_project_free(&p);
	return out;
}

int sync_resume_owner(int *queued, struct db *db, long long owner_id, struct err *e)
{
	struct project *rows = NULL;
	int n = 0, q = 0;
	if (queued)
		*queued = 0;
	int rc = store_projects_list(&rows, &n, db, owner_id, e);
	if (rc)
		return rc;
	for (int i = 0; i < n && rc == 0; i++) {
		struct project *p = &rows[i];
		if (p->owner_id != owner_id || !p->repo_owner || !p->status || strcmp(p->status, "ERROR") != 0)
			continue;
		if ((rc = projects_sync_enqueue(NULL, db, p, "retry", 0, e)) == 0) {
			q++;
			log_msg(LOG_INFO, "project %lld: GitHub is connected again; its sync resumes", p->id);
		}
	}
	store_projects_free(rows, n);
	if (queued)
		*queued = q;
	return rc;
}
