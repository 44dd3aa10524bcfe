/* page-projects.c: the projects panel: list and create, project page, files, connect, settings, history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <json-c/json.h>
#include "service/auth.h"
#include "service/ghrepos.h"
#include "service/projects.h"
#include "web/app.h"
#include "web/fields.h"

static struct json_object *js(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static void go(struct request *req, struct response *resp, long long id, const char *rest)
{
	resp_redirect(resp, 303, arena_printf(req->arena, "/projects/%lld%s", id, rest));
}

/* What the connect job is doing, in words (the same words as static/app.js uses). */
static const char *connect_step_text(const struct project *p)
{
	const char *s = p->connect_step ? p->connect_step : "";
	int create = p->connect_mode && strcmp(p->connect_mode, "create") == 0;
	if (strcmp(p->connect_state, "queued") == 0)
		return "Waiting for a worker…";
	if (strcmp(s, "checking") == 0)
		return create ? "Checking that the name is free on GitHub…" : "Checking the repository on GitHub…";
	if (strcmp(s, "creating") == 0)
		return "Creating the repository on GitHub…";
	if (strcmp(s, "linking") == 0)
		return "Linking it to this project…";
	return "Starting…";
}

/* The project as the templates see it: the API's shape plus display helpers. */
static struct json_object *ctx_of(const struct project *p)
{
	struct json_object *ctx = json_object_new_object(), *o = web_project_json(p);
	char st[16];
	snprintf(st, sizeof st, "%s", p->status);
	for (char *c = st; *c; c++)
		*c = (char)(*c - 'A' + 'a');
	json_object_object_add(o, "status_class", js(st));
	json_object_object_add(o, "is_conflict", json_object_new_boolean(strcmp(p->status, "CONFLICT") == 0));
	json_object_object_add(o, "is_busy", json_object_new_boolean(strcmp(p->status, "SYNCING") == 0 ||
								    strcmp(p->status, "PENDING") == 0));
	if (p->last_commit_sha && p->repo_html_url) {
		json_object_object_add(o, "commit_url", js(NULL));
		char *u;
		if (asprintf(&u, "%s/commit/%s", p->repo_html_url, p->last_commit_sha) >= 0) {
			json_object_object_add(o, "commit_url", js(u));
			free(u);
		}
		char s7[8];
		snprintf(s7, sizeof s7, "%.7s", p->last_commit_sha);
		json_object_object_add(o, "short_sha", js(s7));
	}
	json_object_object_add(ctx, "project", o);
	/* A connect under way (the connect job) or failed: the project page and the connect page say so. */
	if (p->connect_state && !p->repo_owner) {
		int active = strcmp(p->connect_state, "queued") == 0 || strcmp(p->connect_state, "running") == 0;
		json_object_object_add(ctx, "connecting", json_object_new_boolean(active));
		json_object_object_add(ctx, "connect_failed", json_object_new_boolean(strcmp(p->connect_state, "failed") == 0 &&
										       !(p->connect_error_code && strcmp(p->connect_error_code, "cancelled") == 0)));
		json_object_object_add(ctx, "connect_step", js(connect_step_text(p)));
	}
	return ctx;
}

static const char *title_of(struct request *req, const struct project *p, const char *what)
{
	return what ? arena_printf(req->arena, "%s · %s", what, p->name) : arena_strdup(req->arena, p->name);
}

/* The projects list; error (at the name field, the typed name kept) after a refused create. */
static int projects_render(struct request *req, struct response *resp, int status, const char *error)
{
	struct project *rows;
	int n, rc = projects_list(&rows, &n, g_app.db, req->user->user_id, &req->err);
	if (rc)
		return rc;
	struct json_object *ctx = json_object_new_object(), *a = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct json_object *c = ctx_of(&rows[i]), *o = NULL, *v;
		json_object_object_get_ex(c, "project", &o);
		/* A connect under way or failed shows in the list too, in the Repository column. */
		const char *keys[] = { "connecting", "connect_failed" };
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			if (json_object_object_get_ex(c, keys[k], &v))
				json_object_object_add(o, keys[k], json_object_get(v));
		json_object_array_add(a, json_object_get(o));
		json_object_put(c);
	}
	json_object_object_add(ctx, "projects", a);
	if (error) {
		json_object_object_add(ctx, "name_error", js(error));
		json_object_object_add(ctx, "f_name", js(req_form(req, "name")));
	}
	/* Codes, not text: a link must not be able to put words on this page. */
	const char *d = req_query(req, "done");
	if (d && strcmp(d, "deleted") == 0)
		json_object_object_add(ctx, "flash", js("The project was deleted. Its GitHub repository, if it had one, "
							"was kept."));
	store_projects_free(rows, n);
	render_page(req, resp, status, "project-list", "Projects", ctx);
	return 0;
}

/* GET /projects → 200 */
int page_projects(struct request *req, struct response *resp)
{
	return projects_render(req, resp, 200, NULL);
}

/* POST /projects (name) → 303 to the new project | 422 with the form again, the error at the name */
int page_project_create(struct request *req, struct response *resp)
{
	struct project p;
	int rc = projects_create(&p, g_app.db, req->user->user_id, req_form(req, "name"), &req->err);
	if (rc == ERR_INVALID) {
		char msg[sizeof req->err.msg];
		snprintf(msg, sizeof msg, "%s", req->err.msg);
		err_clear(&req->err);
		return projects_render(req, resp, 422, msg);
	}
	if (rc)
		return rc;
	go(req, resp, p.id, "");
	store_project_free(&p);
	return 0;
}

