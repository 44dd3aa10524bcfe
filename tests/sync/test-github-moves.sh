#!/usr/bin/env bash
# tests/sync/test-github-moves.sh: sync stays right when GitHub moves (issue 12): a repository renamed and its
# old name reused (followed by id, never pushed to the stranger; fakehub redirects the old name as GitHub does),
# a force-push on GitHub (what GitHub dropped never comes back, local changes are replayed or go to a conflict
# pull request), a failed push counts as pending, a reconnect resumes the syncs a revoked token stopped, and a
# conflict's files are named in words.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "GitHub moves" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "GitHub moves" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
cleanup() { curl -s -X DELETE "$FAKEHUB_URL/_fakehub/faults" >/dev/null; rm -rf "$T"; }
trap cleanup EXIT
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=moves$$
REPOS=${STACK_VAR:-}/fakehub/repos

curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"Moves\"}" >/dev/null
signin "$T/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name moves --scopes projects:read,projects:write,sync,pulls 2>&1 | tail -1)
check_match "an API key for this test's user" '^ghb_' "$KEY"
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)

call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 60 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
jcall() { local m=$1 p=$2 d=$3; shift 3; call "$m" "$p" -H 'Content-Type: application/json' -d "$d" "$@"; }
put_text() { printf '%s' "$2" > "$T/put"; call PUT "/projects/$PID/files/$1" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
file_of() { call GET "/projects/$PID/files/$1" >/dev/null; cat "$T/body"; }
file_code() { call GET "/projects/$PID/files/$1"; }
# gh METHOD PATH [curl args]: fakehub's REST API as the user (no redirects followed); body to $T/gh, prints the status.
gh() { local m=$1 p=$2; shift 2; curl -s -o "$T/gh" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@" "$FAKEHUB_API_URL$p"; }
url_of() { echo "${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$1.git"; }
remote_sha() { git ls-remote "$(url_of "$1")" "refs/heads/${2:-main}" 2>/dev/null | cut -f1; }
status_of() { call GET "/projects/$PID/status" >/dev/null; jq -r "$1" "$T/body"; }
wait_idle() {
	local i st
	for i in $(seq 1 300); do
		st=$(status_of .status)
		case $st in PENDING | SYNCING | IDLE) sleep 0.2 ;; *) echo "$st"; return 0 ;; esac
	done
	echo "timeout($st)"
}
sync_now() { call POST "/projects/$PID/sync" >/dev/null; wait_idle; }
last_hist() { call GET "/projects/$PID/history?limit=1" >/dev/null; jq -r ".history[0] | $1" "$T/body"; }
file_status() { call GET "/projects/$PID/files" >/dev/null; jq -r --arg p "$1" '[.files[] | select(.path == $p) | .status] | first // "absent"' "$T/body"; }
last_req() { curl -s "$FH/requests/count" | jq -r .last_id; }
# pushes REPO SINCE: git receive-packs (pushes) to REPO since request id SINCE.
pushes() { curl -s "$FH/requests/count?since_id=$2&method=POST&path=/$U/$1.git/git-receive-pack" | jq -r .count; }
# new_project NAME REPO FILE=CONTENT...: a project with these files, auto-sync off, connected to a new repository.
new_project() {
	local name=$1 repo=$2 kv
	shift 2
	jcall POST /projects "{\"name\":\"$name\"}" >/dev/null
	PID=$(jq -r .id "$T/body")
	WS=$(jq -r .workspace "$T/body")
	for kv in "$@"; do put_text "${kv%%=*}" "${kv#*=}" >/dev/null; done
	jcall PATCH "/projects/$PID/settings" '{"auto_sync":false}' >/dev/null
	jcall POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"$repo\"}" >/dev/null
	wait_connect "$KEY" "$PID" >/dev/null
	wait_idle >/dev/null
}
# reachable BARE PATH: commits reachable from any ref of fakehub's bare repository that have PATH.
reachable() { git --git-dir="$1" log --all --format=%H -- "$2" 2>/dev/null | wc -l; }

