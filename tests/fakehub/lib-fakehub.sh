# tests/fakehub/lib-fakehub.sh: helpers shared by the fakehub shell tests (curl + grep only, no jq).
A=${FAKEHUB_API_URL:?}
F=${FAKEHUB_URL:?}

# jstr KEY < json: the first "KEY":"value" string; jnum KEY: the first "KEY":number|true|false|null.
jstr() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | sed "s/^\"$1\":\"//; s/\"\$//"; }
jnum() { grep -o "\"$1\":[-0-9a-z.]*" | head -1 | sed "s/^\"$1\"://"; }

# token LOGIN [SCOPE]: a fresh OAuth App token from the admin API.
token() {
	curl -s -X POST "$F/_fakehub/users/$1/tokens" -H 'Content-Type: application/json' \
		-d "{\"scope\":\"${2:-repo,read:org,user:email}\"}" | jstr token
}

# api METHOD PATH TOKEN [JSON]: prints the body, then the status on the last line.
api() {
	local m=$1 p=$2 t=$3 d=${4:-}
	if [ -n "$d" ]; then
		curl -s -w '\n%{http_code}' -X "$m" "$A$p" -H "Authorization: Bearer $t" -H 'Content-Type: application/json' -d "$d"
	else
		curl -s -w '\n%{http_code}' -X "$m" "$A$p" -H "Authorization: Bearer $t"
	fi
}
status_of() { tail -n1; }
body_of() { sed '$d'; }

# uniq_name PREFIX: a repository name no earlier run used.
uniq_name() { echo "$1-$(date +%s%N | tail -c 8)-$RANDOM"; }
