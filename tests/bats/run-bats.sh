#!/bin/bash
# Runs the bats suites (all *.bats here, or the files given) with TAP output
# and prints "N passed, N failed, N skipped".  Exits non-zero on failures.
#   KATA_RUNTIME=/usr/bin/kata-runtime tests/bats/run-bats.sh [file.bats...]
# BATS_FILTER, when set, runs only the tests whose name matches that regex
# (bats -f), as tests/bats/run-image-guest.sh does.
# The suites that call use_vm_template (helpers-vm.bash) start their sandboxes
# from one VM template made here for the run (tests/bats/vm-template.sh; the
# run prints how many were cloned); KATA_BATS_TEMPLATE=0 makes every sandbox
# boot cold.
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
tpl=""
trap 'rm -f "$tap"; [ -z "$tpl" ] || bash "$here/vm-template.sh" destroy "$tpl"' EXIT
t0=$SECONDS
# One VM template for the run, when a suite asks for it and it can be made (root).
if [ "${KATA_BATS_TEMPLATE:-1}" != 0 ] && [ "$(id -u)" -eq 0 ] && [ -z "${KATA_BATS_TEMPLATE_CONF:-}" ] &&
	grep -q '^[[:space:]]*use_vm_template' "${files[@]}" 2>/dev/null; then
	tpl="$(mktemp -d "${TMPDIR:-/tmp}/kata-bats-template.XXXXXX")"
	if KATA_BATS_TEMPLATE_CONF="$(bash "$here/vm-template.sh" init "$tpl")"; then
		export KATA_BATS_TEMPLATE_CONF
		echo "# VM template for the suites that use it: $KATA_BATS_TEMPLATE_CONF ($((SECONDS - t0)) s)"
	else
		echo "# no VM template (factory init failed): every sandbox boots cold"
		bash "$here/vm-template.sh" destroy "$tpl"
		tpl=""
	fi
fi
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

[ -z "$tpl" ] || echo "# VM template: $(bash "$here/vm-template.sh" count "$tpl") in the suites that use it"
echo "# bats wall time: $((SECONDS - t0)) s"
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ] || [ "$bats_status" -ne 0 ]; then
	exit 1
fi
exit 0
