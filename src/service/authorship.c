/* authorship.c: who a commit made from a project's folder is by; members' commit addresses (authorship.h).
 * Dependency direction: called by projects.c (edits), sync.c and pulls.c (commits) and web/ (the account
 * page); calls store/ only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "core/log.h"
#include "service/authorship.h"
#include "store/users.h"

void authorship_noreply(char *out, size_t size, long long github_id, const char *login)
{
	if (github_id > 0)
		snprintf(out, size, "%lld+%s@users.noreply.github.com", github_id, login ? login : "");
	else
		snprintf(out, size, "%s@users.noreply.github.com", login ? login : "");
}

void authorship_note(struct db *db, long long project_id, long long user_id, const char *path)
{
	struct err e = { 0 };
	if (user_id > 0 && path && *path && store_edit_note(db, project_id, user_id, path, &e))
		log_msg(LOG_WARN, "project %lld: who changed a file was not recorded (the change is kept): %s", project_id,
			e.msg);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int changed(const char **paths, size_t n, const char *path)
{
	return n && bsearch(&path, paths, n, sizeof *paths, str_cmp) != NULL;
}

struct credit {
	const struct edit_row *who; /* the editor's first row (their name and address) */
	int paths;
	long long first;            /* the seq of their earliest edit among the changed paths */
};

static int credit_cmp(const void *a, const void *b)
{
	const struct credit *x = a, *y = b;
	if (x->paths != y->paths)
		return y->paths - x->paths;
	return (x->first > y->first) - (x->first < y->first);
}

/* A login or address as git and a trailer line may hold it: what git refuses in a signature ('<', '>') and
 * what would end or split the line (control characters) become '-'. Logins come from GitHub's answers and
 * addresses were checked when saved, so this only keeps a bad row from failing every sync. */
static void clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '<' || *s == '>')
			*s = '-';
}

static void who_of(char *name, size_t nsize, char *email, size_t esize, const struct edit_row *r)
{
	snprintf(name, nsize, "%s", r->login && *r->login ? r->login : "member");
	if (r->commit_email && *r->commit_email)
		snprintf(email, esize, "%s", r->commit_email);
	else
		authorship_noreply(email, esize, r->github_id, name);
	clean(name);
	clean(email);
}

static void trailer(struct commit_who *out, const char *name, const char *email, int *dropped)
{
	size_t used = strlen(out->trailers);
	int w = snprintf(out->trailers + used, sizeof out->trailers - used, "Co-authored-by: %s <%s>\n", name, email);
	if (w < 0 || (size_t)w >= sizeof out->trailers - used) {
		out->trailers[used] = '\0'; /* never half a line */
		(*dropped)++;
		return;
	}
	out->editors++;
}

