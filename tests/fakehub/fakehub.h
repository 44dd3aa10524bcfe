/* fakehub.h: shared declarations of fakehub, the local GitHub emulator used by tests and the demo. */
#ifndef FAKEHUB_H
#define FAKEHUB_H

#include <libpq-fe.h>
#include <json-c/json.h>
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "http/http.h"
#include "http/router.h"
#include "store/db.h"

/* Prepared statement names are per connection: file and line keep them unique. */
#define FH_STR2(x) #x
#define FH_STR(x) FH_STR2(x)
#define FH_STMT(var, sql_text) static struct db_stmt var = { "fh_" __FILE_NAME__ "_" FH_STR(__LINE__), sql_text }

#define FH_DOCS "https://docs.github.com/rest"

/* Per process: one database connection and where things live. */
struct fh_global {
	struct db *db;
	const char *repos_dir;  /* bare repositories: <dir>/<owner>/<repo>.git */
	const char *web_url;    /* http://127.0.0.1:8081 (no trailing slash) */
	const char *api_url;    /* web_url + /api/v3 */
};
extern struct fh_global g_fh;

/* The account a request acts as, from its token. */
struct fh_viewer {
	long long id;           /* 0: anonymous */
	const char *login;
	long long token_id;
	const char *scope;      /* OAuth scopes, "" for GitHub App user tokens */
	const char *client_id;
	const char *token_prefix; /* "gho", "ghu", "ghp" */
};

/* Per request state (one request at a time per process). */
struct fh_ctx {
	struct request *req;
	struct response *resp;
	long long now;          /* epoch seconds with the test clock offset applied */
	struct fh_viewer v;
	struct json_object *json; /* parsed JSON body, or NULL */
	int counted;            /* the request counts against the rate limit */
};
extern struct fh_ctx *C;

/* A repository row with its owner, as most API handlers need it. */
struct fh_repo {
	long long id, owner_id;
	const char *owner, *owner_type, *name, *description, *default_branch;
	int private_, archived;
	int allow_merge_commit, allow_squash_merge, allow_rebase_merge, delete_branch_on_merge;
	long long created_at, updated_at, pushed_at;
	int can_read, can_push, can_admin;
	char path[1024];        /* bare repository on disk */
};

/* ---- util.c */
struct arena *fh_arena(void); /* the request arena, or the CLI one */
PGresult *fh_q(struct db_stmt *st, int n, const char *const *params);
#define FH_NARGS(...) (int)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))
#define Q(st, ...) fh_q(&(st), FH_NARGS(__VA_ARGS__), (const char *const[]){ __VA_ARGS__ })
#define Q0(st) fh_q(&(st), 0, NULL)
const char *fh_ll(long long v);             /* arena string of an integer */
long long fh_atoll(const char *s);
/* s[0..len) with every byte that is not part of well-formed UTF-8 (utf8_valid) replaced by U+FFFD,
 * as GitHub's JSON carries git's bytes; an arena string, its length in *outlen when not NULL. */
const char *fh_utf8_scrub(const char *s, size_t len, size_t *outlen);
const char *fh_val(PGresult *r, int row, const char *col); /* NULL for SQL NULL */
long long fh_vall(PGresult *r, int row, const char *col);
int fh_vbool(PGresult *r, int row, const char *col);
const char *fh_iso(long long t);            /* 2011-01-26T19:01:12Z, NULL for 0 */
void fh_sha256_hex(char out[65], const void *data, size_t len);
void fh_random_token(char *out, size_t outlen, const char *prefix); /* prefix_ + 36 base62 */
void fh_uuid(char out[37]);
const char *fh_node_id(const char *kind, long long id);

void js(struct json_object *o, const char *k, const char *v); /* NULL → null */
void ji(struct json_object *o, const char *k, long long v);
void jb(struct json_object *o, const char *k, int v);
void jt(struct json_object *o, const char *k, long long t); /* ISO time or null */
void jo(struct json_object *o, const char *k, struct json_object *v);
const char *jget(struct json_object *o, const char *k); /* string field or NULL */
int jget_bool(struct json_object *o, const char *k, int def);
/* A field from the JSON body, or from the form body, or NULL. */
const char *fh_in(const char *k);

/* GitHub-shaped answers. */
int fh_json(int status, struct json_object *o); /* takes o; returns 0 */
int fh_error(int status, const char *message);
int fh_error_doc(int status, const char *message, const char *doc);
int fh_validation(const char *message, const char *resource, const char *field, const char *code,
		  const char *detail);
int fh_not_found(void);
int fh_no_content(void);
/* Sets Link and the slice (offset, limit) from page and per_page. */
void fh_paginate(long long total, long long *offset, long long *limit);

