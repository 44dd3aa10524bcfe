/* invites.c: fakehub's repository invitations past create and list: expiry after 7 days on the emulator's clock,
 * the limit of 50 invitations per repository per 24 hours, PATCH and DELETE of a repository invitation, and a
 * collaborator's permission (docs "REST API endpoints for repository invitations", "… for collaborators"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fakehub/fakehub.h"

/* docs "Inviting collaborators to a personal repository": pending invitations expire after 7 days. */
#define INVITE_TTL (7 * 86400LL)
/* docs "Add a repository collaborator", Rate limits. */
#define INVITE_LIMIT 50
#define INVITE_WINDOW 86400LL

int fh_invitation_expired(long long created_at)
{
	return created_at + INVITE_TTL <= C->now;
}

long long fh_invitation_ttl(void)
{
	return INVITE_TTL;
}

/* The "permission" a PUT asks for is "Only valid on organization-owned repositories" (docs "Add a repository
 * collaborator"): a personal account's collaborators get write ("push") whatever was asked. */
const char *fh_collab_permission(const struct fh_repo *r, const char *asked)
{
	return r->owner_type && strcmp(r->owner_type, "User") == 0 ? "push" : asked;
}

FH_STMT(inv_row, "SELECT i.*, e.login AS invitee_login, r.login AS inviter_login FROM invitations i "
		 "JOIN accounts e ON e.id = i.invitee_id JOIN accounts r ON r.id = i.inviter_id WHERE i.id = $1");

/* A new invitation of uid to r with perm, or the pending one updated to perm; *out is its row (as inv_row).
 * An expired invitation is replaced by a new one (a new id and created_at), which counts against the limit.
 * Past the limit this answers GitHub's 422 and returns 1 (nothing changed); -1 on a database failure. GitHub's words for that refusal
 * are not in its docs: the message below is the docs' own sentence (tests/fakehub/README.md). */
int fh_invite_create(PGresult **out, const struct fh_repo *r, long long uid, const char *perm)
{
	FH_STMT(pend, "SELECT id, created_at FROM invitations WHERE repo_id = $1 AND invitee_id = $2");
	FH_STMT(upd, "UPDATE invitations SET permission = $2 WHERE id = $1");
	FH_STMT(del, "DELETE FROM invitations WHERE id = $1");
	FH_STMT(count, "SELECT count(*) AS n FROM invitations_sent WHERE repo_id = $1 AND created_at > $2");
	FH_STMT(ins, "INSERT INTO invitations (repo_id, invitee_id, inviter_id, permission, created_at) "
		     "VALUES ($1, $2, $3, $4, $5) RETURNING id");
	FH_STMT(sent, "INSERT INTO invitations_sent (repo_id, invitee_id, created_at) VALUES ($1, $2, $3)");
	*out = NULL;
	PGresult *x = Q(pend, fh_ll(r->id), fh_ll(uid));
	if (!x)
		return -1;
	long long id = PQntuples(x) ? fh_vall(x, 0, "id") : 0;
	int expired = id && fh_invitation_expired(fh_vall(x, 0, "created_at"));
	PQclear(x);
	if (id && !expired) {
		x = Q(upd, fh_ll(id), perm);
		if (!x)
			return -1;
		PQclear(x);
		*out = Q(inv_row, fh_ll(id));
		return *out ? 0 : -1;
	}
	x = Q(count, fh_ll(r->id), fh_ll(C->now - INVITE_WINDOW));
	if (!x)
		return -1;
	long long n = fh_vall(x, 0, "n");
	PQclear(x);
	if (n >= INVITE_LIMIT) {
		fh_validation(NULL, "Repository", NULL, "custom",
			      "You are limited to sending 50 invitations to a repository per 24 hour period.");
		return 1;
	}
	if (expired && (x = Q(del, fh_ll(id))))
		PQclear(x);
	x = Q(ins, fh_ll(r->id), fh_ll(uid), fh_ll(C->v.id), perm, fh_ll(C->now));
	if (!x)
		return -1;
	id = fh_vall(x, 0, "id");
	PQclear(x);
	if ((x = Q(sent, fh_ll(r->id), fh_ll(uid), fh_ll(C->now))))
		PQclear(x);
	*out = Q(inv_row, fh_ll(id));
	return *out ? 0 : -1;
}

struct json_object *fh_invitation_json(PGresult *x, int i, const struct fh_repo *r);

/* PATCH /repos/{owner}/{repo}/invitations/{invitation_id} {permissions: read|write|maintain|triage|admin}
 * (docs "Update a repository invitation") → 200 the invitation | 404 | 403 | 422. */
