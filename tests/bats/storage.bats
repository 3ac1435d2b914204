#!/usr/bin/env bats
# Storage with a real VM: a rootfs on a block device (hot-plugged virtio-blk) and
# read-only volumes.  Bind mounts of a directory and of a file: lifecycle.bats
# ("bind mounts of a directory and of a file reach the container"); a k8s emptyDir
# on tmpfs: lifecycle.bats (ephemeral storage); a host emptyDir: pod.bats (local).

load helpers-vm

# The boot is not under test here: sandboxes are clones of the run's VM template
# (helpers-vm.bash use_vm_template, docs/factory.md "Tests").
function setup_file() {
	use_vm_template
}

function teardown_file() {
	release_vm_template
}

LOOPDEV=""
IMG_MNT=""
EXTRA_IMGS=()

function setup() {
	requires_for_test
	setup_bundle sleep 1000
}

function teardown() {
	# Loop devices over this test's images only (a number may be someone else's by now):
	# found before the images go, detached after the VMs went.
	local i l pairs=()
	for i in "${EXTRA_IMGS[@]}"; do
		for l in $(losetup -n -O NAME -j "$i" 2>/dev/null); do
			pairs+=("$l=$i")
		done
	done
	teardown_bundle
	if [ -n "$IMG_MNT" ]; then
		umount "$IMG_MNT" 2>/dev/null || true
	fi
	if [ -n "$LOOPDEV" ]; then
		losetup -d "$LOOPDEV" 2>/dev/null || true
	fi
	for i in "${pairs[@]}"; do
		l="${i%%=*}"
		case "$(losetup -n -O BACK-FILE "$l" 2>/dev/null)" in
		"${i#*=}"*) losetup -d "$l" 2>/dev/null || true ;;
		esac
	done
}

# A copy of the installed configuration.toml at $1 with the sed expressions $2...
function config_copy() {
	local cfg="$1" src
	shift
	src="$("$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.Config.Path)"
	[ -r "$src" ] || src=/usr/local/share/defaults/kata-containers/configuration.toml
	[ -r "$src" ] || skip "no configuration.toml to copy"
	cp "$src" "$cfg"
	local e
	for e in "$@"; do
		sed -i "$e" "$cfg"
	done
}

# A new loop device over a new image of $2 (e.g. 32M) in dir $1, ext4 when $3 = ext4;
# its name in $NEWLOOP (detached by teardown).
function new_loop() {
	local img="$1/disk$((${#EXTRA_IMGS[@]} + 1)).img"
	truncate -s "$2" "$img"
	if [ "${3:-}" = ext4 ]; then
		mkfs.ext4 -q "$img"
	fi
	NEWLOOP="$(losetup -f --show "$img")"
	EXTRA_IMGS+=("$img")
	[ -b "$NEWLOOP" ]
}

# The host block devices QEMU (pid $1) has open, one /dev path a line.
function qemu_open_devs() {
	local f
	for f in /proc/"$1"/fd/*; do
		readlink "$f" 2>/dev/null
	done | grep '^/dev/loop' | sort -u || true
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
	[ "$(cat "$ROOT/sbs/blkpod/blkctr/drives")" = drive-blkctr ]

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
	[ ! -e "$ROOT/sbs/nob1/nob1/drives" ]
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

@test "cache_9p: \"none\" refuses a writable shared mmap in a 9p volume, \"mmap\" takes it (written through to the host)" {
	command -v gcc >/dev/null || skip "needs gcc (the test tool is built with gcc -static)"
	gcc -static -O2 -o "$BUNDLE/rootfs/bin/pod-tool" "$BATS_TEST_DIRNAME/data/pod-tool.c" ||
		skip "gcc -static cannot build (no static libc)"
	local imgdir cfg
	imgdir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-c9p.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$imgdir")
	cfg="$imgdir/configuration.toml"
	config_copy "$cfg" '/^cache_9p *=/d' 's/^msize_9p *=.*/&\ncache_9p = "mmap"/'
	grep -q '^cache_9p = "mmap"' "$cfg"
	mkdir -p "$BUNDLE/vol"
	update_config '.mounts += [{"destination":"/v","type":"bind","source":"'"$BUNDLE"'/vol","options":["rbind","rw"]}]'
	update_config '.process.args = ["pod-tool", "mmap", "/v/seg", "through-mmap"]'
	kata_runtime run --bundle "$BUNDLE" c9none
	[ "$status" -ne 0 ]
	[[ "$output" == *"mmap MAP_SHARED"* ]]
	KATA_CONF_FILE="$cfg" kata_runtime run --bundle "$BUNDLE" c9mmap
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"mmap ok"* ]]
	grep -q through-mmap "$BUNDLE/vol/seg"
	assert_root_clean
}

