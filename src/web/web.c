/* web.c: the request path shared by every route: match, limits, parse, database check, handler, errors. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "core/keyrate.h"
#include "core/metrics.h"
#include "core/cfg.h"
#include "core/log.h"
#include "http/server.h"
#include "service/auth.h"
#include "service/members.h"
#include "service/projects.h"
#include "web/app.h"
#include "web/fields.h"

struct app g_app;
static int auth_ready;

static char *curl_escape_path(struct arena *a, const char *path);

static int is_safe_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

/* scheme://host[:port] of this site, from public_url or the request. */
static const char *own_origin(struct request *req)
{
	const char *pub = cfg_str(CFG_PUBLIC_URL);
	if (*pub) {
		const char *p = strstr(pub, "://");
		const char *slash = p ? strchr(p + 3, '/') : NULL;
		return slash ? arena_strndup(req->arena, pub, (size_t)(slash - pub)) : pub;
	}
	const char *host = req_header(req, "Host");
	return arena_printf(req->arena, "%s://%s", req->scheme, host ? host : "");
}

/* Finds who is asking (API key or session cookie) and enforces the route's
 * needs. Returns 0 to go on, 1 when it has answered already. */
static int authenticate(struct request *req, struct response *resp, const struct route *route)
{
	const char *authz = req_header(req, "Authorization");
	struct auth_user *u = arena_zalloc(req->arena, sizeof *u);
	if (req->is_api && authz) {
		if (strncmp(authz, "Bearer ", 7) != 0) {
			render_json_error(req, resp, 401, "unauthorized", "Use 'Authorization: Bearer ghb_…' with an API key.");
			return 1;
		}
		int retry = 0;
		web_actor_bind(req); /* the key's own events (expired, new address) carry the request's address */
		int rc = auth_apikey_verify(u, &retry, g_app.db, authz + 7, req->remote_addr, &req->err);
		db_actor_set(g_app.db, NULL); /* bound again below once the request goes on */
		if (rc == ERR_RATELIMIT) {
			char ra[16];
			snprintf(ra, sizeof ra, "%d", retry);
			resp_header(resp, "Retry-After", ra);
			render_json_error(req, resp, 429, "rate_limited", req->err.msg);
			return 1;
		}
		if (rc == ERR_UNAUTH || rc == ERR_NOTFOUND) {
			resp_header(resp, "WWW-Authenticate", "Bearer");
			render_json_error(req, resp, 401, "unauthorized", req->err.msg);
			return 1;
		}
		if (rc) {
			render_err(req, resp);
			return 1;
		}
		req->user = u;
	} else {
		const char *tok = req_cookie(req, web_session_cookie_name(req));
		if (tok) {
			int rc = auth_session_get(u, g_app.db, tok, &req->err);
			if (rc == 0)
				req->user = u;
			else if (rc != ERR_NOTFOUND) {
				render_err(req, resp);
				return 1;
			}
			err_clear(&req->err);
		}
	}
	if ((route->flags & ROUTE_SESSION) && !req->user) {
		if (req->is_api) {
			resp_header(resp, "WWW-Authenticate", "Bearer");
			render_json_error(req, resp, 401, "unauthorized", "Sign in or send an API key.");
		} else {
			char *ret = curl_escape_path(req->arena, req->raw_path);
			resp_redirect(resp, 302, arena_printf(req->arena, "/login?return_to=%s", ret));
		}
		return 1;
	}
	/* Browser requests that change state: refuse cross-site ones, then check the token. */
	struct auth_user *su = req->user && strcmp(req->user->kind, "session") == 0 ? req->user : NULL;
	if (!is_safe_method(req->method) && (su || (route->flags & ROUTE_CSRF))) {
		const char *site = req_header(req, "Sec-Fetch-Site");
		const char *origin = req_header(req, "Origin");
		if ((site && strcmp(site, "cross-site") == 0) || (origin && strcmp(origin, own_origin(req)) != 0)) {
			render_error(req, resp, 403, "Cross-site request refused.");
			return 1;
		}
		if (su) {
			const char *t = req_form(req, "csrf");
			if (!t)
				t = req_header(req, "X-CSRF-Token");
			if (!auth_csrf_check(su, t)) {
				render_error(req, resp, 403, "The form has expired or did not come from this site. Reload the page and try again.");
				return 1;
			}
		}
	}
	return 0;
}

