/* branch.c: branch names and the workspace operations behind "a pull request from pending changes" (libgit2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <git2.h>
#include "core/fsafe.h"
#include "git/branch.h"
#include "git/lfs.h"
#include "git/refname.h"

/* libgit2's documented *_INIT macros set only the version fields. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static int fail(struct err *e, int grc, const char *what)
{
	const git_error *ge = git_error_last();
	return err_set(e, grc == GIT_ECONFLICT || grc == GIT_EMERGECONFLICT ? ERR_CONFLICT : ERR_FAIL, "%s: %s", what,
		       ge && ge->message ? ge->message : "unknown error");
}

/* Once per process, like workspace.c: the library stays up for the process's life. */
static void lib_init(void)
{
	static int done;
	if (!done) {
		git_libgit2_init();
		done = 1;
	}
}

static int open_ws(git_repository **repo, const char *dir, const char *excludes, struct err *e)
{
	lib_init();
	int grc, rc = git_workspace_repo_open(repo, dir, e); /* core.symlinks=false: see workspace.h */
	if (rc)
		return rc;
	if (excludes && *excludes && (grc = git_ignore_add_rule(*repo, excludes)) != 0) {
		git_repository_free(*repo);
		*repo = NULL;
		return fail(e, grc, "exclude patterns");
	}
	return 0;
}

static void close_ws(git_repository *repo)
{
	git_repository_free(repo);
}

static char *heads(const char *branch)
{
	char *r;
	if (asprintf(&r, "refs/heads/%s", branch) < 0)
		abort();
	return r;
}

int git_branch_name_ok(const char *name)
{
	return git_branch_name_problem(name) == NULL;
}

struct skip {
	git_repository *repo;
	git_index *idx;
	int root;
};

/* Excluded paths, and what workspace.h's git_workspace_path_refused keeps out of git (links, fifos,
 * devices, GitHub's links): the same rule as a sync's staging. */
static int skip_excluded(const char *path, const char *matched, void *payload)
{
	(void)matched;
	struct skip *k = payload;
	int ign = 0;
	if (git_ignore_path_is_ignored(&ign, k->repo, path) == 0 && ign)
		return 1;
	return git_workspace_path_refused(k->idx, k->root, path);
}

int git_workspace_commit_branch(struct ws_commit *out, int *reused, const char *dir, const char *base,
				const char *branch, const char *excludes, const char *message, const char *author_name,
				const char *author_email, struct err *e)
{
	memset(out, 0, sizeof *out);
	*reused = 0;
	git_repository *repo;
	int rc = git_workspace_rules_check(dir, e); /* git reads .gitignore/.gitattributes by path */
	if (rc)
		return rc;
	rc = open_ws(&repo, dir, excludes, e);
	if (rc)
		return rc;
	char *bref = heads(base), *nref = heads(branch);
	git_index *idx = NULL;
	git_commit *parent = NULL;
	git_tree *ptree = NULL, *tree = NULL;
	git_diff *diff = NULL;
	git_diff_stats *stats = NULL;
	git_signature *author = NULL, *committer = NULL;
	git_oid base_oid, tree_oid, oid;
	int grc;
	if (git_reference_name_to_id(&oid, repo, nref) == 0) {
		git_oid_tostr(out->sha, sizeof out->sha, &oid);
		*reused = 1;
		goto out;
	}
	if (git_reference_name_to_id(&base_oid, repo, bref) != 0) {
		rc = err_set(e, ERR_NOTFOUND, "The project has not been synced with %s yet; sync it once first.", base);
		goto out;
	}
	/* The repository's index object is staged in memory only and never written: the index
	 * file keeps describing the sync branch. */
	struct skip k = { repo, NULL, fsafe_root(dir) };
	if (k.root < 0) {
		rc = err_set(e, ERR_FAIL, "workspace %s: %s", dir, fsafe_strerror(k.root));
		goto out;
	}
	if ((grc = git_repository_index(&idx, repo)) == 0) {
		k.idx = idx;
		if ((grc = git_index_add_all(idx, NULL, GIT_INDEX_ADD_DEFAULT, skip_excluded, &k)) == 0 &&
		    (grc = git_index_update_all(idx, NULL, skip_excluded, &k)) == 0)
			grc = git_index_write_tree(&tree_oid, idx);
	}
	close(k.root);
	if (grc) {
		rc = fail(e, grc, "staging the workspace");
		goto out;
	}
	if ((grc = git_commit_lookup(&parent, repo, &base_oid)) || (grc = git_commit_tree(&ptree, parent))) {
		rc = fail(e, grc, "reading the sync branch");
		goto out;
	}
	if (git_oid_equal(git_tree_id(ptree), &tree_oid)) {
		rc = err_set(e, ERR_INVALID, "There are no pending changes to put in a pull request.");
		goto out;
	}
	if ((grc = git_tree_lookup(&tree, repo, &tree_oid)) ||
	    (grc = git_diff_tree_to_tree(&diff, repo, ptree, tree, NULL)) ||
	    (grc = git_diff_get_stats(&stats, diff))) {
		rc = fail(e, grc, "comparing with the sync branch");
		goto out;
	}
	out->files_changed = (int)git_diff_stats_files_changed(stats);
	out->additions = (int)git_diff_stats_insertions(stats);
	out->deletions = (int)git_diff_stats_deletions(stats);
	if ((grc = git_signature_now(&author, author_name, author_email)) ||
	    (grc = git_signature_now(&committer, "ghbridge", "ghbridge@users.noreply.github.com"))) {
		rc = fail(e, grc, "commit signature");
		goto out;
	}
	const git_commit *parents[1] = { parent };
	/* update_ref creates the new branch; HEAD keeps pointing at the sync branch. */
	if ((grc = git_commit_create(&oid, repo, nref, author, committer, NULL, message, tree, 1, parents))) {
		rc = fail(e, grc, "committing to the new branch");
		goto out;
	}
	git_oid_tostr(out->sha, sizeof out->sha, &oid);
out:
	git_signature_free(author);
	git_signature_free(committer);
	git_diff_stats_free(stats);
	git_diff_free(diff);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	git_index_free(idx);
	close_ws(repo);
	free(bref);
	free(nref);
	return rc;
}

