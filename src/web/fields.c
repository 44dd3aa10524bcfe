/* fields.c: the one table of what ghbridge reads from a request and the range or form each value
 * must have, after kcgi's struct kvalid: handlers ask "present and valid?" and get a number or a 4xx. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "http/parse.h"
#include "web/fields.h"

enum field_where { F_HEADER, F_PATH, F_QUERY, F_FORM, F_JSON };

struct field_rule {
	const char *name;
	enum field_where where;
	long long min, max;    /* numbers: the allowed range, both ends included */
	const char *read_by;   /* who reads it, so a change of range is made knowing where it lands */
};

/* Strings (form fields, query values, JSON strings, path parameters) are checked as UTF-8 text
 * where they are parsed (http/parse.c, http/router.c, web_json_body); this table adds the headers
 * that are read and every number's range. A number without a row here is a bug: it is refused. */
static const struct field_rule rules[] = {
	{ "Host", F_HEADER, 0, 0, "web.c: own origin" },
	{ "Authorization", F_HEADER, 0, 0, "web.c: API keys" },
	{ "Origin", F_HEADER, 0, 0, "web.c: cross-site check" },
	{ "Sec-Fetch-Site", F_HEADER, 0, 0, "web.c: cross-site check" },
	{ "X-CSRF-Token", F_HEADER, 0, 0, "web.c: CSRF" },
	{ "User-Agent", F_HEADER, 0, 0, "page-auth.c: stored with the session" },
	{ "If-Match", F_HEADER, 0, 0, "api-projects.c: file versions (412)" },
	{ "If-None-Match", F_HEADER, 0, 0, "api-projects.c: file versions (304, 412)" },
	{ "Referer", F_HEADER, 0, 0, "render.c: the way back on error pages" },
	{ "X-Hub-Signature-256", F_HEADER, 0, 0, "webhooks.c" },
	{ "X-GitHub-Event", F_HEADER, 0, 0, "webhooks.c: stored with the delivery" },
	{ "X-GitHub-Delivery", F_HEADER, 0, 0, "webhooks.c: stored with the delivery" },
	{ "X-GitHub-Hook-ID", F_HEADER, 0, 0, "webhooks.c" },
	{ "id", F_PATH, 1, LLONG_MAX, "projects, sessions, keys, jobs" },
	{ "number", F_PATH, 1, INT_MAX, "pull requests (GitHub's numbers are int)" },
	{ "hid", F_PATH, 1, LLONG_MAX, "page-projects.c: one history row" },
	{ "op", F_PATH, 1, LLONG_MAX, "page-drift.c: one collaborator call of the log" },
	{ "op", F_FORM, 0, LLONG_MAX, "page-drift.c: retry one collaborator call (0: every failed one)" },
	{ "limit", F_QUERY, 1, 100, "api-projects.c history, api-pulls.c list" },
	{ "offset", F_QUERY, 0, 1000000, "api-pulls.c list" },
	{ "before", F_QUERY, 0, LLONG_MAX, "history (API and page): a history id, 0 the newest" },
	{ "page", F_QUERY, 1, 1000, "the Link list of repositories" },
	{ "job", F_QUERY, 1, LLONG_MAX, "page-pulls.c: a pull request being created" },
	{ "expires_days", F_FORM, 0, 3650, "page-auth.c: API key expiry (0 never)" },
	{ "batch_minutes", F_JSON, 0, 1440, "settings (API and page form)" },
	{ "lfs_threshold_mib", F_JSON, 0, 2048, "settings (API and page form): store files over N MiB in Git LFS" },
	{ "project_id", F_FORM, 0, LLONG_MAX, "page-admin.c: pause/resume (0 the whole service)" },
	{ "project_id", F_JSON, 0, LLONG_MAX, "page-admin.c: pause/resume over the API (0 the whole service)" },
	{ "project", F_QUERY, 0, LLONG_MAX, "page-admin.c: audit log filter (0 any)" },
};

static const struct field_rule *rule_of(const char *name)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (strcmp(rules[i].name, name) == 0)
			return &rules[i];
	return NULL;
}

int web_headers_check(struct request *req)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		if (rules[i].where != F_HEADER)
			continue;
		const char *v = req_header(req, rules[i].name);
		if (v && !utf8_valid(v, strlen(v)))
			return err_set_field(&req->err, ERR_INVALID, rules[i].name,
					     "The %s header is not valid UTF-8 text.", rules[i].name);
	}
	return 0;
}

const char *web_field_range(struct request *req, const char *name)
{
	const struct field_rule *r = rule_of(name);
	if (!r)
		return "no number (this field has no range: a bug)";
	if (r->max == LLONG_MAX)
		return arena_printf(req->arena, "a whole number from %lld up", r->min);
	return arena_printf(req->arena, "a whole number from %lld to %lld", r->min, r->max);
}

int web_id_param(long long *out, struct request *req, const char *name)
{
	const struct field_rule *r = rule_of(name);
	const char *s = req_param(req, name);
	if (!r || !s || http_num_parse(out, s, r->min, r->max) != 0)
		return err_set(&req->err, ERR_NOTFOUND, "There is nothing at this address.");
	return 0;
}

static int text_int(long long *out, struct request *req, const char *name, const char *s, long long def)
{
	if (!s || !*s) {
		*out = def;
		return 0;
	}
	const struct field_rule *r = rule_of(name);
	if (r && http_num_parse(out, s, r->min, r->max) == 0)
		return 0;
	return err_set_field(&req->err, ERR_INVALID, name, "%s is %s.", name, web_field_range(req, name));
}

int web_query_int(long long *out, struct request *req, const char *name, long long def)
{
	return text_int(out, req, name, req_query(req, name), def);
}

int web_form_int(long long *out, struct request *req, const char *name, long long def)
{
	return text_int(out, req, name, req_form(req, name), def);
}

int web_json_int(long long *out, int *present, struct request *req, struct json_object *b, const char *name)
{
	struct json_object *v = NULL;
	*present = 0;
	if (!json_object_object_get_ex(b, name, &v) || !v)
		return 0;
	const struct field_rule *r = rule_of(name);
	/* json-c clamps integers past 64 bits to INT64_MIN/MAX; every range here lies inside them. */
	if (r && json_object_is_type(v, json_type_int)) {
		int64_t x = json_object_get_int64(v);
		if (x >= r->min && x <= r->max && x != INT64_MAX && x != INT64_MIN) {
			*out = x;
			*present = 1;
			return 0;
		}
	}
	return err_set_field(&req->err, ERR_INVALID, name, "%s is %s.", name, web_field_range(req, name));
}
