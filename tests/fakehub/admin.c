/* admin.c: fakehub's loopback admin API under /_fakehub/: accounts, clients, tokens, clock, statuses, PR actions, faults, logs, sink. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include "tests/fakehub/fakehub.h"

int fh_status_create(const struct fh_repo *r, const char *sha, long long creator);
int admin_deliveries(struct request *req, struct response *resp);
int admin_redeliver(struct request *req, struct response *resp);
int ad_team_create(struct request *req, struct response *resp);      /* orgs.c */
int ad_team_member_put(struct request *req, struct response *resp);
int ad_team_repo_put(struct request *req, struct response *resp);

static int admin_err(const struct err *e)
{
	int st = e->code == ERR_INVALID ? 422 : e->code == ERR_NOTFOUND ? 404 : e->code == ERR_CONFLICT ? 409 : 500;
	return fh_error(st, e->msg);
}

static int ad_health(struct request *req, struct response *resp)
{
	struct json_object *o = json_object_new_object();
	jb(o, "ok", 1);
	ji(o, "now", C->now);
	return fh_json(200, o);
}

static int ad_user_create(struct request *req, struct response *resp)
{
	struct err e = { 0 };
	long long id;
	const char *login = fh_in("login");
	if (fh_account_create(&id, login, "User", fh_in("name"), fh_in("email"), &e))
		return admin_err(&e);
	return fh_json(201, fh_user_json(id, login, "User"));
}

static int ad_org_create(struct request *req, struct response *resp)
{
	struct err e = { 0 };
	long long id;
	const char *login = fh_in("login");
	if (fh_account_create(&id, login, "Organization", fh_in("name"), NULL, &e))
		return admin_err(&e);
	return fh_json(201, fh_user_json(id, login, "Organization"));
}

static int ad_member_put(struct request *req, struct response *resp)
{
	struct err e = { 0 };
	if (fh_member_add(req_param(req, "org"), req_param(req, "user"), fh_in("role"), &e))
		return admin_err(&e);
	return fh_no_content();
}

static int ad_client_create(struct request *req, struct response *resp)
{
	struct err e = { 0 };
	const char *id = fh_in("client_id");
	if (fh_client_put(id, fh_in("client_secret"), fh_in("kind"), fh_in("callback_url"), fh_in("name"), &e))
		return admin_err(&e);
	struct json_object *o = json_object_new_object();
	js(o, "client_id", id);
	js(o, "kind", fh_in("kind") ? fh_in("kind") : "oauth");
	js(o, "callback_url", fh_in("callback_url"));
	return fh_json(201, o);
}

static int user_id(long long *id, const char *login)
{
	PGresult *u;
	if (fh_account_by_login(&u, login))
		return fh_not_found(), -1;
	*id = fh_vall(u, 0, "id");
	PQclear(u);
	return 0;
}

/* PATCH /_fakehub/users/{login} {"login": new}: a user renames their account (GitHub docs "Changing your
 * GitHub username": the id stays, the old name is free for anyone to take at once). 200 the user | 404 | 422 a
 * login taken or not a login. */
static int ad_user_rename(struct request *req, struct response *resp)
{
	long long uid;
	const char *to = fh_in("login");
	if (user_id(&uid, req_param(req, "login")))
		return 0;
	if (!to || !*to || strlen(to) > 39 || strspn(to, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(to))
		return fh_error(422, "login is 1 to 39 letters, digits or hyphens");
	FH_STMT(st, "UPDATE accounts SET login = $2 WHERE id = $1 AND type = 'User' AND NOT EXISTS"
		    " (SELECT 1 FROM accounts WHERE lower(login) = lower($2) AND id <> $1) RETURNING id");
	PGresult *x = Q(st, fh_ll(uid), to);
	if (!x)
		return -1;
	int n = PQntuples(x);
	PQclear(x);
	if (n != 1)
		return fh_error(422, "that login is taken (or the account is an organisation)");
	return fh_json(200, fh_user_json(uid, to, "User"));
}

static int ad_tokens_list(struct request *req, struct response *resp)
{
	long long uid;
	if (user_id(&uid, req_param(req, "login")))
		return 0;
	FH_STMT(st, "SELECT * FROM tokens WHERE user_id = $1 ORDER BY id");
	PGresult *x = Q(st, fh_ll(uid));
	if (!x)
		return -1;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(x); i++) {
		struct json_object *o = json_object_new_object();
		ji(o, "id", fh_vall(x, i, "id"));
		js(o, "kind", fh_val(x, i, "kind"));
		js(o, "token", fh_val(x, i, "token_plain"));
		js(o, "token_sha256", fh_val(x, i, "token_hash"));
		js(o, "client_id", fh_val(x, i, "client_id"));
		js(o, "scope", fh_val(x, i, "scope"));
		jt(o, "created_at", fh_vall(x, i, "created_at"));
		jt(o, "expires_at", fh_vall(x, i, "expires_at"));
		jt(o, "revoked_at", fh_vall(x, i, "revoked_at"));
		long long exp = fh_vall(x, i, "expires_at");
		jb(o, "active", !fh_val(x, i, "revoked_at") && (!exp || exp > C->now));
		json_object_array_add(arr, o);
	}
	PQclear(x);
	return fh_json(200, arr);
}

