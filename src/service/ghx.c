/* ghx.c: a project's repository on GitHub with the acting person's token: one REST call under
 * /repos/{o}/{r}, GitHub's refusals in words, and the audit row of a change made there. Shared by
 * branches.c and pulls.c (and webhooks.c for a job's failed GitHub answer).
 * Dependency direction (no circle): webhooks.c -> pulls.c -> branches.c -> ghx.c -> store/, github/;
 * ghx.c calls no other service module but auth.c (the token) and ops.c (the audit row). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "core/log.h"
#include "github/gh.h"
#include "service/auth.h"
#include "service/ghx.h"
#include "service/ops.h"

static struct json_object *jobj(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v = jobj(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static void free_token(char *t)
{
	if (t) {
		memset(t, 0, strlen(t));
		free(t);
	}
}

void ghx_url_encode(char *out, size_t len, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < len; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p) || (keep_slash && *p == '/')) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

/* ---------------------------------------------------------------- GitHub answers in words */

/* GitHub's "message" plus the messages of its "errors" (422s carry the useful part there). */
void ghx_words(const struct gh_resp *r, char *out, size_t len)
{
	out[0] = '\0';
	const char *m = jstr(r->json, "message");
	size_t n = 0;
	if (m)
		n = (size_t)snprintf(out, len, "%s", m);
	struct json_object *errs = jobj(r->json, "errors");
	if (!errs || !json_object_is_type(errs, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(errs) && n < len; i++) {
		struct json_object *x = json_object_array_get_idx(errs, i);
		const char *em = jstr(x, "message"), *field = jstr(x, "field"), *code = jstr(x, "code");
		char one[256];
		if (em)
			snprintf(one, sizeof one, "%s", em);
		else if (json_object_is_type(x, json_type_string))
			snprintf(one, sizeof one, "%s", json_object_get_string(x));
		else
			snprintf(one, sizeof one, "%s %s", field ? field : "request", code ? code : "invalid");
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? (i ? "; " : ": ") : "", one);
	}
}

int ghx_refused(const struct gh_resp *r, struct err *e, const char *what)
{
	char m[400];
	ghx_words(r, m, sizeof m);
	long until;
	if (gh_is_rate_limited(r, &until))
		return err_set(e, ERR_RATELIMIT, "%s: GitHub's rate limit is reached; try again in a few minutes.", what);
	switch (r->status) {
	case 401:
		return err_set(e, ERR_UNAUTH, "GitHub refused the token. Reconnect GitHub.");
	case 403:
		return err_set(e, ERR_FORBIDDEN, "%s: GitHub refused: you have no permission for this%s%s%s.", what,
			       m[0] ? " (" : "", m, m[0] ? ")" : "");
	case 404:
		return err_set(e, ERR_NOTFOUND, "%s: not found on GitHub, or you have no access to it.", what);
	case 405:
	case 409:
		return err_set(e, ERR_CONFLICT, "%s: %s", what, m[0] ? m : "GitHub refused.");
	case 422:
		return err_set(e, ERR_INVALID, "%s: %s", what, m[0] ? m : "GitHub refused the request as invalid.");
	default:
		return err_set(e, r->status == 0 ? ERR_TIMEOUT : ERR_FAIL, "%s: GitHub answered %ld%s%s", what, r->status,
			       m[0] ? ": " : "", m);
	}
}

int ghx_job_failed(struct job_ctx *ctx, const struct gh_resp *r, int rc, const struct err *e, const char *what)
{
	if (rc)
		return job_retry(ctx, "%s: %s", what, e && e->msg[0] ? e->msg : "GitHub unreachable");
	char ra[32] = "", rem[32] = "", reset[32] = "", m[400];
	if (r->retry_after > 0)
		snprintf(ra, sizeof ra, "%ld", r->retry_after);
	if (r->ratelimit_remaining >= 0)
		snprintf(rem, sizeof rem, "%ld", r->ratelimit_remaining);
	if (r->ratelimit_reset > 0)
		snprintf(reset, sizeof reset, "%ld", r->ratelimit_reset);
	double resume = 0;
	int k = jobs_classify_http(&resume, (int)r->status, ra[0] ? ra : NULL, rem[0] ? rem : NULL,
				   reset[0] ? reset : NULL, ctx->clock);
	ghx_words(r, m, sizeof m);
	if (k == JOB_WAIT)
		return job_wait(ctx, resume, "%s: GitHub's rate limit (%ld)", what, r->status);
	if (k == JOB_RETRY)
		return job_retry(ctx, "%s: GitHub answered %ld %s", what, r->status, m);
	if (r->status == 401)
		return job_permanent(ctx, "Reconnect GitHub: %s: GitHub refused the token", what);
	return job_permanent(ctx, "%s: GitHub answered %ld %s", what, r->status, m);
}

int ghx_open(struct ghx *g, struct db *db, struct project *p, long long user_id, struct err *e)
{
	memset(g, 0, sizeof *g);
	if (!p->repo_owner || !p->repo_name)
		return err_set(e, ERR_CONFLICT, "Connect a GitHub repository to this project first.");
	g->db = db;
	g->p = p;
	snprintf(g->repo, sizeof g->repo, "/repos/%s/%s", p->repo_owner, p->repo_name);
	int rc = auth_github_token(&g->token, db, user_id, e);
	if (rc == ERR_NOTFOUND)
		rc = err_set(e, ERR_UNAUTH, "GitHub is not connected. Reconnect GitHub.");
	return rc;
}

void ghx_close(struct ghx *g)
{
	free_token(g->token);
	g->token = NULL;
}

int ghx_call(struct gh_resp *r, struct ghx *g, const char *method, const char *etag, struct json_object *body,
		    struct err *e, const char *fmt, ...)
{
	char rest[1400], url[1800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rest, sizeof rest, fmt, ap);
	va_end(ap);
	if (strncmp(rest, "http://", 7) == 0 || strncmp(rest, "https://", 8) == 0)
		snprintf(url, sizeof url, "%s", rest);
	else
		snprintf(url, sizeof url, "%s%s", g->repo, rest);
	int rc = gh_call(r, method, url, g->token, body ? json_object_to_json_string(body) : NULL, etag, e);
	long until;
	if (rc == 0 && gh_is_rate_limited(r, &until))
		g->wait_until = until;
	return rc;
}

/* The audit row of a change made on GitHub (service/ops.h): no transaction can hold GitHub's side,
 * so the row follows the answer, with the outcome and, on failure, the message the caller gets. */
void ghx_audit(struct db *db, const struct project *p, const char *action, const char *type, const char *id,
		     int rc, const struct err *e)
{
	if (!action)
		return;
	char det[600];
	ops_audit_note(db, action, type, id, p->id, rc ? "failure" : "success",
		       rc ? ops_audit_kv(det, sizeof det, "error", e ? e->msg : "") : NULL);
}
