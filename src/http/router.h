/* router.h: the route table type and matching with path parameters. */
#ifndef GHB_ROUTER_H
#define GHB_ROUTER_H

#include "http/http.h"

typedef int (*handler_fn)(struct request *req, struct response *resp);
/* A project route's handler (ROUTE_PROJECT): c is what the dispatcher loaded and checked (web/app.h struct
 * call: the project and the caller's role), borrowed, freed by the dispatcher after the handler returns. */
struct call;
typedef int (*call_fn)(struct request *req, struct response *resp, const struct call *c);

/* Per-route flags, in the spirit of cgit's command table. */
enum {
	ROUTE_API = 1 << 0,      /* errors as JSON */
	ROUTE_SESSION = 1 << 1,  /* needs a signed-in user */
	ROUTE_CSRF = 1 << 2,     /* state-changing browser request: CSRF token checked */
	ROUTE_NODB = 1 << 3,     /* answers without the database */
	ROUTE_RAWBODY = 1 << 4,  /* body is not parsed as a form */
	ROUTE_UPLOAD = 1 << 5,   /* body limit is max_upload rather than max_body */
	ROUTE_PROJECT = 1 << 6,  /* under /projects/{id}: the dispatcher loads the project and the caller's
				  * membership, 404 for a non-member, 403 below the row's role or outside its scope */
};

struct route {
	const char *method;
	const char *pattern;     /* "/projects/{id}/files/{path*}" */
	handler_fn handler;
	unsigned flags;
	/* ROUTE_PROJECT rows only (web/app.h PROJ): the API key scope needed (NULL: none) and the least role
	 * (service/members.h ROLE_*); call is the handler taking the loaded project (handler NULL then). */
	const char *scope;
	int role;
	call_fn call;
};
/* A plain row (no project, scope or role: those stay zero). Designated initializers name only the fields
 * set, so -Wextra's missing-initializer warning stays on for every other initializer in the program. */
#define ROUTE(m, p, fn, fl) { .method = (m), .pattern = (p), .handler = (fn), .flags = (fl) }

/* 0 and *out set on a match; ERR_NOTFOUND (404); ERR_UNSUPPORTED (405) with the
 * allowed methods written to allow; ERR_INVALID (400) for a malformed escape, or a path parameter
 * that is not UTF-8 text (e->field names it). */
int router_match(const struct route **out, struct kvlist *params, char *allow, size_t allowlen,
		 const struct route *routes, size_t n, const char *method, const char *raw_path,
		 struct arena *a, struct err *e);

#endif
