/* protect.c: fakehub's branch protection as GitHub does it: the REST API (docs "Branch protection"), the
 * push refusals (GH006 protected branch, GH001 large files: a pre-receive hook) and the merge refusals. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <git2.h>
#include "tests/fakehub/fakehub.h"

#define DOC_PUT "https://docs.github.com/rest/branches/branch-protection#update-branch-protection"
#define DOC_GET "https://docs.github.com/rest/branches/branch-protection#get-branch-protection"
#define DOC_DEL "https://docs.github.com/rest/branches/branch-protection#delete-branch-protection"
#define DOC_ABOUT                                                                                                  \
	"https://docs.github.com/repositories/configuring-branches-and-merges-in-your-repository/managing-protected-" \
	"branches/about-protected-branches"

/* ---- storage */

/* The stored configuration of branch (the normalised PUT body), or NULL when it is not protected. Caller puts. */
struct json_object *fh_protection_get(const struct fh_repo *r, const char *branch)
{
	FH_STMT(st, "SELECT config::text AS c FROM branch_protections WHERE repo_id = $1 AND branch = $2");
	PGresult *x = Q(st, fh_ll(r->id), branch);
	if (!x)
		return NULL;
	struct json_object *o = PQntuples(x) ? json_tokener_parse(fh_val(x, 0, "c")) : NULL;
	PQclear(x);
	return o;
}

static struct json_object *field(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

static int flag(struct json_object *cfg, const char *k)
{
	struct json_object *v = field(cfg, k);
	return v && json_object_get_boolean(v);
}

/* The names of the required checks: contexts, and checks[].context not among them. */
static struct json_object *required_contexts(struct json_object *rsc)
{
	struct json_object *out = json_object_new_array(), *c = field(rsc, "contexts"), *k = field(rsc, "checks");
	for (size_t i = 0; c && i < json_object_array_length(c); i++)
		json_object_array_add(out, json_object_get(json_object_array_get_idx(c, i)));
	for (size_t i = 0; k && i < json_object_array_length(k); i++) {
		const char *name = jget(json_object_array_get_idx(k, i), "context");
		int dup = 0;
		for (size_t j = 0; name && j < json_object_array_length(out); j++)
			dup |= strcmp(json_object_get_string(json_object_array_get_idx(out, j)), name) == 0;
		if (name && !dup)
			json_object_array_add(out, json_object_new_string(name));
	}
	return out;
}

/* ---- branch objects: "protected", and the short "protection" of GET /branches/{branch} */

int fh_protection_is_on(const struct fh_repo *r, const char *branch)
{
	struct json_object *cfg = fh_protection_get(r, branch);
	int on = cfg != NULL;
	json_object_put(cfg);
	return on;
}

struct json_object *fh_protection_summary(const struct fh_repo *r, const char *branch)
{
	struct json_object *cfg = fh_protection_get(r, branch), *prot = json_object_new_object(),
			   *rsc = json_object_new_object(), *want = cfg ? field(cfg, "required_status_checks") : NULL;
	jb(prot, "enabled", cfg != NULL);
	js(rsc, "enforcement_level", !want ? "off" : flag(cfg, "enforce_admins") ? "everyone" : "non_admins");
	struct json_object *ctx = want ? required_contexts(want) : json_object_new_array(), *checks = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(ctx); i++) {
		struct json_object *c = json_object_new_object();
		js(c, "context", json_object_get_string(json_object_array_get_idx(ctx, i)));
		js(c, "app_id", NULL);
		json_object_array_add(checks, c);
	}
	jo(rsc, "contexts", ctx);
	jo(rsc, "checks", checks);
	jo(prot, "required_status_checks", rsc);
	json_object_put(cfg);
	return prot;
}

/* ---- the API: GET | PUT | DELETE /repos/{owner}/{repo}/branches/{branch}/protection */

/* GitHub routes /branches/{branch}/protection to the protection of {branch}, also when {branch} holds
 * slashes: the branch route's rest parameter ends in "/protection". Returns the branch name or NULL. */
const char *fh_protection_branch_of(const char *param)
{
	static const char suffix[] = "/protection";
	size_t n = param ? strlen(param) : 0, s = sizeof suffix - 1;
	if (n <= s || strcmp(param + n - s, suffix) != 0)
		return NULL;
	return arena_strndup(C->req->arena, param, n - s);
}

