/* pulls.c: pull requests: create, list, get (mergeable), edit/close/reopen, files, commits, merge (merge/squash/rebase). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <git2.h>
#include <sodium.h>
#include "tests/fakehub/fakehub.h"

FH_STMT(pull_one, "SELECT p.*, u.login AS user_login, m.login AS merged_by_login FROM pulls p "
		  "JOIN accounts u ON u.id = p.user_id LEFT JOIN accounts m ON m.id = p.merged_by "
		  "WHERE p.repo_id = $1 AND p.number = $2");

static struct json_object *side(const struct fh_repo *r, const char *ref, const char *sha)
{
	struct json_object *o = json_object_new_object();
	js(o, "label", arena_printf(fh_arena(), "%s:%s", r->owner, ref));
	js(o, "ref", ref);
	js(o, "sha", sha);
	jo(o, "user", fh_user_json(r->owner_id, r->owner, r->owner_type));
	jo(o, "repo", fh_repo_json(r));
	return o;
}

struct json_object *fh_pull_json(git_repository *g, const struct fh_repo *r, PGresult *x, int i, int full)
{
	struct json_object *o = json_object_new_object();
	struct arena *a = fh_arena();
	long long id = fh_vall(x, i, "id"), num = fh_vall(x, i, "number");
	const char *api = arena_printf(a, "%s/repos/%s/%s", g_fh.api_url, r->owner, r->name);
	const char *html = arena_printf(a, "%s/%s/%s/pull/%lld", g_fh.web_url, r->owner, r->name, num);
	const char *state = fh_val(x, i, "state"), *head_ref = fh_val(x, i, "head_ref"), *base_ref = fh_val(x, i, "base_ref");
	const char *head_sha = fh_val(x, i, "head_sha");
	char base_sha[41];
	if (!g || fh_git_branch_sha(base_sha, g, base_ref))
		snprintf(base_sha, sizeof base_sha, "%s", fh_val(x, i, "base_sha"));
	int open = strcmp(state, "open") == 0, merged = fh_vbool(x, i, "merged");
	js(o, "url", arena_printf(a, "%s/pulls/%lld", api, num));
	ji(o, "id", id);
	js(o, "node_id", fh_node_id("PullRequest", id));
	js(o, "html_url", html);
	js(o, "diff_url", arena_printf(a, "%s.diff", html));
	js(o, "patch_url", arena_printf(a, "%s.patch", html));
	js(o, "issue_url", arena_printf(a, "%s/issues/%lld", api, num));
	js(o, "commits_url", arena_printf(a, "%s/pulls/%lld/commits", api, num));
	js(o, "review_comments_url", arena_printf(a, "%s/pulls/%lld/comments", api, num));
	js(o, "review_comment_url", arena_printf(a, "%s/pulls/comments{/number}", api));
	js(o, "comments_url", arena_printf(a, "%s/issues/%lld/comments", api, num));
	js(o, "statuses_url", arena_printf(a, "%s/statuses/%s", api, head_sha));
	ji(o, "number", num);
	js(o, "state", state);
	jb(o, "locked", 0);
	js(o, "title", fh_val(x, i, "title"));
	jo(o, "user", fh_user_json_row(x, i, "user_id", "user_login", NULL));
	js(o, "body", fh_val(x, i, "body"));
	jo(o, "labels", json_object_new_array());
	js(o, "milestone", NULL);
	js(o, "active_lock_reason", NULL);
	jt(o, "created_at", fh_vall(x, i, "created_at"));
	jt(o, "updated_at", fh_vall(x, i, "updated_at"));
	jt(o, "closed_at", fh_vall(x, i, "closed_at"));
	jt(o, "merged_at", fh_vall(x, i, "merged_at"));
	js(o, "merge_commit_sha", fh_val(x, i, "merge_commit_sha"));
	js(o, "assignee", NULL);
	jo(o, "assignees", json_object_new_array());
	jo(o, "requested_reviewers", json_object_new_array());
	jo(o, "requested_teams", json_object_new_array());
	jo(o, "head", side(r, head_ref, head_sha));
	jo(o, "base", side(r, base_ref, open ? base_sha : fh_val(x, i, "base_sha")));
	struct json_object *links = json_object_new_object();
	const char *const link[][2] = {
		{ "self", arena_printf(a, "%s/pulls/%lld", api, num) },
		{ "html", html },
		{ "issue", arena_printf(a, "%s/issues/%lld", api, num) },
		{ "comments", arena_printf(a, "%s/issues/%lld/comments", api, num) },
		{ "review_comments", arena_printf(a, "%s/pulls/%lld/comments", api, num) },
		{ "review_comment", arena_printf(a, "%s/pulls/comments{/number}", api) },
		{ "commits", arena_printf(a, "%s/pulls/%lld/commits", api, num) },
		{ "statuses", arena_printf(a, "%s/statuses/%s", api, head_sha) },
	};
	for (size_t k = 0; k < sizeof link / sizeof link[0]; k++) {
		struct json_object *h = json_object_new_object();
		js(h, "href", link[k][1]);
		jo(links, link[k][0], h);
	}
	jo(o, "_links", links);
	js(o, "author_association", "OWNER");
	js(o, "auto_merge", NULL);
	int draft = fh_vbool(x, i, "draft");
	jb(o, "draft", draft);
	if (!full)
		return o;
	jb(o, "merged", merged);
	/* docs pulls/get: "The value of the mergeable attribute can be true, false, or null. If the value is
	 * null, then GitHub has started a background job to compute the mergeability." Here the job is the
	 * first full GET that sees a (head, base) pair: it answers null and records the pair; later answers
	 * (GETs, webhooks) carry the value. A pushed head or a moved base starts over. */
	const char *key = open ? arena_printf(a, "%s %s", head_sha, base_sha) : NULL;
	const char *known = fh_val(x, i, "mergeable_key");
	if (open && g && known && strcmp(known, key) == 0) {
		int m = fh_git_can_merge(g, base_sha, head_sha);
		if (m < 0) {
			js(o, "mergeable", NULL);
			js(o, "rebaseable", NULL);
			js(o, "mergeable_state", "unknown");
		} else {
			jb(o, "mergeable", m);
			jb(o, "rebaseable", m);
			js(o, "mergeable_state", !m ? "dirty" : draft ? "draft" : "clean");
		}
	} else if (open && g && full == 2) {
		FH_STMT(start, "UPDATE pulls SET mergeable_key = $2 WHERE id = $1");
		PGresult *u = Q(start, fh_ll(id), key);
		if (u)
			PQclear(u);
		js(o, "mergeable", NULL);
		js(o, "rebaseable", NULL);
		js(o, "mergeable_state", "unknown");
	} else {
		js(o, "mergeable", NULL);
		js(o, "rebaseable", NULL);
		js(o, "mergeable_state", "unknown");
	}
	if (fh_val(x, i, "merged_by"))
		jo(o, "merged_by", fh_user_json_row(x, i, "merged_by", "merged_by_login", NULL));
	else
		js(o, "merged_by", NULL);
	ji(o, "comments", 0);
	ji(o, "review_comments", 0);
	jb(o, "maintainer_can_modify", 0);
	long long adds = 0, dels = 0, changed = 0, commits = 0;
	char mb[41];
	if (g && fh_git_merge_base(mb, g, open ? base_sha : fh_val(x, i, "base_sha"), head_sha) == 0) {
		struct json_object *files = fh_diff_files(g, r, mb, head_sha, &adds, &dels);
		changed = (long long)json_object_array_length(files);
		json_object_put(files);
		commits = fh_git_count(g, mb, head_sha);
	}
	ji(o, "commits", commits);
	ji(o, "additions", adds);
	ji(o, "deletions", dels);
	ji(o, "changed_files", changed);
	return o;
}

