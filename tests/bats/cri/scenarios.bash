#!/bin/bash
# The CRI scenarios, shared by containerd.bats and crio.bats.  Each runs with
# the handler in $RT (runc: the reference; kata: kata-runtime).  The file
# that loads this defines, before the tests run:
#   CRI_SOCK, CRICTL, CRI_CGROUP       (lib.bash's cri)
#   CRI_RT_ROOT_runc, CRI_RT_ROOT_kata the root each runtime is given
#                                      (containerd: Root + "/k8s.io")
#   CRI_SERVER                         containerd | crio (for messages)
#
# Most read-only checks share one pod per handler (kc-pod-<handler>, two
# containers: "web", an httpd on :8080, and "cli", a sleep with a hostPath
# volume), made by the first scenarios and by ensure_pod when they did not
# run (a filter) or broke it.

BUSYBOX=$CLIENT_IMAGE
WEB_CMD='["sh","-c","mkdir -p /www && echo hello-$(hostname) >/www/index.html && echo web-ready && exec httpd -f -p 8080 -h /www"]'
CLI_CMD='["sh","-c","echo out-line; sleep 0.2; echo err-line >&2; exec sleep 86400"]'

rt_root() { eval "echo \$CRI_RT_ROOT_$RT"; }
# rt_state ID: the handler's runtime's view of a container or sandbox
rt_state() { timeout 30 "$RT_PATH" --root "$(rt_root)" state "$1" 2>&1; }
rt_knows() { timeout 30 "$RT_PATH" --root "$(rt_root)" state "$1" >/dev/null 2>&1; }

shared_pod_name() { echo "kc-pod-$RT"; }
sf() { echo "$CLIENTS_TMP/shared-$RT.$1"; }
hostpath_dir() { echo "$CLIENTS_TMP/hostpath-$RT"; }

cli_json() {
  mkdir -p "$(hostpath_dir)"
  cri_ctr_json cli "$BUSYBOX" "$CLI_CMD" \
    "$(jq -cn --arg h "$(hostpath_dir)" '{ mounts: [{ container_path: "/data", host_path: $h }] }')"
}

# make_shared_pod: runp, then web and cli; ids in $(sf pod|web|cli).
make_shared_pod() {
  local pj
  rm -f "$(sf pod)" "$(sf web)" "$(sf cli)"
  pj=$(cri_pod_json "$(shared_pod_name)")
  cri_runp "$pj" || return 1
  echo "$POD" >"$(sf pod)"
}
make_shared_ctrs() {
  local pod pj
  pod=$(cat "$(sf pod)"); pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  cri_create_start "$pod" "$(cri_ctr_json web "$BUSYBOX" "$WEB_CMD")" "$pj" || return 1
  echo "$CTR" >"$(sf web)"
  cri_create_start "$pod" "$(cli_json)" "$pj" || return 1
  echo "$CTR" >"$(sf cli)"
}

# ensure_pod: POD, WEB, CLI of the shared pod, made again when needed.
ensure_pod() {
  POD=$(cat "$(sf pod)" 2>/dev/null || true); WEB=$(cat "$(sf web)" 2>/dev/null || true)
  CLI=$(cat "$(sf cli)" 2>/dev/null || true)
  if [ -n "$POD" ] && [ "$(cri_pod_state "$POD")" = SANDBOX_READY ] &&
     [ -n "$WEB" ] && cri_ctr_is "$WEB" CONTAINER_RUNNING &&
     [ -n "$CLI" ] && cri_ctr_is "$CLI" CONTAINER_RUNNING; then
    return 0
  fi
  [ -z "$POD" ] || cri_rm_pod "$POD"
  make_shared_pod || return 1
  make_shared_ctrs || return 1
  POD=$(cat "$(sf pod)"); WEB=$(cat "$(sf web)"); CLI=$(cat "$(sf cli)")
  wait_for "$TMO" web_serves "$POD" || fail "the web container never answered on the pod IP"
}

web_serves() {
  local ip; ip=$(cri_pod_ip "$1")
  [ -n "$ip" ] && in_netns curl -sf -m 5 "http://$ip:8080/" >/dev/null
}

# ------------------------------------------------------------- scenarios --

# runp: the pod is Ready, has an address from the CNI subnet, runs with the
# handler, and the handler's runtime knows the sandbox.
sc_runp() {
  make_shared_pod
  POD=$(cat "$(sf pod)")
  assert_eq SANDBOX_READY "$(cri_pod_state "$POD")" "pod state"
  assert_match "^${CRI_SUBNET_PREFIX//./\\.}\.0\.[0-9]+$" "$(cri_pod_ip "$POD")" "pod IP (CNI host-local)"
  local h
  # containerd: PodSandbox.runtimeHandler; cri-o 1.25 leaves that empty and
  # records the handler as an annotation of the pod's spec
  h=$(cri pods -o json --id "$POD" | jq -r '.items[0].runtimeHandler // empty')
  [ -n "$h" ] || h=$(cri inspectp "$POD" | jq -r '.info.runtimeSpec.annotations["io.kubernetes.cri-o.RuntimeHandler"] // empty')
  [ -n "$h" ] || cri inspectp "$POD" | jq -c '.info | {keys: keys, ann: .runtimeSpec.annotations}' >&2
  assert_eq "$RT" "$h" "runtime handler of the pod"
  run rt_state "$POD"
  assert_status 0
  assert_eq running "$(jq -r .status <<<"$output")" "$RT state of the sandbox"
}

# create/start of two containers in the pod; ps lists both, Running, in the
# pod; they run on one kernel (boot_id): the host's for runc, the VM's for kata.
sc_create_start() {
  POD=$(cat "$(sf pod)" 2>/dev/null || true)
  if [ -z "$POD" ] || [ "$(cri_pod_state "$POD")" != SANDBOX_READY ]; then make_shared_pod; POD=$(cat "$(sf pod)"); fi
  make_shared_ctrs
  WEB=$(cat "$(sf web)"); CLI=$(cat "$(sf cli)")
  run cri ps -o json --pod "$POD"
  assert_status 0
  assert_eq "cli:CONTAINER_RUNNING web:CONTAINER_RUNNING" \
    "$(jq -r '[.containers[] | .metadata.name + ":" + .state] | sort | join(" ")' <<<"$output")" "ps --pod"
  assert_eq "$POD $POD" "$(jq -r '[.containers[].podSandboxId] | join(" ")' <<<"$output")" "pod of the containers"
  local b1 b2 host
  b1=$(cri exec "$WEB" cat /proc/sys/kernel/random/boot_id)
  b2=$(cri exec "$CLI" cat /proc/sys/kernel/random/boot_id)
  host=$(cat /proc/sys/kernel/random/boot_id)
  assert_match '^[0-9a-f-]{36}$' "$b1" "boot_id in web"
  assert_eq "$b1" "$b2" "both containers run on one kernel"
  if [ "$RT" = runc ]; then
    assert_eq "$host" "$b1" "runc: the host's kernel"
  else
    assert_ne "$host" "$b1" "kata: the pod's VM kernel, not the host's"
    check_uname "$(cri exec "$WEB" uname -r)"
  fi
}

