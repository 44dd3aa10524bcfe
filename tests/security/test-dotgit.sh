#!/usr/bin/env bash
# tests/security/test-dotgit.sh: a project's git repository is its own .git folder and nothing else. A .git
# replaced from outside by a link to another project's .git, or by a git-link file ("gitdir: …"), is
# refused: the files API, the panel and a sync read and write nothing through it, and the other project's
# file names and history never show (issue 11, the whole kind of "a link in the folder is followed").
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "dotgit tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "dotgit tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1
A=dga$$
B=dgb$$
for u in "$A" "$B"; do
	curl -s -o /dev/null -X POST "$FAKEHUB_URL/_fakehub/users" -H 'Content-Type: application/json' -d "{\"login\":\"$u\"}"
	signin "$T/jar-$u" "$u" >/dev/null
done
KA=$("$BUILD/ghbridge" apikey create --user "$A" --name dg --scopes projects:read,projects:write,sync 2>&1 | tail -1)
KB=$("$BUILD/ghbridge" apikey create --user "$B" --name dg --scopes projects:read,projects:write,sync 2>&1 | tail -1)
ALL=$T/all
: > "$ALL"
call() {
	local k=$1 m=$2 p=$3 s; shift 3
	s=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 20 -X "$m" -H "Authorization: Bearer $k" "$@" "$API$p")
	[ "$k" = "$KB" ] && { cat "$T/body" >> "$ALL"; echo >> "$ALL"; }
	echo "$s"
}
put() { printf '%s' "$3" > "$T/put"; call "$1" PUT "/projects/$2/files/$4" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }

# Project A holds a file whose name and content must never reach B.
call "$KA" POST /projects -H 'Content-Type: application/json' -d '{"name":"victim"}' >/dev/null
PA=$(jq -r .id "$T/body"); WA=$(jq -r .workspace "$T/body")
call "$KB" POST /projects -H 'Content-Type: application/json' -d '{"name":"intruder"}' >/dev/null
PB=$(jq -r .id "$T/body"); WB=$(jq -r .workspace "$T/body")
check_eq "A's private file written" 201 "$(put "$KA" "$PA" 'the victim keeps this' 'victim-only-name.txt')"
check_eq "B's file written" 201 "$(put "$KB" "$PB" 'b' 'b.txt')"
# A commit in A's repository, so its index and history name the file (a sync would do the same).
(cd "$WA" && git add -A && git -c user.name=t -c user.email=t@e commit -qm 'victim commit' ) >/dev/null 2>&1
check "A's workspace has a .git folder" test -d "$WA/.git"
check "B's workspace has a .git folder" test -d "$WB/.git" -a ! -L "$WB/.git"

try_b() { # LABEL: every way B reads its project, none may answer with A's names or fail open
	local label=$1 st
	st=$(call "$KB" GET "/projects/$PB/files")
	check "$label: the files list is refused (409), not read through it" test "$st" = 409
	check_match "$label: … saying why" "\\.git is not a folder" "$(cat "$T/body")"
	st=$(call "$KB" GET "/projects/$PB/status")
	check "$label: the status answers without A's files" test "$st" = 200 -o "$st" = 409
	st=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar-$B" "$GHB_URL/projects/$PB/files")
	cat "$T/page" >> "$ALL"
	check "$label: the panel's files page does not list through it ($st)" bash -c "! grep -q victim-only-name '$T/page'"
	st=$(put "$KB" "$PB" 'x' 'new.txt')
	check "$label: a write answers (no crash: $st)" test "$st" -lt 500 -o "$st" = 409
}

mv "$WB/.git" "$T/b-git"
ln -s "$WA/.git" "$WB/.git"
try_b "a .git link to another project"
rm -f "$WB/.git"
printf 'gitdir: %s/.git\n' "$WA" > "$WB/.git"
try_b "a .git file pointing at another project"
rm -f "$WB/.git"
mv "$T/b-git" "$WB/.git"

check_eq "B's project works again once its own .git is back" 200 "$(call "$KB" GET "/projects/$PB/files")"
check "B's answers were recorded" test -s "$ALL"
check "A's name never appeared in any answer to B" bash -c "! grep -q victim-only-name '$ALL'"
check_eq "A's repository still has its one commit" 1 "$(git -C "$WA" rev-list --count HEAD 2>/dev/null)"
check_eq "A's file is untouched" 'the victim keeps this' "$(cat "$WA/victim-only-name.txt")"
finish
