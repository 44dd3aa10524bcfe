/* gh.c: the GitHub client. Every call has a timeout and reads the rate-limit headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <sodium.h>
#include <json-c/json.h>
#include "core/metrics.h"
#include "core/cfg.h"
#include "core/log.h"
#include "github/gh.h"

#include "config.h"
#define GH_UA "ghbridge/" PACKAGE_VERSION

/* Form bodies carry the client secret and codes: wipe them after use. */
static void sodium_memzero_buf(struct buf *b)
{
	if (b->data)
		sodium_memzero(b->data, b->cap);
	buf_free(b);
}

int gh_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : ERR_FAIL;
}

void gh_resp_free(struct gh_resp *r)
{
	buf_free(&r->body);
	if (r->json)
		json_object_put(r->json);
	r->json = NULL;
}

static size_t on_body(void *p, size_t s, size_t n, void *u)
{
	struct gh_resp *r = u;
	if (r->body.len + s * n > 64u * 1024 * 1024)
		return 0; /* a REST answer this big is not one we asked for */
	buf_append(&r->body, p, s * n);
	return s * n;
}

static void header_value(char *dst, size_t dlen, const char *v, size_t vlen)
{
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	while (vlen && *v == ' ') {
		v++;
		vlen--;
	}
	snprintf(dst, dlen, "%.*s", (int)vlen, v);
}

static size_t on_header(char *p, size_t s, size_t n, void *u)
{
	struct gh_resp *r = u;
	size_t len = s * n;
	char val[1024];
	const char *colon = memchr(p, ':', len);
	if (!colon)
		return len;
	size_t klen = (size_t)(colon - p);
	header_value(val, sizeof val, colon + 1, len - klen - 1);
	if (klen == 4 && strncasecmp(p, "ETag", 4) == 0)
		snprintf(r->etag, sizeof r->etag, "%.127s", val);
	else if (klen == 21 && strncasecmp(p, "X-RateLimit-Remaining", 21) == 0)
		r->ratelimit_remaining = atol(val);
	else if (klen == 17 && strncasecmp(p, "X-RateLimit-Reset", 17) == 0)
		r->ratelimit_reset = atol(val);
	else if (klen == 11 && strncasecmp(p, "Retry-After", 11) == 0)
		r->retry_after = atol(val);
	else if (klen == 4 && strncasecmp(p, "Link", 4) == 0) {
		/* <https://…?page=2>; rel="next", <…>; rel="last" */
		char *next = strstr(val, "rel=\"next\"");
		if (next) {
			char *lt = NULL;
			for (char *q = val; q < next; q++)
				if (*q == '<')
					lt = q;
			char *gt = lt ? strchr(lt, '>') : NULL;
			if (lt && gt && gt < next)
				snprintf(r->link_next, sizeof r->link_next, "%.*s", (int)(gt - lt - 1), lt + 1);
		}
	}
	return len;
}

/* The class of a token by its prefix (GitHub docs "About authentication to GitHub", GitHub's token
 * formats: gho_ OAuth app user token, ghu_ GitHub App user token, ghs_ installation token, ghp_ and
 * github_pat_ personal access tokens); NULL is no token. */
static enum metrics_token token_class(const char *token)
{
	if (!token || !*token)
		return MT_NONE;
	if (strncmp(token, "gho_", 4) == 0)
		return MT_OAUTH_USER;
	if (strncmp(token, "ghu_", 4) == 0)
		return MT_APP_USER;
	if (strncmp(token, "ghs_", 4) == 0)
		return MT_INSTALLATION;
	if (strncmp(token, "ghp_", 4) == 0 || strncmp(token, "github_pat_", 11) == 0)
		return MT_PERSONAL;
	return MT_OTHER;
}

static int perform(struct gh_resp *r, CURL *c, struct curl_slist *hdrs, enum metrics_token cls, struct err *e)
{
	r->ratelimit_remaining = -1;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_USERAGENT, GH_UA);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* docs "Best practices for using the REST API", Follow redirects: a renamed or transferred repository
	 * answers 301 (GET) or 307 (other methods, same method and body again) with Location. curl keeps the
	 * custom method and resends the body on 307, and sends no Authorization header to another host. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	metrics_github(rc == CURLE_OK ? (int)r->status : 0, rc == CURLE_OK ? r->ratelimit_remaining : -1,
		       rc == CURLE_OK ? r->ratelimit_reset : 0, cls);
	if (rc != CURLE_OK) {
		r->status = 0;
		return err_set(e, rc == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT : ERR_FAIL, "GitHub unreachable: %s",
			       curl_easy_strerror(rc));
	}
	if (r->body.len && (r->body.data[0] == '{' || r->body.data[0] == '[')) {
		r->json = json_tokener_parse(r->body.data);
	}
	return 0;
}

