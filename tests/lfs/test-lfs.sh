#!/bin/bash
# tests/lfs/test-lfs.sh: Git LFS (issue 16): fakehub's LFS server against the real git-lfs client (Batch API,
# basic transfers, verify, a missing object, 422 on a wrong oid, the quota and a disabled repository in
# GitHub's words).
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/fakehub/lib-fakehub.sh"

if ! command -v git-lfs >/dev/null; then
	skip "git-lfs is not installed (scripts/dev's PACKAGES has it)"
	finish
fi
T=$(token octocat)
name=$(uniq_name lfsdemo)
api POST /user/repos "$T" "{\"name\":\"$name\",\"auto_init\":true}" >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
export HOME=$W GIT_TERMINAL_PROMPT=0 GIT_AUTHOR_NAME=octocat GIT_AUTHOR_EMAIL=octocat@github.com \
	GIT_COMMITTER_NAME=octocat GIT_COMMITTER_EMAIL=octocat@github.com
git lfs install --skip-repo -q >/dev/null 2>&1 || git lfs install --skip-repo >/dev/null
url() { echo "http://x-access-token:$1@${F#http://}/$2.git"; }
LFS=$F/octocat/$name.git/info/lfs
lfs_post() { curl -s -w '\n%{http_code}' -u "x-access-token:$T" -H 'Accept: application/vnd.git-lfs+json' \
	-H 'Content-Type: application/vnd.git-lfs+json' -X POST "$1" --data-binary "$2"; }

# 1. git lfs push through fakehub, and a fresh clone smudges the content back.
git clone -q "$(url "$T" "octocat/$name")" "$W/w"
cd "$W/w"
git lfs track '*.bin' 'assets/**' >/dev/null
mkdir -p assets/img
head -c 300000 /dev/urandom > big.bin
printf 'not random at all\n' > assets/img/logo.png
git add .gitattributes big.bin assets && git commit -qm "LFS files"
check "git push with git-lfs uploads through the Batch API" git push -q origin main
check_match "the commit holds the pointer" '^version https://git-lfs.github.com/spec/v1' "$(git show HEAD:big.bin)"
oid=$(sha256sum big.bin | cut -c1-64)
check_match "fakehub holds the object" "\"oid\":\"$oid\",\"size\":300000" "$(curl -s "$F/_fakehub/repos/octocat/$name/lfs")"
git clone -q "$(url "$T" "octocat/$name")" "$W/c2"
check "a fresh clone gets the content byte-identical" cmp big.bin "$W/c2/big.bin"
check "a file under a folder pattern too" cmp assets/img/logo.png "$W/c2/assets/img/logo.png"

# 2. The Batch API by hand: an object already there needs no upload; a missing one is a 404 object error.
res=$(lfs_post "$LFS/objects/batch" "{\"operation\":\"upload\",\"transfers\":[\"basic\"],\"objects\":[{\"oid\":\"$oid\",\"size\":300000}]}")
check_eq "batch upload: 200" 200 "$(printf '%s' "$res" | status_of)"
check "an object already stored gets no actions" sh -c "! printf '%s' '$(printf '%s' "$res" | body_of)' | grep -q actions"
none=$(printf 'nothing' | sha256sum | cut -c1-64)
res=$(lfs_post "$LFS/objects/batch" "{\"operation\":\"download\",\"objects\":[{\"oid\":\"$none\",\"size\":7}]}")
check_match "a missing object: error code 404 in the object" '"error":\{"code":404' "$(printf '%s' "$res" | body_of)"
check_eq "without the LFS media type: 406" 406 "$(http_status "$LFS/objects/batch" -u "x-access-token:$T" -X POST -H 'Content-Type: application/json' --data '{}')"
res=$(lfs_post "$LFS/objects/batch" "{\"operation\":\"upload\",\"objects\":[{\"oid\":\"$none\",\"size\":7}]}")
href=$(printf '%s' "$res" | body_of | grep -o '"upload":{"href":"[^"]*"' | sed 's/.*"href":"//; s/"$//')
check_match "a missing object gets an upload href" '/info/lfs/objects/' "$href"
check_eq "bytes that do not hash to the oid: 422" 422 "$(http_status "$href" -u "x-access-token:$T" -X PUT --data-binary 'nothinG')"
check_eq "verify before the upload: 404" 404 "$(http_status "$LFS/verify" -u "x-access-token:$T" -H 'Accept: application/vnd.git-lfs+json' -X POST --data "{\"oid\":\"$none\",\"size\":7}")"
check_eq "the right bytes: 200" 200 "$(http_status "$href" -u "x-access-token:$T" -X PUT --data-binary 'nothing')"
check_eq "verify after it: 200" 200 "$(http_status "$LFS/verify" -u "x-access-token:$T" -H 'Accept: application/vnd.git-lfs+json' -X POST --data "{\"oid\":\"$none\",\"size\":7}")"
check_eq "download through nginx: the bytes" "nothing" "$(curl -s -u "x-access-token:$T" "$LFS/objects/$none")"
check_eq "anonymous upload batch: 401" 401 "$(http_status "$LFS/objects/batch" -X POST -H 'Accept: application/vnd.git-lfs+json' --data '{"operation":"upload","objects":[]}')"

# 3. Quota: GitHub's words, through git lfs.
curl -s -o /dev/null -X POST "$F/_fakehub/lfs/quotas/octocat" -d storage_bytes=1000000
head -c 2000000 /dev/urandom > over.bin
git add over.bin && git commit -qm "over quota"
out=$(git push origin main 2>&1)
check_match "over the storage quota: GitHub's message" 'over its data quota' "$out"
git reset -q --hard HEAD~1
curl -s -o /dev/null -X POST "$F/_fakehub/lfs/quotas/octocat" -d bandwidth_bytes=1000 -d bandwidth_used=0
out=$(cd "$W" && GIT_LFS_SKIP_SMUDGE=1 git clone -q "$(url "$T" "octocat/$name")" c3 2>&1 && cd c3 && git lfs pull 2>&1)
check_match "over the bandwidth quota: GitHub's message" 'over its data quota' "$out"
curl -s -o /dev/null -X POST "$F/_fakehub/lfs/quotas/octocat" -d storage_bytes=10737418240 -d bandwidth_bytes=10737418240 -d bandwidth_used=0

# 4. LFS turned off on the repository.
curl -s -o /dev/null -X POST "$F/_fakehub/repos/octocat/$name/lfs" -d enabled=false
res=$(lfs_post "$LFS/objects/batch" "{\"operation\":\"download\",\"objects\":[{\"oid\":\"$oid\",\"size\":300000}]}")
check_eq "LFS disabled: 403" 403 "$(printf '%s' "$res" | status_of)"
check_match "LFS disabled: in words" 'Git LFS is disabled' "$(printf '%s' "$res" | body_of)"
curl -s -o /dev/null -X POST "$F/_fakehub/repos/octocat/$name/lfs" -d enabled=true

finish
