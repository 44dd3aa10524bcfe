#!/usr/bin/env bash
# tests/sync/test-staging.sh: what a sync commits is what `git add -A` would stage, through files
# replaced by folders and back, deletions, touched-but-unchanged files, a copied folder and an index
# written by someone else (the paths around the index stat cache and the tree built from the last one).
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "staging tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "staging tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=stage$$

curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\"}"
signin "$T/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name staging --scopes projects:read,projects:write,sync 2>&1 | tail -1)
check_match "API key" '^ghb_' "$KEY"
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }

call POST /projects -H 'Content-Type: application/json' -d '{"name":"Staging"}' >/dev/null
PID=$(jq -r .id "$T/body")
WS=$(jq -r .workspace "$T/body")
check_eq "auto-sync off" 200 "$(call PATCH "/projects/$PID/settings" -H 'Content-Type: application/json' -d '{"auto_sync":false}')"
REPO=staging-$$
check_eq "connect → 202" 202 "$(call POST "/projects/$PID/repository" -H 'Content-Type: application/json' \
	-d "{\"mode\":\"create\",\"name\":\"$REPO\",\"private\":true}")"
check_eq "connected" done "$(wait_connect "$KEY" "$PID")"
# The connect queues the initial sync: let it end before the folder is written, or it (not the sync
# below) commits the files, and the sync below finds nothing to do.
no_sync_job() { [ "$(psql -qtAc "SELECT count(*) FROM jobs WHERE project_id = $PID AND kind = 'sync' AND state IN ('queued', 'running')")" = 0 ]; }
check "the initial sync ends" wait_for 60 no_sync_job
CLONE=${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$REPO.git

# sync: POST /sync, waits for its history row; prints "status files_changed".
sync_now() {
	local j
	call POST "/projects/$PID/sync" >/dev/null
	j=$(jq -r .job_id "$T/body")
	wait_for 60 bash -c "curl -s -H 'Authorization: Bearer $KEY' '$API/projects/$PID/history?limit=50' |
		jq -e '[.history[] | select(.job_id == $j and .status != \"running\")] | length > 0'" || { echo timeout; return; }
	call GET "/projects/$PID/history?limit=50" >/dev/null
	jq -r "[.history[] | select(.job_id == $j)][0] | \"\(.status) \(.files_changed)\"" "$T/body"
}
# The tree of GitHub's branch, and the tree `git add -A` makes of the folder (in a git folder of its own).
github_tree() { rm -rf "$T/c"; git clone -q "$CLONE" "$T/c" 2>/dev/null && git -C "$T/c" rev-parse 'HEAD^{tree}'; }
cli_tree() {
	rm -rf "$T/ref" && git init -q --bare "$T/ref" &&
		git --git-dir="$T/ref" --work-tree="$WS" add -A && git --git-dir="$T/ref" --work-tree="$WS" write-tree
}
commits() { git -C "$T/c" rev-list --count HEAD; }

# ---------------------------------------------------------------- files, folders
mkdir -p "$WS/dir" "$WS/keep" "$WS/same"
echo a > "$WS/a.txt"; echo b > "$WS/dir/b.txt"; echo c > "$WS/dir/c.txt"; echo x > "$WS/x"
echo k > "$WS/keep/k.txt"; echo s > "$WS/same/s.txt"
check_eq "first sync" "success 6" "$(sync_now)"
check_eq "GitHub's tree is git add -A's" "$(cli_tree)" "$(github_tree)"
n0=$(commits)

echo a2 >> "$WS/a.txt"                                  # changed
rm "$WS/dir/c.txt"                                       # deleted
rm "$WS/x" && mkdir "$WS/x" && echo y > "$WS/x/y.txt"    # a file becomes a folder
rm -r "$WS/keep" && echo k > "$WS/keep"                  # a folder becomes a file
mkdir -p "$WS/new/deep" && echo z > "$WS/new/deep/z.txt" # a new folder
touch -d '2001-01-01' "$WS/same/s.txt"                   # touched, same content
check_eq "sync of changes, files into folders and back, a touched file" success "$(sync_now | cut -d' ' -f1)"
check_eq "… GitHub's tree is git add -A's" "$(cli_tree)" "$(github_tree)"
check_eq "… one commit" $((n0 + 1)) "$(commits)"

touch "$WS/a.txt" "$WS/dir/b.txt"
check_eq "only touched files → no change" "nochange 0" "$(sync_now)"

# Files copied back in place (a restore): new stat data (inode, ctime), the same content.
find "$WS" -path "$WS/.git" -prune -o -type f -print | while read -r f; do cp -p "$f" "$f.tmp" && mv "$f.tmp" "$f"; done
check_eq "files copied back in place → no change" "nochange 0" "$(sync_now)"
echo again >> "$WS/dir/b.txt"
check_eq "… then a change is one file" "success 1" "$(sync_now)"
check_eq "… GitHub's tree is git add -A's" "$(cli_tree)" "$(github_tree)"

# Someone else wrote the index (here: unstaged a file): the sync works out the tree from the index.
git -C "$WS" rm -q --cached a.txt
echo new > "$WS/new.txt"
check_eq "index written by another tool → the change, nothing lost" "success 1" "$(sync_now)"
check_eq "… GitHub's tree is git add -A's" "$(cli_tree)" "$(github_tree)"
check "… a.txt still on GitHub" test -f "$T/c/a.txt"

rm "$WS/new.txt" "$WS/new/deep/z.txt"
check_eq "deleting the only file of a folder" "success 2" "$(sync_now)"
check_eq "… GitHub's tree is git add -A's" "$(cli_tree)" "$(github_tree)"
check_eq "nothing left to commit" "nochange 0" "$(sync_now)"

finish
