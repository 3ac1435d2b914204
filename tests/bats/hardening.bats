#!/usr/bin/env bats
# Hardening (docs/security.md): QEMU runs under its seccomp sandbox, state is
# private to root, and inside the guest the spec's seccomp profile,
# capabilities, no_new_privs, masked and read-only paths are enforced; a
# container reaches neither the agent's channel nor another container's root.

load helpers-vm
# Sandboxes boot cold, not from the run's VM template (docs/factory.md "Tests"):
# QEMU's command line is checked (-sandbox ... spawn=deny, which a clone drops for the migration).

function setup() {
	requires_for_test
	setup_bundle sleep 1000
	update_config '.root.readonly = false' # writes to /tmp must work (mkdir is what seccomp denies)
}

function teardown() {
	teardown_bundle
}

# The hostile container's spec: mkdir denied with EPERM by seccomp, no CAP_CHOWN
# (nor CAP_MKNOD), no_new_privs, /proc/kcore masked, /proc/sys read-only.
function harden_spec() {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
		| .process.noNewPrivileges = true
		| .process.capabilities = {"bounding": ["CAP_KILL", "CAP_DAC_OVERRIDE"], "effective": ["CAP_KILL", "CAP_DAC_OVERRIDE"],
			"permitted": ["CAP_KILL", "CAP_DAC_OVERRIDE"]}
		| .linux.maskedPaths = ["/proc/kcore", "/proc/keys", "/proc/version"]
		| .linux.readonlyPaths = ["/proc/sys", "/proc/sysrq-trigger"]'
}

@test "QEMU runs with its seccomp sandbox; state is private to root" {
	kata_runtime_detached run -d --bundle "$BUNDLE" h1
	[ "$status" -eq 0 ]
	local qpid
	qpid="$(sandbox_value h1 qemu_pid)"
	[ -n "$qpid" ]
	# Seccomp: 2 = filter mode
	grep -E '^Seccomp:' "/proc/$qpid/status"
	[ "$(awk '/^Seccomp:/ {print $2}' "/proc/$qpid/status")" = 2 ]
	grep -q -- '-sandbox' "/proc/$qpid/cmdline"
	tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -q -- '-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny'

	# State dirs 0700, state files 0600 (sockets and the container's own
	# rootfs under shared/ excepted), the shared dir closed to others.
	local bad
	bad="$(find "$ROOT" -mindepth 1 -maxdepth 3 -type d ! -path "$ROOT/shared/*/*" ! -perm 0700 -printf '%m %p\n')"
	[ -z "$bad" ] || fail "directories not 0700: $bad"
	# (the network namespace the runtime made is an nsfs bind mount: its mode is the
	# kernel's, 0444; the 0700 netns/ directory above keeps others out)
	bad="$(find "$ROOT" -type f ! -path "$ROOT/shared/*/*" ! -path "$ROOT/netns/*" -perm /077 -printf '%m %p\n')"
	[ -z "$bad" ] || fail "files readable by others: $bad"
	[ "$(stat -c %a "$ROOT/shared/h1")" = 700 ] || fail "shared dir mode $(stat -c %a "$ROOT/shared/h1")"
	# as nobody, nothing under the shared dir or the state can be listed
	if command -v setpriv >/dev/null; then
		chmod 0755 "$ROOT"
		run setpriv --reuid=65534 --regid=65534 --clear-groups ls "$ROOT/shared/h1/"
		[ "$status" -ne 0 ]
		run setpriv --reuid=65534 --regid=65534 --clear-groups ls "$ROOT/sbs/h1/"
		[ "$status" -ne 0 ]
	fi
}

@test "seccompsandbox = \"\" in configuration.toml turns QEMU's sandbox off" {
	local cfg="$BUNDLE/c.toml"
	sed -e 's/^seccompsandbox = .*/seccompsandbox = ""/' "$(KATA_CONF_FILE= "$KATA_RUNTIME" kata-env --json | "$JQ" -r '.Runtime.Config.Path // empty')" >"$cfg" 2>/dev/null ||
		skip "no configuration file to copy"
	grep -q '^seccompsandbox = ""' "$cfg" || skip "the installed configuration has no seccompsandbox line"
	KATA_CONF_FILE="$cfg" kata_runtime_detached run -d --bundle "$BUNDLE" h0
	[ "$status" -eq 0 ]
	local qpid
	qpid="$(sandbox_value h0 qemu_pid)"
	[ "$(awk '/^Seccomp:/ {print $2}' "/proc/$qpid/status")" = 0 ]
	! tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -q -- '-sandbox'
}

