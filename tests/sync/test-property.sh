#!/usr/bin/env bash
# tests/sync/test-property.sh: issue 12's property-style test. Random sequences (a seeded PRNG) of edits on
# both sides (the files API, the host platform's rename-into-place writes into the folder, git pushes to
# fakehub), deletes, force-pushes rewriting GitHub's history, repository renames (the old name sometimes
# reused by a stranger), default-branch changes, branch create/delete through REST, sync_branch changes and
# "pull GitHub changes" on and off, merges of ghbridge's pull requests, a Sync now the next actions race with; after each round the project is left to settle and the invariant is
# checked. Replay or lengthen with GHBRIDGE_PROPERTY_SEED=N and GHBRIDGE_PROPERTY_STEPS=N (rounds).
#
# Every edit appends one line "mk-<n>-<l|g>" (unique, l = made in the project, g = made on GitHub) to one of a
# few files. The invariant, after each round has settled (status not PENDING/SYNCING, no queued or running
# job of the project):
#  1. No loss. Every marker ever written is in at least one of: the project's folder; GitHub's sync branch
#     (the project's settings.sync_branch); a branch with an open pull request; or, for a marker made on
#     GitHub, the branch it was pushed to (while that branch exists: a project moved to another sync branch
#     leaves it there) — EXCEPT
#       - retired markers: those in a file deleted by either side (the file as that side saw it when deleting),
#         on a GitHub branch this test deleted (those only there at that moment), or on a pull request's base
#         and gone from it once the pull request is merged as it is (its author's version chosen);
#       - dropped markers: those a force-push removed from GitHub's branch (in the old tip's tree, not in
#         the new one).
#  2. No leak back. A dropped marker is never again on GitHub's sync branch nor on a ghbridge/* branch, unless
#     a local change re-added it: it was in the folder's copy of a file that differed from GitHub's old tip
#     when the force-push happened (an unsynced change there), or in the folder's copy of a file the project
#     then edited (the edit carries the line).
#  3. Nothing foreign: a repository that took a renamed repository's old name keeps its refs, and gets no
#     push (fakehub's request log).
#  4. No history row stays 'running' once the project has settled.
# A violation prints the seed, the steps so far and the state (folder, GitHub's tree, branches, pull
# requests, status and last_error, the last history rows), and the run goes on to the end.
set -u
. "$ROOT/tests/lib.sh"

if ! command -v jq >/dev/null; then skip "property" "jq is not installed"; finish; exit; fi
if [ -z "${FAKEHUB_URL:-}" ] || ! fakehub_up; then skip "property" "fakehub is not running"; finish; exit; fi
if ! command -v psql >/dev/null; then skip "property" "psql is not installed"; finish; exit; fi

SEED=${GHBRIDGE_PROPERTY_SEED:-$(( $(date +%s%N) % 1000000007 ))}
ROUNDS=${GHBRIDGE_PROPERTY_STEPS:-32}
echo "# property seed: $SEED, rounds: $ROUNDS (replay: GHBRIDGE_PROPERTY_SEED=$SEED GHBRIDGE_PROPERTY_STEPS=$ROUNDS)"

T=$(mktemp -d)
# Host-platform writes are renamed in from the same filesystem as the workspace, outside it.
STAGE=${STACK_VAR:-$T}/property-stage-$$
mkdir -p "$STAGE"
cleanup() { rm -rf "$T" "$STAGE"; }
trap cleanup EXIT
API=$GHB_URL/api/v1
FH=$FAKEHUB_URL/_fakehub
U=prop$$
REPOS=${STACK_VAR:-}/fakehub/repos
MKRE='mk-[0-9]+-[lg]'

curl -s -X POST "$FH/users" -H 'Content-Type: application/json' -d "{\"login\":\"$U\",\"name\":\"Property\"}" >/dev/null
signin "$T/jar" "$U" >/dev/null
KEY=$("$BUILD/ghbridge" apikey create --user "$U" --name property --scopes projects:read,projects:write,sync,pulls 2>&1 | tail -1)
check_match "an API key for this test's user" '^ghb_' "$KEY"
TOKEN=$(curl -s -X POST "$FH/users/$U/tokens" -H 'Content-Type: application/json' -d '{"scope":"repo"}' | jq -r .token)

call() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 60 -X "$m" -H "Authorization: Bearer $KEY" "$@" "$API$p"; }
jcall() { local m=$1 p=$2 d=$3; shift 3; call "$m" "$p" -H 'Content-Type: application/json' -d "$d" "$@"; }
gh() { local m=$1 p=$2; shift 2; curl -s -o "$T/gh" -w '%{http_code}' --max-time 30 -X "$m" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@" "$FAKEHUB_API_URL$p"; }
url_of() { echo "${FAKEHUB_URL/http:\/\//http://x-access-token:$TOKEN@}/$U/$1.git"; }
last_req() { curl -s "$FH/requests/count" | jq -r .last_id; }
pushes() { curl -s "$FH/requests/count?since_id=$2&method=POST&path=/$U/$1.git/git-receive-pack" | jq -r .count; }

# ---------------------------------------------------------------- the PRNG (an LCG; same seed, same run)
RS=$SEED
rnd() { RS=$(( (RS * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff )); R=$(( (RS >> 17) % $1 )); }
FILES=(a.txt b.txt d1/c.txt d1/d2/e.md f.txt d3/g.txt)
pick_file() { rnd ${#FILES[@]}; F=${FILES[$R]}; }

# ---------------------------------------------------------------- the model
declare -A REPORTED=() MK_SIDE=() MK_FILE=() MK_BRANCH=() RETIRED=() DROPPED=() EXEMPT=()
NMK=0
STEPS=()
step() { STEPS+=("r$ROUND: $*"); echo "# r$ROUND: $*"; }
new_marker() { NMK=$((NMK + 1)); MK="mk-$NMK-$1"; MK_SIDE[$MK]=$1; MK_FILE[$MK]=$2; }

# ---------------------------------------------------------------- the project
jcall POST /projects '{"name":"Property"}' >/dev/null
PID=$(jq -r .id "$T/body")
WS=$(jq -r .workspace "$T/body")
printf 'start\n' > "$T/put"
call PUT "/projects/$PID/files/a.txt" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream' >/dev/null
jcall PATCH "/projects/$PID/settings" '{"auto_sync":false}' >/dev/null
REPO=prop-$$-$RANDOM
jcall POST "/projects/$PID/repository" "{\"mode\":\"create\",\"name\":\"$REPO\"}" >/dev/null
check_eq "the project is connected" done "$(wait_connect "$KEY" "$PID")"
BARE() { echo "$REPOS/$U/$REPO.git"; }

status_json() { call GET "/projects/$PID/status" >/dev/null; cp "$T/body" "$T/status"; }
# settle: the project's status is not PENDING/SYNCING and no job of the project is queued (due within 3 s)
# or running. Prints nothing; 1 after 90 s.
settle() {
	local i st n
	for i in $(seq 1 450); do
		status_json
		st=$(jq -r .status "$T/status")
		n=$(psql -XAtq -c "SELECT count(*) FROM jobs WHERE project_id = $PID AND (state = 'running' OR (state = 'queued' AND run_after < now() + interval '3 seconds'))" 2>/dev/null)
		case $st in PENDING | SYNCING) ;; *) [ "${n:-1}" = 0 ] && return 0 ;; esac
		sleep 0.2
	done
	return 1
}
settle || true

# The GitHub side: one working clone, pushed with the user's token.
git clone -q "$(url_of "$REPO")" "$T/clone" 2>/dev/null
gitc() { git -C "$T/clone" -c user.name=someone -c user.email=someone@example.com "$@"; }
default_branch() { gh GET "/repos/$U/$REPO" >/dev/null; jq -r '.default_branch // "main"' "$T/gh"; }
sync_branch() { call GET "/projects/$PID" >/dev/null; jq -r '.settings.sync_branch // ""' "$T/body"; }
has_branch() { git --git-dir="$(BARE)" rev-parse -q --verify "refs/heads/$1" >/dev/null 2>&1; }
# gh_target: the branch GitHub-side edits go to: the project's sync branch when GitHub has it, else the default.
gh_target() { local b; b=$(sync_branch); if [ -n "$b" ] && has_branch "$b"; then echo "$b"; else default_branch; fi; }
# gh_checkout BRANCH: the working clone at GitHub's tip of BRANCH.
gh_checkout() {
	gitc remote set-url origin "$(url_of "$REPO")"
	gitc fetch -q --prune origin 2>/dev/null
	gitc checkout -q -B work "origin/$1" 2>/dev/null
}
markers_of_text() { grep -oE "$MKRE" 2>/dev/null | sort -u; }
branch_markers() { git --git-dir="$(BARE)" grep -hoE "$MKRE" "refs/heads/$1" 2>/dev/null | sort -u; }
folder_markers() { grep -rhoE "$MKRE" --exclude-dir=.git "$WS" 2>/dev/null | sort -u; }

# ---------------------------------------------------------------- regressions the random runs found
# Seed 7: sync_branch set to a branch GitHub already has, with a GitHub change on it to a file the folder
# also has: the first sync adopted GitHub's branch and committed the folder's files over that change.
psync() { call POST "/projects/$PID/sync" >/dev/null; sleep 0.3; settle; jq -r .status "$T/status"; }
gitc checkout -q -b older origin/main 2>/dev/null
gitc push -q origin HEAD:refs/heads/older 2>/dev/null
printf 'synced on main\n' > "$T/put"
call PUT "/projects/$PID/files/m.txt" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream' >/dev/null
check_eq "seed 7: a change synced to main → SUCCESS" SUCCESS "$(psync)"
echo 'made on older' > "$T/clone/a.txt"
printf 'made on older\n' > "$T/clone/o.txt"
gitc add a.txt o.txt && gitc commit -q -m "on older" && gitc push -q origin HEAD:refs/heads/older 2>/dev/null
OLDER=$(gitc rev-parse HEAD)
printf 'project\n' > "$T/put"
call PUT "/projects/$PID/files/p.txt" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream' >/dev/null
jcall PATCH "/projects/$PID/settings" '{"sync_branch":"older"}' >/dev/null
ST=$(psync)
case $ST in
SUCCESS)
	check_eq "seed 7: sync_branch set to an existing branch: GitHub's change there stays, the project's change joins it" \
		"$OLDER|made on older|made on older|project|synced on main" \
		"$(git --git-dir="$(BARE)" merge-base "$OLDER" refs/heads/older)|$(git --git-dir="$(BARE)" show refs/heads/older:a.txt)|$(git --git-dir="$(BARE)" show refs/heads/older:o.txt)|$(git --git-dir="$(BARE)" show refs/heads/older:p.txt 2>/dev/null)|$(git --git-dir="$(BARE)" show refs/heads/older:m.txt 2>/dev/null)" ;;
*) not_ok "seed 7: sync_branch set to an existing branch, nothing colliding → SUCCESS" "$ST: $(jq -r .last_error "$T/status")" ;;
esac
# whatever the outcome, GitHub's change to a.txt is on older or on a branch with a pull request
gh GET "/repos/$U/$REPO/pulls?state=open" >/dev/null
where=$(for b in older $(jq -r '.[].head.ref' "$T/gh"); do git --git-dir="$(BARE)" show "refs/heads/$b:a.txt" 2>/dev/null; done)
check_match "seed 7: GitHub's change to a file the folder also has is not committed over" 'made on older' "$where"
jcall PATCH "/projects/$PID/settings" '{"sync_branch":""}' >/dev/null
psync >/dev/null
gitc checkout -q main 2>/dev/null

