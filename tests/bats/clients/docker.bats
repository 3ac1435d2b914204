#!/usr/bin/env bats
# docker (docker.io 20.10) driving runc (reference) and kata-runtime.
# dockerd runs with its own containerd, data-root and exec-root under a
# temporary directory, in a network namespace of its own, with docker's
# default network settings there (the bridge docker0, iptables with
# ip-masq, docker-proxy for published ports); kata is registered as the
# runtime "kata" in a test-only daemon.json.  Every container gets docker's
# default bridge network, but for the few `--network none` rows and the
# network scenarios that ask for another one.

bats_require_minimum_version 1.5.0
load lib

# published ports of the shared web containers, in the test namespace
WEB_PORT_runc=18081
WEB_PORT_kata=18082
# the user-defined network: IPv6 and an MTU other than 1500
UNET=kc-un
UNET_V4=172.30.0.
UNET_V6=fd00:6b63::
UNET_MTU=1400

setup_file() {
  clients_require_packages
  clients_tmp_init dk
  clients_build_image
  clients_netns_add kc-dk
  clients_netns_ext
  local d=$CLIENTS_TMP
  export DOCKER_SOCK=$d/docker.sock DOCKER_EXEC=$d/x DOCKER_DATA=$d/data
  clients_add_root "$DOCKER_EXEC/runtime-runc/moby"
  # the containers' host cgroups under a parent of this run's, which the
  # sweep removes (docker's default, /docker, is shared with a real dockerd)
  clients_add_cgroup "$CLIENTS_NETNS"
  # no network setting: docker's defaults (bridge, iptables, ip-masq,
  # userland proxy), inside the test network namespace
  cat >"$d/daemon.json" <<EOF
{
  "runtimes": { "kata": { "path": "$KATA_RUNTIME" } },
  "storage-driver": "vfs", "log-driver": "json-file",
  "cgroup-parent": "/$CLIENTS_NETNS"
}
EOF
  in_netns dockerd --config-file "$d/daemon.json" --data-root "$DOCKER_DATA" \
    --exec-root "$DOCKER_EXEC" --pidfile "$d/dockerd.pid" \
    -H "unix://$DOCKER_SOCK" >"$d/dockerd.log" 2>&1 3>&- &
  echo $! >"$d/dockerd.pid.launch"
  if ! wait_for 60 "$DOCKER_CLI" -H "unix://$DOCKER_SOCK" version; then
    tail -30 "$d/dockerd.log" >&2
    return 1
  fi
  "$DOCKER_CLI" -H "unix://$DOCKER_SOCK" load -i "$CLIENTS_CACHE/busybox.tar" >/dev/null
  # docker0's address: the default bridge's gateway
  DOCKER_GW=$(ip -n "$CLIENTS_NETNS" -o -4 addr show dev docker0 | awk '{print $4}' | cut -d/ -f1)
  export DOCKER_GW
  [ -n "$DOCKER_GW" ] || { echo "dockerd made no docker0 bridge" >&2; tail -30 "$d/dockerd.log" >&2; return 1; }
  "$DOCKER_CLI" -H "unix://$DOCKER_SOCK" network create --ipv6 \
    --subnet "${UNET_V4}0/24" --gateway "${UNET_V4}1" --subnet "${UNET_V6}/64" --gateway "${UNET_V6}1" \
    -o com.docker.network.driver.mtu=$UNET_MTU "$UNET" >/dev/null
}

teardown_file() {
  [ -n "${CLIENTS_TMP:-}" ] || return 0
  dk_rm_all all 2>/dev/null || true
  timeout 30 "$DOCKER_CLI" -H "unix://$DOCKER_SOCK" network rm "$UNET" >/dev/null 2>&1 || true
  kill_pidfile "$CLIENTS_TMP/dockerd.pid" 30
  kill_pidfile "$CLIENTS_TMP/dockerd.pid.launch" 5
  clients_sweep "$CLIENTS_TMP"
}

setup() { mark_daemon_log "$CLIENTS_TMP/dockerd.log"; }

teardown() {
  show_daemon_log "$CLIENTS_TMP/dockerd.log"
  [ -n "${TEST_DONE:-}" ] || kill_stuck "kc${BATS_TEST_NUMBER}-" \
    $(timeout 20 "$DOCKER_CLI" -H "unix://$DOCKER_SOCK" ps -aq --no-trunc --filter "name=^kc${BATS_TEST_NUMBER}-" 2>/dev/null)
  dk_rm_all
}

