#!/usr/bin/env bats
# create / start / state / kill / delete / run with a real VM.

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

@test "create, start, state, kill, delete: exact states and pids" {
	kata_runtime_detached create --pid-file "$BUNDLE/pid" --bundle "$BUNDLE" test1
	[ "$status" -eq 0 ]
	[ -s "$BUNDLE/pid" ]
	pid="$(cat "$BUNDLE/pid")"
	start="$(proc_start_time "$pid")"
	[ -n "$start" ]

	kata_runtime state test1
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .status)" = created ]
	[ "$(echo "$output" | jq -r .id)" = test1 ]
	[ "$(echo "$output" | jq -r .pid)" = "$pid" ]
	[ "$(echo "$output" | jq -r .bundle)" = "$BUNDLE" ]
	[ "$(echo "$output" | jq -r .rootfs)" = "$BUNDLE/rootfs" ]
	[[ "$(echo "$output" | jq -r .created)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]

	kata_runtime start test1
	[ "$status" -eq 0 ]
	kata_runtime state test1
	[ "$(echo "$output" | jq -r .status)" = running ]
	[ "$(echo "$output" | jq -r .pid)" = "$pid" ]

	kata_runtime kill test1 KILL
	[ "$status" -eq 0 ]
	wait_for_container 120 0.5 test1 stopped
	wait_pid_gone "$pid" "$start" 30
	kata_runtime state test1
	[ "$(echo "$output" | jq -r .status)" = stopped ]
	[ "$(echo "$output" | jq -r .pid)" = 0 ]

	kata_runtime delete test1
	[ "$status" -eq 0 ]
	kata_runtime state test1
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
	assert_root_clean
	assert_no_vm_process
}

@test "runc's errors: existing id, start twice, delete running, kill stopped" {
	kata_runtime_detached create --bundle "$BUNDLE" test2
	[ "$status" -eq 0 ]
	kata_runtime_detached create --bundle "$BUNDLE" test2
	[ "$status" -ne 0 ]
	[[ "$output" == *"container with id exists: test2"* ]]

	kata_runtime start test2
	[ "$status" -eq 0 ]
	kata_runtime start test2
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot start an already running container"* ]]

	kata_runtime delete test2
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot delete container test2 that is not stopped: running"* ]]

	kata_runtime kill test2 9
	[ "$status" -eq 0 ]
	wait_for_container 120 0.5 test2 stopped
	kata_runtime kill test2 KILL
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
	kata_runtime start test2
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot start a container that has stopped"* ]]

	kata_runtime delete test2
	[ "$status" -eq 0 ]
	assert_root_clean
}

@test "errors (no VM): unknown ids, invalid ids, delete --force of nothing" {
	kata_runtime state nosuch
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
	kata_runtime kill nosuch KILL
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
	kata_runtime start nosuch
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
	kata_runtime delete nosuch
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
	kata_runtime delete --force nosuch
	[ "$status" -eq 0 ]
	kata_runtime_detached create --bundle "$BUNDLE" "../x"
	[ "$status" -ne 0 ]
	[[ "$output" == *"invalid id format"* ]]
	assert_root_clean
}

@test "run: exit codes 0 and 3 are the process's; the container is deleted" {
	update_config '.process.args = ["true"]'
	kata_runtime run --bundle "$BUNDLE" run0
	[ "$status" -eq 0 ]
	update_config '.process.args = ["sh", "-c", "echo out; echo err >&2; exit 3"]'
	kata_runtime run --bundle "$BUNDLE" run3
	[ "$status" -eq 3 ]
	[[ "$output" == *out* ]]
	[[ "$output" == *err* ]]
	kata_runtime state run3
	[ "$status" -ne 0 ]
	assert_root_clean
	assert_no_vm_process
}

@test "run: 137 after kill -9, 143 after SIGTERM" {
	drop_pid_namespace
	"$KATA_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" run9 </dev/null >/dev/null 2>&1 &
	bg=$!
	wait_for_container 240 0.5 run9 running
	kata_runtime kill run9 KILL
	[ "$status" -eq 0 ]
	rc=0
	wait "$bg" || rc=$?
	[ "$rc" -eq 137 ]

	"$KATA_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" run15 </dev/null >/dev/null 2>&1 &
	bg=$!
	wait_for_container 240 0.5 run15 running
	kata_runtime kill run15 TERM
	[ "$status" -eq 0 ]
	rc=0
	wait "$bg" || rc=$?
	[ "$rc" -eq 143 ]
	assert_root_clean
}

@test "run: stdin reaches the process (echo hi | run through cat)" {
	update_config '.process.args = ["cat"]'
	run bash -c "echo hi | '$KATA_RUNTIME' --root '$ROOT' run --bundle '$BUNDLE' catid"
	echo "$output" >&2
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
}

@test "run -d: detached, then the shim exits when the process is killed" {
	kata_runtime_detached run -d --pid-file "$BUNDLE/pid" --bundle "$BUNDLE" rund
	[ "$status" -eq 0 ]
	pid="$(cat "$BUNDLE/pid")"
	start="$(proc_start_time "$pid")"
	[ -n "$start" ]
	kata_runtime state rund
	[ "$(echo "$output" | jq -r .status)" = running ]
	kata_runtime kill rund KILL
	[ "$status" -eq 0 ]
	wait_pid_gone "$pid" "$start" 60
	[ "$(container_status rund)" = stopped ]
	kata_runtime delete rund
	[ "$status" -eq 0 ]
	assert_root_clean
}

@test "two sandboxes at once" {
	kata_runtime_detached run -d --bundle "$BUNDLE" sba
	[ "$status" -eq 0 ]
	kata_runtime_detached run -d --bundle "$BUNDLE" sbb
	[ "$status" -eq 0 ]
	[ "$(container_status sba)" = running ]
	[ "$(container_status sbb)" = running ]
	qa="$(sandbox_value sba qemu_pid)"
	qb="$(sandbox_value sbb qemu_pid)"
	[ "$qa" -gt 0 ] && [ "$qb" -gt 0 ] && [ "$qa" != "$qb" ]
	kata_runtime list -q
	[ "$status" -eq 0 ]
	[[ "$output" == *sba* ]] && [[ "$output" == *sbb* ]]
	kata_runtime delete --force sba
	[ "$status" -eq 0 ]
	[ "$(container_status sbb)" = running ]
	kata_runtime delete --force sbb
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
}

@test "a pod container joins its sandbox (cri annotations) and goes with it" {
	kata_runtime_detached run -d --bundle "$BUNDLE" pod1
	[ "$status" -eq 0 ]
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container" | .annotations["io.kubernetes.cri.sandbox-id"] = "pod1"'
	kata_runtime_detached run -d --bundle "$BUNDLE" ctr1
	[ "$status" -eq 0 ]
	[ "$(container_status ctr1)" = running ]
	[ "$(jq -r '.containers | length' "$ROOT/sbs/pod1/sandbox.json")" = 2 ]
	[ ! -e "$ROOT/sbs/ctr1" ]
	update_config '.annotations["io.kubernetes.cri.sandbox-id"] = "nosuch"'
	kata_runtime_detached create --bundle "$BUNDLE" ctr2
	[ "$status" -ne 0 ]
	kata_runtime delete --force pod1
	[ "$status" -eq 0 ]
	kata_runtime state ctr1
	[ "$status" -ne 0 ]
	assert_root_clean
	assert_no_vm_process
}

@test "bind mounts of a directory and of a file reach the container" {
	mkdir -p "$BUNDLE/vol"
	echo volume-data >"$BUNDLE/vol/f"
	echo file-data >"$BUNDLE/one.txt"
	update_config '.mounts += [{"destination":"/vol","type":"bind","source":"'"$BUNDLE"'/vol","options":["rbind","rw"]},
		{"destination":"/etc/one.txt","type":"bind","source":"'"$BUNDLE"'/one.txt","options":["bind","ro"]}]'
	update_config '.process.args = ["sh", "-c", "cat /vol/f /etc/one.txt; echo new >/vol/g"]'
	kata_runtime run --bundle "$BUNDLE" mnt1
	[ "$status" -eq 0 ]
	[[ "$output" == *volume-data* ]]
	[[ "$output" == *file-data* ]]
	[ "$(cat "$BUNDLE/vol/g")" = new ]
	assert_root_clean
}