# ---------------------------------------------------------------- the actions
# local_edit: append a marker to a file, through the files API or the host platform's rename into place.
local_edit() {
	local how=$1 d
	pick_file
	new_marker l "$F"
	# a dropped line still in the folder's copy goes back with this edit: the project re-adds it
	for d in $(cat "$WS/$F" 2>/dev/null | markers_of_text); do [ -n "${DROPPED[$d]:-}" ] && EXEMPT[$d]=1; done
	if [ "$how" = api ]; then
		# as the panel does: read the file with its version, write only over that version (If-Match; 412: again)
		local code tries=0 cond
		while :; do
			code=$(call GET "/projects/$PID/files/$F" -D "$T/hdr")
			if [ "$code" = 200 ]; then
				cond="If-Match: $(grep -i '^etag:' "$T/hdr" | head -1 | sed 's/^[^:]*: *//' | tr -d '\r')"
				{ cat "$T/body"; echo "$MK"; } > "$T/put"
			else
				cond="If-None-Match: *"; echo "$MK" > "$T/put"
			fi
			code=$(call PUT "/projects/$PID/files/$F" --data-binary "@$T/put" -H 'Content-Type: application/octet-stream' -H "$cond")
			[ "$code" = 412 ] && [ "$tries" -lt 5 ] || break
			tries=$((tries + 1))
		done
		step "local edit (files API) $F += $MK → $code$([ "$tries" -gt 0 ] && echo " (412, read again $tries times)")"
	else
		# The platform's own read-modify-write must not be stale: a pull that wrote the file after it was read
		# would be overwritten by the platform, not by ghbridge. Read again until the file held still.
		local tries=0
		mkdir -p "$(dirname "$WS/$F")"
		while :; do
			cat "$WS/$F" > "$T/read" 2>/dev/null || : > "$T/read"
			{ cat "$T/read"; echo "$MK"; } > "$STAGE/w"
			if cmp -s "$T/read" "$WS/$F" 2>/dev/null || { [ ! -e "$WS/$F" ] && [ ! -s "$T/read" ]; }; then
				mv "$STAGE/w" "$WS/$F"; break
			fi
			tries=$((tries + 1))
		done
		step "local edit (folder, rename into place) $F += $MK$([ "$tries" -gt 0 ] && echo " (read again $tries times)")"
	fi
}
local_delete() {
	local how=$1 m
	pick_file
	[ -f "$WS/$F" ] || { step "local delete $F: not in the folder, skipped"; return; }
	for m in $(markers_of_text < "$WS/$F"); do RETIRED[$m]=1; done
	if [ "$how" = api ]; then
		step "local delete (files API) $F → $(call DELETE "/projects/$PID/files/$F")"
	else
		rm -f "$WS/$F"
		step "local delete (folder) $F"
	fi
}
# gh_edit / gh_delete: as a person pushing: a push GitHub refuses because the branch moved meanwhile
# (ghbridge pushed) is fetched and made again, up to 3 times; a change never pushed is not counted.
gh_edit() {
	local b try res=refused
	b=$(gh_target)
	pick_file
	new_marker g "$F"
	MK_BRANCH[$MK]=$b
	for try in 1 2 3; do
		gh_checkout "$b" || break
		mkdir -p "$(dirname "$T/clone/$F")"
		echo "$MK" >> "$T/clone/$F"
		gitc add -- "$F" && gitc commit -q -m "GitHub edit $MK" || break
		if gitc push -q origin "HEAD:refs/heads/$b" >/dev/null 2>&1; then res=ok; break; fi
		res="refused $try times"
	done
	[ "$res" = ok ] || RETIRED[$MK]=1
	step "GitHub edit $b:$F += $MK → push $res"
}
gh_delete() {
	local b m try res=refused
	b=$(gh_target)
	pick_file
	for try in 1 2 3; do
		gh_checkout "$b" || { res="no branch $b"; break; }
		[ -f "$T/clone/$F" ] || { res="not there, skipped"; break; }
		markers_of_text < "$T/clone/$F" > "$T/deleted"
		gitc rm -q -- "$F" && gitc commit -q -m "GitHub delete $F" || break
		if gitc push -q origin "HEAD:refs/heads/$b" >/dev/null 2>&1; then
			res=ok
			for m in $(cat "$T/deleted"); do RETIRED[$m]=1; done
			break
		fi
		res="refused $try times"
	done
	step "GitHub delete $b:$F → push $res"
}
# force_push: GitHub's branch rewritten without its last 1-3 commits, plus one new commit of its own.
force_push() {
	local b old n k m f
	b=$(gh_target)
	gh_checkout "$b" || return
	old=$(gitc rev-parse HEAD)
	n=$(gitc rev-list --count --first-parent HEAD)
	[ "$n" -ge 2 ] || { step "force-push $b: one commit only, skipped"; return; }
	rnd 3; k=$((R + 1)); [ "$k" -ge "$n" ] && k=$((n - 1))
	gitc reset -q --hard "HEAD~$k"
	pick_file
	new_marker g "$F"
	MK_BRANCH[$MK]=$b
	mkdir -p "$(dirname "$T/clone/$F")"
	echo "$MK" >> "$T/clone/$F"
	gitc add -- "$F" && gitc commit -q -m "rewritten $MK"
	git --git-dir="$(BARE)" grep -hoE "$MKRE" "$old" 2>/dev/null | sort -u > "$T/old"
	gitc grep -hoE "$MKRE" HEAD 2>/dev/null | sort -u > "$T/new"
	local dropped
	dropped=$(comm -23 "$T/old" "$T/new" | tr '\n' ' ')
	# only over the tip read (--force-with-lease): a ghbridge push meanwhile makes this force-push refused
	if ! gitc push -q --force-with-lease="refs/heads/$b:$old" origin "HEAD:refs/heads/$b" >/dev/null 2>&1; then
		RETIRED[$MK]=1
		step "force-push $b: refused (GitHub's branch moved since it was read), nothing dropped"
		return
	fi
	for m in $dropped; do
		DROPPED[$m]=1
		# an unsynced change in the folder's copy of the file carries it: the project may re-add it
		f=${MK_FILE[$m]}
		if [ -f "$WS/$f" ] && ! git --git-dir="$(BARE)" show "$old:$f" 2>/dev/null | cmp -s - "$WS/$f" && grep -qx -- "$m" "$WS/$f"; then
			EXEMPT[$m]=1
		fi
	done
	step "force-push $b: -$k commits +$MK, dropped: ${dropped:-none} → ok"
}
STRANGERS=()
NRENAME=0
NTRUNK=0
declare -A STRANGER_REFS=() STRANGER_SINCE=()
gh_rename() {
	NRENAME=$((NRENAME + 1))
	local new=prop-$$-v$NRENAME old=$REPO code
	code=$(gh PATCH "/repos/$U/$old" -d "{\"name\":\"$new\"}")
	step "rename $old → $new → $code"
	[ "$code" = 200 ] || return
	REPO=$new
	rnd 2
	if [ "$R" = 0 ]; then
		code=$(gh POST /user/repos -d "{\"name\":\"$old\",\"auto_init\":true}")
		step "  a stranger takes the old name $old → $code"
		[ "$code" = 201 ] || return
		STRANGERS+=("$old")
		STRANGER_SINCE[$old]=$(last_req)
		STRANGER_REFS[$old]=$(git --git-dir="$REPOS/$U/$old.git" for-each-ref --format='%(refname) %(objectname)' | tr '\n' ' ')
	fi
}
# default_change: a new branch from the default's tip is made the default; the old default is deleted unless
# it is the project's own sync branch by name.
default_change() {
	NTRUNK=$((NTRUNK + 1))
	local old new=trunk$NTRUNK sha m code
	old=$(default_branch)
	sha=$(git --git-dir="$(BARE)" rev-parse "refs/heads/$old" 2>/dev/null)
	code=$(gh POST "/repos/$U/$REPO/git/refs" -d "{\"ref\":\"refs/heads/$new\",\"sha\":\"$sha\"}")
	[ "$code" = 201 ] || { step "default branch $old → $new: create $code, skipped"; return; }
	step "default branch $old → $new: create $code, default $(gh PATCH "/repos/$U/$REPO" -d "{\"default_branch\":\"$new\"}")"
	for m in "${!MK_BRANCH[@]}"; do [ "${MK_BRANCH[$m]}" = "$old" ] && MK_BRANCH[$m]=$new; done
	rnd 3
	if [ "$R" != 0 ] && [ "$(psql -XAtq -c "SELECT coalesce(sync_branch, '') FROM projects WHERE id = $PID" 2>/dev/null)" != "$old" ]; then
		step "  delete old default $old → $(gh DELETE "/repos/$U/$REPO/git/refs/heads/$old")"
	fi
}
feature_create() {
	local b sha
	b=$(default_branch); sha=$(git --git-dir="$(BARE)" rev-parse "refs/heads/$b" 2>/dev/null)
	step "branch feat$NMK from $b → $(gh POST "/repos/$U/$REPO/git/refs" -d "{\"ref\":\"refs/heads/feat$NMK\",\"sha\":\"$sha\"}")"
}
# branch_delete: a feature branch, or (rarely) the project's own sync branch when it is not the default.
branch_delete() {
	local b m def sb others
	def=$(default_branch); sb=$(sync_branch)
	b=$(git --git-dir="$(BARE)" for-each-ref --format='%(refname:short)' refs/heads/feat refs/heads/dev | head -1)
	rnd 3
	if [ "$R" = 0 ] && [ -n "$sb" ] && [ "$sb" != "$def" ] && has_branch "$sb"; then b=$sb; fi
	[ -n "$b" ] || { step "branch delete: none to delete"; return; }
	# what only that branch holds (as the check counts: not in the folder, on the sync branch, on a branch
	# with an open pull request, nor on the branch it was pushed to) goes with it
	local h
	gh GET "/repos/$U/$REPO/pulls?state=open" >/dev/null
	others=$( { folder_markers; [ "$sb" != "$b" ] && branch_markers "$sb"
		for h in $(jq -r '.[].head.ref' "$T/gh" 2>/dev/null); do [ "$h" != "$b" ] && branch_markers "$h"; done; } | sort -u)
	for m in $(comm -23 <(branch_markers "$b") <(echo "$others")); do
		h=${MK_BRANCH[$m]:-}
		if [ -n "$h" ] && [ "$h" != "$b" ] && branch_markers "$h" | grep -qx -- "$m"; then continue; fi
		RETIRED[$m]=1
	done
	step "delete branch $b on GitHub → $(gh DELETE "/repos/$U/$REPO/git/refs/heads/$b")"
}
set_sync_branch() {
	local b
	rnd 3
	case $R in 0) b="" ;; 1) b=dev$NMK ;; *) b=$(default_branch) ;; esac
	step "settings sync_branch='$b' → $(jcall PATCH "/projects/$PID/settings" "{\"sync_branch\":\"$b\"}")"
}
PULL=true
set_pull() {
	if [ "$PULL" = true ]; then PULL=false; else PULL=true; fi
	step "settings pull_enabled=$PULL → $(jcall PATCH "/projects/$PID/settings" "{\"pull_enabled\":$PULL}")"
}
merge_pr() {
	local n
	gh GET "/repos/$U/$REPO/pulls?state=open" >/dev/null
	n=$(jq -r '[.[] | select(.head.ref | startswith("ghbridge/"))] | first | .number // empty' "$T/gh" 2>/dev/null)
	[ -n "$n" ] || { step "merge a pull request: none open"; return; }
	local head base code
	head=$(jq -r --argjson n "$n" '.[] | select(.number == $n) | .head.ref' "$T/gh")
	base=$(jq -r --argjson n "$n" '.[] | select(.number == $n) | .base.ref' "$T/gh")
	branch_markers "$base" > "$T/base-before"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$FH/repos/$U/$REPO/pulls/$n/merge" -H 'Content-Type: application/json' -d "{\"as\":\"$U\"}")
	if [ "$code" = 405 ] && has_branch "$base"; then
		# not mergeable: resolve as a person would, on the pull request's branch, keeping both sides' lines
		# (conflict markers taken out), then merge
		gh_checkout "$head" && { gitc merge -q --no-edit "origin/$base" >/dev/null 2>&1 || {
			local f
			for f in $(gitc diff --name-only --diff-filter=U); do
				if [ -f "$T/clone/$f" ]; then sed -i '/^<<<<<<< /d; /^=======$/d; /^>>>>>>> /d' "$T/clone/$f"; gitc add -- "$f"; else gitc rm -q -- "$f"; fi
			done
			gitc commit -q --no-edit; }; } >/dev/null 2>&1
		step "  pull request #$n not mergeable: $base merged into $head by hand (both sides kept) → push $(gitc push -q origin "HEAD:refs/heads/$head" 2>&1 && echo ok || echo refused)"
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$FH/repos/$U/$REPO/pulls/$n/merge" -H 'Content-Type: application/json' -d "{\"as\":\"$U\"}")
	fi
	step "merge pull request #$n ($head → $base) on GitHub → $code"
	# merging a pull request takes its version: GitHub's lines it does not have are dropped by the user
	local m
	if [ "$code" = 200 ]; then
		for m in $(comm -23 "$T/base-before" <(branch_markers "$base")); do RETIRED[$m]=1; done
	fi
}
sync_now() { step "Sync now → $(call POST "/projects/$PID/sync")"; }

