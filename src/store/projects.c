/* projects.c: SQL for projects, project members and the sync history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/projects.h"
#include "store/users.h"

#define P_COLS "p.id, p.owner_id, u.github_id, u.login, p.name, p.workspace, p.repo_owner, p.repo_name," \
	" p.repo_default_branch, p.repo_html_url, p.repo_clone_url, coalesce(p.repo_private, false), p.auto_sync," \
	" p.batch_minutes, p.pull_enabled, p.sync_branch, p.commit_template, p.exclude_patterns, p.status," \
	" p.last_error, p.last_commit_sha, to_char(p.last_sync_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')," \
	" p.conflict_branch, p.conflict_url, p.progress::text," \
	" to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')," \
	" to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), p.poll_key, p.poll_etag," \
	" p.poll_remote_sha, p.poll_workspace, to_char(p.polled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')," \
	" CASE WHEN s.stopped THEN 'failed' ELSE c.state END, c.mode, c.owner || '/' || c.name, c.step," \
	" CASE WHEN s.stopped THEN 'Connecting stopped before it finished' || coalesce(': ' || c.error, '.') || ' Try again.'" \
	" ELSE c.error END," \
	" CASE WHEN s.stopped THEN coalesce(c.error_code, 'stopped') ELSE c.error_code END, coalesce(c.job_id, 0)," \
	" p.workspace_repo, coalesce(p.workspace_repo_id, 0), p.lfs_threshold_mib"
/* A request whose job is no longer queued or running (dead, cancelled, purged) will not finish: it failed. */
#define P_FROM " FROM projects p JOIN users u ON u.id = p.owner_id" \
	" LEFT JOIN project_connects c ON c.project_id = p.id LEFT JOIN jobs j ON j.id = c.job_id" \
	" LEFT JOIN LATERAL (SELECT c.state IN ('queued', 'running') AND c.job_id IS NOT NULL" \
	" AND coalesce(j.state NOT IN ('queued', 'running'), true) AS stopped) s ON true"

static void project_from(struct project *p, PGresult *r, int row)
{
	int c = 0;
	p->id = store_col_ll(r, row, c++);
	p->owner_id = store_col_ll(r, row, c++);
	p->owner_github_id = store_col_ll(r, row, c++);
	p->owner_login = store_col(r, row, c++);
	p->name = store_col(r, row, c++);
	p->workspace = store_col(r, row, c++);
	p->repo_owner = store_col(r, row, c++);
	p->repo_name = store_col(r, row, c++);
	p->repo_default_branch = store_col(r, row, c++);
	p->repo_html_url = store_col(r, row, c++);
	p->repo_clone_url = store_col(r, row, c++);
	p->repo_private = PQgetvalue(r, row, c++)[0] == 't';
	p->auto_sync = PQgetvalue(r, row, c++)[0] == 't';
	p->batch_minutes = (int)store_col_ll(r, row, c++);
	p->pull_enabled = PQgetvalue(r, row, c++)[0] == 't';
	p->sync_branch = store_col(r, row, c++);
	p->commit_template = store_col(r, row, c++);
	p->exclude_patterns = store_col(r, row, c++);
	p->status = store_col(r, row, c++);
	p->last_error = store_col(r, row, c++);
	p->last_commit_sha = store_col(r, row, c++);
	p->last_sync_at = store_col(r, row, c++);
	p->conflict_branch = store_col(r, row, c++);
	p->conflict_url = store_col(r, row, c++);
	p->progress = store_col(r, row, c++);
	p->created_at = store_col(r, row, c++);
	p->updated_at = store_col(r, row, c++);
	p->poll_key = store_col(r, row, c++);
	p->poll_etag = store_col(r, row, c++);
	p->poll_remote_sha = store_col(r, row, c++);
	p->poll_workspace = store_col(r, row, c++);
	p->polled_at = store_col(r, row, c++);
	p->connect_state = store_col(r, row, c++);
	p->connect_mode = store_col(r, row, c++);
	p->connect_repo = store_col(r, row, c++);
	p->connect_step = store_col(r, row, c++);
	p->connect_error = store_col(r, row, c++);
	p->connect_error_code = store_col(r, row, c++);
	p->connect_job_id = store_col_ll(r, row, c++);
	p->workspace_repo = store_col(r, row, c++);
	p->workspace_repo_id = store_col_ll(r, row, c++);
	p->lfs_threshold_mib = (int)store_col_ll(r, row, c++);
}

