#!/usr/bin/env bats
# A network namespace the runtime makes, filled by a prestart hook: docker's
# flow (docs/network.md "A network namespace without a path").  docker asks for
# a new netns without a path and configures it from its libnetwork-setkey
# prestart hook, which moves the veth into /proc/<state.pid>/ns/net.  The hook
# here does the same with ip(8): it reads the pid from the state on its stdin,
# moves one end of a veth pair into that pid's netns and configures it.
#
# Every namespace is made by the test (names unique to the run): the peer's
# netns holds peer0 (10.198.0.1/24).

load helpers-vm

# The boot is not under test here: sandboxes are clones of the run's VM template
# (helpers-vm.bash use_vm_template, docs/factory.md "Tests").
function setup_file() {
	use_vm_template
}

function teardown_file() {
	release_vm_template
}

POD_IP=10.198.0.2
PEER_IP=10.198.0.1
POD_MAC=02:4b:41:54:41:12

function setup() {
	requires_for_test
	command -v ip >/dev/null || skip "test requires ip (iproute2)"
	command -v nsenter >/dev/null || skip "test requires nsenter (util-linux)"
	NS_PEER="kbats-hpeer-$$-${BATS_TEST_NUMBER}"
	ip netns add "$NS_PEER"
	ip -n "$NS_PEER" link set lo up
	setup_bundle sleep 1000
	setup_root
	# a network namespace without a path: the runtime's to make
	update_config '.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network"}])'
	update_config '.process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])'
	write_hook "$BUNDLE/setkey.sh"
}

function teardown() {
	teardown_bundle
	ip netns del "$NS_PEER" 2>/dev/null || true
	[ -z "${NS_POD:-}" ] || ip netns del "$NS_POD" 2>/dev/null || true
}

# The prestart hook: what libnetwork-setkey does, with ip(8).  It records the
# pid it got and that pid's netns (inode) for the test.
function write_hook() {
	cat >"$1" <<EOF
#!/bin/sh
set -e
pid=\$(jq -r .pid)
echo "\$pid" >"$BUNDLE/hook.pid"
stat -L -c %i "/proc/\$pid/ns/net" >"$BUNDLE/hook.netns"
ip -n "$NS_PEER" link add peer0 type veth peer name eth0 netns "\$pid"
ip -n "$NS_PEER" link set peer0 up
ip -n "$NS_PEER" addr add $PEER_IP/24 dev peer0
nsenter --net="/proc/\$pid/ns/net" sh -c 'ip link set eth0 address $POD_MAC up &&
	ip addr add $POD_IP/24 dev eth0 && ip route add default via $PEER_IP'
EOF
	chmod +x "$1"
}

function add_prestart() { # PATH [TIMEOUT]
	if [ -n "${2:-}" ]; then
		update_config --arg p "$1" --argjson t "$2" '.hooks.prestart += [{"path": $p, "args": [$p], "timeout": $t}]'
	else
		update_config --arg p "$1" '.hooks.prestart += [{"path": $p, "args": [$p]}]'
	fi
}

# Nothing of the run is left: no file or mount under $ROOT (the netns the
# runtime made is a bind mount there), no VM process.
function assert_all_gone() {
	assert_root_clean
	assert_no_vm_process
	[ ! -e "$ROOT/netns" ] || fail "netns dir left: $(ls -la "$ROOT/netns")"
}

@test "a spec without a netns path: the runtime makes one, the prestart hook fills it before the scan" {
	add_prestart "$BUNDLE/setkey.sh"
	kata_runtime_detached run -d --bundle "$BUNDLE" dk1
	[ "$status" -eq 0 ]
	# the hook got a pid whose netns is the one the runtime made under --root
	[ -e "$ROOT/netns/dk1" ]
	[ "$(cat "$BUNDLE/hook.netns")" = "$(stat -L -c %i "$ROOT/netns/dk1")" ]
	# the container's pid (the shim's) lives in it too, as runc's init would
	local pid
	pid="$(state_pid dk1)"
	[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "$ROOT/netns/dk1")" ]
	# and QEMU, which opens the tap by name
	[ "$(stat -L -c %i "/proc/$(sandbox_value dk1 qemu_pid)/ns/net")" = "$(stat -L -c %i "$ROOT/netns/dk1")" ]
	# the guest got what the hook configured
	kata_runtime exec dk1 cat /sys/class/net/eth0/address
	[ "$status" -eq 0 ]
	[ "$output" = "$POD_MAC" ]
	kata_runtime exec dk1 ip -o -4 addr show dev eth0
	[[ "$output" == *"inet $POD_IP/24"* ]]
	kata_runtime exec dk1 ip route show default
	[[ "$output" == *"default via $PEER_IP dev eth0"* ]]
	kata_runtime exec dk1 ping -c 2 -W 10 "$PEER_IP"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 packets transmitted, 2 packets received"* ]]
	kata_runtime delete --force dk1
	[ "$status" -eq 0 ]
	assert_all_gone
	# the netns went with it: so did the veth pair
	! ip -n "$NS_PEER" link show peer0 2>/dev/null || fail "peer0 outlived the netns"
}

