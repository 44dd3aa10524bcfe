/* test_lfs.c: Git LFS in the workspace (git/lfs.c, issue 16): content lands by rename beneath the folder,
 * never through a folder swapped for a link meanwhile; a touched LFS file is compared streaming, never
 * read whole into memory; duplicate objects go in O(n log n). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <git2.h>
#include "core/fsafe.h"
#include "git/lfs.h"

/* libgit2's documented *_INIT macros set only the version fields. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static char top[PATH_MAX], ws[PATH_MAX + 16], outside[PATH_MAX + 16];
static git_repository *repo;

static void path_of(char *out, size_t len, const char *base, const char *rel)
{
	snprintf(out, len, "%s/%s", base, rel);
}

static void put(const char *base, const char *rel, const void *data, size_t len)
{
	char p[PATH_MAX * 2];
	path_of(p, sizeof p, base, rel);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* The whole file, or NULL; *len its size. */
static char *slurp(const char *base, const char *rel, size_t *len)
{
	char p[PATH_MAX * 2];
	path_of(p, sizeof p, base, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *d = malloc((size_t)n + 1);
	*len = fread(d, 1, (size_t)n, f);
	fclose(f);
	return d;
}

/* Entries in a folder other than . and .., and whether one is a temporary file of git_lfs_settle. */
static int entries(const char *dir, int *tmps)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	if (tmps)
		*tmps = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n++;
		if (tmps && strncmp(de->d_name, ".ghbridge-lfs-", 14) == 0)
			(*tmps)++;
	}
	closedir(d);
	return n;
}

static char content[200000];
static char ptr[300];
static size_t ptrlen;

/* top/ws: a workspace with "*.bin filter=lfs", sub/a.bin committed to the index as its pointer (the
 * clean filter put the object in .git/lfs), then the folder's file put back to the pointer text, as a
 * checkout writes it now. top/outside: what links point at. */
static void setup(void)
{
	snprintf(top, sizeof top, "/tmp/ghb-lfs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(ws, sizeof ws, "%s/ws", top);
	snprintf(outside, sizeof outside, "%s/outside", top);
	mkdir(outside, 0755);
	git_libgit2_init();
	ck_assert_int_eq(git_lfs_filter_register(), 0);
	ck_assert_int_eq(git_repository_init(&repo, ws, 0), 0);
	put(ws, ".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n", 42);
	char p[PATH_MAX * 2];
	path_of(p, sizeof p, ws, "sub");
	mkdir(p, 0755);
	for (size_t i = 0; i < sizeof content; i++)
		content[i] = (char)(i * 7919 % 251);
	put(ws, "sub/a.bin", content, sizeof content);
	git_index *idx = NULL;
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, ".gitattributes"), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "sub/a.bin"), 0);
	ck_assert_int_eq(git_index_write(idx), 0);
	const git_index_entry *ie = git_index_get_bypath(idx, "sub/a.bin", 0);
	ck_assert_ptr_nonnull(ie);
	git_blob *b = NULL;
	ck_assert_int_eq(git_blob_lookup(&b, repo, &ie->id), 0);
	ptrlen = (size_t)git_blob_rawsize(b);
	ck_assert_uint_lt(ptrlen, sizeof ptr);
	memcpy(ptr, git_blob_rawcontent(b), ptrlen);
	git_blob_free(b);
	git_index_free(idx);
	char oid[65];
	long long size;
	ck_assert_int_eq(git_lfs_pointer_parse(oid, &size, ptr, ptrlen), 0);
	ck_assert_int_eq(size, (long long)sizeof content);
	put(ws, "sub/a.bin", ptr, ptrlen);
}

static void teardown(void)
{
	git_lfs_test_hook(NULL, NULL);
	fsafe_test_without_openat2(0);
	git_repository_free(repo);
	repo = NULL;
	int t = fsafe_root("/tmp");
	fsafe_remove_tree(t, top + 5);
	close(t);
	git_libgit2_shutdown();
}

static int settle(int *materialised)
{
	git_index *idx = NULL;
	int root = fsafe_root(ws), rc;
	ck_assert_int_ge(root, 0);
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_read(idx, 1), 0);
	rc = git_lfs_settle(materialised, repo, idx, root, GIT_LFS_BRING_IN | GIT_LFS_WRITE_INDEX);
	git_index_free(idx);
	close(root);
	return rc;
}

