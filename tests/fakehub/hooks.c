/* hooks.c: repository webhooks: the hooks API, signed deliveries (HMAC-SHA256) with a delivery log, push events. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <git2.h>
#include <sodium.h>
#include "core/log.h"
#include "tests/fakehub/fakehub.h"

FH_STMT(hook_by_id, "SELECT * FROM hooks WHERE id = $1 AND repo_id = $2");

static struct json_object *hook_json(PGresult *x, int i, const struct fh_repo *r)
{
	struct json_object *o = json_object_new_object(), *cfg = json_object_new_object(), *ev = json_object_new_array(),
			   *last = json_object_new_object();
	struct arena *a = fh_arena();
	long long id = fh_vall(x, i, "id");
	const char *base = arena_printf(a, "%s/repos/%s/%s/hooks/%lld", g_fh.api_url, r->owner, r->name, id);
	js(o, "type", "Repository");
	ji(o, "id", id);
	js(o, "name", "web");
	jb(o, "active", fh_vbool(x, i, "active"));
	/* events is a text[] literal: {push,pull_request} */
	char *evs = arena_strdup(a, fh_val(x, i, "events")), *sv = NULL;
	for (char *t = strtok_r(evs, "{},\"", &sv); t; t = strtok_r(NULL, "{},\"", &sv))
		json_object_array_add(ev, json_object_new_string(t));
	jo(o, "events", ev);
	js(cfg, "content_type", fh_val(x, i, "content_type"));
	js(cfg, "insecure_ssl", "0");
	js(cfg, "url", fh_val(x, i, "url"));
	if (fh_val(x, i, "secret") && *fh_val(x, i, "secret"))
		js(cfg, "secret", "********");
	jo(o, "config", cfg);
	jt(o, "updated_at", fh_vall(x, i, "updated_at"));
	jt(o, "created_at", fh_vall(x, i, "created_at"));
	js(o, "url", base);
	js(o, "test_url", arena_printf(a, "%s/test", base));
	js(o, "ping_url", arena_printf(a, "%s/pings", base));
	js(o, "deliveries_url", arena_printf(a, "%s/deliveries", base));
	FH_STMT(lastd, "SELECT status_code, error FROM deliveries WHERE hook_id = $1 ORDER BY id DESC LIMIT 1");
	PGresult *d = Q(lastd, fh_ll(id));
	if (d && PQntuples(d)) {
		ji(last, "code", fh_vall(d, 0, "status_code"));
		long long code = fh_vall(d, 0, "status_code");
		js(last, "status", code >= 200 && code < 300 ? "active" : "failed");
		js(last, "message", fh_val(d, 0, "error") ? fh_val(d, 0, "error") : "OK");
	} else {
		js(last, "code", NULL);
		js(last, "status", "unused");
		js(last, "message", NULL);
	}
	if (d)
		PQclear(d);
	jo(o, "last_response", last);
	return o;
}

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
	struct buf *b = ud;
	if (b->len < 65536)
		buf_append(b, p, sz * n);
	return sz * n;
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

/* HMAC-SHA1 for X-Hub-Signature (libsodium has no SHA-1; this is the FIPS 180-4 algorithm). */
struct sha1 {
	uint32_t h[5];
	unsigned char blk[64];
	size_t n;
	uint64_t len;
};

static uint32_t rol(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static void sha1_block(struct sha1 *c)
{
	uint32_t w[80], a = c->h[0], b = c->h[1], d = c->h[2], e = c->h[3], f = c->h[4];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)c->blk[4 * i] << 24 | (uint32_t)c->blk[4 * i + 1] << 16 | (uint32_t)c->blk[4 * i + 2] << 8 |
		       c->blk[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t k, fn;
		if (i < 20)
			fn = (b & d) | (~b & e), k = 0x5A827999;
		else if (i < 40)
			fn = b ^ d ^ e, k = 0x6ED9EBA1;
		else if (i < 60)
			fn = (b & d) | (b & e) | (d & e), k = 0x8F1BBCDC;
		else
			fn = b ^ d ^ e, k = 0xCA62C1D6;
		uint32_t t = rol(a, 5) + fn + f + k + w[i];
		f = e, e = d, d = rol(b, 30), b = a, a = t;
	}
	c->h[0] += a, c->h[1] += b, c->h[2] += d, c->h[3] += e, c->h[4] += f;
}

