/* store/members.c: SQL for project members and the drift check's findings (017_members.sql). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/members.h"
#include "store/users.h"

#define LL(buf, v) snprintf(buf, sizeof buf, "%lld", (long long)(v))
#define M_COLS "id, project_id, coalesce(user_id, 0), coalesce(github_user_id, 0), coalesce(invited_by, 0)," \
	" coalesce(gh_invitation_id, 0), login, role, state, lookup_error," \
	" to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), gh_state, gh_permission, gh_error," \
	" to_char(gh_updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), gh_added, gh_attempts," \
	" gh_put_at IS NOT NULL, to_char(gh_expired_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), gh_reinvites," \
	" to_char(gh_deferred_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), coalesce(extract(epoch FROM gh_deferred_until), 0)::bigint," \
	" coalesce(gh_put_direct::int, -1), no_github_user," \
	" coalesce(floor(extract(epoch FROM now() - login_confirmed_at)), -1)::bigint"

static void member_from(struct member *m, PGresult *r, int row)
{
	int c = 0;
	m->id = store_col_ll(r, row, c++);
	m->project_id = store_col_ll(r, row, c++);
	m->user_id = store_col_ll(r, row, c++);
	m->github_user_id = store_col_ll(r, row, c++);
	m->invited_by = store_col_ll(r, row, c++);
	m->gh_invitation_id = store_col_ll(r, row, c++);
	m->login = store_col(r, row, c++);
	m->role = store_col(r, row, c++);
	m->state = store_col(r, row, c++);
	m->lookup_error = store_col(r, row, c++);
	m->created_at = store_col(r, row, c++);
	m->gh_state = store_col(r, row, c++);
	m->gh_permission = store_col(r, row, c++);
	m->gh_error = store_col(r, row, c++);
	m->gh_updated_at = store_col(r, row, c++);
	m->gh_added = PQgetvalue(r, row, c++)[0] == 't';
	m->gh_attempts = (int)store_col_ll(r, row, c++);
	m->gh_put_pending = PQgetvalue(r, row, c++)[0] == 't';
	m->gh_expired_at = store_col(r, row, c++);
	m->gh_reinvites = (int)store_col_ll(r, row, c++);
	m->gh_deferred_until = store_col(r, row, c++);
	m->gh_deferred_epoch = store_col_ll(r, row, c++);
	m->gh_put_direct = (int)store_col_ll(r, row, c++);
	m->no_github_user = PQgetvalue(r, row, c++)[0] == 't';
	m->login_confirmed_age = store_col_ll(r, row, c++);
}

void store_member_free(struct member *m)
{
	if (!m)
		return;
	free(m->login);
	free(m->role);
	free(m->state);
	free(m->lookup_error);
	free(m->created_at);
	free(m->gh_state);
	free(m->gh_permission);
	free(m->gh_error);
	free(m->gh_updated_at);
	free(m->gh_expired_at);
	free(m->gh_deferred_until);
	memset(m, 0, sizeof *m);
}

void store_members_free(struct member *rows, int n)
{
	for (int i = 0; i < n; i++)
		store_member_free(&rows[i]);
	free(rows);
}

/* The last-owner trigger's SQLSTATE (017_members.sql): a conflict a person can resolve. */
static int owner_rule(struct db *db, int rc, struct err *e)
{
	if (rc && strcmp(db_last_sqlstate(db), "GB014") == 0)
		return err_set(e, ERR_CONFLICT, "A project keeps at least one owner: make another member an owner first.");
	return rc;
}

DB_STMT(stmt_member_role,
	"SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2 AND state = 'active'");

int store_member_role(char role[16], struct db *db, long long project_id, long long user_id, struct err *e)
{
	char p[24], u[24];
	LL(p, project_id);
	LL(u, user_id);
	const char *v[] = { p, u };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_role, 2, v, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "There is no such project.");
	}
	snprintf(role, 16, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

DB_STMT(stmt_members_list,
	"SELECT " M_COLS " FROM project_members WHERE project_id = $1"
	" ORDER BY array_position(ARRAY['owner','maintainer','developer','viewer'], role), lower(login), id LIMIT 1000");

int store_members_list(struct member **rows, int *n, struct db *db, long long project_id, struct err *e)
{
	char p[24];
	LL(p, project_id);
	const char *v[] = { p };
	PGresult *r;
	*rows = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_members_list, 1, v, e);
	if (rc)
		return rc;
	int k = PQntuples(r);
	struct member *out = calloc((size_t)(k ? k : 1), sizeof *out);
	if (!out)
		abort();
	for (int i = 0; i < k; i++)
		member_from(&out[i], r, i);
	PQclear(r);
	*rows = out;
	*n = k;
	return 0;
}

