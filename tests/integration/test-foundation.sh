#!/usr/bin/env bash
# test-foundation.sh: the HTTP foundation through nginx: pages, errors, limits, headers,
# static files, PostgreSQL restart, responder restart, migrations and the CLI.
. "$ROOT/tests/lib.sh"
G=$BUILD/ghbridge

# --- pages and headers
r=$(http_get "$GHB_URL/healthz")
check_match "healthz 200" '^HTTP/1.1 200' "$r"
check_match "healthz body" '\{"status":"ok","db":"ok"\}' "$r"
r=$(http_get "$GHB_URL/")
check_match "landing 200" '^HTTP/1.1 200' "$r"
check_match "landing rendered through layout" '<link rel="stylesheet" href="/static/style.css">' "$r"
check_match "CSP header" "Content-Security-Policy: default-src 'self';.* frame-ancestors 'none'" "$r"
check_match "nosniff header" 'X-Content-Type-Options: nosniff' "$r"
check_match "referrer policy header" 'Referrer-Policy: same-origin' "$r"
rid=$(printf '%s' "$r" | tr -d '\r' | sed -n 's/^X-Request-Id: //p')
check "request id in the log line" grep -q "req=$rid .*path=/ status=200" "$STACK_VAR/log/fcgi.log"
h=$(curl -s -I "$GHB_URL/")
check_match "HEAD has Content-Length" 'Content-Length: [1-9]' "$h"
check_eq "HEAD has no body" "0" "$(curl -s --head "$GHB_URL/" -o /dev/null -w '%{size_download}')"