void authorship_pick(struct commit_who *out, const struct edit_row *rows, int n, struct json_object *files,
		     const char *owner_login, long long owner_github_id)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", owner_login ? owner_login : "");
	authorship_noreply(out->email, sizeof out->email, owner_github_id, owner_login);
	size_t nf = files ? json_object_array_length(files) : 0, np = 0;
	if (!nf || n <= 0)
		return;
	/* The changed paths (a rename's old path too), sorted for lookups. */
	const char **paths = calloc(nf * 2, sizeof *paths);
	if (!paths)
		abort();
	for (size_t i = 0; i < nf; i++) {
		struct json_object *f = json_object_array_get_idx(files, i), *v;
		if (json_object_object_get_ex(f, "path", &v) && json_object_get_string(v))
			paths[np++] = json_object_get_string(v);
		if (json_object_object_get_ex(f, "from", &v) && json_object_get_string(v))
			paths[np++] = json_object_get_string(v);
	}
	qsort(paths, np, sizeof *paths, str_cmp);
	/* Each editor's changed paths (rows are one per user and path). */
	struct credit *c = calloc((size_t)n, sizeof *c);
	const char **credited = calloc((size_t)n, sizeof *credited);
	if (!c || !credited)
		abort();
	int nc = 0, ncredited = 0;
	for (int i = 0; i < n; i++) {
		if (!rows[i].path || !changed(paths, np, rows[i].path))
			continue;
		credited[ncredited++] = rows[i].path;
		int k = 0;
		while (k < nc && c[k].who->user_id != rows[i].user_id)
			k++;
		if (k == nc) {
			c[nc].who = &rows[i];
			c[nc].first = rows[i].seq;
			nc++;
		}
		c[k].paths++;
		if (rows[i].seq < c[k].first)
			c[k].first = rows[i].seq;
	}
	/* A change no member is known to have made: a file entry neither of whose paths (a rename's new and old
	 * one are one change) any member changed. */
	qsort(credited, (size_t)ncredited, sizeof *credited, str_cmp);
	int unknown = 0;
	for (size_t i = 0; i < nf && !unknown; i++) {
		struct json_object *f = json_object_array_get_idx(files, i), *v;
		const char *path = json_object_object_get_ex(f, "path", &v) ? json_object_get_string(v) : NULL;
		const char *from = json_object_object_get_ex(f, "from", &v) ? json_object_get_string(v) : NULL;
		unknown = !(path && changed(credited, (size_t)ncredited, path)) &&
			  !(from && changed(credited, (size_t)ncredited, from));
	}
	if (nc > 0) {
		qsort(c, (size_t)nc, sizeof *c, credit_cmp);
		who_of(out->name, sizeof out->name, out->email, sizeof out->email, c[0].who);
		out->user_id = c[0].who->user_id;
		out->editors = 1;
		int dropped = 0, owner_in = owner_github_id > 0 && c[0].who->github_id == owner_github_id;
		for (int k = 1; k < nc; k++) {
			char name[128], email[300];
			who_of(name, sizeof name, email, sizeof email, c[k].who);
			trailer(out, name, email, &dropped);
			owner_in |= owner_github_id > 0 && c[k].who->github_id == owner_github_id;
		}
		if (unknown && !owner_in) {
			char name[128], email[300];
			snprintf(name, sizeof name, "%s", owner_login ? owner_login : "");
			authorship_noreply(email, sizeof email, owner_github_id, name);
			clean(name);
			clean(email);
			trailer(out, name, email, &dropped);
		}
		if (dropped)
			log_msg(LOG_INFO, "commit by %s: %d co-author(s) left out of the message (too many to name)", out->name,
				dropped);
	}
	free(credited);
	free(c);
	free(paths);
}

static int atom_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+/=?^_`{|}~-", c);
}

int authorship_email_check(const char *email, struct err *e)
{
	const char *F = "commit_email";
	size_t len = email ? strlen(email) : 0;
	const char *at = email ? strchr(email, '@') : NULL;
	if (!len)
		return err_set_field(e, ERR_INVALID, F, "Give an e-mail address, or leave the field empty for GitHub's "
				     "no-reply address.");
	if (len > COMMIT_EMAIL_MAX)
		return err_set_field(e, ERR_INVALID, F, "An e-mail address is at most %d characters.", COMMIT_EMAIL_MAX);
	if (!at || strchr(at + 1, '@'))
		return err_set_field(e, ERR_INVALID, F, "An e-mail address has exactly one '@', as name@example.com.");
	size_t local = (size_t)(at - email);
	if (local == 0 || local > 64)
		return err_set_field(e, ERR_INVALID, F, "The part before the '@' must be 1 to 64 characters long.");
	for (size_t i = 0; i < local; i++) {
		unsigned char ch = (unsigned char)email[i];
		if (ch == '.' ? (i == 0 || i == local - 1 || email[i + 1] == '.') : !atom_char(ch))
			return err_set_field(e, ERR_INVALID, F, "The part before the '@' may hold letters, digits, single "
					     "dots and !#$%%&'*+/=?^_`{|}~- only (no spaces or angle brackets).");
	}
	const char *d = at + 1;
	int labels = 0;
	for (const char *l = d; *l;) {
		size_t k = 0;
		while (l[k] && l[k] != '.')
			k++;
		int ok = k >= 1 && k <= 63 && l[0] != '-' && l[k - 1] != '-';
		for (size_t i = 0; ok && i < k; i++) {
			unsigned char ch = (unsigned char)l[i];
			ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-';
		}
		if (!ok || (l[k] == '.' && !l[k + 1]))
			return err_set_field(e, ERR_INVALID, F, "The domain after the '@' must be names of letters, digits "
					     "and hyphens joined by dots, as example.com.");
		labels++;
		l += k + (l[k] == '.');
	}
	if (labels < 2)
		return err_set_field(e, ERR_INVALID, F, "The domain after the '@' needs a dot, as example.com.");
	return 0;
}

