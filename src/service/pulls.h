/* pulls.h: pull requests of a project's repository, kept in step with GitHub. No HTTP here.
 * Dependency direction (no circle): webhooks.c -> pulls.c -> branches.c, ghx.c, projects.c; pulls.c never
 * calls webhooks.c, and projects.c calls neither. */
#ifndef GHB_SERVICE_PULLS_H
#define GHB_SERVICE_PULLS_H

#include <stddef.h>
#include "jobs/jobs.h"
#include "service/branches.h"
#include "service/projects.h"
#include "store/pulls.h"

struct json_object;
struct gh_resp;

#define PULL_TITLE_MAX 256
#define PULL_BODY_MAX 65536

struct pull_new {
	const char *title, *body;
	const char *base;          /* NULL or "": the sync branch */
	const char *head;          /* existing branch; from changes: the new branch's name (NULL: generated) */
	int from_changes;
	int draft;
};
/* Opens a pull request, or returns the open one that has the same head (*created = 0).
 * From changes, the commit, push and creation run as a job: *job_id is set, out->number is 0
 * and out->head_ref names the branch. Bad input: ERR_INVALID with *field_errors
 * ({"field": "message"}, caller puts) and nothing done. */
int pulls_create(struct pull *out, int *created, long long *job_id, struct json_object **field_errors,
		 struct db *db, struct project *p, long long user_id, const struct pull_new *in, struct err *e);

/* state: open, closed, merged or all (NULL: open). */
int pulls_list(struct pull **rows, int *n, struct db *db, struct project *p, const char *state, const char *head,
	       int limit, int offset, struct err *e);
enum { PULLS_STORED = 0, PULLS_IF_STALE = 1, PULLS_NOW = 2 };
/* Reads (pulls_get, pulls_files, pulls_settings, branches_list) go to GitHub with the token of the project's
 * account (p->owner_id), not the caller's: the route table has already checked the caller's role, and what they
 * refresh is the project's shared stored view. A viewer is never a collaborator on a personal account's
 * repository (GitHub gives collaborators there write), and an invited developer has no access until they
 * accept, yet the role table lets both read pull requests and branches. Writes (create, merge, close, branch
 * create and delete) keep the caller's own token, so GitHub names and checks the person acting. */
/* The stored pull request, first refreshed from GitHub with a conditional request (a 304 costs
 * nothing) when refresh asks for it. A failed refresh still gives the stored row, with *stale set. */
int pulls_get(struct pull *out, int *stale, struct db *db, struct project *p, int number, int refresh, struct err *e);
/* Fills pr->files (JSON text) from GitHub, conditionally. */
int pulls_files(struct pull *pr, struct db *db, struct project *p, struct err *e);
/* The repository's allowed merge methods, refreshed when older than the refresh interval. */
int pulls_settings(struct pull_settings *out, struct db *db, struct project *p, struct err *e);

/* Why GitHub said no, as a short code for the API: "not_mergeable", "head_moved",
 * "method_not_allowed", "forbidden", "invalid", "not_open", … (NULL when it did not). */
struct pull_outcome {
	const char *why;
	char note[256];            /* what else happened, e.g. "Branch x deleted." */
};
/* method: merge, squash or rebase (only those the repository allows); sha (may be NULL) is the
 * head the person saw: GitHub refuses (head_moved) when the branch moved since. */
int pulls_merge(struct pull *out, struct pull_outcome *o, struct db *db, struct project *p, long long user_id,
		int number, const char *method, const char *sha, int delete_branch, struct err *e);
/* title/body/state NULL keep; state "open" or "closed"; ready marks a draft ready for review. */
int pulls_update(struct pull *out, struct pull_outcome *o, struct db *db, struct project *p, long long user_id,
		 int number, const char *title, const char *body, const char *state, int ready, struct err *e);
/* Queues a refresh of the open pull requests (deduplicated per project). */
int pulls_refresh_enqueue(long long *job_id, struct db *db, struct project *p, long long delay_ms, struct err *e);
/* The stored list is older than the refresh interval (or was never read). */
int pulls_list_stale(struct db *db, struct project *p, long long *age, struct err *e);

/* Job kinds (jobs/kinds.c). */
int pulls_job_create(struct job_ctx *ctx, const struct job *job);
int pulls_job_refresh(struct job_ctx *ctx, const struct job *job);

/* Shared with webhooks.c. */
int pulls_from_json(struct pull *out, struct json_object *o, long long project_id);

#endif
