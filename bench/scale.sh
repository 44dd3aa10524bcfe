#!/usr/bin/env bash
# bench/scale.sh: many connected projects on one machine (issue 15, capacity), or on two "hosts" sharing one
# PostgreSQL and one data folder. N projects of F files are made and connected to fakehub; then, in one run:
#  - the periodic check's cost per cycle: a cold cycle (no ETag yet) and a warm one (ETags stored): requests made,
#    of which 304s, wall time, CPU of the worker, fakehub and PostgreSQL;
#  - every project changes one file at once (through the files API, WRITERS clients): projects synced per minute
#    with 2 worker processes per host, queue depth over time (from /metrics), write-to-commit p50/p99 (the write's
#    time to the end of the first sync that started after it and pushed a commit);
#  - worker and fcgi RSS (from /metrics), database growth per 1,000 syncs;
#  - that every write is on the emulator (its contents API), and with two hosts that no job was claimed while an
#    earlier claim of it ran and no project had two jobs running at once (a trigger logs every claim).
# Setup is fast where that is honest: the F files are written straight into each project's workspace folder, as
# the host platform does (DESIGN.md, data flow 1); making projects, connecting them (repository created on the
# emulator) and the initial sync of the F files all go through the product (API, connect job, sync job).
#
# Run as `scripts/dev bench scale` against the dev stack (`scripts/dev up`). Environment:
#   BENCH_SCALE_PROJECTS  N (1000)          BENCH_SCALE_FILES  F (50)
#   BENCH_SCALE_PER_USER  projects per fakehub user (25: GitHub's 5,000 requests an hour are per user)
#   BENCH_SCALE_WRITERS   parallel API clients for setup and the writes (8)
#   TWO_HOSTS=1           a second nginx + fcgi pool + worker (tests/lib.sh host_start) on GHB_PORT+10; setup,
#                         connects and writes alternate between the hosts
#   BENCH_SCALE_NOTE      a sentence appended to the results section
# Prints `BENCH <name> <value> <unit>` lines and appends a section to bench/RESULTS.md.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$ROOT/build}
: "${GHB_URL:?run through scripts/dev bench scale}" "${FAKEHUB_URL:?fakehub is needed}" "${STACK_VAR:?}"
. "$ROOT/tests/lib.sh"
N=${BENCH_SCALE_PROJECTS:-1000}
F=${BENCH_SCALE_FILES:-50}
PER_USER=${BENCH_SCALE_PER_USER:-25}
WRITERS=${BENCH_SCALE_WRITERS:-8}
TWO=${TWO_HOSTS:-0}
FH=$FAKEHUB_URL/_fakehub
TAG=sc$$
W=$(mktemp -d "${TMPDIR:-/tmp}/ghb-bench-scale.XXXXXX")
B_VAR=$STACK_VAR/bench-hostb
B_PORT=$((GHB_PORT + 10))
B_URL=http://127.0.0.1:$B_PORT
LOG=bench_claims_$$
HZ=$(getconf CLK_TCK)
for c in jq curl awk psql xargs; do command -v $c >/dev/null || { echo "bench/scale.sh needs $c" >&2; exit 1; }; done

now_ms() { date +%s%3N; }
bench() { echo "BENCH $1 $2 $3"; RES+=("$1|$2|$3"); }
note() { echo "# $*" >&2; }
RES=()
LOADS=()
load_mark() { LOADS+=("$1: $(cut -d' ' -f1-3 /proc/loadavg)"); }
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
load_mark "before"

