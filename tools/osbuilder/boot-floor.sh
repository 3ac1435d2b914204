#!/bin/bash
# boot-floor.sh [options] KERNEL_DIR
#
# Measures the guest boot floor: QEMU start -> first line from PID 1
# ("KATA-BARE-READY", printed by bare-init) -> QEMU exit (bare-init powers
# the VM off at once).  KERNEL_DIR holds vmlinuz.container (q35 with SeaBIOS)
# and vmlinux.container (PVH entry: q35-qboot and microvm), as written by
# build-kernel.sh.
#
# Options:
#   --runs N            runs per machine type (default 5)
#   --machine M         q35 (SeaBIOS + bzImage), q35-qboot (qboot + PVH vmlinux,
#                       the runtime's default), microvm, both (q35 microvm),
#                       all (the three), or a space-separated list (default both)
#   --qboot FILE        qboot firmware (default /usr/share/qemu/qboot.rom)
#   --bare-init BIN     static bare-init binary (default: compile bare-init.c with cc -static)
#   --accel A           tcg (default) or kvm
#   --probe             one run per machine with the devices the runtime uses
#                       (virtio-serial port agent.channel.0, 9p share kataShared,
#                       pcie-root-port on q35) and bare-init's probe output shown
#   --timeout S         per-run time-out in seconds (default 60)
#   --show-cmd          print the QEMU command lines
#   --qemu PATH         QEMU binary (default qemu-system-x86_64)
#   --machine-opts O    appended to -machine TYPE (e.g. ",pit=off")
#   --append-extra S    appended to the kernel command line
#   --no-tuned          leave out the tuned kernel options (tuned_cmdline below)
#
# Prints median times per machine type.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prog=$(basename "$0")
die() { echo "$prog: error: $*" >&2; exit 1; }

runs=5 machines="q35 microvm" bare= accel=tcg probe=0 tmo=60 showcmd=0 qboot=/usr/share/qemu/qboot.rom
mopts= append_extra= tuned=1
qemu=${QEMU:-qemu-system-x86_64}
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift 2 ;;
	--machine) case "$2" in both) machines="q35 microvm" ;; all) machines="q35 q35-qboot microvm" ;; *) machines=$2 ;; esac; shift 2 ;;
	--qboot) qboot=$2; shift 2 ;;
	--bare-init) bare=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--probe) probe=1; shift ;;
	--timeout) tmo=$2; shift 2 ;;
	--show-cmd) showcmd=1; shift ;;
	--qemu) qemu=$2; shift 2 ;;
	--machine-opts) mopts=$2; shift 2 ;;
	--append-extra) append_extra=$2; shift 2 ;;
	--no-tuned) tuned=0; shift ;;
	-h|--help) sed -n '2,28p' "$0"; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || die "usage: $prog [options] KERNEL_DIR"
kdir=$1
[ -n "${EPOCHREALTIME:-}" ] || die "bash >= 5 is needed (EPOCHREALTIME)"
command -v "$qemu" >/dev/null 2>&1 || die "$qemu not found"

