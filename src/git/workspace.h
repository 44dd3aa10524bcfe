/* workspace.h: a project's workspace as a git working tree (libgit2): status, stage, commit, fetch, merge, push. */
#ifndef GHB_GIT_WORKSPACE_H
#define GHB_GIT_WORKSPACE_H

#include <stddef.h>
#include "core/err.h"

struct json_object;
struct git_repository;
struct git_index;

/* Network operations (fetch, push) fail with ERR_TIMEOUT when GitHub is silent this long. */
void git_workspace_set_timeout(int seconds);

/* Creates dir (and parents) and a repository in it if there is none. Every workspace repository has
 * core.symlinks=false (git-config(1)): a symbolic link from GitHub is written into the folder as a
 * regular file holding the link text, as git does on a filesystem without links, and stays a link
 * (mode 120000) in git. */
int git_workspace_init(const char *dir, struct err *e);
/* Opens the workspace repository at dir (no search upwards), setting core.symlinks=false in an older
 * one that lacks it. For git/ code only (branch.c); ERR_FAIL with libgit2's words. */
int git_workspace_repo_open(struct git_repository **repo, const char *dir, struct err *e);

struct ws_file {
	char *path;
	const char *status;   /* "new", "modified", "deleted", "synced", "excluded", "skipped" (never synced:
	                       * a link, fifo, socket or device put into the folder from outside) */
	const char *kind;     /* "file"; "symlink" (a link from GitHub, status "synced", read-only, or one
	                       * made in the folder, status "skipped"); "fifo", "socket", "device" */
	char *target;         /* a link from GitHub: its text; else NULL */
	long long size;       /* -1 for deleted */
	long long mtime_ns;   /* 0 for deleted */
	int lfs;              /* under a Git LFS rule (.gitattributes filter=lfs): its content is in Git LFS */
	char *refused;        /* status "left_out": why staging leaves it out ("too large: 60 MiB, the limit
	                       * is 50 MiB", Git LFS), else NULL */
	char version[41];     /* a regular file's version: the git blob id of its bytes in the folder (git
	                       * hash-object), from the index when git status finds the file unchanged and
	                       * no filter applies; "" when not known yet (git_workspace_versions fills it)
	                       * and for what is not a regular file in the folder */
};
/* Every file in the working tree plus the deleted ones, sorted by path. Nothing is followed: the folder
 * is read with descriptors (core/fsafe.h), and links, fifos, sockets and devices are listed, not opened. */
int git_workspace_files(struct ws_file **files, int *n, const char *dir, const char *excludes, struct err *e);
void git_workspace_files_free(struct ws_file *files, int n);
/* A line diff from old to new as git diff shows it (unified, 3 lines of context; libgit2's
 * git_patch_from_buffers): [{"op": "@" (a hunk header) | "-" (old only) | "+" (new only) | " ", "kind": "hunk" | "del" | "add" | "ctx", "text"}],
 * text without its newline; [] when both are the same. Caller puts. */
struct json_object *git_text_diff(const char *old, size_t oldlen, const char *new_, size_t newlen);
/* Fills in the version of each regular file in files[from, to) that has none yet (new or changed since
 * the index, or under a filter), by reading it beneath dir without following a link (core/fsafe.h).
 * Costs one read per such file: callers showing a page of a list hash only that page. */
void git_workspace_versions(struct ws_file *files, int from, int to, const char *dir);
/* The version of bytes: their git blob id, as `git hash-object` gives (git-hash-object(1)), 40 hex
 * digits. The same id GitHub's contents API calls the file's sha. */
void git_blob_version(char out[41], const void *data, size_t len);
/* The version of the regular file rel beneath the open folder root (fsafe: no link followed).
 * 0, or -ENOENT when there is no regular file there, or another fsafe -errno. */
int git_file_version_at(char out[41], int root, const char *rel);
/* Bytes of the working tree's regular files (not .git; links are not followed). */
long long git_workspace_bytes(const char *dir);
/* 1 when path, or a folder on its way, is a symbolic link kept from GitHub (mode 120000 in the index):
 * ghbridge never writes or deletes there. *link gets that entry's path and *target its text (each
 * malloc'd, caller frees; either pointer may be NULL). 0 when it is not, or the index cannot be read. */
int git_workspace_link_of(char **link, char **target, const char *dir, const char *path);

