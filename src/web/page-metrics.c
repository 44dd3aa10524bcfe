/* page-metrics.c: GET /metrics, the Prometheus text exposition of the whole host, for configured addresses or a bearer token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/arena.h"
#include "core/cfg.h"
#include "core/metrics.h"
#include "jobs/jobs.h"
#include "store/ops.h"
#include "web/app.h"

/* REMOTE_ADDR (nginx passes the client's address; behind another proxy configure real_ip there) in
 * metrics_allow, a space- or comma-separated list of exact addresses. */
static int address_allowed(const char *addr)
{
	if (!addr || !*addr)
		return 0;
	const char *list = cfg_str(CFG_METRICS_ALLOW);
	size_t n = strlen(addr);
	for (const char *p = list; p && *p;) {
		p += strspn(p, " ,");
		size_t l = strcspn(p, " ,");
		if (l == n && strncmp(p, addr, n) == 0)
			return 1;
		p += l;
	}
	return 0;
}

/* Authorization: Bearer <metrics_token>. Both sides are hashed to 32 bytes first, so sodium_memcmp's
 * constant-time comparison covers the length too. */
static int token_allowed(const char *authz)
{
	const char *want = cfg_str(CFG_METRICS_TOKEN);
	if (!want || !*want || !authz || strncmp(authz, "Bearer ", 7) != 0)
		return 0;
	const char *got = authz + 7;
	unsigned char a[32], b[32];
	crypto_generichash(a, sizeof a, (const unsigned char *)got, strlen(got), NULL, 0);
	crypto_generichash(b, sizeof b, (const unsigned char *)want, strlen(want), NULL, 0);
	return sodium_memcmp(a, b, sizeof a) == 0;
}

/* GET /metrics → 200 text/plain; version=0.0.4 | 403 (not an allowed address, no valid token) */
int page_metrics(struct request *req, struct response *resp)
{
	if (!address_allowed(req->remote_addr) && !token_allowed(req_header(req, "Authorization"))) {
		resp_text(resp, 403, "text/plain; charset=utf-8",
			  "403 Forbidden: /metrics is served to the addresses in metrics_allow or with the metrics_token.\n");
		return 0;
	}
	static const char **routes;
	static const char **kinds;
	if (!routes) {
		routes = calloc(web_nroutes + 1, sizeof *routes);
		kinds = calloc((size_t)jobs_nkinds + 1, sizeof *kinds);
		if (!routes || !kinds)
			abort();
		for (size_t i = 0; i < web_nroutes; i++) {
			size_t len = strlen(web_routes[i].method) + strlen(web_routes[i].pattern) + 2;
			char *s = malloc(len);
			if (!s)
				abort();
			snprintf(s, len, "%s %s", web_routes[i].method, web_routes[i].pattern);
			routes[i] = s;
		}
		for (int i = 0; i < jobs_nkinds; i++)
			kinds[i] = jobs_kinds[i].name;
	}
	struct buf out = BUF_INIT;
	metrics_render(&out, routes, (int)web_nroutes, kinds, jobs_nkinds);
	/* The queue is shared state: read from PostgreSQL at scrape time, not counted per process. */
	struct job_stats st;
	struct err e = { 0 };
	if (jobs_stats(&st, g_app.db, &e) == 0) {
		buf_puts(&out, "# HELP ghbridge_jobs Jobs in the queue table, by queue, kind and state.\n# TYPE ghbridge_jobs gauge\n");
		long long depth = 0;
		for (size_t i = 0; i < st.n; i++) {
			buf_puts(&out, "ghbridge_jobs{queue=\"");
			metrics_label(&out, st.rows[i].queue);
			buf_puts(&out, "\",kind=\"");
			metrics_label(&out, st.rows[i].kind);
			buf_puts(&out, "\",state=\"");
			metrics_label(&out, st.rows[i].state);
			buf_printf(&out, "\"} %lld\n", st.rows[i].count);
			if (strcmp(st.rows[i].state, "queued") == 0)
				depth += st.rows[i].count;
		}
		buf_printf(&out, "# HELP ghbridge_jobs_queue_depth Jobs waiting (state queued, due or not).\n"
				 "# TYPE ghbridge_jobs_queue_depth gauge\nghbridge_jobs_queue_depth %lld\n", depth);
		buf_printf(&out, "# HELP ghbridge_jobs_oldest_queued_age_seconds How long the oldest due, queued job has waited.\n"
				 "# TYPE ghbridge_jobs_oldest_queued_age_seconds gauge\nghbridge_jobs_oldest_queued_age_seconds %.3f\n",
			   st.oldest_wait_seconds);
		store_job_stats_free(&st);
	} else {
		metrics_db_error();
	}
	struct sync_pause *p = NULL;
	size_t np = 0;
	if (store_pause_list(&p, &np, g_app.db, &e) == 0) {
		int service = 0;
		for (size_t i = 0; i < np; i++)
			service |= p[i].project_id == 0;
		buf_printf(&out, "# HELP ghbridge_sync_paused Whether syncing is paused for the whole service (1) or not (0).\n"
				 "# TYPE ghbridge_sync_paused gauge\nghbridge_sync_paused %d\n"
				 "# HELP ghbridge_sync_paused_projects Projects paused on their own.\n"
				 "# TYPE ghbridge_sync_paused_projects gauge\nghbridge_sync_paused_projects %zu\n",
			   service, np - (size_t)service);
		store_pauses_free(p, np);
	}
	resp_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", buf_cstr(&out));
	buf_free(&out);
	return 0;
}
