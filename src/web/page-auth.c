/* page-auth.c: sign-in with GitHub, sign-out, the account page, GET /api/v1/me. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "service/ops.h"
#include "core/log.h"
#include "service/auth.h"
#include "service/authorship.h"
#include "store/users.h"
#include "web/app.h"
#include "web/fields.h"

static int secure(const struct request *req) { return strcmp(req->scheme, "https") == 0; }

const char *web_session_cookie_name(const struct request *req)
{
	/* __Host- makes the browser insist on Secure, Path=/ and no Domain. */
	return secure(req) ? AUTH_SESSION_COOKIE_SECURE : AUTH_SESSION_COOKIE;
}

static void set_cookie(struct request *req, struct response *resp, const char *name, const char *value, long max_age)
{
	char *c = arena_printf(req->arena, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s%s", name, value,
			       secure(req) ? "; Secure" : "",
			       max_age >= 0 ? arena_printf(req->arena, "; Max-Age=%ld", max_age) : "");
	resp_header(resp, "Set-Cookie", c);
}

/* GET /login[?return_to=/path][&login=hint] → 302 to GitHub | 503 sign-in not configured */
int page_login(struct request *req, struct response *resp)
{
	char *url = NULL, *pre = NULL;
	int rc = auth_login_begin(&url, &pre, g_app.db, req_query(req, "return_to"), req_query(req, "login"), &req->err);
	if (rc == ERR_UNSUPPORTED) {
		render_error(req, resp, 503, req->err.msg);
		return 0;
	}
	if (rc)
		return rc;
	set_cookie(req, resp, AUTH_LOGIN_COOKIE, pre, 600);
	resp_redirect(resp, 302, url);
	free(url);
	free(pre);
	return 0;
}

/* GET /oauth/callback?code&state | ?error=access_denied&state
 * → 302 to return_to with a new session | 200 "access denied, try again" | 400 bad state | 502 GitHub refused */
int page_oauth_callback(struct request *req, struct response *resp)
{
	const char *error = req_query(req, "error");
	if (error) {
		struct json_object *ctx = json_object_new_object();
		json_object_object_add(ctx, "denied", json_object_new_boolean(strcmp(error, "access_denied") == 0));
		json_object_object_add(ctx, "error", json_object_new_string(error));
		set_cookie(req, resp, AUTH_LOGIN_COOKIE, "", 0);
		char det[300];
		ops_audit_note(g_app.db, "auth.signin_refused", NULL, NULL, 0, "refused", ops_audit_kv(det, sizeof det, "github_error", error));
		render_page(req, resp, strcmp(error, "access_denied") == 0 ? 200 : 400, "signin-failed",
			    "Sign-in cancelled", ctx);
		return 0;
	}
	char *tok = NULL, *ret = NULL;
	int rc = auth_login_finish(&tok, &ret, g_app.db, req_query(req, "state"), req_query(req, "code"),
				   req_cookie(req, AUTH_LOGIN_COOKIE), req->remote_addr, req_header(req, "User-Agent"),
				   &req->err);
	if (rc) { /* refused or failed: no session, one audit row saying why (GitHub's or our words, never a secret) */
		char det[600];
		ops_audit_note(g_app.db, "auth.signin_refused", NULL, NULL, 0, "refused", ops_audit_kv(det, sizeof det, "reason", req->err.msg));
	}
	if (rc == ERR_INVALID) {
		render_error(req, resp, 400, req->err.msg);
		return 0;
	}
	if (rc == ERR_FAIL || rc == ERR_TIMEOUT || rc == ERR_UNAUTH) {
		log_msg(LOG_WARN, "sign-in failed: %s", req->err.msg);
		render_error(req, resp, 502, "GitHub did not complete the sign-in. Try again in a moment.");
		return 0;
	}
	if (rc)
		return rc;
	/* A session the browser already had ends: one browser, one session. */
	const char *old = req_cookie(req, web_session_cookie_name(req));
	if (old)
		auth_logout(g_app.db, old, NULL);
	set_cookie(req, resp, AUTH_LOGIN_COOKIE, "", 0);
	set_cookie(req, resp, web_session_cookie_name(req), tok, -1);
	resp_redirect(resp, 302, ret);
	free(tok);
	free(ret);
	return 0;
}

