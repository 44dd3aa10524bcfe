# src/service/local.mk: projects, files, repositories and the sync engine (included by Makefile.am).
libghbridge_a_SOURCES += \
	src/core/fsafe.c src/core/fsafe.h \
	src/store/projects.c src/store/projects.h \
	src/git/workspace.c src/git/workspace.h \
	src/git/rewrite.c src/git/rewrite.h \
	src/service/projects.c src/service/projects.h \
	src/service/authorship.c src/service/authorship.h \
	src/store/edits.c src/store/edits.h \
	src/service/sync.c src/service/sync.h \
	src/service/follow.c src/service/follow.h \
	src/service/poll.c src/service/poll.h \
	src/service/ghrepos.c src/service/ghrepos.h \
	src/store/ghrepos.c src/store/ghrepos.h \
	src/service/connect.c src/service/connect.h \
	src/git/netstream.c src/git/netstream.h \
	src/git/lfs.c src/git/lfs.h
libghbridge_a_SOURCES += src/web/api-projects.c
libghbridge_a_SOURCES += src/web/page-projects.c
EXTRA_DIST += tests/sync tests/e2e/sync.test.mjs

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_fsafe
tests_unit_test_fsafe_SOURCES = tests/unit/test_fsafe.c
tests_unit_test_fsafe_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fsafe_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_fsafe
check_PROGRAMS += tests/unit/test_lfs
tests_unit_test_lfs_SOURCES = tests/unit/test_lfs.c
tests_unit_test_lfs_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_lfs_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_lfs
endif
EXTRA_DIST += tests/security tests/unit/test_fsafe.c tests/unit/test_lfs.c

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_authorship
tests_unit_test_authorship_SOURCES = tests/unit/test_authorship.c
tests_unit_test_authorship_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_authorship_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_authorship
endif
EXTRA_DIST += tests/unit/test_authorship.c