/* Loads PR number from params; answers 404 itself. */
static int load_pull(PGresult **out, const struct fh_repo *r, const char *number)
{
	long long n = fh_atoll(number);
	if (n <= 0)
		return fh_not_found(), -1;
	PGresult *x = Q(pull_one, fh_ll(r->id), fh_ll(n));
	if (!x)
		return fh_error(500, "Server Error"), -1;
	if (!PQntuples(x)) {
		PQclear(x);
		return fh_not_found(), -1;
	}
	*out = x;
	return 0;
}

/* status 200 from GET /pulls/{n} starts the mergeability computation (see fh_pull_json). */
static int answer_pull(const struct fh_repo *r, long long number, int status)
{
	PGresult *x = Q(pull_one, fh_ll(r->id), fh_ll(number));
	if (!x || !PQntuples(x)) {
		if (x)
			PQclear(x);
		return fh_not_found();
	}
	git_repository *g = NULL;
	fh_git_open(&g, r->path);
	struct json_object *o = fh_pull_json(g, r, x, 0, strcmp(C->req->method, "GET") == 0 ? 2 : 1);
	git_repository_free(g);
	PQclear(x);
	return fh_json(status, o);
}

static void pull_event(const struct fh_repo *r, long long number, const char *action, struct json_object *extra)
{
	PGresult *x = Q(pull_one, fh_ll(r->id), fh_ll(number));
	if (!x)
		return;
	if (PQntuples(x)) {
		git_repository *g = NULL;
		fh_git_open(&g, r->path);
		struct json_object *p = json_object_new_object();
		js(p, "action", action);
		ji(p, "number", number);
		jo(p, "pull_request", fh_pull_json(g, r, x, 0, 1));
		if (extra) {
			json_object_object_foreach(extra, k, v) jo(p, k, json_object_get(v));
		}
		git_repository_free(g);
		fh_event(r, "pull_request", action, p);
	}
	PQclear(x);
	if (extra)
		json_object_put(extra);
}