struct ws_commit {
	char sha[41];                /* "" when nothing changed */
	int files_changed, additions, deletions;
	struct json_object *files;   /* [{path,status,additions,deletions}], caller puts */
	struct json_object *skipped; /* git_workspace_commit: [{path,reason}] in the folder and not synced
	                              * (links, fifos, sockets, devices); NULL when none; caller puts */
	struct json_object *left_out; /* git_workspace_commit: [{path,size,reason}] new or changed files left
	                               * out (git_workspace_set_file_limit, Git LFS); NULL when none; caller puts */
};

/* Files staging leaves out, however they came into the folder: larger than bytes (project_max_file;
 * never more than GitHub's 100 MiB, the GH001 refusal), or under a Git LFS rule (git check-attr
 * filter = lfs, from the folder's and the index's .gitattributes): they are never committed as plain
 * files. Per process (one job at a time); the default is GitHub's limit. */
void git_workspace_set_file_limit(long long bytes);
/* 1 when a file of size bytes at path would be left out, with why (may be NULL) saying why. */
int git_workspace_file_refused(char *why, size_t whylen, const char *dir, const char *path, long long size);
/* `git reset --mixed to_sha` on refs/heads/branch: the branch goes back to to_sha (GitHub's tip) and the
 * index to its tree; the folder is left as it is, so the next commit holds all of it again, through the
 * staging rules above (for commits GitHub refused with GH001, made before those rules). */
int git_workspace_uncommit(const char *dir, const char *branch, const char *to_sha, struct err *e);
/* 1 when path is under a Git LFS rule in the workspace at dir. */
int git_workspace_lfs_path(const char *dir, const char *path);
/* Stages everything but the excludes (gitignore lines) and what is not a regular file (links, fifos,
 * sockets and devices are never staged, and a link from GitHub is never changed or removed from the
 * folder's side; out->skipped names them), and commits on refs/heads/branch when the
 * tree differs from the branch tip. message(arg, c, author) gives the message (malloc'd) once the changes
 * are known (c->files, c->files_changed); author comes filled with author_name and author_email and the
 * function may name another (git_signature_now refuses '<' and '>' in either: the commit fails then). The
 * committer is always ghbridge. */
struct ws_author {
	char name[256];
	char email[320];
};
typedef char *(*ws_message_fn)(void *arg, const struct ws_commit *c, struct ws_author *author);
int git_workspace_commit(struct ws_commit *out, const char *dir, const char *branch, const char *excludes,
			 ws_message_fn message, void *arg, const char *author_name, const char *author_email,
			 struct err *e);

/* What changed from from_sha (NULL or "": nothing) to to_sha, in the same shape; sha = to_sha. */
int git_workspace_diff(struct ws_commit *out, const char *dir, const char *from_sha, const char *to_sha,
		       struct err *e);

/* Fetches branch from url; remote_sha is "" when the branch does not exist there (an empty
 * repository, a branch not created yet or deleted). gh_head (NULL: not wanted; else gh_head_len
 * bytes) gets the branch the server's HEAD points to, which on GitHub is the repository's default
 * branch (the symref=HEAD:refs/heads/… capability of git's upload-pack advertisement, no extra
 * request), "" when not advertised; the name is GitHub's, unchecked. ERR_UNAUTH when the token is
 * refused, ERR_FAIL/ERR_TIMEOUT for transport failures. */
int git_workspace_fetch(char remote_sha[41], char *gh_head, size_t gh_head_len, const char *dir, const char *url,
			const char *branch, const char *token, struct err *e);

enum { WS_NOTHING, WS_UPTODATE, WS_AHEAD, WS_FASTFORWARD, WS_MERGED, WS_ADOPTED, WS_BLOCKED };
/* Brings the fetched remote_sha into refs/heads/branch (ERR_INVALID, nothing done, when
 * git_workspace_rules_check refuses the folder): adopt (no local commit yet: local files
 * stay as uncommitted changes on top), fast-forward, or a three-way merge commit. ERR_CONFLICT
 * when both sides changed the same lines; conflicts (JSON array text, caller frees) names them.
 * Uncommitted changes in the working tree are kept; WS_BLOCKED (nothing changed) when GitHub's
 * side would overwrite one of them. */
int git_workspace_merge(int *outcome, char **conflicts, const char *dir, const char *branch, const char *remote_sha,
			struct err *e);

