/* service/ops.h: what operators do: pause and resume syncing, sync everything now, record audit events. No HTTP. */
#ifndef GHB_SERVICE_OPS_H
#define GHB_SERVICE_OPS_H

#include "store/ops.h"

/* Pauses syncing for one project, or the whole service (project_id 0): the sync, poll and pull
 * request jobs concerned stay queued (store/jobs.c's claim skips them), and a running one finishes.
 * Records sync.paused. ERR_NOTFOUND for no such project; ERR_INVALID for a reason over 500 bytes. */
int ops_pause(struct db *db, long long project_id, const char *reason, struct err *e);
/* Lifts that pause (not the service's when a project is named); *was says whether there was one.
 * Queued work runs at once. Records sync.resumed. */
int ops_resume(int *was, struct db *db, long long project_id, struct err *e);
/* Enqueues a manual sync of every connected project (coalescing with waiting ones, up to 100,000);
 * *n = how many. Records sync.all_requested. Paused projects' jobs wait like any other. */
int ops_sync_all(long long *n, struct db *db, struct err *e);

/* The user-facing sentence for a pause ("Syncing is paused by an operator ..."), into buf. */
void ops_pause_message(char *buf, size_t size, const struct sync_pause *p);

/* Runs the retention pass: finished jobs past jobs_keep_days, sync history and handled webhook
 * deliveries past history_keep_days, audit rows past audit_keep_days (through audit_events_purge),
 * ended or expired sessions and expired OAuth states; each in batches of at most `batch` rows, so no statement holds locks long.
 * *deleted = rows removed in total. */
int ops_retention(long long *deleted, struct db *db, int batch, struct err *e);
/* What ops_retention would delete now, table by table in its order, deleting nothing (purge --dry-run):
 * out[i].rows = -1 for a table its setting keeps for ever (keep days 0). *n = tables (OPS_RETENTION_TABLES).
 * Each out[i] is the caller's (store_purge_plan_free). One pass deletes at most 200 batches per table
 * (jobs: 5,000 rows a batch, the others `batch`); the count is every row due, which later passes finish. */
#define OPS_RETENTION_TABLES 6
int ops_retention_plan(struct purge_plan out[OPS_RETENTION_TABLES], size_t *n, struct db *db, struct err *e);

/* The audit log from the services. A change and its event go in one transaction:
 *     int rc = db_begin(db, e);
 *     if (rc == 0) rc = <the change>;
 *     rc = ops_audit_commit(db, rc, "project.renamed", "project", id, project_id, details, e);
 * With rc == 0 it appends the event (actor from db_actor) and commits, so both or neither are
 * kept; with rc != 0 it rolls back and returns rc untouched (a failed action writes no success
 * row). Never call it inside another transaction (db_begin does not nest). details: JSON object
 * text or NULL; never a secret. target_id may be NULL. */
int ops_audit_commit(struct db *db, int rc, const char *action, const char *target_type, const char *target_id,
		     long long project_id, const char *details, struct err *e);
/* An event that goes with no change (a refusal, a sign-out of a session already gone): its own
 * statement. A failure is logged, never returned: the refusal stands either way. */
void ops_audit_note(struct db *db, const char *action, const char *target_type, const char *target_id,
		    long long project_id, const char *outcome, const char *details);
/* {"key":"value"} for details, value JSON-escaped, into buf (cut short values stay valid JSON). */
const char *ops_audit_kv(char *buf, size_t size, const char *key, const char *value);
/* {"key":{"old":…,"new":…}} into buf ({} when it does not fit). */
const char *ops_audit_old_new(char *buf, size_t size, const char *key, const char *old, const char *new_);

#endif
