#!/bin/bash
# tests/fakehub/test-api.sh: fakehub REST basics: auth rules, rate-limit headers, ETag/304, repos (201/422/404), pagination, branches, refs, commits, compare.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/fakehub/lib-fakehub.sh"

T=$(token octocat); H=$(token hubot)
check_match "admin API issues a gho_ token" '^gho_[A-Za-z0-9]{36}$' "$T"
check_eq "no token on /user: 401" 401 "$(http_status "$A/user")"
out=$(curl -s "$A/user" -H "Authorization: Bearer gho_nonsense")
check_match "bad token: 401 Bad credentials" '"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"' "$out"
check_eq "GET /user login" octocat "$(curl -s "$A/user" -H "Authorization: token $T" | jstr login)"
check_match "GET /user/orgs lists acme" '"login":"acme"' "$(curl -s "$A/user/orgs" -H "Authorization: Bearer $T")"
check_eq "unknown route: 404 JSON" 404 "$(http_status "$A/nope/nope" -H "Authorization: Bearer $T")"

# The rate-limit counts are a user's own (docs "Rate limits for the REST API"): a user of this test's
# alone, so a ghbridge worker acting for octocat after an earlier suite does not move them meanwhile.
RLU=rl$$
curl -s -o /dev/null -X POST "$F/_fakehub/users" -H 'Content-Type: application/json' -d "{\"login\":\"$RLU\"}"
TR=$(token "$RLU")
hdr=$(curl -s -D - -o /dev/null "$A/user" -H "Authorization: Bearer $TR")
for h in X-RateLimit-Limit X-RateLimit-Remaining X-RateLimit-Used X-RateLimit-Reset X-RateLimit-Resource X-GitHub-Request-Id ETag; do
	check_match "header $h" "^$h: " "$(printf '%s' "$hdr" | tr -d '\r')"
done
used1=$(printf '%s' "$hdr" | tr -d '\r' | sed -n 's/^X-RateLimit-Used: //p')
etag=$(printf '%s' "$hdr" | tr -d '\r' | sed -n 's/^ETag: //p')
hdr2=$(curl -s -D - -o /dev/null "$A/user" -H "Authorization: Bearer $TR" -H "If-None-Match: $etag")
check_match "If-None-Match with current ETag: 304" '^HTTP/1.1 304' "$hdr2"
used2=$(printf '%s' "$hdr2" | tr -d '\r' | sed -n 's/^X-RateLimit-Used: //p')
check_eq "304 does not count against the limit" "$used1" "$used2"
hdr3=$(curl -s -D - -o /dev/null "$A/user" -H "Authorization: Bearer $TR")
check_eq "a 200 counts" "$((used1 + 1))" "$(printf '%s' "$hdr3" | tr -d '\r' | sed -n 's/^X-RateLimit-Used: //p')"
# docs "Rate limits for the REST API": the limit is the user's, shared by every token acting for them.
T2=$(token "$RLU")
u_a=$(curl -s -D - -o /dev/null "$A/user" -H "Authorization: Bearer $TR" | tr -d '\r' | sed -n 's/^X-RateLimit-Used: //p')
u_b=$(curl -s -D - -o /dev/null "$A/user" -H "Authorization: Bearer $T2" | tr -d '\r' | sed -n 's/^X-RateLimit-Used: //p')
check_eq "two tokens of one user share the limit" "$((u_a + 1))" "$u_b"
rl=$(curl -s "$A/rate_limit" -H "Authorization: Bearer $T")
check_match "/rate_limit shape" '"resources":\{"core":\{"limit":5000,"used":[0-9]+,"remaining":[0-9]+,"reset":[0-9]+\}' "$rl"
check_match "anonymous limit is 60" '^X-RateLimit-Limit: 60' "$(curl -s -D - -o /dev/null "$A/rate_limit" | tr -d '\r')"

