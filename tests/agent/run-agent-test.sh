#!/bin/bash
# run-agent-test.sh [q35|microvm]
#
# Boots the guest kernel + an initrd holding kata-agent as /init in QEMU (TCG), exports a
# busybox rootfs over virtio-9p, and drives the agent with tests/agent/agent-client.
# Every check is an explicit assertion; prints "N passed, N failed" and exits non-zero on
# any failure.
#
# Environment:
#   KATA_AGENT      agent binary (default ./kata-agent, else /tmp/agentbuild/kata-agent)
#   AGENT_CLIENT    client binary (default ./tests/agent/agent-client)
#   GUEST_DIR       directory with vmlinuz.container / vmlinux.container (default ./guest)
#   KERNEL          kernel image to boot instead
#   MODULES_DIR     modules for a generic kernel (build-kernel.sh --flavor generic output)
#   KEEP_WORKDIR=1  keep the temporary directory
#   AGENT_BOOT_ONLY=1  only measure the boot (console "kata-agent: ready" and the first
#                   Hello answered), then power off
#   AGENT_CMDLINE   extra kernel parameters (default agent.debug=1)
set -uo pipefail

machine=${1:-q35}
top=$(cd "$(dirname "$0")/../.." && pwd)
agent=${KATA_AGENT:-}
[ -n "$agent" ] || for c in "$top/kata-agent" /tmp/agentbuild/kata-agent; do [ -x "$c" ] && { agent=$c; break; }; done
client=${AGENT_CLIENT:-}
[ -n "$client" ] || for c in "$top/tests/agent/agent-client" /tmp/agentbuild/agent-client; do [ -x "$c" ] && { client=$c; break; }; done
guest=${GUEST_DIR:-$top/guest}
qemu=${QEMU:-qemu-system-x86_64}

die() { echo "run-agent-test: error: $*" >&2; exit 2; }
[ -x "$agent" ] || die "kata-agent binary not found (KATA_AGENT)"
[ -x "$client" ] || die "agent-client not found (AGENT_CLIENT)"
command -v busybox >/dev/null || die "busybox (busybox-static) is required"
case "$machine" in
q35) kernel=$guest/vmlinuz.container ;;
microvm) kernel=$guest/vmlinux.container ;;
*) die "machine must be q35 or microvm" ;;
esac
kernel=${KERNEL:-$kernel}
[ -f "$kernel" ] || die "guest kernel $kernel not found (make guest-kernel)"

work=$(mktemp -d "${TMPDIR:-/tmp}/agent-test.XXXXXX")
qpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	if [ "${KEEP_WORKDIR:-0}" = 1 ]; then echo "workdir: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# ---- rootfs: static busybox with its applets ----
shared=$work/shared
root=$shared/rootfs
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin,data}
cp "$(command -v busybox)" "$root/bin/busybox"
for app in $("$root/bin/busybox" --list); do
	[ "$app" = busybox ] || ln -sf busybox "$root/bin/$app"
done
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
nogroup:x:65534:nobody
G

# ---- initrd ----
initrd=$work/initrd.img
bash "$top/tools/osbuilder/build-initrd.sh" "$agent" "$initrd" ${MODULES_DIR:-} 2>/dev/null || die "build-initrd failed"