@test "inside the guest: seccomp profile, dropped capabilities, no_new_privs, masked and read-only paths" {
	harden_spec
	kata_runtime_detached run -d --bundle "$BUNDLE" h2
	[ "$status" -eq 0 ]

	kata_runtime exec h2 sh -c 'grep -E "^(Seccomp|NoNewPrivs|CapEff|CapBnd):" /proc/self/status'
	[ "$status" -eq 0 ]
	[[ "$output" == *"NoNewPrivs:"*1* ]] || fail "no_new_privs not set: $output"
	[[ "$output" == *"Seccomp:"*2* ]] || fail "no seccomp filter: $output"

	# a denied syscall: mkdir fails with EPERM, other writes work
	kata_runtime exec h2 mkdir /tmp/x
	[ "$status" -ne 0 ]
	[[ "$output" == *"not permitted"* ]] || fail "mkdir: $output"
	kata_runtime exec h2 sh -c 'echo ok >/tmp/f && cat /tmp/f'
	[ "$status" -eq 0 ]
	[ "$output" = ok ]

	# without CAP_CHOWN, chown fails
	kata_runtime exec h2 chown 1 /tmp/f
	[ "$status" -ne 0 ]
	[[ "$output" == *"not permitted"* ]] || fail "chown: $output"
	# with it (exec --cap adds it, as runc's does), chown succeeds
	kata_runtime exec --cap CAP_CHOWN h2 sh -c 'chown 1 /tmp/f && stat -c %u /tmp/f'
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]

	# masked: /proc/kcore reads nothing; read-only: /proc/sys cannot be written
	# (the guest kernel may have no /proc/kcore: /proc/version always exists)
	kata_runtime exec h2 sh -c '{ [ -e /proc/kcore ] && head -c 16 /proc/kcore; cat /proc/version; } | wc -c'
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
	kata_runtime exec h2 sh -c 'echo x >/proc/sys/kernel/hostname'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]] || fail "/proc/sys write: $output"
	kata_runtime exec h2 sh -c 'grep " /proc/sys " /proc/self/mounts'
	[ "$status" -eq 0 ]
	[[ "$output" == *" ro,"* ]] || fail "/proc/sys not mounted ro: $output"
}

@test "the same checks pass with the capability and without the profile (the tests can fail)" {
	update_config '.process.capabilities.bounding += ["CAP_CHOWN"] | .process.capabilities.effective += ["CAP_CHOWN"] | .process.capabilities.permitted += ["CAP_CHOWN"] | .process.noNewPrivileges = false | del(.linux.seccomp)'
	kata_runtime_detached run -d --bundle "$BUNDLE" h3
	[ "$status" -eq 0 ]
	kata_runtime exec h3 sh -c 'mkdir /tmp/x && touch /tmp/f && chown 1 /tmp/f && stat -c %u /tmp/f'
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
	kata_runtime exec h3 sh -c 'grep -E "^NoNewPrivs:" /proc/self/status'
	[[ "$output" == *0 ]]
	kata_runtime exec h3 sh -c 'cat /proc/version | wc -c'
	[ "$output" -gt 0 ]
}

