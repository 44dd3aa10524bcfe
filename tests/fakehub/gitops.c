/* gitops.c: fakehub's git side: bare repositories (libgit2), commit/diff JSON, merges, and git smart HTTP via git http-backend. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/wait.h>
#include <git2.h>
#include "core/log.h"
#include "git/refname.h"
#include "tests/fakehub/fakehub.h"

static int gerr(struct err *e, const char *what)
{
	const git_error *ge = git_error_last();
	return err_set(e, ERR_FAIL, "%s: %s", what, ge && ge->message ? ge->message : "libgit2 error");
}

static void signature_for(git_signature **sig, const char *login, long long when)
{
	const char *name = login && *login ? login : "fakehub";
	char email[256];
	snprintf(email, sizeof email, "%s@users.noreply.github.com", name);
	git_signature_new(sig, name, email, (git_time_t)when, 0);
}

static long long now_s(void) { return C ? C->now : fh_clock_now(); }

int fh_git_init(const char *path, const char *branch, int auto_init, const char *readme, const char *login,
		struct err *e)
{
	git_repository *g;
	git_repository_init_options o;
	git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	char head[256];
	snprintf(head, sizeof head, "refs/heads/%s", branch);
	o.initial_head = head;
	if (git_repository_init_ext(&g, path, &o))
		return gerr(e, "git init");
	git_config *cfg;
	if (git_repository_config(&cfg, g) == 0) {
		git_config_set_bool(cfg, "http.receivepack", 1);
		git_config_free(cfg);
	}
	int rc = 0;
	if (auto_init) {
		git_oid blob, tree, commit;
		git_treebuilder *tb = NULL;
		git_tree *t = NULL;
		git_signature *sig = NULL;
		signature_for(&sig, login, now_s());
		if (git_blob_create_from_buffer(&blob, g, readme, strlen(readme)) ||
		    git_treebuilder_new(&tb, g, NULL) ||
		    git_treebuilder_insert(NULL, tb, "README.md", &blob, GIT_FILEMODE_BLOB) ||
		    git_treebuilder_write(&tree, tb) || git_tree_lookup(&t, g, &tree) ||
		    git_commit_create(&commit, g, head, sig, sig, NULL, "Initial commit", t, 0, NULL))
			rc = gerr(e, "initial commit");
		git_treebuilder_free(tb);
		git_tree_free(t);
		git_signature_free(sig);
	}
	git_repository_free(g);
	return rc;
}

int fh_git_open(git_repository **out, const char *path)
{
	return git_repository_open_bare(out, path) ? ERR_NOTFOUND : 0;
}

int fh_git_resolve(char out[41], git_repository *g, const char *ref)
{
	if (!ref || !*ref)
		return ERR_NOTFOUND;
	const char *tries[] = { "refs/heads/", "refs/tags/", "refs/", "" };
	for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
		char name[512];
		snprintf(name, sizeof name, "%s%s", tries[i], ref);
		git_object *obj = NULL, *peeled = NULL;
		int ok = 0;
		if (i < 3) {
			git_reference *r = NULL;
			if (git_reference_lookup(&r, g, name) == 0) {
				ok = git_reference_peel(&peeled, r, GIT_OBJECT_COMMIT) == 0;
				git_reference_free(r);
			}
		} else if (strspn(ref, "0123456789abcdef") == strlen(ref) && strlen(ref) >= 4) {
			ok = git_revparse_single(&obj, g, name) == 0 && git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0;
		}
		if (ok) {
			git_oid_tostr(out, 41, git_object_id(peeled));
			git_object_free(peeled);
			git_object_free(obj);
			return 0;
		}
		git_object_free(peeled);
		git_object_free(obj);
	}
	return ERR_NOTFOUND;
}

int fh_git_branch_sha(char out[41], git_repository *g, const char *branch)
{
	char name[512];
	snprintf(name, sizeof name, "refs/heads/%s", branch);
	git_oid oid;
	if (git_reference_name_to_id(&oid, g, name))
		return ERR_NOTFOUND;
	git_oid_tostr(out, 41, &oid);
	return 0;
}

static struct json_object *person(const git_signature *s)
{
	struct json_object *o = json_object_new_object();
	js(o, "name", s->name);
	js(o, "email", s->email);
	jt(o, "date", (long long)s->when.time);
	return o;
}

/* The account behind a commit's email, as GitHub links them; NULL when none. */
static struct json_object *account_for(const char *email)
{
	FH_STMT(st, "SELECT id, login, type FROM accounts WHERE lower(email) = lower($1) "
		    "OR lower($1) = lower(login) || '@users.noreply.github.com' "
		    "OR lower($1) = id || '+' || lower(login) || '@users.noreply.github.com' LIMIT 1");
	PGresult *r = Q(st, email ? email : "");
	if (!r)
		return NULL;
	struct json_object *o = PQntuples(r) ? fh_user_json_row(r, 0, "id", "login", "type") : NULL;
	PQclear(r);
	return o;
}