one_action() {
	rnd 100
	if [ "$R" -lt 18 ]; then local_edit api
	elif [ "$R" -lt 34 ]; then local_edit folder
	elif [ "$R" -lt 38 ]; then local_delete api
	elif [ "$R" -lt 41 ]; then local_delete folder
	elif [ "$R" -lt 62 ]; then gh_edit
	elif [ "$R" -lt 66 ]; then gh_delete
	elif [ "$R" -lt 74 ]; then force_push
	elif [ "$R" -lt 78 ]; then gh_rename
	elif [ "$R" -lt 82 ]; then default_change
	elif [ "$R" -lt 84 ]; then feature_create
	elif [ "$R" -lt 85 ]; then set_pull
	elif [ "$R" -lt 88 ]; then branch_delete
	elif [ "$R" -lt 91 ]; then set_sync_branch
	elif [ "$R" -lt 95 ]; then merge_pr
	else step "Sync now, not waited for: what follows races with it → $(call POST "/projects/$PID/sync")"
	fi
}

# ---------------------------------------------------------------- the check
dump_state() {
	local sb
	sb=$(sync_branch)
	echo "#   seed $SEED (GHBRIDGE_PROPERTY_SEED=$SEED GHBRIDGE_PROPERTY_STEPS=$ROUNDS); steps:"
	printf '#     %s\n' "${STEPS[@]}"
	echo "#   folder:"; (cd "$WS" && find . -path ./.git -prune -o -type f -print | sort | while read -r f; do echo "#     $f: $(markers_of_text < "$f" | tr '\n' ' ')"; done)
	echo "#   GitHub $U/$REPO, sync branch '$sb', default '$(default_branch)'; branches:"
	git --git-dir="$(BARE)" for-each-ref --format='%(refname:short) %(objectname:short)' refs/heads | sed 's/^/#     /'
	has_branch "$sb" && git --git-dir="$(BARE)" grep -coE "$MKRE" "refs/heads/$sb" 2>/dev/null | sed 's/^/#     tree: /'
	gh GET "/repos/$U/$REPO/pulls?state=all" >/dev/null
	echo "#   pull requests: $(jq -c '[.[] | {number, state, merged_at, head: .head.ref, base: .base.ref}]' "$T/gh" 2>/dev/null)"
	echo "#   status: $(jq -c '{status, last_error, pending_changes, conflict_branch}' "$T/status")"
	call GET "/projects/$PID/history?limit=4" >/dev/null
	jq -c '.history[] | {id, trigger, status, error}' "$T/body" 2>/dev/null | sed 's/^/#   history: /'
}

