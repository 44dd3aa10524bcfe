/* page-pulls.c: the pull requests panel: list with filters, detail with merge/close/reopen/ready, create form, branches. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "jobs/jobs.h"
#include "service/auth.h"
#include "service/pulls.h"
#include "service/webhooks.h"
#include "web/app.h"

static struct json_object *js(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static struct json_object *ctx_of(const struct project *p)
{
	struct json_object *ctx = json_object_new_object();
	json_object_object_add(ctx, "project", web_project_json(p));
	json_object_object_add(ctx, "sync_branch", js(projects_branch(p)));
	return ctx;
}

static const char *title_of(struct request *req, const struct project *p, const char *what)
{
	return arena_printf(req->arena, "%s · %s", what, p->name);
}

/* "12 s ago", "3 min ago", "2 h ago", "4 days ago". */
static const char *ago(struct request *req, long long s)
{
	if (s < 0)
		return "never";
	if (s < 90)
		return arena_printf(req->arena, "%lld s ago", s);
	if (s < 90 * 60)
		return arena_printf(req->arena, "%lld min ago", s / 60);
	if (s < 36 * 3600)
		return arena_printf(req->arena, "%lld h ago", s / 3600);
	return arena_printf(req->arena, "%lld days ago", s / 86400);
}

/* "2024-05-01T10:20:30Z" → "2024-05-01 10:20". */
static struct json_object *when(const char *iso)
{
	char b[20];
	if (!iso || strlen(iso) < 16)
		return js("");
	snprintf(b, sizeof b, "%.10s %.5s", iso, iso + 11);
	return js(b);
}

/* The API's shape plus what the templates need to show it. */
static struct json_object *pull_view(struct request *req, const struct pull *pr)
{
	struct json_object *o = web_pull_json(pr);
	json_object_object_add(o, "updated", when(pr->gh_updated_at));
	json_object_object_add(o, "merged_at_text", js(web_time_text(req, pr->merged_at)));
	json_object_object_add(o, "is_open", json_object_new_boolean(strcmp(pr->state, "open") == 0));
	/* docs pulls/get: mergeable null means "GitHub has started a background job to compute the
	 * mergeability"; the page says so (and offers a reload) rather than a bare "unknown". */
	json_object_object_add(o, "mergeable_pending",
			       json_object_new_boolean(strcmp(pr->state, "open") == 0 && pr->mergeable < 0));
	json_object_object_add(o, "is_closed", json_object_new_boolean(strcmp(pr->state, "closed") == 0));
	json_object_object_add(o, "is_merged", json_object_new_boolean(strcmp(pr->state, "merged") == 0));
	char s7[8];
	snprintf(s7, sizeof s7, "%.7s", pr->head_sha ? pr->head_sha : "");
	json_object_object_add(o, "short_sha", js(s7));
	/* The description as lines: escaped text keeps its line breaks without raw HTML. */
	struct json_object *lines = json_object_new_array();
	const char *b = pr->body ? pr->body : "";
	while (*b) {
		const char *nl = strchr(b, '\n');
		size_t n = nl ? (size_t)(nl - b) : strlen(b);
		if (n && b[n - 1] == '\r')
			n--;
		json_object_array_add(lines, json_object_new_string_len(b, (int)n));
		b += nl ? (size_t)(nl - b) + 1 : strlen(b);
	}
	json_object_object_add(o, "body_lines", lines);
	return o;
}

static void webhook_note(struct json_object *ctx, struct project *p)
{
	struct webhook w;
	struct err e = { 0 };
	const char *note;
	if (webhooks_status(&w, g_app.db, p, &e) == 0) {
		if (strcmp(w.status, "active") == 0)
			note = "GitHub tells ghbridge about changes (webhook active).";
		else if (strcmp(w.status, "error") == 0)
			note = w.last_error ? w.last_error : "The webhook could not be registered; changes are polled.";
		else
			note = "The webhook is being registered.";
		json_object_object_add(ctx, "webhook_note", js(note));
		json_object_object_add(ctx, "webhook_error", json_object_new_boolean(strcmp(w.status, "error") == 0));
		store_webhook_free(&w);
	} else {
		json_object_object_add(ctx, "webhook_note", js("No webhook: open pull requests are checked on a schedule."));
	}
}

