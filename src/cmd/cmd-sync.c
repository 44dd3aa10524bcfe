/* cmd-sync.c: `ghbridge sync pause|resume|status|purge`: the operator's switches for syncing, and the retention pass. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cmd.h"
#include "core/cfg.h"
#include "http/parse.h"
#include "service/ops.h"

static const char usage[] =
	"usage: ghbridge sync <pause|resume|status|purge> [options]\n\n"
	"Stops and restarts syncing for the whole service or one project, without losing anything:\n"
	"while paused, the sync, periodic-check and pull-request jobs concerned stay queued (workers do\n"
	"not take them) and a sync already running finishes; resuming runs what waited. Project pages\n"
	"and the status API say \"paused by an operator\". Every pause and resume is in the audit log.\n\n"
	"  pause  [--project ID] [--reason TEXT]  pause the service, or one project\n"
	"  resume [--project ID]                  lift that pause (a project's resume does not lift the\n"
	"                                         service's pause)\n"
	"  status                                 list what is paused, by whom, since when, and the worker\n"
	"                                         processes seen in the last minute (host, pid, job in hand)\n"
	"  purge [--dry-run]                      run the retention pass now (finished jobs, sync history,\n"
	"                                         audit rows, handled webhook deliveries, ended sessions,\n"
	"                                         expired sign-in states); with --dry-run print per table how\n"
	"                                         many rows it would delete and the oldest and newest of them\n"
	"                                         (UTC), and delete nothing. Also `ghbridge purge`.\n\n"
	"Retention settings: jobs_keep_days, history_keep_days (sync history and webhook deliveries),\n"
	"audit_keep_days; 0 keeps that table for ever. Sessions go when expired or 30 days after they\n"
	"ended, sign-in states when expired. One pass deletes at most 200 batches a table; the next\n"
	"(the worker runs one a day) takes the rest.\n\n"
	"The web equivalents: /admin, and POST /api/v1/admin/pause|resume with an admin API key.\n";

static int open_db(struct db **db, struct err *e)
{
	return db_open(db, cfg_str(CFG_DATABASE_URL), (int)cfg_long(CFG_DB_TIMEOUT_MS), e);
}

/* A positive 64-bit id (http_num_parse: "12abc" and ids past int64 are refused, never read as others). */
static int parse_id(long long *id, const char *s)
{
	return http_num_parse(id, s, 1, LLONG_MAX) ? -1 : 0;
}

static const char purge_usage[] =
	"usage: ghbridge purge [--dry-run]\n\n"
	"Runs the retention pass now, as the worker does once a day: deletes finished jobs past\n"
	"jobs_keep_days, sync history and handled webhook deliveries past history_keep_days, audit rows\n"
	"past audit_keep_days (through audit_events_purge, the only way audit rows go), sessions expired or\n"
	"ended 30 days ago, and expired sign-in states. A setting of 0 keeps that table for ever.\n\n"
	"  --dry-run   print per table how many rows it would delete, the oldest and newest of them (UTC)\n"
	"              and the rule, and delete nothing\n"
	"  -h, --help  this help\n\n"
	"The same as `ghbridge sync purge [--dry-run]`.\n";

int cmd_purge(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(purge_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--dry-run") != 0)
			return cmd_usage_error("purge", purge_usage, "unknown option");
	}
	char *args[4] = { "sync", "purge", NULL, NULL };
	int n = 2;
	if (argc > 1)
		args[n++] = "--dry-run";
	return cmd_sync(n, args);
}

