/* follow.c: the linked repository is GitHub's id, not its name: renames and transfers followed, a stranger under the old name never used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/log.h"
#include "github/gh.h"
#include "service/follow.h"

/* Owner or repository name as GitHub allows them (letters, digits, '-', '_', '.'): safe in a path. */
static int gh_name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 100 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == strlen(s);
}

/* Same scheme, host and port. */
static int same_origin(const char *a, const char *b)
{
	const char *sa = a ? strstr(a, "://") : NULL, *sb = b ? strstr(b, "://") : NULL;
	if (!sa || !sb)
		return 0;
	const char *ea = strchr(sa + 3, '/'), *eb = strchr(sb + 3, '/');
	size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
	return la == lb && strncasecmp(a, b, la) == 0;
}

static void replace(char **field, const char *v)
{
	char *d = strdup(v);
	if (!d)
		abort();
	free(*field);
	*field = d;
}

int projects_repo_follow(int *renamed, struct db *db, struct project *p, const char *token, long *until,
			 struct err *e)
{
	if (renamed)
		*renamed = 0;
	if (p->workspace_repo_id <= 0 || !p->repo_owner || !p->repo_name)
		return 0;
	struct gh_repo_ref g;
	long wait = 0;
	int rc = gh_repo_by_id(&g, &wait, p->workspace_repo_id, token, e);
	if (rc == ERR_RATELIMIT && until)
		*until = wait;
	if (rc == ERR_NOTFOUND)
		return err_set(e, ERR_NOTFOUND, "The GitHub repository this project is linked to (%s/%s, id %lld) is gone, or "
			       "this account can no longer see it. Nothing was fetched or pushed: a repository that has taken "
			       "its name is another one. Reconnect the project to a repository.",
			       p->repo_owner, p->repo_name, p->workspace_repo_id);
	if (rc)
		return rc;
	if (!gh_name_ok(g.owner) || !gh_name_ok(g.name)) {
		rc = err_set(e, ERR_FAIL, "GitHub names repository %lld oddly", g.id);
	} else if (strcmp(g.owner, p->repo_owner) != 0 || strcmp(g.name, p->repo_name) != 0) {
		int changed = 0;
		if (!g.clone_url || !same_origin(g.clone_url, p->repo_clone_url))
			rc = err_set(e, ERR_FAIL, "GitHub moved repository %lld to %s/%s with a clone URL on another host", g.id,
				     g.owner, g.name);
		else if ((rc = store_project_repo_renamed(&changed, db, p->id, g.id, g.owner, g.name, g.html_url, g.clone_url,
							  e)) == 0 && !changed)
			rc = err_set(e, ERR_FAIL, "the project was linked to another repository meanwhile");
		if (rc == 0) {
			log_msg(LOG_INFO, "project %lld: repository %lld was %s/%s, now %s/%s (renamed or moved on GitHub)", p->id,
				g.id, p->repo_owner, p->repo_name, g.owner, g.name);
			replace(&p->repo_owner, g.owner);
			replace(&p->repo_name, g.name);
			replace(&p->repo_clone_url, g.clone_url);
			if (g.html_url)
				replace(&p->repo_html_url, g.html_url);
			if (renamed)
				*renamed = 1;
		}
	}
	gh_repo_ref_free(&g);
	return rc;
}