/* The project page; errors {"rename"|"confirm": message} put at their fields, with what was typed kept. */
static void overview_render(struct request *req, struct response *resp, struct project *p_, int status,
			    struct json_object *errors)
{
	struct project p = *p_; /* borrowed: the caller frees */
	struct json_object *ctx = ctx_of(&p);
	if (errors) {
		json_object_object_add(ctx, "errors", errors);
		json_object_object_add(ctx, "f_rename", js(req_form(req, "name")));
		json_object_object_add(ctx, "f_confirm", js(req_form(req, "confirm")));
	}
	int n, pending;
	if (projects_pending(&pending, &n, &p, &req->err) == 0)
		json_object_object_add(ctx, "file_count", json_object_new_int(n));
	err_clear(&req->err);
	json_object_object_add(ctx, "pending", json_object_new_int(pending));
	struct sync_run *h;
	int nh;
	const char *last_run = NULL;
	if (store_sync_list(&h, &nh, g_app.db, p.id, 5, 0, &req->err) == 0) {
		struct json_object *a = json_object_new_array();
		for (int i = 0; i < nh; i++)
			json_object_array_add(a, web_sync_json(&h[i], 0));
		json_object_object_add(ctx, "recent", a);
		if (nh)
			last_run = arena_strdup(req->arena, h[0].status);
		store_syncs_free(h, nh);
	}
	err_clear(&req->err);
	/* Codes, not text: a link must not be able to put words on this page. A queued sync is said only
	 * while it is queued or running: once it ended the status says how (and "nothing to sync" when it
	 * found nothing to send). */
	const char *d = req_query(req, "done"), *flash = NULL;
	int busy = strcmp(p.status, "SYNCING") == 0 || strcmp(p.status, "PENDING") == 0;
	/* While an operator pauses syncing the queued job waits: saying "Checking GitHub…" would be untrue. */
	struct json_object *paused = web_pause_json(p.id);
	if (d && (strcmp(d, "sync") == 0 || strcmp(d, "nothing") == 0)) {
		if (busy && paused)
			flash = strcmp(d, "nothing") == 0 ? "Nothing to send: every file is on GitHub already. Syncing is paused: "
							    "GitHub's new commits are checked for when it resumes."
							  : "Sync queued: it runs when syncing resumes.";
		else if (busy)
			flash = strcmp(d, "nothing") == 0 ? "Nothing to sync: every file is on GitHub already. Checking GitHub "
							    "for new commits…" : "Sync queued.";
		else if (last_run && strcmp(last_run, "nochange") == 0)
			flash = "Nothing to sync: this project and GitHub were the same already.";
	} else if (d) {
		static const char *const done[][2] = {
			{ "cancelled", "Connecting was cancelled." },
			{ "disconnected", "Disconnected. The repository and everything in it stay on GitHub." },
			{ "renamed", "The project was renamed." },
			{ "transferred", "Ownership transferred: the new owner's GitHub connection is used from now on; you "
					 "stay as a maintainer." },
		};
		for (size_t i = 0; i < sizeof done / sizeof done[0]; i++)
			if (strcmp(d, done[i][0]) == 0)
				flash = done[i][1];
	}
	if (flash)
		json_object_object_add(ctx, "flash", js(flash));
	/* A queued sync says when it runs: a batched one waits its batch timeout (minutes), and a page
	 * that only said "PENDING" left people guessing. */
	double run_at = 0;
	if (strcmp(p.status, "PENDING") == 0 && projects_next_sync(&run_at, g_app.db, &p, &req->err) == 0 && run_at > 0) {
		time_t t = (time_t)run_at, now = time(NULL);
		struct tm tm;
		char hm[16];
		gmtime_r(&t, &tm);
		strftime(hm, sizeof hm, "%H:%M", &tm);
		long long mins = t > now ? ((long long)(t - now) + 59) / 60 : 0;
		json_object_object_add(ctx, "next_sync", js(mins > 0 ? arena_printf(req->arena, "Runs at %s UTC (in %lld min).", hm, mins)
							      : "Waiting for a worker…"));
	}
	err_clear(&req->err);
	json_object_object_add(ctx, "paused", paused); /* page-admin.c: "paused by an operator" */
	render_page(req, resp, status, "project", title_of(req, &p, NULL), ctx);
}

/* GET /projects/{id} → 200 | 404 */
int page_project(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	overview_render(req, resp, p, 200, NULL);
	return 0;
}

/* POST /projects/{id}/sync → 303 | 404 | 409 not connected */
int page_project_sync(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *trigger = req_form(req, "retry") ? "retry" : "manual";
	int pending = 1, n;
	struct err pe = { 0 };
	if (projects_pending(&pending, &n, p, &pe))
		pending = 1;
	rc = projects_sync_enqueue(NULL, g_app.db, p, trigger, 0, &req->err);
	if (!rc) /* still queued: a manual sync also brings GitHub's new commits in */
		go(req, resp, p->id, pending ? "?done=sync" : "?done=nothing");
	return rc;
}

/* POST /projects/{id}/rename (name) → 303 | 422 the page with the error at the name */
int page_project_rename(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	rc = projects_rename(g_app.db, p, req_form(req, "name"), &req->err);
	if (rc == ERR_INVALID) {
		struct json_object *fe = json_object_new_object();
		json_object_object_add(fe, "rename", js(req->err.msg));
		err_clear(&req->err);
		overview_render(req, resp, p, 422, fe);
		rc = 0;
	} else if (!rc)
		go(req, resp, p->id, "?done=renamed");
	return rc;
}

/* POST /projects/{id}/delete (confirm = the project's name) → 303 to /projects?done=deleted | 422 the page with
 * the error at the confirm field */
int page_project_delete(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *c = req_form(req, "confirm");
	if (!c || strcmp(c, p->name) != 0) {
		struct json_object *fe = json_object_new_object();
		json_object_object_add(fe, "confirm", js(c && *c ? "That is not the project's name: nothing was deleted. "
							 "Type it exactly as shown." : "Type the project's name to confirm the deletion."));
		overview_render(req, resp, p, 422, fe);
	} else if ((rc = projects_delete(g_app.db, p, &req->err)) == 0) {
		resp_redirect(resp, 303, "/projects?done=deleted");
	}
	return rc;
}

/* ---------------------------------------------------------------- files */

static const char *delete_note(struct request *req, const struct project *p);

/* Sizes as people read them, in the binary units the limits are said in: 83 B, 4.2 KiB, 12.0 MiB. */
static const char *size_text(struct request *req, long long n)
{
	if (n < 1024)
		return arena_printf(req->arena, "%lld B", n);
	if (n < 1024LL * 1024)
		return arena_printf(req->arena, "%.1f KiB", (double)n / 1024);
	if (n < 1024LL * 1024 * 1024)
		return arena_printf(req->arena, "%.1f MiB", (double)n / (1024.0 * 1024));
	return arena_printf(req->arena, "%.1f GiB", (double)n / (1024.0 * 1024 * 1024));
}

/* s percent-encoded for a query string (the template HTML-escapes the link after). */
static const char *qenc(struct request *req, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *u = arena_alloc(req->arena, strlen(s) * 3 + 1), *o = u;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("-._~/", *c)) {
			*o++ = (char)*c;
		} else {
			*o++ = '%';
			*o++ = hex[*c >> 4];
			*o++ = hex[*c & 15];
		}
	}
	*o = '\0';
	return u;
}

