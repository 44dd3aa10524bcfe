#!/bin/bash
# tests/fakehub/test-git.sh: git smart HTTP through fakehub: clone/push with and without a token, read-only 403, push webhooks and PR lifecycle.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/fakehub/lib-fakehub.sh"

T=$(token octocat); H=$(token hubot); RO=$(token octocat read:user)
name=$(uniq_name gitdemo)
api POST /user/repos "$T" "{\"name\":\"$name\",\"auto_init\":true}" >/dev/null
priv=$(uniq_name gitpriv)
api POST /user/repos "$T" "{\"name\":\"$priv\",\"private\":true,\"auto_init\":true}" >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
export GIT_TERMINAL_PROMPT=0 GIT_AUTHOR_NAME=octocat GIT_AUTHOR_EMAIL=octocat@github.com GIT_COMMITTER_NAME=octocat GIT_COMMITTER_EMAIL=octocat@github.com
url() { echo "http://x-access-token:$1@${F#http://}/$2.git"; }

check "anonymous clone of a public repo" git clone -q "$F/octocat/$name.git" "$W/anon"
check "README came along" test -f "$W/anon/README.md"
check_eq "anonymous clone of a private repo: 401" 401 "$(http_status "$F/octocat/$priv.git/info/refs?service=git-upload-pack")"
check_eq "bad token: 401" 401 "$(http_status "$F/octocat/$name.git/info/refs?service=git-upload-pack" -u x-access-token:gho_bad)"
check "clone private repo with token" git clone -q "$(url "$T" "octocat/$priv")" "$W/priv"
check_eq "other user's private repo: 404" 404 "$(http_status "$F/octocat/$priv.git/info/refs?service=git-upload-pack" -u "x-access-token:$H")"
check_eq "anonymous push: 401" 401 "$(http_status "$F/octocat/$name.git/info/refs?service=git-receive-pack")"
check_eq "read-only token push: 403" 403 "$(http_status "$F/octocat/$name.git/info/refs?service=git-receive-pack" -u "x-access-token:$RO")"
check_eq "non-collaborator push: 403" 403 "$(http_status "$F/octocat/$name.git/info/refs?service=git-receive-pack" -u "x-access-token:$H")"

# webhook into fakehub's own sink, then a push
sink=sink-$name secret=hooksecret-$RANDOM
res=$(api POST /repos/octocat/$name/hooks "$T" "{\"name\":\"web\",\"active\":true,\"events\":[\"push\",\"pull_request\"],\"config\":{\"url\":\"$F/_fakehub/sink/$sink\",\"content_type\":\"json\",\"secret\":\"$secret\"}}")
check_eq "create hook: 201" 201 "$(printf '%s' "$res" | status_of)"
check_match "hook secret is masked" '"secret":"\*\*\*\*\*\*\*\*"' "$(printf '%s' "$res" | body_of)"
check_match "creating a hook sends ping" '^X-Github-Event: ping' "$(curl -s "$F/_fakehub/sink/$sink/last/headers")"
curl -s -o /dev/null -X DELETE "$F/_fakehub/sink/$sink"

