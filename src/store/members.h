/* store/members.h: SQL for project members (017_members.sql) and what GitHub showed at the drift check. */
#ifndef GHB_STORE_MEMBERS_H
#define GHB_STORE_MEMBERS_H

#include "store/db.h"

struct member {
	long long id, project_id, user_id, github_user_id, invited_by, gh_invitation_id;  /* 0: none/unknown */
	char *login, *role, *state, *lookup_error, *created_at;
	char *gh_state, *gh_permission, *gh_error, *gh_updated_at;
	int gh_added, gh_attempts;
	int gh_put_pending;             /* a PUT that may make an invitation was marked and not answered yet */
	char *gh_expired_at;            /* "YYYY-MM-DD HH:MI" UTC when the last invitation expired, or NULL */
	int gh_reinvites;               /* re-invitations after an expiry */
	char *gh_deferred_until;        /* "YYYY-MM-DD HH:MI" UTC: past GitHub's 50-a-day limit until then, or NULL */
	long long gh_deferred_epoch;    /* the same in epoch seconds, 0 when none */
	int gh_put_direct;              /* 026: a direct grant before the marked PUT: 1 yes, 0 no, -1 not looked */
	int no_github_user;             /* 026: the lookup found no such GitHub user (404): never active */
	long long login_confirmed_age;  /* 027: seconds since GitHub last said login names github_user_id; -1 never */
};
void store_member_free(struct member *m);
void store_members_free(struct member *rows, int n);

/* The role ("viewer".."owner") of user_id's active membership of project_id in role (caller's buffer of
 * 16). ERR_NOTFOUND when user_id is no active member (or there is no such project). */
int store_member_role(char role[16], struct db *db, long long project_id, long long user_id, struct err *e);
/* Owners first, then by login. */
int store_members_list(struct member **rows, int *n, struct db *db, long long project_id, struct err *e);
/* The member named by key: a GitHub login (any case) or a GitHub user id (all digits). A login wins: GitHub
 * logins may be all digits, and the panel's forms send logins, so "12" is the member whose login is 12 before
 * the one whose GitHub id is 12 (else a login made equal to someone's id turned each action on its member onto
 * that other member). ERR_NOTFOUND. */
int store_member_get(struct member *out, struct db *db, long long project_id, const char *key, struct err *e);
int store_member_get_id(struct member *out, struct db *db, long long member_id, struct err *e);
/* A new invitation by login (github_user_id unknown until the lookup job). ERR_CONFLICT when the project
 * has a member or a pending invitation with that login. */
int store_member_invite(long long *id, struct db *db, long long project_id, const char *login, const char *role,
			long long invited_by, struct err *e);
/* The lookup's answer: GitHub's id and login for the invitation member_id. When that GitHub user has
 * signed in here already, the membership is active at once. ERR_CONFLICT when the project has another
 * member with that GitHub id (the row is left for the caller to remove). */
int store_member_resolved(struct db *db, long long member_id, long long github_user_id, const char *login,
			  struct err *e);
int store_member_lookup_failed(struct db *db, long long member_id, const char *why, struct err *e);
/* The lookup's 404 (docs "Get a user"): GitHub has no such user; why in lookup_error, no_github_user set. */
int store_member_no_github_user(struct db *db, long long member_id, const char *why, struct err *e);
/* ERR_CONFLICT when it would leave the project without an active owner (the SQL trigger refuses it, under a
 * lock on the project row: see 017_members.sql); ERR_NOTFOUND when there is no such member. */
int store_member_set_role(struct db *db, long long project_id, long long member_id, const char *role,
			  struct err *e);
int store_member_delete(struct db *db, long long project_id, long long member_id, struct err *e);
/* In one transaction: to_member (active) becomes owner and the project's GitHub account (projects.owner_id),
 * from_user's membership becomes maintainer. ERR_INVALID when to_member is not active, ERR_NOTFOUND. */
int store_member_transfer(struct db *db, long long project_id, long long from_user, long long to_member,
			  struct err *e);
/* The member's GitHub access as last asked and answered. NULL strings are written as NULL; invitation_id 0
 * as NULL; added < 0 keeps gh_added; attempt adds 1 to gh_attempts. */
int store_member_set_gh(struct db *db, long long member_id, const char *gh_state, const char *permission,
			long long invitation_id, int added, const char *error, int attempt, struct err *e);

