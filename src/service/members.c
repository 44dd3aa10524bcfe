/* service/members.c: project members and roles (list, invite, role, remove, transfer) and the jobs that keep
 * GitHub's collaborators in step with them. No HTTP. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <json-c/json.h>
#include "core/cfg.h"
#include "core/log.h"
#include "github/gh.h"
#include "jobs/jobs.h"
#include "service/auth.h"
#include "service/drift.h"
#include "service/ghrepos.h"
#include "service/members.h"
#include "service/ops.h"
#include "store/projects.h"

#define OWN_ACCOUNT "The project's own GitHub account: its access comes with the repository."

static const char *const role_names[] = { "", "viewer", "developer", "maintainer", "owner" };

int members_role_parse(const char *s)
{
	for (int i = ROLE_VIEWER; s && i <= ROLE_OWNER; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return ROLE_NONE;
}

const char *members_role_name(int role)
{
	return role >= ROLE_VIEWER && role <= ROLE_OWNER ? role_names[role] : "";
}

int members_role_of(int *role, struct db *db, long long project_id, long long user_id, struct err *e)
{
	char r[16];
	*role = ROLE_NONE;
	int rc = store_member_role(r, db, project_id, user_id, e);
	if (rc == 0)
		*role = members_role_parse(r);
	return rc;
}

int members_list(struct member **rows, int *n, struct db *db, long long project_id, struct err *e)
{
	return store_members_list(rows, n, db, project_id, e);
}

int members_get(struct member *out, struct db *db, long long project_id, const char *key, struct err *e)
{
	if (!key || !*key || strlen(key) > 39)
		return err_set(e, ERR_NOTFOUND, "There is no such member.");
	return store_member_get(out, db, project_id, key, e);
}

/* GitHub's username rules (the sign-up form): letters, digits, single hyphens, not first or last, at most 39. */
static int login_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 39 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isascii((unsigned char)s[i]) && isalnum((unsigned char)s[i])) &&
		    !(s[i] == '-' && s[i + 1] != '-'))
			return 0;
	return 1;
}

const char *members_permission_for(const char *role)
{
	static char buf[32];
	const char *conf = cfg_str(CFG_COLLABORATOR_PERMISSIONS);
	size_t rl = strlen(role);
	for (const char *p = conf; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = p + strcspn(p, " ,");
		if ((size_t)(end - p) > rl + 1 && strncmp(p, role, rl) == 0 && p[rl] == ':') {
			snprintf(buf, sizeof buf, "%.*s", (int)(end - p - (ptrdiff_t)rl - 1), p + rl + 1);
			if (strcmp(buf, "pull") == 0 || strcmp(buf, "triage") == 0 || strcmp(buf, "push") == 0 ||
			    strcmp(buf, "maintain") == 0 || strcmp(buf, "admin") == 0)
				return buf;
			return NULL;
		}
		p = end;
	}
	return NULL;
}

static int enqueue(long long *job_id, struct db *db, const char *kind, long long project_id, const char *payload,
		   const char *dedup, struct err *e)
{
	long long id = 0;
	int coalesced = 0;
	struct jobs_enqueue_opts o = { .project_id = project_id, .payload = payload, .dedup_key = dedup, .priority = 60 };
	int rc = jobs_enqueue(&id, &coalesced, db, kind, &o, e);
	if (rc == 0 && job_id)
		*job_id = id;
	return rc;
}

/* Queues member_github for one member and sets its gh_state 'queued', when the project is connected. Both in one
 * transaction (unless the caller has one open): a worker woken by the new job could otherwise finish it before
 * the mark was written, and the mark then hid the job's answer behind 'queued' for good. sync_all: the epoch second
 * of "sync all members" for its jobs (they may share a listing read after it: direct_look), else 0. */
static int queue_github(struct db *db, const struct project *p, long long member_id, long long sync_all, struct err *e)
{
	if (!p->repo_owner)
		return 0;
	char payload[96], dedup[64];
	if (sync_all > 0)
		snprintf(payload, sizeof payload, "{\"member_id\":%lld,\"sync_all\":%lld}", member_id, sync_all);
	else
		snprintf(payload, sizeof payload, "{\"member_id\":%lld}", member_id);
	snprintf(dedup, sizeof dedup, "member_github:%lld", member_id);
	int own = !db_in_tx(db);
	int rc = own ? db_begin(db, e) : 0;
	if (rc)
		return rc;
	rc = store_member_gh_queued(db, member_id, e);
	if (rc == 0)
		rc = enqueue(NULL, db, "member_github", p->id, payload, dedup, e);
	if (own) {
		if (rc)
			db_rollback(db);
		else
			rc = db_commit(db, e);
	}
	return rc;
}

int members_invite(long long *id, long long *job_id, struct db *db, long long project_id, const char *login,
		   const char *role, long long invited_by, struct err *e)
{
	if (!login || !login_ok(login))
		return err_set_field(e, ERR_INVALID, "login", "A GitHub login is 1 to 39 letters, digits or single hyphens, "
				     "not starting or ending with a hyphen.");
	if (members_role_parse(role) == ROLE_NONE)
		return err_set_field(e, ERR_INVALID, "role", "The role is one of viewer, developer, maintainer or owner.");
	char details[256], payload[64];
	int rc = db_begin(db, e);
	if (rc == 0)
		rc = store_member_invite(id, db, project_id, login, role, invited_by, e);
	if (rc == 0) {
		snprintf(payload, sizeof payload, "{\"member_id\":%lld}", *id);
		rc = enqueue(job_id, db, "member_lookup", project_id, payload, NULL, e);
	}
	snprintf(details, sizeof details, "{\"login\":\"%s\",\"role\":\"%s\"}", login, role); /* both checked */
	return ops_audit_commit(db, rc, "member.invited", "member", login, project_id, details, e);
}

/* Maps the last-owner trigger's refusal at commit (017_members.sql: it is checked then). */
static int owner_kept(struct db *db, int rc, struct err *e)
{
	if (rc && strcmp(db_last_sqlstate(db), "GB014") == 0)
		return err_set(e, ERR_CONFLICT, "A project keeps at least one owner: make another member an owner first.");
	return rc;
}

int members_set_role(struct db *db, long long project_id, const char *key, const char *role, struct err *e)
{
	if (members_role_parse(role) == ROLE_NONE)
		return err_set_field(e, ERR_INVALID, "role", "The role is one of viewer, developer, maintainer or owner.");
	struct member m;
	struct project p = { 0 };
	int rc = members_get(&m, db, project_id, key, e);
	if (rc)
		return rc;
	char details[256];
	snprintf(details, sizeof details, "{\"login\":\"%s\",\"role\":{\"old\":\"%s\",\"new\":\"%s\"}}", m.login, m.role, role);
	rc = db_begin(db, e);
	if (rc == 0)
		rc = store_member_set_role(db, project_id, m.id, role, e);
	rc = owner_kept(db, ops_audit_commit(db, rc, "member.role_changed", "member", m.login, project_id, details, e), e);
	if (rc == 0 && m.github_user_id && store_project_get(&p, db, project_id, 0, e) == 0) {
		if (queue_github(db, &p, m.id, 0, e))
			log_msg(LOG_WARN, "member %lld: the GitHub update was not queued: %s", m.id, e->msg);
		err_clear(e);
	}
	store_project_free(&p);
	store_member_free(&m);
	return rc;
}

