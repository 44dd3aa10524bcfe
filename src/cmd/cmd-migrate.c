/* cmd-migrate.c: `ghbridge migrate`. */
#include <getopt.h>
#include <stdio.h>
#include "cmd/cmd.h"
#include "core/cfg.h"
#include "store/migrate.h"

static const char usage[] =
	"usage: ghbridge migrate [--status]\n\n"
	"Applies the numbered files in the migrations folder (setting: sql_dir), each once\n"
	"and in its own transaction. Safe to run twice or from two machines at once; refuses\n"
	"to go on when an applied file was edited.\n\n"
	"  -s, --status   show what is applied and pending; change nothing\n"
	"  -h, --help     this help\n";

int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, status_only = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "sh", opts, NULL)) != -1) {
		switch (c) {
		case 's': status_only = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: return cmd_usage_error("migrate", usage, "unknown option");
		}
	}
	if (optind < argc)
		return cmd_usage_error("migrate", usage, "unexpected argument");
	struct db *db;
	struct err e = { 0 };
	struct migrate_status st;
	db_open(&db, cfg_str(CFG_DATABASE_URL), (int)cfg_long(CFG_DB_TIMEOUT_MS) * 12, &e);
	int rc = status_only ? migrate_check(&st, db, cfg_str(CFG_SQL_DIR), &e)
			     : migrate_run(&st, db, cfg_str(CFG_SQL_DIR), stdout, &e);
	db_close(db);
	if (rc) {
		fprintf(stderr, "ghbridge migrate: %s\n", e.msg);
		return 1;
	}
	printf("%d applied, %d pending%s\n", st.applied, st.pending,
	       st.missing ? " (some applied versions have no file here)" : "");
	if (status_only && st.edited) {
		printf("%d applied file(s) were edited since\n", st.edited);
		return 1;
	}
	return 0;
}