void web_user_peek(struct request *req)
{
	/* Only what is cheap and safe: a browser's session cookie, one query; never for the API, never when
	 * the database is the problem, never twice. */
	static char peeked[64]; /* the request last looked at (one request at a time per process) */
	if (req->user || req->is_api || !g_app.db || strcmp(peeked, req->request_id) == 0)
		return;
	snprintf(peeked, sizeof peeked, "%s", req->request_id);
	struct err e = { 0 };
	const char *cookie = req_header(req, "Cookie");
	if (!req->cookies.n && cookie && http_parse_cookies(&req->cookies, req->arena, cookie, HTTP_MAX_COOKIES, &e))
		return; /* answered before the cookies were read (a 404 from routing): read them now */
	const char *tok = req_cookie(req, web_session_cookie_name(req));
	if (!tok)
		return;
	if (db_ensure(g_app.db, &e) != 0)
		return;
	if (!auth_ready) {
		if (auth_init(g_app.db, &e) != 0)
			return;
		auth_ready = 1;
	}
	struct auth_user *u = arena_zalloc(req->arena, sizeof *u);
	if (auth_session_get(u, g_app.db, tok, &e) == 0)
		req->user = u;
}

int web_child_init(struct err *e)
{
	log_set_component("fcgi");
	if (metrics_open(cfg_str(CFG_DATA_DIR)))
		log_msg(LOG_WARN, "metrics: the shared counters file cannot be opened; /metrics shows database figures only");
	if (keyrate_open(cfg_str(CFG_DATA_DIR)))
		log_msg(LOG_WARN, "API key rate table: the shared file cannot be opened; API requests are counted in the database");
	/* Avatars come from GitHub's image host (or the configured GitHub's web host). */
	char policy[1024];
	const char *web = cfg_str(CFG_GITHUB_WEB_URL);
	const char *p = strstr(web, "://");
	const char *slash = p ? strchr(p + 3, '/') : NULL;
	snprintf(policy, sizeof policy,
		 "default-src 'self'; img-src 'self' data: https://avatars.githubusercontent.com %.*s; "
		 "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
		 slash ? (int)(slash - web) : (int)strlen(web), web);
	http_set_csp(policy);
	const char *bad;
	if (web_routes_check(&bad))
		return err_set(e, ERR_FAIL, "route %s is under a project but declares no role (use PROJ in routes.c)", bad);
	g_app.templates_dir = cfg_str(CFG_TEMPLATES_DIR);
	int rc = tmpl_set_load(&g_app.tmpl, g_app.templates_dir, e);
	if (rc)
		return rc;
	rc = db_open(&g_app.db, cfg_str(CFG_DATABASE_URL), (int)cfg_long(CFG_DB_TIMEOUT_MS), e);
	if (rc)
		return rc;
	struct err ce = { 0 };
	if (db_ensure(g_app.db, &ce))
		log_msg(LOG_WARN, "%s (will retry on each request)", ce.msg);
	return 0;
}

void web_child_reload(void)
{
	struct tmpl_set *set;
	struct err e = { 0 };
	if (tmpl_set_load(&set, g_app.templates_dir, &e) != 0) {
		log_msg(LOG_ERROR, "template reload failed, keeping the old ones: %s", e.msg);
		return;
	}
	tmpl_set_free(g_app.tmpl);
	g_app.tmpl = set;
	log_msg(LOG_INFO, "templates reloaded");
}

void web_child_exit(void)
{
	db_close(g_app.db);
	tmpl_set_free(g_app.tmpl);
	g_app.db = NULL;
	g_app.tmpl = NULL;
}

/* A ROUTE_PROJECT row: loads the project named by {id} and the caller's membership once, and checks the row's
 * needs, in this order: not an active member (or no such project) → 404, as if it did not exist; a role below
 * the row's → 403; an API key without the row's scope → 403 (a key acts with its user's role and its scopes
 * only narrow it). Returns 0 with req->call set and *out the project (the caller frees it), or 1 when it has
 * answered. */
