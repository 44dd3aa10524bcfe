/* migrate.c: schema migrations recorded in schema_migrations with a SHA-256 checksum. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/buf.h"
#include "store/migrate.h"

/* An arbitrary constant shared by every ghbridge migrate run. */
#define MIGRATE_LOCK_KEY "7366716001"

struct mfile {
	char *name;     /* 001_init.sql */
	char *version;  /* 001 */
	char *sql;
	char checksum[65];
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mfile *)a)->name, ((const struct mfile *)b)->name);
}

static void files_free(struct mfile *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].version);
		free(f[i].sql);
	}
	free(f);
}

static int files_load(struct mfile **out, size_t *nout, const char *dir, struct err *e)
{
	DIR *d = opendir(dir);
	if (!d)
		return err_set(e, ERR_NOTFOUND, "migrations folder %s: %s", dir, strerror(errno));
	struct mfile *files = NULL;
	size_t n = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		size_t len = strlen(nm), digits = strspn(nm, "0123456789");
		if (digits == 0 || nm[digits] != '_' || len < 5 || strcmp(nm + len - 4, ".sql") != 0)
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, nm);
		FILE *f = fopen(path, "rb");
		if (!f) {
			rc = err_set(e, ERR_FAIL, "%s: %s", path, strerror(errno));
			break;
		}
		struct buf b = BUF_INIT;
		char chunk[8192];
		size_t got;
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_append(&b, chunk, got);
		fclose(f);
		files = realloc(files, (n + 1) * sizeof *files);
		if (!files)
			abort();
		struct mfile *m = &files[n++];
		m->name = strdup(nm);
		m->version = strndup(nm, digits);
		unsigned char h[crypto_hash_sha256_BYTES];
		crypto_hash_sha256(h, (const unsigned char *)buf_cstr(&b), b.len);
		sodium_bin2hex(m->checksum, sizeof m->checksum, h, sizeof h);
		m->sql = buf_steal(&b);
	}
	closedir(d);
	if (rc) {
		files_free(files, n);
		return rc;
	}
	qsort(files, n, sizeof *files, name_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(files[i].version, files[i - 1].version) == 0) {
			rc = err_set(e, ERR_INVALID, "two migrations share version %s: %s and %s", files[i].version,
				     files[i - 1].name, files[i].name);
			files_free(files, n);
			return rc;
		}
	*out = files;
	*nout = n;
	return 0;
}

DB_STMT(stmt_mig_exists, "SELECT to_regclass('schema_migrations') IS NOT NULL");
DB_STMT(stmt_mig_list, "SELECT version, name, checksum FROM schema_migrations ORDER BY version");
DB_STMT(stmt_mig_insert, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)");
DB_STMT(stmt_mig_lock, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");
DB_STMT(stmt_mig_unlock, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");

/* Compares files with the table; fills st; returns the applied list in *res (may be NULL). */
static int compare(struct migrate_status *st, PGresult **res, struct db *db, struct mfile *files, size_t n,
		   char *edited_msg, size_t msglen, struct err *e)
{
	PGresult *r;
	memset(st, 0, sizeof *st);
	st->files = (int)n;
	*res = NULL;
	int rc = db_query(&r, db, &stmt_mig_exists, 0, NULL, e);
	if (rc)
		return rc;
	int exists = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!exists) {
		st->pending = (int)n;
		return 0;
	}
	rc = db_query(&r, db, &stmt_mig_list, 0, NULL, e);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	for (size_t i = 0; i < n; i++) {
		int found = 0;
		for (int k = 0; k < rows; k++) {
			if (strcmp(PQgetvalue(r, k, 0), files[i].version) != 0)
				continue;
			found = 1;
			if (strcmp(PQgetvalue(r, k, 2), files[i].checksum) != 0) {
				st->edited++;
				if (edited_msg && !edited_msg[0])
					snprintf(edited_msg, msglen, "%s", files[i].name);
			} else {
				st->applied++;
			}
		}
		if (!found)
			st->pending++;
	}
	for (int k = 0; k < rows; k++) {
		int found = 0;
		for (size_t i = 0; i < n; i++)
			if (strcmp(PQgetvalue(r, k, 0), files[i].version) == 0)
				found = 1;
		if (!found)
			st->missing++;
	}
	*res = r;
	return 0;
}

int migrate_check(struct migrate_status *st, struct db *db, const char *sql_dir, struct err *e)
{
	struct mfile *files;
	size_t n;
	int rc = files_load(&files, &n, sql_dir, e);
	if (rc)
		return rc;
	PGresult *r = NULL;
	rc = compare(st, &r, db, files, n, NULL, 0, e);
	if (r)
		PQclear(r);
	files_free(files, n);
	return rc;
}

int migrate_run(struct migrate_status *st, struct db *db, const char *sql_dir, FILE *log, struct err *e)
{
	struct mfile *files;
	size_t n;
	PGresult *r = NULL;
	int rc = files_load(&files, &n, sql_dir, e);
	if (rc)
		return rc;
	rc = db_query(&r, db, &stmt_mig_lock, 0, NULL, e);
	if (rc)
		goto out;
	PQclear(r);
	r = NULL;
	rc = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			 " version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
			 " applied_at timestamptz NOT NULL DEFAULT now())", e);
	if (rc)
		goto unlock;
	char edited[256] = "";
	rc = compare(st, &r, db, files, n, edited, sizeof edited, e);
	if (rc)
		goto unlock;
	if (st->edited) {
		rc = err_set(e, ERR_CONFLICT,
			     "%s was changed after it was applied; restore it and add a new migration instead", edited);
		goto unlock;
	}
	int rows = PQntuples(r);
	for (size_t i = 0; i < n; i++) {
		int done = 0;
		for (int k = 0; k < rows; k++)
			if (strcmp(PQgetvalue(r, k, 0), files[i].version) == 0)
				done = 1;
		if (done)
			continue;
		rc = db_begin(db, e);
		if (rc)
			goto unlock;
		rc = db_exec(db, files[i].sql, e);
		if (rc == 0) {
			const char *params[] = { files[i].version, files[i].name, files[i].checksum };
			PGresult *ir;
			rc = db_query(&ir, db, &stmt_mig_insert, 3, params, e);
			if (rc == 0)
				PQclear(ir);
		}
		if (rc == 0)
			rc = db_commit(db, e);
		if (rc) {
			db_rollback(db);
			char msg[sizeof e->msg];
			snprintf(msg, sizeof msg, "%s", e ? e->msg : "");
			err_set(e, rc, "%s: %s", files[i].name, msg);
			goto unlock;
		}
		st->applied++;
		st->pending--;
		if (log)
			fprintf(log, "applied %s\n", files[i].name);
	}
unlock:
	if (r)
		PQclear(r);
	r = NULL;
	if (db_is_up(db) && db_query(&r, db, &stmt_mig_unlock, 0, NULL, NULL) == 0)
		PQclear(r);
out:
	files_free(files, n);
	return rc;
}
