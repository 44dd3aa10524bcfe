#!/usr/bin/env bash
# tests/ops/test-workers.sh (issue 15): a heartbeat row per worker process (host, pid, started, last seen, the job
# in hand) written at most every ~10 s, shown on /admin, by GET /api/v1/admin/workers and `ghbridge sync status`,
# removed on a clean stop and pruned when stale; GitHub's rate-limit headroom per token class on /admin, the API and
# /metrics; `ghbridge purge --dry-run` printing per table what the retention pass would delete (counts matching the
# rows due, oldest and newest) and deleting nothing.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "worker tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "worker tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
GHB=$BUILD/ghbridge
EXTRA=
cleanup() {
	[ -n "$EXTRA" ] && kill -KILL "$EXTRA" 2>/dev/null
	psql -XAtq -c "DELETE FROM worker_heartbeats WHERE host LIKE 'test-gone-%'" >/dev/null 2>&1
	psql -XAtq -c "DELETE FROM oauth_states WHERE return_to = '/test-workers-$$'" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
FH=$FAKEHUB_URL/_fakehub
API=$GHB_URL/api/v1
U=wk$$
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\"}"
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U-x\"}"
signin "$T/jar" "$U" >/dev/null
q "UPDATE users SET is_admin = true WHERE login = '$U'" >/dev/null
KEY=$("$GHB" apikey create --user "$U" --name workers --scopes projects:read,projects:write,sync,admin 2>&1 | tail -1)
signin "$T/jar-x" "$U-x" >/dev/null
KX=$("$GHB" apikey create --user "$U-x" --name workers --scopes projects:read,admin 2>&1 | tail -1)
HOST=$(hostname)

# ---------------------------------------------------------------- heartbeats
seen() { [ "$(q "SELECT count(*) FROM worker_heartbeats WHERE last_seen_at > now() - interval '1 minute'")" -ge 1 ]; }
check "the stack's worker processes have heartbeat rows" wait_for 20 seen
read -r WHOST WPID < <(q "SELECT host, pid FROM worker_heartbeats WHERE last_seen_at > now() - interval '1 minute' ORDER BY started_at DESC LIMIT 1" | tr '|' ' ')
check_eq "… with this host's name" "$HOST" "$WHOST"
check "… and the pid of a live process" kill -0 "$WPID"
check_eq "… started before it was last seen" t "$(q "SELECT started_at <= last_seen_at FROM worker_heartbeats WHERE host = '$WHOST' AND pid = $WPID")"
# At most one write per ~10 s: sample the row for 12 s.
s0=$(q "SELECT last_seen_at FROM worker_heartbeats WHERE host = '$WHOST' AND pid = $WPID")
: > "$T/beats"
for i in $(seq 24); do q "SELECT last_seen_at FROM worker_heartbeats WHERE host = '$WHOST' AND pid = $WPID" >> "$T/beats"; sleep 0.5; done
nb=$(sort -u "$T/beats" | wc -l)
check_eq "an idle worker beats every ~10 s: 1 to 3 distinct beats in 12 s (saw $nb)" 1 "$([ "$nb" -ge 1 ] && [ "$nb" -le 3 ] && echo 1)"
check_eq "… and does beat while idle (the last seen time moved)" 1 "$([ "$(tail -1 "$T/beats")" != "$s0" ] && echo 1)"

# The job in hand: a test job that runs 14 s is named by its worker's row within ~10 s.
JID=$("$GHB" jobs enqueue test --payload '{"sleep_ms":14000}' --max-attempts 1 2>/dev/null | tail -1)
inhand() { [ "$(q "SELECT count(*) FROM worker_heartbeats WHERE job_id = $JID AND job_kind = 'test'")" = 1 ]; }
check "a worker's row names the job in hand (id and kind) while it runs" wait_for 14 inhand

# Where operators read it.
check_eq "GET /api/v1/admin/workers → 200" 200 "$(curl -s -o "$T/w.json" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$API/admin/workers")"
check_eq "… lists that worker (host, pid, started, last seen)" 1 \
	"$(jq --arg h "$WHOST" --argjson p "$WPID" '[.workers[] | select(.host == $h and .pid == $p and .started_at != "" and .last_seen_at != "" and .seen_ago <= 60)] | length' "$T/w.json")"
check_eq "… with the running job on one of them" 1 "$(jq --argjson j "$JID" '[.workers[] | select(.job_id == $j and .job_kind == "test")] | length' "$T/w.json")"
check_eq "… refused to a non-administrator's admin key → 403" 403 "$(http_status "$API/admin/workers" -H "Authorization: Bearer $KX")"
check_eq "… and to a non-administrator's session → 403" 403 "$(http_status "$API/admin/workers" -b "$T/jar-x")"
page=$(curl -s -b "$T/jar" "$GHB_URL/admin")
check_match "/admin: 'Workers seen in the last minute' with the pid" "Workers seen in the last minute.*>$WPID<" "$(printf '%s' "$page" | tr '\n' ' ')"
check_match "/admin: the job in hand" "#$JID test" "$page"
st=$("$GHB" sync status 2>&1)
check_match "ghbridge sync status: the worker processes" "worker $WHOST:$WPID	started .* UTC	seen [0-9]+s ago" "$st"
check_match "… and how many" "[1-9][0-9]* worker process\(es\) seen in the last minute" "$st"

