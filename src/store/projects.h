/* projects.h: SQL for projects, project members and the sync history. */
#ifndef GHB_STORE_PROJECTS_H
#define GHB_STORE_PROJECTS_H

#include "store/db.h"

struct project {
	long long id, owner_id, owner_github_id;
	char *owner_login;
	char *name, *workspace;
	char *repo_owner, *repo_name, *repo_default_branch, *repo_html_url, *repo_clone_url; /* NULL: not connected */
	int repo_private;
	int auto_sync, batch_minutes, pull_enabled;
	char *sync_branch, *commit_template, *exclude_patterns;
	char *status, *last_error, *last_commit_sha, *last_sync_at, *conflict_branch, *conflict_url, *progress;
	char *created_at, *updated_at;
	/* the periodic check (006_poll.sql): NULL until the first one */
	char *poll_key, *poll_etag, *poll_remote_sha, *poll_workspace, *polled_at;
	/* the latest connect request (007_connect_jobs.sql): NULL when there was none. connect_state is
	 * queued, running, done or failed ("failed" too when its job died or was cancelled). */
	char *connect_state, *connect_mode, *connect_repo, *connect_step, *connect_error, *connect_error_code;
	long long connect_job_id;
	char *workspace_repo;           /* lower-case "owner/name" whose history the workspace's git holds */
	long long workspace_repo_id;    /* and GitHub's id of that repository (008_repo_ids.sql); 0: unknown */
	int lfs_threshold_mib;          /* files over this many MiB go into Git LFS (018_lfs_threshold.sql); 0: off */
};

/* Creates the project with its owner as member 'owner'. */
int store_project_create(struct project *out, struct db *db, long long owner_id, const char *name,
			 const char *data_dir, struct err *e);
/* ERR_NOTFOUND when missing or (owner_id != 0) owner_id is no active member of it (any role: the caller
 * checks the role; web/web.c does for every project route). store_projects_list: the projects owner_id is an
 * active member of. */
int store_project_get(struct project *out, struct db *db, long long id, long long owner_id, struct err *e);
int store_projects_list(struct project **rows, int *n, struct db *db, long long owner_id, struct err *e);
int store_project_rename(struct db *db, long long id, const char *name, struct err *e);
int store_project_delete(struct db *db, long long id, struct err *e);
/* Takes the project's file lock (a PostgreSQL advisory lock in a transaction, waiting at most 10 s):
 * what one writer compares and writes, no other writer sees half done, on any machine. ERR_DB when
 * the lock was not had; store_project_files_unlock ends the transaction and lets it go. It begins and
 * commits a transaction of its own: never call it inside another one. */
int store_project_files_lock(struct db *db, long long id, struct err *e);
void store_project_files_unlock(struct db *db);
/* All NULL disconnects. */
int store_project_set_repo(struct db *db, long long id, const char *owner, const char *name, const char *branch,
			   const char *html_url, const char *clone_url, int private_, struct err *e);
/* Links the repository and records whose history the workspace holds (its name, and GitHub's id when
 * known, 0 otherwise). Unless same_history (the caller found it is the repository the workspace's git
 * came from), the last commit and sync time are forgotten: they belong to the other repository. */
int store_project_link(struct db *db, long long id, const char *owner, const char *name, const char *branch,
		       const char *html_url, const char *clone_url, int private_, const char *workspace_repo,
		       long long workspace_repo_id, int same_history, struct err *e);
/* Another project of this deployment, not project_id, connected to the repository GitHub numbers repo_id (when
 * > 0) or named full ("owner/name", any case): *other_id 0 when there is none; else its id, its owner's user id
 * and its name (*other_name, the caller frees). */
int store_project_sharing_repo(long long *other_id, long long *other_owner, char **other_name, struct db *db,
			       long long project_id, long long repo_id, const char *full, struct err *e);
/* The linked repository (GitHub's id repo_id, the project's workspace_repo_id) was renamed or moved on
 * GitHub: its new owner, name and URLs, here and on the project's webhook row. *changed = 0 when the
 * project is no longer linked to that id. */
int store_project_repo_renamed(int *changed, struct db *db, long long id, long long repo_id, const char *owner,
			       const char *name, const char *html_url, const char *clone_url, struct err *e);
int store_project_set_settings(struct db *db, long long id, int auto_sync, const char *sync_branch,
			       const char *commit_template, const char *excludes, int batch_minutes, int pull_enabled,
			       int lfs_threshold_mib, struct err *e);
