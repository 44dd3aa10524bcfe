#!/usr/bin/env bash
# bench/lfs.sh: Git LFS (issue 16): 200 LFS files of 1 MiB and one of 200 MiB synced to fakehub by ghbridge, beside `git lfs push` of the same files.
# Run as `scripts/dev bench lfs` against the dev stack (`scripts/dev up`). Prints `BENCH <name> <value> <unit>` lines and
# appends a section to bench/RESULTS.md. Then the memory run (issue 16): one 1 GiB LFS file (sparse) synced up, linked
# down by a second project, and synced again after its mtime changed, with the worker's peak RSS after each step. The stack's worker is swapped for a fresh one (its peak RSS is this run's) with the
# periodic check off; the stack's own worker is started again at the end. Needs git-lfs, jq, curl.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$ROOT/build}
: "${GHB_URL:?run through scripts/dev bench lfs}" "${FAKEHUB_URL:?fakehub is needed}" "${STACK_VAR:?}"
. "$ROOT/tests/lib.sh"
. "$ROOT/bench/lib.sh"
SMALL=${BENCH_LFS_SMALL:-200}          # files of 1 MiB
BIG_MIB=${BENCH_LFS_BIG_MIB:-200}      # and one of this many MiB
MEM_MIB=${BENCH_LFS_MEM_MIB:-1024}     # then the memory run: one LFS file of this many MiB up, down, touched (0: none)
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=lfsbench$$
W=$(mktemp -d "${TMPDIR:-/tmp}/ghb-bench-lfs.XXXXXX")
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
WPIDF=$STACK_VAR/run/worker.pid
for c in jq git git-lfs curl awk; do command -v $c >/dev/null || { echo "bench/lfs.sh needs $c" >&2; exit 1; }; done
cleanup() { worker_restart; rm -rf "$W"; }
trap cleanup EXIT
worker_restart GHBRIDGE_PROJECT_POLL_SECONDS=0
sleep 1
hwm() {
	local p m=0 v sup
	sup=$(cat "$WPIDF")
	for p in "$sup" $(pgrep -P "$sup" || true); do
		v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
		[ "${v:-0}" -gt "$m" ] && m=$v
	done
	echo "$m"
}

# ---------------------------------------------------------------- the files (random: nothing compresses)
echo "# generating $SMALL files of 1 MiB and one of $BIG_MIB MiB" >&2
mkdir -p "$W/tree/assets"
printf '*.bin filter=lfs diff=lfs merge=lfs -text\n' > "$W/tree/.gitattributes"
(set +o pipefail; openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 \
	-in /dev/zero 2>/dev/null | head -c $((SMALL << 20)) | (cd "$W/tree/assets" && split -b 1M -d -a 4 - img_ --additional-suffix=.bin))
(set +o pipefail; openssl enc -aes-128-ctr -nosalt -K 0f0e0d0c0b0a09080706050403020100 -iv 00000000000000000000000000000000 \
	-in /dev/zero 2>/dev/null | head -c $((BIG_MIB << 20)) > "$W/tree/video.bin")
BYTES=$(du -sb "$W/tree" | cut -f1)