void store_project_free(struct project *p)
{
	if (!p)
		return;
	char **fields[] = { &p->owner_login, &p->name, &p->workspace, &p->repo_owner, &p->repo_name,
			    &p->repo_default_branch, &p->repo_html_url, &p->repo_clone_url, &p->sync_branch,
			    &p->commit_template, &p->exclude_patterns, &p->status, &p->last_error,
			    &p->last_commit_sha, &p->last_sync_at, &p->conflict_branch, &p->conflict_url,
			    &p->progress, &p->created_at, &p->updated_at, &p->poll_key, &p->poll_etag,
			    &p->poll_remote_sha, &p->poll_workspace, &p->polled_at, &p->connect_state,
			    &p->connect_mode, &p->connect_repo, &p->connect_step, &p->connect_error,
			    &p->connect_error_code, &p->workspace_repo };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

void store_projects_free(struct project *rows, int n)
{
	for (int i = 0; i < n; i++)
		store_project_free(&rows[i]);
	free(rows);
}

#define LL(buf, v) snprintf(buf, sizeof buf, "%lld", (long long)(v))

DB_STMT(stmt_project_create,
	"WITH p AS (INSERT INTO projects (owner_id, name) VALUES ($1, $2) RETURNING id),"
	" m AS (INSERT INTO project_members (project_id, user_id, role, github_user_id, login)"
	"  SELECT p.id, u.id, 'owner', u.github_id, u.login FROM p, users u WHERE u.id = $1)"
	" SELECT id FROM p");
DB_STMT(stmt_project_set_workspace, "UPDATE projects SET workspace = $2 || '/workspaces/' || id WHERE id = $1");

int store_project_create(struct project *out, struct db *db, long long owner_id, const char *name,
			 const char *data_dir, struct err *e)
{
	char o[24];
	LL(o, owner_id);
	const char *p[] = { o, name };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_project_create, 2, p, e);
	if (rc)
		return rc;
	long long id = store_col_ll(r, 0, 0);
	PQclear(r);
	char i[24];
	LL(i, id);
	const char *w[] = { i, data_dir };
	rc = db_query(&r, db, &stmt_project_set_workspace, 2, w, e);
	if (rc)
		return rc;
	PQclear(r);
	return store_project_get(out, db, id, 0, e);
}

/* A user sees the projects they are an active member of (017_members.sql), whatever their role. */
DB_STMT(stmt_project_get, "SELECT " P_COLS P_FROM " WHERE p.id = $1 AND ($2::bigint = 0 OR EXISTS (SELECT 1"
	" FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = $2 AND pm.state = 'active'))");

int store_project_get(struct project *out, struct db *db, long long id, long long owner_id, struct err *e)
{
	char i[24], o[24];
	LL(i, id);
	LL(o, owner_id);
	const char *p[] = { i, o };
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_project_get, 2, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "There is no project %lld.", id);
	}
	project_from(out, r, 0);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_projects_list, "SELECT " P_COLS P_FROM " WHERE p.id IN (SELECT pm.project_id FROM project_members pm"
	" WHERE pm.user_id = $1 AND pm.state = 'active') ORDER BY p.id DESC LIMIT 1000");

