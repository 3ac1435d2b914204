#!/bin/bash
# build-initrd.sh AGENT_BINARY OUT.img [MODULES_DIR]
#
# Builds the guest initrd: a gzip'd newc cpio that holds
#   /init                       the static kata-agent (or any static init)
#   /dev/console                char 5:1, so PID 1 starts with a console on stdio
#   /dev /proc /sys /run /tmp /etc /mnt   empty mount points
#   /lib/modules/*.ko + /lib/modules/modules.load   (generic kernel flavor only)
# and nothing else: no shell, no libraries.
#
# MODULES_DIR is what `build-kernel.sh --flavor generic` wrote: a directory
# holding modules/ and modules.load (the kernel OUTDIR), or the modules/
# directory itself with modules.load inside or beside it.
#
# The archive is reproducible: entries sorted, owner 0:0, mtimes set to
# SOURCE_DATE_EPOCH (default 0), no device/inode numbers, gzip -n.
# No root or fakeroot needed: /dev/console is written as a raw newc entry.
set -euo pipefail

prog=$(basename "$0")
die() { echo "$prog: error: $*" >&2; exit 1; }
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: $prog AGENT_BINARY OUT.img [MODULES_DIR]" >&2; exit 2; }

agent=$1
out=$2
moddir=${3:-}
epoch=${SOURCE_DATE_EPOCH:-0}

[ -f "$agent" ] || die "agent binary $agent not found"
[ -x "$agent" ] || die "agent binary $agent is not executable"
command -v cpio >/dev/null 2>&1 || die "cpio is required"

# The agent is PID 1 in an initrd without libraries: it must be static.
if command -v file >/dev/null 2>&1; then
	case "$(file -bL "$agent")" in
	*"dynamically linked"*) die "$agent is dynamically linked; the initrd has no libraries" ;;
	esac
elif command -v readelf >/dev/null 2>&1; then
	if readelf -l "$agent" 2>/dev/null | grep -q 'Requesting program interpreter'; then
		die "$agent is dynamically linked; the initrd has no libraries"
	fi
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/kata-initrd.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"

for d in dev proc sys run tmp etc mnt; do
	mkdir -p "$stage/$d"
done
chmod 1777 "$stage/tmp"
install -m 0755 "$agent" "$stage/init"
# Symbols are of no use in the guest; KATA_INITRD_NO_STRIP=1 keeps them.
if [ -z "${KATA_INITRD_NO_STRIP:-}" ] && command -v strip >/dev/null 2>&1; then
	strip --strip-all "$stage/init" 2>/dev/null || true
fi

if [ -n "$moddir" ]; then
	[ -d "$moddir" ] || die "modules dir $moddir not found"
	if [ -d "$moddir/modules" ]; then
		kos=$moddir/modules
		load=$moddir/modules.load
	else
		kos=$moddir
		load=$moddir/modules.load
		[ -f "$load" ] || load=$(dirname "$moddir")/modules.load
	fi
	[ -f "$load" ] || die "modules.load not found for $moddir"
	mkdir -p "$stage/lib/modules"
	while IFS= read -r m; do
		[ -n "$m" ] || continue
		[ -f "$kos/$m" ] || die "module $m listed in $load is missing from $kos"
		install -m 0644 "$kos/$m" "$stage/lib/modules/$m"
	done < "$load"
	install -m 0644 "$load" "$stage/lib/modules/modules.load"
fi

find "$stage" -exec touch -h -d "@$epoch" {} +

# newc entry for a character device (dev/console) with no data.
newc_entry() { # name mode(octal) rdevmajor rdevminor
	local name=$1 mode=$2 maj=$3 min=$4 namesize hdr pad
	namesize=$(( ${#name} + 1 ))
	hdr=$(printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		0 $((8#$mode)) 0 0 1 "$epoch" 0 0 0 "$maj" "$min" "$namesize" 0)
	printf '%s%s\0' "$hdr" "$name"
	pad=$(( (4 - (110 + namesize) % 4) % 4 ))
	while [ $pad -gt 0 ]; do printf '\0'; pad=$((pad - 1)); done
}

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
{
	# Main archive (ends with its own TRAILER!!!), then a second archive holding
	# dev/console; the kernel unpacks concatenated archives in order.
	(cd "$stage" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cpio -o -H newc --owner=0:0 --reproducible --quiet)
	newc_entry dev/console 020600 5 1
	newc_entry 'TRAILER!!!' 0 0 0
} | gzip -n -9 > "$tmp"
mv -f "$tmp" "$out"
echo "$prog: wrote $out ($(stat -c %s "$out") bytes)" >&2