/* The tip of refs/heads/branch, "" if none. */
int git_workspace_head(char sha[41], const char *dir, const char *branch, struct err *e);
/* GitHub's tip of branch as the last fetch saw it, "" if none. */
int git_workspace_tracking(char sha[41], const char *dir, const char *branch, struct err *e);
/* Commits local_sha has that remote_sha lacks (ahead) and the other way round (behind). */
int git_workspace_ahead_behind(size_t *ahead, size_t *behind, const char *dir, const char *local_sha,
			       const char *remote_sha, struct err *e);

/* Called while a push sends its objects (current of total, bytes so far); NULL stops it. */
typedef void (*ws_progress_fn)(void *arg, unsigned current, unsigned total, size_t bytes);
void git_workspace_on_push_progress(ws_progress_fn fn, void *arg);

/* Pushes sha to refs/heads/remote_branch (never forced) and records it as GitHub's tip
 * (git_workspace_tracking). create: 1 when the branch may be new on GitHub; 0 when it must exist
 * there already: a branch GitHub does not advertise is then not pushed at all (ERR_NOTFOUND), so
 * a branch deleted on GitHub is never recreated (libgit2's push negotiation sees the remote's
 * current value before anything is sent). ERR_CONFLICT when the remote moved (not a fast-forward,
 * also when it moved to commits not fetched yet), ERR_UNAUTH when the token is refused. objects
 * is set to objects sent. */
int git_workspace_push(unsigned *objects, const char *dir, const char *url, const char *sha, const char *remote_branch,
		       int create, const char *token, struct err *e);
/* A refusal that no retry changes comes back as ERR_FORBIDDEN, its message in GitHub's words: "GitHub
 * refused the push to <branch>: <the server's remote: lines> (<the ref's status>)", e.g. "… GH006:
 * Protected branch update failed for refs/heads/main. - Changes must be made through a pull request.
 * (protected branch hook declined)"; "… no push access (HTTP 403)" for a user without push rights.
 * git_workspace_refusal says which (GitHub's codes: GH006 protected branch, GH001 large files). */
enum { WS_REFUSED_OTHER = 1, WS_REFUSED_PROTECTED, WS_REFUSED_TOO_LARGE, WS_REFUSED_NO_ACCESS };
/* What GitHub warned about on the last push that went through, in its words ("File big.bin is 60.00 MB;
 * this is larger than GitHub's recommended maximum file size of 50.00 MB GH001: …"), "" when nothing. */
const char *git_workspace_push_warning(void);
int git_workspace_refusal(const char *msg);

/* 1 when the folder's side of path must not reach git: path (or a folder on its way) is a link from
 * GitHub (mode 120000 in idx), which is never changed or removed from the folder's side; or the
 * folder has a link, fifo, socket or device at path, or a link on its way (a folder replaced by a
 * link: the files behind it are not deleted). root is the workspace (core/fsafe.h: fsafe_root).
 * libgit2's workdir iterator leaves fifos, sockets and devices out, so git sees a tracked file they
 * replace as deleted: the folder itself is looked at (lstat beneath root, no link followed). */
int git_workspace_path_refused(struct git_index *idx, int root, const char *path);

/* 0 when every .gitignore and .gitattributes in the folder is a regular file (or absent); else
 * ERR_CONFLICT naming the one that is a link, fifo, socket or device. git reads those files by path,
 * following links and opening fifos, so every libgit2 operation that reads the folder checks this
 * first (git_workspace_files, _commit, _merge; branch.c). */
int git_workspace_rules_check(const char *dir, struct err *e);

/* 1 when path (relative) matches the excludes. */
int git_workspace_excluded(const char *dir, const char *excludes, const char *path);

/* For each of rules[0..n) (gitignore text, one or more lines each, as the exclude setting), how many
 * of the folder's regular files it excludes on its own (counts[r]); files the folder's .gitignore
 * files exclude already are not counted. *total gets the regular files. ERR_TOOBIG (counts untouched)
 * when files × n is over max_checks: the caller says the count is not available. Matching is
 * libgit2's, the same as staging uses (gitignore(5)). */
int git_workspace_exclude_counts(int *counts, int *total, const char *dir, const char *const *rules, int n,
				 long long max_checks, struct err *e);

#endif
