/* serve.c: fakehub's request path: faults, admin/API/git/web dispatch, token auth, rate limits, ETags, request log. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "core/log.h"
#include "http/parse.h"
#include "http/server.h"
#include "tests/fakehub/fakehub.h"

#define FH_MAX_BODY ((size_t)25 << 20)
#define FH_MAX_GIT_BODY ((size_t)512 << 20)
#define RATE_LIMIT_USER 5000
#define RATE_LIMIT_ANON 60

extern const char *fh_conninfo;

int fh_child_init(struct err *e);
void fh_child_exit(void);
void fh_handle(struct request *req, struct response *resp);

int fh_child_init(struct err *e)
{
	log_set_component("fakehub");
	int rc = db_open(&g_fh.db, fh_conninfo, 10000, e);
	if (rc)
		return rc;
	struct err ce = { 0 };
	if (db_ensure(g_fh.db, &ce))
		log_msg(LOG_WARN, "%s (will retry on each request)", ce.msg);
	return 0;
}

void fh_child_exit(void)
{
	db_close(g_fh.db);
	g_fh.db = NULL;
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int is_loopback(const char *a)
{
	return a && (strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 || strcmp(a, "::ffff:127.0.0.1") == 0);
}

/* ---- authentication */

/* Looks a token up by its hash; fills C->v. 0, or ERR_UNAUTH for unknown/expired/revoked. */
static int auth_token(const char *token)
{
	char hash[65];
	fh_sha256_hex(hash, token, strlen(token));
	FH_STMT(st, "SELECT t.id, t.user_id, a.login, t.scope, t.client_id, t.expires_at FROM tokens t "
		    "JOIN accounts a ON a.id = t.user_id WHERE t.token_hash = $1 AND t.kind = 'access' "
		    "AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)");
	PGresult *r = Q(st, hash, fh_ll(C->now));
	if (!r)
		return ERR_DB;
	int found = PQntuples(r) > 0;
	if (found) {
		struct arena *a = C->req->arena;
		C->v.token_id = fh_vall(r, 0, "id");
		C->v.id = fh_vall(r, 0, "user_id");
		C->v.login = arena_strdup(a, fh_val(r, 0, "login"));
		C->v.scope = arena_strdup(a, fh_val(r, 0, "scope"));
		const char *cid = fh_val(r, 0, "client_id");
		C->v.client_id = cid ? arena_strdup(a, cid) : NULL;
		C->v.token_prefix = arena_strndup(a, token, 3);
	}
	PQclear(r);
	return found ? 0 : ERR_UNAUTH;
}

