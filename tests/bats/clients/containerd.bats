#!/usr/bin/env bats
# containerd 1.6 + ctr driving runc (reference) and kata-runtime through the
# runc v2 shim: `ctr run --runtime io.containerd.runc.v2 --runc-binary PATH`.
# containerd runs with a test-only config (root, state and sockets under a
# temporary directory, CRI plugin off) in a network namespace of its own; the
# tests use a containerd namespace of their own, so the shim gives the
# runtimes --root /run/containerd/runc/<that namespace>.
#
# ctr has no `stop`, `logs` or `rm -f`: the scenarios use what ctr offers for
# the same operation (kill + kill -s SIGKILL, --log-uri file://, tasks rm -f).
#
# Network: without --cni, ctr's spec asks for a new, empty network namespace
# (only loopback).  `ctr run --cni` configures the network itself, from the
# first conflist in /etc/cni/net.d with the plugins in /opt/cni/bin (ctr has
# no option for either): the test runs that ctr in a mount namespace of its
# own where a private conflist (a bridge in the test network namespace) and
# Debian's plugins (/usr/lib/cni) are mounted there.

bats_require_minimum_version 1.5.0
load lib

setup_file() {
  clients_require_packages
  clients_tmp_init ct
  clients_build_image
  clients_netns_add kc-ct
  local d=$CLIENTS_TMP
  export CTRD_SOCK=$d/c.sock CTR_NS=kc-$$
  clients_add_root "/run/containerd/runc/$CTR_NS"
  # the runtimes put each container in the cgroup /<namespace>/<id> and
  # leave /<namespace> behind
  clients_add_cgroup "$CTR_NS"
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = "$d/debug.sock"
  level = "info"
EOF
  in_netns containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 3>&- &
  echo $! >"$d/containerd.pid"
  if ! wait_for 60 ctr --address "$CTRD_SOCK" version; then
    tail -30 "$d/containerd.log" >&2
    return 1
  fi
  ctr --address "$CTRD_SOCK" -n "$CTR_NS" image import "$CLIENTS_CACHE/busybox.tar" >/dev/null
  mkdir -p "$d/cni/net.d" "$d/cni/ipam"
  cat >"$d/cni/net.d/10-kc.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "kc-ctr",
  "plugins": [
    { "type": "bridge", "bridge": "kc-ctr0", "isGateway": true, "ipMasq": false,
      "ipam": { "type": "host-local", "dataDir": "$d/cni/ipam",
                "ranges": [[ { "subnet": "$CNI_SUBNET.0/24", "gateway": "$CNI_SUBNET.1" } ]],
                "routes": [ { "dst": "0.0.0.0/0" } ] } }
  ]
}
EOF
}

CNI_SUBNET=10.77.0

# ct_cni ARGS...: ctr (in the test network namespace) with --cni's fixed
# paths replaced in a mount namespace of its own (slave: nothing it mounts
# reaches the host).
ct_cni() {
  timeout "${TMO:-60}" nsenter --net="/run/netns/$CLIENTS_NETNS" unshare --mount --propagation slave \
    sh -c 'd=$1 a=$2 ns=$3; shift 3
      mount --bind "$d/cni/net.d" /etc/cni/net.d && mount -t tmpfs -o size=1m kc-cni /opt &&
      mkdir -p /opt/cni/bin && mount --bind /usr/lib/cni /opt/cni/bin &&
      exec ctr --address "$a" -n "$ns" "$@"' sh "$CLIENTS_TMP" "$CTRD_SOCK" "$CTR_NS" "$@"
}

teardown_file() {
  [ -n "${CLIENTS_TMP:-}" ] || return 0
  ct_rm_all all 2>/dev/null || true
  kill_pidfile "$CLIENTS_TMP/containerd.pid" 30
  # also deletes what the runtimes left in /run/containerd/runc/$CTR_NS, and
  # the empty directories
  clients_sweep "$CLIENTS_TMP"
}

setup() { mark_daemon_log "$CLIENTS_TMP/containerd.log"; }

