#!/usr/bin/env bats
# containerd 1.6's CRI plugin driven by crictl, with two runtime handlers:
# `runc` (the reference) and `kata` (kata-runtime through the runc v2 shim,
# options.BinaryName).  containerd runs with a config of this file's own
# (root, state, sockets, the runtimes' roots, the pods' netns and CNI's
# configuration and IPAM data all under a temporary directory, snapshotter
# "native", a locally built pause image) in a network namespace of its own;
# CNI is Debian's containernetworking-plugins (bridge + host-local + portmap).
#
# `restrict_oom_score_adj = true`: the CRI plugin gives the pause container
# oom_score_adj -998, which needs CAP_SYS_RESOURCE; this host (a container)
# does not have it and runc then fails ("can't get final child's PID from
# pipe: EOF").  With the option the pod keeps containerd's own value (0), as
# on any node where containerd runs without that capability.

bats_require_minimum_version 1.5.0
load lib
load scenarios

setup_file() {
  CRICTL=$(cri_find_tool crictl)
  export CRICTL
  # the whole file is skipped, with the reason, when crictl is nowhere
  [ -n "$CRICTL" ] || return 0
  cri_require_packages
  clients_tmp_init cri-ct
  clients_build_image
  cri_build_pause_image
  clients_netns_add kc-cri-ct
  local d=$CLIENTS_TMP
  export CRI_SOCK=$d/c.sock CRI_CGROUP=kc-cri-ct-$$ CRI_SERVER=containerd
  export CRI_RT_ROOT_runc=$d/rt-runc/k8s.io CRI_RT_ROOT_kata=$d/rt-kata/k8s.io
  clients_add_cgroup "$CRI_CGROUP"
  clients_add_root "$CRI_RT_ROOT_runc"
  clients_add_root "$CRI_RT_ROOT_kata"
  cri_cni_conf "$d/cni" "kcct$$" "$CRI_SUBNET_PREFIX"
  mkdir -p "$d/rt-runc" "$d/rt-kata"
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
[grpc]
  address = "$CRI_SOCK"
[ttrpc]
  address = "$CRI_SOCK.ttrpc"
[debug]
  level = "info"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$RUNC_RUNTIME"
        Root = "$d/rt-runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata.options]
        BinaryName = "$KATA_RUNTIME"
        Root = "$d/rt-kata"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni/net.d"
    max_conf_num = 1
EOF
  # nsenter execs containerd: the pid file holds containerd's own pid
  nsenter --net="/run/netns/$CLIENTS_NETNS" containerd --config "$d/config.toml" \
    >"$d/containerd.log" 2>&1 3>&- </dev/null &
  echo $! >"$d/containerd.pid"
  if ! wait_for 60 cri version; then
    tail -30 "$d/containerd.log" >&2
    return 1
  fi
  local img
  for img in "$CLIENTS_CACHE/busybox.tar" "$CLIENTS_CACHE/pause.tar"; do
    ctr -a "$CRI_SOCK" -n k8s.io image import --snapshotter native "$img" >/dev/null ||
      { echo "ctr image import $img failed" >&2; return 1; }
  done
}

teardown_file() {
  [ -n "${CLIENTS_TMP:-}" ] || return 0
  CRI_CALL_TIMEOUT=120 cri_rm_test_pods all
  cri_detach_loops
  kill_pidfile "$CLIENTS_TMP/containerd.pid" 30
  cri_sweep "$CLIENTS_TMP"
}

setup() {
  [ -n "$CRICTL" ] || skip "$CRICTL_MISSING"
  mark_daemon_log "$CLIENTS_TMP/containerd.log"
}

teardown() {
  [ -n "$CRICTL" ] || return 0
  show_daemon_log "$CLIENTS_TMP/containerd.log"
  cri_rm_test_pods
}