# repositories
name=$(uniq_name demo)
res=$(api POST /user/repos "$T" "{\"name\":\"$name\",\"description\":\"d\",\"auto_init\":true}")
check_eq "POST /user/repos: 201" 201 "$(printf '%s' "$res" | status_of)"
check_eq "full_name" "octocat/$name" "$(printf '%s' "$res" | body_of | jstr full_name)"
check_eq "default_branch main" main "$(printf '%s' "$res" | body_of | jstr default_branch)"
res=$(api POST /user/repos "$T" "{\"name\":\"$name\"}")
check_eq "duplicate name: 422" 422 "$(printf '%s' "$res" | status_of)"
check_match "422 shape" '"message":"Repository creation failed.","errors":\[\{"resource":"Repository","field":"name","code":"custom","message":"name already exists on this account"\}\]' "$(printf '%s' "$res" | body_of)"
check_eq "missing name: 422" 422 "$(api POST /user/repos "$T" '{}' | status_of)"
check_eq "no token: 401" 401 "$(http_status "$A/user/repos" -X POST -d "{\"name\":\"x$name\"}")"
check_eq "org repo by member: 201" 201 "$(api POST /orgs/acme/repos "$T" "{\"name\":\"$name\"}" | status_of)"
check_eq "org repo by non-member: 403" 403 "$(api POST /orgs/acme/repos "$H" "{\"name\":\"h$name\"}" | status_of)"
check_eq "org repo in unknown org: 404" 404 "$(api POST /orgs/no-such-org-x/repos "$T" "{\"name\":\"$name\"}" | status_of)"
priv=$(uniq_name secret)
check_eq "private repo: 201" 201 "$(api POST /user/repos "$T" "{\"name\":\"$priv\",\"private\":true}" | status_of)"
check_eq "owner sees private repo" 200 "$(api GET /repos/octocat/$priv "$T" | status_of)"
check_eq "other user gets 404 (not 403)" 404 "$(api GET /repos/octocat/$priv "$H" | status_of)"
check_eq "anonymous gets 404" 404 "$(http_status "$A/repos/octocat/$priv")"
check_eq "public repo readable by others" 200 "$(api GET /repos/octocat/$name "$H" | status_of)"
# docs repos/update: "name" renames; the id and the history stay, the new name answers, a taken one is 422
ren=$(uniq_name renamed)
rid=$(api GET /repos/octocat/$priv "$T" | body_of | grep -o '"id":[0-9]*' | head -1)
check_eq "rename by a non-admin: 404 (cannot see it)" 404 "$(api PATCH /repos/octocat/$priv "$H" "{\"name\":\"$ren\"}" | status_of)"
check_eq "rename to a taken name: 422" 422 "$(api PATCH /repos/octocat/$priv "$T" "{\"name\":\"$name\"}" | status_of)"
check_eq "rename to an invalid name: 422" 422 "$(api PATCH /repos/octocat/$priv "$T" '{"name":"a b"}' | status_of)"
res=$(api PATCH /repos/octocat/$priv "$T" "{\"name\":\"$ren\"}")
check_eq "rename: 200 with the new full_name" "200 octocat/$ren" "$(printf '%s' "$res" | status_of) $(printf '%s' "$res" | body_of | jstr full_name)"
check_eq "… same id" "$rid" "$(api GET /repos/octocat/$ren "$T" | body_of | grep -o '"id":[0-9]*' | head -1)"
check_eq "… and its git with it (info/refs with the token)" 200 \
	"$(http_status "$F/octocat/$ren.git/info/refs?service=git-upload-pack" -u "x-access-token:$T")"
check_eq "the old name redirects, as on GitHub (301 for GET)" 301 "$(api GET /repos/octocat/$priv "$T" | status_of)"
check_eq "… but not for someone who cannot see the repository (404)" 404 "$(api GET /repos/octocat/$priv "$H" | status_of)"
api PATCH /repos/octocat/$ren "$T" "{\"name\":\"$priv\"}" >/dev/null
check_eq "token without repo scope cannot see private repo" 404 "$(api GET /repos/octocat/$priv "$(token octocat read:user)" | status_of)"

# docs repos/create-for-authenticated-user: public_repo creates public repositories only, repo any; 404 otherwise
PR=$(token octocat public_repo)
check_eq "public_repo scope creates a public repo" 201 "$(api POST /user/repos "$PR" "{\"name\":\"$(uniq_name pub)\"}" | status_of)"
check_eq "public_repo scope cannot create a private repo: 404" 404 "$(api POST /user/repos "$PR" "{\"name\":\"$(uniq_name pub)\",\"private\":true}" | status_of)"
check_eq "no repo scope cannot create a repo: 404" 404 "$(api POST /user/repos "$(token octocat read:user)" "{\"name\":\"$(uniq_name nos)\"}" | status_of)"
check_eq "no repo scope cannot create an org repo: 404" 404 "$(api POST /orgs/acme/repos "$(token octocat read:org)" "{\"name\":\"$(uniq_name nos)\"}" | status_of)"

