#!/usr/bin/env bash
# tests/ops/test-twohosts.sh: two hosts on one PostgreSQL and one data folder (issue 15, more than one machine):
# the stack is host A; host B is a second nginx, fcgi pool and worker on their own ports (tests/lib.sh host_start).
# Projects are made and connected through either host, files written through both, every write reaches the
# emulator, no job is claimed while an earlier claim of it runs, no project has two jobs running at once (a trigger
# logs every claim: tests/lib.sh claimlog_*), and both hosts' workers did some of the work.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "two hosts" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "two hosts" "fakehub is not running"; finish; exit; fi
if [ -z "${STACK_VAR:-}" ] || [ ! -f "$STACK_VAR/run/worker.pid" ]; then skip "two hosts" "no stack worker"; finish; exit; fi

T=$(mktemp -d)
FH=$FAKEHUB_URL/_fakehub
U=twohosts$$
N=6                          # projects
ROUNDS=4                     # rounds of writes, each through both hosts
B_PORT=$((GHB_PORT + 10))
B_VAR=$STACK_VAR/hostb
A_URL=$GHB_URL
B_URL=http://127.0.0.1:$B_PORT
LOG=twohosts_claims_$$
trap 'host_stop "$B_VAR"; claimlog_remove "$LOG"; rm -rf "$T"' EXIT

claimlog_remove "$LOG"
if ! claimlog_install "$LOG" >/dev/null; then not_ok "the claim log trigger is installed"; finish; exit; fi
if ! host_start "$B_VAR" "$B_PORT" fcgi+worker GHBRIDGE_PROCESSES=2 GHBRIDGE_WORKER_CONCURRENCY=2; then
	not_ok "host B (nginx, fcgi pool, worker) starts" "$(tail -3 "$B_VAR"/log/*.log 2>/dev/null | tr '\n' ' ')"
	finish; exit
fi
ok "host B (nginx, fcgi pool, worker) starts on the same database and data folder"
check_eq "host B answers /healthz" 200 "$(http_status "$B_URL/healthz")"

curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"Two Hosts\"}" >/dev/null
signin "$T/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name twohosts --scopes projects:read,projects:write,sync 2>&1 | tail -1)
check_match "an API key for this test's user" '^ghb_' "$KEY"
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
host_url() { if [ $(($1 % 2)) -eq 0 ]; then echo "$A_URL"; else echo "$B_URL"; fi; }
api() { local url=$1 m=$2 p=$3; shift 3; curl -s --max-time 30 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$url/api/v1$p"; }
put() { # HOST_INDEX PROJECT PATH CONTENT → status
	printf '%s' "$4" | curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X PUT -H "Authorization: Bearer $KEY" \
		-H 'Content-Type: application/octet-stream' --data-binary @- "$(host_url "$1")/api/v1/projects/$2/files/$3"
}

# ---------------------------------------------------------------- projects made and connected through either host
IDS=()
made=0
for i in $(seq 1 $N); do
	id=$(api "$(host_url "$i")" POST /projects -H 'Content-Type: application/json' -d "{\"name\":\"two hosts $i\"}" | jq -r '.id // empty')
	[ -n "$id" ] && made=$((made + 1)) && IDS+=("$id")
	put "$i" "$id" "README.md" "project $i, made through host $(( i % 2 ))" >/dev/null
done
check_eq "$N projects made, alternately through host A and host B" "$N" "$made"
[ "$made" = "$N" ] || { finish; exit; }
conn=0
for i in $(seq 1 $N); do
	id=${IDS[$((i - 1))]}
	s=$(api "$(host_url $((i + 1)))" POST "/projects/$id/repository" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"th-$U-$i\"}")
	case $s in 2*) conn=$((conn + 1)) ;; esac
done
check_eq "each connected through the other host (accepted)" "$N" "$conn"
done_n=0
for id in "${IDS[@]}"; do [ "$(wait_connect "$KEY" "$id" 90)" = done ] && done_n=$((done_n + 1)); done
check_eq "every connect (and its first sync) done" "$N" "$done_n"

