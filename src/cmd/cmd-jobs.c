/* cmd-jobs.c: `ghbridge jobs list|show|retry|cancel|enqueue|stats`, the operator's view of the queue. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cmd.h"
#include "core/cfg.h"
#include "http/parse.h"
#include "jobs/jobs.h"

static const char usage[] =
	"usage: ghbridge jobs <list|show|retry|cancel|enqueue|stats|purge> [options]\n\n"
	"Looks at and acts on the job queue that `ghbridge worker` runs.\n\n"
	"  list     recent jobs, newest first (filters: --state, --kind, --queue, --project)\n"
	"  show ID  one job with its payload and last error\n"
	"  retry ID put a dead or cancelled job back in the queue with fresh attempts\n"
	"  cancel ID  cancel a queued job, or stop a running one at its next lease renewal\n"
	"  enqueue KIND  add a job (for operators and tests)\n"
	"  stats    counts by queue, kind and state; the oldest waiting job\n"
	"  purge    delete finished jobs older than jobs_keep_days (workers also do this)\n\n"
	"'ghbridge jobs <subcommand> --help' for its options.\n";

static const char usage_list[] =
	"usage: ghbridge jobs list [--state S] [--kind K] [--queue Q] [--project ID] [--limit N]\n\n"
	"Lists jobs, newest first. States: queued, running, done, dead, cancelled.\n";
static const char usage_show[] = "usage: ghbridge jobs show ID\n\nPrints every field of one job.\n";
static const char usage_retry[] =
	"usage: ghbridge jobs retry ID\n\nPuts a dead or cancelled job back in the queue, due now, with its\n"
	"attempts reset. Refuses when a queued job already has the same dedup key.\n";
static const char usage_cancel[] =
	"usage: ghbridge jobs cancel ID\n\nCancels a queued job. A running job is marked cancelled at once; its\n"
	"worker notices at the next lease renewal, asks the handler to stop and discards its outcome.\n";
static const char usage_enqueue[] =
	"usage: ghbridge jobs enqueue KIND [--project ID] [--payload JSON] [--queue Q] [--priority N]\n"
	"                              [--delay-ms MS] [--dedup KEY] [--max-attempts N] [--count N]\n\n"
	"Adds a job and prints its id (with --count, adds N jobs and prints the number added).\n"
	"With --dedup, a queued job with the same key is updated instead.\n";
static const char usage_purge[] =
	"usage: ghbridge jobs purge [--days N]\n\nDeletes done and cancelled jobs that finished more than N days ago\n"
	"(default: the jobs_keep_days setting). Dead jobs stay until retried or cancelled.\n";
static const char usage_stats[] = "usage: ghbridge jobs stats\n\nCounts jobs by queue, kind and state.\n";

static int is_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

/* A positive 64-bit id (http_num_parse: "12abc" and ids past int64 are refused, never read as others). */
static int parse_id(long long *id, const char *s)
{
	return http_num_parse(id, s, 1, LLONG_MAX) ? -1 : 0;
}

/* A whole number, not wrapped or cut short (http_num_parse); " 5", "+5" and overflows refused. */
static int parse_int(long long *out, const char *s)
{
	return http_num_parse(out, s, LLONG_MIN, LLONG_MAX) ? -1 : 0;
}

static const char *dash(const char *s) { return s && *s ? s : "-"; }

static int open_db(struct db **db, struct err *e)
{
	return db_open(db, cfg_str(CFG_DATABASE_URL), (int)cfg_long(CFG_DB_TIMEOUT_MS), e);
}

static int jobs_list_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { "kind", required_argument, NULL, 'k' },
		{ "queue", required_argument, NULL, 'q' }, { "project", required_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *kind = NULL, *queue = NULL;
	long long project = 0, limit = 50;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:k:q:p:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'k': kind = optarg; break;
		case 'q': queue = optarg; break;
		case 'p':
			if (parse_id(&project, optarg))
				return cmd_usage_error("jobs list", usage_list, "--project needs a positive id");
			break;
		case 'l':
			if (parse_id(&limit, optarg) || limit > 10000)
				return cmd_usage_error("jobs list", usage_list, "--limit must be 1..10000");
			break;
		case 'h': fputs(usage_list, stdout); return 0;
		default: return cmd_usage_error("jobs list", usage_list, "unknown or incomplete option");
		}
	}
	if (optind < argc)
		return cmd_usage_error("jobs list", usage_list, "unexpected argument");
	struct db *db;
	struct err e = { 0 };
	struct job_row *rows = NULL;
	size_t n = 0;
	open_db(&db, &e);
	int rc = store_job_list(&rows, &n, db, state, kind, queue, project, (int)limit, &e);
	db_close(db);
	if (rc) {
		fprintf(stderr, "ghbridge jobs list: %s\n", e.msg);
		return 1;
	}
	printf("%-10s %-9s %-12s %-10s %-8s %-8s %-29s %s\n", "ID", "STATE", "KIND", "QUEUE", "PROJECT", "ATTEMPTS",
	       "RUN_AFTER", "LAST_ERROR");
	for (size_t i = 0; i < n; i++) {
		char proj[24], att[24];
		snprintf(proj, sizeof proj, "%lld", rows[i].project_id);
		snprintf(att, sizeof att, "%d/%d", rows[i].attempts, rows[i].max_attempts);
		printf("%-10lld %-9s %-12s %-10s %-8s %-8s %-29s %.60s\n", rows[i].id, rows[i].state, rows[i].kind,
		       rows[i].queue, rows[i].project_id ? proj : "-", att, rows[i].run_after, dash(rows[i].last_error));
	}
	store_job_rows_free(rows, n);
	return 0;
}

