#!/usr/bin/env bats
# Terminals through --console-socket (runc's protocol), with a real VM.

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
	setup_bundle sh
	update_config '.process.terminal = true'
	RECV="$(console_receiver)"
	SOCK="$BUNDLE/console.sock"
}

function teardown() {
	[ -n "${RPID:-}" ] && kill "$RPID" 2>/dev/null
	teardown_bundle
}

@test "run -d --console-socket: the pty master arrives and the window size reaches the guest" {
	"$RECV" "$SOCK" 37 101 'stty size; [ -t 0 ] && [ -t 1 ] && echo is-a-tty; exit\n' 180 >"$BUNDLE/out" 2>"$BUNDLE/err" &
	RPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	kata_runtime_detached run -d --console-socket "$SOCK" --bundle "$BUNDLE" tty1
	[ "$status" -eq 0 ]
	rc=0
	wait "$RPID" || rc=$?
	RPID=
	cat "$BUNDLE/out" "$BUNDLE/err" >&2
	[ "$rc" -eq 0 ]
	grep -q '^37 101' <(tr -d '\r' <"$BUNDLE/out")
	grep -q '^is-a-tty' <(tr -d '\r' <"$BUNDLE/out")
	wait_for_container 120 0.5 tty1 stopped
}

@test "create --console-socket then start" {
	"$RECV" "$SOCK" 24 80 'echo hello-$((6*7)); exit\n' 180 >"$BUNDLE/out" 2>"$BUNDLE/err" &
	RPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	kata_runtime_detached create --console-socket "$SOCK" --bundle "$BUNDLE" tty2
	[ "$status" -eq 0 ]
	kata_runtime start tty2
	[ "$status" -eq 0 ]
	rc=0
	wait "$RPID" || rc=$?
	RPID=
	cat "$BUNDLE/out" "$BUNDLE/err" >&2
	[ "$rc" -eq 0 ]
	grep -q 'hello-42' "$BUNDLE/out"
}

@test "runc's tty errors (no VM)" {
	kata_runtime_detached create --bundle "$BUNDLE" tty3
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot allocate tty if runc will detach without setting console socket"* ]]
	update_config '.process.terminal = false'
	kata_runtime_detached create --console-socket "$SOCK" --bundle "$BUNDLE" tty4
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot use console socket if runc will not detach or allocate tty"* ]]
	assert_root_clean
}

@test "exec -t --console-socket" {
	update_config '.process.terminal = false | .process.args = ["sleep", "1000"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" tty5
	[ "$status" -eq 0 ]
	"$RECV" "$SOCK" 50 132 'stty size; exit\n' 180 >"$BUNDLE/out" 2>"$BUNDLE/err" &
	RPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	kata_runtime_detached exec -t -d --console-socket "$SOCK" tty5 sh
	[ "$status" -eq 0 ]
	rc=0
	wait "$RPID" || rc=$?
	RPID=
	cat "$BUNDLE/out" "$BUNDLE/err" >&2
	[ "$rc" -eq 0 ]
	grep -q '^50 132' <(tr -d '\r' <"$BUNDLE/out")
}

# The pty comes from the container's own devpts (runc's behaviour): `tty` names it
# /dev/pts/N, and that node is in the container's /dev/pts.
@test "run -d --console-socket: tty names /dev/pts/<n> of the container" {
	"$RECV" "$SOCK" 24 80 'echo "T:$(tty)"; echo "P:" $(ls /dev/pts); exit\n' 180 >"$BUNDLE/out" 2>"$BUNDLE/err" &
	RPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	kata_runtime_detached run -d --console-socket "$SOCK" --bundle "$BUNDLE" tty6
	[ "$status" -eq 0 ]
	rc=0
	wait "$RPID" || rc=$?
	RPID=
	cat "$BUNDLE/out" "$BUNDLE/err" >&2
	[ "$rc" -eq 0 ]
	name="$(tr -d '\r' <"$BUNDLE/out" | sed -n 's/^T:\(\/dev\/pts\/[0-9][0-9]*\)$/\1/p' | head -1)"
	[ -n "$name" ]
	# the slave is listed in the container's /dev/pts, next to ptmx
	pts="$(tr -d '\r' <"$BUNDLE/out" | grep '^P: ' | head -1)"
	[[ " ${pts#P: } " == *" ${name#/dev/pts/} "* ]]
	[[ " ${pts#P: } " == *" ptmx "* ]]
	wait_for_container 120 0.5 tty6 stopped
}

