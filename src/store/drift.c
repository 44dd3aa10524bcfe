/* store/drift.c: SQL for the drift check's state, the authoritative setting and the collaborator call log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/drift.h"
#include "store/users.h"

#define LL(buf, v) snprintf(buf, sizeof buf, "%lld", (long long)(v))
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"

void store_drift_state_free(struct drift_state *s)
{
	if (!s)
		return;
	free(s->repo);
	free(s->all_etag);
	free(s->all_body);
	free(s->direct_etag);
	free(s->direct_body);
	free(s->inv_etag);
	free(s->inv_body);
	free(s->checked_at);
	free(s->next_at);
	free(s->last_result);
	memset(s, 0, sizeof *s);
	s->personal = -1;
}

DB_STMT(stmt_state_get,
	"SELECT repo, all_etag, all_body, direct_etag, direct_body, inv_etag, inv_body, " TS("checked_at") ", "
	TS("next_at") ", last_result, CASE WHEN personal IS NULL THEN -1 WHEN personal THEN 1 ELSE 0 END"
	" FROM member_drift_state WHERE project_id = $1");

int store_drift_state_get(struct drift_state *out, struct db *db, long long project_id, struct err *e)
{
	char p[24];
	LL(p, project_id);
	const char *v[] = { p };
	PGresult *r;
	memset(out, 0, sizeof *out);
	out->personal = -1;
	int rc = db_query(&r, db, &stmt_state_get, 1, v, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "no drift check yet");
	}
	int c = 0;
	out->repo = store_col(r, 0, c++);
	out->all_etag = store_col(r, 0, c++);
	out->all_body = store_col(r, 0, c++);
	out->direct_etag = store_col(r, 0, c++);
	out->direct_body = store_col(r, 0, c++);
	out->inv_etag = store_col(r, 0, c++);
	out->inv_body = store_col(r, 0, c++);
	out->checked_at = store_col(r, 0, c++);
	out->next_at = store_col(r, 0, c++);
	out->last_result = store_col(r, 0, c++);
	out->personal = (int)strtol(PQgetvalue(r, 0, c++), NULL, 10);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_state_put,
	"INSERT INTO member_drift_state (project_id, repo, all_etag, all_body, direct_etag, direct_body, inv_etag,"
	" inv_body, personal, checked_at, next_at, last_result)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE $9::int WHEN 1 THEN true WHEN 0 THEN false END, now(),"
	"  now() + make_interval(secs => $10::bigint), $11)"
	" ON CONFLICT (project_id) DO UPDATE SET repo = EXCLUDED.repo, all_etag = EXCLUDED.all_etag,"
	"  all_body = EXCLUDED.all_body, direct_etag = EXCLUDED.direct_etag, direct_body = EXCLUDED.direct_body,"
	"  inv_etag = EXCLUDED.inv_etag, inv_body = EXCLUDED.inv_body, personal = EXCLUDED.personal,"
	"  checked_at = now(), next_at = EXCLUDED.next_at, last_result = EXCLUDED.last_result");

int store_drift_state_put(struct db *db, long long project_id, const struct drift_state *s, long interval_s,
			  struct err *e)
{
	char p[24], pers[8], iv[24];
	LL(p, project_id);
	snprintf(pers, sizeof pers, "%d", s->personal);
	LL(iv, interval_s > 0 ? interval_s : 3600);
	const char *v[] = { p, s->repo ? s->repo : "", s->all_etag, s->all_body, s->direct_etag, s->direct_body,
			    s->inv_etag, s->inv_body, pers, iv, s->last_result };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_state_put, 11, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_state_note,
	"INSERT INTO member_drift_state (project_id, next_at, last_result)"
	" VALUES ($1, now() + make_interval(secs => $3::bigint), $2)"
	" ON CONFLICT (project_id) DO UPDATE SET last_result = EXCLUDED.last_result");

int store_drift_state_note(struct db *db, long long project_id, const char *result, long interval_s, struct err *e)
{
	char p[24], iv[24];
	LL(p, project_id);
	LL(iv, interval_s > 0 ? interval_s : 3600);
	const char *v[] = { p, result, iv };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_state_note, 3, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_sweep_new,
	"INSERT INTO member_drift_state (project_id, next_at)"
	" SELECT p.id, now() + make_interval(secs => $1::bigint * (0.5 + random() / 2)) FROM projects p"
	" WHERE p.repo_owner IS NOT NULL AND NOT EXISTS (SELECT 1 FROM member_drift_state s WHERE s.project_id = p.id)"
	" ON CONFLICT (project_id) DO NOTHING");
DB_STMT(stmt_sweep_due,
	"WITH due AS (SELECT s.project_id FROM member_drift_state s JOIN projects p ON p.id = s.project_id"
	"  AND p.repo_owner IS NOT NULL WHERE s.next_at <= now() ORDER BY s.next_at LIMIT $2"
	"  FOR UPDATE OF s SKIP LOCKED)"
	" UPDATE member_drift_state s SET next_at = now() + make_interval(secs => $1::bigint) FROM due"
	" WHERE s.project_id = due.project_id RETURNING s.project_id");

int store_drift_sweep(long long **ids, int *n, struct db *db, long interval_s, int limit, struct err *e)
{
	char iv[24], lim[16];
	LL(iv, interval_s);
	snprintf(lim, sizeof lim, "%d", limit);
	const char *v[] = { iv, lim };
	PGresult *r;
	*ids = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_sweep_new, 1, v, e);
	if (rc)
		return rc;
	PQclear(r);
	if ((rc = db_query(&r, db, &stmt_sweep_due, 2, v, e)))
		return rc;
	int k = PQntuples(r);
	long long *out = calloc((size_t)k + 1, sizeof *out);
	if (!out)
		abort();
	for (int i = 0; i < k; i++)
		out[i] = store_col_ll(r, i, 0);
	PQclear(r);
	*ids = out;
	*n = k;
	return 0;
}

DB_STMT(stmt_auth_get, "SELECT members_authoritative FROM projects WHERE id = $1");
DB_STMT(stmt_auth_set, "UPDATE projects SET members_authoritative = $2::boolean WHERE id = $1 RETURNING id");

int store_members_authoritative(int *on, struct db *db, long long project_id, struct err *e)
{
	char p[24];
	LL(p, project_id);
	const char *v[] = { p };
	PGresult *r;
	*on = 0;
	int rc = db_query(&r, db, &stmt_auth_get, 1, v, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1)
		*on = PQgetvalue(r, 0, 0)[0] == 't';
	else
		rc = err_set(e, ERR_NOTFOUND, "There is no such project.");
	PQclear(r);
	return rc;
}

int store_members_set_authoritative(struct db *db, long long project_id, int on, struct err *e)
{
	char p[24];
	LL(p, project_id);
	const char *v[] = { p, on ? "t" : "f" };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_auth_set, 2, v, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1)
		rc = err_set(e, ERR_NOTFOUND, "There is no such project.");
	PQclear(r);
	return rc;
}

/* ---- the collaborator call log */

