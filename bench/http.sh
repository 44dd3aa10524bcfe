#!/usr/bin/env bash
# bench/http.sh: `scripts/dev bench http`: wrk through nginx against the landing page, /healthz,
# a minimal libfcgi responder of the same page size, and nginx serving a static file of that size.
# Prints BENCH lines and appends a section to bench/RESULTS.md. Needs a running `scripts/dev up`.
set -euo pipefail
: "${ROOT:?run through scripts/dev bench http}" "${STACK_VAR:?}" "${GHB_URL:?}"
DUR=${BENCH_DURATION:-30}
CONN=${BENCH_CONNECTIONS:-64}
SOAK=${BENCH_SOAK_REQUESTS:-1000000}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || sudo apt-get install -y -qq wrk >/dev/null; }
make -C "$BUILD" -s bench/hello-fcgi >/dev/null

B=$STACK_VAR/bench
mkdir -p "$B/tmp" "$B/www"
size=$(curl -s "$GHB_URL/" | wc -c)
head -c "$size" /dev/zero | tr '\0' 'x' > "$B/www/page.html"
PORT=$((GHB_PORT + 50))
procs=${GHBRIDGE_PROCESSES:-2}

# The comparison responders: the same number of processes as ghbridge's pool, once as the
# stock libfcgi loop and once closing the way ghbridge does (stdin drained, detached close).
for h in hello hello-detach; do
	pkill -f "hello-fcgi $B/$h.sock" 2>/dev/null || true
	rm -f "$B/$h.sock"
done
setsid "$BUILD/bench/hello-fcgi" "$B/hello.sock" "$size" "$procs" >/dev/null 2>&1 &
setsid "$BUILD/bench/hello-fcgi" "$B/hello-detach.sock" "$size" "$procs" detach >/dev/null 2>&1 &
for h in hello hello-detach; do
	for i in $(seq 50); do [ -S "$B/$h.sock" ] && break; sleep 0.1; done
	chmod 666 "$B/$h.sock"
done

# BENCH_BASELINE=/path/to/an/older/ghbridge: that build's fcgi pool too, on the same database and
# settings, as landing_baseline and healthz_baseline (a before/after in one run).
BASELINE=${BENCH_BASELINE:-}
baseline_server=
if [ -n "$BASELINE" ]; then
	rm -f "$B/baseline.sock"
	GHBRIDGE_LISTEN="unix:$B/baseline.sock" GHBRIDGE_SOCKET_MODE=0666 GHBRIDGE_PROCESSES=$procs \
		setsid "$BASELINE" fcgi >"$B/baseline.log" 2>&1 &
	echo $! > "$B/baseline.pid"
	for i in $(seq 50); do [ -S "$B/baseline.sock" ] && break; sleep 0.1; done
	baseline_server="server { listen 127.0.0.1:$((PORT + 3)); location / { include $ROOT/nginx/fastcgi.conf; fastcgi_pass unix:$B/baseline.sock; } }"
fi

# One nginx, one configuration, for every target: ghbridge on PORT, the responders and the
# static file on PORT+1 and PORT+2 (the stack's own nginx also writes an access log).
cat > "$B/nginx.conf" <<CONF
worker_processes 2;
pid $B/nginx.pid;
error_log $B/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $B/tmp/body; fastcgi_temp_path $B/tmp/fcgi; proxy_temp_path $B/tmp/proxy;
    uwsgi_temp_path $B/tmp/uwsgi; scgi_temp_path $B/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT;
        location / { include $ROOT/nginx/fastcgi.conf; fastcgi_pass unix:$STACK_VAR/run/ghbridge.sock; }
    }
    server {
        listen 127.0.0.1:$((PORT + 1));
        location = /static.html { alias $B/www/page.html; }
        location / { include $ROOT/nginx/fastcgi.conf; fastcgi_pass unix:$B/hello.sock; }
    }
    server {
        listen 127.0.0.1:$((PORT + 2));
        location / { include $ROOT/nginx/fastcgi.conf; fastcgi_pass unix:$B/hello-detach.sock; }
    }
    $baseline_server
}
CONF
[ "$(id -u)" = 0 ] && sed -i '1i user root;' "$B/nginx.conf"
nginx -p "$B" -c "$B/nginx.conf" -e "$B/nginx-error.log"
trap 'nginx -p "$B" -c "$B/nginx.conf" -e "$B/nginx-error.log" -s quit 2>/dev/null; pkill -f "hello-fcgi $B/" 2>/dev/null || true; [ -f "$B/baseline.pid" ] && kill "$(cat "$B/baseline.pid")" 2>/dev/null; rm -f "$B/baseline.pid"' EXIT
sleep 0.5
U=http://127.0.0.1:$PORT

fcgi_rss() { # total RSS (KiB) of ghbridge's responders
	local parent; parent=$(cat "$STACK_VAR/run/fcgi.pid")
	ps -o rss= --ppid "$parent" | awk '{s += $1} END {print s}'
}

check_200() { # name url
	# A target that fails is no baseline: until this check, the minimal responder sent a broken
	# header and every "request" it was credited with was nginx's 502 page.
	local code; code=$(curl -s -o /dev/null -w '%{http_code}' "$2")
	[ "$code" = 200 ] || { echo "bench http: $1 ($2) answers $code, not 200" >&2; exit 1; }
}

