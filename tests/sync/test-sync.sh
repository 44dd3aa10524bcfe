#!/usr/bin/env bash
# tests/sync/test-sync.sh: projects and two-way sync through nginx against fakehub: files API, connect,
# sync, clone, exclusions, deletion, binary files, no-change syncs, pulls, conflicts, refusals, ownership.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "sync tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "sync tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1

signin "$T/jar-octocat" octocat >/dev/null
signin "$T/jar-hubot" hubot >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user octocat --name sync-test --scopes projects:read,projects:write,sync 2>&1 | tail -1)
KEY2=$("$BUILD/ghbridge" apikey create --user hubot --name sync-test --scopes projects:read,projects:write,sync 2>&1 | tail -1)
check_match "API key for octocat" '^ghb_' "$KEY"

# call METHOD PATH [curl args]: body to $T/body, prints the status.
call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
call2() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEY2" "$@" "$API$p"; }
body() { cat "$T/body"; }
put_file() { call PUT "/projects/$PID/files/$1" --data-binary "@$2" -H 'Content-Type: application/octet-stream'; }
put_text() { printf '%s' "$2" > "$T/put"; put_file "$1" "$T/put"; }

# wait_sync: waits until the project is no longer PENDING/SYNCING and the history has more than N rows.
wait_sync() {
	local want=$1 i st n
	for i in $(seq 1 150); do
		call GET "/projects/$PID/history?limit=100" >/dev/null
		n=$(jq '[.history[] | select(.status != "running")] | length' "$T/body" 2>/dev/null || echo 0)
		call GET "/projects/$PID/status" >/dev/null
		st=$(jq -r .status "$T/body")
		if [ "$n" -ge "$want" ] && [ "$st" != PENDING ] && [ "$st" != SYNCING ]; then echo "$st"; return 0; fi
		sleep 0.2
	done
	echo "timeout($st,$n)"
}
nhist() { call GET "/projects/$PID/history?limit=100" >/dev/null; jq '.history | length' "$T/body"; }

# ---------------------------------------------------------------- projects
check_eq "create project → 201" 201 "$(call POST /projects -H 'Content-Type: application/json' -d '{"name":"Site one"}')"
PID=$(jq -r .id "$T/body")
check_match "project has an id" '^[0-9]+$' "$PID"
check_eq "create without name → 400" 400 "$(call POST /projects -H 'Content-Type: application/json' -d '{}')"
check_eq "list has the project" 1 "$(call GET /projects >/dev/null; jq "[.projects[] | select(.id == $PID)] | length" "$T/body")"
check_eq "rename → 200" 200 "$(call PATCH "/projects/$PID" -H 'Content-Type: application/json' -d '{"name":"Site 1"}')"
check_eq "renamed" "Site 1" "$(jq -r .name "$T/body")"

# ---------------------------------------------------------------- refusals
check_eq "path with .. → 400" 400 "$(put_text '..%2Fescape.txt' x)"
check_eq "path under .git → 400" 400 "$(put_text '.git%2Fconfig' x)"
check_eq "absolute path → 4xx" 1 "$(s=$(put_text '%2Fetc%2Fpasswd' x); [ "${s:0:1}" = 4 ] && echo 1 || echo "$s")"
check_eq "control character in path → 400" 400 "$(put_text 'a%01b.txt' x)"
check_eq "very long path → 4xx" 1 "$(s=$(put_text "$(printf 'a%.0s' $(seq 1 1100))" x); [ "${s:0:1}" = 4 ] && echo 1 || echo "$s")"
head -c $((51 * 1024 * 1024)) /dev/zero > "$T/big"
s=$(put_file big.bin "$T/big")
check_eq "51 MiB file → 413" 413 "$s"
rm -f "$T/big"
check_eq "nothing written by refused uploads" "[]" "$(call GET "/projects/$PID/files" >/dev/null; jq -c '[.files[].path]' "$T/body")"

# ---------------------------------------------------------------- ownership
check_eq "another user's project → 404" 404 "$(call2 GET "/projects/$PID")"
check_eq "another user's files → 404" 404 "$(call2 PUT "/projects/$PID/files/evil.txt" --data-binary 'x')"
check_eq "another user's sync → 404" 404 "$(call2 POST "/projects/$PID/sync")"
check_eq "another user's delete → 404" 404 "$(call2 DELETE "/projects/$PID")"
check_eq "no key → 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$API/projects/$PID")"

