#!/usr/bin/env bats
# runc parity of the lifecycle around pause, delete --force, host cgroups and events
# (issue 16, items 7, 14, 15, 16; docs/lifecycle.md, docs/cgroups.md).
#
# Time bounds here ("returns within 20 s", "at least N samples in 3 s") are
# correctness checks against a wedged sandbox, far above what the operations take;
# speed itself is measured by `make bench`.

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
	CG_PARENT="kata-parity-life-$$-$BATS_TEST_NUMBER"
	BG_PIDS=()
}

function teardown() {
	local p h
	for p in "${BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	# Anything a failed test left frozen must not wedge the cleanup.
	for h in /sys/fs/cgroup/freezer/"$CG_PARENT" /sys/fs/cgroup/freezer/"$CG_PARENT"/c; do
		[ -f "$h/freezer.state" ] && echo THAWED >"$h/freezer.state" 2>/dev/null
	done
	for h in /sys/fs/cgroup/unified/"$CG_PARENT" /sys/fs/cgroup/unified/"$CG_PARENT"/c /sys/fs/cgroup/"$CG_PARENT" /sys/fs/cgroup/"$CG_PARENT"/c; do
		[ -f "$h/cgroup.freeze" ] && echo 0 >"$h/cgroup.freeze" 2>/dev/null
	done
	if [ -n "$ROOT" ] && [ -d "$ROOT" ]; then
		for id in $("$KATA_RUNTIME" --root "$ROOT" list -q 2>/dev/null); do
			timeout 60 "$KATA_RUNTIME" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
		done
		for p in $(pgrep -f -- "$ROOT"); do
			kill -9 "$p" 2>/dev/null
		done
	fi
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -d "$h$CG_PARENT" ] && find "$h$CG_PARENT" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	teardown_bundle
}

# Runs kata-runtime in the background (stdio to files under $BUNDLE/bg-NAME.*);
# its pid in $BG.
function bg_runtime() {
	local name="$1"
	shift
	"$KATA_RUNTIME" --root "$ROOT" "$@" </dev/null >"$BUNDLE/bg-$name.out" 2>"$BUNDLE/bg-$name.err" &
	BG=$!
	BG_PIDS+=("$BG")
}

# Waits up to SECONDS for background pid PID; its exit status in $BG_STATUS.
# Fails when it is still running then.
function wait_bg() {
	local pid="$1" secs="$2" i
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			BG_STATUS=0
			wait "$pid" || BG_STATUS=$?
			return 0
		fi
		sleep 0.1
	done
	echo "background pid $pid still runs after ${secs}s" >&2
	return 1
}

# The container's host cgroupsPath, under a parent of the test's own.
function use_cgroup() {
	CG="/$CG_PARENT/c"
	update_config ".linux.cgroupsPath = \"$CG\""
}

# ---- item 7: pause never wedges the sandbox ----

@test "pause: exec --ignore-paused waits in the monitor; resume, state and stats do not wait behind it" {
	kata_runtime_detached run -d --bundle "$BUNDLE" p1
	[ "$status" -eq 0 ]
	kata_runtime pause p1
	[ "$status" -eq 0 ]
	bg_runtime exec exec --ignore-paused p1 sh -c 'echo ran-after-resume'
	ex=$BG
	sleep 2
	# Held while paused: it has not run.
	kill -0 "$ex"
	[ ! -s "$BUNDLE/bg-exec.out" ]
	# Control requests are answered at once.
	run timeout 20 "$KATA_RUNTIME" --root "$ROOT" state p1
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .status)" = paused ]
	run timeout 20 "$KATA_RUNTIME" --root "$ROOT" events --stats p1
	echo "events --stats: $status $output" >&2
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .type)" = stats ]
	run timeout 20 "$KATA_RUNTIME" --root "$ROOT" resume p1
	echo "resume: $status $output" >&2
	[ "$status" -eq 0 ]
	# ... and then the exec runs.
	wait_bg "$ex" 30
	cat "$BUNDLE/bg-exec.err" >&2
	[ "$BG_STATUS" -eq 0 ]
	[ "$(cat "$BUNDLE/bg-exec.out")" = ran-after-resume ]
	[ "$(container_status p1)" = running ]
	kata_runtime exec p1 true
	[ "$status" -eq 0 ]
}

@test "pause: exec without --ignore-paused fails at once, also while another exec waits" {
	kata_runtime_detached run -d --bundle "$BUNDLE" p2
	[ "$status" -eq 0 ]
	kata_runtime pause p2
	[ "$status" -eq 0 ]
	bg_runtime exec exec --ignore-paused p2 true
	sleep 1
	run timeout 20 "$KATA_RUNTIME" --root "$ROOT" exec p2 true
	echo "exec: $status $output" >&2
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ "$output" == *"cannot exec in a paused container"* ]]
	run timeout 20 "$KATA_RUNTIME" --root "$ROOT" resume p2
	[ "$status" -eq 0 ]
	wait_bg "$BG" 30
	[ "$BG_STATUS" -eq 0 ]
}

