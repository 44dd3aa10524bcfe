#!/usr/bin/env bash
# tests/security/test-refs.sh: ref names by git's rules (git-check-ref-format(1)) and GitHub's at every
# entry point (issue 11, case 3): the branch API and page, settings (API and form), pull-request head and
# base (API and page); fakehub refuses such refs as GitHub does (422 on git/refs, a refusal on push), and
# its DELETE answers 204 only when the ref is gone.
set -u
. "$ROOT/tests/lib.sh"
if ! command -v jq >/dev/null; then skip "ref name tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "ref name tests" "fakehub is not running"; finish; exit; fi
. "$ROOT/tests/pulls/lib-pulls.sh"

new_project "Refs"
check_eq "project synced" SUCCESS "$(project_status)"
MAIN=$(remote_sha main)
DEL=$'a\x7fb'
refs_now() { git ls-remote "$CLONE" 2>/dev/null | cut -f2 | sort | tr '\n' ' '; }
REFS0=$(refs_now)

# ---------------------------------------------------------------- the branch API
check_eq "POST branches {\"name\":\"a\\u007fb\"} → 422" 422 "$(jcall POST "/projects/$PID/branches" '{"name":"a\u007fb","from":"main"}')"
check_match "… saying which rule" "control characters" "$(jq -r .error.message "$T/body")"
check_eq "… nothing reached GitHub" "$REFS0" "$(refs_now)"
for n in 'a..b' 'x.lock' 'a/.b' 'a@{b' 'a\\b' 'refs/heads/x' '0123456789abcdef0123456789abcdef01234567' '-x' 'HEAD' 'a/' 'a.'; do
	check_eq "POST branches '$n' → 422" 422 "$(jcall POST "/projects/$PID/branches" "{\"name\":\"$n\",\"from\":\"main\"}")"
done
check_eq "a 'from' git refuses → 422" 422 "$(jcall POST "/projects/$PID/branches" '{"name":"ok-name","from":"a\u007fb"}')"
check_eq "DELETE branches/a%7Fb → 422" 422 "$(call DELETE "/projects/$PID/branches/a%7Fb")"
check_match "… saying which rule" "control characters" "$(jq -r .error.message "$T/body")"
check_eq "a good name still works → 201" 201 "$(jcall POST "/projects/$PID/branches" '{"name":"feature/ok","from":"main"}')"
REFS1=$(refs_now)

# ---------------------------------------------------------------- the branch page
CSRF=$(csrf_of "$T/jar-octocat" "/projects/$PID/branches")
code=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar-octocat" -X POST "$GHB_URL/projects/$PID/branches" \
	--data-urlencode "csrf=$CSRF" --data-urlencode "name=$DEL" --data-urlencode "from=main")
check_eq "branch form with DEL → 422" 422 "$code"
check_match "… the page says which rule" "control characters" "$(cat "$T/page")"
check_eq "… nothing reached GitHub" "$REFS1" "$(refs_now)"

# ---------------------------------------------------------------- settings: sync_branch
check_eq "PATCH settings sync_branch a\\u007fb → 422" 422 "$(jcall PATCH "/projects/$PID/settings" '{"sync_branch":"a\u007fb"}')"
check_match "… at the field, naming the rule" "control characters" "$(jq -r '.error.fields.sync_branch // .error.message' "$T/body")"
check_eq "PATCH settings sync_branch a/.hidden → 422" 422 "$(jcall PATCH "/projects/$PID/settings" '{"sync_branch":"a/.hidden"}')"
check_match "… naming the rule" "begins with '\\.'" "$(jq -r '.error.fields.sync_branch // .error.message' "$T/body")"
CSRF=$(csrf_of "$T/jar-octocat" "/projects/$PID/settings")
code=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar-octocat" -X POST "$GHB_URL/projects/$PID/settings" \
	--data-urlencode "csrf=$CSRF" --data-urlencode "sync_branch=$DEL" --data-urlencode 'commit_template=x' \
	--data-urlencode 'batch_minutes=0')
check_eq "settings form with DEL → 422" 422 "$code"
check_match "… the error at the field" 'field-error[^<]*control characters' "$(tr -d '\n' < "$T/page")"
check_eq "the sync branch is still main" main "$(call GET "/projects/$PID" >/dev/null; jq -r .settings.sync_branch "$T/body")"