# ---- boot ----
sock=$work/agent.sock
console=$work/console.log
append="console=ttyS0 quiet panic=-1 reboot=t i8042.noaux i8042.nokbd i8042.nopnp ${AGENT_CMDLINE:-agent.debug=1}"
if [ "$machine" = microvm ]; then
	khz=$(cat /sys/devices/system/cpu/cpu0/tsc_freq_khz 2>/dev/null)
	if [ -z "$khz" ]; then
		tsc=$(dmesg 2>/dev/null | sed -n 's/.*Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -1)
		[ -n "$tsc" ] || tsc=$(sed -n 's/^cpu MHz[[:space:]]*: \([0-9.]*\).*/\1/p' /proc/cpuinfo | head -n1)
		khz=$(awk -v m="$tsc" 'BEGIN {printf "%d", m * 1000 + 0.5}')
	fi
	append="$append tsc_early_khz=$khz"
	mdev=(-machine microvm -global virtio-mmio.force-legacy=false
		-device virtio-serial-device -device virtio-9p-device,fsdev=fs0,mount_tag=kataShared
		-netdev user,id=n0 -device virtio-net-device,netdev=n0,mac=52:54:00:12:34:56)
else
	mdev=(-machine q35 -device virtio-serial-pci -device virtio-9p-pci,fsdev=fs0,mount_tag=kataShared
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56)
fi
t0=$(date +%s%N)
"$qemu" -accel tcg -cpu max -m 256 -smp 1 -nodefaults -no-user-config -nographic -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$append" \
	-serial "file:$console" \
	-fsdev local,id=fs0,path="$shared",security_model=none \
	-chardev socket,id=agent,path="$sock",server=on,wait=off \
	"${mdev[@]}" \
	-device virtserialport,chardev=agent,name=agent.channel.0 \
	>"$work/qemu.log" 2>&1 &
qpid=$!
ready=
for _ in $(seq 1 3000); do
	if grep -q "kata-agent: ready" "$console" 2>/dev/null; then ready=$(date +%s%N); break; fi
	kill -0 "$qpid" 2>/dev/null || break
	sleep 0.01
done
if [ -z "$ready" ]; then
	cat "$work/qemu.log" "$console" >&2
	die "agent did not become ready"
fi
echo "boot-to-agent-ready ($machine): $(( (ready - t0) / 1000000 )) ms"
if [ "${AGENT_BOOT_ONLY:-0}" = 1 ]; then
	# boot time only: Hello round trip, then power off
	"$client" "$sock" hello >/dev/null || die "Hello failed"
	t1=$(date +%s%N)
	echo "boot-to-first-Hello-answered ($machine): $(( (t1 - t0) / 1000000 )) ms"
	"$client" "$sock" call DestroySandbox '{}' >/dev/null
	wait "$qpid"; qpid=
	exit 0
fi

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
nok() { fail=$((fail + 1)); echo "FAIL - $*"; }
check_eq() { # name expected actual
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: expected [$2], got [$3]"; return 1; fi
}
ac() { "$client" "$sock" "$@"; }

rootpath=/run/kata-containers/shared/containers/rootfs
# spec ARGS_JSON [CAPS_JSON] [SECCOMP_JSON] [HOSTNAME]
spec() {
	local args=$1 caps=${2:-'["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'}
	local seccomp=${3:-null} host=${4:-agent-test}
	cat <<J
{"ociVersion":"1.0.2",
 "process":{"terminal":false,"user":{"uid":0,"gid":0},"args":$args,
  "env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],"cwd":"/",
  "capabilities":{"bounding":$caps,"effective":$caps,"permitted":$caps,"inheritable":$caps,"ambient":[]},
  "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},
 "root":{"path":"$rootpath","readonly":false},
 "hostname":"$host",
 "mounts":[
  {"destination":"/proc","type":"proc","source":"proc"},
  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
  {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},
  {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},
  {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},
  {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},
  {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]},
  {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1777"]}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"network"},{"type":"cgroup"}],
  "resources":{"pids":{"limit":100},"memory":{"limit":67108864}},
  "maskedPaths":["/proc/kcore","/proc/keys","/proc/timer_list","/sys/firmware","/proc/scsi"],
  "readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"],
  "seccomp":$seccomp}}
J
}

# ---- sandbox ----
out=$(ac hello 2>&1)
case "$out" in *'"version":1'*) ok "Hello";; *) nok "Hello: $out";; esac
out=$(ac call Hello '{"version":2}' 2>&1)
case "$out" in *"error -32001"*) ok "Hello with a wrong version -> -32001";; *) nok "Hello v2: $out";; esac
out=$(ac call NoSuchMethod '{}' 2>&1)
case "$out" in *"error -32601"*) ok "unknown method -> -32601";; *) nok "unknown method: $out";; esac
now=$(date +%s%N)
out=$(ac call CreateSandbox "{\"sandbox_id\":\"sb1\",\"hostname\":\"sandbox\",\"dns\":[\"nameserver 10.0.2.3\"],\"time_ns\":$now,\"random_seed\":\"00112233445566778899aabbccddeeff\",\"storages\":[{\"driver\":\"9p\",\"source\":\"kataShared\",\"fstype\":\"9p\",\"options\":[\"trans=virtio\",\"version=9p2000.L\",\"msize=65536\"],\"mount_point\":\"/run/kata-containers/shared/containers\"}]}" 2>&1)
check_eq "CreateSandbox mounts the 9p share" "{}" "$out"
out=$(ac call GetGuestDetails '{}' 2>&1)
case "$out" in *'"kernel":"6.'*) ok "GetGuestDetails";; *) nok "GetGuestDetails: $out";; esac

