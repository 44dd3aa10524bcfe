#!/usr/bin/env bash
# tests/members/test-invitations.sh: GitHub invitations followed past "invited" (issue 14), against fakehub:
# invite → accept → role change on the collaborator; a role change on a pending invitation (one PATCH, no second
# invitation); expiry after 7 days (one re-invitation, a second expiry only shown); removal of a pending and of an
# accepted member; personal vs organisation repository permissions (GET …/collaborators/{u}/permission); GitHub's
# 50-invitations-a-day limit (deferred and said, then sent once the day has passed); a worker SIGKILLed during
# "sync all members" (exactly one invitation per member in fakehub's request log).
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "invitation tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "invitation tests" "fakehub is not running"; finish; exit; fi
if [ -z "${STACK_VAR:-}" ] || [ ! -f "$STACK_VAR/run/worker.pid" ]; then skip "invitation tests" "no stack worker to swap"; finish; exit; fi

T=$(mktemp -d)
FH=$FAKEHUB_URL/_fakehub
API=$GHB_URL/api/v1
S=i$$
O=iown$S; ORG=iorg$S
WPIDF=$STACK_VAR/run/worker.pid
CLOCK0=$(curl -s "$FH/clock" | jq -r .offset_seconds)
# A short lease, so that a SIGKILLed worker's job comes back within seconds (section 7).
worker_restart() {
	local pid i
	pid=$(cat "$WPIDF" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	fi
	env "$@" setsid "$BUILD/ghbridge" worker >> "$STACK_VAR/log/worker.log" 2>&1 < /dev/null &
	echo $! > "$WPIDF"
}
cleanup() {
	curl -s -o /dev/null -X DELETE "$FH/faults"
	# fakehub's clock is shared by every suite of the run: put it back.
	curl -s -o /dev/null -X POST "$FH/clock" -H 'Content-Type: application/json' -d "{\"offset_seconds\":${CLOCK0:-0}}"
	worker_restart
	rm -rf "$T"
}
trap cleanup EXIT
worker_restart GHBRIDGE_JOBS_LEASE_SECONDS=3

fh_user() { curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$1\"}"; }
fh_token() { curl -s -X POST "$FH/users/$1/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token; }
fh_user $O
curl -s -o /dev/null -X POST "$FH/orgs" -H 'Content-Type: application/json' -d "{\"login\":\"$ORG\"}"
curl -s -o /dev/null -X PUT "$FH/orgs/$ORG/members/$O" -H 'Content-Type: application/json' -d '{"role":"admin"}'
signin "$T/jar" $O >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user $O --name invitations --scopes projects:read,projects:write,sync,pulls 2>&1 | tail -1)
OTOK=$(fh_token $O)
call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
jcall() { call "$1" "$2" -H 'Content-Type: application/json' -d "$3"; }
gh() { local m=$1 p=$2; shift 2; curl -s -X "$m" -H "Authorization: Bearer $OTOK" "$@" "$FAKEHUB_API_URL$p"; }
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
member() { call GET "/projects/$1/members" >/dev/null; jq -r ".members[] | select(.login == \"$2\") | $3" "$T/body"; }
# invitation OWNER/REPO LOGIN FIELD: the field of LOGIN's invitation on fakehub (empty when none).
invitation() { gh GET "/repos/$1/invitations?per_page=100" | jq -r "[.[] | select(.invitee.login == \"$2\")][0] | if . == null then \"\" else ($3 | tostring) end"; }
ninvitations() { gh GET "/repos/$1/invitations?per_page=100" | jq "[.[] | select(.invitee.login == \"$2\")] | length"; }
last_id() { curl -s "$FH/requests/count" | jq -r .last_id; }
# calls SINCE METHOD PATH: how many such REST calls fakehub logged since SINCE (PATH exact, under /api/v3).
calls() { curl -s "$FH/requests?since_id=$1&method=$2" | jq --arg p "/api/v3$3" '[.[] | select(.path == $p)] | length'; }
new_project() { # NAME OWNER REPO → $PID, connected
	jcall POST /projects "{\"name\":\"$1\"}" >/dev/null
	PID=$(jq -r .id "$T/body")
	jcall POST "/projects/$PID/repository" "{\"mode\":\"create\",\"owner\":\"$2\",\"name\":\"$3\"}" >/dev/null
	CONN=$(wait_connect "$KEY" "$PID" 60)
}
invite() { jcall POST "/projects/$1/members" "{\"login\":\"$2\",\"role\":\"$3\"}"; }
gstate() { [ "$(member "$1" "$2" .github.state)" = "$3" ]; }
accept() { # OWNER/REPO LOGIN
	local tok id
	tok=$(fh_token "$2")
	id=$(curl -s -H "Authorization: Bearer $tok" "$FAKEHUB_API_URL/user/repository_invitations" |
		jq -r "[.[] | select(.repository.full_name == \"$1\")][0].id")
	curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $tok" "$FAKEHUB_API_URL/user/repository_invitations/$id"
}
drift() { call POST "/projects/$1/members/drift" >/dev/null; local j; j=$(jq -r .job_id "$T/body"); wait_for 30 eval "[ \"\$(q \"SELECT state FROM jobs WHERE id = $j\")\" = done ]"; }
idle_jobs() { [ "$(q "SELECT count(*) FROM jobs WHERE project_id = $1 AND kind LIKE 'member%' AND state IN ('queued', 'running') AND run_after <= now()")" = 0 ]; }
advance() { curl -s -o /dev/null -X POST "$FH/clock" -H 'Content-Type: application/json' -d "{\"advance_seconds\":$1}"; }

A=acc$S; P=pend$S; E=exp$S; R1=rmp$S; R2=rma$S; W=wr$S
for u in $A $P $E $R1 $R2 $W; do fh_user $u; done

# ---- 1. an organisation's repository: invite → accept → role change on the collaborator
OREPO=inv-org-$S
new_project "Invitations org" $ORG $OREPO
check_eq "a project on an organisation's repository ($ORG/$OREPO)" done "$CONN"
PORG=$PID
check_eq "invite $A as developer → 202" 202 "$(invite $PORG $A developer)"
check "… invited on GitHub" wait_for 30 gstate $PORG $A invited
check_eq "… the invitation asks for write" write "$(invitation $ORG/$OREPO $A .permissions)"
check_eq "… not expired" false "$(invitation $ORG/$OREPO $A .expired)"
expiry_checks() { q "SELECT count(*) FROM jobs WHERE kind = 'member_drift' AND project_id = $PORG AND state = 'queued' AND dedup_key LIKE 'member_expiry:%' AND run_after > now() + interval '7 days'"; }
check_eq "… and a check of GitHub's invitations is queued for when it expires, 7 days on" 1 "$(expiry_checks)"
check_eq "$A accepts on GitHub" 204 "$(accept $ORG/$OREPO $A)"
drift $PORG
check_eq "… followed: a collaborator now" collaborator "$(member $PORG $A .github.state)"
SINCE=$(last_id)
check_eq "role change on the collaborator → 200" 200 "$(jcall PATCH "/projects/$PORG/members/$A" '{"role":"maintainer"}')"
check "… GitHub gives maintain" wait_for 30 eval "[ \"\$(gh GET /repos/$ORG/$OREPO/collaborators/$A/permission | jq -r .role_name)\" = maintain ]"
check_eq "… by one PUT on the collaborator, no invitation call" "1 0" \
	"$(calls $SINCE PUT /repos/$ORG/$OREPO/collaborators/$A) $(curl -s "$FH/requests?since_id=$SINCE" | jq '[.[] | select(.path | contains("/invitations"))] | length')"
check_eq "… the permission answer: legacy write, role maintain" "write maintain $A" \
	"$(gh GET /repos/$ORG/$OREPO/collaborators/$A/permission | jq -r '"\(.permission) \(.role_name) \(.user.login)"')"

# ---- 2. a role change on a pending invitation: one PATCH, no second invitation
invite $PORG $P developer >/dev/null
check "$P invited" wait_for 30 gstate $PORG $P invited
IP=$(invitation $ORG/$OREPO $P .id)
SINCE=$(last_id)
check_eq "role change on the pending invitation → 200" 200 "$(jcall PATCH "/projects/$PORG/members/$P" '{"role":"maintainer"}')"
check "… the invitation asks for maintain" wait_for 30 eval "[ \"\$(invitation $ORG/$OREPO $P .permissions)\" = maintain ]"
wait_for 20 idle_jobs $PORG
check_eq "… one PATCH …/invitations/$IP in fakehub's log, no PUT" "1 0" \
	"$(calls $SINCE PATCH /repos/$ORG/$OREPO/invitations/$IP) $(calls $SINCE PUT /repos/$ORG/$OREPO/collaborators/$P)"
check_eq "… still one invitation, the same one" "1 $IP" "$(ninvitations $ORG/$OREPO $P) $(invitation $ORG/$OREPO $P .id)"
check_eq "… the member shows invited, maintain" "invited maintain" "$(member $PORG $P '.github.state + " " + .github.permission')"
PUBLIC_READ=$(gh GET /repos/$ORG/$OREPO | jq -r 'if .private then "none" else "read" end')
check_eq "a pending invitation gives nothing yet (what anyone has: $PUBLIC_READ)" $PUBLIC_READ "$(gh GET /repos/$ORG/$OREPO/collaborators/$P/permission | jq -r .permission)"

# ---- 3. expiry: GitHub expires an invitation after 7 days; ghbridge sends it again once, then only says so
invite $PORG $E developer >/dev/null
check "$E invited" wait_for 30 gstate $PORG $E invited
IE1=$(invitation $ORG/$OREPO $E .id)
advance $((8 * 86400))
check_eq "8 days later fakehub lists it expired" true "$(invitation $ORG/$OREPO $E .expired)"
ETOK=$(fh_token $E)
check_eq "… and it cannot be accepted" 404 "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $ETOK" "$FAKEHUB_API_URL/user/repository_invitations/$IE1")"
SINCE=$(last_id)
# A week passes for ghbridge too: its queued expiry check comes due.
q "UPDATE jobs SET run_after = now() WHERE kind = 'member_drift' AND project_id = $PORG AND state = 'queued' AND dedup_key LIKE 'member_expiry:%'; NOTIFY ghbridge_jobs" >/dev/null
check "the expiry check finds it expired and $E is invited again" wait_for 30 eval "[ \"\$(member $PORG $E .github.state)\" = invited ] && [ \"\$(member $PORG $E .github.reinvites)\" = 1 ]"
# Another check that listed the old invitation before it was replaced (the periodic sweep, or a click) must not
# expire the new one and send a third (a full run once read "inviting again" here, after "invited" and 1 re-invite).
check "… and the member says so, once every check has settled" wait_for 30 eval \
	"idle_jobs $PORG && member $PORG $E .github.error | grep -Eq 'expired on [0-9-]+ [0-9:]+ UTC, invited again'"
