#!/usr/bin/env bash
# tests/pulls/test-webhooks.sh: POST /webhooks/github through nginx: signatures (missing, wrong, tampered,
# replayed, redelivered by fakehub), unknown events, malformed JSON, oversize bodies, status and check
# events updating checks, ETag 304s in fakehub's request log, polling without a webhook, removal on disconnect.
set -u
. "$ROOT/tests/pulls/lib-pulls.sh"

new_project "Hooks one"
until_ok 30 test "$(webhook_status)" = active
check_eq "webhook registered and active" active "$(webhook_status)"
HOOK=$(jq -r .webhook.hook_id "$T/body")
check_eq "GitHub has exactly one hook, ours, with the JSON content type" "1 $GHB_URL/webhooks/github json" \
	"$(gh GET "/repos/$OWNER/$REPO/hooks" >/dev/null; jq -r '"\(length) \(.[0].config.url) \(.[0].config.content_type)"' "$T/gh")"
check_eq "… for push, pull_request, status and check events" "check_run,check_suite,pull_request,push,status" \
	"$(jq -r '.[0].events | sort | join(",")' "$T/gh")"
# The emulator keeps hook secrets in plaintext in its own database: the test reads it there to sign.
SECRET=$(psql -d fakehub -qtAc "SELECT secret FROM hooks WHERE id = $HOOK")
check_match "the hook has a secret" '^[0-9a-f]{64}$' "$SECRET"
SEALED=$(psql -qtAc "SELECT secret_sealed FROM webhooks WHERE project_id = $PID")
check_match "ghbridge keeps it sealed" '^v1\.' "$SEALED"
check_eq "… never in plaintext in the database" 0 "$(psql -qtAc "SELECT count(*) FROM webhooks WHERE secret_sealed LIKE '%$SECRET%'")"
check_eq "… nor in any log" 0 "$(grep -rlF "$SECRET" "$STACK_VAR/log" --exclude-dir=tests 2>/dev/null | wc -l)"

sign() { openssl dgst -sha256 -hmac "${2:-$SECRET}" -r "$1" | cut -d' ' -f1; }
# post_hook EVENT DELIVERY FILE [SIGNATURE-HEADER|-] [HOOK-ID|-]: prints the status, body in $T/hook.
post_hook() {
	local ev=$1 id=$2 f=$3 sig=${4:-} hook=${5:-$HOOK} args=(-H 'Content-Type: application/json')
	[ -z "$sig" ] && sig="sha256=$(sign "$f")"
	[ "$sig" != - ] && args+=(-H "X-Hub-Signature-256: $sig")
	[ "$hook" != - ] && args+=(-H "X-GitHub-Hook-ID: $hook")
	[ -n "$ev" ] && args+=(-H "X-GitHub-Event: $ev")
	[ -n "$id" ] && args+=(-H "X-GitHub-Delivery: $id")
	curl -s -o "$T/hook" -w '%{http_code}' --max-time 60 -X POST "${args[@]}" --data-binary "@$f" "$GHB_URL/webhooks/github"
}
deliveries() { psql -qtAc "SELECT count(*) FROM webhook_deliveries WHERE delivery_id = '$1'"; }
FULL="$OWNER/$REPO"
printf '{"ref":"refs/heads/elsewhere","before":"%s","after":"%s","repository":{"full_name":"%s"}}' \
	0000000000000000000000000000000000000000 1111111111111111111111111111111111111111 "$FULL" > "$T/push.json"
D1=test-$RANDOM-$RANDOM

# ---------------------------------------------------------------- signatures
check_eq "no signature → 401" 401 "$(post_hook push "$D1" "$T/push.json" -)"
check_eq "… said in JSON" bad_signature "$(jq -r .error.code "$T/hook")"
check_eq "signed with another secret → 401" 401 "$(post_hook push "$D1" "$T/push.json" "sha256=$(sign "$T/push.json" not-the-secret)")"
check_eq "malformed signature → 401" 401 "$(post_hook push "$D1" "$T/push.json" "sha256=xyz")"
check_eq "sha1 signature only → 401" 401 "$(post_hook push "$D1" "$T/push.json" "sha1=$(openssl dgst -sha1 -hmac "$SECRET" -r "$T/push.json" | cut -d' ' -f1)")"
GOOD=$(sign "$T/push.json")
sed 's/elsewhere/elsewhere2/' "$T/push.json" > "$T/tampered.json"
check_eq "body changed after signing → 401" 401 "$(post_hook push "$D1" "$T/tampered.json" "sha256=$GOOD")"
check_eq "signature for an unknown hook id and repository → 401" 401 \
	"$(printf '{"repository":{"full_name":"nobody/nothing"}}' > "$T/x.json"; post_hook push "$D1" "$T/x.json" "" 999999)"
