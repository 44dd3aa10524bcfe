/* poll.c: the periodic check of a project: GitHub's branch by conditional request, the workspace folder by status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/buf.h"
#include "core/cfg.h"
#include "core/log.h"
#include "github/gh.h"
#include "service/auth.h"
#include "service/poll.h"
#include "service/projects.h"

/* After syncs (100): a check never delays a person's sync. */
#define POLL_PRIORITY 200

long long poll_interval_ms(void)
{
	long s = cfg_long(CFG_PROJECT_POLL_SECONDS);
	return s > 0 ? (long long)s * 1000 : 0;
}

int poll_ensure(struct db *db, long long project_id, long long delay_ms, long long prev_job, struct err *e)
{
	if (poll_interval_ms() <= 0)
		return 0;
	char key[48], payload[64];
	snprintf(key, sizeof key, "poll:%lld", project_id);
	if (prev_job > 0)
		snprintf(payload, sizeof payload, "{\"prev\":%lld}", prev_job);
	else
		snprintf(payload, sizeof payload, "{}");
	struct jobs_enqueue_opts o = { .project_id = project_id, .payload = payload, .dedup_key = key,
				       .delay_ms = delay_ms, .priority = POLL_PRIORITY };
	long long id;
	return jobs_enqueue(&id, NULL, db, "poll", &o, e);
}

/* ---------------------------------------------------------------- the workspace folder */

/* FNV-1a over what identifies the unsynced files now: a new write changes size or mtime. */
static void fingerprint(char out[17], int *pending, const struct ws_file *f, int n)
{
	unsigned long long h = 1469598103934665603ULL;
	*pending = 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(f[i].status, "synced") == 0 || strcmp(f[i].status, "excluded") == 0)
			continue;
		(*pending)++;
		char tail[96];
		int tl = snprintf(tail, sizeof tail, "|%s|%lld|%lld\n", f[i].status, f[i].size, f[i].mtime_ns);
		for (const char *s = f[i].path; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ULL;
		for (int k = 0; k < tl; k++)
			h = (h ^ (unsigned char)tail[k]) * 1099511628211ULL;
	}
	if (*pending)
		snprintf(out, 17, "%016llx", h);
	else
		out[0] = '\0';
}

/* Files written straight into the folder reach no service call: this is where they are noticed.
 * With auto-sync off nothing is recorded, so turning it on picks up what waits. */
static int workspace_check(struct job_ctx *ctx, struct project *p)
{
	struct err e = { 0 };
	struct ws_file *f;
	int n, pending = 0;
	if (projects_files(&f, &n, p, &e)) {
		log_msg(LOG_WARN, "project %lld: checking the workspace: %s", p->id, e.msg);
		return 0;
	}
	char fp[17];
	fingerprint(fp, &pending, f, n);
	git_workspace_files_free(f, n);
	if (!p->auto_sync)
		fp[0] = '\0';
	const char *seen = p->poll_workspace ? p->poll_workspace : "";
	if (fp[0] && strcmp(fp, seen) != 0) {
		if (projects_changed(ctx->db, p, &e)) {
			/* Not recorded as seen: the next check tries again. */
			log_msg(LOG_WARN, "project %lld: auto-sync not queued: %s", p->id, e.msg);
			return e.code == ERR_DB ? e.code : 0;
		}
		log_msg(LOG_INFO, "project %lld: %d unsynced file(s) in the workspace folder: auto-sync queued", p->id,
			pending);
	}
	if (store_project_set_poll_workspace(ctx->db, p->id, fp, &e))
		return e.code;
	return 0;
}

/* ---------------------------------------------------------------- GitHub's branch */

/* A path segment for the REST URL; '/' stays, as GitHub expects it in branch names. */
static void url_path_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("-._~/", *c))
			buf_putc(b, (char)*c);
		else {
			buf_putc(b, '%');
			buf_putc(b, hex[*c >> 4]);
			buf_putc(b, hex[*c & 15]);
		}
	}
}

static const char *commit_sha_of(struct json_object *branch)
{
	struct json_object *c, *s;
	if (branch && json_object_object_get_ex(branch, "commit", &c) && json_object_object_get_ex(c, "sha", &s) &&
	    json_object_is_type(s, json_type_string) && json_object_get_string_len(s) == 40)
		return json_object_get_string(s);
	return NULL;
}

static void free_token(char **t)
{
	if (*t) {
		memset(*t, 0, strlen(*t));
		free(*t);
		*t = NULL;
	}
}