static void sha1_init(struct sha1 *c)
{
	static const uint32_t iv[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	memcpy(c->h, iv, sizeof iv);
	c->n = 0;
	c->len = 0;
}

static void sha1_update(struct sha1 *c, const unsigned char *p, size_t n)
{
	c->len += n;
	while (n--) {
		c->blk[c->n++] = *p++;
		if (c->n == 64) {
			sha1_block(c);
			c->n = 0;
		}
	}
}

static void sha1_final(struct sha1 *c, unsigned char out[20])
{
	uint64_t bits = c->len * 8;
	unsigned char pad = 0x80, zero = 0, lenb[8];
	sha1_update(c, &pad, 1);
	while (c->n != 56)
		sha1_update(c, &zero, 1);
	for (int i = 0; i < 8; i++)
		lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(c, lenb, 8);
	for (int i = 0; i < 20; i++)
		out[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

static void hmac_sha1_hex(char hex[41], const char *key, const void *msg, size_t len)
{
	unsigned char k[64] = { 0 }, ipad[64], opad[64], inner[20], mac[20];
	size_t kl = strlen(key);
	struct sha1 c;
	if (kl > 64) {
		sha1_init(&c);
		sha1_update(&c, (const unsigned char *)key, kl);
		sha1_final(&c, k);
	} else {
		memcpy(k, key, kl);
	}
	for (int i = 0; i < 64; i++)
		ipad[i] = k[i] ^ 0x36, opad[i] = k[i] ^ 0x5c;
	sha1_init(&c);
	sha1_update(&c, ipad, 64);
	sha1_update(&c, msg, len);
	sha1_final(&c, inner);
	sha1_init(&c);
	sha1_update(&c, opad, 64);
	sha1_update(&c, inner, 20);
	sha1_final(&c, mac);
	sodium_bin2hex(hex, 41, mac, sizeof mac);
}

/* Sends one delivery and records it. The payload is the JSON text as GitHub would sign it. */
static long long deliver(long long hook_id, long long repo_id, const char *url, const char *secret, const char *ctype,
			 const char *event, const char *action, const char *payload, const char *guid, int redelivery)
{
	struct buf body = BUF_INIT, hdrs = BUF_INIT, rbody = BUF_INIT;
	int form = strcmp(ctype, "form") == 0;
	if (form) {
		buf_puts(&body, "payload=");
		url_escape(&body, payload);
	} else {
		buf_puts(&body, payload);
	}
	buf_printf(&hdrs, "Accept: */*\nContent-Type: %s\nUser-Agent: GitHub-Hookshot/fakehub\nX-GitHub-Delivery: %s\n"
			  "X-GitHub-Event: %s\nX-GitHub-Hook-ID: %lld\nX-GitHub-Hook-Installation-Target-ID: %lld\n"
			  "X-GitHub-Hook-Installation-Target-Type: repository\n",
		   form ? "application/x-www-form-urlencoded" : "application/json", guid, event, hook_id, repo_id);
	if (secret && *secret) {
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_state st;
		crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)buf_cstr(&body), body.len);
		crypto_auth_hmacsha256_final(&st, mac);
		char hex[65];
		sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
		buf_printf(&hdrs, "X-Hub-Signature-256: sha256=%s\n", hex);
		/* docs "Webhook events and payloads", Delivery headers: the SHA-1 one is still sent, for
		 * compatibility, whenever a secret is configured. */
		char hex1[41];
		hmac_sha1_hex(hex1, secret, buf_cstr(&body), body.len);
		buf_printf(&hdrs, "X-Hub-Signature: sha1=%s\n", hex1);
	}
	struct curl_slist *list = NULL;
	char *hcopy = strdup(buf_cstr(&hdrs)), *sv = NULL;
	for (char *l = strtok_r(hcopy, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv))
		list = curl_slist_append(list, l);
	free(hcopy);
	list = curl_slist_append(list, "Expect:");
	long code = 0;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CURL *c = curl_easy_init();
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, buf_cstr(&body));
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.len);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &rbody);
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_cleanup(c);
	}
	curl_slist_free_all(list);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	char dur[32];
	snprintf(dur, sizeof dur, "%.1f", (t1.tv_sec - t0.tv_sec) * 1000.0 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	FH_STMT(ins, "INSERT INTO deliveries (guid, hook_id, repo_id, event, action, payload, request_headers, status_code, "
		     "response_body, error, redelivery, delivered_at, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
		     "$11, $12, $13) RETURNING id");
	PGresult *x = Q(ins, guid, fh_ll(hook_id), fh_ll(repo_id), event, action, payload, buf_cstr(&hdrs),
			code ? fh_ll(code) : NULL, buf_cstr(&rbody), code ? NULL : (errbuf[0] ? errbuf : "delivery failed"),
			redelivery ? "t" : "f", fh_ll(C ? C->now : (long long)time(NULL)), dur);
	long long id = x && PQntuples(x) ? fh_vall(x, 0, "id") : 0;
	if (x)
		PQclear(x);
	buf_free(&body);
	buf_free(&hdrs);
	buf_free(&rbody);
	return id;
}

