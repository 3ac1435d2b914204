#!/bin/bash
# Captures the config.json that podman and containerd (ctr) really generate, by
# running them with a wrapper runtime that saves the bundle's config.json and
# then hands over to runc.  Output: podman-captured.json, containerd-captured.json
# next to this script (test data for tests/unit/test-ocispec.c).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/capture.XXXXXX)
cleanup() {
  [ -n "${ctrd_pid:-}" ] && kill "$ctrd_pid" 2>/dev/null && wait "$ctrd_pid" 2>/dev/null
  for m in $(awk -v d="$tmp" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do umount -l "$m" || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
mkwrap() { # NAME: a wrapper that saves config.json as NAME.json
cat > "$tmp/wrap-$1" <<WRAP
#!/bin/bash
# save config.json of "create" (the bundle is --bundle or the cwd), then exec runc
bundle=\$PWD; prev=
for a in "\$@"; do [ "\$prev" = --bundle ] || [ "\$prev" = -b ] && bundle=\$a; prev=\$a; done
for a in "\$@"; do [ "\$a" = create ] && cp "\$bundle/config.json" "$tmp/$1.json" 2>/dev/null; done
exec runc "\$@"
WRAP
chmod +x "$tmp/wrap-$1"
}
mkwrap podman; mkwrap containerd
# a busybox image
mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/etc"
cp /bin/busybox "$tmp/rootfs/bin/"; ln -s busybox "$tmp/rootfs/bin/sh"; ln -s busybox "$tmp/rootfs/bin/true"
echo 'root:x:0:0:root:/root:/bin/sh' > "$tmp/rootfs/etc/passwd"
tar -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
cat > "$tmp/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000","nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF=$tmp/containers.conf
pm() { podman --root "$tmp/storage" --runroot "$tmp/run" --storage-driver vfs "$@"; }
pm import -q "$tmp/rootfs.tar" localhost/capture:latest >/dev/null
pm run --rm --runtime "$tmp/wrap-podman" --network none localhost/capture:latest true
pm save -q --format docker-archive -o "$tmp/image.tar" localhost/capture:latest
# containerd with its own state
mkdir -p "$tmp/ctrd"
cat > "$tmp/ctrd/config.toml" <<CONF
version = 2
root = "$tmp/ctrd/root"
state = "$tmp/ctrd/state"
[grpc]
  address = "$tmp/ctrd/ctrd.sock"
CONF
containerd --config "$tmp/ctrd/config.toml" > "$tmp/ctrd/log" 2>&1 &
ctrd_pid=$!
for _ in $(seq 1 100); do [ -S "$tmp/ctrd/ctrd.sock" ] && break; sleep 0.1; done
ctr() { command ctr --address "$tmp/ctrd/ctrd.sock" -n capture "$@"; }
ctr image import --no-unpack=false "$tmp/image.tar" >/dev/null
ctr run --rm --snapshotter native --runc-binary "$tmp/wrap-containerd" localhost/capture:latest cap1 true
jq -S . "$tmp/podman.json" > "$here/podman-captured.json"
jq -S . "$tmp/containerd.json" > "$here/containerd-captured.json"
echo "captured: $here/podman-captured.json $here/containerd-captured.json"
