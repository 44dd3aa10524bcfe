#!/usr/bin/env bash
# tests/sync/test-connect.sh: connecting a project is a job (the request never waits for GitHub): success,
# progress on the page, a taken name, no push access, a rate limit, another user's project, the job run twice,
# the cached "Link" list (empty → refresh job → list), and reconnecting to a different repository.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "connect tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "connect tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
FH=$FAKEHUB_URL/_fakehub
trap 'rm -rf "$T"; curl -s -o /dev/null -X DELETE "$FH/faults"' EXIT
API=$GHB_URL/api/v1
U=octocat

signin "$T/jar" $U >/dev/null
signin "$T/jar-hubot" hubot >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user $U --name connect-test --scopes projects:read,projects:write,sync 2>&1 | tail -1)
KEY2=$("$BUILD/ghbridge" apikey create --user hubot --name connect-test --scopes projects:read,projects:write,sync 2>&1 | tail -1)

call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
call2() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEY2" "$@" "$API$p"; }
jcall() { call "$1" "$2" -H 'Content-Type: application/json' -d "$3"; }
put_text() { printf '%s' "$2" > "$T/put"; call PUT "/projects/$PID/files/$1" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
file_is() { call GET "/projects/$PID/files/$1" >/dev/null 2>&1 && [ "$(cat "$T/body")" = "$2" ]; }
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
# conn JQ: a field of the project's status (GET …/status) as jq prints it.
conn() { call GET "/projects/$PID/status" >/dev/null; jq -r "$1" "$T/body"; }
hist_has() { call GET "/projects/$PID/history?limit=100" >/dev/null; [ "$(jq "[.history[] | select($1)] | length" "$T/body")" -ge 1 ]; }
idle() { local s; s=$(conn .status); [ "$s" = SUCCESS ] || [ "$s" = ERROR ] || [ "$s" = CONFLICT ]; }
fault() { curl -s -o /dev/null -X POST "$FH/faults" -H 'Content-Type: application/json' -d "$1"; }
connect_jobs() { q "SELECT count(*) FROM jobs WHERE kind = 'connect' AND project_id = $1"; }
# page PATH / post PATH ARGS: the panel as octocat.
page() { curl -s -b "$T/jar" "$GHB_URL$1"; }
post() { local p=$1; shift; curl -s -o "$T/page" -w '%{http_code} %{redirect_url}' -b "$T/jar" -X POST "$GHB_URL$p" "$@"; }
# requeue: runs the project's connect job again, as if its worker died before recording the outcome.
requeue() {
	local j
	j=$(q "SELECT job_id FROM project_connects WHERE project_id = $PID")
	q "UPDATE project_connects SET state = 'queued', step = NULL WHERE project_id = $PID" >/dev/null
	q "UPDATE jobs SET state = 'queued', run_after = now(), attempts = 0 WHERE id = $j" >/dev/null
}

TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
gh() { local m=$1 p=$2 tok=$3; shift 3; curl -s -X "$m" -H "Authorization: Bearer $tok" "$@" "$FAKEHUB_API_URL$p"; }
clone_url() { echo "${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$1.git"; }
CSRF=$(csrf_of "$T/jar" /projects)

# ---------------------------------------------------------------- 1. connect (create) as a job
check_eq "create project → 201" 201 "$(jcall POST /projects '{"name":"Connect one"}')"
PID=$(jq -r .id "$T/body"); P1=$PID
WS=$(jq -r .workspace "$T/body")
put_text index.html '<h1>one</h1>' >/dev/null
REPO=conn-$(date +%s)-$RANDOM
# GitHub is slow to answer the repository check: the request answers at once all the same.
fault "{\"method\":\"GET\",\"path\":\"/api/v3/repos/$U/$REPO\",\"kind\":\"hang\",\"seconds\":3,\"count\":1}"
t0=$(date +%s%N)
s=$(post "/projects/$PID/connect" --data-urlencode "csrf=$CSRF" --data-urlencode mode=create --data-urlencode "owner=$U" \
	--data-urlencode "name=$REPO" --data-urlencode 'description=made by a job' --data-urlencode private=1)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_match "panel connect → 303 to the project page" "^303 .*/projects/$PID\$" "$s"
check "… without waiting for GitHub (${ms} ms while GitHub hangs 3 s)" test "$ms" -lt 1500
p=$(page "/projects/$PID")
check_match "the project page says it is connecting" "Connecting to $U/$REPO…" "$p"
check_match "… with the step it is at" 'id="connect-step">(Waiting for a worker|Checking that the name is free on GitHub)…' "$p"
check_match "… which app.js follows (data-connecting)" 'data-connecting="1"' "$p"
check_eq "status API: the connection is under way" "$U/$REPO create" "$(conn '"\(.connection.repository) \(.connection.mode)"')"
check_match "… queued or running" '^(queued|running)$' "$(conn .connection.state)"
check_match "the projects list says it is connecting" "<span class=\"connecting\" data-connect-state=\"(queued|running)\">Connecting to $U/$REPO…</span>" "$(page /projects)"
check_match "… and so does GET /api/v1/projects" "^(queued|running) $U/$REPO null\$" \
	"$(call GET /projects >/dev/null; jq -r ".projects[] | select(.id == $PID) | \"\(.connection.state) \(.connection.repository) \(.repository)\"" "$T/body")"