@test "no prestart hook: an empty netns of the runtime's, the guest has only lo" {
	kata_runtime_detached run -d --bundle "$BUNDLE" dk2
	[ "$status" -eq 0 ]
	[ -e "$ROOT/netns/dk2" ]
	kata_runtime exec dk2 cat /proc/net/dev
	[ "$status" -eq 0 ]
	[[ "$output" != *eth0* ]]
	kata_runtime delete dk2
	[ "$status" -ne 0 ] # running: runc refuses a plain delete
	kata_runtime kill dk2 KILL
	wait_for_container 30 1 dk2 stopped
	kata_runtime delete dk2
	[ "$status" -eq 0 ]
	assert_all_gone
}

# What `ctr run --cni` does: CNI runs on /proc/<task pid>/ns/net after create and
# before start.  Here ip(8) plays CNI: a veth into the container's netns (by the
# state's pid, as ctr does), configured there.
function cni_add() { # ID IFNAME MAC IP/PREFIX GATEWAY PEERNAME PEERIP/PREFIX
	local pid
	pid="$(state_pid "$1")"
	ip -n "$NS_PEER" link add "$6" type veth peer name "$2" netns "$pid"
	ip -n "$NS_PEER" link set "$6" up
	ip -n "$NS_PEER" addr add "$7" dev "$6"
	nsenter --net="/proc/$pid/ns/net" sh -c "ip link set $2 address $3 up && ip addr add $4 dev $2 &&
		{ [ -z '$5' ] || ip route add default via $5; }"
}

@test "interfaces added to the netns between create and start (ctr run --cni) are hot-plugged at start" {
	kata_runtime_detached create --bundle "$BUNDLE" dk10
	[ "$status" -eq 0 ]
	[ -e "$ROOT/netns/dk10" ]
	# the VM booted without a NIC: nothing was configured yet
	"$JQ" -e '.interfaces == [] and .taps == []' "$ROOT/sbs/dk10/network.json"
	cni_add dk10 eth0 "$POD_MAC" "$POD_IP/24" "$PEER_IP" peer0 "$PEER_IP/24"
	# a second one, without a gateway, as a second CNI network would add
	cni_add dk10 net1 02:4b:41:54:41:13 10.197.0.2/24 "" peer1 10.197.0.1/24
	kata_runtime start dk10
	[ "$status" -eq 0 ]
	# recorded before anything was made: delete finds them
	"$JQ" -e '[.interfaces[].name] == ["eth0", "net1"] and .taps == ["tap0_kata", "tap1_kata"]' \
		"$ROOT/sbs/dk10/network.json"
	# wired as at create: tap + ingress redirect both ways
	nsenter --net="$ROOT/netns/dk10" tc filter show dev eth0 ingress | grep -q "Egress Redirect to device tap0_kata"
	nsenter --net="$ROOT/netns/dk10" tc filter show dev net1 ingress | grep -q "Egress Redirect to device tap1_kata"
	# the guest has both, by MAC, with their addresses and the default route
	kata_runtime exec dk10 cat /sys/class/net/eth0/address
	[ "$status" -eq 0 ]
	[ "$output" = "$POD_MAC" ]
	kata_runtime exec dk10 cat /sys/class/net/net1/address
	[ "$output" = "02:4b:41:54:41:13" ]
	kata_runtime exec dk10 ip -o -4 addr show dev eth0
	[[ "$output" == *"inet $POD_IP/24"* ]]
	kata_runtime exec dk10 ip -o -4 addr show dev net1
	[[ "$output" == *"inet 10.197.0.2/24"* ]]
	kata_runtime exec dk10 ip route show default
	[[ "$output" == *"default via $PEER_IP dev eth0"* ]]
	kata_runtime exec dk10 ping -c 2 -W 10 "$PEER_IP"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 packets transmitted, 2 packets received"* ]]
	kata_runtime exec dk10 ping -c 1 -W 10 10.197.0.1
	[ "$status" -eq 0 ]
	# and the peer reaches the guest
	nsenter --net="/run/netns/$NS_PEER" busybox ping -c 1 -W 10 "$POD_IP"
	kata_runtime delete --force dk10
	[ "$status" -eq 0 ]
	assert_all_gone
	! ip -n "$NS_PEER" link show peer0 2>/dev/null || fail "peer0 outlived the netns"
}