# ---- containers ----
spec '["echo","hello"]' > "$work/c1.json"
out=$(ac run c1 "$work/c1.json" 2>"$work/err"); st=$?
check_eq "echo hello: stdout" "hello" "$out"
check_eq "echo hello: exit status" "0" "$st"

spec '["sh","-c","exit 3"]' > "$work/c2.json"
for i in 1 2 3 4 5; do
	ac run c2 "$work/c2.json" >/dev/null 2>"$work/c2.err"; st=$?
	check_eq "sh -c 'exit 3' (run $i): exit status" "3" "$st" || cat "$work/c2.err"
done

spec '["sleep","100"]' > "$work/c3.json"
ac run c3 "$work/c3.json" --signal 500:9 >/dev/null 2>&1; st=$?
check_eq "sleep 100 killed by SIGKILL: status" "137" "$st"

spec '["grep","CapEff","/proc/self/status"]' '["CAP_CHOWN","CAP_KILL"]' > "$work/c4.json"
out=$(ac run c4 "$work/c4.json" 2>&1); st=$?
check_eq "CapEff with CAP_CHOWN+CAP_KILL" "$(printf 'CapEff:\t0000000000000021')" "$out"

sc='{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1},{"names":["nosuchsyscall"],"action":"SCMP_ACT_ERRNO"}]}'
spec '["mkdir","/tmp/x"]' "" "$sc" > "$work/c5.json"
out=$(ac run c5 "$work/c5.json" 2>&1); st=$?
case "$out" in *"Operation not permitted"*) ok "seccomp denies mkdir with EPERM";; *) nok "seccomp mkdir: [$out]";; esac
[ "$st" != 0 ] && ok "seccomp: mkdir exits non-zero" || nok "seccomp: mkdir exit status $st"

spec '["hostname"]' "" null "ctr-host" > "$work/c6.json"
out=$(ac run c6 "$work/c6.json" 2>&1)
check_eq "hostname from the spec" "ctr-host" "$out"

spec '["cat"]' > "$work/c7.json"
out=$(ac run c7 "$work/c7.json" --stdin "$(printf 'hi\n')" 2>&1); st=$?
check_eq "cat echoes stdin" "hi" "$out"
check_eq "cat exits 0 after stdin EOF" "0" "$st"

spec '["sh","-c","grep \" /data \" /proc/mounts | cut -d\" \" -f3"]' > "$work/c8.json"
python3 - "$work/c8.json" <<'PY'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s["mounts"].append({"destination": "/data", "type": "bind", "source": "/run/kata-containers/sandbox/ephemeral/vol1", "options": ["rbind", "rw"]})
json.dump(s, open(p, "w"))
PY
out=$(ac run c8 "$work/c8.json" --storage '{"driver":"ephemeral","source":"tmpfs","fstype":"tmpfs","options":[],"mount_point":"/run/kata-containers/sandbox/ephemeral/vol1"}' 2>&1)
check_eq "ephemeral storage is tmpfs in the container" "tmpfs" "$out"

