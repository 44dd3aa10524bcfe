/* page-health.c: GET /healthz for load balancers and the operator. */
#include <json-c/json.h>
#include "web/app.h"

DB_STMT(stmt_health_ping, "SELECT 1");

/* GET /healthz → 200 {"status":"ok","db":"ok"} | 503 {"status":"degraded","db":"down"} */
int page_healthz(struct request *req, struct response *resp)
{
	PGresult *r;
	struct err e = { 0 };
	int up = db_query(&r, g_app.db, &stmt_health_ping, 0, NULL, &e) == 0;
	if (up)
		PQclear(r);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(up ? "ok" : "degraded"));
	json_object_object_add(o, "db", json_object_new_string(up ? "ok" : "down"));
	resp_json(resp, up ? 200 : 503, o);
	resp_header(resp, "Cache-Control", "no-store");
	json_object_put(o);
	return 0;
}