static int jobs_show_cmd(int argc, char **argv)
{
	long long id;
	if (is_help(argc, argv)) {
		fputs(usage_show, stdout);
		return 0;
	}
	if (argc != 2 || parse_id(&id, argv[1]))
		return cmd_usage_error("jobs show", usage_show, "expected one job id");
	struct db *db;
	struct err e = { 0 };
	struct job_row j;
	open_db(&db, &e);
	int rc = jobs_get(&j, db, id, &e);
	db_close(db);
	if (rc) {
		fprintf(stderr, "ghbridge jobs show: %s\n", e.msg);
		return rc == ERR_NOTFOUND ? 3 : 1;
	}
	printf("id:           %lld\nstate:        %s\nkind:         %s\nqueue:        %s\n", j.id, j.state, j.kind,
	       j.queue);
	if (j.project_id)
		printf("project:      %lld\n", j.project_id);
	else
		printf("project:      -\n");
	printf("priority:     %d\nattempts:     %d of %d\nclaims:       %d\nenqueues:     %d\n", j.priority, j.attempts,
	       j.max_attempts, j.claims, j.enqueues);
	printf("dedup_key:    %s\nrun_after:    %s\nlocked_by:    %s\nlocked_until: %s\n", dash(j.dedup_key),
	       j.run_after, dash(j.locked_by), dash(j.locked_until));
	printf("created_at:   %s\nupdated_at:   %s\nstarted_at:   %s\nfinished_at:  %s\n", j.created_at, j.updated_at,
	       dash(j.started_at), dash(j.finished_at));
	printf("payload:      %s\nlast_error:   %s\n", j.payload, dash(j.last_error));
	store_job_row_free(&j);
	return 0;
}

static int jobs_change_cmd(int argc, char **argv, int retry)
{
	const char *name = retry ? "jobs retry" : "jobs cancel";
	const char *use = retry ? usage_retry : usage_cancel;
	long long id;
	if (is_help(argc, argv)) {
		fputs(use, stdout);
		return 0;
	}
	if (argc != 2 || parse_id(&id, argv[1]))
		return cmd_usage_error(name, use, "expected one job id");
	struct db *db;
	struct err e = { 0 };
	open_db(&db, &e);
	int rc = retry ? jobs_retry(db, id, &e) : jobs_cancel(db, id, &e);
	db_close(db);
	if (rc) {
		fprintf(stderr, "ghbridge %s: %s\n", name, e.msg);
		return rc == ERR_NOTFOUND ? 3 : 1;
	}
	printf("job %lld %s\n", id, retry ? "queued again" : "cancelled");
	return 0;
}

