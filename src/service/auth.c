/* auth.c: the doors of ghbridge: OAuth web flow with state and PKCE, sessions,
 * CSRF, sealed tokens with refresh, API keys. Secrets here never reach a log. */
#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <sodium.h>
#include "service/ops.h"
#include "core/cfg.h"
#include "core/crypto.h"
#include "core/keyrate.h"
#include "core/log.h"
#include "github/gh.h"
#include "service/auth.h"
#include "service/sync.h"

static unsigned char pepper[32];
static int pepper_loaded;

const char *const auth_scopes[] = { "projects:read", "projects:write", "sync", "pulls", "admin", NULL };

static void hash_token(char out[65], const char *purpose, const char *token)
{
	/* The purpose prefix keeps a session hash from ever matching a state hash. */
	char msg[256];
	int n = snprintf(msg, sizeof msg, "%s:%s", purpose, token);
	crypto_keyed_hash_hex(out, pepper, sizeof pepper, msg, (size_t)n);
	sodium_memzero(msg, sizeof msg);
}

int auth_init(struct db *db, struct err *e)
{
	int rc = crypto_keys_load(e);
	if (rc)
		return rc;
	char *sealed = NULL;
	rc = store_secret_get(&sealed, db, "pepper", e);
	if (rc == ERR_NOTFOUND) {
		unsigned char fresh[32];
		randombytes_buf(fresh, sizeof fresh);
		char *s = crypto_seal(fresh, sizeof fresh, "server_secret:pepper", e);
		sodium_memzero(fresh, sizeof fresh);
		if (!s)
			return ERR_FAIL;
		rc = store_secret_put_new(db, "pepper", s, e); /* another process may win: fine, we re-read */
		free(s);
		if (rc == 0)
			rc = store_secret_get(&sealed, db, "pepper", e);
	}
	if (rc)
		return rc;
	char *plain;
	size_t len;
	rc = crypto_open(&plain, &len, sealed, "server_secret:pepper", e);
	free(sealed);
	if (rc)
		return err_set(e, rc, "cannot open the server pepper: %s (wrong key file?)", e ? e->msg : "");
	if (len != sizeof pepper) {
		free(plain);
		return err_set(e, ERR_FAIL, "server pepper has the wrong size");
	}
	memcpy(pepper, plain, sizeof pepper);
	sodium_memzero(plain, len);
	free(plain);
	pepper_loaded = 1;
	return 0;
}

