/* log.c: logfmt writer. One write(2) per line so lines from many processes never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>
#include "core/log.h"

static int min_level = LOG_INFO;
static char component[32] = "ghbridge";
static char request_id[64];

static const char *level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(int level) { min_level = level; }

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void log_set_component(const char *name)
{
	snprintf(component, sizeof component, "%s", name);
}

void log_set_request_id(const char *id)
{
	snprintf(request_id, sizeof request_id, "%s", id ? id : "");
}

const char *log_request_id(void) { return request_id; }

void logfmt_pair(struct buf *b, const char *key, const char *value)
{
	if (!value)
		value = "";
	int quote = value[0] == '\0';
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f) {
			quote = 1;
			break;
		}
	if (b->len)
		buf_putc(b, ' ');
	buf_puts(b, key);
	buf_putc(b, '=');
	if (!quote) {
		buf_puts(b, value);
		return;
	}
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p == '"' || *p == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)*p);
		} else if (*p == '\n') {
			buf_puts(b, "\\n");
		} else if (*p < ' ' || *p == 0x7f) {
			buf_printf(b, "\\x%02x", *p);
		} else {
			buf_putc(b, (char)*p);
		}
	}
	buf_putc(b, '"');
}

static void log_head(struct buf *b, int level, const char *msg)
{
	struct timeval tv;
	struct tm tm;
	char ts[40], pid[16];
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)(tv.tv_usec / 1000));
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	logfmt_pair(b, "time", ts);
	logfmt_pair(b, "level", level_names[level]);
	logfmt_pair(b, "proc", component);
	logfmt_pair(b, "pid", pid);
	if (request_id[0])
		logfmt_pair(b, "req", request_id);
	logfmt_pair(b, "msg", msg);
}

static void log_write(struct buf *b)
{
	buf_putc(b, '\n');
	ssize_t off = 0;
	while ((size_t)off < b->len) {
		ssize_t w = write(STDERR_FILENO, b->data + off, b->len - (size_t)off);
		if (w <= 0)
			break;
		off += w;
	}
	buf_free(b);
}

void log_msg(int level, const char *fmt, ...)
{
	if (level < min_level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct buf b = BUF_INIT;
	log_head(&b, level, msg);
	log_write(&b);
}

void log_kv(int level, const char *msg, ...)
{
	if (level < min_level)
		return;
	struct buf b = BUF_INIT;
	log_head(&b, level, msg);
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		logfmt_pair(&b, k, v);
	}
	va_end(ap);
	log_write(&b);
}
