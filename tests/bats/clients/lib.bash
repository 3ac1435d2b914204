#!/bin/bash
# Shared helpers for the real-client tests (docker.bats, podman.bats,
# containerd.bats).  Each file runs the same scenarios twice: once with runc
# (the reference) and once with kata-runtime.
#
# Everything a test starts lives under one temporary directory (CLIENTS_TMP)
# and, for the daemons, in a network namespace of its own created here; the
# files' teardown_file stops the daemons, unmounts whatever is left under the
# temporary directory and deletes the namespace.
#
# Environment:
#   KATA_RUNTIME        runtime under test (default /usr/local/bin/kata-runtime)
#   RUNC_RUNTIME        reference runtime (default: runc in PATH)
#   KATA_CLIENTS_CACHE  where the busybox image tar is built once per run
#   KATA_CLIENTS_TIMEOUT_RUNC / KATA_CLIENTS_TIMEOUT_KATA
#                       per-client-command time-outs in seconds (60 / 90)
#   KATA_CLIENTS_KEEP=1 keep the temporary directory for post-mortems
#   KATA_CLIENTS_REGISTRY  file that lists each file's temporary directory, so
#                       that run-clients.sh can sweep them whatever happened

CLIENTS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLIENTS_SRC_ROOT=$(cd "$CLIENTS_LIB_DIR/../../.." && pwd)

KATA_RUNTIME=${KATA_RUNTIME:-/usr/local/bin/kata-runtime}
RUNC_RUNTIME=${RUNC_RUNTIME:-$(command -v runc || echo /usr/sbin/runc)}
# /usr/local/bin may hold a newer docker CLI; the tests drive docker.io's own.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
CLIENT_IMAGE=localhost/kata-busybox:latest
CLIENTS_TIMEOUT_RUNC=${KATA_CLIENTS_TIMEOUT_RUNC:-60}
CLIENTS_TIMEOUT_KATA=${KATA_CLIENTS_TIMEOUT_KATA:-90}
# bats >= 1.7 kills a test that runs longer than this.
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-600}

# ---------------------------------------------------------------- messages --

log() { echo "# $*" >&3; }

fail() {
  echo "FAIL: $*" >&2
  return 1
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
  if [ "$1" != "$2" ]; then
    printf 'FAIL: %s\n  expected: %q\n  actual:   %q\n' "${3:-value}" "$1" "$2" >&2
    return 1
  fi
}

assert_ne() {
  if [ "$1" = "$2" ]; then
    printf 'FAIL: %s\n  must differ from: %q\n' "${3:-value}" "$1" >&2
    return 1
  fi
}

# assert_match REGEX ACTUAL [WHAT]
assert_match() {
  if ! [[ $2 =~ $1 ]]; then
    printf 'FAIL: %s\n  pattern: %s\n  actual:  %q\n' "${3:-value}" "$1" "$2" >&2
    return 1
  fi
}

# assert_status EXPECTED  (after bats `run`)
assert_status() {
  if [ "$status" != "$1" ]; then
    printf 'FAIL: exit status %s, expected %s\n--- output:\n%s\n---\n' \
      "$status" "$1" "$output" >&2
    [ -n "${stderr:-}" ] && printf -- '--- stderr:\n%s\n---\n' "$stderr" >&2
    return 1
  fi
}

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
  local t=$1; shift
  local end=$((SECONDS + t))
  while ! "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && return 1
    sleep 0.2
  done
}

# Strip what a terminal adds to output: CR and NUL.
tty_clean() { tr -d '\r\000'; }

# ------------------------------------------------------- packages, image ---

clients_require_packages() {
  local missing=0 b
  for b in "$DOCKER_CLI" dockerd podman conmon containerd ctr runc crun script nsenter ip; do
    command -v "$b" >/dev/null 2>&1 || missing=1
  done
  if [ $missing = 1 ]; then
    bash "$CLIENTS_SRC_ROOT/tools/install-deps.sh" >&2 ||
      { echo "client packages missing and install-deps.sh failed" >&2; return 1; }
  fi
}

