/* sync.c: the sync job: fetch, merge GitHub's changes, commit the workspace, push; conflicts become pull requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/log.h"
#include "github/gh.h"
#include "git/workspace.h"
#include "service/auth.h"
#include "service/projects.h"
#include "service/sync.h"

struct run {
	struct job_ctx *ctx;
	struct project *p;
	long long hist;
	const char *branch;
	char *token;
	struct ws_commit c;
	char commit_sha[41];
	int committed;
};

static void progress(struct run *r, const char *step, long long n)
{
	char j[160];
	snprintf(j, sizeof j, "{\"step\":\"%s\",\"count\":%lld}", step, n);
	struct err e = { 0 };
	store_project_set_progress(r->ctx->db, r->p->id, j, &e);
}

static void finish(struct run *r, const char *hstatus, const char *pstatus, const char *error, const char *cbranch,
		   const char *curl)
{
	struct err e = { 0 };
	const char *files = r->c.files ? json_object_to_json_string(r->c.files) : "[]";
	if (r->hist && store_sync_finish(r->ctx->db, r->hist, hstatus, r->commit_sha[0] ? r->commit_sha : NULL,
					 r->c.files_changed, r->c.additions, r->c.deletions, error, files, &e))
		log_msg(LOG_WARN, "project %lld: history: %s", r->p->id, e.msg);
	if (store_project_set_status(r->ctx->db, r->p->id, pstatus, error, r->commit_sha[0] ? r->commit_sha : NULL,
				     cbranch, curl, strcmp(pstatus, "ERROR") != 0, &e))
		log_msg(LOG_WARN, "project %lld: status: %s", r->p->id, e.msg);
}

/* Opens (or finds) the pull request for the conflict branch; url gets its html_url. */
static int open_pull(char *url, size_t urllen, struct run *r, const char *cbranch, const char *conflicts,
		     struct err *e)
{
	struct gh_resp g = { 0 };
	char *path;
	if (asprintf(&path, "/repos/%s/%s/pulls?state=open&head=%s:%s", r->p->repo_owner, r->p->repo_name,
		     r->p->repo_owner, cbranch) < 0)
		abort();
	int rc = gh_call(&g, "GET", path, r->token, NULL, NULL, e);
	free(path);
	if (rc)
		return rc;
	if (g.status == 200 && json_object_is_type(g.json, json_type_array) && json_object_array_length(g.json) > 0) {
		struct json_object *pr = json_object_array_get_idx(g.json, 0), *h;
		if (json_object_object_get_ex(pr, "html_url", &h))
			snprintf(url, urllen, "%s", json_object_get_string(h));
		gh_resp_free(&g);
		return 0;
	}
	gh_resp_free(&g);
	struct json_object *b = json_object_new_object();
	char title[256], *body;
	snprintf(title, sizeof title, "ghbridge: changes to %s conflict with %s", r->p->name, r->branch);
	if (asprintf(&body,
		     "ghbridge could not merge the changes made in the project **%s** with changes made on `%s` "
		     "on GitHub: both sides changed the same lines.\n\nNothing was overwritten: the project's version is "
		     "on this branch (`%s`) and GitHub's version stays on `%s`. Resolve the conflicts here and merge "
		     "this pull request; the next sync picks up the result.\n\nConflicting files: %s\n",
		     r->p->name, r->branch, cbranch, r->branch, conflicts ? conflicts : "[]") < 0)
		abort();
	json_object_object_add(b, "title", json_object_new_string(title));
	json_object_object_add(b, "head", json_object_new_string(cbranch));
	json_object_object_add(b, "base", json_object_new_string(r->branch));
	json_object_object_add(b, "body", json_object_new_string(body));
	free(body);
	if (asprintf(&path, "/repos/%s/%s/pulls", r->p->repo_owner, r->p->repo_name) < 0)
		abort();
	rc = gh_call(&g, "POST", path, r->token, json_object_to_json_string(b), NULL, e);
	free(path);
	json_object_put(b);
	if (rc == 0 && g.status != 201) {
		char m[256];
		long until;
		rc = gh_is_rate_limited(&g, &until) ? err_set(e, ERR_RATELIMIT, "rate limited opening the pull request")
						    : err_set(e, ERR_FAIL, "opening the pull request: %s",
							      gh_error_message(&g, m, sizeof m));
	} else if (rc == 0) {
		struct json_object *h;
		if (json_object_object_get_ex(g.json, "html_url", &h))
			snprintf(url, urllen, "%s", json_object_get_string(h));
	}
	gh_resp_free(&g);
	return rc;
}

