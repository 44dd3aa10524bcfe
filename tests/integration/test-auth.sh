#!/usr/bin/env bash
# test-auth.sh: sign-in with GitHub (against fakehub), sessions, CSRF, sealed tokens and API keys, through nginx.
. "$ROOT/tests/lib.sh"
G=$BUILD/ghbridge
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# --- /login builds a proper authorize redirect
h=$(curl -s -D - -o /dev/null -c "$T/j0" "$GHB_URL/login?return_to=/account")
loc=$(printf '%s' "$h" | tr -d '\r' | sed -n 's/^Location: //p')
check_match "login redirects to the authorize endpoint" "^$GHBRIDGE_GITHUB_WEB_URL/login/oauth/authorize\\?" "$loc"
check_match "login sends client_id" "client_id=$GHBRIDGE_GITHUB_CLIENT_ID(&|$)" "$loc"
check_match "login sends the exact redirect_uri" "redirect_uri=http%3A%2F%2F127.0.0.1%3A$GHB_PORT%2Foauth%2Fcallback(&|$)" "$loc"
check_match "state has 256 random bits" 'state=[0-9a-f]{64}(&|$)' "$loc"
check_match "PKCE S256 challenge" 'code_challenge=[A-Za-z0-9_-]{43}&code_challenge_method=S256' "$loc"
check_match "scope requested" 'scope=repo' "$loc"
check_match "pre-session cookie is HttpOnly, Lax, short-lived" 'Set-Cookie: ghb_login=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600' "$h"
state=$(printf '%s' "$loc" | sed -E 's/.*state=([0-9a-f]+).*/\1/')
check_eq "only a hash of the state is stored" 0 "$(psql -qtA -c "SELECT count(*) FROM oauth_states WHERE state_hash = '$state'")"
check_eq "verifier stored sealed" 1 "$(psql -qtA -c "SELECT count(*) FROM oauth_states WHERE verifier_sealed LIKE 'v1.%' AND created_at > now() - interval '1 minute' AND return_to = '/account'")"

for bad in '//evil.example/x' 'https://evil.example/' '/\evil.example' '/%5Cevil' 'javascript:alert(1)'; do
	curl -s -o /dev/null "$GHB_URL/login?return_to=$(printf '%s' "$bad" | sed 's/\\/%5C/g')"
done
check_eq "open-redirect attempts fall back to /" 0 "$(psql -qtA -c "SELECT count(*) FROM oauth_states WHERE return_to <> '/' AND return_to <> '/account'")"

# --- callback refusals: 400 and nothing stored
users_before=$(psql -qtA -c "SELECT count(*) FROM users")
check_eq "callback without state → 400" 400 "$(http_status "$GHB_URL/oauth/callback?code=abc")"
check_eq "callback with malformed state → 400" 400 "$(http_status "$GHB_URL/oauth/callback?code=abc&state=xyz")"
check_eq "callback with unknown state → 400" 400 "$(http_status "$GHB_URL/oauth/callback?code=abc&state=$(openssl rand -hex 32)" -b "$T/j0")"
check_eq "callback without the pre-session cookie → 400" 400 "$(http_status "$GHB_URL/oauth/callback?code=abc&state=$state")"
check_eq "callback with another browser's cookie → 400" 400 "$(http_status "$GHB_URL/oauth/callback?code=abc&state=$state" -b "ghb_login=$(openssl rand -hex 32)")"
check_eq "state is single use even after a mismatch" 400 "$(http_status "$GHB_URL/oauth/callback?code=abc&state=$state" -b "$T/j0")"
curl -s -o /dev/null -c "$T/j1" "$GHB_URL/login"
st1=$(psql -qtA -c "SELECT id FROM oauth_states ORDER BY id DESC LIMIT 1")
psql -qtA -c "UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE id = $st1" >/dev/null
r=$(http_get "$GHB_URL/oauth/callback?code=abc&state=$(openssl rand -hex 32)" -b "$T/j1")
check_match "expired or unknown state page says start again" 'Start again' "$r"
check_eq "nothing stored after refusals" "$users_before" "$(psql -qtA -c "SELECT count(*) FROM users")"
r=$(http_get "$GHB_URL/oauth/callback?error=access_denied&state=x")
check_match "access_denied → friendly page" '^HTTP/1.1 200' "$r"
check_match "access_denied offers to try again" 'href="/login">Try again' "$r"