int store_projects_list(struct project **rows, int *n, struct db *db, long long owner_id, struct err *e)
{
	char o[24];
	LL(o, owner_id);
	const char *p[] = { o };
	PGresult *r;
	*rows = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_projects_list, 1, p, e);
	if (rc)
		return rc;
	int nt = PQntuples(r);
	*rows = calloc((size_t)nt + 1, sizeof **rows);
	if (!*rows)
		abort();
	for (int i = 0; i < nt; i++)
		project_from(&(*rows)[i], r, i);
	*n = nt;
	PQclear(r);
	return 0;
}

static int exec_one(struct db *db, struct db_stmt *st, int np, const char *const *p, struct err *e)
{
	PGresult *r;
	int rc = db_query(&r, db, st, np, p, e);
	if (rc)
		return rc;
	int affected = atoi(PQcmdTuples(r));
	PQclear(r);
	return affected > 0 ? 0 : err_set(e, ERR_NOTFOUND, "no such project");
}

DB_STMT(stmt_project_rename, "UPDATE projects SET name = $2, updated_at = now() WHERE id = $1");

int store_project_rename(struct db *db, long long id, const char *name, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i, name };
	return exec_one(db, &stmt_project_rename, 2, p, e);
}

/* A lock class of its own: the job queue's project lock (store/jobs.c) is held for a whole sync, this one
 * only while one file is compared and written. */
#define FILES_LOCK_CLASS "1785688692"
DB_STMT(stmt_files_lock_timeout, "SELECT set_config('lock_timeout', '10s', true)");
DB_STMT(stmt_files_lock, "SELECT pg_advisory_xact_lock(" FILES_LOCK_CLASS ", ($1::bigint % 2147483648)::int4)");

int store_project_files_lock(struct db *db, long long id, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i };
	PGresult *r = NULL;
	int rc = db_begin(db, e);
	if (rc)
		return rc;
	if ((rc = db_query(&r, db, &stmt_files_lock_timeout, 0, NULL, e)) == 0) {
		PQclear(r);
		r = NULL;
		rc = db_query(&r, db, &stmt_files_lock, 1, p, e);
	}
	PQclear(r);
	if (rc) {
		db_rollback(db);
		return err_set(e, ERR_DB, "Another change to this project's files is taking long; try again in a moment.");
	}
	return 0;
}

void store_project_files_unlock(struct db *db)
{
	struct err e = { 0 };
	if (db_commit(db, &e))
		db_rollback(db);
}

DB_STMT(stmt_project_delete, "DELETE FROM projects WHERE id = $1");

int store_project_delete(struct db *db, long long id, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i };
	return exec_one(db, &stmt_project_delete, 1, p, e);
}

DB_STMT(stmt_project_set_repo,
	"UPDATE projects SET repo_owner = $2, repo_name = $3, repo_default_branch = $4, repo_html_url = $5,"
	" repo_clone_url = $6, repo_private = $7::boolean, status = 'IDLE', last_error = NULL,"
	" conflict_branch = NULL, conflict_url = NULL, updated_at = now() WHERE id = $1");

int store_project_set_repo(struct db *db, long long id, const char *owner, const char *name, const char *branch,
			   const char *html_url, const char *clone_url, int private_, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i, owner, name, branch, html_url, clone_url, owner ? (private_ ? "t" : "f") : NULL };
	return exec_one(db, &stmt_project_set_repo, 7, p, e);
}

DB_STMT(stmt_project_link,
	"UPDATE projects SET repo_owner = $2, repo_name = $3, repo_default_branch = $4, repo_html_url = $5,"
	" repo_clone_url = $6, repo_private = $7::boolean, status = 'IDLE', last_error = NULL,"
	" conflict_branch = NULL, conflict_url = NULL, progress = '{}',"
	" last_commit_sha = CASE WHEN $10::boolean THEN last_commit_sha END,"
	" last_sync_at = CASE WHEN $10::boolean THEN last_sync_at END,"
	" workspace_repo = $8, workspace_repo_id = coalesce(nullif($9::bigint, 0), CASE WHEN $10::boolean"
	" THEN workspace_repo_id END), updated_at = now() WHERE id = $1");