# The busybox image, built once per run into $KATA_CLIENTS_CACHE:
#   $CLIENTS_CACHE/busybox.tar   docker-archive for `docker load`, `ctr image import`, `podman load`
clients_build_image() {
  CLIENTS_CACHE=${KATA_CLIENTS_CACHE:-$BATS_RUN_TMPDIR/kata-clients-cache}
  export CLIENTS_CACHE
  mkdir -p "$CLIENTS_CACHE"
  (
    flock 9
    [ -s "$CLIENTS_CACHE/busybox.tar" ] && exit 0
    set -e
    local b=$CLIENTS_CACHE/build
    rm -rf "$b"; mkdir -p "$b/rootfs"
    local r=$b/rootfs
    mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,tmp,root,var/tmp,usr/bin,usr/sbin}
    chmod 1777 "$r/tmp" "$r/var/tmp"
    local bb=/bin/busybox
    if ldd "$bb" >/dev/null 2>&1; then
      echo "$bb is not a static busybox (install busybox-static)" >&2; exit 1
    fi
    # one process for the ~270 applet links (a fork costs ~25 ms here);
    # they point at the path this busybox runs from, e.g. /usr/bin/busybox
    "$bb" --install -s "$r/bin"
    local target; target=$(readlink "$r/bin/sh")
    rm -f "$r/bin/busybox"
    cp "$bb" "$r/bin/busybox"
    if [ "$target" != /bin/busybox ]; then
      mkdir -p "$r$(dirname "$target")"
      ln -sf /bin/busybox "$r$target"
    fi
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
    : >"$r/etc/hostname"; : >"$r/etc/hosts"; : >"$r/etc/resolv.conf"
    local P=(podman --root "$b/storage" --runroot "$b/run" --storage-driver vfs)
    local conf=$b/containers.conf
    printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nlock_type = "file"\ntmp_dir = "%s"\n' \
      "$b/tmp" >"$conf"
    tar -C "$r" -c . | CONTAINERS_CONF=$conf "${P[@]}" import \
      --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
      - "$CLIENT_IMAGE" >/dev/null
    CONTAINERS_CONF=$conf "${P[@]}" save --format docker-archive \
      -o "$CLIENTS_CACHE/busybox.tar.new" "$CLIENT_IMAGE" >/dev/null 2>&1
    mv "$CLIENTS_CACHE/busybox.tar.new" "$CLIENTS_CACHE/busybox.tar"
    CONTAINERS_CONF=$conf "${P[@]}" system reset -f >/dev/null 2>&1 || true
    clients_umount_under "$b"
    rm -rf "$b"
  ) 9>"$CLIENTS_CACHE/.lock"
  [ -s "$CLIENTS_CACHE/busybox.tar" ]
}

# --------------------------------------------------------- temp, netns ------

# clients_tmp_init NAME: a short temporary directory (unix socket paths are
# limited to 108 bytes) in $CLIENTS_TMP, with a record of what to clean.
clients_tmp_init() {
  CLIENTS_TMP=$(mktemp -d "/tmp/kc-$1.XXXXXX")
  export CLIENTS_TMP
  chmod 755 "$CLIENTS_TMP"
  if [ -n "${KATA_CLIENTS_REGISTRY:-}" ]; then
    echo "$CLIENTS_TMP" >>"$KATA_CLIENTS_REGISTRY"
  fi
}

# clients_add_root DIR: a runtime state root outside $CLIENTS_TMP that only
# this file uses (containerd's /run/containerd/runc/<ns>); the sweep deletes
# whatever containers are left there, and the empty directories.
clients_add_root() { echo "$1" >>"$CLIENTS_TMP/roots"; }

