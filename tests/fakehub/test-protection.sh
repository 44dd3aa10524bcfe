#!/bin/bash
# tests/fakehub/test-protection.sh: branch protection as GitHub does it (issue 12): the REST API
# (PUT/GET/DELETE …/branches/{branch}/protection, "protected" in branch objects, a branch named
# "x/protection" is not the protection of "x"), pushes refused with GH006 "protected branch hook declined",
# force pushes refused, admins bypassing unless enforce_admins, merges held by required status checks (405),
# and GH001: a blob over 100 MiB refused, one over 50 MiB accepted with GitHub's warning. The push log
# (/_fakehub/repos/{o}/{r}/pushes) counts pushes and their bytes.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/fakehub/lib-fakehub.sh"

T=$(token octocat); H=$(token hubot)
name=$(uniq_name protect)
api POST /user/repos "$T" "{\"name\":\"$name\",\"auto_init\":true}" >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
export GIT_TERMINAL_PROMPT=0 GIT_AUTHOR_NAME=octocat GIT_AUTHOR_EMAIL=octocat@github.com GIT_COMMITTER_NAME=octocat GIT_COMMITTER_EMAIL=octocat@github.com
url() { echo "http://x-access-token:$1@${F#http://}/$2.git"; }
R=/repos/octocat/$name

# ---- the API
res=$(api GET $R/branches/main/protection "$T")
check_eq "GET an unprotected branch's protection: 404" 404 "$(printf '%s' "$res" | status_of)"
check_match "… Branch not protected" '"message":"Branch not protected"' "$(printf '%s' "$res" | body_of)"
res=$(api PUT $R/branches/main/protection "$T" '{"enforce_admins":true,"required_pull_request_reviews":null,"restrictions":null}')
check_eq "PUT without required_status_checks: 422" 422 "$(printf '%s' "$res" | status_of)"
check_match "… says which key is missing" 'required_status_checks\\" wasn.t supplied' "$(printf '%s' "$res" | body_of)"
res=$(api PUT $R/branches/main/protection "$T" '{"required_status_checks":null,"enforce_admins":true,"required_pull_request_reviews":null,"restrictions":{"users":["hubot"],"teams":[]}}')
check_eq "user and team restrictions on a user's repository: 422" 422 "$(printf '%s' "$res" | status_of)"
check_eq "PUT on a missing branch: 404" 404 "$(api PUT $R/branches/nope/protection "$T" '{"required_status_checks":null,"enforce_admins":true,"required_pull_request_reviews":{},"restrictions":null}' | status_of)"
check_eq "PUT by a non-admin: 403" 403 "$(api PUT $R/branches/main/protection "$H" '{"required_status_checks":null,"enforce_admins":true,"required_pull_request_reviews":{},"restrictions":null}' | status_of)"
res=$(api PUT $R/branches/main/protection "$T" '{"required_status_checks":{"strict":true,"contexts":["ci/test"]},"enforce_admins":true,"required_pull_request_reviews":{"required_approving_review_count":0},"restrictions":null,"allow_force_pushes":false,"allow_deletions":false}')
body=$(printf '%s' "$res" | body_of)
check_eq "PUT protection: 200" 200 "$(printf '%s' "$res" | status_of)"
check_match "… url of the protection" "\"url\":\"[^\"]*$R/branches/main/protection\"" "$body"
check_match "… required_status_checks with contexts and checks" '"required_status_checks":\{"url":"[^"]*","strict":true,"contexts":\["ci/test"\],"contexts_url":"[^"]*","checks":\[\{"context":"ci/test","app_id":null\}\]\}' "$body"
check_match "… enforce_admins enabled" '"enforce_admins":\{"url":"[^"]*","enabled":true\}' "$body"
check_match "… allow_force_pushes disabled" '"allow_force_pushes":\{"enabled":false\}' "$body"
check_match "… required_pull_request_reviews" '"required_approving_review_count":0' "$body"
check_eq "GET protection: 200" 200 "$(api GET $R/branches/main/protection "$T" | status_of)"
res=$(api GET $R/branches/main "$T" | body_of)
check_match "the branch is protected" '"protected":true' "$res"
check_match "… its protection names the required check" '"protection":\{"enabled":true,"required_status_checks":\{"enforcement_level":"everyone","contexts":\["ci/test"\]' "$res"
check_match "the branch list says protected" '"name":"main","commit":\{[^}]*\},"protected":true' "$(api GET $R/branches "$T" | body_of)"

