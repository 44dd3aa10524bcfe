/* store/ghrepos.h: SQL for the per-user cache of GitHub repositories a project can be linked to (007_connect_jobs.sql). */
#ifndef GHB_STORE_GHREPOS_H
#define GHB_STORE_GHREPOS_H

#include "store/db.h"

struct ghrepo {
	char *owner, *name, *full_name, *description, *default_branch, *html_url;
	int private_;
};
void store_ghrepo_free(struct ghrepo *r);

/* The list's state for one user. exists = 0 when it was never asked for. */
struct ghrepos_state {
	int exists;
	char *state;             /* refreshing, ready, failed ("failed" too when the refresh job died) */
	char *refreshed_at;      /* UTC text, NULL when GitHub was never read */
	long long age_seconds;   /* since refreshed_at; -1 when never */
	long long asked_seconds; /* since the last refresh was asked for */
	char *error, *error_code;
	int truncated;
	long long job_id;
	long long count;         /* rows cached */
	int changed;             /* ghbridge changed the repositories after the last refresh was asked for */
};
int store_ghrepos_state(struct ghrepos_state *out, struct db *db, long long user_id, struct err *e);
void store_ghrepos_state_free(struct ghrepos_state *s);

/* Marks the list refreshing (error cleared). Without force, *asked = 0 when a refresh was asked
 * for less than min_seconds ago and is still under way: nothing to do then. */
int store_ghrepos_ask(int *asked, struct db *db, long long user_id, int force, int min_seconds, struct err *e);
/* ghbridge changed the user's repositories on GitHub (created one): the list is stale. A user whose
 * list was never asked for has nothing to mark. */
int store_ghrepos_changed(struct db *db, long long user_id, struct err *e);
int store_ghrepos_set_job(struct db *db, long long user_id, long long job_id, struct err *e);
/* The refresh job's notes while it waits or retries (state stays refreshing), and its failure. */
int store_ghrepos_note(struct db *db, long long user_id, const char *state, const char *error, const char *error_code,
		       struct err *e);
/* Replaces the user's rows with repos_json ([{full_name, owner, name, description, private,
 * default_branch, html_url}], in order) and marks the list ready. In one transaction. */
int store_ghrepos_replace(struct db *db, long long user_id, const char *repos_json, int truncated, struct err *e);

/* Rows whose full name contains q (case-insensitive; "" for all), in order, from offset; up to limit. */
int store_ghrepos_page(struct ghrepo **rows, int *n, struct db *db, long long user_id, const char *q, int offset,
		       int limit, struct err *e);
void store_ghrepos_free(struct ghrepo *rows, int n);

#endif