static struct json_object *sender_json(void)
{
	if (C && C->v.id)
		return fh_user_json(C->v.id, C->v.login, "User");
	return NULL;
}

static struct json_object *repo_payload(const struct fh_repo *r)
{
	/* Payloads show the repository as seen by nobody in particular: no permissions block. */
	struct fh_viewer saved = C->v;
	C->v.id = 0;
	struct json_object *o = fh_repo_json(r);
	C->v = saved;
	return o;
}

void fh_event(const struct fh_repo *r, const char *event, const char *action, struct json_object *payload)
{
	struct json_object *tmp;
	if (!json_object_object_get_ex(payload, "repository", &tmp))
		jo(payload, "repository", repo_payload(r));
	if (!json_object_object_get_ex(payload, "sender", &tmp))
		jo(payload, "sender", sender_json());
	/* GitHub's payloads are UTF-8 whatever bytes git holds (see fh_utf8_scrub) */
	const char *js_text = json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	const char *text = fh_utf8_scrub(js_text, strlen(js_text), NULL);
	json_object_put(payload);
	FH_STMT(st, "SELECT id, url, secret, content_type FROM hooks WHERE repo_id = $1 AND active "
		    "AND ($2 = ANY(events) OR '*' = ANY(events)) ORDER BY id");
	PGresult *x = Q(st, fh_ll(r->id), event);
	if (!x)
		return;
	for (int i = 0; i < PQntuples(x); i++) {
		char guid[37];
		fh_uuid(guid);
		deliver(fh_vall(x, i, "id"), r->id, fh_val(x, i, "url"), fh_val(x, i, "secret"), fh_val(x, i, "content_type"),
			event, action, text, guid, 0);
	}
	PQclear(x);
}

static struct json_object *push_commit(git_repository *g, const struct fh_repo *r, const git_oid *oid, int distinct)
{
	git_commit *c;
	if (git_commit_lookup(&c, g, oid))
		return NULL;
	struct json_object *o = json_object_new_object(), *added = json_object_new_array(), *removed = json_object_new_array(),
			   *modified = json_object_new_array();
	char sha[41], tree[41];
	git_oid_tostr(sha, sizeof sha, oid);
	git_oid_tostr(tree, sizeof tree, git_commit_tree_id(c));
	js(o, "id", sha);
	js(o, "tree_id", tree);
	jb(o, "distinct", distinct);
	js(o, "message", git_commit_message(c));
	jt(o, "timestamp", (long long)git_commit_time(c));
	js(o, "url", arena_printf(fh_arena(), "%s/%s/%s/commit/%s", g_fh.web_url, r->owner, r->name, sha));
	const git_signature *sigs[2] = { git_commit_author(c), git_commit_committer(c) };
	for (int k = 0; k < 2; k++) {
		struct json_object *p = json_object_new_object();
		js(p, "name", sigs[k]->name);
		js(p, "email", sigs[k]->email);
		jo(o, k ? "committer" : "author", p);
	}
	char parent[41] = "";
	if (git_commit_parentcount(c))
		git_oid_tostr(parent, sizeof parent, git_commit_parent_id(c, 0));
	struct json_object *files = fh_diff_files(g, r, parent[0] ? parent : NULL, sha, NULL, NULL);
	for (size_t i = 0; i < json_object_array_length(files); i++) {
		struct json_object *f = json_object_array_get_idx(files, i);
		const char *st = jget(f, "status"), *fn = jget(f, "filename");
		json_object_array_add(strcmp(st, "added") == 0 ? added : strcmp(st, "removed") == 0 ? removed : modified,
				      json_object_new_string(fn));
	}
	json_object_put(files);
	jo(o, "added", added);
	jo(o, "removed", removed);
	jo(o, "modified", modified);
	git_commit_free(c);
	return o;
}