int api_repo_invitation_patch(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	if (!r.can_admin)
		return fh_error(403, "Must have admin rights to Repository.");
	const char *p = fh_in("permissions");
	static const char *const names[][2] = { { "read", "pull" }, { "write", "push" }, { "maintain", "maintain" },
						 { "triage", "triage" }, { "admin", "admin" } };
	const char *perm = NULL;
	for (size_t k = 0; p && k < sizeof names / sizeof names[0]; k++)
		if (strcmp(p, names[k][0]) == 0)
			perm = names[k][1];
	if (!perm)
		return fh_validation(NULL, "RepositoryInvitation", "permissions", "invalid", NULL);
	perm = fh_collab_permission(&r, perm);
	FH_STMT(upd, "UPDATE invitations SET permission = $3 WHERE id = $1 AND repo_id = $2 RETURNING id");
	PGresult *x = Q(upd, req_param(req, "invitation_id"), fh_ll(r.id), perm);
	if (!x)
		return -1;
	int n = PQntuples(x);
	PQclear(x);
	if (!n)
		return fh_not_found();
	if (!(x = Q(inv_row, req_param(req, "invitation_id"))))
		return -1;
	struct json_object *o = PQntuples(x) ? fh_invitation_json(x, 0, &r) : NULL;
	PQclear(x);
	return o ? fh_json(200, o) : fh_not_found();
}

/* DELETE /repos/{owner}/{repo}/invitations/{invitation_id} (docs "Delete a repository invitation") → 204 | 404 |
 * 403. An expired invitation can be deleted too. */
int api_repo_invitation_delete(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	if (!r.can_admin)
		return fh_error(403, "Must have admin rights to Repository.");
	FH_STMT(del, "DELETE FROM invitations WHERE id = $1 AND repo_id = $2 RETURNING id");
	PGresult *x = Q(del, req_param(req, "invitation_id"), fh_ll(r.id));
	if (!x)
		return -1;
	int n = PQntuples(x);
	PQclear(x);
	return n ? fh_no_content() : fh_not_found();
}

/* GET /repos/{owner}/{repo}/collaborators/{username}/permission (docs "Get repository permissions for a user")
 * → 200 {permission, role_name, user} | 404 (no such user, or the repository is not visible). permission is
 * the legacy name (maintain → write, triage → read); role_name the role. A pending invitation gives nothing. */
int api_collaborator_permission(struct request *req, struct response *resp)
{
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	PGresult *u;
	if (fh_account_by_login(&u, req_param(req, "username")))
		return fh_not_found();
	long long uid = fh_vall(u, 0, "id");
	const char *login = arena_strdup(req->arena, fh_val(u, 0, "login"));
	PQclear(u);
	/* As fh_repo_load: the highest of owner, organisation owner, base permission, teams and a direct grant
	 * (010_org_access.sql). */
	FH_STMT(st, "SELECT fh_repo_access($1, $2) AS level");
	PGresult *x = Q(st, fh_ll(r.id), fh_ll(uid));
	if (!x)
		return -1;
	static const char *const by_level[] = { NULL, "pull", "triage", "push", "maintain", "admin" };
	long long level = fh_vall(x, 0, "level");
	const char *role = level >= 1 && level <= 5 ? by_level[level] : !r.private_ ? "pull" : NULL;
	PQclear(x);
	const char *role_name = !role ? "none" : strcmp(role, "push") == 0 ? "write" : strcmp(role, "pull") == 0 ? "read" : role;
	const char *legacy = !role ? "none" : strcmp(role, "admin") == 0 ? "admin"
			     : strcmp(role, "maintain") == 0 || strcmp(role, "push") == 0 ? "write" : "read";
	int admin = role && strcmp(role, "admin") == 0, maintain = admin || (role && strcmp(role, "maintain") == 0),
	    push = maintain || (role && strcmp(role, "push") == 0), triage = push || (role && strcmp(role, "triage") == 0);
	struct json_object *o = json_object_new_object(), *user = fh_user_json(uid, login, "User"),
			   *perms = json_object_new_object();
	jb(perms, "admin", admin);
	jb(perms, "maintain", maintain);
	jb(perms, "push", push);
	jb(perms, "triage", triage);
	jb(perms, "pull", role != NULL);
	jo(user, "permissions", perms);
	js(user, "role_name", role_name);
	js(o, "permission", legacy);
	js(o, "role_name", role_name);
	jo(o, "user", user);
	return fh_json(200, o);
}
