#!/bin/bash
# tests/jobs/test-queue.sh: CLI, dedup coalescing, NOTIFY wake-up, backoff, rate-limit deferral, dead jobs, retry, cancel, SIGTERM.
. "$ROOT/tests/jobs/jobs-lib.sh"

# --- CLI help
check "worker --help exits 0" "$GHB" worker --help
for s in list show retry cancel enqueue stats purge; do
	check "jobs $s --help exits 0" "$GHB" jobs "$s" --help
done
out=$("$GHB" jobs frobnicate 2>&1); rc=$?
check_eq "jobs with an unknown subcommand exits 2" 2 "$rc"
out=$("$GHB" jobs enqueue no-such-kind 2>&1); rc=$?
check_eq "enqueue of an unknown kind is refused" 2 "$rc"
out=$("$GHB" jobs enqueue noop --payload '[1]' 2>&1); rc=$?
check_eq "enqueue with a payload that is not an object is refused" 2 "$rc"

# --- dedup: no worker serves this queue, so everything stays queued
Q=$(new_queue dedup)
for i in $(seq 1 100); do "$GHB" jobs enqueue noop --queue "$Q" --dedup "sync:$Q" --payload "{\"n\":$i}" >/dev/null; done
check_eq "100 enqueues with one dedup key make one job" 1 "$(q "SELECT count(*) FROM jobs WHERE queue = '$Q'")"
check_eq "the job counts the coalesced enqueues" 100 "$(q "SELECT enqueues FROM jobs WHERE queue = '$Q'")"
check_eq "the job carries the latest payload" 100 "$(q "SELECT payload->>'n' FROM jobs WHERE queue = '$Q'")"
out=$("$GHB" jobs enqueue noop --queue "$Q" --dedup "sync:$Q" --priority 5)
check_match "a repeated enqueue says it coalesced" "coalesced" "$out"
check_eq "coalescing keeps the lower priority number" 5 "$(q "SELECT priority FROM jobs WHERE queue = '$Q'")"
q "UPDATE jobs SET state = 'running', locked_until = now() + interval '1 hour' WHERE queue = '$Q'" >/dev/null
"$GHB" jobs enqueue noop --queue "$Q" --dedup "sync:$Q" >/dev/null
check_eq "while the job runs, the same key makes a new job" 2 "$(q "SELECT count(*) FROM jobs WHERE queue = '$Q'")"
q "DELETE FROM jobs WHERE queue = '$Q'" >/dev/null

# --- NOTIFY wake-up: with an hour-long poll, only NOTIFY can wake the worker
Q=$(new_queue notify)
start_worker "$Q" 1 GHBRIDGE_WORKER_POLL_SECONDS=3600
sleep 1.5
id=$("$GHB" jobs enqueue noop --queue "$Q")
if wait_sql 5 "SELECT state = 'done' FROM jobs WHERE id = $id"; then ok "an idle worker is woken by NOTIFY"; else not_ok "an idle worker is woken by NOTIFY" "job $id: $(q "SELECT state FROM jobs WHERE id = $id")"; fi
lat=$(q "SELECT round(extract(epoch FROM started_at - created_at) * 1000) FROM jobs WHERE id = $id")
if [ -n "$lat" ] && [ "$lat" -lt 500 ]; then ok "wake-up latency ${lat} ms < 500 ms"; else not_ok "wake-up latency < 500 ms" "$lat ms"; fi
delayed=$("$GHB" jobs enqueue noop --queue "$Q" --delay-ms 1500)
if wait_sql 6 "SELECT state = 'done' FROM jobs WHERE id = $delayed"; then ok "a delayed job runs when due without a poll"; else not_ok "a delayed job runs when due without a poll" "$(q "SELECT state FROM jobs WHERE id = $delayed")"; fi
early=$(q "SELECT started_at >= run_after AND started_at < run_after + interval '1 second' FROM jobs WHERE id = $delayed")
check_eq "the delayed job started at its run_after, not before" t "$early"
stop_worker "$W"; check_eq "worker exits 0 on SIGTERM" 0 "$?"

