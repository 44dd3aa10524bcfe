#!/usr/bin/env bash
# tests/members/test-drift.sh: the drift check of members against GitHub's collaborators (issue 14) on an
# organisation's repository: fakehub's base permission, teams and collaborator affiliations; drift found (a
# collaborator added on GitHub directly, a member's permission lowered there) and resolved ("Add as member",
# "Remove from GitHub", "Ask GitHub again"); base permission and team access counted as access; push vs write no
# difference; the periodic check without a click and its 304s on an unchanged repository; "members are
# authoritative" off (nothing removed ghbridge did not add) and on (removed, never an organisation owner); the
# collaborator call log with retry for one and for all; who may do which.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "drift tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "drift tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
FH=$FAKEHUB_URL/_fakehub
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1
S=d$$
O=own$S; D=dev$S; V=vw$S; B=base$S; TM=team$S; X=ext$S; X2=rem$S; X3=per$S; X4=auth$S; X5=inv$S; Q=orgm$S; QA=orga$S
N=non$S; L=fail$S; L2=fail2$S; W=out$S
ORG=org$S
ALL=projects:read,projects:write,sync,pulls
for u in $O $D $V $B $TM $X $X2 $X3 $X4 $X5 $Q $QA $N $L $L2 $W; do
	curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$u\"}"
done
curl -s -o /dev/null -X POST "$FH/orgs" -H 'Content-Type: application/json' -d "{\"login\":\"$ORG\"}"
orgmember() { curl -s -o /dev/null -w '%{http_code}' -X PUT "$FH/orgs/$ORG/members/$1" -H 'Content-Type: application/json' -d "{\"role\":\"$2\"}"; }
check_eq "the organisation's owner (fakehub admin API)" 204 "$(orgmember $O admin)"
for u in $D $V $B $TM $Q $L $L2; do orgmember "$u" member >/dev/null; done
orgmember $QA admin >/dev/null
for u in $O $D $V $N; do
	signin "$T/jar-$u" "$u" >/dev/null
	eval "K_$u=\$(\"\$BUILD/ghbridge\" apikey create --user $u --name drift --scopes $ALL 2>&1 | tail -1)"
