/* workspace.c: a project's workspace as a git working tree, with libgit2. Never forces a push. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <git2.h>
#include <json-c/json.h>
#include <sodium.h>
#include "core/buf.h"
#include "core/fsafe.h"
#include "git/lfs.h"
#include "git/netstream.h"
#include "git/workspace.h"

/* libgit2's documented *_INIT macros set only the version fields. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static void lib_init(void)
{
	static int done;
	if (!done) {
		git_libgit2_init();
		/* Creating a tree checks that each of its objects exists: for a 10,000-file project
		 * that is 10,000 object look-ups per commit, for blobs this process has just written. */
		git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
		git_netstream_register();
		git_lfs_filter_register(); /* git/lfs.c: filter=lfs paths commit their pointer, the folder the content */
		done = 1;
	}
}

void git_workspace_set_timeout(int seconds)
{
	git_netstream_timeout(seconds);
}

/* Sets e from libgit2's last error, mapping the codes callers act on. */
static int git_fail(struct err *e, int grc, const char *what)
{
	const git_error *ge = git_error_last();
	const char *msg = ge && ge->message ? ge->message : "unknown error";
	int code = ERR_FAIL;
	if (grc == GIT_EAUTH || strstr(msg, "authentication") || strstr(msg, "401"))
		code = ERR_UNAUTH;
	else if (grc == GIT_ENONFASTFORWARD || grc == GIT_EMERGECONFLICT)
		code = ERR_CONFLICT;
	else if (strstr(msg, "timed out"))
		code = ERR_TIMEOUT;
	return err_set(e, code, "%s: %s", what, msg);
}

static int mkdir_p(const char *dir)
{
	char *d = strdup(dir);
	if (!d)
		abort();
	for (char *p = d + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(d, 0755) && errno != EEXIST) {
				free(d);
				return -1;
			}
			*p = '/';
		}
	}
	int rc = mkdir(d, 0755) && errno != EEXIST ? -1 : 0;
	free(d);
	return rc;
}

/* core.symlinks=false (git-config(1)): checkout and merge write a link from GitHub as a regular file
 * holding its text, and the index and diff keep its mode 120000 (libgit2 1.5: checkout.c
 * blob_content_to_link, diff_generate.c maybe_modified, index.c index_merge_mode). A repository made
 * before this rule gets it at its next open: 1 when it was written (the open repository's cached
 * settings are then stale: open it again). */
static int symlinks_off(git_repository *repo)
{
	git_config *cfg = NULL;
	int on = 1, wrote = 0;
	if (git_repository_config(&cfg, repo) == 0) {
		if (git_config_get_bool(&on, cfg, "core.symlinks") != 0)
			on = 1;
		if (on && git_config_set_bool(cfg, "core.symlinks", 0) == 0)
			wrote = 1;
	}
	git_config_free(cfg);
	return wrote;
}

/* The workspace's repository is its own .git folder, nothing else: a .git that is a link, or a file
 * ("gitdir: ../other/.git", as git writes for worktrees), put there from outside would make every git
 * operation work on another repository (another project's history pushed to this project's GitHub). */
static int dotgit_check(const char *dir, struct err *e)
{
	int root = fsafe_root(dir);
	if (root < 0)
		return err_set(e, ERR_FAIL, "opening the workspace: %s", strerror(-root));
	struct stat st;
	int rc = fsafe_lstat(root, ".git", &st);
	close(root);
	if (rc == -ENOENT)
		return 0; /* no repository yet: libgit2 says so */
	if (rc || !S_ISDIR(st.st_mode))
		return err_set(e, ERR_CONFLICT, "The workspace's .git is not a folder (%s): something outside ghbridge "
			       "replaced it; nothing was read or written.", rc ? fsafe_strerror(rc) : "a file");
	return 0;
}

int git_workspace_repo_open(git_repository **repo, const char *dir, struct err *e)
{
	lib_init();
	*repo = NULL;
	int rc = dotgit_check(dir, e);
	if (rc)
		return rc;
	int grc = git_repository_open_ext(repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (grc)
		return git_fail(e, grc, "opening the workspace");
	if (symlinks_off(*repo)) {
		git_repository_free(*repo);
		*repo = NULL;
		if ((grc = git_repository_open_ext(repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)))
			return git_fail(e, grc, "opening the workspace");
	}
	return 0;
}

int git_workspace_init(const char *dir, struct err *e)
{
	lib_init();
	if (mkdir_p(dir))
		return err_set(e, ERR_FAIL, "workspace %s: %s", dir, strerror(errno));
	git_repository *repo = NULL;
	int rc = dotgit_check(dir, e);
	if (rc)
		return rc;
	if (git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0) {
		symlinks_off(repo);
		git_repository_free(repo);
		return 0;
	}
	int grc = git_repository_init(&repo, dir, 0);
	if (grc)
		return git_fail(e, grc, "creating the workspace repository");
	symlinks_off(repo);
	git_repository_free(repo);
	return 0;
}

static int open_repo(git_repository **repo, const char *dir, const char *excludes, struct err *e)
{
	int rc = git_workspace_repo_open(repo, dir, e);
	if (rc)
		return rc;
	int grc;
	/* git/lfs.c's temporary files (".ghbridge-lfs-<hex>.tmp", beside an LFS file while its content comes
	 * in) are never synced, even one a crash left behind. */
	if ((grc = git_ignore_add_rule(*repo, ".ghbridge-lfs-*.tmp\n")) != 0 ||
	    (excludes && *excludes && (grc = git_ignore_add_rule(*repo, excludes)) != 0)) {
		git_repository_free(*repo);
		*repo = NULL;
		return git_fail(e, grc, "exclude patterns");
	}
	return 0;
}

int git_workspace_excluded(const char *dir, const char *excludes, const char *path)
{
	git_repository *repo;
	struct err e = { 0 };
	if (open_repo(&repo, dir, excludes, &e))
		return 0;
	int ign = 0;
	git_ignore_path_is_ignored(&ign, repo, path);
	git_repository_free(repo);
	return ign;
}

/* ---------------------------------------------------------------- files and status */

struct walk {
	struct ws_file *files;
	int n, cap;
	long long bytes;
	int collect;               /* 0: count bytes only; 1: list everything; 2: list what is not synced */
	git_index *links;          /* collect 2: the index, when it holds links from GitHub */
};

static struct ws_file *walk_add(struct walk *w, const char *path, const char *status, const char *kind, long long size,
				long long mtime_ns)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->files = realloc(w->files, (size_t)w->cap * sizeof *w->files);
		if (!w->files)
			abort();
	}
	struct ws_file *f = &w->files[w->n++];
	f->path = strdup(path);
	if (!f->path)
		abort();
	f->status = status;
	f->kind = kind;
	f->target = NULL;
	f->lfs = 0;
	f->refused = NULL;
	f->size = size;
	f->mtime_ns = mtime_ns;
	f->version[0] = '\0';
	return f;
}

/* What a folder entry that is neither a regular file nor a folder is, in the files list's words. */
static const char *odd_kind(mode_t m)
{
	if (S_ISLNK(m))
		return "symlink";
	if (S_ISFIFO(m))
		return "fifo";
	if (S_ISSOCK(m))
		return "socket";
	return "device";
}

static int index_has_links(git_index *idx)
{
	size_t n = git_index_entrycount(idx);
	for (size_t i = 0; i < n; i++) {
		const git_index_entry *ie = git_index_get_byindex(idx, i);
		if (ie && ie->mode == GIT_FILEMODE_LINK)
			return 1;
	}
	return 0;
}

static const git_index_entry *link_entry(git_index *idx, const char *path);

/* Walks the folder open at dfd (taken: closed here) by descriptors, never following a link: regular
 * files are project content; links, fifos, sockets and devices are listed as "skipped", never opened.
 * A folder (and, when only what is not synced is wanted, a regular file) costs no stat: d_type says
 * what it is and openat(O_DIRECTORY | O_NOFOLLOW) refuses it if it has become a link since. */
static void walk_into(struct walk *w, int dfd, char *rel, size_t len);

static void walk_dir(struct walk *w, int dfd, const char *rel)
{
	char path[4096];
	size_t len = strlen(rel);
	if (len >= sizeof path) {
		close(dfd);
		return;
	}
	memcpy(path, rel, len + 1);
	walk_into(w, dfd, path, len);
}

/* rel: a buffer of 4096 bytes holding the folder's path (len bytes), extended in place for each entry. */
static void walk_into(struct walk *w, int dfd, char *rel, size_t len)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!len && strcmp(de->d_name, ".git") == 0)
			continue;
		size_t nl = strlen(de->d_name), l2 = len + (len ? 1 : 0) + nl;
		if (l2 >= 4096)
			continue; /* longer than any path git or the API takes */
		if (len)
			rel[len] = '/';
		memcpy(rel + len + (len ? 1 : 0), de->d_name, nl + 1);
		struct stat st;
		memset(&st, 0, sizeof st);
		if (de->d_type == DT_DIR)
			st.st_mode = S_IFDIR;
		else if (de->d_type == DT_REG && w->collect == 2)
			st.st_mode = S_IFREG;
		else if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			st.st_mode = 0;
		long long mtime = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				walk_into(w, sub, rel, l2);
		} else if (S_ISREG(st.st_mode)) {
			w->bytes += st.st_size;
			if (w->collect == 1 || (w->collect == 2 && w->links && link_entry(w->links, rel)))
				walk_add(w, rel, "synced", "file", st.st_size, mtime);
		} else if (st.st_mode && w->collect) {
			walk_add(w, rel, "skipped", odd_kind(st.st_mode), S_ISLNK(st.st_mode) ? st.st_size : 0, mtime);
		}
		rel[len] = '\0';
	}
	closedir(d);
}

static void walk_root(struct walk *w, const char *dir)
{
	int fd = fsafe_root(dir);
	if (fd >= 0)
		walk_dir(w, fd, "");
}

/* git reads .gitignore and .gitattributes in the folder by path, following links and opening fifos
 * (libgit2 1.5 futils.c git_futils_readbuffer_updated: stat, then open): one that is not a regular file
 * would have libgit2 read outside the folder, or wait forever on a fifo. 0, or ERR_CONFLICT naming it. */