int api_pulls_list(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	FH_STMT(st, "SELECT p.*, u.login AS user_login, m.login AS merged_by_login FROM pulls p "
		    "JOIN accounts u ON u.id = p.user_id LEFT JOIN accounts m ON m.id = p.merged_by "
		    "WHERE p.repo_id = $1 AND ($2 = 'all' OR p.state = $2) AND ($3::text IS NULL OR p.head_ref = $3) "
		    "AND ($4::text IS NULL OR p.base_ref = $4) "
		    "ORDER BY CASE WHEN $5 = 'updated' THEN p.updated_at ELSE p.created_at END, p.number");
	const char *state = req_query(req, "state"), *head = req_query(req, "head"), *base = req_query(req, "base");
	const char *headref = NULL;
	if (head) {
		/* GitHub filters by "user:ref-name"; another owner means nothing matches (no forks here). */
		const char *colon = strchr(head, ':');
		if (colon && (size_t)(colon - head) == strlen(r.owner) && strncasecmp(head, r.owner, strlen(r.owner)) == 0)
			headref = colon + 1;
		else if (!colon)
			headref = NULL; /* GitHub ignores a head filter without the user prefix */
		else
			headref = "\x01";
	}
	const char *sort = req_query(req, "sort"), *dir = req_query(req, "direction");
	PGresult *x = Q(st, fh_ll(r.id), state ? state : "open", headref, base, sort ? sort : "created");
	if (!x)
		return -1;
	/* docs pulls/list: direction defaults to desc when sort is created (or not given), otherwise asc. */
	int asc = dir ? strcmp(dir, "asc") == 0 : (sort && strcmp(sort, "created") != 0);
	long long off, lim, n = PQntuples(x);
	fh_paginate(n, &off, &lim);
	git_repository *g = NULL;
	fh_git_open(&g, r.path);
	struct json_object *arr = json_object_new_array();
	for (long long k = off; k < n && k < off + lim; k++)
		json_object_array_add(arr, fh_pull_json(g, &r, x, (int)(asc ? k : n - 1 - k), 0));
	git_repository_free(g);
	PQclear(x);
	return fh_json(200, arr);
}

