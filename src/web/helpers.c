/* helpers.c: request helpers shared by the page and API families (project from the path, JSON bodies, scopes). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "service/auth.h"
#include "service/projects.h"
#include "web/app.h"
#include "web/fields.h"

int web_number_param(struct request *req)
{
	long long n;
	int rc = web_id_param(&n, req, "number");
	err_clear(&req->err);
	return rc ? 0 : (int)n;
}

int web_lacks_scope(struct request *req, struct response *resp, const char *scope)
{
	if (auth_has_scope(req->user, scope))
		return 0;
	char *m = arena_printf(req->arena, "This API key lacks the '%s' scope.", scope);
	render_json_error(req, resp, 403, "forbidden", m);
	return 1;
}

struct json_object *web_json_body(struct request *req, struct response *resp)
{
	char field[64];
	const char *why;
	if (req->body_len > INT_MAX) {
		render_json_error(req, resp, 413, "too_large", "The request body is too large.");
		return NULL;
	}
	/* Every string is UTF-8 text before json-c decodes it: json-c's own check passes overlong
	 * forms and surrogates, and it turns "\u0000" into a NUL and a lone "\ud800" into U+FFFD. */
	if (req->body_len && http_json_check(field, sizeof field, &why, req->body, req->body_len)) {
		if (field[0])
			err_set_field(&req->err, ERR_INVALID, field, "The field '%s' %s.", field, why);
		else
			err_set(&req->err, ERR_INVALID, "The request body %s.", why);
		render_err(req, resp);
		return NULL;
	}
	struct json_tokener *t = json_tokener_new();
	json_tokener_set_flags(t, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = req->body_len ? json_tokener_parse_ex(t, req->body, (int)req->body_len) : NULL;
	int ok = o && json_tokener_get_error(t) == json_tokener_success && json_object_is_type(o, json_type_object);
	/* Only white space may follow the object (STRICT refuses anything else, but says so only
	 * when more input is given). */
	for (size_t end = ok ? json_tokener_get_parse_end(t) : 0; ok && end < req->body_len; end++)
		if (!strchr(" \t\r\n", req->body[end]))
			ok = 0;
	json_tokener_free(t);
	if (!ok) {
		json_object_put(o);
		render_json_error(req, resp, 400, "bad_request", "Send a JSON object as the request body.");
		return NULL;
	}
	return o;
}

/* Checks every key of b against the allowed names and types ('s' string, 'b' boolean). Answers
 * 422 itself (and returns 1) for an unknown field or a wrong type. */
int web_json_fields_ok(struct request *req, struct response *resp, struct json_object *b, const char *const *names,
		     const char *types)
{
	json_object_object_foreach(b, k, v) {
		int i, found = 0;
		for (i = 0; names[i]; i++)
			if (strcmp(names[i], k) == 0) {
				found = 1;
				break;
			}
		if (!found) {
			render_json_error(req, resp, 422, "invalid", arena_printf(req->arena, "Unknown field '%.64s'.", k));
			return 1;
		}
		if (!v)
			continue; /* null: as if absent */
		json_type want = types[i] == 'b' ? json_type_boolean : json_type_string;
		if (!json_object_is_type(v, want)) {
			render_json_error(req, resp, 422, "invalid", arena_printf(req->arena, "'%s' must be a %s.", k,
										  types[i] == 'b' ? "boolean" : "string"));
			return 1;
		}
	}
	return 0;
}
