/* ghrepos.h: the user's GitHub repositories a project can be linked to (push access): a per-user cache in
 * PostgreSQL, searched and paged by requests, read from GitHub by a job (kind github_repos). */
#ifndef GHB_SERVICE_GHREPOS_H
#define GHB_SERVICE_GHREPOS_H

#include "jobs/jobs.h"
#include "store/db.h"
#include "store/ghrepos.h"

struct gh_resp;

#define GHREPOS_PER_PAGE 30
#define GHREPOS_QUERY_MAX 100
/* A list older than this is read again (in the background) when someone looks at it. */
#define GHREPOS_STALE_SECONDS 600
/* GitHub has more than this many pages of 100: the rest are left out (truncated). */
#define GHREPOS_MAX_PAGES 50

struct ghrepos_page {
	struct ghrepo *items;
	int n;
	int page;
	int has_next;
	int truncated;           /* GitHub had more repositories than one refresh reads: narrow the search */
	char *state;             /* "ready", "refreshing" (a job is reading GitHub) or "failed" */
	int never_read;          /* nothing was ever read from GitHub: the list is empty because it is loading */
	char *refreshed_at;      /* UTC text or NULL */
	long long age_seconds;   /* -1 when never read */
	char *error, *error_code;/* the last refresh's problem, in words a person can act on */
	long long job_id;        /* the refresh job, when one is under way */
};

/* Page `page` (from 1) of the cached repositories whose "owner/name" contains q (case-insensitive;
 * NULL or "" for all). Never calls GitHub: when there is no list yet or it is stale, a refresh job is
 * queued and the page says so (state "refreshing"). ERR_INVALID for a bad page or query. */
int ghrepos_list(struct ghrepos_page *out, struct db *db, long long user_id, const char *q, int page, struct err *e);
void ghrepos_page_free(struct ghrepos_page *pg);
/* Queues a refresh now (the Refresh button); *job_id gets the job. */
int ghrepos_refresh(long long *job_id, struct db *db, long long user_id, struct err *e);

/* The job: reads GET /user/repos (all pages, up to GHREPOS_MAX_PAGES) and replaces the cache.
 * payload {"user_id": N}. */
int ghrepos_job_refresh(struct job_ctx *ctx, const struct job *job);

/* A REST call with the user's token, *token refreshed once when GitHub answers 401 (an expired
 * GitHub App token; a revoked grant marks the connection and the 401 stays). Shared with connect.c. */
int ghrepos_call(struct gh_resp *g, char **token, int *refreshed, struct db *db, long long user_id,
		 const char *method, const char *path, const char *body, struct err *e);
/* "HH:MM UTC" of an epoch second, for messages about rate limits. */
void ghrepos_clock(char *out, size_t len, long epoch);

#endif
