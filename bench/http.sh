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

# The comparison responder: the same number of processes as ghbridge's pool.
pkill -f "hello-fcgi $B/hello.sock" 2>/dev/null || true
rm -f "$B/hello.sock"
setsid "$BUILD/bench/hello-fcgi" "$B/hello.sock" "$size" "$procs" >/dev/null 2>&1 &
for i in $(seq 50); do [ -S "$B/hello.sock" ] && break; sleep 0.1; done
chmod 666 "$B/hello.sock"

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
        location = /static.html { alias $B/www/page.html; }
        location / { include $ROOT/nginx/fastcgi.conf; fastcgi_pass unix:$B/hello.sock; }
    }
}
CONF
[ "$(id -u)" = 0 ] && sed -i '1i user root;' "$B/nginx.conf"
nginx -p "$B" -c "$B/nginx.conf" -e "$B/nginx-error.log"
trap 'nginx -p "$B" -c "$B/nginx.conf" -e "$B/nginx-error.log" -s quit 2>/dev/null; pkill -f "hello-fcgi $B/hello.sock" 2>/dev/null || true' EXIT
sleep 0.5

fcgi_rss() { # total RSS (KiB) of ghbridge's responders
	local parent; parent=$(cat "$STACK_VAR/run/fcgi.pid")
	ps -o rss= --ppid "$parent" | awk '{s += $1} END {print s}'
}

run() { # name url
	local out rps p99
	out=$(wrk -t2 -c"$CONN" -d"${DUR}s" --latency "$2")
	rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
	p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
	echo "BENCH http_${1}_rps $rps req/s"
	echo "BENCH http_${1}_p99 $p99 latency"
	printf '| %s | %s | %s |\n' "$1" "$rps" "$p99" >> "$B/table"
	eval "RPS_$1=$rps"
}

: > "$B/table"
rss0=$(fcgi_rss)
run landing "$GHB_URL/"
run healthz "$GHB_URL/healthz"
run hello_fcgi "http://127.0.0.1:$PORT/"
run nginx_static "http://127.0.0.1:$PORT/static.html"
rss1=$(fcgi_rss)
# Soak: SOAK more requests to the landing page, then RSS again.
soak_s=$(awk -v n="$SOAK" -v r="$RPS_landing" 'BEGIN {s = int(n / r) + 1; print s}')
wrk -t2 -c"$CONN" -d"${soak_s}s" "$GHB_URL/" > "$B/soak.out"
soak_n=$(awk '/requests in/ {print $1}' "$B/soak.out")
rss2=$(fcgi_rss)
land_pct=$(awk -v a="$RPS_landing" -v b="$RPS_hello_fcgi" 'BEGIN {printf "%.0f", 100 * a / b}')
health_pct=$(awk -v a="$RPS_healthz" -v b="$RPS_hello_fcgi" 'BEGIN {printf "%.0f", 100 * a / b}')
echo "BENCH http_landing_vs_hello $land_pct %"
echo "BENCH http_healthz_vs_hello $health_pct %"
echo "BENCH fcgi_rss_before ${rss0} KiB"
echo "BENCH fcgi_rss_after_bench ${rss1} KiB"
echo "BENCH fcgi_rss_after_soak ${rss2} KiB ($soak_n more requests)"

{
	echo
	echo "## HTTP ($(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo))"
	echo
	echo "Command: \`scripts/dev bench http\` (wrk -t2 -c$CONN -d${DUR}s through nginx; $procs FastCGI processes each;"
	echo "page size $size bytes; fastcgi_keep_conn off)."
	echo
	echo "| target | requests/s | p99 |"
	echo "|---|---|---|"
	cat "$B/table"
	echo
	echo "Landing page at ${land_pct}% of the minimal responder (target ≥ 70%), /healthz at ${health_pct}% (target ≥ 50%)."
	echo "Responder RSS: ${rss0} KiB before, ${rss1} KiB after the runs, ${rss2} KiB after $soak_n more requests."
} >> "$ROOT/bench/RESULTS.md"
