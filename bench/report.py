#!/usr/bin/env python3
"""Statistics and report of bench/run-bench.sh.

    report.py RESULTS_DIR
        reads RESULTS_DIR/env.txt and RESULTS_DIR/raw/, writes results.md,
        results.json and the gnuplot inputs (*.dat, plotvars.gp)
    report.py --update-docs DOC.md RESULTS_DIR
        replaces the block between the bench-results markers of DOC.md with
        RESULTS_DIR/results.md (headings one level down)

Statistics: median (mean of the two middle values for an even count) and p95
by the nearest-rank method (with 10 runs, p95 is the slowest run).
"""
import glob
import json
import math
import os
import re
import sys
from datetime import datetime, timezone

MIB = 1024.0


# ------------------------------------------------------------------ helpers
def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return None
    if n % 2:
        return xs[n // 2]
    return (xs[n // 2 - 1] + xs[n // 2]) / 2.0


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = max(1, int(math.ceil(p / 100.0 * len(xs))))
    return xs[k - 1]


def stats(xs):
    if not xs:
        return None
    return {
        "n": len(xs),
        "median": median(xs),
        "p95": pct(xs, 95),
        "min": min(xs),
        "max": max(xs),
        "mean": sum(xs) / len(xs),
    }


def fmt_s(v):
    """seconds -> '172 ms' / '11.82 s'"""
    if v is None:
        return "-"
    if v < 1.0:
        return "%.0f ms" % (v * 1000) if v >= 0.01 else "%.1f ms" % (v * 1000)
    return "%.2f s" % v


def fmt_ms(v):
    if v is None:
        return "-"
    return "%.0f" % v if abs(v) >= 10 else "%.1f" % v


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    r = a / b
    return "%.2f×" % r if r < 100 else "%.0f×" % r


def fmt_mib(kb):
    if kb is None:
        return "-"
    return "%.1f" % (kb / MIB)


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def read_status(path):
    s = read(path)
    return s.strip() if s else None


def read_tsv(path, header=False):
    rows = []
    txt = read(path)
    if not txt:
        return rows
    lines = txt.splitlines()
    if header:
        lines = lines[1:]
    for line in lines:
        if line.strip():
            rows.append(line.split("\t"))
    return rows


def first_err(path):
    txt = read(path)
    if not txt:
        return None, 0
    lines = [l for l in txt.splitlines() if l.strip()]
    return (lines[0] if lines else None), len(lines)


def parse_time(ts):
    """RFC 3339 with nanoseconds -> epoch seconds (float)"""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$", ts)
    if not m:
        return None
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    tz = m.group(3) or "Z"
    off = 0
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        off = sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    t = base.replace(tzinfo=timezone.utc).timestamp() - off
    if m.group(2):
        t += float("0." + m.group(2))
    return t


def cell(v):
    return str(v).replace("|", "\\|").replace("\n", " ")


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(cell(c) for c in r) + " |")
    return "\n".join(out)


def short(msg, n=160):
    msg = " ".join(str(msg).split())
    return msg if len(msg) <= n else msg[: n - 1] + "…"


# ------------------------------------------------------------------ sections
LC_ROWS = [
    ("crun", "crun"),
    ("runc", "runc"),
    ("kata-cold", "kata-runtime, cold"),
    ("kata-template", "kata-runtime, from a template"),
    ("kata-cache", "kata-runtime, from the VM cache"),
    ("floor", "floor: QEMU, same kernel + initrd + devices, to `kata-agent: ready`"),
    ("floor-seabios", "floor with SeaBIOS + bzImage instead of the runtime's firmware (q35 before qboot)"),
    ("floor-baseline", "floor with SeaBIOS + the bzImage of the kernel before the boot patches (issue 17's baseline)"),
    ("kata-image", "kata-runtime, cold, image guest (systemd as init, docs/guest.md)"),
    ("floor-image", "floor: QEMU, same kernel + image guest + devices, to `kata-agent: ready`"),
]

# (label, regex on msg) in the order they happen during `run`
STAGES = [
    ("config parsed", r"^stage config-parsed\b"),
    ("QEMU exec'd", r"^stage qemu-started\b"),
    ("template restored", r"^stage template-restored\b"),
    ("agent socket connected", r"^connected to the agent socket"),
    ("console: `kata-agent: ready`", None),  # bench/watch-console.py on the VM's console.log
    ("agent ready (Hello answered)", r"^stage agent-ready\b"),
    ("sandbox ready", r"^stage vm-ready\b"),
    ("container created", r"^stage container-created\b"),
    ("shim started", r"^stage shim-started\b"),
    ("process started", r"^stage container-started\b"),
    ("process exited", r"^process \S+ exited"),
    ("VM stopped", r"^(QEMU powered off|guest synced in)"),
    ("container deleted", r"^stage container-deleted\b"),
]


def timings(path):
    """rows of a lifecycle/exec tsv (i start end secs) -> list of seconds"""
    out = []
    for r in read_tsv(path):
        try:
            out.append(float(r[3]))
        except (IndexError, ValueError):
            pass
    return out


def row_result(d, row, runs):
    xs = timings(os.path.join(d, row + ".tsv"))
    st = read_status(os.path.join(d, row + ".status")) or ("ok" if xs else "not run")
    err, nerr = first_err(os.path.join(d, row + ".err"))
    return {"stats": stats(xs), "status": st, "first_error": err, "failures": nerr, "runs": runs}


def result_note(r):
    st = r["status"]
    if r["stats"] is None:
        return short(st if st != "ok" else "no successful run", 300)
    notes = []
    if r["failures"]:
        notes.append("%d failed: %s" % (r["failures"], short(r["first_error"], 120)))
    if st not in ("ok",) and not st.startswith("n/a"):
        notes.append(short(st, 120))
    return "; ".join(notes)


FALLBACK = re.compile(r"no VM from the VM cache|there is no VM template|cannot clone the VM template|"
                      r"did not come up .*falling back|falling back to a cold boot")


def breakdown(raw, row="kata-cold"):
    """per-run stage times (ms since the bench exec'd `run`), from the --debug logs"""
    starts = {}
    for r in read_tsv(os.path.join(raw, "lifecycle", row + ".tsv")):
        try:
            starts[r[0]] = (float(r[1]), float(r[2]))
        except (IndexError, ValueError):
            pass
    console = {}
    for r in read_tsv(os.path.join(raw, row + "-console-ready.tsv")):
        try:
            console[r[0]] = float(r[1])
        except (IndexError, ValueError):
            pass
    per_stage = {label: [] for label, _ in STAGES}
    per_stage["run returned"] = []
    runs_used = 0
    fallbacks = []
    for i, (t0, t1) in sorted(starts.items(), key=lambda kv: int(kv[0])):
        logf = os.path.join(raw, row, "run-%s.log.json" % i)
        txt = read(logf)
        if not txt:
            continue
        seen = {}
        fb = None
        for line in txt.splitlines():
            try:
                j = json.loads(line)
            except ValueError:
                continue
            msg = j.get("msg", "")
            if fb is None and FALLBACK.search(msg):
                fb = msg
            t = parse_time(j.get("time", ""))
            if t is None:
                continue
            for label, rx in STAGES:
                if rx and label not in seen and re.search(rx, msg):
                    seen[label] = (t - t0) * 1000.0
        if fb:
            fallbacks.append((i, fb))
        if not seen:
            continue
        if i in console:
            seen["console: `kata-agent: ready`"] = (console[i] - t0) * 1000.0
        runs_used += 1
        for label, v in seen.items():
            per_stage[label].append(v)
        per_stage["run returned"].append((t1 - t0) * 1000.0)
    order = [label for label, _ in STAGES] + ["run returned"]
    rows = []
    prev = None
    for label in order:
        xs = per_stage[label]
        if not xs:
            continue
        m = median(xs)
        rows.append({
            "stage": label,
            "at_median_ms": m,
            "at_p95_ms": pct(xs, 95),
            "step_median_ms": None if prev is None else m - prev,
            "n": len(xs),
        })
        prev = m
    return {"runs": runs_used, "stages": rows, "raw": per_stage, "fallbacks": fallbacks}


def memory(raw, pfx=""):
    snaps = []
    for f in glob.glob(os.path.join(raw, "memory", pfx + "pods-*.tsv")):
        k = int(re.search(r"pods-(\d+)\.tsv$", f).group(1))
        comp = {}
        pods = set()
        missing = {}
        for r in read_tsv(f, header=True):
            pod, c = r[0], r[1]
            pods.add(pod)
            v = r[3] if len(r) > 3 else ""
            if v.strip():
                comp.setdefault(c, []).append(int(v))
            else:
                missing[c] = missing.get(c, 0) + 1
        npods = len(pods) or k
        per_pod = {c: sum(v) / float(npods) for c, v in comp.items()}
        mx = {c: max(v) for c, v in comp.items()}
        mi = (read(os.path.join(raw, "memory", pfx + "pods-%d.meminfo" % k)) or "").strip()
        avail = int(mi.split("=", 1)[1]) if mi.startswith("memavail_kb=") else None
        q = {}
        nq = 0
        for r in read_tsv(os.path.join(raw, "memory", pfx + "qemu-%d.tsv" % k), header=True):
            try:
                vals = [int(x) for x in r[1:6]]
            except (IndexError, ValueError):
                continue
            nq += 1
            for name, v in zip(("guest_ram", "tcg_cache", "files", "other_anon", "thp_rss"), vals):
                q[name] = q.get(name, 0) + v
        qemu_split = {name: v / float(nq) for name, v in q.items()} if nq else None
        snaps.append({"pods": k, "per_pod_kb": per_pod, "max_kb": mx, "missing": missing, "memavail_kb": avail,
                      "qemu_split_kb": qemu_split})
    return sorted(snaps, key=lambda s: s["pods"])


def density(raw, name="density"):
    rows = read_tsv(os.path.join(raw, name + ".tsv"), header=True)
    pts = []
    for r in rows:
        try:
            pts.append({
                "pod": int(r[0]), "secs": float(r[3]), "rc": int(r[4]), "running": int(r[5]),
                "total_pss_kb": int(r[6] or 0), "memavail_kb": int(r[7] or 0),
            })
        except (IndexError, ValueError):
            pass
    mi = (read(os.path.join(raw, name + ".meminfo")) or "").strip()
    avail0 = int(mi.split("=", 1)[1]) if mi.startswith("memavail0_kb=") else None
    dels = []
    for r in read_tsv(os.path.join(raw, name + "-delete.tsv"), header=True):
        try:
            if r[2] == "0":
                dels.append(float(r[1]))
        except (IndexError, ValueError):
            pass
    ctl = []
    for r in read_tsv(os.path.join(raw, name + "-control.tsv"), header=True):
        try:
            ctl.append((int(r[0]), float(r[1])))
        except (IndexError, ValueError):
            pass
    ctl.sort()
    for p in pts:
        # the control taken last before this pod (pods before the first control: the first one)
        c = [v for k, v in ctl if k <= p["pod"]] or [v for _, v in ctl[:1]]
        if c and c[-1] > 0:
            p["control_secs"] = c[-1]
            p["normalized"] = p["secs"] / c[-1]
    return {
        "points": pts,
        "control": ctl,
        "memavail0_kb": avail0,
        "status": read_status(os.path.join(raw, name + ".status")) or "not run",
        "first_error": first_err(os.path.join(raw, name + ".err"))[0],
        "failures": first_err(os.path.join(raw, name + ".err"))[1],
        "delete": stats(dels),
    }


# ------------------------------------------------------------------ report
def build(outdir):
    raw = os.path.join(outdir, "raw")
    env = {}
    for line in (read(os.path.join(outdir, "env.txt")) or "").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    runs = int(env.get("runs", "0") or 0)
    res = {"env": env}
    md = []
    md.append("# kata-runtime benchmark results (%s)" % env.get("date", "?"))
    md.append("")
    machine = env.get("machine", "?")
    if machine == "q35" and env.get("firmware"):
        machine += " (%s)" % ("qboot + PVH vmlinux" if "qboot" in os.path.basename(env["firmware"])
                              else "firmware " + env["firmware"])
    vm = "%s MiB, %s vCPU, %s, %s, shared fs %s" % (
        env.get("vm_mem_mb", "?"), env.get("vm_vcpus", "?"), machine,
        env.get("accel", "?").upper(), env.get("shared_fs", "?"))
    md.append("Host: %s CPUs (%s), %.1f GiB, Linux %s. VM: %s. %s. Runs per row: %s; density pods: %s." % (
        env.get("host_cpus", "?"), env.get("host_cpu", "?"), int(env.get("host_mem_kb", "0") or 0) / 1048576.0,
        env.get("host_kernel", "?"), vm, env.get("qemu_version", "QEMU ?"), env.get("runs", "?"),
        env.get("pods", "?")))
    md.append("Guest: kernel `%s` (%s bytes), initrd `%s` (%s bytes). %s; %s; %s." % (
        env.get("kernel", "?"), env.get("kernel_size", "?"), env.get("initrd", "?"), env.get("initrd_size", "?"),
        env.get("kata_version", "kata-runtime ?") or "kata-runtime ?", env.get("crun_version", "") or "crun ?",
        env.get("runc_version", "") or "runc ?"))
    fq = [env.get("foreign_qemu_start", "0"), env.get("foreign_qemu_end", "0")]
    load_note = "Load average at start %s, at end %s." % (env.get("load_start", "?"), env.get("load_end", "?"))
    if any(x not in ("0", "") for x in fq):
        load_note += (" **Other QEMU processes were running on the host (%s at start, %s at end): "
                      "numbers are noisier than on an idle machine.**" % tuple(fq))
    md.append(load_note)
    md.append("")

    # -- lifecycle
    lc = {row: row_result(os.path.join(raw, "lifecycle"), row, runs) for row, _ in LC_ROWS}
    bf = {"q35": [], "q35-qboot": [], "microvm": []}
    for r in read_tsv(os.path.join(raw, "barefloor.tsv")):
        try:
            bf.setdefault(r[0], []).append(float(r[2]))
        except (IndexError, ValueError):
            pass
    bf_status = read_status(os.path.join(raw, "barefloor.status")) or "not run (BENCH_SKIP)"
    for m in ("q35", "q35-qboot", "microvm"):
        st = bf_status
        if not bf[m] and bf_status == "ok":
            st = "failed: no run" if m == "q35" else "n/a (no PVH vmlinux.container next to the kernel, or no qboot)"
        lc["barefloor-" + m] = {"stats": stats(bf[m]), "status": st, "first_error": None, "failures": 0,
                                "runs": runs}
    res["lifecycle"] = lc

    def med(row):
        s = lc.get(row, {}).get("stats")
        return s["median"] if s else None

    bds = {row: breakdown(raw, row) for row in ("kata-cold", "kata-template", "kata-cache", "kata-image")}
    md.append("## Lifecycle: `run` of `/bin/true` (create, start, wait, delete)")
    md.append("")
    rows = []
    labels = LC_ROWS + [("barefloor-q35", "floor: bare-init, same kernel, no devices, q35 + SeaBIOS + bzImage (boot-floor.sh)"),
                        ("barefloor-q35-qboot", "floor: bare-init, same kernel (PVH vmlinux), no devices, q35 + qboot"),
                        ("barefloor-microvm", "floor: bare-init, same kernel (PVH vmlinux), no devices, microvm")]
    for row, label in labels:
        r = lc[row]
        s = r["stats"]
        if s is None:
            st = r["status"]
            if st.startswith("n/a"):
                shown = st if st.startswith("n/a (") else "n/a (%s)" % st[4:].strip(" :")
            elif st.startswith("failed"):
                shown = "failed"
            else:
                shown = st
            rows.append([label, shown, "", "", "", "0/%d" % runs, "", "", "", "" if shown == st else short(st, 300)])
            continue
        note = result_note(r)
        fbs = bds[row]["fallbacks"] if row in bds else []
        if fbs and row != "kata-cold":
            r["fallbacks"] = len(fbs)
            note = "; ".join(x for x in (note, "**%d of %d runs fell back to a cold boot**: %s" % (
                len(fbs), s["n"], short(fbs[0][1], 120))) if x)
        rows.append([label, fmt_s(s["median"]), fmt_s(s["p95"]), fmt_s(s["min"]), fmt_s(s["max"]),
                     "%d/%d" % (s["n"], runs), fmt_ratio(s["median"], med("runc")),
                     fmt_ratio(s["median"], med("crun")),
                     fmt_ratio(s["median"], med("floor-image" if row == "kata-image" else "floor")), note])
    md.append(table(["", "median", "p95", "min", "max", "ok", "× runc", "× crun", "× floor", "notes"], rows))
    md.append("")
    chk = (read(os.path.join(raw, "floor-cmdline.txt")) or "").strip().splitlines()
    if chk:
        md.append("Floor command line check: %s." % chk[0])
        md.append("")
    fact = {}
    for line in (read(os.path.join(raw, "factory.txt")) or "").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            try:
                fact[k] = float(v)
            except ValueError:
                pass
    if fact:
        parts = []
        if "template_init_s" in fact:
            parts.append("`factory init` of the template: %s" % fmt_s(fact["template_init_s"]))
        if "cache_init_s" in fact:
            parts.append("`factory init` of a VM cache of 1: %s" % fmt_s(fact["cache_init_s"]))
        md.append("Factory set-up (once, not in the rows): " + "; ".join(parts) + ". The cache row waits, "
                  "untimed, for the cache daemon to boot the replacement VM after each run.")
        md.append("")
        res["factory"] = fact

    # -- breakdown
    bd = bds["kata-cold"]
    res["breakdown"] = {row: {"runs": b["runs"], "stages": b["stages"], "fallbacks": b["fallbacks"]}
                        for row, b in bds.items()}
    md.append("## Boot breakdown of a cold `run` (kata-runtime `--debug` log)")
    md.append("")
    if bd["stages"]:
        total = bd["stages"][-1]["at_median_ms"]
        rows = []
        for s in bd["stages"]:
            share = "" if s["step_median_ms"] is None or not total else "%.1f%%" % (100.0 * s["step_median_ms"] / total)
            rows.append([s["stage"], fmt_ms(s["at_median_ms"]), fmt_ms(s["at_p95_ms"]),
                         fmt_ms(s["step_median_ms"]) if s["step_median_ms"] is not None else "", share])
        md.append("Milliseconds since the benchmark exec'd `kata-runtime run`, median (and p95) of %d runs; "
                  "step = difference of the medians." % bd["runs"])
        md.append("")
        md.append(table(["stage", "at (ms)", "p95 (ms)", "step (ms)", "share"], rows))
        md.append("")
        st = {s["stage"]: s["at_median_ms"] for s in bd["stages"]}
        fl = med("floor")
        qx, cr, hello = (st.get("QEMU exec'd"), st.get("console: `kata-agent: ready`"),
                         st.get("agent ready (Hello answered)"))
        parts = []
        if qx is not None and cr is not None:
            parts.append("in the runtime's runs, QEMU exec → `kata-agent: ready` on the console takes %s%s" % (
                fmt_s((cr - qx) / 1000.0),
                " (the floor: %s, %s)" % (fmt_s(fl), fmt_ratio((cr - qx) / 1000.0, fl)) if fl else ""))
        if cr is not None and hello is not None:
            parts.append("console ready → Hello answered (connect + handshake): %s" % fmt_s((hello - cr) / 1000.0))
        if qx is not None and hello is not None:
            parts.append("QEMU exec → Hello answered: %s" % fmt_s((hello - qx) / 1000.0))
        if parts:
            md.append("Guest boot: " + "; ".join(parts) + ".")
            md.append("")
    else:
        md.append("No data: %s" % short(lc["kata-cold"]["status"], 300))
        md.append("")
    others = [(row, lab) for row, lab in (("kata-template", "template"), ("kata-cache", "VM cache"),
                                          ("kata-image", "image guest"))
              if bds[row]["stages"]]
    if others:
        cols = [("kata-cold", "cold")] + others
        at = {row: {x["stage"]: x for x in bds[row]["stages"]} for row, _ in cols}
        order = [label for label, _ in STAGES] + ["run returned"]
        rows = []
        for label in order:
            if not any(label in at[row] for row, _ in cols):
                continue
            line = [label]
            for row, _ in cols:
                x = at[row].get(label)
                line += [fmt_ms(x["at_median_ms"]) if x else "-",
                         fmt_ms(x["step_median_ms"]) if x and x["step_median_ms"] is not None else ""]
            rows.append(line)
        hdr = ["stage"]
        for _, lab in cols:
            hdr += ["%s at (ms)" % lab, "step"]
        md.append("The same stages for the factory rows and the image guest (median ms since the exec of "
                  "`run`; a template clone restores instead of booting, a cached VM is booted beforehand, so the "
                  "QEMU and agent stages drop out; the image guest boots systemd, docs/guest.md):")
        md.append("")
        md.append(table(hdr, rows))
        md.append("")

    # -- exec
    ex = {row: row_result(os.path.join(raw, "exec"), row, runs) for row in ("crun", "runc", "kata")}
    res["exec"] = ex
    md.append("## Exec latency: `exec ID true` in a running container")
    md.append("")
    rows = []
    ex_runc = ex["runc"]["stats"]["median"] if ex["runc"]["stats"] else None
    for row, label in (("crun", "crun"), ("runc", "runc"), ("kata", "kata-runtime")):
        r = ex[row]
        s = r["stats"]
        if s is None:
            rows.append([label, "failed" if r["status"].startswith("failed") else r["status"], "", "", "",
                         "0/%d" % runs, "", short(r["status"], 300)])
            continue
        rows.append([label, fmt_s(s["median"]), fmt_s(s["p95"]), fmt_s(s["min"]), fmt_s(s["max"]),
                     "%d/%d" % (s["n"], runs), fmt_ratio(s["median"], ex_runc), result_note(r)])
    md.append(table(["", "median", "p95", "min", "max", "ok", "× runc", "notes"], rows))
    md.append("")

    # -- events (on the exec row's running container)
    ev_rows = read_tsv(os.path.join(raw, "events", "stats.tsv"))
    ev_wall, ev_cpu = [], []
    for r in ev_rows:
        try:
            ev_wall.append(float(r[1]))
            ev_cpu.append(float(r[2]) + float(r[3]))
        except (IndexError, ValueError):
            pass
    try:
        with open(os.path.join(raw, "events", "interval.txt")) as f:
            ev_n = int(f.read().strip() or 0)
    except (OSError, ValueError):
        ev_n = None
    res["events"] = {"stats_wall": stats(ev_wall), "stats_cpu": stats(ev_cpu), "interval_100ms_samples_in_3s": ev_n}
    if ev_wall or ev_n is not None:
        md.append("## Stats: `events --stats` and `events --interval 100ms` (kata-runtime)")
        md.append("")
        rows = []
        if ev_wall:
            sw, sc = stats(ev_wall), stats(ev_cpu)
            rows.append(["`events --stats`, wall clock", fmt_s(sw["median"]), fmt_s(sw["p95"]), "%d" % sw["n"]])
            rows.append(["`events --stats`, host CPU of kata-runtime (user + sys)", fmt_s(sc["median"]),
                         fmt_s(sc["p95"]), "%d" % sc["n"]])
        if ev_n is not None:
            rows.append(["`events --interval 100ms` for 3 s: stats lines (30 = keeps its interval)", "%d" % ev_n,
                         "", "1"])
        md.append(table(["", "median", "p95", "runs"], rows))
        md.append("")

    # -- memory
    mem = memory(raw)
    mem_t = memory(raw, "template-")
    dn = density(raw)
    dn_t = density(raw, "density-template")
    res["memory"] = {"cold": mem, "template": mem_t}
    md.append("## Memory: PSS per idle pod (MiB, from /proc/PID/smaps_rollup)")
    md.append("")
    rows = []
    vfs_na = env.get("shared_fs", "") != "virtio-fs"

    def mem_rows(snaps, kind, status):
        out = []
        for s in snaps:
            pp = s["per_pod_kb"]

            def g(c):
                if c == "virtiofsd" and vfs_na:
                    return "n/a (%s)" % env.get("shared_fs", "no virtio-fs")
                return fmt_mib(pp.get(c))

            ms = (None if pp.get("monitor") is None and pp.get("shim") is None
                  else pp.get("monitor", 0) + pp.get("shim", 0))
            tot = sum(pp.values()) if pp else None
            miss = ", ".join("%s missing in %d pods" % (c, n) for c, n in sorted(s["missing"].items())
                             if not (c == "virtiofsd" and vfs_na))
            out.append(["%d, %s" % (s["pods"], kind), g("qemu"), g("virtiofsd"), g("monitor"), g("shim"),
                        fmt_mib(ms), fmt_mib(tot), fmt_mib(s["max_kb"].get("qemu")), miss])
        if not snaps:
            st = status
            if st.startswith("n/a"):
                out.append([kind, st if st.startswith("n/a (") else "n/a (%s)" % st, "", "", "", "", "", "", ""])
            else:
                out.append([kind, "-", "-", "-", "-", "-", "-", "-", short(st, 300)])
        return out

    rows += mem_rows(mem, "cold", dn["status"])
    rows += mem_rows(mem_t, "template", dn_t["status"])
    md.append("Pods idle for %s s before the snapshot; values are the mean per pod; VM memory %s MiB." % (
        env.get("settle", "?"), env.get("vm_mem_mb", "?")))
    md.append("")
    md.append(table(["pods", "QEMU", "virtiofsd", "monitor", "shim", "monitor + shim", "total", "QEMU max", "notes"],
                    rows))
    md.append("")
    qrows = []
    for s in mem + mem_t:
        q = s.get("qemu_split_kb")
        if q:
            qrows.append(["%d, %s" % (s["pods"], "template" if s in mem_t else "cold"), fmt_mib(q.get("guest_ram")), fmt_mib(q.get("tcg_cache")),
                          fmt_mib(q.get("files")), fmt_mib(q.get("other_anon")), fmt_mib(q.get("thp_rss"))])
    if qrows:
        md.append("QEMU's PSS by mapping (MiB, mean per pod): guest RAM (the %s MiB RAM mapping; for a template clone "
                  "the copy-on-write mapping of the template's memory file), TCG translation "
                  "cache (anonymous executable mapping), files (QEMU and its libraries), other anonymous memory "
                  "(heap, thread stacks, malloc arenas); and the RSS in transparent huge pages (AnonHugePages), "
                  "which QEMU asks for on guest RAM and the TCG cache." % env.get("vm_mem_mb", "?"))
        md.append("")
        md.append(table(["pods", "guest RAM", "TCG cache", "files", "other anon", "in THP (RSS)"], qrows))
        md.append("")

    # -- density
    res["density"] = {}
    md.append("## Density: idle pods started one after another")
    md.append("")
    drows = []
    for kind, d in (("cold", dn), ("template", dn_t)):
        pts = d["points"]
        res["density"][kind] = {k: v for k, v in d.items()}
        ok = [p for p in pts if p["rc"] == 0]
        if not pts:
            st = d["status"]
            drows.append([kind, "-", "-", "-", "-", "-", "-", "-", "-", "-",
                          st if st.startswith("n/a") else short(st, 300)])
            continue
        secs = [p["secs"] for p in ok]
        st_ = stats(secs)
        last = pts[-1]
        running = last["running"]
        pss_pp = last["total_pss_kb"] / float(running) if running else None
        drop_pp = ((d["memavail0_kb"] - last["memavail_kb"]) / float(running)
                   if running and d["memavail0_kb"] else None)
        note = []
        if d["failures"]:
            note.append("%d failed: %s" % (d["failures"], short(d["first_error"], 120)))
        if d["status"] != "ok":
            note.append(short(d["status"], 160))
        drows.append([kind, len(pts), running, fmt_s(st_["median"]) if st_ else "-",
                      fmt_s(st_["p95"]) if st_ else "-", fmt_s(median([p["secs"] for p in ok[:5]])),
                      fmt_s(median([p["secs"] for p in ok[-5:]])), fmt_mib(pss_pp), fmt_mib(drop_pp),
                      fmt_s(d["delete"]["median"]) if d["delete"] else "-", "; ".join(note)])
        res["density"][kind]["summary"] = {"running": running, "start": st_, "pss_per_pod_kb": pss_pp,
                                           "memavail_drop_per_pod_kb": drop_pp}
    md.append(table(["pods", "started", "running", "run -d median", "p95", "first 5 (median)", "last 5 (median)",
                     "PSS/pod at the end (MiB)", "MemAvailable drop/pod (MiB)", "delete median", "notes"], drows))
    md.append("")
    md.append("The template ramp goes up to the largest `BENCH_MEM_POINTS` count (10 by default). A clone maps "
              "the template's memory file copy-on-write, so the pages it has not written are shared page cache "
              "(tmpfs), split among the clones in PSS and counted once in MemAvailable.")
    md.append("")

    # -- goals
    md.append("## Goals")
    md.append("")
    goals = []

    def verdict(val, limit):
        if val is None:
            return "n/a"
        return "met" if val <= limit else "**not met**"

    # issue 17's goals (docs/benchmarks.md "Goals")
    cold = med("kata-cold")
    for row, what, limit in (("kata-template", "template", 0.15), ("kata-cache", "VM cache", 0.10)):
        v = med(row)
        goal = "%s run ≤ %.2f× cold run" % (what, limit)
        if v is not None and cold:
            goals.append([goal, "%s (%s vs %s)" % (fmt_ratio(v, cold), fmt_s(v), fmt_s(cold)),
                          verdict(v / cold, limit)])
        else:
            goals.append([goal, short(lc[row]["status"], 120) if row in lc else "no data", "n/a"])
    fl = med("floor")
    if cold and fl:
        goals.append(["cold run ≤ 1.10× floor", "%s (%s vs %s)" % (fmt_ratio(cold, fl), fmt_s(cold), fmt_s(fl)),
                      verdict(cold / fl, 1.10)])
    else:
        goals.append(["cold run ≤ 1.10× floor", "no data", "n/a"])
    fl_sb = med("floor-seabios")
    fl_base = med("floor-baseline")
    if fl and fl_base:
        # the baseline: SeaBIOS + bzImage with the kernel as it was (no boot patches)
        goals.append(["boot floor ≤ 0.75× the baseline floor (SeaBIOS + bzImage, kernel before the boot patches; "
                      "q35, hot-plug kept)",
                      "%s (%s vs %s)" % (fmt_ratio(fl, fl_base), fmt_s(fl), fmt_s(fl_base)), verdict(fl / fl_base, 0.75)])
    if fl and fl_sb:
        goals.append(["boot floor ≤ 0.75× the SeaBIOS + bzImage floor, same kernel (firmware alone)",
                      "%s (%s vs %s)" % (fmt_ratio(fl, fl_sb), fmt_s(fl), fmt_s(fl_sb)), verdict(fl / fl_sb, 0.75)])
    ev = res.get("events", {})
    if ev.get("stats_cpu"):
        goals.append(["`events --stats`: ≤ 50 ms of host CPU per sample",
                      "%s (wall %s)" % (fmt_s(ev["stats_cpu"]["median"]), fmt_s(ev["stats_wall"]["median"])),
                      verdict(ev["stats_cpu"]["median"], 0.050)])
    if ev.get("interval_100ms_samples_in_3s") is not None:
        n = ev["interval_100ms_samples_in_3s"]
        goals.append(["`events --interval 100ms` keeps its interval", "%d samples in 3 s (30 expected)" % n,
                      "met" if n >= 27 else "**not met**"])
    ms_vals, q_vals = [], []
    for s in mem:  # the goals are about cold pods; template pods are in the memory table
        pp = s["per_pod_kb"]
        if "monitor" in pp or "shim" in pp:
            ms_vals.append((s["pods"], pp.get("monitor", 0) + pp.get("shim", 0)))
        if "qemu" in pp:
            q_vals.append((s["pods"], pp["qemu"]))
    if ms_vals:
        worst = max(v for _, v in ms_vals)
        goals.append(["monitor + shim ≤ 5 MiB PSS per pod",
                      ", ".join("%s MiB (%s)" % (fmt_mib(v), plural(k, "pod")) for k, v in ms_vals), verdict(worst / MIB, 5.0)])
    else:
        goals.append(["monitor + shim ≤ 5 MiB PSS per pod", "no data", "n/a"])
    if q_vals:
        worst = max(v for _, v in q_vals)
        note = ""
        if env.get("vm_mem_mb") not in ("128", None):
            note = " (VM memory %s MiB, not 128)" % env.get("vm_mem_mb")
        goals.append(["QEMU ≤ 60 MiB PSS per idle 128 MiB pod (TCG)",
                      ", ".join("%s MiB (%s)" % (fmt_mib(v), plural(k, "pod")) for k, v in q_vals) + note,
                      verdict(worst / MIB, 60.0)])
    else:
        goals.append(["QEMU ≤ 60 MiB PSS per idle 128 MiB pod (TCG)", "no data", "n/a"])
    tq = [(s["pods"], s["per_pod_kb"]["qemu"]) for s in mem_t if "qemu" in s["per_pod_kb"]] if mem_t else []
    if tq:
        goals.append(["QEMU ≤ 30 MiB PSS per template clone (10 clones, TCG)",
                      ", ".join("%s MiB (%s)" % (fmt_mib(v), plural(k, "clone")) for k, v in tq),
                      verdict(max(v for k, v in tq if k >= 10) / MIB, 30.0) if any(k >= 10 for k, _ in tq)
                      else "n/a (fewer than 10 clones)"])
    # density: 100 idle pods, the time of a run -d flat (the last 5 within 1.25x the first 5); with
    # controls (BENCH_DENSITY_CONTROL), each pod's time divided by the control of its stretch of the ramp
    for kind, d in (("cold", dn), ("template", dn_t)):
        okp = [p for p in d["points"] if p["rc"] == 0]
        ok = [p["secs"] for p in okp]
        running = d["points"][-1]["running"] if d["points"] else 0
        goal = "density, %s: 100 idle pods, `run -d` time flat" % kind
        if len(ok) >= 10:
            first, last = median(ok[:5]), median(ok[-5:])
            norm = [p["normalized"] for p in okp if "normalized" in p]
            if len(norm) == len(okp):
                nf, nl = median(norm[:5]), median(norm[-5:])
                ctl = [v for _, v in d["control"]]
                flat = nl <= 1.25 * nf
                measured = ("%d running; first 5 %s, last 5 %s; divided by the control (floor boots every %s "
                            "pods, %s to %s): %.2f and %.2f" % (running, fmt_s(first), fmt_s(last),
                                                                 d["control"][1][0] - d["control"][0][0]
                                                                 if len(d["control"]) > 1 else "-",
                                                                 fmt_s(min(ctl)), fmt_s(max(ctl)), nf, nl))
            else:
                flat = last <= 1.25 * first
                measured = "%d running; first 5 %s, last 5 %s" % (running, fmt_s(first), fmt_s(last))
            goals.append([goal, measured, "met" if running >= 100 and flat else "**not met**"])
        else:
            goals.append([goal, "%d pods" % running, "n/a"])
    md.append(table(["goal", "measured", "status"], goals))
    md.append("")
    md.append("![benchmark plots](bench.png)")
    md.append("")
    res["goals"] = [{"goal": g[0], "measured": g[1], "status": g[2]} for g in goals]

    # -- gnuplot inputs
    with open(os.path.join(outdir, "lifecycle.dat"), "w") as f:
        f.write("# label median_s p95_s\n")
        n = 0
        for row, label in labels:
            s = lc[row]["stats"]
            if s:
                short_label = {"kata-cold": "kata cold", "kata-template": "kata template", "kata-cache": "kata cache",
                               "floor": "floor (initrd)", "floor-seabios": "floor SeaBIOS", "floor-baseline": "floor baseline",
                               "kata-image": "kata image", "floor-image": "floor (image)",
                               "barefloor-q35": "bare q35", "barefloor-q35-qboot": "bare q35 qboot",
                               "barefloor-microvm": "bare microvm"}.get(row, row)
                f.write('"%s" %.6f %.6f\n' % (short_label, s["median"], s["p95"]))
                n += 1
    with open(os.path.join(outdir, "breakdown.dat"), "w") as f:
        f.write("# step median_ms\n")
        nb = 0
        for s in bd["stages"]:
            v = s["at_median_ms"] if s["step_median_ms"] is None else s["step_median_ms"]
            f.write('"→ %s" %.3f\n' % (s["stage"], max(0.001, v)))
            nb += 1
    for fname, d in (("density.dat", dn), ("density-template.dat", dn_t)):
        with open(os.path.join(outdir, fname), "w") as f:
            f.write("# pod secs rc running pss_per_pod_mib memavail_drop_per_pod_mib\n")
            for p in d["points"]:
                pp = p["total_pss_kb"] / MIB / p["running"] if p["running"] else float("nan")
                dr = ((d["memavail0_kb"] - p["memavail_kb"]) / MIB / p["running"]
                      if p["running"] and d["memavail0_kb"] else float("nan"))
                f.write("%d %.6f %d %d %.3f %.3f\n" % (p["pod"], p["secs"], p["rc"], p["running"], pp, dr))
    with open(os.path.join(outdir, "plotvars.gp"), "w") as f:
        f.write("has_lifecycle = %d\nhas_breakdown = %d\nhas_density = %d\nhas_density_template = %d\n" % (
            1 if n else 0, 1 if nb else 0, 1 if dn["points"] else 0, 1 if dn_t["points"] else 0))
        f.write('title_date = "%s"\n' % env.get("date", ""))

    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
        f.write("\n")


BEGIN = "<!-- bench-results:begin -->"
END = "<!-- bench-results:end -->"


def update_docs(doc, outdir):
    text = read(doc)
    if text is None or BEGIN not in text or END not in text:
        sys.exit("report.py: %s has no %s ... %s block" % (doc, BEGIN, END))
    md = read(os.path.join(outdir, "results.md")) or ""
    docdir = os.path.dirname(os.path.abspath(doc))
    outdir = os.path.realpath(outdir)
    lines = []
    for line in md.splitlines():
        if line.startswith("# "):
            lines.append("Results directory: `%s` (not committed)." % os.path.relpath(os.path.abspath(outdir),
                                                                                       os.path.dirname(docdir)))
            continue
        if line == "![benchmark plots](bench.png)":
            # the plot stays in the (git-ignored) results directory: no link out of docs/
            lines.append("Plots: `bench.png` in the results directory.")
            continue
        if line.startswith("#"):
            line = "#" + line
        lines.append(line)
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(doc, "w") as f:
        f.write(head + BEGIN + "\n" + "\n".join(lines).strip() + "\n" + END + tail)


def main(argv):
    if len(argv) == 4 and argv[1] == "--update-docs":
        update_docs(argv[2], argv[3])
        return 0
    if len(argv) != 2:
        sys.exit(__doc__)
    build(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
