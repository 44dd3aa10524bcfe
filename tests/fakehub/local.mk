# tests/fakehub/local.mk: the fakehub GitHub emulator (one binary: serve + admin verbs), its schema and tests.
noinst_PROGRAMS = tests/fakehub/fakehub
tests_fakehub_fakehub_SOURCES = tests/fakehub/fakehub.h tests/fakehub/main.c tests/fakehub/util.c \
	tests/fakehub/serve.c tests/fakehub/oauth.c tests/fakehub/api.c tests/fakehub/gitops.c \
	tests/fakehub/pulls.c tests/fakehub/hooks.c tests/fakehub/admin.c tests/fakehub/protect.c \
	tests/fakehub/redirects.c tests/fakehub/lfs.c tests/fakehub/invites.c tests/fakehub/orgs.c
tests_fakehub_fakehub_CPPFLAGS = $(AM_CPPFLAGS) -DFAKEHUB_SQL_DIR='"$(abs_top_srcdir)/tests/fakehub/sql"'
tests_fakehub_fakehub_LDADD = libghbridge.a $(DEPS_LIBS)
EXTRA_DIST += tests/fakehub/README.md tests/fakehub/sql tests/fakehub/dev.sh tests/fakehub/lib-fakehub.sh tests/fakehub/test-api.sh \
	tests/fakehub/test-oauth.sh tests/fakehub/test-git.sh tests/fakehub/test-faults.sh tests/fakehub/test-collab.sh \
	tests/fakehub/test-graphql.sh tests/fakehub/test-protection.sh tests/fakehub/test-fidelity.sh
