/* fields.h: the one table of what ghbridge reads from a request (headers, path, query, form and JSON
 * keys) and the checks each value passes before a handler uses it, after kcgi's struct kvalid. */
#ifndef GHB_FIELDS_H
#define GHB_FIELDS_H

#include "http/http.h"

struct json_object;

/* 0 when every request header ghbridge reads (the table's header rows) is UTF-8 text by
 * utf8_valid; ERR_INVALID otherwise, with req->err naming the header (field) — the request is
 * answered 400 before the database is asked anything. */
int web_headers_check(struct request *req);

/* The path parameter name ("id", "number", "hid", …) as an id in its row's range: 0 and *out.
 * ERR_NOTFOUND (req->err set) when it is absent, not a whole number or outside the range: an id
 * beyond 64 bits names nothing, so it is a 404 like any unknown one. */
int web_id_param(long long *out, struct request *req, const char *name);

/* The query (web_query_int) or form (web_form_int) parameter name as a whole number in its row's
 * range; def when it is absent or empty. 0 and *out; ERR_INVALID with req->err.field = name and the
 * allowed range in the message (never wrapped, never truncated: "10abc" is refused). */
int web_query_int(long long *out, struct request *req, const char *name, long long def);
int web_form_int(long long *out, struct request *req, const char *name, long long def);

/* The JSON key name of object b as a whole number in its row's range. Absent or null: 0, *out
 * untouched, *present 0. A double ("5.0", "1e3"), a string or a boolean, or a number outside the
 * range (json-c clamps them to 64 bits: the range check sees the clamp), is ERR_INVALID with
 * req->err.field = name and the range in the message. */
int web_json_int(long long *out, int *present, struct request *req, struct json_object *b, const char *name);

/* "a whole number from 1 to 100": the allowed range of name's row, for messages (arena string). */
const char *web_field_range(struct request *req, const char *name);

#endif