done
key() { eval "echo \$K_$1"; }
as() { local u=$1 m=$2 p=$3; shift 3; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $(key "$u")" "$@" "$API$p"; }
jas() { as "$1" "$2" "$3" -H 'Content-Type: application/json' -d "$4"; }
page() { curl -s -o "$T/page" -w '%{http_code}' --max-time 30 -b "$T/jar-$1" "$GHB_URL$2"; }
post() { local u=$1 p=$2; shift 2; curl -s -o "$T/page" -w '%{http_code}' --max-time 30 -b "$T/jar-$u" -X POST "$GHB_URL$p" --data-urlencode "csrf=$(csrf_of "$T/jar-$u" /account)" "$@"; }
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
tok() { curl -s -X POST "$FH/users/$1/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo,read:org"}' | jq -r .token; }
OTOK=$(tok $O)
gh() { local m=$1 p=$2 t=$3; shift 3; curl -s -o "$T/gh" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $t" -H 'Content-Type: application/json' "$@" "$FAKEHUB_API_URL$p"; }
accept() { # accept LOGIN: the invitee accepts their invitation to the repository on GitHub
	local t; t=$(tok "$1")
	local id; id=$(curl -s -H "Authorization: Bearer $t" "$FAKEHUB_API_URL/user/repository_invitations" | jq -r "[.[] | select(.repository.name == \"$REPO\")][0].id")
	gh PATCH "/user/repository_invitations/$id" "$t"
}

# ---- 1. a project connected to a new repository of the organisation
check_eq "owner creates a project → 201" 201 "$(jas $O POST /projects '{"name":"Drift"}')"
PID=$(jq -r .id "$T/body")
REPO=drift-$S
jas $O POST "/projects/$PID/repository" "{\"mode\":\"create\",\"owner\":\"$ORG\",\"name\":\"$REPO\"}" >/dev/null
check_eq "connected to $ORG/$REPO" done "$(wait_connect "$(key $O)" "$PID" 60)"
R=/repos/$ORG/$REPO

# ---- 2. fakehub: the base permission, teams, and the listing by affiliation
check_eq "PATCH /orgs/$ORG default_repository_permission=read (an owner) → 200" 200 "$(gh PATCH "/orgs/$ORG" "$OTOK" -d '{"default_repository_permission":"read"}')"
check_eq "… GET /orgs/$ORG shows it to a member" read "$(gh GET "/orgs/$ORG" "$(tok $Q)" >/dev/null; jq -r .default_repository_permission "$T/gh")"
check_eq "… not to an outsider" null "$(gh GET "/orgs/$ORG" "$(tok $N)" >/dev/null; jq -r .default_repository_permission "$T/gh")"
check_eq "a member who is not an owner cannot change it → 403" 403 "$(gh PATCH "/orgs/$ORG" "$(tok $Q)" -d '{"default_repository_permission":"admin"}')"
check_eq "… an outsider → 404" 404 "$(gh PATCH "/orgs/$ORG" "$(tok $N)" -d '{"default_repository_permission":"admin"}')"
check_eq "… a bad value → 422" 422 "$(gh PATCH "/orgs/$ORG" "$OTOK" -d '{"default_repository_permission":"owner"}')"
# docs repos/add-collaborator: below the base permission an organisation member cannot be given (422).
gh PATCH "/orgs/$ORG" "$OTOK" -d '{"default_repository_permission":"write"}' >/dev/null
check_eq "base write: PUT a member's collaborator permission pull → 422" 422 "$(gh PUT "$R/collaborators/$Q" "$OTOK" -d '{"permission":"pull"}')"
check_match "… in GitHub's words" "Cannot assign $Q permission of pull" "$(cat "$T/gh")"
check_eq "… push is allowed (204: a member is added at once)" 204 "$(gh PUT "$R/collaborators/$Q" "$OTOK" -d '{"permission":"push"}')"
gh DELETE "$R/collaborators/$Q" "$OTOK" >/dev/null
gh PATCH "/orgs/$ORG" "$OTOK" -d '{"default_repository_permission":"read"}' >/dev/null
check_eq "a team (admin API)" 201 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$FH/orgs/$ORG/teams" -H 'Content-Type: application/json' -d '{"name":"Makers"}')"
curl -s -o /dev/null -X PUT "$FH/orgs/$ORG/teams/makers/members/$TM"
check_eq "… with maintain on the repository" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$FH/orgs/$ORG/teams/makers/repos/$REPO" -H 'Content-Type: application/json' -d '{"permission":"maintain"}')"
gh PUT "$R/collaborators/$X" "$OTOK" -d '{"permission":"push"}' >/dev/null
accept $X >/dev/null
collab() { gh GET "$R/collaborators?affiliation=$1&per_page=100" "$OTOK" >/dev/null; jq -r ".[] | select(.login == \"$2\") | .role_name" "$T/gh"; }
check_eq "affiliation=all: an organisation member through the base permission (read)" read "$(collab all $Q)"
check_eq "… a team member through the team (maintain)" maintain "$(collab all $TM)"
check_eq "… an organisation owner (admin)" admin "$(collab all $QA)"
check_eq "… the outside collaborator (write)" write "$(collab all $X)"
check_eq "… its permissions follow role_name" "true true false" "$(jq -r ".[] | select(.login == \"$TM\") | .permissions | \"\(.push) \(.maintain) \(.admin)\"" "$T/gh")"
check_eq "affiliation=direct: not the base-permission member" "" "$(collab direct $Q)"
check_eq "… the outside collaborator" write "$(collab direct $X)"
check_eq "affiliation=outside: the outside collaborator" write "$(collab outside $X)"
check_eq "… not an organisation owner" "" "$(collab outside $QA)"
check_eq "an unknown affiliation → 422" 422 "$(gh GET "$R/collaborators?affiliation=friends" "$OTOK")"
check_eq "GET …/collaborators/{u}: base permission is access (204)" 204 "$(gh GET "$R/collaborators/$Q" "$OTOK")"
check_eq "… an outsider's is not (404)" 404 "$(gh GET "$R/collaborators/$N" "$OTOK")"
check_eq "a base-permission member cannot push (git)" 403 "$(curl -s -o /dev/null -w '%{http_code}' -u "x-access-token:$(tok $Q)" "$FAKEHUB_URL/$ORG/$REPO.git/info/refs?service=git-receive-pack")"
check_eq "… the team member (maintain) can" 200 "$(curl -s -o /dev/null -w '%{http_code}' -u "x-access-token:$(tok $TM)" "$FAKEHUB_URL/$ORG/$REPO.git/info/refs?service=git-receive-pack")"
ET=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $OTOK" "$FAKEHUB_API_URL$R/collaborators" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
RL1=$(curl -s -H "Authorization: Bearer $OTOK" "$FAKEHUB_API_URL/rate_limit" | jq .rate.used)
check_eq "the listing with its ETag → 304" 304 "$(gh GET "$R/collaborators" "$OTOK" -H "If-None-Match: $ET")"
RL2=$(curl -s -H "Authorization: Bearer $OTOK" "$FAKEHUB_API_URL/rate_limit" | jq .rate.used)
check_eq "… which the rate limit does not count" "$RL1" "$RL2"
ET=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $OTOK" "$FAKEHUB_API_URL$R/invitations" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
check_eq "the invitations listing with its ETag → 304" 304 "$(gh GET "$R/invitations" "$OTOK" -H "If-None-Match: $ET")"

# ---- 3. members, and their access on GitHub
settled() { [ "$(q "SELECT count(*) FROM jobs WHERE project_id = $PID AND kind IN ('member_lookup', 'member_github') AND state IN ('queued', 'running')")" = 0 ]; }
invite() { jas $O POST "/projects/$PID/members" "{\"login\":\"$1\",\"role\":\"$2\"}" >/dev/null; }
invite $D developer; invite $V viewer; invite $B developer; invite $TM developer; invite $W developer
check "the members' GitHub calls are made" wait_for 60 settled
member() { as $O GET "/projects/$PID/members" >/dev/null; jq -r ".members[] | select(.login == \"$1\") | $2" "$T/body"; }
check_eq "an organisation member is made a collaborator at once (204: no invitation)" "collaborator push" "$(member $D '.github.state + " " + .github.permission')"
# Access through the organisation only: take the direct grants away on GitHub; the base permission (read) and
# the team (maintain) stay.
gh DELETE "$R/collaborators/$V" "$OTOK" >/dev/null
gh DELETE "$R/collaborators/$TM" "$OTOK" >/dev/null
checked() { q "SELECT coalesce(to_char(checked_at, 'YYYY-MM-DD HH24:MI:SS.US'), '') FROM member_drift_state WHERE project_id = $PID"; }
compare() { local before; before=$(checked); as $O POST "/projects/$PID/members/drift" >/dev/null; wait_for 30 eval "[ \"\$(checked)\" != \"$before\" ]"; }
drift() { as $O GET "/projects/$PID/members" >/dev/null; jq -r ".drift[] | select(.login == \"$1\") | .kind" "$T/body"; }
check "compare with GitHub" compare
check_eq "a viewer with only the base permission (read): no difference" "" "$(drift $V)"
check_eq "a developer whose team gives maintain (more than write): no difference" "" "$(drift $TM)"
check_eq "a developer given push: GitHub's 'write' is no difference from 'push'" "" "$(drift $D)"
check_eq "someone outside the organisation is invited (push)" "invited push" "$(member $W '.github.state + " " + .github.permission')"
check_eq "… GitHub's pending invitation says 'write': no difference from 'push'" "write " "$(gh GET "$R/invitations" "$OTOK" >/dev/null; jq -r ".[] | select(.invitee.login == \"$W\") | .permissions" "$T/gh") $(drift $W)"
check_eq "an organisation member who is no project member: the organisation's business, no difference" "" "$(drift $Q)"
check_eq "an organisation owner who is no project member: no difference" "" "$(drift $QA)"
check_eq "the outside collaborator added on GitHub directly: shown" not_member "$(drift $X)"
check_eq "… removable, with 'write' and the developer role suggested" "true write developer" "$(jq -r ".drift[] | select(.login == \"$X\") | \"\(.removable) \(.github_role) \(.suggested_role)\"" "$T/body")"
# The base permission alone is less than a developer's write.
gh DELETE "$R/collaborators/$B" "$OTOK" >/dev/null
# A member's permission changed on GitHub: the developer lowered to read.
gh PUT "$R/collaborators/$D" "$OTOK" -d '{"permission":"pull"}' >/dev/null
check "compare again" compare
check_eq "the developer lowered to read on GitHub: a difference" permission "$(drift $D)"
check_match "… in words" "asks for write .push.; GitHub gives read" "$(jq -r ".drift[] | select(.login == \"$D\") | .detail" "$T/body")"
check_eq "the developer with only the base permission (read): a difference" permission "$(drift $B)"
check_eq "the Members tab shows both, with 'Ask GitHub again'" "200 1 1" "$(page $O "/projects/$PID/members") $(grep -c "data-drift=\"$D\"" "$T/page") $(grep -c "Ask GitHub again: $D\"" "$T/page")"
check_eq "… and 'Add as member' and 'Remove from GitHub' for the stranger" "1 1" "$(grep -c "Add as member: $X, as developer" "$T/page") $(grep -c "Remove from GitHub: $X\"" "$T/page")"
check_match "… and says what the organisation's access counts as" "base permission, a team" "$(cat "$T/page")"