IE2=$(invitation $ORG/$OREPO $E .id)
check_eq "… a new invitation, pending" "true false" "$([ -n "$IE2" ] && [ "$IE2" != "$IE1" ] && echo true || echo "false($IE2)") $(invitation $ORG/$OREPO $E .expired)"
check_eq "… one invitation for $E on GitHub" 1 "$(ninvitations $ORG/$OREPO $E)"
drift $PORG
wait_for 20 idle_jobs $PORG
check_eq "… sent by one PUT (the old one deleted first), however often GitHub is compared" "1 1" \
	"$(calls $SINCE PUT /repos/$ORG/$OREPO/collaborators/$E) $(calls $SINCE DELETE /repos/$ORG/$OREPO/invitations/$IE1)"
check_eq "… and counted as the one re-invitation, still pending" "1 invited" "$(member $PORG $E .github.reinvites) $(member $PORG $E .github.state)"
check_match "the Members tab says it" "expired on [0-9-]+ [0-9:]+ UTC, invited again" \
	"$(curl -s -b "$T/jar" "$GHB_URL/projects/$PORG/members" | grep -A3 "data-member=\"$E\"")"
advance $((8 * 86400))
SINCE=$(last_id)
drift $PORG
check "a second expiry is shown" wait_for 30 gstate $PORG $E expired
check_match "… in words, not sent a third time" "expired on .* not sent a third time" "$(member $PORG $E .github.error)"
drift $PORG
wait_for 20 idle_jobs $PORG
check_eq "… and no PUT for it" 0 "$(calls $SINCE PUT /repos/$ORG/$OREPO/collaborators/$E)"
check_eq "… with Retry offered" true "$(member $PORG $E .github.can_retry)"
check_eq "… on the Members tab too" 1 "$(curl -s -b "$T/jar" "$GHB_URL/projects/$PORG/members" | grep -c "Ask GitHub again for $E")"
check_eq "the owner retries → 202" 202 "$(call POST "/projects/$PORG/members/$E/retry")"
check "… invited once more" wait_for 30 gstate $PORG $E invited
check_eq "… by one PUT, the expired invitation deleted first; one pending invitation" "1 1 1 false" \
	"$(calls $SINCE PUT /repos/$ORG/$OREPO/collaborators/$E) $(calls $SINCE DELETE /repos/$ORG/$OREPO/invitations/$IE2) $(ninvitations $ORG/$OREPO $E) $(invitation $ORG/$OREPO $E .expired)"