work=$(mktemp -d "${TMPDIR:-/tmp}/kata-bootfloor.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -z "$bare" ]; then
	bare=$work/bare-init
	${CC:-cc} -static -Os -o "$bare" "$here/bare-init.c" || die "cannot build bare-init"
fi
initrd=$work/bare-initrd.img
# A generic kernel (build-kernel.sh --flavor generic) comes with modules:
# bare-init loads them from /lib/modules/modules.load as the agent does.
mods=
[ -f "$kdir/modules.load" ] && mods=$kdir
"$here/build-initrd.sh" "$bare" "$initrd" $mods 2>/dev/null || die "cannot build the bare initrd"

# Host TSC frequency in kHz, for tsc_early_khz= (microvm: without it about a
# third of boots hang calibrating the TSC under TCG).
host_tsc_khz() {
	local v
	if [ -r /sys/devices/system/cpu/cpu0/tsc_freq_khz ]; then
		cat /sys/devices/system/cpu/cpu0/tsc_freq_khz
		return
	fi
	v=$(dmesg 2>/dev/null | sed -n 's/.*Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -n1)
	[ -n "$v" ] || v=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz processor.*/\1/p' | tail -n1)
	[ -n "$v" ] || v=$(sed -n 's/^cpu MHz[[:space:]]*: \([0-9.]*\).*/\1/p' /proc/cpuinfo | head -n1)
	if [ -n "$v" ]; then
		awk -v m="$v" 'BEGIN { printf "%d\n", m * 1000 + 0.5 }'
		return
	fi
	v=$(sed -n 's/^model name.*@ *\([0-9.]*\)GHz.*/\1/p' /proc/cpuinfo | head -n1)
	[ -n "$v" ] && awk -v g="$v" 'BEGIN { printf "%d\n", g * 1000000 + 0.5 }'
}

# The kernel command line the runtime uses.  The tuned part skips probing the
# PS/2 controller and the three absent legacy UARTs (-nodefaults gives one).
base_cmdline="console=ttyS0 quiet panic=-1 reboot=t"
tuned_cmdline="i8042.noaux i8042.nokbd i8042.nopnp 8250.nr_uarts=1"
tsc_khz=$(host_tsc_khz)

if [ "$accel" = kvm ]; then cpu=host; else cpu=max; fi

# Fills the array qargs for machine $1.
qemu_args() {
	local m=$1 cmdline=$base_cmdline
	[ $tuned -eq 1 ] && cmdline="$cmdline $tuned_cmdline"
	# As the runtime does under TCG: the APIC timer's clock (kernel-patches/0002)
	# and, on q35 (microvm below), the TSC's
	if [ "$accel" = tcg ]; then
		cmdline="$cmdline lapic_timer_hz=1000000000"
		case "$m" in q35*) [ -n "$tsc_khz" ] && cmdline="$cmdline tsc_early_khz=$tsc_khz" ;; esac
	fi
	[ -n "$append_extra" ] && cmdline="$cmdline $append_extra"
	[ $probe -eq 1 ] && cmdline="$cmdline bareinit.probe=1"
	qargs=(-accel "$accel" -cpu "$cpu" -m 256 -smp 1
		-nodefaults -no-user-config -nographic -no-reboot -serial stdio)
	case "$m" in
	q35 | q35-qboot)
		if [ "$m" = q35-qboot ]; then
			[ -f "$kdir/vmlinux.container" ] || die "$kdir/vmlinux.container missing"
			[ -r "$qboot" ] || die "$qboot missing"
			qargs+=(-machine "q35$mopts" -bios "$qboot" -kernel "$kdir/vmlinux.container")
		else
			[ -f "$kdir/vmlinuz.container" ] || die "$kdir/vmlinuz.container missing"
			qargs+=(-machine "q35$mopts" -kernel "$kdir/vmlinuz.container")
		fi
		if [ $probe -eq 1 ]; then
			qargs+=(-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1,slot=0
				-device virtio-serial-pci
				-chardev "socket,id=ch0,path=$work/agent.sock,server=on,wait=off"
				-device virtserialport,chardev=ch0,name=agent.channel.0
				-fsdev "local,id=fs0,path=$work/share,security_model=none"
				-device virtio-9p-pci,fsdev=fs0,mount_tag=kataShared)
		fi
		;;
	microvm)
		[ -f "$kdir/vmlinux.container" ] || die "$kdir/vmlinux.container missing"
		[ -n "$tsc_khz" ] && cmdline="$cmdline tsc_early_khz=$tsc_khz"
		qargs+=(-machine "microvm$mopts" -global virtio-mmio.force-legacy=false
			-kernel "$kdir/vmlinux.container")
		if [ $probe -eq 1 ]; then
			qargs+=(-device virtio-serial-device
				-chardev "socket,id=ch0,path=$work/agent.sock,server=on,wait=off"
				-device virtserialport,chardev=ch0,name=agent.channel.0
				-fsdev "local,id=fs0,path=$work/share,security_model=none"
				-device virtio-9p-device,fsdev=fs0,mount_tag=kataShared)
		fi
		;;
	*) die "unknown machine $m" ;;
	esac
	qargs+=(-initrd "$initrd" -append "$cmdline")
}

