/* store/ops.c: SQL of the operators' tables: sync pauses and the append-only audit log (sql/016_ops.sql). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/ops.h"

static char *col_dup(PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	char *s = strdup(PQgetvalue(r, row, col));
	if (!s)
		abort();
	return s;
}

void store_pause_free(struct sync_pause *p)
{
	if (!p)
		return;
	free(p->paused_by);
	free(p->reason);
	free(p->paused_at);
	memset(p, 0, sizeof *p);
}

void store_pauses_free(struct sync_pause *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_pause_free(&rows[i]);
	free(rows);
}

static void pause_read(struct sync_pause *p, PGresult *r, int row)
{
	p->project_id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
	p->paused_by = col_dup(r, row, 1);
	p->reason = col_dup(r, row, 2);
	p->paused_at = col_dup(r, row, 3);
}

#define PAUSE_COLS "project_id, paused_by, reason, to_char(paused_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

DB_STMT(stmt_pause_set,
	"INSERT INTO sync_pauses (project_id, paused_by, reason) SELECT $1::bigint, $2, $3"
	" WHERE $1::bigint = 0 OR EXISTS (SELECT 1 FROM projects WHERE id = $1::bigint)"
	" ON CONFLICT (project_id) DO UPDATE SET reason = EXCLUDED.reason RETURNING 1");

int store_pause_set(struct db *db, long long project_id, const char *by, const char *reason, struct err *e)
{
	char id[24];
	snprintf(id, sizeof id, "%lld", project_id);
	const char *p[] = { id, by, reason ? reason : "" };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_pause_set, 3, p, e);
	if (rc)
		return rc;
	int found = PQntuples(r) == 1;
	PQclear(r);
	return found ? 0 : err_set(e, ERR_NOTFOUND, "There is no project %lld.", project_id);
}

/* The NOTIFY wakes idle workers at once (a worker sleeps until the next due job it can take, and
 * paused jobs are not among those); it is delivered only if the DELETE commits. */
DB_STMT(stmt_pause_clear,
	"WITH d AS (DELETE FROM sync_pauses WHERE project_id = $1::bigint RETURNING 1),"
	" w AS (SELECT pg_notify('ghbridge_jobs', q.queue) FROM"
	"       (SELECT DISTINCT queue FROM jobs WHERE state = 'queued') q WHERE EXISTS (SELECT 1 FROM d))"
	" SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM w)");

int store_pause_clear(int *was, struct db *db, long long project_id, struct err *e)
{
	char id[24];
	snprintf(id, sizeof id, "%lld", project_id);
	const char *p[] = { id };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_pause_clear, 1, p, e);
	if (rc)
		return rc;
	*was = atoi(PQgetvalue(r, 0, 0)) > 0;
	PQclear(r);
	return 0;
}

/* The project's own pause first, then the service's. */
DB_STMT(stmt_pause_get,
	"SELECT " PAUSE_COLS " FROM sync_pauses WHERE project_id = $1::bigint OR project_id = 0"
	" ORDER BY project_id DESC LIMIT 1");

int store_pause_get(struct sync_pause *out, int *found, struct db *db, long long project_id, struct err *e)
{
	char id[24];
	snprintf(id, sizeof id, "%lld", project_id);
	const char *p[] = { id };
	PGresult *r;
	*found = 0;
	int rc = db_query(&r, db, &stmt_pause_get, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1) {
		memset(out, 0, sizeof *out);
		pause_read(out, r, 0);
		*found = 1;
	}
	PQclear(r);
	return 0;
}

DB_STMT(stmt_pause_list, "SELECT " PAUSE_COLS " FROM sync_pauses ORDER BY project_id LIMIT 1000");

int store_pause_list(struct sync_pause **out, size_t *n, struct db *db, struct err *e)
{
	PGresult *r;
	*out = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_pause_list, 0, NULL, e);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	if (rows > 0) {
		*out = calloc((size_t)rows, sizeof **out);
		if (!*out)
			abort();
		for (int i = 0; i < rows; i++)
			pause_read(&(*out)[i], r, i);
	}
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}

DB_STMT(stmt_projects_connected,
	"SELECT id FROM projects WHERE repo_owner IS NOT NULL ORDER BY id LIMIT $1::int");

int store_projects_connected(long long **ids, size_t *n, struct db *db, size_t max, struct err *e)
{
	char lim[24];
	snprintf(lim, sizeof lim, "%zu", max);
	const char *p[] = { lim };
	PGresult *r;
	*ids = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_projects_connected, 1, p, e);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	if (rows > 0) {
		*ids = calloc((size_t)rows, sizeof **ids);
		if (!*ids)
			abort();
		for (int i = 0; i < rows; i++)
			(*ids)[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	}
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}

