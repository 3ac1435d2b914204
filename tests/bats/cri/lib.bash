#!/bin/bash
# Helpers for the CRI tests (containerd.bats: containerd 1.6's CRI plugin;
# crio.bats: cri-o), driven by crictl as a kubelet would drive them.  Each
# scenario runs with the `runc` runtime handler (the reference) and the `kata`
# handler (kata-runtime through the runc v2 shim, or through conmon).
#
# Builds on tests/bats/clients/lib.bash (assertions, temporary directory,
# network namespace, the busybox image, the sweep).  Everything a file starts
# lives under its temporary directory /tmp/kc-cri*-XXXXXX: the CRI server's
# root, state and socket, the runtimes' roots (containerd: runc options
# `Root`; cri-o: `runtime_root`), the pods' network namespaces, CNI's
# configuration and IPAM data, the pods' logs.  The server runs in a network
# namespace of the file's own (nsenter --net), and so does crictl (the
# streaming endpoint of exec/attach/port-forward is on 127.0.0.1 there).
#
# Environment (besides clients/lib.bash's):
#   KATA_CRI_TIMEOUT    seconds for one crictl call (120)
#   KATA_SHARED_TOOLS   where crictl/crio/pinns builds may be (/work/shared/tools)

CRI_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../clients/lib.bash
source "$CRI_LIB_DIR/../clients/lib.bash"

CRI_TIMEOUT=${KATA_CRI_TIMEOUT:-120}
SHARED_TOOLS=${KATA_SHARED_TOOLS:-/work/shared/tools}
PAUSE_IMAGE=localhost/kata-pause:test
# Pods get addresses from this subnet, inside the file's own netns only.
CRI_SUBNET_PREFIX=${KATA_CRI_SUBNET_PREFIX:-10.213}

# cri_find_tool NAME: the tool on PATH, else the build in $SHARED_TOOLS;
# prints nothing when neither exists.
cri_find_tool() {
  local p
  p=$(command -v "$1" 2>/dev/null) && { echo "$p"; return 0; }
  [ -x "$SHARED_TOOLS/$1" ] && { echo "$SHARED_TOOLS/$1"; return 0; }
  return 0
}

# The reason the whole CRI suite is skipped when crictl is nowhere.
CRICTL_MISSING="crictl not found: not on PATH and no $SHARED_TOOLS/crictl (crictl is not packaged in Debian 12; build cri-tools v1.26.1)"

cri_require_packages() {
  local missing=0 b
  for b in containerd ctr runc podman conmon nsenter ip iptables gcc script; do
    command -v "$b" >/dev/null 2>&1 || missing=1
  done
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/portmap ] || missing=1
  if [ $missing = 1 ]; then
    bash "$CLIENTS_SRC_ROOT/tools/install-deps.sh" >&2 ||
      { echo "CRI packages missing and install-deps.sh failed" >&2; return 1; }
  fi
}

# The pause image: tests/bats/cri/pause.c built static, as /pause in an
# image of its own; built once per run into $CLIENTS_CACHE/pause.tar.
cri_build_pause_image() {
  (
    flock 9
    [ -s "$CLIENTS_CACHE/pause.tar" ] && exit 0
    set -e
    local b=$CLIENTS_CACHE/pbuild
    rm -rf "$b"; mkdir -p "$b/rootfs"
    gcc -static -O2 -Wall -Wextra -Werror -o "$b/rootfs/pause" "$CRI_LIB_DIR/pause.c"
    strip "$b/rootfs/pause"
    local P=(podman --root "$b/storage" --runroot "$b/run" --storage-driver vfs)
    local conf=$b/containers.conf
    printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nlock_type = "file"\ntmp_dir = "%s"\n' \
      "$b/tmp" >"$conf"
    tar -C "$b/rootfs" -c . | CONTAINERS_CONF=$conf "${P[@]}" import \
      --change 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
    CONTAINERS_CONF=$conf "${P[@]}" save --format docker-archive \
      -o "$CLIENTS_CACHE/pause.tar.new" "$PAUSE_IMAGE" >/dev/null 2>&1
    mv "$CLIENTS_CACHE/pause.tar.new" "$CLIENTS_CACHE/pause.tar"
    CONTAINERS_CONF=$conf "${P[@]}" system reset -f >/dev/null 2>&1 || true
    clients_umount_under "$b"
    rm -rf "$b"
  ) 9>"$CLIENTS_CACHE/.pause.lock"
  [ -s "$CLIENTS_CACHE/pause.tar" ]
}

