/* sync.h: the sync job: a project's workspace and its GitHub branch brought together, never forced. */
#ifndef GHB_SERVICE_SYNC_H
#define GHB_SERVICE_SYNC_H

#include "jobs/jobs.h"

/* The "sync" job kind (jobs/kinds.c). Payload: {"trigger": "auto"|"manual"|"initial"|…}. */
int sync_job(struct job_ctx *ctx, const struct job *job);

struct db;
/* The owner's GitHub connection works again (signed in anew after a refused or revoked token): every
 * connected project of theirs that stopped in ERROR gets a sync (trigger "retry"), so the work that
 * waited resumes by itself. *queued counts them (may be NULL). Errors from PostgreSQL only. */
int sync_resume_owner(int *queued, struct db *db, long long owner_id, struct err *e);

#endif