DK() { echo "$DOCKER_CLI -H unix://$DOCKER_SOCK"; }
dk() { timeout "${TMO:-60}" "$DOCKER_CLI" -H "unix://$DOCKER_SOCK" "$@"; }
# dk_rm_all [all]: removes this test's containers (with "all": every one)
dk_rm_all() {
  local ids
  ids=$(timeout 30 "$DOCKER_CLI" -H "unix://$DOCKER_SOCK" ps -a --format '{{.Names}}' 2>/dev/null |
    { if [ "${1:-}" = all ]; then cat; else grep "^kc${BATS_TEST_NUMBER}-" || true; fi; })
  [ -z "$ids" ] || timeout "$([ "${1:-}" = all ] && echo 180 || echo 60)" "$DOCKER_CLI" -H "unix://$DOCKER_SOCK" rm -f $ids >/dev/null 2>&1 || true
}
# One long-running container per runtime, shared by exec, exec -it, top and
# stats (one VM instead of four); made again if a test broke it.
ensure_shared() {
  n=$(shared_name)
  dk_is "$n" running && return 0
  dk rm -f "$n" >/dev/null 2>&1 || true
  run dk run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" $SHARED_CMD
  assert_status 0
}
# NET: the network of the scenario (default: docker's default bridge)
OPTS() { echo "${NET:+--network $NET} --runtime $RT"; }

dk_state() { dk inspect -f '{{.State.Status}}' "$1"; }
dk_is() { [ "$(dk_state "$1")" = "$2" ]; }
dk_logs_has() { dk logs "$1" 2>&1 | grep -qx -- "$2"; }
dk_ticks() { dk logs "$1" 2>/dev/null | grep -c '^tick$'; }
dk_ticks_gt() { [ "$(dk_ticks "$1")" -gt "$2" ]; }

# ------------------------------------------------------------- scenarios --

sc_run_rm() {
  run --separate-stderr dk run --rm $(OPTS) "$CLIENT_IMAGE" uname -r
  [ "$status" != 124 ] || kata_mark_broken "docker run --rm timed out: $stderr"
  assert_status 0
  check_uname "$output"
}

sc_run_d_logs() {
  local n; n=$(cname)
  run dk run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" sh -c 'echo out-line; echo err-line >&2; sleep 1000'
  assert_status 0
  assert_match '^[0-9a-f]{64}$' "$output" "docker run -d prints the id"
  wait_for "$TMO" dk_logs_has "$n" err-line || fail "logs never showed err-line: $(dk logs "$n" 2>&1)"
  wait_for 10 dk_logs_has "$n" out-line || fail "logs never showed out-line: $(dk logs "$n" 2>&1)"
  run --separate-stderr dk logs "$n"
  assert_status 0
  assert_eq out-line "$output" "docker logs (stdout)"
  assert_eq err-line "$stderr" "docker logs (stderr)"
  assert_eq running "$(dk_state "$n")" "state"
}

sc_exec() {
  local n; ensure_shared
  run --separate-stderr dk exec "$n" sh -c 'echo exec-out; echo exec-err >&2; exit 5'
  assert_status 5
  assert_eq exec-out "$output" "exec stdout"
  assert_eq exec-err "$stderr" "exec stderr"
  # exec joins the container: its pid 1 is the container's process
  run dk exec "$n" sh -c 'tr "\0" " " </proc/1/cmdline'
  assert_status 0
  assert_eq "$SHARED_CMD " "$output" "/proc/1/cmdline seen by exec"
}

sc_exec_it() {
  local n; ensure_shared
  run tty_script "$BATS_TEST_TMPDIR/ts" 30 90 "$(DK) exec -it $n sh -c $(printf %q "$EXEC_TTY_INNER")"
  output=$(printf '%s' "$output" | tty_clean)
  assert_status 0
  assert_eq "tty:/dev/pts/0 size:30 90" "$(exec_tty_lines)" "docker exec -it"
}

sc_stop() {
  local n t0 t1; n=$(cname)
  run dk run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" sh -c "$STOP_INNER"
  assert_status 0
  wait_for "$TMO" dk_logs_has "$n" ready || fail "container never said ready: $(dk logs "$n" 2>&1)"
  t0=$(date +%s%N)
  run dk stop -t 2 "$n"
  t1=$(date +%s%N)
  assert_status 0
  assert_eq "$n" "$output" "docker stop output"
  [ $(( (t1 - t0) / 1000000 )) -ge 2000 ] || fail "stop took $(( (t1 - t0) / 1000000 )) ms, less than the 2 s time-out"
  run dk logs "$n"
  assert_eq "$(printf 'ready\ngot-term')" "$output" "logs: SIGTERM reached the container first"
  assert_eq exited "$(dk_state "$n")" "state"
  assert_eq 137 "$(dk inspect -f '{{.State.ExitCode}}' "$n")" "exit code after SIGKILL"
}

