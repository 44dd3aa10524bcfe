#!/usr/bin/env bash
# tests/ops/test-pause.sh: pausing and resuming syncing (one project, the whole service) from the CLI,
# /admin and the API: paused work stays queued, is not synced and not lost, and resuming syncs it;
# "paused by an operator" on the project page and in the status API; admins only; "sync all now".
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "pause tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "pause tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
GHB=$BUILD/ghbridge
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=ops$$
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
cleanup() {
	# Never leave the stack paused for the suites that run after this one.
	q "DELETE FROM sync_pauses" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"Ops Tests\"}" >/dev/null
curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U-x\",\"name\":\"Not Admin\"}" >/dev/null
signin "$T/jar" "$U" >/dev/null
signin "$T/jar-x" "$U-x" >/dev/null
q "UPDATE users SET is_admin = (login = '$U') WHERE login IN ('$U', '$U-x')" >/dev/null
KEY=$("$GHB" apikey create --user "$U" --name ops --scopes projects:read,projects:write,sync,pulls,admin 2>&1 | tail -1)
KEYX=$("$GHB" apikey create --user "$U-x" --name ops --scopes projects:read,projects:write,sync,admin 2>&1 | tail -1)
KEYNS=$("$GHB" apikey create --user "$U" --name ops-noscope --scopes projects:read 2>&1 | tail -1)
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)