static const char zero[] = "0000000000000000000000000000000000000000";

void fh_after_push(const struct fh_repo *r, const char *ref, const char *before, const char *after, long long pusher_id,
		   const char *pusher_login)
{
	FH_STMT(touch, "UPDATE repos SET pushed_at = $2, updated_at = $2 WHERE id = $1");
	PGresult *x = Q(touch, fh_ll(r->id), fh_ll(C->now));
	if (x)
		PQclear(x);
	git_repository *g;
	if (fh_git_open(&g, r->path))
		return;
	int created = strcmp(before, zero) == 0, deleted = strcmp(after, zero) == 0;
	struct json_object *p = json_object_new_object(), *commits = json_object_new_array(), *pusher = json_object_new_object();
	js(p, "ref", ref);
	js(p, "before", before);
	js(p, "after", after);
	jb(p, "created", created);
	jb(p, "deleted", deleted);
	jb(p, "forced", !created && !deleted && fh_git_is_ancestor(g, before, after) != 1);
	js(p, "base_ref", NULL);
	js(p, "compare", arena_printf(fh_arena(), "%s/%s/%s/compare/%.12s...%.12s", g_fh.web_url, r->owner, r->name, before, after));
	if (!deleted) {
		/* docs (push event): the 20-commit cap is for timeline events only; webhook deliveries carry
		 * up to 2048 commits. */
		git_revwalk *w;
		git_oid a, b, oid;
		if (git_revwalk_new(&w, g) == 0) {
			git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
			git_oid_fromstr(&a, after);
			git_revwalk_push(w, &a);
			if (!created && git_oid_fromstr(&b, before) == 0)
				git_revwalk_hide(w, &b);
			while (git_revwalk_next(&oid, w) == 0 && json_object_array_length(commits) < 2048) {
				struct json_object *c = push_commit(g, r, &oid, 1);
				if (c)
					json_object_array_add(commits, c);
			}
			git_revwalk_free(w);
		}
	}
	size_t n = json_object_array_length(commits);
	jo(p, "head_commit", n ? json_object_get(json_object_array_get_idx(commits, n - 1)) : NULL);
	jo(p, "commits", commits);
	js(pusher, "name", pusher_login ? pusher_login : "fakehub");
	js(pusher, "email", arena_printf(fh_arena(), "%s@users.noreply.github.com", pusher_login ? pusher_login : "fakehub"));
	jo(p, "pusher", pusher);
	if (pusher_id && !(C && C->v.id == pusher_id))
		jo(p, "sender", fh_user_json(pusher_id, pusher_login, "User"));
	git_repository_free(g);
	/* The push event's repository carries created_at and pushed_at as epoch integers (every other event:
	 * ISO strings), pushed_at being this push. */
	struct json_object *repo = repo_payload(r);
	json_object_object_add(repo, "created_at", json_object_new_int64(r->created_at));
	json_object_object_add(repo, "pushed_at", json_object_new_int64(C ? C->now : (long long)time(NULL)));
	jo(p, "repository", repo);
	fh_event(r, "push", NULL, p);

	if (strncmp(ref, "refs/heads/", 11) != 0)
		return;
	if (deleted) {
		/* GitHub closes an open pull request whose head branch is deleted (pull_request "closed"). */
		FH_STMT(heads, "SELECT number FROM pulls WHERE repo_id = $1 AND head_ref = $2 AND state = 'open' ORDER BY number");
		x = Q(heads, fh_ll(r->id), ref + 11);
		if (!x)
			return;
		for (int i = 0; i < PQntuples(x); i++)
			fh_pull_set_state(r, fh_vall(x, i, "number"), "closed", pusher_id);
		PQclear(x);
		return;
	}
	/* Open pull requests whose head is this branch follow it. */
	FH_STMT(sync, "UPDATE pulls SET head_sha = $3, updated_at = $4 WHERE repo_id = $1 AND head_ref = $2 AND state = 'open' "
		      "AND head_sha <> $3 RETURNING number");
	x = Q(sync, fh_ll(r->id), ref + 11, after, fh_ll(C->now));
	if (!x)
		return;
	for (int i = 0; i < PQntuples(x); i++) {
		long long num = fh_vall(x, i, "number");
		FH_STMT(one, "SELECT p.*, u.login AS user_login, m.login AS merged_by_login FROM pulls p "
			     "JOIN accounts u ON u.id = p.user_id LEFT JOIN accounts m ON m.id = p.merged_by "
			     "WHERE p.repo_id = $1 AND p.number = $2");
		PGresult *pr = Q(one, fh_ll(r->id), fh_ll(num));
		if (!pr)
			continue;
		git_repository *g2 = NULL;
		fh_git_open(&g2, r->path);
		struct json_object *ev = json_object_new_object();
		js(ev, "action", "synchronize");
		ji(ev, "number", num);
		js(ev, "before", before);
		js(ev, "after", after);
		jo(ev, "pull_request", fh_pull_json(g2, r, pr, 0, 1));
		git_repository_free(g2);
		PQclear(pr);
		fh_event(r, "pull_request", "synchronize", ev);
	}
	PQclear(x);
}

