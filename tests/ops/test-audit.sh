#!/usr/bin/env bash
# tests/ops/test-audit.sh: the audit log through nginx: a row per action with its actor (user, API key by
# public id, anonymous), IP, user agent and request id, written in the same transaction as the change (a
# failed or rolled-back change leaves no success row), never a secret; UPDATE, DELETE and TRUNCATE refused
# on the service's own connection; retention only through audit_events_purge; /admin/audit and
# GET /api/v1/audit for admins with filters, cursor pages, CSV and JSON Lines; the account page's events.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "audit tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "audit tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
GHB=$BUILD/ghbridge
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=aud$$
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
cleanup() {
	psql -XAtq -c "DROP TRIGGER IF EXISTS audit_test_fail ON audit_events; DROP FUNCTION IF EXISTS audit_test_fail()" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
START=$(q "SELECT max(id) FROM audit_events" | sed 's/^$/0/')
ev() { q "SELECT count(*) FROM audit_events WHERE id > $START AND $1"; }

curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"Audit Tests\"}" >/dev/null
curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U-x\",\"name\":\"Not Admin\"}" >/dev/null
signin "$T/jar" "$U" >/dev/null
signin "$T/jar-x" "$U-x" >/dev/null
UID_=$(q "SELECT id FROM users WHERE login = '$U'")
q "UPDATE users SET is_admin = (login = '$U') WHERE login IN ('$U', '$U-x')" >/dev/null

# ---------------------------------------------------------------- sign-in
check_eq "sign-in: GitHub connected and signed in, for the user" 2 \
	"$(ev "action IN ('auth.github_connected', 'auth.signed_in') AND target_type = 'user' AND target_id = '$UID_' AND outcome = 'success'")"
check_eq "sign-in: IP, user agent and request id recorded" "t|t|t" \
	"$(q "SELECT ip IS NOT NULL, user_agent LIKE 'curl/%', request_id ~ '^[0-9a-f]+' FROM audit_events WHERE id > $START AND action = 'auth.signed_in' AND target_id = '$UID_'")"
check_eq "sign-in refused (a bad state) → 400" 400 "$(http_status "$GHB_URL/oauth/callback?state=$(printf 'a%.0s' $(seq 64))&code=x" -H 'User-Agent: audit-test-agent')"
check_eq "sign-in refused: one refused row, anonymous, with the reason" "anonymous|refused|t" \
	"$(q "SELECT actor_type, outcome, details->>'reason' <> '' FROM audit_events WHERE id > $START AND action = 'auth.signin_refused' AND user_agent = 'audit-test-agent'")"
check_eq "sign-in cancelled at GitHub → a refused row" 1 "$(http_status "$GHB_URL/oauth/callback?error=access_denied&state=x" -H 'User-Agent: audit-cancel' >/dev/null; ev "action = 'auth.signin_refused' AND user_agent = 'audit-cancel'")"

# ---------------------------------------------------------------- API keys from the panel
csrf=$(csrf_of "$T/jar")
r=$(curl -s -b "$T/jar" -d "name=audit-key&scope=projects:read&scope=projects:write&scope=sync&scope=admin&csrf=$csrf" "$GHB_URL/account/keys")
KEY=$(printf '%s' "$r" | grep -o 'value="ghb_[0-9a-f_]*"' | sed 's/value="//; s/"//')
check_match "a key from the panel" '^ghb_[0-9a-f]{16}_[0-9a-f]{64}$' "$KEY"
PUB=$(printf '%s' "$KEY" | cut -d_ -f2)
SECRET=$(printf '%s' "$KEY" | cut -d_ -f3)
check_eq "API key created: by the user, the key by its public id, its name" "user|$U|api_key|$PUB|audit-key" \
	"$(q "SELECT actor_type, actor_login, target_type, target_id, details->>'name' FROM audit_events WHERE id > $START AND action = 'auth.apikey_created'")"
check_eq "key form refused (no name) → 422, no row" "422 1" \
	"$(http_status "$GHB_URL/account/keys" -b "$T/jar" -d "name=&scope=sync&csrf=$csrf") $(ev "action = 'auth.apikey_created'")"

call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEY" -H 'User-Agent: audit-api' "$@" "$API$p"; }

# ---------------------------------------------------------------- projects
check_eq "project created → 201" 201 "$(call POST /projects -H 'Content-Type: application/json' -d '{"name":"Audited"}')"
PID=$(jq -r .id "$T/body")
check_eq "project.created: by the API key (public id), the user, the project" "api_key|$PUB|$U|$PID|Audited|audit-api" \
	"$(q "SELECT actor_type, actor_key, actor_login, project_id, details->>'name', user_agent FROM audit_events WHERE id > $START AND action = 'project.created'")"
check_eq "renamed → 200" 200 "$(call PATCH "/projects/$PID" -H 'Content-Type: application/json' -d '{"name":"Audited 2"}')"
check_eq "project.renamed: old → new" "Audited|Audited 2" \
	"$(q "SELECT details->'name'->>'old', details->'name'->>'new' FROM audit_events WHERE id > $START AND action = 'project.renamed' AND project_id = $PID")"
check_eq "a refused rename (empty name) → 400" 400 "$(call PATCH "/projects/$PID" -H 'Content-Type: application/json' -d '{"name":"   "}')"
check_eq "… writes no row" 1 "$(ev "action = 'project.renamed' AND project_id = $PID")"
check_eq "settings changed → 200" 200 "$(call PATCH "/projects/$PID/settings" -H 'Content-Type: application/json' -d '{"auto_sync":false,"exclude_patterns":"*.tmp"}')"
check_eq "project.settings_changed: each changed field old → new" "1|0|*.tmp" \
	"$(q "SELECT details->'auto_sync'->>'old', details->'auto_sync'->>'new', details->'exclude_patterns'->>'new' FROM audit_events WHERE id > $START AND action = 'project.settings_changed' AND project_id = $PID")"

# The same transaction: when the audit row cannot be written, the change it records is rolled back too.
q "CREATE FUNCTION audit_test_fail() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN IF NEW.action = 'project.renamed' THEN RAISE EXCEPTION 'audit test: refused'; END IF; RETURN NEW; END \$\$;
   CREATE TRIGGER audit_test_fail BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_test_fail()" >/dev/null
st=$(call PATCH "/projects/$PID" -H 'Content-Type: application/json' -d '{"name":"Never"}')
q "DROP TRIGGER audit_test_fail ON audit_events; DROP FUNCTION audit_test_fail()" >/dev/null
check_match "a rename whose audit row fails → 5xx" '^5' "$st"
check_eq "… and the rename was rolled back with it" "Audited 2" "$(q "SELECT name FROM projects WHERE id = $PID")"
check_eq "… no success row" 1 "$(ev "action = 'project.renamed' AND project_id = $PID")"

# ---------------------------------------------------------------- webhooks, sessions, jobs
printf '{"zen":"x"}' > "$T/hook"
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$GHB_URL/webhooks/github" -H 'Content-Type: application/json' \
	-H 'X-GitHub-Event: ping' -H "X-GitHub-Delivery: aud-$$" -H "X-Hub-Signature-256: sha256=$(printf '0%.0s' $(seq 64))" --data-binary "@$T/hook")
check_eq "a webhook with a bad signature → 401" 401 "$st"
check_eq "webhook.refused: refused, what it claimed to be" "refused|ping|aud-$$" \
	"$(q "SELECT outcome, details->>'event', details->>'delivery' FROM audit_events WHERE id > $START AND action = 'webhook.refused' AND details->>'delivery' = 'aud-$$'")"
signin "$T/jar2" "$U" >/dev/null
SID=$(q "SELECT id FROM sessions WHERE user_id = $UID_ AND ended_at IS NULL ORDER BY id DESC LIMIT 1")
check_eq "end another session → 303" 303 "$(http_status "$GHB_URL/account/sessions/$SID/end" -b "$T/jar" -d "csrf=$csrf&confirm=1")"
check_eq "auth.session_ended: by the user, the session" "user|$SID" \
	"$(q "SELECT actor_type, target_id FROM audit_events WHERE id > $START AND action = 'auth.session_ended'")"
DEAD=$("$GHB" jobs enqueue noop --queue "audit-$$" --project "$PID")
q "UPDATE jobs SET state = 'dead', finished_at = now() WHERE id = $DEAD" >/dev/null
check_eq "admin retries a dead job → 303" 303 "$(http_status "$GHB_URL/admin/jobs/$DEAD/retry" -b "$T/jar" -d "csrf=$csrf")"
check_eq "job.retried by the admin" "user|$U|$DEAD" "$(q "SELECT actor_type, actor_login, target_id FROM audit_events WHERE id > $START AND action = 'job.retried'")"
q "DELETE FROM jobs WHERE queue = 'audit-$$'" >/dev/null
check_eq "revoke the key's twin → 303" 303 "$(r=$(curl -s -b "$T/jar" -d "name=twin&scope=sync&csrf=$csrf" "$GHB_URL/account/keys"); kid=$(q "SELECT id FROM api_keys WHERE user_id = $UID_ AND name = 'twin'"); http_status "$GHB_URL/account/keys/$kid/revoke" -b "$T/jar" -d "csrf=$csrf&confirm=1")"
check_eq "auth.apikey_revoked" 1 "$(ev "action = 'auth.apikey_revoked' AND actor_user_id = $UID_")"

# ---------------------------------------------------------------- never a secret
q "SELECT * FROM audit_events WHERE id > $START" > "$T/dump"
if grep -q "$SECRET" "$T/dump"; then not_ok "no API key secret in the audit log"; else ok "no API key secret in the audit log"; fi
tok=$(curl -s "$FH/users/$U/tokens" | grep -oE 'gh[our]_[A-Za-z0-9_]+' | head -1)
if [ -n "$tok" ] && grep -q "$tok" "$T/dump"; then not_ok "no GitHub token in the audit log"; else ok "no GitHub token in the audit log"; fi
if grep -qi "ghb_session\|csrf=" "$T/dump"; then not_ok "no session cookie or CSRF token in the audit log"; else ok "no session cookie or CSRF token in the audit log"; fi

# ---------------------------------------------------------------- append-only on the service's connection
check_match "UPDATE audit_events refused" "append-only: UPDATE refused" "$(psql -XAtq -c "UPDATE audit_events SET outcome = 'failure' WHERE id > $START" 2>&1)"
check_match "DELETE FROM audit_events refused" "append-only: DELETE refused" "$(psql -XAtq -c "DELETE FROM audit_events WHERE id > $START" 2>&1)"
check_match "TRUNCATE audit_events refused" "append-only: TRUNCATE refused" "$(psql -XAtq -c "TRUNCATE audit_events" 2>&1)"
check_eq "… every row still there" "$(ev true)" "$(ev true)"
q "INSERT INTO audit_events (at, actor_type, action, outcome) VALUES (now() - interval '500 days', 'system', 'test.ancient', 'success')" >/dev/null
q "INSERT INTO sync_history (project_id, trigger, status, started_at, finished_at) VALUES
   ($PID, 'manual', 'success', now() - interval '200 days', now() - interval '200 days'),
   ($PID, 'manual', 'success', now() - interval '100 days', now() - interval '100 days')" >/dev/null
q "INSERT INTO webhook_deliveries (delivery_id, event, repo_owner, repo_name, received_at, outcome) VALUES
   ('old-$$', 'push', 'o', 'r', now() - interval '200 days', 'done'), ('new-$$', 'push', 'o', 'r', now(), 'done')" >/dev/null
check_match "the retention pass: ghbridge sync purge" "deleted [0-9]+ row" "$("$GHB" sync purge 2>&1)"
check_eq "… sync history: the row past history_keep_days (180) gone, the 100-day one kept" "0 1" \
	"$(q "SELECT count(*) FILTER (WHERE started_at < now() - interval '150 days'), count(*) FILTER (WHERE started_at BETWEEN now() - interval '150 days' AND now() - interval '50 days') FROM sync_history WHERE project_id = $PID" | tr '|' ' ')"
check_eq "… webhook deliveries: the old one gone, the new one kept" "new-$$" "$(q "SELECT string_agg(delivery_id, ',') FROM webhook_deliveries WHERE delivery_id IN ('old-$$', 'new-$$')")"
q "DELETE FROM webhook_deliveries WHERE delivery_id = 'new-$$'" >/dev/null
check_eq "… deleted the row past audit_keep_days (400) through audit_events_purge" 0 "$(ev "action = 'test.ancient'")"
check_match "… and kept the recent ones" '^[1-9]' "$(ev "action = 'project.created'")"
check_match "audit_events_purge refuses keep_days 0" "at least 1" "$(psql -XAtq -c "SELECT audit_events_purge(0, 10)" 2>&1)"

# ---------------------------------------------------------------- the admin's views
check_eq "/admin/audit for a non-admin → 403" 403 "$(http_status "$GHB_URL/admin/audit" -b "$T/jar-x")"
page=$(curl -s -b "$T/jar" "$GHB_URL/admin/audit?action=project.&project=$PID")
check_match "/admin/audit: filtered by action prefix and project" "project.settings_changed.*project.renamed.*project.created" "$(printf '%s' "$page" | tr -d '\n')"
if printf '%s' "$page" | grep -q "auth.signed_in"; then not_ok "/admin/audit: the filter leaves other actions out"; else ok "/admin/audit: the filter leaves other actions out"; fi
# Times read as on every other page; ISO stays for machines in datetime (engineer J's item 4).
check_match "/admin/audit: times as '2026-11-30 00:25:09 UTC', ISO in <time datetime>" '<td data-label="Time \(UTC\)"><time datetime="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z">[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC</time></td>' "$page"
if printf '%s' "$page" | grep -Eq '>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}'; then not_ok "/admin/audit: no ISO time shown as text"; else ok "/admin/audit: no ISO time shown as text"; fi
check_eq "/admin/audit: a malformed time → 400" 400 "$(http_status "$GHB_URL/admin/audit?since=yesterday" -b "$T/jar")"
check_eq "/admin/audit: a date that does not exist → 400 (not a 500 from the cast)" 400 "$(http_status "$GHB_URL/admin/audit?since=2026-02-31" -b "$T/jar")"
check_eq "/admin/audit: digits in a time's shape that are no time → 400" 400 "$(http_status "$GHB_URL/admin/audit?until=2026-11-29T99:99:99Z" -b "$T/jar")"
check_eq "/admin/audit: a time with an offset → 200" 200 "$(http_status "$GHB_URL/admin/audit?since=2026-11-29T10:00:00.5%2B01:00" -b "$T/jar")"
KX=$("$GHB" apikey create --user "$U-x" --name aud --scopes admin,projects:read 2>&1 | tail -1)
check_eq "API: a non-admin's key with the admin scope → 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KX" "$API/audit")"
KN=$("$GHB" apikey create --user "$U" --name aud-ns --scopes projects:read 2>&1 | tail -1)
check_eq "API: an admin's key without the admin scope → 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KN" "$API/audit")"
check_eq "API: by actor (the key's public id)" "project.created project.renamed project.settings_changed" \
	"$(call GET "/audit?actor=$PUB&project=$PID&limit=100" >/dev/null; jq -r '[.events[].action] | sort | join(" ")' "$T/body")"