check_eq "nothing recorded for refused deliveries" 0 "$(deliveries "$D1")"
check_eq "good signature → 202" 202 "$(post_hook push "$D1" "$T/push.json")"
check_eq "… queued" queued "$(jq -r .status "$T/hook")"
check_eq "the same delivery again (a replay) → 200" 200 "$(post_hook push "$D1" "$T/push.json")"
check_eq "… nothing done again" duplicate "$(jq -r .status "$T/hook")"
check_eq "one delivery recorded" 1 "$(deliveries "$D1")"
job_of() { psql -qtAc "SELECT state FROM jobs WHERE id = (SELECT job_id FROM webhook_deliveries WHERE delivery_id = '$1')"; }
until_ok 20 test "$(job_of "$D1")" = done
check_eq "… and applied once" "done done" "$(job_of "$D1") $(psql -qtAc "SELECT outcome FROM webhook_deliveries WHERE delivery_id = '$D1'")"
D2=test-$RANDOM-$RANDOM
check_eq "no hook id: found by repository, verified → 202" 202 "$(post_hook push "$D2" "$T/push.json" "" -)"

# ---------------------------------------------------------------- events and bodies
printf '{"action":"opened","issue":{"number":1},"repository":{"full_name":"%s"}}' "$FULL" > "$T/issue.json"
D3=test-$RANDOM-$RANDOM
check_eq "an event ghbridge does not use → 202" 202 "$(post_hook issues "$D3" "$T/issue.json")"
check_eq "… ignored" ignored "$(jq -r .status "$T/hook")"
check_eq "… and nothing recorded" 0 "$(deliveries "$D3")"
printf '{"ref": "refs/heads/x", ' > "$T/bad.json"
check_eq "malformed JSON, signed → 400" 400 "$(post_hook push "test-$RANDOM" "$T/bad.json")"
printf '[1,2,3]' > "$T/arr.json"
check_eq "a JSON array, signed → 400" 400 "$(post_hook push "test-$RANDOM" "$T/arr.json")"
printf '{"a":1} trailing' > "$T/trail.json"
check_eq "trailing garbage, signed → 400" 400 "$(post_hook push "test-$RANDOM" "$T/trail.json")"
check_eq "no event header → 400" 400 "$(post_hook "" "test-$RANDOM" "$T/push.json")"
check_eq "no delivery id → 400" 400 "$(post_hook push "" "$T/push.json")"
check_eq "GET → 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' "$GHB_URL/webhooks/github")"
head -c 25000001 /dev/zero | tr '\0' ' ' > "$T/big"
check_eq "a body over the limit → 413" 413 "$(post_hook push "test-$RANDOM" "$T/big")"
check_eq "… said in JSON" too_large "$(jq -r .error.code "$T/hook")"
head -c 27000000 /dev/zero > "$T/big"
check_eq "a body over nginx's limit → 413" 413 "$(post_hook push "test-$RANDOM" "$T/big" -)"
rm -f "$T/big"

# ---------------------------------------------------------------- GitHub's own deliveries
check_eq "GitHub's ping → 204" 204 "$(gh POST "/repos/$OWNER/$REPO/hooks/$HOOK/pings")"
check_eq "… answered 200 by ghbridge" 200 "$(fh GET "/_fakehub/deliveries?repo=$FULL&event=ping" | jq -r '.[-1].status_code')"
web_commit main docs/a.md "from the web editor"
DID=$(fh GET "/_fakehub/deliveries?repo=$FULL&event=push" | jq -r '.[-1].id')
check_eq "a real push delivery was accepted" 202 "$(fh GET "/_fakehub/deliveries?repo=$FULL&event=push" | jq -r '.[-1].status_code')"
fh POST "/_fakehub/deliveries/$DID/redeliver" > "$T/redeliver"
check_eq "GitHub's redelivery (same delivery id) → 200" 200 "$(jq -r .status_code "$T/redeliver")"
check_eq "… nothing done again" duplicate "$(jq -r '.response.payload | fromjson | .status' "$T/redeliver")"
until_ok 30 test "$(call GET "/projects/$PID/files/docs/a.md"; echo " $(body)")" = "200 from the web editor"
check "… the web editor's push was pulled into the workspace" test "$(call GET "/projects/$PID/files/docs/a.md"; echo " $(body)")" = "200 from the web editor"
last_sync() { call GET "/projects/$PID/history?limit=1" >/dev/null; jq -r '.history[0] | "\(.trigger) \(.status) \(.commit_sha)"' "$T/body"; }
until_ok 20 test "$(last_sync | cut -d' ' -f2)" = success
check_eq "… by a sync that history names after the webhook (a pull: GitHub's commit, nothing pushed)" \
	"webhook success $(remote_sha main)" "$(last_sync)"