static struct json_object *enabled(const char *url, int on)
{
	struct json_object *o = json_object_new_object();
	if (url)
		js(o, "url", url);
	jb(o, "enabled", on);
	return o;
}

static struct json_object *logins_as_users(struct json_object *logins)
{
	struct json_object *out = json_object_new_array();
	for (size_t i = 0; logins && i < json_object_array_length(logins); i++) {
		PGresult *x;
		if (fh_account_by_login(&x, json_object_get_string(json_object_array_get_idx(logins, i))) == 0) {
			json_object_array_add(out, fh_user_json_row(x, 0, "id", "login", "type"));
			PQclear(x);
		}
	}
	return out;
}

/* GitHub's answer to GET and PUT: the branch's protection in full (docs "Get branch protection"). */
static struct json_object *protection_json(const struct fh_repo *r, const char *branch, struct json_object *cfg)
{
	struct arena *a = C->req->arena;
	const char *url = arena_printf(a, "%s/repos/%s/%s/branches/%s/protection", g_fh.api_url, r->owner, r->name, branch);
	struct json_object *o = json_object_new_object(), *v;
	js(o, "url", url);
	if ((v = field(cfg, "required_status_checks")) && json_object_is_type(v, json_type_object)) {
		struct json_object *s = json_object_new_object(), *ctx = required_contexts(v), *checks = json_object_new_array();
		const char *u = arena_printf(a, "%s/required_status_checks", url);
		js(s, "url", u);
		jb(s, "strict", flag(v, "strict"));
		for (size_t i = 0; i < json_object_array_length(ctx); i++) {
			struct json_object *c = json_object_new_object();
			js(c, "context", json_object_get_string(json_object_array_get_idx(ctx, i)));
			js(c, "app_id", NULL);
			json_object_array_add(checks, c);
		}
		jo(s, "contexts", ctx);
		js(s, "contexts_url", arena_printf(a, "%s/contexts", u));
		jo(s, "checks", checks);
		jo(o, "required_status_checks", s);
	}
	if ((v = field(cfg, "restrictions")) && json_object_is_type(v, json_type_object)) {
		struct json_object *s = json_object_new_object();
		const char *u = arena_printf(a, "%s/restrictions", url);
		js(s, "url", u);
		js(s, "users_url", arena_printf(a, "%s/users", u));
		js(s, "teams_url", arena_printf(a, "%s/teams", u));
		js(s, "apps_url", arena_printf(a, "%s/apps", u));
		jo(s, "users", logins_as_users(field(v, "users")));
		jo(s, "teams", json_object_new_array());
		jo(s, "apps", json_object_new_array());
		jo(o, "restrictions", s);
	}
	if ((v = field(cfg, "required_pull_request_reviews")) && json_object_is_type(v, json_type_object)) {
		struct json_object *s = json_object_new_object();
		js(s, "url", arena_printf(a, "%s/required_pull_request_reviews", url));
		jb(s, "dismiss_stale_reviews", flag(v, "dismiss_stale_reviews"));
		jb(s, "require_code_owner_reviews", flag(v, "require_code_owner_reviews"));
		struct json_object *n = field(v, "required_approving_review_count");
		ji(s, "required_approving_review_count", n ? json_object_get_int64(n) : 1);
		jb(s, "require_last_push_approval", flag(v, "require_last_push_approval"));
		jo(o, "required_pull_request_reviews", s);
	}
	jo(o, "required_signatures", enabled(arena_printf(a, "%s/required_signatures", url), 0));
	jo(o, "enforce_admins", enabled(arena_printf(a, "%s/enforce_admins", url), flag(cfg, "enforce_admins")));
	static const char *const flags[] = { "required_linear_history", "allow_force_pushes", "allow_deletions",
					     "block_creations", "required_conversation_resolution", "lock_branch",
					     "allow_fork_syncing" };
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		jo(o, flags[i], enabled(NULL, flag(cfg, flags[i])));
	return o;
}

static int invalid(const char *what)
{
	return fh_error_doc(422, arena_printf(C->req->arena, "Invalid request.\n\n%s", what), DOC_PUT);
}

static int is(struct json_object *v, json_type t) { return v && json_object_is_type(v, t); }