int store_project_link(struct db *db, long long id, const char *owner, const char *name, const char *branch,
		       const char *html_url, const char *clone_url, int private_, const char *workspace_repo,
		       long long workspace_repo_id, int same_history, struct err *e)
{
	char i[24], ri[24];
	LL(i, id);
	LL(ri, workspace_repo_id);
	const char *p[] = { i, owner, name, branch, html_url, clone_url, private_ ? "t" : "f", workspace_repo, ri,
			    same_history ? "t" : "f" };
	return exec_one(db, &stmt_project_link, 10, p, e);
}

/* Connected projects only (repo_owner set): workspace_repo_id is the linked repository's id then. */
DB_STMT(stmt_project_sharing_repo,
	"SELECT id, owner_id, name FROM projects WHERE id <> $1 AND repo_owner IS NOT NULL"
	" AND (($2::bigint > 0 AND workspace_repo_id = $2::bigint)"
	" OR lower(repo_owner || '/' || repo_name) = lower($3)) ORDER BY id LIMIT 1");

int store_project_sharing_repo(long long *other_id, long long *other_owner, char **other_name, struct db *db,
			       long long project_id, long long repo_id, const char *full, struct err *e)
{
	char i[24], ri[24];
	LL(i, project_id);
	LL(ri, repo_id);
	const char *p[] = { i, ri, full ? full : "" };
	PGresult *r;
	*other_id = 0;
	*other_owner = 0;
	*other_name = NULL;
	int rc = db_query(&r, db, &stmt_project_sharing_repo, 3, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1) {
		*other_id = store_col_ll(r, 0, 0);
		*other_owner = store_col_ll(r, 0, 1);
		*other_name = store_col(r, 0, 2);
	}
	PQclear(r);
	return 0;
}

DB_STMT(stmt_project_repo_renamed,
	"WITH p AS (UPDATE projects SET repo_owner = $3, repo_name = $4, repo_html_url = coalesce($5, repo_html_url),"
	" repo_clone_url = coalesce($6, repo_clone_url), workspace_repo = lower($3 || '/' || $4), updated_at = now()"
	" WHERE id = $1 AND workspace_repo_id = $2::bigint AND repo_owner IS NOT NULL RETURNING id),"
	" w AS (UPDATE webhooks SET repo_owner = $3, repo_name = $4, updated_at = now()"
	" WHERE project_id IN (SELECT id FROM p))"
	" SELECT count(*) FROM p");

int store_project_repo_renamed(int *changed, struct db *db, long long id, long long repo_id, const char *owner,
			       const char *name, const char *html_url, const char *clone_url, struct err *e)
{
	char i[24], ri[24];
	LL(i, id);
	LL(ri, repo_id);
	const char *p[] = { i, ri, owner, name, html_url, clone_url };
	PGresult *r;
	*changed = 0;
	int rc = db_query(&r, db, &stmt_project_repo_renamed, 6, p, e);
	if (rc)
		return rc;
	*changed = store_col_ll(r, 0, 0) > 0;
	PQclear(r);
	return 0;
}

DB_STMT(stmt_project_set_settings,
	"UPDATE projects SET auto_sync = $2::boolean, sync_branch = nullif($3, ''), commit_template = $4,"
	" exclude_patterns = $5, batch_minutes = $6::int, pull_enabled = $7::boolean,"
	" lfs_threshold_mib = $8::int, updated_at = now() WHERE id = $1");

int store_project_set_settings(struct db *db, long long id, int auto_sync, const char *sync_branch,
			       const char *commit_template, const char *excludes, int batch_minutes, int pull_enabled,
			       int lfs_threshold_mib, struct err *e)
{
	char i[24], b[16], l[16];
	LL(i, id);
	LL(b, batch_minutes);
	LL(l, lfs_threshold_mib);
	const char *p[] = { i, auto_sync ? "t" : "f", sync_branch ? sync_branch : "", commit_template, excludes, b,
			    pull_enabled ? "t" : "f", l };
	return exec_one(db, &stmt_project_set_settings, 8, p, e);
}

