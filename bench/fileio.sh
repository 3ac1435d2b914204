#!/bin/bash
# bench/fileio.sh: file I/O through the shared filesystem, kata-runtime against runc
# on the same host directory, in one invocation (method: docs/benchmarks.md "File I/O").
#
# One container per runtime configuration (runc, then kata-runtime with each
# configuration of the sweep) runs `sleep`; every phase is one `exec` timed from
# the host, so the exec's own cost is in every row (tens of ms, small next to
# the phases):
#   write    dd 256 MiB of zeros into a file of the bind-mounted volume, fsync'd
#   read     dd it back (the host's page cache is dropped before; the guest's is
#            whatever the shared filesystem's cache mode keeps)
#   untar-v  unpack a tar of 10,000 small files (1 KiB) into the volume
#   untar-r  the same into the container's rootfs (/untar)
# Each phase runs BENCH_FILEIO_RUNS times; the median is reported, with the
# ratio to runc (throughput for write/read, time for the untar rows).
#
# Environment (all optional):
#   BENCH_FILEIO_MB=256        size of the large file
#   BENCH_FILEIO_FILES=10000   number of small files
#   BENCH_FILEIO_RUNS=1        runs per phase
#   BENCH_FILEIO_SWEEP="..."   kata configurations, space separated, each
#                              "virtio-9p:MSIZE" (bytes), "9p-cache:MODE"
#                              (cache_9p: none, mmap, loose) or
#                              "virtio-fs:CACHE" (auto, none, always);
#                              "default" is the configuration as it is
#                              (default: "default virtio-9p:8192 9p-cache:loose
#                              virtio-fs:auto virtio-fs:always")
#   BENCH_OUT                  results directory (fileio.md and fileio.json there)
#   KATA_RUNTIME, RUNC, BENCH_KATA_CONFIG
# Exit status: 0 when the suite ran to the end (a failed row is in the report).
set -u -o pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh" # secs, toml_set
MB=${BENCH_FILEIO_MB:-256}
NFILES=${BENCH_FILEIO_FILES:-10000}
RUNS=${BENCH_FILEIO_RUNS:-1}
SWEEP=${BENCH_FILEIO_SWEEP:-default virtio-9p:8192 9p-cache:loose virtio-fs:auto virtio-fs:always}
RT=${KATA_RUNTIME:-kata-runtime}
RUNC=${RUNC:-runc}
OUT=${BENCH_OUT:-$top/bench/results/fileio-$(date +%Y-%m-%d-%H%M%S)}
TMO=600

log() { printf '[fileio %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 2
}
for v in MB NFILES RUNS; do
	case ${!v} in '' | *[!0-9]* | 0) die "BENCH_FILEIO_$v must be a positive integer (got '${!v}')" ;; esac
done
[ "$(id -u)" = 0 ] || die "must run as root"
[ -n "${EPOCHREALTIME:-}" ] || die "bash >= 5 is needed (EPOCHREALTIME)"
for t in jq python3 "$RUNC" "$RT"; do command -v "$t" >/dev/null 2>&1 || die "$t not found"; done
[ -x /bin/busybox ] || die "/bin/busybox not found (apt-get install busybox-static)"

