/* pulls.c: SQL for pull requests, per-project merge settings, repository webhooks and webhook deliveries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/pulls.h"
#include "store/users.h"

#define LL(buf, v) snprintf(buf, sizeof buf, "%lld", (long long)(v))
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static int exec_only(struct db *db, struct db_stmt *st, int n, const char *const *p, struct err *e)
{
	PGresult *r;
	int rc = db_query(&r, db, st, n, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

static int col_bool(PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

/* ---------------------------------------------------------------- pull requests */

#define PULL_COLS "project_id, number, gh_id, node_id, title, body, state, draft, head_ref, head_sha, base_ref," \
	" author, html_url, mergeable, mergeable_state, merged_by, merge_commit_sha, additions, deletions," \
	" changed_files, commits, checks_state, checks::text, checks_sha, etag, status_etag, runs_etag," \
	" files::text, files_etag, files_sha, " TS("gh_created_at") ", " TS("gh_updated_at") ", " TS("closed_at") \
	", " TS("merged_at") ", " TS("refreshed_at") ", extract(epoch FROM now() - refreshed_at)::bigint"

static void pull_from(struct pull *p, PGresult *r, int row)
{
	int c = 0;
	memset(p, 0, sizeof *p);
	p->project_id = store_col_ll(r, row, c++);
	p->number = (int)store_col_ll(r, row, c++);
	p->gh_id = store_col_ll(r, row, c++);
	p->node_id = store_col(r, row, c++);
	p->title = store_col(r, row, c++);
	p->body = store_col(r, row, c++);
	p->state = store_col(r, row, c++);
	p->draft = col_bool(r, row, c++);
	p->head_ref = store_col(r, row, c++);
	p->head_sha = store_col(r, row, c++);
	p->base_ref = store_col(r, row, c++);
	p->author = store_col(r, row, c++);
	p->html_url = store_col(r, row, c++);
	p->mergeable = PQgetisnull(r, row, c) ? -1 : col_bool(r, row, c);
	c++;
	p->mergeable_state = store_col(r, row, c++);
	p->merged_by = store_col(r, row, c++);
	p->merge_commit_sha = store_col(r, row, c++);
	p->additions = (int)store_col_ll(r, row, c++);
	p->deletions = (int)store_col_ll(r, row, c++);
	p->changed_files = (int)store_col_ll(r, row, c++);
	p->commits = (int)store_col_ll(r, row, c++);
	p->checks_state = store_col(r, row, c++);
	p->checks = store_col(r, row, c++);
	p->checks_sha = store_col(r, row, c++);
	p->etag = store_col(r, row, c++);
	p->status_etag = store_col(r, row, c++);
	p->runs_etag = store_col(r, row, c++);
	p->files = store_col(r, row, c++);
	p->files_etag = store_col(r, row, c++);
	p->files_sha = store_col(r, row, c++);
	p->gh_created_at = store_col(r, row, c++);
	p->gh_updated_at = store_col(r, row, c++);
	p->closed_at = store_col(r, row, c++);
	p->merged_at = store_col(r, row, c++);
	p->refreshed_at = store_col(r, row, c++);
	p->refreshed_age = store_col_ll(r, row, c++);
}

void store_pull_free(struct pull *p)
{
	if (!p)
		return;
	char **s[] = { &p->node_id, &p->title, &p->body, &p->state, &p->head_ref, &p->head_sha, &p->base_ref,
		       &p->author, &p->html_url, &p->mergeable_state, &p->merged_by, &p->merge_commit_sha,
		       &p->checks_state, &p->checks, &p->checks_sha, &p->etag, &p->status_etag, &p->runs_etag,
		       &p->files, &p->files_etag, &p->files_sha, &p->gh_created_at, &p->gh_updated_at, &p->closed_at,
		       &p->merged_at, &p->refreshed_at };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
}

void store_pulls_free(struct pull *rows, int n)
{
	for (int i = 0; i < n; i++)
		store_pull_free(&rows[i]);
	free(rows);
}