# ---- 4. removal: a pending invitation is deleted; an accepted collaborator removed
invite $PORG $R1 developer >/dev/null
invite $PORG $R2 developer >/dev/null
check "$R1 and $R2 invited" wait_for 30 eval "gstate $PORG $R1 invited && gstate $PORG $R2 invited"
IR1=$(invitation $ORG/$OREPO $R1 .id)
check_eq "$R2 accepts" 204 "$(accept $ORG/$OREPO $R2)"
drift $PORG
SINCE=$(last_id)
check_eq "remove the pending member → 204" 204 "$(call DELETE "/projects/$PORG/members/$R1")"
check "… the invitation is deleted on GitHub" wait_for 30 eval "[ \"\$(ninvitations $ORG/$OREPO $R1)\" = 0 ]"
check_eq "… by DELETE …/invitations/$IR1" 1 "$(calls $SINCE DELETE /repos/$ORG/$OREPO/invitations/$IR1)"
check_eq "remove the accepted member → 204" 204 "$(call DELETE "/projects/$PORG/members/$R2")"
check "… no longer a collaborator" wait_for 30 eval "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H \"Authorization: Bearer $OTOK\" $FAKEHUB_API_URL/repos/$ORG/$OREPO/collaborators/$R2)\" = 404 ]"
check_eq "… by DELETE …/collaborators/$R2" 1 "$(calls $SINCE DELETE /repos/$ORG/$OREPO/collaborators/$R2)"