/* Checks the PUT body against GitHub's schema and builds the configuration kept; NULL after answering 422. */
static struct json_object *normalise(const struct fh_repo *r, struct json_object *b)
{
	static const char *const required[] = { "required_status_checks", "enforce_admins",
						"required_pull_request_reviews", "restrictions" };
	struct json_object *v, *cfg;
	if (!b) {
		fh_error_doc(400, "Problems parsing JSON", DOC_PUT);
		return NULL;
	}
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!json_object_object_get_ex(b, required[i], &v)) {
			invalid(arena_printf(C->req->arena, "\"%s\" wasn't supplied.", required[i]));
			return NULL;
		}
	cfg = json_object_new_object();
	v = field(b, "required_status_checks");
	if (v && !is(v, json_type_object)) {
		json_object_put(cfg);
		invalid("For 'properties/required_status_checks', is not an object or null.");
		return NULL;
	}
	if (v) {
		struct json_object *s = json_object_new_object(), *c = field(v, "contexts"), *k = field(v, "checks");
		if (!json_object_object_get_ex(v, "strict", NULL) || (!c && !k) || (c && !is(c, json_type_array)) ||
		    (k && !is(k, json_type_array))) {
			json_object_put(s);
			json_object_put(cfg);
			invalid(!json_object_object_get_ex(v, "strict", NULL) ? "\"strict\" wasn't supplied."
										: "\"contexts\" wasn't supplied.");
			return NULL;
		}
		jb(s, "strict", json_object_get_boolean(field(v, "strict")));
		jo(s, "contexts", c ? json_object_get(c) : json_object_new_array());
		if (k)
			jo(s, "checks", json_object_get(k));
		jo(cfg, "required_status_checks", s);
	} else {
		jo(cfg, "required_status_checks", NULL);
	}
	jb(cfg, "enforce_admins", json_object_get_boolean(field(b, "enforce_admins")));
	v = field(b, "required_pull_request_reviews");
	if (v && !is(v, json_type_object)) {
		json_object_put(cfg);
		invalid("For 'properties/required_pull_request_reviews', is not an object or null.");
		return NULL;
	}
	if (v) {
		struct json_object *s = json_object_new_object(), *n = field(v, "required_approving_review_count");
		long long count = n ? json_object_get_int64(n) : 1;
		if (count < 0 || count > 6) {
			json_object_put(s);
			json_object_put(cfg);
			invalid("required_approving_review_count must be between 0 and 6.");
			return NULL;
		}
		jb(s, "dismiss_stale_reviews", flag(v, "dismiss_stale_reviews"));
		jb(s, "require_code_owner_reviews", flag(v, "require_code_owner_reviews"));
		ji(s, "required_approving_review_count", count);
		jb(s, "require_last_push_approval", flag(v, "require_last_push_approval"));
		jo(cfg, "required_pull_request_reviews", s);
	} else {
		jo(cfg, "required_pull_request_reviews", NULL);
	}
	v = field(b, "restrictions");
	if (v) {
		/* docs: "User, app, and team restrictions are only available for organization-owned repositories." */
		if (!is(v, json_type_object) || strcmp(r->owner_type ? r->owner_type : "User", "Organization") != 0) {
			json_object_put(cfg);
			fh_validation("Validation Failed", "Branch", "restrictions", "invalid",
				      "Only organization repositories can have users and team restrictions");
			return NULL;
		}
		struct json_object *s = json_object_new_object(), *u = field(v, "users");
		jo(s, "users", is(u, json_type_array) ? json_object_get(u) : json_object_new_array());
		jo(cfg, "restrictions", s);
	} else {
		jo(cfg, "restrictions", NULL);
	}
	static const char *const flags[] = { "required_linear_history", "allow_force_pushes", "allow_deletions",
					     "block_creations", "required_conversation_resolution", "lock_branch",
					     "allow_fork_syncing" };
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		jb(cfg, flags[i], flag(b, flags[i]));
	return cfg;
}

/* GET|PUT|DELETE …/branches/{branch}/protection → 200 | 204 | 404 "Branch not found" / "Branch not protected"
 * | 403 without admin rights | 422 a body GitHub's schema refuses. */
