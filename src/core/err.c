/* err.c: filling struct err. */
#include <stdio.h>
#include <string.h>
#include "core/err.h"

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
		e->code = code;
		e->field[0] = '\0';
	}
	return code;
}

int err_set_field(struct err *e, int code, const char *field, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
		e->code = code;
		snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	}
	return code;
}

void err_clear(struct err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
		e->field[0] = '\0';
	}
}

const char *err_code_name(int code)
{
	switch (code) {
	case ERR_OK: return "ok";
	case ERR_NOTFOUND: return "not_found";
	case ERR_INVALID: return "invalid";
	case ERR_TOOBIG: return "too_big";
	case ERR_DB: return "db_unavailable";
	case ERR_CONFLICT: return "conflict";
	case ERR_FORBIDDEN: return "forbidden";
	case ERR_UNAUTH: return "unauthorized";
	case ERR_TIMEOUT: return "timeout";
	case ERR_UNSUPPORTED: return "unsupported";
	case ERR_RATELIMIT: return "rate_limited";
	case ERR_PRECONDITION: return "precondition_failed";
	default: return "internal";
	}
}
