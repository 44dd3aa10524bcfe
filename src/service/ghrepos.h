/* ghrepos.h: the user's GitHub repositories a project can be linked to (push access), searched and paged. */
#ifndef GHB_SERVICE_GHREPOS_H
#define GHB_SERVICE_GHREPOS_H

#include "store/db.h"

#define GHREPOS_PER_PAGE 30
#define GHREPOS_QUERY_MAX 100

struct ghrepo {
	char *owner, *name, *full_name, *description, *default_branch, *html_url;
	int private_;
};

struct ghrepos_page {
	struct ghrepo *items;
	int n;
	int page;
	int has_next;
	int truncated;    /* GitHub has more repositories than one search reads: narrow the search */
};

/* Page `page` (from 1) of the repositories the user can push to whose "owner/name" contains q
 * (case-insensitive; NULL or "" for all), read from GET /user/repos (per_page, page).
 * ERR_INVALID for a bad page or query, ERR_UNAUTH ("Reconnect GitHub"), ERR_RATELIMIT,
 * ERR_FAIL/ERR_TIMEOUT when GitHub does not answer well. */
int ghrepos_list(struct ghrepos_page *out, struct db *db, long long user_id, const char *q, int page, struct err *e);
void ghrepos_page_free(struct ghrepos_page *pg);

#endif