# ---- 5. a personal account's repository: every collaborator gets write, whatever was asked
PREPO=inv-own-$S
new_project "Invitations personal" $O $PREPO
check_eq "a project on $O's own repository" done "$CONN"
PPER=$PID
invite $PPER $W maintainer >/dev/null
check "$W (maintainer) invited" wait_for 30 gstate $PPER $W invited
check_eq "… GitHub's invitation says write, not maintain" write "$(invitation $O/$PREPO $W .permissions)"
check_eq "… and the member shows what GitHub gave (invited, push), not what was asked" "invited push" "$(member $PPER $W '.github.state + " " + .github.permission')"
check_eq "$W accepts" 204 "$(accept $O/$PREPO $W)"
check_eq "… write access, role write" "write write" "$(gh GET /repos/$O/$PREPO/collaborators/$W/permission | jq -r '"\(.permission) \(.role_name)"')"
V2=vdem$S; fh_user $V2
invite $PPER $V2 developer >/dev/null
check "$V2 (developer) invited there" wait_for 30 gstate $PPER $V2 invited
IV2=$(invitation $O/$PREPO $V2 .id)
SINCE=$(last_id)
check_eq "made a viewer while pending → 200" 200 "$(jcall PATCH "/projects/$PPER/members/$V2" '{"role":"viewer"}')"
check "… the write invitation ghbridge gave is deleted (a viewer gets no access on a personal repository)" \
	wait_for 30 eval "[ \"\$(ninvitations $O/$PREPO $V2)\" = 0 ] && gstate $PPER $V2 skipped"