/* The head moving invalidates what was known about its checks and files. */
DB_STMT(stmt_pull_upsert,
	"INSERT INTO pull_requests (project_id, number, gh_id, node_id, title, body, state, draft, head_ref, head_sha,"
	" base_ref, author, html_url, mergeable, mergeable_state, merged_by, merge_commit_sha, additions, deletions,"
	" changed_files, commits, etag, gh_created_at, gh_updated_at, closed_at, merged_at, refreshed_at)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,"
	"  $23::timestamptz, $24::timestamptz, $25::timestamptz, $26::timestamptz, now())"
	" ON CONFLICT (project_id, number) DO UPDATE SET gh_id = EXCLUDED.gh_id, node_id = EXCLUDED.node_id,"
	"  title = EXCLUDED.title, body = EXCLUDED.body, state = EXCLUDED.state, draft = EXCLUDED.draft,"
	"  head_ref = EXCLUDED.head_ref, head_sha = EXCLUDED.head_sha, base_ref = EXCLUDED.base_ref,"
	"  author = EXCLUDED.author, html_url = EXCLUDED.html_url, mergeable = EXCLUDED.mergeable,"
	"  mergeable_state = EXCLUDED.mergeable_state, merged_by = EXCLUDED.merged_by,"
	"  merge_commit_sha = EXCLUDED.merge_commit_sha, additions = EXCLUDED.additions,"
	"  deletions = EXCLUDED.deletions, changed_files = EXCLUDED.changed_files, commits = EXCLUDED.commits,"
	"  etag = EXCLUDED.etag, gh_created_at = EXCLUDED.gh_created_at, gh_updated_at = EXCLUDED.gh_updated_at,"
	"  closed_at = EXCLUDED.closed_at, merged_at = EXCLUDED.merged_at, refreshed_at = now(),"
	"  status_etag = CASE WHEN pull_requests.head_sha = EXCLUDED.head_sha THEN pull_requests.status_etag END,"
	"  runs_etag = CASE WHEN pull_requests.head_sha = EXCLUDED.head_sha THEN pull_requests.runs_etag END"
	" WHERE pull_requests.gh_updated_at IS NULL OR EXCLUDED.gh_updated_at IS NULL"
	"  OR EXCLUDED.gh_updated_at >= pull_requests.gh_updated_at"
	" RETURNING number");

int store_pull_upsert(int *applied, struct db *db, const struct pull *p, struct err *e)
{
	char pid[24], num[16], ghid[24], add[16], del[16], chg[16], com[16];
	LL(pid, p->project_id);
	LL(num, p->number);
	LL(ghid, p->gh_id);
	LL(add, p->additions);
	LL(del, p->deletions);
	LL(chg, p->changed_files);
	LL(com, p->commits);
	const char *mergeable = p->mergeable < 0 ? NULL : p->mergeable ? "t" : "f";
	const char *v[] = { pid, num, p->gh_id ? ghid : NULL, p->node_id, p->title ? p->title : "",
			    p->body ? p->body : "", p->state, p->draft ? "t" : "f", p->head_ref,
			    p->head_sha ? p->head_sha : "", p->base_ref, p->author ? p->author : "", p->html_url,
			    mergeable, p->mergeable_state ? p->mergeable_state : "unknown", p->merged_by,
			    p->merge_commit_sha, add, del, chg, com, p->etag, p->gh_created_at, p->gh_updated_at,
			    p->closed_at, p->merged_at };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_pull_upsert, 26, v, e);
	if (rc)
		return rc;
	if (applied)
		*applied = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

DB_STMT(stmt_pull_get, "SELECT " PULL_COLS " FROM pull_requests WHERE project_id = $1 AND number = $2");

int store_pull_get(struct pull *out, struct db *db, long long project_id, int number, struct err *e)
{
	char pid[24], num[16];
	LL(pid, project_id);
	LL(num, number);
	const char *v[] = { pid, num };
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_pull_get, 2, v, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "There is no pull request #%d in this project.", number);
	}
	pull_from(out, r, 0);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_pulls_list,
	"SELECT " PULL_COLS " FROM pull_requests WHERE project_id = $1 AND ($2 = 'all' OR state = $2)"
	" AND ($3::text IS NULL OR head_ref = $3) ORDER BY number DESC LIMIT $4 OFFSET $5");

