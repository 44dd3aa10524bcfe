/* edits.h: who made each pending change of a project (project_edits, sql/021) and members' commit addresses. */
#ifndef GHB_STORE_EDITS_H
#define GHB_STORE_EDITS_H

#include "store/db.h"

struct edit_row {
	long long user_id, github_id, seq;
	char *login, *commit_email;  /* commit_email NULL: GitHub's no-reply address */
	char *path;
};

/* Records (or moves on) "user_id changed path" for project_id. */
int store_edit_note(struct db *db, long long project_id, long long user_id, const char *path, struct err *e);
/* The project's edit rows, oldest first, at most STORE_EDITS_MAX; *max_seq the newest seq read (0 when none). */
#define STORE_EDITS_MAX 20000
int store_edits_list(struct edit_row **rows, int *n, long long *max_seq, struct db *db, long long project_id,
		     struct err *e);
void store_edits_free(struct edit_row *rows, int n);
/* Deletes the project's rows with seq <= max_seq (those a sync read; newer edits stay). */
int store_edits_forget(struct db *db, long long project_id, long long max_seq, struct err *e);

/* The user's chosen commit address (*email NULL when none: the no-reply address); NULL too when it is now known
 * to be another person's (another GitHub id's no-reply address, or the address another user signed in with since
 * it was chosen): store_edits_list's commit_email likewise. ERR_NOTFOUND. */
int store_user_commit_email(char **email, struct db *db, long long user_id, struct err *e);
/* email NULL or "": back to the no-reply address. */
int store_user_set_commit_email(struct db *db, long long user_id, const char *email, struct err *e);
/* *taken 1 when a user other than user_id has email (case-insensitively) as the address GitHub gave at sign-in
 * (users.email). ERR_DB. */
int store_user_email_of_other(int *taken, struct db *db, long long user_id, const char *email, struct err *e);

#endif
