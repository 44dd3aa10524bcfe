/* oauth.c: GitHub's OAuth web flow: the authorize page, code exchange (PKCE S256, refresh rotation), grant revocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "tests/fakehub/fakehub.h"
#include "view/tmpl.h"

#define CODE_TTL 600
#define APP_TOKEN_TTL 28800          /* 8 hours */
#define APP_REFRESH_TTL 15811200     /* about 6 months, as GitHub's examples show */

struct client {
	const char *id, *secret, *kind, *callback, *name;
};

static int client_get(struct client *c, const char *id)
{
	FH_STMT(st, "SELECT client_id, client_secret, kind, callback_url, name FROM clients WHERE client_id = $1");
	if (!id || !*id)
		return ERR_NOTFOUND;
	PGresult *r = Q(st, id);
	if (!r)
		return ERR_DB;
	if (!PQntuples(r)) {
		PQclear(r);
		return ERR_NOTFOUND;
	}
	struct arena *a = C->req->arena;
	c->id = arena_strdup(a, fh_val(r, 0, "client_id"));
	c->secret = arena_strdup(a, fh_val(r, 0, "client_secret"));
	c->kind = arena_strdup(a, fh_val(r, 0, "kind"));
	c->callback = arena_strdup(a, fh_val(r, 0, "callback_url"));
	c->name = arena_strdup(a, fh_val(r, 0, "name"));
	PQclear(r);
	return 0;
}