static int rules_check_walk(const struct walk *w, struct err *e)
{
	for (int i = 0; i < w->n; i++) {
		const struct ws_file *f = &w->files[i];
		if (strcmp(f->status, "skipped") != 0 || strcmp(f->kind, "file") == 0)
			continue;
		const char *base = strrchr(f->path, '/');
		base = base ? base + 1 : f->path;
		if (strcmp(base, ".gitignore") == 0 || strcmp(base, ".gitattributes") == 0)
			return err_set(e, ERR_CONFLICT, "'%s' in the project folder is a %s, not a regular file; git reads it as "
				       "rules, and ghbridge never follows links or opens fifos or devices in a project "
				       "folder. Remove it or make it a regular file.", f->path, f->kind);
	}
	return 0;
}

int git_workspace_rules_check(const char *dir, struct err *e)
{
	struct walk w = { .collect = 2 };
	walk_root(&w, dir);
	int rc = rules_check_walk(&w, e);
	git_workspace_files_free(w.files, w.n);
	return rc;
}

long long git_workspace_bytes(const char *dir)
{
	struct walk w = { 0 };
	walk_root(&w, dir);
	return w.bytes;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct ws_file *)a)->path, ((const struct ws_file *)b)->path);
}

/* The index entry (stage 0) of mode 120000 at path or at a folder on its way; NULL when none. */
static const git_index_entry *link_entry(git_index *idx, const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n >= sizeof buf)
		return NULL;
	memcpy(buf, path, n + 1);
	for (;;) {
		const git_index_entry *ie = git_index_get_bypath(idx, buf, 0);
		if (ie && ie->mode == GIT_FILEMODE_LINK)
			return ie;
		char *slash = strrchr(buf, '/');
		if (!slash)
			return NULL;
		*slash = '\0';
	}
}

/* A link's text as stored in git (at most 4 KiB; git's links are paths). Caller frees. */
static char *link_text(git_repository *repo, const git_oid *id, long long *size)
{
	git_blob *b = NULL;
	char *t = NULL;
	if (git_blob_lookup(&b, repo, id) == 0) {
		size_t n = (size_t)git_blob_rawsize(b);
		if (size)
			*size = (long long)n;
		t = strndup(git_blob_rawcontent(b), n > 4096 ? 4096 : n);
		git_blob_free(b);
	}
	return t;
}

int git_workspace_link_of(char **link, char **target, const char *dir, const char *path)
{
	if (link)
		*link = NULL;
	if (target)
		*target = NULL;
	git_repository *repo;
	git_index *idx = NULL;
	struct err e = { 0 };
	if (open_repo(&repo, dir, NULL, &e))
		return 0;
	int found = 0;
	if (git_repository_index(&idx, repo) == 0) {
		const git_index_entry *ie = link_entry(idx, path);
		if (ie) {
			found = 1;
			if (link && !(*link = strdup(ie->path)))
				abort();
			if (target)
				*target = link_text(repo, &ie->id, NULL);
		}
	}
	git_index_free(idx);
	git_repository_free(repo);
	return found;
}

static int base_is(const char *path, const char *name)
{
	const char *b = strrchr(path, '/');
	return strcmp(b ? b + 1 : path, name) == 0;
}

static int attributes_file_in(int level, const char *name)
{
	git_buf b = { 0 };
	int found = 0;
	if (git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, level, &b) == 0 && b.ptr) {
		for (char *s = b.ptr, *end; *s && !found; s = *end ? end + 1 : end) {
			end = strchr(s, ':');
			if (!end)
				end = s + strlen(s);
			char path[4096];
			struct stat st;
			snprintf(path, sizeof path, "%.*s/%s", (int)(end - s), s, name);
			found = end > s && stat(path, &st) == 0;
		}
	}
	git_buf_dispose(&b);
	return found;
}

/* 1 when a filter may apply to some file (gitattributes(5): a .gitattributes in the folder or the index,
 * $GIT_DIR/info/attributes, core.attributesFile, the XDG or system attributes file; or core.autocrlf
 * on, git-config(1): 2, any file may be converted); 0 when none can, so that no file's bytes differ from
 * its blob in git. */
static int filters_possible(git_repository *repo, git_index *idx, const struct ws_file *files, int n)
{
	git_config *cfg = NULL;
	git_buf v = { 0 };
	int on = 0;
	if (git_repository_config_snapshot(&cfg, repo) != 0)
		return 2;
	if (git_config_get_string_buf(&v, cfg, "core.autocrlf") == 0 && v.ptr && strcasecmp(v.ptr, "false") != 0 &&
	    strcmp(v.ptr, "0") != 0 && strcasecmp(v.ptr, "no") != 0 && strcasecmp(v.ptr, "off") != 0)
		on = 2; /* every file may be converted */
	git_buf_dispose(&v);
	if (!on && git_config_get_string_buf(&v, cfg, "core.attributesfile") == 0 && v.ptr && *v.ptr)
		on = 1;
	git_buf_dispose(&v);
	git_config_free(cfg);
	if (on)
		return on;
	for (int i = 0; i < n; i++)
		if (base_is(files[i].path, ".gitattributes"))
			return 1;
	size_t ni = git_index_entrycount(idx);
	for (size_t i = 0; i < ni; i++) {
		const git_index_entry *ie = git_index_get_byindex(idx, i);
		if (ie && base_is(ie->path, ".gitattributes"))
			return 1;
	}
	char info[4096];
	struct stat st;
	snprintf(info, sizeof info, "%sinfo/attributes", git_repository_path(repo));
	return stat(info, &st) == 0 || attributes_file_in(GIT_CONFIG_LEVEL_XDG, "attributes") ||
	       attributes_file_in(GIT_CONFIG_LEVEL_SYSTEM, "gitattributes");
}

static int lfs_rule(git_repository *repo, const char *path);
static const char *refusal_of(char *buf, size_t len, git_repository *repo, const char *path, long long size, int lfs);
static int lfs_rules_present(git_repository *repo, git_index *idx, int root, const char *const *more, size_t nmore);
static int is_attr_file(const char *path);

int git_workspace_files(struct ws_file **files, int *n, const char *dir, const char *excludes, struct err *e)
{
	*files = NULL;
	*n = 0;
	git_repository *repo;
	git_index *idx = NULL;
	int rc = open_repo(&repo, dir, excludes, e);
	if (rc)
		return rc;
	int root = -1;
	struct walk w = { .collect = 1 };
	git_status_list *sl = NULL;
	int grc = git_repository_index(&idx, repo);
	if (grc) {
		rc = git_fail(e, grc, "reading the index");
		goto out;
	}
	root = fsafe_root(dir);
	if (root < 0) {
		rc = err_set(e, ERR_FAIL, "workspace %s: %s", dir, strerror(-root));
		goto out;
	}
	walk_dir(&w, fcntl(root, F_DUPFD_CLOEXEC, 0), "");
	if ((rc = rules_check_walk(&w, e)))
		goto out;
	/* The status below does not hash an LFS file in memory (a file changed since the index was written,
	 * "racy", still is: this reader writes nothing). */
	git_lfs_settle(NULL, repo, idx, root, 0);
	if (w.n > 1) /* an empty folder has no array: qsort(NULL, …) is undefined */
		qsort(w.files, (size_t)w.n, sizeof *w.files, cmp_file);
	git_status_options so = GIT_STATUS_OPTIONS_INIT;
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	grc = git_status_list_new(&sl, repo, &so);
	if (grc) {
		rc = git_fail(e, grc, "workspace status");
		goto out;
	}
	int nwalked = w.n;
	size_t cnt = git_status_list_entrycount(sl);
	for (size_t i = 0; i < cnt; i++) {
		const git_status_entry *se = git_status_byindex(sl, i);
		const git_diff_delta *dd = se->index_to_workdir ? se->index_to_workdir : se->head_to_index;
		if (!dd)
			continue;
		const char *path = dd->new_file.path ? dd->new_file.path : dd->old_file.path;
		if (link_entry(idx, path))
			continue; /* GitHub's links: below */
		unsigned s = se->status;
		if (s & (GIT_STATUS_WT_NEW | GIT_STATUS_WT_MODIFIED | GIT_STATUS_WT_TYPECHANGE | GIT_STATUS_WT_RENAMED |
			 GIT_STATUS_WT_UNREADABLE | GIT_STATUS_CONFLICTED)) {
			/* The folder's bytes are not the index's: no version from the index (see below). */
			struct ws_file key = { .path = (char *)path };
			struct ws_file *f = nwalked ? bsearch(&key, w.files, (size_t)nwalked, sizeof *w.files, cmp_file) : NULL;
			if (f)
				f->version[0] = '-';
		}
		/* Compared with the last commit: staged-but-uncommitted counts as changed. */
		const char *st = NULL;
		if (s & GIT_STATUS_WT_DELETED || ((s & GIT_STATUS_INDEX_DELETED) && !(s & GIT_STATUS_WT_NEW)))
			st = "deleted";
		else if (s & (GIT_STATUS_WT_NEW | GIT_STATUS_INDEX_NEW))
			st = "new";
		else if (s & (GIT_STATUS_WT_MODIFIED | GIT_STATUS_INDEX_MODIFIED | GIT_STATUS_WT_TYPECHANGE))
			st = "modified";
		if (!st)
			continue;
		struct ws_file key = { .path = (char *)path };
		struct ws_file *f = nwalked ? bsearch(&key, w.files, (size_t)nwalked, sizeof *w.files, cmp_file) : NULL;
		struct stat lst;
		if (f && strcmp(f->kind, "file") == 0)
			f->status = strcmp(st, "deleted") == 0 ? "new" : st;
		else if (!f && strcmp(st, "deleted") == 0)
			/* A file behind a link made in the folder is not deleted: the link is skipped, the file kept. */
			walk_add(&w, path, fsafe_lstat(root, path, &lst) == -ELOOP ? "skipped" : "deleted", "file", -1, 0);
	}
	/* Links from GitHub: in git they stay links; in the folder they are a file holding the link text
	 * (or, in a workspace checked out before core.symlinks=false, a real link, never followed). */
	size_t ni = git_index_entrycount(idx);
	for (size_t i = 0; i < ni; i++) {
		const git_index_entry *ie = git_index_get_byindex(idx, i);
		if (!ie || ie->mode != GIT_FILEMODE_LINK || git_index_entry_stage(ie) != 0)
			continue;
		struct ws_file key = { .path = (char *)ie->path };
		struct ws_file *f = nwalked ? bsearch(&key, w.files, (size_t)nwalked, sizeof *w.files, cmp_file) : NULL;
		long long size = 0;
		if (!f)
			f = walk_add(&w, ie->path, "synced", "symlink", 0, 0);
		free(f->target);
		f->target = link_text(repo, &ie->id, &size);
		f->status = "synced";
		f->kind = "symlink";
		f->size = size;
	}
	int links = index_has_links(idx);
	for (int i = 0; i < nwalked; i++) {
		int ign = 0;
		const git_index_entry *le;
		/* A folder made where GitHub has a link: what is in it is never synced (stage_all). */
		if (links && strcmp(w.files[i].kind, "file") == 0 && (le = link_entry(idx, w.files[i].path)) &&
		    strcmp(le->path, w.files[i].path) != 0) {
			w.files[i].status = "skipped";
			continue;
		}
		if (excludes && *excludes && strcmp(w.files[i].kind, "file") == 0 &&
		    git_ignore_path_is_ignored(&ign, repo, w.files[i].path) == 0 && ign)
			w.files[i].status = "excluded";
	}
	/* Versions for free: a file git status found unchanged holds the index's blob, unless a filter
	 * (eol, ident, a driver) makes the folder's bytes differ from it; the rest is hashed on demand.
	 * Asking about filters costs 45 µs a file (0.45 s for 10,000): only where some could apply. */
	int filters = filters_possible(repo, idx, w.files, nwalked);
	for (int i = 0; i < nwalked; i++) {
		struct ws_file *f = &w.files[i];
		if (f->version[0] == '-' || strcmp(f->kind, "file") != 0 || f->size < 0) {
			f->version[0] = '\0';
			continue;
		}
		const git_index_entry *ie = git_index_get_bypath(idx, f->path, 0);
		if (!ie || (ie->mode != GIT_FILEMODE_BLOB && ie->mode != GIT_FILEMODE_BLOB_EXECUTABLE) ||
		    (long long)ie->file_size != f->size)
			continue;
		/* The attributes git's filters act on (gitattributes(5): text, eol, crlf, ident, filter): any
		 * of them set and the file is hashed instead (git_filter_list_load costs 6 times more). */
		if (filters) {
			static const char *names[] = { "text", "eol", "crlf", "ident", "filter" };
			const char *vals[5];
			int any = filters > 1 || git_attr_get_many(vals, repo, 0, f->path, 5, names) != 0;
			for (int k = 0; k < 5 && !any; k++)
				any = git_attr_value(vals[k]) != GIT_ATTR_VALUE_UNSPECIFIED;
			if (any)
				continue;
		}
		git_oid_tostr(f->version, sizeof f->version, &ie->id);
	}
	/* What staging leaves out (files_left_out), and what git keeps in Git LFS. */
	int lfs = 0;
	for (int i = 0; i < w.n && !lfs; i++)
		if (strcmp(w.files[i].kind, "file") == 0 && w.files[i].size >= 0 && is_attr_file(w.files[i].path))
			lfs = lfs_rules_present(repo, NULL, root, (const char *const *)&w.files[i].path, 1);
	lfs = lfs || lfs_rules_present(repo, idx, root, NULL, 0);
	for (int i = 0; i < w.n; i++) {
		struct ws_file *f = &w.files[i];
		if (strcmp(f->kind, "file") != 0 || f->size < 0)
			continue;
		f->lfs = lfs && lfs_rule(repo, f->path);
		char buf[160];
		const char *why;
		if ((strcmp(f->status, "new") == 0 || strcmp(f->status, "modified") == 0) &&
		    (why = refusal_of(buf, sizeof buf, repo, f->path, f->size, lfs))) {
			f->status = "left_out";
			if (!(f->refused = strdup(why)))
				abort();
		}
	}
	if (w.n > 1) /* an empty folder has no array: qsort(NULL, …) is undefined */
		qsort(w.files, (size_t)w.n, sizeof *w.files, cmp_file);
	*files = w.files;
	*n = w.n;
	w.files = NULL;
out:
	if (root >= 0)
		close(root);
	git_status_list_free(sl);
	git_index_free(idx);
	git_repository_free(repo);
	if (w.files)
		git_workspace_files_free(w.files, w.n);
	return rc;
}

