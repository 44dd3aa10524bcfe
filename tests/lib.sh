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

# ---------------------------------------------------------------- another host on the same database and data folder
# host_start DIR PORT WHAT [VAR=VALUE...]: the processes a second machine would run against this stack's PostgreSQL
# and data folder: an fcgi pool (WHAT "fcgi") or an fcgi pool and a worker ("fcgi+worker"), each with its own socket,
# pid file and log under DIR, behind its own nginx on 127.0.0.1:PORT (nginx/dev.conf.in, without fakehub's block).
# VAR=VALUE settings override the stack's for both processes (e.g. GHBRIDGE_PROCESSES=2); public_url stays the
# stack's, as two hosts behind one load balancer share it. The binary is
# $HOST_BIN, else $BUILD/ghbridge. Returns nonzero when something did not start (logs in DIR/log).
host_start() {
	local dir=$1 port=$2 what=$3 bin=${HOST_BIN:-$BUILD/ghbridge} conf
	shift 3
	mkdir -p "$dir"/{run,log,nginx/tmp}
	chmod 1777 "$dir/run"
	env GHBRIDGE_LISTEN="unix:$dir/run/ghbridge.sock" "$@" \
		setsid "$bin" fcgi >> "$dir/log/fcgi.log" 2>&1 < /dev/null &
	echo $! > "$dir/run/fcgi.pid"
	wait_for 10 test -S "$dir/run/ghbridge.sock" || return 1
	if [ "$what" = fcgi+worker ]; then
		env "$@" setsid "$bin" worker >> "$dir/log/worker.log" 2>&1 < /dev/null &
		echo $! > "$dir/run/worker.pid"
	fi
	conf=$(sed -e "s|@STACK_VAR@|$dir|g" -e "s|@ROOT@|$ROOT|g" -e "s|@GHB_PORT@|$port|g" -e "s|@USER@|$(id -u)|g" \
		-e 's|@FAKEHUB_SERVER@||' "$ROOT/nginx/dev.conf.in")
	if [ "$(id -u)" = 0 ]; then
		conf=$(printf '%s\n' "$conf" | sed 's|^#user_line$|user nobody nogroup;|')
		chmod 777 "$dir/nginx/tmp"
	fi
	printf '%s\n' "$conf" > "$dir/nginx/nginx.conf"
	nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/log/nginx-error.log" 2>> "$dir/log/nginx-error.log" || return 1
	wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"
}

# host_stop DIR: stops what host_start started there (nginx, then the worker, which drains, then the fcgi pool)
# and removes DIR. Only the pids recorded in DIR are signalled.
host_stop() {
	local dir=$1 pid n i
	[ -d "$dir" ] || return 0
	[ -f "$dir/run/nginx.pid" ] && nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/log/nginx-error.log" -s quit 2>/dev/null
	for n in worker fcgi; do
		pid=$(cat "$dir/run/$n.pid" 2>/dev/null || true)
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null || continue
		for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	for i in $(seq 1 50); do [ -f "$dir/run/nginx.pid" ] || break; sleep 0.1; done
	rm -rf "$dir"
}

# ---------------------------------------------------------------- who ran which job when
# claimlog_install NAME: a table NAME and a trigger on jobs recording every move into or out of 'running' (job,
# project, kind, claims, state, locked_by, clock time), so a test can show that no job ran twice at once and no
# project had two jobs running at once, whichever host's worker claimed them. claimlog_remove NAME drops both.
claimlog_install() {
	psql -XAtq -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE $1 (n bigserial PRIMARY KEY, job_id bigint NOT NULL, project_id bigint, kind text NOT NULL,
  claims int NOT NULL, state text NOT NULL, locked_by text, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION $1_fn() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  IF NEW.state IS DISTINCT FROM OLD.state AND (NEW.state = 'running' OR OLD.state = 'running') THEN
    INSERT INTO $1 (job_id, project_id, kind, claims, state, locked_by)
    VALUES (NEW.id, NEW.project_id, NEW.kind, NEW.claims, NEW.state, CASE WHEN NEW.state = 'running' THEN NEW.locked_by ELSE OLD.locked_by END);
  END IF;
  RETURN NULL;
END \$\$;
CREATE TRIGGER $1_tr AFTER UPDATE OF state ON jobs FOR EACH ROW EXECUTE FUNCTION $1_fn();
SQL
}
claimlog_remove() {
	psql -XAtq -c "DROP TRIGGER IF EXISTS $1_tr ON jobs; DROP FUNCTION IF EXISTS $1_fn(); DROP TABLE IF EXISTS $1" >/dev/null 2>&1
}
# claimlog_twice NAME: prints the number of claims of a job made while an earlier claim of it was still running
# (0 when every claim of a job ended before the next began).
claimlog_twice() {
	psql -XAtq -c "SELECT count(*) FROM (SELECT state, lag(state) OVER (PARTITION BY job_id ORDER BY n) AS prev FROM $1) x
	               WHERE state = 'running' AND prev = 'running'"
}
# claimlog_overlaps NAME: prints the number of pairs of runs of one project's jobs whose times overlap (each run from
# its claim to the next move of that job out of 'running'; a run still going ends now).
claimlog_overlaps() {
	psql -XAtq -c "WITH runs AS (SELECT * FROM (SELECT n, job_id, project_id, state, at AS t0,
	                 coalesce(lead(at) OVER (PARTITION BY job_id ORDER BY n), clock_timestamp()) AS t1 FROM $1) x
	                 WHERE state = 'running' AND project_id IS NOT NULL)
	               SELECT count(*) FROM runs a JOIN runs b ON a.project_id = b.project_id AND a.n < b.n
	               WHERE a.t0 < b.t1 AND b.t0 < a.t1"
}

# stack_worker_restart BIN [VAR=VALUE...]: stops the stack's worker (SIGTERM: it drains its jobs) and starts
# `BIN worker` in its place with the stack's settings and these overrides, logging to the stack's worker.log.
# BIN "" keeps the binary the stack's worker was running (the sanitizer build in `scripts/dev test`).
# Prints nothing; the new supervisor's pid goes to $STACK_VAR/run/worker.pid.
stack_worker_restart() {
	local bin=$1 pidf=$STACK_VAR/run/worker.pid pid i
	shift
	pid=$(cat "$pidf" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		[ -n "$bin" ] || bin=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	[ -n "$bin" ] || bin=$BUILD/ghbridge
	env "$@" setsid "$bin" worker >> "$STACK_VAR/log/worker.log" 2>&1 < /dev/null &
	echo $! > "$pidf"
}
