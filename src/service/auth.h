/* auth.h: sign-in with GitHub, sessions, CSRF, sealed GitHub tokens and API keys. No HTTP here. */
#ifndef GHB_SERVICE_AUTH_H
#define GHB_SERVICE_AUTH_H

#include "store/auth.h"
#include "store/users.h"

#define AUTH_SESSION_COOKIE "ghb_session"
#define AUTH_SESSION_COOKIE_SECURE "__Host-ghb_session"
#define AUTH_LOGIN_COOKIE "ghb_login"
#define AUTH_TOKEN_HEX 64   /* 256-bit tokens, hex */

/* Who is making a request. */
struct auth_user {
	long long user_id;
	char login[64];
	char name[128];
	char avatar_url[512];
	int is_admin;
	long long session_id;         /* 0 for API keys */
	char csrf[65];                /* session CSRF token ("" for API keys) */
	const char *kind;             /* "session" or "api_key" */
	char scopes[256];             /* space-separated; all scopes for sessions */
	long long api_key_id;
	char api_key_public[32];      /* the key's public id ("" for sessions): how the audit log names it */
};

/* Loads the master key and the hashing pepper (creating it on first start). */
int auth_init(struct db *db, struct err *e);

/* Sign-in, step 1: returns the GitHub authorize URL and the pre-session cookie
 * value. return_to must be a same-site relative path, else "/" is used. */
int auth_login_begin(char **authorize_url, char **presession, struct db *db, const char *return_to,
		     const char *login_hint, struct err *e);
/* Sign-in, step 2: ERR_INVALID for any bad, expired, reused or mismatched state
 * (nothing stored); ERR_FAIL when GitHub refuses the code. On success, a new
 * session token (never the pre-session one) and the path to go to: the return_to given
 * at step 1, or /projects when there was none (or it was "/"). */
int auth_login_finish(char **session_token, char **return_to, struct db *db, const char *state, const char *code,
		      const char *presession, const char *ip, const char *ua, struct err *e);
/* 1 when return_to is a same-site relative path we may redirect to. */
int auth_return_to_ok(const char *return_to);

int auth_session_get(struct auth_user *out, struct db *db, const char *token, struct err *e);
int auth_logout(struct db *db, const char *token, struct err *e);
int auth_csrf_check(const struct auth_user *u, const char *token);

/* An access token for GitHub calls on the user's behalf, refreshed first when
 * it expires within 5 minutes (once across all processes). ERR_UNAUTH with a
 * "Reconnect GitHub" message when the connection is unusable. Caller frees. */
int auth_github_token(char **token, struct db *db, long long user_id, struct err *e);
/* GitHub answered 401 to the token `refused`: returns a newer one (refreshed now, or by another
 * process meanwhile) when the connection has a refresh token; otherwise the connection is marked
 * "needs reconnect" and ERR_UNAUTH comes back. Caller frees. */
int auth_github_token_refused(char **token, struct db *db, long long user_id, const char *refused, struct err *e);
/* Deletes the stored tokens and revokes the grant at GitHub. */
int auth_disconnect(struct db *db, long long user_id, struct err *e);

/* "ghb_<id>_<secret>", shown once. scopes: space- or comma-separated list. */
int auth_apikey_create(char **key, struct db *db, long long user_id, const char *name, const char *scopes,
		       int expires_days, struct err *e);
/* The key "ghb_<id>_<secret>" from ip, and its user into *out. ERR_UNAUTH (malformed, unknown, wrong secret,
 * revoked, expired), ERR_RATELIMIT past the key's limit a minute (its rate_limit, else api_rate_limit) with
 * *retry_after = the seconds left in the minute. Counts the request in the host's shared table
 * (core/keyrate.h; the database when there is none) and writes the key's usage at most once a minute.
 * Records auth.apikey_expired (at most daily per key) and auth.apikey_new_ip (an address not among the
 * key's last 32) with the key as the actor and the request's address, agent and id from the handle's
 * actor (the caller binds it first). *out is filled only on success. */
int auth_apikey_verify(struct auth_user *out, int *retry_after, struct db *db, const char *bearer, const char *ip,
		       struct err *e);
int auth_has_scope(const struct auth_user *u, const char *scope);
extern const char *const auth_scopes[];

/* Re-seals every secret with new_key (added to the key file first). */
int auth_rotate_key(int *resealed, int *failed, struct db *db, const char *new_key_file, struct err *e);



/* Account page data: thin reads for the panel and the API. */
int auth_sessions(struct session_row **rows, int *n, struct db *db, long long user_id, struct err *e);
int auth_session_end(struct db *db, long long user_id, long long session_id, struct err *e);
int auth_sessions_end_all(struct db *db, long long user_id, struct err *e);
/* Ends every session of the user but keep_id (the one asking), audited as auth.sessions_ended_others. */
int auth_sessions_end_others(struct db *db, long long user_id, long long keep_id, struct err *e);
int auth_apikeys(struct apikey_row **rows, int *n, struct db *db, long long user_id, struct err *e);
int auth_apikey_revoke(struct db *db, long long user_id, long long key_id, struct err *e);
int auth_connection(struct connection *out, struct db *db, long long user_id, struct err *e);
#endif
