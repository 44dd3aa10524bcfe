#!/usr/bin/env bash
# tests/security/test-members-attack.sh: issue 14 (members, roles, invitations, authorship) attacked from outside
# and by members. §2 every project route in the route table (src/web/routes.c, read here, so a new row is covered
# the day it is added) as a non-member (404), a viewer and a developer (403 above their role) and a key without
# the row's scope (403), nothing changed; §3 members of project A changed through project B's address (404); §4
# CSRF on the commit-address form, PATCH /api/v1/me and the members form; §5 a commit address of another
# person's (their no-reply address, the address they signed in with) refused; §6 bad JSON on the new fields:
# 4xx, nothing changed, no crash (unknown fields and wrong types included); §7 a removed member keeps no access
# through a live session or key; §8 a GitHub login renamed after the lookup and taken by someone else: no
# invitation to the newcomer; §9 a freed login signed in with by its new holder, and a person renamed onto a login
# a member row still shows (sql/025); §10 a sign-in the database refuses: no bad free; §11 a removed member's
# renamed-and-taken login: the newcomer keeps their access; §12 an address that became someone else's after it
# was chosen is not used by the next commit; §13 a login of digits equal to another member's GitHub id: actions
# land on the member whose login it is; §14 "Remove from GitHub" after a rename: the newcomer keeps access.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "member attack tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "member attack tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
FH=$FAKEHUB_URL/_fakehub
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1
S=h$$$RANDOM
O=hown$S; D=hdev$S; V=hview$S; X=hout$S; B=hbown$S; W=hvic$S; R=hren$S; N=hnew$S
ALL=projects:read,projects:write,sync,pulls
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$W\",\"email\":\"victim-$S@example.org\"}"
for u in $O $D $V $X $B $R; do
	curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$u\"}"
done
for u in $O $D $V $X $B $W; do
	signin "$T/jar-$u" "$u" >/dev/null
	eval "K_$u=\$(\"\$BUILD/ghbridge\" apikey create --user $u --name attack --scopes $ALL 2>&1 | tail -1)"
done
KO_READ=$("$BUILD/ghbridge" apikey create --user $O --name narrow --scopes projects:read 2>&1 | tail -1)
key() { eval "echo \$K_$1"; }
as() { local u=$1 m=$2 p=$3; shift 3; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $(key "$u")" "$@" "$API$p"; }
jas() { as "$1" "$2" "$3" -H 'Content-Type: application/json' -d "$4"; }
withkey() { local k=$1 m=$2 p=$3; shift 3; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $k" "$@" "$API$p"; }
page() { curl -s -o "$T/page" -w '%{http_code}' --max-time 30 -b "$T/jar-$1" "$GHB_URL$2"; }
post() { local u=$1 p=$2; shift 2; curl -s -o "$T/page" -w '%{http_code}' --max-time 30 -b "$T/jar-$u" -X POST "$GHB_URL$p" --data-urlencode "csrf=$(csrf_of "$T/jar-$u" /account)" "$@"; }
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
member() { as $O GET "/projects/$1/members" >/dev/null; jq -r ".members[] | select(.login == \"$2\") | $3" "$T/body"; }
ghid() { q "SELECT github_id FROM users WHERE login = '$1'"; }
alive() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$GHB_URL/healthz")" = 200 ]; }

# ---- 1. project A (owner O; developer D, viewer V), project B (owner B); both connected
check_eq "owner creates project A → 201" 201 "$(jas $O POST /projects '{"name":"Attack A"}')"
PA=$(jq -r .id "$T/body")
check_eq "another owner creates project B → 201" 201 "$(jas $B POST /projects '{"name":"Attack B"}')"
PB=$(jq -r .id "$T/body")
check_eq "A: connect (create a repository) → 202" 202 "$(jas $O POST "/projects/$PA/repository" "{\"mode\":\"create\",\"name\":\"att-$S\"}")"
check_eq "… connected" done "$(wait_connect "$(key $O)" "$PA" 60)"
jas $O POST "/projects/$PA/members" "{\"login\":\"$D\",\"role\":\"developer\"}" >/dev/null
jas $O POST "/projects/$PA/members" "{\"login\":\"$V\",\"role\":\"viewer\"}" >/dev/null
check "A: developer and viewer are active" wait_for 30 eval "[ \"\$(member $PA $D .state) \$(member $PA $V .state)\" = 'active active' ]"
snapshot() { q "SELECT string_agg(login || ':' || role || ':' || state, ',' ORDER BY login) FROM project_members WHERE project_id IN ($PA, $PB)"; q "SELECT string_agg(id || ':' || name || ':' || coalesce(repo_name, ''), ',' ORDER BY id) FROM projects WHERE id IN ($PA, $PB)"; }
BEFORE=$(snapshot)