# ================================================================ 1. renamed, old name reused
OLD=site$$x$RANDOM
NEW=$OLD-2025
new_project "Site" "$OLD" a.txt=one
check_eq "project connected and synced" "SUCCESS" "$(status_of .status)"
gh GET "/repos/$U/$OLD" >/dev/null
RID=$(jq -r .id "$T/gh")
check_eq "the project knows GitHub's repository id" "$RID" "$(psql -qtAc "SELECT workspace_repo_id FROM projects WHERE id = $PID")"
check_eq "rename on GitHub → 200" 200 "$(gh PATCH "/repos/$U/$OLD" -d "{\"name\":\"$NEW\"}")"

# fakehub answers the old name as GitHub does
check_eq "fakehub: GET under the old name → 301" 301 "$(gh GET "/repos/$U/$OLD/branches/main")"
check_eq "… to /repositories/{id}/… (Location and the body's url)" \
	"$FAKEHUB_API_URL/repositories/$RID/branches/main $FAKEHUB_API_URL/repositories/$RID/branches/main" \
	"$(curl -s -o /dev/null -w '%{redirect_url}' -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/repos/$U/$OLD/branches/main") $(jq -r .url "$T/gh")"
check_eq "fakehub: PATCH under the old name → 307" 307 "$(gh PATCH "/repos/$U/$OLD" -d '{"description":"x"}')"
check_eq "fakehub: GET /repositories/{id} → the repository under its new name" "200 $U/$NEW" \
	"$(gh GET "/repositories/$RID"; echo " $(jq -r .full_name "$T/gh")")"
check_eq "fakehub: /repositories/{id}/branches/main serves the same route" "200 $(remote_sha "$NEW")" \
	"$(gh GET "/repositories/$RID/branches/main"; echo " $(jq -r .commit.sha "$T/gh")")"
check_eq "fakehub: git under the old name is redirected to the new one" "$(remote_sha "$NEW")" "$(remote_sha "$OLD")"

check_eq "a stranger repository takes the old name → 201" 201 "$(gh POST /user/repos -d "{\"name\":\"$OLD\",\"auto_init\":true}")"
SID=$(jq -r .id "$T/gh")
check "… another id" test "$SID" != "$RID"
STRANGER=$(remote_sha "$OLD")
check_eq "fakehub: the old name is now the stranger's (no redirect)" "200 $SID" "$(gh GET "/repos/$U/$OLD"; echo " $(jq -r .id "$T/gh")")"
check "fakehub: git under the old name reaches the stranger" test -n "$STRANGER" -a "$STRANGER" != "$(remote_sha "$NEW")"

put_text a.txt "edited after the rename" >/dev/null
R0=$(last_req)
check_eq "sync after the rename and the reuse → SUCCESS" SUCCESS "$(sync_now)"
check_eq "the stranger's repository got nothing: same tip, no push" "$STRANGER 0" "$(remote_sha "$OLD") $(pushes "$OLD" "$R0")"
check_eq "… no other branch or ref either" "refs/heads/main" "$(git ls-remote "$(url_of "$OLD")" | cut -f2 | grep -v '^HEAD$' | tr '\n' ' ' | sed 's/ $//')"
check_eq "the renamed repository got the edit, in one push" "1 edited after the rename" \
	"$(pushes "$NEW" "$R0") $(git --git-dir="$REPOS/$U/$NEW.git" show main:a.txt 2>/dev/null)"
check_eq "the project follows the new name" "$U/$NEW" "$(call GET "/projects/$PID" >/dev/null; jq -r .repository.full_name "$T/body")"
check_eq "… and nothing of the stranger's came into the folder" 404 "$(file_code README.md)"

