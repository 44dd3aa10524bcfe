#!/bin/bash
# tests/jobs/test-concurrency.sh: 4 workers x 2,000 jobs run exactly once; per-project serialisation; SIGKILL mid-job.
. "$ROOT/tests/jobs/jobs-lib.sh"

# --- exactly once: 4 worker processes, 2,000 jobs enqueued while they run
Q=$(new_queue once)
start_worker "$Q" 4 GHBRIDGE_LOG_LEVEL=warn
sleep 0.5
n=$("$GHB" jobs enqueue test --queue "$Q" --count 2000)
check_eq "2,000 jobs enqueued" 2000 "$n"
if wait_sql 120 "SELECT count(*) = 2000 FROM jobs WHERE queue = '$Q' AND state = 'done'"; then ok "all 2,000 jobs done"; else not_ok "all 2,000 jobs done" "$(q "SELECT state || ':' || count(*) FROM jobs WHERE queue = '$Q' GROUP BY state")"; fi
check_eq "each job ran exactly once (2,000 runs, no job twice)" "2000|0" \
	"$(q "SELECT count(*), count(*) - count(DISTINCT job_id) FROM job_test_runs r JOIN jobs j ON j.id = r.job_id WHERE j.queue = '$Q'")"
check_eq "each job spent exactly one attempt" 0 "$(q "SELECT count(*) FROM jobs WHERE queue = '$Q' AND (attempts <> 1 OR claims <> 1)")"
workers=$(q "SELECT count(DISTINCT worker) FROM job_test_runs r JOIN jobs j ON j.id = r.job_id WHERE j.queue = '$Q'")
check_eq "all 4 worker processes took jobs" 4 "$workers"
stop_worker "$W"; check_eq "4-process worker exits 0 on SIGTERM" 0 "$?"

# --- per project: never two at once; different projects in parallel
Q=$(new_queue proj)
for p in 1 2 3; do
	"$GHB" jobs enqueue test --queue "$Q" --project "$((900000 + p))" --payload '{"sleep_ms":150}' --count 6 >/dev/null
done
start_worker "$Q" 4
wait_sql 60 "SELECT count(*) = 18 FROM jobs WHERE queue = '$Q' AND state = 'done'"
check_eq "18 project jobs done" 18 "$(q "SELECT count(*) FROM jobs WHERE queue = '$Q' AND state = 'done'")"
RUNS="SELECT r.* FROM job_test_runs r JOIN jobs j ON j.id = r.job_id WHERE j.queue = '$Q'"
overlap_same=$(q "SELECT count(*) FROM ($RUNS) a JOIN ($RUNS) b ON a.project_id = b.project_id AND a.id < b.id
                  AND tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at)")
check_eq "no two runs of one project overlap" 0 "$overlap_same"
overlap_diff=$(q "SELECT count(*) > 0 FROM ($RUNS) a JOIN ($RUNS) b ON a.project_id <> b.project_id AND a.id < b.id
                  AND tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at)")
check_eq "runs of different projects do overlap" t "$overlap_diff"
span=$(q "SELECT round(extract(epoch FROM max(finished_at) - min(started_at)) * 1000) FROM ($RUNS) x")
# Serial would be 18 x 150 ms = 2.7 s; one project's 6 jobs take 0.9 s.
if [ -n "$span" ] && [ "$span" -lt 2500 ]; then ok "3 projects ran in parallel (${span} ms for 18 x 150 ms)"; else not_ok "3 projects ran in parallel" "$span ms"; fi
stop_worker "$W"

