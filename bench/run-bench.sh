#!/bin/bash
# bench/run-bench.sh: the kata-runtime benchmark suite (method: docs/benchmarks.md).
#
# Measures, side by side in one invocation:
#   lifecycle  `run` of /bin/true (create, start, wait, delete): crun, runc,
#              kata-runtime cold / from a template / from the VM cache, and the
#              floor (QEMU booting the same kernel + initrd with the runtime's
#              devices, to the agent's "kata-agent: ready" console line),
#              interleaved run by run; kata-runtime runs log with --debug, so the
#              boot breakdown comes from the same runs
#   barefloor  tools/osbuilder/boot-floor.sh: the same kernel with a trivial init
#   exec       `exec ID true` in a running container: crun, runc, kata-runtime
#   density    idle pods (`run -d` of sleep) one after another up to BENCH_PODS,
#              with PSS per component (QEMU, virtiofsd, monitor, shim) after
#              BENCH_SETTLE seconds of idling at BENCH_MEM_POINTS pods; then
#              the same for template clones, up to the largest BENCH_MEM_POINTS
# The template and VM-cache rows need `kata-runtime factory status` to succeed
# (else "n/a (factory not implemented)"); the suite makes its own template and
# cache under its temporary directory and destroys them at the end.
# then writes results.md, results.json, bench.png and the raw data to the
# results directory.
#
# Environment (all optional):
#   BENCH_RUNS=10            runs per lifecycle / floor / exec row
#   BENCH_PODS=50            pods of the density ramp (0 skips it)
#   BENCH_MEM_POINTS="1 10"  pod counts at which PSS is measured (the last pod count too)
#   BENCH_MEM_MB=128         VM memory of every kata-runtime pod (default_memory; "config" keeps the config's)
#   BENCH_SETTLE=10          seconds pods idle before a PSS snapshot
#   BENCH_TIMEOUT=300        time-out of one runtime command, in seconds
#   BENCH_FLOOR_TIMEOUT=180  time-out of one floor boot, in seconds
#   BENCH_MIN_AVAIL_MB=2048  the density ramp stops when MemAvailable gets below this
#   BENCH_DENSITY_CONTROL=10 a control every N pods of a density ramp: 3 floor boots
#                            (no pod involved), so that the host's own drift can be
#                            told from a cost of the pods (0: none)
#   BENCH_SKIP=""            sections to skip: lifecycle,barefloor,exec,density
#   BENCH_IMAGE=              the image guest of the kata-image / floor-image rows
#   BENCH_BASELINE_KERNEL=    bzImage of the guest kernel before the boot patches
#                            (tools/osbuilder/kernel-patches): the floor-baseline row
#                            (default: configured, guest/kata-containers.img, installed)
#   BENCH_OUT                results directory (default bench/results/<date>, git-ignored)
#   BENCH_KATA_CONFIG        base configuration.toml (default: the one kata-runtime uses)
#   BENCH_UPDATE_DOCS=0      1: replace the results block of docs/benchmarks.md
#   KATA_RUNTIME, CRUN, RUNC binaries (default: from PATH)
#
# Exit status: 0 when the suite ran to the end, even if a runtime failed (the
# failures are in the report); 2 for a usage or environment error of the suite
# itself; anything else is a bug in the suite.
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

RUNS=${BENCH_RUNS:-10}
PODS=${BENCH_PODS:-50}
MEM_POINTS=${BENCH_MEM_POINTS:-1 10}
MEM_MB=${BENCH_MEM_MB:-128}
[ "$MEM_MB" = config ] && MEM_MB=
SETTLE=${BENCH_SETTLE:-10}
TMO=${BENCH_TIMEOUT:-300}
FLOOR_TMO=${BENCH_FLOOR_TIMEOUT:-180}
MIN_AVAIL_MB=${BENCH_MIN_AVAIL_MB:-2048}
DENSITY_CONTROL=${BENCH_DENSITY_CONTROL:-10}
SKIP=${BENCH_SKIP:-}
BASELINE_KERNEL=${BENCH_BASELINE_KERNEL:-}
RT=${KATA_RUNTIME:-kata-runtime}
CRUN=${CRUN:-crun}
RUNC=${RUNC:-runc}
stamp=$(date +%Y-%m-%d-%H%M%S)
OUT=${BENCH_OUT:-$top/bench/results/$stamp}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	echo "bench: error: $*" >&2
	exit 2
}
skipped() { case ",$SKIP," in *",$1,"*) return 0 ;; esac; return 1; }
is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; esac; return 0; }

for v in RUNS PODS SETTLE TMO FLOOR_TMO MIN_AVAIL_MB DENSITY_CONTROL; do
	is_uint "${!v}" || die "BENCH_$v must be a non-negative integer (got '${!v}')"
done
[ "$RUNS" -ge 1 ] || die "BENCH_RUNS must be at least 1"
[ -z "$MEM_MB" ] || is_uint "$MEM_MB" || die "BENCH_MEM_MB must be a number of MiB or \"config\""
for p in $MEM_POINTS; do is_uint "$p" || die "BENCH_MEM_POINTS: '$p' is not a pod count"; done
[ -n "${EPOCHREALTIME:-}" ] || die "bash >= 5 is needed (EPOCHREALTIME)"
[ "$(id -u)" = 0 ] || die "must run as root (runtimes, mounts, /proc/PID/smaps_rollup)"
for t in jq python3 unshare timeout tail; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found"
done
[ -x /bin/busybox ] || die "/bin/busybox not found (apt-get install busybox-static)"
file_is_static() { ! ldd "$1" >/dev/null 2>&1; }
file_is_static /bin/busybox || die "/bin/busybox is dynamically linked (need busybox-static)"

. "$here/lib.sh" # secs, toml_set

# ---------------------------------------------------------------- work area
work=$(mktemp -d /tmp/kbench.XXXXXX) || die "mktemp failed"
raw=$OUT/raw
mkdir -p "$raw/lifecycle" "$raw/exec" "$raw/memory" "$raw/kata-cold" || die "cannot create $OUT"
mkdir -p "$work/roots" "$work/floor" "$work/err"

declare -a KATA_ROOTS=() FLOOR_PIDS=() BG_PIDS=()
WATCH_PID=
declare -A KATA_IDS=() # "root id" -> 1, everything kata-runtime may have created
declare -a RUNC_IDS=() CRUN_IDS=()
cleaned=0