# clients_add_cgroup NAME: a cgroup /NAME (in every hierarchy) that only this
# file uses; the sweep removes it once it is empty.
clients_add_cgroup() { echo "$1" >>"$CLIENTS_TMP/cgroups"; }

clients_rm_cgroups() {
  local name h
  for name in $(cat "$1/cgroups" 2>/dev/null); do
    case $name in "" | */* | .*) continue ;; esac
    for h in /sys/fs/cgroup/* /sys/fs/cgroup/unified; do
      [ -d "$h/$name" ] || continue
      # rmdir removes only empty cgroups: a busy one stays (and is reported)
      find "$h/$name" -depth -type d -exec rmdir {} + 2>/dev/null ||
        echo "cgroup $h/$name still in use" >&2
    done
  done
}

# clients_netns_add NAME: a new, empty network namespace (only lo, up).
clients_netns_add() {
  CLIENTS_NETNS=$1-$$
  export CLIENTS_NETNS
  ip netns add "$CLIENTS_NETNS"
  ip -n "$CLIENTS_NETNS" link set lo up
  echo "$CLIENTS_NETNS" >"$CLIENTS_TMP/netns"
}

# clients_netns_ext: a veth pair in the test network namespace, kcext0 with
# 10.199.0.1/24 and kcext1 (no address), both up: an address of the
# namespace that is neither loopback nor a client's bridge, so that a
# published port reached on it goes through the client's DNAT rule (the
# server sees 10.199.0.1 as its peer) and not through a userland proxy (which
# connects from the bridge's address).  It goes away with the namespace.
CLIENTS_EXT_ADDR=10.199.0.1
clients_netns_ext() {
  ip -n "$CLIENTS_NETNS" link add kcext0 type veth peer name kcext1 &&
    ip -n "$CLIENTS_NETNS" addr add "$CLIENTS_EXT_ADDR/24" dev kcext0 &&
    ip -n "$CLIENTS_NETNS" link set kcext0 up &&
    ip -n "$CLIENTS_NETNS" link set kcext1 up
}

# Run a daemon in the test network namespace.  nsenter --net enters only the
# network namespace: `ip netns exec` would also remount /sys, which hides the
# cgroup mounts from the daemon and its runtimes.
in_netns() { nsenter --net="/run/netns/$CLIENTS_NETNS" "$@"; }

# clients_netns_inodes DIR: the inode numbers of the network namespaces
# that belong to DIR's run: the test namespace (DIR/netns), and every nsfs
# mount under DIR (the namespaces dockerd makes under its exec-root, those
# kata-runtime makes under a runtime root there).
clients_netns_inodes() {
  local dir=$1 m
  if [ -s "$dir/netns" ] && [ -e "/run/netns/$(cat "$dir/netns")" ]; then
    stat -L -c %i "/run/netns/$(cat "$dir/netns")" 2>/dev/null
  fi
  for m in $(findmnt -rn -t nsfs -o TARGET | grep -E "^${dir}/"); do
    stat -L -c %i "$m" 2>/dev/null
  done
  for m in $(cat "$dir/roots" 2>/dev/null); do
    [ -d "$m" ] || continue
    findmnt -rn -t nsfs -o TARGET | grep -E "^${m}/" | xargs -r stat -L -c %i 2>/dev/null
  done
}

# kill_in_netns DIR: ends the processes that live in one of DIR's network
# namespaces and whose command line does not name DIR (docker-proxy, a
# container's processes under runc, a client run in the namespace).  The
# host's own namespace is never one of them.
kill_in_netns() {
  local dir=$1 inodes host p n pids=
  inodes=$(clients_netns_inodes "$dir" | sort -u)
  [ -n "$inodes" ] || return 0
  host=$(stat -L -c %i /proc/1/ns/net 2>/dev/null)
  for p in /proc/[0-9]*; do
    n=$(stat -L -c %i "$p/ns/net" 2>/dev/null) || continue
    [ "$n" != "$host" ] || continue
    grep -qxF "$n" <<<"$inodes" || continue
    p=${p#/proc/}
    [ "$p" != $$ ] && [ "$p" != "${BASHPID:-$$}" ] && pids="$pids $p"
  done
  [ -n "$pids" ] || return 0
  echo "killing processes left in the test network namespaces: $(describe_pids $pids | tr '\n' ';')" >&2
  kill -KILL $pids 2>/dev/null || true
}

clients_umount_under() {
  local dir=$1 m
  # deepest first; findmnt -r escapes blanks, our paths have none
  for m in $(findmnt -rn -o TARGET | grep -E "^${dir}(/|$)" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

# kill_pidfile FILE [WAIT]: TERM the pid in FILE, then KILL after WAIT seconds.
kill_pidfile() {
  local f=$1 w=${2:-20} pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  local end=$((SECONDS + w))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  local n=0
  while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
}

# pids_matching STRING: pids of processes whose command line contains STRING
# (a path unique to this run, so only processes this run started match).
pids_matching() {
  # the pattern comes from a file, so that grep's own command line does not match
  grep -laF -f <(printf '%s\n' "$1") /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 |
    grep -vxE "$$|${BASHPID:-$$}" || true
}

# describe_pids PID...: "pid: command line" for each
describe_pids() {
  local p
  for p in "$@"; do
    printf '%s: %s\n' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-300)"
  done
}

no_process_with() { [ -z "$(pids_matching "$1")" ]; }

# kill_stuck ID...: after a failed test, ends what is left of its containers
# (a client still waiting, the shim, the runtime's processes for them), so
# that a hung container costs one time-out and not one per later clean-up.
kill_stuck() {
  [ -z "${TEST_DONE:-}" ] || return 0
  local id
  for id in "$@"; do
    [ -n "$id" ] && kill_matching "$id"
  done
  return 0
}

kill_matching() {
  local pids
  # a short pattern (say an empty $CLIENTS_TMP plus "/") would match anything
  if [ ${#1} -lt 5 ] || [ "$1" = "/tmp/" ]; then
    echo "kill_matching: refusing pattern '$1'" >&2
    return 0
  fi
  pids=$(pids_matching "$1")
  [ -n "$pids" ] || return 0
  kill -TERM $pids 2>/dev/null || true
  sleep 1
  pids=$(pids_matching "$1")
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
}

# Delete what a runtime still has under ROOT (after the daemons are gone).
clients_runtime_gc() {
  local rt=$1 root=$2 id
  [ -x "$rt" ] && [ -d "$root" ] || return 0
  for id in $(timeout 30 "$rt" --root "$root" list -q 2>/dev/null); do
    timeout 60 "$rt" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  done
}

clients_tmp_cleanup() {
  [ -n "${CLIENTS_TMP:-}" ] && [ -d "$CLIENTS_TMP" ] || return 0
  case $CLIENTS_TMP in /tmp/kc-?*) ;; *) return 0 ;; esac
  kill_matching "$CLIENTS_TMP/"
  kill_in_netns "$CLIENTS_TMP"
  clients_umount_under "$CLIENTS_TMP"
  if [ -s "$CLIENTS_TMP/netns" ]; then
    ip netns del "$(cat "$CLIENTS_TMP/netns")" 2>/dev/null || true
  fi
  if [ "${KATA_CLIENTS_KEEP:-0}" = 1 ]; then
    { echo "# kept $CLIENTS_TMP" >&3; } 2>/dev/null || echo "# kept $CLIENTS_TMP" >&2
  else
    rm -rf "$CLIENTS_TMP" 2>/dev/null || { sleep 1; clients_umount_under "$CLIENTS_TMP"; rm -rf "$CLIENTS_TMP"; } || true
  fi
}

# clients_sweep DIR: everything a file's run may have left, from its
# temporary directory DIR alone (the files' teardown_file do the same in
# order; run-clients.sh calls this for each directory in the registry when
# it exits, so that a test file killed half-way leaves nothing behind):
# processes whose command line names DIR (daemons, shims, conmon, the
# runtimes' monitors and QEMU), the containers the runtimes still hold (in
# roots under DIR, in the roots listed in DIR/roots, and by id from DIR/ids
# in the runtimes' default roots), mounts under DIR, the network namespace,
# DIR itself.
clients_sweep() {
  local dir=$1 root id
  case $dir in /tmp/kc-?*) ;; *) return 0 ;; esac
  [ -d "$dir" ] || return 0
  kill_matching "$dir/"
  for root in $(find "$dir" -xdev -maxdepth 6 -type d -name sbs 2>/dev/null | sed 's,/sbs$,,') \
              $(cat "$dir/roots" 2>/dev/null); do
    clients_runtime_gc "$KATA_RUNTIME" "$root"
    clients_runtime_gc "$RUNC_RUNTIME" "$root"
    kill_matching "$root/"
    case $root in "$dir"/*) ;; *) find "$root" -depth -type d -empty -delete 2>/dev/null ;; esac
  done
  # podman's containers: the ids recorded, and those in its storage (a test
  # killed before it recorded its container)
  for id in $( { cat "$dir/ids" 2>/dev/null; ls "$dir"/*/vfs-containers 2>/dev/null; } |
              grep -xE '[0-9a-f]{64}' | sort -u); do
    [ -x "$KATA_RUNTIME" ] && timeout 60 "$KATA_RUNTIME" delete --force "$id" >/dev/null 2>&1
    timeout 30 "$RUNC_RUNTIME" delete --force "$id" >/dev/null 2>&1
  done
  clients_rm_cgroups "$dir"
  CLIENTS_TMP=$dir clients_tmp_cleanup
}

