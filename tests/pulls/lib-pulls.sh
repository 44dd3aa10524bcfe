# tests/pulls/lib-pulls.sh: shared setup for the pull request tests: keys, a project connected to a new
# fakehub repository with auto-sync off (so pending changes stay pending), helpers for calls and waits.
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "pull request tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "pull request tests" "fakehub is not running"; finish; exit; fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1

signin "$T/jar-octocat" octocat >/dev/null
signin "$T/jar-hubot" hubot >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user octocat --name pulls-test --scopes projects:read,projects:write,sync,pulls 2>&1 | tail -1)
KEY2=$("$BUILD/ghbridge" apikey create --user hubot --name pulls-test --scopes projects:read,projects:write,sync,pulls 2>&1 | tail -1)
KEY_NOPULLS=$("$BUILD/ghbridge" apikey create --user octocat --name no-pulls --scopes projects:read,projects:write 2>&1 | tail -1)

# call METHOD PATH [curl args]: body to $T/body, prints the status.
call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 60 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
call2() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 60 -X "$m" -H "Authorization: Bearer $KEY2" "$@" "$API$p"; }
jcall() { local m=$1 p=$2 d=$3; shift 3; call "$m" "$p" -H 'Content-Type: application/json' -d "$d" "$@"; }
body() { cat "$T/body"; }
put_text() { printf '%s' "$2" > "$T/put"; call PUT "/projects/$PID/files/$1" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
fh() { local m=$1 p=$2; shift 2; curl -s --max-time 60 -X "$m" -H 'Content-Type: application/json' "$@" "$FAKEHUB_URL$p"; }

# until SECONDS COMMAND...: retries every 0.3 s; 0 when the command succeeded in time.
until_ok() {
	local deadline=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.3
	done
}

# wait_status WANT: waits until the project's status is WANT (and not pending/syncing); prints it.
project_status() { call GET "/projects/$PID/status" >/dev/null; jq -r .status "$T/body"; }
wait_idle() {
	local i st
	for i in $(seq 1 200); do
		st=$(project_status)
		if [ "$st" != PENDING ] && [ "$st" != SYNCING ] && [ "$st" != IDLE ]; then echo "$st"; return 0; fi
		sleep 0.2
	done
	echo "timeout($st)"
}

# new_project NAME: a project with files, auto-sync off, connected to a new repository and synced once.
# Sets PID, REPO, OWNER=octocat, TOKEN (a fakehub token of octocat's) and CLONE.
new_project() {
	jcall POST /projects "{\"name\":\"$1\"}" >/dev/null
	PID=$(jq -r .id "$T/body")
	put_text index.html '<h1>Hello</h1>' >/dev/null
	put_text 'docs/a.md' 'line one' >/dev/null
	jcall PATCH "/projects/$PID/settings" '{"auto_sync":false}' >/dev/null
	REPO=pulls-$(date +%s)-$RANDOM
	OWNER=octocat
	jcall POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"$REPO\"}" >/dev/null
	wait_idle >/dev/null
	TOKEN=$(fh POST /_fakehub/users/octocat/tokens -d '{"scope":"repo"}' | jq -r .token)
	CLONE=${FAKEHUB_URL/http:\/\//http:\/\/x-access-token:$TOKEN@}/$OWNER/$REPO.git
}

# gh METHOD PATH [curl args]: fakehub's REST API as octocat; body to $T/gh, prints the status.
gh() { local m=$1 p=$2; shift 2; curl -s -o "$T/gh" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $TOKEN" "$@" "$FAKEHUB_API_URL$p"; }
remote_sha() { git ls-remote "$CLONE" "refs/heads/$1" 2>/dev/null | cut -f1; }
# web_commit BRANCH PATH CONTENT [AS]: a commit made on GitHub's web editor (fires a push webhook).
web_commit() { fh POST "/_fakehub/repos/$OWNER/$REPO/commits" -d "{\"as\":\"${4:-octocat}\",\"branch\":\"$1\",\"path\":\"$2\",\"content\":\"$3\",\"message\":\"edit $2\"}" >/dev/null; }
# pull_field NUMBER JQ [refresh]: a field of a pull request as ghbridge has it.
pull_field() { call GET "/projects/$PID/pulls/$1?refresh=${3:-0}" >/dev/null; jq -r "$2" "$T/body"; }
webhook_status() { call GET "/projects/$PID/pulls" >/dev/null; jq -r '.webhook.status // "none"' "$T/body"; }