int api_branch_protection(struct request *req, struct response *resp)
{
	(void)resp;
	struct fh_repo r;
	if (fh_repo_from_params(&r))
		return 0;
	const char *branch = fh_protection_branch_of(req_param(req, "branch"));
	if (!branch)
		return fh_not_found();
	if (!r.can_admin)
		return strcmp(req->method, "GET") == 0 ? fh_not_found()
							: fh_error_doc(403, "Must have admin rights to Repository.", DOC_PUT);
	git_repository *g;
	char sha[41];
	if (fh_git_open(&g, r.path))
		return fh_error(500, "repository storage missing");
	int exists = fh_git_branch_sha(sha, g, branch) == 0;
	git_repository_free(g);
	if (!exists)
		return fh_error_doc(404, "Branch not found", strcmp(req->method, "PUT") == 0 ? DOC_PUT : DOC_GET);
	if (strcmp(req->method, "PUT") == 0) {
		struct json_object *cfg = normalise(&r, C->json);
		if (!cfg)
			return 0;
		FH_STMT(up, "INSERT INTO branch_protections (repo_id, branch, config, updated_at) VALUES ($1, $2, $3::jsonb, $4) "
			    "ON CONFLICT (repo_id, branch) DO UPDATE SET config = EXCLUDED.config, updated_at = EXCLUDED.updated_at");
		PGresult *x = Q(up, fh_ll(r.id), branch, json_object_to_json_string(cfg), fh_ll(C->now));
		if (!x) {
			json_object_put(cfg);
			return -1;
		}
		PQclear(x);
		struct json_object *o = protection_json(&r, branch, cfg);
		json_object_put(cfg);
		return fh_json(200, o);
	}
	struct json_object *cfg = fh_protection_get(&r, branch);
	if (!cfg)
		return fh_error_doc(404, "Branch not protected", strcmp(req->method, "GET") == 0 ? DOC_GET : DOC_DEL);
	if (strcmp(req->method, "DELETE") == 0) {
		json_object_put(cfg);
		FH_STMT(del, "DELETE FROM branch_protections WHERE repo_id = $1 AND branch = $2");
		PGresult *x = Q(del, fh_ll(r.id), branch);
		if (!x)
			return -1;
		PQclear(x);
		return fh_no_content();
	}
	struct json_object *o = protection_json(&r, branch, cfg);
	json_object_put(cfg);
	return fh_json(200, o);
}

/* ---- merging: required status checks and reviews (docs "About protected branches") */

/* GitHub's 405 message when the protection of base keeps this pull request from merging, else NULL.
 * Admins pass when enforce_admins is off, as on GitHub. */
const char *fh_protection_merge_blocked(const struct fh_repo *r, const char *base, const char *head_sha, int admin)
{
	struct json_object *cfg = fh_protection_get(r, base), *v;
	if (!cfg)
		return NULL;
	const char *why = NULL;
	struct arena *a = fh_arena();
	if (admin && !flag(cfg, "enforce_admins")) {
		json_object_put(cfg);
		return NULL;
	}
	if ((v = field(cfg, "required_status_checks")) && is(v, json_type_object)) {
		struct json_object *ctx = required_contexts(v);
		FH_STMT(st, "SELECT state FROM (SELECT state, id FROM statuses WHERE repo_id = $1 AND sha = $2 AND context = $3 "
			    "UNION ALL SELECT CASE WHEN status <> 'completed' THEN 'pending' WHEN conclusion IN ('success', "
			    "'neutral', 'skipped') THEN 'success' ELSE 'failure' END, id FROM check_runs "
			    "WHERE repo_id = $1 AND head_sha = $2 AND name = $3) s ORDER BY id DESC LIMIT 1");
		for (size_t i = 0; !why && i < json_object_array_length(ctx); i++) {
			const char *name = json_object_get_string(json_object_array_get_idx(ctx, i));
			PGresult *x = Q(st, fh_ll(r->id), head_sha, name);
			const char *state = x && PQntuples(x) ? fh_val(x, 0, "state") : NULL;
			if (!state)
				why = arena_printf(a, "Required status check \"%s\" is expected.", name);
			else if (strcmp(state, "pending") == 0)
				why = arena_printf(a, "Required status check \"%s\" is in progress.", name);
			else if (strcmp(state, "success") != 0)
				why = arena_printf(a, "Required status check \"%s\" is failing.", name);
			if (x)
				PQclear(x);
		}
		json_object_put(ctx);
	}
	if (!why && (v = field(cfg, "required_pull_request_reviews")) && is(v, json_type_object)) {
		/* fakehub keeps no reviews: a required approval is never there. */
		long long n = field(v, "required_approving_review_count") ? json_object_get_int64(field(v, "required_approving_review_count")) : 1;
		if (n == 1)
			why = "At least 1 approving review is required by reviewers with write access.";
		else if (n > 1)
			why = arena_printf(a, "At least %lld approving reviews are required by reviewers with write access.", n);
	}
	json_object_put(cfg);
	return why;
}

