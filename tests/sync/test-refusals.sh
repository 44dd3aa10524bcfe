#!/usr/bin/env bash
# tests/sync/test-refusals.sh: refusals that no retry changes (issue 12, cases 3, 4 and 8):
# 1. a protected branch (GH006): exactly one push to it, the changes on a branch of their own with a pull
#    request, history and the project page in GitHub's words, no retries, later syncs keep to that branch;
# 2. files over the limits (GitHub's 100 MiB, project_max_file's 50 MiB) written straight into the folder:
#    left out before committing, named in history and on the files page/API, the rest syncs, no big pack;
# 3. Git LFS rules (.gitattributes filter=lfs, in sub-folders and through a macro): such a path shows as
#    "stored in Git LFS"; since issue 16 its content is written and synced through Git LFS (tests/lfs).
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "refusal tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "refusal tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=refuse$$
trap 'rm -rf "$T"' EXIT

curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"Refusal Tests\"}" >/dev/null
signin "$T/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name refusals --scopes projects:read,projects:write,sync 2>&1 | tail -1)
check_match "API key for a user of this test" '^ghb_' "$KEY"
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)

call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 60 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
put_text() { printf '%s' "$2" > "$T/put"; call PUT "/projects/$PID/files/$1" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
hist() { local raw=; [ "$1" = -r ] && raw=-r && shift; call GET "/projects/$PID/history?limit=100" >/dev/null; jq $raw "$1" "$T/body"; }
hist_count() { hist "[.history[] | select($1)] | length"; }
hist_has() { [ "$(hist_count "$1")" -ge "${2:-1}" ]; }
idle() { call GET "/projects/$PID/status" >/dev/null; local s; s=$(jq -r .status "$T/body"); [ "$s" != PENDING ] && [ "$s" != SYNCING ]; }
gh() { local m=$1 p=$2; shift 2; curl -s -X "$m" -H "Authorization: Bearer $TOKEN" "$@" "$FAKEHUB_API_URL$p"; }
pushes() { curl -s "$FH/repos/$U/$REPO/pushes"; }
refused_to() { pushes | jq --arg r "refs/heads/$1 " '[.pushes[] | select((.refused // "") | startswith($r))] | length'; }
file_field() { call GET "/projects/$PID/files" >/dev/null; jq -r --arg p "$1" ".files[] | select(.path == \$p) | $2" "$T/body"; }
web_commit() { # PATH CONTENT
	curl -s -X POST "$FH/repos/$U/$REPO/commits" -H 'Content-Type: application/json' \
		-d "$(jq -nc --arg who "$U" --arg p "$1" --arg c "$2" '{"as":$who,path:$p,content:$c,message:("add " + $p)}')" | jq -r .sha
}
# new_project NAME MODE: a project connected to a new repository (create) or to $REPO (link).
new_project() {
	call POST /projects -H 'Content-Type: application/json' -d "{\"name\":\"$1\"}" >/dev/null
	PID=$(jq -r .id "$T/body")
	WS=$(jq -r .workspace "$T/body")
	if [ "$2" = create ]; then
		put_text index.html "<h1>$1</h1>" >/dev/null
		REPO=refuse-$(date +%s)-$RANDOM
		call POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"$REPO\"}" >/dev/null
	else
		call POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"link\",\"owner\":\"$U\",\"name\":\"$REPO\"}" >/dev/null
	fi
	wait_connect "$KEY" "$PID" >/dev/null
	CLONE=${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$REPO.git
	wait_for 60 hist_has '.trigger == "initial" and (.status == "success" or .status == "nochange")' && wait_for 20 idle
}
clone() { rm -rf "$T/c"; git clone -q ${1:+-b "$1"} "$CLONE" "$T/c" 2>"$T/clone.err"; }

# ---------------------------------------------------------------- 1. a protected branch (GH006)
new_project Protected create
check "a connected project" test -n "$REPO"
res=$(gh PUT "/repos/$U/$REPO/branches/main/protection" -H 'Content-Type: application/json' \
	-d '{"required_status_checks":null,"enforce_admins":true,"required_pull_request_reviews":{"required_approving_review_count":1},"restrictions":null}' -o /dev/null -w '%{http_code}')
check_eq "main protected on fakehub (pull requests required, admins too)" 200 "$res"
before=$(pushes | jq .count)
check_eq "a change through the API → 201" 201 "$(put_text about.txt 'about this project')"
check "the sync ends: conflict (a pull request is needed)" wait_for 60 hist_has '.status == "conflict"'
wait_for 20 idle
check_eq "exactly one push to main, refused" 1 "$(refused_to main)"
h=$(hist '[.history[] | select(.status == "conflict")][0].error')
check_match "history in GitHub's words" "GitHub refused the push to main: GH006: Protected branch update failed for refs/heads/main\. - Changes must be made through a pull request\. \(protected branch hook declined\)" "$h"
check_match "… and what ghbridge did" "pushed to branch ghbridge/sync-$PID-[0-9a-f]{7} and opened pull request #[0-9]+" "$h"
SIDE=$(printf '%s' "$h" | grep -oE "ghbridge/sync-$PID-[0-9a-f]{7}")
NUM=$(printf '%s' "$h" | grep -oE 'pull request #[0-9]+' | grep -oE '[0-9]+$')
check_eq "the branch is on GitHub" "$SIDE" "$(gh GET "/repos/$U/$REPO/branches/$SIDE" | jq -r .name)"
pr=$(gh GET "/repos/$U/$REPO/pulls/$NUM")
check_eq "… with an open pull request into main" "open $SIDE main" "$(printf '%s' "$pr" | jq -r '"\(.state) \(.head.ref) \(.base.ref)"')"
check_match "… whose body quotes GitHub" 'GH006: Protected branch update failed' "$(printf '%s' "$pr" | jq -r .body)"
clone "$SIDE"
check_eq "the change is on the branch" 'about this project' "$(cat "$T/c/about.txt" 2>/dev/null)"
call GET "/projects/$PID/status" >/dev/null
check_eq "the project: CONFLICT with its branch" "CONFLICT $SIDE" "$(jq -r '"\(.status) \(.conflict_branch)"' "$T/body")"
page=$(curl -s -b "$T/jar" "$GHB_URL/projects/$PID")
check_match "the project page says it in GitHub's words" 'GH006: Protected branch update failed for refs/heads/main' "$page"
check_match "… and links the pull request" "href=\"[^\"]*/pull/$NUM\"" "$page"
jobs=$(hist '[.history[] | select(.status == "error")] | length')
check_eq "no failed attempts (nothing retried)" 0 "$jobs"
sleep 6
check_eq "no retries later: still one push to main" 1 "$(refused_to main)"
check_eq "… and no more history rows" 1 "$(hist_count '.trigger == "auto"')"
check_eq "another change → 200" 201 "$(put_text more.txt 'a second change')"
check "the next sync goes to the same branch" wait_for 60 hist_has '.status == "conflict"' 2
wait_for 20 idle
check_eq "… without pushing to main again" 1 "$(refused_to main)"
clone "$SIDE"
check_eq "… the second change is on the branch" 'a second change' "$(cat "$T/c/more.txt" 2>/dev/null)"
check_eq "… the same pull request" 1 "$(gh GET "/repos/$U/$REPO/pulls?state=open" | jq length)"
check_match "… history says where it went" "pushed to branch $SIDE, pull request #$NUM" "$(hist '[.history[] | select(.status == "conflict")][0].error')"
echo "# pushes to $REPO: $(pushes | jq -c '[.count, .bytes]') (count, bytes); before the change: $before"
# The pull request cannot be opened at first (GitHub answers 502 once): the retry goes to the side branch,
# never to main again.
new_project Protected2 create
gh PUT "/repos/$U/$REPO/branches/main/protection" -H 'Content-Type: application/json' -o /dev/null \
	-d '{"required_status_checks":null,"enforce_admins":true,"required_pull_request_reviews":{},"restrictions":null}'
curl -s -o /dev/null -X POST "$FH/faults" -H 'Content-Type: application/json' \
	-d "{\"method\":\"POST\",\"path\":\"/api/v3/repos/$U/$REPO/pulls\",\"kind\":\"status\",\"status\":502,\"count\":1}"
check_eq "a change → 201" 201 "$(put_text about.txt 'about, again')"
check "the sync ends: conflict, after a retry" wait_for 60 hist_has '.status == "conflict"'
wait_for 20 idle
check_eq "the first attempt failed opening the pull request (GitHub's 502)" 1 "$(hist_count '.status == "error"')"
check_eq "… and main got exactly one push" 1 "$(refused_to main)"
check_eq "… one pull request" 1 "$(gh GET "/repos/$U/$REPO/pulls?state=open" | jq length)"
curl -s -o /dev/null -X DELETE "$FH/faults"

# ---------------------------------------------------------------- 2. files over the limits, written into the folder
new_project Large create
truncate -s 101M "$WS/big.bin"
truncate -s 60M "$WS/mid.bin"
printf '<h1>edited beside the big files</h1>' > "$WS/index.html"
check_eq "Sync now → 202" 202 "$(call POST "/projects/$PID/sync")"
check "the sync succeeds" wait_for 60 hist_has '.trigger == "manual" and .status == "success"'
wait_for 20 idle
clone ""
check_eq "the small edit beside them reached GitHub" '<h1>edited beside the big files</h1>' "$(cat "$T/c/index.html")"
check "the 101 MiB file is not on GitHub" test ! -e "$T/c/big.bin"
check "the 60 MiB file is not on GitHub" test ! -e "$T/c/mid.bin"
note=$(hist '[.history[] | select(.trigger == "manual")][0].error')
check_match "history names the 101 MiB file" "'big.bin' \(too large: 101 MiB, the limit is 50 MiB\)" "$note"
check_match "history names the 60 MiB file" "'mid.bin' \(too large: 60 MiB, the limit is 50 MiB\)" "$note"
check_eq "… as left_out entries of its files" "big.bin,mid.bin" "$(hist -r '[.history[] | select(.trigger == "manual")][0].files | map(select(.status == "left_out") | .path) | sort | join(",")')"
check_eq "files API: left_out with the reason" "left_out|too large: 60 MiB, the limit is 50 MiB" "$(file_field mid.bin '"\(.status)|\(.left_out)"')"
check_match "files page: left out, too large" 'left out of syncs: too large: 101 MiB, the limit is 50 MiB' "$(curl -s -b "$T/jar" "$GHB_URL/projects/$PID/files")"
check_eq "no push carried a big pack (all pushes < 1 MiB)" 0 "$(pushes | jq '[.pushes[] | select(.bytes > 1048576)] | length')"
check_eq "no push was refused" 0 "$(pushes | jq '[.pushes[] | select(.refused != null)] | length')"
call GET "/projects/$PID/status" >/dev/null
check_eq "the project is in sync (left-out files are not pending)" "SUCCESS 0" "$(jq -r '"\(.status) \(.pending_changes)"' "$T/body")"
check_eq "the API still refuses a 60 MiB upload (413)" 413 "$(head -c $((60 << 20)) /dev/zero > "$T/mid" && call PUT "/projects/$PID/files/up.bin" --data-binary "@$T/mid")"
rm -f "$T/mid"
# A commit made before staging applied the limits (an older ghbridge) holds a 101 MiB file: GitHub refuses
# it once (GH001), and the sync commits the folder again without it, never sending that pack again.
truncate -s 101M "$WS/legacy.bin"
git -C "$WS" add legacy.bin && git -C "$WS" -c user.name=old -c user.email=old@example.com commit -qm "an older commit"
printf 'after the legacy commit' > "$WS/after.txt"
n=$(hist_count '.trigger == "manual" and .status == "success"')
check_eq "Sync now → 202" 202 "$(call POST "/projects/$PID/sync")"
check "the sync succeeds" wait_for 60 hist_has '.trigger == "manual" and .status == "success"' $((n + 1))
wait_for 20 idle
gh001() { pushes | jq '[.pushes[] | select((.refused // "") | contains("pre-receive hook declined"))] | length'; }
check_eq "GitHub refused the old commit once (GH001)" 1 "$(gh001)"
clone ""
check_eq "the folder's new file reached GitHub" 'after the legacy commit' "$(cat "$T/c/after.txt" 2>/dev/null)"
check "the 101 MiB file did not" test ! -e "$T/c/legacy.bin"
note=$(hist -r '[.history[] | select(.trigger == "manual")][0].error')
check_match "history: GitHub's refusal in its words" "GitHub refused the push to main: .*File legacy.bin is 101.00 MB; this exceeds GitHub's file size limit of 100.00 MB GH001: Large files detected" "$note"
check_match "… and the file left out" "'legacy.bin' \(too large: 101 MiB, the limit is 50 MiB\)" "$note"
check_eq "Sync now again → 202" 202 "$(call POST "/projects/$PID/sync")"
check "… succeeds" wait_for 60 hist_has '.trigger == "manual" and .status != "running"' $((n + 2))
wait_for 20 idle
check_eq "… and the refused pack is never sent again" 1 "$(gh001)"

# ---------------------------------------------------------------- 3. Git LFS rules
REPO=lfs-$(date +%s)-$RANDOM
gh POST /user/repos -H 'Content-Type: application/json' -d "{\"name\":\"$REPO\",\"auto_init\":true}" >/dev/null
web_commit .gitattributes $'*.png filter=lfs diff=lfs merge=lfs -text\n[attr]lfsfile filter=lfs diff=lfs merge=lfs -text\n*.psd lfsfile\n' >/dev/null
web_commit docs/.gitattributes $'*.bin filter=lfs diff=lfs merge=lfs -text\n' >/dev/null
POINTER=$'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n'
web_commit img/logo.png "$POINTER" >/dev/null
new_project LFS link
check "the linked repository's files came in" test -f "$WS/img/logo.png"
check_eq "files API: the pointer's path is stored in Git LFS" "true synced" "$(file_field img/logo.png '"\(.lfs) \(.status)"')"
check_eq "… a plain file is not" false "$(file_field README.md .lfs)"
fp=$(curl -s -b "$T/jar" "$GHB_URL/projects/$PID/files/img/logo.png")
check_match "the file page says stored in Git LFS" 'stored in Git LFS' "$fp"
check_match "the files page marks it" 'logo.png</a> <span class="muted">\(stored in Git LFS\)' "$(curl -s -b "$T/jar" "$GHB_URL/projects/$PID/files?dir=img")"
# Since issue 16 ghbridge writes Git LFS (tests/lfs): files under a rule are written and synced as pointers.
check_eq "API: a new .png under the rule → 201" 201 "$(put_text shot.png 'PNG bytes')"
check_eq "API: a sub-folder rule (docs/*.bin) → 201" 201 "$(put_text docs/data.bin 'bytes')"
check_eq "API: a rule through a macro (*.psd) → 201" 201 "$(put_text art/cover.psd 'bytes')"
check "the files sync" wait_for 60 hist_has '.status == "success" and (.files // [] | map(.path) | index("art/cover.psd"))'
wait_for 20 idle
printf 'raw PNG from the host' > "$WS/host.png"
mkdir -p "$WS/docs" && printf 'raw bin' > "$WS/docs/raw.bin"
printf 'host note' > "$WS/host.txt"
mkdir -p "$WS/scans" && printf '*.tif filter=lfs diff=lfs merge=lfs -text\n' > "$WS/scans/.gitattributes" && printf 'TIFF' > "$WS/scans/a.tif"
check_eq "Sync now → 202" 202 "$(call POST "/projects/$PID/sync")"
check "the sync succeeds" wait_for 60 hist_has '.trigger == "manual" and .status == "success"'
wait_for 20 idle
GIT_LFS_SKIP_SMUDGE=1 clone ""
check_eq "the plain host file reached GitHub" 'host note' "$(cat "$T/c/host.txt" 2>/dev/null)"
check_match "a host-written .png is committed as its pointer" '^version https://git-lfs.github.com/spec/v1' "$(git -C "$T/c" show HEAD:host.png 2>/dev/null)"
check_match "… and docs/raw.bin (a sub-folder's rule)" 'oid sha256:' "$(git -C "$T/c" show HEAD:docs/raw.bin 2>/dev/null)"
check_match "… and scans/a.tif (a rule new in the folder, the same sync)" 'oid sha256:' "$(git -C "$T/c" show HEAD:scans/a.tif 2>/dev/null)"
check_eq "… and GitHub's pointer without an object is unchanged" "$(printf '%s' "$POINTER")" "$(git -C "$T/c" show HEAD:img/logo.png)"
check_eq "the folder keeps the content" 'raw PNG from the host' "$(cat "$WS/host.png")"

# ---------------------------------------------------------------- 4. no push access (403): not retried
OCTO=$(curl -s -X POST "$FH/users/octocat/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
REPO=shared-$(date +%s)-$RANDOM
curl -s -o /dev/null -X POST -H "Authorization: Bearer $OCTO" "$FAKEHUB_API_URL/user/repos" -H 'Content-Type: application/json' -d "{\"name\":\"$REPO\",\"auto_init\":true}"
curl -s -o /dev/null -X PUT -H "Authorization: Bearer $OCTO" "$FAKEHUB_API_URL/repos/octocat/$REPO/collaborators/$U" -H 'Content-Type: application/json' -d '{"permission":"push"}'
inv=$(gh GET /user/repository_invitations | jq -r '.[0].id')
gh PATCH "/user/repository_invitations/$inv" -o /dev/null
call POST /projects -H 'Content-Type: application/json' -d '{"name":"Shared"}' >/dev/null
PID=$(jq -r .id "$T/body")
call POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"link\",\"owner\":\"octocat\",\"name\":\"$REPO\"}" >/dev/null
check_eq "linked to octocat's repository as a collaborator" done "$(wait_connect "$KEY" "$PID")"
wait_for 60 hist_has '.trigger == "initial"' && wait_for 20 idle
curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $OCTO" "$FAKEHUB_API_URL/repos/octocat/$REPO/collaborators/$U"
check_eq "push access gone; a change → 201" 201 "$(put_text shared.txt 'no longer allowed')"
check "the sync ends with an error" wait_for 60 hist_has '.trigger == "auto" and .status == "error"'
wait_for 20 idle
check_match "… in GitHub's words" "GitHub refused the push to main: Permission to octocat/$REPO.git denied to $U\\." "$(hist -r '[.history[] | select(.status == "error")][0].error')"
sleep 6
check_eq "… and not retried (one history row, one attempt)" 1 "$(hist_count '.trigger == "auto" or .trigger == "retry"')"
call GET "/projects/$PID/status" >/dev/null
check_match "the project shows it" "Permission to octocat/$REPO.git denied" "$(jq -r .last_error "$T/body")"

# ---------------------------------------------------------------- 5. GitHub's warning (GH001, over 50 MiB) on a push it takes
# project_max_file at 80 MiB: a 60 MiB file goes, and GitHub's warning is in the history. The stack's worker is
# swapped for one with that setting and put back at the end.
WPIDF=${STACK_VAR:-}/run/worker.pid
worker_restart() {
	local pid i
	pid=$(cat "$WPIDF" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	fi
	env "$@" setsid "$BUILD/ghbridge" worker >> "$STACK_VAR/log/worker.log" 2>&1 < /dev/null &
	echo $! > "$WPIDF"
}
if [ -n "${STACK_VAR:-}" ] && [ -f "$WPIDF" ]; then
	trap 'worker_restart; rm -rf "$T"' EXIT
	worker_restart GHBRIDGE_PROJECT_MAX_FILE=$((80 << 20))
	new_project Warned create
	truncate -s 60M "$WS/sixty.bin"
	check_eq "Sync now → 202" 202 "$(call POST "/projects/$PID/sync")"
	check "the sync succeeds" wait_for 60 hist_has '.trigger == "manual" and .status == "success"'
	wait_for 20 idle
	clone ""
	check_eq "the 60 MiB file is on GitHub (project_max_file 80 MiB)" $((60 << 20)) "$(stat -c %s "$T/c/sixty.bin" 2>/dev/null)"
	check_match "history: GitHub's warning in its words" "GitHub warned: .*File sixty.bin is 60.00 MB; this is larger than GitHub's recommended maximum file size of 50.00 MB" \
		"$(hist -r '[.history[] | select(.trigger == "manual")][0].error')"
else
	skip "GitHub's 50 MiB warning" "no stack worker to swap"
fi
finish
