#!/usr/bin/env bash
# tests/security/test-symlinks.sh: a project folder is contained (issue 11, part A). Symbolic links pushed
# to GitHub, and links, a fifo and a folder-turned-link written into the folder by the host platform, are
# never followed by the files API or the panel (read, list, download, delete, write-by-rename, project
# delete): the outside files stay as they were and the master key, the OAuth client secret and another
# user's file are never served. GitHub's links survive rounds of syncs unchanged; links from outside are
# never pushed, and the sync history names them.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "symlink tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "symlink tests" "fakehub is not running"; finish; exit; fi
if [ -z "${STACK_VAR:-}" ] || [ ! -f "${GHBRIDGE_KEY_FILE:-}" ]; then skip "symlink tests" "no stack master key"; finish; exit; fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
A=syma$$
B=symb$$
ALL=$T/all-responses       # every body any request of this test got back: searched for secrets at the end
: > "$ALL"

for u in "$A" "$B"; do
	curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$u\"}"
	signin "$T/jar-$u" "$u" >/dev/null
done
KA=$("$BUILD/ghbridge" apikey create --user "$A" --name sym --scopes projects:read,projects:write,sync,pulls 2>&1 | tail -1)
KB=$("$BUILD/ghbridge" apikey create --user "$B" --name sym --scopes projects:read,projects:write 2>&1 | tail -1)
check_match "API keys for two users" '^ghb_.*' "$KA $KB"
TOKEN=$(curl -s -X POST "$FH/users/$A/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)

# call KEY METHOD PATH [curl args]: body to $T/body (and $ALL), prints the status.
call() {
	local k=$1 m=$2 p=$3 s; shift 3
	s=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 20 -X "$m" -H "Authorization: Bearer $k" "$@" "$API$p")
	cat "$T/body" >> "$ALL"; echo >> "$ALL"
	echo "$s"
}
# page METHOD PATH [curl args]: the panel as user A; body to $T/page (and $ALL), prints the status.
page() {
	local m=$1 p=$2 s; shift 2
	s=$(curl -s -o "$T/page" -w '%{http_code}' --max-time 20 -X "$m" -b "$T/jar-$A" -c "$T/jar-$A" "$@" "$GHB_URL$p")
	cat "$T/page" >> "$ALL"; echo >> "$ALL"
	echo "$s"
}
ka() { call "$KA" "$@"; }
put_text() { printf '%s' "$2" > "$T/put"; ka PUT "/projects/$PID/files/$1" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
files_json() { ka GET "/projects/$PID/files" >/dev/null; cat "$T/body"; }
# sync_now: POST /sync, waits for its history row; prints "status files_changed".
sync_now() {
	local j
	ka POST "/projects/$PID/sync" >/dev/null
	j=$(jq -r .job_id "$T/body")
	wait_for 60 bash -c "curl -s -H 'Authorization: Bearer $KA' '$API/projects/$PID/history?limit=50' |
		jq -e '[.history[] | select(.job_id == $j and .status != \"running\")] | length > 0'" || { echo timeout; return; }
	ka GET "/projects/$PID/history?limit=50" >/dev/null
	jq "[.history[] | select(.job_id == $j)][0]" "$T/body" > "$T/row"
	jq -r '"\(.status) \(.files_changed)"' "$T/row"
}
links_on_github() { rm -rf "$T/c"; git clone -q "$CLONE" "$T/c" 2>/dev/null && git -C "$T/c" ls-tree -r HEAD | grep '^120000' | sort; }

# ---------------------------------------------------------------- B: another user's project, with a file
check_eq "user B makes a project" 201 "$(call "$KB" POST /projects -H 'Content-Type: application/json' -d '{"name":"Other"}')"
BID=$(jq -r .id "$T/body")
BWS=$(jq -r .workspace "$T/body")
printf 'B-SECRET-%s' "$$" > "$T/put"
check_eq "… and a file in it" 201 "$(call "$KB" PUT "/projects/$BID/files/secret.txt" --data-binary "@$T/put")"
check "… on disk" test -f "$BWS/secret.txt"
cp "$GHBRIDGE_KEY_FILE" "$T/key.before"

# ---------------------------------------------------------------- A: a connected project
check_eq "user A makes a project" 201 "$(ka POST /projects -H 'Content-Type: application/json' -d '{"name":"Links"}')"
PID=$(jq -r .id "$T/body")
WS=$(jq -r .workspace "$T/body")
ka PATCH "/projects/$PID/settings" -H 'Content-Type: application/json' -d '{"auto_sync":false}' >/dev/null
put_text index.html '<h1>links</h1>' >/dev/null
REPO=links-$$
check_eq "connect → 202" 202 "$(ka POST "/projects/$PID/repository" -H 'Content-Type: application/json' \
	-d "{\"mode\":\"create\",\"name\":\"$REPO\",\"private\":true}")"
check_eq "connected" done "$(wait_connect "$KA" "$PID")"
CLONE=${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$A/$REPO.git
wait_for 60 bash -c "curl -s -H 'Authorization: Bearer $KA' '$API/projects/$PID/history?limit=5' | jq -e '[.history[] | select(.status == \"success\")] | length > 0'"

# ---------------------------------------------------------------- 1. links pushed to GitHub
rm -rf "$T/push"
git clone -q "$CLONE" "$T/push" 2>/dev/null
(
	cd "$T/push" &&
	ln -s ../../.. up &&                       # the data folder's parent: master.key, env
	ln -s "../$BID" other &&                   # another user's workspace
	ln -s / root &&                            # the machine's root
	ln -s ../../../master.key keylink &&       # a link to a file
	ln -s up chain1 && ln -s chain1 chain2 &&  # a link chain
	mkdir sub && echo inner > sub/inner.txt && ln -s sub dirlink && # a link to a folder of the repository
	git add -A && git -c user.name=t -c user.email=t@example.com commit -qm 'links' && git push -q origin HEAD 2>/dev/null
)
GH_LINKS=$(links_on_github)
check_eq "seven links on GitHub (mode 120000)" 7 "$(printf '%s\n' "$GH_LINKS" | grep -c .)"
# (with the repository's webhook, a pull may have brought them in before this sync: nochange then)
check_match "… a sync brings them in" '^(success|nochange)' "$(sync_now)"
check "… the folder has them" wait_for 30 test -e "$WS/dirlink"
check "… up is a regular file holding the link text, not a link" bash -c "[ -f '$WS/up' ] && [ ! -L '$WS/up' ] && [ \"\$(cat '$WS/up')\" = ../../.. ]"
check "… no link was created in the folder" bash -c "[ -z \"\$(find '$WS' -path '$WS/.git' -prune -o -type l -print)\" ]"
check_eq "… core.symlinks=false in the workspace repository" false "$(git -C "$WS" config core.symlinks)"

for p in up/master.key up/env "other/secret.txt" root/etc/passwd chain1/master.key chain2/env dirlink/inner.txt \
	up/data/workspaces/$BID/secret.txt; do
	check_eq "GitHub link: GET files/$p → 404" 404 "$(ka GET "/projects/$PID/files/$p")"
	check_eq "GitHub link: panel file page $p → 404" 404 "$(page GET "/projects/$PID/files/$p")"
done
check_eq "GET files/keylink → 200 (a link from GitHub reads as its text)" 200 "$(ka GET "/projects/$PID/files/keylink")"
check_eq "… its text, not the key" "../../../master.key" "$(cat "$T/body")"
check_eq "GET files/sub/inner.txt (the real folder) → 200" 200 "$(ka GET "/projects/$PID/files/sub/inner.txt")"
check_eq "DELETE files/up/data/workspaces/B/secret.txt → 404" 404 "$(ka DELETE "/projects/$PID/files/up/data/workspaces/$BID/secret.txt")"
check_eq "DELETE files/other/secret.txt → 404" 404 "$(ka DELETE "/projects/$PID/files/other/secret.txt")"
check_eq "DELETE files/chain2/master.key → 404" 404 "$(ka DELETE "/projects/$PID/files/chain2/master.key")"
check "… B's file is still there" test -f "$BWS/secret.txt"
check "… the master key is unchanged" cmp -s "$GHBRIDGE_KEY_FILE" "$T/key.before"
check_eq "DELETE files/up (a link from GitHub) → 409" 409 "$(ka DELETE "/projects/$PID/files/up")"
check_match "… in words" "symbolic link on GitHub" "$(jq -r '.error.message // .message // .error' "$T/body")"
check_eq "PUT files/up → 409" 409 "$(put_text up 'overwrite')"
check_eq "PUT files/keylink → 409" 409 "$(put_text keylink 'overwrite')"
check_eq "PUT files/up/new.txt → 409" 409 "$(put_text up/new.txt 'x')"
check "… nothing written outside" bash -c "[ ! -e '$STACK_VAR/new.txt' ] && [ \"\$(cat '$WS/up')\" = ../../.. ]"
FJ=$(files_json)
check_eq "files list: the seven links are kind symlink, synced" 7 "$(jq '[.files[] | select(.kind == "symlink" and .status == "synced")] | length' <<<"$FJ")"
check_eq "… with their text" "../../.." "$(jq -r '.files[] | select(.path == "up") | .target' <<<"$FJ")"
check_eq "… and nothing listed through them" 0 "$(jq '[.files[] | select(.path | test("^(up|other|root|chain1|chain2|dirlink|keylink)/"))] | length' <<<"$FJ")"
check_eq "panel files page → 200" 200 "$(page GET "/projects/$PID/files")"
check_match "… shows the link read-only" 'symbolic link on GitHub, read-only' "$(cat "$T/page")"
CSRF=$(csrf_of "$T/jar-$A" "/projects/$PID/files")
check_eq "panel delete of up/data/workspaces/B/secret.txt → 404" 404 "$(page POST "/projects/$PID/files-delete" \
	--data-urlencode "csrf=$CSRF" --data-urlencode confirm=1 --data-urlencode "path=up/data/workspaces/$BID/secret.txt")"
check_eq "panel delete of other/secret.txt → 404" 404 "$(page POST "/projects/$PID/files-delete" \
	--data-urlencode "csrf=$CSRF" --data-urlencode confirm=1 --data-urlencode "path=other/secret.txt")"
check_eq "panel delete of the link up → 409" 409 "$(page POST "/projects/$PID/files-delete" \
	--data-urlencode "csrf=$CSRF" --data-urlencode confirm=1 --data-urlencode "path=up")"
check "… B's file is still there" test -f "$BWS/secret.txt"
check_eq "panel file page of keylink → 200, read-only" 200 "$(page GET "/projects/$PID/files/keylink")"
check "… no save form" bash -c "! grep -q 'name=\"content\"' '$T/page'"

# ---------------------------------------------------------------- 2. GitHub's links survive syncs
put_text index.html '<h1>links 2</h1>' >/dev/null
echo 'edited placeholder' > "$WS/dirlink"   # the folder's copy of a link is never sent back
rm "$WS/chain2"                             # nor its deletion,
mkdir "$WS/chain2" && echo in > "$WS/chain2/x.txt" # nor a folder made in its place
check_eq "files list: a file in a folder where GitHub has a link is skipped" skipped \
	"$(files_json | jq -r '.files[] | select(.path == "chain2/x.txt") | .status')"
check_match "a sync with a change" '^success 1' "$(sync_now)"
check_match "… the history names the file in the link's place" "'chain2/x.txt' \\(inside a symbolic link" "$(jq -r '.error // ""' "$T/row")"
rm -r "$WS/chain2"
check_eq "… GitHub's links are unchanged" "$GH_LINKS" "$(links_on_github)"
check_eq "… and the change arrived" '<h1>links 2</h1>' "$(cat "$T/c/index.html")"
curl -s -o /dev/null -X POST "$FH/repos/$A/$REPO/commits" -H 'Content-Type: application/json' \
	-d "$(jq -nc --arg who "$A" '{"as":$who,path:"web.txt",content:"from the web",message:"web edit"}')"
check_match "a sync after a web commit" '^(success|nochange)' "$(sync_now)"
check "… the web commit is in the folder" wait_for 30 test -f "$WS/web.txt"
check_eq "… the edited copy of dirlink is GitHub's text again" sub "$(cat "$WS/dirlink")"
check_eq "… the deleted copy of chain2 is back" chain1 "$(cat "$WS/chain2" 2>/dev/null)"
check_match "a sync with nothing new" '^(success|nochange)' "$(sync_now)"
check_eq "… GitHub's links are still unchanged" "$GH_LINKS" "$(links_on_github)"
# GitHub changes a link whose copy here was edited: the copy never blocks GitHub's change.
echo 'edited again' > "$WS/dirlink"
(cd "$T/c" && ln -sfn ./sub dirlink && git rm -q chain1 && git add -A && git -c user.name=t -c user.email=t@example.com commit -qm 'retarget' &&
	git push -q origin HEAD 2>/dev/null)
GH_LINKS=$(links_on_github)
check_match "GitHub retargets dirlink; a sync" '^(success|nochange)' "$(sync_now)"
check "… the folder's copy holds the new text" wait_for 30 bash -c "[ \"\$(cat '$WS/dirlink')\" = ./sub ]"
check_eq "… and GitHub keeps it as pushed" "$GH_LINKS" "$(links_on_github)"
check_match "… as a link to ./sub" '^120000 .*dirlink$' "$(grep dirlink <<<"$GH_LINKS")"
check "… and the link GitHub deleted (chain1) is gone from the folder" bash -c "[ ! -e '$WS/chain1' ]"

# A workspace checked out before this fix holds GitHub's links as real links: never followed, and the
# next sync writes each back as the file holding its text.
rm "$WS/up" && ln -s ../../.. "$WS/up"
check_eq "legacy real link: GET files/up/master.key → 404" 404 "$(ka GET "/projects/$PID/files/up/master.key")"
check_eq "legacy real link: DELETE files/up/data/workspaces/B/secret.txt → 404" 404 "$(ka DELETE "/projects/$PID/files/up/data/workspaces/$BID/secret.txt")"
check "… B's file is still there" test -f "$BWS/secret.txt"
check_match "… a sync" '^(success|nochange)' "$(sync_now)"
check "… turns it into the file git writes" bash -c "[ -f '$WS/up' ] && [ ! -L '$WS/up' ] && [ \"\$(cat '$WS/up')\" = ../../.. ]"
check_eq "… GitHub's links are unchanged" "$GH_LINKS" "$(links_on_github)"

# ---------------------------------------------------------------- 3. links and a fifo from the host platform
mkdir -p "$WS/folder" && echo kept > "$WS/folder/kept.txt"
check_match "a tracked folder" '^success' "$(sync_now)"
ln -s "$STACK_VAR" "$WS/hostup"             # a folder outside, holding master.key and env
ln -s "$GHBRIDGE_KEY_FILE" "$WS/hostkey"    # a file outside
ln -s "$BWS" "$WS/hostother"                # another user's workspace
ln -s / "$WS/hostroot"                      # the root
ln -s hostup "$WS/hc1" && ln -s hc1 "$WS/hc2" # a chain
rm -r "$WS/folder" && ln -s "$BWS" "$WS/folder" # a tracked folder replaced by a link
mkfifo "$WS/pipe"
for p in hostup/master.key hostup/env hostkey hostother/secret.txt hostroot/etc/passwd hc2/master.key \
	folder/secret.txt pipe; do
	check_eq "host link: GET files/$p → 404" 404 "$(ka GET "/projects/$PID/files/$p")"
	check_eq "host link: panel file page $p → 404" 404 "$(page GET "/projects/$PID/files/$p")"
done
for p in hostup/master.key hostkey hostother/secret.txt hc1/master.key folder/secret.txt; do
	check_eq "host link: DELETE files/$p → 404" 404 "$(ka DELETE "/projects/$PID/files/$p")"
done
check_eq "host link: panel delete of hostother/secret.txt → 404" 404 "$(page POST "/projects/$PID/files-delete" \
	--data-urlencode "csrf=$CSRF" --data-urlencode confirm=1 --data-urlencode "path=hostother/secret.txt")"
check "… B's file, the master key and the links are all still there" bash -c "[ -f '$BWS/secret.txt' ] && cmp -s '$GHBRIDGE_KEY_FILE' '$T/key.before' && [ -L '$WS/hostkey' ] && [ -L '$WS/hostup' ]"
check_eq "host link: PUT files/hostkey (rename into place over a link) → 409" 409 "$(put_text hostkey 'overwrite')"
check_eq "host link: PUT files/hostup/new.txt → 409" 409 "$(put_text hostup/new.txt 'x')"
check_eq "host link: PUT files/hostother/secret.txt → 409" 409 "$(put_text hostother/secret.txt 'x')"
check "… nothing written outside" bash -c "[ ! -e '$STACK_VAR/new.txt' ] && cmp -s '$GHBRIDGE_KEY_FILE' '$T/key.before' && [ \"\$(cat '$BWS/secret.txt')\" = 'B-SECRET-$$' ] && [ -L '$WS/hostkey' ]"
printf 'uploaded' > "$T/up.txt"
check_eq "host link: panel upload into folder hostup → 400" 400 "$(page POST "/projects/$PID/upload" -F "csrf=$CSRF" -F folder=hostup -F "files=@$T/up.txt")"
check_eq "host link: panel save of hostother/x.txt → 400" 400 "$(page POST "/projects/$PID/files" \
	--data-urlencode "csrf=$CSRF" --data-urlencode "path=hostother/x.txt" --data-urlencode "content=x")"
check "… nothing written outside" bash -c "[ ! -e '$STACK_VAR/up.txt' ] && [ ! -e '$BWS/x.txt' ]"
FJ=$(files_json)
check_eq "files list: hostup is a skipped symlink" "symlink skipped" "$(jq -r '.files[] | select(.path == "hostup") | "\(.kind) \(.status)"' <<<"$FJ")"
check_eq "… pipe is a skipped fifo" "fifo skipped" "$(jq -r '.files[] | select(.path == "pipe") | "\(.kind) \(.status)"' <<<"$FJ")"
check_eq "… nothing listed through a link" 0 "$(jq '[.files[] | select(.path | test("^(hostup|hostother|hostroot|hc1|hc2)/"))] | length' <<<"$FJ")"
check_eq "… the tracked file behind the folder link is kept, not deleted" "skipped" "$(jq -r '.files[] | select(.path == "folder/kept.txt") | .status' <<<"$FJ")"
check_eq "project status: nothing pending" 0 "$(ka GET "/projects/$PID/status" >/dev/null; jq '.pending // .pending_changes // 0' "$T/body")"
check_eq "panel files page → 200" 200 "$(page GET "/projects/$PID/files")"
check "… lists no file through a link" bash -c "! grep -q 'hostup/master.key\|hostother/secret.txt' '$T/page'"
SYNC=$(sync_now)
check_match "a sync with links and a fifo in the folder" '^(success|nochange)' "$SYNC"
NOTE=$(jq -r '.error // ""' "$T/row")
for p in hostup hostkey hostother hostroot hc1 hc2 folder pipe; do
	check_match "… the history names $p" "'$p' \\(" "$NOTE"
done
check_eq "… as skipped files with a reason" 8 "$(jq '[.files[] | select(.status == "skipped" and (.reason | length > 0))] | length' "$T/row")"
links_on_github >/dev/null
check "… none of them reached GitHub" bash -c "! git -C '$T/c' ls-tree -r --name-only HEAD | grep -qE '^(host|hc1|hc2|pipe)'"
check_eq "… the folder's file is still on GitHub" kept "$(cat "$T/c/folder/kept.txt" 2>/dev/null)"
check_eq "… and GitHub's links are unchanged" "$GH_LINKS" "$(git -C "$T/c" ls-tree -r HEAD | grep '^120000' | sort)"

# A pull request from pending changes stages by the same rule: no link, fifo or deletion behind a link.
put_text pr.txt 'for a pull request' >/dev/null
check_eq "pull request from pending changes, links in the folder → 202" 202 "$(ka POST "/projects/$PID/pulls" \
	-H 'Content-Type: application/json' -d '{"title":"With links around","from":"changes","head":"feature/links"}')"
check "… its branch reaches GitHub" wait_for 60 bash -c "[ -n \"\$(git ls-remote '$CLONE' refs/heads/feature/links)\" ]"
rm -rf "$T/pr" && git clone -q -b feature/links "$CLONE" "$T/pr" 2>/dev/null
check_eq "… with the pending file" 'for a pull request' "$(cat "$T/pr/pr.txt" 2>/dev/null)"
check "… and none of the host's links or the fifo" bash -c "! git -C '$T/pr' ls-tree -r --name-only HEAD | grep -qE '^(host|hc1|hc2|pipe)'"
check_eq "… the folder's file kept" kept "$(cat "$T/pr/folder/kept.txt" 2>/dev/null)"
check_eq "… GitHub's links unchanged" "$GH_LINKS" "$(git -C "$T/pr" ls-tree -r HEAD | grep '^120000' | sort)"

# git reads .gitignore and .gitattributes by path, through links and into fifos: such a file that is not a
# regular file stops the files list and syncs (a clear 409 and a history error), never a hang or a read outside.
mkfifo "$WS/sub/.gitignore"
check_eq "a fifo named .gitignore: files list → 409 (not a hang)" 409 "$(ka GET "/projects/$PID/files")"
check_match "… naming it" "sub/.gitignore" "$(cat "$T/body")"
check_eq "… panel files page → 409" 409 "$(page GET "/projects/$PID/files")"
check_match "… a sync fails, naming it" "^error .*" "$(sync_now)"
check_match "… in the history" "sub/.gitignore" "$(jq -r '.error // ""' "$T/row")"
rm "$WS/sub/.gitignore"
ln -s "$GHBRIDGE_KEY_FILE" "$WS/.gitattributes"
check_eq "a link named .gitattributes: files list → 409" 409 "$(ka GET "/projects/$PID/files")"
rm "$WS/.gitattributes"
check_eq "… both gone: files list → 200" 200 "$(ka GET "/projects/$PID/files")"

# ---------------------------------------------------------------- 4. deleting the project removes links, not what they point at
check_eq "DELETE the project → 204" 204 "$(ka DELETE "/projects/$PID")"
check "… its folder is gone" bash -c "[ ! -e '$WS' ]"
check "… B's file, the master key, the stack's env and data are all still there" bash -c "[ -f '$BWS/secret.txt' ] && cmp -s '$GHBRIDGE_KEY_FILE' '$T/key.before' && [ -f '$STACK_VAR/env' ] && [ -d '$STACK_VAR/data/workspaces' ]"

# ---------------------------------------------------------------- the secrets were never served
fail_if_found() { if grep -aqF -- "$2" "$ALL"; then not_ok "$1" "found in a response"; else ok "$1"; fi; }
while read -r line; do [ -n "$line" ] && fail_if_found "no response held a master key line" "$line"; done < "$T/key.before"
[ -n "${GHBRIDGE_GITHUB_CLIENT_SECRET:-}" ] && fail_if_found "no response held the OAuth client secret" "$GHBRIDGE_GITHUB_CLIENT_SECRET"
fail_if_found "no response held B's file" "B-SECRET-$$"
check_match "(the responses were recorded)" '[0-9]' "$(wc -c < "$ALL")"
finish
