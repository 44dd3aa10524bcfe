# tests/jobs/jobs-lib.sh: helpers for the job queue tests: private queues, workers started and stopped by the test.
# Every test uses its own queue name so the stack's own worker (queue "default") never takes its jobs.
. "$ROOT/tests/lib.sh"
GHB=$BUILD/ghbridge
JOBS_TMP=$(mktemp -d /tmp/ghb-jobs-test.XXXXXX)
WORKER_PIDS=""

q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# start_worker QUEUE N [VAR=value...]: a `ghbridge worker` on QUEUE with N processes; its pid goes
# to $W (not printed: a $(...) subshell would make it a grandchild that `wait` cannot reap).
start_worker() {
	local queue=$1 n=$2; shift 2
	env GHBRIDGE_LOG_LEVEL=${GHBRIDGE_LOG_LEVEL_TEST:-info} "$@" \
		"$GHB" worker --concurrency "$n" --queue "$queue" >> "$JOBS_TMP/worker-$queue.log" 2>&1 &
	W=$!
	WORKER_PIDS="$WORKER_PIDS $W"
}

# stop_worker PID: SIGTERM and wait; returns the worker's exit status.
stop_worker() {
	kill -TERM "$1" 2>/dev/null || return 0
	local rc=0
	wait "$1" || rc=$?
	return $rc
}

# wait_sql SECONDS SQL: until the query prints t.
wait_sql() {
	local deadline=$(( $(date +%s) + $1 ))
	until [ "$(q "$2" 2>/dev/null)" = t ]; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

jobs_cleanup() {
	for p in $WORKER_PIDS; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $WORKER_PIDS; do wait "$p" 2>/dev/null || true; done
	if [ -n "${KEEP_LOGS:-}" ]; then echo "# worker logs in $JOBS_TMP"; else rm -rf "$JOBS_TMP"; fi
}
trap jobs_cleanup EXIT

# A queue name no other test or worker uses.
new_queue() { echo "t$$-$1"; }