# worker_restart PIDFILE LOGFILE [VAR=VALUE...]: the worker supervisor in PIDFILE stops (it drains) and a new one starts.
worker_restart() {
	local pidf=$1 logf=$2 pid i
	shift 2
	pid=$(cat "$pidf" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	env "$@" setsid "$BUILD/ghbridge" worker >> "$logf" 2>&1 < /dev/null &
	echo $! > "$pidf"
}
# Two worker processes per host; the periodic check every POLL seconds (an hour while setting up: each sync leaves
# one queued, and the bench starts each measured cycle itself).
workers() {
	local poll=$1
	worker_restart "$STACK_VAR/run/worker.pid" "$STACK_VAR/log/worker.log" GHBRIDGE_WORKER_CONCURRENCY=2 GHBRIDGE_PROJECT_POLL_SECONDS="$poll"
	[ "$TWO" = 1 ] && worker_restart "$B_VAR/run/worker.pid" "$B_VAR/log/worker.log" GHBRIDGE_WORKER_CONCURRENCY=2 GHBRIDGE_PROJECT_POLL_SECONDS="$poll"
	sleep 1
}
cleanup() {
	set +e
	[ -n "${SAMPLER:-}" ] && kill "$SAMPLER" 2>/dev/null
	worker_restart "$STACK_VAR/run/worker.pid" "$STACK_VAR/log/worker.log"
	[ "$TWO" = 1 ] && { host_stop "$B_VAR"; claimlog_remove "$LOG"; }
	rm -rf "$W"
}
trap cleanup EXIT
HOSTS=("$GHB_URL")
if [ "$TWO" = 1 ]; then
	host_stop "$B_VAR"
	host_start "$B_VAR" "$B_PORT" fcgi+worker GHBRIDGE_PROCESSES="${GHBRIDGE_PROCESSES:-2}" || { echo "host B did not start" >&2; exit 1; }
	HOSTS+=("$B_URL")
	claimlog_remove "$LOG"
	claimlog_install "$LOG" >/dev/null
fi
workers 3600
host_of() { echo "${HOSTS[$(($1 % ${#HOSTS[@]}))]}"; }

# pg_stat_statements when the server loads it (PG_EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements"
# before `scripts/dev up`): the top statements of the change phase go to $STACK_VAR/log/bench-scale-statements.txt.
PGSS=0
if [ "$(q "SHOW shared_preload_libraries")" = pg_stat_statements ] && q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1; then PGSS=1; fi

# ---------------------------------------------------------------- users and their keys
NU=$(( (N + PER_USER - 1) / PER_USER ))
note "$N projects of $F files, $NU fakehub users, $([ "$TWO" = 1 ] && echo "two hosts" || echo "one host")"
: > "$W/users"
for u in $(seq 1 "$NU"); do
	login=$TAG-u$u
	curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$login\",\"name\":\"Scale $u\"}" >/dev/null
	signin "$W/jar$u" "$login" >/dev/null
	key=$("$BUILD/ghbridge" apikey create --user "$login" --name scale --scopes projects:read,projects:write,sync 2>&1 | tail -1)
	tok=$(curl -s -X POST "$FH/users/$login/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
	case $key in ghb_*) ;; *) echo "no API key for $login: $key" >&2; exit 1 ;; esac
	echo "$login $key $tok" >> "$W/users"
	sleep 0.25 # nginx's signin zone allows 10 requests a second
done
mapfile -t USERS < "$W/users"

# ---------------------------------------------------------------- projects, their files, connecting
# One line per project in $W/projects: index id login key token workspace
mk_project() {
	local i=$1 u login key tok out
	u=${USERS[$(( (i - 1) / PER_USER ))]}
	read -r login key tok <<< "$u"
	out=$(curl -s --max-time 60 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
		-d "{\"name\":\"scale $i\"}" "$(host_of "$i")/api/v1/projects")
	echo "$i $(jq -r '.id' <<< "$out") $login $key $tok $(jq -r '.workspace' <<< "$out")"
}
export -f mk_project host_of
export PER_USER HOSTS_S="${HOSTS[*]}" USERS_S
USERS_S=$(printf '%s\n' "${USERS[@]}")
t0=$(now_ms)
seq 1 "$N" | xargs -P "$WRITERS" -n 1 bash -c 'read -r -a HOSTS <<< "$HOSTS_S"; mapfile -t USERS <<< "$USERS_S"; mk_project "$1"' _ > "$W/projects.raw"
sort -n "$W/projects.raw" > "$W/projects"
t1=$(now_ms)
bad=$(awk '$2 !~ /^[0-9]+$/ || $6 !~ /^\//' "$W/projects" | wc -l)
[ "$bad" -eq 0 ] && [ "$(wc -l < "$W/projects")" -eq "$N" ] || { echo "making projects failed ($bad bad)" >&2; head -3 "$W/projects" >&2; exit 1; }
bench scale_projects_made_per_s "$(awk -v n="$N" -v ms=$((t1 - t0)) 'BEGIN { printf "%.0f", n * 1000 / ms }')" "projects/s (POST /api/v1/projects, $WRITERS clients)"
IDLIST=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $2 }' "$W/projects")
# The host platform writes F files of ~600 bytes into each workspace folder.
pad=$(head -c 600 /dev/zero | tr '\0' 'x')
while read -r i id login key tok ws; do
	mkdir -p "$ws/docs"
	for f in $(seq 1 "$F"); do printf 'project %s file %s\n%s\n' "$i" "$f" "$pad" > "$ws/docs/f$f.md"; done