/* POST /logout → 303 / */
int page_logout(struct request *req, struct response *resp)
{
	const char *tok = req_cookie(req, web_session_cookie_name(req));
	if (tok && auth_logout(g_app.db, tok, &req->err) != 0)
		return req->err.code;
	set_cookie(req, resp, web_session_cookie_name(req), "", 0);
	resp_redirect(resp, 303, "/");
	return 0;
}

static struct json_object *jstr(const char *s) { return json_object_new_string(s ? s : ""); }

/* errors: {"name"|"scope"|"expires_days": message} for a refused key (put here), shown at their fields with
 * what was typed and chosen kept. */
static int account_render(struct request *req, struct response *resp, const char *new_key, const char *flash,
			  struct json_object *errors)
{
	struct auth_user *u = req->user;
	struct json_object *ctx = json_object_new_object();
	struct connection c;
	int rc = auth_connection(&c, g_app.db, u->user_id, &req->err);
	if (rc && rc != ERR_NOTFOUND) {
		json_object_put(ctx);
		json_object_put(errors);
		return rc;
	}
	struct json_object *conn = json_object_new_object();
	if (rc == 0) {
		json_object_object_add(conn, "ok", json_object_new_boolean(strcmp(c.status, "ok") == 0));
		json_object_object_add(conn, "status", jstr(c.status));
		json_object_object_add(conn, "reason", jstr(c.status_reason));
		json_object_object_add(conn, "kind", jstr(strcmp(c.kind, "app") == 0 ? "GitHub App" : "OAuth App"));
		json_object_object_add(conn, "scopes", jstr(c.scopes));
		json_object_object_add(conn, "expires", jstr(c.access_expires_at ? c.access_expires_at : "never"));
		store_connection_free(&c);
	} else {
		json_object_object_add(conn, "status", jstr("disconnected"));
	}
	json_object_object_add(ctx, "connection", conn);
	err_clear(&req->err);

	struct session_row *sess = NULL;
	int ns = 0;
	if ((rc = auth_sessions(&sess, &ns, g_app.db, u->user_id, &req->err)) != 0) {
		json_object_put(ctx);
		json_object_put(errors);
		return rc;
	}
	/* 20 sessions a page (?sessions_page=N, from 1; anything else is page 1), most recently active
	 * first, so this browser's session leads page 1 and the page stays short on a phone. */
	enum { SESSIONS_PER_PAGE = 20 };
	long long spage = 1;
	const char *sp = req_query(req, "sessions_page");
	if (sp && *sp) {
		char *end = NULL;
		long long v = strtoll(sp, &end, 10);
		if (end && !*end && v >= 1 && v <= 1000000)
			spage = v;
	}
	long long spages = ns ? (ns + SESSIONS_PER_PAGE - 1) / SESSIONS_PER_PAGE : 1;
	if (spage > spages)
		spage = spages;
	int sfrom = (int)((spage - 1) * SESSIONS_PER_PAGE), sto = sfrom + SESSIONS_PER_PAGE < ns ? sfrom + SESSIONS_PER_PAGE : ns;
	struct json_object *sa = json_object_new_array();
	for (int i = sfrom; i < sto; i++) {
		struct json_object *s = json_object_new_object();
		json_object_object_add(s, "id", json_object_new_int64(sess[i].id));
		json_object_object_add(s, "current", json_object_new_boolean(sess[i].id == u->session_id));
		json_object_object_add(s, "created_at", jstr(sess[i].created_at));
		json_object_object_add(s, "last_seen_at", jstr(sess[i].last_seen_at));
		json_object_object_add(s, "ip", jstr(sess[i].ip));
		json_object_object_add(s, "user_agent", jstr(sess[i].user_agent));
		json_object_array_add(sa, s);
	}
	store_sessions_free(sess, ns);
	json_object_object_add(ctx, "sessions", sa);
	json_object_object_add(ctx, "sessions_total", json_object_new_int(ns));
	json_object_object_add(ctx, "sessions_others", json_object_new_boolean(ns > 1));
	if (spages > 1)
		json_object_object_add(ctx, "sessions_paging",
				       json_object_new_string(arena_printf(req->arena, "Page %lld of %lld (%d sessions)",
									   spage, spages, ns)));
	if (spage > 1)
		json_object_object_add(ctx, "sessions_prev", json_object_new_int64(spage - 1));
	if (spage < spages)
		json_object_object_add(ctx, "sessions_next", json_object_new_int64(spage + 1));