void git_blob_version(char out[41], const void *data, size_t len)
{
	git_oid id;
	lib_init();
	if (git_odb_hash(&id, data ? data : "", len, GIT_OBJECT_BLOB) != 0)
		memset(&id, 0, sizeof id); /* only on a failed allocation */
	git_oid_tostr(out, 41, &id);
}

int git_file_version_at(char out[41], int root, const char *rel)
{
	out[0] = '\0';
	/* Looked at first, opened only if it is a regular file (opening a fifo waits, a device may act). */
	struct stat st;
	int rc = fsafe_lstat(root, rel, &st);
	if (rc)
		return rc;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	int fd = fsafe_open(root, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	if (st.st_size == 0) {
		close(fd);
		git_blob_version(out, "", 0);
		return 0;
	}
	/* Mapped, not copied: a 50 MiB file costs no 50 MiB of memory. */
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	git_blob_version(out, m, (size_t)st.st_size);
	munmap(m, (size_t)st.st_size);
	return 0;
}

void git_workspace_versions(struct ws_file *files, int from, int to, const char *dir)
{
	int root = -1;
	for (int i = from; i < to; i++) {
		struct ws_file *f = &files[i];
		if (f->version[0] || strcmp(f->kind, "file") != 0 || f->size < 0 || strcmp(f->status, "skipped") == 0)
			continue;
		if (root < 0 && (root = fsafe_root(dir)) < 0)
			return;
		git_file_version_at(f->version, root, f->path);
	}
	if (root >= 0)
		close(root);
}

static int diff_line(const git_diff_delta *d, const git_diff_hunk *h, const git_diff_line *l, void *arg)
{
	(void)d;
	struct json_object *a = arg, *o = json_object_new_object();
	char op[2] = { 0, 0 };
	const char *t;
	size_t n;
	if (!l) { /* a hunk header */
		op[0] = '@';
		t = h->header;
		n = h->header_len;
	} else if (l->origin == GIT_DIFF_LINE_CONTEXT || l->origin == GIT_DIFF_LINE_ADDITION ||
		   l->origin == GIT_DIFF_LINE_DELETION) {
		op[0] = l->origin;
		t = l->content;
		n = l->content_len;
	} else { /* "\ No newline at end of file" */
		op[0] = ' ';
		t = "\\ No newline at end of file";
		n = strlen(t);
	}
	while (n && (t[n - 1] == '\n' || t[n - 1] == '\r'))
		n--;
	json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "kind", json_object_new_string(op[0] == '@' ? "hunk" : op[0] == '+' ? "add" :
								  op[0] == '-' ? "del" : "ctx"));
	json_object_object_add(o, "text", json_object_new_string_len(t, (int)n));
	json_object_array_add(a, o);
	return 0;
}

static int diff_hunk(const git_diff_delta *d, const git_diff_hunk *h, void *arg)
{
	return diff_line(d, h, NULL, arg);
}

struct json_object *git_text_diff(const char *old, size_t oldlen, const char *new_, size_t newlen)
{
	lib_init();
	struct json_object *a = json_object_new_array();
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	o.flags = GIT_DIFF_FORCE_TEXT;
	o.context_lines = 3;
	git_diff_buffers(old, oldlen, "current", new_, newlen, "yours", &o, NULL, NULL, diff_hunk, diff_line, a);
	return a;
}

void git_workspace_files_free(struct ws_file *files, int n)
{
	for (int i = 0; i < n; i++) {
		free(files[i].path);
		free(files[i].target);
		free(files[i].refused);
	}
	free(files);
}

/* ---------------------------------------------------------------- commit */

static int skip_excluded(const char *path, const char *matched, void *payload)
{
	(void)matched;
	int ign = 0;
	if (git_ignore_path_is_ignored(&ign, (git_repository *)payload, path) == 0 && ign)
		return 1;
	return 0;
}

/* What staging changed in the index, as tree updates: with the tree the index held before (see
 * base_tree), the new tree is that tree with these paths changed, and only the trees on their
 * paths are written again. git_index_write_tree writes every tree of the project (121 for the
 * benchmark's 10,000 files) and reads them all back for its cache: 20 ms for a 10-file commit. */
struct staged {
	git_tree_update *u;
	size_t n, cap;
	size_t entries;            /* what the index should hold after the changes */
	int ok;                    /* 0: something happened that the updates do not describe */
	struct json_object *left_out; /* files_left_out: [{path, size, reason}], NULL when none */
};

static void staged_add(struct staged *st, git_tree_update_t action, const git_index_entry *ie, const char *path)
{
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->u = realloc(st->u, st->cap * sizeof *st->u);
		if (!st->u)
			abort();
	}
	git_tree_update *u = &st->u[st->n++];
	memset(u, 0, sizeof *u);
	u->action = action;
	if (ie) {
		git_oid_cpy(&u->id, &ie->id);
		u->filemode = (git_filemode_t)ie->mode;
	}
	u->path = strdup(path);
	if (!u->path)
		abort();
}

static void staged_free(struct staged *st)
{
	for (size_t i = 0; i < st->n; i++)
		free((char *)st->u[i].path);
	free(st->u);
	memset(st, 0, sizeof *st);
}

/* `git add -A` in one look at the folder. git_index_add_all and git_index_update_all each compare
 * every file with the index (10,000 stats for a 10,000-file project), and only the second sees
 * deletions; one index-to-folder diff with the same flags as git_index_add_all lists new, changed
 * and deleted files at once. GIT_DIFF_UPDATE_INDEX keeps the index's stat cache current: a file
 * whose stat data changed but whose content did not (a copied or restored folder, a file touched
 * without change) is hashed once and then recognised by its stat data again, instead of being
 * read and hashed on every sync. Excluded files are left as they are, as git_index_add_all with
 * skip_excluded did; new (untracked) files the exclude patterns match are not listed at all. */
/* The rule in workspace.h; one fstatat per changed path, never through a link. */
int git_workspace_path_refused(git_index *idx, int root, const char *path)
{
	if (link_entry(idx, path))
		return 1;
	struct stat st;
	int rc = fsafe_lstat(root, path, &st);
	return rc == -ELOOP || (rc == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode));
}

/* ---------------------------------------------------------------- files left out of a commit */

/* GitHub refuses a push holding a file over 100 MiB (GH001, docs "About large files on GitHub"). */
#define GITHUB_FILE_LIMIT (100LL << 20)
static long long file_limit = GITHUB_FILE_LIMIT;