check_eq "a second connect while one is under way → 409" 409 "$(jcall POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"$REPO-x\"}")"
check_eq "the connect job finishes" done "$(wait_connect "$KEY" "$PID")"
check_eq "the project is linked" "$U/$REPO" "$(call GET "/projects/$PID" >/dev/null; jq -r .repository.full_name "$T/body")"
check_eq "the repository exists on GitHub, private, with the description" "true made by a job" \
	"$(gh GET "/repos/$U/$REPO" "$TOKEN" | jq -r '"\(.private) \(.description)"')"
check "the initial sync follows" wait_for 60 hist_has '.trigger == "initial" and .status == "success"'
wait_for 20 idle
H1=$(git ls-remote "$(clone_url "$U/$REPO")" refs/heads/main | cut -f1)
check_match "the workspace's file is on GitHub" '^[0-9a-f]{40}$' "$H1"
p=$(page "/projects/$PID")
check_match "the project page shows the repository" "href=\"[^\"]*/$U/$REPO\">$U/$REPO</a>" "$p"
check "… and no longer says connecting" bash -c "! grep -q 'Connecting to' <<<'$(printf '%s' "$p" | tr -d "'")'"

# ---------------------------------------------------------------- 2. the job run twice does it once
NREPOS=$(gh GET "/user/repos?per_page=100" "$TOKEN" | jq "[.[] | select(.name == \"$REPO\")] | length")
requeue
check_eq "the same job again (its first run's outcome lost) → done" done "$(wait_connect "$KEY" "$PID")"
wait_for 30 idle
check_eq "… still linked to the same repository, no error" "$U/$REPO null" "$(conn '"\(.repository.full_name) \(.connection.error)"')"
check_eq "… no second repository" "$NREPOS" "$(gh GET "/user/repos?per_page=100" "$TOKEN" | jq "[.[] | select(.name == \"$REPO\")] | length")"
check_eq "… GitHub's branch untouched" "$H1" "$(git ls-remote "$(clone_url "$U/$REPO")" refs/heads/main | cut -f1)"
check_eq "… project SUCCESS" SUCCESS "$(conn .status)"
# Killed after GitHub made the repository, before the link was recorded: check before create.
q "UPDATE projects SET repo_owner = NULL, repo_name = NULL, repo_clone_url = NULL, repo_html_url = NULL WHERE id = $PID" >/dev/null
requeue
check_eq "redone after the create, before the link → done (its own repository, not 'name taken')" done "$(wait_connect "$KEY" "$PID")"
check_eq "… linked again" "$U/$REPO" "$(conn .repository.full_name)"
# The create's answer itself was lost: GitHub made the repository, ghbridge never heard its id.
wait_for 30 idle
q "UPDATE projects SET repo_owner = NULL, repo_name = NULL, repo_clone_url = NULL, repo_html_url = NULL WHERE id = $PID" >/dev/null
q "UPDATE project_connects SET created_repo_id = NULL WHERE project_id = $PID" >/dev/null
requeue
check_eq "redone after a lost create answer → done" done "$(wait_connect "$KEY" "$PID")"
check_eq "… linked again, history kept" "$U/$REPO $H1" "$(conn '"\(.repository.full_name) \(.last_commit_sha)"')"
wait_for 30 idle

# ---------------------------------------------------------------- 3. a taken name, no push access, a rate limit
check_eq "create a second project → 201" 201 "$(jcall POST /projects '{"name":"Connect two"}')"
PID=$(jq -r .id "$T/body"); P2=$PID
TAKEN=taken-$(date +%s)-$RANDOM
gh POST /user/repos "$TOKEN" -d "{\"name\":\"$TAKEN\"}" >/dev/null
check_eq "connect with a name already taken → 202 (GitHub is asked by the job)" 202 "$(jcall POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"$TAKEN\"}")"
check_eq "the job fails" failed "$(wait_connect "$KEY" "$PID")"
check_eq "… saying why, with a code" "name_taken" "$(conn .connection.error_code)"
check_match "… in words a person can act on" "A repository named $U/$TAKEN already exists on GitHub. Choose another name" "$(conn .connection.error)"
check_eq "… the project stays unconnected" null "$(conn .repository)"
p=$(page "/projects/$PID")
check_match "the project page shows the failure" "Connecting to <strong>$U/$TAKEN</strong> did not work: A repository named $U/$TAKEN already exists" "$p"
check_match "… with a way to try again" "href=\"/projects/$PID/connect\">Try again" "$p"
p=$(page /projects)
check_match "the projects list shows the failure" "data-connect-state=\"failed\">Connecting to $U/$TAKEN did not work</span> <a href=\"/projects/$PID/connect\">Try again</a><br><small class=\"muted\">A repository named $U/$TAKEN already exists" "$p"
check_eq "… and so does GET /api/v1/projects" "failed name_taken" \
	"$(call GET /projects >/dev/null; jq -r ".projects[] | select(.id == $PID) | \"\(.connection.state) \(.connection.error_code)\"" "$T/body")"
