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
	"  status                                 list what is paused, by whom, since when\n"
	"  purge                                  run the retention pass now (finished jobs, sync history,\n"
	"                                         audit rows, ended sessions, expired sign-in states)\n\n"
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long project = 0;
	const char *reason = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "p:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_id(&project, optarg))
				return cmd_usage_error("sync", usage, "--project takes a project id (a positive number)");
			break;
		case 'r': reason = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: return cmd_usage_error("sync", usage, "unknown option");
		}
	}
	if (optind < argc - 1)
		return cmd_usage_error("sync", usage, "unexpected argument");
	if ((status || purge) && (project || reason))
		return cmd_usage_error("sync", usage, "status and purge take no options");
	if (resume && reason)
		return cmd_usage_error("sync", usage, "resume takes no --reason");
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