# --- pages and API need authentication
r=$(curl -s -D - -o /dev/null "$GHB_URL/account")
check_match "account without session → sign-in" 'Location: /login\?return_to=/account' "$r"
r=$(http_get "$GHB_URL/api/v1/me")
check_match "API without credentials → 401" '^HTTP/1.1 401' "$r"
check_match "API errors are JSON" '"error":\{"code":"unauthorized","message"' "$r"
check_eq "malformed API key → 401" 401 "$(http_status "$GHB_URL/api/v1/me" -H 'Authorization: Bearer nope')"
check_eq "non-bearer Authorization → 401" 401 "$(http_status "$GHB_URL/api/v1/me" -H 'Authorization: Basic eDp5')"
check_eq "unknown API key → 401" 401 "$(http_status "$GHB_URL/api/v1/me" -H "Authorization: Bearer ghb_$(openssl rand -hex 8)_$(openssl rand -hex 32)")"

# --- API keys from the CLI (a user who signed in before)
psql -qtA -c "INSERT INTO users (github_id, login, name) VALUES (990001, 'cli-user', 'CLI User') ON CONFLICT DO NOTHING" >/dev/null
key=$("$G" apikey create --user cli-user --name ci --scopes projects:read,sync 2>"$T/err")
check_match "apikey create prints only the key" '^ghb_[0-9a-f]{16}_[0-9a-f]{64}$' "$key"
r=$(curl -s -H "Authorization: Bearer $key" "$GHB_URL/api/v1/me")
check_eq "API key authenticates" '{"login":"cli-user","auth":"api_key","scopes":["projects:read","sync"]}' "$(printf '%s' "$r" | sed 's/,"commit_email".*$/}/')"
check_match "… and says the address its commits carry (GitHub's no-reply one)" '"commit_email":"990001\+cli-user@users\.noreply\.github\.com","commit_email_chosen":false\}$' "$r"
check_eq "secret not stored in plaintext" 0 "$(psql -qtA -c "SELECT count(*) FROM api_keys WHERE secret_hash LIKE '%${key##*_}%'")"
wrong="${key%_*}_$(openssl rand -hex 32)"
check_eq "wrong secret → 401" 401 "$(http_status "$GHB_URL/api/v1/me" -H "Authorization: Bearer $wrong")"
check_eq "unknown scope refused" 1 "$("$G" apikey create --user cli-user --name x --scopes everything >/dev/null 2>&1; echo $?)"
check_eq "apikey for unknown user refused" 1 "$("$G" apikey create --user nobody-here --name x --scopes sync >/dev/null 2>&1; echo $?)"
pub=$(printf '%s' "$key" | cut -d_ -f2)
# Requests are counted in the host's shared table (core/keyrate.c), not in the key's row: a key's own limit
# of 2 a minute is past after the request above and two more.
xmin0=$(psql -qtA -c "SELECT xmin FROM api_keys WHERE public_id = '$pub'")
for i in 1 2 3 4 5; do curl -s -o /dev/null -H "Authorization: Bearer $key" "$GHB_URL/api/v1/me"; done
check_eq "five more requests write nothing to the key's row (usage at most once a minute)" "$xmin0" \
	"$(psql -qtA -c "SELECT xmin FROM api_keys WHERE public_id = '$pub'")"
