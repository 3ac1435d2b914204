#!/usr/bin/env bats
# The kill -9 matrix (docs/lifecycle.md "Crashes"): at each point of the lifecycle
# (during create before and after the VM boots, created, running, paused, during
# start and delete, pod join) one of QEMU, virtiofsd, the monitor, the shim or the
# runtime itself is killed with SIGKILL.  Afterwards `state` and `list` tell the truth,
# `kill` and `delete` return, `delete --force` succeeds, and nothing is left.
#
# The crashes of the runtime itself come from fault points (KATA_FAULT_INJECT) of a
# kata-runtime built here with --enable-fault-injection from a copy of this tree.

load helpers-vm
# Sandboxes boot cold, not from the run's VM template (docs/factory.md "Tests"):
# the fault points are on the boot path (a clone skips monitor-qemu-started), and the VM is killed.

function setup_file() {
	local why="" rt=""
	: >"$BATS_FILE_TMPDIR/marks"
	if [ "$(id -u)" -ne 0 ]; then
		why="needs root"
	else
		rt="$(build_fault_runtime "$BATS_FILE_TMPDIR/build" 2>"$BATS_FILE_TMPDIR/why")" || why="$(tr '\n' ' ' <"$BATS_FILE_TMPDIR/why")"
	fi
	echo "$rt" >"$BATS_FILE_TMPDIR/rt"
	echo "$why" >"$BATS_FILE_TMPDIR/why"
}

function teardown_file() {
	echo "# faults injected: $(wc -l <"$BATS_FILE_TMPDIR/marks")" >&3
}

function setup() {
	requires_vm
	FRT="$(cat "$BATS_FILE_TMPDIR/rt")"
	[ -x "$FRT" ] || skip "no fault-injection build of kata-runtime: $(cat "$BATS_FILE_TMPDIR/why")"
	setup_bundle sleep 1000
	MARKS="$BATS_FILE_TMPDIR/marks"
	PIDS="$BUNDLE/pids"
	: >"$PIDS"
	# The fault build reads the installed configuration (it has the installed paths).
	KATA_CONF_FILE="$("$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.Config.Path)"
	export KATA_CONF_FILE
	CG="/kata-faults-$$-$BATS_TEST_NUMBER"
	# Small VMs (128 MiB) in a host cgroup, which must go too.
	update_config '.linux.cgroupsPath = "'"$CG"'/c" | .linux.resources.memory.limit = 134217728'
}

