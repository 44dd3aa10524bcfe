/* test_input.c: the boundary checks every request byte passes: the UTF-8 validator, the number
 * parser, the JSON text check, and where the HTTP layer applies them (path, form, cookies). */
#include <check.h>
#include <limits.h>
#include <string.h>
#include "http/parse.h"
#include "http/router.h"
#include "web/fields.h"
#include <json-c/json.h>

static struct arena A;
static void setup(void) { A = (struct arena)ARENA_INIT; }
static void teardown(void) { arena_free(&A); }

#define U(s) utf8_valid(s, sizeof(s) - 1)

START_TEST(test_utf8_strict)
{
	ck_assert(U(""));
	ck_assert(U("plain ascii"));
	ck_assert(U("\xc2\x80"));                 /* U+0080, the first two-byte one */
	ck_assert(U("\xdf\xbf"));                 /* U+07FF */
	ck_assert(U("\xe0\xa0\x80"));             /* U+0800 */
	ck_assert(U("\xed\x9f\xbf"));             /* U+D7FF, just below the surrogates */
	ck_assert(U("\xee\x80\x80"));             /* U+E000, just above */
	ck_assert(U("\xef\xbf\xbd"));             /* U+FFFD */
	ck_assert(U("\xf0\x90\x80\x80"));         /* U+10000 */
	ck_assert(U("\xf4\x8f\xbf\xbf"));         /* U+10FFFF, the last one */
	ck_assert(U("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
	ck_assert(!U("\xff\xfe"));                /* the bytes */
	ck_assert(!U("\xc0\xae"));                /* overlong '.' */
	ck_assert(!U("\xc1\xbf"));                /* overlong */
	ck_assert(!U("\xe0\x80\xae"));            /* overlong '.' in three bytes */
	ck_assert(!U("\xe0\x9f\xbf"));            /* overlong U+07FF */
	ck_assert(!U("\xf0\x80\x80\xae"));        /* overlong in four */
	ck_assert(!U("\xf0\x8f\xbf\xbf"));        /* overlong U+FFFF */
	ck_assert(!U("\xed\xa0\x80"));            /* U+D800 */
	ck_assert(!U("\xed\xbf\xbf"));            /* U+DFFF */
	ck_assert(!U("\xed\xa0\xbd\xed\xb8\x80")); /* a surrogate pair in CESU-8 */
	ck_assert(!U("\xf4\x90\x80\x80"));        /* U+110000 */
	ck_assert(!U("\xf5\x80\x80\x80"));
	ck_assert(!U("\xf8\x88\x80\x80\x80"));    /* five bytes */
	ck_assert(!U("\x80"));                    /* a lone continuation */
	ck_assert(!U("\xc3"));                    /* truncated */
	ck_assert(!U("\xe2\x82"));
	ck_assert(!U("a\xc3("));                  /* a lead byte without its continuation */
	ck_assert(!utf8_valid("a\0b", 3));        /* NUL */
	ck_assert(!utf8_valid("\0", 1));
}
END_TEST

static int num(long long *v, const char *s, long long min, long long max)
{
	*v = 12345;
	return http_num_parse(v, s, min, max);
}

START_TEST(test_num_parse)
{
	long long v;
	ck_assert_int_eq(num(&v, "0", 0, 10), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(num(&v, "10", 0, 10), 0);
	ck_assert_int_eq(v, 10);
	ck_assert_int_eq(num(&v, "-5", -10, 10), 0);
	ck_assert_int_eq(v, -5);
	ck_assert_int_eq(num(&v, "007", 0, 10), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(num(&v, "9223372036854775807", 0, LLONG_MAX), 0);
	ck_assert(v == LLONG_MAX);
	ck_assert_int_eq(num(&v, "-9223372036854775808", LLONG_MIN, 0), 0);
	ck_assert(v == LLONG_MIN);
	/* not numbers: refused, *v untouched */
	static const char *bad[] = { "", "-", "10abc", "abc", " 5", "5 ", "+5", "0x10", "1e3", "5.0", "1,000", "--1",
				     "5\n", NULL };
	for (int i = 0; bad[i]; i++) {
		ck_assert_msg(num(&v, bad[i], LLONG_MIN, LLONG_MAX) == ERR_INVALID, "'%s' accepted", bad[i]);
		ck_assert(v == 12345);
	}
	ck_assert_int_eq(http_num_parse(&v, NULL, 0, 1), ERR_INVALID);
	/* the numbers: out of range, never wrapped */
	ck_assert_int_eq(num(&v, "4294967301", 0, 1440), ERR_TOOBIG);
	ck_assert_int_eq(num(&v, "-4294967295", 0, 1440), ERR_TOOBIG);
	ck_assert_int_eq(num(&v, "4294967296", 0, 1440), ERR_TOOBIG);
	ck_assert_int_eq(num(&v, "1441", 0, 1440), ERR_TOOBIG);
	ck_assert_int_eq(num(&v, "-1", 0, 1440), ERR_TOOBIG);
	ck_assert_int_eq(num(&v, "9223372036854775808", LLONG_MIN, LLONG_MAX), ERR_TOOBIG);
	ck_assert_int_eq(num(&v, "-9223372036854775809", LLONG_MIN, LLONG_MAX), ERR_TOOBIG);
	ck_assert_int_eq(num(&v, "99999999999999999999999999", LLONG_MIN, LLONG_MAX), ERR_TOOBIG);
	ck_assert_int_eq(num(&v, "18446744073709551617", LLONG_MIN, LLONG_MAX), ERR_TOOBIG); /* 2^64+1 */
	ck_assert(v == 12345);
}
END_TEST

static int jc(const char *s, char *field, const char **why)
{
	return http_json_check(field, 64, why, s, strlen(s));
}

START_TEST(test_json_check)
{
	char field[64];
	const char *why;
	ck_assert_int_eq(jc("{\"name\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \\\\u0000\"}", field, &why), 0);
	ck_assert_int_eq(jc("{\"a\":[1,2,{\"b\":\"\\\"\"}],\"c\":null}", field, &why), 0);
	ck_assert_int_eq(jc("not json at all", field, &why), 0); /* grammar is the parser's */

	ck_assert_int_eq(jc("{\"name\":\"\xff\xfe\"}", field, &why), ERR_INVALID);
	ck_assert_str_eq(field, "name");
	ck_assert_int_eq(jc("{\"a\":1,\"name\":\"\xc0\xae\"}", field, &why), ERR_INVALID);
	ck_assert_str_eq(field, "name");
	ck_assert_int_eq(jc("{\"name\":\"\xed\xa0\x80\"}", field, &why), ERR_INVALID);
	ck_assert_int_eq(jc("{\"name\":\"a\\u0000b\"}", field, &why), ERR_INVALID);
	ck_assert_str_eq(field, "name");
	ck_assert(strstr(why, "NUL"));
	ck_assert_int_eq(jc("{\"name\":\"\\ud800\"}", field, &why), ERR_INVALID);
	ck_assert(strstr(why, "surrogate"));
	ck_assert_int_eq(jc("{\"name\":\"\\uD800x\"}", field, &why), ERR_INVALID);
	ck_assert_int_eq(jc("{\"name\":\"\\ud800\\u0041\"}", field, &why), ERR_INVALID);
	ck_assert_int_eq(jc("{\"name\":\"\\udc00\"}", field, &why), ERR_INVALID);
	ck_assert_int_eq(jc("{\"name\":\"\\ude00\\ud83d\"}", field, &why), ERR_INVALID); /* reversed */
	/* nested values name their top-level key */
	ck_assert_int_eq(jc("{\"ok\":\"x\",\"excludes\":[\"a\",\"\\u0000\"]}", field, &why), ERR_INVALID);
	ck_assert_str_eq(field, "excludes");
	/* a fault in a key names that key */
	ck_assert_int_eq(jc("{\"a\":1,\"b\\u0000c\":2}", field, &why), ERR_INVALID);
	ck_assert_str_eq(field, "b");
	/* outside any key */
	ck_assert_int_eq(jc("\xff{}", field, &why), ERR_INVALID);
	ck_assert_str_eq(field, "");
	ck_assert_int_eq(jc("{'a':1}", field, &why), ERR_INVALID);
	/* a malformed or truncated escape: nothing after it may go unchecked */
	ck_assert_int_eq(jc("{\"a\":\"\\u12\", \"b\":\"\xff\"}", field, &why), ERR_INVALID);
	ck_assert_str_eq(field, "a");
	ck_assert_int_eq(jc("{\"a\":\"\\", field, &why), ERR_INVALID);
	ck_assert_int_eq(http_json_check(field, sizeof field, &why, "{\"a\":\"\0\"}", 8), ERR_INVALID);
}
END_TEST

static int h(struct request *req, struct response *resp) { (void)req; (void)resp; return 0; }

START_TEST(test_router_utf8)
{
	static const struct route routes[] = { ROUTE("PUT", "/p/{id}/files/{path*}", h, 0) };
	const struct route *r;
	struct kvlist params = { 0 };
	struct err e = { 0 };
	char allow[64];
	ck_assert_int_eq(router_match(&r, &params, allow, sizeof allow, routes, 1, "PUT", "/p/1/files/%c3%a9/x.txt", &A, &e), 0);
	ck_assert_str_eq(kv_get(&params, "path"), "\xc3\xa9/x.txt");
	params.n = 0;
	ck_assert_int_eq(router_match(&r, &params, allow, sizeof allow, routes, 1, "PUT", "/p/1/files/%c0%ae%c0%ae/x.txt",
				      &A, &e), ERR_INVALID);
	ck_assert_str_eq(e.field, "path");
	ck_assert_int_eq(router_match(&r, &params, allow, sizeof allow, routes, 1, "PUT", "/p/%ff/files/x", &A, &e),
			 ERR_INVALID);
	ck_assert_str_eq(e.field, "id");
	ck_assert_int_eq(router_match(&r, &params, allow, sizeof allow, routes, 1, "PUT", "/p/1/files/%ed%a0%80", &A, &e),
			 ERR_INVALID);
}
END_TEST

START_TEST(test_forms_utf8)
{
	struct kvlist l = { 0 };
	struct err e = { 0 };
	const char *f = "a=1&name=%ff%fe";
	ck_assert_int_eq(http_parse_urlencoded(&l, &A, f, strlen(f), 10, &e), ERR_INVALID);
	ck_assert_str_eq(e.field, "name");
	ck_assert(strstr(e.msg, "name"));
	l.n = 0;
	f = "name=%c0%ae";
	ck_assert_int_eq(http_parse_urlencoded(&l, &A, f, strlen(f), 10, &e), ERR_INVALID);
	l.n = 0;
	const char *mp = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n\xed\xa0\x80\r\n--XyZ--";
	ck_assert_int_eq(http_parse_multipart(&l, &A, mp, strlen(mp), "multipart/form-data; boundary=XyZ", 10, &e),
			 ERR_INVALID);
	ck_assert_str_eq(e.field, "title");
	/* a cookie that is not UTF-8 is skipped, as a malformed one is */
	l.n = 0;
	ck_assert_int_eq(http_parse_cookies(&l, &A, "a=\xff\xfe; ghb_session=abc", 10, &e), 0);
	ck_assert_ptr_null(kv_get(&l, "a"));
	ck_assert_str_eq(kv_get(&l, "ghb_session"), "abc");
}
END_TEST

/* web/fields.c: the table's ranges applied to path, query and JSON values. */
START_TEST(test_fields)
{
	struct request req = { .arena = &A };
	struct kv kv = { .name = "id", .value = "42" };
	long long v = -7;
	int present;
	kv_add(&A, &req.params, 10, &kv, NULL);
	ck_assert_int_eq(web_id_param(&v, &req, "id"), 0);
	ck_assert(v == 42);
	static const char *bad_ids[] = { "0", "-1", "1abc", " 1", "+1", "9223372036854775808", "99999999999999999999", "" };
	for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
		req.params.items[0].value = bad_ids[i];
		ck_assert_msg(web_id_param(&v, &req, "id") == ERR_NOTFOUND, "id '%s' accepted", bad_ids[i]);
	}
	struct kv num = { .name = "number", .value = "2147483648" }; /* past GitHub's int */
	kv_add(&A, &req.params, 10, &num, NULL);
	ck_assert_int_eq(web_id_param(&v, &req, "number"), ERR_NOTFOUND);

	struct kv lim = { .name = "limit", .value = "10abc" };
	kv_add(&A, &req.query, 10, &lim, NULL);
	ck_assert_int_eq(web_query_int(&v, &req, "limit", 20), ERR_INVALID);
	ck_assert_str_eq(req.err.field, "limit");
	ck_assert(strstr(req.err.msg, "from 1 to 100"));
	req.query.items[0].value = "4294967297";
	ck_assert_int_eq(web_query_int(&v, &req, "limit", 20), ERR_INVALID);
	req.query.items[0].value = "100";
	ck_assert_int_eq(web_query_int(&v, &req, "limit", 20), 0);
	ck_assert(v == 100);
	ck_assert_int_eq(web_query_int(&v, &req, "offset", 0), 0); /* absent: the default */
	ck_assert(v == 0);
	ck_assert_int_eq(web_query_int(&v, &req, "no_such_row", 0), 0); /* absent, no row needed */

	static const char *bad_json[] = { "4294967301", "-4294967295", "4294967296", "1441", "-1", "5.0", "1e3", "\"5\"",
					  "true", "[]", "99999999999999999999", "-99999999999999999999" };
	for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
		char *t = arena_printf(&A, "{\"batch_minutes\":%s}", bad_json[i]);
		struct json_object *o = json_tokener_parse(t);
		v = 7;
		ck_assert_msg(web_json_int(&v, &present, &req, o, "batch_minutes") == ERR_INVALID, "%s accepted", t);
		ck_assert(v == 7);
		ck_assert_str_eq(req.err.field, "batch_minutes");
		ck_assert(strstr(req.err.msg, "from 0 to 1440"));
		json_object_put(o);
	}
	struct json_object *o = json_tokener_parse("{\"batch_minutes\":1440,\"x\":null}");
	ck_assert_int_eq(web_json_int(&v, &present, &req, o, "batch_minutes"), 0);
	ck_assert(present && v == 1440);
	ck_assert_int_eq(web_json_int(&v, &present, &req, o, "x"), 0); /* null: as if absent */
	ck_assert(!present);
	json_object_put(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("input");
	TCase *tc = tcase_create("input");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_utf8_strict);
	tcase_add_test(tc, test_num_parse);
	tcase_add_test(tc, test_json_check);
	tcase_add_test(tc, test_router_utf8);
	tcase_add_test(tc, test_forms_utf8);
	tcase_add_test(tc, test_fields);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