# A pull-request job goes by the id too: renamed again, the name reused again, then a pull request from changes.
NEW2=$OLD-2026
check_eq "renamed again on GitHub → 200" 200 "$(gh PATCH "/repos/$U/$NEW" -d "{\"name\":\"$NEW2\"}")"
check_eq "… and a second stranger takes that name → 201" 201 "$(gh POST /user/repos -d "{\"name\":\"$NEW\",\"auto_init\":true}")"
STRANGER2=$(remote_sha "$NEW")
put_text b.txt "for a pull request" >/dev/null
R0=$(last_req)
check_eq "a pull request from the changes → 202" 202 \
	"$(jcall POST "/projects/$PID/pulls" '{"title":"After another rename","from":"changes","head":"feature/renamed"}')"
has_pull() { call GET "/projects/$PID/pulls?state=all&head=$1" >/dev/null; [ "$(jq '.pulls | length' "$T/body")" -ge 1 ]; }
check "… it is opened" wait_for 40 has_pull feature/renamed
check_eq "… on the renamed repository: its branch there, nothing pushed or opened on the stranger" \
	"refs/heads/feature/renamed $STRANGER2 0 0" \
	"$(git ls-remote "$(url_of "$NEW2")" refs/heads/feature/renamed | cut -f2) $(remote_sha "$NEW") $(pushes "$NEW" "$R0") $(gh GET "/repos/$U/$NEW/pulls?state=all" >/dev/null; jq length "$T/gh")"
check_eq "… and the project follows the name" "$U/$NEW2" "$(call GET "/projects/$PID" >/dev/null; jq -r .repository.full_name "$T/body")"
NEW=$NEW2

check_eq "the renamed repository is deleted on GitHub → 204" 204 "$(gh DELETE "/repos/$U/$NEW")"
put_text a.txt "edited once more" >/dev/null
R0=$(last_req)
check_eq "sync with the linked repository gone → ERROR" ERROR "$(sync_now)"
check_match "… saying so" "gone|can no longer see" "$(status_of .last_error)"
check_eq "… and the stranger still got nothing" "$STRANGER 0" "$(remote_sha "$OLD") $(pushes "$OLD" "$R0")"

# ================================================================ 2. force-push on GitHub
R2=moves-force-$$-$RANDOM
BARE=$REPOS/$U/$R2.git
new_project "Force" "$R2" a.txt=alpha d1/f1.md=first
check_eq "project connected and synced" SUCCESS "$(status_of .status)"
C1=$(remote_sha "$R2")
put_text secret.txt "the password" >/dev/null
check_eq "secret.txt synced → SUCCESS" SUCCESS "$(sync_now)"
check_eq "… it is on GitHub" 1 "$(reachable "$BARE" secret.txt)"
# Someone rewrites GitHub's history without secret.txt and force-pushes.
git clone -q "$(url_of "$R2")" "$T/gh2" 2>/dev/null
gitc() { git -C "$T/gh2" -c user.name=someone -c user.email=someone@example.com "$@"; }
gitc reset -q --hard "$C1"
printf 'bee' > "$T/gh2/b.txt"; gitc add b.txt; gitc commit -q -m "b instead"
check "force-push without secret.txt" gitc push -q -f origin HEAD:main
FORCED=$(gitc rev-parse HEAD)
check_eq "… GitHub has no secret.txt any more" 0 "$(reachable "$BARE" secret.txt)"

R0=$(last_req)
check_eq "sync, no local changes → SUCCESS" SUCCESS "$(sync_now)"
check_eq "GitHub keeps the rewritten history: same tip, no push" "$FORCED 0" "$(remote_sha "$R2") $(pushes "$R2" "$R0")"
check_eq "secret.txt is on no branch or ref of GitHub's repository" 0 "$(reachable "$BARE" secret.txt)"
check_eq "secret.txt left the folder, b.txt came in" "404 bee" "$(file_code secret.txt) $(file_of b.txt)"
check "… not on disk either" test ! -e "$WS/secret.txt"
# GitHub's push webhook may have brought the rewrite in first (a pull): either run's history row says it.
check_match "history says what happened" "rewritten" "$(call GET "/projects/$PID/history?limit=3" >/dev/null; jq -r '[.history[].error // empty] | join(" ")' "$T/body")"
check_eq "nothing pending" 0 "$(status_of .pending_changes)"