# ---------------------------------------------------------------- pull requests: head and base
check_eq "pull request head a\\u007fb → 422" 422 "$(jcall POST "/projects/$PID/pulls" '{"title":"x","head":"a\u007fb"}')"
check_match "… at the field" "control characters" "$(jq -r '.error.fields.head' "$T/body")"
check_eq "pull request base a\\u007fb → 422" 422 "$(jcall POST "/projects/$PID/pulls" '{"title":"x","head":"feature/ok","base":"a\u007fb"}')"
check_match "… at the field" "control characters" "$(jq -r '.error.fields.base' "$T/body")"
CSRF=$(csrf_of "$T/jar-octocat" "/projects/$PID/pulls/new")
code=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar-octocat" -X POST "$GHB_URL/projects/$PID/pulls" \
	--data-urlencode "csrf=$CSRF" --data-urlencode 'title=x' --data-urlencode 'from=branch' --data-urlencode "head=$DEL" \
	--data-urlencode 'base=main')
check_eq "pull request form with DEL head → 422" 422 "$code"
check_match "… the page names the rule at the field" 'field-error[^<]*control characters' "$(tr -d '\n' < "$T/page")"
code=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar-octocat" -X POST "$GHB_URL/projects/$PID/pulls" \
	--data-urlencode "csrf=$CSRF" --data-urlencode 'title=x' --data-urlencode 'from=branch' --data-urlencode 'head=feature/ok' \
	--data-urlencode "base=$DEL")
check_eq "pull request form with DEL base → 422" 422 "$code"
check_match "… the page names the rule at the field" 'field-error[^<]*control characters' "$(tr -d '\n' < "$T/page")"
check_eq "no pull request on GitHub" 0 "$(gh GET "/repos/$OWNER/$REPO/pulls?state=all" >/dev/null; jq length "$T/gh")"

# ---------------------------------------------------------------- fakehub refuses as GitHub does
check_eq "fakehub: POST git/refs refs/heads/a\\u007fb → 422" 422 \
	"$(gh POST "/repos/$OWNER/$REPO/git/refs" -H 'Content-Type: application/json' -d "{\"ref\":\"refs/heads/a\\u007fb\",\"sha\":\"$MAIN\"}")"
check_match "… in GitHub's words" "is not a valid ref name" "$(jq -r .message "$T/gh")"
for r in 'refs/heads/a..b' 'refs/heads/x.lock' 'refs/heads/a@{b' 'refs/heads/refs/heads/x'; do
	check_eq "fakehub: POST git/refs '$r' → 422" 422 \
		"$(gh POST "/repos/$OWNER/$REPO/git/refs" -H 'Content-Type: application/json' -d "{\"ref\":\"$r\",\"sha\":\"$MAIN\"}")"
done
check_eq "… none was stored" "$REFS1" "$(refs_now)"
# A push of such a ref, spoken to git-receive-pack directly (the git CLI refuses to send it at all).
git init -q "$T/e" && (cd "$T/e" && git pack-objects --stdout < /dev/null > "$T/empty.pack")
# pkt-line: 4 length digits + old + ' ' + new + ' ' + the 14-byte ref + NUL + capabilities.
{ printf '%04x' $(( 40 + 1 + 40 + 1 + 14 + 1 + 13 + 4 )); printf '0000000000000000000000000000000000000000 %s refs/heads/a\x7fb\0report-status' "$MAIN"; printf '0000'; cat "$T/empty.pack"; } > "$T/push.req"
curl -s -o "$T/push.out" -u "x-access-token:$TOKEN" -H 'Content-Type: application/x-git-receive-pack-request' \
	--data-binary "@$T/push.req" "$FAKEHUB_URL/$OWNER/$REPO.git/git-receive-pack"
check_match "fakehub: a push of refs/heads/a\\x7fb is refused" "ng refs/heads/a.b funny refname" "$(tr -d '\0' < "$T/push.out" | tr '\177' '.')"
check_eq "… and not stored" "$REFS1" "$(refs_now)"
HEX=0123456789abcdef0123456789abcdef01234567
rm -rf "$T/c" && git clone -q "$CLONE" "$T/c" 2>/dev/null
check "fakehub: a push of a 40-hex branch name is refused" bash -c "! git -C '$T/c' push -q origin HEAD:refs/heads/$HEX 2>'$T/push.err'"
check_match "… in GitHub's words (GH002)" "GH002: Sorry, branch or tag names consisting of 40 hex characters are not allowed" "$(cat "$T/push.err")"
check_eq "… and not stored" "$REFS1" "$(refs_now)"
check_eq "fakehub: DELETE git/refs of a branch → 204" 204 "$(gh DELETE "/repos/$OWNER/$REPO/git/refs/heads/feature/ok")"
check_eq "… and it is gone" "$REFS0" "$(refs_now)"
check_eq "fakehub: DELETE again → 422" 422 "$(gh DELETE "/repos/$OWNER/$REPO/git/refs/heads/feature/ok")"

finish
