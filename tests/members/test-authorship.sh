#!/usr/bin/env bash
# tests/members/test-authorship.sh: commits made from members' edits carry the member as git author (issue 14).
# A developer's edit through the API → the sync commit on fakehub has them as author (GitHub's no-reply address)
# and ghbridge as committer; two members' edits in one sync → the one with more paths is the author and the
# other a Co-authored-by trailer; a file written into the folder directly → the project's account; a mix → the
# member with the project's account as co-author; a lost edit record (a crash between the write and the record)
# → the change still syncs, as the project's account; a custom commit address (API and panel), an invalid one
# refused at the field with nothing changed; a pull request a member opens names them in its body.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "authorship tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "authorship tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
FH=$FAKEHUB_URL/_fakehub
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1
S=a$$$RANDOM
O=aown$S; D=adev$S; E=aed$S
ALL=projects:read,projects:write,sync,pulls
for u in $O $D $E; do
	curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$u\"}"
	signin "$T/jar-$u" "$u" >/dev/null
	eval "K_$u=\$(\"\$BUILD/ghbridge\" apikey create --user $u --name authorship --scopes $ALL 2>&1 | tail -1)"
done
key() { eval "echo \$K_$1"; }
as() { local u=$1 m=$2 p=$3; shift 3; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $(key "$u")" "$@" "$API$p"; }
jas() { as "$1" "$2" "$3" -H 'Content-Type: application/json' -d "$4"; }
put_as() { printf '%s' "$3" > "$T/put"; as "$1" PUT "/projects/$PID/files/$2" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
post() { local u=$1 p=$2; shift 2; curl -s -o "$T/page" -w '%{http_code}' --max-time 30 -b "$T/jar-$u" -X POST "$GHB_URL$p" --data-urlencode "csrf=$(csrf_of "$T/jar-$u" /account)" "$@"; }
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
gh() { local m=$1 p=$2; shift 2; curl -s -X "$m" -H "Authorization: Bearer $OTOK" "$@" "$FAKEHUB_API_URL$p"; }
ghid() { q "SELECT github_id FROM users WHERE login = '$1'"; }
noreply() { echo "$(ghid "$1")+$1@users.noreply.github.com"; }
member() { as $O GET "/projects/$PID/members" >/dev/null; jq -r ".members[] | select(.login == \"$1\") | $2" "$T/body"; }
idle() { as $O GET "/projects/$PID/status" >/dev/null; local s; s=$(jq -r .status "$T/body"); [ "$s" != PENDING ] && [ "$s" != SYNCING ]; }
# sync_now: "Sync now" as the owner, waits for that job's history row; prints its status and commit (sha or "").
sync_now() {
	local j st
	wait_for 60 idle
	as $O POST "/projects/$PID/sync" >/dev/null
	j=$(jq -r .job_id "$T/body")
	wait_for 90 eval "as $O GET '/projects/$PID/history?limit=20' >/dev/null; jq -e '.history[] | select(.job_id == $j and .status != \"running\")' '$T/body' >/dev/null"
	st=$(jq -r ".history[] | select(.job_id == $j) | \"\(.status) \(.commit_sha // \"\")\"" "$T/body" | head -1)
	echo "$st"
}
# commit SHA FIELD: a jq path of fakehub's GET /repos/{o}/{r}/commits/{sha}
commit() { gh GET "/repos/$O/$REPO/commits/$1" | jq -r "$2"; }

# ---- a project of the owner's, connected, with two developer members; auto-sync off (each sync is asked for)
check_eq "owner creates a project → 201" 201 "$(jas $O POST /projects '{"name":"Authorship"}')"
PID=$(jq -r .id "$T/body")
WS=$(jq -r .workspace "$T/body")
REPO=auth-$S
check_eq "connect (create a repository) → 202" 202 "$(jas $O POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"$REPO\"}")"
check_eq "… connected" done "$(wait_connect "$(key $O)" "$PID" 60)"
OTOK=$(curl -s -X POST "$FH/users/$O/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
check "… the initial sync is over" wait_for 60 idle
jas $O PATCH "/projects/$PID/settings" '{"auto_sync":false}' >/dev/null
for u in $D $E; do jas $O POST "/projects/$PID/members" "{\"login\":\"$u\",\"role\":\"developer\"}" >/dev/null; done
check "both developers are active members" wait_for 30 eval "[ \"\$(member $D .state) \$(member $E .state)\" = 'active active' ]"

# ---- 1. one developer's edit through the API: they are the author, ghbridge the committer
check_eq "the developer writes a file through the API → 201" 201 "$(put_as $D one.txt "by the developer")"
check_eq "… who changed it is recorded" "$D one.txt" "$(q "SELECT u.login || ' ' || e.path FROM project_edits e JOIN users u ON u.id = e.user_id WHERE e.project_id = $PID")"
read -r ST SHA <<<"$(sync_now)"
check_eq "sync → success with a commit" "success yes" "$ST $([ -n "${SHA:-}" ] && echo yes)"
check_eq "… the commit's author is the developer, with GitHub's no-reply address" "$D <$(noreply $D)>" \
	"$(commit "$SHA" '"\(.commit.author.name) <\(.commit.author.email)>"')"
check_eq "… GitHub links it to the developer's account" "$D" "$(commit "$SHA" '.author.login // empty')"
check_eq "… the committer is ghbridge" "ghbridge <ghbridge@users.noreply.github.com>" \
	"$(commit "$SHA" '"\(.commit.committer.name) <\(.commit.committer.email)>"')"
check_eq "… no Co-authored-by trailer" 0 "$(commit "$SHA" .commit.message | grep -c '^Co-authored-by:')"
check_eq "… the edit rows the sync read are gone" 0 "$(q "SELECT count(*) FROM project_edits WHERE project_id = $PID")"

# ---- 2. two members, three files, one sync: the one with more paths is the author, the other a co-author
put_as $D two-a.txt "a" >/dev/null
put_as $E two-b.txt "b" >/dev/null
put_as $E two-c.txt "c" >/dev/null
read -r ST SHA <<<"$(sync_now)"
check_eq "two members' edits, one sync → success" success "$ST"
check_eq "… the author is the member with more changed paths" "$E <$(noreply $E)>" \
	"$(commit "$SHA" '"\(.commit.author.name) <\(.commit.author.email)>"')"
check_eq "… the other member is a Co-authored-by trailer" "Co-authored-by: $D <$(noreply $D)>" \
	"$(commit "$SHA" .commit.message | grep '^Co-authored-by:')"
check_eq "… after a blank line, at the message's end" "|Co-authored-by: $D <$(noreply $D)>" \
	"$(printf '%s\n' "$(commit "$SHA" .commit.message)" | tail -2 | paste -sd'|')"

# ---- 3. a file written into the folder directly (no known editor): the project's account, as before
printf 'from the host\n' > "$WS/host.txt"
read -r ST SHA <<<"$(sync_now)"
check_eq "a file written into the folder → success" success "$ST"
check_eq "… the author is the project's account" "$O <$(noreply $O)>" \
	"$(commit "$SHA" '"\(.commit.author.name) <\(.commit.author.email)>"')"
check_eq "… no trailer" 0 "$(commit "$SHA" .commit.message | grep -c '^Co-authored-by:')"

# ---- 4. a member's edit with a change from the folder in one sync: the member, the project's account co-author
put_as $D mix-a.txt "member" >/dev/null
printf 'host again\n' > "$WS/mix-b.txt"
read -r ST SHA <<<"$(sync_now)"
check_eq "a member's edit and a folder write, one sync → the member, the project's account as co-author" \
	"$D|Co-authored-by: $O <$(noreply $O)>" "$(commit "$SHA" .commit.author.name)|$(commit "$SHA" .commit.message | grep '^Co-authored-by:')"

# ---- 5. the record is advisory: lost (a crash between the write and the record) or stale, the change syncs
put_as $D lost.txt "record lost" >/dev/null
q "DELETE FROM project_edits WHERE project_id = $PID" >/dev/null
read -r ST SHA <<<"$(sync_now)"
check_eq "an edit whose record was lost still syncs, as the project's account" "success $O" "$ST $(commit "$SHA" .commit.author.name)"
check_eq "… the commit on GitHub carries the file" "lost.txt" "$(commit "$SHA" '[.files[].filename] | join(",")')"
q "INSERT INTO project_edits (project_id, user_id, path) SELECT $PID, id, 'one.txt' FROM users WHERE login = '$E'" >/dev/null
printf 'stale record\n' > "$WS/stale.txt"
read -r ST SHA <<<"$(sync_now)"
check_eq "a record for a path the commit does not change credits nobody" "success $O 0" \
	"$ST $(commit "$SHA" .commit.author.name) $(commit "$SHA" .commit.message | grep -c '^Co-authored-by:')"
check_eq "… and is cleared" 0 "$(q "SELECT count(*) FROM project_edits WHERE project_id = $PID")"

# ---- 6. a member's own commit address
MAIL="dev.$S@example.com"
check_eq "the developer sets a commit address (PATCH /api/v1/me) → 200" "200 $MAIL true" \
	"$(jas $D PATCH /me "{\"commit_email\":\"$MAIL\"}") $(jq -r '"\(.commit_email) \(.commit_email_chosen)"' "$T/body")"
put_as $D mine.txt "with my address" >/dev/null
read -r ST SHA <<<"$(sync_now)"
check_eq "… their next commit carries it" "success $D <$MAIL>" "$ST $(commit "$SHA" '"\(.commit.author.name) <\(.commit.author.email)>"')"
for bad in "not an address" "a@b" "two@@example.com" "a..b@example.com" "<x>@example.com" "x@-example.com" "$(printf 'x%.0s' {1..250})@example.com"; do
	st=$(jas $D PATCH /me "$(jq -nc --arg e "$bad" '{commit_email:$e}')")
	check_eq "invalid address '${bad:0:30}' → 422 at the field, nothing changed" "422 commit_email $MAIL" \
		"$st $(jq -r .error.field "$T/body") $(q "SELECT commit_email FROM users WHERE login = '$D'")"
done
check_eq "a number is refused at the field" "422 commit_email" "$(jas $D PATCH /me '{"commit_email":5}') $(jq -r .error.field "$T/body")"
check_eq "an unknown field is refused" "422 name" "$(jas $D PATCH /me '{"name":"x"}') $(jq -r .error.field "$T/body")"
K_ro=$("$BUILD/ghbridge" apikey create --user $D --name ro --scopes projects:read 2>&1 | tail -1)
check_eq "a read-only key may not change it (403), nothing changed" "403 $MAIL" \
	"$(as ro PATCH /me -H 'Content-Type: application/json' -d '{"commit_email":""}') $(q "SELECT commit_email FROM users WHERE login = '$D'")"
check_eq "the account page: an invalid address → 422 with the error at the field, nothing changed" "422 1 $MAIL" \
	"$(post $D /account/commit-email --data-urlencode 'commit_email=bad address') $(grep -c 'id="commit-email-error"' "$T/page") $(q "SELECT commit_email FROM users WHERE login = '$D'")"
check_eq "… what was typed is kept" 1 "$(grep -c 'value="bad address"' "$T/page")"
check_eq "the account page: empty → 303, back to the no-reply address" "303 null" \
	"$(post $D /account/commit-email --data-urlencode 'commit_email= ') $(q "SELECT coalesce(commit_email, 'null') FROM users WHERE login = '$D'")"
check_eq "… GET /api/v1/me says so" "$(noreply $D) false" "$(as $D GET /me >/dev/null; jq -r '"\(.commit_email) \(.commit_email_chosen)"' "$T/body")"
check_eq "the account page shows the field and the no-reply address" "1" \
	"$(curl -s -b "$T/jar-$D" "$GHB_URL/account" | grep -c "placeholder=\"$(noreply $D)\"")"

# ---- 7. pull requests a member opens name them in the body
put_as $E pr.txt "proposed" >/dev/null
check_eq "a member opens a pull request from pending changes → 202" 202 \
	"$(jas $E POST "/projects/$PID/pulls" "{\"title\":\"By a member\",\"body\":\"Please look.\",\"from\":\"changes\",\"head\":\"auth-pr-$S\"}")"
pr_body() { gh GET "/repos/$O/$REPO/pulls?state=all&head=$O:$1" | jq -r '.[0].body // empty'; }
check "… it reaches GitHub" wait_for 60 eval "[ -n \"\$(pr_body auth-pr-$S)\" ]"
check_eq "… its body names them after the description" "Please look.|Opened by @$E through ghbridge." \
	"$(pr_body auth-pr-$S | head -1)|$(pr_body auth-pr-$S | tail -1)"
check_eq "… its commit's author is them" "$E" "$(commit "auth-pr-$S" .commit.author.name)"
# The developer acts on GitHub with their own token: they accept the collaborator invitation first.
DTOK=$(curl -s -X POST "$FH/users/$D/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
for id in $(curl -s -H "Authorization: Bearer $DTOK" "$FAKEHUB_API_URL/user/repository_invitations" | jq -r '.[].id'); do
	curl -s -o /dev/null -X PATCH -H "Authorization: Bearer $DTOK" "$FAKEHUB_API_URL/user/repository_invitations/$id"
done
check_eq "a member creates a branch → 201" 201 "$(jas $D POST "/projects/$PID/branches" "{\"name\":\"auth-br-$S\"}")"
curl -s -o /dev/null -X POST "$FH/repos/$O/$REPO/commits" -H 'Content-Type: application/json' \
	-d "$(jq -nc --arg who "$O" --arg b "auth-br-$S" '{as:$who,path:"br.txt",content:"on the branch",branch:$b,message:"on the branch"}')"
check_eq "… and opens a pull request from it → 201" 201 \
	"$(jas $D POST "/projects/$PID/pulls" "{\"title\":\"From a branch\",\"head\":\"auth-br-$S\"}")"
check_eq "… its body names them" "Opened by @$D through ghbridge." "$(pr_body auth-br-$S)"

finish