# With local changes: they (only they) are replayed on GitHub's new history.
put_text c.txt "synced then dropped" >/dev/null
check_eq "c.txt synced → SUCCESS" SUCCESS "$(sync_now)"
gitc pull -q origin main 2>/dev/null
gitc reset -q --hard "$FORCED"
printf 'dee' > "$T/gh2/d.txt"; gitc add d.txt; gitc commit -q -m "d instead of c"
# The local change is made before the force-push: whether GitHub's webhook (a pull) or the sync sees the
# rewrite first, the change is unsynced then.
put_text a.txt "alpha, edited here" >/dev/null
check "force-push without c.txt" gitc push -q -f origin HEAD:main
FORCED2=$(gitc rev-parse HEAD)
R0=$(last_req)
check_eq "sync with a local change → SUCCESS" SUCCESS "$(sync_now)"
TIP=$(remote_sha "$R2")
check_eq "one push, of one commit on GitHub's new history" "1 $FORCED2" \
	"$(pushes "$R2" "$R0") $(git --git-dir="$BARE" rev-parse "$TIP^" 2>/dev/null)"
check_eq "… holding only the local change" "a.txt" "$(git --git-dir="$BARE" diff --name-only "$FORCED2" "$TIP" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
check_eq "… GitHub's files stay, the dropped one does not come back" "alpha, edited here|dee|0|0" \
	"$(git --git-dir="$BARE" show "$TIP:a.txt")|$(git --git-dir="$BARE" show "$TIP:d.txt")|$(reachable "$BARE" c.txt)|$(reachable "$BARE" secret.txt)"
check_eq "the folder: d.txt in, c.txt out" "dee 404" "$(file_of d.txt) $(file_code c.txt)"
check_eq "nothing pending" 0 "$(status_of .pending_changes)"

# Colliding with the rewrite: a conflict branch on GitHub's new history, with a pull request.
put_text drop.txt "synced then dropped too" >/dev/null
check_eq "drop.txt synced → SUCCESS" SUCCESS "$(sync_now)"
gitc fetch -q origin && gitc reset -q --hard "$TIP"
printf 'GitHub says' > "$T/gh2/d1/f1.md"; gitc add d1/f1.md; gitc commit -q -m "f1 on GitHub"
put_text d1/f1.md "the project says" >/dev/null
check "force-push without drop.txt, changing d1/f1.md" gitc push -q -f origin HEAD:main
FORCED3=$(gitc rev-parse HEAD)
R0=$(last_req)
check_eq "sync with a colliding local change → CONFLICT" CONFLICT "$(sync_now)"
CB=$(status_of .conflict_branch)
check_match "… on a conflict branch" '^ghbridge/conflict-' "$CB"
CT=$(git --git-dir="$BARE" rev-parse "refs/heads/$CB" 2>/dev/null)
check_eq "GitHub's branch untouched; the side branch is one commit on its new history" "$FORCED3 $FORCED3" \
	"$(remote_sha "$R2") $(git --git-dir="$BARE" rev-parse "$CT^" 2>/dev/null)"
check_eq "… with the project's version of d1/f1.md and nothing else" "d1/f1.md|the project says" \
	"$(git --git-dir="$BARE" diff --name-only "$FORCED3" "$CT" | tr '\n' ' ' | sed 's/ $//')|$(git --git-dir="$BARE" show "$CT:d1/f1.md")"
check_eq "what GitHub dropped is on no branch or ref" "0 0 0" \
	"$(reachable "$BARE" drop.txt) $(reachable "$BARE" c.txt) $(reachable "$BARE" secret.txt)"
