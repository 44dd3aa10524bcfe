/* webhooks.h: the repository webhook: registration, signed deliveries, and what each event changes. No HTTP here. */
#ifndef GHB_SERVICE_WEBHOOKS_H
#define GHB_SERVICE_WEBHOOKS_H

#include <stddef.h>
#include "jobs/jobs.h"
#include "service/projects.h"
#include "store/pulls.h"

/* Called by the connect job (connect.c); projects_disconnect and projects_delete remove the hook themselves
 * (projects.c repo_unlinked: projects.c never calls this module). They never fail the
 * caller: registration and removal run as jobs, problems are logged and shown on the panel. */
void webhooks_on_connect(struct db *db, struct project *p);
/* For a project connected before webhooks existed (or whose registration failed): queues it. */
void webhooks_ensure(struct db *db, struct project *p);
/* The project's webhook row; ERR_NOTFOUND when it has none. */
int webhooks_status(struct webhook *out, struct db *db, struct project *p, struct err *e);

/* One delivery as received. body is what GitHub signed; json is the event (the body itself, or
 * the decoded "payload" field of a form delivery). */
struct webhook_in {
	const char *signature;      /* X-Hub-Signature-256 */
	const char *event;          /* X-GitHub-Event */
	const char *delivery;       /* X-GitHub-Delivery */
	const char *hook_id;        /* X-GitHub-Hook-ID */
	const char *body;
	size_t body_len;
	const char *json;
	size_t json_len;
};
struct webhook_out {
	int status;                 /* 200, 202, 400 or 401 */
	const char *result;         /* pong, queued, ignored, duplicate, or an error code */
	char message[256];
	long long delivery_id, job_id;
};
/* Verifies the signature (constant time) against the secret of every webhook the delivery may
 * belong to, records it once and queues the job that applies it. Fails only when the database
 * does (ERR_DB): everything a sender did wrong is an answer in out. */
int webhooks_receive(struct webhook_out *out, struct db *db, const struct webhook_in *in, struct err *e);

/* Job kinds (jobs/kinds.c). */
int webhooks_job_register(struct job_ctx *ctx, const struct job *job);
int webhooks_job_delete(struct job_ctx *ctx, const struct job *job);
int webhooks_job_delivery(struct job_ctx *ctx, const struct job *job);

#endif
