/* connect.h: the connect job: creates or checks the GitHub repository a project asked for, links it,
 * starts the workspace's git afresh for a different repository, and queues the initial sync. */
#ifndef GHB_SERVICE_CONNECT_H
#define GHB_SERVICE_CONNECT_H

#include "jobs/jobs.h"

/* Kind "connect", one per project (dedup key connect:<id>), reading the request from
 * project_connects. Idempotent: a redone job finds the repository it created, or the link it
 * recorded, and finishes the work instead of calling the name taken. */
int connect_job(struct job_ctx *ctx, const struct job *job);

/* Removes the workspace's git history and remote state (the files stay): the next sync starts from
 * the connected repository's history, with the files as changes on top. */
int connect_workspace_forget(const char *workspace, struct err *e);

/* 1 when the repository (GitHub's id, 0 if unknown; "owner/name") is the one whose history the
 * workspace holds: by id when both ids are known (a rename or transfer keeps it), else by name. */
int connect_same_repository(long long had_id, const char *had_name, long long id, const char *name);

#endif
