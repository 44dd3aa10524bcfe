/* service/ops.c: pause and resume syncing, "sync all now", the retention pass; each change with its audit row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/cfg.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "service/ops.h"
#include "store/jobs.h"
#include "store/projects.h"

static const char *actor_name(struct db *db)
{
	const struct actor *a = db_actor(db);
	if (!a || !a->type || strcmp(a->type, "system") == 0)
		return "system";
	if (a->key_id && strcmp(a->type, "api_key") == 0)
		return a->key_id;
	return a->login ? a->login : "?";
}

static void target_id(char *buf, size_t size, long long project_id)
{
	if (project_id)
		snprintf(buf, size, "%lld", project_id);
	else
		snprintf(buf, size, "service");
}

/* The change and its audit row commit together or not at all. */
static int finish(struct db *db, int rc, struct err *e)
{
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, e);
}

int ops_pause(struct db *db, long long project_id, const char *reason, struct err *e)
{
	if (project_id < 0)
		return err_set(e, ERR_NOTFOUND, "There is no such project.");
	if (reason && strlen(reason) > 500)
		return err_set(e, ERR_INVALID, "The reason is limited to 500 bytes.");
	int rc = db_begin(db, e);
	if (rc)
		return rc;
	rc = store_pause_set(db, project_id, actor_name(db), reason, e);
	if (rc == 0) {
		char tid[24];
		target_id(tid, sizeof tid, project_id);
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "reason", json_object_new_string(reason ? reason : ""));
		rc = store_audit_add(db, "sync.paused", project_id ? "project" : "service", tid, project_id, "success",
				     json_object_to_json_string(d), e);
		json_object_put(d);
	}
	return finish(db, rc, e);
}

int ops_resume(int *was, struct db *db, long long project_id, struct err *e)
{
	*was = 0;
	if (project_id < 0)
		return err_set(e, ERR_NOTFOUND, "There is no such project.");
	int rc = db_begin(db, e);
	if (rc)
		return rc;
	rc = store_pause_clear(was, db, project_id, e);
	if (rc == 0 && *was) {
		char tid[24];
		target_id(tid, sizeof tid, project_id);
		rc = store_audit_add(db, "sync.resumed", project_id ? "project" : "service", tid, project_id, "success",
				     NULL, e);
	}
	return finish(db, rc, e);
}

int ops_sync_all(long long *n, struct db *db, struct err *e)
{
	*n = 0;
	long long *ids = NULL;
	size_t nids = 0;
	int rc = store_projects_connected(&ids, &nids, db, 100000, e);
	if (rc)
		return rc;
	if ((rc = db_begin(db, e))) {
		free(ids);
		return rc;
	}
	/* The same job projects_sync_enqueue makes for "Sync now" (its key, its payload), so each
	 * coalesces with a sync already waiting for that project. */
	for (size_t i = 0; i < nids && rc == 0; i++) {
		char key[48];
		snprintf(key, sizeof key, "sync:%lld", ids[i]);
		struct jobs_enqueue_opts o = { .project_id = ids[i], .payload = "{\"trigger\":\"manual\"}",
					       .dedup_key = key };
		long long id;
		int coalesced;
		rc = jobs_enqueue(&id, &coalesced, db, "sync", &o, e);
		if (rc == 0)
			rc = store_project_mark_pending(db, ids[i], e);
		if (rc == 0)
			(*n)++;
	}
	free(ids);
	if (rc == 0) {
		char d[64];
		snprintf(d, sizeof d, "{\"projects\":%lld}", *n);
		rc = store_audit_add(db, "sync.all_requested", "service", "service", 0, "success", d, e);
	}
	return finish(db, rc, e);
}

void ops_pause_message(char *buf, size_t size, const struct sync_pause *p)
{
	snprintf(buf, size, "Syncing %s is paused by an operator since %s%s%s. Changes are kept and sync when it resumes.",
		 p->project_id ? "of this project" : "on this service", p->paused_at ? p->paused_at : "?",
		 p->reason && *p->reason ? ": " : "", p->reason && *p->reason ? p->reason : "");
}

/* Batches until one comes back short, with at most 200 batches per table per pass so one pass
 * cannot run for ever behind a flood; the next pass takes the rest. */
static int purge_table(long long *total, struct db *db, const char *table, int keep_days, int batch, struct err *e)
{
	for (int i = 0; i < 200; i++) {
		int n = 0, rc;
		if (strcmp(table, "jobs") == 0)
			rc = store_job_purge(&n, db, keep_days, e);
		else if (strcmp(table, "audit_events") == 0)
			rc = store_audit_purge(&n, db, keep_days, batch, e);
		else
			rc = store_ops_purge(&n, db, table, keep_days, batch, e);
		if (rc)
			return rc;
		*total += n;
		if (n < batch)
			break;
	}
	return 0;
}

