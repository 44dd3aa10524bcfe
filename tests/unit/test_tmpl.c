/* test_tmpl.c: template syntax, escaping in text and attributes, sections, partials, errors. */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "view/tmpl.h"

static char *render(const char *src, const char *json)
{
	struct tmpl_set *set = NULL;
	struct err e = { 0 };
	ck_assert_msg(tmpl_set_add_string(&set, "t", src, &e) == 0, "%s", e.msg);
	struct json_object *ctx = json_tokener_parse(json);
	struct buf out = BUF_INIT;
	ck_assert_msg(tmpl_render(&out, set, "t", ctx, &e) == 0, "%s", e.msg);
	json_object_put(ctx);
	tmpl_set_free(set);
	return buf_steal(&out);
}

#define CHECK_RENDER(src, json, want) do { char *got = render(src, json); ck_assert_str_eq(got, want); free(got); } while (0)

START_TEST(test_escape)
{
	CHECK_RENDER("<p>{{x}}</p>", "{\"x\":\"<script>alert('x')</script>\"}",
		     "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>");
	CHECK_RENDER("<a title=\"{{x}}\">", "{\"x\":\"\\\" onmouseover=\\\"evil\"}",
		     "<a title=\"&quot; onmouseover=&quot;evil\">");
	CHECK_RENDER("{{x}}", "{\"x\":\"a & b\"}", "a &amp; b");
	CHECK_RENDER("{{{x}}}", "{\"x\":\"<b>\"}", "<b>");
	CHECK_RENDER("{{missing}}|", "{}", "|");
}
END_TEST

START_TEST(test_types)
{
	CHECK_RENDER("{{n}} {{b}} {{d}}", "{\"n\":42,\"b\":true,\"d\":1.5}", "42 true 1.5");
	CHECK_RENDER("{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "deep");
}
END_TEST

START_TEST(test_sections)
{
	CHECK_RENDER("{{#items}}[{{name}}]{{/items}}", "{\"items\":[{\"name\":\"a\"},{\"name\":\"<b>\"}]}",
		     "[a][&lt;b&gt;]");
	CHECK_RENDER("{{#xs}}{{.}},{{/xs}}", "{\"xs\":[1,2,3]}", "1,2,3,");
	CHECK_RENDER("{{#on}}yes{{/on}}{{^on}}no{{/on}}", "{\"on\":false}", "no");
	CHECK_RENDER("{{#on}}yes{{/on}}{{^on}}no{{/on}}", "{\"on\":true}", "yes");
	CHECK_RENDER("{{^xs}}empty{{/xs}}", "{\"xs\":[]}", "empty");
	CHECK_RENDER("{{#u}}{{login}} {{title}}{{/u}}", "{\"title\":\"T\",\"u\":{\"login\":\"me\"}}", "me T");
	CHECK_RENDER("a{{! a comment }}b", "{}", "ab");
}
END_TEST

START_TEST(test_partials)
{
	struct tmpl_set *set = NULL;
	struct err e = { 0 };
	ck_assert_int_eq(tmpl_set_add_string(&set, "p", "<{{x}}>", &e), 0);
	ck_assert_int_eq(tmpl_set_add_string(&set, "main", "{{#list}}{{> p}}{{/list}}", &e), 0);
	struct json_object *ctx = json_tokener_parse("{\"list\":[{\"x\":\"1\"},{\"x\":\"&\"}]}");
	struct buf out = BUF_INIT;
	ck_assert_int_eq(tmpl_render(&out, set, "main", ctx, &e), 0);
	ck_assert_str_eq(out.data, "<1><&amp;>");
	buf_free(&out);
	ck_assert_int_eq(tmpl_render(&out, set, "nope", ctx, &e), ERR_NOTFOUND);
	json_object_put(ctx);
	tmpl_set_free(set);
}
END_TEST

START_TEST(test_errors_name_line)
{
	struct tmpl_set *set = NULL;
	struct err e = { 0 };
	ck_assert_int_eq(tmpl_set_add_string(&set, "bad.html", "line1\nline2 {{#open}}\nx", &e), ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "bad.html:2"));
	ck_assert_int_eq(tmpl_set_add_string(&set, "bad2.html", "\n\n{{#a}}{{/b}}", &e), ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "bad2.html:3"));
	ck_assert_int_eq(tmpl_set_add_string(&set, "bad3.html", "{{unterminated", &e), ERR_INVALID);
	ck_assert_int_eq(tmpl_set_add_string(&set, "bad4.html", "{{bad name!}}", &e), ERR_INVALID);
	ck_assert_int_eq(tmpl_set_add_string(&set, "bad5.html", "{{/x}}", &e), ERR_INVALID);
	tmpl_set_free(set);
}
END_TEST

START_TEST(test_load_dir_missing_partial)
{
	char dir[] = "/tmp/ghb-tmpl-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/a.html", dir);
	FILE *f = fopen(path, "w");
	fputs("ok\n{{> nothere}}\n", f);
	fclose(f);
	struct tmpl_set *set = NULL;
	struct err e = { 0 };
	ck_assert_int_eq(tmpl_set_load(&set, dir, &e), ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "a.html:2"));
	ck_assert_ptr_nonnull(strstr(e.msg, "nothere"));
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tmpl");
	TCase *tc = tcase_create("tmpl");
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_sections);
	tcase_add_test(tc, test_partials);
	tcase_add_test(tc, test_errors_name_line);
	tcase_add_test(tc, test_load_dir_missing_partial);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
