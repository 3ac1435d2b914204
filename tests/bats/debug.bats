#!/usr/bin/env bats
# --debug: stage timestamps in the log, the guest console with [agent.kata] debug,
# and no secret from the process environment in any log.

load helpers-vm
# Sandboxes boot cold, not from the run's VM template (docs/factory.md "Tests"):
# the boot's stages in the debug log are the subject.

function setup() {
	requires_vm
	setup_bundle sh -c 'echo $SECRET_TOKEN | wc -c; sleep 1000'
	update_config '.process.env += ["SECRET_TOKEN=hunter2-do-not-log"]'
	printf '[agent.kata]\ndebug = true\n' > "$BUNDLE/kata.toml"
}

function teardown() {
	teardown_bundle
}

@test "--debug logs every stage with a monotonic timestamp, and never the env" {
	kata_runtime_detached --debug --log "$BUNDLE/log.json" --log-format json \
		--kata-config "$BUNDLE/kata.toml" run -d dbg1
	[ "$status" -eq 0 ]
	# every line is JSON; stages appear in boot order with mono= timestamps
	run jq -r 'select(.level == "debug") | .msg' "$BUNDLE/log.json"
	[ "$status" -eq 0 ]
	stages="$(echo "$output" | sed -n 's/^stage \([a-z-]*\) mono=.*/\1/p' | tr '\n' ' ')"
	echo "stages: $stages" >&2
	for s in config-parsed qemu-started agent-ready container-created shim-started container-started; do
		[[ " $stages " == *" $s "* ]] || fail "stage $s missing from the debug log"
	done
	[[ "$stages" == *"qemu-started"*"agent-ready"*"container-created"*"container-started"* ]]
	# the guest console (agent debug) is in <root>/vm/<sid>/console.log
	console="$ROOT/vm/dbg1/console.log"
	[ -f "$console" ]
	grep -q 'kata-agent' "$console"
	# the secret reached the process, and no log holds it
	kata_runtime exec dbg1 sh -c 'echo $SECRET_TOKEN'
	[ "$status" -eq 0 ]
	[ "$output" = "hunter2-do-not-log" ]
	! grep -r -l 'hunter2-do-not-log' "$BUNDLE/log.json" "$console" "$ROOT/vm" 2>/dev/null
	kata_runtime delete --force dbg1
	[ "$status" -eq 0 ]
	! grep -q 'hunter2-do-not-log' "$BUNDLE/log.json"
}
