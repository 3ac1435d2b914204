#!/usr/bin/env bats
# runc parity inside the guest (issue 16, items 1-6): the device cgroup is enforced,
# a non-root process owns its terminal, user namespaces are refused rather than
# ignored, linux.devices without a host device, a read-only /dev, and linux.devices
# entries for the nodes the runtime makes anyway.  Where it helps, runc runs the same
# bundle on the host as the reference.

load helpers-vm

# The boot is not under test here: sandboxes are clones of the run's VM template
# (helpers-vm.bash use_vm_template, docs/factory.md "Tests").
function setup_file() {
	use_vm_template
}

function teardown_file() {
	release_vm_template
}

PG_IMGS=()

function setup() {
	requires_for_test
	setup_bundle sleep 1000
}

function teardown() {
	[ -n "${RPID:-}" ] && kill "$RPID" 2>/dev/null
	local i l pairs=()
	for i in "${PG_IMGS[@]}"; do
		for l in $(losetup -n -O NAME -j "$i" 2>/dev/null); do
			pairs+=("$l=$i")
		done
	done
	if [ -n "$ROOT" ] && [ -d "$ROOT/runc" ]; then
		for i in $(runc --root "$ROOT/runc" list -q 2>/dev/null); do
			runc --root "$ROOT/runc" delete -f "$i" >/dev/null 2>&1 || true
		done
	fi
	teardown_bundle
	for i in "${pairs[@]}"; do
		l="${i%%=*}"
		case "$(losetup -n -O BACK-FILE "$l" 2>/dev/null)" in
		"${i#*=}"*) losetup -d "$l" 2>/dev/null || true ;;
		esac
	done
}

function join_pod() {
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container" | .annotations["io.kubernetes.cri.sandbox-id"] = "'"$1"'"'
}

# A second bundle (same rootfs) for an app container of pod $1; BUNDLE switches to it.
function app_bundle() {
	local pod_bundle="$BUNDLE"
	BUNDLE="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-bundle.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$BUNDLE")
	cp "$pod_bundle/config.json" "$BUNDLE/"
	ln -s "$pod_bundle/rootfs" "$BUNDLE/rootfs"
	join_pod "$1"
}

# Runs the bundle's config with process.args = "sh -c SCRIPT" under runc (the
# reference) on the host; its output in $output, status in $status.
function runc_ref() {
	local script="$1" ref
	ref="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-runcref.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$ref")
	"$JQ" --arg s "$script" '.process.args = ["sh", "-c", $s] | .process.terminal = false | .root.path = "'"$BUNDLE/rootfs"'"' \
		"$BUNDLE/config.json" >"$ref/config.json"
	mkdir -p "$ROOT/runc"
	run runc --root "$ROOT/runc" run --bundle "$ref" "ref-$$-$RANDOM" </dev/null
	echo "runc: sh -c '$script' (status=$status):" >&2
	echo "$output" >&2
}

# The lines of $output the device tests compare (the process's, not a runtime warning).
function dev_lines() {
	grep -E '^(/dev/|null-ok)' <<<"$output" | tr -d '\r'
}

CAP_MKNOD_FILTER='.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'

# ---- 1. the device cgroup ----

@test "device cgroup: a node the rules do not allow is denied (char: /dev/kmsg's 1:11; block: another pod container's disk); allowed ones work" {
	command -v losetup >/dev/null || skip "needs losetup"
	local imgdir dev maj min script
	update_config "$CAP_MKNOD_FILTER"
	# the default spec's rules: deny all (runc's defaults allow /dev/null & co)
	[ "$("$JQ" -c .linux.resources.devices "$BUNDLE/config.json")" = '[{"allow":false,"access":"rwm"}]' ]
	script='mknod /dev/k c 1 11 && echo made; echo hi >/dev/k && echo WROTE; echo x >/dev/null && head -c 3 /dev/zero | wc -c'

	# runc, the reference: the node can be made, not written
	if command -v runc >/dev/null; then
		runc_ref "$script"
		[ "$status" -eq 0 ]
		[[ "$output" == *made* && "$output" == *"Operation not permitted"* && "$output" != *WROTE* ]]
	fi

	imgdir="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-img.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$imgdir")
	truncate -s 4M "$imgdir/disk.img"
	PG_IMGS+=("$imgdir/disk.img")
	printf 'disk-of-app' | dd of="$imgdir/disk.img" conv=notrunc 2>/dev/null
	dev="$(losetup -f --show "$imgdir/disk.img")"
	maj=$((0x$(stat -c %t "$dev")))
	min=$((0x$(stat -c %T "$dev")))

	kata_runtime_detached run -d --bundle "$BUNDLE" dcpod
	[ "$status" -eq 0 ]
	# The pod's sandbox container: the default rules, CAP_MKNOD.
	kata_runtime exec dcpod sh -c "$script"
	[ "$status" -eq 0 ]
	[[ "$output" == *made* ]]
	[[ "$output" == *"Operation not permitted"* ]] || fail "/dev/kmsg's numbers were writable: $output"
	[[ "$output" != *WROTE* ]]
	[[ "$output" == *3 ]] || fail "/dev/null or /dev/zero denied: $output"

	# An app container of the pod with a hot-plugged disk it may use (its rule names the
	# host's numbers: the agent rewrites it to the guest's), and 1:11 allowed for writes.
	app_bundle dcpod
	update_config '.linux.devices = [{"type":"b","path":"/dev/xdisk","major":'"$maj"',"minor":'"$min"',"fileMode":438}]
		| .linux.resources.devices = [{"allow":false,"access":"rwm"},{"allow":true,"type":"b","major":'"$maj"',"minor":'"$min"',"access":"rwm"},
			{"allow":true,"type":"c","major":1,"minor":11,"access":"w"}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" dcapp
	[ "$status" -eq 0 ]
	kata_runtime exec dcapp sh -c 'head -c 11 /dev/xdisk; echo; cat /sys/block/vd*/dev'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == disk-of-app ]]
	local gdev="${lines[1]}"
	[[ "$gdev" =~ ^[0-9]+:[0-9]+$ ]]
	kata_runtime exec dcapp sh -c "$script"
	[ "$status" -eq 0 ]
	[[ "$output" == *WROTE* ]] || fail "an allowed rule did not allow: $output"

	# The sandbox container, with CAP_MKNOD, makes a node with the app's disk's guest
	# numbers: it cannot read it.
	kata_runtime exec dcpod sh -c "mknod /dev/other b ${gdev%:*} ${gdev#*:} && echo made; head -c 11 /dev/other && echo READ; true"
	[ "$status" -eq 0 ]
	[[ "$output" == *made* ]]
	[[ "$output" == *"Operation not permitted"* ]] || fail "another container's disk was readable: $output"
	[[ "$output" != *disk-of-app* && "$output" != *READ* ]]
}

