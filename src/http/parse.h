/* parse.h: parsers for what arrives in a request: percent-encoding, query strings,
 * urlencoded and multipart forms, cookies. Pure functions over buffers, so they
 * can be fuzzed and unit-tested without a server. */
#ifndef GHB_PARSE_H
#define GHB_PARSE_H

#include <stddef.h>
#include "core/arena.h"
#include "core/err.h"
#include "core/utf8.h" /* utf8_valid: every string a parser here hands over passes it */

struct kv {
	const char *name;
	const char *value;        /* NUL-terminated; for files may contain NULs, see value_len */
	size_t value_len;
	const char *filename;     /* multipart file parts only */
	const char *content_type; /* multipart parts only */
};

struct kvlist {
	struct kv *items;
	size_t n, cap;
};

int kv_add(struct arena *a, struct kvlist *l, size_t max, const struct kv *kv, struct err *e);
const struct kv *kv_find(const struct kvlist *l, const char *name);
const char *kv_get(const struct kvlist *l, const char *name); /* NULL if absent */

/* Decodes %XX (and '+' as space when plus_space). Refuses malformed escapes
 * and NUL bytes (ERR_INVALID), so no decoded string can hide a terminator. */
int http_url_decode(char **out, size_t *outlen, struct arena *a, const char *s, size_t len,
		    int plus_space, struct err *e);
/* a=1&b=2 (query strings and application/x-www-form-urlencoded bodies). */
int http_parse_urlencoded(struct kvlist *out, struct arena *a, const char *s, size_t len,
			  size_t max_fields, struct err *e);
/* The Cookie header: "a=1; b=2". Malformed pairs are skipped, as browsers do. */
int http_parse_cookies(struct kvlist *out, struct arena *a, const char *header, size_t max, struct err *e);
/* multipart/form-data with the boundary taken from content_type. */
int http_parse_multipart(struct kvlist *out, struct arena *a, const char *body, size_t len,
			 const char *content_type, size_t max_fields, struct err *e);
/* The value of parameter name in a header like `multipart/form-data; boundary="x"`. */
char *http_header_param(struct arena *a, const char *header, const char *name);
/* A whole decimal number: an optional '-' and digits, nothing else (no spaces, '+', "0x",
 * fraction or exponent). 0 and *out set when it lies in [min, max]; ERR_INVALID when s is not
 * such a number; ERR_TOOBIG when it is one outside [min, max] (beyond 64 bits too, never wrapped).
 * *out is untouched on failure. */
int http_num_parse(long long *out, const char *s, long long min, long long max);
/* Checks JSON text before a parser decodes it (RFC 8259 §8: JSON is UTF-8): every byte is
 * well-formed UTF-8 as utf8_valid says, and no string holds what would decode to a NUL
 * ("\u0000") or an unpaired surrogate escape ("\ud800", which json-c turns into U+FFFD
 * silently); single-quoted strings (a json-c extension) are refused. 0 when clean; ERR_INVALID
 * with *why set to a phrase ("is not valid UTF-8") and field to the top-level key whose key or
 * value holds the fault ("" outside any). A truncated or malformed escape is refused too; other
 * grammar errors are left to the JSON parser. */
int http_json_check(char *field, size_t fieldsz, const char **why, const char *s, size_t len);

#endif
