/* webhooks.c: the repository webhook: registration (a job), signed deliveries, and what each event changes. */
/* Dependency direction (no circle): webhooks.c is above projects.c, branches.c and pulls.c and calls them
 * (a push queues a sync, a pull_request event refreshes the stored pull requests); none of them calls it
 * (projects.c removes the webhook on a disconnect itself; connect.c calls webhooks_on_connect). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include <sodium.h>
#include "core/metrics.h"
#include "service/ops.h"
#include "core/cfg.h"
#include "core/crypto.h"
#include "core/log.h"
#include "git/branch.h"
#include "github/gh.h"
#include "service/auth.h"
#include "service/follow.h"
#include "service/ghx.h"
#include "service/pulls.h"
#include "service/webhooks.h"
#include "store/pulls.h"

/* The events ghbridge acts on; GitHub sends only these to the hooks it registers. */
static const char *const used_events[] = { "push", "pull_request", "status", "check_suite", "check_run", NULL };

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

/* public_url + /webhooks/github, or "" when no public URL is configured (GitHub could not reach us). */
static void hook_url(char *out, size_t len)
{
	const char *pub = cfg_str(CFG_PUBLIC_URL);
	size_t n = strlen(pub);
	while (n && pub[n - 1] == '/')
		n--;
	if (n == 0)
		out[0] = '\0';
	else
		snprintf(out, len, "%.*s/webhooks/github", (int)n, pub);
}

static void secret_ad(char *out, size_t len, long long project_id)
{
	snprintf(out, len, "webhook_secret:project:%lld", project_id);
}

/* ---------------------------------------------------------------- connect and disconnect */

static int enqueue_register(struct db *db, struct project *p, struct err *e)
{
	char key[64];
	snprintf(key, sizeof key, "webhook_register:%lld", p->id);
	struct jobs_enqueue_opts o = { .project_id = p->id, .dedup_key = key };
	long long id;
	int coalesced;
	return jobs_enqueue(&id, &coalesced, db, "webhook_register", &o, e);
}

void webhooks_on_connect(struct db *db, struct project *p)
{
	if (!p->repo_owner)
		return;
	char url[1100];
	hook_url(url, sizeof url);
	struct err e = { 0 };
	/* Without a public URL GitHub cannot call us: the open pull requests are polled instead. */
	int rc = url[0] ? enqueue_register(db, p, &e) : pulls_refresh_enqueue(NULL, db, p, 0, &e);
	if (rc)
		log_msg(LOG_WARN, "project %lld: webhook registration not queued: %s", p->id, e.msg);
}

void webhooks_ensure(struct db *db, struct project *p)
{
	char url[1100];
	hook_url(url, sizeof url);
	if (!p->repo_owner || !url[0])
		return;
	struct webhook w;
	struct err e = { 0 };
	int rc = store_webhook_get(&w, db, p->id, &e);
	if (rc == 0) {
		store_webhook_free(&w);
		return;
	}
	if (rc == ERR_NOTFOUND && enqueue_register(db, p, &e))
		log_msg(LOG_WARN, "project %lld: webhook registration not queued: %s", p->id, e.msg);
}

int webhooks_status(struct webhook *out, struct db *db, struct project *p, struct err *e)
{
	return store_webhook_get(out, db, p->id, e);
}

/* ---------------------------------------------------------------- receiving */

static int answer(struct webhook_out *out, int status, const char *result, const char *message)
{
	out->status = status;
	out->result = result;
	snprintf(out->message, sizeof out->message, "%s", message);
	static const char *const names[MH_NHOOK] = { "queued", "duplicate", "ignored", "pong", "bad_signature", "bad_request" };
	for (int i = 0; i < MH_NHOOK; i++)
		if (strcmp(result, names[i]) == 0)
			metrics_webhook((enum metrics_hook)i);
	return 0;
}