teardown() {
  show_daemon_log "$CLIENTS_TMP/containerd.log"
  kill_stuck "kc${BATS_TEST_NUMBER}-"
  ct_rm_all
  # an attached client started in the background (not `jobs -p`: that
  # would include bats' own time-out watchdog)
  [ -z "${CT_PID:-}" ] || kill "$CT_PID" 2>/dev/null || true
}

CT() { echo "ctr --address $CTRD_SOCK -n $CTR_NS"; }
ct() { timeout "${TMO:-60}" ctr --address "$CTRD_SOCK" -n "$CTR_NS" "$@"; }
# ct_rm_all [all]: removes this test's containers (with "all": every one)
ct_rm_all() {
  local TMO=60 c
  [ "${1:-}" = all ] && TMO=180
  for c in $(ct containers ls -q 2>/dev/null); do
    [ "${1:-}" = all ] || [[ $c == kc${BATS_TEST_NUMBER}-* ]] || continue
    ct tasks rm -f "$c" >/dev/null 2>&1
    ct containers rm "$c" >/dev/null 2>&1
  done
  return 0
}
# One long-running container per runtime, shared by exec, exec -t, ps and
# metrics (one VM instead of four); made again if a test broke it.
ensure_shared() {
  n=$(shared_name)
  ct_is "$n" RUNNING && return 0
  ct tasks rm -f "$n" >/dev/null 2>&1 || true
  ct containers rm "$n" >/dev/null 2>&1 || true
  run ct run -d $(OPTS) "$CLIENT_IMAGE" "$n" $SHARED_CMD
  assert_status 0
}
OPTS() { echo "--runtime io.containerd.runc.v2 --runc-binary $RT_PATH"; }

ct_status() { ct tasks ls | awk -v n="$1" '$1 == n { print $3 }'; }
ct_pid() { ct tasks ls | awk -v n="$1" '$1 == n { print $2 }'; }
ct_is() { [ "$(ct_status "$1")" = "$2" ]; }
file_has() { grep -qx -- "$2" "$1" 2>/dev/null; }
ticks() { grep -c '^tick$' "$1" 2>/dev/null || true; }
ticks_gt() { [ "$(ticks "$1")" -gt "$2" ]; }

# ct_attached NAME OUTFILE CMD...: `ctr run` (attached) in the background;
# its pid in CT_PID.
ct_attached() {
  local n=$1 out=$2; shift 2
  ct run $(OPTS) "$CLIENT_IMAGE" "$n" "$@" >"$out" 2>&1 </dev/null 3>&- &
  CT_PID=$!
}

# ------------------------------------------------------------- scenarios --

sc_run_rm() {
  local n; n=$(cname)
  run --separate-stderr ct run --rm $(OPTS) "$CLIENT_IMAGE" "$n" uname -r
  [ "$status" != 124 ] || kata_mark_broken "ctr run --rm timed out: $stderr"
  assert_status 0
  check_uname "$output"
}

sc_run_d_logs() {
  local n log; n=$(cname); log=$BATS_TEST_TMPDIR/$n.log
  run ct run -d --log-uri "file://$log" $(OPTS) "$CLIENT_IMAGE" "$n" \
    sh -c 'echo out-line; echo err-line >&2; sleep 1000'
  assert_status 0
  assert_eq "" "$output" "ctr run -d output"
  wait_for "$TMO" file_has "$log" err-line || fail "log never showed err-line: $(cat "$log")"
  wait_for 10 file_has "$log" out-line || fail "log never showed out-line: $(cat "$log")"
  # one file for both streams: their order is not defined
  assert_eq "$(printf 'err-line\nout-line')" "$(sort "$log")" "log file"
  assert_eq RUNNING "$(ct_status "$n")" "task status"
}

