#!/usr/bin/env bats
# Pods as CRI servers (containerd, cri-o) make them, with hand-made bundles carrying the
# CRI annotations: namespaces shared with the sandbox (pause) container inside the VM,
# pod sysctls, privileged containers without host devices, the sandbox's /dev/shm.
# (docs/kubernetes.md; the crictl-driven suite is tests/bats/cri/.)

load helpers-vm
# Sandboxes boot cold, not from the run's VM template (docs/factory.md "Tests"):
# pod sizing: memory and vCPU hot-plug (a clone has the template's size and no slots).

POD_TMP=""

function setup() {
	requires_for_test
	command -v gcc >/dev/null || skip "needs gcc (the test tool is built with gcc -static)"
	setup_bundle sleep 1000
	gcc -static -O2 -o "$BUNDLE/rootfs/bin/pod-tool" "$BATS_TEST_DIRNAME/data/pod-tool.c" ||
		skip "gcc -static cannot build (no static libc)"
	POD_TMP="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-podcri.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$POD_TMP")
	cp "$BUNDLE/config.json" "$POD_TMP/base.json"
	update_config '.annotations["io.kubernetes.cri.container-type"] = "sandbox"
		| .annotations["io.kubernetes.cri.sandbox-id"] = "pod"'
}

function teardown() {
	local l
	teardown_bundle
	for l in "${POD_LOOPS[@]}"; do
		losetup -d "$l" 2>/dev/null || true
	done
	POD_LOOPS=()
}
POD_LOOPS=()

# Turns config.json into a container of sandbox $1 (a fresh copy of the base spec,
# args $2...), whose ipc and uts namespaces are the sandbox's by path as CRI gives
# them (/proc/<pause pid>/ns/<type>).
function pod_container() {
	local sid="$1" spid args
	shift
	spid="$(state_pid "$sid")"
	args="$(printf '%s\n' "$@" | "$JQ" -R . | "$JQ" -s -c .)"
	cp "$POD_TMP/base.json" "$BUNDLE/config.json"
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container"
		| .annotations["io.kubernetes.cri.sandbox-id"] = "'"$sid"'"
		| .process.args = '"$args"'
		| del(.hostname)
		| .linux.namespaces |= map(if .type == "ipc" or .type == "uts" then .path = "/proc/'"$spid"'/ns/" + .type else . end)'
}

# The guest namespace (as readlink /proc/self/ns/$2 prints it) of container $1.
function ns_of() {
	"$KATA_RUNTIME" --root "$ROOT" exec "$1" readlink "/proc/self/ns/$2"
}

@test "pod containers share the sandbox's ipc and uts namespaces; pid with a pid namespace path" {
	update_config '.hostname = "podhost"'
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	kata_runtime exec pod pod-tool msgget 4242
	[ "$status" -eq 0 ]

	pod_container pod sleep 2000
	kata_runtime_detached run -d --bundle "$BUNDLE" app
	[ "$status" -eq 0 ]
	[ "$(ns_of app uts)" = "$(ns_of pod uts)" ]
	[ "$(ns_of app ipc)" = "$(ns_of pod ipc)" ]
	kata_runtime exec app hostname
	[ "$status" -eq 0 ]
	[ "$output" = podhost ]
	# The message queue the sandbox made is in the app's IPC namespace, and back.
	kata_runtime exec app pod-tool msgfind 4242
	[ "$status" -eq 0 ]
	kata_runtime exec app pod-tool msgget 4343
	[ "$status" -eq 0 ]
	kata_runtime exec pod pod-tool msgfind 4343
	[ "$status" -eq 0 ]
	# No pid namespace path: a pid namespace of its own, its process is PID 1.
	[ "$(ns_of app pid)" != "$(ns_of pod pid)" ]
	kata_runtime exec app ps -o pid,args
	echo "$output" | grep -E '^ *1 +sleep 2000$'
	! echo "$output" | grep -E 'sleep 1000$'

	# shareProcessNamespace: the pid namespace path too.
	pod_container pod sleep 3000
	update_config '.linux.namespaces |= map(if .type == "pid" then .path = "/proc/'"$(state_pid pod)"'/ns/pid" else . end)'
	kata_runtime_detached run -d --bundle "$BUNDLE" shared
	[ "$status" -eq 0 ]
	[ "$(ns_of shared pid)" = "$(ns_of pod pid)" ]
	kata_runtime exec shared ps -o pid,args
	[ "$status" -eq 0 ]
	echo "$output" | grep -E '^ *1 +sleep 1000$'
	echo "$output" | grep -E 'sleep 3000$'
	kata_runtime exec pod ps -o pid,args
	echo "$output" | grep -E 'sleep 3000$'
	! echo "$output" | grep -E 'sleep 2000$'

	# A container without paths (not CRI's way) keeps namespaces of its own.
	pod_container pod sleep 4000
	update_config '.linux.namespaces |= map(del(.path))'
	kata_runtime_detached run -d --bundle "$BUNDLE" alone
	[ "$status" -eq 0 ]
	[ "$(ns_of alone ipc)" != "$(ns_of pod ipc)" ]
	kata_runtime exec alone pod-tool msgfind 4242
	[ "$status" -ne 0 ]

	kata_runtime delete --force pod
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
}

