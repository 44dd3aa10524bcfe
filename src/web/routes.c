/* routes.c: every route in one table: method, path pattern, handler, flags. */
#include "web/app.h"

const struct route web_routes[] = {
	{ "GET", "/", page_home, 0 },
	{ "GET", "/healthz", page_healthz, ROUTE_API | ROUTE_NODB },
	{ "GET", "/login", page_login, 0 },
	{ "GET", "/oauth/callback", page_oauth_callback, 0 },
	{ "POST", "/logout", page_logout, ROUTE_CSRF },
	{ "GET", "/account", page_account, ROUTE_SESSION },
	{ "POST", "/account/sessions/end-all", page_sessions_end_all, ROUTE_SESSION | ROUTE_CSRF },
	{ "POST", "/account/sessions/{id}/end", page_session_end, ROUTE_SESSION | ROUTE_CSRF },
	{ "POST", "/account/keys", page_key_create, ROUTE_SESSION | ROUTE_CSRF },
	{ "POST", "/account/keys/{id}/revoke", page_key_revoke, ROUTE_SESSION | ROUTE_CSRF },
	{ "POST", "/account/disconnect", page_disconnect, ROUTE_SESSION | ROUTE_CSRF },
	{ "GET", "/api/v1/me", api_me, ROUTE_API | ROUTE_SESSION },
};

const size_t web_nroutes = sizeof web_routes / sizeof web_routes[0];