#define OP_COLS "id, project_id, job_id, login, action, request, state, coalesce(http_status, 0), answer, attempts," \
	" job_kind, job_payload, unaccounted, " TS("created_at") ", " TS("updated_at")

static void op_from(struct member_op *o, PGresult *r, int row)
{
	int c = 0;
	o->id = store_col_ll(r, row, c++);
	o->project_id = store_col_ll(r, row, c++);
	o->job_id = store_col_ll(r, row, c++);
	o->login = store_col(r, row, c++);
	o->action = store_col(r, row, c++);
	o->request = store_col(r, row, c++);
	o->state = store_col(r, row, c++);
	o->http_status = (int)store_col_ll(r, row, c++);
	o->answer = store_col(r, row, c++);
	o->attempts = (int)store_col_ll(r, row, c++);
	o->job_kind = store_col(r, row, c++);
	o->job_payload = store_col(r, row, c++);
	o->unaccounted = PQgetvalue(r, row, c++)[0] == 't';
	o->created_at = store_col(r, row, c++);
	o->updated_at = store_col(r, row, c++);
}

void store_member_op_clear(struct member_op *o)
{
	if (!o)
		return;
	free(o->login);
	free(o->action);
	free(o->request);
	free(o->state);
	free(o->answer);
	free(o->job_kind);
	free(o->job_payload);
	free(o->created_at);
	free(o->updated_at);
	memset(o, 0, sizeof *o);
}