/* A run that ends well while another sync of the workspace is already queued (a Sync now or an edit
 * during a pull) leaves the project PENDING: SUCCESS would say everything is on GitHub when it is not. */
DB_STMT(stmt_project_set_status,
	"UPDATE projects SET status = CASE WHEN $2 = 'SUCCESS' AND EXISTS (SELECT 1 FROM jobs j WHERE j.project_id = $1"
	" AND j.kind = 'sync' AND j.state = 'queued' AND j.dedup_key = 'sync:' || $1::bigint::text) THEN 'PENDING' ELSE $2 END,"
	" last_error = $3, last_commit_sha = coalesce($4, last_commit_sha),"
	" conflict_branch = $5, conflict_url = $6,"
	" last_sync_at = CASE WHEN $7::boolean THEN now() ELSE last_sync_at END,"
	" progress = CASE WHEN $2 = 'SYNCING' THEN progress ELSE '{}' END, updated_at = now() WHERE id = $1");

int store_project_set_status(struct db *db, long long id, const char *status, const char *error,
			     const char *commit_sha, const char *conflict_branch, const char *conflict_url, int synced,
			     struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i, status, error, commit_sha, conflict_branch, conflict_url, synced ? "t" : "f" };
	return exec_one(db, &stmt_project_set_status, 7, p, e);
}

/* Only while the project still follows the default branch and is linked: a settings change or a
 * relink meanwhile wins. */
DB_STMT(stmt_project_set_default_branch,
	"UPDATE projects SET repo_default_branch = $2, updated_at = now()"
	" WHERE id = $1 AND repo_owner IS NOT NULL AND coalesce(sync_branch, '') = ''");

int store_project_set_default_branch(struct db *db, long long id, const char *branch, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i, branch };
	return exec_one(db, &stmt_project_set_default_branch, 2, p, e);
}

DB_STMT(stmt_project_mark_pending,
	"UPDATE projects SET status = 'PENDING', updated_at = now()"
	" WHERE id = $1 AND status IN ('IDLE', 'SUCCESS', 'ERROR')");

int store_project_mark_pending(struct db *db, long long id, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_project_mark_pending, 1, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

DB_STMT(stmt_project_set_progress, "UPDATE projects SET progress = $2::jsonb WHERE id = $1");

int store_project_set_progress(struct db *db, long long id, const char *json, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i, json };
	return exec_one(db, &stmt_project_set_progress, 2, p, e);
}

/* ---------------------------------------------------------------- periodic check */

DB_STMT(stmt_project_set_poll_remote,
	"UPDATE projects SET poll_key = $2, poll_etag = $3, poll_remote_sha = $4, polled_at = now() WHERE id = $1");

int store_project_set_poll_remote(struct db *db, long long id, const char *key, const char *etag,
				  const char *remote_sha, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i, key, etag, remote_sha };
	return exec_one(db, &stmt_project_set_poll_remote, 4, p, e);
}

DB_STMT(stmt_project_set_poll_workspace, "UPDATE projects SET poll_workspace = $2, polled_at = now() WHERE id = $1");

int store_project_set_poll_workspace(struct db *db, long long id, const char *fingerprint, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i, fingerprint };
	return exec_one(db, &stmt_project_set_poll_workspace, 2, p, e);
}

DB_STMT(stmt_poll_job_forget, "DELETE FROM jobs WHERE id = $1 AND kind = 'poll' AND state = 'done'");

