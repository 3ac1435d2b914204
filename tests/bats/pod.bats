#!/usr/bin/env bats
# Pods: a sandbox and app containers joining it (cri annotations), a host emptyDir
# shared by the app containers as "local" storage (disable_guest_empty_dir = false), deleting one app container while
# the other runs, and deleting the pod.  (Joining itself: lifecycle.bats.)

load helpers-vm

# The boot is not under test here: sandboxes are clones of the run's VM template
# (helpers-vm.bash use_vm_template, docs/factory.md "Tests").
function setup_file() {
	use_vm_template
}

function teardown_file() {
	release_vm_template
}

function setup() {
	requires_for_test
	setup_bundle sleep 1000
}

POD_IMGS=()

function teardown() {
	# Loop devices over this test's images only (a number may be someone else's by now):
	# found before the images go, detached after the VMs went.
	local i l pairs=()
	for i in "${POD_IMGS[@]}"; do
		for l in $(losetup -n -O NAME -j "$i" 2>/dev/null); do
			pairs+=("$l=$i")
		done
	done
	teardown_bundle
	for i in "${pairs[@]}"; do
		l="${i%%=*}"
		case "$(losetup -n -O BACK-FILE "$l" 2>/dev/null)" in
		"${i#*=}"*) losetup -d "$l" 2>/dev/null || true ;;
		esac
	done
}

function join_pod() {
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container" | .annotations["io.kubernetes.cri.sandbox-id"] = "'"$1"'"'
}

@test "disable_guest_empty_dir = false: a host emptyDir is local storage shared by the pod's containers; one app container goes, the pod stays" {
	local ed conf
	# Kata's default: the emptyDir is a directory in the guest (here the default is
	# true, the host directory shared over the shared dir: cri/ sc_emptydir*)
	conf="$BATS_TEST_TMPDIR/configuration.toml"
	cp "$("$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.Config.Path)" "$conf"
	if grep -q '^disable_guest_empty_dir' "$conf"; then
		sed -i 's/^disable_guest_empty_dir.*/disable_guest_empty_dir = false/' "$conf"
	else
		sed -i 's/^\[runtime\]/[runtime]\ndisable_guest_empty_dir = false/' "$conf"
	fi
	export KATA_CONF_FILE="$conf"
	ed="$BUNDLE/pod/volumes/kubernetes.io~empty-dir/cache"
	mkdir -p "$ed"
	[ "$(stat -f -c %T "$ed")" != tmpfs ]

	kata_runtime_detached run -d --bundle "$BUNDLE" pod1
	[ "$status" -eq 0 ]
	join_pod pod1
	update_config '.mounts += [{"destination":"/cache","type":"bind","source":"'"$ed"'","options":["rbind","rw"]}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" app1
	[ "$status" -eq 0 ]
	kata_runtime_detached run -d --bundle "$BUNDLE" app2
	[ "$status" -eq 0 ]
	[ "$(jq -r '.containers | join(",")' "$ROOT/sbs/pod1/sandbox.json")" = pod1,app1,app2 ]

	# Not shared from the host: nothing of it under the shared dir.
	! grep -qF "$ed" /proc/self/mountinfo
	[ -z "$(ls "$ROOT/shared/pod1" | grep -v -e '^pod1$' -e '^app1$' -e '^app2$')" ]

	kata_runtime exec app1 sh -c 'echo from-app1 >/cache/f; stat -c %a /cache'
	[ "$status" -eq 0 ]
	[ "$output" = 777 ]
	kata_runtime exec app2 cat /cache/f
	[ "$status" -eq 0 ]
	[ "$output" = from-app1 ]
	[ ! -e "$ed/f" ]

	# One app container goes; the other and the pod keep running, the volume too.
	kata_runtime delete --force app1
	[ "$status" -eq 0 ]
	kata_runtime state app1
	[ "$status" -ne 0 ]
	[ "$(container_status app2)" = running ]
	[ "$(container_status pod1)" = running ]
	[ "$(jq -r '.containers | join(",")' "$ROOT/sbs/pod1/sandbox.json")" = pod1,app2 ]
	[ ! -e "$ROOT/sbs/pod1/app1" ]
	[ ! -e "$ROOT/shared/pod1/app1" ]
	! grep -qF "$ROOT/shared/pod1/app1" /proc/self/mountinfo
	kata_runtime exec app2 sh -c 'cat /cache/f; echo again >>/cache/f'
	[ "$status" -eq 0 ]
	[ "$output" = from-app1 ]

	# The pod goes with everything in it.
	kata_runtime delete --force pod1
	[ "$status" -eq 0 ]
	kata_runtime state app2
	[ "$status" -ne 0 ]
	kata_runtime list -q
	[ -z "$output" ]
	assert_root_clean
	assert_no_vm_process
	[ -z "$(losetup -a | grep -F "$ROOT" || true)" ]
	[ -z "$(ls -A "$ed")" ]
}