/* ---------------------------------------------------------------- list */

/* What became of a "from pending changes" job (the page reloads itself while it runs). */
static void creating_note(struct request *req, struct response *resp, struct json_object *ctx, struct project *p,
			  const char *job_s)
{
	long long id;
	struct job_row j;
	struct err e = { 0 };
	if (http_num_parse(&id, job_s, 1, LLONG_MAX) || jobs_get(&j, g_app.db, id, &e))
		return;
	if (j.project_id == p->id && strcmp(j.kind, "pulls_create") == 0) {
		struct json_object *c = json_object_new_object(), *pl = json_tokener_parse(j.payload ? j.payload : "{}"), *h;
		const char *head = pl && json_object_object_get_ex(pl, "head", &h) ? json_object_get_string(h) : "";
		if (strcmp(j.state, "done") == 0) {
			struct pull *rows;
			int n;
			if (store_pulls_list(&rows, &n, g_app.db, p->id, "all", head, 1, 0, &e) == 0) {
				if (n)
					json_object_object_add(c, "pull_number", json_object_new_int(rows[0].number));
				store_pulls_free(rows, n);
			}
			json_object_object_add(c, "message", js(arena_printf(req->arena, "The pull request from branch %s is open:", head)));
		} else if (strcmp(j.state, "dead") == 0 || strcmp(j.state, "cancelled") == 0) {
			json_object_object_add(c, "failed", json_object_new_boolean(1));
			json_object_object_add(c, "message", js(arena_printf(req->arena, "The pull request could not be created: %s",
									     j.last_error ? j.last_error : "the job was cancelled.")));
		} else {
			json_object_object_add(c, "message", js(arena_printf(req->arena,
				"Committing your pending changes to %s and opening the pull request… This page reloads by itself.", head)));
			resp_header(resp, "Refresh", "2");
		}
		json_object_put(pl);
		json_object_object_add(ctx, "creating", c);
	}
	store_job_row_free(&j);
}

/* GET /projects/{id}/pulls?state=open|closed|merged|all → 200 | 404 */
int page_pulls(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	static const char *const states[] = { "open", "closed", "merged", "all" };
	static const char *const labels[] = { "Open", "Closed", "Merged", "All" };
	const char *state = req_query(req, "state");
	int si = 0;
	for (int i = 0; i < 4; i++)
		if (state && strcmp(state, states[i]) == 0)
			si = i;
	struct json_object *ctx = ctx_of(p), *filters = json_object_new_array(), *a = json_object_new_array();
	for (int i = 0; i < 4; i++) {
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "name", js(states[i]));
		json_object_object_add(f, "label", js(labels[i]));
		json_object_object_add(f, "active", json_object_new_boolean(i == si));
		json_object_array_add(filters, f);
	}
	json_object_object_add(ctx, "filters", filters);
	json_object_object_add(ctx, "filter_label", js(si == 3 ? "" : states[si]));
	struct pull *rows = NULL;
	int n = 0;
	if ((rc = pulls_list(&rows, &n, g_app.db, p, states[si], NULL, 100, 0, &req->err))) {
		json_object_put(ctx);
		json_object_put(a);
		return rc;
	}
	for (int i = 0; i < n; i++)
		json_object_array_add(a, pull_view(req, &rows[i]));
	store_pulls_free(rows, n);
	json_object_object_add(ctx, "pulls", a);
	if (p->repo_owner) {
		long long age = -1;
		struct err e = { 0 };
		int stale = pulls_list_stale(g_app.db, p, &age, &e);
		if (stale)
			pulls_refresh_enqueue(NULL, g_app.db, p, 0, &e);
		webhooks_ensure(g_app.db, p);
		json_object_object_add(ctx, "freshness", js(arena_printf(req->arena, "Updated from GitHub %s%s.", ago(req, age),
									  stale ? "; refreshing now, reload to see it" : "")));
		webhook_note(ctx, p);
	}
	const char *creating = req_query(req, "creating");
	if (creating)
		creating_note(req, resp, ctx, p, creating);
	render_page(req, resp, 200, "pulls", title_of(req, p, "Pull requests"), ctx);
	return 0;
}