int members_remove(struct db *db, long long project_id, const char *key, struct err *e)
{
	struct member m;
	struct project p = { 0 };
	int rc = members_get(&m, db, project_id, key, e);
	if (rc)
		return rc;
	char details[256];
	snprintf(details, sizeof details, "{\"login\":\"%s\",\"role\":\"%s\"}", m.login, m.role);
	rc = db_begin(db, e);
	if (rc == 0)
		rc = store_member_delete(db, project_id, m.id, e);
	/* GitHub access goes only when ghbridge gave it (gh_added): the job is queued in the same transaction. */
	if (rc == 0 && m.gh_added && (rc = store_project_get(&p, db, project_id, 0, e)) == 0 && p.repo_owner) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "action", json_object_new_string("remove"));
		json_object_object_add(o, "login", json_object_new_string(m.login));
		json_object_object_add(o, "invitation_id", json_object_new_int64(m.gh_invitation_id));
		json_object_object_add(o, "github_user_id", json_object_new_int64(m.github_user_id));
		rc = enqueue(NULL, db, "member_github", project_id, json_object_to_json_string(o), NULL, e);
		json_object_put(o);
	}
	rc = owner_kept(db, ops_audit_commit(db, rc, "member.removed", "member", m.login, project_id, details, e), e);
	store_project_free(&p);
	store_member_free(&m);
	return rc;
}

int members_transfer(struct db *db, long long project_id, long long from_user, const char *key, struct err *e)
{
	struct member m;
	int rc = members_get(&m, db, project_id, key, e);
	if (rc)
		return err_set_field(e, ERR_NOTFOUND, "member", "There is no such member.");
	if (m.user_id && m.user_id == from_user) {
		store_member_free(&m);
		return err_set_field(e, ERR_INVALID, "member", "You own this project already: name another member.");
	}
	char details[128];
	snprintf(details, sizeof details, "{\"to\":\"%s\"}", m.login);
	rc = db_begin(db, e);
	if (rc == 0)
		rc = store_member_transfer(db, project_id, from_user, m.id, e);
	rc = owner_kept(db, ops_audit_commit(db, rc, "member.ownership_transferred", "member", m.login, project_id,
					     details, e), e);
	store_member_free(&m);
	return rc;
}

int members_sync_all(int *n, struct db *db, long long project_id, struct err *e)
{
	struct project p;
	struct member *rows = NULL;
	int k = 0;
	*n = 0;
	int rc = store_project_get(&p, db, project_id, 0, e);
	if (rc)
		return rc;
	if (!p.repo_owner) {
		rc = err_set(e, ERR_CONFLICT, "Connect the project to a GitHub repository first.");
		goto cleanup;
	}
	if ((rc = store_members_list(&rows, &k, db, project_id, e)))
		goto cleanup;
	long long clicked = (long long)time(NULL);
	for (int i = 0; i < k && rc == 0; i++) {
		if (rows[i].user_id && rows[i].user_id == p.owner_id) /* no job, no GitHub call: see members_job_github */
			rc = store_member_set_gh(db, rows[i].id, "skipped", NULL, 0, -1, OWN_ACCOUNT, 0, e);
		else if (rows[i].github_user_id && (rc = queue_github(db, &p, rows[i].id, clicked, e)) == 0)
			(*n)++;
	}
cleanup:
	store_members_free(rows, k);
	store_project_free(&p);
	return rc;
}

int members_retry(struct db *db, long long project_id, const char *key, struct err *e)
{
	struct member m;
	struct project p;
	int rc = members_get(&m, db, project_id, key, e);
	if (rc)
		return rc;
	if ((rc = store_project_get(&p, db, project_id, 0, e)) == 0) {
		if (!p.repo_owner)
			rc = err_set(e, ERR_CONFLICT, "Connect the project to a GitHub repository first.");
		else if (m.no_github_user)
			rc = err_set(e, ERR_CONFLICT, "There is no GitHub user named %s: remove this invitation.", m.login);
		else if (!m.github_user_id)
			rc = err_set(e, ERR_CONFLICT, "GitHub has not said who %s is yet.", m.login);
		else
			rc = queue_github(db, &p, m.id, 0, e);
		store_project_free(&p);
	}
	store_member_free(&m);
	return rc;
}

int members_check_drift(long long *job_id, struct db *db, long long project_id, struct err *e)
{
	char dedup[64];
	snprintf(dedup, sizeof dedup, "member_drift:%lld", project_id);
	return enqueue(job_id, db, "member_drift", project_id, "{}", dedup, e);
}

/* ---- jobs */

static long long payload_ll(const struct job *job, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(job->payload, key, &v) ? json_object_get_int64(v) : 0;
}