# ---- 4. resolved: "Ask GitHub again", "Add as member", "Remove from GitHub"
check_eq "ask GitHub again for the developer → 202" 202 "$(as $O POST "/projects/$PID/members/$D/retry")"
check "… done" wait_for 30 settled
check_eq "… write again on GitHub" write "$(collab all $D)"
check_eq "add the stranger as a member (the panel's button) → 303" 303 "$(post $O "/projects/$PID/members" --data-urlencode login=$X --data-urlencode role=developer)"
check "… done" wait_for 60 settled
gh PUT "$R/collaborators/$X2" "$OTOK" -d '{"permission":"push"}' >/dev/null
accept $X2 >/dev/null
check "compare" compare
check_eq "the developer is no difference any more" "" "$(drift $D)"
check_eq "the stranger, a member now, is no difference" "" "$(drift $X)"
check_eq "… and stays a collaborator, not added by ghbridge" "collaborator false" "$(member $X '.github.state + " " + (.github.added_by_ghbridge|tostring)')"
check_eq "another stranger shows" not_member "$(drift $X2)"
check_eq "'Remove from GitHub' without confirming: a confirm page" "200 1" "$(post $O "/projects/$PID/drift/remove" --data-urlencode login=$X2) $(grep -c 'Remove from GitHub' "$T/page")"
check_eq "… nothing queued" 0 "$(q "SELECT count(*) FROM jobs WHERE project_id = $PID AND kind = 'member_github' AND payload->>'login' = '$X2'")"
check_eq "a developer cannot remove from GitHub → 403" 403 "$(as $D POST "/projects/$PID/drift/$X2/remove")"
check_eq "… a non-member gets 404" 404 "$(as $N POST "/projects/$PID/drift/$X2/remove")"
check_eq "… nothing queued" 0 "$(q "SELECT count(*) FROM jobs WHERE project_id = $PID AND kind = 'member_github' AND payload->>'login' = '$X2'")"
check_eq "remove a member from GitHub this way → 409 (remove them as a member)" 409 "$(as $O POST "/projects/$PID/drift/$D/remove")"
check_eq "someone the check did not find → 404" 404 "$(as $O POST "/projects/$PID/drift/$N/remove")"
check_eq "the owner confirms → 303" 303 "$(post $O "/projects/$PID/drift/remove" --data-urlencode login=$X2 --data-urlencode confirm=1)"
check "… gone from GitHub" wait_for 30 eval "[ \"\$(gh GET $R/collaborators/$X2 $OTOK)\" = 404 ]"
check_eq "… logged: the DELETE, GitHub's 204, one attempt" "DELETE $R/collaborators/$X2 204 ok 1" \
	"$(as $O GET "/projects/$PID/collaborator-ops" >/dev/null; jq -r "[.ops[] | select(.login == \"$X2\")][0] | \"\(.request) \(.http_status) \(.state) \(.attempts)\"" "$T/body")"

# ---- 5. the periodic check: drift found without a click; an unchanged repository costs 304s
gh PUT "$R/collaborators/$X3" "$OTOK" -d '{"permission":"pull"}' >/dev/null
check_eq "each connected project has a periodic check scheduled (an interval ahead)" 1 "$(q "SELECT count(*) FROM member_drift_state WHERE project_id = $PID AND next_at > now()")"
due() { q "UPDATE member_drift_state SET next_at = now() WHERE project_id = $PID" >/dev/null; }
before=$(checked)
due
check "the worker runs the due check by itself" wait_for 40 eval "[ \"\$(checked)\" != \"$before\" ]"
check_eq "… and finds the invitation made on GitHub" invitation_not_member "$(drift $X3)"
check "… the next one is an interval ahead" eval "[ \"\$(q \"SELECT next_at > now() + interval '30 minutes' FROM member_drift_state WHERE project_id = $PID\")\" = t ]"
SINCE=$(curl -s "$FH/requests/count" | jq -r .last_id)
before=$(checked)
due
check "a second periodic check on the unchanged repository" wait_for 40 eval "[ \"\$(checked)\" != \"$before\" ]"
calls=$(curl -s "$FH/requests?since_id=$SINCE" | jq -r --arg r "/api/v3$R" '[.[] | select(.path == $r or (.path | startswith($r + "/collaborators")) or (.path | startswith($r + "/invitations"))) | "\(.method) \(.path | ltrimstr($r)) \(.status)"] | join(", ")')
echo "# the second check's calls: $calls"
check_eq "… costs two 304s (collaborators, invitations) and nothing else" "GET /collaborators 304, GET /invitations 304" "$calls"
check_match "… and says so" "2 call.s. to GitHub, 2 answered 304" "$(q "SELECT last_result FROM member_drift_state WHERE project_id = $PID")"
check_eq "… the finding stays" invitation_not_member "$(drift $X3)"
curl -s -o /dev/null -X POST "$FH/faults" -H 'Content-Type: application/json' \
	-d "{\"method\":\"GET\",\"path\":\"/api/v3$R/collaborators\",\"kind\":\"status\",\"status\":403,\"count\":1}"
as $O POST "/projects/$PID/members/drift" >/dev/null
check "a comparison GitHub refuses says so, with GitHub's answer" wait_for 30 eval "q \"SELECT last_result FROM member_drift_state WHERE project_id = $PID\" | grep -q '^failed: .*403'"
check_eq "… the findings of the last comparison stay" invitation_not_member "$(drift $X3)"
check_match "… and the tab shows why" "failed: GET" "$(page $O "/projects/$PID/members" >/dev/null; cat "$T/page")"
curl -s -o /dev/null -X DELETE "$FH/faults"

# ---- 5b. a listing of more than one page: each page is asked with its own ETag (an organisation of 101 members
# with the base permission: 102 people with access, two pages of 100)
ORG2=big$S
curl -s -o /dev/null -X POST "$FH/orgs" -H 'Content-Type: application/json' -d "{\"login\":\"$ORG2\"}"
curl -s -o /dev/null -X PUT "$FH/orgs/$ORG2/members/$O" -H 'Content-Type: application/json' -d '{"role":"admin"}'
for i in $(seq 1 101); do
	curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"b$i-$S\"}"
	curl -s -o /dev/null -X PUT "$FH/orgs/$ORG2/members/b$i-$S" -H 'Content-Type: application/json' -d '{"role":"member"}'
done
jas $O POST /projects '{"name":"Drift big"}' >/dev/null
P2=$(jq -r .id "$T/body")
jas $O POST "/projects/$P2/repository" "{\"mode\":\"create\",\"owner\":\"$ORG2\",\"name\":\"$REPO\"}" >/dev/null
check_eq "a project on an organisation of 101 members" done "$(wait_connect "$(key $O)" "$P2" 60)"
checked2() { q "SELECT coalesce(to_char(checked_at, 'YYYY-MM-DD HH24:MI:SS.US'), '') FROM member_drift_state WHERE project_id = $P2"; }
compare2() { local before; before=$(checked2); as $O POST "/projects/$P2/members/drift" >/dev/null; wait_for 30 eval "[ \"\$(checked2)\" != \"$before\" ]"; }
check "compare" compare2
check_eq "… two pages of collaborators stored, each with its ETag" "2 2" "$(q "SELECT json_array_length(all_body::json), json_array_length(all_etag::json) FROM member_drift_state WHERE project_id = $P2" | tr '|' ' ')"
check_eq "… the members through the base permission are no difference" 0 "$(as $O GET "/projects/$P2/members" >/dev/null; jq '.drift | length' "$T/body")"
SINCE=$(curl -s "$FH/requests/count" | jq -r .last_id)
check "compare again, nothing changed" compare2
calls=$(curl -s "$FH/requests?since_id=$SINCE" | jq -r --arg r "/api/v3/repos/$ORG2/$REPO" '[.[] | select(.path == $r or (.path | startswith($r + "/collaborators")) or (.path | startswith($r + "/invitations"))) | "\(.method) \(.path | ltrimstr($r)) \(.status)"] | join(", ")')
check_eq "… each page once, each a 304" "GET /collaborators 304, GET /collaborators 304, GET /invitations 304" "$calls"
curl -s -o /dev/null -X PUT "$FH/orgs/$ORG2/members/$X3" -H 'Content-Type: application/json' -d '{"role":"member"}'
SINCE=$(curl -s "$FH/requests/count" | jq -r .last_id)
check "a new organisation member (sorted onto the second page)" compare2
calls=$(curl -s "$FH/requests?since_id=$SINCE" | jq -r --arg r "/api/v3/repos/$ORG2/$REPO/collaborators" '[.[] | select(.path == $r and (.query | test("affiliation=all"))) | "\(.status)"] | join(" ")')
check_eq "… the first page is a 304, the changed second one is read again" "304 200" "$calls"
check_eq "… still two pages" 2 "$(q "SELECT json_array_length(all_body::json) FROM member_drift_state WHERE project_id = $P2")"

# ---- 6. members are authoritative: off removes nothing ghbridge did not add; on removes what no member accounts for
gh PUT "$R/collaborators/$X4" "$OTOK" -d '{"permission":"push"}' >/dev/null
accept $X4 >/dev/null
gh PUT "$R/collaborators/$X5" "$OTOK" -d '{"permission":"push"}' >/dev/null
check "compare (authoritative off)" compare
sleep 2
check_eq "off: the stranger stays on GitHub" 204 "$(gh GET "$R/collaborators/$X4" "$OTOK")"
check_eq "… the stranger's invitation stays" 1 "$(gh GET "$R/invitations" "$OTOK" >/dev/null; jq "[.[] | select(.invitee.login == \"$X5\")] | length" "$T/gh")"
check_eq "… no removal queued" 0 "$(q "SELECT count(*) FROM jobs WHERE project_id = $PID AND kind = 'member_github' AND payload->>'unaccounted' = 'true' AND payload->>'login' IN ('$X4', '$X5')")"
check_eq "… the tab says it is off" 1 "$(page $O "/projects/$PID/members" >/dev/null; grep -c '<strong>Off:</strong>' "$T/page")"
check_eq "a developer turns it on → 403" 403 "$(jas $D PATCH "/projects/$PID/collaborator-settings" '{"authoritative":true,"confirm":true}')"
check_eq "… a developer's panel form → 403" 403 "$(post $D "/projects/$PID/collaborator-settings" --data-urlencode authoritative=on --data-urlencode confirm=1)"
check_eq "… a viewer reads it → 200, off" "200 false" "$(as $V GET "/projects/$PID/collaborator-settings") $(jq -r .authoritative "$T/body")"
check_eq "… nothing changed" f "$(q "SELECT members_authoritative FROM projects WHERE id = $PID")"
check_eq "the owner without confirming → 400 at confirm" "400 confirm" "$(jas $O PATCH "/projects/$PID/collaborator-settings" '{"authoritative":true}') $(jq -r .error.field "$T/body")"
check_eq "… a bad value → 400 at authoritative" "400 authoritative" "$(jas $O PATCH "/projects/$PID/collaborator-settings" '{"authoritative":"yes","confirm":true}') $(jq -r .error.field "$T/body")"
check_eq "… the panel without confirming: a confirm page saying what happens" "200 1" "$(post $O "/projects/$PID/collaborator-settings" --data-urlencode authoritative=on) $(grep -c 'including people ghbridge did not add' "$T/page")"
check_eq "… nothing changed" f "$(q "SELECT members_authoritative FROM projects WHERE id = $PID")"
check_eq "the owner confirms → 303" 303 "$(post $O "/projects/$PID/collaborator-settings" --data-urlencode authoritative=on --data-urlencode confirm=1)"
check_eq "… on" t "$(q "SELECT members_authoritative FROM projects WHERE id = $PID")"
check_eq "… the tab says so plainly" 1 "$(page $O "/projects/$PID/members" >/dev/null; grep -c '<strong>On:</strong>' "$T/page")"
check "compare (authoritative on)" compare
check "on: the stranger is removed from GitHub" wait_for 30 eval "[ \"\$(gh GET $R/collaborators/$X4 $OTOK)\" = 404 ]"
check "… the stranger's invitation too" wait_for 30 eval "gh GET $R/invitations $OTOK >/dev/null; [ \"\$(jq '[.[] | select(.invitee.login == \"$X5\")] | length' $T/gh)\" = 0 ]"
check_eq "… the members keep their access" "204 204" "$(gh GET "$R/collaborators/$D" "$OTOK") $(gh GET "$R/collaborators/$X" "$OTOK")"
check_eq "… the organisation's owner (no member) keeps theirs" 204 "$(gh GET "$R/collaborators/$QA" "$OTOK")"
check_eq "… an organisation member through the base permission keeps theirs" 204 "$(gh GET "$R/collaborators/$Q" "$OTOK")"
check_eq "… the removals are logged as such" true "$(as $O GET "/projects/$PID/collaborator-ops" >/dev/null; jq -r "[.ops[] | select(.login == \"$X4\" or .login == \"$X5\") | .unaccounted] | length >= 2 and all" "$T/body")"
check_eq "turn it off → 200" "200 false" "$(jas $O PATCH "/projects/$PID/collaborator-settings" '{"authoritative":false}') $(jq -r .authoritative "$T/body")"

# ---- 7. the log of collaborator calls: a failed one is listed, retried alone or with every other failed one
fault() { curl -s -o /dev/null -X POST "$FH/faults" -H 'Content-Type: application/json' -d "{\"method\":\"PUT\",\"path\":\"/api/v3$R/collaborators/$1\",\"kind\":\"status\",\"status\":422,\"count\":1}"; }
fault $L; fault $L2
invite $L developer; invite $L2 developer
check "GitHub refuses both calls" wait_for 60 settled
failed() { as $O GET "/projects/$PID/collaborator-ops?failed=1" >/dev/null; jq -r '[.ops[].login] | sort | join(",")' "$T/body"; }
check_eq "GET …/collaborator-ops?failed=1 lists both" "$(printf '%s\n' $L $L2 | sort | paste -sd,)" "$(failed)"
check_match "… with GitHub's answer" "422" "$(jq -r '.ops[0].answer' "$T/body")"
OP=$(jq -r ".ops[] | select(.login == \"$L\") | .id" "$T/body")
check_eq "the tab offers Retry for each and for all" "200 1 1" "$(page $O "/projects/$PID/members") $(grep -c "Retry the call for $L\"" "$T/page") $(grep -c 'Retry every failed operation (2)' "$T/page")"
check_eq "a developer cannot retry → 403" 403 "$(as $D POST "/projects/$PID/collaborator-ops/$OP/retry")"
check_eq "a viewer reads the log" 200 "$(as $V GET "/projects/$PID/collaborator-ops")"
check_eq "retry one → 202" 202 "$(as $O POST "/projects/$PID/collaborator-ops/$OP/retry")"
check_eq "… again → 409 (retried already)" 409 "$(as $O POST "/projects/$PID/collaborator-ops/$OP/retry")"
check_eq "… an unknown one → 404" 404 "$(as $O POST "/projects/$PID/collaborator-ops/999999999/retry")"
check "… GitHub answers it this time" wait_for 30 eval "[ \"\$(member $L .github.state)\" = collaborator ]"
check_eq "only the other one is still failed" "$L2" "$(failed)"
check_eq "retry every failed one (the panel) → 303" 303 "$(post $O "/projects/$PID/collaborator-ops/retry")"
check "… answered" wait_for 30 eval "[ \"\$(member $L2 .github.state)\" = collaborator ]"
check_eq "no failed call is left" "" "$(failed)"
check_eq "the log keeps the failed attempt, marked retried" retried "$(as $O GET "/projects/$PID/collaborator-ops" >/dev/null; jq -r ".ops[] | select(.id == $OP) | .state" "$T/body")"
curl -s -o /dev/null -X DELETE "$FH/faults"

# ---- 7b. every kind of collaborator call is logged: a role change on a pending invitation is one PATCH
check_eq "the outside invitee made a maintainer → 200" 200 "$(jas $O PATCH "/projects/$PID/members/$W" '{"role":"maintainer"}')"
check "… done" wait_for 30 settled
check_match "… logged: the PATCH of the invitation, GitHub's 200" "^PATCH $R/invitations/[0-9]+ \\(maintain\\) 200 ok update_invitation$" \
	"$(as $O GET "/projects/$PID/collaborator-ops" >/dev/null; jq -r "[.ops[] | select(.login == \"$W\")][0] | \"\(.request) \(.http_status) \(.state) \(.action)\"" "$T/body")"

# ---- 8. who may do which: non-members 404, too-low roles 403 on the new routes
n=0; bad=""
for r in "GET /projects/$PID/collaborator-ops" "POST /projects/$PID/collaborator-ops/retry" "POST /projects/$PID/collaborator-ops/1/retry" \
	"GET /projects/$PID/collaborator-settings" "PATCH /projects/$PID/collaborator-settings" "POST /projects/$PID/drift/$X3/remove"; do
	st=$(as $N ${r% *} "${r#* }" -H 'Content-Type: application/json' -d '{}')
	if [ "$st" = 404 ]; then n=$((n + 1)); else bad="$bad $r=$st"; fi
done
for p in /collaborator-settings /collaborator-ops/retry /drift/remove; do
	st=$(post $N "/projects/$PID$p" --data-urlencode confirm=1)
	if [ "$st" = 404 ]; then n=$((n + 1)); else bad="$bad POST$p=$st"; fi
done
check_eq "a non-member gets 404 on each new route" 9 "$n${bad:+ ($bad)}"
check_eq "bad input: an op id that is no number → 404" 404 "$(as $O POST "/projects/$PID/collaborator-ops/abc/retry")"
check_eq "… past 64 bits → 404" 404 "$(as $O POST "/projects/$PID/collaborator-ops/99999999999999999999999/retry")"
check_eq "… settings that are not JSON → 400" 400 "$(as $O PATCH "/projects/$PID/collaborator-settings" -H 'Content-Type: application/json' -d 'on')"
check_eq "… a panel op that is no number → 422" 422 "$(post $O "/projects/$PID/collaborator-ops/retry" --data-urlencode op=abc)"
check_eq "… a panel setting that is neither on nor off → 422" 422 "$(post $O "/projects/$PID/collaborator-settings" --data-urlencode authoritative=maybe --data-urlencode confirm=1)"
check_eq "… a login GitHub would refuse → 404" 404 "$(as $O POST "/projects/$PID/drift/-bad--login-/remove")"
check_eq "a viewer's panel retry → 403" 403 "$(post $V "/projects/$PID/collaborator-ops/retry")"
check_eq "the authoritative setting is still off" f "$(q "SELECT members_authoritative FROM projects WHERE id = $PID")"

# ---- 9. an organisation member ghbridge makes a direct collaborator (204): the grant is ghbridge's, and goes with
# the member; one that was there before ghbridge is never taken. docs "Add a repository collaborator": 204 both
# for an existing collaborator and for an organisation member added as an individual collaborator.
G1=gra$S; G2=grb$S; G3=grk$S; G4=grv$S
for u in $G1 $G2 $G3 $G4; do
	curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$u\"}"
	orgmember "$u" member >/dev/null
done
SINCE=$(curl -s "$FH/requests/count" | jq -r .last_id)
invite $G1 developer
check "an organisation member invited as a developer" wait_for 60 settled
check_eq "… made a direct collaborator by ghbridge's PUT (204), and recorded as ghbridge's" "collaborator push true" \
	"$(member $G1 '.github.state + " " + .github.permission + " " + (.github.added_by_ghbridge|tostring)')"
check_eq "… ghbridge looked at the direct collaborators before its PUT" 1 \
	"$(curl -s "$FH/requests?since_id=$SINCE" | jq --arg p "/api/v3$R/collaborators" '[.[] | select(.method == "GET" and .path == $p and (.query | test("affiliation=direct")))] | length')"
check_eq "removing the member → 204" 204 "$(as $O DELETE "/projects/$PID/members/$G1")"
check "… takes ghbridge's direct grant away on GitHub" wait_for 30 eval "[ -z \"\$(collab direct $G1)\" ]"
check_eq "… the base permission stays theirs" "204 read" "$(gh GET "$R/collaborators/$G1" "$OTOK") $(collab all $G1)"
check "compare" compare
check_eq "… and the next check shows no difference for them" "" "$(drift $G1)"
# A direct grant made on GitHub before ghbridge asked: 204 too, but not ghbridge's.
gh PUT "$R/collaborators/$G2" "$OTOK" -d '{"permission":"push"}' >/dev/null
invite $G2 developer
check "an organisation member with a direct grant of their own, invited" wait_for 60 settled
check_eq "… a collaborator, not added by ghbridge" "collaborator false" "$(member $G2 '.github.state + " " + (.github.added_by_ghbridge|tostring)')"
check_eq "removing the member → 204" 204 "$(as $O DELETE "/projects/$PID/members/$G2")"
wait_for 20 settled
check_eq "… leaves the grant that was there before ghbridge" write "$(collab direct $G2)"
check_eq "… no DELETE was sent for them" 0 "$(curl -s "$FH/requests?since_id=$SINCE&method=DELETE" | jq --arg p "/api/v3$R/collaborators/$G2" '[.[] | select(.path == $p)] | length')"
# A worker killed while its PUT is on GitHub's side: the redo must not take its own grant for one from before.
curl -s -o /dev/null -X POST "$FH/faults" -H 'Content-Type: application/json' \
	-d "{\"method\":\"PUT\",\"path\":\"/api/v3$R/collaborators/$G3\",\"kind\":\"hang\",\"seconds\":2,\"count\":1}"
SINCE=$(curl -s "$FH/requests/count" | jq -r .last_id)
invite $G3 developer
hung() { [ "$(curl -s "$FH/faults" | jq "[.[] | select(.path | endswith(\"$G3\"))] | length")" = 0 ]; }
check "$G3's PUT is on GitHub's side" wait_for 60 hung
MID3=$(q "SELECT id FROM project_members WHERE project_id = $PID AND login = '$G3'")
VICTIM=$(q "SELECT split_part(locked_by, ':', 2) FROM jobs WHERE kind = 'member_github' AND payload->>'member_id' = '$MID3' AND state = 'running'" | head -1)
if [ -n "$VICTIM" ] && kill -KILL "$VICTIM" 2>/dev/null; then ok "SIGKILLed worker process $VICTIM mid-PUT"; else not_ok "SIGKILL the worker mid-PUT" "no running job for $G3"; fi
check "… the redo answers" wait_for 90 eval "[ \"\$(member $G3 .github.state)\" = collaborator ]"
check_eq "… the grant its first PUT made is ghbridge's" true "$(member $G3 '.github.added_by_ghbridge')"
check_eq "… the redo did not look again (one look, before the first PUT)" 1 \
	"$(curl -s "$FH/requests?since_id=$SINCE" | jq --arg p "/api/v3$R/collaborators" '[.[] | select(.method == "GET" and .path == $p and (.query | test("affiliation=direct")))] | length')"

# ---- 10. a role's permission below the organisation's base permission: GitHub refuses it every time (422 "Cannot
# assign {member} permission of {role name}"); that is access through the organisation, not a failure to retry.
gh PATCH "/orgs/$ORG" "$OTOK" -d '{"default_repository_permission":"write"}' >/dev/null
SINCE=$(curl -s "$FH/requests/count" | jq -r .last_id)
invite $G4 viewer
check "an organisation member invited as a viewer with base permission write" wait_for 60 settled
check_eq "… GitHub refused the PUT once (422)" "422" "$(curl -s "$FH/requests?since_id=$SINCE&method=PUT" | jq -r --arg p "/api/v3$R/collaborators/$G4" '[.[] | select(.path == $p) | .status] | map(tostring) | join(" ")')"
check_eq "… recorded as access through the organisation, with what GitHub gives (write), no failure, no retry" \
	"organisation push false false null" \
	"$(member $G4 '.github.state + " " + .github.permission + " " + (.github.failed|tostring) + " " + (.github.can_retry|tostring) + " " + (.github.error|tostring)')"
check_match "… in GitHub's words" "Cannot assign $G4 permission of pull.*base permission" "$(member $G4 .github.note)"
check_eq "… the call is logged as answered, not failed" "422 ok" \
	"$(as $O GET "/projects/$PID/collaborator-ops" >/dev/null; jq -r "[.ops[] | select(.login == \"$G4\")][0] | \"\(.http_status) \(.state)\"" "$T/body")"
check_eq "… not among the failed calls" "" "$(as $O GET "/projects/$PID/collaborator-ops?failed=1" >/dev/null; jq -r ".ops[] | select(.login == \"$G4\") | .id" "$T/body")"
check_eq "… the job did not fail" 0 "$(q "SELECT count(*) FROM jobs WHERE kind = 'member_github' AND payload->>'member_id' = '$(q "SELECT id FROM project_members WHERE project_id = $PID AND login = '$G4'")' AND state IN ('dead', 'failed')")"
page $O "/projects/$PID/members" >/dev/null
check_eq "the tab says it in GitHub's words, with no Retry for them" "1 0 0" \
	"$(grep -c "data-organisation=\"$G4\">GitHub answered 422: &quot;Cannot assign $G4 permission of pull&quot;" "$T/page") $(grep -c "Retry: Ask GitHub again for $G4\"" "$T/page") $(grep -c "Retry the call for $G4\"" "$T/page")"
check "compare" compare
check_eq "… and no difference for them" "" "$(drift $G4)"
gh PATCH "/orgs/$ORG" "$OTOK" -d '{"default_repository_permission":"read"}' >/dev/null

finish
