#!/usr/bin/env bats
# The image guest (docs/guest.md): a disk image with systemd as init, set with
# `image =` in configuration.toml instead of `initrd =`.
#
# The configuration errors run with any configuration.  The VM cases need the
# configured guest to be an image (they skip otherwise): run them through
# tests/bats/run-image-guest.sh, which builds or finds the image and points
# KATA_CONF_FILE at a configuration with `image =`.

load helpers
# Sandboxes boot cold, not from the run's VM template (docs/factory.md "Tests"):
# the image guest's boot is the subject.

# the parameters Kata 1.x's katautils adds for an image (needSystemd)
SEED_SYSTEMD_PARAMS="systemd.mask=systemd-networkd.service
systemd.mask=systemd-networkd.socket
systemd.unit=kata-containers.target"

function setup() {
	requires root
}

function teardown() {
	teardown_bundle
}

function requires_image_guest() {
	requires qemu guest busybox jq
	local flavour
	flavour="$("$KATA_RUNTIME" kata-env --json | "$JQ" -r '.Guest.Flavour')"
	[ "$flavour" = image ] || skip "the configured guest is an $flavour (run tests/bats/run-image-guest.sh)"
}

# A container sharing the guest's PID namespace, allowed to look at PID 1's
# root (/proc/1/root: the guest's filesystems, seen from the container).
function setup_guest_view() {
	setup_bundle
	# (setup_bundle's arguments are one per line: the script goes in through --arg)
	update_config --arg script "$1" '.process.args = ["sh", "-c", $script]
		| .linux.namespaces |= map(select(.type != "pid"))
		| .process.capabilities.bounding += ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_CHROOT"]
		| .process.capabilities.effective += ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_CHROOT"]
		| .process.capabilities.permitted += ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_CHROOT"]'
}

# A configuration.toml holding only [hypervisor.qemu] with the lines given.
function write_conf() {
	local conf="$1"
	shift
	{
		echo "[hypervisor.qemu]"
		echo "kernel = \"$(guest_config_value kernel /usr/share/kata-containers/vmlinuz.container)\""
		printf '%s\n' "$@"
	} >"$conf"
}

# Nothing of sandbox ID left: no state, no VM dir, no QEMU.
function assert_nothing_left() {
	local id="$1"
	run "$KATA_RUNTIME" --root "$ROOT" list -q
	[ -z "$output" ] || fail "containers left: $output"
	[ ! -e "$ROOT/$id" ] || fail "state dir $ROOT/$id left"
	[ ! -e "$ROOT/vm/$id" ] || fail "VM dir $ROOT/vm/$id left"
	! pgrep -f "qemu-system.*sandbox-$id" >/dev/null || fail "QEMU of $id still running"
}

@test "image guest: image and initrd both set, a missing image, a file that is not a disk: clear errors, nothing left" {
	requires busybox jq
	setup_bundle true
	local dir="$BUNDLE/conf"
	mkdir -p "$dir"
	head -c 1048576 /dev/zero >"$dir/zero.img"

	write_conf "$dir/both.toml" 'initrd = "/usr/share/kata-containers/kata-containers-initrd.img"' \
		"image = \"$dir/zero.img\""
	KATA_CONF_FILE="$dir/both.toml" kata_runtime run --bundle "$BUNDLE" gi-both
	[ "$status" -ne 0 ]
	[[ "$output" == *'both.toml:4:9: hypervisor.qemu: `image` and `initrd` are both set'* ]]
	assert_nothing_left gi-both

	write_conf "$dir/missing.toml" "image = \"$dir/nonexistent.img\""
	KATA_CONF_FILE="$dir/missing.toml" kata_runtime run --bundle "$BUNDLE" gi-missing
	[ "$status" -ne 0 ]
	[[ "$output" == *"hypervisor.qemu.image \`$dir/nonexistent.img\`: No such file or directory"* ]]
	assert_nothing_left gi-missing

	write_conf "$dir/zero.toml" "image = \"$dir/zero.img\""
	KATA_CONF_FILE="$dir/zero.toml" kata_runtime run --bundle "$BUNDLE" gi-zero
	[ "$status" -ne 0 ]
	[[ "$output" == *"hypervisor.qemu.image \`$dir/zero.img\`: not a disk image"* ]]
	assert_nothing_left gi-zero

	# kata-check and kata-env say so too
	KATA_CONF_FILE="$dir/zero.toml" kata_runtime kata-check
	[ "$status" -ne 0 ]
	[[ "$output" == *"INFO: guest: image"* ]]
	[[ "$output" == *"FAIL: guest image: hypervisor.qemu.image \`$dir/zero.img\`: not a disk image"* ]]
	KATA_CONF_FILE="$dir/zero.toml" kata_runtime kata-env --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | "$JQ" -r '.Guest.Flavour')" = image ]
	[ "$(echo "$output" | "$JQ" -r '.Image.Readable')" = true ]
	[ "$(echo "$output" | "$JQ" -r '.Image.PartitionTable')" = false ]
	[ "$(echo "$output" | "$JQ" -r '.Initrd.Path')" = "" ]
}