int store_pulls_list(struct pull **rows, int *n, struct db *db, long long project_id, const char *state,
		     const char *head, int limit, int offset, struct err *e)
{
	char pid[24], lim[16], off[16];
	LL(pid, project_id);
	LL(lim, limit);
	LL(off, offset);
	const char *v[] = { pid, state, head, lim, off };
	PGresult *r;
	*rows = NULL;
	*n = 0;
	int rc = db_query(&r, db, &stmt_pulls_list, 5, v, e);
	if (rc)
		return rc;
	*n = PQntuples(r);
	*rows = calloc((size_t)*n + 1, sizeof **rows);
	if (!*rows)
		abort();
	for (int i = 0; i < *n; i++)
		pull_from(&(*rows)[i], r, i);
	PQclear(r);
	return 0;
}

static int numbers_of(int **numbers, int *n, PGresult *r)
{
	*n = PQntuples(r);
	*numbers = calloc((size_t)*n + 1, sizeof **numbers);
	if (!*numbers)
		abort();
	for (int i = 0; i < *n; i++)
		(*numbers)[i] = (int)store_col_ll(r, i, 0);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_pulls_open, "SELECT number FROM pull_requests WHERE project_id = $1 AND state = 'open' ORDER BY number");

int store_pulls_open_numbers(int **numbers, int *n, struct db *db, long long project_id, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_pulls_open, 1, v, e);
	return rc ? rc : numbers_of(numbers, n, r);
}

DB_STMT(stmt_pulls_by_sha,
	"SELECT number FROM pull_requests WHERE project_id = $1 AND head_sha = $2 AND state = 'open' ORDER BY number");

int store_pulls_by_sha(int **numbers, int *n, struct db *db, long long project_id, const char *sha, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid, sha };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_pulls_by_sha, 2, v, e);
	return rc ? rc : numbers_of(numbers, n, r);
}

DB_STMT(stmt_pull_touch,
	"UPDATE pull_requests SET refreshed_at = now(), etag = coalesce($3, etag) WHERE project_id = $1 AND number = $2");

int store_pull_touch(struct db *db, long long project_id, int number, const char *etag, struct err *e)
{
	char pid[24], num[16];
	LL(pid, project_id);
	LL(num, number);
	const char *v[] = { pid, num, etag };
	return exec_only(db, &stmt_pull_touch, 3, v, e);
}

DB_STMT(stmt_pull_checks,
	"UPDATE pull_requests SET checks_sha = $3, checks_state = $4, checks = $5::jsonb, status_etag = $6,"
	" runs_etag = $7 WHERE project_id = $1 AND number = $2");

int store_pull_set_checks(struct db *db, long long project_id, int number, const char *sha, const char *state,
			  const char *checks_json, const char *status_etag, const char *runs_etag, struct err *e)
{
	char pid[24], num[16];
	LL(pid, project_id);
	LL(num, number);
	const char *v[] = { pid, num, sha, state, checks_json ? checks_json : "[]", status_etag, runs_etag };
	return exec_only(db, &stmt_pull_checks, 7, v, e);
}

DB_STMT(stmt_pull_files,
	"UPDATE pull_requests SET files_sha = $3, files = $4::jsonb, files_etag = $5 WHERE project_id = $1 AND number = $2");

int store_pull_set_files(struct db *db, long long project_id, int number, const char *sha, const char *files_json,
			 const char *etag, struct err *e)
{
	char pid[24], num[16];
	LL(pid, project_id);
	LL(num, number);
	const char *v[] = { pid, num, sha, files_json, etag };
	return exec_only(db, &stmt_pull_files, 5, v, e);
}

DB_STMT(stmt_pulls_forget, "WITH a AS (DELETE FROM pull_requests WHERE project_id = $1)"
			   " DELETE FROM pull_settings WHERE project_id = $1");

int store_pulls_forget(struct db *db, long long project_id, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid };
	return exec_only(db, &stmt_pulls_forget, 1, v, e);
}

/* ---------------------------------------------------------------- settings */

void store_pull_settings_free(struct pull_settings *s)
{
	free(s->repo_etag);
	free(s->list_etag);
	s->repo_etag = s->list_etag = NULL;
}

DB_STMT(stmt_settings_get,
	"SELECT allow_merge, allow_squash, allow_rebase, delete_on_merge, repo_etag, list_etag,"
	" coalesce(extract(epoch FROM now() - repo_refreshed_at)::bigint, -1),"
	" coalesce(extract(epoch FROM now() - list_refreshed_at)::bigint, -1)"
	" FROM pull_settings WHERE project_id = $1");

