/* db.h: one PostgreSQL connection with lazily prepared statements, timeouts and reconnects. */
#ifndef GHB_DB_H
#define GHB_DB_H

#include <libpq-fe.h>
#include "core/err.h"

struct db;

/* A statement is declared once, static, next to the code that uses it; it is
 * prepared on each connection the first time it runs there. */
struct db_stmt {
	const char *name;
	const char *sql;
};

#define DB_STMT(var, sql_text) static struct db_stmt var = { #var, sql_text }

/* Never fails because the server is down: the connection is made on first use
 * and remade after it breaks, so a PostgreSQL restart heals by itself. */
int db_open(struct db **out, const char *conninfo, int timeout_ms, struct err *e);
void db_close(struct db *db);
/* Connects if not connected. ERR_DB when the server cannot be reached. */
int db_ensure(struct db *db, struct err *e);
int db_is_up(struct db *db);
PGconn *db_conn(struct db *db);

/* Runs a prepared statement with text parameters (NULL = SQL NULL). On success
 * *out holds the result (caller PQclear()s it); on failure ERR_DB when the
 * server is unreachable or timed out, ERR_CONFLICT for a unique violation,
 * ERR_FAIL otherwise, with the server's message in e. */
int db_query(PGresult **out, struct db *db, struct db_stmt *st, int nparams, const char *const *params,
	     struct err *e);
/* Same, with per-parameter lengths and formats (1 = binary) for bytea. */
int db_query_bin(PGresult **out, struct db *db, struct db_stmt *st, int nparams, const char *const *params,
		 const int *lengths, const int *formats, struct err *e);
/* Runs parameterless SQL (BEGIN, COMMIT, a migration file). */
int db_exec(struct db *db, const char *sql, struct err *e);
/* 1 inside db_begin … db_commit/db_rollback. */
int db_in_tx(const struct db *db);
int db_begin(struct db *db, struct err *e);
int db_commit(struct db *db, struct err *e);
void db_rollback(struct db *db);

/* Who the statements on this handle act for, for the audit log (store/ops.h: struct actor): set
 * by the web layer at the start of each request and cleared at its end, so services record the
 * actor without knowing HTTP. Borrowed; NULL (the worker, the command line) means system. */
struct actor;
void db_actor_set(struct db *db, const struct actor *a);
const struct actor *db_actor(const struct db *db);

/* The SQLSTATE of the last failed statement ("" if none). */
const char *db_last_sqlstate(struct db *db);

#endif
