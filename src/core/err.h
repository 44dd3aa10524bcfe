/* err.h: error codes and the small error struct every fallible call fills in. */
#ifndef GHB_ERR_H
#define GHB_ERR_H

#include <stdarg.h>

/* Negative return codes. Expected failures get their own code so callers can
 * map them (to an HTTP status, an exit code, a retry decision) in one place. */
enum {
	ERR_OK = 0,
	ERR_FAIL = -1,      /* anything unexpected */
	ERR_NOTFOUND = -2,
	ERR_INVALID = -3,   /* bad input a person can fix */
	ERR_TOOBIG = -4,
	ERR_DB = -5,        /* database unavailable or failed */
	ERR_CONFLICT = -6,
	ERR_FORBIDDEN = -7,
	ERR_UNAUTH = -8,
	ERR_TIMEOUT = -9,
	ERR_UNSUPPORTED = -10,
	ERR_RATELIMIT = -11, /* too many requests: wait and retry */
	ERR_PRECONDITION = -12, /* the thing changed since the caller read it (a version mismatch: HTTP 412) */
};

struct err {
	int code;
	char msg[512];
	char field[64];     /* the request field that was refused (web/fields.c), or "" */
};

/* Sets the message once, where the failure happens, and returns code so that
 * `return err_set(e, ERR_INVALID, "...")` reads naturally. e may be NULL. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* err_set for bad input in one named request field (a form or JSON key, a query or path
 * parameter, a header): the API's error answer names it ("field"). */
int err_set_field(struct err *e, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void err_clear(struct err *e);
const char *err_code_name(int code);

#endif