void git_workspace_set_file_limit(long long bytes)
{
	file_limit = bytes > 0 && bytes < GITHUB_FILE_LIMIT ? bytes : GITHUB_FILE_LIMIT;
}

static void mib(char *out, size_t len, long long bytes)
{
	if (bytes % (1LL << 20) == 0)
		snprintf(out, len, "%lld MiB", bytes >> 20);
	else
		snprintf(out, len, "%.1f MiB", (double)bytes / (1 << 20));
}

/* git check-attr filter: "lfs" as git reads .gitattributes (the folder's, then the index's; sub-folder
 * files and [attr] macros included). */
static int lfs_rule(git_repository *repo, const char *path)
{
	const char *v = NULL;
	return git_attr_get(&v, repo, GIT_ATTR_CHECK_FILE_THEN_INDEX, path, "filter") == 0 &&
	       git_attr_value(v) == GIT_ATTR_VALUE_STRING && strcmp(v, "lfs") == 0;
}

static int is_attr_file(const char *path)
{
	const char *s = strrchr(path, '/');
	return strcmp(s ? s + 1 : path, ".gitattributes") == 0;
}

/* 1 when a .gitattributes (the folder's file, else the blob id) mentions lfs: a filter=lfs rule, or a
 * macro that sets one. A file larger than 64 KiB counts as yes. */
static int mentions_lfs(int root, git_repository *repo, const char *path, const git_oid *id)
{
	static char text[65536];
	ssize_t n = -1;
	int fd = root >= 0 ? fsafe_open(root, path, O_RDONLY, 0) : -1;
	if (fd >= 0) {
		n = read(fd, text, sizeof text);
		close(fd);
	} else if (id) {
		git_blob *b = NULL;
		if (git_blob_lookup(&b, repo, id) == 0) {
			size_t sz = (size_t)git_blob_rawsize(b);
			n = (ssize_t)(sz < sizeof text ? sz : sizeof text);
			memcpy(text, git_blob_rawcontent(b), (size_t)n);
			git_blob_free(b);
		}
	}
	return n == (ssize_t)sizeof text || (n > 0 && memmem(text, (size_t)n, "lfs", 3) != NULL);
}

/* Whether any .gitattributes of the workspace (in the index, or among more: paths in the folder) can
 * hold an LFS rule. git_attr_get costs some 14 µs a path (140 ms for a 10,000-file listing), so it is
 * asked only then. */
static int lfs_rules_present(git_repository *repo, git_index *idx, int root, const char *const *more, size_t nmore)
{
	size_t n = idx ? git_index_entrycount(idx) : 0;
	for (size_t i = 0; i < n; i++) {
		const git_index_entry *ie = git_index_get_byindex(idx, i);
		if (ie && git_index_entry_stage(ie) == 0 && is_attr_file(ie->path) && mentions_lfs(root, repo, ie->path, &ie->id))
			return 1;
	}
	for (size_t i = 0; i < nmore; i++)
		if (is_attr_file(more[i]) && mentions_lfs(root, repo, more[i], NULL))
			return 1;
	return 0;
}

/* Why the folder's version of path (size bytes) does not go into a commit, or NULL; lfs: 0 when no
 * .gitattributes can hold an LFS rule (lfs_rules_present), -1 when not known (asked per path). */
static const char *refusal_of(char *buf, size_t len, git_repository *repo, const char *path, long long size, int lfs)
{
	/* Under a Git LFS rule the commit holds the pointer (git/lfs.c's filter), whatever the file's size. */
	if (lfs != 0 && lfs_rule(repo, path))
		return NULL;
	if (size > file_limit) {
		char have[32], max[32];
		mib(have, sizeof have, size);
		mib(max, sizeof max, file_limit);
		snprintf(buf, len, "too large: %s, the limit is %s%s", have, max,
			 file_limit == GITHUB_FILE_LIMIT ? " (GitHub refuses larger files)" : "");
		return buf;
	}
	return NULL;
}

/* Files that no push could bring to GitHub are found before committing, however they came into the
 * folder: over the file limit (project_max_file, and GitHub's 100 MiB), or under a Git LFS rule. They
 * stay out of the index (an earlier version, if any, stays in git) and are named in st->left_out. */
static int files_left_out(struct staged *st, git_repository *repo, int root, const char *path, long long size, int lfs)
{
	struct stat sb;
	if (size <= 0 && fsafe_lstat(root, path, &sb) == 0)
		size = (long long)sb.st_size;
	char buf[160];
	const char *why = refusal_of(buf, sizeof buf, repo, path, size, lfs);
	if (!why)
		return 0;
	if (!st->left_out)
		st->left_out = json_object_new_array();
	struct json_object *x = json_object_new_object();
	json_object_object_add(x, "path", json_object_new_string(path));
	json_object_object_add(x, "size", json_object_new_int64(size));
	json_object_object_add(x, "reason", json_object_new_string(why));
	json_object_array_add(st->left_out, x);
	return 1;
}

int git_workspace_file_refused(char *why, size_t whylen, const char *dir, const char *path, long long size)
{
	git_repository *repo;
	struct err e = { 0 };
	if (why && whylen)
		why[0] = '\0';
	if (open_repo(&repo, dir, NULL, &e))
		return 0;
	char buf[160];
	const char *r = refusal_of(buf, sizeof buf, repo, path, size, -1);
	if (r && why)
		snprintf(why, whylen, "%s", r);
	git_repository_free(repo);
	return r != NULL;
}

static char *ref_name(const char *branch);

int git_workspace_uncommit(const char *dir, const char *branch, const char *to_sha, struct err *e)
{
	git_repository *repo;
	int rc = open_repo(&repo, dir, NULL, e);
	if (rc)
		return rc;
	char *ref = ref_name(branch);
	git_oid oid;
	git_object *c = NULL;
	int grc;
	if ((grc = git_oid_fromstr(&oid, to_sha)) || (grc = git_object_lookup(&c, repo, &oid, GIT_OBJECT_COMMIT)) ||
	    (grc = git_repository_set_head(repo, ref)) || (grc = git_reset(repo, c, GIT_RESET_MIXED, NULL)))
		rc = git_fail(e, grc, "taking back the commits GitHub refused");
	git_object_free(c);
	free(ref);
	git_repository_free(repo);
	return rc;
}

int git_workspace_lfs_path(const char *dir, const char *path)
{
	git_repository *repo;
	struct err e = { 0 };
	if (open_repo(&repo, dir, NULL, &e))
		return 0;
	int on = lfs_rule(repo, path);
	git_repository_free(repo);
	return on;
}

static int stage_all(struct staged *st, git_index *idx, git_repository *repo, int root)
{
	git_diff *diff = NULL;
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	o.flags = GIT_DIFF_INCLUDE_TYPECHANGE | GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS |
		  GIT_DIFF_UPDATE_INDEX;
	st->entries = git_index_entrycount(idx);
	st->ok = !git_index_has_conflicts(idx);
	int grc = git_diff_index_to_workdir(&diff, repo, idx, &o);
	if (grc)
		return grc;
	size_t n = git_diff_num_deltas(diff);
	/* LFS rules can come from the index's .gitattributes or from one new or changed in the folder. */
	int lfs = lfs_rules_present(repo, idx, root, NULL, 0);
	for (size_t i = 0; i < n && !lfs; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if ((d->new_file.flags & GIT_DIFF_FLAG_EXISTS) && d->new_file.path)
			lfs = lfs_rules_present(repo, NULL, root, &d->new_file.path, 1);
	}
	for (size_t i = 0; i < n && grc == 0; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (d->status != GIT_DELTA_UNTRACKED && skip_excluded(d->old_file.path, NULL, repo))
			continue;
		const char *path = d->new_file.flags & GIT_DIFF_FLAG_EXISTS ? d->new_file.path : d->old_file.path;
		if (git_workspace_path_refused(idx, root, path))
			continue;
		if ((d->new_file.flags & GIT_DIFF_FLAG_EXISTS) &&
		    files_left_out(st, repo, root, path, (long long)d->new_file.size, lfs))
			continue;
		int had = git_index_get_bypath(idx, path, 0) != NULL;
		if (d->new_file.flags & GIT_DIFF_FLAG_EXISTS) {
			const git_index_entry *ie;
			if ((grc = git_index_add_bypath(idx, path)) == 0 && (ie = git_index_get_bypath(idx, path, 0))) {
				staged_add(st, GIT_TREE_UPDATE_UPSERT, ie, path);
				st->entries += !had;
			} else {
				st->ok = 0;
			}
		} else if ((grc = git_index_remove_bypath(idx, path)) == 0) {
			staged_add(st, GIT_TREE_UPDATE_REMOVE, NULL, path);
			st->entries -= had;
		}
	}
	git_diff_free(diff);
	/* An entry libgit2 removed by itself (a file where a folder now is) is not in the updates. */
	if (git_index_entrycount(idx) != st->entries)
		st->ok = 0;
	return grc;
}

/* GitHub's links in the folder are what git writes with core.symlinks=false: a regular file holding
 * the link's text. Before each staging and merge every one is put back to that: a real link left by a
 * checkout made before this rule (only when its text is git's: another is the host platform's, and
 * stays, skipped), a file someone changed or deleted (neither is ever synced, and a changed one would
 * block GitHub's next change to the link). Folders and anything else at the path are left alone. The
 * old entry is removed with unlinkat and the new file made with O_CREAT | O_EXCL | O_NOFOLLOW in its
 * folder, opened beneath the root: nothing is followed. The index keeps mode 120000. */
