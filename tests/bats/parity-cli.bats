#!/usr/bin/env bats
# runc parity of the CLI (issue 16, items 8-12): exec in a created container, kill
# with signal 0, ps as runc prints it, run --keep, --preserve-fds, list --format json,
# --debug without --log, and exec's own failures (exit 255).  runc is the reference
# on the same bundle where it is installed.

load helpers-vm

# The boot is not under test here: sandboxes are clones of the run's VM template
# (helpers-vm.bash use_vm_template, docs/factory.md "Tests").
function setup_file() {
	use_vm_template
}

function teardown_file() {
	release_vm_template
}

RUNC_ROOT=""

function setup() {
	requires_for_test
	setup_bundle sleep 1000
	RUNC_ROOT="$(mktemp -d "${BATS_TMPDIR:-/tmp}/runc-root.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$RUNC_ROOT")
}

function teardown() {
	local id
	if [ -n "$RUNC_ROOT" ] && command -v runc >/dev/null; then
		for id in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
			runc --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
		done
	fi
	teardown_bundle
}

# runc with the test's runc root; stdio to a file (a detached init keeps it open).
function runc_ref() {
	local log
	log="$(mktemp "${BATS_TMPDIR:-/tmp}/runc-out.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$log")
	run __runc_to_file "$log" "$@"
	echo "runc $* (status=$status):" >&2
	echo "$output" >&2
}

function __runc_to_file() {
	local log="$1" rc=0
	shift
	runc --root "$RUNC_ROOT" "$@" </dev/null >"$log" 2>&1 || rc=$?
	cat "$log"
	return "$rc"
}

# The header of the host's `ps ARGS`, fields separated by one space.
function ps_header() {
	ps "$@" | head -n 1 | tr -s ' ' | sed 's/^ //'
}

# ---- item 8: exec in a created container ----

@test "exec in a created container runs, the container stays created and starts (runc too)" {
	kata_runtime_detached create --bundle "$BUNDLE" pc-created
	[ "$status" -eq 0 ]
	[ "$(container_status pc-created)" = created ]
	kata_runtime exec pc-created sh -c 'echo in-created; cat /proc/1/cmdline >/dev/null; exit 4'
	[ "$status" -eq 4 ]
	[ "$output" = in-created ]
	kata_runtime exec pc-created cat /etc/hostname
	[ "$status" -eq 0 ]
	[ "$output" = kata-test ]
	[ "$(container_status pc-created)" = created ]
	kata_runtime start pc-created
	[ "$status" -eq 0 ]
	[ "$(container_status pc-created)" = running ]
	kata_runtime exec pc-created sh -c 'cat /proc/1/cmdline | tr "\0" " "'
	[ "$status" -eq 0 ]
	[ "$output" = "sleep 1000 " ]

	if command -v runc >/dev/null; then
		runc_ref create --bundle "$BUNDLE" pc-created-runc
		[ "$status" -eq 0 ]
		runc_ref exec pc-created-runc sh -c 'echo in-created; exit 4'
		[ "$status" -eq 4 ]
		[ "$output" = in-created ]
	fi
}

# ---- item 9: kill with signal 0 ----

@test "kill ID 0 / kill -a ID 0 (no VM): signal 0 is a signal, the id is looked up" {
	kata_runtime kill nosuch 0
	[ "$status" -eq 1 ]
	[ "$output" = "container does not exist" ]
	kata_runtime kill -a nosuch 0
	[ "$status" -eq 1 ]
	[ "$output" = "container does not exist" ]
}