spec '["nosuch"]' > "$work/c9.json"
out=$(ac run c9 "$work/c9.json" 2>&1); st=$?
case "$out" in *'exec: "nosuch": executable file not found in $PATH'*) ok "missing executable is reported";; *) nok "missing executable: [$out]";; esac
check_eq "missing executable: client status" "255" "$st"

spec '["sh","-c","id -u; id -G"]' > "$work/c10.json"
python3 - "$work/c10.json" <<'PY'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s["process"]["user"] = {"uid": 65534, "gid": 65534, "additionalGids": [5]}
json.dump(s, open(p, "w"))
PY
out=$(ac run c10 "$work/c10.json" 2>&1 | tr '\n' ' ')
check_eq "user uid/gid/additionalGids" "65534 65534 5 " "$out"

# exec into a running container
spec '["sleep","30"]' > "$work/c11.json"
out=$(ac start c11 "$work/c11.json" 2>&1); check_eq "start a detached container" "" "$out"
cat > "$work/p11.json" <<'J'
{"terminal":false,"user":{"uid":0,"gid":0},"args":["sh","-c","echo exec-ok; hostname; exit 7"],"env":["PATH=/bin"],"cwd":"/tmp"}
J
out=$(ac exec c11 e1 "$work/p11.json" 2>&1 | tr '\n' ' '); st=${PIPESTATUS[0]}
check_eq "ExecProcess output" "exec-ok agent-test " "$out"
check_eq "ExecProcess exit status" "7" "$st"
out=$(ac call ListProcesses '{"container_id":"c11"}' 2>&1)
case "$out" in *'"cmd":"sleep 30"'*) ok "ListProcesses";; *) nok "ListProcesses: $out";; esac
out=$(ac call StatsContainer '{"container_id":"c11"}' 2>&1)
case "$out" in *'"pids":{"current":1,"limit":100}'*) ok "StatsContainer";; *) nok "StatsContainer: $out";; esac
out=$(ac call UpdateContainer '{"container_id":"c11","resources":{"pids":{"limit":50},"cpu":{"quota":50000,"period":100000}}}' 2>&1)
check_eq "UpdateContainer" "{}" "$out"
out=$(ac call StatsContainer '{"container_id":"c11"}' 2>&1)
case "$out" in *'"pids":{"current":1,"limit":50}'*) ok "UpdateContainer changed pids.max";; *) nok "UpdateContainer: $out";; esac
out=$(ac call PauseContainer '{"container_id":"c11"}' 2>&1); check_eq "PauseContainer" "{}" "$out"
out=$(ac call ResumeContainer '{"container_id":"c11"}' 2>&1); check_eq "ResumeContainer" "{}" "$out"
out=$(ac call RemoveContainer '{"container_id":"c11"}' 2>&1); check_eq "RemoveContainer" "{}" "$out"

# rlimits and umask
spec '["sh","-c","ulimit -n; umask"]' > "$work/c14.json"
sed -i 's/"user":{"uid":0,"gid":0}/"user":{"uid":0,"gid":0,"umask":23}/' "$work/c14.json"
out=$(ac run c14 "$work/c14.json" 2>&1 | tr '\n' ' ')
check_eq "rlimit NOFILE and umask" "1024 0027 " "$out"

# read-only rootfs, masked and read-only paths
spec '["sh","-c","touch /x 2>/dev/null && echo rw || echo ro; wc -c < /proc/version; ls /usr | wc -l; (echo 1 > /proc/sys/kernel/domainname) 2>/dev/null && echo sys-rw || echo sys-ro"]' > "$work/c15.json"
sed -i 's/"readonly":false/"readonly":true/; s|"maskedPaths":\[|"maskedPaths":["/proc/version","/usr",|' "$work/c15.json"
out=$(ac run c15 "$work/c15.json" 2>&1 | tr '\n' ' ')
check_eq "readonly rootfs, masked file and dir, readonly /proc/sys" "ro 0 0 sys-ro " "$out"

