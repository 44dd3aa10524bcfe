/* api.c: fakehub's REST handlers for users, orgs, repositories, branches, refs, commits, compare, statuses, collaborators. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <git2.h>
#include "tests/fakehub/fakehub.h"
#include "git/refname.h"

void fh_rate_state(long long *limit, long long *used, long long *reset);
void fh_org_private_fields(struct json_object *o, long long org_id); /* orgs.c */
int fh_base_refuses(long long org_id, long long user_id, const char *perm);

static int need_user(void)
{
	if (!C->v.id)
		return fh_error(401, "Requires authentication"), -1;
	return 0;
}

/* ---- users and organisations */

static int user_full(PGresult *r, int code)
{
	long long id = fh_vall(r, 0, "id");
	struct json_object *o = fh_user_json(id, fh_val(r, 0, "login"), fh_val(r, 0, "type"));
	js(o, "name", fh_val(r, 0, "name"));
	js(o, "company", NULL);
	js(o, "blog", "");
	js(o, "location", NULL);
	js(o, "email", fh_val(r, 0, "email"));
	js(o, "hireable", NULL);
	js(o, "bio", NULL);
	js(o, "twitter_username", NULL);
	ji(o, "public_repos", 0);
	ji(o, "public_gists", 0);
	ji(o, "followers", 0);
	ji(o, "following", 0);
	jt(o, "created_at", fh_vall(r, 0, "created_at"));
	jt(o, "updated_at", fh_vall(r, 0, "created_at"));
	if (C->v.id == id) {
		ji(o, "private_gists", 0);
		ji(o, "total_private_repos", 0);
		ji(o, "owned_private_repos", 0);
		ji(o, "disk_usage", 0);
		ji(o, "collaborators", 0);
		jb(o, "two_factor_authentication", 0);
		struct json_object *plan = json_object_new_object();
		js(plan, "name", "free");
		ji(plan, "space", 976562499);
		ji(plan, "private_repos", 10000);
		ji(plan, "collaborators", 0);
		jo(o, "plan", plan);
	}
	PQclear(r);
	return fh_json(code, o);
}

static int api_user(struct request *req, struct response *resp)
{
	if (need_user())
		return 0;
	PGresult *r;
	if (fh_account_by_login(&r, C->v.login))
		return fh_not_found();
	return user_full(r, 200);
}

static int api_users_one(struct request *req, struct response *resp)
{
	PGresult *r;
	if (fh_account_by_login(&r, req_param(req, "username")))
		return fh_not_found();
	return user_full(r, 200);
}

static int api_user_emails(struct request *req, struct response *resp)
{
	if (need_user())
		return 0;
	PGresult *r;
	if (fh_account_by_login(&r, C->v.login))
		return fh_not_found();
	struct json_object *a = json_object_new_array(), *o = json_object_new_object();
	const char *email = fh_val(r, 0, "email");
	js(o, "email", email ? email : arena_printf(req->arena, "%lld+%s@users.noreply.github.com", C->v.id, C->v.login));
	jb(o, "primary", 1);
	jb(o, "verified", 1);
	js(o, "visibility", "public");
	json_object_array_add(a, o);
	PQclear(r);
	return fh_json(200, a);
}

static struct json_object *org_json(long long id, const char *login)
{
	struct json_object *o = json_object_new_object();
	const char *api = g_fh.api_url;
	struct arena *a = C->req->arena;
	js(o, "login", login);
	ji(o, "id", id);
	js(o, "node_id", fh_node_id("Organization", id));
	js(o, "url", arena_printf(a, "%s/orgs/%s", api, login));
	js(o, "repos_url", arena_printf(a, "%s/orgs/%s/repos", api, login));
	js(o, "events_url", arena_printf(a, "%s/orgs/%s/events", api, login));
	js(o, "hooks_url", arena_printf(a, "%s/orgs/%s/hooks", api, login));
	js(o, "issues_url", arena_printf(a, "%s/orgs/%s/issues", api, login));
	js(o, "members_url", arena_printf(a, "%s/orgs/%s/members{/member}", api, login));
	js(o, "public_members_url", arena_printf(a, "%s/orgs/%s/public_members{/member}", api, login));
	js(o, "avatar_url", arena_printf(a, "%s/avatars/u/%lld?v=4", g_fh.web_url, id));
	js(o, "description", NULL);
	return o;
}

static int api_user_orgs(struct request *req, struct response *resp)
{
	if (need_user())
		return 0;
	FH_STMT(st, "SELECT a.id, a.login FROM memberships m JOIN accounts a ON a.id = m.org_id "
		    "WHERE m.user_id = $1 ORDER BY lower(a.login)");
	PGresult *r = Q(st, fh_ll(C->v.id));
	if (!r)
		return -1;
	long long off, lim, n = PQntuples(r);
	fh_paginate(n, &off, &lim);
	struct json_object *arr = json_object_new_array();
	for (long long i = off; i < n && i < off + lim; i++)
		json_object_array_add(arr, org_json(fh_vall(r, (int)i, "id"), fh_val(r, (int)i, "login")));
	PQclear(r);
	return fh_json(200, arr);
}

int api_org(struct request *req, struct response *resp); /* orgs.c answers PATCH with it */
int api_org(struct request *req, struct response *resp)
{
	PGresult *r;
	if (fh_account_by_login(&r, req_param(req, "org")) || strcmp(fh_val(r, 0, "type"), "Organization") != 0)
		return fh_not_found();
	struct json_object *o = org_json(fh_vall(r, 0, "id"), fh_val(r, 0, "login"));
	js(o, "name", fh_val(r, 0, "name"));
	js(o, "html_url", arena_printf(req->arena, "%s/%s", g_fh.web_url, fh_val(r, 0, "login")));
	js(o, "type", "Organization");
	/* docs orgs/get: organization-full's counts and flags. */
	jb(o, "has_organization_projects", 1);
	jb(o, "has_repository_projects", 1);
	ji(o, "public_repos", 0);
	ji(o, "public_gists", 0);
	ji(o, "followers", 0);
	ji(o, "following", 0);
	jt(o, "created_at", fh_vall(r, 0, "created_at"));
	jt(o, "updated_at", fh_vall(r, 0, "created_at"));
	js(o, "archived_at", NULL);
	fh_org_private_fields(o, fh_vall(r, 0, "id"));
	PQclear(r);
	return fh_json(200, o);
}

static int api_rate_limit(struct request *req, struct response *resp)
{
	long long limit, used, reset;
	fh_rate_state(&limit, &used, &reset);
	struct json_object *o = json_object_new_object(), *res = json_object_new_object();
	const char *names[] = { "core", "search", "graphql", "integration_manifest", "code_scanning_upload" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct json_object *x = json_object_new_object();
		long long l = i == 0 ? limit : i == 1 ? 30 : 5000, u = i == 0 ? used : 0;
		ji(x, "limit", l);
		ji(x, "used", u);
		ji(x, "remaining", l - u < 0 ? 0 : l - u);
		ji(x, "reset", reset);
		jo(res, names[i], x);
	}
	jo(o, "resources", res);
	struct json_object *rate = json_object_new_object();
	ji(rate, "limit", limit);
	ji(rate, "used", used);
	ji(rate, "remaining", limit - used < 0 ? 0 : limit - used);
	ji(rate, "reset", reset);
	js(rate, "resource", "core");
	jo(o, "rate", rate);
	return fh_json(200, o);
}