@test "kill ID 0 and kill -a ID 0: running, then stopped, as runc" {
	kata_runtime_detached run -d --bundle "$BUNDLE" pc-kill0
	[ "$status" -eq 0 ]
	kata_runtime kill pc-kill0 0
	[ "$status" -eq 0 ]
	kata_runtime kill -a pc-kill0 0
	[ "$status" -eq 0 ]
	[ "$(container_status pc-kill0)" = running ]
	kata_runtime kill pc-kill0 KILL
	[ "$status" -eq 0 ]
	wait_for_container 120 0.5 pc-kill0 stopped
	kata_runtime kill pc-kill0 0
	[ "$status" -eq 1 ]
	[ "$output" = "container not running" ]
	kata_runtime kill -a pc-kill0 0
	[ "$status" -eq 0 ]

	if command -v runc >/dev/null; then
		runc_ref run -d --bundle "$BUNDLE" pc-kill0-runc
		[ "$status" -eq 0 ]
		runc_ref kill pc-kill0-runc 0
		[ "$status" -eq 0 ]
		runc_ref kill -a pc-kill0-runc 0
		[ "$status" -eq 0 ]
		runc_ref kill pc-kill0-runc KILL
		for _ in $(seq 50); do
			[ "$(runc --root "$RUNC_ROOT" state pc-kill0-runc | jq -r .status)" = stopped ] && break
			sleep 0.1
		done
		runc_ref kill pc-kill0-runc 0
		[ "$status" -eq 1 ]
		[[ "$output" == *"container not running"* ]]
		runc_ref kill -a pc-kill0-runc 0
		[ "$status" -eq 0 ]
	fi
}

# ---- item 10: ps ----

@test "ps: runc's ps -ef table filtered to the container's host pids, ps options, json; stopped" {
	kata_runtime_detached run -d --pid-file "$BUNDLE/pid" --bundle "$BUNDLE" pc-ps
	[ "$status" -eq 0 ]
	init="$(cat "$BUNDLE/pid")"
	kata_runtime_detached exec -d --pid-file "$BUNDLE/exec.pid" pc-ps sleep 900
	[ "$status" -eq 0 ]
	ex="$(cat "$BUNDLE/exec.pid")"

	kata_runtime ps --format json pc-ps
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c .)" = "[$init,$ex]" ]

	# default: ps -ef, header as ps prints it, one row per pid of the json
	kata_runtime ps pc-ps
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[0]}" | tr -s ' ' | sed 's/^ //')" = "$(ps_header -ef)" ]
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "UID PID PPID C STIME TTY TIME CMD" ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(echo "${lines[1]}" | awk '{print $2}')" = "$init" ]
	[ "$(echo "${lines[2]}" | awk '{print $2}')" = "$ex" ]
	[[ "${lines[1]}" == *"__shim"*"--container pc-ps"* ]]

	# arguments after the id go to ps
	kata_runtime ps pc-ps -e -x
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[0]}" | tr -s ' ' | sed 's/^ //')" = "$(ps_header -e -x)" ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(echo "${lines[1]}" | awk '{print $1}')" = "$init" ]
	kata_runtime ps pc-ps -o pid,comm
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[0]}" | tr -s ' ' | sed 's/^ //')" = "PID COMMAND" ]
	[ "${#lines[@]}" -eq 3 ]
	# ps without a PID column, as runc
	kata_runtime ps pc-ps -o comm
	[ "$status" -eq 1 ]
	[ "$output" = "couldn't find PID field in ps output" ]
	kata_runtime ps --format yaml pc-ps
	[ "$status" -eq 1 ]
	[ "$output" = "invalid format option" ]

	# stopped: the header only, json null (runc's nil slice)
	exstart="$(proc_start_time "$ex")"
	kata_runtime kill -a pc-ps KILL
	wait_for_container 120 0.5 pc-ps stopped
	wait_pid_gone "$ex" "$exstart" 60
	kata_runtime ps pc-ps
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "UID PID PPID C STIME TTY TIME CMD" ]
	kata_runtime ps --format json pc-ps
	[ "$status" -eq 0 ]
	[ "$output" = null ]

	if command -v runc >/dev/null; then
		runc_ref run -d --bundle "$BUNDLE" pc-ps-runc
		[ "$status" -eq 0 ]
		run runc --root "$RUNC_ROOT" ps pc-ps-runc
		[ "$status" -eq 0 ]
		[ "$(echo "${lines[0]}" | tr -s ' ')" = "UID PID PPID C STIME TTY TIME CMD" ]
		runc_ref kill pc-ps-runc KILL
		for _ in $(seq 50); do
			[ "$(runc --root "$RUNC_ROOT" state pc-ps-runc | jq -r .status)" = stopped ] && break
			sleep 0.1
		done
		run runc --root "$RUNC_ROOT" ps --format json pc-ps-runc
		[ "$output" = null ]
		run runc --root "$RUNC_ROOT" ps pc-ps-runc
		[ "${#lines[@]}" -eq 1 ]
	fi
}