# the agent keeps state across host connections
spec '["sh","-c","sleep 1; exit 5"]' > "$work/c16.json"
ac start c16 "$work/c16.json" >/dev/null 2>&1
ac wait c16 >/dev/null 2>"$work/c16.err"; st=$?
check_eq "WaitProcess from a new connection" "5" "$st" || cat "$work/c16.err"
ac wait c16 >/dev/null 2>&1; st=$?
check_eq "WaitProcess again after exit" "5" "$st"
out=$(ac call RemoveContainer '{"container_id":"c16"}' 2>&1); check_eq "RemoveContainer of an exited container" "{}" "$out"
out=$(ac call RemoveContainer '{"container_id":"c16"}' 2>&1)
case "$out" in "error 2:"*) ok "RemoveContainer twice -> ENOENT";; *) nok "RemoveContainer twice: $out";; esac

# OOM: an event precedes the exit
spec '["tail","/dev/zero"]' > "$work/c17.json"
sed -i 's/"memory":{"limit":67108864}/"memory":{"limit":16777216}/' "$work/c17.json"
AGENT_CLIENT_EVENTS=1 ac run c17 "$work/c17.json" >"$work/c17.out" 2>&1; st=$?
check_eq "OOM-killed process status" "137" "$st"
if grep -q '"event":"oom","container_id":"c17"' "$work/c17.out"; then ok "OOM event"; else nok "OOM event: $(cat "$work/c17.out")"; fi

# pod: a second container joins the sandbox container's pid, ipc and uts namespaces
spec '["sleep","30"]' "" null "pod-host" > "$work/pause.json"
out=$(ac start pause "$work/pause.json" 2>&1); check_eq "start the pod's sandbox container" "" "$out"
spec '["sh","-c","hostname; ps -o comm | grep -c ^sleep"]' "" null "other" > "$work/app.json"
sed -i 's|{"type":"ipc"},{"type":"uts"}|{"type":"ipc","path":"/proc/1/ns/ipc"},{"type":"uts","path":"/proc/1/ns/uts"}|' "$work/app.json"
out=$(ac run app "$work/app.json" --sandbox pause --sandbox-pidns 2>&1 | tr '\n' ' ')
check_eq "pod container shares uts and pid namespaces" "pod-host 1 " "$out"
out=$(ac call RemoveContainer '{"container_id":"pause"}' 2>&1); check_eq "RemoveContainer pause" "{}" "$out"

# SignalProcess all=true reaches every process of the container
spec '["sh","-c","sleep 100 & sleep 100"]' > "$work/c18.json"
ac start c18 "$work/c18.json" >/dev/null 2>&1
sleep 1
out=$(ac call SignalProcess '{"container_id":"c18","exec_id":"","signal":9,"all":true}' 2>&1); check_eq "SignalProcess all" "{}" "$out"
ac wait c18 >/dev/null 2>&1; st=$?
check_eq "SignalProcess all: status" "137" "$st"
ac call RemoveContainer '{"container_id":"c18"}' >/dev/null 2>&1

# local storage (directory with a mode) bind-mounted into a container
spec '["stat","-c","%a","/vol"]' > "$work/c19.json"
python3 - "$work/c19.json" <<'PY'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s["mounts"].append({"destination": "/vol", "type": "bind", "source": "/run/kata-containers/sandbox/local/vol2", "options": ["rbind", "rw"]})
json.dump(s, open(p, "w"))
PY
out=$(ac run c19 "$work/c19.json" --storage '{"driver":"local","source":"local","options":["mode=0750"],"mount_point":"/run/kata-containers/sandbox/local/vol2"}' 2>&1)
check_eq "local storage with mode 0750" "750" "$out"