static const char *payload_s(const struct job *job, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(job->payload, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

/* A GitHub answer that is not what was hoped for: wait (rate limit), retry (no answer, 5xx) or give up. */
static int gh_outcome(struct job_ctx *ctx, const struct gh_resp *g, const char *what)
{
	char m[256];
	long until;
	if (gh_is_rate_limited(g, &until))
		return job_wait(ctx, (double)until + 1, "%s: GitHub's rate limit", what);
	if (g->status == 0 || g->status >= 500)
		return job_retry(ctx, "%s: %s", what, gh_error_message(g, m, sizeof m));
	return job_permanent(ctx, "%s: %s", what, gh_error_message(g, m, sizeof m));
}

/* GET /users/{login} (docs "Get a user"): binds the invitation to GitHub's user id. */
int members_job_lookup(struct job_ctx *ctx, const struct job *job)
{
	struct err e = { 0 };
	struct member m;
	struct project p = { 0 };
	char *token = NULL, path[96], m2[256];
	int refreshed = 0, out = JOB_DONE;
	if (store_member_get_id(&m, ctx->db, payload_ll(job, "member_id"), &e))
		return e.code == ERR_NOTFOUND ? JOB_DONE : job_retry(ctx, "%s", e.msg); /* removed meanwhile */
	if (m.github_user_id)
		goto cleanup; /* done by an earlier claim */
	if (store_project_get(&p, ctx->db, m.project_id, 0, &e)) {
		out = e.code == ERR_NOTFOUND ? JOB_DONE : job_retry(ctx, "%s", e.msg);
		goto cleanup;
	}
	if (auth_github_token(&token, ctx->db, p.owner_id, &e)) {
		store_member_lookup_failed(ctx->db, m.id, "The project owner's GitHub connection needs reconnecting.", &e);
		out = job_permanent(ctx, "token: %s", e.msg);
		goto cleanup;
	}
	snprintf(path, sizeof path, "/users/%s", m.login); /* login_ok: letters, digits, hyphens */
	struct gh_resp g;
	if (ghrepos_call(&g, &token, &refreshed, ctx->db, p.owner_id, "GET", path, NULL, &e)) {
		gh_resp_free(&g);
		out = job_retry(ctx, "GET %s: %s", path, e.msg);
		goto cleanup;
	}
	struct json_object *id = NULL, *login = NULL, *type = NULL;
	if (g.status == 404) {
		snprintf(m2, sizeof m2, "GitHub has no user %s.", m.login);
		store_member_no_github_user(ctx->db, m.id, m2, &e);
	} else if (g.status != 200 || !json_object_object_get_ex(g.json, "id", &id) ||
		   !json_object_object_get_ex(g.json, "login", &login) || json_object_get_int64(id) <= 0 ||
		   !json_object_is_type(login, json_type_string) || !login_ok(json_object_get_string(login))) {
		out = gh_outcome(ctx, &g, path);
		if (out == JOB_PERMANENT) {
			snprintf(m2, sizeof m2, "GitHub did not say who %s is (%s).", m.login, gh_error_message(&g, path, sizeof path));
			store_member_lookup_failed(ctx->db, m.id, m2, &e);
		}
	} else if (json_object_object_get_ex(g.json, "type", &type) && strcmp(json_object_get_string(type), "User") != 0) {
		snprintf(m2, sizeof m2, "%s is a GitHub %s, not a person.", m.login, json_object_get_string(type));
		store_member_lookup_failed(ctx->db, m.id, m2, &e);
	} else if (store_member_resolved(ctx->db, m.id, json_object_get_int64(id), json_object_get_string(login), &e)) {
		if (e.code == ERR_CONFLICT) {
			store_member_lookup_failed(ctx->db, m.id, e.msg, &e);
		} else
			out = job_retry(ctx, "%s", e.msg);
	} else if (queue_github(ctx->db, &p, m.id, 0, &e))
		out = job_retry(ctx, "queueing the GitHub invitation: %s", e.msg);
	gh_resp_free(&g);
cleanup:
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	store_project_free(&p);
	store_member_free(&m);
	return out;
}

/* owner.type of the project's repository: 1 for a personal account's ("User"), 0 an organisation's, -1 unknown. */
static int repo_is_personal(struct gh_resp *g)
{
	struct json_object *ow, *t;
	if (g->status != 200 || !json_object_object_get_ex(g->json, "owner", &ow) ||
	    !json_object_object_get_ex(ow, "type", &t))
		return -1;
	return strcmp(json_object_get_string(t), "User") == 0;
}

/* ---- invitations followed: update, expiry, the daily limit, and a PUT that may have gone out already */

/* docs "Inviting collaborators to a personal repository": pending invitations expire after 7 days. */
#define INVITE_TTL (7 * 86400LL)
/* What an invitation_* step returns when the job goes on to the PUT; anything else is the job's outcome. */
#define INVITE_GO_ON (-100)

struct gh_ctx {
	struct job_ctx *ctx;
	const struct project *p;
	const struct member *m;
	char **token;
	int *refreshed;
	const char *perm;   /* the permission asked for: pull, triage, push, maintain or admin */
	const struct job *job; /* for the log of collaborator calls (members_op_note) */
};

/* A request's permission name as an invitation names it (docs "Update a repository invitation": read, write,
 * maintain, triage, admin). */
static const char *invite_perm_name(const char *perm)
{
	return strcmp(perm, "pull") == 0 ? "read" : strcmp(perm, "push") == 0 ? "write" : perm;
}

static long long iso_epoch(const char *s)
{
	struct tm tm = { 0 };
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return 0;
	return (long long)timegm(&tm);
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
												     : NULL;
}

/* The permission a repository-invitation object from GitHub grants, in the request's names (pull, triage, push,
 * maintain, admin), or asked when the answer names none GitHub documents. GitHub answers read/triage/write/
 * maintain/admin ("Add a repository collaborator", 201 repository-invitation "permissions"), and on a personal
 * account's repository every collaborator gets write whatever was asked ("Permission levels for a personal account
 * repository"): the member row shows what GitHub gave, not what was asked. */
static const char *invitation_perm(struct json_object *inv, const char *asked)
{
	static const char *const names[][2] = { { "read", "pull" }, { "triage", "triage" }, { "write", "push" },
						 { "maintain", "maintain" }, { "admin", "admin" } };
	const char *s = json_str(inv, "permissions");
	for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i][0]) == 0)
			return names[i][1];
	return asked;
}

/* The collaborator's details for the audit log: login, the repository, and the permission (asked, or for an
 * invitation what GitHub's answer grants: invitation_perm). */
static const char *gh_details(char *buf, size_t size, const char *login, const struct project *p, const char *permission,
			      long long invitation_id)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "login", json_object_new_string(login ? login : ""));
	char repo[300];
	snprintf(repo, sizeof repo, "%s/%s", p->repo_owner ? p->repo_owner : "", p->repo_name ? p->repo_name : "");
	json_object_object_add(o, "repository", json_object_new_string(repo));
	if (permission)
		json_object_object_add(o, "permission", json_object_new_string(permission));
	if (invitation_id > 0)
		json_object_object_add(o, "invitation_id", json_object_new_int64(invitation_id));
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(buf, size, "%s", strlen(t) < size ? t : "{}");
	json_object_put(o);
	return buf;
}

/* What GitHub did, with the member row that records it, in one transaction (actor: system, the worker's).
 * A failure is logged: GitHub has acted either way, and the member row is written again by the next job. */
static void gh_set_audited(struct db *db, const struct member *m, const char *gh_state, const char *perm,
			   long long invitation_id, int added, const char *action, const char *details)
{
	struct err e = { 0 };
	int rc = db_begin(db, &e);
	if (rc == 0)
		rc = store_member_set_gh(db, m->id, gh_state, perm, invitation_id, added, NULL, 1, &e);
	rc = ops_audit_commit(db, rc, action, "member", m->login, m->project_id, details, &e);
	if (rc)
		log_msg(LOG_WARN, "member %lld: recording %s: %s", m->id, action, e.msg);
}

/* A pending invitation as GitHub made or changed it (store_member_invited) and its audit row, in one
 * transaction (actor: system). A failure is logged, as gh_set_audited's. */
static void invited_audited(struct db *db, const struct member *m, const struct project *p, const char *perm,
			    long long invitation_id, const char *created_at, const char *action)
{
	struct err e = { 0 };
	char det[768];
	int rc = db_begin(db, &e);
	if (rc == 0)
		rc = store_member_invited(db, m->id, perm, invitation_id, created_at, &e);
	rc = ops_audit_commit(db, rc, action, "member", m->login, m->project_id,
			      gh_details(det, sizeof det, m->login, p, perm, invitation_id), &e);
	if (rc)
		log_msg(LOG_WARN, "member %lld: recording %s: %s", m->id, action, e.msg);
}

/* GitHub shows m's invitation inv (a repository-invitation object) expired. The first time, the member is marked
 * expired, counted as re-invited and a re-invitation queued, in one transaction; after a re-invitation has expired
 * too, the member is only marked (gh_error says so) until the owner retries. A member marked expired already is
 * left alone, so a second look before the re-invitation ran queues nothing more. */
int members_invitation_expired(struct db *db, const struct member *m, struct json_object *inv, struct err *e)
{
	long long created = iso_epoch(json_str(inv, "created_at"));
	long long at = created ? created + INVITE_TTL : (long long)time(NULL);
	int again = m->gh_reinvites == 0, changed = 0;
	int rc = db_begin(db, e);
	if (rc)
		return rc;
	/* created: the expired invitation's, so that a listing read before the re-invitation (a second check
	 * running at the same time) cannot expire the newer invitation and send a third one. */
	rc = store_member_expired(&changed, db, m->id, at, again, at - INVITE_TTL, e);
	if (rc == 0 && changed && again) {
		char payload[96], dedup[64];
		snprintf(payload, sizeof payload, "{\"member_id\":%lld,\"reinvite\":1}", m->id);
		snprintf(dedup, sizeof dedup, "member_github:%lld", m->id);
		rc = enqueue(NULL, db, "member_github", m->project_id, payload, dedup, e);
	}
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, e);
}

/* A new invitation expires 7 days from now (GitHub's clock is taken to agree with ours within minutes): a drift
 * check is queued for just after then, so that an expiry is found and answered (invitation_expired) without
 * anyone pressing "Compare with GitHub". Invitations made within the same hour share one check (the dedup key). */
