#!/bin/bash
# tests/fakehub/test-fidelity.sh: fakehub behaves as GitHub does where it used to be kinder (issue 12):
# mergeability computed later, draft and merge-setting refusals (405), delete_branch_on_merge, a deleted head
# branch closing its pull request, archived repositories (403 on API writes and pushes), the repository and
# pull request objects' fields, push-event times as integers, Location on 201s, the OAuth scope headers,
# PATCH of a hook and the API root.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/fakehub/lib-fakehub.sh"
if ! command -v jq >/dev/null; then skip "fakehub fidelity" "jq is not installed"; finish; exit; fi

T=$(token octocat repo)
name=$(uniq_name fidelity)
api POST /user/repos "$T" "{\"name\":\"$name\",\"auto_init\":true}" >/dev/null
R=/repos/octocat/$name
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
export GIT_TERMINAL_PROMPT=0 GIT_AUTHOR_NAME=octocat GIT_AUTHOR_EMAIL=octocat@github.com GIT_COMMITTER_NAME=octocat GIT_COMMITTER_EMAIL=octocat@github.com
CLONE="http://x-access-token:$T@${F#http://}/octocat/$name.git"
git clone -q "$CLONE" "$W/w"
sink=sink-$name
api POST "$R/hooks" "$T" "{\"events\":[\"push\",\"pull_request\"],\"config\":{\"url\":\"$F/_fakehub/sink/$sink\",\"content_type\":\"json\"}}" >/dev/null
last_body() { curl -s "$F/_fakehub/sink/$sink/last/body"; }
# branch NAME FILE: a branch with one commit on top of main, pushed.
branch() { (cd "$W/w" && git fetch -q origin && git checkout -q -B "$1" origin/main 2>/dev/null || git checkout -q -B "$1" main; echo "$1" > "$2" && git add "$2" && git commit -qm "$1" && git push -q origin "$1"); }
pr() { api POST "$R/pulls" "$T" "{\"title\":\"$1\",\"head\":\"$1\",\"base\":\"main\"${2:+,$2}}" | body_of | jq -r .number; }
field() { api GET "$R/pulls/$1" "$T" | body_of | jq -r "$2"; }

# ---- mergeability is computed later (docs pulls/get: null while GitHub's background job runs)
branch feat-a a.txt
res=$(api POST "$R/pulls" "$T" '{"title":"feat-a","head":"feat-a","base":"main"}')
NA=$(printf '%s' "$res" | body_of | jq -r .number)
check_eq "a new pull request answers mergeable null, unknown" "null unknown" "$(printf '%s' "$res" | body_of | jq -r '"\(.mergeable) \(.mergeable_state)"')"
check_eq "… the opened webhook too" "null" "$(last_body | jq -r .pull_request.mergeable)"
check_eq "the first GET: still null, unknown (the computation starts)" "null unknown" "$(field "$NA" '"\(.mergeable) \(.mergeable_state)"')"
check_eq "the second GET: computed, clean" "true clean" "$(field "$NA" '"\(.mergeable) \(.mergeable_state)"')"
(cd "$W/w" && git checkout -q feat-a && echo more >> a.txt && git commit -qam more && git push -q origin feat-a)
check_eq "a pushed head starts over: null" "null unknown" "$(field "$NA" '"\(.mergeable) \(.mergeable_state)"')"
check_eq "… then computed again" "true" "$(field "$NA" .mergeable)"
check_eq "the list carries no mergeable" "false" "$(api GET "$R/pulls" "$T" | body_of | jq -r '.[0] | has("mergeable")')"

# ---- the pull request object: _links
pj=$(api GET "$R/pulls/$NA" "$T" | body_of)
check_eq "_links.self is the pull request's url" "$(printf '%s' "$pj" | jq -r .url)" "$(printf '%s' "$pj" | jq -r ._links.self.href)"
check_eq "_links has GitHub's eight links" "comments commits html issue review_comment review_comments self statuses" \
	"$(printf '%s' "$pj" | jq -r '._links | keys | join(" ")')"

# ---- drafts cannot be merged (405, GitHub's words)
branch feat-d d.txt
ND=$(pr feat-d '"draft":true')
field "$ND" .mergeable >/dev/null
check_eq "a computed draft shows mergeable_state draft" "draft" "$(field "$ND" .mergeable_state)"
res=$(api PUT "$R/pulls/$ND/merge" "$T" '{}')
check_eq "merging a draft → 405" 405 "$(printf '%s' "$res" | status_of)"
check_eq "… Pull Request is still a draft" "Pull Request is still a draft" "$(printf '%s' "$res" | body_of | jq -r .message)"
check_eq "… still open" open "$(field "$ND" .state)"

# ---- the merge button's settings (docs repos/update), enforced on merge
rj=$(api GET "$R" "$T" | body_of)
check_eq "repository shows GitHub's defaults" "true true true false false" \
	"$(printf '%s' "$rj" | jq -r '"\(.allow_merge_commit) \(.allow_squash_merge) \(.allow_rebase_merge) \(.delete_branch_on_merge) \(.archived)"')"
