/* projects.h: projects, their files (workspace), their GitHub repository and sync settings. No HTTP here. */
#ifndef GHB_SERVICE_PROJECTS_H
#define GHB_SERVICE_PROJECTS_H

#include <stddef.h>
#include "git/workspace.h"
#include "store/projects.h"

struct json_object;

#define PROJECT_NAME_MAX 100
#define PROJECT_PATH_MAX 1024

/* 0 when path is a safe relative file path; ERR_INVALID with a message a person can act on. */
int project_path_check(const char *path, struct err *e);
/* A project name as people see it: white space (Unicode's, NBSP included) trimmed from both ends, at least one
 * visible character (not only spaces, zero-width or other invisible ones), no control characters, at most
 * PROJECT_NAME_MAX characters (code points, not bytes), valid UTF-8. 0 with the trimmed name in out (size at
 * least PROJECT_NAME_MAX * 4 + 1; out may be NULL to check only); ERR_INVALID with a message otherwise. */
int project_name_clean(char *out, size_t size, const char *name, struct err *e);
int project_name_check(const char *name, struct err *e);

int projects_create(struct project *out, struct db *db, long long user_id, const char *name, struct err *e);
/* ERR_NOTFOUND too when the project belongs to someone else: its existence is not told. */
int projects_get(struct project *out, struct db *db, long long user_id, long long id, struct err *e);
int projects_list(struct project **rows, int *n, struct db *db, long long user_id, struct err *e);
int projects_rename(struct db *db, struct project *p, const char *name, struct err *e);
/* Removes the workspace and the project; the GitHub repository is never touched. */
int projects_delete(struct db *db, struct project *p, struct err *e);

/* Writes atomically. ERR_TOOBIG over the file limit or the project quota (nothing written). editor: the user
 * who made the change (0: not known), recorded after the write for the commit's author (authorship.h);
 * the same for every write and delete below. */
int projects_file_put(struct db *db, struct project *p, long long editor, const char *path, const void *data,
		      size_t len, struct err *e);

/* A file's version is the git blob id of its bytes (git_blob_version; GitHub's contents API calls it the
 * file's sha). A writer that read version v says what it expects with ok: called under the project's
 * file lock with the file's current version (NULL when there is no file at the path), it answers 1 to
 * let the write go ahead. Optimistic concurrency as RFC 9110 §13.1.1 (If-Match) and §13.1.2
 * (If-None-Match: *) describe it, and as GitHub's contents API does with sha (409 there). */
typedef int (*project_file_ok_fn)(void *arg, const char *current);
/* projects_file_put when ok agrees, the comparison and the rename under the project's file lock
 * (store_project_files_lock: one writer at a time on any machine). ERR_PRECONDITION when ok refuses,
 * with current (41 bytes, may be NULL) holding the file's version ("" when there is none); on success
 * current holds the version written. ok NULL: no condition. Other errors as projects_file_put. */
int projects_file_put_if(struct db *db, struct project *p, long long editor, const char *path, const void *data,
			 size_t len, project_file_ok_fn ok, void *arg, char *current, struct err *e);
/* projects_file_delete when ok agrees with the file's current version, as projects_file_put_if. */
int projects_file_delete_if(struct db *db, struct project *p, long long editor, const char *path,
			    project_file_ok_fn ok, void *arg, char *current, struct err *e);
/* The files list with every version filled in for files[from, to) (git_workspace_versions). */
void projects_files_versions(struct ws_file *files, int from, int to, struct project *p);
int projects_file_get(char **data, size_t *len, struct project *p, const char *path, struct err *e);
/* 0 when path is a regular file of the project that projects_file_delete would delete (for its confirm
 * step: nothing changes); ERR_INVALID, ERR_NOTFOUND, ERR_CONFLICT (a link kept from GitHub) as the delete says. */
int projects_file_deletable(struct project *p, const char *path, struct err *e);
int projects_file_delete(struct db *db, struct project *p, long long editor, const char *path, struct err *e);
/* 1 when path is under a Git LFS rule (.gitattributes filter=lfs): its content is in Git LFS, and
 * ghbridge neither shows the pointer as the file nor writes it (projects_file_put: ERR_CONFLICT). */
int projects_file_lfs(const struct project *p, const char *path);
int projects_files(struct ws_file **files, int *n, struct project *p, struct err *e);
/* How many of the workspace's files are not synced yet (new, modified or deleted), and how many
 * files it lists in all (total may be NULL); both 0 when the workspace cannot be read (rc). */