int gh_call(struct gh_resp *r, const char *method, const char *url, const char *token, const char *body_json,
	    const char *if_none_match, struct err *e)
{
	memset(r, 0, sizeof *r);
	char full[2048], h[1200];
	if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)
		snprintf(full, sizeof full, "%s", url);
	else
		snprintf(full, sizeof full, "%s%s", cfg_str(CFG_GITHUB_API_URL), url);
	CURL *c = curl_easy_init();
	if (!c)
		return err_set(e, ERR_FAIL, "curl init failed");
	struct curl_slist *hdrs = NULL;
	hdrs = curl_slist_append(hdrs, "Accept: application/vnd.github+json");
	hdrs = curl_slist_append(hdrs, "X-GitHub-Api-Version: 2022-11-28");
	if (token) {
		snprintf(h, sizeof h, "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (if_none_match && *if_none_match) {
		snprintf(h, sizeof h, "If-None-Match: %s", if_none_match);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (body_json) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body_json);
	}
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	int rc = perform(r, c, hdrs, token_class(token), e);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}

const char *gh_error_message(const struct gh_resp *r, char *buf, size_t len)
{
	struct json_object *m;
	if (r->json && json_object_object_get_ex(r->json, "message", &m))
		snprintf(buf, len, "GitHub answered %ld: %s", r->status, json_object_get_string(m));
	else
		snprintf(buf, len, "GitHub answered %ld", r->status);
	return buf;
}

int gh_is_rate_limited(const struct gh_resp *r, long *until)
{
	if (r->status != 403 && r->status != 429)
		return 0;
	if (r->retry_after > 0) {
		*until = (long)time(NULL) + r->retry_after;
		return 1;
	}
	if (r->ratelimit_remaining == 0 && r->ratelimit_reset > 0) {
		*until = r->ratelimit_reset;
		return 1;
	}
	return 0;
}

void gh_tokens_free(struct gh_tokens *t)
{
	free(t->access_token);
	free(t->refresh_token);
	free(t->scope);
	memset(t, 0, sizeof *t);
}

static char *json_strdup(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return strdup(json_object_get_string(v));
}

static long json_long(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	return (long)json_object_get_int64(v);
}

static int token_post(struct gh_tokens *out, const char *form, struct err *e)
{
	struct gh_resp r;
	memset(&r, 0, sizeof r);
	memset(out, 0, sizeof *out);
	char url[1024];
	snprintf(url, sizeof url, "%s/login/oauth/access_token", cfg_str(CFG_GITHUB_WEB_URL));
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	int rc = perform(&r, c, hdrs, MT_APP, e);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (rc)
		goto out;
	char *error = json_strdup(r.json, "error");
	if (r.status != 200 || !r.json || error) {
		char *desc = json_strdup(r.json, "error_description");
		rc = err_set(e, error ? ERR_INVALID : ERR_FAIL, "GitHub refused the sign-in: %s%s%s",
			     error ? error : "unexpected answer", desc ? " — " : "", desc ? desc : "");
		free(desc);
		free(error);
		goto out;
	}
	out->access_token = json_strdup(r.json, "access_token");
	out->refresh_token = json_strdup(r.json, "refresh_token");
	out->scope = json_strdup(r.json, "scope");
	out->expires_in = json_long(r.json, "expires_in");
	out->refresh_expires_in = json_long(r.json, "refresh_token_expires_in");
	if (!out->access_token || !*out->access_token) {
		gh_tokens_free(out);
		rc = err_set(e, ERR_FAIL, "GitHub's token answer has no access_token");
	}
out:
	gh_resp_free(&r);
	return rc;
}

static void form_add(struct buf *b, const char *k, const char *v)
{
	char *ev = curl_easy_escape(NULL, v, 0);
	buf_printf(b, "%s%s=%s", b->len ? "&" : "", k, ev);
	curl_free(ev);
}

int gh_oauth_exchange(struct gh_tokens *out, const char *code, const char *verifier, const char *redirect_uri,
		      struct err *e)
{
	struct buf b = BUF_INIT;
	form_add(&b, "client_id", cfg_str(CFG_GITHUB_CLIENT_ID));
	form_add(&b, "client_secret", cfg_str(CFG_GITHUB_CLIENT_SECRET));
	form_add(&b, "code", code);
	form_add(&b, "redirect_uri", redirect_uri);
	if (verifier)
		form_add(&b, "code_verifier", verifier);
	int rc = token_post(out, buf_cstr(&b), e);
	sodium_memzero_buf(&b);
	return rc;
}

int gh_oauth_refresh(struct gh_tokens *out, const char *refresh_token, struct err *e)
{
	struct buf b = BUF_INIT;
	form_add(&b, "client_id", cfg_str(CFG_GITHUB_CLIENT_ID));
	form_add(&b, "client_secret", cfg_str(CFG_GITHUB_CLIENT_SECRET));
	form_add(&b, "grant_type", "refresh_token");
	form_add(&b, "refresh_token", refresh_token);
	int rc = token_post(out, buf_cstr(&b), e);
	sodium_memzero_buf(&b);
	return rc;
}

