/* webhooks.c: POST /webhooks/github: a GitHub delivery, verified, recorded and queued; answered at once. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "core/cfg.h"
#include "http/parse.h"
#include "service/webhooks.h"
#include "web/app.h"

/* → 200 ping or a delivery seen before | 202 queued, or an event ghbridge does not use | 400 not JSON,
 * no event or delivery id | 401 signature missing or wrong | 413 too big | 503 database down */
int web_webhook_github(struct request *req, struct response *resp)
{
	/* The route takes bodies up to max_upload so that this, GitHub's own cap, is the limit. */
	long long limit = cfg_long(CFG_WEBHOOK_MAX_BODY);
	if ((long long)req->content_length > limit || (long long)req->body_len > limit) {
		render_json_error(req, resp, 413, "too_large",
				  arena_printf(req->arena, "Webhook deliveries may be at most %lld bytes.", limit));
		return 0;
	}
	struct webhook_in in = {
		.signature = req_header(req, "X-Hub-Signature-256"),
		.event = req_header(req, "X-GitHub-Event"),
		.delivery = req_header(req, "X-GitHub-Delivery"),
		.hook_id = req_header(req, "X-GitHub-Hook-ID"),
		.body = req->body ? req->body : "",
		.body_len = req->body_len,
		.json = req->body,
		.json_len = req->body_len,
	};
	/* A hook made with content type "form" signs "payload=<urlencoded JSON>". */
	const char *ct = req->content_type;
	if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 && req->body_len) {
		struct kvlist form = { 0 };
		struct err fe = { 0 };
		const struct kv *pl = NULL;
		if (http_parse_urlencoded(&form, req->arena, req->body, req->body_len, 10, &fe) == 0 &&
		    (pl = kv_find(&form, "payload"))) {
			in.json = pl->value;
			in.json_len = pl->value_len;
		} else {
			in.json = NULL;
			in.json_len = 0;
		}
	}
	/* GitHub sends UTF-8 JSON; anything else is refused before a byte of it is stored. */
	char field[64];
	const char *why;
	if (in.json && http_json_check(field, sizeof field, &why, in.json, in.json_len)) {
		render_json_error(req, resp, 400, "bad_request",
				  field[0] ? arena_printf(req->arena, "The delivery's field '%s' %s.", field, why)
					   : arena_printf(req->arena, "The delivery's JSON %s.", why));
		return 0;
	}
	struct webhook_out out;
	int rc = webhooks_receive(&out, g_app.db, &in, &req->err);
	if (rc)
		return rc;
	if (out.status >= 400) {
		render_json_error(req, resp, out.status, out.result, out.message);
		return 0;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(out.result));
	json_object_object_add(o, "message", json_object_new_string(out.message));
	if (out.delivery_id)
		json_object_object_add(o, "delivery", json_object_new_int64(out.delivery_id));
	if (out.job_id)
		json_object_object_add(o, "job_id", json_object_new_int64(out.job_id));
	resp_json(resp, out.status, o);
	json_object_put(o);
	return 0;
}