/* GET /api/v3/ (docs meta/root): the hypermedia index of the API, as api.github.com answers it. */
static int api_root(struct request *req, struct response *resp)
{
	static const char *const links[][2] = {
		{ "current_user_url", "/user" },
		{ "current_user_authorizations_html_url", "\x01/settings/connections/applications{/client_id}" },
		{ "authorizations_url", "/authorizations" },
		{ "code_search_url", "/search/code?q={query}{&page,per_page,sort,order}" },
		{ "commit_search_url", "/search/commits?q={query}{&page,per_page,sort,order}" },
		{ "emails_url", "/user/emails" },
		{ "emojis_url", "/emojis" },
		{ "events_url", "/events" },
		{ "feeds_url", "/feeds" },
		{ "followers_url", "/user/followers" },
		{ "following_url", "/user/following{/target}" },
		{ "gists_url", "/gists{/gist_id}" },
		{ "issue_search_url", "/search/issues?q={query}{&page,per_page,sort,order}" },
		{ "issues_url", "/issues" },
		{ "keys_url", "/user/keys" },
		{ "label_search_url", "/search/labels?q={query}&repository_id={repository_id}{&page,per_page}" },
		{ "notifications_url", "/notifications" },
		{ "organization_url", "/orgs/{org}" },
		{ "organization_repositories_url", "/orgs/{org}/repos{?type,page,per_page,sort}" },
		{ "organization_teams_url", "/orgs/{org}/teams" },
		{ "public_gists_url", "/gists/public" },
		{ "rate_limit_url", "/rate_limit" },
		{ "repository_url", "/repos/{owner}/{repo}" },
		{ "repository_search_url", "/search/repositories?q={query}{&page,per_page,sort,order}" },
		{ "current_user_repositories_url", "/user/repos{?type,page,per_page,sort}" },
		{ "starred_url", "/user/starred{/owner}{/repo}" },
		{ "starred_gists_url", "/gists/starred" },
		{ "topic_search_url", "/search/topics?q={query}{&page,per_page}" },
		{ "user_url", "/users/{user}" },
		{ "user_organizations_url", "/user/orgs" },
		{ "user_repositories_url", "/users/{user}/repos{?type,page,per_page,sort}" },
		{ "user_search_url", "/search/users?q={query}{&page,per_page,sort,order}" },
	};
	(void)resp;
	struct json_object *o = json_object_new_object();
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		const char *l = links[i][1];
		js(o, links[i][0], l[0] == '\x01' ? arena_printf(req->arena, "%s%s", g_fh.web_url, l + 1)
						   : arena_printf(req->arena, "%s%s", g_fh.api_url, l));
	}
	return fh_json(200, o);
}

/* ---- repositories */

static int repo_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 100 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_.", *p)))
			return 0;
	return n < 4 || strcmp(s + n - 4, ".git") != 0;
}

int fh_repo_create(long long *id, long long owner_id, const char *name, const char *desc, int private_,
		   int auto_init, const char *creator, struct err *e);
int fh_repo_create(long long *id, long long owner_id, const char *name, const char *desc, int private_,
		   int auto_init, const char *creator, struct err *e)
{
	if (!repo_name_valid(name))
		return err_set(e, ERR_INVALID, "name is invalid");
	FH_STMT(ins, "INSERT INTO repos (owner_id, name, description, private, created_at, updated_at) "
		     "VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING id");
	FH_STMT(owner, "SELECT login FROM accounts WHERE id = $1");
	FH_STMT(del, "DELETE FROM repos WHERE id = $1");
	long long now = C ? C->now : fh_clock_now();
	PGresult *r = Q(ins, fh_ll(owner_id), name, desc, private_ ? "t" : "f", fh_ll(now));
	if (!r)
		return err_set(e, ERR_DB, "database error");
	if (!PQntuples(r)) {
		PQclear(r);
		return err_set(e, ERR_CONFLICT, "name already exists on this account");
	}
	long long rid = fh_vall(r, 0, "id");
	PQclear(r);
	fh_redirect_drop(owner_id, name); /* a renamed repository's old name is this repository's now */
	r = Q(owner, fh_ll(owner_id));
	if (!r || !PQntuples(r)) {
		if (r)
			PQclear(r);
		return err_set(e, ERR_NOTFOUND, "no owner");
	}
	char dir[1024], path[1100];
	snprintf(dir, sizeof dir, "%s/%s", g_fh.repos_dir, PQgetvalue(r, 0, 0));
	snprintf(path, sizeof path, "%s/%s.git", dir, name);
	PQclear(r);
	mkdir(g_fh.repos_dir, 0755);
	mkdir(dir, 0755);
	struct stat sb;
	if (stat(path, &sb) == 0) {
		/* Left over from an earlier database: keep it aside rather than resurrect it. */
		char stale[1200];
		snprintf(stale, sizeof stale, "%s.stale-%lld-%d", path, (long long)time(NULL), rand());
		rename(path, stale);
	}
	const char *readme = arena_printf(fh_arena(), "# %s\n%s%s",
					  name, desc ? "\n" : "", desc ? desc : "");
	int rc = fh_git_init(path, "main", auto_init, readme, creator, e);
	if (rc) {
		PGresult *d = Q(del, fh_ll(rid));
		if (d)
			PQclear(d);
		return rc;
	}
	if (id)
		*id = rid;
	return 0;
}

static int create_repo_common(long long owner_id, const char *owner)
{
	const char *name = fh_in("name");
	if (!name || !*name)
		return fh_validation("Repository creation failed.", "Repository", "name", "missing_field", NULL);
	const char *vis = fh_in("visibility");
	int priv = jget_bool(C->json, "private", 0) || (vis && strcmp(vis, "private") == 0);
	/* docs (repos/create-for-authenticated-user, repos/create-in-org): OAuth tokens need public_repo or repo
	 * for a public repository and repo for a private one; GitHub answers 404 without them. */
	if (C->v.token_prefix && strcmp(C->v.token_prefix, "gho") == 0 &&
	    !(fh_scope_has("repo") || (!priv && fh_scope_has("public_repo"))))
		return fh_not_found();
	struct err e = { 0 };
	int rc = fh_repo_create(NULL, owner_id, name, fh_in("description"), priv, jget_bool(C->json, "auto_init", 0),
				C->v.login, &e);
	if (rc == ERR_CONFLICT)
		return fh_validation("Repository creation failed.", "Repository", "name", "custom",
				     "name already exists on this account");
	if (rc == ERR_INVALID)
		return fh_validation("Repository creation failed.", "Repository", "name", "custom", "name is invalid");
	if (rc)
		return fh_error(500, e.msg);
	struct fh_repo r;
	if (fh_repo_load(&r, owner, name))
		return fh_error(500, "created repository vanished");
	resp_header(C->resp, "Location", arena_printf(C->req->arena, "%s/repos/%s/%s", g_fh.api_url, r.owner, r.name));
	return fh_json(201, fh_repo_json(&r));
}

static int api_user_repos_create(struct request *req, struct response *resp)
{
	if (need_user())
		return 0;
	return create_repo_common(C->v.id, C->v.login);
}

static int api_org_repos_create(struct request *req, struct response *resp)
{
	if (need_user())
		return 0;
	FH_STMT(st, "SELECT a.id, a.login, m.role FROM accounts a LEFT JOIN memberships m ON m.org_id = a.id "
		    "AND m.user_id = $2 WHERE lower(a.login) = lower($1) AND a.type = 'Organization'");
	PGresult *r = Q(st, req_param(req, "org"), fh_ll(C->v.id));
	if (!r)
		return -1;
	if (!PQntuples(r)) {
		PQclear(r);
		return fh_not_found();
	}
	if (!fh_val(r, 0, "role")) {
		PQclear(r);
		return fh_error(403, "You need admin access to the organization before adding a repository to it.");
	}
	long long oid = fh_vall(r, 0, "id");
	const char *login = arena_strdup(req->arena, fh_val(r, 0, "login"));
	int owner = strcmp(fh_val(r, 0, "role"), "admin") == 0;
	PQclear(r);
	int rc = create_repo_common(oid, login);
	/* A member who is not an owner gets admin on the repository they made (docs "Repository roles for an
	 * organization"): fakehub records it as a direct grant. */
	if (rc == 0 && resp->status == 201 && !owner) {
		FH_STMT(adm, "INSERT INTO collaborators (repo_id, user_id, permission) SELECT id, $2, 'admin' FROM repos "
			     "WHERE owner_id = $1 AND lower(name) = lower($3) ON CONFLICT DO NOTHING");
		PGresult *x = Q(adm, fh_ll(oid), fh_ll(C->v.id), fh_in("name"));
		if (x)
			PQclear(x);
	}
	return rc;
}

/* Lists repositories from rows of (login, name) already filtered and sorted by SQL. */
static int repo_list(PGresult *r)
{
	const char *dir = req_query(C->req, "direction"), *sort = req_query(C->req, "sort");
	int reverse = dir ? strcmp(dir, "desc") == 0 : (sort && strcmp(sort, "full_name") != 0);
	long long off, lim, n = PQntuples(r);
	fh_paginate(n, &off, &lim);
	struct json_object *arr = json_object_new_array();
	for (long long k = off; k < n && k < off + lim; k++) {
		int i = (int)(reverse ? n - 1 - k : k);
		struct fh_repo repo;
		if (fh_repo_load(&repo, fh_val(r, i, "login"), fh_val(r, i, "name")) == 0)
			json_object_array_add(arr, fh_repo_json(&repo));
	}
	PQclear(r);
	return fh_json(200, arr);
}