/* HMAC-SHA256 of the body with the webhook's secret, compared in constant time. */
static int signature_matches(const struct webhook *w, const unsigned char want[32], const struct webhook_in *in)
{
	char ad[64];
	secret_ad(ad, sizeof ad, w->project_id);
	char *secret = NULL;
	size_t slen = 0;
	struct err e = { 0 };
	if (crypto_open(&secret, &slen, w->secret_sealed, ad, &e))
		return 0; /* unreadable (tampered, or a retired key): cannot vouch for anything */
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, slen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)in->body, in->body_len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof st);
	sodium_memzero(secret, slen);
	free(secret);
	return sodium_memcmp(mac, want, sizeof mac) == 0;
}

static int is_used(const char *event)
{
	for (int i = 0; used_events[i]; i++)
		if (strcmp(event, used_events[i]) == 0)
			return 1;
	return 0;
}

/* GitHub's id of the delivery's repository; 0 when it has none. */
static long long repo_id_of(struct json_object *ev)
{
	struct json_object *v = jobj(jobj(ev, "repository"), "id");
	long long id = v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
	return id > 0 ? id : 0;
}

/* Only what the job needs, so a 25 MB push delivery does not travel through the database. */
static struct json_object *extract(const char *event, struct json_object *ev)
{
	struct json_object *o = json_object_new_object(), *v;
	/* The repository by its id and its name at the time of the event: the job notices a rename. */
	long long rid = repo_id_of(ev);
	const char *full = jstr(jobj(ev, "repository"), "full_name");
	if (rid && full) {
		struct json_object *r = json_object_new_object();
		json_object_object_add(r, "id", json_object_new_int64(rid));
		json_object_object_add(r, "full_name", json_object_new_string(full));
		json_object_object_add(o, "repository", r);
	}
	if (strcmp(event, "pull_request") == 0) {
		if ((v = jobj(ev, "pull_request")))
			json_object_object_add(o, "pull_request", json_object_get(v));
	} else if (strcmp(event, "push") == 0) {
		const char *keys[] = { "ref", "before", "after" };
		for (int i = 0; i < 3; i++)
			if (jstr(ev, keys[i]))
				json_object_object_add(o, keys[i], json_object_new_string(jstr(ev, keys[i])));
		if ((v = jobj(ev, "deleted")))
			json_object_object_add(o, "deleted", json_object_get(v));
	} else if (strcmp(event, "status") == 0) {
		if (jstr(ev, "sha"))
			json_object_object_add(o, "sha", json_object_new_string(jstr(ev, "sha")));
	} else {
		/* check_suite / check_run: the commit they are about */
		const char *sha = jstr(jobj(ev, event), "head_sha");
		if (sha)
			json_object_object_add(o, "sha", json_object_new_string(sha));
	}
	return o;
}

static struct json_object *parse_json(const char *s, size_t len)
{
	if (!s || !len || len > (size_t)0x7fffffff)
		return NULL;
	struct json_tokener *t = json_tokener_new_ex(64);
	if (!t)
		return NULL;
	struct json_object *o = json_tokener_parse_ex(t, s, (int)len);
	size_t end = json_tokener_get_parse_end(t);
	int ok = o && json_tokener_get_error(t) == json_tokener_success && json_object_is_type(o, json_type_object);
	json_tokener_free(t);
	for (; ok && end < len; end++)
		if (!strchr(" \t\r\n", s[end]))
			ok = 0; /* trailing garbage: not the JSON GitHub signed */
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* A delivery refused for its signature is an audit event (someone may be forging GitHub): what it
 * claimed to be, never its body. */
static void webhook_refused_audit(struct db *db, const struct webhook_in *in, const char *why)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "reason", json_object_new_string(why));
	char ev[65], dl[101];
	/* Header values as sent are UTF-8 checked (web/fields.c); cut to the lengths GitHub uses. */
	snprintf(ev, sizeof ev, "%s", in->event ? in->event : "");
	snprintf(dl, sizeof dl, "%s", in->delivery ? in->delivery : "");
	json_object_object_add(d, "event", json_object_new_string(ev));
	json_object_object_add(d, "delivery", json_object_new_string(dl));
	ops_audit_note(db, "webhook.refused", "webhook", NULL, 0, "refused", json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
	json_object_put(d);
}