/* The content replaces the pointer by rename; the index learns its stat data; nothing is left behind. */
static void lands(int without_openat2)
{
	fsafe_test_without_openat2(without_openat2);
	char p[PATH_MAX * 2];
	struct stat before, after;
	path_of(p, sizeof p, ws, "sub/a.bin");
	ck_assert_int_eq(lstat(p, &before), 0);
	int m = -1;
	ck_assert_int_eq(settle(&m), 0);
	ck_assert_int_eq(m, 1);
	size_t len;
	char *got = slurp(ws, "sub/a.bin", &len);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, sizeof content);
	ck_assert(memcmp(got, content, len) == 0);
	free(got);
	ck_assert_int_eq(lstat(p, &after), 0);
	ck_assert(after.st_ino != before.st_ino); /* a new file renamed into place, not written in place */
	int tmps;
	path_of(p, sizeof p, ws, "sub");
	ck_assert_int_eq(entries(p, &tmps), 1);
	ck_assert_int_eq(tmps, 0);
	git_index *idx = NULL;
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_read(idx, 1), 0);
	const git_index_entry *ie = git_index_get_bypath(idx, "sub/a.bin", 0);
	ck_assert_uint_eq(ie->file_size, sizeof content);
	ck_assert_int_eq(ie->mtime.seconds, (int32_t)after.st_mtim.tv_sec);
	ck_assert_uint_eq(ie->mtime.nanoseconds, (uint32_t)after.st_mtim.tv_nsec);
	ck_assert_uint_eq(ie->ino, (uint32_t)after.st_ino);
	git_index_free(idx);
	/* git status: clean (the pointer the index holds is what the folder's content cleans to). */
	git_status_list *sl = NULL;
	git_status_options so = GIT_STATUS_OPTIONS_INIT;
	ck_assert_int_eq(git_status_list_new(&sl, repo, &so), 0);
	ck_assert_uint_eq(git_status_list_entrycount(sl), 2); /* .gitattributes and sub/a.bin: new in the index */
	for (size_t i = 0; i < 2; i++)
		ck_assert_int_eq(git_status_byindex(sl, i)->status & ~GIT_STATUS_INDEX_NEW, 0);
	git_status_list_free(sl);
	ck_assert_int_eq(settle(&m), 0);
	ck_assert_int_eq(m, 0); /* a second pass has nothing to do */
}

START_TEST(test_lands_openat2) { lands(0); }
END_TEST

START_TEST(test_lands_fallback) { lands(1); }
END_TEST

/* The host swaps sub for a link to outside at step: sub moved to sub.moved, sub -> ../outside. */
static const char *swap_at;
static void swap_hook(const char *step, const char *path, void *arg)
{
	(void)arg;
	(void)path;
	if (strcmp(step, swap_at) != 0)
		return;
	char a[PATH_MAX * 2], b[PATH_MAX * 2];
	path_of(a, sizeof a, ws, "sub");
	path_of(b, sizeof b, ws, "sub.moved");
	ck_assert_int_eq(rename(a, b), 0);
	ck_assert_int_eq(symlink("../outside", a), 0);
}

static void swapped(const char *step, int without_openat2)
{
	fsafe_test_without_openat2(without_openat2);
	put(outside, "a.bin", "outside's own", 13);
	swap_at = step;
	git_lfs_test_hook(swap_hook, NULL);
	settle(NULL);
	/* Nothing written outside: its one file as it was, no temporary file, no a.bin replaced. */
	int tmps;
	ck_assert_int_eq(entries(outside, &tmps), 1);
	ck_assert_int_eq(tmps, 0);
	size_t len;
	char *got = slurp(outside, "a.bin", &len);
	ck_assert_uint_eq(len, 13);
	ck_assert(memcmp(got, "outside's own", 13) == 0);
	free(got);
	/* The link is still the host's link; the copy stayed in the folder first opened, now sub.moved,
	 * inside the project: the content (renamed there) or the pointer, never half a file. */
	char p[PATH_MAX * 2];
	struct stat st;
	path_of(p, sizeof p, ws, "sub");
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	path_of(p, sizeof p, ws, "sub.moved");
	ck_assert_int_eq(entries(p, &tmps), 1);
	ck_assert_int_eq(tmps, 0);
	got = slurp(ws, "sub.moved/a.bin", &len);
	ck_assert_ptr_nonnull(got);
	ck_assert((len == sizeof content && memcmp(got, content, len) == 0) || (len == ptrlen && memcmp(got, ptr, len) == 0));
	free(got);
}

START_TEST(test_swap_after_tmp_openat2) { swapped("tmp-open", 0); }
END_TEST

START_TEST(test_swap_after_tmp_fallback) { swapped("tmp-open", 1); }
END_TEST

START_TEST(test_swap_before_rename_openat2) { swapped("before-rename", 0); }
END_TEST

START_TEST(test_swap_before_rename_fallback) { swapped("before-rename", 1); }
END_TEST