round() { # name url seconds: one wrk run; appends "rps p99 errors" to $B/round.NAME
	local out rps p99 bad errs
	out=$(wrk -t2 -c"$CONN" -d"${3}s" --latency "$2")
	rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
	p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
	bad=$(printf '%s\n' "$out" | awk '/Non-2xx or 3xx responses/ {print $NF}')
	[ -z "$bad" ] || { echo "bench http: $1 had $bad failed responses:" >&2; printf '%s\n' "$out" >&2; exit 1; }
	errs=$(printf '%s\n' "$out" | sed -n 's/^ *Socket errors: //p' | tr -d ' ')
	echo "$rps $p99 ${errs:-none}" >> "$B/round.$1"
}

# Every target gets ROUNDS runs of DUR/ROUNDS seconds, the targets taking turns, and the median
# round counts: on a machine shared with other work, a burst of load then hits one round of every
# target instead of all of one target's time.
ROUNDS=${BENCH_ROUNDS:-3}
TARGETS=(landing "$U/" healthz "$U/healthz" hello_fcgi "http://127.0.0.1:$((PORT + 1))/"
	hello_fcgi_detach "http://127.0.0.1:$((PORT + 2))/" nginx_static "http://127.0.0.1:$((PORT + 1))/static.html")
[ -z "$BASELINE" ] || TARGETS+=(landing_baseline "http://127.0.0.1:$((PORT + 3))/" healthz_baseline "http://127.0.0.1:$((PORT + 3))/healthz")
: > "$B/table"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
rss0=$(fcgi_rss)
for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do
	check_200 "${TARGETS[i]}" "${TARGETS[i + 1]}"
	rm -f "$B/round.${TARGETS[i]}"
done
per=$(( (DUR + ROUNDS - 1) / ROUNDS ))
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do round "${TARGETS[i]}" "${TARGETS[i + 1]}" "$per"; done
done
for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do
	name=${TARGETS[i]}
	read -r rps p99 errs < <(sort -n "$B/round.$name" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)')
	all=$(awk '{printf "%s%s", sep, $1; sep = ", "}' "$B/round.$name")
	echo "BENCH http_${name}_rps $rps req/s"
	echo "BENCH http_${name}_p99 $p99 latency"
	printf '| %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p99" "$all" "$errs" >> "$B/table"
	eval "RPS_$name=$rps"
done
rss1=$(fcgi_rss)
# Soak: at least SOAK more requests to the landing page, then RSS again.
soak_n=0
while [ "$soak_n" -lt "$SOAK" ]; do
	soak_s=$(awk -v n="$((SOAK - soak_n))" -v r="$RPS_landing" 'BEGIN {print int(n / r) + 1}')
	wrk -t2 -c"$CONN" -d"${soak_s}s" "$U/" > "$B/soak.out"
	soak_n=$((soak_n + $(awk '/requests in/ {print $1}' "$B/soak.out")))
done
rss2=$(fcgi_rss)
land_pct=$(awk -v a="$RPS_landing" -v b="$RPS_hello_fcgi" 'BEGIN {printf "%.0f", 100 * a / b}')
health_pct=$(awk -v a="$RPS_healthz" -v b="$RPS_hello_fcgi" 'BEGIN {printf "%.0f", 100 * a / b}')
land_pct_d=$(awk -v a="$RPS_landing" -v b="$RPS_hello_fcgi_detach" 'BEGIN {printf "%.0f", 100 * a / b}')
health_pct_d=$(awk -v a="$RPS_healthz" -v b="$RPS_hello_fcgi_detach" 'BEGIN {printf "%.0f", 100 * a / b}')
echo "BENCH http_landing_vs_hello $land_pct %"
echo "BENCH http_healthz_vs_hello $health_pct %"
echo "BENCH http_landing_vs_hello_detach $land_pct_d %"
echo "BENCH http_healthz_vs_hello_detach $health_pct_d %"
echo "BENCH fcgi_rss_before ${rss0} KiB"
echo "BENCH fcgi_rss_after_bench ${rss1} KiB"
echo "BENCH fcgi_rss_after_soak ${rss2} KiB ($soak_n more requests)"

{
	echo
	echo "## HTTP ($(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo))"
	echo
	echo "Command: \`scripts/dev bench http\` (wrk -t2 -c$CONN, $ROUNDS rounds of ${per} s per target taking turns, through one"
	echo "nginx, access log off, for every target; $procs FastCGI processes each; page size $size bytes; fastcgi_keep_conn off)."
	echo
	echo "| target | requests/s (median round) | p99 (that round) | every round | socket errors (that round) |"
	echo "|---|---|---|---|---|"
	cat "$B/table"
	echo
	echo "Landing page at ${land_pct}% of the minimal responder (target ≥ 70%), /healthz at ${health_pct}% (target ≥ 50%)."
	echo "Against the minimal responder with ghbridge's detached close: landing ${land_pct_d}%, /healthz ${health_pct_d}%."
	echo "Machine load before the run: $LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg)."
	[ -z "$BASELINE" ] || echo "Baseline build (BENCH_BASELINE): $BASELINE; ${BENCH_BASELINE_NOTE:-}"
	echo "Responder RSS: ${rss0} KiB before, ${rss1} KiB after the runs, ${rss2} KiB after $soak_n more requests."
} >> "$ROOT/bench/RESULTS.md"
