/* rewrite.c: GitHub's branch rewritten (force-pushed): ancestry, the rewrite marker, replaying local changes on GitHub's new history, unpushed files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <git2.h>
#include <json-c/json.h>
#include "git/lfs.h"
#include "git/rewrite.h"

/* libgit2's documented *_INIT macros set only the version fields. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static int fail(struct err *e, int grc, const char *what)
{
	const git_error *ge = git_error_last();
	return err_set(e, grc == GIT_ECONFLICT || grc == GIT_EMERGECONFLICT ? ERR_CONFLICT : ERR_FAIL, "%s: %s", what,
		       ge && ge->message ? ge->message : "unknown error");
}

static int open_ws(git_repository **repo, const char *dir, struct err *e)
{
	static int inited;
	if (!inited) {
		git_libgit2_init(); /* reference counted: workspace.c's own init stays in force */
		inited = 1;
	}
	int grc = git_repository_open_ext(repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	return grc ? fail(e, grc, "opening the workspace") : 0;
}

static char *refname(const char *prefix, const char *branch)
{
	char *r;
	if (asprintf(&r, "%s%s", prefix, branch) < 0)
		abort();
	return r;
}

int git_workspace_descends(int *yes, const char *dir, const char *ancestor, const char *desc, struct err *e)
{
	*yes = 0;
	git_repository *repo;
	int rc = open_ws(&repo, dir, e);
	if (rc)
		return rc;
	git_oid a, d;
	int grc;
	if ((grc = git_oid_fromstr(&a, ancestor)) || (grc = git_oid_fromstr(&d, desc))) {
		rc = fail(e, grc, "reading commit ids");
	} else if (git_oid_equal(&a, &d)) {
		*yes = 1;
	} else {
		grc = git_graph_descendant_of(repo, &d, &a);
		if (grc < 0)
			rc = fail(e, grc, "comparing GitHub's history with what was seen before");
		else
			*yes = grc == 1;
	}
	git_repository_free(repo);
	return rc;
}

int git_workspace_merge_base(char out[41], const char *dir, const char *a, const char *b, struct err *e)
{
	out[0] = '\0';
	git_repository *repo;
	int rc = open_ws(&repo, dir, e);
	if (rc)
		return rc;
	git_oid x, y, m;
	int grc;
	if ((grc = git_oid_fromstr(&x, a)) || (grc = git_oid_fromstr(&y, b)))
		rc = fail(e, grc, "reading commit ids");
	else if ((grc = git_merge_base(&m, repo, &x, &y)) == 0)
		git_oid_tostr(out, 41, &m);
	else if (grc != GIT_ENOTFOUND)
		rc = fail(e, grc, "finding the last shared commit");
	git_repository_free(repo);
	return rc;
}

int git_workspace_rewrite_base(char sha[41], const char *dir, const char *branch, struct err *e)
{
	sha[0] = '\0';
	git_repository *repo;
	int rc = open_ws(&repo, dir, e);
	if (rc)
		return rc;
	char *ref = refname("refs/ghbridge/rewritten/", branch);
	git_oid oid;
	if (git_reference_name_to_id(&oid, repo, ref) == 0)
		git_oid_tostr(sha, 41, &oid);
	free(ref);
	git_repository_free(repo);
	return 0;
}

int git_workspace_set_rewrite_base(const char *dir, const char *branch, const char *sha, struct err *e)
{
	git_repository *repo;
	int rc = open_ws(&repo, dir, e);
	if (rc)
		return rc;
	char *ref = refname("refs/ghbridge/rewritten/", branch);
	git_oid oid;
	git_reference *r = NULL;
	int grc = 0;
	if (!sha || !*sha) {
		if (git_reference_lookup(&r, repo, ref) == 0)
			grc = git_reference_delete(r);
	} else if ((grc = git_oid_fromstr(&oid, sha)) == 0) {
		grc = git_reference_create(&r, repo, ref, &oid, 1, "GitHub's branch was rewritten");
	}
	if (grc)
		rc = fail(e, grc, "recording GitHub's rewritten branch");
	git_reference_free(r);
	free(ref);
	git_repository_free(repo);
	return rc;
}

/* Checkout without force, then the branch: the order git_workspace_merge uses. */
static int take(git_repository *repo, const char *branch, const git_oid *to, struct err *e)
{
	char *ref = refname("refs/heads/", branch);
	git_commit *c = NULL;
	git_reference *r = NULL;
	git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	int rc = 0, grc;
	if ((grc = git_commit_lookup(&c, repo, to)))
		rc = fail(e, grc, "reading GitHub's commit");
	else if ((grc = git_repository_set_head(repo, ref)))
		rc = fail(e, grc, "selecting the branch");
	else if ((grc = git_checkout_tree(repo, (git_object *)c, &co)) == GIT_ECONFLICT)
		rc = err_set(e, ERR_CONFLICT, "files in the folder would be overwritten");
	else if (grc)
		rc = fail(e, grc, "writing GitHub's files");
	else if ((grc = git_reference_create(&r, repo, ref, to, 1, "take GitHub's rewritten branch")))
		rc = fail(e, grc, "moving the branch");
	git_reference_free(r);
	git_commit_free(c);
	free(ref);
	return rc;
}

