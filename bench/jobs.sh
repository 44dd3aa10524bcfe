#!/bin/bash
# bench/jobs.sh: job queue throughput (no-op jobs/s with 1, 2, 4 worker processes) and idle wake-up latency.
# Run as `scripts/dev bench jobs` (uses the dev stack's database) or with PG* and GHBRIDGE_* set by hand.
# Prints `BENCH <name> <value> <unit>` lines. Uses private queue names, so a running worker is not disturbed.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$ROOT/build}
GHB=$BUILD/ghbridge
JOBS=${BENCH_JOBS:-20000}
LAT_SAMPLES=${BENCH_LAT_SAMPLES:-300}
PREFIX=bench$$
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
WPID=""
cleanup() {
	[ -n "$WPID" ] && kill -TERM "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null || true
	q "DELETE FROM jobs WHERE queue LIKE '$PREFIX-%'" >/dev/null 2>&1 || true
}
trap cleanup EXIT

[ -x "$GHB" ] || { echo "no $GHB: build first" >&2; exit 1; }
"$GHB" migrate >/dev/null 2>&1

# Throughput: the jobs are inserted first (one statement), then N processes drain them.
# Measured on the database clock, from the first claim to the last completion.
for n in 1 2 4; do
	queue=$PREFIX-tp$n
	q "INSERT INTO jobs (queue, kind, max_attempts) SELECT '$queue', 'noop', 3 FROM generate_series(1, $JOBS)" >/dev/null
	q "VACUUM ANALYZE jobs" >/dev/null
	GHBRIDGE_LOG_LEVEL=warn "$GHB" worker --concurrency "$n" --queue "$queue" 2>>"${BENCH_LOG:-/dev/null}" &
	WPID=$!
	deadline=$(( $(date +%s) + 300 ))
	until [ "$(q "SELECT count(*) FROM jobs WHERE queue = '$queue' AND state = 'done'")" -ge "$JOBS" ]; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "timeout waiting for $queue" >&2; exit 1; }
		sleep 0.2
	done
	kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
	rate=$(q "SELECT round(count(*) / extract(epoch FROM max(finished_at) - min(started_at))) FROM jobs WHERE queue = '$queue'")
	echo "BENCH jobs_noop_throughput_${n}w $rate jobs/s"
	q "DELETE FROM jobs WHERE queue = '$queue'" >/dev/null
done

# Latency: one idle worker process; jobs enqueued one at a time, 20 ms apart, each in its own
# transaction (as a web request would). enqueue-to-start = started_at (claim) - created_at (insert).
queue=$PREFIX-lat
q "VACUUM ANALYZE jobs" >/dev/null
GHBRIDGE_LOG_LEVEL=warn "$GHB" worker --concurrency 1 --queue "$queue" 2>>"${BENCH_LOG:-/dev/null}" &
WPID=$!
sleep 1
for i in $(seq 1 "$LAT_SAMPLES"); do
	echo "INSERT INTO jobs (queue, kind) VALUES ('$queue', 'noop');"
	echo "SELECT pg_sleep(0.02);"
done | psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
deadline=$(( $(date +%s) + 60 ))
until [ "$(q "SELECT count(*) FROM jobs WHERE queue = '$queue' AND state = 'done'")" -ge "$LAT_SAMPLES" ]; do
	[ "$(date +%s)" -lt "$deadline" ] || { echo "timeout waiting for $queue" >&2; exit 1; }
	sleep 0.2
done
kill -TERM "$WPID"; wait "$WPID" || true; WPID=""
read -r p50 p99 max < <(q "SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY l))::numeric, 2),
                                  round((percentile_cont(0.99) WITHIN GROUP (ORDER BY l))::numeric, 2),
                                  round(max(l)::numeric, 2)
                           FROM (SELECT extract(epoch FROM started_at - created_at) * 1000 AS l
                                 FROM jobs WHERE queue = '$queue') x" | tr '|' ' ')
echo "BENCH jobs_wakeup_latency_p50 $p50 ms"
echo "BENCH jobs_wakeup_latency_p99 $p99 ms"
echo "BENCH jobs_wakeup_latency_max $max ms"

# Enqueue rate through the C service (ghbridge jobs enqueue --count: one connection, one INSERT each).
queue=$PREFIX-enq
t0=$(date +%s%N)
"$GHB" jobs enqueue noop --queue "$queue" --count 5000 >/dev/null
t1=$(date +%s%N)
echo "BENCH jobs_enqueue_rate $(( 5000 * 1000000000 / (t1 - t0) )) jobs/s"