sc_kill_s() {
  local n; n=$(cname)
  run dk run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" sh -c "$USR1_INNER"
  assert_status 0
  wait_for "$TMO" dk_logs_has "$n" ready || fail "container never said ready: $(dk logs "$n" 2>&1)"
  run dk kill -s USR1 "$n"
  assert_status 0
  assert_eq "$n" "$output" "docker kill output"
  run dk wait "$n"
  assert_status 0
  assert_eq 42 "$output" "exit code set by the USR1 trap"
  run dk logs "$n"
  assert_eq "$(printf 'ready\ngot-usr1')" "$output" "logs"
}

sc_pause() {
  local n c1 c2; n=$(cname)
  run dk run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" sh -c "$TICK_INNER"
  assert_status 0
  wait_for "$TMO" dk_ticks_gt "$n" 0 || fail "no tick in the logs"
  run dk pause "$n"
  assert_status 0
  assert_eq "$n" "$output" "docker pause output"
  assert_eq paused "$(dk_state "$n")" "state after pause"
  sleep 0.5; c1=$(dk_ticks "$n"); sleep 2; c2=$(dk_ticks "$n")
  assert_eq "$c1" "$c2" "ticks while paused"
  run dk unpause "$n"
  assert_status 0
  assert_eq "$n" "$output" "docker unpause output"
  assert_eq running "$(dk_state "$n")" "state after unpause"
  wait_for 30 dk_ticks_gt "$n" "$c2" || fail "no tick after unpause"
}

sc_rm_f() {
  local n id; n=$(cname)
  run dk run -d --name "$n" $(OPTS) "$CLIENT_IMAGE" sleep 1000
  assert_status 0
  id=$output
  wait_for "$TMO" dk_is "$n" running
  # docker gives every runc-like runtime the root <exec-root>/runtime-runc/moby
  local root=$DOCKER_EXEC/runtime-runc/moby
  run timeout 30 "$RT_PATH" --root "$root" state "$id"
  assert_status 0
  run dk rm -f "$n"
  assert_status 0
  assert_eq "$n" "$output" "docker rm -f output"
  run dk ps -aq --filter "name=^$n\$"
  assert_eq "" "$output" "docker ps after rm -f"
  # the runtime has forgotten it and nothing of it is left running
  run timeout 30 "$RT_PATH" --root "$root" state "$id"
  [ "$status" -ne 0 ] || fail "$RT still knows $id after rm -f: $output"
  wait_for 20 no_process_with "$id" || fail "processes left for $id: $(describe_pids $(pids_matching "$id"))"
  # kata-runtime made the container's netns (docker gives no path) under
  # its root: gone with it
  assert_eq "" "$(findmnt -rn -o TARGET | grep -F "$root/netns/$id" || true)" "netns mount left for $id"
  [ ! -e "$root/netns/$id" ] || fail "netns file left: $root/netns/$id"
}

# After every container of the file is removed: no network namespace of
# kata-runtime's is left under docker's runtime root, and the daemon's
# namespace has no tap and no ingress qdisc (tcfilter's redirects) left.
sc_net_leftovers() {
  local root=$DOCKER_EXEC/runtime-runc/moby
  dk_rm_all all
  run dk ps -aq
  assert_eq "" "$output" "containers left"
  assert_eq "" "$(findmnt -rn -t nsfs -o TARGET | grep -F "$root/" || true)" "netns mounts left under $root"
  assert_eq "" "$(ls "$root/netns" 2>/dev/null || true)" "netns files left in $root/netns"
  assert_eq "" "$(ip -n "$CLIENTS_NETNS" -o link show | grep -oE 'tap[0-9]+_kata' || true)" "taps left in the daemon's namespace"
  assert_eq "" "$(in_netns tc qdisc show | grep -E '^qdisc ingress' || true)" "ingress qdiscs left in the daemon's namespace"
}

