#!/bin/bash
# Runs every test: the format check (clang-format on the C files of the newest
# commit), unit tests (cmocka), the agent's VM integration test, and the
# integration tests (bats, real VMs, real clients).  Installs what it
# needs through the project's own scripts first, and ends with one line
# "N passed, N failed, N skipped" adding everything up.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
bash tools/install-deps.sh || exit 1
set -e
[ -x configure ] || ./autogen.sh
if [ ! -f Makefile ]; then ./configure --prefix=/usr/local --sysconfdir=/etc --enable-werror; fi
make -j"$(nproc)"
# both guests: the initrd (the default) and the image (tests/bats/run-image-guest.sh)
make guest-image GUEST_IMAGE=both
make install >/dev/null
set +e
out=${KATA_TEST_OUT:-$(mktemp -d /tmp/kata-tests.XXXXXX)}
tpass=0; tfail=0; tskip=0
stage_t0=$SECONDS # each stage's wall time is printed with its counts
add_summary() { # FILE RC NAME [last [NOTE]]: sum every "N passed, N failed[, N skipped]" line (or take the last one)
  local file=$1 rc=$2 name=$3 pick=cat note=${5:+; $5} p f s
  [ "${4:-}" = last ] && pick="tail -n 1"
  p=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$file" | $pick | awk '{s+=$1} END {print s+0}')
  f=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$file" | $pick | awk '{s+=$3} END {print s+0}')
  s=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$file" | $pick | awk '{s+=$5} END {print s+0}')
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$name: exited $rc"; fi
  echo "$name: $p passed, $f failed, $s skipped ($((SECONDS - stage_t0)) s$note)"
  stage_t0=$SECONDS
  tpass=$((tpass + p)); tfail=$((tfail + f)); tskip=$((tskip + s))
}

echo "== format: clang-format on the C files of the newest commit (tools/check-format.sh)"
bash tools/check-format.sh > "$out/format.out" 2>&1
rc=$?
sed '/^[0-9]* passed, /d' "$out/format.out" | head -80
add_summary "$out/format.out" $rc format

echo "== unit tests"
make -k check > "$out/unit.out" 2>&1
unit_rc=$?
upass=0; ufail=0
for log in tests/unit/*.log; do
  case $log in *test-suite.log) continue;; esac
  p=$(grep -E '^\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
  upass=$((upass + p)); ufail=$((ufail + f))
done
grep -E '^(PASS|FAIL|ERROR|# )' "$out/unit.out"
if [ $unit_rc -ne 0 ] && [ $ufail -eq 0 ]; then ufail=1; tail -40 "$out/unit.out"; fi
echo "$upass passed, $ufail failed, 0 skipped" > "$out/unit.sum"
add_summary "$out/unit.sum" 0 unit

echo "== agent in a VM (q35 and microvm)"
timeout 1200 make agent-test > "$out/agent.out" 2>&1
rc=$?
grep -E '^(ok|not ok|FAIL)' "$out/agent.out" | grep -v '^ok' | head -40
add_summary "$out/agent.out" $rc agent

echo "== bats"
KATA_RUNTIME=/usr/local/bin/kata-runtime timeout 3600 bash tests/bats/run-bats.sh > "$out/bats.out" 2>&1
rc=$?
grep -E '^not ok|^# ' "$out/bats.out" | head -80
# how many sandboxes came from the VM template (tests/bats/run-bats.sh, docs/factory.md "Tests")
add_summary "$out/bats.out" $rc bats "" "$(sed -n 's/^# VM template: //p' "$out/bats.out" | tail -1)"

echo "== image guest: core bats cases again with systemd as init (docs/guest.md)"
KATA_RUNTIME=/usr/local/bin/kata-runtime timeout 1200 bash tests/bats/run-image-guest.sh > "$out/image-guest.out" 2>&1
rc=$?
grep -E '^not ok|^# ' "$out/image-guest.out" | head -40
add_summary "$out/image-guest.out" $rc image-guest

echo "== real clients: docker, podman, containerd (runc as the reference)"
KATA_RUNTIME=/usr/local/bin/kata-runtime timeout 2700 bash tests/bats/clients/run-clients.sh > "$out/clients.out" 2>&1
rc=$?
grep -E '^not ok|^# ' "$out/clients.out" | head -80
add_summary "$out/clients.out" $rc clients last

echo "== CRI: containerd's CRI plugin and cri-o through crictl (runc handler as the reference)"
KATA_RUNTIME=/usr/local/bin/kata-runtime timeout 1200 bash tests/bats/cri/run-cri.sh > "$out/cri.out" 2>&1
rc=$?
grep -E '^not ok|^# ' "$out/cri.out" | head -80
add_summary "$out/cri.out" $rc cri last

echo "== fuzz: every libFuzzer target for 60 s"
FUZZ_TIME=60 timeout 1200 make fuzz > "$out/fuzz.out" 2>&1
rc=$?
grep -E '^fuzz: |^# ' "$out/fuzz.out" | head -40
add_summary "$out/fuzz.out" $rc fuzz

echo "== ASan+UBSan build: unit tests and bats against the sanitizer-built runtime"
timeout 3000 bash tools/run-asan-tests.sh > "$out/asan.out" 2>&1
rc=$?
grep -E '^not ok|^asan|^# sanitizer|^(FAIL|ERROR)' "$out/asan.out" | head -60
add_summary "$out/asan.out" $rc asan last

echo "== counts"
cat "$out"/*.out 2>/dev/null | grep -E '^# (faults injected|bad inputs tried|fuzz execs|hostile frames|sanitizer reports)' || true
echo "total time: $((SECONDS / 60)) min"
echo "$tpass passed, $tfail failed, $tskip skipped"
[ $tfail -eq 0 ]
