# src/service/ops.mk: operators: pause/resume, audit log, retention, their pages and command (included by Makefile.am).
libghbridge_a_SOURCES += \
	src/store/ops.c src/store/ops.h \
	src/service/ops.c src/service/ops.h \
	src/web/page-admin.c src/web/page-metrics.c \
	src/core/metrics.c src/core/metrics.h \
	src/core/keyrate.c src/core/keyrate.h
ghbridge_SOURCES += src/cmd/cmd-sync.c
EXTRA_DIST += tests/ops