static int conflict(struct run *r, const char *conflicts)
{
	struct err e = { 0 };
	char head[41], cbranch[128], url[512] = "";
	if (git_workspace_head(head, r->p->workspace, r->branch, &e) || !head[0])
		return job_retry(r->ctx, "conflict: reading the workspace: %s", e.msg);
	if (r->p->conflict_branch && *r->p->conflict_branch) {
		snprintf(cbranch, sizeof cbranch, "%s", r->p->conflict_branch);
	} else {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(cbranch, sizeof cbranch, "ghbridge/conflict-%Y%m%d-%H%M%S", &tm);
	}
	int rc = git_workspace_push(NULL, r->p->workspace, r->p->repo_clone_url, head, cbranch, r->token, &e);
	if (rc == ERR_CONFLICT) {
		/* Someone worked on the old conflict branch: leave it alone, use a new one. */
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(cbranch, sizeof cbranch, "ghbridge/conflict-%Y%m%d-%H%M%S", &tm);
		rc = git_workspace_push(NULL, r->p->workspace, r->p->repo_clone_url, head, cbranch, r->token, &e);
	}
	if (rc) {
		finish(r, "error", "ERROR", e.msg, NULL, NULL);
		return rc == ERR_UNAUTH ? job_permanent(r->ctx, "Reconnect GitHub: %s", e.msg)
					: job_retry(r->ctx, "pushing the conflict branch: %s", e.msg);
	}
	if ((rc = open_pull(url, sizeof url, r, cbranch, conflicts, &e))) {
		finish(r, "error", "ERROR", e.msg, NULL, NULL);
		return job_retry(r->ctx, "%s", e.msg);
	}
	char msg[600];
	snprintf(msg, sizeof msg, "GitHub's %s and this project changed the same lines in %s. Your version is on %s; "
		 "resolve the pull request to finish.", r->branch, conflicts ? conflicts : "some files", cbranch);
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

static int sync_run(struct run *r)
{
	struct project *p = r->p;
	struct err e = { 0 };
	int rc;
	char remote[41] = "", head[41] = "";
	for (int round = 0; round < 4; round++) {
		if (job_should_stop(r->ctx)) {
			finish(r, "error", "PENDING", "The worker stopped; the sync will resume.", NULL, NULL);
			return job_retry(r->ctx, "stopped");
		}
		progress(r, "fetching", round);
		if ((rc = git_workspace_fetch(remote, p->workspace, p->repo_clone_url, r->branch, r->token, &e)))
			goto fail;
		int outcome = 0;
		char *conflicts = NULL;
		if (git_workspace_head(head, p->workspace, r->branch, &e))
			goto fail;
		if (!head[0] && remote[0] &&
		    (rc = git_workspace_merge(&outcome, NULL, p->workspace, r->branch, remote, &e)))
			goto fail;
		if (round == 0) {
			progress(r, "staging", 0);
			char email[256];
			snprintf(email, sizeof email, "%lld+%s@users.noreply.github.com", p->owner_github_id,
				 p->owner_login);
			if ((rc = git_workspace_commit(&r->c, p->workspace, r->branch, p->exclude_patterns, message, p,
						       p->owner_login, email, &e)))
				goto fail;
			if (r->c.sha[0]) {
				r->committed = 1;
				snprintf(r->commit_sha, sizeof r->commit_sha, "%s", r->c.sha);
			}
		}
		if ((rc = git_workspace_merge(&outcome, &conflicts, p->workspace, r->branch, remote, &e))) {
			if (rc == ERR_CONFLICT) {
				int jr = conflict(r, conflicts);
				free(conflicts);
				return jr;
			}
			free(conflicts);
			goto fail;
		}
		if (git_workspace_head(head, p->workspace, r->branch, &e))
			goto fail;
		if (!head[0] || strcmp(head, remote) == 0) {
			/* GitHub has it all: no write. */
			if (head[0] && !r->commit_sha[0])
				snprintf(r->commit_sha, sizeof r->commit_sha, "%s", head);
			finish(r, r->committed || outcome == WS_FASTFORWARD || outcome == WS_ADOPTED ? "success" : "nochange",
			       "SUCCESS", NULL, NULL, NULL);
			return JOB_DONE;
		}
		progress(r, "pushing", 0);
		unsigned objects = 0;
		rc = git_workspace_push(&objects, p->workspace, p->repo_clone_url, head, r->branch, r->token, &e);
		if (rc == ERR_CONFLICT) {
			log_msg(LOG_INFO, "project %lld: push rejected (GitHub moved), merging again", p->id);
			continue;
		}
		if (rc)
			goto fail;
		snprintf(r->commit_sha, sizeof r->commit_sha, "%s", head);
		progress(r, "pushed", objects);
		finish(r, "success", "SUCCESS", NULL, NULL, NULL);
		return JOB_DONE;
	}
	rc = err_set(&e, ERR_FAIL, "GitHub's branch kept moving during the sync");
fail:
	if (e.code == ERR_UNAUTH) {
		finish(r, "error", "ERROR", "GitHub refused the token. Reconnect GitHub.", NULL, NULL);
		return job_permanent(r->ctx, "Reconnect GitHub: %s", e.msg);
	}
	finish(r, "error", "ERROR", e.msg, NULL, NULL);
	return job_retry(r->ctx, "%s", e.msg);
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
	const char *trigger = payload_trigger(job);
	if (store_sync_begin(&r.hist, ctx->db, p.id, job->id, trigger, job->attempt, &e)) {
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
		out = sync_run(&r);
	}
	if (r.token) {
		memset(r.token, 0, strlen(r.token));
		free(r.token);
	}
	if (r.c.files)
		json_object_put(r.c.files);
	store_project_free(&p);
	return out;
}