/* ---- pushing: GH006 and GH001, in a pre-receive hook that git receive-pack runs */

/* Why this viewer may not move a protected branch at all (cfg: its protection), \037 between the reasons,
 * "" when they may: pull requests required, required status checks, push restrictions; admins pass
 * the first two unless enforce_admins. */
static void reasons(struct buf *why, const struct fh_repo *r, struct json_object *cfg)
{
	struct json_object *v;
	int bypass = r->can_admin && !flag(cfg, "enforce_admins");
	if (!bypass && (v = field(cfg, "required_pull_request_reviews")) && is(v, json_type_object))
		buf_puts(why, "Changes must be made through a pull request.");
	if (!bypass && (v = field(cfg, "required_status_checks")) && is(v, json_type_object)) {
		struct json_object *ctx = required_contexts(v);
		for (size_t k = 0; k < json_object_array_length(ctx); k++)
			buf_printf(why, "%sRequired status check \"%s\" is expected.", why->len ? "\037" : "",
				   json_object_get_string(json_object_array_get_idx(ctx, k)));
		json_object_put(ctx);
	}
	if ((v = field(cfg, "restrictions")) && is(v, json_type_object)) {
		struct json_object *u = field(v, "users");
		int listed = 0;
		for (size_t k = 0; u && C->v.login && k < json_object_array_length(u); k++)
			listed |= strcasecmp(json_object_get_string(json_object_array_get_idx(u, k)), C->v.login) == 0;
		if (!listed && !bypass)
			buf_printf(why, "%sYou're not authorized to push to this branch. Visit %s for more information.",
				   why->len ? "\037" : "", DOC_ABOUT);
	}
}

/* The REST API's refusal (422) to move or delete branch by git/refs, in GitHub's words, or NULL:
 * deletion = new_sha NULL; forced = not a fast-forward. */
const char *fh_protection_ref_refused(const struct fh_repo *r, const char *branch, const char *new_sha, int forced)
{
	struct json_object *cfg = fh_protection_get(r, branch);
	if (!cfg)
		return NULL;
	const char *out = NULL;
	if (!new_sha && !flag(cfg, "allow_deletions"))
		out = "Cannot delete this protected branch";
	else if (new_sha && forced && !flag(cfg, "allow_force_pushes"))
		out = "Cannot force-push to this branch";
	else if (new_sha) {
		struct buf why = BUF_INIT;
		buf_puts(&why, "");
		reasons(&why, r, cfg);
		if (why.len) {
			char *nl = strchr(why.data, '\037');
			if (nl)
				*nl = '\0';
			out = arena_strdup(fh_arena(), why.data);
		}
		buf_free(&why);
	}
	json_object_put(cfg);
	return out;
}

/* What the hook needs to know, one line per protected branch: "refs/heads/<b>\t<force ok>\t<delete ok>\t<why>",
 * why being the reasons this pusher may not update the branch, \037 between them (empty: may push). */
const char *fh_protection_push_rules(const struct fh_repo *r)
{
	FH_STMT(st, "SELECT branch, config::text AS c FROM branch_protections WHERE repo_id = $1 ORDER BY branch");
	PGresult *x = Q(st, fh_ll(r->id));
	if (!x)
		return "";
	struct buf b = BUF_INIT;
	buf_puts(&b, "");
	for (int i = 0; i < PQntuples(x); i++) {
		struct json_object *cfg = json_tokener_parse(fh_val(x, i, "c"));
		struct buf why = BUF_INIT;
		buf_puts(&why, "");
		reasons(&why, r, cfg);
		buf_printf(&b, "refs/heads/%s\t%d\t%d\t%s\n", fh_val(x, i, "branch"), flag(cfg, "allow_force_pushes"),
			   flag(cfg, "allow_deletions"), buf_cstr(&why));
		buf_free(&why);
		json_object_put(cfg);
	}
	PQclear(x);
	const char *out = arena_strdup(fh_arena(), buf_cstr(&b));
	buf_free(&b);
	return out;
}

/* GitHub's words (GH001: docs "About large files on GitHub": a warning over 50 MiB, refused over 100 MiB;
 * GH006: "About protected branches"; GH002: a 40-hex branch or tag name, as GitHub's remote says it), as
 * `git push` shows them behind "remote: ". */
