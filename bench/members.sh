#!/usr/bin/env bash
# bench/members.sh: "sync all members" of a project to its GitHub repository (issue 14): N members (default 200)
# synced by ghbridge's jobs, the REST calls they made (fakehub's request log: target one write per member plus the
# listing pages) and the time, beside the same number of PUT …/collaborators/{u} sent by a plain curl loop in the
# same run. Two cases: the organisation's members on an organisation's repository (GitHub sets no invitation limit
# there: every PUT is answered 204), and outside collaborators on a personal account's repository (GitHub's 50
# invitations a day: 50 answered 201, the rest 422 and deferred). Run as `scripts/dev bench members` against the
# dev stack (`scripts/dev up`); BENCH_MEMBERS (default 200). Prints `BENCH <name> <value> <unit>` lines and appends
# a section to bench/RESULTS.md.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$ROOT/build}
: "${GHB_URL:?run through scripts/dev bench members}" "${FAKEHUB_URL:?fakehub is needed}" "${STACK_VAR:?}"
. "$ROOT/tests/lib.sh"
. "$ROOT/bench/lib.sh"
N=${BENCH_MEMBERS:-200}
# login_confirmed_at of the members (sql/027): now() as right after their lookups; NULL (never confirmed) or an
# older time makes each PUT ask GET /users/{login} first (members.c login_still_theirs).
CONF=${BENCH_MEMBERS_CONFIRMED:-now()}
case $CONF in now\(\)|NULL) ;; *) echo "BENCH_MEMBERS_CONFIRMED: now() or NULL" >&2; exit 2 ;; esac
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=mbench$$
ORG=mbenchorg$$
W=$(mktemp -d "${TMPDIR:-/tmp}/ghb-bench-members.XXXXXX")
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for c in jq curl awk psql; do command -v $c >/dev/null || { echo "bench/members.sh needs $c" >&2; exit 1; }; done

