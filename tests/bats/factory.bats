#!/usr/bin/env bats
# kata-runtime factory init|status|destroy: VM templating (real VMs).
# One template is made for the whole file (setup_file) in a temp dir; every test
# uses its own --kata-config pointing at it.

load helpers-vm

# A configuration.toml with [factory] set:
#   write_factory_config FILE TEMPLATE_PATH [ENABLE [CACHE_NUMBER CACHE_ENDPOINT]]
function write_factory_config() {
	local file="$1" tp="$2" enable="${3:-true}" cn="${4:-0}" ep="${5:-$FACTORY_DIR/cache.sock}" base
	base="$("$KATA_RUNTIME" kata-env --json | "$JQ" -r '.Runtime.Config.Path')"
	[ -r "$base" ] || fail "no base configuration.toml ($base)"
	sed -e "s|^enable_template = .*|enable_template = $enable|" \
		-e "s|^template_path = .*|template_path = \"$tp\"|" \
		-e "s|^vm_cache_number = .*|vm_cache_number = $cn|" \
		-e "s|^vm_cache_endpoint = .*|vm_cache_endpoint = \"$ep\"|" "$base" >"$file"
	grep -q "^enable_template = $enable" "$file" || fail "no [factory] enable_template in $base"
}

function setup_file() {
	export FACTORY_DIR
	FACTORY_DIR="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-factory.XXXXXX")"
	export FACTORY_CFG="$FACTORY_DIR/configuration.toml"
	export FACTORY_TPL="$FACTORY_DIR/template"
}

function teardown_file() {
	if [ -n "${FACTORY_DIR:-}" ] && [ -f "$FACTORY_DIR/cache.toml" ]; then
		"$KATA_RUNTIME" --kata-config "$FACTORY_DIR/cache.toml" factory destroy >/dev/null 2>&1 || true
	fi
	if [ -n "${FACTORY_DIR:-}" ] && [ -f "$FACTORY_CFG" ]; then
		"$KATA_RUNTIME" --kata-config "$FACTORY_CFG" factory destroy >/dev/null 2>&1 || true
		umount -l "$FACTORY_TPL" 2>/dev/null || true
		rm -rf "$FACTORY_DIR"
	fi
}

function setup() {
	requires_for_test
	[ -f "$FACTORY_CFG" ] || write_factory_config "$FACTORY_CFG" "$FACTORY_TPL"
	LOG="$FACTORY_DIR/log.$BATS_TEST_NUMBER"
	rm -f "$LOG"
}

function teardown() {
	teardown_bundle
	[ -z "${NS_POD:-}" ] || ip netns del "$NS_POD" 2>/dev/null || true
	[ -z "${NS_PEER:-}" ] || ip netns del "$NS_PEER" 2>/dev/null || true
}

# The template of this file, made once (init is idempotent).
function ensure_template() {
	run "$KATA_RUNTIME" --kata-config "$FACTORY_CFG" factory init
	echo "factory init (status=$status): $output" >&2
	[ "$status" -eq 0 ] || fail "factory init failed: $output"
	[ -s "$FACTORY_TPL/state" ] || fail "no template state"
}

# Runs a container with hostname HOST in the foreground from the factory config.
function run_clone() {
	local id="$1" host="$2"
	update_config ".hostname = \"$host\""
	run "$KATA_RUNTIME" --root "$ROOT" --log "$LOG" --debug --kata-config "${3:-$FACTORY_CFG}" run "$id"
	echo "run $id (status=$status): $output" >&2
}

