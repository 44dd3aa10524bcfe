#!/usr/bin/env bash
# bench/scale.sh: many connected projects on one machine (issue 15, capacity): N projects of F files each are
# connected to fakehub and synced, then every project changes one file at once; measures projects synced per
# minute with 2 worker processes, queue depth over time (from /metrics), write-to-commit latency (p50, p99),
# worker and fcgi RSS (from /metrics), and database growth per 1,000 syncs. Run as `scripts/dev bench scale`
# against the dev stack (`scripts/dev up`); BENCH_SCALE_PROJECTS (default 100) and BENCH_SCALE_FILES (20).
# Prints `BENCH <name> <value> <unit>` lines and appends a section to bench/RESULTS.md.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$ROOT/build}
: "${GHB_URL:?run through scripts/dev bench scale}" "${FAKEHUB_URL:?fakehub is needed}" "${STACK_VAR:?}"
. "$ROOT/tests/lib.sh"
N=${BENCH_SCALE_PROJECTS:-100}
F=${BENCH_SCALE_FILES:-20}
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=scale$$
W=$(mktemp -d "${TMPDIR:-/tmp}/ghb-bench-scale.XXXXXX")
WPIDF=$STACK_VAR/run/worker.pid
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for c in jq curl awk psql; do command -v $c >/dev/null || { echo "bench/scale.sh needs $c" >&2; exit 1; }; done

now_ms() { date +%s%3N; }
bench() { echo "BENCH $1 $2 $3"; RES+=("$1|$2|$3"); }
RES=()
worker_restart() {
	local pid i
	pid=$(cat "$WPIDF" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	env "$@" setsid "$BUILD/ghbridge" worker >> "$STACK_VAR/log/worker.log" 2>&1 < /dev/null &
	echo $! > "$WPIDF"
}
cleanup() { worker_restart; rm -rf "$W"; }
trap cleanup EXIT
# Two worker processes, the periodic check off (its requests and syncs would mix into the figures).
worker_restart GHBRIDGE_WORKER_CONCURRENCY=2 GHBRIDGE_PROJECT_POLL_SECONDS=0
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"Scale\"}" >/dev/null
signin "$W/jar" "$U" >/dev/null
# The session, not an API key: thousands of requests in a minute would meet the key's rate limit.
CSRF=$(csrf_of "$W/jar")
AUTH=(-b "$W/jar" -H "X-CSRF-Token: $CSRF")
call() { local m=$1 p=$2; shift 2; curl -s -o /dev/null -w '%{http_code}' --max-time 60 -X "$m" "${AUTH[@]}" "$@" "$API$p"; }
synced() { q "SELECT count(*) FROM projects p WHERE p.owner_id = (SELECT id FROM users WHERE login = '$U') AND p.status = 'SUCCESS'
               AND (SELECT count(*) FROM sync_history h WHERE h.project_id = p.id AND h.status = 'success') >= $1"; }

echo "# $N projects of $F files" >&2
PIDS=()
t0=$(now_ms)
for i in $(seq 1 "$N"); do
	id=$(curl -s "${AUTH[@]}" -H 'Content-Type: application/json' -d "{\"name\":\"scale $i\"}" "$API/projects" | jq -r .id)
	PIDS+=("$id")
	for f in $(seq 1 "$F"); do
		printf 'project %s file %s\n%s\n' "$i" "$f" "$(head -c 600 /dev/zero | tr '\0' 'x')" |
			curl -s -o /dev/null -X PUT "${AUTH[@]}" -H 'Content-Type: application/octet-stream' --data-binary @- "$API/projects/$id/files/docs/f$f.md"
	done
done
t1=$(now_ms)
bench scale_files_written_per_s "$(awk -v n=$((N * F)) -v ms=$((t1 - t0)) 'BEGIN { printf "%.0f", n * 1000 / ms }')" "files/s (API PUT, one client)"
for id in "${PIDS[@]}"; do
	call POST "/projects/$id/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"scale-$U-$id\"}" >/dev/null
done
t2=$(now_ms)
for i in $(seq 1 3000); do [ "$(synced 1)" -ge "$N" ] && break; sleep 1; done
t3=$(now_ms)
bench scale_initial_connect_sync_per_min "$(awk -v n="$N" -v ms=$((t3 - t2)) 'BEGIN { printf "%.1f", n * 60000 / ms }')" "projects/min (create repository + first sync of $F files)"
DB0=$(q "SELECT pg_database_size(current_database())")
H0=$(q "SELECT count(*) FROM sync_history")

# ---------------------------------------------------------------- every project changes one file at once
: > "$W/depth"
( while :; do d=$(curl -s "$GHB_URL/metrics" | awk '$1 == "ghbridge_jobs_queue_depth" { print $2 }'); echo "$(now_ms) ${d:-?}" >> "$W/depth"; sleep 0.5; done ) &
SAMPLER=$!
: > "$W/writes"
t4=$(now_ms)
for id in "${PIDS[@]}"; do
	printf 'changed %s\n' "$(now_ms)" | curl -s -o /dev/null -X PUT "${AUTH[@]}" -H 'Content-Type: application/octet-stream' --data-binary @- "$API/projects/$id/files/docs/f1.md"
	echo "$id $(now_ms)" >> "$W/writes"
done
for i in $(seq 1 3000); do [ "$(synced 2)" -ge "$N" ] && break; sleep 0.5; done
t5=$(now_ms)
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
bench scale_change_all_synced_per_min "$(awk -v n="$N" -v ms=$((t5 - t4)) 'BEGIN { printf "%.1f", n * 60000 / ms }')" "projects/min (one changed file each, 2 worker processes)"
bench scale_change_all_seconds "$(awk -v ms=$((t5 - t4)) 'BEGIN { printf "%.1f", ms / 1000 }')" "s until all $N were synced"
# write → the commit on the emulator: the second success's finish (the push is done by then) minus the write
q "SELECT p.id, (extract(epoch FROM max(h.finished_at)) * 1000)::bigint FROM projects p JOIN sync_history h ON h.project_id = p.id AND h.status = 'success'
   WHERE p.owner_id = (SELECT id FROM users WHERE login = '$U') GROUP BY p.id" | tr '|' ' ' > "$W/done"
lat=$(awk 'NR == FNR { w[$1] = $2; next } ($1 in w) { print $2 - w[$1] }' "$W/writes" "$W/done" | sort -n)
p50=$(printf '%s\n' "$lat" | awk '{ a[NR] = $1 } END { print a[int(NR * 0.5 + 0.5)] / 1000 }')
p99=$(printf '%s\n' "$lat" | awk '{ a[NR] = $1 } END { i = int(NR * 0.99 + 0.5); if (i < 1) i = 1; print a[i] / 1000 }')
bench scale_write_to_commit_p50 "$p50" s
bench scale_write_to_commit_p99 "$p99" s
maxdepth=$(awk '$2 ~ /^[0-9]+$/ && $2 > m { m = $2 } END { print m + 0 }' "$W/depth")
bench scale_queue_depth_max "$maxdepth" "jobs (sampled every 0.5 s from /metrics)"
curve=$(awk -v t0="$t4" '$2 ~ /^[0-9]+$/ { s = int(($1 - t0) / 5000); if (!(s in d)) { d[s] = $2; if (s > m) m = s } } END { for (i = 0; i <= m; i++) if (i in d) printf "%s%ds:%s", (i ? " " : ""), i * 5, d[i] }' "$W/depth")
DB1=$(q "SELECT pg_database_size(current_database())")
H1=$(q "SELECT count(*) FROM sync_history")
bench scale_db_growth_per_1000_syncs "$(awk -v a="$DB0" -v b="$DB1" -v n=$((H1 - H0)) 'BEGIN { if (n < 1) n = 1; printf "%.2f", (b - a) / n * 1000 / 1048576 }')" "MiB per 1,000 syncs ($((H1 - H0)) syncs)"
curl -s "$GHB_URL/metrics" > "$W/metrics"
rss_w=0; rss_f=0
while read -r pid bytes; do
	comm=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)
	case $comm in *" worker"*) [ "$bytes" -gt "$rss_w" ] && rss_w=$bytes ;; *" fcgi"*) [ "$bytes" -gt "$rss_f" ] && rss_f=$bytes ;; esac