@test "pause: delete --force of a paused container with a waiting exec returns within 20 s, nothing left" {
	kata_runtime_detached run -d --bundle "$BUNDLE" p3
	[ "$status" -eq 0 ]
	root_processes >"$BUNDLE/pids"
	kata_runtime pause p3
	[ "$status" -eq 0 ]
	bg_runtime exec exec --ignore-paused p3 sleep 100
	ex=$BG
	sleep 2
	run timeout 20 "$KATA_RUNTIME" --root "$ROOT" delete --force p3
	echo "delete --force: $status $output" >&2
	[ "$status" -eq 0 ]
	# The waiting exec fails (its container is gone) instead of hanging.
	wait_bg "$ex" 30
	[ "$BG_STATUS" -ne 0 ]
	assert_nothing_left "$BUNDLE/pids"
}

# ---- item 14: create killed during a concurrent delete --force ----

@test "a sandbox whose mapping is gone and whose creator is dead is shut down by its monitor" {
	# Its monitor checks every 0.5 s instead of 5 s.
	export KATA_MONITOR_WATCH_MS=500
	kata_runtime_detached run -d --bundle "$BUNDLE" o1
	unset KATA_MONITOR_WATCH_MS
	[ "$status" -eq 0 ]
	root_processes >"$BUNDLE/pids"
	mon="$(sandbox_value o1 monitor_pid)"
	mon_start="$(proc_start_time "$mon")"
	qemu="$(sandbox_value o1 qemu_pid)"
	qemu_start="$(proc_start_time "$qemu")"
	# Only the mapping goes (what a delete --force did to a create in progress).
	rm -rf "$ROOT/mapping/o1"
	wait_pid_gone "$mon" "$mon_start" 30
	wait_pid_gone "$qemu" "$qemu_start" 30
	# What is left is state only; delete --force of the (now unknown) id removes it.
	"$KATA_RUNTIME" --root "$ROOT" delete --force o1
	assert_nothing_left "$BUNDLE/pids"
}

@test "delete --force does not pull the state from under a create in progress; it cleans up once the create dies" {
	bg_runtime create create --bundle "$BUNDLE" w1
	cr=$BG
	# Stop the create while its VM boots (monitor started, no container.json).
	mon=""
	for _ in $(seq 600); do
		mon="$(pgrep -f -- "__monitor $ROOT w1 " || true)"
		[ -n "$mon" ] && break
		sleep 0.05
	done
	kill -STOP "$cr"
	[ -n "$mon" ]
	if [ -f "$ROOT/sbs/w1/w1/container.json" ]; then
		kill -9 "$cr"
		skip "the create wrote container.json before it could be stopped"
	fi
	root_processes >"$BUNDLE/pids"
	bg_runtime delete delete --force w1
	del=$BG
	sleep 3
	# The create is alive: its sandbox and state are still there, delete waits.
	kill -0 "$del"
	kill -0 "$mon"
	[ -d "$ROOT/sbs/w1" ]
	[ -d "$ROOT/mapping/w1" ]
	# The create dies: delete --force removes everything.
	kill -9 "$cr"
	wait_bg "$del" 60
	cat "$BUNDLE/bg-delete.err" >&2
	[ "$BG_STATUS" -eq 0 ]
	assert_nothing_left "$BUNDLE/pids"
}

@test "create killed (SIGKILL, SIGTERM) while delete --force of the same id runs: nothing is left" {
	for sig in KILL TERM; do
		for delay in 0.5 2.5; do
			id="k-$sig-${delay%.*}"
			bg_runtime create create --bundle "$BUNDLE" "$id"
			cr=$BG
			sleep "$delay"
			bg_runtime delete delete --force "$id"
			del=$BG
			sleep 0.3
			kill -"$sig" "$cr" 2>/dev/null || true
			wait_bg "$del" 120
			echo "# $sig after ${delay}s: delete --force status $BG_STATUS: $(cat "$BUNDLE/bg-delete.err")" >&3
			[ "$BG_STATUS" -eq 0 ]
			wait_bg "$cr" 30 || true
			# Whatever the interleaving, nothing of that id runs once both are done.
			for i in $(seq 60); do
				[ -z "$(pgrep -f -- "$ROOT/vm/$id/|__monitor $ROOT $id ")" ] && break
				sleep 0.5
			done
			p="$(pgrep -f -- "$ROOT/vm/$id/|__monitor $ROOT $id " || true)"
			[ -z "$p" ] || fail "left running for $id: $(ps -o pid,args -p "$(echo $p | tr ' ' ,)")"
			"$KATA_RUNTIME" --root "$ROOT" delete --force "$id"
		done
	done
	assert_nothing_left /dev/null
}

