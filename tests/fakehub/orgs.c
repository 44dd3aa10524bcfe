/* orgs.c: organisation base permission, teams with repository access, and the collaborator listing that counts them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fakehub/fakehub.h"

int api_collaborators_list(struct request *req, struct response *resp);
int api_org_patch(struct request *req, struct response *resp);
void fh_org_private_fields(struct json_object *o, long long org_id);
int api_org(struct request *req, struct response *resp); /* api.c */
int fh_base_refuses(long long org_id, long long user_id, const char *perm);
int ad_team_create(struct request *req, struct response *resp);
int ad_team_member_put(struct request *req, struct response *resp);
int ad_team_repo_put(struct request *req, struct response *resp);

static const char *const level_role[] = { "", "read", "triage", "write", "maintain", "admin" };

/* The viewer's role in org_id: "admin" (an owner), "member", or NULL. */
static const char *org_role(long long org_id)
{
	if (!C->v.id)
		return NULL;
	FH_STMT(st, "SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2");
	PGresult *r = Q(st, fh_ll(org_id), fh_ll(C->v.id));
	const char *role = r && PQntuples(r) ? arena_strdup(C->req->arena, fh_val(r, 0, "role")) : NULL;
	if (r)
		PQclear(r);
	return role;
}

/* docs orgs/get: the organisation's members see its settings, default_repository_permission among them. */
void fh_org_private_fields(struct json_object *o, long long org_id)
{
	if (!org_role(org_id))
		return;
	FH_STMT(st, "SELECT default_repository_permission FROM accounts WHERE id = $1");
	PGresult *r = Q(st, fh_ll(org_id));
	if (r && PQntuples(r))
		js(o, "default_repository_permission", fh_val(r, 0, "default_repository_permission"));
	if (r)
		PQclear(r);
	jb(o, "members_can_create_repositories", 1);
}

/* docs repos/add-collaborator: "the permission being given must be equal to or higher than the org base
 * permission. Otherwise, the request will fail with: Cannot assign {member} permission of {role name}". For an
 * organisation member (not an owner) of org_id given perm below the base permission: answers 422 and returns 1. */
int fh_base_refuses(long long org_id, long long user_id, const char *perm)
{
	FH_STMT(st, "SELECT a.login, o.default_repository_permission AS base, fh_perm_level(o.default_repository_permission) "
		    "> fh_perm_level($3) AS below FROM memberships m JOIN accounts o ON o.id = m.org_id JOIN accounts a "
		    "ON a.id = m.user_id WHERE m.org_id = $1 AND m.user_id = $2 AND m.role = 'member'");
	PGresult *r = Q(st, fh_ll(org_id), fh_ll(user_id), perm);
	if (!r || !PQntuples(r) || !fh_vbool(r, 0, "below")) {
		if (r)
			PQclear(r);
		return 0;
	}
	const char *msg = arena_printf(C->req->arena, "Cannot assign %s permission of %s", fh_val(r, 0, "login"), perm);
	PQclear(r);
	fh_validation(msg, "Repository", "permission", "custom", msg);
	return 1;
}

/* PATCH /orgs/{org} (docs orgs/update): owners only (a member: 403; anyone else: 404, as GitHub hides it).
 * default_repository_permission: read, write, admin or none, else 422. Answers the organisation as GET does. */
int api_org_patch(struct request *req, struct response *resp)
{
	if (!C->v.id)
		return fh_error(401, "Requires authentication");
	PGresult *r;
	if (fh_account_by_login(&r, req_param(req, "org")))
		return fh_not_found();
	long long id = strcmp(fh_val(r, 0, "type"), "Organization") == 0 ? fh_vall(r, 0, "id") : 0;
	PQclear(r);
	if (!id)
		return fh_not_found();
	const char *role = org_role(id);
	if (!role)
		return fh_not_found();
	if (strcmp(role, "admin") != 0)
		return fh_error(403, "You must be an organization owner to change its settings.");
	const char *p = fh_in("default_repository_permission");
	if (p) {
		if (strcmp(p, "read") && strcmp(p, "write") && strcmp(p, "admin") && strcmp(p, "none"))
			return fh_validation(NULL, "Organization", "default_repository_permission", "invalid", NULL);
		FH_STMT(up, "UPDATE accounts SET default_repository_permission = $2 WHERE id = $1");
		PGresult *u = Q(up, fh_ll(id), p);
		if (!u)
			return -1;
		PQclear(u);
	}
	return api_org(req, resp);
}

