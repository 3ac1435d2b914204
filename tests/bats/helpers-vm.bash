#!/bin/bash
# Helpers of the VM-backed lifecycle tests (lifecycle, exec, tty, cleanup).
# On top of helpers.bash:  load helpers-vm  (which loads helpers).
# Every test boots a real VM (TCG here): time-outs are generous.

load helpers

# bats >= 1.7: a hung VM fails the test instead of the run.
export BATS_TEST_TIMEOUT="${BATS_TEST_TIMEOUT:-300}"

# Skips unless a VM can run: root, QEMU, the guest kernel + initrd, busybox, jq.
function requires_vm() {
	requires root qemu guest busybox jq
}

# The console-socket receiver (tests/console-receiver.c), built on demand.
function console_receiver() {
	local built
	built="$(cd "$BATS_TEST_DIRNAME/.." && pwd)/console-receiver"
	if [ -x "$built" ]; then
		echo "$built"
		return
	fi
	if [ ! -x "$BATS_RUN_TMPDIR/console-receiver" ]; then
		cc -o "$BATS_RUN_TMPDIR/console-receiver" "$BATS_TEST_DIRNAME/../console-receiver.c" >&2 ||
			fail "cannot build console-receiver"
	fi
	echo "$BATS_RUN_TMPDIR/console-receiver"
}

# Field 22 of /proc/PID/stat (empty when the pid does not exist or is a zombie).
function proc_start_time() {
	local st
	st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
	st="${st##*) }"
	# shellcheck disable=SC2086
	set -- $st
	case "$1" in Z | X) return 0 ;; esac
	echo "${20}"
}

# True when PID is alive with START (its start time when it was recorded).
function pid_alive() {
	local now
	now="$(proc_start_time "$1")"
	[ -n "$now" ] && [ "$now" = "$2" ]
}

# Waits up to SECONDS for PID (with START) to be gone.
function wait_pid_gone() {
	local pid="$1" start="$2" secs="$3" i
	for ((i = 0; i < secs * 10; i++)); do
		pid_alive "$pid" "$start" || return 0
		sleep 0.1
	done
	echo "pid $pid still alive after ${secs}s" >&2
	return 1
}

# The container's pid from `state`.
function state_pid() {
	"$KATA_RUNTIME" --root "$ROOT" state "$1" 2>/dev/null | "$JQ" -r .pid
}

# A value of the sandbox's sandbox.json (e.g. qemu_pid, monitor_pid).
function sandbox_value() {
	"$JQ" -r ".$2" "$ROOT/sbs/$1/sandbox.json"
}

# Nothing of ours is left: no mount under $ROOT and no file or directory below
# the top-level dirs of $ROOT.
function assert_root_clean() {
	local m left
	m="$(grep -F "$ROOT" /proc/self/mountinfo || true)"
	[ -z "$m" ] || fail "mounts left under $ROOT: $m"
	left="$(find "$ROOT" -mindepth 2 2>/dev/null || true)"
	[ -z "$left" ] || fail "files left under $ROOT: $left"
}

# No process runs whose command line names $ROOT (QEMU, the monitor).
function assert_no_vm_process() {
	local p
	p="$(pgrep -f -- "$ROOT" || true)"
	[ -z "$p" ] || fail "processes left for $ROOT: $(ps -o pid,args -p "$(echo $p | tr ' ' ,)")"
}

# A bundle whose process does not run as PID 1 of its pid namespace, so that
# SIGTERM's default action applies (PID 1 ignores signals it has no handler for).
function drop_pid_namespace() {
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
}

# For setup(): tests whose name says "(no VM)" fail before any VM boots and only
# need root, busybox and jq; the others need everything a VM needs.
function requires_for_test() {
	if [[ "$BATS_TEST_DESCRIPTION" == *"(no VM)"* ]]; then
		requires root busybox jq
	else
		requires_vm
	fi
}

# Like kata_runtime, for calls that leave a detached shim behind (create without a
# console socket, run -d, exec -d): the shim keeps the caller's stdio, as runc's
# init does, so bats' captured pipe would never reach EOF.  The runtime's stdio goes
# to files instead; $output holds what it printed.
function kata_runtime_detached() {
	setup_root
	local log
	log="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-detached.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$log")
	log="$log/out"
	run __kata_runtime_to_file "$log" "$@"
	echo "kata-runtime $* (status=$status):" >&2
	echo "$output" >&2
}

function __kata_runtime_to_file() {
	local log="$1" rc=0
	shift
	"$KATA_RUNTIME" --root "$ROOT" "$@" </dev/null >"$log" 2>&1 || rc=$?
	cat "$log"
	return "$rc"
}

# ---- fault injection (docs/lifecycle.md "Fault injection") ----

