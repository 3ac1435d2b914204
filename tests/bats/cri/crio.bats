#!/usr/bin/env bats
# cri-o (a build of v1.25.4; not packaged in Debian 12) driven by crictl,
# with two runtime handlers of runtime_type "oci" run through conmon: `runc`
# (the reference) and `kata` (kata-runtime).  cri-o runs with a crio.conf of
# this file's own (root, runroot, listen socket and every *_dir / *_file path
# under a temporary directory, storage driver vfs, cgroupfs with
# conmon_cgroup "pod", drop_infra_ctr = false so that the pause container is
# started: it is the sandbox of a VM runtime) in a network namespace of its
# own, with the same CNI bridge as containerd.bats.  Images go into cri-o's
# storage with podman (same root, runroot and driver).
#
# The `runc` handler is runc behind tests/bats/cri/runc-oom-clamp: cri-o
# gives the infra container oom_score_adj -998, which needs CAP_SYS_RESOURCE,
# which this host (a container) does not give; the wrapper keeps the
# caller's value instead, as containerd's restrict_oom_score_adj does.
#
# Skipped, with the reason, when there is no crio (PATH, then
# $KATA_SHARED_TOOLS) or no pinns.

bats_require_minimum_version 1.5.0
load lib
load scenarios

setup_file() {
  CRICTL=$(cri_find_tool crictl)
  CRIO=$(cri_find_tool crio)
  PINNS=$(cri_find_tool pinns)
  CRIO_MISSING=
  if [ -z "$CRICTL" ]; then CRIO_MISSING=$CRICTL_MISSING
  elif [ -z "$CRIO" ]; then CRIO_MISSING="crio not found: not on PATH and no $SHARED_TOOLS/crio (cri-o is not packaged in Debian 12; build cri-o v1.25.4)"
  elif [ -z "$PINNS" ]; then CRIO_MISSING="pinns not found: not on PATH and no $SHARED_TOOLS/pinns (cri-o's namespace pinning helper)"
  fi
  export CRICTL CRIO PINNS CRIO_MISSING
  [ -z "$CRIO_MISSING" ] || return 0
  cri_require_packages
  clients_tmp_init cri-crio
  clients_build_image
  cri_build_pause_image
  clients_netns_add kc-cri-o
  local d=$CLIENTS_TMP
  export CRI_SOCK=$d/crio.sock CRI_CGROUP=kc-cri-o-$$ CRI_SERVER=crio
  export CRI_RT_ROOT_runc=$d/rt-runc CRI_RT_ROOT_kata=$d/rt-kata
  # the runc handler is runc behind runc-oom-clamp (see that script: the
  # infra container's oom_score_adj -998 needs CAP_SYS_RESOURCE)
  export KATA_CRI_RUNC=$RUNC_RUNTIME
  clients_add_cgroup "$CRI_CGROUP"
  clients_add_root "$CRI_RT_ROOT_runc"
  clients_add_root "$CRI_RT_ROOT_kata"
  cri_cni_conf "$d/cni" "kcco$$" "$CRI_SUBNET_PREFIX"
  mkdir -p "$d/rt-runc" "$d/rt-kata" "$d/conf.d" "$d/hooks" "$d/ns" "$d/exits" "$d/attach" "$d/podlogs" "$d/lib"
  printf '{"default": [{"type": "insecureAcceptAnything"}]}\n' >"$d/policy.json"
  cat >"$d/crio.conf" <<EOF
[crio]
root = "$d/storage"
runroot = "$d/run"
storage_driver = "vfs"
storage_option = []
log_dir = "$d/podlogs"
version_file = "$d/lib/version"
version_file_persist = "$d/lib/version-persist"
clean_shutdown_file = "$d/lib/clean.shutdown"
[crio.api]
listen = "$CRI_SOCK"
stream_address = "127.0.0.1"
stream_port = "0"
[crio.runtime]
default_runtime = "runc"
conmon = "/usr/bin/conmon"
conmon_cgroup = "pod"
cgroup_manager = "cgroupfs"
default_ulimits = ["nofile=20000:20000"]
drop_infra_ctr = false
pinns_path = "$PINNS"
namespaces_dir = "$d/ns"
container_exits_dir = "$d/exits"
container_attach_socket_dir = "$d/attach"
hooks_dir = ["$d/hooks"]
decryption_keys_path = "$d/keys"
log_level = "info"
# conmon (and so the runtimes) gets only this environment
conmon_env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "KATA_CRI_RUNC=$RUNC_RUNTIME"${KATA_CONF_FILE:+, \"KATA_CONF_FILE=$KATA_CONF_FILE\"}]
[crio.runtime.runtimes.runc]
runtime_path = "$CRI_LIB_DIR/runc-oom-clamp"
runtime_type = "oci"
runtime_root = "$d/rt-runc"
[crio.runtime.runtimes.kata]
runtime_path = "$KATA_RUNTIME"
runtime_type = "oci"
runtime_root = "$d/rt-kata"
[crio.image]
pause_image = "$PAUSE_IMAGE"
pause_command = "/pause"
signature_policy = "$d/policy.json"
[crio.network]
network_dir = "$d/cni/net.d"
plugin_dirs = ["/usr/lib/cni"]
[crio.metrics]
enable_metrics = false
EOF
  local img
  # podman's own state (tmp_dir, locks) under $d as well
  printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nlock_type = "file"\ntmp_dir = "%s"\n' \
    "$d/podman-tmp" >"$d/containers.conf"
  for img in "$CLIENTS_CACHE/busybox.tar" "$CLIENTS_CACHE/pause.tar"; do
    CONTAINERS_CONF=$d/containers.conf podman --root "$d/storage" --runroot "$d/run" --storage-driver vfs \
      load -q -i "$img" >/dev/null ||
      { echo "podman load $img into cri-o's storage failed" >&2; return 1; }
  done
  # nsenter execs crio: the pid file holds crio's own pid
  nsenter --net="/run/netns/$CLIENTS_NETNS" "$CRIO" --config "$d/crio.conf" --config-dir "$d/conf.d" \
    >"$d/crio.log" 2>&1 3>&- </dev/null &
  echo $! >"$d/crio.pid"
  if ! wait_for 60 cri version; then
    tail -30 "$d/crio.log" >&2
    return 1
  fi
}

teardown_file() {
  [ -n "${CLIENTS_TMP:-}" ] || return 0
  CRI_CALL_TIMEOUT=120 cri_rm_test_pods all
  cri_detach_loops
  kill_pidfile "$CLIENTS_TMP/crio.pid" 30
  cri_sweep "$CLIENTS_TMP"
}

setup() {
  [ -z "$CRIO_MISSING" ] || skip "$CRIO_MISSING"
  mark_daemon_log "$CLIENTS_TMP/crio.log"
}

teardown() {
  [ -z "$CRIO_MISSING" ] || return 0
  show_daemon_log "$CLIENTS_TMP/crio.log"
  cri_rm_test_pods
}

@test "cri-o/runc: runp (CNI network, Ready, known to runc)" { scenario runc sc_runp; }
@test "cri-o/kata: runp (CNI network, Ready, known to kata-runtime)" { scenario kata sc_runp; }
@test "cri-o/runc: create + start 2 containers, ps, one kernel" { scenario runc sc_create_start; }
@test "cri-o/kata: create + start 2 containers, ps, one VM kernel" { scenario kata sc_create_start; }
@test "cri-o/runc: pod IP reachable from the node" { scenario runc sc_pod_ip; }
@test "cri-o/kata: pod IP reachable from the node" { scenario kata sc_pod_ip; }
@test "cri-o/runc: inspect" { scenario runc sc_inspect; }
@test "cri-o/kata: inspect" { scenario kata sc_inspect; }
@test "cri-o/runc: logs (CRI log format)" { scenario runc sc_logs; }
@test "cri-o/kata: logs (CRI log format)" { scenario kata sc_logs; }
@test "cri-o/runc: exec (sync, exit code 5)" { scenario runc sc_exec; }
@test "cri-o/kata: exec (sync, exit code 5)" { scenario kata sc_exec; }
@test "cri-o/runc: exec -it (tty, size, no pty left)" { scenario runc sc_exec_it; }
@test "cri-o/kata: exec -it (tty, size, no pty left)" { scenario kata sc_exec_it; }
@test "cri-o/runc: attach -i (the running container's output)" { scenario runc sc_attach; }
@test "cri-o/kata: attach -i (the running container's output)" { scenario kata sc_attach; }
@test "cri-o/runc: containers share localhost" { scenario runc sc_localhost; }
@test "cri-o/kata: containers share localhost" { scenario kata sc_localhost; }
@test "cri-o/runc: hostPath volume" { scenario runc sc_hostpath; }
@test "cri-o/kata: hostPath volume" { scenario kata sc_hostpath; }
@test "cri-o/runc: stats, statsp" { scenario runc sc_stats; }
@test "cri-o/kata: stats, statsp" { scenario kata sc_stats; }
@test "cri-o/runc: readOnlyRootFilesystem + runAsUser/runAsGroup" { scenario runc sc_ro_user; }
@test "cri-o/kata: readOnlyRootFilesystem + runAsUser/runAsGroup" { scenario kata sc_ro_user; }
@test "cri-o/runc: container exits (7), a new one in the same pod" { scenario runc sc_exit_new; }
@test "cri-o/kata: container exits (7), a new one in the same pod" { scenario kata sc_exit_new; }
@test "cri-o/runc: stop -t 3 returns within the grace period" { scenario runc sc_stop_grace; }
@test "cri-o/kata: stop -t 3 returns within the grace period" { scenario kata sc_stop_grace; }
@test "cri-o/runc: stop + rm" { scenario runc sc_stop_rm; }
@test "cri-o/kata: stop + rm" { scenario kata sc_stop_rm; }
@test "cri-o/runc: capabilities add/drop" { scenario runc sc_caps; }
@test "cri-o/kata: capabilities add/drop" { scenario kata sc_caps; }
@test "cri-o/runc: seccomp RuntimeDefault and Localhost" { scenario runc sc_seccomp; }
@test "cri-o/kata: seccomp RuntimeDefault and Localhost" { scenario kata sc_seccomp; }
@test "cri-o/runc: runAsUser/runAsGroup + supplementalGroups" { scenario runc sc_groups; }
@test "cri-o/kata: runAsUser/runAsGroup + supplementalGroups" { scenario kata sc_groups; }
@test "cri-o/runc: OOM kill of one container (OOMKilled, the pod lives on)" { scenario runc sc_oom; }
@test "cri-o/kata: OOM kill of one container (OOMKilled, the pod lives on)" { scenario kata sc_oom; }
@test "cri-o/runc: update of memory and CPU quota" { scenario runc sc_update; }
@test "cri-o/kata: update of memory and CPU quota" { scenario kata sc_update; }
@test "cri-o/runc: pod memory: a container leaves, the next one reuses its memory" { scenario runc sc_mem_reuse; }
@test "cri-o/kata: pod memory: a container leaves, the next one reuses its memory" { scenario kata sc_mem_reuse; }
@test "cri-o/runc: pod sysctls (safe and unsafe) in every container" { scenario runc sc_sysctls; }
@test "cri-o/kata: pod sysctls (safe and unsafe) in every container" { scenario kata sc_sysctls; }
@test "cri-o/runc: CPU limit of 2: the host's CPUs" { scenario runc sc_vcpu; }
@test "cri-o/kata: CPU limit of 2: the VM grows by vCPU hot-plug" { scenario kata sc_vcpu; }
@test "cri-o/runc: emptyDir on disk and on tmpfs" { scenario runc sc_emptydir; }
@test "cri-o/kata: emptyDir on disk and on tmpfs" { scenario kata sc_emptydir; }
@test "cri-o/runc: emptyDir on disk with fsGroup (mode, group, setgid, 64 MiB both ways)" { scenario runc sc_emptydir_fsgroup; }
@test "cri-o/kata: emptyDir on disk with fsGroup (mode, group, setgid, 64 MiB both ways)" { scenario kata sc_emptydir_fsgroup; }
@test "cri-o/runc: hostPath mount propagation (HostToContainer, Bidirectional), rmp -f" { scenario runc sc_propagation; }
@test "cri-o/kata: hostPath mount propagation (HostToContainer; Bidirectional stays in the VM), rmp -f" { scenario kata sc_propagation; }
@test "cri-o/runc: block volume (a loop device)" { scenario runc sc_block; }
@test "cri-o/kata: block volume (a loop device)" { scenario kata sc_block; }
@test "cri-o/runc: port-forward reaches the pod" { scenario runc sc_port_forward; }
@test "cri-o/kata: port-forward (documented: does not reach the VM)" { scenario kata sc_port_forward; }
@test "cri-o/runc: stopp + rmp (nothing left)" { scenario runc sc_stopp_rmp; }
@test "cri-o/kata: stopp + rmp (nothing left)" { scenario kata sc_stopp_rmp; }
@test "cri-o/runc: rmp -f after kill -9 of the pause process (nothing left)" { scenario runc sc_kill9_rmp; }
@test "cri-o/kata: rmp -f after kill -9 of QEMU (nothing left)" { scenario kata sc_kill9_rmp; }
@test "cri-o/kata: rmp -f after kill -9 of the sandbox monitor (nothing left)" { scenario kata sc_kill9_rmp monitor; }
@test "cri-o/kata: rmp -f after kill -9 of the app container's shim (nothing left)" { scenario kata sc_kill9_rmp shim; }