int auth_return_to_ok(const char *r)
{
	if (!r || r[0] != '/' || r[1] == '/' || r[1] == '\\')
		return 0;
	if (strlen(r) > 1024)
		return 0;
	for (const unsigned char *p = (const unsigned char *)r; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	return 1;
}

static char *url_escape(const char *s)
{
	char *t = curl_easy_escape(NULL, s, 0);
	char *r = strdup(t ? t : "");
	curl_free(t);
	return r;
}

static const char *redirect_uri(char *buf, size_t len)
{
	snprintf(buf, len, "%s/oauth/callback", cfg_str(CFG_PUBLIC_URL));
	return buf;
}

int auth_login_begin(char **authorize_url, char **presession, struct db *db, const char *return_to,
		     const char *login_hint, struct err *e)
{
	if (!pepper_loaded)
		return err_set(e, ERR_FAIL, "authentication is not initialised");
	if (!*cfg_str(CFG_GITHUB_CLIENT_ID))
		return err_set(e, ERR_UNSUPPORTED, "sign-in is not configured: github_client_id is empty");
	char state[AUTH_TOKEN_HEX + 1], pre[AUTH_TOKEN_HEX + 1], verifier[64], challenge[64];
	char state_hash[65], pre_hash[65], cb[1024];
	crypto_random_hex(state, 32);
	crypto_random_hex(pre, 32);
	crypto_random_b64url(verifier, sizeof verifier, 32); /* 43 chars, RFC 7636's minimum length */
	crypto_s256_b64url(challenge, sizeof challenge, verifier);
	hash_token(state_hash, "state", state);
	hash_token(pre_hash, "presession", pre);
	char ad[128];
	snprintf(ad, sizeof ad, "oauth_verifier:%s", state_hash);
	char *vsealed = crypto_seal(verifier, strlen(verifier), ad, e);
	sodium_memzero(verifier, sizeof verifier);
	if (!vsealed)
		return ERR_FAIL;
	int rc = store_state_create(db, state_hash, pre_hash, vsealed, auth_return_to_ok(return_to) ? return_to : "/", e);
	free(vsealed);
	if (rc)
		return rc;
	char *cid = url_escape(cfg_str(CFG_GITHUB_CLIENT_ID)), *ru = url_escape(redirect_uri(cb, sizeof cb)),
	     *scope = url_escape(cfg_str(CFG_GITHUB_SCOPE));
	struct buf u = BUF_INIT;
	buf_printf(&u, "%s/login/oauth/authorize?client_id=%s&redirect_uri=%s&state=%s&code_challenge=%s"
		       "&code_challenge_method=S256",
		   cfg_str(CFG_GITHUB_WEB_URL), cid, ru, state, challenge);
	if (strcmp(cfg_str(CFG_GITHUB_APP_KIND), "app") != 0)
		buf_printf(&u, "&scope=%s", scope);
	if (login_hint && *login_hint) {
		char *lh = url_escape(login_hint);
		buf_printf(&u, "&login=%s", lh);
		free(lh);
	}
	free(cid);
	free(ru);
	free(scope);
	*authorize_url = buf_steal(&u);
	*presession = strdup(pre);
	sodium_memzero(state, sizeof state);
	return 0;
}

static int store_tokens(struct db *db, long long user_id, const struct gh_tokens *t, struct err *e)
{
	char ad[64], rad[64];
	snprintf(ad, sizeof ad, "gh_access:user:%lld", user_id);
	snprintf(rad, sizeof rad, "gh_refresh:user:%lld", user_id);
	char *as = crypto_seal(t->access_token, strlen(t->access_token), ad, e);
	char *rs = t->refresh_token ? crypto_seal(t->refresh_token, strlen(t->refresh_token), rad, e) : NULL;
	int rc = as ? store_connection_put(db, user_id, t->refresh_token ? "app" : "oauth", as, rs, t->expires_in,
					   t->refresh_expires_in, t->scope, e)
		    : ERR_FAIL;
	free(as);
	free(rs);
	return rc;
}

int auth_login_finish(char **session_token, char **return_to, struct db *db, const char *state, const char *code,
		      const char *presession, const char *ip, const char *ua, struct err *e)
{
	if (!state || strlen(state) != AUTH_TOKEN_HEX || strspn(state, "0123456789abcdef") != AUTH_TOKEN_HEX)
		return err_set(e, ERR_INVALID, "The sign-in request is missing its state or the state is malformed.");
	if (!presession || !*presession)
		return err_set(e, ERR_INVALID, "The sign-in was started in another browser, or its cookie has expired.");
	if (!code || !*code || strlen(code) > 512)
		return err_set(e, ERR_INVALID, "GitHub sent no authorization code.");
	char state_hash[65], pre_hash[65], cb[1024];
	hash_token(state_hash, "state", state);
	hash_token(pre_hash, "presession", presession);
	struct oauth_state st;
	int rc = store_state_consume(&st, db, state_hash, e);
	if (rc == ERR_NOTFOUND)
		return err_set(e, ERR_INVALID, "This sign-in link is unknown, expired or was already used. Start again.");
	if (rc)
		return rc;
	if (!crypto_str_eq(st.presession_hash, pre_hash)) {
		store_state_free(&st);
		return err_set(e, ERR_INVALID, "The sign-in was started in another browser. Start again here.");
	}
	char ad[128];
	snprintf(ad, sizeof ad, "oauth_verifier:%s", state_hash);
	char *verifier = NULL;
	rc = crypto_open(&verifier, NULL, st.verifier_sealed, ad, e);
	if (rc) {
		log_msg(LOG_ERROR, "sign-in verifier could not be opened: %s", e ? e->msg : "");
		store_state_free(&st);
		return err_set(e, ERR_INVALID, "The sign-in state could not be read. Start again.");
	}
	struct gh_tokens t;
	rc = gh_oauth_exchange(&t, code, verifier, redirect_uri(cb, sizeof cb), e);
	sodium_memzero(verifier, strlen(verifier));
	free(verifier);
	if (rc) {
		store_state_free(&st);
		return rc;
	}
	struct gh_user gu;
	rc = gh_user_get(&gu, t.access_token, e);
	if (rc) {
		gh_tokens_free(&t);
		store_state_free(&st);
		return rc;
	}
	struct user u = { 0 }; /* freed on every path, a failed upsert's too */
	rc = store_user_upsert(&u, db, gu.id, gu.login, gu.name, gu.email, gu.avatar_url, e);
	gh_user_free(&gu);
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", rc == 0 ? u.id : 0LL);
	if (rc == 0 && (rc = db_begin(db, e)) == 0) /* the tokens and their audit event together */
		rc = ops_audit_commit(db, store_tokens(db, u.id, &t, e), "auth.github_connected", "user", uid, 0, NULL, e);
	if (rc == 0) {
		/* A reconnect ends what a refused token stopped: the waiting syncs go on by themselves. */
		struct err re = { 0 };
		if (sync_resume_owner(NULL, db, u.id, &re))
			log_msg(LOG_WARN, "syncs of %s not resumed: %s", u.login, re.msg);
	}
	sodium_memzero(t.access_token, strlen(t.access_token));
	gh_tokens_free(&t);
	if (rc) {
		store_user_free(&u);
		store_state_free(&st);
		return rc;
	}
	char tok[AUTH_TOKEN_HEX + 1], th[65];
	crypto_random_hex(tok, 32);
	hash_token(th, "session", tok);
	long long sid;
	if ((rc = db_begin(db, e)) == 0)
		rc = ops_audit_commit(db, store_session_create(&sid, db, th, u.id, cfg_long(CFG_SESSION_LIFETIME_HOURS) * 3600, ip, ua, e),
				      "auth.signed_in", "user", uid, 0, NULL, e);
	if (rc == 0) {
		*session_token = strdup(tok);
		/* Signed in with nowhere in particular to go: the start page is the marketing page, with
		 * nothing to do there; the projects page is where work starts (or the first project is made). */
		*return_to = strdup(auth_return_to_ok(st.return_to) && strcmp(st.return_to, "/") != 0 ? st.return_to
												 : "/projects");
		log_kv(LOG_INFO, "signed in", "user", u.login, NULL);
	}
	sodium_memzero(tok, sizeof tok);
	store_user_free(&u);
	store_state_free(&st);
	return rc;
}

static void csrf_for(char out[65], const char *session_token)
{
	char h[65];
	hash_token(h, "csrf", session_token);
	snprintf(out, 65, "%.48s", h);
}

static void fill_user(struct auth_user *out, const struct user *u)
{
	out->user_id = u->id;
	snprintf(out->login, sizeof out->login, "%s", u->login ? u->login : "");
	snprintf(out->name, sizeof out->name, "%s", u->name ? u->name : "");
	snprintf(out->avatar_url, sizeof out->avatar_url, "%s", u->avatar_url ? u->avatar_url : "");
	out->is_admin = u->is_admin;
}

int auth_session_get(struct auth_user *out, struct db *db, const char *token, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!token || strlen(token) != AUTH_TOKEN_HEX || strspn(token, "0123456789abcdef") != AUTH_TOKEN_HEX)
		return err_set(e, ERR_NOTFOUND, "no session");
	char th[65];
	hash_token(th, "session", token);
	struct session_row s;
	struct user u;
	int rc = store_session_lookup(&s, &u, db, th, cfg_long(CFG_SESSION_IDLE_MINUTES) * 60, e);
	if (rc)
		return rc;
	fill_user(out, &u);
	out->session_id = s.id;
	out->kind = "session";
	snprintf(out->scopes, sizeof out->scopes, "projects:read projects:write sync pulls%s", u.is_admin ? " admin" : "");
	csrf_for(out->csrf, token);
	store_user_free(&u);
	store_session_free(&s);
	return 0;
}