# A pod network namespace as CNI leaves it: eth0 (10.196.0.2/24, default route)
# whose peer (10.196.0.1) is in a second netns; the spec names the first.
function setup_pod_netns() {
	command -v ip >/dev/null || skip "test requires ip (iproute2)"
	NS_POD="kbats-fpod-$$-${BATS_TEST_NUMBER}"
	NS_PEER="kbats-fpeer-$$-${BATS_TEST_NUMBER}"
	ip netns add "$NS_POD"
	ip netns add "$NS_PEER"
	ip -n "$NS_PEER" link add peer0 type veth peer name eth0 netns "$NS_POD"
	ip -n "$NS_PEER" link set peer0 up
	ip -n "$NS_PEER" addr add 10.196.0.1/24 dev peer0
	ip -n "$NS_POD" link set eth0 address 02:4b:41:54:41:21 up
	ip -n "$NS_POD" addr add 10.196.0.2/24 dev eth0
	ip -n "$NS_POD" route add default via 10.196.0.1
	update_config --arg p "/run/netns/$NS_POD" \
		'.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network", "path": $p}])'
	update_config '.process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])'
}

# What the networked container prints: its MAC, address, default route, a ping of the peer.
NET_CMD='cat /sys/class/net/eth0/address; ip -o -4 addr show dev eth0 | grep -o "inet [0-9./]*"; ip route | grep ^default; ping -c 1 -W 10 10.196.0.1 >/dev/null && echo ping-ok'

function check_net_output() {
	[ "${lines[0]}" = 02:4b:41:54:41:21 ] || fail "MAC: ${lines[0]}"
	[ "${lines[1]}" = "inet 10.196.0.2/24" ] || fail "address: ${lines[1]}"
	[[ "${lines[2]}" == "default via 10.196.0.1 dev eth0"* ]] || fail "route: ${lines[2]}"
	[ "${lines[3]}" = ping-ok ] || fail "ping: ${lines[3]}"
}

# The taps and qdiscs went with the sandbox; the pod's veth stays (it is the caller's).
function check_net_clean() {
	! ip -n "$NS_POD" link show tap0_kata 2>/dev/null || fail "tap0_kata left"
	[ -z "$(ip netns exec "$NS_POD" tc qdisc show dev eth0 ingress)" ] || fail "ingress qdisc left on eth0"
}

@test "factory status and init without a factory (no VM)" {
	write_factory_config "$FACTORY_DIR/off.toml" "$FACTORY_DIR/none" false
	run "$KATA_RUNTIME" --kata-config "$FACTORY_DIR/off.toml" factory status
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "vm factory not enabled" ]
	run "$KATA_RUNTIME" --kata-config "$FACTORY_DIR/off.toml" factory init
	[ "$status" -eq 0 ]
	[ "$output" = "vm factory not enabled" ]
	[ ! -e "$FACTORY_DIR/none" ]
	run "$KATA_RUNTIME" --kata-config "$FACTORY_DIR/off.toml" factory bogus
	[ "$status" -ne 0 ]
	[[ "$output" == *'unknown subcommand "bogus"'* ]]
}

@test "factory init makes a template on a tmpfs; status shows it with its sizes" {
	ensure_template
	[[ "$output" == *"vm factory initialized"* ]]
	[ -f "$FACTORY_TPL/memory" ] && [ -f "$FACTORY_TPL/template.json" ]
	[ "$(stat -f -c %T "$FACTORY_TPL")" = tmpfs ]
	run "$KATA_RUNTIME" --kata-config "$FACTORY_CFG" factory status
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "vm factory is on" ]
	[[ "${lines[1]}" =~ ^template:\ $FACTORY_TPL:\ [0-9]+\ vCPUs,\ [0-9]+\ MiB\;\ memory\ file\ [0-9.]+\ MiB\ \([0-9.]+\ [KMG]iB\ in\ use\),\ device\ state\ [0-9.]+\ KiB$ ]]
	# init again: the template is kept
	run "$KATA_RUNTIME" --kata-config "$FACTORY_CFG" factory init
	[ "$status" -eq 0 ]
	[[ "$output" == *"vm template already exists in $FACTORY_TPL"* ]]
}

