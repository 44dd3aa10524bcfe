#!/usr/bin/env bash
# tests/members/test-members.sh: project members and roles (issue 14): 404 for non-members on every project
# route, 403 for too-low roles on each action class with nothing changed, API-key scopes narrowing, the last
# owner kept (also against two demotions at once), an invitation made before the invitee signed in becoming
# active by GitHub id, the collaborator invitation on fakehub (personal repository: no viewer), drift shown.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "member tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "member tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
FH=$FAKEHUB_URL/_fakehub
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1
S=m$$
O=own$S; D=dev$S; V=view$S; M=main$S; X=out$S; L=late$S
ALL=projects:read,projects:write,sync,pulls
for u in $O $D $V $M $X $L; do
	curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$u\"}"
done
for u in $O $D $V $M $X; do
	signin "$T/jar-$u" "$u" >/dev/null
	eval "K_$u=\$(\"\$BUILD/ghbridge\" apikey create --user $u --name members --scopes $ALL 2>&1 | tail -1)"
done
KO_READ=$("$BUILD/ghbridge" apikey create --user $O --name narrow --scopes projects:read 2>&1 | tail -1)
key() { eval "echo \$K_$1"; }
# as USER METHOD PATH [curl args]: the status; the body in $T/body.
as() { local u=$1 m=$2 p=$3; shift 3; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $(key "$u")" "$@" "$API$p"; }
jas() { as "$1" "$2" "$3" -H 'Content-Type: application/json' -d "$4"; }
withkey() { local k=$1 m=$2 p=$3; shift 3; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $k" "$@" "$API$p"; }
put_as() { printf '%s' "$3" > "$T/put"; as "$1" PUT "/projects/$PID/files/$2" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
page() { curl -s -o "$T/page" -w '%{http_code}' --max-time 30 -b "$T/jar-$1" "$GHB_URL$2"; }
post() { local u=$1 p=$2; shift 2; curl -s -o "$T/page" -w '%{http_code}' --max-time 30 -b "$T/jar-$u" -X POST "$GHB_URL$p" --data-urlencode "csrf=$(csrf_of "$T/jar-$u" /account)" "$@"; }
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
gh() { local m=$1 p=$2 tok=$3; shift 3; curl -s -X "$m" -H "Authorization: Bearer $tok" "$@" "$FAKEHUB_API_URL$p"; }
member() { as $O GET "/projects/$PID/members" >/dev/null; jq -r ".members[] | select(.login == \"$1\") | $2" "$T/body"; }

# ---- 0. a project route without a declared role does not build; one with a role that is no role neither
route_builds() {
	printf '#include "service/members.h"\n#include "web/app.h"\nstatic int h(struct request *q, struct response *r, const struct call *c) { return 0; }\nconst struct route t[] = { PROJ("GET", "/projects/{id}/x", h, 0, NULL%s) };\n' "$1" > "$T/rt.c"
	${CC:-cc} -std=c11 -fsyntax-only -I "$ROOT/src" $(pkg-config --cflags libpq json-c 2>/dev/null) -I/usr/include/postgresql "$T/rt.c" 2>/dev/null
}
if command -v "${CC:-cc}" >/dev/null; then
	check "a project route with a role builds" route_builds ", ROLE_VIEWER"
	check "… without one it does not" eval '! route_builds ""'
	check "… nor with role 0" eval '! route_builds ", 0"'
	check "… nor with role 5" eval '! route_builds ", 5"'
fi

# ---- 1. a project, connected to a personal repository of the owner's
check_eq "owner creates a project → 201" 201 "$(jas $O POST /projects '{"name":"Members"}')"
PID=$(jq -r .id "$T/body")
check_eq "the owner is its owner member" owner "$(member $O .role)"
check_eq "… bound to the GitHub user id" "$(q "SELECT github_id FROM users WHERE login = '$O'")" "$(member $O .github_user_id)"
REPO=mem-$S
check_eq "connect (create a repository) → 202" 202 "$(jas $O POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"$REPO\"}")"
check_eq "… connected" done "$(wait_connect "$(key $O)" "$PID" 60)"
check_eq "owner writes a file" 201 "$(put_as $O a.txt one)"

# ---- 2. invitations (by login; GitHub is asked for the id by a job)
check_eq "invite $D as developer → 202" 202 "$(jas $O POST "/projects/$PID/members" "{\"login\":\"$D\",\"role\":\"developer\"}")"
check_match "… the answer names the lookup job" '^[0-9]+$' "$(jq -r .job_id "$T/body")"
jas $O POST "/projects/$PID/members" "{\"login\":\"$V\",\"role\":\"viewer\"}" >/dev/null
jas $O POST "/projects/$PID/members" "{\"login\":\"$M\",\"role\":\"maintainer\"}" >/dev/null
check_eq "invite $L (never signed in) → 202" 202 "$(jas $O POST "/projects/$PID/members" "{\"login\":\"$L\",\"role\":\"developer\"}")"
check_eq "invite the same login again → 409 at the login" "409 login" "$(jas $O POST "/projects/$PID/members" "{\"login\":\"${D^^}\",\"role\":\"viewer\"}") $(jq -r .error.field "$T/body")"
check_eq "an invalid login → 400 at the login" "400 login" "$(jas $O POST "/projects/$PID/members" '{"login":"-bad--login","role":"viewer"}') $(jq -r .error.field "$T/body")"
check_eq "an unknown role → 400 at the role" "400 role" "$(jas $O POST "/projects/$PID/members" '{"login":"someone","role":"admin"}') $(jq -r .error.field "$T/body")"
jas $O POST "/projects/$PID/members" '{"login":"nosuchuser-'$S'","role":"viewer"}' >/dev/null
active() { [ "$(member "$1" .state)" = active ]; }
check "signed-in invitees become active once GitHub named them" wait_for 30 eval "active $D && active $V && active $M"
check_eq "… bound to their GitHub ids" "$(q "SELECT github_id FROM users WHERE login = '$D'")" "$(member $D .github_user_id)"
check "an invitee who never signed in stays invited (with GitHub's id)" wait_for 30 eval "[ \"\$(member $L .github_user_id)\" != null ]"
check_eq "… invited" invited "$(member $L .state)"
check "a login GitHub does not know is said so" wait_for 30 eval "member nosuchuser-$S .lookup_error | grep -q 'no user'"
NU=nosuchuser-$S
check_eq "… its state says there is no such GitHub user, not that it waits for a sign-in (API)" "no GitHub user named $NU true" \
	"$(member $NU .state_text) $(member $NU .github_user_missing)"
check_eq "… an invitee GitHub knows still waits for the sign-in (API)" "invited: active when they first sign in false" \
	"$(member $L .state_text) $(member $L .github_user_missing)"
page $O "/projects/$PID/members" >/dev/null
grep -A4 "data-member=\"$NU\"" "$T/page" > "$T/nurow"
check_eq "… the tab's State column says so, and offers Remove (the owner)" "1 0 1 1" \
	"$(grep -c "<td data-label=\"State\">no GitHub user named $NU" "$T/nurow") $(grep -c 'active when they first sign in' "$T/nurow") $(grep -c "data-no-user=\"$NU\"" "$T/nurow") $(grep -c "aria-label=\"Remove $NU\"" "$T/nurow")"
check_eq "… Retry cannot help: 409, in words" "409 There is no GitHub user named $NU: remove this invitation." \
	"$(as $O POST "/projects/$PID/members/$NU/retry") $(jq -r .error.message "$T/body")"
check_eq "… Remove takes the invitation away → 204" 204 "$(as $O DELETE "/projects/$PID/members/$NU")"
check_eq "… gone" "" "$(member $NU .login)"
check_eq "$L (not signed in) has no access yet" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$API/projects/$PID")"

# ---- 3. non-members: every project route is a 404, as if there were no project
n404=0; bad=""
while read -r m p; do
	[ -z "$m" ] && continue
	st=$(as $X "$m" "$p" -H 'Content-Type: application/json' -d '{}')
	if [ "$st" = 404 ]; then n404=$((n404 + 1)); else bad="$bad $m $p=$st"; fi
done <<EOR
GET /projects/$PID
PATCH /projects/$PID
DELETE /projects/$PID
GET /projects/$PID/files
PUT /projects/$PID/files/a.txt
GET /projects/$PID/files/a.txt
DELETE /projects/$PID/files/a.txt
POST /projects/$PID/repository
DELETE /projects/$PID/repository
PATCH /projects/$PID/settings
POST /projects/$PID/sync
GET /projects/$PID/status
GET /projects/$PID/history
GET /projects/$PID/pulls
POST /projects/$PID/pulls
GET /projects/$PID/pulls/1
PATCH /projects/$PID/pulls/1
POST /projects/$PID/pulls/1/merge
GET /projects/$PID/branches
POST /projects/$PID/branches
DELETE /projects/$PID/branches/x
GET /projects/$PID/members
POST /projects/$PID/members
PATCH /projects/$PID/members/$O
DELETE /projects/$PID/members/$O
POST /projects/$PID/members/sync
POST /projects/$PID/members/drift
POST /projects/$PID/transfer
EOR
check_eq "a non-member gets 404 on every project API route" "28" "$n404${bad:+ ($bad)}"
n404=0; bad=""
for p in "" /files /files/a.txt /new /connect /settings /history /history/1 /pulls /pulls/new /pulls/1 /branches /members; do
	st=$(page $X "/projects/$PID$p")
	if [ "$st" = 404 ]; then n404=$((n404 + 1)); else bad="$bad GET$p=$st"; fi
done
for p in /sync /rename /delete /files /upload /files-delete /connect /disconnect /repos/refresh /settings /pulls /pulls/1/merge \
	/pulls/1/close /pulls/1/reopen /pulls/1/ready /branches /branches/delete /members /members/role /members/remove \
	/members/transfer /members/sync /members/drift; do
	st=$(post $X "/projects/$PID$p" --data-urlencode confirm=1)
	if [ "$st" = 404 ]; then n404=$((n404 + 1)); else bad="$bad POST$p=$st"; fi
done
check_eq "a non-member gets 404 on every project page and form" "36" "$n404${bad:+ ($bad)}"
check_eq "… and does not see it in GET /projects" 0 "$(as $X GET /projects >/dev/null; jq "[.projects[] | select(.id == $PID)] | length" "$T/body")"

# ---- 4. roles: viewer reads, developer edits and syncs, maintainer changes settings, owner the rest
check_eq "viewer reads the project" 200 "$(as $V GET "/projects/$PID")"
check_eq "viewer reads a file" 200 "$(as $V GET "/projects/$PID/files/a.txt")"
check_eq "viewer reads pull requests" 200 "$(as $V GET "/projects/$PID/pulls")"
check_eq "viewer sees the project in GET /projects" 1 "$(as $V GET /projects >/dev/null; jq "[.projects[] | select(.id == $PID)] | length" "$T/body")"
check_eq "viewer sees the project in /projects" 200 "$(page $V /projects)"
check_match "… by name" "Members" "$(cat "$T/page")"
check_eq "viewer writes a file → 403" 403 "$(put_as $V a.txt viewer)"
check_eq "viewer deletes a file → 403" 403 "$(as $V DELETE "/projects/$PID/files/a.txt")"
check_eq "viewer syncs → 403" 403 "$(as $V POST "/projects/$PID/sync")"
check_eq "viewer creates a branch → 403" 403 "$(jas $V POST "/projects/$PID/branches" '{"name":"v"}')"
check_eq "viewer's panel save → 403" 403 "$(post $V "/projects/$PID/files" --data-urlencode path=a.txt --data-urlencode content=viewer)"
check_eq "… the file is unchanged" one "$(as $O GET "/projects/$PID/files/a.txt" >/dev/null; cat "$T/body")"
check_eq "developer writes a file" 200 "$(put_as $D a.txt two)"
check_eq "developer syncs → 202" 202 "$(as $D POST "/projects/$PID/sync")"
check_eq "developer changes sync settings → 403" 403 "$(jas $D PATCH "/projects/$PID/settings" '{"auto_sync":false}')"
check_eq "developer merges a pull request → 403" 403 "$(jas $D POST "/projects/$PID/pulls/1/merge" '{}')"
check_eq "developer closes a pull request in the panel → 403" 403 "$(post $D "/projects/$PID/pulls/1/close")"
check_eq "developer's settings page → 403" 403 "$(page $D "/projects/$PID/settings")"
check_eq "… auto sync unchanged" true "$(as $O GET "/projects/$PID" >/dev/null; jq -r '.settings.auto_sync // .auto_sync' "$T/body")"
check_eq "maintainer changes sync settings" 200 "$(jas $M PATCH "/projects/$PID/settings" '{"batch_minutes":0}')"
check_eq "maintainer disconnects the repository → 403" 403 "$(as $M DELETE "/projects/$PID/repository")"
check_eq "maintainer deletes the project → 403" 403 "$(as $M DELETE "/projects/$PID")"
check_eq "maintainer invites → 403" 403 "$(jas $M POST "/projects/$PID/members" "{\"login\":\"$X\",\"role\":\"viewer\"}")"
check_eq "maintainer's panel delete → 403" 403 "$(post $M "/projects/$PID/delete" --data-urlencode "confirm=Members")"
check_eq "… the project is still there, connected" "200 $O" "$(as $O GET "/projects/$PID") $(jq -r '.repository.owner // .connection.repository.owner // empty' "$T/body" | head -1)"
check_eq "developer's Members tab: no invite form" "200 0" "$(page $D "/projects/$PID/members") $(grep -c 'id="invite"' "$T/page")"
check_eq "a viewer's tabs: no Settings, no Repository" "200 0 0" "$(page $V "/projects/$PID/members") $(grep -c '/settings"' "$T/page") $(grep -c '/connect"' "$T/page")"
check_eq "a maintainer's tabs: Settings, no Repository" "200 1 0" "$(page $M "/projects/$PID/members") $(grep -c '/settings"' "$T/page") $(grep -c '/connect"' "$T/page")"
check_eq "owner's Members tab: the invite form" "200 1" "$(page $O "/projects/$PID/members") $(grep -c 'id="invite"' "$T/page")"

# ---- 5. API keys act with their user's role; scopes only narrow it
check_eq "owner's read-only key reads" 200 "$(withkey "$KO_READ" GET "/projects/$PID")"
printf x > "$T/put"
check_eq "owner's read-only key writes a file → 403" 403 "$(withkey "$KO_READ" PUT "/projects/$PID/files/k.txt" --data-binary "@$T/put")"
check_eq "… deletes the project → 403" 403 "$(withkey "$KO_READ" DELETE "/projects/$PID")"
check_eq "… invites → 403" 403 "$(withkey "$KO_READ" POST "/projects/$PID/members" -H 'Content-Type: application/json' -d "{\"login\":\"$X\"}")"
check_match "… saying which scope" "projects:write" "$(cat "$T/body")"
check_eq "… lists members (projects:read)" 200 "$(withkey "$KO_READ" GET "/projects/$PID/members")"
KV_ALL=$(key $V)
check_eq "a viewer's key with every scope still cannot write" 403 "$(withkey "$KV_ALL" PUT "/projects/$PID/files/k.txt" --data-binary "@$T/put")"

# ---- 6. at least one owner, always
check_eq "the only owner demotes themselves → 409" 409 "$(jas $O PATCH "/projects/$PID/members/$O" '{"role":"maintainer"}')"
check_eq "the only owner removes themselves → 409" 409 "$(as $O DELETE "/projects/$PID/members/$O")"
check_eq "… still owner" owner "$(member $O .role)"
check_eq "by GitHub id too" 409 "$(as $O DELETE "/projects/$PID/members/$(member $O .github_user_id)")"
check_eq "the last owner is kept in SQL, not only in C" 1 "$(psql -XAtq -c "DELETE FROM project_members WHERE project_id = $PID AND role = 'owner'" 2>&1 | grep -c 'would have no owner')"
check_eq "make $M an owner" 200 "$(jas $O PATCH "/projects/$PID/members/$M" '{"role":"owner"}')"
# Two owners demote each other at the same moment: one wins, the other is refused.
jas $O PATCH "/projects/$PID/members/$M" '{"role":"developer"}' > "$T/s1" &
( curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $(key $M)" -H 'Content-Type: application/json' \
	-d '{"role":"developer"}' "$API/projects/$PID/members/$O" > "$T/s2" ) &
wait
# Whichever commits second is refused: by its role (403: no longer an owner when it arrives) or by the trigger (409).
check_match "two owners demoting each other at once: one 200, one refused" '^200 40[39]$' "$(printf '%s\n%s\n' "$(cat "$T/s1")" "$(cat "$T/s2")" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "… one owner left" 1 "$(q "SELECT count(*) FROM project_members WHERE project_id = $PID AND role = 'owner'")"
# The same in SQL, where no role check comes first: two transactions each demote one of two owners; the
# first to commit wins, the second is refused at its commit (the trigger locks the project row, then looks).
NEWO=$(q "SELECT login FROM project_members WHERE project_id = $PID AND role = 'owner'")
OTHER=$O; [ "$NEWO" = "$O" ] && OTHER=$M
jas "$NEWO" PATCH "/projects/$PID/members/$OTHER" '{"role":"owner"}' >/dev/null
( psql -XAtq -c "BEGIN; UPDATE project_members SET role = 'developer' WHERE project_id = $PID AND login = '$O'; SELECT pg_sleep(1); COMMIT;" > "$T/t1" 2>&1 ) &
sleep 0.3
( psql -XAtq -c "BEGIN; UPDATE project_members SET role = 'developer' WHERE project_id = $PID AND login = '$M'; SELECT pg_sleep(1.5); COMMIT;" > "$T/t2" 2>&1 ) &
wait
check_eq "two transactions demoting both owners: the second commit is refused" "0 1" "$(grep -c 'no owner' "$T/t1") $(grep -c 'no owner' "$T/t2")"
check_eq "… one owner left ($M)" "1 $M" "$(q "SELECT count(*), min(login) FROM project_members WHERE project_id = $PID AND role = 'owner'" | tr '|' ' ')"
q "UPDATE project_members SET role = 'owner' WHERE project_id = $PID AND login = '$O'" >/dev/null
check_eq "transfer to a member who never signed in → 400" 400 "$(jas $O POST "/projects/$PID/transfer" "{\"member\":\"$L\"}")"
check_eq "transfer to yourself → 400 at the member, in words" "400 member You own this project already: name another member." "$(jas $O POST "/projects/$PID/transfer" "{\"member\":\"$O\"}") $(jq -r '.error.field + " " + .error.message' "$T/body")"
check_eq "… still the owner" owner "$(member $O .role)"
jas $O PATCH "/projects/$PID/members/$M" '{"role":"maintainer"}' >/dev/null

# ---- 7. an invitation made before sign-in becomes active when that GitHub user first signs in
check_eq "$L cannot see the project before signing in" 0 "$(q "SELECT count(*) FROM project_members WHERE project_id = $PID AND login = '$L' AND state = 'active'")"
L2=$L
signin "$T/jar-$L2" "$L2" >/dev/null
K_L=$("$BUILD/ghbridge" apikey create --user "$L2" --name members --scopes $ALL 2>&1 | tail -1)
check_eq "after the first sign-in the invitation is active (matched by GitHub id)" active "$(member "$L2" .state)"
check_eq "… and the new member reads the project" 200 "$(withkey "$K_L" GET "/projects/$PID")"
check_eq "… as a developer" 201 "$(printf y > "$T/put"; withkey "$K_L" PUT "/projects/$PID/files/l.txt" --data-binary "@$T/put")"

# ---- 8. GitHub collaborators: invitations on the personal repository, no viewer there
OTOK=$(curl -s -X POST "$FH/users/$O/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
invited() { gh GET "/repos/$O/$REPO/invitations" "$OTOK" | jq -e "[.[] | select(.invitee.login == \"$1\")] | length == 1" >/dev/null; }
check "the developer is invited on GitHub" wait_for 30 invited $D
check_eq "… recorded on the member (invited, push)" "invited push true" "$(member $D '.github.state + " " + .github.permission + " " + (.github.added_by_ghbridge|tostring)')"
check "the maintainer is invited on GitHub" wait_for 30 invited $M
check_eq "the viewer is not invited on a personal repository" 0 "$(gh GET "/repos/$O/$REPO/invitations" "$OTOK" | jq "[.[] | select(.invitee.login == \"$V\")] | length")"
check "… and the member says why" wait_for 20 eval "member $V .github.state | grep -q skipped"
check_match "… in words" "personal account" "$(member $V .github.error)"
check_eq "one invitation per member, whatever was retried" 1 "$(gh GET "/repos/$O/$REPO/invitations" "$OTOK" | jq "[.[] | select(.invitee.login == \"$D\")] | length")"
DTOK=$(curl -s -X POST "$FH/users/$D/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
INV=$(gh GET /user/repository_invitations "$DTOK" | jq -r "[.[] | select(.repository.name == \"$REPO\")][0].id")
check_eq "the developer accepts on GitHub" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $DTOK" "$FAKEHUB_API_URL/user/repository_invitations/$INV")"
check_eq "removing the maintainer → 204" 204 "$(as $O DELETE "/projects/$PID/members/$M")"
check "… their invitation on GitHub goes (ghbridge made it)" wait_for 30 eval "! invited $M"
check_eq "… and the maintainer no longer sees the project" 404 "$(as $M GET "/projects/$PID")"

# ---- 8b. members who joined before the project was connected get their access when it connects
check_eq "a second project → 201" 201 "$(jas $O POST /projects '{"name":"Members two"}')"
P2=$(jq -r .id "$T/body")
jas $O POST "/projects/$P2/members" "{\"login\":\"$D\",\"role\":\"maintainer\"}" >/dev/null
check "… the member is active before any repository" wait_for 30 eval "as $O GET /projects/$P2/members >/dev/null; jq -e '.members[] | select(.login == \"$D\" and .state == \"active\")' \"\$T/body\""
REPO2=mem2-$S
SINCE2=$(curl -s "$FH/requests/count" | jq -r .last_id)
jas $O POST "/projects/$P2/repository" "{\"mode\":\"create\",\"name\":\"$REPO2\"}" >/dev/null
check_eq "… connect" done "$(wait_connect "$(key $O)" "$P2" 60)"
check "… and the member is invited on the new repository (a personal one: GitHub gives write, not maintain)" wait_for 30 eval "gh GET /repos/$O/$REPO2/invitations \"\$OTOK\" | jq -e '[.[] | select(.invitee.login == \"$D\" and .permissions == \"write\")] | length == 1'"
calls=$(curl -s "$FH/requests?since_id=$SINCE2" | jq -r --arg r "/api/v3/repos/$O/$REPO2" '[.[] | select(.path | startswith($r + "/collaborators"))] | map(.method) | join(",")')
echo "# member calls on the new repository: $calls"
check_eq "… one REST call on its collaborators for that member: the PUT" "PUT" "$calls"

# ---- 9. drift: a collaborator no member accounts for is shown, never removed
gh PUT "/repos/$O/$REPO/collaborators/$X" "$OTOK" -H 'Content-Type: application/json' -d '{"permission":"push"}' >/dev/null
check_eq "compare with GitHub → 202" 202 "$(as $O POST "/projects/$PID/members/drift")"
drift() { as $O GET "/projects/$PID/members" >/dev/null; jq -r ".drift[] | select(.login == \"$1\") | .kind" "$T/body"; }
check "the stranger's invitation shows as drift" wait_for 30 eval "[ \"\$(drift $X)\" = invitation_not_member ]"
check_eq "… and stays on GitHub" 1 "$(gh GET "/repos/$O/$REPO/invitations" "$OTOK" | jq "[.[] | select(.invitee.login == \"$X\")] | length")"
check_eq "the accepted developer is no drift" "" "$(drift $D)"
check_eq "… and the accepted invitation is followed: a collaborator now" collaborator "$(member $D .github.state)"
check_eq "the Members tab shows the drift" "200 1" "$(page $O "/projects/$PID/members") $(grep -c "data-drift=\"$X\"" "$T/page")"
check_eq "… with 'Add as member' for the stranger" 1 "$(grep -c "Add as member ([a-z]*): $X\"" "$T/page")"
check_match "… and says what GitHub does on a personal repository" "personal account" "$(cat "$T/page")"

# ---- 9b. a failed collaborator call is listed on the member, and retried on request
curl -s -o /dev/null -X POST "$FH/faults" -H 'Content-Type: application/json' \
	-d "{\"method\":\"PUT\",\"path\":\"/api/v3/repos/$O/$REPO/collaborators/$L\",\"kind\":\"status\",\"status\":422,\"count\":1}"
# $L's invitation is pending already: asking again updates it (PATCH …/invitations/{id}), which GitHub refuses too.
curl -s -o /dev/null -X POST "$FH/faults" -H 'Content-Type: application/json' \
	-d "{\"method\":\"PATCH\",\"path\":\"/api/v3/repos/$O/$REPO/invitations/*\",\"kind\":\"status\",\"status\":422,\"count\":1}"
check_eq "retry a member's GitHub access → 202" 202 "$(as $O POST "/projects/$PID/members/$L/retry")"
check "GitHub's refusal is recorded on the member" wait_for 30 eval "[ \"\$(member $L .github.failed)\" = true ]"
check_match "… with GitHub's answer" "422" "$(member $L .github.error)"
check_eq "GET …/members?failed=1 lists only the failed ones" "$L" "$(as $O GET "/projects/$PID/members?failed=1" >/dev/null; jq -r '[.members[].login] | join(",")' "$T/body")"
check_eq "the Members tab offers Retry for it" 1 "$(page $O "/projects/$PID/members" >/dev/null; grep -c "Retry: Ask GitHub again for $L" "$T/page")"
check_eq "a viewer cannot retry → 403" 403 "$(as $V POST "/projects/$PID/members/$L/retry")"
curl -s -o /dev/null -X DELETE "$FH/faults" # whichever of the two was not used
check_eq "retry again → 202" 202 "$(as $O POST "/projects/$PID/members/$L/retry")"
check "… now invited" wait_for 30 eval "[ \"\$(member $L .github.state)\" = invited ]"
curl -s -o /dev/null -X DELETE "$FH/faults"

# ---- 10. the panel: invite at the field, remove only after confirming
check_eq "panel invite with a bad login → 422" 422 "$(post $O "/projects/$PID/members" --data-urlencode login=-x- --data-urlencode role=viewer)"
check_match "… the error at the field" 'id="login-error"' "$(cat "$T/page")"
check_eq "panel invite → 303" 303 "$(post $O "/projects/$PID/members" --data-urlencode login=$X --data-urlencode role=viewer)"
check_eq "panel remove without confirming → a confirm page, nothing removed" "200 1" "$(post $O "/projects/$PID/members/remove" --data-urlencode member=$X) $(q "SELECT count(*) FROM project_members WHERE project_id = $PID AND login = '$X'")"
check_eq "panel remove confirmed → 303" 303 "$(post $O "/projects/$PID/members/remove" --data-urlencode member=$X --data-urlencode confirm=1)"
check_eq "… removed" 0 "$(q "SELECT count(*) FROM project_members WHERE project_id = $PID AND login = '$X'")"

# ---- 10b. a pull request a member makes from pending changes carries that member as the commit's author
jas $O PATCH "/projects/$PID/settings" '{"auto_sync":false}' >/dev/null
put_as $D pr.txt "from the developer" >/dev/null
check_eq "the developer opens a pull request from changes → 202" 202 "$(jas $D POST "/projects/$PID/pulls" '{"title":"Member change","from":"changes","head":"member-pr"}')"
author_email() { gh GET "/repos/$O/$REPO/commits/member-pr" "$OTOK" | jq -r '.commit.author.email // empty'; }
check "… the branch reaches GitHub" wait_for 60 eval '[ -n "$(author_email)" ]'
check_eq "… its commit's author is the developer (GitHub's no-reply address)" \
	"$(q "SELECT github_id FROM users WHERE login = '$D'")+$D@users.noreply.github.com" "$(author_email)"

# ---- 11. transfer: the new owner's GitHub connection is used from then on; the old owner stays as maintainer
check_eq "transfer to the developer → 200" 200 "$(jas $O POST "/projects/$PID/transfer" "{\"member\":\"$D\"}")"
check_eq "… the developer is owner, the old owner maintainer" "owner maintainer" "$(member $D .role) $(as $D GET "/projects/$PID/members" >/dev/null; jq -r ".members[] | select(.login == \"$O\") | .role" "$T/body")"
check_eq "… the project uses the new owner's account" "$D" "$(q "SELECT u.login FROM projects p JOIN users u ON u.id = p.owner_id WHERE p.id = $PID")"
check_eq "… the old owner can no longer delete it" 403 "$(as $O DELETE "/projects/$PID")"

# ---- 12. reads go with the project's account's token: a viewer is never a collaborator on a personal account's
# private repository (GitHub gives collaborators there write), yet the role table lets them read branches and pull
# requests (a new-user walkthrough found "not found on GitHub, or you have no access to it" there).
jas $O POST /projects '{"name":"Private"}' >/dev/null
P5=$(jq -r .id "$T/body")
check_eq "a project on a private repository → 202" 202 "$(jas $O POST "/projects/$P5/repository" "{\"mode\":\"create\",\"name\":\"priv-$S\",\"private\":true}")"
check_eq "… connected" done "$(wait_connect "$(key $O)" "$P5" 60)"
printf 'first' > "$T/put"
as $O PUT "/projects/$P5/files/first.txt" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream' >/dev/null
as $O POST "/projects/$P5/sync" >/dev/null
check "… its first file synced" wait_for 60 eval "[ \"\$(as $O GET '/projects/$P5/history?limit=5' >/dev/null; jq '[.history[] | select(.status == \"success\")] | length' '$T/body')\" -ge 1 ]"
VTOK=$(curl -s -X POST "$FH/users/$V/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
check_eq "… GitHub hides it from the viewer's own token" 404 "$(gh GET "/repos/$O/priv-$S" "$VTOK" -o /dev/null -w '%{http_code}')"
jas $O POST "/projects/$P5/members" "{\"login\":\"$V\",\"role\":\"viewer\"}" >/dev/null
check "… the viewer becomes a member" wait_for 30 eval "[ \"\$(as $O GET /projects/$P5/members >/dev/null; jq -r '.members[] | select(.login == \"$V\") | .state' "$T/body")\" = active ]"
check_eq "the viewer lists its branches → 200" 200 "$(as $V GET "/projects/$P5/branches")"
check_match "… main among them" '"main"' "$(jq -c '[.branches[].name]' "$T/body")"
check_eq "the viewer's branches page → 200" 200 "$(page $V "/projects/$P5/branches")"
check_match "… lists main" '>main<' "$(cat "$T/page")"
jas $O PATCH "/projects/$P5/settings" '{"auto_sync":false}' >/dev/null
printf 'private change' > "$T/put"
as $O PUT "/projects/$P5/files/p.txt" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream' >/dev/null
check_eq "the owner opens a pull request from changes → 202" 202 "$(jas $O POST "/projects/$P5/pulls" '{"title":"Private PR","from":"changes","head":"private-pr"}')"
check "… it exists" wait_for 60 eval "[ \"\$(as $O GET /projects/$P5/pulls >/dev/null; jq '.pulls | length' "$T/body")\" -ge 1 ]"
N5=$(jq -r '.pulls[0].number' "$T/body")
check_eq "the viewer reads it fresh from GitHub, with its files → 200, not stale" "200 false" \
	"$(as $V GET "/projects/$P5/pulls/$N5?refresh=1&files=1") $(jq -r .stale "$T/body")"
check_eq "… and its page → 200" 200 "$(page $V "/projects/$P5/pulls/$N5")"
check "… without 'GitHub did not answer'" bash -c "! grep -q 'did not answer' '$T/page'"

finish