int api_pulls_create(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	if (!C->v.id)
		return fh_error(401, "Requires authentication");
	if (!r.can_push)
		return fh_error(403, "Must have push access to repository.");
	if (fh_repo_writable(&r))
		return 0;
	const char *title = fh_in("title"), *head = fh_in("head"), *base = fh_in("base");
	if (!head)
		return fh_validation(NULL, "PullRequest", "head", "missing_field", NULL);
	if (!base)
		return fh_validation(NULL, "PullRequest", "base", "missing_field", NULL);
	if (!title || !*title)
		return fh_validation(NULL, "PullRequest", "title", "missing_field", NULL);
	const char *colon = strchr(head, ':'), *head_ref = head;
	if (colon) {
		if ((size_t)(colon - head) != strlen(r.owner) || strncasecmp(head, r.owner, strlen(r.owner)) != 0)
			return fh_validation(NULL, "PullRequest", "head", "invalid", NULL);
		head_ref = colon + 1;
	}
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	char hsha[41], bsha[41], mb[41];
	int rc = 0;
	if (fh_git_branch_sha(hsha, g, head_ref))
		rc = fh_validation(NULL, "PullRequest", "head", "invalid", NULL) - 1;
	else if (fh_git_branch_sha(bsha, g, base))
		rc = fh_validation(NULL, "PullRequest", "base", "invalid", NULL) - 1;
	else if (fh_git_merge_base(mb, g, bsha, hsha) || fh_git_count(g, bsha, hsha) == 0)
		rc = fh_validation(NULL, "PullRequest", NULL, "custom",
				   arena_printf(req->arena, "No commits between %s and %s", base, head_ref)) - 1;
	git_repository_free(g);
	if (rc)
		return 0;
	FH_STMT(dup, "SELECT number FROM pulls WHERE repo_id = $1 AND head_ref = $2 AND base_ref = $3 AND state = 'open'");
	PGresult *x = Q(dup, fh_ll(r.id), head_ref, base);
	if (!x)
		return -1;
	int exists = PQntuples(x) > 0;
	PQclear(x);
	if (exists)
		return fh_validation(NULL, "PullRequest", NULL, "custom",
				     arena_printf(req->arena, "A pull request already exists for %s:%s.", r.owner, head_ref));
	FH_STMT(ins, "WITH n AS (UPDATE repos SET next_number = next_number + 1 WHERE id = $1 RETURNING next_number - 1 AS num) "
		     "INSERT INTO pulls (repo_id, number, user_id, title, body, draft, head_ref, head_sha, base_ref, base_sha, "
		     "created_at, updated_at) SELECT $1, n.num, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10 FROM n RETURNING number");
	x = Q(ins, fh_ll(r.id), fh_ll(C->v.id), title, fh_in("body"), jget_bool(C->json, "draft", 0) ? "t" : "f", head_ref,
	      hsha, base, bsha, fh_ll(C->now));
	if (!x)
		return -1;
	long long num = fh_vall(x, 0, "number");
	PQclear(x);
	resp_header(resp, "Location", arena_printf(req->arena, "%s/repos/%s/%s/pulls/%lld", g_fh.api_url, r.owner, r.name, num));
	pull_event(&r, num, "opened", NULL);
	return answer_pull(&r, num, 201);
}

int api_pull_get(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (fh_repo_from_params(&r) || load_pull(&x, &r, req_param(req, "number")))
		return 0;
	long long num = fh_vall(x, 0, "number");
	PQclear(x);
	return answer_pull(&r, num, 200);
}

int fh_pull_set_state(const struct fh_repo *r, long long number, const char *state, long long actor)
{
	FH_STMT(st, "UPDATE pulls SET state = $3, closed_at = CASE WHEN $3 = 'closed' THEN $4::bigint ELSE NULL END, "
		    "updated_at = $4 WHERE repo_id = $1 AND number = $2 AND state <> $3 AND NOT merged RETURNING id");
	PGresult *x = Q(st, fh_ll(r->id), fh_ll(number), state, fh_ll(C->now));
	if (!x)
		return ERR_DB;
	int n = PQntuples(x);
	PQclear(x);
	if (n)
		pull_event(r, number, strcmp(state, "closed") == 0 ? "closed" : "reopened", NULL);
	return 0;
}

