#!/usr/bin/env bats
# Nothing is left behind: delete --force, a dead VM, broken state, failed creates.

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

function teardown() {
	teardown_bundle
}

@test "delete --force of a running container leaves no process, mount or file" {
	kata_runtime_detached run -d --pid-file "$BUNDLE/pid" --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	shim="$(cat "$BUNDLE/pid")"
	shim_start="$(proc_start_time "$shim")"
	qemu="$(sandbox_value c1 qemu_pid)"
	qemu_start="$(sandbox_value c1 qemu_start)"
	mon="$(sandbox_value c1 monitor_pid)"
	mon_start="$(sandbox_value c1 monitor_start)"
	pid_alive "$qemu" "$qemu_start"
	pid_alive "$mon" "$mon_start"
	grep -qF "$ROOT/shared/c1/c1/rootfs" /proc/self/mountinfo

	kata_runtime delete --force c1
	[ "$status" -eq 0 ]
	wait_pid_gone "$shim" "$shim_start" 10
	wait_pid_gone "$qemu" "$qemu_start" 10
	wait_pid_gone "$mon" "$mon_start" 10
	assert_root_clean
	assert_no_vm_process
	kata_runtime state c1
	[ "$status" -ne 0 ]
}

@test "kill -9 of QEMU: state says stopped, the shim exits, delete cleans up" {
	kata_runtime_detached run -d --pid-file "$BUNDLE/pid" --bundle "$BUNDLE" c2
	[ "$status" -eq 0 ]
	shim="$(cat "$BUNDLE/pid")"
	shim_start="$(proc_start_time "$shim")"
	qemu="$(sandbox_value c2 qemu_pid)"
	[ "$qemu" -gt 0 ]
	[ "$(pgrep -f "$ROOT/vm/c2/" | grep -cx "$qemu")" -eq 1 ]
	kill -9 "$qemu"
	wait_for_container 20 0.5 c2 stopped
	wait_pid_gone "$shim" "$shim_start" 20
	kata_runtime state c2
	[ "$(echo "$output" | jq -r .pid)" = 0 ]
	kata_runtime delete c2
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
}

@test "delete --force with broken state files" {
	kata_runtime_detached run -d --pid-file "$BUNDLE/pid" --bundle "$BUNDLE" c3
	[ "$status" -eq 0 ]
	shim="$(cat "$BUNDLE/pid")"
	shim_start="$(proc_start_time "$shim")"
	qemu="$(sandbox_value c3 qemu_pid)"
	qemu_start="$(sandbox_value c3 qemu_start)"
	echo '{"version":1,"id":' >"$ROOT/sbs/c3/sandbox.json"
	: >"$ROOT/sbs/c3/c3/container.json"
	kata_runtime delete --force c3
	[ "$status" -eq 0 ]
	wait_pid_gone "$qemu" "$qemu_start" 10
	assert_root_clean
	assert_no_vm_process
	# The shim notices the VM is gone.
	wait_pid_gone "$shim" "$shim_start" 20
}

@test "a failed create leaves nothing behind (bad mount source, failing hook)" {
	update_config '.mounts += [{"destination":"/x","type":"bind","source":"/nonexistent/dir","options":["rbind"]}]'
	kata_runtime_detached create --bundle "$BUNDLE" c4
	[ "$status" -ne 0 ]
	[[ "$output" == */nonexistent/dir* ]]
	assert_root_clean
	assert_no_vm_process

	update_config '.mounts |= map(select(.destination != "/x")) | .hooks = {"prestart": [{"path": "/bin/false"}]}'
	kata_runtime_detached create --bundle "$BUNDLE" c5
	[ "$status" -ne 0 ]
	[[ "$output" == *prestart* ]]
	assert_root_clean
	assert_no_vm_process
	kata_runtime state c5
	[ "$status" -ne 0 ]
}

