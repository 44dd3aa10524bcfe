/* lfs.h: Git LFS for workspaces: pointer files, the local object store, the "lfs" filter, Batch API transfers. */
#ifndef GHB_GIT_LFS_H
#define GHB_GIT_LFS_H

#include <stddef.h>
#include "core/err.h"

/* The largest pointer file git-lfs reads (docs/spec.md: pointer files are under 1024 bytes). */
#define GIT_LFS_POINTER_MAX 1024

/* Parses a pointer file (git-lfs docs/spec.md: "version https://git-lfs.github.com/spec/v1", "oid sha256:<64
 * hex>", "size <n>", each a line, keys sorted, version first). Returns 0 and fills oid/size, or -1 when data
 * is not a pointer. */
int git_lfs_pointer_parse(char oid[65], long long *size, const char *data, size_t len);

/* Writes the pointer text for oid/size into out (at least 200 bytes); returns its length. */
size_t git_lfs_pointer_format(char *out, size_t outlen, const char *oid, long long size);

/* Registers the "lfs" filter with libgit2 (once, after git_libgit2_init): paths whose filter attribute is
 * lfs are cleaned to their pointer (the content copied into <gitdir>/lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid>,
 * as git-lfs lays it out, nothing uploaded) and smudged to the content when the local store holds it,
 * else left as the pointer. Returns 0 or a libgit2 error. */
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

/* After a checkout wrote LFS content: each index entry that is a pointer whose file in the folder has the
 * pointer's size and SHA-256 (hashed streaming) gets the file's stat data, and the index is written
 * again. Without it libgit2 finds such an entry's stat unknown or "racy" and hashes the file through the
 * filter, which reads the whole file into memory (git_odb__hashfd_filtered). Returns 0 or ERR_FAIL. */
int git_lfs_index_refresh(const char *dir, struct err *e);

/* "Store files over N MiB in Git LFS": appends to the folder's own .gitattributes (written through
 * core/fsafe.h, never through a link) a rule "/<path> filter=lfs diff=lfs merge=lfs -text" (the line
 * git lfs track writes, the path escaped for gitattributes(5)) for each new or changed file over
 * threshold bytes that no filter=lfs rule covers yet, so the sync that follows commits its pointer.
 * *added counts them; *names (caller frees; NULL when none) lists them, "'a.bin'; 'b.bin'". */
int git_lfs_track_large(int *added, char **names, const char *dir, const char *excludes, long long threshold,
			struct err *e);

#endif