/* A folder as typed ("docs/guide/", "/docs"): the slashes at either end trimmed, "" for the top folder.
 * NULL (e says why) when it is not a folder path a file may be written under. */
static const char *folder_norm(struct request *req, const char *s, struct err *e)
{
	if (!s)
		return "";
	while (*s == '/')
		s++;
	size_t n = strlen(s);
	while (n && s[n - 1] == '/')
		n--;
	char *d = arena_alloc(req->arena, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	if (n && project_path_check(d, e)) {
		/* The same rules as a file path, said of a folder. */
		char *w = strstr(e->msg, "file path"), tail[sizeof e->msg];
		if (w) {
			snprintf(tail, sizeof tail, "%s", w + 4);
			snprintf(w, sizeof e->msg - (size_t)(w - e->msg), "folder%s", tail);
		}
		return NULL;
	}
	return d;
}

static const char *files_url(struct request *req, const struct project *p, const char *dir, const char *q, int page)
{
	return arena_printf(req->arena, "/projects/%lld/files%s%s%s%s%s", p->id, *dir || (q && *q) || page > 1 ? "?" : "",
			    *dir ? arena_printf(req->arena, "dir=%s", qenc(req, dir)) : "",
			    q && *q ? arena_printf(req->arena, "%sq=%s", *dir ? "&" : "", qenc(req, q)) : "",
			    page > 1 && (*dir || (q && *q)) ? "&" : "", page > 1 ? arena_printf(req->arena, "page=%d", page) : "");
}

#define FILES_PER_PAGE 100

/* One file's row: what the list says of it (kept from before: links, skipped, LFS, left out), its name
 * in this view, its size in units and its version (for the delete form). */
static struct json_object *file_row(struct request *req, struct ws_file *f, const char *name)
{
	struct json_object *x = json_object_new_object();
	json_object_object_add(x, "path", js(f->path));
	json_object_object_add(x, "name", js(name));
	json_object_object_add(x, "status", js(f->status));
	json_object_object_add(x, "size", f->size >= 0 ? json_object_new_int64(f->size) : NULL);
	if (f->size >= 0)
		json_object_object_add(x, "size_text", js(size_text(req, f->size)));
	/* Only regular files open and delete here: GitHub's links are read-only, other things never synced. */
	int link = strcmp(f->kind, "symlink") == 0 && strcmp(f->status, "skipped") != 0;
	int file = strcmp(f->kind, "file") == 0 && strcmp(f->status, "skipped") != 0;
	json_object_object_add(x, "present", json_object_new_boolean(f->size >= 0 && file));
	json_object_object_add(x, "kind", js(f->kind));
	json_object_object_add(x, "version", js(f->version));
	if (link)
		json_object_object_add(x, "link", json_object_new_boolean(1));
	if (f->target)
		json_object_object_add(x, "target", js(f->target));
	if (strcmp(f->status, "skipped") == 0 && !file)
		json_object_object_add(x, "skipped", json_object_new_boolean(1));
	if (f->lfs)
		json_object_object_add(x, "lfs", json_object_new_boolean(1));
	if (f->refused)
		json_object_object_add(x, "left_out", js(f->refused));
	return x;
}

/* The files page: one folder at a time (?dir=docs/guide: its folders first, then its files, with a
 * breadcrumb), or with ?q= every file under the folder whose path holds q (any case); 100 rows a page
 * (?page=). Versions are read for the rows shown only (a new or changed file costs a read). */
static int files_render(struct request *req, struct response *resp, struct project *p, int status, const char *error,
			const char *flash)
{
	struct err de = { 0 };
	const char *dir = folder_norm(req, req_query(req, "dir"), &de), *q = req_query(req, "q");
	int page = 1;
	if (!dir) {
		dir = "";
		if (!error) {
			error = arena_strdup(req->arena, de.msg);
			status = 400;
		}
	}
	if (!web_page_param(&page, req_query(req, "page")))
		page = 1;
	int search = q && *q;
	struct json_object *ctx = ctx_of(p), *a = json_object_new_array();
	struct ws_file *f;
	int n;
	int rc = projects_files(&f, &n, p, &req->err);
	if (rc) {
		json_object_put(ctx);
		json_object_put(a);
		return rc;
	}
	/* Rows: folders (name, files, bytes, not synced) and then files, as indexes into f. */
	size_t dl = strlen(dir);
	struct folder { const char *name; int files, changed; long long bytes; } *dirs = arena_alloc(req->arena, sizeof *dirs * (size_t)(n + 1));
	int *files = arena_alloc(req->arena, sizeof *files * (size_t)(n + 1)), nd = 0, nf = 0, in_dir = 0;
	for (int i = 0; i < n; i++) {
		const char *path = f[i].path;
		if (dl && !(strncmp(path, dir, dl) == 0 && path[dl] == '/'))
			continue;
		const char *rest = dl ? path + dl + 1 : path;
		in_dir++;
		if (search) {
			if (strcasestr(rest, q))
				files[nf++] = i;
			continue;
		}
		const char *slash = strchr(rest, '/');
		if (!slash) {
			files[nf++] = i;
			continue;
		}
		/* A folder's paths are next to each other in the sorted list. */
		size_t l = (size_t)(slash - rest);
		if (!nd || strlen(dirs[nd - 1].name) != l || strncmp(dirs[nd - 1].name, rest, l) != 0) {
			char *nm = arena_alloc(req->arena, l + 1);
			memcpy(nm, rest, l);
			nm[l] = '\0';
			dirs[nd++] = (struct folder){ nm, 0, 0, 0 };
		}
		struct folder *d = &dirs[nd - 1];
		d->files++;
		d->bytes += f[i].size > 0 ? f[i].size : 0;
		d->changed += strcmp(f[i].status, "new") == 0 || strcmp(f[i].status, "modified") == 0 ||
			      strcmp(f[i].status, "deleted") == 0;
	}
	int total = nd + nf, pages = total ? (total + FILES_PER_PAGE - 1) / FILES_PER_PAGE : 1;
	if (page > pages)
		page = pages;
	int from = (page - 1) * FILES_PER_PAGE, to = from + FILES_PER_PAGE < total ? from + FILES_PER_PAGE : total;
	for (int r = from; r < to; r++) {
		if (r < nd) {
			struct folder *d = &dirs[r];
			struct json_object *x = json_object_new_object();
			const char *full = dl ? arena_printf(req->arena, "%s/%s", dir, d->name) : d->name;
			json_object_object_add(x, "folder", json_object_new_boolean(1));
			json_object_object_add(x, "name", js(d->name));
			json_object_object_add(x, "url", js(files_url(req, p, full, NULL, 1)));
			json_object_object_add(x, "size_text", js(size_text(req, d->bytes)));
			json_object_object_add(x, "count_text", js(arena_printf(req->arena, "%d file%s%s", d->files, d->files == 1 ? "" : "s",
									       d->changed ? arena_printf(req->arena, ", %d not synced", d->changed) : "")));
			if (d->changed)
				json_object_object_add(x, "changed", json_object_new_boolean(1));
			json_object_array_add(a, x);
			continue;
		}
		int i = files[r - nd];
		projects_files_versions(f, i, i + 1, p);
		json_object_array_add(a, file_row(req, &f[i], dl ? f[i].path + dl + 1 : f[i].path));
	}
	git_workspace_files_free(f, n);
	json_object_object_add(ctx, "files", a);
	/* Where we are: the breadcrumb, the filter, the pages. */
	json_object_object_add(ctx, "dir", js(dir));
	json_object_object_add(ctx, "dir_url", js(qenc(req, dir)));
	json_object_object_add(ctx, "q", js(q));
	json_object_object_add(ctx, "search", json_object_new_boolean(search));
	if (*dir) {
		struct json_object *crumbs = json_object_new_array();
		for (const char *s = dir;;) {
			const char *slash = strchr(s, '/');
			const char *upto = arena_printf(req->arena, "%.*s", (int)(slash ? slash - dir : (long)dl), dir);
			struct json_object *c = json_object_new_object();
			json_object_object_add(c, "name", js(arena_printf(req->arena, "%.*s", (int)(slash ? slash - s : (long)strlen(s)), s)));
			json_object_object_add(c, "url", js(files_url(req, p, upto, NULL, 1)));
			if (!slash)
				json_object_object_add(c, "current", json_object_new_boolean(!search));
			json_object_array_add(crumbs, c);
			if (!slash)
				break;
			s = slash + 1;
		}
		json_object_object_add(ctx, "crumbs", crumbs);
		json_object_object_add(ctx, "top_url", js(files_url(req, p, "", NULL, 1)));
		json_object_object_add(ctx, "new_path", js(arena_printf(req->arena, "%s/", dir)));
	}
	if (search)
		json_object_object_add(ctx, "clear_url", js(files_url(req, p, dir, NULL, 1)));
	json_object_object_add(ctx, "summary", js(search ? arena_printf(req->arena, "%d of %d file%s match “%s”.", nf, in_dir, in_dir == 1 ? "" : "s", q)
						 : arena_printf(req->arena, "%s%d file%s%s.", nd ? arena_printf(req->arena, "%d folder%s, ", nd, nd == 1 ? "" : "s") : "", nf, nf == 1 ? "" : "s",
								in_dir > nf ? arena_printf(req->arena, " (%d in all, with sub-folders)", in_dir) : "")));
	if (pages > 1) {
		struct json_object *pl = json_object_new_array();
		for (int i = 1; i <= pages; i++) {
			/* the first, the last, and those near this one */
			if (i != 1 && i != pages && (i < page - 3 || i > page + 3)) {
				if (i == page - 4 || i == page + 4) {
					struct json_object *g = json_object_new_object();
					json_object_object_add(g, "gap", json_object_new_boolean(1));
					json_object_array_add(pl, g);
				}
				continue;
			}
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "n", json_object_new_int(i));
			json_object_object_add(o, "url", js(files_url(req, p, dir, q, i)));
			if (i == page)
				json_object_object_add(o, "current", json_object_new_boolean(1));
			json_object_array_add(pl, o);
		}
		json_object_object_add(ctx, "pages", pl);
		if (page > 1)
			json_object_object_add(ctx, "prev_url", js(files_url(req, p, dir, q, page - 1)));
		if (page < pages)
			json_object_object_add(ctx, "next_url", js(files_url(req, p, dir, q, page + 1)));
		json_object_object_add(ctx, "page_text", js(arena_printf(req->arena, "Page %d of %d: rows %d–%d of %d.", page, pages,
									  from + 1, to, total)));
	}
	/* The upload form again as it was sent (its folder), else this folder. */
	const char *typed = req_form(req, "folder");
	json_object_object_add(ctx, "f_folder", js(typed ? typed : dir));
	json_object_object_add(ctx, "delete_note", js(delete_note(req, p)));
	if (error)
		json_object_object_add(ctx, "form_error", js(error));
	if (flash)
		json_object_object_add(ctx, "flash", js(flash));
	render_page(req, resp, status, "project-files", title_of(req, p, *dir ? arena_printf(req->arena, "Files in %s", dir) : "Files"), ctx);
	return 0;
}