# ---- 2. every project route in the table: non-member 404, too-low role 403, narrow key 403
# Rows: PROJ("METHOD", "PATTERN", handler, flags, scope|NULL, ROLE_X).
ROWS=$(grep -o 'PROJ("[A-Z]*", "[^"]*", [a-z_]*, [^,]*, [^,]*, ROLE_[A-Z]*)' "$ROOT/src/web/routes.c" |
	sed -E 's/PROJ\("([A-Z]+)", "([^"]+)", [a-z_]+, [^,]*, ([^,]+), ROLE_([A-Z]+)\)/\1 \2 \3 \4/')
check "the route table has project rows" test "$(printf '%s\n' "$ROWS" | grep -c .)" -gt 50
level() { case $1 in VIEWER) echo 1 ;; DEVELOPER) echo 2 ;; MAINTAINER) echo 3 ;; OWNER) echo 4 ;; esac; }
fill() { printf '%s' "$1" | sed -e "s/{id}/$2/" -e 's/{path\*}/a.txt/' -e "s/{user}/$D/" -e 's/{number}/1/' -e 's/{hid}/1/' -e 's/{name\*}/x/'; }
# call WHO METHOD PATTERN PROJECT: as a key (API rows) or the browser session with its form token (panel rows).
call() {
	local who=$1 m=$2 pat=$3 pid=$4 p
	p=$(fill "$pat" "$pid")
	if [ "${p#/api/v1}" != "$p" ]; then
		withkey "$who" "$m" "${p#/api/v1}" -H 'Content-Type: application/json' -d '{}'
	elif [ "$m" = GET ]; then
		curl -s -o "$T/page" -w '%{http_code}' --max-time 30 -b "$T/jar-$who" "$GHB_URL$p"
	else
		curl -s -o "$T/page" -w '%{http_code}' --max-time 30 -b "$T/jar-$who" -X POST "$GHB_URL$p" \
			--data-urlencode "csrf=$(cat "$T/csrf-$who")" --data-urlencode confirm=1 --data-urlencode "member=$D"
	fi
}
for u in $X $V $D; do csrf_of "$T/jar-$u" /account > "$T/csrf-$u"; done
bad_x=""; bad_v=""; bad_d=""; bad_k=""; n=0
while read -r m pat scope role; do
	n=$((n + 1))
	lv=$(level "$role")
	api=0; [ "${pat#/api/v1}" != "$pat" ] && api=1
	kx=$X; kv=$V; kd=$D
	if [ $api = 1 ]; then kx=$(key $X); kv=$(key $V); kd=$(key $D); fi
	st=$(call "$kx" "$m" "$pat" "$PA"); [ "$st" = 404 ] || bad_x="$bad_x $m:$pat=$st"
	if [ "$lv" -gt 1 ]; then st=$(call "$kv" "$m" "$pat" "$PA"); [ "$st" = 403 ] || bad_v="$bad_v $m:$pat=$st"; fi
	if [ "$lv" -gt 2 ]; then st=$(call "$kd" "$m" "$pat" "$PA"); [ "$st" = 403 ] || bad_d="$bad_d $m:$pat=$st"; fi
	if [ $api = 1 ] && [ "$scope" != '"projects:read"' ]; then
		st=$(call "$KO_READ" "$m" "$pat" "$PA"); [ "$st" = 403 ] || bad_k="$bad_k $m:$pat=$st"
	fi