/* commit_sha NULL keeps the old one; conflict_* NULL clears them; synced sets last_sync_at. */
/* GitHub's default branch changed (sync.c follows it): stored while the project follows the default
 * branch. exec_one's errors (ERR_NOTFOUND when no row changed, ERR_DB). */
int store_project_set_default_branch(struct db *db, long long id, const char *branch, struct err *e);
int store_project_set_status(struct db *db, long long id, const char *status, const char *error,
			     const char *commit_sha, const char *conflict_branch, const char *conflict_url, int synced,
			     struct err *e);
/* Only moves IDLE/SUCCESS/ERROR to PENDING (a running or conflicted project keeps its status). */
int store_project_mark_pending(struct db *db, long long id, struct err *e);
int store_project_set_progress(struct db *db, long long id, const char *json, struct err *e);
/* What GitHub answered for the sync branch: key "owner/repo/branch", its ETag and tip (NULLs clear them). */
int store_project_set_poll_remote(struct db *db, long long id, const char *key, const char *etag,
				  const char *remote_sha, struct err *e);
/* The fingerprint of the workspace's unsynced files at this check; also stamps polled_at. */
int store_project_set_poll_workspace(struct db *db, long long id, const char *fingerprint, struct err *e);
/* Deletes a finished `poll` job row: a check every minute per project would otherwise fill the jobs
 * table with rows nobody reads. Anything but a done poll job is left alone. */
int store_poll_job_forget(struct db *db, long long job_id, struct err *e);
void store_project_free(struct project *p);
void store_projects_free(struct project *rows, int n);

/* A request to connect a project (table project_connects), as its job reads it. */
struct project_connect {
	long long project_id, user_id, job_id, created_repo_id;
	char *mode, *owner, *name, *description, *state, *step, *error, *error_code;
	int private_;
	double create_sent_epoch;       /* 0: no create request was sent */
};
/* Records a new request (state queued). ERR_CONFLICT when one is still queued or running. */
int store_connect_put(struct db *db, long long project_id, long long user_id, const char *mode, const char *owner,
		      const char *name, int private_, const char *description, struct err *e);
int store_connect_set_job(struct db *db, long long project_id, long long job_id, struct err *e);
int store_connect_get(struct project_connect *out, struct db *db, long long project_id, struct err *e);
/* The job's progress and outcome; only while job_id is the request's job (*owned = 0 otherwise).
 * state NULL keeps it; error and error_code are written as given (NULL clears). */
int store_connect_update(int *owned, struct db *db, long long project_id, long long job_id, const char *state,
			 const char *step, const char *error, const char *error_code, struct err *e);
int store_connect_create_sent(struct db *db, long long project_id, long long job_id, struct err *e);
int store_connect_created(struct db *db, long long project_id, long long job_id, long long repo_id, struct err *e);
/* Ends a queued or running request as failed ("Cancelled."); *job_id gets its job (0 when none was active). */
int store_connect_cancel(long long *job_id, struct db *db, long long project_id, struct err *e);
void store_connect_free(struct project_connect *c);

struct sync_run {
	long long id, project_id, job_id;
	char *trigger, *status, *commit_sha, *error, *started_at, *finished_at, *files;
	int files_changed, additions, deletions, attempts;
	double duration_s;                   /* -1 while running */
};
int store_sync_begin(long long *id, struct db *db, long long project_id, long long job_id, const char *trigger,
		     int attempt, struct err *e);
int store_sync_finish(struct db *db, long long id, const char *status, const char *commit_sha, int files_changed,
		      int additions, int deletions, const char *error, const char *files_json, struct err *e);
/* Newest first; before_id 0 = from the newest. */
int store_sync_list(struct sync_run **rows, int *n, struct db *db, long long project_id, int limit,
		    long long before_id, struct err *e);
int store_sync_get(struct sync_run *out, struct db *db, long long project_id, long long id, struct err *e);
void store_sync_free(struct sync_run *r);
void store_syncs_free(struct sync_run *rows, int n);

/* The sync branch GitHub last refused a push to for good (GH006, a protected branch), or NULL (caller
 * frees); set it with a branch, clear it with NULL. ERR_DB. */
int store_project_push_refused(char **branch, struct db *db, long long id, struct err *e);
int store_project_set_push_refused(struct db *db, long long id, const char *branch, struct err *e);

#endif
