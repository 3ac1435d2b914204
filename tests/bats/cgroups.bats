#!/usr/bin/env bats
# Host cgroups, VM sizing from the spec's limits, update and stats (docs/cgroups.md).
# The OOM case (exit 137 + an `oom` event) is lifecycle.bats's
# "events: an OOM kill in the container is an oom event"; not repeated here.

load helpers-vm

# Sandboxes are clones of the run's VM template (helpers-vm.bash use_vm_template,
# docs/factory.md "Tests"), but in the VM sizing and hot-plug tests (cold_boot): a
# clone has the template's size and no hot-plug slots.
function setup_file() {
	use_vm_template
}

function teardown_file() {
	release_vm_template
}

MIB=1048576

function setup() {
	requires_for_test
	setup_bundle sleep 1000
	# A cgroupsPath unique to this test, under a parent of our own.
	CG_PARENT="kata-cg-test-$$-$BATS_TEST_NUMBER"
	CG="/$CG_PARENT/c1"
	update_config ".linux.cgroupsPath = \"$CG\""
}

function teardown() {
	teardown_bundle
	# Whatever a failed test left (the runtime removes what it made).
	local h
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -d "$h$CG_PARENT" ] || continue
		rmdir "$h$CG_PARENT/c1" "$h$CG_PARENT" 2>/dev/null || true
	done
}

# The container's limit and VM: 256 MiB, quota 150000/period 100000.
function limits_256m_1_5cpu() {
	update_config ".linux.resources.memory = {\"limit\": $((256 * MIB))} | .linux.resources.cpu = {\"quota\": 150000, \"period\": 100000}"
}

# The guest cgroup dir of container ID as its processes see it (its own cgroup
# namespace: /proc/self/cgroup reads "0::/", /sys/fs/cgroup is its cgroup).
function guest_cgroup_file() {
	local id="$1" file="$2" rel
	kata_runtime exec "$id" sh -c 'sed -n "s/^0:://p" /proc/self/cgroup'
	[ "$status" -eq 0 ] || return 1
	rel="$output"
	kata_runtime exec "$id" cat "/sys/fs/cgroup$rel/$file"
}

@test "the memory limit sizes the guest and is the guest cgroup's limit" {
	cold_boot # VM sizing
	limits_256m_1_5cpu
	kata_runtime_detached run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	[ "$(sandbox_value c1 memory_mb)" = 256 ]

	kata_runtime exec c1 sh -c "sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo"
	[ "$status" -eq 0 ]
	total_kb="$output"
	echo "# guest MemTotal: $total_kb kB for a 256 MiB VM" >&3
	# MemTotal is the VM's memory less what the guest kernel reserves.
	[ "$total_kb" -gt $((200 * 1024)) ]
	[ "$total_kb" -le $((256 * 1024)) ]

	guest_cgroup_file c1 memory.max
	[ "$status" -eq 0 ]
	[ "$output" = $((256 * MIB)) ]
	kata_runtime events --stats c1
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .data.memory.usage.limit)" = $((256 * MIB)) ]
}

@test "a small memory limit still gets a 128 MiB VM" {
	cold_boot # VM sizing
	update_config ".linux.resources.memory = {\"limit\": $((64 * MIB))}"
	kata_runtime_detached run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	[ "$(sandbox_value c1 memory_mb)" = 128 ]
	guest_cgroup_file c1 memory.max
	[ "$status" -eq 0 ]
	[ "$output" = $((64 * MIB)) ]
}

@test "CPU quota 150000/period 100000 gives 2 vCPUs" {
	cold_boot # VM sizing
	limits_256m_1_5cpu
	kata_runtime_detached run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	[ "$(sandbox_value c1 vcpus)" = 2 ]
	kata_runtime exec c1 nproc
	[ "$status" -eq 0 ]
	[ "$output" = 2 ]
	kata_runtime exec c1 sh -c 'grep -c ^processor /proc/cpuinfo'
	[ "$output" = 2 ]
}

@test "the shim, the monitor and QEMU are in the spec's host cgroup (v1 memory and unified)" {
	kata_runtime_detached run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	qemu="$(sandbox_value c1 qemu_pid)"
	monitor="$(sandbox_value c1 monitor_pid)"
	shim="$("$JQ" -r .shim_pid "$ROOT/sbs/c1/c1/container.json")"
	for pid in "$qemu" "$monitor" "$shim"; do
		[ -n "$pid" ] && [ "$pid" -gt 0 ]
		cat "/proc/$pid/cgroup" >&2
		grep -qx "[0-9]*:memory:$CG" "/proc/$pid/cgroup"
		grep -qx "0::$CG" "/proc/$pid/cgroup"
		grep -qx "[0-9]*:cpu[a-z,]*:$CG" "/proc/$pid/cgroup"
	done
	grep -qx "$qemu" "/sys/fs/cgroup/memory$CG/cgroup.procs"
}

