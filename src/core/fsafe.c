/* fsafe.c: file access confined beneath a folder that never crosses a symbolic link (project workspaces). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>
#include "core/fsafe.h"

/* glibc 2.36 (Debian 12) has no openat2() wrapper; the kernel has had the call since 5.6. */
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static int openat2_missing; /* 1 once the kernel (or a seccomp filter) said ENOSYS */

void fsafe_test_without_openat2(int on)
{
	openat2_missing = on;
}

/* -EINVAL unless rel is a plain relative path: no empty, "." or ".." component, no leading '/'. */
static int rel_check(const char *rel)
{
	if (!rel || !*rel || rel[0] == '/')
		return -EINVAL;
	if (strlen(rel) >= PATH_MAX)
		return -ENAMETOOLONG;
	for (const char *s = rel;;) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return -EINVAL;
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		if (!slash)
			return 0;
		s = slash + 1;
	}
}

int fsafe_root(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS; -ENOSYS where the kernel lacks it. */
static int open_beneath(int root, const char *rel, int flags, mode_t mode)
{
	if (openat2_missing)
		return -ENOSYS;
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.mode = flags & (O_CREAT | O_TMPFILE) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, root, rel, &how, sizeof how);
		if (fd >= 0)
			return (int)fd;
		/* EAGAIN: a rename elsewhere on the system raced the lookup (openat2(2)); look again. */
		if (errno == EAGAIN && tries < 16)
			continue;
		if (errno == ENOSYS)
			openat2_missing = 1;
		return -errno;
	}
}

/* One component beneath dir as a folder, never through a link: an O_PATH descriptor. */
static int step(int dir, const char *name)
{
	int fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int rc = -errno;
	struct stat st;
	/* O_DIRECTORY | O_NOFOLLOW on a link says ENOTDIR: say what it is. */
	if (rc == -ENOTDIR && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		rc = -ELOOP;
	return rc;
}

/* The component-by-component walk to the folder holding rel's last component (mkdirs: creating
 * missing folders). Returns its descriptor; *leaf points at the last component. */
static int walk_parent(int root, const char *rel, const char **leaf, int mkdirs)
{
	int cur = fcntl(root, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return -errno;
	const char *s = rel;
	for (;;) {
		const char *slash = strchr(s, '/');
		if (!slash)
			break;
		char name[NAME_MAX + 1];
		size_t len = (size_t)(slash - s);
		memcpy(name, s, len);
		name[len] = '\0';
		if (mkdirs && mkdirat(cur, name, 0755) && errno != EEXIST) {
			int rc = -errno;
			close(cur);
			return rc;
		}
		int next = step(cur, name);
		close(cur);
		if (next < 0)
			return next;
		cur = next;
		s = slash + 1;
	}
	*leaf = s;
	return cur;
}

int fsafe_open(int root, const char *rel, int flags, mode_t mode)
{
	struct stat st;
	const char *leaf;
	int rc = rel_check(rel);
	if (rc)
		return rc;
	int fd = open_beneath(root, rel, flags, mode);
	if (fd != -ENOSYS)
		goto check;
	int dir = walk_parent(root, rel, &leaf, 0);
	if (dir < 0)
		return dir;
	fd = openat(dir, leaf, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	fd = fd < 0 ? -errno : fd;
	if (fd == -ENOTDIR && fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		fd = -ELOOP;
	close(dir);
check:
	/* O_PATH | O_NOFOLLOW would hand back the link itself: a link is never an answer. */
	if (fd >= 0 && (flags & O_PATH)) {
		if (fstat(fd, &st) || S_ISLNK(st.st_mode)) {
			close(fd);
			return -ELOOP;
		}
	}
	return fd;
}

int fsafe_parent(int root, const char *rel, const char **leaf, int mkdirs)
{
	int rc = rel_check(rel);
	if (rc)
		return rc;
	const char *slash = strrchr(rel, '/');
	if (!slash) {
		*leaf = rel;
		int fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	if (mkdirs)
		return walk_parent(root, rel, leaf, 1);
	char dir[PATH_MAX];
	memcpy(dir, rel, (size_t)(slash - rel));
	dir[slash - rel] = '\0';
	int fd = fsafe_open(root, dir, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0)
		*leaf = slash + 1;
	return fd;
}

int fsafe_lstat(int root, const char *rel, struct stat *st)
{
	const char *leaf;
	int dir = fsafe_parent(root, rel, &leaf, 0);
	if (dir < 0)
		return dir;
	int rc = fstatat(dir, leaf, st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
	close(dir);
	return rc;
}

int fsafe_unlink_file(int root, const char *rel)
{
	const char *leaf;
	int dir = fsafe_parent(root, rel, &leaf, 0);
	if (dir < 0)
		return dir;
	struct stat st;
	int rc = fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
	if (!rc && S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else if (!rc && S_ISLNK(st.st_mode))
		rc = -ELOOP;
	else if (!rc && !S_ISREG(st.st_mode))
		rc = -EPERM;
	/* unlinkat never follows a link: if the file was swapped for one since, the link goes, not its target. */
	if (!rc && unlinkat(dir, leaf, 0))
		rc = -errno;
	close(dir);
	if (rc)
		return rc;
	/* Empty folders mean nothing to git: tidy them, deepest first, stopping at the first that is not. */
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", rel);
	for (char *s = strrchr(path, '/'); s; s = strrchr(path, '/')) {
		*s = '\0';
		dir = fsafe_parent(root, path, &leaf, 0);
		if (dir < 0)
			break;
		int gone = unlinkat(dir, leaf, AT_REMOVEDIR) == 0;
		close(dir);
		if (!gone)
			break;
	}
	return 0;
}

int fsafe_remove_tree(int dir, const char *name)
{
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dir, name, 0) ? -errno : 0;
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int r = fsafe_remove_tree(dirfd(d), de->d_name);
		if (r && !rc)
			rc = r;
	}
	closedir(d);
	if (!rc && unlinkat(dir, name, AT_REMOVEDIR))
		rc = -errno;
	return rc;
}

const char *fsafe_strerror(int rc)
{
	switch (rc) {
	case -ELOOP: return "goes through a symbolic link";
	case -ENOTDIR: return "goes through something that is not a folder";
	case -ENOENT: return "does not exist";
	case -EINVAL: return "is not a plain relative path";
	case -EXDEV: return "leaves the project folder";
	case -EISDIR: return "is a folder";
	case -EPERM: return "is not a regular file";
	case -ENAMETOOLONG: return "is too long";
	default: return strerror(-rc);
	}
}