/* GET /repos/{o}/{r}/collaborators (docs collaborators/list-collaborators): affiliation all (the default:
 * for an organisation's repository also its owners, and members with access through the base permission
 * or a team), direct (direct collaborators, members of the organisation or not), outside (direct
 * collaborators who are not members). Each with its highest access: permissions (the booleans of that
 * role) and role_name read/triage/write/maintain/admin. Push access needed, as on GitHub. */
int api_collaborators_list(struct request *req, struct response *resp)
{
	(void)resp;
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	if (!r.can_push)
		return fh_error(403, "Must have push access to view repository collaborators.");
	const char *aff = req_query(req, "affiliation");
	int which = !aff || strcmp(aff, "all") == 0 ? 0 : strcmp(aff, "direct") == 0 ? 1 : strcmp(aff, "outside") == 0 ? 2 : -1;
	if (which < 0)
		return fh_validation(NULL, "Repository", "affiliation", "invalid", NULL);
	int org = strcmp(r.owner_type, "Organization") == 0;
	FH_STMT(st, "SELECT a.id, a.login, fh_repo_access($1, a.id) AS level, "
		    "EXISTS (SELECT 1 FROM collaborators c WHERE c.repo_id = $1 AND c.user_id = a.id) AS direct, "
		    "EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = $2 AND m.user_id = a.id) AS member "
		    "FROM accounts a WHERE a.type = 'User' AND (a.id = $2 "
		    "OR a.id IN (SELECT user_id FROM collaborators WHERE repo_id = $1) "
		    "OR a.id IN (SELECT user_id FROM memberships WHERE org_id = $2) "
		    "OR a.id IN (SELECT tm.user_id FROM team_members tm JOIN team_repos tr ON tr.team_id = tm.team_id "
		    "WHERE tr.repo_id = $1)) ORDER BY lower(a.login)");
	PGresult *x = Q(st, fh_ll(r.id), fh_ll(r.owner_id));
	if (!x)
		return -1;
	/* The rows this affiliation keeps, then the page of them. */
	int n = PQntuples(x), *keep = calloc((size_t)n + 1, sizeof *keep), kept = 0;
	if (!keep)
		abort();
	for (int i = 0; i < n; i++) {
		long long level = fh_vall(x, i, "level");
		int direct = fh_vbool(x, i, "direct"), member = fh_vbool(x, i, "member");
		if (level <= 0 || (which == 1 && !direct) || (which == 2 && (!direct || (org && member))))
			continue;
		keep[kept++] = i;
	}
	long long off, lim;
	fh_paginate(kept, &off, &lim);
	struct json_object *arr = json_object_new_array();
	for (long long k = off; k < kept && k < off + lim; k++) {
		int i = keep[k];
		long long level = fh_vall(x, i, "level");
		struct json_object *u = fh_user_json(fh_vall(x, i, "id"), fh_val(x, i, "login"), "User"),
				   *p = json_object_new_object();
		jb(p, "admin", level >= 5);
		jb(p, "maintain", level >= 4);
		jb(p, "push", level >= 3);
		jb(p, "triage", level >= 2);
		jb(p, "pull", level >= 1);
		jo(u, "permissions", p);
		js(u, "role_name", level_role[level > 5 ? 5 : level]);
		json_object_array_add(arr, u);
	}
	free(keep);
	PQclear(x);
	return fh_json(200, arr);
}

/* ---- the admin API: teams (GitHub makes them in the organisation's settings; tests make them here) */

static long long org_id_of(const char *login)
{
	PGresult *r;
	if (fh_account_by_login(&r, login))
		return 0;
	long long id = strcmp(fh_val(r, 0, "type"), "Organization") == 0 ? fh_vall(r, 0, "id") : 0;
	PQclear(r);
	return id;
}

/* POST /_fakehub/orgs/{org}/teams {name} → 201 {id, name, slug} (slug: the name lower-cased, other than
 * letters and digits as '-') | 404 | 409 (the slug is taken) | 422 (no name). */
