#!/usr/bin/env bash
# tests/pulls/test-pulls.sh: branches and pull requests through nginx against fakehub: create from pending
# changes and from a branch, idempotent creation, names, list filters, merge by each method, 405 and 409,
# close and reopen, a merge made on GitHub by someone else arriving by webhook, ownership, the panel.
set -u
. "$ROOT/tests/pulls/lib-pulls.sh"

new_project "Pulls one"
check_eq "project synced" SUCCESS "$(project_status)"
until_ok 30 test "$(webhook_status)" = active
check_eq "webhook registered and active" active "$(webhook_status)"
MAIN0=$(remote_sha main)

# ---------------------------------------------------------------- from pending changes
put_text index.html '<h1>Hello, PR</h1>' >/dev/null
put_text new.txt 'brand new' >/dev/null
check_eq "create from changes → 202 (a job)" 202 "$(jcall POST "/projects/$PID/pulls" \
	'{"title":"From changes","body":"Line one\n<b>two</b>","from":"changes","head":"feature/one"}')"
check_match "the answer names the job" '^[0-9]+$' "$(jq -r .job_id "$T/body")"
has_pull() { call GET "/projects/$PID/pulls?state=all&head=$1" >/dev/null; [ "$(jq '.pulls | length' "$T/body")" -ge 1 ]; }
until_ok 40 has_pull feature/one
N1=$(jq -r '.pulls[0].number' "$T/body")
check_eq "pull request from changes: head → base, open" "feature/one main open octocat" \
	"$(jq -r '.pulls[0] | "\(.head) \(.base) \(.state) \(.author)"' "$T/body")"
check_eq "the sync branch was left alone" "$MAIN0" "$(remote_sha main)"
rm -rf "$T/c" && git clone -q -b feature/one "$CLONE" "$T/c" 2>/dev/null
check_eq "the branch carries the pending changes" "brand new|<h1>Hello, PR</h1>" "$(cat "$T/c/new.txt")|$(cat "$T/c/index.html")"
check_eq "the branch is cut from the sync branch" "$MAIN0" "$(cd "$T/c" && git rev-parse HEAD~1)"
call GET "/projects/$PID/files" >/dev/null
check_eq "the workspace went back to the sync branch" '["docs/a.md:synced","index.html:synced"]' \
	"$(jq -c '[.files[] | "\(.path):\(.status)"]' "$T/body")"
check_eq "asking again for the same head → 200" 200 "$(jcall POST "/projects/$PID/pulls" \
	'{"title":"From changes","from":"changes","head":"feature/one"}')"
check_eq "… the same pull request" "$N1" "$(jq -r .number "$T/body")"
check_eq "GitHub has one pull request for that head" 1 "$(gh GET "/repos/$OWNER/$REPO/pulls?state=all" >/dev/null; jq '[.[] | select(.head.ref == "feature/one")] | length' "$T/gh")"

# ---------------------------------------------------------------- refusals of bad input
check_eq "invalid head name → 422" 422 "$(jcall POST "/projects/$PID/pulls" '{"title":"x","head":"bad..name"}')"
check_eq "… with the field and a suggestion" "bad.name" "$(jq -r '.error.fields.head_suggestion' "$T/body")"
check_match "… in words" "not a valid git branch name" "$(jq -r '.error.fields.head' "$T/body")"
check_eq "no title → 422" 422 "$(jcall POST "/projects/$PID/pulls" '{"head":"feature/one"}')"
check_eq "… names the title" "title" "$(jq -r '.error.fields | keys | join(",")' "$T/body")"
check_eq "unknown head branch → 422" 422 "$(jcall POST "/projects/$PID/pulls" '{"title":"x","head":"no-such-branch"}')"
check_match "… in words" "no branch 'no-such-branch'" "$(jq -r .error.message "$T/body")"
check_eq "nothing pending → 422" 422 "$(jcall POST "/projects/$PID/pulls" '{"title":"x","from":"changes","head":"feature/empty"}')"
check_match "… in words" "no pending changes" "$(jq -r .error.message "$T/body")"
check_eq "from must be changes → 422" 422 "$(jcall POST "/projects/$PID/pulls" '{"title":"x","from":"elsewhere"}')"
check_eq "unknown field → 422" 422 "$(jcall POST "/projects/$PID/pulls" '{"title":"x","head":"feature/one","colour":"red"}')"
check_eq "not JSON → 400" 400 "$(call POST "/projects/$PID/pulls" -H 'Content-Type: application/json' -d '{nope')"
check_eq "branch name with a space → 422" 422 "$(jcall POST "/projects/$PID/branches" '{"name":"has space"}')"
check_eq "… with a suggested name" "has-space" "$(jq -r .error.suggestion "$T/body")"
check_eq "nothing was created by the refusals" 1 "$(gh GET "/repos/$OWNER/$REPO/pulls?state=all" >/dev/null; jq length "$T/gh")"