static int one_member(struct member *out, PGresult *r, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "There is no such member.");
	}
	member_from(out, r, 0);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_member_get,
	"SELECT " M_COLS " FROM project_members WHERE project_id = $1 AND"
	" (CASE WHEN $2 ~ '^[0-9]{1,18}$' THEN github_user_id = $2::bigint ELSE false END OR lower(login) = lower($2))"
	" ORDER BY (lower(login) = lower($2)) DESC, (github_user_id IS NULL) LIMIT 1");

int store_member_get(struct member *out, struct db *db, long long project_id, const char *key, struct err *e)
{
	char p[24];
	LL(p, project_id);
	const char *v[] = { p, key };
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_member_get, 2, v, e);
	return rc ? rc : one_member(out, r, e);
}

DB_STMT(stmt_member_get_id, "SELECT " M_COLS " FROM project_members WHERE id = $1");

int store_member_get_id(struct member *out, struct db *db, long long member_id, struct err *e)
{
	char i[24];
	LL(i, member_id);
	const char *v[] = { i };
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_member_get_id, 1, v, e);
	return rc ? rc : one_member(out, r, e);
}

DB_STMT(stmt_member_invite,
	"INSERT INTO project_members (project_id, login, role, state, invited_by)"
	" SELECT $1, $2, $3, 'invited', $4 WHERE NOT EXISTS (SELECT 1 FROM project_members"
	"  WHERE project_id = $1 AND lower(login) = lower($2)) RETURNING id");

int store_member_invite(long long *id, struct db *db, long long project_id, const char *login, const char *role,
			long long invited_by, struct err *e)
{
	char p[24], b[24];
	LL(p, project_id);
	LL(b, invited_by);
	const char *v[] = { p, login, role, b };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_invite, 4, v, e);
	if (rc == ERR_CONFLICT || (rc == 0 && PQntuples(r) != 1)) {
		if (rc == 0)
			PQclear(r);
		return err_set_field(e, ERR_CONFLICT, "login", "%s is a member or invited already.", login);
	}
	if (rc)
		return rc;
	*id = store_col_ll(r, 0, 0);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_member_resolved,
	"UPDATE project_members m SET github_user_id = $2, login = $3, lookup_error = NULL, login_confirmed_at = clock_timestamp(),"
	" user_id = u.id, state = CASE WHEN u.id IS NULL THEN 'invited' ELSE 'active' END"
	" FROM (SELECT $2::bigint AS gid) g LEFT JOIN users u ON u.github_id = g.gid"
	" WHERE m.id = $1 RETURNING m.id");

int store_member_resolved(struct db *db, long long member_id, long long github_user_id, const char *login,
			  struct err *e)
{
	char i[24], g[24];
	LL(i, member_id);
	LL(g, github_user_id);
	const char *v[] = { i, g, login };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_resolved, 3, v, e);
	if (rc == ERR_CONFLICT)
		return err_set(e, ERR_CONFLICT, "GitHub user %s is a member of this project already.", login);
	if (rc)
		return rc;
	int k = PQntuples(r);
	PQclear(r);
	return k == 1 ? 0 : err_set(e, ERR_NOTFOUND, "There is no such member.");
}

DB_STMT(stmt_member_lookup_failed, "UPDATE project_members SET lookup_error = $2 WHERE id = $1");
DB_STMT(stmt_member_no_user, "UPDATE project_members SET lookup_error = $2, no_github_user = true WHERE id = $1");