# (exit code 0: every other scenario)
sc_exit_codes() {
  run dk run --rm $(OPTS) "$CLIENT_IMAGE" sh -c 'exit 3'
  assert_status 3
  # 137: the attached client of a container killed with SIGKILL
  local n pid rc; n=$(cname)
  dk run --name "$n" $(OPTS) "$CLIENT_IMAGE" sleep 1000 >"$BATS_TEST_TMPDIR/attached" 2>&1 3>&- &
  pid=$!
  wait_for "$TMO" dk_is "$n" running || fail "container never ran: $(cat "$BATS_TEST_TMPDIR/attached")"
  run dk kill "$n"
  assert_status 0
  rc=0; wait "$pid" || rc=$?
  assert_eq 137 "$rc" "exit status of the attached docker run"
  assert_eq 137 "$(dk inspect -f '{{.State.ExitCode}}' "$n")" "State.ExitCode"
}

sc_stdin() {
  run sh -c "echo hi | $(DK) run --rm -i $(OPTS) $CLIENT_IMAGE cat"
  assert_status 0
  assert_eq hi "$output" "stdin copied through cat"
}

sc_tty_resize() {
  local n; n=$(cname)
  resize_run "$(DK) run --rm -t --name $n $(OPTS) $CLIENT_IMAGE sh -c $(printf %q "$RESIZE_INNER")"
  assert_status 0
  assert_eq "T:/dev/pts/0 A:40 100 B:50 100" "$(resize_lines)" "terminal size seen in the container"
}

sc_top_ps() {
  local n pid; ensure_shared
  pid=$(dk inspect -f '{{.State.Pid}}' "$n")
  run dk top "$n"
  assert_status 0
  assert_match '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$' "$(sed -n 1p <<<"$output")" "docker top header"
  assert_eq 2 "$(wc -l <<<"$output")" "docker top: one process"
  local row; row=$(sed -n 2p <<<"$output")
  assert_match "^root +$pid " "$row" "docker top: the container's pid (State.Pid)"
  if [ "$RT" = runc ]; then
    assert_match " $SHARED_CMD\$" "$row" "docker top: the container's command"
  else
    # documented limitation (docs/compatibility.md): docker runs the host's
    # ps on the pids the runtime reports; guest processes have no host pid,
    # so kata-runtime reports its shim, the host process that stands for
    # the container's process
    assert_match " kata-runtime __shim .*--container $(dk inspect -f '{{.Id}}' "$n")" "$row" "docker top: the container's shim"
  fi
  run dk ps --filter "name=^$n\$" --format '{{.Names}} {{.Status}}'
  assert_status 0
  assert_match "^$n Up " "$output" "docker ps"
}

sc_stats() {
  local n; ensure_shared
  run dk stats --no-stream --format '{{.Name}}|{{.PIDs}}|{{.MemUsage}}' "$n"
  assert_status 0
  local name pids mem
  IFS='|' read -r name pids mem <<<"$output"
  assert_eq "$n" "$name" "stats: name"
  check_cgroup_pids "$pids" "$output"
  assert_match '^[0-9.]+[KMG]i?B / ' "$mem" "stats: memory usage"
  [[ $mem != 0B* ]] || fail "stats: no memory usage: $output"
  # the default table: the header and one row for the container (shown in
  # the TAP output; docs/compatibility.md quotes it)
  run dk stats --no-stream "$n"
  assert_status 0
  printf '%s\n' "$output" | sed "s/^/# docker stats ($RT): /" >&3
  assert_match '^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$' \
    "$(head -1 <<<"$output")" "stats: header"
  stats_row_check "$n" "$output"
}

# ------------------------------------------------------ network scenarios --

# One web server per runtime on the default bridge, published on
# WEB_PORT_<rt>, shared by the network scenarios; made again if a test
# broke it.  Sets WEB (name), WEB_IP.
ensure_web() {
  local rt=${1:-$RT} port
  WEB=kc-web-$rt
  port=WEB_PORT_$rt
  if dk_is "$WEB" running; then
    # running but not answering (an earlier failed test broke its network):
    # made again, so that this test is about its own checks
    WEB_IP=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' "$WEB")
    if ! wait_for 5 http_get "http://$WEB_IP/"; then
      log "$WEB does not answer any more: making it again"
      dk rm -f "$WEB" >/dev/null 2>&1 || true
    fi
  fi
  if ! dk_is "$WEB" running; then
    dk rm -f "$WEB" >/dev/null 2>&1 || true
    run dk run -d --name "$WEB" --runtime "$rt" -e "KC_WEB=web-$rt" -p "${!port}:80" \
      "$CLIENT_IMAGE" sh -c "$WEB_INNER"
    assert_status 0 || return 1
  fi
  WEB_IP=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' "$WEB")
  [ -n "$WEB_IP" ] || fail "$WEB has no address: $(dk inspect -f '{{json .NetworkSettings}}' "$WEB")" || return 1
  # httpd may not listen yet right after the start
  wait_for "$TMO" http_get "http://$WEB_IP/" || fail "$WEB never answered on http://$WEB_IP/"
}