check_eq "… by DELETE …/invitations/$IV2, no PATCH" "1 0" \
	"$(calls $SINCE DELETE /repos/$O/$PREPO/invitations/$IV2) $(calls $SINCE PATCH /repos/$O/$PREPO/invitations/$IV2)"
check_match "… and the member says so" "access ghbridge had given was removed" "$(member $PPER $V2 .github.error)"
check_eq "asking fakehub for admin there still gives write" write \
	"$(gh PUT /repos/$O/$PREPO/collaborators/$A -H 'Content-Type: application/json' -d '{"permission":"admin"}' | jq -r .permissions)"
check_eq "the owner's own permission: admin" "admin admin" "$(gh GET /repos/$O/$PREPO/collaborators/$O/permission | jq -r '"\(.permission) \(.role_name)"')"
check_eq "an unknown user's permission → 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OTOK" "$FAKEHUB_API_URL/repos/$O/$PREPO/collaborators/nosuch-$S/permission")"

# ---- 6. GitHub's limit of 50 invitations to a repository in 24 hours
LREPO=inv-lim-$S
new_project "Invitations limit" $O $LREPO
check_eq "a project on a fresh repository ($O/$LREPO)" done "$CONN"
PLIM=$PID
n=0
for i in $(seq 1 49); do
	fh_user f$i$S
	st=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $OTOK" -H 'Content-Type: application/json' \
		-d '{"permission":"push"}' "$FAKEHUB_API_URL/repos/$O/$LREPO/collaborators/f$i$S")
	[ "$st" = 201 ] && n=$((n + 1))
done
check_eq "49 invitations sent to it directly" 49 "$n"
L1=lone$S; L2=ltwo$S
fh_user $L1; fh_user $L2
SINCE=$(last_id)
invite $PLIM $L1 developer >/dev/null
check "the 50th ($L1) is invited" wait_for 30 gstate $PLIM $L1 invited
invite $PLIM $L2 developer >/dev/null
check "the 51st ($L2) is deferred" wait_for 30 gstate $PLIM $L2 deferred
check_match "… and the member says until when" "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}$" "$(member $PLIM $L2 .github.deferred_until)"
check_match "… and why" "50 invitations .* deferred, asked again at" "$(member $PLIM $L2 .github.error)"
check_match "fakehub's refusal is a 422" "limited to sending 50 invitations" \
	"$(curl -s -X PUT -H "Authorization: Bearer $OTOK" -H 'Content-Type: application/json' -d '{}' "$FAKEHUB_API_URL/repos/$O/$LREPO/collaborators/$W")"
MID2=$(member $PLIM $L2 .id)
JOB=$(q "SELECT id FROM jobs WHERE kind = 'member_github' AND payload->>'member_id' = '$MID2' ORDER BY id DESC LIMIT 1")
check_eq "… the job waits a day: not failed, not dead" "queued 1" \
	"$(q "SELECT state, (run_after > now() + interval '23 hours')::int FROM jobs WHERE id = $JOB" | tr '|' ' ')"
sleep 3
check_eq "… and is not retried meanwhile (one PUT)" 1 "$(calls $SINCE PUT /repos/$O/$LREPO/collaborators/$L2)"
check_match "the Members tab says until when" "Deferred until [0-9-]+ [0-9:]+ UTC" \
	"$(curl -s -b "$T/jar" "$GHB_URL/projects/$PLIM/members" | grep -A3 "data-member=\"$L2\"")"
# A day passes on both clocks: fakehub's, and the job's own time (run_after).
advance $((24 * 3600 + 60))
q "UPDATE jobs SET run_after = now() WHERE id = $JOB; NOTIFY ghbridge_jobs" >/dev/null
check "… a day later it goes through" wait_for 40 gstate $PLIM $L2 invited
check_eq "… with one more PUT" 2 "$(calls $SINCE PUT /repos/$O/$LREPO/collaborators/$L2)"