/* Splits "host[:port]" (or "[v6]:port") of a URL's authority; port defaults by scheme. */
static void authority(const char *url, char *host, size_t hcap, long *port)
{
	const char *s = strstr(url, "://");
	int https = s && (s - url) == 5 && strncasecmp(url, "https", 5) == 0;
	*port = https ? 443 : 80;
	host[0] = '\0';
	if (!s)
		return;
	s += 3;
	size_t n = strcspn(s, "/?#");
	const char *at = memchr(s, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	const char *colon = NULL;
	if (*s == '[') {
		const char *rb = memchr(s, ']', n);
		if (rb && (size_t)(rb + 1 - s) < n && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(s, ':', n);
	}
	size_t hl = colon ? (size_t)(colon - s) : n;
	if (hl >= hcap)
		hl = hcap - 1;
	for (size_t i = 0; i < hl; i++)
		host[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	host[hl] = '\0';
	if (colon)
		*port = strtol(colon + 1, NULL, 10);
}

static int is_loopback_host(const char *h)
{
	return strcmp(h, "127.0.0.1") == 0 || strcmp(h, "[::1]") == 0;
}

/* GitHub's rules (docs: "Authorizing OAuth apps", Redirect URLs). OAuth Apps: same scheme; the
 * host may be a sub-domain of the callback's; the port must match, except for loopback callbacks
 * (127.0.0.1, ::1) where any port is allowed; the path must be the callback's path or below it.
 * GitHub Apps (docs: "Generating a user access token for a GitHub App"): an exact match. */
static int redirect_ok(const struct client *c, const char *uri)
{
	const char *cb = c->callback;
	if (!uri || !*uri)
		return 1;
	if (strcmp(c->kind, "app") == 0)
		return strcmp(cb, uri) == 0;
	const char *cs = strstr(cb, "://"), *us = strstr(uri, "://");
	if (!cs || !us || (cs - cb) != (us - uri) || strncasecmp(cb, uri, (size_t)(cs - cb)) != 0)
		return 0;
	char ch[256], uh[256];
	long cport, uport;
	authority(cb, ch, sizeof ch, &cport);
	authority(uri, uh, sizeof uh, &uport);
	size_t chl = strlen(ch), uhl = strlen(uh);
	int same_host = strcmp(ch, uh) == 0;
	int sub_host = !same_host && !is_loopback_host(ch) && uhl > chl + 1 && uh[uhl - chl - 1] == '.' &&
		       strcmp(uh + uhl - chl, ch) == 0;
	if (!same_host && !sub_host)
		return 0;
	if (cport != uport && !(same_host && is_loopback_host(ch)))
		return 0;
	cs += 3;
	us += 3;
	const char *cp = cs + strcspn(cs, "/?#"), *up = us + strcspn(us, "/?#");
	size_t cpl = strcspn(cp, "?#"), upl = strcspn(up, "?#");
	while (cpl && cp[cpl - 1] == '/')
		cpl--;
	if (upl < cpl || strncmp(cp, up, cpl) != 0)
		return 0;
	return upl == cpl || up[cpl] == '/';
}

static void url_escape(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_.~", *p))
			buf_putc(b, (char)*p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

static void hesc(struct buf *b, const char *s) { html_escape(b, s, strlen(s)); }

static int error_page(int status, const char *title, const char *detail)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>");
	hesc(&b, title);
	buf_puts(&b, " · fakehub</title></head><body><main class=\"error\"><h1>");
	hesc(&b, title);
	buf_puts(&b, "</h1><p>");
	hesc(&b, detail);
	buf_puts(&b, "</p></main></body></html>\n");
	resp_text(C->resp, status, "text/html; charset=utf-8", buf_cstr(&b));
	buf_free(&b);
	return 0;
}

static const char *const carried[] = { "client_id", "redirect_uri", "state", "scope", "code_challenge",
				       "code_challenge_method" };

static const char *param(const char *k)
{
	const char *v = req_form(C->req, k);
	return v ? v : req_query(C->req, k);
}

static int authorize_page(const struct client *c, const char *problem)
{
	struct buf b = BUF_INIT;
	const char *login = param("login");
	buf_puts(&b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorize application · fakehub</title>"
		     "</head><body><main class=\"authorize\"><h1>Authorize <span class=\"app\">");
	hesc(&b, c->name);
	buf_puts(&b, "</span></h1><p>fakehub, a local GitHub emulator, asks which user to sign in as.</p>");
	if (problem) {
		buf_puts(&b, "<p class=\"flash error\" role=\"alert\">");
		hesc(&b, problem);
		buf_puts(&b, "</p>");
	}
	const char *scope = param("scope");
	if (scope && *scope) {
		buf_puts(&b, "<p>Requested scopes: <code class=\"scope\">");
		hesc(&b, scope);
		buf_puts(&b, "</code></p>");
	}
	buf_puts(&b, "<form method=\"post\" action=\"/login/oauth/authorize\">");
	for (size_t i = 0; i < sizeof carried / sizeof carried[0]; i++) {
		const char *v = param(carried[i]);
		if (!v)
			continue;
		buf_printf(&b, "<input type=\"hidden\" name=\"%s\" value=\"", carried[i]);
		hesc(&b, v);
		buf_puts(&b, "\">");
	}
	buf_puts(&b, "<label for=\"login\">Username</label> <input type=\"text\" id=\"login\" name=\"login\" "
		     "autocomplete=\"username\" required value=\"");
	hesc(&b, login ? login : "");
	buf_puts(&b, "\"> <button type=\"submit\" name=\"action\" value=\"authorize\" id=\"authorize\">Authorize</button> "
		     "<button type=\"submit\" name=\"action\" value=\"cancel\" id=\"cancel\" formnovalidate>Cancel</button>"
		     "</form></main></body></html>\n");
	resp_text(C->resp, problem ? 422 : 200, "text/html; charset=utf-8", buf_cstr(&b));
	buf_free(&b);
	return 0;
}

static int redirect_to(const char *uri, struct buf *q);

/* Checks client, redirect URI and PKCE method; answers the error page itself (returns <0). */
static int authorize_check(struct client *c)
{
	int rc = client_get(c, param("client_id"));
	if (rc == ERR_DB)
		return error_page(500, "Server error", "The database is not reachable."), -1;
	if (rc)
		return error_page(404, "Application not found", "The client_id is not valid."), -1;
	if (!redirect_ok(c, param("redirect_uri"))) {
		/* docs: "Troubleshooting authorization request errors": GitHub redirects to the
		 * registered callback URL with error=redirect_uri_mismatch (and the state). */
		struct buf q = BUF_INIT;
		buf_puts(&q, "error=redirect_uri_mismatch&error_description=The+redirect_uri+MUST+match+the+registered+"
			     "callback+URL+for+this+application.&error_uri=https%3A%2F%2Fdocs.github.com%2Fapps%2F"
			     "managing-oauth-apps%2Ftroubleshooting-authorization-request-errors%2F%23redirect-uri-mismatch");
		return redirect_to(c->callback, &q), -1;
	}
	const char *ch = param("code_challenge"), *m = param("code_challenge_method");
	if (ch && *ch && (!m || strcmp(m, "S256") != 0))
		return error_page(400, "Invalid code_challenge_method", "Only S256 is supported."), -1;
	if (ch && *ch && strlen(ch) != 43)
		return error_page(400, "Invalid code_challenge", "The code_challenge must be a base64url SHA-256."), -1;
	return 0;
}

int oauth_authorize_get(struct request *req, struct response *resp)
{
	struct client c;
	if (authorize_check(&c) < 0)
		return 0;
	return authorize_page(&c, NULL);
}

static int redirect_to(const char *uri, struct buf *q)
{
	const char *state = param("state");
	if (state) {
		buf_puts(q, "&state=");
		url_escape(q, state);
	}
	const char *loc = arena_printf(C->req->arena, "%s%c%s", uri, strchr(uri, '?') ? '&' : '?', buf_cstr(q));
	resp_redirect(C->resp, 302, loc);
	buf_free(q);
	return 0;
}

static int redirect_back(const struct client *c, struct buf *q)
{
	const char *uri = param("redirect_uri");
	return redirect_to(uri && *uri ? uri : c->callback, q);
}

int oauth_authorize_post(struct request *req, struct response *resp)
{
	struct client c;
	if (authorize_check(&c) < 0)
		return 0;
	const char *action = req_form(req, "action");
	struct buf q = BUF_INIT;
	if ((action && strcmp(action, "cancel") == 0) || req_form(req, "cancel")) {
		buf_puts(&q, "error=access_denied&error_description=The+user+has+denied+your+application+access.&"
			     "error_uri=https%3A%2F%2Fdocs.github.com%2Fapps%2Fmanaging-oauth-apps%2Ftroubleshooting-"
			     "authorization-request-errors%2F%23access-denied");
		return redirect_back(&c, &q);
	}
	const char *login = req_form(req, "login");
	PGresult *u;
	if (!login || !*login || fh_account_by_login(&u, login) != 0)
		return authorize_page(&c, "There is no user with that login.");
	long long uid = fh_vall(u, 0, "id");
	int is_user = strcmp(fh_val(u, 0, "type"), "User") == 0;
	PQclear(u);
	if (!is_user)
		return authorize_page(&c, "Organisations cannot sign in.");
	unsigned char raw[10];
	char code[21], hash[65];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(code, sizeof code, raw, sizeof raw);
	fh_sha256_hex(hash, code, strlen(code));
	FH_STMT(st, "INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, "
		    "challenge_method, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
	const char *ch = param("code_challenge");
	PGresult *r = Q(st, hash, c.id, fh_ll(uid), param("redirect_uri"), param("scope") ? param("scope") : "",
			ch && *ch ? ch : NULL, ch && *ch ? "S256" : NULL, fh_ll(C->now + CODE_TTL));
	if (!r)
		return error_page(500, "Server error", "Could not store the code.");
	PQclear(r);
	buf_puts(&q, "code=");
	buf_puts(&q, code);
	return redirect_back(&c, &q);
}

/* ---- token endpoint: errors are HTTP 200 with an error field, like GitHub's */

static const char *in(const char *k)
{
	const char *v = fh_in(k);
	return v ? v : req_query(C->req, k);
}

static int wants_json(void)
{
	const char *a = req_header(C->req, "Accept");
	return a && strstr(a, "json");
}

static int token_answer(struct json_object *o)
{
	if (wants_json())
		return fh_json(200, o);
	/* GitHub's default: application/x-www-form-urlencoded. */
	struct buf b = BUF_INIT;
	json_object_object_foreach(o, k, v)
	{
		if (b.len)
			buf_putc(&b, '&');
		buf_puts(&b, k);
		buf_putc(&b, '=');
		url_escape(&b, v ? json_object_get_string(v) : "");
	}
	resp_text(C->resp, 200, "application/x-www-form-urlencoded; charset=utf-8", buf_cstr(&b));
	buf_free(&b);
	json_object_put(o);
	return 0;
}

static int token_error(const char *error, const char *desc, const char *anchor)
{
	struct json_object *o = json_object_new_object();
	js(o, "error", error);
	js(o, "error_description", desc);
	/* The anchor names a section of the token-request errors page, or "page/#section" of another. */
	js(o, "error_uri",
	   arena_printf(C->req->arena, "https://docs.github.com/apps/managing-oauth-apps/%s%s", strchr(anchor, '/') ? "" :
			"troubleshooting-oauth-app-access-token-request-errors/#", anchor));
	return token_answer(o);
}

static int bad_code(void)
{
	return token_error("bad_verification_code", "The code passed is incorrect or expired.", "bad-verification-code");
}

static int issue_tokens(const struct client *c, long long uid, const char *scope)
{
	char access[64], refresh[64];
	struct err e = { 0 };
	struct json_object *o = json_object_new_object();
	if (strcmp(c->kind, "app") == 0) {
		long long aid = 0, rid = 0;
		if (fh_token_issue(access, sizeof access, uid, c->id, "access", "ghu", "", C->now + APP_TOKEN_TTL, &aid, &e) ||
		    fh_token_issue(refresh, sizeof refresh, uid, c->id, "refresh", "ghr", "", C->now + APP_REFRESH_TTL,
				   &rid, &e)) {
			json_object_put(o);
			return fh_error(500, e.msg);
		}
		/* The refresh token remembers its access token: using it retires both. */
		FH_STMT(pair, "UPDATE tokens SET pair_id = $2 WHERE id = $1");
		PGresult *pr = Q(pair, fh_ll(rid), fh_ll(aid));
		if (pr)
			PQclear(pr);
		js(o, "access_token", access);
		ji(o, "expires_in", APP_TOKEN_TTL);
		js(o, "refresh_token", refresh);
		ji(o, "refresh_token_expires_in", APP_REFRESH_TTL);
		js(o, "scope", "");
		js(o, "token_type", "bearer");
	} else {
		if (fh_token_issue(access, sizeof access, uid, c->id, "access", "gho", scope, 0, NULL, &e)) {
			json_object_put(o);
			return fh_error(500, e.msg);
		}
		js(o, "access_token", access);
		js(o, "token_type", "bearer");
		js(o, "scope", scope);
	}
	return token_answer(o);
}

static int s256_matches(const char *verifier, const char *challenge)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
	char b64[64];
	sodium_bin2base64(b64, sizeof b64, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return strcmp(b64, challenge) == 0;
}

int oauth_access_token(struct request *req, struct response *resp)
{
	struct client c;
	const char *cid = in("client_id"), *secret = in("client_secret");
	int rc = client_get(&c, cid);
	if (rc == ERR_DB)
		return fh_error(500, "Server Error");
	if (rc || !secret || strcmp(secret, c.secret) != 0)
		return token_error("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.",
				   "incorrect-client-credentials");
	const char *grant = in("grant_type");
	if (grant && strcmp(grant, "refresh_token") == 0) {
		const char *rt = in("refresh_token");
		if (strcmp(c.kind, "app") != 0 || !rt)
			return token_error("bad_refresh_token", "The refresh token passed is incorrect or expired.",
					   "bad-refresh-token");
		char hash[65];
		fh_sha256_hex(hash, rt, strlen(rt));
		/* Rotation (docs: "Refreshing user access tokens"): once used, the refresh token and the old
		 * user access token no longer work, whatever happens next. */
		FH_STMT(spend, "WITH r AS (UPDATE tokens SET revoked_at = $3 WHERE token_hash = $1 AND kind = 'refresh' "
			       "AND client_id = $2 AND revoked_at IS NULL AND expires_at > $3 RETURNING user_id, pair_id), "
			       "a AS (UPDATE tokens SET revoked_at = $3 WHERE id = (SELECT pair_id FROM r) AND revoked_at IS NULL) "
			       "SELECT user_id FROM r");
		PGresult *r = Q(spend, hash, c.id, fh_ll(C->now));
		if (!r)
			return fh_error(500, "Server Error");
		if (!PQntuples(r)) {
			PQclear(r);
			return token_error("bad_refresh_token", "The refresh token passed is incorrect or expired.",
					   "bad-refresh-token");
		}
		long long uid = fh_vall(r, 0, "user_id");
		PQclear(r);
		return issue_tokens(&c, uid, "");
	}
	if (grant && strcmp(grant, "authorization_code") != 0)
		return token_error("unsupported_grant_type", "The grant type is not supported.", "unsupported-grant-type");
	const char *code = in("code");
	if (!code || !*code)
		return bad_code();
	char hash[65];
	fh_sha256_hex(hash, code, strlen(code));
	FH_STMT(get, "SELECT client_id, user_id, redirect_uri, scope, code_challenge, expires_at, used_at "
		     "FROM oauth_codes WHERE code_hash = $1");
	PGresult *r = Q(get, hash);
	if (!r)
		return fh_error(500, "Server Error");
	if (!PQntuples(r) || strcmp(fh_val(r, 0, "client_id"), c.id) != 0 || fh_val(r, 0, "used_at") ||
	    fh_vall(r, 0, "expires_at") <= C->now) {
		PQclear(r);
		return bad_code();
	}
	const char *ru = in("redirect_uri"), *bound = fh_val(r, 0, "redirect_uri");
	/* Like GitHub, a redirect_uri left out of the exchange is not a mismatch; a different one is. */
	if (ru && ((bound && strcmp(ru, bound) != 0) || (!bound && !redirect_ok(&c, ru)))) {
		PQclear(r);
		return token_error("redirect_uri_mismatch",
				   "The redirect_uri MUST match the registered callback URL for this application.",
				   "troubleshooting-authorization-request-errors/#redirect-uri-mismatch2");
	}
	const char *challenge = fh_val(r, 0, "code_challenge"), *verifier = in("code_verifier");
	if (challenge && (!verifier || !s256_matches(verifier, challenge))) {
		PQclear(r);
		return bad_code();
	}
	long long uid = fh_vall(r, 0, "user_id");
	const char *scope = arena_strdup(req->arena, fh_val(r, 0, "scope"));
	PQclear(r);
	FH_STMT(use, "UPDATE oauth_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL RETURNING user_id");
	r = Q(use, hash, fh_ll(C->now));
	if (!r)
		return fh_error(500, "Server Error");
	int won = PQntuples(r) > 0;
	PQclear(r);
	if (!won)
		return bad_code();
	/* GitHub normalises the scope list to comma-separated. */
	char *norm = arena_strdup(req->arena, scope);
	for (char *p = norm; *p; p++)
		if (*p == ' ')
			*p = ',';
	return issue_tokens(&c, uid, norm);
}

/* DELETE /applications/{client_id}/grant and /token: Basic auth with the client's id and secret. */
static int client_basic(struct client *c)
{
	const char *h = req_header(C->req, "Authorization");
	if (!h || strncasecmp(h, "Basic ", 6) != 0)
		return fh_error(401, "Requires authentication"), -1;
	size_t len = 0;
	char dec[512];
	if (sodium_base642bin((unsigned char *)dec, sizeof dec - 1, h + 6, strlen(h + 6), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return fh_error(401, "Bad credentials"), -1;
	dec[len] = '\0';
	char *colon = strchr(dec, ':');
	if (!colon)
		return fh_error(401, "Bad credentials"), -1;
	*colon = '\0';
	const char *id = req_param(C->req, "client_id");
	if (strcmp(dec, id) != 0 || client_get(c, id) != 0 || strcmp(colon + 1, c->secret) != 0)
		return fh_error(404, "Not Found"), -1;
	return 0;
}

int oauth_grant_delete(struct request *req, struct response *resp)
{
	struct client c;
	if (client_basic(&c) < 0)
		return 0;
	const char *tok = jget(C->json, "access_token");
	if (!tok)
		return fh_validation(NULL, "Authorization", "access_token", "missing_field", NULL);
	char hash[65];
	fh_sha256_hex(hash, tok, strlen(tok));
	FH_STMT(find, "SELECT user_id FROM tokens WHERE token_hash = $1 AND client_id = $2 AND kind = 'access'");
	PGresult *r = Q(find, hash, c.id);
	if (!r)
		return fh_error(500, "Server Error");
	if (!PQntuples(r)) {
		PQclear(r);
		return fh_validation(NULL, "Authorization", "access_token", "invalid", NULL);
	}
	const char *uid = arena_strdup(req->arena, fh_val(r, 0, "user_id"));
	PQclear(r);
	int whole_grant = strstr(req->raw_path, "/grant") != NULL;
	FH_STMT(grant, "UPDATE tokens SET revoked_at = $3 WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL");
	FH_STMT(one, "UPDATE tokens SET revoked_at = $3 WHERE token_hash = $1 AND client_id = $2 AND revoked_at IS NULL");
	r = whole_grant ? Q(grant, uid, c.id, fh_ll(C->now)) : Q(one, hash, c.id, fh_ll(C->now));
	if (!r)
		return fh_error(500, "Server Error");
	PQclear(r);
	return fh_no_content();
}