# cri_cni_conf DIR NAME SUBNET: a CNI conflist (bridge + host-local +
# portmap) in DIR, IPAM data under DIR too.  The bridge is cni-NAME in the
# server's netns; pods get SUBNET.0.2 and up, gateway SUBNET.0.1.
cri_cni_conf() {
  local dir=$1 name=$2 sub=$3
  mkdir -p "$dir/net.d" "$dir/ipam"
  echo "$name" >>"$CLIENTS_TMP/cni-net"
  cat >"$dir/net.d/10-$name.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$name",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni-$name",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/ipam",
        "routes": [{ "dst": "0.0.0.0/0" }],
        "ranges": [[{ "subnet": "$sub.0.0/24", "gateway": "$sub.0.1" }]]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
}

# --------------------------------------------------------------- crictl ----

# cri ARGS...: crictl against this file's server, in its netns, with a
# time-out.
cri() {
  timeout "${CRI_CALL_TIMEOUT:-$CRI_TIMEOUT}" nsenter --net="/run/netns/$CLIENTS_NETNS" \
    "$CRICTL" --runtime-endpoint "unix://$CRI_SOCK" --image-endpoint "unix://$CRI_SOCK" \
    --timeout "${CRI_CALL_TIMEOUT:-$CRI_TIMEOUT}s" "$@"
}
# The same as a command line (for script(1)).
cri_cmdline() {
  echo "nsenter --net=/run/netns/$CLIENTS_NETNS $CRICTL --runtime-endpoint unix://$CRI_SOCK --image-endpoint unix://$CRI_SOCK --timeout ${CRI_TIMEOUT}s"
}

# cri_pod_json NAME [EXTRA-LINUX-JSON]: a PodSandboxConfig file for NAME;
# prints its path.
cri_pod_json() {
  local name=$1 extra=${2:-} f=$CLIENTS_TMP/pods/$1.json
  mkdir -p "$CLIENTS_TMP/pods" "$CLIENTS_TMP/logs/$name"
  cat >"$f" <<EOF
{
  "metadata": { "name": "$name", "namespace": "kc", "uid": "uid-$name-$$", "attempt": 0 },
  "hostname": "$name",
  "log_directory": "$CLIENTS_TMP/logs/$name",
  "linux": {
    "cgroup_parent": "/$CRI_CGROUP",
    "security_context": { "namespace_options": { "network": 0, "pid": 1, "ipc": 0 } }${extra:+,
    $extra}
  }
}
EOF
  echo "$f"
}

# cri_ctr_json NAME IMAGE CMD-JSON [EXTRA-JSON]: a ContainerConfig file;
# prints its path.  CMD-JSON is a JSON array for `command`; EXTRA-JSON an
# object merged (deeply) into the config.  As kubelet does by default, each
# container gets a PID namespace of its own (CRI's zero value, which crictl
# would send, is the pod's).
cri_ctr_json() {
  local name=$1 image=$2 cmd=$3 extra=${4:-'{}'} f=$CLIENTS_TMP/pods/c-$1.json
  mkdir -p "$CLIENTS_TMP/pods"
  jq -n --arg name "$name" --arg image "$image" --argjson cmd "$cmd" --argjson extra "$extra" '{
    metadata: { name: $name, attempt: 0 },
    image: { image: $image },
    command: $cmd,
    log_path: ($name + ".log"),
    linux: { security_context: { namespace_options: { network: 0, pid: 1, ipc: 0 } } }
  } * $extra' >"$f" || return 1
  echo "$f"
}

# cri_runp POD-JSON: runp with this test's handler; the pod id in POD.
cri_runp() {
  run --separate-stderr cri runp --runtime "$RT" "$1"
  if [ "$status" != 0 ]; then
    printf 'FAIL: crictl runp --runtime %s: exit %s\n%s\n%s\n' "$RT" "$status" "$output" "$stderr" >&2
    return 1
  fi
  POD=$output
  assert_match '^[0-9a-f]{64}$' "$POD" "pod id from runp"
}

# cri_create_start POD CTR-JSON POD-JSON: create + start; the id in CTR.
cri_create_start() {
  run --separate-stderr cri create "$1" "$2" "$3"
  if [ "$status" != 0 ]; then
    printf 'FAIL: crictl create: exit %s\n%s\n%s\n' "$status" "$output" "$stderr" >&2
    return 1
  fi
  CTR=$output
  assert_match '^[0-9a-f]{64}$' "$CTR" "container id from create" || return 1
  run --separate-stderr cri start "$CTR"
  if [ "$status" != 0 ]; then
    printf 'FAIL: crictl start: exit %s\n%s\n%s\n' "$status" "$output" "$stderr" >&2
    return 1
  fi
}

