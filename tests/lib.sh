# tests/lib.sh: helpers sourced by every shell test. Prints TAP-style lines that
# scripts/dev counts: "ok - NAME" or "not ok - NAME # detail".
TESTS_PASSED=0
TESTS_FAILED=0

ok() { TESTS_PASSED=$((TESTS_PASSED + 1)); echo "ok - $1"; }
not_ok() { TESTS_FAILED=$((TESTS_FAILED + 1)); echo "not ok - $1 # ${2:-}"; }

# check NAME COMMAND...: ok when the command exits 0.
check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$(printf '%s' "$out" | tail -c 300 | tr '\n' ' ')"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected '$2', got '$3'"; fi
}

# check_match NAME REGEX TEXT (grep -E)
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "no match for /$2/ in: $(printf '%s' "$3" | head -c 300 | tr '\n' ' ')"; fi
}

# http_status URL [curl args...]: prints the status code only.
http_status() {
	local url=$1; shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@" "$url"
}

# http_get URL [curl args...]: prints headers and body (-i).
http_get() {
	local url=$1; shift
	curl -s -i --max-time 20 "$@" "$url"
}

# wait_for SECONDS COMMAND...: retries every 0.2 s until the command succeeds.
wait_for() {
	local deadline=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.2
	done
}

finish() {
	echo "# $TESTS_PASSED passed, $TESTS_FAILED failed"
	[ "$TESTS_FAILED" -eq 0 ]
}

# skip NAME REASON: neither passed nor failed; counted apart.
skip() { echo "skip - $1 # ${2:-}"; }

# fakehub_up: is the GitHub emulator answering?
fakehub_up() { curl -s -o /dev/null --max-time 3 "$FAKEHUB_URL/api/v3/rate_limit"; }

# gh_authorize AUTHORIZE_URL LOGIN ACTION: submits fakehub's authorize form
# (ACTION authorize|cancel) and prints the Location it redirects to.
gh_authorize() {
	local url=$1 login=$2 action=${3:-authorize} page args=() name value
	page=$(curl -s --max-time 10 "$url")
	while IFS=$'\t' read -r name value; do
		[ -n "$name" ] && args+=(--data-urlencode "$name=$value")
	done < <(printf '%s' "$page" | grep -o '<input type="hidden" name="[^"]*" value="[^"]*"' |
		sed -E 's/.*name="([^"]*)" value="([^"]*)"/\1\t\2/' | sed 's/&amp;/\&/g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&lt;/</g; s/&gt;/>/g')
	curl -s -o /dev/null -w '%{redirect_url}' --max-time 10 -X POST "${url%%\?*}" "${args[@]}" \
		--data-urlencode "login=$login" --data-urlencode "action=$action"
}

# signin JAR LOGIN [RETURN_TO]: the whole browser flow with curl; prints the final Location.
signin() {
	local jar=$1 login=$2 ret=${3:-/} auth cb
	auth=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" "$GHB_URL/login?return_to=$ret")
	cb=$(gh_authorize "$auth" "$login" authorize)
	curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" "$cb"
}

# csrf_of JAR PATH: the CSRF token in a page's forms.
csrf_of() {
	curl -s -b "$1" "$GHB_URL${2:-/account}" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//'
}

# wait_connect KEY PROJECT_ID [SECONDS]: waits for the project's connect job (POST …/repository, or the
# panel's connect forms) to finish; prints the request's state: done, failed, none, or timeout(STATE).
wait_connect() {
	local key=$1 pid=$2 deadline st
	deadline=$(( $(date +%s) + ${3:-60} ))
	while :; do
		st=$(curl -s --max-time 10 -H "Authorization: Bearer $key" "$GHB_URL/api/v1/projects/$pid/status" |
			jq -r '.connection.state // "none"' 2>/dev/null)
		case $st in done | failed | none) echo "$st"; return 0 ;; esac
		[ "$(date +%s)" -ge "$deadline" ] && { echo "timeout($st)"; return 1; }
		sleep 0.2
	done
}
