#!/usr/bin/env bats
# podman 4.3 (with conmon) driving runc (reference) and kata-runtime.
# podman has no daemon: every podman call (and so conmon, which it starts)
# runs in a network namespace of this file's own, with a test-only
# containers.conf (CONTAINERS_CONF) and vfs storage under a temporary
# directory.  The runtime is selected with --runtime <path>.  Containers
# get podman's default network (the CNI bridge "podman", 10.88.0.0/16, made
# in the test namespace), but for the `--network none` rows.  Its
# configuration is podman's own default one, written to a directory of this
# file's own with one change: host-local keeps its leases there too, not in
# the host's /var/lib/cni/networks/podman.

bats_require_minimum_version 1.5.0
load lib

setup_file() {
  clients_require_packages
  clients_tmp_init pm
  clients_build_image
  clients_netns_add kc-pm
  clients_netns_ext
  local d=$CLIENTS_TMP
  mkdir -p "$d/tmp" "$d/cni"
  cat >"$d/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[network]
network_backend = "cni"
network_config_dir = "$d/cni"
cni_plugin_dirs = ["/usr/lib/cni"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
lock_type = "file"
tmp_dir = "$d/tmp"
volume_path = "$d/volumes"
# conmon passes --log-format=json --log F only to these runtimes; with
# --runtime /path/to/kata-runtime podman's name for it is "kata-runtime"
runtime_supports_json = ["crun", "runc", "kata", "kata-runtime"]

[engine.runtimes]
kata = ["$KATA_RUNTIME"]
EOF
  # podman 4.3's default network (what it makes in memory when the
  # directory has none), with a private dataDir for host-local
  cat >"$d/cni/87-podman-bridge.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "podman",
  "plugins": [
    { "type": "bridge", "bridge": "cni-podman0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$d/cni/leases", "routes": [ { "dst": "0.0.0.0/0" } ],
                "ranges": [ [ { "subnet": "10.88.0.0/16", "gateway": "10.88.0.1" } ] ] } },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "firewall" },
    { "type": "tuning" }
  ]
}
EOF
  export CONTAINERS_CONF=$d/containers.conf
  export PODMAN_ROOT=$d/st PODMAN_RUNROOT=$d/rr
  pm load -i "$CLIENTS_CACHE/busybox.tar" >/dev/null
}

teardown_file() {
  [ -n "${CLIENTS_TMP:-}" ] || return 0
  pm_rm_all all 2>/dev/null || true
  # what a runtime may still hold for containers of this file (conmon passes
  # no --root: runc keeps its state in /run/runc, kata-runtime in /run/vc):
  # the sweep deletes the ids listed in $CLIENTS_TMP/ids
  clients_sweep "$CLIENTS_TMP"
}

setup() { mark_daemon_log /dev/null; }