@test "image guest: systemd is init, kata-containers.target is reached, networkd is masked, no unit failed" {
	requires_image_guest
	setup_guest_view 'cat /proc/1/comm
c="chroot /proc/1/root /bin/systemctl"
$c is-system-running --wait
$c is-active kata-containers.target kata-agent.service
$c is-enabled systemd-networkd.service systemd-networkd.socket
echo "failed: $($c list-units --failed --no-legend --plain | wc -l)"
for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = kata-agent ] && echo "agent ppid: $(cut -d" " -f4 $p/stat)"; done
true'
	kata_runtime run --bundle "$BUNDLE" gi-units
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = systemd ]
	[ "${lines[1]}" = running ]
	[ "${lines[2]}" = active ]
	[ "${lines[3]}" = active ]
	# masked by the kernel command line (runtime) and in the image
	[[ "${lines[4]}" == masked* ]]
	[[ "${lines[5]}" == masked* ]]
	[ "${lines[6]}" = "failed: 0" ]
	# the agent is a service, a child of systemd
	[ "${lines[7]}" = "agent ppid: 1" ]
}

@test "image guest: the kernel command line has exactly the seed's systemd parameters, root read-only" {
	requires_image_guest
	setup_bundle cat /proc/cmdline
	kata_runtime run --bundle "$BUNDLE" gi-cmdline
	[ "$status" -eq 0 ]
	local got
	got="$(echo "$output" | tr ' ' '\n' | grep '^systemd\.' | LC_ALL=C sort)"
	[ "$got" = "$SEED_SYSTEMD_PARAMS" ] || fail "systemd parameters: $got"
	echo "$output" | tr ' ' '\n' | grep -qx 'ro'
	echo "$output" | tr ' ' '\n' | grep -qx 'rootfstype=ext4'
	echo "$output" | tr ' ' '\n' | grep -Eqx 'root=PARTUUID=[0-9a-f]{8}-01'
	# the VM is gone with the container (run deletes it)
	! pgrep -f "qemu-system.*sandbox-gi-cmdline" >/dev/null
}

@test "image guest: the root is read-only, /tmp and /run are tmpfs, DNS goes to /run" {
	requires_image_guest
	setup_guest_view 'r=/proc/1/root
touch $r/usr/x 2>/dev/null && echo "root writable" || echo "root read-only"
grep -E " /(tmp|run) " /proc/1/mounts | cut -d" " -f2,3 | sort
readlink $r/etc/resolv.conf'
	kata_runtime run --bundle "$BUNDLE" gi-ro
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "root read-only" ]
	[ "${lines[1]}" = "/run tmpfs" ]
	[ "${lines[2]}" = "/tmp tmpfs" ]
	[ "${lines[3]}" = "../run/kata-containers/resolv.conf" ]
}

@test "image guest: the VM goes cleanly when the sandbox goes (the agent under systemd answers DestroySandbox synced)" {
	requires_image_guest
	setup_bundle true
	kata_runtime --debug --log "$BUNDLE/kata.log" run --bundle "$BUNDLE" gi-off
	[ "$status" -eq 0 ]
	# the agent answers DestroySandbox once it has synced (the monitor then quits QEMU),
	# or the guest powers off by itself (systemd's SuccessAction); the monitor's 5 s
	# time-out must not be what ends it
	grep -Eq 'guest synced in|QEMU powered off in' "$BUNDLE/kata.log"
	! grep -q 'did not power off' "$BUNDLE/kata.log"
	! pgrep -f "qemu-system.*sandbox-gi-off" >/dev/null
}