# ---- item 11: run --keep, --preserve-fds, list --format json, --debug ----

@test "run --keep keeps the stopped container; run without it deletes it (runc too)" {
	update_config '.process.args = ["sh", "-c", "exit 3"]'
	kata_runtime run --keep --bundle "$BUNDLE" pc-keep
	[ "$status" -eq 3 ]
	[ "$(container_status pc-keep)" = stopped ]
	kata_runtime list -q
	[ "$output" = pc-keep ]
	kata_runtime delete pc-keep
	[ "$status" -eq 0 ]
	kata_runtime run --bundle "$BUNDLE" pc-nokeep
	[ "$status" -eq 3 ]
	kata_runtime state pc-nokeep
	[ "$status" -eq 1 ]
	assert_root_clean

	if command -v runc >/dev/null; then
		runc_ref run --keep --bundle "$BUNDLE" pc-keep-runc
		[ "$status" -eq 3 ]
		[ "$(runc --root "$RUNC_ROOT" state pc-keep-runc | jq -r .status)" = stopped ]
	fi
}

@test "--preserve-fds N is refused clearly by create, run and exec (no VM)" {
	# (detached: a runtime that ignored the flag would leave a shim holding stdio)
	kata_runtime_detached create --preserve-fds 1 --bundle "$BUNDLE" pc-pfd
	[ "$status" -eq 1 ]
	[[ "$output" == *"--preserve-fds 1: the process runs in a VM"* ]]
	kata_runtime_detached run -d --preserve-fds 2 --bundle "$BUNDLE" pc-pfd
	[ "$status" -eq 1 ]
	[[ "$output" == *"--preserve-fds 2: the process runs in a VM"* ]]
	kata_runtime exec --preserve-fds 1 pc-pfd true
	[ "$status" -eq 255 ]
	[[ "$output" == "exec failed: "*"--preserve-fds 1: the process runs in a VM"* ]]
	# 0 is the default and is accepted
	kata_runtime exec --preserve-fds 0 pc-pfd true
	[ "$status" -eq 255 ]
	[ "$output" = "exec failed: container does not exist" ]
	assert_root_clean
}