# --------------------------------------------------------------- runtimes ---

# kata_virt_unusable: prints why this host cannot run a VM at all (no QEMU,
# no accelerator that works), from `kata-runtime kata-check`, run once per
# file; prints nothing when it can.  Other kata-check failures are not a
# reason to skip: the tests then fail and say why.
kata_virt_unusable() {
  local f=$CLIENTS_TMP/kata-check q
  if [ ! -s "$f" ]; then
    timeout 120 "$KATA_RUNTIME" kata-check >"$f" 2>&1
    echo "rc=$?" >>"$f"
  fi
  grep -E '^FAIL: (QEMU|accelerator)' "$f" | head -1 | sed 's/^FAIL: //'
  if ! grep -qE '^(PASS|FAIL): QEMU' "$f"; then
    # an older kata-check: look for the binary ourselves
    q=$(kata_qemu_path)
    if [ -z "$q" ] || [ ! -x "$q" ]; then
      echo "no QEMU binary (${q:-qemu-system-x86_64 not in PATH})"
    fi
  fi
}

kata_qemu_path() {
  local conf p
  for conf in "${KATA_CONF_FILE:-}" /etc/kata-containers/configuration.toml \
              /usr/local/share/defaults/kata-containers/configuration.toml \
              /usr/share/defaults/kata-containers/configuration.toml; do
    [ -n "$conf" ] && [ -f "$conf" ] || continue
    p=$(sed -n 's/^[[:space:]]*path[[:space:]]*=[[:space:]]*"\(.*qemu[^"]*\)".*/\1/p' "$conf" | head -1)
    [ -n "$p" ] && { echo "$p"; return 0; }
  done
  command -v qemu-system-x86_64 || true
}