@test "pod sysctls set on the sandbox are seen by every container of the pod" {
	update_config '.linux.sysctl = {"kernel.msgmax": "12345", "kernel.shm_rmid_forced": "1", "net.ipv4.ip_unprivileged_port_start": "100"}'
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	kata_runtime exec pod cat /proc/sys/kernel/msgmax /proc/sys/kernel/shm_rmid_forced
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 12345 ]
	[ "${lines[1]}" = 1 ]

	# containerd puts the pod's sysctls in the sandbox's spec only.
	pod_container pod sleep 2000
	kata_runtime_detached run -d --bundle "$BUNDLE" app
	[ "$status" -eq 0 ]
	kata_runtime exec app cat /proc/sys/kernel/msgmax /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_unprivileged_port_start
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 12345 ]
	[ "${lines[1]}" = 1 ]
	[ "${lines[2]}" = 100 ]
	# A container that sets one itself (cri-o passes them to every container) shares it too.
	pod_container pod sleep 3000
	update_config '.linux.sysctl = {"kernel.msgmnb": "23456"}'
	kata_runtime_detached run -d --bundle "$BUNDLE" app2
	[ "$status" -eq 0 ]
	kata_runtime exec pod cat /proc/sys/kernel/msgmnb
	[ "$output" = 23456 ]

	kata_runtime delete --force pod
	[ "$status" -eq 0 ]
	assert_root_clean
}

# The host's devices as containerd's WithHostDevices lists them: a read-only loop
# device ($1: QEMU cannot open it read-write, as a snap's squashfs), a free loop
# device, the first disk, a char device.
function privileged_spec() {
	local ro="$1" free mm disk devs
	mm="$(stat -c '%t %T' "$ro")"
	devs='[{"path":"'"$ro"'","type":"b","major":'"$((0x${mm% *}))"',"minor":'"$((0x${mm#* }))"',"fileMode":432,"uid":0,"gid":0}'
	free="$(losetup -f)"
	mm="$(stat -c '%t %T' "$free")"
	devs+=',{"path":"'"$free"'","type":"b","major":'"$((0x${mm% *}))"',"minor":'"$((0x${mm#* }))"',"fileMode":432,"uid":0,"gid":0}'
	disk="$(ls /sys/block | grep -v -e '^loop' -e '^ram' | head -1)"
	if [ -n "$disk" ] && [ -b "/dev/$disk" ]; then
		mm="$(stat -c '%t %T' "/dev/$disk")"
		devs+=',{"path":"/dev/'"$disk"'","type":"b","major":'"$((0x${mm% *}))"',"minor":'"$((0x${mm#* }))"',"fileMode":432,"uid":0,"gid":0}'
	fi
	devs+=',{"path":"/dev/loop-control","type":"c","major":10,"minor":237,"fileMode":432,"uid":0,"gid":0}]'
	update_config '.linux.devices = '"$devs"' | .linux.maskedPaths = [] | .linux.readonlyPaths = []
		| .process.capabilities |= with_entries(.value = '"$(all_caps)"')
		| .linux.resources.devices = [{"allow": true, "access": "rwm"}]'
}

function all_caps() {
	printf '%s\n' CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE \
		NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT \
		SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE \
		AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ \
		PERFMON BPF CHECKPOINT_RESTORE | sed 's/^/CAP_/' | "$JQ" -R . | "$JQ" -s -c .
}

