#!/usr/bin/env bash
# tests/sync/test-panel.sh: the projects panel with a browser's requests (curl): create, edit, upload,
# settings with inline errors, connect, Sync now, history; CSRF required on every form.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "panel tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "panel tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
J=$T/jar
signin "$J" octocat >/dev/null
CSRF=$(csrf_of "$J" /projects)
check_match "projects page has a CSRF token" '^[0-9a-f]{16,}$' "$CSRF"
post() { local p=$1; shift; curl -s -o "$T/page" -w '%{http_code} %{redirect_url}' -b "$J" -X POST "$GHB_URL$p" "$@"; }
page() { curl -s -b "$J" "$GHB_URL$1"; }

r=$(post /projects --data-urlencode "csrf=$CSRF" --data-urlencode "name=Panel site")
check_match "create project → 303 to it" '^303 .*/projects/[0-9]+$' "$r"
ID=${r##*/}
check_eq "form without CSRF → 403" 403 "$(post /projects --data-urlencode 'name=x' | cut -d' ' -f1)"
check_eq "list shows it" 1 "$(page /projects | grep -c "Panel site")"

check_match "save a file in the editor → 303" '^303 ' "$(post "/projects/$ID/files" --data-urlencode "csrf=$CSRF" \
	--data-urlencode 'path=pages/about.md' --data-urlencode $'content=# About\r\nline two')"
check_eq "editor keeps LF line ends" $'# About\nline two' "$(page "/projects/$ID/files/pages/about.md" | sed -n '/<textarea/,/<\/textarea>/p' | sed 's/.*spellcheck="false">//; s/<\/textarea>//')"
check_eq "bad path in the editor → 400 with the reason" 400 "$(post "/projects/$ID/files" --data-urlencode "csrf=$CSRF" \
	--data-urlencode 'path=../x' --data-urlencode 'content=x' | cut -d' ' -f1)"
check_match "reason shown" "may not contain" "$(cat "$T/page")"
printf 'one' > "$T/a.txt"; head -c 3000 /dev/urandom > "$T/b.bin"
check_match "upload two files → 303" '^303 ' "$(post "/projects/$ID/upload" -F "csrf=$CSRF" -F 'folder=up' -F "files=@$T/a.txt" -F "files=@$T/b.bin")"
# The files page shows one folder at a time (issue 13 item 17); a filter lists matches from every folder.
files=$(page "/projects/$ID/files?q=.")
check_match "files page lists uploads as new" 'up/a\.txt.*|up/b\.bin' "$files"
check_eq "three new files" 3 "$(printf '%s' "$files" | grep -c 'file-new')"

check_eq "invalid settings → 422" 422 "$(post "/projects/$ID/settings" --data-urlencode "csrf=$CSRF" \
	--data-urlencode 'sync_branch=no good' --data-urlencode 'commit_template=x' --data-urlencode 'batch_minutes=5' | cut -d' ' -f1)"
check_match "inline field error" 'field-error.*branch name' "$(cat "$T/page")"
check_match "valid settings → 303" '^303 ' "$(post "/projects/$ID/settings" --data-urlencode "csrf=$CSRF" \
	--data-urlencode 'commit_template=panel {{files_changed}}' --data-urlencode 'excludes=*.bin' --data-urlencode 'batch_minutes=0')"
s=$(page "/projects/$ID/settings")
check_match "exclude preview lists the excluded file" 'Excluded now: <code>up/b\.bin</code>' "$s"
check_match "message preview" 'Preview: <code[^>]*>panel 3' "$s"

REPO=panel-$(date +%s)-$RANDOM
check_match "connect with a new repository → 303 to the project page" "^303 .*/projects/$ID\$" "$(post "/projects/$ID/connect" --data-urlencode "csrf=$CSRF" \
	--data-urlencode mode=create --data-urlencode owner=octocat --data-urlencode "name=$REPO" --data-urlencode private=1)"
# The connect job, then the initial sync: the page follows both.
for i in $(seq 1 300); do p=$(page "/projects/$ID"); printf '%s' "$p" | grep -q 'id="status">SUCCESS' && break; sleep 0.2; done
check_match "project page shows SUCCESS and the repository" "id=\"status\">SUCCESS" "$p"
check_match "project page links the repository" "octocat/$REPO" "$p"
check_match "Sync now button" 'Sync now' "$p"
check_match "Sync now → 303" '^303 ' "$(post "/projects/$ID/sync" --data-urlencode "csrf=$CSRF")"
h=$(page "/projects/$ID/history")
check_match "history shows the commit" "/commit/[0-9a-f]{40}" "$h"
hid=$(printf '%s' "$h" | grep -o "/projects/$ID/history/[0-9]*" | tail -1)
check_match "history detail lists the files" 'pages/about\.md' "$(page "$hid")"
check_eq "another user's project page → 404" 404 "$(signin "$T/j2" hubot >/dev/null; curl -s -o /dev/null -w '%{http_code}' -b "$T/j2" "$GHB_URL/projects/$ID")"
check_match "delete needs the name: 422, the page again" '^422 $' "$(post "/projects/$ID/delete" --data-urlencode "csrf=$CSRF" --data-urlencode confirm=nope)"
check_match "… with the reason at the field" 'aria-describedby="confirm-error">.*That is not the project' "$(tr -d '\n' < "$T/page")"
check_match "delete with the name → 303 to /projects, which says so" '^303 .*/projects\?done=deleted$' "$(post "/projects/$ID/delete" --data-urlencode "csrf=$CSRF" --data-urlencode 'confirm=Panel site')"
finish
