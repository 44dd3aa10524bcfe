/* store/jobs.c: the job queue's SQL: enqueue with dedup, claim with SKIP LOCKED and a project lock, lease, ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/jobs.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define LOCK_CLASS STR(JOBS_LOCK_CLASS)
/* Project ids are bigint, lock keys int4: folding two ids onto one key only
 * serialises two projects that did not need it, which is safe. */
#define PROJECT_KEY(p) "((" p ") % 2147483648)::int4"
#define UNLOCK_PROJECT(p) \
	"CASE WHEN " p " > 0 THEN pg_advisory_unlock(" LOCK_CLASS ", " PROJECT_KEY(p) ") END"

#define JOB_COLS                                                                                          \
	"id, queue, kind, state, payload::text, dedup_key, locked_by, last_error, coalesce(project_id, 0), " \
	"priority, attempts, max_attempts, claims, enqueues, run_after, locked_until, created_at, "        \
	"updated_at, started_at, finished_at, extract(epoch FROM run_after)"

static char *col_dup(PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	char *s = strdup(PQgetvalue(r, row, col));
	if (!s)
		abort();
	return s;
}

static void row_read_at(struct job_row *j, PGresult *r, int row, int o)
{
	memset(j, 0, sizeof *j);
	j->id = strtoll(PQgetvalue(r, row, o + 0), NULL, 10);
	j->queue = col_dup(r, row, o + 1);
	j->kind = col_dup(r, row, o + 2);
	j->state = col_dup(r, row, o + 3);
	j->payload = col_dup(r, row, o + 4);
	j->dedup_key = col_dup(r, row, o + 5);
	j->locked_by = col_dup(r, row, o + 6);
	j->last_error = col_dup(r, row, o + 7);
	j->project_id = strtoll(PQgetvalue(r, row, o + 8), NULL, 10);
	j->priority = atoi(PQgetvalue(r, row, o + 9));
	j->attempts = atoi(PQgetvalue(r, row, o + 10));
	j->max_attempts = atoi(PQgetvalue(r, row, o + 11));
	j->claims = atoi(PQgetvalue(r, row, o + 12));
	j->enqueues = atoi(PQgetvalue(r, row, o + 13));
	j->run_after = col_dup(r, row, o + 14);
	j->locked_until = col_dup(r, row, o + 15);
	j->created_at = col_dup(r, row, o + 16);
	j->updated_at = col_dup(r, row, o + 17);
	j->started_at = col_dup(r, row, o + 18);
	j->finished_at = col_dup(r, row, o + 19);
	j->run_after_epoch = strtod(PQgetvalue(r, row, o + 20), NULL);
}

static void row_read(struct job_row *j, PGresult *r, int row)
{
	row_read_at(j, r, row, 0);
}

void store_job_row_free(struct job_row *j)
{
	if (!j)
		return;
	char **s[] = { &j->queue, &j->kind, &j->state, &j->payload, &j->dedup_key, &j->locked_by,
		       &j->last_error, &j->run_after, &j->locked_until, &j->created_at, &j->updated_at,
		       &j->started_at, &j->finished_at };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
}

void store_job_rows_free(struct job_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_job_row_free(&rows[i]);
	free(rows);
}

DB_STMT(stmt_job_enqueue,
	"INSERT INTO jobs (queue, kind, project_id, payload, priority, run_after, dedup_key, max_attempts)"
	" VALUES ($1, $2, nullif($3::bigint, 0), $4::jsonb, $5::int,"
	"         now() + make_interval(secs => $6::double precision / 1000), $7, $8::int)"
	" ON CONFLICT (dedup_key) WHERE state = 'queued' AND dedup_key IS NOT NULL DO UPDATE SET"
	"   payload = EXCLUDED.payload, priority = least(jobs.priority, EXCLUDED.priority),"
	"   run_after = least(jobs.run_after, EXCLUDED.run_after), enqueues = jobs.enqueues + 1,"
	"   updated_at = now()"
	" RETURNING id, enqueues > 1");

int store_job_enqueue(long long *id, int *coalesced, struct db *db, const struct store_job_new *j, struct err *e)
{
	char project[24], prio[16], delay[24], maxa[16];
	snprintf(project, sizeof project, "%lld", j->project_id);
	snprintf(prio, sizeof prio, "%d", j->priority);
	snprintf(delay, sizeof delay, "%lld", j->delay_ms > 0 ? j->delay_ms : 0);
	snprintf(maxa, sizeof maxa, "%d", j->max_attempts > 0 ? j->max_attempts : 10);
	const char *p[] = { j->queue ? j->queue : "default", j->kind, project, j->payload ? j->payload : "{}",
			    prio, delay, j->dedup_key && *j->dedup_key ? j->dedup_key : NULL, maxa };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_job_enqueue, 8, p, e);
	if (rc)
		return rc;
	*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	if (coalesced)
		*coalesced = PQgetvalue(r, 0, 1)[0] == 't';
	PQclear(r);
	return 0;
}