done < <(sed -n 's/^ghbridge_process_resident_memory_bytes{pid="\([0-9]*\)"} \([0-9]*\)$/\1 \2/p' "$W/metrics")
bench scale_worker_rss_max "$((rss_w / 1048576))" "MiB (largest worker process)"
bench scale_fcgi_rss_max "$((rss_f / 1048576))" "MiB (largest fcgi process)"
gh=$(awk '/^ghbridge_github_requests_total/ { s += $NF } END { print s + 0 }' "$W/metrics")
bench scale_github_requests_total "$gh" "REST requests counted since the processes started"

# ---------------------------------------------------------------- results
for id in "${PIDS[@]}"; do call DELETE "/projects/$id" >/dev/null; done
{
	echo
	echo "## Scale: $N projects of $F files, 2 worker processes ($(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo))"
	echo
	echo "Command: \`BENCH_SCALE_PROJECTS=$N BENCH_SCALE_FILES=$F scripts/dev bench scale\` (bench/scale.sh). Load average"
	echo "before the run: $LOAD0 (the machine is shared with other engineers' builds and test stacks)."
	echo
	echo "| metric | value | unit |"
	echo "|---|---|---|"
	for r in "${RES[@]}"; do IFS='|' read -r a b c <<< "$r"; echo "| $a | $b | $c |"; done
	echo
	echo "Queue depth every 5 s after the $N writes (from /metrics): $curve"
} >> "$ROOT/bench/RESULTS.md"
echo "# appended to bench/RESULTS.md" >&2