static int ad_token_create(struct request *req, struct response *resp)
{
	long long uid;
	if (user_id(&uid, req_param(req, "login")))
		return 0;
	const char *app = fh_in("client_id"), *scope = fh_in("scope");
	long long expires = fh_atoll(fh_in("expires_in"));
	char tok[64];
	struct err e = { 0 };
	int is_app = app && fh_in("kind") && strcmp(fh_in("kind"), "app") == 0;
	if (fh_token_issue(tok, sizeof tok, uid, app, "access", is_app ? "ghu" : "gho",
			   scope ? scope : (is_app ? "" : "repo,read:org,user:email"),
			   expires > 0 ? C->now + expires : (is_app ? C->now + 28800 : 0), NULL, &e))
		return admin_err(&e);
	struct json_object *o = json_object_new_object();
	js(o, "token", tok);
	return fh_json(201, o);
}

static int clock_answer(void)
{
	struct json_object *o = json_object_new_object();
	C->now = fh_clock_now();
	ji(o, "now", C->now);
	ji(o, "offset_seconds", C->now - (long long)time(NULL));
	return fh_json(200, o);
}

static int ad_clock_get(struct request *req, struct response *resp) { return clock_answer(); }

static int ad_clock_set(struct request *req, struct response *resp)
{
	FH_STMT(set, "UPDATE clock SET offset_seconds = $1 WHERE id = 1");
	FH_STMT(add, "UPDATE clock SET offset_seconds = offset_seconds + $1 WHERE id = 1");
	const char *off = fh_in("offset_seconds"), *adv = fh_in("advance_seconds");
	if (!off && !adv)
		return fh_validation(NULL, "Clock", "offset_seconds", "missing_field", "give offset_seconds or advance_seconds");
	PGresult *x = off ? Q(set, fh_ll(fh_atoll(off))) : Q(add, fh_ll(fh_atoll(adv)));
	if (!x)
		return -1;
	PQclear(x);
	return clock_answer();
}

/* Loads the repository whatever the acting user may see; C->v becomes that user ("as"). */
static int admin_repo(struct fh_repo *r)
{
	const char *as = fh_in("as");
	if (as) {
		PGresult *u;
		if (fh_account_by_login(&u, as))
			return fh_error(404, "no such user for \"as\""), -1;
		C->v.id = fh_vall(u, 0, "id");
		C->v.login = arena_strdup(C->req->arena, fh_val(u, 0, "login"));
		PQclear(u);
	}
	fh_repo_load(r, req_param(C->req, "owner"), req_param(C->req, "repo"));
	if (!r->id)
		return fh_not_found(), -1;
	if (!as) {
		C->v.id = r->owner_id;
		C->v.login = r->owner;
	}
	return 0;
}

static int ad_status(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (admin_repo(&r))
		return 0;
	return fh_status_create(&r, req_param(req, "sha"), C->v.id);
}

static int ad_check_run(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (admin_repo(&r))
		return 0;
	git_repository *g;
	char sha[41];
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	int bad = fh_git_resolve(sha, g, fh_in("head_sha") ? fh_in("head_sha") : "");
	git_repository_free(g);
	if (bad)
		return fh_validation(NULL, "CheckRun", "head_sha", "invalid", NULL);
	const char *status = fh_in("status") ? fh_in("status") : "completed";
	const char *concl = fh_in("conclusion");
	if (strcmp(status, "completed") == 0 && !concl)
		concl = "success";
	FH_STMT(st, "INSERT INTO check_runs (repo_id, head_sha, name, status, conclusion, details_url, started_at, completed_at) "
		    "VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $4 = 'completed' THEN $7::bigint END) RETURNING id");
	PGresult *x = Q(st, fh_ll(r.id), sha, fh_in("name") ? fh_in("name") : "ci", status, concl, fh_in("details_url"),
			fh_ll(C->now));
	if (!x)
		return fh_validation(NULL, "CheckRun", "status", "invalid", NULL);
	struct json_object *o = json_object_new_object();
	ji(o, "id", fh_vall(x, 0, "id"));
	js(o, "head_sha", sha);
	js(o, "status", status);
	js(o, "conclusion", concl);
	PQclear(x);
	return fh_json(201, o);
}

