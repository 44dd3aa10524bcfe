#!/usr/bin/env bash
# tests/ops/test-audit-more.sh (issue 15): the audit events the first audit suite did not cover: member invited,
# role changed, removed and ownership transferred; a collaborator invited, set and removed on GitHub by the member
# jobs (actor system); an API key used after it expired (once a day per key) and used from a new address (once per
# address, bounded); GitHub "needs reconnect" when GitHub refuses the token. Each written with its change, and no
# audit row holds a secret (the API keys' secrets, GitHub tokens, the session cookie, the client secret).
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "audit tests (more)" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "audit tests (more)" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FH=$FAKEHUB_URL/_fakehub
API=$GHB_URL/api/v1
S=am$$
O=own$S; D=dev$S; M=mnt$S; R=rev$S
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
START=$(q "SELECT coalesce(max(id), 0) FROM audit_events")
ev() { q "SELECT count(*) FROM audit_events WHERE id > $START AND $1"; }
for u in $O $D $M $R; do
	curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$u\"}"
	signin "$T/jar-$u" "$u" >/dev/null
done
ALL=projects:read,projects:write,sync,pulls
KO=$("$BUILD/ghbridge" apikey create --user "$O" --name audit-more --scopes $ALL 2>&1 | tail -1)
KR=$("$BUILD/ghbridge" apikey create --user "$R" --name audit-rev --scopes $ALL 2>&1 | tail -1)
PUBO=$(printf '%s' "$KO" | cut -d_ -f2)
as() { local k=$1 m=$2 p=$3; shift 3; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $k" "$@" "$API$p"; }
jas() { as "$1" "$2" "$3" -H 'Content-Type: application/json' -d "$4"; }
gh() { local m=$1 p=$2 tok=$3; shift 3; curl -s -X "$m" -H "Authorization: Bearer $tok" "$@" "$FAKEHUB_API_URL$p"; }
member() { as "$KO" GET "/projects/$PID/members" >/dev/null; jq -r ".members[] | select(.login == \"$1\") | $2" "$T/body"; }

# ---------------------------------------------------------------- members, by the owner's API key
check_eq "project → 201" 201 "$(jas "$KO" POST /projects '{"name":"Audit members"}')"
PID=$(jq -r .id "$T/body")
REPO=aud-$S
check_eq "connect (create a repository) → 202" 202 "$(jas "$KO" POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"$REPO\"}")"
check_eq "… connected" done "$(wait_connect "$KO" "$PID" 60)"
check_eq "invite $D as developer → 202" 202 "$(jas "$KO" POST "/projects/$PID/members" "{\"login\":\"$D\",\"role\":\"developer\"}")"
check_eq "member.invited: by the key, the member, the project, the role" "api_key|$PUBO|$O|member|$D|developer" \
	"$(q "SELECT actor_type, actor_key, actor_login, target_type, target_id, details->>'role' FROM audit_events WHERE id > $START AND action = 'member.invited' AND project_id = $PID AND target_id = '$D'")"
jas "$KO" POST "/projects/$PID/members" "{\"login\":\"$M\",\"role\":\"maintainer\"}" >/dev/null
check_eq "a refused invitation (already a member) → 409, no second row" "409 1" \
	"$(jas "$KO" POST "/projects/$PID/members" "{\"login\":\"$D\",\"role\":\"viewer\"}") $(ev "action = 'member.invited' AND target_id = '$D'")"
active() { [ "$(member "$1" .state)" = active ]; }
check "the invitees become active (GitHub named them)" wait_for 30 eval "active $D && active $M"

# The member jobs invite them on GitHub: one row each, actor system, in the transaction that records it.
ghinv() { [ "$(ev "action = 'member.github_invited' AND project_id = $PID AND target_id = '$1'")" = 1 ]; }
check "member.github_invited for the developer (from the member job)" wait_for 30 ghinv "$D"
check_eq "… by system, with the repository, the permission and GitHub's invitation id" "system|$O/$REPO|push|t" \
	"$(q "SELECT actor_type, details->>'repository', details->>'permission', (details->>'invitation_id')::bigint > 0 FROM audit_events WHERE id > $START AND action = 'member.github_invited' AND target_id = '$D'")"
