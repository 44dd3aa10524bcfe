/* poll.h: the periodic check of a connected project, for deployments GitHub cannot send webhooks to. */
#ifndef GHB_SERVICE_POLL_H
#define GHB_SERVICE_POLL_H

#include "jobs/jobs.h"

/* The "poll" job kind (jobs/kinds.c), one queued per connected project (dedup key poll:<id>):
 * - the workspace folder: unsynced files nobody reported (the host platform wrote them straight
 *   into it) enqueue an `auto` sync when auto-sync is on, once per change;
 * - GitHub's sync branch, when pulling is on: GET /repos/{o}/{r}/branches/{b} with the stored
 *   ETag (a 304 costs no rate limit); a tip the workspace does not have enqueues a `pull` sync.
 * Then it enqueues the next check, project_poll_seconds later (later when rate limited). */
int poll_job(struct job_ctx *ctx, const struct job *job);

/* Makes sure the project has a check queued within delay_ms (coalescing with a queued one).
 * prev_job: the check enqueueing its successor (its row is deleted by that successor), else 0.
 * Does nothing when project_poll_seconds is 0. */
int poll_ensure(struct db *db, long long project_id, long long delay_ms, long long prev_job, struct err *e);
/* project_poll_seconds in milliseconds (0: checks are off). */
long long poll_interval_ms(void);

#endif