# ---------------------------------------------------------------- checks from status and check events
jcall POST "/projects/$PID/branches" '{"name":"feature/ci"}' >/dev/null
web_commit feature/ci ci.txt "ci"
jcall POST "/projects/$PID/pulls" '{"title":"With checks","head":"feature/ci"}' >/dev/null
N=$(jq -r .number "$T/body")
SHA=$(jq -r .head_sha "$T/body")
check_match "pull request for the checks" '^[0-9]+ [0-9a-f]{40}$' "$N $SHA"
fh POST "/_fakehub/repos/$FULL/statuses/$SHA" -d '{"state":"success","context":"ci/test","description":"all good"}' >/dev/null
printf '{"sha":"%s","state":"success","context":"ci/test","repository":{"full_name":"%s"}}' "$SHA" "$FULL" > "$T/status.json"
check_eq "a status event → 202" 202 "$(post_hook status "test-$RANDOM" "$T/status.json")"
until_ok 20 test "$(pull_field "$N" .checks.state)" = success
check_eq "checks updated: success" "success ci/test" "$(pull_field "$N" '"\(.checks.state) \(.checks.items[0].name)"')"
fh POST "/_fakehub/repos/$FULL/check-runs" -d "{\"head_sha\":\"$SHA\",\"name\":\"build\",\"status\":\"completed\",\"conclusion\":\"failure\"}" >/dev/null
printf '{"action":"completed","check_run":{"head_sha":"%s","name":"build"},"repository":{"full_name":"%s"}}' "$SHA" "$FULL" > "$T/run.json"
check_eq "a check_run event → 202" 202 "$(post_hook check_run "test-$RANDOM" "$T/run.json")"
until_ok 20 test "$(pull_field "$N" .checks.state)" = failure
check_eq "checks updated: the failed run fails them" "failure build" \
	"$(pull_field "$N" '"\(.checks.state) \([.checks.items[] | select(.state == "failure") | .name] | join(","))"')"
printf '{"action":"completed","check_suite":{"head_sha":"%s"},"repository":{"full_name":"%s"}}' "$SHA" "$FULL" > "$T/suite.json"
check_eq "a check_suite event → 202" 202 "$(post_hook check_suite "test-$RANDOM" "$T/suite.json")"

# ---------------------------------------------------------------- conditional requests
LAST=$(fh GET /_fakehub/requests/count | jq -r .last_id)
call GET "/projects/$PID/pulls/$N?refresh=1" >/dev/null
call GET "/projects/$PID/pulls/$N?refresh=1" >/dev/null
log304() { fh GET "/_fakehub/requests?since_id=$LAST&path=/api/v3/repos/$FULL/$1" | jq '[.[] | select(.method == "GET" and .status == 304)] | length'; }
check "refreshing an unchanged pull request → 304 in fakehub's log" test "$(log304 "pulls/$N")" -ge 2
check "… its checks too (status and check runs)" test "$(log304 "commits/$SHA/")" -ge 4
check_eq "… and no full answer was needed" 0 "$(fh GET "/_fakehub/requests?since_id=$LAST&path=/api/v3/repos/$FULL/pulls/$N" | jq '[.[] | select(.status == 200)] | length')"
LAST=$(fh GET /_fakehub/requests/count | jq -r .last_id)
job_done() { call GET "/jobs/$1" >/dev/null; [ "$(jq -r .state "$T/body")" = done ]; }
call GET "/projects/$PID/pulls?refresh=1" >/dev/null
J=$(jq -r .refresh_job_id "$T/body")
until_ok 20 job_done "$J"
call GET "/projects/$PID/pulls?refresh=1" >/dev/null
J=$(jq -r .refresh_job_id "$T/body")
until_ok 20 job_done "$J"
check "refreshing the unchanged open list → 304 in fakehub's log" test "$(log304 pulls)" -ge 2

# ---------------------------------------------------------------- key rotation re-seals webhook secrets
"$BUILD/ghbridge" keygen --out "$T/new.key" >/dev/null 2>&1
out=$("$BUILD/ghbridge" rotate-key --new-key "$T/new.key" 2>&1)
newid=$(printf '%s\n' "$out" | sed -n -E 's/^re-sealed .* with key ([0-9a-f]{8}).*/\1/p')
check_match "rotate-key re-seals the secrets" '^[0-9a-f]{8}$' "$newid"
check_eq "the webhook secret is sealed with the new key" "v1.$newid." "$(psql -qtAc "SELECT secret_sealed FROM webhooks WHERE project_id = $PID" | cut -c1-12)"
check_eq "deliveries still verify after the rotation" 202 "$(post_hook push "test-$RANDOM" "$T/push.json")"