/* Accounts. */
int fh_account_by_login(PGresult **out, const char *login); /* row or ERR_NOTFOUND */
struct json_object *fh_user_json(long long id, const char *login, const char *type);
struct json_object *fh_user_json_row(PGresult *r, int row, const char *idcol, const char *logincol,
				     const char *typecol);
int fh_account_create(long long *id, const char *login, const char *type, const char *name,
		      const char *email, struct err *e);
int fh_member_add(const char *org, const char *user, const char *role, struct err *e);
int fh_client_put(const char *id, const char *secret, const char *kind, const char *callback,
		  const char *name, struct err *e);
int fh_token_issue(char *out, size_t outlen, long long user_id, const char *client_id, const char *kind,
		   const char *prefix, const char *scope, long long expires_at, long long *token_id,
		   struct err *e);
long long fh_clock_now(void);

int fh_scope_has(const char *name); /* the viewer's OAuth scopes hold NAME */

/* Repositories: load with permissions for the viewer; 404 unless readable. */
int fh_repo_load(struct fh_repo *r, const char *owner, const char *name);
struct json_object *fh_repo_json(const struct fh_repo *r);
/* For handlers with {owner}/{repo} params: loads or answers 404; returns <0 then. */
int fh_repo_from_params(struct fh_repo *r);
/* docs "Archiving repositories": an archived repository is read-only; answers 403 "Repository was archived
 * so is read-only." and returns -1 when it is, 0 otherwise. */
int fh_repo_writable(const struct fh_repo *r);

/* ---- redirects.c: a renamed repository's old name (GitHub redirects it until a new repository takes it). */
void fh_redirect_record(long long owner_id, const char *old_name, long long repo_id);
void fh_redirect_drop(long long owner_id, const char *name); /* a repository takes the name */
/* The repository a free old name of owner leads to, loaded for the viewer; ERR_NOTFOUND when none (or unreadable). */
int fh_repo_redirect(struct fh_repo *r, const char *owner, const char *name);
/* "/repositories/{id}[/rest]" → "/repos/{owner}/{name}[/rest]" (arena); other paths unchanged. */
const char *fh_repositories_rewrite(const char *sub);
/* REST under a renamed repository's old name: answers 301/307 to /repositories/{id}/… and returns 1; else 0. */
int fh_api_redirect(const char *sub);
/* git smart HTTP under an old name: answers 301/307 to the new name's URL and returns 1; else 0. */
int fh_git_redirect(const char *owner, const char *name, const char *rest);

/* ---- gitops.c */
struct git_repository;
int fh_git_init(const char *path, const char *branch, int auto_init, const char *readme,
		const char *login, struct err *e);
int fh_git_open(struct git_repository **out, const char *path);
/* Resolves a branch, tag, sha or ref name to a commit sha (41 chars). */
int fh_git_resolve(char out[41], struct git_repository *g, const char *ref);
int fh_git_branch_sha(char out[41], struct git_repository *g, const char *branch);
struct json_object *fh_commit_json(struct git_repository *g, const struct fh_repo *r, const char *sha,
				   int with_files);
struct json_object *fh_commit_short_json(struct git_repository *g, const struct fh_repo *r, const char *sha);
/* Files changed between two commits (GitHub's files[] entries); adds/dels summed if non-NULL. */
struct json_object *fh_diff_files(struct git_repository *g, const struct fh_repo *r, const char *from,
				  const char *to, long long *adds, long long *dels);
int fh_git_merge_base(char out[41], struct git_repository *g, const char *a, const char *b);
int fh_git_count(struct git_repository *g, const char *from, const char *to); /* commits in to not in from */
int fh_git_can_merge(struct git_repository *g, const char *base, const char *head); /* 1, 0 conflict, <0 */
int fh_git_merge(char out[41], struct git_repository *g, const char *method, const char *base_ref,
		 const char *head_sha, const char *title, const char *message, const char *login,
		 struct err *e);
int fh_git_set_ref(struct git_repository *g, const char *refname, const char *sha, const char *old_sha,
		   struct err *e);
int fh_git_is_ancestor(struct git_repository *g, const char *ancestor, const char *desc);
int fh_git_commit_file(char out[41], struct git_repository *g, const char *branch, const char *path,
		       const char *content, const char *message, const char *login, struct err *e);
/* name=sha lines of every branch, for before/after comparison around a push. */
char *fh_git_heads(struct git_repository *g);
int fh_git_http(const struct fh_repo *r, const char *rest);

