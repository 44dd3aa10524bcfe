#!/usr/bin/env bash
# tests/integration/test-feedback.sh (issue 13, part H), through nginx: destructive panel actions ask first and
# change nothing until confirmed (a confirm page without JavaScript: file delete, branch delete, merge with its
# method and target branch, API key revoke, repository disconnect, GitHub disconnect, ending a session, signing
# out everywhere); a draft is not merged (API 409 draft, the page offers Ready for review); a repository another
# project is connected to is refused (by name on the request, by GitHub's id in the job; the other project named
# only to its owner) and no file travels between the projects; project names are trimmed, need a visible
# character and count characters; a sync asked right after a connect is accepted (202 after_connect); flashes
# say what happened; error pages keep the signed-in header and offer the project and the form back.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "feedback tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "feedback tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
FH=$FAKEHUB_URL/_fakehub
trap 'rm -rf "$T"; curl -s -o /dev/null -X DELETE "$FH/faults"' EXIT
API=$GHB_URL/api/v1
U=fb$$    # fakehub users of this test's own
V=fbv$$
for u in $U $V; do
	curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$u\",\"name\":\"Feedback $u\"}"
done
signin "$T/jar" $U >/dev/null
signin "$T/jar-v" $V >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user $U --name feedback --scopes projects:read,projects:write,sync,pulls 2>&1 | tail -1)
KEYV=$("$BUILD/ghbridge" apikey create --user $V --name feedback --scopes projects:read,projects:write,sync,pulls 2>&1 | tail -1)

