/* fuzz_paths.c: libFuzzer target for path normalisation: a raw request path through the router's
 * percent-decoding and UTF-8 check, then the service's file-path rule (project_path_check), as
 * PUT /api/v1/projects/{id}/files/{path*} takes it. Asserts: an accepted file path is valid UTF-8
 * text, relative, without '.', '..', '.git' or empty components, backslashes or control bytes,
 * and an accepted {id} is one the number parser reads; the project name rule is fuzzed alongside. */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http/parse.h"
#include "http/router.h"
#include "service/projects.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int h(struct request *req, struct response *resp) { (void)req; (void)resp; return 0; }

static const struct route routes[] = {
	ROUTE("PUT", "/api/v1/projects/{id}/files/{path*}", h, 0),
	ROUTE("GET", "/projects/{id}/files/{path*}", h, 0),
};

static void check_accepted(const char *p)
{
	size_t n = strlen(p);
	if (!utf8_valid(p, n) || n == 0 || p[0] == '/' || strchr(p, '\\'))
		abort();
	for (const unsigned char *c = (const unsigned char *)p; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			abort();
	const char *s = p;
	for (;;) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.') ||
		    (len == 4 && strncasecmp(s, ".git", 4) == 0))
			abort();
		if (!slash)
			break;
		s = slash + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	struct arena a = ARENA_INIT;
	struct err e = { 0 };
	const char *prefix = (data[0] & 1) ? "/projects/" : "/api/v1/projects/";
	/* the rest, up to a NUL (a request path never holds one), after the route's prefix */
	size_t n = strnlen((const char *)data + 1, size - 1);
	char *raw = arena_printf(&a, "%s%.*s", prefix, (int)n, (const char *)data + 1);
	const struct route *r = NULL;
	struct kvlist params = { 0 };
	char allow[128];
	int rc = router_match(&r, &params, allow, sizeof allow, routes, 2, (data[0] & 1) ? "GET" : "PUT", raw, &a, &e);
	if (rc == 0) {
		for (size_t i = 0; i < params.n; i++)
			if (!utf8_valid(params.items[i].value, params.items[i].value_len) ||
			    strlen(params.items[i].value) != params.items[i].value_len)
				abort();
		const char *path = kv_get(&params, "path"), *id = kv_get(&params, "id");
		long long v;
		if (id && http_num_parse(&v, id, 1, LLONG_MAX) == 0 && v < 1)
			abort();
		if (path && project_path_check(path, &e) == 0)
			check_accepted(path);
		char name[PROJECT_NAME_MAX * 4 + 1];
		if (path && project_name_clean(name, sizeof name, path, &e) == 0) {
			/* a name, trimmed, is 1 to PROJECT_NAME_MAX code points of UTF-8 text */
			size_t chars = 0, len = strlen(name);
			for (size_t i = 0; i < len; i++)
				chars += ((unsigned char)name[i] & 0xc0) != 0x80;
			if (!utf8_valid(name, len) || chars < 1 || chars > PROJECT_NAME_MAX)
				abort();
		}
	} else if (rc == ERR_INVALID && !e.msg[0]) {
		abort(); /* a refusal says why */
	}
	arena_free(&a);
	return 0;
}
