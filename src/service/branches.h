/* branches.h: the branches of a project's repository on GitHub, and branch names. No HTTP here.
 * Dependency direction (no circle): webhooks.c, connect.c, pulls.c -> branches.c -> ghx.c, projects.c. */
#ifndef GHB_SERVICE_BRANCHES_H
#define GHB_SERVICE_BRANCHES_H

#include <stddef.h>
#include "service/projects.h"

struct ghx;

#define BRANCH_NAME_MAX 200

/* 0 when name is a valid new branch name by git's rules; ERR_INVALID with a message otherwise.
 * suggest (when not NULL) always gets a valid name close to the one given. */
int branches_name_check(char *suggest, size_t len, const char *name, struct err *e);
/* A new branch's name when none is given: ghbridge/changes-YYYYMMDD-HHMMSS (UTC, now). */
void branches_default_name(char *out, size_t len);
/* 1 when a branch name that came from GitHub (a webhook, a list, a pull request's head or base, the
 * default branch) may be used in a ref path: refs/heads/<name> passes git-check-ref-format(1)
 * (git_refname_problem). A name that fails is ignored and logged by the caller, never used. */
int branches_gh_name_ok(const char *name);
/* 1 when the branch exists on GitHub (GET /repos/{o}/{r}/git/ref/heads/{branch}), with its tip in sha
 * (may be NULL); 0 when GitHub answers 404; < 0 on failure (ghx_refused). */
int branches_remote_sha(char sha[41], struct ghx *g, const char *branch, struct err *e);

struct branch_info {
	char *name, *sha;
	int protected_, is_default, is_sync;
	int open_pull;             /* number of the open pull request whose head it is, 0 if none */
};
/* The repository's branches, read with the project's account's token (see service/pulls.h on reads). */
int branches_list(struct branch_info **rows, int *n, struct db *db, struct project *p, struct err *e);
void branches_free(struct branch_info *rows, int n);
/* from: NULL or "" means the sync branch. */
int branches_create(struct db *db, struct project *p, long long user_id, const char *name, const char *from,
		    struct err *e);
/* The sync branch, the default branch and heads of open pull requests are refused. */
int branches_delete(struct db *db, struct project *p, long long user_id, const char *name, struct err *e);

#endif