static struct json_object *commit_base(git_repository *g, const struct fh_repo *r, git_commit *c, const char *sha)
{
	struct json_object *o = json_object_new_object(), *cm = json_object_new_object(),
			   *tree = json_object_new_object(), *ver = json_object_new_object();
	struct arena *a = fh_arena();
	const char *api = arena_printf(a, "%s/repos/%s/%s", g_fh.api_url, r->owner, r->name);
	js(o, "sha", sha);
	js(o, "node_id", fh_node_id("Commit", (long long)(git_commit_id(c)->id[0] << 8 | git_commit_id(c)->id[1]) + r->id * 65536));
	jo(cm, "author", person(git_commit_author(c)));
	jo(cm, "committer", person(git_commit_committer(c)));
	js(cm, "message", git_commit_message(c));
	char tsha[41];
	git_oid_tostr(tsha, sizeof tsha, git_commit_tree_id(c));
	js(tree, "sha", tsha);
	js(tree, "url", arena_printf(a, "%s/git/trees/%s", api, tsha));
	jo(cm, "tree", tree);
	js(cm, "url", arena_printf(a, "%s/git/commits/%s", api, sha));
	ji(cm, "comment_count", 0);
	jb(ver, "verified", 0);
	js(ver, "reason", "unsigned");
	js(ver, "signature", NULL);
	js(ver, "payload", NULL);
	js(ver, "verified_at", NULL);
	jo(cm, "verification", ver);
	jo(o, "commit", cm);
	js(o, "url", arena_printf(a, "%s/commits/%s", api, sha));
	js(o, "html_url", arena_printf(a, "%s/%s/%s/commit/%s", g_fh.web_url, r->owner, r->name, sha));
	js(o, "comments_url", arena_printf(a, "%s/commits/%s/comments", api, sha));
	jo(o, "author", account_for(git_commit_author(c)->email));
	jo(o, "committer", account_for(git_commit_committer(c)->email));
	struct json_object *parents = json_object_new_array();
	for (unsigned i = 0; i < git_commit_parentcount(c); i++) {
		char ps[41];
		git_oid_tostr(ps, sizeof ps, git_commit_parent_id(c, i));
		struct json_object *p = json_object_new_object();
		js(p, "sha", ps);
		js(p, "url", arena_printf(a, "%s/commits/%s", api, ps));
		js(p, "html_url", arena_printf(a, "%s/%s/%s/commit/%s", g_fh.web_url, r->owner, r->name, ps));
		json_object_array_add(parents, p);
	}
	jo(o, "parents", parents);
	return o;
}

struct json_object *fh_commit_short_json(git_repository *g, const struct fh_repo *r, const char *sha)
{
	git_oid oid;
	git_commit *c;
	if (git_oid_fromstr(&oid, sha) || git_commit_lookup(&c, g, &oid))
		return NULL;
	struct json_object *o = commit_base(g, r, c, sha);
	git_commit_free(c);
	return o;
}

