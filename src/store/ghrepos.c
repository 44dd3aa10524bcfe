/* store/ghrepos.c: SQL for the per-user cache of GitHub repositories a project can be linked to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/ghrepos.h"
#include "store/users.h"

#define LL(buf, v) snprintf(buf, sizeof buf, "%lld", (long long)(v))

void store_ghrepo_free(struct ghrepo *r)
{
	if (!r)
		return;
	free(r->owner);
	free(r->name);
	free(r->full_name);
	free(r->description);
	free(r->default_branch);
	free(r->html_url);
	memset(r, 0, sizeof *r);
}

void store_ghrepos_free(struct ghrepo *rows, int n)
{
	for (int i = 0; i < n; i++)
		store_ghrepo_free(&rows[i]);
	free(rows);
}

void store_ghrepos_state_free(struct ghrepos_state *s)
{
	if (!s)
		return;
	free(s->state);
	free(s->refreshed_at);
	free(s->error);
	free(s->error_code);
	memset(s, 0, sizeof *s);
}

/* A refresh whose job is no longer queued or running (dead, cancelled, purged) will not finish. */
DB_STMT(stmt_ghrepos_state,
	"SELECT CASE WHEN x.stopped THEN 'failed' ELSE l.state END,"
	" to_char(l.refreshed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
	" coalesce(extract(epoch FROM now() - l.refreshed_at)::bigint, -1),"
	" extract(epoch FROM now() - l.requested_at)::bigint,"
	" CASE WHEN x.stopped THEN coalesce(l.error, 'Reading your repositories from GitHub stopped; refresh to try again.')"
	" ELSE l.error END,"
	" CASE WHEN x.stopped THEN coalesce(l.error_code, 'stopped') ELSE l.error_code END,"
	" l.truncated, coalesce(l.job_id, 0), (SELECT count(*) FROM github_repos g WHERE g.user_id = l.user_id),"
	" coalesce(l.changed_at > l.requested_at, false)"
	" FROM github_repo_lists l LEFT JOIN jobs j ON j.id = l.job_id"
	" CROSS JOIN LATERAL (SELECT l.state = 'refreshing' AND l.job_id IS NOT NULL"
	" AND coalesce(j.state NOT IN ('queued', 'running'), true) AS stopped) x"
	" WHERE l.user_id = $1");

int store_ghrepos_state(struct ghrepos_state *out, struct db *db, long long user_id, struct err *e)
{
	char u[24];
	LL(u, user_id);
	const char *p[] = { u };
	PGresult *r;
	memset(out, 0, sizeof *out);
	out->age_seconds = -1;
	int rc = db_query(&r, db, &stmt_ghrepos_state, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1) {
		out->exists = 1;
		out->state = store_col(r, 0, 0);
		out->refreshed_at = store_col(r, 0, 1);
		out->age_seconds = store_col_ll(r, 0, 2);
		out->asked_seconds = store_col_ll(r, 0, 3);
		out->error = store_col(r, 0, 4);
		out->error_code = store_col(r, 0, 5);
		out->truncated = PQgetvalue(r, 0, 6)[0] == 't';
		out->job_id = store_col_ll(r, 0, 7);
		out->count = store_col_ll(r, 0, 8);
		out->changed = PQgetvalue(r, 0, 9)[0] == 't';
	}
	PQclear(r);
	return 0;
}

DB_STMT(stmt_ghrepos_ask,
	"INSERT INTO github_repo_lists AS l (user_id, state, requested_at) VALUES ($1, 'refreshing', now())"
	" ON CONFLICT (user_id) DO UPDATE SET state = 'refreshing', requested_at = now(), error = NULL, error_code = NULL,"
	" job_id = NULL"
	" WHERE $2::boolean OR l.state <> 'refreshing' OR l.requested_at < now() - make_interval(secs => $3::int)"
	" OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = l.job_id AND j.state IN ('queued', 'running'))"
	" RETURNING user_id");

int store_ghrepos_ask(int *asked, struct db *db, long long user_id, int force, int min_seconds, struct err *e)
{
	char u[24], m[16];
	LL(u, user_id);
	LL(m, min_seconds);
	const char *p[] = { u, force ? "t" : "f", m };
	PGresult *r;
	*asked = 0;
	int rc = db_query(&r, db, &stmt_ghrepos_ask, 3, p, e);
	if (rc)
		return rc;
	*asked = PQntuples(r) == 1;
	PQclear(r);
	return 0;
}