done <<<"$ROWS"
check_eq "a non-member: 404 on each of the $n project routes" "" "$bad_x"
check_eq "a viewer: 403 on each route above viewer" "" "$bad_v"
check_eq "a developer: 403 on each route above developer" "" "$bad_d"
check_eq "the owner's projects:read key: 403 on each API route needing another scope" "" "$bad_k"
check_eq "… members and projects unchanged" "$BEFORE" "$(snapshot)"

# ---- 3. project A's members through project B's address (B's owner, and A's owner who is no member of B)
DGID=$(ghid $D)
check_eq "B's owner changes A's developer (by login) through B → 404" 404 "$(jas $B PATCH "/projects/$PB/members/$D" '{"role":"owner"}')"
check_eq "… by GitHub id → 404" 404 "$(jas $B PATCH "/projects/$PB/members/$DGID" '{"role":"owner"}')"
check_eq "… removes them through B → 404" 404 "$(as $B DELETE "/projects/$PB/members/$D")"
check_eq "… retries them through B → 404" 404 "$(as $B POST "/projects/$PB/members/$D/retry")"
check_eq "… makes them B's owner → 404" 404 "$(jas $B POST "/projects/$PB/transfer" "{\"member\":\"$D\"}")"
check_eq "… the panel's role form through B → 404" 404 "$(post $B "/projects/$PB/members/role" --data-urlencode "member=$D" --data-urlencode role=owner)"
check_eq "A's owner changes through B's address → 404 (no member of B)" 404 "$(jas $O PATCH "/projects/$PB/members/$B" '{"role":"viewer"}')"
check_eq "… nothing changed" "$BEFORE" "$(snapshot)"

# ---- 4. CSRF: the commit-address form and PATCH /api/v1/me with the session cookie
check_eq "commit-address form without the token → 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-$D" -X POST "$GHB_URL/account/commit-email" --data-urlencode commit_email=csrf@example.org)"
check_eq "… with the token, from another site → 403" 403 "$(post $D /account/commit-email -H 'Origin: https://evil.example' --data-urlencode commit_email=csrf@example.org)"
check_eq "PATCH /api/v1/me by cookie without the token → 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-$D" -X PATCH "$API/me" -H 'Content-Type: application/json' -d '{"commit_email":"csrf@example.org"}')"
check_eq "members form without the token → 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-$O" -X POST "$GHB_URL/projects/$PA/members" --data-urlencode "login=$X" --data-urlencode role=owner)"
check_eq "… nothing saved" "" "$(q "SELECT coalesce(commit_email, '') FROM users WHERE login = '$D'")"
check_eq "… nobody invited" "$BEFORE" "$(snapshot)"

# ---- 5. another person's commit address: GitHub would credit them with this member's changes
check_eq "the victim's address from GitHub was recorded at sign-in" "victim-$S@example.org" "$(q "SELECT email FROM users WHERE login = '$W'")"
WGID=$(ghid $W)
for addr in "$WGID+$W@users.noreply.github.com" "$WGID+$D@users.noreply.github.com" "$W@users.noreply.github.com" \
	"$WGID+$W@USERS.NOREPLY.GITHUB.COM" "victim-$S@example.org" "VICTIM-$S@Example.org"; do
	check_eq "PATCH /api/v1/me commit_email=$addr → 422 at the field" "422 commit_email" \
		"$(jas $D PATCH /me "{\"commit_email\":\"$addr\"}") $(jq -r '.error.field // empty' "$T/body")"
done
check_eq "… the panel form with the victim's no-reply address → 422" 422 "$(post $D /account/commit-email --data-urlencode "commit_email=$WGID+$W@users.noreply.github.com")"
check_eq "… nothing saved" "" "$(q "SELECT coalesce(commit_email, '') FROM users WHERE login = '$D'")"
check_eq "the developer's own no-reply address → 200" 200 "$(jas $D PATCH /me "{\"commit_email\":\"$DGID+$D@users.noreply.github.com\"}")"
check_eq "… and the form without the id → 200" 200 "$(jas $D PATCH /me "{\"commit_email\":\"$D@users.noreply.github.com\"}")"
check_eq "the victim's own address, by the victim → 200" 200 "$(jas $W PATCH /me "{\"commit_email\":\"victim-$S@example.org\"}")"
jas $D PATCH /me '{"commit_email":""}' >/dev/null

