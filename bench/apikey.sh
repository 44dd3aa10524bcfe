#!/usr/bin/env bash
# bench/apikey.sh: `scripts/dev bench apikey` (issue 15, "rate limits without a hot row"): wrk against
# GET /api/v1/projects/{id}/status with one API key and the same request signed in (session cookie), each
# through this build's fcgi pool and, with BENCH_BASELINE=/path/to/an/older/ghbridge, that build's pool:
# the same database, settings, nginx and number of processes, the targets taking turns. Both pools run
# with api_rate_limit raised so that no request is refused (the limit is what is counted, not what is
# measured). Prints BENCH lines and appends a section to bench/RESULTS.md. Needs `scripts/dev up`.
set -euo pipefail
: "${ROOT:?run through scripts/dev bench apikey}" "${STACK_VAR:?}" "${GHB_URL:?}" "${FAKEHUB_URL:?}"
DUR=${BENCH_DURATION:-30}
CONN=${BENCH_CONNECTIONS:-64}
ROUNDS=${BENCH_ROUNDS:-6}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || sudo apt-get install -y -qq wrk >/dev/null; }
command -v jq >/dev/null || { echo "bench apikey: needs jq" >&2; exit 1; }
# shellcheck disable=SC1091
. "$ROOT/tests/lib.sh"

B=$STACK_VAR/bench-apikey
mkdir -p "$B/tmp"
procs=${GHBRIDGE_PROCESSES:-2}
PORT=$((GHB_PORT + 45))

# A user, a session and an API key with every scope, and a project to ask about.
U=bench$$
curl -s -X POST "$FAKEHUB_URL/_fakehub/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"Bench\"}" >/dev/null
signin "$B/jar" "$U" >/dev/null
csrf=$(csrf_of "$B/jar")
KEY=$(curl -s -b "$B/jar" -d "name=bench&scope=projects:read&scope=projects:write&csrf=$csrf" "$GHB_URL/account/keys" |
	grep -o 'value="ghb_[0-9a-f_]*"' | sed 's/value="//; s/"//')
[ -n "$KEY" ] || { echo "bench apikey: no API key made" >&2; exit 1; }
PID=$(curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"name":"Bench status"}' \
	"$GHB_URL/api/v1/projects" | jq -r .id)
COOKIE=$(awk 'NF >= 7 && ($1 !~ /^#/ || $1 ~ /^#HttpOnly_/) {printf "%s%s=%s", sep, $6, $7; sep = "; "}' "$B/jar")
[ -n "$COOKIE" ] || { echo "bench apikey: no session cookie in $B/jar" >&2; exit 1; }
P=/api/v1/projects/$PID/status