/* GET /projects/{id}/files → 200 | 404 */
int page_project_files(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	/* Codes, not text: a link must not be able to put words on this page. */
	const char *d = req_query(req, "done"), *flash = NULL;
	static const char *const done[][2] = {
		{ "saved", "Saved." }, { "deleted", "The file was deleted." }, { "uploaded", "The files were uploaded." },
	};
	for (size_t i = 0; d && i < sizeof done / sizeof done[0]; i++)
		if (strcmp(d, done[i][0]) == 0)
			flash = done[i][1];
	rc = files_render(req, resp, p, 200, NULL, flash);
	return rc;
}

static int is_text(const char *d, size_t n)
{
	return memchr(d, '\0', n) == NULL && utf8_valid(d, n);
}

/* GET /projects/{id}/files/{path*} → 200 view/edit | 404. GET /projects/{id}/new → an empty editor. */
int page_project_file(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *path = req_param(req, "path");
	struct json_object *ctx = ctx_of(p);
	if (path) {
		char *data = NULL;
		size_t len = 0;
		if ((rc = projects_file_get(&data, &len, p, path, &req->err))) {
			json_object_put(ctx);
			return rc;
		}
		char *link = NULL, *target = NULL;
		if (git_workspace_link_of(&link, &target, p->workspace, path)) {
			/* A link kept from GitHub: shown, never edited here. */
			json_object_object_add(ctx, "link", json_object_new_boolean(1));
			json_object_object_add(ctx, "target", js(target ? target : ""));
		}
		free(link);
		free(target);
		json_object_object_add(ctx, "path", js(path));
		json_object_object_add(ctx, "size", json_object_new_int64((long long)len));
		/* The version the editor started from: a save answers 409 if the file changed meanwhile. */
		char version[41];
		git_blob_version(version, data, len);
		json_object_object_add(ctx, "version", js(version));
		if (projects_file_lfs(p, path))
			/* The folder holds the content (git/lfs.c's filter); the page says where git keeps it. */
			json_object_object_add(ctx, "lfs", json_object_new_boolean(1));
		if (is_text(data, len) && len <= 1024 * 1024)
			json_object_object_add(ctx, "content", json_object_new_string_len(data, (int)len));
		else
			json_object_object_add(ctx, "binary", json_object_new_boolean(1));
		free(data);
	} else {
		/* New: version "" saves only where there is no file yet. Opened from a folder: the path starts there. */
		struct err de = { 0 };
		const char *dir = folder_norm(req, req_query(req, "dir"), &de);
		json_object_object_add(ctx, "is_new", json_object_new_boolean(1));
		json_object_object_add(ctx, "content", js(""));
		json_object_object_add(ctx, "version", js(""));
		if (dir && *dir)
			json_object_object_add(ctx, "path", js(arena_printf(req->arena, "%s/", dir)));
	}
	render_page(req, resp, 200, "project-file", title_of(req, p, path ? path : "New file"), ctx);
	return 0;
}

