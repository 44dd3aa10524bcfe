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
