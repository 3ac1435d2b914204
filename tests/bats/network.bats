#!/usr/bin/env bats
# Networking with a real VM (tcfilter model, docs/network.md).
#
# Every test makes its own network namespaces (ip netns, names unique to the
# run); the host's own network is never touched.  The pod's netns holds eth0
# (10.199.0.2/24, a fixed MAC, MTU 1400) whose veth peer "peer0"
# (10.199.0.1/24) lives in a second netns, the "peer".

load helpers-vm
# Sandboxes boot cold, not from the run's VM template (docs/factory.md "Tests"):
# the NICs on QEMU's command line at boot are the subject (a clone gets them hot-plugged).

POD_IP=10.199.0.2
PEER_IP=10.199.0.1
POD_MAC=02:4b:41:54:41:02

function setup() {
	requires_for_test
	command -v ip >/dev/null || skip "test requires ip (iproute2)"
	command -v tc >/dev/null || skip "test requires tc (iproute2)"
	NS_POD="kbats-pod-$$-${BATS_TEST_NUMBER}"
	NS_PEER="kbats-peer-$$-${BATS_TEST_NUMBER}"
	NS_EMPTY="kbats-empty-$$-${BATS_TEST_NUMBER}"
	ip netns add "$NS_POD"
	ip netns add "$NS_PEER"
	ip netns add "$NS_EMPTY"
	ip -n "$NS_POD" link set lo up
	ip -n "$NS_PEER" link set lo up
	ip -n "$NS_POD" link add eth0 type veth peer name peer0 netns "$NS_PEER"
	ip -n "$NS_POD" link set eth0 address "$POD_MAC" mtu 1400 up
	ip -n "$NS_POD" addr add "$POD_IP/24" dev eth0
	ip -n "$NS_POD" route add default via "$PEER_IP"
	ip -n "$NS_PEER" link set peer0 mtu 1400 up
	ip -n "$NS_PEER" addr add "$PEER_IP/24" dev peer0
	setup_bundle sleep 1000
	use_netns "$NS_POD"
	# busybox ping needs a raw socket
	update_config '.process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])'
}

function teardown() {
	teardown_bundle
	ip netns del "$NS_POD" 2>/dev/null || true
	ip netns del "$NS_PEER" 2>/dev/null || true
	ip netns del "$NS_EMPTY" 2>/dev/null || true
}

# Points the spec's network namespace at /run/netns/NAME.
function use_netns() {
	update_config --arg p "/run/netns/$1" \
		'.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network", "path": $p}])'
}

# Interfaces the guest shows, one per line, sorted; tunnel devices that a
# kernel makes by itself in every netns (sit0, tunl0, ...) are left out.
function guest_links() {
	kata_runtime exec "$1" cat /proc/net/dev
	[ "$status" -eq 0 ] || fail "cat /proc/net/dev failed: $output"
	echo "$output" | awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' |
		grep -Ev '^(sit|tunl|ip6tnl|ip_vti|ip6_vti|gre|gretap|erspan|ip6gre)[0-9]+$' | sort
}

# Skips when the runtime does not wire networking yet: QEMU was given no
# -netdev and the guest has no eth0.  Once QEMU has a netdev, a missing eth0
# is a failure, not a skip.
function require_wired() {
	local qpid links
	qpid="$(sandbox_value "$1" qemu_pid)"
	links="$(guest_links "$1")"
	if [[ "$links" != *eth0* ]]; then
		if ! tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -q -- '-netdev'; then
			skip "network not wired into the monitor yet"
		fi
		fail "QEMU has a netdev but the guest shows no eth0: $links"
	fi
}

# Nothing of ours is left in the pod's netns: no tap, no ingress qdisc, no filter.
function assert_netns_clean() {
	local links qd flt
	links="$(ip -n "$NS_POD" -o link show)"
	[[ "$links" != *_kata* ]] || fail "taps left: $links"
	qd="$(tc -n "$NS_POD" qdisc show dev eth0 ingress)"
	[ -z "$qd" ] || fail "ingress qdisc left on eth0: $qd"
	flt="$(tc -n "$NS_POD" filter show dev eth0 ingress 2>/dev/null || true)"
	[ -z "$flt" ] || fail "filters left on eth0: $flt"
	# the veth itself stays, with its address
	ip -n "$NS_POD" -o addr show dev eth0 | grep -q "$POD_IP/24" || fail "eth0 lost its address"
}

