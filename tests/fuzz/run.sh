#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS: builds the libFuzzer targets with clang (ASan+UBSan) and runs each
# for SECONDS from the seed corpus; prints ok/not ok lines. Used by scripts/dev test and by hand.
set -uo pipefail
: "${ROOT:?}" "${BUILD:?}"
secs=${1:-20}
out=$BUILD/fuzz
mkdir -p "$out"
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -I$ROOT/src -I$BUILD $(pkg-config --cflags json-c)"
common="$ROOT/src/core/arena.c $ROOT/src/core/buf.c $ROOT/src/core/err.c $ROOT/src/core/utf8.c"
build() { # name sources...
	local name=$1; shift
	clang $CFLAGS -o "$out/$name" "$ROOT/tests/fuzz/$name.c" $common "$@" $(pkg-config --libs json-c) 2> "$out/$name.build.log"
}
# fuzz_paths reaches the service's path rule (project_path_check) in src/service/projects.c, whose other
# functions need the database and git: that file is built without coverage (-fsanitize=fuzzer-no-link
# would keep every function), in sections the link drops when unused, so only the rule is linked.
clang -c -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -ffunction-sections -fdata-sections \
	-D_GNU_SOURCE -I"$ROOT/src" -I"$BUILD" $(pkg-config --cflags json-c libgit2 libpq) \
	-o "$out/projects-rules.o" "$ROOT/src/service/projects.c" 2> "$out/projects-rules.build.log"
for t in fuzz_forms:"$ROOT/src/http/parse.c $ROOT/src/http/router.c" fuzz_tmpl:"$ROOT/src/view/tmpl.c" \
	fuzz_json:"$ROOT/src/http/parse.c" \
	fuzz_paths:"$ROOT/src/http/parse.c $ROOT/src/http/router.c $out/projects-rules.o $(pkg-config --cflags libgit2 libpq) -Wl,--gc-sections"; do
	name=${t%%:*}
	# shellcheck disable=SC2086
	if ! build "$name" ${t#*:}; then
		echo "not ok - fuzz: $name builds # $(tail -3 "$out/$name.build.log" | tr '\n' ' ')"
		continue
	fi
	corpus=$out/corpus-$name
	mkdir -p "$corpus"
	cp -n "$ROOT/tests/fuzz/corpus/${name#fuzz_}/"* "$corpus/" 2>/dev/null || true
	if (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./$name" -max_total_time="$secs" -max_len=8192 -rss_limit_mb=1024 \
		-artifact_prefix="$out/$name-" "$corpus" > "$out/$name.log" 2>&1); then
		runs=$(grep -Eo 'Done [0-9]+ runs' "$out/$name.log" | tail -1)
		echo "ok - fuzz: $name survives ${secs} s (${runs:-no count})"
	else
		echo "not ok - fuzz: $name found a crash # see $out/$name.log and $out/$name-crash-*"
		grep -m3 -E 'ERROR|runtime error' "$out/$name.log" | sed 's/^/#   /'
	fi
done