# ---------------------------------------------------------------- without a webhook: polling
check_eq "the hook removed on GitHub → 204" 204 "$(gh DELETE "/repos/$OWNER/$REPO/hooks/$HOOK")"
web_commit feature/ci ci2.txt "more" # a push nobody tells ghbridge about
gh POST "/repos/$OWNER/$REPO/git/refs" -d "{\"ref\":\"refs/heads/feature/quiet\",\"sha\":\"$(remote_sha main)\"}" >/dev/null
web_commit feature/quiet quiet.txt "q"
check_eq "a pull request opened on GitHub → 201" 201 "$(gh POST "/repos/$OWNER/$REPO/pulls" -d '{"title":"Quiet","head":"feature/quiet","base":"main"}')"
NQ=$(jq -r .number "$T/gh")
check_eq "ghbridge does not know it yet" 404 "$(call GET "/projects/$PID/pulls/$NQ?refresh=0")"
call GET "/projects/$PID/pulls?refresh=1" >/dev/null
until_ok 20 test "$(call GET "/projects/$PID/pulls/$NQ?refresh=0")" = 200
check_eq "a refresh finds it" "open Quiet" "$(pull_field "$NQ" '"\(.state) \(.title)"')"
check_eq "… and the moved head of the other" "$(remote_sha feature/ci)" "$(pull_field "$N" .head_sha)"

# ---------------------------------------------------------------- registration: idempotent, self-healing, shared
new_project "Hooks two"
until_ok 30 test "$(webhook_status)" = active
HOOK2=$(jq -r .webhook.hook_id "$T/body")
hooks() { gh GET "/repos/$OWNER/$REPO/hooks" >/dev/null; jq -r "$1" "$T/gh"; }
check_eq "second project: its hook registered" "1 $HOOK2" "$(hooks '"\(length) \(.[0].id)"')"
J=$("$BUILD/ghbridge" jobs enqueue webhook_register --project "$PID" 2>/dev/null | tail -1)
until_ok 20 job_done "$J"
check_eq "registering again reuses the hook (listed first, not created twice)" "1 $HOOK2" "$(hooks '"\(length) \(.[0].id)"')"
psql -qtAc "DELETE FROM webhooks WHERE project_id = $PID" >/dev/null
call GET "/projects/$PID/pulls" >/dev/null # a page view notices the missing registration
until_ok 30 test "$(webhook_status)" = active
check_eq "a hook of ours whose secret was lost is replaced, not doubled" 1 "$(hooks length)"
check "… by a new one" test "$(hooks '.[0].id')" != "$HOOK2"
HOOK2=$(hooks '.[0].id')
P2=$PID
jcall POST /projects '{"name":"Hooks three"}' >/dev/null
P3=$(jq -r .id "$T/body")
# One repository, one project (issue 13 item 6): a third project may not link the second's repository, so
# GitHub's hook and its deliveries stay the second's alone and nothing of one project reaches the other.
check_eq "a third project linking the same repository → 409" 409 "$(jcall POST "/projects/$P3/repository" "{\"mode\":\"link\",\"owner\":\"$OWNER\",\"name\":\"$REPO\"}")"
check_eq "… repository_in_use" repository_in_use "$(jq -r .error.code "$T/body")"
check_eq "… the repository keeps its one hook" "1 $HOOK2" "$(hooks '"\(length) \(.[0].id)"')"
check_eq "… only the second project's row names it" "1 $P2" "$(psql -qtAc "SELECT count(*), min(project_id) FROM webhooks WHERE hook_id = $HOOK2" | tr '|' ' ')"
web_commit main shared.txt "for the second"
check_eq "… GitHub's delivery is accepted" 202 "$(fh GET "/_fakehub/deliveries?repo=$OWNER/$REPO&event=push" | jq -r '.[-1].status_code')"
shared_in() { [ "$(curl -s -H "Authorization: Bearer $KEY" "$API/projects/$1/files/shared.txt")" = "for the second" ]; }
until_ok 30 shared_in "$P2"
check "… the second project pulls the push" shared_in "$P2"
check_eq "… the third has nothing of it" 404 "$(call GET "/projects/$P3/files/shared.txt")"

# ---------------------------------------------------------------- disconnect removes the webhook
PID=$P2
check_eq "disconnecting the second → 204" 204 "$(call DELETE "/projects/$PID/repository")"
until_ok 20 test "$(hooks length)" = 0
check_eq "… the hook is gone from GitHub" 0 "$(hooks length)"
check_eq "… and from ghbridge" 0 "$(psql -qtAc "SELECT count(*) FROM webhooks WHERE project_id IN ($P2, $P3)")"
check_eq "… its pull requests are forgotten" 0 "$(psql -qtAc "SELECT count(*) FROM pull_requests WHERE project_id = $PID")"
check_eq "… the repository stays" 200 "$(gh GET "/repos/$OWNER/$REPO")"

finish