/* ---------------------------------------------------------------- detail and actions */

static int render_pull(struct request *req, struct response *resp, struct project *p, int number, int status,
		       const char *error, const char *flash)
{
	struct pull pr;
	int stale = 0;
	/* Opening the page refreshes a pull request older than the interval, with an ETag (free when unchanged). */
	int rc = pulls_get(&pr, &stale, g_app.db, p, number, error ? PULLS_STORED : PULLS_IF_STALE,
			   &req->err);
	if (rc)
		return rc;
	struct err e = { 0 };
	if (pulls_files(&pr, g_app.db, p, &e))
		stale = 1;
	struct json_object *ctx = ctx_of(p), *o = pull_view(req, &pr);
	json_object_object_add(ctx, "pull", o);
	struct json_object *items = NULL, *checks = NULL;
	json_object_object_get_ex(o, "checks", &checks);
	json_object_object_get_ex(checks, "items", &items);
	json_object_object_add(ctx, "has_checks", json_object_new_boolean(items && json_object_array_length(items) > 0));
	struct pull_settings s;
	if (strcmp(pr.state, "open") == 0 && pulls_settings(&s, g_app.db, p, &e) == 0) {
		struct json_object *m = json_object_new_array();
		const char *names[] = { "merge", "squash", "rebase" };
		const char *labels[] = { "Create a merge commit", "Squash and merge", "Rebase and merge" };
		int allowed[] = { s.allow_merge, s.allow_squash, s.allow_rebase };
		for (int i = 0; i < 3; i++)
			if (allowed[i]) {
				struct json_object *x = json_object_new_object();
				json_object_object_add(x, "name", js(names[i]));
				json_object_object_add(x, "label", js(labels[i]));
				json_object_array_add(m, x);
			}
		json_object_object_add(ctx, "has_methods", json_object_new_boolean(json_object_array_length(m) > 0));
		json_object_object_add(ctx, "methods", m);
		json_object_object_add(ctx, "delete_default", json_object_new_boolean(s.delete_on_merge));
		int protected_head = strcmp(pr.head_ref, projects_branch(p)) == 0 ||
				     (p->repo_default_branch && strcmp(pr.head_ref, p->repo_default_branch) == 0);
		json_object_object_add(ctx, "can_delete_head", json_object_new_boolean(!protected_head));
		store_pull_settings_free(&s);
	}
	json_object_object_add(ctx, "freshness", js(arena_printf(req->arena, "Updated from GitHub %s%s.",
								  ago(req, pr.refreshed_age),
								  stale ? " (GitHub did not answer just now)" : "")));
	if (error)
		json_object_object_add(ctx, "form_error", js(error));
	if (flash)
		json_object_object_add(ctx, "flash", js(flash));
	render_page(req, resp, status, "pull", title_of(req, p, arena_printf(req->arena, "#%d %s", pr.number, pr.title)),
		    ctx);
	store_pull_free(&pr);
	return 0;
}

/* GET /projects/{id}/pulls/{number} → 200 | 404 */
int page_pull(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	/* Codes, not text: a link must not be able to put words on this page. */
	static const char *const done[][2] = {
		{ "created", "Pull request opened." }, { "existing", "This pull request was open already for that branch." },
		{ "merged", "Merged." }, { "merged_deleted", "Merged; the branch was deleted." },
		{ "merged_kept", "Merged; the branch could not be deleted (see the branches page)." },
		{ "closed", "Closed." }, { "reopened", "Reopened." }, { "ready", "Marked ready for review." },
	};
	const char *d = req_query(req, "done"), *flash = NULL;
	for (size_t i = 0; d && i < sizeof done / sizeof done[0]; i++)
		if (strcmp(d, done[i][0]) == 0)
			flash = done[i][1];
	rc = render_pull(req, resp, p, web_number_param(req), 200, NULL, flash);
	return rc;
}