static const char hook_script[] =
	"#!/bin/sh\n"
	"# fakehub's pre-receive hook, written by tests/fakehub/protect.c: GH001 (large files) and GH006\n"
	"# (protected branches) as GitHub refuses pushes. FAKEHUB_PROTECTED holds the rules, FAKEHUB_VERDICT\n"
	"# names the file that gets the refs refused as protected.\n"
	"zero=0000000000000000000000000000000000000000\n"
	"refs=$(cat)\n"
	"# GH002: a branch or tag named like a commit id (git's own rules are receive-pack's: \"funny refname\").\n"
	"hex=$(printf '%s\\n' \"$refs\" | while read -r old new ref; do\n"
	"  [ \"$new\" = $zero ] && continue\n"
	"  case \"$ref\" in refs/heads/*) n=${ref#refs/heads/} ;; refs/tags/*) n=${ref#refs/tags/} ;; *) continue ;; esac\n"
	"  printf '%s' \"$n\" | grep -Eqx '[0-9a-fA-F]{40}' && printf '%s\\n' \"$n\"\n"
	"done)\n"
	"if [ -n \"$hex\" ]; then\n"
	"  echo 'error: GH002: Sorry, branch or tag names consisting of 40 hex characters are not allowed.' >&2\n"
	"  printf '%s\\n' \"$hex\" | while IFS= read -r n; do echo \"error: Invalid branch or tag name \\\"$n\\\"\" >&2; done\n"
	"  exit 1\n"
	"fi\n"
	"large=$(printf '%s\\n' \"$refs\" | while read -r old new ref; do\n"
	"  [ -n \"$new\" ] && [ \"$new\" != $zero ] && git rev-list --objects \"$new\" --not --all\n"
	"done | git cat-file --batch-check='%(objecttype) %(objectsize) %(rest)' |\n"
	"  awk '$1 == \"blob\" && $2 > 52428800 { s = $2; sub(/^[^ ]+ [^ ]+ /, \"\"); if (!seen[$0]++) print s \" \" $0 }')\n"
	"if [ -n \"$large\" ]; then\n"
	"  if printf '%s\\n' \"$large\" | awk '$1 > 104857600 { f = 1 } END { exit !f }'; then\n"
	"    echo \"error: Trace: $(od -An -N32 -tx1 /dev/urandom | tr -d ' \\n')\" >&2\n"
	"    echo 'error: See https://gh.io/lfs for more information.' >&2\n"
	"    printf '%s\\n' \"$large\" | awk '$1 > 104857600 { s = $1; sub(/^[^ ]+ /, \"\"); printf \"error: File %s is %.2f MB; "
	"this exceeds GitHub'\\''s file size limit of 100.00 MB\\n\", $0, s / 1048576 }' >&2\n"
	"    echo 'error: GH001: Large files detected. You may want to try Git Large File Storage - "
	"https://git-lfs.github.com.' >&2\n"
	"    exit 1\n"
	"  fi\n"
	"  echo 'warning: See https://gh.io/lfs for more information.' >&2\n"
	"  printf '%s\\n' \"$large\" | awk '{ s = $1; sub(/^[^ ]+ /, \"\"); printf \"warning: File %s is %.2f MB; this is "
	"larger than GitHub'\\''s recommended maximum file size of 50.00 MB\\n\", $0, s / 1048576 }' >&2\n"
	"  echo 'warning: GH001: Large files detected. You may want to try Git Large File Storage - "
	"https://git-lfs.github.com.' >&2\n"
	"fi\n"
	"[ -n \"$FAKEHUB_PROTECTED\" ] || exit 0\n"
	"refused=$(printf '%s\\n' \"$refs\" | while read -r old new ref; do\n"
	"  rule=$(printf '%s\\n' \"$FAKEHUB_PROTECTED\" | awk -F '\\t' -v r=\"$ref\" '$1 == r { print; exit }')\n"
	"  [ -n \"$rule\" ] || continue\n"
	"  force=$(printf '%s' \"$rule\" | cut -f2); del=$(printf '%s' \"$rule\" | cut -f3); why=$(printf '%s' \"$rule\" | cut -f4)\n"
	"  msgs=\n"
	"  if [ \"$new\" = $zero ]; then\n"
	"    [ \"$del\" = 1 ] || msgs='Cannot delete this protected branch'\n"
	"  else\n"
	"    if [ \"$old\" != $zero ] && ! git merge-base --is-ancestor \"$old\" \"$new\" 2>/dev/null && [ \"$force\" != 1 ]; then\n"
	"      msgs='Cannot force-push to this branch'\n"
	"    fi\n"
	"    [ -n \"$why\" ] && msgs=\"${msgs:+$msgs$(printf '\\037')}$why\"\n"
	"  fi\n"
	"  [ -n \"$msgs\" ] || continue\n"
	"  { echo \"error: GH006: Protected branch update failed for $ref.\"\n"
	"    printf '%s\\n' \"$msgs\" | tr '\\037' '\\n' | while IFS= read -r m; do printf '\\n- %s\\n' \"$m\"; done; } >&2\n"
	"  [ -n \"$FAKEHUB_VERDICT\" ] && echo \"$ref\" >> \"$FAKEHUB_VERDICT\"\n"
	"  echo \"$ref\"\n"
	"done)\n"
	"[ -z \"$refused\" ]\n";

