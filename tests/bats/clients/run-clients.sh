#!/bin/bash
# Runs the real-client tests (docker, podman, containerd; each scenario with
# runc as the reference and with kata-runtime) and ends with the line
#   N passed, N failed, N skipped
# Exit status: 0 when nothing failed.
#
#   KATA_RUNTIME=/path/to/kata-runtime tests/bats/clients/run-clients.sh [FILE.bats...]
#   KATA_CLIENTS_FILTER='kata: run --rm' ...   passes -f to bats
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export KATA_RUNTIME=${KATA_RUNTIME:-/usr/local/bin/kata-runtime}

if [ "$(id -u)" != 0 ]; then
  echo "run-clients: must run as root (daemons, network namespaces, mounts)" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
command -v bats >/dev/null || bash "$here/../../../tools/install-deps.sh" >&2

# One image build for the three files.
cache=$(mktemp -d /tmp/kc-cache.XXXXXX)
export KATA_CLIENTS_CACHE=$cache
trap 'rm -rf "$cache"' EXIT

files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$here/docker.bats" "$here/podman.bats" "$here/containerd.bats")
filter=()
[ -n "${KATA_CLIENTS_FILTER:-}" ] && filter=(-f "$KATA_CLIENTS_FILTER")

pass=0 fail=0 skip=0 rc=0
start=$SECONDS
for f in "${files[@]}"; do
  t0=$SECONDS
  out=$(mktemp)
  bats --tap -T "${filter[@]}" "$f" 2>&1 | tee "$out"
  frc=${PIPESTATUS[0]}
  p=$(grep -cE '^ok [0-9]+ ' "$out" | head -1)
  s=$(grep -cE '^ok [0-9]+ .*# skip' "$out" | head -1)
  n=$(grep -cE '^not ok [0-9]+ ' "$out" | head -1)
  planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -1)
  p=$((p - s))
  # a file that died before its tests (setup_file failed) counts as failed
  if [ "$frc" -ne 0 ] && [ "$n" -eq 0 ]; then n=1; fi
  if [ -n "$planned" ] && [ $((p + s + n)) -lt "$planned" ] && [ "$frc" -ne 0 ]; then
    n=$((planned - p - s))
  fi
  echo "# $(basename "$f"): $p passed, $n failed, $s skipped in $((SECONDS - t0)) s"
  pass=$((pass + p)); fail=$((fail + n)); skip=$((skip + s))
  [ "$frc" -eq 0 ] || rc=1
  rm -f "$out"
done
echo "# clients: $((SECONDS - start)) s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ $rc -eq 0 ]