/* A folder that is a link already (the host made it): nothing is read or written through it. */
START_TEST(test_link_before)
{
	char a[PATH_MAX * 2], b[PATH_MAX * 2];
	put(outside, "a.bin", ptr, ptrlen); /* outside holds the pointer's text too */
	path_of(a, sizeof a, ws, "sub");
	path_of(b, sizeof b, ws, "sub.moved");
	ck_assert_int_eq(rename(a, b), 0);
	ck_assert_int_eq(symlink("../outside", a), 0);
	int m = -1;
	settle(&m);
	ck_assert_int_eq(m, 0);
	size_t len;
	char *got = slurp(outside, "a.bin", &len);
	ck_assert_uint_eq(len, ptrlen);
	ck_assert(memcmp(got, ptr, len) == 0);
	free(got);
	int tmps;
	ck_assert_int_eq(entries(outside, &tmps), 1);
	ck_assert_int_eq(tmps, 0);
}
END_TEST

/* A pointer file someone changes between the check and the rename is theirs: not replaced. */
static void write_hook(const char *step, const char *path, void *arg)
{
	(void)arg;
	(void)path;
	if (strcmp(step, "before-rename") == 0)
		put(ws, "sub/a.bin", "the user's words", 16);
}

START_TEST(test_changed_meanwhile)
{
	git_lfs_test_hook(write_hook, NULL);
	int m = -1;
	settle(&m);
	ck_assert_int_eq(m, 0);
	size_t len;
	char *got = slurp(ws, "sub/a.bin", &len);
	ck_assert_uint_eq(len, 16);
	ck_assert(memcmp(got, "the user's words", 16) == 0);
	free(got);
	char p[PATH_MAX * 2];
	int tmps;
	path_of(p, sizeof p, ws, "sub");
	ck_assert_int_eq(entries(p, &tmps), 1);
	ck_assert_int_eq(tmps, 0);
}
END_TEST

/* No rule for the path (the .gitattributes line gone, in the folder and the index): its pointer stays a pointer (staging would
 * otherwise commit the content raw). */
START_TEST(test_no_rule)
{
	put(ws, ".gitattributes", "# none\n", 7);
	git_index *idx = NULL;
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, ".gitattributes"), 0);
	ck_assert_int_eq(git_index_write(idx), 0);
	git_index_free(idx);
	git_repository_free(repo); /* a sync opens the repository anew */
	ck_assert_int_eq(git_repository_open(&repo, ws), 0);
	int m = -1;
	settle(&m);
	ck_assert_int_eq(m, 0);
	size_t len;
	char *got = slurp(ws, "sub/a.bin", &len);
	ck_assert_uint_eq(len, ptrlen);
	free(got);
}
END_TEST

static long hwm_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* Peak RSS back to the current RSS (proc(5): clear_refs 5), so each step's peak is its own. */
static void hwm_reset(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

static void touch_later(const char *rel)
{
	char p[PATH_MAX * 2];
	struct stat st;
	path_of(p, sizeof p, ws, rel);
	ck_assert_int_eq(stat(p, &st), 0);
	struct timespec t[2] = { st.st_atim, st.st_mtim };
	t[1].tv_sec -= 7; /* another mtime, in the past: a future one is racy to libgit2 whatever the index says */
	ck_assert_int_eq(utimensat(AT_FDCWD, p, t, 0), 0);
}

static unsigned status_of(const char *rel)
{
	git_status_list *sl = NULL;
	git_status_options so = GIT_STATUS_OPTIONS_INIT;
	so.flags = GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
	char *ps[] = { (char *)rel };
	so.pathspec.strings = ps;
	so.pathspec.count = 1;
	ck_assert_int_eq(git_status_list_new(&sl, repo, &so), 0);
	unsigned s = git_status_list_entrycount(sl) ? git_status_byindex(sl, 0)->status : 0;
	git_status_list_free(sl);
	return s;
}

/* A 128 MiB LFS file touched (same size, new mtime): compared streaming, status clean, and the peak
 * memory does not grow by the file; changed in one byte (same size): seen as changed, still streaming.
 * Last, libgit2 alone on the same touched file, for the figure the fix avoids. */
START_TEST(test_touched_large_streams)
{
	const long long big = 128LL << 20;
	char p[PATH_MAX * 2];
	path_of(p, sizeof p, ws, "big.bin");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, big), 0);
	ck_assert_int_eq(pwrite(fd, "head", 4, 0), 4);
	close(fd);
	git_index *idx = NULL;
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_read(idx, 1), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "big.bin"), 0); /* cleaned streaming into .git/lfs */
	ck_assert_int_eq(git_index_write(idx), 0);
	git_index_free(idx);
	sleep(1); /* the index older than nothing it records */
	touch_later("big.bin");
	hwm_reset();
	long h0 = hwm_kib();
	ck_assert_int_eq(settle(NULL), 0);
	unsigned st = status_of("big.bin");
	long h1 = hwm_kib();
	fprintf(stderr, "# touched 128 MiB LFS file, settle + status: peak RSS %ld -> %ld KiB (+%ld)\n", h0, h1, h1 - h0);
	ck_assert_uint_eq(st & (GIT_STATUS_WT_MODIFIED), 0);
	ck_assert_int_lt(h1 - h0, 32 * 1024);
	/* One byte changed, same size. */
	fd = open(p, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, "X", 1, big / 2), 1);
	close(fd);
	touch_later("big.bin");
	hwm_reset();
	h0 = hwm_kib();
	ck_assert_int_eq(settle(NULL), 0);
	st = status_of("big.bin");
	h1 = hwm_kib();
	fprintf(stderr, "# changed 128 MiB LFS file (same size), settle + status: peak RSS %ld -> %ld KiB (+%ld)\n", h0,
		h1, h1 - h0);
	ck_assert_uint_ne(st & GIT_STATUS_WT_MODIFIED, 0);
	ck_assert_int_lt(h1 - h0, 32 * 1024);
	/* libgit2 alone (no settle): the figure git_lfs_settle avoids. */
	fd = open(p, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, "h", 1, big / 2), 1);
	close(fd);
	ck_assert_int_eq(git_repository_index(&idx, repo), 0);
	ck_assert_int_eq(git_index_read(idx, 1), 0);
	ck_assert_int_eq(git_index_add_bypath(idx, "big.bin"), 0);
	ck_assert_int_eq(git_index_write(idx), 0);
	git_index_free(idx);
	touch_later("big.bin");
	hwm_reset();
	h0 = hwm_kib();
	status_of("big.bin");
	h1 = hwm_kib();
	fprintf(stderr, "# the same touched file, libgit2's status alone: peak RSS %ld -> %ld KiB (+%ld)\n", h0, h1, h1 - h0);
}
END_TEST

