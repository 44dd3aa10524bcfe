/* refname.h: the one check of ref and branch names, by git's rules (git-check-ref-format(1)) and GitHub's. */
#ifndef GHB_GIT_REFNAME_H
#define GHB_GIT_REFNAME_H

/* The longest branch name ghbridge takes (its own limit: git has none, file systems do). */
#define GIT_BRANCH_NAME_MAX 200

/* NULL when refname is a well-formed full ref name ("refs/heads/x", "refs/tags/v1") by the ten rules
 * of git-check-ref-format(1) without --allow-onelevel, --refspec-pattern or --normalize (git's
 * refs.c check_refname_format); else a short sentence naming the rule it breaks. Never fails. */
const char *git_refname_problem(const char *refname);

/* NULL when name can be the branch refs/heads/<name>: git-check-ref-format --branch (the rules
 * above for refs/heads/<name>, plus no leading '-' and not "HEAD"), and GitHub's own refusals: no
 * name that begins with "refs/" (GitHub changelog 2023-03-23, "Block ambiguous branch and tag
 * names"), none of exactly 40 hex digits (GitHub's push refusal GH002, a name that reads as a commit
 * id), valid UTF-8 (GitHub's REST API carries names in JSON), at most GIT_BRANCH_NAME_MAX bytes.
 * Else a short sentence naming the rule broken. Never fails. */
const char *git_branch_name_problem(const char *name);

#endif