# ---------------------------------------------------------------- from an existing branch
check_eq "create a branch → 201" 201 "$(jcall POST "/projects/$PID/branches" '{"name":"feature/two"}')"
check_eq "the same branch again → 409" 409 "$(jcall POST "/projects/$PID/branches" '{"name":"feature/two"}')"
web_commit feature/two two.txt "two"
check_eq "create from a branch → 201" 201 "$(jcall POST "/projects/$PID/pulls" '{"title":"From a branch","body":"b","head":"feature/two"}')"
N2=$(jq -r .number "$T/body")
check_eq "… with head and base" "feature/two main open" "$(jq -r '"\(.head) \(.base) \(.state)"' "$T/body")"
check_eq "asking twice → 200" 200 "$(jcall POST "/projects/$PID/pulls" '{"title":"Again","head":"feature/two"}')"
check_eq "… the open pull request" "$N2" "$(jq -r .number "$T/body")"
call GET /projects/$PID/branches >/dev/null
check_eq "branches list names the pull requests' heads" "feature/one:$N1 feature/two:$N2 main:sync" \
	"$(jq -r '[.branches[] | "\(.name):\(if .sync then "sync" else .open_pull end)"] | join(" ")' "$T/body")"
check_eq "deleting the head of an open pull request → 409" 409 "$(call DELETE "/projects/$PID/branches/feature/two")"
check_eq "deleting the sync branch → 409" 409 "$(call DELETE "/projects/$PID/branches/main")"

# ---------------------------------------------------------------- list filters, close, reopen
list() { call GET "/projects/$PID/pulls?state=$1" >/dev/null; jq -r '[.pulls[].number] | join(",")' "$T/body"; }
check_eq "open filter" "$N2,$N1" "$(list open)"
check_eq "closed filter (none yet)" "" "$(list closed)"
check_eq "bad filter → 422" 422 "$(call GET "/projects/$PID/pulls?state=sideways")"
check_eq "close → 200" 200 "$(jcall PATCH "/projects/$PID/pulls/$N2" '{"state":"closed"}')"
check_eq "… closed" closed "$(jq -r .state "$T/body")"
check_eq "GitHub has it closed" closed "$(gh GET "/repos/$OWNER/$REPO/pulls/$N2" >/dev/null; jq -r .state "$T/gh")"
check_eq "closed filter" "$N2" "$(list closed)"
check_eq "open filter without it" "$N1" "$(list open)"
check_eq "reopen → 200" 200 "$(jcall PATCH "/projects/$PID/pulls/$N2" '{"state":"open"}')"
check_eq "… open" open "$(jq -r .state "$T/body")"
check_eq "edit the title → 200" "200 From a branch, edited" "$(s=$(jcall PATCH "/projects/$PID/pulls/$N2" '{"title":"From a branch, edited"}'); echo "$s $(jq -r .title "$T/body")")"
check_eq "bad state → 422" 422 "$(jcall PATCH "/projects/$PID/pulls/$N2" '{"state":"gone"}')"
check_eq "no such pull request → 404" 404 "$(call GET "/projects/$PID/pulls/999")"