int store_poll_job_forget(struct db *db, long long job_id, struct err *e)
{
	char i[24];
	LL(i, job_id);
	const char *p[] = { i };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_poll_job_forget, 1, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

/* ---------------------------------------------------------------- connect requests */

void store_connect_free(struct project_connect *c)
{
	if (!c)
		return;
	free(c->mode);
	free(c->owner);
	free(c->name);
	free(c->description);
	free(c->state);
	free(c->step);
	free(c->error);
	free(c->error_code);
	memset(c, 0, sizeof *c);
}

/* A request still queued or running blocks a new one, unless its job is gone (dead, cancelled). */
DB_STMT(stmt_connect_put,
	"INSERT INTO project_connects (project_id, user_id, mode, owner, name, private, description)"
	" VALUES ($1, $2, $3, $4, $5, $6::boolean, $7)"
	" ON CONFLICT (project_id) DO UPDATE SET user_id = $2, mode = $3, owner = $4, name = $5, private = $6::boolean,"
	" description = $7, state = 'queued', step = NULL, error = NULL, error_code = NULL, job_id = NULL,"
	" create_sent_at = NULL, created_repo_id = NULL, created_at = now(), updated_at = now()"
	" WHERE project_connects.state NOT IN ('queued', 'running') OR NOT EXISTS"
	" (SELECT 1 FROM jobs j WHERE j.id = project_connects.job_id AND j.state IN ('queued', 'running'))"
	" RETURNING project_id");

int store_connect_put(struct db *db, long long project_id, long long user_id, const char *mode, const char *owner,
		      const char *name, int private_, const char *description, struct err *e)
{
	char pi[24], ui[24];
	LL(pi, project_id);
	LL(ui, user_id);
	const char *p[] = { pi, ui, mode, owner, name, private_ ? "t" : "f", description ? description : "" };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_connect_put, 7, p, e);
	if (rc)
		return rc;
	int n = PQntuples(r);
	PQclear(r);
	return n == 1 ? 0 : err_set(e, ERR_CONFLICT, "This project is being connected already; wait for that to finish.");
}

DB_STMT(stmt_connect_set_job, "UPDATE project_connects SET job_id = $2, updated_at = now() WHERE project_id = $1");

int store_connect_set_job(struct db *db, long long project_id, long long job_id, struct err *e)
{
	char pi[24], ji[24];
	LL(pi, project_id);
	LL(ji, job_id);
	const char *p[] = { pi, ji };
	return exec_one(db, &stmt_connect_set_job, 2, p, e);
}

DB_STMT(stmt_connect_get,
	"SELECT project_id, user_id, coalesce(job_id, 0), coalesce(created_repo_id, 0), mode, owner, name, description,"
	" state, step, error, error_code, private, coalesce(extract(epoch FROM create_sent_at)::double precision, 0)"
	" FROM project_connects WHERE project_id = $1");

int store_connect_get(struct project_connect *out, struct db *db, long long project_id, struct err *e)
{
	char pi[24];
	LL(pi, project_id);
	const char *p[] = { pi };
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_connect_get, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "There is no request to connect project %lld.", project_id);
	}
	out->project_id = store_col_ll(r, 0, 0);
	out->user_id = store_col_ll(r, 0, 1);
	out->job_id = store_col_ll(r, 0, 2);
	out->created_repo_id = store_col_ll(r, 0, 3);
	out->mode = store_col(r, 0, 4);
	out->owner = store_col(r, 0, 5);
	out->name = store_col(r, 0, 6);
	out->description = store_col(r, 0, 7);
	out->state = store_col(r, 0, 8);
	out->step = store_col(r, 0, 9);
	out->error = store_col(r, 0, 10);
	out->error_code = store_col(r, 0, 11);
	out->private_ = PQgetvalue(r, 0, 12)[0] == 't';
	out->create_sent_epoch = strtod(PQgetvalue(r, 0, 13), NULL);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_connect_update,
	"UPDATE project_connects SET state = coalesce($3, state), step = $4, error = $5, error_code = $6,"
	" updated_at = now() WHERE project_id = $1 AND job_id = $2 AND state IN ('queued', 'running')");