@test "containers run from the template: output, hostname and random pool per clone" {
	ensure_template
	setup_bundle sh -c 'hostname; head -c 16 /dev/urandom | od -An -x | tr -d " "; echo ok'
	run_clone c1 clone-one
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = clone-one ]
	[ "${lines[2]}" = ok ]
	rand1="${lines[1]}"
	[[ "$rand1" =~ ^[0-9a-f]{32}$ ]]
	grep -q "cloning the VM template in $FACTORY_TPL" "$LOG"
	grep -q "stage template-restored" "$LOG"
	! grep -q "falling back to a cold boot" "$LOG"

	run_clone c2 clone-two
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = clone-two ]
	[ "${lines[2]}" = ok ]
	[[ "${lines[1]}" =~ ^[0-9a-f]{32}$ ]]
	[ "${lines[1]}" != "$rand1" ]
	assert_root_clean
	assert_no_vm_process
}

@test "two clones at once: each its own hostname, the guest clock is the host's" {
	ensure_template
	setup_bundle sleep 1000
	update_config '.hostname = "par-a"'
	kata_runtime_detached --kata-config "$FACTORY_CFG" run -d --bundle "$BUNDLE" pa
	[ "$status" -eq 0 ]
	update_config '.hostname = "par-b"'
	kata_runtime_detached --kata-config "$FACTORY_CFG" run -d --bundle "$BUNDLE" pb
	[ "$status" -eq 0 ]
	kata_runtime exec pa hostname
	[ "$output" = par-a ]
	kata_runtime exec pb hostname
	[ "$output" = par-b ]
	kata_runtime exec pa date +%s
	[ "$status" -eq 0 ]
	now="$(date +%s)"
	[ $((now - output)) -lt 30 ] && [ $((output - now)) -lt 30 ]
}

@test "a corrupt template falls back to a cold boot with a warning" {
	ensure_template
	local bad="$FACTORY_DIR/bad"
	mkdir -p "$bad"
	cp "$FACTORY_TPL/template.json" "$bad/"
	truncate -s "$(stat -c %s "$FACTORY_TPL/memory")" "$bad/memory"
	head -c 65536 /dev/urandom >"$bad/state"
	write_factory_config "$FACTORY_DIR/bad.toml" "$bad"
	setup_bundle sh -c 'hostname; echo ok'
	run_clone cb cold-host "$FACTORY_DIR/bad.toml"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = cold-host ]
	[ "${lines[1]}" = ok ]
	grep -q 'level=warning msg="sandbox cb: cannot clone the VM template in `'"$bad"'`.*falling back to a cold boot' "$LOG"
	# a missing template: a warning, and a cold boot
	rm -f "$bad/state"
	run_clone cm cold-host2 "$FACTORY_DIR/bad.toml"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = cold-host2 ]
	grep -q "enable_template is set but there is no VM template in \`$bad\`" "$LOG"
	rm -rf "$bad"
}

@test "a networked sandbox from the template: its NIC is hot-plugged into the clone, the peer answers" {
	ensure_template
	setup_bundle sh -c "$NET_CMD"
	setup_pod_netns
	run_clone cn1 net-clone
	[ "$status" -eq 0 ]
	check_net_output
	grep -q "cloning the VM template in $FACTORY_TPL" "$LOG"
	grep -q "NIC nic-tap0_kata (02:4b:41:54:41:21, tap tap0_kata) hot-plugged" "$LOG"
	! grep -q "falling back to a cold boot" "$LOG"
	check_net_clean
	assert_root_clean
	assert_no_vm_process
}

@test "factory destroy removes the template and unmounts its tmpfs" {
	ensure_template
	run "$KATA_RUNTIME" --kata-config "$FACTORY_CFG" factory destroy
	[ "$status" -eq 0 ]
	[ "$output" = "vm factory destroyed" ]
	[ ! -e "$FACTORY_TPL" ]
	! grep -qF " $FACTORY_TPL " /proc/self/mounts
	run "$KATA_RUNTIME" --kata-config "$FACTORY_CFG" factory status
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "vm factory is off" ]
	[ "${lines[1]}" = "template: none in $FACTORY_TPL (sandboxes boot cold)" ]
	# destroy is idempotent
	run "$KATA_RUNTIME" --kata-config "$FACTORY_CFG" factory destroy
	[ "$status" -eq 0 ]
}

