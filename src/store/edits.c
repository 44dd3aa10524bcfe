/* edits.c: SQL for project_edits and users.commit_email (sql/021). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/edits.h"
#include "store/users.h"

DB_STMT(stmt_edit_note,
	"INSERT INTO project_edits (project_id, user_id, path) VALUES ($1, $2, $3)"
	" ON CONFLICT (project_id, user_id, path) DO UPDATE SET seq = nextval('project_edits_seq'), at = now()");
/* A user's commit address as commits may use it: NULL (their no-reply address) when it is now known to be another
 * person's, which authorship_set_email refuses but can only check when it is saved: a no-reply address of
 * another GitHub id or login, or the address another user signed in with since (see authorship.h). */
#define COMMIT_EMAIL_OF(u) \
	"CASE WHEN " u ".commit_email ILIKE '%@users.noreply.github.com' AND NOT (" u ".commit_email LIKE " u \
	".github_id || '+%' OR lower(" u ".commit_email) = lower(" u ".login) || '@users.noreply.github.com')" \
	" OR EXISTS (SELECT 1 FROM users o WHERE o.id <> " u ".id AND lower(o.email) = lower(" u ".commit_email))" \
	" THEN NULL ELSE " u ".commit_email END"
DB_STMT(stmt_edits_list,
	"SELECT e.user_id, u.github_id, e.seq, u.login, " COMMIT_EMAIL_OF("u") ", e.path FROM project_edits e"
	" JOIN users u ON u.id = e.user_id WHERE e.project_id = $1 ORDER BY e.seq LIMIT 20000");
DB_STMT(stmt_edits_forget, "DELETE FROM project_edits WHERE project_id = $1 AND seq <= $2");
DB_STMT(stmt_commit_email, "SELECT " COMMIT_EMAIL_OF("users") " FROM users WHERE id = $1");
DB_STMT(stmt_set_commit_email, "UPDATE users SET commit_email = NULLIF($2, ''), updated_at = now() WHERE id = $1");
DB_STMT(stmt_email_of_other, "SELECT 1 FROM users WHERE id <> $1 AND lower(email) = lower($2) LIMIT 1");

int store_edit_note(struct db *db, long long project_id, long long user_id, const char *path, struct err *e)
{
	char pid[24], uid[24];
	snprintf(pid, sizeof pid, "%lld", project_id);
	snprintf(uid, sizeof uid, "%lld", user_id);
	const char *p[] = { pid, uid, path };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_edit_note, 3, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

int store_edits_list(struct edit_row **rows, int *n, long long *max_seq, struct db *db, long long project_id,
		     struct err *e)
{
	*rows = NULL;
	*n = 0;
	*max_seq = 0;
	char pid[24];
	snprintf(pid, sizeof pid, "%lld", project_id);
	const char *p[] = { pid };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_edits_list, 1, p, e);
	if (rc)
		return rc;
	int k = PQntuples(r);
	if (k > 0) {
		*rows = calloc((size_t)k, sizeof **rows);
		if (!*rows)
			abort();
	}
	for (int i = 0; i < k; i++) {
		struct edit_row *x = &(*rows)[i];
		x->user_id = store_col_ll(r, i, 0);
		x->github_id = store_col_ll(r, i, 1);
		x->seq = store_col_ll(r, i, 2);
		x->login = store_col(r, i, 3);
		x->commit_email = store_col(r, i, 4);
		x->path = store_col(r, i, 5);
		if (x->seq > *max_seq)
			*max_seq = x->seq;
	}
	*n = k;
	PQclear(r);
	return 0;
}

void store_edits_free(struct edit_row *rows, int n)
{
	for (int i = 0; i < n; i++) {
		free(rows[i].login);
		free(rows[i].commit_email);
		free(rows[i].path);
	}
	free(rows);
}

int store_edits_forget(struct db *db, long long project_id, long long max_seq, struct err *e)
{
	char pid[24], seq[24];
	snprintf(pid, sizeof pid, "%lld", project_id);
	snprintf(seq, sizeof seq, "%lld", max_seq);
	const char *p[] = { pid, seq };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_edits_forget, 2, p, e);
	if (rc == 0)
		PQclear(r);
	return rc;
}

int store_user_commit_email(char **email, struct db *db, long long user_id, struct err *e)
{
	*email = NULL;
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", user_id);
	const char *p[] = { uid };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_commit_email, 1, p, e);
	if (rc)
		return rc;
	if (PQntuples(r) != 1)
		rc = err_set(e, ERR_NOTFOUND, "no such user");
	else
		*email = store_col(r, 0, 0);
	PQclear(r);
	return rc;
}

int store_user_set_commit_email(struct db *db, long long user_id, const char *email, struct err *e)
{
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", user_id);
	const char *p[] = { uid, email ? email : "" };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_set_commit_email, 2, p, e);
	if (rc)
		return rc;
	int changed = atoi(PQcmdTuples(r));
	PQclear(r);
	return changed == 1 ? 0 : err_set(e, ERR_NOTFOUND, "no such user");
}

int store_user_email_of_other(int *taken, struct db *db, long long user_id, const char *email, struct err *e)
{
	*taken = 0;
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", user_id);
	const char *p[] = { uid, email };
	PGresult *r;
	int rc = db_query(&r, db, &stmt_email_of_other, 2, p, e);
	if (rc)
		return rc;
	*taken = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}
