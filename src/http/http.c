/* http.c: request accessors and response helpers. */
#include <ctype.h>
#include <string.h>
#include <json-c/json.h>
#include "http/http.h"

const char *req_env(const struct request *r, const char *name)
{
	if (!r->env)
		return NULL;
	size_t n = strlen(name);
	for (char **p = r->env; *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

const char *req_header(const struct request *r, const char *name)
{
	char key[128] = "HTTP_";
	size_t i = 5;
	for (const char *p = name; *p && i < sizeof key - 1; p++)
		key[i++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	key[i] = '\0';
	return req_env(r, key);
}

const char *req_param(const struct request *r, const char *name) { return kv_get(&r->params, name); }
const char *req_query(const struct request *r, const char *name) { return kv_get(&r->query, name); }
const char *req_form(const struct request *r, const char *name) { return kv_get(&r->form, name); }
const char *req_cookie(const struct request *r, const char *name) { return kv_get(&r->cookies, name); }

void resp_header(struct response *resp, const char *name, const char *value)
{
	/* Header injection guard: a CR or LF in a value would start a new header. */
	if (strpbrk(value, "\r\n"))
		return;
	buf_printf(&resp->headers, "%s: %s\r\n", name, value);
}

void resp_redirect(struct response *resp, int status, const char *location)
{
	resp->status = status;
	resp_header(resp, "Location", location);
	resp->content_type = "text/plain; charset=utf-8";
	buf_reset(&resp->body);
	buf_printf(&resp->body, "Redirecting to %s\n", location);
}

void resp_json(struct response *resp, int status, struct json_object *obj)
{
	resp->status = status;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	buf_puts(&resp->body, json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	buf_putc(&resp->body, '\n');
}

void resp_text(struct response *resp, int status, const char *content_type, const char *text)
{
	resp->status = status;
	resp->content_type = content_type;
	buf_reset(&resp->body);
	buf_puts(&resp->body, text);
}

const char *http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

int http_status_for_err(int code)
{
	switch (code) {
	case ERR_NOTFOUND: return 404;
	case ERR_INVALID: return 400;
	case ERR_TOOBIG: return 413;
	case ERR_DB: return 503;
	case ERR_CONFLICT: return 409;
	case ERR_FORBIDDEN: return 403;
	case ERR_UNAUTH: return 401;
	case ERR_TIMEOUT: return 504;
	case ERR_UNSUPPORTED: return 415;
	case ERR_RATELIMIT: return 429;
	case ERR_PRECONDITION: return 412;
	default: return 500;
	}
}
