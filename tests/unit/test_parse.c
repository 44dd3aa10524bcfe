/* test_parse.c: query, form, multipart and cookie parsers, including hostile input. */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "http/parse.h"

static struct arena A;
static void setup(void) { memset(&A, 0, sizeof A); }
static void teardown(void) { arena_free(&A); }

START_TEST(test_decode_ok)
{
	char *out;
	size_t len;
	ck_assert_int_eq(http_url_decode(&out, &len, &A, "a%20b+c%2Fd", 11, 1, NULL), 0);
	ck_assert_str_eq(out, "a b c/d");
	ck_assert_uint_eq(len, 7);
	ck_assert_int_eq(http_url_decode(&out, &len, &A, "a+b", 3, 0, NULL), 0);
	ck_assert_str_eq(out, "a+b");
}
END_TEST

START_TEST(test_decode_bad)
{
	char *out;
	struct err e = { 0 };
	ck_assert_int_eq(http_url_decode(&out, NULL, &A, "%", 1, 1, &e), ERR_INVALID);
	ck_assert_int_eq(http_url_decode(&out, NULL, &A, "%4", 2, 1, &e), ERR_INVALID);
	ck_assert_int_eq(http_url_decode(&out, NULL, &A, "abc%zz", 6, 1, &e), ERR_INVALID);
	ck_assert_int_eq(http_url_decode(&out, NULL, &A, "a%00b", 5, 1, &e), ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "NUL"));
}
END_TEST

START_TEST(test_urlencoded)
{
	struct kvlist l = { 0 };
	const char *q = "a=1&b=hello+world&&c&d=%C3%A9&a=2";
	ck_assert_int_eq(http_parse_urlencoded(&l, &A, q, strlen(q), 100, NULL), 0);
	ck_assert_uint_eq(l.n, 5);
	ck_assert_str_eq(kv_get(&l, "a"), "1"); /* first wins */
	ck_assert_str_eq(kv_get(&l, "b"), "hello world");
	ck_assert_str_eq(kv_get(&l, "c"), "");
	ck_assert_str_eq(kv_get(&l, "d"), "\xc3\xa9");
	ck_assert_ptr_null(kv_get(&l, "zz"));
}
END_TEST

START_TEST(test_urlencoded_limits)
{
	struct kvlist l = { 0 };
	struct err e = { 0 };
	char *big = malloc(200000);
	size_t n = 0;
	for (int i = 0; i < 20000; i++)
		n += (size_t)sprintf(big + n, "f%d=x&", i);
	ck_assert_int_eq(http_parse_urlencoded(&l, &A, big, n, 1000, &e), ERR_TOOBIG);
	free(big);
	l.n = 0;
	ck_assert_int_eq(http_parse_urlencoded(&l, &A, "a=%ff%fe", 8, 100, &e), ERR_INVALID); /* not UTF-8 */
	l.n = 0;
	ck_assert_int_eq(http_parse_urlencoded(&l, &A, "a=b%", 4, 100, &e), ERR_INVALID);
	l.n = 0;
	/* a raw NUL inside the body is refused as well as an encoded one */
	ck_assert_int_eq(http_parse_urlencoded(&l, &A, "a=b\0c", 5, 100, &e), ERR_INVALID);
}
END_TEST

START_TEST(test_cookies)
{
	struct kvlist l = { 0 };
	ck_assert_int_eq(http_parse_cookies(&l, &A, "a=1; b=\"two\";c=3;  junk; =x; d=", 50, NULL), 0);
	ck_assert_str_eq(kv_get(&l, "a"), "1");
	ck_assert_str_eq(kv_get(&l, "b"), "two");
	ck_assert_str_eq(kv_get(&l, "c"), "3");
	ck_assert_str_eq(kv_get(&l, "d"), "");
	ck_assert_ptr_null(kv_get(&l, "junk"));
	struct kvlist m = { 0 };
	ck_assert_int_eq(http_parse_cookies(&m, &A, "a=1;b=2;c=3", 2, NULL), ERR_TOOBIG);
}
END_TEST

#define CT "multipart/form-data; boundary=XyZ"