@test "a NIC hot-plug that fails at start fails it with the cause; delete --force cleans up" {
	kata_runtime_detached create --bundle "$BUNDLE" dk11
	[ "$status" -eq 0 ]
	cni_add dk11 eth0 "$POD_MAC" "$POD_IP/24" "$PEER_IP" peer0 "$PEER_IP/24"
	# a device that is not a tap holds the name the tap would get
	nsenter --net="$ROOT/netns/dk11" ip link add tap0_kata type veth peer name tapx
	kata_runtime start dk11
	[ "$status" -ne 0 ]
	[[ "$output" == *"sandbox dk11"*"network hot-plug"*"tap0_kata"* ]]
	# nothing was recorded as wired, the container is still created
	"$JQ" -e '.interfaces == []' "$ROOT/sbs/dk11/network.json"
	[ "$(container_status dk11)" = "created" ]
	kata_runtime delete --force dk11
	[ "$status" -eq 0 ]
	assert_all_gone
	! ip -n "$NS_PEER" link show peer0 2>/dev/null || fail "peer0 outlived the netns"
}

@test "a netns path of the caller's, configured between create and start: delete removes the hot-plugged tap and qdisc" {
	NS_POD="kbats-hpod-$$-${BATS_TEST_NUMBER}"
	ip netns add "$NS_POD"
	update_config --arg p "/run/netns/$NS_POD" \
		'.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network", "path": $p}])'
	kata_runtime_detached create --bundle "$BUNDLE" dk12
	[ "$status" -eq 0 ]
	cni_add dk12 eth0 "$POD_MAC" "$POD_IP/24" "$PEER_IP" peer0 "$PEER_IP/24"
	kata_runtime start dk12
	[ "$status" -eq 0 ]
	kata_runtime exec dk12 ping -c 1 -W 10 "$PEER_IP"
	[ "$status" -eq 0 ]
	ip -n "$NS_POD" link show tap0_kata
	[ -n "$(ip netns exec "$NS_POD" tc qdisc show dev eth0 ingress)" ]
	kata_runtime delete --force dk12
	[ "$status" -eq 0 ]
	assert_root_clean
	assert_no_vm_process
	# the caller's netns and veth stay; what the runtime added is gone
	ip -n "$NS_POD" link show eth0
	! ip -n "$NS_POD" link show tap0_kata 2>/dev/null || fail "tap0_kata left"
	[ -z "$(ip netns exec "$NS_POD" tc qdisc show dev eth0 ingress)" ] || fail "ingress qdisc left on eth0"
	ip netns del "$NS_POD"
}

@test "microvm cannot hot-plug: start fails with the reason, delete --force cleans up" {
	[ -r /usr/share/kata-containers/vmlinux.container ] || skip "no microvm kernel"
	local cfg
	cfg="$("$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.Config.Path)"
	sed -e 's/^machine_type = .*/machine_type = "microvm"/' "$cfg" >"$BUNDLE/microvm.toml"
	KATA_CONF_FILE="$BUNDLE/microvm.toml" kata_runtime_detached create --bundle "$BUNDLE" dk13
	[ "$status" -eq 0 ]
	cni_add dk13 eth0 "$POD_MAC" "$POD_IP/24" "$PEER_IP" peer0 "$PEER_IP/24"
	KATA_CONF_FILE="$BUNDLE/microvm.toml" kata_runtime start dk13
	[ "$status" -ne 0 ]
	[[ "$output" == *"sandbox dk13: hot-plug interface eth0"*'machine_type "microvm" has no hot-plug'* ]]
	[ "$(container_status dk13)" = "created" ]
	KATA_CONF_FILE="$BUNDLE/microvm.toml" kata_runtime delete --force dk13
	[ "$status" -eq 0 ]
	assert_all_gone
}

@test "a failing prestart hook fails create with its stderr and leaves nothing (no VM)" {
	printf '#!/bin/sh\necho "setkey: no such sandbox" >&2\nexit 3\n' >"$BUNDLE/bad.sh"
	chmod +x "$BUNDLE/bad.sh"
	add_prestart "$BUNDLE/bad.sh"
	kata_runtime create --bundle "$BUNDLE" dk3
	[ "$status" -eq 1 ]
	[[ "$output" == *"prestart hook"*"exit status 3"*"setkey: no such sandbox"* ]]
	kata_runtime state dk3
	[ "$status" -ne 0 ]
	assert_all_gone
}