int webhooks_receive(struct webhook_out *out, struct db *db, const struct webhook_in *in, struct err *e)
{
	memset(out, 0, sizeof *out);
	unsigned char want[32];
	size_t wlen = 0;
	const char *hex_end = NULL;
	const char *sig = in->signature;
	if (!sig || strncmp(sig, "sha256=", 7) != 0 || strlen(sig + 7) != 64 ||
	    sodium_hex2bin(want, sizeof want, sig + 7, 64, NULL, &wlen, &hex_end) != 0 || wlen != 32) {
		webhook_refused_audit(db, in, "malformed signature");
		return answer(out, 401, "bad_signature", "The X-Hub-Signature-256 header is missing or malformed.");
	}
	struct webhook *cand = NULL;
	int ncand = 0, rc;
	long long hook_id = 0;
	if (in->hook_id && *in->hook_id && strspn(in->hook_id, "0123456789") == strlen(in->hook_id) &&
	    strlen(in->hook_id) < 19)
		hook_id = strtoll(in->hook_id, NULL, 10);
	if (hook_id > 0 && (rc = store_webhooks_by_hook(&cand, &ncand, db, hook_id, e)))
		return rc;
	struct json_object *ev = parse_json(in->json, in->json_len);
	if (ncand == 0) {
		/* Before GitHub's answer to the registration is stored (its ping arrives first), or a
		 * hook shared by two projects: find the webhook by repository (by GitHub's id for the
		 * projects that know it, so a renamed repository is still found; by name for the others). */
		store_webhooks_free(cand, ncand);
		cand = NULL;
		const char *full = jstr(jobj(ev, "repository"), "full_name");
		const char *slash = full ? strchr(full, '/') : NULL;
		if (slash && slash != full && slash[1] && slash - full < 100) {
			char owner[100];
			snprintf(owner, sizeof owner, "%.*s", (int)(slash - full), full);
			if ((rc = store_webhooks_by_repo(&cand, &ncand, db, repo_id_of(ev), owner, slash + 1, e))) {
				json_object_put(ev);
				return rc;
			}
		}
	}
	const struct webhook *match = NULL;
	for (int i = 0; i < ncand; i++)
		if (!match && signature_matches(&cand[i], want, in))
			match = &cand[i];
	if (!match) {
		webhook_refused_audit(db, in, "signature does not match");
		answer(out, 401, "bad_signature", "The signature does not match the secret of any webhook of this server.");
		goto out;
	}
	if (!ev) {
		answer(out, 400, "bad_request", "The body is not a JSON object.");
		goto out;
	}
	if (!in->event || !*in->event || strlen(in->event) > 64) {
		answer(out, 400, "bad_request", "The X-GitHub-Event header is missing.");
		goto out;
	}
	struct err e2 = { 0 };
	if (store_webhook_delivered(db, match->project_id, &e2))
		log_msg(LOG_WARN, "webhook delivery time not recorded: %s", e2.msg);
	if (strcmp(in->event, "ping") == 0) {
		answer(out, 200, "pong", "Pong: this webhook reaches ghbridge.");
		goto out;
	}
	if (!is_used(in->event)) {
		answer(out, 202, "ignored", "ghbridge does not use this event; nothing was done.");
		goto out;
	}
	if (!in->delivery || !*in->delivery || strlen(in->delivery) > 100) {
		answer(out, 400, "bad_request", "The X-GitHub-Delivery header is missing or too long.");
		goto out;
	}
	struct json_object *small = extract(in->event, ev);
	/* Whose secret vouched for it: the job acts for that project and those sharing its hook. */
	json_object_object_add(small, "_verified_by", json_object_new_int64(match->project_id));
	const char *action = jstr(ev, "action");
	long long did = 0, job = 0;
	int coalesced = 0;
	char pl[64];
	/* The delivery and its job go in together: a crash between them can neither lose the event
	 * nor record it as handled. */
	if ((rc = db_begin(db, e)) == 0) {
		rc = store_delivery_insert(&did, db, in->delivery, in->event, action, hook_id, match->repo_owner,
					   match->repo_name, json_object_to_json_string(small), e);
		if (rc == 0 && did) {
			snprintf(pl, sizeof pl, "{\"delivery\":%lld}", did);
			struct jobs_enqueue_opts o = { .payload = pl, .priority = 50 };
			rc = jobs_enqueue(&job, &coalesced, db, "webhook", &o, e);
			if (rc == 0)
				rc = store_delivery_set_job(db, did, job, e);
		}
		if (rc == 0 && did)
			rc = db_commit(db, e);
		else
			db_rollback(db);
	}
	json_object_put(small);
	if (rc)
		goto out;
	out->delivery_id = did;
	out->job_id = job;
	if (!did)
		answer(out, 200, "duplicate", "This delivery was received before; nothing was done again.");
	else
		answer(out, 202, "queued", "Received; it is being applied.");
out:
	json_object_put(ev);
	store_webhooks_free(cand, ncand);
	return rc;
}

