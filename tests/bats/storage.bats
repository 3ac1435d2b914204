#!/usr/bin/env bats
# Storage with a real VM: a rootfs on a block device (hot-plugged virtio-blk) and
# read-only volumes.  Bind mounts of a directory and of a file: lifecycle.bats
# ("bind mounts of a directory and of a file reach the container"); a k8s emptyDir
# on tmpfs: lifecycle.bats (ephemeral storage); a host emptyDir: pod.bats (local).

load helpers-vm

LOOPDEV=""
IMG_MNT=""

function setup() {
	requires_for_test
	setup_bundle sleep 1000
}

function teardown() {
	teardown_bundle
	if [ -n "$IMG_MNT" ]; then
		umount "$IMG_MNT" 2>/dev/null || true
	fi
	if [ -n "$LOOPDEV" ]; then
		losetup -d "$LOOPDEV" 2>/dev/null || true
	fi
}

# Loop devices attached to FILE (one per line).
function loops_of() {
	losetup -n -O NAME -j "$1" 2>/dev/null
}

@test "a rootfs on a block device is hot-plugged (ext4 in the guest), unplugged on delete" {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup and mkfs.ext4"
	local imgdir img pod_bundle out
	imgdir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-img.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$imgdir")
	img="$imgdir/rootfs.img"
	truncate -s 64M "$img"
	mkfs.ext4 -q "$img"
	LOOPDEV="$(losetup -f --show "$img")"
	[ -b "$LOOPDEV" ]

	# The pod's sandbox: a directory rootfs (shared over 9p).
	pod_bundle="$BUNDLE"
	kata_runtime_detached run -d --bundle "$pod_bundle" blkpod
	[ "$status" -eq 0 ]

	# The app container: its rootfs is the ext4 of the loop device, mounted at
	# <bundle>/rootfs as containerd's snapshotters do (read-only on the host here so
	# that the host never writes the filesystem the guest has mounted).
	BUNDLE="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-bundle.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$BUNDLE")
	cp "$pod_bundle/config.json" "$BUNDLE/"
	mkdir -p "$imgdir/fill" "$BUNDLE/rootfs"
	mount "$LOOPDEV" "$imgdir/fill"
	cp -a "$pod_bundle/rootfs/." "$imgdir/fill/"
	umount "$imgdir/fill"
	mount -o ro "$LOOPDEV" "$BUNDLE/rootfs"
	IMG_MNT="$BUNDLE/rootfs"
	update_config '.root.readonly = false | .annotations["io.kubernetes.cri.container-type"] = "container" | .annotations["io.kubernetes.cri.sandbox-id"] = "blkpod"'
	kata_runtime_detached run -d --bundle "$BUNDLE" blkctr
	[ "$status" -eq 0 ]
	[ "$(container_status blkctr)" = running ]

	# Not shared: nothing is mounted under the shared dir for its rootfs.
	! grep -qF " $ROOT/shared/blkpod/blkctr/rootfs " /proc/self/mountinfo
	[ "$(cat "$ROOT/sbs/blkpod/blkctr/rootfs-drive")" = drive-blkctr ]

	kata_runtime exec blkctr sh -c 'grep " / " /proc/mounts'
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^/dev/vd[a-z]\ /\ ext4\ rw, ]]
	kata_runtime exec blkctr stat -f -c %T /
	[ "$status" -eq 0 ]
	[ "$output" = ext2/ext3 ]
	kata_runtime exec blkctr sh -c 'echo from-guest >/written && sync'
	[ "$status" -eq 0 ]
	# The pod's own root is still the shared dir (9p).
	kata_runtime exec blkpod sh -c 'grep " / " /proc/mounts'
	[[ "$output" == *" / 9p "* ]]
	kata_runtime exec blkpod cat /proc/partitions
	[[ "$output" =~ vd[a-z] ]]

	# Delete: RemoveContainer (the guest unmounts it), then MonitorHotUnplug.
	kata_runtime delete --force blkctr
	[ "$status" -eq 0 ]
	kata_runtime exec blkpod cat /proc/partitions
	[ "$status" -eq 0 ]
	! [[ "$output" =~ vd[a-z] ]]
	[ ! -e "$ROOT/shared/blkpod/blkctr" ]
	[ "$(container_status blkpod)" = running ]

	kata_runtime delete --force blkpod
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process

	# Only the test's own loop attachment is left; the guest's write is on the disk.
	[ "$(loops_of "$img")" = "$LOOPDEV" ]
	umount "$BUNDLE/rootfs"
	IMG_MNT=""
	run fsck.ext4 -n "$LOOPDEV"
	echo "$output" >&2
	[ "$status" -eq 0 ]
	mount -o ro "$LOOPDEV" "$imgdir/fill"
	out="$(cat "$imgdir/fill/written")"
	umount "$imgdir/fill"
	[ "$out" = from-guest ]
	losetup -d "$LOOPDEV"
	LOOPDEV=""
	[ -z "$(loops_of "$img")" ]
}

