#!/usr/bin/env bats
# Concurrency (docs/lifecycle.md "Locking"): many sandboxes created and deleted at
# once, many containers joining one pod at once, and state/list/delete racing against
# create.  No state is lost or corrupted, nothing deadlocks (everything finishes within
# its time-out), and nothing is left.

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
	requires_vm
	setup_bundle true
	# Small VMs: 20 of them boot at once on 2 cores.
	update_config '.linux.resources.memory.limit = 134217728'
	JOBS="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-jobs.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$JOBS")
}

function teardown() {
	if [ -n "$ROOT" ] && [ -d "$ROOT" ]; then
		for id in $("$KATA_RUNTIME" --root "$ROOT" list -q 2>/dev/null); do
			timeout 60 "$KATA_RUNTIME" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
		done
		for p in $(pgrep -f -- "$ROOT"); do
			kill -9 "$p" 2>/dev/null
		done
	fi
	teardown_bundle
}

function join_pod() {
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container" | .annotations["io.kubernetes.cri.sandbox-id"] = "'"$1"'"'
}

# Every state file under $ROOT parses as JSON.
function assert_state_parses() {
	local f
	while IFS= read -r f; do
		"$JQ" -e . "$f" >/dev/null || fail "$f does not parse: $(cat "$f")"
	done < <(find "$ROOT" -name '*.json' -path '*/sbs/*')
}

# `list -q` shows exactly the ids given (in any order).
function assert_list_is() {
	local want got
	want="$(printf '%s\n' "$@" | sort)"
	got="$("$KATA_RUNTIME" --root "$ROOT" list -q | sort)"
	[ "$got" = "$want" ] || fail "list shows: $(echo $got); expected: $(echo $want)"
	run "$KATA_RUNTIME" --root "$ROOT" list --format json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | "$JQ" -r '(. // []) | length')" -eq "$#" ]
}

function state_of_or_gone() {
	local out
	if out="$(timeout 60 "$KATA_RUNTIME" --root "$ROOT" state "$1" 2>&1)"; then
		echo "$out" | "$JQ" -r .status
	else
		echo gone
	fi
}

# Waits for every background job in $@ (pids) and fails unless each exited 0.
function wait_all() {
	local p rc bad=0
	for p in "$@"; do
		rc=0
		wait "$p" || rc=$?
		if [ "$rc" -ne 0 ]; then
			bad=$((bad + 1))
			echo "job $p exited $rc" >&2
		fi
	done
	[ "$bad" -eq 0 ] || fail "$bad jobs failed (124: time-out)"
}

# One cycle: run -d of true in its own VM, wait for it to stop, delete it.
function cycle() {
	local id="$1" i st
	timeout 600 "$KATA_RUNTIME" --root "$ROOT" run -d --bundle "$BUNDLE" "$id" </dev/null >"$JOBS/$id.out" 2>&1 || return 1
	for ((i = 0; i < 600; i++)); do
		st="$(timeout 60 "$KATA_RUNTIME" --root "$ROOT" state "$id" 2>>"$JOBS/$id.out" | "$JQ" -r .status)"
		[ "$st" = stopped ] && break
		[ "$st" = running ] || [ "$st" = created ] || { echo "state $id: '$st'" >>"$JOBS/$id.out"; return 1; }
		sleep 0.5
	done
	timeout 120 "$KATA_RUNTIME" --root "$ROOT" delete "$id" >>"$JOBS/$id.out" 2>&1
}

@test "20 run/delete cycles in parallel, each in its own VM" {
	setup_root
	local pids=() n
	for n in $(seq 1 20); do
		cycle "par$n" &
		pids+=($!)
	done
	wait_all "${pids[@]}" || {
		for n in $(seq 1 20); do echo "par$n: $(cat "$JOBS/par$n.out")" >&2; done
		false
	}
	assert_list_is
	assert_nothing_left /dev/null
}