static int schedule_expiry_check(struct db *db, long long project_id, struct err *e)
{
	long long delay = INVITE_TTL + 300;
	char dedup[80];
	snprintf(dedup, sizeof dedup, "member_expiry:%lld:%lld", project_id, ((long long)time(NULL) + delay) / 3600);
	long long id = 0;
	int coalesced = 0;
	struct jobs_enqueue_opts o = { .project_id = project_id, .payload = "{}", .dedup_key = dedup, .priority = 60,
				       .delay_ms = delay * 1000 };
	return jobs_enqueue(&id, &coalesced, db, "member_drift", &o, e);
}

/* GitHub's refusal past its limit (docs "Add a repository collaborator", Rate limits: "You are limited to sending
 * 50 invitations to a repository per 24 hour period"). GitHub's exact words are not documented: a 422 whose
 * message speaks of invitations and a limit or 24 hours. */
static int invite_limit_hit(const struct gh_resp *g)
{
	if (g->status != 422 || !g->body.data)
		return 0;
	char low[2048];
	size_t n = g->body.len < sizeof low - 1 ? g->body.len : sizeof low - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)g->body.data[i]);
	low[n] = '\0';
	return strstr(low, "invitation") && (strstr(low, "limit") || strstr(low, "24 hour"));
}

/* Past the limit: the member is deferred and the job waits (no attempt spent, no loop) for 24 hours, the
 * window GitHub counts in; GitHub does not say when a slot frees, so this is the latest it can be. */
static int invite_deferred(struct gh_ctx *c, const struct gh_resp *g)
{
	struct err e = { 0 };
	char when[32], msg[256], em[200];
	time_t until = time(NULL) + 86400;
	struct tm tm;
	gmtime_r(&until, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	snprintf(msg, sizeof msg, "GitHub's limit of 50 invitations to a repository in 24 hours was reached (%s): "
		 "deferred, asked again at %s UTC.", gh_error_message(g, em, sizeof em), when);
	store_member_deferred(c->ctx->db, c->m->id, (long long)until, msg, &e);
	return job_wait(c->ctx, (double)until, "invitation of %s deferred: GitHub's 50-a-day limit", c->m->login);
}

/* Who holds login on GitHub now (GET /users/{login}, docs "Get a user"): *id their account id, 0 when nobody
 * does. GitHub frees a login the moment its owner renames (docs "Changing your GitHub username"), and anyone may
 * take it at once, while ghbridge's row keeps the login GitHub gave at the lookup until its person signs in
 * here; the collaborator calls name a login, so each is sent only after this says the login still belongs to
 * the GitHub id the member was bound to. INVITE_GO_ON when answered, else the job's outcome. */
static int login_holder(long long *id, struct job_ctx *ctx, const struct project *p, char **token, int *refreshed,
			const char *login)
{
	struct err e = { 0 };
	struct gh_resp g;
	char path[96];
	struct json_object *v;
	*id = 0;
	snprintf(path, sizeof path, "/users/%s", login); /* login_ok: letters, digits, hyphens */
	if (ghrepos_call(&g, token, refreshed, ctx->db, p->owner_id, "GET", path, NULL, &e)) {
		gh_resp_free(&g);
		return job_retry(ctx, "GET %s: %s", path, e.msg);
	}
	int out = INVITE_GO_ON;
	if (g.status == 200 && json_object_object_get_ex(g.json, "id", &v) && json_object_get_int64(v) > 0)
		*id = json_object_get_int64(v);
	else if (g.status != 404)
		out = gh_outcome(ctx, &g, path);
	gh_resp_free(&g);
	return out;
}

/* How long a confirmation of a member's login (GitHub saying that login names their GitHub id: the lookup, this
 * check, their sign-in here; project_members.login_confirmed_at, 027_member_calls.sql) spares the check before a
 * PUT, in seconds. A sync of all members right after their lookups (or of members who signed in lately) then costs
 * no GET /users/{login} per member. What it gives up: a rename, and the freed login taken by someone else, both
 * within this time of the confirmation (GitHub frees a login at once, docs "Changing your GitHub username"); the
 * check itself had the same kind of window, only shorter, between its GET and the PUT. */
#define LOGIN_CONFIRMED_SECONDS 600

/* login_holder for the member c->m: INVITE_GO_ON when their login is still theirs on GitHub (or GitHub said so
 * less than LOGIN_CONFIRMED_SECONDS ago); otherwise the member is marked error with why (nothing is sent: the call
 * would reach whoever holds the login now) and JOB_DONE. */
static int login_still_theirs(struct gh_ctx *c)
{
	struct err e = { 0 };
	long long id = 0;
	if (c->m->login_confirmed_age >= 0 && c->m->login_confirmed_age < LOGIN_CONFIRMED_SECONDS)
		return INVITE_GO_ON;
	int out = login_holder(&id, c->ctx, c->p, c->token, c->refreshed, c->m->login);
	if (out != INVITE_GO_ON)
		return out;
	if (id == c->m->github_user_id) {
		if (store_member_login_confirmed(c->ctx->db, c->m->id, c->m->login, id, &e))
			log_msg(LOG_WARN, "member %lld: the login's confirmation was not kept: %s", c->m->id, e.msg);
		return out;
	}
	char msg[400];
	snprintf(msg, sizeof msg, "GitHub login %s %s: the person invited (GitHub id %lld) has renamed their account. "
		 "Nothing was sent to GitHub. Once they sign in here their new login is taken up; then Retry.",
		 c->m->login, id ? "now belongs to another GitHub account" : "no longer exists", c->m->github_user_id);
	store_member_set_gh(c->ctx->db, c->m->id, "error", NULL, 0, -1, msg, 1, &e);
	log_msg(LOG_WARN, "member %lld: GitHub login %s no longer names GitHub id %lld: not sent", c->m->id,
		c->m->login, c->m->github_user_id);
	return JOB_DONE;
}

/* PATCH /repos/{o}/{r}/invitations/{id} {permissions} (docs "Update a repository invitation"): a pending
 * invitation takes the new permission, and no second invitation is sent. When GitHub no longer has it
 * (accepted, declined or cancelled there), a collaborator goes on to the PUT (204, docs "Add a repository
 * collaborator": it changes their permission) and anyone else is marked none. */
static int invitation_patch(struct gh_ctx *c, long long id)
{
	struct err e = { 0 };
	struct gh_resp g;
	char path[256], body[64], em[256], msg[320];
	snprintf(path, sizeof path, "/repos/%s/%s/invitations/%lld", c->p->repo_owner, c->p->repo_name, id);
	snprintf(body, sizeof body, "{\"permissions\":\"%s\"}", invite_perm_name(c->perm));
	char req[400];
	snprintf(req, sizeof req, "PATCH %s (%s)", path, invite_perm_name(c->perm));
	if (ghrepos_call(&g, c->token, c->refreshed, c->ctx->db, c->p->owner_id, "PATCH", path, body, &e)) {
		gh_resp_free(&g);
		int r = job_retry(c->ctx, "PATCH %s: %s", path, e.msg);
		members_op_note(c->ctx, c->job, c->p->id, c->m->login, "update_invitation", req, NULL, e.msg, r);
		return r;
	}
	int out = JOB_DONE, logged = 0;
	struct json_object *v;
	if (g.status == 200) {
		if (json_object_object_get_ex(g.json, "expired", &v) && json_object_get_boolean(v)) {
			if (members_invitation_expired(c->ctx->db, c->m, g.json, &e))
				out = job_retry(c->ctx, "%s", e.msg);
		} else
			invited_audited(c->ctx->db, c->m, c->p, invitation_perm(g.json, c->perm), id,
					json_str(g.json, "created_at"), "member.github_permission_set");
	} else if (g.status == 404) {
		members_op_note(c->ctx, c->job, c->p->id, c->m->login, "update_invitation", req, &g, NULL, JOB_DONE);
		logged = 1;
		gh_resp_free(&g);
		snprintf(path, sizeof path, "/repos/%s/%s/collaborators/%s", c->p->repo_owner, c->p->repo_name, c->m->login);
		if (ghrepos_call(&g, c->token, c->refreshed, c->ctx->db, c->p->owner_id, "GET", path, NULL, &e)) {
			gh_resp_free(&g);
			return job_retry(c->ctx, "GET %s: %s", path, e.msg);
		}
		if (g.status == 204)
			out = INVITE_GO_ON;
		else if (g.status == 404)
			store_member_set_gh(c->ctx->db, c->m->id, "none", NULL, 0, -1,
					    "The invitation is no longer pending on GitHub (declined or cancelled there).", 1, &e);
		else
			out = gh_outcome(c->ctx, &g, path);
	} else {
		out = gh_outcome(c->ctx, &g, path);
		snprintf(msg, sizeof msg, "GitHub refused: %s", gh_error_message(&g, em, sizeof em));
		store_member_set_gh(c->ctx->db, c->m->id, out == JOB_PERMANENT ? "error" : "invited", NULL, id, -1, msg, 1, &e);
	}
	if (!logged)
		members_op_note(c->ctx, c->job, c->p->id, c->m->login, "update_invitation", req, &g, NULL, out);
	gh_resp_free(&g);
	return out;
}

/* DELETE /repos/{o}/{r}/invitations/{id} (docs "Delete a repository invitation"): 204, or 404 when it is gone
 * already, and the job goes on. */
static int invitation_delete(struct gh_ctx *c, long long id)
{
	struct err e = { 0 };
	struct gh_resp g;
	char path[256];
	snprintf(path, sizeof path, "/repos/%s/%s/invitations/%lld", c->p->repo_owner, c->p->repo_name, id);
	char req[300];
	snprintf(req, sizeof req, "DELETE %s", path);
	if (ghrepos_call(&g, c->token, c->refreshed, c->ctx->db, c->p->owner_id, "DELETE", path, NULL, &e)) {
		gh_resp_free(&g);
		int r = job_retry(c->ctx, "DELETE %s: %s", path, e.msg);
		members_op_note(c->ctx, c->job, c->p->id, c->m->login, "remove_invitation", req, NULL, e.msg, r);
		return r;
	}
	int out = g.status == 204 || g.status == 404 ? INVITE_GO_ON : gh_outcome(c->ctx, &g, path);
	members_op_note(c->ctx, c->job, c->p->id, c->m->login, "remove_invitation", req, &g, NULL,
			out == INVITE_GO_ON ? JOB_DONE : out);
	if (g.status == 204) {
		char det[768];
		ops_audit_note(c->ctx->db, "member.github_invitation_cancelled", "member", c->m->login, c->p->id, "success",
			       gh_details(det, sizeof det, c->m->login, c->p, NULL, id));
	}
	gh_resp_free(&g);
	return out;
}

/* Before a PUT that an earlier attempt may have sent already (the mark, or a redo after a lost worker): GET
 * /repos/{o}/{r}/invitations (every page, docs "List repository invitations") for the member's GitHub id. A
 * pending one is recorded (and PATCHed when its permission differs) instead of sending another; an expired
 * one is deleted first; none, and the PUT goes (on a collaborator it only answers 204). */
static int invitation_look(struct gh_ctx *c)
{
	struct err e = { 0 };
	char path[256];
	for (int page = 1; page <= 20; page++) {
		struct gh_resp g;
		snprintf(path, sizeof path, "/repos/%s/%s/invitations?per_page=100&page=%d", c->p->repo_owner,
			 c->p->repo_name, page);
		if (ghrepos_call(&g, c->token, c->refreshed, c->ctx->db, c->p->owner_id, "GET", path, NULL, &e)) {
			gh_resp_free(&g);
			return job_retry(c->ctx, "GET %s: %s", path, e.msg);
		}
		if (g.status != 200 || !json_object_is_type(g.json, json_type_array)) {
			int out = gh_outcome(c->ctx, &g, path);
			gh_resp_free(&g);
			return out;
		}
		size_t n = json_object_array_length(g.json);
		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_array_get_idx(g.json, i), *u, *v;
			if (!json_object_object_get_ex(o, "invitee", &u) || !json_object_object_get_ex(u, "id", &v) ||
			    json_object_get_int64(v) != c->m->github_user_id)
				continue;
			long long id = json_object_object_get_ex(o, "id", &v) ? json_object_get_int64(v) : 0;
			int expired = json_object_object_get_ex(o, "expired", &v) && json_object_get_boolean(v);
			const char *have = json_str(o, "permissions");
			int same = have && strcmp(have, invite_perm_name(c->perm)) == 0;
			if (!expired && id > 0) {
				store_member_invited(c->ctx->db, c->m->id, c->perm, id, json_str(o, "created_at"), &e);
				schedule_expiry_check(c->ctx->db, c->p->id, &e); /* the attempt that made it may not have */
			}
			gh_resp_free(&g);
			if (id <= 0)
				return INVITE_GO_ON;
			if (expired)
				return invitation_delete(c, id);
			return same ? JOB_DONE : invitation_patch(c, id);
		}
		int more = g.link_next[0] != '\0';
		gh_resp_free(&g);
		if (!more)
			break;
	}
	return INVITE_GO_ON;
}