int ad_team_create(struct request *req, struct response *resp)
{
	(void)resp;
	long long org = org_id_of(req_param(req, "org"));
	const char *name = fh_in("name");
	if (!org)
		return fh_not_found();
	if (!name || !*name || strlen(name) > 100)
		return fh_error(422, "name is required (at most 100 characters)");
	char *slug = arena_strdup(req->arena, name);
	for (char *s = slug; *s; s++)
		*s = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')) ? *s : '-';
	FH_STMT(st, "INSERT INTO teams (org_id, name, slug, created_at) VALUES ($1, $2, $3, $4) "
		    "ON CONFLICT (org_id, slug) DO NOTHING RETURNING id");
	PGresult *r = Q(st, fh_ll(org), name, slug, fh_ll(C->now));
	if (!r)
		return -1;
	if (!PQntuples(r)) {
		PQclear(r);
		return fh_error(409, "a team with that slug exists");
	}
	struct json_object *o = json_object_new_object();
	ji(o, "id", fh_vall(r, 0, "id"));
	js(o, "name", name);
	js(o, "slug", slug);
	PQclear(r);
	return fh_json(201, o);
}

/* PUT /_fakehub/orgs/{org}/teams/{slug}/members/{user} → 204 | 404 (no such team, or the user is not a
 * member of the organisation: GitHub's teams hold members only). DELETE takes them off. */
int ad_team_member_put(struct request *req, struct response *resp)
{
	(void)resp;
	long long org = org_id_of(req_param(req, "org"));
	int del = strcmp(req->method, "DELETE") == 0;
	FH_STMT(put, "INSERT INTO team_members (team_id, user_id) SELECT t.id, a.id FROM teams t, accounts a "
		     "WHERE t.org_id = $1 AND t.slug = $2 AND lower(a.login) = lower($3) "
		     "AND EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = $1 AND m.user_id = a.id) "
		     "ON CONFLICT (team_id, user_id) DO UPDATE SET user_id = EXCLUDED.user_id RETURNING team_id");
	FH_STMT(rm, "DELETE FROM team_members WHERE team_id = (SELECT id FROM teams WHERE org_id = $1 AND slug = $2) "
		    "AND user_id = (SELECT id FROM accounts WHERE lower(login) = lower($3)) RETURNING team_id");
	PGresult *r = del ? Q(rm, fh_ll(org), req_param(req, "slug"), req_param(req, "user"))
			  : Q(put, fh_ll(org), req_param(req, "slug"), req_param(req, "user"));
	if (!r)
		return -1;
	int n = PQntuples(r);
	PQclear(r);
	return n ? fh_no_content() : fh_not_found();
}

/* PUT /_fakehub/orgs/{org}/teams/{slug}/repos/{repo} {permission: pull|triage|push|maintain|admin} → 204
 * (GitHub: "Add or update team repository permissions") | 404 | 422. DELETE takes the repository away. */
int ad_team_repo_put(struct request *req, struct response *resp)
{
	(void)resp;
	long long org = org_id_of(req_param(req, "org"));
	int del = strcmp(req->method, "DELETE") == 0;
	const char *perm = fh_in("permission");
	if (!perm)
		perm = "push";
	if (!del && strcmp(perm, "pull") && strcmp(perm, "triage") && strcmp(perm, "push") && strcmp(perm, "maintain") &&
	    strcmp(perm, "admin"))
		return fh_error(422, "permission is pull, triage, push, maintain or admin");
	FH_STMT(put, "INSERT INTO team_repos (team_id, repo_id, permission) SELECT t.id, r.id, $4 FROM teams t, repos r "
		     "WHERE t.org_id = $1 AND t.slug = $2 AND r.owner_id = $1 AND lower(r.name) = lower($3) "
		     "ON CONFLICT (team_id, repo_id) DO UPDATE SET permission = EXCLUDED.permission RETURNING team_id");
	FH_STMT(rm, "DELETE FROM team_repos WHERE team_id = (SELECT id FROM teams WHERE org_id = $1 AND slug = $2) "
		    "AND repo_id = (SELECT id FROM repos WHERE owner_id = $1 AND lower(name) = lower($3)) RETURNING team_id");
	PGresult *r = del ? Q(rm, fh_ll(org), req_param(req, "slug"), req_param(req, "repo"))
			  : Q(put, fh_ll(org), req_param(req, "slug"), req_param(req, "repo"), perm);
	if (!r)
		return -1;
	int n = PQntuples(r);
	PQclear(r);
	return n ? fh_no_content() : fh_not_found();
}