@test "escape: no agent channel in the container, and another container's root is not visible" {
	local marker="kata-hardening-marker-$$"
	update_config '.process.capabilities.bounding += ["CAP_MKNOD", "CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_MKNOD", "CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_MKNOD", "CAP_SYS_ADMIN"]'
	kata_runtime_detached run -d --bundle "$BUNDLE" pa
	[ "$status" -eq 0 ]

	# container B of the same pod, with its own rootfs holding a marker file
	local b2
	b2="$(mktemp -d "${BATS_TMPDIR:-/tmp}/kata-bundle-b.XXXXXX")"
	KATA_TEST_TMPDIRS+=("$b2")
	make_busybox_rootfs "$b2"
	touch "$b2/rootfs/$marker"
	"$JQ" '.root.path = "'"$b2/rootfs"'" | .annotations["io.kubernetes.cri.container-type"] = "container" | .annotations["io.kubernetes.cri.sandbox-id"] = "pa"' \
		"$BUNDLE/config.json" >"$b2/config.json"
	kata_runtime_detached run -d --bundle "$b2" pb
	[ "$status" -eq 0 ]
	kata_runtime exec pb ls "/$marker"
	[ "$status" -eq 0 ]

	# no channel device, not through /proc/1/root either
	kata_runtime exec pa sh -c 'ls -d /dev/vport* /dev/virtio-ports /dev/hvc* /proc/1/root/dev/vport* /proc/1/root/dev/virtio-ports 2>/dev/null; true'
	[ "$status" -eq 0 ]
	[ -z "$output" ] || fail "channel device visible: $output"
	# even with CAP_MKNOD: the port's node, if made, cannot be opened (the agent holds it)
	kata_runtime exec pa sh -c 'for d in /sys/class/virtio-ports/*/dev; do [ -r "$d" ] || continue; mm=$(cat "$d"); mknod /tmp/vp c "${mm%:*}" "${mm#*:}" || exit 3; if echo x >/tmp/vp; then echo OPENED; fi; rm -f /tmp/vp; done; true'
	[[ "$output" != *OPENED* ]] || fail "the agent's channel could be opened: $output"

	# B's rootfs is nowhere in A's view (files, mounts, /proc/1/root)
	kata_runtime exec pa sh -c "find / -path /proc -prune -o -path /sys -prune -o -name '$marker' -print 2>/dev/null; ls /proc/1/root/$marker 2>/dev/null; grep -c pb /proc/self/mounts; true"
	[ "$status" -eq 0 ]
	[ "$output" = 0 ] || fail "B visible from A: $output"
	# and with CAP_SYS_ADMIN, mounting the shared fs again does not show B either
	kata_runtime exec pa sh -c "mkdir -p /tmp/m && (mount -t 9p -o trans=virtio kataShared /tmp/m 2>/dev/null || mount -t virtiofs kataShared /tmp/m 2>/dev/null) && ls -R /tmp/m | grep -c '$marker'; true"
	[[ "$output" == "" || "$output" == 0 ]] || fail "B visible through the shared fs: $output"
}

@test "virtiofsd (shared_fs = virtio-fs) runs sandboxed: seccomp filter, own namespaces" {
	local cfg="$BUNDLE/vfs.toml" pid
	sed -e 's/^shared_fs = .*/shared_fs = "virtio-fs"/' "$(KATA_CONF_FILE= "$KATA_RUNTIME" kata-env --json | "$JQ" -r '.Runtime.Config.Path // empty')" >"$cfg" 2>/dev/null ||
		skip "no configuration file to copy"
	grep -q '^shared_fs = "virtio-fs"' "$cfg" || skip "no shared_fs line to change"
	[ -x "$(grep -E '^virtio_fs_daemon' "$cfg" | cut -d'"' -f2)" ] || [ -x /usr/lib/qemu/virtiofsd ] || skip "no virtiofsd"
	KATA_CONF_FILE="$cfg" kata_runtime_detached run -d --bundle "$BUNDLE" v1
	# The shared dir is a shared mount (virtiofsd.c): the rootfs bound after virtiofsd
	# started must reach its namespace; "executable file not found" means it did not.
	[ "$status" -eq 0 ] || fail "run with virtio-fs failed: $output"
	pid="$(pgrep -f -- "virtiofsd --socket-path=$ROOT/" | head -1)"
	[ -n "$pid" ] || fail "no virtiofsd for $ROOT"
	# the first process is the sandbox parent; its child serves the guest
	local p
	for p in $pid $(pgrep -P "$pid"); do
		grep -E '^(Seccomp|CapEff):' "/proc/$p/status" >&2
	done
	local child
	child="$(pgrep -P "$pid" | head -1)"
	[ -n "$child" ] || child="$pid"
	[ "$(awk '/^Seccomp:/ {print $2}' "/proc/$child/status")" = 2 ] || fail "virtiofsd without a seccomp filter"
	# sandbox=namespace: its own mount, pid and network namespaces
	[ "$(readlink "/proc/$child/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
	[ "$(readlink "/proc/$child/ns/net")" != "$(readlink /proc/self/ns/net)" ]
	[ "$(readlink "/proc/$child/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'sandbox=namespace'
}