/* How long a listing of the repository's direct collaborators serves the jobs of one "sync all members", in
 * seconds (member_direct_grants, 027_member_calls.sql): the sync reads it once instead of once per member. Only
 * those jobs read the kept listing, and only one read after the sync was asked (payload sync_all, an epoch second:
 * the web's clock against the worker's, both on NTP); a single invitation, role change or Retry reads GitHub's.
 * Why the window is acceptable: the listing only tells whether a 204 to the PUT is ghbridge's own grant, and the
 * per-member listing this replaces had the same race, a grant made or removed on GitHub between the listing and
 * the PUT, only shorter (one round trip against the sync's run, at most this long). ghbridge's own changes keep
 * the kept listing right: each 204 adds its user (direct_grant_noted), each collaborator DELETE drops it. A wrong
 * answer either way costs what it cost before: a grant made on GitHub by someone else during the sync taken for
 * ghbridge's (removed with the member), or one removed there taken for one from before (left when the member
 * goes). The killed-worker redo never reads it: the answer before the PUT is kept per member with the mark
 * (gh_put_direct), read instead of any look. */
#define DIRECT_LISTING_SECONDS 60

/* Whether the member has a direct grant on the repository now: for a job of "sync all members", the project's
 * kept listing when it was read after the sync was asked and less than DIRECT_LISTING_SECONDS ago; else GET
 * /repos/{o}/{r}/collaborators?affiliation=direct, every page (docs "List repository collaborators": direct
 * collaborators, organisation members or not; not the organisation's owners, base permission or teams), matched by
 * GitHub user id and kept. *had = 1 or 0; INVITE_GO_ON when known, else the job's outcome (a retry, or GitHub's
 * refusal). */