@test "10 containers join one pod at once" {
	update_config '.process.args = ["sleep", "1000"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" pod
	[ "$status" -eq 0 ]
	local pids=() n ids=(pod)
	join_pod pod
	for n in $(seq 1 10); do
		timeout 600 "$KATA_RUNTIME" --root "$ROOT" run -d --bundle "$BUNDLE" "pc$n" </dev/null >"$JOBS/pc$n.out" 2>&1 &
		pids+=($!)
		ids+=("pc$n")
	done
	wait_all "${pids[@]}" || {
		for n in $(seq 1 10); do echo "pc$n: $(cat "$JOBS/pc$n.out")" >&2; done
		false
	}
	assert_state_parses
	assert_list_is "${ids[@]}"
	# The sandbox knows all of them.
	[ "$("$JQ" -r '.containers | length' "$ROOT/sbs/pod/sandbox.json")" -eq 11 ]
	for n in $(seq 1 10); do
		[ "$(state_pid "pc$n")" -gt 0 ]
		[ "$("$KATA_RUNTIME" --root "$ROOT" state "pc$n" | "$JQ" -r .status)" = running ]
	done
	# Half of them go at once, while the other half is listed.
	pids=()
	for n in $(seq 1 5); do
		timeout 300 "$KATA_RUNTIME" --root "$ROOT" delete --force "pc$n" >"$JOBS/d$n.out" 2>&1 &
		pids+=($!)
		timeout 300 "$KATA_RUNTIME" --root "$ROOT" list -q >/dev/null 2>&1 &
		pids+=($!)
	done
	wait_all "${pids[@]}"
	assert_state_parses
	assert_list_is pod pc6 pc7 pc8 pc9 pc10
	[ "$("$JQ" -r '.containers | length' "$ROOT/sbs/pod/sandbox.json")" -eq 6 ]
	timeout 300 "$KATA_RUNTIME" --root "$ROOT" delete --force pod
	assert_list_is
	assert_nothing_left /dev/null
}

@test "state, list and delete race against create" {
	update_config '.process.args = ["sleep", "1000"]'
	setup_root
	local pids=() n creators=()
	for n in 1 2 3; do
		timeout 600 "$KATA_RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "race$n" </dev/null >"$JOBS/race$n.out" 2>&1 &
		creators+=($!)
	done
	# While they boot: state, list and (non-forced) delete of the ids being created.
	local rounds=0 st deleted=() left=() others=()
	while kill -0 "${creators[@]}" 2>/dev/null; do
		for n in 1 2 3; do
			run timeout 60 "$KATA_RUNTIME" --root "$ROOT" state "race$n"
			[ "$status" -ne 124 ] || fail "state hung"
			if [ "$status" -eq 0 ]; then
				st="$(echo "$output" | "$JQ" -r .status)"
				[[ "$st" == creating || "$st" == created ]] || fail "state race$n during create: $st"
			else
				[[ "$output" == *"does not exist"* ]] || fail "state race$n: $output"
			fi
			[[ " ${deleted[*]} " == *" race$n "* ]] && continue
			# runc's rule: a created container may be deleted; one being created may not.
			run timeout 60 "$KATA_RUNTIME" --root "$ROOT" delete "race$n"
			[ "$status" -ne 124 ] || fail "delete hung"
			if [ "$status" -eq 0 ]; then
				deleted+=("race$n")
				[ "$(state_of_or_gone "race$n")" = gone ] || fail "race$n deleted but still there"
			fi
		done
		run timeout 60 "$KATA_RUNTIME" --root "$ROOT" list --format json
		[ "$status" -eq 0 ] || fail "list: $output"
		echo "$output" | "$JQ" . >/dev/null || fail "list printed bad JSON: $output"
		assert_state_parses
		rounds=$((rounds + 1))
	done
	echo "# $rounds rounds of state/list/delete during create" >&3
	wait_all "${creators[@]}" || {
		for n in 1 2 3; do echo "race$n: $(cat "$JOBS/race$n.out")" >&2; done
		false
	}
	for n in 1 2 3; do
		[[ " ${deleted[*]} " == *" race$n "* ]] || left+=("race$n")
	done
	echo "# deleted while create ran: ${deleted[*]:-none}" >&3
	assert_state_parses
	assert_list_is "${left[@]}"
	for n in "${left[@]}"; do
		[ "$("$KATA_RUNTIME" --root "$ROOT" state "$n" | "$JQ" -r .status)" = created ]
	done
	# delete --force of the three at once, racing with list and state.
	pids=()
	for n in 1 2 3; do
		timeout 300 "$KATA_RUNTIME" --root "$ROOT" delete --force "race$n" >"$JOBS/del$n.out" 2>&1 &
		pids+=($!)
		timeout 300 "$KATA_RUNTIME" --root "$ROOT" state "race$n" >/dev/null 2>&1 &
		others+=($!)
		timeout 300 "$KATA_RUNTIME" --root "$ROOT" list >/dev/null 2>&1 &
		others+=($!)
	done
	wait_all "${pids[@]}"
	# (not a bare `wait`: bats runs its time-out watchdog in the background)
	for n in "${others[@]}"; do
		wait "$n" || true
	done
	assert_list_is
	assert_nothing_left /dev/null
}