/* Paused syncing (table sync_pauses, project_id 0 = the whole service): these kinds of a
 * paused project stay queued, untouched, until the pause row goes; nothing else is held back
 * (connect, webhook registration and repository lists run, and a connect's initial sync waits).
 * Filtering here rather than in the worker means a paused job is never claimed, so it can never
 * be half-run, lost or retried into 'dead' by the pause. */
#define PAUSED_KINDS "('sync', 'poll', 'pulls_create', 'pulls_refresh')"
#define NOT_PAUSED(j)                                                                           \
	"NOT (" j ".kind IN " PAUSED_KINDS " AND EXISTS (SELECT 1 FROM sync_pauses sp"           \
	"      WHERE sp.project_id = 0 OR sp.project_id = " j ".project_id))"

/* The inner query locks candidate rows lazily, one per row the outer filter
 * pulls, so a claim normally locks exactly the row it takes. The NOT EXISTS
 * keeps busy projects out of the way cheaply; the advisory lock is what makes
 * two jobs of one project mutually exclusive, because it is atomic where the
 * NOT EXISTS reads a snapshot, and because PostgreSQL drops it the moment a
 * killed worker's connection closes. */
#define CLAIM_UPDATE                                                                                        \
	"UPDATE jobs SET state = 'running', attempts = attempts + 1, claims = claims + 1, locked_by = $2,"     \
	"  locked_until = now() + make_interval(secs => $3::int), started_at = now(), updated_at = now()"     \
	" WHERE id = ("                                                                                      \
	"   SELECT c.id FROM ("                                                                              \
	"     SELECT j.id, j.project_id FROM jobs j"                                                         \
	"      WHERE j.state = 'queued' AND j.queue = $1 AND j.run_after <= now()"                           \
	"        AND (j.project_id IS NULL OR NOT EXISTS ("                                                  \
	"             SELECT 1 FROM jobs r WHERE r.state = 'running' AND r.project_id = j.project_id))"      \
	"        AND " NOT_PAUSED("j")                                                                       \
	"      ORDER BY j.priority, j.run_after, j.id"                                                       \
	"      LIMIT 16 FOR UPDATE OF j SKIP LOCKED) c"                                                      \
	"    WHERE c.project_id IS NULL OR pg_try_advisory_lock(" LOCK_CLASS ", " PROJECT_KEY("c.project_id") ")" \
	"    LIMIT 1)"                                                                                       \
	" RETURNING " JOB_COLS

DB_STMT(stmt_job_claim, CLAIM_UPDATE);

/* Completing a job and claiming the next in one round trip halves the
 * statements per job. Both parts see the same snapshot, so the finished job
 * still looks running to the claim: its project is skipped this time round,
 * which is merely conservative. */
DB_STMT(stmt_job_complete_claim,
	"WITH fin AS (UPDATE jobs SET state = 'done', finished_at = now(), locked_by = NULL, locked_until = NULL,"
	"              updated_at = now() WHERE id = $4 AND claims = $5 AND state = 'running' RETURNING id),"
	" unl AS (SELECT " UNLOCK_PROJECT("$6::bigint") " AS u),"
	" nxt AS (" CLAIM_UPDATE ")"
	" SELECT (SELECT count(*) FROM fin), (SELECT u FROM unl), nxt.* FROM (SELECT 1) one LEFT JOIN nxt ON true");

DB_STMT(stmt_job_unlock_all, "SELECT pg_advisory_unlock_all()");