static int status_of(int code)
{
	return code == ERR_INVALID ? 422 : code == ERR_UNAUTH ? 403 : http_status_for_err(code);
}

/* After a refused action the page shows GitHub's refusal in words, with the current state. */
static int refused(struct request *req, struct response *resp, struct project *p, int number)
{
	if (req->err.code == ERR_DB || (req->err.code == ERR_FAIL && !strstr(req->err.msg, "GitHub")))
		return req->err.code;
	char msg[sizeof req->err.msg];
	snprintf(msg, sizeof msg, "%s", req->err.msg);
	int status = status_of(req->err.code);
	err_clear(&req->err);
	int rc = render_pull(req, resp, p, number, status >= 500 ? 502 : status, msg, NULL);
	if (rc == ERR_NOTFOUND) {
		err_clear(&req->err);
		render_error(req, resp, status, msg);
		return 0;
	}
	return rc;
}

static void go_pull(struct request *req, struct response *resp, long long pid, int number, const char *done)
{
	resp_redirect(resp, 303, arena_printf(req->arena, "/projects/%lld/pulls/%d?done=%s", pid, number, done));
}

/* The confirm step of a merge: the method and the target branch in words, from the stored pull request. 1 when
 * it answered; 0 to go on (confirmed, or nothing to confirm: the merge itself refuses a draft or a closed one). */
static int merge_confirm(struct request *req, struct response *resp, struct project *p, int number)
{
	if (web_confirmed(req))
		return 0;
	struct pull pr;
	int stale = 0;
	struct err e = { 0 };
	if (pulls_get(&pr, &stale, g_app.db, p, number, PULLS_STORED, &e))
		return 0;
	int answered = 0;
	const char *m = req_form(req, "method");
	const char *label = !m || !*m || strcmp(m, "merge") == 0 ? "Create a merge commit"
			    : strcmp(m, "squash") == 0 ? "Squash and merge" : strcmp(m, "rebase") == 0 ? "Rebase and merge" : NULL;
	const char *del = req_form(req, "delete_branch");
	if (label && strcmp(pr.state, "open") == 0 && !pr.draft) {
		render_confirm(req, resp, arena_printf(req->arena, "Merge #%d into %s?", number, pr.base_ref),
			       arena_printf(req->arena, "Pull request #%d “%s” (%s) is merged into %s on GitHub with “%s”.",
					    number, pr.title, pr.head_ref, pr.base_ref, label),
			       del && strcmp(del, "1") == 0 ? arena_printf(req->arena, "The branch %s is deleted after merging.",
									   pr.head_ref) : NULL,
			       arena_printf(req->arena, "Merge into %s", pr.base_ref),
			       arena_printf(req->arena, "/projects/%lld/pulls/%d", p->id, number));
		answered = 1;
	}
	store_pull_free(&pr);
	return answered;
}

/* POST /projects/{id}/pulls/{number}/merge (method, sha, delete_branch, confirm=1) → 303 | 200 the confirm page
 * without confirm=1 | 409/422/403 page with the reason (409 for a draft: GitHub does not merge drafts) */
int page_pull_merge(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	int number = web_number_param(req);
	if (merge_confirm(req, resp, p, number)) {
		return 0;
	}
	struct pull pr;
	struct pull_outcome o;
	const char *del = req_form(req, "delete_branch");
	rc = pulls_merge(&pr, &o, g_app.db, p, req->user->user_id, number, req_form(req, "method"), req_form(req, "sha"),
			 del && strcmp(del, "1") == 0, &req->err);
	store_pull_free(&pr);
	if (rc)
		rc = refused(req, resp, p, number);
	else
		go_pull(req, resp, p->id, number, !del ? "merged" : strncmp(o.note, "Branch", 6) == 0 ? "merged_deleted"
												   : "merged_kept");
	return rc;
}

