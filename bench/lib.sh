# bench/lib.sh: helpers shared by the benchmarks (sourced after tests/lib.sh, whose stack_worker_restart it uses).
# bench NAME VALUE UNIT records a figure (printed as "BENCH …" and kept in RES); val NAME reads it back ("?" when
# none); now / now_ms are the time in seconds (with nanoseconds) or milliseconds; secs A B is B - A to 0.01 s.
now() { date +%s.%N; }
now_ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
bench() { echo "BENCH $1 $2 $3"; RES+=("$1|$2|$3"); }
val() { local x; for x in "${RES[@]}"; do [ "${x%%|*}" = "$1" ] && { x=${x#*|}; echo "${x%%|*}"; return; }; done; echo "?"; }
RES=()
# worker_restart [VAR=VALUE...]: the stack's worker again, from this build's binary, with these settings.
worker_restart() { stack_worker_restart "$BUILD/ghbridge" "$@"; }