struct member_drift {
	char *login, *kind, *detail, *checked_at;
	long long github_user_id;
	long long invitation_id;   /* a pending invitation's id (invitation_not_member), else 0 */
	int removable;             /* a direct collaborator or an invitation: DELETE can take it away */
	char *github_role;         /* read/triage/write/maintain/admin as GitHub named the access; NULL */
	int removing;              /* members are authoritative: a removal is queued */
};
/* Replaces the project's drift rows with rows (n may be 0: no drift). */
int store_drift_replace(struct db *db, long long project_id, const struct member_drift *rows, int n,
			struct err *e);
int store_drift_list(struct member_drift **rows, int *n, struct db *db, long long project_id, struct err *e);
void store_drifts_free(struct member_drift *rows, int n);

/* ---- invitations followed (019_member_invitations.sql) */
/* Marks (on) that a PUT …/collaborators/{u}, which may make an invitation, is about to go out, or clears it. The
 * mark is committed before the PUT: a job that finds it set asks GitHub before sending another. */
int store_member_put_mark(struct db *db, long long member_id, int on, struct err *e);
/* The mark, with whether the user had a direct grant on the repository before this PUT (026_member_grants.sql:
 * GET …/collaborators?affiliation=direct), committed before the PUT: a 204 then tells ghbridge's own grant from
 * one that was there before, and a re-run after a lost worker reads the look instead of repeating it. */
int store_member_put_mark_direct(struct db *db, long long member_id, int had_direct, struct err *e);
/* GitHub made (or showed) the pending invitation invitation_id with permission, created at created_at (GitHub's
 * ISO 8601 time, or NULL): state invited, added by ghbridge, the PUT mark and any deferral cleared. gh_error says
 * "The invitation expired on …, invited again." after an expiry. */
int store_member_invited(struct db *db, long long member_id, const char *permission, long long invitation_id,
			 const char *created_at, struct err *e);
/* The pending invitation expired at expired_at (epoch seconds): state expired, gh_error says whether it is being
 * sent again (reinviting: gh_reinvites counts it now, with the decision, so a retry that replaces the queued job
 * cannot make a second automatic one) or not. *changed = 0 when the member was marked expired already, or when
 * the invitation the member now holds is newer than the expired one (created_at, epoch seconds, GitHub's
 * created_at of the invitation found expired): nothing written. */
int store_member_expired(int *changed, struct db *db, long long member_id, long long expired_at, int reinviting,
			 long long created_at, struct err *e);
/* A member_github job is queued: gh_state queued, except that a pending (invited) or expired invitation keeps its
 * state and id, which the job needs (PATCH or replace it). */
int store_member_gh_queued(struct db *db, long long member_id, struct err *e);
/* Past GitHub's 50-invitations-a-day limit: state deferred until (epoch seconds), why in gh_error. */
int store_member_deferred(struct db *db, long long member_id, long long until, const char *why, struct err *e);

/* ---- fewer calls per sync (027_member_calls.sql) */
/* GitHub said just now (GET /users/{login}) that login names github_user_id: login_confirmed_at = now, unless
 * the row's login or GitHub id changed meanwhile (then nothing is written). */
int store_member_login_confirmed(struct db *db, long long member_id, const char *login, long long github_user_id,
				 struct err *e);
/* From the project's kept listing of direct collaborators of repo ("owner/name"), read less than max_age seconds
 * ago and not before not_before (epoch seconds): *had 1 when github_user_id is among them, 0 when not, -1 when
 * there is no such listing. */
int store_direct_grant_has(int *had, struct db *db, long long project_id, const char *repo, long long github_user_id,
			   int max_age, long long not_before, struct err *e);
/* Keeps the listing: ids a PostgreSQL array literal of GitHub user ids ("{1,2}"), fetched_at epoch seconds (when
 * the reading began). Replaces any earlier one. */
int store_direct_grants_put(struct db *db, long long project_id, const char *repo, long long fetched_at,
			    const char *ids, struct err *e);
/* A PUT answered 204: github_user_id has a direct grant now; added to the kept listing of repo if there is one. */
int store_direct_grant_add(struct db *db, long long project_id, const char *repo, long long github_user_id,
			   struct err *e);
/* A collaborator was removed: the kept listing goes (the next job reads GitHub's). */
int store_direct_grants_forget(struct db *db, long long project_id, struct err *e);

#endif
