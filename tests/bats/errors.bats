#!/usr/bin/env bats
# Errors that need no VM: unknown containers, invalid ids, bad config.json.
# Every case checks the exact status and message, and that --root stays clean.

load helpers

function setup() {
	setup_root
}

function teardown() {
	teardown_bundle
}

# Nothing may be left under --root after a failed command.
function root_is_empty() {
	local left
	left="$(find "$ROOT" -mindepth 1)"
	[ -z "$left" ] || fail "left under --root: $left"
}

@test "state, kill, delete, start, pause, resume, ps of an unknown id: status 1, does not exist" {
	local verb
	for verb in state kill delete start pause resume ps; do
		kata_runtime "$verb" nosuch
		[ "$status" -eq 1 ] || fail "$verb: status $status"
		[[ "$output" == *"does not exist"* ]] || fail "$verb: $output"
		[ "${#lines[@]}" -eq 1 ] || fail "$verb printed more than one line"
	done
	kata_runtime ps --format json nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	kata_runtime kill --all nosuch KILL
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	root_is_empty
}

@test "delete --force of an unknown id succeeds silently" {
	kata_runtime delete --force nosuch
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	kata_runtime delete -f nosuch
	[ "$status" -eq 0 ]
	root_is_empty
}

@test "verbs need exactly one id" {
	local verb
	for verb in state start delete pause resume create run events update; do
		kata_runtime "$verb"
		[ "$status" -eq 1 ]
		[ "$output" = "kata-runtime: \"$verb\" requires exactly 1 argument(s)" ] || fail "$verb: $output"
		kata_runtime "$verb" a b
		[ "$status" -eq 1 ]
		[ "$output" = "kata-runtime: \"$verb\" requires exactly 1 argument(s)" ] || fail "$verb a b: $output"
	done
	kata_runtime kill
	[ "$status" -eq 1 ]
	[ "$output" = 'kata-runtime: "kill" requires a minimum of 1 argument(s)' ]
	kata_runtime ps
	[ "$status" -eq 1 ]
	[ "$output" = 'kata-runtime: "ps" requires a minimum of 1 argument(s)' ]
}

@test "invalid ids are rejected with the same error by every verb" {
	local long id verb want
	long="$(printf 'a%.0s' $(seq 1 1025))"
	for id in "a/b" ".." "." "a..b/" "$long" "" "a b" "ab:c" "../../etc"; do
		want=""
		for verb in create run start kill delete state pause resume ps exec events update; do
			case "$verb" in
			exec) kata_runtime exec "$id" true ;;
			kill) kata_runtime kill "$id" KILL ;;
			create | run) kata_runtime "$verb" --bundle "$ROOT/nonexistent" "$id" ;;
			*) kata_runtime "$verb" "$id" ;;
			esac
			if [ "$verb" = exec ]; then
				# runc: exec's own failures exit 255, "exec failed: ..."
				[ "$status" -eq 255 ] || fail "$verb '$id': status $status"
				output="${output#exec failed: }"
			else
				[ "$status" -eq 1 ] || fail "$verb '$id': status $status"
			fi
			[[ "$output" == "invalid id format: "* ]] || fail "$verb '$id': $output"
			[ -n "$want" ] || want="$output"
			[ "$output" = "$want" ] || fail "$verb '$id': \"$output\" differs from \"$want\""
		done
		kata_runtime delete --force "$id"
		[ "$status" -eq 1 ]
		[ "$output" = "$want" ]
	done
	root_is_empty
}

@test "the longest valid id (1024 bytes) is not rejected as invalid" {
	local id
	id="$(printf 'b%.0s' $(seq 1 1024))"
	kata_runtime state "$id"
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	kata_runtime state "a-b_c+d.e"
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "create with broken JSON in config.json: clear error, nothing left" {
	setup_bundle
	echo '{"ociVersion": "1.2.0", "process": {' >"$BUNDLE/config.json"
	kata_runtime create --bundle "$BUNDLE" c1
	[ "$status" -eq 1 ]
	[[ "$output" == *"config.json"* ]]
	[[ "$output" == *"parse"* ]]
	root_is_empty
	kata_runtime state c1
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "create with a wrong type in config.json names the JSON path" {
	setup_bundle
	update_config '.process.args = 3'
	kata_runtime create --bundle "$BUNDLE" c1
	[ "$status" -eq 1 ]
	[[ "$output" == *"process.args"* ]]
	root_is_empty

	update_config '.process.args = ["sh"] | .process.terminal = "yes"'
	kata_runtime create --bundle "$BUNDLE" c1
	[ "$status" -eq 1 ]
	[[ "$output" == *"process.terminal"* ]]
	root_is_empty

	update_config '.process.terminal = false | .root.path = 7'
	kata_runtime create --bundle "$BUNDLE" c1
	[ "$status" -eq 1 ]
	[[ "$output" == *"root.path"* ]]
	root_is_empty
}

@test "run with a wrong type in config.json fails the same way" {
	setup_bundle
	update_config '.process.args = 3'
	kata_runtime run --bundle "$BUNDLE" c1
	[ "$status" -eq 1 ]
	[[ "$output" == *"process.args"* ]]
	root_is_empty
}

@test "create with a bundle that has no config.json fails" {
	local dir
	dir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-empty.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$dir")
	kata_runtime create --bundle "$dir" c1
	[ "$status" -eq 1 ]
	[[ "$output" == *"$dir/config.json"* ]]
	root_is_empty
}

@test "create with a terminal and no --console-socket fails like runc" {
	setup_bundle
	update_config '.process.terminal = true'
	kata_runtime create --bundle "$BUNDLE" c1
	[ "$status" -eq 1 ]
	[ "$output" = "cannot allocate tty if runc will detach without setting console socket" ]
	root_is_empty
}
