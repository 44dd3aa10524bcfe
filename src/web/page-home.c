/* page-home.c: the landing page. */
#include <json-c/json.h>
#include "web/app.h"

/* GET / → 200 */
int page_home(struct request *req, struct response *resp)
{
	struct json_object *ctx = json_object_new_object();
	render_page(req, resp, 200, "home", "ghbridge", ctx);
	return 0;
}