# ---- path resolution: symlinks in the rootfs never lead a mount out of it ----
ln -sfn /../../etc "$root/escape-abs"
ln -sfn ../../../../../etc "$root/escape-rel"
ln -sfn /etc "$root/etc-link"
spec '["sh","-c","grep -E \" /etc \" /proc/mounts | cut -d\" \" -f3; grep -c . /etc/passwd 2>/dev/null || echo empty"]' > "$work/c20.json"
python3 - "$work/c20.json" <<'PY'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s["mounts"].append({"destination": "/escape-abs", "type": "tmpfs", "source": "tmpfs", "options": ["mode=755"]})
json.dump(s, open(p, "w"))
PY
# The tmpfs lands on the container's /etc (it hides its passwd), not on the guest's /etc.
out=$(ac run c20 "$work/c20.json" 2>&1 | tr '\n' ' ')
check_eq "mount on a symlink to /../../etc lands inside the rootfs" "tmpfs empty " "$out"
spec '["sh","-c","grep \" /etc/sub \" /proc/mounts | cut -d\" \" -f3"]' > "$work/c21.json"
python3 - "$work/c21.json" <<'PY'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s["mounts"].append({"destination": "/escape-rel/sub", "type": "tmpfs", "source": "tmpfs", "options": ["mode=755"]})
json.dump(s, open(p, "w"))
PY
out=$(ac run c21 "$work/c21.json" 2>&1)
check_eq "mount under a relative symlink climbing out lands inside the rootfs" "tmpfs" "$out"
rmdir "$root/etc/sub" 2>/dev/null
# The agent's own /etc was not touched: a fresh container sees the rootfs's passwd.
spec '["sh","-c","grep -c . /etc/passwd; grep -c \" /etc\" /proc/mounts"]' > "$work/c22.json"
out=$(ac run c22 "$work/c22.json" 2>&1 | tr '\n' ' ')
check_eq "the rootfs's /etc is intact afterwards" "2 0 " "$out"

# ---- mount sources outside the shared dir and the storages are refused ----
bind_spec() { # file source
	spec '["true"]' > "$1"
	python3 - "$1" "$2" <<'PY'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s["mounts"].append({"destination": "/x", "type": "bind", "source": sys.argv[2], "options": ["rbind"]})
json.dump(s, open(p, "w"))
PY
}
bind_spec "$work/c23.json" /etc
out=$(ac run c23 "$work/c23.json" 2>&1); st=$?
case "$st:$out" in 0:*) nok "bind of the guest's /etc: accepted: [$out]";; *"outside the shared dir"*) ok "bind of the guest's /etc is refused";; *) nok "bind of /etc: [$out]";; esac
bind_spec "$work/c24.json" "$rootpath/etc-link"
out=$(ac run c24 "$work/c24.json" 2>&1); st=$?
case "$st:$out" in 0:*) nok "bind through a symlink to /etc: accepted: [$out]";; *"outside the shared dir"*) ok "bind source through a symlink to /etc is refused";; *) nok "bind via symlink: [$out]";; esac
bind_spec "$work/c25.json" /run/kata-containers/shared/containers/../../../../etc
out=$(ac run c25 "$work/c25.json" 2>&1); st=$?
case "$st:$out" in 0:*) nok "bind of shared/../../../etc: accepted: [$out]";; *"outside the shared dir"*) ok "bind source climbing out of the shared dir is refused";; *) nok "bind via ..: [$out]";; esac
spec '["true"]' > "$work/c26.json"
out=$(ac run c26 "$work/c26.json" --storage '{"driver":"bind","source":"/etc","options":[],"mount_point":"/run/kata-containers/sandbox/evil"}' 2>&1); st=$?
case "$st:$out" in 0:*) nok "bind storage from /etc: accepted";; *"is not under /run/kata-containers"*) ok "bind storage from /etc is refused";; *) nok "bind storage: [$out]";; esac
out=$(ac run c27 "$work/c26.json" --storage '{"driver":"ephemeral","source":"tmpfs","options":[],"mount_point":"/etc/evil"}' 2>&1); st=$?
case "$st:$out" in 0:*) nok "storage mount point /etc/evil: accepted";; *"is not under /run/kata-containers"*) ok "storage mount point outside the run dir is refused";; *) nok "storage mount point: [$out]";; esac
out=$(ac run c28 "$work/c26.json" --storage '{"driver":"blk","source":"/dev/../etc/passwd","fstype":"ext4","options":[],"mount_point":"/run/kata-containers/sandbox/storage/evil"}' 2>&1); st=$?
case "$st:$out" in 0:*) nok "blk storage from /dev/../etc: accepted";; *"is not under /dev"*) ok "blk storage source outside /dev is refused";; *) nok "blk storage: [$out]";; esac
rm -f "$root/escape-abs" "$root/escape-rel" "$root/etc-link"

