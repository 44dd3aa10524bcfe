/* helpers.c: request helpers shared by the page and API families (project from the path, JSON bodies, scopes). */
#include <stdlib.h>
#include <json-c/json.h>
#include "service/auth.h"
#include "service/projects.h"
#include "web/app.h"

int web_project_load(struct project *p, struct request *req)
{
	const char *s = req_param(req, "id");
	char *end;
	long long id = s ? strtoll(s, &end, 10) : 0;
	if (!s || *end || id <= 0)
		return err_set(&req->err, ERR_NOTFOUND, "There is no such project.");
	return projects_get(p, g_app.db, req->user->user_id, id, &req->err);
}

int web_number_param(struct request *req)
{
	const char *s = req_param(req, "number");
	char *end;
	long n = s ? strtol(s, &end, 10) : 0;
	return s && !*end && n > 0 && n < 1000000000 ? (int)n : 0;
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
	struct json_tokener *t = json_tokener_new();
	struct json_object *o = req->body_len ? json_tokener_parse_ex(t, req->body, (int)req->body_len) : NULL;
	int ok = o && json_tokener_get_error(t) == json_tokener_success && json_object_is_type(o, json_type_object);
	json_tokener_free(t);
	if (!ok) {
		json_object_put(o);
		render_json_error(req, resp, 400, "bad_request", "Send a JSON object as the request body.");
		return NULL;
	}
	return o;
}