# ---- 7. a worker SIGKILLed during "sync all members": exactly one invitation per member
KREPO=inv-kill-$S
jcall POST /projects '{"name":"Invitations kill"}' >/dev/null
PK=$(jq -r .id "$T/body")
NK=30
for i in $(seq 1 $NK); do fh_user k$i$S; invite $PK k$i$S developer >/dev/null; done
known() { [ "$(call GET "/projects/$PK/members" >/dev/null; jq '[.members[] | select(.github_user_id != null)] | length' "$T/body")" = $((NK + 1)) ]; }
check "$NK members named by GitHub before the project is connected" wait_for 60 known
VICTIM_LOGIN=k15$S
curl -s -o /dev/null -X POST "$FH/faults" -H 'Content-Type: application/json' \
	-d "{\"method\":\"PUT\",\"path\":\"/api/v3/repos/$O/$KREPO/collaborators/$VICTIM_LOGIN\",\"kind\":\"hang\",\"seconds\":1,\"count\":1}"
SINCE=$(last_id)
jcall POST "/projects/$PK/repository" "{\"mode\":\"create\",\"name\":\"$KREPO\"}" >/dev/null
hanging() { [ "$(curl -s "$FH/faults" | jq "[.[] | select(.path | endswith(\"$VICTIM_LOGIN\"))] | length")" = 0 ]; } # taken: listed no more
check "connected: the members' sync is under way and $VICTIM_LOGIN's PUT is on GitHub's side" wait_for 60 hanging
MIDV=$(q "SELECT id FROM project_members WHERE project_id = $PK AND login = '$VICTIM_LOGIN'")
VICTIM=$(q "SELECT split_part(locked_by, ':', 2) FROM jobs WHERE kind = 'member_github' AND payload->>'member_id' = '$MIDV' AND state = 'running'" | head -1)
if [ -n "$VICTIM" ] && kill -KILL "$VICTIM" 2>/dev/null; then ok "SIGKILLed worker process $VICTIM mid-PUT"; else not_ok "SIGKILL the worker mid-PUT" "no running job for $VICTIM_LOGIN"; fi
check "while the sync goes on, GET members says how far it is (busy, some waiting, done + waiting = members)" bash -c \
	"curl -s -H 'Authorization: Bearer $KEY' '$API/projects/$PK/members' | jq -e '.github_progress | .busy and .queued >= 1 and .done + .queued == .members and .members == $((NK + 1))' >/dev/null"
check_match "… and the Members tab too" "Bringing GitHub access in step: [0-9]+ of $((NK + 1)) members done, [0-9]+ waiting" \
	"$(curl -s -b "$T/jar" "$GHB_URL/projects/$PK/members")"
allinv() { [ "$(call GET "/projects/$PK/members" >/dev/null; jq '[.members[] | select(.github.state == "invited")] | length' "$T/body")" = $NK ]; }
check "all $NK members invited in the end" wait_for 90 allinv
wait_for 20 idle_jobs $PK
check_eq "… then nothing waits" "false 0 $((NK + 1))" "$(call GET "/projects/$PK/members" >/dev/null; jq -r '.github_progress | "\(.busy) \(.queued) \(.done)"' "$T/body")"
curl -s "$FH/requests?since_id=$SINCE&method=PUT" | jq --arg p "/api/v3/repos/$O/$KREPO/collaborators/" \
	'[.[] | select(.path | startswith($p)) | .path] | group_by(.) | map(length)' > "$T/puts"
check_eq "exactly one PUT per member in fakehub's request log" "$NK 1 1" "$(jq -r '"\(length) \(min) \(max)"' "$T/puts")"
check_eq "exactly one invitation per member on GitHub" "$NK 1" \
	"$(gh GET "/repos/$O/$KREPO/invitations?per_page=100" | jq -r '[group_by(.invitee.login)[] | length] | "\(length) \(max)"')"
check_eq "… $VICTIM_LOGIN's redo looked at GitHub's invitations instead of sending another" "1 invited" \
	"$(calls $SINCE PUT /repos/$O/$KREPO/collaborators/$VICTIM_LOGIN) $(member $PK $VICTIM_LOGIN .github.state)"

finish
