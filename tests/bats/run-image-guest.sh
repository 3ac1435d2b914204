#!/bin/bash
# The image guest run (docs/guest.md): the core cases of the lifecycle, exec,
# tty, pod, storage, network and factory suites, and guest-image.bats, run a second time
# with KATA_CONF_FILE pointing at a copy of the configuration in use whose
# `initrd =` is replaced by `image =`.  Prints "N passed, N failed, N skipped".
#
#   KATA_RUNTIME=/usr/local/bin/kata-runtime tests/bats/run-image-guest.sh
#
# The image: $KATA_GUEST_IMAGE, else the tree's guest/kata-containers.img, else
# the installed /usr/share/kata-containers/kata-containers.img, else it is built
# here with `make guest-disk-image` (tools/osbuilder/build-image.sh, cached in
# /var/cache/kata-osbuilder).  The base configuration: $KATA_CONF_FILE, else
# the one kata-runtime finds (kata-env).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(cd "$here/../.." && pwd)"
export KATA_RUNTIME="${KATA_RUNTIME:-$top/kata-runtime}"
die() { echo "run-image-guest.sh: $*" >&2; exit 2; }
[ -x "$KATA_RUNTIME" ] || die "$KATA_RUNTIME is not executable (build it first)"

img="${KATA_GUEST_IMAGE:-}"
if [ -z "$img" ]; then
	for f in "$top/guest/kata-containers.img" /usr/share/kata-containers/kata-containers.img; do
		if [ -r "$f" ]; then img=$f; break; fi
	done
fi
if [ -z "$img" ]; then
	echo "run-image-guest.sh: no image guest found: make guest-disk-image" >&2
	make -C "$top" guest-disk-image >&2 || die "building the image failed"
	img="$top/guest/kata-containers.img"
fi
[ -r "$img" ] || die "image $img not readable"

base="${KATA_CONF_FILE:-$("$KATA_RUNTIME" kata-env --json 2>/dev/null | jq -r '.Runtime.Config.Path // empty')}"
[ -n "$base" ] && [ -r "$base" ] || die "no configuration.toml to start from (set KATA_CONF_FILE)"

work="$(mktemp -d "${TMPDIR:-/tmp}/kata-image-guest.XXXXXX")"
trap 'rm -rf "$work"' EXIT
conf="$work/configuration.toml"
awk -v img="$img" '
	/^[ \t]*(initrd|image)[ \t]*=/ { print "# " $0; next }
	{ print }
	/^\[hypervisor\.qemu\][ \t]*$/ { printf("image = \"%s\"\n", img) }
' "$base" >"$conf"
grep -q '^image = ' "$conf" || die "$base has no [hypervisor.qemu] table"
export KATA_CONF_FILE="$conf"
# the image guest's boot is what this run tests: no VM template (run-bats.sh)
export KATA_BATS_TEMPLATE=0
echo "# image guest: $img (configuration $conf from $base)"

# The core cases: one regex over the test names (bats -f).
cases=(
	"create, start, state, kill, delete: exact states and pids"
	"run: exit codes 0 and 3 are the process's"
	"run: stdin reaches the process"
	"a pod container joins its sandbox"
	"bind mounts of a directory and of a file reach the container"
	"exec in the foreground: output and exit code"
	"exec flags: env, cwd, user"
	"run -d --console-socket: the pty master arrives"
	"exec -t --console-socket: tty names"
	"disable_guest_empty_dir = false: a host emptyDir is local storage shared by the pod"
	"a rootfs on a block device is hot-plugged"
	"a read-only volume refuses writes"
	"the guest interface takes the veth's MAC"
	"the container pings the peer"
	"containers run from the template: output, hostname"
	"vm cache: init starts the daemon"
	"image guest: "
)
filter=""
for c in "${cases[@]}"; do
	c="$(printf '%s' "$c" | sed 's/[][\.*^$()+?{}|]/\\&/g')"
	filter="${filter:+$filter|}^$c"
done
export BATS_FILTER="$filter"
cd "$here" || exit 2
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
bash "$here/run-bats.sh" lifecycle.bats exec.bats tty.bats pod.bats storage.bats network.bats factory.bats \
	guest-image.bats | tee "$tap"
rc=${PIPESTATUS[0]}
# A case whose test was renamed would silently drop out of the filter: each case must have
# run (passed, failed or skipped).
for c in "${cases[@]}"; do
	if ! grep -qF -- " $c" <(grep -E '^(not )?ok [0-9]+ ' "$tap"); then
		echo "not ok - image guest case \"$c\" matched no test (renamed?): fix the list in $0"
		echo "# (a case that matched no test counts as a failure)"
		rc=1
	fi
done
exit "$rc"
