/* db.c: libpq wrapper. Every call waits with poll() and a deadline, so a hung
 * or vanished server costs a request at most db_timeout_ms, never a stuck process. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/metrics.h"
#include "core/log.h"
#include "store/db.h"

struct db {
	PGconn *conn;
	char *conninfo;
	int timeout_ms;
	int in_tx;
	struct db_stmt **prepared;   /* statements prepared on this connection */
	size_t nprepared, capprepared;
	char sqlstate[6];
	int connects;                /* connections made (the first is not a reconnect) */
	const struct actor *actor;   /* who the current request acts for (db_actor_set); NULL: system */
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int db_open(struct db **out, const char *conninfo, int timeout_ms, struct err *e)
{
	struct db *db = calloc(1, sizeof *db);
	if (!db)
		abort();
	db->conninfo = strdup(conninfo);
	db->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	*out = db;
	return 0;
}

static void db_drop(struct db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	db->nprepared = 0;
	db->in_tx = 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	db_drop(db);
	free(db->prepared);
	free(db->conninfo);
	free(db);
}

PGconn *db_conn(struct db *db) { return db->conn; }

int db_is_up(struct db *db) { return db->conn && PQstatus(db->conn) == CONNECTION_OK; }

const char *db_last_sqlstate(struct db *db) { return db->sqlstate; }

/* Server notices and warnings go through our logfmt log, not raw to stderr. */
static void db_notice(void *arg, const char *message)
{
	(void)arg;
	log_msg(LOG_WARN, "postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

int db_ensure(struct db *db, struct err *e)
{
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK && !db->in_tx) {
		/* An idle connection with something to read has usually been told by
		 * the server that it is going away: notice now, not on the next query. */
		for (int i = 0; i < 4; i++) {
			struct pollfd pfd = { .fd = PQsocket(db->conn), .events = POLLIN };
			if (poll(&pfd, 1, 0) <= 0 || !PQconsumeInput(db->conn))
				break;
		}
	}
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	db_drop(db);
	char timeout[16];
	snprintf(timeout, sizeof timeout, "%d", db->timeout_ms / 1000 < 2 ? 2 : db->timeout_ms / 1000);
	const char *keys[] = { "dbname", "connect_timeout", "application_name", NULL };
	const char *vals[] = { db->conninfo, timeout, "ghbridge", NULL };
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		const char *msg = db->conn ? PQerrorMessage(db->conn) : "out of memory";
		err_set(e, ERR_DB, "database unavailable: %.*s", (int)strcspn(msg, "\n"), msg);
		db_drop(db);
		return ERR_DB;
	}
	PQsetnonblocking(db->conn, 0);
	PQsetNoticeProcessor(db->conn, db_notice, NULL);
	if (db->connects++ > 0)
		metrics_db_reconnect();
	return 0;
}

/* Waits for the results of a sent command; returns the last one. */
static int db_wait(PGresult **out, struct db *db, struct err *e)
{
	long long deadline = now_ms() + db->timeout_ms;
	PGresult *last = NULL;
	for (;;) {
		while (PQisBusy(db->conn)) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				/* Ask the server to stop, then give up on this connection. */
				PGcancel *c = PQgetCancel(db->conn);
				char buf[128];
				if (c) {
					PQcancel(c, buf, sizeof buf);
					PQfreeCancel(c);
				}
				if (last)
					PQclear(last);
				db_drop(db);
				return err_set(e, ERR_DB, "database did not answer within %d ms", db->timeout_ms);
			}
			struct pollfd pfd = { .fd = PQsocket(db->conn), .events = POLLIN };
			int r = poll(&pfd, 1, (int)left);
			if (r < 0 && errno != EINTR)
				break;
			if (!PQconsumeInput(db->conn))
				break;
		}
		PGresult *r = PQgetResult(db->conn);
		if (!r)
			break;
		if (last)
			PQclear(last);
		last = r;
		if (PQstatus(db->conn) == CONNECTION_BAD)
			break;
	}
	if (!last) {
		const char *msg = PQerrorMessage(db->conn);
		err_set(e, ERR_DB, "database connection lost: %.*s", (int)strcspn(msg, "\n"), msg);
		db_drop(db);
		return ERR_DB;
	}
	*out = last;
	return 0;
}

