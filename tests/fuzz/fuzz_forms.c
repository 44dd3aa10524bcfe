/* fuzz_forms.c: libFuzzer target for everything a request carries: percent-decoding,
 * query/form bodies, cookies, multipart bodies, header parameters and the router. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http/parse.h"
#include "http/router.h"

static int h(struct request *req, struct response *resp) { (void)req; (void)resp; return 0; }

static const struct route routes[] = {
	ROUTE("GET", "/", h, 0),
	ROUTE("GET", "/projects/{id}", h, 0),
	ROUTE("POST", "/projects/{id}/files/{path*}", h, 0),
	ROUTE("DELETE", "/a/b/c", h, 0),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct arena a = ARENA_INIT;
	struct err e = { 0 };
	struct kvlist l = { 0 };
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	/* C-string views need a terminator; the parsers that take lengths get the raw bytes. */
	char *z = arena_strndup(&a, s, n);
	char *out;
	size_t outlen;
	switch (data[0] % 6) {
	case 0:
		http_url_decode(&out, &outlen, &a, s, n, data[0] & 0x10, &e);
		break;
	case 1:
		http_parse_urlencoded(&l, &a, s, n, 100, &e);
		break;
	case 2:
		http_parse_cookies(&l, &a, z, 50, &e);
		break;
	case 3:
		http_parse_multipart(&l, &a, s, n, "multipart/form-data; boundary=XyZ", 100, &e);
		break;
	case 4: {
		const char *sep = memchr(z, '\n', strlen(z));
		if (sep) /* content type on the first line, body after */
			http_parse_multipart(&l, &a, sep + 1, strlen(sep + 1), arena_strndup(&a, z, (size_t)(sep - z)), 100, &e);
		else
			http_header_param(&a, z, "boundary");
		break;
	}
	case 5: {
		const struct route *r;
		struct kvlist params = { 0 };
		char allow[128];
		router_match(&r, &params, allow, sizeof allow, routes, sizeof routes / sizeof routes[0],
			     (data[0] & 0x40) ? "POST" : "GET", z, &a, &e);
		break;
	}
	}
	for (size_t i = 0; i < l.n; i++) /* touch every result: ASan checks the bounds */
		if (l.items[i].value_len && l.items[i].value[l.items[i].value_len - 1] == (char)0xff)
			e.code++;
	arena_free(&a);
	return 0;
}
