# src/service/local.mk: projects, files, repositories and the sync engine (included by Makefile.am).