/* GET /user/repos (docs: repos/list-for-authenticated-user): visibility all|public|private, affiliation a
 * comma-separated list of owner, collaborator, organization_member (default all three), type
 * all|owner|public|private|member; type together with visibility or affiliation is a 422. */
static int api_user_repos(struct request *req, struct response *resp)
{
	if (need_user())
		return 0;
	FH_STMT(st, "SELECT a.login, r.name FROM repos r JOIN accounts a ON a.id = r.owner_id WHERE "
		    "(($2::boolean AND r.owner_id = $1) "
		    " OR ($3::boolean AND EXISTS (SELECT 1 FROM collaborators c WHERE c.repo_id = r.id AND c.user_id = $1)) "
		    " OR ($4::boolean AND EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = r.owner_id AND m.user_id = $1))) "
		    "AND ($5 = 'all' OR ($5 = 'public' AND NOT r.private) OR ($5 = 'private' AND r.private)) "
		    "ORDER BY CASE $6 WHEN 'created' THEN r.created_at WHEN 'updated' THEN r.updated_at "
		    "WHEN 'pushed' THEN COALESCE(r.pushed_at, r.created_at) ELSE 0 END, lower(a.login), lower(r.name)");
	const char *vis = req_query(req, "visibility"), *type = req_query(req, "type"), *sort = req_query(req, "sort");
	const char *aff = req_query(req, "affiliation");
	if (type && (vis || aff))
		return fh_error(422, "If you specify visibility or affiliation, you cannot specify type.");
	if (vis && strcmp(vis, "all") && strcmp(vis, "public") && strcmp(vis, "private"))
		return fh_validation(NULL, "Repository", "visibility", "invalid", NULL);
	int own = 1, collab = 1, orgm = 1;
	if (aff) {
		own = collab = orgm = 0;
		char *copy = arena_strdup(req->arena, aff), *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
			if (strcmp(t, "owner") == 0)
				own = 1;
			else if (strcmp(t, "collaborator") == 0)
				collab = 1;
			else if (strcmp(t, "organization_member") == 0)
				orgm = 1;
			else
				return fh_validation(NULL, "Repository", "affiliation", "invalid", NULL);
		}
	}
	if (type) {
		if (strcmp(type, "owner") == 0)
			collab = orgm = 0;
		else if (strcmp(type, "member") == 0)
			own = 0;
		else if (strcmp(type, "public") == 0 || strcmp(type, "private") == 0)
			vis = type;
		else if (strcmp(type, "all") != 0)
			return fh_validation(NULL, "Repository", "type", "invalid", NULL);
	}
	PGresult *r = Q(st, fh_ll(C->v.id), own ? "t" : "f", collab ? "t" : "f", orgm ? "t" : "f", vis ? vis : "all",
			sort ? sort : "full_name");
	return r ? repo_list(r) : -1;
}

static int api_owner_repos(struct request *req, struct response *resp)
{
	FH_STMT(st, "SELECT a.login, r.name FROM repos r JOIN accounts a ON a.id = r.owner_id "
		    "WHERE lower(a.login) = lower($1) ORDER BY CASE $2 WHEN 'created' THEN r.created_at "
		    "WHEN 'updated' THEN r.updated_at WHEN 'pushed' THEN COALESCE(r.pushed_at, r.created_at) ELSE 0 END, "
		    "lower(r.name)");
	const char *owner = req_param(req, "org") ? req_param(req, "org") : req_param(req, "username");
	PGresult *a;
	if (fh_account_by_login(&a, owner))
		return fh_not_found();
	PQclear(a);
	const char *sort = req_query(req, "sort");
	PGresult *r = Q(st, owner, sort ? sort : "full_name");
	return r ? repo_list(r) : -1; /* repo_list drops what the viewer cannot see */
}

static int api_repo_get(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	return fh_json(200, fh_repo_json(&r));
}

static int api_repo_patch(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	if (!r.can_admin)
		return fh_error(403, "Must have admin rights to Repository.");
	FH_STMT(st, "UPDATE repos SET description = COALESCE($2, description), default_branch = COALESCE($3, default_branch), "
		    "private = COALESCE($4::boolean, private), updated_at = $5, archived = COALESCE($6::boolean, archived), "
		    "allow_merge_commit = COALESCE($7::boolean, allow_merge_commit), "
		    "allow_squash_merge = COALESCE($8::boolean, allow_squash_merge), "
		    "allow_rebase_merge = COALESCE($9::boolean, allow_rebase_merge), "
		    "delete_branch_on_merge = COALESCE($10::boolean, delete_branch_on_merge) WHERE id = $1");
	struct json_object *pv;
	const char *priv = NULL;
	if (C->json && json_object_object_get_ex(C->json, "private", &pv))
		priv = json_object_get_boolean(pv) ? "t" : "f";
	/* docs repos/update: archived (true archives; false unarchives), the merge-button settings and
	 * delete_branch_on_merge. An archived repository takes no other change until it is unarchived. */
	static const char *const flags[] = { "archived", "allow_merge_commit", "allow_squash_merge", "allow_rebase_merge",
					     "delete_branch_on_merge" };
	const char *flag_val[5] = { NULL };
	for (size_t i = 0; i < 5; i++) {
		if (!C->json || !json_object_object_get_ex(C->json, flags[i], &pv))
			continue;
		if (!json_object_is_type(pv, json_type_boolean))
			return fh_validation(NULL, "Repository", flags[i], "invalid", NULL);
		flag_val[i] = json_object_get_boolean(pv) ? "t" : "f";
	}
	if (r.archived && !(flag_val[0] && strcmp(flag_val[0], "f") == 0))
		return fh_repo_writable(&r), 0;
	/* docs repos/update: at least one of the three merge methods stays allowed. */
	int allow_m = flag_val[1] ? *flag_val[1] == 't' : r.allow_merge_commit,
	    allow_s = flag_val[2] ? *flag_val[2] == 't' : r.allow_squash_merge,
	    allow_r = flag_val[3] ? *flag_val[3] == 't' : r.allow_rebase_merge;
	if (!allow_m && !allow_s && !allow_r)
		return fh_validation("Validation Failed", "Repository", "merge_commit_allowed", "custom",
				     "Sorry, you need to allow at least one merge strategy. (no_merge_method)");
	const char *vis = fh_in("visibility");
	if (vis)
		priv = strcmp(vis, "private") == 0 ? "t" : "f";
	const char *db = fh_in("default_branch");
	if (db) {
		git_repository *g;
		char sha[41];
		if (fh_git_open(&g, r.path) == 0) {
			int missing = fh_git_branch_sha(sha, g, db) != 0;
			if (!missing) {
				git_reference *head = NULL;
				git_reference_symbolic_create(&head, g, "HEAD",
							      arena_printf(req->arena, "refs/heads/%s", db), 1, NULL);
				git_reference_free(head);
			}
			git_repository_free(g);
			if (missing)
				return fh_validation(NULL, "Repository", "default_branch", "invalid",
						     "Cannot update default branch for an empty repository or to a missing branch.");
		}
	}
	/* A new name, as GitHub renames: same id, same history, its git folder moves with it, and the old
	 * name redirects here (REST 301/307, git) until another repository takes it (redirects.c). */
	const char *name = fh_in("name");
	if (name && strcmp(name, r.name) != 0) {
		if (!repo_name_valid(name))
			return fh_validation("Repository update failed.", "Repository", "name", "custom", "name is invalid");
		FH_STMT(taken, "SELECT 1 FROM repos WHERE owner_id = $1 AND lower(name) = lower($2) AND id <> $3");
		PGresult *t = Q(taken, fh_ll(r.owner_id), name, fh_ll(r.id));
		if (!t)
			return -1;
		int clash = PQntuples(t) > 0;
		PQclear(t);
		if (clash)
			return fh_validation("Repository update failed.", "Repository", "name", "custom",
					     "name already exists on this account");
		FH_STMT(ren, "UPDATE repos SET name = $2, updated_at = $3 WHERE id = $1");
		PGresult *u = Q(ren, fh_ll(r.id), name, fh_ll(C->now));
		if (!u)
			return -1;
		PQclear(u);
		char to[sizeof r.path];
		snprintf(to, sizeof to, "%s/%s/%s.git", g_fh.repos_dir, r.owner, name);
		if (rename(r.path, to)) {
			u = Q(ren, fh_ll(r.id), r.name, fh_ll(C->now));
			if (u)
				PQclear(u);
			return fh_error(500, "moving the repository's storage failed");
		}
		/* The old name leads here until a repository takes it (redirects.c). */
		fh_redirect_drop(r.owner_id, name);
		if (strcasecmp(name, r.name) != 0)
			fh_redirect_record(r.owner_id, r.name, r.id);
		r.name = arena_strdup(req->arena, name);
		snprintf(r.path, sizeof r.path, "%s", to);
	}
	PGresult *x = Q(st, fh_ll(r.id), fh_in("description"), db, priv, fh_ll(C->now), flag_val[0], flag_val[1],
			flag_val[2], flag_val[3], flag_val[4]);
	if (!x)
		return -1;
	PQclear(x);
	fh_repo_load(&r, r.owner, r.name);
	return fh_json(200, fh_repo_json(&r));
}