int store_pull_settings_get(struct pull_settings *out, struct db *db, long long project_id, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid };
	PGresult *r;
	memset(out, 0, sizeof *out);
	out->allow_merge = out->allow_squash = out->allow_rebase = 1;
	out->repo_age = out->list_age = -1;
	int rc = db_query(&r, db, &stmt_settings_get, 1, v, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1) {
		out->allow_merge = col_bool(r, 0, 0);
		out->allow_squash = col_bool(r, 0, 1);
		out->allow_rebase = col_bool(r, 0, 2);
		out->delete_on_merge = col_bool(r, 0, 3);
		out->repo_etag = store_col(r, 0, 4);
		out->list_etag = store_col(r, 0, 5);
		out->repo_age = store_col_ll(r, 0, 6);
		out->list_age = store_col_ll(r, 0, 7);
	}
	PQclear(r);
	return 0;
}

DB_STMT(stmt_settings_repo,
	"INSERT INTO pull_settings (project_id, allow_merge, allow_squash, allow_rebase, delete_on_merge, repo_etag,"
	" repo_refreshed_at) VALUES ($1, $2, $3, $4, $5, $6, now())"
	" ON CONFLICT (project_id) DO UPDATE SET allow_merge = EXCLUDED.allow_merge,"
	"  allow_squash = EXCLUDED.allow_squash, allow_rebase = EXCLUDED.allow_rebase,"
	"  delete_on_merge = EXCLUDED.delete_on_merge, repo_etag = EXCLUDED.repo_etag, repo_refreshed_at = now()");

int store_pull_settings_put_repo(struct db *db, long long project_id, int allow_merge, int allow_squash,
				 int allow_rebase, int delete_on_merge, const char *etag, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid, allow_merge ? "t" : "f", allow_squash ? "t" : "f", allow_rebase ? "t" : "f",
			    delete_on_merge ? "t" : "f", etag };
	return exec_only(db, &stmt_settings_repo, 6, v, e);
}

DB_STMT(stmt_settings_touch_repo, "UPDATE pull_settings SET repo_refreshed_at = now() WHERE project_id = $1");

int store_pull_settings_touch_repo(struct db *db, long long project_id, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid };
	return exec_only(db, &stmt_settings_touch_repo, 1, v, e);
}

DB_STMT(stmt_settings_list,
	"INSERT INTO pull_settings (project_id, list_etag, list_refreshed_at) VALUES ($1, $2, now())"
	" ON CONFLICT (project_id) DO UPDATE SET list_etag = coalesce(EXCLUDED.list_etag, pull_settings.list_etag),"
	"  list_refreshed_at = now()");

int store_pull_settings_put_list(struct db *db, long long project_id, const char *etag, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid, etag };
	return exec_only(db, &stmt_settings_list, 2, v, e);
}

/* ---------------------------------------------------------------- webhooks */

#define HOOK_COLS "project_id, coalesce(hook_id, 0), repo_owner, repo_name, secret_sealed, url, status, last_error," \
	" " TS("last_delivery_at")

static void webhook_from(struct webhook *w, PGresult *r, int row)
{
	memset(w, 0, sizeof *w);
	w->project_id = store_col_ll(r, row, 0);
	w->hook_id = store_col_ll(r, row, 1);
	w->repo_owner = store_col(r, row, 2);
	w->repo_name = store_col(r, row, 3);
	w->secret_sealed = store_col(r, row, 4);
	w->url = store_col(r, row, 5);
	w->status = store_col(r, row, 6);
	w->last_error = store_col(r, row, 7);
	w->last_delivery_at = store_col(r, row, 8);
}

void store_webhook_free(struct webhook *w)
{
	if (!w)
		return;
	free(w->repo_owner);
	free(w->repo_name);
	free(w->secret_sealed);
	free(w->url);
	free(w->status);
	free(w->last_error);
	free(w->last_delivery_at);
	memset(w, 0, sizeof *w);
}

void store_webhooks_free(struct webhook *rows, int n)
{
	for (int i = 0; i < n; i++)
		store_webhook_free(&rows[i]);
	free(rows);
}

static int webhook_one(struct webhook *out, PGresult *r, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "This project has no webhook.");
	}
	webhook_from(out, r, 0);
	PQclear(r);
	return 0;
}