# The pod IP answers from the node (the server's netns), through the CNI bridge.
sc_pod_ip() {
  ensure_pod
  local ip; ip=$(cri_pod_ip "$POD")
  run in_netns curl -sS -m 20 "http://$ip:8080/"
  assert_status 0
  assert_eq "hello-$(shared_pod_name)" "$output" "GET http://$ip:8080/ from the node"
}

sc_inspect() {
  ensure_pod
  run cri inspect "$CLI"
  assert_status 0
  assert_eq CONTAINER_RUNNING "$(jq -r .status.state <<<"$output")" "state"
  assert_eq cli "$(jq -r .status.metadata.name <<<"$output")" "name"
  assert_eq "$BUSYBOX" "$(jq -r .status.image.image <<<"$output")" "image"
  assert_eq "$CLIENTS_TMP/logs/$(shared_pod_name)/cli.log" "$(jq -r .status.logPath <<<"$output")" "logPath"
  assert_eq "$POD" "$(jq -r '.info.sandboxID // .status.labels["io.kubernetes.pod.uid"] // empty' <<<"$output" | head -1)" "sandbox of the container"
  local pid; pid=$(jq -r '.info.pid // 0' <<<"$output")
  [ "$pid" -gt 0 ] && kill -0 "$pid" || fail "inspect: .info.pid '$pid' is not a live process"
  assert_eq "/data $(hostpath_dir)" "$(jq -r '.status.mounts[] | select(.containerPath == "/data") | .containerPath + " " + .hostPath' <<<"$output")" "mounts"
  run rt_state "$CLI"
  assert_status 0
  assert_eq running "$(jq -r .status <<<"$output")" "$RT state of the container"
}

# logs: crictl logs gives stdout and stderr apart; the file is in the CRI log
# format (RFC 3339 time, stream, F for a full line).
sc_logs() {
  ensure_pod
  local f; f=$CLIENTS_TMP/logs/$(shared_pod_name)/cli.log
  wait_for 20 grep -q err-line "$f" || fail "err-line never reached $f: $(cat "$f")"
  run --separate-stderr cri logs "$CLI"
  assert_status 0
  assert_eq out-line "$output" "crictl logs: stdout"
  assert_eq err-line "$stderr" "crictl logs: stderr"
  assert_eq 2 "$(wc -l <"$f")" "lines in the log file ($(cat "$f"))"
  assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) stdout F out-line$' "$(grep out-line "$f")" "stdout line"
  assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) stderr F err-line$' "$(grep err-line "$f")" "stderr line"
}

sc_exec() {
  ensure_pod
  run --separate-stderr cri exec "$CLI" sh -c 'echo exec-out; echo exec-err >&2; exit 5'
  [ "$status" -ne 0 ] || fail "exec of 'exit 5' succeeded"
  assert_eq exec-out "$output" "exec stdout"
  assert_match 'exec-err' "$stderr" "exec stderr"
  assert_match 'exit code 5' "$stderr" "exec exit code"
  run cri exec "$CLI" sh -c 'tr "\0" " " </proc/1/cmdline'
  assert_status 0
  assert_eq "sleep 86400 " "$output" "/proc/1/cmdline seen by exec"
}

pts_left() { cri exec "$CLI" ls /dev/pts | grep -v '^ptmx$' | tr '\n' ' '; }
no_pts_left() { [ -z "$(pts_left)" ]; }

# exec -it under script(1): a terminal, its size; no pty left behind.
sc_exec_it() {
  ensure_pod
  # `; sleep 1`: cri-o (with runc as well) may drop the last output of a
  # terminal exec that exits at once
  run tty_script "$BATS_TEST_TMPDIR/ts" 30 90 "$(cri_cmdline) exec -it $CLI sh -c $(printf %q "$EXEC_TTY_INNER; sleep 1")"
  output=$(printf '%s' "$output" | tty_clean)
  assert_status 0
  assert_match '^tty:/dev/pts/[0-9]+ size:30 90$' "$(exec_tty_lines)" "crictl exec -it"
  wait_for 20 no_pts_left || fail "ptys left in the container after exec -it: $(pts_left)"
}

# The pod's containers share localhost: cli reaches web's 127.0.0.1:8080.
sc_localhost() {
  ensure_pod
  run cri exec "$CLI" timeout 20 wget -q -O - http://127.0.0.1:8080/
  assert_status 0
  assert_eq "hello-$(shared_pod_name)" "$output" "cli: GET http://127.0.0.1:8080/ (web's server)"
}

# hostPath: both ways.
sc_hostpath() {
  ensure_pod
  local d; d=$(hostpath_dir)
  echo "from-host-$$" >"$d/h.txt"
  run cri exec "$CLI" cat /data/h.txt
  assert_status 0
  assert_eq "from-host-$$" "$output" "host file read in the container"
  run cri exec "$CLI" sh -c "echo from-ctr-$$ >/data/c.txt && sync"
  assert_status 0
  wait_for 10 grep -qx "from-ctr-$$" "$d/c.txt" || fail "container's file never reached the host: $(cat "$d/c.txt" 2>&1)"
  assert_eq "0 0" "$(stat -c '%u %g' "$d/c.txt")" "owner of the file on the host"
}

sc_stats() {
  ensure_pod
  run cri stats -o json --id "$WEB"
  assert_status 0
  local cpu mem
  cpu=$(jq -r '.stats[0].cpu.usageCoreNanoSeconds.value // 0' <<<"$output")
  mem=$(jq -r '.stats[0].memory.workingSetBytes.value // 0' <<<"$output")
  assert_eq web "$(jq -r '.stats[0].attributes.metadata.name' <<<"$output")" "stats: the container"
  [ "$cpu" -gt 0 ] || fail "stats: cpu usageCoreNanoSeconds is $cpu: $output"
  [ "$mem" -gt 0 ] || fail "stats: memory workingSetBytes is $mem: $output"
  run cri statsp -o json --id "$POD"
  assert_status 0
  assert_eq "$(shared_pod_name)" "$(jq -r '.stats[0].attributes.metadata.name' <<<"$output")" "statsp: the pod"
  # cri-o 1.25 leaves the pod's own cpu/memory null with cgroupfs (with runc
  # too); what it reports must be sane, and the containers must be there
  cpu=$(jq -r '.stats[0].linux.cpu.usageCoreNanoSeconds.value // "null"' <<<"$output")
  if [ "$cpu" != null ] || [ "$CRI_SERVER" = containerd ]; then
    [ "$cpu" != null ] && [ "$cpu" -gt 0 ] || fail "statsp: cpu usageCoreNanoSeconds is $cpu: $output"
  fi
  if [ "$CRI_SERVER" = crio ]; then
    assert_eq "cli web" "$(jq -r '[.stats[0].linux.containers[]?.attributes.metadata.name] | sort | join(" ")' <<<"$output")" \
      "statsp: the pod's containers"
  fi
}