static void links_restore(git_repository *repo, git_index *idx, int root)
{
	size_t n = git_index_entrycount(idx);
	for (size_t i = 0; i < n; i++) {
		const git_index_entry *ie = git_index_get_byindex(idx, i);
		if (!ie || ie->mode != GIT_FILEMODE_LINK || git_index_entry_stage(ie) != 0)
			continue;
		const char *leaf;
		int dir = fsafe_parent(root, ie->path, &leaf, 0);
		if (dir < 0)
			continue; /* its folder is gone, or a link: nothing is made there */
		struct stat st;
		git_blob *b = NULL;
		int have = fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
		if ((have && !S_ISLNK(st.st_mode) && !S_ISREG(st.st_mode)) || git_blob_lookup(&b, repo, &ie->id) != 0) {
			close(dir);
			continue;
		}
		size_t len = (size_t)git_blob_rawsize(b);
		const char *want = git_blob_rawcontent(b);
		char text[4096];
		int redo = !have;
		if (have && S_ISLNK(st.st_mode)) {
			ssize_t got = readlinkat(dir, leaf, text, sizeof text);
			redo = got >= 0 && (size_t)got == len && memcmp(text, want, len) == 0;
		} else if (have) {
			redo = 1;
			int fd = (size_t)st.st_size == len && len <= sizeof text
					 ? openat(dir, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
					 : -1;
			if (fd >= 0) {
				redo = read(fd, text, sizeof text) != (ssize_t)len || memcmp(text, want, len) != 0;
				close(fd);
			}
		}
		if (redo && (!have || unlinkat(dir, leaf, 0) == 0)) {
			int fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (fd >= 0) {
				if (write(fd, want, len) != (ssize_t)len) {
					/* a short file reads as a change to a link, which is never staged */
					int ignored = ftruncate(fd, 0);
					(void)ignored;
				}
				close(fd);
			}
		}
		git_blob_free(b);
		close(dir);
	}
}

/* What is in the folder and never synced, for the history: [{path, reason}], NULL when nothing. */
static struct json_object *skipped_of(const struct walk *w, git_index *idx)
{
	struct json_object *a = NULL;
	for (int i = 0; i < w->n; i++) {
		const struct ws_file *f = &w->files[i];
		const char *why = NULL;
		if (strcmp(f->kind, "file") == 0) {
			const git_index_entry *le = link_entry(idx, f->path);
			if (le && strcmp(le->path, f->path) != 0)
				why = "inside a symbolic link kept from GitHub";
		} else if (strcmp(f->kind, "symlink") == 0) {
			if (!link_entry(idx, f->path))
				why = "a symbolic link put into the folder: links are not synced";
		} else {
			why = strcmp(f->kind, "fifo") == 0     ? "a fifo: only regular files are synced"
			      : strcmp(f->kind, "socket") == 0 ? "a socket: only regular files are synced"
							       : "a device: only regular files are synced";
		}
		if (!why)
			continue;
		if (!a)
			a = json_object_new_array();
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "path", json_object_new_string(f->path));
		json_object_object_add(x, "reason", json_object_new_string(why));
		json_object_array_add(a, x);
	}
	return a;
}

/* .git/ghbridge-index-tree: "<index checksum> <tree>", written each time a sync has staged the
 * folder. While the index file is the one written then, byte for byte, its tree is that tree;
 * anything else that writes the index (a merge, a checkout, git itself) changes the checksum, and
 * the tree is then worked out from the index in full. (git_index_checksum is kept out of builds
 * with GIT_DEPRECATE_HARD; libgit2 1.5 from Debian has it.) */
static char *index_tree_path(git_repository *repo)
{
	char *p;
	if (asprintf(&p, "%sghbridge-index-tree", git_repository_path(repo)) < 0)
		abort();
	return p;
}

static git_tree *base_tree(git_repository *repo, git_index *idx)
{
	char *path = index_tree_path(repo), sum[GIT_OID_HEXSZ + 1], tree[GIT_OID_HEXSZ + 1], want[GIT_OID_HEXSZ + 1];
	FILE *f = fopen(path, "r");
	free(path);
	if (!f)
		return NULL;
	git_tree *t = NULL;
	git_oid oid;
	if (fscanf(f, "%40s %40s", sum, tree) == 2 && git_index_checksum(idx)) {
		git_oid_tostr(want, sizeof want, git_index_checksum(idx));
		if (strcmp(sum, want) == 0 && git_oid_fromstr(&oid, tree) == 0 && git_tree_lookup(&t, repo, &oid) != 0)
			t = NULL;
	}
	fclose(f);
	return t;
}

static void base_tree_save(git_repository *repo, git_index *idx, const git_oid *tree)
{
	char *path = index_tree_path(repo), sum[GIT_OID_HEXSZ + 1], t[GIT_OID_HEXSZ + 1], *tmp;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		abort();
	FILE *f = git_index_checksum(idx) ? fopen(tmp, "w") : NULL;
	if (f) {
		git_oid_tostr(sum, sizeof sum, git_index_checksum(idx));
		git_oid_tostr(t, sizeof t, tree);
		int bad = fprintf(f, "%s %s\n", sum, t) < 0;
		if (fclose(f) || bad || rename(tmp, path))
			unlink(tmp);
	} else {
		unlink(path);
	}
	free(tmp);
	free(path);
}

/* Stages the folder and writes the index; tree_oid gets the index's tree. */
static int stage_tree(git_oid *tree_oid, struct json_object **left_out, git_repository *repo, git_index *idx, int root)
{
	struct staged st = { 0 };
	git_tree *base = base_tree(repo, idx);
	int grc = stage_all(&st, idx, repo, root);
	if (grc == 0)
		grc = git_index_write(idx);
	if (grc == 0) {
		if (base && st.ok && st.n == 0)
			git_oid_cpy(tree_oid, git_tree_id(base));
		else if (!base || !st.ok || git_tree_create_updated(tree_oid, repo, base, st.n, st.u) != 0)
			grc = git_index_write_tree(tree_oid, idx);
	}
	git_tree_free(base);
	*left_out = st.left_out;
	st.left_out = NULL;
	staged_free(&st);
	return grc;
}

static char *ref_name(const char *branch)
{
	char *r;
	if (asprintf(&r, "refs/heads/%s", branch) < 0)
		abort();
	return r;
}

static int diff_stats(struct ws_commit *out, git_repository *repo, git_tree *old, git_tree *new_, struct err *e)
{
	git_diff *diff = NULL;
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	int grc = git_diff_tree_to_tree(&diff, repo, old, new_, &o);
	if (grc)
		return git_fail(e, grc, "diff");
	git_diff_find_options fo = GIT_DIFF_FIND_OPTIONS_INIT;
	fo.flags = GIT_DIFF_FIND_RENAMES;
	git_diff_find_similar(diff, &fo);
	out->files = json_object_new_array();
	size_t n = git_diff_num_deltas(diff);
	out->files_changed = (int)n;
	for (size_t i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		size_t ctx = 0, add = 0, del = 0;
		git_patch *patch = NULL;
		if (n <= 5000 && git_patch_from_diff(&patch, diff, i) == 0 && patch)
			git_patch_line_stats(&ctx, &add, &del, patch);
		git_patch_free(patch);
		out->additions += (int)add;
		out->deletions += (int)del;
		const char *st = "modified";
		switch (d->status) {
		case GIT_DELTA_ADDED: st = "added"; break;
		case GIT_DELTA_DELETED: st = "deleted"; break;
		case GIT_DELTA_RENAMED: st = "renamed"; break;
		default: break;
		}
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "path", json_object_new_string(d->new_file.path ? d->new_file.path
											 : d->old_file.path));
		if (d->status == GIT_DELTA_RENAMED)
			json_object_object_add(f, "from", json_object_new_string(d->old_file.path));
		json_object_object_add(f, "status", json_object_new_string(st));
		json_object_object_add(f, "additions", json_object_new_int((int)add));
		json_object_object_add(f, "deletions", json_object_new_int((int)del));
		json_object_object_add(f, "binary", json_object_new_boolean((d->flags & GIT_DIFF_FLAG_BINARY) != 0));
		json_object_array_add(out->files, f);
	}
	git_diff_free(diff);
	return 0;
}

int git_workspace_commit(struct ws_commit *out, const char *dir, const char *branch, const char *excludes,
			 ws_message_fn message, void *arg, const char *author_name, const char *author_email,
			 struct err *e)
{
	char *msg = NULL;
	memset(out, 0, sizeof *out);
	git_repository *repo;
	int rc = open_repo(&repo, dir, excludes, e);
	if (rc)
		return rc;
	char *ref = ref_name(branch);
	git_index *idx = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_commit *parent = NULL;
	git_signature *author = NULL, *committer = NULL;
	git_oid tree_oid, parent_oid, oid;
	int grc, has_parent = git_reference_name_to_id(&parent_oid, repo, ref) == 0;
	if ((grc = git_repository_index(&idx, repo))) {
		rc = git_fail(e, grc, "reading the index");
		goto out;
	}
	/* One look at the folder (readdir, no stat for files and folders) for what is never synced,
	 * before libgit2 reads it: its .gitignore and .gitattributes must be regular files. */
	int links = index_has_links(idx);
	struct walk w = { .collect = 2, .links = links ? idx : NULL };
	walk_root(&w, dir);
	if ((rc = rules_check_walk(&w, e))) {
		git_workspace_files_free(w.files, w.n);
		goto out;
	}
	int root = fsafe_root(dir);
	if (root < 0) {
		git_workspace_files_free(w.files, w.n);
		rc = err_set(e, ERR_FAIL, "workspace %s: %s", dir, strerror(-root));
		goto out;
	}
	if (links)
		links_restore(repo, idx, root);
	/* LFS files: stat data settled by streaming before libgit2 compares (git_lfs_settle). */
	git_lfs_settle(NULL, repo, idx, root, GIT_LFS_BRING_IN | GIT_LFS_WRITE_INDEX);
	grc = stage_tree(&tree_oid, &out->left_out, repo, idx, root);
	close(root);
	out->skipped = skipped_of(&w, idx);
	git_workspace_files_free(w.files, w.n);
	if (grc) {
		rc = git_fail(e, grc, "staging the workspace");
		goto out;
	}
	base_tree_save(repo, idx, &tree_oid);
	if (has_parent) {
		if ((grc = git_commit_lookup(&parent, repo, &parent_oid)) || (grc = git_commit_tree(&ptree, parent))) {
			rc = git_fail(e, grc, "reading the last commit");
			goto out;
		}
		if (git_oid_equal(git_tree_id(ptree), &tree_oid))
			goto out; /* nothing changed */
	} else if (git_index_entrycount(idx) == 0) {
		goto out;
	}
	if ((grc = git_tree_lookup(&tree, repo, &tree_oid))) {
		rc = git_fail(e, grc, "reading the staged tree");
		goto out;
	}
	if ((rc = diff_stats(out, repo, ptree, tree, e)))
		goto out;
	/* The message first: it may name another author, now that the changed files are known. */
	struct ws_author who;
	snprintf(who.name, sizeof who.name, "%s", author_name);
	snprintf(who.email, sizeof who.email, "%s", author_email);
	msg = message(arg, out, &who);
	if ((grc = git_signature_now(&author, who.name, who.email)) ||
	    (grc = git_signature_now(&committer, "ghbridge", "ghbridge@users.noreply.github.com"))) {
		rc = git_fail(e, grc, "commit signature");
		goto out;
	}
	const git_commit *parents[1] = { parent };
	if ((grc = git_commit_create(&oid, repo, ref, author, committer, NULL, msg, tree, has_parent ? 1 : 0,
				     parents))) {
		rc = git_fail(e, grc, "committing");
		goto out;
	}
	git_repository_set_head(repo, ref);
	git_oid_tostr(out->sha, sizeof out->sha, &oid);
out:
	free(msg);
	git_signature_free(author);
	git_signature_free(committer);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	git_index_free(idx);
	git_repository_free(repo);
	free(ref);
	return rc;
}