# Builds a kata-runtime configured with --enable-fault-injection under DEST, from a
# copy of this working tree (tracked and untracked-but-not-ignored files, so that
# uncommitted work is what gets tested), and prints its path.  $KATA_FAULT_RUNTIME,
# when set, is used instead.  Fails with the reason on stderr.
function build_fault_runtime() {
	local dest="$1" src tool
	if [ -n "${KATA_FAULT_RUNTIME:-}" ]; then
		[ -x "$KATA_FAULT_RUNTIME" ] || { echo "KATA_FAULT_RUNTIME=$KATA_FAULT_RUNTIME is not executable" >&2; return 1; }
		echo "$KATA_FAULT_RUNTIME"
		return 0
	fi
	for tool in git autoreconf make cc pkg-config; do
		command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; return 1; }
	done
	src="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
	git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || { echo "$src is not a git work tree" >&2; return 1; }
	mkdir -p "$dest/src" || return 1
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		xargs -0 cp --parents -a -t "$dest/src") || { echo "cannot copy $src" >&2; return 1; }
	if ! (cd "$dest/src" && ./autogen.sh && ./configure --prefix=/usr/local --sysconfdir=/etc \
		--enable-fault-injection && make -j"$(nproc)" kata-runtime) >"$dest/build.log" 2>&1; then
		echo "the fault-injection build failed ($dest/build.log):" >&2
		tail -5 "$dest/build.log" >&2
		return 1
	fi
	echo "$dest/src/kata-runtime"
}

# "PID START" of every process whose command line names $ROOT (monitor, QEMU, shims).
function root_processes() {
	local p
	for p in $(pgrep -f -- "$ROOT"); do
		echo "$p $(proc_start_time "$p")"
	done
}

# Nothing of $ROOT is left: none of the processes listed in FILE ("PID START" lines)
# nor any other naming $ROOT, no mount, no loop device, no file or dir under $ROOT,
# and no host cgroup named CGROUP (when given) in any hierarchy.
function assert_nothing_left() {
	local file="$1" cg="${2:-}" pid start d
	if [ -f "$file" ]; then
		while read -r pid start; do
			[ -n "$start" ] || continue
			wait_pid_gone "$pid" "$start" 15 || fail "process $pid ($(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)) is left"
		done <"$file"
	fi
	assert_no_vm_process
	! grep -F -- "$ROOT" /proc/self/mountinfo || fail "mounts left under $ROOT"
	! losetup -a 2>/dev/null | grep -F -- "$ROOT" || fail "loop devices left for $ROOT"
	d="$(find "$ROOT" -mindepth 1 2>/dev/null || true)"
	[ -z "$d" ] || fail "left under $ROOT: $d"
	if [ -n "$cg" ]; then
		for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
			[ ! -e "$d${cg#/}" ] || fail "host cgroup $d${cg#/} is left"
		done
	fi
}

# ---- the VM template (docs/factory.md "Tests") ----
# Suites where the boot itself is not under test call use_vm_template in setup_file:
# their sandboxes then start as clones of the VM template (about 0.5 s under TCG instead
# of a 2 s boot), through KATA_CONF_FILE at the template's configuration, which is the
# one in use plus [factory] enable_template (tests/bats/vm-template.sh).  run-bats.sh
# makes one template for the whole run ($KATA_BATS_TEMPLATE_CONF); a file run on its
# own makes its own, which release_vm_template (teardown_file) destroys.
# KATA_BATS_TEMPLATE=0: no template, every sandbox boots cold.
function use_vm_template() {
	export KATA_BATS_COLD_CONF="${KATA_CONF_FILE:-}"
	[ "${KATA_BATS_TEMPLATE:-1}" != 0 ] && [ "$(id -u)" -eq 0 ] || return 0
	if [ -z "${KATA_BATS_TEMPLATE_CONF:-}" ]; then
		export KATA_BATS_TEMPLATE_OWN
		KATA_BATS_TEMPLATE_OWN="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-bats-template.XXXXXX")"
		KATA_BATS_TEMPLATE_CONF="$(bash "$BATS_TEST_DIRNAME/vm-template.sh" init "$KATA_BATS_TEMPLATE_OWN")" || {
			echo "# use_vm_template: no VM template, the sandboxes boot cold" >&3
			return 0
		}
	fi
	[ -r "$KATA_BATS_TEMPLATE_CONF" ] && export KATA_CONF_FILE="$KATA_BATS_TEMPLATE_CONF"
	return 0
}

# For teardown_file of a suite that calls use_vm_template.
function release_vm_template() {
	[ -n "${KATA_BATS_TEMPLATE_OWN:-}" ] || return 0
	bash "$BATS_TEST_DIRNAME/vm-template.sh" destroy "$KATA_BATS_TEMPLATE_OWN"
}

# In a test of a template suite whose subject is the boot (VM sizing, hot-plug, the
# QEMU command line): its sandboxes boot cold, from the configuration in use before.
function cold_boot() {
	if [ -n "${KATA_BATS_COLD_CONF:-}" ]; then
		export KATA_CONF_FILE="$KATA_BATS_COLD_CONF"
	else
		unset KATA_CONF_FILE
	fi
}