struct json_object *fh_commit_json(git_repository *g, const struct fh_repo *r, const char *sha, int with_files)
{
	git_oid oid;
	git_commit *c;
	if (git_oid_fromstr(&oid, sha) || git_commit_lookup(&c, g, &oid))
		return NULL;
	struct json_object *o = commit_base(g, r, c, sha);
	char parent[41] = "";
	if (git_commit_parentcount(c) > 0)
		git_oid_tostr(parent, sizeof parent, git_commit_parent_id(c, 0));
	git_commit_free(c);
	long long adds = 0, dels = 0;
	struct json_object *files = fh_diff_files(g, r, parent[0] ? parent : NULL, sha, &adds, &dels);
	struct json_object *stats = json_object_new_object();
	ji(stats, "total", adds + dels);
	ji(stats, "additions", adds);
	ji(stats, "deletions", dels);
	jo(o, "stats", stats);
	if (with_files)
		jo(o, "files", files);
	else
		json_object_put(files);
	return o;
}

static int tree_of(git_tree **out, git_repository *g, const char *sha)
{
	*out = NULL;
	if (!sha)
		return 0;
	git_oid oid;
	git_commit *c;
	if (git_oid_fromstr(&oid, sha) || git_commit_lookup(&c, g, &oid))
		return -1;
	int rc = git_commit_tree(out, c);
	git_commit_free(c);
	return rc;
}

struct json_object *fh_diff_files(git_repository *g, const struct fh_repo *r, const char *from, const char *to,
				  long long *adds, long long *dels)
{
	struct json_object *arr = json_object_new_array();
	git_tree *a = NULL, *b = NULL;
	git_diff *d = NULL;
	struct arena *ar = fh_arena();
	if (tree_of(&a, g, from) || tree_of(&b, g, to) || git_diff_tree_to_tree(&d, g, a, b, NULL))
		goto out;
	git_diff_find_similar(d, NULL);
	size_t n = git_diff_num_deltas(d);
	for (size_t i = 0; i < n && i < 3000; i++) {
		const git_diff_delta *dd = git_diff_get_delta(d, i);
		git_patch *p = NULL;
		size_t ctx = 0, add = 0, del = 0;
		struct json_object *f = json_object_new_object();
		const char *path = dd->new_file.path ? dd->new_file.path : dd->old_file.path;
		const git_oid *blob = dd->status == GIT_DELTA_DELETED ? &dd->old_file.id : &dd->new_file.id;
		char bsha[41];
		git_oid_tostr(bsha, sizeof bsha, blob);
		js(f, "sha", bsha);
		js(f, "filename", path);
		const char *status = "modified";
		switch (dd->status) {
		case GIT_DELTA_ADDED: status = "added"; break;
		case GIT_DELTA_DELETED: status = "removed"; break;
		case GIT_DELTA_RENAMED: status = "renamed"; break;
		case GIT_DELTA_COPIED: status = "copied"; break;
		default: break;
		}
		js(f, "status", status);
		const char *patch = NULL;
		if (git_patch_from_diff(&p, d, i) == 0 && p) {
			git_patch_line_stats(&ctx, &add, &del, p);
			git_buf pb = GIT_BUF_INIT;
			if (!(dd->flags & GIT_DIFF_FLAG_BINARY) && git_patch_to_buf(&pb, p) == 0 && pb.ptr) {
				const char *hunk = strstr(pb.ptr, "\n@@");
				if (hunk)
					patch = arena_strdup(ar, hunk + 1);
			}
			git_buf_dispose(&pb);
			git_patch_free(p);
		}
		ji(f, "additions", (long long)add);
		ji(f, "deletions", (long long)del);
		ji(f, "changes", (long long)(add + del));
		js(f, "blob_url", arena_printf(ar, "%s/%s/%s/blob/%s/%s", g_fh.web_url, r->owner, r->name, to, path));
		js(f, "raw_url", arena_printf(ar, "%s/%s/%s/raw/%s/%s", g_fh.web_url, r->owner, r->name, to, path));
		js(f, "contents_url", arena_printf(ar, "%s/repos/%s/%s/contents/%s?ref=%s", g_fh.api_url, r->owner, r->name, path, to));
		if (patch)
			js(f, "patch", patch);
		if (dd->status == GIT_DELTA_RENAMED)
			js(f, "previous_filename", dd->old_file.path);
		if (adds)
			*adds += (long long)add;
		if (dels)
			*dels += (long long)del;
		json_object_array_add(arr, f);
	}
out:
	git_diff_free(d);
	git_tree_free(a);
	git_tree_free(b);
	return arr;
}