# ---------------------------------------------------------------- merge by each method
check_eq "a third branch" 201 "$(jcall POST "/projects/$PID/branches" '{"name":"feature/three","from":"main"}')"
web_commit feature/three three.txt "three"
jcall POST "/projects/$PID/pulls" '{"title":"Third","head":"feature/three"}' >/dev/null
N3=$(jq -r .number "$T/body")
rm -rf "$T/m" && git init -q --bare "$T/m"
main_log() { git -C "$T/m" fetch -q "$CLONE" "+refs/heads/main:refs/heads/main" 2>/dev/null; git -C "$T/m" log -1 --format="$1" main; }
check_eq "unknown method → 422" 422 "$(jcall POST "/projects/$PID/pulls/$N1/merge" '{"method":"octopus"}')"
check_eq "merge (merge commit) → 200" 200 "$(jcall POST "/projects/$PID/pulls/$N1/merge" '{"method":"merge"}')"
check_eq "… merged" "true merged" "$(jq -r '"\(.merged) \(.pull.state)"' "$T/body")"
check_eq "… a merge commit on main (two parents)" 2 "$(main_log %P | wc -w)"
check_eq "squash, deleting the branch → 200" 200 "$(jcall POST "/projects/$PID/pulls/$N2/merge" '{"method":"squash","delete_branch":true}')"
check_eq "… one commit titled after the pull request" "1 From a branch, edited (#$N2)" "$(echo "$(main_log %P | wc -w) $(main_log %s)")"
check_eq "… the branch is gone" "" "$(remote_sha feature/two)"
check_match "… and the answer says so" "deleted" "$(jq -r .note "$T/body")"
check_eq "rebase → 200" 200 "$(jcall POST "/projects/$PID/pulls/$N3/merge" '{"method":"rebase"}')"
check_eq "… the branch's commit replayed on main" "1 edit three.txt" "$(echo "$(main_log %P | wc -w) $(main_log %s)")"
check_eq "merged filter" "$N3,$N2,$N1" "$(list merged)"
check_eq "merging again → 409 not_open" "409 not_open" "$(s=$(jcall POST "/projects/$PID/pulls/$N1/merge" '{"method":"merge"}'); echo "$s $(jq -r .error.code "$T/body")")"
check_eq "reopening a merged one → 409" 409 "$(jcall PATCH "/projects/$PID/pulls/$N1" '{"state":"open"}')"

# ---------------------------------------------------------------- 405: not mergeable
jcall POST "/projects/$PID/branches" '{"name":"feature/conflict"}' >/dev/null
web_commit feature/conflict docs/a.md "branch side"
web_commit main docs/a.md "main side"
jcall POST "/projects/$PID/pulls" '{"title":"Conflicting","head":"feature/conflict"}' >/dev/null
N4=$(jq -r .number "$T/body")
check_eq "merging a conflicting pull request → 409 not_mergeable" "409 not_mergeable" \
	"$(s=$(jcall POST "/projects/$PID/pulls/$N4/merge" '{"method":"merge"}'); echo "$s $(jq -r .error.code "$T/body")")"
check_match "… in words" "not mergeable" "$(jq -r .error.message "$T/body")"
check_eq "… still open, shown as dirty" "open dirty" "$(pull_field "$N4" '"\(.state) \(.mergeable_state)"')"

# ---------------------------------------------------------------- 409: head moved
jcall POST "/projects/$PID/branches" '{"name":"feature/moved"}' >/dev/null
web_commit feature/moved moved.txt "one"
jcall POST "/projects/$PID/pulls" '{"title":"Moving","head":"feature/moved"}' >/dev/null
N5=$(jq -r .number "$T/body")
SEEN=$(jq -r .head_sha "$T/body")
web_commit feature/moved moved.txt "two"
check_eq "merging what was seen after the head moved → 409 head_moved" "409 head_moved" \
	"$(s=$(jcall POST "/projects/$PID/pulls/$N5/merge" "{\"method\":\"merge\",\"sha\":\"$SEEN\"}"); echo "$s $(jq -r .error.code "$T/body")")"
check_match "… in words" "moved" "$(jq -r .error.message "$T/body")"
check_eq "… still open" open "$(pull_field "$N5" .state)"

# ---------------------------------------------------------------- GitHub refusing for other reasons (fakehub faults)
trap 'rm -rf "$T"; curl -s -o /dev/null -X DELETE "$FAKEHUB_URL/_fakehub/faults"' EXIT
fault() { fh POST /_fakehub/faults -d "{\"method\":\"PUT\",\"path\":\"/api/v3/repos/$OWNER/$REPO/pulls/$N5/merge\",\"count\":1,$1}" >/dev/null; }
merge_n5() { s=$(jcall POST "/projects/$PID/pulls/$N5/merge" '{"method":"merge"}'); echo "$s $(jq -r .error.code "$T/body")"; }
fault '"kind":"status","status":403'
check_eq "GitHub refuses the merge (403) → 403 forbidden" "403 forbidden" "$(merge_n5)"
check_match "… in words" "permission or the branch is protected" "$(jq -r .error.message "$T/body")"
fault '"kind":"status","status":502'
check_eq "GitHub fails (502) → 502" "502 github_error" "$(merge_n5)"
fault '"kind":"rate_limit","seconds":60'
check_eq "GitHub's rate limit → 429" "429 github_rate_limited" "$(merge_n5)"
check_eq "… still open after all that" open "$(pull_field "$N5" .state)"