/* GitHub credits a commit to the account its author address belongs to ("Why are my commits linked to the
 * wrong user?": a verified address, or the no-reply ID+USERNAME@users.noreply.github.com / USERNAME@… form, the
 * ID deciding), so an address of another person's would show them as the author of this user's changes. Refused
 * here: any address at GitHub's no-reply domain but the user's own (their id; or their login in the old form
 * without one), and an address another ghbridge user signed in with (GitHub's users.email). Other addresses
 * cannot be checked without GitHub's list of the user's verified ones (GET /user/emails, scope user:email).
 * 0, ERR_INVALID on field commit_email, ERR_DB/ERR_NOTFOUND. */
static int email_not_someone_elses(struct db *db, long long user_id, const char *email, struct err *e)
{
	static const char dom[] = "@users.noreply.github.com";
	const char *F = "commit_email";
	size_t n = strlen(email), dl = sizeof dom - 1;
	if (n > dl && strcasecmp(email + n - dl, dom) == 0) {
		struct user u = { 0 };
		int rc = store_user_get(&u, db, user_id, e);
		if (rc)
			return rc;
		size_t local = n - dl;
		const char *plus = memchr(email, '+', local);
		int own;
		if (plus) {
			char id[24];
			snprintf(id, sizeof id, "%lld", u.github_id);
			own = u.github_id > 0 && (size_t)(plus - email) == strlen(id) && strncmp(email, id, strlen(id)) == 0;
		} else
			own = u.login && strlen(u.login) == local && strncasecmp(email, u.login, local) == 0;
		store_user_free(&u);
		if (!own)
			return err_set_field(e, ERR_INVALID, F, "That is another GitHub account's no-reply address: GitHub "
					     "would show its owner as the author of your changes. Leave the field empty for "
					     "your own.");
		return 0;
	}
	int taken = 0;
	int rc = store_user_email_of_other(&taken, db, user_id, email, e);
	if (rc)
		return rc;
	if (taken)
		return err_set_field(e, ERR_INVALID, F, "That address belongs to another user here: GitHub would show "
				     "them as the author of your changes. Use an address of your own.");
	return 0;
}

int authorship_set_email(struct db *db, long long user_id, const char *email, struct err *e)
{
	/* White space around what was typed is not part of the address. */
	char buf[COMMIT_EMAIL_MAX + 2];
	const char *s = email ? email : "";
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n > COMMIT_EMAIL_MAX)
		return err_set_field(e, ERR_INVALID, "commit_email", "An e-mail address is at most %d characters.",
				     COMMIT_EMAIL_MAX);
	snprintf(buf, sizeof buf, "%.*s", (int)n, s);
	if (n && authorship_email_check(buf, e))
		return ERR_INVALID;
	if (n) {
		int rc = email_not_someone_elses(db, user_id, buf, e);
		if (rc)
			return rc;
	}
	return store_user_set_commit_email(db, user_id, buf, e);
}

int authorship_email_of(char *out, size_t size, int *chosen, struct db *db, long long user_id, long long github_id,
			const char *login, struct err *e)
{
	char *email = NULL;
	if (chosen)
		*chosen = 0;
	int rc = store_user_commit_email(&email, db, user_id, e);
	if (rc)
		return rc;
	if (email && *email) {
		snprintf(out, size, "%s", email);
		if (chosen)
			*chosen = 1;
	} else {
		authorship_noreply(out, size, github_id, login);
	}
	free(email);
	return 0;
}