int fh_git_merge_base(char out[41], git_repository *g, const char *a, const char *b)
{
	git_oid oa, ob, base;
	if (git_oid_fromstr(&oa, a) || git_oid_fromstr(&ob, b) || git_merge_base(&base, g, &oa, &ob))
		return ERR_NOTFOUND;
	git_oid_tostr(out, 41, &base);
	return 0;
}

int fh_git_count(git_repository *g, const char *from, const char *to)
{
	git_revwalk *w;
	git_oid f, t, oid;
	if (git_oid_fromstr(&f, from) || git_oid_fromstr(&t, to) || git_revwalk_new(&w, g))
		return 0;
	git_revwalk_push(w, &t);
	git_revwalk_hide(w, &f);
	int n = 0;
	while (git_revwalk_next(&oid, w) == 0)
		n++;
	git_revwalk_free(w);
	return n;
}

int fh_git_is_ancestor(git_repository *g, const char *ancestor, const char *desc)
{
	git_oid a, d;
	if (git_oid_fromstr(&a, ancestor) || git_oid_fromstr(&d, desc))
		return -1;
	if (git_oid_equal(&a, &d))
		return 1;
	return git_graph_descendant_of(g, &d, &a);
}

static int lookup_commit(git_commit **out, git_repository *g, const char *sha)
{
	git_oid oid;
	if (git_oid_fromstr(&oid, sha))
		return -1;
	return git_commit_lookup(out, g, &oid);
}

int fh_git_can_merge(git_repository *g, const char *base, const char *head)
{
	git_commit *b = NULL, *h = NULL;
	git_index *idx = NULL;
	int rc = -1;
	if (lookup_commit(&b, g, base) == 0 && lookup_commit(&h, g, head) == 0 &&
	    git_merge_commits(&idx, g, b, h, NULL) == 0)
		rc = git_index_has_conflicts(idx) ? 0 : 1;
	git_index_free(idx);
	git_commit_free(b);
	git_commit_free(h);
	return rc;
}

int fh_git_set_ref(git_repository *g, const char *refname, const char *sha, const char *old_sha, struct err *e)
{
	git_oid n, o;
	git_reference *out = NULL;
	if (git_oid_fromstr(&n, sha))
		return err_set(e, ERR_INVALID, "bad sha");
	/* Every ref fakehub writes itself passes git's rules, as receive-pack's pushes do. */
	if (git_refname_problem(refname))
		return err_set(e, ERR_INVALID, "%s is not a valid ref name.", refname);
	int rc;
	if (old_sha && strcmp(old_sha, "0000000000000000000000000000000000000000") != 0) {
		git_oid_fromstr(&o, old_sha);
		rc = git_reference_create_matching(&out, g, refname, &n, 1, &o, "fakehub");
	} else {
		rc = git_reference_create(&out, g, refname, &n, 0, "fakehub");
	}
	git_reference_free(out);
	if (rc == GIT_EMODIFIED)
		return err_set(e, ERR_CONFLICT, "reference was modified");
	return rc ? gerr(e, "update ref") : 0;
}