/* ---- lfs.c: the Git LFS server under {repo}.git/info/lfs/ (rest starts with "/info/lfs/"). */
void fh_lfs_serve(const struct fh_repo *r, const char *rest);
int admin_lfs_quota(struct request *, struct response *);
int admin_lfs_repo(struct request *, struct response *);
int admin_lfs_objects(struct request *, struct response *);

/* ---- events.c: after a branch moved by any means (push, API, web editor, merge). */
void fh_after_push(const struct fh_repo *r, const char *ref, const char *before, const char *after,
		   long long pusher_id, const char *pusher_login);
void fh_event(const struct fh_repo *r, const char *event, const char *action, struct json_object *payload);
struct json_object *fh_pull_json(struct git_repository *g, const struct fh_repo *r, PGresult *res, int row,
				 int full);
int fh_pull_set_state(const struct fh_repo *r, long long number, const char *state, long long actor);
int fh_pull_do_merge(struct json_object **answer, const struct fh_repo *r, long long number,
		     const char *method, const char *sha, const char *title, const char *message,
		     long long actor_id, const char *actor_login);

/* ---- invites.c: repository invitations (expiry, the 50-a-day limit, update, delete) and permissions */
int fh_invitation_expired(long long created_at); /* 7 days after created_at on the emulator's clock */
long long fh_invitation_ttl(void);                /* seconds */
const char *fh_collab_permission(const struct fh_repo *r, const char *asked); /* personal repository: "push" */
/* The invitation of uid to r (new, updated when pending, replaced when expired) as a row in *out; 1 with the
 * limit's 422 answered, -1 on a database failure (*out NULL in both). */
int fh_invite_create(PGresult **out, const struct fh_repo *r, long long uid, const char *perm);
struct json_object *fh_invitation_json(PGresult *x, int i, const struct fh_repo *r); /* api.c */
int api_repo_invitation_patch(struct request *, struct response *);
int api_repo_invitation_delete(struct request *, struct response *);
int api_collaborator_permission(struct request *, struct response *);

/* ---- route tables */
extern const struct route fh_api_routes[];
extern const size_t fh_api_nroutes;
extern const struct route fh_admin_routes[];
extern const size_t fh_admin_nroutes;

/* handlers (api.c, oauth.c, pulls.c, hooks.c, admin.c) */
int oauth_authorize_get(struct request *, struct response *);
int oauth_authorize_post(struct request *, struct response *);
int oauth_access_token(struct request *, struct response *);
int oauth_grant_delete(struct request *, struct response *);
int api_pulls_list(struct request *, struct response *);
int api_pulls_create(struct request *, struct response *);
int api_pull_get(struct request *, struct response *);
int api_pull_patch(struct request *, struct response *);
int api_pull_files(struct request *, struct response *);
int api_pull_commits(struct request *, struct response *);
int api_pull_merge(struct request *, struct response *);
int api_pull_merged(struct request *, struct response *);
int api_hooks_list(struct request *, struct response *);
int api_hooks_create(struct request *, struct response *);
int api_hook_get(struct request *, struct response *);
int api_hook_delete(struct request *, struct response *);
int api_hook_patch(struct request *, struct response *);
int api_hook_ping(struct request *, struct response *);
int api_hook_deliveries(struct request *, struct response *);
int fh_graphql(struct request *, struct response *); /* POST /api/graphql (pulls.c) */

/* ---- protect.c: branch protection (docs "Branch protection"), GH006 and GH001 on push */
struct json_object *fh_protection_get(const struct fh_repo *r, const char *branch); /* NULL: not protected */
int fh_protection_is_on(const struct fh_repo *r, const char *branch);
struct json_object *fh_protection_summary(const struct fh_repo *r, const char *branch); /* GET branch's "protection" */
const char *fh_protection_branch_of(const char *param); /* "b/protection" → "b", else NULL */
int api_branch_protection(struct request *, struct response *);
const char *fh_protection_merge_blocked(const struct fh_repo *r, const char *base, const char *head_sha, int admin);
const char *fh_protection_push_rules(const struct fh_repo *r); /* FAKEHUB_PROTECTED for the hook */
/* 422 message for moving (new_sha) or deleting (NULL) a protected branch through git/refs, or NULL. */
const char *fh_protection_ref_refused(const struct fh_repo *r, const char *branch, const char *new_sha, int forced);
const char *fh_protection_hooks_dir(void);                      /* core.hooksPath, NULL on failure */
void fh_protection_rewrite(struct buf *body, const char *refs); /* GH006 refs: "protected branch hook declined" */
void fh_protection_push_record(const struct fh_repo *r, size_t bytes, int status, const struct buf *body);
int ad_pushes(struct request *, struct response *); /* GET /_fakehub/repos/{owner}/{repo}/pushes */

#endif
