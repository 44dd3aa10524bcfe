# src/web/pulls.mk: branches, pull requests and GitHub webhooks (included by Makefile.am).
libghbridge_a_SOURCES += \
	src/store/pulls.c src/store/pulls.h \
	src/git/branch.c src/git/branch.h \
	src/git/refname.c src/git/refname.h \
	src/service/ghx.c src/service/ghx.h \
	src/service/branches.c src/service/branches.h \
	src/service/pulls.c src/service/pulls.h \
	src/service/webhooks.c src/service/webhooks.h \
	src/web/page-pulls.c src/web/api-pulls.c src/web/webhooks.c
# The test files one by one: the folder as a whole would also ship the unit test's build products.
EXTRA_DIST += tests/pulls/lib-pulls.sh tests/pulls/test-pulls.sh tests/pulls/test-webhooks.sh tests/e2e/pulls.test.mjs

if HAVE_CHECK
check_PROGRAMS += tests/pulls/test_branch
tests_pulls_test_branch_SOURCES = tests/pulls/unit_branch.c
tests_pulls_test_branch_CFLAGS = $(UNIT_CFLAGS)
tests_pulls_test_branch_LDADD = $(UNIT_LDADD)
endif