START_TEST(test_multipart_ok)
{
	static const char body[] =
		"preamble\r\n--XyZ\r\n"
		"Content-Disposition: form-data; name=\"title\"\r\n\r\n"
		"Hello <world>\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
		"Content-Type: application/octet-stream\r\n\r\n"
		"\x00\x01\x02--X\r\n"
		"--XyZ--\r\n";
	struct kvlist l = { 0 };
	struct err e = { 0 };
	ck_assert_int_eq(http_parse_multipart(&l, &A, body, sizeof body - 1, CT, 100, &e), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(kv_get(&l, "title"), "Hello <world>");
	const struct kv *f = kv_find(&l, "file");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->filename, "a.bin");
	ck_assert_str_eq(f->content_type, "application/octet-stream");
	ck_assert_uint_eq(f->value_len, 6);
	ck_assert_int_eq(memcmp(f->value, "\x00\x01\x02--X", 6), 0);
}
END_TEST

START_TEST(test_multipart_quoted_boundary)
{
	static const char body[] = "--a b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--a b--";
	struct kvlist l = { 0 };
	ck_assert_int_eq(http_parse_multipart(&l, &A, body, sizeof body - 1,
					      "multipart/form-data; boundary=\"a b\"", 10, NULL), 0);
	ck_assert_str_eq(kv_get(&l, "x"), "1");
}
END_TEST

START_TEST(test_multipart_hostile)
{
	struct kvlist l = { 0 };
	struct err e = { 0 };
	static const char part[] = "--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nabc";
	/* truncated: no closing delimiter */
	ck_assert_int_eq(http_parse_multipart(&l, &A, part, sizeof part - 1, CT, 10, &e), ERR_INVALID);
	/* missing boundary parameter */
	ck_assert_int_eq(http_parse_multipart(&l, &A, part, sizeof part - 1, "multipart/form-data", 10, &e),
			 ERR_INVALID);
	/* boundary not in body */
	ck_assert_int_eq(http_parse_multipart(&l, &A, "nothing", 7, CT, 10, &e), ERR_INVALID);
	/* headers never end */
	static const char noend[] = "--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n";
	ck_assert_int_eq(http_parse_multipart(&l, &A, noend, sizeof noend - 1, CT, 10, &e), ERR_INVALID);
	/* part without a name */
	static const char noname[] = "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--";
	ck_assert_int_eq(http_parse_multipart(&l, &A, noname, sizeof noname - 1, CT, 10, &e), ERR_INVALID);
	/* NUL in a text field */
	static const char nul[] = "--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\na\0b\r\n--XyZ--";
	ck_assert_int_eq(http_parse_multipart(&l, &A, nul, sizeof nul - 1, CT, 10, &e), ERR_INVALID);
	/* too many parts */
	char many[4096];
	size_t n = 0;
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(many + n, sizeof many - n,
				      "--XyZ\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n", i);
	n += (size_t)snprintf(many + n, sizeof many - n, "--XyZ--");
	l.n = 0;
	ck_assert_int_eq(http_parse_multipart(&l, &A, many, n, CT, 10, &e), ERR_TOOBIG);
	l.n = 0;
	ck_assert_int_eq(http_parse_multipart(&l, &A, many, n, CT, 100, &e), 0);
	ck_assert_uint_eq(l.n, 20);
}
END_TEST

START_TEST(test_header_param)
{
	ck_assert_str_eq(http_header_param(&A, "text/plain; charset=utf-8", "charset"), "utf-8");
	ck_assert_str_eq(http_header_param(&A, "form-data; name=\"a;b\"; filename=x", "filename"), "x");
	ck_assert_ptr_null(http_header_param(&A, "text/plain", "charset"));
	ck_assert_ptr_null(http_header_param(&A, "x; name=\"unterminated", "name"));
}
END_TEST

START_TEST(test_utf8)
{
	ck_assert(utf8_valid("abc", 3));
	ck_assert(utf8_valid("\xe2\x82\xac", 3));
	ck_assert(!utf8_valid("\xe2\x82", 2));
	ck_assert(!utf8_valid("\xc0\xaf", 2));        /* overlong */
	ck_assert(!utf8_valid("\xed\xa0\x80", 3));    /* surrogate */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_decode_ok);
	tcase_add_test(tc, test_decode_bad);
	tcase_add_test(tc, test_urlencoded);
	tcase_add_test(tc, test_urlencoded_limits);
	tcase_add_test(tc, test_cookies);
	tcase_add_test(tc, test_multipart_ok);
	tcase_add_test(tc, test_multipart_quoted_boundary);
	tcase_add_test(tc, test_multipart_hostile);
	tcase_add_test(tc, test_header_param);
	tcase_add_test(tc, test_utf8);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
