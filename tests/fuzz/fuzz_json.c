/* fuzz_json.c: libFuzzer target for what a JSON body passes before a handler reads it (helpers.c's
 * web_json_body: http_json_check, then json-c STRICT | VALIDATE_UTF8) and for the number parser.
 * Asserts: whatever is accepted decodes to strings and keys that are valid UTF-8 text without NUL,
 * and http_num_parse agrees with strtoll on every number it accepts. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "http/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(struct json_object *o, int depth)
{
	if (depth > 64)
		abort(); /* json-c's default depth limit is 32 */
	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			if (!utf8_valid(k, strlen(k)))
				abort();
			walk(v, depth + 1);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			walk(json_object_array_get_idx(o, i), depth + 1);
		break;
	case json_type_string: {
		const char *s = json_object_get_string(o);
		size_t n = (size_t)json_object_get_string_len(o);
		if (!utf8_valid(s, n) || strlen(s) != n)
			abort(); /* a NUL or a byte sequence that is not text got through */
		break;
	}
	default:
		break;
	}
}

static void numbers(const uint8_t *data, size_t size)
{
	char s[40];
	if (size >= sizeof s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	long long v = 7, lo = -1000, hi = 1000;
	int rc = http_num_parse(&v, s, LLONG_MIN, LLONG_MAX);
	if (rc == 0) {
		char *end;
		errno = 0;
		long long w = strtoll(s, &end, 10);
		if (errno || *end || w != v || s[0] == ' ' || s[0] == '+')
			abort();
	} else if (v != 7) {
		abort(); /* *out touched on failure */
	}
	rc = http_num_parse(&v, s, lo, hi);
	if (rc == 0 && (v < lo || v > hi))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	numbers(data, size);
	char field[64];
	const char *why;
	if (http_json_check(field, sizeof field, &why, (const char *)data, size)) {
		if (!why || strlen(field) >= sizeof field)
			abort();
		return 0;
	}
	if (size > INT_MAX)
		return 0;
	struct json_tokener *t = json_tokener_new();
	json_tokener_set_flags(t, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = json_tokener_parse_ex(t, (const char *)data, (int)size);
	if (o && json_tokener_get_error(t) == json_tokener_success)
		walk(o, 0);
	json_object_put(o);
	json_tokener_free(t);
	return 0;
}
