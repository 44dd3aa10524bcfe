/* http.h: the request and response every handler sees, independent of libfcgi. */
#ifndef GHB_HTTP_H
#define GHB_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "http/parse.h"

struct app;
struct auth_user;

/* Limits on what a request may carry; bigger gets 4xx before any handler runs. */
#define HTTP_MAX_PATH 2048
#define HTTP_MAX_HEADERS_BYTES 16384
#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_FIELDS 1000
#define HTTP_MAX_COOKIES 50

struct request {
	struct arena *arena;
	struct app *app;
	const char *method;        /* GET for HEAD requests; see head_only */
	const char *raw_path;      /* as sent, still percent-encoded, no query */
	const char *query_string;
	const char *content_type;
	const char *remote_addr;
	const char *scheme;        /* "http" or "https" */
	size_t content_length;
	const char *body;
	size_t body_len;
	char **env;                /* CGI-style NAME=value list (HTTP_* are headers) */
	struct kvlist params;      /* path parameters from the route */
	struct kvlist query;
	struct kvlist form;        /* urlencoded or multipart body */
	struct kvlist cookies;
	int head_only;
	int is_api;                /* /api/ and webhook routes answer errors in JSON */
	char request_id[24];
	struct err err;            /* filled by a handler that returns < 0 */
	void *body_io;             /* the FastCGI input stream, read by http_read_body */
	struct auth_user *user;    /* who is asking (web/web.c sets it), arena-owned */
	const struct call *call;   /* a project route's project and the caller's role (web/web.c), or NULL */
};

struct response {
	int status;
	const char *content_type;
	struct buf headers;        /* extra "Name: value\r\n" lines */
	struct buf body;
};

const char *req_header(const struct request *r, const char *name); /* "X-CSRF-Token" → HTTP_X_CSRF_TOKEN */
const char *req_env(const struct request *r, const char *name);
const char *req_param(const struct request *r, const char *name);
const char *req_query(const struct request *r, const char *name);
const char *req_form(const struct request *r, const char *name);
const char *req_cookie(const struct request *r, const char *name);

void resp_header(struct response *resp, const char *name, const char *value);
void resp_redirect(struct response *resp, int status, const char *location);
/* Serialises obj as the body with the JSON content type; does not take obj. */
struct json_object;
void resp_json(struct response *resp, int status, struct json_object *obj);
void resp_text(struct response *resp, int status, const char *content_type, const char *text);
const char *http_status_text(int status);
/* Maps an ERR_* code to the HTTP status that tells the client what happened. */
int http_status_for_err(int code);

#endif