/* ---- the audit log ---- */

void store_audit_rows_free(struct audit_event *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct audit_event *a = &rows[i];
		char **s[] = { &a->at, &a->actor_type, &a->actor_login, &a->actor_key, &a->action, &a->target_type,
			       &a->target_id, &a->outcome, &a->ip, &a->user_agent, &a->request_id, &a->details };
		for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
			free(*s[k]);
	}
	free(rows);
}

/* The user agent is cut to 512 bytes in SQL (left(), by characters, then the CHECK holds);
 * details that are not a JSON object are refused by the cast, which is a bug in the caller. */
DB_STMT(stmt_audit_add,
	"INSERT INTO audit_events (actor_type, actor_user_id, actor_login, actor_key, action, target_type,"
	"  target_id, project_id, outcome, ip, user_agent, request_id, details)"
	" VALUES ($1, nullif($2::bigint, 0), $3, $4, $5, $6, $7, nullif($8::bigint, 0), $9, $10,"
	"         left($11, 256), $12, coalesce($13::jsonb, '{}'))");

int store_audit_add(struct db *db, const char *action, const char *target_type, const char *target_id,
		    long long project_id, const char *outcome, const char *details, struct err *e)
{
	const struct actor *a = db_actor(db);
	static const struct actor sys = { .type = "system" };
	if (!a || !a->type)
		a = &sys;
	char uid[24], pid[24];
	snprintf(uid, sizeof uid, "%lld", a->user_id);
	snprintf(pid, sizeof pid, "%lld", project_id);
	const char *p[] = { a->type, uid, a->login, a->key_id, action, target_type, target_id, pid,
			    outcome ? outcome : "success", a->ip, a->user_agent, a->request_id, details };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_audit_add, 13, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

#define AUDIT_COLS                                                                                      \
	"id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), actor_type, actor_login,"   \
	" actor_key, action, target_type, target_id, outcome, ip, user_agent, request_id, details::text,"     \
	" coalesce(actor_user_id, 0), coalesce(project_id, 0)"

/* actor matches a login, a key's public id, or the word system. An action ending in '.' is a
 * prefix (LIKE with the pattern characters of the value escaped). */
DB_STMT(stmt_audit_list,
	"SELECT " AUDIT_COLS " FROM audit_events"
	" WHERE ($1::text IS NULL OR actor_login = $1 OR actor_key = $1 OR ($1 = 'system' AND actor_type = 'system'))"
	"   AND ($2::bigint = 0 OR actor_user_id = $2::bigint OR (target_type = 'user' AND target_id = $2::text))"
	"   AND ($3::text IS NULL OR action = $3 OR (right($3, 1) = '.' AND"
	"        action LIKE replace(replace(replace($3, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'))"
	"   AND ($4::bigint = 0 OR project_id = $4::bigint)"
	"   AND ($5::timestamptz IS NULL OR at >= $5::timestamptz)"
	"   AND ($6::timestamptz IS NULL OR at < $6::timestamptz)"
	"   AND ($7::bigint = 0 OR id < $7::bigint)"
	" ORDER BY id DESC LIMIT $8::int");

int store_audit_list(struct audit_event **out, size_t *n, struct db *db, const struct audit_filter *f,
		     struct err *e)
{
	char uid[24], pid[24], before[24], lim[16];
	snprintf(uid, sizeof uid, "%lld", f->actor_user_id);
	snprintf(pid, sizeof pid, "%lld", f->project_id);
	snprintf(before, sizeof before, "%lld", f->before_id);
	snprintf(lim, sizeof lim, "%d", f->limit < 1 ? 1 : f->limit > 1000 ? 1000 : f->limit);
	const char *p[] = { f->actor, uid, f->action, pid, f->since, f->until, before, lim };
	PGresult *r;
	*out = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_audit_list, 8, p, e);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	if (rows > 0) {
		*out = calloc((size_t)rows, sizeof **out);
		if (!*out)
			abort();
	}
	for (int i = 0; i < rows; i++) {
		struct audit_event *a = &(*out)[i];
		a->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		a->at = col_dup(r, i, 1);
		a->actor_type = col_dup(r, i, 2);
		a->actor_login = col_dup(r, i, 3);
		a->actor_key = col_dup(r, i, 4);
		a->action = col_dup(r, i, 5);
		a->target_type = col_dup(r, i, 6);
		a->target_id = col_dup(r, i, 7);
		a->outcome = col_dup(r, i, 8);
		a->ip = col_dup(r, i, 9);
		a->user_agent = col_dup(r, i, 10);
		a->request_id = col_dup(r, i, 11);
		a->details = col_dup(r, i, 12);
		a->actor_user_id = strtoll(PQgetvalue(r, i, 13), NULL, 10);
		a->project_id = strtoll(PQgetvalue(r, i, 14), NULL, 10);
	}
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}