int store_member_lookup_failed(struct db *db, long long member_id, const char *why, struct err *e)
{
	char i[24];
	LL(i, member_id);
	const char *v[] = { i, why };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_lookup_failed, 2, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

int store_member_no_github_user(struct db *db, long long member_id, const char *why, struct err *e)
{
	char i[24];
	LL(i, member_id);
	const char *v[] = { i, why };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_no_user, 2, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_member_set_role,
	"UPDATE project_members SET role = $3 WHERE project_id = $1 AND id = $2 RETURNING id");

int store_member_set_role(struct db *db, long long project_id, long long member_id, const char *role,
			  struct err *e)
{
	char p[24], i[24];
	LL(p, project_id);
	LL(i, member_id);
	const char *v[] = { p, i, role };
	PGresult *r;
	int rc = owner_rule(db, db_query(&r, db, &stmt_member_set_role, 3, v, e), e);
	if (rc)
		return rc;
	int k = PQntuples(r);
	PQclear(r);
	return k == 1 ? 0 : err_set(e, ERR_NOTFOUND, "There is no such member.");
}

DB_STMT(stmt_member_delete, "DELETE FROM project_members WHERE project_id = $1 AND id = $2 RETURNING id");

int store_member_delete(struct db *db, long long project_id, long long member_id, struct err *e)
{
	char p[24], i[24];
	LL(p, project_id);
	LL(i, member_id);
	const char *v[] = { p, i };
	PGresult *r;
	int rc = owner_rule(db, db_query(&r, db, &stmt_member_delete, 2, v, e), e);
	if (rc)
		return rc;
	int k = PQntuples(r);
	PQclear(r);
	return k == 1 ? 0 : err_set(e, ERR_NOTFOUND, "There is no such member.");
}

DB_STMT(stmt_member_transfer,
	"WITH t AS (SELECT user_id FROM project_members WHERE project_id = $1 AND id = $3 AND state = 'active'),"
	" up AS (UPDATE project_members SET role = CASE WHEN id = $3 THEN 'owner' ELSE 'maintainer' END"
	"  WHERE project_id = $1 AND (id = $3 OR user_id = $2) AND EXISTS (SELECT 1 FROM t) RETURNING id),"
	" pr AS (UPDATE projects SET owner_id = (SELECT user_id FROM t), updated_at = now()"
	"  WHERE id = $1 AND EXISTS (SELECT 1 FROM t) RETURNING id)"
	" SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM pr)");

int store_member_transfer(struct db *db, long long project_id, long long from_user, long long to_member,
			  struct err *e)
{
	char p[24], f[24], t[24];
	LL(p, project_id);
	LL(f, from_user);
	LL(t, to_member);
	const char *v[] = { p, f, t };
	PGresult *r;
	int rc = owner_rule(db, db_query(&r, db, &stmt_member_transfer, 3, v, e), e);
	if (rc)
		return rc;
	long long pr = store_col_ll(r, 0, 1);
	PQclear(r);
	return pr == 1 ? 0 : err_set_field(e, ERR_INVALID, "member", "Only a member who has signed in can become the owner.");
}

DB_STMT(stmt_member_set_gh,
	"UPDATE project_members SET gh_state = $2, gh_permission = $3, gh_invitation_id = nullif($4::bigint, 0),"
	" gh_added = CASE WHEN $5::int < 0 THEN gh_added ELSE $5::int = 1 END, gh_error = $6,"
	" gh_attempts = gh_attempts + $7::int, gh_updated_at = now() WHERE id = $1");

int store_member_set_gh(struct db *db, long long member_id, const char *gh_state, const char *permission,
			long long invitation_id, int added, const char *error, int attempt, struct err *e)
{
	char i[24], inv[24], a[8], at[8];
	LL(i, member_id);
	LL(inv, invitation_id);
	snprintf(a, sizeof a, "%d", added < 0 ? -1 : added ? 1 : 0);
	snprintf(at, sizeof at, "%d", attempt ? 1 : 0);
	const char *v[] = { i, gh_state, permission, inv, a, error, at };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_set_gh, 7, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_drift_clear, "DELETE FROM member_drift WHERE project_id = $1");
DB_STMT(stmt_drift_add,
	"INSERT INTO member_drift (project_id, login, github_user_id, kind, detail, invitation_id, removable, github_role,"
	" removing) VALUES ($1, $2, nullif($3::bigint, 0), $4, $5, nullif($6::bigint, 0), $7::boolean, $8, $9::boolean)");

int store_drift_replace(struct db *db, long long project_id, const struct member_drift *rows, int n, struct err *e)
{
	char p[24];
	LL(p, project_id);
	int rc = db_begin(db, e);
	if (rc)
		return rc;
	const char *v1[] = { p };
	PGresult *r;
	if ((rc = db_query(&r, db, &stmt_drift_clear, 1, v1, e)))
		goto fail;
	PQclear(r);
	for (int i = 0; i < n; i++) {
		char g[24], inv[24];
		LL(g, rows[i].github_user_id);
		LL(inv, rows[i].invitation_id);
		const char *v[] = { p, rows[i].login, g, rows[i].kind, rows[i].detail ? rows[i].detail : "", inv,
				    rows[i].removable ? "t" : "f", rows[i].github_role, rows[i].removing ? "t" : "f" };
		if ((rc = db_query(&r, db, &stmt_drift_add, 9, v, e)))
			goto fail;
		PQclear(r);
	}
	return db_commit(db, e);
fail:
	db_rollback(db);
	return rc;
}

DB_STMT(stmt_drift_list,
	"SELECT login, kind, detail, to_char(checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
	" coalesce(github_user_id, 0), coalesce(invitation_id, 0), removable, github_role, removing"
	" FROM member_drift WHERE project_id = $1 ORDER BY kind, lower(login) LIMIT 500");

int store_drift_list(struct member_drift **rows, int *n, struct db *db, long long project_id, struct err *e)
{
	char p[24];
	LL(p, project_id);
	const char *v[] = { p };
	PGresult *r;
	*rows = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_drift_list, 1, v, e);
	if (rc)
		return rc;
	int k = PQntuples(r);
	struct member_drift *out = calloc((size_t)(k ? k : 1), sizeof *out);
	if (!out)
		abort();
	for (int i = 0; i < k; i++) {
		out[i].login = store_col(r, i, 0);
		out[i].kind = store_col(r, i, 1);
		out[i].detail = store_col(r, i, 2);
		out[i].checked_at = store_col(r, i, 3);
		out[i].github_user_id = store_col_ll(r, i, 4);
		out[i].invitation_id = store_col_ll(r, i, 5);
		out[i].removable = PQgetvalue(r, i, 6)[0] == 't';
		out[i].github_role = store_col(r, i, 7);
		out[i].removing = PQgetvalue(r, i, 8)[0] == 't';
	}
	PQclear(r);
	*rows = out;
	*n = k;
	return 0;
}

