/* projects.c: projects, their workspace files, their GitHub repository and sync settings.
 * Dependency direction (no circle): this file is below the other project services. pulls.c, branches.c,
 * webhooks.c, connect.c and sync.c call it; it calls only auth.c, authorship.c and ops.c among the service modules (and
 * store/, git/, jobs/), never pulls.c, branches.c or webhooks.c: what a disconnect undoes of the webhook
 * is done here (repo_unlinked) through store/ and a queued job. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "service/ops.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/fsafe.h"
#include "core/log.h"
#include "core/utf8.h"
#include "git/refname.h"
#include "git/rewrite.h"
#include "jobs/jobs.h"
#include "store/jobs.h"
#include "service/auth.h"
#include "service/authorship.h"
#include "store/auth.h"
#include "store/projects.h"
#include "service/projects.h"
#include "store/pulls.h"

/* White space as Unicode's White_Space property has it (trimmed from a name's ends). */
static int is_space(unsigned c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Nothing to see: white space, and the format and filler characters that draw nothing (zero-width space and
 * joiners, marks of direction, the soft hyphen, the byte order mark, Hangul and Braille blanks). */
static int is_invisible(unsigned c)
{
	return is_space(c) || c == 0xad || c == 0x34f || c == 0x115f || c == 0x1160 || c == 0x180e ||
	       (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) ||
	       c == 0x2800 || c == 0x3164 || c == 0xfeff || c == 0xffa0;
}

int project_name_clean(char *out, size_t size, const char *name, struct err *e)
{
	if (out && size)
		out[0] = '\0';
	const char *s = name ? name : "";
	size_t n = strlen(s), start = 0, end = 0, chars = 0, i = 0;
	int visible = 0, seen = 0;
	unsigned cp;
	/* One pass: the trimmed name is [start, end); what lies between counts and is checked. */
	while (i < n) {
		size_t l = utf8_decode(&cp, s + i, n - i);
		if (!l)
			return err_set(e, ERR_INVALID, "The project name is not valid UTF-8 text.");
		if (!is_space(cp)) {
			if (!seen)
				start = i;
			seen = 1;
			end = i + l;
		}
		i += l;
	}
	for (i = start; i < end;) {
		size_t l = utf8_decode(&cp, s + i, end - i);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			return err_set(e, ERR_INVALID, "The project name may not contain a line break, tab or other control "
				       "character.");
		visible |= !is_invisible(cp);
		chars++;
		i += l;
	}
	if (!visible)
		return err_set(e, ERR_INVALID, "Give the project a name with at least one letter, digit or other visible "
			       "character.");
	if (chars > PROJECT_NAME_MAX)
		return err_set(e, ERR_INVALID, "The project name is %zu characters long; it may have at most %d.", chars,
			       PROJECT_NAME_MAX);
	if (out) {
		if (end - start >= size)
			return err_set(e, ERR_INVALID, "The project name is too long.");
		memcpy(out, s + start, end - start);
		out[end - start] = '\0';
	}
	return 0;
}

int project_name_check(const char *name, struct err *e)
{
	return project_name_clean(NULL, 0, name, e);
}

int project_path_check(const char *path, struct err *e)
{
	if (!path || !*path)
		return err_set(e, ERR_INVALID, "The file path is empty.");
	size_t n = strlen(path);
	if (n > PROJECT_PATH_MAX)
		return err_set(e, ERR_INVALID, "The file path is longer than %d bytes.", PROJECT_PATH_MAX);
	if (path[0] == '/')
		return err_set(e, ERR_INVALID, "The file path must be relative (no leading '/').");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return err_set(e, ERR_INVALID, "The file path contains a control character.");
		if (*p == '\\')
			return err_set(e, ERR_INVALID, "Use '/' between folders in a file path, not '\\'.");
	}
	const char *s = path;
	for (;;) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		if (len == 0)
			return err_set(e, ERR_INVALID, "The file path has an empty folder name ('//' or a trailing '/').");
		if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return err_set(e, ERR_INVALID, "The file path may not contain '.' or '..'.");
		if (len == 4 && strncasecmp(s, ".git", 4) == 0)
			return err_set(e, ERR_INVALID, "Files under .git are git's own and cannot be written.");
		if (len > 255)
			return err_set(e, ERR_INVALID, "A name in the file path is longer than 255 bytes.");
		if (!slash)
			break;
		s = slash + 1;
	}
	return 0;
}

int projects_create(struct project *out, struct db *db, long long user_id, const char *name, struct err *e)
{
	char clean[PROJECT_NAME_MAX * 4 + 1];
	int rc = project_name_clean(clean, sizeof clean, name, e);
	if (rc)
		return rc;
	char det[600];
	if ((rc = db_begin(db, e)))
		return rc;
	if ((rc = store_project_create(out, db, user_id, clean, cfg_str(CFG_DATA_DIR), e))) {
		db_rollback(db);
		return rc;
	}
	if ((rc = ops_audit_commit(db, 0, "project.created", "project", NULL, out->id, ops_audit_kv(det, sizeof det, "name", clean), e))) {
		store_project_free(out);
		return rc;
	}
	rc = git_workspace_init(out->workspace, e);
	if (rc) {
		struct err e2 = { 0 };
		store_project_delete(db, out->id, &e2);
		store_project_free(out);
	}
	return rc;
}

int projects_get(struct project *out, struct db *db, long long user_id, long long id, struct err *e)
{
	if (id <= 0)
		return err_set(e, ERR_NOTFOUND, "There is no such project.");
	return store_project_get(out, db, id, user_id, e);
}