/* The version a form started from (project_file_ok_fn): "" when it made a new file (there must be none). */
static int version_ok(void *arg, const char *current)
{
	const char *v = arg;
	return *v ? current && strcmp(current, v) == 0 : current == NULL;
}

/* Where the files page shows path: its folder. */
static const char *folder_of(struct request *req, const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? arena_printf(req->arena, "/files?dir=%s&done=saved",
				    qenc(req, arena_printf(req->arena, "%.*s", (int)(slash - path), path)))
		     : "/files?done=saved";
}

/* The editor again after a save that found the file changed since the editor was opened (409): the
 * person's text kept, what differs between the file now and their text, and two choices: save theirs over
 * it (the form carries the current version now) or keep the file as it is (discarding theirs). */
static void conflict_render(struct request *req, struct response *resp, struct project *p, const char *path,
			    const char *mine, size_t minelen, const char *current, int was_new)
{
	struct json_object *ctx = ctx_of(p);
	json_object_object_add(ctx, "path", js(path));
	json_object_object_add(ctx, "content", js(mine));
	json_object_object_add(ctx, "version", js(current));
	json_object_object_add(ctx, "conflict", json_object_new_boolean(1));
	json_object_object_add(ctx, "form_error", js(req->err.msg));
	if (was_new)
		json_object_object_add(ctx, "was_new", json_object_new_boolean(1));
	if (!*current) {
		json_object_object_add(ctx, "conflict_deleted", json_object_new_boolean(1));
	} else {
		char *theirs = NULL;
		size_t tl = 0;
		struct err e = { 0 };
		if (projects_file_get(&theirs, &tl, p, path, &e) == 0 && is_text(theirs, tl)) {
			struct json_object *d = git_text_diff(theirs, tl, mine, minelen), *k;
			/* A hunk's header is shown as it is ("@@ -1,5 +1,5 @@"), other lines after their mark. */
			for (size_t i = 0; i < json_object_array_length(d); i++) {
				struct json_object *l = json_object_array_get_idx(d, i);
				if (json_object_object_get_ex(l, "kind", &k) && strcmp(json_object_get_string(k), "hunk") == 0)
					json_object_object_add(l, "hunk", json_object_new_boolean(1));
			}
			json_object_object_add(ctx, "diff", d);
		} else {
			json_object_object_add(ctx, "theirs_binary", json_object_new_boolean(1));
		}
		free(theirs);
		json_object_object_add(ctx, "theirs_url", js(arena_printf(req->arena, "/projects/%lld/files/%s", p->id, path)));
	}
	render_page(req, resp, 409, "project-file", title_of(req, p, path), ctx);
}

/* POST /projects/{id}/files (path, content, version) → 303 to the files | 400 bad path (form again) | 413 |
 * 409 the file changed (or appeared, for version "") since the form was opened: the editor again with the
 * text kept, the difference and the choices (conflict_render). Without a version field: saved whatever is
 * there (as before). */
int page_project_file_save(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *path = req_form(req, "path"), *content = req_form(req, "content");
	if (!content)
		content = "";
	/* Browsers send textarea lines with CRLF; files keep the LF the user sees. */
	size_t n = strlen(content);
	char *c = arena_alloc(req->arena, n + 1), *o = c;
	for (size_t i = 0; i < n; i++)
		if (!(content[i] == '\r' && content[i + 1] == '\n'))
			*o++ = content[i];
	*o = '\0';
	const char *version = req_form(req, "version");
	char current[41] = "";
	rc = projects_file_put_if(g_app.db, p, req->user->user_id, path, c, (size_t)(o - c), version ? version_ok : NULL,
				  (void *)version, current, &req->err);
	if (rc == ERR_PRECONDITION) {
		conflict_render(req, resp, p, path, c, (size_t)(o - c), current, version && !*version);
		rc = 0;
	} else if (rc == ERR_INVALID || rc == ERR_TOOBIG || rc == ERR_CONFLICT) {
		struct json_object *ctx = ctx_of(p);
		json_object_object_add(ctx, "is_new", json_object_new_boolean(1));
		json_object_object_add(ctx, "path", js(path));
		json_object_object_add(ctx, "content", js(c));
		json_object_object_add(ctx, "version", js(version));
		json_object_object_add(ctx, "form_error", js(req->err.msg));
		render_page(req, resp, rc == ERR_TOOBIG ? 413 : 400, "project-file", title_of(req, p, "New file"), ctx);
		rc = 0;
	} else if (!rc) {
		go(req, resp, p->id, folder_of(req, path));
	}
	return rc;
}