/* ---- the hooks API */

static int hook_admin(struct fh_repo *r)
{
	if (fh_repo_from_params(r))
		return -1;
	/* GitHub hides hooks from anyone who is not an admin of the repository. */
	if (!r->can_admin)
		return fh_not_found(), -1;
	return 0;
}

int api_hooks_list(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (hook_admin(&r))
		return 0;
	FH_STMT(st, "SELECT * FROM hooks WHERE repo_id = $1 ORDER BY id");
	PGresult *x = Q(st, fh_ll(r.id));
	if (!x)
		return -1;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(x); i++)
		json_object_array_add(arr, hook_json(x, i, &r));
	PQclear(x);
	return fh_json(200, arr);
}

static void ping(PGresult *h, const struct fh_repo *r)
{
	struct json_object *p = json_object_new_object();
	static const char *const zen[] = { "Keep it logically awesome.", "Design for failure.", "Approachable is better than simple." };
	js(p, "zen", zen[randombytes_uniform(3)]);
	ji(p, "hook_id", fh_vall(h, 0, "id"));
	jo(p, "hook", hook_json(h, 0, r));
	jo(p, "repository", repo_payload(r));
	jo(p, "sender", sender_json());
	const char *js_text = json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	const char *text = fh_utf8_scrub(js_text, strlen(js_text), NULL);
	json_object_put(p);
	char guid[37];
	fh_uuid(guid);
	deliver(fh_vall(h, 0, "id"), r->id, fh_val(h, 0, "url"), fh_val(h, 0, "secret"), fh_val(h, 0, "content_type"), "ping",
		NULL, text, guid, 0);
}

