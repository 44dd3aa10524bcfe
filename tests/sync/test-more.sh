#!/usr/bin/env bash
# tests/sync/test-more.sh: the periodic check (GitHub's branch by ETag, files the host platform wrote),
# pulling on and off, a 1,000-file project, fakehub faults during syncs, and refused GitHub tokens.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "more sync tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "more sync tests" "fakehub is not running"; finish; exit; fi
if [ -z "${STACK_VAR:-}" ] || [ ! -f "$STACK_VAR/run/worker.pid" ]; then skip "more sync tests" "no stack worker to swap"; finish; exit; fi

T=$(mktemp -d)
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=more$$                  # a fakehub user of our own: its requests, rate limit and grants are this test's
POLL=2                    # seconds between periodic checks in this test
GIT_TIMEOUT=4             # seconds of silence before a git fetch/push gives up

# The stack's worker checks projects every 60 s and waits 120 s on a silent GitHub; this test swaps
# it for one with short intervals, and puts the stack's own back when it ends.
WPIDF=$STACK_VAR/run/worker.pid
# A second fcgi behind its own nginx on APP_PORT, for the GitHub App client (section 9): tests/lib.sh host_start.
app_stack_start() {
	host_start "$APP_VAR" "$APP_PORT" fcgi GHBRIDGE_PROCESSES=1 GHBRIDGE_PUBLIC_URL="http://127.0.0.1:$APP_PORT" \
		GHBRIDGE_GITHUB_CLIENT_ID="$APP_ID" GHBRIDGE_GITHUB_CLIENT_SECRET="$APP_SECRET" GHBRIDGE_GITHUB_APP_KIND=app
}
app_stack_stop() { [ -n "${APP_VAR:-}" ] && host_stop "$APP_VAR"; }
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
cleanup() {
	app_stack_stop
	curl -s -X DELETE "$FH/faults" >/dev/null
	curl -s -X POST "$FH/clock" -H 'Content-Type: application/json' -d '{"offset_seconds":0}' >/dev/null
	worker_restart
	rm -rf "$T"
}
trap cleanup EXIT
# Expiring tokens need a GitHub App client; the stack's is an OAuth App. Section 9 signs a user in
# through a second fcgi (and nginx) set up for an App registered here; the swapped worker refreshes
# with the App's credentials (OAuth App tokens never need them: they do not expire).
APP_ID=Iv1.more$$
APP_SECRET=$(openssl rand -hex 20)
APP_PORT=$((GHB_PORT + 5))
APP_VAR=$STACK_VAR/more-app
curl -s -o /dev/null -X POST "$FH/clients" -H 'Content-Type: application/json' \
	-d "{\"client_id\":\"$APP_ID\",\"client_secret\":\"$APP_SECRET\",\"kind\":\"app\",\"callback_url\":\"http://127.0.0.1:$APP_PORT/oauth/callback\"}"
worker_restart GHBRIDGE_PROJECT_POLL_SECONDS=$POLL GHBRIDGE_GIT_TIMEOUT_SECONDS=$GIT_TIMEOUT \
	GHBRIDGE_GITHUB_CLIENT_ID=$APP_ID GHBRIDGE_GITHUB_CLIENT_SECRET=$APP_SECRET GHBRIDGE_GITHUB_APP_KIND=app

curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"More Tests\"}" >/dev/null
signin "$T/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name more --scopes projects:read,projects:write,sync 2>&1 | tail -1)
check_match "API key for a user of this test" '^ghb_' "$KEY"
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)

