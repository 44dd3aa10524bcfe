/* prefork.h: a parent that keeps N forked children alive, forwards signals and drains them on SIGTERM. */
#ifndef GHB_PREFORK_H
#define GHB_PREFORK_H

#include "core/err.h"

struct prefork {
	int processes;
	const char *what;           /* "responder", "worker": for log lines */
	int forward_hup;            /* SIGHUP to the parent goes to every child (else it is ignored) */
	double kill_after;          /* seconds after SIGTERM before stragglers get SIGKILL */
	int (*child)(void *arg);    /* runs in each child with default signal handlers; returns the exit status */
	void *arg;
};

/* Forks the children, restarts any that dies (at most one restart a second per
 * slot, so a child that cannot start does not fork in a hot loop), and on
 * SIGTERM/SIGINT sends SIGTERM to all and waits for them. Returns 0, or
 * ERR_FAIL when a child ended abnormally while stopping. */
int prefork_run(const struct prefork *pf, struct err *e);

#endif
