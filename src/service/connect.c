/* connect.c: the connect job: checks or creates the repository asked for on GitHub, links it, starts the
 * workspace's git afresh when the repository is a different one, and queues the initial sync. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "core/fsafe.h"
#include "core/log.h"
#include "git/workspace.h"
#include "github/gh.h"
#include "service/auth.h"
#include "service/connect.h"
#include "service/ghrepos.h"
#include "service/members.h"
#include "service/projects.h"
#include "service/branches.h"
#include "service/webhooks.h"
#include "store/users.h"

/* The steps the project page shows while the job runs. */
#define STEP_CHECKING "checking"
#define STEP_CREATING "creating"
#define STEP_LINKING "linking"

struct cj {
	struct job_ctx *ctx;
	const struct job *job;
	struct project p;
	struct project_connect c;
	char full[160];              /* owner/name as asked */
	char *token;
	int refreshed;
};

static int any_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	return flag == FTW_F && st->st_size > 0;
}

/* 1 when the workspace's git has any reference (a branch, GitHub's tip, a push ref): history to forget.
 * A project never connected has none, and its git is left alone. */
static int has_refs(const char *workspace)
{
	char *refs, *packed;
	if (asprintf(&refs, "%s/.git/refs", workspace) < 0 || asprintf(&packed, "%s/.git/packed-refs", workspace) < 0)
		abort();
	struct stat st;
	int has = (lstat(packed, &st) == 0 && st.st_size > 0) || nftw(refs, any_file, 16, FTW_PHYS) == 1;
	free(refs);
	free(packed);
	return has;
}

int connect_workspace_forget(const char *workspace, struct err *e)
{
	/* Only ever a project's own folder under the data folder. */
	if (!workspace || !strstr(workspace, "/workspaces/"))
		return err_set(e, ERR_FAIL, "not a project workspace: %s", workspace ? workspace : "(none)");
	char *git, *old;
	if (asprintf(&git, "%s/.git", workspace) < 0 ||
	    asprintf(&old, "%s.forgotten-git-%ld-%d", workspace, (long)time(NULL), (int)getpid()) < 0)
		abort();
	int rc = 0;
	struct stat st;
	if (!has_refs(workspace)) {
		free(git);
		free(old);
		return git_workspace_init(workspace, e);
	}
	/* Set aside in one step (a rename next to the workspace, same filesystem), then made anew: at no
	 * time does the workspace hold half of the old history. */
	if (lstat(git, &st) == 0 && rename(git, old))
		rc = err_set(e, ERR_FAIL, "setting the old git history aside: %s", strerror(errno));
	if (!rc)
		rc = git_workspace_init(workspace, e);
	/* Removed by descriptors (core/fsafe.h): a link inside is removed itself, never followed. */
	char *slash = strrchr(old, '/');
	if (!rc && slash && lstat(old, &st) == 0) {
		*slash = '\0';
		int dir = fsafe_root(old), r = dir < 0 ? dir : fsafe_remove_tree(dir, slash + 1);
		*slash = '/';
		if (r)
			log_msg(LOG_WARN, "removing %s: %s", old, fsafe_strerror(r));
		if (dir >= 0)
			close(dir);
	}
	free(git);
	free(old);
	return rc;
}

int connect_same_repository(long long had_id, const char *had_name, long long id, const char *name)
{
	/* GitHub's id survives a rename and a transfer; a name can be reused by another repository. */
	if (had_id > 0 && id > 0)
		return had_id == id;
	return had_name && name && strcasecmp(had_name, name) == 0;
}

/* 0 when the request was called off or replaced meanwhile: the job then stops without a trace. */
static int step(struct cj *x, const char *what)
{
	int owned = 0;
	struct err e = { 0 };
	if (store_connect_update(&owned, x->ctx->db, x->p.id, x->job->id, "running", what, NULL, NULL, &e)) {
		log_msg(LOG_WARN, "project %lld: connect progress: %s", x->p.id, e.msg);
		return 1;
	}
	return owned;
}

static int record(struct cj *x, const char *state, const char *msg, const char *code)
{
	int owned;
	struct err e = { 0 };
	int rc = store_connect_update(&owned, x->ctx->db, x->p.id, x->job->id, state, NULL, msg, code, &e);
	if (rc)
		log_msg(LOG_WARN, "project %lld: connect state: %s", x->p.id, e.msg);
	return rc;
}

/* A person has to act (another name, access, a reconnect): the request fails with the reason. That is
 * an answer, not a failure of the system: the job ends done, and the reason lives on the request (the
 * project page, GET …/status), not on the admin's list of dead jobs. */