int git_workspace_take(const char *dir, const char *branch, const char *sha, struct err *e)
{
	git_repository *repo;
	int rc = open_ws(&repo, dir, e);
	if (rc)
		return rc;
	git_oid oid;
	int grc = git_oid_fromstr(&oid, sha);
	rc = grc ? fail(e, grc, "reading commit id") : take(repo, branch, &oid, e);
	git_repository_free(repo);
	if (rc == 0)
		git_lfs_index_refresh(dir, NULL); /* LFS files the checkout wrote as pointers: their content, by rename */
	return rc;
}

static char *conflict_list(git_index *idx)
{
	struct json_object *a = json_object_new_array();
	git_index_conflict_iterator *it = NULL;
	const git_index_entry *anc, *ours, *theirs;
	if (git_index_conflict_iterator_new(&it, idx) == 0) {
		while (git_index_conflict_next(&anc, &ours, &theirs, it) == 0) {
			const git_index_entry *x = theirs ? theirs : ours ? ours : anc;
			json_object_array_add(a, json_object_new_string(x->path));
		}
		git_index_conflict_iterator_free(it);
	}
	char *s = strdup(json_object_to_json_string(a));
	json_object_put(a);
	if (!s)
		abort();
	return s;
}

/* remote's tree with head's version of every path that changed from base to head (deleted ones removed). */
static int overlay_tree(git_oid *out, git_repository *repo, git_tree *tb, git_tree *tr, git_tree *th)
{
	git_diff *diff = NULL;
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	int grc = git_diff_tree_to_tree(&diff, repo, tb, th, &o);
	if (grc)
		return grc;
	size_t n = git_diff_num_deltas(diff), k = 0;
	git_tree_update *u = calloc(n + 1, sizeof *u);
	if (!u)
		abort();
	for (size_t i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (d->status == GIT_DELTA_DELETED) {
			git_tree_entry *te = NULL;
			if (git_tree_entry_bypath(&te, tr, d->old_file.path) != 0)
				continue; /* gone on GitHub's side too */
			git_tree_entry_free(te);
			u[k].action = GIT_TREE_UPDATE_REMOVE;
			u[k].path = d->old_file.path;
		} else {
			u[k].action = GIT_TREE_UPDATE_UPSERT;
			git_oid_cpy(&u[k].id, &d->new_file.id);
			u[k].filemode = (git_filemode_t)d->new_file.mode;
			u[k].path = d->new_file.path;
		}
		k++;
	}
	grc = git_tree_create_updated(out, repo, tr, k, u);
	free(u);
	git_diff_free(diff);
	return grc;
}