sc_exec() {
  local n; ensure_shared
  run --separate-stderr ct tasks exec --exec-id "x$BATS_TEST_NUMBER-1" "$n" sh -c 'echo exec-out; echo exec-err >&2; exit 5'
  assert_status 5
  assert_eq exec-out "$output" "exec stdout"
  assert_eq exec-err "$stderr" "exec stderr"
  run ct tasks exec --exec-id "x$BATS_TEST_NUMBER-2" "$n" sh -c 'tr "\0" " " </proc/1/cmdline'
  assert_status 0
  assert_eq "$SHARED_CMD " "$output" "/proc/1/cmdline seen by exec"
}

sc_exec_it() {
  local n; ensure_shared
  run tty_script "$BATS_TEST_TMPDIR/ts" 30 90 "$(CT) tasks exec -t --exec-id x$BATS_TEST_NUMBER-1 $n sh -c $(printf %q "$EXEC_TTY_INNER")"
  output=$(printf '%s' "$output" | tty_clean)
  assert_status 0
  assert_eq "tty:/dev/pts/0 size:30 90" "$(exec_tty_lines)" "ctr tasks exec -t"
}

# ctr has no stop: what `docker stop -t 2` does, by hand.
sc_stop() {
  local n out rc; n=$(cname); out=$BATS_TEST_TMPDIR/out
  ct_attached "$n" "$out" sh -c "$STOP_INNER"
  wait_for "$TMO" file_has "$out" ready || fail "container never said ready: $(cat "$out")"
  run ct tasks kill "$n"
  assert_status 0
  assert_eq "" "$output" "ctr tasks kill output"
  wait_for 10 file_has "$out" got-term || fail "SIGTERM never arrived: $(cat "$out")"
  sleep 2
  assert_eq RUNNING "$(ct_status "$n")" "status 2 s after SIGTERM"
  run ct tasks kill -s SIGKILL "$n"
  assert_status 0
  rc=0; wait "$CT_PID" || rc=$?
  assert_eq 137 "$rc" "exit status of the attached ctr run"
  assert_eq "$(printf 'ready\ngot-term')" "$(cat "$out")" "output"
  # the attached ctr run deletes the task once it has exited
  assert_eq "" "$(ct_status "$n")" "task after exit"
}

sc_kill_s() {
  local n out rc; n=$(cname); out=$BATS_TEST_TMPDIR/out
  ct_attached "$n" "$out" sh -c "$USR1_INNER"
  wait_for "$TMO" file_has "$out" ready || fail "container never said ready: $(cat "$out")"
  run ct tasks kill -s SIGUSR1 "$n"
  assert_status 0
  rc=0; wait "$CT_PID" || rc=$?
  assert_eq 42 "$rc" "exit code set by the USR1 trap"
  assert_eq "$(printf 'ready\ngot-usr1')" "$(cat "$out")" "output"
}

sc_pause() {
  local n out c1 c2; n=$(cname); out=$BATS_TEST_TMPDIR/out
  ct_attached "$n" "$out" sh -c "$TICK_INNER"
  wait_for "$TMO" ticks_gt "$out" 0 || fail "no tick: $(cat "$out")"
  run ct tasks pause "$n"
  assert_status 0
  assert_eq PAUSED "$(ct_status "$n")" "status after pause"
  sleep 0.5; c1=$(ticks "$out"); sleep 2; c2=$(ticks "$out")
  assert_eq "$c1" "$c2" "ticks while paused"
  run ct tasks resume "$n"
  assert_status 0
  assert_eq RUNNING "$(ct_status "$n")" "status after resume"
  wait_for 30 ticks_gt "$out" "$c2" || fail "no tick after resume"
}

