/* test_fsafe.c: file access beneath a folder never crosses a link (core/fsafe.c), with openat2 and without. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/fsafe.h"

static char top[PATH_MAX], dir[PATH_MAX + 16];

static void put(const char *rel, const char *text)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof p, "%s/%s", top, rel);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static int exists(const char *rel)
{
	char p[PATH_MAX * 2];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", top, rel);
	return lstat(p, &st) == 0;
}

/* top/root: the folder; top/outside: what links point at. */
static void setup(void)
{
	snprintf(top, sizeof top, "/tmp/ghb-fsafe-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(dir, sizeof dir, "%s/root", top);
	char p[PATH_MAX * 2];
	snprintf(p, sizeof p, "%s/outside", top);
	mkdir(p, 0755);
	mkdir(dir, 0755);
	put("outside/secret", "secret");
	put("outside/key", "key");
	snprintf(p, sizeof p, "%s/d", dir);
	mkdir(p, 0755);
	put("root/d/f", "hello");
	snprintf(p, sizeof p, "%s/l", dir);
	ck_assert_int_eq(symlink("../outside", p), 0);          /* a folder outside */
	snprintf(p, sizeof p, "%s/lf", dir);
	ck_assert_int_eq(symlink("../outside/key", p), 0);      /* a file outside */
	snprintf(p, sizeof p, "%s/abs", dir);
	ck_assert_int_eq(symlink("/", p), 0);                   /* the root */
	snprintf(p, sizeof p, "%s/in", dir);
	ck_assert_int_eq(symlink("d", p), 0);                   /* a folder inside */
	snprintf(p, sizeof p, "%s/c1", dir);
	ck_assert_int_eq(symlink("l", p), 0);                   /* a chain */
	snprintf(p, sizeof p, "%s/p", dir);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
}

static void teardown(void)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof p, "rm -rf '%s'", top);
	ck_assert_int_eq(system(p), 0);
	fsafe_test_without_openat2(0);
}

static void opens(int fallback)
{
	fsafe_test_without_openat2(fallback);
	int root = fsafe_root(dir);
	ck_assert_int_ge(root, 0);
	int fd = fsafe_open(root, "d/f", O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	char buf[16] = "";
	ck_assert_int_eq(read(fd, buf, sizeof buf - 1), 5);
	ck_assert_str_eq(buf, "hello");
	close(fd);
	ck_assert_int_eq(fsafe_open(root, "l/secret", O_RDONLY, 0), -ELOOP);
	ck_assert_int_eq(fsafe_open(root, "lf", O_RDONLY, 0), -ELOOP);
	ck_assert_int_eq(fsafe_open(root, "abs/etc/passwd", O_RDONLY, 0), -ELOOP);
	ck_assert_int_eq(fsafe_open(root, "in/f", O_RDONLY, 0), -ELOOP); /* even a link that stays inside */
	ck_assert_int_eq(fsafe_open(root, "c1/secret", O_RDONLY, 0), -ELOOP);
	ck_assert_int_eq(fsafe_open(root, "l", O_PATH | O_DIRECTORY, 0), -ELOOP);
	ck_assert_int_eq(fsafe_open(root, "lf", O_PATH, 0), -ELOOP);
	ck_assert_int_eq(fsafe_open(root, "lf", O_WRONLY | O_CREAT | O_TRUNC, 0644), -ELOOP);
	ck_assert_int_eq(fsafe_open(root, "../outside/secret", O_RDONLY, 0), -EINVAL);
	ck_assert_int_eq(fsafe_open(root, "d/../d/f", O_RDONLY, 0), -EINVAL);
	ck_assert_int_eq(fsafe_open(root, "/etc/passwd", O_RDONLY, 0), -EINVAL);
	ck_assert_int_eq(fsafe_open(root, "", O_RDONLY, 0), -EINVAL);
	ck_assert_int_eq(fsafe_open(root, "d//f", O_RDONLY, 0), -EINVAL);
	ck_assert_int_eq(fsafe_open(root, "d/f/x", O_RDONLY, 0), -ENOTDIR);
	ck_assert_int_eq(fsafe_open(root, "nope", O_RDONLY, 0), -ENOENT);
	struct stat st;
	ck_assert_int_eq(fsafe_lstat(root, "lf", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(fsafe_lstat(root, "l/secret", &st), -ELOOP);
	ck_assert_int_eq(fsafe_lstat(root, "p", &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	/* Folders made one at a time: never through a link, never over a file. */
	const char *leaf;
	int d = fsafe_parent(root, "new/deep/x", &leaf, 1);
	ck_assert_int_ge(d, 0);
	ck_assert_str_eq(leaf, "x");
	close(d);
	ck_assert(exists("root/new/deep"));
	ck_assert_int_eq(fsafe_parent(root, "l/made/x", &leaf, 1), -ELOOP);
	ck_assert(!exists("outside/made"));
	ck_assert_int_eq(fsafe_parent(root, "d/f/x", &leaf, 1), -ENOTDIR);
	ck_assert_int_eq(fsafe_parent(root, "c1/x", &leaf, 0), -ELOOP);
	close(root);
}

START_TEST(test_open_openat2) { opens(0); }
END_TEST

START_TEST(test_open_fallback) { opens(1); }
END_TEST

static void unlinks(int fallback)
{
	fsafe_test_without_openat2(fallback);
	int root = fsafe_root(dir);
	ck_assert_int_ge(root, 0);
	ck_assert_int_eq(fsafe_unlink_file(root, "l/secret"), -ELOOP);
	ck_assert_int_eq(fsafe_unlink_file(root, "c1/secret"), -ELOOP);
	ck_assert(exists("outside/secret"));
	ck_assert_int_eq(fsafe_unlink_file(root, "lf"), -ELOOP);
	ck_assert(exists("root/lf") && exists("outside/key"));
	ck_assert_int_eq(fsafe_unlink_file(root, "p"), -EPERM);
	ck_assert_int_eq(fsafe_unlink_file(root, "d"), -EISDIR);
	ck_assert_int_eq(fsafe_unlink_file(root, "nope"), -ENOENT);
	put("root/d/g", "g");
	ck_assert_int_eq(fsafe_unlink_file(root, "d/g"), 0);
	ck_assert(!exists("root/d/g") && exists("root/d/f"));
	/* the last file of a folder: the emptied folders go too, up to the root */
	char p[PATH_MAX * 2];
	snprintf(p, sizeof p, "%s/root/e", top);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/root/e/e2", top);
	mkdir(p, 0755);
	put("root/e/e2/z", "z");
	ck_assert_int_eq(fsafe_unlink_file(root, "e/e2/z"), 0);
	ck_assert(!exists("root/e") && exists("root"));
	close(root);
}

START_TEST(test_unlink_openat2) { unlinks(0); }
END_TEST

START_TEST(test_unlink_fallback) { unlinks(1); }
END_TEST

START_TEST(test_remove_tree)
{
	int t = fsafe_root(top);
	ck_assert_int_ge(t, 0);
	ck_assert_int_eq(fsafe_remove_tree(t, "root"), 0);
	close(t);
	ck_assert(!exists("root"));
	ck_assert(exists("outside/secret") && exists("outside/key"));
	t = fsafe_root(top);
	ck_assert_int_eq(fsafe_remove_tree(t, "root"), 0); /* gone already: 0 */
	close(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fsafe");
	TCase *tc = tcase_create("fsafe");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_openat2);
	tcase_add_test(tc, test_open_fallback);
	tcase_add_test(tc, test_unlink_openat2);
	tcase_add_test(tc, test_unlink_fallback);
	tcase_add_test(tc, test_remove_tree);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