check_match "the connect page keeps the name to correct" "id=\"c-name\" name=\"name\" required maxlength=\"100\" value=\"$TAKEN\"" "$(page "/projects/$PID/connect")"
# A taken name is an answer to give the user, not a failure of the system: the job ends done.
check_eq "the job itself ended done (not dead)" "done" "$(curl -s -H "Authorization: Bearer $KEY" "$API/jobs/$(conn .connection.job_id)" | jq -r .state)"

H=hub-$(date +%s)-$RANDOM
# Read-only collaborators exist only on an organisation's repositories: on a personal account's, GitHub gives
# every collaborator write access whatever permission was asked (docs "Add a repository collaborator").
HORG=huborg$RANDOM$RANDOM
curl -s -o /dev/null -X POST "$FH/orgs" -H 'Content-Type: application/json' -d "{\"login\":\"$HORG\"}"
curl -s -o /dev/null -X PUT "$FH/orgs/$HORG/members/hubot" -H 'Content-Type: application/json' -d '{"role":"admin"}'
HTOK=$(curl -s -X POST "$FH/users/hubot/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
gh POST "/orgs/$HORG/repos" "$HTOK" -d "{\"name\":\"$H\"}" >/dev/null
inv=$(gh PUT "/repos/$HORG/$H/collaborators/$U" "$HTOK" -d '{"permission":"pull"}' | jq -r .id)
gh PATCH "/user/repository_invitations/$inv" "$TOKEN" >/dev/null
check_eq "link a repository octocat can only read → 202" 202 "$(jcall POST "/projects/$PID/repository" "{\"mode\":\"link\",\"owner\":\"$HORG\",\"name\":\"$H\"}")"
check_eq "… fails" failed "$(wait_connect "$KEY" "$PID")"
check_eq "… no push access, said so" "no_push" "$(conn .connection.error_code)"
check_match "… in words" "You can read $HORG/$H but not push to it" "$(conn .connection.error)"
check_eq "link a repository that does not exist → fails: not_found" "failed not_found" \
	"$(jcall POST "/projects/$PID/repository" '{"mode":"link","owner":"octocat","name":"no-such-repo-here"}' >/dev/null; wait_connect "$KEY" "$PID" >/dev/null; conn '"\(.connection.state) \(.connection.error_code)"')"
check_eq "no user error put a connect job on the dead list" 0 "$(q "SELECT count(*) FROM jobs WHERE kind = 'connect' AND project_id = $PID AND state = 'dead'")"
check_eq "… they all ended done" 3 "$(q "SELECT count(*) FROM jobs WHERE kind = 'connect' AND project_id = $PID AND state = 'done'")"
# GitHub failing until the job gives up is a failure of the system: dead, and the user is told.
DOWN=down-$(date +%s)-$RANDOM
fault "{\"method\":\"GET\",\"path\":\"/api/v3/repos/$U/$DOWN\",\"kind\":\"status\",\"status\":502,\"count\":20}"
check_eq "connect while GitHub answers 502 → 202" 202 "$(jcall POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"$DOWN\"}")"
DJ=$(jq -r .job_id "$T/body")
q "UPDATE jobs SET max_attempts = 1 WHERE id = $DJ" >/dev/null # give up at the next failure, not after 8
check_eq "… fails once the job gives up" failed "$(wait_connect "$KEY" "$PID" 60)"
check_eq "… that job is dead, for the admin to see" dead "$(q "SELECT state FROM jobs WHERE id = $DJ")"
check_match "… and the user is told it stopped, with GitHub's trouble" "Connecting stopped before it finished: GitHub did not answer well" "$(conn .connection.error)"
curl -s -o /dev/null -X DELETE "$FH/faults"

