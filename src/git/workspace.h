/* workspace.h: a project's workspace as a git working tree (libgit2): status, stage, commit, fetch, merge, push. */
#ifndef GHB_GIT_WORKSPACE_H
#define GHB_GIT_WORKSPACE_H

#include <stddef.h>
#include "core/err.h"

struct json_object;

/* Network operations (fetch, push) fail with ERR_TIMEOUT when GitHub is silent this long. */
void git_workspace_set_timeout(int seconds);

/* Creates dir (and parents) and a repository in it if there is none. */
int git_workspace_init(const char *dir, struct err *e);

struct ws_file {
	char *path;
	const char *status;   /* "new", "modified", "deleted", "synced", "excluded" */
	long long size;       /* -1 for deleted */
	long long mtime_ns;   /* 0 for deleted */
};
/* Every file in the working tree plus the deleted ones, sorted by path. */
int git_workspace_files(struct ws_file **files, int *n, const char *dir, const char *excludes, struct err *e);
void git_workspace_files_free(struct ws_file *files, int n);
/* Bytes of the working tree's files (not .git). */
long long git_workspace_bytes(const char *dir);

struct ws_commit {
	char sha[41];                /* "" when nothing changed */
	int files_changed, additions, deletions;
	struct json_object *files;   /* [{path,status,additions,deletions}], caller puts */
};
/* Stages everything but the excludes (gitignore lines) and commits on refs/heads/branch when the
 * tree differs from the branch tip; message(arg, files_changed) gives the message (malloc'd). */
typedef char *(*ws_message_fn)(void *arg, int files_changed);
int git_workspace_commit(struct ws_commit *out, const char *dir, const char *branch, const char *excludes,
			 ws_message_fn message, void *arg, const char *author_name, const char *author_email,
			 struct err *e);

/* What changed from from_sha (NULL or "": nothing) to to_sha, in the same shape; sha = to_sha. */
int git_workspace_diff(struct ws_commit *out, const char *dir, const char *from_sha, const char *to_sha,
		       struct err *e);

/* Fetches branch from url; remote_sha is "" when the branch does not exist there (an empty
 * repository). ERR_UNAUTH when the token is refused, ERR_FAIL/ERR_TIMEOUT for transport failures. */
int git_workspace_fetch(char remote_sha[41], const char *dir, const char *url, const char *branch, const char *token,
			struct err *e);

enum { WS_NOTHING, WS_UPTODATE, WS_AHEAD, WS_FASTFORWARD, WS_MERGED, WS_ADOPTED, WS_BLOCKED };
/* Brings the fetched remote_sha into refs/heads/branch: adopt (no local commit yet: local files
 * stay as uncommitted changes on top), fast-forward, or a three-way merge commit. ERR_CONFLICT
 * when both sides changed the same lines; conflicts (JSON array text, caller frees) names them.
 * Uncommitted changes in the working tree are kept; WS_BLOCKED (nothing changed) when GitHub's
 * side would overwrite one of them. */
int git_workspace_merge(int *outcome, char **conflicts, const char *dir, const char *branch, const char *remote_sha,
			struct err *e);

/* The tip of refs/heads/branch, "" if none. */
int git_workspace_head(char sha[41], const char *dir, const char *branch, struct err *e);
/* GitHub's tip of branch as the last fetch saw it, "" if none. */
int git_workspace_tracking(char sha[41], const char *dir, const char *branch, struct err *e);
/* Commits local_sha has that remote_sha lacks (ahead) and the other way round (behind). */
int git_workspace_ahead_behind(size_t *ahead, size_t *behind, const char *dir, const char *local_sha,
			       const char *remote_sha, struct err *e);

/* Called while a push sends its objects (current of total, bytes so far); NULL stops it. */
typedef void (*ws_progress_fn)(void *arg, unsigned current, unsigned total, size_t bytes);
void git_workspace_on_push_progress(ws_progress_fn fn, void *arg);

/* Pushes sha to refs/heads/remote_branch (never forced) and records it as GitHub's tip
 * (git_workspace_tracking). ERR_CONFLICT when the remote moved (not a fast-forward, also when
 * it moved to commits not fetched yet), ERR_UNAUTH when the token is refused. objects is set
 * to objects sent. */
int git_workspace_push(unsigned *objects, const char *dir, const char *url, const char *sha, const char *remote_branch,
		       const char *token, struct err *e);

/* 1 when path (relative) matches the excludes. */
int git_workspace_excluded(const char *dir, const char *excludes, const char *path);

#endif
