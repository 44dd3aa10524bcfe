#!/usr/bin/env bash
# tests/ops/test-worker-memory.sh: a worker's memory does not grow with every sync, and a workspace's git config
# cannot send a fetch or push elsewhere. Both come from how git/workspace.c makes its remote: libgit2 1.5's
# git_remote_create_anonymous applies url.<base>.insteadOf / pushInsteadOf (git-config(1)) through a regex walk
# of the config that leaks PCRE2 match data on every entry that does not match (~0.35 MiB a sync; 184 MiB per
# worker process after the 1,000-project bench); remote_for_url skips insteadOf, so neither happens.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "worker memory" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "worker memory" "fakehub is not running"; finish; exit; fi
if [ -z "${STACK_VAR:-}" ] || [ ! -f "$STACK_VAR/run/worker.pid" ]; then skip "worker memory" "no stack worker to swap"; finish; exit; fi

T=$(mktemp -d)
FH=$FAKEHUB_URL/_fakehub
API=$GHB_URL/api/v1
U=wmem$$
REPO=wmem-$U
WARM=5      # syncs before the first measurement (allocator arenas, libgit2's caches)
SYNCS=30    # syncs measured: with the leak, about 10 MiB
ORIG=$(readlink "/proc/$(cat "$STACK_VAR/run/worker.pid")/exe" 2>/dev/null || true)
trap 'stack_worker_restart "$ORIG"; rm -rf "$T"' EXIT

curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"Worker Memory\"}" >/dev/null
signin "$T/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name wmem --scopes projects:read,projects:write,sync 2>&1 | tail -1)
check_match "an API key for this test's user" '^ghb_' "$KEY"
api() { local m=$1 p=$2; shift 2; curl -s --max-time 30 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
put() { printf '%s' "$2" | curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X PUT -H "Authorization: Bearer $KEY" \
	-H 'Content-Type: application/octet-stream' --data-binary @- "$API/projects/$ID/files/$1"; }
pushed() { psql -XAtq -c "SELECT count(*) FROM sync_history WHERE project_id = $ID AND status = 'success' AND files_changed > 0"; }
on_github() { git --git-dir="$STACK_VAR/fakehub/repos/$U/$REPO.git" show "HEAD:$1" 2>/dev/null; }
# sync_one PATH CONTENT: writes it and waits until a sync has pushed it (30 s at most).
sync_one() {
	local n s
	n=$(pushed)
	s=$(put "$1" "$2")
	case $s in 2??) ;; *) return 1 ;; esac
	wait_for 30 sh -c "[ \$(psql -XAtq -c \"SELECT count(*) FROM sync_history WHERE project_id = $ID AND status = 'success' AND files_changed > 0\") -gt $n ]"
}

ID=$(api POST /projects -H 'Content-Type: application/json' -d '{"name":"worker memory"}' | jq -r '.id // empty')
check_match "a project" '^[0-9]+$' "$ID"
put README.md "memory" >/dev/null
api POST "/projects/$ID/repository" -o /dev/null -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"$REPO\"}"
check_eq "connected (repository created, first sync)" done "$(wait_connect "$KEY" "$ID" 60)"
WS=$(api GET "/projects/$ID" | jq -r .workspace)

# ---------------------------------------------------------------- insteadOf in the workspace's config
# A config rule pointing GitHub's address at a dead one (it could as well point at a host that collects tokens).
git config -f "$WS/.git/config" "url.http://127.0.0.1:9/.insteadOf" "$FAKEHUB_URL/"
git config -f "$WS/.git/config" "url.http://127.0.0.1:9/.pushInsteadOf" "$FAKEHUB_URL/"
if sync_one docs/insteadof.md "not redirected"; then ok "a sync pushes to GitHub's address despite url.<base>.insteadOf / pushInsteadOf"
else not_ok "a sync pushes to GitHub's address despite url.<base>.insteadOf / pushInsteadOf" "$(api GET "/projects/$ID" | jq -c '{status, last_error}')"; fi
check_eq "… and the file is on GitHub" "not redirected" "$(on_github docs/insteadof.md)"
git config -f "$WS/.git/config" --remove-section "url.http://127.0.0.1:9/" 2>/dev/null

# ---------------------------------------------------------------- memory over many syncs
# One release-build worker process (ASan's allocator would hide the figure), so every sync is its.
stack_worker_restart "$BUILD/ghbridge" GHBRIDGE_WORKER_CONCURRENCY=1
wait_for 10 sh -c "pgrep -P \$(cat '$STACK_VAR/run/worker.pid') >/dev/null"
CHILD=$(pgrep -P "$(cat "$STACK_VAR/run/worker.pid")" | head -1)
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$CHILD/status" 2>/dev/null || echo 0; }
bad=0
for i in $(seq 1 $WARM); do sync_one docs/warm.md "warm $i" || bad=$((bad + 1)); done
r0=$(rss)
for i in $(seq 1 $SYNCS); do sync_one docs/many.md "sync $i" || bad=$((bad + 1)); done
r1=$(rss)
check_eq "$((WARM + SYNCS)) syncs, each pushed" 0 "$bad"
check_eq "… the last one's content is on GitHub" "sync $SYNCS" "$(on_github docs/many.md)"
check_eq "the same worker process ran them all" "$CHILD" "$(pgrep -P "$(cat "$STACK_VAR/run/worker.pid")" | head -1)"
grow=$((r1 - r0))
if [ "$r0" -gt 0 ] && [ "$grow" -lt 3072 ]; then ok "worker RSS grew by less than 3 MiB over $SYNCS syncs (${r0} → ${r1} kB)"
else not_ok "worker RSS grew by less than 3 MiB over $SYNCS syncs" "${r0} → ${r1} kB (+${grow} kB)"; fi

api DELETE "/projects/$ID" -o /dev/null
finish