mkdir -p "$OUT" || die "cannot create $OUT"
work=$(mktemp -d /tmp/kfileio.XXXXXX) || die "mktemp failed"
declare -a CLEAN=()
cleanup() {
	local c
	for c in "${CLEAN[@]}"; do eval "$c" >/dev/null 2>&1; done
	awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r umount -l 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The rootfs (busybox) and the data: a volume directory per row, and the tar.
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp" "$rootfs/vol"
cp /bin/busybox "$rootfs/bin/busybox"
for a in sh dd tar rm mkdir sync sleep true cat; do ln -s busybox "$rootfs/bin/$a"; done
python3 - "$work/small.tar" "$NFILES" <<'EOF_PY' || die "cannot make the tar of small files"
import io, sys, tarfile
n = int(sys.argv[2])
with tarfile.open(sys.argv[1], "w") as t:
    data = b"x" * 1024
    for i in range(n):
        ti = tarfile.TarInfo("d%03d/f%05d" % (i // 100, i))
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
EOF_PY


# make_bundle DIR SPEC-CMD VOLDIR
make_bundle() {
	mkdir -p "$1"
	(cd "$1" && $2) >/dev/null 2>&1 || return 1
	jq --arg r "$rootfs" --arg v "$3" '.process.terminal = false | .process.args = ["/bin/sleep","100000"]
		| .root.path = $r | .root.readonly = false
		| .mounts += [{"destination":"/vol","type":"bind","source":$v,"options":["rbind","rw"]}]' \
		"$1/config.json" >"$1/c.tmp" && mv "$1/c.tmp" "$1/config.json"
}


base_cfg=${BENCH_KATA_CONFIG:-$("$RT" kata-env --json 2>/dev/null | jq -r '.Runtime.Config.Path // ""')}
[ -r "$base_cfg" ] || die "no readable kata configuration (BENCH_KATA_CONFIG)"

# Phases: the exec argv of each, as one sh -c string.
ph_write="dd if=/dev/zero of=/vol/big bs=1M count=$MB conv=fsync 2>/dev/null"
ph_read="dd if=/vol/big of=/dev/null bs=1M 2>/dev/null"
ph_untar_v="rm -rf /vol/untar && mkdir /vol/untar && tar -xf /vol/small.tar -C /vol/untar && sync"
ph_untar_r="rm -rf /untar && mkdir /untar && tar -xf /vol/small.tar -C /untar && sync"
PHASES="write read untar-v untar-r"
phase_cmd() {
	case $1 in
	write) echo "$ph_write" ;; read) echo "$ph_read" ;; untar-v) echo "$ph_untar_v" ;; untar-r) echo "$ph_untar_r" ;;
	esac
}

results=$work/results.tsv # row phase run seconds
: >"$results"
declare -A ROW_ERR=()

# run_row NAME RUNTIME-ARGV...: one container, every phase RUNS times.
run_row() {
	local name=$1
	shift
	local vol=$work/vol-$name b=$work/b-$name id=fio-$name-$$ p r s e
	mkdir -p "$vol"
	cp "$work/small.tar" "$vol/small.tar"
	local gen="$RUNC spec"
	[ "$1" != "$RUNC" ] && gen="$RT spec"
	make_bundle "$b" "$gen" "$vol" || {
		ROW_ERR[$name]="spec failed"
		return
	}
	CLEAN+=("$(printf '%q ' "$@") delete --force $id")
	if ! timeout "$TMO" "$@" run -d --bundle "$b" "$id" </dev/null >/dev/null 2>"$work/err-$name"; then
		ROW_ERR[$name]="run failed: $(tail -n2 "$work/err-$name" | tr '\n' ' ')"
		return
	fi
	for r in $(seq "$RUNS"); do
		for p in $PHASES; do
			[ "$p" = read ] && {
				sync
				echo 3 >/proc/sys/vm/drop_caches
			}
			s=$EPOCHREALTIME
			if ! timeout "$TMO" "$@" exec "$id" sh -c "$(phase_cmd "$p")" </dev/null >/dev/null 2>"$work/err-$name"; then
				ROW_ERR[$name]="$p failed: $(tail -n2 "$work/err-$name" | tr '\n' ' ')"
				break 2
			fi
			e=$EPOCHREALTIME
			printf '%s\t%s\t%s\t%s\n' "$name" "$p" "$r" "$(secs "$s" "$e")" >>"$results"
			log "$name $p run $r: $(secs "$s" "$e") s"
		done
	done
	timeout 120 "$@" delete --force "$id" >/dev/null 2>&1
	rm -rf "$vol" "$rootfs/untar"
}

