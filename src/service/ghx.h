/* ghx.h: a project's repository on GitHub with the token of the person (or job) acting, for the service
 * modules that call GitHub's REST API under /repos/{o}/{r} (branches.c, pulls.c; webhooks.c for
 * ghx_job_failed). No HTTP of ghbridge's own here.
 * Dependency direction (no circle): webhooks.c -> pulls.c -> branches.c -> ghx.c -> auth.c, ops.c, github/. */
#ifndef GHB_SERVICE_GHX_H
#define GHB_SERVICE_GHX_H

#include <stddef.h>
#include "jobs/jobs.h"
#include "store/projects.h"

struct json_object;
struct gh_resp;

struct ghx {
	struct db *db;
	struct project *p;
	char *token;
	char repo[300];            /* "/repos/owner/name" */
	long wait_until;           /* set when GitHub rate-limited a call */
};

/* Opens p's repository with user_id's GitHub token (auth_github_token). ERR_CONFLICT when p is not
 * connected, ERR_UNAUTH when the user has no GitHub token. ghx_close it in every case. */
int ghx_open(struct ghx *g, struct db *db, struct project *p, long long user_id, struct err *e);
/* Wipes and frees the token. */
void ghx_close(struct ghx *g);
/* One call under the repository: the path (fmt) is formatted and appended to /repos/o/r, or used as it
 * is when it is a full http(s) URL (a Link: next page). etag (may be NULL) makes it conditional; body
 * (may be NULL) is sent as JSON. 0 with *r filled (caller gh_resp_free) whatever the status; GitHub's
 * rate limit (docs "Rate limits for the REST API") sets g->wait_until. Transport errors as gh_call. */
int ghx_call(struct gh_resp *r, struct ghx *g, const char *method, const char *etag, struct json_object *body,
	     struct err *e, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* GitHub's "message" plus the messages of its "errors" (422s carry the useful part there), into out. */
void ghx_words(const struct gh_resp *r, char *out, size_t len);
/* GitHub's refusal r of what (a phrase: "Creating the branch") as an error a person can act on, with
 * GitHub's message and its "errors" entries: 401 ERR_UNAUTH, 403 ERR_FORBIDDEN (ERR_RATELIMIT when it is
 * the rate limit), 404 ERR_NOTFOUND, 405/409 ERR_CONFLICT, 422 ERR_INVALID, else ERR_FAIL/ERR_TIMEOUT. */
int ghx_refused(const struct gh_resp *r, struct err *e, const char *what);
/* A job's outcome for GitHub's answer r (rc != 0: no answer, retried): rate limits wait
 * (jobs_classify_http), 5xx retry, 401 and other refusals are permanent. */
int ghx_job_failed(struct job_ctx *ctx, const struct gh_resp *r, int rc, const struct err *e, const char *what);
/* Percent-encodes s into out (len bytes; RFC 3986 unreserved kept, and '/' with keep_slash for branch
 * names in paths). */
void ghx_url_encode(char *out, size_t len, const char *s, int keep_slash);
/* The audit row of a change made on GitHub (service/ops.h): no transaction can hold GitHub's side, so the
 * row follows the answer, with the outcome and, on failure (rc != 0), e's message. action NULL: none. */
void ghx_audit(struct db *db, const struct project *p, const char *action, const char *type, const char *id, int rc,
	       const struct err *e);

#endif