call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
callv() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEYV" "$@" "$API$p"; }
jcall() { call "$1" "$2" -H 'Content-Type: application/json' -d "$3"; }
put_text() { printf '%s' "$3" > "$T/put"; call PUT "/projects/$1/files/$2" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
nfiles() { call GET "/projects/$1/files" >/dev/null; jq '.files | length' "$T/body"; }
status_of() { call GET "/projects/$1/status" >/dev/null; jq -r "$2" "$T/body"; }
idle() { local s; s=$(status_of "$1" .status); [ "$s" = SUCCESS ] || [ "$s" = ERROR ] || [ "$s" = CONFLICT ]; }
connected() { [ "$(status_of "$1" '.connection.state // "none"')" = done ] && idle "$1"; }
fault() { curl -s -o /dev/null -X POST "$FH/faults" -H 'Content-Type: application/json' -d "$1"; }
# page PATH [JAR] / post PATH ARGS…: the panel as U; post prints "status redirect" and keeps the page in $T/page.
page() { curl -s -b "${2:-$T/jar}" "$GHB_URL$1"; }
post() { local p=$1; shift; curl -s -o "$T/page" -w '%{http_code} %{redirect_url}' -b "$T/jar" -X POST "$GHB_URL$p" "$@"; }
flat() { tr -d '\n' < "$T/page"; }
CSRF=$(csrf_of "$T/jar" /projects)
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
gh() { local m=$1 p=$2; shift 2; curl -s -o "$T/gh" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $TOKEN" "$@" "$FAKEHUB_API_URL$p"; }
# on_github REPO PATH: 200 when the repository's default branch has the file, else 404 (a fresh shallow clone).
on_github() {
	rm -rf "$T/clone"
	git clone -q --depth 1 "${FAKEHUB_URL/http:\/\//http:\/\/x-access-token:$TOKEN@}/$U/$1.git" "$T/clone" 2>/dev/null &&
		[ -f "$T/clone/$2" ] && echo 200 || echo 404
}

# ---------------------------------------------------------------- 7. project names
check_eq "a name of three spaces → 400" 400 "$(jcall POST /projects '{"name":"   "}')"
check_match "… saying a visible character is needed" "visible character" "$(jq -r .error.message "$T/body")"
check_eq "only no-break and zero-width spaces → 400" 400 "$(jcall POST /projects '{"name":"\u00a0\u200b\u3000"}')"
check_eq "a name with spaces around it → 201" 201 "$(jcall POST /projects '{"name":" \u00a0 Trimmed name\u3000 "}')"
check_eq "… stored trimmed" "Trimmed name" "$(jq -r .name "$T/body")"
TP=$(jq -r .id "$T/body")
E100=$(printf 'é%.0s' $(seq 1 100))
check_eq "100 characters (200 bytes of é) → 201" 201 "$(jcall POST /projects "{\"name\":\"$E100\"}")"
A101=$(printf 'a%.0s' $(seq 1 101))
check_eq "101 characters → 400" 400 "$(jcall POST /projects "{\"name\":\"$A101\"}")"
check_match "… counted in characters" "101 characters long; it may have at most 100" "$(jq -r .error.message "$T/body")"
check_eq "renaming to spaces → 400" 400 "$(jcall PATCH "/projects/$TP" '{"name":"  "}')"
check_eq "… the name is unchanged" "Trimmed name" "$(call GET "/projects/$TP" >/dev/null; jq -r .name "$T/body")"
s=$(post /projects --data-urlencode "csrf=$CSRF" --data-urlencode 'name=   ')
check_eq "panel: create a project named '   ' → 422, the list again" "422 " "$s"
check_match "… the error at the name field (aria-invalid, aria-describedby)" \
	'id="name" name="name"[^>]*value="   " aria-invalid="true" aria-describedby="name-error">.*<p class="field-error" id="name-error">Give the project a name with at least one' "$(flat)"
s=$(post "/projects/$TP/rename" --data-urlencode "csrf=$CSRF" --data-urlencode "name=$A101")
check_eq "panel: rename to 101 characters → 422" "422 " "$s"
check_match "… the error at the rename field, the typed name kept" \
	"id=\"rename\" name=\"name\" value=\"$A101\"[^>]*aria-invalid=\"true\" aria-describedby=\"rename-error\">.*id=\"rename-error\">The project name is 101 characters long" "$(flat)"

# ---------------------------------------------------------------- 10. a sync asked right after a connect
check_eq "project one → 201" 201 "$(jcall POST /projects '{"name":"Feedback one"}')"
P1=$(jq -r .id "$T/body")
put_text "$P1" index.html '<h1>one</h1>' >/dev/null
put_text "$P1" docs/a.md 'a' >/dev/null
REPO=fb-$(date +%s)-$RANDOM
fault "{\"method\":\"GET\",\"path\":\"/api/v3/repos/$U/$REPO\",\"kind\":\"hang\",\"seconds\":2,\"count\":1}"
check_eq "connect (GitHub slow to answer) → 202" 202 "$(jcall POST "/projects/$P1/repository" "{\"mode\":\"create\",\"name\":\"$REPO\"}")"
check_eq "Sync right after → 202 (not 409 'connect first')" 202 "$(call POST "/projects/$P1/sync")"
check_eq "… saying it follows the connect" "true" "$(jq -r .after_connect "$T/body")"
check_match "… in words" "A connect to $U/$REPO is under way" "$(jq -r .message "$T/body")"
check "the connect and its sync finish" wait_for 60 connected "$P1"
check_eq "… the files are on GitHub" 200 "$(on_github "$REPO" docs/a.md)"
check_eq "a sync with nothing pending → 202 as before" 202 "$(call POST "/projects/$P1/sync")"
wait_for 30 idle "$P1"

# ---------------------------------------------------------------- 6. one repository, one project
check_eq "project two → 201" 201 "$(jcall POST /projects '{"name":"Feedback two"}')"
P2=$(jq -r .id "$T/body")
put_text "$P2" only-two.txt 'two' >/dev/null
s=$(post "/projects/$P2/connect" --data-urlencode "csrf=$CSRF" --data-urlencode mode=create --data-urlencode "owner=$U" --data-urlencode 'name=not a name!')
check_eq "panel: create a repository with a bad name → 422, the form again" "422 " "$s"
check_match "… the error at the name field, what was typed kept" \
	'id="c-name" name="name" required maxlength="100" value="not a name!" aria-invalid="true" aria-describedby="c-name-error">.*id="c-name-error">A repository name is' "$(flat)"
check_eq "linking project one's repository to project two → 409 repository_in_use" 409 \
	"$(jcall POST "/projects/$P2/repository" "{\"mode\":\"link\",\"owner\":\"$U\",\"name\":\"$REPO\"}")"
check_eq "… code" repository_in_use "$(jq -r .error.code "$T/body")"
check_match "… naming the other project" "Your project “Feedback one” is connected to $U/$REPO already" "$(jq -r .error.message "$T/body")"
check_eq "… project two is not connected" "none" "$(status_of "$P2" '.repository.full_name // "none"')"
s=$(post "/projects/$P2/connect" --data-urlencode "csrf=$CSRF" --data-urlencode mode=link --data-urlencode "owner=$U" --data-urlencode "name=$REPO")
check_eq "panel: Link it → 409, the page again" "409 " "$s"
check_match "… with the other project's name" "Your project “Feedback one” is connected to" "$(flat)"
list_marks() {
	page "/projects/$P2/connect?q=$REPO" | tr -d '\n' |
		grep -Eq "<p><strong>$U/$REPO</strong>( <span class=\"muted\">\(private\)</span>)? <span class=\"in-use\">connected to your project <a href=\"/projects/$P1\">“Feedback one”</a>"
}
curl -s -o /dev/null -b "$T/jar" -X POST "$GHB_URL/projects/$P2/repos/refresh" --data-urlencode "csrf=$CSRF"
check "the Link list marks it as project one's, without a Link button" wait_for 30 list_marks
# Another user's project: refused too, without the owner's project name.
s=$(callv POST "/projects" -H 'Content-Type: application/json' -d '{"name":"Someone else"}')
PV=$(jq -r .id "$T/body")
check_eq "another user linking it → 409" 409 \
	"$(callv POST "/projects/$PV/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"link\",\"owner\":\"$U\",\"name\":\"$REPO\"}")"
check "… without naming the owner's project" sh -c "jq -r .error.message '$T/body' | grep -q 'Another project on this ghbridge' && ! grep -q 'Feedback one' '$T/body'"
# ---------------------------------------------------------------- 5. a draft is not merged
jcall PATCH "/projects/$P1/settings" '{"auto_sync":false}' >/dev/null
check_eq "a branch" 201 "$(jcall POST "/projects/$P1/branches" '{"name":"fb/draft"}')"
curl -s -o /dev/null -X POST "$FH/repos/$U/$REPO/commits" -H 'Content-Type: application/json' \
	-d "{\"as\":\"$U\",\"branch\":\"fb/draft\",\"path\":\"d.txt\",\"content\":\"d\\n\",\"message\":\"d\"}"
check_eq "a draft pull request → 201" 201 "$(jcall POST "/projects/$P1/pulls" '{"title":"Draft one","head":"fb/draft","draft":true}')"
ND=$(jq -r .number "$T/body")
check_eq "API merge of the draft → 409 draft" "409 draft" "$(s=$(jcall POST "/projects/$P1/pulls/$ND/merge" '{"method":"merge"}'); echo "$s $(jq -r .error.code "$T/body")")"
check_match "… saying what to do" "This pull request is a draft: mark it ready for review first." "$(jq -r .error.message "$T/body")"
check_eq "… still open on GitHub" open "$(gh GET "/repos/$U/$REPO/pulls/$ND" >/dev/null; jq -r .state "$T/gh")"
p=$(page "/projects/$P1/pulls/$ND" | tr -d '\n')
check_match "the draft's page offers Ready for review" "id=\"draft-note\">This pull request is a draft.*action=\"/projects/$P1/pulls/$ND/ready\".*Ready for review" "$p"
check_eq "… and no Merge form" 0 "$(printf '%s' "$p" | grep -c 'merge-form')"
s=$(post "/projects/$P1/pulls/$ND/merge" --data-urlencode "csrf=$CSRF" -d method=merge -d confirm=1)
check_eq "panel merge of the draft → 409 page" "409 " "$s"
check_match "… with the reason" "This pull request is a draft: mark it ready for review first." "$(flat)"

# ---------------------------------------------------------------- 4. confirmations without JavaScript
# merge: method and target branch
check_eq "a branch to merge" 201 "$(jcall POST "/projects/$P1/branches" '{"name":"fb/merge"}')"
curl -s -o /dev/null -X POST "$FH/repos/$U/$REPO/commits" -H 'Content-Type: application/json' \
	-d "{\"as\":\"$U\",\"branch\":\"fb/merge\",\"path\":\"m.txt\",\"content\":\"m\\n\",\"message\":\"m\"}"
check_eq "its pull request → 201" 201 "$(jcall POST "/projects/$P1/pulls" '{"title":"Merge me","head":"fb/merge"}')"
NM=$(jq -r .number "$T/body")
page "/projects/$P1/pulls/$NM" >/dev/null
s=$(post "/projects/$P1/pulls/$NM/merge" --data-urlencode "csrf=$CSRF" -d method=squash -d delete_branch=1)
check_eq "merge without confirm → 200, the confirm page" "200 " "$s"
check_match "… naming the target branch and the method" "Merge #$NM into main\?.*Pull request #$NM “Merge me” \(fb/merge\) is merged into main on GitHub with “Squash and merge”.*The branch fb/merge is deleted after merging" "$(flat)"
check_match "… whose form sends the same fields with confirm=1" 'name="method" value="squash">.*name="delete_branch" value="1">.*name="confirm" value="1">' "$(flat)"
check_eq "… nothing merged yet" open "$(gh GET "/repos/$U/$REPO/pulls/$NM" >/dev/null; jq -r .state "$T/gh")"
s=$(post "/projects/$P1/pulls/$NM/merge" --data-urlencode "csrf=$CSRF" -d method=squash -d confirm=1)
check_match "confirmed → 303 merged" "^303 .*/pulls/$NM\?done=merged$" "$s"
check_eq "… merged on GitHub" true "$(gh GET "/repos/$U/$REPO/pulls/$NM" >/dev/null; jq -r .merged "$T/gh")"

# branch delete
s=$(post "/projects/$P1/branches/delete" --data-urlencode "csrf=$CSRF" --data-urlencode name=fb/merge)
check_eq "branch delete without confirm → 200, the confirm page" "200 " "$s"
check_match "… naming the branch and the repository" "The branch fb/merge is deleted on GitHub, in $U/$REPO" "$(flat)"
check_eq "… the branch is still there" 200 "$(gh GET "/repos/$U/$REPO/branches/fb/merge")"
check_match "confirmed → 303" '^303 .*branches\?done=deleted$' "$(post "/projects/$P1/branches/delete" --data-urlencode "csrf=$CSRF" --data-urlencode name=fb/merge -d confirm=1)"
check_eq "… deleted on GitHub" 404 "$(gh GET "/repos/$U/$REPO/branches/fb/merge")"

# file delete (auto-sync on: the confirmation says GitHub loses it too)
jcall PATCH "/projects/$P1/settings" '{"auto_sync":true}' >/dev/null
s=$(post "/projects/$P1/files-delete" --data-urlencode "csrf=$CSRF" --data-urlencode path=docs/a.md)
check_eq "file delete without confirm → 200, the confirm page" "200 " "$s"
check_match "… naming the file and what auto-sync does" "The file docs/a.md is deleted from the project “Feedback one”.*Auto-sync is on: the file is deleted from $U/$REPO \(branch main\) too" "$(flat)"
check_eq "… the file is still there" 200 "$(call GET "/projects/$P1/files/docs/a.md")"
check_eq "… and still on GitHub" 200 "$(on_github "$REPO" docs/a.md)"
check_eq "a file that is not there → 404 at once" "404 " "$(post "/projects/$P1/files-delete" --data-urlencode "csrf=$CSRF" --data-urlencode path=nope.md)"
check_match "confirmed → 303" '^303 .*files\?done=deleted$' "$(post "/projects/$P1/files-delete" --data-urlencode "csrf=$CSRF" --data-urlencode path=docs/a.md -d confirm=1)"
check_eq "… gone" 404 "$(call GET "/projects/$P1/files/docs/a.md")"
check_match "… and the files page says so (not 'Saved.')" 'role="status">The file was deleted.</p>' "$(page "/projects/$P1/files?done=deleted")"
printf 'up\n' > "$T/up.txt"
s=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$T/jar" -X POST "$GHB_URL/projects/$P1/upload" -F "csrf=$CSRF" -F "files=@$T/up.txt")
check_match "an upload → 303 done=uploaded" '^303 .*done=uploaded$' "$s"
check_match "… and the files page says so (not 'Saved.')" 'role="status">The files were uploaded.</p>' "$(page "/projects/$P1/files?done=uploaded")"
wait_for 30 idle "$P1"
check_match "Sync now with nothing pending → 303 done=nothing" "^303 .*/projects/$P1\?done=nothing$" "$(post "/projects/$P1/sync" --data-urlencode "csrf=$CSRF")"
wait_for 30 idle "$P1"
p=$(page "/projects/$P1?done=nothing")
check_match "… once it ran the page says 'Nothing to sync'" 'role="status">Nothing to sync: this project and GitHub were the same already.' "$p"
check_eq "… and not 'Sync queued.'" 0 "$(printf '%s' "$p" | grep -c 'Sync queued.')"
check_eq "a finished sync's page (done=sync) no longer says 'Sync queued.'" 0 "$(page "/projects/$P1?done=sync" | grep -c 'Sync queued.')"

# Renamed on GitHub: the request (by name) cannot tell; the job (by GitHub's id) does.
wait_for 30 idle "$P1"
N1=$(nfiles "$P1")
OLDREPO=$REPO
NEWNAME=$REPO-renamed
check_eq "the repository renamed on GitHub → 200" 200 "$(gh PATCH "/repos/$U/$REPO" -d "{\"name\":\"$NEWNAME\"}")"
s=$(jcall POST "/projects/$P2/repository" "{\"mode\":\"link\",\"owner\":\"$U\",\"name\":\"$NEWNAME\"}")
if [ "$s" = 202 ]; then
	for i in $(seq 1 150); do st=$(status_of "$P2" '.connection.state'); [ "$st" = failed ] || [ "$st" = done ] && break; sleep 0.2; done
	check_eq "linking it under its new name: the job refuses by GitHub's id" "failed repository_in_use" \
		"$(status_of "$P2" '"\(.connection.state) \(.connection.error_code)"')"
else
	check_eq "linking it under its new name: refused (project one followed the rename)" "409 repository_in_use" "$s $(jq -r .error.code "$T/body")"
fi
check_eq "… project two still has its one file" 1 "$(nfiles "$P2")"
check_eq "… project one's files are as they were" "$N1" "$(nfiles "$P1")"
check_eq "… no file of project two reached GitHub" 404 "$(on_github "$NEWNAME" only-two.txt)"
RX="$U/($OLDREPO|$NEWNAME)"   # project one follows the rename when it next talks to GitHub

# repository disconnect
s=$(post "/projects/$P1/disconnect" --data-urlencode "csrf=$CSRF")
check_eq "disconnect without confirm → 200, the confirm page" "200 " "$s"
check_match "… naming the repository" "Disconnect from $RX\?.*stay on GitHub" "$(flat)"
check_match "… still connected" "^$RX\$" "$(status_of "$P1" .repository.full_name)"
check_match "confirmed → 303" "^303 .*/projects/$P1\?done=disconnected$" "$(post "/projects/$P1/disconnect" --data-urlencode "csrf=$CSRF" -d confirm=1)"
check_eq "… disconnected" none "$(status_of "$P1" '.repository.full_name // "none"')"
check_match "… and the page says so (not 'Saved.')" 'role="status">Disconnected. The repository and everything in it stay on GitHub.' "$(page "/projects/$P1?done=disconnected")"

# API key revoke
KX=$("$BUILD/ghbridge" apikey create --user $U --name "to revoke" --scopes projects:read 2>&1 | tail -1)
KID=$(psql -XAtq -c "SELECT k.id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.login = '$U' AND k.name = 'to revoke'")
s=$(post "/account/keys/$KID/revoke" --data-urlencode "csrf=$CSRF")
check_eq "key revoke without confirm → 200, the confirm page" "200 " "$s"
check_match "… naming the key" "Revoke the API key “to revoke”\?.*every request with it is refused" "$(flat)"
check_eq "… the key still works" 200 "$(http_status "$API/me" -H "Authorization: Bearer $KX")"
check_match "confirmed → 303" '^303 .*/account\?done=revoked$' "$(post "/account/keys/$KID/revoke" --data-urlencode "csrf=$CSRF" -d confirm=1)"
check_eq "… the key is refused" 401 "$(http_status "$API/me" -H "Authorization: Bearer $KX")"

# ending another session, then every session
signin "$T/jar2" $U >/dev/null
SID=$(psql -XAtq -c "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.login = '$U' AND s.ended_at IS NULL ORDER BY s.id DESC LIMIT 1")
s=$(post "/account/sessions/$SID/end" --data-urlencode "csrf=$CSRF")
check_eq "end session without confirm → 200, the confirm page" "200 " "$s"
check_match "… saying which" "End this session\?.*The session signed in at .* ends" "$(flat)"
check_eq "… the other browser is still signed in" 200 "$(http_status "$API/me" -b "$T/jar2")"
check_match "confirmed → 303" '^303 .*/account\?done=session$' "$(post "/account/sessions/$SID/end" --data-urlencode "csrf=$CSRF" -d confirm=1)"
check_eq "… that browser is signed out" 401 "$(http_status "$API/me" -b "$T/jar2")"

# GitHub disconnect (as V, whose projects do not matter here)
CSRFV=$(csrf_of "$T/jar-v" /account)
s=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar-v" -X POST "$GHB_URL/account/disconnect" --data-urlencode "csrf=$CSRFV")
check_eq "GitHub disconnect without confirm → 200, the confirm page" 200 "$s"
check_match "… saying what it does" "Disconnect GitHub\?.*deletes your GitHub tokens" "$(flat)"
check_eq "… still connected" ok "$(psql -XAtq -c "SELECT c.status FROM github_connections c JOIN users u ON u.id = c.user_id WHERE u.login = '$V'")"
check_eq "confirmed → 303" 303 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-v" -X POST "$GHB_URL/account/disconnect" --data-urlencode "csrf=$CSRFV" -d confirm=1)"
check_eq "… disconnected" disconnected "$(psql -XAtq -c "SELECT c.status FROM github_connections c JOIN users u ON u.id = c.user_id WHERE u.login = '$V'")"

# ---------------------------------------------------------------- 11. error pages
p=$(page /no-such-page)
check_match "a 404 signed in shows the signed-in header" "class=\"account\"[^>]*>.*$U" "$p"
check_eq "… not 'Sign in with GitHub'" 0 "$(printf '%s' "$p" | grep -c 'Sign in with GitHub')"
check_match "… and offers the projects" 'id="error-projects">Your projects' "$p"
check_match "a 404 under a project offers the project" "id=\"error-project\">Back to the project “Feedback one”" \
	"$(page "/projects/$P1/files/no/such/file.txt")"
check_match "… an unknown page under it too" "href=\"/projects/$P1\" id=\"error-project\"" "$(page "/projects/$P1/no-such-tab")"
head -c 1100000 /dev/zero | tr '\0' 'x' > "$T/big"
s=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar" -X POST "$GHB_URL/projects/$P1/settings" -H "Referer: $GHB_URL/projects/$P1/settings" \
	--data-urlencode "csrf=$CSRF" --data-urlencode "excludes@$T/big")
check_eq "a settings form past the body limit → 413" 413 "$s"
check_match "… saying the limit" "this server accepts at most 1048576 bytes in one form" "$(flat)"
check_match "… with a way back to the form" "href=\"/projects/$P1/settings\" id=\"error-back\">Back to the form" "$(flat)"
check_match "… signed in" "class=\"account\"" "$(flat)"

# ---------------------------------------------------------------- 9. the last: project delete and sign out everywhere
check_match "project delete → 303 /projects?done=deleted" '^303 .*/projects\?done=deleted$' \
	"$(post "/projects/$TP/delete" --data-urlencode "csrf=$CSRF" --data-urlencode 'confirm=Trimmed name')"
check_match "… which says so" 'role="status">The project was deleted.' "$(page "/projects?done=deleted")"
s=$(post /account/sessions/end-all --data-urlencode "csrf=$CSRF")
check_eq "sign out everywhere without confirm → 200, the confirm page" "200 " "$s"
check_match "… saying this browser too" "Every session of your account ends, this browser&#39;s too|this browser's too" "$(flat)"
check_eq "… still signed in" 200 "$(http_status "$API/me" -b "$T/jar")"
check_match "confirmed → 303 /" '^303 ' "$(post /account/sessions/end-all --data-urlencode "csrf=$CSRF" -d confirm=1)"
check_eq "… signed out" 401 "$(http_status "$API/me" -b "$T/jar")"
finish
