/* users.h: the users table. */
#ifndef GHB_STORE_USERS_H
#define GHB_STORE_USERS_H

#include "store/db.h"

struct user {
	long long id;
	long long github_id;
	char *login, *name, *email, *avatar_url;
	int is_admin;
};

/* Inserts or updates by github_id; the first user ever becomes admin. A login another GitHub id still holds here
 * (renamed since) is freed first (sql/025 users_free_login). *out is zeroed first: store_user_free may be called
 * on it after a failure too (as after store_user_get and store_user_by_login). */
int store_user_upsert(struct user *out, struct db *db, long long github_id, const char *login, const char *name,
		      const char *email, const char *avatar_url, struct err *e);
int store_user_get(struct user *out, struct db *db, long long id, struct err *e);
/* Fills *u from the 7 columns of STORE_USER_COLS(t) starting at column col of a result row. */
void store_user_from(struct user *u, PGresult *r, int row, int col);
#define STORE_USER_COLS(t) t "id, " t "github_id, " t "login, " t "name, " t "email, " t "avatar_url, " t "is_admin"
int store_user_by_login(struct user *out, struct db *db, const char *login, struct err *e);
void store_user_free(struct user *u);

/* Helpers for store files: a column as a malloc'd string (NULL for SQL NULL). */
char *store_col(PGresult *r, int row, int col);
long long store_col_ll(PGresult *r, int row, int col);

#endif