/* ---------------------------------------------------------------- applying a delivery */

/* "owner/name" as GitHub allows them (letters, digits, '-', '_', '.'): safe in a REST path. */
static int full_name_ok(const char *full)
{
	const char *slash = full ? strchr(full, '/') : NULL;
	if (!slash || slash == full || !slash[1] || strchr(slash + 1, '/') || strlen(full) > 200)
		return 0;
	for (const char *c = full; *c; c++)
		if (c != slash && !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *c))
			return 0;
	return strcmp(slash + 1, ".") != 0 && strcmp(slash + 1, "..") != 0;
}

/* The delivery names the project's repository (same GitHub id) differently from the project: it was
 * renamed or moved on GitHub. GitHub's current answer decides, not the event (a late redelivery carries
 * the name of its time): projects_repo_follow asks GitHub for the repository by its id and stores the
 * name it has now. Never fails the delivery: the next one (or the next sync) tries again. */
static void follow_rename(struct job_ctx *ctx, struct project *p, const char *full)
{
	if (!full_name_ok(full)) {
		log_msg(LOG_WARN, "project %lld: webhook names repository %lld oddly; rename not followed", p->id,
			p->workspace_repo_id);
		return;
	}
	struct err e = { 0 };
	char *token = NULL;
	if (auth_github_token(&token, ctx->db, p->owner_id, &e)) {
		log_msg(LOG_WARN, "project %lld: repository renamed to %s; not followed: %s", p->id, full, e.msg);
		return;
	}
	long until = 0;
	int renamed = 0;
	if (projects_repo_follow(&renamed, ctx->db, p, token, &until, &e))
		log_msg(LOG_INFO, "project %lld: webhook names repository %lld %s; not followed (%s): stays %s/%s", p->id,
			p->workspace_repo_id, full, e.msg, p->repo_owner, p->repo_name);
	sodium_memzero(token, strlen(token));
	free(token);
}

