/* cmd-doctor.c: `ghbridge doctor`: effective configuration (secrets masked) and health checks. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include "cmd/cmd.h"
#include "core/cfg.h"
#include "store/migrate.h"
#include "view/tmpl.h"

static const char usage[] =
	"usage: ghbridge doctor\n\n"
	"Prints the effective configuration (secrets masked) and where each value came\n"
	"from, then checks the database, migrations, data folder, templates and GitHub\n"
	"URLs. Exit status 0 when every check passes, 1 otherwise.\n";

static int failures;

static void check(int ok, const char *what, const char *detail)
{
	printf("  [%s] %s%s%s\n", ok ? " ok " : "FAIL", what, detail && *detail ? ": " : "", detail ? detail : "");
	if (!ok)
		failures++;
}

static size_t discard(void *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

/* check_url: passes when url+path answers at all below 500; the line says what was asked and what that
 * answer means, so an "ok" next to a 404 reads as ok (a 404 from the web root still shows the server
 * is there: this check is about reaching it, not about the page). */
static void check_url(const char *what, const char *url, const char *path)
{
	char full[1024], detail[1200];
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		snprintf(detail, sizeof detail, "%s is not an http(s) URL", url);
		check(0, what, detail);
		return;
	}
	snprintf(full, sizeof full, "%s%s", url, path);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ghbridge-doctor");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(detail, sizeof detail, "%s: %s", full, curl_easy_strerror(rc));
		check(0, what, detail);
	} else {
		if (status >= 500 || status <= 0)
			snprintf(detail, sizeof detail, "%s answered HTTP %ld: the server is there but failing", full, status);
		else if (status >= 400)
			snprintf(detail, sizeof detail, "reachable (%s answered HTTP %ld; this check needs only an answer "
				 "below 500, not the page)", full, status);
		else
			snprintf(detail, sizeof detail, "reachable (%s answered HTTP %ld)", full, status);
		check(status > 0 && status < 500, what, detail);
	}
}

int cmd_doctor(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 1)
		return cmd_usage_error("doctor", usage, "unknown option");

	printf("configuration:\n");
	for (int i = 0; i < CFG_COUNT; i++) {
		const char *v = cfg_str((enum cfg_key)i);
		const char *shown = v;
		if (cfg_defs[i].secret)
			shown = *v ? "******** (set)" : "(not set)";
		else if (!*v)
			shown = "(not set)";
		printf("  %-22s %-48s [%s]\n", cfg_defs[i].name, shown, cfg_source((enum cfg_key)i));
	}

	printf("checks:\n");
	struct err e = { 0 };
	struct db *db;
	db_open(&db, cfg_str(CFG_DATABASE_URL), (int)cfg_long(CFG_DB_TIMEOUT_MS), &e);
	int up = db_ensure(db, &e) == 0;
	check(up, "database reachable", up ? "" : e.msg);
	if (up) {
		struct migrate_status st;
		if (migrate_check(&st, db, cfg_str(CFG_SQL_DIR), &e) != 0) {
			check(0, "migrations", e.msg);
		} else {
			char d[160];
			snprintf(d, sizeof d, "%d applied, %d pending, %d edited", st.applied, st.pending, st.edited);
			check(st.pending == 0 && st.edited == 0, "migrations", d);
		}
	}
	db_close(db);

	const char *data = cfg_str(CFG_DATA_DIR);
	struct stat sb;
	int dir_ok = stat(data, &sb) == 0 && S_ISDIR(sb.st_mode) && access(data, W_OK | X_OK) == 0;
	check(dir_ok, "data folder writable", data);

	struct tmpl_set *set;
	int t_ok = tmpl_set_load(&set, cfg_str(CFG_TEMPLATES_DIR), &e) == 0;
	check(t_ok, "templates compile", t_ok ? cfg_str(CFG_TEMPLATES_DIR) : e.msg);
	if (t_ok)
		tmpl_set_free(set);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	check_url("GitHub web URL", cfg_str(CFG_GITHUB_WEB_URL), "/");
	check_url("GitHub API URL", cfg_str(CFG_GITHUB_API_URL), "/rate_limit");
	curl_global_cleanup();
	check(*cfg_str(CFG_GITHUB_CLIENT_ID) != '\0', "GitHub OAuth client id set", "");

	printf("%s\n", failures ? "some checks failed" : "all checks passed");
	return failures ? 1 : 0;
}