# readOnlyRootFilesystem + runAsUser/runAsGroup: the container runs as
# 1000:1000, cannot write its root, and exits 0.
sc_ro_user() {
  ensure_pod
  local pj cj
  pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  cj=$(cri_ctr_json "ro$BATS_TEST_NUMBER" "$BUSYBOX" \
    '["sh","-c","echo uid=$(id -u) gid=$(id -g); touch /probe 2>&1 | grep -o \"Read-only file system\"; if [ -e /probe ]; then echo probe-exists; else echo probe-absent; fi"]' \
    '{ "linux": { "security_context": { "readonly_rootfs": true, "run_as_user": { "value": 1000 }, "run_as_group": { "value": 1000 } } } }')
  cri_create_start "$POD" "$cj" "$pj"
  wait_for "$TMO" cri_ctr_is "$CTR" CONTAINER_EXITED || fail "container never exited: $(cri_ctr_state "$CTR")"
  assert_eq 0 "$(cri_inspect_field "$CTR" .status.exitCode)" "exit code"
  run cri logs "$CTR"
  assert_status 0
  assert_eq "$(printf 'uid=1000 gid=1000\nRead-only file system\nprobe-absent')" "$output" "output (id; touch /probe; test -e /probe)"
  run cri rm "$CTR"
  assert_status 0
}

# A container that exits (code 7): Exited with its code, the pod lives on,
# and a new container (attempt 1) runs in the same sandbox.
sc_exit_new() {
  ensure_pod
  local pj c1
  pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  cri_create_start "$POD" "$(cri_ctr_json "ex$BATS_TEST_NUMBER" "$BUSYBOX" '["sh","-c","echo first; exit 7"]')" "$pj"
  c1=$CTR
  wait_for "$TMO" cri_ctr_is "$c1" CONTAINER_EXITED || fail "container never exited: $(cri_ctr_state "$c1")"
  assert_eq 7 "$(cri_inspect_field "$c1" .status.exitCode)" "exit code"
  assert_eq Error "$(cri_inspect_field "$c1" .status.reason)" "reason"
  assert_eq SANDBOX_READY "$(cri_pod_state "$POD")" "pod state after the exit"
  cri_ctr_is "$WEB" CONTAINER_RUNNING || fail "web stopped when another container exited"
  local cj; cj=$CLIENTS_TMP/pods/again.json
  sed 's/"attempt": 0/"attempt": 1/; s/echo first; exit 7/echo again; exec sleep 600/; s/"log_path": "\([^"]*\)\.log"/"log_path": "\1-1.log"/' \
    "$CLIENTS_TMP/pods/c-ex$BATS_TEST_NUMBER.json" >"$cj"
  cri_create_start "$POD" "$cj" "$pj"
  wait_for 30 cri_exec_ok "$CTR" true || fail "new container never ran: $(cri_ctr_state "$CTR")"
  assert_eq 1 "$(cri_inspect_field "$CTR" .status.metadata.attempt)" "attempt of the new container"
  assert_eq again "$(cri logs "$CTR" 2>&1)" "output of the new container"
  assert_eq "$(cri exec "$WEB" cat /proc/sys/kernel/random/boot_id)" \
    "$(cri exec "$CTR" cat /proc/sys/kernel/random/boot_id)" "new container on the pod's kernel"
  cri stop -t 0 "$CTR" >/dev/null && cri rm "$CTR" >/dev/null && cri rm "$c1" >/dev/null ||
    fail "could not remove the two containers"
}

# StopContainer with a 3 s grace period on a process that ignores SIGTERM
# returns after ~3 s (not the default 30 s): SIGTERM seen, then SIGKILL.
sc_stop_grace() {
  ensure_pod
  local pj t0 dt
  pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  cri_create_start "$POD" "$(cri_ctr_json "st$BATS_TEST_NUMBER" "$BUSYBOX" "$(jq -cn --arg s "$STOP_INNER" '["sh","-c",$s]')")" "$pj"
  local log; log=$CLIENTS_TMP/logs/$(shared_pod_name)/st$BATS_TEST_NUMBER.log
  wait_for "$TMO" grep -q ready "$log" || fail "container never said ready: $(cat "$log")"
  t0=$(date +%s%N)
  run cri stop -t 3 "$CTR"
  dt=$((($(date +%s%N) - t0) / 1000000))
  assert_status 0
  [ "$dt" -ge 2900 ] || fail "stop -t 3 returned after $dt ms, before the grace period"
  [ "$dt" -le 13000 ] || fail "stop -t 3 took $dt ms (grace period 3 s)"
  assert_eq CONTAINER_EXITED "$(cri_ctr_state "$CTR")" "state after stop"
  assert_eq 137 "$(cri_inspect_field "$CTR" .status.exitCode)" "exit code (SIGKILL)"
  grep -q got-term "$log" || fail "SIGTERM never reached the container: $(cat "$log")"
  log "stop -t 3 took $dt ms"
  cri rm "$CTR" >/dev/null
}

# stop (the process exits on SIGTERM) and rm: gone from crictl and from the
# runtime, no process left.
sc_stop_rm() {
  ensure_pod
  local pj
  pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  cri_create_start "$POD" "$(cri_ctr_json "rm$BATS_TEST_NUMBER" "$BUSYBOX" '["sh","-c","trap \"exit 0\" TERM; while :; do sleep 0.2; done"]')" "$pj"
  wait_for 30 cri_exec_ok "$CTR" true || fail "container never ran"
  run cri stop -t 20 "$CTR"
  assert_status 0
  assert_eq CONTAINER_EXITED "$(cri_ctr_state "$CTR")" "state after stop"
  assert_eq 0 "$(cri_inspect_field "$CTR" .status.exitCode)" "exit code (its TERM trap)"
  run cri rm "$CTR"
  assert_status 0
  assert_eq "" "$(cri ps -a -q --id "$CTR")" "crictl ps -a after rm"
  if rt_knows "$CTR"; then fail "$RT still knows $CTR after rm: $(rt_state "$CTR")"; return 1; fi
  wait_for 20 no_process_with "$CTR" || fail "processes left for $CTR: $(describe_pids $(pids_matching "$CTR"))"
  cri_ctr_is "$WEB" CONTAINER_RUNNING || fail "web stopped with the removed container"
}

# The pod's network namespace (its path), from inspectp.
pod_netns() { cri inspectp "$1" | jq -r '.info.runtimeSpec.linux.namespaces[] | select(.type == "network") | .path // empty'; }

# nothing_left POD NETNS: no process names the pod, no mount, no netns, no tap.
nothing_left() {
  local pod=$1 ns=$2
  wait_for 30 no_process_with "$pod" || fail "processes left for pod $pod: $(describe_pids $(pids_matching "$pod"))" || return 1
  local m; m=$(findmnt -rn -o TARGET | grep -F "$pod" || true)
  assert_eq "" "$m" "mounts naming the pod" || return 1
  if [ -n "$ns" ]; then
    [ ! -e "$ns" ] || ! findmnt -rn "$ns" >/dev/null || fail "the pod's netns $ns is still mounted" || return 1
  fi
  if rt_knows "$pod"; then fail "$RT still knows the sandbox: $(rt_state "$pod")"; return 1; fi
  [ ! -d "$(rt_root)/sbs/$pod" ] || fail "$(rt_root)/sbs/$pod is left" || return 1
  # the taps live in the pod's netns (gone, above); none may have reached the node's
  local taps; taps=$(in_netns ip -o link show | grep -c '_kata' || true)
  assert_eq 0 "$taps" "kata taps in the node's netns"
}