int auth_logout(struct db *db, const char *token, struct err *e)
{
	if (!token || strlen(token) != AUTH_TOKEN_HEX)
		return 0;
	char th[65];
	hash_token(th, "session", token);
	int rc = db_begin(db, e);
	return ops_audit_commit(db, rc ? rc : store_session_end_by_hash(db, th, e), "auth.signed_out", "session", NULL, 0, NULL, e);
}

int auth_csrf_check(const struct auth_user *u, const char *token)
{
	return u && u->csrf[0] && token && crypto_str_eq(u->csrf, token);
}

/* Marks the connection needs_reconnect and, when it was not already, records auth.github_needs_reconnect
 * with the reason in the same transaction (the actor is whoever's call found out: the user, or system for
 * a job). In its own transaction, or in the caller's when one is open (then the caller commits both). A
 * failure is logged: the caller's refusal stands either way. */
static void note_reconnect(struct db *db, long long user_id, const char *why)
{
	struct err e = { 0 };
	int outer = db_in_tx(db); /* the caller's transaction carries both, and commits them */
	int changed = 0, rc = outer ? 0 : db_begin(db, &e);
	if (rc == 0) {
		rc = store_connection_mark_reconnect(&changed, db, user_id, why, &e);
		if (rc == 0 && changed) {
			char uid[24], det[512];
			snprintf(uid, sizeof uid, "%lld", user_id);
			ops_audit_kv(det, sizeof det, "reason", why);
			rc = store_audit_add(db, "auth.github_needs_reconnect", "user", uid, 0, "failure", det, &e);
		}
		if (outer)
			;
		else if (rc == 0)
			rc = db_commit(db, &e);
		else
			db_rollback(db);
	}
	if (rc)
		log_msg(LOG_WARN, "marking user %lld's GitHub connection for reconnecting: %s", user_id, e.msg);
}