int api_hooks_create(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (hook_admin(&r))
		return 0;
	struct json_object *cfg = NULL, *events = NULL;
	if (C->json)
		json_object_object_get_ex(C->json, "config", &cfg);
	const char *url = jget(cfg, "url"), *ctype = jget(cfg, "content_type"), *secret = jget(cfg, "secret");
	const char *name = jget(C->json, "name");
	if (name && strcmp(name, "web") != 0)
		return fh_validation(NULL, "Hook", "name", "invalid", NULL);
	if (!url || !*url)
		return fh_validation(NULL, "Hook", NULL, "custom", "Config must contain URL for webhooks");
	if (ctype && strcmp(ctype, "json") && strcmp(ctype, "form"))
		return fh_validation(NULL, "Hook", "content_type", "invalid", NULL);
	struct buf ev = BUF_INIT;
	buf_puts(&ev, "{");
	if (C->json && json_object_object_get_ex(C->json, "events", &events) && json_object_is_type(events, json_type_array) &&
	    json_object_array_length(events) > 0) {
		for (size_t i = 0; i < json_object_array_length(events); i++) {
			const char *e = json_object_get_string(json_object_array_get_idx(events, i));
			if (!e || strspn(e, "abcdefghijklmnopqrstuvwxyz_*") != strlen(e)) {
				buf_free(&ev);
				return fh_validation(NULL, "Hook", "events", "invalid", NULL);
			}
			buf_printf(&ev, "%s%s", i ? "," : "", e);
		}
	} else {
		buf_puts(&ev, "push");
	}
	buf_puts(&ev, "}");
	/* docs repos/create-webhook: hooks may share a config only if their events do not overlap. */
	FH_STMT(dup, "SELECT 1 FROM hooks WHERE repo_id = $1 AND url = $2 AND content_type = $3 "
		     "AND COALESCE(secret, '') = COALESCE($4, '') AND (events && $5::text[] OR '*' = ANY(events) "
		     "OR '*' = ANY($5::text[]))");
	PGresult *d = Q(dup, fh_ll(r.id), url, ctype ? ctype : "form", secret, buf_cstr(&ev));
	if (!d) {
		buf_free(&ev);
		return -1;
	}
	int clash = PQntuples(d) > 0;
	PQclear(d);
	if (clash) {
		buf_free(&ev);
		return fh_validation(NULL, "Hook", NULL, "custom", "Hook already exists on this repository");
	}
	FH_STMT(ins, "INSERT INTO hooks (repo_id, url, secret, content_type, events, active, created_at, updated_at) "
		     "VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $7) RETURNING *");
	PGresult *x = Q(ins, fh_ll(r.id), url, secret, ctype ? ctype : "form", buf_cstr(&ev),
			jget_bool(C->json, "active", 1) ? "t" : "f", fh_ll(C->now));
	buf_free(&ev);
	if (!x)
		return -1;
	long long id = fh_vall(x, 0, "id");
	if (fh_vbool(x, 0, "active"))
		ping(x, &r);
	PQclear(x);
	x = Q(hook_by_id, fh_ll(id), fh_ll(r.id));
	if (!x)
		return -1;
	struct json_object *o = hook_json(x, 0, &r);
	PQclear(x);
	resp_header(resp, "Location", jget(o, "url"));
	return fh_json(201, o);
}

static int load_hook(PGresult **out, struct fh_repo *r)
{
	if (hook_admin(r))
		return -1;
	PGresult *x = Q(hook_by_id, fh_ll(fh_atoll(req_param(C->req, "id"))), fh_ll(r->id));
	if (!x)
		return fh_error(500, "Server Error"), -1;
	if (!PQntuples(x)) {
		PQclear(x);
		return fh_not_found(), -1;
	}
	*out = x;
	return 0;
}

int api_hook_get(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (load_hook(&x, &r))
		return 0;
	struct json_object *o = hook_json(x, 0, &r);
	PQclear(x);
	return fh_json(200, o);
}

/* Events from a JSON array into a text[] literal ("{push,pull_request}"); -1 for a bad name. */
static int events_literal(struct buf *ev, struct json_object *events)
{
	buf_puts(ev, "{");
	for (size_t i = 0; i < json_object_array_length(events); i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(events, i));
		if (!e || !*e || strspn(e, "abcdefghijklmnopqrstuvwxyz_*") != strlen(e))
			return -1;
		buf_printf(ev, "%s%s", i ? "," : "", e);
	}
	buf_puts(ev, "}");
	return 0;
}

/* PATCH /repos/{o}/{r}/hooks/{id} (docs repos/update-webhook): config (url, content_type, secret; a config
 * without url keeps the old one), events (replaces), add_events, remove_events, active. 200 with the hook. */