# stopp + rmp of the shared pod: NotReady and containers Exited after stopp;
# gone after rmp, with nothing left on the host.
sc_stopp_rmp() {
  ensure_pod
  local ns; ns=$(pod_netns "$POD")
  [ -n "$ns" ] || fail "no netns path in the pod's spec"
  run cri stopp "$POD"
  assert_status 0
  assert_eq SANDBOX_NOTREADY "$(cri_pod_state "$POD")" "pod state after stopp"
  assert_eq "CONTAINER_EXITED CONTAINER_EXITED" \
    "$(cri ps -a -o json --pod "$POD" | jq -r '[.containers[] | select(.metadata.name == "web" or .metadata.name == "cli") | .state] | join(" ")')" "web and cli after stopp"
  # StopPodSandbox reclaims the pod's processes: with kata the VM goes when
  # the pause container is stopped (containerd's shim deletes it at once,
  # cri-o only at rmp: the sandbox container's exit stops the VM, K1); the
  # pause container is still known, stopped, until rmp
  if [ "$RT" = kata ]; then
    wait_for 30 no_qemu_for "$POD" || fail "QEMU still runs after stopp: $(describe_pids $(pids_matching "$POD"))"
    if [ "$CRI_SERVER" = crio ]; then
      run rt_state "$POD"
      assert_status 0
      assert_eq stopped "$(jq -r .status <<<"$output")" "kata state of the sandbox container after stopp"
    fi
  fi
  run cri rmp "$POD"
  assert_status 0
  assert_eq "" "$(cri pods -q --id "$POD")" "crictl pods after rmp"
  assert_eq "" "$(cri ps -a -q --pod "$POD")" "containers after rmp"
  nothing_left "$POD" "$ns"
  rm -f "$(sf pod)"
}

no_qemu_for() { ! pids_matching "$1" | xargs -r -I{} cat /proc/{}/cmdline 2>/dev/null | tr '\0' ' ' | grep -q qemu; }

sandbox_state() { cri inspectp "$1" 2>/dev/null | jq -r '.status.state // "unknown"'; }
sandbox_not_ready() { [ "$(sandbox_state "$1")" = SANDBOX_NOTREADY ]; }

# kill -9 of what holds the sandbox (kata: QEMU; runc: the pause process),
# then rmp -f: nothing left.
# sc_kill9_rmp [qemu|monitor|shim]: with kata, which of the pod's processes dies
# (QEMU, the sandbox monitor, or the app container's shim); runc's pause process.
sc_kill9_rmp() {
  local what=${1:-qemu} pj pod ns victim pat
  pj=$(cri_pod_json "$(podname k9)")
  cri_runp "$pj"; pod=$POD
  cri_create_start "$pod" "$(cri_ctr_json k9c "$BUSYBOX" '["sleep","600"]')" "$pj"
  wait_for 30 cri_exec_ok "$CTR" true || fail "container never ran"
  ns=$(pod_netns "$pod")
  if [ "$RT" = kata ]; then
    case $what in
    qemu) pat='^[^ ]*qemu-system' ;;
    monitor) pat='^[^ ]*kata-runtime __monitor ' ;;
    shim) pat="^[^ ]*kata-runtime __shim .*--container $CTR" ;;
    esac
    victim=$(for p in $(pids_matching "$pod"); do
      tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "$pat" && echo "$p"; done | head -1)
    [ -n "$victim" ] || fail "no $what process for pod $pod: $(describe_pids $(pids_matching "$pod"))"
  else
    victim=$(cri inspectp "$pod" | jq -r '.info.pid // empty')
  fi
  [ -n "$victim" ] && [ "$victim" -gt 1 ] || fail "no process to kill for pod $pod"
  kill -9 "$victim"
  # What kubelet does: it sees the sandbox go NOTREADY (the server has handled the sandbox
  # task's exit: deleted it, the runc shim of containerd shutting down) and then stops and
  # removes it.  rmp -f while containerd 1.6 is still handling that exit can fail with
  # "failed to kill sandbox container: ttrpc: closed" (seen once in CI), which kubelet retries.
  # The app container's shim is not the sandbox: the sandbox stays ready then.
  if [ "$RT" = runc ] || [ "$what" != shim ]; then
    wait_for 60 sandbox_not_ready "$pod" || fail "the sandbox is still $(sandbox_state "$pod") 60 s after kill -9 of its $what"
  fi
  run cri rmp -f "$pod"
  assert_status 0
  assert_eq "" "$(cri pods -q --id "$pod")" "crictl pods after rmp -f"
  nothing_left "$pod" "$ns"
}

# attach (no tty): the output of a running container reaches the client.
sc_attach() {
  ensure_pod
  local pj
  pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  cri_create_start "$POD" "$(cri_ctr_json "at$BATS_TEST_NUMBER" "$BUSYBOX" '["sh","-c","i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.3; done"]' '{"stdin": true}')" "$pj"
  wait_for 30 cri_exec_ok "$CTR" true || fail "container never ran"
  # -i with a stdin that stays open (cri-o ends an attach without stdin at once)
  run --separate-stderr sh -c "sleep 8 | timeout 5 nsenter --net=/run/netns/$CLIENTS_NETNS $CRICTL \
    --runtime-endpoint unix://$CRI_SOCK --image-endpoint unix://$CRI_SOCK attach -i $CTR"
  local n; n=$(grep -c '^tick-[0-9]*$' <<<"$output" || true)
  [ "$n" -ge 3 ] || fail "attach: $n ticks in 5 s (status $status): $output $stderr"
  cri stop -t 0 "$CTR" >/dev/null && cri rm "$CTR" >/dev/null
}

# ------------------------------------------------ security, resources ---

# ref_check WHAT VALUE: runc's VALUE is recorded as the reference; kata's must
# equal it when the runc variant ran before it in this file.
ref_check() {
  local f=$CLIENTS_TMP/ref-$1
  if [ "$RT" = runc ]; then
    printf '%s\n' "$2" >"$f"
  elif [ -f "$f" ]; then
    assert_eq "$(cat "$f")" "$2" "$1: the same as with runc"
  fi
}

# one_shot NAME CMD-JSON [EXTRA-JSON]: a container of the shared pod that runs
# CMD and exits; its output in OUT, exit code in CODE, reason in REASON;
# then removed.
one_shot() {
  local pj extra=${3:-'{}'}
  pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  cri_create_start "$POD" "$(cri_ctr_json "$1$BATS_TEST_NUMBER" "$BUSYBOX" "$2" "$extra")" "$pj" || return 1
  wait_for "$TMO" cri_ctr_is "$CTR" CONTAINER_EXITED || fail "container $1 never exited: $(cri_ctr_state "$CTR")" || return 1
  CODE=$(cri_inspect_field "$CTR" .status.exitCode)
  REASON=$(cri_inspect_field "$CTR" .status.reason)
  OUT=$(cri logs "$CTR" 2>&1)
  cri rm "$CTR" >/dev/null
}

# capabilities add NET_ADMIN, SYS_TIME, drop CHOWN: the effective set has the
# added ones and not CHOWN (chown fails); the whole set is runc's.
sc_caps() {
  ensure_pod
  one_shot caps '["sh","-c","grep CapEff /proc/self/status | cut -f2; grep CapBnd /proc/self/status | cut -f2; touch /tmp/f; chown 1 /tmp/f 2>&1 | grep -o \"Operation not permitted\""]' \
    '{ "linux": { "security_context": { "capabilities": { "add_capabilities": ["NET_ADMIN", "SYS_TIME"], "drop_capabilities": ["CHOWN"] } } } }'
  assert_eq 0 "$CODE" "exit code ($OUT)"
  local eff; eff=$(sed -n 1p <<<"$OUT")
  assert_match '^[0-9a-f]{16}$' "$eff" "CapEff"
  (( (0x$eff >> 12) & 1 )) || fail "CAP_NET_ADMIN (12) missing from CapEff $eff"
  (( (0x$eff >> 25) & 1 )) || fail "CAP_SYS_TIME (25) missing from CapEff $eff"
  (( !((0x$eff >> 0) & 1) )) || fail "CAP_CHOWN (0) still in CapEff $eff"
  assert_eq "Operation not permitted" "$(sed -n 3p <<<"$OUT")" "chown without CAP_CHOWN"
  ref_check caps "$OUT"
}