static int mark_reconnect(struct db *db, long long user_id, const char *why, struct err *e)
{
	note_reconnect(db, user_id, why);
	return err_set(e, ERR_UNAUTH, "GitHub access is not available (%s). Reconnect GitHub.", why);
}

/* Inside the transaction that holds the connection's row lock: trades the refresh token (wiped and
 * freed here) for new tokens, stores them and commits, or rolls back; *token is the new access token. */
static int refresh_locked(char **token, struct db *db, long long user_id, char *refresh, const char *when, struct err *e)
{
	struct gh_tokens t;
	struct err ge = { 0 };
	int rc = gh_oauth_refresh(&t, refresh, &ge);
	sodium_memzero(refresh, strlen(refresh));
	free(refresh);
	if (rc) {
		db_rollback(db);
		log_msg(LOG_WARN, "token refresh for user %lld%s failed: %s", user_id, when, ge.msg);
		return rc == ERR_INVALID ? mark_reconnect(db, user_id, "GitHub refused the refresh token", e)
					 : err_set(e, rc, "%s", ge.msg);
	}
	rc = store_tokens(db, user_id, &t, e);
	if (rc == 0)
		rc = db_commit(db, e);
	else
		db_rollback(db);
	if (rc == 0)
		*token = strdup(t.access_token);
	sodium_memzero(t.access_token, strlen(t.access_token));
	gh_tokens_free(&t);
	return rc;
}

int auth_github_token(char **token, struct db *db, long long user_id, struct err *e)
{
	struct connection c;
	int rc = store_connection_get(&c, db, user_id, 0, e);
	if (rc == ERR_NOTFOUND)
		return err_set(e, ERR_UNAUTH, "Not connected to GitHub. Connect GitHub first.");
	if (rc)
		return rc;
	char ad[64], rad[64];
	snprintf(ad, sizeof ad, "gh_access:user:%lld", user_id);
	snprintf(rad, sizeof rad, "gh_refresh:user:%lld", user_id);
	if (strcmp(c.status, "ok") != 0 || !c.access_sealed) {
		rc = err_set(e, ERR_UNAUTH, "GitHub access is not available (%s). Reconnect GitHub.",
			     c.status_reason ? c.status_reason : c.status);
		store_connection_free(&c);
		return rc;
	}
	if (c.access_expires_in > 300) {
		rc = crypto_open(token, NULL, c.access_sealed, ad, e);
		store_connection_free(&c);
		if (rc) {
			log_msg(LOG_ERROR, "GitHub token of user %lld cannot be opened (tampered or wrong key): treating it as missing",
				user_id);
			return mark_reconnect(db, user_id, "the stored token could not be decrypted", e);
		}
		return 0;
	}
	store_connection_free(&c);
	/* Refresh under a row lock: the first process refreshes, the others wait and
	 * then read the fresh token (refresh tokens are single-use at GitHub). */
	rc = db_begin(db, e);
	if (rc)
		return rc;
	rc = store_connection_get(&c, db, user_id, 1, e);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	if (c.access_expires_in > 300 && c.access_sealed) {
		rc = crypto_open(token, NULL, c.access_sealed, ad, e);
		store_connection_free(&c);
		db_commit(db, NULL);
		return rc ? mark_reconnect(db, user_id, "the stored token could not be decrypted", e) : 0;
	}
	char *refresh = NULL;
	if (!c.refresh_sealed || crypto_open(&refresh, NULL, c.refresh_sealed, rad, NULL) != 0) {
		store_connection_free(&c);
		db_rollback(db);
		return mark_reconnect(db, user_id, "the token expired and cannot be refreshed", e);
	}
	store_connection_free(&c);
	return refresh_locked(token, db, user_id, refresh, "", e);
}