@test "a prestart hook that hangs is killed after its timeout, nothing is left (no VM)" {
	printf '#!/bin/sh\necho waiting >&2\nexec sleep 600\n' >"$BUNDLE/hang.sh"
	chmod +x "$BUNDLE/hang.sh"
	add_prestart "$BUNDLE/hang.sh" 2
	kata_runtime create --bundle "$BUNDLE" dk4
	[ "$status" -eq 1 ]
	[[ "$output" == *"prestart hook"*"timed out after 2 s"* ]]
	! pgrep -f "$BUNDLE/hang.sh" || fail "the hook is still running"
	assert_all_gone
}

@test "internetworking_model none with interfaces from the hook: a clear error, nothing left (no VM)" {
	local cfg
	cfg="$("$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.Config.Path)"
	[ -r "$cfg" ] || fail "no configuration file to derive from"
	sed -e '/^internetworking_model/d' -e 's/^\[runtime\]$/[runtime]\ninternetworking_model = "none"/' \
		"$cfg" >"$BUNDLE/none.toml"
	grep -q '^internetworking_model = "none"' "$BUNDLE/none.toml" ||
		printf '[runtime]\ninternetworking_model = "none"\n' >>"$BUNDLE/none.toml"
	add_prestart "$BUNDLE/setkey.sh"
	KATA_CONF_FILE="$BUNDLE/none.toml" kata_runtime create --bundle "$BUNDLE" dk5
	[ "$status" -eq 1 ]
	[[ "$output" == *'interface `eth0`'*'internetworking_model is "none"'* ]]
	assert_all_gone
}

@test "a netns path that does not exist: a clear error, nothing left (no VM)" {
	update_config '.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network", "path": "/run/netns/kbats-no-such-netns"}])'
	kata_runtime create --bundle "$BUNDLE" dk6
	[ "$status" -eq 1 ]
	[[ "$output" == *"/run/netns/kbats-no-such-netns"*"No such file or directory"* ]]
	assert_all_gone
}

@test "a second sandbox in the first one's netns (docker --network container:) is refused; the first keeps working" {
	add_prestart "$BUNDLE/setkey.sh"
	kata_runtime_detached run -d --bundle "$BUNDLE" dk7
	[ "$status" -eq 0 ]
	local pid
	pid="$(state_pid dk7)"
	cp "$BUNDLE/config.json" "$BUNDLE/config.first.json"
	update_config --arg p "/proc/$pid/ns/net" \
		'del(.hooks) | .linux.namespaces |= (map(select(.type != "network")) + [{"type": "network", "path": $p}])'
	kata_runtime create --bundle "$BUNDLE" dk7b
	[ "$status" -eq 1 ]
	[[ "$output" == *"already carries another kata sandbox's VM (tap0_kata)"* ]]
	kata_runtime state dk7b
	[ "$status" -ne 0 ]
	# the first sandbox's wiring is untouched
	kata_runtime exec dk7 ping -c 1 -W 10 "$PEER_IP"
	[ "$status" -eq 0 ]
	kata_runtime delete --force dk7
	[ "$status" -eq 0 ]
	assert_all_gone
}

@test "after QEMU and the monitor are killed, delete --force removes the netns the runtime made" {
	add_prestart "$BUNDLE/setkey.sh"
	kata_runtime_detached run -d --bundle "$BUNDLE" dk8
	[ "$status" -eq 0 ]
	[ -e "$ROOT/netns/dk8" ]
	kill -9 "$(sandbox_value dk8 monitor_pid)" "$(sandbox_value dk8 qemu_pid)"
	kata_runtime delete --force dk8
	[ "$status" -eq 0 ]
	assert_all_gone
	! ip -n "$NS_PEER" link show peer0 2>/dev/null || fail "peer0 outlived the netns"
}