# Host end of the agent channel in probe mode: print what the guest writes.
agent_reader() {
	command -v python3 >/dev/null 2>&1 || return 0
	python3 - "$work/agent.sock" <<'EOF' &
import socket, sys, time, os
p = sys.argv[1]
for _ in range(500):
    if os.path.exists(p):
        break
    time.sleep(0.01)
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(p)
    s.settimeout(60)
    data = s.recv(4096)
    print("HOST agent.channel.0 received: %r" % data, flush=True)
except Exception as e:
    print("HOST agent.channel.0: %s" % e, flush=True)
EOF
	reader_pid=$!
}

# One boot; sets r_ready and r_exit (seconds, or empty on failure).
run_once() {
	local m=$1 log=$2 t0 line rc=
	qemu_args "$m"
	r_ready= r_exit=
	reader_pid=
	if [ $probe -eq 1 ]; then
		rm -f "$work/agent.sock"
		agent_reader
	fi
	t0=$EPOCHREALTIME
	while IFS= read -r line; do
		case "$line" in
		*KATA-BARE-READY*) [ -n "$r_ready" ] || r_ready=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }') ;;
		__QEMU_EXIT__*)
			set -- $line
			rc=$2
			r_exit=$(awk -v a="$t0" -v b="$3" 'BEGIN { printf "%.3f", b - a }')
			continue
			;;
		esac
		printf '%s\n' "$line" >> "$log"
	done < <(timeout "$tmo" "$qemu" "${qargs[@]}" </dev/null 2>&1; echo "__QEMU_EXIT__ $? $EPOCHREALTIME")
	if [ -n "$reader_pid" ]; then
		wait "$reader_pid" 2>/dev/null
	fi
	if [ "$rc" != 0 ]; then
		echo "$prog: $m: QEMU exit status $rc (124 = time-out)" >&2
		r_exit=
	fi
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

mkdir -p "$work/share"
echo "hello from the host" > "$work/share/hello.txt"

[ $probe -eq 1 ] && runs=1
echo "kernel dir: $kdir"
echo "accel: $accel (-cpu $cpu), host TSC: ${tsc_khz:-unknown} kHz, runs: $runs"
status=0
for m in $machines; do
	if [ "$m" != q35 ] && [ ! -f "$kdir/vmlinux.container" ]; then
		echo "$m: skipped: no vmlinux.container in $kdir (generic flavor has no PVH vmlinux)"
		continue
	fi
	if [ "$m" = q35-qboot ] && [ ! -r "$qboot" ]; then
		echo "$m: skipped: no $qboot"
		continue
	fi
	qemu_args "$m"
	if [ $showcmd -eq 1 ] || [ $probe -eq 1 ]; then
		printf '%s: %s' "$m" "$qemu"
		printf " %q" "${qargs[@]}"
		echo
	fi
	ready_list=() exit_list=() fails=0
	for i in $(seq 1 "$runs"); do
		log=$work/$m.$i.log
		: > "$log"
		run_once "$m" "$log"
		if [ -z "$r_ready" ] || [ -z "$r_exit" ]; then
			fails=$((fails + 1))
			echo "$prog: $m run $i: FAILED (ready=${r_ready:-none} exit=${r_exit:-none}); console:" >&2
			tail -n 20 "$log" | sed 's/^/    /' >&2
			continue
		fi
		ready_list+=("$r_ready")
		exit_list+=("$r_exit")
		[ $probe -eq 1 ] && sed 's/^/    /' "$log"
		printf '  %-9s run %2d: ready %ss  exit %ss\n' "$m" "$i" "$r_ready" "$r_exit"
	done
	if [ ${#ready_list[@]} -gt 0 ]; then
		printf '%-9s median: ready %ss  exit %ss  (%d ok, %d failed; ready min %s max %s)\n' "$m" \
			"$(printf '%s\n' "${ready_list[@]}" | median)" \
			"$(printf '%s\n' "${exit_list[@]}" | median)" \
			"${#ready_list[@]}" "$fails" \
			"$(printf '%s\n' "${ready_list[@]}" | sort -n | head -n1)" \
			"$(printf '%s\n' "${ready_list[@]}" | sort -n | tail -n1)"
	else
		printf '%-9s: all %d runs failed\n' "$m" "$runs"
	fi
	[ $fails -eq 0 ] || status=1
done
exit $status
