#!/usr/bin/env bash
# tests/sync/test-branches.sh: the sync branch against GitHub (issue 12): a new sync branch starts from the
# project's history (never a root commit), a branch deleted on GitHub is never recreated, a project that
# follows the default branch follows GitHub's change of it; and (issue 11) a worker killed mid-sync leaves
# no history row 'running'.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "branch sync tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "branch sync tests" "fakehub is not running"; finish; exit; fi
if [ -z "${STACK_VAR:-}" ] || [ ! -f "$STACK_VAR/run/worker.pid" ]; then skip "branch sync tests" "no stack worker to swap"; finish; exit; fi

T=$(mktemp -d)
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=branches$$
WPIDF=$STACK_VAR/run/worker.pid
# A short lease, so that a killed worker's job comes back within seconds (section 4), and a periodic
# check every 2 s (section 3).
worker_restart() {
	local pid i
	pid=$(cat "$WPIDF" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	fi
	env "$@" setsid "$BUILD/ghbridge" worker >> "$STACK_VAR/log/worker.log" 2>&1 < /dev/null &
	echo $! > "$WPIDF"
}
cleanup() {
	curl -s -X DELETE "$FH/faults" >/dev/null
	worker_restart
	rm -rf "$T"
}
trap cleanup EXIT
worker_restart GHBRIDGE_JOBS_LEASE_SECONDS=3 GHBRIDGE_PROJECT_POLL_SECONDS=2

curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"Branch Tests\"}" >/dev/null
signin "$T/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name branches --scopes projects:read,projects:write,sync 2>&1 | tail -1)
check_match "API key for a user of this test" '^ghb_' "$KEY"
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)