# ---- pushes
git clone -q "$(url "$T" "octocat/$name")" "$W/w"
cd "$W/w"
echo one > one.txt && git add one.txt && git commit -qm one
out=$(git push origin main 2>&1)
check_match "a push to the protected branch: GH006" "remote: error: GH006: Protected branch update failed for refs/heads/main\." "$out"
check_match "… in GitHub's words" "remote: - Changes must be made through a pull request\." "$out"
check_match "… names the required check" 'remote: - Required status check "ci/test" is expected\.' "$out"
check_match "… the ref is refused as GitHub does" '! \[remote rejected\] main -> main \(protected branch hook declined\)' "$out"
check_eq "… main did not move" "$(git rev-parse origin/main)" "$(api GET $R/branches/main "$T" | body_of | jstr sha)"
check "the same commit on another branch is accepted" git push -q origin HEAD:refs/heads/side
pushes=$(curl -s "$F/_fakehub/repos/octocat/$name/pushes")
check_match "the push log counts both pushes" '"count":2,' "$pushes"
check_match "… with the refusal" '"refused":"refs/heads/main protected branch hook declined"' "$pushes"
res=$(api PATCH $R/git/refs/heads/main "$T" "{\"sha\":\"$(git rev-parse HEAD)\"}")
check_eq "the REST API keeps the rules too: PATCH git/refs → 422" 422 "$(printf '%s' "$res" | status_of)"
check_match "… Changes must be made through a pull request." 'Changes must be made through a pull request\.' "$(printf '%s' "$res" | body_of)"
res=$(api DELETE $R/git/refs/heads/main "$T")
check_eq "DELETE git/refs/heads/main → 422" 422 "$(printf '%s' "$res" | status_of)"
check_match "… Cannot delete this protected branch" 'Cannot delete this protected branch' "$(printf '%s' "$res" | body_of)"
out=$(git push origin :main 2>&1)
check_match "a push deleting it: Cannot delete this protected branch" "remote: - Cannot delete this protected branch" "$out"
check_eq "a branch named x/protection is a branch" 404 "$(api GET $R/branches/side/protection "$T" | status_of)"
git push -q origin HEAD:refs/heads/feature/protection 2>/dev/null
check_eq "GET branches/feature/protection is the protection of feature (none): 404" 404 "$(api GET $R/branches/feature/protection "$T" | status_of)"

# enforce_admins off: the owner (an admin) passes, others do not; force pushes stay refused.
api PUT $R/branches/main/protection "$T" '{"required_status_checks":null,"enforce_admins":false,"required_pull_request_reviews":{},"restrictions":null}' >/dev/null
check "enforce_admins off: the admin's push passes" git push -q origin main
git reset -q --hard HEAD~1 && echo other > other.txt && git add other.txt && git commit -qm other
out=$(git push -f origin main 2>&1)
check_match "a force push to a protected branch: Cannot force-push" "remote: - Cannot force-push to this branch" "$out"
check_match "… refused" 'protected branch hook declined' "$out"
api DELETE $R/branches/main/protection "$T" >/dev/null
check_eq "DELETE protection, then GET: 404" 404 "$(api GET $R/branches/main/protection "$T" | status_of)"
check "unprotected: the force push passes" git push -q -f origin main

# ---- merges held by a required status check
git checkout -q -b topic && echo t > t.txt && git add t.txt && git commit -qm topic && git push -q origin topic
sha=$(git rev-parse HEAD)
num=$(api POST $R/pulls "$T" '{"title":"t","head":"topic","base":"main"}' | body_of | jnum number)
api PUT $R/branches/main/protection "$T" '{"required_status_checks":{"strict":false,"contexts":["ci/test"]},"enforce_admins":true,"required_pull_request_reviews":null,"restrictions":null}' >/dev/null
res=$(api PUT $R/pulls/$num/merge "$T" '{}')
check_eq "merge without the required check: 405" 405 "$(printf '%s' "$res" | status_of)"
check_match "… Required status check is expected" 'Required status check \\"ci/test\\" is expected\.' "$(printf '%s' "$res" | body_of)"
curl -s -o /dev/null -X POST "$F/_fakehub/repos/octocat/$name/statuses/$sha" -H 'Content-Type: application/json' -d '{"state":"failure","context":"ci/test"}'
check_match "… a failing check: is failing" 'is failing' "$(api PUT $R/pulls/$num/merge "$T" '{}' | body_of)"
curl -s -o /dev/null -X POST "$F/_fakehub/repos/octocat/$name/statuses/$sha" -H 'Content-Type: application/json' -d '{"state":"success","context":"ci/test"}'
check_eq "with the check passed: 200" 200 "$(api PUT $R/pulls/$num/merge "$T" '{}' | status_of)"
api DELETE $R/branches/main/protection "$T" >/dev/null

# ---- GH001: over 100 MiB refused, over 50 MiB a warning
git checkout -q main && git pull -q origin main
head -c $((101 * 1024 * 1024)) /dev/urandom > big.bin
git add big.bin && git commit -qm big
out=$(git push origin main 2>&1)
check_match "a 101 MiB file: GH001 refused" "remote: error: GH001: Large files detected\. You may want to try Git Large File Storage - https://git-lfs.github.com\." "$out"
check_match "… names the file with its size" "remote: error: File big.bin is 101.00 MB; this exceeds GitHub's file size limit of 100.00 MB" "$out"
check_match "… pre-receive hook declined" '! \[remote rejected\] main -> main \(pre-receive hook declined\)' "$out"
bytes=$(curl -s "$F/_fakehub/repos/octocat/$name/pushes" | jnum bytes)
check "the push log counted the 101 MiB it received" test "$bytes" -gt $((100 * 1024 * 1024))
git reset -q --hard HEAD~1
head -c $((60 * 1024 * 1024)) /dev/urandom > mid.bin
git add mid.bin && git commit -qm mid
out=$(git push origin main 2>&1)
check_match "a 60 MiB file: GitHub's warning" "remote: warning: File mid.bin is 60.00 MB; this is larger than GitHub's recommended maximum file size of 50.00 MB" "$out"
check_eq "… and accepted" "$(git rev-parse HEAD)" "$(api GET $R/branches/main "$T" | body_of | jstr sha)"
finish
