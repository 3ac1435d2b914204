#!/usr/bin/env bats
# Hostile and malformed input to the runtime: config.json, process.json,
# configuration.toml, ids, bundles.  Every case must fail with status 1 (never
# a signal, never a sanitizer report), print a message naming the problem
# (in runc's JSON log format with --log-format json), and leave nothing
# behind: no state under --root, no process, no mount.  None of these boots a
# VM.  (errors.bats covers the simple cases: unknown ids, invalid ids on
# every verb, broken JSON, wrong types of process.args/terminal/root.path.)

load helpers
# Sandboxes boot cold, not from the run's VM template (docs/factory.md "Tests"):
# it sets its own configuration (guard.toml), and hardly any sandbox starts.

TRIED=0

function setup() {
	setup_root
	CFG_DIR="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-badcfg.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$CFG_DIR")
	# Guard: if a bad input were accepted, the VM would not boot either (no such
	# kernel) and the message would not match what the test expects.
	printf '[hypervisor.qemu]\nkernel = "/nonexistent/badinput-guard-kernel"\n' >"$CFG_DIR/guard.toml"
	export KATA_CONF_FILE="$CFG_DIR/guard.toml"
}

function teardown() {
	teardown_bundle
}

# Nothing but empty directories may be left under --root, no process may
# mention it and nothing may be mounted under it.
function nothing_left() {
	local left
	left="$(find "$ROOT" -mindepth 1 ! -type d)"
	[ -z "$left" ] || fail "left under --root: $left"
	left="$(find "$ROOT" -mindepth 2 -type d)"
	[ -z "$left" ] || fail "directories left under --root: $left"
	left="$(pgrep -af -- "$ROOT" || true)"
	[ -z "$left" ] || fail "processes left: $left"
	left="$(awk -v d="$ROOT" 'index($2, d) == 1' /proc/self/mounts)"
	[ -z "$left" ] || fail "mounts left: $left"
}

# expect_fail PATTERN CMD...: kata-runtime CMD fails with status 1 (exec: 255, its own
# failures as runc reports them, apart from the process's status) and a
# message matching PATTERN (a glob), then again with --log-format json --log
# FILE, where the last line of FILE is a runc-style error with that "msg".
function expect_fail() {
	local pat="$1" json log="$CFG_DIR/log.json" want=1
	shift
	[ "$1" != exec ] || want=255
	TRIED=$((TRIED + 1))
	kata_runtime "$@"
	[ "$status" -eq "$want" ] || fail "$(short "$*"): status $status (want $want)"
	[[ "$output" == $pat ]] || fail "$(short "$*"): message \"$(short "$output")\" does not match \"$pat\""
	[[ "$output" != *"Sanitizer"* && "$output" != *"runtime error:"* ]] || fail "sanitizer report: $output"
	nothing_left
	rm -f "$log"
	run "$KATA_RUNTIME" --root "$ROOT" --log-format json --log "$log" "$@"
	[ "$status" -eq "$want" ] || fail "--log-format json $(short "$*"): status $status"
	json="$(tail -1 "$log" 2>/dev/null)"
	[ "$(echo "$json" | "$JQ" -r .level 2>/dev/null)" = error ] || fail "not a runc JSON error line: $(short "$json")"
	[[ "$(echo "$json" | "$JQ" -r .msg)" == $pat ]] || fail "JSON msg does not match \"$pat\": $(short "$json")"
	echo "$json" | "$JQ" -e '.time | test("^[0-9]{4}-")' >/dev/null || fail "no time in $(short "$json")"
	nothing_left
}

# The first 200 characters of $1 (hostile inputs are long).
function short() {
	local s="$1"
	[ "${#s}" -le 200 ] && echo "$s" || echo "${s:0:200}..."
}

function report() {
	echo "# bad inputs tried: $TRIED" >&3
}

# A config.json from Python (NUL bytes and huge documents are awkward in jq).
function py_config() {
	python3 - "$BUNDLE/config.json" "$1" <<'PY'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
d = json.load(open(path))
exec(expr)
json.dump(d, open(path, "w"))
PY
}