int gh_grant_revoke(const char *access_token, struct err *e)
{
	char url[1024];
	snprintf(url, sizeof url, "%s/applications/%s/grant", cfg_str(CFG_GITHUB_API_URL), cfg_str(CFG_GITHUB_CLIENT_ID));
	struct json_object *body = json_object_new_object();
	json_object_object_add(body, "access_token", json_object_new_string(access_token));
	struct gh_resp r;
	memset(&r, 0, sizeof r);
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/vnd.github+json");
	hdrs = curl_slist_append(hdrs, "X-GitHub-Api-Version: 2022-11-28");
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_object_to_json_string(body));
	curl_easy_setopt(c, CURLOPT_USERNAME, cfg_str(CFG_GITHUB_CLIENT_ID));
	curl_easy_setopt(c, CURLOPT_PASSWORD, cfg_str(CFG_GITHUB_CLIENT_SECRET));
	int rc = perform(&r, c, hdrs, MT_APP, e);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	json_object_put(body);
	if (rc == 0 && r.status != 204 && r.status != 404) {
		char msg[256];
		rc = err_set(e, ERR_FAIL, "%s", gh_error_message(&r, msg, sizeof msg));
	}
	gh_resp_free(&r);
	return rc;
}

void gh_repo_ref_free(struct gh_repo_ref *r)
{
	free(r->owner);
	free(r->name);
	free(r->clone_url);
	free(r->html_url);
	memset(r, 0, sizeof *r);
}

int gh_repo_by_id(struct gh_repo_ref *out, long *until, long long id, const char *token, struct err *e)
{
	char path[64], msg[256];
	snprintf(path, sizeof path, "/repositories/%lld", id);
	struct gh_resp r;
	int rc = gh_call(&r, "GET", path, token, NULL, NULL, e);
	if (rc)
		return rc;
	struct json_object *v, *owner = NULL;
	long long got = r.status == 200 && r.json && json_object_object_get_ex(r.json, "id", &v) ? json_object_get_int64(v) : 0;
	if (r.status == 404 || r.status == 451)
		rc = err_set(e, ERR_NOTFOUND, "GitHub does not show repository %lld (%ld)", id, r.status);
	else if (r.status == 401)
		rc = err_set(e, ERR_UNAUTH, "GitHub refused the token (%s)", gh_error_message(&r, msg, sizeof msg));
	else if (gh_is_rate_limited(&r, until))
		rc = err_set(e, ERR_RATELIMIT, "GitHub's rate limit stopped looking up repository %lld", id);
	else if (r.status != 200)
		rc = err_set(e, ERR_FAIL, "looking up repository %lld: %s", id, gh_error_message(&r, msg, sizeof msg));
	else if (got != id)
		rc = err_set(e, ERR_FAIL, "GitHub's answer for repository %lld is another repository", id);
	if (rc == 0) {
		memset(out, 0, sizeof *out);
		out->id = got;
		json_object_object_get_ex(r.json, "owner", &owner);
		out->owner = json_strdup(owner, "login");
		out->name = json_strdup(r.json, "name");
		out->clone_url = json_strdup(r.json, "clone_url");
		out->html_url = json_strdup(r.json, "html_url");
	}
	gh_resp_free(&r);
	return rc;
}

void gh_user_free(struct gh_user *u)
{
	free(u->login);
	free(u->name);
	free(u->email);
	free(u->avatar_url);
	memset(u, 0, sizeof *u);
}

int gh_user_get(struct gh_user *out, const char *token, struct err *e)
{
	struct gh_resp r;
	memset(out, 0, sizeof *out);
	int rc = gh_call(&r, "GET", "/user", token, NULL, NULL, e);
	if (rc)
		return rc;
	if (r.status != 200 || !r.json) {
		char msg[256];
		rc = err_set(e, r.status == 401 ? ERR_UNAUTH : ERR_FAIL, "%s", gh_error_message(&r, msg, sizeof msg));
		gh_resp_free(&r);
		return rc;
	}
	struct json_object *v;
	if (json_object_object_get_ex(r.json, "id", &v))
		out->id = (long long)json_object_get_int64(v);
	out->login = json_strdup(r.json, "login");
	out->name = json_strdup(r.json, "name");
	out->email = json_strdup(r.json, "email");
	out->avatar_url = json_strdup(r.json, "avatar_url");
	gh_resp_free(&r);
	if (!out->login || out->id <= 0) {
		gh_user_free(out);
		return err_set(e, ERR_FAIL, "GitHub's /user answer has no id or login");
	}
	return 0;
}