@test "host limits: memory = guest memory + overhead, CPU quota = spec quota + half a period" {
	cold_boot # the host limit follows the VM's sizing
	limits_256m_1_5cpu
	kata_runtime_detached run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	overhead="$("$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.HostCgroupOverheadMB)"
	echo "host_cgroup_overhead_mb: $overhead" >&2
	[ "$overhead" -gt 0 ]
	[ "$(cat "/sys/fs/cgroup/memory$CG/memory.limit_in_bytes")" = $(((256 + overhead) * MIB)) ]
	[ "$(cat "/sys/fs/cgroup/cpu$CG/cpu.cfs_quota_us")" = 200000 ]
	[ "$(cat "/sys/fs/cgroup/cpu$CG/cpu.cfs_period_us")" = 100000 ]

	# Fill the guest: a shell doubling a string until the guest OOM-kills it.  QEMU
	# must survive (no host OOM kill) and stay under the host limit.
	qemu="$(sandbox_value c1 qemu_pid)"
	qstart="$(proc_start_time "$qemu")"
	kata_runtime exec c1 sh -c 'x=a; while true; do x="$x$x"; done'
	[ "$status" -eq 137 ]
	grep -E 'VmRSS|VmHWM' "/proc/$qemu/status" | sed "s/^/# QEMU /" >&3
	echo "# host cgroup: limit $(cat "/sys/fs/cgroup/memory$CG/memory.limit_in_bytes") max_usage $(cat "/sys/fs/cgroup/memory$CG/memory.max_usage_in_bytes") failcnt $(cat "/sys/fs/cgroup/memory$CG/memory.failcnt") oom_kill $(sed -n 's/^oom_kill //p' "/sys/fs/cgroup/memory$CG/memory.oom_control")" >&3
	pid_alive "$qemu" "$qstart"
	[ "$(sed -n 's/^oom_kill //p' "/sys/fs/cgroup/memory$CG/memory.oom_control")" = 0 ]
	kata_runtime exec c1 true
	[ "$status" -eq 0 ]
}

@test "no limits in the spec: none on the host" {
	kata_runtime_detached run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	[ "$(cat "/sys/fs/cgroup/cpu$CG/cpu.cfs_quota_us")" = -1 ]
	[ "$(cat "/sys/fs/cgroup/memory$CG/memory.limit_in_bytes")" -gt $((1 << 40)) ]
}

@test "update --memory: the guest cgroup changes; past the VM's memory the VM grows (memory hot-plug)" {
	cold_boot # memory hot-plug: a clone has no slots
	limits_256m_1_5cpu
	kata_runtime_detached run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	host_before="$(cat "/sys/fs/cgroup/memory$CG/memory.limit_in_bytes")"

	kata_runtime update --memory $((128 * MIB)) c1
	[ "$status" -eq 0 ]
	guest_cgroup_file c1 memory.max
	[ "$output" = $((128 * MIB)) ]
	kata_runtime events --stats c1
	[ "$(echo "$output" | jq -r .data.memory.usage.limit)" = $((128 * MIB)) ]
	# The VM keeps its memory: the host limit stays guest memory + overhead.
	[ "$(cat "/sys/fs/cgroup/memory$CG/memory.limit_in_bytes")" = "$host_before" ]

	# Past the VM's 256 MiB: a 256 MiB DIMM, the guest sees it, the host limit follows.
	kata_runtime exec c1 sh -c "sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo"
	[ "$status" -eq 0 ]
	mem_before="$output"
	kata_runtime update --memory $((512 * MIB)) c1
	[ "$status" -eq 0 ]
	guest_cgroup_file c1 memory.max
	[ "$output" = $((512 * MIB)) ]
	[ "$(sandbox_value c1 memory_mb)" = 512 ]
	kata_runtime exec c1 sh -c "sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo"
	[ "$status" -eq 0 ]
	echo "# MemTotal: $mem_before kB, after update --memory 512M: $output kB" >&3
	[ "$output" -ge $((mem_before + 250 * 1024)) ]
	[ "$(cat "/sys/fs/cgroup/memory$CG/memory.limit_in_bytes")" -eq $((host_before + 256 * MIB)) ]

	# Down again: the guest cgroup only (the VM keeps its memory).
	kata_runtime update --memory $((256 * MIB)) c1
	[ "$status" -eq 0 ]
	guest_cgroup_file c1 memory.max
	[ "$output" = $((256 * MIB)) ]

	# CPU: the host quota follows (+ half a period).
	kata_runtime update --cpu-quota 50000 --cpu-period 100000 c1
	[ "$status" -eq 0 ]
	[ "$(cat "/sys/fs/cgroup/cpu$CG/cpu.cfs_quota_us")" = 100000 ]
}

@test "events --stats: memory usage grows when the container allocates" {
	limits_256m_1_5cpu
	kata_runtime_detached run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	kata_runtime events --stats c1
	[ "$status" -eq 0 ]
	before="$(echo "$output" | jq -r .data.memory.usage.usage)"
	kata_runtime exec c1 dd if=/dev/zero of=/dev/shm/x bs=1M count=40
	[ "$status" -eq 0 ]
	kata_runtime events --stats c1
	[ "$status" -eq 0 ]
	after="$(echo "$output" | jq -r .data.memory.usage.usage)"
	echo "# memory usage: before $before, after 40 MiB in /dev/shm $after" >&3
	[ "$after" -ge $((before + 38 * MIB)) ]
	[ "$after" -le $((256 * MIB)) ]
}

@test "delete leaves no cgroup in any hierarchy" {
	limits_256m_1_5cpu
	kata_runtime_detached run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	found=0
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -d "$h${CG#/}" ] && found=$((found + 1))
	done
	echo "c1's cgroup is in $found hierarchies" >&2
	[ "$found" -ge 3 ]
	kata_runtime delete --force c1
	[ "$status" -eq 0 ]
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ ! -e "$h$CG_PARENT" ] || fail "left: $h$CG_PARENT"
	done
}

@test "--systemd-cgroup without systemd is refused (no VM)" {
	[ ! -d /run/systemd/system ] || skip "systemd is running"
	update_config '.linux.cgroupsPath = "system.slice:kata:c1"'
	kata_runtime --systemd-cgroup run -d --bundle "$BUNDLE" c1
	[ "$status" -ne 0 ]
	[[ "$output" == *"systemd support for managing cgroups is not available"* ]]
}