psql -qtA -c "UPDATE api_keys SET rate_limit = 2 WHERE public_id = '$pub'" >/dev/null
r=$(http_get "$GHB_URL/api/v1/me" -H "Authorization: Bearer $key")
check_match "rate limit → 429" '^HTTP/1.1 429' "$r"
check_match "429 has Retry-After" 'Retry-After: [0-9]+' "$r"
ra=$(printf '%s' "$r" | tr -d '\r' | sed -n 's/^Retry-After: //p')
check_eq "Retry-After is the rest of the minute (1..60)" 1 "$([ "${ra:-0}" -ge 1 ] && [ "${ra:-0}" -le 60 ] && echo 1)"
psql -qtA -c "UPDATE api_keys SET rate_limit = NULL WHERE public_id = '$pub'" >/dev/null
check_eq "under the setting's limit again → 200" 200 "$(http_status "$GHB_URL/api/v1/me" -H "Authorization: Bearer $key")"
check_eq "usage recorded" 1 "$(psql -qtA -c "SELECT count(*) FROM api_keys WHERE public_id = '$pub' AND use_count >= 1 AND last_used_ip = '127.0.0.1'")"
psql -qtA -c "UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE public_id = '$pub'" >/dev/null
check_eq "expired key → 401" 401 "$(http_status "$GHB_URL/api/v1/me" -H "Authorization: Bearer $key")"
psql -qtA -c "UPDATE api_keys SET expires_at = NULL WHERE public_id = '$pub'" >/dev/null
check_eq "key works again" 200 "$(http_status "$GHB_URL/api/v1/me" -H "Authorization: Bearer $key")"
kid=$("$G" apikey list --user cli-user | awk -F'\t' -v p="ghb_${pub}_…" '$2 == p {print $1}')
"$G" apikey revoke --user cli-user "$kid" >/dev/null
check_match "apikey --help says where revoke's ID comes from and the default expiry" 'revoke takes that ID' "$("$G" apikey --help | tr '\n' ' ')"
check_match "apikey --help: --expires-days 0 is the default, never" '0 \(the default\) never' "$("$G" apikey --help | tr '\n' ' ')"
check_match "ghbridge --help names every jobs subcommand" 'jobs +list, show, retry, cancel, enqueue or purge jobs; stats' "$("$G" --help)"
check_eq "revoked key → 401 on the next request" 401 "$(http_status "$GHB_URL/api/v1/me" -H "Authorization: Bearer $key")"

# --- the whole flow against fakehub
if ! fakehub_up; then
	skip "sign-in flow against fakehub" "fakehub is not running"
	finish; exit $?
fi
fin=$(signin "$T/a" octocat /account)
check_eq "sign-in lands on return_to" "$GHB_URL/account" "$fin"
cookie=$(grep -P '\tghb_session\t' "$T/a" | awk '{print $7}')
check_match "session token is 256 bits" '^[0-9a-f]{64}$' "$cookie"
check_eq "session stored only as a hash" 0 "$(psql -qtA -c "SELECT count(*) FROM sessions WHERE token_hash = '$cookie'")"
page=$(curl -s -b "$T/a" "$GHB_URL/account")
check_match "account shows the GitHub login" '<strong>octocat</strong>' "$page"
check_match "account shows the connection" 'Connected through the' "$page"
check_match "header shows avatar and login" 'class="account" href="/account"><img class="avatar"' "$page"
check_match "API accepts the session" '^\{"login":"octocat","auth":"session","scopes":\["projects:read","projects:write","sync","pulls"' "$(curl -s -b "$T/a" "$GHB_URL/api/v1/me")"

# cookie attributes (read the raw header of a fresh sign-in)
auth=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$T/b" "$GHB_URL/login")
cb=$(gh_authorize "$auth" hubot authorize)
h=$(curl -s -D - -o /dev/null -b "$T/b" -c "$T/b" "$cb")
check_match "session cookie attributes" 'Set-Cookie: ghb_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Lax' "$h"
check_match "pre-session cookie cleared" 'Set-Cookie: ghb_login=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0' "$h"
check_eq "a used callback URL cannot be replayed" 400 "$(http_status "$cb" -b "$T/b")"