check "member.github_invited for the maintainer" wait_for 30 ghinv "$M"
check_eq "… and the member row says invited with the same id" \
	"$(q "SELECT (details->>'invitation_id') FROM audit_events WHERE id > $START AND action = 'member.github_invited' AND target_id = '$M'")" \
	"$(member "$M" .github.invitation_id)"

check_eq "role change maintainer → developer → 200" 200 "$(jas "$KO" PATCH "/projects/$PID/members/$M" '{"role":"developer"}')"
check_eq "member.role_changed: old → new" "maintainer|developer" \
	"$(q "SELECT details->'role'->>'old', details->'role'->>'new' FROM audit_events WHERE id > $START AND action = 'member.role_changed' AND target_id = '$M'")"
check_eq "a refused role change (no such role) → 400, no row" "400 1" \
	"$(jas "$KO" PATCH "/projects/$PID/members/$M" '{"role":"boss"}') $(ev "action = 'member.role_changed' AND target_id = '$M'")"
# GitHub's PUT for an invitee already invited answers 204 (permission set): recorded as such.
check "member.github_permission_set after the role change (GitHub answered 204)" wait_for 30 \
	eval "[ \"\$(ev \"action = 'member.github_permission_set' AND target_id = '$M'\")\" -ge 1 ] || [ \"\$(ev \"action = 'member.github_invited' AND target_id = '$M'\")\" -ge 2 ]"