# seccomp: RuntimeDefault filters (mode 2); a Localhost profile that denies
# mkdir/mkdirat makes mkdir fail with EPERM, and nothing else.
sc_seccomp() {
  ensure_pod
  one_shot secd '["sh","-c","grep ^Seccomp: /proc/self/status | cut -f2; mkdir /tmp/d && echo mkdir-ok"]' \
    '{ "linux": { "security_context": { "seccomp": { "profile_type": 0 } } } }'
  assert_eq 0 "$CODE" "RuntimeDefault: exit code ($OUT)"
  assert_eq "$(printf '2\nmkdir-ok')" "$OUT" "RuntimeDefault: seccomp mode, mkdir"
  local prof=$CLIENTS_TMP/seccomp-nomkdir.json
  cat >"$prof" <<'JSON'
{ "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [ { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO" } ] }
JSON
  one_shot secl '["sh","-c","grep ^Seccomp: /proc/self/status | cut -f2; mkdir /tmp/d 2>&1 | grep -o \"Operation not permitted\"; touch /tmp/f && echo touch-ok"]' \
    "$(jq -cn --arg p "$prof" '{ linux: { security_context: { seccomp: { profile_type: 2, localhost_ref: $p } } } }')"
  assert_eq 0 "$CODE" "Localhost: exit code ($OUT)"
  assert_eq "$(printf '2\nOperation not permitted\ntouch-ok')" "$OUT" "Localhost profile: mkdir denied, touch allowed"
}

# runAsUser 1000, runAsGroup 2000, supplementalGroups 3000 4000.
sc_groups() {
  ensure_pod
  one_shot grp '["sh","-c","id -u; id -g; id -G; grep ^Groups: /proc/self/status | cut -f2"]' \
    '{ "linux": { "security_context": { "run_as_user": { "value": 1000 }, "run_as_group": { "value": 2000 }, "supplemental_groups": [3000, 4000] } } }'
  assert_eq 0 "$CODE" "exit code ($OUT)"
  assert_eq 1000 "$(sed -n 1p <<<"$OUT")" "uid"
  assert_eq 2000 "$(sed -n 2p <<<"$OUT")" "gid"
  assert_match '(^| )3000( |$)' "$(sed -n 3p <<<"$OUT")" "id -G has 3000"
  assert_match '(^| )4000( |$)' "$(sed -n 3p <<<"$OUT")" "id -G has 4000"
  ref_check groups "$OUT"
}

# OOM: a container with a 64 MiB limit that builds a 256 MiB string is killed:
# 137, reason OOMKilled; the pod and its other containers live on.
sc_oom() {
  ensure_pod
  one_shot oom '["sh","-c","echo start; exec awk \"BEGIN { s = \\\"x\\\"; for (i = 0; i < 28; i++) s = s s; print length(s) }\"; echo survived"]' \
    '{ "linux": { "resources": { "memory_limit_in_bytes": 67108864 } } }'
  assert_eq start "$OUT" "output (killed in awk)"
  assert_eq 137 "$CODE" "exit code"
  assert_eq OOMKilled "$REASON" "reason"
  assert_eq SANDBOX_READY "$(cri_pod_state "$POD")" "pod state after the OOM kill"
  cri_ctr_is "$WEB" CONTAINER_RUNNING || fail "web stopped when another container was OOM-killed"
  web_serves "$POD" || fail "web no longer serves after the OOM kill"
}

# cgroup limits as the container sees them (v1 or v2): memory bytes, CPU quota.
CG_LIMITS='m=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes); q=$(cut -d" " -f1 /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us); echo "mem=$m quota=$q"'
guest_mem_kb() { cri exec "$1" sh -c "grep MemTotal /proc/meminfo" | awk '{print $2}'; }

# update: memory 128 MiB -> 1 GiB, CPU quota 50000 -> 100000 (period 100000):
# the container's cgroup shows the new limits; with kata the VM grows (memory
# hot-plug) to hold the new limit, which is more than the pod's VM has.
sc_update() {
  ensure_pod
  local pj mem0 mem1
  pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  cri_create_start "$POD" "$(cri_ctr_json "up$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' \
    '{ "linux": { "resources": { "memory_limit_in_bytes": 134217728, "cpu_quota": 50000, "cpu_period": 100000 } } }')" "$pj"
  wait_for 30 cri_exec_ok "$CTR" true || fail "container never ran"
  assert_eq "mem=134217728 quota=50000" "$(cri exec "$CTR" sh -c "$CG_LIMITS")" "limits before update"
  mem0=$(guest_mem_kb "$CTR")
  run cri update --memory 1073741824 --cpu-quota 100000 --cpu-period 100000 "$CTR"
  assert_status 0
  assert_eq "mem=1073741824 quota=100000" "$(cri exec "$CTR" sh -c "$CG_LIMITS")" "limits after update"
  mem1=$(guest_mem_kb "$CTR")
  if [ "$RT" = kata ]; then
    [ "$mem0" -lt $((1000 * 1024)) ] || fail "kata: the VM had $mem0 kB before the update: the test needs less"
    [ "$mem1" -ge $((1000 * 1024)) ] || fail "kata: the VM has $mem1 kB after the update to 1 GiB (before: $mem0 kB)"
    [ "$mem1" -gt "$mem0" ] || fail "kata: the VM did not grow ($mem0 -> $mem1 kB)"
  else
    assert_eq "$mem0" "$mem1" "runc: the host's memory"
  fi
  log "MemTotal $mem0 -> $mem1 kB"
  cri stop -t 0 "$CTR" >/dev/null && cri rm "$CTR" >/dev/null
}

