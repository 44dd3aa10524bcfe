#!/usr/bin/env bash
# tests/ops/test-metrics.sh: GET /metrics through nginx: refused to an address not in metrics_allow without the
# token (a second fcgi pool behind its own nginx, configured so), served with the bearer token (compared in
# constant time); the text parses as Prometheus format 0.0.4 (tests/ops/promparse.py); the counters of two
# fcgi pools (four processes) add up in one scrape; job, webhook and queue figures move as work happens.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v python3 >/dev/null; then skip "metrics tests" "python3 is not installed"; finish; exit; fi
if [ -z "${STACK_VAR:-}" ]; then skip "metrics tests" "no test stack"; finish; exit; fi

T=$(mktemp -d)
GHB=$BUILD/ghbridge
TOKEN=mt-$(openssl rand -hex 16)
M2_PORT=$((GHB_PORT + 6))
M2_VAR=$STACK_VAR/metrics2
M2_URL=http://127.0.0.1:$M2_PORT
parse() { python3 "$ROOT/tests/ops/promparse.py"; }
# sample FILE 'name{labels}': the value of one series, or 0 when absent.
sample() { awk -v k="$2" 'index($0, k " ") == 1 { print $NF; f = 1 } END { if (!f) print 0 }' "$1"; }

# A second fcgi pool (2 processes) on the same database and data folder, behind its own nginx (tests/lib.sh
# host_start), with metrics_allow set to an address no test request comes from and a token.
m2_start() {
	host_start "$M2_VAR" "$M2_PORT" fcgi GHBRIDGE_PROCESSES=2 GHBRIDGE_METRICS_ALLOW="192.0.2.7" GHBRIDGE_METRICS_TOKEN="$TOKEN"
}
m2_stop() { host_stop "$M2_VAR"; }
trap 'm2_stop; rm -rf "$T"' EXIT

if ! m2_start; then not_ok "a second fcgi pool starts" "$(tail -5 "$M2_VAR/log/"*.log 2>/dev/null | tr '\n' ' ')"; finish; exit; fi
ok "a second fcgi pool starts"

