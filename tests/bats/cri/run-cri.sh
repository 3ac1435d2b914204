#!/bin/bash
# Runs the CRI tests (containerd's CRI plugin and cri-o driven by crictl; each
# scenario with the runc handler as the reference and with kata-runtime) and
# ends with the line
#   N passed, N failed, N skipped
# Exit status: 0 when nothing failed and something ran (skips allowed: the
# kata variants skip, with the reason, on a host without usable
# virtualisation); 1 otherwise.
#
#   KATA_RUNTIME=/path/to/kata-runtime tests/bats/cri/run-cri.sh [FILE.bats...]
#   KATA_CRI_FILTER='kata: exec' ...   passes -f to bats
#
# Whatever happens (a failed setup, a test killed by its time-out, SIGINT or
# SIGTERM to this script), everything the files started is swept when this
# script exits: daemons, shims, VMs, the runtimes' containers, mounts,
# network namespaces, the pods' cgroups, CNI's cached results, temporary
# directories (lib.bash: cri_sweep).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export KATA_RUNTIME=${KATA_RUNTIME:-/usr/local/bin/kata-runtime}

if [ "$(id -u)" != 0 ]; then
  echo "run-cri: must run as root (daemons, network namespaces, mounts)" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
command -v bats >/dev/null || bash "$here/../../../tools/install-deps.sh" >&2
if ! command -v bats >/dev/null; then
  echo "run-cri: bats is missing and tools/install-deps.sh did not install it" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# One image build for the files; the registry of their temporary dirs.
cache=$(mktemp -d /tmp/kc-cri-cache.XXXXXX)
export KATA_CLIENTS_CACHE=$cache
export KATA_CLIENTS_REGISTRY=$cache/dirs
: >"$KATA_CLIENTS_REGISTRY"

pass=0 fail=0 skip=0 rc=0 interrupted=0 summary_done=0
start=$SECONDS
skips=$cache/skips
: >"$skips"

summary() {
  [ $summary_done = 1 ] && return
  summary_done=1
  if [ -s "$skips" ]; then
    sort "$skips" | uniq -c | sed 's/^ *\([0-9]*\) /# skipped (\1): /'
  fi
  if [ $interrupted = 1 ]; then
    echo "# interrupted"
    fail=$((fail + 1))
  elif [ $((pass + fail + skip)) -eq 0 ]; then
    echo "# no test ran (filter: '${KATA_CRI_FILTER:-}')"
    fail=$((fail + 1))
  fi
  echo "# cri: $((SECONDS - start)) s"
  echo "$pass passed, $fail failed, $skip skipped"
}

sweep() {
  local d
  trap - EXIT INT TERM
  # shellcheck source=lib.bash
  (
    source "$here/lib.bash"
    while read -r d; do
      [ -n "$d" ] && [ -d "$d" ] || continue
      echo "# sweeping $d" >&2
      cri_sweep "$d"
    done <"$KATA_CLIENTS_REGISTRY"
  ) 2>&1 | sed 's/^/# /' >&2
  summary
  rm -rf "$cache"
  [ "$fail" -eq 0 ] && [ $rc -eq 0 ] && [ $interrupted = 0 ]
  exit $?
}
on_signal() {
  interrupted=1
  [ -n "${batspid:-}" ] && kill -TERM -- "-$batspid" 2>/dev/null
}
trap sweep EXIT
trap on_signal INT TERM

files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$here/containerd.bats" "$here/crio.bats")
filter=()
[ -n "${KATA_CRI_FILTER:-}" ] && filter=(-f "$KATA_CRI_FILTER")

for f in "${files[@]}"; do
  [ $interrupted = 0 ] || break
  t0=$SECONDS
  out=$cache/out.tap
  # bats in the background, so that a signal reaches on_signal at once, and
  # in a session of its own, so that on_signal can end all of it
  setsid bats --tap -T "${filter[@]}" "$f" >"$out" 2>&1 </dev/null &
  batspid=$!
  tail -n +1 --pid=$batspid -f "$out" 2>/dev/null &
  tailpid=$!
  while :; do
    wait $batspid
    frc=$?
    # wait returns early (status > 128) when a trapped signal arrives
    kill -0 $batspid 2>/dev/null || break
  done
  wait $tailpid 2>/dev/null
  batspid=
  p=$(grep -cE '^ok [0-9]+ ' "$out")
  s=$(grep -cE '^ok [0-9]+ .*# skip' "$out")
  n=$(grep -cE '^not ok [0-9]+ ' "$out")
  planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -1)
  sed -n 's/^ok [0-9]* \(.*\) # skip *\(.*\)$/\2/p' "$out" >>"$skips"
  p=$((p - s))
  # a file that died before its tests (setup_file failed) counts as failed
  if [ "$frc" -ne 0 ] && [ "$n" -eq 0 ]; then n=1; fi
  if [ -n "$planned" ] && [ $((p + s + n)) -lt "$planned" ] && [ "$frc" -ne 0 ]; then
    n=$((planned - p - s))
  fi
  echo "# $(basename "$f"): $p passed, $n failed, $s skipped in $((SECONDS - t0)) s"
  pass=$((pass + p)); fail=$((fail + n)); skip=$((skip + s))
  [ "$frc" -eq 0 ] || rc=1
done
# the EXIT trap sweeps, prints the summary and sets the exit status
exit 0
