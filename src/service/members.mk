# src/service/members.mk: project members and roles, their GitHub collaborator jobs, the Members pages (issue 14).
libghbridge_a_SOURCES += \
	src/store/members.c src/store/members.h \
	src/service/members.c src/service/members.h \
	src/web/page-members.c
EXTRA_DIST += tests/members