check_eq "API: by actor (the login), action: the two keys made in the panel" "twin audit-key" "$(call GET "/audit?actor=$U&action=auth.apikey_created" >/dev/null; jq -r '[.events[].details.name] | join(" ")' "$T/body")"
check_eq "API: actor, IP and request id in each event" "api_key|$PUB|true|true" \
	"$(call GET "/audit?action=project.created&project=$PID" >/dev/null; jq -r '.events[0] | "\(.actor.type)|\(.actor.api_key)|\(.ip != null)|\(.request_id != null)"' "$T/body")"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
check_eq "API: until a time before them → none" 0 "$(call GET "/audit?project=$PID&until=2000-01-01T00:00:00Z" >/dev/null; jq '.events | length' "$T/body")"
check_eq "API: since now+1h → none" 0 "$(call GET "/audit?project=$PID&since=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null; jq '.events | length' "$T/body")"
check_match "API: since an hour ago → them" '^[3-9]' "$(call GET "/audit?project=$PID&since=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null; jq '.events | length' "$T/body")"
# cursor pages: limit 2, then the next page from next_before; together they are the whole list, without overlap
call GET "/audit?project=$PID&limit=2" >/dev/null
p1=$(jq -r '[.events[].id] | join(" ")' "$T/body"); nb=$(jq -r .next_before "$T/body")
call GET "/audit?project=$PID&limit=2&before=$nb" >/dev/null
p2=$(jq -r '[.events[].id] | join(" ")' "$T/body")
all=$(call GET "/audit?project=$PID&limit=4" >/dev/null; jq -r '[.events[].id] | join(" ")' "$T/body")
check_eq "API: two cursor pages of 2 = the first 4, in order" "$all" "$p1 $p2"
check_eq "API: an unknown format → 400" 400 "$(call GET "/audit?format=xml")"
call GET "/audit?project=$PID&format=csv" >/dev/null
check_eq "CSV: the header row" "id,at,actor_type,actor_login,actor_key,action,target_type,target_id,project_id,outcome,ip,user_agent,request_id,details" "$(head -1 "$T/body" | tr -d '\r')"
check_match "CSV: quoted fields, JSON quotes doubled" '"project.renamed","project","","'"$PID"'".*"\{""name"": ?\{""new"": ?""Audited 2""' "$(cat "$T/body")"
check_eq "CSV: one line per event plus the header" "$(( $(call GET "/audit?project=$PID&limit=100" >/dev/null; jq '.events | length' "$T/body") + 1 ))" "$(call GET "/audit?project=$PID&format=csv&limit=100" >/dev/null; wc -l < "$T/body" | tr -d ' ')"
call GET "/audit?project=$PID&format=jsonl&limit=100" >/dev/null
check "JSON Lines: every line is a JSON object" sh -c "jq -e 'type == \"object\"' < '$T/body' >/dev/null"
check_eq "JSON Lines: as many lines as events" "$(call GET "/audit?project=$PID&limit=100" >/dev/null; jq '.events | length' "$T/body")" "$(call GET "/audit?project=$PID&format=jsonl&limit=100" >/dev/null; wc -l < "$T/body" | tr -d ' ')"

# ---------------------------------------------------------------- the user's own security events
acc=$(curl -s -b "$T/jar" "$GHB_URL/account")
check_match "account page: the user's sign-in and key events" "auth.session_ended.*auth.apikey_created.*auth.signed_in" "$(printf '%s' "$acc" | tr -d '\n' | sed 's/.*id="security-events"//')"
if printf '%s' "$(curl -s -b "$T/jar-x" "$GHB_URL/account" | tr -d '\n' | sed 's/.*id="security-events"//')" | grep -q "auth.apikey_created"; then
	not_ok "account page: another user's events are not shown"; else ok "account page: another user's events are not shown"; fi
check_eq "project deleted → 204" 204 "$(call DELETE "/projects/$PID")"
check_eq "project.deleted" 1 "$(ev "action = 'project.deleted' AND project_id = $PID")"
check_eq "sign out → 303 or 302" 1 "$(st=$(http_status "$GHB_URL/logout" -b "$T/jar" -d "csrf=$csrf"); case $st in 30[23]) echo 1 ;; *) echo "$st" ;; esac)"
check_eq "auth.signed_out by the user" 1 "$(ev "action = 'auth.signed_out' AND actor_login = '$U'")"

finish