# The issue's first command: `docker run --rm --runtime kata busybox ip addr`
# on the default bridge: docker's address, its default route, the gateway
# answers.
sc_net_bridge() {
  run --separate-stderr dk run --rm $(OPTS) "$CLIENT_IMAGE" sh -c "$NET_REPORT; $(ping_inner "$DOCKER_GW")"
  assert_status 0
  assert_eq "eth0,lo" "$(report_get links)" "interfaces (in: $output)"
  assert_match '^172\.17\.[0-9]+\.[0-9]+/16$' "$(report_get inet)" "eth0's address (in: $output)"
  assert_eq "default via $DOCKER_GW dev eth0" "$(report_get route | sed 's/ *$//')" "default route (in: $output)"
  assert_eq 1500 "$(report_get mtu)" "eth0's MTU"
  assert_eq ok "$(report_get ping)" "ping $DOCKER_GW (docker0)"
}

# The web container's address and MAC are the ones docker chose, seen from
# inside with exec; -p reaches it from the daemon's namespace through
# docker-proxy (127.0.0.1: the server sees docker0's address) and through
# the iptables DNAT rule (the namespace's own address: the server sees it).
sc_net_publish() {
  local port=WEB_PORT_$RT body mac
  ensure_web || return 1
  mac=$(dk inspect -f '{{.NetworkSettings.MacAddress}}' "$WEB")
  run dk exec "$WEB" sh -c "$NET_REPORT; cat /sys/class/net/eth0/address | sed s/^/mac:/"
  assert_status 0
  assert_eq "$WEB_IP/16" "$(report_get inet)" "eth0's address: docker inspect's (in: $output)"
  assert_eq "$mac" "$(report_get mac)" "eth0's MAC: docker inspect's"
  run http_get "http://127.0.0.1:${!port}/"
  assert_status 0
  assert_eq "web-$RT" "$output" "page through docker-proxy (127.0.0.1:${!port})"
  run http_get "http://127.0.0.1:${!port}/cgi-bin/peer"
  assert_status 0
  assert_eq "$DOCKER_GW" "$(peer_of "$output")" "peer seen through docker-proxy (in: $output)"
  run http_get "http://$CLIENTS_EXT_ADDR:${!port}/cgi-bin/peer"
  assert_status 0
  assert_eq "$CLIENTS_EXT_ADDR" "$(peer_of "$output")" "peer seen through the DNAT rule (in: $output)"
}

# Containers on the default bridge reach each other by IP.  runc: runc ->
# runc.  kata: kata -> kata, kata -> runc (one kata client), runc -> kata.
sc_net_peers() {
  local kip rip
  ensure_web || return 1
  if [ "$RT" = runc ]; then
    run dk run --rm $(OPTS) "$CLIENT_IMAGE" sh -c "$HGET; hget $WEB_IP /"
    assert_status 0
    assert_eq web-runc "$output" "runc -> runc by IP"
    return
  fi
  kip=$WEB_IP
  ensure_web runc || return 1
  rip=$WEB_IP
  run dk run --rm $(OPTS) "$CLIENT_IMAGE" sh -c "$HGET; hget $kip / && hget $rip /"
  assert_status 0
  assert_eq "$(printf 'web-kata\nweb-runc')" "$output" "kata -> kata and kata -> runc by IP"
  run dk run --rm --network bridge --runtime runc "$CLIENT_IMAGE" sh -c "$HGET; hget $kip /"
  assert_status 0
  assert_eq web-kata "$output" "runc -> kata by IP"
}

