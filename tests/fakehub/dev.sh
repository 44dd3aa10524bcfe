# tests/fakehub/dev.sh: sourced by scripts/dev: starts, seeds and stops fakehub, and prints its nginx server block.
# Needs ROOT, BUILD, STACK_VAR, PGHOST, PGPORT, PGUSER, FAKEHUB_PORT (and FAKEHUB_CLIENT_* for the seed).

fakehub_env() {
	FAKEHUB_DATABASE_URL="host=$PGHOST port=$PGPORT user=${PGUSER:-ghbridge} dbname=fakehub"
	FAKEHUB_REPOS_DIR="$STACK_VAR/fakehub/repos"
	FAKEHUB_WEB_URL="http://127.0.0.1:$FAKEHUB_PORT"
	FAKEHUB_SQL_DIR="$ROOT/tests/fakehub/sql"
	FAKEHUB_LFS_DIR="$STACK_VAR/fakehub/lfs"
	export FAKEHUB_DATABASE_URL FAKEHUB_REPOS_DIR FAKEHUB_WEB_URL FAKEHUB_SQL_DIR FAKEHUB_LFS_DIR
}

fakehub_running() {
	[ -f "$STACK_VAR/run/fakehub.pid" ] && kill -0 "$(cat "$STACK_VAR/run/fakehub.pid")" 2>/dev/null
}

fakehub_start() {
	fakehub_env
	local bin="$BUILD/tests/fakehub/fakehub" i
	[ -x "$bin" ] || { echo "fakehub: $bin is not built" >&2; return 1; }
	mkdir -p "$STACK_VAR/run" "$STACK_VAR/log" "$FAKEHUB_REPOS_DIR" "$FAKEHUB_LFS_DIR"
	# git http-backend runs as this user; nginx (maybe nobody) only needs the socket.
	psql -qtA -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'fakehub'" | grep -q 1 ||
		psql -q -d postgres -c "CREATE DATABASE fakehub" >/dev/null
	"$bin" migrate >> "$STACK_VAR/log/fakehub.log" 2>&1 || { echo "fakehub: migrate failed; see $STACK_VAR/log/fakehub.log" >&2; return 1; }
	"$bin" seed >> "$STACK_VAR/log/fakehub.log" 2>&1 || { echo "fakehub: seed failed; see $STACK_VAR/log/fakehub.log" >&2; return 1; }
	if ! fakehub_running; then
		setsid "$bin" serve --listen "unix:$STACK_VAR/run/fakehub.sock" --processes "${FAKEHUB_PROCESSES:-6}" \
			>> "$STACK_VAR/log/fakehub.log" 2>&1 < /dev/null &
		echo $! > "$STACK_VAR/run/fakehub.pid"
	fi
	for i in $(seq 1 100); do
		[ -S "$STACK_VAR/run/fakehub.sock" ] && return 0
		sleep 0.1
	done
	echo "fakehub did not start; see $STACK_VAR/log/fakehub.log" >&2
	return 1
}

fakehub_stop() {
	local f="$STACK_VAR/run/fakehub.pid" pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

# Own FastCGI parameters (not nginx/fastcgi.conf): git needs long timeouts and big bodies,
# and status 444 from fakehub means "drop the connection" (fault injection).
fakehub_nginx_server() {
	cat <<EOF
    server {
        listen 127.0.0.1:$FAKEHUB_PORT;
        server_name fakehub;
        client_max_body_size 0;
        large_client_header_buffers 4 16k;
        location @fakehub_drop { return 444; }
        # Git LFS downloads: fakehub checks the request, nginx sends the object (X-Accel-Redirect).
        location /_fakehub_lfs_store/ {
            internal;
            alias $STACK_VAR/fakehub/lfs/;
            types { }
            default_type application/octet-stream;
        }
        location / {
            fastcgi_param QUERY_STRING      \$query_string;
            fastcgi_param REQUEST_METHOD    \$request_method;
            fastcgi_param CONTENT_TYPE      \$content_type;
            fastcgi_param CONTENT_LENGTH    \$content_length;
            fastcgi_param REQUEST_URI       \$request_uri;
            fastcgi_param SERVER_PROTOCOL   \$server_protocol;
            fastcgi_param REQUEST_SCHEME    \$scheme;
            fastcgi_param HTTPS             \$https if_not_empty;
            fastcgi_param REMOTE_ADDR       \$remote_addr;
            fastcgi_param SERVER_NAME       \$server_name;
            fastcgi_param SERVER_PORT       \$server_port;
            fastcgi_param REQUEST_ID        \$request_id;
            fastcgi_keep_conn off;
            fastcgi_read_timeout 300s;
            fastcgi_send_timeout 300s;
            fastcgi_intercept_errors on;
            error_page 444 = @fakehub_drop;
            fastcgi_pass unix:$STACK_VAR/run/fakehub.sock;
        }
    }
EOF
}