static int ad_pull_merge(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (admin_repo(&r))
		return 0;
	struct json_object *answer = NULL;
	int st = fh_pull_do_merge(&answer, &r, fh_atoll(req_param(req, "number")), fh_in("merge_method"), fh_in("sha"),
				  fh_in("commit_title"), fh_in("commit_message"), C->v.id, C->v.login);
	if (!answer)
		return fh_error(st, st == 404 ? "Not Found" : "Validation Failed");
	return fh_json(st, answer);
}

static int ad_pull_close(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (admin_repo(&r))
		return 0;
	if (fh_pull_set_state(&r, fh_atoll(req_param(req, "number")), "closed", C->v.id))
		return -1;
	return fh_no_content();
}

/* A commit "from GitHub's web editor": one file written on a branch. */
static int ad_commit(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (admin_repo(&r) || fh_repo_writable(&r))
		return 0;
	const char *branch = fh_in("branch") ? fh_in("branch") : r.default_branch, *path = fh_in("path"),
		   *content = fh_in("content");
	if (!path || !content)
		return fh_validation(NULL, "Commit", !path ? "path" : "content", "missing_field", NULL);
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	char before[41] = "0000000000000000000000000000000000000000", sha[41];
	fh_git_branch_sha(before, g, branch);
	struct err e = { 0 };
	const char *msg = fh_in("message") ? fh_in("message") : arena_printf(req->arena, "Update %s", path);
	int rc = fh_git_commit_file(sha, g, branch, path, content, msg, C->v.login, &e);
	git_repository_free(g);
	if (rc)
		return admin_err(&e);
	fh_after_push(&r, arena_printf(req->arena, "refs/heads/%s", branch), before, sha, C->v.id, C->v.login);
	struct json_object *o = json_object_new_object();
	js(o, "sha", sha);
	js(o, "branch", branch);
	return fh_json(201, o);
}

/* ---- faults */

static int ad_fault_create(struct request *req, struct response *resp)
{
	const char *kind = fh_in("kind"), *path = fh_in("path");
	if (!kind || !path)
		return fh_validation(NULL, "Fault", !kind ? "kind" : "path", "missing_field",
				     "kind: status|hang|rate_limit|secondary_rate_limit|drop; path: a glob like /api/v3/user*");
	const char *count = fh_in("count");
	FH_STMT(st, "INSERT INTO faults (method, path_pattern, kind, status, seconds, remaining, created_at) "
		    "VALUES (upper(COALESCE($1, '*')), $2, $3, $4, $5, COALESCE($6::int, 1), $7) RETURNING id");
	PGresult *x = Q(st, fh_in("method"), path, kind, fh_in("status"), fh_in("seconds"), count, fh_ll(C->now));
	if (!x)
		return fh_validation(NULL, "Fault", "kind", "invalid", "kind: status|hang|rate_limit|secondary_rate_limit|drop");
	struct json_object *o = json_object_new_object();
	ji(o, "id", fh_vall(x, 0, "id"));
	PQclear(x);
	return fh_json(201, o);
}

static int ad_faults_list(struct request *req, struct response *resp)
{
	FH_STMT(st, "SELECT * FROM faults WHERE remaining > 0 ORDER BY id");
	PGresult *x = Q0(st);
	if (!x)
		return -1;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(x); i++) {
		struct json_object *o = json_object_new_object();
		ji(o, "id", fh_vall(x, i, "id"));
		js(o, "method", fh_val(x, i, "method"));
		js(o, "path", fh_val(x, i, "path_pattern"));
		js(o, "kind", fh_val(x, i, "kind"));
		ji(o, "remaining", fh_vall(x, i, "remaining"));
		json_object_array_add(arr, o);
	}
	PQclear(x);
	return fh_json(200, arr);
}

static int ad_faults_clear(struct request *req, struct response *resp)
{
	FH_STMT(st, "DELETE FROM faults");
	PGresult *x = Q0(st);
	if (x)
		PQclear(x);
	return fh_no_content();
}

/* ---- request log */