@test "list --format json: runc's fields in runc's order, rootfs, owner, sorted annotations" {
	update_config '.annotations = {"org.b": "2", "org.c": "<a&b>", "org.a": "1"}'
	kata_runtime_detached create --bundle "$BUNDLE" pc-list
	[ "$status" -eq 0 ]
	kata_runtime list --format json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '.[0] | keys_unsorted')" = \
		'["ociVersion","id","pid","status","bundle","rootfs","created","annotations","owner"]' ]
	[ "$(echo "$output" | jq -r '.[0].rootfs')" = "$BUNDLE/rootfs" ]
	[ "$(echo "$output" | jq -r '.[0].owner')" = "$(id -un)" ]
	[ "$(echo "$output" | jq -r '.[0].status')" = created ]
	[ "$(echo "$output" | jq -c '.[0].annotations | keys_unsorted')" = '["org.a","org.b","org.c"]' ]
	# one line, no spaces, <>& escaped: Go's encoder
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" != *": "* ]]
	[[ "$output" == *'"org.c":"\u003ca\u0026b\u003e"'* ]]
	kata_list="$output"

	if command -v runc >/dev/null; then
		runc_ref create --bundle "$BUNDLE" pc-list-runc
		[ "$status" -eq 0 ]
		run runc --root "$RUNC_ROOT" list --format json
		[ "$status" -eq 0 ]
		[ "$(echo "$output" | jq -c '.[0] | keys_unsorted')" = "$(echo "$kata_list" | jq -c '.[0] | keys_unsorted')" ]
		[ "$(echo "$output" | jq -r '.[0].owner')" = "$(echo "$kata_list" | jq -r '.[0].owner')" ]
		[ "$(echo "$output" | jq -c '.[0].annotations')" = "$(echo "$kata_list" | jq -c '.[0].annotations')" ]
		# byte for byte, the annotations as runc encodes them
		[ "$(echo "$output" | grep -o '"annotations":{[^}]*}')" = "$(echo "$kata_list" | grep -o '"annotations":{[^}]*}')" ]
	fi
	# without annotations the key is left out, as runc's omitempty
	update_config 'del(.annotations)'
	kata_runtime_detached create --bundle "$BUNDLE" pc-list2
	[ "$status" -eq 0 ]
	kata_runtime list --format json
	[ "$(echo "$output" | jq -c '.[] | select(.id == "pc-list2") | keys_unsorted')" = \
		'["ociVersion","id","pid","status","bundle","rootfs","created","owner"]' ]
}