git clone -q "$(url "$T" "octocat/$name")" "$W/w"
cd "$W/w"
echo hello > hello.txt && git add hello.txt && git commit -qm "add hello"
check "push with token" git push -q origin main
head=$(git rev-parse HEAD)
check_eq "branch follows the push" "$head" "$(api GET /repos/octocat/$name/branches/main "$T" | body_of | jstr sha)"
hdrs=$(curl -s "$F/_fakehub/sink/$sink/last/headers")
check_match "push webhook event header" '^X-Github-Event: push' "$hdrs"
check_match "delivery id header" 'X-Github-Delivery: [0-9a-f-]{36}' "$hdrs"
sig=$(printf '%s' "$hdrs" | sed -n 's/^X-Hub-Signature-256: //p')
mine=$(curl -s "$F/_fakehub/sink/$sink/last/body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.*= //')
check_eq "X-Hub-Signature-256 verifies with openssl" "sha256=$mine" "$sig"
# docs "Webhook events and payloads", Delivery headers: X-Hub-Signature (HMAC-SHA1) is sent too
sig1=$(printf '%s' "$hdrs" | sed -n 's/^X-Hub-Signature: //p')
mine1=$(curl -s "$F/_fakehub/sink/$sink/last/body" | openssl dgst -sha1 -hmac "$secret" | sed 's/^.*= //')
check_eq "X-Hub-Signature (sha1) verifies with openssl" "sha1=$mine1" "$sig1"
hook_id=$(printf '%s' "$res" | body_of | jnum id)
check_match "X-GitHub-Hook-ID names the hook" "^X-Github-Hook-Id: $hook_id\$" "$hdrs"
check_match "User-Agent starts with GitHub-Hookshot/" '^User-Agent: GitHub-Hookshot/' "$hdrs"
body=$(curl -s "$F/_fakehub/sink/$sink/last/body")
check_match "push payload ref/after" "\"ref\":\"refs/heads/main\",\"before\":\"[0-9a-f]{40}\",\"after\":\"$head\"" "$body"
check_match "push payload lists the commit" '"message":"add hello\\n"' "$body"
check_match "push payload pusher" '"pusher":\{"name":"octocat","email":"[^"]+"\}' "$body"
check_match "push payload repository" '"repository":\{"id":[0-9]+,"node_id":"[^"]+","name":"'"$name"'","full_name":"octocat/'"$name"'"' "$body"
check_match "push payload sender" '"sender":\{"login":"octocat"' "$body"
# docs repos/create-webhook: a second hook with the same config may not share events
res2=$(api POST /repos/octocat/$name/hooks "$T" "{\"events\":[\"push\"],\"config\":{\"url\":\"$F/_fakehub/sink/$sink\",\"content_type\":\"json\",\"secret\":\"$secret\"}}")
check_eq "same config with overlapping events: 422" 422 "$(printf '%s' "$res2" | status_of)"
check_match "422 says the hook exists" '"message":"Hook already exists on this repository"' "$(printf '%s' "$res2" | body_of)"
check_eq "hook without a url: 422" 422 "$(api POST /repos/octocat/$name/hooks "$T" '{"config":{"content_type":"json"}}' | status_of)"

# pull request lifecycle
git checkout -qb feature && echo more >> hello.txt && git commit -qam "more hello" && git push -q origin feature
res=$(api POST /repos/octocat/$name/pulls "$T" '{"title":"More hello","head":"feature","base":"main","body":"please"}')
check_eq "create PR: 201" 201 "$(printf '%s' "$res" | status_of)"
num=$(printf '%s' "$res" | body_of | jnum number)
check_match "pull_request opened webhook" '"action":"opened"' "$(curl -s "$F/_fakehub/sink/$sink/last/body")"
res=$(api POST /repos/octocat/$name/pulls "$T" '{"title":"again","head":"feature","base":"main"}')
check_eq "duplicate PR: 422" 422 "$(printf '%s' "$res" | status_of)"
check_match "duplicate PR: 422 shape" '^\{"message":"Validation Failed","errors":\[\{"resource":"PullRequest","code":"custom","message":"A pull request already exists for octocat:feature."\}\],"documentation_url":"https://docs.github.com/rest"' "$(printf '%s' "$res" | body_of)"
check_eq "PR with no commits: 422" 422 "$(api POST /repos/octocat/$name/pulls "$T" '{"title":"none","head":"main","base":"main"}' | status_of)"
check_eq "PR from missing branch: 422" 422 "$(api POST /repos/octocat/$name/pulls "$T" '{"title":"x","head":"nope","base":"main"}' | status_of)"
# GitHub computes mergeability in the background: the first GET answers null (see test-fidelity.sh).
api GET /repos/octocat/$name/pulls/$num "$T" >/dev/null
pr=$(api GET /repos/octocat/$name/pulls/$num "$T" | body_of)
check_match "PR is mergeable" '"mergeable":true' "$pr"
check_eq "list open PRs by head" 1 "$(api GET "/repos/octocat/$name/pulls?state=open&head=octocat:feature" "$T" | body_of | grep -o '"number":' | wc -l)"
check_eq "list by other head: none" 0 "$(api GET "/repos/octocat/$name/pulls?head=octocat:other" "$T" | body_of | grep -o '"number":' | wc -l)"
check_match "PR files" '"filename":"hello.txt","status":"modified","additions":1,"deletions":0' "$(api GET /repos/octocat/$name/pulls/$num/files "$T" | body_of)"
echo again >> hello.txt && git commit -qam "again" && git push -q origin feature
check_match "push to head: synchronize webhook" '"action":"synchronize"' "$(curl -s "$F/_fakehub/sink/$sink/last/body")"
check_eq "merge with stale sha: 409" 409 "$(api PUT /repos/octocat/$name/pulls/$num/merge "$T" "{\"sha\":\"$head\"}" | status_of)"
check_eq "edit title: 200" 200 "$(api PATCH /repos/octocat/$name/pulls/$num "$T" '{"title":"More hello!"}' | status_of)"
check_match "edited webhook with changes" '"action":"edited".*"changes":\{"title":\{"from":"More hello"\}' "$(curl -s "$F/_fakehub/sink/$sink/last/body")"
check_eq "close: 200" 200 "$(api PATCH /repos/octocat/$name/pulls/$num "$T" '{"state":"closed"}' | status_of)"
check_match "closed webhook, not merged" '"action":"closed".*"merged":false' "$(curl -s "$F/_fakehub/sink/$sink/last/body")"
check_eq "merge a closed PR: 405" 405 "$(api PUT /repos/octocat/$name/pulls/$num/merge "$T" '{}' | status_of)"
check_eq "reopen: 200" 200 "$(api PATCH /repos/octocat/$name/pulls/$num "$T" '{"state":"open"}' | status_of)"
check_match "reopened webhook" '"action":"reopened"' "$(curl -s "$F/_fakehub/sink/$sink/last/body")"
fsha=$(git rev-parse HEAD)
res=$(api PUT /repos/octocat/$name/pulls/$num/merge "$T" "{\"sha\":\"$fsha\",\"merge_method\":\"squash\"}")
check_eq "squash merge: 200" 200 "$(printf '%s' "$res" | status_of)"
check_match "merge answer" '"merged":true,"message":"Pull Request successfully merged"' "$(printf '%s' "$res" | body_of)"
check_match "closed webhook with merged true" '"action":"closed".*"merged":true' "$(curl -s "$F/_fakehub/sink/$sink/last/body")"
check_eq "GET merge: 204 once merged" 204 "$(api GET /repos/octocat/$name/pulls/$num/merge "$T" | status_of)"
msha=$(printf '%s' "$res" | body_of | jstr sha)
check_eq "squash has one parent" 1 "$(api GET /repos/octocat/$name/commits/$msha "$T" | body_of | grep -o '"parents":\[[^]]*\]' | grep -o '"sha"' | wc -l)"

# merge and rebase methods, and a conflict (405)
git fetch -q origin && git checkout -q -B main origin/main
for method in merge rebase; do
	git checkout -qb "b-$method" main && echo "$method" > "$method.txt" && git add . && git commit -qm "$method file" && git push -q origin "b-$method"
	n=$(api POST /repos/octocat/$name/pulls "$T" "{\"title\":\"$method\",\"head\":\"b-$method\",\"base\":\"main\"}" | body_of | jnum number)
	res=$(api PUT /repos/octocat/$name/pulls/$n/merge "$T" "{\"merge_method\":\"$method\"}")
	check_eq "$method merge: 200" 200 "$(printf '%s' "$res" | status_of)"
	s=$(printf '%s' "$res" | body_of | jstr sha)
	want=$([ $method = merge ] && echo 2 || echo 1)
	check_eq "$method commit parents" "$want" "$(api GET /repos/octocat/$name/commits/$s "$T" | body_of | grep -o '"parents":\[[^]]*\]' | grep -o '"sha"' | wc -l)"
	git checkout -q main
done
git fetch -q origin && git checkout -q -B main origin/main
git checkout -qb conflict-a main && echo A > c.txt && git add . && git commit -qm A && git push -q origin conflict-a
git checkout -qb conflict-b main && echo B > c.txt && git add . && git commit -qm B && git push -q origin conflict-b
na=$(api POST /repos/octocat/$name/pulls "$T" '{"title":"a","head":"conflict-a","base":"main"}' | body_of | jnum number)
nb=$(api POST /repos/octocat/$name/pulls "$T" '{"title":"b","head":"conflict-b","base":"main"}' | body_of | jnum number)
check_eq "first of two conflicting PRs merges" 200 "$(api PUT /repos/octocat/$name/pulls/$na/merge "$T" '{}' | status_of)"
api GET /repos/octocat/$name/pulls/$nb "$T" >/dev/null
check_match "second is not mergeable" '"mergeable":false' "$(api GET /repos/octocat/$name/pulls/$nb "$T" | body_of)"
# docs pulls/list: direction defaults to desc for sort=created (or none), asc otherwise
all_default=$(api GET "/repos/octocat/$name/pulls?state=all" "$T" | body_of | grep -o '"number":[0-9]*' | tr '\n' ' ')
check_eq "default order is newest first" "$(api GET "/repos/octocat/$name/pulls?state=all&sort=created&direction=desc" "$T" | body_of | grep -o '"number":[0-9]*' | tr '\n' ' ')" "$all_default"
check_eq "sort=updated defaults to ascending" \
	"$(api GET "/repos/octocat/$name/pulls?state=all&sort=updated&direction=asc" "$T" | body_of | grep -o '"number":[0-9]*' | tr '\n' ' ')" \
	"$(api GET "/repos/octocat/$name/pulls?state=all&sort=updated" "$T" | body_of | grep -o '"number":[0-9]*' | tr '\n' ' ')"
check "sort=updated asc differs from desc" test "$(api GET "/repos/octocat/$name/pulls?state=all&sort=updated" "$T" | body_of | grep -o '"number":[0-9]*' | tr '\n' ' ')" != \
	"$(api GET "/repos/octocat/$name/pulls?state=all&sort=updated&direction=desc" "$T" | body_of | grep -o '"number":[0-9]*' | tr '\n' ' ')"
res=$(api PUT /repos/octocat/$name/pulls/$nb/merge "$T" '{}')
check_eq "merge conflicting PR: 405" 405 "$(printf '%s' "$res" | status_of)"
check_match "405 message" '"message":"Pull Request is not mergeable"' "$(printf '%s' "$res" | body_of)"

# web-editor commit from the admin API moves the branch and fires push
out=$(curl -s -X POST "$F/_fakehub/repos/octocat/$name/commits" -H 'Content-Type: application/json' -d '{"as":"hubot","branch":"main","path":"docs/web.md","content":"from the web\n","message":"Edit on GitHub"}')
wsha=$(printf '%s' "$out" | jstr sha)
check_match "web-editor commit" '^[0-9a-f]{40}$' "$wsha"
git fetch -q origin && git checkout -q -B main origin/main
check_eq "pull brings the web commit" "$wsha" "$(git rev-parse HEAD)"
check "file arrived" test -f docs/web.md
check_match "push webhook sender is hubot" '"sender":\{"login":"hubot"' "$(curl -s "$F/_fakehub/sink/$sink/last/body")"

# delivery log and redelivery
dl=$(curl -s "$F/_fakehub/deliveries?repo=octocat/$name&event=push")
did=$(printf '%s' "$dl" | grep -o '"id":[0-9]*,"guid"' | tail -1 | grep -o '[0-9]*')
check_match "delivery log records status" '"status_code":200' "$dl"
before=$(curl -s "$F/_fakehub/sink/$sink" | grep -o '"id":' | wc -l)
check_eq "redeliver: 202" 202 "$(http_status "$F/_fakehub/deliveries/$did/redeliver" -X POST)"
check_eq "redelivery arrived" "$((before + 1))" "$(curl -s "$F/_fakehub/sink/$sink" | grep -o '"id":' | wc -l)"
finish
