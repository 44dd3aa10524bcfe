/* ghrepos.c: the user's GitHub repositories with push access, filtered by a search text and paged, for "Link". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "core/log.h"
#include "github/gh.h"
#include "service/auth.h"
#include "service/ghrepos.h"

/* GitHub has no search over /user/repos: its pages are read (100 a page, the most it gives)
 * and filtered here. One search reads at most this many pages, and stops reading after this
 * long, since a person is waiting for the page. */
#define GH_PER_PAGE 100
#define SCAN_PAGES 10
#define SCAN_SECONDS 15

static char *dup_or_null(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	char *s = strdup(json_object_get_string(v));
	if (!s)
		abort();
	return s;
}

static void item_free(struct ghrepo *r)
{
	free(r->owner);
	free(r->name);
	free(r->full_name);
	free(r->description);
	free(r->default_branch);
	free(r->html_url);
	memset(r, 0, sizeof *r);
}

void ghrepos_page_free(struct ghrepos_page *pg)
{
	if (!pg)
		return;
	for (int i = 0; i < pg->n; i++)
		item_free(&pg->items[i]);
	free(pg->items);
	memset(pg, 0, sizeof *pg);
}

/* Without a permissions object (not the authenticated list) push access is unknown: GitHub's
 * refusal at link time says so then. */
static int can_push(struct json_object *repo)
{
	struct json_object *perm, *push;
	if (!json_object_object_get_ex(repo, "permissions", &perm) || !json_object_object_get_ex(perm, "push", &push))
		return 1;
	return json_object_get_boolean(push);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int query_ok(const char *q, struct err *e)
{
	if (strlen(q) > GHREPOS_QUERY_MAX)
		return err_set(e, ERR_INVALID, "The search text is longer than %d characters.", GHREPOS_QUERY_MAX);
	for (const unsigned char *c = (const unsigned char *)q; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return err_set(e, ERR_INVALID, "The search text contains a control character.");
	return 0;
}

static int call_page(struct gh_resp *g, char **token, struct db *db, long long user_id, int gh_page, struct err *e)
{
	char path[160];
	snprintf(path, sizeof path, "/user/repos?per_page=%d&page=%d&sort=full_name&affiliation=owner,collaborator,"
		 "organization_member", GH_PER_PAGE, gh_page);
	for (int tries = 0;; tries++) {
		memset(g, 0, sizeof *g);
		int rc = gh_call(g, "GET", path, *token, NULL, NULL, e);
		if (rc || g->status != 401 || tries)
			return rc;
		gh_resp_free(g);
		/* An expired GitHub App token is refreshed; a revoked grant marks the connection. */
		char *fresh = NULL;
		if ((rc = auth_github_token_refused(&fresh, db, user_id, *token, e)))
			return rc;
		memset(*token, 0, strlen(*token));
		free(*token);
		*token = fresh;
	}
}

int ghrepos_list(struct ghrepos_page *out, struct db *db, long long user_id, const char *q, int page, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (page < 1 || page > 1000)
		return err_set(e, ERR_INVALID, "page is a whole number from 1 to 1000.");
	if (!q)
		q = "";
	int rc = query_ok(q, e);
	if (rc)
		return rc;
	char *token = NULL;
	if ((rc = auth_github_token(&token, db, user_id, e)))
		return rc;
	int need = page * GHREPOS_PER_PAGE + 1, cap = 0, n = 0, more = 1;
	struct ghrepo *all = NULL;
	double t0 = now_s();
	for (int gp = 1; more && n < need; gp++) {
		if (gp > SCAN_PAGES || now_s() - t0 > SCAN_SECONDS) {
			out->truncated = 1;
			break;
		}
		struct gh_resp g;
		if ((rc = call_page(&g, &token, db, user_id, gp, e))) {
			gh_resp_free(&g);
			break;
		}
		long until;
		char m[256];
		if (g.status != 200 || !json_object_is_type(g.json, json_type_array)) {
			if (gh_is_rate_limited(&g, &until))
				rc = err_set(e, ERR_RATELIMIT, "GitHub's rate limit is reached; try again in %ld s.",
					     until - (long)time(NULL) > 0 ? until - (long)time(NULL) : 1);
			else if (g.status == 401)
				rc = err_set(e, ERR_UNAUTH, "GitHub refused the token. Reconnect GitHub.");
			else
				rc = err_set(e, ERR_FAIL, "Listing your repositories: GitHub answered %s",
					     gh_error_message(&g, m, sizeof m));
			gh_resp_free(&g);
			break;
		}
		size_t len = json_object_array_length(g.json);
		for (size_t i = 0; i < len; i++) {
			struct json_object *r = json_object_array_get_idx(g.json, i), *ow = NULL, *pv = NULL;
			char *full = dup_or_null(r, "full_name");
			if (!full || !can_push(r) || (*q && !strcasestr(full, q))) {
				free(full);
				continue;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				all = realloc(all, (size_t)cap * sizeof *all);
				if (!all)
					abort();
			}
			struct ghrepo *x = &all[n++];
			memset(x, 0, sizeof *x);
			json_object_object_get_ex(r, "owner", &ow);
			json_object_object_get_ex(r, "private", &pv);
			x->full_name = full;
			x->owner = dup_or_null(ow, "login");
			x->name = dup_or_null(r, "name");
			x->description = dup_or_null(r, "description");
			x->default_branch = dup_or_null(r, "default_branch");
			x->html_url = dup_or_null(r, "html_url");
			x->private_ = pv && json_object_get_boolean(pv);
			if (!x->owner || !x->name) {
				item_free(x);
				n--;
			}
		}
		/* GitHub's Link header says whether there is a next page; a short page ends it too. */
		more = g.link_next[0] != '\0' && len == GH_PER_PAGE;
		gh_resp_free(&g);
	}
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	if (rc) {
		for (int i = 0; i < n; i++)
			item_free(&all[i]);
		free(all);
		return rc;
	}
	int from = (page - 1) * GHREPOS_PER_PAGE, to = n < page * GHREPOS_PER_PAGE ? n : page * GHREPOS_PER_PAGE;
	out->page = page;
	out->has_next = n > page * GHREPOS_PER_PAGE;
	if (to > from) {
		out->items = calloc((size_t)(to - from), sizeof *out->items);
		if (!out->items)
			abort();
		memcpy(out->items, all + from, (size_t)(to - from) * sizeof *all);
		out->n = to - from;
	}
	for (int i = 0; i < n; i++)
		if (i < from || i >= to)
			item_free(&all[i]);
	free(all);
	return 0;
}
