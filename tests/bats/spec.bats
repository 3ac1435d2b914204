#!/usr/bin/env bats
# kata-runtime spec: runc's default config.json.

load helpers

function setup() {
	requires jq
	setup_root
	SPECDIR="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-spec.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$SPECDIR")
	cd "$SPECDIR" || fail "cd $SPECDIR"
}

function teardown() {
	teardown_bundle
}

@test "spec writes config.json in the current directory" {
	kata_runtime spec
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ -f "$SPECDIR/config.json" ]
	jq -e '.process.args == ["sh"]' config.json
	jq -e '.process.terminal == true' config.json
	jq -e '.ociVersion == "1.2.0"' config.json
	jq -e '.root == {"path": "rootfs", "readonly": true}' config.json
	jq -e '.process.capabilities.bounding == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]' config.json
	jq -e '.process.rlimits == [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]' config.json
	jq -e '[.linux.namespaces[].type] == ["pid", "network", "ipc", "uts", "mount"]' config.json
	jq -e '[.mounts[].destination] == ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"]' config.json
	jq -e '.linux.maskedPaths | index("/proc/kcore") != null' config.json
	jq -e '.linux.readonlyPaths | index("/proc/sysrq-trigger") != null' config.json
}

@test "spec is runc spec's content (but the ociVersion)" {
	requires runc
	mkdir runc kata
	(cd runc && runc spec)
	kata_runtime spec --bundle kata
	[ "$status" -eq 0 ]
	diff -u <(jq -S 'del(.ociVersion)' runc/config.json) <(jq -S 'del(.ociVersion)' kata/config.json)
}

@test "spec --rootless is runc spec --rootless's content (but the ociVersion)" {
	requires runc
	mkdir runc kata
	(cd runc && runc spec --rootless)
	kata_runtime spec --rootless --bundle kata
	[ "$status" -eq 0 ]
	diff -u <(jq -S 'del(.ociVersion)' runc/config.json) <(jq -S 'del(.ociVersion)' kata/config.json)
}

@test "spec --rootless maps the caller's uid and gid and adds a user namespace" {
	kata_runtime spec --rootless
	[ "$status" -eq 0 ]
	jq -e --argjson u "$(id -u)" '.linux.uidMappings == [{"containerID": 0, "hostID": $u, "size": 1}]' config.json
	jq -e --argjson g "$(id -g)" '.linux.gidMappings == [{"containerID": 0, "hostID": $g, "size": 1}]' config.json
	jq -e '[.linux.namespaces[].type] | index("user") != null and index("network") == null' config.json
	jq -e '.linux.resources == null' config.json
}

@test "spec --bundle writes into the bundle, -b too" {
	mkdir b1 b2
	kata_runtime spec --bundle "$SPECDIR/b1"
	[ "$status" -eq 0 ]
	[ -f b1/config.json ]
	kata_runtime spec -b b2
	[ "$status" -eq 0 ]
	[ -f b2/config.json ]
	[ ! -e config.json ]
	cmp b1/config.json b2/config.json
}

@test "spec refuses to overwrite an existing config.json" {
	echo '{"keep": "me"}' >config.json
	kata_runtime spec
	[ "$status" -eq 1 ]
	[ "$output" = "File config.json exists. Remove it first" ]
	[ "$(cat config.json)" = '{"keep": "me"}' ]
	mkdir b
	echo x >b/config.json
	kata_runtime spec --bundle b
	[ "$status" -eq 1 ]
	[ "$output" = "File config.json exists. Remove it first" ]
	[ "$(cat b/config.json)" = x ]
}

@test "spec with a missing bundle dir fails and creates nothing" {
	kata_runtime spec --bundle "$SPECDIR/nope"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$SPECDIR/nope"* ]]
	[ ! -e "$SPECDIR/nope" ]
}

@test "spec takes no arguments" {
	kata_runtime spec extra
	[ "$status" -eq 1 ]
	[ "$output" = 'kata-runtime: "spec" requires exactly 0 argument(s)' ]
	[ ! -e config.json ]
}

@test "kata-runtime parses its own spec (create fails only for the terminal)" {
	mkdir rootfs
	kata_runtime spec
	[ "$status" -eq 0 ]
	kata_runtime create --bundle "$SPECDIR" c1
	[ "$status" -eq 1 ]
	[ "$output" = "cannot allocate tty if runc will detach without setting console socket" ]
	[ -z "$(find "$ROOT" -mindepth 1)" ]
}

@test "spec is tab-indented like runc's, without a trailing newline" {
	kata_runtime spec
	[ "$status" -eq 0 ]
	[ "$(head -c 3 config.json | od -An -c | tr -d ' ')" = '{\n\t' ]
	[ "$(tail -c 1 config.json | od -An -c | tr -d ' ')" = '}' ]
}