# ---------------------------------------------------------------- accounts, project, two repositories
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\"}"
signin "$W/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name bench --scopes projects:read,projects:write,sync 2>&1 | tail -1)
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
call() { local m=$1 p=$2; shift 2; curl -s -o "$W/body" -w '%{http_code}' --max-time 60 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
call POST /projects -H 'Content-Type: application/json' -d '{"name":"Bench LFS"}' >/dev/null
PID=$(jq -r .id "$W/body")
WS=$(jq -r .workspace "$W/body")
call PATCH "/projects/$PID/settings" -H 'Content-Type: application/json' -d '{"auto_sync":false}' >/dev/null
R1=bench-lfs-ghbridge-$$
R2=bench-lfs-gitcli-$$
call POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"$R1\",\"private\":true}" >/dev/null
curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/user/repos" -d "{\"name\":\"$R2\",\"private\":true}"
wait_connect "$KEY" "$PID" 120 >/dev/null
hist_done() { call GET "/projects/$PID/history?limit=100" >/dev/null; jq -e "[.history[] | select(.job_id == $1 and .status != \"running\")] | length > 0" "$W/body" >/dev/null; }
wait_for 60 bash -c "curl -s -H 'Authorization: Bearer $KEY' '$API/projects/$PID/history' | jq -e '.history | length > 0 and .[0].status != \"running\"' >/dev/null"
export HOME=$W
git lfs install --skip-repo >/dev/null 2>&1
mkdir -p "$W/cli"
git -C "$W/cli" init -q -b main
git -C "$W/cli" remote add origin "${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$R2.git"
cp -a "$W/tree/." "$W/cli/"
cp -a "$W/tree/." "$WS/"
sync

lfs_bytes() { curl -s "$FH/repos/$U/$1/lfs" | jq '[.objects[].size] | add // 0'; }
lfs_count() { curl -s "$FH/repos/$U/$1/lfs" | jq '.objects | length'; }
max_id() { curl -s "$FH/requests?since_id=${1:-0}" | jq '[.[].id] | max // 0'; }
puts() { curl -s "$FH/requests?since_id=$1" | jq --arg r "/$U/$2.git/info/lfs/objects/" '[.[] | select(.method == "PUT" and (.path | startswith($r)))] | length'; }
batches() { curl -s "$FH/requests?since_id=$1" | jq --arg r "/$U/$2.git/info/lfs/objects/batch" '[.[] | select(.path == $r)] | length'; }

# ---------------------------------------------------------------- ghbridge
echo "# ghbridge sync" >&2
rss0=$(hwm)
since=$(max_id)
t0=$(now)
call POST "/projects/$PID/sync" >/dev/null
j=$(jq -r .job_id "$W/body")
wait_for 3600 hist_done "$j" || { echo "the sync did not finish" >&2; exit 1; }
t1=$(now)
row=$(jq -c "[.history[] | select(.job_id == $j)][0]" "$W/body")
[ "$(jq -r .status <<<"$row")" = success ] || { echo "the sync failed: $(jq -r .error <<<"$row")" >&2; exit 1; }
bench lfs_ghbridge_s "$(printf '%.2f' "$(jq -r .duration_s <<<"$row")")" s
bench lfs_ghbridge_wall_s "$(secs "$t0" "$t1")" s
bench lfs_ghbridge_objects "$(lfs_count "$R1")" objects
bench lfs_ghbridge_object_mib "$(awk -v b="$(lfs_bytes "$R1")" 'BEGIN { printf "%.1f", b / 1048576 }')" MiB
bench lfs_ghbridge_puts "$(puts "$since" "$R1")" requests
bench lfs_ghbridge_batches "$(batches "$since" "$R1")" requests
rss1=$(hwm)
bench lfs_worker_rss_before_mib "$(awk -v k="$rss0" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
bench lfs_worker_peak_rss_mib "$(awk -v k="$rss1" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
# A second sync with nothing new: no object goes again.
since=$(max_id)
echo "touched" > "$WS/notes.txt"
call POST "/projects/$PID/sync" >/dev/null
j=$(jq -r .job_id "$W/body")
wait_for 600 hist_done "$j"
bench lfs_ghbridge_resync_puts "$(puts "$since" "$R1")" requests

# ---------------------------------------------------------------- git lfs push
echo "# git lfs push" >&2
since=$(max_id)
sync
t0=$(now)
TIMEF=$W/time.txt
(cd "$W/cli" && git add -A && git -c user.name=bench -c user.email=bench@example.com commit -q -m bench &&
	if command -v /usr/bin/time >/dev/null; then /usr/bin/time -f %M -o "$TIMEF" git push -q origin main 2>/dev/null; else git push -q origin main 2>/dev/null; fi)
t1=$(now)
bench lfs_git_cli_s "$(secs "$t0" "$t1")" s
bench lfs_git_cli_objects "$(lfs_count "$R2")" objects
bench lfs_git_cli_puts "$(puts "$since" "$R2")" requests
bench lfs_git_cli_batches "$(batches "$since" "$R2")" requests
[ -s "$TIMEF" ] && bench lfs_git_cli_peak_rss_mib "$(awk '{ printf "%.1f", $1 / 1024 }' "$TIMEF")" MiB
bench lfs_ratio "$(awk -v a="$(val lfs_ghbridge_s)" -v b="$(val lfs_git_cli_s)" 'BEGIN { printf "%.2f", a / b }')" x

# ---------------------------------------------------------------- memory: one MEM_MIB LFS file up, down, touched
if [ "$MEM_MIB" -gt 0 ]; then
	echo "# memory run: one $MEM_MIB MiB LFS file" >&2
	rm -rf "$WS/assets" "$WS/video.bin"
	call POST "/projects/$PID/sync" >/dev/null
	j=$(jq -r .job_id "$W/body")
	wait_for 600 hist_done "$j"
	worker_restart GHBRIDGE_PROJECT_POLL_SECONDS=0
	sleep 1
	bench lfs_mem_rss_before_mib "$(awk -v k="$(hwm)" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
	truncate -s "${MEM_MIB}M" "$WS/huge.bin"
	t0=$(now)
	call POST "/projects/$PID/sync" >/dev/null
	j=$(jq -r .job_id "$W/body")
	wait_for 3600 hist_done "$j" || { echo "the memory run's sync did not finish" >&2; exit 1; }
	t1=$(now)
	[ "$(jq -r "[.history[] | select(.job_id == $j)][0].status" "$W/body")" = success ] || { echo "the memory run's sync failed" >&2; exit 1; }
	bench lfs_mem_up_s "$(secs "$t0" "$t1")" s
	bench lfs_mem_up_rss_mib "$(awk -v k="$(hwm)" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
	# One repository, one project: the download half links a copy pushed with git lfs (not timed).
	R3=bench-lfs-down-$$
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/user/repos" -d "{\"name\":\"$R3\",\"private\":true}"
	mkdir -p "$W/down"
	git -C "$W/down" init -q -b main
	printf '*.bin filter=lfs diff=lfs merge=lfs -text\n' > "$W/down/.gitattributes"
	truncate -s "${MEM_MIB}M" "$W/down/huge.bin"
	(cd "$W/down" && git add -A && git -c user.name=bench -c user.email=bench@example.com commit -q -m huge &&
		git push -q "${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$R3.git" main 2>/dev/null)
	rm -rf "$W/down"
	call POST /projects -H 'Content-Type: application/json' -d '{"name":"Bench LFS down"}' >/dev/null
	PID2=$(jq -r .id "$W/body")
	WS2=$(jq -r .workspace "$W/body")
	t0=$(now)
	[ "$(call POST "/projects/$PID2/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"link\",\"owner\":\"$U\",\"name\":\"$R3\"}")" = 202 ] ||
		{ echo "linking $R3 failed: $(cat "$W/body")" >&2; exit 1; }
	wait_connect "$KEY" "$PID2" 3600 >/dev/null
	wait_for 3600 bash -c "[ \"\$(stat -c %s '$WS2/huge.bin' 2>/dev/null)\" = $((MEM_MIB << 20)) ]"
	t1=$(now)
	bench lfs_mem_down_s "$(secs "$t0" "$t1")" s
	[ "$(sha256sum < "$WS2/huge.bin")" = "$(sha256sum < "$WS/huge.bin")" ] || { echo "the memory run's download differs" >&2; exit 1; }
	wait_for 600 bash -c "curl -s -H 'Authorization: Bearer $KEY' '$API/projects/$PID2/status' | jq -e '.status != \"PENDING\" and .status != \"SYNCING\"' >/dev/null"
	bench lfs_mem_down_rss_mib "$(awk -v k="$(hwm)" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
	touch -d '-1 hour' "$WS2/huge.bin"
	echo touched > "$WS2/touched.txt"
	t0=$(now)
	call POST "/projects/$PID2/sync" >/dev/null
	j=$(jq -r .job_id "$W/body")
	PIDSAVE=$PID; PID=$PID2
	wait_for 3600 hist_done "$j"
	PID=$PIDSAVE
	t1=$(now)
	bench lfs_mem_touched_s "$(secs "$t0" "$t1")" s
	bench lfs_mem_touched_rss_mib "$(awk -v k="$(hwm)" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
	rm -f "$WS/huge.bin" "$WS2/huge.bin"
fi

LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
{
	echo
	echo "## Git LFS: $SMALL files of 1 MiB and one of $BIG_MIB MiB ($(date -u +%Y-%m-%d), $(nproc) cores, $mem)"
	echo
	echo "Command: \`scripts/dev bench lfs\` against \`scripts/dev up\` (fakehub's LFS server on loopback; nginx sends downloads)."
	echo "Machine: $(uname -srm), $cpu, $(nproc) cores, $mem; load average before the run: $LOAD0, after: $LOAD1."
	echo "Files: random (AES-CTR keystream), $(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1048576 }') MiB under a \`*.bin filter=lfs\` rule, written into the"
	echo "workspace folder and into a copy for \`git add -A && git commit && git push\` with $(git lfs version | cut -d' ' -f1) (its pre-push hook uploads)."
	echo "ghbridge time = the sync's history row (clean: SHA-256 and a copy into .git/lfs/objects; commit; Batch API upload; push)."
	echo
	echo "| metric | ghbridge | git lfs push |"
	echo "|---|---|---|"
	echo "| time (s) | $(val lfs_ghbridge_s) (wall $(val lfs_ghbridge_wall_s)) | $(val lfs_git_cli_s) |"
	echo "| LFS objects on the server | $(val lfs_ghbridge_objects) ($(val lfs_ghbridge_object_mib) MiB) | $(val lfs_git_cli_objects) |"
	echo "| PUT requests (bytes sent = the objects' bytes) | $(val lfs_ghbridge_puts) | $(val lfs_git_cli_puts) |"
	echo "| Batch API requests | $(val lfs_ghbridge_batches) | $(val lfs_git_cli_batches) |"
	echo "| peak RSS (MiB) | worker $(val lfs_worker_peak_rss_mib) (fresh worker before: $(val lfs_worker_rss_before_mib)) | git push $(val lfs_git_cli_peak_rss_mib) |"
	echo
	echo "A second sync with one plain file changed sent $(val lfs_ghbridge_resync_puts) LFS objects. ghbridge / git lfs push: $(val lfs_ratio)."
	if [ "$MEM_MIB" -gt 0 ]; then
		echo
		echo "Memory run: one $MEM_MIB MiB LFS file (sparse), a fresh worker (peak RSS $(val lfs_mem_rss_before_mib) MiB before). Worker peak RSS"
		echo "(VmHWM of the worker and its children) after: the sync that cleans and uploads it $(val lfs_mem_up_rss_mib) MiB ($(val lfs_mem_up_s) s);"
		echo "a second project linking the repository, which downloads it and renames it into place $(val lfs_mem_down_rss_mib) MiB"
		echo "($(val lfs_mem_down_s) s); a sync after its mtime changed, same size (compared by streaming SHA-256)"
		echo "$(val lfs_mem_touched_rss_mib) MiB ($(val lfs_mem_touched_s) s)."
	fi
} >> "$ROOT/bench/RESULTS.md"
echo "# appended to bench/RESULTS.md" >&2