	struct apikey_row *keys = NULL;
	int nk = 0;
	if ((rc = auth_apikeys(&keys, &nk, g_app.db, u->user_id, &req->err)) != 0) {
		json_object_put(ctx);
		json_object_put(errors);
		return rc;
	}
	struct json_object *ka = json_object_new_array();
	for (int i = 0; i < nk; i++) {
		struct json_object *k = json_object_new_object();
		json_object_object_add(k, "id", json_object_new_int64(keys[i].id));
		json_object_object_add(k, "name", jstr(keys[i].name));
		json_object_object_add(k, "prefix", jstr(keys[i].public_id));
		json_object_object_add(k, "scopes", jstr(keys[i].scopes));
		json_object_object_add(k, "created_at", jstr(keys[i].created_at));
		json_object_object_add(k, "expires_at", jstr(keys[i].expires_at ? keys[i].expires_at : "never"));
		json_object_object_add(k, "last_used", jstr(keys[i].last_used_at ? keys[i].last_used_at : "never"));
		json_object_object_add(k, "last_ip", jstr(keys[i].last_used_ip));
		json_object_object_add(k, "uses", json_object_new_int64(keys[i].use_count));
		json_object_object_add(k, "active", json_object_new_boolean(!keys[i].revoked && !keys[i].expired));
		json_object_object_add(k, "state", jstr(keys[i].revoked ? "revoked" : keys[i].expired ? "expired" : "active"));
		json_object_array_add(ka, k);
	}
	store_apikeys_free(keys, nk);
	json_object_object_add(ctx, "keys", ka);
	struct json_object *scopes = json_object_new_array();
	for (int i = 0; auth_scopes[i]; i++) {
		struct json_object *sc = json_object_new_object();
		int checked = 0;
		for (size_t k = 0; errors && k < req->form.n; k++)
			checked |= strcmp(req->form.items[k].name, "scope") == 0 && strcmp(req->form.items[k].value, auth_scopes[i]) == 0;
		json_object_object_add(sc, "name", json_object_new_string(auth_scopes[i]));
		json_object_object_add(sc, "checked", json_object_new_boolean(checked));
		json_object_array_add(scopes, sc);
	}
	json_object_object_add(ctx, "all_scopes", scopes);
	/* The key form as it was sent when it is shown again with its errors. */
	json_object_object_add(ctx, "f_key_name", jstr(errors ? req_form(req, "name") : NULL));
	const char *days = errors ? req_form(req, "expires_days") : NULL;
	json_object_object_add(ctx, "f_key_days", jstr(days ? days : "90"));
	if (new_key)
		json_object_object_add(ctx, "new_key", jstr(new_key));
	if (flash)
		json_object_object_add(ctx, "flash", jstr(flash));
	if (errors)
		json_object_object_add(ctx, "errors", errors);
	/* The commit address: the chosen one (or what was typed, shown again with its error), and the no-reply one. */
	struct user me = { 0 };
	char email[COMMIT_EMAIL_MAX + 2] = "", noreply[300] = "";
	int chosen = 0;
	if (store_user_get(&me, g_app.db, u->user_id, &req->err) == 0) {
		authorship_noreply(noreply, sizeof noreply, me.github_id, me.login);
		if (authorship_email_of(email, sizeof email, &chosen, g_app.db, u->user_id, me.github_id, me.login, &req->err))
			email[0] = '\0';
	}
	store_user_free(&me);
	err_clear(&req->err);
	json_object_object_add(ctx, "noreply", jstr(noreply));
	const char *typed = errors ? req_form(req, "commit_email") : NULL;
	json_object_object_add(ctx, "f_commit_email", jstr(typed ? typed : chosen ? email : ""));
	json_object_object_add(ctx, "security_events", web_account_security_events(req)); /* page-admin.c */
	render_page(req, resp, errors ? 422 : 200, "account", "Account", ctx);
	return 0;
}

