#!/bin/bash
# Common helpers for kata-runtime's bats tests, in the manner of runc's
# tests/integration/helpers.bash.  Sourced by every .bats file:
#   load helpers
#
# Environment:
#   KATA_RUNTIME   the binary under test (default: the one built in the tree)
#   BUSYBOX        a static busybox for the test rootfs (default: /bin/busybox)

# shellcheck disable=SC2034

KATA_RUNTIME="${KATA_RUNTIME:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/kata-runtime}"
BUSYBOX="${BUSYBOX:-$(command -v busybox 2>/dev/null || echo /bin/busybox)}"
JQ="${JQ:-jq}"

# bats-support / bats-assert from Debian, when installed.
for _lib in bats-support bats-assert; do
	if [ -f "/usr/lib/bats/$_lib/load.bash" ]; then
		load "/usr/lib/bats/$_lib/load.bash"
	elif [ -f "/usr/lib/bats/$_lib/load" ]; then
		load "/usr/lib/bats/$_lib/load"
	fi
done
unset _lib

# The temporary --root of the current test (set up by setup_root / setup_bundle).
ROOT=""
# The bundle directory created by setup_bundle.
BUNDLE=""
# All temporary dirs to remove in teardown_bundle.
KATA_TEST_TMPDIRS=()

# Runs kata-runtime with the test's --root through bats' `run` and logs the
# command, its status and its output (shown when a test fails).
function kata_runtime() {
	setup_root
	run "$KATA_RUNTIME" --root "$ROOT" "$@"
	echo "kata-runtime $* (status=$status):" >&2
	echo "$output" >&2
}

# Same without --root (for global-flag tests).
function kata_runtime_noroot() {
	run "$KATA_RUNTIME" "$@"
	echo "kata-runtime $* (status=$status):" >&2
	echo "$output" >&2
}

# Creates the temporary --root (once per test).
function setup_root() {
	if [ -z "$ROOT" ] || [ ! -d "$ROOT" ]; then
		ROOT="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-root.XXXXXX")"
		KATA_TEST_TMPDIRS+=("$ROOT")
	fi
}

# Skips the test unless every requirement holds.
#   requires root | kvm | qemu | guest | busybox | jq | runc
function requires() {
	local var
	for var in "$@"; do
		case "$var" in
		root)
			[ "$(id -u)" -eq 0 ] || skip "test requires root"
			;;
		kvm)
			if [ ! -c /dev/kvm ]; then
				skip "test requires KVM: /dev/kvm does not exist"
			fi
			if [ -d /sys/module/kvm_pvm ]; then
				skip "test requires KVM that runs guests (this host has kvm_pvm)"
			fi
			;;
		qemu)
			local q
			q="$(guest_config_value path /usr/bin/qemu-system-x86_64)"
			[ -x "$q" ] || skip "test requires QEMU: $q not found"
			;;
		guest)
			local k i
			k="$(guest_config_value kernel /usr/share/kata-containers/vmlinuz.container)"
			[ -r "$k" ] || skip "test requires the guest kernel: $k not readable"
			# the guest is an initrd or a disk image (docs/guest.md)
			i="$(guest_config_value image "")"
			if [ -n "$i" ]; then
				[ -r "$i" ] || skip "test requires the guest image: $i not readable"
			else
				i="$(guest_config_value initrd /usr/share/kata-containers/kata-containers-initrd.img)"
				[ -r "$i" ] || skip "test requires the guest initrd: $i not readable"
			fi
			;;
		busybox)
			[ -x "$BUSYBOX" ] || skip "test requires busybox: $BUSYBOX not found"
			;;
		jq)
			command -v "$JQ" >/dev/null || skip "test requires jq"
			;;
		runc)
			command -v runc >/dev/null || skip "test requires runc"
			;;
		*)
			fail "requires: unknown requirement $var"
			;;
		esac
	done
}

# Reads KEY of the [hypervisor.qemu] section from the configuration that
# kata-runtime uses (kata-env --json), or prints DEFAULT.
function guest_config_value() {
	local key="$1" def="$2" filter v=""
	case "$key" in
	path) filter='.Hypervisor.Path' ;;
	kernel) filter='.Kernel.Path' ;;
	initrd) filter='.Initrd.Path' ;;
	image) filter='.Image.Path' ;;
	*) filter=".Hypervisor.\"$key\"" ;;
	esac
	v="$("$KATA_RUNTIME" kata-env --json 2>/dev/null | "$JQ" -r "$filter // empty" 2>/dev/null)"
	echo "${v:-$def}"
}