static int state_action(struct request *req, struct response *resp, const struct call *call, const char *state, int ready, const char *done)
{
	struct project *p = call->project;
	int rc = 0;
	int number = web_number_param(req);
	struct pull pr;
	struct pull_outcome o;
	rc = pulls_update(&pr, &o, g_app.db, p, req->user->user_id, number, NULL, NULL, state, ready, &req->err);
	store_pull_free(&pr);
	if (rc)
		rc = refused(req, resp, p, number);
	else
		go_pull(req, resp, p->id, number, done);
	return rc;
}

/* POST /projects/{id}/pulls/{number}/close → 303 | page with the reason */
int page_pull_close(struct request *req, struct response *resp, const struct call *call)
{
	return state_action(req, resp, call, "closed", 0, "closed");
}

/* POST /projects/{id}/pulls/{number}/reopen → 303 | page with the reason */
int page_pull_reopen(struct request *req, struct response *resp, const struct call *call)
{
	return state_action(req, resp, call, "open", 0, "reopened");
}

/* POST /projects/{id}/pulls/{number}/ready → 303 | page with the reason */
int page_pull_ready(struct request *req, struct response *resp, const struct call *call)
{
	return state_action(req, resp, call, NULL, 1, "ready");
}

/* ---------------------------------------------------------------- create */

/* Branch names for the selects (GitHub may not answer: then free-text fields are shown). */
static void branch_options(struct json_object *ctx, struct request *req, struct project *p, const char *head,
			   const char *base)
{
	struct branch_info *rows;
	int n;
	struct err e = { 0 };
	if (branches_list(&rows, &n, g_app.db, p, &e))
		return;
	struct json_object *heads = json_object_new_array(), *bases = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct json_object *b = json_object_new_object(), *h = json_object_new_object();
		json_object_object_add(b, "name", js(rows[i].name));
		json_object_object_add(b, "selected", json_object_new_boolean(base && strcmp(base, rows[i].name) == 0));
		json_object_array_add(bases, b);
		if (!rows[i].is_sync) {
			json_object_object_add(h, "name", js(rows[i].name));
			json_object_object_add(h, "selected", json_object_new_boolean(head && strcmp(head, rows[i].name) == 0));
			json_object_array_add(heads, h);
		} else {
			json_object_put(h);
		}
	}
	json_object_object_add(ctx, "has_head_options", json_object_new_boolean(json_object_array_length(heads) > 0));
	json_object_object_add(ctx, "has_base_options", json_object_new_boolean(json_object_array_length(bases) > 0));
	json_object_object_add(ctx, "head_options", heads);
	json_object_object_add(ctx, "base_options", bases);
	branches_free(rows, n);
}

static int render_new(struct request *req, struct response *resp, struct project *p, int status,
		      struct json_object *errors, const char *form_error)
{
	struct json_object *ctx = ctx_of(p), *f = json_object_new_object();
	const char *from = req_form(req, "from");
	struct err e = { 0 };
	int pending = 0;
	projects_pending(&pending, NULL, p, &e);
	/* Not chosen yet (the first GET): with no pending changes, proposing them can only be refused, so an
	 * existing branch is the choice offered first. */
	int from_branch = from ? strcmp(from, "branch") == 0 : pending == 0;
	json_object_object_add(f, "title", js(req_form(req, "title")));
	json_object_object_add(f, "body", js(req_form(req, "body")));
	json_object_object_add(f, "new_branch", js(req_form(req, "new_branch")));
	json_object_object_add(f, "head", js(req_form(req, "head")));
	json_object_object_add(f, "draft", json_object_new_boolean(req_form(req, "draft") != NULL));
	json_object_object_add(ctx, "form", f);
	json_object_object_add(ctx, "from_branch", json_object_new_boolean(from_branch));
	json_object_object_add(ctx, "from_changes", json_object_new_boolean(!from_branch));
	char suggest[BRANCH_NAME_MAX + 1];
	err_clear(&e);
	branches_name_check(suggest, sizeof suggest, "", &e);
	json_object_object_add(ctx, "suggested_branch", js(suggest));
	json_object_object_add(ctx, "pending", json_object_new_int(pending));
	if (p->repo_owner) {
		const char *base = req_form(req, "base");
		branch_options(ctx, req, p, req_form(req, "head"), base && *base ? base : projects_branch(p));
	}
	if (errors)
		json_object_object_add(ctx, "errors", errors);
	if (form_error)
		json_object_object_add(ctx, "form_error", js(form_error));
	render_page(req, resp, status, "pull-new", title_of(req, p, "New pull request"), ctx);
	return 0;
}