check_eq "PATCH allow_merge_commit false → 200" "200 false" \
	"$(res=$(api PATCH "$R" "$T" '{"allow_merge_commit":false}'); echo "$(printf '%s' "$res" | status_of) $(printf '%s' "$res" | body_of | jq -r .allow_merge_commit)")"
res=$(api PUT "$R/pulls/$NA/merge" "$T" '{"merge_method":"merge"}')
check_eq "a merge commit then → 405" 405 "$(printf '%s' "$res" | status_of)"
check_eq "… in GitHub's words" "Merge commits are not allowed on this repository." "$(printf '%s' "$res" | body_of | jq -r .message)"
api PATCH "$R" "$T" '{"allow_merge_commit":true,"allow_squash_merge":false,"allow_rebase_merge":false}' >/dev/null
check_eq "squash off → 405 Squash merges are not allowed" "405 Squash merges are not allowed on this repository." \
	"$(res=$(api PUT "$R/pulls/$NA/merge" "$T" '{"merge_method":"squash"}'); echo "$(printf '%s' "$res" | status_of) $(printf '%s' "$res" | body_of | jq -r .message)")"
check_eq "rebase off → 405 Rebase merges are not allowed" "405 Rebase merges are not allowed on this repository." \
	"$(res=$(api PUT "$R/pulls/$NA/merge" "$T" '{"merge_method":"rebase"}'); echo "$(printf '%s' "$res" | status_of) $(printf '%s' "$res" | body_of | jq -r .message)")"
check_eq "turning off all three → 422" 422 "$(api PATCH "$R" "$T" '{"allow_merge_commit":false}' | status_of)"
check_eq "a non-boolean setting → 422" 422 "$(api PATCH "$R" "$T" '{"allow_squash_merge":"yes"}' | status_of)"
api PATCH "$R" "$T" '{"allow_squash_merge":true,"allow_rebase_merge":true,"delete_branch_on_merge":true}' >/dev/null
check_eq "delete_branch_on_merge on" true "$(api GET "$R" "$T" | body_of | jq -r .delete_branch_on_merge)"
check_eq "an allowed method merges → 200" 200 "$(api PUT "$R/pulls/$NA/merge" "$T" '{"merge_method":"squash"}' | status_of)"
check_eq "… and the head branch is deleted" 404 "$(api GET "$R/branches/feat-a" "$T" | status_of)"
check_eq "… with its push event (deleted)" "refs/heads/feat-a true" "$(last_body | jq -r '"\(.ref) \(.deleted)"')"
api PATCH "$R" "$T" '{"delete_branch_on_merge":false}' >/dev/null

# ---- deleting a pull request's head branch closes it (pull_request closed)
branch feat-x x.txt
NX=$(pr feat-x)
check_eq "deleting the head branch → 204" 204 "$(api DELETE "$R/git/refs/heads/feat-x" "$T" | status_of)"
check_eq "… the pull request is closed, not merged" "closed false" "$(field "$NX" '"\(.state) \(.merged)"')"
check_eq "… and the closed webhook was sent" "closed $NX" "$(last_body | jq -r '"\(.action) \(.number)"')"
check_eq "… it cannot be reopened" 422 "$(api PATCH "$R/pulls/$NX" "$T" '{"state":"open"}' | status_of)"

# ---- push events carry the repository's created_at and pushed_at as integers
(cd "$W/w" && git checkout -q main && git pull -q origin main 2>/dev/null; echo p > p.txt && git add p.txt && git commit -qm p && git push -q origin main)
check_eq "push event: repository.created_at and pushed_at are numbers" "number number" \
	"$(last_body | jq -r '"\(.repository.created_at | type) \(.repository.pushed_at | type)"')"
check_eq "… pushed_at not before created_at" "true" "$(last_body | jq -r "(.repository.pushed_at >= .repository.created_at)")"

# ---- the repository object has every field GitHub's schema requires
check_eq "repository *_url templates as GitHub spells them" \
	"$A$R/{archive_format}{/ref} $A$R/contents/{+path} $A$R/git/trees{/sha} $A$R/notifications{?since,all,participating}" \
	"$(api GET "$R" "$T" | body_of | jq -r '"\(.archive_url) \(.contents_url) \(.trees_url) \(.notifications_url)"')"
check_eq "… and the counts and flags of full-repository" "0 0 false null" \
	"$(api GET "$R" "$T" | body_of | jq -r '"\(.network_count) \(.subscribers_count) \(.has_discussions) \(.mirror_url)"')"

# ---- 201s say where (Location), and every answer says the token's and the route's scopes
hdr=$(curl -s -D - -o /dev/null -X POST "$A$R/git/refs" -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \
	-d "{\"ref\":\"refs/heads/loc\",\"sha\":\"$(api GET "$R/branches/main" "$T" | body_of | jq -r .commit.sha)\"}" | tr -d '\r')