# Stale rows: not shown past a minute, pruned past ten (by any worker's reap pass).
q "INSERT INTO worker_heartbeats (host, pid, started_at, last_seen_at) VALUES
   ('test-gone-$$', 1, now() - interval '2 hours', now() - interval '5 minutes'),
   ('test-gone-$$', 2, now() - interval '2 hours', now() - interval '1 hour')" >/dev/null
curl -s -H "Authorization: Bearer $KEY" "$API/admin/workers" > "$T/w2.json"
check_eq "a worker not seen for 5 minutes is not listed" 0 "$(jq '[.workers[] | select(.host | startswith("test-gone-"))] | length' "$T/w2.json")"
pruned() { [ "$(q "SELECT count(*) FROM worker_heartbeats WHERE host = 'test-gone-$$' AND pid = 2")" = 0 ]; }
check "a row not seen for an hour is pruned" wait_for 60 pruned
check_eq "… the 5-minute one is kept for now (pruned after 10)" 1 "$(q "SELECT count(*) FROM worker_heartbeats WHERE host = 'test-gone-$$' AND pid = 1")"

# A worker of our own: its row appears, and goes when it stops cleanly.
setsid "$GHB" worker --concurrency 1 > "$T/worker.log" 2>&1 < /dev/null &
EXTRA=$!
CHILD=
mine() { CHILD=$(pgrep -P "$EXTRA" | head -1); [ -n "$CHILD" ] && [ "$(q "SELECT count(*) FROM worker_heartbeats WHERE host = '$HOST' AND pid = $CHILD")" = 1 ]; }
check "a new worker process has its row within seconds" wait_for 20 mine
mine
kill -TERM "$EXTRA"
gone() { [ "$(q "SELECT count(*) FROM worker_heartbeats WHERE host = '$HOST' AND pid = ${CHILD:-0}")" = 0 ]; }
check "… and it is removed when the worker stops cleanly (SIGTERM)" wait_for 30 gone
wait "$EXTRA" 2>/dev/null
EXTRA=

