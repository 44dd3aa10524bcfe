#!/bin/bash
# tests/fakehub/test-collab.sh: collaborators and invitations (PUT → 201 invitation, 204 when already one), statuses and check runs via the admin API.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/fakehub/lib-fakehub.sh"

T=$(token octocat); H=$(token hubot)
name=$(uniq_name collab)
api POST /user/repos "$T" "{\"name\":\"$name\",\"private\":true,\"auto_init\":true}" >/dev/null
check_eq "hubot cannot see the private repo" 404 "$(api GET /repos/octocat/$name "$H" | status_of)"
res=$(api PUT /repos/octocat/$name/collaborators/hubot "$T" '{"permission":"push"}')
check_eq "add collaborator: 201 invitation" 201 "$(printf '%s' "$res" | status_of)"
check_match "invitation shape" '"invitee":\{"login":"hubot".*"permissions":"write"' "$(printf '%s' "$res" | body_of)"
inv=$(printf '%s' "$res" | body_of | jnum id)
check_eq "invitations lists it" "$inv" "$(api GET /repos/octocat/$name/invitations "$T" | body_of | jnum id)"
check_eq "still not a collaborator" 404 "$(api GET /repos/octocat/$name/collaborators/hubot "$T" | status_of)"
# hubot may hold invitations from other suites (tests/contract invites hubot too): look for this one.
check "hubot sees the invitation" bash -c 'grep -q "\"id\":$1[,}]"' _ "$inv" <<< "$(api GET /user/repository_invitations "$H" | body_of)"
check_eq "hubot accepts: 204" 204 "$(api PATCH /user/repository_invitations/$inv "$H" | status_of)"
check_eq "now a collaborator: 204" 204 "$(api GET /repos/octocat/$name/collaborators/hubot "$T" | status_of)"
check_eq "adding again: 204" 204 "$(api PUT /repos/octocat/$name/collaborators/hubot "$T" '{"permission":"push"}' | status_of)"
check_eq "hubot now sees the repo" 200 "$(api GET /repos/octocat/$name "$H" | status_of)"
check_match "collaborators list" '"login":"hubot"' "$(api GET /repos/octocat/$name/collaborators "$T" | body_of)"
check_eq "non-admin cannot add collaborators: 403" 403 "$(api PUT /repos/octocat/$name/collaborators/octocat "$H" '{}' | status_of)"
res=$(api PUT /repos/octocat/$name/collaborators/octocat "$T" '{}')
check_eq "the owner as a collaborator: 422" 422 "$(printf '%s' "$res" | status_of)"
check_match "owner 422 shape" '"errors":\[\{"resource":"Repository","code":"custom","message":"Repository owner cannot be a collaborator"\}\]' "$(printf '%s' "$res" | body_of)"
oname=$(uniq_name orgcollab)
api POST /orgs/acme/repos "$T" "{\"name\":\"$oname\"}" >/dev/null
check_eq "an organisation member added to an org repo: 204" 204 "$(api PUT /repos/acme/$oname/collaborators/octocat "$T" '{}' | status_of)"
check_eq "unknown user: 404" 404 "$(api PUT /repos/octocat/$name/collaborators/no-such-user-zz "$T" '{}' | status_of)"
check_eq "remove collaborator: 204" 204 "$(api DELETE /repos/octocat/$name/collaborators/hubot "$T" | status_of)"
check_eq "removed: repo hidden again" 404 "$(api GET /repos/octocat/$name "$H" | status_of)"

sha=$(api GET /repos/octocat/$name/branches/main "$T" | body_of | jstr sha)
check_eq "combined status with none: pending" pending "$(api GET /repos/octocat/$name/commits/main/status "$T" | body_of | jstr state)"
check_eq "admin sets a status: 201" 201 "$(http_status "$F/_fakehub/repos/octocat/$name/statuses/$sha" -X POST -H 'Content-Type: application/json' -d '{"state":"success","context":"ci/test"}')"
check_eq "combined status: success" success "$(api GET /repos/octocat/$name/commits/main/status "$T" | body_of | jstr state)"
curl -s -o /dev/null -X POST "$F/_fakehub/repos/octocat/$name/statuses/$sha" -H 'Content-Type: application/json' -d '{"state":"failure","context":"ci/lint"}'
check_eq "one failure makes failure" failure "$(api GET /repos/octocat/$name/commits/main/status "$T" | body_of | jstr state)"
check_eq "bad state: 422" 422 "$(http_status "$F/_fakehub/repos/octocat/$name/statuses/$sha" -X POST -d state=great)"
check_eq "admin adds a check run: 201" 201 "$(http_status "$F/_fakehub/repos/octocat/$name/check-runs" -X POST -H 'Content-Type: application/json' -d "{\"head_sha\":\"$sha\",\"name\":\"build\",\"conclusion\":\"failure\"}")"
cr=$(api GET /repos/octocat/$name/commits/$sha/check-runs "$T" | body_of)
check_match "check-runs list" '"total_count":1,"check_runs":\[\{"id":[0-9]+,"head_sha":"'"$sha"'"' "$cr"
check_match "check run conclusion" '"status":"completed","conclusion":"failure"' "$cr"
finish