# session fixation: a session id planted before sign-in is never adopted
printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tghb_session\t%s\n' "$(openssl rand -hex 32)" > "$T/fix"
planted=$(awk '{print $7}' "$T/fix")
signin "$T/fix" hubot / >/dev/null
now=$(grep -P '\tghb_session\t' "$T/fix" | awk '{print $7}')
if [ "$now" != "$planted" ] && [ -n "$now" ]; then ok "session fixation: new session id after sign-in"; else not_ok "session fixation: new session id after sign-in" "$planted -> $now"; fi

# CSRF and cross-site refusals: 403, nothing changed
csrf=$(csrf_of "$T/a")
check_match "pages carry a CSRF token" '^[0-9a-f]{48}$' "$csrf"
nkeys() { psql -qtA -c "SELECT count(*) FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.login = 'octocat'"; }
n0=$(nkeys)
check_eq "CSRF missing → 403" 403 "$(http_status "$GHB_URL/account/keys" -b "$T/a" -d 'name=x&scope=sync')"
check_eq "CSRF wrong → 403" 403 "$(http_status "$GHB_URL/account/keys" -b "$T/a" -d "name=x&scope=sync&csrf=$(openssl rand -hex 24)")"
check_eq "another session's CSRF → 403" 403 "$(http_status "$GHB_URL/account/keys" -b "$T/a" -d "name=x&scope=sync&csrf=$(csrf_of "$T/b")")"
check_eq "cross-site Origin → 403" 403 "$(http_status "$GHB_URL/account/keys" -b "$T/a" -H 'Origin: http://evil.example' -d "name=x&scope=sync&csrf=$csrf")"
check_eq "Sec-Fetch-Site cross-site → 403" 403 "$(http_status "$GHB_URL/account/keys" -b "$T/a" -H 'Sec-Fetch-Site: cross-site' -d "name=x&scope=sync&csrf=$csrf")"
check_eq "nothing created by refused requests" "$n0" "$(nkeys)"
r=$(curl -s -b "$T/a" -H "Origin: $GHB_URL" -H 'Sec-Fetch-Site: same-origin' -d "name=deploy&scope=projects:read&scope=pulls&expires_days=30&csrf=$csrf" "$GHB_URL/account/keys")
pkey=$(printf '%s' "$r" | grep -o 'value="ghb_[0-9a-f_]*"' | sed 's/value="//; s/"//')
check_match "panel creates a key and shows it once" '^ghb_[0-9a-f]{16}_[0-9a-f]{64}$' "$pkey"
check_eq "panel key authenticates" '{"login":"octocat","auth":"api_key","scopes":["projects:read","pulls"]}' "$(curl -s -H "Authorization: Bearer $pkey" "$GHB_URL/api/v1/me" | sed 's/,"commit_email".*$/}/')"
check_eq "key form validation → 422, the form again" 422 "$(http_status "$GHB_URL/account/keys" -b "$T/a" -d "name=&scope=sync&csrf=$csrf")"
# 404 (no such key) rather than 403 shows the header's token was accepted
check_eq "X-CSRF-Token header accepted" 404 "$(http_status "$GHB_URL/account/keys/999999/revoke" -b "$T/a" -H "X-CSRF-Token: $csrf" -X POST)"
other=$(psql -qtA -c "SELECT k.id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.login = 'cli-user' LIMIT 1")
check_eq "revoking another user's key → 404" 404 "$(http_status "$GHB_URL/account/keys/$other/revoke" -b "$T/a" -d "csrf=$csrf")"

