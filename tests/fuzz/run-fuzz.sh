#!/bin/bash
# Builds each libFuzzer target with clang and runs it for FUZZ_TIME seconds
# (default 10) over its corpus in tests/fuzz/corpus/<name>/.
# Usage: run-fuzz.sh [SRCDIR] [BUILDDIR]
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
build=${2:-$src}
out=$build/tests/fuzz/bin
time=${FUZZ_TIME:-10}
mkdir -p "$out"
cfg=$out/cfgh; mkdir -p "$cfg"; : > "$cfg/config.h"
common="$src/src/common/error.c $src/src/common/utils.c $src/src/common/json.c $src/src/common/proto.c"
ocispec=$(ls "$src"/libocispec/*.c 2>/dev/null || true)
flags="-g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I$cfg -I$src -I$src/src -I$src/libocispec"
total_execs=0
status=0
for t in "$src"/tests/fuzz/fuzz-*.c; do
  name=$(basename "$t" .c)
  extra=""
  case $name in
    fuzz-toml*) extra="$src/src/runtime/toml.c $src/src/runtime/config.c" ;;
    fuzz-ocispec*) extra="$ocispec" ;;
    fuzz-agent*) extra="$ocispec $(ls "$src"/src/agent/*.c | grep -v '/main.c$' | tr '\n' ' ')" ;;
  esac
  echo "fuzz: building $name"
  if ! clang $flags "$t" $common $extra -lyajl -lseccomp -lcap -o "$out/$name" 2> "$out/$name.build.log"; then
    echo "fuzz: $name failed to build:"; tail -20 "$out/$name.build.log"; status=1; continue
  fi
  corpus=$src/tests/fuzz/corpus/${name#fuzz-}
  work=$out/corpus-$name; mkdir -p "$work"
  [ -d "$corpus" ] && cp -n "$corpus"/* "$work"/ 2>/dev/null || true
  echo "fuzz: running $name for ${time}s"
  if "$out/$name" -max_total_time="$time" -rss_limit_mb=2048 -max_len=65536 "$work" > "$out/$name.log" 2>&1; then
    execs=$(grep -Eo 'Done [0-9]+ runs' "$out/$name.log" | awk '{print $2}' | tail -1)
    echo "fuzz: $name ok (${execs:-0} execs)"
    total_execs=$((total_execs + ${execs:-0}))
  else
    echo "fuzz: $name FAILED"; tail -30 "$out/$name.log"; status=1
  fi
done
echo "fuzz: $total_execs execs in total"
exit $status
