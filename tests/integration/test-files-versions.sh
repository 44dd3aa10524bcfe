#!/usr/bin/env bash
# tests/integration/test-files-versions.sh: optimistic concurrency on the files API (issue 13, items 1-2), as
# GitHub's contents API does with a file's sha: every file has a version (its git blob id), served as a strong
# ETag on GET …/files/{path} and as "version" in the files list; PUT and DELETE with If-Match answer 412 with
# the current version when the file changed meanwhile, If-None-Match: * creates only; two writers that read
# the same version cannot both replace it. Without the headers PUT and DELETE work as before.
set -u
. "$ROOT/tests/pulls/lib-pulls.sh"

hash_of() { printf '%s' "$1" | git hash-object --stdin; }
hdr() { tr -d '\r' < "$T/hdr" | sed -n "s/^$1: //Ip" | tail -1; }
# vcall METHOD PATH [curl args]: call, with the answer's headers in $T/hdr.
vcall() { local m=$1 p=$2; shift 2; call "$m" "$p" -D "$T/hdr" "$@"; }
vput() { local path=$1 text=$2; shift 2; printf '%s' "$text" > "$T/put"; vcall PUT "/projects/$PID/files/$path" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream' "$@"; }
content_of() { call GET "/projects/$PID/files/$1" >/dev/null; cat "$T/body"; }
list_version() { call GET "/projects/$PID/files" >/dev/null; jq -r --arg p "$1" '.files[] | select(.path == $p) | .version' "$T/body"; }

LOG=$STACK_VAR/log/fcgi.log
log_start=$(wc -l < "$LOG")
new_project "versions-$$"   # index.html and docs/a.md, connected and synced once, auto-sync off
WS=$(psql -qtA -c "SELECT workspace FROM projects WHERE id = $PID")

# ---- versions: ETag on GET, version in the list (from the index for a synced file, hashed for a changed one)
V0=$(hash_of '<h1>Hello</h1>')
check_eq "GET a file → 200 with a strong ETag, its git blob id" "200 \"$V0\"" "$(vcall GET "/projects/$PID/files/index.html") $(hdr ETag)"
check_eq "the files list carries the same version (a synced file: the index's blob id)" "$V0" "$(list_version index.html)"
check_eq "GET with If-None-Match holding it → 304" 304 "$(call GET "/projects/$PID/files/index.html" -H "If-None-Match: \"$V0\"")"
printf 'written by the host' > "$WS/docs/a.md"
check_eq "a file the host changed in the folder: the list hashes its bytes" "$(hash_of 'written by the host')" "$(list_version docs/a.md)"
check_eq "… and GET's ETag says the same" "\"$(hash_of 'written by the host')\"" "$(vcall GET "/projects/$PID/files/docs/a.md" >/dev/null; hdr ETag)"

# ---- If-Match
V1=$(hash_of 'v1 from client A')
check_eq "PUT with If-Match of the current version → 200" 200 "$(vput index.html 'v1 from client A' -H "If-Match: \"$V0\"")"
check_eq "… answers the new version (ETag and version)" "\"$V1\" $V1" "$(hdr ETag) $(jq -r .version "$T/body")"
check_eq "a stale If-Match (client B read v0) → 412 (was: always overwritten)" 412 "$(vput index.html 'from client B' -H "If-Match: \"$V0\"")"
check_eq "… error precondition_failed with the current version" "precondition_failed $V1" "$(jq -r '"\(.error.code) \(.error.current_version)"' "$T/body")"
check_eq "… and the current ETag" "\"$V1\"" "$(hdr ETag)"
check_eq "… the file keeps client A's edit" 'v1 from client A' "$(content_of index.html)"
check_eq "If-Match with the version in a list → 200" 200 "$(vput index.html 'v2' -H "If-Match: \"0000000000000000000000000000000000000000\", \"$V1\"")"
V2=$(hash_of v2)
check_eq "a weak If-Match never matches (strong comparison) → 412" 412 "$(vput index.html 'weak' -H "If-Match: W/\"$V2\"")"
check_eq "If-Match: * on an existing file → 200" 200 "$(vput index.html 'v3' -H 'If-Match: *')"
check_eq "If-Match: * where there is no file → 412" 412 "$(vput missing.txt 'x' -H 'If-Match: *')"
check_eq "If-Match on a file that is not there → 412, current_version null" "412 null" "$(vput missing.txt 'x' -H "If-Match: \"$V0\"") $(jq -r .error.current_version "$T/body")"
check_eq "… nothing was created" 404 "$(call GET "/projects/$PID/files/missing.txt")"