VIOLATIONS=0
check_invariant() {
	local what=$1 sb m b problems="" open_heads
	if ! settle; then problems+="did not settle in 90 s (status $(jq -r .status "$T/status")); "; fi
	sb=$(sync_branch)
	folder_markers > "$T/present"
	[ -n "$sb" ] && branch_markers "$sb" >> "$T/present"
	gh GET "/repos/$U/$REPO/pulls?state=open" >/dev/null
	open_heads=$(jq -r '.[] | select(.head.repo.full_name == .base.repo.full_name or .head.repo == null) | .head.ref' "$T/gh" 2>/dev/null)
	for b in $open_heads; do branch_markers "$b" >> "$T/present"; done
	sort -u -o "$T/present" "$T/present"
	# the GitHub branches a marker was pushed to
	declare -A bm=()
	local lost=""
	for m in "${!MK_SIDE[@]}"; do
		[ -n "${RETIRED[$m]:-}" ] || [ -n "${DROPPED[$m]:-}" ] && continue
		grep -qx -- "$m" "$T/present" && continue
		b=${MK_BRANCH[$m]:-}
		if [ -n "$b" ] && has_branch "$b"; then
			[ -n "${bm[$b]:-}" ] || bm[$b]=$(branch_markers "$b" | tr '\n' ' ')
			case " ${bm[$b]} " in *" $m "*) continue ;; esac
		fi
		[ -n "${REPORTED[$m]:-}" ] && continue
		REPORTED[$m]=1
		lost+="$m(${MK_FILE[$m]}) "
	done
	[ -n "$lost" ] && problems+="lost: $lost; "
	# no leak back of what a force-push dropped
	local leak="" gb
	gb=$(git --git-dir="$(BARE)" for-each-ref --format='%(refname:short)' refs/heads/ghbridge)
	for m in "${!DROPPED[@]}"; do
		[ -n "${EXEMPT[$m]:-}" ] && continue
		for b in $sb $gb; do
			has_branch "$b" || continue
			[ -n "${REPORTED[leak-$m-$b]:-}" ] && continue
			if git --git-dir="$(BARE)" grep -qx -e "$m" "refs/heads/$b" 2>/dev/null; then leak+="$m on $b; "; REPORTED[leak-$m-$b]=1; fi
		done
	done
	[ -n "$leak" ] && problems+="dropped content back on GitHub: $leak"
	# nothing foreign
	local s now
	for s in "${STRANGERS[@]}"; do
		[ -n "${REPORTED[stranger-$s]:-}" ] && continue
		now=$(git --git-dir="$REPOS/$U/$s.git" for-each-ref --format='%(refname) %(objectname)' | tr '\n' ' ')
		[ "$now" = "${STRANGER_REFS[$s]}" ] || problems+="stranger $s changed: ${STRANGER_REFS[$s]} → $now; "
		[ "$(pushes "$s" "${STRANGER_SINCE[$s]}")" = 0 ] || problems+="stranger $s received a push; "
		case $problems in *"stranger $s "*) REPORTED[stranger-$s]=1 ;; esac
	done
	# no history row left running
	call GET "/projects/$PID/history?limit=100" >/dev/null
	local running
	running=$(jq '[.history[] | select(.status == "running")] | length' "$T/body" 2>/dev/null)
	[ "${running:-0}" = 0 ] || problems+="$running history rows running after settling; "
	# each lost or leaked marker is reported once, with the state when it was found
	if [ -z "$problems" ]; then
		ok "$what: nothing lost or leaked ($NMK markers, ${#DROPPED[@]} dropped by force-pushes, status $(jq -r .status "$T/status"))"
	else
		VIOLATIONS=$((VIOLATIONS + 1))
		not_ok "$what (seed $SEED, replay with GHBRIDGE_PROPERTY_STEPS=${ROUND/end/$ROUNDS})" "$problems"
		dump_state
	fi
}

# ---------------------------------------------------------------- the run
START=$(date +%s)
for ROUND in $(seq 1 "$ROUNDS"); do
	# a conflict waits for its pull request: merge it on GitHub half the time
	if [ "$(jq -r .status "$T/status" 2>/dev/null)" = CONFLICT ]; then rnd 2; [ "$R" = 0 ] && merge_pr; fi
	rnd 4
	for _ in $(seq 0 "$R"); do one_action; done
	rnd 10
	if [ "$R" -lt 8 ]; then sync_now; else step "no Sync now (only GitHub's webhooks and the periodic check)"; fi
	sleep 0.3
	check_invariant "round $ROUND"
done
# The end: Sync now until nothing more changes, then everything must hold.
ROUND=end
sync_now; sleep 0.3; settle; sync_now; sleep 0.3
check_invariant "after the last Sync now"
echo "# property: $ROUNDS rounds, $NMK markers, $VIOLATIONS violations, $(( $(date +%s) - START )) s (seed $SEED)"

finish
