/* jobs/worker.h: `ghbridge worker`: a supervisor and N single-threaded claim loops, each with its own connections. */
#ifndef GHB_WORKER_H
#define GHB_WORKER_H

#include "core/err.h"
#include "jobs/jobs.h"

struct worker_opts {
	const char *conninfo;
	int db_timeout_ms;
	int concurrency;
	const char *queue;
	int lease_seconds;
	long long backoff_base_ms, backoff_cap_ms;
	int poll_seconds;       /* safety-net poll; NOTIFY does the real waking */
	int drain_seconds;      /* on SIGTERM: finish the job within this, else release it */
	int keep_days;          /* finished jobs older than this are deleted; 0 keeps them */
	const struct jobs_clock *clock;
};

/* Runs until SIGTERM/SIGINT, restarting a loop that dies. Returns 0 after a clean drain. */
int worker_run(const struct worker_opts *o, struct err *e);

#endif
