/* server.h: the pre-forked FastCGI responder pool. */
#ifndef GHB_SERVER_H
#define GHB_SERVER_H

#include "core/err.h"
#include "http/http.h"

struct server_hooks {
	int (*child_init)(struct err *e);   /* per process: connect, load templates */
	void (*child_reload)(void);         /* SIGHUP: reload templates */
	void (*handle)(struct request *req, struct response *resp);
	void (*child_exit)(void);
};

struct server_opts {
	const char *listen;      /* unix:/path or host:port */
	int processes;
	int socket_mode;         /* for unix sockets */
	int drain_seconds;       /* SIGTERM: wait this long for children to finish */
};

/* Runs the pool until SIGTERM/SIGINT; returns 0 after a clean drain. */
int server_run(const struct server_opts *opts, const struct server_hooks *hooks, struct err *e);
/* The Content-Security-Policy sent with every response. */
void http_set_csp(const char *policy);
/* Reads the request body (at most max bytes; ERR_TOOBIG past it) into req->body. */
int http_read_body(struct request *req, size_t max, struct err *e);

#endif