FH_STMT(req_sel, "SELECT * FROM requests WHERE id > COALESCE($1::bigint, 0) AND ($2::text IS NULL OR method = upper($2)) "
		 "AND ($3::text IS NULL OR path LIKE $3 || '%') AND ($4::text IS NULL OR login = $4) ORDER BY id");

static int ad_requests(struct request *req, struct response *resp)
{
	PGresult *x = Q(req_sel, req_query(req, "since_id"), req_query(req, "method"), req_query(req, "path"),
			req_query(req, "login"));
	if (!x)
		return -1;
	int bodies = req_query(req, "bodies") && strcmp(req_query(req, "bodies"), "1") == 0;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(x); i++) {
		struct json_object *o = json_object_new_object();
		ji(o, "id", fh_vall(x, i, "id"));
		double at = atof(fh_val(x, i, "at"));
		jt(o, "time", (long long)at);
		json_object_object_add(o, "at", json_object_new_double(at));
		js(o, "method", fh_val(x, i, "method"));
		js(o, "path", fh_val(x, i, "path"));
		js(o, "query", fh_val(x, i, "query"));
		ji(o, "status", fh_vall(x, i, "status"));
		js(o, "login", fh_val(x, i, "login"));
		js(o, "client_id", fh_val(x, i, "client_id"));
		js(o, "fault", fh_val(x, i, "fault"));
		js(o, "request_id", fh_val(x, i, "request_id"));
		if (bodies) {
			/* As sent and answered (JSON text): tests/contract checks them against GitHub's description. */
			js(o, "request_body", fh_val(x, i, "request_body"));
			js(o, "response_body", fh_val(x, i, "response_body"));
		}
		json_object_array_add(arr, o);
	}
	PQclear(x);
	return fh_json(200, arr);
}

static int ad_requests_count(struct request *req, struct response *resp)
{
	PGresult *x = Q(req_sel, req_query(req, "since_id"), req_query(req, "method"), req_query(req, "path"),
			req_query(req, "login"));
	if (!x)
		return -1;
	struct json_object *o = json_object_new_object();
	ji(o, "count", PQntuples(x));
	ji(o, "last_id", PQntuples(x) ? fh_vall(x, PQntuples(x) - 1, "id") : fh_atoll(req_query(req, "since_id")));
	PQclear(x);
	return fh_json(200, o);
}

static int ad_requests_clear(struct request *req, struct response *resp)
{
	FH_STMT(st, "DELETE FROM requests");
	PGresult *x = Q0(st);
	if (x)
		PQclear(x);
	return fh_no_content();
}

/* ---- sink: a webhook receiver that keeps exactly what arrived */

static int ad_sink_post(struct request *req, struct response *resp)
{
	struct buf h = BUF_INIT;
	for (char **p = req->env; p && *p; p++) {
		const char *kv = *p;
		int ct = strncmp(kv, "CONTENT_TYPE=", 13) == 0;
		if (strncmp(kv, "HTTP_", 5) != 0 && !ct)
			continue;
		const char *name = ct ? kv : kv + 5, *eq = strchr(name, '=');
		int up = 1;
		for (const char *c = name; c < eq; c++) {
			buf_putc(&h, *c == '_' ? '-' : up ? *c : (char)tolower((unsigned char)*c));
			up = *c == '_';
		}
		buf_printf(&h, ": %s\n", eq + 1);
	}
	FH_STMT(st, "INSERT INTO sink (name, headers, body, at) VALUES ($1, $2, $3, $4)");
	PGresult *x = Q(st, req_param(req, "name"), buf_cstr(&h), req->body ? req->body : "", fh_ll(C->now));
	buf_free(&h);
	if (!x)
		return -1;
	PQclear(x);
	resp_text(resp, 200, "text/plain", "ok\n");
	return 0;
}

FH_STMT(sink_sel, "SELECT * FROM sink WHERE name = $1 ORDER BY id");

static int ad_sink_get(struct request *req, struct response *resp)
{
	PGresult *x = Q(sink_sel, req_param(req, "name"));
	if (!x)
		return -1;
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(x); i++) {
		struct json_object *o = json_object_new_object();
		ji(o, "id", fh_vall(x, i, "id"));
		js(o, "headers", fh_val(x, i, "headers"));
		js(o, "body", fh_val(x, i, "body"));
		json_object_array_add(arr, o);
	}
	PQclear(x);
	return fh_json(200, arr);
}