# ---- item 15: frozen host cgroups ----

@test "create refuses a host cgroup that someone else froze, at once and leaving nothing" {
	[ -d /sys/fs/cgroup/freezer ] || skip "no v1 freezer hierarchy"
	use_cgroup
	mkdir -p "/sys/fs/cgroup/freezer$CG"
	echo FROZEN >"/sys/fs/cgroup/freezer$CG/freezer.state"
	run timeout 60 "$KATA_RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" f1 </dev/null
	echo "create: $status $output" >&2
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ "$output" == *"is frozen"* ]]
	# Refused, not thawed: the owner's freeze stays.
	[ "$(cat "/sys/fs/cgroup/freezer$CG/freezer.state")" = FROZEN ]
	assert_nothing_left /dev/null
	# The dirs create made are gone; the one it found is left to its owner.
	for h in /sys/fs/cgroup/*/; do
		[ "$h" = /sys/fs/cgroup/freezer/ ] && continue
		[ ! -e "$h$CG_PARENT" ] || fail "left: $h$CG_PARENT"
	done
}

@test "create refuses a cgroup under a frozen v2 parent (cgroup.freeze)" {
	d=/sys/fs/cgroup/unified
	[ -f /sys/fs/cgroup/cgroup.controllers ] && d=/sys/fs/cgroup
	[ -d "$d" ] && [ "$(stat -f -c %T "$d")" = cgroup2fs ] || skip "no cgroup v2 hierarchy"
	use_cgroup
	mkdir -p "$d/$CG_PARENT"
	echo 1 >"$d/$CG_PARENT/cgroup.freeze"
	run timeout 60 "$KATA_RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" f2 </dev/null
	echo "create: $status $output" >&2
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ "$output" == *"is frozen"* ]]
	assert_nothing_left /dev/null
	[ ! -e "$d$CG" ] || fail "left: $d$CG"
}

@test "pause freezes the guest only; delete --force thaws a host cgroup frozen under the VM and removes it" {
	[ -d /sys/fs/cgroup/freezer ] || skip "no v1 freezer hierarchy"
	use_cgroup
	kata_runtime_detached run -d --bundle "$BUNDLE" f3
	[ "$status" -eq 0 ]
	root_processes >"$BUNDLE/pids"
	kata_runtime pause f3
	[ "$status" -eq 0 ]
	# The host cgroup (the monitor, QEMU, the shim) is never frozen by pause.
	[ "$(cat "/sys/fs/cgroup/freezer$CG/freezer.state")" = THAWED ]
	kata_runtime resume f3
	[ "$status" -eq 0 ]
	# Someone else freezes it (a runc pause of the same cgroupsPath, ...).
	echo FROZEN >"/sys/fs/cgroup/freezer$CG/freezer.state"
	run timeout 60 "$KATA_RUNTIME" --root "$ROOT" delete --force f3
	echo "delete --force: $status $output" >&2
	[ "$status" -eq 0 ]
	assert_nothing_left "$BUNDLE/pids"
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ ! -e "$h$CG_PARENT" ] || fail "left: $h$CG_PARENT"
	done
}

# ---- item 16: events ----

@test "events --interval 100ms keeps its interval (at least 10 stats in 3 s)" {
	kata_runtime_detached run -d --bundle "$BUNDLE" e1
	[ "$status" -eq 0 ]
	timeout 3 "$KATA_RUNTIME" --root "$ROOT" events --interval 100ms e1 >"$BUNDLE/events" 2>&1 || true
	n="$(grep -c '"type":"stats"' "$BUNDLE/events" || true)"
	echo "# events --interval 100ms: $n stats events in 3 s" >&3
	[ "$n" -ge 10 ]
	# Every line is a complete runc stats event.
	head -1 "$BUNDLE/events" | jq -e '.type == "stats" and .id == "e1" and (.data.memory.usage.usage > 0)'
}

@test "events: an OOM kill is an oom event at once, not at the next interval" {
	update_config '.linux.resources.memory = {"limit": 33554432}'
	kata_runtime_detached run -d --bundle "$BUNDLE" e2
	[ "$status" -eq 0 ]
	"$KATA_RUNTIME" --root "$ROOT" events --interval 60s e2 >"$BUNDLE/events" 2>&1 &
	ev=$!
	BG_PIDS+=("$ev")
	sleep 2
	kata_runtime exec e2 sh -c 'x=a; while true; do x="$x$x"; done'
	[ "$status" -eq 137 ]
	for _ in $(seq 20); do grep -q '"type":"oom"' "$BUNDLE/events" && break; sleep 1; done
	kill "$ev"
	cat "$BUNDLE/events" >&2
	[ "$(grep -c '^{"type":"oom","id":"e2"}$' "$BUNDLE/events")" -eq 1 ]
}
