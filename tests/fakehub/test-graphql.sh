#!/bin/bash
# tests/fakehub/test-graphql.sh: POST /api/graphql, markPullRequestReadyForReview: auth, errors, the draft flag and its webhook.
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/fakehub/lib-fakehub.sh"

T=$(token octocat); H=$(token hubot)
G=${F%/}/api/graphql
name=$(uniq_name gqldemo)
api POST /user/repos "$T" "{\"name\":\"$name\",\"auto_init\":true}" >/dev/null
main=$(api GET /repos/octocat/$name/branches/main "$T" | body_of | jstr sha)
api POST /repos/octocat/$name/git/refs "$T" "{\"ref\":\"refs/heads/ready\",\"sha\":\"$main\"}" >/dev/null
curl -s -o /dev/null -X POST "$F/_fakehub/repos/octocat/$name/commits" -H 'Content-Type: application/json' \
	-d '{"as":"octocat","branch":"ready","path":"ready.txt","content":"ready\n","message":"ready"}'
sink=sink-$name
api POST /repos/octocat/$name/hooks "$T" "{\"name\":\"web\",\"active\":true,\"events\":[\"pull_request\"],\"config\":{\"url\":\"$F/_fakehub/sink/$sink\",\"content_type\":\"json\"}}" >/dev/null
res=$(api POST /repos/octocat/$name/pulls "$T" '{"title":"Not yet","head":"ready","base":"main","draft":true}')
check_eq "a draft pull request: 201" 201 "$(printf '%s' "$res" | status_of)"
num=$(printf '%s' "$res" | body_of | jnum number)
node=$(printf '%s' "$res" | body_of | jstr node_id)
check_eq "it is a draft" true "$(printf '%s' "$res" | body_of | jnum draft)"

since=$(curl -s "$F/_fakehub/requests/count" | jnum last_id)
Q='mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id}) { pullRequest { isDraft } } }'
gql() { # gql TOKEN ID [QUERY]: body, then the status on the last line
	curl -s -w '\n%{http_code}' -X POST "$G" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
		-d "{\"query\":\"${3:-$Q}\",\"variables\":{\"id\":\"$2\"}}"
}
res=$(gql gho_bad "$node")
check_eq "bad token: 401" 401 "$(printf '%s' "$res" | status_of)"
check_eq "… Bad credentials" "Bad credentials" "$(printf '%s' "$res" | body_of | jstr message)"
check_eq "no token: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$G" -d "{\"query\":\"$Q\"}")"
res=$(gql "$T" "UHVsbFJlcXVlc3Q5OTk5OTk5")
check_eq "unknown id: 200" 200 "$(printf '%s' "$res" | status_of)"
check_eq "… errors NOT_FOUND" NOT_FOUND "$(printf '%s' "$res" | body_of | jstr type)"
check_match "… data null" '"data":null' "$(printf '%s' "$res" | body_of)"
check_eq "a well-formed id of no pull request: NOT_FOUND" NOT_FOUND "$(gql "$T" "MTE6UHVsbFJlcXVlc3Q5OTk5OTk5OQ==" | body_of | jstr type)"
res=$(gql "$H" "$node")
check_eq "no push access: errors FORBIDDEN" FORBIDDEN "$(printf '%s' "$res" | body_of | jstr type)"
check_eq "… still a draft" true "$(api GET /repos/octocat/$name/pulls/$num "$T" | body_of | jnum draft)"
res=$(gql "$T" "$node" 'query { viewer { login } }')
check_eq "another query: 200" 200 "$(printf '%s' "$res" | status_of)"
check_match "… an error: not supported by the emulator" '"errors":\[\{"message":"[^"]*not supported by the emulator' "$(printf '%s' "$res" | body_of)"

res=$(gql "$T" "$node")
check_eq "mark ready: 200" 200 "$(printf '%s' "$res" | status_of)"
check_eq "… answer" '{"data":{"markPullRequestReadyForReview":{"pullRequest":{"isDraft":false}}}}' "$(printf '%s' "$res" | body_of | tr -d ' ')"
check_eq "the pull request is no longer a draft" false "$(api GET /repos/octocat/$name/pulls/$num "$T" | body_of | jnum draft)"
check_match "pull_request webhook, action ready_for_review" '"action":"ready_for_review"' "$(curl -s "$F/_fakehub/sink/$sink/last/body")"
check_match "… with the pull request not a draft" '"draft":false' "$(curl -s "$F/_fakehub/sink/$sink/last/body")"
ready_deliveries() { curl -s "$F/_fakehub/deliveries?repo=octocat/$name&event=pull_request" | grep -o '"action":"ready_for_review"' | wc -l; }
n1=$(ready_deliveries)
check_match "… recorded among the deliveries" "^[1-9]" "$n1"
res=$(curl -s -w '\n%{http_code}' -X POST "$G" -H "Authorization: Bearer $T" \
	-d "{\"query\":\"mutation { markPullRequestReadyForReview(input: {pullRequestId: \\\"$node\\\"}) { pullRequest { isDraft } } }\"}")
check_match "id as a string literal in the query; already ready: isDraft false" '"isDraft":false' "$(printf '%s' "$res" | body_of)"
check_eq "… no second webhook" "$n1" "$(ready_deliveries)"
check_eq "calls are in the request log" 8 "$(curl -s "$F/_fakehub/requests/count?since_id=$since&path=/api/graphql&method=POST" | jnum count)"

finish
