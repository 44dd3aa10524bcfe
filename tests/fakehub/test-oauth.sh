#!/bin/bash
# tests/fakehub/test-oauth.sh: fakehub's OAuth web flow: authorize page, every rejection, PKCE, refresh rotation, expiry, revoke.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/fakehub/lib-fakehub.sh"

CID=test-oauth-$RANDOM SECRET=s3cret-$RANDOM CB=http://127.0.0.1:9/cb
APPID=Iv1.test$RANDOM APPSECRET=appsecret-$RANDOM
curl -s -o /dev/null -X POST "$F/_fakehub/clients" -H 'Content-Type: application/json' \
	-d "{\"client_id\":\"$CID\",\"client_secret\":\"$SECRET\",\"kind\":\"oauth\",\"callback_url\":\"$CB\"}"
curl -s -o /dev/null -X POST "$F/_fakehub/clients" -H 'Content-Type: application/json' \
	-d "{\"client_id\":\"$APPID\",\"client_secret\":\"$APPSECRET\",\"kind\":\"app\",\"callback_url\":\"$CB\"}"
trap 'curl -s -o /dev/null -X POST "$F/_fakehub/clock" -d offset_seconds=0' EXIT

page=$(curl -s "$F/login/oauth/authorize?client_id=$CID&redirect_uri=$CB/x&state=st1&scope=repo&login=octocat")
check_match "authorize page has login field" 'name="login"[^>]*value="octocat"|value="octocat"' "$page"
check_match "authorize page has Authorize button" '>Authorize</button>' "$page"
check_match "authorize page has Cancel button" '>Cancel</button>' "$page"
check_match "authorize form posts back with hidden state" 'type="hidden" name="state" value="st1"' "$page"
check_eq "unknown client: error page, no redirect" 404 "$(http_status "$F/login/oauth/authorize?client_id=nope&state=x")"
# docs "Troubleshooting authorization request errors": a mismatch redirects to the registered callback.
loc_of() { curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$@"; }
check_match "redirect_uri outside callback: 302 to the callback with redirect_uri_mismatch" \
	"^302 $CB\\?error=redirect_uri_mismatch&error_description=The\\+redirect_uri\\+MUST\\+match[^ ]*&state=x\$" \
	"$(loc_of "$F/login/oauth/authorize?client_id=$CID&redirect_uri=http://evil.example/cb&state=x")"
check_match "redirect_uri sibling path refused" "^302 $CB\\?error=redirect_uri_mismatch&" \
	"$(loc_of "$F/login/oauth/authorize?client_id=$CID&redirect_uri=http://127.0.0.1:9/cbx&state=x")"
check_eq "loopback callback: any port is allowed" 200 \
	"$(http_status "$F/login/oauth/authorize?client_id=$CID&redirect_uri=http://127.0.0.1:1234/cb/x&state=x")"
# docs "Authorizing OAuth apps", Redirect URLs: the GOOD and BAD examples for CALLBACK http://example.com/path
HCID=test-host-$RANDOM
curl -s -o /dev/null -X POST "$F/_fakehub/clients" -H 'Content-Type: application/json' \
	-d "{\"client_id\":\"$HCID\",\"client_secret\":\"x\",\"kind\":\"oauth\",\"callback_url\":\"http://example.com/path\"}"
for good in http://example.com/path http://example.com/path/subdir/other http://oauth.example.com/path \
	http://oauth.example.com/path/subdir/other; do
	check_eq "redirect_uri $good is accepted" 200 "$(http_status "$F/login/oauth/authorize?client_id=$HCID&redirect_uri=$good")"
done
for bad in http://example.com/bar http://example.com/ http://example.com:8080/path http://oauth.example.com:8080/path \
	http://example.org; do
	check_match "redirect_uri $bad is refused" '^302 http://example.com/path\?error=redirect_uri_mismatch&' \
		"$(loc_of "$F/login/oauth/authorize?client_id=$HCID&redirect_uri=$bad")"
done
# docs "Generating a user access token for a GitHub App": redirect_uri must match a callback URL exactly.
check_match "GitHub App: a path below the callback is refused" "^302 $CB\\?error=redirect_uri_mismatch&" \
	"$(loc_of "$F/login/oauth/authorize?client_id=$APPID&redirect_uri=$CB/x")"
check_eq "GitHub App: the exact callback is accepted" 200 "$(http_status "$F/login/oauth/authorize?client_id=$APPID&redirect_uri=$CB")"

# authorize LOGIN [extra form args...]: prints the Location header.
authorize() {
	local login=$1; shift
	curl -s -o /dev/null -w '%{redirect_url}' -X POST "$F/login/oauth/authorize" \
		--data-urlencode "client_id=${CLIENT:-$CID}" --data-urlencode "redirect_uri=$CB" \
		--data-urlencode "state=st-42" --data-urlencode "login=$login" "$@"
}
code_of() { sed -n 's/.*[?&]code=\([^&]*\).*/\1/p'; }

loc=$(authorize octocat --data-urlencode action=cancel)
check_match "cancel redirects with access_denied and state" '^http://127.0.0.1:9/cb\?error=access_denied&.*state=st-42$' "$loc"
loc=$(authorize octocat --data-urlencode action=authorize --data-urlencode scope="repo user:email")
check_match "authorize redirects with code and state" '^http://127.0.0.1:9/cb\?code=[0-9a-f]{20}&state=st-42$' "$loc"
code=$(printf %s "$loc" | code_of)
check_eq "unknown login re-renders the page (422)" 422 \
	"$(http_status "$F/login/oauth/authorize" -X POST -d "client_id=$CID&login=nobody-here&action=authorize")"

out=$(curl -s -X POST "$F/login/oauth/access_token" -d "client_id=$CID&client_secret=wrong&code=$code")
check_match "wrong secret: 200 with incorrect_client_credentials (urlencoded)" '^error=incorrect_client_credentials&' "$out"
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' \
	-d "client_id=$CID&client_secret=$SECRET&code=$code&redirect_uri=http://127.0.0.1:9/other")
check_match "redirect_uri mismatch at exchange" '"error":"redirect_uri_mismatch"' "$out"
check_match "redirect_uri mismatch points at its docs section" '"error_uri":"https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch2"' "$out"
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' -H 'Content-Type: application/json' \
	-d "{\"client_id\":\"$CID\",\"client_secret\":\"$SECRET\",\"code\":\"$code\",\"redirect_uri\":\"$CB\"}")
check_match "JSON exchange gives a gho_ token" '"access_token":"gho_[A-Za-z0-9]{36}"' "$out"
check_match "scope is normalised to commas" '"scope":"repo,user:email"' "$out"
check_match "token_type bearer" '"token_type":"bearer"' "$out"
tok=$(printf %s "$out" | jstr access_token)
check_eq "the token works on /user" 200 "$(http_status "$A/user" -H "Authorization: token $tok")"
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' -d "client_id=$CID&client_secret=$SECRET&code=$code&redirect_uri=$CB")
check_match "reused code: bad_verification_code (HTTP 200)" '"error":"bad_verification_code"' "$out"

# urlencoded answer by default
code=$(authorize octocat --data-urlencode action=authorize | code_of)
out=$(curl -s -X POST "$F/login/oauth/access_token" -d "client_id=$CID&client_secret=$SECRET&code=$code")
check_match "default answer is urlencoded" '^access_token=gho_[A-Za-z0-9]+&token_type=bearer&scope=' "$out"

# expired code (10 minutes)
code=$(authorize octocat --data-urlencode action=authorize | code_of)
curl -s -o /dev/null -X POST "$F/_fakehub/clock" -d advance_seconds=601
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' -d "client_id=$CID&client_secret=$SECRET&code=$code")
check_match "code expires after 10 minutes" '"error":"bad_verification_code"' "$out"
curl -s -o /dev/null -X POST "$F/_fakehub/clock" -d offset_seconds=0

# PKCE S256
verifier=$(openssl rand -hex 32)
challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')
check_eq "plain PKCE method refused" 400 \
	"$(http_status "$F/login/oauth/authorize?client_id=$CID&code_challenge=$challenge&code_challenge_method=plain")"
code=$(authorize octocat --data-urlencode action=authorize --data-urlencode code_challenge="$challenge" --data-urlencode code_challenge_method=S256 | code_of)
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' -d "client_id=$CID&client_secret=$SECRET&code=$code")
check_match "PKCE: missing verifier refused" '"error":"bad_verification_code"' "$out"
code=$(authorize octocat --data-urlencode action=authorize --data-urlencode code_challenge="$challenge" --data-urlencode code_challenge_method=S256 | code_of)
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' -d "client_id=$CID&client_secret=$SECRET&code=$code&code_verifier=wrong$verifier")
check_match "PKCE: wrong verifier refused" '"error":"bad_verification_code"' "$out"
code=$(authorize octocat --data-urlencode action=authorize --data-urlencode code_challenge="$challenge" --data-urlencode code_challenge_method=S256 | code_of)
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' -d "client_id=$CID&client_secret=$SECRET&code=$code&code_verifier=$verifier")
check_match "PKCE: right verifier accepted" '"access_token":"gho_' "$out"

# GitHub App kind: ghu_ tokens expire in 8 h, ghr_ refresh tokens rotate
CLIENT=$APPID
code=$(authorize hubot --data-urlencode action=authorize | code_of)
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' -d "client_id=$APPID&client_secret=$APPSECRET&code=$code")
check_match "app: ghu_ token with expires_in 28800" '"access_token":"ghu_.*"expires_in":28800' "$out"
check_match "app: ghr_ refresh token" '"refresh_token":"ghr_[A-Za-z0-9]{36}","refresh_token_expires_in":15811200' "$out"
ghu=$(printf %s "$out" | jstr access_token); ghr=$(printf %s "$out" | jstr refresh_token)
out2=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' \
	-d "client_id=$APPID&client_secret=$APPSECRET&grant_type=refresh_token&refresh_token=$ghr")
check_match "refresh gives a new pair" '"access_token":"ghu_.*"refresh_token":"ghr_' "$out2"
ghr2=$(printf %s "$out2" | jstr refresh_token)
check_eq "after a refresh the old user access token no longer works" 401 "$(http_status "$A/user" -H "Authorization: Bearer $ghu")"
check_eq "the new user access token works" 200 "$(http_status "$A/user" -H "Authorization: Bearer $(printf %s "$out2" | jstr access_token)")"
ghu=$(printf %s "$out2" | jstr access_token)
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' \
	-d "client_id=$APPID&client_secret=$APPSECRET&grant_type=refresh_token&refresh_token=$ghr")
check_match "used refresh token is spent (rotation)" '"error":"bad_refresh_token"' "$out"
curl -s -o /dev/null -X POST "$F/_fakehub/clock" -d advance_seconds=28801
check_eq "ghu_ token expires after 8 h" 401 "$(http_status "$A/user" -H "Authorization: Bearer $ghu")"
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' \
	-d "client_id=$APPID&client_secret=$APPSECRET&grant_type=refresh_token&refresh_token=$ghr2")
check_match "refresh still works after access expiry" '"access_token":"ghu_' "$out"
curl -s -o /dev/null -X POST "$F/_fakehub/clock" -d advance_seconds=15811300
ghr3=$(printf %s "$out" | jstr refresh_token)
out=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' \
	-d "client_id=$APPID&client_secret=$APPSECRET&grant_type=refresh_token&refresh_token=$ghr3")
check_match "refresh token expires after 6 months" '"error":"bad_refresh_token"' "$out"
curl -s -o /dev/null -X POST "$F/_fakehub/clock" -d offset_seconds=0

# grant revocation with client Basic auth
CLIENT=$CID
code=$(authorize octocat --data-urlencode action=authorize | code_of)
tok=$(curl -s -X POST "$F/login/oauth/access_token" -H 'Accept: application/json' -d "client_id=$CID&client_secret=$SECRET&code=$code" | jstr access_token)
check_eq "revoke with wrong client secret: 404" 404 "$(http_status "$A/applications/$CID/grant" -X DELETE -u "$CID:bad" -d "{\"access_token\":\"$tok\"}")"
check_eq "revoke grant: 204" 204 "$(http_status "$A/applications/$CID/grant" -X DELETE -u "$CID:$SECRET" -d "{\"access_token\":\"$tok\"}")"
check_eq "revoked token: 401" 401 "$(http_status "$A/user" -H "Authorization: Bearer $tok")"
list=$(curl -s "$F/_fakehub/users/octocat/tokens")
check_match "admin lists issued tokens with their hash" "\"token\":\"$tok\",\"token_sha256\":\"[0-9a-f]{64}\"" "$list"
finish