static int project_call(struct project **out, struct request *req, struct response *resp, const struct route *route)
{
	long long id;
	int role = ROLE_NONE, rc;
	struct project *p = arena_zalloc(req->arena, sizeof *p);
	struct call *c = arena_zalloc(req->arena, sizeof *c);
	*out = NULL;
	if (web_id_param(&id, req, "id") || id <= 0) {
		err_set(&req->err, ERR_NOTFOUND, "There is no such project.");
		render_err(req, resp);
		return 1;
	}
	rc = members_role_of(&role, g_app.db, id, req->user->user_id, &req->err);
	if (rc == 0)
		rc = projects_get(p, g_app.db, 0, id, &req->err);
	if (rc) {
		if (rc == ERR_NOTFOUND)
			err_set(&req->err, ERR_NOTFOUND, "There is no such project.");
		render_err(req, resp);
		return 1;
	}
	if (role < route->role) {
		char *m = arena_printf(req->arena, "Your role on this project is %s; this needs %s or above.",
				       members_role_name(role), members_role_name(route->role));
		store_project_free(p);
		render_error(req, resp, 403, m);
		return 1;
	}
	if (route->scope && !auth_has_scope(req->user, route->scope)) {
		char *m = arena_printf(req->arena, "This API key lacks the '%s' scope.", route->scope);
		store_project_free(p);
		render_error(req, resp, 403, m);
		return 1;
	}
	c->project = p;
	c->role = role;
	req->call = c;
	*out = p;
	return 0;
}

/* A project route is any under /projects/{id} or /api/v1/projects/{id}. */
int web_routes_check(const char **bad)
{
	for (size_t i = 0; i < web_nroutes; i++) {
		const struct route *r = &web_routes[i];
		int under = strncmp(r->pattern, "/projects/{id}", 14) == 0 ||
			    strncmp(r->pattern, "/api/v1/projects/{id}", 21) == 0;
		int ok = (r->flags & ROUTE_PROJECT) ? r->role >= ROLE_VIEWER && r->role <= ROLE_OWNER && r->call && !r->handler
						    : r->handler != NULL;
		if ((under && !(r->flags & ROUTE_PROJECT)) || !ok) {
			*bad = r->pattern;
			return -1;
		}
	}
	return 0;
}