cleanup() { worker_restart; rm -rf "$W"; }
trap cleanup EXIT
# The periodic check off: its requests would mix into the counts.
worker_restart GHBRIDGE_PROJECT_POLL_SECONDS=0
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\"}"
curl -s -o /dev/null -X POST "$FH/orgs" -H 'Content-Type: application/json' -d "{\"login\":\"$ORG\"}"
curl -s -o /dev/null -X PUT "$FH/orgs/$ORG/members/$U" -H 'Content-Type: application/json' -d '{"role":"admin"}'
signin "$W/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name bench --scopes projects:read,projects:write,sync 2>&1 | tail -1)
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
call() { local m=$1 p=$2; shift 2; curl -s -o "$W/body" -w '%{http_code}' --max-time 60 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
last_id() { curl -s "$FH/requests/count" | jq -r .last_id; }

# The members: fakehub accounts (org members in the first case), already named by GitHub id in ghbridge (as
# after their lookups, which confirm each login's GitHub id: sql/027 login_confirmed_at), on a project connected before they were added, so that nothing was sent for them yet.
echo "# $N fakehub accounts" >&2
: > "$W/ids"
for i in $(seq 1 "$N"); do
	for c in o p; do
		id=$(curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"m$c$i-$U\"}" | jq -r .id)
		echo "$c $i $id" >> "$W/ids"
	done
	curl -s -o /dev/null -X PUT "$FH/orgs/$ORG/members/mo$i-$U" -H 'Content-Type: application/json' -d '{"role":"member"}'
done

# project CASE OWNER REPO → $PID, connected, with the N members of CASE (o: org members, p: outside collaborators)
project() {
	call POST /projects -H "Content-Type: application/json" -d "{\"name\":\"members bench $1\"}" >/dev/null
	PID=$(jq -r .id "$W/body")
	call POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"owner\":\"$2\",\"name\":\"$3\"}" >/dev/null
	[ "$(wait_connect "$KEY" "$PID" 120)" = done ] || { echo "bench/members.sh: connecting $2/$3 failed" >&2; exit 1; }
	awk -v c="$1" -v u="$U" -v p="$PID" -v conf="$CONF" '$1 == c { printf "INSERT INTO project_members (project_id, login, role, state, github_user_id, login_confirmed_at) VALUES (%s, '"'"'m%s%s-%s'"'"', '"'"'developer'"'"', '"'"'invited'"'"', %s, %s);\n", p, c, $2, u, $3, conf }' "$W/ids" |
		psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
}
# run CASE OWNER REPO: "sync all members", timed until no member is queued; then the same PUTs by curl.
run() {
	local c=$1 owner=$2 repo=$3 since t0 t1 calls writes lists other t2 t3 codes
	project "$c" "$owner" "$repo"
	since=$(last_id)
	t0=$(now_ms)
	call POST "/projects/$PID/members/sync" >/dev/null
	for i in $(seq 1 6000); do
		[ "$(q "SELECT count(*) FROM project_members WHERE project_id = $PID AND gh_state IN ('none', 'queued')")" = 0 ] && break
		sleep 0.1
	done
	t1=$(now_ms)
	curl -s "$FH/requests?since_id=$since&login=$U" > "$W/log"
	calls=$(jq 'length' "$W/log")
	writes=$(jq '[.[] | select(.method != "GET")] | length' "$W/log")
	lists=$(jq '[.[] | select(.method == "GET" and (.path | test("/(collaborators|invitations)$")))] | length' "$W/log")
	other=$((calls - writes - lists))
	codes=$(jq -r '[.[] | select(.method == "PUT") | .status] | group_by(.) | map("\(.[0])×\(length)") | join(" ")' "$W/log")
	bench "members_${c}_ghbridge_seconds" "$(awk -v ms=$((t1 - t0)) 'BEGIN { printf "%.2f", ms / 1000 }')" "s ($N members, sync all → none queued)"
	bench "members_${c}_rest_calls" "$calls" "$writes writes ($codes), $lists listing pages, $other other"
	bench "members_${c}_states" "$(q "SELECT string_agg(gh_state || '×' || n, ' ') FROM (SELECT gh_state, count(*) n FROM project_members WHERE project_id = $PID AND role = 'developer' GROUP BY 1 ORDER BY 1) s")" "member states after the sync"
	# The same PUTs by a plain curl loop, to a second repository of the same owner.
	call POST /projects -H "Content-Type: application/json" -d "{\"name\":\"members bench $c curl\"}" >/dev/null
	local pid2; pid2=$(jq -r .id "$W/body")
	call POST "/projects/$pid2/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"owner\":\"$owner\",\"name\":\"$repo-curl\"}" >/dev/null
	wait_connect "$KEY" "$pid2" 120 >/dev/null
	t2=$(now_ms)
	for i in $(seq 1 "$N"); do
		curl -s -o /dev/null -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
			-d '{"permission":"push"}' "$FAKEHUB_API_URL/repos/$owner/$repo-curl/collaborators/m$c$i-$U"
	done
	t3=$(now_ms)
	bench "members_${c}_curl_seconds" "$(awk -v ms=$((t3 - t2)) 'BEGIN { printf "%.2f", ms / 1000 }')" "s ($N PUTs, one curl each, in sequence)"
}
run o "$ORG" "mb-org-$U"
run p "$U" "mb-own-$U"
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

{
	echo
	echo "## Members: sync all of $N members to a repository (issue 14) ($(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo))"
	echo
	echo "Command: \`scripts/dev bench members\` against \`scripts/dev up\` (fakehub on loopback; the worker restarted with the periodic check off)."
	echo "Machine: $(uname -srm), $(nproc) cores; load average before the run: $LOAD0, after: $LOAD1."
	echo "Members' logins confirmed (login_confirmed_at): $CONF."
	echo "ghbridge: POST …/members/sync queues one member_github job per member; timed until no member is none or queued."
	echo "curl: the same PUT …/collaborators/{u} for each member, one curl process each, to a second repository."
	echo
	echo "| case | ghbridge (s) | REST calls by ghbridge | member states | curl loop (s) |"
	echo "|---|---|---|---|---|"
	echo "| organisation members, organisation repository | $(val members_o_ghbridge_seconds) | $(val members_o_rest_calls) $(for x in "${RES[@]}"; do case $x in members_o_rest_calls\|*) echo "(${x##*|})";; esac; done) | $(val members_o_states) | $(val members_o_curl_seconds) |"
	echo "| outside collaborators, personal repository | $(val members_p_ghbridge_seconds) | $(val members_p_rest_calls) $(for x in "${RES[@]}"; do case $x in members_p_rest_calls\|*) echo "(${x##*|})";; esac; done) | $(val members_p_states) | $(val members_p_curl_seconds) |"
} >> "$ROOT/bench/RESULTS.md"
echo "# appended to bench/RESULTS.md" >&2