int store_job_unlock_all(struct db *db, struct err *e)
{
	PGresult *r;
	int rc = db_query(&r, db, &stmt_job_unlock_all, 0, NULL, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

int store_job_claim(struct job_row *out, int *found, struct db *db, const char *queue, const char *worker,
		    int lease_seconds, struct err *e)
{
	char lease[16];
	snprintf(lease, sizeof lease, "%d", lease_seconds);
	const char *p[] = { queue, worker, lease };
	PGresult *r;
	*found = 0;
	int rc = db_query(&r, db, &stmt_job_claim, 3, p, e);
	if (rc) {
		/* A failed statement may have taken a project lock it never used. */
		if (db_is_up(db))
			store_job_unlock_all(db, NULL);
		return rc;
	}
	if (PQntuples(r) == 1) {
		row_read(out, r, 0);
		*found = 1;
	}
	PQclear(r);
	return 0;
}

int store_job_complete_claim(int *owned, struct job_row *next, int *found, struct db *db, long long id, int claims,
			     long long project_id, const char *queue, const char *worker, int lease_seconds,
			     struct err *e)
{
	char lease[16], sid[24], sclaims[16], sproj[24];
	snprintf(lease, sizeof lease, "%d", lease_seconds);
	snprintf(sid, sizeof sid, "%lld", id);
	snprintf(sclaims, sizeof sclaims, "%d", claims);
	snprintf(sproj, sizeof sproj, "%lld", project_id);
	const char *p[] = { queue, worker, lease, sid, sclaims, sproj };
	PGresult *r;
	*found = 0;
	*owned = 0;
	int rc = db_query(&r, db, &stmt_job_complete_claim, 6, p, e);
	if (rc) {
		if (db_is_up(db))
			store_job_unlock_all(db, NULL);
		return rc;
	}
	*owned = strcmp(PQgetvalue(r, 0, 0), "1") == 0;
	if (!PQgetisnull(r, 0, 2)) {
		/* The job's columns follow the two status columns. */
		row_read_at(next, r, 0, 2);
		*found = 1;
	}
	PQclear(r);
	return 0;
}

/* Checking pg_locks catches a connection that was silently remade (db.c
 * reconnects) and so no longer holds the project lock. */
DB_STMT(stmt_job_renew,
	"UPDATE jobs SET locked_until = now() + make_interval(secs => $3::int)"
	" WHERE id = $1 AND claims = $2 AND state = 'running'"
	"   AND ($4::bigint = 0 OR EXISTS ("
	"        SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
	"           AND objsubid = 2 AND classid::bigint = " LOCK_CLASS
	"           AND objid::bigint = $4::bigint % 2147483648))"
	" RETURNING id");

int store_job_renew(int *owned, struct db *db, long long id, int claims, long long project_id, int lease_seconds,
		    struct err *e)
{
	char sid[24], sclaims[16], sproj[24], lease[16];
	snprintf(sid, sizeof sid, "%lld", id);
	snprintf(sclaims, sizeof sclaims, "%d", claims);
	snprintf(sproj, sizeof sproj, "%lld", project_id);
	snprintf(lease, sizeof lease, "%d", lease_seconds);
	const char *p[] = { sid, sclaims, lease, sproj };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_job_renew, 4, p, e);
	if (rc)
		return rc;
	*owned = PQntuples(r) == 1;
	PQclear(r);
	return 0;
}

/* The ends of an attempt: $1 id, $2 claims (the fencing token), $3 project. The
 * project lock goes in the same round trip; the NOT EXISTS in the claim keeps
 * the project shut until this row's new state is committed. */
#define END_STMT(set_clause)                                                                    \
	"WITH upd AS (UPDATE jobs SET " set_clause ", locked_by = NULL, locked_until = NULL,"   \
	"  updated_at = now() WHERE id = $1 AND claims = $2 AND state = 'running' RETURNING state)" \
	" SELECT (SELECT state FROM upd), " UNLOCK_PROJECT("$3::bigint")

DB_STMT(stmt_job_complete, END_STMT("state = 'done', finished_at = now()"));
DB_STMT(stmt_job_fail,
	END_STMT("state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,"
		 " run_after = CASE WHEN attempts >= max_attempts THEN run_after"
		 "   ELSE now() + make_interval(secs => $4::double precision / 1000) END,"
		 " finished_at = CASE WHEN attempts >= max_attempts THEN now() END, last_error = $5"));
DB_STMT(stmt_job_defer,
	END_STMT("state = 'queued', attempts = greatest(attempts - $4::int, 0),"
		 " run_after = greatest(now(), to_timestamp($5::double precision)), last_error = $6"));
DB_STMT(stmt_job_bury, END_STMT("state = 'dead', finished_at = now(), last_error = $4"));
/* Going back to queued collides with the dedup index when a newer job with the
 * same key was enqueued meanwhile: that job will do the same work, later. */
DB_STMT(stmt_job_supersede,
	END_STMT("state = 'cancelled', finished_at = now(),"
		 " last_error = $4::text || ' (superseded by a newer queued job with the same dedup key)'"));

static int end_run(int *dead, int *owned, struct db *db, struct db_stmt *st, long long id, int claims,
		   long long project_id, int nextra, const char *const *extra, struct err *e)
{
	char sid[24], sclaims[16], sproj[24];
	snprintf(sid, sizeof sid, "%lld", id);
	snprintf(sclaims, sizeof sclaims, "%d", claims);
	snprintf(sproj, sizeof sproj, "%lld", project_id);
	const char *p[6] = { sid, sclaims, sproj };
	for (int i = 0; i < nextra && i < 3; i++)
		p[3 + i] = extra[i];
	PGresult *r;
	int rc = db_query(&r, db, st, 3 + nextra, p, e);
	if (rc) {
		/* The statement did not run, so neither did its unlock. */
		if (rc != ERR_CONFLICT && db_is_up(db))
			store_job_unlock_all(db, NULL);
		return rc;
	}
	*owned = !PQgetisnull(r, 0, 0);
	if (dead)
		*dead = *owned && strcmp(PQgetvalue(r, 0, 0), "dead") == 0;
	PQclear(r);
	return 0;
}

int store_job_complete(int *owned, struct db *db, long long id, int claims, long long project_id, struct err *e)
{
	return end_run(NULL, owned, db, &stmt_job_complete, id, claims, project_id, 0, NULL, e);
}

static int supersede(int *owned, struct db *db, long long id, int claims, long long project_id, const char *error,
		     struct err *e)
{
	const char *x[] = { error ? error : "" };
	return end_run(NULL, owned, db, &stmt_job_supersede, id, claims, project_id, 1, x, e);
}

int store_job_fail(int *owned, int *dead, struct db *db, long long id, int claims, long long project_id,
		   long long delay_ms, const char *error, struct err *e)
{
	char delay[24];
	snprintf(delay, sizeof delay, "%lld", delay_ms > 0 ? delay_ms : 0);
	const char *x[] = { delay, error ? error : "" };
	*dead = 0;
	int rc = end_run(dead, owned, db, &stmt_job_fail, id, claims, project_id, 2, x, e);
	if (rc == ERR_CONFLICT)
		return supersede(owned, db, id, claims, project_id, error, e);
	return rc;
}

int store_job_defer(int *owned, struct db *db, long long id, int claims, long long project_id,
		    double resume_epoch, int give_back, const char *error, struct err *e)
{
	char back[8], resume[40];
	snprintf(back, sizeof back, "%d", give_back ? 1 : 0);
	snprintf(resume, sizeof resume, "%.3f", resume_epoch);
	const char *x[] = { back, resume, error ? error : "" };
	int rc = end_run(NULL, owned, db, &stmt_job_defer, id, claims, project_id, 3, x, e);
	if (rc == ERR_CONFLICT)
		return supersede(owned, db, id, claims, project_id, error, e);
	return rc;
}

int store_job_bury(int *owned, struct db *db, long long id, int claims, long long project_id, const char *error,
		   struct err *e)
{
	const char *x[] = { error ? error : "" };
	return end_run(NULL, owned, db, &stmt_job_bury, id, claims, project_id, 1, x, e);
}

/* SKIP LOCKED: a row being renewed right now is alive by definition. */
DB_STMT(stmt_job_reap,
	"WITH exp AS (SELECT id, dedup_key, attempts, max_attempts, locked_by FROM jobs"
	"              WHERE state = 'running' AND locked_until < now() FOR UPDATE SKIP LOCKED)"
	" UPDATE jobs j SET state = CASE"
	"     WHEN exp.attempts >= exp.max_attempts THEN 'dead'"
	"     WHEN exp.dedup_key IS NOT NULL AND EXISTS (SELECT 1 FROM jobs q"
	"          WHERE q.dedup_key = exp.dedup_key AND q.state = 'queued') THEN 'cancelled'"
	"     ELSE 'queued' END,"
	"   finished_at = CASE WHEN exp.attempts >= exp.max_attempts THEN now() END,"
	"   last_error = 'lease expired: worker ' || coalesce(exp.locked_by, '?') || ' stopped renewing it',"
	"   locked_by = NULL, locked_until = NULL, updated_at = now()"
	" FROM exp WHERE j.id = exp.id");

int store_job_reap(int *n, struct db *db, struct err *e)
{
	PGresult *r;
	int rc = db_query(&r, db, &stmt_job_reap, 0, NULL, e);
	if (rc)
		return rc;
	*n = atoi(PQcmdTuples(r));
	PQclear(r);
	return 0;
}

DB_STMT(stmt_job_next_due,
	"SELECT extract(epoch FROM least("
	"   (SELECT min(run_after) FROM jobs j WHERE state = 'queued' AND queue = $1 AND run_after > now()"
	"      AND " NOT_PAUSED("j") "),"
	"   (SELECT min(locked_until) FROM jobs WHERE state = 'running')) - now()),"
	" (SELECT count(*) FROM (SELECT 1 FROM jobs j WHERE j.state = 'queued' AND j.queue = $1"
	"    AND j.run_after <= now() AND " NOT_PAUSED("j") " AND (j.project_id IS NULL OR NOT EXISTS ("
	"        SELECT 1 FROM jobs r WHERE r.state = 'running' AND r.project_id = j.project_id))"
	"    LIMIT 1) x)");

int store_job_next_due(double *seconds, long long *ready, struct db *db, const char *queue, struct err *e)
{
	const char *p[] = { queue };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_job_next_due, 1, p, e);
	if (rc)
		return rc;
	*seconds = PQgetisnull(r, 0, 0) ? -1 : strtod(PQgetvalue(r, 0, 0), NULL);
	if (*seconds < 0 && !PQgetisnull(r, 0, 0))
		*seconds = 0;
	*ready = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_job_get, "SELECT " JOB_COLS " FROM jobs WHERE id = $1::bigint");