# emptyDir as kubelet makes it: a directory (on disk) and a tmpfs (medium:
# Memory, sizeLimit 16 MiB) under .../kubernetes.io~empty-dir/, bound into
# two containers of the pod: what one writes the other reads; what is written
# on disk is in the host directory.
sc_emptydir() {
  ensure_pod
  local pj base a b
  pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  base=$CLIENTS_TMP/kubelet/pods/uid-$RT/volumes/kubernetes.io~empty-dir
  mkdir -p "$base/disk" "$base/mem"
  mountpoint -q "$base/mem" || mount -t tmpfs -o size=16m tmpfs "$base/mem"
  local m; m=$(jq -cn --arg d "$base/disk" --arg t "$base/mem" '{ mounts: [{ container_path: "/ed-disk", host_path: $d }, { container_path: "/ed-mem", host_path: $t }] }')
  cri_create_start "$POD" "$(cri_ctr_json "eda$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' "$m")" "$pj"; a=$CTR
  cri_create_start "$POD" "$(cri_ctr_json "edb$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' "$m")" "$pj"; b=$CTR
  wait_for 30 cri_exec_ok "$b" true || fail "container never ran"
  run cri exec "$a" sh -c 'echo disk-data >/ed-disk/f && echo mem-data >/ed-mem/f'
  assert_status 0
  run cri exec "$b" sh -c 'cat /ed-disk/f /ed-mem/f; awk "\$2 == \"/ed-mem\" {print \$3}" /proc/mounts'
  assert_status 0
  assert_eq "$(printf 'disk-data\nmem-data\ntmpfs')" "$output" "the other container reads both; /ed-mem is a tmpfs"
  # the disk emptyDir is the host directory with both handlers (kata: shared
  # into the VM, disable_guest_empty_dir = true, the default; docs/storage.md)
  assert_eq disk-data "$(cat "$base/disk/f" 2>&1)" "the file in the host directory"
  run cri exec "$b" sh -c 'df -k /ed-mem | awk "NR == 2 {print \$2}"'
  assert_status 0
  log "emptyDir tmpfs: $output kB"
  ref_check emptydir-size "$output"
  cri stop -t 0 "$a" >/dev/null; cri stop -t 0 "$b" >/dev/null
  cri rm "$a" >/dev/null; cri rm "$b" >/dev/null
  umount "$base/mem" 2>/dev/null || true
}

# emptyDir on disk with fsGroup, as kubelet makes it: a directory under the
# pod's volumes dir, mode 0777, then (fsGroup G) group G, group rw and setgid:
# 2777.  Two containers of a new pod run as uids 1000 and 1001 with
# supplementalGroups [G] (kubelet adds the fsGroup).  Both handlers: the
# containers see the host's mode and group; a file and a directory made in the
# container are the container's uid and group G on the host (setgid
# inheritance), the subdirectory setgid too; the other container reads them;
# files of FSG_MB MiB written on either side have the same sha256 on both
# (16: each MiB is written, then hashed three times, by a TCG guest).
FSG=4321
FSG_MB=16
# fsg_extra DIR UID: the container's emptyDir mount and security context
fsg_extra() {
  jq -cn --arg d "$1" --argjson u "$2" --argjson g "$FSG" '{ mounts: [{ container_path: "/cache", host_path: $d }],
    linux: { security_context: { run_as_user: { value: $u }, supplemental_groups: [$g] } } }'
}
sc_emptydir_fsgroup() {
  local pj a b ed sum hsum
  ed=$CLIENTS_TMP/kubelet/pods/uid-fsg-$RT-$BATS_TEST_NUMBER/volumes/kubernetes.io~empty-dir/cache
  mkdir -p "$ed"
  chmod 0777 "$ed"
  chgrp "$FSG" "$ed" && chmod 2777 "$ed"
  assert_eq "2777 $FSG" "$(stat -c '%a %g' "$ed")" "the host directory as kubelet leaves it"
  pj=$(cri_pod_json "$(podname fsg)")
  cri_runp "$pj" || return 1
  cri_create_start "$POD" "$(cri_ctr_json "fga$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' "$(fsg_extra "$ed" 1000)")" "$pj" || return 1; a=$CTR
  cri_create_start "$POD" "$(cri_ctr_json "fgb$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' "$(fsg_extra "$ed" 1001)")" "$pj" || return 1; b=$CTR
  wait_for 30 cri_exec_ok "$b" true || fail "container never ran"
  run cri exec "$a" sh -c 'id -u; id -G; stat -c "%a %g" /cache'
  assert_status 0
  assert_eq 1000 "$(sed -n 1p <<<"$output")" "uid in the container"
  assert_match "(^| )$FSG( |\$)" "$(sed -n 2p <<<"$output")" "the fsGroup among the container's groups"
  assert_eq "2777 $FSG" "$(sed -n 3p <<<"$output")" "the emptyDir's mode and group in the container"
  run cri exec "$a" sh -c 'echo from-a >/cache/small && mkdir /cache/sub && echo in-sub >/cache/sub/f &&
    dd if=/dev/urandom of=/cache/big bs=1M count='"$FSG_MB"' 2>/dev/null && sync && sha256sum /cache/big | cut -d" " -f1'
  assert_status 0
  sum=$output
  assert_match '^[0-9a-f]{64}$' "$sum" "sha256 of the container's $FSG_MB MiB file"
  assert_eq "1000 $FSG" "$(stat -c '%u %g' "$ed/small" 2>&1)" "owner of the container's file on the host"
  assert_eq "1000 $FSG 2755" "$(stat -c '%u %g %a' "$ed/sub" 2>&1)" "the container's directory on the host (setgid inherited)"
  assert_eq "1000 $FSG $((FSG_MB << 20))" "$(stat -c '%u %g %s' "$ed/big" 2>&1)" "the container's $FSG_MB MiB file on the host"
  hsum=$(sha256sum "$ed/big" | cut -d' ' -f1)
  assert_eq "$sum" "$hsum" "sha256 of the $FSG_MB MiB file: the container's, the host's"
  run cri exec "$b" sh -c 'cat /cache/small /cache/sub/f; sha256sum /cache/big | cut -d" " -f1; echo from-b >/cache/b && stat -c "%u %g" /cache/b'
  assert_status 0
  assert_eq "$(printf 'from-a\nin-sub\n%s\n1001 %s' "$sum" "$FSG")" "$output" "the second container reads them; its own file is 1001:$FSG"
  assert_eq "1001 $FSG" "$(stat -c '%u %g' "$ed/b" 2>&1)" "owner of the second container's file on the host"
  # the other way: FSG_MB MiB written on the host, read in both containers
  head -c $((FSG_MB << 20)) /dev/urandom >"$ed/host-big"
  hsum=$(sha256sum "$ed/host-big" | cut -d' ' -f1)
  run cri exec "$a" sh -c 'sha256sum /cache/host-big | cut -d" " -f1'
  assert_status 0
  assert_eq "$hsum" "$output" "sha256 of the host's $FSG_MB MiB file in the first container"
  run cri exec "$b" sh -c 'sha256sum /cache/host-big | cut -d" " -f1'
  assert_status 0
  assert_eq "$hsum" "$output" "sha256 of the host's $FSG_MB MiB file in the second container"
  ref_check emptydir-fsgroup "$(cd "$ed" && stat -c '%n %u %g %a %s' small sub sub/f b big | sort)"
  rm -f "$ed/big" "$ed/host-big"
}