@test "exec -t --console-socket: tty names /dev/pts/<n> of the container" {
	update_config '.process.terminal = false | .process.args = ["sleep", "1000"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" tty7
	[ "$status" -eq 0 ]
	"$RECV" "$SOCK" 30 90 'echo "T:$(tty)"; echo "P:" $(ls /dev/pts); stty size; exit\n' 180 >"$BUNDLE/out" 2>"$BUNDLE/err" &
	RPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	kata_runtime_detached exec -t -d --console-socket "$SOCK" tty7 sh
	[ "$status" -eq 0 ]
	rc=0
	wait "$RPID" || rc=$?
	RPID=
	cat "$BUNDLE/out" "$BUNDLE/err" >&2
	[ "$rc" -eq 0 ]
	grep -q '^30 90' <(tr -d '\r' <"$BUNDLE/out")
	# exec joins the container's mount namespace: its pty is in the container's devpts
	name="$(tr -d '\r' <"$BUNDLE/out" | sed -n 's/^T:\(\/dev\/pts\/[0-9][0-9]*\)$/\1/p' | head -1)"
	[ -n "$name" ]
	pts="$(tr -d '\r' <"$BUNDLE/out" | grep '^P: ' | head -1)"
	[[ " ${pts#P: } " == *" ${name#/dev/pts/} "* ]]
}

@test "exec -t: the exec's pty goes when it exits (nothing left in /dev/pts)" {
	# the agent kept a dup of every terminal exec's pty master until the
	# container was removed, so each `exec -t` left a /dev/pts/<n> behind
	update_config '.process.terminal = false | .process.args = ["sleep", "1000"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" tty9
	[ "$status" -eq 0 ]
	for i in 1 2; do
		"$RECV" "$SOCK" 30 90 'tty; exit\n' 180 >"$BUNDLE/out$i" 2>"$BUNDLE/err$i" &
		RPID=$!
		for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
		kata_runtime_detached exec -t -d --console-socket "$SOCK" tty9 sh
		[ "$status" -eq 0 ]
		rc=0
		wait "$RPID" || rc=$?
		RPID=
		cat "$BUNDLE/out$i" "$BUNDLE/err$i" >&2
		[ "$rc" -eq 0 ]
		grep -q '^/dev/pts/[0-9]' <(tr -d '\r' <"$BUNDLE/out$i")
	done
	left=
	for _ in $(seq 50); do
		kata_runtime exec tty9 ls /dev/pts
		[ "$status" -eq 0 ]
		left="$(echo $output)"
		[ "$left" = ptmx ] && break
		sleep 0.2
	done
	echo "/dev/pts after two exec -t: $left" >&2
	[ "$left" = ptmx ]
}

@test "a terminal without a devpts in the container still works (guest's devpts)" {
	# runc refuses this spec; the agent falls back to a pty of the guest's devpts:
	# the process has a working terminal, only `tty` cannot name it
	update_config '.mounts |= map(select(.destination != "/dev/pts"))'
	"$RECV" "$SOCK" 28 77 'stty size; exit\n' 180 >"$BUNDLE/out" 2>"$BUNDLE/err" &
	RPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	kata_runtime_detached run -d --console-socket "$SOCK" --bundle "$BUNDLE" tty8
	[ "$status" -eq 0 ]
	rc=0
	wait "$RPID" || rc=$?
	RPID=
	cat "$BUNDLE/out" "$BUNDLE/err" >&2
	[ "$rc" -eq 0 ]
	grep -q '^28 77' <(tr -d '\r' <"$BUNDLE/out")
	wait_for_container 120 0.5 tty8 stopped
}
