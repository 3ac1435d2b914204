#!/bin/bash
# Builds each libFuzzer target (tests/fuzz/fuzz-*.c) with clang and runs it for
# FUZZ_TIME seconds (default 60; `make fuzz-long`: 1800) over its corpus in
# tests/fuzz/corpus/<name>/ (copied: new inputs stay out of the repo; set
# FUZZ_MERGE=1 to merge the interesting ones back into the corpus).
# Prints one line per target with its exec count, "# fuzz execs: N" (the total)
# and "N passed, N failed, 0 skipped": a target that does not build, crashes,
# leaks, times out or hits a sanitizer fails.  Crash inputs are kept in
# BUILDDIR/tests/fuzz/bin/ and printed (hex) in the log.
#   run-fuzz.sh [SRCDIR] [BUILDDIR]       FUZZ_TARGETS="proto client" to select
set -uo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
build=$(cd "${2:-$src}" && pwd)
out=$build/tests/fuzz/bin
time=${FUZZ_TIME:-60}
mkdir -p "$out"
cfg=$out/cfgh
mkdir -p "$cfg"
: >"$cfg/config.h"
cc=${CLANG:-clang}
if ! command -v "$cc" >/dev/null; then
	echo "fuzz: clang not found (tools/install-deps.sh installs clang and libclang-rt-14-dev)"
	echo "# fuzz execs: 0"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
common="$src/src/common/error.c $src/src/common/utils.c $src/src/common/json.c $src/src/common/proto.c"
ocispec=$(ls "$src"/libocispec/*.c 2>/dev/null | tr '\n' ' ')
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -I$cfg -I$src -I$src/src -I$src/libocispec"
total_execs=0
pass=0
failn=0
for t in "$src"/tests/fuzz/fuzz-*.c; do
	name=$(basename "$t" .c)
	short=${name#fuzz-}
	if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $short "* ]]; then
		continue
	fi
	extra=""
	case $name in
	fuzz-toml*) extra="$src/src/runtime/toml.c $src/src/runtime/config.c" ;;
	fuzz-ocispec* | fuzz-process*) extra="$ocispec" ;;
	fuzz-agent*) extra="$ocispec $(ls "$src"/src/agent/*.c | tr '\n' ' ')" ;;
	fuzz-client*) extra="$src/src/runtime/client.c" ;;
	esac
	# shellcheck disable=SC2086
	if ! "$cc" $flags "$t" $common $extra -lyajl -lseccomp -lcap -o "$out/$name" 2>"$out/$name.build.log"; then
		echo "fuzz: $name FAILED to build:"
		tail -20 "$out/$name.build.log"
		failn=$((failn + 1))
		continue
	fi
	corpus=$src/tests/fuzz/corpus/$short
	work=$out/corpus-$name
	mkdir -p "$work"
	[ -d "$corpus" ] && cp -n "$corpus"/* "$work"/ 2>/dev/null
	t0=$(date +%s)
	# -timeout: one input taking 10 s is a hang; -error_exitcode: any finding fails
	(cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./$name" -max_total_time="$time" -timeout=10 -rss_limit_mb=2048 \
		-max_len=131072 -print_final_stats=1 -artifact_prefix="$out/$name-" "$work" "$corpus" >"$out/$name.log" 2>&1)
	rc=$?
	execs=$(grep -E '^stat::number_of_executed_units:' "$out/$name.log" | awk '{print $2}' | tail -1)
	[ -n "$execs" ] || execs=$(grep -Eo 'Done [0-9]+ runs' "$out/$name.log" | awk '{print $2}' | tail -1)
	execs=${execs:-0}
	total_execs=$((total_execs + execs))
	if [ $rc -eq 0 ]; then
		echo "fuzz: $name ok: $execs execs in $(($(date +%s) - t0)) s"
		pass=$((pass + 1))
		if [ -n "${FUZZ_MERGE:-}" ] && [ -d "$corpus" ]; then
			"$out/$name" -merge=1 "$corpus" "$work" >/dev/null 2>&1
		fi
	else
		echo "fuzz: $name FAILED (exit $rc) after $execs execs:"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^0x|Base64' "$out/$name.log" | head -20
		failn=$((failn + 1))
	fi
done
echo "# fuzz execs: $total_execs"
echo "$pass passed, $failn failed, 0 skipped"
[ $failn -eq 0 ]