# ---------------------------------------------------------------- files
check_eq "PUT new file → 201" 201 "$(put_text index.html '<h1>Hello</h1>')"
check_eq "PUT same file → 200" 200 "$(put_text index.html '<h1>Hello, world</h1>')"
check_eq "PUT nested file → 201" 201 "$(put_text 'docs/guide/intro.md' '# Intro')"
check_eq "PUT excluded log → 201" 201 "$(put_text 'debug.log' 'noise')"
check_eq "PUT to-delete file → 201" 201 "$(put_text 'old.txt' 'going away')"
head -c 70000 /dev/urandom > "$T/blob.bin"
check_eq "PUT binary → 201" 201 "$(put_file 'img/blob.bin' "$T/blob.bin")"
call GET "/projects/$PID/files/img/blob.bin" >/dev/null
check "GET binary is byte-identical" cmp "$T/body" "$T/blob.bin"
check_eq "file list with status new" '["debug.log:new","docs/guide/intro.md:new","img/blob.bin:new","index.html:new","old.txt:new"]' \
	"$(call GET "/projects/$PID/files" >/dev/null; jq -c '[.files[] | "\(.path):\(.status)"]' "$T/body")"
check_eq "sync before connect → 409" 409 "$(call POST "/projects/$PID/sync")"

# ---------------------------------------------------------------- settings
check_eq "invalid settings → 422" 422 "$(call PATCH "/projects/$PID/settings" -H 'Content-Type: application/json' \
	-d '{"sync_branch":"bad..name","commit_template":"  ","batch_minutes":-3}')"
check_eq "field errors named" '["batch_minutes","commit_template","sync_branch"]' "$(jq -c '.error.fields | keys' "$T/body")"
check_eq "settings → 200" 200 "$(call PATCH "/projects/$PID/settings" -H 'Content-Type: application/json' \
	-d '{"auto_sync":false,"exclude_patterns":["*.log"],"commit_template":"site: {{files_changed}} files from {{project}} by {{user}}"}')"
check_eq "invalid settings saved nothing" "false|*.log" "$(jq -r '"\(.settings.auto_sync)|\(.settings.exclude_patterns)"' "$T/body")"
check_eq "excluded file shows excluded" "excluded" "$(call GET "/projects/$PID/files" >/dev/null; jq -r '.files[] | select(.path=="debug.log") | .status' "$T/body")"

# ---------------------------------------------------------------- connect (create repository)
REPO=site-$(date +%s)-$RANDOM
check_eq "connect with a new repository → 202 (a job)" 202 "$(call POST "/projects/$PID/repository" -H 'Content-Type: application/json' \
	-d "{\"mode\":\"create\",\"name\":\"$REPO\",\"private\":true,\"description\":\"test\"}")"
check_match "connect returns a job id" '^[0-9]+$' "$(jq -r .job_id "$T/body")"
# The state is read back after the job is queued: a quick worker may already have claimed it.
check_match "… the answer carries the connect request and its state" "^(queued|running|done) octocat/$REPO\$" \
	"$(jq -r '"\(.connection.state) \(.connection.repository)"' "$T/body")"
check_eq "the connect job finishes" done "$(wait_connect "$KEY" "$PID")"
check_eq "repository linked" "octocat/$REPO" "$(call GET "/projects/$PID" >/dev/null; jq -r .repository.full_name "$T/body")"
check_eq "connect twice → 409" 409 "$(call POST "/projects/$PID/repository" -H 'Content-Type: application/json' \
	-d "{\"mode\":\"create\",\"name\":\"$REPO-2\"}")"
st=$(wait_sync 1)
check_eq "initial sync → SUCCESS" SUCCESS "$st"