# ---- 6. bad input on the new fields: a 4xx, nothing changed, the service still answering
for body in '[]' '"x"' '1' 'null' '{"commit_email":["a@b.org"]}' '{"commit_email":{"a":1}}' '{"commit_email":true}' \
	'{"commit_email":"a@b.org","admin":true}' '{"commit_email":"a\u0000b@c.org"}' '{"commit_email":"a\nb@c.org"}' \
	'{"commit_email":"<a>@c.org"}' '{"commit_email":"a@c.org>\nCo-authored-by: x <y@z.org"}' '{"commit_email":' \
	"{\"commit_email\":\"$(head -c 5000 /dev/zero | tr '\0' a)@c.org\"}"; do
	st=$(jas $D PATCH /me "$body")
	check "PATCH /api/v1/me $(printf '%.40s' "$body") → 4xx ($st)" test "$st" -ge 400 -a "$st" -lt 500
done
printf '{"commit_email":"\xff\xfe@c.org"}' > "$T/bad"
check_match "… invalid UTF-8 → 4xx" '^4' "$(as $D PATCH /me -H 'Content-Type: application/json' --data-binary "@$T/bad")"
head -c 3000000 /dev/zero | tr '\0' '[' > "$T/deep"
check_match "… 3 MB of '[' → 4xx" '^4' "$(as $D PATCH /me -H 'Content-Type: application/json' --data-binary "@$T/deep")"
head -c 20000 /dev/zero | tr '\0' '[' > "$T/deep"
check_match "… 20,000 nested arrays → 4xx" '^4' "$(as $D PATCH /me -H 'Content-Type: application/json' --data-binary "@$T/deep")"
check_eq "… nothing saved" "" "$(q "SELECT coalesce(commit_email, '') FROM users WHERE login = '$D'")"
for body in '{"login":123}' '{"login":["x"]}' '{"login":"a\nb"}' '{"login":"a<b>"}' '{"login":"ok-name","role":7}' \
	'{"login":"ok-name","role":"root"}' '{"login":"ok-name","role":"owner\n"}' '{"login":"a\u0000b"}' '[]' '{"login":' \
	'{"login":"ok-name","role":"viewer","permission":"admin"}' '{"login":"ok-name","role":true}'; do
	st=$(jas $O POST "/projects/$PA/members" "$body")
	check "members POST $(printf '%.40s' "$body") → 4xx ($st)" test "$st" -ge 400 -a "$st" -lt 500
done
for body in '{"role":null}' '{"role":4}' '{"role":["owner"]}' '{"role":"Owner"}' '{}' '[]' '{"role":"viewer","login":"x"}'; do
	st=$(jas $O PATCH "/projects/$PA/members/$D" "$body")
	check "members PATCH $body → 4xx ($st)" test "$st" -ge 400 -a "$st" -lt 500
done
check_match "members PATCH of a 5,000-character key → 4xx" '^4' "$(jas $O PATCH "/projects/$PA/members/$(head -c 5000 /dev/zero | tr '\0' a)" '{"role":"viewer"}')"
check_eq "transfer to a member given as a number → 422" 422 "$(jas $O POST "/projects/$PA/transfer" "{\"member\":$DGID}")"
check_eq "members PATCH of key '%00' → 4xx" 4 "$(jas $O PATCH "/projects/$PA/members/%00" '{"role":"viewer"}' | cut -c1)"
check_eq "… nothing changed" "$BEFORE" "$(snapshot)"
check "… ghbridge still answers" alive

# ---- 7. a member removed keeps nothing: their session and key answer 404 from the next request on
check_eq "the developer reads A" 200 "$(as $D GET "/projects/$PA")"
check_eq "the owner removes the developer → 204" 204 "$(as $O DELETE "/projects/$PA/members/$D")"
check_eq "… their key: 404 on reading" 404 "$(as $D GET "/projects/$PA")"
printf 'x' > "$T/put"
check_eq "… 404 on writing a file" 404 "$(as $D PUT "/projects/$PA/files/after.txt" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream')"
check_eq "… their browser session: 404 on the Members tab" 404 "$(page $D "/projects/$PA/members")"
check_eq "… 404 on the panel's save form" 404 "$(post $D "/projects/$PA/files" --data-urlencode path=after.txt --data-urlencode content=x)"
check_eq "… no file written" 404 "$(as $O GET "/projects/$PA/files/after.txt")"

