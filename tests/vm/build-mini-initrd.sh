#!/bin/bash
# build-mini-initrd.sh OUT.img: an initrd whose /init is tests/vm/mini-agent (static).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(realpath -m "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/config.h"
gcc -static -Os -I"$tmp" -I"$top" -I"$top/src" -o "$tmp/init" \
  "$top/tests/vm/mini-agent.c" "$top"/src/common/{proto,json,utils,error}.c \
  /usr/lib/x86_64-linux-gnu/libyajl_s.a
strip "$tmp/init"
mkdir -p "$tmp/root/dev" "$tmp/root/proc" "$tmp/root/sys" "$tmp/root/run"
mv "$tmp/init" "$tmp/root/init"
(cd "$tmp/root" && find . | cpio -o -H newc --quiet) | gzip -9 > "$out"
echo "$out"
