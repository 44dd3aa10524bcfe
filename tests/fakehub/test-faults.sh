#!/bin/bash
# tests/fakehub/test-faults.sh: fault injection (5xx, hang, primary and secondary rate limits, dropped connection) and the request log.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/fakehub/lib-fakehub.sh"

T=$(token octocat)
fault() { curl -s -o /dev/null -w '%{http_code}' -X POST "$F/_fakehub/faults" -H 'Content-Type: application/json' -d "$1"; }
trap 'curl -s -o /dev/null -X DELETE "$F/_fakehub/faults"' EXIT
since=$(curl -s "$F/_fakehub/requests/count" | jnum last_id)

check_eq "register a fault: 201" 201 "$(fault '{"method":"GET","path":"/api/v3/user","kind":"status","status":503,"count":2}')"
check_eq "fault 1 of 2: 503" 503 "$(http_status "$A/user" -H "Authorization: Bearer $T")"
check_eq "fault 2 of 2: 503" 503 "$(http_status "$A/user" -H "Authorization: Bearer $T")"
check_eq "then back to 200" 200 "$(http_status "$A/user" -H "Authorization: Bearer $T")"
fault '{"method":"POST","path":"/api/v3/user","kind":"status","status":500}' >/dev/null
check_eq "method must match" 200 "$(http_status "$A/user" -H "Authorization: Bearer $T")"
curl -s -o /dev/null -X DELETE "$F/_fakehub/faults"
fault '{"path":"/api/v3/repos/*/pulls","kind":"status","status":502}' >/dev/null
check_eq "glob path: 502" 502 "$(http_status "$A/repos/octocat/x/pulls" -H "Authorization: Bearer $T")"

fault '{"path":"/api/v3/user","kind":"hang","seconds":2}' >/dev/null
t=$(curl -s -o /dev/null -w '%{time_total}' "$A/user" -H "Authorization: Bearer $T")
check "hang delays at least 2 s" awk -v t="$t" 'BEGIN { exit !(t >= 1.9) }'
check_eq "client timeout during a hang" 28 "$(fault '{"path":"/api/v3/user","kind":"hang","seconds":3}' >/dev/null; curl -s -o /dev/null --max-time 1 "$A/user" -H "Authorization: Bearer $T"; echo $?)"
sleep 2.5

fault '{"path":"/api/v3/user","kind":"rate_limit","seconds":120}' >/dev/null
hdr=$(curl -s -D - "$A/user" -H "Authorization: Bearer $T" | tr -d '\r')
check_match "primary rate limit: 403" '^HTTP/1.1 403' "$hdr"
check_match "X-RateLimit-Remaining: 0" '^X-RateLimit-Remaining: 0$' "$hdr"
check_match "rate limit message" '"message":"API rate limit exceeded for user ID [0-9]+' "$hdr"
fault '{"path":"/api/v3/user","kind":"secondary_rate_limit","status":429,"seconds":7}' >/dev/null
hdr=$(curl -s -D - "$A/user" -H "Authorization: Bearer $T" | tr -d '\r')
check_match "secondary rate limit: 429" '^HTTP/1.1 429' "$hdr"
check_match "Retry-After" '^Retry-After: 7$' "$hdr"
fault '{"path":"/api/v3/user","kind":"secondary_rate_limit"}' >/dev/null
hdr=$(curl -s -D - "$A/user" -H "Authorization: Bearer $T" | tr -d '\r')
check_match "secondary rate limit default 403 with Retry-After" '^HTTP/1.1 403.*|Retry-After: 60' "$hdr"
check_match "secondary message" 'secondary rate limit' "$hdr"

fault '{"path":"/api/v3/user","kind":"drop"}' >/dev/null
curl -s -o /dev/null "$A/user" -H "Authorization: Bearer $T"; rc=$?
check_eq "dropped connection: curl sees an empty reply (52)" 52 "$rc"
check_eq "next request is fine" 200 "$(http_status "$A/user" -H "Authorization: Bearer $T")"
check_eq "bad fault kind: 422" 422 "$(fault '{"path":"/x","kind":"explode"}')"

log=$(curl -s "$F/_fakehub/requests?since_id=$since&path=/api/v3/user")
check_match "request log has method/path/status/login" '"method":"GET","path":"/api/v3/user","query":null,"status":503,"login":"octocat"' "$log"
check_match "request log names the fault" '"fault":"drop"' "$log"
n=$(curl -s "$F/_fakehub/requests/count?since_id=$since&path=/api/v3/user&method=GET" | jnum count)
check "request count counts every call" test "$n" -ge 10
finish
