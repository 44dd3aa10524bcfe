#!/usr/bin/env bash
# bench/sync.sh: a 10,000-file (~100 MB) project synced to fakehub by ghbridge, beside the git CLI on a copy of the same tree.
# Run as `scripts/dev bench sync` against the dev stack (`scripts/dev up`). Prints `BENCH <name> <value> <unit>`
# lines and appends a section to bench/RESULTS.md. For the run, the stack's worker is swapped for one with the
# periodic check off (its requests would mix into the counts) and fresh processes (so their peak RSS is this
# run's); the stack's own worker is started again at the end.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$ROOT/build}
: "${GHB_URL:?run through scripts/dev bench sync}" "${FAKEHUB_URL:?fakehub is needed}" "${STACK_VAR:?}"
. "$ROOT/tests/lib.sh"
. "$ROOT/bench/lib.sh"
FILES=${BENCH_SYNC_FILES:-10000}
BIN_FILES=$((FILES / 5))                 # a fifth binary (incompressible), the rest text
BIN_SIZE=${BENCH_SYNC_BIN_SIZE:-16384}
TEXT_AVG=${BENCH_SYNC_TEXT_AVG:-8600}    # ~100 MB in all with the defaults
CHANGED=10
REPEAT=${BENCH_SYNC_REPEAT:-5}           # more "10 files" rounds after the first, for a median (0: none)
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=bench$$
W=$(mktemp -d "${TMPDIR:-/tmp}/ghb-bench-sync.XXXXXX")
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
WPIDF=$STACK_VAR/run/worker.pid
for c in jq git curl openssl awk; do command -v $c >/dev/null || { echo "bench/sync.sh needs $c" >&2; exit 1; }; done
curl -sf -o /dev/null "$FAKEHUB_URL/api/v3/rate_limit" || { echo "fakehub is not running (scripts/dev up without GitHub credentials)" >&2; exit 1; }


cleanup() { worker_restart; rm -rf "$W"; }
trap cleanup EXIT
worker_restart GHBRIDGE_PROJECT_POLL_SECONDS=0
sleep 1

# ---------------------------------------------------------------- the tree
echo "# generating $FILES files" >&2
mkdir -p "$W/tree"
(cd "$W/tree" && for d in $(seq 0 99); do mkdir -p "pages/$d"; done && for d in $(seq 0 19); do mkdir -p "assets/$d"; done)
awk -v n=$((FILES - BIN_FILES)) -v avg="$TEXT_AVG" -v root="$W/tree" 'BEGIN {
	srand(42)
	split("the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will more can out about up into them some could time than other what may only new its also", words, " ")
	for (i = 0; i < n; i++) {
		f = root "/pages/" (i % 100) "/page" i ".md"
		target = int(avg * (0.5 + rand())); size = 0
		printf "# Page %d\n\n", i > f
		while (size < target) {
			line = ""
			for (k = 0; k < 12; k++) line = line words[int(rand() * 50) + 1] " "
			line = line int(rand() * 100000)
			print line > f
			size += length(line) + 1
		}
		close(f)
	}
}'
# A keystream is random enough to defeat compression and the same in every run; head ends it (SIGPIPE).
(set +o pipefail; openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 \
	-in /dev/zero 2>/dev/null | head -c $((BIN_FILES * BIN_SIZE)) | (cd "$W/tree/assets" && split -b "$BIN_SIZE" -d -a 5 - bin_))
