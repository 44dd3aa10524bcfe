/* render.c: pages through the layout, error pages, JSON errors. The only place HTML is produced. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "core/log.h"
#include "core/cfg.h"
#include "service/auth.h"
#include "service/projects.h"
#include "web/app.h"

/* The project tab a page belongs to, from its path (/projects/{id}[/tab…]): the tabs partial marks it
 * with aria-current="page". NULL outside a project. */
static const char *project_tab(const char *path)
{
	static const struct { const char *prefix, *tab; } tabs[] = {
		{ "files", "files" }, { "new", "files" }, { "connect", "repository" }, { "settings", "settings" },
		{ "history", "history" }, { "pulls", "pulls" }, { "branches", "pulls" }, { "members", "members" },
	};
	if (!path || strncmp(path, "/projects/", 10) != 0)
		return NULL;
	const char *s = path + 10;
	if (*s < '0' || *s > '9')
		return NULL;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '\0')
		return "overview";
	if (*s++ != '/')
		return NULL;
	for (size_t i = 0; i < sizeof tabs / sizeof tabs[0]; i++) {
		size_t n = strlen(tabs[i].prefix);
		if (strncmp(s, tabs[i].prefix, n) == 0 && (s[n] == '\0' || s[n] == '/'))
			return tabs[i].tab;
	}
	return NULL;
}

static void fallback_html(struct response *resp, int status, const char *message, const char *rid)
{
	/* Used only when the templates themselves failed: still escaped. */
	buf_reset(&resp->body);
	buf_printf(&resp->body, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>%d %s</title>"
		   "</head><body><h1>%d %s</h1><p>", status, http_status_text(status), status,
		   http_status_text(status));
	html_escape(&resp->body, message, strlen(message));
	buf_puts(&resp->body, "</p><p>Request id: ");
	html_escape(&resp->body, rid, strlen(rid));
	buf_puts(&resp->body, "</p></body></html>\n");
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
}

void render_page(struct request *req, struct response *resp, int status, const char *page, const char *title,
		 struct json_object *ctx)
{
	struct err e = { 0 };
	struct buf content = BUF_INIT;
	if (!ctx)
		ctx = json_object_new_object();
	json_object_object_add(ctx, "title", json_object_new_string(title ? title : "ghbridge"));
	json_object_object_add(ctx, "request_id", json_object_new_string(req->request_id));
	const char *tab = project_tab(req->raw_path);
	if (tab) {
		struct json_object *t = json_object_new_object();
		json_object_object_add(t, tab, json_object_new_boolean(1));
		json_object_object_add(ctx, "tab", t);
	}
	/* A project route's caller role (web.c project_call): {{#can.edit}} (developer), {{#can.maintain}},
	 * {{#can.own}} show only the actions the role allows (the route table refuses the others anyway). */
	if (req->call && !json_object_object_get_ex(ctx, "can", NULL)) {
		struct json_object *can = json_object_new_object();
		json_object_object_add(can, "edit", json_object_new_boolean(req->call->role >= 2));
		json_object_object_add(can, "maintain", json_object_new_boolean(req->call->role >= 3));
		json_object_object_add(can, "own", json_object_new_boolean(req->call->role >= 4));
		json_object_object_add(can, "role", json_object_new_string(
			req->call->role == 4 ? "owner" : req->call->role == 3 ? "maintainer" : req->call->role == 2 ? "developer" : "viewer"));
		json_object_object_add(ctx, "can", can);
	}
	struct auth_user *u = req->user;
	if (u && strcmp(u->kind, "session") == 0) {
		struct json_object *uo = json_object_new_object();
		json_object_object_add(uo, "login", json_object_new_string(u->login));
		json_object_object_add(uo, "name", json_object_new_string(u->name));
		json_object_object_add(uo, "avatar_url", json_object_new_string(u->avatar_url));
		json_object_object_add(uo, "is_admin", json_object_new_boolean(u->is_admin));
		json_object_object_add(ctx, "user", uo);
		/* Every form in every page carries it: {{csrf}} */
		json_object_object_add(ctx, "csrf", json_object_new_string(u->csrf));
	} else {
		json_object_object_add(ctx, "signin", json_object_new_boolean(*cfg_str(CFG_GITHUB_CLIENT_ID) != '\0'));
	}
	if (tmpl_render(&content, g_app.tmpl, page, ctx, &e) != 0) {
		log_msg(LOG_ERROR, "render %s: %s", page, e.msg);
		fallback_html(resp, 500, "The page could not be rendered.", req->request_id);
		goto out;
	}
	json_object_object_add(ctx, "content", json_object_new_string_len(content.data ? content.data : "",
									  (int)content.len));
	buf_reset(&resp->body);
	if (tmpl_render(&resp->body, g_app.tmpl, "layout", ctx, &e) != 0) {
		log_msg(LOG_ERROR, "render layout: %s", e.msg);
		fallback_html(resp, 500, "The page could not be rendered.", req->request_id);
		goto out;
	}
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
out:
	buf_free(&content);
	json_object_put(ctx);
}

void render_json_error(struct request *req, struct response *resp, int status, const char *code,
		       const char *message)
{
	struct json_object *o = json_object_new_object(), *inner = json_object_new_object();
	json_object_object_add(inner, "code", json_object_new_string(code));
	json_object_object_add(inner, "message", json_object_new_string(message));
	/* The request field a boundary check refused (web/fields.c), so a client can point at it. */
	if (req->err.field[0] && status >= 400 && status < 500)
		json_object_object_add(inner, "field", json_object_new_string(req->err.field));
	json_object_object_add(inner, "request_id", json_object_new_string(req->request_id));
	json_object_object_add(o, "error", inner);
	resp_json(resp, status, o);
	json_object_put(o);
}