/* Makes one commit on base_ref per the merge method; the ref moves only if it still points at its old tip. */
int fh_git_merge(char out[41], git_repository *g, const char *method, const char *base_ref, const char *head_sha,
		 const char *title, const char *message, const char *login, struct err *e)
{
	char refname[512], base_sha[41];
	snprintf(refname, sizeof refname, "refs/heads/%s", base_ref);
	if (fh_git_branch_sha(base_sha, g, base_ref))
		return err_set(e, ERR_NOTFOUND, "base branch is gone");
	git_commit *base = NULL, *head = NULL;
	git_index *idx = NULL;
	git_tree *tree = NULL;
	git_signature *author = NULL, *committer = NULL;
	git_revwalk *w = NULL;
	int rc = 0;
	git_oid tree_oid, new_oid;
	signature_for(&author, login, now_s());
	git_signature_new(&committer, "GitHub", "noreply@github.com", (git_time_t)now_s(), 0);
	if (lookup_commit(&base, g, base_sha) || lookup_commit(&head, g, head_sha)) {
		rc = err_set(e, ERR_NOTFOUND, "commit missing");
		goto out;
	}
	struct buf msg = BUF_INIT;
	buf_puts(&msg, title);
	if (message && *message) {
		buf_puts(&msg, "\n\n");
		buf_puts(&msg, message);
	}
	buf_putc(&msg, '\n');
	if (strcmp(method, "rebase") == 0) {
		git_commit *onto = base;
		base = NULL;
		git_oid oid, ho;
		git_revwalk_new(&w, g);
		git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
		git_oid_cpy(&ho, git_commit_id(head));
		git_revwalk_push(w, &ho);
		git_revwalk_hide(w, git_commit_id(onto));
		while (rc == 0 && git_revwalk_next(&oid, w) == 0) {
			git_commit *c = NULL, *made = NULL;
			git_index *ci = NULL;
			git_tree *ct = NULL;
			if (git_commit_lookup(&c, g, &oid) || git_commit_parentcount(c) > 1 ||
			    git_cherrypick_commit(&ci, g, c, onto, 0, NULL) || git_index_has_conflicts(ci)) {
				rc = err_set(e, ERR_CONFLICT, "This branch can't be rebased");
			} else if (git_index_write_tree_to(&tree_oid, ci, g) || git_tree_lookup(&ct, g, &tree_oid) ||
				   git_commit_create(&new_oid, g, NULL, git_commit_author(c), committer, NULL,
						     git_commit_message(c), ct, 1, (const git_commit **)&onto) ||
				   git_commit_lookup(&made, g, &new_oid)) {
				rc = gerr(e, "rebase");
			} else {
				git_commit_free(onto);
				onto = made;
			}
			git_tree_free(ct);
			git_index_free(ci);
			git_commit_free(c);
		}
		git_oid_cpy(&new_oid, git_commit_id(onto));
		git_commit_free(onto);
	} else {
		if (git_merge_commits(&idx, g, base, head, NULL)) {
			rc = gerr(e, "merge");
		} else if (git_index_has_conflicts(idx)) {
			rc = err_set(e, ERR_CONFLICT, "Merge conflict");
		} else if (git_index_write_tree_to(&tree_oid, idx, g) || git_tree_lookup(&tree, g, &tree_oid)) {
			rc = gerr(e, "write tree");
		} else {
			const git_commit *parents[2] = { base, head };
			int np = strcmp(method, "squash") == 0 ? 1 : 2;
			if (git_commit_create(&new_oid, g, NULL, author, committer, NULL, buf_cstr(&msg), tree, (size_t)np,
					      parents))
				rc = gerr(e, "commit");
		}
	}
	buf_free(&msg);
	if (rc == 0) {
		char ns[41];
		git_oid_tostr(ns, sizeof ns, &new_oid);
		rc = fh_git_set_ref(g, refname, ns, base_sha, e);
		if (rc == 0)
			memcpy(out, ns, 41);
	}
out:
	git_revwalk_free(w);
	git_tree_free(tree);
	git_index_free(idx);
	git_commit_free(base);
	git_commit_free(head);
	git_signature_free(author);
	git_signature_free(committer);
	return rc;
}

int fh_git_commit_file(char out[41], git_repository *g, const char *branch, const char *path, const char *content,
		       const char *message, const char *login, struct err *e)
{
	char refname[512], tip[41] = "";
	snprintf(refname, sizeof refname, "refs/heads/%s", branch);
	fh_git_branch_sha(tip, g, branch);
	git_commit *parent = NULL;
	git_tree *ptree = NULL, *tree = NULL;
	git_index *idx = NULL;
	git_signature *sig = NULL;
	int rc = 0;
	git_oid tree_oid, new_oid;
	signature_for(&sig, login, now_s());
	if (git_index_new(&idx)) {
		rc = gerr(e, "index");
		goto out;
	}
	if (tip[0] && (lookup_commit(&parent, g, tip) || git_commit_tree(&ptree, parent) || git_index_read_tree(idx, ptree))) {
		rc = gerr(e, "read tree");
		goto out;
	}
	git_index_entry entry;
	memset(&entry, 0, sizeof entry);
	entry.path = path;
	entry.mode = GIT_FILEMODE_BLOB;
	if (git_blob_create_from_buffer(&entry.id, g, content, strlen(content)) || git_index_add(idx, &entry) ||
	    git_index_write_tree_to(&tree_oid, idx, g) || git_tree_lookup(&tree, g, &tree_oid) ||
	    git_commit_create(&new_oid, g, NULL, sig, sig, NULL, message, tree, parent ? 1 : 0,
			      (const git_commit **)&parent)) {
		rc = gerr(e, "commit");
		goto out;
	}
	char ns[41];
	git_oid_tostr(ns, sizeof ns, &new_oid);
	rc = fh_git_set_ref(g, refname, ns, tip[0] ? tip : NULL, e);
	if (rc == 0)
		memcpy(out, ns, 41);
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	git_index_free(idx);
	return rc;
}