@test "block-device volumes and a linux.devices block device are hot-plugged; unplugged on the app container's delete" {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup and mkfs.ext4"
	local imgdir pod_bundle qpid rwdev rodev rawdev rawimg maj min out gmaj_min
	imgdir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-img.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$imgdir")
	new_loop "$imgdir" 32M ext4
	rwdev="$NEWLOOP"
	new_loop "$imgdir" 32M ext4
	rodev="$NEWLOOP"
	mkdir -p "$imgdir/m"
	mount "$rodev" "$imgdir/m"
	echo ro-content >"$imgdir/m/r"
	umount "$imgdir/m"
	new_loop "$imgdir" 4M
	rawdev="$NEWLOOP"
	rawimg="$(losetup -n -O BACK-FILE "$rawdev")"
	maj=$((0x$(stat -c %t "$rawdev")))
	min=$((0x$(stat -c %T "$rawdev")))

	pod_bundle="$BUNDLE"
	kata_runtime_detached run -d --bundle "$pod_bundle" bvpod
	[ "$status" -eq 0 ]
	qpid="$(sandbox_value bvpod qemu_pid)"

	BUNDLE="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-bundle.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$BUNDLE")
	cp "$pod_bundle/config.json" "$BUNDLE/"
	ln -s "$pod_bundle/rootfs" "$BUNDLE/rootfs"
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container" | .annotations["io.kubernetes.cri.sandbox-id"] = "bvpod"'
	# A bind of a block device (type detected), a typed read-only mount of one, and
	# a raw block device with its host numbers, mode 0640, uid/gid 1000/1001.
	update_config '.mounts += [{"destination":"/data","type":"bind","source":"'"$rwdev"'","options":["rbind","rw"]},
		{"destination":"/rodata","type":"ext4","source":"'"$rodev"'","options":["ro"]}]
		| .linux.devices = [{"type":"b","path":"/dev/xdisk","major":'"$maj"',"minor":'"$min"',"fileMode":416,"uid":1000,"gid":1001}]
		| .linux.resources.devices = [{"allow":false,"access":"rwm"},{"allow":true,"type":"b","major":'"$maj"',"minor":'"$min"',"access":"rwm"}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" bvapp
	[ "$status" -eq 0 ]
	[ "$(container_status bvapp)" = running ]

	# Hot-plugged, not shared: nothing of them under the shared dir, QEMU has them open.
	[ "$(wc -l <"$ROOT/sbs/bvpod/bvapp/drives")" -eq 3 ]
	! grep -qF "$ROOT/shared/bvpod/bvapp-" /proc/self/mountinfo
	out="$(qemu_open_devs "$qpid")"
	echo "QEMU has open: $out" >&2
	[[ "$out" == *"$rwdev"* && "$out" == *"$rodev"* && "$out" == *"$rawdev"* ]]

	kata_runtime exec bvapp sh -c 'grep -E " /(data|rodata) " /proc/mounts'
	[ "$status" -eq 0 ]
	[[ "$output" =~ /dev/vd[a-z]\ /data\ ext4\ rw, ]]
	[[ "$output" =~ /dev/vd[a-z]\ /rodata\ ext4\ ro, ]]
	kata_runtime exec bvapp sh -c 'echo vol-data >/data/f && sync && cat /rodata/r; if echo x >/rodata/w; then echo WROTE; else echo REFUSED; fi'
	[ "$status" -eq 0 ]
	[[ "$output" == *ro-content* ]]
	[[ "$output" == *REFUSED* ]]
	[[ "$output" != *WROTE* ]]

	# The device node: at the spec's path, mode/uid/gid from the spec, the GUEST
	# disk's numbers (virtio-blk), not the host's loop numbers.
	kata_runtime exec bvapp sh -c 'stat -c "%F %a %u %g %t:%T" /dev/xdisk'
	[ "$status" -eq 0 ]
	echo "$output" >&2
	read -r -a f <<<"$output"
	[ "${f[0]} ${f[1]} ${f[2]}" = "block special file" ]
	[ "${f[3]} ${f[4]} ${f[5]}" = "640 1000 1001" ]
	gmaj_min="${f[6]}"
	[ "$gmaj_min" != "$(printf '%x:%x' "$maj" "$min")" ]
	kata_runtime exec bvapp sh -c 'grep -l "^$((0x${1%%:*})):$((0x${1##*:}))$" /sys/block/vd*/dev' sh "$gmaj_min"
	[ "$status" -eq 0 ]
	[[ "$output" =~ /sys/block/vd[a-z]/dev ]]
	# The spec's mode applies: root without CAP_DAC_OVERRIDE (runc's default caps) may
	# not open it, its owner may.
	kata_runtime exec bvapp dd if=/dev/xdisk of=/dev/null count=1
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	kata_runtime exec --user 1000:1001 bvapp sh -c 'echo through-the-device | dd of=/dev/xdisk bs=512 conv=sync 2>&1 && sync && echo done'
	[ "$status" -eq 0 ]
	[[ "$output" == *done ]]

	# Delete the app container: its three drives leave the guest and QEMU.
	kata_runtime delete --force bvapp
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/sbs/bvpod/bvapp" ]
	[ "$(container_status bvpod)" = running ]
	kata_runtime exec bvpod cat /proc/partitions
	[ "$status" -eq 0 ]
	! [[ "$output" =~ vd[a-z] ]]
	[ -z "$(qemu_open_devs "$qpid")" ]
	# Not busy any more: the host mounts it and detaches it.
	mount -o ro "$rwdev" "$imgdir/m"
	out="$(cat "$imgdir/m/f")"
	umount "$imgdir/m"
	[ "$out" = vol-data ]
	losetup -d "$rwdev"
	[ -z "$(losetup -n -O NAME -j "$imgdir/disk1.img")" ]
	losetup -d "$rawdev"
	[ "$(head -c 19 "$rawimg")" = through-the-device ]

	kata_runtime delete --force bvpod
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
	losetup -d "$rodev"
	[ -z "$(losetup -a | grep -F "$imgdir" || true)" ]
	! grep -qF "$imgdir" /proc/self/mountinfo
}