/* GET /account → 200 | 302 /login */
int page_account(struct request *req, struct response *resp)
{
	const char *flash = req_query(req, "done");
	const char *msg = NULL;
	if (flash && strcmp(flash, "session") == 0)
		msg = "The session was ended.";
	else if (flash && strcmp(flash, "sessions") == 0)
		msg = "All other sessions were ended.";
	else if (flash && strcmp(flash, "revoked") == 0)
		msg = "The API key was revoked. Requests with it are refused from now on.";
	else if (flash && strcmp(flash, "disconnected") == 0)
		msg = "GitHub was disconnected: the tokens were deleted and the grant revoked.";
	else if (flash && strcmp(flash, "email") == 0)
		msg = "Your commit e-mail address was saved: commits made from your edits carry it from now on.";
	return account_render(req, resp, NULL, msg, NULL);
}

static long long id_param(struct request *req)
{
	long long v;
	int rc = web_id_param(&v, req, "id");
	err_clear(&req->err);
	return rc ? 0 : v;
}

/* POST /account/sessions/{id}/end (confirm=1) → 303 /account | 200 the confirm page without confirm=1 | 404 not yours */
int page_session_end(struct request *req, struct response *resp)
{
	long long id = id_param(req);
	if (!id)
		return err_set(&req->err, ERR_NOTFOUND, "No such session.");
	if (!web_confirmed(req)) {
		struct session_row *sess = NULL;
		int ns = 0, found = 0;
		int rc = auth_sessions(&sess, &ns, g_app.db, req->user->user_id, &req->err);
		if (rc)
			return rc;
		for (int i = 0; i < ns && !found; i++)
			if (sess[i].id == id) {
				found = 1;
				render_confirm(req, resp, "End this session?",
					       arena_printf(req->arena, "The session signed in at %s from %s (%s) ends: that browser "
							    "is signed out.", sess[i].created_at ? sess[i].created_at : "?",
							    sess[i].ip ? sess[i].ip : "an unknown address",
							    sess[i].user_agent && *sess[i].user_agent ? sess[i].user_agent : "unknown browser"),
					       NULL, "End the session", "/account");
			}
		store_sessions_free(sess, ns);
		return found ? 0 : err_set(&req->err, ERR_NOTFOUND, "No such session.");
	}
	int rc = auth_session_end(g_app.db, req->user->user_id, id, &req->err);
	if (rc)
		return rc;
	resp_redirect(resp, 303, id == req->user->session_id ? "/" : "/account?done=session");
	return 0;
}

/* POST /account/sessions/end-all (confirm=1) → 303 / (every session, this one too) | 200 the confirm page */
int page_sessions_end_all(struct request *req, struct response *resp)
{
	if (!web_confirmed(req)) {
		render_confirm(req, resp, "Sign out everywhere?", "Every session of your account ends, this browser's too: you "
			       "are signed out everywhere and sign in with GitHub again to come back.",
			       "API keys are not sessions: they keep working until you revoke them.", "Sign out everywhere",
			       "/account");
		return 0;
	}
	int rc = auth_sessions_end_all(g_app.db, req->user->user_id, &req->err);
	if (rc)
		return rc;
	resp_redirect(resp, 303, "/");
	return 0;
}

/* POST /account/sessions/end-others (confirm=1) → 303 /account?done=sessions (this browser stays signed in) |
 * 200 the confirm page */
