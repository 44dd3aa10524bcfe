/* migrate.h: applies sql/NNN_name.sql files once each, in order, under an advisory lock. */
#ifndef GHB_MIGRATE_H
#define GHB_MIGRATE_H

#include <stdio.h>
#include "core/err.h"
#include "store/db.h"

struct migrate_status {
	int files;      /* migration files found */
	int applied;    /* files already applied with a matching checksum */
	int pending;    /* files not applied yet */
	int edited;     /* applied files whose content changed since: refuse to go on */
	int missing;    /* applied versions with no file */
};

/* Applies pending migrations; progress lines go to log (may be NULL). Refuses
 * (ERR_CONFLICT) without applying anything when an applied file was edited. */
int migrate_run(struct migrate_status *st, struct db *db, const char *sql_dir, FILE *log, struct err *e);
/* Reads state only; creates nothing. */
int migrate_check(struct migrate_status *st, struct db *db, const char *sql_dir, struct err *e);

#endif
