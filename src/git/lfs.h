/* lfs.h: Git LFS for workspaces: pointer files, the local object store, the "lfs" filter, Batch API transfers. */
#ifndef GHB_GIT_LFS_H
#define GHB_GIT_LFS_H

#include <stddef.h>
#include <git2.h>
#include "core/err.h"

/* The largest pointer file git-lfs reads (docs/spec.md: pointer files are under 1024 bytes). */
#define GIT_LFS_POINTER_MAX 1024

/* Parses a pointer file (git-lfs docs/spec.md: "version https://git-lfs.github.com/spec/v1", "oid sha256:<64
 * hex>", "size <n>", each a line, keys sorted, version first). Returns 0 and fills oid/size, or -1 when data
 * is not a pointer. */
int git_lfs_pointer_parse(char oid[65], long long *size, const char *data, size_t len);

/* Writes the pointer text for oid/size into out (at least 200 bytes); returns its length. */
size_t git_lfs_pointer_format(char *out, size_t outlen, const char *oid, long long size);

/* An LFS object a commit points to: its pointer's oid (64 hex) and size, the first path seen with it
 * (malloc'd), seq its place in the order the paths were met. */
struct git_lfs_object {
	char oid[65];
	long long size;
	char *path;
	size_t seq;
};

/* Keeps the first entry (lowest seq) of each oid in v[0..n), in seq order, and frees the paths of the
 * others; O(n log n) (sort, then one pass). Returns how many are left. */
size_t git_lfs_objects_unique(struct git_lfs_object *v, size_t n);

/* Removes from v[0..n) (freeing their paths) the entries whose oid is one of known[0..nk), which it
 * sorts by oid; O((n + nk) log nk). Returns how many are left, in their order. */
size_t git_lfs_objects_drop(struct git_lfs_object *v, size_t n, struct git_lfs_object *known, size_t nk);

/* Registers the "lfs" filter with libgit2 (once, after git_libgit2_init): paths whose filter attribute is
 * lfs are cleaned to their pointer (the content copied into <gitdir>/lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid>,
 * as git-lfs lays it out, nothing uploaded). Nothing is smudged: a checkout writes the pointer, and
 * git_lfs_settle brings the content in by rename. Returns 0 or a libgit2 error. */
int git_lfs_filter_register(void);

/* Downloads into the workspace's local store every LFS object the tree of commit `sha` points to (pointer
 * blobs under a filter=lfs rule) that the store lacks, through the Batch API at <url>/info/lfs/objects/batch
 * (git-lfs docs/api/batch.md, basic transfer) with the token as git's Basic x-access-token credentials.
 * Each object is streamed to a temporary file, its SHA-256 and size checked before it takes its name.
 * *missing (caller frees; NULL when none) names, one a line, the paths whose object the server does not
 * have: they stay pointers. Errors: ERR_FORBIDDEN (quota, bandwidth, LFS disabled: GitHub's words in e),
 * ERR_UNAVAILABLE (network, 5xx), ERR_INVALID (an object whose bytes do not match). */
int git_lfs_fetch(char **missing, const char *dir, const char *sha, const char *url, const char *token, struct err *e);

/* Uploads the LFS objects the commits in `sha` not in `have_sha` (NULL or "": all of sha's history) point
 * to, that the server says it needs (Batch API upload; an object it has gets no actions), streamed from the
 * local store, with the verify action when given. *uploaded counts the objects sent, *bytes their bytes.
 * Errors as git_lfs_fetch; ERR_NOTFOUND when the local store lacks an object the server needs (e names it). */
int git_lfs_push(int *uploaded, long long *bytes, const char *dir, const char *sha, const char *have_sha,
		 const char *url, const char *token, struct err *e);

/* The folder's LFS files and the index, before libgit2 looks at them and after a checkout. For each
 * stage-0 index entry whose blob is an LFS pointer and whose path is under a filter=lfs rule:
 *  - the folder's file is the pointer's own text (a checkout wrote it) and the local store holds the
 *    object: the content comes in by rename: a temporary file ".ghbridge-lfs-<hex>.tmp" made beside it
 *    (core/fsafe.h: opened beneath the project folder, never through a link, O_EXCL), a streamed copy of
 *    the object, its SHA-256 and size checked, fsync, then renameat over the pointer file only if that
 *    is still the same file. A folder swapped for a link meanwhile is never followed: the copy stays in
 *    the folder first opened. *materialised (may be NULL) counts these. Only with GIT_LFS_BRING_IN.
 *  - the file has the object's size and stat data the index does not know (or "racy": not older than
 *    the index file): its SHA-256 is computed streaming; the object's: the entry gets the file's stat
 *    data; another: the entry's cached size is made unlike the file's, so libgit2 sees a change from the
 *    size alone. A file of another size gets the same mark when the entry's size is 0 or equal.
 * libgit2 would otherwise hash such a file through the filter with all of it in memory
 * (odb.c git_odb__hashfd_filtered). With GIT_LFS_WRITE_INDEX the index is written when changed, once the
 * coarse clock has passed every mtime it records (else libgit2 finds those entries "racy" and hashes them);
 * without it only idx in memory changes (a reader that must not write: the files list). Callers that write
 * hold the project's file lock or are the sync itself. root: fsafe_root of the workspace.
 * Returns 0, or -1 (libgit2's error set). */
#define GIT_LFS_BRING_IN 1
#define GIT_LFS_WRITE_INDEX 2
int git_lfs_settle(int *materialised, git_repository *repo, git_index *idx, int root, int flags);

/* git_lfs_settle for the workspace at dir (opens the repository, its index and the folder). 0 or ERR_FAIL. */
int git_lfs_index_refresh(const char *dir, struct err *e);

/* Tests only: fn is called inside git_lfs_settle's rename step with step "tmp-open" (the temporary file
 * made, nothing copied yet) and "before-rename" (checked and synced), and the entry's path. NULL: none. */
void git_lfs_test_hook(void (*fn)(const char *step, const char *path, void *arg), void *arg);

/* "Store files over N MiB in Git LFS": appends to the folder's own .gitattributes (written through
 * core/fsafe.h, never through a link) a rule "/<path> filter=lfs diff=lfs merge=lfs -text" (the line
 * git lfs track writes, the path escaped for gitattributes(5)) for each new or changed file over
 * threshold bytes that no filter=lfs rule covers yet, so the sync that follows commits its pointer.
 * *added counts them; *names (caller frees; NULL when none) lists them, "'a.bin'; 'b.bin'". */
int git_lfs_track_large(int *added, char **names, const char *dir, const char *excludes, long long threshold,
			struct err *e);

#endif