# ---- 2. the terminal of a non-root process ----

@test "terminal: a non-root process owns its pty slave (uid, tty group), for run and exec --tty --user" {
	local recv sock out
	recv="$(console_receiver)"
	sock="$BUNDLE/console.sock"
	kata_runtime_detached run -d --bundle "$BUNDLE" ttpod
	[ "$status" -eq 0 ]

	# exec -t --user 1000:1000
	"$recv" "$sock" 24 80 'echo "O:$(stat -c %u:%g $(tty))"; exit\n' 180 >"$BUNDLE/out" 2>"$BUNDLE/err" &
	RPID=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	kata_runtime_detached exec -t -d --user 1000:1000 --console-socket "$sock" ttpod sh
	[ "$status" -eq 0 ]
	wait "$RPID" || fail "console receiver: $(cat "$BUNDLE/err")"
	RPID=
	out="$(tr -d '\r' <"$BUNDLE/out" | sed -n 's/^O:\([0-9]*:[0-9]*\)$/\1/p' | head -1)"
	echo "exec: $out" >&2
	[ "$out" = 1000:5 ]

	# run with process.user 1000:1000 and terminal: an app container of the pod
	rm -f "$sock"
	app_bundle ttpod
	update_config '.process.terminal = true | .process.args = ["sh"] | .process.user = {"uid": 1000, "gid": 1000}'
	"$recv" "$sock" 24 80 'echo "O:$(stat -c %u:%g $(tty))"; exit\n' 180 >"$BUNDLE/out" 2>"$BUNDLE/err" &
	RPID=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	kata_runtime_detached run -d --console-socket "$sock" --bundle "$BUNDLE" ttapp
	[ "$status" -eq 0 ]
	wait "$RPID" || fail "console receiver: $(cat "$BUNDLE/err")"
	RPID=
	out="$(tr -d '\r' <"$BUNDLE/out" | sed -n 's/^O:\([0-9]*:[0-9]*\)$/\1/p' | head -1)"
	echo "run: $out" >&2
	[ "$out" = 1000:5 ]

	# root keeps root's terminal
	rm -f "$sock"
	"$recv" "$sock" 24 80 'echo "O:$(stat -c %u:%g $(tty))"; exit\n' 180 >"$BUNDLE/out" 2>"$BUNDLE/err" &
	RPID=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	kata_runtime_detached exec -t -d --console-socket "$sock" ttpod sh
	[ "$status" -eq 0 ]
	wait "$RPID" || fail "console receiver: $(cat "$BUNDLE/err")"
	RPID=
	out="$(tr -d '\r' <"$BUNDLE/out" | sed -n 's/^O:\([0-9]*:[0-9]*\)$/\1/p' | head -1)"
	[ "$out" = 0:5 ]
}

# ---- 3. user namespaces ----