void store_drifts_free(struct member_drift *rows, int n)
{
	for (int i = 0; i < n; i++) {
		free(rows[i].login);
		free(rows[i].kind);
		free(rows[i].detail);
		free(rows[i].checked_at);
		free(rows[i].github_role);
	}
	free(rows);
}

/* ---- invitations followed (019_member_invitations.sql) */

DB_STMT(stmt_member_put_mark, "UPDATE project_members SET gh_put_at = CASE WHEN $2 THEN now() END WHERE id = $1");

DB_STMT(stmt_member_put_mark_direct, "UPDATE project_members SET gh_put_at = now(), gh_put_direct = $2 WHERE id = $1");

int store_member_put_mark_direct(struct db *db, long long member_id, int had_direct, struct err *e)
{
	char i[24];
	LL(i, member_id);
	const char *v[] = { i, had_direct ? "true" : "false" };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_put_mark_direct, 2, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

int store_member_put_mark(struct db *db, long long member_id, int on, struct err *e)
{
	char i[24];
	LL(i, member_id);
	const char *v[] = { i, on ? "true" : "false" };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_put_mark, 2, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_member_invited,
	"UPDATE project_members SET gh_state = 'invited', gh_permission = $2, gh_invitation_id = $3, gh_added = true,"
	" gh_invited_at = $4::timestamptz, gh_put_at = NULL, gh_deferred_until = NULL,"
	" gh_error = CASE WHEN gh_expired_at IS NULL THEN NULL ELSE 'The invitation expired on '"
	"   || to_char(gh_expired_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC, invited again.' END,"
	" gh_attempts = gh_attempts + 1, gh_updated_at = now() WHERE id = $1");

int store_member_invited(struct db *db, long long member_id, const char *permission, long long invitation_id,
			 const char *created_at, struct err *e)
{
	char i[24], inv[24];
	LL(i, member_id);
	LL(inv, invitation_id);
	const char *v[] = { i, permission, inv, created_at };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_invited, 4, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_member_expired,
	"UPDATE project_members SET gh_state = 'expired', gh_expired_at = to_timestamp($2::double precision),"
	" gh_reinvites = gh_reinvites + CASE WHEN $3 THEN 1 ELSE 0 END,"
	" gh_error = CASE WHEN $3 THEN 'The invitation expired on '"
	"   || to_char(to_timestamp($2::double precision) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC: inviting again.'"
	"  ELSE 'The invitation expired on '"
	"   || to_char(to_timestamp($2::double precision) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
	"   || ' UTC, after being sent again once: not sent a third time by itself (Retry sends it again).' END,"
	" gh_updated_at = now() WHERE id = $1 AND gh_state <> 'expired'"
	" AND (gh_invited_at IS NULL OR gh_invited_at <= to_timestamp($4::double precision) + interval '1 second')"
	" RETURNING id");

int store_member_expired(int *changed, struct db *db, long long member_id, long long expired_at, int reinviting,
			 long long created_at, struct err *e)
{
	char i[24], t[24], c[24];
	LL(i, member_id);
	LL(t, expired_at);
	LL(c, created_at);
	const char *v[] = { i, t, reinviting ? "true" : "false", c };
	PGresult *r;
	*changed = 0;
	int rc = db_query(&r, db, &stmt_member_expired, 4, v, e);
	if (rc == 0) {
		*changed = PQntuples(r) == 1;
		PQclear(r);
	}
	return rc;
}

DB_STMT(stmt_member_deferred,
	"UPDATE project_members SET gh_state = 'deferred', gh_deferred_until = to_timestamp($2::double precision),"
	" gh_put_at = NULL, gh_error = $3, gh_attempts = gh_attempts + 1, gh_updated_at = now() WHERE id = $1");

int store_member_deferred(struct db *db, long long member_id, long long until, const char *why, struct err *e)
{
	char i[24], t[24];
	LL(i, member_id);
	LL(t, until);
	const char *v[] = { i, t, why };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_deferred, 3, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_member_gh_queued,
	"UPDATE project_members SET gh_state = CASE WHEN gh_state IN ('invited', 'expired') THEN gh_state ELSE 'queued' END,"
	" gh_error = CASE WHEN gh_state IN ('invited', 'expired') THEN gh_error END, gh_updated_at = now() WHERE id = $1");

int store_member_gh_queued(struct db *db, long long member_id, struct err *e)
{
	char i[24];
	LL(i, member_id);
	const char *v[] = { i };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_gh_queued, 1, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

/* ---- fewer calls per sync (027_member_calls.sql) */
DB_STMT(stmt_member_login_confirmed,
	"UPDATE project_members SET login_confirmed_at = clock_timestamp()"
	" WHERE id = $1 AND login = $2 AND github_user_id = $3");

int store_member_login_confirmed(struct db *db, long long member_id, const char *login, long long github_user_id,
				 struct err *e)
{
	char i[24], g[24];
	LL(i, member_id);
	LL(g, github_user_id);
	const char *v[] = { i, login, g };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_member_login_confirmed, 3, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_direct_grant_has,
	"SELECT $3::bigint = ANY(ids) FROM member_direct_grants"
	" WHERE project_id = $1 AND repo = $2 AND fetched_at > now() - make_interval(secs => $4::int)"
	" AND fetched_at >= to_timestamp($5::bigint)");

int store_direct_grant_has(int *had, struct db *db, long long project_id, const char *repo, long long github_user_id,
			   int max_age, long long not_before, struct err *e)
{
	char p[24], g[24], a[24], nb[24];
	LL(p, project_id);
	LL(g, github_user_id);
	LL(a, max_age);
	LL(nb, not_before);
	const char *v[] = { p, repo, g, a, nb };
	PGresult *r;
	*had = -1;
	int rc = db_query(&r, db, &stmt_direct_grant_has, 5, v, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1)
		*had = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return 0;
}

DB_STMT(stmt_direct_grants_put,
	"INSERT INTO member_direct_grants (project_id, repo, fetched_at, ids) VALUES ($1, $2, to_timestamp($3::bigint), $4::bigint[])"
	" ON CONFLICT (project_id) DO UPDATE SET repo = EXCLUDED.repo, fetched_at = EXCLUDED.fetched_at, ids = EXCLUDED.ids");

int store_direct_grants_put(struct db *db, long long project_id, const char *repo, long long fetched_at,
			    const char *ids, struct err *e)
{
	char p[24], f[24];
	LL(p, project_id);
	LL(f, fetched_at);
	const char *v[] = { p, repo, f, ids };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_direct_grants_put, 4, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_direct_grant_add,
	"UPDATE member_direct_grants SET ids = array_append(ids, $3::bigint)"
	" WHERE project_id = $1 AND repo = $2 AND NOT ($3::bigint = ANY(ids))");

int store_direct_grant_add(struct db *db, long long project_id, const char *repo, long long github_user_id,
			   struct err *e)
{
	char p[24], g[24];
	LL(p, project_id);
	LL(g, github_user_id);
	const char *v[] = { p, repo, g };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_direct_grant_add, 3, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_direct_grants_forget, "DELETE FROM member_direct_grants WHERE project_id = $1");

int store_direct_grants_forget(struct db *db, long long project_id, struct err *e)
{
	char p[24];
	LL(p, project_id);
	const char *v[] = { p };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_direct_grants_forget, 1, v, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}
