/* branch.h: branch names and the workspace operations behind "a pull request from pending changes" (libgit2). */
#ifndef GHB_GIT_BRANCH_H
#define GHB_GIT_BRANCH_H

#include "core/err.h"
#include "git/workspace.h"

/* 1 when name is a valid branch name: git_branch_name_problem (git/refname.h) finds nothing wrong. */
int git_branch_name_ok(const char *name);

/* Commits the working tree (minus the excludes) on top of refs/heads/base into a new
 * refs/heads/branch, leaving HEAD, the base branch and the index file alone. When
 * refs/heads/branch exists already (a redone job) its tip is returned with *reused = 1.
 * ERR_NOTFOUND when base has no commit (never synced); ERR_INVALID when the working tree
 * has nothing that base lacks. out->files is not filled. */
int git_workspace_commit_branch(struct ws_commit *out, int *reused, const char *dir, const char *base,
				const char *branch, const char *excludes, const char *message, const char *author_name,
				const char *author_email, struct err *e);

/* The pending changes now live in commit from_sha on another branch: puts the working tree and
 * index back to refs/heads/base wherever the files still are as in from_sha. ERR_CONFLICT, with
 * nothing touched, when a file changed since (it stays a pending change: nothing is lost). */
int git_workspace_restore(const char *dir, const char *from_sha, const char *base, const char *excludes,
			  struct err *e);

/* *has = 1 when sha is the tip of refs/heads/branch or one of its ancestors (GitHub tells of a
 * push the workspace already holds, e.g. its own). */
int git_workspace_contains(int *has, const char *dir, const char *branch, const char *sha, struct err *e);

/* sha gets the commit the workspace's HEAD points to ("" when HEAD has none yet: an unborn branch).
 * ERR_FAIL when the workspace repository cannot be opened. */
int git_workspace_head_commit(char sha[41], const char *dir, struct err *e);

/* A sync branch new to the workspace starts where the workspace is: when refs/heads/branch has no
 * commit, it is created at the commit HEAD points to (the branch last synced) and HEAD moves to it;
 * the index and the files are left alone, so unsynced changes stay exactly as they were (never a
 * root commit beside the old history). from gets the commit branch starts at (its tip when it
 * existed already; "" when HEAD has no commit: nothing done), from_branch (NULL allowed) the branch
 * HEAD was on. ERR_FAIL on a libgit2 failure. */
int git_workspace_branch_start(char from[41], char *from_branch, size_t len, const char *dir, const char *branch,
			       struct err *e);

#endif
