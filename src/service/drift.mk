# src/service/drift.mk: the periodic drift check of members against GitHub's collaborators, "members are
# authoritative", "Remove from GitHub" and the collaborator call log (issue 14).
libghbridge_a_SOURCES += \
	src/store/drift.c src/store/drift.h \
	src/service/drift.c src/service/drift.h \
	src/web/page-drift.c
