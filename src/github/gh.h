/* gh.h: GitHub REST and OAuth client (libcurl + json-c). Knows GitHub, not ghbridge's tables. */
#ifndef GHB_GH_H
#define GHB_GH_H

#include "core/buf.h"
#include "core/err.h"

struct json_object;

struct gh_resp {
	long status;                 /* HTTP status, 0 when no answer */
	struct buf body;
	struct json_object *json;    /* parsed body when it is JSON, else NULL */
	char etag[128];
	long ratelimit_remaining;    /* -1 when absent */
	long ratelimit_reset;        /* epoch seconds, 0 when absent */
	long retry_after;            /* seconds, 0 when absent */
	char link_next[1024];        /* rel="next" from the Link header */
};

void gh_resp_free(struct gh_resp *r);
int gh_global_init(void);

/* One REST call. url is absolute or a path under github_api_url. token may be
 * NULL. body_json may be NULL. if_none_match may be NULL. Transport errors →
 * ERR_TIMEOUT/ERR_FAIL; any HTTP status → 0 with r->status set. Redirects (a
 * renamed or transferred repository: 301 for GET, 307 otherwise) are followed,
 * at most 5, http(s) only, the token never sent to another host; r describes
 * the last answer. */
int gh_call(struct gh_resp *r, const char *method, const char *url, const char *token, const char *body_json,
	    const char *if_none_match, struct err *e);

/* A short message for a non-2xx answer: GitHub's "message" plus the status. */
const char *gh_error_message(const struct gh_resp *r, char *buf, size_t len);
/* Rate-limited answer (primary or secondary): 1, with the epoch second to wait for in *until. */
int gh_is_rate_limited(const struct gh_resp *r, long *until);

struct gh_tokens {
	char *access_token;
	char *refresh_token;         /* GitHub Apps only */
	long expires_in;             /* seconds; 0 = does not expire */
	long refresh_expires_in;
	char *scope;
};
void gh_tokens_free(struct gh_tokens *t);

/* POST {web}/login/oauth/access_token. code with verifier and redirect_uri, or
 * refresh_token. GitHub answers 200 with an "error" field for a bad code: that
 * becomes ERR_INVALID with its description. */
int gh_oauth_exchange(struct gh_tokens *out, const char *code, const char *verifier, const char *redirect_uri,
		      struct err *e);
int gh_oauth_refresh(struct gh_tokens *out, const char *refresh_token, struct err *e);
/* DELETE /applications/{client_id}/grant (Basic auth with the client credentials). */
int gh_grant_revoke(const char *access_token, struct err *e);

/* A repository as GET /repositories/{id} names it now (renames and transfers keep the id). */
struct gh_repo_ref {
	long long id;
	char *owner, *name, *clone_url, *html_url;   /* GitHub's words, unchecked; NULL when absent */
};
void gh_repo_ref_free(struct gh_repo_ref *r);
/* GET /repositories/{id}: GitHub serves a repository by its id whatever it is called now (its renamed-
 * repository redirects point there; docs "Best practices for using the REST API", Follow redirects).
 * 0 with out filled (out->id checked equal to id); ERR_NOTFOUND when GitHub does not show it to this
 * token (deleted, or access lost: 404, 451); ERR_UNAUTH on 401; ERR_RATELIMIT with *until (epoch second);
 * ERR_FAIL for any other answer; transport errors as gh_call. out is untouched on failure. */
int gh_repo_by_id(struct gh_repo_ref *out, long *until, long long id, const char *token, struct err *e);

struct gh_user {
	long long id;
	char *login, *name, *email, *avatar_url;
};
void gh_user_free(struct gh_user *u);
int gh_user_get(struct gh_user *out, const char *token, struct err *e);

#endif