# rm -f: ctr tasks rm -f (SIGKILL + delete), then ctr containers rm.
sc_rm_f() {
  local n; n=$(cname)
  run ct run -d $(OPTS) "$CLIENT_IMAGE" "$n" sleep 1000
  assert_status 0
  run timeout 30 "$RT_PATH" --root "/run/containerd/runc/$CTR_NS" state "$n"
  assert_status 0
  run --separate-stderr ct tasks rm -f "$n"
  assert_status 0
  assert_eq "" "$output" "ctr tasks rm -f output"
  run ct containers rm "$n"
  assert_status 0
  assert_eq "" "$(ct tasks ls -q | grep -x "$n" || true)" "task list after rm -f"
  assert_eq "" "$(ct containers ls -q | grep -x "$n" || true)" "container list after rm"
  run timeout 30 "$RT_PATH" --root "/run/containerd/runc/$CTR_NS" state "$n"
  [ "$status" -ne 0 ] || fail "$RT still knows $n after rm -f: $output"
  wait_for 20 no_process_with "$n" || fail "processes left for $n: $(describe_pids $(pids_matching "$n"))"
}

# (exit code 0: every other scenario)
sc_exit_codes() {
  local n rc
  run ct run --rm $(OPTS) "$CLIENT_IMAGE" "$(cname 3)" sh -c 'exit 3'
  assert_status 3
  n=$(cname 137)
  ct_attached "$n" "$BATS_TEST_TMPDIR/out" sleep 1000
  wait_for "$TMO" ct_is "$n" RUNNING || fail "task never ran: $(cat "$BATS_TEST_TMPDIR/out")"
  run ct tasks kill -s SIGKILL "$n"
  assert_status 0
  rc=0; wait "$CT_PID" || rc=$?
  assert_eq 137 "$rc" "exit status of the attached ctr run"
}

# ctr never closes the task's stdin when its own stdin reaches EOF (with any
# runtime), so `cat` would wait for ever: the task reads one line.
sc_stdin() {
  local n; n=$(cname)
  run sh -c "echo hi | $(CT) run --rm $(OPTS) $CLIENT_IMAGE $n head -n 1"
  assert_status 0
  assert_eq hi "$output" "stdin copied through head -n 1"
}

sc_tty_resize() {
  local n; n=$(cname)
  resize_run "$(CT) run --rm -t $(OPTS) $CLIENT_IMAGE $n sh -c $(printf %q "$RESIZE_INNER")"
  assert_status 0
  assert_eq "T:/dev/pts/0 A:40 100 B:50 100" "$(resize_lines)" "terminal size seen in the container"
}

sc_top_ps() {
  local n pid; ensure_shared
  pid=$(ct_pid "$n")
  run ct tasks ps "$n"
  assert_status 0
  assert_match '^PID +INFO$' "$(sed -n 1p <<<"$output")" "ctr tasks ps header"
  assert_eq 2 "$(wc -l <<<"$output")" "ctr tasks ps: one process"
  assert_match "^$pid +-$" "$(sed -n 2p <<<"$output")" "ctr tasks ps: the task's pid"
  assert_eq RUNNING "$(ct_status "$n")" "ctr tasks ls"
}

sc_stats() {
  local n; ensure_shared
  run ct tasks metrics "$n"
  assert_status 0
  local mem pids
  mem=$(awk '$1 == "memory.usage_in_bytes" { print $2 }' <<<"$output")
  pids=$(awk '$1 == "pids.current" { print $2 }' <<<"$output")
  [ "${mem:-0}" -gt 0 ] 2>/dev/null || fail "metrics: memory.usage_in_bytes is '$mem' in: $output"
  check_cgroup_pids "$pids" "$output"
}

# ------------------------------------------------------ network scenarios --

# Without --cni: a new network namespace with only loopback (kata-runtime
# makes it itself, the spec has no path).
sc_net_default() {
  local n; n=$(cname)
  run --separate-stderr ct run --rm $(OPTS) "$CLIENT_IMAGE" "$n" sh -c "$NET_REPORT"
  assert_status 0
  assert_eq lo "$(report_get links)" "ctr run without --cni: only loopback (in: $output)"
}

