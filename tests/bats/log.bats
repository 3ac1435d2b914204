#!/usr/bin/env bats
# --log, --log-format and --debug: runc's log lines.

load helpers

function setup() {
	requires jq
	setup_root
	LOG="$ROOT.log"
	KATA_TEST_TMPDIRS+=("$LOG")
	rm -f "$LOG"
}

function teardown() {
	rm -f "$LOG"
	teardown_bundle
}

@test "json log: one error line on stderr, exactly one JSON line in --log" {
	run bash -c '"$0" --root "$1" --log "$2" --log-format json state nosuch 2>"$2.err" >"$2.out"' \
		"$KATA_RUNTIME" "$ROOT" "$LOG"
	[ "$status" -eq 1 ]
	[ "$(wc -l <"$LOG.err")" -eq 1 ]
	[ "$(cat "$LOG.err")" = "container does not exist" ]
	[ ! -s "$LOG.out" ]
	rm -f "$LOG.err" "$LOG.out"
	[ "$(wc -l <"$LOG")" -eq 1 ]
	jq -e '.level == "error" and .msg == "container does not exist"' "$LOG"
	jq -e '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")' "$LOG"
	jq -e 'keys == ["level", "msg", "time"]' "$LOG"
}

@test "text log: logrus format line" {
	kata_runtime --log "$LOG" state nosuch
	[ "$status" -eq 1 ]
	[ "$(wc -l <"$LOG")" -eq 1 ]
	grep -Eq '^time="[0-9]{4}-[0-9]{2}-[0-9]{2}T[^"]+" level=error msg="container does not exist"$' "$LOG"
}

@test "the log is appended to, one line per error" {
	kata_runtime --log "$LOG" --log-format json state nosuch
	kata_runtime --log "$LOG" --log-format json kill nosuch
	[ "$(wc -l <"$LOG")" -eq 2 ]
	[ "$(jq -s 'map(.level) | unique' "$LOG" | jq -c .)" = '["error"]' ]
}

@test "usage errors go to the log too (invalid id)" {
	kata_runtime --log "$LOG" --log-format json delete "a/b"
	[ "$status" -eq 1 ]
	[ "$output" = "invalid id format: a/b" ]
	jq -e '.level == "error" and .msg == "invalid id format: a/b"' "$LOG"
}

@test "--debug writes debug lines to the same log" {
	kata_runtime --debug --log "$LOG" --log-format json state nosuch
	[ "$status" -eq 1 ]
	[ "$(jq -s '[.[] | select(.level == "debug")] | length' "$LOG")" -ge 1 ]
	[ "$(jq -s '[.[] | select(.level == "error")] | length' "$LOG")" -eq 1 ]
	jq -s -e '.[] | select(.level == "debug") | .msg | test("state nosuch")' "$LOG"
	# every line is one JSON object
	while IFS= read -r l; do echo "$l" | jq -e 'type == "object"' >/dev/null; done <"$LOG"
}

@test "--debug in text format" {
	kata_runtime --debug --log "$LOG" list
	[ "$status" -eq 0 ]
	grep -Eq '^time="[^"]+" level=debug msg=".*list' "$LOG"
	! grep -q 'level=error' "$LOG"
}

@test "no debug lines without --debug; nothing logged on success" {
	kata_runtime --log "$LOG" --log-format json list
	[ "$status" -eq 0 ]
	[ ! -s "$LOG" ]
	kata_runtime --log "$LOG" --log-format json state nosuch
	! grep -q '"debug"' "$LOG"
}

@test "without --log the error goes to stderr only" {
	run bash -c 'cd "$1" && "$0" --root "$1" state nosuch 2>&1 >/dev/null' "$KATA_RUNTIME" "$ROOT"
	[ "$status" -eq 1 ]
	[ "$output" = "container does not exist" ]
	[ -z "$(find "$ROOT" -mindepth 1)" ]
}

@test "unknown verb is logged as an error" {
	kata_runtime --log "$LOG" --log-format json nosuchverb
	[ "$status" -eq 1 ]
	jq -e ".msg == \"No help topic for 'nosuchverb'\"" "$LOG"
}

@test "a --log that cannot be opened fails" {
	kata_runtime --log "$ROOT/nonexistent-dir/x.log" list
	[ "$status" -eq 1 ]
	[[ "$output" == "open log file $ROOT/nonexistent-dir/x.log: No such file or directory" ]]
}