static int api_repo_delete(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	if (!r.can_admin)
		return fh_error(403, "Must have admin rights to Repository.");
	FH_STMT(st, "DELETE FROM repos WHERE id = $1");
	PGresult *x = Q(st, fh_ll(r.id));
	if (!x)
		return -1;
	PQclear(x);
	char stale[1200];
	snprintf(stale, sizeof stale, "%s.deleted-%lld-%d", r.path, (long long)time(NULL), rand());
	rename(r.path, stale);
	return fh_no_content();
}

/* ---- branches */

static struct json_object *branch_short(const struct fh_repo *r, const char *name, const char *sha)
{
	struct json_object *o = json_object_new_object(), *c = json_object_new_object();
	js(o, "name", name);
	js(c, "sha", sha);
	js(c, "url", arena_printf(C->req->arena, "%s/repos/%s/%s/commits/%s", g_fh.api_url, r->owner, r->name, sha));
	jo(o, "commit", c);
	jb(o, "protected", fh_protection_is_on(r, name));
	return o;
}

static int api_branches(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	git_branch_iterator *it;
	struct json_object *all = json_object_new_array();
	if (git_branch_iterator_new(&it, g, GIT_BRANCH_LOCAL) == 0) {
		git_reference *ref;
		git_branch_t type;
		while (git_branch_next(&ref, &type, it) == 0) {
			const char *nm;
			git_branch_name(&nm, ref);
			git_reference *res;
			if (git_reference_resolve(&res, ref) == 0) {
				char sha[41];
				git_oid_tostr(sha, sizeof sha, git_reference_target(res));
				json_object_array_add(all, branch_short(&r, nm, sha));
				git_reference_free(res);
			}
			git_reference_free(ref);
		}
		git_branch_iterator_free(it);
	}
	git_repository_free(g);
	long long off, lim, n = (long long)json_object_array_length(all);
	fh_paginate(n, &off, &lim);
	struct json_object *page = json_object_new_array();
	for (long long i = off; i < n && i < off + lim; i++)
		json_object_array_add(page, json_object_get(json_object_array_get_idx(all, (size_t)i)));
	json_object_put(all);
	return fh_json(200, page);
}

static int api_branch(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	char sha[41];
	const char *name = req_param(req, "branch");
	if (fh_protection_branch_of(name)) {
		/* …/branches/{branch}/protection is the branch's protection, not a branch "b/protection". */
		git_repository_free(g);
		return api_branch_protection(req, resp);
	}
	if (fh_git_branch_sha(sha, g, name)) {
		git_repository_free(g);
		return fh_error(404, "Branch not found");
	}
	struct json_object *o = json_object_new_object(), *links = json_object_new_object();
	js(o, "name", name);
	jo(o, "commit", fh_commit_json(g, &r, sha, 0));
	git_repository_free(g);
	const char *self = arena_printf(req->arena, "%s/repos/%s/%s/branches/%s", g_fh.api_url, r.owner, r.name, name);
	js(links, "self", self);
	js(links, "html", arena_printf(req->arena, "%s/%s/%s/tree/%s", g_fh.web_url, r.owner, r.name, name));
	jo(o, "_links", links);
	jb(o, "protected", fh_protection_is_on(&r, name));
	jo(o, "protection", fh_protection_summary(&r, name));
	js(o, "protection_url", arena_printf(req->arena, "%s/protection", self));
	return fh_json(200, o);
}

/* ---- git refs */

static struct json_object *ref_json(const struct fh_repo *r, const char *name, const char *sha)
{
	struct json_object *o = json_object_new_object(), *obj = json_object_new_object();
	struct arena *a = C->req->arena;
	js(o, "ref", name);
	js(o, "node_id", fh_node_id("Ref", (long long)strlen(name) * 7919 + r->id));
	js(o, "url", arena_printf(a, "%s/repos/%s/%s/git/%s", g_fh.api_url, r->owner, r->name, name));
	js(obj, "sha", sha);
	js(obj, "type", "commit");
	js(obj, "url", arena_printf(a, "%s/repos/%s/%s/git/commits/%s", g_fh.api_url, r->owner, r->name, sha));
	jo(o, "object", obj);
	return o;
}

/* All refs whose full name starts with prefix ("refs/" + what the caller gave). */
static struct json_object *refs_matching(git_repository *g, const struct fh_repo *r, const char *prefix, int exact)
{
	struct json_object *arr = json_object_new_array();
	git_reference_iterator *it;
	if (git_reference_iterator_new(&it, g))
		return arr;
	git_reference *ref;
	size_t plen = strlen(prefix);
	while (git_reference_next(&ref, it) == 0) {
		const char *nm = git_reference_name(ref);
		git_reference *res = NULL;
		if (strncmp(nm, prefix, plen) == 0 && (!exact || nm[plen] == '\0') && git_reference_resolve(&res, ref) == 0) {
			char sha[41];
			git_oid_tostr(sha, sizeof sha, git_reference_target(res));
			json_object_array_add(arr, ref_json(r, nm, sha));
		}
		git_reference_free(res);
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	return arr;
}

static int refs_get(int mode) /* 0: git/ref/{ref} exact, 1: git/refs/{ref} legacy, 2: matching-refs, 3: all */
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	const char *ref = req_param(C->req, "ref");
	const char *full = mode == 3 ? "refs/" : arena_printf(C->req->arena, "refs/%s", ref);
	struct json_object *arr = refs_matching(g, &r, full, mode == 0);
	if (mode == 1) {
		struct json_object *ex = refs_matching(g, &r, full, 1);
		if (json_object_array_length(ex) == 1) {
			json_object_put(arr);
			arr = json_object_get(json_object_array_get_idx(ex, 0));
		}
		json_object_put(ex);
	}
	git_repository_free(g);
	if (mode == 0) {
		if (json_object_array_length(arr) == 0) {
			json_object_put(arr);
			return fh_not_found();
		}
		struct json_object *one = json_object_get(json_object_array_get_idx(arr, 0));
		json_object_put(arr);
		return fh_json(200, one);
	}
	if (mode == 1 && json_object_is_type(arr, json_type_array) && json_object_array_length(arr) == 0) {
		json_object_put(arr);
		return fh_not_found();
	}
	return fh_json(200, arr);
}

static int api_ref_get(struct request *req, struct response *resp) { return refs_get(0); }
static int api_refs_get(struct request *req, struct response *resp) { return refs_get(1); }
static int api_matching_refs(struct request *req, struct response *resp) { return refs_get(2); }
static int api_refs_all(struct request *req, struct response *resp) { return refs_get(3); }

static int write_access(struct fh_repo *r)
{
	if (fh_repo_from_params(r))
		return -1;
	if (!C->v.id)
		return fh_error(401, "Requires authentication"), -1;
	if (!r->can_push)
		return fh_error(403, "Must have push access to repository."), -1;
	return fh_repo_writable(r);
}