RL=rl-$(date +%s)-$RANDOM
fault "{\"method\":\"GET\",\"path\":\"/api/v3/repos/$U/$RL\",\"kind\":\"rate_limit\",\"seconds\":3,\"count\":1}"
check_eq "connect while GitHub's rate limit is reached → 202" 202 "$(jcall POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"$RL\"}")"
rl_said() { [ "$(conn .connection.error_code)" = rate_limited ]; }
check "… the project says it waits for the rate limit" wait_for 20 rl_said
check_match "… and when it resumes" "GitHub's rate limit is reached; connecting $U/$RL resumes after [0-9]{2}:[0-9]{2} UTC" "$(conn .connection.error)"
check_eq "… then connects by itself" done "$(wait_connect "$KEY" "$PID" 60)"
check_eq "… with the note gone" "$U/$RL null" "$(conn '"\(.repository.full_name) \(.connection.error)"')"
wait_for 60 idle

# ---------------------------------------------------------------- 4. someone else's project, bad input: 4xx, nothing queued
check_eq "create a third project → 201" 201 "$(jcall POST /projects '{"name":"Connect three"}')"
PID=$(jq -r .id "$T/body"); P3=$PID
n0=$(connect_jobs "$PID")
check_eq "another user's project → 404" 404 "$(call2 POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d '{"mode":"create","name":"stolen"}')"
check_eq "a project that does not exist → 404" 404 "$(jcall POST "/projects/999999999/repository" '{"mode":"create","name":"nothing"}')"
check_eq "a forged id → 404" 404 "$(jcall POST "/projects/1x/repository" '{"mode":"create","name":"nothing"}')"
HCSRF=$(csrf_of "$T/jar-hubot" /projects)
check_eq "another user's project on the panel → 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-hubot" -X POST \
	"$GHB_URL/projects/$PID/connect" --data-urlencode "csrf=$HCSRF" --data-urlencode mode=create --data-urlencode name=stolen)"
check_eq "the panel without the CSRF token → 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -X POST \
	"$GHB_URL/projects/$PID/connect" --data-urlencode mode=create --data-urlencode name=nocsrf)"