/* The folder holding the hook (core.hooksPath for git receive-pack), written once per process. */
const char *fh_protection_hooks_dir(void)
{
	static char dir[1100];
	static int ready;
	if (ready)
		return dir;
	snprintf(dir, sizeof dir, "%s/.fakehub-hooks", g_fh.repos_dir);
	char path[1200], tmp[1240];
	snprintf(path, sizeof path, "%s/pre-receive", dir);
	snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
	if (mkdir(dir, 0755) && errno != EEXIST)
		return NULL;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return NULL;
	int bad = fputs(hook_script, f) < 0;
	if (fclose(f) || bad || chmod(tmp, 0755) || rename(tmp, path)) {
		unlink(tmp);
		return NULL;
	}
	ready = 1;
	return dir;
}

/* ---- the report: GitHub names a GH006 refusal "protected branch hook declined", git "pre-receive hook declined" */

static int pkt_len(const char *p, size_t left)
{
	if (left < 4)
		return -1;
	int n = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		n = n * 16 + (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1000);
	}
	return n < 0 ? -1 : n;
}

static void pkt_put(struct buf *b, const char *data, size_t n)
{
	buf_printf(b, "%04zx", n + 4);
	buf_append(b, data, n);
}

/* report-status pkt-lines with "ng <ref> pre-receive hook declined" for a ref listed in refs rewritten. */
static int rewrite_report(struct buf *out, const char *p, size_t len, const char *refs)
{
	size_t off = 0;
	while (off < len) {
		int n = pkt_len(p + off, len - off);
		if (n < 0 || (n > 0 && n < 4) || off + (size_t)(n ? n : 4) > len)
			return -1;
		if (n == 0) {
			buf_puts(out, "0000");
			off += 4;
			continue;
		}
		const char *d = p + off + 4;
		size_t dl = (size_t)n - 4;
		static const char tail[] = " pre-receive hook declined";
		char line[1100];
		int done = 0;
		if (dl > 3 && dl < sizeof line && strncmp(d, "ng ", 3) == 0) {
			memcpy(line, d, dl);
			line[dl] = '\0';
			size_t ll = strcspn(line, "\n");
			char *sp = strchr(line + 3, ' ');
			if (sp && ll >= sizeof tail - 1 && strncmp(line + ll - (sizeof tail - 1), tail, sizeof tail - 1) == 0) {
				*sp = '\0';
				const char *hit = strstr(refs, line + 3);
				size_t rl = strlen(line + 3);
				if (hit && (hit == refs || hit[-1] == '\n') && (hit[rl] == '\n' || hit[rl] == '\0')) {
					char repl[1200];
					int m = snprintf(repl, sizeof repl, "ng %s protected branch hook declined\n", line + 3);
					pkt_put(out, repl, (size_t)m);
					done = 1;
				}
			}
		}
		if (!done)
			buf_append(out, p + off, (size_t)n);
		off += (size_t)n;
	}
	return 0;
}