int git_workspace_replay(char out[41], int *conflicted, char **conflicts, const char *dir, const char *branch,
			 const char *base, const char *remote, const char *head, const char *side, int overlay_only,
			 struct err *e)
{
	out[0] = '\0';
	*conflicted = 0;
	*conflicts = NULL;
	git_repository *repo;
	int rc = open_ws(&repo, dir, e);
	if (rc)
		return rc;
	git_oid ob, orm, oh, toid, coid;
	git_commit *cb = NULL, *cr = NULL, *ch = NULL;
	git_tree *tb = NULL, *tr = NULL, *th = NULL, *tn = NULL;
	git_index *idx = NULL;
	git_signature *committer = NULL;
	int grc;
	if ((grc = git_oid_fromstr(&ob, base)) || (grc = git_oid_fromstr(&orm, remote)) ||
	    (grc = git_oid_fromstr(&oh, head)) || (grc = git_commit_lookup(&cb, repo, &ob)) ||
	    (grc = git_commit_lookup(&cr, repo, &orm)) || (grc = git_commit_lookup(&ch, repo, &oh)) ||
	    (grc = git_commit_tree(&tb, cb)) || (grc = git_commit_tree(&tr, cr)) || (grc = git_commit_tree(&th, ch))) {
		rc = fail(e, grc, "reading the commits to replay");
		goto out;
	}
	if (!overlay_only) {
		git_merge_options mo = GIT_MERGE_OPTIONS_INIT;
		if ((grc = git_merge_trees(&idx, repo, tb, tr, th, &mo))) {
			rc = fail(e, grc, "replaying the project's changes");
			goto out;
		}
	}
	if (overlay_only || git_index_has_conflicts(idx)) {
		*conflicted = 1;
		*conflicts = idx ? conflict_list(idx) : strdup("[]");
		if ((grc = overlay_tree(&toid, repo, tb, tr, th))) {
			rc = fail(e, grc, "writing the project's version");
			goto out;
		}
	} else if ((grc = git_index_write_tree_to(&toid, idx, repo))) {
		rc = fail(e, grc, "writing the replayed tree");
		goto out;
	}
	if (git_oid_equal(&toid, git_tree_id(tr)) && !*conflicted) {
		/* GitHub's new history has every change already. */
		if ((rc = take(repo, branch, &orm, e)) == 0)
			git_oid_tostr(out, 41, &orm);
		goto out;
	}
	const git_commit *parents[1] = { cr };
	git_commit *cs = NULL;
	git_oid os;
	if (*conflicted && side && *side && git_oid_fromstr(&os, side) == 0 && git_commit_lookup(&cs, repo, &os) == 0) {
		/* The side branch of an earlier run, made on this same history of GitHub's: go on from it. */
		const git_oid *sp = git_commit_parentcount(cs) == 1 ? git_commit_parent_id(cs, 0) : NULL;
		if (!sp || !git_oid_equal(sp, &orm)) {
			git_commit_free(cs);
			cs = NULL;
		} else if (git_oid_equal(git_commit_tree_id(cs), &toid)) {
			git_oid_tostr(out, 41, &os);
			git_commit_free(cs);
			goto out;
		} else {
			parents[0] = cs;
		}
	}
	if ((grc = git_tree_lookup(&tn, repo, &toid)) ||
	    /* Head's time, not now: the same changes on the same history make the same commit, so a side
	     * branch pushed again is up to date instead of "moved" (which would open another one). */
	    (grc = git_signature_new(&committer, "ghbridge", "ghbridge@users.noreply.github.com",
				     git_commit_time(ch), git_commit_time_offset(ch))) ||
	    (grc = git_commit_create(&coid, repo, NULL, git_commit_author(ch), committer, NULL, git_commit_message(ch), tn,
				     1, parents))) {
		git_commit_free(cs);
		rc = fail(e, grc, "committing the replayed changes");
		goto out;
	}
	git_commit_free(cs);
	if (!*conflicted && (rc = take(repo, branch, &coid, e)))
		goto out;
	git_oid_tostr(out, 41, &coid);
out:
	if (rc && *conflicts) {
		free(*conflicts);
		*conflicts = NULL;
	}
	git_signature_free(committer);
	git_index_free(idx);
	git_tree_free(tn);
	git_tree_free(th);
	git_tree_free(tr);
	git_tree_free(tb);
	git_commit_free(ch);
	git_commit_free(cr);
	git_commit_free(cb);
	git_repository_free(repo);
	return rc;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct ws_file *)a)->path, ((const struct ws_file *)b)->path);
}

int git_workspace_mark_unpushed(struct ws_file **files, int *n, const char *dir, const char *branch, struct err *e)
{
	git_repository *repo;
	int rc = open_ws(&repo, dir, e);
	if (rc)
		return rc;
	char *lref = refname("refs/heads/", branch), *tref = refname("refs/remotes/origin/", branch);
	git_oid lo, to;
	git_commit *lc = NULL, *tc = NULL;
	git_tree *lt = NULL, *tt = NULL;
	git_diff *diff = NULL;
	int have_tip = git_reference_name_to_id(&to, repo, tref) == 0;
	if (git_reference_name_to_id(&lo, repo, lref) != 0 || (have_tip && git_oid_equal(&lo, &to)))
		goto out; /* nothing committed, or GitHub has the tip */
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	int grc;
	if ((grc = git_commit_lookup(&lc, repo, &lo)) || (grc = git_commit_tree(&lt, lc)) ||
	    (have_tip && ((grc = git_commit_lookup(&tc, repo, &to)) || (grc = git_commit_tree(&tt, tc)))) ||
	    (grc = git_diff_tree_to_tree(&diff, repo, tt, lt, &o))) {
		rc = fail(e, grc, "comparing with GitHub's branch");
		goto out;
	}
	size_t nd = git_diff_num_deltas(diff);
	int n0 = *n;
	for (size_t i = 0; i < nd; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path;
		struct ws_file key = { .path = (char *)path };
		struct ws_file *f = n0 ? bsearch(&key, *files, (size_t)n0, sizeof **files, cmp_path) : NULL;
		if (f) {
			if (strcmp(f->status, "synced") == 0 && f->kind && strcmp(f->kind, "file") == 0)
				f->status = d->status == GIT_DELTA_ADDED ? "new" : "modified";
			continue;
		}
		if (d->status != GIT_DELTA_DELETED)
			continue; /* committed, gone from the folder since: git_workspace_files lists it deleted */
		struct ws_file *grown = realloc(*files, (size_t)(*n + 1) * sizeof **files);
		if (!grown)
			abort();
		*files = grown;
		struct ws_file *x = &(*files)[(*n)++];
		memset(x, 0, sizeof *x);
		x->path = strdup(path);
		if (!x->path)
			abort();
		x->status = "deleted";
		x->kind = "file";
		x->size = -1;
	}
	if (*n > n0)
		qsort(*files, (size_t)*n, sizeof **files, cmp_path);
out:
	git_diff_free(diff);
	git_tree_free(lt);
	git_tree_free(tt);
	git_commit_free(lc);
	git_commit_free(tc);
	free(lref);
	free(tref);
	git_repository_free(repo);
	return rc;
}