# ---------------------------------------------------------------- writes through both hosts
# Each round writes a new file in every project and rewrites a shared one, through alternating hosts, without
# waiting for syncs: the hosts' workers sync whatever each finds.
bad=0
for r in $(seq 1 $ROUNDS); do
	for i in $(seq 1 $N); do
		id=${IDS[$((i - 1))]}
		h=$((i + r))
		s1=$(put "$h" "$id" "notes/r$r.md" "round $r of project $i through host $((h % 2))")
		s2=$(put $((h + 1)) "$id" "shared.md" "shared, last written in round $r through host $(((h + 1) % 2))")
		case "$s1$s2" in 2??2??) ;; *) bad=$((bad + 1)) ;; esac
	done
done
check_eq "$((N * ROUNDS * 2)) writes through both hosts accepted" 0 "$bad"
idlist=$(IFS=,; echo "${IDS[*]}")
settled() {
	[ "$(psql -XAtq -c "SELECT count(*) FROM jobs WHERE project_id IN ($idlist) AND kind IN ('sync', 'connect') AND state IN ('queued', 'running')")" = 0 ] || return 1
	local id
	for id in "${IDS[@]}"; do
		api "$A_URL" GET "/projects/$id/files" | jq -e '[.files[] | select(.status != "synced" and .status != "excluded")] | length == 0' >/dev/null || return 1
	done
}
if wait_for 100 settled; then ok "every project settles: no sync queued or running, every file synced"; else not_ok "every project settles" "$(psql -XAtq -c "SELECT kind, state, count(*) FROM jobs WHERE project_id IN ($idlist) GROUP BY 1, 2" | tr '\n' ' ')"; fi

# ---------------------------------------------------------------- every write is on the emulator
lost=0
for i in $(seq 1 $N); do
	d=$T/c$i
	git clone -q "${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/th-$U-$i.git" "$d" 2>/dev/null || { lost=$((lost + 1)); continue; }
	for r in $(seq 1 $ROUNDS); do
		[ "$(cat "$d/notes/r$r.md" 2>/dev/null)" = "round $r of project $i through host $(((i + r) % 2))" ] || lost=$((lost + 1))
	done
	[ "$(cat "$d/shared.md" 2>/dev/null)" = "shared, last written in round $ROUNDS through host $(((i + ROUNDS + 1) % 2))" ] || lost=$((lost + 1))
done
check_eq "every file written through either host is on GitHub with its last content" 0 "$lost"

# ---------------------------------------------------------------- no job ran twice at once
check_eq "no job claimed while an earlier claim of it was running" 0 "$(claimlog_twice "$LOG")"
check_eq "no project had two jobs running at once, across both hosts" 0 "$(claimlog_overlaps "$LOG")"
# locked_by is host:pid; both "hosts" share a host name here, so the pids tell them apart.
bpids=$(pgrep -P "$(cat "$B_VAR/run/worker.pid")" | paste -sd'|')
apids=$(pgrep -P "$(cat "$STACK_VAR/run/worker.pid")" | paste -sd'|')
runs=$(psql -XAtq -c "SELECT locked_by FROM $LOG WHERE state = 'running' AND project_id IN ($idlist)")
nb=$(printf '%s\n' "$runs" | grep -cE ":(${bpids:-x})\$" || true)
na=$(printf '%s\n' "$runs" | grep -cE ":(${apids:-x})\$" || true)
check_match "host B's worker ran jobs of these projects ($nb)" '^[1-9]' "$nb"
check_match "host A's worker ran jobs of these projects ($na)" '^[1-9]' "$na"
# The checks can fail: a made-up job claimed again while its first claim runs, beside a real project's run.
psql -XAtq -c "INSERT INTO $LOG (job_id, project_id, kind, claims, state, locked_by, at) VALUES
  (-1, ${IDS[0]}, 'sync', 1, 'running', 'x:1', (SELECT min(at) FROM $LOG WHERE project_id = ${IDS[0]} AND state = 'running')),
  (-1, ${IDS[0]}, 'sync', 2, 'running', 'x:2', (SELECT min(at) FROM $LOG WHERE project_id = ${IDS[0]} AND state = 'running'))" >/dev/null
check_eq "control: a double claim is seen" 1 "$(claimlog_twice "$LOG")"
check_match "control: runs of one project at once are seen" '^[1-9]' "$(claimlog_overlaps "$LOG")"
check_eq "no job of these projects is dead" 0 "$(psql -XAtq -c "SELECT count(*) FROM jobs WHERE project_id IN ($idlist) AND state = 'dead'")"

for id in "${IDS[@]}"; do api "$B_URL" DELETE "/projects/$id" -o /dev/null; done
finish
