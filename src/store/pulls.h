/* pulls.h: SQL for pull requests, per-project merge settings, repository webhooks and webhook deliveries. */
#ifndef GHB_STORE_PULLS_H
#define GHB_STORE_PULLS_H

#include "store/db.h"

/* A pull request as last seen on GitHub. Strings are owned (store_pull_free). */
struct pull {
	long long project_id, gh_id;
	int number;
	char *node_id, *title, *body, *state, *head_ref, *head_sha, *base_ref, *author, *html_url;
	int draft;
	int mergeable;                 /* 1, 0, or -1 when GitHub has not computed it */
	char *mergeable_state, *merged_by, *merge_commit_sha;
	int additions, deletions, changed_files, commits;
	char *checks_state, *checks, *checks_sha;  /* checks: JSON array text */
	char *etag, *status_etag, *runs_etag;
	char *files, *files_etag, *files_sha;      /* files: JSON array text or NULL */
	char *gh_created_at, *gh_updated_at, *closed_at, *merged_at, *refreshed_at; /* ISO 8601 UTC */
	long long refreshed_age;       /* seconds since refreshed_at */
};
void store_pull_free(struct pull *p);
void store_pulls_free(struct pull *rows, int n);

/* Inserts or updates from GitHub's view (checks, files and their ETags are left alone). An update
 * whose gh_updated_at is older than the stored one changes nothing: *applied = 0 then. */
int store_pull_upsert(int *applied, struct db *db, const struct pull *p, struct err *e);
int store_pull_get(struct pull *out, struct db *db, long long project_id, int number, struct err *e);
/* state: "open", "closed", "merged" or "all"; head NULL = any. Newest number first. */
int store_pulls_list(struct pull **rows, int *n, struct db *db, long long project_id, const char *state,
		     const char *head, int limit, int offset, struct err *e);
/* Numbers of the stored open pull requests (array caller frees). */
int store_pulls_open_numbers(int **numbers, int *n, struct db *db, long long project_id, struct err *e);
/* Open pull requests whose head is sha (status and check events name a commit). */
int store_pulls_by_sha(int **numbers, int *n, struct db *db, long long project_id, const char *sha, struct err *e);
/* A 304: nothing changed, the row is fresh. etag NULL keeps the old one. */
int store_pull_touch(struct db *db, long long project_id, int number, const char *etag, struct err *e);
int store_pull_set_checks(struct db *db, long long project_id, int number, const char *sha, const char *state,
			  const char *checks_json, const char *status_etag, const char *runs_etag, struct err *e);
int store_pull_set_files(struct db *db, long long project_id, int number, const char *sha, const char *files_json,
			 const char *etag, struct err *e);
/* All of a project's pull requests and settings go when its repository does. */
int store_pulls_forget(struct db *db, long long project_id, struct err *e);

struct pull_settings {
	int allow_merge, allow_squash, allow_rebase, delete_on_merge;
	char *repo_etag, *list_etag;
	long long repo_age, list_age;  /* seconds since the last refresh; -1 never */
};
void store_pull_settings_free(struct pull_settings *s);
/* Defaults (all methods allowed, never refreshed) when the project has no row yet. */
int store_pull_settings_get(struct pull_settings *out, struct db *db, long long project_id, struct err *e);
int store_pull_settings_put_repo(struct db *db, long long project_id, int allow_merge, int allow_squash,
				 int allow_rebase, int delete_on_merge, const char *etag, struct err *e);
int store_pull_settings_touch_repo(struct db *db, long long project_id, struct err *e);
int store_pull_settings_put_list(struct db *db, long long project_id, const char *etag, struct err *e);

/* ---------------------------------------------------------------- webhooks */

struct webhook {
	long long project_id, hook_id;   /* hook_id 0: not registered yet */
	char *repo_owner, *repo_name, *secret_sealed, *url, *status, *last_error, *last_delivery_at;
};
void store_webhook_free(struct webhook *w);
void store_webhooks_free(struct webhook *rows, int n);

/* Creates the row for (project, repository) with this sealed secret, or keeps the existing one
 * when it is for the same repository (so a retried registration keeps its secret). */
int store_webhook_prepare(struct webhook *out, struct db *db, long long project_id, const char *owner,
			  const char *name, const char *url, const char *secret_sealed, struct err *e);
int store_webhook_get(struct webhook *out, struct db *db, long long project_id, struct err *e);
int store_webhook_set(struct db *db, long long project_id, long long hook_id, const char *status, const char *error,
		      struct err *e);
int store_webhook_set_secret(struct db *db, long long project_id, const char *secret_sealed, struct err *e);
int store_webhook_delete(struct db *db, long long project_id, struct err *e);
/* The rows a delivery may belong to: by GitHub's hook id, or by repository: GitHub's repository id for
 * projects that know theirs (repo_id != 0), the name (case-insensitive) for those that do not. */
int store_webhooks_by_hook(struct webhook **rows, int *n, struct db *db, long long hook_id, struct err *e);
int store_webhooks_by_repo(struct webhook **rows, int *n, struct db *db, long long repo_id, const char *owner,
			   const char *name, struct err *e);
int store_webhook_delivered(struct db *db, long long project_id, struct err *e);

/* ---------------------------------------------------------------- deliveries */

struct delivery {
	long long id, hook_id, job_id;
	char *delivery_id, *event, *action, *repo_owner, *repo_name, *outcome, *detail, *payload, *received_at;
};
void store_delivery_free(struct delivery *d);
/* *id = 0 when delivery_id was seen before (nothing inserted). */
int store_delivery_insert(long long *id, struct db *db, const char *delivery_id, const char *event,
			  const char *action, long long hook_id, const char *owner, const char *name,
			  const char *payload_json, struct err *e);
int store_delivery_set_job(struct db *db, long long id, long long job_id, struct err *e);
int store_delivery_get(struct delivery *out, struct db *db, long long id, struct err *e);
int store_delivery_finish(struct db *db, long long id, const char *outcome, const char *detail, struct err *e);
/* Forgets deliveries older than days (the ids only need to outlive GitHub's redelivery window). */
int store_deliveries_prune(struct db *db, int days, struct err *e);

#endif
