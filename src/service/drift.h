/* service/drift.h: the drift check of a project's GitHub collaborators against its members (periodic, conditional),
 * "members are authoritative", "Remove from GitHub", and the log of collaborator calls with retry. No HTTP. */
#ifndef GHB_SERVICE_DRIFT_H
#define GHB_SERVICE_DRIFT_H

#include "store/drift.h"
#include "store/members.h"

struct job_ctx;
struct job;
struct gh_resp;

/* member_drift_seconds (0: no periodic check). */
long members_drift_interval(void);
/* The worker's periodic sweep: queues a member_drift job (coalescing with a queued one) for each connected
 * project whose check is due; a project the sweep has not seen before gets its first check within one interval.
 * *queued = jobs queued. Does nothing when member_drift_seconds is 0. */
int members_drift_sweep(int *queued, struct db *db, struct err *e);

/* The member_drift job: GET /repos/{o}/{r}/collaborators?affiliation=all and /invitations with the ETags of the
 * last answers (docs "Best practices for using the REST API": conditional requests; a 304 does not count against
 * the rate limit), and ?affiliation=direct for an organisation's repository when the first listing changed.
 * Findings (member_drift, replaced whole):
 * - not_member: a direct collaborator no member accounts for (not the repository's owner, not the project's own
 *   account); access that comes only from the organisation (owners, base permission, teams) is the
 *   organisation's business and no finding;
 * - invitation_not_member: a pending invitation no member accounts for;
 * - permission: a member with less access than their role asks for, or a pending invitation for another
 *   permission. More access than the role asks for is no finding on an organisation's repository: it may come
 *   from the base permission or a team, which counts as access, and GitHub's answer cannot tell (docs "List
 *   repository collaborators": role_name is the highest role from all sources). Names are compared as levels:
 *   read = pull, write = push;
 * - missing: a member whose role gets access but who has neither access nor an invitation.
 * With "members are authoritative" on, each not_member and invitation_not_member is removed by a member_github
 * job (logged in member_ops); never the repository's owner or the project's account. */
int members_job_drift(struct job_ctx *ctx, const struct job *job);

/* Records one collaborator call of a job in the log (member_ops): g is GitHub's answer, or NULL when there was
 * none (no_answer says why); out is the job outcome the call led to (JOB_DONE for a call that did what it
 * should). A failure to write is logged, never returned. */
void members_op_note(struct job_ctx *ctx, const struct job *job, long long project_id, const char *login,
		     const char *action, const char *request, const struct gh_resp *g, const char *no_answer, int out);

/* Newest first (at most 100); failed_only: only the failed ones. */
int members_ops_list(struct member_op **rows, int *n, struct db *db, long long project_id, int failed_only,
		     struct err *e);
/* Asks GitHub again for one failed call (its job again). ERR_NOTFOUND, ERR_CONFLICT (not failed). */
int members_op_retry(long long *job_id, struct db *db, long long project_id, long long op_id, struct err *e);
/* The same for every failed call of the project; *n = calls asked again. */
int members_ops_retry_failed(int *n, struct db *db, long long project_id, struct err *e);

/* Turns "members are authoritative" on (confirmed must be set: ERR_INVALID field confirm otherwise) or off,
 * with an audit row. ERR_NOTFOUND. */
int members_set_authoritative(struct db *db, long long project_id, int on, int confirmed, struct err *e);
int members_authoritative(int *on, struct db *db, long long project_id, struct err *e);

/* "Remove from GitHub" for a finding of the last check: the direct collaborator or invitation login no member
 * accounts for (a member_github remove job). ERR_NOTFOUND when the last check found no such removable
 * collaborator or invitation; ERR_CONFLICT when login is a member now. */
int members_drift_remove(long long *job_id, struct db *db, long long project_id, const char *login, struct err *e);

#endif