TOKEN=$(curl -s -X POST "$FAKEHUB_URL/_fakehub/users/octocat/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
CLONE=${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/octocat/$REPO.git
clone() { rm -rf "$T/c"; git clone -q "$CLONE" "$T/c" 2>"$T/clone.err"; }
clone
check_eq "clone has exactly the files, without the excluded one" "docs/guide/intro.md img/blob.bin index.html old.txt" \
	"$(cd "$T/c" && git ls-files | tr '\n' ' ' | sed 's/ $//')"
check "binary file byte-identical in git" cmp "$T/c/img/blob.bin" "$T/blob.bin"
check_eq "text content in git" '<h1>Hello, world</h1>' "$(cat "$T/c/index.html")"
check_eq "commit message from the template" "site: 4 files from Site 1 by octocat" "$(cd "$T/c" && git log -1 --format=%s)"
check_eq "author is the user's noreply address" "octocat" "$(cd "$T/c" && git log -1 --format=%an)"
check_match "author e-mail" '^[0-9]+\+octocat@users\.noreply\.github\.com$' "$(cd "$T/c" && git log -1 --format=%ae)"
check_eq "committer is ghbridge" ghbridge "$(cd "$T/c" && git log -1 --format=%cn)"
call GET "/projects/$PID/history?limit=1" >/dev/null
check_eq "history row: success with 4 files" "success 4 initial" "$(jq -r '.history[0] | "\(.status) \(.files_changed) \(.trigger)"' "$T/body")"
check_eq "history commit = GitHub head" "$(cd "$T/c" && git rev-parse HEAD)" "$(jq -r '.history[0].commit_sha' "$T/body")"
check_match "history duration in seconds to the millisecond, not every digit of a double" '"duration_s": ?[0-9]+\.[0-9]{3}[,}]' "$(tr -d ' ' < "$T/body")"
check_eq "files now synced" "synced" "$(call GET "/projects/$PID/files" >/dev/null; jq -r '[.files[] | select(.path != "debug.log") | .status] | unique | join(",")' "$T/body")"

# ---------------------------------------------------------------- deletion, rename
check_eq "DELETE file → 204" 204 "$(call DELETE "/projects/$PID/files/old.txt")"
check_eq "deleted shows deleted" deleted "$(call GET "/projects/$PID/files" >/dev/null; jq -r '.files[] | select(.path=="old.txt") | .status' "$T/body")"
put_text 'docs/guide/intro-renamed.md' '# Intro' >/dev/null
call DELETE "/projects/$PID/files/docs/guide/intro.md" >/dev/null
H=$(nhist)
check_eq "Sync now → 202" 202 "$(call POST "/projects/$PID/sync")"
check_match "sync returns the job id" '^[0-9]+$' "$(jq -r .job_id "$T/body")"
check_eq "sync after delete → SUCCESS" SUCCESS "$(wait_sync $((H + 1)))"
clone
check_eq "deletion and rename synced" "docs/guide/intro-renamed.md img/blob.bin index.html" "$(cd "$T/c" && git ls-files | tr '\n' ' ' | sed 's/ $//')"

# ---------------------------------------------------------------- no change: no write
curl -s -X DELETE "$FAKEHUB_URL/_fakehub/requests" >/dev/null
H=$(nhist)
call POST "/projects/$PID/sync" >/dev/null
check_eq "no-change sync → SUCCESS" SUCCESS "$(wait_sync $((H + 1)))"
call GET "/projects/$PID/history?limit=1" >/dev/null
check_eq "no-change history row" nochange "$(jq -r '.history[0].status' "$T/body")"
writes=$(curl -s "$FAKEHUB_URL/_fakehub/requests" | jq '[.[] | select(.method != "GET" and (.path | test("git-upload-pack") | not))] | length')
reads=$(curl -s "$FAKEHUB_URL/_fakehub/requests" | jq 'length')
check_eq "no-change sync made no write request (of $reads)" 0 "$writes"
check_eq "head unchanged" "$(cd "$T/c" && git rev-parse HEAD)" "$(git ls-remote "$CLONE" HEAD | cut -f1)"

# ---------------------------------------------------------------- pull: an edit made on GitHub
BR=$(cd "$T/c" && git rev-parse --abbrev-ref HEAD)
(cd "$T/c" && git config user.email m@example.com && git config user.name Maint && echo 'from github' > gh.txt &&
	git add gh.txt && git commit -qm 'edit on GitHub' && git push -q origin "$BR" 2>/dev/null)
put_text local.txt 'from the panel' >/dev/null
curl -s -X DELETE "$FAKEHUB_URL/_fakehub/requests" >/dev/null
H=$(nhist)
call POST "/projects/$PID/sync" >/dev/null
check_eq "both sides changed different files → SUCCESS" SUCCESS "$(wait_sync $((H + 1)))"
writes=$(curl -s "$FAKEHUB_URL/_fakehub/requests" | jq '[.[] | select(.method != "GET" and (.path | test("git-upload-pack") | not))] | length')
check_eq "a sync with changes makes exactly one push (the request log sees writes)" 1 "$writes"
call GET "/projects/$PID/files/gh.txt" >/dev/null
check_eq "GitHub's edit pulled into the workspace" "from github" "$(body)"
clone
check_eq "both changes on GitHub" "docs/guide/intro-renamed.md gh.txt img/blob.bin index.html local.txt" "$(cd "$T/c" && git ls-files | tr '\n' ' ' | sed 's/ $//')"
check_match "GitHub's commit kept in history" 'edit on GitHub' "$(cd "$T/c" && git log --format=%s)"

# ---------------------------------------------------------------- a GitHub fault is retried
curl -s -X POST "$FAKEHUB_URL/_fakehub/faults" -H 'Content-Type: application/json' \
	-d "{\"method\":\"POST\",\"path\":\"*git-receive-pack*\",\"kind\":\"status\",\"status\":500,\"count\":1}" >/dev/null
put_text fault.txt 'after a 500' >/dev/null
H=$(nhist)
call POST "/projects/$PID/sync" >/dev/null
for i in $(seq 1 150); do
	call GET "/projects/$PID/history?limit=2" >/dev/null
	[ "$(jq -r '.history[0].status' "$T/body")" = success ] && break
	sleep 0.2
done
check_eq "push answered 500 → retried → success on attempt 2" "success 2 | error 1" \
	"$(jq -r '"\(.history[0].status) \(.history[0].attempt) | \(.history[1].status) \(.history[1].attempt)"' "$T/body")"
check_eq "fault file reached GitHub" "after a 500" "$(git archive --remote="$CLONE" HEAD fault.txt 2>/dev/null | tar -xO 2>/dev/null || (clone; cat "$T/c/fault.txt"))"
curl -s -X DELETE "$FAKEHUB_URL/_fakehub/faults" >/dev/null
clone

# ---------------------------------------------------------------- conflict → branch + pull request
(cd "$T/c" && git config user.email m@example.com && git config user.name Maint && printf 'line from github\n' > index.html &&
	git commit -qam 'github edits index' && git push -q origin "$BR" 2>/dev/null)
GHSHA=$(cd "$T/c" && git rev-parse HEAD)
put_text index.html 'line from the panel' >/dev/null
H=$(nhist)
call POST "/projects/$PID/sync" >/dev/null
check_eq "same lines changed → CONFLICT" CONFLICT "$(wait_sync $((H + 1)))"
call GET "/projects/$PID/status" >/dev/null
CB=$(jq -r .conflict_branch "$T/body")
check_match "conflict branch named" '^ghbridge/conflict-' "$CB"
check_match "conflict links a pull request" '/pull/[0-9]+' "$(jq -r .conflict_url "$T/body")"
check_eq "GitHub's branch not overwritten" "$GHSHA" "$(git ls-remote "$CLONE" "refs/heads/$BR" | cut -f1)"
rm -rf "$T/c2" && git clone -q -b "$CB" "$CLONE" "$T/c2" 2>/dev/null
check_eq "panel's version on the conflict branch" "line from the panel" "$(cat "$T/c2/index.html" 2>/dev/null)"
prs=$(curl -s -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/repos/octocat/$REPO/pulls?state=open" | jq --arg b "$CB" '[.[] | select(.head.ref == $b)] | length')
check_eq "one open pull request for the conflict branch" 1 "$prs"
check_eq "workspace keeps working" 201 "$(put_text after-conflict.txt 'still here')"

# ---------------------------------------------------------------- delete
check_eq "delete project → 204" 204 "$(call DELETE "/projects/$PID")"
check_eq "deleted project → 404" 404 "$(call GET "/projects/$PID")"
check_eq "repository kept on GitHub" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/repos/octocat/$REPO")"

finish