# hostPath with mount propagation (CRI: propagation 1 = HostToContainer,
# rslave; 2 = Bidirectional, rshared; 0 = the default, rprivate).  The host
# directory H is made a shared mount, as kubelet's directories on a shared /
# are (both servers refuse rslave/rshared on a private one).  A new pod, one
# privileged container (Bidirectional needs it) with H at /h2c (1), /priv (0)
# and /bidir (2), a second one with H at /bidir (2).  After it started, the host mounts a tmpfs on H/late and
# binds a file tree on H/tree: /h2c shows both, /priv neither (with runc and
# kata alike), and /h2c loses the tmpfs when the host unmounts it.  The
# container mounts a tmpfs on /bidir/inner, which is rshared in the container
# (kata: in the guest): runc's reaches the host's H/inner and, through it,
# the second container; kata's cannot leave the VM, H/inner stays an empty
# directory of H, and the second container does not see it either
# (docs/kubernetes.md, "Mount propagation").  rmp -f leaves nothing mounted but H and what the
# test mounted on it.
prop_host_mounts() { awk -v h="$1" '$5 == h || index($5, h "/") == 1 { print $5 }' /proc/self/mountinfo | sort | tr '\n' ' '; }
sc_propagation() {
  local pj h tree pod ns c c2 m
  h=$CLIENTS_TMP/prop-$RT-$BATS_TEST_NUMBER
  tree=$CLIENTS_TMP/prop-tree-$RT-$BATS_TEST_NUMBER
  mkdir -p "$h/late" "$h/tree" "$h/inner" "$tree/x"
  echo tree-file >"$tree/x/f"
  mount --bind "$h" "$h" && mount --make-rshared "$h" || fail "cannot make $h a shared mount"
  pj=$(cri_pod_json "$(podname prop)")
  jq '.linux.security_context.privileged = true' "$pj" >"$pj.new" && mv "$pj.new" "$pj"
  cri_runp "$pj" || return 1
  pod=$POD
  ns=$(pod_netns "$pod")
  m=$(jq -cn --arg h "$h" '{ mounts: [{ container_path: "/h2c", host_path: $h, propagation: 1 },
    { container_path: "/priv", host_path: $h }, { container_path: "/bidir", host_path: $h, propagation: 2 }],
    linux: { security_context: { privileged: true } } }')
  cri_create_start "$pod" "$(cri_ctr_json "prop$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' "$m")" "$pj" || return 1
  c=$CTR
  # a second container of the pod with the path at /bidir (Bidirectional)
  cri_create_start "$pod" "$(cri_ctr_json "prob$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' \
    "$(jq -cn --arg h "$h" '{ mounts: [{ container_path: "/bidir", host_path: $h, propagation: 2 }],
      linux: { security_context: { privileged: true } } }')")" "$pj" || return 1
  c2=$CTR
  wait_for 30 cri_exec_ok "$c" true || fail "container never ran: $(cri_ctr_state "$c"); exec: $(cri exec "$c" true 2>&1)"
  wait_for 30 cri_exec_ok "$c2" true || fail "second container never ran: $(cri_ctr_state "$c2")"
  # after start, on the host
  mount -t tmpfs -o size=4m tmpfs "$h/late" || fail "host tmpfs on $h/late"
  echo late-tmpfs >"$h/late/f"
  mount --rbind "$tree" "$h/tree" || fail "host bind of $tree on $h/tree"
  run cri exec "$c" sh -c 'cat /h2c/late/f /h2c/tree/x/f; echo "priv: late [$(ls -A /priv/late)] tree [$(ls -A /priv/tree)]"'
  assert_status 0
  assert_eq "$(printf 'late-tmpfs\ntree-file\npriv: late [] tree []')" "$output" \
    "HostToContainer: the host's new tmpfs and bind in /h2c; nothing new in the private /priv"
  umount "$h/late" || fail "umount $h/late on the host"
  run cri exec "$c" ls -A /h2c/late
  assert_status 0
  assert_eq "" "$output" "/h2c/late after the host unmounted its tmpfs"
  # Bidirectional: a mount made in the container
  run cri exec "$c" sh -c 'mount -t tmpfs -o size=1m tmpfs /bidir/inner && echo from-ctr >/bidir/inner/f &&
    cat /bidir/inner/f && grep " /bidir " /proc/self/mountinfo | grep -o "shared:[0-9]*" | sed "s/:.*//"'
  assert_status 0
  assert_eq "$(printf 'from-ctr\nshared')" "$output" "Bidirectional: a tmpfs mounted in the container; /bidir is rshared there"
  if [ "$RT" = runc ]; then
    mountpoint -q "$h/inner" || fail "runc: the container's tmpfs did not reach the host's $h/inner"
    assert_eq from-ctr "$(cat "$h/inner/f" 2>&1)" "runc: the container's file on the host"
    run cri exec "$c" cat /h2c/inner/f
    assert_eq from-ctr "$output" "runc: the container's mount, back through the host, in /h2c"
    run cri exec "$c2" cat /bidir/inner/f
    assert_eq from-ctr "$output" "runc: the container's mount, through the host, in the pod's other container"
    umount "$h/inner" || fail "umount of the propagated $h/inner"
  else
    ! mountpoint -q "$h/inner" || fail "kata: a mount made in the VM reached the host's $h/inner: update docs/kubernetes.md"
    assert_eq "" "$(ls -A "$h/inner")" "kata: the host's $h/inner stays an empty directory"
    run cri exec "$c2" ls -A /bidir/inner
    assert_status 0
    assert_eq "" "$output" "kata: the pod's other container does not see the mount (docs/kubernetes.md)"
  fi
  assert_eq "$h $h/tree " "$(prop_host_mounts "$h")" "mounts under $h on the host with the pod running"
  run cri rmp -f "$pod"
  assert_status 0
  nothing_left "$pod" "$ns"
  assert_eq "$h $h/tree " "$(prop_host_mounts "$h")" "mounts under $h on the host after rmp -f"
  umount -R "$h" || fail "umount -R $h"
  assert_eq "" "$(prop_host_mounts "$h")" "mounts under $h after the test's own unmount"
}

# A block volume (volumeDevices): a loop device given as linux.devices; the
# container reads what the host wrote and the host reads what it wrote.
sc_block() {
  ensure_pod
  local pj img dev
  pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  img=$CLIENTS_TMP/blk-$RT.img
  truncate -s 16M "$img"
  dev=$(losetup -f --show "$img") || fail "losetup failed"
  echo "$dev" >>"$CLIENTS_TMP/loops"
  printf 'blk-hello' | dd of="$dev" conv=notrunc,fsync status=none
  cri_create_start "$POD" "$(cri_ctr_json "blk$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' \
    "$(jq -cn --arg d "$dev" '{ devices: [{ container_path: "/dev/xvdk", host_path: $d, permissions: "rwm" }] }')")" "$pj"
  wait_for 30 cri_exec_ok "$CTR" true || fail "container never ran"
  run cri exec "$CTR" sh -c '[ -b /dev/xvdk ] && echo is-block; head -c 9 /dev/xvdk; echo; printf blk-back | dd of=/dev/xvdk bs=512 seek=1 conv=notrunc,fsync 2>/dev/null && echo written'
  assert_status 0
  assert_eq "$(printf 'is-block\nblk-hello\nwritten')" "$output" "the device in the container"
  cri stop -t 0 "$CTR" >/dev/null && cri rm "$CTR" >/dev/null
  assert_eq blk-back "$(dd if="$dev" bs=512 skip=1 count=1 iflag=direct status=none | head -c 8)" "what the container wrote, on the host"
  losetup -d "$dev"
}