# --- errors
r=$(http_get "$GHB_URL/no/such/page")
check_match "404" '^HTTP/1.1 404' "$r"
check_match "404 page styled" 'class="error-page"' "$r"
check_match "404 carries CSP" "Content-Security-Policy" "$r"
rid=$(printf '%s' "$r" | tr -d '\r' | sed -n 's/^X-Request-Id: //p')
check_match "error page shows request id" "<code>$rid</code>" "$r"
r=$(http_get "$GHB_URL/" -X DELETE)
check_match "405" '^HTTP/1.1 405' "$r"
check_match "405 Allow header" 'Allow: GET, HEAD' "$r"
check_eq "400 malformed query" "400" "$(http_status "$GHB_URL/?x=%zz")"
check_eq "400 malformed form" "400" "$(http_status "$GHB_URL/logout" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary 'a=%G1')"
check_eq "400 NUL in form" "400" "$(http_status "$GHB_URL/logout" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary 'a=x%00y')"
check_eq "400 truncated multipart" "400" "$(printf -- '--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nxx' | curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: multipart/form-data; boundary=B' --data-binary @- "$GHB_URL/logout")"
check_eq "400 multipart without boundary" "400" "$(http_status "$GHB_URL/logout" -X POST -H 'Content-Type: multipart/form-data' --data-binary 'x')"
fields=$(for i in $(seq 1 1500); do printf 'f%d=1&' "$i"; done)
check_eq "400 too many fields" "400" "$(http_status "$GHB_URL/logout" -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$fields")"
head -c 2000000 /dev/zero | tr '\0' 'a' > "$STACK_VAR/big.body"
r=$(curl -s -i -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$STACK_VAR/big.body" "$GHB_URL/logout")
check_match "413 body over max_body" '^HTTP/1.1 413' "$r"
check_match "413 page styled" 'class="error-page"' "$r"
# Bodies the handler never reads: drained and closed detached (small), or closed with
# libfcgi's linger (large); either way nginx gets the whole answer and logs no reset.
upstream_errors() { grep -c 'reset by peer\|prematurely closed\|Broken pipe' "$STACK_VAR/log/nginx-error.log" 2>/dev/null || true; }
resets0=$(upstream_errors)
head -c 60000 /dev/zero | tr '\0' 'b' > "$STACK_VAR/mid.body"
head -c 300000 /dev/zero | tr '\0' 'b' > "$STACK_VAR/large.body"
r=$(curl -s -i -X PUT --data-binary @"$STACK_VAR/mid.body" "$GHB_URL/")
check_match "405 with a 60 KB unread body" '^HTTP/1.1 405' "$r"
check_match "405 with a 60 KB unread body: ghbridge's page" 'class="error-page"' "$r"
r=$(curl -s -i -X PUT --data-binary @"$STACK_VAR/large.body" "$GHB_URL/")
check_match "405 with a 300 KB unread body" '^HTTP/1.1 405' "$r"
codes=$(for i in $(seq 1 40); do curl -s -o /dev/null -w '%{http_code}\n' "$GHB_URL/healthz" & done; wait)
check_eq "40 parallel /healthz all 200" "40" "$(printf '%s\n' "$codes" | grep -c '^200$')"
resets1=$(upstream_errors)
check_eq "nginx logged no upstream reset or broken pipe" "$resets0" "$resets1"
long=$(head -c 3000 /dev/zero | tr '\0' 'p')
check_eq "414 long path" "414" "$(http_status "$GHB_URL/$long")"
hdrs=()
for i in $(seq 1 24); do hdrs+=(-H "X-Filler-$i: $(head -c 900 /dev/zero | tr '\0' 'h')"); done
check_eq "431 headers too large" "431" "$(http_status "$GHB_URL/" "${hdrs[@]}")"
check_eq "400 bad percent-escape in path" "400" "$(http_status "$GHB_URL/%zz")"

# --- static files come from nginx alone
before=$(grep -c 'path=/static' "$STACK_VAR/log/fcgi.log" || true)
r=$(http_get "$GHB_URL/static/style.css")
check_match "static 200" '^HTTP/1.1 200' "$r"
check_match "static long cache" 'Cache-Control: (max-age=[0-9]+|public)' "$r"
check_match "static content type" 'Content-Type: text/css' "$r"
after=$(grep -c 'path=/static' "$STACK_VAR/log/fcgi.log" || true)
check_eq "static never reaches FastCGI" "$before" "$after"

# --- a killed responder is replaced
parent=$(cat "$STACK_VAR/run/fcgi.pid")
kids_before=$(pgrep -P "$parent" | wc -l)
victim=$(pgrep -P "$parent" | head -1)
kill -9 "$victim"
wait_for 5 bash -c "[ \$(pgrep -P $parent | wc -l) -eq $kids_before ] && ! kill -0 $victim"
check_eq "killed responder replaced" "$kids_before" "$(pgrep -P "$parent" | wc -l)"
ok_all=1
for i in $(seq 1 20); do [ "$(http_status "$GHB_URL/healthz")" = 200 ] || ok_all=0; done
check_eq "requests succeed after replacement" 1 "$ok_all"

# --- SIGHUP reloads templates without dropping requests
kill -HUP "$parent"
wait_for 5 grep -q 'templates reloaded' "$STACK_VAR/log/fcgi.log"
check "SIGHUP reloads templates" grep -q 'templates reloaded' "$STACK_VAR/log/fcgi.log"
check_eq "serving after SIGHUP" 200 "$(http_status "$GHB_URL/")"

# --- PostgreSQL down → 503 → up → 200, without restarting ghbridge
PGDATA_DIR=$STACK_VAR/pg
pgctl() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$PGDATA_DIR" "$@"; else /usr/lib/postgresql/15/bin/pg_ctl -D "$PGDATA_DIR" "$@"; fi; }
pgctl -m fast -w stop >/dev/null
t0=$(date +%s%N)
r=$(http_get "$GHB_URL/healthz")
t1=$(date +%s%N)
check_match "healthz 503 while db down" '^HTTP/1.1 503' "$r"
check_match "healthz says db down" '"db":"down"' "$r"
check "503 comes fast (< 6 s)" test $(( (t1 - t0) / 1000000 )) -lt 6000
r=$(http_get "$GHB_URL/logout" -X POST)  # any page that needs the database
check_match "page 503 while db down" '^HTTP/1.1 503' "$r"
check_match "503 page styled" 'class="error-page"' "$r"
pgctl -w -l "$STACK_VAR/log/postgres.log" -o "-c listen_addresses='' -c unix_socket_directories='$STACK_VAR/run' -c port=5432 -c max_connections=200" start >/dev/null
codes=""
for i in 1 2 3 4; do codes="$codes$(http_status "$GHB_URL/healthz") "; done
check_eq "200 again after db restart" "200 200 200 200 " "$codes"

# --- migrations
out=$("$G" migrate 2>&1); rc=$?
check_eq "migrate idempotent exit" 0 "$rc"
check_match "migrate idempotent: nothing pending" ' 0 pending' "$out"
"$G" migrate > "$STACK_VAR/m1.out" 2>&1 & p1=$!
"$G" migrate > "$STACK_VAR/m2.out" 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
check_eq "two concurrent migrates both succeed" "0 0" "$r1 $r2"
tmpsql=$(mktemp -d)
cp "$ROOT"/sql/*.sql "$tmpsql/"
echo "-- edited" >> "$tmpsql/001_init.sql"
out=$(GHBRIDGE_SQL_DIR=$tmpsql "$G" migrate 2>&1); rc=$?
check_eq "migrate refuses an edited file" 1 "$rc"
check_match "migrate names the edited file" '001_init.sql was changed' "$out"
rm -rf "$tmpsql"
check_eq "schema_migrations records checksums" "64" "$(psql -qtA -c "SELECT length(checksum) FROM schema_migrations WHERE version='001'")"

# --- CLI
check_eq "unknown subcommand exits 2" 2 "$("$G" frobnicate >/dev/null 2>&1; echo $?)"
check_eq "unknown option exits 2" 2 "$("$G" migrate --bogus >/dev/null 2>&1; echo $?)"
for c in fcgi migrate doctor version; do
	check "ghbridge $c --help" "$G" "$c" --help
done
check_match "version" '^ghbridge [0-9]' "$("$G" version)"
out=$("$G" doctor 2>&1 || true)
check_match "doctor prints settings" 'database_url' "$out"
check_match "doctor checks the database" '\[ ok \] database reachable' "$out"
# An ok line reads as ok: it says what was checked, not a bare "answered 404" (engineer J's item 6).
check_match "doctor: the GitHub web URL line says it is reachable" '\[ ok \] GitHub web URL: reachable \(' "$out"
if printf '%s' "$out" | grep -E '^\s*\[ ok \].* answered [0-9]+$' >/dev/null; then not_ok "… and no ok line ends on a bare 'answered NNN'"; else ok "… and no ok line ends on a bare 'answered NNN'"; fi
secret=$GHBRIDGE_GITHUB_CLIENT_SECRET
if [ -n "$secret" ] && printf '%s' "$out" | grep -qF "$secret"; then not_ok "doctor masks secrets" "secret printed"; else ok "doctor masks secrets"; fi
out=$(GHBRIDGE_DATABASE_URL='host=/nonexistent dbname=x' "$G" doctor 2>&1); rc=$?
check_eq "doctor exits 1 when the database is unreachable" 1 "$rc"

# Every access line this suite caused names a real method and a path: the log is written after
# the connection is handed back, from copies (a line once showed freed FastCGI params, "\xefET").
bad=$(grep 'msg=request ' "$STACK_VAR/log/fcgi.log" | grep -Evc 'method=(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) path="?/' || true)
check_eq "every request log line has a clean method and path" 0 "$bad"

finish