# --- retries with backoff (base 400 ms, cap 1 s), then success
Q=$(new_queue retry)
start_worker "$Q" 2 GHBRIDGE_JOBS_BACKOFF_BASE_MS=400 GHBRIDGE_JOBS_BACKOFF_CAP_MS=1000
id=$("$GHB" jobs enqueue test --queue "$Q" --max-attempts 5 --payload '{"fail":"retry","fail_times":3}')
wait_sql 20 "SELECT state = 'done' FROM jobs WHERE id = $id"
check_eq "a job failing 3 times then succeeding is done" done "$(q "SELECT state FROM jobs WHERE id = $id")"
check_eq "it spent 4 attempts" 4 "$(q "SELECT attempts FROM jobs WHERE id = $id")"
check_eq "it ran 4 times" 4 "$(q "SELECT count(*) FROM job_test_runs WHERE job_id = $id")"
# The gap after attempt k is at most min(cap, base * 2^(k-1)) plus the time to notice and claim.
bad=$(q "WITH r AS (SELECT attempt, started_at, lag(finished_at) OVER (ORDER BY attempt) AS prev_end
                     FROM job_test_runs WHERE job_id = $id)
         SELECT count(*) FROM r WHERE prev_end IS NOT NULL
            AND extract(epoch FROM started_at - prev_end) * 1000 > least(1000, 400 * 2 ^ (attempt - 2)) + 250")
check_eq "each retry waited within its jitter bound (+250 ms slack)" 0 "$bad"

# --- out of attempts: dead with the last error
id=$("$GHB" jobs enqueue test --queue "$Q" --max-attempts 2 --payload '{"fail":"retry"}')
wait_sql 20 "SELECT state = 'dead' FROM jobs WHERE id = $id"
check_eq "a job failing every time goes dead after max attempts" "dead|2|2" "$(q "SELECT state, attempts, (SELECT count(*) FROM job_test_runs WHERE job_id = $id) FROM jobs WHERE id = $id" | tr -d ' ')"
check_match "the dead job keeps its last error" "test failure 2" "$(q "SELECT last_error FROM jobs WHERE id = $id")"

# --- permanent errors: dead at once
id=$("$GHB" jobs enqueue test --queue "$Q" --max-attempts 5 --payload '{"fail":"permanent","fail_times":1}')
wait_sql 10 "SELECT state = 'dead' FROM jobs WHERE id = $id"
check_eq "a permanent error makes the job dead after one run" "dead|1" "$(q "SELECT state, attempts FROM jobs WHERE id = $id")"
# ... and `jobs retry` brings it back (the second claim succeeds)
out=$("$GHB" jobs retry "$id" 2>&1); check_match "jobs retry requeues a dead job" "queued again" "$out"
wait_sql 10 "SELECT state = 'done' FROM jobs WHERE id = $id"
check_eq "the retried job completes" done "$(q "SELECT state FROM jobs WHERE id = $id")"
out=$("$GHB" jobs retry "$id" 2>&1); rc=$?
check_eq "jobs retry refuses a done job" 1 "$rc"
out=$("$GHB" jobs show 999999999 2>&1); rc=$?
check_eq "jobs show of a missing job exits 3" 3 "$rc"
out=$("$GHB" jobs show "$id"); check_match "jobs show prints the job" "state: +done" "$out"

# --- rate limits: waiting does not spend attempts
id=$("$GHB" jobs enqueue test --queue "$Q" --max-attempts 1 --payload '{"fail":"wait","fail_times":3,"wait_ms":300}')
wait_sql 15 "SELECT state = 'done' FROM jobs WHERE id = $id"
check_eq "a job rate-limited 3 times with max_attempts 1 still completes" done "$(q "SELECT state FROM jobs WHERE id = $id")"
check_eq "waits spent no attempt (attempts 1, claims 4)" "1|4" "$(q "SELECT attempts, claims FROM jobs WHERE id = $id")"
gap=$(q "SELECT min(extract(epoch FROM started_at - prev) * 1000)::int FROM (SELECT started_at, lag(finished_at) OVER (ORDER BY id) AS prev FROM job_test_runs WHERE job_id = $id) r WHERE prev IS NOT NULL")
if [ -n "$gap" ] && [ "$gap" -ge 280 ]; then ok "each wait lasted until its resume time (min gap ${gap} ms)"; else not_ok "each wait lasted until its resume time" "min gap $gap ms"; fi
stop_worker "$W"

