/* netstream.c: libgit2's plain socket stream again, with timeouts (libgit2 1.5 waits forever on a silent server) and coalesced writes. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include "git/netstream.h"

/* libgit2's documented *_INIT macros set only the version fields. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static int timeout_ms = 120 * 1000;

/* libgit2 1.5 streams a push's pack as one HTTP chunk per object part: a chunk-size line, a 2-byte
 * object header, a CRLF, the data, a CRLF, each its own write (six per object). Sent as they come,
 * that is one small segment each, and with Nagle's algorithm the tail of the request can wait for
 * the server's delayed ACK. Writes are collected here and sent in blocks of WBUF_SIZE, and whatever
 * is pending goes out before the stream reads (libgit2 always reads the answer to what it wrote);
 * with only full blocks and that last flush on the wire, TCP_NODELAY costs nothing. */
#define WBUF_SIZE 65536

struct tstream {
	git_stream parent;
	char *host, *port;
	int fd;
	char *wbuf;
	size_t wlen;
	int werr;                  /* a flush failed: the error is set, later calls fail too */
};

static void net_error(const char *what, const struct tstream *s)
{
	char m[320];
	snprintf(m, sizeof m, "%s %s:%s", what, s->host, s->port);
	git_error_set_str(GIT_ERROR_NET, m);
}

/* Waits until fd is ready for events; 0 ready, 1 timed out, -1 error (errno). */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0)
			return 1;
		if (errno != EINTR)
			return -1;
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		int spent = (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (spent >= ms)
			return 1;
		ms -= spent;
		t0 = t1;
	}
}

/* Non-blocking connect bounded by the timeout; the socket stays non-blocking and read/write poll. */
static int connect_one(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	int w = wait_fd(fd, POLLOUT, timeout_ms), soerr = 0;
	socklen_t len = sizeof soerr;
	if (w != 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
		close(fd);
		errno = w == 1 ? ETIMEDOUT : soerr ? soerr : errno;
		return -1;
	}
	return fd;
}

static int ts_connect(git_stream *stream)
{
	struct tstream *s = (struct tstream *)stream;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int grc = getaddrinfo(s->host, s->port, &hints, &res);
	if (grc != 0) {
		char m[320];
		snprintf(m, sizeof m, "failed to resolve address for %s: %s", s->host, gai_strerror(grc));
		git_error_set_str(GIT_ERROR_NET, m);
		return -1;
	}
	int timed_out = 0;
	for (struct addrinfo *ai = res; ai && s->fd < 0; ai = ai->ai_next) {
		s->fd = connect_one(ai);
		if (s->fd < 0 && errno == ETIMEDOUT)
			timed_out = 1;
	}
	freeaddrinfo(res);
	if (s->fd < 0) {
		net_error(timed_out ? "connection timed out to" : "failed to connect to", s);
		return -1;
	}
	int one = 1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return 0;
}

/* Sends all of data (the socket is non-blocking); 0, or -1 with the error set. */
static int send_all(struct tstream *s, const char *data, size_t len)
{
	while (len > 0) {
		/* MSG_NOSIGNAL: a server that hangs up must not kill the worker with SIGPIPE. */
		ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);
		if (n >= 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			net_error(strerror(errno), s);
			return -1;
		}
		int w = wait_fd(s->fd, POLLOUT, timeout_ms);
		if (w == 1) {
			net_error("timed out sending to", s);
			return -1;
		}
		if (w < 0) {
			net_error(strerror(errno), s);
			return -1;
		}
	}
	return 0;
}

static int flush(struct tstream *s)
{
	if (s->werr)
		return -1;
	if (s->wlen == 0)
		return 0;
	size_t n = s->wlen;
	s->wlen = 0;
	if (send_all(s, s->wbuf, n)) {
		s->werr = 1;
		return -1;
	}
	return 0;
}

static ssize_t ts_write(git_stream *stream, const char *data, size_t len, int flags)
{
	struct tstream *s = (struct tstream *)stream;
	(void)flags;
	if (s->werr)
		return -1;
	if (s->wlen + len > WBUF_SIZE && flush(s))
		return -1;
	if (len >= WBUF_SIZE) {
		if (send_all(s, data, len)) {
			s->werr = 1;
			return -1;
		}
		return (ssize_t)len;
	}
	memcpy(s->wbuf + s->wlen, data, len);
	s->wlen += len;
	return (ssize_t)len;
}

static ssize_t ts_read(git_stream *stream, void *data, size_t len)
{
	struct tstream *s = (struct tstream *)stream;
	if (flush(s))
		return -1;
	for (;;) {
		ssize_t n = recv(s->fd, data, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			net_error(strerror(errno), s);
			return -1;
		}
		int w = wait_fd(s->fd, POLLIN, timeout_ms);
		if (w == 1) {
			net_error("timed out waiting for data from", s);
			return -1;
		}
		if (w < 0) {
			net_error(strerror(errno), s);
			return -1;
		}
	}
}

/* Whatever is still pending is dropped: libgit2 closes a connection it has no more use for. */
static int ts_close(git_stream *stream)
{
	struct tstream *s = (struct tstream *)stream;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->wlen = 0;
	return 0;
}

static void ts_free(git_stream *stream)
{
	struct tstream *s = (struct tstream *)stream;
	ts_close(stream);
	free(s->wbuf);
	free(s->host);
	free(s->port);
	free(s);
}

static int ts_new(git_stream **out, const char *host, const char *port)
{
	struct tstream *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->parent.version = GIT_STREAM_VERSION;
	s->parent.connect = ts_connect;
	s->parent.read = ts_read;
	s->parent.write = ts_write;
	s->parent.close = ts_close;
	s->parent.free = ts_free;
	s->host = strdup(host);
	s->port = strdup(port);
	s->wbuf = malloc(WBUF_SIZE);
	if (!s->host || !s->port || !s->wbuf)
		abort();
	s->fd = -1;
	*out = &s->parent;
	return 0;
}

int git_netstream_register(void)
{
	/* The TLS stream is built on top of the standard one, so HTTPS gets the timeouts too. */
	git_stream_registration reg = { .version = GIT_STREAM_VERSION, .init = ts_new };
	return git_stream_register(GIT_STREAM_STANDARD, &reg);
}

void git_netstream_timeout(int seconds)
{
	timeout_ms = seconds > 0 ? seconds * 1000 : 120 * 1000;
}