done < "$W/projects"
t2=$(now_ms)
bench scale_files_written_per_s "$(awk -v n=$((N * F)) -v ms=$((t2 - t1)) 'BEGIN { printf "%.0f", n * 1000 / ms }')" "files/s (into the workspace folders, as the host platform does)"

connect() {
	local i id login key tok ws s
	read -r i id login key tok ws <<< "$1"
	s=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
		-d "{\"mode\":\"create\",\"name\":\"scale-$login-$i\"}" "$(host_of $((i + 1)))/api/v1/projects/$id/repository")
	echo "$id $s"
}
export -f connect
t3=$(now_ms)
xargs -P "$WRITERS" -d '\n' -n 1 bash -c 'read -r -a HOSTS <<< "$HOSTS_S"; connect "$1"' _ < "$W/projects" > "$W/connects"
acc=$(awk '$2 ~ /^2/' "$W/connects" | wc -l)
[ "$acc" -eq "$N" ] || note "only $acc of $N connects accepted: $(awk '$2 !~ /^2/ { print $2 }' "$W/connects" | sort | uniq -c | tr '\n' ' ')"
initial_done() { q "SELECT count(DISTINCT project_id) FROM sync_history WHERE project_id IN ($IDLIST) AND status IN ('success', 'nochange')"; }
last=0; stall=0
while :; do
	d=$(initial_done)
	[ "$d" -ge "$N" ] && break
	if [ "$d" = "$last" ]; then stall=$((stall + 1)); else stall=0; last=$d; fi
	[ "$stall" -ge 300 ] && { note "initial syncs stalled at $d of $N"; break; }
	sleep 1
done
t4=$(now_ms)
bench scale_initial_connect_sync_per_min "$(awk -v n="$d" -v ms=$((t4 - t3)) 'BEGIN { printf "%.1f", n * 60000 / ms }')" "projects/min (repository created + first sync of $F files; $d of $N in $(( (t4 - t3) / 1000 )) s)"
load_mark "after the initial syncs"
# Webhook jobs from the initial pushes settle before the cycles are measured.
wait_for 300 bash -c "[ \"\$(psql -XAtq -c \"SELECT count(*) FROM jobs WHERE state IN ('queued', 'running') AND run_after <= now() AND (project_id IN ($IDLIST) OR project_id IS NULL)\")\" = 0 ]" || true