call() { local k=$1 m=$2 p=$3; shift 3; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $k" "$@" "$API$p"; }
put_text() { printf '%s' "$2" > "$T/put"; call "$KEY" PUT "/projects/$PID/files/$1" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
nhist() { call "$KEY" GET "/projects/$PID/history?limit=100" >/dev/null; jq '[.history[] | select(.status != "running")] | length' "$T/body"; }
wait_sync() {
	local want=$1 i st n
	for i in $(seq 1 150); do
		n=$(nhist)
		call "$KEY" GET "/projects/$PID/status" >/dev/null
		st=$(jq -r .status "$T/body")
		if [ "$n" -ge "$want" ] && [ "$st" != PENDING ] && [ "$st" != SYNCING ]; then echo "$st"; return 0; fi
		sleep 0.2
	done
	echo "timeout($st,$n)"
}
# on_github PATH: the file's content on GitHub's default branch (a fresh clone), or "absent".
on_github() {
	rm -rf "$T/c"
	git clone -q "${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$REPO.git" "$T/c" 2>/dev/null
	if [ -f "$T/c/$1" ]; then cat "$T/c/$1"; else echo absent; fi
}
queued_syncs() { q "SELECT count(*) FROM jobs WHERE project_id = $PID AND kind = 'sync' AND state = 'queued'"; }

# ---------------------------------------------------------------- a connected project
check_eq "help: ghbridge sync --help exits 0" 0 "$("$GHB" sync --help >/dev/null 2>&1; echo $?)"
check_match "help: names pause, resume and --project" "pause.*--project" "$("$GHB" sync --help | tr '\n' ' ')"
check_eq "help: an unknown subcommand is a usage error (2)" 2 "$("$GHB" sync frobnicate >/dev/null 2>&1; echo $?)"
check_eq "a project → 201" 201 "$(call "$KEY" POST /projects -H 'Content-Type: application/json' -d '{"name":"Paused site"}')"
PID=$(jq -r .id "$T/body")
put_text index.html '<h1>one</h1>' >/dev/null
REPO=ops-$(date +%s)-$RANDOM
check_eq "connect → 202" 202 "$(call "$KEY" POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"$REPO\"}")"
check_eq "the connect job finishes" done "$(wait_connect "$KEY" "$PID")"
check_eq "initial sync → SUCCESS" SUCCESS "$(wait_sync 1)"
check_eq "index.html is on GitHub" '<h1>one</h1>' "$(on_github index.html)"

# ---------------------------------------------------------------- one project, from the command line
check_match "CLI: pause --project" "paused syncing of project $PID" "$("$GHB" sync pause --project "$PID" --reason 'disk maintenance' 2>&1)"
check_match "CLI: status lists it" "project $PID.*paused by system.*disk maintenance" "$("$GHB" sync status 2>&1)"
check_eq "CLI: pausing a project that does not exist fails (1)" 1 "$("$GHB" sync pause --project 999999999 >/dev/null 2>&1; echo $?)"
call "$KEY" GET "/projects/$PID/status" >/dev/null
check_match "status API: paused by an operator" "paused by an operator" "$(jq -r .paused.message "$T/body")"
check_eq "status API: scope and reason" "project|disk maintenance" "$(jq -r '"\(.paused.scope)|\(.paused.reason)"' "$T/body")"
check_match "project page: paused by an operator" "Syncing is paused by an operator</strong>: disk maintenance" "$(curl -s -b "$T/jar" "$GHB_URL/projects/$PID")"
H=$(nhist)
put_text index.html '<h1>two</h1>' >/dev/null
check_eq "Sync now while paused → 202 (queued)" 202 "$(call "$KEY" POST "/projects/$PID/sync")"
sleep 3
check_eq "paused: the sync stays queued (not lost)" 1 "$(queued_syncs)"
check_eq "paused: no sync ran" "$H" "$(nhist)"
check_eq "paused: GitHub still has the old file" '<h1>one</h1>' "$(on_github index.html)"
check_eq "paused: the job was never claimed" 0 "$(q "SELECT coalesce(sum(claims), 0) FROM jobs WHERE project_id = $PID AND kind = 'sync' AND state = 'queued'")"
check_eq "paused: the edit is still in the workspace" '<h1>two</h1>' "$(call "$KEY" GET "/projects/$PID/files/index.html" >/dev/null; cat "$T/body")"

# ---------------------------------------------------------------- resume over the API (admins only)
check_eq "API: resume without the admin scope → 403" 403 "$(call "$KEYNS" POST /admin/resume -H 'Content-Type: application/json' -d "{\"project_id\":$PID}")"
check_eq "API: resume by a non-admin (admin scope, not an admin) → 403" 403 "$(call "$KEYX" POST /admin/resume -H 'Content-Type: application/json' -d "{\"project_id\":$PID}")"
check_eq "API: still paused after the refusals" 1 "$(q "SELECT count(*) FROM sync_pauses WHERE project_id = $PID")"
check_eq "API: a project_id that is not a number → 400" 400 "$(call "$KEY" POST /admin/resume -H 'Content-Type: application/json' -d '{"project_id":"x"}')"
check_eq "API: resume → 200" 200 "$(call "$KEY" POST /admin/resume -H 'Content-Type: application/json' -d "{\"project_id\":$PID}")"
check_eq "API: it was paused" true "$(jq -r .resumed "$T/body")"
check_eq "resumed: the queued sync runs → SUCCESS" SUCCESS "$(wait_sync $((H + 1)))"
check_eq "resumed: the edit reached GitHub" '<h1>two</h1>' "$(on_github index.html)"
check_eq "status API: no longer paused" null "$(call "$KEY" GET "/projects/$PID/status" >/dev/null; jq -r .paused "$T/body")"
check_eq "API: resume again → not paused" false "$(call "$KEY" POST /admin/resume -H 'Content-Type: application/json' -d "{\"project_id\":$PID}" >/dev/null; jq -r .resumed "$T/body")"

# ---------------------------------------------------------------- the whole service, from /admin
check_eq "/admin for a non-admin → 403" 403 "$(http_status "$GHB_URL/admin" -b "$T/jar-x")"
page=$(curl -s -b "$T/jar" "$GHB_URL/admin")
check_match "/admin for an admin: running, with the switches" "Syncing is running.*Pause syncing for everyone.*Sync all connected projects now" "$(printf '%s' "$page" | tr -d '\n')"
csrf=$(csrf_of "$T/jar" /admin)
check_eq "/admin/pause without CSRF → 403" 403 "$(http_status "$GHB_URL/admin/pause" -b "$T/jar" -X POST -d reason=x)"
check_eq "/admin/pause by a non-admin → 403" 403 "$(http_status "$GHB_URL/admin/pause" -b "$T/jar-x" -X POST --data-urlencode "csrf=$(csrf_of "$T/jar-x" /account)")"
check_eq "nothing paused by the refusals" 0 "$(q "SELECT count(*) FROM sync_pauses")"
# Pausing everyone is asked first (engineer J's item 3): without confirm=1, the confirm page and nothing paused.
code=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar" -X POST --data-urlencode "csrf=$csrf" --data-urlencode 'reason=upgrade <b>now</b>' "$GHB_URL/admin/pause")
check_eq "/admin/pause without confirm=1 → 200, the confirm page" "200 1" "$code $(grep -c '<h1>Pause syncing for everyone?</h1>' "$T/page")"
check_eq "… which sends the reason again, escaped, with confirm=1" "1 1" "$(grep -c 'name="reason" value="upgrade &lt;b&gt;now&lt;/b&gt;"' "$T/page") $(grep -c 'name="confirm" value="1"' "$T/page")"
check_eq "… and nothing is paused yet" 0 "$(q "SELECT count(*) FROM sync_pauses")"
check_eq "/admin: the pause form asks first with JavaScript too (data-confirm)" 1 "$(curl -s -b "$T/jar" "$GHB_URL/admin" | grep -c 'action="/admin/pause" data-confirm="Pause syncing for everyone?')"
check_eq "/admin/pause confirm=1 → 303" 303 "$(http_status "$GHB_URL/admin/pause" -b "$T/jar" -X POST --data-urlencode "csrf=$csrf" --data-urlencode 'reason=upgrade <b>now</b>' -d confirm=1)"
page=$(curl -s -b "$T/jar" "$GHB_URL/admin")
check_match "/admin: paused by an operator, reason escaped" "Paused by an operator</strong> \($U, since .*\): upgrade &lt;b&gt;now&lt;/b&gt;" "$page"
check_match "… since a time as on other pages, ISO in <time datetime> (engineer J's item 4)" 'since <time datetime="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z">[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC</time>\)' "$page"
check_match "the API lists the service pause" '^service$' "$(call "$KEY" GET /admin/pauses >/dev/null; jq -r '.pauses[].scope' "$T/body")"
H=$(nhist)
put_text index.html '<h1>three</h1>' >/dev/null
call "$KEY" POST "/projects/$PID/sync" >/dev/null
sleep 3
check_eq "service paused: the sync stays queued" 1 "$(queued_syncs)"
check_eq "service paused: no sync ran" "$H" "$(nhist)"
check_match "service paused: the project says so" "paused by an operator" "$(call "$KEY" GET "/projects/$PID" >/dev/null; jq -r .paused.message "$T/body")"
# "Sync now" in the panel while paused: the flash says it waits for the resume (it said "Checking GitHub for new commits…").
pcsrf=$(csrf_of "$T/jar" "/projects/$PID")
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$T/jar" -X POST --data-urlencode "csrf=$pcsrf" "$GHB_URL/projects/$PID/sync")
page=$(curl -s -b "$T/jar" "$loc")
check_match "service paused: Sync now in the panel says it runs when syncing resumes" 'runs when syncing resumes|checked for when it resumes' "$page"
if printf '%s' "$page" | grep -q 'Checking GitHub for new commits'; then not_ok "… and not that GitHub is being checked"; else ok "… and not that GitHub is being checked"; fi
# A worker killed while work waits loses nothing either: the job was never claimed, so there is no lease to expire.
WPIDF=${STACK_VAR:-/nonexistent}/run/worker.pid
if [ -f "$WPIDF" ] && kill -0 "$(cat "$WPIDF")" 2>/dev/null; then
	wpid=$(cat "$WPIDF")
	kill -KILL "$wpid" 2>/dev/null; pkill -KILL -P "$wpid" 2>/dev/null
	sleep 0.5
	env setsid "$GHB" worker >> "$STACK_VAR/log/worker.log" 2>&1 < /dev/null &
	echo $! > "$WPIDF"
	check_eq "SIGKILLed worker: the paused sync is still queued" 1 "$(queued_syncs)"
else
	skip "SIGKILL a worker while paused" "no stack worker"
fi
check_eq "/admin/resume → 303" 303 "$(http_status "$GHB_URL/admin/resume" -b "$T/jar" -X POST --data-urlencode "csrf=$csrf")"
check_eq "service resumed: the sync runs → SUCCESS" SUCCESS "$(wait_sync $((H + 1)))"
check_eq "service resumed: the edit reached GitHub" '<h1>three</h1>' "$(on_github index.html)"

# ---------------------------------------------------------------- the "Pause this project" form refuses a typo at its field
# Before, project id 0 paused the whole service (the field's default meant "service"), and a word or an unknown
# id ended on a bare 400/404 page that dropped what was typed.
for bad in 0 abc 99999999; do
	code=$(curl -s -o "$T/admin.html" -w '%{http_code}' -b "$T/jar" -X POST --data-urlencode "csrf=$csrf" \
		--data-urlencode "project_id=$bad" --data-urlencode "reason=typo $bad" "$GHB_URL/admin/pause")
	check_eq "/admin/pause project_id=$bad → 422, the admin page again" 422 "$code"
	check_match "… says it at the field, with what was typed kept" "id=\"pause-project\"[^>]*value=\"$bad\".*aria-invalid=\"true\"" "$(tr '\n' ' ' < "$T/admin.html")"
	check_match "… and the reason kept" "value=\"typo $bad\"" "$(cat "$T/admin.html")"
done
check_eq "… and nothing was paused" "nothing is paused" "$("$GHB" sync status 2>&1 | head -1)"

# ---------------------------------------------------------------- pause and resume from the CLI for the whole service
check_match "CLI: pause (service)" "whole service" "$("$GHB" sync pause 2>&1)"
check_match "CLI: resume (service)" "resumed syncing for the whole service" "$("$GHB" sync resume 2>&1)"
check_eq "CLI: nothing paused" "nothing is paused" "$("$GHB" sync status 2>&1 | head -1)"

# ---------------------------------------------------------------- sync all connected projects now
H=$(nhist)
check_eq "API: sync-all by a non-admin → 403" 403 "$(call "$KEYX" POST /admin/sync-all)"
check_eq "API: sync-all → 202" 202 "$(call "$KEY" POST /admin/sync-all)"
check_match "… counts the projects" '^[1-9][0-9]*$' "$(jq -r .projects "$T/body")"
check_eq "sync-all: the project synced again" "SUCCESS" "$(wait_sync $((H + 1)))"
check_eq "/admin/sync-all → 303" 303 "$(http_status "$GHB_URL/admin/sync-all" -b "$T/jar" -X POST --data-urlencode "csrf=$csrf")"
# Its sync of this project runs before anything below writes a file: a pull request "from changes" needs them
# pending, and a sync left queued here committed pr.txt first in one full run ("no pending changes").
for i in $(seq 1 150); do
	[ "$(q "SELECT count(*) FROM jobs WHERE project_id = $PID AND kind = 'sync' AND state IN ('queued', 'running')")" = 0 ] && break
	sleep 0.2
done

# ---------------------------------------------------------------- the audit log has each switch
check_eq "audit: pause and resume of the project and the service, sync-all" \
	"sync.all_requested sync.paused sync.resumed" \
	"$(q "SELECT string_agg(DISTINCT action, ' ' ORDER BY action) FROM audit_events WHERE (project_id = $PID OR target_type = 'service') AND action LIKE 'sync.%' AND at > now() - interval '10 minutes'")"
check_eq "audit: the /admin pause names the admin and the request" "user|$U|t|t" \
	"$(q "SELECT actor_type, actor_login, ip IS NOT NULL, request_id IS NOT NULL FROM audit_events WHERE action = 'sync.paused' AND target_type = 'service' AND actor_login = '$U' ORDER BY id DESC LIMIT 1")"
check_eq "audit: the API resume names the key by its public id" "api_key|t" \
	"$(q "SELECT actor_type, actor_key IS NOT NULL AND '$KEY' LIKE 'ghb_' || actor_key || '_%' FROM audit_events WHERE action = 'sync.resumed' AND project_id = $PID ORDER BY id LIMIT 1")"

# ---------------------------------------------------------------- changes made on GitHub have audit rows too
jcall() { call "$KEY" "$1" "$2" -H 'Content-Type: application/json' -d "$3"; }
check_eq "a branch → 201" 201 "$(jcall POST "/projects/$PID/branches" '{"name":"ops-b"}')"
check_eq "the same branch again → 409" 409 "$(jcall POST "/projects/$PID/branches" '{"name":"ops-b"}')"
check_eq "audit: branch.created once a success, once a failure with the reason" "failure|true success|false" \
	"$(q "SELECT string_agg(outcome || '|' || (details ? 'error')::text, ' ' ORDER BY outcome) FROM audit_events WHERE action = 'branch.created' AND project_id = $PID AND target_id = 'ops-b'")"
check_eq "delete the branch → 204" 204 "$(call "$KEY" DELETE "/projects/$PID/branches/ops-b")"
check_eq "audit: branch.deleted" 1 "$(q "SELECT count(*) FROM audit_events WHERE action = 'branch.deleted' AND project_id = $PID AND outcome = 'success'")"
jcall PATCH "/projects/$PID/settings" '{"auto_sync":false}' >/dev/null   # the change waits for the pull request, not a sync
put_text pr.txt 'for review' >/dev/null
check_eq "a pull request from changes → 202" 202 "$(jcall POST "/projects/$PID/pulls" '{"title":"Ops","from":"changes","head":"ops-pr"}')"
for i in $(seq 1 100); do [ "$(q "SELECT count(*) FROM audit_events WHERE action = 'pull.created' AND project_id = $PID")" = 1 ] && break; sleep 0.3; done
check_eq "audit: pull.create_requested by the API key, naming the head branch" "api_key|ops-pr" "$(q "SELECT actor_type, target_id FROM audit_events WHERE action = 'pull.create_requested' AND project_id = $PID")"
check_eq "audit: pull.created by the job (system)" "system|success" "$(q "SELECT actor_type, outcome FROM audit_events WHERE action = 'pull.created' AND project_id = $PID")"
NUM=$(q "SELECT target_id FROM audit_events WHERE action = 'pull.created' AND project_id = $PID")
check_eq "merge it → 200" 200 "$(jcall POST "/projects/$PID/pulls/$NUM/merge" '{"method":"merge"}')"
check_eq "audit: pull.merged by the API key" "api_key|success|$NUM" "$(q "SELECT actor_type, outcome, target_id FROM audit_events WHERE action = 'pull.merged' AND project_id = $PID")"
check_eq "disconnect the repository → 204" 204 "$(call "$KEY" DELETE "/projects/$PID/repository")"
check_eq "audit: repository.connect_requested and repository.disconnected name it" "$U/$REPO $U/$REPO" \
	"$(q "SELECT string_agg(target_id, ' ' ORDER BY id) FROM audit_events WHERE action IN ('repository.connect_requested', 'repository.disconnected') AND project_id = $PID")"

call "$KEY" DELETE "/projects/$PID" >/dev/null
finish