# --- SIGKILL mid-job: the lease expires, another process redoes the job once
Q=$(new_queue kill)
start_worker "$Q" 2 GHBRIDGE_JOBS_LEASE_SECONDS=2
id=$("$GHB" jobs enqueue test --queue "$Q" --project 900042 --payload '{"sleep_ms":3000}')
other=$("$GHB" jobs enqueue test --queue "$Q" --project 900042 --payload '{"sleep_ms":10}' --priority 200)
wait_sql 10 "SELECT EXISTS (SELECT 1 FROM job_test_runs WHERE job_id = $id)"
sleep 0.5
victim=$(q "SELECT split_part(locked_by, ':', 2) FROM jobs WHERE id = $id")
killed_at=$(q "SELECT now()")
if [ -n "$victim" ] && kill -KILL "$victim"; then ok "SIGKILLed worker process $victim mid-job"; else not_ok "SIGKILL a worker mid-job" "no pid in locked_by"; fi
sleep 0.5
check_eq "right after the kill the job is still leased (not taken early)" "running|1" "$(q "SELECT state, count(r.id) FROM jobs j JOIN job_test_runs r ON r.job_id = j.id WHERE j.id = $id GROUP BY state")"
check_eq "the project's other job waits for it" queued "$(q "SELECT state FROM jobs WHERE id = $other")"
if wait_sql 20 "SELECT state = 'done' FROM jobs WHERE id = $id"; then ok "the killed job is redone after its lease expired"; else not_ok "the killed job is redone after its lease expired" "$(q "SELECT state, last_error FROM jobs WHERE id = $id")"; fi
check_eq "two runs: the killed one never finished, the redo finished" "2|1" "$(q "SELECT count(*), count(finished_at) FROM job_test_runs WHERE job_id = $id")"
late=$(q "SELECT min(started_at) > '$killed_at'::timestamptz + interval '1 second' FROM job_test_runs WHERE job_id = $id AND attempt = 2")
check_eq "the redo started only after the lease ran out" t "$late"
check_eq "the redo counts as attempt 2 and the job is done once" "done|2" "$(q "SELECT state, attempts FROM jobs WHERE id = $id")"
wait_sql 10 "SELECT state = 'done' FROM jobs WHERE id = $other"
after=$(q "SELECT (SELECT min(started_at) FROM job_test_runs WHERE job_id = $other) >= (SELECT max(finished_at) FROM job_test_runs WHERE job_id = $id)")
check_eq "the project's other job ran after the redo, not during it" t "$after"
stop_worker "$W"; check_eq "the supervisor (which restarted the killed process) exits 0" 0 "$?"

# --- a stalled worker (SIGSTOP) loses its lease; its project stays locked until it notices
Q=$(new_queue stall)
start_worker "$Q" 2 GHBRIDGE_JOBS_LEASE_SECONDS=2
id=$("$GHB" jobs enqueue test --queue "$Q" --project 900077 --payload '{"sleep_ms":6000}')
wait_sql 10 "SELECT EXISTS (SELECT 1 FROM job_test_runs WHERE job_id = $id)"
stalled=$(q "SELECT split_part(locked_by, ':', 2) FROM jobs WHERE id = $id")
kill -STOP "$stalled"
# The lease runs out and the job is requeued, but the stalled process's connection still holds
# the project lock, so no other process may start the job meanwhile.
wait_sql 10 "SELECT state = 'queued' FROM jobs WHERE id = $id"
check_match "the stalled worker's job is requeued when its lease expires" "lease expired" "$(q "SELECT last_error FROM jobs WHERE id = $id")"
sleep 1.5
check_eq "while the stalled process holds the project lock, nobody else runs the job" 1 "$(q "SELECT count(*) FROM job_test_runs WHERE job_id = $id")"
kill -CONT "$stalled"
if wait_sql 20 "SELECT state = 'done' FROM jobs WHERE id = $id"; then ok "after the stall the job is done"; else not_ok "after the stall the job is done" "$(q "SELECT state FROM jobs WHERE id = $id")"; fi
check_eq "the resumed worker stopped its run (lease lost) and a fresh run completed the job" "2|2" "$(q "SELECT count(*), count(finished_at) FROM job_test_runs WHERE job_id = $id")"
overlap=$(q "SELECT count(*) FROM job_test_runs a JOIN job_test_runs b ON a.job_id = b.job_id AND a.id < b.id
             WHERE a.job_id = $id AND tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at)")
check_eq "the two runs did not overlap" 0 "$overlap"
stop_worker "$W"
q "DELETE FROM jobs WHERE queue LIKE 't$$-%'" >/dev/null

finish
