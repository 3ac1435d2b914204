#!/usr/bin/env bats
# The manual pages against the program: every command and option that
# kata-runtime accepts (asked from the binary's own --help) is documented in
# man/kata-runtime.1.md, and every key of src/runtime/configuration.toml.in
# in man/configuration.toml.5.md, with its default (tests/man-drift.sh).
# No VM needed.
#
#   KATA_RUNTIME   the binary under test (default: the one built in the tree)

KATA_RUNTIME="${KATA_RUNTIME:-$BATS_TEST_DIRNAME/../../kata-runtime}"
TOP="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
DRIFT="$TOP/tests/man-drift.sh"

function setup() {
	TMP="$(mktemp -d "${TMPDIR:-/tmp}/kata-man.XXXXXX")"
}

function teardown() {
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
}

function need_runtime() {
	[ -x "$KATA_RUNTIME" ] || skip "no kata-runtime binary at $KATA_RUNTIME (build it, or set KATA_RUNTIME)"
}

# A copy of the pages and the default configuration to break on purpose.
function copy_tree() {
	mkdir -p "$TMP/src/man" "$TMP/src/src/runtime"
	cp "$TOP"/man/*.md "$TMP/src/man/"
	cp "$TOP/src/runtime/configuration.toml.in" "$TMP/src/src/runtime/"
}

@test "man: kata-runtime.1 documents every command and option of kata-runtime" {
	need_runtime
	run bash "$DRIFT" --srcdir "$TOP" --runtime "$KATA_RUNTIME"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"man-drift: ok:"* ]]
}

@test "man: configuration.toml.5 documents every key of configuration.toml.in with its default" {
	run bash "$DRIFT" --srcdir "$TOP" --config-only
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "man: the drift check fails and names an option missing from the page" {
	need_runtime
	local opt
	# An option the binary really has (not argp's own): the first of `exec`.
	opt="$("$KATA_RUNTIME" exec --help | grep -oE '^ +(-[A-Za-z], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z][a-z-]*$' |
		grep -vxE -- '--(help|usage)' | head -n 1)"
	[ -n "$opt" ]
	copy_tree
	# Drop its entry (the term line) from the page.
	grep -vE "^\*\*$opt\*\*" "$TOP/man/kata-runtime.1.md" >"$TMP/src/man/kata-runtime.1.md"
	run bash "$DRIFT" --srcdir "$TMP/src" --runtime "$KATA_RUNTIME"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"exec: option $opt is not documented"* ]]
}

@test "man: the drift check fails on a missing command section and a stale global option" {
	need_runtime
	copy_tree
	sed -e 's/^### start$/### begin/' -e 's/^\*\*--debug\*\*$/**--verbose**/' \
		"$TOP/man/kata-runtime.1.md" >"$TMP/src/man/kata-runtime.1.md"
	run bash "$DRIFT" --srcdir "$TMP/src" --runtime "$KATA_RUNTIME"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"command 'start' has no '### start' section"* ]]
	[[ "$output" == *"documents a command 'begin'"* ]]
	[[ "$output" == *"global option --debug is not documented"* ]]
	[[ "$output" == *"GLOBAL OPTIONS documents --verbose"* ]]
}

@test "man: the drift check fails on an undocumented key and a wrong default" {
	copy_tree
	# An extra key in the shipped file, and a default that changed.
	sed -e 's/^default_memory = .*/default_memory = 4096/' \
		-e 's/^\[agent\.kata\]$/[agent.kata]\nnew_knob = true/' \
		"$TOP/src/runtime/configuration.toml.in" >"$TMP/src/src/runtime/configuration.toml.in"
	run bash "$DRIFT" --srcdir "$TMP/src" --config-only
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"[agent.kata] new_knob is not documented"* ]]
	[[ "$output" == *"[hypervisor.qemu] default_memory: the page says"*"default_memory = 4096"* ]]
}

@test "man: the pages render with go-md2man and man" {
	command -v go-md2man >/dev/null || skip "go-md2man is not installed (apt-get install go-md2man)"
	command -v man >/dev/null || skip "man is not installed (apt-get install man-db)"
	local page out
	for page in kata-runtime.1 kata-agent.8 configuration.toml.5; do
		go-md2man -in "$TOP/man/$page.md" -out "$TMP/$page"
		out="$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$TMP/$page" 2>"$TMP/$page.err")"
		cat "$TMP/$page.err"
		[ ! -s "$TMP/$page.err" ]
		[[ "$out" == *NAME* ]]
		[[ "$out" == *"SEE ALSO"* ]]
	done
}