# The host block devices QEMU (pid $1) has open, one /dev path a line.
function qemu_open_devs() {
	local f
	for f in /proc/"$1"/fd/*; do
		readlink "$f" 2>/dev/null
	done | grep -e '^/dev/loop' -e '^/dev/[sv]d' -e '^/dev/nvme' | sort -u || true
}

@test "a privileged pod container gets no host devices: loop devices and the host disk are not hot-plugged" {
	command -v losetup >/dev/null || skip "needs losetup"
	local ro qpid
	truncate -s 16M "$POD_TMP/ro.img"
	ro="$(losetup -r -f --show "$POD_TMP/ro.img")"
	POD_LOOPS+=("$ro")
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	qpid="$(sandbox_value pod qemu_pid)"
	pod_container pod sleep 2000
	privileged_spec "$ro"
	kata_runtime_detached run -d --bundle "$BUNDLE" priv
	[ "$status" -eq 0 ]
	[ -z "$(qemu_open_devs "$qpid")" ]
	# Privileged inside the VM: every capability, /proc/sys writable; no host device node.
	kata_runtime exec priv sh -c 'grep CapEff /proc/self/status; echo 1 >/proc/sys/kernel/msgmni && echo wrote'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ CapEff:.*[13f]fffffffff ]]
	[ "${lines[1]}" = wrote ]
	kata_runtime exec priv ls "$ro"
	[ "$status" -ne 0 ]
	[ "$(container_status pod)" = running ]

	# Not privileged (default capabilities): the devices are passed as before, and the
	# read-only loop device fails the create.
	pod_container pod sleep 3000
	privileged_spec "$ro"
	update_config '.process.capabilities |= with_entries(.value = ["CAP_KILL"]) | .linux.devices |= [.[0]]'
	kata_runtime_detached run -d --bundle "$BUNDLE" unpriv
	[ "$status" -ne 0 ]
	[[ "$output" == *"$ro"* ]]
	[ -z "$(qemu_open_devs "$qpid")" ]
	[ "$(container_status pod)" = running ]

	kata_runtime delete --force pod
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
}

@test "privileged_without_host_devices = false: a privileged container's block devices are hot-plugged" {
	command -v losetup >/dev/null || skip "needs losetup"
	local conf l1 qpid mm
	conf="$POD_TMP/configuration.toml"
	cp "$("$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.Config.Path)" "$conf"
	if grep -q '^privileged_without_host_devices' "$conf"; then
		sed -i 's/^privileged_without_host_devices.*/privileged_without_host_devices = false/' "$conf"
	else
		sed -i 's/^\[runtime\]/[runtime]\nprivileged_without_host_devices = false/' "$conf"
	fi
	export KATA_CONF_FILE="$conf"
	truncate -s 16M "$POD_TMP/1.img"
	l1="$(losetup -f --show "$POD_TMP/1.img")"
	POD_LOOPS+=("$l1")

	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	qpid="$(sandbox_value pod qemu_pid)"
	pod_container pod sleep 2000
	privileged_spec "$l1"
	mm="$(stat -c '%t %T' "$l1")"
	update_config '.linux.devices = [{"path":"/dev/xvdz","type":"b","major":'"$((0x${mm% *}))"',"minor":'"$((0x${mm#* }))"'}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" priv
	[ "$status" -eq 0 ]
	[ "$(qemu_open_devs "$qpid")" = "$l1" ]
	kata_runtime exec priv sh -c 'test -b /dev/xvdz && echo block'
	[ "$output" = block ]

	kata_runtime delete --force pod
	[ "$status" -eq 0 ]
	assert_root_clean
}

# /dev/shm as containerd gives it: a tmpfs it mounts on the host per sandbox, bound
# read-only into the sandbox and read-write into the pod's containers.
function shm_mount() {
	update_config '.mounts |= map(select(.destination != "/dev/shm"))
		| .mounts += [{"destination":"/dev/shm","type":"bind","source":"'"$1"'","options":'"$2"'}]'
}

