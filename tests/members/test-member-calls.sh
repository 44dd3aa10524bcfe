#!/usr/bin/env bash
# tests/members/test-member-calls.sh: what "sync all members" costs in GitHub REST calls (issue 14's target: one
# write per member plus the listing pages), counted in fakehub's request log. N organisation members on an
# organisation's repository, bound to their GitHub ids: with their logins confirmed lately (as right after their
# lookups or sign-ins) the sync makes N PUTs, one page of direct collaborators (kept for the project's jobs,
# sql/027, for the jobs of that sync only: a single invitation after it reads GitHub's) and no GET /users/{login}; with confirmations older than 10 minutes each PUT is still preceded by
# GET /users/{login} (the renamed-login check, members.c login_still_theirs), and nothing else is added.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "member call tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "member call tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
FH=$FAKEHUB_URL/_fakehub
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1
S=mc$$
O=own$S
ORG=org$S
N=30
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$O\"}"
curl -s -o /dev/null -X POST "$FH/orgs" -H 'Content-Type: application/json' -d "{\"login\":\"$ORG\"}"
curl -s -o /dev/null -X PUT "$FH/orgs/$ORG/members/$O" -H 'Content-Type: application/json' -d '{"role":"admin"}'
signin "$T/jar" "$O" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$O" --name calls --scopes projects:read,projects:write,sync 2>&1 | tail -1)
call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
last_id() { curl -s "$FH/requests/count" | jq -r .last_id; }

# run CASE CONFIRMED_SQL: a project on a new repository of the organisation, N members already bound to their
# GitHub ids (inserted as after their lookups) with login_confirmed_at CONFIRMED_SQL; sync all; the calls made.
run() {
	local c=$1 conf=$2 i id
	call POST /projects -H 'Content-Type: application/json' -d "{\"name\":\"calls $c\"}" >/dev/null
	PID=$(jq -r .id "$T/body")
	call POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"owner\":\"$ORG\",\"name\":\"calls-$c-$S\"}" >/dev/null
	check_eq "$c: connected to $ORG/calls-$c-$S" done "$(wait_connect "$KEY" "$PID" 60)"
	for i in $(seq 1 $N); do
		id=$(curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"m$c$i-$S\"}" | jq -r .id)
		curl -s -o /dev/null -X PUT "$FH/orgs/$ORG/members/m$c$i-$S" -H 'Content-Type: application/json' -d '{"role":"member"}'
		echo "INSERT INTO project_members (project_id, login, role, state, github_user_id, login_confirmed_at) VALUES ($PID, 'm$c$i-$S', 'developer', 'invited', $id, $conf);"
	done | psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
	SINCE=$(last_id)
	check_eq "$c: sync all members → 202" 202 "$(call POST "/projects/$PID/members/sync")"
	settled() { [ "$(q "SELECT count(*) FROM project_members WHERE project_id = $PID AND gh_state IN ('none', 'queued')")" = 0 ]; }
	check "$c: every member's job is over" wait_for 120 settled
	check_eq "$c: all $N are collaborators added by ghbridge" "$N" "$(q "SELECT count(*) FROM project_members WHERE project_id = $PID AND gh_state = 'collaborator' AND gh_added")"
	curl -s "$FH/requests?since_id=$SINCE&login=$O" > "$T/log"
	CALLS=$(jq length "$T/log")
	PUTS=$(jq '[.[] | select(.method == "PUT")] | length' "$T/log")
	PAGES=$(jq '[.[] | select(.method == "GET" and (.query // "" | test("affiliation=direct")))] | length' "$T/log")
	USERS=$(jq '[.[] | select(.method == "GET" and (.path | test("^/api/v3/users/")))] | length' "$T/log")
	echo "# $c: $CALLS calls: $PUTS PUT, $PAGES direct-collaborator pages, $USERS GET /users/{login}, $((CALLS - PUTS - PAGES - USERS)) other"
}