/* POST /projects/{id}/upload (multipart: folder, files…) → 303 | 400/413 with the file list and the reason */
int page_project_upload(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	/* "docs/guide/" is the folder docs/guide; a folder no file may be under is said before any upload. */
	const char *folder = folder_norm(req, req_form(req, "folder"), &req->err);
	int saved = 0;
	if (!folder) {
		rc = files_render(req, resp, p, 400, req->err.msg, NULL);
		return rc;
	}
	for (size_t i = 0; i < req->form.n && !rc; i++) {
		const struct kv *kv = &req->form.items[i];
		if (!kv->filename || !*kv->filename)
			continue;
		const char *base = strrchr(kv->filename, '/');
		base = base ? base + 1 : kv->filename;
		const char *path = folder && *folder ? arena_printf(req->arena, "%s/%s", folder, base) : base;
		rc = projects_file_put(g_app.db, p, req->user->user_id, path, kv->value, kv->value_len, &req->err);
		saved += rc == 0;
	}
	if (rc == ERR_INVALID || rc == ERR_TOOBIG || rc == ERR_CONFLICT) {
		const char *msg = arena_printf(req->arena, "%s%s", req->err.msg,
					       saved ? arena_printf(req->arena, " (%d file(s) before it were saved)", saved) : "");
		rc = files_render(req, resp, p, rc == ERR_TOOBIG ? 413 : 400, msg, NULL);
	} else if (!rc && !saved) {
		rc = files_render(req, resp, p, 400, "Choose one or more files to upload.", NULL);
	} else if (!rc) {
		go(req, resp, p->id, *folder ? arena_printf(req->arena, "/files?dir=%s&done=uploaded", qenc(req, folder))
					    : "/files?done=uploaded");
	}
	return rc;
}

/* What deleting a file does to GitHub's side, for its confirmation (the page and the dialog say the same). */
static const char *delete_note(struct request *req, const struct project *p)
{
	if (!p->repo_owner)
		return "This project is not connected to GitHub: the file is deleted from this server only.";
	if (!p->auto_sync)
		return arena_printf(req->arena, "Auto-sync is off: the file is deleted from %s/%s (branch %s) at the next "
				    "Sync now.", p->repo_owner, p->repo_name, projects_branch(p));
	if (p->batch_minutes > 0)
		return arena_printf(req->arena, "Auto-sync is on: the file is deleted from %s/%s (branch %s) too, in about "
				    "%d minute(s).", p->repo_owner, p->repo_name, projects_branch(p), p->batch_minutes);
	return arena_printf(req->arena, "Auto-sync is on: the file is deleted from %s/%s (branch %s) too, within "
			    "seconds.", p->repo_owner, p->repo_name, projects_branch(p));
}

/* POST /projects/{id}/files-delete (path, confirm=1) → 303 | 200 the confirm page without confirm=1 | 404 */
int page_project_file_delete(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *path = req_form(req, "path");
	if (!web_confirmed(req)) {
		/* Refused at once when there is nothing to delete (404, or 409 for a link kept from GitHub). */
		if ((rc = projects_file_deletable(p, path, &req->err))) {
			return rc;
		}
		render_confirm(req, resp, arena_printf(req->arena, "Delete %s?", path),
			       arena_printf(req->arena, "The file %s is deleted from the project “%s”.", path, p->name),
			       delete_note(req, p), "Delete the file", arena_printf(req->arena, "/projects/%lld/files", p->id));
		return 0;
	}
	err_clear(&req->err);
	/* The version the list showed: a file changed since is not deleted unseen. */
	const char *version = req_form(req, "version");
	char current[41];
	rc = projects_file_delete_if(g_app.db, p, req->user->user_id, path, version && *version ? version_ok : NULL,
				     (void *)version, current, &req->err);
	if (rc == ERR_PRECONDITION)
		rc = files_render(req, resp, p, 409, arena_printf(req->arena, "%s It was not deleted: open it to see what "
								    "changed, then delete it if you still want to.", req->err.msg), NULL);
	else if (!rc)
		go(req, resp, p->id, "/files?done=deleted");
	return rc;
}

/* ---------------------------------------------------------------- connect */

static const char *age_text(struct request *req, long long s)
{
	if (s < 60)
		return "just now";
	if (s < 3600)
		return arena_printf(req->arena, "%lld minute%s ago", s / 60, s / 60 == 1 ? "" : "s");
	if (s < 86400)
		return arena_printf(req->arena, "%lld hour%s ago", s / 3600, s / 3600 == 1 ? "" : "s");
	return arena_printf(req->arena, "%lld day%s ago", s / 86400, s / 86400 == 1 ? "" : "s");
}

/* "Link an existing repository": the user's repositories with push access from the cache, searched (q)
 * and paged (page). GitHub is not called here: a refresh job fills the cache, and the page says when the
 * list is loading or updating (static/app.js follows it; without JS a link reloads). */
static void repos_into(struct json_object *ctx, struct request *req, const struct project *self)
{
	const char *q = req_query(req, "q");
	int page = 1;
	struct err e = { 0 };
	struct ghrepos_page pg;
	json_object_object_add(ctx, "q", js(q));
	if (q && *q) {
		/* For the paging links: percent-encoded here, HTML-escaped by the template. */
		static const char hex[] = "0123456789ABCDEF";
		char *u = arena_alloc(req->arena, strlen(q) * 3 + 1), *o = u;
		for (const unsigned char *c = (const unsigned char *)q; *c; c++) {
			if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("-._~", *c)) {
				*o++ = (char)*c;
			} else {
				*o++ = '%';
				*o++ = hex[*c >> 4];
				*o++ = hex[*c & 15];
			}
		}
		*o = '\0';
		json_object_object_add(ctx, "q_url", js(u));
	}
	if (!web_page_param(&page, req_query(req, "page"))) {
		json_object_object_add(ctx, "repos_error", js("page is a whole number from 1 to 1000."));
		return;
	}
	if (ghrepos_list(&pg, g_app.db, req->user->user_id, q, page, &e)) {
		json_object_object_add(ctx, "repos_error", js(e.msg));
		return;
	}
	int refreshing = strcmp(pg.state, "refreshing") == 0, failed = strcmp(pg.state, "failed") == 0;
	json_object_object_add(ctx, "repos_refreshing", json_object_new_boolean(refreshing));
	json_object_object_add(ctx, "repos_loading", json_object_new_boolean(refreshing && pg.never_read));
	if (failed)
		json_object_object_add(ctx, "repos_error", js(pg.error));
	else if (pg.error)
		json_object_object_add(ctx, "repos_note", js(pg.error)); /* a refresh waiting on GitHub: why */
	if (pg.age_seconds >= 0)
		json_object_object_add(ctx, "repos_age", js(age_text(req, pg.age_seconds)));
	/* A repository another of the user's projects is connected to is shown as such, without a Link button:
	 * ghbridge links a repository to one project only (projects_repo_in_use). */
	struct project *mine = NULL;
	int nmine = 0;
	if (projects_list(&mine, &nmine, g_app.db, req->user->user_id, &e))
		nmine = 0;
	struct json_object *a = json_object_new_array();
	for (int i = 0; i < pg.n; i++) {
		struct json_object *r = web_ghrepo_json(&pg.items[i]), *fn;
		const char *full = json_object_object_get_ex(r, "full_name", &fn) ? json_object_get_string(fn) : "";
		for (int k = 0; k < nmine; k++) {
			if (mine[k].id == self->id || !mine[k].repo_owner)
				continue;
			const char *other = arena_printf(req->arena, "%s/%s", mine[k].repo_owner, mine[k].repo_name);
			if (strcasecmp(other, full) == 0) {
				json_object_object_add(r, "in_use", js(mine[k].name));
				json_object_object_add(r, "in_use_id", json_object_new_int64(mine[k].id));
			}
		}
		json_object_array_add(a, r);
	}
	if (nmine)
		store_projects_free(mine, nmine);
	json_object_object_add(ctx, "repos", a);
	json_object_object_add(ctx, "repos_none", json_object_new_boolean(pg.n == 0 && !pg.never_read));
	json_object_object_add(ctx, "page", json_object_new_int(page));
	if (page > 1)
		json_object_object_add(ctx, "prev_page", json_object_new_int(page - 1));
	if (pg.has_next)
		json_object_object_add(ctx, "next_page", json_object_new_int(page + 1));
	json_object_object_add(ctx, "truncated", json_object_new_boolean(pg.truncated));
	ghrepos_page_free(&pg);
}