static const char *code_for_status(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 409: return "conflict";
	case 412: return "precondition_failed";
	case 413: return "too_large";
	case 414: return "uri_too_long";
	case 415: return "unsupported_media_type";
	case 422: return "invalid";
	case 429: return "rate_limited";
	case 431: return "headers_too_large";
	case 503: return "unavailable";
	default: return "internal";
	}
}

/* The page a refused form came from (the Referer's path, when it is this site's), to go back to it. */
static const char *back_path(struct request *req)
{
	const char *ref = req_header(req, "Referer"), *host = req_header(req, "Host");
	const char *p = ref ? strstr(ref, "://") : NULL;
	if (!p || !host)
		return NULL;
	p += 3;
	size_t hl = strlen(host);
	if (strncmp(p, host, hl) != 0 || p[hl] != '/')
		return NULL;
	const char *path = p + hl;
	if (path[1] == '/' || path[1] == '\\' || strlen(path) > 1024)
		return NULL;
	for (const unsigned char *c = (const unsigned char *)path; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f)
			return NULL;
	return path;
}

/* The signed-in user's project a /projects/{id}/… address is under, for a way back from an error. */
static void project_link(struct json_object *ctx, struct request *req)
{
	const char *path = req->raw_path;
	if (!req->user || !path || strncmp(path, "/projects/", 10) != 0)
		return;
	long long id = 0;
	const char *s = path + 10;
	for (; *s >= '0' && *s <= '9' && id < 1000000000000000LL; s++)
		id = id * 10 + (*s - '0');
	if (id <= 0 || (*s && *s != '/'))
		return;
	struct project p;
	struct err e = { 0 };
	if (projects_get(&p, g_app.db, req->user->user_id, id, &e) != 0)
		return;
	if (*s == '/') { /* under the project: the project is there, the page is not */
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(p.id));
		json_object_object_add(o, "name", json_object_new_string(p.name));
		json_object_object_add(ctx, "project", o);
	}
	store_project_free(&p);
}

void render_error(struct request *req, struct response *resp, int status, const char *message)
{
	if (req->is_api)
		return render_json_error(req, resp, status, code_for_status(status), message);
	struct json_object *ctx = json_object_new_object();
	json_object_object_add(ctx, "status", json_object_new_int(status));
	json_object_object_add(ctx, "reason", json_object_new_string(http_status_text(status)));
	json_object_object_add(ctx, "message", json_object_new_string(message));
	/* An error page shows who is signed in like every other page, and offers a way back that fits. */
	if (status < 500 && status != 431)
		web_user_peek(req);
	if (status == 404)
		project_link(ctx, req);
	const char *back = status == 413 || status == 400 || status == 422 ? back_path(req) : NULL;
	if (back)
		json_object_object_add(ctx, "back", json_object_new_string(back));
	if (req->user && strcmp(req->user->kind, "session") == 0)
		json_object_object_add(ctx, "signed_in", json_object_new_boolean(1));
	if (!g_app.tmpl) {
		json_object_put(ctx);
		return fallback_html(resp, status, message, req->request_id);
	}
	char title[64];
	snprintf(title, sizeof title, "%d %s", status, http_status_text(status));
	render_page(req, resp, status, "error", title, ctx);
	if (resp->status != status) /* the template failed: keep the real status */
		resp->status = status;
}

void render_err(struct request *req, struct response *resp)
{
	int status = http_status_for_err(req->err.code);
	const char *msg = req->err.msg[0] ? req->err.msg : http_status_text(status);
	if (status >= 500) {
		/* Internal details go to the log, not to the visitor. */
		log_msg(LOG_ERROR, "%s", msg);
		msg = status == 503 ? "The service is temporarily unavailable. Try again in a moment."
				    : "Something went wrong on our side. The request id below helps the operator find it.";
	}
	if (req->is_api && req->err.field[0] && status == 400)
		return render_json_error(req, resp, status, "invalid", msg);
	render_error(req, resp, status, msg);
}

const char *web_time_text(struct request *req, const char *iso)
{
	if (!iso || strlen(iso) < 19 || iso[10] != 'T')
		return "";
	return arena_printf(req->arena, "%.10s %.8s UTC", iso, iso + 11);
}

int web_confirmed(const struct request *req)
{
	const char *c = req_form(req, "confirm");
	return c && strcmp(c, "1") == 0;
}

void render_confirm(struct request *req, struct response *resp, const char *title, const char *what, const char *note,
		    const char *button, const char *back)
{
	struct json_object *ctx = json_object_new_object(), *fields = json_object_new_array();
	/* The same form again: every field it sent (text only), so the final POST asks for exactly this. */
	for (size_t i = 0; i < req->form.n; i++) {
		const struct kv *kv = &req->form.items[i];
		if (kv->filename || strcmp(kv->name, "csrf") == 0 || strcmp(kv->name, "confirm") == 0)
			continue;
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "name", json_object_new_string(kv->name));
		json_object_object_add(f, "value", json_object_new_string(kv->value ? kv->value : ""));
		json_object_array_add(fields, f);
	}
	json_object_object_add(ctx, "heading", json_object_new_string(title));
	json_object_object_add(ctx, "what", json_object_new_string(what));
	if (note)
		json_object_object_add(ctx, "note", json_object_new_string(note));
	json_object_object_add(ctx, "action", json_object_new_string(req->raw_path));
	json_object_object_add(ctx, "fields", fields);
	json_object_object_add(ctx, "button", json_object_new_string(button));
	json_object_object_add(ctx, "back", json_object_new_string(back ? back : "/"));
	render_page(req, resp, 200, "confirm", title, ctx);
}
