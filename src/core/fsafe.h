/* fsafe.h: file access confined beneath a folder that never crosses a symbolic link (project workspaces). */
#ifndef GHB_FSAFE_H
#define GHB_FSAFE_H

#include <sys/stat.h>
#include <sys/types.h>

/* All functions return a file descriptor or 0 on success and -errno on failure; they never follow a
 * symbolic link, in any component of rel, the last one included, and never leave the folder root:
 *   -ELOOP   rel goes through (or names) a symbolic link
 *   -ENOTDIR a folder component of rel is a file (or something else that is not a folder)
 *   -ENOENT  a component does not exist
 *   -EINVAL  rel is empty, absolute, or has an empty, "." or ".." component
 *   -EXDEV   the kernel saw rel leave the root (RESOLVE_BENEATH)
 * rel is relative to root, an open folder (fsafe_root). On Linux 5.6+ this is one openat2() with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS (openat2(2)); where that call is missing (ENOSYS), the same
 * walk is done one component at a time with openat(O_NOFOLLOW | O_DIRECTORY). */

/* Opens dir itself (the workspace path from configuration and the database, trusted) as a root:
 * O_DIRECTORY | O_CLOEXEC, following links in dir's own path as the operator set it up. */
int fsafe_root(const char *dir);

/* openat beneath root: flags as open(2) (O_NOFOLLOW and O_CLOEXEC are added), mode for O_CREAT. */
int fsafe_open(int root, const char *rel, int flags, mode_t mode);

/* Opens the folder that holds rel's last component (root itself for a one-component rel) and sets
 * *leaf to that component (a pointer into rel). With mkdirs, missing folders are created (mode 0755),
 * never through a link or over a file. Returns the folder's descriptor (caller closes). */
int fsafe_parent(int root, const char *rel, const char **leaf, int mkdirs);

/* lstat beneath root: st describes rel itself (a link is reported as a link, not followed). */
int fsafe_lstat(int root, const char *rel, struct stat *st);

/* Removes the regular file rel (-EISDIR for a folder, -ELOOP for a link, -EPERM for anything else
 * that is not a regular file: such things are never project content), then each folder that held it
 * and is now empty, up to but not including root. */
int fsafe_unlink_file(int root, const char *rel);

/* Removes name (beneath the open folder dir) and, if it is a folder, everything in it, depth first,
 * each step relative to an open folder descriptor: a link met on the way is removed itself, never
 * followed, even when something swaps a folder for a link while the removal runs. 0 when name does
 * not exist. */
int fsafe_remove_tree(int dir, const char *name);

/* Human words for an fsafe error, for messages ("goes through a symbolic link", …). */
const char *fsafe_strerror(int rc);

/* Tests only: on = 1 makes every call take the component-by-component path, as on a kernel without
 * openat2; on = 0 tries openat2 again. */
void fsafe_test_without_openat2(int on);

#endif