# ---------------------------------------------------------------- who may read it
check_eq "the stack's own /metrics from 127.0.0.1 (metrics_allow default) → 200" 200 "$(http_status "$GHB_URL/metrics")"
check_eq "not an allowed address, no token → 403" 403 "$(http_status "$M2_URL/metrics")"
check_eq "a wrong token → 403" 403 "$(http_status "$M2_URL/metrics" -H "Authorization: Bearer ${TOKEN}x")"
check_eq "a prefix of the token → 403" 403 "$(http_status "$M2_URL/metrics" -H "Authorization: Bearer ${TOKEN%?}")"
check_eq "the token as Basic → 403" 403 "$(http_status "$M2_URL/metrics" -H "Authorization: Basic $TOKEN")"
check_eq "a forged X-Forwarded-For does not help → 403" 403 "$(http_status "$M2_URL/metrics" -H 'X-Forwarded-For: 192.0.2.7' -H 'X-Real-IP: 192.0.2.7')"
check_eq "the token → 200" 200 "$(http_status "$M2_URL/metrics" -H "Authorization: Bearer $TOKEN")"
ct=$(curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $TOKEN" "$M2_URL/metrics")
check_eq "Content-Type of format 0.0.4" "text/plain; version=0.0.4; charset=utf-8" "$ct"
if curl -s "$M2_URL/metrics" | grep -q '^ghbridge_'; then not_ok "a refused scrape shows no figures"; else ok "a refused scrape shows no figures"; fi

# ---------------------------------------------------------------- the format
curl -s -H "Authorization: Bearer $TOKEN" "$M2_URL/metrics" > "$T/m0"
check_match "it parses as Prometheus text format" '^ok [0-9]+' "$(parse < "$T/m0")"
check "the parser refuses a bad escape" sh -c "! printf '# TYPE a counter\na{x=\"\\\\q\"} 1\n' | python3 '$ROOT/tests/ops/promparse.py' >/dev/null"
check "the parser refuses a bad name" sh -c "! printf '# TYPE 9a counter\n9a 1\n' | python3 '$ROOT/tests/ops/promparse.py' >/dev/null"
for fam in ghbridge_http_requests_total ghbridge_http_request_duration_seconds ghbridge_jobs_finished_total ghbridge_syncs_total \
	ghbridge_github_requests_total ghbridge_github_ratelimit_remaining_min ghbridge_webhook_deliveries_total ghbridge_db_errors_total \
	ghbridge_db_reconnects_total ghbridge_process_resident_memory_bytes ghbridge_jobs ghbridge_jobs_queue_depth \
	ghbridge_jobs_oldest_queued_age_seconds ghbridge_sync_paused ghbridge_sync_files_pushed_total ghbridge_sync_bytes_pushed_total; do
	check_match "family $fam has a TYPE" "^# TYPE $fam (counter|gauge|histogram)\$" "$(grep "^# TYPE $fam " "$T/m0")"
done
check_match "RSS of each live process" '^ghbridge_process_resident_memory_bytes\{pid="[0-9]+"\} [1-9][0-9]+$' "$(grep '^ghbridge_process_resident_memory_bytes{' "$T/m0" | head -1)"

# ---------------------------------------------------------------- two fcgi pools add up in one scrape
K='ghbridge_http_requests_total{route="GET /healthz",status="200"}'
a0=$(sample "$T/m0" "$K")
for i in $(seq 1 20); do curl -s -o /dev/null "$GHB_URL/healthz"; curl -s -o /dev/null "$M2_URL/healthz"; done
curl -s "$GHB_URL/metrics" > "$T/m1"
curl -s -H "Authorization: Bearer $TOKEN" "$M2_URL/metrics" > "$T/m2"
check_eq "40 requests to two pools: +40 in a scrape of the first" "$((a0 + 40))" "$(sample "$T/m1" "$K")"
check_eq "… and the same total in a scrape of the second" "$(sample "$T/m1" "$K")" "$(sample "$T/m2" "$K")"
check_match "at least four processes counted (two pools of two, and more)" '^([4-9]|[1-9][0-9]+)$' "$(sample "$T/m2" ghbridge_processes)"
n404=$(sample "$T/m2" 'ghbridge_http_requests_total{route="unmatched",status="404"}')
curl -s -o /dev/null "$M2_URL/no/such/page"
curl -s -H "Authorization: Bearer $TOKEN" "$M2_URL/metrics" > "$T/m3"
check_eq "an unmatched address counts as route unmatched, 404" "$((n404 + 1))" "$(sample "$T/m3" 'ghbridge_http_requests_total{route="unmatched",status="404"}')"
check_match "the latency histogram counts them" '^[0-9]+$' "$(sample "$T/m3" ghbridge_http_request_duration_seconds_count)"

# ---------------------------------------------------------------- work moves the counters
J='ghbridge_jobs_finished_total{kind="noop",outcome="done"}'
j0=$(sample "$T/m3" "$J")
for i in 1 2 3; do "$GHB" jobs enqueue noop >/dev/null; done
wait_for 20 sh -c "[ \$(curl -s '$GHB_URL/metrics' | awk -v k='$J' 'index(\$0, k \" \") == 1 { print \$NF }') -ge $((j0 + 3)) ] 2>/dev/null"
curl -s "$GHB_URL/metrics" > "$T/m4"
check_eq "three noop jobs run by the worker: +3 done" "$((j0 + 3))" "$(sample "$T/m4" "$J")"
check_match "… with durations in the kind's histogram" '^[1-9]' "$(sample "$T/m4" 'ghbridge_job_duration_seconds_count{kind="noop"}')"
h0=$(sample "$T/m4" 'ghbridge_webhook_deliveries_total{outcome="bad_signature"}')
curl -s -o /dev/null -X POST "$M2_URL/webhooks/github" -H 'Content-Type: application/json' -H 'X-GitHub-Event: ping' \
	-H 'X-GitHub-Delivery: metrics-1' -H "X-Hub-Signature-256: sha256=$(printf '0%.0s' $(seq 64))" -d '{}'
curl -s "$GHB_URL/metrics" > "$T/m5"
check_eq "a webhook with a bad signature: bad_signature +1" "$((h0 + 1))" "$(sample "$T/m5" 'ghbridge_webhook_deliveries_total{outcome="bad_signature"}')"
q0=$(sample "$T/m5" ghbridge_jobs_queue_depth)
Q=metrics-$$
"$GHB" jobs enqueue noop --queue "$Q" >/dev/null; "$GHB" jobs enqueue noop --queue "$Q" >/dev/null
curl -s "$GHB_URL/metrics" > "$T/m6"
check_eq "queue depth from PostgreSQL at scrape time: +2" "$((q0 + 2))" "$(sample "$T/m6" ghbridge_jobs_queue_depth)"
check_eq "jobs by queue, kind and state" 2 "$(sample "$T/m6" "ghbridge_jobs{queue=\"$Q\",kind=\"noop\",state=\"queued\"}")"
psql -XAtq -c "DELETE FROM jobs WHERE queue = '$Q'" >/dev/null
check_match "the whole scrape still parses" '^ok [0-9]+' "$(parse < "$T/m6")"

finish