/* Asks GitHub for the branch tip with the stored ETag. *next_ms grows when rate limited. */
static int remote_check(struct job_ctx *ctx, struct project *p, long long *next_ms)
{
	struct err e = { 0 };
	char *token = NULL;
	int rc = auth_github_token(&token, ctx->db, p->owner_id, &e);
	if (rc == ERR_UNAUTH || rc == ERR_NOTFOUND)
		return 0; /* the owner has to reconnect GitHub: the project page says so; no call */
	if (rc) {
		log_msg(LOG_WARN, "project %lld: check: token: %s", p->id, e.msg);
		return rc == ERR_DB ? rc : 0;
	}
	const char *branch = projects_branch(p);
	char *key;
	if (asprintf(&key, "%s/%s/%s", p->repo_owner, p->repo_name, branch) < 0)
		abort();
	struct buf path = BUF_INIT;
	buf_puts(&path, "/repos/");
	url_path_escape(&path, p->repo_owner);
	buf_putc(&path, '/');
	url_path_escape(&path, p->repo_name);
	buf_puts(&path, "/branches/");
	url_path_escape(&path, branch);
	const char *inm = p->poll_key && strcmp(p->poll_key, key) == 0 && p->poll_etag ? p->poll_etag : NULL;
	struct gh_resp g = { 0 };
	for (int tries = 0; tries < 2; tries++) {
		gh_resp_free(&g);
		memset(&g, 0, sizeof g);
		if ((rc = gh_call(&g, "GET", buf_cstr(&path), token, NULL, inm, &e)))
			break;
		if (g.status != 401 || tries)
			break;
		/* An expired GitHub App token is refreshed; a revoked one marks the connection. */
		char *fresh = NULL;
		if (auth_github_token_refused(&fresh, ctx->db, p->owner_id, token, &e))
			break;
		free_token(&token);
		token = fresh;
	}
	long until;
	if (rc) {
		log_msg(LOG_INFO, "project %lld: check: %s", p->id, e.msg);
		rc = 0;
	} else if (g.status == 304) {
		/* Unchanged since the last answer; it cost no rate limit. */
	} else if (g.status == 200 && commit_sha_of(g.json)) {
		const char *sha = commit_sha_of(g.json);
		char head[41] = "";
		size_t ahead = 0, behind = 1;
		git_workspace_head(head, p->workspace, branch, &e);
		/* Our own push shows up here once (GitHub's tip = our head), and a tip the workspace has
		 * merged already needs nothing; one it has not seen yet is unknown to git here: pull. */
		if (head[0] && (strcmp(sha, head) == 0 ||
				git_workspace_ahead_behind(&ahead, &behind, p->workspace, head, sha, &e) != 0))
			behind = strcmp(sha, head) != 0;
		err_clear(&e);
		rc = store_project_set_poll_remote(ctx->db, p->id, key, g.etag[0] ? g.etag : NULL, sha, &e);
		if (rc == 0 && head[0] && behind > 0) {
			if (projects_sync_enqueue(NULL, ctx->db, p, "pull", 0, &e))
				log_msg(LOG_WARN, "project %lld: pull not queued: %s", p->id, e.msg);
			else
				log_msg(LOG_INFO, "project %lld: %s moved on GitHub to %.7s: pull queued", p->id, branch, sha);
		}
	} else if (g.status == 404) {
		/* No such branch: an empty repository, a new sync branch (the next sync creates it), or one
		 * GitHub deleted, maybe with another default branch. When the workspace holds GitHub's tip
		 * of it (it was there), the first check that finds it gone queues one pull, which finds out
		 * which (sync.c: it follows a new default branch, or says the branch was deleted; it never
		 * recreates it); later checks that find it still gone queue nothing. */
		int first = !(p->poll_key && strcmp(p->poll_key, key) == 0) || (p->poll_remote_sha && *p->poll_remote_sha);
		char tracking[41] = "";
		if (first)
			git_workspace_tracking(tracking, p->workspace, branch, &e);
		err_clear(&e);
		rc = store_project_set_poll_remote(ctx->db, p->id, key, NULL, NULL, &e);
		if (rc == 0 && tracking[0]) {
			if (projects_sync_enqueue(NULL, ctx->db, p, "pull", 0, &e))
				log_msg(LOG_WARN, "project %lld: pull not queued: %s", p->id, e.msg);
			else
				log_msg(LOG_INFO, "project %lld: %s is gone on GitHub: pull queued", p->id, branch);
		}
	} else if (gh_is_rate_limited(&g, &until)) {
		/* GitHub asks for silence until then: no check before it. */
		long long wait = ((long long)until - (long long)time(NULL)) * 1000 + 1000;
		if (wait > *next_ms)
			*next_ms = wait;
		log_msg(LOG_INFO, "project %lld: check rate limited; next in %lld s", p->id, *next_ms / 1000);
	} else if (g.status == 401) {
		log_msg(LOG_INFO, "project %lld: check: GitHub refused the token", p->id);
	} else {
		char m[256];
		log_msg(LOG_INFO, "project %lld: check: %s", p->id, gh_error_message(&g, m, sizeof m));
	}
	gh_resp_free(&g);
	buf_free(&path);
	free(key);
	free_token(&token);
	return rc == ERR_DB ? rc : 0;
}

int poll_job(struct job_ctx *ctx, const struct job *job)
{
	struct project p;
	struct err e = { 0 };
	struct json_object *v;
	long long prev = json_object_object_get_ex(job->payload, "prev", &v) ? json_object_get_int64(v) : 0;
	int rc = store_project_get(&p, ctx->db, job->project_id, 0, &e);
	if (rc == ERR_NOTFOUND || (rc == 0 && !p.repo_owner)) {
		/* Deleted or disconnected: the chain ends here; connecting again starts a new one. */
		if (rc == 0)
			store_project_free(&p);
		if (prev)
			store_poll_job_forget(ctx->db, prev, &e);
		return JOB_DONE;
	}
	if (rc)
		return job_retry(ctx, "loading project %lld: %s", job->project_id, e.msg);
	long long next = poll_interval_ms();
	if (next <= 0) {
		store_project_free(&p);
		return JOB_DONE;
	}
	rc = workspace_check(ctx, &p);
	if (rc == 0 && p.pull_enabled)
		rc = remote_check(ctx, &p, &next);
	store_project_free(&p);
	if (rc)
		return job_retry(ctx, "checking project %lld: database: %s", job->project_id, e.msg);
	if (poll_ensure(ctx->db, job->project_id, next, job->id, &e))
		return job_retry(ctx, "queueing the next check of project %lld: %s", job->project_id, e.msg);
	if (prev && store_poll_job_forget(ctx->db, prev, &e))
		log_msg(LOG_DEBUG, "poll job %lld: %s", prev, e.msg);
	return JOB_DONE;
}
