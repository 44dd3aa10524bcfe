/* cmd-worker.c: `ghbridge worker`, the processes that run jobs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/metrics.h"
#include "cmd/cmd.h"
#include "core/cfg.h"
#include "jobs/worker.h"

static const char usage[] =
	"usage: ghbridge worker [--concurrency N] [--queue NAME]\n\n"
	"Runs jobs from the PostgreSQL queue: N processes, each claiming one job at a\n"
	"time (FOR UPDATE SKIP LOCKED), woken by NOTIFY, holding a lease it renews and\n"
	"the job's project lock. Start as many workers on as many machines as you like\n"
	"against the same database: jobs run once, one at a time per project.\n"
	"SIGTERM: stop claiming, finish the current jobs or release them after\n"
	"worker_drain_seconds, exit 0.\n\n"
	"  -n, --concurrency N  worker processes (setting: worker_concurrency)\n"
	"  -q, --queue NAME     queue to take jobs from (setting: worker_queue)\n"
	"  -h, --help           this help\n\n"
	"settings: jobs_lease_seconds, jobs_backoff_base_ms, jobs_backoff_cap_ms, jobs_keep_days,\n"
	"worker_poll_seconds, worker_drain_seconds (see ghbridge doctor)\n";

static int in_range(long v, long lo, long hi) { return v >= lo && v <= hi; }

int cmd_worker(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "concurrency", required_argument, NULL, 'n' },
		{ "queue", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:q:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': config_set(CFG_WORKER_CONCURRENCY, optarg, "option"); break;
		case 'q': config_set(CFG_WORKER_QUEUE, optarg, "option"); break;
		case 'h': fputs(usage, stdout); return 0;
		default: return cmd_usage_error("worker", usage, "unknown or incomplete option");
		}
	}
	if (optind < argc)
		return cmd_usage_error("worker", usage, "unexpected argument");
	struct worker_opts o = {
		.conninfo = cfg_str(CFG_DATABASE_URL),
		.db_timeout_ms = (int)cfg_long(CFG_DB_TIMEOUT_MS),
		.concurrency = (int)cfg_long(CFG_WORKER_CONCURRENCY),
		.queue = cfg_str(CFG_WORKER_QUEUE),
		.lease_seconds = (int)cfg_long(CFG_JOBS_LEASE_SECONDS),
		.backoff_base_ms = cfg_long(CFG_JOBS_BACKOFF_BASE_MS),
		.backoff_cap_ms = cfg_long(CFG_JOBS_BACKOFF_CAP_MS),
		.poll_seconds = (int)cfg_long(CFG_WORKER_POLL_SECONDS),
		.drain_seconds = (int)cfg_long(CFG_WORKER_DRAIN_SECONDS),
		.keep_days = (int)cfg_long(CFG_JOBS_KEEP_DAYS),
		.clock = jobs_clock_system(),
	};
	if (!in_range(o.concurrency, 1, 256))
		return cmd_usage_error("worker", usage, "concurrency must be between 1 and 256");
	if (!*o.queue)
		return cmd_usage_error("worker", usage, "queue name is empty");
	if (!in_range(o.lease_seconds, 2, 86400) || !in_range(o.poll_seconds, 1, 3600) ||
	    !in_range(o.drain_seconds, 0, 86400) || !in_range(o.keep_days, 0, 36500) || o.backoff_base_ms < 0 ||
	    o.backoff_cap_ms < o.backoff_base_ms) {
		fprintf(stderr, "ghbridge worker: settings out of range: jobs_lease_seconds 2..86400, "
				"worker_poll_seconds 1..3600, worker_drain_seconds 0..86400, jobs_keep_days 0..36500, "
				"0 <= jobs_backoff_base_ms <= jobs_backoff_cap_ms\n");
		return 2;
	}
	struct err e = { 0 };
	metrics_open(cfg_str(CFG_DATA_DIR)); /* best effort: without it, jobs are simply not counted */
	if (worker_run(&o, &e) != 0) {
		fprintf(stderr, "ghbridge worker: %s\n", e.msg);
		return 1;
	}
	return 0;
}
