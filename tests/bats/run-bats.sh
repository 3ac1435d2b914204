#!/bin/bash
# Runs the bats suites (all *.bats here, or the files given) with TAP output
# and prints "N passed, N failed, N skipped".  Exits non-zero on failures.
#   KATA_RUNTIME=/usr/bin/kata-runtime tests/bats/run-bats.sh [file.bats...]
# BATS_FILTER, when set, runs only the tests whose name matches that regex
# (bats -f), as tests/bats/run-image-guest.sh does.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BATS="${BATS:-$(command -v bats || echo /usr/bin/bats)}"
if [ ! -x "$BATS" ]; then
	echo "run-bats.sh: bats not found (apt-get install bats)" >&2
	exit 2
fi
export KATA_RUNTIME="${KATA_RUNTIME:-$(cd "$here/../.." && pwd)/kata-runtime}"
if [ ! -x "$KATA_RUNTIME" ]; then
	echo "run-bats.sh: $KATA_RUNTIME is not executable (build it first)" >&2
	exit 2
fi

files=()
if [ $# -gt 0 ]; then
	files=("$@")
else
	for f in "$here"/*.bats; do
		[ -e "$f" ] && files+=("$f")
	done
fi
if [ ${#files[@]} -eq 0 ]; then
	echo "run-bats.sh: no .bats files" >&2
	exit 2
fi

tap="$(mktemp)"
trap 'rm -f "$tap"' EXIT
filter=()
[ -n "${BATS_FILTER:-}" ] && filter=(-f "$BATS_FILTER")
"$BATS" --tap "${filter[@]}" "${files[@]}" | tee "$tap"
bats_status=${PIPESTATUS[0]}

passed=0 failed=0 skipped=0
while IFS= read -r line; do
	case "$line" in
	"ok "*" # skip"* | "ok "*" # SKIP"*) skipped=$((skipped + 1)) ;;
	"ok "*) passed=$((passed + 1)) ;;
	"not ok "*) failed=$((failed + 1)) ;;
	esac
done <"$tap"

echo "$passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ] || [ "$bats_status" -ne 0 ]; then
	exit 1
fi
exit 0