@test "vm cache: init starts the daemon, sandboxes take cached VMs, status and destroy" {
	local cfg="$FACTORY_DIR/cache.toml" ep="$FACTORY_DIR/cache.sock"
	write_factory_config "$cfg" "$FACTORY_DIR/no-template" false 1 "$ep"
	run "$KATA_RUNTIME" --kata-config "$cfg" factory init
	echo "$output" >&2
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "vm cache started: 1 VMs at $ep" ]
	[ "${lines[1]}" = "vm factory initialized" ]
	[ -S "$ep" ]
	run "$KATA_RUNTIME" --kata-config "$cfg" factory status
	echo "$output" >&2
	[ "${lines[0]}" = "vm factory is on" ]
	[[ "${lines[2]}" =~ ^cache:\ 1\ of\ 1\ VMs\ ready\ \(0\ starting\)\ at\ $ep,\ daemon\ pid\ [0-9]+$ ]]
	[[ "${lines[3]}" =~ ^\ \ vm[0-9]+:\ ready,\ QEMU\ pid\ [0-9]+,\ RSS\ [0-9.]+\ MiB$ ]]

	setup_bundle sh -c 'hostname; head -c 16 /dev/urandom | od -An -x | tr -d " "; echo ok'
	run_clone k1 cached-one "$cfg"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = cached-one ]
	[ "${lines[2]}" = ok ]
	rand1="${lines[1]}"
	grep -q "sandbox k1: took over the cached VM" "$LOG"
	assert_root_clean

	# the VM handed out is replaced in the background
	for i in $(seq 120); do
		run "$KATA_RUNTIME" --kata-config "$cfg" factory status
		[[ "${lines[2]}" == "cache: 1 of 1 VMs ready"* ]] && break
		sleep 1
	done
	[[ "${lines[2]}" == "cache: 1 of 1 VMs ready"* ]]
	run_clone k2 cached-two "$cfg"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = cached-two ]
	[ "${lines[1]}" != "$rand1" ]
	grep -q "sandbox k2: took over the cached VM" "$LOG"

	run "$KATA_RUNTIME" --kata-config "$cfg" factory destroy
	[ "$status" -eq 0 ]
	[ "$output" = "vm factory destroyed" ]
	[ ! -e "$ep" ] && [ ! -e "$ep.d" ]
	sleep 1
	[ -z "$(pgrep -f -- "$ep.d" || true)" ]
	run "$KATA_RUNTIME" --kata-config "$cfg" factory status
	[ "${lines[0]}" = "vm factory is off" ]
	[ "${lines[2]}" = "cache: not running (vm_cache_number = 1, endpoint $ep)" ]

	# no daemon: a warning, and the sandbox boots its own VM
	run_clone k3 cold-three "$cfg"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = cold-three ]
	grep -q "sandbox k3: no VM from the VM cache at \`$ep\`" "$LOG"
}

@test "vm cache: a networked sandbox takes a cached VM, its NIC hot-plugged; the peer answers" {
	local cfg="$FACTORY_DIR/cache-net.toml" ep="$FACTORY_DIR/cache-net.sock"
	write_factory_config "$cfg" "$FACTORY_DIR/no-template" false 1 "$ep"
	cp "$cfg" "$FACTORY_DIR/cache.toml" # teardown_file destroys it whatever happens
	run "$KATA_RUNTIME" --kata-config "$cfg" factory init
	echo "$output" >&2
	[ "$status" -eq 0 ]
	setup_bundle sh -c "$NET_CMD"
	setup_pod_netns
	run_clone kn1 net-cached "$cfg"
	[ "$status" -eq 0 ]
	check_net_output
	grep -q "sandbox kn1: took over the cached VM" "$LOG"
	grep -q "NIC nic-tap0_kata (02:4b:41:54:41:21, tap tap0_kata) hot-plugged" "$LOG"
	check_net_clean
	assert_root_clean
	run "$KATA_RUNTIME" --kata-config "$cfg" factory destroy
	[ "$status" -eq 0 ]
	[ ! -e "$ep" ] && [ ! -e "$ep.d" ]
}
