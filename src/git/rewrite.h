/* rewrite.h: GitHub's branch rewritten (force-pushed): what ghbridge last saw, replaying local changes on GitHub's new history, unpushed files. */
#ifndef GHB_GIT_REWRITE_H
#define GHB_GIT_REWRITE_H

#include "core/err.h"
#include "git/workspace.h"

/* *yes = 1 when desc is ancestor or has it in its history (git merge-base --is-ancestor). */
int git_workspace_descends(int *yes, const char *dir, const char *ancestor, const char *desc, struct err *e);
/* The last commit both a and b have (git merge-base), "" when none. */
int git_workspace_merge_base(char out[41], const char *dir, const char *a, const char *b, struct err *e);

/* refs/ghbridge/rewritten/<branch>: set while the workspace's branch holds history GitHub dropped from
 * its branch (a force-push). It names the last commit the workspace and GitHub's old history shared:
 * what the branch has beyond it is the project's own and is replayed on GitHub's new history; the rest
 * is never pushed. "" when not set; sha NULL clears it. */
int git_workspace_rewrite_base(char sha[41], const char *dir, const char *branch, struct err *e);
int git_workspace_set_rewrite_base(const char *dir, const char *branch, const char *sha, struct err *e);

/* Moves refs/heads/branch to sha and brings the index and folder to its tree the way `git checkout`
 * does without --force: changes not committed stay as changes on top when sha does not touch those
 * files; files untracked (excluded) stay. ERR_CONFLICT (nothing changed) when sha would overwrite one. */
int git_workspace_take(const char *dir, const char *branch, const char *sha, struct err *e);

/* The project's changes (base..head) replayed on remote, as `git rebase --onto remote base head` would
 * in one commit (head's author and message): a three-way merge of the trees (base, remote, head). Clean:
 * *out is a new commit whose only parent is remote (or remote itself when the changes are already
 * there), and the branch and folder move to it (git_workspace_take). When both sides changed the same
 * lines, *conflicted = 1, *conflicts names the files (JSON array text, caller frees) and *out is a
 * commit on remote holding head's version of every file the project changed (for a side branch and a
 * pull request; nothing of the dropped history); the branch is left as it was. overlay_only skips the
 * merge and always makes that second kind of commit (pulling GitHub's changes is off). side (NULL or "":
 * none) is the side branch's tip from an earlier run: when it was made on remote too, the new commit
 * goes on top of it (or is it, when nothing changed), so the side branch moves forward and its pull
 * request stays the one. */
int git_workspace_replay(char out[41], int *conflicted, char **conflicts, const char *dir, const char *branch,
			 const char *base, const char *remote, const char *head, const char *side, int overlay_only,
			 struct err *e);

/* A commit GitHub does not have is not synced: files whose content at the branch tip differs from
 * GitHub's tip as last seen (git_workspace_tracking; no tip: every file) are listed as changed ("new",
 * "modified", "deleted"), not "synced". Adjusts the list git_workspace_files made (sorted by path),
 * appending files deleted at the tip. */
int git_workspace_mark_unpushed(struct ws_file **files, int *n, const char *dir, const char *branch, struct err *e);

#endif