check_eq "a bad name → 400" 400 "$(jcall POST "/projects/$PID/repository" '{"mode":"create","name":"no good"}')"
check_eq "a bad mode → 400" 400 "$(jcall POST "/projects/$PID/repository" '{"mode":"steal","name":"x"}')"
check_eq "a bad owner → 400" 400 "$(jcall POST "/projects/$PID/repository" '{"mode":"link","owner":"a/b","name":"x"}')"
check_eq "a name that is not a string → 400" 400 "$(jcall POST "/projects/$PID/repository" '{"mode":"create","name":5}')"
check_eq "… nothing was queued for the project" "$n0" "$(connect_jobs "$PID")"
check_eq "… and nothing recorded" 0 "$(q "SELECT count(*) FROM project_connects WHERE project_id = $PID")"
check_eq "… nor for any other project id" 0 "$(q "SELECT count(*) FROM jobs WHERE kind = 'connect' AND project_id = 999999999")"

# ---------------------------------------------------------------- 5. the Link list: cache empty → refresh job → list
L=lister$$$RANDOM
curl -s -o /dev/null -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$L\"}"
signin "$T/jar-l" "$L" >/dev/null
KEYL=$("$BUILD/ghbridge" apikey create --user "$L" --name connect-test --scopes projects:read,projects:write 2>&1 | tail -1)
LTOK=$(curl -s -X POST "$FH/users/$L/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)
for r in alpha beta gamma; do gh POST /user/repos "$LTOK" -d "{\"name\":\"$r-$L\"}" >/dev/null; done
lcall() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEYL" "$@" "$API$p"; }
LCSRF=$(csrf_of "$T/jar-l" /projects)
r=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$T/jar-l" -X POST "$GHB_URL/projects" --data-urlencode "csrf=$LCSRF" --data-urlencode "name=Lister")
LP=${r##*/}
fault '{"method":"GET","path":"/api/v3/user/repos","kind":"hang","seconds":2,"count":1}'
t0=$(date +%s%N)
pg=$(curl -s -b "$T/jar-l" "$GHB_URL/projects/$LP/connect")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "the connect page answers without waiting for GitHub (${ms} ms while GitHub hangs 2 s)" test "$ms" -lt 1500
check_match "an empty cache: the page says the list is loading" 'id="repos-loading">Loading your repositories from GitHub…' "$pg"
check_match "… with a reload link for browsers without JS" "href=\"/projects/$LP/connect#link\">Reload to see them" "$pg"
check_match "… and a hook for app.js to follow it" 'data-refreshing="1" data-poll-url="/api/v1/github/repos"' "$pg"
check_eq "API: nothing read yet → 202 refreshing" "202 refreshing 0" "$(s=$(lcall GET /github/repos); echo "$s $(jq -r '"\(.state) \(.repositories | length)"' "$T/body")")"
check_match "… naming the refresh job" '^[0-9]+$' "$(jq -r .job_id "$T/body")"
lready() { [ "$(lcall GET /github/repos)" = 200 ] && [ "$(jq -r .state "$T/body")" = ready ]; }
check "the refresh job fills the cache" wait_for 60 lready
check_eq "API: the list with its age" "alpha-$L,beta-$L,gamma-$L true" \
	"$(jq -r '"\([.repositories[].name] | join(",")) \(.age_seconds < 60)"' "$T/body")"
pg=$(curl -s -b "$T/jar-l" "$GHB_URL/projects/$LP/connect")
check_eq "the page shows the list, each with a Link button" 3 "$(printf '%s' "$pg" | grep -c "aria-label=\"Link $L/")"
check_match "… its age and a Refresh button" 'id="repos-age">Updated just now\.</span>.*|Refresh</button>' "$(printf '%s' "$pg" | tr '\n' ' ')"
check "… and no loading state" bash -c "! grep -q 'repos-loading' <<<\"\$1\"" _ "$pg"
check_match "search works on the cache" "^1 $L/beta-$L\$" "$(lcall GET "/github/repos?q=BETA" >/dev/null; jq -r '"\(.repositories | length) \(.repositories[0].full_name)"' "$T/body")"
gh POST /user/repos "$LTOK" -d "{\"name\":\"delta-$L\"}" >/dev/null
check_match "Refresh on the panel → 303 back to the list" "^303 .*/projects/$LP/connect#link\$" \
	"$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$T/jar-l" -X POST "$GHB_URL/projects/$LP/repos/refresh" --data-urlencode "csrf=$LCSRF")"