@test "containerd/runc: runp (CNI network, Ready, known to runc)" { scenario runc sc_runp; }
@test "containerd/kata: runp (CNI network, Ready, known to kata-runtime)" { scenario kata sc_runp; }
@test "containerd/runc: create + start 2 containers, ps, one kernel" { scenario runc sc_create_start; }
@test "containerd/kata: create + start 2 containers, ps, one VM kernel" { scenario kata sc_create_start; }
@test "containerd/runc: pod IP reachable from the node" { scenario runc sc_pod_ip; }
@test "containerd/kata: pod IP reachable from the node" { scenario kata sc_pod_ip; }
@test "containerd/runc: inspect" { scenario runc sc_inspect; }
@test "containerd/kata: inspect" { scenario kata sc_inspect; }
@test "containerd/runc: logs (CRI log format)" { scenario runc sc_logs; }
@test "containerd/kata: logs (CRI log format)" { scenario kata sc_logs; }
@test "containerd/runc: exec (sync, exit code 5)" { scenario runc sc_exec; }
@test "containerd/kata: exec (sync, exit code 5)" { scenario kata sc_exec; }
@test "containerd/runc: exec -it (tty, size, no pty left)" { scenario runc sc_exec_it; }
@test "containerd/kata: exec -it (tty, size, no pty left)" { scenario kata sc_exec_it; }
@test "containerd/runc: attach -i (the running container's output)" { scenario runc sc_attach; }
@test "containerd/kata: attach -i (the running container's output)" { scenario kata sc_attach; }
@test "containerd/runc: containers share localhost" { scenario runc sc_localhost; }
@test "containerd/kata: containers share localhost" { scenario kata sc_localhost; }
@test "containerd/runc: hostPath volume" { scenario runc sc_hostpath; }
@test "containerd/kata: hostPath volume" { scenario kata sc_hostpath; }
@test "containerd/runc: stats, statsp" { scenario runc sc_stats; }
@test "containerd/kata: stats, statsp" { scenario kata sc_stats; }
@test "containerd/runc: readOnlyRootFilesystem + runAsUser/runAsGroup" { scenario runc sc_ro_user; }
@test "containerd/kata: readOnlyRootFilesystem + runAsUser/runAsGroup" { scenario kata sc_ro_user; }
@test "containerd/runc: container exits (7), a new one in the same pod" { scenario runc sc_exit_new; }
@test "containerd/kata: container exits (7), a new one in the same pod" { scenario kata sc_exit_new; }
@test "containerd/runc: stop -t 3 returns within the grace period" { scenario runc sc_stop_grace; }
@test "containerd/kata: stop -t 3 returns within the grace period" { scenario kata sc_stop_grace; }
@test "containerd/runc: stop + rm" { scenario runc sc_stop_rm; }
@test "containerd/kata: stop + rm" { scenario kata sc_stop_rm; }
@test "containerd/runc: capabilities add/drop" { scenario runc sc_caps; }
@test "containerd/kata: capabilities add/drop" { scenario kata sc_caps; }
@test "containerd/runc: seccomp RuntimeDefault and Localhost" { scenario runc sc_seccomp; }
@test "containerd/kata: seccomp RuntimeDefault and Localhost" { scenario kata sc_seccomp; }
@test "containerd/runc: runAsUser/runAsGroup + supplementalGroups" { scenario runc sc_groups; }
@test "containerd/kata: runAsUser/runAsGroup + supplementalGroups" { scenario kata sc_groups; }
@test "containerd/runc: OOM kill of one container (OOMKilled, the pod lives on)" { scenario runc sc_oom; }
@test "containerd/kata: OOM kill of one container (OOMKilled, the pod lives on)" { scenario kata sc_oom; }
@test "containerd/runc: update of memory and CPU quota" { scenario runc sc_update; }
@test "containerd/kata: update of memory and CPU quota" { scenario kata sc_update; }
@test "containerd/runc: pod memory: a container leaves, the next one reuses its memory" { scenario runc sc_mem_reuse; }
@test "containerd/kata: pod memory: a container leaves, the next one reuses its memory" { scenario kata sc_mem_reuse; }
@test "containerd/runc: pod sysctls (safe and unsafe) in every container" { scenario runc sc_sysctls; }
@test "containerd/kata: pod sysctls (safe and unsafe) in every container" { scenario kata sc_sysctls; }
@test "containerd/runc: CPU limit of 2: the host's CPUs" { scenario runc sc_vcpu; }
@test "containerd/kata: CPU limit of 2: the VM grows by vCPU hot-plug" { scenario kata sc_vcpu; }
@test "containerd/runc: emptyDir on disk and on tmpfs" { scenario runc sc_emptydir; }
@test "containerd/kata: emptyDir on disk and on tmpfs" { scenario kata sc_emptydir; }
@test "containerd/runc: emptyDir on disk with fsGroup (mode, group, setgid, 64 MiB both ways)" { scenario runc sc_emptydir_fsgroup; }
@test "containerd/kata: emptyDir on disk with fsGroup (mode, group, setgid, 64 MiB both ways)" { scenario kata sc_emptydir_fsgroup; }
@test "containerd/runc: hostPath mount propagation (HostToContainer, Bidirectional), rmp -f" { scenario runc sc_propagation; }
@test "containerd/kata: hostPath mount propagation (HostToContainer; Bidirectional stays in the VM), rmp -f" { scenario kata sc_propagation; }
@test "containerd/runc: block volume (a loop device)" { scenario runc sc_block; }
@test "containerd/kata: block volume (a loop device)" { scenario kata sc_block; }
@test "containerd/runc: port-forward reaches the pod" { scenario runc sc_port_forward; }
@test "containerd/kata: port-forward (documented: does not reach the VM)" { scenario kata sc_port_forward; }
@test "containerd/runc: stopp + rmp (nothing left)" { scenario runc sc_stopp_rmp; }
@test "containerd/kata: stopp + rmp (nothing left)" { scenario kata sc_stopp_rmp; }
@test "containerd/runc: rmp -f after kill -9 of the pause process (nothing left)" { scenario runc sc_kill9_rmp; }
@test "containerd/kata: rmp -f after kill -9 of QEMU (nothing left)" { scenario kata sc_kill9_rmp; }
@test "containerd/kata: rmp -f after kill -9 of the sandbox monitor (nothing left)" { scenario kata sc_kill9_rmp monitor; }
@test "containerd/kata: rmp -f after kill -9 of the app container's shim (nothing left)" { scenario kata sc_kill9_rmp shim; }