static int db_check(PGresult *res, struct db *db, struct err *e)
{
	ExecStatusType st = PQresultStatus(res);
	db->sqlstate[0] = '\0';
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	snprintf(db->sqlstate, sizeof db->sqlstate, "%s", state ? state : "");
	const char *msg = PQresultErrorMessage(res);
	int code = ERR_FAIL;
	if (PQstatus(db->conn) == CONNECTION_BAD || (state && strncmp(state, "08", 2) == 0) ||
	    (state && strncmp(state, "57P", 3) == 0))
		code = ERR_DB;
	else if (state && strcmp(state, "23505") == 0)
		code = ERR_CONFLICT;
	else if (state && strcmp(state, "57014") == 0)
		code = ERR_TIMEOUT;
	err_set(e, code, "%.*s", (int)strcspn(msg, "\n"), msg);
	if (code != ERR_CONFLICT)
		metrics_db_error(); /* a unique violation is an answer the callers expect, not an error */
	if (code == ERR_DB)
		db_drop(db);
	return code;
}

static int db_prepare(struct db *db, struct db_stmt *st, struct err *e)
{
	for (size_t i = 0; i < db->nprepared; i++)
		if (db->prepared[i] == st)
			return 0;
	if (!PQsendPrepare(db->conn, st->name, st->sql, 0, NULL)) {
		db_drop(db);
		return err_set(e, ERR_DB, "database connection lost");
	}
	PGresult *res;
	int rc = db_wait(&res, db, e);
	if (rc)
		return rc;
	rc = db_check(res, db, e);
	PQclear(res);
	if (rc) {
		log_msg(LOG_ERROR, "prepare %s failed: %s", st->name, e ? e->msg : "");
		return rc;
	}
	if (db->nprepared == db->capprepared) {
		db->capprepared = db->capprepared ? db->capprepared * 2 : 64;
		db->prepared = realloc(db->prepared, db->capprepared * sizeof *db->prepared);
		if (!db->prepared)
			abort();
	}
	db->prepared[db->nprepared++] = st;
	return 0;
}

int db_query_bin(PGresult **out, struct db *db, struct db_stmt *st, int nparams, const char *const *params,
		 const int *lengths, const int *formats, struct err *e)
{
	/* One retry when the connection turns out dead outside a transaction: the
	 * statement cannot have run on a server that had already gone away. */
	for (int attempt = 0; attempt < 2; attempt++) {
		int was_up = db->conn != NULL, in_tx = db->in_tx;
		int rc = db_ensure(db, e);
		if (rc)
			return rc;
		rc = db_prepare(db, st, e);
		if (rc == ERR_DB && was_up && !in_tx && attempt == 0)
			continue;
		if (rc)
			return rc;
		if (!PQsendQueryPrepared(db->conn, st->name, nparams, params, lengths, formats, 0)) {
			db_drop(db);
			if (was_up && !in_tx && attempt == 0)
				continue;
			return err_set(e, ERR_DB, "database connection lost");
		}
		PGresult *res;
		rc = db_wait(&res, db, e);
		if (rc == ERR_DB && was_up && !in_tx && attempt == 0 && !db->conn)
			continue;
		if (rc)
			return rc;
		rc = db_check(res, db, e);
		if (rc) {
			PQclear(res);
			if (rc == ERR_DB && was_up && !in_tx && attempt == 0 && !db->conn)
				continue;
			return rc;
		}
		*out = res;
		return 0;
	}
	return err_set(e, ERR_DB, "database unavailable");
}

int db_query(PGresult **out, struct db *db, struct db_stmt *st, int nparams, const char *const *params,
	     struct err *e)
{
	return db_query_bin(out, db, st, nparams, params, NULL, NULL, e);
}

int db_exec(struct db *db, const char *sql, struct err *e)
{
	int rc = db_ensure(db, e);
	if (rc)
		return rc;
	if (!PQsendQuery(db->conn, sql)) {
		db_drop(db);
		return err_set(e, ERR_DB, "database connection lost");
	}
	PGresult *res;
	rc = db_wait(&res, db, e);
	if (rc)
		return rc;
	rc = db_check(res, db, e);
	PQclear(res);
	return rc;
}

int db_begin(struct db *db, struct err *e)
{
	int rc = db_exec(db, "BEGIN", e);
	if (rc == 0)
		db->in_tx = 1;
	return rc;
}

int db_in_tx(const struct db *db)
{
	return db && db->in_tx;
}

int db_commit(struct db *db, struct err *e)
{
	int rc = db_exec(db, "COMMIT", e);
	db->in_tx = 0;
	return rc;
}

void db_rollback(struct db *db)
{
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		db_exec(db, "ROLLBACK", NULL);
	db->in_tx = 0;
}

void db_actor_set(struct db *db, const struct actor *a)
{
	if (db)
		db->actor = a;
}

const struct actor *db_actor(const struct db *db)
{
	return db ? db->actor : NULL;
}