has_delta() { lcall GET /github/repos >/dev/null; [ "$(jq -r .state "$T/body")" = ready ] && jq -e ".repositories[] | select(.name == \"delta-$L\")" "$T/body" >/dev/null; }
check "… the new repository shows after the refresh" wait_for 60 has_delta
check_eq "Refresh without the CSRF token → 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-l" -X POST "$GHB_URL/projects/$LP/repos/refresh")"
check_eq "Refresh on another user's project → 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -X POST "$GHB_URL/projects/$LP/repos/refresh" --data-urlencode "csrf=$CSRF")"
# An hour old: still served at once from the cache, while a refresh runs behind it.
fault '{"method":"GET","path":"/api/v3/user/repos","kind":"hang","seconds":3,"count":1}'
q "UPDATE github_repo_lists SET refreshed_at = now() - interval '1 hour', requested_at = now() - interval '1 hour' WHERE user_id = (SELECT id FROM users WHERE login = '$L')" >/dev/null
check_eq "a stale list → 200 from the cache, refreshing, with its age" "200 refreshing 4 true" \
	"$(s=$(lcall GET /github/repos); echo "$s $(jq -r '"\(.state) \(.repositories | length) \(.age_seconds >= 3600)"' "$T/body")")"
check_match "… the page says it is updating" 'id="repos-updating">Updating the list from GitHub' "$(curl -s -b "$T/jar-l" "$GHB_URL/projects/$LP/connect")"
check "… and it becomes fresh" wait_for 60 lready
fault '{"method":"GET","path":"/api/v3/user/repos","kind":"status","status":422,"count":1}'
check_eq "API refresh → 202" 202 "$(lcall POST /github/repos/refresh)"
lfailed() { lcall GET /github/repos >/dev/null; [ "$(jq -r .state "$T/body")" = failed ]; }
check "a refresh GitHub refuses → failed" wait_for 60 lfailed
check_match "… the reason is given, the old list kept" "GitHub refused to list your repositories.* 4" \
	"$(jq -r '"\(.error) \(.repositories | length)"' "$T/body")"
check_match "… and shown on the page" 'id="repos-error">GitHub refused to list your repositories' "$(curl -s -b "$T/jar-l" "$GHB_URL/projects/$LP/connect")"
check_eq "another user's list is not this one" 0 "$(call GET "/github/repos?q=$L" >/dev/null; jq '.repositories | length' "$T/body")"

# ---------------------------------------------------------------- 6. reconnecting to a different repository
PID=$P1
A_ROOT=$(git ls-remote "$(clone_url "$U/$REPO")" refs/heads/main | cut -f1)
put_text notes.txt 'kept across repositories' >/dev/null
call POST "/projects/$PID/sync" >/dev/null
J=$(jq -r .job_id "$T/body")
check "a sync to the first repository" wait_for 60 hist_has ".job_id == $J and .status != \"running\""
wait_for 20 idle
A_HEAD=$(git ls-remote "$(clone_url "$U/$REPO")" refs/heads/main | cut -f1)
B=other-$(date +%s)-$RANDOM
gh POST /user/repos "$TOKEN" -d "{\"name\":\"$B\",\"auto_init\":true}" >/dev/null
curl -s -o /dev/null -X POST "$FH/repos/$U/$B/commits" -H 'Content-Type: application/json' \
	-d '{"as":"octocat","path":"from-b.txt","content":"only in b\n","message":"b: a file"}'
B_HEAD=$(git ls-remote "$(clone_url "$U/$B")" refs/heads/main | cut -f1)
check_eq "disconnect → 204" 204 "$(call DELETE "/projects/$PID/repository")"
check_eq "link the other repository → 202" 202 "$(jcall POST "/projects/$PID/repository" "{\"mode\":\"link\",\"owner\":\"$U\",\"name\":\"$B\"}")"
check_eq "… the connect job finishes" done "$(wait_connect "$KEY" "$PID")"
check "… the initial sync follows" wait_for 60 hist_has ".trigger == \"initial\" and .status == \"success\" and .commit_sha != \"$A_HEAD\" and .commit_sha != null"
wait_for 20 idle
check "the new repository's content was pulled into the workspace" file_is from-b.txt 'only in b'
check "the workspace's files stayed" file_is notes.txt 'kept across repositories'
rm -rf "$T/b" && git clone -q "$(clone_url "$U/$B")" "$T/b" 2>/dev/null
check_eq "the new repository has the project's files on top of its own" "README.md from-b.txt index.html notes.txt" \
	"$(cd "$T/b" && git ls-files | tr '\n' ' ' | sed 's/ $//')"
