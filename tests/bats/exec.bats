#!/usr/bin/env bats
# exec into a running container (real VM).

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
	kata_runtime_detached run -d --bundle "$BUNDLE" ex
	[ "$status" -eq 0 ] || fail "run -d failed: $output"
}

function teardown() {
	teardown_bundle
}

@test "exec in the foreground: output and exit code" {
	kata_runtime exec ex echo hello
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	kata_runtime exec ex sh -c 'exit 5'
	[ "$status" -eq 5 ]
	kata_runtime exec ex nosuchbinary
	[ "$status" -ne 0 ]
}

@test "exec flags: env, cwd, user" {
	kata_runtime exec --env FOO=bar --cwd /tmp --user 1000:1000 ex sh -c 'echo $FOO $(pwd) $(id -u) $(id -g)'
	[ "$status" -eq 0 ]
	[ "$output" = "bar /tmp 1000 1000" ]
}

@test "exec --detach --pid-file: the shim runs and is listed by ps" {
	kata_runtime_detached exec -d --pid-file "$BUNDLE/exec.pid" ex sleep 100
	[ "$status" -eq 0 ]
	pid="$(cat "$BUNDLE/exec.pid")"
	start="$(proc_start_time "$pid")"
	[ -n "$start" ]
	kata_runtime ps --format json ex
	[ "$status" -eq 0 ]
	[[ "$output" == *"$pid"* ]]
	kata_runtime kill --all ex KILL
	[ "$status" -eq 0 ]
	wait_pid_gone "$pid" "$start" 60
}

@test "exec --process FILE" {
	cat >"$BUNDLE/process.json" <<'JSON'
{"terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/",
 "env": ["PATH=/bin:/usr/bin", "X=from-process"],
 "args": ["sh", "-c", "echo $X; exit 7"]}
JSON
	kata_runtime exec --process "$BUNDLE/process.json" ex
	[ "$status" -eq 7 ]
	[ "$output" = from-process ]
	echo '{"args": 5}' >"$BUNDLE/bad.json"
	kata_runtime exec --process "$BUNDLE/bad.json" ex
	[ "$status" -ne 0 ]
	[[ "$output" == *args* ]]
}

@test "exec in a stopped container fails" {
	kata_runtime kill ex KILL
	wait_for_container 120 0.5 ex stopped
	kata_runtime exec ex true
	[ "$status" -ne 0 ]
	[[ "$output" == *stopped* ]]
}