# docs repos/list-for-authenticated-user: affiliation, type, visibility
own=$(api GET "/user/repos?affiliation=owner&per_page=100" "$T" | body_of | grep -o '"full_name":"[^"]*"' | sort -u)
check_match "affiliation=owner lists octocat's repos" '"full_name":"octocat/' "$own"
check_eq "affiliation=owner lists no organisation repos" "" "$(printf '%s' "$own" | grep -v '"full_name":"octocat/')"
orgs=$(api GET "/user/repos?affiliation=organization_member&per_page=100" "$T" | body_of | grep -o '"full_name":"[^"]*"' | sort -u)
check_match "affiliation=organization_member lists acme repos" '"full_name":"acme/' "$orgs"
check_eq "affiliation=organization_member lists no own repos" "" "$(printf '%s' "$orgs" | grep '"full_name":"octocat/')"
check_eq "type=member lists no own repos" "" "$(api GET "/user/repos?type=member&per_page=100" "$T" | body_of | grep -o '"full_name":"octocat/')"
check_eq "visibility=private lists only private repos" "" "$(api GET "/user/repos?visibility=private&per_page=100" "$T" | body_of | grep -o '"private":false')"
check_eq "type with visibility: 422" 422 "$(api GET "/user/repos?type=owner&visibility=public" "$T" | status_of)"
check_eq "type with affiliation: 422" 422 "$(api GET "/user/repos?type=owner&affiliation=owner" "$T" | status_of)"

# pagination: make sure octocat has at least 5 repos, then page by 2
for i in 1 2 3; do api POST /user/repos "$T" "{\"name\":\"$(uniq_name page)\"}" >/dev/null; done
hdr=$(curl -s -D - -o /tmp/fh-page.$$ "$A/user/repos?per_page=2&page=2" -H "Authorization: Bearer $T" | tr -d '\r')
link=$(printf '%s' "$hdr" | sed -n 's/^Link: //p')
check_match "Link has next" '<http://[^>]*per_page=2&page=3>; rel="next"' "$link"
check_match "Link has prev" 'page=1>; rel="prev"' "$link"
check_match "Link has last" 'rel="last"' "$link"
check_match "Link has first" 'rel="first"' "$link"
check_eq "page holds per_page repos" 2 "$(grep -o '"full_name"' /tmp/fh-page.$$ | wc -l)"
rm -f /tmp/fh-page.$$
last=$(printf '%s' "$link" | sed -n 's/.*page=\([0-9]*\)>; rel="last".*/\1/p')
check_eq "last page has no next" "" "$(curl -s -D - -o /dev/null "$A/user/repos?per_page=2&page=$last" -H "Authorization: Bearer $T" | tr -d '\r' | sed -n 's/^Link: //p' | grep -o 'rel="next"')"

# branches, refs, commits, compare
main=$(api GET /repos/octocat/$name/branches/main "$T" | body_of)
sha=$(printf '%s' "$main" | jstr sha)
check_match "branch main has a commit" '^[0-9a-f]{40}$' "$sha"
check_eq "missing branch: 404" 404 "$(api GET /repos/octocat/$name/branches/nope "$T" | status_of)"
res=$(api POST /repos/octocat/$name/git/refs "$T" "{\"ref\":\"refs/heads/feature/x\",\"sha\":\"$sha\"}")
check_eq "create ref: 201" 201 "$(printf '%s' "$res" | status_of)"
check_eq "create existing ref: 422" 422 "$(api POST /repos/octocat/$name/git/refs "$T" "{\"ref\":\"refs/heads/feature/x\",\"sha\":\"$sha\"}" | status_of)"
check_eq "create ref with unknown sha: 422" 422 "$(api POST /repos/octocat/$name/git/refs "$T" "{\"ref\":\"refs/heads/y\",\"sha\":\"1111111111111111111111111111111111111111\"}" | status_of)"
check_eq "create ref by non-collaborator: 403" 403 "$(api POST /repos/octocat/$name/git/refs "$H" "{\"ref\":\"refs/heads/z\",\"sha\":\"$sha\"}" | status_of)"
check_eq "GET git/ref/heads/feature/x" "refs/heads/feature/x" "$(api GET /repos/octocat/$name/git/ref/heads/feature/x "$T" | body_of | jstr ref)"
check_eq "branches lists 2" 2 "$(api GET /repos/octocat/$name/branches "$T" | body_of | grep -o '"name"' | wc -l)"
c=$(api GET /repos/octocat/$name/commits/main "$T" | body_of)
check_match "commit has files with README.md" '"filename":"README.md","status":"added"' "$c"
check_match "commit has stats" '"stats":\{"total":[0-9]+,"additions":[0-9]+,"deletions":0\}' "$c"
check_eq "compare identical" identical "$(api GET "/repos/octocat/$name/compare/main...feature/x" "$T" | body_of | jstr status)"
check_eq "update ref to same sha: 200" 200 "$(api PATCH /repos/octocat/$name/git/refs/heads/feature/x "$T" "{\"sha\":\"$sha\"}" | status_of)"
check_eq "delete ref: 204" 204 "$(api DELETE /repos/octocat/$name/git/refs/heads/feature/x "$T" | status_of)"
check_eq "delete missing ref: 422" 422 "$(api DELETE /repos/octocat/$name/git/refs/heads/feature/x "$T" | status_of)"
check_eq "missing ref: 404" 404 "$(api GET /repos/octocat/$name/git/ref/heads/feature/x "$T" | status_of)"
finish