@test "the sandbox's /dev/shm is a guest tmpfs of the pod's size shared by its containers; MAP_SHARED works" {
	local shm="$POD_TMP/sandboxes/pod/shm"
	mkdir -p "$shm"
	mount -t tmpfs -o size=32m,mode=1777 shm "$shm"
	shm_mount "$shm" '["rbind","ro","nosuid","nodev","noexec"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	kata_runtime exec pod sh -c 'stat -f -c %T /dev/shm; df -k /dev/shm | tail -1'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = tmpfs ]
	[[ "${lines[1]}" =~ ^[a-z]+\ +32768\  ]]

	pod_container pod sleep 2000
	shm_mount "$shm" '["rbind","rw"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" app1
	[ "$status" -eq 0 ]
	pod_container pod sleep 3000
	shm_mount "$shm" '["rbind","rw"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" app2
	[ "$status" -eq 0 ]

	kata_runtime exec app1 pod-tool mmap /dev/shm/seg from-app1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "mmap ok" ]
	kata_runtime exec app2 cat /dev/shm/seg
	[ "$status" -eq 0 ]
	[ "$output" = from-app1 ]
	kata_runtime exec pod cat /dev/shm/seg
	[ "$output" = from-app1 ]
	# Not shared with the host.
	[ -z "$(ls -A "$shm")" ]
	[ -z "$(ls "$ROOT/shared/pod" | grep -e '-shm$' || true)" ]

	# The app containers go; the sandbox's shm stays.
	kata_runtime delete --force app1
	[ "$status" -eq 0 ]
	kata_runtime exec app2 cat /dev/shm/seg
	[ "$output" = from-app1 ]

	kata_runtime delete --force pod
	[ "$status" -eq 0 ]
	umount "$shm"
	assert_root_clean
	assert_no_vm_process
}

@test "a sandbox's /dev/shm bind of a plain host directory is 64 MiB in the guest unless its options say" {
	local shm="$POD_TMP/shm-dir"
	mkdir -p "$shm"
	shm_mount "$shm" '["rbind","rw"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	kata_runtime exec pod sh -c 'stat -f -c %T /dev/shm; df -k /dev/shm | tail -1; pod-tool mmap /dev/shm/x y'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = tmpfs ]
	[[ "${lines[1]}" =~ ^[a-z]+\ +65536\  ]]
	[ "${lines[2]}" = "mmap ok" ]
	kata_runtime delete --force pod

	shm_mount "$shm" '["rbind","rw","size=16m"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" pod2
	[ "$status" -eq 0 ]
	kata_runtime exec pod2 sh -c 'df -k /dev/shm | tail -1'
	[[ "$output" =~ ^[a-z]+\ +16384\  ]]
	kata_runtime delete --force pod2
	[ "$status" -eq 0 ]
	assert_root_clean
}

# MemTotal (kB) and the CPU count in container $1.
function guest_size() {
	"$KATA_RUNTIME" --root "$ROOT" exec "$1" sh -c 'awk "/^MemTotal/ { print \$2 }" /proc/meminfo; nproc'
}

@test "pod sizing: the sandbox-memory and sandbox-cpu annotations add the pod's resources to the VM" {
	local base with
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	base="$(guest_size pod)"
	echo "without: $base"
	kata_runtime delete --force pod
	[ "$status" -eq 0 ]

	# containerd 1.7+: the pod's limits (the sum of its containers') on the sandbox's spec.
	update_config '.annotations["io.kubernetes.cri.sandbox-memory"] = "805306368"
		| .annotations["io.kubernetes.cri.sandbox-cpu-quota"] = "50000"
		| .annotations["io.kubernetes.cri.sandbox-cpu-period"] = "100000"'
	kata_runtime_detached run -d --bundle "$BUNDLE" pod2
	[ "$status" -eq 0 ]
	with="$(guest_size pod2)"
	echo "with: $with"
	# 768 MiB more memory (a little of it goes to the kernel's page structures).
	[ "$(( $(echo "$with" | head -1) - $(echo "$base" | head -1) ))" -ge $(( 768 * 1024 - 16 * 1024 )) ]
	# One vCPU more (ceil(0.5) on top of default_vcpus), when the host has it.
	if [ "$(nproc)" -gt "$(echo "$base" | tail -1)" ]; then
		[ "$(echo "$with" | tail -1)" -eq $(( $(echo "$base" | tail -1) + 1 )) ]
	fi
	kata_runtime delete --force pod2
	[ "$status" -eq 0 ]
	assert_root_clean
}