# rt_select runc|kata: sets RT (name), RT_PATH (binary), TMO (per-command
# time-out).  Skips the kata variant only when there is no virtualisation at
# all (the reason is in the skip message); a missing or broken kata-runtime
# is a failure, never a silent pass.
rt_select() {
  RT=$1
  case $RT in
    runc)
      RT_PATH=$RUNC_RUNTIME
      TMO=$CLIENTS_TIMEOUT_RUNC ;;
    kata)
      RT_PATH=$KATA_RUNTIME
      TMO=$CLIENTS_TIMEOUT_KATA
      [ -x "$KATA_RUNTIME" ] || fail "kata-runtime not installed at $KATA_RUNTIME (make install)" || return 1
      local why
      why=$(kata_virt_unusable)
      if [ -n "$why" ]; then
        skip "no usable virtualisation: $why"
      fi
      local broken=$CLIENTS_TMP/kata-broken
      if [ -s "$broken" ]; then
        fail "kata-runtime could not run a container earlier in this file, not trying again: $(cat "$broken")"
        return 1
      fi ;;
    *) fail "unknown runtime $RT"; return 1 ;;
  esac
  export RT RT_PATH TMO
}

# Mark kata as unusable for the rest of the file (called by the first kata
# scenario when even `run --rm` fails), so a broken runtime costs one
# time-out, not one per test.
kata_mark_broken() {
  [ "$RT" = kata ] || return 0
  printf '%s\n' "$*" | head -c 2000 >"$CLIENTS_TMP/kata-broken"
}