@test "config.json: deep nesting, huge documents, NUL bytes" {
	setup_bundle
	cp "$BUNDLE/config.json" "$BUNDLE/orig.json"

	python3 -c 'import sys; sys.stdout.write("[" * 100000)' >"$BUNDLE/config.json"
	expect_fail "*config.json*nested too deeply*" create --bundle "$BUNDLE" c1
	python3 -c 'import sys; sys.stdout.write("{\"a\":" * 100000)' >"$BUNDLE/config.json"
	expect_fail "*config.json*nested too deeply*" create --bundle "$BUNDLE" c1
	python3 -c 'import sys; sys.stdout.write("{\"process\":" + "[" * 5000 + "]" * 5000 + "}")' >"$BUNDLE/config.json"
	expect_fail "*config.json*" create --bundle "$BUNDLE" c1
	# deep nesting inside a free-form field (annotations are a string map)
	python3 -c 'import sys; sys.stdout.write("{\"annotations\":{\"a\":" + "[" * 3000 + "]" * 3000 + "}}")' >"$BUNDLE/config.json"
	expect_fail "*config.json*" run --bundle "$BUNDLE" c1

	cp "$BUNDLE/orig.json" "$BUNDLE/config.json"
	py_config 'd["process"]["args"] = ["x"] * 1000000'
	expect_fail "*config.json*too large*" create --bundle "$BUNDLE" c1
	cp "$BUNDLE/orig.json" "$BUNDLE/config.json"
	py_config 'd["mounts"] = d["mounts"] * 20000'
	expect_fail "*config.json*too large*" run --bundle "$BUNDLE" c1
	cp "$BUNDLE/orig.json" "$BUNDLE/config.json"
	py_config 'd["annotations"] = {"k%d" % i: "v" * 100 for i in range(20000)}'
	expect_fail "*config.json*too large*" create --bundle "$BUNDLE" c1

	cp "$BUNDLE/orig.json" "$BUNDLE/config.json"
	py_config 'd["process"]["args"] = ["sh\u0000-c"]'
	expect_fail "*process.args*NUL*" create --bundle "$BUNDLE" c1
	cp "$BUNDLE/orig.json" "$BUNDLE/config.json"
	py_config 'd["process"]["env"].append("A=b\u0000c")'
	expect_fail "*process.env*NUL*" create --bundle "$BUNDLE" c1
	cp "$BUNDLE/orig.json" "$BUNDLE/config.json"
	py_config 'd["root"]["path"] = "root\u0000fs"'
	expect_fail "*root.path*NUL*" create --bundle "$BUNDLE" c1
	cp "$BUNDLE/orig.json" "$BUNDLE/config.json"
	py_config 'd["hostname"] = "a\u0000b"'
	expect_fail "*hostname*NUL*" create --bundle "$BUNDLE" c1
	# a raw NUL byte outside any string, and invalid UTF-8
	printf '{"ociVersion":"1.0.2",\0"process":{}}' >"$BUNDLE/config.json"
	expect_fail "*config.json*" create --bundle "$BUNDLE" c1
	printf '{"ociVersion":"1.0.2","hostname":"\xff\xfe"}' >"$BUNDLE/config.json"
	expect_fail "*config.json*" create --bundle "$BUNDLE" c1
	# empty, whitespace only, not an object, trailing garbage
	: >"$BUNDLE/config.json"
	expect_fail "*config.json*" create --bundle "$BUNDLE" c1
	printf '   \n' >"$BUNDLE/config.json"
	expect_fail "*config.json*" create --bundle "$BUNDLE" c1
	echo '[1,2,3]' >"$BUNDLE/config.json"
	expect_fail "*config.json*" create --bundle "$BUNDLE" c1
	echo '"config"' >"$BUNDLE/config.json"
	expect_fail "*config.json*" create --bundle "$BUNDLE" c1
	{ cat "$BUNDLE/orig.json"; echo '}'; } >"$BUNDLE/config.json"
	expect_fail "*config.json*" create --bundle "$BUNDLE" c1
	report
}