DB_STMT(stmt_audit_purge, "SELECT audit_events_purge($1::int, $2::int)");

int store_audit_purge(int *n, struct db *db, int keep_days, int max_rows, struct err *e)
{
	char d[16], m[16];
	snprintf(d, sizeof d, "%d", keep_days);
	snprintf(m, sizeof m, "%d", max_rows);
	const char *p[] = { d, m };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_audit_purge, 2, p, e);
	if (rc)
		return rc;
	*n = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/* ---- retention: each statement deletes one batch ($2 rows at most) ---- */

DB_STMT(stmt_purge_history,
	"DELETE FROM sync_history WHERE id IN (SELECT id FROM sync_history WHERE status <> 'running'"
	"   AND started_at < now() - make_interval(days => $1::int) ORDER BY id LIMIT $2::int)");
/* An ended session is kept a month for the account page's list; an expired one is over. */
DB_STMT(stmt_purge_sessions,
	"DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < now()"
	"   OR ended_at < now() - make_interval(days => 30) LIMIT $2::int) AND $1::int >= 0");
DB_STMT(stmt_purge_states,
	"DELETE FROM oauth_states WHERE id IN (SELECT id FROM oauth_states WHERE expires_at < now()"
	"   LIMIT $2::int) AND $1::int >= 0");

/* A delivery is kept as long as sync history: GitHub redelivers within days, so its id dedups. */
DB_STMT(stmt_purge_deliveries,
	"DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE outcome <> 'queued'"
	"   AND received_at < now() - make_interval(days => $1::int) ORDER BY id LIMIT $2::int)");

int store_ops_purge(int *n, struct db *db, const char *table, int keep_days, int max_rows, struct err *e)
{
	struct db_stmt *st = strcmp(table, "sync_history") == 0 ? &stmt_purge_history
			     : strcmp(table, "sessions") == 0   ? &stmt_purge_sessions
			     : strcmp(table, "oauth_states") == 0 ? &stmt_purge_states
			     : strcmp(table, "webhook_deliveries") == 0 ? &stmt_purge_deliveries
								  : NULL;
	*n = 0;
	if (!st)
		return err_set(e, ERR_INVALID, "no retention rule for table %s", table);
	char d[16], m[16];
	snprintf(d, sizeof d, "%d", keep_days);
	snprintf(m, sizeof m, "%d", max_rows);
	const char *p[] = { d, m };
	PGresult *r;
	int rc = db_query(&r, db, st, 2, p, e);
	if (rc)
		return rc;
	*n = atoi(PQcmdTuples(r));
	PQclear(r);
	return 0;
}

/* ---- worker heartbeats ---- */

DB_STMT(stmt_worker_beat,
	"INSERT INTO worker_heartbeats (host, pid, started_at, last_seen_at, job_id, job_kind)"
	" VALUES (left($1, 255), $2::int, to_timestamp($3::bigint), now(), nullif($4::bigint, 0), $5)"
	" ON CONFLICT (host, pid) DO UPDATE SET started_at = EXCLUDED.started_at, last_seen_at = now(),"
	"  job_id = EXCLUDED.job_id, job_kind = EXCLUDED.job_kind");
DB_STMT(stmt_worker_gone, "DELETE FROM worker_heartbeats WHERE host = left($1, 255) AND pid = $2::int");
DB_STMT(stmt_workers_prune,
	"DELETE FROM worker_heartbeats WHERE last_seen_at < now() - make_interval(secs => $1::int)");
DB_STMT(stmt_workers_list,
	"SELECT host, pid, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
	" to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), coalesce(job_id, 0), job_kind,"
	" floor(extract(epoch FROM now() - last_seen_at))::bigint"
	" FROM worker_heartbeats WHERE last_seen_at >= now() - make_interval(secs => $1::int)"
	" ORDER BY host, started_at DESC, pid LIMIT 1000");