# Creates a busybox rootfs in DIR/rootfs.
function make_busybox_rootfs() {
	local rootfs="$1/rootfs" app
	mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,tmp,root,run,var}
	chmod 1777 "$rootfs/tmp"
	cp "$BUSYBOX" "$rootfs/bin/busybox"
	for app in $("$BUSYBOX" --list); do
		[ "$app" = busybox ] && continue
		ln -sf busybox "$rootfs/bin/$app"
	done
	mkdir -p "$rootfs/usr"
	ln -sf ../bin "$rootfs/usr/bin"
	ln -sf bin "$rootfs/sbin"
	cat >"$rootfs/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
	cat >"$rootfs/etc/group" <<GROUP
root:x:0:
nogroup:x:65534:
nobody:x:65534:
GROUP
	echo "kata-test" >"$rootfs/etc/hostname"
}

# Creates a bundle (busybox rootfs + config.json from `kata-runtime spec`)
# in a temporary dir, cds into it, and sets BUNDLE and ROOT.
# Arguments, if any, become process.args; terminal is false.
#   setup_bundle                  -> args ["sh"]
#   setup_bundle sleep 100        -> args ["sleep","100"]
function setup_bundle() {
	requires busybox jq
	setup_root
	BUNDLE="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-bundle.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$BUNDLE")
	make_busybox_rootfs "$BUNDLE"
	"$KATA_RUNTIME" spec --bundle "$BUNDLE" || fail "kata-runtime spec failed"
	cd "$BUNDLE" || fail "cd $BUNDLE"
	update_config '.process.terminal = false'
	if [ $# -gt 0 ]; then
		local args
		args="$(printf '%s\n' "$@" | "$JQ" -R . | "$JQ" -s -c .)"
		update_config ".process.args = $args"
	fi
}

# Applies a jq filter to $BUNDLE/config.json (in place).
#   update_config '.process.args = ["true"]'
function update_config() {
	local cfg="${BUNDLE:-.}/config.json"
	"$JQ" "$@" "$cfg" >"$cfg.tmp" || { rm -f "$cfg.tmp"; fail "update_config: jq $* failed"; }
	mv "$cfg.tmp" "$cfg"
}

# Deletes (--force) every container under $ROOT, then removes the temporary
# dirs.  Never leaves mounts behind: a dir with a mount under it is unmounted
# (lazily) before removal.
function teardown_bundle() {
	local id dir m
	if [ -n "$ROOT" ] && [ -d "$ROOT" ]; then
		for id in $("$KATA_RUNTIME" --root "$ROOT" list -q 2>/dev/null); do
			"$KATA_RUNTIME" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	cd "${BATS_TEST_DIRNAME:-/}" 2>/dev/null || cd /
	for dir in "${KATA_TEST_TMPDIRS[@]}"; do
		[ -n "$dir" ] && [ -d "$dir" ] || continue
		# Deepest mounts first.
		for m in $(awk -v d="$dir" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
			umount -l "$m" 2>/dev/null || true
		done
		rm -rf "$dir"
	done
	KATA_TEST_TMPDIRS=()
	ROOT=""
	BUNDLE=""
}

# Waits until `state ID` reports STATUS.
#   wait_for_container ATTEMPTS DELAY ID STATUS
function wait_for_container() {
	local attempts="$1" delay="$2" id="$3" want="$4" i st
	for ((i = 0; i < attempts; i++)); do
		st="$("$KATA_RUNTIME" --root "$ROOT" state "$id" 2>/dev/null | "$JQ" -r .status 2>/dev/null)"
		if [ "$st" = "$want" ]; then
			return 0
		fi
		sleep "$delay"
	done
	echo "wait_for_container: $id is \"$st\" after $attempts attempts, not \"$want\"" >&2
	return 1
}

# Fails the test with MSG (bats-support's fail when loaded).
if ! declare -F fail >/dev/null; then
	function fail() {
		echo "$@" >&2
		return 1
	}
fi

# Status of a container (empty when it does not exist).
function container_status() {
	"$KATA_RUNTIME" --root "$ROOT" state "$1" 2>/dev/null | "$JQ" -r .status 2>/dev/null
}
