/* test_core.c: buffers, arena, logfmt quoting, configuration loading, the metrics file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/metrics.h"

START_TEST(test_buf)
{
	struct buf b = BUF_INIT;
	ck_assert_str_eq(buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	ck_assert_uint_eq(b.len, strlen(b.data));
	ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	buf_append(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	buf_free(&b);
}
END_TEST

START_TEST(test_arena)
{
	struct arena a = ARENA_INIT;
	char *big = arena_alloc(&a, 100000);
	memset(big, 1, 100000);
	for (int i = 0; i < 5000; i++) {
		char *s = arena_printf(&a, "item-%d", i);
		ck_assert(((uintptr_t)s & 15) == 0);
	}
	ck_assert_str_eq(arena_strndup(&a, "hello", 3), "hel");
	arena_reset(&a);
	ck_assert_uint_eq(a.total, 0);
	ck_assert_ptr_nonnull(arena_strdup(&a, "again"));
	arena_free(&a);
}
END_TEST

START_TEST(test_logfmt)
{
	struct buf b = BUF_INIT;
	logfmt_pair(&b, "a", "plain");
	logfmt_pair(&b, "b", "two words");
	logfmt_pair(&b, "c", "q\"uote\nnl");
	logfmt_pair(&b, "d", "");
	ck_assert_str_eq(b.data, "a=plain b=\"two words\" c=\"q\\\"uote\\nnl\" d=\"\"");
	buf_free(&b);
}
END_TEST

extern char **environ;

START_TEST(test_config)
{
	/* The suite may run inside a stack whose GHBRIDGE_* settings would win. */
	for (int again = 1; again;) {
		again = 0;
		for (char **p = environ; *p; p++)
			if (strncmp(*p, "GHBRIDGE_", 9) == 0) {
				char name[128];
				snprintf(name, sizeof name, "%.*s", (int)strcspn(*p, "="), *p);
				unsetenv(name);
				again = 1;
				break;
			}
	}
	char path[] = "/tmp/ghb-cfg-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("# comment\nlisten = unix:/tmp/x.sock\nprocesses=7\n\ngithub_client_id = abc\n", f);
	fclose(f);
	setenv("GHBRIDGE_PROCESSES", "3", 1);
	struct err e = { 0 };
	ck_assert_int_eq(config_load(path, &e), 0);
	ck_assert_str_eq(cfg_str(CFG_LISTEN), "unix:/tmp/x.sock");
	ck_assert_str_eq(cfg_source(CFG_LISTEN), "file");
	ck_assert_int_eq(cfg_long(CFG_PROCESSES), 3);
	ck_assert_str_eq(cfg_source(CFG_PROCESSES), "env");
	ck_assert_str_eq(cfg_str(CFG_GITHUB_CLIENT_ID), "abc");
	ck_assert_str_eq(cfg_source(CFG_GITHUB_WEB_URL), "default");
	unsetenv("GHBRIDGE_PROCESSES");
	f = fopen(path, "w");
	fputs("no_such_setting = 1\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(path, &e), ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, ":1: unknown setting"));
	f = fopen(path, "w");
	fputs("garbage line\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(path, &e), ERR_INVALID);
	unlink(path);
	config_free();
}
END_TEST

/* A new metrics file: before any GitHub answer the lowest rate-limit remaining reads -1 (none yet), not 0
 * (the "gone" slot 0 of a fresh, zeroed file said 0). */
START_TEST(test_metrics_fresh_ratelimit)
{
	char dir[] = "/tmp/ghb-metrics-XXXXXX", path[512];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	metrics_shm_path(path, sizeof path, dir, "metrics");
	unlink(path);
	ck_assert_int_eq(metrics_open(dir), 0);
	struct buf b = BUF_INIT;
	metrics_render(&b, NULL, 0, NULL, 0);
	ck_assert_msg(strstr(buf_cstr(&b), "\nghbridge_github_ratelimit_remaining_min -1\n") != NULL, "%s", buf_cstr(&b));
	buf_free(&b);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_buf);
	tcase_add_test(tc, test_arena);
	tcase_add_test(tc, test_logfmt);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_metrics_fresh_ratelimit);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