# port-forward POD LOCAL:8080, then GET http://127.0.0.1:LOCAL/ in the node's
# (the server's) netns.  runc: web's page.  kata: the server dials
# localhost:8080 in the pod's netns, where nothing listens (the pod's
# processes are in the VM): the connection is refused and curl gets an
# empty reply, the documented limitation (docs/kubernetes.md).
sc_port_forward() {
  ensure_pod
  local port=$((18000 + BATS_TEST_NUMBER)) out=$BATS_TEST_TMPDIR/pf.out pf
  nsenter --net="/run/netns/$CLIENTS_NETNS" "$CRICTL" --runtime-endpoint "unix://$CRI_SOCK" \
    port-forward "$POD" "$port:8080" >"$out" 2>&1 3>&- </dev/null &
  pf=$!
  wait_for 30 grep -q "Forwarding from 127.0.0.1:$port" "$out" || { kill "$pf"; fail "port-forward never listened: $(cat "$out")"; }
  run in_netns curl -sS -m 20 "http://127.0.0.1:$port/"
  kill "$pf" 2>/dev/null || true  # crictl may have exited already (kata: the stream failed)
  wait "$pf" 2>/dev/null || true
  log "port-forward ($RT): curl exit $status: $output"
  if [ "$RT" = runc ]; then
    assert_status 0
    assert_eq "hello-$(shared_pod_name)" "$output" "GET through port-forward"
  else
    [ "$status" -ne 0 ] || fail "kata: port-forward reached the pod ($output): update docs/kubernetes.md"
    assert_match 'Empty reply from server|Connection reset|Recv failure' "$output" "kata: the documented failure"
  fi
}

# Pod memory: a container whose limit is more than the VM has (its MemTotal
# + 256 MiB) joins, leaves, and another with the same limit joins.  Both see
# their limit.  kata: the first grows the VM (memory hot-plug); the second
# reuses the memory the first freed (the guest cannot give a DIMM back): the
# VM does not grow again.
sc_mem_reuse() {
  ensure_pod
  local pj m0 m1 m2 bytes lim
  pj=$CLIENTS_TMP/pods/$(shared_pod_name).json
  m0=$(guest_mem_kb "$CLI")
  bytes=$(( (m0 / 1024 + 256 + 127) / 128 * 128 * 1048576 ))
  lim=$(jq -cn --argjson b "$bytes" '{ linux: { resources: { memory_limit_in_bytes: $b } } }')
  cri_create_start "$POD" "$(cri_ctr_json "mra$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' "$lim")" "$pj"
  wait_for 30 cri_exec_ok "$CTR" true || fail "first container never ran"
  assert_match "^mem=$bytes " "$(cri exec "$CTR" sh -c "$CG_LIMITS")" "first container's limit"
  m1=$(guest_mem_kb "$CTR")
  cri stop -t 0 "$CTR" >/dev/null && cri rm "$CTR" >/dev/null || fail "could not remove the first container"
  cri_create_start "$POD" "$(cri_ctr_json "mrb$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' "$lim")" "$pj"
  wait_for 30 cri_exec_ok "$CTR" true || fail "second container never ran"
  assert_match "^mem=$bytes " "$(cri exec "$CTR" sh -c "$CG_LIMITS")" "second container's limit"
  m2=$(guest_mem_kb "$CTR")
  log "limit $bytes; MemTotal: $m0 kB, with the first container $m1 kB, with the second $m2 kB"
  if [ "$RT" = kata ]; then
    [ "$m1" -ge $((m0 + 250 * 1024)) ] || fail "kata: the VM did not grow for the first container ($m0 -> $m1 kB)"
    assert_eq "$m1" "$m2" "kata: MemTotal with the second container (the first one's memory reused)"
  else
    assert_eq "$m0 $m0" "$m1 $m2" "runc: the host's memory"
  fi
  cri stop -t 0 "$CTR" >/dev/null && cri rm "$CTR" >/dev/null
}

# vCPUs: a container with a CPU limit of 2 CPUs (quota 200000, period 100000)
# joins a new pod.  Its cgroup shows the quota with both handlers; runc's
# container sees the host's CPUs, kata's the VM's, which grew by vCPU hot-plug
# (docs/kubernetes.md "vCPUs") to default_vcpus + 2, capped by -smp's maxcpus
# (default_maxvcpus, 0: the host's CPUs).
sc_vcpu() {
  local pj n env def max want
  pj=$(cri_pod_json "$(podname cpu)")
  cri_runp "$pj" || return 1
  cri_create_start "$POD" "$(cri_ctr_json "cpu$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]' \
    '{ "linux": { "resources": { "cpu_quota": 200000, "cpu_period": 100000 } } }')" "$pj"
  wait_for 30 cri_exec_ok "$CTR" true || fail "container never ran"
  assert_match "quota=200000$" "$(cri exec "$CTR" sh -c "$CG_LIMITS")" "the container's CPU quota"
  n=$(cri exec "$CTR" nproc)
  if [ "$RT" = kata ]; then
    env=$(KATA_CONF_FILE=${KATA_CONF_FILE:-} "$KATA_RUNTIME" kata-env --json)
    def=$(jq -r '.Hypervisor.DefaultVCPUs' <<<"$env")
    max=$(jq -r '.Hypervisor.DefaultMaxVCPUs' <<<"$env")
    [ "$(jq -r .Hypervisor.MachineType <<<"$env")" = q35 ] || skip "vCPU hot-plug needs q35"
    [ "$max" -gt 0 ] || max=$(nproc)
    want=$((def + 2))
    [ "$want" -le "$max" ] || want=$max
    assert_eq "$want" "$n" "kata: the VM's vCPUs (default_vcpus $def + 2, at most $max)"
    assert_eq "0-$((want - 1))" "$(cri exec "$CTR" cat /sys/devices/system/cpu/online)" "kata: online CPUs"
  else
    assert_eq "$(nproc)" "$n" "runc: the host's CPUs"
  fi
  log "nproc in the container: $n"
}

# Pod sysctls (PodSandboxConfig.linux.sysctls): Kubernetes' safe ones and two
# namespaced unsafe ones (the kubelet gates those; the CRI servers pass them
# on).  Each container of the pod sees the values, the same with both handlers.
SYSCTLS='"sysctls": { "kernel.shm_rmid_forced": "1", "net.ipv4.ip_unprivileged_port_start": "1000", "net.ipv4.ping_group_range": "0 2000", "kernel.msgmax": "12345", "net.core.somaxconn": "999" }'
SYSCTL_READ='for k in kernel/shm_rmid_forced net/ipv4/ip_unprivileged_port_start net/ipv4/ping_group_range kernel/msgmax net/core/somaxconn; do printf "%s=%s\n" "$k" "$(tr "\t" " " </proc/sys/$k)"; done'
sc_sysctls() {
  local pj a b want
  pj=$(cri_pod_json "$(podname sysctl)" "$SYSCTLS")
  cri_runp "$pj" || return 1
  cri_create_start "$POD" "$(cri_ctr_json "sya$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]')" "$pj"; a=$CTR
  cri_create_start "$POD" "$(cri_ctr_json "syb$BATS_TEST_NUMBER" "$BUSYBOX" '["sleep","600"]')" "$pj"; b=$CTR
  wait_for 30 cri_exec_ok "$b" true || fail "container never ran"
  want=$(printf '%s\n' kernel/shm_rmid_forced=1 net/ipv4/ip_unprivileged_port_start=1000 \
    "net/ipv4/ping_group_range=0 2000" kernel/msgmax=12345 net/core/somaxconn=999)
  run cri exec "$a" sh -c "$SYSCTL_READ"
  assert_status 0
  assert_eq "$want" "$output" "the pod's sysctls in the first container"
  run cri exec "$b" sh -c "$SYSCTL_READ"
  assert_status 0
  assert_eq "$want" "$output" "the pod's sysctls in the second container"
  ref_check sysctls "$output"
}