# The developer accepts, then is removed: the collaborator goes on GitHub (204), recorded by the job.
DTOK=$(curl -s -X POST "$FH/users/$D/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
INV=$(gh GET /user/repository_invitations "$DTOK" | jq -r "[.[] | select(.repository.name == \"$REPO\")][0].id")
check_eq "the developer accepts on GitHub" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $DTOK" "$FAKEHUB_API_URL/user/repository_invitations/$INV")"
check_eq "remove the developer → 204" 204 "$(as "$KO" DELETE "/projects/$PID/members/$D")"
check_eq "member.removed: by the key, with the role" "api_key|developer" \
	"$(q "SELECT actor_type, details->>'role' FROM audit_events WHERE id > $START AND action = 'member.removed' AND target_id = '$D'")"
check "member.github_removed (the collaborator removed on GitHub, by system)" wait_for 30 \
	eval "[ \"\$(ev \"action = 'member.github_removed' AND actor_type = 'system' AND target_id = '$D' AND details->>'repository' = '$O/$REPO'\")\" = 1 ]"
OTOK=$(curl -s -X POST "$FH/users/$O/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
check_eq "… and GitHub no longer lists them" 0 "$(gh GET "/repos/$O/$REPO/collaborators" "$OTOK" | jq "[.[] | select(.login == \"$D\")] | length")"

# An invitee removed before they accept: the pending invitation is deleted on GitHub (204), recorded by the job.
jas "$KO" POST "/projects/$PID/members" "{\"login\":\"$R\",\"role\":\"developer\"}" >/dev/null
check "the new invitee is invited on GitHub" wait_for 30 ghinv "$R"
check_eq "the owner removes them before they accept → 204" 204 "$(as "$KO" DELETE "/projects/$PID/members/$R")"
# GitHub cancels a pending invitation either way: DELETE …/invitations/{id} (204), and DELETE …/collaborators/{login}
# "cancels any outstanding invitations" (docs "Remove a repository collaborator"; fakehub has only the latter).
gone_gh() { [ "$(ev "action IN ('member.github_invitation_cancelled', 'member.github_removed') AND actor_type = 'system' AND target_id = '$R'")" -ge 1 ]; }
check "the pending invitation removed on GitHub is recorded (github_invitation_cancelled or github_removed)" wait_for 30 gone_gh
check_eq "… and GitHub lists no invitation for them" 0 "$(gh GET "/repos/$O/$REPO/invitations" "$OTOK" | jq "[.[] | select(.invitee.login == \"$R\")] | length")"

# Ownership to the maintainer-turned-developer (signed in).
check_eq "transfer to $M → 200" 200 "$(jas "$KO" POST "/projects/$PID/transfer" "{\"member\":\"$M\"}")"
check_eq "member.ownership_transferred: to whom, by the old owner's key" "api_key|$O|$M" \
	"$(q "SELECT actor_type, actor_login, details->>'to' FROM audit_events WHERE id > $START AND action = 'member.ownership_transferred' AND project_id = $PID")"

# ---------------------------------------------------------------- API keys: new address, expired
PUBR=$(printf '%s' "$KR" | cut -d_ -f2)
check_eq "the key's first request → 200" 200 "$(as "$KR" GET /me)"
check_eq "auth.apikey_new_ip: the key, its user, the address" "api_key|$PUBR|$R|127.0.0.1" \
	"$(q "SELECT actor_type, actor_key, actor_login, details->>'ip' FROM audit_events WHERE id > $START AND action = 'auth.apikey_new_ip' AND target_id = '$PUBR'")"
for i in 1 2 3; do as "$KR" GET /me >/dev/null; done
check_eq "… once per address (three more requests: still one row)" 1 "$(ev "action = 'auth.apikey_new_ip' AND target_id = '$PUBR'")"
if curl -s -o /dev/null --max-time 5 --interface 127.0.0.2 "$GHB_URL/healthz" 2>/dev/null; then
	st=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H "Authorization: Bearer $KR" "$API/me")
	check_eq "from another address (127.0.0.2) → 200" 200 "$st"
	check_eq "… a second auth.apikey_new_ip, naming it" "127.0.0.2" \
		"$(q "SELECT details->>'ip' FROM audit_events WHERE id > $START AND action = 'auth.apikey_new_ip' AND target_id = '$PUBR' ORDER BY id DESC LIMIT 1")"
	curl -s -o /dev/null --interface 127.0.0.2 -H "Authorization: Bearer $KR" "$API/me"
	check_eq "… and not again from there" 2 "$(ev "action = 'auth.apikey_new_ip' AND target_id = '$PUBR'")"
else
	skip "API key from a second address" "cannot bind 127.0.0.2 here"
fi
check_eq "the key's addresses are stored (at most 32)" 1 "$(q "SELECT count(*) BETWEEN 1 AND 32 FROM api_key_ips k JOIN api_keys a ON a.id = k.key_id WHERE a.public_id = '$PUBR'" | sed 's/t/1/')"
KID=$(q "SELECT id FROM api_keys WHERE public_id = '$PUBR'")
q "INSERT INTO api_key_ips (key_id, ip, last_seen_at) SELECT $KID, '10.9.0.' || g, now() - interval '1 day' FROM generate_series(1, 40) g" >/dev/null
st=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 -H "Authorization: Bearer $KR" "$API/me" 2>/dev/null || echo skip)
if [ "$st" = 200 ]; then
	check_eq "a new address past 32 known: the least recently seen go (32 kept, the new one among them)" "32 1" \
		"$(q "SELECT count(*), count(*) FILTER (WHERE ip = '127.0.0.3') FROM api_key_ips WHERE key_id = $KID" | tr '|' ' ')"
else
	skip "bounded addresses" "cannot bind 127.0.0.3 here"
fi

q "UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE public_id = '$PUBR'" >/dev/null
check_eq "an expired key → 401" 401 "$(as "$KR" GET /me)"
check_eq "auth.apikey_expired: refused, by the key, its name" "refused|api_key|$PUBR|audit-rev" \
	"$(q "SELECT outcome, actor_type, actor_key, details->>'name' FROM audit_events WHERE id > $START AND action = 'auth.apikey_expired' AND target_id = '$PUBR'")"
for i in 1 2 3; do as "$KR" GET /me >/dev/null; done
check_eq "… at most once a day per key (three more refusals: one row)" 1 "$(ev "action = 'auth.apikey_expired' AND target_id = '$PUBR'")"
q "UPDATE api_keys SET expiry_noted_at = now() - interval '25 hours' WHERE public_id = '$PUBR'" >/dev/null
as "$KR" GET /me >/dev/null
check_eq "… and again a day later" 2 "$(ev "action = 'auth.apikey_expired' AND target_id = '$PUBR'")"
check_eq "a wrong secret for a known key writes no expiry row" 2 \
	"$(curl -s -o /dev/null -H "Authorization: Bearer ghb_${PUBR}_$(printf '0%.0s' $(seq 64))" "$API/me"; q "UPDATE api_keys SET expiry_noted_at = NULL WHERE public_id = '$PUBR'" >/dev/null; curl -s -o /dev/null -H "Authorization: Bearer ghb_${PUBR}_$(printf '0%.0s' $(seq 64))" "$API/me"; ev "action = 'auth.apikey_expired' AND target_id = '$PUBR'")"

# ---------------------------------------------------------------- GitHub needs reconnect
RUID=$(q "SELECT id FROM users WHERE login = '$R'")
CID=$GHBRIDGE_GITHUB_CLIENT_ID
GTOK=$(curl -s "$FH/users/$R/tokens" | jq -r --arg c "$CID" '[.[] | select(.client_id == $c and .active)] | last | .token')
check_eq "the user revokes ghbridge's grant on GitHub → 204" 204 "$(curl -s -o /dev/null -w '%{http_code}' -u "$CID:$GHBRIDGE_GITHUB_CLIENT_SECRET" \
	-X DELETE "$FAKEHUB_API_URL/applications/$CID/grant" -d "{\"access_token\":\"$GTOK\"}")"
KR2=$("$BUILD/ghbridge" apikey create --user "$R" --name audit-rev2 --scopes $ALL 2>&1 | tail -1)
check_eq "refresh the repository list (a job asks GitHub) → 202" 202 "$(as "$KR2" POST /github/repos/refresh)"
rec() { [ "$(q "SELECT status FROM github_connections WHERE user_id = $RUID")" = needs_reconnect ]; }
check "the connection is marked needs_reconnect" wait_for 60 rec
check_eq "auth.github_needs_reconnect: the user, the reason, in the same transaction as the mark" "user|$RUID|failure|t" \
	"$(q "SELECT target_type, target_id, outcome, details->>'reason' <> '' FROM audit_events WHERE id > $START AND action = 'auth.github_needs_reconnect' AND target_id = '$RUID'")"
as "$KR2" POST /github/repos/refresh >/dev/null
sleep 2
check_eq "… once: asking again while it needs reconnecting writes no second row" 1 "$(ev "action = 'auth.github_needs_reconnect' AND target_id = '$RUID'")"

# ---------------------------------------------------------------- no secret in any row of this run
secrets=("${KO##*_}" "${KR##*_}" "${KR2##*_}" "$GTOK" "$DTOK" "$OTOK" "$GHBRIDGE_GITHUB_CLIENT_SECRET")
for u in $O $D $M $R; do
	secrets+=("$(awk 'NF >= 7 && $6 ~ /session/ {print $7}' "$T/jar-$u" | head -1)")
	for t in $(curl -s "$FH/users/$u/tokens" | jq -r '.[].token // empty'); do secrets+=("$t"); done
done
q "SELECT row_to_json(a)::text FROM audit_events a WHERE id > $START" > "$T/rows"
leaks=0
for s in "${secrets[@]}"; do
	[ ${#s} -ge 16 ] && grep -qF -- "$s" "$T/rows" && leaks=$((leaks + 1))
done
check_eq "no audit row of this run holds a secret (${#secrets[@]} checked, $(wc -l < "$T/rows") rows)" 0 "$leaks"
finish