# --- cancel
Q=$(new_queue cancel)
id=$("$GHB" jobs enqueue noop --queue "$Q")
out=$("$GHB" jobs cancel "$id" 2>&1); check_match "jobs cancel cancels a queued job" "cancelled" "$out"
check_eq "the job is cancelled" cancelled "$(q "SELECT state FROM jobs WHERE id = $id")"
out=$("$GHB" jobs cancel "$id" 2>&1); rc=$?
check_eq "cancelling it again is refused" 1 "$rc"
out=$("$GHB" jobs list --queue "$Q" --state cancelled)
check_match "jobs list filters by queue and state" "^$id +cancelled +noop" "$(echo "$out" | sed -n 2p)"
out=$("$GHB" jobs stats); check_match "jobs stats shows counts" "QUEUE +KIND +STATE +COUNT" "$out"

# --- cancelling a running job stops its handler at the next lease renewal
start_worker "$Q" 1 GHBRIDGE_JOBS_LEASE_SECONDS=3
id=$("$GHB" jobs enqueue test --queue "$Q" --payload '{"sleep_ms":20000}')
wait_sql 10 "SELECT state = 'running' FROM jobs WHERE id = $id"
"$GHB" jobs cancel "$id" >/dev/null
if wait_sql 5 "SELECT finished_at IS NOT NULL FROM job_test_runs WHERE job_id = $id"; then ok "a cancelled running job stops within a lease period"; else not_ok "a cancelled running job stops within a lease period"; fi
check_eq "and stays cancelled" cancelled "$(q "SELECT state FROM jobs WHERE id = $id")"
stop_worker "$W"

# --- SIGTERM: the job in hand finishes, then the worker exits 0
Q=$(new_queue term)
start_worker "$Q" 1
id=$("$GHB" jobs enqueue test --queue "$Q" --payload '{"sleep_ms":1500,"ignore_stop":1}')
wait_sql 10 "SELECT state = 'running' FROM jobs WHERE id = $id"
t0=$(date +%s%N)
stop_worker "$W"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "SIGTERM during a job: exit 0" 0 "$rc"
check_eq "SIGTERM during a job: the job finished" done "$(q "SELECT state FROM jobs WHERE id = $id")"
# ... and past the drain deadline, the job is released without spending its attempt
start_worker "$Q" 1 GHBRIDGE_WORKER_DRAIN_SECONDS=1
id=$("$GHB" jobs enqueue test --queue "$Q" --payload '{"sleep_ms":30000,"ignore_stop":1}')
wait_sql 10 "SELECT state = 'running' FROM jobs WHERE id = $id"
t0=$(date +%s%N)
stop_worker "$W"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "SIGTERM with a stuck job: exit 0" 0 "$rc"
if [ "$ms" -lt 5000 ]; then ok "SIGTERM with a stuck job: exits after the drain deadline (${ms} ms)"; else not_ok "SIGTERM with a stuck job: exits after the drain deadline" "$ms ms"; fi
check_eq "the stuck job was released to the queue with its attempt given back" "queued|0" "$(q "SELECT state, attempts FROM jobs WHERE id = $id")"
# --- purge: old finished jobs go, recent and dead ones stay
Q=$(new_queue purge)
for st in done cancelled dead; do
	for age in 3 0; do
		id=$("$GHB" jobs enqueue noop --queue "$Q")
		q "UPDATE jobs SET state = '$st', finished_at = now() - interval '$age days' WHERE id = $id" >/dev/null
	done
done
n=$("$GHB" jobs purge --days 2)
check_eq "jobs purge --days 2 deletes the 2 old finished jobs" 2 "$n"
check_eq "recent finished jobs and all dead jobs stay" "cancelled:1 dead:2 done:1" "$(q "SELECT string_agg(state || ':' || n, ' ' ORDER BY state) FROM (SELECT state, count(*) n FROM jobs WHERE queue = '$Q' GROUP BY state) x")"
q "DELETE FROM jobs WHERE queue LIKE 't$$-%'" >/dev/null

finish