# ---------------------------------------------------------------- the periodic check: one cold and one warm cycle
workers 60
gh_counts() { curl -s "$GHB_URL/metrics" | awk '/^ghbridge_github_requests_total\{/ { n += $NF; if ($0 ~ /status="304"/) m += $NF } END { print n + 0, m + 0 }'; }
cpu_ticks() { # PIDS...: utime + stime (+ reaped children's) summed
	local p s=0 v
	for p in "$@"; do v=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null || echo 0); s=$((s + v)); done
	echo "$s"
}
worker_pids() { pgrep -P "$(cat "$STACK_VAR/run/worker.pid")" || true; [ "$TWO" = 1 ] && { pgrep -P "$(cat "$B_VAR/run/worker.pid")" || true; }; }
# PostgreSQL backends by database: ghbridge's own, and the emulator's (fakehub keeps its state in the same cluster).
pg_pids() { q "SELECT pid FROM pg_stat_activity WHERE datname = '$1' AND pid <> pg_backend_pid()"; }
fh_pids() { local p; p=$(cat "$STACK_VAR/run/fakehub.pid" 2>/dev/null || true); [ -n "$p" ] && { echo "$p"; pgrep -P "$p" || true; }; }
cycle() { # NAME: releases every queued check of these projects now and waits until each has run
	local name=$1 top c0 c1 w0 w1 p0 p1 f0 f1 g0 g1 r0 m0 r1 m1 t5 t6
	top=$(q "SELECT coalesce(max(id), 0) FROM jobs WHERE kind = 'poll' AND project_id IN ($IDLIST)")
	read -r r0 m0 <<< "$(gh_counts)"
	w0=$(cpu_ticks $(worker_pids)); p0=$(cpu_ticks $(pg_pids ghbridge)); g0=$(cpu_ticks $(pg_pids fakehub)); f0=$(cpu_ticks $(fh_pids))
	t5=$(now_ms)
	c0=$(q "UPDATE jobs SET run_after = now() WHERE kind = 'poll' AND state = 'queued' AND project_id IN ($IDLIST) AND id <= $top RETURNING 1" | wc -l)
	q "NOTIFY ghbridge_jobs, 'default'" >/dev/null # the workers sleep until the next due job otherwise
	wait_for 1800 bash -c "[ \"\$(psql -XAtq -c \"SELECT count(*) FROM jobs WHERE kind = 'poll' AND project_id IN ($IDLIST) AND id <= $top AND state IN ('queued', 'running')\")\" = 0 ]" || note "cycle $name did not end"
	t6=$(now_ms)
	w1=$(cpu_ticks $(worker_pids)); p1=$(cpu_ticks $(pg_pids ghbridge)); g1=$(cpu_ticks $(pg_pids fakehub)); f1=$(cpu_ticks $(fh_pids))
	read -r r1 m1 <<< "$(gh_counts)"
	bench "scale_check_${name}_projects" "$c0" "checks released at once"
	bench "scale_check_${name}_wall" "$(awk -v ms=$((t6 - t5)) 'BEGIN { printf "%.1f", ms / 1000 }')" "s until every check had run"
	bench "scale_check_${name}_requests" "$((r1 - r0))" "GitHub REST requests"
	bench "scale_check_${name}_304" "$((m1 - m0))" "of them 304 Not Modified"
	bench "scale_check_${name}_cpu_worker" "$(awk -v t=$((w1 - w0)) -v hz="$HZ" 'BEGIN { printf "%.1f", t / hz }')" "CPU s (worker processes)"
	bench "scale_check_${name}_cpu_postgres" "$(awk -v t=$((p1 - p0)) -v hz="$HZ" 'BEGIN { printf "%.1f", t / hz }')" "CPU s (PostgreSQL, ghbridge's database)"
	bench "scale_check_${name}_cpu_postgres_fakehub" "$(awk -v t=$((g1 - g0)) -v hz="$HZ" 'BEGIN { printf "%.1f", t / hz }')" "CPU s (PostgreSQL, the emulator's database)"
	bench "scale_check_${name}_cpu_fakehub" "$(awk -v t=$((f1 - f0)) -v hz="$HZ" 'BEGIN { printf "%.1f", t / hz }')" "CPU s (the emulator's processes and their git children)"
}
rss_now() { local p m=0 v; for p in $(worker_pids); do v=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0); [ "$v" -gt "$m" ] && m=$v; done; echo $((m / 1024)); }
RSS_W0=$(rss_now)
cycle cold
cycle warm
load_mark "after the check cycles"
# The change phase runs with the checks on, as a deployment does (they queue behind syncs: priority 200).

# ---------------------------------------------------------------- every project changes one file at once
DB0=$(q "SELECT pg_database_size(current_database())")
H0=$(q "SELECT count(*) FROM sync_history")
[ "$PGSS" = 1 ] && q "SELECT pg_stat_statements_reset()" >/dev/null
: > "$W/depth"
# /metrics counts queued jobs due or not (the next periodic checks wait there too); the due ones are counted beside it.
( while :; do
	d=$(curl -s --max-time 5 "$GHB_URL/metrics" | awk '$1 == "ghbridge_jobs_queue_depth" { print $2 }')
	r=$(psql -XAtq -c "SELECT count(*) FROM jobs WHERE state = 'queued' AND run_after <= now()" 2>/dev/null)
	echo "$(now_ms) ${d:-?} ${r:-?}" >> "$W/depth"; sleep 0.5
done ) &
SAMPLER=$!
change() {
	local i id login key tok ws
	read -r i id login key tok ws <<< "$1"
	local t s
	t=$(date +%s%3N)
	s=$(printf 'changed at %s\n' "$t" | curl -s -o /dev/null -w '%{http_code}' --max-time 60 -X PUT -H "Authorization: Bearer $key" \
		-H 'Content-Type: application/octet-stream' --data-binary @- "$(host_of "$i")/api/v1/projects/$id/files/docs/f1.md")
	echo "$id $t $s"
}
export -f change
t7=$(now_ms)
xargs -P "$WRITERS" -d '\n' -n 1 bash -c 'read -r -a HOSTS <<< "$HOSTS_S"; change "$1"' _ < "$W/projects" > "$W/writes"
t8=$(now_ms)
wbad=$(awk '$3 !~ /^2/' "$W/writes" | wc -l)
[ "$wbad" -eq 0 ] || note "$wbad writes refused: $(awk '$3 !~ /^2/ { print $3 }' "$W/writes" | sort | uniq -c | tr '\n' ' ')"
awk '{ print $1 "|" $2 }' "$W/writes" > "$W/writes.csv"
# write → commit: the end of the first sync of the project that started after the write and pushed a commit.
latq() {
	psql -XAtq -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE w (id bigint, t bigint);
\copy w FROM '$W/writes.csv' WITH (FORMAT csv, DELIMITER '|')
SELECT w.id, w.t, (SELECT (extract(epoch FROM h.finished_at) * 1000)::bigint FROM sync_history h
                   WHERE h.project_id = w.id AND h.status = 'success' AND h.files_changed > 0
                     AND h.started_at >= to_timestamp(w.t / 1000.0) ORDER BY h.id LIMIT 1) FROM w;
SQL
}
last=0; stall=0
while :; do
	latq | tr '|' ' ' > "$W/lat"
	d=$(awk '$3 != ""' "$W/lat" | wc -l)
	[ "$d" -ge "$((N - wbad))" ] && break
	if [ "$d" = "$last" ]; then stall=$((stall + 1)); else stall=0; last=$d; fi
	[ "$stall" -ge 120 ] && { note "change syncs stalled at $d of $N"; break; }
	sleep 1