static void connect_render(struct request *req, struct response *resp, struct project *p, int status, const char *error,
			   const char *field)
{
	struct json_object *ctx = ctx_of(p);
	json_object_object_add(ctx, "login", js(req->user->login));
	const char *fields[] = { "mode", "owner", "name", "description" };
	for (size_t i = 0; i < 4; i++)
		if (req_form(req, fields[i]))
			json_object_object_add(ctx, arena_printf(req->arena, "f_%s", fields[i]), js(req_form(req, fields[i])));
	/* A failed create comes back in its form, to be corrected. */
	if (!req_form(req, "name") && p->connect_repo && p->connect_state && strcmp(p->connect_state, "failed") == 0 &&
	    p->connect_mode && strcmp(p->connect_mode, "create") == 0) {
		const char *slash = strchr(p->connect_repo, '/');
		if (slash) {
			json_object_object_add(ctx, "f_owner", js(arena_printf(req->arena, "%.*s", (int)(slash - p->connect_repo),
									       p->connect_repo)));
			json_object_object_add(ctx, "f_name", js(slash + 1));
		}
	}
	/* A refused create goes back to its form with the error at the field it is about; others (a Link
	 * button's refusal, GitHub not connected) are said above the forms. */
	const char *mode = req_form(req, "mode");
	if (error && field && *field && mode && strcmp(mode, "create") == 0) {
		struct json_object *fe = json_object_new_object();
		json_object_object_add(fe, field, js(error));
		json_object_object_add(ctx, "c_errors", fe);
	} else if (error) {
		json_object_object_add(ctx, "form_error", js(error));
	}
	if (!p->repo_owner)
		repos_into(ctx, req, p);
	render_page(req, resp, status, "project-connect", title_of(req, p, "Connect"), ctx);
}

/* GET /projects/{id}/connect → 200 */
int page_project_connect(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	connect_render(req, resp, p, 200, NULL, NULL);
	return 0;
}

/* POST /projects/{id}/connect (mode, owner, name, private, description) → 303 to the project page, which
 * follows the connect job ("Connecting to owner/name…", then the result) | 4xx with the form and the reason
 * (bad input, already connected or connecting, GitHub not connected) | 404 */
int page_project_connect_post(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *priv = req_form(req, "private");
	rc = projects_connect(g_app.db, p, req->user->user_id, req_form(req, "mode"), req_form(req, "owner"),
			      req_form(req, "name"), priv && strcmp(priv, "0") != 0, req_form(req, "description"), NULL,
			      &req->err);
	if (rc && rc != ERR_DB && rc != ERR_FAIL) {
		int st = http_status_for_err(rc);
		connect_render(req, resp, p, st == 401 ? 409 : st == 400 ? 422 : st, req->err.msg, req->err.field);
		rc = 0;
	} else if (!rc) {
		go(req, resp, p->id, "");
	}
	return rc;
}

/* POST /projects/{id}/disconnect (confirm=1 when connected) → 303 (the GitHub repository is kept; a connect under
 * way is cancelled without confirmation) | 200 the confirm page | 404 */
int page_project_disconnect(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	int was_connected = p->repo_owner != NULL;
	if (was_connected && !web_confirmed(req)) {
		render_confirm(req, resp, arena_printf(req->arena, "Disconnect from %s/%s?", p->repo_owner, p->repo_name),
			       arena_printf(req->arena, "The project “%s” stops syncing with %s/%s.", p->name, p->repo_owner,
					    p->repo_name),
			       "The repository and everything in it stay on GitHub; the project's files stay here. You can "
			       "connect again later.", "Disconnect", arena_printf(req->arena, "/projects/%lld/connect", p->id));
		return 0;
	}
	rc = projects_disconnect(g_app.db, p, &req->err);
	if (!rc)
		go(req, resp, p->id, was_connected ? "?done=disconnected" : "?done=cancelled");
	return rc;
}

/* POST /projects/{id}/repos/refresh → 303 to the connect page, whose list then shows it is updating | 404 */
int page_project_repos_refresh(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	long long job = 0;
	rc = ghrepos_refresh(&job, g_app.db, req->user->user_id, &req->err);
	if (!rc)
		go(req, resp, p->id, "/connect#link");
	return rc;
}

/* ---------------------------------------------------------------- settings */