void fh_protection_rewrite(struct buf *body, const char *refs)
{
	if (!refs || !*refs || body->len < 5)
		return;
	const char *p = buf_cstr(body);
	size_t len = body->len, off = 0;
	int n = pkt_len(p, len);
	struct buf out = BUF_INIT, band1 = BUF_INIT, inner = BUF_INIT;
	int sideband = n > 4 && (p[4] == 1 || p[4] == 2 || p[4] == 3), ok = 1;
	if (!sideband) {
		ok = rewrite_report(&out, p, len, refs) == 0;
	} else {
		size_t band1_at = (size_t)-1;
		while (ok && off < len) {
			n = pkt_len(p + off, len - off);
			if (n < 0 || (n > 0 && n < 5) || off + (size_t)(n ? n : 4) > len) {
				ok = 0;
				break;
			}
			if (n == 0) {
				buf_puts(&out, "0000");
				off += 4;
				continue;
			}
			if (p[off + 4] == 1) {
				if (band1_at == (size_t)-1)
					band1_at = out.len;
				buf_append(&band1, p + off + 5, (size_t)n - 5);
			} else {
				buf_append(&out, p + off, (size_t)n);
			}
			off += (size_t)n;
		}
		if (ok && band1_at != (size_t)-1 && band1.len < 65000) {
			struct buf report = BUF_INIT;
			ok = rewrite_report(&report, buf_cstr(&band1), band1.len, refs) == 0;
			buf_putc(&inner, 1);
			buf_append(&inner, report.data, report.len);
			buf_free(&report);
			struct buf whole = BUF_INIT;
			buf_append(&whole, out.data, band1_at);
			pkt_put(&whole, inner.data, inner.len);
			buf_append(&whole, out.data + band1_at, out.len - band1_at);
			buf_free(&out);
			out = whole;
		} else {
			ok = 0;
		}
	}
	if (ok) {
		buf_reset(body);
		buf_append(body, out.data, out.len);
	}
	buf_free(&out);
	buf_free(&band1);
	buf_free(&inner);
}

/* ---- the push log (test emulator only): every git-receive-pack POST with its size and the refs refused */

void fh_protection_push_record(const struct fh_repo *r, size_t bytes, int status, const struct buf *body)
{
	struct buf refused = BUF_INIT;
	buf_puts(&refused, "");
	const char *p = buf_cstr(body), *end = p + body->len;
	/* "ng <ref> <reason>\n" inside the report (pkt-lines, maybe in side-band packets): the text is plain. */
	for (const char *q = p; q && q < end; q++) {
		q = memmem(q, (size_t)(end - q), "ng refs/", 8);
		if (!q)
			break;
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		size_t n = nl ? (size_t)(nl - q) : (size_t)(end - q);
		buf_printf(&refused, "%s%.*s", refused.len ? "; " : "", (int)(n - 3 < 900 ? n - 3 : 900), q + 3);
	}
	FH_STMT(st, "INSERT INTO pushes (repo_id, login, bytes, status, refused, at) VALUES ($1, $2, $3, $4, nullif($5, ''), $6)");
	PGresult *x = Q(st, fh_ll(r->id), C->v.login, fh_ll((long long)bytes), fh_ll(status), buf_cstr(&refused),
			fh_ll(C->now));
	if (x)
		PQclear(x);
	buf_free(&refused);
}

/* GET /_fakehub/repos/{owner}/{repo}/pushes → {"count", "bytes", "pushes": [{id, login, bytes, status, refused, at}]} */
int ad_pushes(struct request *req, struct response *resp)
{
	(void)resp;
	FH_STMT(st, "SELECT p.* FROM pushes p JOIN repos r ON r.id = p.repo_id JOIN accounts a ON a.id = r.owner_id "
		    "WHERE lower(a.login) = lower($1) AND lower(r.name) = lower($2) ORDER BY p.id");
	PGresult *x = Q(st, req_param(req, "owner"), req_param(req, "repo"));
	if (!x)
		return -1;
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	long long total = 0;
	for (int i = 0; i < PQntuples(x); i++) {
		struct json_object *e = json_object_new_object();
		ji(e, "id", fh_vall(x, i, "id"));
		js(e, "login", fh_val(x, i, "login"));
		ji(e, "bytes", fh_vall(x, i, "bytes"));
		ji(e, "status", fh_vall(x, i, "status"));
		js(e, "refused", fh_val(x, i, "refused"));
		jt(e, "at", fh_vall(x, i, "at"));
		total += fh_vall(x, i, "bytes");
		json_object_array_add(arr, e);
	}
	ji(o, "count", PQntuples(x));
	ji(o, "bytes", total);
	jo(o, "pushes", arr);
	PQclear(x);
	return fh_json(200, o);
}
