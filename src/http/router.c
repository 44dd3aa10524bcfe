/* router.c: matches a raw path against patterns segment by segment, decoding each
 * segment after the split so an encoded slash (%2F) stays inside its segment. */
#include <stdio.h>
#include <string.h>
#include "http/router.h"

/* Returns 1 on match (params added), 0 on no match, <0 on malformed input. */
static int route_try(const char *pattern, const char *path, struct kvlist *params, struct arena *a,
		     struct err *e)
{
	const char *p = pattern, *s = path;
	size_t mark = params->n;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			goto nomatch;
		p++;
		s++;
		const char *pend = strchr(p, '/');
		size_t plen = pend ? (size_t)(pend - p) : strlen(p);
		const char *send = strchr(s, '/');
		size_t slen = send ? (size_t)(send - s) : strlen(s);
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			int rest = plen >= 3 && p[plen - 2] == '*';
			size_t nlen = plen - 2 - (rest ? 1 : 0);
			if (rest)
				slen = strlen(s);
			if (slen == 0)
				goto nomatch;
			struct kv kv = { .name = arena_strndup(a, p + 1, nlen) };
			char *v;
			if (http_url_decode(&v, &kv.value_len, a, s, slen, 0, e))
				return ERR_INVALID;
			/* %c0%ae is an overlong '.': refused here, before any handler sees the name. */
			if (!utf8_valid(v, kv.value_len))
				return err_set_field(e, ERR_INVALID, kv.name, "The address part '%s' is not valid UTF-8.",
						     kv.name);
			kv.value = v;
			if (kv_add(a, params, 64, &kv, e))
				return ERR_INVALID;
		} else {
			char *seg;
			if (http_url_decode(&seg, NULL, a, s, slen, 0, e))
				return ERR_INVALID;
			if (strlen(seg) != plen || memcmp(seg, p, plen) != 0)
				goto nomatch;
		}
		p += plen;
		s += slen;
	}
	if (*p == '\0' && *s == '\0')
		return 1;
nomatch:
	params->n = mark;
	return 0;
}

int router_match(const struct route **out, struct kvlist *params, char *allow, size_t allowlen,
		 const struct route *routes, size_t n, const char *method, const char *raw_path,
		 struct arena *a, struct err *e)
{
	int path_matched = 0;
	size_t alen = 0;
	if (allowlen)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int rc = route_try(routes[i].pattern, raw_path, params, a, e);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			*out = &routes[i];
			return 0;
		}
		path_matched = 1;
		params->n = 0;
		if (!strstr(allow, routes[i].method) && alen + strlen(routes[i].method) + 8 < allowlen) {
			alen += (size_t)snprintf(allow + alen, allowlen - alen, "%s%s", alen ? ", " : "",
						 routes[i].method);
			if (strcmp(routes[i].method, "GET") == 0)
				alen += (size_t)snprintf(allow + alen, allowlen - alen, ", HEAD");
		}
	}
	if (path_matched)
		return err_set(e, ERR_UNSUPPORTED, "method %s not allowed", method);
	return err_set(e, ERR_NOTFOUND, "no such page");
}