@test "config.json: wrong types, missing and relative root, mount destinations with .." {
	setup_bundle
	local f
	for f in '.process = []' '.process.env = "A=b"' '.process.cwd = 1' '.process.user.uid = -1' \
		'.process.user.uid = "root"' '.process.user.uid = 4294967296' '.process.capabilities.bounding = "CAP_KILL"' \
		'.process.rlimits = {}' '.mounts = {}' '.mounts[0] = "proc"' '.mounts[0].options = "ro"' \
		'.linux = []' '.linux.namespaces = [1]' '.linux.resources.memory.limit = "1G"' \
		'.linux.resources.cpu.shares = -5' '.annotations = []' '.annotations.a = 1' '.hooks.prestart = {}' \
		'.linux.seccomp.syscalls = [{"names": "mkdir"}]' '.ociVersion = 1.0'; do
		cp "$BUNDLE/config.json" "$BUNDLE/good.json"
		update_config "$f"
		expect_fail "*config.json*" create --bundle "$BUNDLE" c1
		cp "$BUNDLE/good.json" "$BUNDLE/config.json"
	done

	update_config 'del(.root)'
	expect_fail "*root.path must be set*" create --bundle "$BUNDLE" c1
	update_config '.root = {"path": ""}'
	expect_fail "*root.path must be set*" create --bundle "$BUNDLE" c1
	update_config '.root = {"path": "../../../nonexistent-rootfs"}'
	expect_fail "*rootfs*nonexistent-rootfs*No such file*" create --bundle "$BUNDLE" c1
	update_config '.root = {"path": "rootfs/etc/passwd"}'
	expect_fail "*rootfs*" create --bundle "$BUNDLE" c1
	update_config '.root = {"path": "rootfs"} | del(.process)'
	expect_fail "*process property must not be empty*" create --bundle "$BUNDLE" c1
	cp "$BUNDLE/good.json" "$BUNDLE/config.json"

	local d
	for d in '/../../etc' '/tmp/../../../root' '..' '../x' '/x/..'; do
		update_config ".mounts += [{\"destination\": \"$d\", \"type\": \"bind\", \"source\": \"/tmp\", \"options\": [\"bind\"]}]"
		expect_fail "*destination*contains*..*" create --bundle "$BUNDLE" c1
		cp "$BUNDLE/good.json" "$BUNDLE/config.json"
	done
	update_config '.mounts += [{"destination": "/data", "type": "bind", "source": "/nonexistent/src", "options": ["bind"]}]'
	expect_fail "*nonexistent/src*" create --bundle "$BUNDLE" c1
	report
}

@test "process.json for exec: hostile input fails before reaching any VM" {
	setup_bundle
	local p="$CFG_DIR/process.json" c
	# exec of a container that does not exist: the id is checked first
	echo '{"args":["true"],"cwd":"/"}' >"$p"
	expect_fail "*does not exist*" exec --process "$p" nosuch
	# the process file is read before the container is looked up? either way: status 255, named
	for c in '[' '{"args": 1}' '' '{"args":["a\u0000b"],"cwd":"/"}' '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['; do
		printf '%s' "$c" >"$p"
		expect_fail "*" exec --process "$p" nosuch
	done
	expect_fail "*does not exist*" exec --process "$CFG_DIR/missing.json" nosuch
	report
}