# call METHOD PATH [curl args]: body to $T/body, prints the status.
call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 60 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
json() { call PATCH "$1" -H 'Content-Type: application/json' -d "$2"; }
put_text() { printf '%s' "$2" > "$T/put"; call PUT "/projects/$PID/files/$1" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
file_is() { call GET "/projects/$PID/files/$1" >/dev/null 2>&1 && [ "$(cat "$T/body")" = "$2" ]; }
# hist_count FILTER: history rows (newest 100) matching a jq select() expression.
hist_count() { call GET "/projects/$PID/history?limit=100" >/dev/null; jq "[.history[] | select($1)] | length" "$T/body"; }
hist_has() { [ "$(hist_count "$1")" -ge "${2:-1}" ]; }
status_is() { call GET "/projects/$PID/status" >/dev/null; [ "$(jq -r .status "$T/body")" = "$1" ]; }
idle() { call GET "/projects/$PID/status" >/dev/null; local s; s=$(jq -r .status "$T/body"); [ "$s" != PENDING ] && [ "$s" != SYNCING ]; }
web_commit() { # PATH CONTENT: a commit made in GitHub's web editor
	curl -s -X POST "$FH/repos/$U/$REPO/commits" -H 'Content-Type: application/json' \
		-d "$(jq -nc --arg who "$U" --arg p "$1" --arg c "$2" '{"as":$who,path:$p,content:$c,message:("web edit " + $p)}')" | jq -r .sha
}
remote_head() { git ls-remote "$CLONE" "refs/heads/${1:-main}" | cut -f1; }
clone() { rm -rf "$T/c"; git clone -q ${2:+-b "$2"} "$CLONE" "$T/c" 2>"$T/clone.err"; }
ws() { echo "$WS/$1"; }
max_request_id() { curl -s "$FH/requests?since_id=${1:-0}" | jq '[.[].id] | max // 0'; }

# ---------------------------------------------------------------- a connected project
check_eq "create project → 201" 201 "$(call POST /projects -H 'Content-Type: application/json' -d '{"name":"More"}')"
PID=$(jq -r .id "$T/body")
P1=$PID
WS=$(jq -r .workspace "$T/body")
put_text index.html '<h1>more</h1>' >/dev/null
REPO=more-$(date +%s)-$RANDOM
check_eq "connect with a new repository → 202" 202 "$(call POST "/projects/$PID/repository" -H 'Content-Type: application/json' \
	-d "{\"mode\":\"create\",\"name\":\"$REPO\",\"private\":true}")"
check_eq "the connect job finishes" done "$(wait_connect "$KEY" "$PID")"
CLONE=${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$REPO.git
check "initial sync → SUCCESS" wait_for 60 hist_has '.trigger == "initial" and .status == "success"'
wait_for 20 idle
BR=$(call GET "/projects/$PID" >/dev/null; jq -r .settings.sync_branch "$T/body")
gh() { local m=$1 p=$2 tok=$3; shift 3; curl -s -X "$m" -H "Authorization: Bearer $tok" "$@" "$FAKEHUB_API_URL$p"; }
# With a public URL ghbridge registers a repository webhook; this test is about doing without one,
# so the hook goes (once registered) and GitHub's changes can only arrive through the check.
hooks() { gh GET "/repos/$U/$REPO/hooks" "$TOKEN" | jq -r '.[].id' 2>/dev/null; }
wait_for 15 bash -c "[ -n \"\$(curl -s -H 'Authorization: Bearer $TOKEN' '$FAKEHUB_API_URL/repos/$U/$REPO/hooks' | jq -r '.[].id')\" ]"
for h in $(hooks); do gh DELETE "/repos/$U/$REPO/hooks/$h" "$TOKEN" >/dev/null; done
check_eq "no webhook on the repository" "" "$(hooks)"

# ---------------------------------------------------------------- 1. GitHub's changes without a webhook
H0=$(max_request_id)
SHA=$(web_commit from-web.txt 'written on GitHub')
check_match "web-editor commit on fakehub" '^[0-9a-f]{40}$' "$SHA"
check "the periodic check pulls it into the workspace (no sync requested)" wait_for 30 file_is from-web.txt 'written on GitHub'
check "history: a pull with that commit" wait_for 10 hist_has ".trigger == \"pull\" and .status == \"success\" and .commit_sha == \"$SHA\""
check_eq "the pull lists the file" from-web.txt "$(call GET "/projects/$PID/history?limit=100" >/dev/null;
	jq -r "[.history[] | select(.trigger == \"pull\")][0].files | map(.path) | join(\",\")" "$T/body")"
check_eq "no sync was asked for (no manual rows in the history)" 0 "$(hist_count '.trigger == "manual"')"
check_eq "and no webhook delivered the push" 0 "$(curl -s "$FH/deliveries?repo=$U/$REPO&event=push" | jq 'length')"
check_eq "a pull pushes nothing (GitHub's head is the web commit)" "$SHA" "$(remote_head "$BR")"
# Let a few checks go by with nothing changing on GitHub, then read fakehub's log and rate counter.
wait_for 30 idle
sleep $((POLL * 2))
USED0=$(curl -s -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/rate_limit" | jq .rate.used)
H1=$(max_request_id)
sleep $((POLL * 3 + 1))
USED1=$(curl -s -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/rate_limit" | jq .rate.used)
curl -s "$FH/requests?since_id=$H0&login=$U" > "$T/log.json"
checks=$(jq --arg p "/repos/$U/$REPO/branches/$BR" '[.[] | select(.method == "GET" and (.path | endswith($p)))]' "$T/log.json")
check_match "the check is GET …/branches/$BR (with 200 after a change)" '^[1-9]' \
	"$(printf '%s' "$checks" | jq '[.[] | select(.status == 200)] | length')"
n304=$(printf '%s' "$checks" | jq --argjson h "$H1" '[.[] | select(.status == 304 and .id > $h)] | length')
check_match "unchanged branch → 304 in fakehub's request log ($n304 in $((POLL * 3 + 1)) s)" '^[2-9]|^[1-9][0-9]' "$n304"
check_eq "those 304s did not count against the rate limit" "$USED0" "$USED1"
check_eq "the checks wrote nothing to GitHub" 0 "$(jq --arg r "/$U/$REPO" '[.[] | select(.method != "GET" and (.path | contains($r)))] | length' \
	<(curl -s "$FH/requests?since_id=$H1&login=$U"))"

# ---------------------------------------------------------------- 2. a pull brings GitHub's changes in and nothing out
check_eq "auto-sync off → 200" 200 "$(json "/projects/$PID/settings" '{"auto_sync":false}')"
put_text local-only.txt 'not pushed yet' >/dev/null
SHA2=$(web_commit second-web.txt 'second from GitHub')
check "GitHub's second commit pulled" wait_for 30 file_is second-web.txt 'second from GitHub'
wait_for 20 idle
check_eq "the pull left GitHub's branch alone" "$SHA2" "$(remote_head "$BR")"
check_eq "the local file is still unsynced" new "$(call GET "/projects/$PID/files" >/dev/null; jq -r '.files[] | select(.path == "local-only.txt") | .status' "$T/body")"
n=$(hist_count '.trigger == "auto"')
sleep $((POLL * 2 + 1))
check_eq "auto-sync off: the check queues no sync for it" "$n" "$(hist_count '.trigger == "auto"')"

# ---------------------------------------------------------------- 3. files the host platform writes into the folder
check_eq "auto-sync on → 200" 200 "$(json "/projects/$PID/settings" '{"auto_sync":true}')"
check "turning auto-sync on syncs what waited" wait_for 30 hist_has '.trigger == "auto" and .status == "success"'
wait_for 20 idle
clone "" "$BR"
check "local-only.txt reached GitHub" test -f "$T/c/local-only.txt"
n=$(hist_count '.trigger == "auto" and .status == "success"')
mkdir -p "$(ws host/deep)"
printf 'written by the host platform\n' > "$(ws host/deep/page.html)"
printf 'second host file\n' > "$(ws host/other.txt)"
check "a file written into the workspace folder is noticed and synced" wait_for 30 hist_has '.trigger == "auto" and .status == "success"' $((n + 1))
wait_for 20 idle
clone "" "$BR"
check_eq "host-written files on GitHub" "written by the host platform|second host file" "$(cat "$T/c/host/deep/page.html")|$(cat "$T/c/host/other.txt")"
check_eq "the host-written files are synced" synced "$(call GET "/projects/$PID/files" >/dev/null;
	jq -r '[.files[] | select(.path | startswith("host/")) | .status] | unique | join(",")' "$T/body")"
n=$(hist_count '.trigger == "auto"')
sleep $((POLL * 2 + 1))
check_eq "nothing new in the folder: no further sync" "$n" "$(hist_count '.trigger == "auto"')"
rm -f "$(ws host/other.txt)"
check "a file deleted from the folder is synced as a deletion" wait_for 30 hist_has '.trigger == "auto" and .status == "success"' $((n + 1))
wait_for 20 idle
clone "" "$BR"
check "deletion on GitHub" test ! -e "$T/c/host/other.txt"

# ---------------------------------------------------------------- 4. pulling off: GitHub's changes stay out, nothing is overwritten
check_eq "pull off → 200" 200 "$(json "/projects/$PID/settings" '{"pull_enabled":false,"auto_sync":false}')"
sleep 1
H2=$(max_request_id)
SHA3=$(web_commit off-web.txt 'GitHub while pull is off')
sleep $((POLL * 3 + 1))
check "pull off: GitHub's change does not reach the workspace" test ! -e "$(ws off-web.txt)"
check_eq "pull off: no branch checks" 0 "$(curl -s "$FH/requests?since_id=$H2&login=$U" | jq --arg r "/repos/$U/$REPO/branches/" '[.[] | select(.path | contains($r))] | length')"
put_text panel-while-off.txt 'made here while pull is off' >/dev/null
n=$(hist_count 'true')
call POST "/projects/$PID/sync" >/dev/null
check "pull off + both sides changed → CONFLICT" wait_for 30 status_is CONFLICT
call GET "/projects/$PID/status" >/dev/null
UB=$(jq -r .conflict_branch "$T/body")
check_match "the local side is on ghbridge/unmerged-…" '^ghbridge/unmerged-' "$UB"
check_match "with a pull request" '/pull/[0-9]+' "$(jq -r .conflict_url "$T/body")"
check_match "the reason is given" 'pulling them is off' "$(jq -r .last_error "$T/body")"
check_eq "GitHub's branch not overwritten" "$SHA3" "$(remote_head "$BR")"
clone "" "$UB"
check "the side branch has the project's file" test -f "$T/c/panel-while-off.txt"
check "the side branch does not have GitHub's new file" test ! -e "$T/c/off-web.txt"
check "the workspace still lacks GitHub's file" test ! -e "$(ws off-web.txt)"
check_eq "pull on → 200" 200 "$(json "/projects/$PID/settings" '{"pull_enabled":true,"auto_sync":true}')"
check "pull on again: the check brings GitHub's change in" wait_for 30 file_is off-web.txt 'GitHub while pull is off'
check "and the merge reaches GitHub" wait_for 30 bash -c "git ls-remote '$CLONE' 'refs/heads/$BR' | grep -qv '^$SHA3'"
wait_for 30 idle
clone "" "$BR"
check_eq "both sides on the sync branch" "yes|yes" "$([ -f "$T/c/off-web.txt" ] && echo yes)|$([ -f "$T/c/panel-while-off.txt" ] && echo yes)"
check_eq "project back to SUCCESS" SUCCESS "$(call GET "/projects/$PID/status" >/dev/null; jq -r .status "$T/body")"

# ---------------------------------------------------------------- 5. link an existing repository: search and pages
L=lnk$RANDOM
for i in $(seq -w 1 35); do gh POST /user/repos "$TOKEN" -d "{\"name\":\"$L-$i\"}" >/dev/null; done
HTOK=$(curl -s -X POST "$FH/users/hubot/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
# Read-only access exists only on an organisation's repository (a personal account's collaborators all get write,
# docs "Add a repository collaborator"): the pull one is in an organisation hubot runs.
LORG=lnkorg$L
curl -s -o /dev/null -X POST "$FH/orgs" -H 'Content-Type: application/json' -d "{\"login\":\"$LORG\"}"
curl -s -o /dev/null -X PUT "$FH/orgs/$LORG/members/hubot" -H 'Content-Type: application/json' -d '{"role":"admin"}'
for perm in pull push; do
	own=hubot; [ $perm = pull ] && own=$LORG
	if [ $own = hubot ]; then gh POST /user/repos "$HTOK" -d "{\"name\":\"$L-hubot-$perm\"}" >/dev/null
	else gh POST "/orgs/$own/repos" "$HTOK" -d "{\"name\":\"$L-hubot-$perm\"}" >/dev/null; fi
	inv=$(gh PUT "/repos/$own/$L-hubot-$perm/collaborators/$U" "$HTOK" -d "{\"permission\":\"$perm\"}" | jq -r .id)
	gh PATCH "/user/repository_invitations/$inv" "$TOKEN" >/dev/null
done
curl -s -X POST "$FH/repos/hubot/$L-hubot-push/commits" -H 'Content-Type: application/json' \
	-d '{"as":"hubot","path":"README.md","content":"hubot was here\n","message":"start"}' >/dev/null
# The list is a cache a job fills: the repositories just made show once it has been refreshed.
check_eq "refresh the repository list → 202" 202 "$(call POST /github/repos/refresh)"
repos_ready() { [ "$(call GET "/github/repos?q=$L")" = 200 ] && [ "$(jq -r .state "$T/body")" = ready ]; }
check "the refresh job fills the list" wait_for 60 repos_ready
check_eq "GET /github/repos?q= → 200" 200 "$(call GET "/github/repos?q=$L")"
check_eq "page 1: 30 of the 36 matches, next page 2" "30 1 2" "$(jq -r '"\(.repositories | length) \(.page) \(.next_page)"' "$T/body")"
check_eq "alphabetical by owner/name" "hubot/$L-hubot-push $U/$L-01" "$(jq -r '"\(.repositories[0].full_name) \(.repositories[1].full_name)"' "$T/body")"
call GET "/github/repos?q=$L&page=2" >/dev/null
check_eq "page 2: the other 6, no next page" "6 null $U/$L-35" "$(jq -r '"\(.repositories | length) \(.next_page) \(.repositories[5].full_name)"' "$T/body")"
call GET "/github/repos?q=$L-HUBOT" >/dev/null
check_eq "search is case-insensitive; read-only access is left out" "hubot/$L-hubot-push" "$(jq -r '[.repositories[].full_name] | join(",")' "$T/body")"
check_eq "each item says owner, name, private" "hubot $L-hubot-push false" "$(jq -r '.repositories[0] | "\(.owner) \(.name) \(.private)"' "$T/body")"
check_eq "no match → empty list" "0 null" "$(call GET "/github/repos?q=zz-nothing-$L" >/dev/null; jq -r '"\(.repositories | length) \(.next_page)"' "$T/body")"
check_eq "page=0 → 400" 400 "$(call GET "/github/repos?page=0")"
check_eq "page=x → 400" 400 "$(call GET "/github/repos?page=x")"
check_eq "a 101-character search → 400" 400 "$(call GET "/github/repos?q=$(printf 'a%.0s' $(seq 1 101))")"
check_eq "without a key → 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$API/github/repos")"
CSRF=$(csrf_of "$T/jar" /projects)
r=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$T/jar" -X POST "$GHB_URL/projects" --data-urlencode "csrf=$CSRF" --data-urlencode "name=Linked")
P2=${r##*/}
pg=$(curl -s -b "$T/jar" "$GHB_URL/projects/$P2/connect?q=$L")
check_eq "connect page lists 30 repositories with a Link button" 30 "$(printf '%s' "$pg" | grep -c 'aria-label="Link ')"
check_match "and a link to the next page, keeping the search" "connect\?page=2&amp;q=$L#link" "$pg"
check_match "page 2 on the panel" "$U/$L-35" "$(curl -s -b "$T/jar" "$GHB_URL/projects/$P2/connect?q=$L&page=2")"
r=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -X POST "$GHB_URL/projects/$P2/connect" --data-urlencode "csrf=$CSRF" \
	--data-urlencode mode=link --data-urlencode owner=hubot --data-urlencode "name=$L-hubot-push")
check_eq "Link from the list → 303" 303 "$r"
PID=$P2
check_eq "the connect job finishes" done "$(wait_connect "$KEY" "$PID")"
check "linking pulls the repository's content into the project first" wait_for 60 file_is README.md 'hubot was here'
check_eq "linked project shows the repository" "hubot/$L-hubot-push" "$(call GET "/projects/$P2" >/dev/null; jq -r .repository.full_name "$T/body")"

# ---------------------------------------------------------------- 6. a 1,000-file project
check_eq "create a second project → 201" 201 "$(call POST /projects -H 'Content-Type: application/json' -d '{"name":"Thousand"}')"
PID=$(jq -r .id "$T/body"); P3=$PID; WS=$(jq -r .workspace "$T/body")
json "/projects/$PID/settings" '{"auto_sync":false}' >/dev/null
R3=thousand-$(date +%s)-$RANDOM
call POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"$R3\"}" >/dev/null
check "connected (empty repository, empty project)" wait_for 60 hist_has '.trigger == "initial" and .status != "running"'
wait_for 20 idle
# Written straight into the folder, 10 folders of 100, text and binary, up to 40 KB.
for d in $(seq 0 9); do
	mkdir -p "$WS/dir$d"
	for f in $(seq 0 99); do
		if [ $((f % 10)) -eq 0 ]; then head -c $(( (d * 100 + f) * 40 + 1 )) /dev/urandom > "$WS/dir$d/blob$f.bin"
		else printf 'file %d/%d\n%s\n' "$d" "$f" "$(seq 1 $((f % 7 + 1)))" > "$WS/dir$d/page$f.txt"; fi
	done
done
(cd "$WS" && find . -path ./.git -prune -o -type f -print | sed 's|^\./||' | sort) > "$T/want.txt"
check_eq "1,000 files in the workspace" 1000 "$(wc -l < "$T/want.txt")"
(cd "$WS" && xargs -a "$T/want.txt" -d '\n' sha256sum) > "$T/want.sums"
check_eq "Sync now → 202" 202 "$(call POST "/projects/$PID/sync")"
J=$(jq -r .job_id "$T/body")
check "the 1,000-file sync → success" wait_for 120 hist_has ".job_id == $J and .status == \"success\""
check_eq "one commit with 1,000 files" 1000 "$(call GET "/projects/$PID/history?limit=1" >/dev/null; jq -r '.history[0].files_changed' "$T/body")"
CLONE3=${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$R3.git
rm -rf "$T/c3" && git clone -q "$CLONE3" "$T/c3" 2>/dev/null
check_eq "cloned back: exactly those files" "$(cat "$T/want.txt")" "$(cd "$T/c3" && git ls-files | sort)"
check "byte for byte" bash -c "cd '$T/c3' && sha256sum --quiet -c '$T/want.sums'"
check_eq "in one commit" 1 "$(cd "$T/c3" && git rev-list --count HEAD)"
rm -rf "$T/c3"

# ---------------------------------------------------------------- 7. GitHub faults during a sync
PID=$P1; WS=$(call GET "/projects/$PID" >/dev/null; jq -r .workspace "$T/body")
json "/projects/$PID/settings" '{"auto_sync":false}' >/dev/null
wait_for 30 idle
fault() { curl -s -o /dev/null -w '%{http_code}' -X POST "$FH/faults" -H 'Content-Type: application/json' -d "$1"; }
# sync_with_fault NAME FAULT_JSON FILE: one manual sync with the fault armed; leaves the job's rows in $T/rows.
sync_with_fault() {
	curl -s -X DELETE "$FH/faults" >/dev/null
	put_text "$3" "$1" >/dev/null
	fault "$2" >/dev/null
	call POST "/projects/$PID/sync" >/dev/null
	local j; j=$(jq -r .job_id "$T/body")
	wait_for 90 hist_has ".job_id == $j and (.status == \"success\" or .status == \"conflict\")"
	call GET "/projects/$PID/history?limit=100" >/dev/null
	jq -c "[.history[] | select(.job_id == $j)] | sort_by(.id)" "$T/body" > "$T/rows"
	wait_for 30 idle
}
rows() { jq -r 'map("\(.attempt):\(.status)") | join(" ")' "$T/rows"; }
GITP="/$U/$REPO*"

sync_with_fault "hang on fetch" "{\"method\":\"GET\",\"path\":\"$GITP/info/refs\",\"kind\":\"hang\",\"seconds\":$((GIT_TIMEOUT * 2 + 2)),\"count\":1}" fault-hang-fetch.txt
check_eq "GitHub hangs on fetch → timed out, retried → success" "1:error 2:success" "$(rows)"
check_match "the first attempt says it timed out" 'timed out' "$(jq -r '.[0].error' "$T/rows")"
sync_with_fault "hang on push" "{\"method\":\"POST\",\"path\":\"$GITP/git-receive-pack\",\"kind\":\"hang\",\"seconds\":$((GIT_TIMEOUT * 2 + 2)),\"count\":1}" fault-hang-push.txt
check_eq "GitHub hangs on push → timed out, retried → success" "1:error 2:success" "$(rows)"
check_eq "the retry reports the files the lost push carried" "fault-hang-push.txt" "$(jq -r '.[1].files | map(.path) | join(",")' "$T/rows")"
sync_with_fault "rate limit on push" "{\"method\":\"POST\",\"path\":\"$GITP/git-receive-pack\",\"kind\":\"rate_limit\",\"seconds\":3,\"count\":1}" fault-rate.txt
check_eq "primary rate limit (403) on push → retried → success" "1:error 2:success" "$(rows)"
sync_with_fault "secondary rate limit on push" "{\"method\":\"POST\",\"path\":\"$GITP/git-receive-pack\",\"kind\":\"secondary_rate_limit\",\"status\":429,\"seconds\":2,\"count\":1}" fault-429.txt
check_eq "secondary rate limit (429) on push → retried → success" "1:error 2:success" "$(rows)"
sync_with_fault "502 on fetch" "{\"method\":\"GET\",\"path\":\"$GITP/info/refs\",\"kind\":\"status\",\"status\":502,\"count\":1}" fault-502.txt
check_eq "a 502 while fetching → retried → success" "1:error 2:success" "$(rows)"
curl -s -X DELETE "$FH/faults" >/dev/null
clone "" "$BR"
check_eq "every faulted sync's file is on GitHub" "fault-429.txt fault-502.txt fault-hang-fetch.txt fault-hang-push.txt fault-rate.txt" \
	"$(cd "$T/c" && ls fault-* | tr '\n' ' ' | sed 's/ $//')"
curl -s -X DELETE "$FH/faults" >/dev/null

# A rate limit on the REST calls of a conflict (the pull request) defers the job to the time GitHub names.
put_text index.html 'panel says A' >/dev/null
web_commit index.html 'GitHub says B' >/dev/null
check "a pull that would overwrite an unsynced file waits" wait_for 30 hist_has '.trigger == "pull" and ((.error // "") | test("unsynced changes"))'
check_eq "the unsynced file is untouched" 'panel says A' "$(cat "$WS/index.html")"
sync_with_fault "rate limit on the pull request" "{\"method\":\"POST\",\"path\":\"/api/v3/repos/$U/$REPO/pulls\",\"kind\":\"rate_limit\",\"seconds\":4,\"count\":1}" index.html
check_eq "primary rate limit on opening the PR → deferred → CONFLICT with the PR" "1:error 2:conflict" "$(rows)"
check_match "the deferred attempt says when it goes on" "rate limit: the pull request for ghbridge/conflict-.* is opened after" "$(jq -r '.[0].error' "$T/rows")"
gap=$(jq -r '(.[1].started_at | strptime("%Y-%m-%d %H:%M:%S") | mktime) - (.[0].started_at | strptime("%Y-%m-%d %H:%M:%S") | mktime)' "$T/rows")
check_match "and waited for the reset (${gap} s)" '^([3-9]|[1-9][0-9])$' "$gap"
check_match "a pull request exists" '/pull/[0-9]+' "$(call GET "/projects/$PID/status" >/dev/null; jq -r .conflict_url "$T/body")"
sync_with_fault "secondary limit on finding the PR" "{\"method\":\"GET\",\"path\":\"/api/v3/repos/$U/$REPO/pulls\",\"kind\":\"secondary_rate_limit\",\"seconds\":2,\"count\":1}" conflict-more.txt
check_eq "secondary rate limit (Retry-After) while finding the PR → deferred → CONFLICT" "1:error 2:conflict" "$(rows)"
check_eq "still one pull request for the conflict" 1 "$(gh GET "/repos/$U/$REPO/pulls?state=open" "$TOKEN" | jq '[.[] | select(.head.ref | startswith("ghbridge/conflict-"))] | length')"
curl -s -X DELETE "$FH/faults" >/dev/null

# ---------------------------------------------------------------- 8. a revoked GitHub grant
PID=$P3; WS=$(call GET "/projects/$PID" >/dev/null; jq -r .workspace "$T/body")
CID=$GHBRIDGE_GITHUB_CLIENT_ID
GTOK=$(curl -s "$FH/users/$U/tokens" | jq -r --arg c "$CID" '[.[] | select(.client_id == $c and .active)] | last | .token')
check_eq "the user revokes ghbridge's grant on GitHub → 204" 204 "$(curl -s -o /dev/null -w '%{http_code}' -u "$CID:$GHBRIDGE_GITHUB_CLIENT_SECRET" \
	-X DELETE "$FAKEHUB_API_URL/applications/$CID/grant" -d "{\"access_token\":\"$GTOK\"}")"
put_text after-revoke.txt 'x' >/dev/null
call POST "/projects/$PID/sync" >/dev/null
J=$(jq -r .job_id "$T/body")
check "sync with a revoked grant → ERROR" wait_for 60 status_is ERROR
check_match "the error says: Reconnect GitHub" 'Reconnect GitHub' "$(call GET "/projects/$PID/status" >/dev/null; jq -r .last_error "$T/body")"
check_eq "the job is dead at once (no retries)" "dead 1" "$(call GET "/jobs/$J" >/dev/null; jq -r '"\(.state) \(.attempts)"' "$T/body")"
check_match "the account page asks to reconnect" 'GitHub refused the token.*|Reconnect GitHub' "$(curl -s -b "$T/jar" "$GHB_URL/account" | tr '\n' ' ')"
H3=$(max_request_id)
sleep $((POLL * 3))
check_eq "no more calls to GitHub with the refused token" 0 "$(curl -s "$FH/requests?since_id=$H3" | jq --arg u "/$U/" '[.[] | select(.path | contains($u))] | length')"
signin "$T/jar" "$U" >/dev/null
# Signing in again resumes the stopped sync by itself (trigger retry, issue 12); no Sync now needed.
check "after signing in again, the sync resumes by itself → success" wait_for 60 hist_has '.trigger == "retry" and .status == "success"'

# ---------------------------------------------------------------- 9. an expired GitHub App token, refreshed during a sync
if ! command -v nginx >/dev/null || ! app_stack_start; then
	skip "expired GitHub App token refreshed during a sync" "could not start the GitHub App fcgi/nginx (see $APP_VAR/log)"
else
	A=app$$
	curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$A\"}"
	(GHB_URL=http://127.0.0.1:$APP_PORT; signin "$T/jar-app" "$A" >/dev/null)
	check_match "signed in with the GitHub App: an expiring token" 'GitHub App.*Token expires: [0-9]' \
		"$(curl -s -b "$T/jar-app" "http://127.0.0.1:$APP_PORT/account" | tr '\n' ' ')"
	KEY_A=$("$BUILD/ghbridge" apikey create --user "$A" --name more --scopes projects:read,projects:write,sync 2>&1 | tail -1)
	KEY_U=$KEY; KEY=$KEY_A
	call POST /projects -H 'Content-Type: application/json' -d '{"name":"App"}' >/dev/null
	PID=$(jq -r .id "$T/body")
	json "/projects/$PID/settings" '{"auto_sync":false}' >/dev/null
	put_text page.txt 'before expiry' >/dev/null
	RA=app-$(date +%s)-$RANDOM
	check_eq "connect (the App user's token) → 202" 202 "$(call POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"$RA\"}")"
	check_eq "… the connect job finishes" done "$(wait_connect "$KEY" "$PID")"
	check "first sync → success" wait_for 60 hist_has '.trigger == "initial" and .status == "success"'
	wait_for 20 idle
	tokens() { curl -s "$FH/users/$A/tokens" | jq -r --arg c "$APP_ID" "[.[] | select(.client_id == \$c and .kind == \"$1\" and .active)] | length"; }
	T0=$(curl -s "$FH/users/$A/tokens" | jq -r --arg c "$APP_ID" '[.[] | select(.client_id == $c and (.token | startswith("ghu_")) and .active)] | last | .token')
	# GitHub's clock (fakehub's) moves 9 hours on; ghbridge still believes the 8-hour token is fresh.
	curl -s -o /dev/null -X POST "$FH/clock" -H 'Content-Type: application/json' -d '{"advance_seconds":32400}'
	check_eq "at GitHub the token has expired" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $T0" "$FAKEHUB_API_URL/user")"
	put_text page.txt 'after expiry' >/dev/null
	call POST "/projects/$PID/sync" >/dev/null
	J=$(jq -r .job_id "$T/body")
	check "sync with the expired token → success" wait_for 60 hist_has ".job_id == $J and .status == \"success\""
	check_eq "in one attempt (refreshed on GitHub's 401, transparently)" "1" "$(call GET "/projects/$PID/history?limit=100" >/dev/null; jq -r "[.history[] | select(.job_id == $J)] | map(.attempt) | join(\",\")" "$T/body")"
	T1=$(curl -s "$FH/users/$A/tokens" | jq -r --arg c "$APP_ID" '[.[] | select(.client_id == $c and (.token | startswith("ghu_")) and .active)] | last | .token')
	check "a new access token was issued by a refresh" test -n "$T1" -a "$T1" != "$T0" -a "$T1" != null
	rm -rf "$T/ca" && git clone -q "${FAKEHUB_URL/http:\/\//http://x-access-token:$T1@}/$A/$RA.git" "$T/ca" 2>/dev/null
	check_eq "the change is on GitHub" 'after expiry' "$(cat "$T/ca/page.txt" 2>/dev/null)"
	# A revoked App grant takes the refresh token with it: that is a reconnect.
	check_eq "the App grant is revoked → 204" 204 "$(curl -s -o /dev/null -w '%{http_code}' -u "$APP_ID:$APP_SECRET" \
		-X DELETE "$FAKEHUB_API_URL/applications/$APP_ID/grant" -d "{\"access_token\":\"$T1\"}")"
	put_text page.txt 'after revocation' >/dev/null
	call POST "/projects/$PID/sync" >/dev/null
	check "sync with a revoked App grant → ERROR" wait_for 60 status_is ERROR
	check_match "saying: Reconnect GitHub" 'Reconnect GitHub' "$(call GET "/projects/$PID/status" >/dev/null; jq -r .last_error "$T/body")"
	curl -s -o /dev/null -X POST "$FH/clock" -H 'Content-Type: application/json' -d '{"offset_seconds":0}'
	KEY=$KEY_U
fi

finish