int api_pull_patch(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (fh_repo_from_params(&r) || load_pull(&x, &r, req_param(req, "number")))
		return 0;
	long long num = fh_vall(x, 0, "number");
	if (!C->v.id) {
		PQclear(x);
		return fh_error(401, "Requires authentication");
	}
	if (!r.can_push && C->v.id != fh_vall(x, 0, "user_id")) {
		PQclear(x);
		return fh_error(403, "Must have push access to repository.");
	}
	if (r.archived) {
		PQclear(x);
		return fh_repo_writable(&r), 0;
	}
	const char *old_title = arena_strdup(req->arena, fh_val(x, 0, "title"));
	const char *old_body = fh_val(x, 0, "body") ? arena_strdup(req->arena, fh_val(x, 0, "body")) : NULL;
	const char *old_base = arena_strdup(req->arena, fh_val(x, 0, "base_ref"));
	const char *cur_state = arena_strdup(req->arena, fh_val(x, 0, "state"));
	const char *head_ref = arena_strdup(req->arena, fh_val(x, 0, "head_ref"));
	int merged = fh_vbool(x, 0, "merged");
	PQclear(x);
	const char *title = fh_in("title"), *body = fh_in("body"), *state = fh_in("state"), *base = fh_in("base");
	if (state && strcmp(state, "open") && strcmp(state, "closed"))
		return fh_validation(NULL, "PullRequest", "state", "invalid", NULL);
	if (state && strcmp(state, "open") == 0 && strcmp(cur_state, "closed") == 0) {
		git_repository *g;
		char sha[41];
		int gone = 1;
		if (fh_git_open(&g, r.path) == 0) {
			gone = fh_git_branch_sha(sha, g, head_ref) != 0;
			git_repository_free(g);
		}
		if (merged || gone)
			return fh_validation(NULL, "PullRequest", "state", "custom",
					     "state cannot be changed. The pull request cannot be reopened.");
	}
	if (base) {
		git_repository *g;
		char sha[41];
		int bad = 1;
		if (fh_git_open(&g, r.path) == 0) {
			bad = fh_git_branch_sha(sha, g, base) != 0;
			git_repository_free(g);
		}
		if (bad)
			return fh_validation(NULL, "PullRequest", "base", "invalid", NULL);
	}
	FH_STMT(st, "UPDATE pulls SET title = COALESCE($3, title), body = COALESCE($4, body), base_ref = COALESCE($5, base_ref), "
		    "updated_at = $6 WHERE repo_id = $1 AND number = $2");
	x = Q(st, fh_ll(r.id), fh_ll(num), title, body, base, fh_ll(C->now));
	if (!x)
		return -1;
	PQclear(x);
	struct json_object *changes = json_object_new_object();
	int changed = 0;
	if (title && strcmp(title, old_title) != 0) {
		struct json_object *c = json_object_new_object();
		js(c, "from", old_title);
		jo(changes, "title", c);
		changed = 1;
	}
	if (body && (!old_body || strcmp(body, old_body) != 0)) {
		struct json_object *c = json_object_new_object();
		js(c, "from", old_body ? old_body : "");
		jo(changes, "body", c);
		changed = 1;
	}
	if (base && strcmp(base, old_base) != 0) {
		struct json_object *c = json_object_new_object(), *ref = json_object_new_object();
		js(ref, "from", old_base);
		jo(c, "ref", ref);
		jo(changes, "base", c);
		changed = 1;
	}
	if (changed) {
		struct json_object *extra = json_object_new_object();
		jo(extra, "changes", changes);
		pull_event(&r, num, "edited", extra);
	} else {
		json_object_put(changes);
	}
	if (state && strcmp(state, cur_state) != 0)
		fh_pull_set_state(&r, num, state, C->v.id);
	return answer_pull(&r, num, 200);
}

int api_pull_files(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (fh_repo_from_params(&r) || load_pull(&x, &r, req_param(req, "number")))
		return 0;
	git_repository *g;
	if (fh_git_open(&g, r.path)) {
		PQclear(x);
		return fh_error(500, "repository storage missing");
	}
	char base[41], mb[41];
	const char *head = fh_val(x, 0, "head_sha");
	if (strcmp(fh_val(x, 0, "state"), "open") != 0 || fh_git_branch_sha(base, g, fh_val(x, 0, "base_ref")))
		snprintf(base, sizeof base, "%s", fh_val(x, 0, "base_sha"));
	struct json_object *files = fh_git_merge_base(mb, g, base, head) == 0 ? fh_diff_files(g, &r, mb, head, NULL, NULL)
									      : json_object_new_array();
	git_repository_free(g);
	PQclear(x);
	long long off, lim, n = (long long)json_object_array_length(files);
	fh_paginate(n, &off, &lim);
	struct json_object *page = json_object_new_array();
	for (long long i = off; i < n && i < off + lim; i++)
		json_object_array_add(page, json_object_get(json_object_array_get_idx(files, (size_t)i)));
	json_object_put(files);
	return fh_json(200, page);
}