@test "configuration.toml: missing kernel or initrd, type errors, garbage" {
	requires qemu
	setup_bundle true
	local q k i
	q="$(KATA_CONF_FILE= guest_config_value path /usr/bin/qemu-system-x86_64)"
	k="$(KATA_CONF_FILE= guest_config_value kernel /usr/share/kata-containers/vmlinuz.container)"
	i="$(KATA_CONF_FILE= guest_config_value initrd /usr/share/kata-containers/kata-containers-initrd.img)"

	printf '[hypervisor.qemu]\npath = "%s"\nkernel = "/nonexistent/vmlinuz"\ninitrd = "%s"\n' "$q" "$i" >"$CFG_DIR/c.toml"
	expect_fail "*kernel*/nonexistent/vmlinuz*No such file*" --kata-config "$CFG_DIR/c.toml" create --bundle "$BUNDLE" c1
	printf '[hypervisor.qemu]\npath = "%s"\nkernel = "%s"\ninitrd = "/nonexistent/initrd.img"\n' "$q" "$k" >"$CFG_DIR/c.toml"
	expect_fail "*initrd*/nonexistent/initrd.img*No such file*" --kata-config "$CFG_DIR/c.toml" run --bundle "$BUNDLE" c1
	printf '[hypervisor.qemu]\npath = "/nonexistent/qemu"\nkernel = "%s"\ninitrd = "%s"\n' "$k" "$i" >"$CFG_DIR/c.toml"
	expect_fail "*/nonexistent/qemu*" --kata-config "$CFG_DIR/c.toml" create --bundle "$BUNDLE" c1
	# the same file selected through $KATA_CONF_FILE
	printf '[hypervisor.qemu]\npath = "%s"\nkernel = "/nonexistent/vmlinuz"\ninitrd = "%s"\n' "$q" "$i" >"$CFG_DIR/c.toml"
	KATA_CONF_FILE="$CFG_DIR/c.toml" expect_fail "*kernel*/nonexistent/vmlinuz*" create --bundle "$BUNDLE" c1

	local t
	for t in 'default_vcpus = "two"' 'default_memory = true' 'default_memory = 1' 'default_vcpus = 99999' \
		'kernel = 7' 'kernel_params = ["a"]' 'machine_type = "pc-i440fx"' 'enable_debug = "yes"' \
		'shared_fs = "nfs"' 'boot_timeout = -1' 'seccompsandbox = 1' 'tb_size = "big"' \
		'default_memory = 99999999999999999999999' 'path = "unterminated' 'path = """' \
		'= "no key"' 'kernel = "a"
kernel = "b"' 'default_vcpus = 1e99999' "kernel = \"a$(printf '\\u0000')b\""; do
		printf '[hypervisor.qemu]\nkernel = "/nonexistent/guard"\n%s\n' "$t" >"$CFG_DIR/c.toml"
		expect_fail "*c.toml*" --kata-config "$CFG_DIR/c.toml" create --bundle "$BUNDLE" c1
	done
	printf '[[[[[[[[[[' >"$CFG_DIR/c.toml"
	expect_fail "*c.toml*" --kata-config "$CFG_DIR/c.toml" create --bundle "$BUNDLE" c1
	python3 -c 'import sys; sys.stdout.write("[hypervisor.qemu]\nkernel_params = " + "[" * 100000 + "\n")' >"$CFG_DIR/c.toml"
	expect_fail "*c.toml*" --kata-config "$CFG_DIR/c.toml" create --bundle "$BUNDLE" c1
	python3 -c 'import sys; sys.stdout.write("[hypervisor.qemu]\nkernel = \"/nonexistent/guard\"\n" + "# big\n" * 400000)' >"$CFG_DIR/c.toml"
	expect_fail "*c.toml*" --kata-config "$CFG_DIR/c.toml" create --bundle "$BUNDLE" c1
	printf '[hypervisor.qemu]\nkernel = "/nonexistent/guard"\n[agent.kata]\nkernel_modules = [1, 2]\n' >"$CFG_DIR/c.toml"
	expect_fail "*c.toml*kernel_modules*" --kata-config "$CFG_DIR/c.toml" create --bundle "$BUNDLE" c1
	printf '[hypervisor.qemu]\nkernel = "/nonexistent/guard"\n[runtime]\ninternetworking_model = "bridged"\n' >"$CFG_DIR/c.toml"
	expect_fail "*c.toml*internetworking_model*" --kata-config "$CFG_DIR/c.toml" create --bundle "$BUNDLE" c1
	expect_fail "*$CFG_DIR/none.toml*" --kata-config "$CFG_DIR/none.toml" create --bundle "$BUNDLE" c1
	expect_fail "*$CFG_DIR*" --kata-config "$CFG_DIR" create --bundle "$BUNDLE" c1
	report
}