int webhooks_job_delivery(struct job_ctx *ctx, const struct job *job)
{
	struct json_object *v;
	long long id = json_object_object_get_ex(job->payload, "delivery", &v) ? json_object_get_int64(v) : 0;
	struct delivery d;
	struct err e = { 0 };
	int rc = store_delivery_get(&d, ctx->db, id, &e);
	if (rc == ERR_NOTFOUND)
		return JOB_DONE;
	if (rc)
		return job_retry(ctx, "%s", e.msg);
	struct json_object *pl = d.payload ? json_tokener_parse(d.payload) : NULL, *vb;
	long long *pids = NULL;
	int n = 0, updated = 0, queued = 0, outcome = JOB_DONE;
	char detail[256] = "";
	/* Only the projects whose webhook this is: a project linked to the same repository through a
	 * hook of its own hears of the event from that hook (GitHub sends to every hook). */
	struct webhook *rows = NULL;
	int nrows = 0;
	if (d.hook_id && (rc = store_webhooks_by_hook(&rows, &nrows, ctx->db, d.hook_id, &e))) {
		outcome = job_retry(ctx, "%s", e.msg);
		goto out;
	}
	pids = calloc((size_t)nrows + 1, sizeof *pids);
	if (!pids)
		abort();
	for (int i = 0; i < nrows; i++)
		pids[n++] = rows[i].project_id;
	store_webhooks_free(rows, nrows);
	long long verified = json_object_object_get_ex(pl, "_verified_by", &vb) ? json_object_get_int64(vb) : 0;
	int seen = 0;
	for (int i = 0; i < n; i++)
		seen |= pids[i] == verified;
	if (verified > 0 && !seen)
		pids[n++] = verified;
	struct json_object *repo = jobj(pl, "repository"), *rv = jobj(repo, "id");
	long long repo_id = rv && json_object_is_type(rv, json_type_int) ? json_object_get_int64(rv) : 0;
	const char *repo_full = jstr(repo, "full_name");
	for (int i = 0; i < n; i++) {
		struct project p;
		if (store_project_get(&p, ctx->db, pids[i], 0, &e))
			continue;
		/* Still linked to the delivery's repository? By GitHub's id when both know it (the name may
		 * have changed on GitHub since the link), by name otherwise. */
		int same;
		if (!p.repo_owner)
			same = 0;
		else if (repo_id && p.workspace_repo_id)
			same = repo_id == p.workspace_repo_id;
		else
			same = strcasecmp(p.repo_owner, d.repo_owner) == 0 && strcasecmp(p.repo_name, d.repo_name) == 0;
		if (!same) {
			store_project_free(&p); /* relinked elsewhere since */
			continue;
		}
		if (repo_id && p.workspace_repo_id && repo_full) {
			char stored[240];
			snprintf(stored, sizeof stored, "%s/%s", p.repo_owner, p.repo_name);
			if (strcmp(stored, repo_full) != 0)
				follow_rename(ctx, &p, repo_full);
		}
		if (strcmp(d.event, "pull_request") == 0) {
			struct pull pr;
			if (pulls_from_json(&pr, jobj(pl, "pull_request"), p.id) == 0) {
				int applied = 0;
				rc = store_pull_upsert(&applied, ctx->db, &pr, &e);
				updated += rc == 0 && applied;
				/* GitHub computes mergeability after the event: ask again shortly. */
				if (rc == 0 && strcmp(pr.state, "open") == 0 && pr.mergeable < 0)
					pulls_refresh_enqueue(NULL, ctx->db, &p, 3000, &e);
				store_pull_free(&pr);
			}
		} else if (strcmp(d.event, "push") == 0) {
			const char *ref = jstr(pl, "ref"), *after = jstr(pl, "after");
			struct json_object *del = jobj(pl, "deleted");
			int deleted = del && json_object_get_boolean(del);
			if (ref && strncmp(ref, "refs/heads/", 11) == 0 && !branches_gh_name_ok(ref + 11)) {
				/* Never used in a ref path (issue 11): git refuses the name. */
				log_msg(LOG_WARN, "webhook %s: a push to a branch whose name git refuses; ignored", d.delivery_id);
			} else if (ref && after && !deleted && strncmp(ref, "refs/heads/", 11) == 0 &&
				   strcmp(ref + 11, projects_branch(&p)) == 0 && p.pull_enabled) {
				/* Our own pushes come back as events too: only what the workspace lacks is pulled.
				 * A "webhook" sync is a pull (sync.c): it brings GitHub's changes in and pushes
				 * nothing, so auto-sync off and batch timeouts still hold for the workspace's own
				 * changes; history says a webhook set it off. */
				int has = 0;
				git_workspace_contains(&has, p.workspace, ref + 11, after, &e);
				if (!has && projects_sync_enqueue(NULL, ctx->db, &p, "webhook", 0, &e) == 0)
					queued++;
			}
		} else {
			const char *sha = jstr(pl, "sha");
			int *nums = NULL, nn = 0;
			if (sha && store_pulls_by_sha(&nums, &nn, ctx->db, p.id, sha, &e) == 0 && nn > 0 &&
			    pulls_refresh_enqueue(NULL, ctx->db, &p, 0, &e) == 0)
				queued++;
			free(nums);
		}
		store_project_free(&p);
	}
	snprintf(detail, sizeof detail, "%s%s%s: %d project(s), %d pull request(s) updated, %d job(s) queued", d.event,
		 d.action ? " " : "", d.action ? d.action : "", n, updated, queued);
	if (store_delivery_finish(ctx->db, d.id, "done", detail, &e))
		outcome = job_retry(ctx, "%s", e.msg);
	/* Delivery ids only need to outlive GitHub's redelivery window; trim now and then. */
	if (d.id % 100 == 0)
		store_deliveries_prune(ctx->db, 30, &e);
out:
	free(pids);
	json_object_put(pl);
	store_delivery_free(&d);
	return outcome;
}