/* Percent-encodes a path for use as a query value. */
static char *curl_escape_path(struct arena *a, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = arena_alloc(a, strlen(path) * 3 + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
			*o++ = (char)*p;
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

static int header_bytes(const struct request *req, size_t *count)
{
	size_t total = 0, n = 0;
	for (char **p = req->env; p && *p; p++)
		if (strncmp(*p, "HTTP_", 5) == 0) {
			total += strlen(*p);
			n++;
		}
	*count = n;
	return (int)(total > (size_t)1 << 30 ? (size_t)1 << 30 : total);
}

static int is_form(const char *ct)
{
	return ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

static int is_multipart(const char *ct)
{
	return ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

/* The route the request matched (its row in web_routes), for the metrics' route label; -1 none. */
static int matched_route = -1;
static void web_handle_route(struct request *req, struct response *resp);

/* Every answer is counted by route pattern and status, with its latency (core/metrics.h). */
void web_handle(struct request *req, struct response *resp)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	matched_route = -1;
	web_handle_route(req, resp);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_http(matched_route, resp->status, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

static void web_handle_route(struct request *req, struct response *resp)
{
	req->app = &g_app;
	req->is_api = strncmp(req->raw_path, "/api/", 5) == 0 || strncmp(req->raw_path, "/webhooks/", 10) == 0;
	resp->status = 200;

	size_t nheaders;
	if ((size_t)header_bytes(req, &nheaders) > HTTP_MAX_HEADERS_BYTES || nheaders > HTTP_MAX_HEADERS)
		return render_error(req, resp, 431, "The request headers are too large.");
	if (strlen(req->raw_path) > HTTP_MAX_PATH)
		return render_error(req, resp, 414, "The address is too long.");

	const struct route *route = NULL;
	char allow[128];
	int rc = router_match(&route, &req->params, allow, sizeof allow, web_routes, web_nroutes, req->method,
			      req->raw_path, req->arena, &req->err);
	if (rc == ERR_UNSUPPORTED) {
		resp_header(resp, "Allow", allow);
		return render_error(req, resp, 405, "This address does not accept that method.");
	}
	if (rc == ERR_NOTFOUND)
		return render_error(req, resp, 404, "There is no page at this address.");
	if (rc)
		return render_err(req, resp); /* 400: a malformed escape, a parameter that is not UTF-8 */
	matched_route = (int)(route - web_routes);
	if (route->flags & ROUTE_API)
		req->is_api = 1;

	if (req->query_string && *req->query_string &&
	    http_parse_urlencoded(&req->query, req->arena, req->query_string, strlen(req->query_string),
				  HTTP_MAX_FIELDS, &req->err))
		return render_err(req, resp);
	if (web_headers_check(req))
		return render_err(req, resp);
	const char *cookie = req_header(req, "Cookie");
	if (cookie && http_parse_cookies(&req->cookies, req->arena, cookie, HTTP_MAX_COOKIES, &req->err))
		return render_error(req, resp, 400, "Too many cookies.");

	size_t limit = (size_t)cfg_long((route->flags & ROUTE_UPLOAD) ? CFG_MAX_UPLOAD : CFG_MAX_BODY);
	if (req->content_length > limit) {
		/* The body is not read, so the form cannot be shown again: say the limit, and the page links back. */
		char *m = arena_printf(req->arena, "What you sent is %zu bytes; this server accepts at most %zu bytes%s. "
				       "Nothing was saved.", req->content_length, limit,
				       (route->flags & ROUTE_UPLOAD) ? " in one upload" : " in one form (a text field that long "
				       "is longer than any field here allows)");
		return render_error(req, resp, 413, m);
	}
	if (req->content_length && http_read_body(req, limit, &req->err))
		return render_err(req, resp);
	if (req->body_len && !(route->flags & ROUTE_RAWBODY)) {
		if (is_form(req->content_type))
			rc = http_parse_urlencoded(&req->form, req->arena, req->body, req->body_len, HTTP_MAX_FIELDS,
						   &req->err);
		else if (is_multipart(req->content_type))
			rc = http_parse_multipart(&req->form, req->arena, req->body, req->body_len,
						  req->content_type, HTTP_MAX_FIELDS, &req->err);
		if (rc) {
			if (rc == ERR_TOOBIG)
				req->err.code = ERR_INVALID; /* too many fields: a malformed form, not a big body */
			return render_err(req, resp);
		}
	}

	if (!(route->flags & ROUTE_NODB) && db_ensure(g_app.db, &req->err) != 0) {
		log_msg(LOG_WARN, "%s", req->err.msg);
		return render_error(req, resp, 503,
				    "The database is not reachable right now. Try again in a moment.");
	}

	if (!(route->flags & ROUTE_NODB)) {
		if (!auth_ready) {
			if (auth_init(g_app.db, &req->err) != 0) {
				log_msg(LOG_ERROR, "authentication cannot start: %s", req->err.msg);
				return render_error(req, resp, 503, "The service is not fully configured yet. The operator has been told.");
			}
			auth_ready = 1;
		}
		if (authenticate(req, resp, route))
			return;
	}

	err_clear(&req->err);
	web_actor_bind(req);
	struct project *proj = NULL;
	if ((route->flags & ROUTE_PROJECT) && project_call(&proj, req, resp, route)) {
		db_actor_set(g_app.db, NULL);
		return;
	}
	rc = route->call ? route->call(req, resp, req->call) : route->handler(req, resp);
	if (proj) {
		store_project_free(proj);
		req->call = NULL;
	}
	db_actor_set(g_app.db, NULL);
	if (rc < 0) {
		if (req->err.code == 0)
			req->err.code = rc;
		render_err(req, resp);
	}
}
