#!/usr/bin/env python3
"""watch-console.py FILE OUT TIMEOUT [PID | @PIDFILE]

Waits for the agent's "kata-agent: ready" line in the serial console file FILE
(which need not exist yet) and writes the wall-clock time (seconds since the
epoch, the clock of bash's EPOCHREALTIME) at which it saw it to OUT.
With PID (or a file PIDFILE that will hold it), gives up when that process
(QEMU) is gone.

Exit status: 0 seen, 1 time-out, 2 process PID (QEMU) gone first.
Polls every 5 ms: one process, no fork per poll, little CPU next to a TCG guest.
"""
import os
import sys
import time

NEEDLE = b"kata-agent: ready"
POLL = 0.005


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is gone for our purpose
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    path, out, tmo = sys.argv[1], sys.argv[2], float(sys.argv[3])
    pidarg = sys.argv[4] if len(sys.argv) == 5 else ""
    pidfile = pidarg[1:] if pidarg.startswith("@") else None
    pid = int(pidarg) if pidarg and not pidfile else 0
    deadline = time.monotonic() + tmo
    f = None
    buf = b""
    while True:
        if f is None:
            try:
                f = open(path, "rb")
            except OSError:
                f = None
        if f is not None:
            chunk = f.read()
            if chunk:
                buf = buf[-len(NEEDLE):] + chunk
                if NEEDLE in buf:
                    t = time.time()
                    with open(out, "w") as o:
                        o.write("%.6f\n" % t)
                    return 0
        if pidfile and not pid:
            try:
                with open(pidfile) as p:
                    pid = int(p.read().strip() or 0)
            except (OSError, ValueError):
                pid = 0
        if pid and not alive(pid):
            return 2
        if time.monotonic() > deadline:
            return 1
        time.sleep(POLL)


if __name__ == "__main__":
    sys.exit(main())