/* ---------------------------------------------------------------- registration jobs */

static int fail_row(struct job_ctx *ctx, long long project_id, const char *msg)
{
	struct err e = { 0 };
	struct webhook w;
	if (store_webhook_get(&w, ctx->db, project_id, &e) == 0) {
		store_webhook_set(ctx->db, project_id, w.hook_id, "error", msg, &e);
		store_webhook_free(&w);
	}
	log_msg(LOG_WARN, "project %lld: webhook: %s", project_id, msg);
	return JOB_DONE;
}

/* The secret of the project's row (creating the row with a fresh one when needed). Caller frees. */
static int row_secret(char **secret, struct webhook *w, struct db *db, const struct project *p, const char *url,
		      struct err *e)
{
	char ad[64];
	secret_ad(ad, sizeof ad, p->id);
	/* Workers open sealed values lazily (crypto_open loads the keys); sealing needs them first. */
	if (!crypto_key_id()[0]) {
		int krc = crypto_keys_load(e);
		if (krc)
			return krc;
	}
	char fresh[65];
	crypto_random_hex(fresh, 32);
	char *sealed = crypto_seal(fresh, strlen(fresh), ad, e);
	sodium_memzero(fresh, sizeof fresh);
	if (!sealed)
		return e->code ? e->code : ERR_FAIL;
	/* Keeps an existing row's secret for the same repository: a redone job reuses it. */
	int rc = store_webhook_prepare(w, db, p->id, p->repo_owner, p->repo_name, url, sealed, e);
	free(sealed);
	if (rc)
		return rc;
	size_t len;
	if (crypto_open(secret, &len, w->secret_sealed, ad, e) == 0)
		return 0;
	/* Sealed with a key no longer held: start over with a new secret (the hook is replaced). */
	crypto_random_hex(fresh, 32);
	sealed = crypto_seal(fresh, strlen(fresh), ad, e);
	*secret = strdup(fresh);
	sodium_memzero(fresh, sizeof fresh);
	if (!sealed || !*secret)
		abort();
	rc = store_webhook_set_secret(db, p->id, sealed, e);
	free(sealed);
	if (rc == 0)
		rc = store_webhook_set(db, p->id, 0, "pending", NULL, e);
	w->hook_id = 0;
	return rc;
}