int store_job_get(struct job_row *out, struct db *db, long long id, struct err *e)
{
	char sid[24];
	snprintf(sid, sizeof sid, "%lld", id);
	const char *p[] = { sid };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_job_get, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "no job %lld", id);
	}
	row_read(out, r, 0);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_job_list,
	"SELECT " JOB_COLS " FROM jobs"
	" WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2)"
	"   AND ($3::text IS NULL OR queue = $3) AND ($4::bigint = 0 OR project_id = $4::bigint)"
	" ORDER BY id DESC LIMIT $5::int");

int store_job_list(struct job_row **out, size_t *n, struct db *db, const char *state, const char *kind,
		   const char *queue, long long project_id, int limit, struct err *e)
{
	char sproj[24], slimit[16];
	snprintf(sproj, sizeof sproj, "%lld", project_id);
	snprintf(slimit, sizeof slimit, "%d", limit > 0 ? limit : 50);
	const char *p[] = { state, kind, queue, sproj, slimit };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_job_list, 5, p, e);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	struct job_row *v = calloc((size_t)rows + 1, sizeof *v);
	if (!v)
		abort();
	for (int i = 0; i < rows; i++)
		row_read(&v[i], r, i);
	PQclear(r);
	*out = v;
	*n = (size_t)rows;
	return 0;
}