# ---- 8. a GitHub login renamed after ghbridge looked it up, and taken by someone else at once (GitHub frees
# it, docs "Changing your GitHub username"): the collaborator invitation names a login, so it would reach the
# newcomer. Project B is not connected yet: its invitation waits for the connection. Nothing is sent; the
# member shows why; once the person signs in here (their new login taken up) Retry invites them.
check_eq "B: owner invites $R (not signed in here) → 202" 202 "$(jas $B POST "/projects/$PB/members" "{\"login\":\"$R\",\"role\":\"developer\"}")"
RGID=$(curl -s "$FAKEHUB_API_URL/users/$R" | jq -r .id)
check "… GitHub's id for them is known" wait_for 30 eval "[ \"\$(as $B GET /projects/$PB/members >/dev/null; jq -r '.members[] | select(.login == \"$R\") | .github_user_id' \"$T/body\")\" = $RGID ]"
check_eq "$R renames to ${R}x on GitHub" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH "$FH/users/$R" -H 'Content-Type: application/json' -d "{\"login\":\"${R}x\"}")"
check_eq "… a newcomer takes the login $R" 201 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$R\"}")"
NGID=$(curl -s "$FAKEHUB_API_URL/users/$R" | jq -r .id)
check "… with another GitHub id" test "$NGID" != "$RGID"
tok() { curl -s -X POST "$FH/users/$1/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token; }
invites_of() { curl -s -H "Authorization: Bearer $(tok "$1")" "$FAKEHUB_API_URL/user/repository_invitations" | jq length; }
bmember() { as $B GET "/projects/$PB/members" >/dev/null; jq -r ".members[] | select(.login == \"$1\") | $2" "$T/body"; }
# The lookup confirmed the login moments ago, and a confirmation spares the check for 10 minutes (sql/027,
# members.c LOGIN_CONFIRMED_SECONDS): here it is older, as for a member looked up long before the sync.
check_eq "… the lookup's confirmation of $R's login was recorded" t "$(q "SELECT login_confirmed_at > now() - interval '10 minutes' FROM project_members WHERE project_id = $PB AND github_user_id = $RGID")"
q "UPDATE project_members SET login_confirmed_at = now() - interval '11 minutes' WHERE project_id = $PB AND github_user_id = $RGID" >/dev/null
check_eq "B: connect (create a repository) → 202" 202 "$(jas $B POST "/projects/$PB/repository" "{\"mode\":\"create\",\"name\":\"attb-$S\"}")"
check_eq "… connected" done "$(wait_connect "$(key $B)" "$PB" 60)"
as $B POST "/projects/$PB/members/sync" >/dev/null
check "… the member's GitHub job is over" wait_for 30 eval "s=\$(bmember $R .github.state); [ \"\$s\" != queued ] && [ \"\$s\" != none ] && [ -n \"\$s\" ]"
check_eq "… the newcomer has no invitation" 0 "$(invites_of $R)"
check_eq "… nor access" 404 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(tok $B)" "$FAKEHUB_API_URL/repos/$B/attb-$S/collaborators/$R")"
check_eq "… the member shows the failure" true "$(bmember $R .github.failed)"
check_match "… and why" "renamed" "$(bmember $R .github.error)"
signin "$T/jar-$R" "${R}x" >/dev/null
check_eq "the renamed person signs in here: the member takes their new login" active "$(bmember "${R}x" .state)"
check_eq "Retry → 202" 202 "$(as $B POST "/projects/$PB/members/${R}x/retry")"
check "… GitHub invites them under their new login" wait_for 30 eval "[ \"\$(bmember ${R}x .github.state)\" = invited ]"
check_eq "… the invitation is theirs" "$RGID" "$(curl -s -H "Authorization: Bearer $(tok ${R}x)" "$FAKEHUB_API_URL/user/repository_invitations" | jq -r '.[0].invitee.id')"
check_eq "… still none for the newcomer" 0 "$(invites_of $R)"

# ---- 9. a freed login signed in with by its new holder, and a person renamed onto a login a member row still
# shows for someone else: both sign in (before sql/025 users_login_lower and project_members' unique login
# refused them: locked out of ghbridge until the stale holder signed in again)
Q=hq$S; C=hc$S; DD=hdd$S
for u in $Q $C $DD; do curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$u\"}"; done
signin "$T/jar-$Q" "$Q" >/dev/null
QGID=$(curl -s "$FAKEHUB_API_URL/users/$Q" | jq -r .id)
check_eq "$Q signed in here" "$QGID" "$(ghid $Q)"
curl -s -o /dev/null -X PATCH "$FH/users/$Q" -H 'Content-Type: application/json' -d "{\"login\":\"${Q}x\"}"
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$Q\"}"
signin "$T/jar-new" "$Q" >/dev/null
check_eq "a newcomer with the login $Q freed by a rename signs in" 200 "$(page new /account)"
check_eq "… as themselves" "$(curl -s "$FAKEHUB_API_URL/users/$Q" | jq -r .id)" "$(ghid $Q)"
check_eq "… the stale holder's row steps aside" "~$QGID" "$(q "SELECT login FROM users WHERE github_id = $QGID")"
check_eq "… and keeps its session" 200 "$(page $Q /account)"
signin "$T/jar-$Q" "${Q}x" >/dev/null
check_eq "the renamed person signs in: their new login" "${Q}x" "$(q "SELECT login FROM users WHERE github_id = $QGID")"
signin "$T/jar-$C" "$C" >/dev/null
jas $O POST "/projects/$PA/members" "{\"login\":\"$C\",\"role\":\"developer\"}" >/dev/null
jas $O POST "/projects/$PA/members" "{\"login\":\"$DD\",\"role\":\"viewer\"}" >/dev/null
DDGID=$(curl -s "$FAKEHUB_API_URL/users/$DD" | jq -r .id)
check "A: $C active, $DD bound to its GitHub id" wait_for 30 eval "[ \"\$(member $PA $C .state) \$(member $PA $DD .github_user_id)\" = \"active $DDGID\" ]"
curl -s -o /dev/null -X PATCH "$FH/users/$DD" -H 'Content-Type: application/json' -d "{\"login\":\"${DD}x\"}"
curl -s -o /dev/null -X PATCH "$FH/users/$C" -H 'Content-Type: application/json' -d "{\"login\":\"$DD\"}"
signin "$T/jar-$C" "$DD" >/dev/null
check_eq "$C renamed onto $DD (still shown for another GitHub id in A) signs in" 200 "$(page $C /account)"
check_eq "… A shows them as $DD" "$(ghid $DD)" "$(member $PA $DD .github_user_id)"
check_eq "… and the other person's row as ~ and their GitHub id" viewer "$(member $PA "~$DDGID" .role)"

# ---- 11. a member removed after their login was renamed and taken: the collaborator DELETE names a login, so
# it would remove the newcomer, whom the owner had added on GitHub by themselves. Nothing is removed there;
# the audit log tells the owner.
M2=hmm$S
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$M2\"}"
check_eq "A: owner invites $M2 → 202" 202 "$(jas $O POST "/projects/$PA/members" "{\"login\":\"$M2\",\"role\":\"developer\"}")"
check "… GitHub invites them" wait_for 30 eval "[ \"\$(member $PA $M2 .github.state)\" = invited ]"
M2INV=$(member $PA $M2 .github.invitation_id)
check_eq "… they accept on GitHub" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $(tok $M2)" "$FAKEHUB_API_URL/user/repository_invitations/$M2INV")"
curl -s -o /dev/null -X PATCH "$FH/users/$M2" -H 'Content-Type: application/json' -d "{\"login\":\"${M2}x\"}"
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$M2\"}"
OTOK=$(tok $O)
NINV=$(curl -s -X PUT -H "Authorization: Bearer $OTOK" -H 'Content-Type: application/json' -d '{"permission":"push"}' "$FAKEHUB_API_URL/repos/$O/att-$S/collaborators/$M2" | jq -r .id)
check_eq "the owner adds the newcomer $M2 on GitHub themselves; they accept" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $(tok $M2)" "$FAKEHUB_API_URL/user/repository_invitations/$NINV")"
check_eq "A: the owner removes member $M2 (renamed on GitHub) → 204" 204 "$(as $O DELETE "/projects/$PA/members/$M2")"
check "… the removal job is over" wait_for 30 eval "[ \"\$(q \"SELECT count(*) FROM audit_events WHERE project_id = $PA AND target_id = '$M2' AND action IN ('member.github_removed', 'member.github_remove_skipped')\")\" -ge 1 ]"
check_eq "… the newcomer keeps the access the owner gave them" 204 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OTOK" "$FAKEHUB_API_URL/repos/$O/att-$S/collaborators/$M2")"
check_eq "… the audit log says nothing was removed, and why" "failure" "$(q "SELECT outcome FROM audit_events WHERE project_id = $PA AND target_id = '$M2' AND action = 'member.github_remove_skipped'")"

# ---- 12. an address chosen before anyone here had it, then someone signs in with it: the next commit no longer
# uses it (GitHub would credit them), the member's no-reply address does
E=hed$S; L=hlate$S
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$E\"}"
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$L\",\"email\":\"late-$S@example.org\"}"
signin "$T/jar-$E" "$E" >/dev/null
K_E=$("$BUILD/ghbridge" apikey create --user $E --name attack --scopes $ALL 2>&1 | tail -1)
eval "K_$E=\$K_E"
jas $O POST "/projects/$PA/members" "{\"login\":\"$E\",\"role\":\"developer\"}" >/dev/null
check "A: $E is an active developer" wait_for 30 eval "[ \"\$(member $PA $E .state)\" = active ]"
check_eq "$E chooses late-$S@example.org (nobody's here yet) → 200" 200 "$(jas $E PATCH /me "{\"commit_email\":\"late-$S@example.org\"}")"
signin "$T/jar-$L" "$L" >/dev/null
check_eq "$L signs in with that address" "late-$S@example.org" "$(q "SELECT email FROM users WHERE login = '$L'")"
check_eq "… $E's account no longer shows it as theirs" "$(ghid $E)+$E@users.noreply.github.com" "$(as $E GET /me >/dev/null; jq -r '.commit_email // .commit.email // empty' "$T/body")"
jas $O PATCH "/projects/$PA/settings" '{"auto_sync":false}' >/dev/null
printf 'by E' > "$T/put"
check_eq "$E writes a file" 201 "$(as $E PUT "/projects/$PA/files/late.txt" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream')"
idle() { as $O GET "/projects/$PA/status" >/dev/null; local s; s=$(jq -r .status "$T/body"); [ "$s" != PENDING ] && [ "$s" != SYNCING ]; }
wait_for 60 idle
as $O POST "/projects/$PA/sync" >/dev/null
J=$(jq -r .job_id "$T/body")
check "… the sync is over" wait_for 90 eval "as $O GET '/projects/$PA/history?limit=20' >/dev/null; jq -e '.history[] | select(.job_id == $J and .status != \"running\")' '$T/body' >/dev/null"
SHA=$(jq -r ".history[] | select(.job_id == $J) | .commit_sha // empty" "$T/body" | head -1)
check_eq "… the commit's author is $E with their no-reply address" "$E <$(ghid $E)+$E@users.noreply.github.com>" \
	"$(curl -s -H "Authorization: Bearer $(tok $O)" "$FAKEHUB_API_URL/repos/$O/att-$S/commits/$SHA" | jq -r '"\(.commit.author.name) <\(.commit.author.email)>"')"
check_eq "… GitHub does not credit $L" "$E" "$(curl -s -H "Authorization: Bearer $(tok $O)" "$FAKEHUB_API_URL/repos/$O/att-$S/commits/$SHA" | jq -r '.author.login // empty')"

# ---- 13. a login that is all digits, equal to another member's GitHub id: the panel's forms name members by
# login, so an action on that member must not land on the one whose GitHub id it is
EGID=$(ghid $E)
if [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$EGID\"}")" = 201 ]; then
	check_eq "A: owner invites GitHub user $EGID (a login of digits) as a viewer → 202" 202 "$(jas $O POST "/projects/$PA/members" "{\"login\":\"$EGID\",\"role\":\"viewer\"}")"
	check "… GitHub's id for them is known" wait_for 30 eval "[ -n \"\$(member $PA $EGID .github_user_id)\" ] && [ \"\$(member $PA $EGID .github_user_id)\" != null ]"
	check_eq "the panel's role form for member $EGID → 303" 303 "$(post $O "/projects/$PA/members/role" --data-urlencode "member=$EGID" --data-urlencode role=maintainer)"
	check_eq "… changed that member" maintainer "$(member $PA $EGID .role)"
	check_eq "… not $E, whose GitHub id is $EGID" developer "$(member $PA $E .role)"
	check_eq "PATCH …/members/$EGID (the API) → the member whose login it is" "200 $EGID" "$(jas $O PATCH "/projects/$PA/members/$EGID" '{"role":"viewer"}') $(jq -r .member.login "$T/body")"
	check_eq "… $E still a developer" developer "$(member $PA $E .role)"
else
	skip "a login of digits equal to a member's GitHub id" "fakehub has a user $EGID already"
fi

# ---- 14. "Remove from GitHub" for a collaborator no member accounts for, after their login was renamed and taken
# by someone the owner then added: the removal names a login; the newcomer keeps their access
S1=hst$S
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$S1\"}"
SINV=$(curl -s -X PUT -H "Authorization: Bearer $OTOK" -H 'Content-Type: application/json' -d '{"permission":"push"}' "$FAKEHUB_API_URL/repos/$O/att-$S/collaborators/$S1" | jq -r .id)
check_eq "the owner adds $S1 on GitHub by themselves; they accept" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $(tok $S1)" "$FAKEHUB_API_URL/user/repository_invitations/$SINV")"
check_eq "A: compare with GitHub → 202" 202 "$(as $O POST "/projects/$PA/members/drift")"
check "… $S1 is listed as no member" wait_for 30 eval "as $O GET /projects/$PA/members >/dev/null; jq -e '.drift[] | select(.login == \"$S1\")' '$T/body' >/dev/null"
curl -s -o /dev/null -X PATCH "$FH/users/$S1" -H 'Content-Type: application/json' -d "{\"login\":\"${S1}x\"}"
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$S1\"}"
NINV=$(curl -s -X PUT -H "Authorization: Bearer $OTOK" -H 'Content-Type: application/json' -d '{"permission":"push"}' "$FAKEHUB_API_URL/repos/$O/att-$S/collaborators/$S1" | jq -r .id)
check_eq "$S1 renames; a newcomer takes the login; the owner adds them on GitHub; they accept" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $(tok $S1)" "$FAKEHUB_API_URL/user/repository_invitations/$NINV")"
check_match "\"Remove from GitHub\" for $S1 (from the last comparison) → 2xx" '^2' "$(as $O POST "/projects/$PA/drift/$S1/remove")"
gone() { [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OTOK" "$FAKEHUB_API_URL/repos/$O/att-$S/collaborators/$S1")" = 404 ]; }
check "… the removal job is over" wait_for 30 eval "gone || [ \"\$(q \"SELECT count(*) FROM audit_events WHERE project_id = $PA AND target_id = '$S1' AND action = 'member.github_remove_skipped'\")\" -ge 1 ]"
check "… the newcomer keeps the access the owner gave them" eval '! gone'

# ---- 10. a sign-in whose users row cannot be written (any database refusal: here a test trigger) ends on an
# error page, and the process does not free what it never had (ASan reported a bad free in auth_login_finish;
# the sanitizer check at the end of the run fails on it)
BOOM=hboom$S
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$BOOM\"}"
q "CREATE FUNCTION test_refuse_$S() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN IF NEW.login = '$BOOM' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END \$\$;
   CREATE TRIGGER test_refuse_$S BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION test_refuse_$S();"
signin "$T/jar-boom" "$BOOM" >/dev/null
q "DROP TRIGGER test_refuse_$S ON users; DROP FUNCTION test_refuse_$S();"
check_eq "a sign-in the database refuses: not signed in" 302 "$(page boom /account)"
check "… ghbridge still answers" alive

check "ghbridge still answers at the end" alive
finish