@test "unreadable, missing and odd bundles" {
	setup_bundle true
	expect_fail "*nonexistent*" create --bundle "$ROOT/nonexistent" c1
	expect_fail "*config.json*" create --bundle /dev/null c1
	expect_fail "*config.json*" create --bundle "$BUNDLE/rootfs/etc/passwd" c1
	# config.json is a directory, a FIFO, a dangling symlink
	mv "$BUNDLE/config.json" "$BUNDLE/good.json"
	mkdir "$BUNDLE/config.json"
	expect_fail "*config.json*" create --bundle "$BUNDLE" c1
	rmdir "$BUNDLE/config.json"
	ln -s /nonexistent/config.json "$BUNDLE/config.json"
	expect_fail "*config.json*" create --bundle "$BUNDLE" c1
	rm "$BUNDLE/config.json"
	rm -f "$BUNDLE/config.json"
	mv "$BUNDLE/good.json" "$BUNDLE/config.json"
	# unreadable for an unprivileged user (root reads anything: checked as nobody)
	if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
		chmod 0700 "$BUNDLE"
		chmod 0755 "$ROOT" "$CFG_DIR"
		chmod 0644 "$CFG_DIR/guard.toml"
		TRIED=$((TRIED + 1))
		run setpriv --reuid=65534 --regid=65534 --clear-groups "$KATA_RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" c1
		[ "$status" -eq 1 ] || fail "unreadable bundle: status $status"
		[[ "$output" == *"$BUNDLE"*"Permission denied"* ]] || fail "unreadable bundle: $output"
		chmod 0755 "$BUNDLE"
		chmod 0600 "$BUNDLE/config.json"
		TRIED=$((TRIED + 1))
		run setpriv --reuid=65534 --regid=65534 --clear-groups "$KATA_RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" c1
		[ "$status" -eq 1 ] || fail "unreadable config.json: status $status"
		[[ "$output" == *"config.json"*"Permission denied"* ]] || fail "unreadable config.json: $output"
		nothing_left
	fi
	report
}

@test "ids: too long, with / or .., control characters, option-like" {
	setup_bundle true
	local long id
	long="$(printf 'x%.0s' $(seq 1 5000))"
	for id in "$long" "a/b" "/" "../x" "x/.." ".." $'a\tb' $'a\nb' \
		$'a\001b' "é" "a*b" 'a$b' 'a;b' "a\\b"; do
		expect_fail "invalid id format: *" create --bundle "$BUNDLE" "$id"
	done
	# an id starting with "-" is an option, not an id
	TRIED=$((TRIED + 1))
	kata_runtime create --bundle "$BUNDLE" --bogus-flag c1
	[ "$status" -ne 0 ] && [ "$status" -lt 128 ] || fail "unknown flag: status $status"
	nothing_left
	report
}

@test "global flags and CLI arguments with hostile values" {
	setup_bundle true
	local long
	long="$(printf 'y%.0s' $(seq 1 5000))"
	expect_fail "*" --root "$ROOT/$long/x" state c1
	expect_fail "*" state "$(printf 'z%.0s' $(seq 1 300))/.."
	expect_fail "*" --log-format xml state c1
	expect_fail "*" kill c1 NOSUCHSIGNAL
	expect_fail "*" kill c1 99999
	expect_fail "*" update --memory -1 c1
	expect_fail "*" update --cpu-quota notanumber c1
	expect_fail "*" update --resources "$CFG_DIR/missing.json" c1
	printf '[' >"$CFG_DIR/r.json"
	expect_fail "*" update --resources "$CFG_DIR/r.json" c1
	expect_fail "*" create --bundle "$BUNDLE" --pid-file "/nonexistent/dir/pid" c1
	expect_fail "*" create --bundle "$BUNDLE" --console-socket "/nonexistent/sock" c1
	report
}
