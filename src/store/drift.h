/* store/drift.h: SQL for the periodic drift check's state, "members are authoritative", and the log of collaborator
 * calls (020_member_drift.sql). */
#ifndef GHB_STORE_DRIFT_H
#define GHB_STORE_DRIFT_H

#include "store/db.h"

/* GitHub's last answers for one project's drift check. Strings are the caller's (store_drift_state_free);
 * NULL when absent. personal: 1 a personal account's repository, 0 an organisation's, -1 unknown. */
struct drift_state {
	char *repo, *all_etag, *all_body, *direct_etag, *direct_body, *inv_etag, *inv_body;
	char *checked_at, *next_at, *last_result;
	int personal;
};
void store_drift_state_free(struct drift_state *s);
/* ERR_NOTFOUND when the project has had no check (out is zeroed, personal -1). */
int store_drift_state_get(struct drift_state *out, struct db *db, long long project_id, struct err *e);
/* Writes s as the project's state, checked now, next check interval_s seconds from now. */
int store_drift_state_put(struct db *db, long long project_id, const struct drift_state *s, long interval_s,
			  struct err *e);
/* A check that could not finish says why (last_result), keeping GitHub's last answers and their ETags. */
int store_drift_state_note(struct db *db, long long project_id, const char *result, long interval_s, struct err *e);
/* The worker's sweep: connected projects without a state row get one, due within interval_s from now (between half
 * of it and all of it, at random, so that projects seen at once, as after an upgrade, do not all come due at once); up to limit projects whose check is due are
 * moved interval_s on and returned in *ids (caller frees). Concurrent sweeps never return the same project. */
int store_drift_sweep(long long **ids, int *n, struct db *db, long interval_s, int limit, struct err *e);

/* The project's "members are authoritative" setting (projects.members_authoritative). ERR_NOTFOUND. */
int store_members_authoritative(int *on, struct db *db, long long project_id, struct err *e);
int store_members_set_authoritative(struct db *db, long long project_id, int on, struct err *e);

/* One collaborator call as the log holds it (member_ops). */
struct member_op {
	long long id, project_id, job_id;
	char *login, *action, *request, *state, *answer, *job_kind, *job_payload, *created_at, *updated_at;
	int http_status;   /* 0: no answer */
	int attempts, unaccounted;
};
void store_member_ops_free(struct member_op *rows, int n);
/* Records (or updates: one row per job, action and login) a call's outcome. state: ok, retrying or failed.
 * http_status 0 is written as NULL; answer may be NULL. */
int store_member_op_note(struct db *db, long long project_id, long long job_id, const char *login, const char *action,
			 const char *request, const char *state, int http_status, const char *answer, int attempts,
			 const char *job_kind, const char *job_payload, int unaccounted, struct err *e);
/* Newest first, at most limit; failed_only: only those in state failed. */
int store_member_ops_list(struct member_op **rows, int *n, struct db *db, long long project_id, int failed_only,
			  int limit, struct err *e);
/* A failed row becomes retried, and *out gets the row (store_member_op_clear frees it). ERR_NOTFOUND when the
 * project has no such row, ERR_CONFLICT when it is not failed (never did, or someone retried it already); *out is
 * zeroed then. Call it inside the transaction that queues the job again. */
int store_member_op_take_failed(struct member_op *out, struct db *db, long long project_id, long long op_id,
				struct err *e);
void store_member_op_clear(struct member_op *op);

#endif