static void moved(const struct fh_repo *r, const char *ref, const char *before, const char *after)
{
	if (strncmp(ref, "refs/heads/", 11) == 0)
		fh_after_push(r, ref, before, after, C->v.id, C->v.login);
}

static const char zero_sha[] = "0000000000000000000000000000000000000000";

/* git-check-ref-format(1) for any ref; for a branch also git's --branch rules and GitHub's refusals. */
static int ref_name_ok(const char *ref)
{
	if (git_refname_problem(ref))
		return 0;
	return strncmp(ref, "refs/heads/", 11) != 0 || git_branch_name_problem(ref + 11) == NULL;
}

static int api_ref_create(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (write_access(&r))
		return 0;
	const char *ref = fh_in("ref"), *sha = fh_in("sha");
	if (!ref || !sha)
		return fh_validation("Invalid request.\n\n\"ref\", \"sha\" weren't supplied.", "Reference", !ref ? "ref" : "sha",
				     "missing_field", NULL);
	const char *slash2 = strncmp(ref, "refs/", 5) == 0 ? strchr(ref + 5, '/') : NULL;
	if (!slash2 || !slash2[1])
		return fh_error(422, "Reference name must start with 'refs/' and have at least two slashes.");
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	git_oid oid;
	git_object *obj = NULL;
	int bad = git_oid_fromstr(&oid, sha) != 0 || git_object_lookup(&obj, g, &oid, GIT_OBJECT_ANY) != 0;
	git_object_free(obj);
	if (bad) {
		git_repository_free(g);
		return fh_error(422, "Object does not exist");
	}
	/* GitHub's words (its 422 for POST git/refs): "<ref> is not a valid ref name.". git's rules
	 * (libgit2 1.5 alone lets DEL through), and GitHub's own for branches. */
	if (!ref_name_ok(ref)) {
		git_repository_free(g);
		return fh_error(422, arena_printf(req->arena, "%s is not a valid ref name.", ref));
	}
	git_reference *out = NULL;
	int rc = git_reference_create(&out, g, ref, &oid, 0, "fakehub: create ref");
	git_reference_free(out);
	git_repository_free(g);
	if (rc == GIT_EEXISTS)
		return fh_error(422, "Reference already exists");
	if (rc)
		return fh_error(422, git_error_last() ? git_error_last()->message : "cannot create reference");
	moved(&r, ref, zero_sha, sha);
	return fh_json(201, ref_json(&r, ref, sha));
}

static int api_ref_update(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (write_access(&r))
		return 0;
	const char *sha = fh_in("sha");
	if (!sha)
		return fh_validation(NULL, "Reference", "sha", "missing_field", NULL);
	const char *full = arena_printf(req->arena, "refs/%s", req_param(req, "ref"));
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	git_reference *cur = NULL;
	if (git_reference_lookup(&cur, g, full)) {
		git_repository_free(g);
		return fh_error(422, "Reference does not exist");
	}
	char before[41];
	git_oid_tostr(before, sizeof before, git_reference_target(cur));
	git_reference_free(cur);
	git_oid oid;
	git_commit *cm = NULL;
	if (git_oid_fromstr(&oid, sha) || git_commit_lookup(&cm, g, &oid)) {
		git_repository_free(g);
		return fh_error(422, "Object does not exist");
	}
	git_commit_free(cm);
	int ff = strcmp(before, sha) == 0 || fh_git_is_ancestor(g, before, sha) == 1;
	if (!jget_bool(C->json, "force", 0) && !ff) {
		git_repository_free(g);
		return fh_error(422, "Update is not a fast forward");
	}
	/* docs "About protected branches": the REST API keeps a protected branch's rules as a push does. */
	const char *prot = strncmp(full, "refs/heads/", 11) == 0 ? fh_protection_ref_refused(&r, full + 11, sha, !ff) : NULL;
	if (prot) {
		git_repository_free(g);
		return fh_error(422, prot);
	}
	struct err e = { 0 };
	int rc = fh_git_set_ref(g, full, sha, before, &e);
	git_repository_free(g);
	if (rc)
		return fh_error(422, e.msg);
	if (strcmp(before, sha) != 0)
		moved(&r, full, before, sha);
	return fh_json(200, ref_json(&r, full, sha));
}

static int api_ref_delete(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (write_access(&r))
		return 0;
	const char *full = arena_printf(req->arena, "refs/%s", req_param(req, "ref"));
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	git_reference *cur = NULL;
	if (git_reference_lookup(&cur, g, full)) {
		git_repository_free(g);
		return fh_error(422, "Reference does not exist");
	}
	char before[41];
	git_oid_tostr(before, sizeof before, git_reference_target(cur));
	const char *prot = strncmp(full, "refs/heads/", 11) == 0 ? fh_protection_ref_refused(&r, full + 11, NULL, 0) : NULL;
	if (prot) {
		git_reference_free(cur);
		git_repository_free(g);
		return fh_error(422, prot);
	}
	/* A 204 only for a ref that is gone (issue 11: 204 while the ref stayed). */
	int drc = git_reference_delete(cur);
	git_reference_free(cur);
	if (drc == 0 && git_reference_lookup(&cur, g, full) == 0) {
		git_reference_free(cur);
		drc = -1;
	}
	git_repository_free(g);
	if (drc)
		return fh_error(422, "Reference cannot be deleted");
	moved(&r, full, before, zero_sha);
	return fh_no_content();
}

/* ---- commits and compare */

static int api_commit(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	char sha[41];
	if (fh_git_resolve(sha, g, req_param(req, "ref"))) {
		git_repository_free(g);
		return fh_error(422, arena_printf(req->arena, "No commit found for SHA: %s", req_param(req, "ref")));
	}
	struct json_object *o = fh_commit_json(g, &r, sha, 1);
	git_repository_free(g);
	return fh_json(200, o);
}

static int api_commits_list(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	char sha[41];
	const char *from = req_query(req, "sha");
	if (fh_git_resolve(sha, g, from ? from : r.default_branch)) {
		git_repository_free(g);
		if (!from)
			return fh_error(409, "Git Repository is empty.");
		return fh_not_found();
	}
	git_revwalk *w;
	git_revwalk_new(&w, g);
	git_revwalk_sorting(w, GIT_SORT_TIME | GIT_SORT_TOPOLOGICAL);
	git_oid oid;
	git_oid_fromstr(&oid, sha);
	git_revwalk_push(w, &oid);
	struct json_object *all = json_object_new_array();
	while (git_revwalk_next(&oid, w) == 0 && json_object_array_length(all) < 10000) {
		char s[41];
		git_oid_tostr(s, sizeof s, &oid);
		json_object_array_add(all, json_object_new_string(s));
	}
	git_revwalk_free(w);
	long long off, lim, n = (long long)json_object_array_length(all);
	fh_paginate(n, &off, &lim);
	struct json_object *page = json_object_new_array();
	for (long long i = off; i < n && i < off + lim; i++)
		json_object_array_add(page, fh_commit_short_json(g, &r, json_object_get_string(json_object_array_get_idx(all, (size_t)i))));
	json_object_put(all);
	git_repository_free(g);
	return fh_json(200, page);
}