/* A SHA-256-like oid for k (splitmix64): oids differ from their first characters, as real ones do. */
static unsigned long long mix(unsigned long long z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 20,000 objects (5,000 oids, each four times), and 200,000: O(n log n), first path kept, order kept. */
static double unique_run(size_t n, size_t distinct)
{
	struct git_lfs_object *v = calloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		size_t k = (i * 7) % distinct;
		for (int j = 0; j < 4; j++)
			snprintf(v[i].oid + 16 * j, 17, "%016llx", mix(k * 4 + (size_t)j));
		v[i].size = (long long)k;
		char path[32];
		snprintf(path, sizeof path, "p%zu", i);
		v[i].path = strdup(path);
		v[i].seq = i;
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	size_t k = git_lfs_objects_unique(v, n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_uint_eq(k, distinct);
	for (size_t i = 0; i < k; i++) {
		ck_assert_uint_eq(v[i].seq, i); /* the first distinct ones are 0..distinct-1, in order */
		char path[32];
		snprintf(path, sizeof path, "p%zu", i);
		ck_assert_str_eq(v[i].path, path);
	}
	/* Dropping what the server's commit has: half of them. */
	size_t nk = distinct / 2;
	struct git_lfs_object *known = calloc(nk, sizeof *known);
	for (size_t i = 0; i < nk; i++)
		memcpy(known[i].oid, v[2 * i].oid, 65);
	size_t left = git_lfs_objects_drop(v, k, known, nk);
	ck_assert_uint_eq(left, distinct - nk);
	for (size_t i = 0; i < left; i++) {
		ck_assert_uint_eq(v[i].seq, 2 * i + 1);
		free(v[i].path);
	}
	free(known);
	free(v);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

START_TEST(test_unique_20000)
{
	double t20 = unique_run(20000, 5000), t20d = unique_run(20000, 20000), t200 = unique_run(200000, 50000);
	fprintf(stderr, "# git_lfs_objects_unique: 20,000 objects (5,000 distinct) %.1f ms, 20,000 distinct %.1f ms, "
		"200,000 (50,000 distinct) %.1f ms\n", t20 * 1e3, t20d * 1e3, t200 * 1e3);
	ck_assert(t20 < 0.5); /* the quadratic scan took seconds for this under the sanitizers */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lfs");
	TCase *tc = tcase_create("lfs");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lands_openat2);
	tcase_add_test(tc, test_lands_fallback);
	tcase_add_test(tc, test_swap_after_tmp_openat2);
	tcase_add_test(tc, test_swap_after_tmp_fallback);
	tcase_add_test(tc, test_swap_before_rename_openat2);
	tcase_add_test(tc, test_swap_before_rename_fallback);
	tcase_add_test(tc, test_link_before);
	tcase_add_test(tc, test_changed_meanwhile);
	tcase_add_test(tc, test_no_rule);
	tcase_add_test(tc, test_touched_large_streams);
	tcase_add_test(tc, test_unique_20000);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