int api_pull_commits(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (fh_repo_from_params(&r) || load_pull(&x, &r, req_param(req, "number")))
		return 0;
	git_repository *g;
	if (fh_git_open(&g, r.path)) {
		PQclear(x);
		return fh_error(500, "repository storage missing");
	}
	char base[41];
	const char *head = arena_strdup(req->arena, fh_val(x, 0, "head_sha"));
	if (strcmp(fh_val(x, 0, "state"), "open") != 0 || fh_git_branch_sha(base, g, fh_val(x, 0, "base_ref")))
		snprintf(base, sizeof base, "%s", fh_val(x, 0, "base_sha"));
	PQclear(x);
	git_revwalk *w;
	git_oid ho, bo, oid;
	struct json_object *arr = json_object_new_array();
	if (git_revwalk_new(&w, g) == 0) {
		git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
		git_oid_fromstr(&ho, head);
		git_oid_fromstr(&bo, base);
		git_revwalk_push(w, &ho);
		git_revwalk_hide(w, &bo);
		while (git_revwalk_next(&oid, w) == 0 && json_object_array_length(arr) < 250) {
			char s[41];
			git_oid_tostr(s, sizeof s, &oid);
			json_object_array_add(arr, fh_commit_short_json(g, &r, s));
		}
		git_revwalk_free(w);
	}
	git_repository_free(g);
	return fh_json(200, arr);
}

int api_pull_merged(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (fh_repo_from_params(&r) || load_pull(&x, &r, req_param(req, "number")))
		return 0;
	int merged = fh_vbool(x, 0, "merged");
	PQclear(x);
	return merged ? fh_no_content() : fh_not_found();
}

/* Shared by the API and the admin "merge as another user": *answer is the JSON to send. */
int fh_pull_do_merge(struct json_object **answer, const struct fh_repo *r, long long number, const char *method,
		     const char *sha, const char *title, const char *message, long long actor_id, const char *actor_login)
{
	PGresult *x = Q(pull_one, fh_ll(r->id), fh_ll(number));
	if (!x)
		return 500;
	if (!PQntuples(x)) {
		PQclear(x);
		return 404;
	}
	struct arena *a = fh_arena();
	const char *head_sha = arena_strdup(a, fh_val(x, 0, "head_sha")), *head_ref = arena_strdup(a, fh_val(x, 0, "head_ref"));
	const char *base_ref = arena_strdup(a, fh_val(x, 0, "base_ref")), *ptitle = arena_strdup(a, fh_val(x, 0, "title"));
	int open = strcmp(fh_val(x, 0, "state"), "open") == 0, draft = fh_vbool(x, 0, "draft");
	PQclear(x);
	*answer = json_object_new_object();
	if (!method)
		method = "merge";
	if (strcmp(method, "merge") && strcmp(method, "squash") && strcmp(method, "rebase")) {
		json_object_put(*answer);
		*answer = NULL;
		return 422;
	}
	if (!open) {
		js(*answer, "message", "Pull Request is not mergeable");
		js(*answer, "documentation_url", "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request");
		return 405;
	}
	/* GitHub's words for a draft and for a merge method the repository's settings turn off. */
	int allowed = strcmp(method, "merge") == 0 ? r->allow_merge_commit
		      : strcmp(method, "squash") == 0 ? r->allow_squash_merge : r->allow_rebase_merge;
	if (draft || !allowed) {
		js(*answer, "message", draft ? "Pull Request is still a draft"
				       : strcmp(method, "merge") == 0 ? "Merge commits are not allowed on this repository."
				       : strcmp(method, "squash") == 0 ? "Squash merges are not allowed on this repository."
								       : "Rebase merges are not allowed on this repository.");
		js(*answer, "documentation_url", "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request");
		return 405;
	}
	if (sha && strcmp(sha, head_sha) != 0) {
		js(*answer, "message", "Head branch was modified. Review and try the merge again.");
		js(*answer, "documentation_url", "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request");
		return 409;
	}
	/* docs "About protected branches": required status checks and reviews hold the merge (405). */
	const char *blocked = fh_protection_merge_blocked(r, base_ref, head_sha, r->can_admin);
	if (blocked) {
		js(*answer, "message", blocked);
		js(*answer, "documentation_url", "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request");
		return 405;
	}
	git_repository *g;
	if (fh_git_open(&g, r->path))
		return 500;
	char before[41], merged_sha[41];
	fh_git_branch_sha(before, g, base_ref);
	const char *t = title;
	const char *m = message;
	if (!t && strcmp(method, "merge") == 0)
		t = arena_printf(a, "Merge pull request #%lld from %s/%s", number, r->owner, head_ref);
	if (!t)
		t = arena_printf(a, "%s (#%lld)", ptitle, number);
	if (!m && strcmp(method, "merge") == 0)
		m = ptitle;
	struct err e = { 0 };
	int rc = fh_git_merge(merged_sha, g, method, base_ref, head_sha, t, m, actor_login, &e);
	git_repository_free(g);
	if (rc) {
		js(*answer, "message", strcmp(method, "rebase") == 0 && rc == ERR_CONFLICT ? "This branch can't be rebased"
											   : "Pull Request is not mergeable");
		js(*answer, "documentation_url", "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request");
		return 405;
	}
	FH_STMT(st, "UPDATE pulls SET state = 'closed', merged = true, merge_commit_sha = $3, merged_by = $4, merged_at = $5, "
		    "closed_at = $5, updated_at = $5, base_sha = $6 WHERE repo_id = $1 AND number = $2");
	x = Q(st, fh_ll(r->id), fh_ll(number), merged_sha, fh_ll(actor_id), fh_ll(C->now), before);
	if (x)
		PQclear(x);
	fh_after_push(r, arena_printf(a, "refs/heads/%s", base_ref), before, merged_sha, actor_id, actor_login);
	pull_event(r, number, "closed", NULL);
	/* docs "Managing the automatic deletion of branches": the head branch goes after the merge (never
	 * the default branch), with its push event. */
	if (r->delete_branch_on_merge && strcmp(head_ref, r->default_branch) != 0 && fh_git_open(&g, r->path) == 0) {
		const char *ref = arena_printf(a, "refs/heads/%s", head_ref);
		git_reference *hr = NULL;
		char gone[41] = "";
		if (git_reference_lookup(&hr, g, ref) == 0) {
			git_oid_tostr(gone, sizeof gone, git_reference_target(hr));
			if (git_reference_delete(hr) != 0)
				gone[0] = '\0';
		}
		git_reference_free(hr);
		git_repository_free(g);
		if (gone[0])
			fh_after_push(r, ref, gone, "0000000000000000000000000000000000000000", actor_id, actor_login);
	}
	js(*answer, "sha", merged_sha);
	jb(*answer, "merged", 1);
	js(*answer, "message", "Pull Request successfully merged");
	return 200;
}

