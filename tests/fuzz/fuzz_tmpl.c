/* fuzz_tmpl.c: libFuzzer target for the template compiler and renderer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "view/tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = malloc(size + 1);
	memcpy(src, data, size);
	src[size] = '\0';
	struct tmpl_set *set = NULL;
	struct err e = { 0 };
	tmpl_set_add_string(&set, "p", "[{{x}}]", &e);
	if (tmpl_set_add_string(&set, "t", src, &e) == 0) {
		struct json_object *ctx = json_tokener_parse(
			"{\"x\":\"<&>'\\\"\",\"n\":3,\"b\":true,\"list\":[{\"x\":1},{\"x\":\"two\"}],\"o\":{\"x\":{\"y\":\"z\"}}}");
		struct buf out = BUF_INIT;
		tmpl_render(&out, set, "t", ctx, &e);
		buf_free(&out);
		json_object_put(ctx);
	}
	tmpl_set_free(set);
	free(src);
	return 0;
}
