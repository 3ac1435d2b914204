#!/bin/bash
# Runs every test: unit tests (cmocka) and integration tests (bats, real VMs).
# Installs what it needs through the project's own scripts first.
# Ends with one line "N passed, N failed[, N skipped]" adding both up.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh || exit 1
set -e
[ -x configure ] || ./autogen.sh
if [ ! -f Makefile ]; then ./configure --prefix=/usr/local --sysconfdir=/etc --enable-werror; fi
make -j"$(nproc)"
make guest-image
make install >/dev/null
set +e
make -k check >/tmp/kata-unit.out 2>&1
unit_rc=$?
upass=0; ufail=0
for log in tests/unit/*.log tests/agent/*.log; do
  [ -f "$log" ] || continue
  case $log in *test-suite.log) continue;; esac
  p=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -Eo '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
  upass=$((upass + p)); ufail=$((ufail + f))
done
if [ $unit_rc -ne 0 ] && [ $ufail -eq 0 ]; then ufail=1; cat /tmp/kata-unit.out | tail -40; fi
grep -E '^(# (TOTAL|PASS|FAIL|ERROR))' /tmp/kata-unit.out || true
echo "unit: $upass passed, $ufail failed"
KATA_RUNTIME=/usr/local/bin/kata-runtime bash tests/bats/run-bats.sh > /tmp/kata-bats.out 2>&1
bats_rc=$?
cat /tmp/kata-bats.out
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/kata-bats.out | tail -1)
bpass=$(echo "$summary" | awk '{print $1+0}')
bfail=$(echo "$summary" | awk '{print $3+0}')
bskip=$(echo "$summary" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p'); bskip=${bskip:-0}
if [ $bats_rc -ne 0 ] && [ "${bfail:-0}" -eq 0 ]; then bfail=1; fi
total_pass=$((upass + ${bpass:-0})); total_fail=$((ufail + ${bfail:-0}))
echo "$total_pass passed, $total_fail failed, $bskip skipped"
[ $total_fail -eq 0 ]