# ctr run --cni: ctr creates the task, runs the CNI plugins in
# /proc/<task pid>/ns/net, then starts it.  runc: eth0 on the private
# bridge, its default route, the gateway answers.  kata: the VM booted at
# create without a NIC; at start the runtime finds the veth the plugins made,
# wires it and hot-plugs a NIC into the VM (docs/network.md, "Interfaces added
# after create"): the same result.
sc_net_cni() {
  local n; n=$(cname)
  run --separate-stderr ct_cni run --rm --cni $(OPTS) "$CLIENT_IMAGE" "$n" sh -c "$NET_REPORT; $(ping_inner "$CNI_SUBNET.1")"
  printf '# ctr run --cni (%s): status %s: %s\n' "$RT" "$status" "$(tr '\n' ' ' <<<"$output")" | cut -c1-600 >&3
  assert_status 0
  assert_eq "eth0,lo" "$(report_get links)" "interfaces (in: $output)"
  assert_match "^${CNI_SUBNET//./\\.}\.[0-9]+/24\$" "$(report_get inet)" "eth0's address (in: $output)"
  assert_eq "default via $CNI_SUBNET.1 dev eth0" "$(report_get route | sed 's/ *$//')" "default route (in: $output)"
  assert_eq ok "$(report_get ping)" "ping $CNI_SUBNET.1"
  # ctr run --rm ran the plugins' DEL: no veth left on the bridge
  assert_eq "" "$(ip -n "$CLIENTS_NETNS" -o link show master kc-ctr0 2>/dev/null)" "veths left on kc-ctr0"
}

# ------------------------------------------------------------------ tests --

@test "containerd/runc: run --rm (uname -r is the host's)" { scenario runc sc_run_rm; }
@test "containerd/kata: run --rm (uname -r is the guest's)" { scenario kata sc_run_rm; }
@test "containerd/runc: run -d + log file" { scenario runc sc_run_d_logs; }
@test "containerd/kata: run -d + log file" { scenario kata sc_run_d_logs; }
@test "containerd/runc: tasks exec" { scenario runc sc_exec; }
@test "containerd/kata: tasks exec" { scenario kata sc_exec; }
@test "containerd/runc: tasks exec -t" { scenario runc sc_exec_it; }
@test "containerd/kata: tasks exec -t" { scenario kata sc_exec_it; }
@test "containerd/runc: stop (kill, 2 s, kill -s SIGKILL)" { scenario runc sc_stop; }
@test "containerd/kata: stop (kill, 2 s, kill -s SIGKILL)" { scenario kata sc_stop; }
@test "containerd/runc: kill -s SIGUSR1" { scenario runc sc_kill_s; }
@test "containerd/kata: kill -s SIGUSR1" { scenario kata sc_kill_s; }
@test "containerd/runc: pause/resume" { scenario runc sc_pause; }
@test "containerd/kata: pause/resume" { scenario kata sc_pause; }
@test "containerd/runc: tasks rm -f running" { scenario runc sc_rm_f; }
@test "containerd/kata: tasks rm -f running" { scenario kata sc_rm_f; }
@test "containerd/runc: exit codes 3, 137" { scenario runc sc_exit_codes; }
@test "containerd/kata: exit codes 3, 137" { scenario kata sc_exit_codes; }
@test "containerd/runc: stdin (run, head -n 1)" { scenario runc sc_stdin; }
@test "containerd/kata: stdin (run, head -n 1)" { scenario kata sc_stdin; }
@test "containerd/runc: run -t with resize" { scenario runc sc_tty_resize; }
@test "containerd/kata: run -t with resize" { scenario kata sc_tty_resize; }
@test "containerd/runc: tasks ps" { scenario runc sc_top_ps; }
@test "containerd/kata: tasks ps" { scenario kata sc_top_ps; }
@test "containerd/runc: tasks metrics" { scenario runc sc_stats; }
@test "containerd/kata: tasks metrics" { scenario kata sc_stats; }
@test "containerd/runc: run without --cni (only lo)" { scenario runc sc_net_default; }
@test "containerd/kata: run without --cni (only lo)" { scenario kata sc_net_default; }
@test "containerd/runc: run --cni (bridge, route, ping the gateway)" { scenario runc sc_net_cni; }
@test "containerd/kata: run --cni (bridge, route, ping the gateway: NIC hot-plugged at start)" { scenario kata sc_net_cni; }
