/* unit_branch.c: branch names and suggestions, pull requests from GitHub's JSON, and the workspace's branch commit and restore (libgit2, no network). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "git/branch.h"
#include "git/refname.h"
#include "service/ghx.h"
#include "service/pulls.h"

START_TEST(test_names)
{
	ck_assert(git_branch_name_ok("feature/one"));
	ck_assert(git_branch_name_ok("ghbridge/changes-20240101-120000"));
	const char *bad[] = { "", "bad..name", "has space", "-lead", "x.lock", "a//b", "/a", "a/", "a.", "HEAD",
			      "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a@{b", "a\tb", "a\x7f" "b" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!git_branch_name_ok(bad[i]), "accepted '%s'", bad[i]);
}
END_TEST

/* git itself is the reference: every name here gets the same answer from git check-ref-format --branch
 * (issue 11: libgit2 1.5 accepted DEL, 0x7f). GitHub's extra refusals are checked apart below. */
START_TEST(test_names_as_git)
{
	const char *names[] = { "a", "a/b", "main", "feature/x-1", "a@b", "@b", "a{b", "a}b", "é", "heads/HEAD",
				"a\x7f" "b", "\x7f", "a\x01" "b", "a\x1f", "a\tb", "a b", "a~b", "a^b", "a:b", "a?b", "a*b",
				"a[b", "a\\b", "a..b", "..", "a.", "a/.b", ".a", "a/b.lock", "a.lock/b", "a.lock", "a.lockx",
				"a//b", "/a", "a/", "a@{b", "@{", "HEAD", "-a", "a-", "a/-b", "x/HEAD", "a.b/c", "a/b./c",
				"a/.", "a/..", "\x7f" "a", "ab\x7f" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(fd, 2);
			execlp("git", "git", "check-ref-format", "--branch", names[i], (char *)NULL);
			_exit(127);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 127);
		int git_ok = WEXITSTATUS(st) == 0;
		const char *why = git_branch_name_problem(names[i]);
		ck_assert_msg(git_ok == (why == NULL), "name #%zu (0x%02x…): git says %s, ghbridge says %s", i,
			      (unsigned char)names[i][0], git_ok ? "valid" : "invalid", why ? why : "valid");
	}
	/* Full ref names: git check-ref-format's ten rules. */
	ck_assert_ptr_null(git_refname_problem("refs/heads/main"));
	ck_assert_ptr_nonnull(git_refname_problem("main"));
	ck_assert_ptr_nonnull(git_refname_problem("refs/heads/a\x7f" "b"));
	ck_assert_ptr_nonnull(git_refname_problem("@"));
	ck_assert_str_eq(git_branch_name_problem("a\x7f" "b"), "cannot contain control characters (bytes below 0x20, or DEL)");
	ck_assert_str_eq(git_branch_name_problem("a..b"), "cannot contain '..'");
	/* GitHub's own refusals, on top of git's. */
	ck_assert_ptr_nonnull(git_branch_name_problem("refs/heads/x"));
	ck_assert_ptr_nonnull(git_branch_name_problem("0123456789abcdef0123456789abcdef01234567"));
	ck_assert_ptr_null(git_branch_name_problem("0123456789abcdef0123456789abcdef0123456"));
	ck_assert_ptr_nonnull(git_branch_name_problem("a\xff" "b"));
	ck_assert_ptr_nonnull(git_branch_name_problem("a\xc0\xaf"));
}
END_TEST

static const char *suggest(const char *name)
{
	static char s[256];
	struct err e = { 0 };
	branches_name_check(s, sizeof s, name, &e);
	return s;
}

START_TEST(test_suggestions)
{
	struct err e = { 0 };
	char s[256];
	ck_assert_int_eq(branches_name_check(s, sizeof s, "feature/ok", &e), 0);
	ck_assert_str_eq(s, "feature/ok");
	ck_assert_int_eq(branches_name_check(s, sizeof s, "bad..name", &e), ERR_INVALID);
	ck_assert(strstr(e.msg, "not a valid git branch name") != NULL);
	ck_assert_str_eq(s, "bad.name");
	ck_assert_str_eq(suggest("my new~branch"), "my-new-branch");
	ck_assert_str_eq(suggest("/.hidden//x.lock."), "hidden/x");
	ck_assert_str_eq(suggest("-dash-"), "dash");
	ck_assert_str_eq(suggest("fix: the bug?"), "fix-the-bug");
	/* Nothing usable left: the generated name. */
	ck_assert(strncmp(suggest("~~~"), "ghbridge/changes-", 17) == 0);
	ck_assert(strncmp(suggest(""), "ghbridge/changes-", 17) == 0);
	for (const char *n = "ab ..~^:?*[\\ cd"; *n; n++)
		ck_assert_msg(git_branch_name_ok(suggest(n)), "suggestion for '%s' invalid", n);
	char longname[400];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	ck_assert_int_eq(branches_name_check(s, sizeof s, longname, &e), ERR_INVALID);
}
END_TEST

START_TEST(test_url_encode)
{
	char out[64];
	ghx_url_encode(out, sizeof out, "a b/c#d&e", 1);
	ck_assert_str_eq(out, "a%20b/c%23d%26e");
	ghx_url_encode(out, sizeof out, "a/b", 0);
	ck_assert_str_eq(out, "a%2Fb");
}
END_TEST

