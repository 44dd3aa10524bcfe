#!/bin/bash
# tests/jobs/test-web.sh: GET /api/v1/jobs/{id} (project owner only) and the admins' queue page with its Retry button.
set -u
. "$ROOT/tests/jobs/jobs-lib.sh"

if ! command -v jq >/dev/null; then skip "job web tests" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "job web tests" "fakehub is not running"; finish; exit; fi

T=$JOBS_TMP
API=$GHB_URL/api/v1
signin "$T/jar-octocat" octocat >/dev/null
signin "$T/jar-hubot" hubot >/dev/null
# Who is admin must not depend on which suite signed in first (the first user becomes admin).
q "UPDATE users SET is_admin = false WHERE login IN ('octocat', 'hubot')" >/dev/null
KEY=$("$GHB" apikey create --user octocat --name jobs-test --scopes projects:read,projects:write 2>&1 | tail -1)
KEY2=$("$GHB" apikey create --user hubot --name jobs-test --scopes projects:read 2>&1 | tail -1)
call() { local k=$1 m=$2 p=$3; shift 3; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $k" "$@" "$API$p"; }

st=$(call "$KEY" POST /projects -H 'Content-Type: application/json' -d "{\"name\":\"jobs-web-$$\"}")
PID=$(jq -r .id "$T/body")
check_eq "a project for the job" 201 "$st"
Q=$(new_queue web)
JID=$("$GHB" jobs enqueue noop --queue "$Q" --project "$PID")
check_eq "GET /api/v1/jobs/{id} for the project's owner → 200" 200 "$(call "$KEY" GET "/jobs/$JID")"
check_eq "the job's state and project" "queued $PID noop" "$(jq -r '"\(.state) \(.project_id) \(.kind)"' "$T/body")"
check_eq "the payload is not exposed" null "$(jq -r .payload "$T/body")"
check_eq "another user's job → 404" 404 "$(call "$KEY2" GET "/jobs/$JID")"
check_eq "a missing job → 404" 404 "$(call "$KEY" GET "/jobs/999999999")"
check_eq "a malformed id → 404" 404 "$(call "$KEY" GET "/jobs/abc")"
NOPROJ=$("$GHB" jobs enqueue noop --queue "$Q")
check_eq "a job of no project → 404 for a non-admin" 404 "$(call "$KEY" GET "/jobs/$NOPROJ")"
check_eq "without credentials → 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$API/jobs/$JID")"

# --- the admin queue page
check_eq "the queue page is for admins only (403)" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-octocat" "$GHB_URL/admin/jobs")"
q "UPDATE users SET is_admin = true WHERE login = 'hubot'" >/dev/null
DEAD=$("$GHB" jobs enqueue noop --queue "$Q" --project "$PID")
q "UPDATE jobs SET state = 'dead', attempts = 3, finished_at = now(), last_error = 'GitHub said <script>alert(1)</script>' WHERE id = $DEAD" >/dev/null
page=$(curl -s -b "$T/jar-hubot" "$GHB_URL/admin/jobs")
check_match "an admin sees the queue page" "<h1>Job queue</h1>" "$page"
check_match "the header links admins to it" 'href="/admin/jobs"' "$(curl -s -b "$T/jar-hubot" "$GHB_URL/account")"
if curl -s -b "$T/jar-octocat" "$GHB_URL/account" | grep -q 'href="/admin/jobs"'; then not_ok "no queue link for non-admins"; else ok "no queue link for non-admins"; fi
check_match "it counts jobs by queue, kind and state" "<td[^>]*>$Q</td><td[^>]*>noop</td><td[^>]*>queued</td><td[^>]*>2</td>" "$page"
check_match "it names the oldest waiting job" "Oldest waiting job: #[0-9]+" "$page"
check_match "it lists the dead job with its error, escaped" "#$DEAD</td>.*GitHub said &lt;script&gt;" "$(printf '%s' "$page" | tr -d '\n')"
if printf '%s' "$page" | grep -q '<script>alert'; then not_ok "no raw markup from job errors" "found <script>"; else ok "no raw markup from job errors"; fi
check_eq "an admin can read any job through the API" 200 "$(call "$KEY2" GET "/jobs/$NOPROJ")"
csrf=$(csrf_of "$T/jar-hubot" /admin/jobs)
check_eq "Retry without the CSRF token → 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-hubot" -X POST "$GHB_URL/admin/jobs/$DEAD/retry")"
check_eq "Retry → 303 back to the queue page" 303 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-hubot" -X POST --data-urlencode "csrf=$csrf" "$GHB_URL/admin/jobs/$DEAD/retry")"
check_eq "the dead job is queued again with fresh attempts" "queued|0" "$(q "SELECT state, attempts FROM jobs WHERE id = $DEAD")"
check_eq "retrying a job that is not dead → 409" 409 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-hubot" -X POST --data-urlencode "csrf=$csrf" "$GHB_URL/admin/jobs/$DEAD/retry")"
check_eq "a non-admin cannot retry (403)" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar-octocat" -X POST --data-urlencode "csrf=$(csrf_of "$T/jar-octocat" /account)" "$GHB_URL/admin/jobs/$DEAD/retry")"
q "UPDATE users SET is_admin = false WHERE login = 'hubot'" >/dev/null
q "DELETE FROM jobs WHERE queue = '$Q'" >/dev/null
call "$KEY" DELETE "/projects/$PID" >/dev/null

finish
