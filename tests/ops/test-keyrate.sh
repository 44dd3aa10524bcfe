#!/usr/bin/env bash
# tests/ops/test-keyrate.sh (issue 15, "rate limits without a hot row"): an API key's requests are counted in the
# host's shared table, not on its row: the limit holds exactly across the fcgi processes (parallel requests), past
# it 429 with Retry-After (the rest of the minute), no write on the key's row per request, and the uses (429s
# included, as before) reach use_count at the next write, at most once a minute, none lost.
set -u
. "$ROOT/tests/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
U=kr$$
q "INSERT INTO users (github_id, login, name) VALUES (970000 + $$ % 10000, '$U', 'Key rate') ON CONFLICT DO NOTHING" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name keyrate --scopes projects:read 2>&1 | tail -1)
PUB=$(printf '%s' "$KEY" | cut -d_ -f2)
me() { curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -H "Authorization: Bearer $KEY" "$GHB_URL/api/v1/me"; }

# Start early in a minute, so that the requests below fall in one window.
s=$(date +%S); s=${s#0}
[ "$s" -gt 40 ] && sleep $((61 - s))
check_eq "the first request → 200" 200 "$(me)"
check_eq "… its use is written at once (use_count 1, last used set)" "1|t" "$(q "SELECT use_count, last_used_at IS NOT NULL FROM api_keys WHERE public_id = '$PUB'")"
q "UPDATE api_keys SET rate_limit = 11 WHERE public_id = '$PUB'" >/dev/null
xmin=$(q "SELECT xmin FROM api_keys WHERE public_id = '$PUB'")
# 20 at once, spread over the fcgi processes: the window is one per host, so exactly 10 more pass.
for i in $(seq 20); do me > "$T/r$i" & done
wait
ok200=$(cat "$T"/r* | grep -c '^200$')
ok429=$(cat "$T"/r* | grep -c '^429$')
check_eq "20 parallel requests with a limit of 11 (1 used): 10 pass, 10 get 429" "10 10" "$ok200 $ok429"
check_eq "… no write on the key's row for any of them" "$xmin" "$(q "SELECT xmin FROM api_keys WHERE public_id = '$PUB'")"
r=$(curl -s -i -H "Authorization: Bearer $KEY" "$GHB_URL/api/v1/me" | tr -d '\r')
ra=$(printf '%s\n' "$r" | sed -n 's/^Retry-After: //p')
left=$((60 - $(date +%S | sed 's/^0//')))
check_match "429 → rate_limited with the limit in the message" '"code": ?"rate_limited".*11 requests per minute' "$(printf '%s' "$r" | tr '\n' ' ')"
check_eq "Retry-After is the rest of the minute ($ra s, $left s by the clock)" 1 "$([ "${ra:-0}" -ge 1 ] && [ $((ra - left)) -le 2 ] && [ $((left - ra)) -le 2 ] && echo 1)"
check_eq "… use_count still 1 (written at most once a minute)" 1 "$(q "SELECT use_count FROM api_keys WHERE public_id = '$PUB'")"
# The next minute: a new window, and a request a minute after the first write writes every use counted meanwhile.
sent=$((1 + 20 + 1))
sleep "$((ra + 1))"
check_eq "a new minute: 200 again" 200 "$(me)"
sent=$((sent + 1))
written() { [ "$(q "SELECT use_count FROM api_keys WHERE public_id = '$PUB'")" != 1 ]; }
for i in $(seq 70); do written && break; sleep 1; me >/dev/null; sent=$((sent + 1)); done
check_eq "use_count catches up within a minute of the first write, losing none (429s counted, as before)" "$sent" \
	"$(q "SELECT use_count FROM api_keys WHERE public_id = '$PUB'")"
check_eq "… with the address" 127.0.0.1 "$(q "SELECT last_used_ip FROM api_keys WHERE public_id = '$PUB'")"
finish