static int failed(struct cj *x, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failed(struct cj *x, const char *code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Unrecorded, the answer would be lost with a done job: the next attempt gives it again. */
	if (record(x, "failed", msg, code))
		return job_retry(x->ctx, "recording the answer: %s", msg);
	log_msg(LOG_INFO, "project %lld: connecting %s: %s (%s)", x->p.id, x->full, code, msg);
	return JOB_DONE;
}

/* GitHub did not answer well: the next attempt tries again; the page shows why it waits. */
static int again(struct cj *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int again(struct cj *x, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	record(x, "running", msg, "github_unavailable");
	return job_retry(x->ctx, "%s", msg);
}

/* Answers that mean the same whatever was asked: rate limits, a refused token, GitHub down. */
static int answer_failed(struct cj *x, struct gh_resp *g, const char *code, const char *what)
{
	char m[256], when[16], msg[300];
	long until;
	if (gh_is_rate_limited(g, &until)) {
		ghrepos_clock(when, sizeof when, until);
		snprintf(msg, sizeof msg, "GitHub's rate limit is reached; connecting %s resumes after %s.", x->full, when);
		record(x, "running", msg, "rate_limited");
		return job_wait(x->ctx, (double)until + 1, "%s", msg);
	}
	if (g->status == 401)
		return failed(x, "github_reconnect", "GitHub refused your token. Reconnect GitHub on your account page, "
			      "then connect again.");
	if (g->status == 0 || g->status >= 500)
		return again(x, "GitHub did not answer well (%s).", gh_error_message(g, m, sizeof m));
	return failed(x, code, "%s: GitHub refused (%s).", what, gh_error_message(g, m, sizeof m));
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

static int jbool(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

/* A repository by that name exists: is it the one an earlier attempt of this request created?
 * Either GitHub's answer was recorded (created_repo_id), or it was lost after the create went out:
 * then the repository was made since, and this user administers it. */
static int ours(struct cj *x, struct json_object *repo)
{
	struct json_object *v, *perm = NULL;
	long long id = json_object_object_get_ex(repo, "id", &v) ? json_object_get_int64(v) : 0;
	if (x->c.created_repo_id && id == x->c.created_repo_id)
		return 1;
	if (x->c.create_sent_epoch <= 0)
		return 0;
	const char *at = jstr(repo, "created_at");
	struct tm tm = { 0 };
	if (!at || !strptime(at, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return 0;
	double created = (double)timegm(&tm);
	json_object_object_get_ex(repo, "permissions", &perm);
	/* GitHub's clock and ours may differ a little. */
	return created >= x->c.create_sent_epoch - 300 && jbool(perm, "admin");
}

/* The repository is GitHub's answer (repo), or NULL when this request linked it already (a redo). */
static int linked(struct cj *x, struct json_object *repo)
{
	struct err e = { 0 };
	struct project *p = &x->p;
	if (!step(x, STEP_LINKING))
		return JOB_DONE;
	if (repo) {
		struct json_object *ow = NULL;
		json_object_object_get_ex(repo, "owner", &ow);
		const char *rowner = jstr(ow, "login"), *rname = jstr(repo, "name"), *clone = jstr(repo, "clone_url");
		const char *branch = jstr(repo, "default_branch");
		if (branch && !branches_gh_name_ok(branch)) {
			/* Never stored as the sync branch: git refuses the name (issue 11). */
			log_msg(LOG_WARN, "project %lld: GitHub's default branch name is one git refuses; not used", p->id);
			branch = NULL;
		}
		if (!rowner || !rname || !clone)
			return again(x, "GitHub's answer about %s has no owner, name or clone URL.", x->full);
		char full[300];
		snprintf(full, sizeof full, "%s/%s", rowner, rname);
		for (char *c = full; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		struct json_object *idv;
		long long id = json_object_object_get_ex(repo, "id", &idv) ? json_object_get_int64(idv) : 0;
		/* One repository, one project: by GitHub's id now (the request was checked by name only). */
		char why[600];
		int used = projects_repo_in_use(why, sizeof why, x->ctx->db, p, x->c.user_id, id, full, &e);
		if (used < 0)
			return job_retry(x->ctx, "checking the repository's other projects: %s", e.msg);
		if (used)
			return failed(x, "repository_in_use", "%s", why);
		/* Another repository's history must not travel into this one: the files stay, git starts
		 * afresh, and the initial sync adopts the new repository's history beneath them. */
		int same = connect_same_repository(p->workspace_repo_id, p->workspace_repo, id, full);
		if (!same) {
			log_msg(LOG_INFO, "project %lld: workspace history was %s (id %lld), now %s (id %lld): starting git "
				"afresh", p->id, p->workspace_repo ? p->workspace_repo : "(none)", p->workspace_repo_id, full, id);
			if (connect_workspace_forget(p->workspace, &e))
				return again(x, "Preparing the workspace: %s", e.msg);
		} else if (p->workspace_repo && strcmp(p->workspace_repo, full) != 0) {
			log_msg(LOG_INFO, "project %lld: repository %lld was %s, now %s (renamed or moved): history kept", p->id,
				id, p->workspace_repo, full);
		}
		if (store_project_link(x->ctx->db, p->id, rowner, rname, branch && *branch ? branch : "main",
				       jstr(repo, "html_url"), clone, jbool(repo, "private"), full, id, same, &e))
			return job_retry(x->ctx, "linking: %s", e.msg);
		/* A repository this request created is not in the user's cached Link list yet. */
		if (strcmp(x->c.mode, "create") == 0 && store_ghrepos_changed(x->ctx->db, x->c.user_id, &e))
			log_msg(LOG_WARN, "project %lld: the repository list not marked stale: %s", p->id, e.msg);
		store_project_free(p);
		if (store_project_get(p, x->ctx->db, x->job->project_id, 0, &e))
			return job_retry(x->ctx, "reloading the project: %s", e.msg);
	}
	/* The initial sync pulls the repository's content into the workspace first. A redo whose first
	 * run queued it (the project is no longer IDLE, or has synced) does not queue another. */
	if (strcmp(p->status, "IDLE") == 0 && !p->last_sync_at &&
	    projects_sync_enqueue(NULL, x->ctx->db, p, "initial", 0, &e))
		return job_retry(x->ctx, "queueing the initial sync: %s", e.msg);
	webhooks_on_connect(x->ctx->db, p); /* a job; never fails the connect */
	/* Members who joined before the project was connected (or to another repository) get their access on
	 * this one: jobs, deduplicated per member, so a redo queues nothing twice; never fails the connect. */
	int queued = 0;
	if (members_sync_all(&queued, x->ctx->db, p->id, &e))
		log_msg(LOG_WARN, "project %lld: members' GitHub access not queued: %s", p->id, e.msg);
	err_clear(&e);
	int owned;
	if (store_connect_update(&owned, x->ctx->db, p->id, x->job->id, "done", "linked", NULL, NULL, &e))
		return job_retry(x->ctx, "recording the connection: %s", e.msg);
	log_msg(LOG_INFO, "project %lld: connected to %s/%s", p->id, p->repo_owner, p->repo_name);
	return JOB_DONE;
}

static int create(struct cj *x, int mine)
{
	struct err e = { 0 };
	if (!step(x, STEP_CREATING))
		return JOB_DONE;
	/* Before the request goes out: if its answer is lost, the next attempt knows to look for it. */
	if (store_connect_create_sent(x->ctx->db, x->p.id, x->job->id, &e))
		return job_retry(x->ctx, "recording the create: %s", e.msg);
	struct json_object *b = json_object_new_object();
	json_object_object_add(b, "name", json_object_new_string(x->c.name));
	json_object_object_add(b, "private", json_object_new_boolean(x->c.private_));
	json_object_object_add(b, "auto_init", json_object_new_boolean(0));
	if (x->c.description && *x->c.description)
		json_object_object_add(b, "description", json_object_new_string(x->c.description));
	char *url;
	if (mine)
		url = strdup("/user/repos");
	else if (asprintf(&url, "/orgs/%s/repos", x->c.owner) < 0)
		url = NULL;
	if (!url)
		abort();
	struct gh_resp g;
	int rc = ghrepos_call(&g, &x->token, &x->refreshed, x->ctx->db, x->c.user_id, "POST", url,
			      json_object_to_json_string(b), &e);
	json_object_put(b);
	free(url);
	int out;
	char m[256];
	long until;
	if (rc) {
		out = again(x, "GitHub did not answer (%s).", e.msg);
	} else if (gh_is_rate_limited(&g, &until)) {
		out = answer_failed(x, &g, "rate_limited", "Creating the repository");
	} else if (g.status == 201) {
		struct json_object *v;
		if (json_object_object_get_ex(g.json, "id", &v) &&
		    store_connect_created(x->ctx->db, x->p.id, x->job->id, json_object_get_int64(v), &e))
			log_msg(LOG_WARN, "project %lld: created repository id not recorded: %s", x->p.id, e.msg);
		out = linked(x, g.json);
	} else if (g.status == 422) {
		gh_error_message(&g, m, sizeof m);
		if (strcasestr(g.body.data ? g.body.data : "", "already exists"))
			out = failed(x, "name_taken", "A repository named %s already exists on GitHub. Choose another name, "
				     "or link that repository with “Link an existing repository”.", x->full);
		else
			out = failed(x, "invalid", "GitHub refused to create %s (%s).", x->full, m);
	} else if (g.status == 404 || g.status == 403) {
		if (mine)
			out = failed(x, "forbidden", "GitHub did not let ghbridge create a repository for you (%s). Reconnect "
				     "GitHub on your account page to grant the repo scope.", gh_error_message(&g, m, sizeof m));
		else if (g.status == 404)
			out = failed(x, "not_found", "GitHub did not let you create a repository in %s: there is no such "
				     "organisation, or you are not a member of it who may create repositories.", x->c.owner);
		else
			out = answer_failed(x, &g, "forbidden", "Creating the repository");
	} else {
		out = answer_failed(x, &g, "github_refused", "Creating the repository");
	}
	gh_resp_free(&g);
	return out;
}

static int run(struct cj *x)
{
	struct err e = { 0 };
	struct project *p = &x->p;
	if (p->repo_owner) {
		if (strcasecmp(p->repo_owner, x->c.owner) == 0 && strcasecmp(p->repo_name, x->c.name) == 0)
			return linked(x, NULL);
		return failed(x, "already_connected", "This project is connected to %s/%s already; disconnect it first.",
			      p->repo_owner, p->repo_name);
	}
	if (!step(x, STEP_CHECKING))
		return JOB_DONE;
	int rc = auth_github_token(&x->token, x->ctx->db, x->c.user_id, &e);
	if (rc == ERR_UNAUTH || rc == ERR_NOTFOUND)
		return failed(x, "github_reconnect", "GitHub is not connected for your account (%s). Reconnect GitHub on "
			      "your account page, then connect again.", e.msg);
	if (rc)
		return job_retry(x->ctx, "token: %s", e.msg);
	struct user u;
	if ((rc = store_user_get(&u, x->ctx->db, x->c.user_id, &e)))
		return job_retry(x->ctx, "loading the user: %s", e.msg);
	int mine = strcasecmp(x->c.owner, u.login) == 0;
	store_user_free(&u);
	/* Check before create: the repository may exist already (another name, or this request's own
	 * from an attempt that did not finish). */
	char *path;
	if (asprintf(&path, "/repos/%s/%s", x->c.owner, x->c.name) < 0)
		abort();
	struct gh_resp g;
	rc = ghrepos_call(&g, &x->token, &x->refreshed, x->ctx->db, x->c.user_id, "GET", path, NULL, &e);
	free(path);
	int out;
	int link = strcmp(x->c.mode, "link") == 0;
	struct json_object *perm = NULL;
	long until;
	if (rc) {
		out = again(x, "GitHub did not answer (%s).", e.msg);
	} else if (g.status == 200 && link) {
		json_object_object_get_ex(g.json, "permissions", &perm);
		if (perm && !jbool(perm, "push"))
			out = failed(x, "no_push", "You can read %s but not push to it, so ghbridge cannot sync to it. Ask its "
				     "owner for write access, or choose another repository.", x->full);
		else
			out = linked(x, g.json);
	} else if (g.status == 200) {
		if (ours(x, g.json))
			out = linked(x, g.json);
		else
			out = failed(x, "name_taken", "A repository named %s already exists on GitHub. Choose another name, "
				     "or link that repository with “Link an existing repository”.", x->full);
	} else if (g.status == 404 && !gh_is_rate_limited(&g, &until)) {
		if (link)
			out = failed(x, "not_found", "There is no repository %s on GitHub, or your GitHub account cannot see "
				     "it. Check the owner and the name.", x->full);
		else
			out = create(x, mine);
	} else {
		out = answer_failed(x, &g, link ? "forbidden" : "github_refused", "Checking the repository");
	}
	gh_resp_free(&g);
	return out;
}

int connect_job(struct job_ctx *ctx, const struct job *job)
{
	struct cj x = { .ctx = ctx, .job = job };
	struct err e = { 0 };
	int rc = store_project_get(&x.p, ctx->db, job->project_id, 0, &e);
	if (rc == ERR_NOTFOUND)
		return JOB_DONE; /* deleted meanwhile */
	if (rc)
		return job_retry(ctx, "loading project %lld: %s", job->project_id, e.msg);
	rc = store_connect_get(&x.c, ctx->db, job->project_id, &e);
	int out;
	if (rc == ERR_NOTFOUND) {
		out = JOB_DONE;
	} else if (rc) {
		out = job_retry(ctx, "loading the request: %s", e.msg);
	} else if (x.c.job_id != job->id || (strcmp(x.c.state, "queued") != 0 && strcmp(x.c.state, "running") != 0)) {
		out = JOB_DONE; /* called off, finished, or replaced by a newer request */
	} else {
		snprintf(x.full, sizeof x.full, "%s/%s", x.c.owner, x.c.name);
		out = run(&x);
	}
	if (x.token) {
		memset(x.token, 0, strlen(x.token));
		free(x.token);
	}
	store_connect_free(&x.c);
	store_project_free(&x.p);
	return out;
}