check_eq "a pull request is open for it" 1 \
	"$(gh GET "/repos/$U/$R2/pulls?state=open" >/dev/null; jq --arg b "$CB" '[.[] | select(.head.ref == $b)] | length' "$T/gh")"
ERRTXT=$(status_of .last_error)
check_match "the error names the file in words (issue 10)" 'same lines in d1/f1\.md\.' "$ERRTXT"
no_json() { case $1 in *'['* | *']'* | *'\'* | *'"'*) return 1 ;; esac; }
check "… not as escaped JSON" no_json "$ERRTXT"
check_eq "the folder keeps the project's version" "the project says" "$(file_of d1/f1.md)"
R0=$(last_req)
check_eq "sync again while the conflict is open → CONFLICT, nothing to GitHub's branch" "CONFLICT $FORCED3" \
	"$(sync_now) $(remote_sha "$R2")"
check_eq "… and still nothing dropped comes back" "0 0" "$(reachable "$BARE" drop.txt) $(reachable "$BARE" secret.txt)"
check_eq "… the same side branch and pull request, not another" "$CB 1" \
	"$(status_of .conflict_branch) $(gh GET "/repos/$U/$R2/pulls?state=open" >/dev/null; jq '[.[] | select(.head.ref | startswith("ghbridge/"))] | length' "$T/gh")"
put_text e.txt "while the conflict is open" >/dev/null
check_eq "another local change while the conflict is open → CONFLICT" CONFLICT "$(sync_now)"
CT2=$(git --git-dir="$BARE" rev-parse "refs/heads/$CB" 2>/dev/null)
check_eq "… the side branch moves forward by one commit with it (same pull request)" "$CB $CT while the conflict is open 1" \
	"$(status_of .conflict_branch) $(git --git-dir="$BARE" rev-parse "$CT2^" 2>/dev/null) $(git --git-dir="$BARE" show "$CT2:e.txt" 2>/dev/null) $(gh GET "/repos/$U/$R2/pulls?state=open" >/dev/null; jq '[.[] | select(.head.ref | startswith("ghbridge/"))] | length' "$T/gh")"
check_eq "… GitHub's branch untouched, nothing dropped back" "$FORCED3 0 0" \
	"$(remote_sha "$R2") $(reachable "$BARE" drop.txt) $(reachable "$BARE" secret.txt)"
PRN=$(jq --arg b "$CB" '[.[] | select(.head.ref == $b)] | first | .number' "$T/gh")
check_eq "the pull request is merged on GitHub → 200" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST "$FH/repos/$U/$R2/pulls/$PRN/merge" -H 'Content-Type: application/json' -d "{\"as\":\"$U\"}")"
MERGED=$(remote_sha "$R2")
R0=$(last_req)
check_eq "the next sync → SUCCESS" SUCCESS "$(sync_now)"
check_eq "… takes GitHub's history: no push, the merged files, drop.txt gone from the folder" \
	"$MERGED 0 the project says|while the conflict is open 404" \
	"$(remote_sha "$R2") $(pushes "$R2" "$R0") $(file_of d1/f1.md)|$(file_of e.txt) $(file_code drop.txt)"
check_eq "… nothing pending" 0 "$(status_of .pending_changes)"
PID6=$PID

