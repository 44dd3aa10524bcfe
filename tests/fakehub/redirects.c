/* redirects.c: a renamed repository's old name, and /repositories/{id}, as GitHub serves them (REST 301/307, git redirects). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fakehub/fakehub.h"

/* GitHub, "Renaming a repository": after a rename "all existing information, with the exception of project
 * site URLs, is automatically redirected to the new name", web, git (clone, fetch, push) and API traffic alike,
 * until a new repository takes the old name ("if you create a new repository under your account in the future,
 * do not reuse the original name of the renamed repository": the redirect then stops). The REST API answers the
 * old name with 301 (GET, HEAD) or 307 (other methods) pointing at /repositories/{id}/… (docs "Best practices
 * for using the REST API", Follow redirects), a JSON body {message, url, documentation_url}. */

#define REDIRECT_DOC "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects"

void fh_redirect_record(long long owner_id, const char *old_name, long long repo_id)
{
	FH_STMT(st, "INSERT INTO repo_redirects (owner_id, name, repo_id, created_at) VALUES ($1, $2, $3, $4) "
		    "ON CONFLICT (owner_id, lower(name)) DO UPDATE SET name = EXCLUDED.name, repo_id = EXCLUDED.repo_id, "
		    "created_at = EXCLUDED.created_at");
	PGresult *r = Q(st, fh_ll(owner_id), old_name, fh_ll(repo_id), fh_ll(C ? C->now : fh_clock_now()));
	if (r)
		PQclear(r);
}

void fh_redirect_drop(long long owner_id, const char *name)
{
	FH_STMT(st, "DELETE FROM repo_redirects WHERE owner_id = $1 AND lower(name) = lower($2)");
	PGresult *r = Q(st, fh_ll(owner_id), name);
	if (r)
		PQclear(r);
}

int fh_repo_redirect(struct fh_repo *r, const char *owner, const char *name)
{
	FH_STMT(st, "SELECT a.login, x.name FROM repo_redirects d JOIN accounts o ON o.id = d.owner_id "
		    "JOIN repos x ON x.id = d.repo_id JOIN accounts a ON a.id = x.owner_id "
		    "WHERE lower(o.login) = lower($1) AND lower(d.name) = lower($2) "
		    "AND NOT EXISTS (SELECT 1 FROM repos y WHERE y.owner_id = d.owner_id AND lower(y.name) = lower($2))");
	if (!owner || !name)
		return ERR_NOTFOUND;
	PGresult *q = Q(st, owner, name);
	if (!q)
		return ERR_DB;
	if (!PQntuples(q)) {
		PQclear(q);
		return ERR_NOTFOUND;
	}
	const char *login = arena_strdup(fh_arena(), fh_val(q, 0, "login"));
	const char *now = arena_strdup(fh_arena(), fh_val(q, 0, "name"));
	PQclear(q);
	/* A repository the caller cannot see is a 404 under either name: the redirect tells nothing. */
	int rc = fh_repo_load(r, login, now);
	if (rc == 0 && !r->can_read)
		rc = ERR_NOTFOUND;
	return rc;
}

const char *fh_repositories_rewrite(const char *sub)
{
	if (strncmp(sub, "/repositories/", 14) != 0)
		return sub;
	const char *d = sub + 14, *rest = d;
	while (*rest >= '0' && *rest <= '9')
		rest++;
	if (rest == d || rest - d > 18 || (*rest && *rest != '/'))
		return sub;
	FH_STMT(st, "SELECT a.login, r.name FROM repos r JOIN accounts a ON a.id = r.owner_id WHERE r.id = $1::bigint");
	PGresult *q = Q(st, arena_strndup(fh_arena(), d, (size_t)(rest - d)));
	if (!q)
		return sub;
	const char *out = sub;
	if (PQntuples(q))
		out = arena_printf(fh_arena(), "/repos/%s/%s%s", fh_val(q, 0, "login"), fh_val(q, 0, "name"), rest);
	PQclear(q);
	return out;
}

int fh_api_redirect(const char *sub)
{
	if (strncmp(sub, "/repos/", 7) != 0)
		return 0;
	const char *o = sub + 7, *s1 = strchr(o, '/');
	if (!s1 || s1 == o)
		return 0;
	const char *n = s1 + 1, *s2 = strchr(n, '/');
	size_t nlen = s2 ? (size_t)(s2 - n) : strlen(n);
	if (!nlen)
		return 0;
	struct arena *a = fh_arena();
	struct fh_repo t;
	if (fh_repo_redirect(&t, arena_strndup(a, o, (size_t)(s1 - o)), arena_strndup(a, n, nlen)))
		return 0;
	const char *q = C->req->query_string;
	const char *loc = arena_printf(a, "%s/repositories/%lld%s%s%s", g_fh.api_url, t.id, s2 ? s2 : "",
				       q && *q ? "?" : "", q && *q ? q : "");
	int permanent = C->req->head_only || strcmp(C->req->method, "GET") == 0 || strcmp(C->req->method, "HEAD") == 0;
	resp_header(C->resp, "Location", loc);
	struct json_object *b = json_object_new_object();
	js(b, "message", permanent ? "Moved Permanently" : "Temporary Redirect");
	js(b, "url", loc);
	js(b, "documentation_url", REDIRECT_DOC);
	fh_json(permanent ? 301 : 307, b);
	return 1;
}

int fh_git_redirect(const char *owner, const char *name, const char *rest)
{
	struct fh_repo t;
	if (fh_repo_redirect(&t, owner, name))
		return 0;
	const char *q = C->req->query_string;
	const char *loc = arena_printf(fh_arena(), "%s/%s/%s.git%s%s%s", g_fh.web_url, t.owner, t.name, rest,
				       q && *q ? "?" : "", q && *q ? q : "");
	int get = C->req->head_only || strcmp(C->req->method, "GET") == 0;
	resp_header(C->resp, "Location", loc);
	resp_text(C->resp, get ? 301 : 307, "text/html; charset=utf-8",
		  get ? "<html><body>You are being redirected.</body></html>\n" : "");
	return 1;
}