# sealed tokens: none of fakehub's issued tokens appear anywhere in the database
tokens=$(for u in octocat hubot; do curl -s "$FAKEHUB_URL/_fakehub/users/$u/tokens"; done | grep -oE 'gh[our]_[A-Za-z0-9_]+' | sort -u)
psql -qtA -c "SELECT * FROM github_connections" > "$T/dump"
pg_dump -a ghbridge >> "$T/dump" 2>/dev/null
leaked=0
for t in $tokens; do grep -qF "$t" "$T/dump" && leaked=1; done
if [ -n "$tokens" ]; then check_eq "no GitHub token in a database dump" 0 "$leaked"; else skip "no GitHub token in a database dump" "fakehub token list unavailable"; fi
check_eq "tokens are sealed" 1 "$(psql -qtA -c "SELECT count(*) FROM github_connections c JOIN users u ON u.id = c.user_id WHERE u.login = 'octocat' AND access_token_sealed LIKE 'v1.%'")"

# tampered ciphertext → "Reconnect GitHub", never a crash
psql -qtA -c "UPDATE github_connections SET access_token_sealed = overlay(access_token_sealed placing (CASE WHEN substr(access_token_sealed, 30, 1) = 'A' THEN 'B' ELSE 'A' END) from 30 for 1) FROM users u WHERE u.id = user_id AND u.login = 'hubot'" >/dev/null
page=$(curl -s -b "$T/b" "$GHB_URL/account")
check_match "tampered token → Reconnect GitHub" 'Reconnect GitHub' "$page"
check "tampered token logged clearly" grep -q 'cannot be opened (tampered or wrong key)' "$STACK_VAR/log/fcgi.log"

# sessions: list, end one, end all, logout
sid_b=$(psql -qtA -c "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.login = 'hubot' AND ended_at IS NULL ORDER BY s.id LIMIT 1")
csrf_b=$(csrf_of "$T/b")
page=$(curl -s -b "$T/b" "$GHB_URL/account")
check_match "account lists sessions" 'this browser' "$page"
# 24 more hubot sessions (seen earlier than this one): 20 a page, this browser's first, then "Older sessions" (engineer J's item 8).
psql -qtA -c "INSERT INTO sessions (token_hash, user_id, last_seen_at, expires_at, ip, user_agent) SELECT 'paging-' || g || '-' || md5(random()::text), u.id, now() - g * interval '1 minute', now() + interval '1 day', '192.0.2.' || g, 'paging-agent-' || g FROM users u, generate_series(1, 24) g WHERE u.login = 'hubot'" >/dev/null
page=$(curl -s -b "$T/b" "$GHB_URL/account")
check_eq "account: 20 sessions on page 1, this browser's among them" "20 1" "$(printf '%s' "$page" | grep -c 'data-label="Signed in"') $(printf '%s' "$page" | grep -c '<td>this browser</td>')"
check_match "… with a link to the older ones and where it is" 'Page 1 of 2 \([0-9]+ sessions\).*href="/account\?sessions_page=2#sessions" rel="next">Older sessions' "$page"
page=$(curl -s -b "$T/b" "$GHB_URL/account?sessions_page=2")
check_eq "page 2: the rest, oldest last, with a link back" "1 1 0" "$(printf '%s' "$page" | grep -c 'paging-agent-24<') $(printf '%s' "$page" | grep -c 'sessions_page=1#sessions" rel="prev"') $(printf '%s' "$page" | grep -c 'rel="next"')"
check_eq "… and 'End all other sessions'" 1 "$(curl -s -b "$T/b" "$GHB_URL/account" | grep -c 'action="/account/sessions/end-others" data-confirm=')"
hlive() { psql -qtA -c "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.login = 'hubot' AND ended_at IS NULL"; }
before=$(hlive)
code=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/b" -X POST -d "csrf=$csrf_b" "$GHB_URL/account/sessions/end-others")
check_eq "end all other sessions without confirm=1 → 200, the confirm page, nothing ended" "200 1 $before" "$code $(grep -c '<h1>End all other sessions?</h1>' "$T/page") $(hlive)"
check_eq "end all other sessions confirm=1 → 303 /account?done=sessions" "303 /account?done=sessions" "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$T/b" -X POST -d "csrf=$csrf_b" -d confirm=1 "$GHB_URL/account/sessions/end-others" | sed "s|$GHB_URL||")"
check_eq "… only this browser's session is left, and it still works" "1 200" "$(hlive) $(http_status "$GHB_URL/api/v1/me" -b "$T/b")"
check_eq "a page past the end or a word shows a page, not an error" "200 200" "$(http_status "$GHB_URL/account?sessions_page=99" -b "$T/b") $(http_status "$GHB_URL/account?sessions_page=x" -b "$T/b")"
check_eq "ending another user's session → 404" 404 "$(http_status "$GHB_URL/account/sessions/$sid_b/end" -b "$T/a" -d "csrf=$csrf")"
check_eq "logout → 303" 303 "$(http_status "$GHB_URL/logout" -b "$T/a" -d "csrf=$csrf")"
check_eq "old session cookie no longer works" 401 "$(http_status "$GHB_URL/api/v1/me" -b "$T/a")"
check_eq "end all sessions → 303" 303 "$(http_status "$GHB_URL/account/sessions/end-all" -b "$T/b" -d "csrf=$csrf_b" -d confirm=1)"
check_eq "no live hubot sessions left" 0 "$(psql -qtA -c "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.login = 'hubot' AND ended_at IS NULL")"