DB_STMT(stmt_ghrepos_changed, "UPDATE github_repo_lists SET changed_at = now() WHERE user_id = $1");

int store_ghrepos_changed(struct db *db, long long user_id, struct err *e)
{
	char u[24];
	LL(u, user_id);
	const char *p[] = { u };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_ghrepos_changed, 1, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_ghrepos_set_job, "UPDATE github_repo_lists SET job_id = $2 WHERE user_id = $1");

int store_ghrepos_set_job(struct db *db, long long user_id, long long job_id, struct err *e)
{
	char u[24], j[24];
	LL(u, user_id);
	LL(j, job_id);
	const char *p[] = { u, j };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_ghrepos_set_job, 2, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_ghrepos_note,
	"INSERT INTO github_repo_lists AS l (user_id, state, error, error_code) VALUES ($1, $2, $3, $4)"
	" ON CONFLICT (user_id) DO UPDATE SET state = $2, error = $3, error_code = $4");

int store_ghrepos_note(struct db *db, long long user_id, const char *state, const char *error, const char *error_code,
		       struct err *e)
{
	char u[24];
	LL(u, user_id);
	const char *p[] = { u, state, error, error_code };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_ghrepos_note, 4, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_ghrepos_delete, "DELETE FROM github_repos WHERE user_id = $1");
DB_STMT(stmt_ghrepos_insert,
	"INSERT INTO github_repos (user_id, pos, full_name, owner, name, description, private, default_branch, html_url)"
	" SELECT $1, x.ord, x.r->>'full_name', x.r->>'owner', x.r->>'name', x.r->>'description',"
	" coalesce((x.r->>'private')::boolean, false), x.r->>'default_branch', x.r->>'html_url'"
	" FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(r, ord)");
DB_STMT(stmt_ghrepos_ready,
	"INSERT INTO github_repo_lists AS l (user_id, state, refreshed_at, truncated) VALUES ($1, 'ready', now(), $2::boolean)"
	" ON CONFLICT (user_id) DO UPDATE SET state = 'ready', refreshed_at = now(), truncated = $2::boolean,"
	" error = NULL, error_code = NULL");

int store_ghrepos_replace(struct db *db, long long user_id, const char *repos_json, int truncated, struct err *e)
{
	char u[24];
	LL(u, user_id);
	const char *p1[] = { u }, *p2[] = { u, repos_json }, *p3[] = { u, truncated ? "t" : "f" };
	PGresult *r;
	int rc = db_begin(db, e);
	if (rc)
		return rc;
	/* The list's row first: its lock makes two refreshes of one user's list take turns (each
	 * statement after it sees what the other committed). */
	if ((rc = db_query(&r, db, &stmt_ghrepos_ready, 2, p3, e)))
		goto fail;
	PQclear(r);
	if ((rc = db_query(&r, db, &stmt_ghrepos_delete, 1, p1, e)))
		goto fail;
	PQclear(r);
	if ((rc = db_query(&r, db, &stmt_ghrepos_insert, 2, p2, e)))
		goto fail;
	PQclear(r);
	return db_commit(db, e);
fail:
	db_rollback(db);
	return rc;
}

DB_STMT(stmt_ghrepos_page,
	"SELECT owner, name, full_name, description, default_branch, html_url, private FROM github_repos"
	" WHERE user_id = $1 AND ($2 = '' OR strpos(lower(full_name), lower($2)) > 0)"
	" ORDER BY pos LIMIT $4::int OFFSET $3::int");

int store_ghrepos_page(struct ghrepo **rows, int *n, struct db *db, long long user_id, const char *q, int offset,
		       int limit, struct err *e)
{
	char u[24], o[16], l[16];
	LL(u, user_id);
	LL(o, offset);
	LL(l, limit);
	const char *p[] = { u, q ? q : "", o, l };
	PGresult *r;
	*rows = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_ghrepos_page, 4, p, e);
	if (rc)
		return rc;
	int nt = PQntuples(r);
	*rows = calloc((size_t)nt + 1, sizeof **rows);
	if (!*rows)
		abort();
	for (int i = 0; i < nt; i++) {
		struct ghrepo *x = &(*rows)[i];
		x->owner = store_col(r, i, 0);
		x->name = store_col(r, i, 1);
		x->full_name = store_col(r, i, 2);
		x->description = store_col(r, i, 3);
		x->default_branch = store_col(r, i, 4);
		x->html_url = store_col(r, i, 5);
		x->private_ = PQgetvalue(r, i, 6)[0] == 't';
	}
	*n = nt;
	PQclear(r);
	return 0;
}