static int webhook_rows(struct webhook **rows, int *n, PGresult *r)
{
	*n = PQntuples(r);
	*rows = calloc((size_t)*n + 1, sizeof **rows);
	if (!*rows)
		abort();
	for (int i = 0; i < *n; i++)
		webhook_from(&(*rows)[i], r, i);
	PQclear(r);
	return 0;
}

/* A row for another repository (a disconnect whose cleanup has not run) starts over. */
DB_STMT(stmt_webhook_prepare,
	"INSERT INTO webhooks (project_id, repo_owner, repo_name, url, secret_sealed) VALUES ($1, $2, $3, $4, $5)"
	" ON CONFLICT (project_id) DO UPDATE SET repo_owner = EXCLUDED.repo_owner, repo_name = EXCLUDED.repo_name,"
	"  url = EXCLUDED.url, secret_sealed = EXCLUDED.secret_sealed, hook_id = NULL, status = 'pending',"
	"  last_error = NULL, updated_at = now()"
	" WHERE lower(webhooks.repo_owner) <> lower(EXCLUDED.repo_owner)"
	"  OR lower(webhooks.repo_name) <> lower(EXCLUDED.repo_name) OR webhooks.url <> EXCLUDED.url");
DB_STMT(stmt_webhook_get, "SELECT " HOOK_COLS " FROM webhooks WHERE project_id = $1");

int store_webhook_prepare(struct webhook *out, struct db *db, long long project_id, const char *owner,
			  const char *name, const char *url, const char *secret_sealed, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid, owner, name, url, secret_sealed };
	int rc = exec_only(db, &stmt_webhook_prepare, 5, v, e);
	return rc ? rc : store_webhook_get(out, db, project_id, e);
}

int store_webhook_get(struct webhook *out, struct db *db, long long project_id, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_webhook_get, 1, v, e);
	return rc ? rc : webhook_one(out, r, e);
}

DB_STMT(stmt_webhook_set,
	"UPDATE webhooks SET hook_id = nullif($2::bigint, 0), status = $3, last_error = $4, updated_at = now()"
	" WHERE project_id = $1");

int store_webhook_set(struct db *db, long long project_id, long long hook_id, const char *status, const char *error,
		      struct err *e)
{
	char pid[24], hid[24];
	LL(pid, project_id);
	LL(hid, hook_id);
	const char *v[] = { pid, hid, status, error };
	return exec_only(db, &stmt_webhook_set, 4, v, e);
}

DB_STMT(stmt_webhook_secret, "UPDATE webhooks SET secret_sealed = $2, updated_at = now() WHERE project_id = $1");

int store_webhook_set_secret(struct db *db, long long project_id, const char *secret_sealed, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid, secret_sealed };
	return exec_only(db, &stmt_webhook_secret, 2, v, e);
}

DB_STMT(stmt_webhook_delete, "DELETE FROM webhooks WHERE project_id = $1");

int store_webhook_delete(struct db *db, long long project_id, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid };
	return exec_only(db, &stmt_webhook_delete, 1, v, e);
}

DB_STMT(stmt_webhooks_by_hook, "SELECT " HOOK_COLS " FROM webhooks WHERE hook_id = $1 ORDER BY project_id");

int store_webhooks_by_hook(struct webhook **rows, int *n, struct db *db, long long hook_id, struct err *e)
{
	char hid[24];
	LL(hid, hook_id);
	const char *v[] = { hid };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_webhooks_by_hook, 1, v, e);
	return rc ? rc : webhook_rows(rows, n, r);
}

/* By GitHub's id where both the delivery and the project know it (a renamed or moved repository keeps
 * it; a new one under an old name does not), by name otherwise. */
DB_STMT(stmt_webhooks_by_repo,
	"SELECT " HOOK_COLS " FROM webhooks LEFT JOIN LATERAL (SELECT coalesce(workspace_repo_id, 0) AS rid"
	" FROM projects WHERE projects.id = webhooks.project_id) p ON true"
	" WHERE CASE WHEN $3::bigint <> 0 AND coalesce(p.rid, 0) <> 0 THEN p.rid = $3::bigint"
	" ELSE lower(repo_owner) = lower($1) AND lower(repo_name) = lower($2) END"
	" ORDER BY project_id");