int git_workspace_diff(struct ws_commit *out, const char *dir, const char *from_sha, const char *to_sha,
		       struct err *e)
{
	memset(out, 0, sizeof *out);
	git_repository *repo;
	int rc = open_repo(&repo, dir, NULL, e);
	if (rc)
		return rc;
	git_oid a, b;
	git_commit *ca = NULL, *cb = NULL;
	git_tree *ta = NULL, *tb = NULL;
	int grc;
	if ((grc = git_oid_fromstr(&b, to_sha)) || (grc = git_commit_lookup(&cb, repo, &b)) ||
	    (grc = git_commit_tree(&tb, cb)) ||
	    (from_sha && *from_sha &&
	     ((grc = git_oid_fromstr(&a, from_sha)) || (grc = git_commit_lookup(&ca, repo, &a)) ||
	      (grc = git_commit_tree(&ta, ca))))) {
		rc = git_fail(e, grc, "reading the commits to compare");
	} else if ((rc = diff_stats(out, repo, ta, tb, e)) == 0) {
		snprintf(out->sha, sizeof out->sha, "%s", to_sha);
	}
	git_tree_free(ta);
	git_tree_free(tb);
	git_commit_free(ca);
	git_commit_free(cb);
	git_repository_free(repo);
	return rc;
}

int git_workspace_head(char sha[41], const char *dir, const char *branch, struct err *e)
{
	sha[0] = '\0';
	git_repository *repo;
	int rc = open_repo(&repo, dir, NULL, e);
	if (rc)
		return rc;
	char *ref = ref_name(branch);
	git_oid oid;
	if (git_reference_name_to_id(&oid, repo, ref) == 0)
		git_oid_tostr(sha, 41, &oid);
	free(ref);
	git_repository_free(repo);
	return 0;
}

int git_workspace_tracking(char sha[41], const char *dir, const char *branch, struct err *e)
{
	sha[0] = '\0';
	git_repository *repo;
	int rc = open_repo(&repo, dir, NULL, e);
	if (rc)
		return rc;
	char *ref;
	if (asprintf(&ref, "refs/remotes/origin/%s", branch) < 0)
		abort();
	git_oid oid;
	if (git_reference_name_to_id(&oid, repo, ref) == 0)
		git_oid_tostr(sha, 41, &oid);
	free(ref);
	git_repository_free(repo);
	return 0;
}

int git_workspace_ahead_behind(size_t *ahead, size_t *behind, const char *dir, const char *local_sha,
			       const char *remote_sha, struct err *e)
{
	*ahead = *behind = 0;
	git_repository *repo;
	int rc = open_repo(&repo, dir, NULL, e);
	if (rc)
		return rc;
	git_oid l, r;
	int grc;
	if ((grc = git_oid_fromstr(&l, local_sha)) || (grc = git_oid_fromstr(&r, remote_sha)) ||
	    (grc = git_graph_ahead_behind(ahead, behind, repo, &l, &r)))
		rc = git_fail(e, grc, "comparing with GitHub");
	git_repository_free(repo);
	return rc;
}

/* ---------------------------------------------------------------- network */

struct net {
	const char *token;
	int cred_calls;
	int rejected;
	char reject_msg[256];
	char remote_msg[2048];     /* the server's side-band messages ("remote: …" in git push) */
	size_t remote_len;
	unsigned objects;
	int no_create;             /* push: refuse a ref the remote does not have (git_workspace_push) */
	int missing;               /* push: refused for that reason */
	char *auth;                /* "Authorization: Basic …" sent with every request; wiped by net_done */
	char *headers[1];
};

static int cred_cb(git_credential **out, const char *url, const char *user_from_url, unsigned int allowed,
		   void *payload)
{
	(void)url;
	(void)user_from_url;
	struct net *n = payload;
	/* A second ask means the first was refused, and an ask at all when the token went with the
	 * first request means GitHub refused it: stop instead of looping. */
	if (!n->token || n->auth || n->cred_calls++ > 0 || !(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)) {
		git_error_set_str(GIT_ERROR_NET, "authentication refused by the git server (401)");
		return GIT_EAUTH;
	}
	return git_credential_userpass_plaintext_new(out, "x-access-token", n->token);
}

/* push_update_reference: status is the server's reason for refusing the ref ("ng <ref> <reason>" in
 * git's report-status, gitprotocol-pack(5)), NULL when it took it. */
static int push_ref_cb(const char *refname, const char *status, void *payload)
{
	struct net *n = payload;
	(void)refname;
	if (status) {
		n->rejected = 1;
		snprintf(n->reject_msg, sizeof n->reject_msg, "%s", status);
	}
	return 0;
}

/* Side-band channel 2: what `git push` prints behind "remote: " (GitHub's GH001, GH006… words). */
static int sideband_cb(const char *str, int len, void *payload)
{
	struct net *n = payload;
	size_t room = sizeof n->remote_msg - 1 - n->remote_len;
	size_t k = len > 0 ? (size_t)len : 0;
	if (k > room)
		k = room;
	memcpy(n->remote_msg + n->remote_len, str, k);
	n->remote_len += k;
	n->remote_msg[n->remote_len] = '\0';
	return 0;
}

/* The server's messages as one line: "error: "/"warning: " prefixes, GitHub's "Trace:" ids and empty
 * lines dropped, the rest joined with spaces. */
static void remote_words(char *out, size_t outlen, const char *msg)
{
	size_t o = 0;
	out[0] = '\0';
	const char *p = msg;
	while (*p && o + 1 < outlen) {
		size_t l = strcspn(p, "\r\n");
		const char *s = p, *end = p + l;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if (strncmp(s, "error: ", 7) == 0)
			s += 7;
		else if (strncmp(s, "warning: ", 9) == 0)
			s += 9;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end > s && strncmp(s, "Trace: ", 7) != 0) {
			int w = snprintf(out + o, outlen - o, "%s%.*s", o ? " " : "", (int)(end - s), s);
			if (w < 0)
				break;
			o += (size_t)w;
			if (o >= outlen)
				o = outlen - 1;
		}
		p += l;
		while (*p == '\r' || *p == '\n')
			p++;
	}
}

/* GitHub's warning on the last push that went through (GH001: a file over 50 MiB), "" when none. */
static char push_warning[400];

const char *git_workspace_push_warning(void)
{
	return push_warning;
}

int git_workspace_refusal(const char *msg)
{
	if (!msg)
		return WS_REFUSED_OTHER;
	if (strstr(msg, "GH006") || strstr(msg, "protected branch hook declined"))
		return WS_REFUSED_PROTECTED;
	if (strstr(msg, "GH001"))
		return WS_REFUSED_TOO_LARGE;
	if (strstr(msg, "HTTP 403"))
		return WS_REFUSED_NO_ACCESS;
	return WS_REFUSED_OTHER;
}

/* git receive-pack's reasons for a ref that moved under the push (receive-pack.c update()): the
 * next round fetches and merges. Anything else (a hook's refusal: GitHub's protected branches,
 * large files, …) stays the same however often the push is made. */
static int moved_under_us(const char *reason)
{
	static const char *const moved[] = { "non-fast-forward", "fetch first", "stale info", "failed to lock",
					     "failed to update ref", "cannot lock ref", "incorrect old value" };
	for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++)
		if (strstr(reason, moved[i]))
			return 1;
	return 0;
}

/* One job at a time runs in a worker process, so one observer per process is enough. */
static ws_progress_fn push_observer;
static void *push_observer_arg;

void git_workspace_on_push_progress(ws_progress_fn fn, void *arg)
{
	push_observer = fn;
	push_observer_arg = arg;
}

static int push_progress_cb(unsigned int current, unsigned int total, size_t bytes, void *payload)
{
	((struct net *)payload)->objects = current;
	if (push_observer)
		push_observer(push_observer_arg, current, total, bytes);
	return 0;
}

/* Before any object is sent: src is the remote's current value of each ref ("the current target of
 * the reference", git2/remote.h), zero when it has none; dst the new one. */
static int push_negotiation_cb(const git_push_update **updates, size_t len, void *payload)
{
	struct net *n = payload;
	for (size_t i = 0; i < len && n->no_create; i++) {
		if (git_oid_is_zero(&updates[i]->src)) {
			n->missing = 1;
			git_error_set_str(GIT_ERROR_REFERENCE, "the branch does not exist on the remote");
			return GIT_EUSER;
		}
	}
	return 0;
}

static void net_callbacks(git_remote_callbacks *cb, struct net *n)
{
	cb->push_negotiation = push_negotiation_cb;
	cb->credentials = cred_cb;
	cb->push_update_reference = push_ref_cb;
	cb->sideband_progress = sideband_cb;
	cb->push_transfer_progress = push_progress_cb;
	cb->payload = n;
}

/* An unnamed remote for url on repo, as git_remote_create_anonymous makes, but with the URL exactly as
 * given: url.<base>.insteadOf and pushInsteadOf in the workspace's or the service user's git config
 * are not applied (GIT_REMOTE_CREATE_SKIP_INSTEADOF), so no config can send the token to another
 * address (git-config(1), "url.<base>.insteadOf"). It also avoids a leak in libgit2 1.5 (Debian 12's
 * 1.5.1): applying insteadOf walks the config through a regex glob, and git_regexp_match leaks its
 * PCRE2 match data on every entry that does not match (about 20 KiB each with PCRE2 10.42; fixed in
 * libgit2 1.6.1, commit bb65da7): some 0.4 MiB per fetch or push, so a worker's RSS grew with every
 * sync (184 MiB per process after 1,000 projects' syncs; bench/RESULTS.md, Scale). 0 or libgit2's
 * error code; *out is the caller's (git_remote_free). */
static int remote_for_url(git_remote **out, git_repository *repo, const char *url)
{
	git_remote_create_options o = GIT_REMOTE_CREATE_OPTIONS_INIT;
	o.repository = repo;
	o.name = NULL;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	return git_remote_create_with_opts(out, url, &o);
}