# --network host: docker names its own namespace in the spec (the path of
# <exec-root>/netns/default).  runc: the daemon's namespace (docker0 and
# all).  kata: wiring the daemon's interfaces to a VM would redirect
# docker0's and every container's traffic into it, so create refuses a
# netns that is the runtime's own (docs/network.md, "Host networking is
# refused"): a clear error, no container left in the runtime, and no tap or
# ingress qdisc in the daemon's namespace.
sc_net_host() {
  if [ "$RT" = runc ]; then
    run --separate-stderr dk run --rm --network host --runtime runc "$CLIENT_IMAGE" sh -c "$NET_REPORT"
    assert_status 0
    assert_match '(^|,)docker0(,|$)' "$(report_get links)" "runc, host network: the daemon's interfaces (in: $output)"
    assert_match '(^|,)kcext0(,|$)' "$(report_get links)" "runc, host network: the daemon's interfaces (in: $output)"
    return
  fi
  local n id root=$DOCKER_EXEC/runtime-runc/moby; n=$(cname)
  run --separate-stderr dk run --name "$n" --network host --runtime kata "$CLIENT_IMAGE" sh -c "$NET_REPORT"
  printf '# docker run --network host (kata): status %s: %s %s\n' "$status" "$(tr '\n' ' ' <<<"$output")" "$stderr" | cut -c1-600 >&3
  [ "$status" -ne 0 ] || fail "kata ran with host networking: $output"
  assert_match "host networking" "$stderr" "the error says why (status $status)"
  id=$(dk ps -aq --no-trunc --filter "name=^$n\$")
  if [ -n "$id" ]; then
    run timeout 30 "$RT_PATH" --root "$root" state "$id"
    [ "$status" -ne 0 ] || fail "kata-runtime still knows the refused container $id: $output"
    assert_eq "" "$(pids_matching "$id")" "processes left for the refused container"
  fi
  assert_eq "" "$(ip -n "$CLIENTS_NETNS" -o link show | grep -oE 'tap[0-9]+_kata' || true)" "taps in the daemon's namespace"
  assert_eq "" "$(in_netns tc qdisc show | grep -E '^qdisc ingress' || true)" "ingress qdiscs in the daemon's namespace"
}

# --network container:<web>: runc joins the web container's namespace (same
# address, its localhost).  kata -> a kata container: refused (that
# namespace's veth already feeds the other VM), and the other container
# keeps working.  kata -> a runc container: see docs/network.md, "Clients".
sc_net_container() {
  ensure_web || return 1
  if [ "$RT" = runc ]; then
    run dk run --rm --network "container:$WEB" --runtime runc "$CLIENT_IMAGE" \
      sh -c "$NET_REPORT; $HGET; hget 127.0.0.1 / | sed s/^/local:/"
    assert_status 0
    assert_eq "$WEB_IP/16" "$(report_get inet)" "runc joins the web container's address (in: $output)"
    assert_eq web-runc "$(report_get local)" "the web server on the shared localhost"
    return
  fi
  local n; n=$(cname)
  run --separate-stderr dk run --rm --name "$n" --network "container:$WEB" --runtime kata "$CLIENT_IMAGE" true
  [ "$status" -ne 0 ] || fail "kata joined the netns of another kata container: $output"
  printf '# docker run --network container:%s (kata): status %s: %s\n' "$WEB" "$status" "$stderr" | cut -c1-600 >&3
  assert_match '(tap|network namespace|netns)' "$stderr" "the error says why (status $status)"
  run dk ps -aq --filter "name=^$n\$"
  assert_eq "" "$output" "nothing left of the refused container (docker ps -a)"
  run http_get "http://$WEB_IP/"
  assert_status 0
  assert_eq web-kata "$output" "the kata web container still answers"
}

# kata joining a runc container's namespace (--network container:<runc>):
# recorded for docs/network.md.  The target is a runc container of its own:
# the kata VM takes over its veth (the guest gets its address and MAC, and
# the traffic to that address goes to the VM, where nothing listens on 80);
# once the kata container is gone the runc container has its network back.
sc_net_container_runc() {
  local t n tip tmac report during; t=$(cname target); n=$(cname)
  run dk run -d --name "$t" --runtime runc -e KC_WEB=target "$CLIENT_IMAGE" sh -c "$WEB_INNER"
  assert_status 0
  tip=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' "$t")
  tmac=$(dk inspect -f '{{.NetworkSettings.MacAddress}}' "$t")
  wait_for "$TMO" http_get "http://$tip/" || fail "the runc target never answered"
  run --separate-stderr dk run -d --name "$n" --network "container:$t" --runtime kata "$CLIENT_IMAGE" sleep 1000
  assert_status 0
  run --separate-stderr dk exec "$n" sh -c "$NET_REPORT; cat /sys/class/net/eth0/address | sed s/^/mac:/"
  report=$output
  during=$(http_get "http://$tip/" 2>&1) && during="answered: $during" || during="no answer: $during"
  printf '# docker run --network container:<runc> (kata): %s; http://%s/ while it runs: %s\n' \
    "$(tr '\n' ' ' <<<"$report")" "$tip" "$during" | cut -c1-600 >&3
  run dk rm -f "$n"
  assert_status 0
  output=$report
  assert_eq "eth0,lo" "$(report_get links)" "kata in a runc container's netns: the VM gets its veth (in: $output)"
  assert_eq "$tip/16" "$(report_get inet)" "kata in a runc container's netns: the runc container's address"
  assert_eq "$tmac" "$(report_get mac)" "kata in a runc container's netns: the runc container's MAC"
  assert_match '^no answer' "$during" "the runc container's address while the VM holds its veth"
  # once the kata container is gone, the runc container's network is its own again
  wait_for 20 http_get "http://$tip/" || fail "the runc target lost its network after the kata container left"
}