int api_pull_merge(struct request *req, struct response *resp)
{
	struct fh_repo r;
	PGresult *x;
	if (fh_repo_from_params(&r) || load_pull(&x, &r, req_param(req, "number")))
		return 0;
	long long num = fh_vall(x, 0, "number");
	PQclear(x);
	if (!C->v.id)
		return fh_error(401, "Requires authentication");
	if (!r.can_push)
		return fh_error(403, "Must have push access to repository.");
	if (fh_repo_writable(&r))
		return 0;
	struct json_object *answer = NULL;
	int status = fh_pull_do_merge(&answer, &r, num, fh_in("merge_method"), fh_in("sha"), fh_in("commit_title"),
				      fh_in("commit_message"), C->v.id, C->v.login);
	if (status == 422)
		return fh_validation(NULL, "PullRequest", "merge_method", "invalid", NULL);
	if (!answer)
		return fh_error(status, status == 404 ? "Not Found" : "Server Error");
	return fh_json(status, answer);
}

/* ---- POST /api/graphql: only the mutation markPullRequestReadyForReview (GitHub's one way to undraft). */

static int gql_error(const char *type, const char *message)
{
	struct json_object *o = json_object_new_object(), *errs = json_object_new_array(), *e = json_object_new_object();
	if (type)
		js(e, "type", type);
	if (type) {
		struct json_object *path = json_object_new_array();
		json_object_array_add(path, json_object_new_string("markPullRequestReadyForReview"));
		jo(e, "path", path);
	}
	js(e, "message", message);
	json_object_array_add(errs, e);
	js(o, "data", NULL);
	jo(o, "errors", errs);
	return fh_json(200, o);
}