int store_webhooks_by_repo(struct webhook **rows, int *n, struct db *db, long long repo_id, const char *owner,
			   const char *name, struct err *e)
{
	char rid[24];
	LL(rid, repo_id);
	const char *v[] = { owner, name, rid };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_webhooks_by_repo, 3, v, e);
	return rc ? rc : webhook_rows(rows, n, r);
}

DB_STMT(stmt_webhook_delivered,
	"UPDATE webhooks SET last_delivery_at = now(), status = CASE WHEN hook_id IS NULL THEN status ELSE 'active' END"
	" WHERE project_id = $1");

int store_webhook_delivered(struct db *db, long long project_id, struct err *e)
{
	char pid[24];
	LL(pid, project_id);
	const char *v[] = { pid };
	return exec_only(db, &stmt_webhook_delivered, 1, v, e);
}

/* ---------------------------------------------------------------- deliveries */

void store_delivery_free(struct delivery *d)
{
	if (!d)
		return;
	char **s[] = { &d->delivery_id, &d->event, &d->action, &d->repo_owner, &d->repo_name, &d->outcome,
		       &d->detail, &d->payload, &d->received_at };
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
}

DB_STMT(stmt_delivery_insert,
	"INSERT INTO webhook_deliveries (delivery_id, event, action, hook_id, repo_owner, repo_name, payload)"
	" VALUES ($1, $2, $3, nullif($4::bigint, 0), $5, $6, $7::jsonb) ON CONFLICT (delivery_id) DO NOTHING RETURNING id");

int store_delivery_insert(long long *id, struct db *db, const char *delivery_id, const char *event,
			  const char *action, long long hook_id, const char *owner, const char *name,
			  const char *payload_json, struct err *e)
{
	char hid[24];
	LL(hid, hook_id);
	const char *v[] = { delivery_id, event, action, hid, owner, name, payload_json ? payload_json : "{}" };
	PGresult *r;
	*id = 0;
	int rc = db_query(&r, db, &stmt_delivery_insert, 7, v, e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1)
		*id = store_col_ll(r, 0, 0);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_delivery_job, "UPDATE webhook_deliveries SET job_id = $2 WHERE id = $1");

int store_delivery_set_job(struct db *db, long long id, long long job_id, struct err *e)
{
	char i[24], j[24];
	LL(i, id);
	LL(j, job_id);
	const char *v[] = { i, j };
	return exec_only(db, &stmt_delivery_job, 2, v, e);
}

DB_STMT(stmt_delivery_get,
	"SELECT id, coalesce(hook_id, 0), coalesce(job_id, 0), delivery_id, event, action, repo_owner, repo_name,"
	" outcome, detail, payload::text, " TS("received_at") " FROM webhook_deliveries WHERE id = $1");

int store_delivery_get(struct delivery *out, struct db *db, long long id, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *v[] = { i };
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_delivery_get, 1, v, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "There is no delivery %lld.", id);
	}
	int c = 0;
	out->id = store_col_ll(r, 0, c++);
	out->hook_id = store_col_ll(r, 0, c++);
	out->job_id = store_col_ll(r, 0, c++);
	out->delivery_id = store_col(r, 0, c++);
	out->event = store_col(r, 0, c++);
	out->action = store_col(r, 0, c++);
	out->repo_owner = store_col(r, 0, c++);
	out->repo_name = store_col(r, 0, c++);
	out->outcome = store_col(r, 0, c++);
	out->detail = store_col(r, 0, c++);
	out->payload = store_col(r, 0, c++);
	out->received_at = store_col(r, 0, c++);
	PQclear(r);
	return 0;
}

DB_STMT(stmt_delivery_finish,
	"UPDATE webhook_deliveries SET outcome = $2, detail = $3, processed_at = now() WHERE id = $1");

int store_delivery_finish(struct db *db, long long id, const char *outcome, const char *detail, struct err *e)
{
	char i[24];
	LL(i, id);
	const char *v[] = { i, outcome, detail };
	return exec_only(db, &stmt_delivery_finish, 3, v, e);
}

DB_STMT(stmt_deliveries_prune,
	"DELETE FROM webhook_deliveries WHERE received_at < now() - make_interval(days => $1::int)");

int store_deliveries_prune(struct db *db, int days, struct err *e)
{
	char d[16];
	LL(d, days);
	const char *v[] = { d };
	return exec_only(db, &stmt_deliveries_prune, 1, v, e);
}