static int jobs_enqueue_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' }, { "payload", required_argument, NULL, 'P' },
		{ "queue", required_argument, NULL, 'q' }, { "priority", required_argument, NULL, 'r' },
		{ "delay-ms", required_argument, NULL, 'd' }, { "dedup", required_argument, NULL, 'k' },
		{ "max-attempts", required_argument, NULL, 'm' }, { "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct jobs_enqueue_opts o = { 0 };
	long long count = 1, v;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "p:P:q:r:d:k:m:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_id(&o.project_id, optarg))
				return cmd_usage_error("jobs enqueue", usage_enqueue, "--project needs a positive id");
			break;
		case 'P': o.payload = optarg; break;
		case 'q': o.queue = optarg; break;
		case 'r':
			if (parse_int(&v, optarg) || v < -1000000 || v > 1000000 || v == 0)
				return cmd_usage_error("jobs enqueue", usage_enqueue,
						       "--priority must be a non-zero integer (lower runs first; default 100)");
			o.priority = (int)v;
			break;
		case 'd':
			if (parse_int(&v, optarg) || v < 0 || v > 366LL * 86400 * 1000)
				return cmd_usage_error("jobs enqueue", usage_enqueue, "--delay-ms must be 0 or more");
			o.delay_ms = v;
			break;
		case 'k': o.dedup_key = optarg; break;
		case 'm':
			if (parse_id(&v, optarg) || v > 1000)
				return cmd_usage_error("jobs enqueue", usage_enqueue, "--max-attempts must be 1..1000");
			o.max_attempts = (int)v;
			break;
		case 'c':
			if (parse_id(&count, optarg) || count > 1000000)
				return cmd_usage_error("jobs enqueue", usage_enqueue, "--count must be 1..1000000");
			break;
		case 'h': fputs(usage_enqueue, stdout); return 0;
		default: return cmd_usage_error("jobs enqueue", usage_enqueue, "unknown or incomplete option");
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error("jobs enqueue", usage_enqueue, "expected one job kind");
	struct db *db;
	struct err e = { 0 };
	open_db(&db, &e);
	long long id = 0, added = 0;
	int coalesced = 0, rc = 0;
	for (long long i = 0; i < count && rc == 0; i++) {
		rc = jobs_enqueue(&id, &coalesced, db, argv[optind], &o, &e);
		added += rc == 0 && !coalesced;
	}
	db_close(db);
	if (rc) {
		fprintf(stderr, "ghbridge jobs enqueue: %s\n", e.msg);
		return rc == ERR_INVALID ? 2 : 1;
	}
	if (count == 1)
		printf("%lld%s\n", id, coalesced ? " (coalesced)" : "");
	else
		printf("%lld\n", added);
	return 0;
}

static int jobs_stats_cmd(int argc, char **argv)
{
	if (is_help(argc, argv)) {
		fputs(usage_stats, stdout);
		return 0;
	}
	if (argc != 1)
		return cmd_usage_error("jobs stats", usage_stats, "takes no arguments");
	struct db *db;
	struct err e = { 0 };
	struct job_stats st;
	open_db(&db, &e);
	int rc = jobs_stats(&st, db, &e);
	db_close(db);
	if (rc) {
		fprintf(stderr, "ghbridge jobs stats: %s\n", e.msg);
		return 1;
	}
	printf("%-12s %-20s %-10s %s\n", "QUEUE", "KIND", "STATE", "COUNT");
	for (size_t i = 0; i < st.n; i++)
		printf("%-12s %-20s %-10s %lld\n", st.rows[i].queue, st.rows[i].kind, st.rows[i].state, st.rows[i].count);
	if (st.oldest_id)
		printf("oldest waiting: job %lld, %.1f s\n", st.oldest_id, st.oldest_wait_seconds);
	else
		printf("oldest waiting: none\n");
	store_job_stats_free(&st);
	return 0;
}

static int jobs_purge_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "days", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	long long days = cfg_long(CFG_JOBS_KEEP_DAYS);
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_int(&days, optarg) || days < 0 || days > 36500)
				return cmd_usage_error("jobs purge", usage_purge, "--days must be 0..36500");
			break;
		case 'h': fputs(usage_purge, stdout); return 0;
		default: return cmd_usage_error("jobs purge", usage_purge, "unknown or incomplete option");
		}
	}
	if (optind < argc)
		return cmd_usage_error("jobs purge", usage_purge, "unexpected argument");
	struct db *db;
	struct err e = { 0 };
	long long total = 0;
	int n = 0, rc;
	open_db(&db, &e);
	do {
		rc = store_job_purge(&n, db, (int)days, &e);
		total += n;
	} while (rc == 0 && n >= 5000);
	db_close(db);
	if (rc) {
		fprintf(stderr, "ghbridge jobs purge: %s\n", e.msg);
		return 1;
	}
	printf("%lld\n", total);
	return 0;
}

int cmd_jobs(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	argc--;
	argv++;
	if (strcmp(sub, "list") == 0)
		return jobs_list_cmd(argc, argv);
	if (strcmp(sub, "show") == 0)
		return jobs_show_cmd(argc, argv);
	if (strcmp(sub, "retry") == 0)
		return jobs_change_cmd(argc, argv, 1);
	if (strcmp(sub, "cancel") == 0)
		return jobs_change_cmd(argc, argv, 0);
	if (strcmp(sub, "enqueue") == 0)
		return jobs_enqueue_cmd(argc, argv);
	if (strcmp(sub, "stats") == 0)
		return jobs_stats_cmd(argc, argv);
	if (strcmp(sub, "purge") == 0)
		return jobs_purge_cmd(argc, argv);
	return cmd_usage_error("jobs", usage, "unknown subcommand");
}