int webhooks_job_register(struct job_ctx *ctx, const struct job *job)
{
	struct project p;
	struct err e = { 0 };
	int rc = store_project_get(&p, ctx->db, job->project_id, 0, &e);
	if (rc == ERR_NOTFOUND)
		return JOB_DONE;
	if (rc)
		return job_retry(ctx, "loading project %lld: %s", job->project_id, e.msg);
	char url[1100];
	hook_url(url, sizeof url);
	if (!p.repo_owner || !url[0]) {
		store_project_free(&p);
		return JOB_DONE;
	}
	struct webhook w = { 0 };
	char *secret = NULL, *token = NULL, path[300];
	struct gh_resp r = { 0 };
	int outcome = JOB_DONE;
	snprintf(path, sizeof path, "/repos/%s/%s/hooks", p.repo_owner, p.repo_name);
	if ((rc = row_secret(&secret, &w, ctx->db, &p, url, &e))) {
		outcome = job_retry(ctx, "webhook secret: %s", e.msg);
		goto out;
	}
	rc = auth_github_token(&token, ctx->db, p.owner_id, &e);
	if (rc == ERR_UNAUTH || rc == ERR_NOTFOUND) {
		outcome = fail_row(ctx, p.id, "GitHub is not connected for the project's owner. Reconnect GitHub.");
		goto out;
	}
	if (rc) {
		outcome = job_retry(ctx, "token: %s", e.msg);
		goto out;
	}
	/* Check before create: a hook of ours may exist from an earlier attempt or another project. */
	char list[340];
	snprintf(list, sizeof list, "%s?per_page=100", path);
	if ((rc = gh_call(&r, "GET", list, token, NULL, NULL, &e)) || (r.status != 200 && r.status != 403 && r.status != 404)) {
		outcome = ghx_job_failed(ctx, &r, rc, &e, "Listing the repository's webhooks");
		goto out;
	}
	if (r.status == 403 || r.status == 404) {
		char m[300];
		snprintf(m, sizeof m, "ghbridge cannot add a webhook to %s/%s: that needs admin rights on the repository. "
			 "Changes made on GitHub are picked up by polling instead.", p.repo_owner, p.repo_name);
		fail_row(ctx, p.id, m);
		pulls_refresh_enqueue(NULL, ctx->db, &p, 0, &e);
		goto out;
	}
	long long ours = 0;
	for (size_t i = 0; r.json && json_object_is_type(r.json, json_type_array) && i < json_object_array_length(r.json); i++) {
		struct json_object *h = json_object_array_get_idx(r.json, i), *idv;
		const char *hu = jstr(jobj(h, "config"), "url");
		if (!hu || strcmp(hu, url) != 0 || !json_object_object_get_ex(h, "id", &idv))
			continue;
		long long hid = json_object_get_int64(idv);
		if (hid == w.hook_id) {
			ours = hid;
			break;
		}
		/* Another project linked to the same repository registered it: share its secret. */
		struct webhook *others = NULL;
		int no = 0;
		char *theirs = NULL;
		size_t tl = 0;
		if (store_webhooks_by_hook(&others, &no, ctx->db, hid, &e) == 0 && no > 0) {
			char ad[64];
			secret_ad(ad, sizeof ad, others[0].project_id);
			if (crypto_open(&theirs, &tl, others[0].secret_sealed, ad, &e) == 0) {
				char myad[64];
				secret_ad(myad, sizeof myad, p.id);
				char *sealed = crypto_seal(theirs, tl, myad, &e);
				if (sealed && store_webhook_set_secret(ctx->db, p.id, sealed, &e) == 0)
					ours = hid;
				free(sealed);
				sodium_memzero(theirs, tl);
				free(theirs);
			}
		}
		store_webhooks_free(others, no);
		if (ours)
			break;
		/* Ours by its URL, but its secret is unknown (a crash between GitHub's answer and our
		 * record): replace it. */
		struct gh_resp d;
		char one[360];
		snprintf(one, sizeof one, "%s/%lld", path, hid);
		if (gh_call(&d, "DELETE", one, token, NULL, NULL, &e) == 0 && d.status != 204 && d.status != 404)
			log_msg(LOG_WARN, "project %lld: stale webhook %lld not removed (GitHub answered %ld)", p.id, hid,
				d.status);
		gh_resp_free(&d);
	}
	gh_resp_free(&r);
	if (!ours) {
		struct json_object *b = json_object_new_object(), *cfgo = json_object_new_object(),
				   *ev = json_object_new_array();
		json_object_object_add(b, "name", json_object_new_string("web"));
		json_object_object_add(b, "active", json_object_new_boolean(1));
		for (int i = 0; used_events[i]; i++)
			json_object_array_add(ev, json_object_new_string(used_events[i]));
		json_object_object_add(b, "events", ev);
		json_object_object_add(cfgo, "url", json_object_new_string(url));
		json_object_object_add(cfgo, "content_type", json_object_new_string("json"));
		json_object_object_add(cfgo, "secret", json_object_new_string(secret));
		json_object_object_add(cfgo, "insecure_ssl", json_object_new_string("0"));
		json_object_object_add(b, "config", cfgo);
		rc = gh_call(&r, "POST", path, token, json_object_to_json_string(b), NULL, &e);
		/* The request carried the secret: wipe json-c's copy before it is freed. */
		struct json_object *sv;
		if (json_object_object_get_ex(cfgo, "secret", &sv))
			sodium_memzero((char *)json_object_get_string(sv), strlen(json_object_get_string(sv)));
		json_object_put(b);
		if (rc || r.status != 201) {
			if (rc == 0 && (r.status == 403 || r.status == 404)) {
				fail_row(ctx, p.id, "ghbridge cannot add a webhook: that needs admin rights on the repository. "
					 "Changes made on GitHub are picked up by polling instead.");
				pulls_refresh_enqueue(NULL, ctx->db, &p, 0, &e);
				goto out;
			}
			outcome = ghx_job_failed(ctx, &r, rc, &e, "Creating the webhook");
			if (outcome == JOB_PERMANENT)
				fail_row(ctx, p.id, ctx->error);
			goto out;
		}
		struct json_object *idv;
		ours = json_object_object_get_ex(r.json, "id", &idv) ? json_object_get_int64(idv) : 0;
		if (ours <= 0) {
			outcome = job_retry(ctx, "GitHub's webhook answer has no id");
			goto out;
		}
	}
	if ((rc = store_webhook_set(ctx->db, p.id, ours, "active", NULL, &e))) {
		outcome = job_retry(ctx, "%s", e.msg);
		goto out;
	}
	log_msg(LOG_INFO, "project %lld: webhook %lld on %s/%s", p.id, ours, p.repo_owner, p.repo_name);
	/* Pull requests that exist already come in now. */
	pulls_refresh_enqueue(NULL, ctx->db, &p, 0, &e);
out:
	gh_resp_free(&r);
	if (secret) {
		sodium_memzero(secret, strlen(secret));
		free(secret);
	}
	if (token) {
		sodium_memzero(token, strlen(token));
		free(token);
	}
	store_webhook_free(&w);
	store_project_free(&p);
	return outcome;
}