int auth_github_token_refused(char **token, struct db *db, long long user_id, const char *refused, struct err *e)
{
	*token = NULL;
	char ad[64], rad[64];
	snprintf(ad, sizeof ad, "gh_access:user:%lld", user_id);
	snprintf(rad, sizeof rad, "gh_refresh:user:%lld", user_id);
	/* Under the row lock, like the refresh above: one process refreshes, the others get its token. */
	int rc = db_begin(db, e);
	if (rc)
		return rc;
	struct connection c;
	if ((rc = store_connection_get(&c, db, user_id, 1, e))) {
		db_rollback(db);
		return rc == ERR_NOTFOUND ? err_set(e, ERR_UNAUTH, "Not connected to GitHub. Connect GitHub first.") : rc;
	}
	char *current = NULL, *refresh = NULL;
	if (strcmp(c.status, "ok") == 0 && c.access_sealed && crypto_open(&current, NULL, c.access_sealed, ad, NULL) == 0 &&
	    refused && strcmp(current, refused) != 0) {
		store_connection_free(&c);
		db_commit(db, NULL);
		*token = current;
		return 0;
	}
	if (current) {
		sodium_memzero(current, strlen(current));
		free(current);
	}
	if (strcmp(c.status, "ok") != 0 || !c.refresh_sealed || crypto_open(&refresh, NULL, c.refresh_sealed, rad, NULL) != 0) {
		/* An OAuth App token does not expire: refused means revoked. */
		store_connection_free(&c);
		db_rollback(db);
		return mark_reconnect(db, user_id, "GitHub refused the token", e);
	}
	store_connection_free(&c);
	return refresh_locked(token, db, user_id, refresh, " after a refusal", e);
}

int auth_disconnect(struct db *db, long long user_id, struct err *e)
{
	struct connection c;
	int rc = store_connection_get(&c, db, user_id, 0, e);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	char ad[64];
	snprintf(ad, sizeof ad, "gh_access:user:%lld", user_id);
	char *tok = NULL;
	if (c.access_sealed && crypto_open(&tok, NULL, c.access_sealed, ad, NULL) == 0) {
		struct err ge = { 0 };
		if (gh_grant_revoke(tok, &ge) != 0)
			log_msg(LOG_WARN, "revoking the GitHub grant of user %lld failed: %s", user_id, ge.msg);
		sodium_memzero(tok, strlen(tok));
		free(tok);
	}
	store_connection_free(&c);
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", user_id);
	if ((rc = db_begin(db, e)))
		return rc;
	return ops_audit_commit(db, store_connection_clear(db, user_id, e), "auth.github_disconnected", "user", uid, 0, NULL, e);
}