# idle timeout
signin "$T/c" octocat / >/dev/null
psql -qtA -c "UPDATE sessions SET last_seen_at = now() - interval '30 days' WHERE ended_at IS NULL" >/dev/null
check_eq "idle session expires" 401 "$(http_status "$GHB_URL/api/v1/me" -b "$T/c")"

# key rotation while requests run: every secret re-sealed, nothing lost, no request fails
signin "$T/r" octocat / >/dev/null
"$G" keygen --out "$T/new.key" 2>/dev/null
check_eq "keygen writes a 0600 file" 600 "$(stat -c %a "$T/new.key")"
check_eq "keygen refuses to overwrite" 1 "$("$G" keygen --out "$T/new.key" >/dev/null 2>&1; echo $?)"
( for i in $(seq 1 60); do curl -s -o /dev/null -w '%{http_code}\n' -b "$T/r" "$GHB_URL/account"; done > "$T/during" ) &
loop=$!
out=$("$G" rotate-key --new-key "$T/new.key" 2>&1); rc=$?
wait $loop
check_eq "rotate-key succeeds" 0 "$rc"
check_match "rotate-key re-seals secrets" 're-sealed [1-9][0-9]* secrets' "$out"
check_eq "no request failed during rotation" 60 "$(grep -c '^200$' "$T/during")"
newid=$(printf '%s\n' "$out" | sed -n -E 's/^re-sealed .* with key ([0-9a-f]{8}).*/\1/p')
check_eq "every sealed token uses the new key" 0 "$(psql -qtA -c "SELECT count(*) FROM github_connections WHERE access_token_sealed IS NOT NULL AND access_token_sealed NOT LIKE 'v1.$newid.%' AND status = 'ok'")"
check_match "tokens still open after rotation" 'Connected through the' "$(curl -s -b "$T/r" "$GHB_URL/account")"
check_eq "sign-in still works after rotation (lands on the projects page)" "$GHB_URL/projects" "$(signin "$T/r2" octocat /)"

# disconnect revokes at GitHub and deletes the tokens
signin "$T/d" octocat /account >/dev/null
check_eq "disconnect → 303" 303 "$(http_status "$GHB_URL/account/disconnect" -b "$T/d" -d "csrf=$(csrf_of "$T/d")" -d confirm=1)"
check_eq "tokens deleted" 1 "$(psql -qtA -c "SELECT count(*) FROM github_connections c JOIN users u ON u.id = c.user_id WHERE u.login = 'octocat' AND access_token_sealed IS NULL AND status = 'disconnected'")"
check_match "account offers to reconnect" 'Reconnect GitHub' "$(curl -s -b "$T/d" "$GHB_URL/account")"

finish