@test "DNS: a resolver on the netns' loopback (docker's embedded DNS) answers the guest through the relay" {
	[ -x /usr/bin/python3 ] || fail "python3 is needed for the test's DNS server"
	# the hook also starts a DNS server on 127.0.0.11:53 inside the runtime's netns,
	# as dockerd does for user-defined networks
	cat >>"$BUNDLE/setkey.sh" <<EOF2
nsenter --net="/proc/\$pid/ns/net" /usr/bin/python3 "$BATS_TEST_DIRNAME/data/tiny-dns.py" 127.0.0.11 10.1.2.3 "$BUNDLE/dns.pid" </dev/null >/dev/null 2>&1 &
i=0; while [ ! -s "$BUNDLE/dns.pid" ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done
EOF2
	add_prestart "$BUNDLE/setkey.sh"
	printf 'nameserver 127.0.0.11\noptions ndots:0\n' >"$BUNDLE/resolv.conf"
	update_config --arg s "$BUNDLE/resolv.conf" \
		'.mounts += [{"destination": "/etc/resolv.conf", "type": "bind", "source": $s, "options": ["rbind", "ro"]}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" dk9
	[ "$status" -eq 0 ]
	[ -s "$BUNDLE/dns.pid" ]
	kata_runtime exec dk9 nslookup web.example
	echo "nslookup: $output" >&2
	kill "$(cat "$BUNDLE/dns.pid")" 2>/dev/null || true
	[ "$status" -eq 0 ]
	[[ "$output" == *"10.1.2.3"* ]]
	kata_runtime delete --force dk9
	[ "$status" -eq 0 ]
	assert_all_gone
}

@test "DNS: without a loopback resolver in resolv.conf the guest has no relay" {
	add_prestart "$BUNDLE/setkey.sh"
	printf 'nameserver %s\n' "$PEER_IP" >"$BUNDLE/resolv.conf"
	update_config --arg s "$BUNDLE/resolv.conf" \
		'.mounts += [{"destination": "/etc/resolv.conf", "type": "bind", "source": $s, "options": ["rbind", "ro"]}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" dk10
	[ "$status" -eq 0 ]
	kata_runtime exec dk10 cat /proc/net/udp
	[ "$status" -eq 0 ]
	# 127.0.0.11:53 is 0B00007F:0035 in /proc/net/udp
	[[ "$output" != *"0B00007F:0035"* ]]
	kata_runtime delete --force dk10
	[ "$status" -eq 0 ]
}

@test "host networking (the netns path is the runtime's own) is refused, nothing touched (no VM)" {
	local before
	before="$(ip -o link show | sort; tc qdisc show | sort)"
	# docker --network host names dockerd's own netns (/var/run/docker/netns/default)
	update_config --arg p "/proc/$$/ns/net" '.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network", "path": $p}])'
	kata_runtime create --bundle "$BUNDLE" dk11
	[ "$status" -eq 1 ]
	[[ "$output" == *"is the host's (host networking was requested)"* ]]
	assert_all_gone
	[ "$(ip -o link show | sort; tc qdisc show | sort)" = "$before" ]
}

@test "hook state: prestart gets status creating and a pid in the container's netns, poststart the container's pid" {
	cat >"$BUNDLE/record.sh" <<EOF2
#!/bin/sh
st=\$(cat)
pid=\$(echo "\$st" | jq -r .pid)
echo "\$st" >"$BUNDLE/\$1.json"
stat -L -c %i "/proc/\$pid/ns/net" >"$BUNDLE/\$1.netns"
EOF2
	chmod +x "$BUNDLE/record.sh"
	update_config --arg p "$BUNDLE/record.sh" '.hooks.prestart = [{"path": $p, "args": [$p, "prestart"]}]
		| .hooks.createRuntime = [{"path": $p, "args": [$p, "createRuntime"]}]
		| .hooks.poststart = [{"path": $p, "args": [$p, "poststart"]}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" dk12
	[ "$status" -eq 0 ]
	local netns pid
	netns="$(stat -L -c %i "$ROOT/netns/dk12")"
	pid="$(state_pid dk12)"
	for h in prestart createRuntime; do
		[ "$(jq -r .status "$BUNDLE/$h.json")" = creating ]
		[ "$(jq -r .id "$BUNDLE/$h.json")" = dk12 ]
		[ "$(jq -r .bundle "$BUNDLE/$h.json")" = "$BUNDLE" ]
		[ "$(jq -r .pid "$BUNDLE/$h.json")" -gt 0 ]
		[ "$(cat "$BUNDLE/$h.netns")" = "$netns" ]
	done
	[ "$(jq -r .status "$BUNDLE/poststart.json")" = running ]
	[ "$(jq -r .pid "$BUNDLE/poststart.json")" = "$pid" ]
	[ "$(cat "$BUNDLE/poststart.netns")" = "$netns" ]
	kata_runtime delete --force dk12
	[ "$status" -eq 0 ]
	assert_all_gone
}