static int api_compare(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	const char *bh = req_param(req, "basehead"), *dots = strstr(bh, "...");
	if (!dots)
		return fh_not_found();
	const char *base = arena_strndup(req->arena, bh, (size_t)(dots - bh)), *head = dots + 3;
	git_repository *g;
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	char bsha[41], hsha[41], mb[41];
	if (fh_git_resolve(bsha, g, base) || fh_git_resolve(hsha, g, head)) {
		git_repository_free(g);
		return fh_not_found();
	}
	if (fh_git_merge_base(mb, g, bsha, hsha)) {
		git_repository_free(g);
		return fh_error(404, arena_printf(req->arena, "No common ancestor between %s and %s.", base, head));
	}
	int ahead = fh_git_count(g, bsha, hsha), behind = fh_git_count(g, hsha, bsha);
	struct json_object *o = json_object_new_object();
	struct arena *a = req->arena;
	js(o, "url", arena_printf(a, "%s/repos/%s/%s/compare/%s", g_fh.api_url, r.owner, r.name, bh));
	js(o, "html_url", arena_printf(a, "%s/%s/%s/compare/%s", g_fh.web_url, r.owner, r.name, bh));
	js(o, "permalink_url", arena_printf(a, "%s/%s/%s/compare/%s...%s", g_fh.web_url, r.owner, r.name, bsha, hsha));
	js(o, "diff_url", arena_printf(a, "%s/%s/%s/compare/%s.diff", g_fh.web_url, r.owner, r.name, bh));
	js(o, "patch_url", arena_printf(a, "%s/%s/%s/compare/%s.patch", g_fh.web_url, r.owner, r.name, bh));
	jo(o, "base_commit", fh_commit_short_json(g, &r, bsha));
	jo(o, "merge_base_commit", fh_commit_short_json(g, &r, mb));
	js(o, "status", ahead == 0 && behind == 0 ? "identical" : behind == 0 ? "ahead" : ahead == 0 ? "behind" : "diverged");
	ji(o, "ahead_by", ahead);
	ji(o, "behind_by", behind);
	ji(o, "total_commits", ahead);
	/* commits: oldest first, as GitHub lists them. */
	struct json_object *commits = json_object_new_array();
	git_revwalk *w;
	git_revwalk_new(&w, g);
	git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	git_oid ho, bo, oid;
	git_oid_fromstr(&ho, hsha);
	git_oid_fromstr(&bo, bsha);
	git_revwalk_push(w, &ho);
	git_revwalk_hide(w, &bo);
	while (git_revwalk_next(&oid, w) == 0 && json_object_array_length(commits) < 250) {
		char s[41];
		git_oid_tostr(s, sizeof s, &oid);
		json_object_array_add(commits, fh_commit_short_json(g, &r, s));
	}
	git_revwalk_free(w);
	jo(o, "commits", commits);
	jo(o, "files", fh_diff_files(g, &r, mb, hsha, NULL, NULL));
	git_repository_free(g);
	return fh_json(200, o);
}

/* ---- statuses and check runs */

static struct json_object *status_json(PGresult *r, int i, const struct fh_repo *repo)
{
	struct json_object *o = json_object_new_object();
	long long id = fh_vall(r, i, "id");
	js(o, "url", arena_printf(C->req->arena, "%s/repos/%s/%s/statuses/%s", g_fh.api_url, repo->owner, repo->name,
				   fh_val(r, i, "sha")));
	ji(o, "id", id);
	js(o, "node_id", fh_node_id("StatusContext", id));
	js(o, "state", fh_val(r, i, "state"));
	js(o, "description", fh_val(r, i, "description"));
	js(o, "target_url", fh_val(r, i, "target_url"));
	js(o, "context", fh_val(r, i, "context"));
	jt(o, "created_at", fh_vall(r, i, "created_at"));
	jt(o, "updated_at", fh_vall(r, i, "created_at"));
	/* docs repos/create-commit-status: avatar_url and creator are always there (null without a creator). */
	if (fh_val(r, i, "creator_id")) {
		js(o, "avatar_url", arena_printf(C->req->arena, "%s/avatars/u/%s?v=4", g_fh.web_url, fh_val(r, i, "creator_id")));
		jo(o, "creator", fh_user_json_row(r, i, "creator_id", "creator_login", NULL));
	} else {
		js(o, "avatar_url", NULL);
		js(o, "creator", NULL);
	}
	return o;
}

int fh_status_create(const struct fh_repo *r, const char *sha, long long creator);
int fh_status_create(const struct fh_repo *r, const char *sha, long long creator)
{
	const char *state = fh_in("state");
	if (!state || (strcmp(state, "error") && strcmp(state, "failure") && strcmp(state, "pending") && strcmp(state, "success")))
		return fh_validation(NULL, "Status", "state", state ? "invalid" : "missing_field", NULL);
	git_repository *g;
	char full[41];
	if (fh_git_open(&g, r->path))
		return fh_error(500, "repository storage missing");
	int bad = fh_git_resolve(full, g, sha);
	git_repository_free(g);
	if (bad)
		return fh_validation(NULL, "Status", "sha", "invalid", arena_printf(C->req->arena, "No commit found for SHA: %s", sha));
	FH_STMT(st, "WITH s AS (INSERT INTO statuses (repo_id, sha, state, context, description, target_url, creator_id, "
		    "created_at) VALUES ($1, $2, $3, COALESCE($4, 'default'), $5, $6, $7, $8) RETURNING *) "
		    "SELECT s.*, a.login AS creator_login FROM s LEFT JOIN accounts a ON a.id = s.creator_id");
	const char *ctx = fh_in("context");
	PGresult *x = Q(st, fh_ll(r->id), full, state, ctx, fh_in("description"), fh_in("target_url"),
			creator ? fh_ll(creator) : NULL, fh_ll(C->now));
	if (!x)
		return -1;
	struct json_object *o = status_json(x, 0, r);
	PQclear(x);
	return fh_json(201, o);
}

static int api_status_create(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (write_access(&r))
		return 0;
	return fh_status_create(&r, req_param(req, "sha"), C->v.id);
}

static int statuses_of(PGresult **out, struct fh_repo *r, char sha[41])
{
	git_repository *g;
	if (fh_git_open(&g, r->path))
		return fh_error(500, "repository storage missing"), -1;
	int bad = fh_git_resolve(sha, g, req_param(C->req, "ref"));
	git_repository_free(g);
	if (bad)
		return fh_error(422, arena_printf(C->req->arena, "No commit found for SHA: %s", req_param(C->req, "ref"))), -1;
	FH_STMT(st, "SELECT s.*, a.login AS creator_login FROM statuses s LEFT JOIN accounts a ON a.id = s.creator_id "
		    "WHERE s.repo_id = $1 AND s.sha = $2 ORDER BY s.id DESC");
	*out = Q(st, fh_ll(r->id), sha);
	return *out ? 0 : -1;
}

static int api_statuses(struct request *req, struct response *resp)
{
	struct fh_repo r;
	char sha[41];
	PGresult *x;
	if (fh_repo_from_params(&r) || statuses_of(&x, &r, sha))
		return 0;
	long long off, lim, n = PQntuples(x);
	fh_paginate(n, &off, &lim);
	struct json_object *arr = json_object_new_array();
	for (long long i = off; i < n && i < off + lim; i++)
		json_object_array_add(arr, status_json(x, (int)i, &r));
	PQclear(x);
	return fh_json(200, arr);
}

static int api_combined_status(struct request *req, struct response *resp)
{
	struct fh_repo r;
	char sha[41];
	PGresult *x;
	if (fh_repo_from_params(&r) || statuses_of(&x, &r, sha))
		return 0;
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	int any_fail = 0, any_pending = 0, n = 0;
	for (int i = 0; i < PQntuples(x); i++) {
		/* The latest status per context counts. */
		int seen = 0;
		for (int j = 0; j < i; j++)
			if (strcmp(fh_val(x, j, "context"), fh_val(x, i, "context")) == 0)
				seen = 1;
		if (seen)
			continue;
		const char *st = fh_val(x, i, "state");
		any_fail |= strcmp(st, "failure") == 0 || strcmp(st, "error") == 0;
		any_pending |= strcmp(st, "pending") == 0;
		json_object_array_add(arr, status_json(x, i, &r));
		n++;
	}
	PQclear(x);
	js(o, "state", any_fail ? "failure" : (any_pending || n == 0) ? "pending" : "success");
	jo(o, "statuses", arr);
	js(o, "sha", sha);
	ji(o, "total_count", n);
	jo(o, "repository", fh_repo_json(&r));
	js(o, "commit_url", arena_printf(req->arena, "%s/repos/%s/%s/commits/%s", g_fh.api_url, r.owner, r.name, sha));
	js(o, "url", arena_printf(req->arena, "%s/repos/%s/%s/commits/%s/status", g_fh.api_url, r.owner, r.name, sha));
	return fh_json(200, o);
}