@test "disable_block_device_use: a block-device volume is mounted on the host and shared" {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup and mkfs.ext4"
	local imgdir cfg dev out
	imgdir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-img.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$imgdir")
	new_loop "$imgdir" 32M ext4
	dev="$NEWLOOP"
	cfg="$imgdir/configuration.toml"
	config_copy "$cfg" '/^disable_block_device_use/d' 's/^\[hypervisor\.qemu\]$/[hypervisor.qemu]\ndisable_block_device_use = true/'
	grep -q '^disable_block_device_use = true' "$cfg"

	update_config '.mounts += [{"destination":"/data","type":"bind","source":"'"$dev"'","options":["rbind","rw"]}]'
	KATA_CONF_FILE="$cfg" kata_runtime_detached run -d --bundle "$BUNDLE" nobv
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/sbs/nobv/nobv/drives" ]
	# The host mounts the device in the shared dir; the guest sees it over 9p.
	grep -F "$ROOT/shared/nobv/nobv-" /proc/self/mountinfo | grep -q " ext4 $dev "
	kata_runtime exec nobv sh -c 'grep " /data " /proc/mounts; echo shared >/data/s; cat /proc/partitions'
	[ "$status" -eq 0 ]
	[[ "$output" == *" /data 9p "* ]]
	! [[ "$output" =~ vd[a-z] ]]
	kata_runtime delete --force nobv
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
	! grep -qF " $dev " /proc/self/mountinfo
	mkdir -p "$imgdir/m"
	mount -o ro "$dev" "$imgdir/m"
	out="$(cat "$imgdir/m/s")"
	umount "$imgdir/m"
	[ "$out" = shared ]
}

@test "microvm: a block-device volume fails create with a clear error, nothing left" {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup and mkfs.ext4"
	local imgdir cfg
	[ -r /usr/share/kata-containers/vmlinux.container ] || skip "no uncompressed guest kernel for microvm"
	imgdir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-img.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$imgdir")
	new_loop "$imgdir" 32M ext4
	cfg="$imgdir/configuration.toml"
	config_copy "$cfg" 's/^machine_type = .*/machine_type = "microvm"/' \
		's|^kernel = .*|kernel = "/usr/share/kata-containers/vmlinux.container"|'
	grep -q '^machine_type = "microvm"' "$cfg"
	update_config '.mounts += [{"destination":"/data","type":"bind","source":"'"$NEWLOOP"'","options":["rbind"]}]'
	KATA_CONF_FILE="$cfg" kata_runtime_detached run -d --bundle "$BUNDLE" mvbv
	[ "$status" -ne 0 ]
	[[ "$output" == *"microvm"*"no hot-plug"* ]]
	kata_runtime state mvbv
	[ "$status" -ne 0 ]
	assert_root_clean
	assert_no_vm_process
}
