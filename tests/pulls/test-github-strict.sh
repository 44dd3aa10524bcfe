#!/usr/bin/env bash
# tests/pulls/test-github-strict.sh: ghbridge against a GitHub that refuses as GitHub does (issue 12): a draft
# is not merged (409 draft, GitHub's words), a merge method the repository turned off since ghbridge read its
# settings is a 422 method_not_allowed after GitHub's 405, an archived repository's refusals reach the user in
# GitHub's words, delete_branch_on_merge on GitHub leaves nothing for ghbridge to delete, and a head branch
# deleted on GitHub closes the pull request ghbridge shows.
set -u
. "$ROOT/tests/pulls/lib-pulls.sh"

new_project "Strict one"
until_ok 30 test "$(webhook_status)" = active
check_eq "project synced, webhook active" "SUCCESS active" "$(project_status) $(webhook_status)"

# ---------------------------------------------------------------- a draft is not merged
jcall POST "/projects/$PID/branches" '{"name":"strict/draft"}' >/dev/null
web_commit strict/draft d.txt d
check_eq "a draft pull request" 201 "$(jcall POST "/projects/$PID/pulls" '{"title":"Draft","head":"strict/draft","draft":true}')"
ND=$(jq -r .number "$T/body")
check_eq "merging it → 409 draft" "409 draft" \
	"$(s=$(jcall POST "/projects/$PID/pulls/$ND/merge" '{"method":"merge"}'); echo "$s $(jq -r .error.code "$T/body")")"
# ghbridge knows it is a draft and refuses before asking GitHub (issue 13, item 5); GitHub's own 405 for a pull
# request made a draft on GitHub since ghbridge read it still comes back in GitHub's words.
check_match "… saying what to do" "draft: mark it ready for review first|Pull Request is still a draft" "$(jq -r .error.message "$T/body")"
check_eq "… still open on GitHub" open "$(gh GET "/repos/$OWNER/$REPO/pulls/$ND" >/dev/null; jq -r .state "$T/gh")"

# ---------------------------------------------------------------- a method turned off on GitHub since ghbridge looked
jcall POST "/projects/$PID/branches" '{"name":"strict/squash"}' >/dev/null
web_commit strict/squash s.txt s
jcall POST "/projects/$PID/pulls" '{"title":"Squash me","head":"strict/squash"}' >/dev/null
NS=$(jq -r .number "$T/body")
check_eq "the pull request's page (ghbridge reads the merge settings: squash allowed)" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-octocat" "$GHB_URL/projects/$PID/pulls/$NS")"
check_eq "squash turned off on GitHub" "200" "$(gh PATCH "/repos/$OWNER/$REPO" -d '{"allow_squash_merge":false}')"
check_eq "a squash merge then → 422 method_not_allowed" "422 method_not_allowed" \
	"$(s=$(jcall POST "/projects/$PID/pulls/$NS/merge" '{"method":"squash"}'); echo "$s $(jq -r .error.code "$T/body")")"
check_match "… in GitHub's words" "Squash merges are not allowed on this repository" "$(jq -r .error.message "$T/body")"
check_eq "… and ghbridge now knows: refused before asking GitHub" "422 method_not_allowed" \
	"$(s=$(jcall POST "/projects/$PID/pulls/$NS/merge" '{"method":"squash"}'); echo "$s $(jq -r .error.code "$T/body")")"
gh PATCH "/repos/$OWNER/$REPO" -d '{"allow_squash_merge":true,"delete_branch_on_merge":true}' >/dev/null

# ---------------------------------------------------------------- delete_branch_on_merge on GitHub
check_eq "GitHub deletes the head itself; ghbridge's delete finds it gone" 200 \
	"$(s=$(jcall POST "/projects/$PID/pulls/$NS/merge" '{"method":"merge","delete_branch":true}'); echo "$s")"
check_match "… the note says deleted" "deleted" "$(jq -r .note "$T/body")"
check_eq "… the branch is gone" "" "$(remote_sha strict/squash)"
gh PATCH "/repos/$OWNER/$REPO" -d '{"delete_branch_on_merge":false}' >/dev/null

# ---------------------------------------------------------------- a head branch deleted on GitHub
jcall POST "/projects/$PID/branches" '{"name":"strict/gone"}' >/dev/null
web_commit strict/gone g.txt g
jcall POST "/projects/$PID/pulls" '{"title":"Gone","head":"strict/gone"}' >/dev/null
NG=$(jq -r .number "$T/body")
check_eq "the head branch deleted on GitHub" 204 "$(gh DELETE "/repos/$OWNER/$REPO/git/refs/heads/strict/gone")"
check "ghbridge shows the pull request closed (the closed webhook)" until_ok 20 test "$(pull_field "$NG" .state)" = closed

# ---------------------------------------------------------------- an archived repository
jcall POST "/projects/$PID/branches" '{"name":"strict/archived"}' >/dev/null
web_commit strict/archived a.txt a
jcall POST "/projects/$PID/pulls" '{"title":"Archived","head":"strict/archived"}' >/dev/null
NA=$(jq -r .number "$T/body")
check_eq "the repository archived on GitHub" 200 "$(gh PATCH "/repos/$OWNER/$REPO" -d '{"archived":true}')"
check_eq "merging → 403 forbidden" "403 forbidden" \
	"$(s=$(jcall POST "/projects/$PID/pulls/$NA/merge" '{"method":"merge"}'); echo "$s $(jq -r .error.code "$T/body")")"
check_match "… in GitHub's words" "Repository was archived so is read-only" "$(jq -r .error.message "$T/body")"
check_eq "a new branch → 403" 403 "$(jcall POST "/projects/$PID/branches" '{"name":"strict/new"}')"
check_match "… in GitHub's words" "Repository was archived so is read-only" "$(jq -r '.error.message // .message // .' "$T/body")"
check_eq "unarchived" 200 "$(gh PATCH "/repos/$OWNER/$REPO" -d '{"archived":false}')"
check_eq "… the merge goes through" 200 "$(jcall POST "/projects/$PID/pulls/$NA/merge" '{"method":"merge"}')"
finish
