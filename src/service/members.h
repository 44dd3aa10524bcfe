/* service/members.h: project members and roles, and their access on the linked GitHub repository. No HTTP. */
#ifndef GHB_SERVICE_MEMBERS_H
#define GHB_SERVICE_MEMBERS_H

#include "store/members.h"

/* Roles, least first: each can do what the ones below it can (README "Members and roles"). */
enum member_role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_DEVELOPER, ROLE_MAINTAINER, ROLE_OWNER };
/* "viewer".."owner" → ROLE_*; ROLE_NONE for anything else. */
int members_role_parse(const char *s);
/* ROLE_* → "viewer".."owner" ("" for ROLE_NONE). */
const char *members_role_name(int role);

/* user_id's role on project_id (ROLE_*), *role = ROLE_NONE and ERR_NOTFOUND when user_id is no active member. */
int members_role_of(int *role, struct db *db, long long project_id, long long user_id, struct err *e);
int members_list(struct member **rows, int *n, struct db *db, long long project_id, struct err *e);
/* key: a GitHub login or a GitHub user id (a login first: store_member_get). ERR_NOTFOUND. */
int members_get(struct member *out, struct db *db, long long project_id, const char *key, struct err *e);

/* Invites GitHub user login (GitHub's login rules: 1 to 39 letters, digits and single hyphens, not at
 * either end) as role. The membership is bound to GitHub's user id, which the job member_lookup learns
 * (GET /users/{login}, docs "Get a user"): request handlers make no GitHub calls. It is active at once
 * when that GitHub user has signed in here already, else when they first sign in (017_members.sql's
 * users trigger matches by GitHub id). *id = the member row, *job_id = the lookup job.
 * ERR_INVALID (field login or role), ERR_CONFLICT (field login) when already a member or invited. */
int members_invite(long long *id, long long *job_id, struct db *db, long long project_id, const char *login,
		   const char *role, long long invited_by, struct err *e);
/* ERR_INVALID (field role); ERR_CONFLICT when the project would have no owner left; ERR_NOTFOUND.
 * The member's GitHub access follows (a member_github job) when the project is connected. */
int members_set_role(struct db *db, long long project_id, const char *key, const char *role, struct err *e);
/* ERR_CONFLICT for the last owner; ERR_NOTFOUND. Their GitHub access is removed (a member_github job) only
 * when ghbridge gave it. */
int members_remove(struct db *db, long long project_id, const char *key, struct err *e);
/* from_user hands the project to the member key (who must have signed in): they become owner and the
 * account whose GitHub connection the project uses; from_user stays as maintainer. ERR_INVALID (not signed
 * in yet, or from_user themself), ERR_NOTFOUND. */
int members_transfer(struct db *db, long long project_id, long long from_user, const char *key, struct err *e);
/* Queues member_github for every member (after connecting, or for projects that had members before);
 * *n = jobs queued. And a drift check (member_drift) of the project's repository: *job_id. */
int members_sync_all(int *n, struct db *db, long long project_id, struct err *e);
/* Asks GitHub again for one member's access (after a failure): a member_github job. ERR_NOTFOUND; ERR_CONFLICT
 * when the project is not connected or GitHub has not named the member yet. */
int members_retry(struct db *db, long long project_id, const char *key, struct err *e);
int members_check_drift(long long *job_id, struct db *db, long long project_id, struct err *e);
/* The repository permission role gets (collaborator_permissions), or NULL when that role is not invited. */
const char *members_permission_for(const char *role);

struct job_ctx;
struct job;
/* Jobs (jobs/kinds.c): member_lookup {member_id}; member_github {member_id} or {action:"remove", login,
 * invitation_id[, unaccounted: someone no member accounts for]}, each GitHub call logged (service/drift.h
 * members_op_note); member_drift (the project's collaborators and invitations against its members: defined in
 * service/drift.c, described in service/drift.h). */
int members_job_lookup(struct job_ctx *ctx, const struct job *job);
int members_job_github(struct job_ctx *ctx, const struct job *job);
int members_job_drift(struct job_ctx *ctx, const struct job *job);
/* GitHub shows m's invitation inv (a repository-invitation object: id, created_at) expired: the first time the
 * member is marked expired and re-invited once (a member_github job, in one transaction); after a re-invitation
 * expired too, only marked until the owner retries. Used by the drift check (service/drift.c). */
struct json_object;
int members_invitation_expired(struct db *db, const struct member *m, struct json_object *inv, struct err *e);

#endif
