/* cfg.c: the settings table and its loaders. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "core/cfg.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/ghbridge"
#endif

const struct cfg_def cfg_defs[CFG_COUNT] = {
	[CFG_DATABASE_URL] = { "database_url", "postgresql:///ghbridge", 1, "libpq connection string or URI" },
	[CFG_LISTEN] = { "listen", "127.0.0.1:9000", 0, "FastCGI socket: unix:/path or host:port" },
	[CFG_PROCESSES] = { "processes", "4", 0, "FastCGI responder processes" },
	[CFG_DATA_DIR] = { "data_dir", "/var/lib/ghbridge", 0, "workspaces and other state" },
	[CFG_TEMPLATES_DIR] = { "templates_dir", PKGDATADIR "/templates", 0, "HTML templates" },
	[CFG_STATIC_DIR] = { "static_dir", PKGDATADIR "/static", 0, "CSS/JS/icons (served by nginx)" },
	[CFG_SQL_DIR] = { "sql_dir", PKGDATADIR "/sql", 0, "numbered migrations" },
	[CFG_PUBLIC_URL] = { "public_url", "", 0, "external base URL, e.g. https://ghbridge.example.com" },
	[CFG_GITHUB_WEB_URL] = { "github_web_url", "https://github.com", 0, "GitHub web host (OAuth)" },
	[CFG_GITHUB_API_URL] = { "github_api_url", "https://api.github.com", 0, "GitHub REST API base" },
	[CFG_GITHUB_CLIENT_ID] = { "github_client_id", "", 0, "OAuth client id" },
	[CFG_GITHUB_CLIENT_SECRET] = { "github_client_secret", "", 1, "OAuth client secret" },
	[CFG_GITHUB_APP_KIND] = { "github_app_kind", "oauth", 0, "oauth (OAuth App) or app (GitHub App)" },
	[CFG_GITHUB_SCOPE] = { "github_scope", "repo read:org", 0, "OAuth scopes requested" },
	[CFG_KEY_FILE] = { "key_file", "/etc/ghbridge/master.key", 0, "master key file (ghbridge keygen)" },
	[CFG_MASTER_KEY] = { "master_key", "", 1, "master key, hex (instead of key_file)" },
	[CFG_MAX_BODY] = { "max_body", "1048576", 0, "largest form/JSON body in bytes" },
	[CFG_MAX_UPLOAD] = { "max_upload", "52428800", 0, "largest file upload in bytes" },
	[CFG_WEBHOOK_MAX_BODY] = { "webhook_max_body", "25000000", 0, "largest GitHub webhook delivery in bytes (GitHub caps them at 25 MB)" },
	[CFG_PULLS_REFRESH_SECONDS] = { "pulls_refresh_seconds", "60", 0, "pull requests older than this are refreshed (conditionally) when a page opens" },
	[CFG_PULLS_POLL_SECONDS] = { "pulls_poll_seconds", "300", 0, "without an active webhook, open pull requests are re-checked this often" },
	[CFG_DB_TIMEOUT_MS] = { "db_timeout_ms", "5000", 0, "database connect/query timeout" },
	[CFG_LOG_LEVEL] = { "log_level", "info", 0, "debug, info, warn, error" },
	[CFG_SOCKET_MODE] = { "socket_mode", "0660", 0, "permissions of a unix FastCGI socket" },
	[CFG_WORKER_CONCURRENCY] = { "worker_concurrency", "2", 0, "worker processes started by ghbridge worker" },
	[CFG_WORKER_QUEUE] = { "worker_queue", "default", 0, "job queue the workers take jobs from" },
	[CFG_WORKER_POLL_SECONDS] = { "worker_poll_seconds", "30", 0, "safety-net poll when no NOTIFY arrives" },
	[CFG_WORKER_DRAIN_SECONDS] = { "worker_drain_seconds", "30", 0, "on SIGTERM, time to finish a job before releasing it" },
	[CFG_JOBS_LEASE_SECONDS] = { "jobs_lease_seconds", "60", 0, "job lease; renewed every third of it while running" },
	[CFG_JOBS_BACKOFF_BASE_MS] = { "jobs_backoff_base_ms", "2000", 0, "retry backoff after the first failure (full jitter)" },
	[CFG_JOBS_BACKOFF_CAP_MS] = { "jobs_backoff_cap_ms", "600000", 0, "longest retry backoff" },
	[CFG_JOBS_KEEP_DAYS] = { "jobs_keep_days", "14", 0, "days finished (done, cancelled) jobs are kept; dead ones stay" },
	[CFG_SESSION_IDLE_MINUTES] = { "session_idle_minutes", "720", 0, "sign out after this long without a request" },
	[CFG_SESSION_LIFETIME_HOURS] = { "session_lifetime_hours", "336", 0, "sign out this long after sign-in, whatever happens" },
	[CFG_API_RATE_LIMIT] = { "api_rate_limit", "600", 0, "requests per minute per API key (429 past it)" },
	[CFG_PROJECT_MAX_FILE] = { "project_max_file", "52428800", 0, "largest file in a project, bytes (GitHub refuses > 100 MiB)" },
	[CFG_PROJECT_QUOTA] = { "project_quota", "1073741824", 0, "total bytes of one project's files" },
	[CFG_PROJECT_POLL_SECONDS] = { "project_poll_seconds", "60", 0, "how often each connected project is checked for changes on GitHub (conditional request) and in its workspace folder; 0: never" },
	[CFG_GIT_TIMEOUT_SECONDS] = { "git_timeout_seconds", "120", 0, "a git fetch or push gives up when GitHub sends or takes nothing for this long" },
	[CFG_HISTORY_KEEP_DAYS] = { "history_keep_days", "180", 0, "days sync history rows are kept (the daily retention pass deletes older ones); 0: forever" },
	[CFG_AUDIT_KEEP_DAYS] = { "audit_keep_days", "400", 0, "days audit log rows are kept (deleted only through audit_events_purge); 0: forever" },
	[CFG_METRICS_ALLOW] = { "metrics_allow", "127.0.0.1 ::1", 0, "addresses (REMOTE_ADDR, space-separated) that may read /metrics without a token" },
	[CFG_METRICS_TOKEN] = { "metrics_token", "", 1, "bearer token that also opens /metrics (Authorization: Bearer ...); empty: addresses only" },
	[CFG_COLLABORATOR_PERMISSIONS] = { "collaborator_permissions", "viewer:pull developer:push maintainer:maintain owner:admin", 0, "the GitHub repository permission each project role is given on the linked repository (role:permission, space-separated; permissions pull, triage, push, maintain, admin; a role left out is not invited)" },
	[CFG_MEMBER_DRIFT_SECONDS] = { "member_drift_seconds", "3600", 0, "how often the worker compares each connected project's GitHub collaborators and invitations with its members (conditional requests: an unchanged repository costs only 304 answers, which GitHub does not count against the rate limit); 0: never (the Members tab's \"Compare with GitHub\" still does)" },
};

static char *values[CFG_COUNT];
static const char *sources[CFG_COUNT];

void config_set(enum cfg_key k, const char *value, const char *source)
{
	char *v = strdup(value);
	if (!v)
		abort();
	free(values[k]);
	values[k] = v;
	sources[k] = source;
}

static int config_key_find(const char *name)
{
	for (int i = 0; i < CFG_COUNT; i++)
		if (strcmp(cfg_defs[i].name, name) == 0)
			return i;
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int config_load_file(const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return err_set(e, ERR_NOTFOUND, "config file %s: %s", path, strerror(errno));
	char line[4096];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = err_set(e, ERR_INVALID, "%s:%d: expected key = value", path, lineno);
			break;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		int k = config_key_find(key);
		if (k < 0) {
			rc = err_set(e, ERR_INVALID, "%s:%d: unknown setting '%s'", path, lineno, key);
			break;
		}
		config_set((enum cfg_key)k, val, "file");
	}
	fclose(f);
	return rc;
}

int config_load(const char *path, struct err *e)
{
	for (int i = 0; i < CFG_COUNT; i++)
		config_set((enum cfg_key)i, cfg_defs[i].def, "default");
	if (!path || !*path)
		path = getenv("GHBRIDGE_CONFIG");
	if (path && *path) {
		int rc = config_load_file(path, e);
		if (rc)
			return rc;
	}
	for (int i = 0; i < CFG_COUNT; i++) {
		char env[96] = "GHBRIDGE_";
		size_t n = strlen(env);
		for (const char *p = cfg_defs[i].name; *p && n < sizeof env - 1; p++)
			env[n++] = (char)toupper((unsigned char)*p);
		env[n] = '\0';
		const char *v = getenv(env);
		if (v)
			config_set((enum cfg_key)i, v, "env");
	}
	return 0;
}

const char *cfg_str(enum cfg_key k)
{
	return values[k] ? values[k] : cfg_defs[k].def;
}

long cfg_long(enum cfg_key k)
{
	const char *s = cfg_str(k);
	char *end;
	errno = 0;
	long v = strtol(s, &end, 0);
	if (errno || end == s || *end) {
		end = NULL;
		v = strtol(cfg_defs[k].def, &end, 0);
	}
	return v;
}

const char *cfg_source(enum cfg_key k)
{
	return sources[k] ? sources[k] : "default";
}

void config_free(void)
{
	for (int i = 0; i < CFG_COUNT; i++) {
		free(values[i]);
		values[i] = NULL;
	}
}