@test "pause, resume, ps, list, update, events --stats" {
	kata_runtime_detached run -d --pid-file "$BUNDLE/pid" --bundle "$BUNDLE" ops
	[ "$status" -eq 0 ]
	pid="$(cat "$BUNDLE/pid")"
	kata_runtime pause ops
	[ "$status" -eq 0 ]
	[ "$(container_status ops)" = paused ]
	kata_runtime pause ops
	[ "$status" -ne 0 ]
	kata_runtime resume ops
	[ "$status" -eq 0 ]
	[ "$(container_status ops)" = running ]
	kata_runtime resume ops
	[ "$status" -ne 0 ]
	[[ "$output" == *"not paused"* ]]

	kata_runtime ps --format json ops
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c .)" = "[$pid]" ]
	kata_runtime ps ops
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *UID*PID*PPID*CMD* ]]
	# runc's ps: the host's ps -ef rows of the container's pids (its shim here)
	[ "$(echo "${lines[1]}" | awk '{print $2}')" = "$pid" ]
	[[ "${lines[1]}" == *"--container ops"* ]]

	kata_runtime list --format json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.[] | select(.id == "ops") | .status')" = running ]
	[ "$(echo "$output" | jq -r '.[] | select(.id == "ops") | .pid')" = "$pid" ]

	kata_runtime update --pids-limit 50 ops
	[ "$status" -eq 0 ]
	kata_runtime events --stats ops
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .type)" = stats ]
	[ "$(echo "$output" | jq -r .id)" = ops ]
	[ "$(echo "$output" | jq -r .data.pids.current)" -ge 1 ]
	[ "$(echo "$output" | jq -r .data.pids.limit)" = 50 ]
	[ "$(echo "$output" | jq -r .data.cpu.usage.total)" -gt 0 ]
	[ "$(echo "$output" | jq -r .data.memory.usage.usage)" -gt 0 ]
}

