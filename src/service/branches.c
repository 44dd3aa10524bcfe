/* branches.c: the branches of a project's repository on GitHub (list, create, delete) and the rules for
 * branch names, given by people and taken from GitHub.
 * Dependency direction (no circle): pulls.c and webhooks.c call this file; it calls ghx.c (GitHub),
 * projects.c (projects_branch) and store/ only, never pulls.c or webhooks.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/log.h"
#include "git/branch.h"
#include "git/refname.h"
#include "github/gh.h"
#include "service/branches.h"
#include "service/ghx.h"
#include "store/pulls.h"

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

static struct json_object *jobj(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v = jobj(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int jbool(struct json_object *o, const char *k, int def)
{
	struct json_object *v = jobj(o, k);
	return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

/* ---------------------------------------------------------------- branch names */

int branches_gh_name_ok(const char *name)
{
	char ref[300];
	if (!name || strlen(name) > 250)
		return 0;
	snprintf(ref, sizeof ref, "refs/heads/%s", name);
	return git_refname_problem(ref) == NULL;
}

void branches_default_name(char *out, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, len, "ghbridge/changes-%Y%m%d-%H%M%S", &tm);
}

/* A valid name close to the one given: odd characters become '-', dots and slashes are tidied. */
static void suggest_name(char *out, size_t len, const char *name)
{
	char tmp[BRANCH_NAME_MAX + 1];
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p && o < sizeof tmp - 1; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			 strchr("-_./", *p) || *p >= 0x80;
		char c = ok ? (char)*p : '-';
		if ((c == '-' || c == '/' || c == '.') && o > 0 && tmp[o - 1] == c)
			continue; /* no runs: "..", "//", "--" */
		tmp[o++] = c;
	}
	tmp[o] = '\0';
	/* Per component: no leading '.' or '-', no trailing '.' or ".lock". */
	char res[BRANCH_NAME_MAX + 1] = "";
	size_t r = 0;
	for (char *save = NULL, *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		while (*c == '.' || *c == '-')
			c++;
		size_t n = strlen(c);
		while (n && (c[n - 1] == '.' || c[n - 1] == '-'))
			c[--n] = '\0';
		if (n >= 5 && strcmp(c + n - 5, ".lock") == 0)
			c[n - 5] = '\0';
		if (!*c)
			continue;
		r += (size_t)snprintf(res + r, sizeof res - r, "%s%s", r ? "/" : "", c);
		if (r >= sizeof res - 1)
			break;
	}
	if (res[0] && git_branch_name_ok(res))
		snprintf(out, len, "%s", res);
	else
		branches_default_name(out, len);
}

int branches_name_check(char *suggest, size_t len, const char *name, struct err *e)
{
	if (!name || !*name) {
		if (suggest)
			branches_default_name(suggest, len);
		return err_set(e, ERR_INVALID, "Give the branch a name.");
	}
	const char *why = strlen(name) > BRANCH_NAME_MAX ? "is longer than 200 characters" : git_branch_name_problem(name);
	if (why) {
		char s[BRANCH_NAME_MAX + 1];
		suggest_name(s, sizeof s, name);
		if (suggest)
			snprintf(suggest, len, "%s", s);
		if (strlen(name) > BRANCH_NAME_MAX)
			return err_set(e, ERR_INVALID, "A branch name may be at most %d characters; try '%s'.",
				       BRANCH_NAME_MAX, s);
		/* The name itself is not repeated: it may hold control characters. */
		return err_set(e, ERR_INVALID, "That is not a valid git branch name: a branch name %s; try '%s'.", why, s);
	}
	if (suggest)
		snprintf(suggest, len, "%s", name);
	return 0;
}

/* 1 when the branch exists on GitHub, 0 when not, < 0 on failure. */
int branches_remote_sha(char sha[41], struct ghx *g, const char *branch, struct err *e)
{
	char enc[3 * BRANCH_NAME_MAX + 1];
	ghx_url_encode(enc, sizeof enc, branch, 1);
	struct gh_resp r;
	int rc = ghx_call(&r, g, "GET", NULL, NULL, e, "/git/ref/heads/%s", enc);
	if (rc)
		return rc;
	if (sha)
		sha[0] = '\0';
	if (r.status == 200) {
		if (sha)
			snprintf(sha, 41, "%s", jstr(jobj(r.json, "object"), "sha") ? jstr(jobj(r.json, "object"), "sha") : "");
		rc = 1;
	} else if (r.status == 404) {
		rc = 0;
	} else {
		rc = ghx_refused(&r, e, "Looking for the branch");
	}
	gh_resp_free(&r);
	return rc;
}

static void branches_audit(struct db *db, const struct project *p, const char *action, const char *name, int rc,
			       const struct err *e)
{
	ghx_audit(db, p, action, "branch", name, rc, e);
}

/* ---------------------------------------------------------------- branches */

void branches_free(struct branch_info *rows, int n)
{
	for (int i = 0; i < n; i++) {
		free(rows[i].name);
		free(rows[i].sha);
	}
	free(rows);
}