int cmd_sync(int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage_error("sync", usage, "a subcommand is required");
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	int pause = strcmp(sub, "pause") == 0, resume = strcmp(sub, "resume") == 0;
	int status = strcmp(sub, "status") == 0, purge = strcmp(sub, "purge") == 0;
	if (!pause && !resume && !status && !purge)
		return cmd_usage_error("sync", usage, "unknown subcommand");
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long project = 0;
	const char *reason = NULL;
	int dry = 0, c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "p:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_id(&project, optarg))
				return cmd_usage_error("sync", usage, "--project takes a project id (a positive number)");
			break;
		case 'r': reason = optarg; break;
		case 'n': dry = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: return cmd_usage_error("sync", usage, "unknown option");
		}
	}
	if (optind < argc - 1)
		return cmd_usage_error("sync", usage, "unexpected argument");
	if ((status || purge) && (project || reason))
		return cmd_usage_error("sync", usage, "status and purge take no --project or --reason");
	if (resume && reason)
		return cmd_usage_error("sync", usage, "resume takes no --reason");
	if (dry && !purge)
		return cmd_usage_error("sync", usage, "--dry-run goes with purge");
	struct err e = { 0 };
	struct db *db = NULL;
	if (open_db(&db, &e) != 0) {
		fprintf(stderr, "ghbridge sync: %s\n", e.msg);
		return 1;
	}
	/* No actor on the handle: the audit log names the command line's changes 'system' (whoever
	 * runs it holds the database credentials, which is all it can tell). */
	int rc = 0;
	if (pause) {
		rc = ops_pause(db, project, reason, &e);
		if (rc == 0) {
			if (project)
				printf("paused syncing of project %lld\n", project);
			else
				printf("paused syncing for the whole service\n");
		}
	} else if (resume) {
		int was = 0;
		rc = ops_resume(&was, db, project, &e);
		if (rc == 0)
			printf("%s\n", was ? (project ? "resumed syncing of the project" : "resumed syncing for the whole service")
					   : "was not paused");
	} else if (status) {
		struct sync_pause *rows = NULL;
		size_t n = 0;
		rc = store_pause_list(&rows, &n, db, &e);
		if (rc == 0) {
			if (!n)
				printf("nothing is paused\n");
			for (size_t i = 0; i < n; i++) {
				if (rows[i].project_id)
					printf("project %lld", rows[i].project_id);
				else
					printf("whole service");
				printf("\tpaused by %s since %s%s%s\n", rows[i].paused_by, rows[i].paused_at,
				       *rows[i].reason ? "\t" : "", rows[i].reason);
			}
			store_pauses_free(rows, n);
		}
		struct worker_beat *w = NULL;
		if (rc == 0 && (rc = store_workers_list(&w, &n, db, 60, &e)) == 0) {
			printf("%zu worker process(es) seen in the last minute\n", n);
			for (size_t i = 0; i < n; i++) {
				printf("worker %s:%d\tstarted %s UTC\tseen %lds ago", w[i].host, w[i].pid, w[i].started_at,
				       w[i].seen_ago_s);
				if (w[i].job_id)
					printf("\tjob %lld %s", w[i].job_id, w[i].job_kind ? w[i].job_kind : "");
				printf("\n");
			}
			store_workers_free(w, n);
		}
	} else if (dry) {
		struct purge_plan plan[OPS_RETENTION_TABLES];
		size_t n = 0;
		rc = ops_retention_plan(plan, &n, db, &e);
		if (rc == 0) {
			long long total = 0;
			printf("dry run: nothing is deleted\n");
			printf("%-20s %10s  %-19s  %-19s  %s\n", "table", "rows", "oldest (UTC)", "newest (UTC)", "rule");
			for (size_t i = 0; i < n; i++) {
				char rule[64];
				if (plan[i].rows < 0)
					snprintf(rule, sizeof rule, "kept for ever (setting 0)");
				else if (strcmp(plan[i].table, "sessions") == 0)
					snprintf(rule, sizeof rule, "expired, or ended 30 days ago");
				else if (strcmp(plan[i].table, "oauth_states") == 0)
					snprintf(rule, sizeof rule, "expired");
				else
					snprintf(rule, sizeof rule, "older than %d days", plan[i].keep_days);
				if (plan[i].rows < 0)
					printf("%-20s %10s  %-19s  %-19s  %s\n", plan[i].table, "-", "-", "-", rule);
				else
					printf("%-20s %10lld  %-19s  %-19s  %s\n", plan[i].table, plan[i].rows,
					       plan[i].oldest ? plan[i].oldest : "-", plan[i].newest ? plan[i].newest : "-", rule);
				if (plan[i].rows > 0)
					total += plan[i].rows;
				store_purge_plan_free(&plan[i]);
			}
			printf("would delete %lld row(s)\n", total);
		}
	} else {
		long long n = 0;
		rc = ops_retention(&n, db, 1000, &e);
		if (rc == 0)
			printf("deleted %lld row(s)\n", n);
	}
	if (rc)
		fprintf(stderr, "ghbridge sync %s: %s\n", sub, e.msg);
	db_close(db);
	return rc ? 1 : 0;
}
