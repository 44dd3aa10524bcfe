/* page-auth.c: sign-out (sign-in arrives with the OAuth flow). */
#include "web/app.h"

/* POST /logout → 303 to / (the session cookie is cleared) | 400 malformed form */
int page_logout(struct request *req, struct response *resp)
{
	resp_header(resp, "Set-Cookie", "ghb_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
	resp_redirect(resp, 303, "/");
	return 0;
}