int auth_has_scope(const struct auth_user *u, const char *scope)
{
	size_t n = strlen(scope);
	for (const char *p = u->scopes; (p = strstr(p, scope)); p += n)
		if ((p == u->scopes || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

int auth_apikey_create(char **key, struct db *db, long long user_id, const char *name, const char *scopes,
		       int expires_days, struct err *e)
{
	if (!name || !*name || strlen(name) > 100)
		return err_set_field(e, ERR_INVALID, "name", "Give the key a name of 1 to 100 characters.");
	if (expires_days < 0 || expires_days > 3650)
		return err_set_field(e, ERR_INVALID, "expires_days", "Expiry must be between 0 (never) and 3650 days.");
	struct buf arr = BUF_INIT;
	char *copy = strdup(scopes ? scopes : "");
	int n = 0;
	buf_putc(&arr, '{');
	for (char *tok = strtok(copy, " ,"); tok; tok = strtok(NULL, " ,")) {
		int known = 0;
		for (int i = 0; auth_scopes[i]; i++)
			if (strcmp(auth_scopes[i], tok) == 0)
				known = 1;
		if (!known) {
			int rc = err_set_field(e, ERR_INVALID, "scope", "Unknown scope '%.40s'. Scopes: projects:read, projects:write, sync, pulls, admin.", tok);
			free(copy);
			buf_free(&arr);
			return rc;
		}
		buf_printf(&arr, "%s%s", n++ ? "," : "", tok);
	}
	buf_putc(&arr, '}');
	free(copy);
	if (n == 0) {
		buf_free(&arr);
		return err_set_field(e, ERR_INVALID, "scope", "Choose at least one scope.");
	}
	char pub[17], secret[AUTH_TOKEN_HEX + 1], h[65];
	crypto_random_hex(pub, 8);
	crypto_random_hex(secret, 32);
	hash_token(h, "apikey", secret);
	long long id;
	char det[512];
	ops_audit_kv(det, sizeof det, "name", name);
	int rc = db_begin(db, e);
	if (rc == 0)
		rc = ops_audit_commit(db, store_apikey_create(&id, db, pub, user_id, name, h, buf_cstr(&arr), expires_days, e),
				      "auth.apikey_created", "api_key", pub, 0, det, e);
	buf_free(&arr);
	if (rc == 0) {
		size_t len = 4 + 16 + 1 + AUTH_TOKEN_HEX + 1;
		*key = malloc(len);
		snprintf(*key, len, "ghb_%s_%s", pub, secret);
	}
	sodium_memzero(secret, sizeof secret);
	return rc;
}

/* The key acts in its own events: the request's address, agent and id (bound by the web layer before
 * authentication) stay, the actor becomes the key (by its public id) and its user. Returns the actor to
 * restore. */
static const struct actor *act_as_key(struct actor *a, struct db *db, const struct apikey_row *k, const struct user *u)
{
	const struct actor *prev = db_actor(db);
	memset(a, 0, sizeof *a);
	if (prev)
		*a = *prev;
	a->type = "api_key";
	a->user_id = k->user_id;
	a->login = u->login;
	a->key_id = k->public_id;
	db_actor_set(db, a);
	return prev;
}

/* auth.apikey_expired, at most once a day per key (store_apikey_note_expired), in the transaction that
 * marks it. A failure is logged: the request is refused either way. */
static void note_key_expired(struct db *db, const struct apikey_row *k, const struct user *u)
{
	struct actor a;
	const struct actor *prev = act_as_key(&a, db, k, u);
	struct err e = { 0 };
	char det[256];
	ops_audit_kv(det, sizeof det, "name", k->name);
	int noted = 0, rc = db_begin(db, &e);
	if (rc == 0) {
		rc = store_apikey_note_expired(&noted, db, k->id, &e);
		if (rc == 0 && noted)
			rc = store_audit_add(db, "auth.apikey_expired", "api_key", k->public_id, 0, "refused", det, &e);
		if (rc == 0)
			rc = db_commit(db, &e);
		else
			db_rollback(db);
	}
	if (rc)
		log_msg(LOG_WARN, "recording the use of expired API key %s: %s", k->public_id, e.msg);
	db_actor_set(db, prev);
}

/* The first request of a key from an address not among its recorded ones writes auth.apikey_new_ip with
 * the address, in the transaction that records it; later ones from there cost one read until the host's
 * table remembers it (keyrate_ip_learn). */
static void note_key_ip(struct db *db, const struct apikey_row *k, const struct user *u, const char *ip)
{
	if (!ip || !*ip)
		return;
	struct err e = { 0 };
	int known = 0, added = 0;
	int rc = store_apikey_ip_known(&known, db, k->id, ip, &e);
	if (rc == 0 && !known) {
		struct actor a;
		const struct actor *prev = act_as_key(&a, db, k, u);
		char det[256];
		ops_audit_kv(det, sizeof det, "ip", ip);
		rc = db_begin(db, &e);
		if (rc == 0) {
			rc = store_apikey_ip_add(&added, db, k->id, ip, &e);
			if (rc == 0 && added)
				rc = store_audit_add(db, "auth.apikey_new_ip", "api_key", k->public_id, 0, "success", det, &e);
			if (rc == 0)
				rc = db_commit(db, &e);
			else
				db_rollback(db);
		}
		db_actor_set(db, prev);
	}
	if (rc)
		log_msg(LOG_WARN, "recording an address of API key %s: %s", k->public_id, e.msg);
	else
		keyrate_ip_learn(keyrate_key(k->public_id), ip);
}

int auth_apikey_verify(struct auth_user *out, int *retry_after, struct db *db, const char *bearer, const char *ip,
		       struct err *e)
{
	memset(out, 0, sizeof *out);
	*retry_after = 0;
	/* ghb_<16 hex>_<64 hex> */
	if (!bearer || strlen(bearer) != 4 + 16 + 1 + AUTH_TOKEN_HEX || strncmp(bearer, "ghb_", 4) != 0 ||
	    bearer[20] != '_' || strspn(bearer + 4, "0123456789abcdef") != 16 ||
	    strspn(bearer + 21, "0123456789abcdef") != AUTH_TOKEN_HEX)
		return err_set(e, ERR_UNAUTH, "Malformed API key.");
	char pub[17], h[65];
	memcpy(pub, bearer + 4, 16);
	pub[16] = '\0';
	struct apikey_row k;
	struct user u;
	int rc = store_apikey_lookup_user(&k, &u, db, pub, e);
	if (rc == ERR_NOTFOUND)
		return err_set(e, ERR_UNAUTH, "Unknown API key.");
	if (rc)
		return rc;
	hash_token(h, "apikey", bearer + 21);
	if (!crypto_str_eq(h, k.secret_hash)) {
		rc = err_set(e, ERR_UNAUTH, "Wrong API key.");
	} else if (k.revoked) {
		rc = err_set(e, ERR_UNAUTH, "This API key was revoked.");
	} else if (k.expired) {
		note_key_expired(db, &k, &u);
		rc = err_set(e, ERR_UNAUTH, "This API key has expired.");
	}
	if (rc)
		goto cleanup;
	long limit = k.rate_limit > 0 ? (long)k.rate_limit : cfg_long(CFG_API_RATE_LIMIT);
	struct keyrate_hit hit;
	keyrate_hit(&hit, keyrate_key(k.public_id), ip, time(NULL));
	long count;
	int reset;
	if (hit.counted) {
		count = hit.count;
		reset = hit.reset_s;
		if (hit.flush_uses > 0) {
			struct err fe = { 0 };
			if (store_apikey_record_use(db, k.id, hit.flush_uses, ip, &fe) != 0) {
				keyrate_unflush(keyrate_key(k.public_id), hit.flush_uses);
				log_msg(LOG_WARN, "recording the use of API key %s: %s (kept for the next minute)", k.public_id,
					fe.msg);
			}
		}
		if (!hit.ip_known)
			note_key_ip(db, &k, &u, ip);
	} else {
		/* No shared table on this host (or every entry live): the database counts, as before. */
		int c = 0;
		rc = store_apikey_count_use(&c, &reset, db, k.id, ip, e);
		if (rc)
			goto cleanup;
		count = c;
		note_key_ip(db, &k, &u, ip);
	}
	if (count > limit) {
		*retry_after = reset > 0 ? reset : 1;
		rc = err_set(e, ERR_RATELIMIT, "Rate limit of %ld requests per minute exceeded; retry in %d s.", limit,
			     *retry_after);
		goto cleanup;
	}
	fill_user(out, &u);
	out->kind = "api_key";
	out->api_key_id = k.id;
	snprintf(out->api_key_public, sizeof out->api_key_public, "%s", k.public_id ? k.public_id : "");
	snprintf(out->scopes, sizeof out->scopes, "%s", k.scopes ? k.scopes : "");
cleanup:
	store_user_free(&u);
	store_apikey_free(&k);
	return rc;
}

int auth_rotate_key(int *resealed, int *failed, struct db *db, const char *new_key_file, struct err *e)
{
	*resealed = *failed = 0;
	FILE *f = fopen(new_key_file, "r");
	if (!f)
		return err_set(e, ERR_NOTFOUND, "%s: %s", new_key_file, strerror(errno));
	char line[256];
	unsigned char nk[CRYPTO_KEY_BYTES];
	int ok = fgets(line, sizeof line, f) && crypto_key_parse(nk, line) == 0;
	fclose(f);
	sodium_memzero(line, sizeof line);
	if (!ok)
		return err_set(e, ERR_INVALID, "%s does not hold a 64-hex-digit key", new_key_file);
	char nid[9];
	crypto_key_id_of(nid, nk);
	/* 1. Put the new key first in the key file, keeping the old ones readable, so
	 *    every process can open what we write (they reload on an unknown key id). */
	const char *path = cfg_str(CFG_KEY_FILE);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.rotating", path);
	FILE *old = fopen(path, "r");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		if (old)
			fclose(old);
		return err_set(e, ERR_FAIL, "cannot write %s: %s", tmp, strerror(errno));
	}
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, nk, sizeof nk);
	fprintf(out, "%s\n", hex);
	sodium_memzero(hex, sizeof hex);
	if (old) {
		while (fgets(line, sizeof line, old)) {
			unsigned char k[CRYPTO_KEY_BYTES];
			char kid[9];
			if (crypto_key_parse(k, line) == 0) {
				crypto_key_id_of(kid, k);
				if (strcmp(kid, nid) != 0)
					fputs(line, out);
			}
			sodium_memzero(k, sizeof k);
		}
		sodium_memzero(line, sizeof line);
		fclose(old);
	}
	if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0 || rename(tmp, path) != 0)
		return err_set(e, ERR_FAIL, "cannot replace %s: %s", path, strerror(errno));
	int rc = crypto_keys_reload(e);
	if (rc)
		return rc;
	/* 2. Re-seal every value not already under the new key. */
	struct sealed_row *rows;
	int n;
	rc = store_sealed_all(&rows, &n, db, e);
	if (rc)
		return rc;
	for (int i = 0; i < n; i++) {
		char kid[9];
		if (crypto_sealed_key_id(kid, rows[i].sealed) == 0 && strcmp(kid, nid) == 0)
			continue;
		char *plain;
		size_t len;
		if (crypto_open(&plain, &len, rows[i].sealed, rows[i].ad, NULL) != 0) {
			log_kv(LOG_WARN, "cannot open a sealed value; left as is (it reads as missing)", "table", rows[i].table,
			       "row", rows[i].key, NULL);
			(*failed)++;
			continue;
		}
		char *ns = crypto_seal_with(nk, plain, len, rows[i].ad);
		sodium_memzero(plain, len);
		free(plain);
		if (store_sealed_update(db, &rows[i], rows[i].sealed, ns, NULL) == 0)
			(*resealed)++;
		else
			(*failed)++;
		free(ns);
	}
	store_sealed_free(rows, n);
	sodium_memzero(nk, sizeof nk);
	char det[96];
	snprintf(det, sizeof det, "{\"resealed\":%d,\"failed\":%d}", *resealed, *failed);
	ops_audit_note(db, "auth.key_rotated", "master_key", nid, 0, *failed ? "failure" : "success", det);
	return 0;
}