static void settings_render(struct request *req, struct response *resp, struct project *p,
			    const struct project_settings *s, struct json_object *field_errors, int status)
{
	struct json_object *ctx = ctx_of(p), *f = json_object_new_object();
	json_object_object_add(f, "auto_sync", json_object_new_boolean(s->auto_sync));
	json_object_object_add(f, "pull_enabled", json_object_new_boolean(s->pull_enabled));
	json_object_object_add(f, "batch_minutes", json_object_new_int(s->batch_minutes));
	json_object_object_add(f, "lfs_threshold_mib", json_object_new_int(s->lfs_threshold_mib));
	json_object_object_add(f, "sync_branch", js(s->sync_branch));
	json_object_object_add(f, "commit_template", js(s->commit_template));
	json_object_object_add(f, "excludes", js(s->excludes));
	json_object_object_add(f, "default_branch", js(p->repo_default_branch ? p->repo_default_branch : "main"));
	json_object_object_add(ctx, "f", f);
	json_object_object_add(ctx, "errors", field_errors ? field_errors : json_object_new_object());
	/* Previews: the message as the next sync would write it, and the files the saved patterns exclude. */
	char *m = projects_render_message(s->commit_template ? s->commit_template : "", p->name, 3, p->owner_login);
	json_object_object_add(ctx, "preview_message", js(m));
	free(m);
	struct ws_file *files;
	int n;
	struct json_object *ex = json_object_new_array();
	struct err e = { 0 };
	if (projects_files(&files, &n, p, &e) == 0) {
		for (int i = 0; i < n; i++)
			if (strcmp(files[i].status, "excluded") == 0)
				json_object_array_add(ex, js(files[i].path));
		git_workspace_files_free(files, n);
	}
	json_object_object_add(ctx, "excluded", ex);
	/* What each saved pattern excludes now, so a pattern that catches too much (or nothing) shows. */
	struct exclude_count *xc;
	int nx, total;
	struct json_object *pats = json_object_new_array();
	int xrc = projects_exclude_counts(&xc, &nx, &total, p, p->exclude_patterns, &e);
	for (int i = 0; i < nx; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "pattern", js(xc[i].pattern));
		if (!xrc) {
			json_object_object_add(o, "files", json_object_new_int(xc[i].files));
			json_object_object_add(o, "none", json_object_new_boolean(xc[i].files == 0));
		}
		json_object_array_add(pats, o);
	}
	projects_exclude_counts_free(xc, nx);
	json_object_object_add(ctx, "patterns", pats);
	json_object_object_add(ctx, "has_patterns", json_object_new_boolean(nx > 0));
	json_object_object_add(ctx, "pattern_total", json_object_new_int(total));
	json_object_object_add(ctx, "patterns_counted", json_object_new_boolean(!xrc));
	if (req_query(req, "done"))
		json_object_object_add(ctx, "flash", js("Settings saved."));
	render_page(req, resp, status, "project-settings", title_of(req, p, "Settings"), ctx);
}

/* GET /projects/{id}/settings → 200 */
int page_project_settings(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	struct project_settings s;
	projects_settings_of(&s, p);
	settings_render(req, resp, p, &s, NULL, 200);
	return 0;
}

/* POST /projects/{id}/settings → 303 | 422 with inline errors, nothing saved */
int page_project_settings_post(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct project_settings s;
	projects_settings_of(&s, p);
	s.auto_sync = req_form(req, "auto_sync") != NULL;
	s.pull_enabled = req_form(req, "pull_enabled") != NULL;
	s.sync_branch = req_form(req, "sync_branch");
	s.commit_template = req_form(req, "commit_template");
	s.excludes = req_form(req, "excludes");
	long long bm;
	/* out of range or not a number: -1, which the settings check refuses with the range */
	s.batch_minutes = web_form_int(&bm, req, "batch_minutes", 0) ? -1 : (int)bm;
	err_clear(&req->err);
	long long lm;
	s.lfs_threshold_mib = web_form_int(&lm, req, "lfs_threshold_mib", 0) ? -1 : (int)lm;
	err_clear(&req->err);
	/* textarea CRLF → LF */
	if (s.excludes) {
		char *x = arena_strdup(req->arena, s.excludes), *o = x;
		for (const char *c = s.excludes; *c; c++)
			if (*c != '\r')
				*o++ = *c;
		*o = '\0';
		s.excludes = x;
	}
	struct json_object *fe = NULL;
	rc = projects_settings_update(g_app.db, p, &s, &fe, &req->err);
	if (rc == ERR_INVALID) {
		settings_render(req, resp, p, &s, fe, 422);
		rc = 0;
	} else if (!rc) {
		go(req, resp, p->id, "/settings?done=1");
	}
	return rc;
}

/* ---------------------------------------------------------------- history */

/* GET /projects/{id}/history?before= → 200 */
int page_project_history(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	long long before;
	struct sync_run *h;
	int n;
	if ((rc = web_query_int(&before, req, "before", 0)) ||
	    (rc = store_sync_list(&h, &n, g_app.db, p->id, 25, before, &req->err))) {
		return rc;
	}
	struct json_object *ctx = ctx_of(p), *a = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct json_object *o = web_sync_json(&h[i], 0);
		if (h[i].commit_sha && p->repo_html_url)
			json_object_object_add(o, "commit_url", js(arena_printf(req->arena, "%s/commit/%s", p->repo_html_url, h[i].commit_sha)));
		/* interrupted: the worker died mid-sync (sql/009); its job retries or was given up. */
		json_object_object_add(o, "failed", json_object_new_boolean(strcmp(h[i].status, "error") == 0 ||
									    strcmp(h[i].status, "interrupted") == 0));
		json_object_object_add(o, "duration", js(h[i].duration_s >= 0 ? arena_printf(req->arena, "%.1f s", h[i].duration_s) : "…"));
		json_object_array_add(a, o);
	}
	json_object_object_add(ctx, "history", a);
	if (n == 25)
		json_object_object_add(ctx, "next_before", json_object_new_int64(h[n - 1].id));
	store_syncs_free(h, n);
	render_page(req, resp, 200, "project-history", title_of(req, p, "History"), ctx);
	return 0;
}

/* GET /projects/{id}/history/{hid} → 200 | 404 */
int page_project_history_one(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	struct sync_run s;
	long long hid;
	if ((rc = web_id_param(&hid, req, "hid")) || (rc = store_sync_get(&s, g_app.db, p->id, hid, &req->err))) {
		return rc;
	}
	struct json_object *ctx = ctx_of(p), *o = web_sync_json(&s, 1);
	if (s.commit_sha && p->repo_html_url)
		json_object_object_add(o, "commit_url", js(arena_printf(req->arena, "%s/commit/%s", p->repo_html_url, s.commit_sha)));
	json_object_object_add(o, "failed", json_object_new_boolean(strcmp(s.status, "error") == 0 ||
								    strcmp(s.status, "interrupted") == 0));
	json_object_object_add(ctx, "run", o);
	render_page(req, resp, 200, "project-sync", title_of(req, p, "Sync"), ctx);
	store_sync_free(&s);
	return 0;
}