/* Basic credentials "user:password" decoded into the arena; NULL if not Basic. */
static char *basic_credentials(void)
{
	const char *h = req_header(C->req, "Authorization");
	if (!h || strncasecmp(h, "Basic ", 6) != 0)
		return NULL;
	const char *b64 = h + 6;
	size_t cap = strlen(b64) + 1, len = 0;
	char *out = arena_alloc(C->req->arena, cap);
	if (sodium_base642bin((unsigned char *)out, cap - 1, b64, strlen(b64), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return arena_strdup(C->req->arena, "");
	out[len] = '\0';
	return out;
}

/* 0: anonymous or authenticated; ERR_UNAUTH when credentials were sent but are bad. */
static int authenticate(int basic_is_client)
{
	const char *h = req_header(C->req, "Authorization");
	if (!h || !*h)
		return 0;
	if (strncasecmp(h, "Bearer ", 7) == 0)
		return auth_token(h + 7);
	if (strncasecmp(h, "token ", 6) == 0)
		return auth_token(h + 6);
	if (strncasecmp(h, "Basic ", 6) == 0) {
		if (basic_is_client)
			return 0; /* the handler checks client id and secret */
		char *cred = basic_credentials(), *colon = strchr(cred, ':');
		if (!colon)
			return auth_token(cred);
		/* git sends x-access-token:<token>; the old style is <token>:x-oauth-basic. */
		if (strcmp(colon + 1, "x-oauth-basic") == 0 || colon[1] == '\0') {
			*colon = '\0';
			return auth_token(cred);
		}
		return auth_token(colon + 1);
	}
	return ERR_UNAUTH;
}

/* ---- rate limits: a window of an hour per user (per address when anonymous). docs "Rate limits for the
 * REST API": every token acting for a user (OAuth App, GitHub App user token, PAT) shares that user's 5,000. */
/* A window ending more than an hour ahead was opened under a test clock that has since gone back: start afresh. */

static const char *rate_key(void)
{
	if (C->v.id)
		return arena_printf(C->req->arena, "user:%lld", C->v.id);
	return arena_printf(C->req->arena, "ip:%s", C->req->remote_addr ? C->req->remote_addr : "?");
}

static void rate_read(long long *used, long long *reset)
{
	FH_STMT(st, "SELECT used, reset_at FROM rate_usage WHERE key = $1 AND reset_at > $2::bigint AND reset_at <= $2::bigint + 3600");
	PGresult *r = Q(st, rate_key(), fh_ll(C->now));
	*used = 0;
	*reset = C->now + 3600;
	if (r && PQntuples(r)) {
		*used = fh_vall(r, 0, "used");
		*reset = fh_vall(r, 0, "reset_at");
	}
	if (r)
		PQclear(r);
}

static void rate_count(long long *used, long long *reset)
{
	FH_STMT(st, "INSERT INTO rate_usage (key, reset_at, used) VALUES ($1, $2::bigint + 3600, 1) "
		    "ON CONFLICT (key) DO UPDATE SET "
		    "used = CASE WHEN rate_usage.reset_at <= $2::bigint OR rate_usage.reset_at > $2::bigint + 3600 THEN 1 "
		    "ELSE rate_usage.used + 1 END, "
		    "reset_at = CASE WHEN rate_usage.reset_at <= $2::bigint OR rate_usage.reset_at > $2::bigint + 3600 THEN $2::bigint + 3600 "
		    "ELSE rate_usage.reset_at END RETURNING used, reset_at");
	PGresult *r = Q(st, rate_key(), fh_ll(C->now));
	if (r && PQntuples(r)) {
		*used = fh_vall(r, 0, "used");
		*reset = fh_vall(r, 0, "reset_at");
	}
	if (r)
		PQclear(r);
}

static void rate_headers(long long limit, long long used, long long reset)
{
	struct response *resp = C->resp;
	resp_header(resp, "X-RateLimit-Limit", fh_ll(limit));
	resp_header(resp, "X-RateLimit-Remaining", fh_ll(used >= limit ? 0 : limit - used));
	resp_header(resp, "X-RateLimit-Reset", fh_ll(reset));
	resp_header(resp, "X-RateLimit-Used", fh_ll(used));
	resp_header(resp, "X-RateLimit-Resource", "core");
}

static int authenticate(int basic_is_client);

/* ---- faults */

/* Answers per the first matching fault and returns its kind, or NULL. *handled is
 * set when the request must not go on (a hang goes on after its sleep). */
static const char *fault_apply(int *handled)
{
	FH_STMT(sel, "SELECT id, method, path_pattern, kind, status, seconds FROM faults WHERE remaining > 0 ORDER BY id");
	FH_STMT(take, "UPDATE faults SET remaining = remaining - 1 WHERE id = $1 AND remaining > 0 RETURNING id");
	*handled = 0;
	PGresult *r = Q0(sel);
	if (!r)
		return NULL;
	const char *kind = NULL;
	int status = 0;
	double seconds = 0;
	for (int i = 0; i < PQntuples(r) && !kind; i++) {
		const char *m = fh_val(r, i, "method"), *pat = fh_val(r, i, "path_pattern");
		if (strcmp(m, "*") != 0 && strcasecmp(m, C->req->head_only ? "HEAD" : C->req->method) != 0 &&
		    !(C->req->head_only && strcasecmp(m, "GET") == 0))
			continue;
		if (fnmatch(pat, C->req->raw_path, 0) != 0)
			continue;
		PGresult *t = Q(take, fh_val(r, i, "id"));
		if (t && PQntuples(t)) {
			kind = arena_strdup(C->req->arena, fh_val(r, i, "kind"));
			status = (int)fh_vall(r, i, "status");
			seconds = fh_val(r, i, "seconds") ? atof(fh_val(r, i, "seconds")) : 0;
		}
		if (t)
			PQclear(t);
	}
	PQclear(r);
	if (!kind)
		return NULL;
	*handled = 1;
	/* Who the faulted call was from, for the request log and the rate-limit message. */
	authenticate(0);
	if (strcmp(kind, "hang") == 0) {
		usleep((useconds_t)((seconds > 0 ? seconds : 30) * 1e6));
		*handled = 0;
	} else if (strcmp(kind, "drop") == 0) {
		/* nginx turns 444 into a closed connection (error_page 444 → return 444). */
		C->resp->status = 444;
		C->resp->content_type = "text/plain";
	} else if (strcmp(kind, "status") == 0) {
		if (status < 400)
			status = 500;
		fh_error(status, status == 502 ? "Bad Gateway" : status == 503 ? "Service Unavailable" : "Server Error");
	} else if (strcmp(kind, "rate_limit") == 0) {
		long long reset = C->now + (long long)(seconds > 0 ? seconds : 60);
		rate_headers(RATE_LIMIT_USER, RATE_LIMIT_USER, reset);
		fh_error_doc(403,
			     arena_printf(C->req->arena,
					  "API rate limit exceeded for user ID %lld. If you reach out to GitHub Support "
					  "for help, please include the request ID %s.",
					  C->v.id, C->req->request_id),
			     "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api");
	} else if (strcmp(kind, "secondary_rate_limit") == 0) {
		resp_header(C->resp, "Retry-After", fh_ll((long long)(seconds > 0 ? seconds : 60)));
		fh_error_doc(status == 429 ? 429 : 403,
			     "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
			     "If you reach out to GitHub Support for help, please include the request ID.",
			     "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
			     "#about-secondary-rate-limits");
	}
	return kind;
}

/* ---- dispatch */

#define FH_ROUTE_CLIENT_AUTH (1u << 8) /* Basic auth is the OAuth client's id and secret */
#define FH_ROUTE_NOCOUNT (1u << 9)     /* does not count against the rate limit (GET /rate_limit) */

static int parse_body(int git)
{
	struct request *req = C->req;
	size_t limit = git ? FH_MAX_GIT_BODY : FH_MAX_BODY;
	if (req->content_length > limit)
		return fh_error(413, "Request body too large"), -1;
	if (req->content_length && http_read_body(req, limit, &req->err))
		return fh_error(400, req->err.msg), -1;
	if (git || !req->body_len)
		return 0;
	const char *ct = req->content_type ? req->content_type : "";
	if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 && req->body[0] != '{') {
		if (http_parse_urlencoded(&req->form, req->arena, req->body, req->body_len, HTTP_MAX_FIELDS, &req->err))
			return fh_error(400, "Problems parsing the form body"), -1;
		return 0;
	}
	/* GitHub reads JSON whatever the Content-Type says, and only UTF-8 JSON: bytes that are not, and
	 * "\u0000" or an unpaired surrogate escape (which json-c would decode), are "Problems parsing JSON". */
	char field[64];
	const char *why;
	if (http_json_check(field, sizeof field, &why, req->body, req->body_len))
		return fh_error(400, "Problems parsing JSON"), -1;
	enum json_tokener_error jerr;
	C->json = json_tokener_parse_verbose(req->body, &jerr);
	if (!C->json || !json_object_is_type(C->json, json_type_object)) {
		if (C->json)
			json_object_put(C->json);
		C->json = NULL;
		return fh_error(400, "Problems parsing JSON"), -1;
	}
	return 0;
}

static void add_etag(void)
{
	struct response *resp = C->resp;
	char hex[65], etag[72];
	fh_sha256_hex(hex, buf_cstr(&resp->body), resp->body.len);
	snprintf(etag, sizeof etag, "W/\"%s\"", hex);
	resp_header(resp, "ETag", etag);
	resp_header(resp, "Cache-Control", C->v.id ? "private, max-age=60, s-maxage=60" : "public, max-age=60, s-maxage=60");
	resp_header(resp, "Vary", "Accept, Authorization, Cookie, X-GitHub-OTP");
	const char *inm = req_header(C->req, "If-None-Match");
	if (inm && (strstr(inm, hex) != NULL)) {
		resp->status = 304;
		buf_reset(&resp->body);
	}
}

/* X-Accepted-OAuth-Scopes (docs "Scopes for OAuth apps"): the scopes the action checks for, as GitHub
 * lists them for these route families. */
static const char *accepted_scopes(const char *pattern)
{
	if (strstr(pattern, "/hooks"))
		return "admin:repo_hook, read:repo_hook, repo, write:repo_hook";
	if (strncmp(pattern, "/repos/", 7) == 0 || strcmp(pattern, "/user/repos") == 0 ||
	    strcmp(pattern, "/orgs/{org}/repos") == 0 || strncmp(pattern, "/user/repository_invitations", 28) == 0)
		return "repo";
	if (strncmp(pattern, "/user/orgs", 10) == 0 || strcmp(pattern, "/orgs/{org}") == 0)
		return "admin:org, read:org, repo, user, write:org";
	if (strncmp(pattern, "/user/emails", 12) == 0)
		return "user";
	return "";
}

static void api_dispatch(const char *sub)
{
	struct request *req = C->req;
	const struct route *route = NULL;
	char allow[128];
	struct err e = { 0 };
	/* GitHub serves every repository route under /repositories/{id} too (where its redirects point). */
	sub = fh_repositories_rewrite(sub);
	int rc = router_match(&route, &req->params, allow, sizeof allow, fh_api_routes, fh_api_nroutes, req->method,
			      sub, req->arena, &e);
	resp_header(C->resp, "X-GitHub-Api-Version-Selected", "2022-11-28");
	resp_header(C->resp, "X-GitHub-Media-Type", "github.v3; format=json");
	rc = rc ? rc : authenticate(route->flags & FH_ROUTE_CLIENT_AUTH);
	if (rc == ERR_UNAUTH) {
		/* GitHub counts bad-credential calls against the address, and says so. */
		long long u, rs;
		C->v.id = 0;
		C->v.token_id = 0;
		rate_count(&u, &rs);
		rate_headers(RATE_LIMIT_ANON, u, rs);
		fh_error(401, "Bad credentials");
		return;
	}
	if (rc == ERR_DB) {
		fh_error(500, "Server Error");
		return;
	}
	long long limit = C->v.id ? RATE_LIMIT_USER : RATE_LIMIT_ANON, used, reset;
	rate_read(&used, &reset);
	if (rc == ERR_NOTFOUND || rc == ERR_UNSUPPORTED || rc) {
		fh_not_found();
		rate_count(&used, &reset);
		rate_headers(limit, used, reset);
		return;
	}
	if (C->v.id)
		resp_header(C->resp, "X-OAuth-Scopes", C->v.scope ? C->v.scope : "");
	resp_header(C->resp, "X-Accepted-OAuth-Scopes", accepted_scopes(route->pattern));
	if (used >= limit && !(route->flags & FH_ROUTE_NOCOUNT)) {
		rate_headers(limit, used, reset);
		if (C->v.id)
			fh_error_doc(403,
				     arena_printf(req->arena, "API rate limit exceeded for user ID %lld.", C->v.id),
				     "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api");
		else
			fh_error_doc(403,
				     arena_printf(req->arena,
						  "API rate limit exceeded for %s. (But here's the good news: Authenticated "
						  "requests get a higher rate limit. Check out the documentation for more "
						  "details.)",
						  req->remote_addr ? req->remote_addr : "?"),
				     "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api");
		return;
	}
	if (parse_body(0) < 0) {
		rate_count(&used, &reset);
		rate_headers(limit, used, reset);
		return;
	}
	if (fh_api_redirect(sub)) {
		rate_count(&used, &reset);
		rate_headers(limit, used, reset);
		return;
	}
	rc = route->handler(req, C->resp);
	if (rc < 0 && C->resp->body.len == 0)
		fh_error(500, "Server Error");
	if (strcmp(req->method, "GET") == 0 && C->resp->status == 200)
		add_etag();
	if (C->resp->status != 304 && !(route->flags & FH_ROUTE_NOCOUNT))
		rate_count(&used, &reset);
	rate_headers(limit, used, reset);
}

/* POST /api/graphql (GHE-style next to /api/v3): tokens as for REST; see fh_graphql for what it answers. */
static void graphql_dispatch(void)
{
	struct request *req = C->req;
	if (strcmp(req->method, "POST") != 0) {
		fh_not_found();
		return;
	}
	int rc = authenticate(0);
	long long used, reset;
	if (rc == ERR_UNAUTH) {
		C->v.id = 0;
		C->v.token_id = 0;
		rate_count(&used, &reset);
		rate_headers(RATE_LIMIT_ANON, used, reset);
		fh_error_doc(401, "Bad credentials", "https://docs.github.com/graphql");
		return;
	}
	if (rc) {
		fh_error(500, "Server Error");
		return;
	}
	if (!C->v.id) {
		fh_error_doc(401, "This endpoint requires you to be authenticated.",
			     "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql");
		return;
	}
	resp_header(C->resp, "X-OAuth-Scopes", C->v.scope ? C->v.scope : "");
	if (parse_body(0) < 0)
		return;
	if (fh_graphql(req, C->resp) < 0 && C->resp->body.len == 0)
		fh_error(500, "Server Error");
}

static void admin_dispatch(void)
{
	struct request *req = C->req;
	if (!is_loopback(req->remote_addr)) {
		fh_error(403, "The fakehub admin API answers loopback clients only");
		return;
	}
	const struct route *route = NULL;
	char allow[128];
	struct err e = { 0 };
	int rc = router_match(&route, &req->params, allow, sizeof allow, fh_admin_routes, fh_admin_nroutes,
			      req->method, req->raw_path, req->arena, &e);
	if (rc == ERR_UNSUPPORTED) {
		resp_header(C->resp, "Allow", allow);
		fh_error(405, "Method Not Allowed");
		return;
	}
	if (rc) {
		fh_not_found();
		return;
	}
	if (parse_body(0) < 0)
		return;
	if (route->handler(req, C->resp) < 0 && C->resp->body.len == 0)
		fh_error(500, "Server Error");
}

/* /{owner}/{repo}[.git]/(info/refs|git-upload-pack|git-receive-pack) */
static int git_path(char **owner, char **repo, const char **rest)
{
	const char *p = C->req->raw_path;
	if (*p != '/')
		return 0;
	const char *s1 = strchr(p + 1, '/');
	if (!s1)
		return 0;
	const char *s2 = strchr(s1 + 1, '/');
	if (!s2)
		return 0;
	const char *r = s2;
	if (strcmp(r, "/info/refs") != 0 && strcmp(r, "/git-upload-pack") != 0 && strcmp(r, "/git-receive-pack") != 0 &&
	    strncmp(r, "/info/lfs/", 10) != 0)
		return 0;
	size_t rlen = (size_t)(s2 - s1 - 1);
	if (rlen > 4 && strncmp(s2 - 4, ".git", 4) == 0)
		rlen -= 4;
	*owner = arena_strndup(C->req->arena, p + 1, (size_t)(s1 - p - 1));
	*repo = arena_strndup(C->req->arena, s1 + 1, rlen);
	*rest = r;
	return 1;
}

static void git_dispatch(const char *owner, const char *name, const char *rest)
{
	struct request *req = C->req;
	int push = strcmp(rest, "/git-receive-pack") == 0 ||
		   (req_query(req, "service") && strcmp(req_query(req, "service"), "git-receive-pack") == 0);
	int rc = authenticate(0);
	if (rc == ERR_DB) {
		resp_text(C->resp, 500, "text/plain", "Internal Server Error\n");
		return;
	}
	if (rc == ERR_UNAUTH || (!C->v.id && push)) {
		resp_header(C->resp, "WWW-Authenticate", "Basic realm=\"GitHub\"");
		resp_text(C->resp, 401, "text/plain",
			  rc == ERR_UNAUTH ? "Invalid username or token. Password authentication is not supported for "
					     "Git operations.\n"
					   : "Authentication required\n");
		return;
	}
	struct fh_repo r;
	rc = fh_repo_load(&r, owner, name);
	if (rc == ERR_NOTFOUND && fh_git_redirect(owner, name, rest))
		return;
	if (rc == ERR_NOTFOUND && !C->v.id) {
		resp_header(C->resp, "WWW-Authenticate", "Basic realm=\"GitHub\"");
		resp_text(C->resp, 401, "text/plain", "Authentication required\n");
		return;
	}
	if (rc) {
		resp_text(C->resp, 404, "text/plain", "Repository not found.\n");
		return;
	}
	if (strncmp(rest, "/info/lfs/", 10) == 0) {
		fh_lfs_serve(&r, rest); /* lfs.c: the Batch API and basic transfers */
		return;
	}
	if (push && !r.can_push) {
		resp_text(C->resp, 403, "text/plain",
			  arena_printf(req->arena, "Permission to %s/%s.git denied to %s.\n", r.owner, r.name,
				       C->v.login));
		return;
	}
	/* docs "Archiving repositories": read-only; git shows the text as "remote: …" beside the 403. */
	if (push && r.archived) {
		resp_text(C->resp, 403, "text/plain", "This repository was archived so it is read-only.\n");
		return;
	}
	if (parse_body(1) < 0)
		return;
	if (fh_git_http(&r, rest) < 0 && C->resp->status < 400)
		resp_text(C->resp, 500, "text/plain", "git failed\n");
}

/* GET /avatars/u/{id}: GitHub serves avatars from its own image host; the emulator
 * draws a 5x5 identicon from the id so the panels show real images offline. */
static int avatar_get(struct request *req, struct response *resp)
{
	unsigned long long id = strtoull(req_param(req, "id") ? req_param(req, "id") : "0", NULL, 10);
	unsigned long long h = id * 0x9E3779B97F4A7C15ull ^ (id >> 7);
	char colour[8];
	snprintf(colour, sizeof colour, "#%02x%02x%02x", (unsigned)(h >> 8) & 0xbf, (unsigned)(h >> 16) & 0xbf,
		 (unsigned)(h >> 24) & 0xbf);
	struct buf *b = &resp->body;
	buf_reset(b);
	buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 5 5\" width=\"420\" height=\"420\">"
		      "<rect width=\"5\" height=\"5\" fill=\"#f0f0f0\"/>");
	for (int y = 0; y < 5; y++)
		for (int x = 0; x < 3; x++)
			if ((h >> (32 + y * 3 + x)) & 1) {
				buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"1\" height=\"1\" fill=\"%s\"/>", x, y, colour);
				if (x < 2)
					buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"1\" height=\"1\" fill=\"%s\"/>", 4 - x, y,
						   colour);
			}
	buf_puts(b, "</svg>\n");
	resp->status = 200;
	resp->content_type = "image/svg+xml";
	resp_header(resp, "Cache-Control", "max-age=300");
	return 0;
}