@test "pod sizing: a container with a 256 MiB limit that joins grows the VM by 256 MiB (memory hot-plug)" {
	local base after
	[ "$(guest_config_value machine_type q35)" = q35 ] || skip "memory hot-plug needs q35"
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	kata_runtime exec pod test -d /sys/devices/system/memory
	[ "$status" -eq 0 ] || skip "the guest kernel has no memory hot-plug (CONFIG_MEMORY_HOTPLUG: make guest-kernel)"
	base="$(guest_size pod | head -1)"
	[ "$(sandbox_value pod memory_mb)" -eq 256 ]

	pod_container pod sleep 2000
	update_config '.linux.resources.memory = {"limit": 268435456}'
	kata_runtime_detached run -d --bundle "$BUNDLE" app
	[ "$status" -eq 0 ]
	after="$(guest_size app | head -1)"
	echo "MemTotal before $base kB, after $after kB"
	[ "$((after - base))" -ge $((256 * 1024 - 8 * 1024)) ]
	[ "$(sandbox_value pod memory_mb)" -eq 512 ]
	# A container without a limit: no change.
	pod_container pod sleep 3000
	kata_runtime_detached run -d --bundle "$BUNDLE" app2
	[ "$status" -eq 0 ]
	[ "$(sandbox_value pod memory_mb)" -eq 512 ]

	kata_runtime delete --force pod
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
}

@test "pod sizing: a memory hot-plug QEMU refuses (no free slot) fails the create; the pod runs on" {
	local conf
	[ "$(guest_config_value machine_type q35)" = q35 ] || skip "memory hot-plug needs q35"
	conf="$POD_TMP/configuration.toml"
	cp "$("$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.Config.Path)" "$conf"
	sed -i 's/^memory_slots *=.*/memory_slots = 1/' "$conf"
	grep -q '^memory_slots = 1' "$conf" || skip "the configuration has no memory_slots setting"
	export KATA_CONF_FILE="$conf"
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	pod_container pod sleep 2000
	update_config '.linux.resources.memory = {"limit": 134217728}'
	kata_runtime_detached run -d --bundle "$BUNDLE" app
	[ "$status" -eq 0 ]
	[ "$(sandbox_value pod memory_mb)" -eq 384 ]
	kata_runtime_detached run -d --bundle "$BUNDLE" app2
	[ "$status" -ne 0 ]
	[[ "$output" == *"grow sandbox pod by its memory limit (128 MiB)"* ]]
	kata_runtime state app2
	[ "$status" -ne 0 ]
	[ "$(container_status pod)" = running ]
	[ "$(container_status app)" = running ]
	[ "$(sandbox_value pod memory_mb)" -eq 384 ]
	[ "$(jq -r '.containers | join(",")' "$ROOT/sbs/pod/sandbox.json")" = pod,app ]
	kata_runtime exec app true
	[ "$status" -eq 0 ]
	kata_runtime delete --force pod
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
}

# A copy of the configuration with default_maxvcpus = $1 (vCPU hot-plug slots).
function maxvcpus_conf() {
	local conf="$POD_TMP/configuration.toml"
	cp "$("$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.Config.Path)" "$conf"
	if grep -q '^default_maxvcpus' "$conf"; then
		sed -i "s/^default_maxvcpus.*/default_maxvcpus = $1/" "$conf"
	else
		sed -i "s/^\[hypervisor.qemu\]/[hypervisor.qemu]\ndefault_maxvcpus = $1/" "$conf"
	fi
	export KATA_CONF_FILE="$conf"
}

# The guest's online CPUs (/sys/devices/system/cpu/online) and nproc, seen from container $1.
function guest_cpus() {
	"$KATA_RUNTIME" --root "$ROOT" exec "$1" sh -c 'cat /sys/devices/system/cpu/online; nproc'
}