DB_STMT(stmt_job_retry,
	"UPDATE jobs SET state = 'queued', attempts = 0, run_after = now(), finished_at = NULL, updated_at = now()"
	" WHERE id = $1::bigint AND state IN ('dead', 'cancelled') RETURNING id");
DB_STMT(stmt_job_cancel,
	"UPDATE jobs SET state = 'cancelled', locked_by = NULL, locked_until = NULL, finished_at = now(),"
	"  updated_at = now() WHERE id = $1::bigint AND state IN ('queued', 'running') RETURNING id");
DB_STMT(stmt_job_state, "SELECT state FROM jobs WHERE id = $1::bigint");

/* Turns "0 rows changed" into not found or a conflict naming the current state. */
static int change_state(struct db *db, struct db_stmt *st, long long id, const char *verb, struct err *e)
{
	char sid[24];
	snprintf(sid, sizeof sid, "%lld", id);
	const char *p[] = { sid };
	PGresult *r;
	int rc = db_query(&r, db, st, 1, p, e);
	if (rc == ERR_CONFLICT)
		return err_set(e, ERR_CONFLICT, "job %lld: a queued job with the same dedup key exists already", id);
	if (rc)
		return rc;
	int changed = PQntuples(r) == 1;
	PQclear(r);
	if (changed)
		return 0;
	rc = db_query(&r, db, &stmt_job_state, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 0)
		rc = err_set(e, ERR_NOTFOUND, "no job %lld", id);
	else
		rc = err_set(e, ERR_CONFLICT, "job %lld is %s and cannot be %s", id, PQgetvalue(r, 0, 0), verb);
	PQclear(r);
	return rc;
}

int store_job_retry(struct db *db, long long id, struct err *e)
{
	return change_state(db, &stmt_job_retry, id, "retried (only dead or cancelled jobs can)", e);
}