@test "--debug without --log: runc's level=debug lines on stderr, stdout untouched (no VM)" {
	run bash -c '"$0" --debug --root "$1" list 2>"$1.err"' "$KATA_RUNTIME" "$ROOT"
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "ID PID STATUS BUNDLE CREATED OWNER" ]
	[[ "$output" != *level=* ]]
	cat "$ROOT.err" >&2
	grep -Eq '^time="[^"]+" level=debug msg="kata-runtime list' "$ROOT.err"
	# every stderr line is a logrus line
	[ -z "$(grep -Ev '^time="[^"]+" level=(debug|warning|error) msg=' "$ROOT.err")" ]
	# an error is one level=error line (not also the bare message)
	run bash -c '"$0" --debug --root "$1" state nosuch 2>"$1.err"' "$KATA_RUNTIME" "$ROOT"
	[ "$status" -eq 1 ]
	[ "$(grep -c 'level=error msg="container does not exist"' "$ROOT.err")" -eq 1 ]
	[ -z "$(grep -x 'container does not exist' "$ROOT.err")" ]
	# --log-format json applies to stderr as it does to --log
	run bash -c '"$0" --debug --log-format json --root "$1" list 2>"$1.err" >/dev/null' "$KATA_RUNTIME" "$ROOT"
	[ "$status" -eq 0 ]
	jq -s -e 'length >= 1 and all(.[]; .level == "debug")' "$ROOT.err"
	# no --debug: nothing on stderr
	run bash -c '"$0" --root "$1" list 2>"$1.err" >/dev/null' "$KATA_RUNTIME" "$ROOT"
	[ ! -s "$ROOT.err" ]
	rm -f "$ROOT.err"
}

@test "--debug without --log: the container's stderr gets no log line" {
	update_config '.process.args = ["sh", "-c", "echo out; echo err >&2"]'
	run bash -c 'cd "$2" && "$0" --debug --root "$1" run pc-dbg 2>"$1.err" >"$1.out"' "$KATA_RUNTIME" "$ROOT" "$BUNDLE"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOT.out")" = out ]
	# stderr: the runtime's own logrus lines and the process's "err", nothing from the shim
	grep -qx err "$ROOT.err"
	grep -q 'level=debug msg="kata-runtime run pc-dbg' "$ROOT.err"
	[ -z "$(grep -v -x err "$ROOT.err" | grep -Ev '^time="[^"]+" level=(debug|warning) msg=')" ]
	# the shim's debug lines (it runs with --debug) are not among them
	[ -z "$(grep -e 'shim: response' -e 'exited with status' "$ROOT.err")" ]
	rm -f "$ROOT.err" "$ROOT.out"
}

# ---- item 12: exec's own failures exit 255 ----

@test "exec failures that are not the process's (no VM): 255 and exec failed, as runc" {
	kata_runtime exec nosuch true
	[ "$status" -eq 255 ]
	[ "$output" = "exec failed: container does not exist" ]
	kata_runtime exec "a/b" true
	[ "$status" -eq 255 ]
	[[ "$output" == "exec failed: "*"a/b"* ]]
	kata_runtime exec -p "$BUNDLE/nosuch.json" nosuch
	[ "$status" -eq 255 ]
	# usage errors stay 1, as runc's
	kata_runtime exec
	[ "$status" -eq 1 ]
	kata_runtime exec --preserve-fds abc nosuch true
	[ "$status" -eq 1 ]
	if command -v runc >/dev/null; then
		runc_ref exec nosuch true
		[ "$status" -eq 255 ]
		[[ "$output" == *"exec failed: container does not exist"* ]]
		runc_ref exec
		[ "$status" -eq 1 ]
	fi
}

@test "exec failures in a running container: 255; the process's own status is passed through" {
	kata_runtime_detached run -d --bundle "$BUNDLE" pc-x
	[ "$status" -eq 0 ]
	kata_runtime exec pc-x sh -c 'exit 7'
	[ "$status" -eq 7 ]
	kata_runtime exec pc-x /nosuch
	[ "$status" -eq 255 ]
	[[ "$output" == "exec failed: "*"/nosuch"* ]]
	kata_runtime exec --cwd /nosuchdir pc-x true
	[ "$status" -eq 255 ]
	[[ "$output" == "exec failed: "*"nosuchdir"* ]]
	kata_runtime exec pc-x
	[ "$status" -eq 255 ]
	[ "$output" = "exec failed: process args cannot be empty" ]
	kata_runtime exec -u abc pc-x true
	[ "$status" -eq 255 ]
	kata_runtime exec -d -t pc-x true
	[ "$status" -eq 255 ]
	[ "$output" = "exec failed: cannot allocate tty if runc will detach without setting console socket" ]
	kata_runtime exec --console-socket "$BUNDLE/sock" pc-x true
	[ "$status" -eq 255 ]
	# an unusable --pid-file: 255, and the process it started is not left running
	kata_runtime exec --pid-file "$BUNDLE/nosuchdir/pid" pc-x sleep 777
	[ "$status" -eq 255 ]
	[[ "$output" == "exec failed: "*"pid"* ]]
	kata_runtime exec pc-x ps -o args
	[ "$status" -eq 0 ]
	[[ "$output" != *"sleep 777"* ]]
	# paused: at once, runc's message
	kata_runtime pause pc-x
	[ "$status" -eq 0 ]
	SECONDS=0
	kata_runtime exec pc-x true
	[ "$status" -eq 255 ]
	[[ "$output" == "exec failed: cannot exec in a paused container"* ]]
	[ "$SECONDS" -lt 10 ]
	kata_runtime resume pc-x
	[ "$status" -eq 0 ]
	# stopped
	kata_runtime kill pc-x KILL
	wait_for_container 120 0.5 pc-x stopped
	kata_runtime exec pc-x true
	[ "$status" -eq 255 ]
	[ "$output" = "exec failed: cannot exec in a stopped container" ]

	if command -v runc >/dev/null; then
		runc_ref run -d --bundle "$BUNDLE" pc-x-runc
		[ "$status" -eq 0 ]
		runc_ref exec pc-x-runc /nosuch
		[ "$status" -eq 255 ]
		runc_ref exec --pid-file "$BUNDLE/nosuchdir/pid" pc-x-runc true
		[ "$status" -eq 255 ]
		runc_ref pause pc-x-runc
		runc_ref exec pc-x-runc true
		[ "$status" -eq 255 ]
		[[ "$output" == *"exec failed: cannot exec in a paused container"* ]]
	fi
}
