/* test_authorship.c: who a commit from the folder is by (service/authorship.c): the rule's cases, a rename's
 * old path, ties, the owner never named twice, the trailer buffer never cut mid-line; commit address checks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "service/authorship.h"

static struct json_object *files_of(const char *const *paths)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; paths[i]; i++) {
		struct json_object *f = json_object_new_object();
		const char *arrow = strstr(paths[i], "<-");
		if (arrow) { /* "new<-old": a rename */
			json_object_object_add(f, "path", json_object_new_string_len(paths[i], (int)(arrow - paths[i])));
			json_object_object_add(f, "from", json_object_new_string(arrow + 2));
		} else {
			json_object_object_add(f, "path", json_object_new_string(paths[i]));
		}
		json_object_array_add(a, f);
	}
	return a;
}

static struct edit_row row(long long uid, const char *login, const char *path, long long seq, const char *email)
{
	struct edit_row r = { .user_id = uid, .github_id = uid * 100, .seq = seq };
	r.login = (char *)login;
	r.path = (char *)path;
	r.commit_email = (char *)email;
	return r;
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

START_TEST(test_nobody)
{
	struct commit_who w;
	struct edit_row r[] = { row(2, "ann", "other.txt", 1, NULL) };
	struct json_object *f = files_of((const char *[]){ "a.txt", NULL });
	authorship_pick(&w, r, 1, f, "owner", 7);
	ck_assert_str_eq(w.name, "owner");
	ck_assert_str_eq(w.email, "7+owner@users.noreply.github.com");
	ck_assert_str_eq(w.trailers, "");
	ck_assert_int_eq(w.user_id, 0);
	authorship_pick(&w, NULL, 0, f, "owner", 0);
	ck_assert_str_eq(w.email, "owner@users.noreply.github.com");
	json_object_put(f);
}
END_TEST

START_TEST(test_one_and_many)
{
	struct commit_who w;
	struct edit_row r[] = { row(2, "ann", "a.txt", 1, NULL), row(3, "bob", "b.txt", 2, "bob@example.com"),
				row(3, "bob", "c.txt", 3, "bob@example.com"), row(4, "cy", "gone.txt", 4, NULL) };
	struct json_object *one = files_of((const char *[]){ "a.txt", NULL });
	authorship_pick(&w, r, 4, one, "owner", 7);
	ck_assert_str_eq(w.name, "ann");
	ck_assert_str_eq(w.email, "200+ann@users.noreply.github.com");
	ck_assert_str_eq(w.trailers, "");
	ck_assert_int_eq(w.user_id, 2);
	struct json_object *all = files_of((const char *[]){ "a.txt", "b.txt", "c.txt", NULL });
	authorship_pick(&w, r, 4, all, "owner", 7);
	ck_assert_str_eq(w.name, "bob");
	ck_assert_str_eq(w.email, "bob@example.com");
	ck_assert_str_eq(w.trailers, "Co-authored-by: ann <200+ann@users.noreply.github.com>\n");
	ck_assert_int_eq(w.editors, 2);
	/* a path with no known editor: the project's account as co-author */
	struct json_object *mixed = files_of((const char *[]){ "a.txt", "host.txt", NULL });
	authorship_pick(&w, r, 4, mixed, "owner", 7);
	ck_assert_str_eq(w.name, "ann");
	ck_assert_str_eq(w.trailers, "Co-authored-by: owner <7+owner@users.noreply.github.com>\n");
	json_object_put(one);
	json_object_put(all);
	json_object_put(mixed);
}
END_TEST

START_TEST(test_tie_rename_owner)
{
	struct commit_who w;
	/* a tie goes to who edited first */
	struct edit_row r[] = { row(3, "bob", "b.txt", 5, NULL), row(2, "ann", "a.txt", 9, NULL) };
	struct json_object *f = files_of((const char *[]){ "a.txt", "b.txt", NULL });
	authorship_pick(&w, r, 2, f, "owner", 7);
	ck_assert_str_eq(w.name, "bob");
	json_object_put(f);
	/* a rename credits whoever changed the old or the new path */
	struct edit_row d[] = { row(2, "ann", "old.txt", 1, NULL) };
	f = files_of((const char *[]){ "new.txt<-old.txt", NULL });
	authorship_pick(&w, d, 1, f, "owner", 7);
	ck_assert_str_eq(w.name, "ann");
	ck_assert_str_eq(w.trailers, "");
	json_object_put(f);
	/* the owner edited too: named once, as who they are, never again as the project's account */
	struct edit_row o[] = { row(2, "ann", "a.txt", 1, NULL), row(2, "ann", "b.txt", 2, NULL),
				{ .user_id = 1, .github_id = 7, .seq = 3, .login = "owner", .path = "c.txt" } };
	f = files_of((const char *[]){ "a.txt", "b.txt", "c.txt", "host.txt", NULL });
	authorship_pick(&w, o, 3, f, "owner", 7);
	ck_assert_str_eq(w.name, "ann");
	ck_assert_str_eq(w.trailers, "Co-authored-by: owner <7+owner@users.noreply.github.com>\n");
	json_object_put(f);
	/* a login or address git would refuse (from a bad row) never fails the commit */
	struct edit_row b[] = { row(5, "evil>\nCo-authored-by: x", "a.txt", 1, "e<v>il@example.com\n") };
	f = files_of((const char *[]){ "a.txt", NULL });
	authorship_pick(&w, b, 1, f, "owner", 7);
	ck_assert_str_eq(w.name, "evil--Co-authored-by: x");
	ck_assert_str_eq(w.email, "e-v-il@example.com-");
	json_object_put(f);
}
END_TEST

START_TEST(test_many_coauthors)
{
	enum { N = 200 };
	static struct edit_row r[N];
	static char logins[N][40], paths[N][16];
	const char *names[N + 1];
	for (int i = 0; i < N; i++) {
		snprintf(logins[i], sizeof logins[i], "member-with-a-long-login-%03d", i);
		snprintf(paths[i], sizeof paths[i], "f%03d.txt", i);
		r[i] = row(i + 10, logins[i], paths[i], i + 1, NULL);
		names[i] = paths[i];
	}
	names[N] = NULL;
	struct json_object *f = files_of(names);
	struct commit_who w;
	authorship_pick(&w, r, N, f, "owner", 7);
	ck_assert_str_eq(w.name, "member-with-a-long-login-000");
	ck_assert_int_gt(lines(w.trailers), 10);
	ck_assert_int_lt(lines(w.trailers), N);
	ck_assert_int_eq(w.editors, lines(w.trailers) + 1);
	size_t n = strlen(w.trailers);
	ck_assert(n > 0 && w.trailers[n - 1] == '\n'); /* never half a line */
	json_object_put(f);
}
END_TEST

START_TEST(test_email_check)
{
	static const char *good[] = { "a@example.com", "first.last+tag@mail.example.co.uk", "x_y-z@a-b.io",
				      "12+octocat@users.noreply.github.com", "o'neil@example.com" };
	static const char *bad[] = { "", "plain", "a@b", "@example.com", "a@@example.com", "a@b@example.com",
				     ".a@example.com", "a.@example.com", "a..b@example.com", "a b@example.com",
				     "<a>@example.com", "a@-example.com", "a@example-.com", "a@example..com", "a@example.com.",
				     "a@exa_mple.com", "\"q\"@example.com", "a@example.com\n" };
	struct err e = { 0 };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(authorship_email_check(good[i], &e) == 0, "refused %s: %s", good[i], e.msg);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&e);
		ck_assert_msg(authorship_email_check(bad[i], &e) == ERR_INVALID, "accepted '%s'", bad[i]);
		ck_assert_str_eq(e.field, "commit_email");
	}
	char local[70], longest[300];
	memset(local, 'x', 65);
	local[65] = '\0';
	snprintf(longest, sizeof longest, "%s@example.com", local);
	ck_assert_int_eq(authorship_email_check(longest, &e), ERR_INVALID); /* 65 before the '@' */
	memset(longest, 'a', 250);
	strcpy(longest + 60, "@");
	memset(longest + 61, 'b', 200);
	longest[255] = '\0';
	ck_assert_int_eq(authorship_email_check(longest, &e), ERR_INVALID); /* over 254 */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("authorship");
	TCase *tc = tcase_create("authorship");
	tcase_add_test(tc, test_nobody);
	tcase_add_test(tc, test_one_and_many);
	tcase_add_test(tc, test_tie_rename_owner);
	tcase_add_test(tc, test_many_coauthors);
	tcase_add_test(tc, test_email_check);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