static int api_check_runs(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	git_repository *g;
	char sha[41];
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	int bad = fh_git_resolve(sha, g, req_param(req, "ref"));
	git_repository_free(g);
	if (bad)
		return fh_error(422, arena_printf(req->arena, "No commit found for SHA: %s", req_param(req, "ref")));
	FH_STMT(st, "SELECT * FROM check_runs WHERE repo_id = $1 AND head_sha = $2 ORDER BY id DESC");
	PGresult *x = Q(st, fh_ll(r.id), sha);
	if (!x)
		return -1;
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(x); i++) {
		struct json_object *c = json_object_new_object(), *out = json_object_new_object(),
				   *suite = json_object_new_object(), *app = json_object_new_object();
		long long id = fh_vall(x, i, "id");
		ji(c, "id", id);
		js(c, "head_sha", sha);
		js(c, "node_id", fh_node_id("CheckRun", id));
		js(c, "external_id", "");
		js(c, "url", arena_printf(req->arena, "%s/repos/%s/%s/check-runs/%lld", g_fh.api_url, r.owner, r.name, id));
		js(c, "html_url", arena_printf(req->arena, "%s/%s/%s/runs/%lld", g_fh.web_url, r.owner, r.name, id));
		js(c, "details_url", fh_val(x, i, "details_url"));
		js(c, "status", fh_val(x, i, "status"));
		js(c, "conclusion", fh_val(x, i, "conclusion"));
		jt(c, "started_at", fh_vall(x, i, "started_at"));
		jt(c, "completed_at", fh_vall(x, i, "completed_at"));
		js(out, "title", NULL);
		js(out, "summary", NULL);
		js(out, "text", NULL);
		ji(out, "annotations_count", 0);
		jo(c, "output", out);
		js(c, "name", fh_val(x, i, "name"));
		ji(suite, "id", id);
		jo(c, "check_suite", suite);
		ji(app, "id", 1);
		js(app, "slug", "fakehub-ci");
		js(app, "name", "fakehub CI");
		jo(c, "app", app);
		jo(c, "pull_requests", json_object_new_array());
		json_object_array_add(arr, c);
	}
	ji(o, "total_count", PQntuples(x));
	jo(o, "check_runs", arr);
	PQclear(x);
	return fh_json(200, o);
}

/* ---- collaborators and invitations */

static struct json_object *invitation_json(PGresult *x, int i, const struct fh_repo *r)
{
	struct json_object *o = json_object_new_object();
	long long id = fh_vall(x, i, "id");
	ji(o, "id", id);
	js(o, "node_id", fh_node_id("RepositoryInvitation", id));
	jo(o, "repository", fh_repo_json(r));
	jo(o, "invitee", fh_user_json_row(x, i, "invitee_id", "invitee_login", NULL));
	jo(o, "inviter", fh_user_json_row(x, i, "inviter_id", "inviter_login", NULL));
	const char *p = fh_val(x, i, "permission");
	js(o, "permissions", strcmp(p, "push") == 0 ? "write" : strcmp(p, "pull") == 0 ? "read" : p);
	jt(o, "created_at", fh_vall(x, i, "created_at"));
	jb(o, "expired", fh_invitation_expired(fh_vall(x, i, "created_at")));
	js(o, "url", arena_printf(C->req->arena, "%s/user/repository_invitations/%lld", g_fh.api_url, id));
	js(o, "html_url", arena_printf(C->req->arena, "%s/%s/%s/invitations", g_fh.web_url, r->owner, r->name));
	return o;
}

struct json_object *fh_invitation_json(PGresult *x, int i, const struct fh_repo *r)
{
	return invitation_json(x, i, r);
}

static int api_collaborator_check(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	/* Any access counts: owner, organisation owner or base permission, a team, a direct grant. */
	FH_STMT(st, "SELECT 1 FROM accounts a WHERE lower(a.login) = lower($3) AND fh_repo_access($1, a.id) > 0 "
		    "AND $2::bigint IS NOT NULL");
	PGresult *x = Q(st, fh_ll(r.id), fh_ll(r.owner_id), req_param(req, "username"));
	if (!x)
		return -1;
	int yes = PQntuples(x) > 0;
	PQclear(x);
	return yes ? fh_no_content() : fh_not_found();
}

static int api_collaborator_put(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	if (!r.can_admin)
		return fh_error(403, "Must have admin rights to Repository.");
	PGresult *u;
	if (fh_account_by_login(&u, req_param(req, "username")))
		return fh_not_found();
	long long uid = fh_vall(u, 0, "id");
	PQclear(u);
	const char *perm = fh_in("permission");
	if (!perm)
		perm = "push";
	if (strcmp(perm, "pull") && strcmp(perm, "push") && strcmp(perm, "admin") && strcmp(perm, "maintain") &&
	    strcmp(perm, "triage"))
		return fh_validation(NULL, "Repository", "permission", "invalid", NULL);
	perm = fh_collab_permission(&r, perm); /* a personal account's repository: write, whatever was asked */
	/* GitHub answers 422 (docs repos/add-collaborator: "validation failed") for the owner themselves. */
	if (uid == r.owner_id)
		return fh_validation(NULL, "Repository", NULL, "custom", "Repository owner cannot be a collaborator");
	FH_STMT(is, "SELECT 1 FROM collaborators WHERE repo_id = $1 AND user_id = $2 UNION "
		    "SELECT 1 FROM memberships WHERE org_id = $3 AND user_id = $2");
	PGresult *x = Q(is, fh_ll(r.id), fh_ll(uid), fh_ll(r.owner_id));
	if (!x)
		return -1;
	int already = PQntuples(x) > 0;
	PQclear(x);
	if (already && fh_base_refuses(r.owner_id, uid, perm))
		return 0; /* orgs.c: below the organisation's base permission (422) */
	if (already) {
		/* A collaborator's permission changes; an organisation member becomes a direct collaborator
		 * without an invitation (docs repos/add-collaborator: 204 "when an existing collaborator or
		 * organization member is added"). */
		FH_STMT(upd, "INSERT INTO collaborators (repo_id, user_id, permission) VALUES ($1, $2, $3) "
			     "ON CONFLICT (repo_id, user_id) DO UPDATE SET permission = EXCLUDED.permission");
		x = Q(upd, fh_ll(r.id), fh_ll(uid), perm);
		if (x)
			PQclear(x);
		return fh_no_content();
	}
	/* invites.c: a pending invitation is updated, an expired one replaced; past the 50-a-day limit, 422. */
	int rc = fh_invite_create(&x, &r, uid, perm);
	if (rc)
		return rc > 0 ? 0 : -1;
	struct json_object *o = invitation_json(x, 0, &r);
	PQclear(x);
	return fh_json(201, o);
}

static int api_collaborator_delete(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	if (!r.can_admin)
		return fh_error(403, "Must have admin rights to Repository.");
	FH_STMT(st, "DELETE FROM collaborators WHERE repo_id = $1 AND user_id = (SELECT id FROM accounts WHERE lower(login) = lower($2))");
	FH_STMT(inv, "DELETE FROM invitations WHERE repo_id = $1 AND invitee_id = (SELECT id FROM accounts WHERE lower(login) = lower($2))");
	PGresult *x = Q(st, fh_ll(r.id), req_param(req, "username"));
	if (x)
		PQclear(x);
	x = Q(inv, fh_ll(r.id), req_param(req, "username"));
	if (x)
		PQclear(x);
	return fh_no_content();
}

FH_STMT(inv_list, "SELECT i.*, e.login AS invitee_login, r.login AS inviter_login, a.login AS owner_login, p.name AS repo_name "
		  "FROM invitations i JOIN accounts e ON e.id = i.invitee_id JOIN accounts r ON r.id = i.inviter_id "
		  "JOIN repos p ON p.id = i.repo_id JOIN accounts a ON a.id = p.owner_id "
		  "WHERE ($1::bigint IS NULL OR i.repo_id = $1) AND ($2::bigint IS NULL OR i.invitee_id = $2) ORDER BY i.id");

static int invitations_answer(PGresult *x)
{
	long long off, lim, n = PQntuples(x);
	fh_paginate(n, &off, &lim);
	struct json_object *arr = json_object_new_array();
	for (long long i = off; i < n && i < off + lim; i++) {
		struct fh_repo r;
		/* Invitees cannot see a private repository yet: load it as its owner would. */
		struct fh_viewer saved = C->v;
		C->v.id = 0;
		C->v.token_prefix = NULL;
		int rc = fh_repo_load(&r, fh_val(x, (int)i, "owner_login"), fh_val(x, (int)i, "repo_name"));
		C->v = saved;
		if (rc == 0 || rc == ERR_NOTFOUND)
			json_object_array_add(arr, invitation_json(x, (int)i, &r));
	}
	PQclear(x);
	return fh_json(200, arr);
}

