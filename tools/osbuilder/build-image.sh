#!/bin/bash
# build-image.sh AGENT_BINARY OUT.img
#
# Builds the image guest (docs/guest.md): a raw disk image with an MBR partition
# table and one ext4 partition holding a Debian root filesystem whose init is
# systemd.  The kata-agent runs as kata-agent.service, pulled in by
# kata-containers.target, which the runtime boots with
#   systemd.unit=kata-containers.target
#   systemd.mask=systemd-networkd.service systemd.mask=systemd-networkd.socket
# (as Kata 1.x's katautils does for an `image =` guest).
#
# Two steps:
#   1. the root filesystem (mmdebstrap, through this machine's apt sources):
#      systemd + udev + the units below, without the agent.  Slow (a minute or
#      more), so it is cached as a tarball in
#      ${KATA_OSBUILDER_CACHE:-/var/cache/kata-osbuilder}/image-rootfs-<key>.tar
#      where <key> hashes this script, the suite, the package list and the apt
#      sources: change any of them and it is rebuilt.
#   2. the disk: the cached tree + the agent (/usr/bin/kata-agent) -> ext4
#      (mkfs.ext4 -d, no mount, no loop device) -> one partition of a raw disk
#      (sfdisk).  A few seconds; redone every time (the agent changes often).
#
# The image is read-only in the guest (the runtime attaches it read-only and
# boots with `ro`): /run, /tmp and the journal (/run/log/journal) are tmpfs.
#
# Environment:
#   KATA_OSBUILDER_CACHE     cache dir (default /var/cache/kata-osbuilder)
#   KATA_IMAGE_SUITE         Debian suite (default: this machine's, else bookworm)
#   KATA_IMAGE_SOURCES       apt sources for mmdebstrap (default: this machine's
#                            /etc/apt/sources.list.d/debian.sources or sources.list)
#   KATA_IMAGE_EXTRA_PACKAGES  more packages for the image (space separated),
#                            e.g. "iproute2 procps strace": see docs/guest.md
#   KATA_IMAGE_FREE_MB       free space left in the filesystem (default 16)
#   KATA_IMAGE_DISK_ID       MBR disk identifier, 8 hex digits (default
#                            derived from the contents); the runtime boots
#                            root=PARTUUID=<id>-01, read from the image itself
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prog=$(basename "$0")
die() { echo "$prog: error: $*" >&2; exit 1; }
log() { echo "$prog: $*" >&2; }
[ $# -eq 2 ] || { echo "usage: $prog AGENT_BINARY OUT.img" >&2; exit 2; }

agent=$1
out=$2
cache=${KATA_OSBUILDER_CACHE:-/var/cache/kata-osbuilder}
free_mb=${KATA_IMAGE_FREE_MB:-16}
PATH=$PATH:/usr/sbin:/sbin

[ -f "$agent" ] || die "agent binary $agent not found"
[ -x "$agent" ] || die "agent binary $agent is not executable"
if command -v readelf >/dev/null 2>&1 && readelf -l "$agent" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	die "$agent is dynamically linked; build the static agent (make kata-agent)"
fi
for tool in mmdebstrap mkfs.ext4 e2fsck resize2fs dumpe2fs sfdisk tar sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is required (tools/install-deps.sh installs it)"
done
[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap and mkfs.ext4 -d keep file owners)"

if [ -z "${KATA_IMAGE_SUITE:-}" ]; then
	KATA_IMAGE_SUITE=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	[ -n "$KATA_IMAGE_SUITE" ] || KATA_IMAGE_SUITE=bookworm
fi
sources=${KATA_IMAGE_SOURCES:-}
if [ -z "$sources" ]; then
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		if [ -s "$f" ] && grep -q '^[^#]' "$f"; then sources=$f; break; fi
	done
fi
[ -n "$sources" ] && [ -f "$sources" ] || die "no apt sources found (set KATA_IMAGE_SOURCES)"

# systemd-sysv: /sbin/init; udev: device units and /dev/virtio-ports/*.
packages="systemd systemd-sysv udev ${KATA_IMAGE_EXTRA_PACKAGES:-}"
packages=$(echo $packages | tr ' ' '\n' | LC_ALL=C sort -u | tr '\n' ' ')

mkdir -p "$cache" || die "cannot create cache dir $cache (set KATA_OSBUILDER_CACHE)"
key=$({ sha256sum "$0" | cut -d' ' -f1; echo "$KATA_IMAGE_SUITE"; echo "$packages"; cat "$sources"; } |
	sha256sum | cut -c1-12)
rootfs_tar="$cache/image-rootfs-$KATA_IMAGE_SUITE-$key.tar"

# ------------------------------------------------------------ 1. rootfs
# The customisation below runs inside mmdebstrap (--customize-hook, "$1" is
# the new root).  Everything in it is part of the cache key (this file).
customize='
set -e
r=$1
u=$r/etc/systemd/system
mkdir -p "$u/kata-containers.target.wants"
cat > "$u/kata-containers.target" <<EOF
[Unit]
Description=Kata Containers Agent Target
Requires=basic.target
Requires=tmp.mount
Requires=kata-agent.service
Conflicts=rescue.service rescue.target
After=basic.target rescue.service rescue.target
AllowIsolate=yes
EOF
cat > "$u/kata-agent.service" <<EOF
[Unit]
Description=Kata Containers Agent
Documentation=man:kata-runtime(8)
Wants=kata-containers.target
# Started as soon as /tmp is mounted, without waiting for sysinit.target
# (udev coldplug, journald, tmpfiles: they go on in parallel).  The agent
# finds its port through /sys/class/virtio-ports and polls until it is there.
DefaultDependencies=no
Requires=tmp.mount
After=tmp.mount systemd-journald.socket
Conflicts=shutdown.target
Before=shutdown.target kata-containers.target
# The agent exits when the sandbox is destroyed (DestroySandbox): the VM goes
# down with it at once (reboot(2): the root is read-only, the agent synced),
# as when the agent is PID 1 and powers off itself.  Same when it fails.
SuccessAction=poweroff-immediate
FailureAction=poweroff-immediate

[Service]
Type=simple
ExecStart=/usr/bin/kata-agent
Restart=no
# the agent logs on /dev/console itself
StandardOutput=journal
StandardError=inherit
LimitNOFILE=1048576
OOMScoreAdjust=-997
# container processes move to /sys/fs/cgroup/kata/<id>: not systemd'"'"'s to kill
KillMode=process
EOF
ln -sf ../kata-agent.service "$u/kata-containers.target.wants/kata-agent.service"
ln -sf /etc/systemd/system/kata-containers.target "$u/default.target"
# /tmp on tmpfs (the root filesystem is read-only)
ln -sf /usr/share/systemd/tmp.mount "$u/tmp.mount"
# Masked: no network management (the agent configures interfaces), no
# logins, no timers or state that needs a writable root.
for unit in systemd-networkd.service systemd-networkd.socket systemd-networkd-wait-online.service \
	systemd-resolved.service systemd-timesyncd.service \
	getty.target getty@.service serial-getty@.service console-getty.service container-getty@.service \
	systemd-logind.service systemd-user-sessions.service \
	systemd-random-seed.service systemd-update-utmp.service systemd-update-utmp-runlevel.service \
	systemd-firstboot.service systemd-machine-id-commit.service systemd-hwdb-update.service \
	systemd-journal-flush.service systemd-pstore.service systemd-boot-system-token.service \
	ldconfig.service systemd-sysusers.service \
	apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
	e2scrub_reap.service fstrim.timer systemd-tmpfiles-clean.timer \
	sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount \
	dev-hugepages.mount dev-mqueue.mount proc-sys-fs-binfmt_misc.automount \
	systemd-binfmt.service kmod-static-nodes.service modprobe@.service \
	systemd-sysctl.service systemd-modules-load.service systemd-remount-fs.service \
	systemd-tmpfiles-setup-dev.service systemd-initctl.socket systemd-journald-audit.socket \
	systemd-ask-password-console.path systemd-ask-password-wall.path \
	systemd-pcrphase.service systemd-pcrphase-sysinit.service systemd-repart.service \
	cryptsetup.target integritysetup.target veritysetup.target remote-fs.target; do
	ln -sf /dev/null "$u/$unit"
done
# Generators run (as processes) on every boot: keep only systemd-debug-generator,
# which implements systemd.mask= / systemd.wants= on the kernel command line.
mkdir -p "$r/etc/systemd/system-generators"
for g in "$r"/usr/lib/systemd/system-generators/*; do
	case "${g##*/}" in systemd-debug-generator) continue ;; esac
	ln -sf /dev/null "$r/etc/systemd/system-generators/${g##*/}"