(cd "$W/tree/assets" && for f in bin_*; do n=$((10#${f#bin_})); mv "$f" "$((n % 20))/blob$n.bin"; done)
NFILES=$(find "$W/tree" -type f | wc -l)
BYTES=$(du -sb "$W/tree" | cut -f1)
MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "# $NFILES files, $MB MiB" >&2

# ---------------------------------------------------------------- the accounts, the project, the two repositories
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\"}"
signin "$W/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name bench --scopes projects:read,projects:write,sync 2>&1 | tail -1)
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
call() { local m=$1 p=$2; shift 2; curl -s -o "$W/body" -w '%{http_code}' --max-time 60 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
call POST /projects -H 'Content-Type: application/json' -d '{"name":"Bench 10k"}' >/dev/null
PID=$(jq -r .id "$W/body")
WS=$(jq -r .workspace "$W/body")
call PATCH "/projects/$PID/settings" -H 'Content-Type: application/json' -d '{"auto_sync":false}' >/dev/null
R1=bench-ghbridge-$$
R2=bench-gitcli-$$
call POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"$R1\",\"private\":true}" >/dev/null
curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/user/repos" -d "{\"name\":\"$R2\",\"private\":true}"
hist_done() { call GET "/projects/$PID/history?limit=100" >/dev/null; jq -e "[.history[] | select(.job_id == $1 and .status != \"running\" and .status != \"error\")] | length > 0" "$W/body" >/dev/null; }
wait_for 60 bash -c "curl -s -H 'Authorization: Bearer $KEY' '$API/projects/$PID/history' | jq -e '.history | length > 0 and .[0].status != \"running\"' >/dev/null"
# The webhook (registered when a public URL is set) would add GitHub-side deliveries to the counts.
hooks() { curl -s -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/repos/$U/$R1/hooks" | jq -r '.[].id' 2>/dev/null; }
for i in $(seq 1 50); do [ -n "$(hooks)" ] && break; sleep 0.2; done
for h in $(curl -s -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/repos/$U/$R1/hooks" | jq -r '.[].id' 2>/dev/null); do
	curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/repos/$U/$R1/hooks/$h"
done

mkdir -p "$W/cli"
git -C "$W/cli" init -q -b main
git -C "$W/cli" remote add origin "${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$R2.git"
cp -a "$W/tree/." "$W/cli/"
cp -a "$W/tree/." "$WS/"
sync "$WS"

# ---------------------------------------------------------------- one ghbridge sync, one git CLI push
max_id() { curl -s "$FH/requests?since_id=${1:-0}" | jq '[.[].id] | max // 0'; }
# ghbridge_sync NAME: POST /sync, waits for the job's history row; BENCH lines for time and requests.
ghbridge_sync() {
	local name=$1 since t0 t1 j row
	since=$(max_id)
	sync # the disk's write-back of the last step (hundreds of MB after a first sync) is nobody's time
	t0=$(now)
	call POST "/projects/$PID/sync" >/dev/null
	j=$(jq -r .job_id "$W/body")
	wait_for 1800 hist_done "$j" || { echo "sync $name did not finish" >&2; exit 1; }
	t1=$(now)
	row=$(jq -c "[.history[] | select(.job_id == $j)][0]" "$W/body")
	bench "sync_${name}_ghbridge_s" "$(printf '%.2f' "$(jq -r .duration_s <<<"$row")")" s
	bench "sync_${name}_ghbridge_wall_s" "$(secs "$t0" "$t1")" s
	bench "sync_${name}_files" "$(jq -r .files_changed <<<"$row")" files
	curl -s "$FH/requests?since_id=$since" | jq --arg r "/$U/$R1" '[.[] | select(.path | contains($r))]' > "$W/req.json"
	bench "sync_${name}_requests_git" "$(jq '[.[] | select(.path | test("/info/refs$|/git-(upload|receive)-pack$"))] | length' "$W/req.json")" requests
	bench "sync_${name}_requests_rest_reads" "$(jq '[.[] | select((.path | startswith("/api/")) and .method == "GET")] | length' "$W/req.json")" requests
	bench "sync_${name}_requests_rest_writes" "$(jq '[.[] | select((.path | startswith("/api/")) and .method != "GET")] | length' "$W/req.json")" requests
	bench "sync_${name}_requests_pushes" "$(jq '[.[] | select(.path | endswith("/git-receive-pack"))] | length' "$W/req.json")" requests
	GHB_S=$(jq -r .duration_s <<<"$row")
}
# After the first commit (10,000 loose objects) git starts `git gc --auto` in the background; packing
# 100 MB takes the machine's cores for a while, and the next measurements (ghbridge's first of all)
# would pay for it. Git's packed copy is kept (that is what git users get); its packing is waited for.
wait_git_gc() {
	local i p busy
	sleep 0.5
	for i in $(seq 1 3000); do
		busy=
		[ -e "$W/cli/.git/gc.pid" ] && busy=1
		for p in $(pgrep -x git || true); do
			case $(readlink "/proc/$p/cwd" 2>/dev/null) in "$W/cli"*) busy=1 ;; esac
		done
		[ -z "$busy" ] && return 0
		sleep 0.2
	done
}
cli_push() {
	local name=$1 t0 t1
	sync
	t0=$(now)
	(cd "$W/cli" && git add -A && git -c user.name=bench -c user.email=bench@example.com commit -q -m "bench $name" && git push -q origin main 2>/dev/null)
	t1=$(now)
	CLI_S=$(secs "$t0" "$t1")
	wait_git_gc
	bench "sync_${name}_git_cli_s" "$CLI_S" s
	bench "sync_${name}_ratio" "$(awk -v a="$GHB_S" -v b="$CLI_S" 'BEGIN { printf "%.2f", a / b }')" "x"
}

echo "# first sync" >&2
ghbridge_sync first
cli_push first
rm -rf "$W/c" && git clone -q "${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$R1.git" "$W/c" 2>/dev/null
check_files=$( (cd "$W/c" && git ls-files | wc -l) )
[ "$check_files" = "$NFILES" ] || echo "# WARNING: the clone has $check_files files, expected $NFILES" >&2
rm -rf "$W/c"

echo "# $CHANGED files changed" >&2
for i in $(seq 0 $((CHANGED - 1))); do
	f=pages/$((i * 7 % 100))/page$((i * 797)).md
	printf 'changed in the benchmark, %d\n' "$i" >> "$WS/$f"
	printf 'changed in the benchmark, %d\n' "$i" >> "$W/cli/$f"
done
ghbridge_sync changed10
cli_push changed10

# One round of 10 files is a few tenths of a second on a shared machine: a median of more rounds says more.
if [ "$REPEAT" -gt 0 ]; then
	echo "# $REPEAT more rounds of $CHANGED files" >&2
	GR=() CR=()
	for r in $(seq 1 "$REPEAT"); do
		for i in $(seq 0 $((CHANGED - 1))); do
			f=pages/$(((i * 7 + r * 3) % 100))/page$((i * 797 + r * 100003)).md
			printf 'round %d, %d\n' "$r" "$i" >> "$WS/$f"
			printf 'round %d, %d\n' "$r" "$i" >> "$W/cli/$f"
		done
		ghbridge_sync "round$r" > /dev/null
		cli_push "round$r" > /dev/null
		GR+=("$GHB_S") CR+=("$CLI_S")
	done
	median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
	bench sync_rounds_ghbridge_median_s "$(median "${GR[@]}")" s
	bench sync_rounds_git_cli_median_s "$(median "${CR[@]}")" s
	bench sync_rounds_ratio "$(awk -v a="$(val sync_rounds_ghbridge_median_s)" -v b="$(val sync_rounds_git_cli_median_s)" 'BEGIN { printf "%.2f", a / b }')" x
	ROUNDS="ghbridge $(printf '%.2f ' "${GR[@]}")/ git CLI $(printf '%.2f ' "${CR[@]}")"
fi

echo "# no change" >&2
ghbridge_sync nochange

# ---------------------------------------------------------------- the worker's peak memory
peak=0
sup=$(cat "$WPIDF")
for p in "$sup" $(pgrep -P "$sup" || true); do
	kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
	[ "${kb:-0}" -gt "$peak" ] && peak=$kb
done
bench worker_peak_rss_mib "$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')" MiB

# ---------------------------------------------------------------- bench/RESULTS.md
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "met" : "missed" }'; }
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
{
	echo
	echo "## Sync: $NFILES files, $MB MiB ($(date -u +%Y-%m-%d), $(nproc) cores, $mem)"
	echo
	echo "Command: \`scripts/dev bench sync\` against \`GHBRIDGE_PORT=${GHB_URL##*:} scripts/dev up\` (fakehub on loopback)."
	echo "Machine: $(uname -srm), $cpu, $(nproc) cores, $mem; load average before the run: $LOAD0, after: $LOAD1."
	echo "Tree: $((NFILES - BIN_FILES)) Markdown files (~$TEXT_AVG bytes, words) and $BIN_FILES random binary files of $BIN_SIZE bytes,"
	echo "written straight into the workspace folder and into a copy for the git CLI ($(git --version | cut -d' ' -f3))."
	echo "ghbridge time = the sync's history row (job start to finish: fetch, stage, commit, push, database);"
	echo "wall = from \`POST /sync\` until the API shows the row finished (adds queue wake-up and 0.2 s polling)."
	echo "git CLI = \`git add -A && git commit && git push\` in the copy. Requests = fakehub's request log for the repository."
	echo
	echo "| metric | first sync | 10 files changed | no change | target |"
	echo "|---|---|---|---|---|"
	echo "| ghbridge (s) | $(val sync_first_ghbridge_s) | $(val sync_changed10_ghbridge_s) | $(val sync_nochange_ghbridge_s) | |"
	echo "| ghbridge wall (s) | $(val sync_first_ghbridge_wall_s) | $(val sync_changed10_ghbridge_wall_s) | $(val sync_nochange_ghbridge_wall_s) | |"
	echo "| git CLI (s) | $(val sync_first_git_cli_s) | $(val sync_changed10_git_cli_s) | | |"
	echo "| ghbridge / git CLI | $(val sync_first_ratio) ($(verdict "$(val sync_first_ratio)" 1.0)) | $(val sync_changed10_ratio) ($(verdict "$(val sync_changed10_ratio)" 1.0)) | | ≤ 1.0 |"
	echo "| files in the commit | $(val sync_first_files) | $(val sync_changed10_files) | $(val sync_nochange_files) | |"
	echo "| git requests | $(val sync_first_requests_git) | $(val sync_changed10_requests_git) | $(val sync_nochange_requests_git) | |"
	echo "| of which pushes | $(val sync_first_requests_pushes) | $(val sync_changed10_requests_pushes) | $(val sync_nochange_requests_pushes) | 1, 1, 0 |"
	echo "| REST reads | $(val sync_first_requests_rest_reads) | $(val sync_changed10_requests_rest_reads) | $(val sync_nochange_requests_rest_reads) | |"
	echo "| REST writes | $(val sync_first_requests_rest_writes) | $(val sync_changed10_requests_rest_writes) | $(val sync_nochange_requests_rest_writes) ($(verdict "$(val sync_nochange_requests_rest_writes)" 0)) | 0 for no change |"
	echo
	if [ "$REPEAT" -gt 0 ]; then
		echo "$CHANGED files changed, $REPEAT more rounds: median ghbridge $(val sync_rounds_ghbridge_median_s) s, git CLI" \
			"$(val sync_rounds_git_cli_median_s) s, ratio $(val sync_rounds_ratio) ($(verdict "$(val sync_rounds_ratio)" 1.0));" \
			"each round: $ROUNDS."
		echo
	fi
	echo "Worker peak RSS (VmHWM, largest of the worker's processes, fresh for this run): $(val worker_peak_rss_mib) MiB" \
		"(target < 200 MiB: $(verdict "$(val worker_peak_rss_mib)" 199.99))."
} >> "$ROOT/bench/RESULTS.md"
echo "# appended to bench/RESULTS.md" >&2