# A user-defined network (IPv6, MTU 1400): docker's embedded DNS
# (127.0.0.11, a resolver inside the container's netns) resolves the
# server's name.  runc: directly.  kata: the guest's 127.0.0.11 is its own
# loopback; the agent relays the queries to the runtime, which sends them
# from inside the netns (docs/network.md, "DNS: a resolver on the netns'
# loopback").  Also by IP, and by a --add-host name (/etc/hosts).
sc_net_user_dns() {
  local s sip; s=$(cname srv)
  run dk run -d --name "$s" --network "$UNET" --runtime "$RT" -e "KC_WEB=srv-$RT" "$CLIENT_IMAGE" sh -c "$WEB_INNER"
  assert_status 0
  sip=$(dk inspect -f "{{(index .NetworkSettings.Networks \"$UNET\").IPAddress}}" "$s")
  [ -n "$sip" ] || fail "no address on $UNET for $s"
  local inner="$HGET
    grep ^nameserver /etc/resolv.conf | sed s/^/resolv:/
    if nslookup $s >/dev/null 2>&1; then echo dns:ok; else echo dns:fail; fi
    hget_retry $sip / | sed s/^/byip:/
    hget $s / 2>/dev/null | sed s/^/byname:/
    hget kc-alias / 2>/dev/null | sed s/^/alias:/"
  run --separate-stderr dk run --rm --network "$UNET" --add-host "kc-alias:$sip" $(NET= OPTS) "$CLIENT_IMAGE" sh -c "$inner"
  printf '# user-defined network, name resolution (%s): %s\n' "$RT" "$(tr '\n' ' ' <<<"$output")" >&3
  assert_status 0
  assert_eq "nameserver 127.0.0.11" "$(report_get resolv)" "resolv.conf: docker's embedded DNS"
  assert_eq "srv-$RT" "$(report_get byip)" "server reached by IP on $UNET"
  assert_eq "srv-$RT" "$(report_get alias)" "server reached by a --add-host name"
  assert_eq ok "$(report_get dns)" "the embedded DNS resolves $s (nslookup)"
  assert_eq "srv-$RT" "$(report_get byname)" "server reached by its name"
}

# The user-defined network's MTU (1400) and IPv6 (fd00:6b63::/64) reach
# eth0: address, default routes, both gateways answer, a full-size frame
# passes.
sc_net_user_v6_mtu() {
  local gw4=${UNET_V4}1 gw6=${UNET_V6}1
  run --separate-stderr dk run --rm --network "$UNET" $(NET= OPTS) "$CLIENT_IMAGE" sh -c \
    "$NET_REPORT; $(ping_inner "$gw6"); ping -c1 -W5 -s $((UNET_MTU - 28)) $gw4 >/dev/null 2>&1 && echo big:ok || echo big:fail"
  assert_status 0
  assert_eq "$UNET_MTU" "$(report_get mtu)" "eth0's MTU: the network's (in: $output)"
  assert_match "^${UNET_V6}[0-9a-f:]+/64\$" "$(report_get inet6)" "eth0's IPv6 address (in: $output)"
  assert_match "^default via $gw6 dev eth0" "$(report_get route6)" "IPv6 default route (in: $output)"
  assert_eq "default via $gw4 dev eth0" "$(report_get route | sed 's/ *$//')" "IPv4 default route (in: $output)"
  assert_eq ok "$(report_get ping)" "ping $gw6"
  assert_eq ok "$(report_get big)" "a $UNET_MTU-byte packet to $gw4"
}

# --network none: only loopback.
sc_none_run_rm() {
  run --separate-stderr dk run --rm $(OPTS) "$CLIENT_IMAGE" sh -c "uname -r; $NET_REPORT"
  assert_status 0
  check_uname "$(head -1 <<<"$output")"
  assert_eq lo "$(report_get links)" "--network none: only loopback (in: $output)"
}