# ---- 1. logins confirmed a minute ago: N writes, one listing page, a small constant at most
run fresh "now() - interval '1 minute'"
check_eq "fresh: one PUT per member" "$N" "$PUTS"
check_eq "fresh: one page of direct collaborators for all of them (kept for the project's jobs)" 1 "$PAGES"
check_eq "fresh: no GET /users/{login}: the logins were confirmed within 10 minutes" 0 "$USERS"
check "fresh: at most N + pages + 3 calls in all ($CALLS)" test "$CALLS" -le $((N + 1 + 3))
# A single invitation right after the sync does not use the sync's listing: a direct grant made on GitHub in
# between (by the owner there) is seen, and not taken for ghbridge's.
G=pre$S
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$G\"}"
curl -s -o /dev/null -X PUT "$FH/orgs/$ORG/members/$G" -H 'Content-Type: application/json' -d '{"role":"member"}'
OTOK=$(curl -s -X POST "$FH/users/$O/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo,read:org"}' | jq -r .token)
check_eq "fresh: the owner gives $G a direct grant on GitHub" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $OTOK" -H 'Content-Type: application/json' -d '{"permission":"push"}' "$FAKEHUB_API_URL/repos/$ORG/calls-fresh-$S/collaborators/$G")"
SINCE=$(last_id)
check_eq "fresh: … then invites $G here → 202" 202 "$(call POST "/projects/$PID/members" -H 'Content-Type: application/json' -d "{\"login\":\"$G\",\"role\":\"developer\"}")"
check "fresh: … their job is over" wait_for 60 eval "[ \"\$(q \"SELECT gh_state FROM project_members WHERE project_id = $PID AND login = '$G'\")\" = collaborator ]"
check_eq "fresh: … the grant from before is not recorded as ghbridge's" f "$(q "SELECT gh_added FROM project_members WHERE project_id = $PID AND login = '$G'")"
check_eq "fresh: … GitHub's listing was read for it" 1 "$(curl -s "$FH/requests?since_id=$SINCE&login=$O" | jq '[.[] | select(.method == "GET" and (.query // "" | test("affiliation=direct")))] | length')"

# ---- 2. confirmations 11 minutes old: GitHub is asked again before each PUT (the rename check), no more
run stale "now() - interval '11 minutes'"
check_eq "stale: one PUT per member" "$N" "$PUTS"
check_eq "stale: one GET /users/{login} per member" "$N" "$USERS"
check_eq "stale: one page of direct collaborators" 1 "$PAGES"
check "stale: at most 2N + pages + 3 calls in all ($CALLS)" test "$CALLS" -le $((2 * N + 1 + 3))
check_eq "stale: each check confirmed the login again" "$N" "$(q "SELECT count(*) FROM project_members WHERE project_id = $PID AND role = 'developer' AND login_confirmed_at > now() - interval '5 minutes'")"

# ---- 3. what confirms a login and what clears it (sql/027)
MID=$(q "SELECT id FROM project_members WHERE project_id = $PID AND login = 'mstale1-$S'")
q "UPDATE project_members SET login = 'mstale1x-$S' WHERE id = $MID" >/dev/null
check_eq "a member's login changed without a confirmation (e.g. a '~' step aside) loses it" "" "$(q "SELECT login_confirmed_at FROM project_members WHERE id = $MID")"
q "UPDATE project_members SET login = 'mstale1-$S' WHERE id = $MID" >/dev/null
check_eq "… nor is it confirmed again by changing it back" "" "$(q "SELECT login_confirmed_at FROM project_members WHERE id = $MID")"
signin "$T/jar-m" "mstale1-$S" >/dev/null
check_eq "their sign-in here (GitHub's OAuth answer) makes them active" active "$(q "SELECT state FROM project_members WHERE id = $MID")"
check_eq "… confirms their login on the member row" t "$(q "SELECT login_confirmed_at > now() - interval '1 minute' FROM project_members WHERE id = $MID")"

finish