# ---------------------------------------------------------------- merged on GitHub by someone else
check_eq "hubot merges it on GitHub" true "$(fh POST "/_fakehub/repos/$OWNER/$REPO/pulls/$N5/merge" -d '{"as":"hubot","merge_method":"merge"}' | jq -r .merged)"
until_ok 20 test "$(pull_field "$N5" .state)" = merged
check_eq "shown as merged after the webhook (no refresh asked)" "merged hubot" "$(pull_field "$N5" '"\(.state) \(.merged_by)"')"
check_eq "the delivery was recorded once" 1 \
	"$(psql -qtA -c "SELECT count(*) FROM webhook_deliveries WHERE event = 'pull_request' AND action = 'closed' AND repo_name = '$REPO' AND (payload->'pull_request'->>'number')::int = $N5")"
moved_file() { call GET "/projects/$PID/files/moved.txt" >/dev/null && [ "$(body)" = two ]; }
until_ok 30 moved_file
check "the push on the sync branch pulled GitHub's changes into the workspace" moved_file
check_eq "… by the push webhook's pull (nothing pushed from the workspace)" webhook \
	"$(call GET "/projects/$PID/history?limit=1" >/dev/null; jq -r '.history[0].trigger' "$T/body")"

# ---------------------------------------------------------------- draft, ready for review
jcall POST "/projects/$PID/branches" '{"name":"feature/draft"}' >/dev/null
web_commit feature/draft draft.txt "d"
check_eq "a draft → 201" "201 true" "$(s=$(jcall POST "/projects/$PID/pulls" '{"title":"Draft","head":"feature/draft","draft":true}'); echo "$s $(jq -r .draft "$T/body")")"
N6=$(jq -r .number "$T/body")
check_eq "… a draft on GitHub too" true "$(gh GET "/repos/$OWNER/$REPO/pulls/$N6" >/dev/null; jq -r .draft "$T/gh")"
# GitHub marks a draft ready only through its GraphQL API (markPullRequestReadyForReview); a GitHub without one answers 404.
fh POST /_fakehub/faults -d '{"method":"POST","path":"/api/graphql","kind":"status","status":404,"count":1}' >/dev/null
check_eq "ready for review where GitHub has no GraphQL API → 409" 409 "$(jcall PATCH "/projects/$PID/pulls/$N6" '{"draft":false}')"
check_match "… refused in words" "GraphQL" "$(jq -r .error.message "$T/body")"
check_eq "… still a draft" true "$(pull_field "$N6" .draft)"
GQL0=$(fh GET "/_fakehub/requests/count?path=/api/graphql&method=POST" | jq -r .count)
check_eq "ready for review → 200" "200 false" "$(s=$(jcall PATCH "/projects/$PID/pulls/$N6" '{"draft":false}'); echo "$s $(jq -r .draft "$T/body")")"
check_eq "… through GitHub's GraphQL mutation, once" $((GQL0 + 1)) "$(fh GET "/_fakehub/requests/count?path=/api/graphql&method=POST" | jq -r .count)"
check_eq "… no longer a draft in ghbridge" false "$(pull_field "$N6" .draft)"
check_eq "… nor on GitHub" false "$(gh GET "/repos/$OWNER/$REPO/pulls/$N6" >/dev/null; jq -r .draft "$T/gh")"
check_eq "… GitHub sent pull_request ready_for_review" 1 \
	"$(fh GET "/_fakehub/deliveries?repo=$OWNER/$REPO&event=pull_request" | jq "[.[] | select(.action == \"ready_for_review\")] | length")"
check_eq "ready for review again → 200, nothing to do" "200 false" "$(s=$(jcall PATCH "/projects/$PID/pulls/$N6" '{"draft":false}'); echo "$s $(jq -r .draft "$T/body")")"
check_eq "turning back into a draft → 422" 422 "$(jcall PATCH "/projects/$PID/pulls/$N6" '{"draft":true}')"

# ---------------------------------------------------------------- ownership and scope
check_eq "another user's project → 404" 404 "$(call2 GET "/projects/$PID/pulls")"
check_eq "another user's pull request → 404" 404 "$(call2 GET "/projects/$PID/pulls/$N4")"
check_eq "another user's merge → 404" 404 "$(call2 POST "/projects/$PID/pulls/$N4/merge" -H 'Content-Type: application/json' -d '{"method":"merge"}')"
check_eq "another user's branch delete → 404" 404 "$(call2 DELETE "/projects/$PID/branches/feature/conflict")"
check_eq "a key without the pulls scope → 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY_NOPULLS" "$API/projects/$PID/pulls")"
check_eq "no key → 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$API/projects/$PID/pulls")"
check_eq "the conflicting pull request is untouched" open "$(pull_field "$N4" .state)"