check_match "POST git/refs → 201 with Location" "^Location: $A$R/git/refs/heads/loc\$" "$hdr"
hdr=$(curl -s -D - -o /dev/null "$A$R" -H "Authorization: Bearer $T" | tr -d '\r')
check_match "X-OAuth-Scopes: the token's scopes" '^X-OAuth-Scopes: repo$' "$hdr"
check_match "X-Accepted-OAuth-Scopes: what the route checks for" '^X-Accepted-OAuth-Scopes: repo$' "$hdr"
check_match "hooks accept the repo_hook scopes" '^X-Accepted-OAuth-Scopes: admin:repo_hook, read:repo_hook, repo, write:repo_hook$' \
	"$(curl -s -D - -o /dev/null "$A$R/hooks" -H "Authorization: Bearer $T" | tr -d '\r')"

# ---- PATCH /repos/{o}/{r}/hooks/{id} (docs repos/update-webhook)
HID=$(api GET "$R/hooks" "$T" | body_of | jq -r '.[0].id')
res=$(api PATCH "$R/hooks/$HID" "$T" '{"add_events":["status"],"remove_events":["push"],"active":false}')
check_eq "PATCH a hook → 200" 200 "$(printf '%s' "$res" | status_of)"
check_eq "… events added and removed, inactive" "pull_request,status false" "$(printf '%s' "$res" | body_of | jq -r '"\(.events | sort | join(",")) \(.active)"')"
check_eq "… config url kept, content type changed" "$F/_fakehub/sink/$sink form" \
	"$(api PATCH "$R/hooks/$HID" "$T" '{"config":{"content_type":"form"},"events":["push","pull_request"],"active":true}' | body_of | jq -r '"\(.config.url) \(.config.content_type)"')"
check_eq "… a bad content type → 422" 422 "$(api PATCH "$R/hooks/$HID" "$T" '{"config":{"content_type":"xml"}}' | status_of)"
check_eq "… another's hook id → 404" 404 "$(api PATCH "$R/hooks/999999999" "$T" '{"active":true}' | status_of)"
api PATCH "$R/hooks/$HID" "$T" '{"config":{"content_type":"json"}}' >/dev/null

# ---- GET /api/v3/ (docs meta/root)
res=$(api GET / "$T")
check_eq "GET /api/v3/ → 200" 200 "$(printf '%s' "$res" | status_of)"
check_eq "… GitHub's API root" "$A/user $A/repos/{owner}/{repo}" "$(printf '%s' "$res" | body_of | jq -r '"\(.current_user_url) \(.repository_url)"')"

# ---- archived repositories are read-only (403 "Repository was archived so is read-only.")
branch feat-r r.txt
NR=$(pr feat-r)
check_eq "PATCH archived true → 200, archived" "200 true" \
	"$(res=$(api PATCH "$R" "$T" '{"archived":true}'); echo "$(printf '%s' "$res" | status_of) $(printf '%s' "$res" | body_of | jq -r .archived)")"
MAIN=$(api GET "$R/branches/main" "$T" | body_of | jq -r .commit.sha)
res=$(api POST "$R/git/refs" "$T" "{\"ref\":\"refs/heads/arch\",\"sha\":\"$MAIN\"}")
check_eq "creating a ref → 403" 403 "$(printf '%s' "$res" | status_of)"
check_eq "… in GitHub's words" "Repository was archived so is read-only." "$(printf '%s' "$res" | body_of | jq -r .message)"
check_eq "deleting a ref → 403" 403 "$(api DELETE "$R/git/refs/heads/feat-r" "$T" | status_of)"
check_eq "opening a pull request → 403" 403 "$(api POST "$R/pulls" "$T" '{"title":"t","head":"feat-d","base":"main"}' | status_of)"
check_eq "editing a pull request → 403" 403 "$(api PATCH "$R/pulls/$NR" "$T" '{"title":"t"}' | status_of)"
check_eq "merging → 403" 403 "$(api PUT "$R/pulls/$NR/merge" "$T" '{}' | status_of)"
check_eq "other settings → 403" 403 "$(api PATCH "$R" "$T" '{"description":"x"}' | status_of)"
check_eq "a web-editor commit → 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$F/_fakehub/repos/octocat/$name/commits" -H 'Content-Type: application/json' -d '{"branch":"main","path":"w.txt","content":"w"}')"
out=$(cd "$W/w" && git checkout -q main && echo z > z.txt && git add z.txt && git commit -qm z && git push origin main 2>&1)
check_match "a push is refused in GitHub's words" "This repository was archived so it is read-only" "$out"
check_eq "… and main did not move" "$MAIN" "$(api GET "$R/branches/main" "$T" | body_of | jq -r .commit.sha)"
check_eq "reading still works" 200 "$(api GET "$R/pulls/$NR" "$T" | status_of)"
check_eq "unarchiving → 200, not archived" "200 false" \
	"$(res=$(api PATCH "$R" "$T" '{"archived":false}'); echo "$(printf '%s' "$res" | status_of) $(printf '%s' "$res" | body_of | jq -r .archived)")"
check_eq "… writable again" 201 "$(api POST "$R/git/refs" "$T" "{\"ref\":\"refs/heads/arch\",\"sha\":\"$MAIN\"}" | status_of)"
finish