int page_sessions_end_others(struct request *req, struct response *resp)
{
	if (!web_confirmed(req)) {
		render_confirm(req, resp, "End all other sessions?", "Every session of your account but this browser's "
			       "ends: those browsers are signed out. You stay signed in here.",
			       "API keys are not sessions: they keep working until you revoke them.", "End all other sessions",
			       "/account");
		return 0;
	}
	int rc = auth_sessions_end_others(g_app.db, req->user->user_id, req->user->session_id, &req->err);
	if (rc)
		return rc;
	resp_redirect(resp, 303, "/account?done=sessions");
	return 0;
}

/* POST /account/keys (name, scope…, expires_days) → 200 with the key shown once | 400 invalid */
int page_key_create(struct request *req, struct response *resp)
{
	struct buf scopes = BUF_INIT;
	for (size_t i = 0; i < req->form.n; i++)
		if (strcmp(req->form.items[i].name, "scope") == 0)
			buf_printf(&scopes, "%s%s", scopes.len ? " " : "", req->form.items[i].value);
	long long d;
	char *key = NULL;
	int rc;
	if (web_form_int(&d, req, "expires_days", 0))
		rc = err_set_field(&req->err, ERR_INVALID, "expires_days", "Expiry must be a number of days between 0 (never) "
				   "and 3650.");
	else
		rc = auth_apikey_create(&key, g_app.db, req->user->user_id, req_form(req, "name"), buf_cstr(&scopes),
					(int)d, &req->err);
	buf_free(&scopes);
	if (rc == ERR_INVALID) {
		struct json_object *fe = json_object_new_object();
		json_object_object_add(fe, req->err.field[0] ? req->err.field : "name", jstr(req->err.msg));
		err_clear(&req->err);
		return account_render(req, resp, NULL, NULL, fe);
	}
	if (rc)
		return rc;
	resp_header(resp, "Cache-Control", "no-store");
	rc = account_render(req, resp, key, "API key created. Copy it now: it is shown only once.", NULL);
	free(key);
	return rc;
}

/* POST /account/keys/{id}/revoke (confirm=1) → 303 /account | 200 the confirm page without confirm=1 | 404 not yours */
int page_key_revoke(struct request *req, struct response *resp)
{
	long long id = id_param(req);
	if (!id)
		return err_set(&req->err, ERR_NOTFOUND, "No such API key.");
	if (!web_confirmed(req)) {
		struct apikey_row *keys = NULL;
		int nk = 0, found = 0;
		int rc = auth_apikeys(&keys, &nk, g_app.db, req->user->user_id, &req->err);
		if (rc)
			return rc;
		for (int i = 0; i < nk && !found; i++)
			if (keys[i].id == id && !keys[i].revoked) {
				found = 1;
				render_confirm(req, resp, arena_printf(req->arena, "Revoke the API key “%s”?", keys[i].name),
					       arena_printf(req->arena, "The API key “%s” (ghb_%s_…, scopes %s) is revoked: every "
							    "request with it is refused from then on.", keys[i].name,
							    keys[i].public_id, keys[i].scopes),
					       "This cannot be undone: a program that uses the key needs a new one.",
					       "Revoke the key", "/account");
			}
		store_apikeys_free(keys, nk);
		if (found)
			return 0;
	}
	int rc = auth_apikey_revoke(g_app.db, req->user->user_id, id, &req->err);
	if (rc)
		return rc;
	resp_redirect(resp, 303, "/account?done=revoked");
	return 0;
}

/* POST /account/disconnect (confirm=1) → 303 /account | 200 the confirm page without confirm=1 */
int page_disconnect(struct request *req, struct response *resp)
{
	if (!web_confirmed(req)) {
		render_confirm(req, resp, "Disconnect GitHub?", "ghbridge deletes your GitHub tokens and revokes its grant on "
			       "GitHub. Your projects stop syncing until you sign in with GitHub again.",
			       "Your projects, their files and your repositories on GitHub stay as they are.",
			       "Disconnect GitHub", "/account");
		return 0;
	}
	int rc = auth_disconnect(g_app.db, req->user->user_id, &req->err);
	if (rc)
		return rc;
	resp_redirect(resp, 303, "/account?done=disconnected");
	return 0;
}