teardown() {
  if [ -z "${TEST_DONE:-}" ] && [ -n "${RT:-}" ]; then
    # conmon's and the runtime's last words for a failed test
    local f
    for f in "$PODMAN_ROOT"/vfs-containers/*/userdata/oci-log; do
      [ -s "$f" ] && sed 's/^/# oci-log: /' "$f" | tail -3 >&3
    done
    kill_stuck "kc${BATS_TEST_NUMBER}-" \
      $(TMO=20 pm ps -aq --no-trunc --filter "name=^kc${BATS_TEST_NUMBER}-" 2>/dev/null)
  fi
  pm_rm_all
}

PM() {
  echo "nsenter --net=/run/netns/$CLIENTS_NETNS podman --root $PODMAN_ROOT --runroot $PODMAN_RUNROOT --storage-driver vfs"
}
pm() {
  timeout "${TMO:-60}" nsenter --net="/run/netns/$CLIENTS_NETNS" \
    podman --root "$PODMAN_ROOT" --runroot "$PODMAN_RUNROOT" --storage-driver vfs "$@"
}
# pm_rm_all [all]: removes this test's containers (with "all": every one)
pm_rm_all() {
  local TMO=60 names
  [ "${1:-}" = all ] && TMO=180
  pm ps -aq --no-trunc >>"$CLIENTS_TMP/ids" 2>/dev/null
  names=$(pm ps -a --format '{{.Names}}' 2>/dev/null |
    { if [ "${1:-}" = all ]; then cat; else grep "^kc${BATS_TEST_NUMBER}-" || true; fi; })
  [ -z "$names" ] || pm rm -f -t 0 $names >/dev/null 2>&1 || true
}
# One long-running container per runtime, shared by exec, exec -it, top and
# stats (one VM instead of four); made again if a test broke it.
ensure_shared() {
  n=$(shared_name)
  pm_is "$n" running && return 0
  pm rm -f -t 0 "$n" >/dev/null 2>&1 || true
  run pm run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" $SHARED_CMD
  assert_status 0
}
# NET: the network of the scenario (default: podman's default network)
OPTS() { echo "${NET:+--network $NET} --runtime $RT_PATH"; }

pm_state() { pm inspect -f '{{.State.Status}}' "$1"; }
pm_is() { [ "$(pm_state "$1")" = "$2" ]; }
pm_logs_has() { pm logs "$1" 2>&1 | grep -qx -- "$2"; }
pm_ticks() { pm logs "$1" 2>/dev/null | grep -c '^tick$'; }
pm_ticks_gt() { [ "$(pm_ticks "$1")" -gt "$2" ]; }

# ------------------------------------------------------------- scenarios --

sc_run_rm() {
  run --separate-stderr pm run --rm $(OPTS) "$CLIENT_IMAGE" uname -r
  [ "$status" != 124 ] || kata_mark_broken "podman run --rm timed out: $stderr"
  assert_status 0
  check_uname "$output"
}

sc_run_d_logs() {
  local n; n=$(cname)
  run pm run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" sh -c 'echo out-line; echo err-line >&2; sleep 1000'
  assert_status 0
  assert_match '^[0-9a-f]{64}$' "$output" "podman run -d prints the id"
  wait_for "$TMO" pm_logs_has "$n" err-line || fail "logs never showed err-line: $(pm logs "$n" 2>&1)"
  wait_for 10 pm_logs_has "$n" out-line || fail "logs never showed out-line: $(pm logs "$n" 2>&1)"
  run --separate-stderr pm logs "$n"
  assert_status 0
  assert_eq out-line "$output" "podman logs (stdout)"
  assert_eq err-line "$stderr" "podman logs (stderr)"
  assert_eq running "$(pm_state "$n")" "state"
}

sc_exec() {
  local n; ensure_shared
  run --separate-stderr pm exec "$n" sh -c 'echo exec-out; echo exec-err >&2; exit 5'
  assert_status 5
  assert_eq exec-out "$output" "exec stdout"
  assert_eq exec-err "$stderr" "exec stderr"
  run pm exec "$n" sh -c 'tr "\0" " " </proc/1/cmdline'
  assert_status 0
  assert_eq "$SHARED_CMD " "$output" "/proc/1/cmdline seen by exec"
}

sc_exec_it() {
  local n; ensure_shared
  run tty_script "$BATS_TEST_TMPDIR/ts" 30 90 "$(PM) exec -it $n sh -c $(printf %q "$EXEC_TTY_INNER")"
  output=$(printf '%s' "$output" | tty_clean)
  assert_status 0
  assert_eq "tty:/dev/pts/0 size:30 90" "$(exec_tty_lines)" "podman exec -it"
}

sc_stop() {
  local n t0 t1; n=$(cname)
  run pm run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" sh -c "$STOP_INNER"
  assert_status 0
  wait_for "$TMO" pm_logs_has "$n" ready || fail "container never said ready: $(pm logs "$n" 2>&1)"
  t0=$(date +%s%N)
  run --separate-stderr pm stop -t 2 "$n"
  t1=$(date +%s%N)
  assert_status 0
  assert_eq "$n" "$output" "podman stop output"
  [ $(( (t1 - t0) / 1000000 )) -ge 2000 ] || fail "stop took $(( (t1 - t0) / 1000000 )) ms, less than the 2 s time-out"
  run pm logs "$n"
  assert_eq "$(printf 'ready\ngot-term')" "$output" "logs: SIGTERM reached the container first"
  assert_eq exited "$(pm_state "$n")" "state"
  assert_eq 137 "$(pm inspect -f '{{.State.ExitCode}}' "$n")" "exit code after SIGKILL"
}

sc_kill_s() {
  local n; n=$(cname)
  run pm run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" sh -c "$USR1_INNER"
  assert_status 0
  wait_for "$TMO" pm_logs_has "$n" ready || fail "container never said ready: $(pm logs "$n" 2>&1)"
  run pm kill -s USR1 "$n"
  assert_status 0
  assert_eq "$n" "$output" "podman kill output"
  run pm wait "$n"
  assert_status 0
  assert_eq 42 "$output" "exit code set by the USR1 trap"
  run pm logs "$n"
  assert_eq "$(printf 'ready\ngot-usr1')" "$output" "logs"
}

sc_pause() {
  local n c1 c2; n=$(cname)
  run pm run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" sh -c "$TICK_INNER"
  assert_status 0
  wait_for "$TMO" pm_ticks_gt "$n" 0 || fail "no tick in the logs"
  run pm pause "$n"
  assert_status 0
  assert_eq "$n" "$output" "podman pause output"
  assert_eq paused "$(pm_state "$n")" "state after pause"
  sleep 0.5; c1=$(pm_ticks "$n"); sleep 2; c2=$(pm_ticks "$n")
  assert_eq "$c1" "$c2" "ticks while paused"
  run pm unpause "$n"
  assert_status 0
  assert_eq "$n" "$output" "podman unpause output"
  assert_eq running "$(pm_state "$n")" "state after unpause"
  wait_for 30 pm_ticks_gt "$n" "$c2" || fail "no tick after unpause"
}

sc_rm_f() {
  local n id; n=$(cname)
  run pm run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" sleep 1000
  assert_status 0
  id=$output
  echo "$id" >>"$CLIENTS_TMP/ids"
  wait_for "$TMO" pm_is "$n" running
  # conmon passes no --root: the runtime's default root
  run timeout 30 "$RT_PATH" state "$id"
  assert_status 0
  # podman rm -f first stops with the stop time-out (10 s by default);
  # -t 0 makes it SIGKILL at once, as docker rm -f does
  run --separate-stderr pm rm -f -t 0 "$n"
  assert_status 0
  assert_eq "$n" "$output" "podman rm -f output"
  run pm ps -aq --filter "name=^$n\$"
  assert_eq "" "$output" "podman ps after rm -f"
  run timeout 30 "$RT_PATH" state "$id"
  [ "$status" -ne 0 ] || fail "$RT still knows $id after rm -f: $output"
  wait_for 20 no_process_with "$id" || fail "processes left for $id: $(describe_pids $(pids_matching "$id"))"
}

# (exit code 0: every other scenario)
sc_exit_codes() {
  run pm run --rm $(OPTS) "$CLIENT_IMAGE" sh -c 'exit 3'
  assert_status 3
  local n pid rc; n=$(cname)
  pm run --name "$n" $(OPTS) "$CLIENT_IMAGE" sleep 1000 >"$BATS_TEST_TMPDIR/attached" 2>&1 3>&- &
  pid=$!
  wait_for "$TMO" pm_is "$n" running || fail "container never ran: $(cat "$BATS_TEST_TMPDIR/attached")"
  run pm kill "$n"
  assert_status 0
  rc=0; wait "$pid" || rc=$?
  assert_eq 137 "$rc" "exit status of the attached podman run"
  assert_eq 137 "$(pm inspect -f '{{.State.ExitCode}}' "$n")" "State.ExitCode"
}

sc_stdin() {
  run sh -c "echo hi | $(PM) run --rm -i $(OPTS) $CLIENT_IMAGE cat"
  assert_status 0
  assert_eq hi "$output" "stdin copied through cat"
}

sc_tty_resize() {
  local n; n=$(cname)
  resize_run "$(PM) run --rm -t --name $n $(OPTS) $CLIENT_IMAGE sh -c $(printf %q "$RESIZE_INNER")"
  assert_status 0
  assert_eq "T:/dev/pts/0 A:40 100 B:50 100" "$(resize_lines)" "terminal size seen in the container"
}

sc_top_ps() {
  local n pid; ensure_shared
  pid=$(pm inspect -f '{{.State.Pid}}' "$n")
  run pm top "$n"
  assert_status 0
  assert_match '^USER +PID +PPID +%CPU +ELAPSED +TTY +TIME +COMMAND$' "$(sed -n 1p <<<"$output")" "podman top header"
  if [ "$RT" = runc ]; then
    assert_eq 2 "$(wc -l <<<"$output")" "podman top: one process"
    assert_match "^root +1 +0 .* $SHARED_CMD *\$" "$(sed -n 2p <<<"$output")" "podman top: the container's process"
  else
    # documented limitation (docs/compatibility.md): podman top reads /proc
    # in the pid and mount namespaces of the container's pid, which for
    # kata-runtime is its shim on the host, so it lists the host's
    # processes; the shim stands for the container's process
    local row; row=$(grep -E "^root +$pid " <<<"$output" || true)
    assert_match " kata-runtime __shim .*--container $(pm inspect -f '{{.Id}}' "$n")" \
      "$row" "podman top: the container's shim (State.Pid $pid)"
  fi
  run pm ps --filter "name=^$n\$" --format '{{.Names}} {{.Status}}'
  assert_status 0
  assert_match "^$n Up " "$output" "podman ps"
}

sc_stats() {
  local n; ensure_shared
  run pm stats --no-stream --format '{{.Name}}|{{.PIDs}}|{{.MemUsage}}' "$n"
  assert_status 0
  local name pids mem
  IFS='|' read -r name pids mem <<<"$output"
  assert_eq "$n" "$name" "stats: name"
  check_cgroup_pids "$pids" "$output"
  assert_match '^[0-9.]+[kMG]?B / ' "$mem" "stats: memory usage"
  [[ $mem != 0B* ]] || fail "stats: no memory usage: $output"
  # the default table: the header and one row for the container (shown in
  # the TAP output; docs/compatibility.md quotes it)
  run pm stats --no-stream "$n"
  assert_status 0
  printf '%s\n' "$output" | sed "s/^/# podman stats ($RT): /" >&3
  assert_match '^ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET IO +BLOCK IO +PIDS' \
    "$(head -1 <<<"$output")" "stats: header"
  stats_row_check "$n" "$output"
}

# ------------------------------------------------------ network scenarios --

WEB_PORT_runc=18081
WEB_PORT_kata=18082

# One web server per runtime on the default network, published on
# WEB_PORT_<rt>, shared by the network scenarios.  Sets WEB, WEB_IP.
ensure_web() {
  local rt=${1:-$RT} port rtp
  WEB=kc-web-$rt
  port=WEB_PORT_$rt
  rtp=$RUNC_RUNTIME; [ "$rt" = kata ] && rtp=$KATA_RUNTIME
  if ! pm_is "$WEB" running; then
    pm rm -f -t 0 "$WEB" >/dev/null 2>&1 || true
    run pm run -d --name "$WEB" --runtime "$rtp" -e "KC_WEB=web-$rt" -p "${!port}:80" \
      "$CLIENT_IMAGE" sh -c "$WEB_INNER"
    assert_status 0 || return 1
    echo "$output" >>"$CLIENTS_TMP/ids"
  fi
  WEB_IP=$(pm inspect -f '{{.NetworkSettings.IPAddress}}' "$WEB")
  [ -n "$WEB_IP" ] || fail "$WEB has no address" || return 1
  wait_for "$TMO" http_get "http://$WEB_IP/" || fail "$WEB never answered on http://$WEB_IP/"
}

# the default network's gateway, from the test namespace's bridge
pm_gateway() { ip -n "$CLIENTS_NETNS" -o -4 addr show dev cni-podman0 | awk '{print $4}' | cut -d/ -f1; }

sc_net_bridge() {
  local gw
  run --separate-stderr pm run --rm $(OPTS) "$CLIENT_IMAGE" sh -c "$NET_REPORT; $(ping_inner '$(ip -4 route show default | awk "{print \$3}")')"
  assert_status 0
  gw=$(pm_gateway)
  [ -n "$gw" ] || fail "no cni-podman0 bridge in the test namespace"
  assert_eq "eth0,lo" "$(report_get links)" "interfaces (in: $output)"
  assert_match '^10\.88\.[0-9]+\.[0-9]+/16$' "$(report_get inet)" "eth0's address (in: $output)"
  assert_eq "default via $gw dev eth0" "$(report_get route | sed 's/ *$//')" "default route (in: $output)"
  assert_eq ok "$(report_get ping)" "ping $gw (cni-podman0)"
}

# -p through the CNI portmap plugin's DNAT: from 127.0.0.1 (masqueraded to
# the bridge's address) and from the namespace's own address (the server
# sees it).
sc_net_publish() {
  local port=WEB_PORT_$RT mac
  ensure_web || return 1
  mac=$(pm inspect -f '{{.NetworkSettings.MacAddress}}' "$WEB")
  run pm exec "$WEB" sh -c "$NET_REPORT; cat /sys/class/net/eth0/address | sed s/^/mac:/"
  assert_status 0
  assert_eq "$WEB_IP/16" "$(report_get inet)" "eth0's address: podman inspect's (in: $output)"
  assert_eq "$mac" "$(report_get mac)" "eth0's MAC: podman inspect's"
  run http_get "http://127.0.0.1:${!port}/"
  assert_status 0
  assert_eq "web-$RT" "$output" "page through 127.0.0.1:${!port}"
  run http_get "http://127.0.0.1:${!port}/cgi-bin/peer"
  assert_status 0
  assert_eq "$(pm_gateway)" "$(peer_of "$output")" "peer seen from 127.0.0.1 (masqueraded; in: $output)"
  run http_get "http://$CLIENTS_EXT_ADDR:${!port}/cgi-bin/peer"
  assert_status 0
  assert_eq "$CLIENTS_EXT_ADDR" "$(peer_of "$output")" "peer seen through the DNAT rule (in: $output)"
}

sc_net_peers() {
  local kip rip
  ensure_web || return 1
  if [ "$RT" = runc ]; then
    run pm run --rm $(OPTS) "$CLIENT_IMAGE" sh -c "$HGET; hget $WEB_IP /"
    assert_status 0
    assert_eq web-runc "$output" "runc -> runc by IP"
    return
  fi
  kip=$WEB_IP
  ensure_web runc || return 1
  rip=$WEB_IP
  run pm run --rm $(OPTS) "$CLIENT_IMAGE" sh -c "$HGET; hget $kip / && hget $rip /"
  assert_status 0
  assert_eq "$(printf 'web-kata\nweb-runc')" "$output" "kata -> kata and kata -> runc by IP"
  run pm run --rm --runtime "$RUNC_RUNTIME" "$CLIENT_IMAGE" sh -c "$HGET; hget $kip /"
  assert_status 0
  assert_eq web-kata "$output" "runc -> kata by IP"
}

# --network host: podman leaves the network namespace out of the spec.
# runc: the test namespace's interfaces.  kata: a VM with only loopback (the
# host's interfaces are never handed to a VM; docs/network.md).
sc_net_host() {
  run --separate-stderr pm run --rm --network host $(NET= OPTS) "$CLIENT_IMAGE" sh -c "$NET_REPORT"
  assert_status 0
  if [ "$RT" = runc ]; then
    assert_match '(^|,)kcext0(,|$)' "$(report_get links)" "runc, host network: the test namespace's interfaces (in: $output)"
  else
    assert_eq lo "$(report_get links)" "kata, host network: only loopback in the VM (in: $output)"
    assert_eq "" "$(ip -n "$CLIENTS_NETNS" -o link show | grep -oE 'tap[0-9]+_kata' || true)" "taps in the test namespace"
  fi
}

sc_none_run_rm() {
  run --separate-stderr pm run --rm $(OPTS) "$CLIENT_IMAGE" sh -c "uname -r; $NET_REPORT"
  assert_status 0
  check_uname "$(head -1 <<<"$output")"
  assert_eq lo "$(report_get links)" "--network none: only loopback (in: $output)"
}

# ------------------------------------------------------------------ tests --

@test "podman/runc: run --rm (uname -r is the host's)" { scenario runc sc_run_rm; }
@test "podman/kata: run --rm (uname -r is the guest's)" { scenario kata sc_run_rm; }
@test "podman/runc: run -d + logs" { scenario runc sc_run_d_logs; }
@test "podman/kata: run -d + logs" { scenario kata sc_run_d_logs; }
@test "podman/runc: exec" { scenario runc sc_exec; }
@test "podman/kata: exec" { scenario kata sc_exec; }
@test "podman/runc: exec -it" { scenario runc sc_exec_it; }
@test "podman/kata: exec -it" { scenario kata sc_exec_it; }
@test "podman/runc: stop -t 2 (SIGTERM, then SIGKILL)" { scenario runc sc_stop; }
@test "podman/kata: stop -t 2 (SIGTERM, then SIGKILL)" { scenario kata sc_stop; }
@test "podman/runc: kill -s USR1" { scenario runc sc_kill_s; }
@test "podman/kata: kill -s USR1" { scenario kata sc_kill_s; }
@test "podman/runc: pause/unpause" { scenario runc sc_pause; }
@test "podman/kata: pause/unpause" { scenario kata sc_pause; }
@test "podman/runc: rm -f running" { scenario runc sc_rm_f; }
@test "podman/kata: rm -f running" { scenario kata sc_rm_f; }
@test "podman/runc: exit codes 3, 137" { scenario runc sc_exit_codes; }
@test "podman/kata: exit codes 3, 137" { scenario kata sc_exit_codes; }
@test "podman/runc: stdin (run -i cat)" { scenario runc sc_stdin; }
@test "podman/kata: stdin (run -i cat)" { scenario kata sc_stdin; }
@test "podman/runc: run -t with resize" { scenario runc sc_tty_resize; }
@test "podman/kata: run -t with resize" { scenario kata sc_tty_resize; }
@test "podman/runc: top and ps" { scenario runc sc_top_ps; }
@test "podman/kata: top and ps" { scenario kata sc_top_ps; }
@test "podman/runc: stats --no-stream" { scenario runc sc_stats; }
@test "podman/kata: stats --no-stream" { scenario kata sc_stats; }
@test "podman/runc: default network: ip addr, ip route, ping the gateway" { scenario runc sc_net_bridge; }
@test "podman/kata: default network: ip addr, ip route, ping the gateway" { scenario kata sc_net_bridge; }
@test "podman/runc: default network: -p (127.0.0.1 and DNAT)" { scenario runc sc_net_publish; }
@test "podman/kata: default network: -p (127.0.0.1 and DNAT)" { scenario kata sc_net_publish; }
@test "podman/runc: default network: peers by IP (runc->runc)" { scenario runc sc_net_peers; }
@test "podman/kata: default network: peers by IP (kata->kata, kata->runc, runc->kata)" { scenario kata sc_net_peers; }
@test "podman/runc: --network host" { scenario runc sc_net_host; }
@test "podman/kata: --network host (VM with only lo)" { scenario kata sc_net_host; }
@test "podman/runc: --network none: run --rm (only lo)" { NET=none scenario runc sc_none_run_rm; }
@test "podman/kata: --network none: run --rm (only lo)" { NET=none scenario kata sc_none_run_rm; }
@test "podman/runc: --network none: rm -f running" { NET=none scenario runc sc_rm_f; }
@test "podman/kata: --network none: rm -f running" { NET=none scenario kata sc_rm_f; }
