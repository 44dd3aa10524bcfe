/* sync.h: the sync job: a project's workspace and its GitHub branch brought together, never forced. */
#ifndef GHB_SERVICE_SYNC_H
#define GHB_SERVICE_SYNC_H

#include "jobs/jobs.h"

/* The "sync" job kind (jobs/kinds.c). Payload: {"trigger": "auto"|"manual"|"initial"|…}. */
int sync_job(struct job_ctx *ctx, const struct job *job);

#endif