int projects_list(struct project **rows, int *n, struct db *db, long long user_id, struct err *e)
{
	return store_projects_list(rows, n, db, user_id, e);
}

int projects_rename(struct db *db, struct project *p, const char *name, struct err *e)
{
	char clean[PROJECT_NAME_MAX * 4 + 1];
	int rc = project_name_clean(clean, sizeof clean, name, e);
	if (rc)
		return rc;
	char det[1200];
	ops_audit_old_new(det, sizeof det, "name", p->name, clean);
	if ((rc = db_begin(db, e)) == 0)
		rc = ops_audit_commit(db, store_project_rename(db, p->id, clean, e), "project.renamed", "project", NULL, p->id, det, e);
	if (rc == 0) {
		free(p->name);
		p->name = strdup(clean);
		if (!p->name)
			abort();
	}
	return rc;
}

/* The repository link goes (disconnect, delete): the repository's webhook row goes, its removal on GitHub
 * is queued as a webhook_delete job (webhooks.c runs it: owner, name, hook_id, user_id travel in the
 * payload, since the project may be gone by then), and the stored pull requests are forgotten. Never
 * fails the caller: problems are logged. Here and not in webhooks.c, which calls projects.c (sync,
 * branch): projects.c calls no service module above it (no include circle). */
static void repo_unlinked(struct db *db, struct project *p)
{
	struct webhook w;
	struct err e = { 0 };
	if (store_webhook_get(&w, db, p->id, &e) == 0) {
		if (store_webhook_delete(db, p->id, &e))
			log_msg(LOG_WARN, "project %lld: webhook row not removed: %s", p->id, e.msg);
		if (w.hook_id) {
			/* The project (and its repository link) may be gone when this runs: all it needs
			 * travels in the payload. */
			struct json_object *pl = json_object_new_object();
			json_object_object_add(pl, "owner", json_object_new_string(w.repo_owner));
			json_object_object_add(pl, "name", json_object_new_string(w.repo_name));
			json_object_object_add(pl, "hook_id", json_object_new_int64(w.hook_id));
			json_object_object_add(pl, "user_id", json_object_new_int64(p->owner_id));
			char key[64];
			snprintf(key, sizeof key, "webhook_delete:%lld", w.hook_id);
			struct jobs_enqueue_opts o = { .payload = json_object_to_json_string(pl), .dedup_key = key };
			long long id;
			int coalesced;
			if (jobs_enqueue(&id, &coalesced, db, "webhook_delete", &o, &e))
				log_msg(LOG_WARN, "project %lld: webhook %lld removal not queued: %s", p->id, w.hook_id, e.msg);
			json_object_put(pl);
		}
		store_webhook_free(&w);
	}
	if (store_pulls_forget(db, p->id, &e))
		log_msg(LOG_WARN, "project %lld: stored pull requests not removed: %s", p->id, e.msg);
}

int projects_delete(struct db *db, struct project *p, struct err *e)
{
	if (p->repo_owner)
		repo_unlinked(db, p); /* the link goes: so does the repository's webhook */
	char det[600];
	int rc = db_begin(db, e);
	if (rc == 0)
		rc = ops_audit_commit(db, store_project_delete(db, p->id, e), "project.deleted", "project", NULL, p->id,
				      ops_audit_kv(det, sizeof det, "name", p->name), e);
	if (rc)
		return rc;
	/* Only ever the project's own folder under the data folder, removed by descriptors: a link
	 * inside it is removed itself, never followed (core/fsafe.h). */
	const char *slash = p->workspace ? strrchr(p->workspace, '/') : NULL;
	if (!slash || !strstr(p->workspace, "/workspaces/") || !slash[1])
		return 0;
	char *parent = strndup(p->workspace, (size_t)(slash - p->workspace));
	if (!parent)
		abort();
	int dir = fsafe_root(parent), r = dir < 0 ? dir : fsafe_remove_tree(dir, slash + 1);
	if (r)
		log_msg(LOG_WARN, "project %lld: removing workspace %s: %s", p->id, p->workspace, fsafe_strerror(r));
	if (dir >= 0)
		close(dir);
	free(parent);
	return 0;
}

/* A path the folder's side may not touch: a link kept from GitHub (read-only: ERR_CONFLICT), or a path
 * through one (ERR_CONFLICT to write, ERR_NOTFOUND to delete). */
static int github_link(const struct project *p, const char *path, const char *verb, struct err *e)
{
	char *link = NULL, *target = NULL;
	if (!git_workspace_link_of(&link, &target, p->workspace, path))
		return 0;
	int rc;
	if (strcmp(link, path) == 0)
		rc = err_set(e, ERR_CONFLICT, "'%s' is a symbolic link on GitHub (to '%.200s'); ghbridge keeps it as it is "
			     "and cannot %s it. Change it on GitHub.", path, target ? target : "", verb);
	else if (strcmp(verb, "write") == 0)
		rc = err_set(e, ERR_CONFLICT, "'%s' is inside '%s', a symbolic link on GitHub; ghbridge cannot %s it.", path,
			     link, verb);
	else /* nothing is there: a link is never followed */
		rc = err_set(e, ERR_NOTFOUND, "There is no file '%s' in this project ('%s' is a symbolic link on GitHub).",
			     path, link);
	free(link);
	free(target);
	return rc;
}