static int direct_look(int *had, struct gh_ctx *c)
{
	struct err e = { 0 };
	char path[256], repo[256];
	struct buf ids = { 0 };
	int out = INVITE_GO_ON, complete = 0;
	long long started = (long long)time(NULL);
	*had = 0;
	snprintf(repo, sizeof repo, "%s/%s", c->p->repo_owner, c->p->repo_name);
	long long sync_all = payload_ll(c->job, "sync_all");
	if (sync_all > 0 && store_direct_grant_has(had, c->ctx->db, c->p->id, repo, c->m->github_user_id,
						   DIRECT_LISTING_SECONDS, sync_all, &e) == 0 && *had >= 0)
		return INVITE_GO_ON;
	err_clear(&e);
	*had = 0;
	buf_putc(&ids, '{');
	for (int page = 1; page <= 50; page++) {
		struct gh_resp g;
		snprintf(path, sizeof path, "/repos/%s/%s/collaborators?affiliation=direct&per_page=100&page=%d",
			 c->p->repo_owner, c->p->repo_name, page);
		if (ghrepos_call(&g, c->token, c->refreshed, c->ctx->db, c->p->owner_id, "GET", path, NULL, &e)) {
			gh_resp_free(&g);
			out = job_retry(c->ctx, "GET %s: %s", path, e.msg);
			goto cleanup;
		}
		if (g.status != 200 || !json_object_is_type(g.json, json_type_array)) {
			out = gh_outcome(c->ctx, &g, path);
			if (out == JOB_PERMANENT) {
				char em[256], msg[400];
				snprintf(msg, sizeof msg, "GitHub refused the list of direct collaborators: %s",
					 gh_error_message(&g, em, sizeof em));
				store_member_set_gh(c->ctx->db, c->m->id, "error", NULL, 0, -1, msg, 1, &e);
			}
			gh_resp_free(&g);
			goto cleanup;
		}
		for (size_t i = 0; i < json_object_array_length(g.json); i++) {
			struct json_object *v;
			if (!json_object_object_get_ex(json_object_array_get_idx(g.json, i), "id", &v) ||
			    json_object_get_int64(v) <= 0)
				continue;
			long long id = json_object_get_int64(v);
			if (id == c->m->github_user_id)
				*had = 1;
			buf_printf(&ids, "%s%lld", ids.len > 1 ? "," : "", id);
		}
		int more = g.link_next[0] != '\0';
		gh_resp_free(&g);
		if (!more) {
			complete = 1;
			break;
		}
	}
	buf_putc(&ids, '}');
	buf_putc(&ids, '\0');
	/* Only a whole listing is kept: past 50 pages the next job reads again (as every job did before). */
	if (complete && store_direct_grants_put(c->ctx->db, c->p->id, repo, started, ids.data, &e))
		log_msg(LOG_WARN, "project %lld: the direct collaborators' listing was not kept: %s", c->p->id, e.msg);
cleanup:
	buf_free(&ids);
	return out;
}

/* After a PUT answered 204 (the user has a direct grant now) or a collaborator DELETE by ghbridge (added 0): the
 * project's kept listing follows, so that the next job within DIRECT_LISTING_SECONDS reads the truth. */
static void direct_grant_noted(struct job_ctx *ctx, const struct project *p, long long github_user_id, int added)
{
	struct err e = { 0 };
	char repo[256];
	snprintf(repo, sizeof repo, "%s/%s", p->repo_owner, p->repo_name);
	if (added ? store_direct_grant_add(ctx->db, p->id, repo, github_user_id, &e)
		  : store_direct_grants_forget(ctx->db, p->id, &e))
		log_msg(LOG_WARN, "project %lld: the direct collaborators' listing was not updated: %s", p->id, e.msg);
}

/* GitHub's refusal of a permission below the organisation's base permission (docs "Add a repository
 * collaborator": "the permission being given must be equal to or higher than the org base permission. Otherwise,
 * the request will fail with: Cannot assign {member} permission of {role name}"): a 422 whose message, or one of
 * its errors[].message (GitHub's validation errors carry the detail there), says so. Returns those words (owned by
 * g), or NULL. No retry changes it while the base permission stays. */
static const char *base_permission_refused(const struct gh_resp *g)
{
	struct json_object *errs, *v;
	if (g->status != 422 || !g->json)
		return NULL;
	if (json_object_object_get_ex(g->json, "errors", &errs) && json_object_is_type(errs, json_type_array))
		for (size_t i = 0; i < json_object_array_length(errs); i++) {
			struct json_object *o = json_object_array_get_idx(errs, i);
			const char *m = o && json_object_is_type(o, json_type_object) ? json_str(o, "message") : NULL;
			if (m && strstr(m, "Cannot assign"))
				return m;
		}
	const char *m = json_object_object_get_ex(g->json, "message", &v) && json_object_is_type(v, json_type_string)
				? json_object_get_string(v) : NULL;
	return m && strstr(m, "Cannot assign") ? m : NULL;
}

/* After base_permission_refused (words: GitHub's): the member's access comes from the organisation. What GitHub
 * gives them is asked (GET /repos/{o}/{r}/collaborators/{u}/permission, docs "Get repository permissions for a
 * user": permission admin/write/read/none, kept in the request's names); the member is recorded as gh_state
 * organisation with GitHub's words, not as a failure. A failed GET leaves the permission unknown (NULL). */
static void base_permission_record(struct gh_ctx *c, const char *words)
{
	struct err e = { 0 };
	struct gh_resp g;
	char path[256], msg[600];
	const char *have = NULL;
	snprintf(path, sizeof path, "/repos/%s/%s/collaborators/%s/permission", c->p->repo_owner, c->p->repo_name,
		 c->m->login);
	int rc = ghrepos_call(&g, c->token, c->refreshed, c->ctx->db, c->p->owner_id, "GET", path, NULL, &e);
	if (rc == 0 && g.status == 200) {
		const char *s = json_str(g.json, "permission");
		have = !s ? NULL : strcmp(s, "admin") == 0 ? "admin" : strcmp(s, "write") == 0 ? "push"
		     : strcmp(s, "read") == 0 ? "pull" : NULL;
	}
	gh_resp_free(&g);
	snprintf(msg, sizeof msg, "GitHub answered 422: \"%.200s\". The organisation's base permission is above %s, so "
		 "%s's access comes from the organisation (at least the base permission%s%s). No retry can change that.",
		 words, c->perm, c->m->login, have ? "; GitHub gives " : "", have ? invite_perm_name(have) : "");
	store_member_set_gh(c->ctx->db, c->m->id, "organisation", have, 0, -1, msg, 1, &e);
}

/* PUT /repos/{o}/{r}/collaborators/{u} (docs "Add a repository collaborator": 201 with an invitation, 204
 * when they already have access; the same call changes a pending invitation's permission) or, for a removed
 * member ghbridge had added, DELETE the invitation and the collaborator (docs "Delete a repository
 * invitation", "Remove a repository collaborator"). Idempotent: a second PUT updates the same invitation. */
