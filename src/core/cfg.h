/* cfg.h: effective configuration from defaults, an optional key=value file and GHBRIDGE_* variables. */
#ifndef GHB_CONFIG_H
#define GHB_CONFIG_H

#include "core/err.h"

/* One row per setting in config.c's table; the enum indexes it. */
enum cfg_key {
	CFG_DATABASE_URL,
	CFG_LISTEN,
	CFG_PROCESSES,
	CFG_DATA_DIR,
	CFG_TEMPLATES_DIR,
	CFG_STATIC_DIR,
	CFG_SQL_DIR,
	CFG_PUBLIC_URL,
	CFG_GITHUB_WEB_URL,
	CFG_GITHUB_API_URL,
	CFG_GITHUB_CLIENT_ID,
	CFG_GITHUB_CLIENT_SECRET,
	CFG_GITHUB_APP_KIND,
	CFG_GITHUB_SCOPE,
	CFG_KEY_FILE,
	CFG_MASTER_KEY,
	CFG_MAX_BODY,
	CFG_MAX_UPLOAD,
	CFG_WEBHOOK_MAX_BODY,
	CFG_PULLS_REFRESH_SECONDS,
	CFG_PULLS_POLL_SECONDS,
	CFG_DB_TIMEOUT_MS,
	CFG_LOG_LEVEL,
	CFG_SOCKET_MODE,
	CFG_WORKER_CONCURRENCY,
	CFG_WORKER_QUEUE,
	CFG_WORKER_POLL_SECONDS,
	CFG_WORKER_DRAIN_SECONDS,
	CFG_JOBS_LEASE_SECONDS,
	CFG_JOBS_BACKOFF_BASE_MS,
	CFG_JOBS_BACKOFF_CAP_MS,
	CFG_JOBS_KEEP_DAYS,
	CFG_SESSION_IDLE_MINUTES,
	CFG_SESSION_LIFETIME_HOURS,
	CFG_API_RATE_LIMIT,
	CFG_PROJECT_MAX_FILE,
	CFG_PROJECT_QUOTA,
	CFG_PROJECT_POLL_SECONDS,
	CFG_GIT_TIMEOUT_SECONDS,
	CFG_HISTORY_KEEP_DAYS,
	CFG_AUDIT_KEEP_DAYS,
	CFG_METRICS_ALLOW,
	CFG_METRICS_TOKEN,
	CFG_COLLABORATOR_PERMISSIONS,
	CFG_MEMBER_DRIFT_SECONDS,
	CFG_COUNT
};

struct cfg_def {
	const char *name;      /* file key; the variable is GHBRIDGE_<NAME upper-cased> */
	const char *def;       /* default value */
	int secret;            /* masked by doctor, never logged */
	const char *help;
};

extern const struct cfg_def cfg_defs[CFG_COUNT];

/* Loads defaults, then path (if non-NULL, or $GHBRIDGE_CONFIG), then the environment. */
int config_load(const char *path, struct err *e);
const char *cfg_str(enum cfg_key k);
long cfg_long(enum cfg_key k);
/* Where a value came from: "default", "file", "env". */
const char *cfg_source(enum cfg_key k);
void config_set(enum cfg_key k, const char *value, const char *source);
void config_free(void);

#endif