int store_worker_beat(struct db *db, const char *host, int pid, long long started, long long job_id, const char *job_kind,
		      struct err *e)
{
	char ps[16], st[24], jid[24];
	snprintf(ps, sizeof ps, "%d", pid);
	snprintf(st, sizeof st, "%lld", started);
	snprintf(jid, sizeof jid, "%lld", job_id);
	const char *p[] = { host, ps, st, jid, job_id ? job_kind : NULL };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_worker_beat, 5, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

int store_worker_gone(struct db *db, const char *host, int pid, struct err *e)
{
	char ps[16];
	snprintf(ps, sizeof ps, "%d", pid);
	const char *p[] = { host, ps };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_worker_gone, 2, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

int store_workers_prune(int *n, struct db *db, long older_s, struct err *e)
{
	char s[24];
	snprintf(s, sizeof s, "%ld", older_s);
	const char *p[] = { s };
	PGresult *r;
	*n = 0;
	int rc = db_query(&r, db, &stmt_workers_prune, 1, p, e);
	if (rc)
		return rc;
	*n = atoi(PQcmdTuples(r));
	PQclear(r);
	return 0;
}

int store_workers_list(struct worker_beat **out, size_t *n, struct db *db, long within_s, struct err *e)
{
	char s[24];
	snprintf(s, sizeof s, "%ld", within_s);
	const char *p[] = { s };
	PGresult *r;
	*out = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_workers_list, 1, p, e);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	if (rows > 0 && !(*out = calloc((size_t)rows, sizeof **out)))
		abort();
	for (int i = 0; i < rows; i++) {
		struct worker_beat *w = &(*out)[i];
		w->host = col_dup(r, i, 0);
		w->pid = atoi(PQgetvalue(r, i, 1));
		w->started_at = col_dup(r, i, 2);
		w->last_seen_at = col_dup(r, i, 3);
		w->job_id = strtoll(PQgetvalue(r, i, 4), NULL, 10);
		w->job_kind = col_dup(r, i, 5);
		w->seen_ago_s = strtol(PQgetvalue(r, i, 6), NULL, 10);
	}
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}

void store_workers_free(struct worker_beat *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].host);
		free(rows[i].started_at);
		free(rows[i].last_seen_at);
		free(rows[i].job_kind);
	}
	free(rows);
}

/* ---- purge --dry-run: the purge statements' conditions, counted ---- */

#define PLAN_COLS(t) "count(*), to_char(min(" t ") AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), " \
	"to_char(max(" t ") AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
DB_STMT(stmt_plan_jobs,
	"SELECT " PLAN_COLS("finished_at") " FROM jobs WHERE state IN ('done', 'cancelled')"
	" AND finished_at < now() - make_interval(days => $1::int)");
DB_STMT(stmt_plan_history,
	"SELECT " PLAN_COLS("started_at") " FROM sync_history WHERE status <> 'running'"
	" AND started_at < now() - make_interval(days => $1::int)");
DB_STMT(stmt_plan_audit,
	"SELECT " PLAN_COLS("at") " FROM audit_events WHERE at < now() - make_interval(days => $1::int)");
DB_STMT(stmt_plan_deliveries,
	"SELECT " PLAN_COLS("received_at") " FROM webhook_deliveries WHERE outcome <> 'queued'"
	" AND received_at < now() - make_interval(days => $1::int)");
DB_STMT(stmt_plan_sessions,
	"SELECT " PLAN_COLS("created_at") " FROM sessions WHERE (expires_at < now()"
	" OR ended_at < now() - make_interval(days => 30)) AND $1::int >= 0");
DB_STMT(stmt_plan_states,
	"SELECT " PLAN_COLS("created_at") " FROM oauth_states WHERE expires_at < now() AND $1::int >= 0");

int store_purge_plan(struct purge_plan *out, struct db *db, const char *table, int keep_days, struct err *e)
{
	static const struct {
		const char *table;
		struct db_stmt *st;
	} plans[] = {
		{ "jobs", &stmt_plan_jobs },
		{ "sync_history", &stmt_plan_history },
		{ "audit_events", &stmt_plan_audit },
		{ "webhook_deliveries", &stmt_plan_deliveries },
		{ "sessions", &stmt_plan_sessions },
		{ "oauth_states", &stmt_plan_states },
	};
	memset(out, 0, sizeof *out);
	struct db_stmt *st = NULL;
	for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++)
		if (strcmp(plans[i].table, table) == 0) {
			st = plans[i].st;
			out->table = plans[i].table;
		}
	if (!st)
		return err_set(e, ERR_INVALID, "no retention rule for table %s", table);
	char d[16];
	snprintf(d, sizeof d, "%d", keep_days);
	const char *p[] = { d };
	PGresult *r;
	int rc = db_query(&r, db, st, 1, p, e);
	if (rc)
		return rc;
	out->rows = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	out->oldest = col_dup(r, 0, 1);
	out->newest = col_dup(r, 0, 2);
	out->keep_days = keep_days;
	PQclear(r);
	return 0;
}

void store_purge_plan_free(struct purge_plan *p)
{
	free(p->oldest);
	free(p->newest);
	memset(p, 0, sizeof *p);
}
