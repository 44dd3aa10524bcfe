/* server.c: pre-forked libfcgi responders. The parent only forks, restarts and
 * signals; each child runs a plain accept loop with its own database connection. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcgiapp.h>
#include <sodium.h>
#include "core/log.h"
#include "core/prefork.h"
#include "http/server.h"

static volatile sig_atomic_t stop_flag, hup_flag;
static char csp[1024] = "default-src 'self'; frame-ancestors 'none'; base-uri 'self'";

void http_set_csp(const char *policy)
{
	snprintf(csp, sizeof csp, "%s", policy);
}

static void on_stop(int sig) { (void)sig; stop_flag = 1; }
static void on_hup(int sig) { (void)sig; hup_flag = 1; }

static void set_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: accept() must return EINTR so we notice */
	sigaction(sig, &sa, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int http_read_body(struct request *req, size_t max, struct err *e)
{
	if (req->body || req->content_length == 0)
		return 0;
	if (req->content_length > max)
		return err_set(e, ERR_TOOBIG, "request body is larger than %zu bytes", max);
	FCGX_Stream *in = (FCGX_Stream *)req->body_io;
	if (!in)
		return 0;
	char *body = arena_alloc(req->arena, req->content_length + 1);
	size_t got = 0;
	while (got < req->content_length) {
		int n = FCGX_GetStr(body + got, (int)(req->content_length - got), in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != req->content_length)
		return err_set(e, ERR_INVALID, "request body ended early (%zu of %zu bytes)", got, req->content_length);
	body[got] = '\0';
	req->body = body;
	req->body_len = got;
	return 0;
}

static void write_response(FCGX_Stream *out, struct request *req, struct response *resp)
{
	char head[2048];
	int n = snprintf(head, sizeof head,
			 "Status: %d %s\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n"
			 "Content-Security-Policy: %s\r\n"
			 "X-Content-Type-Options: nosniff\r\n"
			 "X-Frame-Options: DENY\r\n"
			 "Referrer-Policy: same-origin\r\n"
			 "X-Request-Id: %s\r\n",
			 resp->status, http_status_text(resp->status),
			 resp->content_type ? resp->content_type : "text/html; charset=utf-8",
			 resp->body.len, csp, req->request_id);
	FCGX_PutStr(head, n, out);
	if (resp->headers.len)
		FCGX_PutStr(resp->headers.data, (int)resp->headers.len, out);
	FCGX_PutStr("\r\n", 2, out);
	if (!req->head_only && resp->body.len)
		FCGX_PutStr(resp->body.data, (int)resp->body.len, out);
}

static void make_request_id(char *out, size_t len, const char *from_nginx)
{
	/* nginx's $request_id is 32 hex digits; its first 16 join our log to nginx's
	 * and spare a getrandom() per request. */
	if (from_nginx && strlen(from_nginx) >= 16 && strspn(from_nginx, "0123456789abcdef") >= 16) {
		snprintf(out, len, "%.16s", from_nginx);
		return;
	}
	unsigned char rnd[8];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(out, len, rnd, sizeof rnd);
}

/* libfcgi closes a connection with a linger: shutdown(SHUT_WR), then up to 2 s of
 * poll() and read() until nginx closes first, so that a TCP peer never gets an RST
 * that could discard the response. A unix socket sends no RST: what was written
 * before close() stays readable. So once the request's stdin has been read to its
 * end (nginx then has nothing more to send), a unix-socket connection is closed
 * detached, without the linger: one sleep and wake-up fewer per request, and the
 * responder takes the next request at once. A body left unread (a refused upload)
 * keeps the linger, so nginx can finish writing it and still read the answer. */
static void finish_request(FCGX_Request *fr, int unix_sock)
{
	enum { DRAIN_MAX = 64 * 1024 };
	if (unix_sock) {
		char trash[4096];
		size_t drained = 0;
		int n;
		while (drained <= DRAIN_MAX && (n = FCGX_GetStr(trash, sizeof trash, fr->in)) > 0)
			drained += (size_t)n;
		if (drained <= DRAIN_MAX && FCGX_HasSeenEOF(fr->in) == EOF)
			FCGX_Detach(fr);
	}
	FCGX_Finish_r(fr);
}

static void serve_one(FCGX_Request *fr, struct arena *arena, const struct server_hooks *hooks, int unix_sock)
{
	double t0 = now_s();
	struct request req;
	struct response resp;
	memset(&req, 0, sizeof req);
	memset(&resp, 0, sizeof resp);
	req.arena = arena;
	req.env = fr->envp;
	req.body_io = fr->in;
	make_request_id(req.request_id, sizeof req.request_id, req_env(&req, "REQUEST_ID"));
	log_set_request_id(req.request_id);

	const char *method = req_env(&req, "REQUEST_METHOD");
	const char *uri = req_env(&req, "REQUEST_URI");
	if (!method)
		method = "GET";
	if (!uri)
		uri = "/";
	const char *q = strchr(uri, '?');
	req.raw_path = q ? arena_strndup(arena, uri, (size_t)(q - uri)) : uri;
	req.query_string = req_env(&req, "QUERY_STRING");
	req.head_only = strcmp(method, "HEAD") == 0;
	req.method = req.head_only ? "GET" : method;
	req.content_type = req_env(&req, "CONTENT_TYPE");
	req.remote_addr = req_env(&req, "REMOTE_ADDR");
	const char *https = req_env(&req, "HTTPS");
	req.scheme = https && *https && strcmp(https, "off") != 0 ? "https" : "http";
	const char *cl = req_env(&req, "CONTENT_LENGTH");
	long long clv = 0;
	/* nginx passes only a valid length; anything else reads as too large (413), never as a wrapped one */
	if (cl && *cl && http_num_parse(&clv, cl, 0, LLONG_MAX))
		clv = LLONG_MAX;
	req.content_length = (size_t)clv;

	hooks->handle(&req, &resp);
	write_response(fr->out, &req, &resp);
	/* FCGX_Finish_r frees the FastCGI params that method and raw_path point into. */
	method = arena_strdup(arena, method);
	const char *path = arena_strdup(arena, req.raw_path);
	finish_request(fr, unix_sock);

	/* Logged once nginx has the whole response, so the write(2) is not in its wait. */
	char status[8], bytes[24], dur[24];
	snprintf(status, sizeof status, "%d", resp.status);
	snprintf(bytes, sizeof bytes, "%zu", resp.body.len);
	snprintf(dur, sizeof dur, "%.2f", (now_s() - t0) * 1000.0);
	/* The path only: query strings may carry OAuth codes and states. */
	log_kv(resp.status >= 500 ? LOG_ERROR : LOG_INFO, "request", "method", method, "path", path,
	       "status", status, "bytes", bytes, "ms", dur, NULL);
	log_set_request_id("");
	buf_free(&resp.headers);
	buf_free(&resp.body);
}

struct child_arg {
	int sock;
	int unix_sock;
	const struct server_hooks *hooks;
};

static int child_main(void *argp)
{
	const struct child_arg *ca = argp;
	int sock = ca->sock;
	const struct server_hooks *hooks = ca->hooks;
	set_signal(SIGTERM, on_stop);
	set_signal(SIGINT, on_stop);
	set_signal(SIGHUP, on_hup);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	struct err e = { 0 };
	if (hooks->child_init && hooks->child_init(&e) != 0) {
		log_msg(LOG_ERROR, "responder failed to start: %s", e.msg);
		return 3;
	}
	FCGX_Request fr;
	FCGX_InitRequest(&fr, sock, FCGI_FAIL_ACCEPT_ON_INTR);
	struct arena arena = ARENA_INIT;
	while (!stop_flag) {
		if (hup_flag) {
			hup_flag = 0;
			if (hooks->child_reload)
				hooks->child_reload();
		}
		if (FCGX_Accept_r(&fr) < 0) {
			if (stop_flag)
				break;
			continue;
		}
		serve_one(&fr, &arena, hooks, ca->unix_sock);
		arena_reset(&arena);
	}
	arena_free(&arena);
	FCGX_Free(&fr, 1);
	if (hooks->child_exit)
		hooks->child_exit();
	return 0;
}

int server_run(const struct server_opts *opts, const struct server_hooks *hooks, struct err *e)
{
	if (FCGX_Init() != 0)
		return err_set(e, ERR_FAIL, "FCGX_Init failed");
	const char *path = opts->listen;
	int is_unix = strncmp(path, "unix:", 5) == 0;
	if (is_unix) {
		path += 5;
		unlink(path); /* a stale socket from a crashed run */
	}
	int sock = FCGX_OpenSocket(path, 1024);
	if (sock < 0)
		return err_set(e, ERR_FAIL, "cannot listen on %s: %s", opts->listen, strerror(errno));
	if (is_unix)
		chmod(path, (mode_t)opts->socket_mode);

	char nbuf[12];
	snprintf(nbuf, sizeof nbuf, "%d", opts->processes > 0 ? opts->processes : 1);
	log_kv(LOG_INFO, "listening", "socket", opts->listen, "processes", nbuf, NULL);
	struct child_arg ca = { sock, is_unix, hooks };
	struct prefork pf = {
		.processes = opts->processes,
		.what = "responder",
		.forward_hup = 1,
		.kill_after = opts->drain_seconds > 0 ? opts->drain_seconds : 10,
		.child = child_main,
		.arg = &ca,
	};
	prefork_run(&pf, NULL);
	if (is_unix)
		unlink(path);
	log_msg(LOG_INFO, "stopped");
	return 0;
}
