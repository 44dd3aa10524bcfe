#!/usr/bin/env bash
# tests/pulls/test-webhooks-rename.sh: a connected repository renamed on GitHub (same id): its webhook
# deliveries still match the project (by GitHub's repository id), the project follows the new name, and
# syncs work against it; a late delivery with the old name does not undo that; unknown ids are refused.
set -u
. "$ROOT/tests/pulls/lib-pulls.sh"

new_project "Hooks renamed"
until_ok 30 test "$(webhook_status)" = active
check_eq "webhook registered and active" active "$(webhook_status)"
HOOK=$(jq -r .webhook.hook_id "$T/body")
SECRET=$(psql -d fakehub -qtAc "SELECT secret FROM hooks WHERE id = $HOOK")
gh GET "/repos/$OWNER/$REPO" >/dev/null
RID=$(jq -r .id "$T/gh")
check_eq "the project knows GitHub's repository id" "$RID" "$(psql -qtAc "SELECT workspace_repo_id FROM projects WHERE id = $PID")"

OLD=$REPO
NEW=$OLD-renamed
check_eq "the repository renamed on GitHub → 200" 200 "$(gh PATCH "/repos/$OWNER/$OLD" -d "{\"name\":\"$NEW\"}")"
check_eq "… same id, new name" "$RID $OWNER/$NEW" "$(jq -r '"\(.id) \(.full_name)"' "$T/gh")"
REPO=$NEW
CLONE=${FAKEHUB_URL/http:\/\//http:\/\/x-access-token:$TOKEN@}/$OWNER/$REPO.git
repo_of() { call GET "/projects/$PID" >/dev/null; jq -r '.repository | "\(.full_name) \(.html_url) \(.clone_url)"' "$T/body"; }
check_eq "ghbridge still has the old name" "$OWNER/$OLD" "$(repo_of | cut -d' ' -f1)"

web_commit main docs/renamed.md "after the rename"
check_eq "GitHub's push delivery for the renamed repository is accepted" 202 \
	"$(fh GET "/_fakehub/deliveries?repo=$OWNER/$NEW&event=push" | jq -r '.[-1].status_code')"
until_ok 30 test "$(repo_of | cut -d' ' -f1)" = "$OWNER/$NEW"
check_match "the project follows the new name (full name, html and clone URLs)" \
	"^$OWNER/$NEW [^ ]*/$OWNER/$NEW [^ ]*/$OWNER/$NEW\\.git\$" "$(repo_of)"
check_eq "… its webhook row too" "$OWNER/$NEW" \
	"$(psql -qtAc "SELECT repo_owner || '/' || repo_name FROM webhooks WHERE project_id = $PID")"
check_eq "… and the workspace's repository, with the id kept" "$(echo "$OWNER/$NEW" | tr A-Z a-z) $RID" \
	"$(psql -qtAc "SELECT workspace_repo || ' ' || workspace_repo_id FROM projects WHERE id = $PID")"
until_ok 30 test "$(call GET "/projects/$PID/files/docs/renamed.md"; echo " $(body)")" = "200 after the rename"
check "… the push was pulled from the new name" test "$(call GET "/projects/$PID/files/docs/renamed.md"; echo " $(body)")" = "200 after the rename"

wait_idle >/dev/null
put_text later.txt "pushed later" >/dev/null
check_eq "a later sync → 202" 202 "$(call POST "/projects/$PID/sync")"
check_eq "… succeeds" SUCCESS "$(wait_idle)"
last_sync() { call GET "/projects/$PID/history?limit=1" >/dev/null; jq -r '.history[0] | "\(.status) \(.commit_sha)"' "$T/body"; }
check_eq "… pushed to the repository under its new name" "success $(remote_sha main)" "$(last_sync)"
check_eq "… the file is there on GitHub" "pushed later" \
	"$(git clone -q --depth 1 "$CLONE" "$T/clone" >/dev/null 2>&1; cat "$T/clone/later.txt" 2>/dev/null)"

# ---------------------------------------------------------------- hand-made deliveries, signed with the hook's secret
sign() { openssl dgst -sha256 -hmac "$SECRET" -r "$1" | cut -d' ' -f1; }
# post_hook FILE [HOOK-ID|-]: a signed push delivery; prints the status, body in $T/hook.
post_hook() {
	local f=$1 hook=${2:-$HOOK} args=(-H 'Content-Type: application/json' -H 'X-GitHub-Event: push')
	[ "$hook" != - ] && args+=(-H "X-GitHub-Hook-ID: $hook")
	curl -s -o "$T/hook" -w '%{http_code}' --max-time 60 -X POST "${args[@]}" -H "X-GitHub-Delivery: test-$RANDOM-$RANDOM" \
		-H "X-Hub-Signature-256: sha256=$(sign "$f")" --data-binary "@$f" "$GHB_URL/webhooks/github"
}
push_json() { printf '{"ref":"refs/heads/elsewhere","before":"%s","after":"%s","repository":{"id":%s,"full_name":"%s"}}' \
	0000000000000000000000000000000000000000 1111111111111111111111111111111111111111 "$1" "$2" > "$3"; }
push_json "$RID" "$OWNER/$OLD" "$T/late.json"
check_eq "a late delivery still naming the old name → 202" 202 "$(post_hook "$T/late.json")"
J=$(jq -r .job_id "$T/hook")
# From the database: a webhook job belongs to no project, so GET /api/v1/jobs/{id} shows it to admins
# only, and whether this suite's user is the first (admin) user depends on the suites before it.
job_state() { psql -qtAc "SELECT state FROM jobs WHERE id = $1"; }
job_done() { [ "$(job_state "$1")" = done ]; }
until_ok 20 job_done "$J"
check_eq "… applied, and the project keeps the new name (GitHub does not confirm the old one)" "done $OWNER/$NEW" \
	"$(job_state "$J") $(repo_of | cut -d' ' -f1)"
push_json "$RID" "$OWNER/$NEW" "$T/byid.json"
check_eq "no hook id: found by the repository's id → 202" 202 "$(post_hook "$T/byid.json" -)"
push_json "$RID" "$OWNER/$OLD" "$T/byid-old.json"
check_eq "no hook id, the old name: still found by the id → 202" 202 "$(post_hook "$T/byid-old.json" -)"
push_json 999999999 "nobody/nothing" "$T/unknown.json"
check_eq "no hook id, an unknown repository id and name → 401, as before" 401 "$(post_hook "$T/unknown.json" -)"
check_eq "… the same answer" "bad_signature The signature does not match the secret of any webhook of this server." \
	"$(jq -r '"\(.error.code) \(.error.message)"' "$T/hook")"
push_json 999999999 "$OWNER/$NEW" "$T/other.json"
check_eq "no hook id, the project's name with another repository's id → 401 (not this repository)" 401 \
	"$(post_hook "$T/other.json" -)"

check_eq "disconnecting → 204" 204 "$(call DELETE "/projects/$PID/repository")"
until_ok 20 test "$(gh GET "/repos/$OWNER/$NEW/hooks" >/dev/null; jq length "$T/gh")" = 0
check_eq "… the hook is removed from the repository under its new name" 0 "$(gh GET "/repos/$OWNER/$NEW/hooks" >/dev/null; jq length "$T/gh")"

finish