int auth_sessions(struct session_row **rows, int *n, struct db *db, long long user_id, struct err *e)
{
	return store_sessions_list(rows, n, db, user_id, cfg_long(CFG_SESSION_IDLE_MINUTES) * 60, e);
}

int auth_session_end(struct db *db, long long user_id, long long session_id, struct err *e)
{
	char sid[24];
	snprintf(sid, sizeof sid, "%lld", session_id);
	int rc = db_begin(db, e);
	return rc ? rc : ops_audit_commit(db, store_session_end(db, user_id, session_id, e), "auth.session_ended", "session", sid, 0, NULL, e);
}

int auth_sessions_end_all(struct db *db, long long user_id, struct err *e)
{
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", user_id);
	int rc = db_begin(db, e);
	return rc ? rc : ops_audit_commit(db, store_sessions_end_all(db, user_id, e), "auth.sessions_ended_all", "user", uid, 0, NULL, e);
}

int auth_sessions_end_others(struct db *db, long long user_id, long long keep_id, struct err *e)
{
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", user_id);
	int rc = db_begin(db, e);
	return rc ? rc : ops_audit_commit(db, store_sessions_end_others(db, user_id, keep_id, e), "auth.sessions_ended_others",
					  "user", uid, 0, NULL, e);
}

int auth_apikeys(struct apikey_row **rows, int *n, struct db *db, long long user_id, struct err *e)
{
	return store_apikeys_list(rows, n, db, user_id, e);
}

