/* store/jobs.h: every SQL statement of the job queue (table jobs, see sql/002_jobs.sql). */
#ifndef GHB_STORE_JOBS_H
#define GHB_STORE_JOBS_H

#include <stddef.h>
#include "core/err.h"
#include "store/db.h"

/* Advisory lock class for per-project serialisation (two-key form, so it never
 * meets the single-key locks of migrate). The value spells "jobs". */
#define JOBS_LOCK_CLASS 1785688691

/* A job row. Strings are owned by the row; store_job_row_free releases them.
 * Times are text as PostgreSQL prints them, plus epoch seconds where code needs math. */
struct job_row {
	long long id;
	char *queue, *kind, *state, *payload, *dedup_key, *locked_by, *last_error;
	long long project_id;        /* 0 when the job belongs to no project */
	int priority, attempts, max_attempts, claims, enqueues;
	char *run_after, *locked_until, *created_at, *updated_at, *started_at, *finished_at;
	double run_after_epoch;
};

void store_job_row_free(struct job_row *r);
void store_job_rows_free(struct job_row *rows, size_t n);

struct store_job_new {
	const char *queue;           /* NULL: "default" */
	const char *kind;
	long long project_id;        /* 0: none */
	const char *payload;         /* JSON text; NULL: {} */
	int priority;
	long long delay_ms;          /* run_after = now() + delay */
	const char *dedup_key;       /* NULL: never coalesced */
	int max_attempts;
};

/* Inserts, or with a dedup key that a queued job already has, updates that job:
 * new payload, the lower priority number, the earlier run_after. *coalesced says which. */
int store_job_enqueue(long long *id, int *coalesced, struct db *db, const struct store_job_new *j, struct err *e);

/* Takes the best ready job of queue whose project is free, bumps attempts and
 * claims, and leaves the project's advisory lock held by this connection.
 * *found = 0 when there is nothing to take. */
int store_job_claim(struct job_row *out, int *found, struct db *db, const char *queue, const char *worker,
		    int lease_seconds, struct err *e);
/* store_job_complete for (id, claims, project_id), then store_job_claim, in one
 * round trip: the worker's hot path. */
int store_job_complete_claim(int *owned, struct job_row *next, int *found, struct db *db, long long id, int claims,
			     long long project_id, const char *queue, const char *worker, int lease_seconds,
			     struct err *e);
/* Extends the lease of a job this claim still owns. *owned = 0 when it does not
 * (cancelled, reaped) or the project lock was lost with the connection. */
int store_job_renew(int *owned, struct db *db, long long id, int claims, long long project_id, int lease_seconds,
		    struct err *e);
/* The four ends of an attempt. Each only touches the row if this claim still
 * owns it (*owned tells) and releases the project lock in the same statement. */
int store_job_complete(int *owned, struct db *db, long long id, int claims, long long project_id, struct err *e);
/* Spends the attempt: back to queued after delay_ms, or dead when none are left.
 * *dead tells which. */
int store_job_fail(int *owned, int *dead, struct db *db, long long id, int claims, long long project_id,
		   long long delay_ms, const char *error, struct err *e);
/* Gives the attempt back and waits until resume_epoch (a rate limit). give_back = 0
 * keeps the attempt spent (a release that is not the job's fault is 1). */
int store_job_defer(int *owned, struct db *db, long long id, int claims, long long project_id,
		    double resume_epoch, int give_back, const char *error, struct err *e);
int store_job_bury(int *owned, struct db *db, long long id, int claims, long long project_id, const char *error,
		   struct err *e);
/* Drops every advisory lock of this connection (after a failed statement left one behind). */
int store_job_unlock_all(struct db *db, struct err *e);

/* Prepares a claiming connection: LISTEN for enqueues, asynchronous commits. Run
 * again whenever the connection was remade. */
int store_job_listen(struct db *db, struct err *e);

/* Requeues jobs whose lease expired (their worker died) or buries them when
 * they have no attempts left; *n = rows touched. */
int store_job_reap(int *n, struct db *db, struct err *e);
/* Deletes up to 5,000 done or cancelled jobs finished more than keep_days ago. */
int store_job_purge(int *n, struct db *db, int keep_days, struct err *e);
/* Seconds until something in queue becomes due (a delayed job, an expiring
 * lease); -1 when nothing is scheduled. *ready = jobs due now that no running
 * project blocks (another worker raced us to them, so look again soon). */
int store_job_next_due(double *seconds, long long *ready, struct db *db, const char *queue, struct err *e);

int store_job_get(struct job_row *out, struct db *db, long long id, struct err *e);
/* Newest first; state/kind/queue NULL = any; project_id 0 = any. */
int store_job_list(struct job_row **out, size_t *n, struct db *db, const char *state, const char *kind,
		   const char *queue, long long project_id, int limit, struct err *e);
/* dead or cancelled -> queued with fresh attempts. ERR_CONFLICT when the state
 * does not allow it or a queued job already holds the dedup key. */
int store_job_retry(struct db *db, long long id, struct err *e);
/* queued or running -> cancelled (a running job's worker stops at its next lease renewal). */
int store_job_cancel(struct db *db, long long id, struct err *e);

struct job_stat {
	char *queue, *kind, *state;
	long long count;
};
struct job_stats {
	struct job_stat *rows;
	size_t n;
	double oldest_wait_seconds;  /* how long the oldest due, queued job has waited; 0 if none */
	long long oldest_id;
};
int store_job_stats(struct job_stats *out, struct db *db, struct err *e);
void store_job_stats_free(struct job_stats *s);

/* For the built-in `test` kind (table job_test_runs). */
int store_job_test_run_begin(long long *run_id, struct db *db, long long job_id, long long project_id, int attempt,
			     const char *worker, struct err *e);
int store_job_test_run_end(struct db *db, long long run_id, struct err *e);

#endif