check "… committed on top of its history" git -C "$T/b" merge-base --is-ancestor "$B_HEAD" HEAD
check_eq "… with one root: the new repository's own" 1 "$(git -C "$T/b" rev-list --max-parents=0 HEAD | wc -l)"
check "… and none of the old repository's commits" bash -c "! git -C '$T/b' rev-list HEAD | grep -qE '^($A_HEAD|$A_ROOT)\$'"
check_eq "the old repository is left as it was" "$A_HEAD" "$(git ls-remote "$(clone_url "$U/$REPO")" refs/heads/main | cut -f1)"
check_eq "the project's last commit is the new repository's" "$(git -C "$T/b" rev-parse HEAD)" "$(conn .last_commit_sha)"
check "no set-aside git folder is left beside the workspace" bash -c "! ls -d '$WS'.forgotten-git-* 2>/dev/null | grep -q ."
check_eq "no stray folder in the workspace" "" "$(cd "$WS" && ls -A | grep -v -e '^\.git$' -e '^README.md$' -e '^from-b.txt$' -e '^index.html$' -e '^notes.txt$')"
# Back to the first one: its history, not the second's, under the files.
check_eq "disconnect again → 204" 204 "$(call DELETE "/projects/$PID/repository")"
check_eq "link the first repository again → 202" 202 "$(jcall POST "/projects/$PID/repository" "{\"mode\":\"link\",\"owner\":\"$U\",\"name\":\"$REPO\"}")"
check_eq "… done" done "$(wait_connect "$KEY" "$PID")"
check "… synced" wait_for 60 hist_has ".trigger == \"initial\" and .status == \"success\" and .commit_sha != \"$A_HEAD\" and .commit_sha != null"
wait_for 20 idle
rm -rf "$T/a" && git clone -q "$(clone_url "$U/$REPO")" "$T/a" 2>/dev/null
check "the first repository's history goes on from where it was" git -C "$T/a" merge-base --is-ancestor "$A_HEAD" HEAD
check "… without the second's commits" bash -c "! git -C '$T/a' rev-list HEAD | grep -q '^$B_HEAD\$'"

# ---------------------------------------------------------------- 7. cancelling a connect under way
PID=$P3
fault "{\"method\":\"GET\",\"path\":\"/api/v3/repos/$U/cancel-me\",\"kind\":\"hang\",\"seconds\":3,\"count\":1}"
jcall POST "/projects/$PID/repository" '{"mode":"create","name":"cancel-me"}' >/dev/null
check_match "Cancel on the panel → 303" "^303 .*/projects/$PID\\?done=cancelled\$" "$(post "/projects/$PID/disconnect" --data-urlencode "csrf=$CSRF")"
check_eq "… the request is cancelled" "failed cancelled" "$(conn '"\(.connection.state) \(.connection.error_code)"')"
sleep 4
check_eq "… and nothing was linked or created" "null 404" \
	"$(conn .repository) $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$FAKEHUB_API_URL/repos/$U/cancel-me")"

# ---------------------------------------------------------------- 8. renamed on GitHub while disconnected
# GitHub's id decides whether it is the repository the workspace's history came from, not its name.
PID=$P1
wait_for 30 idle
echo marker > "$WS/.git/ghbridge-test-marker" # gone if the workspace's git is started afresh
OLD_SHA=$(conn .last_commit_sha)
check_eq "disconnect → 204" 204 "$(call DELETE "/projects/$PID/repository")"
RN=$REPO-renamed
check_eq "the repository is renamed on GitHub → 200" "200 $U/$RN" \
	"$(gh PATCH "/repos/$U/$REPO" "$TOKEN" -d "{\"name\":\"$RN\"}" -o "$T/gh" -w '%{http_code}'; echo " $(jq -r .full_name "$T/gh")")"