int members_job_github(struct job_ctx *ctx, const struct job *job)
{
	struct err e = { 0 };
	struct member m = { 0 };
	struct project p = { 0 };
	char *token = NULL, path[256], msg[512], em[256];
	int refreshed = 0, out = JOB_DONE;
	const char *action = payload_s(job, "action");
	int removing = action && strcmp(action, "remove") == 0;
	if (store_project_get(&p, ctx->db, job->project_id, 0, &e))
		return e.code == ERR_NOTFOUND ? JOB_DONE : job_retry(ctx, "%s", e.msg);
	if (!removing && store_member_get_id(&m, ctx->db, payload_ll(job, "member_id"), &e)) {
		out = e.code == ERR_NOTFOUND ? JOB_DONE : job_retry(ctx, "%s", e.msg);
		goto cleanup;
	}
	if (!p.repo_owner) {
		if (!removing)
			store_member_set_gh(ctx->db, m.id, "none", NULL, 0, -1, NULL, 0, &e);
		goto cleanup;
	}
	if (auth_github_token(&token, ctx->db, p.owner_id, &e)) {
		if (!removing)
			store_member_set_gh(ctx->db, m.id, "error", NULL, 0, -1,
					    "The project owner's GitHub connection needs reconnecting.", 1, &e);
		out = job_permanent(ctx, "token: %s", e.msg);
		goto cleanup;
	}
	struct gh_resp g;
	if (removing) {
		const char *login = payload_s(job, "login");
		long long inv = payload_ll(job, "invitation_id");
		struct json_object *ua;
		int unaccounted = json_object_object_get_ex(job->payload, "unaccounted", &ua) && json_object_get_boolean(ua);
		if (!login || !login_ok(login) || strcasecmp(login, p.repo_owner) == 0)
			goto cleanup; /* never the repository's owner */
		if (unaccounted && store_member_get(&m, ctx->db, p.id, login, &e) == 0)
			goto cleanup; /* a member now ("Add as member" came first): nothing to remove */
		err_clear(&e);
		char det[768];
		/* The member row is gone already: the audit events go alone (GitHub's DELETE is the change). A
		 * 404 means there was nothing left to remove there: no event. */
		if (inv > 0) {
			snprintf(path, sizeof path, "/repos/%s/%s/invitations/%lld", p.repo_owner, p.repo_name, inv);
			snprintf(msg, sizeof msg, "DELETE %s", path);
			if (ghrepos_call(&g, &token, &refreshed, ctx->db, p.owner_id, "DELETE", path, NULL, &e)) {
				gh_resp_free(&g);
				out = job_retry(ctx, "DELETE %s: %s", path, e.msg);
				members_op_note(ctx, job, p.id, login, "remove_invitation", msg, NULL, e.msg, out);
				goto cleanup;
			}
			if (g.status == 204)
				ops_audit_note(ctx->db, "member.github_invitation_cancelled", "member", login, p.id, "success",
					       gh_details(det, sizeof det, login, &p, NULL, inv));
			if (g.status != 204 && g.status != 404)
				out = gh_outcome(ctx, &g, path);
			members_op_note(ctx, job, p.id, login, "remove_invitation", msg, &g, NULL, out);
			gh_resp_free(&g);
			if (out != JOB_DONE)
				goto cleanup;
		}
		/* The collaborator DELETE names a login: not when it now names someone else (a rename, see
		 * login_holder). Jobs queued before the id was in the payload have none and go as before. */
		long long gid = payload_ll(job, "github_user_id"), holder = 0;
		if (gid > 0) {
			if ((out = login_holder(&holder, ctx, &p, &token, &refreshed, login)) != INVITE_GO_ON)
				goto cleanup;
			out = JOB_DONE;
			if (holder != gid) {
				/* Their access (under their new login) stays: the owner is told in the audit log. */
				char why[160];
				snprintf(why, sizeof why, "GitHub login %s no longer names GitHub id %lld (renamed): remove "
					 "their access on GitHub by hand", login, gid);
				ops_audit_note(ctx->db, "member.github_remove_skipped", "member", login, p.id, "failure",
					       ops_audit_kv(det, sizeof det, "why", why));
				log_msg(LOG_WARN, "removed member %s: %s/%s: %s", login, p.repo_owner, p.repo_name, why);
				goto cleanup;
			}
		}
		snprintf(path, sizeof path, "/repos/%s/%s/collaborators/%s", p.repo_owner, p.repo_name, login);
		snprintf(msg, sizeof msg, "DELETE %s", path);
		if (ghrepos_call(&g, &token, &refreshed, ctx->db, p.owner_id, "DELETE", path, NULL, &e)) {
			gh_resp_free(&g);
			out = job_retry(ctx, "DELETE %s: %s", path, e.msg);
			members_op_note(ctx, job, p.id, login, "remove", msg, NULL, e.msg, out);
			goto cleanup;
		}
		if (g.status == 204 || g.status == 404)
			direct_grant_noted(ctx, &p, 0, 0);
		if (g.status == 204)
			ops_audit_note(ctx->db, "member.github_removed", "member", login, p.id, "success",
				       gh_details(det, sizeof det, login, &p, NULL, 0));
		else if (g.status != 404)
			out = gh_outcome(ctx, &g, path);
		/* Only an invitation was pending: the collaborator DELETE has nothing to do and is not logged. */
		if (!(inv > 0 && g.status == 404 && out == JOB_DONE))
			members_op_note(ctx, job, p.id, login, "remove", msg, &g, NULL, out);
		gh_resp_free(&g);
		goto cleanup;
	}
	if (!m.github_user_id)
		goto cleanup; /* the lookup queues this job again once it knows who they are */
	if (m.user_id && m.user_id == p.owner_id) {
		store_member_set_gh(ctx->db, m.id, "skipped", NULL, 0, -1, OWN_ACCOUNT, 0, &e);
		goto cleanup;
	}
	const char *perm = members_permission_for(m.role);
	if (!perm) {
		snprintf(msg, sizeof msg, "collaborator_permissions gives the %s role no access on GitHub.", m.role);
		store_member_set_gh(ctx->db, m.id, "skipped", NULL, 0, -1, msg, 0, &e);
		goto cleanup;
	}
	/* Only a viewer's invitation depends on who owns the repository: one GET for them, none for the rest. */
	int personal = 0;
	if (members_role_parse(m.role) == ROLE_VIEWER) {
		snprintf(path, sizeof path, "/repos/%s/%s", p.repo_owner, p.repo_name);
		if (ghrepos_call(&g, &token, &refreshed, ctx->db, p.owner_id, "GET", path, NULL, &e)) {
			gh_resp_free(&g);
			out = job_retry(ctx, "GET %s: %s", path, e.msg);
			goto cleanup;
		}
		personal = repo_is_personal(&g);
		gh_resp_free(&g);
	}
	if (personal == 1) {
		/* Made a viewer there: the write access ghbridge gave goes, a pending (or expired) invitation by DELETE
		 * …/invitations/{id}, a collaborator by DELETE …/collaborators/{u}; access given by others stays. */
		struct gh_ctx vc = { ctx, &p, &m, &token, &refreshed, perm, job };
		int inv = m.gh_invitation_id > 0 && m.gh_state &&
			  (strcmp(m.gh_state, "invited") == 0 || strcmp(m.gh_state, "expired") == 0);
		int collab = m.gh_state && strcmp(m.gh_state, "collaborator") == 0;
		if (m.gh_added && inv && (out = invitation_delete(&vc, m.gh_invitation_id)) != INVITE_GO_ON)
			goto cleanup;
		if (m.gh_added && collab && (out = login_still_theirs(&vc)) != INVITE_GO_ON)
			goto cleanup;
		if (m.gh_added && collab) {
			snprintf(path, sizeof path, "/repos/%s/%s/collaborators/%s", p.repo_owner, p.repo_name, m.login);
			snprintf(msg, sizeof msg, "DELETE %s", path);
			if (ghrepos_call(&g, &token, &refreshed, ctx->db, p.owner_id, "DELETE", path, NULL, &e)) {
				gh_resp_free(&g);
				out = job_retry(ctx, "DELETE %s: %s", path, e.msg);
				members_op_note(ctx, job, p.id, m.login, "remove", msg, NULL, e.msg, out);
				goto cleanup;
			}
			out = g.status == 204 || g.status == 404 ? JOB_DONE : gh_outcome(ctx, &g, path);
			if (out == JOB_DONE)
				direct_grant_noted(ctx, &p, 0, 0);
			members_op_note(ctx, job, p.id, m.login, "remove", msg, &g, NULL, out);
			if (g.status == 204) {
				char det[768];
				ops_audit_note(ctx->db, "member.github_removed", "member", m.login, p.id, "success",
					       gh_details(det, sizeof det, m.login, &p, NULL, 0));
			}
			gh_resp_free(&g);
			if (out != JOB_DONE)
				goto cleanup;
		}
		out = JOB_DONE;
		store_member_set_gh(ctx->db, m.id, "skipped", NULL, 0, m.gh_added && (inv || collab) ? 0 : -1,
				    m.gh_added && (inv || collab)
					    ? "A personal account's repository: GitHub gives every collaborator write access, so a "
					      "viewer is not invited there; the access ghbridge had given was removed."
					    : "A personal account's repository: GitHub gives every collaborator write access, so a "
					      "viewer is not invited there.", 0, &e);
		goto cleanup;
	}
	struct gh_ctx gc = { ctx, &p, &m, &token, &refreshed, perm, job };
	/* A pending invitation: its permission changes with PATCH …/invitations/{id}; no second invitation. */
	if (m.gh_invitation_id > 0 && m.gh_state && strcmp(m.gh_state, "invited") == 0 &&
	    (out = invitation_patch(&gc, m.gh_invitation_id)) != INVITE_GO_ON)
		goto cleanup;
	/* An expired one goes before a new one is sent (docs "Delete a repository invitation"). */
	if (m.gh_invitation_id > 0 && m.gh_state && strcmp(m.gh_state, "expired") == 0 &&
	    (out = invitation_delete(&gc, m.gh_invitation_id)) != INVITE_GO_ON)
		goto cleanup;
	/* An earlier attempt may have sent the PUT and died before recording the answer: look first. */
	if ((m.gh_put_pending || job->redo) && (out = invitation_look(&gc)) != INVITE_GO_ON)
		goto cleanup;
	/* The PUT names a login: only while it is still the member's (a renamed account's old login goes to anyone). */
	if ((out = login_still_theirs(&gc)) != INVITE_GO_ON)
		goto cleanup;
	out = JOB_DONE;
	/* Was there a direct grant before this PUT? A 204 answers both an existing collaborator and an organisation
	 * member made one (docs "Add a repository collaborator"): only the look before tells ghbridge's own grant.
	 * Not needed when the grant is ghbridge's already; not repeated after a marked PUT whose look was recorded
	 * (the grant GitHub shows now may be that PUT's). Recorded with the mark, before the PUT. */
	int had_direct = m.gh_put_pending && m.gh_put_direct >= 0 ? m.gh_put_direct : -1;
	/* The project account's own repository is a personal account's: there GitHub's PUT invites everyone who is
	 * not a collaborator (201), so a 204 only answers a grant made before this PUT (ghbridge's own came through
	 * an invitation, gh_added already): no look needed. (A personal repository of someone else cannot be
	 * administered by this account: GitHub refuses the PUT.) */
	if (had_direct < 0 && p.owner_login && strcasecmp(p.repo_owner, p.owner_login) == 0)
		had_direct = 1;
	if (!m.gh_added && had_direct < 0 && (out = direct_look(&had_direct, &gc)) != INVITE_GO_ON)
		goto cleanup;
	out = JOB_DONE;
	if (m.gh_added ? store_member_put_mark(ctx->db, m.id, 1, &e)
		       : store_member_put_mark_direct(ctx->db, m.id, had_direct, &e)) {
		out = job_retry(ctx, "%s", e.msg);
		goto cleanup;
	}
	char body[64];
	snprintf(body, sizeof body, "{\"permission\":\"%s\"}", perm);
	snprintf(path, sizeof path, "/repos/%s/%s/collaborators/%s", p.repo_owner, p.repo_name, m.login);
	char req[400];
	snprintf(req, sizeof req, "PUT %s (%s)", path, perm);
	if (ghrepos_call(&g, &token, &refreshed, ctx->db, p.owner_id, "PUT", path, body, &e)) {
		gh_resp_free(&g);
		/* No answer: the PUT may or may not have reached GitHub; the mark stays, so the retry looks first. */
		store_member_set_gh(ctx->db, m.id, "queued", NULL, m.gh_invitation_id, -1, e.msg, 1, &e);
		out = job_retry(ctx, "PUT %s: %s", path, e.msg);
		members_op_note(ctx, job, p.id, m.login, "add", req, NULL, e.msg, out);
		goto cleanup;
	}
	struct json_object *iid, *cat;
	char det[768];
	if (g.status == 201 && json_object_object_get_ex(g.json, "id", &iid)) {
		invited_audited(ctx->db, &m, &p, invitation_perm(g.json, perm), json_object_get_int64(iid),
				json_object_object_get_ex(g.json, "created_at", &cat) ? json_object_get_string(cat) : NULL,
				"member.github_invited");
		if (schedule_expiry_check(ctx->db, p.id, &e))
			log_msg(LOG_WARN, "member %lld: the expiry check was not queued: %s", m.id, e.msg);
	} else if (g.status == 422 && invite_limit_hit(&g)) {
		out = invite_deferred(&gc, &g);
	} else if (g.status == 204) {
		/* A collaborator already (their permission is now the one asked), or an organisation member GitHub made
		 * a direct collaborator without an invitation. With no direct grant before this PUT (the look), the
		 * grant is ghbridge's: gh_added, so that removing the member removes it. One that was there before
		 * stays as it was: gh_added unchanged. */
		gh_set_audited(ctx->db, &m, "collaborator", perm, 0, !m.gh_added && had_direct == 0 ? 1 : -1,
			       "member.github_permission_set", gh_details(det, sizeof det, m.login, &p, perm, 0));
		direct_grant_noted(ctx, &p, m.github_user_id, 1);
	} else if (base_permission_refused(&g)) {
		base_permission_record(&gc, base_permission_refused(&g)); /* organisation access: the job is done */
	} else {
		out = gh_outcome(ctx, &g, path);
		snprintf(msg, sizeof msg, "GitHub refused: %s", gh_error_message(&g, em, sizeof em));
		store_member_set_gh(ctx->db, m.id, out == JOB_PERMANENT ? "error" : "queued", NULL, 0, -1, msg, 1, &e);
	}
	/* Answered with no invitation made (204, a refusal): nothing a retry could repeat. A 5xx or no answer keeps
	 * the mark: GitHub may have made it all the same. */
	if (g.status == 204 || (g.status >= 400 && g.status < 500 && !(g.status == 422 && invite_limit_hit(&g))))
		store_member_put_mark(ctx->db, m.id, 0, &e);
	members_op_note(ctx, job, p.id, m.login, "add", req, &g, NULL, out);
	gh_resp_free(&g);
cleanup:
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	store_project_free(&p);
	store_member_free(&m);
	return out;
}