# ------------------------------------------------------------------ tests --

@test "docker/runc: run --rm (uname -r is the host's)" { scenario runc sc_run_rm; }
@test "docker/kata: run --rm (uname -r is the guest's)" { scenario kata sc_run_rm; }
@test "docker/runc: run -d + logs" { scenario runc sc_run_d_logs; }
@test "docker/kata: run -d + logs" { scenario kata sc_run_d_logs; }
@test "docker/runc: exec" { scenario runc sc_exec; }
@test "docker/kata: exec" { scenario kata sc_exec; }
@test "docker/runc: exec -it" { scenario runc sc_exec_it; }
@test "docker/kata: exec -it" { scenario kata sc_exec_it; }
@test "docker/runc: stop -t 2 (SIGTERM, then SIGKILL)" { scenario runc sc_stop; }
@test "docker/kata: stop -t 2 (SIGTERM, then SIGKILL)" { scenario kata sc_stop; }
@test "docker/runc: kill -s USR1" { scenario runc sc_kill_s; }
@test "docker/kata: kill -s USR1" { scenario kata sc_kill_s; }
@test "docker/runc: pause/unpause" { scenario runc sc_pause; }
@test "docker/kata: pause/unpause" { scenario kata sc_pause; }
@test "docker/runc: rm -f running" { scenario runc sc_rm_f; }
@test "docker/kata: rm -f running" { scenario kata sc_rm_f; }
@test "docker/runc: exit codes 3, 137" { scenario runc sc_exit_codes; }
@test "docker/kata: exit codes 3, 137" { scenario kata sc_exit_codes; }
@test "docker/runc: stdin (run -i cat)" { scenario runc sc_stdin; }
@test "docker/kata: stdin (run -i cat)" { scenario kata sc_stdin; }
@test "docker/runc: run -t with resize" { scenario runc sc_tty_resize; }
@test "docker/kata: run -t with resize" { scenario kata sc_tty_resize; }
@test "docker/runc: top and ps" { scenario runc sc_top_ps; }
@test "docker/kata: top and ps" { scenario kata sc_top_ps; }
@test "docker/runc: stats --no-stream" { scenario runc sc_stats; }
@test "docker/kata: stats --no-stream" { scenario kata sc_stats; }
@test "docker/runc: bridge: ip addr, ip route, ping the gateway" { scenario runc sc_net_bridge; }
@test "docker/kata: bridge: ip addr, ip route, ping the gateway" { scenario kata sc_net_bridge; }
@test "docker/runc: bridge: -p through docker-proxy and DNAT" { scenario runc sc_net_publish; }
@test "docker/kata: bridge: -p through docker-proxy and DNAT" { scenario kata sc_net_publish; }
@test "docker/runc: bridge: peers by IP (runc->runc)" { scenario runc sc_net_peers; }
@test "docker/kata: bridge: peers by IP (kata->kata, kata->runc, runc->kata)" { scenario kata sc_net_peers; }
@test "docker/runc: --network host" { scenario runc sc_net_host; }
@test "docker/kata: --network host is refused" { scenario kata sc_net_host; }
@test "docker/runc: --network container:<runc>" { scenario runc sc_net_container; }
@test "docker/kata: --network container:<kata> is refused" { scenario kata sc_net_container; }
@test "docker/kata: --network container:<runc>" { scenario kata sc_net_container_runc; }
@test "docker/runc: user network: embedded DNS, by IP, --add-host" { scenario runc sc_net_user_dns; }
@test "docker/kata: user network: embedded DNS, by IP, --add-host" { scenario kata sc_net_user_dns; }
@test "docker/runc: user network: IPv6 and MTU 1400" { scenario runc sc_net_user_v6_mtu; }
@test "docker/kata: user network: IPv6 and MTU 1400" { scenario kata sc_net_user_v6_mtu; }
@test "docker/runc: --network none: run --rm (only lo)" { NET=none scenario runc sc_none_run_rm; }
@test "docker/kata: --network none: run --rm (only lo)" { NET=none scenario kata sc_none_run_rm; }
@test "docker/runc: --network none: rm -f running" { NET=none scenario runc sc_rm_f; }
@test "docker/kata: --network none: rm -f running" { NET=none scenario kata sc_rm_f; }
@test "docker/kata: no netns, tap or ingress qdisc left after the file's containers" { scenario kata sc_net_leftovers; }