/* /_fakehub/sink/{name}/{n}/{part}: n is 1-based, or "last"; part is body or headers; raw text for shell tests. */
static int ad_sink_part(struct request *req, struct response *resp)
{
	PGresult *x = Q(sink_sel, req_param(req, "name"));
	if (!x)
		return -1;
	int n = PQntuples(x), k = strcmp(req_param(req, "n"), "last") == 0 ? n - 1 : atoi(req_param(req, "n")) - 1;
	const char *part = req_param(req, "part");
	if (k < 0 || k >= n || (strcmp(part, "body") && strcmp(part, "headers"))) {
		PQclear(x);
		return fh_not_found();
	}
	resp->status = 200;
	resp->content_type = "text/plain; charset=utf-8";
	buf_reset(&resp->body);
	buf_puts(&resp->body, fh_val(x, k, part));
	PQclear(x);
	return 0;
}

static int ad_sink_clear(struct request *req, struct response *resp)
{
	FH_STMT(st, "DELETE FROM sink WHERE name = $1");
	PGresult *x = Q(st, req_param(req, "name"));
	if (x)
		PQclear(x);
	return fh_no_content();
}

#define AR "/_fakehub/repos/{owner}/{repo}"

const struct route fh_admin_routes[] = {
	ROUTE("GET", "/_fakehub/health", ad_health, 0),
	ROUTE("POST", "/_fakehub/users", ad_user_create, 0),
	ROUTE("PATCH", "/_fakehub/users/{login}", ad_user_rename, 0),
	ROUTE("GET", "/_fakehub/users/{login}/tokens", ad_tokens_list, 0),
	ROUTE("POST", "/_fakehub/users/{login}/tokens", ad_token_create, 0),
	ROUTE("POST", "/_fakehub/orgs", ad_org_create, 0),
	ROUTE("PUT", "/_fakehub/orgs/{org}/members/{user}", ad_member_put, 0),
	ROUTE("POST", "/_fakehub/orgs/{org}/teams", ad_team_create, 0),
	ROUTE("PUT", "/_fakehub/orgs/{org}/teams/{slug}/members/{user}", ad_team_member_put, 0),
	ROUTE("DELETE", "/_fakehub/orgs/{org}/teams/{slug}/members/{user}", ad_team_member_put, 0),
	ROUTE("PUT", "/_fakehub/orgs/{org}/teams/{slug}/repos/{repo}", ad_team_repo_put, 0),
	ROUTE("DELETE", "/_fakehub/orgs/{org}/teams/{slug}/repos/{repo}", ad_team_repo_put, 0),
	ROUTE("POST", "/_fakehub/clients", ad_client_create, 0),
	ROUTE("GET", "/_fakehub/clock", ad_clock_get, 0),
	ROUTE("POST", "/_fakehub/clock", ad_clock_set, 0),
	ROUTE("POST", AR "/statuses/{sha}", ad_status, 0),
	ROUTE("POST", AR "/check-runs", ad_check_run, 0),
	ROUTE("POST", AR "/pulls/{number}/merge", ad_pull_merge, 0),
	ROUTE("POST", AR "/pulls/{number}/close", ad_pull_close, 0),
	ROUTE("POST", AR "/commits", ad_commit, 0),
	ROUTE("GET", AR "/pushes", ad_pushes, 0),
	ROUTE("POST", AR "/lfs", admin_lfs_repo, 0),
	ROUTE("GET", AR "/lfs", admin_lfs_objects, 0),
	ROUTE("POST", "/_fakehub/lfs/quotas/{login}", admin_lfs_quota, 0),
	ROUTE("GET", "/_fakehub/faults", ad_faults_list, 0),
	ROUTE("POST", "/_fakehub/faults", ad_fault_create, 0),
	ROUTE("DELETE", "/_fakehub/faults", ad_faults_clear, 0),
	ROUTE("GET", "/_fakehub/requests", ad_requests, 0),
	ROUTE("GET", "/_fakehub/requests/count", ad_requests_count, 0),
	ROUTE("DELETE", "/_fakehub/requests", ad_requests_clear, 0),
	ROUTE("GET", "/_fakehub/deliveries", admin_deliveries, 0),
	ROUTE("POST", "/_fakehub/deliveries/{id}/redeliver", admin_redeliver, 0),
	ROUTE("POST", "/_fakehub/sink/{name}", ad_sink_post, 0),
	ROUTE("GET", "/_fakehub/sink/{name}", ad_sink_get, 0),
	ROUTE("DELETE", "/_fakehub/sink/{name}", ad_sink_clear, 0),
	ROUTE("GET", "/_fakehub/sink/{name}/{n}/{part}", ad_sink_part, 0),
};
const size_t fh_admin_nroutes = sizeof fh_admin_routes / sizeof fh_admin_routes[0];
