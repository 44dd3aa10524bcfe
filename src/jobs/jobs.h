/* jobs/jobs.h: the job queue service: job kinds, enqueue, the retry policy, and what a handler gets. */
#ifndef GHB_JOBS_H
#define GHB_JOBS_H

#include <stdint.h>
#include "core/err.h"
#include "store/db.h"
#include "store/jobs.h"

struct json_object;

/* What a handler returns. Anything but JOB_DONE is set through job_retry,
 * job_wait or job_permanent, which also record the message. */
enum job_outcome {
	JOB_DONE = 0,
	JOB_RETRY = 1,      /* transient (5xx, timeout, connection): spend an attempt, back off */
	JOB_WAIT = 2,       /* rate limited: come back at resume_at, no attempt spent */
	JOB_PERMANENT = 3,  /* 4xx, bad credentials: dead now, a person has to act */
};

/* Time and randomness come through here so tests can fix both. */
struct jobs_clock {
	double (*now)(void *arg);         /* seconds since the epoch */
	uint32_t (*random)(void *arg);    /* uniform over 32 bits */
	void *arg;
};
const struct jobs_clock *jobs_clock_system(void);

/* The job as its handler sees it. Handlers must be idempotent: when redo is set,
 * an earlier claim may have done part or all of the work (it was killed, lost
 * its lease, or failed half way), so check before creating anything. */
struct job {
	long long id;
	const char *queue, *kind, *dedup_key;
	long long project_id;               /* 0: none; the worker holds this project's lock */
	const char *payload_text;
	struct json_object *payload;        /* parsed payload, never NULL (an object) */
	int attempt, max_attempts;          /* attempt counts from 1 */
	int claims;
	int redo;
};

struct job_ctx {
	struct db *db;                      /* the handler's own connection, opened lazily */
	const struct jobs_clock *clock;
	const char *worker;                 /* host:pid, for logs and records */
	volatile int *stop;                 /* set on SIGTERM, a lost lease or a cancel */
	int outcome;
	double resume_at;
	char error[512];
};

typedef int (*job_handler)(struct job_ctx *ctx, const struct job *job);

/* Adding a job kind is one handler and one row in jobs_kinds (kinds.c). */
struct job_kind {
	const char *name;
	job_handler run;
	int max_attempts;
	const char *help;
};
extern const struct job_kind jobs_kinds[];
extern const int jobs_nkinds;
const struct job_kind *jobs_kind_find(const char *name);

/* Handlers end with `return job_retry(ctx, "GitHub answered %d", st);` and so on. */
int job_retry(struct job_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int job_wait(struct job_ctx *ctx, double resume_at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int job_permanent(struct job_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Long handlers poll this between steps and return early (JOB_RETRY) when set. */
int job_should_stop(const struct job_ctx *ctx);

/* Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))] milliseconds. */
long long jobs_backoff_ms(int attempt, long long base_ms, long long cap_ms, const struct jobs_clock *clk);
/* The upper bound of that range, for tests and logs. */
long long jobs_backoff_cap_ms(int attempt, long long base_ms, long long cap_ms);

/* Classifies a GitHub answer. status 0 means no answer (connection failed,
 * timed out). Header values may be NULL. For JOB_WAIT, *resume_at is when to
 * come back: Retry-After (seconds or an HTTP date) or X-RateLimit-Reset. */
int jobs_classify_http(double *resume_at, int status, const char *retry_after, const char *ratelimit_remaining,
		       const char *ratelimit_reset, const struct jobs_clock *clk);

struct jobs_enqueue_opts {
	const char *queue;          /* NULL: "default" */
	long long project_id;       /* 0: none */
	const char *payload;        /* JSON object text; NULL: {} */
	int priority;               /* lower first; 0 means the default, 100 */
	long long delay_ms;
	const char *dedup_key;
	int max_attempts;           /* 0: the kind's */
};
/* ERR_INVALID for an unknown kind or a payload that is not a JSON object. */
int jobs_enqueue(long long *id, int *coalesced, struct db *db, const char *kind, const struct jobs_enqueue_opts *o,
		 struct err *e);
int jobs_get(struct job_row *out, struct db *db, long long id, struct err *e);
int jobs_stats(struct job_stats *out, struct db *db, struct err *e);
/* Newest first; state/kind NULL = any. */
int jobs_list(struct job_row **rows, size_t *n, struct db *db, const char *state, const char *kind, int limit,
	      struct err *e);
int jobs_retry(struct db *db, long long id, struct err *e);
int jobs_cancel(struct db *db, long long id, struct err *e);

#endif