int branches_list(struct branch_info **rows, int *n, struct db *db, struct project *p, struct err *e)
{
	*rows = NULL;
	*n = 0;
	struct ghx g;
	int rc = ghx_open(&g, db, p, p->owner_id, e), cap = 0;
	if (rc) {
		ghx_close(&g);
		return rc;
	}
	struct pull *open = NULL;
	int nopen = 0;
	store_pulls_list(&open, &nopen, db, p->id, "open", NULL, 100, 0, e);
	struct gh_resp r;
	rc = ghx_call(&r, &g, "GET", NULL, NULL, e, "/branches?per_page=100");
	for (int page = 0; rc == 0 && page < 10; page++) {
		if (r.status != 200 || !r.json || !json_object_is_type(r.json, json_type_array)) {
			rc = ghx_refused(&r, e, "Listing the branches");
			break;
		}
		for (size_t i = 0; i < json_object_array_length(r.json); i++) {
			struct json_object *x = json_object_array_get_idx(r.json, i);
			const char *name = jstr(x, "name");
			if (!name)
				continue;
			if (!branches_gh_name_ok(name)) {
				log_msg(LOG_WARN, "project %lld: GitHub listed a branch whose name git refuses; ignored", p->id);
				continue;
			}
			if (*n == cap) {
				cap = cap ? cap * 2 : 32;
				*rows = realloc(*rows, (size_t)cap * sizeof **rows);
				if (!*rows)
					abort();
			}
			struct branch_info *b = &(*rows)[(*n)++];
			memset(b, 0, sizeof *b);
			b->name = xstrdup(name);
			b->sha = xstrdup(jstr(jobj(x, "commit"), "sha"));
			b->protected_ = jbool(x, "protected", 0);
			b->is_sync = strcmp(name, projects_branch(p)) == 0;
			b->is_default = p->repo_default_branch && strcmp(name, p->repo_default_branch) == 0;
			for (int k = 0; k < nopen; k++)
				if (strcmp(open[k].head_ref, name) == 0)
					b->open_pull = open[k].number;
		}
		if (!r.link_next[0])
			break;
		char next[1024];
		snprintf(next, sizeof next, "%s", r.link_next);
		gh_resp_free(&r);
		rc = ghx_call(&r, &g, "GET", NULL, NULL, e, "%s", next);
	}
	gh_resp_free(&r);
	store_pulls_free(open, nopen);
	ghx_close(&g);
	if (rc) {
		branches_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	return rc;
}

int branches_create(struct db *db, struct project *p, long long user_id, const char *name, const char *from,
			struct err *e)
{
	int rc = branches_name_check(NULL, 0, name, e);
	if (rc)
		return rc;
	if (!from || !*from)
		from = projects_branch(p);
	if (!git_branch_name_ok(from))
		return err_set(e, ERR_INVALID, "'%.100s' is not a branch name.", from);
	struct ghx g;
	if ((rc = ghx_open(&g, db, p, user_id, e)))
		goto out;
	char sha[41];
	int exists = branches_remote_sha(sha, &g, from, e);
	if (exists <= 0 || !sha[0]) {
		rc = exists < 0 ? exists : err_set(e, ERR_INVALID, "There is no branch '%s' on GitHub to start from.", from);
		goto out;
	}
	struct json_object *b = json_object_new_object();
	char ref[BRANCH_NAME_MAX + 16];
	snprintf(ref, sizeof ref, "refs/heads/%s", name);
	json_object_object_add(b, "ref", json_object_new_string(ref));
	json_object_object_add(b, "sha", json_object_new_string(sha));
	struct gh_resp r;
	rc = ghx_call(&r, &g, "POST", NULL, b, e, "/git/refs");
	json_object_put(b);
	if (rc)
		goto out;
	if (r.status == 422 && strstr(r.body.data ? r.body.data : "", "already exists"))
		rc = err_set(e, ERR_CONFLICT, "A branch named '%s' exists already.", name);
	else if (r.status != 201)
		rc = ghx_refused(&r, e, "Creating the branch");
	gh_resp_free(&r);
out:
	branches_audit(db, p, "branch.created", name, rc, e);
	ghx_close(&g);
	return rc;
}

int branches_delete(struct db *db, struct project *p, long long user_id, const char *name, struct err *e)
{
	if (!name || !*name)
		return err_set(e, ERR_NOTFOUND, "There is no such branch.");
	/* A name git refuses is said so (422), and never goes into a ref path on GitHub. */
	if (branches_name_check(NULL, 0, name, e))
		return ERR_INVALID;
	if (strcmp(name, projects_branch(p)) == 0)
		return err_set(e, ERR_CONFLICT, "'%s' is the project's sync branch; it cannot be deleted here.", name);
	if (p->repo_default_branch && strcmp(name, p->repo_default_branch) == 0)
		return err_set(e, ERR_CONFLICT, "'%s' is the repository's default branch; it cannot be deleted here.", name);
	struct pull *open = NULL;
	int nopen = 0, rc = store_pulls_list(&open, &nopen, db, p->id, "open", name, 1, 0, e);
	if (rc)
		return rc;
	if (nopen > 0) {
		rc = err_set(e, ERR_CONFLICT, "'%s' is the head of open pull request #%d; merge or close it first.", name,
			     open[0].number);
		store_pulls_free(open, nopen);
		return rc;
	}
	store_pulls_free(open, nopen);
	struct ghx g;
	if ((rc = ghx_open(&g, db, p, user_id, e)))
		goto out;
	char enc[3 * BRANCH_NAME_MAX + 1];
	ghx_url_encode(enc, sizeof enc, name, 1);
	struct gh_resp r;
	if ((rc = ghx_call(&r, &g, "DELETE", NULL, NULL, e, "/git/refs/heads/%s", enc)))
		goto out;
	if (r.status == 422 || r.status == 404)
		rc = err_set(e, ERR_NOTFOUND, "There is no branch '%s' on GitHub.", name);
	else if (r.status != 204)
		rc = ghx_refused(&r, e, "Deleting the branch");
	gh_resp_free(&r);
out:
	branches_audit(db, p, "branch.deleted", name, rc, e);
	ghx_close(&g);
	return rc;
}