void store_member_ops_free(struct member_op *rows, int n)
{
	for (int i = 0; i < n; i++)
		store_member_op_clear(&rows[i]);
	free(rows);
}

DB_STMT(stmt_op_note,
	"INSERT INTO member_ops (project_id, job_id, login, action, request, state, http_status, answer, attempts,"
	" job_kind, job_payload, unaccounted) VALUES ($1, $2, $3, $4, $5, $6, nullif($7::int, 0), $8, $9, $10, $11,"
	" $12::boolean)"
	" ON CONFLICT (job_id, action, login) DO UPDATE SET request = EXCLUDED.request, state = EXCLUDED.state,"
	"  http_status = EXCLUDED.http_status, answer = EXCLUDED.answer, attempts = EXCLUDED.attempts, updated_at = now()");

int store_member_op_note(struct db *db, long long project_id, long long job_id, const char *login, const char *action,
			 const char *request, const char *state, int http_status, const char *answer, int attempts,
			 const char *job_kind, const char *job_payload, int unaccounted, struct err *e)
{
	char p[24], j[24], st[16], at[16];
	LL(p, project_id);
	LL(j, job_id);
	snprintf(st, sizeof st, "%d", http_status);
	snprintf(at, sizeof at, "%d", attempts);
	const char *v[] = { p, j, login, action, request, state, st, answer, at, job_kind, job_payload,
			    unaccounted ? "t" : "f" };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_op_note, 12, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_ops_list,
	"SELECT " OP_COLS " FROM member_ops WHERE project_id = $1 AND (NOT $2::boolean OR state = 'failed')"
	" ORDER BY id DESC LIMIT $3");

int store_member_ops_list(struct member_op **rows, int *n, struct db *db, long long project_id, int failed_only,
			  int limit, struct err *e)
{
	char p[24], l[16];
	LL(p, project_id);
	snprintf(l, sizeof l, "%d", limit);
	const char *v[] = { p, failed_only ? "t" : "f", l };
	PGresult *r;
	*rows = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_ops_list, 3, v, e);
	if (rc)
		return rc;
	int k = PQntuples(r);
	struct member_op *out = calloc((size_t)k + 1, sizeof *out);
	if (!out)
		abort();
	for (int i = 0; i < k; i++)
		op_from(&out[i], r, i);
	PQclear(r);
	*rows = out;
	*n = k;
	return 0;
}

DB_STMT(stmt_op_get, "SELECT " OP_COLS " FROM member_ops WHERE project_id = $1 AND id = $2");
DB_STMT(stmt_op_take,
	"UPDATE member_ops SET state = 'retried', updated_at = now() WHERE project_id = $1 AND id = $2"
	" AND state = 'failed' RETURNING id");

int store_member_op_take_failed(struct member_op *out, struct db *db, long long project_id, long long op_id,
				struct err *e)
{
	char p[24], o[24];
	LL(p, project_id);
	LL(o, op_id);
	const char *v[] = { p, o };
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_op_get, 2, v, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "There is no such GitHub operation on this project.");
	}
	op_from(out, r, 0);
	PQclear(r);
	if ((rc = db_query(&r, db, &stmt_op_take, 2, v, e))) {
		store_member_op_clear(out);
		return rc;
	}
	int n = PQntuples(r);
	PQclear(r);
	if (!n) {
		store_member_op_clear(out);
		return err_set(e, ERR_CONFLICT, "That operation did not fail, or was retried already.");
	}
	return 0;
}