# A name unique to this test.
cname() { echo "kc${BATS_TEST_NUMBER}-$RT${1:+-$1}"; }

HOST_KERNEL=$(uname -r)

# check_uname OUTPUT: runc shares the host kernel; kata runs a guest kernel.
check_uname() {
  local out=$1
  assert_match '^[0-9]+\.[0-9]+[^[:space:]]*$' "$out" "uname -r output" || return 1
  if [ "$RT" = runc ]; then
    assert_eq "$HOST_KERNEL" "$out" "runc: uname -r must be the host's"
  else
    assert_ne "$HOST_KERNEL" "$out" "kata: uname -r must be the guest kernel's, not the host's"
  fi
}

# tty_script TYPESCRIPT ROWS COLS COMMAND: runs COMMAND (a shell string) under
# `script` so that it gets a terminal of ROWS x COLS.  script's own stdin is
# kept open (and empty) so that it never sends EOF into the terminal.
tty_script() {
  local ts=$1 rows=$2 cols=$3 cmd=$4 hold holdpid rc
  exec {hold}< <(exec sleep 900 3>&-)
  holdpid=$!
  # exec: the client is script's child, so that script's own clean-up on a
  # time-out (SIGTERM, then SIGKILL to its child) reaches the client
  timeout $((TMO + 10)) script -qfec "stty rows $rows cols $cols; exec $cmd" "$ts" <&$hold
  rc=$?
  kill "$holdpid" 2>/dev/null
  exec {hold}<&-
  return $rc
}

# The container side of the resize scenario: prints T:<its tty>, A:<size> once the
# terminal has a size (the client sets it just after the start), then waits
# (up to 30 s) for the size to change to 50 100 and prints B:<size>.
RESIZE_INNER='echo "T:$(tty)"; sized() { case "$1" in [1-9]*) return 0;; esac; return 1; }; s=$(stty size 2>/dev/null); i=0; while ! sized "$s" && [ $i -lt 100 ]; do sleep 0.1; s=$(stty size 2>/dev/null); i=$((i+1)); done; echo "A:$s"; i=0; while [ "$s" != "50 100" ] && [ $i -lt 150 ]; do sleep 0.2; s=$(stty size 2>/dev/null); i=$((i+1)); done; echo "B:$s"'