# ---------------------------------------------------------------- the panel
page() { curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar-octocat" "$GHB_URL$1"; }
check_eq "list page → 200" 200 "$(page "/projects/$PID/pulls?state=all")"
check_match "… lists them with head → base" "<code>feature/conflict</code> → <code>main</code>" "$(cat "$T/page")"
check_match "… says how fresh it is" "Updated from GitHub [0-9]+ (s|min) ago" "$(cat "$T/page")"
check_eq "merged filter page" 200 "$(page "/projects/$PID/pulls?state=merged")"
check_eq "… only merged ones" "merged" "$(grep -o 'data-state="[a-z]*"' "$T/page" | sort -u | sed 's/data-state="//; s/"//' | tr '\n' ' ' | sed 's/ $//')"
check_eq "detail page → 200" 200 "$(page "/projects/$PID/pulls/$N1")"
check_match "… the description escaped" "Line one<br>&lt;b&gt;two&lt;/b&gt;" "$(cat "$T/page")"
check_match "… the files with +/-" "<code>new.txt</code></td><td[^>]*>added</td><td[^>]*>\+1</td>" "$(cat "$T/page")"
check_eq "detail of an open one offers the allowed methods" 200 "$(page "/projects/$PID/pulls/$N4")"
check_match "… merge, squash and rebase" 'value="merge".*value="squash".*value="rebase"' "$(tr -d '\n' < "$T/page")"
CSRF=$(csrf_of "$T/jar-octocat" "/projects/$PID/pulls/$N4")
s=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar-octocat" -X POST --data-urlencode "csrf=$CSRF" \
	-d method=merge -d confirm=1 "$GHB_URL/projects/$PID/pulls/$N4/merge")
check_eq "merging in the panel a conflicting one → 409 page" 409 "$s"
check_match "… saying why" "not mergeable" "$(cat "$T/page")"
s=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-octocat" -X POST -d method=merge "$GHB_URL/projects/$PID/pulls/$N4/merge")
check_eq "a panel action without the CSRF token → 403" 403 "$s"
s=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$T/jar-octocat" -X POST --data-urlencode "csrf=$CSRF" "$GHB_URL/projects/$PID/pulls/$N4/close")
check_match "close in the panel → 303 back to it" "^303 .*/pulls/$N4\?done=closed$" "$s"
check_eq "… closed" closed "$(pull_field "$N4" .state)"
check_eq "branches page → 200" 200 "$(page "/projects/$PID/branches")"
s=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar-octocat" -X POST --data-urlencode "csrf=$CSRF" \
	--data-urlencode "name=my new~branch" "$GHB_URL/projects/$PID/branches")
check_eq "a bad branch name in the panel → 422" 422 "$s"
check_match "… with a suggestion" 'id="suggestion">my-new-branch<' "$(cat "$T/page")"
check_eq "new pull request page → 200" 200 "$(page "/projects/$PID/pulls/new")"
check_eq "another user's pull requests page → 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-hubot" "$GHB_URL/projects/$PID/pulls")"

# ---------------------------------------------------------------- an empty repository has nothing to cut from
jcall POST /projects '{"name":"Pulls empty"}' >/dev/null
PID=$(jq -r .id "$T/body")
jcall PATCH "/projects/$PID/settings" '{"auto_sync":false}' >/dev/null
jcall POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"pulls-empty-$(date +%s)-$RANDOM\"}" >/dev/null
wait_idle >/dev/null
put_text first.txt 'first' >/dev/null
check_eq "from changes before anything was synced → 409" 409 "$(jcall POST "/projects/$PID/pulls" '{"title":"Too early","from":"changes"}')"
check_match "… in words" "Sync now" "$(jq -r .error.message "$T/body")"

finish