/* GET /projects/{id}/pulls/new → 200 | 404 */
int page_pull_new(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	rc = render_new(req, resp, p, 200, NULL, p->repo_owner ? NULL : "Connect a GitHub repository to this project first.");
	return rc;
}

/* POST /projects/{id}/pulls (title, body, base, from=changes|branch, new_branch, head, draft)
 * → 303 to the pull request or (from changes) to the list while it is created | 422/409 the form again */
int page_pull_create(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *from = req_form(req, "from");
	int from_changes = !from || strcmp(from, "branch") != 0;
	struct pull_new in = { .title = req_form(req, "title"), .body = req_form(req, "body"), .base = req_form(req, "base"),
			       .head = req_form(req, from_changes ? "new_branch" : "head"), .from_changes = from_changes,
			       .draft = req_form(req, "draft") != NULL };
	struct pull pr;
	struct json_object *fe = NULL;
	int created = 0;
	long long job = 0;
	rc = pulls_create(&pr, &created, &job, &fe, g_app.db, p, req->user->user_id, &in, &req->err);
	if (rc == ERR_INVALID && fe) {
		/* The head error belongs to the field the person typed in. */
		struct json_object *h;
		if (from_changes && json_object_object_get_ex(fe, "head", &h)) {
			json_object_object_add(fe, "new_branch", json_object_get(h));
			json_object_object_del(fe, "head");
		}
		err_clear(&req->err);
		rc = render_new(req, resp, p, 422, fe, "Some fields need a change; nothing was created.");
	} else if (rc && rc != ERR_DB && (rc != ERR_FAIL || strstr(req->err.msg, "GitHub"))) {
		char msg[sizeof req->err.msg];
		snprintf(msg, sizeof msg, "%s", req->err.msg);
		int status = status_of(rc);
		err_clear(&req->err);
		rc = render_new(req, resp, p, status >= 500 ? 502 : status, NULL, msg);
	} else if (rc == 0 && job) {
		resp_redirect(resp, 303, arena_printf(req->arena, "/projects/%lld/pulls?creating=%lld", p->id, job));
	} else if (rc == 0) {
		go_pull(req, resp, p->id, pr.number, created ? "created" : "existing");
	}
	store_pull_free(&pr);
	return rc;
}

/* ---------------------------------------------------------------- branches */

static int render_branches(struct request *req, struct response *resp, struct project *p, int status,
			   const char *error, const char *flash, const char *suggestion, const char *name_error)
{
	struct json_object *ctx = ctx_of(p), *a = json_object_new_array(), *from = json_object_new_array();
	struct branch_info *rows;
	int n;
	struct err e = { 0 };
	if (p->repo_owner && branches_list(&rows, &n, g_app.db, p, &e) == 0) {
		for (int i = 0; i < n; i++) {
			struct json_object *b = json_object_new_object(), *f = json_object_new_object();
			char s7[8];
			snprintf(s7, sizeof s7, "%.7s", rows[i].sha);
			json_object_object_add(b, "name", js(rows[i].name));
			json_object_object_add(b, "short_sha", js(s7));
			json_object_object_add(b, "protected", json_object_new_boolean(rows[i].protected_));
			json_object_object_add(b, "is_sync", json_object_new_boolean(rows[i].is_sync));
			json_object_object_add(b, "is_default", json_object_new_boolean(rows[i].is_default));
			json_object_object_add(b, "open_pull", rows[i].open_pull ? json_object_new_int(rows[i].open_pull) : NULL);
			json_object_object_add(b, "deletable", json_object_new_boolean(!rows[i].is_sync && !rows[i].is_default &&
										      !rows[i].open_pull));
			json_object_array_add(a, b);
			json_object_object_add(f, "name", js(rows[i].name));
			json_object_object_add(f, "selected", json_object_new_boolean(rows[i].is_sync));
			json_object_array_add(from, f);
		}
		branches_free(rows, n);
	} else if (p->repo_owner && !error) {
		error = arena_strdup(req->arena, e.msg);
	}
	json_object_object_add(ctx, "branches", a);
	json_object_object_add(ctx, "has_from_options", json_object_new_boolean(json_object_array_length(from) > 0));
	json_object_object_add(ctx, "from_options", from);
	json_object_object_add(ctx, "new_name", js(req_form(req, "name")));
	if (suggestion)
		json_object_object_add(ctx, "suggestion", js(suggestion));
	if (name_error)
		json_object_object_add(ctx, "name_error", js(name_error));
	if (error)
		json_object_object_add(ctx, "form_error", js(error));
	if (flash)
		json_object_object_add(ctx, "flash", js(flash));
	render_page(req, resp, status, "pull-branches", title_of(req, p, "Branches"), ctx);
	return 0;
}