check_eq "link it under its new name → 202" 202 "$(jcall POST "/projects/$PID/repository" "{\"mode\":\"link\",\"owner\":\"$U\",\"name\":\"$RN\"}")"
check_eq "… done" done "$(wait_connect "$KEY" "$PID")"
check_eq "… linked under the new name, the last commit kept (same repository: history kept)" "$U/$RN $OLD_SHA" \
	"$(conn '"\(.repository.full_name) \(.last_commit_sha)"')"
check "… the workspace's git was not started afresh" test -f "$WS/.git/ghbridge-test-marker"
check_eq "… its id recorded" "$(gh GET "/repos/$U/$RN" "$TOKEN" | jq -r .id)" "$(q "SELECT workspace_repo_id FROM projects WHERE id = $PID")"
put_text after-rename.txt 'synced to the renamed one' >/dev/null
call POST "/projects/$PID/sync" >/dev/null
J=$(jq -r .job_id "$T/body")
check "a sync after the rename" wait_for 60 hist_has ".job_id == $J and .status != \"running\""
wait_for 20 idle
rm -rf "$T/r" && git clone -q "$(clone_url "$U/$RN")" "$T/r" 2>/dev/null
check "… goes on from the old history (fast-forward)" git -C "$T/r" merge-base --is-ancestor "$OLD_SHA" HEAD
check_eq "… with the file" 'synced to the renamed one' "$(cat "$T/r/after-rename.txt" 2>/dev/null)"
# Another repository now under the name the workspace's history was last linked as: a different id.
check_eq "disconnect → 204" 204 "$(call DELETE "/projects/$PID/repository")"
gh PATCH "/repos/$U/$RN" "$TOKEN" -d "{\"name\":\"$REPO-moved-away\"}" >/dev/null
check_eq "a new repository takes the name → 201" 201 "$(gh POST /user/repos "$TOKEN" -d "{\"name\":\"$RN\",\"auto_init\":true}" -o /dev/null -w '%{http_code}')"
N_HEAD=$(git ls-remote "$(clone_url "$U/$RN")" refs/heads/main | cut -f1)
check_eq "link it (same name, another repository) → 202" 202 "$(jcall POST "/projects/$PID/repository" "{\"mode\":\"link\",\"owner\":\"$U\",\"name\":\"$RN\"}")"
check_eq "… done" done "$(wait_connect "$KEY" "$PID")"
check "… the workspace's git started afresh" test ! -f "$WS/.git/ghbridge-test-marker"
check "… the initial sync follows" wait_for 60 hist_has ".trigger == \"initial\" and .status == \"success\" and .commit_sha != \"$OLD_SHA\" and .commit_sha != null"
wait_for 20 idle
rm -rf "$T/n" && git clone -q "$(clone_url "$U/$RN")" "$T/n" 2>/dev/null
check "… on top of the new repository's history" git -C "$T/n" merge-base --is-ancestor "$N_HEAD" HEAD
check "… without the old one's commits" bash -c "! git -C '$T/n' rev-list HEAD | grep -q '^$OLD_SHA\$'"

# ---------------------------------------------------------------- 9. a created repository shows in the Link list
lcall POST /github/repos/refresh >/dev/null # section 5 left it failed
wait_for 60 lready
check_eq "the lister's list is ready, without epsilon" "ready 0" \
	"$(jq -r "\"\(.state) \([.repositories[] | select(.name == \"epsilon-$L\")] | length)\"" "$T/body")"
check_eq "the lister creates a project → 201" 201 "$(lcall POST /projects -H 'Content-Type: application/json' -d '{"name":"Lister two"}')"
LP2=$(jq -r .id "$T/body")
check_eq "… and connects it to a new repository → 202" 202 \
	"$(lcall POST "/projects/$LP2/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"epsilon-$L\"}")"
check_eq "… done" done "$(wait_connect "$KEYL" "$LP2")"
has_eps() { lcall GET /github/repos >/dev/null; [ "$(jq -r .state "$T/body")" = ready ] && jq -e ".repositories[] | select(.name == \"epsilon-$L\")" "$T/body" >/dev/null; }
check "the Link list shows the new repository (the list was marked stale, minutes before it would age)" wait_for 60 has_eps

finish