int store_connect_update(int *owned, struct db *db, long long project_id, long long job_id, const char *state,
			 const char *step, const char *error, const char *error_code, struct err *e)
{
	char pi[24], ji[24];
	LL(pi, project_id);
	LL(ji, job_id);
	const char *p[] = { pi, ji, state, step, error, error_code };
	PGresult *r;
	*owned = 0;
	int rc = db_query(&r, db, &stmt_connect_update, 6, p, e);
	if (rc)
		return rc;
	*owned = atoi(PQcmdTuples(r)) > 0;
	PQclear(r);
	return 0;
}

DB_STMT(stmt_connect_create_sent,
	"UPDATE project_connects SET create_sent_at = coalesce(create_sent_at, now()), updated_at = now()"
	" WHERE project_id = $1 AND job_id = $2");

int store_connect_create_sent(struct db *db, long long project_id, long long job_id, struct err *e)
{
	char pi[24], ji[24];
	LL(pi, project_id);
	LL(ji, job_id);
	const char *p[] = { pi, ji };
	return exec_one(db, &stmt_connect_create_sent, 2, p, e);
}

DB_STMT(stmt_connect_created,
	"UPDATE project_connects SET created_repo_id = $3, updated_at = now() WHERE project_id = $1 AND job_id = $2");

int store_connect_created(struct db *db, long long project_id, long long job_id, long long repo_id, struct err *e)
{
	char pi[24], ji[24], ri[24];
	LL(pi, project_id);
	LL(ji, job_id);
	LL(ri, repo_id);
	const char *p[] = { pi, ji, ri };
	return exec_one(db, &stmt_connect_created, 3, p, e);
}

DB_STMT(stmt_connect_cancel,
	"UPDATE project_connects SET state = 'failed', step = NULL, error = 'Cancelled.', error_code = 'cancelled',"
	" updated_at = now() WHERE project_id = $1 AND state IN ('queued', 'running') RETURNING coalesce(job_id, 0)");

int store_connect_cancel(long long *job_id, struct db *db, long long project_id, struct err *e)
{
	char pi[24];
	LL(pi, project_id);
	const char *p[] = { pi };
	PGresult *r;
	*job_id = 0;
	int rc = db_query(&r, db, &stmt_connect_cancel, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1)
		*job_id = store_col_ll(r, 0, 0);
	PQclear(r);
	return 0;
}

/* ---------------------------------------------------------------- sync history */

#define S_COLS "id, project_id, coalesce(job_id, 0), trigger, status, commit_sha, error," \
	" to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')," \
	" to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), files::text, files_changed," \
	" additions, deletions, attempts," \
	" coalesce(extract(epoch FROM finished_at - started_at)::double precision, -1)"

static void sync_from(struct sync_run *s, PGresult *r, int row)
{
	s->id = store_col_ll(r, row, 0);
	s->project_id = store_col_ll(r, row, 1);
	s->job_id = store_col_ll(r, row, 2);
	s->trigger = store_col(r, row, 3);
	s->status = store_col(r, row, 4);
	s->commit_sha = store_col(r, row, 5);
	s->error = store_col(r, row, 6);
	s->started_at = store_col(r, row, 7);
	s->finished_at = store_col(r, row, 8);
	s->files = store_col(r, row, 9);
	s->files_changed = (int)store_col_ll(r, row, 10);
	s->additions = (int)store_col_ll(r, row, 11);
	s->deletions = (int)store_col_ll(r, row, 12);
	s->attempts = (int)store_col_ll(r, row, 13);
	s->duration_s = strtod(PQgetvalue(r, row, 14), NULL);
}

void store_sync_free(struct sync_run *s)
{
	if (!s)
		return;
	free(s->trigger);
	free(s->status);
	free(s->commit_sha);
	free(s->error);
	free(s->started_at);
	free(s->finished_at);
	free(s->files);
	memset(s, 0, sizeof *s);
}