done
: > "$r/etc/fstab"
: > "$r/etc/machine-id"
echo kata > "$r/etc/hostname"
# the agent writes DNS servers here (it follows the link: /etc is read-only)
rm -f "$r/etc/resolv.conf"
ln -s ../run/kata-containers/resolv.conf "$r/etc/resolv.conf"
mkdir -p "$r/etc/systemd/journald.conf.d"
printf "[Journal]\nStorage=volatile\nRuntimeMaxUse=8M\n" > "$r/etc/systemd/journald.conf.d/kata.conf"
rm -rf "$r/var/cache/apt/"*.bin "$r/var/lib/apt/lists/"* "$r/var/log/"*.log
'

if [ -f "$rootfs_tar" ]; then
	log "using cached root filesystem $rootfs_tar"
else
	exec 9>"$cache/.image-lock"
	command -v flock >/dev/null 2>&1 && flock 9
fi
if [ ! -f "$rootfs_tar" ]; then
	log "building root filesystem ($KATA_IMAGE_SUITE: $packages) from $sources"
	tmp_tar="$rootfs_tar.tmp.$$"
	trap 'rm -f "$tmp_tar"' EXIT
	mmdebstrap --variant=minbase --mode=root --format=tar \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/lintian/*' \
		--include="$(echo $packages | tr ' ' ',')" \
		--customize-hook="$customize" \
		"$KATA_IMAGE_SUITE" "$tmp_tar" "$sources" >&2 ||
		die "mmdebstrap failed"
	mv -f "$tmp_tar" "$rootfs_tar"
	trap - EXIT
	log "cached root filesystem in $rootfs_tar"
	# Older root filesystems of this suite are dead weight.
	for old in "$cache/image-rootfs-$KATA_IMAGE_SUITE-"*.tar; do
		[ "$old" = "$rootfs_tar" ] || rm -f "$old"
	done
fi
exec 9>&-

# ------------------------------------------------------------ 2. disk
stage=$(mktemp -d "${TMPDIR:-/var/tmp}/kata-image.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/root"
tar -C "$stage/root" --numeric-owner -xpf "$rootfs_tar"
install -m 0755 "$agent" "$stage/root/usr/bin/kata-agent"
if [ -z "${KATA_INITRD_NO_STRIP:-}" ] && command -v strip >/dev/null 2>&1; then
	strip --strip-all "$stage/root/usr/bin/kata-agent" 2>/dev/null || true
fi

# Size: room enough for the tree with 4 KiB blocks (shrunk afterwards).
used_kb=$(du -sk --apparent-size "$stage/root" | cut -f1)
fs_mb=$(( (used_kb * 15 / 10 / 1024 + free_mb + 32 + 3) / 4 * 4 ))
part_start=2048 # sectors: 1 MiB alignment
epoch=${SOURCE_DATE_EPOCH:-0}
disk_id=${KATA_IMAGE_DISK_ID:-$(printf '%s' "$key$(sha256sum "$stage/root/usr/bin/kata-agent")" | sha256sum | cut -c1-8)}
case "$disk_id" in [0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]) ;;
*) die "KATA_IMAGE_DISK_ID must be 8 hex digits" ;; esac
[ "$disk_id" != 00000000 ] || disk_id=00000001

# No journal: the image is never written (read-only drive, `ro`).  4 KiB
# blocks (mke2fs picks 1 KiB for a file system this small).
E2FSPROGS_FAKE_TIME=$epoch mkfs.ext4 -q -F -b 4096 -L kata-root -U clear \
	-E root_owner=0:0,hash_seed=00000000-0000-0000-0000-000000000000 \
	-O ^has_journal -m 0 -N $(( used_kb / 8 + 4096 )) -d "$stage/root" "$stage/fs.img" "${fs_mb}M" ||
	die "mkfs.ext4 failed"
# Then shrink it to what it holds plus KATA_IMAGE_FREE_MB.
e2fsck -fy "$stage/fs.img" >/dev/null 2>&1 || die "e2fsck of the new file system failed"
resize2fs -M "$stage/fs.img" >/dev/null 2>&1 || die "resize2fs -M failed"
blocks=$(dumpe2fs -h "$stage/fs.img" 2>/dev/null | sed -n 's/^Block count: *//p')
[ -n "$blocks" ] || die "dumpe2fs: no block count"
blocks=$(( (blocks + free_mb * 256 + 255) / 256 * 256 ))
resize2fs "$stage/fs.img" "$blocks" >/dev/null 2>&1 || die "resize2fs to $blocks blocks failed"
truncate -s $(( blocks * 4096 )) "$stage/fs.img"
e2fsck -fn "$stage/fs.img" >/dev/null 2>&1 || die "the shrunk file system does not check clean"
fs_bytes=$(stat -c %s "$stage/fs.img")

tmp="$out.tmp.$$"
mkdir -p "$(dirname "$out")"
rm -f "$tmp"
truncate -s $(( part_start * 512 + fs_bytes )) "$tmp"
printf 'label: dos\nlabel-id: 0x%s\nunit: sectors\n\nstart=%d, size=%d, type=83\n' \
	"$disk_id" "$part_start" $(( fs_bytes / 512 )) | sfdisk -q "$tmp" >/dev/null ||
	{ rm -f "$tmp"; die "sfdisk failed"; }
dd if="$stage/fs.img" of="$tmp" bs=1M seek=$(( part_start * 512 )) oflag=seek_bytes conv=notrunc,sparse status=none ||
	{ rm -f "$tmp"; die "writing the filesystem failed"; }
mv -f "$tmp" "$out"
log "wrote $out ($(stat -c %s "$out") bytes, root=PARTUUID=$disk_id-01, rootfs cache $rootfs_tar)"