# ---- If-None-Match: * creates only (issue 13 item 1: New file over index.html replaced it)
check_eq "PUT If-None-Match: * over an existing file → 412" 412 "$(vput index.html 'ten bytes!' -H 'If-None-Match: *')"
check_eq "… with its version" "$(hash_of v3)" "$(jq -r .error.current_version "$T/body")"
check_eq "… the file is untouched" v3 "$(content_of index.html)"
check_eq "PUT If-None-Match: * on a new path → 201" 201 "$(vput fresh.txt 'fresh' -H 'If-None-Match: *')"
check_eq "PUT If-None-Match: <its version> → 412" 412 "$(vput fresh.txt 'again' -H "If-None-Match: \"$(hash_of fresh)\"")"

# ---- DELETE
check_eq "DELETE with a stale If-Match → 412" 412 "$(vcall DELETE "/projects/$PID/files/fresh.txt" -H "If-Match: \"$V0\"")"
check_eq "… with the current version" "$(hash_of fresh)" "$(jq -r .error.current_version "$T/body")"
check_eq "… the file is still there" fresh "$(content_of fresh.txt)"
check_eq "DELETE with the current version → 204" 204 "$(call DELETE "/projects/$PID/files/fresh.txt" -H "If-Match: \"$(hash_of fresh)\"")"
check_eq "DELETE If-Match of a file already gone → 412" 412 "$(call DELETE "/projects/$PID/files/fresh.txt" -H "If-Match: \"$(hash_of fresh)\"")"

# ---- without the headers: as before
check_eq "PUT without If-Match still overwrites → 200" 200 "$(put_text index.html 'plain put')"
check_eq "DELETE without If-Match still deletes → 204" 204 "$(put_text gone.txt x >/dev/null; call DELETE "/projects/$PID/files/gone.txt")"

# ---- the race: many writers who all read the same version; exactly one wins
VR=$(hash_of 'plain put')
for i in $(seq 1 8); do
	printf 'writer %s' "$i" > "$T/race$i"
	curl -s -o /dev/null -w '%{http_code}\n' -X PUT -H "Authorization: Bearer $KEY" -H "If-Match: \"$VR\"" \
		--data-binary "@$T/race$i" "$API/projects/$PID/files/index.html" > "$T/race$i.code" &
done
wait
codes=$(cat "$T"/race*.code | sort | uniq -c | awk '{print $2 "x" $1}' | paste -sd' ')
check_eq "8 concurrent PUTs with the same If-Match: one 200, seven 412" "200x1 412x7" "$codes"
winner=$(content_of index.html)
check_match "… the file holds the winner's text" '^writer [1-8]$' "$winner"
check_eq "… and its version is the winner's" "$(hash_of "$winner")" "$(list_version index.html)"

# ---- a file git converts (gitattributes text): the folder's bytes, not the index's blob, are its version
printf '*.txt text\n' > "$T/ga"; call PUT "/projects/$PID/files/.gitattributes" --data-binary "@$T/ga" >/dev/null
printf 'one\r\ntwo\r\n' > "$T/crlf"; call PUT "/projects/$PID/files/crlf.txt" --data-binary "@$T/crlf" >/dev/null
call POST "/projects/$PID/sync" >/dev/null
check_eq "a sync with a CRLF file under a text rule" SUCCESS "$(wait_idle)"
check_eq "its listed version is its bytes' (the index holds the LF blob)" "$(git hash-object "$T/crlf")" "$(list_version crlf.txt)"
check_eq "… the same as GET's ETag" "\"$(git hash-object "$T/crlf")\"" "$(vcall GET "/projects/$PID/files/crlf.txt" >/dev/null; hdr ETag)"
check_eq "… and If-Match with it writes → 200" 200 "$(vput crlf.txt 'three' -H "If-Match: \"$(git hash-object "$T/crlf")\"")"

check_eq "no 500 in the fcgi log during this test" "" "$(tail -n +"$((log_start + 1))" "$LOG" | grep -E 'status=5[0-9][0-9]' | head -3)"
finish
