#!/usr/bin/env bash
# tests/sync/test-settings.sh: sync settings say what is wrong instead of saving it (issue 13 item 13):
# unknown or unclosed commit-template placeholders, exclude patterns git would not match as written, a
# pattern set that leaves nothing to sync; the settings page counts what each pattern excludes, and its
# fields carry their limits. Nothing is saved when a value is refused.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "settings tests" "jq is not installed"; finish; exit; fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
API=$GHB_URL/api/v1
U=settings$$
if [ -n "${FAKEHUB_URL:-}" ] && fakehub_up; then
	curl -s -o /dev/null -X POST "$FAKEHUB_URL/_fakehub/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\"}"
	signin "$T/jar" "$U" >/dev/null
else
	skip "settings tests" "fakehub is not running"; finish; exit
fi
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name settings-test --scopes projects:read,projects:write,sync 2>&1 | tail -1)

call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
put_text() { printf '%s' "$2" > "$T/put"; call PUT "/projects/$PID/files/$1" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream'; }
settings() { call PATCH "/projects/$PID/settings" -H 'Content-Type: application/json' --data-binary "$1"; }
saved() { psql -qtA -c "SELECT $1 FROM projects WHERE id = $PID"; }

call POST /projects -H 'Content-Type: application/json' -d '{"name":"Settings"}' >/dev/null
PID=$(jq -r .id "$T/body")
check_match "a project to set up" '^[0-9]+$' "$PID"
for f in index.html about.html css/site.css build/app.log build/out.txt; do put_text "$f" "content of $f" >/dev/null; done
before_tmpl=$(saved commit_template)

# ---- commit message template
st=$(settings '{"commit_template":"Sync {{nope}} {{project"}')
check_eq "an unknown placeholder is refused (422)" 422 "$st"
check_match "… and named, with the ones that exist" "Unknown placeholder '\{\{nope\}\}'.*\{\{project\}\}" "$(cat "$T/body")"
check_eq "… nothing saved" "$before_tmpl" "$(saved commit_template)"
st=$(settings '{"commit_template":"Sync {{project"}')
check_eq "an unclosed placeholder is refused (422)" 422 "$st"
check_match "… saying it is not closed" 'not closed' "$(cat "$T/body")"
st=$(settings '{"commit_template":"Sync {{project}} by {{user}}: {{files_changed}} at {{timestamp}}"}')
check_eq "every known placeholder is accepted" 200 "$st"

# ---- exclude patterns
before_x=$(saved exclude_patterns)
st=$(settings '{"excludes":"*.log\n[unclosed"}')
check_eq "a pattern with '[' and no ']' is refused (422)" 422 "$st"
check_match "… naming its line" 'Line 2 .*\[' "$(cat "$T/body")"
check_eq "… nothing saved" "$before_x" "$(saved exclude_patterns)"
st=$(settings '{"excludes":"build\\"}')
check_eq "a pattern ending in a backslash is refused (422)" 422 "$st"
st=$(settings '{"excludes":"*"}')
check_eq "a pattern set that excludes every file is refused (422)" 422 "$st"
check_match "… saying nothing would sync" 'every file in the project \(5 of 5\)' "$(cat "$T/body")"
check_eq "… nothing saved" "$before_x" "$(saved exclude_patterns)"
st=$(settings '{"excludes":"[]ab]x\n[!]]y\n\\[literal\n# a comment\n*.log\nbuild/\nnothing-matches"}')
check_eq "bracket forms git accepts, escapes and comments are saved" 200 "$st"

# ---- the settings page: counts per pattern, limits on the fields
page=$(curl -s -b "$T/jar" "$GHB_URL/projects/$PID/settings")
check_match "the page counts what each pattern excludes" '<code>\*\.log</code> — 1 file\(s\)' "$page"
check_match "… folders too" '<code>build/</code> — 2 file\(s\)' "$page"
check_match "… and says when a pattern excludes nothing" '<code>nothing-matches</code> — no file' "$page"
check_match "… among the project's files" "among the project's 5 file" "$page"
check_match "the template field has its limit" 'name="commit_template"[^>]*maxlength="2000"' "$page"
check_match "the exclude field has its limit" 'name="excludes"[^>]*maxlength="10000"' "$page"

# ---- the panel form answers at the field and keeps what was typed
csrf=$(printf '%s' "$page" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
code=$(curl -s -o "$T/form" -w '%{http_code}' -b "$T/jar" "$GHB_URL/projects/$PID/settings" \
	--data-urlencode "csrf=$csrf" --data-urlencode 'commit_template=Sync {{nope}}' --data-urlencode 'excludes=*.log' \
	--data-urlencode 'batch_minutes=0')
check_eq "the form refuses an unknown placeholder (422)" 422 "$code"
check_match "… with the message at the field" 'field-error[^>]*>Unknown placeholder' "$(cat "$T/form")"
check_match "… keeping what was typed" 'value="Sync \{\{nope\}\}"' "$(cat "$T/form")"

# ---- a batched sync says when it runs (issue 13 item 8)
st=$(call POST "/projects/$PID/repository" -H 'Content-Type: application/json' -d "{\"mode\":\"create\",\"name\":\"settings-$$-$RANDOM\"}")
check_eq "connect (a job)" 202 "$st"
check_eq "… done" done "$(wait_connect "$KEY" "$PID")"
for i in $(seq 1 150); do
	call GET "/projects/$PID/status" >/dev/null
	case "$(jq -r .status "$T/body")" in PENDING|SYNCING) sleep 0.2 ;; *) break ;; esac
done
check_eq "batching on: 5 minutes" 200 "$(settings '{"auto_sync":true,"batch_minutes":5}')"
put_text "batched.txt" "waits for the batch" >/dev/null
call GET "/projects/$PID/status" >/dev/null
check_eq "the edit waits (PENDING)" PENDING "$(jq -r .status "$T/body")"
at=$(jq -r .next_sync_at "$T/body")
check_match "the status API says when the batched sync runs" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$at"
secs=$(( $(date -d "$at" +%s) - $(date +%s) ))
check "… about five minutes from now ($secs s)" test "$secs" -gt 240 -a "$secs" -le 301
page=$(curl -s -b "$T/jar" "$GHB_URL/projects/$PID")
check_match "the project page says when it runs, not an empty step" 'Runs at [0-9]{2}:[0-9]{2} UTC \(in [45] min\)' "$page"
check "… and no empty 'Step: .'" bash -c '! grep -q "Step: \." <<< "$1"' _ "$page"
check_match "… with Sync now beside it" 'Sync now' "$page"
finish