@test "hooks run on the host with the state on stdin" {
	cat >"$BUNDLE/hook.sh" <<HOOK
#!/bin/sh
cat >"$BUNDLE/hook-\$1.json"
HOOK
	chmod +x "$BUNDLE/hook.sh"
	update_config '.hooks = {"prestart": [{"path": "'"$BUNDLE"'/hook.sh", "args": ["hook.sh", "prestart"]}],
		"poststart": [{"path": "'"$BUNDLE"'/hook.sh", "args": ["hook.sh", "poststart"]}],
		"poststop": [{"path": "'"$BUNDLE"'/hook.sh", "args": ["hook.sh", "poststop"]}]}'
	kata_runtime_detached run -d --bundle "$BUNDLE" c6
	[ "$status" -eq 0 ]
	[ "$(jq -r .id "$BUNDLE/hook-prestart.json")" = c6 ]
	[ "$(jq -r .bundle "$BUNDLE/hook-prestart.json")" = "$BUNDLE" ]
	[ "$(jq -r .status "$BUNDLE/hook-poststart.json")" = running ]
	kata_runtime delete --force c6
	[ "$status" -eq 0 ]
	[ "$(jq -r .status "$BUNDLE/hook-poststop.json")" = stopped ]
	assert_root_clean
}

@test "host cgroups: the shim and QEMU join linux.cgroupsPath; delete removes it" {
	cg="/kata-test-$$-$RANDOM/c7"
	update_config '.linux.cgroupsPath = "'"$cg"'"'
	kata_runtime_detached run -d --pid-file "$BUNDLE/pid" --bundle "$BUNDLE" c7
	[ "$status" -eq 0 ]
	shim="$(cat "$BUNDLE/pid")"
	qemu="$(sandbox_value c7 qemu_pid)"
	grep -q ":memory:$cg\$" "/proc/$shim/cgroup"
	grep -q ":pids:$cg\$" "/proc/$shim/cgroup"
	grep -q ":memory:$cg\$" "/proc/$qemu/cgroup"
	[ -d "/sys/fs/cgroup/memory$cg" ]
	kata_runtime delete --force c7
	[ "$status" -eq 0 ]
	[ ! -e "/sys/fs/cgroup/memory$cg" ]
	[ ! -e "/sys/fs/cgroup/memory${cg%/c7}" ]
	[ ! -e "/sys/fs/cgroup/pids${cg%/c7}" ]
	assert_root_clean
}

@test "--systemd-cgroup without systemd fails like runc (no VM)" {
	[ ! -d /run/systemd/system ] || skip "systemd runs here"
	update_config '.linux.cgroupsPath = "system.slice:kata:c8"'
	run "$KATA_RUNTIME" --root "$ROOT" --systemd-cgroup create --bundle "$BUNDLE" c8 </dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *"systemd cgroup flag passed, but systemd support for managing cgroups is not available"* ]]
	assert_root_clean
}

@test "the last delete leaves --root empty (no per-kind dirs), a pod's first one keeps them" {
	kata_runtime_detached run -d --bundle "$BUNDLE" c9
	[ "$status" -eq 0 ]
	[ -d "$ROOT/mapping" ] && [ -d "$ROOT/sbs" ] && [ -d "$ROOT/vm" ] && [ -d "$ROOT/shared" ]
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container" | .annotations["io.kubernetes.cri.sandbox-id"] = "c9"'
	kata_runtime_detached run -d --bundle "$BUNDLE" c10
	[ "$status" -eq 0 ]
	kata_runtime delete --force c10
	[ "$status" -eq 0 ]
	[ -d "$ROOT/mapping/c9" ] && [ ! -e "$ROOT/mapping/c10" ]
	kata_runtime delete --force c9
	[ "$status" -eq 0 ]
	[ -z "$(find "$ROOT" -mindepth 1)" ] || fail "left under $ROOT: $(find "$ROOT" -mindepth 1)"
	assert_no_vm_process
}