/* GET /projects/{id}/branches → 200 | 404 */
int page_branches(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *d = req_query(req, "done");
	const char *flash = d && strcmp(d, "created") == 0 ? "Branch created." : d && strcmp(d, "deleted") == 0 ? "Branch deleted." : NULL;
	rc = render_branches(req, resp, p, 200, p->repo_owner ? NULL : "Connect a GitHub repository to this project first.",
			     flash, NULL, NULL);
	return rc;
}

static int branch_refused(struct request *req, struct response *resp, struct project *p, const char *suggestion,
			  int at_name)
{
	if (req->err.code == ERR_DB || (req->err.code == ERR_FAIL && !strstr(req->err.msg, "GitHub")))
		return req->err.code;
	char msg[sizeof req->err.msg];
	snprintf(msg, sizeof msg, "%s", req->err.msg);
	int status = status_of(req->err.code);
	err_clear(&req->err);
	if (at_name) /* a refused create: the error goes to the name the person typed */
		return render_branches(req, resp, p, status >= 500 ? 502 : status, NULL, NULL, suggestion, msg);
	return render_branches(req, resp, p, status >= 500 ? 502 : status, msg, NULL, suggestion, NULL);
}

/* POST /projects/{id}/branches (name, from) → 303 | 422 with a suggested name | 409 */
int page_branch_create(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	char suggest[BRANCH_NAME_MAX + 1];
	const char *name = req_form(req, "name");
	if ((rc = branches_name_check(suggest, sizeof suggest, name, &req->err)))
		rc = branch_refused(req, resp, p, suggest, 1);
	else if ((rc = branches_create(g_app.db, p, req->user->user_id, name, req_form(req, "from"), &req->err)))
		rc = branch_refused(req, resp, p, NULL, 1);
	else
		resp_redirect(resp, 303, arena_printf(req->arena, "/projects/%lld/branches?done=created", p->id));
	return rc;
}

/* POST /projects/{id}/branches/delete (name, confirm=1) → 303 | 200 the confirm page without confirm=1 | 409
 * sync/default/open head | 404 */
int page_branch_delete(struct request *req, struct response *resp, const struct call *call)
{
	struct project *p = call->project;
	int rc = 0;
	const char *name = req_form(req, "name");
	if (!web_confirmed(req) && name && *name && p->repo_owner) {
		render_confirm(req, resp, arena_printf(req->arena, "Delete the branch %s?", name),
			       arena_printf(req->arena, "The branch %s is deleted on GitHub, in %s/%s.", name, p->repo_owner,
					    p->repo_name),
			       "Commits that are only on this branch can no longer be reached by its name.", "Delete the branch",
			       arena_printf(req->arena, "/projects/%lld/branches", p->id));
		return 0;
	}
	if ((rc = branches_delete(g_app.db, p, req->user->user_id, req_form(req, "name"), &req->err)))
		rc = branch_refused(req, resp, p, NULL, 0);
	else
		resp_redirect(resp, 303, arena_printf(req->arena, "/projects/%lld/branches?done=deleted", p->id));
	return rc;
}