@test "the sandbox container's own rootfs on a block device: the VM's shutdown releases it cleanly" {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup and mkfs.ext4"
	local imgdir img out
	imgdir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-img.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$imgdir")
	img="$imgdir/rootfs.img"
	truncate -s 64M "$img"
	mkfs.ext4 -q "$img"
	LOOPDEV="$(losetup -f --show "$img")"
	mkdir -p "$imgdir/fill"
	mount "$LOOPDEV" "$imgdir/fill"
	cp -a "$BUNDLE/rootfs/." "$imgdir/fill/"
	umount "$imgdir/fill"
	rm -rf "$BUNDLE/rootfs"
	mkdir "$BUNDLE/rootfs"
	mount -o ro "$LOOPDEV" "$BUNDLE/rootfs"
	IMG_MNT="$BUNDLE/rootfs"
	update_config '.root.readonly = false'

	kata_runtime_detached run -d --bundle "$BUNDLE" blksb
	[ "$status" -eq 0 ]
	kata_runtime exec blksb sh -c 'grep " / " /proc/mounts; echo sandbox-wrote >/w2'
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^/dev/vd[a-z]\ /\ ext4\ rw, ]]
	kata_runtime delete --force blksb
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
	[ "$(loops_of "$img")" = "$LOOPDEV" ]
	umount "$BUNDLE/rootfs"
	IMG_MNT=""
	# The guest unmounted it before powering off: the filesystem is clean.
	run fsck.ext4 -n "$LOOPDEV"
	echo "$output" >&2
	[ "$status" -eq 0 ]
	mount -o ro "$LOOPDEV" "$imgdir/fill"
	out="$(cat "$imgdir/fill/w2")"
	umount "$imgdir/fill"
	[ "$out" = sandbox-wrote ]
}

@test "disable_block_device_use: a block-device rootfs is shared over 9p as before" {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup and mkfs.ext4"
	local imgdir img cfg
	imgdir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-img.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$imgdir")
	img="$imgdir/rootfs.img"
	truncate -s 64M "$img"
	mkfs.ext4 -q "$img"
	LOOPDEV="$(losetup -f --show "$img")"
	mkdir -p "$imgdir/fill"
	mount "$LOOPDEV" "$imgdir/fill"
	cp -a "$BUNDLE/rootfs/." "$imgdir/fill/"
	umount "$imgdir/fill"
	rm -rf "$BUNDLE/rootfs"
	mkdir "$BUNDLE/rootfs"
	mount "$LOOPDEV" "$BUNDLE/rootfs"
	IMG_MNT="$BUNDLE/rootfs"

	cfg="$imgdir/configuration.toml"
	"$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.Config.Path >"$imgdir/path" || true
	if [ -r "$(cat "$imgdir/path")" ]; then
		cp "$(cat "$imgdir/path")" "$cfg"
	elif [ -r /usr/share/defaults/kata-containers/configuration.toml ]; then
		cp /usr/share/defaults/kata-containers/configuration.toml "$cfg"
	elif [ -r /etc/kata-containers/configuration.toml ]; then
		cp /etc/kata-containers/configuration.toml "$cfg"
	else
		skip "no configuration.toml to copy"
	fi
	sed -i '/^disable_block_device_use/d' "$cfg"
	sed -i 's/^\[hypervisor\.qemu\]$/[hypervisor.qemu]\ndisable_block_device_use = true/' "$cfg"
	grep -q '^disable_block_device_use = true' "$cfg"

	KATA_CONF_FILE="$cfg" kata_runtime_detached run -d --bundle "$BUNDLE" nob1
	[ "$status" -eq 0 ]
	grep -qF " $ROOT/shared/nob1/nob1/rootfs " /proc/self/mountinfo
	[ ! -e "$ROOT/sbs/nob1/nob1/rootfs-drive" ]
	kata_runtime exec nob1 sh -c 'grep " / " /proc/mounts'
	[ "$status" -eq 0 ]
	[[ "$output" == *" / 9p "* ]]
	kata_runtime exec nob1 cat /proc/partitions
	! [[ "$output" =~ vd[a-z] ]]
	kata_runtime delete --force nob1
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
	[ "$(loops_of "$img")" = "$LOOPDEV" ]
}

@test "a read-only volume refuses writes; a rw one takes them" {
	mkdir -p "$BUNDLE/rovol" "$BUNDLE/rwvol"
	echo ro-data >"$BUNDLE/rovol/f"
	update_config '.mounts += [{"destination":"/ro","type":"bind","source":"'"$BUNDLE"'/rovol","options":["rbind","ro"]},
		{"destination":"/rw","type":"bind","source":"'"$BUNDLE"'/rwvol","options":["rbind","rw"]}]'
	update_config '.process.args = ["sh", "-c", "cat /ro/f; if echo x >/ro/g; then echo WROTE; else echo REFUSED; fi; echo ok >/rw/g"]'
	kata_runtime run --bundle "$BUNDLE" ro1
	[ "$status" -eq 0 ]
	[[ "$output" == *ro-data* ]]
	[[ "$output" == *REFUSED* ]]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" != *WROTE* ]]
	[ ! -e "$BUNDLE/rovol/g" ]
	[ "$(cat "$BUNDLE/rwvol/g")" = ok ]
	assert_root_clean
}