@test "events: an OOM kill in the container is an oom event" {
	update_config '.linux.resources.memory = {"limit": 33554432}'
	kata_runtime_detached run -d --bundle "$BUNDLE" oom1
	[ "$status" -eq 0 ]
	"$KATA_RUNTIME" --root "$ROOT" events --interval 1s oom1 >"$BUNDLE/events" 2>&1 &
	ev=$!
	sleep 2
	kata_runtime exec oom1 sh -c 'x=a; while true; do x="$x$x"; done'
	[ "$status" -eq 137 ]
	for _ in $(seq 30); do grep -q '"type":"oom"' "$BUNDLE/events" && break; sleep 1; done
	kill "$ev"
	cat "$BUNDLE/events" >&2
	grep -q '^{"type":"oom","id":"oom1"}$' "$BUNDLE/events"
	grep -q '"type":"stats"' "$BUNDLE/events"
}

@test "a Kubernetes emptyDir on tmpfs becomes a guest tmpfs (ephemeral storage)" {
	eph="$BUNDLE/pod/volumes/kubernetes.io~empty-dir/scratch"
	mkdir -p "$eph"
	mount -t tmpfs tmpfs "$eph"
	update_config '.mounts += [{"destination":"/scratch","type":"bind","source":"'"$eph"'","options":["rbind","rw"]}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" eph1
	[ "$status" -eq 0 ]
	kata_runtime exec eph1 sh -c 'echo guest-only >/scratch/f; grep " /scratch " /proc/mounts'
	[ "$status" -eq 0 ]
	[[ "$output" == *tmpfs* ]]
	kata_runtime exec eph1 cat /scratch/f
	[ "$output" = guest-only ]
	[ ! -e "$eph/f" ]
	kata_runtime delete --force eph1
	[ "$status" -eq 0 ]
	umount "$eph"
	assert_root_clean
}