# resize_run CLIENT-COMMAND: runs CLIENT-COMMAND (which must run $RESIZE_INNER
# in a container with a tty) at 40x100, and once A: shows up resizes the
# terminal to 50 rows (one TIOCSWINSZ: `stty rows R cols C` makes two, and
# podman drops the second SIGWINCH when they come back to back).  Output
# (cleaned) in $output, exit status in $status.
resize_run() {
  local ts=$BATS_TEST_TMPDIR/typescript drv=$BATS_TEST_TMPDIR/resize.sh
  cat >"$drv" <<EOF
( n=0; while ! grep -q 'A:' '$ts' 2>/dev/null && [ \$n -lt $((TMO * 5)) ]; do sleep 0.2; n=\$((n+1)); done
  stty rows 50 </dev/tty ) &
exec $1
EOF
  run tty_script "$ts" 40 100 "sh $drv"
  output=$(printf '%s' "$output" | tty_clean)
}

# Output lines that start with T:, A: or B: (terminal noise removed).
resize_lines() { printf '%s\n' "$output" | grep -E '^(T|A|B):' | tr '\n' ' ' | sed 's/ $//'; }

# ------------------------------------------------- container-side scripts --

# stop: says when SIGTERM arrives, but does not exit on it (so the client
# has to follow up with SIGKILL after its time-out).
STOP_INNER="trap 'echo got-term' TERM; echo ready; sleep 1000 & while :; do wait; done"
# kill -s USR1: the trap exits 42.
USR1_INNER="trap 'echo got-usr1; exit 42' USR1; echo ready; sleep 1000 & wait"
# pause: a line every 0.3 s.
TICK_INNER='while :; do echo tick; sleep 0.3; done'
# exec -it: the tty's name, then its size once the client has set it.
EXEC_TTY_INNER='echo "tty:$(tty)"; sized() { case "$1" in [1-9]*) return 0;; esac; return 1; }; s=$(stty size 2>/dev/null); i=0; while ! sized "$s" && [ $i -lt 100 ]; do sleep 0.1; s=$(stty size 2>/dev/null); i=$((i+1)); done; echo "size:$s"'
exec_tty_lines() { printf '%s\n' "$output" | grep -E '^(tty|size):' | tr '\n' ' ' | sed 's/ $//'; }

# The server of the network scenarios: busybox httpd on port 80 with an
# index page that says $KC_WEB, and /cgi-bin/peer, which prints the address
# the connection came from (peer=ADDR).
WEB_INNER=$(cat <<'EOF'
mkdir -p /www/cgi-bin
echo "$KC_WEB" >/www/index.html
printf '%s\n' '#!/bin/sh' 'echo Content-Type: text/plain' 'echo' 'echo peer=$REMOTE_ADDR' >/www/cgi-bin/peer
chmod +x /www/cgi-bin/peer
exec httpd -f -p 80 -h /www
EOF
)

# http_get URL: the body, fetched from the test network namespace (10 s
# time-out); fails when the server cannot be reached.  (Not busybox wget:
# Debian's static busybox segfaults in wget, on the host and in the image.)
http_get() { in_netns curl -sSf --max-time 10 "$1"; }

# Container-side HTTP client (busybox nc; the image's wget segfaults):
# `hget HOST PATH` prints the body, fails when HOST:80 cannot be reached.
HGET='hget() { printf "GET %s HTTP/1.0\r\n\r\n" "$2" | nc -w 10 "$1" 80 >/tmp/.hget || return 1; [ -s /tmp/.hget ] || return 1; tr -d "\r" </tmp/.hget | sed "1,/^$/d"; }'
# hget_retry: the same, up to 10 s while the server starts
HGET="$HGET"'; hget_retry() { i=0; while ! hget "$1" "$2" >/dev/null 2>&1 && [ $i -lt 20 ]; do sleep 0.5; i=$((i+1)); done; hget "$1" "$2"; }'
# peer_of BODY: the address in "peer=ADDR" (httpd on an IPv6 socket writes
# [::ffff:A.B.C.D]).
peer_of() { sed -n 's/^peer=//p' <<<"$1" | sed -e 's/^\[//' -e 's/\]$//' -e 's/^::ffff://'; }