done
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=
t9=$(awk '$3 != "" && $3 > m { m = $3 } END { printf "%.0f", m }' "$W/lat")
bench scale_change_writes_seconds "$(awk -v ms=$((t8 - t7)) 'BEGIN { printf "%.1f", ms / 1000 }')" "s for the $N writes ($WRITERS API clients)"
bench scale_change_all_synced_per_min "$(awk -v n="$d" -v ms=$((t9 - t7)) 'BEGIN { printf "%.1f", n * 60000 / ms }')" "projects/min (one changed file each, 2 worker processes per host)"
bench scale_change_all_seconds "$(awk -v ms=$((t9 - t7)) 'BEGIN { printf "%.1f", ms / 1000 }')" "s from the first write until $d of $N had pushed"
awk '$3 != "" { print $3 - $2 }' "$W/lat" | sort -n > "$W/latsorted"
pct() { awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p + 0.5); if (i < 1) i = 1; printf "%.1f", a[i] / 1000 }' "$W/latsorted"; }
bench scale_write_to_commit_p50 "$(pct 0.5)" s
bench scale_write_to_commit_p99 "$(pct 0.99)" s
maxdepth=$(awk '$2 ~ /^[0-9]+$/ && $2 > m { m = $2 } END { print m + 0 }' "$W/depth")
maxdue=$(awk '$3 ~ /^[0-9]+$/ && $3 > m { m = $3 } END { print m + 0 }' "$W/depth")
bench scale_queue_depth_max "$maxdepth" "jobs queued, due or not (sampled every 0.5 s from /metrics)"
bench scale_queue_due_max "$maxdue" "jobs queued and due (sampled beside it from PostgreSQL)"
curve=$(awk -v t0="$t7" -v step="$(( N >= 500 ? 30000 : 5000 ))" '$2 ~ /^[0-9]+$/ { s = int(($1 - t0) / step); if (!(s in d)) { d[s] = $2 "/" $3; if (s > m) m = s } } END { for (i = 0; i <= m; i++) if (i in d) printf "%s%ds:%s", (i ? " " : ""), i * step / 1000, d[i] }' "$W/depth")
DB1=$(q "SELECT pg_database_size(current_database())")
H1=$(q "SELECT count(*) FROM sync_history")
bench scale_db_growth_per_1000_syncs "$(awk -v a="$DB0" -v b="$DB1" -v n=$((H1 - H0)) 'BEGIN { if (n < 1) n = 1; printf "%.2f", (b - a) / n * 1000 / 1048576 }')" "MiB per 1,000 syncs ($((H1 - H0)) syncs; history, jobs, WAL-free table growth)"
load_mark "after the change phase"
if [ "$PGSS" = 1 ]; then
	q "SELECT calls, round(total_exec_time)::bigint AS ms, round(mean_exec_time::numeric, 2) AS mean_ms, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 160)
	   FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12" > "$STACK_VAR/log/bench-scale-statements.txt"
	note "top statements of the change phase: $STACK_VAR/log/bench-scale-statements.txt"
