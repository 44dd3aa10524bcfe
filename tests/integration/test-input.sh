#!/usr/bin/env bash
# tests/integration/test-input.sh: every byte of a request is checked at the boundary (issue 11, parts 4
# and 6), through nginx against the real stack: text that is not UTF-8 (invalid bytes, overlong forms,
# surrogates, NUL, "\u0000", lone surrogate escapes) in JSON bodies, forms, paths, query strings and
# headers is a 400 naming the field; numbers are range-checked, never wrapped; ids past 64 bits are 404;
# fakehub refuses such JSON as GitHub does. Bad input changes nothing and crashes nothing.
set -u
. "$ROOT/tests/pulls/lib-pulls.sh"

LOG=$STACK_VAR/log/fcgi.log
log_start=$(wc -l < "$LOG")
# raw METHOD PATH BYTES [curl args]: a JSON body of raw bytes (printf escapes), body to $T/body.
raw() { local m=$1 p=$2 b=$3; shift 3; printf "$b" > "$T/raw"; call "$m" "$p" -H 'Content-Type: application/json' --data-binary "@$T/raw" "$@"; }
err_of() { jq -r '"\(.error.code) \(.error.field)"' "$T/body" 2>/dev/null; }
nprojects() { psql -qtA -c "SELECT count(*) FROM projects"; }

new_project "input-$$"
NAME=$(jq -r .name <<<"$(call GET "/projects/$PID" >/dev/null; body)")
P0=$(nprojects)