@test "the guest interface takes the veth's MAC, MTU, address and routes" {
	kata_runtime_detached run -d --bundle "$BUNDLE" net1
	[ "$status" -eq 0 ]
	require_wired net1
	[ "$(guest_links net1)" = "$(printf 'eth0\nlo')" ]
	kata_runtime exec net1 cat /sys/class/net/eth0/address
	[ "$status" -eq 0 ]
	[ "$output" = "$POD_MAC" ]
	kata_runtime exec net1 cat /sys/class/net/eth0/mtu
	[ "$output" = 1400 ]
	kata_runtime exec net1 ip -o -4 addr show dev eth0
	[ "$status" -eq 0 ]
	[[ "$output" == *"inet $POD_IP/24"* ]]
	kata_runtime exec net1 ip route show default
	[ "$status" -eq 0 ]
	[[ "$output" == *"default via $PEER_IP dev eth0"* ]]
	# the host side: one tap, both ingress qdiscs
	ip -n "$NS_POD" -o link show tap0_kata
	tc -n "$NS_POD" qdisc show dev eth0 ingress | grep -q ingress
	tc -n "$NS_POD" qdisc show dev tap0_kata ingress | grep -q ingress
	tc -n "$NS_POD" filter show dev eth0 ingress | grep -q 'Egress Redirect to device tap0_kata'
	tc -n "$NS_POD" filter show dev tap0_kata ingress | grep -q 'Egress Redirect to device eth0'
}

@test "the container pings the peer" {
	kata_runtime_detached run -d --bundle "$BUNDLE" net2
	[ "$status" -eq 0 ]
	require_wired net2
	kata_runtime exec net2 ping -c 3 -W 10 "$PEER_IP"
	[ "$status" -eq 0 ]
	[[ "$output" == *"3 packets transmitted, 3 packets received"* ]]
	# and the peer pings the container (the guest answers, not the host netns)
	run ip netns exec "$NS_PEER" "$BUSYBOX" ping -c 2 -W 10 "$POD_IP"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 packets transmitted, 2 packets received"* ]]
}

@test "a server in the container is reached from the peer" {
	mkdir -p "$BUNDLE/rootfs/www"
	echo "hello from the guest" >"$BUNDLE/rootfs/www/index.html"
	update_config '.process.args = ["httpd", "-f", "-p", "8080", "-h", "/www"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" net3
	[ "$status" -eq 0 ]
	require_wired net3
	local i got=""
	for ((i = 0; i < 30; i++)); do
		# (busybox wget -T crashes in some builds: time it out from outside)
		got="$(timeout 10 ip netns exec "$NS_PEER" "$BUSYBOX" wget -q -O - "http://$POD_IP:8080/index.html" 2>/dev/null || true)"
		[ -n "$got" ] && break
		sleep 1
	done
	[ "$got" = "hello from the guest" ]
}

@test "an empty network namespace: the guest has only lo" {
	use_netns "$NS_EMPTY"
	kata_runtime_detached run -d --bundle "$BUNDLE" net4
	[ "$status" -eq 0 ]
	[ "$(guest_links net4)" = lo ]
	kata_runtime exec net4 ip route show
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$(ip -n "$NS_EMPTY" -o link show | grep -v ': lo:')" ]
}

@test "internetworking_model none: the guest has only lo, the netns is untouched" {
	local cfg
	cfg="$("$KATA_RUNTIME" kata-env --json | "$JQ" -r .Runtime.Config.Path)"
	[ -r "$cfg" ] || skip "no configuration file to derive from"
	sed -e '/^internetworking_model/d' -e 's/^\[runtime\]$/[runtime]\ninternetworking_model = "none"/' \
		"$cfg" >"$BUNDLE/none.toml"
	grep -q '^\[runtime\]' "$BUNDLE/none.toml" || printf '[runtime]\ninternetworking_model = "none"\n' >>"$BUNDLE/none.toml"
	KATA_CONF_FILE="$BUNDLE/none.toml" kata_runtime_detached run -d --bundle "$BUNDLE" net5
	[ "$status" -eq 0 ]
	[ "$(guest_links net5)" = lo ]
	[[ "$(ip -n "$NS_POD" -o link show)" != *_kata* ]]
	[ -z "$(tc -n "$NS_POD" qdisc show dev eth0 ingress)" ]
	KATA_CONF_FILE="$BUNDLE/none.toml" kata_runtime delete --force net5
	[ "$status" -eq 0 ]
}

@test "delete leaves no tap, qdisc or filter" {
	kata_runtime_detached run -d --bundle "$BUNDLE" net6
	[ "$status" -eq 0 ]
	require_wired net6
	ip -n "$NS_POD" -o link show tap0_kata
	kata_runtime delete --force net6
	[ "$status" -eq 0 ]
	assert_netns_clean
}

@test "after QEMU is killed, delete still cleans the netns" {
	kata_runtime_detached run -d --bundle "$BUNDLE" net7
	[ "$status" -eq 0 ]
	require_wired net7
	local qpid mpid
	qpid="$(sandbox_value net7 qemu_pid)"
	mpid="$(sandbox_value net7 monitor_pid)"
	kill -9 "$mpid" "$qpid"
	kata_runtime delete --force net7
	[ "$status" -eq 0 ]
	assert_netns_clean
}