int api_hook_patch(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (load_hook(&x, &r))
		return 0;
	long long id = fh_vall(x, 0, "id");
	PQclear(x);
	struct json_object *cfg = NULL, *events = NULL, *add = NULL, *rm = NULL, *act = NULL;
	if (C->json) {
		json_object_object_get_ex(C->json, "config", &cfg);
		json_object_object_get_ex(C->json, "events", &events);
		json_object_object_get_ex(C->json, "add_events", &add);
		json_object_object_get_ex(C->json, "remove_events", &rm);
		json_object_object_get_ex(C->json, "active", &act);
	}
	if (cfg && !json_object_is_type(cfg, json_type_object))
		return fh_validation(NULL, "Hook", "config", "invalid", NULL);
	const char *url = jget(cfg, "url"), *ctype = jget(cfg, "content_type"), *secret = jget(cfg, "secret");
	if (url && !*url)
		return fh_validation(NULL, "Hook", NULL, "custom", "Config must contain URL for webhooks");
	if (ctype && strcmp(ctype, "json") && strcmp(ctype, "form"))
		return fh_validation(NULL, "Hook", "content_type", "invalid", NULL);
	if (act && !json_object_is_type(act, json_type_boolean))
		return fh_validation(NULL, "Hook", "active", "invalid", NULL);
	struct buf ev = BUF_INIT, ad = BUF_INIT, rv = BUF_INIT;
	int bad = 0;
	struct json_object *lists[3] = { events, add, rm };
	struct buf *bufs[3] = { &ev, &ad, &rv };
	for (int k = 0; k < 3; k++)
		if (lists[k] && (!json_object_is_type(lists[k], json_type_array) || events_literal(bufs[k], lists[k])))
			bad = 1;
	int rc = 0;
	if (bad) {
		rc = fh_validation(NULL, "Hook", "events", "invalid", NULL);
		goto out;
	}
	FH_STMT(upd, "UPDATE hooks SET url = COALESCE($3, url), content_type = COALESCE($4, content_type), "
		     "secret = CASE WHEN $5::boolean THEN $6 ELSE secret END, "
		     "events = ARRAY(SELECT DISTINCT e FROM unnest(COALESCE($7::text[], events) || COALESCE($8::text[], '{}')) e "
		     "WHERE NOT e = ANY(COALESCE($9::text[], '{}')) ORDER BY e), "
		     "active = COALESCE($10::boolean, active), updated_at = $11 WHERE id = $1 AND repo_id = $2");
	x = Q(upd, fh_ll(id), fh_ll(r.id), url, ctype, cfg && json_object_object_get_ex(cfg, "secret", NULL) ? "t" : "f",
	      secret, events ? buf_cstr(&ev) : NULL, add ? buf_cstr(&ad) : NULL, rm ? buf_cstr(&rv) : NULL,
	      act ? (json_object_get_boolean(act) ? "t" : "f") : NULL, fh_ll(C->now));
	if (!x) {
		rc = -1;
		goto out;
	}
	PQclear(x);
	x = Q(hook_by_id, fh_ll(id), fh_ll(r.id));
	if (!x) {
		rc = -1;
		goto out;
	}
	struct json_object *o = hook_json(x, 0, &r);
	PQclear(x);
	rc = fh_json(200, o);
out:
	buf_free(&ev);
	buf_free(&ad);
	buf_free(&rv);
	return rc;
}

int api_hook_delete(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (load_hook(&x, &r))
		return 0;
	PQclear(x);
	FH_STMT(del, "DELETE FROM hooks WHERE id = $1");
	x = Q(del, req_param(req, "id"));
	if (x)
		PQclear(x);
	return fh_no_content();
}

int api_hook_ping(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (load_hook(&x, &r))
		return 0;
	ping(x, &r);
	PQclear(x);
	return fh_no_content();
}