int store_job_cancel(struct db *db, long long id, struct err *e)
{
	return change_state(db, &stmt_job_cancel, id, "cancelled (only queued or running jobs can)", e);
}

DB_STMT(stmt_job_stats,
	"SELECT queue, kind, state, count(*) FROM jobs GROUP BY queue, kind, state ORDER BY queue, kind, state");
DB_STMT(stmt_job_oldest,
	"SELECT id, extract(epoch FROM now() - run_after) FROM jobs WHERE state = 'queued' AND run_after <= now()"
	" ORDER BY run_after, id LIMIT 1");

int store_job_stats(struct job_stats *out, struct db *db, struct err *e)
{
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_job_stats, 0, NULL, e);
	if (rc)
		return rc;
	int rows = PQntuples(r);
	out->rows = calloc((size_t)rows + 1, sizeof *out->rows);
	if (!out->rows)
		abort();
	for (int i = 0; i < rows; i++) {
		out->rows[i].queue = col_dup(r, i, 0);
		out->rows[i].kind = col_dup(r, i, 1);
		out->rows[i].state = col_dup(r, i, 2);
		out->rows[i].count = strtoll(PQgetvalue(r, i, 3), NULL, 10);
	}
	out->n = (size_t)rows;
	PQclear(r);
	rc = db_query(&r, db, &stmt_job_oldest, 0, NULL, e);
	if (rc) {
		store_job_stats_free(out);
		return rc;
	}
	if (PQntuples(r) == 1) {
		out->oldest_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		out->oldest_wait_seconds = strtod(PQgetvalue(r, 0, 1), NULL);
	}
	PQclear(r);
	return 0;
}

void store_job_stats_free(struct job_stats *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->rows[i].queue);
		free(s->rows[i].kind);
		free(s->rows[i].state);
	}
	free(s->rows);
	memset(s, 0, sizeof *s);
}

DB_STMT(stmt_job_test_begin,
	"INSERT INTO job_test_runs (job_id, project_id, attempt, worker)"
	" VALUES ($1::bigint, nullif($2::bigint, 0), $3::int, $4) RETURNING id");
DB_STMT(stmt_job_test_end, "UPDATE job_test_runs SET finished_at = clock_timestamp() WHERE id = $1::bigint");

int store_job_test_run_begin(long long *run_id, struct db *db, long long job_id, long long project_id, int attempt,
			     const char *worker, struct err *e)
{
	char sid[24], sproj[24], satt[16];
	snprintf(sid, sizeof sid, "%lld", job_id);
	snprintf(sproj, sizeof sproj, "%lld", project_id);
	snprintf(satt, sizeof satt, "%d", attempt);
	const char *p[] = { sid, sproj, satt, worker };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_job_test_begin, 4, p, e);
	if (rc)
		return rc;
	*run_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

int store_job_test_run_end(struct db *db, long long run_id, struct err *e)
{
	char sid[24];
	snprintf(sid, sizeof sid, "%lld", run_id);
	const char *p[] = { sid };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_job_test_end, 1, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

/* The claim connection's session: woken by every enqueue's NOTIFY. Its commits
 * are asynchronous because a lost claim or completion after a server crash
 * only means the job runs again, which every handler must tolerate anyway;
 * the handlers' own connection keeps synchronous commits. */
int store_job_listen(struct db *db, struct err *e)
{
	int rc = db_exec(db, "SET synchronous_commit = off", e);
	if (rc == 0)
		rc = db_exec(db, "LISTEN ghbridge_jobs", e);
	return rc;
}

/* Batched so that a large backlog never holds locks or bloats WAL in one go;
 * runs rarely, so the sequential scan is cheaper than an index every
 * completion would have to write. Dead jobs stay until someone retries them. */
DB_STMT(stmt_job_purge,
	"WITH old AS (SELECT id FROM jobs WHERE state IN ('done', 'cancelled')"
	"               AND finished_at < now() - make_interval(days => $1::int) LIMIT 5000),"
	" runs AS (DELETE FROM job_test_runs WHERE job_id IN (SELECT id FROM old))"
	" DELETE FROM jobs WHERE id IN (SELECT id FROM old)");

int store_job_purge(int *n, struct db *db, int keep_days, struct err *e)
{
	char days[16];
	snprintf(days, sizeof days, "%d", keep_days);
	const char *p[] = { days };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_job_purge, 1, p, e);
	if (rc)
		return rc;
	*n = atoi(PQcmdTuples(r));
	PQclear(r);
	return 0;
}