int auth_apikey_revoke(struct db *db, long long user_id, long long key_id, struct err *e)
{
	char kid[24];
	snprintf(kid, sizeof kid, "%lld", key_id);
	int rc = db_begin(db, e);
	return rc ? rc : ops_audit_commit(db, store_apikey_revoke(db, user_id, key_id, e), "auth.apikey_revoked", "api_key", kid, 0, NULL, e);
}

int auth_connection(struct connection *out, struct db *db, long long user_id, struct err *e)
{
	int rc = store_connection_get(out, db, user_id, 0, e);
	if (rc || strcmp(out->status, "ok") != 0 || !out->access_sealed)
		return rc;
	/* A token that no longer opens (tampered, or sealed with a key we lost) is
	 * missing: say so now, so the page offers "Reconnect GitHub". */
	char ad[64], *tok = NULL;
	snprintf(ad, sizeof ad, "gh_access:user:%lld", user_id);
	if (crypto_open(&tok, NULL, out->access_sealed, ad, NULL) == 0) {
		sodium_memzero(tok, strlen(tok));
		free(tok);
		return 0;
	}
	log_msg(LOG_ERROR, "GitHub token of user %lld cannot be opened (tampered or wrong key): treating it as missing",
		user_id);
	const char *why = "the stored token could not be decrypted";
	note_reconnect(db, user_id, why);
	free(out->status);
	free(out->status_reason);
	out->status = strdup("needs_reconnect");
	out->status_reason = strdup(why);
	return 0;
}