/* Adds "commit_email" (the address commits from the user's edits carry) and "commit_email_chosen" to o. */
static int me_commit_email(struct json_object *o, struct request *req)
{
	struct user me = { 0 };
	char email[300];
	int chosen = 0, rc = store_user_get(&me, g_app.db, req->user->user_id, &req->err);
	if (rc == 0)
		rc = authorship_email_of(email, sizeof email, &chosen, g_app.db, me.id, me.github_id, me.login, &req->err);
	store_user_free(&me);
	if (rc)
		return rc;
	json_object_object_add(o, "commit_email", json_object_new_string(email));
	json_object_object_add(o, "commit_email_chosen", json_object_new_boolean(chosen));
	return 0;
}

/* GET /api/v1/me → 200 {"login","auth","scopes","commit_email","commit_email_chosen"} | 401 */
int api_me(struct request *req, struct response *resp)
{
	struct auth_user *u = req->user;
	struct json_object *o = json_object_new_object(), *sc = json_object_new_array();
	json_object_object_add(o, "login", json_object_new_string(u->login));
	json_object_object_add(o, "auth", json_object_new_string(u->kind));
	char *copy = arena_strdup(req->arena, u->scopes), *save = NULL;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		json_object_array_add(sc, json_object_new_string(t));
	json_object_object_add(o, "scopes", sc);
	int rc = me_commit_email(o, req);
	if (rc) {
		json_object_put(o);
		return rc;
	}
	resp_json(resp, 200, o);
	json_object_put(o);
	return 0;
}

/* POST /account/commit-email (commit_email; empty: GitHub's no-reply address) → 303 /account?done=email |
 * 422 the account page with the error at the field, nothing saved */
int page_commit_email(struct request *req, struct response *resp)
{
	int rc = authorship_set_email(g_app.db, req->user->user_id, req_form(req, "commit_email"), &req->err);
	if (rc == ERR_INVALID) {
		struct json_object *fe = json_object_new_object();
		json_object_object_add(fe, "commit_email", jstr(req->err.msg));
		err_clear(&req->err);
		return account_render(req, resp, NULL, NULL, fe);
	}
	if (rc)
		return rc;
	resp_redirect(resp, 303, "/account?done=email");
	return 0;
}

/* PATCH /api/v1/me {"commit_email": "a@b.example" | "" | null} (an API key needs projects:write) → 200 as GET
 * /api/v1/me | 422 {"error":{…,"field":"commit_email"}} nothing saved | 400 not JSON */
int api_me_patch(struct request *req, struct response *resp)
{
	if (web_lacks_scope(req, resp, "projects:write"))
		return 0;
	struct json_object *b = web_json_body(req, resp), *v;
	if (!b)
		return 0;
	int rc = 0;
	json_object_object_foreach(b, k, val) {
		(void)val;
		if (strcmp(k, "commit_email") != 0) {
			err_set_field(&req->err, ERR_INVALID, k, "Unknown field '%.64s': only commit_email may be changed.", k);
			render_json_error(req, resp, 422, "invalid", req->err.msg);
			json_object_put(b);
			return 0;
		}
	}
	if (!json_object_object_get_ex(b, "commit_email", &v) ||
	    (v && !json_object_is_type(v, json_type_string))) {
		err_set_field(&req->err, ERR_INVALID, "commit_email", "commit_email is a string (\"\" or null: GitHub's "
			      "no-reply address).");
		render_json_error(req, resp, 422, "invalid", req->err.msg);
		json_object_put(b);
		return 0;
	}
	rc = authorship_set_email(g_app.db, req->user->user_id, v ? json_object_get_string(v) : NULL, &req->err);
	json_object_put(b);
	if (rc == ERR_INVALID) {
		render_json_error(req, resp, 422, "invalid", req->err.msg);
		return 0;
	}
	return rc ? rc : api_me(req, resp);
}
