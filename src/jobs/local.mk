# src/jobs/local.mk: the job queue, the worker and their tests (included by Makefile.am).
libghbridge_a_SOURCES += \
	src/store/jobs.c src/store/jobs.h \
	src/jobs/jobs.c src/jobs/jobs.h src/jobs/kinds.c \
	src/jobs/worker.c src/jobs/worker.h \
	src/web/page-jobs.c
ghbridge_SOURCES += src/cmd/cmd-worker.c src/cmd/cmd-jobs.c
# The worker's lease thread.
ghbridge_LDADD += -lpthread
EXTRA_DIST += tests/jobs

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_jobs
tests_unit_test_jobs_SOURCES = tests/unit/test_jobs.c
tests_unit_test_jobs_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_jobs_LDADD = $(UNIT_LDADD) -lpthread
TESTS += tests/unit/test_jobs
endif