/* The token goes with the first request, as the header git's credential helpers produce
 * (Basic, x-access-token:TOKEN), instead of waiting for GitHub's 401 challenge: one round trip
 * less per fetch or push. libgit2 sends custom headers on every request of the operation, so
 * redirects to another host are refused (GIT_REMOTE_REDIRECT_NONE; a renamed repository's
 * redirect on the same host is still followed): the token never travels to a host it was not
 * meant for. libgit2 does not log headers; the buffer is wiped after use. */
static void net_auth(git_strarray *custom_headers, git_remote_redirect_t *redirects, struct net *n)
{
	if (!n->token || !*n->token)
		return;
	static const char prefix[] = "Authorization: Basic ";
	size_t rawlen = strlen("x-access-token:") + strlen(n->token);
	char *raw = malloc(rawlen + 1);
	size_t b64len = sodium_base64_encoded_len(rawlen, sodium_base64_VARIANT_ORIGINAL);
	n->auth = malloc(sizeof prefix - 1 + b64len);
	if (!raw || !n->auth)
		abort();
	snprintf(raw, rawlen + 1, "x-access-token:%s", n->token);
	memcpy(n->auth, prefix, sizeof prefix - 1);
	sodium_bin2base64(n->auth + sizeof prefix - 1, b64len, (const unsigned char *)raw, rawlen,
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(raw, rawlen);
	free(raw);
	n->headers[0] = n->auth;
	custom_headers->strings = n->headers;
	custom_headers->count = 1;
	*redirects = GIT_REMOTE_REDIRECT_NONE;
}

static void net_done(struct net *n)
{
	if (n->auth) {
		sodium_memzero(n->auth, strlen(n->auth));
		free(n->auth);
		n->auth = NULL;
	}
}

int git_workspace_fetch(char remote_sha[41], char *gh_head, size_t gh_head_len, const char *dir, const char *url,
			const char *branch, const char *token, struct err *e)
{
	remote_sha[0] = '\0';
	if (gh_head && gh_head_len)
		gh_head[0] = '\0';
	git_repository *repo;
	int rc = open_repo(&repo, dir, NULL, e);
	if (rc)
		return rc;
	git_remote *remote = NULL;
	struct net n = { .token = token };
	char *spec, *tracking;
	if (asprintf(&spec, "+refs/heads/%s:refs/remotes/origin/%s", branch, branch) < 0 ||
	    asprintf(&tracking, "refs/heads/%s", branch) < 0)
		abort();
	int grc = remote_for_url(&remote, repo, url);
	if (grc) {
		rc = git_fail(e, grc, "remote");
		goto out;
	}
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	net_callbacks(&fo.callbacks, &n);
	net_auth(&fo.custom_headers, &fo.follow_redirects, &n);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	char *specs[] = { spec };
	git_strarray sa = { specs, 1 };
	if ((grc = git_remote_fetch(remote, &sa, &fo, NULL))) {
		rc = git_fail(e, grc, "fetching from GitHub");
		goto out;
	}
	/* The anonymous remote does not keep tracking refs: read the advertised tip and store it. */
	const git_remote_head **heads;
	size_t nh = 0;
	if (git_remote_ls(&heads, &nh, remote) == 0) {
		for (size_t i = 0; i < nh; i++) {
			if (strcmp(heads[i]->name, tracking) == 0) {
				git_oid_tostr(remote_sha, 41, &heads[i]->oid);
				char *rname;
				if (asprintf(&rname, "refs/remotes/origin/%s", branch) < 0)
					abort();
				git_reference *r = NULL;
				git_reference_create(&r, repo, rname, &heads[i]->oid, 1, "fetch");
				git_reference_free(r);
				free(rname);
			}
		}
	}
	/* The symref itself, not git_remote_default_branch, which guesses by commit id without one. */
	if (gh_head && gh_head_len && nh > 0 && strcmp(heads[0]->name, "HEAD") == 0 && heads[0]->symref_target &&
	    strncmp(heads[0]->symref_target, "refs/heads/", 11) == 0)
		snprintf(gh_head, gh_head_len, "%s", heads[0]->symref_target + 11);
out:
	net_done(&n);
	git_remote_free(remote);
	git_repository_free(repo);
	free(spec);
	free(tracking);
	return rc;
}

static int conflicts_json(char **out, git_index *idx)
{
	struct json_object *a = json_object_new_array();
	git_index_conflict_iterator *it = NULL;
	const git_index_entry *anc, *ours, *theirs;
	if (git_index_conflict_iterator_new(&it, idx) == 0) {
		while (git_index_conflict_next(&anc, &ours, &theirs, it) == 0) {
			const git_index_entry *x = ours ? ours : theirs ? theirs : anc;
			json_object_array_add(a, json_object_new_string(x->path));
		}
		git_index_conflict_iterator_free(it);
	}
	*out = strdup(json_object_to_json_string(a));
	json_object_put(a);
	return 0;
}

/* 1 when the folder's copy of a link at path is a regular file holding exactly the link's text (blob id). */
static int link_copy_is(git_repository *repo, int root, const char *path, const git_oid *id)
{
	struct stat st;
	if (fsafe_lstat(root, path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 4096)
		return 0;
	git_blob *b = NULL;
	if (git_blob_lookup(&b, repo, id) != 0)
		return 0;
	char text[4096];
	int fd = fsafe_open(root, path, O_RDONLY | O_NONBLOCK, 0), same = 0;
	if (fd >= 0) {
		ssize_t got = read(fd, text, sizeof text);
		same = got >= 0 && (size_t)got == (size_t)git_blob_rawsize(b) && memcmp(text, git_blob_rawcontent(b), (size_t)got) == 0;
		close(fd);
	}
	git_blob_free(b);
	return same;
}

/* git_checkout_tree(target) SAFE, for a folder whose links from GitHub are files holding their text.
 * libgit2 1.5 compares a folder file with a link in git by mode first (checkout.c
 * checkout_is_workdir_modified, is_filemode_changed: only core.filemode=false overlooks it), so every
 * copy of a link reads as a local change and SAFE refuses any change GitHub made to a link. Those
 * paths, where the copy is git's own text (links_restore), are checked out first with FORCE limited to
 * exactly them; the SAFE checkout of the rest then takes as its baseline HEAD's tree with those paths
 * already as in target. Nothing of the folder's own is overwritten: a copy that is not git's text is
 * left to SAFE, which refuses (GIT_ECONFLICT) as before. */
static int checkout_with_links(git_repository *repo, git_object *target, git_checkout_options *co, int root)
{
	git_object *head = NULL;
	git_tree *base = NULL, *want = NULL, *nbase = NULL;
	git_diff *diff = NULL;
	git_tree_update *u = NULL;
	char **paths = NULL;
	size_t n = 0;
	int grc = 0;
	if (root < 0 || git_revparse_single(&head, repo, "HEAD^{tree}") != 0 || git_object_peel((git_object **)&want, target, GIT_OBJECT_TREE) != 0)
		goto plain;
	base = (git_tree *)head;
	head = NULL;
	if (git_diff_tree_to_tree(&diff, repo, base, want, NULL) != 0)
		goto plain;
	size_t nd = git_diff_num_deltas(diff);
	for (size_t i = 0; i < nd; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (d->old_file.mode != GIT_FILEMODE_LINK || d->status == GIT_DELTA_ADDED ||
		    !link_copy_is(repo, root, d->old_file.path, &d->old_file.id))
			continue;
		if (!(paths = realloc(paths, (n + 1) * sizeof *paths)) || !(u = realloc(u, (n + 1) * sizeof *u)))
			abort();
		paths[n] = (char *)d->old_file.path;
		memset(&u[n], 0, sizeof u[n]);
		u[n].path = d->old_file.path;
		git_tree_entry *te = NULL;
		if (git_tree_entry_bypath(&te, want, d->old_file.path) == 0 && git_tree_entry_type(te) == GIT_OBJECT_BLOB) {
			u[n].action = GIT_TREE_UPDATE_UPSERT;
			git_oid_cpy(&u[n].id, git_tree_entry_id(te));
			u[n].filemode = git_tree_entry_filemode(te);
		} else {
			u[n].action = GIT_TREE_UPDATE_REMOVE;
		}
		git_tree_entry_free(te);
		n++;
	}
	if (n) {
		git_checkout_options f = *co;
		f.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
		f.paths.strings = paths;
		f.paths.count = n;
		git_oid nb;
		if ((grc = git_checkout_tree(repo, target, &f)) != 0 || (grc = git_tree_create_updated(&nb, repo, base, n, u)) != 0 ||
		    (grc = git_tree_lookup(&nbase, repo, &nb)) != 0)
			goto out;
	}
plain:
	{
		git_tree *saved = co->baseline;
		if (nbase)
			co->baseline = nbase;
		grc = git_checkout_tree(repo, target, co);
		co->baseline = saved;
	}
out:
	free(paths);
	free(u);
	git_diff_free(diff);
	git_object_free(head);
	git_tree_free(base);
	git_tree_free(want);
	git_tree_free(nbase);
	return grc;
}

int git_workspace_merge(int *outcome, char **conflicts, const char *dir, const char *branch, const char *remote_sha,
			struct err *e)
{
	*outcome = WS_NOTHING;
	if (conflicts)
		*conflicts = NULL;
	/* Not ERR_CONFLICT: that means "both sides changed the same lines" to the caller. */
	if (git_workspace_rules_check(dir, e))
		return e ? (e->code = ERR_INVALID) : ERR_INVALID;
	git_repository *repo;
	int rc = open_repo(&repo, dir, NULL, e);
	if (rc)
		return rc;
	git_index *li = NULL;
	int root = fsafe_root(dir);
	if (root >= 0 && git_repository_index(&li, repo) == 0) {
		if (index_has_links(li))
			links_restore(repo, li, root); /* a changed copy of a link must not block GitHub's change to it */
		/* the checkout compares LFS files by stat, never in memory */
		git_lfs_settle(NULL, repo, li, root, GIT_LFS_BRING_IN | GIT_LFS_WRITE_INDEX);
	}
	git_index_free(li);
	char *ref = ref_name(branch);
	git_oid local, remote;
	git_commit *lc = NULL, *rcm = NULL;
	git_tree *rtree = NULL, *mtree = NULL;
	git_index *midx = NULL, *idx = NULL;
	git_signature *sig = NULL;
	git_reference *r = NULL;
	int grc, has_local = git_reference_name_to_id(&local, repo, ref) == 0;
	if (!remote_sha || !*remote_sha) {
		*outcome = has_local ? WS_AHEAD : WS_NOTHING;
		goto out;
	}
	if ((grc = git_oid_fromstr(&remote, remote_sha)) || (grc = git_commit_lookup(&rcm, repo, &remote)) ||
	    (grc = git_commit_tree(&rtree, rcm))) {
		rc = git_fail(e, grc, "reading GitHub's commit");
		goto out;
	}
	git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	if (!has_local) {
		/* Adopt GitHub's history; the workspace's own files stay as changes on top of it,
		 * and GitHub's files the workspace lacks are written out. */
		if ((grc = git_reference_create(&r, repo, ref, &remote, 0, "adopt")) ||
		    (grc = git_repository_set_head(repo, ref)) || (grc = git_repository_index(&idx, repo)) ||
		    (grc = git_index_read_tree(idx, rtree)) || (grc = git_index_write(idx))) {
			rc = git_fail(e, grc, "adopting GitHub's branch");
			goto out;
		}
		co.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_RECREATE_MISSING;
		if ((grc = git_checkout_head(repo, &co))) {
			rc = git_fail(e, grc, "writing GitHub's files");
			goto out;
		}
		*outcome = WS_ADOPTED;
		goto out;
	}
	if (git_oid_equal(&local, &remote)) {
		*outcome = WS_UPTODATE;
		goto out;
	}
	size_t ahead = 0, behind = 0;
	if ((grc = git_graph_ahead_behind(&ahead, &behind, repo, &local, &remote))) {
		rc = git_fail(e, grc, "comparing with GitHub");
		goto out;
	}
	if (behind == 0) {
		*outcome = WS_AHEAD;
		goto out;
	}
	if ((grc = git_commit_lookup(&lc, repo, &local))) {
		rc = git_fail(e, grc, "reading the workspace commit");
		goto out;
	}
	if (ahead == 0) {
		if ((grc = checkout_with_links(repo, (git_object *)rcm, &co, root)) == GIT_ECONFLICT) {
			*outcome = WS_BLOCKED;
			goto out;
		}
		if (grc || (grc = git_reference_create(&r, repo, ref, &remote, 1, "fast-forward"))) {
			rc = git_fail(e, grc, "fast-forwarding to GitHub's branch");
			goto out;
		}
		*outcome = WS_FASTFORWARD;
		goto out;
	}
	git_merge_options mo = GIT_MERGE_OPTIONS_INIT;
	if ((grc = git_merge_commits(&midx, repo, lc, rcm, &mo))) {
		rc = git_fail(e, grc, "merging GitHub's changes");
		goto out;
	}
	if (git_index_has_conflicts(midx)) {
		if (conflicts)
			conflicts_json(conflicts, midx);
		rc = err_set(e, ERR_CONFLICT, "GitHub's branch and the workspace changed the same lines");
		goto out;
	}
	git_oid tree_oid, moid;
	char msg[256];
	snprintf(msg, sizeof msg, "Merge GitHub's changes into %s\n", branch);
	const git_commit *parents[2] = { lc, rcm };
	if ((grc = git_index_write_tree_to(&tree_oid, midx, repo)) || (grc = git_tree_lookup(&mtree, repo, &tree_oid)) ||
	    (grc = git_signature_now(&sig, "ghbridge", "ghbridge@users.noreply.github.com")) ||
	    (grc = git_commit_create(&moid, repo, NULL, sig, sig, NULL, msg, mtree, 2, parents))) {
		rc = git_fail(e, grc, "writing the merge commit");
		goto out;
	}
	git_commit *mc = NULL;
	if ((grc = git_commit_lookup(&mc, repo, &moid)) == 0 &&
	    (grc = checkout_with_links(repo, (git_object *)mc, &co, root)) == GIT_ECONFLICT) {
		/* The merge commit stays unreferenced: git's garbage, not the project's. */
		git_commit_free(mc);
		*outcome = WS_BLOCKED;
		goto out;
	}
	if (grc || (grc = git_reference_create(&r, repo, ref, &moid, 1, "merge"))) {
		git_commit_free(mc);
		rc = git_fail(e, grc, "checking out the merge");
		goto out;
	}
	git_commit_free(mc);
	*outcome = WS_MERGED;
out:
	/* The checkout wrote LFS files as their pointers: the content comes in by rename (git_lfs_settle). */
	if (root >= 0 && rc == 0 && (*outcome == WS_ADOPTED || *outcome == WS_FASTFORWARD || *outcome == WS_MERGED)) {
		git_index *ai = NULL;
		if (git_repository_index(&ai, repo) == 0 && git_index_read(ai, 1) == 0)
			git_lfs_settle(NULL, repo, ai, root, GIT_LFS_BRING_IN | GIT_LFS_WRITE_INDEX);
		git_index_free(ai);
	}
	if (root >= 0)
		close(root);
	git_reference_free(r);
	git_signature_free(sig);
	git_index_free(midx);
	git_index_free(idx);
	git_tree_free(rtree);
	git_tree_free(mtree);
	git_commit_free(lc);
	git_commit_free(rcm);
	git_repository_free(repo);
	free(ref);
	return rc;
}

int git_workspace_push(unsigned *objects, const char *dir, const char *url, const char *sha, const char *remote_branch,
		       int create, const char *token, struct err *e)
{
	if (objects)
		*objects = 0;
	git_repository *repo;
	int rc = open_repo(&repo, dir, NULL, e);
	if (rc)
		return rc;
	git_remote *remote = NULL;
	git_reference *r = NULL;
	struct net n = { .token = token, .no_create = !create };
	char *local_ref, *spec;
	/* A local ref of the same name lets the refspec carry no '+': never a forced update. */
	if (asprintf(&local_ref, "refs/ghbridge/push/%s", remote_branch) < 0 ||
	    asprintf(&spec, "%s:refs/heads/%s", local_ref, remote_branch) < 0)
		abort();
	git_oid oid;
	int grc;
	if ((grc = git_oid_fromstr(&oid, sha)) || (grc = git_reference_create(&r, repo, local_ref, &oid, 1, "push")) ||
	    (grc = remote_for_url(&remote, repo, url))) {
		rc = git_fail(e, grc, "preparing the push");
		goto out;
	}
	push_warning[0] = '\0';
	git_push_options po = GIT_PUSH_OPTIONS_INIT;
	net_callbacks(&po.callbacks, &n);
	net_auth(&po.custom_headers, &po.follow_redirects, &n);
	/* 0: as many packing threads as cores, as the git CLI does (libgit2's default is one). */
	po.pb_parallelism = 0;
	char *specs[] = { spec };
	git_strarray sa = { specs, 1 };
	grc = git_remote_push(remote, &sa, &po);
	if (grc && n.missing) {
		rc = err_set(e, ERR_NOTFOUND, "GitHub has no branch '%s'; it is not created by this push", remote_branch);
		goto out;
	}
	if (grc) {
		const git_error *ge = git_error_last();
		if (ge && ge->message && strstr(ge->message, "403"))
			/* git-http-backend's answer to a user without push access: nothing to retry. */
			rc = err_set(e, ERR_FORBIDDEN, "GitHub refused the push to %s: no push access (HTTP 403)",
				     remote_branch);
		else
			rc = git_fail(e, grc, "pushing to GitHub");
		goto out;
	}
	if (n.rejected) {
		char words[400];
		remote_words(words, sizeof words, n.remote_msg);
		if (moved_under_us(n.reject_msg))
			rc = err_set(e, ERR_CONFLICT, "GitHub refused the push (%s: %s)", remote_branch, n.reject_msg);
		else
			rc = err_set(e, ERR_FORBIDDEN, "GitHub refused the push to %s: %s%s(%s)", remote_branch, words,
				     words[0] ? " " : "", n.reject_msg);
		goto out;
	}
	if (objects)
		*objects = n.objects;
	if (strstr(n.remote_msg, "GH001"))
		remote_words(push_warning, sizeof push_warning, n.remote_msg);
	/* GitHub has sha now: the next sync knows it without asking (sync.c pushes at once then). */
	char *tracking;
	if (asprintf(&tracking, "refs/remotes/origin/%s", remote_branch) < 0)
		abort();
	git_reference_free(r);
	r = NULL;
	git_reference_create(&r, repo, tracking, &oid, 1, "push");
	free(tracking);
out:
	net_done(&n);
	git_reference_free(r);
	git_remote_free(remote);
	git_repository_free(repo);
	free(local_ref);
	free(spec);
	return rc;
}

/* ---------------------------------------------------------------- exclude previews */

int git_workspace_exclude_counts(int *counts, int *total, const char *dir, const char *const *rules, int n,
				 long long max_checks, struct err *e)
{
	*total = 0;
	git_repository *repo = NULL;
	int rc = open_repo(&repo, dir, NULL, e);
	if (rc)
		return rc;
	struct walk w = { 0 };
	w.collect = 1;
	walk_root(&w, dir);
	/* Regular files only: links and special files are never synced, whatever the patterns say.
	 * mark[i]: 0 not a regular file, 1 a file the patterns may exclude, 2 a file the folder's own
	 * .gitignore files exclude already (not the patterns' doing). */
	char *mark = calloc((size_t)w.n + 1, 1);
	if (!mark)
		abort();
	int files = 0;
	for (int i = 0; i < w.n; i++) {
		if (strcmp(w.files[i].kind, "file") != 0)
			continue;
		int ign = 0;
		git_ignore_path_is_ignored(&ign, repo, w.files[i].path);
		mark[i] = ign ? 2 : 1;
		files++;
	}
	if ((long long)files * n > max_checks) {
		rc = err_set(e, ERR_TOOBIG, "%d files are too many to count what each pattern excludes.", files);
		goto out;
	}
	for (int r = 0; r < n; r++) {
		counts[r] = 0;
		int grc = git_ignore_clear_internal_rules(repo);
		if (!grc)
			grc = git_ignore_add_rule(repo, rules[r]);
		if (grc) {
			rc = git_fail(e, grc, "exclude patterns");
			goto out;
		}
		for (int i = 0; i < w.n; i++) {
			int ign = 0;
			if (mark[i] == 1 && git_ignore_path_is_ignored(&ign, repo, w.files[i].path) == 0 && ign)
				counts[r]++;
		}
	}
	*total = files;
out:
	free(mark);
	git_workspace_files_free(w.files, w.n);
	git_repository_free(repo);
	return rc;
}
