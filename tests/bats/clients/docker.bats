#!/usr/bin/env bats
# docker (docker.io 20.10) driving runc (reference) and kata-runtime.
# dockerd runs with its own containerd, data-root and exec-root under a
# temporary directory, in a network namespace of its own; kata is registered
# as the runtime "kata" in a test-only daemon.json.

bats_require_minimum_version 1.5.0
load lib

setup_file() {
  clients_require_packages
  clients_tmp_init dk
  clients_build_image
  clients_netns_add kc-dk
  local d=$CLIENTS_TMP
  export DOCKER_SOCK=$d/docker.sock DOCKER_EXEC=$d/x DOCKER_DATA=$d/data
  clients_add_root "$DOCKER_EXEC/runtime-runc/moby"
  # the containers' host cgroups under a parent of this run's, which the
  # sweep removes (docker's default, /docker, is shared with a real dockerd)
  clients_add_cgroup "$CLIENTS_NETNS"
  cat >"$d/daemon.json" <<EOF
{
  "runtimes": { "kata": { "path": "$KATA_RUNTIME" } },
  "iptables": false, "ip-masq": false, "ip6tables": false, "bridge": "none",
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
}

teardown_file() {
  [ -n "${CLIENTS_TMP:-}" ] || return 0
  dk_rm_all all 2>/dev/null || true
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
OPTS() { echo "--network none --runtime $RT"; }

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