/* A PullRequest node id (base64 of "11:PullRequest<id>", see fh_node_id) → the pull's id, or 0. */
static long long pull_id_of_node(const char *node)
{
	static const char kind[] = "11:PullRequest";
	unsigned char raw[96];
	size_t len = 0;
	if (!node || strlen(node) > 120 ||
	    sodium_base642bin(raw, sizeof raw - 1, node, strlen(node), NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return 0;
	raw[len] = '\0';
	if (len <= sizeof kind - 1 || memcmp(raw, kind, sizeof kind - 1) != 0)
		return 0;
	const char *d = (const char *)raw + sizeof kind - 1;
	for (const char *p = d; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return strlen(d) > 18 ? 0 : atoll(d);
}

/* The pullRequestId argument: a string literal in the query, or the variable it names (variables.id by default). */
static const char *gql_pull_request_id(const char *query)
{
	struct json_object *vars = NULL;
	if (C->json)
		json_object_object_get_ex(C->json, "variables", &vars);
	const char *var = "id", *p = strstr(query, "pullRequestId");
	if (p) {
		p += strlen("pullRequestId");
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')
			p++;
		if (*p == '"') {
			const char *end = strchr(p + 1, '"');
			return end ? arena_strndup(fh_arena(), p + 1, (size_t)(end - p - 1)) : NULL;
		}
		if (*p == '$') {
			size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
			if (n)
				var = arena_strndup(fh_arena(), p + 1, n);
		}
	}
	return vars && json_object_is_type(vars, json_type_object) ? jget(vars, var) : NULL;
}

int fh_graphql(struct request *req, struct response *resp)
{
	(void)resp;
	const char *query = jget(C->json, "query");
	if (!query)
		return gql_error(NULL, "A query attribute must be specified and must be a string.");
	if (!strstr(query, "markPullRequestReadyForReview"))
		return gql_error(NULL, "fakehub's GraphQL endpoint supports only the mutation markPullRequestReadyForReview; "
				       "this query is not supported by the emulator.");
	const char *node = gql_pull_request_id(query);
	if (!node)
		return gql_error(NULL, "Variable $id of type ID! was provided invalid value");
	const char *missing = arena_printf(req->arena, "Could not resolve to a node with the global id of '%s'", node);
	long long id = pull_id_of_node(node);
	if (!id)
		return gql_error("NOT_FOUND", missing);
	FH_STMT(find, "SELECT p.number, p.draft, r.name, a.login FROM pulls p JOIN repos r ON r.id = p.repo_id "
		      "JOIN accounts a ON a.id = r.owner_id WHERE p.id = $1");
	PGresult *x = Q(find, fh_ll(id));
	if (!x)
		return -1;
	if (!PQntuples(x)) {
		PQclear(x);
		return gql_error("NOT_FOUND", missing);
	}
	long long num = fh_vall(x, 0, "number");
	int draft = fh_vbool(x, 0, "draft");
	const char *owner = arena_strdup(req->arena, fh_val(x, 0, "login")), *name = arena_strdup(req->arena, fh_val(x, 0, "name"));
	PQclear(x);
	struct fh_repo r;
	int rc = fh_repo_load(&r, owner, name);
	if (rc == ERR_DB)
		return -1;
	if (rc || !r.can_read)
		return gql_error("NOT_FOUND", missing);
	if (!r.can_push)
		return gql_error("FORBIDDEN", arena_printf(req->arena, "%s does not have the correct permissions to execute "
								      "`MarkPullRequestReadyForReview`", C->v.login));
	if (draft) {
		FH_STMT(upd, "UPDATE pulls SET draft = false, updated_at = $2 WHERE id = $1 AND draft RETURNING id");
		x = Q(upd, fh_ll(id), fh_ll(C->now));
		if (!x)
			return -1;
		int n = PQntuples(x);
		PQclear(x);
		if (n)
			pull_event(&r, num, "ready_for_review", NULL);
	}
	struct json_object *o = json_object_new_object(), *data = json_object_new_object(),
			   *m = json_object_new_object(), *pr = json_object_new_object();
	jb(pr, "isDraft", 0);
	jo(m, "pullRequest", pr);
	jo(data, "markPullRequestReadyForReview", m);
	jo(o, "data", data);
	return fh_json(200, o);
}