/* The retention rules: a table and the setting that says how many days it keeps (0: sessions and OAuth
 * states, whose rule is fixed; for the others 0 keeps them for ever). */
struct rule {
	const char *table;
	long days;
};

static size_t retention_rules(struct rule out[6])
{
	const struct rule rules[] = {
		{ "jobs", cfg_long(CFG_JOBS_KEEP_DAYS) },
		{ "sync_history", cfg_long(CFG_HISTORY_KEEP_DAYS) },
		{ "audit_events", cfg_long(CFG_AUDIT_KEEP_DAYS) },
		{ "webhook_deliveries", cfg_long(CFG_HISTORY_KEEP_DAYS) },
		{ "sessions", 0 },
		{ "oauth_states", 0 },
	};
	memcpy(out, rules, sizeof rules);
	return sizeof rules / sizeof rules[0];
}

static int keeps_forever(const struct rule *r)
{
	return r->days <= 0 && strcmp(r->table, "sessions") != 0 && strcmp(r->table, "oauth_states") != 0;
}

int ops_retention(long long *deleted, struct db *db, int batch, struct err *e)
{
	*deleted = 0;
	if (batch < 1)
		batch = 1000;
	struct rule rules[6];
	size_t nr = retention_rules(rules);
	int rc = 0;
	for (size_t i = 0; i < nr; i++) {
		if (keeps_forever(&rules[i]))
			continue;
		long long n = 0;
		int r = purge_table(&n, db, rules[i].table, (int)rules[i].days, batch, e);
		if (r) {
			log_msg(LOG_WARN, "retention of %s: %s", rules[i].table, e->msg);
			rc = r;
			continue;
		}
		if (n > 0)
			log_msg(LOG_INFO, "retention: deleted %lld row(s) of %s", n, rules[i].table);
		*deleted += n;
	}
	return rc;
}

int ops_retention_plan(struct purge_plan out[OPS_RETENTION_TABLES], size_t *n, struct db *db, struct err *e)
{
	*n = 0;
	struct rule rules[6];
	size_t nr = retention_rules(rules);
	for (size_t i = 0; i < nr; i++) {
		if (keeps_forever(&rules[i])) {
			memset(&out[*n], 0, sizeof out[*n]);
			out[*n].table = rules[i].table;
			out[*n].rows = -1;
			(*n)++;
			continue;
		}
		int rc = store_purge_plan(&out[*n], db, rules[i].table, (int)rules[i].days, e);
		if (rc) {
			for (size_t j = 0; j < *n; j++)
				store_purge_plan_free(&out[j]);
			*n = 0;
			return rc;
		}
		(*n)++;
	}
	return 0;
}

int ops_audit_commit(struct db *db, int rc, const char *action, const char *target_type, const char *target_id,
		     long long project_id, const char *details, struct err *e)
{
	if (rc == 0)
		rc = store_audit_add(db, action, target_type, target_id, project_id, "success", details, e);
	return finish(db, rc, e);
}

void ops_audit_note(struct db *db, const char *action, const char *target_type, const char *target_id,
		    long long project_id, const char *outcome, const char *details)
{
	struct err e = { 0 };
	if (store_audit_add(db, action, target_type, target_id, project_id, outcome, details, &e) != 0)
		log_msg(LOG_WARN, "audit event %s not recorded: %s", action, e.msg);
}

const char *ops_audit_kv(char *buf, size_t size, const char *key, const char *value)
{
	struct json_object *o = json_object_new_object();
	char v[1024];
	snprintf(v, sizeof v, "%s", value ? value : "");
	/* Cut on a character boundary: json-c would escape a broken UTF-8 sequence oddly. */
	size_t n = strlen(v);
	if (n == sizeof v - 1) {
		while (n > 0 && ((unsigned char)v[n - 1] & 0xC0) == 0x80)
			n--;
		if (n > 0 && (unsigned char)v[n - 1] >= 0xC0)
			n--;
		v[n] = 0;
	}
	json_object_object_add(o, key, json_object_new_string(v));
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (strlen(t) < size)
		snprintf(buf, size, "%s", t);
	else
		snprintf(buf, size, "{}");
	json_object_put(o);
	return buf;
}

const char *ops_audit_old_new(char *buf, size_t size, const char *key, const char *old, const char *new_)
{
	struct json_object *o = json_object_new_object(), *c = json_object_new_object();
	json_object_object_add(c, "old", old ? json_object_new_string(old) : NULL);
	json_object_object_add(c, "new", new_ ? json_object_new_string(new_) : NULL);
	json_object_object_add(o, key, c);
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(buf, size, "%s", strlen(t) < size ? t : "{}");
	json_object_put(o);
	return buf;
}