char *fh_git_heads(git_repository *g)
{
	struct buf b = BUF_INIT;
	git_reference_iterator *it;
	buf_puts(&b, "");
	if (git_reference_iterator_glob_new(&it, g, "refs/heads/*") == 0) {
		git_reference *ref;
		while (git_reference_next(&ref, it) == 0) {
			git_reference *res = NULL;
			if (git_reference_resolve(&res, ref) == 0) {
				char sha[41];
				git_oid_tostr(sha, sizeof sha, git_reference_target(res));
				buf_printf(&b, "%s %s\n", git_reference_name(ref), sha);
			}
			git_reference_free(res);
			git_reference_free(ref);
		}
		git_reference_iterator_free(it);
	}
	char *s = arena_strdup(fh_arena(), buf_cstr(&b));
	buf_free(&b);
	return s;
}

static const char *sha_in(const char *heads, const char *ref)
{
	size_t n = strlen(ref);
	for (const char *p = heads; p && *p;) {
		if (strncmp(p, ref, n) == 0 && p[n] == ' ')
			return arena_strndup(fh_arena(), p + n + 1, 40);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* Runs git http-backend as a CGI child: body from a temporary file, output captured and parsed. */
int fh_git_http(const struct fh_repo *r, const char *rest)
{
	struct request *req = C->req;
	struct response *resp = C->resp;
	int receive = strcmp(rest, "/git-receive-pack") == 0;
	char *before = NULL;
	git_repository *g;
	if (receive && fh_git_open(&g, r->path) == 0) {
		before = fh_git_heads(g);
		git_repository_free(g);
	}
	/* GitHub's pre-receive checks (protect.c): GH001 large files, GH006 protected branches. The hook
	 * writes the refs it refused as protected to verdict. */
	const char *rules = receive ? fh_protection_push_rules(r) : "", *hooks = receive ? fh_protection_hooks_dir() : NULL;
	char verdict[] = "/tmp/fakehub-verdict-XXXXXX";
	int vfd = -1;
	char tmpl[] = "/tmp/fakehub-body-XXXXXX";
	int in = mkstemp(tmpl);
	if (in < 0)
		return -1;
	unlink(tmpl);
	if (req->body_len && write(in, req->body, req->body_len) != (ssize_t)req->body_len) {
		close(in);
		return -1;
	}
	lseek(in, 0, SEEK_SET);
	int outp[2];
	if (pipe(outp)) {
		close(in);
		return -1;
	}
	const char *path_info = arena_printf(req->arena, "/%s/%s.git%s", r->owner, r->name, rest);
	if (receive && (vfd = mkstemp(verdict)) >= 0)
		close(vfd);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in, 0);
		dup2(outp[1], 1);
		close(outp[0]);
		signal(SIGPIPE, SIG_DFL);
		setenv("GIT_PROJECT_ROOT", g_fh.repos_dir, 1);
		setenv("GIT_HTTP_EXPORT_ALL", "1", 1);
		setenv("PATH_INFO", path_info, 1);
		setenv("REQUEST_METHOD", req->method, 1);
		setenv("QUERY_STRING", req->query_string ? req->query_string : "", 1);
		setenv("CONTENT_TYPE", req->content_type ? req->content_type : "", 1);
		char len[32];
		snprintf(len, sizeof len, "%zu", req->body_len);
		setenv("CONTENT_LENGTH", len, 1);
		setenv("REMOTE_ADDR", req->remote_addr ? req->remote_addr : "127.0.0.1", 1);
		if (C->v.login)
			setenv("REMOTE_USER", C->v.login, 1);
		else
			unsetenv("REMOTE_USER");
		const char *ce = req_header(req, "Content-Encoding"), *gp = req_header(req, "Git-Protocol");
		if (ce)
			setenv("HTTP_CONTENT_ENCODING", ce, 1);
		if (gp)
			setenv("GIT_PROTOCOL", gp, 1);
		unsetenv("GIT_DIR");
		if (hooks) {
			setenv("FAKEHUB_PROTECTED", rules, 1);
			if (vfd >= 0)
				setenv("FAKEHUB_VERDICT", verdict, 1);
			char *hp = NULL;
			if (asprintf(&hp, "core.hooksPath=%s", hooks) > 0)
				execlp("git", "git", "-c", hp, "http-backend", (char *)NULL);
			_exit(127);
		}
		execlp("git", "git", "http-backend", (char *)NULL);
		_exit(127);
	}
	close(in);
	close(outp[1]);
	if (pid < 0) {
		close(outp[0]);
		if (vfd >= 0)
			unlink(verdict);
		return -1;
	}
	struct buf out = BUF_INIT;
	char chunk[65536];
	ssize_t n;
	while ((n = read(outp[0], chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			buf_append(&out, chunk, (size_t)n);
	close(outp[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* CGI headers, then the body. */
	const char *data = buf_cstr(&out), *sep = strstr(data, "\r\n\r\n");
	size_t seplen = 4;
	const char *sep2 = strstr(data, "\n\n");
	if (!sep || (sep2 && sep2 < sep)) {
		sep = sep2;
		seplen = 2;
	}
	if (!sep) {
		buf_free(&out);
		if (vfd >= 0)
			unlink(verdict);
		return -1;
	}
	resp->status = 200;
	resp->content_type = "text/plain";
	char *hdrs = arena_strndup(req->arena, data, (size_t)(sep - data)), *save = NULL;
	for (char *line = strtok_r(hdrs, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ')
			v++;
		if (strcasecmp(line, "Status") == 0)
			resp->status = atoi(v);
		else if (strcasecmp(line, "Content-Type") == 0)
			resp->content_type = arena_strdup(req->arena, v);
		else if (strcasecmp(line, "Content-Length") != 0)
			resp_header(resp, line, v);
	}
	size_t body_off = (size_t)(sep - data) + seplen;
	buf_reset(&resp->body);
	buf_append(&resp->body, data + body_off, out.len - body_off);
	buf_free(&out);
	if (vfd >= 0) {
		/* GitHub names the ref update a GH006 refusal stopped "protected branch hook declined". */
		char refs[4096];
		int f = open(verdict, O_RDONLY);
		ssize_t got = f >= 0 ? read(f, refs, sizeof refs - 1) : -1;
		if (f >= 0)
			close(f);
		unlink(verdict);
		if (got > 0) {
			refs[got] = '\0';
			fh_protection_rewrite(&resp->body, refs);
		}
	}
	if (receive && strcmp(req->method, "POST") == 0)
		fh_protection_push_record(r, req->body_len, resp->status, &resp->body);
	if (receive && resp->status == 200 && fh_git_open(&g, r->path) == 0) {
		char *after = fh_git_heads(g);
		git_repository_free(g);
		/* Every head that moved, appeared or vanished. */
		char *copy = arena_strdup(req->arena, after), *sv = NULL;
		for (char *line = strtok_r(copy, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv)) {
			char *sp = strchr(line, ' ');
			if (!sp)
				continue;
			*sp = '\0';
			const char *old = sha_in(before, line);
			if (!old || strcmp(old, sp + 1) != 0)
				fh_after_push(r, line, old ? old : "0000000000000000000000000000000000000000", sp + 1, C->v.id,
					      C->v.login);
		}
		copy = arena_strdup(req->arena, before ? before : "");
		for (char *line = strtok_r(copy, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv)) {
			char *sp = strchr(line, ' ');
			if (!sp)
				continue;
			*sp = '\0';
			if (!sha_in(after, line))
				fh_after_push(r, line, sp + 1, "0000000000000000000000000000000000000000", C->v.id, C->v.login);
		}
	}
	return 0;
}