static struct json_object *delivery_json(PGresult *x, int i, int full)
{
	struct json_object *o = json_object_new_object();
	long long code = fh_vall(x, i, "status_code");
	ji(o, "id", fh_vall(x, i, "id"));
	js(o, "guid", fh_val(x, i, "guid"));
	jt(o, "delivered_at", fh_vall(x, i, "delivered_at"));
	jb(o, "redelivery", fh_vbool(x, i, "redelivery"));
	json_object_object_add(o, "duration", json_object_new_double(atof(fh_val(x, i, "duration_ms") ? fh_val(x, i, "duration_ms") : "0") / 1000.0));
	js(o, "status", code >= 200 && code < 300 ? "OK" : code ? "Invalid HTTP Response" : (fh_val(x, i, "error") ? fh_val(x, i, "error") : "failed"));
	ji(o, "status_code", code);
	js(o, "event", fh_val(x, i, "event"));
	js(o, "action", fh_val(x, i, "action"));
	js(o, "installation_id", NULL);
	ji(o, "repository_id", fh_vall(x, i, "repo_id"));
	ji(o, "hook_id", fh_vall(x, i, "hook_id"));
	if (full) {
		struct json_object *rq = json_object_new_object(), *hd = json_object_new_object(), *rs = json_object_new_object();
		char *h = arena_strdup(fh_arena(), fh_val(x, i, "request_headers")), *sv = NULL;
		for (char *l = strtok_r(h, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
			char *c = strstr(l, ": ");
			if (c) {
				*c = '\0';
				js(hd, l, c + 2);
			}
		}
		jo(rq, "headers", hd);
		struct json_object *payload = json_tokener_parse(fh_val(x, i, "payload"));
		jo(rq, "payload", payload);
		jo(o, "request", rq);
		js(rs, "payload", fh_val(x, i, "response_body"));
		jo(o, "response", rs);
		js(o, "error", fh_val(x, i, "error"));
	}
	return o;
}

int api_hook_deliveries(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (load_hook(&x, &r))
		return 0;
	PQclear(x);
	FH_STMT(st, "SELECT * FROM deliveries WHERE hook_id = $1 ORDER BY id DESC LIMIT 100");
	x = Q(st, req_param(req, "id"));
	if (!x)
		return -1;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(x); i++)
		json_object_array_add(arr, delivery_json(x, i, 0));
	PQclear(x);
	return fh_json(200, arr);
}

/* ---- admin: the delivery log and redelivery */

int admin_deliveries(struct request *req, struct response *resp);
int admin_deliveries(struct request *req, struct response *resp)
{
	FH_STMT(st, "SELECT d.* FROM deliveries d LEFT JOIN repos r ON r.id = d.repo_id LEFT JOIN accounts a ON a.id = r.owner_id "
		    "WHERE ($1::text IS NULL OR lower(a.login || '/' || r.name) = lower($1)) AND ($2::text IS NULL OR d.event = $2) "
		    "AND d.id > COALESCE($3::bigint, 0) ORDER BY d.id");
	PGresult *x = Q(st, req_query(req, "repo"), req_query(req, "event"), req_query(req, "since_id"));
	if (!x)
		return -1;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(x); i++)
		json_object_array_add(arr, delivery_json(x, i, 1));
	PQclear(x);
	return fh_json(200, arr);
}

int admin_redeliver(struct request *req, struct response *resp);
int admin_redeliver(struct request *req, struct response *resp)
{
	FH_STMT(st, "SELECT d.*, h.url, h.secret, h.content_type FROM deliveries d JOIN hooks h ON h.id = d.hook_id WHERE d.id = $1");
	PGresult *x = Q(st, req_param(req, "id"));
	if (!x)
		return -1;
	if (!PQntuples(x)) {
		PQclear(x);
		return fh_not_found();
	}
	long long id = deliver(fh_vall(x, 0, "hook_id"), fh_vall(x, 0, "repo_id"), fh_val(x, 0, "url"), fh_val(x, 0, "secret"),
			       fh_val(x, 0, "content_type"), fh_val(x, 0, "event"), fh_val(x, 0, "action"),
			       fh_val(x, 0, "payload"), fh_val(x, 0, "guid"), 1);
	PQclear(x);
	FH_STMT(one, "SELECT * FROM deliveries WHERE id = $1");
	x = Q(one, fh_ll(id));
	if (!x || !PQntuples(x)) {
		if (x)
			PQclear(x);
		return fh_error(500, "redelivery not recorded");
	}
	struct json_object *o = delivery_json(x, 0, 1);
	PQclear(x);
	return fh_json(202, o);
}