# ---- 4. text that is not UTF-8, in a JSON body
check_eq "POST /projects {name: \\xff\\xfe} → 400 (was 500)" 400 "$(raw POST /projects '{"name":"\xff\xfe"}')"
check_eq "… code invalid, field name" "invalid name" "$(err_of)"
check_match "… the message names the field" "'name'.*UTF-8" "$(jq -r .error.message "$T/body")"
for case in 'overlong \xc0\xae:{"name":"a\xc0\xaeb"}' 'surrogate bytes \xed\xa0\x80:{"name":"\xed\xa0\x80"}' \
	'above U+10FFFF:{"name":"\xf4\x90\x80\x80"}' 'a raw NUL:{"name":"a\x00b"}' \
	'"\\u0000":{"name":"a\\u0000b"}' 'a lone "\\ud800":{"name":"x\\ud800"}' 'a lone "\\udc00":{"name":"\\udc00"}' \
	'"\\ud800\\u0041":{"name":"\\ud800\\u0041"}'; do
	what=${case%%:*}
	check_eq "POST /projects with $what in name → 400 field name" "400 invalid name" \
		"$(raw POST /projects "${case#*:}") $(err_of)"
done
check_eq "a pair of surrogate escapes is one character: 201" 201 "$(raw POST /projects '{"name":"ok \\ud83d\\ude00"}')"
check_eq "… stored as U+1F600" "ok 😀" "$(jq -r .name "$T/body")"
call DELETE "/projects/$(jq -r .id "$T/body")" >/dev/null
check_eq "trailing garbage after the object → 400" 400 "$(raw POST /projects '{"name":"x"} junk')"
check_eq "single-quoted strings are not JSON → 400" 400 "$(raw POST /projects "{'name':'x'}")"
check_eq "no project was created by any of them" "$P0" "$(nprojects)"

check_eq "PATCH /projects/{id} {name: \\xff\\xfe} → 400 field name (was 500)" "400 invalid name" \
	"$(raw PATCH "/projects/$PID" '{"name":"\xff\xfe"}') $(err_of)"
check_eq "PATCH /projects/{id} {name: \"\\u0000\"} → 400" 400 "$(raw PATCH "/projects/$PID" '{"name":"\\u0000"}')"
check_eq "… the name is unchanged" "$NAME" "$(call GET "/projects/$PID" >/dev/null; jq -r .name "$T/body")"
check_eq "settings {commit_template: \\xc0\\xae} → 400 field commit_template" "400 invalid commit_template" \
	"$(raw PATCH "/projects/$PID/settings" '{"commit_template":"\xc0\xae"}') $(err_of)"
check_eq "settings {exclude_patterns: [\"\\u0000\"]} → 400 field exclude_patterns" "400 invalid exclude_patterns" \
	"$(raw PATCH "/projects/$PID/settings" '{"exclude_patterns":["a","\\u0000"]}') $(err_of)"

# A branch named with such bytes: refused before GitHub is asked (it was 201, and fakehub's webhook 500).
nbranches() { gh GET "/repos/$OWNER/$REPO/branches?per_page=100" >/dev/null; jq length "$T/gh"; }
B0=$(nbranches)
check_eq "POST …/branches {name: \\xff\\xfe} → 400 field name" "400 invalid name" \
	"$(raw POST "/projects/$PID/branches" '{"name":"\xff\xfe"}') $(err_of)"
check_eq "POST …/branches {name: \"a\\ud800\"} → 400 field name" "400 invalid name" \
	"$(raw POST "/projects/$PID/branches" '{"name":"a\\ud800"}') $(err_of)"
check_eq "POST …/pulls {title: \\xed\\xb0\\x80} → 400 field title" "400 invalid title" \
	"$(raw POST "/projects/$PID/pulls" '{"title":"\xed\xb0\x80","head":"x"}') $(err_of)"
check_eq "… no branch was made on GitHub" "$B0" "$(nbranches)"

# fakehub is no kinder than GitHub: such JSON is "Problems parsing JSON".
remote_default() { gh GET "/repos/$OWNER/$REPO" >/dev/null; jq -r .default_branch "$T/gh"; }
SHA=$(remote_sha "$(remote_default)")
fhraw() { printf "$3" > "$T/fraw"; curl -s -o "$T/gh" -w '%{http_code}' --max-time 30 -X "$1" -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' --data-binary "@$T/fraw" "$FAKEHUB_API_URL$2"; }
check_eq "fakehub: create a ref named \\xff\\xfe → 400 Problems parsing JSON" "400 Problems parsing JSON" \
	"$(fhraw POST "/repos/$OWNER/$REPO/git/refs" "{\"ref\":\"refs/heads/\xff\xfe\",\"sha\":\"$SHA\"}") $(jq -r .message "$T/gh")"
check_eq "fakehub: a ref named with \"\\u0000\" → 400" 400 \
	"$(fhraw POST "/repos/$OWNER/$REPO/git/refs" "{\"ref\":\"refs/heads/a\\\\u0000b\",\"sha\":\"$SHA\"}")"
check_eq "fakehub: a ref with an overlong '.' → 400" 400 \
	"$(fhraw POST "/repos/$OWNER/$REPO/git/refs" "{\"ref\":\"refs/heads/\xc0\xae\xc0\xae\",\"sha\":\"$SHA\"}")"
check_eq "fakehub: a repository description that is not UTF-8 → 400" 400 \
	"$(fhraw PATCH "/repos/$OWNER/$REPO" '{"description":"\xff"}')"
check_eq "… still no new branch" "$B0" "$(nbranches)"
jcall POST "/projects/$PID/branches" '{"name":"input-feature"}' >/dev/null
web_commit input-feature feature.txt hello
gh POST "/repos/$OWNER/$REPO/pulls" -d "{\"title\":\"t\",\"head\":\"input-feature\",\"base\":\"$(remote_default)\"}" >/dev/null
N=$(jq -r .number "$T/gh")
check_eq "fakehub: GET …/pulls/${N}abc → 404 (it read pull $N)" "200 404" \
	"$(gh GET "/repos/$OWNER/$REPO/pulls/$N") $(gh GET "/repos/$OWNER/$REPO/pulls/${N}abc")"
check_eq "fakehub: GET …/branches?page=9223372036854775807 → 200 [] (the offset wrapped)" "200 0" \
	"$(gh GET "/repos/$OWNER/$REPO/branches?page=9223372036854775807") $(jq length "$T/gh")"

# A webhook delivery whose JSON is not UTF-8: 400 before a byte is stored (it was 500).
D0=$(psql -qtA -c "SELECT count(*) FROM webhook_deliveries")
printf '{"ref":"refs/heads/\xff\xfe","repository":{"full_name":"%s/%s"}}' "$OWNER" "$REPO" > "$T/hook"
st=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$GHB_URL/webhooks/github" -H 'Content-Type: application/json' \
	-H 'X-GitHub-Event: create' -H 'X-GitHub-Delivery: d-input-1' -H "X-Hub-Signature-256: sha256=$(printf '0%.0s' $(seq 64))" \
	--data-binary "@$T/hook")
check_eq "webhook with a body that is not UTF-8 → 400" 400 "$st"
printf '{"zen":"x"}' > "$T/hook"
st=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$GHB_URL/webhooks/github" -H 'Content-Type: application/json' \
	-H $'X-GitHub-Event: \xff\xfe' -H 'X-GitHub-Delivery: d-input-2' --data-binary "@$T/hook")
check_eq "webhook with an X-GitHub-Event header that is not UTF-8 → 400 field X-GitHub-Event" "400 invalid X-GitHub-Event" \
	"$st $(err_of)"
# The same, signed with the hook's secret as fakehub would sign it (this was the 500).
until_ok 30 test "$(webhook_status)" = active
HOOK=$(jq -r .webhook.hook_id "$T/body")
SECRET=$(psql -d fakehub -qtAc "SELECT secret FROM hooks WHERE id = $HOOK")
printf '{"ref":"refs/heads/\xff\xfe","ref_type":"branch","repository":{"full_name":"%s/%s"}}' "$OWNER" "$REPO" > "$T/hook"
st=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$GHB_URL/webhooks/github" -H 'Content-Type: application/json' \
	-H 'X-GitHub-Event: create' -H 'X-GitHub-Delivery: d-input-3' -H "X-GitHub-Hook-ID: $HOOK" \
	-H "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac "$SECRET" -r "$T/hook" | cut -d' ' -f1)" \
	--data-binary "@$T/hook")
check_eq "a signed webhook whose ref is \\xff\\xfe → 400 (was 500)" 400 "$st"
check_eq "… no delivery stored" "$D0" "$(psql -qtA -c "SELECT count(*) FROM webhook_deliveries")"

# git holds any bytes (a Latin-1 commit message); GitHub's JSON about them is UTF-8 (U+FFFD), and so is
# fakehub's, in its answers and in the push webhook ghbridge receives and records.
git clone -q "$CLONE" "$T/clone" 2>/dev/null
PUSH0=$(psql -qtA -c "SELECT count(*) FROM webhook_deliveries WHERE event = 'push'")
# (git commit would rewrite the message as UTF-8 read as Latin-1: the object is written by hand)
(cd "$T/clone" && c=$(printf 'tree %s\nparent %s\nauthor x <x@example.com> 1700000000 +0000\ncommitter x <x@example.com> 1700000000 +0000\n\ncaf\xe9\n' \
	"$(git rev-parse 'HEAD^{tree}')" "$(git rev-parse HEAD)" | git hash-object -t commit -w --stdin) &&
	git update-ref refs/heads/input-latin1 "$c" && git push -q origin input-latin1 2>/dev/null)
check_match "fakehub: the commit's message is text (é read as Latin-1, or U+FFFD)" '^200 caf(é|�)$' \
	"$(gh GET "/repos/$OWNER/$REPO/commits/input-latin1") $(jq -r .commit.message "$T/gh")"
check "… its answer is valid UTF-8" iconv -f UTF-8 -t UTF-8 "$T/gh"
check "… and the push webhook was taken (recorded, not refused)" until_ok 20 \
	test "$(psql -qtA -c "SELECT count(*) FROM webhook_deliveries WHERE event = 'push'")" -gt "$PUSH0"
check_eq "an API call with a User-Agent that is not UTF-8 → 400 field User-Agent" "400 invalid User-Agent" \
	"$(call GET "/projects/$PID" -H $'User-Agent: \xc0\xae') $(err_of)"

# ---- 4. paths: PUT …/files/%c0%ae%c0%ae/x.txt (overlong "..") was 201 and synced
WS=$(call GET "/projects/$PID" >/dev/null; jq -r .workspace "$T/body")
files() { call GET "/projects/$PID/files" >/dev/null; jq -c '[.files[].path]' "$T/body"; }
F0=$(files)
printf 'x' > "$T/put"
for p in '%c0%ae%c0%ae/x.txt' '%e0%80%ae%e0%80%ae/x.txt' 'a/%ed%a0%80.txt' '%ff%fe.txt' 'a%c0%afb.txt'; do
	check_eq "PUT …/files/$p → 400 field path" "400 invalid path" \
		"$(call PUT "/projects/$PID/files/$p" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream') $(err_of)"
done
check_eq "PUT …/files/%00.txt → 400" 400 "$(call PUT "/projects/$PID/files/%00.txt" --data-binary "@$T/put")"
check_eq "PUT …/files/%2e%2e/x.txt → 400 (the service's rule)" 400 "$(call PUT "/projects/$PID/files/%2e%2e/x.txt" --data-binary "@$T/put")"
check_eq "… the file list is unchanged" "$F0" "$(files)"
check_eq "… no x.txt was written beside or under the workspace" "" "$(find "$(dirname "$WS")" -maxdepth 3 -name x.txt 2>/dev/null)"
check_eq "PUT …/files/caf%c3%a9.txt (real UTF-8) → 201" 201 "$(call PUT "/projects/$PID/files/caf%c3%a9.txt" --data-binary "@$T/put")"
call DELETE "/projects/$PID/files/caf%c3%a9.txt" >/dev/null

# ---- forms and query strings (the panel)
signin "$T/jar" octocat >/dev/null
CSRF=$(csrf_of "$T/jar" /projects)
st=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar" -X POST "$GHB_URL/projects" -H "Origin: $GHB_URL" \
	--data "csrf=$CSRF&name=%ff%fe")
check_eq "panel: create a project named %ff%fe → 400 page" 400 "$st"
check_match "… which names the field" "name.*UTF-8" "$(cat "$T/page")"
st=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar" -X POST "$GHB_URL/projects/$PID/rename" -H "Origin: $GHB_URL" \
	--data "csrf=$CSRF&name=%c0%ae")
check_eq "panel: rename to an overlong '.' → 400 page" 400 "$st"
check_eq "… no project was created or renamed" "$P0 $NAME" "$(nprojects) $(call GET "/projects/$PID" >/dev/null; jq -r .name "$T/body")"
check_eq "a query value that is not UTF-8 → 400 field q" "400 invalid q" "$(call GET "/github/repos?q=%ff") $(err_of)"
check_eq "a session cookie that is not UTF-8 is no session (302 to sign in, not 500)" 302 \
	"$(http_status "$GHB_URL/projects" -H $'Cookie: ghb_session=\xff\xfe')"

# ---- 6. numbers: range-checked, never wrapped
bm() { call GET "/projects/$PID" >/dev/null; jq -r .settings.batch_minutes "$T/body"; }
check_eq "settings batch_minutes 7 → 200" 200 "$(jcall PATCH "/projects/$PID/settings" '{"batch_minutes":7}')"
for v in 4294967301 -4294967295 4294967296 1441 -1 99999999999999999999 -99999999999999999999 5.0 1e3 '"5"' true; do
	st=$(jcall PATCH "/projects/$PID/settings" "{\"batch_minutes\":$v}")
	check_eq "settings batch_minutes $v → 422 with the range, 7 kept" "422 0 to 1440 7" \
		"$st $(jq -r .error.fields.batch_minutes "$T/body" | grep -o '0 to 1440') $(bm)"
done
st=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar" -X POST "$GHB_URL/projects/$PID/settings" -H "Origin: $GHB_URL" \
	--data "csrf=$CSRF&sync_branch=main&batch_minutes=4294967301")
check_eq "panel settings batch_minutes=4294967301 → 422, 7 kept" "422 7" "$st $(bm)"
check_eq "history?limit=10abc → 400 field limit (atoi read 10)" "400 invalid limit" "$(call GET "/projects/$PID/history?limit=10abc") $(err_of)"
check_match "… the message gives the range" "1 to 100" "$(jq -r .error.message "$T/body")"
check_eq "history?limit=4294967297 → 400 (atoi wrapped it to 1)" 400 "$(call GET "/projects/$PID/history?limit=4294967297")"
check_eq "history?before=-5 → 400" 400 "$(call GET "/projects/$PID/history?before=-5")"
check_eq "history?limit=5 → 200" 200 "$(call GET "/projects/$PID/history?limit=5")"
# (the pull request API answers bad input 422, as GitHub's own does)
check_eq "pulls?offset=-1 → 422 field offset" "422 invalid offset" "$(call GET "/projects/$PID/pulls?offset=-1") $(err_of)"
check_eq "pulls?limit=4294967306 → 422 (atoi wrapped it to 10)" 422 "$(call GET "/projects/$PID/pulls?limit=4294967306")"
check_eq "github/repos?page=1e3 → 400" 400 "$(call GET "/github/repos?page=1e3")"
check_eq "connect {private: \"no\"} → 400 (json-c read it as true)" 400 \
	"$(jcall POST "/projects/$PID/repository" '{"mode":"link","owner":"octocat","name":"x","private":"no"}')"
for id in 99999999999999999999 9223372036854775808 -1 0 1abc '%201' 18446744073709551617; do
	check_eq "GET /projects/$id → 404" 404 "$(call GET "/projects/$id")"
done
check_eq "GET …/pulls/4294967297 → 404 (not pull 1)" 404 "$(call GET "/projects/$PID/pulls/4294967297")"
check_eq "panel GET …/history/99999999999999999999 → 404" 404 "$(http_status "$GHB_URL/projects/$PID/history/99999999999999999999" -b "$T/jar")"
check_eq "GET /api/v1/jobs/9223372036854775808 → 404" 404 "$(call GET "/jobs/9223372036854775808")"

# ---- nothing crashed, nothing answered 500
check_eq "no 500 in the fcgi log during this test" "" "$(tail -n +"$((log_start + 1))" "$LOG" | grep -E 'status=5[0-9][0-9]' | head -3)"
check "the fcgi responders are still running" kill -0 "$(cat "$STACK_VAR/run/fcgi.pid")"
check "fakehub still answers" fakehub_up
finish
