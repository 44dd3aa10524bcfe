/* store/ops.h: the operators' tables: sync pauses (sync_pauses) and the audit log (audit_events), sql/016_ops.sql. */
#ifndef GHB_STORE_OPS_H
#define GHB_STORE_OPS_H

#include <stddef.h>
#include "core/err.h"
#include "store/db.h"

/* Who acts, for the audit log. The web layer fills one per request from the session or API key
 * and the request's headers and hands it to the database handle (db_actor_set), so the services
 * below it record it without knowing HTTP or taking one more parameter each; the worker and the
 * command line leave it unset, which the log records as 'system'. Strings are borrowed. */
struct actor {
	const char *type;            /* "user", "api_key" or "system" */
	long long user_id;           /* 0 for system */
	const char *login;
	const char *key_id;          /* an API key's public id, never its secret */
	const char *ip, *user_agent, *request_id;
};

/* A pause row: project_id 0 is the whole service. */
struct sync_pause {
	long long project_id;
	char *paused_by, *reason, *paused_at;
};
void store_pause_free(struct sync_pause *p);
void store_pauses_free(struct sync_pause *rows, size_t n);

/* Pauses (insert or keep the first pause's time: a second pause changes nothing but the reason).
 * ERR_NOTFOUND for a project that does not exist. */
int store_pause_set(struct db *db, long long project_id, const char *by, const char *reason, struct err *e);
/* Removes the pause and wakes the workers (NOTIFY ghbridge_jobs); *was = 1 when there was one. */
int store_pause_clear(int *was, struct db *db, long long project_id, struct err *e);
/* The pause that holds project_id back: its own, else the service's (project_id 0 asks only for the
 * service's). *found = 0 when none; out is filled only when found. */
int store_pause_get(struct sync_pause *out, int *found, struct db *db, long long project_id, struct err *e);
/* Every pause, the service's first. */
int store_pause_list(struct sync_pause **out, size_t *n, struct db *db, struct err *e);
/* Ids of every project with a repository linked (for "sync all now"), up to max. */
int store_projects_connected(long long **ids, size_t *n, struct db *db, size_t max, struct err *e);

/* The audit log. */
struct audit_event {
	long long id;
	char *at, *actor_type, *actor_login, *actor_key, *action, *target_type, *target_id, *outcome, *ip,
		*user_agent, *request_id, *details;
	long long actor_user_id, project_id;
};
void store_audit_rows_free(struct audit_event *rows, size_t n);

/* Appends one event with the handle's actor (db_actor; none = system). details: a JSON object's
 * text or NULL. Runs in whatever transaction the caller has open, which is the point: the event
 * commits or rolls back with the change it records. outcome: success, failure or refused. */
int store_audit_add(struct db *db, const char *action, const char *target_type, const char *target_id,
		    long long project_id, const char *outcome, const char *details, struct err *e);

struct audit_filter {
	const char *actor;           /* a login, an API key's public id, or "system"; NULL: any */
	long long actor_user_id;     /* 0: any (the account page passes the user) */
	const char *action;          /* exact, or a prefix ending in '.' ("project."); NULL: any */
	long long project_id;        /* 0: any */
	const char *since, *until;   /* timestamptz text; NULL: open */
	long long before_id;         /* cursor: rows with id < before_id; 0: from the newest */
	int limit;                   /* 1..1000 */
};
/* Newest first. */
int store_audit_list(struct audit_event **out, size_t *n, struct db *db, const struct audit_filter *f,
		     struct err *e);
/* Through audit_events_purge (the only way rows go): up to max_rows older than keep_days. */
int store_audit_purge(int *n, struct db *db, int keep_days, int max_rows, struct err *e);
/* One retention batch of table: sync_history and webhook_deliveries (keep_days), sessions
 * (expired, or ended 30 days ago), oauth_states (expired); *n = rows deleted. ERR_INVALID for
 * another table. */
int store_ops_purge(int *n, struct db *db, const char *table, int keep_days, int max_rows, struct err *e);

/* Worker heartbeats (sql/022): one row per worker process. */
struct worker_beat {
	char *host, *started_at, *last_seen_at, *job_kind;
	int pid;
	long long job_id;            /* 0: none in hand at the last beat */
	long seen_ago_s;             /* seconds since the last beat */
};
void store_workers_free(struct worker_beat *rows, size_t n);
/* Upserts this process's row: started (epoch seconds), the job in hand (0 and NULL: none). */
int store_worker_beat(struct db *db, const char *host, int pid, long long started, long long job_id, const char *job_kind,
		      struct err *e);
/* Deletes this process's row (a clean stop). */
int store_worker_gone(struct db *db, const char *host, int pid, struct err *e);
/* Deletes rows not seen for older_s seconds; *n = how many. */
int store_workers_prune(int *n, struct db *db, long older_s, struct err *e);
/* Rows seen in the last within_s seconds, the most recently started first. */
int store_workers_list(struct worker_beat **out, size_t *n, struct db *db, long within_s, struct err *e);

/* What the retention pass would delete now, per table: rows, oldest and newest (ISO 8601 UTC, NULL when
 * none), without deleting (purge --dry-run). */
struct purge_plan {
	const char *table;           /* static */
	long long rows;
	char *oldest, *newest;
	int keep_days;               /* the setting that applies; 0 for sessions and oauth_states */
};
/* table: jobs, sync_history, audit_events, webhook_deliveries, sessions or oauth_states; the same
 * conditions as the purge statements (store_job_purge, store_audit_purge, store_ops_purge). */
int store_purge_plan(struct purge_plan *out, struct db *db, const char *table, int keep_days, struct err *e);
void store_purge_plan_free(struct purge_plan *p);

#endif