# ---------------------------------------------------------------- GitHub rate-limit headroom per token class
check_eq "refresh the repository list (the worker asks GitHub with the user's OAuth token) → 202" 202 \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $KEY" "$API/github/repos/refresh")"
metric() { curl -s "$GHB_URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
has_headroom() { [ -n "$(metric 'ghbridge_github_ratelimit_remaining_window_min{token_class="oauth_user"}')" ]; }
check "/metrics: lowest remaining in the current window for OAuth user tokens" wait_for 30 has_headroom
rem=$(metric 'ghbridge_github_ratelimit_remaining_window_min{token_class="oauth_user"}')
reset=$(metric 'ghbridge_github_ratelimit_window_reset_seconds{token_class="oauth_user"}')
check_eq "… a number of requests GitHub allows (0..5000): $rem" 1 "$([ "$rem" -ge 0 ] && [ "$rem" -le 5000 ] && echo 1)"
check_eq "… whose window ends within the hour" 1 "$([ "$reset" -gt "$(date +%s)" ] && [ "$reset" -le $(( $(date +%s) + 3700 )) ] && echo 1)"
check_eq "… no class that was not used (installation tokens)" "" "$(metric 'ghbridge_github_ratelimit_remaining_window_min{token_class="installation"}')"
if command -v python3 >/dev/null; then
	check "/metrics still parses as Prometheus text" sh -c "curl -s '$GHB_URL/metrics' | python3 '$ROOT/tests/ops/promparse.py'"
fi
curl -s -H "Authorization: Bearer $KEY" "$API/admin/workers" > "$T/w3.json"
check_eq "the admin API gives the same headroom" "$rem" \
	"$(jq -r '[.github_ratelimits[] | select(.class == "oauth_user")][0].remaining' "$T/w3.json")"
page=$(curl -s -b "$T/jar" "$GHB_URL/admin" | tr '\n' ' ')
check_match "/admin: GitHub rate-limit headroom, oauth_user, the lowest remaining" "rate-limit headroom.*oauth_user</td><td[^>]*>$rem<" "$page"

# ---------------------------------------------------------------- purge --dry-run
help=$("$GHB" purge --help)
check_match "ghbridge purge --help explains --dry-run" "--dry-run +print per table how many rows it would delete" "$help"
check_match "… and the settings" "jobs_keep_days.*history_keep_days.*audit_keep_days" "$(printf '%s' "$help" | tr '\n' ' ')"
check_match "ghbridge sync --help too" "purge \[--dry-run\]" "$("$GHB" sync --help)"
check_eq "an unknown option → exit 2" 2 "$("$GHB" purge --everything >/dev/null 2>&1; echo $?)"
check_eq "--dry-run with another subcommand → exit 2" 2 "$("$GHB" sync status --dry-run >/dev/null 2>&1; echo $?)"
# Rows due for deletion in three tables, marked as ours.
q "INSERT INTO oauth_states (state_hash, presession_hash, verifier_sealed, return_to, created_at, expires_at)
   SELECT 'tw$$-' || g, 'x', 'x', '/test-workers-$$', now() - interval '3 days' - g * interval '1 hour', now() - interval '2 days'
   FROM generate_series(1, 3) g" >/dev/null
q "INSERT INTO audit_events (at, actor_type, action, details) SELECT now() - interval '5000 days' - g * interval '1 day', 'system',
   'test.workers_old', '{\"run\":$$}' FROM generate_series(1, 4) g" >/dev/null
q "INSERT INTO jobs (kind, state, finished_at, payload) SELECT 'noop', 'done', now() - interval '400 days', '{\"test_workers\":$$}'
   FROM generate_series(1, 2)" >/dev/null 2>&1 || true
# Rows present before the dry run, by id: a worker left running by an earlier suite, or the periodic drift
# check, may add rows meanwhile (a whole-table count once went 48 → 49 in jobs), but none of these may go.
ids=$(q "SELECT (SELECT coalesce(max(id), 0) FROM audit_events) || ' ' || (SELECT coalesce(max(id), 0) FROM jobs) || ' ' ||
	(SELECT coalesce(max(id), 0) FROM sessions) || ' ' || (SELECT coalesce(max(id), 0) FROM sync_history) || ' ' ||
	(SELECT coalesce(max(id), 0) FROM webhook_deliveries)")
read -r ma mj ms mh mw <<< "$ids"
counts() {
	q "SELECT (SELECT count(*) FROM oauth_states) || ' ' || (SELECT count(*) FROM audit_events WHERE id <= $ma) || ' ' ||
	          (SELECT count(*) FROM jobs WHERE id <= $mj) || ' ' || (SELECT count(*) FROM sessions WHERE id <= $ms) || ' ' ||
	          (SELECT count(*) FROM sync_history WHERE id <= $mh) || ' ' || (SELECT count(*) FROM webhook_deliveries WHERE id <= $mw)"
}
before=$(counts)
out=$("$GHB" purge --dry-run)
due_states=$(q "SELECT count(*) FROM oauth_states WHERE expires_at < now()")
due_audit=$(q "SELECT count(*) FROM audit_events WHERE at < now() - make_interval(days => coalesce(nullif('${GHBRIDGE_AUDIT_KEEP_DAYS:-}', ''), '400')::int)")
after=$(counts)
check_eq "purge --dry-run deletes nothing (rows in every table the same)" "$before" "$after"
check_match "… says it is a dry run" "^dry run: nothing is deleted" "$out"
row() { printf '%s\n' "$out" | awk -v t="$1" '$1 == t'; }
check_eq "… oauth_states: the count of expired states" "$due_states" "$(row oauth_states | awk '{print $2}')"
check_match "… with the oldest and newest (UTC) of them" "^oauth_states +[0-9]+ +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +expired$" "$(row oauth_states)"
check_eq "… audit_events: the count of rows past audit_keep_days" "$due_audit" "$(row audit_events | awk '{print $2}')"
oldest_audit=$(q "SELECT to_char(min(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM audit_events")
check_eq "… and its oldest is the oldest audit row" "$oldest_audit" "$(row audit_events | awk '{print $3 " " $4}')"
for t in jobs sync_history webhook_deliveries sessions; do
	check_match "… a line for $t" "^$t +([0-9]+|-) " "$(row $t)"
done
total=$(printf '%s\n' "$out" | sed -n 's/^would delete \([0-9]*\) row(s)$/\1/p')
sum=$(printf '%s\n' "$out" | awk 'NR > 2 && $2 ~ /^[0-9]+$/ {s += $2} END {print s + 0}')
check_eq "… and the total is their sum" "$sum" "$total"
check_eq "ghbridge sync purge --dry-run prints the same counts" "$(printf '%s\n' "$out" | awk '{print $1, $2}')" \
	"$("$GHB" sync purge --dry-run | awk '{print $1, $2}')"
check_eq "our rows are all still there" "3 4" \
	"$(q "SELECT count(*) FROM oauth_states WHERE return_to = '/test-workers-$$'") $(q "SELECT count(*) FROM audit_events WHERE action = 'test.workers_old' AND details->>'run' = '$$'")"
check_eq "a real purge then deletes what the dry run counted in oauth_states" "deleted 0" \
	"$("$GHB" purge >/dev/null; echo "deleted $(q "SELECT count(*) FROM oauth_states WHERE return_to = '/test-workers-$$'")")"
finish
