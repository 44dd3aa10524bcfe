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
	{ "GET", "/api/v1/jobs/{id}", api_job_get, ROUTE_API | ROUTE_SESSION },
	{ "GET", "/admin/jobs", page_admin_jobs, ROUTE_SESSION },
	{ "POST", "/admin/jobs/{id}/retry", page_admin_job_retry, ROUTE_SESSION | ROUTE_CSRF },
#define PA (ROUTE_API | ROUTE_SESSION)
	{ "POST", "/api/v1/projects", api_projects_create, PA },
	{ "GET", "/api/v1/projects", api_projects_list, PA },
	{ "GET", "/api/v1/projects/{id}", api_project_get, PA },
	{ "PATCH", "/api/v1/projects/{id}", api_project_patch, PA },
	{ "DELETE", "/api/v1/projects/{id}", api_project_delete, PA },
	{ "GET", "/api/v1/projects/{id}/files", api_project_files, PA },
	{ "PUT", "/api/v1/projects/{id}/files/{path*}", api_project_file_put, PA | ROUTE_RAWBODY | ROUTE_UPLOAD },
	{ "GET", "/api/v1/projects/{id}/files/{path*}", api_project_file_get, PA },
	{ "DELETE", "/api/v1/projects/{id}/files/{path*}", api_project_file_delete, PA },
	{ "POST", "/api/v1/projects/{id}/repository", api_project_repo_connect, PA },
	{ "DELETE", "/api/v1/projects/{id}/repository", api_project_repo_disconnect, PA },
	{ "PATCH", "/api/v1/projects/{id}/settings", api_project_settings, PA },
	{ "POST", "/api/v1/projects/{id}/sync", api_project_sync, PA },
	{ "GET", "/api/v1/projects/{id}/status", api_project_status, PA },
	{ "GET", "/api/v1/projects/{id}/history", api_project_history, PA },
#undef PA
#define PS ROUTE_SESSION
#define PP (ROUTE_SESSION | ROUTE_CSRF)
	{ "GET", "/projects", page_projects, PS },
	{ "POST", "/projects", page_project_create, PP },
	{ "GET", "/projects/{id}", page_project, PS },
	{ "POST", "/projects/{id}/sync", page_project_sync, PP },
	{ "POST", "/projects/{id}/rename", page_project_rename, PP },
	{ "POST", "/projects/{id}/delete", page_project_delete, PP },
	{ "GET", "/projects/{id}/files", page_project_files, PS },
	{ "POST", "/projects/{id}/files", page_project_file_save, PP | ROUTE_UPLOAD },
	{ "GET", "/projects/{id}/files/{path*}", page_project_file, PS },
	{ "GET", "/projects/{id}/new", page_project_file, PS },
	{ "POST", "/projects/{id}/upload", page_project_upload, PP | ROUTE_UPLOAD },
	{ "POST", "/projects/{id}/files-delete", page_project_file_delete, PP },
	{ "GET", "/projects/{id}/connect", page_project_connect, PS },
	{ "POST", "/projects/{id}/connect", page_project_connect_post, PP },
	{ "POST", "/projects/{id}/disconnect", page_project_disconnect, PP },
	{ "GET", "/projects/{id}/settings", page_project_settings, PS },
	{ "POST", "/projects/{id}/settings", page_project_settings_post, PP },
	{ "GET", "/projects/{id}/history", page_project_history, PS },
	{ "GET", "/projects/{id}/history/{hid}", page_project_history_one, PS },
#undef PS
#undef PP
};

const size_t web_nroutes = sizeof web_routes / sizeof web_routes[0];