# cri_inspect_field ID JQ-EXPR: a field of `crictl inspect ID`.
cri_inspect_field() { cri inspect "$1" 2>/dev/null | jq -r "$2"; }
cri_ctr_state() { cri_inspect_field "$1" .status.state; }
cri_ctr_is() { [ "$(cri_ctr_state "$1")" = "$2" ]; }
cri_pod_state() { cri inspectp "$1" 2>/dev/null | jq -r .status.state; }
cri_pod_ip() { cri inspectp "$1" 2>/dev/null | jq -r .status.network.ip; }

# cri_exec_ok ID CMD...: a sync exec succeeds.
cri_exec_ok() { cri exec "$@" >/dev/null 2>&1; }

# cri_rm_pod ID: stopp + rmp, ignoring errors (teardown).
cri_rm_pod() {
  [ -n "${1:-}" ] || return 0
  CRI_CALL_TIMEOUT=${CRI_CALL_TIMEOUT:-180} cri stopp "$1" >/dev/null 2>&1
  CRI_CALL_TIMEOUT=${CRI_CALL_TIMEOUT:-180} cri rmp -f "$1" >/dev/null 2>&1
  return 0
}

# cri_rm_test_pods: every pod of this test (name kc<N>-*), or with "all" every pod.
cri_rm_test_pods() {
  local id name
  cri pods -o json 2>/dev/null | jq -r '.items[] | .id + " " + .metadata.name' |
    while read -r id name; do
      [ "${1:-}" = all ] || [[ $name == kc${BATS_TEST_NUMBER}-* ]] || continue
      cri_rm_pod "$id"
    done
  return 0
}

# A name unique to this test and handler.
podname() { echo "kc${BATS_TEST_NUMBER}-$RT${1:+-$1}"; }

# ------------------------------------------------------------------ sweep ---

# cri_detach_loops: the loop devices the block-volume scenario attached
# (listed in $CLIENTS_TMP/loops) that are still attached to its image.
cri_detach_loops() {
  local dev
  for dev in $(cat "$CLIENTS_TMP/loops" 2>/dev/null); do
    losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -q "^$dev .*$CLIENTS_TMP/blk-" && losetup -d "$dev"
  done
  return 0
}

# cri_kill_cgroups DIR: SIGKILL whatever is still in the cgroups listed in
# DIR/cgroups (the pods' cgroup parent: every container of the file's pods,
# whichever runtime started it, is below it).
cri_kill_cgroups() {
  local name pids n=0
  for name in $(cat "$1/cgroups" 2>/dev/null); do
    case $name in "" | */* | .*) continue ;; esac
    [ -d "/sys/fs/cgroup/pids/$name" ] || [ -d "/sys/fs/cgroup/unified/$name" ] || continue
    while :; do
      pids=$(find "/sys/fs/cgroup/pids/$name" "/sys/fs/cgroup/unified/$name" -name cgroup.procs \
               -exec cat {} + 2>/dev/null | sort -u)
      [ -n "$pids" ] || break
      [ $n -lt 50 ] || { echo "processes left in cgroup $name: $pids" >&2; break; }
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null
      sleep 0.1; n=$((n + 1))
    done
  done
}

# cri_sweep DIR: clients_sweep, plus what a CRI server leaves outside DIR:
# the processes in the pods' cgroups and libcni's cached results in
# /var/lib/cni/results (named after the network recorded in DIR/cni-net).
cri_sweep() {
  local dir=$1 net f id
  case $dir in /tmp/kc-cri-ct.* | /tmp/kc-cri-crio.*) ;; *) return 0 ;; esac
  [ -d "$dir" ] || return 0
  kill_matching "$dir/"
  for net in $(cat "$dir/cni-net" 2>/dev/null); do
    case $net in kc*) ;; *) continue ;; esac
    for f in /var/lib/cni/results/"$net"-*; do
      [ -e "$f" ] || continue
      id=${f#/var/lib/cni/results/"$net"-}; id=${id%%-*}
      rm -f "$f" "/var/lib/cni/results/cni-loopback-$id-lo"
    done
  done
  # the runtimes' own clean-up first (clients_sweep deletes DIR at its end)
  local keep; keep=$(mktemp -d /tmp/kc-cri-sweep.XXXXXX)
  cp "$dir/cgroups" "$keep/cgroups" 2>/dev/null
  clients_sweep "$dir"
  cri_kill_cgroups "$keep"
  clients_rm_cgroups "$keep"
  rm -rf "$keep"
}