# The host block devices QEMU (pid $1) has open, one /dev path a line.
function qemu_open_devs() {
	local f
	for f in /proc/"$1"/fd/*; do
		readlink "$f" 2>/dev/null
	done | grep '^/dev/loop' | sort -u || true
}

@test "block volumes of two app containers: deleting one unplugs only its drive; deleting the pod releases the rest" {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup and mkfs.ext4"
	local imgdir l1 l2 qpid out
	imgdir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-img.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$imgdir")
	truncate -s 32M "$imgdir/1.img" "$imgdir/2.img"
	mkfs.ext4 -q "$imgdir/1.img"
	mkfs.ext4 -q "$imgdir/2.img"
	l1="$(losetup -f --show "$imgdir/1.img")"
	l2="$(losetup -f --show "$imgdir/2.img")"
	POD_IMGS=("$imgdir/1.img" "$imgdir/2.img")

	kata_runtime_detached run -d --bundle "$BUNDLE" bpod
	[ "$status" -eq 0 ]
	qpid="$(sandbox_value bpod qemu_pid)"
	join_pod bpod
	cp "$BUNDLE/config.json" "$imgdir/base.json"
	update_config '.mounts += [{"destination":"/v","type":"bind","source":"'"$l1"'","options":["rbind"]}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" bapp1
	cp "$imgdir/base.json" "$BUNDLE/config.json"
	update_config '.mounts += [{"destination":"/v","type":"ext4","source":"'"$l2"'","options":["rw"]}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" bapp2
	[ "$status" -eq 0 ]
	[ "$(qemu_open_devs "$qpid" | tr '\n' ' ')" = "$(printf '%s\n' "$l1" "$l2" | sort | tr '\n' ' ')" ]
	kata_runtime exec bapp1 sh -c 'echo one >/v/f; sync'
	[ "$status" -eq 0 ]
	kata_runtime exec bapp2 sh -c 'echo two >/v/f; sync'
	[ "$status" -eq 0 ]

	kata_runtime delete --force bapp1
	[ "$status" -eq 0 ]
	# Only bapp1's drive is gone, from QEMU and from the guest.
	[ "$(qemu_open_devs "$qpid")" = "$l2" ]
	kata_runtime exec bapp2 sh -c 'cat /v/f; grep -c "vd[a-z]$" /proc/partitions'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = two ]
	[ "${lines[1]}" = 1 ]
	# Not busy: the host mounts and detaches it.
	mkdir -p "$imgdir/m"
	mount -o ro "$l1" "$imgdir/m"
	out="$(cat "$imgdir/m/f")"
	umount "$imgdir/m"
	[ "$out" = one ]
	losetup -d "$l1"
	[ -z "$(losetup -n -O NAME -j "$imgdir/1.img")" ]

	# The pod goes with bapp2 still holding its drive: the VM's end releases it.
	kata_runtime delete --force bpod
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
	! grep -qF "$imgdir" /proc/self/mountinfo
	run fsck.ext4 -n "$l2"
	echo "$output" >&2
	[ "$status" -eq 0 ]
	mount -o ro "$l2" "$imgdir/m"
	out="$(cat "$imgdir/m/f")"
	umount "$imgdir/m"
	[ "$out" = two ]
	losetup -d "$l2"
	[ -z "$(losetup -a | grep -F "$imgdir" || true)" ]
	[ -z "$(ls -A "$ROOT/sbs" "$ROOT/shared" 2>/dev/null || true)" ]
}

@test "a failed create in a pod unplugs the drives it hot-plugged; delete --force of broken state unplugs too" {
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup and mkfs.ext4"
	local imgdir l1 qpid
	imgdir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-img.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$imgdir")
	truncate -s 32M "$imgdir/1.img"
	mkfs.ext4 -q "$imgdir/1.img"
	l1="$(losetup -f --show "$imgdir/1.img")"
	POD_IMGS=("$imgdir/1.img")

	kata_runtime_detached run -d --bundle "$BUNDLE" fpod
	[ "$status" -eq 0 ]
	qpid="$(sandbox_value fpod qemu_pid)"
	join_pod fpod
	update_config '.mounts += [{"destination":"/v","type":"bind","source":"'"$l1"'","options":["rbind"]}]'
	cp "$BUNDLE/config.json" "$imgdir/vol.json"

	# The prestart hook runs after the hot-plug and fails: the rollback unplugs.
	update_config '.hooks = {"prestart": [{"path": "/bin/false"}]}'
	kata_runtime_detached create --bundle "$BUNDLE" fapp1
	[ "$status" -ne 0 ]
	[[ "$output" == *prestart* ]]
	[ -z "$(qemu_open_devs "$qpid")" ]
	[ ! -e "$ROOT/sbs/fpod/fapp1" ]
	[ "$(container_status fpod)" = running ]

	# A container whose state file is broken: delete --force still unplugs its drive.
	cp "$imgdir/vol.json" "$BUNDLE/config.json"
	kata_runtime_detached run -d --bundle "$BUNDLE" fapp2
	[ "$status" -eq 0 ]
	[ "$(qemu_open_devs "$qpid")" = "$l1" ]
	# The same device for a second container of the pod: refused (two guest disks over
	# one filesystem), and fapp2's drive stays.
	kata_runtime_detached create --bundle "$BUNDLE" fapp3
	[ "$status" -ne 0 ]
	[[ "$output" == *"already hot-plugged for container fapp2"* ]]
	[ "$(qemu_open_devs "$qpid")" = "$l1" ]
	kata_runtime exec fapp2 sh -c 'echo still >/v/s && cat /v/s'
	[ "$status" -eq 0 ]
	[ "$output" = still ]
	: >"$ROOT/sbs/fpod/fapp2/container.json"
	kata_runtime delete --force fapp2
	[ "$status" -eq 0 ]
	[ -z "$(qemu_open_devs "$qpid")" ]
	[ ! -e "$ROOT/sbs/fpod/fapp2" ]
	kata_runtime exec fpod cat /proc/partitions
	[ "$status" -eq 0 ]
	! [[ "$output" =~ vd[a-z] ]]
	losetup -d "$l1"
	[ -z "$(losetup -n -O NAME -j "$imgdir/1.img")" ]

	kata_runtime delete --force fpod
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
}