static int api_repo_invitations(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	if (!r.can_admin)
		return fh_error(403, "Must have admin rights to Repository.");
	PGresult *x = Q(inv_list, fh_ll(r.id), NULL);
	return x ? invitations_answer(x) : -1;
}

static int api_user_invitations(struct request *req, struct response *resp)
{
	if (need_user())
		return 0;
	PGresult *x = Q(inv_list, NULL, fh_ll(C->v.id));
	return x ? invitations_answer(x) : -1;
}

static int api_user_invitation_accept(struct request *req, struct response *resp)
{
	if (need_user())
		return 0;
	/* An expired invitation cannot be accepted (invites.c; GitHub's status for it is a guess: README.md). */
	FH_STMT(st, "WITH i AS (DELETE FROM invitations WHERE id = $1 AND invitee_id = $2 AND created_at > $3 RETURNING *) "
		    "INSERT INTO collaborators (repo_id, user_id, permission) SELECT repo_id, invitee_id, permission FROM i "
		    "ON CONFLICT (repo_id, user_id) DO UPDATE SET permission = EXCLUDED.permission RETURNING repo_id");
	PGresult *x = Q(st, req_param(req, "id"), fh_ll(C->v.id), fh_ll(C->now - fh_invitation_ttl()));
	if (!x)
		return -1;
	int n = PQntuples(x);
	PQclear(x);
	return n ? fh_no_content() : fh_not_found();
}

static int api_user_invitation_decline(struct request *req, struct response *resp)
{
	if (need_user())
		return 0;
	FH_STMT(st, "DELETE FROM invitations WHERE id = $1 AND invitee_id = $2 RETURNING id");
	PGresult *x = Q(st, req_param(req, "id"), fh_ll(C->v.id));
	if (!x)
		return -1;
	int n = PQntuples(x);
	PQclear(x);
	return n ? fh_no_content() : fh_not_found();
}

int api_collaborators_list(struct request *, struct response *); /* orgs.c */
int api_org_patch(struct request *, struct response *);
int api_pulls_list(struct request *, struct response *);
int api_pulls_create(struct request *, struct response *);
int api_pull_get(struct request *, struct response *);
int api_pull_patch(struct request *, struct response *);
int api_pull_files(struct request *, struct response *);
int api_pull_commits(struct request *, struct response *);
int api_pull_merge(struct request *, struct response *);
int api_pull_merged(struct request *, struct response *);
int api_hooks_list(struct request *, struct response *);
int api_hooks_create(struct request *, struct response *);
int api_hook_get(struct request *, struct response *);
int api_hook_delete(struct request *, struct response *);
int api_hook_ping(struct request *, struct response *);
int api_hook_deliveries(struct request *, struct response *);

#define RP "/repos/{owner}/{repo}"
#define FH_ROUTE_CLIENT_AUTH (1u << 8)
#define FH_ROUTE_NOCOUNT (1u << 9)

const struct route fh_api_routes[] = {
	ROUTE("GET", "/", api_root, 0),
	ROUTE("GET", "/user", api_user, 0),
	ROUTE("GET", "/user/emails", api_user_emails, 0),
	ROUTE("GET", "/user/orgs", api_user_orgs, 0),
	ROUTE("GET", "/user/repos", api_user_repos, 0),
	ROUTE("POST", "/user/repos", api_user_repos_create, 0),
	ROUTE("GET", "/user/repository_invitations", api_user_invitations, 0),
	ROUTE("PATCH", "/user/repository_invitations/{id}", api_user_invitation_accept, 0),
	ROUTE("DELETE", "/user/repository_invitations/{id}", api_user_invitation_decline, 0),
	ROUTE("GET", "/users/{username}", api_users_one, 0),
	ROUTE("GET", "/users/{username}/repos", api_owner_repos, 0),
	ROUTE("GET", "/orgs/{org}", api_org, 0),
	ROUTE("PATCH", "/orgs/{org}", api_org_patch, 0),
	ROUTE("GET", "/orgs/{org}/repos", api_owner_repos, 0),
	ROUTE("POST", "/orgs/{org}/repos", api_org_repos_create, 0),
	ROUTE("GET", "/rate_limit", api_rate_limit, FH_ROUTE_NOCOUNT),
	ROUTE("DELETE", "/applications/{client_id}/grant", oauth_grant_delete, FH_ROUTE_CLIENT_AUTH),
	ROUTE("DELETE", "/applications/{client_id}/token", oauth_grant_delete, FH_ROUTE_CLIENT_AUTH),
	ROUTE("GET", RP, api_repo_get, 0),
	ROUTE("PATCH", RP, api_repo_patch, 0),
	ROUTE("DELETE", RP, api_repo_delete, 0),
	ROUTE("GET", RP "/branches", api_branches, 0),
	ROUTE("GET", RP "/branches/{branch*}", api_branch, 0),
	ROUTE("PUT", RP "/branches/{branch*}", api_branch_protection, 0),
	ROUTE("DELETE", RP "/branches/{branch*}", api_branch_protection, 0),
	ROUTE("GET", RP "/git/ref/{ref*}", api_ref_get, 0),
	ROUTE("GET", RP "/git/refs", api_refs_all, 0),
	ROUTE("POST", RP "/git/refs", api_ref_create, 0),
	ROUTE("GET", RP "/git/refs/{ref*}", api_refs_get, 0),
	ROUTE("PATCH", RP "/git/refs/{ref*}", api_ref_update, 0),
	ROUTE("DELETE", RP "/git/refs/{ref*}", api_ref_delete, 0),
	ROUTE("GET", RP "/git/matching-refs/{ref*}", api_matching_refs, 0),
	ROUTE("GET", RP "/commits", api_commits_list, 0),
	ROUTE("GET", RP "/commits/{ref}/status", api_combined_status, 0),
	ROUTE("GET", RP "/commits/{ref}/statuses", api_statuses, 0),
	ROUTE("GET", RP "/commits/{ref}/check-runs", api_check_runs, 0),
	ROUTE("GET", RP "/commits/{ref*}", api_commit, 0),
	ROUTE("POST", RP "/statuses/{sha}", api_status_create, 0),
	ROUTE("GET", RP "/compare/{basehead*}", api_compare, 0),
	ROUTE("GET", RP "/pulls", api_pulls_list, 0),
	ROUTE("POST", RP "/pulls", api_pulls_create, 0),
	ROUTE("GET", RP "/pulls/{number}", api_pull_get, 0),
	ROUTE("PATCH", RP "/pulls/{number}", api_pull_patch, 0),
	ROUTE("GET", RP "/pulls/{number}/files", api_pull_files, 0),
	ROUTE("GET", RP "/pulls/{number}/commits", api_pull_commits, 0),
	ROUTE("GET", RP "/pulls/{number}/merge", api_pull_merged, 0),
	ROUTE("PUT", RP "/pulls/{number}/merge", api_pull_merge, 0),
	ROUTE("GET", RP "/collaborators", api_collaborators_list, 0),
	ROUTE("GET", RP "/collaborators/{username}", api_collaborator_check, 0),
	ROUTE("PUT", RP "/collaborators/{username}", api_collaborator_put, 0),
	ROUTE("DELETE", RP "/collaborators/{username}", api_collaborator_delete, 0),
	ROUTE("GET", RP "/invitations", api_repo_invitations, 0),
	ROUTE("PATCH", RP "/invitations/{invitation_id}", api_repo_invitation_patch, 0),
	ROUTE("DELETE", RP "/invitations/{invitation_id}", api_repo_invitation_delete, 0),
	ROUTE("GET", RP "/collaborators/{username}/permission", api_collaborator_permission, 0),
	ROUTE("GET", RP "/hooks", api_hooks_list, 0),
	ROUTE("POST", RP "/hooks", api_hooks_create, 0),
	ROUTE("GET", RP "/hooks/{id}", api_hook_get, 0),
	ROUTE("PATCH", RP "/hooks/{id}", api_hook_patch, 0),
	ROUTE("DELETE", RP "/hooks/{id}", api_hook_delete, 0),
	ROUTE("POST", RP "/hooks/{id}/pings", api_hook_ping, 0),
	ROUTE("GET", RP "/hooks/{id}/deliveries", api_hook_deliveries, 0),
};
const size_t fh_api_nroutes = sizeof fh_api_routes / sizeof fh_api_routes[0];
