#!/bin/bash
# ASan + UBSan run: copies the working tree (tracked and untracked files, no
# build products) to a temporary dir, configures it with --enable-sanitizers,
# builds, runs the unit tests (`make check`) and then bats suites against the
# sanitizer-built kata-runtime.  The guest (kernel, initrd, agent) stays the
# installed one; kata-runtime re-execs itself through /proc/self/exe for
# `__monitor` and `__shim`, so those run sanitized too.
#
# Any sanitizer report is fatal (halt_on_error) and written under a temp dir
# (log_path); the run fails if a report file exists, even when every test
# passed.  Ends with "N passed, N failed, N skipped".
#
#   tools/run-asan-tests.sh [BATS-FILE...]
#   ASAN_BATS="cli errors" tools/run-asan-tests.sh     (names without .bats)
#   ASAN_KEEP=1 keeps the temporary dir.
set -uo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
work="$(mktemp -d /tmp/kata-asan.XXXXXX)"
logs="$work/reports"
mkdir -p "$logs" "$work/src"
cleanup() { [ -n "${ASAN_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

default_bats="cli errors badinput spec log lifecycle exec cleanup"
files=()
if [ $# -gt 0 ]; then
	files=("$@")
else
	for b in ${ASAN_BATS:-$default_bats}; do
		[ -f "$src/tests/bats/$b.bats" ] && files+=("tests/bats/$b.bats")
	done
fi

echo "== copy of the working tree in $work/src"
# Deleted-but-tracked files are skipped (cp fails on them, silently).
(cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 cp -a --parents -t "$work/src" 2>/dev/null)
if [ ! -f "$work/src/configure.ac" ]; then
	echo "asan: copying the tree failed"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
cd "$work/src" || exit 1

# detect_leaks=0: the short-lived CLI leaks by design on error paths (exit frees).
san_common="halt_on_error=1:abort_on_error=0:exitcode=86:log_path=$logs/report"
export ASAN_OPTIONS="$san_common:detect_leaks=0:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="$san_common:print_stacktrace=1"

echo "== configure --enable-sanitizers, build"
t0=$(date +%s)
if ! { ./autogen.sh && ./configure --prefix=/usr/local --sysconfdir=/etc --enable-sanitizers &&
	make -j"$(nproc)" kata-runtime; } >"$work/build.log" 2>&1; then
	tail -40 "$work/build.log"
	echo "asan: build failed"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
echo "asan: built in $(($(date +%s) - t0)) s"

pass=0 fail=0 skip=0
echo "== unit tests (make check) under ASan/UBSan"
t0=$(date +%s)
make -j"$(nproc)" -k check >"$work/unit.out" 2>&1
unit_rc=$?
for log in tests/unit/*.log; do
	case $log in *test-suite.log) continue ;; esac
	p=$(grep -E '^\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
	f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
	pass=$((pass + p)); fail=$((fail + f))
done
grep -E '^(FAIL|ERROR)' "$work/unit.out"
if [ $unit_rc -ne 0 ] && [ $fail -eq 0 ]; then fail=$((fail + 1)); tail -40 "$work/unit.out"; fi
echo "asan unit: $pass passed, $fail failed ($(($(date +%s) - t0)) s)"

echo "== bats under ASan/UBSan: ${files[*]}"
t0=$(date +%s)
KATA_RUNTIME="$work/src/kata-runtime" timeout 3600 bash "$src/tests/bats/run-bats.sh" \
	"${files[@]/#/$src/}" >"$work/bats.out" 2>&1
bats_rc=$?
grep -E '^not ok|^# ' "$work/bats.out" | head -60
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/bats.out" | tail -1)
bp=$(echo "$line" | awk '{print $1+0}'); bf=$(echo "$line" | awk '{print $3+0}'); bs=$(echo "$line" | awk '{print $5+0}')
if [ $bats_rc -ne 0 ] && [ "${bf:-0}" -eq 0 ]; then bf=1; echo "asan: bats exited $bats_rc"; fi
echo "asan bats: ${bp:-0} passed, ${bf:-0} failed, ${bs:-0} skipped ($(($(date +%s) - t0)) s)"
pass=$((pass + ${bp:-0})); fail=$((fail + ${bf:-0})); skip=$((skip + ${bs:-0}))

reports=$(find "$logs" -type f | wc -l)
if [ "$reports" -gt 0 ]; then
	echo "asan: $reports sanitizer report(s):"
	for r in "$logs"/*; do
		echo "--- $r"
		head -40 "$r"
	done
	fail=$((fail + reports))
fi
echo "# sanitizer reports: $reports"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
