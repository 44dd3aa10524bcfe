/* users.c: SQL for users. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/users.h"

char *store_col(PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	char *s = strdup(PQgetvalue(r, row, col));
	if (!s)
		abort();
	return s;
}

long long store_col_ll(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

#define USER_COLS "id, github_id, login, name, email, avatar_url, is_admin"

void store_user_from(struct user *u, PGresult *r, int row, int col)
{
	u->id = store_col_ll(r, row, col);
	u->github_id = store_col_ll(r, row, col + 1);
	u->login = store_col(r, row, col + 2);
	u->name = store_col(r, row, col + 3);
	u->email = store_col(r, row, col + 4);
	u->avatar_url = store_col(r, row, col + 5);
	u->is_admin = PQgetvalue(r, row, col + 6)[0] == 't';
}

DB_STMT(stmt_user_upsert,
	"INSERT INTO users (github_id, login, name, email, avatar_url, is_admin)"
	" VALUES ($1, $2, $3, $4, $5, NOT EXISTS (SELECT 1 FROM users))"
	" ON CONFLICT (github_id) DO UPDATE SET login = EXCLUDED.login, name = EXCLUDED.name,"
	"  email = EXCLUDED.email, avatar_url = EXCLUDED.avatar_url, updated_at = now()"
	" RETURNING " USER_COLS);
DB_STMT(stmt_user_get, "SELECT " USER_COLS " FROM users WHERE id = $1");
DB_STMT(stmt_user_by_login, "SELECT " USER_COLS " FROM users WHERE lower(login) = lower($1)");

static int one_user(struct user *out, PGresult *r, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, ERR_NOTFOUND, "no such user");
	}
	store_user_from(out, r, 0, 0);
	PQclear(r);
	return 0;
}

int store_user_upsert(struct user *out, struct db *db, long long github_id, const char *login, const char *name,
		      const char *email, const char *avatar_url, struct err *e)
{
	char id[24];
	snprintf(id, sizeof id, "%lld", github_id);
	const char *p[] = { id, login, name, email, avatar_url };
	PGresult *r;
	memset(out, 0, sizeof *out); /* store_user_free-able whatever happens */
	int rc = db_query(&r, db, &stmt_user_upsert, 5, p, e);
	return rc ? rc : one_user(out, r, e);
}

int store_user_get(struct user *out, struct db *db, long long id, struct err *e)
{
	char ids[24];
	snprintf(ids, sizeof ids, "%lld", id);
	const char *p[] = { ids };
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_user_get, 1, p, e);
	return rc ? rc : one_user(out, r, e);
}

int store_user_by_login(struct user *out, struct db *db, const char *login, struct err *e)
{
	const char *p[] = { login };
	PGresult *r;
	memset(out, 0, sizeof *out);
	int rc = db_query(&r, db, &stmt_user_by_login, 1, p, e);
	return rc ? rc : one_user(out, r, e);
}

void store_user_free(struct user *u)
{
	free(u->login);
	free(u->name);
	free(u->email);
	free(u->avatar_url);
	memset(u, 0, sizeof *u);
}
