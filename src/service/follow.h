/* follow.h: the linked repository is GitHub's id, not its name: follow renames and transfers, refuse strangers. */
#ifndef GHB_SERVICE_FOLLOW_H
#define GHB_SERVICE_FOLLOW_H

#include "core/err.h"
#include "store/projects.h"

/* Before ghbridge fetches from, pushes to or writes through the REST API to the project's repository: it
 * is the one the project was linked to, by GitHub's id (DESIGN "Trust boundaries"), whatever it is called
 * now. A repository renamed on GitHub answers under its old name only until another repository takes that
 * name (GitHub, "Renaming a repository"); from then on the old name is a stranger's. GET /repositories/{id}
 * (gh_repo_by_id) gives the current owner and name; when they changed they are stored with the URLs
 * (store_project_repo_renamed, as a webhook delivery naming the new name does) and p's fields updated, and
 * *renamed (may be NULL) is 1. The clone URL is taken only on the host of the stored one: the token goes
 * with every fetch and push. Projects linked before ids were recorded (workspace_repo_id 0) go by name (0).
 * ERR_NOTFOUND: GitHub no longer shows the repository to this token (deleted or access lost), with a message
 * for people; ERR_UNAUTH (401), ERR_RATELIMIT (*until set), ERR_FAIL, ERR_TIMEOUT as gh_repo_by_id. */
int projects_repo_follow(int *renamed, struct db *db, struct project *p, const char *token, long *until,
			 struct err *e);

#endif
