/* test_router.c: route matching, path parameters, 404/405 and malformed paths. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "http/router.h"

static int h(struct request *req, struct response *resp) { (void)req; (void)resp; return 0; }

static const struct route routes[] = {
	ROUTE("GET", "/", h, 0),
	ROUTE("GET", "/projects", h, 0),
	ROUTE("POST", "/projects", h, 0),
	ROUTE("GET", "/projects/{id}", h, 0),
	ROUTE("DELETE", "/projects/{id}", h, 0),
	ROUTE("GET", "/projects/{id}/files/{path*}", h, 0),
};
#define N (sizeof routes / sizeof routes[0])

static struct arena A;
static void setup(void) { memset(&A, 0, sizeof A); }
static void teardown(void) { arena_free(&A); }

static int match(const char *m, const char *p, const struct route **r, struct kvlist *params, char *allow)
{
	memset(params, 0, sizeof *params);
	return router_match(r, params, allow, 128, routes, N, m, p, &A, NULL);
}

START_TEST(test_static)
{
	const struct route *r;
	struct kvlist p;
	char allow[128];
	ck_assert_int_eq(match("GET", "/", &r, &p, allow), 0);
	ck_assert_ptr_eq(r, &routes[0]);
	ck_assert_int_eq(match("POST", "/projects", &r, &p, allow), 0);
	ck_assert_ptr_eq(r, &routes[2]);
}
END_TEST

START_TEST(test_params)
{
	const struct route *r;
	struct kvlist p;
	char allow[128];
	ck_assert_int_eq(match("GET", "/projects/42", &r, &p, allow), 0);
	ck_assert_ptr_eq(r, &routes[3]);
	ck_assert_str_eq(kv_get(&p, "id"), "42");
	ck_assert_int_eq(match("GET", "/projects/7/files/docs/a%20b.md", &r, &p, allow), 0);
	ck_assert_str_eq(kv_get(&p, "id"), "7");
	ck_assert_str_eq(kv_get(&p, "path"), "docs/a b.md");
	/* an encoded slash stays inside its segment */
	ck_assert_int_eq(match("GET", "/projects/a%2Fb", &r, &p, allow), 0);
	ck_assert_str_eq(kv_get(&p, "id"), "a/b");
}
END_TEST

START_TEST(test_notfound_and_405)
{
	const struct route *r;
	struct kvlist p;
	char allow[128];
	ck_assert_int_eq(match("GET", "/nope", &r, &p, allow), ERR_NOTFOUND);
	ck_assert_int_eq(match("GET", "/projects/", &r, &p, allow), ERR_NOTFOUND); /* empty param */
	ck_assert_int_eq(match("GET", "/projects/1/files", &r, &p, allow), ERR_NOTFOUND);
	ck_assert_int_eq(match("GET", "/projects/1/files/", &r, &p, allow), ERR_NOTFOUND);
	ck_assert_int_eq(match("PUT", "/projects/9", &r, &p, allow), ERR_UNSUPPORTED);
	ck_assert_str_eq(allow, "GET, HEAD, DELETE");
	ck_assert_int_eq(match("DELETE", "/", &r, &p, allow), ERR_UNSUPPORTED);
	ck_assert_str_eq(allow, "GET, HEAD");
}
END_TEST

START_TEST(test_malformed)
{
	const struct route *r;
	struct kvlist p;
	char allow[128];
	ck_assert_int_eq(match("GET", "/projects/%zz", &r, &p, allow), ERR_INVALID);
	ck_assert_int_eq(match("GET", "/projects/a%00b", &r, &p, allow), ERR_INVALID);
	ck_assert_int_eq(match("GET", "", &r, &p, allow), ERR_NOTFOUND);
	ck_assert_int_eq(match("GET", "projects", &r, &p, allow), ERR_NOTFOUND);
	ck_assert_int_eq(match("GET", "//", &r, &p, allow), ERR_NOTFOUND);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("router");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_static);
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_notfound_and_405);
	tcase_add_test(tc, test_malformed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
