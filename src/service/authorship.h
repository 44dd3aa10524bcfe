/* authorship.h: who a commit made from a project's folder is by (issue 14), and the address members put on
 * their commits. No HTTP here.
 *
 * The rule, for one commit (a sync's staging of the whole folder):
 * - each changed path (its old path too, for a rename) is credited to every member who changed it through
 *   ghbridge (a file PUT, DELETE or upload, by the API or the panel) since the last sync: the edit rows;
 * - no changed path has a known editor: the project's account is the author, as before;
 * - one editor: that member is the author;
 * - several: the member with the most changed paths is the author (a tie goes to the one who edited
 *   first), and each other editor follows as a "Co-authored-by: login <email>" trailer, most paths first
 *   (GitHub docs "Creating a commit with multiple authors": trailers after one blank line at the message's
 *   end; GitHub credits each one whose address belongs to an account);
 * - changes nobody is known to have made (written in the folder by other means; a rename is one change) add the
 *   project's account as a co-author when a member is the author: every change is credited to someone who
 *   may have made it, and no member is credited alone with what came from elsewhere.
 * The committer stays ghbridge (git_workspace_commit): the member wrote the change, ghbridge made the commit.
 * A member's address: the one they chose on the account page, else GitHub's no-reply address
 * ID+login@users.noreply.github.com (docs "Setting your commit email address"). */
#ifndef GHB_SERVICE_AUTHORSHIP_H
#define GHB_SERVICE_AUTHORSHIP_H

#include <stddef.h>
#include "store/edits.h"

struct json_object;

#define COMMIT_EMAIL_MAX 254  /* RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets */

struct commit_who {
	char name[128];          /* the git author's name: the GitHub login */
	char email[300];
	long long user_id;       /* the ghbridge user, 0 for the project's account */
	int editors;             /* members credited (author and co-authors) */
	char trailers[4096];     /* "Co-authored-by: login <email>" lines, each ending in \n; "" when none. Past
	                          * about 12 co-authors the rest are left out (logged) */
};

/* GitHub's no-reply address for a GitHub user: "ID+login@users.noreply.github.com", or
 * "login@users.noreply.github.com" (GitHub's older form) when the id is unknown (0). */
void authorship_noreply(char *out, size_t size, long long github_id, const char *login);

/* Records that user_id changed path (a relative path in the folder) in project_id. Advisory: called after
 * the change is in the folder; a failure is logged and never fails the caller (the change stays, and the
 * commit that carries it is the project's account's). */
void authorship_note(struct db *db, long long project_id, long long user_id, const char *path);

/* The author and co-authors of a commit of files (ws_commit files: [{path, from?}]) from the edit rows
 * (store_edits_list), by the rule above; the project's account is owner_login with owner_github_id. */
void authorship_pick(struct commit_who *out, const struct edit_row *rows, int n, struct json_object *files,
		     const char *owner_login, long long owner_github_id);

/* 0 when email may be a commit address: at most COMMIT_EMAIL_MAX characters, one '@', a local part of at
 * most 64 of RFC 5322's atom characters and dots (no leading, trailing or double dot), a domain of at least
 * two labels of letters, digits and hyphens (RFC 1035, none longer than 63 or starting or ending with a
 * hyphen). ERR_INVALID on field "commit_email" with a message otherwise. */
int authorship_email_check(const char *email, struct err *e);
/* Saves user_id's commit address after authorship_email_check; NULL or "" (white space only too): back to
 * GitHub's no-reply address. Another person's address is refused (GitHub links a commit to the account its
 * author address belongs to, docs "Why are my commits linked to the wrong user?"): a no-reply address
 * (…@users.noreply.github.com) that is not the user's own id (or login, in the form without an id), or the
 * address another ghbridge user signed in with. ERR_INVALID on field commit_email (nothing saved),
 * ERR_NOTFOUND, ERR_DB. */
int authorship_set_email(struct db *db, long long user_id, const char *email, struct err *e);
/* user_id's commit address: the chosen one, or the no-reply address of github_id and login. *chosen (may be
 * NULL) says which. ERR_DB; ERR_NOTFOUND for an unknown user. */
int authorship_email_of(char *out, size_t size, int *chosen, struct db *db, long long user_id, long long github_id,
			const char *login, struct err *e);

#endif