int webhooks_job_delete(struct job_ctx *ctx, const struct job *job)
{
	struct json_object *v;
	const char *owner = jstr(job->payload, "owner"), *name = jstr(job->payload, "name");
	long long hook = json_object_object_get_ex(job->payload, "hook_id", &v) ? json_object_get_int64(v) : 0;
	long long user = json_object_object_get_ex(job->payload, "user_id", &v) ? json_object_get_int64(v) : 0;
	if (!owner || !name || hook <= 0)
		return job_permanent(ctx, "webhook_delete: the payload lacks owner, name or hook_id");
	struct err e = { 0 };
	struct webhook *rows = NULL;
	int n = 0;
	if (store_webhooks_by_hook(&rows, &n, ctx->db, hook, &e))
		return job_retry(ctx, "%s", e.msg);
	store_webhooks_free(rows, n);
	if (n > 0)
		return JOB_DONE; /* another project linked to the repository still uses it */
	char *token = NULL;
	int rc = auth_github_token(&token, ctx->db, user, &e);
	if (rc == ERR_UNAUTH || rc == ERR_NOTFOUND)
		return job_permanent(ctx, "Reconnect GitHub: cannot remove webhook %lld from %s/%s: %s", hook, owner, name,
				     e.msg);
	if (rc)
		return job_retry(ctx, "token: %s", e.msg);
	char path[360];
	snprintf(path, sizeof path, "/repos/%s/%s/hooks/%lld", owner, name, hook);
	struct gh_resp r;
	rc = gh_call(&r, "DELETE", path, token, NULL, NULL, &e);
	sodium_memzero(token, strlen(token));
	free(token);
	int outcome = JOB_DONE;
	if (rc || (r.status != 204 && r.status != 404))
		outcome = ghx_job_failed(ctx, &r, rc, &e, "Removing the webhook");
	gh_resp_free(&r);
	return outcome;
}