call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 60 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
json() { call PATCH "$1" -H 'Content-Type: application/json' -d "$2"; }
put_text() { printf '%s' "$2" > "$T/put"; call PUT "/projects/$PID/files/$1" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
file_is() { call GET "/projects/$PID/files/$1" >/dev/null 2>&1 && [ "$(cat "$T/body")" = "$2" ]; }
hist_count() { call GET "/projects/$PID/history?limit=100" >/dev/null; jq "[.history[] | select($1)] | length" "$T/body"; }
hist_has() { [ "$(hist_count "$1")" -ge "${2:-1}" ]; }
idle() { call GET "/projects/$PID/status" >/dev/null; local s; s=$(jq -r .status "$T/body"); [ "$s" != PENDING ] && [ "$s" != SYNCING ]; }
status_of() { call GET "/projects/$PID/status" >/dev/null; jq -r "$1" "$T/body"; }
gh() { local m=$1 p=$2; shift 2; curl -s -X "$m" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@" "$FAKEHUB_API_URL$p"; }
remote_head() { git ls-remote "$CLONE" "refs/heads/$1" | cut -f1; }
web_commit() { # BRANCH PATH CONTENT
	curl -s -X POST "$FH/repos/$U/$REPO/commits" -H 'Content-Type: application/json' \
		-d "$(jq -nc --arg who "$U" --arg b "$1" --arg p "$2" --arg c "$3" '{"as":$who,branch:$b,path:$p,content:$c,message:("web edit " + $p)}')" | jq -r .sha
}
sync_now() { # waits for a new history row of a manual sync; prints nothing
	local n; n=$(hist_count '.trigger == "manual"')
	call POST "/projects/$PID/sync" >/dev/null
	wait_for 60 hist_has ".trigger == \"manual\" and .status != \"running\"" $((n + 1))
	wait_for 20 idle
}
last_manual() { call GET "/projects/$PID/history?limit=100" >/dev/null; jq -r "[.history[] | select(.trigger == \"manual\")][0] | $1" "$T/body"; }

# ---------------------------------------------------------------- a connected project, auto-sync off
check_eq "create project → 201" 201 "$(call POST /projects -H 'Content-Type: application/json' -d '{"name":"Branches"}')"
PID=$(jq -r .id "$T/body")
put_text index.html '<h1>branches</h1>' >/dev/null
REPO=branches-$(date +%s)-$RANDOM
check_eq "connect with a new repository → 202" 202 "$(call POST "/projects/$PID/repository" -H 'Content-Type: application/json' \
	-d "{\"mode\":\"create\",\"name\":\"$REPO\",\"private\":true}")"
check_eq "the connect job finishes" done "$(wait_connect "$KEY" "$PID")"
CLONE=${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$REPO.git
check "initial sync → SUCCESS" wait_for 60 hist_has '.trigger == "initial" and .status == "success"'
wait_for 20 idle
check_eq "auto-sync off → 200" 200 "$(json "/projects/$PID/settings" '{"auto_sync":false}')"
MAIN=$(remote_head main)
check_match "main on GitHub" '^[0-9a-f]{40}$' "$MAIN"

# ---------------------------------------------------------------- 1. a new sync branch (issue 12, case 7)
check_eq "sync branch 'develop' (not on GitHub) → 200" 200 "$(json "/projects/$PID/settings" '{"sync_branch":"develop"}')"
put_text dev.txt 'on develop' >/dev/null
sync_now
check_eq "the sync succeeded" success "$(last_manual .status)"
DEV=$(remote_head develop)
check_match "develop was created on GitHub" '^[0-9a-f]{40}$' "$DEV"
rm -rf "$T/c"; git clone -q "$CLONE" "$T/c" 2>/dev/null
git -C "$T/c" fetch -q origin develop 2>/dev/null
check_eq "develop's first commit has main's tip as its parent (not a root commit)" "$MAIN" \
	"$(git -C "$T/c" rev-parse "$DEV^" 2>/dev/null)"
check_eq "develop and main share history (a pull request between them is possible)" "$MAIN" \
	"$(git -C "$T/c" merge-base origin/main "$DEV" 2>/dev/null)"
check_match "history says where develop started" "did not exist on GitHub: it was created from ${MAIN:0:7}" "$(last_manual .error)"
check_eq "main was not touched" "$MAIN" "$(remote_head main)"

# ---------------------------------------------------------------- 2. the sync branch deleted on GitHub
check_eq "develop deleted on GitHub → 204" 204 "$(gh DELETE "/repos/$U/$REPO/git/refs/heads/develop" -o /dev/null -w '%{http_code}')"
put_text after-delete.txt 'must not recreate develop' >/dev/null
sync_now
check_eq "the sync is an error" error "$(last_manual .status)"
check_match "the project says the branch was deleted on GitHub" "was deleted on GitHub" "$(status_of .last_error)"
check_eq "develop was not recreated" "" "$(remote_head develop)"
check_eq "nothing went to main either" "$MAIN" "$(remote_head main)"
check_eq "the file stays a pending change" new "$(call GET "/projects/$PID/files" >/dev/null; jq -r '.files[] | select(.path == "after-delete.txt") | .status' "$T/body")"

# ---------------------------------------------------------------- 3. GitHub's default branch changes (issue 12, case 5)
# Back to following the default branch (main), then on GitHub: trunk from develop's last tip with a
# commit of its own, made the default; main deleted.
check_eq "follow the default branch again → 200" 200 "$(json "/projects/$PID/settings" '{"sync_branch":""}')"
sync_now
MAIN2=$(remote_head main)
check_eq "trunk created on GitHub → 201" 201 "$(gh POST "/repos/$U/$REPO/git/refs" -o /dev/null -w '%{http_code}' \
	-d "{\"ref\":\"refs/heads/trunk\",\"sha\":\"$MAIN2\"}")"
TSHA=$(web_commit trunk on-trunk.txt 'made on trunk')
check_match "a commit on trunk" '^[0-9a-f]{40}$' "$TSHA"
check_eq "trunk made the default branch → 200" 200 "$(gh PATCH "/repos/$U/$REPO" -o /dev/null -w '%{http_code}' -d '{"default_branch":"trunk"}')"
check_eq "main deleted on GitHub → 204" 204 "$(gh DELETE "/repos/$U/$REPO/git/refs/heads/main" -o /dev/null -w '%{http_code}')"
# Nothing changed here: the periodic check finds main gone and one pull follows GitHub to trunk.
check "trunk's commit reaches the workspace without a sync asked for" wait_for 30 file_is on-trunk.txt 'made on trunk'
check "history: the pull says the project follows trunk" wait_for 10 \
	hist_has '.trigger == "pull" and .status == "success" and ((.error // "") | contains("default branch is now '"'"'trunk'"'"'"))'
wait_for 20 idle
check_eq "main was not recreated by the pull" "" "$(remote_head main)"
put_text to-trunk.txt 'goes to trunk' >/dev/null
sync_now
check_eq "the sync succeeded" success "$(last_manual .status)"
check_eq "main was not recreated" "" "$(remote_head main)"
rm -rf "$T/c"; git clone -q -b trunk "$CLONE" "$T/c" 2>/dev/null
check_eq "the local change went to trunk" "goes to trunk" "$(cat "$T/c/to-trunk.txt" 2>/dev/null)"
check "trunk keeps its own commit" git -C "$T/c" merge-base --is-ancestor "$TSHA" HEAD
check_eq "the project's branch is trunk now" trunk "$(call GET "/projects/$PID" >/dev/null; jq -r .settings.sync_branch "$T/body")"

# ---------------------------------------------------------------- 4. a worker killed mid-sync (issue 11, case 5)
# The push hangs on GitHub's side; the worker process running the sync is killed; its lease (3 s)
# runs out and another process redoes the job. The killed attempt's history row must not stay running.
curl -s -X POST "$FH/faults" -H 'Content-Type: application/json' \
	-d "{\"method\":\"POST\",\"path\":\"/$U/$REPO.git/git-receive-pack\",\"kind\":\"hang\",\"seconds\":20,\"count\":1}" >/dev/null
put_text killed.txt 'sync killed mid-push' >/dev/null
call POST "/projects/$PID/sync" >/dev/null
JOB=$(jq -r '.job_id // .job.id // empty' "$T/body")
check "a sync row is running" wait_for 30 hist_has '.status == "running"'
sleep 1
VICTIM=$(psql -XAtq -c "SELECT split_part(locked_by, ':', 2) FROM jobs WHERE kind = 'sync' AND project_id = $PID AND state = 'running'" 2>/dev/null | head -1)
if [ -n "$VICTIM" ] && kill -KILL "$VICTIM" 2>/dev/null; then ok "SIGKILLed the worker process $VICTIM mid-sync"; else not_ok "SIGKILL the worker mid-sync" "no pid (job $JOB)"; fi
check "the redo succeeds" wait_for 60 hist_has '.trigger == "manual" and .status == "success" and .attempt >= 2'
check_eq "no history row is left running" 0 "$(hist_count '.status == "running"')"
check_eq "the killed attempt's row is interrupted" 1 "$(hist_count '.status == "interrupted"')"
check_match "… with the reason" "worker stopped before this attempt ended \\(lease expired.*retried as attempt 2" \
	"$(call GET "/projects/$PID/history?limit=100" >/dev/null; jq -r '[.history[] | select(.status == "interrupted")][0].error' "$T/body")"
check_match "the history page shows it" "interrupted" "$(curl -s -b "$T/jar" "$GHB_URL/projects/$PID/history")"

finish