log "results: $OUT; ${MB} MiB file, $NFILES small files, $RUNS runs; load $(cut -d' ' -f1-3 /proc/loadavg)"
rows="runc"
mkdir -p "$work/roots/runc"
run_row runc "$RUNC" --root "$work/roots/runc"
for c in $SWEEP; do
	name=kata-${c//[:\/]/-}
	cfg=$work/$name.toml
	cp "$base_cfg" "$cfg"
	case $c in
	default) ;;
	virtio-9p:*)
		toml_set "$cfg" hypervisor.qemu shared_fs '"virtio-9p"'
		toml_set "$cfg" hypervisor.qemu msize_9p "${c#*:}"
		;;
	virtio-fs:*)
		toml_set "$cfg" hypervisor.qemu shared_fs '"virtio-fs"'
		toml_set "$cfg" hypervisor.qemu virtio_fs_cache "\"${c#*:}\""
		;;
	9p-cache:*)
		toml_set "$cfg" hypervisor.qemu shared_fs '"virtio-9p"'
		toml_set "$cfg" hypervisor.qemu cache_9p "\"${c#*:}\""
		;;
	*) die "BENCH_FILEIO_SWEEP: unknown entry '$c'" ;;
	esac
	rows="$rows $name"
	mkdir -p "$work/roots/$name"
	run_row "$name" "$RT" --kata-config "$cfg" --root "$work/roots/$name"
done

errs=$work/errors.tsv
: >"$errs"
for k in "${!ROW_ERR[@]}"; do printf '%s\t%s\n' "$k" "${ROW_ERR[$k]}" >>"$errs"; done
python3 - "$results" "$errs" "$OUT" "$MB" "$NFILES" "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)" $rows <<'EOF_PY'
import json, statistics, sys
res, errs, out, mb, nfiles, runs, load = sys.argv[1:8]
rows = sys.argv[8:]
mb = int(mb)
t = {}
for line in open(res):
    name, phase, run, s = line.rstrip("\n").split("\t")
    t.setdefault(name, {}).setdefault(phase, []).append(float(s))
err = dict(l.rstrip("\n").split("\t", 1) for l in open(errs) if l.strip())
med = {n: {p: statistics.median(v) for p, v in ph.items()} for n, ph in t.items()}
ref = med.get("runc", {})
def cell(n, p):
    if p not in med.get(n, {}):
        return "n/a"
    v = med[n][p]
    if p in ("write", "read"):
        txt = "%.0f MiB/s" % (mb / v)
        if n != "runc" and p in ref:
            txt += " (%.2f×)" % (ref[p] / v)  # throughput ratio
    else:
        txt = "%.2f s" % v
        if n != "runc" and p in ref:
            txt += " (%.1f×)" % (v / ref[p])  # time ratio
    return txt
lines = ["| row | write %d MiB | read | %s small files in the volume | in the rootfs |" % (mb, nfiles),
         "|---|---|---|---|---|"]
for n in rows:
    if n in err and n not in med:
        lines.append("| %s | failed: %s | | | |" % (n, err[n].replace("|", "/")))
        continue
    lines.append("| %s | %s |" % (n, " | ".join(cell(n, p) for p in ("write", "read", "untar-v", "untar-r"))))
notes = ["", "Medians of %s runs; ratios are against runc on the same host directory in the same run" % runs,
         "(throughput ratio for write/read: higher is better; time ratio for the small files: lower is better).",
         "Load average at the end: %s." % load]
for n, e in sorted(err.items()):
    if n in med:
        notes.append("%s: %s" % (n, e))
open(out + "/fileio.md", "w").write("\n".join(lines + notes) + "\n")
json.dump({"runs": t, "medians": med, "errors": err, "mb": mb, "files": int(nfiles)},
          open(out + "/fileio.json", "w"), indent=1)
print("\n".join(lines + notes))
EOF_PY