int git_workspace_restore(const char *dir, const char *from_sha, const char *base, const char *excludes,
			  struct err *e)
{
	git_repository *repo;
	int rc = git_workspace_rules_check(dir, e); /* git reads .gitignore/.gitattributes by path */
	if (rc)
		return rc;
	rc = open_ws(&repo, dir, excludes, e);
	if (rc)
		return rc;
	char *bref = heads(base);
	git_oid from_oid, base_oid;
	git_commit *from = NULL, *target = NULL;
	git_tree *from_tree = NULL, *target_tree = NULL;
	git_index *idx = NULL;
	int grc;
	if ((grc = git_oid_fromstr(&from_oid, from_sha)) || (grc = git_commit_lookup(&from, repo, &from_oid)) ||
	    (grc = git_commit_tree(&from_tree, from)) || (grc = git_reference_name_to_id(&base_oid, repo, bref)) ||
	    (grc = git_commit_lookup(&target, repo, &base_oid)) || (grc = git_commit_tree(&target_tree, target))) {
		rc = fail(e, grc, "reading the branches");
		goto out;
	}
	/* SAFE against the branch commit as baseline: a file still as committed there goes back to
	 * the sync branch's version; a file changed since is a conflict and cancels everything. */
	git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	co.baseline = from_tree;
	if ((grc = git_checkout_tree(repo, (const git_object *)target_tree, &co))) {
		rc = fail(e, grc, "putting the workspace back to the sync branch");
		goto out;
	}
	if ((grc = git_repository_index(&idx, repo)) || (grc = git_index_read_tree(idx, target_tree)) ||
	    (grc = git_index_write(idx))) {
		rc = fail(e, grc, "resetting the index");
		goto out;
	}
	git_lfs_index_refresh(dir, NULL); /* LFS files the checkout wrote as pointers: their content, by rename */
out:
	git_index_free(idx);
	git_tree_free(from_tree);
	git_tree_free(target_tree);
	git_commit_free(from);
	git_commit_free(target);
	close_ws(repo);
	free(bref);
	return rc;
}

int git_workspace_contains(int *has, const char *dir, const char *branch, const char *sha, struct err *e)
{
	*has = 0;
	git_repository *repo;
	int rc = open_ws(&repo, dir, NULL, e);
	if (rc)
		return rc;
	char *ref = heads(branch);
	git_oid tip, want;
	if (git_oid_fromstr(&want, sha) == 0 && git_reference_name_to_id(&tip, repo, ref) == 0)
		*has = git_oid_equal(&tip, &want) || git_graph_descendant_of(repo, &tip, &want) == 1;
	free(ref);
	close_ws(repo);
	return 0;
}

int git_workspace_head_commit(char sha[41], const char *dir, struct err *e)
{
	sha[0] = '\0';
	git_repository *repo;
	int rc = open_ws(&repo, dir, NULL, e);
	if (rc)
		return rc;
	git_oid oid;
	if (git_reference_name_to_id(&oid, repo, "HEAD") == 0)
		git_oid_tostr(sha, 41, &oid);
	close_ws(repo);
	return 0;
}

int git_workspace_branch_start(char from[41], char *from_branch, size_t len, const char *dir, const char *branch,
			       struct err *e)
{
	from[0] = '\0';
	if (from_branch && len)
		from_branch[0] = '\0';
	git_repository *repo;
	int rc = open_ws(&repo, dir, NULL, e);
	if (rc)
		return rc;
	char *ref = heads(branch);
	git_oid oid;
	git_reference *head = NULL, *created = NULL;
	int grc;
	if (git_reference_name_to_id(&oid, repo, ref) == 0) {
		git_oid_tostr(from, 41, &oid); /* there already */
		goto out;
	}
	if (git_repository_head(&head, repo) != 0 || !git_reference_target(head))
		goto out; /* unborn: nothing to start from */
	oid = *git_reference_target(head);
	if (from_branch && len && strncmp(git_reference_name(head), "refs/heads/", 11) == 0)
		snprintf(from_branch, len, "%s", git_reference_name(head) + 11);
	/* HEAD moves to the new branch at the same commit: the index and the files stay, so the
	 * workspace's unsynced changes are exactly what they were. */
	if ((grc = git_reference_create(&created, repo, ref, &oid, 0, "ghbridge: new sync branch")) ||
	    (grc = git_repository_set_head(repo, ref))) {
		rc = fail(e, grc, "starting the branch");
		goto out;
	}
	git_oid_tostr(from, 41, &oid);
out:
	git_reference_free(created);
	git_reference_free(head);
	close_ws(repo);
	free(ref);
	return rc;
}