function teardown() {
	local d
	if [ -n "$ROOT" ] && [ -d "$ROOT" ]; then
		for id in $("$KATA_RUNTIME" --root "$ROOT" list -q 2>/dev/null); do
			timeout 60 "$KATA_RUNTIME" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
		done
		for p in $(pgrep -f -- "$ROOT"); do
			kill -9 "$p" 2>/dev/null
		done
	fi
	[ -z "${NS_PEER:-}" ] || ip netns del "$NS_PEER" 2>/dev/null || true
	for d in /sys/fs/cgroup/*/; do
		[ -n "${CG:-}" ] && [ -d "$d${CG#/}" ] && find "$d${CG#/}" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	teardown_bundle
}

# Runs the fault build with KATA_FAULT_INJECT=POINT and ARGS (stdio to a file), and
# checks that the fault point was reached.  $status is the runtime's.
function fault_at() {
	local point="$1" before after
	shift
	setup_root
	before="$(grep -c "^$point " "$MARKS" || true)"
	status=0
	KATA_FAULT_INJECT="$point" KATA_FAULT_MARK="$MARKS" "$FRT" --root "$ROOT" "$@" </dev/null >"$BUNDLE/fault.out" 2>&1 || status=$?
	output="$(cat "$BUNDLE/fault.out")"
	echo "fault $point: kata-runtime $* (status=$status): $output" >&2
	after="$(grep -c "^$point " "$MARKS" || true)"
	[ "$after" -gt "$before" ] || fail "fault point $point was not reached"
	root_processes >>"$PIDS"
}

# kill -9 of a process the test found (counted as an injected fault).
function kill9() {
	local what="$1" pid="$2"
	[ -n "$pid" ] && [ "$pid" -gt 0 ] || fail "no $what to kill"
	kill -9 "$pid" || fail "kill -9 $what ($pid)"
	echo "kill-9-$what $pid" >>"$MARKS"
}

# The shim pid of CID from its container.json.
function shim_of() {
	"$JQ" -r .shim_pid "$ROOT/sbs/$2/$1/container.json"
}

# The container's status as `state` says it, or "gone".
function state_of() {
	run timeout 60 "$KATA_RUNTIME" --root "$ROOT" state "$1"
	[ "$status" -ne 124 ] || fail "state $1 hung"
	if [ "$status" -eq 0 ]; then
		echo "$output" | "$JQ" -r .status
	else
		[[ "$output" == *"does not exist"* ]] || fail "state $1 failed: $output"
		echo gone
	fi
}

# `state` of CID is one of ALLOWED ("a|b"), and `list` agrees.
function assert_state() {
	local cid="$1" allowed="$2" st ls
	st="$(state_of "$cid")"
	[[ "|$allowed|" == *"|$st|"* ]] || fail "state $cid: $st, expected $allowed"
	run timeout 60 "$KATA_RUNTIME" --root "$ROOT" list --format json
	[ "$status" -eq 0 ] || fail "list failed: $output"
	ls="$(echo "$output" | "$JQ" -r --arg id "$cid" '[(. // [])[] | select(.id == $id) | .status] | .[0] // "gone"')"
	[ "$ls" = "$st" ] || fail "list says $cid is $ls, state says $st"
}

# After a crash: `state` tells one of ALLOWED for each id, `kill` and `delete` return,
# `delete --force` succeeds, and nothing is left (with --partial first: other
# containers of the root still run, so only these ids are checked).  Args: ALLOWED CID...
function assert_recovers() {
	local partial=false allowed cid
	if [ "$1" = --partial ]; then
		partial=true
		shift
	fi
	allowed="$1"
	shift
	root_processes >>"$PIDS"
	for cid in "$@"; do
		assert_state "$cid" "$allowed"
	done
	for cid in "$@"; do
		run timeout 60 "$KATA_RUNTIME" --root "$ROOT" kill "$cid" KILL
		[ "$status" -ne 124 ] || fail "kill $cid hung"
		run timeout 120 "$KATA_RUNTIME" --root "$ROOT" delete "$cid"
		[ "$status" -ne 124 ] || fail "delete $cid hung"
		echo "delete $cid: $status $output" >&2
	done
	for cid in "$@"; do
		run timeout 120 "$KATA_RUNTIME" --root "$ROOT" delete --force "$cid"
		[ "$status" -eq 0 ] || fail "delete --force $cid: $output"
		[ "$(state_of "$cid")" = gone ]
		! grep -F -- "/$cid/" /proc/self/mountinfo || fail "mounts of $cid are left"
		[ ! -e "$ROOT/mapping/$cid" ] && [ ! -e "$ROOT/sbs/$cid" ] || fail "state of $cid is left"
	done
	$partial || assert_nothing_left "$PIDS" "$CG"
}

# Waits up to 30 s for the shims in "PID START" lines of FILE to exit.
function assert_shims_exit() {
	local pid start
	while read -r pid start; do
		wait_pid_gone "$pid" "$start" 30 || fail "shim $pid did not exit"
	done <"$1"
}

function shims_file() {
	local p
	for p in $(pgrep -f -- "__shim --root $ROOT "); do
		echo "$p $(proc_start_time "$p")"
	done >"$BUNDLE/shims"
	[ -s "$BUNDLE/shims" ] || fail "no shim runs"
	echo "$BUNDLE/shims"
}

function join_pod() {
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container" | .annotations["io.kubernetes.cri.sandbox-id"] = "'"$1"'" | .linux.cgroupsPath = "'"$CG"'/'"$2"'"'
}

# ---- the runtime dies during create ----

@test "runtime killed during create, before the VM boots (state dir made, before boot)" {
	fault_at create-state-dir run -d --bundle "$BUNDLE" f1
	[ "$status" -eq 137 ]
	assert_recovers gone f1
	fault_at create-before-vm run -d --bundle "$BUNDLE" f2
	[ "$status" -eq 137 ]
	assert_recovers gone f2
}

@test "runtime killed during create, after the VM boots (VM started, VM ready)" {
	fault_at create-vm-started create --bundle "$BUNDLE" f3
	[ "$status" -eq 137 ]
	# Its creator is dead: a plain delete cleans up the half-made sandbox (and its VM).
	assert_state f3 gone
	kata_runtime delete f3
	[ "$status" -eq 0 ]
	assert_recovers gone f3
	fault_at create-vm-ready create --bundle "$BUNDLE" f4
	[ "$status" -eq 137 ]
	assert_recovers gone f4
}

@test "runtime killed during create, after CreateContainer and before the pid file" {
	fault_at create-after-create-container create --bundle "$BUNDLE" f5
	[ "$status" -eq 137 ]
	assert_recovers stopped f5
	fault_at create-before-pid-file create --pid-file "$BUNDLE/pid" --bundle "$BUNDLE" f6
	[ "$status" -eq 137 ]
	[ ! -e "$BUNDLE/pid" ]
	# Everything was done but the pid file: the container is created, and it works.
	assert_state f6 created
	assert_recovers created f6
}

@test "monitor killed during create (QEMU started, agent ready): create fails and cleans up" {
	fault_at monitor-qemu-started create --bundle "$BUNDLE" f7
	[ "$status" -ne 0 ]
	[ "$status" -ne 137 ]
	assert_recovers gone f7
	fault_at monitor-agent-ready create --bundle "$BUNDLE" f8
	[ "$status" -ne 0 ]
	[ "$status" -ne 137 ]
	assert_recovers gone f8
}

@test "shim killed during create: create fails and cleans up" {
	fault_at shim-attached create --bundle "$BUNDLE" f9
	[ "$status" -ne 0 ]
	[ "$status" -ne 137 ]
	assert_recovers gone f9
}

# ---- the runtime dies during start and delete ----

@test "runtime killed during start (before and after StartContainer)" {
	kata_runtime_detached create --bundle "$BUNDLE" s1
	[ "$status" -eq 0 ]
	fault_at start-before-agent start s1
	[ "$status" -eq 137 ]
	assert_state s1 created
	# The stored status still says created while the process may already run.
	fault_at start-after-agent start s1
	[ "$status" -eq 137 ]
	assert_recovers "created|running" s1
}

@test "runtime killed during delete (after RemoveContainer, after the VM stopped, before the state goes)" {
	local cid
	for point in delete-after-remove delete-after-vm-stop delete-before-state-removal; do
		cid="d-${point#delete-}"
		kata_runtime_detached run -d --bundle "$BUNDLE" "$cid"
		[ "$status" -eq 0 ]
		root_processes >>"$PIDS"
		fault_at "$point" delete --force "$cid"
		[ "$status" -eq 137 ]
		assert_recovers "stopped|gone" "$cid"
	done
}

# ---- kill -9 of QEMU / the monitor / the shim in the created, running and paused states ----

# A pod: the sandbox container P running, A created, R running, Z paused.
function start_pod() {
	kata_runtime_detached run -d --bundle "$BUNDLE" "$1"
	[ "$status" -eq 0 ]
	join_pod "$1" "$1-a"
	kata_runtime_detached create --bundle "$BUNDLE" "$1-a"
	[ "$status" -eq 0 ]
	join_pod "$1" "$1-r"
	kata_runtime_detached run -d --bundle "$BUNDLE" "$1-r"
	[ "$status" -eq 0 ]
	join_pod "$1" "$1-z"
	kata_runtime_detached run -d --bundle "$BUNDLE" "$1-z"
	[ "$status" -eq 0 ]
	kata_runtime pause "$1-z"
	[ "$status" -eq 0 ]
	assert_state "$1-a" created
	assert_state "$1-r" running
	assert_state "$1-z" paused
	root_processes >>"$PIDS"
}

@test "kill -9 QEMU with containers created, running and paused" {
	start_pod q
	shims="$(shims_file)"
	kill9 qemu "$(sandbox_value q qemu_pid)"
	assert_shims_exit "$shims"
	assert_recovers stopped q-a q-r q-z q
}

@test "kill -9 the monitor with containers created, running and paused" {
	start_pod m
	shims="$(shims_file)"
	kill9 monitor "$(sandbox_value m monitor_pid)"
	assert_shims_exit "$shims"
	# QEMU does not outlive its monitor for long: delete kills it by pid and start time.
	assert_recovers stopped m-a m-r m-z m
}

@test "kill -9 the shims of created, running and paused containers" {
	start_pod s
	for c in s-a s-r s-z; do
		kill9 shim "$(shim_of "$c" s)"
	done
	for c in s-a s-r s-z; do
		wait_for_container 30 0.5 "$c" stopped
	done
	# The VM and the sandbox container are unharmed.
	assert_state s running
	kata_runtime exec s true
	[ "$status" -eq 0 ]
	assert_recovers --partial stopped s-a s-r s-z
	assert_state s running
	assert_recovers running s
}

@test "kill -9 virtiofsd of a running container" {
	local vfsd conf
	[ -x /usr/lib/qemu/virtiofsd ] || [ -x /usr/libexec/virtiofsd ] || skip "virtiofsd is not installed"
	vfsd="$(command -v /usr/libexec/virtiofsd /usr/lib/qemu/virtiofsd | head -1)"
	conf="$BUNDLE/configuration.toml"
	sed -e 's|^shared_fs *=.*|shared_fs = "virtio-fs"|' -e 's|^virtio_fs_daemon *=.*|virtio_fs_daemon = "'"$vfsd"'"|' \
		"$KATA_CONF_FILE" >"$conf"
	grep -q '^shared_fs = "virtio-fs"' "$conf" || skip "the configuration has no shared_fs setting"
	export KATA_CONF_FILE="$conf"
	kata_runtime_detached run -d --bundle "$BUNDLE" v
	[ "$status" -eq 0 ] || fail "run with virtio-fs failed: $output"
	shims="$(shims_file)"
	kill9 virtiofsd "$(sandbox_value v virtiofsd_pid)"
	assert_shims_exit "$shims"
	assert_recovers stopped v
}

@test "kill -9 QEMU under a foreground run: the shim, so run, exits non-zero" {
	setup_root
	"$KATA_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" fg </dev/null >"$BUNDLE/fg.out" 2>&1 &
	local runner=$!
	wait_for_container 120 0.5 fg running
	kill9 qemu "$(sandbox_value fg qemu_pid)"
	local rc=0 i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$runner" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$runner" 2>/dev/null && fail "run did not return within 30 s"
	wait "$runner" || rc=$?
	echo "run: $rc $(cat "$BUNDLE/fg.out")" >&2
	[ "$rc" -ne 0 ]
	[ "$rc" -ne 137 ]
	assert_recovers gone fg
}

# ---- pods ----

@test "runtime killed while joining a pod; the pod is unharmed" {
	kata_runtime_detached run -d --bundle "$BUNDLE" p
	[ "$status" -eq 0 ]
	join_pod p p-j
	fault_at join-locked create --bundle "$BUNDLE" p-j
	[ "$status" -eq 137 ]
	assert_state p-j gone
	join_pod p p-c
	fault_at create-after-create-container create --bundle "$BUNDLE" p-c
	[ "$status" -eq 137 ]
	assert_state p running
	assert_recovers --partial "stopped|gone" p-j p-c
	# The sandbox still works: a new container joins it.
	join_pod p p-k
	kata_runtime_detached run -d --bundle "$BUNDLE" p-k
	[ "$status" -eq 0 ]
	assert_state p-k running
	assert_recovers running p-k p
}

# ---- a bridge-networked sandbox (docker's flow: the runtime's netns, a hook's veth) ----

# A prestart hook that does what docker's libnetwork-setkey does: moves one end
# of a veth pair into /proc/<state pid>/ns/net; the other end is peer0 in $NS_PEER.
function bridge_networked() {
	NS_PEER="kbats-fpeer-$$-${BATS_TEST_NUMBER}"
	ip netns add "$NS_PEER"
	cat >"$BUNDLE/setkey.sh" <<HOOK
#!/bin/sh
set -e
pid=\$(jq -r .pid)
ip -n "$NS_PEER" link add peer0 type veth peer name eth0 netns "\$pid"
ip -n "$NS_PEER" link set peer0 up
nsenter --net="/proc/\$pid/ns/net" sh -c 'ip link set eth0 up && ip addr add 10.197.0.2/24 dev eth0'
HOOK
	chmod +x "$BUNDLE/setkey.sh"
	update_config --arg p "$BUNDLE/setkey.sh" '.hooks.prestart = [{"path": $p, "args": [$p]}]
		| .linux.namespaces |= (map(select(.type != "network")) + [{"type": "network"}])'
}

# The netns the runtime made went, and with it the veth (peer0 with it).
function assert_peer_gone() {
	! ip -n "$NS_PEER" link show peer0 2>/dev/null || fail "peer0 outlived the runtime's netns"
	[ ! -e "$ROOT/netns" ] || fail "left under $ROOT/netns: $(ls "$ROOT/netns")"
	ip netns del "$NS_PEER"
}

@test "bridge-networked: runtime killed before boot and after, QEMU killed: delete --force removes the netns" {
	command -v nsenter >/dev/null || skip "needs nsenter"
	bridge_networked
	fault_at create-before-vm run -d --bundle "$BUNDLE" n1
	[ "$status" -eq 137 ]
	[ -e "$ROOT/netns/n1" ]
	assert_recovers gone n1
	assert_peer_gone
	bridge_networked
	fault_at create-vm-ready create --bundle "$BUNDLE" n2
	[ "$status" -eq 137 ]
	ip -n "$NS_PEER" link show peer0 >/dev/null
	assert_recovers gone n2
	assert_peer_gone
	bridge_networked
	kata_runtime_detached run -d --bundle "$BUNDLE" n3
	[ "$status" -eq 0 ]
	shims="$(shims_file)"
	kill9 qemu "$(sandbox_value n3 qemu_pid)"
	assert_shims_exit "$shims"
	assert_recovers stopped n3
	assert_peer_gone
}