int projects_pending(int *pending, int *total, struct project *p, struct err *e);
/* When the project's next queued sync (or pull) job may run, as epoch seconds; 0 when none is queued
 * (none at all, or one is running). A batched sync waits until then; "Sync now" brings it forward. */
int projects_next_sync(double *run_at, struct db *db, const struct project *p, struct err *e);
/* A file change happened (also for host-platform writes): auto-sync enqueues one deduplicated job. */
int projects_changed(struct db *db, struct project *p, struct err *e);

struct project_settings {
	int auto_sync, batch_minutes, pull_enabled;
	int lfs_threshold_mib;          /* store files over this many MiB in Git LFS; 0 off, at most 2048 */
	const char *sync_branch;        /* "" or NULL: the repository's default branch */
	const char *commit_template;
	const char *excludes;
};
void projects_settings_of(struct project_settings *s, const struct project *p);
/* 1 and a message a person can act on in msg when the commit message template holds a placeholder that
 * is not one of {{project}} {{timestamp}} {{files_changed}} {{user}} or is not closed; else 0. */
int projects_template_problem(char *msg, size_t size, const char *tmpl);
/* 1 and msg (to follow "Line N ") when one exclude line is a pattern git would not match as written
 * (gitignore(5), wildmatch: a '[' without ']', a trailing backslash); blank and comment lines are fine. */
int projects_exclude_problem(char *msg, size_t size, const char *line);

#define PROJECT_EXCLUDE_COUNT_MAX 100        /* patterns counted on the settings page */
#define PROJECT_EXCLUDE_CHECKS_MAX 2000000LL /* files × patterns: about a second of libgit2 matching */
struct exclude_count {
	const char *pattern; /* one line of the setting, trailing blanks removed */
	int files;           /* current files it alone excludes; -1 when not counted (rc != 0) */
};
/* Each pattern of excludes (blank and comment lines left out, the first PROJECT_EXCLUDE_COUNT_MAX) with
 * how many of the project's current regular files it excludes; *total the files. Rows are set even when
 * counting fails (ERR_TOOBIG for a project too big to count quickly): their files are -1 then. Free
 * with projects_exclude_counts_free. */
int projects_exclude_counts(struct exclude_count **rows, int *n, int *total, struct project *p, const char *excludes,
			    struct err *e);
void projects_exclude_counts_free(struct exclude_count *rows, int n);
/* Adds {"field": "message"} to fe for each setting of s that is not valid; saves nothing. */
void projects_settings_check(struct json_object *fe, struct project *p, const struct project_settings *s);
/* ERR_INVALID with *field_errors {"field": "message"} (caller puts) when anything is wrong; nothing saved then. */
int projects_settings_update(struct db *db, struct project *p, const struct project_settings *s,
			     struct json_object **field_errors, struct err *e);
/* The commit message for a sync. Caller frees. */
char *projects_render_message(const char *tmpl, const char *project, int files_changed, const char *user);
const char *projects_branch(const struct project *p);

/* mode "create" (owner: the user or an organisation) or "link" (push access needed). Checks the input
 * and that GitHub is connected, records the request and queues the connect job (connect.c), which
 * calls GitHub; *job_id gets it. ERR_INVALID, ERR_CONFLICT (connected, or a connect under way; with err field "name"
 * when another project is connected to that repository: projects_repo_in_use),
 * ERR_UNAUTH (GitHub not connected). No GitHub call here. */
int projects_connect(struct db *db, struct project *p, long long user_id, const char *mode, const char *owner,
		     const char *name, int private_, const char *description, long long *job_id, struct err *e);
/* 1 with a message a person can act on in msg when another project of this deployment (not p) is connected to
 * the repository GitHub numbers repo_id (when > 0) or named full ("owner/name"): the other project is named
 * only when it is user_id's own. 0 when none; ERR_DB. ghbridge links a repository to one project only: two
 * would pull each other's files in and push them out again (issue 13). */
int projects_repo_in_use(char *msg, size_t size, struct db *db, const struct project *p, long long user_id,
			 long long repo_id, const char *full, struct err *e);
/* Also calls off a connect under way (ERR_NOTFOUND when there is neither a link nor a connect). */
int projects_disconnect(struct db *db, struct project *p, struct err *e);
/* Enqueues the project's sync job now (coalescing with a waiting one); trigger: manual, initial, retry, … */
int projects_sync_enqueue(long long *job_id, struct db *db, struct project *p, const char *trigger, long long delay_ms,
			  struct err *e);

#endif