@test "pod sizing: a container with a CPU quota of 2 CPUs that joins adds 2 vCPUs (vCPU hot-plug); freed vCPUs are reused" {
	[ "$(guest_config_value machine_type q35)" = q35 ] || skip "vCPU hot-plug needs q35"
	maxvcpus_conf 4
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	[ "$(sandbox_value pod vcpus)" -eq 1 ]
	[ "$(guest_cpus pod)" = "$(printf '0\n1')" ]

	# default_vcpus (1) + ceil(200000 / 100000)
	pod_container pod sleep 2000
	update_config '.linux.resources.cpu = {"quota": 200000, "period": 100000}'
	kata_runtime_detached run -d --bundle "$BUNDLE" app
	[ "$status" -eq 0 ]
	[ "$(sandbox_value pod vcpus)" -eq 3 ]
	run guest_cpus app
	echo "$output"
	[ "$output" = "$(printf '0-2\n3')" ]
	[ "$(sed -n "s/^plugged //p" "$ROOT/sbs/pod/pod-cpu")" -eq 2 ]

	# ceil(50000 / 100000) = 1 more
	pod_container pod sleep 3000
	update_config '.linux.resources.cpu = {"quota": 50000, "period": 100000}'
	kata_runtime_detached run -d --bundle "$BUNDLE" app2
	[ "$status" -eq 0 ]
	[ "$(sandbox_value pod vcpus)" -eq 4 ]
	[ "$(guest_cpus pod | head -1)" = 0-3 ]

	# app leaves: its 2 vCPUs go to the next container (no unplug, no hot-plug).
	kata_runtime delete --force app
	[ "$status" -eq 0 ]
	pod_container pod sleep 4000
	update_config '.linux.resources.cpu = {"quota": 200000, "period": 100000}'
	kata_runtime_detached run -d --bundle "$BUNDLE" app3
	[ "$status" -eq 0 ]
	[ "$(sandbox_value pod vcpus)" -eq 4 ]

	# No slot left (maxcpus = default_maxvcpus = 4): the container runs, the VM keeps its size.
	pod_container pod sleep 5000
	update_config '.linux.resources.cpu = {"quota": 100000, "period": 100000}'
	kata_runtime_detached run -d --bundle "$BUNDLE" app4
	[ "$status" -eq 0 ]
	[ "$(sandbox_value pod vcpus)" -eq 4 ]
	[ "$(guest_cpus app4)" = "$(printf '0-3\n4')" ]

	kata_runtime delete --force pod
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
}

@test "pod sizing: update with a larger CPU quota grows the VM (vCPU hot-plug)" {
	[ "$(guest_config_value machine_type q35)" = q35 ] || skip "vCPU hot-plug needs q35"
	maxvcpus_conf 3
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	pod_container pod sleep 2000
	kata_runtime_detached run -d --bundle "$BUNDLE" app
	[ "$status" -eq 0 ]
	[ "$(sandbox_value pod vcpus)" -eq 1 ]
	kata_runtime update --cpu-quota 300000 --cpu-period 100000 app
	[ "$status" -eq 0 ]
	[ "$(sandbox_value pod vcpus)" -eq 3 ]
	[ "$(guest_cpus app)" = "$(printf '0-2\n3')" ]
	# The quota holds in the guest.
	kata_runtime exec app sh -c 'cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us'
	[ "$status" -eq 0 ]
	[[ "$output" == 300000* ]]
	kata_runtime delete --force pod
	[ "$status" -eq 0 ]
	assert_root_clean
}

@test "bad input: a join whose sandbox is gone, one naming a sandbox of another --root, a second sandbox with the same id: clear errors, the pod runs on" {
	local other
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	# a sandbox that never existed (or is gone): the join fails and leaves nothing
	pod_container pod sleep 2000
	update_config '.annotations["io.kubernetes.cri.sandbox-id"] = "gone"'
	kata_runtime run -d --bundle "$BUNDLE" orphan
	[ "$status" -ne 0 ]
	[[ "$output" == *gone* ]]
	kata_runtime state orphan
	[ "$status" -ne 0 ]
	[ ! -e "$ROOT/sbs/gone" ]
	# the right sandbox id, but under another --root: that root has no such sandbox
	other="$POD_TMP/other-root"
	mkdir -p "$other"
	pod_container pod sleep 2000
	run "$KATA_RUNTIME" --root "$other" run -d --bundle "$BUNDLE" stranger
	[ "$status" -ne 0 ]
	[[ "$output" == *pod* ]]
	[ -z "$(ls -A "$other/sbs" 2>/dev/null)" ]
	# a second sandbox claiming the first one's id
	cp "$POD_TMP/base.json" "$BUNDLE/config.json"
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -ne 0 ]
	[[ "$output" == *"pod"* ]]
	# the pod is unharmed and takes a container
	[ "$(container_status pod)" = running ]
	pod_container pod sleep 2000
	kata_runtime_detached run -d --bundle "$BUNDLE" app
	[ "$status" -eq 0 ]
	kata_runtime exec app true
	[ "$status" -eq 0 ]
	[ "$(jq -r '.containers | join(",")' "$ROOT/sbs/pod/sandbox.json")" = pod,app ]
	kata_runtime delete --force pod
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
}