# The pools: this build's, and the baseline's, on their own sockets with the limit raised.
pools=(after "$BUILD/ghbridge")
[ -z "${BENCH_BASELINE:-}" ] || pools+=(before "$BENCH_BASELINE")
servers=
for ((i = 0; i < ${#pools[@]}; i += 2)); do
	name=${pools[i]}
	rm -f "$B/$name.sock"
	GHBRIDGE_LISTEN="unix:$B/$name.sock" GHBRIDGE_SOCKET_MODE=0666 GHBRIDGE_PROCESSES=$procs \
		GHBRIDGE_API_RATE_LIMIT=100000000 setsid "${pools[i + 1]}" fcgi > "$B/$name.log" 2>&1 &
	echo $! > "$B/$name.pid"
	for _ in $(seq 100); do [ -S "$B/$name.sock" ] && break; sleep 0.1; done
	servers+="server { listen 127.0.0.1:$((PORT + i / 2)); location / { include $ROOT/nginx/fastcgi.conf; fastcgi_pass unix:$B/$name.sock; } }"$'\n'
done
cat > "$B/nginx.conf" <<CONF
worker_processes 2;
pid $B/nginx.pid;
error_log $B/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $B/tmp/body; fastcgi_temp_path $B/tmp/fcgi; proxy_temp_path $B/tmp/proxy;
    uwsgi_temp_path $B/tmp/uwsgi; scgi_temp_path $B/tmp/scgi;
    $servers
}
CONF
[ "$(id -u)" = 0 ] && sed -i '1i user root;' "$B/nginx.conf"
nginx -p "$B" -c "$B/nginx.conf" -e "$B/nginx-error.log"
stop_all() {
	nginx -p "$B" -c "$B/nginx.conf" -e "$B/nginx-error.log" -s quit 2>/dev/null || true
	for f in "$B"/*.pid; do
		[ "$f" = "$B/nginx.pid" ] || { [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; }
	done
}
trap stop_all EXIT
sleep 0.5

TARGETS=()
for ((i = 0; i < ${#pools[@]}; i += 2)); do
	u=http://127.0.0.1:$((PORT + i / 2))$P
	TARGETS+=("${pools[i]}_apikey" "$u" "-H" "Authorization: Bearer $KEY")
	TARGETS+=("${pools[i]}_session" "$u" "-H" "Cookie: $COOKIE")
done

for ((i = 0; i < ${#TARGETS[@]}; i += 4)); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "${TARGETS[i + 2]}" "${TARGETS[i + 3]}" "${TARGETS[i + 1]}")
	[ "$code" = 200 ] || { echo "bench apikey: ${TARGETS[i]} answers $code, not 200" >&2; exit 1; }
	rm -f "$B/round.${TARGETS[i]}"
done

round() { # name url header seconds
	local out rps p99 bad
	out=$(wrk -t2 -c"$CONN" -d"${4}s" --latency -H "$3" "$2")
	rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
	p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
	bad=$(printf '%s\n' "$out" | awk '/Non-2xx or 3xx responses/ {print $NF}')
	[ -z "$bad" ] || { echo "bench apikey: $1 had $bad failed responses:" >&2; printf '%s\n' "$out" >&2; exit 1; }
	echo "$rps $p99" >> "$B/round.$1"
}
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) print v / 1000; else if (v ~ /ms$/) print v + 0; else print v * 1000 }'; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
per=$(( (DUR + ROUNDS - 1) / ROUNDS ))
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < ${#TARGETS[@]}; i += 4)); do round "${TARGETS[i]}" "${TARGETS[i + 1]}" "${TARGETS[i + 3]}" "$per"; done
done
: > "$B/table"
for ((i = 0; i < ${#TARGETS[@]}; i += 4)); do
	name=${TARGETS[i]}
	read -r rps p99 < <(sort -n "$B/round.$name" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)')
	all=$(awk '{printf "%s%s %s", sep, $1, $2; sep = "; "}' "$B/round.$name")
	echo "BENCH apikey_${name}_rps $rps req/s"
	echo "BENCH apikey_${name}_p99 $p99 latency"
	printf '| %s | %s | %s | %s |\n' "$name" "$rps" "$p99" "$all" >> "$B/table"
	eval "RPS_$name=$rps P99_$name=$(ms "$p99")"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# The comparison that load on a shared machine disturbs least: within each round, the key's run against the
# signed-in run of the same pool just before or after it; then the median over the rounds.
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
summary=
for ((i = 0; i < ${#pools[@]}; i += 2)); do
	n=${pools[i]}
	rr=$(paste -d' ' "$B/round.${n}_apikey" "$B/round.${n}_session" | while read -r ka kp sa sp; do ratio "$ka" "$sa"; echo; done | median)
	pr=$(paste -d' ' "$B/round.${n}_apikey" "$B/round.${n}_session" | while read -r ka kp sa sp; do ratio "$(ms "$kp")" "$(ms "$sp")"; echo; done | median)
	rl=$(paste -d' ' "$B/round.${n}_apikey" "$B/round.${n}_session" | while read -r ka kp sa sp; do printf '%s ' "$(ratio "$ka" "$sa")/$(ratio "$(ms "$kp")" "$(ms "$sp")")"; done)
	line="$n: API key at ${rr}× the signed-in requests/s (target ≥ 0.8), p99 at ${pr}× (target ≤ 1.5); medians of the per-round ratios (req/s / p99 per round: ${rl% })."
	echo "BENCH $line"
	summary+="$line"$'\n'
done

{
	echo
	echo "## API key against signed in: project status ($(date -u +%Y-%m-%d), $(nproc) cores)"
	echo
	echo "Command: \`${BENCH_COMMAND:-scripts/dev bench apikey}\` (wrk -t2 -c$CONN, $ROUNDS rounds of ${per} s per target"
	echo "taking turns, through one nginx, access log off; GET $P; $procs FastCGI processes per pool; both pools"
	echo "on the stack's database with api_rate_limit raised so that nothing is refused)."
	[ -z "${BENCH_BASELINE:-}" ] || echo "before = $BENCH_BASELINE ${BENCH_BASELINE_NOTE:-}; after = $BUILD/ghbridge ($(git -C "$ROOT" rev-parse --short HEAD))."
	echo
	echo "| target | requests/s (median round) | p99 (that round) | every round (req/s p99) |"
	echo "|---|---|---|---|"
	cat "$B/table"
	echo
	printf '%s' "$summary"
	echo "Machine load before the run: $LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg)."
} >> "$ROOT/bench/RESULTS.md"