/* An fsafe error on the way to path, in words for the person who asked (ERR_CONFLICT for writes). */
static int path_refused(int code, const char *path, int frc, struct err *e)
{
	if (frc == -ELOOP)
		return err_set(e, code, "'%s' goes through a symbolic link; ghbridge does not follow links in a project folder.",
			       path);
	if (frc == -ENOTDIR)
		return err_set(e, code, "A folder on the way to '%s' is a file, so it cannot hold other files.", path);
	return err_set(e, code, "'%s' %s.", path, fsafe_strerror(frc));
}

/* Writes data to fd; 0 or -errno. */
static int write_all(int fd, const void *data, size_t len)
{
	const char *d = data;
	while (len) {
		ssize_t w = write(fd, d, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		d += w;
		len -= (size_t)w;
	}
	return 0;
}

int projects_file_put(struct db *db, struct project *p, long long editor, const char *path, const void *data, size_t len,
		      struct err *e)
{
	return projects_file_put_if(db, p, editor, path, data, len, NULL, NULL, NULL, e);
}

/* Under the file lock: ERR_PRECONDITION (current gets the file's version, "" when there is none) when
 * ok refuses the file's current version. frc: fsafe_lstat's answer for path. */
static int precondition(int root, const char *path, int frc, project_file_ok_fn ok, void *arg, char *current,
			struct err *e)
{
	char v[41] = "";
	if (!ok)
		return 0;
	int exists = frc == 0 && git_file_version_at(v, root, path) == 0;
	if (current)
		snprintf(current, 41, "%s", v);
	if (ok(arg, exists ? v : NULL))
		return 0;
	if (!exists)
		return err_set(e, ERR_PRECONDITION, "'%s' was deleted since you opened it.", path);
	return err_set(e, ERR_PRECONDITION, "'%s' was changed since you opened it (it is at version %.7s now).", path, v);
}

int projects_file_put_if(struct db *db, struct project *p, long long editor, const char *path, const void *data,
			 size_t len, project_file_ok_fn ok, void *arg, char *current, struct err *e)
{
	if (current)
		current[0] = '\0';
	int rc = project_path_check(path, e);
	if (rc)
		return rc;
	long long max = cfg_long(CFG_PROJECT_MAX_FILE);
	if ((long long)len > max)
		return err_set(e, ERR_TOOBIG, "The file is %zu bytes; files may be at most %lld bytes.", len, max);
	if ((rc = github_link(p, path, "write", e)))
		return rc;
	int root = fsafe_root(p->workspace), dir = -1, git = -1, fd = -1;
	char tmp[64] = "";
	const char *leaf;
	if (root < 0)
		return err_set(e, ERR_FAIL, "writing %s: the project folder: %s", path, strerror(-root));
	/* Compare and rename under one lock: two writers who both read version v cannot both replace it. */
	if ((rc = store_project_files_lock(db, p->id, e))) {
		close(root);
		return rc;
	}
	struct stat st;
	long long old = 0;
	int frc = fsafe_lstat(root, path, &st);
	if (frc == 0 && S_ISREG(st.st_mode) && (rc = precondition(root, path, frc, ok, arg, current, e)))
		goto out;
	if (frc == -ENOENT && (rc = precondition(root, path, frc, ok, arg, current, e)))
		goto out;
	if (frc == 0) {
		if (S_ISDIR(st.st_mode))
			rc = err_set(e, ERR_CONFLICT, "'%s' is a folder.", path);
		else if (S_ISLNK(st.st_mode))
			rc = err_set(e, ERR_CONFLICT, "'%s' is a symbolic link in the project folder; ghbridge does not write "
				     "through links or replace them.", path);
		else if (!S_ISREG(st.st_mode))
			rc = err_set(e, ERR_CONFLICT, "'%s' is not a regular file (a fifo, socket or device).", path);
		old = st.st_size;
	} else if (frc != -ENOENT) {
		rc = path_refused(ERR_CONFLICT, path, frc, e);
	}
	if (rc)
		goto out;
	long long used = git_workspace_bytes(p->workspace), quota = cfg_long(CFG_PROJECT_QUOTA);
	if (used - old + (long long)len > quota) {
		rc = err_set(e, ERR_TOOBIG, "The project would use %lld bytes; its quota is %lld bytes.",
			     used - old + (long long)len, quota);
		goto out;
	}
	/* Folders made one at a time, each opened without following a link (never through one, never over a file). */
	if ((dir = fsafe_parent(root, path, &leaf, 1)) < 0) {
		rc = path_refused(ERR_CONFLICT, path, dir, e);
		goto out;
	}
	/* Written under .git, then renamed into place: nobody sees half a file. */
	if ((git = fsafe_open(root, ".git", O_PATH | O_DIRECTORY, 0)) < 0) {
		/* A .git that is not ghbridge's own folder was put there from outside (git_workspace_repo_open). */
		rc = git == -ELOOP || git == -ENOTDIR
			     ? err_set(e, ERR_CONFLICT, "The workspace's .git is not a folder (%s): something outside "
				       "ghbridge replaced it; nothing was written.", fsafe_strerror(git))
			     : err_set(e, ERR_FAIL, "writing %s: the workspace's .git: %s", path, fsafe_strerror(git));
		goto out;
	}
	unsigned char rnd[8] = { 0 };
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) /* O_EXCL below refuses a clash anyway */
		memcpy(rnd, &(long long){ (long long)getpid() ^ (long long)time(NULL) }, sizeof rnd);
	snprintf(tmp, sizeof tmp, "ghbridge-upload-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
		 rnd[4], rnd[5], rnd[6], rnd[7]);
	if ((fd = openat(git, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
		tmp[0] = '\0';
		rc = err_set(e, ERR_FAIL, "writing %s: %s", path, strerror(errno));
		goto out;
	}
	int wr = write_all(fd, data, len);
	fchmod(fd, 0644);
	if (close(fd) && !wr)
		wr = -errno;
	fd = -1;
	if (wr) {
		rc = err_set(e, ERR_FAIL, "writing %s: %s", path, strerror(-wr));
		goto out;
	}
	/* renameat replaces what is at leaf and never follows it: a link swapped in meanwhile is replaced, not written through. */
	if (renameat(git, tmp, dir, leaf)) {
		rc = errno == EISDIR ? err_set(e, ERR_CONFLICT, "'%s' is a folder.", path)
				     : err_set(e, ERR_FAIL, "writing %s: %s", path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
out:
	if (tmp[0] && git >= 0)
		unlinkat(git, tmp, 0);
	if (git >= 0)
		close(git);
	if (dir >= 0)
		close(dir);
	close(root);
	store_project_files_unlock(db);
	if (rc)
		return rc;
	if (current)
		git_blob_version(current, data, len);
	/* Who made it, once it is in the folder: a crash before this loses the name, never the change. Before
	 * projects_changed, so the sync it queues knows. */
	authorship_note(db, p->id, editor, path);
	struct err e2 = { 0 };
	if (projects_changed(db, p, &e2))
		log_msg(LOG_WARN, "project %lld: auto-sync not queued: %s", p->id, e2.msg);
	return 0;
}

int projects_file_get(char **data, size_t *len, struct project *p, const char *path, struct err *e)
{
	*data = NULL;
	*len = 0;
	int rc = project_path_check(path, e);
	if (rc)
		return rc;
	int root = fsafe_root(p->workspace);
	if (root < 0)
		return err_set(e, ERR_NOTFOUND, "There is no file '%s' in this project.", path);
	/* Looked at first, opened only if it is a regular file (opening a fifo waits, a device may act);
	 * O_NONBLOCK, and fstat after the open, for a file swapped meanwhile. */
	struct stat st;
	int fd = -1, frc = fsafe_lstat(root, path, &st);
	if (frc == 0 && S_ISREG(st.st_mode))
		fd = fsafe_open(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	close(root);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return err_set(e, ERR_NOTFOUND, "There is no file '%s' in this project.", path);
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		abort();
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

int projects_file_deletable(struct project *p, const char *path, struct err *e)
{
	int rc = project_path_check(path, e);
	if (rc)
		return rc;
	if ((rc = github_link(p, path, "delete", e)))
		return rc;
	int root = fsafe_root(p->workspace);
	if (root < 0)
		return err_set(e, ERR_NOTFOUND, "There is no file '%s' in this project.", path);
	struct stat st;
	int lrc = fsafe_lstat(root, path, &st);
	close(root);
	if (lrc || !S_ISREG(st.st_mode))
		return err_set(e, ERR_NOTFOUND, "There is no file '%s' in this project.", path);
	return 0;
}

int projects_file_delete(struct db *db, struct project *p, long long editor, const char *path, struct err *e)
{
	return projects_file_delete_if(db, p, editor, path, NULL, NULL, NULL, e);
}

int projects_file_delete_if(struct db *db, struct project *p, long long editor, const char *path,
			    project_file_ok_fn ok, void *arg, char *current, struct err *e)
{
	if (current)
		current[0] = '\0';
	int rc = project_path_check(path, e);
	if (rc)
		return rc;
	if ((rc = github_link(p, path, "delete", e)))
		return rc;
	int root = fsafe_root(p->workspace);
	if (root < 0)
		return err_set(e, ERR_NOTFOUND, "There is no file '%s' in this project.", path);
	if ((rc = store_project_files_lock(db, p->id, e))) {
		close(root);
		return rc;
	}
	struct stat st;
	int lrc = fsafe_lstat(root, path, &st), frc;
	if (ok && (lrc == -ENOENT || (lrc == 0 && S_ISREG(st.st_mode))) &&
	    (rc = precondition(root, path, lrc, ok, arg, current, e))) {
		store_project_files_unlock(db);
		close(root);
		return rc;
	}
	frc = fsafe_unlink_file(root, path);
	store_project_files_unlock(db);
	close(root);
	if (frc == -ENOENT || frc == -ELOOP || frc == -ENOTDIR || frc == -EISDIR || frc == -EPERM || frc == -EINVAL)
		return err_set(e, ERR_NOTFOUND, "There is no file '%s' in this project.", path);
	if (frc)
		return err_set(e, ERR_FAIL, "deleting %s: %s", path, fsafe_strerror(frc));
	authorship_note(db, p->id, editor, path); /* as projects_file_put_if */
	struct err e2 = { 0 };
	if (projects_changed(db, p, &e2))
		log_msg(LOG_WARN, "project %lld: auto-sync not queued: %s", p->id, e2.msg);
	return 0;
}

int projects_file_lfs(const struct project *p, const char *path)
{
	return git_workspace_lfs_path(p->workspace, path);
}

int projects_files(struct ws_file **files, int *n, struct project *p, struct err *e)
{
	/* What a sync would leave out is said on the files list (status "left_out", refused). */
	git_workspace_set_file_limit(cfg_long(CFG_PROJECT_MAX_FILE));
	int rc = git_workspace_files(files, n, p->workspace, p->exclude_patterns, e);
	/* Committed is not synced: a commit GitHub does not have yet (a failed push) keeps its files pending. */
	if (rc == 0 && p->repo_owner && git_workspace_mark_unpushed(files, n, p->workspace, projects_branch(p), e)) {
		git_workspace_files_free(*files, *n);
		*files = NULL;
		*n = 0;
		return e->code ? e->code : ERR_FAIL;
	}
	return rc;
}

int projects_pending(int *pending, int *total, struct project *p, struct err *e)
{
	struct ws_file *f;
	int n;
	*pending = 0;
	if (total)
		*total = 0;
	int rc = projects_files(&f, &n, p, e);
	if (rc)
		return rc;
	for (int i = 0; i < n; i++)
		*pending += strcmp(f[i].status, "synced") != 0 && strcmp(f[i].status, "excluded") != 0 &&
			    strcmp(f[i].status, "skipped") != 0 && strcmp(f[i].status, "left_out") != 0;
	if (total)
		*total = n;
	git_workspace_files_free(f, n);
	return 0;
}

const char *projects_branch(const struct project *p)
{
	if (p->sync_branch && *p->sync_branch)
		return p->sync_branch;
	if (p->repo_default_branch && *p->repo_default_branch)
		return p->repo_default_branch;
	return "main";
}

int projects_sync_enqueue(long long *job_id, struct db *db, struct project *p, const char *trigger, long long delay_ms,
			  struct err *e)
{
	if (!p->repo_owner)
		return err_set(e, ERR_CONFLICT, "Connect a GitHub repository to this project first.");
	char key[48], payload[96];
	/* A pull only brings GitHub's changes in (sync.c): its own key, so that it never takes the
	 * place of a waiting, maybe batched, sync of the workspace's changes. A webhook's pull is a pull
	 * that history names after what set it off. */
	int pull = strcmp(trigger, "pull") == 0 || strcmp(trigger, "webhook") == 0;
	snprintf(key, sizeof key, "%s:%lld", pull ? "pull" : "sync", p->id);
	snprintf(payload, sizeof payload, "{\"trigger\":\"%s\"}", trigger);
	struct jobs_enqueue_opts o = { .project_id = p->id, .payload = payload, .dedup_key = key,
				       .delay_ms = delay_ms };
	int coalesced = 0;
	long long id = 0;
	int rc = jobs_enqueue(&id, &coalesced, db, "sync", &o, e);
	if (rc)
		return rc;
	if (job_id)
		*job_id = id;
	return store_project_mark_pending(db, p->id, e);
}

int projects_next_sync(double *run_at, struct db *db, const struct project *p, struct err *e)
{
	*run_at = 0;
	struct job_row *rows = NULL;
	size_t n = 0;
	int rc = store_job_list(&rows, &n, db, "queued", "sync", NULL, p->id, 5, e);
	if (rc)
		return rc;
	/* A waiting pull (its own key) and a waiting sync may both be queued: the earlier says when. */
	for (size_t i = 0; i < n; i++)
		if (*run_at == 0 || rows[i].run_after_epoch < *run_at)
			*run_at = rows[i].run_after_epoch;
	store_job_rows_free(rows, n);
	return 0;
}

int projects_changed(struct db *db, struct project *p, struct err *e)
{
	if (!p->repo_owner || !p->auto_sync)
		return 0;
	return projects_sync_enqueue(NULL, db, p, "auto", (long long)p->batch_minutes * 60000, e);
}

/* ---------------------------------------------------------------- settings */

void projects_settings_of(struct project_settings *s, const struct project *p)
{
	s->auto_sync = p->auto_sync;
	s->batch_minutes = p->batch_minutes;
	s->pull_enabled = p->pull_enabled;
	s->lfs_threshold_mib = p->lfs_threshold_mib;
	s->sync_branch = p->sync_branch ? p->sync_branch : "";
	s->commit_template = p->commit_template;
	s->excludes = p->exclude_patterns;
}

/* The placeholders a commit message template may hold (projects_render_message). */
static const char *const placeholders[] = { "{{project}}", "{{timestamp}}", "{{files_changed}}", "{{user}}" };

int projects_template_problem(char *msg, size_t size, const char *tmpl)
{
	for (const char *s = strstr(tmpl, "{{"); s; s = strstr(s, "{{")) {
		int known = 0;
		for (size_t i = 0; i < sizeof placeholders / sizeof placeholders[0] && !known; i++)
			if (strncmp(s, placeholders[i], strlen(placeholders[i])) == 0) {
				s += strlen(placeholders[i]);
				known = 1;
			}
		if (known)
			continue;
		const char *end = strstr(s + 2, "}}");
		/* A name is quoted only when it is short and printable (it goes into a message). */
		size_t len = end ? (size_t)(end + 2 - s) : strlen(s);
		int quotable = len <= 40;
		for (size_t i = 0; i < len && quotable; i++)
			quotable = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
		const char *use = "Use {{project}}, {{timestamp}}, {{files_changed}} or {{user}}.";
		if (!end || memchr(s + 2, '\n', (size_t)(end - s - 2)))
			snprintf(msg, size, "A placeholder is not closed: %s%.*s%s needs }} after its name. %s",
				 quotable ? "'" : "", quotable ? (int)len : 0, s, quotable ? "'" : "the one here", use);
		else if (quotable)
			snprintf(msg, size, "Unknown placeholder '%.*s'. %s", (int)len, s, use);
		else
			snprintf(msg, size, "The template holds an unknown placeholder. %s", use);
		return 1;
	}
	return 0;
}

int projects_exclude_problem(char *msg, size_t size, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		n--; /* gitignore(5): trailing spaces are ignored unless escaped */
	if (!n || line[0] == '#')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (line[i] == '\\') {
			if (++i == n) {
				snprintf(msg, size, "ends with a backslash, which escapes nothing: git ignores such a pattern.");
				return 1;
			}
		} else if (line[i] == '[') {
			/* wildmatch: "[]…]" and "[!]…]" hold a ']' as their first member. */
			size_t j = i + 1;
			if (j < n && (line[j] == '!' || line[j] == '^'))
				j++;
			if (j < n && line[j] == ']')
				j++;
			while (j < n && line[j] != ']') {
				if (line[j] == '\\')
					j++;
				j++;
			}
			if (j >= n) {
				snprintf(msg, size, "has a '[' without its ']': the pattern would match no file.");
				return 1;
			}
			i = j;
		}
	}
	return 0;
}

int projects_exclude_counts(struct exclude_count **out, int *n, int *total, struct project *p, const char *excludes,
			    struct err *e)
{
	*out = NULL;
	*n = 0;
	*total = 0;
	struct exclude_count *rows = NULL;
	const char **rules = NULL;
	int cnt = 0, cap = 0, rc = 0;
	char *copy = strdup(excludes ? excludes : "");
	if (!copy)
		abort();
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		while (l && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t'))
			line[--l] = '\0';
		if (!l || line[0] == '#')
			continue;
		if (cnt == PROJECT_EXCLUDE_COUNT_MAX)
			break;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			rows = realloc(rows, (size_t)cap * sizeof *rows);
			rules = realloc(rules, (size_t)cap * sizeof *rules);
			if (!rows || !rules)
				abort();
		}
		rows[cnt].pattern = strdup(line);
		if (!rows[cnt].pattern)
			abort();
		rules[cnt] = rows[cnt].pattern;
		rows[cnt].files = -1;
		cnt++;
	}
	free(copy);
	if (cnt) {
		int *counts = calloc((size_t)cnt, sizeof *counts);
		if (!counts)
			abort();
		rc = git_workspace_exclude_counts(counts, total, p->workspace, rules, cnt, PROJECT_EXCLUDE_CHECKS_MAX, e);
		for (int i = 0; i < cnt && !rc; i++)
			rows[i].files = counts[i];
		free(counts);
	}
	free(rules);
	*out = rows;
	*n = cnt;
	return rc;
}

void projects_exclude_counts_free(struct exclude_count *rows, int n)
{
	for (int i = 0; i < n; i++)
		free((char *)rows[i].pattern);
	free(rows);
}

void projects_settings_check(struct json_object *fe, struct project *p, const struct project_settings *s)
{
	const char *b = s->sync_branch ? s->sync_branch : "";
	const char *branch_why;
	if (*b && (branch_why = git_branch_name_problem(b))) {
		/* The name is not repeated: it may hold control characters. */
		char msg[200];
		snprintf(msg, sizeof msg, "That is not a valid git branch name: a branch name %s.", branch_why);
		json_object_object_add(fe, "sync_branch", json_object_new_string(msg));
	}
	const char *t = s->commit_template ? s->commit_template : "";
	size_t tl = strlen(t);
	int blank = 1;
	for (const char *c = t; *c; c++)
		if (*c != ' ' && *c != '\n' && *c != '\r' && *c != '\t')
			blank = 0;
	if (blank)
		json_object_object_add(fe, "commit_template", json_object_new_string("The commit message template cannot be empty."));
	else if (tl > 2000)
		json_object_object_add(fe, "commit_template", json_object_new_string("The commit message template is longer than 2000 characters."));
	else {
		char msg[300];
		if (projects_template_problem(msg, sizeof msg, t))
			json_object_object_add(fe, "commit_template", json_object_new_string(msg));
	}
	const char *x = s->excludes ? s->excludes : "";
	int lines = 1;
	for (const unsigned char *c = (const unsigned char *)x; *c; c++) {
		if (*c == '\n')
			lines++;
		else if ((*c < 0x20 && *c != '\t' && *c != '\r') || *c == 0x7f) {
			json_object_object_add(fe, "excludes", json_object_new_string("Exclude patterns may not contain control characters."));
			break;
		}
	}
	if (strlen(x) > 10000 || lines > 500)
		json_object_object_add(fe, "excludes", json_object_new_string("At most 500 exclude patterns and 10,000 characters."));
	if (!json_object_object_get_ex(fe, "excludes", NULL)) {
		/* Each line as git reads it, then the whole set against the files there are now: a set that
		 * leaves nothing to sync is a mistake to say, not to save (a lone '*' did that silently). */
		char *copy = strdup(x), msg[300];
		if (!copy)
			abort();
		int no = 0, bad = 0;
		for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line && !bad;
		     line = strtok_r(NULL, "\n", &save)) {
			no++;
			char why[200];
			if (projects_exclude_problem(why, sizeof why, line)) {
				snprintf(msg, sizeof msg, "Line %d %s", no, why);
				json_object_object_add(fe, "excludes", json_object_new_string(msg));
				bad = 1;
			}
		}
		free(copy);
		int total = 0, all = 0;
		struct err ce = { 0 };
		const char *rules[1] = { x };
		if (!bad && *x && git_workspace_exclude_counts(&all, &total, p->workspace, rules, 1,
							       PROJECT_EXCLUDE_CHECKS_MAX, &ce) == 0 &&
		    total > 0 && all == total) {
			snprintf(msg, sizeof msg, "These patterns exclude every file in the project (%d of %d): nothing "
				 "would sync. Remove the pattern that matches everything (such as '*').", all, total);
			json_object_object_add(fe, "excludes", json_object_new_string(msg));
		}
	}
	if (s->batch_minutes < 0 || s->batch_minutes > 1440)
		json_object_object_add(fe, "batch_minutes", json_object_new_string("The batch timeout is 0 to 1440 minutes."));
	/* GitHub's largest Git LFS object on its Free plan is 2 GB (docs "About Git Large File Storage"). */
	if (s->lfs_threshold_mib < 0 || s->lfs_threshold_mib > 2048)
		json_object_object_add(fe, "lfs_threshold_mib",
				       json_object_new_string("Store files in Git LFS over 0 (off) to 2048 MiB."));
}

/* The audit row's details for a settings change: {"field":{"old":…,"new":…},…} for each field that
 * changes (text fields cut to 200 bytes; the whole under size, else only the field names). */
static void projects_settings_diff(char *buf, size_t size, const struct project *p, const struct project_settings *s)
{
	struct json_object *o = json_object_new_object();
	const char *names[] = { "sync_branch", "commit_template", "exclude_patterns" };
	const char *olds[] = { p->sync_branch, p->commit_template, p->exclude_patterns };
	const char *news[] = { s->sync_branch, s->commit_template, s->excludes };
	for (int i = 0; i < 3; i++) {
		const char *a = olds[i] ? olds[i] : "", *b = news[i] ? news[i] : "";
		if (strcmp(a, b) == 0)
			continue;
		struct json_object *c = json_object_new_object();
		json_object_object_add(c, "old", json_object_new_string_len(a, (int)(strlen(a) > 200 ? 200 : strlen(a))));
		json_object_object_add(c, "new", json_object_new_string_len(b, (int)(strlen(b) > 200 ? 200 : strlen(b))));
		json_object_object_add(o, names[i], c);
	}
	const char *inames[] = { "auto_sync", "batch_minutes", "pull_enabled", "lfs_threshold_mib" };
	int iolds[] = { p->auto_sync, p->batch_minutes, p->pull_enabled, p->lfs_threshold_mib };
	int inews[] = { s->auto_sync, s->batch_minutes, s->pull_enabled, s->lfs_threshold_mib };
	for (int i = 0; i < 4; i++) {
		if (iolds[i] == inews[i])
			continue;
		struct json_object *c = json_object_new_object();
		json_object_object_add(c, "old", json_object_new_int(iolds[i]));
		json_object_object_add(c, "new", json_object_new_int(inews[i]));
		json_object_object_add(o, inames[i], c);
	}
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(buf, size, "%s", strlen(t) < size ? t : "{\"changed\":\"too long to record\"}");
	json_object_put(o);
}

int projects_settings_update(struct db *db, struct project *p, const struct project_settings *s,
			     struct json_object **field_errors, struct err *e)
{
	struct json_object *fe = json_object_new_object();
	projects_settings_check(fe, p, s);
	if (json_object_object_length(fe) > 0) {
		if (field_errors)
			*field_errors = fe;
		else
			json_object_put(fe);
		return err_set(e, ERR_INVALID, "Some settings are not valid; nothing was saved.");
	}
	json_object_put(fe);
	if (field_errors)
		*field_errors = NULL;
	char det[4000];
	projects_settings_diff(det, sizeof det, p, s);
	int rc = db_begin(db, e);
	if (rc)
		return rc;
	return ops_audit_commit(db, store_project_set_settings(db, p->id, s->auto_sync, s->sync_branch ? s->sync_branch : "",
					  s->commit_template ? s->commit_template : "", s->excludes ? s->excludes : "",
					  s->batch_minutes, s->pull_enabled, s->lfs_threshold_mib, e),
				"project.settings_changed", "project", NULL, p->id, det, e);
}

char *projects_render_message(const char *tmpl, const char *project, int files_changed, const char *user)
{
	struct buf b = BUF_INIT;
	char ts[32], n[16];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(n, sizeof n, "%d", files_changed);
	static const char *names[] = { "{{project}}", "{{timestamp}}", "{{files_changed}}", "{{user}}" };
	const char *vals[] = { project, ts, n, user };
	for (const char *s = tmpl; *s;) {
		int hit = 0;
		for (int i = 0; i < 4 && !hit; i++) {
			size_t l = strlen(names[i]);
			if (strncmp(s, names[i], l) == 0) {
				buf_puts(&b, vals[i]);
				s += l;
				hit = 1;
			}
		}
		if (!hit)
			buf_putc(&b, *s++);
	}
	if (!b.len || b.data[b.len - 1] != '\n')
		buf_putc(&b, '\n');
	return buf_steal(&b);
}

/* ---------------------------------------------------------------- repository */

static int name_ok(const char *s, size_t max)
{
	if (!s || !*s || strlen(s) > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("._-", *c)))
			return 0;
	return 1;
}

int projects_repo_in_use(char *msg, size_t size, struct db *db, const struct project *p, long long user_id,
			 long long repo_id, const char *full, struct err *e)
{
	long long oid, owner;
	char *oname = NULL;
	int rc = store_project_sharing_repo(&oid, &owner, &oname, db, p->id, repo_id, full, e);
	if (rc)
		return rc;
	if (!oid)
		return 0;
	/* Another user's project is not named: its name is theirs. */
	if (owner == user_id)
		snprintf(msg, size, "Your project “%s” is connected to %s already. Two projects linked to one repository "
			 "would pull each other's files in and push them out again; ghbridge links a repository to one "
			 "project only. Disconnect “%s” first, or create a new repository for this project.", oname, full,
			 oname);
	else
		snprintf(msg, size, "Another project on this ghbridge is connected to %s already. Two projects linked to "
			 "one repository would pull each other's files in and push them out again; ghbridge links a "
			 "repository to one project only. Create a new repository for this project, or ask the other "
			 "project's owner to disconnect it.", full);
	free(oname);
	return 1;
}

/* Checks the request, records it and queues the connect job (connect.c), which talks to GitHub. */
int projects_connect(struct db *db, struct project *p, long long user_id, const char *mode, const char *owner,
		     const char *name, int private_, const char *description, long long *job_id, struct err *e)
{
	if (!mode || (strcmp(mode, "create") != 0 && strcmp(mode, "link") != 0))
		return err_set(e, ERR_INVALID, "mode must be \"create\" or \"link\".");
	if (!name_ok(name, 100))
		return err_set_field(e, ERR_INVALID, "name", "A repository name is 1 to 100 letters, digits, '.', '-' or '_'.");
	if (owner && *owner && !name_ok(owner, 39))
		return err_set_field(e, ERR_INVALID, "owner", "That is not a valid GitHub account name.");
	if (description && strlen(description) > 350)
		return err_set_field(e, ERR_INVALID, "description", "The description may be at most 350 characters.");
	for (const unsigned char *c = (const unsigned char *)(description ? description : ""); *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return err_set_field(e, ERR_INVALID, "description", "The description may not contain control characters.");
	if (p->repo_owner)
		return err_set(e, ERR_CONFLICT, "This project is already connected to %s/%s; disconnect it first.",
			       p->repo_owner, p->repo_name);
	/* Whether GitHub is connected at all is in the database; whether GitHub agrees is the job's to find. */
	struct connection conn;
	int rc = store_connection_get(&conn, db, user_id, 0, e);
	if (rc == ERR_NOTFOUND)
		return err_set(e, ERR_UNAUTH, "Your account is not connected to GitHub. Sign in with GitHub again, then connect.");
	if (rc)
		return rc;
	if (strcmp(conn.status, "ok") != 0)
		rc = err_set(e, ERR_UNAUTH, "GitHub access is not available (%s). Reconnect GitHub on your account page.",
			     conn.status_reason ? conn.status_reason : conn.status);
	store_connection_free(&conn);
	if (rc)
		return rc;
	struct user u = { 0 };
	if ((rc = store_user_get(&u, db, user_id, e)))
		return rc;
	const char *who = owner && *owner ? owner : u.login;
	/* Known by name here (GitHub's id is the job's to read, and it checks again by id before linking). */
	char full[160], why[600];
	snprintf(full, sizeof full, "%s/%s", who, name);
	if ((rc = projects_repo_in_use(why, sizeof why, db, p, user_id, 0, full, e)) != 0) {
		if (rc == 1)
			rc = err_set_field(e, ERR_CONFLICT, "name", "%s", why);
		goto out;
	}
	char key[48];
	snprintf(key, sizeof key, "connect:%lld", p->id);
	/* The request and its job in one transaction: a request that says "queued" always has a job. */
	struct jobs_enqueue_opts o = { .project_id = p->id, .dedup_key = key, .priority = 50 };
	long long id = 0;
	int coalesced = 0;
	if ((rc = db_begin(db, e)))
		goto out;
	char det[600];
	if ((rc = store_connect_put(db, p->id, user_id, mode, who, name, private_, description, e)) ||
	    (rc = jobs_enqueue(&id, &coalesced, db, "connect", &o, e)) || (rc = store_connect_set_job(db, p->id, id, e)) ||
	    (rc = store_audit_add(db, "repository.connect_requested", "repository", full, p->id, "success",
				  ops_audit_kv(det, sizeof det, "mode", mode), e))) {
		db_rollback(db);
		goto out;
	}
	if ((rc = db_commit(db, e)))
		goto out;
	if (job_id)
		*job_id = id;
out:
	store_user_free(&u);
	return rc;
}

int projects_disconnect(struct db *db, struct project *p, struct err *e)
{
	/* A connect still under way is called off (its job checks the request before it links). */
	long long job = 0;
	int rc = store_connect_cancel(&job, db, p->id, e);
	if (rc)
		return rc;
	if (job) {
		struct err e2 = { 0 };
		if (jobs_cancel(db, job, &e2) && e2.code != ERR_CONFLICT)
			log_msg(LOG_WARN, "project %lld: connect job %lld not cancelled: %s", p->id, job, e2.msg);
	}
	if (!p->repo_owner)
		return job ? 0 : err_set(e, ERR_NOTFOUND, "This project is not connected to a repository.");
	repo_unlinked(db, p); /* the hook goes (a job), the stored pull requests too */
	char full[300];
	snprintf(full, sizeof full, "%s/%s", p->repo_owner, p->repo_name ? p->repo_name : "");
	if ((rc = db_begin(db, e)))
		return rc;
	return ops_audit_commit(db, store_project_set_repo(db, p->id, NULL, NULL, NULL, NULL, NULL, 0, e),
				"repository.disconnected", "repository", full, p->id, NULL, e);
}

void projects_files_versions(struct ws_file *files, int from, int to, struct project *p)
{
	git_workspace_versions(files, from, to, p->workspace);
}
