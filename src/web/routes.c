/* routes.c: every route in one table: method, path pattern, handler, flags. */
#include "web/app.h"

const struct route web_routes[] = {
	{ "GET", "/", page_home, 0 },
	{ "GET", "/healthz", page_healthz, ROUTE_API | ROUTE_NODB },
	{ "POST", "/logout", page_logout, ROUTE_CSRF },
};

const size_t web_nroutes = sizeof web_routes / sizeof web_routes[0];