void store_syncs_free(struct sync_run *rows, int n)
{
	for (int i = 0; i < n; i++)
		store_sync_free(&rows[i]);
	free(rows);
}

DB_STMT(stmt_sync_begin,
	"INSERT INTO sync_history (project_id, job_id, trigger, attempts) VALUES ($1, nullif($2::bigint, 0), $3, $4::int)"
	" RETURNING id");

int store_sync_begin(long long *id, struct db *db, long long project_id, long long job_id, const char *trigger,
		     int attempt, struct err *e)
{
	char pi[24], ji[24], a[16];
	LL(pi, project_id);
	LL(ji, job_id);
	LL(a, attempt);
	const char *p[] = { pi, ji, trigger, a };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_sync_begin, 4, p, e);
	if (rc)
		return rc;
	*id = store_col_ll(r, 0, 0);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_sync_finish,
	"UPDATE sync_history SET status = $2, commit_sha = $3, files_changed = $4::int, additions = $5::int,"
	" deletions = $6::int, error = $7, files = coalesce($8::jsonb, '[]'), finished_at = clock_timestamp()"
	" WHERE id = $1");

int store_sync_finish(struct db *db, long long id, const char *status, const char *commit_sha, int files_changed,
		      int additions, int deletions, const char *error, const char *files_json, struct err *e)
{
	char i[24], f[16], a[16], d[16];
	LL(i, id);
	LL(f, files_changed);
	LL(a, additions);
	LL(d, deletions);
	const char *p[] = { i, status, commit_sha, f, a, d, error, files_json };
	return exec_one(db, &stmt_sync_finish, 8, p, e);
}

DB_STMT(stmt_sync_list,
	"SELECT " S_COLS " FROM sync_history WHERE project_id = $1 AND ($3::bigint = 0 OR id < $3)"
	" ORDER BY id DESC LIMIT $2::int");

int store_sync_list(struct sync_run **rows, int *n, struct db *db, long long project_id, int limit,
		    long long before_id, struct err *e)
{
	char pi[24], l[16], b[24];
	LL(pi, project_id);
	LL(l, limit);
	LL(b, before_id);
	const char *p[] = { pi, l, b };
	PGresult *r;
	*rows = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_sync_list, 3, p, e);
	if (rc)
		return rc;
	int nt = PQntuples(r);
	*rows = calloc((size_t)nt + 1, sizeof **rows);
	if (!*rows)
		abort();
	for (int i = 0; i < nt; i++)
		sync_from(&(*rows)[i], r, i);
	*n = nt;
	PQclear(r);
	return 0;
}

DB_STMT(stmt_sync_get, "SELECT " S_COLS " FROM sync_history WHERE project_id = $1 AND id = $2");

int store_sync_get(struct sync_run *out, struct db *db, long long project_id, long long id, struct err *e)
{
	char pi[24], i[24];
	LL(pi, project_id);
	LL(i, id);
	const char *p[] = { pi, i };
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_sync_get, 2, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "There is no such sync in this project's history.");
	}
	sync_from(out, r, 0);
	PQclear(r);
	return 0;
}

/* ---------------------------------------------------------------- a branch that refuses pushes */

DB_STMT(stmt_project_push_refused, "SELECT push_refused_branch FROM projects WHERE id = $1");

int store_project_push_refused(char **branch, struct db *db, long long id, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i };
	PGresult *r;
	*branch = NULL;
	int rc = db_query(&r, db, &stmt_project_push_refused, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) && !PQgetisnull(r, 0, 0) && !(*branch = strdup(PQgetvalue(r, 0, 0))))
		abort();
	PQclear(r);
	return 0;
}

DB_STMT(stmt_project_set_push_refused, "UPDATE projects SET push_refused_branch = $2 WHERE id = $1");

int store_project_set_push_refused(struct db *db, long long id, const char *branch, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *p[] = { i, branch };
	return exec_one(db, &stmt_project_set_push_refused, 2, p, e);
}