static const struct route web_routes[] = {
	ROUTE("GET", "/avatars/u/{id}", avatar_get, 0),
	ROUTE("GET", "/login/oauth/authorize", oauth_authorize_get, 0),
	ROUTE("POST", "/login/oauth/authorize", oauth_authorize_post, 0),
	ROUTE("POST", "/login/oauth/access_token", oauth_access_token, 0),
};

static void web_dispatch(void)
{
	struct request *req = C->req;
	const struct route *route = NULL;
	char allow[128];
	struct err e = { 0 };
	int rc = router_match(&route, &req->params, allow, sizeof allow, web_routes,
			      sizeof web_routes / sizeof web_routes[0], req->method, req->raw_path, req->arena, &e);
	if (rc) {
		resp_text(C->resp, 404, "text/html; charset=utf-8", "<!doctype html><title>Not Found</title><h1>404</h1>\n");
		return;
	}
	if (parse_body(0) < 0)
		return;
	if (route->handler(req, C->resp) < 0 && C->resp->body.len == 0)
		fh_error(500, "Server Error");
}

static void request_log(double at, const char *fault)
{
	struct request *req = C->req;
	FH_STMT(st, "INSERT INTO requests (at, method, path, query, status, login, client_id, fault, request_id, "
		    "request_body, response_body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
	char ats[32];
	snprintf(ats, sizeof ats, "%.6f", at);
	/* OAuth query strings carry codes and states: keep them out of the log. */
	const char *q = strncmp(req->raw_path, "/login/", 7) == 0 ? NULL : req->query_string;
	/* The JSON bodies of REST calls (test emulator only: tests/contract checks them against GitHub's
	 * OpenAPI description). Not OAuth's or git's, and only well-formed UTF-8 (PostgreSQL text). */
	const char *qb = NULL, *ab = NULL;
	if (strncmp(req->raw_path, "/api/", 5) == 0) {
		if (C->json && req->body_len < (1u << 20) && utf8_valid(req->body, req->body_len))
			qb = arena_strndup(req->arena, req->body, req->body_len);
		struct buf *b = &C->resp->body;
		if (C->resp->content_type && strncmp(C->resp->content_type, "application/json", 16) == 0 && b->len &&
		    b->len < (1u << 22) && utf8_valid(buf_cstr(b), b->len))
			ab = buf_cstr(b);
	}
	PGresult *r = Q(st, ats, req->head_only ? "HEAD" : req->method, req->raw_path, q && *q ? q : NULL,
			fh_ll(C->resp->status), C->v.login, C->v.client_id, fault, req->request_id, qb, ab);
	if (r)
		PQclear(r);
}

void fh_handle(struct request *req, struct response *resp)
{
	struct fh_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.req = req;
	ctx.resp = resp;
	C = &ctx;
	resp->status = 200;
	req->is_api = 1;
	double t0 = wall();
	struct err e = { 0 };
	if (db_ensure(g_fh.db, &e) != 0) {
		fh_error(503, "fakehub database unavailable");
		C = NULL;
		return;
	}
	ctx.now = fh_clock_now();
	if (req->query_string && *req->query_string &&
	    http_parse_urlencoded(&req->query, req->arena, req->query_string, strlen(req->query_string),
				  HTTP_MAX_FIELDS, &e)) {
		fh_error(400, "Malformed query string");
		C = NULL;
		return;
	}
	resp_header(resp, "X-GitHub-Request-Id", req->request_id);
	const char *path = req->raw_path;
	if (strncmp(path, "/_fakehub/", 10) == 0) {
		admin_dispatch();
	} else {
		int handled = 0;
		const char *fault = fault_apply(&handled);
		char *owner, *repo;
		const char *rest;
		if (!handled) {
			if (strncmp(path, "/api/v3/", 8) == 0 || strcmp(path, "/api/v3") == 0)
				api_dispatch(path[7] ? path + 7 : "/");
			else if (strcmp(path, "/api/graphql") == 0)
				graphql_dispatch();
			else if (git_path(&owner, &repo, &rest))
				git_dispatch(owner, repo, rest);
			else
				web_dispatch();
		}
		request_log(t0, fault);
	}
	if (ctx.json)
		json_object_put(ctx.json);
	C = NULL;
}

void fh_rate_state(long long *limit, long long *used, long long *reset);
void fh_rate_state(long long *limit, long long *used, long long *reset)
{
	*limit = C->v.id ? RATE_LIMIT_USER : RATE_LIMIT_ANON;
	rate_read(used, reset);
}