cleanup() {
	[ "$cleaned" = 1 ] && return
	cleaned=1
	trap '' INT TERM
	local k r id p
	log "cleaning up"
	if [ -n "${CUR_PID:-}" ]; then
		# timeout runs in a process group of its own: TERM it (it passes the
		# signal on), then KILL the group if it is still there after 10 s.
		kill -TERM "$CUR_PID" 2>/dev/null
		for _ in $(seq 100); do
			kill -0 "$CUR_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$CUR_PID" 2>/dev/null
		wait "$CUR_PID" 2>/dev/null
	fi
	for p in "${FLOOR_PIDS[@]}" "${BG_PIDS[@]}" ${WATCH_PID:-}; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for k in "${!KATA_IDS[@]}"; do
		r=${k% *} id=${k#* }
		timeout -k 5 120 "$RT" --root "$r" delete --force "$id" >/dev/null 2>&1
	done
	for r in "${KATA_ROOTS[@]}"; do
		for id in $(timeout 60 "$RT" --root "$r" list -q 2>/dev/null); do
			timeout -k 5 120 "$RT" --root "$r" delete --force "$id" >/dev/null 2>&1
		done
	done
	if [ -d "$work/roots/runc" ]; then
		for id in "${RUNC_IDS[@]}" $(timeout 30 "$RUNC" --root "$work/roots/runc" list -q 2>/dev/null); do
			timeout -k 5 60 "$RUNC" --root "$work/roots/runc" delete --force "$id" >/dev/null 2>&1
		done
	fi
	if [ -d "$work/roots/crun" ]; then
		# one namespace for all of them
		crun_ns "$BASH" -c 'for id in "${@:3}" $(timeout 30 "$1" --root "$2" list -q 2>/dev/null); do
			timeout -k 5 60 "$1" --root "$2" delete --force "$id" >/dev/null 2>&1; done' \
			crun-clean "$CRUN" "$work/roots/crun" "${CRUN_IDS[@]}"
	fi
	if [ "${template_started:-0}" = 1 ]; then
		timeout 120 "$RT" --kata-config "$kcfg_template" factory destroy >/dev/null 2>&1
	fi
	if [ "${cache_started:-0}" = 1 ]; then
		timeout 120 "$RT" --kata-config "$kcfg_cache" factory destroy >/dev/null 2>&1
	fi
	# Whatever is still mounted under the work dir, deepest first.
	awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	if awk -v w="$work/" 'index($5, w) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
		log "warning: mounts left under $work; not removing it"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# ---------------------------------------------------------------- crun wrapper
# crun cannot handle this host's hybrid cgroup layout: it runs in a private
# mount namespace with /sys/fs/cgroup/unified unmounted.
CRUN_PREP='if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then umount /sys/fs/cgroup/unified || exit 99; fi'
crun_ns() { unshare -m --propagation private "$BASH" -c "$CRUN_PREP"'; "$@"' crun-ns "$@"; }

# Runs CMD... in the background-free way every timed command runs: stdin and
# stdout /dev/null, stderr to ERRFILE, under timeout.  Sets T_START, T_END, T, RC.
# The command runs as a background job that the shell waits for, so that a
# signal interrupts the wait at once (the clean-up then stops the command).
CUR_PID=
timed() {
	local errf=$1
	shift
	T_START=$EPOCHREALTIME
	timeout -k 10 "$TMO" "$@" </dev/null >/dev/null 2>"$errf" &
	CUR_PID=$!
	wait "$CUR_PID"
	RC=$?
	T_END=$EPOCHREALTIME
	CUR_PID=
	T=$(secs "$T_START" "$T_END")
}

# The same for crun, timed inside the namespace (the unshare is not counted).
crun_timed() {
	local errf=$1 res
	shift
	res=$(unshare -m --propagation private "$BASH" -c "$CRUN_PREP"'
		errf=$1 tmo=$2; shift 2
		s=$EPOCHREALTIME
		timeout -k 10 "$tmo" "$@" </dev/null >/dev/null 2>"$errf"
		rc=$?
		e=$EPOCHREALTIME
		echo "$s $e $rc"' crun-ns "$errf" "$TMO" "$CRUN" --root "$work/roots/crun" "$@")
	RC=$?
	if [ $RC = 0 ] && [ -n "$res" ]; then
		set -- $res
		T_START=$1 T_END=$2 RC=$3
	else
		[ $RC = 99 ] && echo "cannot unmount /sys/fs/cgroup/unified in a private mount namespace" >>"$errf"
		T_START=$EPOCHREALTIME T_END=$T_START
	fi
	T=$(secs "$T_START" "$T_END")
}

errmsg() { # FILE: the last lines of an error output, on one line
	local m
	m=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 3 | tr '\n' ' ' | sed 's/[[:space:]]*$//')
	[ -n "$m" ] || m="exit status $RC (no message)"
	[ "$RC" = 124 ] && m="timed out after ${TMO}s; $m"
	printf '%.400s' "$m"
}

# ---------------------------------------------------------------- environment
rt_path=$(command -v "$RT" 2>/dev/null) || rt_path=
have_crun=0 have_runc=0 kata_ok=1 kata_err=
command -v "$CRUN" >/dev/null 2>&1 && have_crun=1
command -v "$RUNC" >/dev/null 2>&1 && have_runc=1
[ -n "$rt_path" ] || { kata_ok=0 kata_err="$RT not found"; }

# The kata-runtime configuration of the benchmark: the one kata-runtime uses
# (or BENCH_KATA_CONFIG) with default_memory = BENCH_MEM_MB.

kcfg=$work/configuration.toml
base_cfg=${BENCH_KATA_CONFIG:-}
if [ $kata_ok = 1 ]; then
	if [ -z "$base_cfg" ]; then
		base_cfg=$("$RT" kata-env --json 2>/dev/null | jq -r '.Runtime.Config.Path // ""' 2>/dev/null) || base_cfg=
	fi
	if [ -n "$base_cfg" ]; then
		[ -r "$base_cfg" ] || die "kata configuration $base_cfg is not readable"
		cp "$base_cfg" "$kcfg"
	else
		printf '# built-in defaults of %s\n' "$RT" >"$kcfg"
	fi
	[ -n "$MEM_MB" ] && toml_set "$kcfg" hypervisor.qemu default_memory "$MEM_MB"
	cp "$kcfg" "$OUT/kata-configuration.toml"
	if ! kenv=$("$RT" --kata-config "$kcfg" kata-env --json 2>"$work/err/kata-env"); then
		kata_ok=0 kata_err="kata-env failed: $(RC=1 errmsg "$work/err/kata-env")"
	fi
fi
kv() { jq -r "$1 // \"\"" <<<"$kenv" 2>/dev/null; }

# The image guest (docs/guest.md): a copy of the configuration with `image =`
# instead of `initrd =`, for the kata-image and floor-image rows.  The image:
# BENCH_IMAGE, else the configured one, else the tree's guest/, else the
# installed one.
kcfg_image=$work/configuration-image.toml
IMG_PATH='' IMG_ID='' image_msg="n/a (no image guest: make guest-image GUEST_IMAGE=image)"
if [ $kata_ok = 1 ]; then
	for f in "${BENCH_IMAGE:-}" "$(kv .Image.Path)" "$top/guest/kata-containers.img" \
		/usr/share/kata-containers/kata-containers.img; do
		if [ -n "$f" ] && [ -r "$f" ]; then IMG_PATH=$f; break; fi
	done
	if [ -n "$IMG_PATH" ]; then
		awk -v img="$IMG_PATH" '
			/^[ \t]*(initrd|image)[ \t]*=/ { print "# " $0; next }
			{ print }
			/^\[hypervisor\.qemu\][ \t]*$/ { printf("image = \"%s\"\n", img); done = 1 }
			END { if (!done) printf("[hypervisor.qemu]\nimage = \"%s\"\n", img) }
		' "$kcfg" >"$kcfg_image"
		# the MBR disk identifier: the kernel's root=PARTUUID=<id>-01, as qemu.c reads it
		IMG_ID=$(od -An -tx4 -j440 -N4 "$IMG_PATH" | tr -d ' ')
	fi
fi
if [ $kata_ok = 1 ]; then
	H_PATH=$(kv .Hypervisor.Path) H_MACHINE=$(kv .Hypervisor.MachineType)
	H_ACCEL=$(kv .Hypervisor.AccelChosen) H_TB=$(kv .Hypervisor.TbSize)
	H_FIRMWARE=$(kv .Hypervisor.Firmware) H_SLOTS=$(kv .Hypervisor.MemorySlots)
	H_MEMBACKEND=$(kv .Hypervisor.MemoryBackend)
	H_VCPUS=$(kv .Hypervisor.DefaultVCPUs) H_MAXVCPUS=$(kv .Hypervisor.DefaultMaxVCPUs)
	H_MEM=$(kv .Hypervisor.DefaultMemory) H_SHAREDFS=$(kv .Hypervisor.SharedFS)
	H_VFSD=$(kv .Hypervisor.VirtioFSDaemon) H_VFSCACHE=$(kv .Hypervisor.VirtioFSCache)
	H_DEBUG=$(kv .Hypervisor.Debug) A_DEBUG=$(kv .Agent.Debug)
	K_PATH=$(kv .Kernel.Path) K_PARAMS=$(kv .Kernel.Parameters) I_PATH=$(kv .Initrd.Path)
	ncpu=$(nproc)
	[ -n "$H_VCPUS" ] && [ "$H_VCPUS" -ge 1 ] 2>/dev/null || H_VCPUS=1
	maxv=$H_MAXVCPUS
	{ [ -z "$maxv" ] || [ "$maxv" = 0 ] || [ "$maxv" -gt "$ncpu" ]; } && maxv=$ncpu
	[ "$H_VCPUS" -gt "$maxv" ] && H_VCPUS=$maxv
	# -smp's maxcpus on q35, as qemu_maxcpus has it: default_maxvcpus (0: the host's CPUs),
	# at most 255, never fewer than the boot vCPUs (vCPU hot-plug slots, docs/kubernetes.md)
	H_SMPMAX=$H_MAXVCPUS
	{ [ -z "$H_SMPMAX" ] || [ "$H_SMPMAX" = 0 ]; } && H_SMPMAX=$ncpu
	[ "$H_SMPMAX" -gt 255 ] && H_SMPMAX=255
	[ "$H_SMPMAX" -lt "$H_VCPUS" ] && H_SMPMAX=$H_VCPUS
fi

fsize() { stat -c %s "$1" 2>/dev/null || echo "?"; }
qemu_count() { # QEMU processes on the host that are not ours (other users of the machine)
	pgrep -af qemu-system 2>/dev/null | grep -vcF "$work/"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "stamp=$stamp"
	echo "host_kernel=$(uname -r)"
	echo "host_cpus=$(nproc)"
	echo "host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
	echo "host_mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
	echo "runs=$RUNS"
	echo "pods=$PODS"
	echo "mem_points=$MEM_POINTS"
	echo "settle=$SETTLE"
	echo "kata_runtime=${rt_path:-$RT}"
	echo "kata_version=$("$RT" --version 2>/dev/null | head -n1)"
	echo "crun_version=$([ $have_crun = 1 ] && "$CRUN" --version | head -n1)"
	echo "runc_version=$([ $have_runc = 1 ] && "$RUNC" --version | head -n1)"
	echo "kata_config_base=${base_cfg:-built-in defaults}"
	if [ $kata_ok = 1 ]; then
		echo "qemu=$H_PATH"
		echo "qemu_version=$(kv .Hypervisor.Version)"
		echo "machine=$H_MACHINE"
		echo "firmware=${H_FIRMWARE:-seabios}"
		echo "memory_backend=$H_MEMBACKEND"
		echo "tb_size=$H_TB"
		echo "accel=$H_ACCEL"
		echo "accel_reason=$(kv .Hypervisor.AccelReason)"
		echo "vm_mem_mb=$H_MEM"
		echo "vm_vcpus=$H_VCPUS"
		echo "shared_fs=$H_SHAREDFS"
		echo "kernel=$K_PATH"
		echo "kernel_size=$(fsize "$K_PATH")"
		echo "initrd=$I_PATH"
		echo "initrd_size=$(fsize "$I_PATH")"
	fi
	echo "load_start=$(loadavg)"
	echo "foreign_qemu_start=$(qemu_count)"
} >"$OUT/env.txt"

log "results: $OUT"
log "runs=$RUNS pods=$PODS vm_mem=${H_MEM:-?}MiB accel=${H_ACCEL:-?} kata-runtime=${rt_path:-missing}"
n=$(qemu_count)
[ "$n" = 0 ] || log "warning: $n other QEMU processes are running: numbers will be noisy"

# ---------------------------------------------------------------- bundles
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
cp /bin/busybox "$rootfs/bin/busybox"
python3 - "$rootfs/bin" <<'EOF_PY' || die "cannot create the busybox applet links"
import os, subprocess, sys
for a in subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True, check=True).stdout.split():
    if a != "busybox" and "/" not in a:
        os.symlink("busybox", os.path.join(sys.argv[1], a))
EOF_PY
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"

# make_bundle DIR SPEC-CMD ARGS-JSON
make_bundle() {
	local d=$1 gen=$2 args=$3
	mkdir -p "$d"
	(cd "$d" && $gen) >"$work/err/spec" 2>&1 || return 1
	jq --arg r "$rootfs" --argjson a "$args" \
		'.process.terminal = false | .process.args = $a | .root.path = $r' \
		"$d/config.json" >"$d/config.json.tmp" && mv "$d/config.json.tmp" "$d/config.json"
}
true_args='["/bin/true"]'
sleep_args='["/bin/sleep","1000000"]'
oci_spec_ok=0
if [ $have_runc = 1 ] && make_bundle "$work/oci-true" "$RUNC spec" "$true_args" &&
	make_bundle "$work/oci-sleep" "$RUNC spec" "$sleep_args"; then
	oci_spec_ok=1
fi
if [ $kata_ok = 1 ]; then
	if ! make_bundle "$work/kata-true" "$RT spec" "$true_args" ||
		! make_bundle "$work/kata-sleep" "$RT spec" "$sleep_args"; then
		kata_ok=0 kata_err="kata-runtime spec failed: $(RC=1 errmsg "$work/err/spec")"
	fi
fi

# ---------------------------------------------------------------- kata helpers
# kata ROOT [args...]: kata-runtime with the benchmark configuration
new_kata_root() { # NAME VAR: creates $work/roots/NAME, remembers it for the clean-up, sets VAR
	local r=$work/roots/$1
	mkdir -p "$r"
	KATA_ROOTS+=("$r")
	printf -v "$2" '%s' "$r"
}
kata_forget() { unset "KATA_IDS[$1 $2]"; }
kata_delete() { # ROOT ID
	timeout -k 5 120 "$RT" --root "$1" delete --force "$2" >/dev/null 2>&1
	kata_forget "$1" "$2"
}

factory_ok=0 factory_msg="n/a (factory not implemented)"
if [ $kata_ok = 1 ]; then
	if "$RT" --kata-config "$kcfg" factory status >"$work/err/factory" 2>&1; then
		factory_ok=1
	else
		cp "$work/err/factory" "$raw/factory-status.txt"
	fi
fi

# ---------------------------------------------------------------- floor
# floor_argv VMDIR SHAREDDIR NAME: the QEMU command line of src/runtime/qemu.c
# for a sandbox NAME whose VM dir is VMDIR, into the array FA.
sockp() { # VMDIR NAME: absolute when it fits in sun_path, else relative to the VM dir
	local p=$1/$2
	if [ ${#p} -lt 107 ]; then echo "$p"; else echo "$2"; fi
}
# FLOOR_SEABIOS=1: the same with QEMU's default firmware (SeaBIOS) and the
# configured kernel (the bzImage), for the floor-seabios row.  FLOOR_KERNEL:
# another bzImage; FLOOR_BASELINE=1: a kernel without the boot patches (no
# lapic_timer_hz), for the floor-baseline row.
floor_argv() {
	local vm=$1 shared=$2 name=$3 microvm=0 vfs=0 bus=pci kernel=${FLOOR_KERNEL:-$K_PATH} append console alt pvh=0 fw=$H_FIRMWARE
	[ "${FLOOR_SEABIOS:-0}" = 1 ] && fw=
	[ "$H_MACHINE" = microvm ] && microvm=1 bus=device
	[ "$H_SHAREDFS" = virtio-fs ] && vfs=1
	FA=("$H_PATH" -name "sandbox-$name" -machine)
	local mb= memfd=0
	# guest RAM from a shared memfd: virtio-fs, or memory_backend = "memfd" (kata_qemu_memfd)
	{ [ $vfs = 1 ] || [ "$H_MEMBACKEND" = memfd ]; } && memfd=1 mb=,memory-backend=mem
	if [ $microvm = 1 ]; then FA+=("microvm,pic=off,pit=off,rtc=on$mb"); else FA+=("q35$mb"); fi
	FA+=(-accel)
	if [ "$H_ACCEL" != kvm ] && [ "${H_TB:-0}" -gt 0 ] 2>/dev/null; then FA+=("tcg,tb-size=$H_TB"); else FA+=("$H_ACCEL"); fi
	if [ "$H_ACCEL" = kvm ]; then FA+=(-cpu host); else FA+=(-cpu max); fi
	local smp="$H_VCPUS,maxcpus=$H_SMPMAX" # microvm has no CPU hot-plug: maxcpus = the vCPUs
	[ $microvm = 1 ] && smp="$H_VCPUS,maxcpus=$H_VCPUS"
	if [ $microvm = 0 ] && [ "${H_SLOTS:-0}" -gt 0 ] 2>/dev/null; then
		# memory hot-plug (qemu_maxmem_mb): the boot memory plus the host's RAM in 128 MiB blocks
		local host_mb=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))
		FA+=(-smp "$smp" -m "${H_MEM}M,slots=$H_SLOTS,maxmem=$((H_MEM + host_mb / 128 * 128))M")
	else
		FA+=(-smp "$smp" -m "${H_MEM}M")
	fi
	[ $memfd = 1 ] && FA+=(-object "memory-backend-memfd,id=mem,size=${H_MEM}M,share=on")
	[ $microvm = 1 ] && FA+=(-global virtio-mmio.force-legacy=false)
	FA+=(-nodefaults -nographic -no-reboot -no-user-config)
	[ $microvm = 0 ] && [ -n "$fw" ] && FA+=(-bios "$fw")
	# microvm and qboot boot the PVH vmlinux next to the kernel (kata_qemu_kernel)
	[ $microvm = 1 ] && pvh=1
	[ $microvm = 0 ] && case "$(basename "$fw")" in qboot*) pvh=1 ;; esac
	if [ $pvh = 1 ]; then
		alt=$(dirname "$kernel")/$(basename "$kernel" | sed 's/^vmlinuz/vmlinux/')
		[ -r "$alt" ] && kernel=$alt
	fi
	FA+=(-kernel "$kernel")
	[ -n "$I_PATH" ] && [ "${FLOOR_GUEST:-initrd}" = initrd ] && FA+=(-initrd "$I_PATH")
	append="console=ttyS0"
	[ "$H_DEBUG" = true ] || append="$append quiet"
	append="$append panic=-1 no_timer_check"
	if [ $microvm = 1 ] && [ -n "${FLOOR_TSC:-}" ]; then append="$append tsc_early_khz=$FLOOR_TSC"; fi
	[ "$A_DEBUG" = true ] && append="$append agent.debug=1"
	if [ "${FLOOR_GUEST:-initrd}" = image ]; then
		append="$append root=PARTUUID=$IMG_ID-01 rootfstype=ext4 rootflags=errors=remount-ro ro"
		append="$append systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service"
		append="$append systemd.mask=systemd-networkd.socket"
	fi
	[ -n "$K_PARAMS" ] && append="$append $K_PARAMS"
	# under TCG the runtime gives the patched kernel the APIC timer's clock (qemu.c)
	if [ "$H_ACCEL" != kvm ] && [ "${FLOOR_BASELINE:-0}" != 1 ]; then
		append="$append lapic_timer_hz=1000000000"
		if [ $microvm = 0 ] && [ -n "${FLOOR_TSC:-}" ]; then append="$append tsc_early_khz=$FLOOR_TSC"; fi
	fi
	console=$vm/console.log
	[ ${#console} -gt 200 ] && console=console.log
	FA+=(-append "$append" -serial "file:$console" -qmp "unix:$(sockp "$vm" qmp.sock),server=on,wait=off")
	FA+=(-sandbox "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny")
	if [ $microvm = 0 ]; then
		local i
		for i in 0 1 2 3; do
			FA+=(-device "pcie-root-port,id=rp$i,chassis=$((i + 1)),slot=$((i + 1)),bus=pcie.0,addr=0x$(printf %x $((16 + i)))")
		done
	fi
	FA+=(-device "virtio-rng-$bus" -device "virtio-serial-$bus,id=serial0")
	FA+=(-chardev "socket,id=agent,path=$(sockp "$vm" agent.sock),server=on,wait=off")
	FA+=(-device "virtserialport,bus=serial0.0,chardev=agent,name=agent.channel.0")
	if [ $vfs = 1 ]; then
		FA+=(-chardev "socket,id=vfs,path=$(sockp "$vm" vfsd.sock)" -device "vhost-user-fs-$bus,chardev=vfs,tag=kataShared")
	else
		FA+=(-fsdev "local,id=fs0,path=${shared//,/,,},security_model=none,multidevs=remap" -device "virtio-9p-$bus,fsdev=fs0,mount_tag=kataShared")
	fi
	if [ "${FLOOR_GUEST:-initrd}" = image ]; then
		FA+=(-drive "file=${IMG_PATH//,/,,},if=none,id=drive-image,format=raw,readonly=on,aio=threads")
		FA+=(-device "virtio-blk-$bus,drive=drive-image,id=image")
	fi
}

# Compares floor_argv with the command line the runtime logged (--debug) for
# sandbox ID under ROOT; writes the verdict to raw/floor-cmdline.txt.
floor_check_cmdline() {
	local logf=$1 root=$2 id=$3 logged mine
	logged=$(jq -r 'select(.msg | test("; starting ")) | .msg | sub("^.*; starting "; "")' "$logf" 2>/dev/null | head -n1)
	FLOOR_TSC=$(sed -n 's/.*tsc_early_khz=\([0-9]*\).*/\1/p' <<<"$logged")
	floor_argv "$root/vm/$id" "$root/shared/$id" "$id"
	mine=$(printf '%s ' "${FA[@]}")
	{
		if [ -z "$logged" ]; then
			echo "unchecked: the runtime's debug log has no QEMU command line"
		elif [ "${logged% }" = "${mine% }" ]; then
			echo "identical: the floor runs the runtime's QEMU command line (paths aside)"
		else
			echo "DIFFERENT: the floor's QEMU command line differs from the runtime's"
			echo "runtime: $logged"
			echo "floor:   $mine"
		fi
	} >"$raw/floor-cmdline.txt"
	head -n1 "$raw/floor-cmdline.txt" >&2
}

# One floor boot; sets T_START, T_END, T, RC and FLOOR_ERR.
floor_once() {
	local i=$1 d=$work/floor/${FLOOR_SEABIOS:+s}${FLOOR_BASELINE:+b}$1 qpid vpid=
	rm -rf "$d"
	mkdir -p "$d/shared"
	floor_argv "$d" "$d/shared" "floor-$i"
	: >"$d/console.log"
	FLOOR_ERR=
	# The watcher starts before the clock, as in lc_kata.
	python3 "$here/watch-console.py" "$d/console.log" "$d/ready" "$FLOOR_TMO" "@$d/qemu.pid" &
	WATCH_PID=$!
	sleep 0.2
	T_START=$EPOCHREALTIME
	if [ "$H_SHAREDFS" = virtio-fs ]; then
		"$H_VFSD" "--socket-path=$d/vfsd.sock" -o "source=$d/shared" -o "cache=${H_VFSCACHE:-auto}" \
			-o sandbox=namespace -o log_level=warn </dev/null >"$d/virtiofsd.log" 2>&1 &
		vpid=$!
		FLOOR_PIDS+=("$vpid")
		local n=0
		while [ ! -S "$d/vfsd.sock" ] && [ $n -lt 2000 ]; do
			kill -0 "$vpid" 2>/dev/null || break
			sleep 0.005
			n=$((n + 1))
		done
	fi
	(cd "$d" && exec "${FA[@]}" </dev/null >"$d/qemu.log" 2>&1) &
	qpid=$!
	FLOOR_PIDS+=("$qpid")
	echo "$qpid" >"$d/qemu.pid"
	CUR_PID=$WATCH_PID
	wait "$CUR_PID"
	RC=$?
	CUR_PID='' WATCH_PID=''
	if [ $RC = 0 ] && [ -s "$d/ready" ]; then
		T_END=$(<"$d/ready")
		T_END=${T_END%%[!0-9.]*}
	else
		RC=1 T_END=$EPOCHREALTIME
	fi
	T=$(secs "$T_START" "$T_END")
	if [ $RC != 0 ]; then
		if kill -0 "$qpid" 2>/dev/null; then
			FLOOR_ERR="no 'kata-agent: ready' on the console within ${FLOOR_TMO}s"
		else
			FLOOR_ERR="QEMU exited: $(tail -n 2 "$d/qemu.log" | tr '\n' ' ')"
		fi
		FLOOR_ERR="$FLOOR_ERR; console: $(tail -c 300 "$d/console.log" | tr -d '\r' | tr '\n' ' ')"
	fi
	kill -KILL "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	if [ -n "$vpid" ]; then
		kill -KILL "$vpid" 2>/dev/null
		wait "$vpid" 2>/dev/null
	fi
	FLOOR_PIDS=()
	[ $RC = 0 ] && rm -rf "$d"
}

# ---------------------------------------------------------------- row bookkeeping
declare -A CONSEC=() DISABLED=()
ROWS_LC="crun runc kata-cold kata-template kata-cache floor floor-seabios floor-baseline kata-image floor-image"
row_status() { # ROW STATUS-LINE: "n/a: ..." or "failed: ..."
	echo "$2" >"$raw/lifecycle/$1.status"
	DISABLED[$1]=$2
}
# record DIR ROW I ERRFILE [MSG]: after a timed run
record() {
	local dir=$1 row=$2 i=$3 errf=$4 msg=${5:-}
	if [ "$RC" = 0 ]; then
		printf '%s\t%s\t%s\t%s\n' "$i" "$T_START" "$T_END" "$T" >>"$dir/$row.tsv"
		CONSEC[$row]=0
		return 0
	fi
	[ -n "$msg" ] || msg=$(errmsg "$errf")
	printf 'run %s: %s\n' "$i" "$msg" >>"$dir/$row.err"
	CONSEC[$row]=$((${CONSEC[$row]:-0} + 1))
	log "$row run $i failed: $msg"
	if [ "${CONSEC[$row]}" -ge 3 ]; then
		echo "failed: 3 failures in a row, the last: $msg" >"$dir/$row.status"
		DISABLED[$row]="failed"
		log "$row: disabled after 3 failures in a row"
	fi
	return 1
}
active() { [ -z "${DISABLED[$1]:-}" ]; }

# ---------------------------------------------------------------- lifecycle
lc_crun() {
	local i=$1 id=crun-$1 e=$work/err/crun
	crun_timed "$e" run -b "$work/oci-true" "$id"
	record "$raw/lifecycle" crun "$i" "$e" ||
		crun_ns timeout 60 "$CRUN" --root "$work/roots/crun" delete --force "$id" >/dev/null 2>&1
}
lc_runc() {
	local i=$1 id=runc-$1 e=$work/err/runc
	timed "$e" "$RUNC" --root "$work/roots/runc" run -b "$work/oci-true" "$id"
	record "$raw/lifecycle" runc "$i" "$e" ||
		timeout 60 "$RUNC" --root "$work/roots/runc" delete --force "$id" >/dev/null 2>&1
}
# lc_kata ROW CONFIG ROOT I LOG
lc_kata() {
	local row=$1 cfg=$2 root=$3 i=$4 logf=$5 id=$1-$4 e=$work/err/$1 wpid=
	KATA_IDS["$root $id"]=1
	# The console line the floor waits for, seen in a cold run too (breakdown).
	# (A template clone prints none; a cached VM printed it long before.)
	rm -f "$work/ready"
	if [ "$row" = kata-cold ] || [ "$row" = kata-image ]; then
		python3 "$here/watch-console.py" "$root/vm/$id/console.log" "$work/ready" "$TMO" &
		wpid=$!
		WATCH_PID=$wpid
	fi
	sleep 0.2 # let it start before the clock does (and the same pause for every kata row)
	timed "$e" "$RT" --kata-config "$cfg" --root "$root" --debug --log "$logf" --log-format json \
		run -b "$work/kata-true" "$id"
	if [ -n "$wpid" ]; then
		kill "$wpid" 2>/dev/null
		wait "$wpid" 2>/dev/null
		WATCH_PID=
	fi
	if [ -s "$work/ready" ]; then
		printf '%s\t%s\n' "$i" "$(<"$work/ready")" >>"$raw/$row-console-ready.tsv"
	fi
	if record "$raw/lifecycle" "$row" "$i" "$e"; then
		kata_forget "$root" "$id"
	else
		kata_delete "$root" "$id"
	fi
}
lc_floor() {
	local i=$1
	floor_once "$i"
	record "$raw/lifecycle" floor "$i" /dev/null "$FLOOR_ERR"
}
lc_floor_seabios() {
	local i=$1
	FLOOR_SEABIOS=1 floor_once "$i"
	record "$raw/lifecycle" floor-seabios "$i" /dev/null "$FLOOR_ERR"
}
lc_floor_baseline() {
	local i=$1
	FLOOR_SEABIOS=1 FLOOR_BASELINE=1 FLOOR_KERNEL=$BASELINE_KERNEL floor_once "$i"
	record "$raw/lifecycle" floor-baseline "$i" /dev/null "$FLOOR_ERR"
}
lc_floor_image() {
	local i=$1
	FLOOR_GUEST=image
	floor_once "img-$i"
	FLOOR_GUEST=initrd
	record "$raw/lifecycle" floor-image "$i" /dev/null "$FLOOR_ERR"
}

lifecycle_section() {
	local i r root_cold root_tpl root_cache root_image
	log "lifecycle: $RUNS runs of run /bin/true per row, interleaved"
	# Rows that cannot run at all.
	if [ $have_crun = 0 ]; then row_status crun "failed: $CRUN not found"; fi
	if [ $have_runc = 0 ]; then
		row_status runc "failed: $RUNC not found"
	elif [ $oci_spec_ok = 0 ]; then
		row_status runc "failed: runc spec: $(RC=1 errmsg "$work/err/spec")"
	fi
	[ $oci_spec_ok = 1 ] || { active crun && row_status crun "failed: no OCI bundle (runc spec failed)"; }
	if [ $kata_ok = 0 ]; then
		for r in kata-cold kata-template kata-cache; do row_status $r "failed: $kata_err"; done
	fi
	if [ $factory_ok = 0 ]; then
		active kata-template && row_status kata-template "$factory_msg"
		active kata-cache && row_status kata-cache "$factory_msg"
	fi
	if [ $kata_ok = 0 ]; then
		for r in kata-image floor-image; do row_status $r "failed: $kata_err"; done
	elif [ -z "$IMG_PATH" ]; then
		for r in kata-image floor-image; do row_status $r "$image_msg"; done
	fi
	if [ $kata_ok = 0 ] || [ -z "${K_PATH:-}" ]; then
		row_status floor "failed: ${kata_err:-no kernel in the kata-runtime configuration}"
	elif [ ! -r "$K_PATH" ] || [ ! -r "$I_PATH" ]; then
		row_status floor "failed: kernel $K_PATH or initrd $I_PATH not readable"
	fi
	if ! active floor; then
		row_status floor-seabios "${DISABLED[floor]}"
	elif [ -z "${H_FIRMWARE:-}" ] || [ "$H_MACHINE" = microvm ]; then
		row_status floor-seabios "n/a (the runtime boots with SeaBIOS already: the floor row is that)"
	fi
	if ! active floor; then
		row_status floor-baseline "${DISABLED[floor]}"
	elif [ -z "$BASELINE_KERNEL" ]; then
		row_status floor-baseline "n/a (BENCH_BASELINE_KERNEL not set: the bzImage of the kernel before the boot patches)"
	elif [ ! -r "$BASELINE_KERNEL" ]; then
		row_status floor-baseline "failed: BENCH_BASELINE_KERNEL $BASELINE_KERNEL not readable"
	fi

	new_kata_root kata-cold root_cold
	# Warm-up (untimed): page cache, and the kata-runtime preflight: when it
	# cannot boot a VM, the kata rows are failed with its message at once
	# instead of after RUNS time-outs.
	log "warm-up"
	if active crun; then
		crun_timed "$work/err/crun" run -b "$work/oci-true" crun-warmup
		[ "$RC" = 0 ] || row_status crun "failed: $(errmsg "$work/err/crun")"
	fi
	if active runc; then
		timed "$work/err/runc" "$RUNC" --root "$work/roots/runc" run -b "$work/oci-true" runc-warmup
		[ "$RC" = 0 ] || row_status runc "failed: $(errmsg "$work/err/runc")"
	fi
	if active kata-cold; then
		KATA_IDS["$root_cold kata-warmup"]=1
		timed "$work/err/kata" "$RT" --kata-config "$kcfg" --root "$root_cold" --debug \
			--log "$raw/kata-cold/warmup.log.json" --log-format json run -b "$work/kata-true" kata-warmup
		if [ "$RC" != 0 ] && [ "$RC" != 124 ]; then
			log "kata-runtime warm-up run failed ($(errmsg "$work/err/kata")); once more"
			kata_delete "$root_cold" kata-warmup
			KATA_IDS["$root_cold kata-warmup"]=1
			timed "$work/err/kata" "$RT" --kata-config "$kcfg" --root "$root_cold" --debug \
				--log "$raw/kata-cold/warmup.log.json" --log-format json run -b "$work/kata-true" kata-warmup
		fi
		if [ "$RC" = 0 ]; then
			kata_forget "$root_cold" kata-warmup
			log "kata-runtime warm-up run: ${T}s"
		else
			kata_err=$(errmsg "$work/err/kata")
			kata_ok=0
			kata_delete "$root_cold" kata-warmup
			log "kata-runtime cannot run containers: $kata_err"
			for r in kata-cold kata-template kata-cache; do active $r && row_status $r "failed: $kata_err"; done
		fi
		active floor && floor_check_cmdline "$raw/kata-cold/warmup.log.json" "$root_cold" kata-warmup
	fi
	if active floor; then
		floor_once 0
		if [ $RC = 0 ]; then log "floor warm-up boot: ${T}s"; else row_status floor "failed: $FLOOR_ERR"; fi
	fi
	if active floor-seabios; then
		FLOOR_SEABIOS=1 floor_once 0
		if [ $RC = 0 ]; then log "floor (SeaBIOS) warm-up boot: ${T}s"; else row_status floor-seabios "failed: $FLOOR_ERR"; fi
	fi
	if active kata-image; then
		new_kata_root kata-image root_image
		mkdir -p "$raw/kata-image"
		KATA_IDS["$root_image kata-image-warmup"]=1
		timed "$work/err/kata-image" "$RT" --kata-config "$kcfg_image" --root "$root_image" --debug \
			--log "$raw/kata-image/warmup.log.json" --log-format json run -b "$work/kata-true" kata-image-warmup
		if [ "$RC" = 0 ]; then
			kata_forget "$root_image" kata-image-warmup
			log "kata-runtime warm-up run, image guest: ${T}s"
		else
			kata_delete "$root_image" kata-image-warmup
			row_status kata-image "failed: $(errmsg "$work/err/kata-image")"
		fi
	fi
	if active floor-baseline; then
		FLOOR_SEABIOS=1 FLOOR_BASELINE=1 FLOOR_KERNEL=$BASELINE_KERNEL floor_once 0
		if [ $RC = 0 ]; then log "floor (baseline kernel) warm-up boot: ${T}s"; else row_status floor-baseline "failed: $FLOOR_ERR"; fi
	fi
	if active floor-image; then
		FLOOR_GUEST=image
		floor_once img-0
		FLOOR_GUEST=initrd
		if [ $RC = 0 ]; then log "floor warm-up boot, image guest: ${T}s"; else row_status floor-image "failed: $FLOOR_ERR"; fi
	fi
	if [ $factory_ok = 1 ] && [ $kata_ok = 1 ]; then
		active kata-template && template_setup
		active kata-cache && cache_setup
	fi

	for i in $(seq 1 "$RUNS"); do
		log "lifecycle run $i/$RUNS"
		active crun && lc_crun "$i"
		active runc && lc_runc "$i"
		active kata-cold && lc_kata kata-cold "$kcfg" "$root_cold" "$i" "$raw/kata-cold/run-$i.log.json"
		active kata-template && lc_kata kata-template "$kcfg_template" "$root_tpl" "$i" "$raw/kata-template/run-$i.log.json"
		if active kata-cache; then
			lc_kata kata-cache "$kcfg_cache" "$root_cache" "$i" "$raw/kata-cache/run-$i.log.json"
			# untimed: the daemon boots a replacement; let it finish before the next row runs
			cache_wait_full || log "warning: the VM cache did not refill within ${FLOOR_TMO}s"
		fi
		active floor && lc_floor "$i"
		active floor-seabios && lc_floor_seabios "$i"
		active floor-baseline && lc_floor_baseline "$i"
		active kata-image && lc_kata kata-image "$kcfg_image" "$root_image" "$i" "$raw/kata-image/run-$i.log.json"
		active floor-image && lc_floor_image "$i"
	done
	cache_teardown # its standby VM must not idle through the other sections
	for r in $ROWS_LC; do
		[ -f "$raw/lifecycle/$r.status" ] || echo ok >"$raw/lifecycle/$r.status"
	done
	return 0
}

# The VM factory (docs/factory.md): a copy of the configuration with
# enable_template = true and the template under the work dir; another with
# vm_cache_number = 1 and the cache endpoint under the work dir (the runtime
# root must be on the endpoint's filesystem for the hand-over).
kcfg_template=$work/configuration-template.toml
kcfg_cache=$work/configuration-cache.toml
template_started=0 cache_started=0 root_tpl='' root_cache=''
template_setup() {
	new_kata_root kata-template root_tpl
	mkdir -p "$raw/kata-template"
	cp "$kcfg" "$kcfg_template"
	toml_set "$kcfg_template" factory enable_template true
	toml_set "$kcfg_template" factory template_path "\"$work/template\""
	toml_set "$kcfg_template" factory vm_cache_number 0
	template_started=1
	timed "$work/err/factory-template" "$RT" --kata-config "$kcfg_template" factory init
	if [ "$RC" = 0 ]; then
		echo "template_init_s=$T" >>"$raw/factory.txt"
		"$RT" --kata-config "$kcfg_template" factory status >"$raw/factory-template-status.txt" 2>&1
		log "factory init (template): ${T}s"
	else
		row_status kata-template "failed: factory init: $(errmsg "$work/err/factory-template")"
	fi
}
cache_setup() {
	new_kata_root kata-cache root_cache
	mkdir -p "$raw/kata-cache"
	cp "$kcfg" "$kcfg_cache"
	toml_set "$kcfg_cache" factory enable_template false
	toml_set "$kcfg_cache" factory vm_cache_number 1
	toml_set "$kcfg_cache" factory vm_cache_endpoint "\"$work/cache.sock\""
	cache_started=1
	timed "$work/err/factory-cache" "$RT" --kata-config "$kcfg_cache" factory init
	if [ "$RC" = 0 ] && cache_wait_full; then
		echo "cache_init_s=$T" >>"$raw/factory.txt"
		log "factory init (VM cache of 1): ${T}s"
	else
		row_status kata-cache "failed: the VM cache did not come up: $(errmsg "$work/err/factory-cache")"
	fi
}
# Waits until `factory status` says "cache: N of N VMs ready".
cache_wait_full() {
	local n=0 line
	while [ $n -lt $((FLOOR_TMO * 5)) ]; do
		line=$("$RT" --kata-config "$kcfg_cache" factory status 2>/dev/null | grep '^cache: [0-9]* of [0-9]* VMs ready')
		if [ -n "$line" ]; then
			set -- $line
			[ "$2" = "$4" ] && [ "$2" -gt 0 ] && return 0
		fi
		sleep 0.2
		n=$((n + 1))
	done
	return 1
}
cache_teardown() {
	if [ "$cache_started" = 1 ]; then
		timeout 120 "$RT" --kata-config "$kcfg_cache" factory destroy >/dev/null 2>&1
		cache_started=0
	fi
}
template_teardown() {
	if [ "$template_started" = 1 ]; then
		timeout 120 "$RT" --kata-config "$kcfg_template" factory destroy >/dev/null 2>&1
		template_started=0
	fi
}

# ---------------------------------------------------------------- bare floor
barefloor_section() {
	local bf=$top/tools/osbuilder/boot-floor.sh kd=$work/barefloor-kernel
	local st=$raw/barefloor.status machines=q35 vmlinux
	if [ ! -f "$bf" ]; then
		echo "n/a (tools/osbuilder/boot-floor.sh not found)" >"$st"
		return 0
	fi
	if [ -z "${K_PATH:-}" ] || [ ! -r "$K_PATH" ]; then
		echo "failed: no readable guest kernel (${K_PATH:-unknown})" >"$st"
		return 0
	fi
	mkdir -p "$kd"
	ln -sf "$K_PATH" "$kd/vmlinuz.container"
	# microvm, and q35 with qboot, too when the PVH vmlinux sits next to the
	# kernel (minimal flavor); qboot from boot-floor.sh's default path
	vmlinux=$(dirname "$K_PATH")/$(basename "$K_PATH" | sed 's/^vmlinuz/vmlinux/')
	if [ "$vmlinux" != "$K_PATH" ] && [ -r "$vmlinux" ]; then
		ln -sf "$vmlinux" "$kd/vmlinux.container"
		machines="q35 microvm"
		[ -r /usr/share/qemu/qboot.rom ] && machines="q35 q35-qboot microvm"
	fi
	log "bare-init floor: tools/osbuilder/boot-floor.sh --runs $RUNS --machine $machines"
	timeout -k 10 $((3 * RUNS * FLOOR_TMO + 120)) bash "$bf" --runs "$RUNS" --machine "$machines" \
		--timeout "$FLOOR_TMO" --accel "${H_ACCEL:-tcg}" "$kd" >"$raw/barefloor.out" 2>&1 &
	CUR_PID=$!
	wait "$CUR_PID"
	local rc=$?
	CUR_PID=
	sed -n 's/^ *\([a-z0-9-]*\) *run *\([0-9]*\): ready \([0-9.]*\)s  exit \([0-9.]*\)s.*/\1\t\2\t\3\t\4/p' \
		"$raw/barefloor.out" >"$raw/barefloor.tsv"
	if [ -s "$raw/barefloor.tsv" ]; then
		echo ok >"$st"
		[ $rc = 0 ] || echo "partial: boot-floor.sh exit status $rc (see raw/barefloor.out)" >"$st"
	else
		echo "failed: boot-floor.sh exit status $rc: $(tail -n 2 "$raw/barefloor.out" | tr '\n' ' ')" >"$st"
	fi
	return 0
}

# ---------------------------------------------------------------- events
# events_measure ROOT ID, on the running exec container: RUNS samples of
# `events --stats` (wall clock and the host CPU of kata-runtime itself, from
# bash's `time`), and how many stats lines `events --interval 100ms` prints in
# 3 s (30 when it keeps its interval).  raw/events/stats.tsv: i real user sys;
# raw/events/interval.txt: the count.
events_measure() {
	local root=$1 id=$2 i t d=$raw/events
	mkdir -p "$d"
	log "events: $RUNS samples of events --stats, and events --interval 100ms for 3 s"
	for i in $(seq 1 "$RUNS"); do
		t=$({ TIMEFORMAT='%R %U %S'; time timeout 60 "$RT" --kata-config "$kcfg" --root "$root" events --stats "$id" \
			>/dev/null 2>&1; } 2>&1) || continue
		printf '%s\t%s\n' "$i" "${t// /$'\t'}" >>"$d/stats.tsv"
	done
	timeout 3 "$RT" --kata-config "$kcfg" --root "$root" events --interval 100ms "$id" 2>/dev/null |
		grep -c '"type":"stats"' >"$d/interval.txt"
}

# ---------------------------------------------------------------- exec
exec_section() {
	local i e=$work/err/exec root st=$raw/exec
	log "exec: $RUNS runs of exec ID true per runtime"
	local c_ok=0 r_ok=0 k_ok=0
	if [ $have_crun = 1 ] && [ $oci_spec_ok = 1 ]; then
		CRUN_IDS+=(crun-exec)
		crun_timed "$e" run -d -b "$work/oci-sleep" crun-exec
		if [ "$RC" = 0 ]; then c_ok=1; else echo "failed: run -d: $(errmsg "$e")" >"$st/crun.status"; fi
	else
		echo "failed: crun or its bundle missing" >"$st/crun.status"
	fi
	if [ $have_runc = 1 ] && [ $oci_spec_ok = 1 ]; then
		RUNC_IDS+=(runc-exec)
		timed "$e" "$RUNC" --root "$work/roots/runc" run -d -b "$work/oci-sleep" runc-exec
		if [ "$RC" = 0 ]; then r_ok=1; else echo "failed: run -d: $(errmsg "$e")" >"$st/runc.status"; fi
	else
		echo "failed: runc or its bundle missing" >"$st/runc.status"
	fi
	if [ $kata_ok = 1 ]; then
		new_kata_root kata-exec root
		KATA_IDS["$root kata-exec"]=1
		timed "$e" "$RT" --kata-config "$kcfg" --root "$root" run -d -b "$work/kata-sleep" kata-exec
		if [ "$RC" = 0 ]; then k_ok=1; else echo "failed: run -d: $(errmsg "$e")" >"$st/kata.status"; fi
	else
		echo "failed: $kata_err" >"$st/kata.status"
	fi
	# one untimed exec each, then the runs interleaved
	[ $c_ok = 1 ] && crun_timed "$e" exec crun-exec true
	[ $r_ok = 1 ] && timed "$e" "$RUNC" --root "$work/roots/runc" exec runc-exec true
	[ $k_ok = 1 ] && timed "$e" "$RT" --kata-config "$kcfg" --root "$root" exec kata-exec true
	CONSEC=() DISABLED=()
	for i in $(seq 1 "$RUNS"); do
		if [ $c_ok = 1 ] && active crun; then
			crun_timed "$e" exec crun-exec true
			record "$st" crun "$i" "$e"
		fi
		if [ $r_ok = 1 ] && active runc; then
			timed "$e" "$RUNC" --root "$work/roots/runc" exec runc-exec true
			record "$st" runc "$i" "$e"
		fi
		if [ $k_ok = 1 ] && active kata; then
			timed "$e" "$RT" --kata-config "$kcfg" --root "$root" exec kata-exec true
			record "$st" kata "$i" "$e"
		fi
	done
	[ $k_ok = 1 ] && events_measure "$root" kata-exec
	[ $c_ok = 1 ] && crun_ns timeout 60 "$CRUN" --root "$work/roots/crun" delete --force crun-exec >/dev/null 2>&1
	[ $r_ok = 1 ] && timeout 60 "$RUNC" --root "$work/roots/runc" delete --force runc-exec >/dev/null 2>&1
	[ $k_ok = 1 ] && kata_delete "$root" kata-exec
	CONSEC=() DISABLED=()
	return 0
}

# ---------------------------------------------------------------- memory + density
pss_kb() { awk '/^Pss:/ { print $2; f = 1; exit } END { if (!f) print "" }' "/proc/$1/smaps_rollup" 2>/dev/null; }
rss_kb() { awk '/^Rss:/ { print $2; f = 1; exit } END { if (!f) print "" }' "/proc/$1/smaps_rollup" 2>/dev/null; }
memavail_kb() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }

# pod_pids ROOT ID: "component pid" lines (QEMU, virtiofsd, monitor, shim),
# looked up once per pod (an idle pod keeps its processes)
declare -A POD_PIDS=()
pod_pids() {
	local k="$1 $2"
	if [ -z "${POD_PIDS[$k]:-}" ]; then
		POD_PIDS[$k]=$(pod_pids_lookup "$1" "$2")
	fi
	printf '%s\n' "${POD_PIDS[$k]}"
}
pod_pids_lookup() {
	local root=$1 id=$2 sb=$1/sbs/$2/sandbox.json shim
	if [ -r "$sb" ]; then
		jq -r '"qemu \(.qemu_pid // 0)", "virtiofsd \(.virtiofsd_pid // 0)", "monitor \(.monitor_pid // 0)"' "$sb" 2>/dev/null
	fi
	shim=$(timeout 30 "$RT" --root "$root" state "$id" 2>/dev/null | jq -r '.pid // 0' 2>/dev/null)
	echo "shim ${shim:-0}"
}

# snapshot PREFIX ROOT K IDS...: PSS of every component of every pod -> raw/memory/PREFIXpods-K.tsv
snapshot() {
	local pfx=$1 root=$2 k=$3 f=$raw/memory/$1pods-$3.tsv id comp pid
	shift 3
	printf 'pod\tcomponent\tpid\tpss_kb\trss_kb\n' >"$f"
	for id in "$@"; do
		while read -r comp pid; do
			if [ "${pid:-0}" -gt 0 ] 2>/dev/null && [ -r "/proc/$pid/smaps_rollup" ]; then
				printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$comp" "$pid" "$(pss_kb "$pid")" "$(rss_kb "$pid")" >>"$f"
			else
				printf '%s\t%s\t0\t\t\n' "$id" "$comp" >>"$f"
			fi
		done < <(pod_pids "$root" "$id")
	done
	echo "memavail_kb=$(memavail_kb)" >"$raw/memory/${pfx}pods-$k.meminfo"
	# QEMU's PSS by mapping: guest RAM, the TCG translation cache, files, the rest
	printf 'pod\tguest_ram_kb\ttcg_cache_kb\tfiles_kb\tother_anon_kb\tanon_huge_rss_kb\n' >"$raw/memory/${pfx}qemu-$k.tsv"
	awk -F'\t' '$2 == "qemu" && $3 > 0 { print $1, $3 }' "$f" | while read -r id pid; do
		printf '%s\t%s\n' "$id" "$(qemu_smaps "$pid")" >>"$raw/memory/${pfx}qemu-$k.tsv"
	done
}

# qemu_smaps PID: "ram tcg files other" PSS (kB) of a QEMU process by mapping,
# then its RSS in transparent huge pages.  Guest RAM is the read-write mapping
# of exactly the VM's memory size (anonymous, a memfd for virtio-fs, or the
# template's memory file for a clone).
qemu_smaps() {
	awk -v ram=$((${H_MEM:-0} * 1024)) '
		/^[0-9a-f]+-[0-9a-f]+ / { perms = $2; path = (NF >= 6) ? $6 : ""; next }
		/^Size:/ { size = $2; next }
		/^AnonHugePages:/ { h += $2; next }
		/^Pss:/ {
			if (size == ram && perms ~ /^rw/) r += $2 # anonymous, memfd, or a template clone'"'"'s memory file
			else if (path == "" && perms ~ /x/) t += $2
			else if (path ~ /^\//) f += $2
			else o += $2
		}
		END { printf "%d\t%d\t%d\t%d\t%d\n", r, t, f, o, h }' "/proc/$1/smaps" 2>/dev/null
}

total_pss_kb() { # ROOT IDS...: PSS of all components of the pods
	local root=$1 id comp pid sum=0 v
	shift
	for id in "$@"; do
		while read -r comp pid; do
			[ "${pid:-0}" -gt 0 ] 2>/dev/null || continue
			v=$(pss_kb "$pid")
			[ -n "$v" ] && sum=$((sum + v))
		done < <(pod_pids "$root" "$id")
	done
	echo $sum
}

# density_control FILE POD: 3 floor boots (the runtime's QEMU line, no runtime,
# no pod), their median appended to FILE as "POD<TAB>secs" (the control of the
# pods from POD on).  This host is a shared nested guest whose speed drifts by
# half within minutes (docs/benchmarks.md): the pods' times are judged against it.
density_control() {
	local f=$1 pod=$2 k v=()
	[ "$DENSITY_CONTROL" -gt 0 ] 2>/dev/null || return 0
	[ -n "${K_PATH:-}" ] && [ -r "$K_PATH" ] || return 0
	for k in 1 2 3; do
		floor_once "ctl-$pod-$k"
		[ "$RC" = 0 ] && v+=("$T")
	done
	[ ${#v[@]} -gt 0 ] || return 0
	printf '%s\t%s\n' "$pod" "$(printf '%s\n' "${v[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" >>"$f"
}

# density_section NAME CONFIG PODS: NAME "" (cold) or "template-"; files
# raw/density.tsv / raw/density-template.tsv, raw/memory/[template-]pods-K.tsv
density_section() {
	local pfx=$1 cfg=$2 npods=$3 root i id e=$work/err/density points last_snap=0 avail0 avail
	local dn=density${pfx:+-${pfx%-}} label=${pfx:-cold}
	local -a live=()
	label=${label%-}
	if [ "$npods" = 0 ]; then
		echo "n/a (BENCH_PODS=0)" >"$raw/$dn.status"
		return 0
	fi
	if [ $kata_ok = 0 ]; then
		echo "failed: $kata_err" >"$raw/$dn.status"
		return 0
	fi
	new_kata_root "pods${pfx:+-${pfx%-}}" root
	points=" $MEM_POINTS $npods "
	log "density ($label): up to $npods idle pods; PSS snapshots at pods: $(printf '%s\n' $points | sort -nu | awk -v n="$npods" '$1 <= n' | tr '\n' ' ')(after ${SETTLE}s idle)"
	avail0=$(memavail_kb)
	echo "memavail0_kb=$avail0" >"$raw/$dn.meminfo"
	printf 'pod\tstart\tend\tsecs\trc\tpods_running\ttotal_pss_kb\tmemavail_kb\n' >"$raw/$dn.tsv"
	printf 'from_pod\tcontrol_secs\n' >"$raw/$dn-control.tsv"
	CONSEC=() DISABLED=()
	for i in $(seq 1 "$npods"); do
		if [ "$DENSITY_CONTROL" -gt 0 ] 2>/dev/null && [ $(((i - 1) % DENSITY_CONTROL)) = 0 ]; then
			density_control "$raw/$dn-control.tsv" "$i"
		fi
		avail=$(memavail_kb)
		if [ $((avail / 1024)) -lt "$MIN_AVAIL_MB" ]; then
			echo "stopped at $((i - 1)) pods: MemAvailable $((avail / 1024)) MiB < BENCH_MIN_AVAIL_MB=$MIN_AVAIL_MB" >"$raw/$dn.status"
			log "density: low memory, stopping"
			break
		fi
		id=pod-$i
		KATA_IDS["$root $id"]=1
		timed "$e" "$RT" --kata-config "$cfg" --root "$root" run -d -b "$work/kata-sleep" "$id"
		if [ "$RC" = 0 ]; then
			live+=("$id")
			POD_PIDS["$root $id"]=$(pod_pids_lookup "$root" "$id")
			CONSEC[density]=0
		else
			printf 'pod %s: %s\n' "$i" "$(errmsg "$e")" >>"$raw/$dn.err"
			log "density: pod $i failed: $(errmsg "$e")"
			kata_delete "$root" "$id"
			CONSEC[density]=$((${CONSEC[density]:-0} + 1))
		fi
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$T_START" "$T_END" "$T" "$RC" "${#live[@]}" \
			"$(total_pss_kb "$root" "${live[@]}")" "$(memavail_kb)" >>"$raw/$dn.tsv"
		log "density ($label): pod $i: ${T}s (rc $RC), ${#live[@]} running"
		if [ "${CONSEC[density]}" -ge 3 ]; then
			echo "stopped at pod $i: 3 failures in a row" >"$raw/$dn.status"
			break
		fi
		case "$points" in *" $i "*)
			if [ "${#live[@]}" -gt 0 ]; then
				sleep "$SETTLE"
				snapshot "$pfx" "$root" "${#live[@]}" "${live[@]}"
				last_snap=${#live[@]}
				log "memory snapshot ($label) at ${#live[@]} pods"
			fi
			;;
		esac
	done
	density_control "$raw/$dn-control.tsv" "$((i + 1))"
	if [ "${#live[@]}" -gt 0 ] && [ "$last_snap" != "${#live[@]}" ]; then
		sleep "$SETTLE"
		snapshot "$pfx" "$root" "${#live[@]}" "${live[@]}"
	fi
	[ -f "$raw/$dn.status" ] || echo ok >"$raw/$dn.status"
	log "density ($label): deleting ${#live[@]} pods"
	printf 'pod\tsecs\trc\n' >"$raw/$dn-delete.tsv"
	for id in "${live[@]}"; do
		timed "$e" "$RT" --kata-config "$cfg" --root "$root" delete --force "$id"
		printf '%s\t%s\t%s\n' "$id" "$T" "$RC" >>"$raw/$dn-delete.tsv"
		kata_forget "$root" "$id"
	done
	return 0
}

# Template pods, up to the largest BENCH_MEM_POINTS (at most BENCH_PODS).
template_density_section() {
	local n=0 p st
	for p in $MEM_POINTS; do [ "$p" -gt $n ] && n=$p; done
	[ "$n" -gt "$PODS" ] && n=$PODS
	[ "$n" -gt 0 ] || n=$PODS
	if [ $kata_ok != 1 ]; then
		echo "failed: $kata_err" >"$raw/density-template.status"
		return 0
	fi
	if [ $factory_ok != 1 ]; then
		echo "$factory_msg" >"$raw/density-template.status"
		return 0
	fi
	[ "$template_started" = 1 ] || template_setup # the lifecycle section was skipped
	st=$(cat "$raw/lifecycle/kata-template.status" 2>/dev/null) || st=ok
	case "$st" in
	ok | "") ;;
	*)
		echo "$st" >"$raw/density-template.status"
		return 0
		;;
	esac
	density_section template- "$kcfg_template" "$n"
}

# ---------------------------------------------------------------- main
skipped lifecycle || lifecycle_section
skipped barefloor || barefloor_section
skipped exec || exec_section
if ! skipped density; then
	density_section "" "$kcfg" "$PODS"
	template_density_section
fi
template_teardown

{
	echo "load_end=$(loadavg)"
	echo "foreign_qemu_end=$(qemu_count)"
} >>"$OUT/env.txt"

log "report"
status=0
python3 "$here/report.py" "$OUT" || status=$?
if [ $status = 0 ]; then
	if command -v gnuplot >/dev/null 2>&1; then
		(cd "$OUT" && gnuplot "$here/plot.gp") >"$raw/gnuplot.log" 2>&1 ||
			log "warning: gnuplot failed: $(tail -n 3 "$raw/gnuplot.log" | tr '\n' ' ')"
	else
		log "warning: gnuplot not found (apt-get install gnuplot-nox): no bench.png"
	fi
	ln -sfn "$(basename "$OUT")" "$(dirname "$OUT")/latest" 2>/dev/null
	if [ "${BENCH_UPDATE_DOCS:-0}" = 1 ]; then
		python3 "$here/report.py" --update-docs "$top/docs/benchmarks.md" "$OUT" || status=$?
	fi
	echo
	cat "$OUT/results.md"
	echo
	log "results in $OUT (results.md, results.json, bench.png, raw/)"
fi
exit $status