# terminal: output comes through a pty
spec '["sh","-c","test -t 0 && test -t 1 && echo tty-ok; stty size"]' > "$work/c12.json"
sed -i 's/"terminal":false/"terminal":true,"consoleSize":{"height":40,"width":100}/' "$work/c12.json"
out=$(ac run c12 "$work/c12.json" 2>&1 | tr -d '\r' | tr '\n' ' '); st=${PIPESTATUS[0]}
check_eq "terminal process output and consoleSize" "tty-ok 40 100 " "$out"
check_eq "terminal process exit status" "0" "$st"

# ---- network (the VM's network namespace is shared by the containers) ----
out=$(ac call UpdateInterface '{"name":"eth0","hw_addr":"52:54:00:12:34:56","mtu":1400,"addresses":[{"address":"10.0.2.15","prefix":24}]}' 2>&1)
check_eq "UpdateInterface" '{}' "$out"
out=$(ac call UpdateRoutes '{"routes":[{"dest":"default","gateway":"10.0.2.2","device":"eth0"}]}' 2>&1)
check_eq "UpdateRoutes" "{}" "$out"
spec '["sh","-c","ip -4 -o addr show eth0 | sed \"s/.* inet \\([^ ]*\\) .*/\\1/\"; cat /sys/class/net/eth0/mtu; ip route | grep ^default | cut -d\" \" -f1-3"]' > "$work/c13.json"
out=$(ac run c13 "$work/c13.json" 2>&1 | tr '\n' ' ')
check_eq "interface address, MTU and default route" "10.0.2.15/24 1400 default via 10.0.2.2 " "$out"
out=$(ac call UpdateInterface '{"name":"nosuch0"}' 2>&1)
case "$out" in "error 19:"*) ok "UpdateInterface on a missing device -> ENODEV";; *) nok "UpdateInterface missing: $out";; esac
# a hot-plugged NIC that never comes: waited for (wait_ms), then ENODEV
t0=$(date +%s%N)
out=$(ac call UpdateInterface '{"name":"eth9","hw_addr":"02:00:00:00:00:99","wait_ms":600}' 2>&1)
t1=$(date +%s%N)
case "$out" in "error 19:"*"waited for it"*) ok "UpdateInterface wait_ms on a MAC that never appears -> ENODEV";; *) nok "UpdateInterface wait_ms: $out";; esac
[ $(((t1 - t0) / 1000000)) -ge 600 ] && ok "UpdateInterface waited wait_ms" || nok "UpdateInterface waited only $(((t1 - t0) / 1000000)) ms"

out=$(ac call SetIdentity '{"hostname":"renamed"}' 2>&1); check_eq "SetIdentity" "{}" "$out"
out=$(ac call Check 2>&1); check_eq "Check" "{}" "$out"

# a framing error makes the agent ignore that host; the next connection is served
if command -v python3 >/dev/null; then
	python3 - "$sock" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(struct.pack(">IBBHI", 2 << 20, 1, 0, 0, 1) + b"x" * 100)  # 2 MiB frame: protocol error
s.close()
PY
	out=$(ac call Check 2>&1); check_eq "served again after a framing error" "{}" "$out"
fi

# ---- shutdown ----
out=$(ac call DestroySandbox '{}' 2>&1)
check_eq "DestroySandbox" '{"synced":true}' "$out"
for _ in $(seq 1 500); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.02; done
if kill -0 "$qpid" 2>/dev/null; then nok "QEMU exits after DestroySandbox"; else ok "QEMU exits after DestroySandbox"; qpid=; fi

echo "$pass passed, $fail failed"
if [ "$fail" -gt 0 ]; then
	echo "--- console.log (tail) ---"; tail -40 "$console"
	exit 1
fi
exit 0