# Pulling off: GitHub's rewrite does not come in, and nothing it dropped goes back.
R3=moves-pulloff-$$-$RANDOM
BARE3=$REPOS/$U/$R3.git
new_project "Pull off" "$R3" a.txt=alpha
P3=$PID
jcall PATCH "/projects/$PID/settings" '{"pull_enabled":false}' >/dev/null
put_text dropped.txt "GitHub will drop this" >/dev/null
check_eq "pulling off: dropped.txt synced → SUCCESS" SUCCESS "$(sync_now)"
rm -rf "$T/gh3" && git clone -q "$(url_of "$R3")" "$T/gh3" 2>/dev/null
git3() { git -C "$T/gh3" -c user.name=someone -c user.email=someone@example.com "$@"; }
git3 reset -q --hard HEAD~1
printf 'gee' > "$T/gh3/g.txt"; git3 add g.txt; git3 commit -q -m "g instead"
check "force-push without dropped.txt" git3 push -q -f origin HEAD:main
FORCED4=$(git3 rev-parse HEAD)
R0=$(last_req)
check_eq "sync, no local changes, pulling off → SUCCESS" SUCCESS "$(sync_now)"
check_eq "… no push, GitHub's files not pulled, dropped.txt not pushed back" "$FORCED4 0 404 0" \
	"$(remote_sha "$R3") $(pushes "$R3" "$R0") $(file_code g.txt) $(reachable "$BARE3" dropped.txt)"
put_text a.txt "alpha, pull off" >/dev/null
R0=$(last_req)
check_eq "a local change, pulling off → CONFLICT (a side branch)" CONFLICT "$(sync_now)"
CB3=$(status_of .conflict_branch)
CT3=$(git --git-dir="$BARE3" rev-parse "refs/heads/$CB3" 2>/dev/null)
check_eq "… on GitHub's new history, with only the local change; GitHub's branch untouched" \
	"ghbridge/unmerged $FORCED4 a.txt $FORCED4 0" \
	"${CB3%%-*} $(git --git-dir="$BARE3" rev-parse "$CT3^" 2>/dev/null) $(git --git-dir="$BARE3" diff --name-only "$FORCED4" "$CT3" | tr '\n' ' ' | sed 's/ $//') $(remote_sha "$R3") $(reachable "$BARE3" dropped.txt)"

# ================================================================ 6. a failed push is pending
PID=$PID6
curl -s -X POST "$FH/faults" -H 'Content-Type: application/json' \
	-d "{\"method\":\"POST\",\"path\":\"/$U/$R2.git/git-receive-pack\",\"kind\":\"status\",\"status\":500,\"count\":20}" >/dev/null
put_text failed.txt "not on GitHub yet" >/dev/null
check_eq "sync with pushes failing → ERROR" ERROR "$(sync_now)"
check_eq "… the file counts as pending, not synced" "1 new" "$(status_of .pending_changes) $(file_status failed.txt)"
curl -s -X DELETE "$FH/faults" >/dev/null
check_eq "pushes work again: sync → SUCCESS" SUCCESS "$(sync_now)"
check_eq "… now synced, nothing pending" "0 synced" "$(status_of .pending_changes) $(file_status failed.txt)"

# ================================================================ 9. a reconnect resumes what a revoked token stopped
CID=$GHBRIDGE_GITHUB_CLIENT_ID
GTOK=$(curl -s "$FH/users/$U/tokens" | jq -r --arg c "$CID" '[.[] | select(.client_id == $c and .active)] | last | .token')
check_eq "the user revokes ghbridge's grant on GitHub → 204" 204 "$(curl -s -o /dev/null -w '%{http_code}' -u "$CID:$GHBRIDGE_GITHUB_CLIENT_SECRET" \
	-X DELETE "$FAKEHUB_API_URL/applications/$CID/grant" -d "{\"access_token\":\"$GTOK\"}")"
put_text after-revoke.txt "waits for the reconnect" >/dev/null
check_eq "sync with the grant revoked → ERROR" ERROR "$(sync_now)"
check_match "… asking to reconnect" 'Reconnect GitHub' "$(status_of .last_error)"
signin "$T/jar" "$U" >/dev/null
resumed() { [ "$(status_of .status)" = SUCCESS ] && [ "$(git --git-dir="$BARE" show main:after-revoke.txt 2>/dev/null)" = "waits for the reconnect" ]; }
check "after the owner reconnects, the sync resumes by itself (no Sync now)" wait_for 60 resumed
check_eq "… and the history says it was a retry" retry "$(last_hist .trigger)"

finish