@test "user namespaces: uidMappings/gidMappings, a user namespace or an idmapped mount are refused at create (no VM)" {
	local log="$BUNDLE/log.json"
	update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.namespaces += [{"type": "user"}]'
	kata_runtime_detached --log "$log" --log-format json create --bundle "$BUNDLE" un1
	[ "$status" -ne 0 ]
	[[ "$output" == *"user namespaces are not supported by kata-runtime"*"linux.uidMappings"* ]]
	"$JQ" -e 'select(.level == "error") | .msg | test("user namespaces are not supported")' "$log"
	[ -z "$(container_status un1)" ]

	# only the namespace, only the gid mappings
	update_config 'del(.linux.uidMappings) | del(.linux.gidMappings)'
	kata_runtime_detached create --bundle "$BUNDLE" un2
	[ "$status" -ne 0 ]
	[[ "$output" == *"user namespaces are not supported"*'"user" namespace'* ]]
	update_config '.linux.namespaces |= map(select(.type != "user")) | .linux.gidMappings = [{"containerID": 0, "hostID": 1000, "size": 1}]'
	kata_runtime_detached create --bundle "$BUNDLE" un3
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.gidMappings"* ]]
	# an idmapped mount
	update_config 'del(.linux.gidMappings) | .mounts += [{"destination": "/data", "type": "bind", "source": "/tmp",
		"options": ["rbind"], "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
		"gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}]'
	kata_runtime_detached create --bundle "$BUNDLE" un4
	[ "$status" -ne 0 ]
	[[ "$output" == *"idmapped mounts are not supported"* ]]
	assert_root_clean
	assert_no_vm_process
}

# ---- 4. linux.devices without a host device ----

@test "linux.devices: a block device the host does not have (8:666) is made in the guest as given" {
	[ ! -e /sys/dev/block/8:666 ] || skip "this host has a block device 8:666"
	local script='stat -c "%n %F %t:%T %a %u:%g" /dev/test2 /dev/test3'
	update_config '.linux.devices = [{"path": "/dev/test2", "type": "b", "major": 8, "minor": 666, "fileMode": 432, "uid": 1000, "gid": 1001},
		{"path": "/dev/test3", "type": "c", "major": 1, "minor": 11, "fileMode": 384}]'
	local want='/dev/test2 block special file 8:29a 660 1000:1001
/dev/test3 character special file 1:b 600 0:0'
	if command -v runc >/dev/null; then
		runc_ref "$script"
		[ "$status" -eq 0 ]
		[ "$(dev_lines)" = "$want" ]
	fi
	update_config --arg s "$script" '.process.args = ["sh", "-c", $s]'
	kata_runtime run --bundle "$BUNDLE" nd1
	[ "$status" -eq 0 ]
	[ "$(dev_lines)" = "$want" ]
	# nothing was hot-plugged for it
	[ ! -e "$ROOT/sbs/nd1/nd1/drives" ]
}

# ---- 5. a read-only /dev ----

@test "a read-only /dev (tmpfs with \"ro\") is populated first, remounted read-only last" {
	local script='grep " /dev " /proc/mounts | cut -d" " -f4 | cut -d, -f1; touch /dev/newfile 2>&1; echo x >/dev/null && echo null-ok; ls /dev/pts/ptmx; [ -c /dev/zero ] && echo zero-ok'
	update_config '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)'
	if command -v runc >/dev/null; then
		runc_ref "$script"
		[ "$status" -eq 0 ]
		[[ "$output" == ro* && "$output" == *"Read-only file system"* && "$output" == *null-ok* ]]
	fi
	update_config --arg s "$script" '.process.args = ["sh", "-c", $s]'
	kata_runtime run --bundle "$BUNDLE" rd1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = ro ]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *null-ok* ]]
	[[ "$output" == */dev/pts/ptmx* ]]
	[[ "$output" == *zero-ok* ]]
	# nosuid stays
	update_config '.process.args = ["sh", "-c", "grep \" /dev \" /proc/mounts"]'
	kata_runtime run --bundle "$BUNDLE" rd3
	[ "$status" -eq 0 ]
	[[ "$output" == *" ro,nosuid"* ]]
}

# ---- 6. linux.devices for nodes the runtime makes anyway ----

@test "linux.devices entries for /dev/ptmx, /dev/tty and /dev/null are accepted, as runc does" {
	local script='for d in /dev/ptmx /dev/tty /dev/null; do if [ -L $d ]; then echo "$d -> $(readlink $d)"; else stat -c "%n %t:%T %a %u:%g" $d; fi; done; echo x >/dev/null && echo null-ok'
	update_config '.linux.devices = [{"path": "/dev/ptmx", "type": "c", "major": 5, "minor": 2, "fileMode": 438},
		{"path": "/dev/tty", "type": "c", "major": 5, "minor": 0, "fileMode": 432, "uid": 0, "gid": 5},
		{"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 438}]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
			{"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"}]'
	# (the rules as docker writes them: runc drops its default rule for a device the spec
	# lists, so without them /dev/null is denied under runc; the agent keeps its defaults)
	local want='/dev/ptmx -> pts/ptmx
/dev/tty 5:0 660 0:5
/dev/null 1:3 666 0:0
null-ok'
	if command -v runc >/dev/null; then
		runc_ref "$script"
		[ "$status" -eq 0 ]
		[ "$(dev_lines)" = "$want" ]
	fi
	update_config --arg s "$script" '.process.args = ["sh", "-c", $s]'
	kata_runtime run --bundle "$BUNDLE" pd1
	[ "$status" -eq 0 ]
	[ "$(dev_lines)" = "$want" ]
}