# Container-side network report: the lines the network scenarios check.
#   mtu:N            eth0's MTU (or mtu:none without eth0)
#   links:a,b        the ethernet and loopback interfaces, in order (not
#                    the ifb0/ifb1 that this host's kernel puts in every new
#                    network namespace, nor the guest kernel's sit0)
#   inet:A/P         eth0's IPv4 addresses     inet6:A/P  global IPv6 ones
#   route:...        the IPv4 default route    route6:... the IPv6 one
NET_REPORT='echo "mtu:$(cat /sys/class/net/eth0/mtu 2>/dev/null || echo none)"; echo "links:$(for d in /sys/class/net/*; do n=${d##*/}; case $n in ifb*) continue;; esac; t=$(cat $d/type); [ "$t" = 1 ] || [ "$t" = 772 ] && printf "%s," $n; done | sed "s/,$//")"; ip -o -4 addr show dev eth0 2>/dev/null | awk "{print \"inet:\" \$4}"; ip -o -6 addr show dev eth0 scope global 2>/dev/null | awk "{print \"inet6:\" \$4}"; ip -4 route show default | sed "s/^/route:/"; ip -6 route show default 2>/dev/null | sed "s/^/route6:/"'
# report_get KEY: the value(s) of KEY in $output (one per line).
report_get() { sed -n "s/^$1://p" <<<"$output" | tr -d '\r'; }
# ping_inner ADDR: container-side, up to 10 tries of one ping (a new
# address or bridge may still be in duplicate address detection).
ping_inner() { echo "i=0; r=fail; while [ \$i -lt 10 ]; do if ping -c1 -W2 $1 >/dev/null 2>&1; then r=ok; break; fi; i=\$((i+1)); sleep 0.5; done; echo ping:\$r"; }

# scenario runc|kata FUNCTION [ARG...]: one test.  TEST_DONE tells teardown that the
# scenario ran to its end.
scenario() {
  rt_select "$1" || return 1
  "${@:2}"
  TEST_DONE=1
}

# Daemon log lines written during a failed test go to the TAP output.
mark_daemon_log() { LOG_MARK=$(wc -l <"$1" 2>/dev/null || echo 0); }
show_daemon_log() {
  [ -z "${TEST_DONE:-}" ] && [ -n "${RT:-}" ] && [ -f "$1" ] || return 0
  tail -n +"$((${LOG_MARK:-0} + 1))" "$1" | grep -E 'level=(error|fatal|warning)' |
    tail -8 | cut -c1-600 | sed 's/^/# daemon: /' >&3 || true
}

# stats_row_check NAME OUTPUT: the default `stats --no-stream` table of docker
# and podman has exactly one row, for NAME: short id, name, CPU %, memory
# usage / limit.
stats_row_check() {
  local rows row
  rows=$(tail -n +2 <<<"$2" | grep -c .)
  assert_eq 1 "$rows" "stats: number of rows (in: $2)" || return 1
  row=$(tail -n +2 <<<"$2" | grep .)
  assert_match "^[0-9a-f]{12} +$1 +[0-9.]+% +[0-9.]+[kKMG]i?B / [0-9.]+[kKMGT]i?B " "$row" "stats: the container's row"
}

# The command of the long-running container shared by several scenarios.
SHARED_CMD="sleep 86400"
shared_name() { echo "kc-shared-$RT"; }

# check_cgroup_pids N OUTPUT: the pid count a client read from the
# container's host cgroup.  runc: the one process of the container.  kata:
# the host processes the runtime puts there (the shims, and for the sandbox
# also QEMU and the monitor); a count of 0 or hundreds means the client read
# some other cgroup.
check_cgroup_pids() {
  if [ "$RT" = runc ]; then
    assert_eq 1 "$1" "pids in the container's cgroup (in: $2)"
  else
    [ "$1" -ge 1 ] 2>/dev/null && [ "$1" -le 20 ] ||
      fail "pids in the container's cgroup is '$1', expected 1..20 (in: $2)"
  fi
}
