#!/bin/bash
# Runs a busybox container inside a VM and prints the guest kernel's uname -r.
set -euo pipefail
RT=${KATA_RUNTIME:-kata-runtime}
work=$(mktemp -d /tmp/kata-demo.XXXXXX)
root=$work/root
trap '"$RT" --root "$root" delete --force kata-demo >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work"/bundle/rootfs/{bin,etc,proc,sys,dev,tmp,root,run}
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do
  [ "$a" = busybox ] || ln -sf busybox "$work/bundle/rootfs/bin/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/bundle/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/bundle/rootfs/etc/group"
"$RT" --version
cd "$work/bundle"
"$RT" spec
jq '.process.terminal=false | .process.args=["uname","-r"]' config.json > c.tmp && mv c.tmp config.json
echo "host kernel:  $(uname -r)"
echo -n "guest kernel: "
"$RT" --root "$root" run kata-demo