START_TEST(test_from_json)
{
	struct json_object *o = json_tokener_parse(
		"{\"number\":7,\"id\":99,\"node_id\":\"PR_x\",\"state\":\"closed\",\"title\":\"T\",\"body\":null,"
		"\"merged_at\":\"2024-05-01T10:20:30Z\",\"mergeable\":null,\"html_url\":\"javascript:alert(1)\","
		"\"head\":{\"ref\":\"feature/x\",\"sha\":\"abc\"},\"base\":{\"ref\":\"main\"},\"user\":{\"login\":\"octocat\"},"
		"\"merged_by\":{\"login\":\"hubot\"},\"merge_commit_sha\":\"def\",\"draft\":true,\"additions\":3}");
	struct pull p;
	ck_assert_int_eq(pulls_from_json(&p, o, 5), 0);
	ck_assert_int_eq(p.number, 7);
	ck_assert_str_eq(p.state, "merged");
	ck_assert_str_eq(p.body, "");
	ck_assert_int_eq(p.mergeable, -1);
	ck_assert_ptr_null(p.html_url); /* only http(s) links reach the panel */
	ck_assert_str_eq(p.head_ref, "feature/x");
	ck_assert_str_eq(p.merged_by, "hubot");
	ck_assert_str_eq(p.gh_updated_at ? p.gh_updated_at : "(null)", "(null)");
	ck_assert_int_eq(p.draft, 1);
	ck_assert_int_eq(p.additions, 3);
	store_pull_free(&p);
	json_object_put(o);
	o = json_tokener_parse("{\"number\":1,\"state\":\"open\",\"head\":{}}");
	ck_assert_int_eq(pulls_from_json(&p, o, 5), ERR_INVALID);
	json_object_put(o);
}
END_TEST

/* ---------------------------------------------------------------- workspace */

static char dir[64];

static void put(const char *name, const char *content)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
}

static const char *get(const char *name)
{
	static char buf[256];
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return "(missing)";
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *msg(void *arg, const struct ws_commit *c, struct ws_author *who)
{
	(void)arg;
	(void)c;
	(void)who;
	return strdup("base\n");
}

static int pending(void)
{
	struct ws_file *f;
	int n, count = 0;
	struct err e = { 0 };
	ck_assert_int_eq(git_workspace_files(&f, &n, dir, "", &e), 0);
	for (int i = 0; i < n; i++)
		count += strcmp(f[i].status, "synced") != 0;
	git_workspace_files_free(f, n);
	return count;
}

START_TEST(test_commit_restore)
{
	struct err e = { 0 };
	snprintf(dir, sizeof dir, "/tmp/ghb-branch-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(git_workspace_init(dir, &e), 0);
	put("a.txt", "one\n");
	struct ws_commit base;
	ck_assert_int_eq(git_workspace_commit(&base, dir, "main", "", msg, NULL, "t", "t@example.com", &e), 0);
	json_object_put(base.files);
	ck_assert_int_eq(pending(), 0);

	/* Pending changes go to a new branch cut from main; main stays where it was. */
	put("a.txt", "two\n");
	put("b.txt", "new\n");
	struct ws_commit c;
	int reused = 1;
	ck_assert_int_eq(git_workspace_commit_branch(&c, &reused, dir, "main", "feat", "", "Proposed\n", "t",
						     "t@example.com", &e), 0);
	ck_assert_int_eq(reused, 0);
	ck_assert_int_eq(c.files_changed, 2);
	char tip[41];
	ck_assert_int_eq(git_workspace_head(tip, dir, "main", &e), 0);
	ck_assert_str_eq(tip, base.sha);
	ck_assert_int_eq(git_workspace_head(tip, dir, "feat", &e), 0);
	ck_assert_str_eq(tip, c.sha);
	struct ws_commit again;
	ck_assert_int_eq(git_workspace_commit_branch(&again, &reused, dir, "main", "feat", "", "x", "t", "t@x", &e), 0);
	ck_assert_int_eq(reused, 1);
	ck_assert_str_eq(again.sha, c.sha);
	int has = 0;
	ck_assert_int_eq(git_workspace_contains(&has, dir, "main", base.sha, &e), 0);
	ck_assert_int_eq(has, 1);
	ck_assert_int_eq(git_workspace_contains(&has, dir, "main", c.sha, &e), 0);
	ck_assert_int_eq(has, 0);
	ck_assert_int_eq(git_workspace_contains(&has, dir, "feat", base.sha, &e), 0);
	ck_assert_int_eq(has, 1);

	/* The workspace goes back to main: the changes live on the branch now. */
	ck_assert_int_eq(git_workspace_restore(dir, c.sha, "main", "", &e), 0);
	ck_assert_str_eq(get("a.txt"), "one\n");
	ck_assert_str_eq(get("b.txt"), "(missing)");
	ck_assert_int_eq(pending(), 0);

	/* Nothing pending: nothing to propose. */
	ck_assert_int_eq(git_workspace_commit_branch(&c, &reused, dir, "main", "feat3", "", "x", "t", "t@x", &e),
			 ERR_INVALID);

	/* A file changed after the branch commit is never overwritten: the restore does nothing. */
	put("a.txt", "three\n");
	ck_assert_int_eq(git_workspace_commit_branch(&c, &reused, dir, "main", "feat2", "", "x", "t", "t@x", &e), 0);
	put("a.txt", "four\n");
	ck_assert_int_eq(git_workspace_restore(dir, c.sha, "main", "", &e), ERR_CONFLICT);
	ck_assert_str_eq(get("a.txt"), "four\n");

	/* An unknown base: the project was never synced. */
	ck_assert_int_eq(git_workspace_commit_branch(&c, &reused, dir, "nope", "feat4", "", "x", "t", "t@x", &e),
			 ERR_NOTFOUND);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pulls");
	TCase *tc = tcase_create("branch");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_names_as_git);
	tcase_add_test(tc, test_suggestions);
	tcase_add_test(tc, test_url_encode);
	tcase_add_test(tc, test_from_json);
	tcase_add_test(tc, test_commit_restore);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
