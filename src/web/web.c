/* web.c: the request path shared by every route: match, limits, parse, database check, handler, errors. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/cfg.h"
#include "core/log.h"
#include "http/server.h"
#include "web/app.h"

struct app g_app;

int web_child_init(struct err *e)
{
	log_set_component("fcgi");
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

void web_handle(struct request *req, struct response *resp)
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
		return render_error(req, resp, 400, req->err.msg);
	if (route->flags & ROUTE_API)
		req->is_api = 1;

	if (req->query_string && *req->query_string &&
	    http_parse_urlencoded(&req->query, req->arena, req->query_string, strlen(req->query_string),
				  HTTP_MAX_FIELDS, &req->err))
		return render_err(req, resp);
	const char *cookie = req_header(req, "Cookie");
	if (cookie && http_parse_cookies(&req->cookies, req->arena, cookie, HTTP_MAX_COOKIES, &req->err))
		return render_error(req, resp, 400, "Too many cookies.");

	size_t limit = (size_t)cfg_long((route->flags & ROUTE_UPLOAD) ? CFG_MAX_UPLOAD : CFG_MAX_BODY);
	if (req->content_length > limit)
		return render_error(req, resp, 413, "The request body is larger than this server accepts.");
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

	err_clear(&req->err);
	rc = route->handler(req, resp);
	if (rc < 0) {
		if (req->err.code == 0)
			req->err.code = rc;
		render_err(req, resp);
	}
}