fi

curl -s "$GHB_URL/metrics" > "$W/metrics"
rss_w=0; rss_f=0
while read -r pid bytes; do
	comm=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)
	case $comm in *" worker"*) [ "$bytes" -gt "$rss_w" ] && rss_w=$bytes ;; *" fcgi"*) [ "$bytes" -gt "$rss_f" ] && rss_f=$bytes ;; esac
done < <(sed -n 's/^ghbridge_process_resident_memory_bytes{pid="\([0-9]*\)"} \([0-9]*\)$/\1 \2/p' "$W/metrics")
bench scale_worker_rss_max "$((rss_w / 1048576))" "MiB (largest worker process after the checks and the change phase; $RSS_W0 MiB a second after it started)"
bench scale_fcgi_rss_max "$((rss_f / 1048576))" "MiB (largest fcgi process)"

# ---------------------------------------------------------------- nothing lost; with two hosts nothing ran twice
# Read from the emulator's own storage (its bare repositories), not through ghbridge; fakehub has no contents API.
lost=0
while read -r id t s; do
	read -r i _ login _ <<< "$(awk -v id="$id" '$2 == id' "$W/projects")"
	got=$(git --git-dir="$STACK_VAR/fakehub/repos/$login/scale-$login-$i.git" show HEAD:docs/f1.md 2>/dev/null || true)
	[ "$got" = "changed at $t" ] || lost=$((lost + 1))
done < "$W/writes"
bench scale_writes_missing_on_github "$lost" "of $N (the file in the emulator's repository after the run)"
if [ "$TWO" = 1 ]; then
	bench scale_two_hosts_claimed_while_running "$(claimlog_twice "$LOG")" "claims of a job while an earlier claim of it ran"
	bench scale_two_hosts_project_overlaps "$(claimlog_overlaps "$LOG")" "pairs of one project's jobs running at once"
	ap=$(pgrep -P "$(cat "$STACK_VAR/run/worker.pid")" | paste -sd'|'); bp=$(pgrep -P "$(cat "$B_VAR/run/worker.pid")" | paste -sd'|')
	# Workers were restarted between phases: count runs by host from the change phase (current pids).
	runs=$(q "SELECT locked_by FROM $LOG WHERE state = 'running' AND kind = 'sync' AND at >= to_timestamp($t7 / 1000.0)")
	bench scale_two_hosts_syncs_host_a "$(printf '%s\n' "$runs" | grep -cE ":(${ap:-x})\$" || true)" "syncs run by host A's worker in the change phase"
	bench scale_two_hosts_syncs_host_b "$(printf '%s\n' "$runs" | grep -cE ":(${bp:-x})\$" || true)" "syncs run by host B's worker in the change phase"
fi

# ---------------------------------------------------------------- results
printf '%s\n' "$(awk '{ print $2 }' "$W/projects")" | HOSTS_S="$GHB_URL" KEYF="$W/projects" xargs -P "$WRITERS" -n 1 bash -c '
	key=$(awk -v id="$1" "\$2 == id { print \$4 }" "$KEYF"); curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $key" "$HOSTS_S/api/v1/projects/$1"' _
load_mark "after"
{
	echo
	echo "## Scale: $N projects of $F files, $([ "$TWO" = 1 ] && echo "two hosts (2 worker processes each)" || echo "2 worker processes") ($(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo))"
	echo
	echo "Command: \`$([ "$TWO" = 1 ] && echo "TWO_HOSTS=1 ")BENCH_SCALE_PROJECTS=$N BENCH_SCALE_FILES=$F scripts/dev bench scale\` (bench/scale.sh), commit $(git -C "$ROOT" rev-parse --short HEAD)."
	echo "Load average (1, 5, 15 min; the machine is shared with other engineers' builds and test stacks): $(printf '%s; ' "${LOADS[@]}")"
	echo
	echo "| metric | value | unit |"
	echo "|---|---|---|"
	for r in "${RES[@]}"; do IFS='|' read -r a b c <<< "$r"; echo "| $a | $b | $c |"; done
	echo
	echo "Queue after the $N writes, queued (due or not, from /metrics) / due (from PostgreSQL): $curve"
	[ -n "${BENCH_SCALE_NOTE:-}" ] && { echo; echo "$BENCH_SCALE_NOTE"; }
} >> "$ROOT/bench/RESULTS.md"
note "appended to bench/RESULTS.md"
