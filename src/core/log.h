/* log.h: logfmt lines on stderr, each with time, level, process and request id. */
#ifndef GHB_LOG_H
#define GHB_LOG_H

#include "core/buf.h"

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(int level);
int log_level_parse(const char *s);       /* -1 if unknown */
void log_set_component(const char *name); /* "fcgi", "worker", ... */
/* The request id of the request this process is handling now ("" between requests). */
void log_set_request_id(const char *id);
const char *log_request_id(void);

/* A free-text message: msg="..." (quoted and escaped). */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* msg plus key/value string pairs, terminated by NULL: log_kv(LOG_INFO, "request", "status", "200", NULL). */
void log_kv(int level, const char *msg, ...) __attribute__((sentinel));
/* Appends key=value with logfmt quoting (quotes when needed, escapes " \ and control bytes). */
void logfmt_pair(struct buf *b, const char *key, const char *value);

#endif
