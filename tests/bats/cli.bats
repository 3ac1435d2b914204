#!/usr/bin/env bats
# The command line itself: global flags, verbs, help, version.  No VM needed.

load helpers
# Sandboxes boot cold, not from the run's VM template (docs/factory.md "Tests"):
# it checks the messages of a disabled factory, and hardly any sandbox starts.

function setup() {
	setup_root
}

function teardown() {
	teardown_bundle
}

@test "--version prints version, commit and spec like runc" {
	kata_runtime_noroot --version
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "kata-runtime version 0.1.0" ]
	[[ "${lines[1]}" =~ ^commit:\ ([0-9a-f]{7,40}|unknown)$ ]]
	[ "${lines[2]}" = "spec: 1.2.0" ]
}

@test "-v and version print the same as --version" {
	local want
	want="$("$KATA_RUNTIME" --version)"
	kata_runtime_noroot -v
	[ "$status" -eq 0 ]
	[ "$output" = "$want" ]
	kata_runtime version
	[ "$status" -eq 0 ]
	[ "$output" = "$want" ]
}

@test "--version reports the commit the tree was configured from" {
	local top commit
	top="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
	[ -f "$top/config.h" ] || skip "not a configured build tree"
	[ "$KATA_RUNTIME" = "$top/kata-runtime" ] || skip "testing an installed binary"
	commit="$(sed -n 's/^#define GIT_COMMIT "\(.*\)"$/\1/p' "$top/config.h")"
	[ -n "$commit" ]
	kata_runtime_noroot --version
	[ "${lines[1]}" = "commit: $commit" ]
}

@test "--help and -h list every verb" {
	local verb
	for flag in --help -h; do
		kata_runtime_noroot "$flag"
		[ "$status" -eq 0 ]
		for verb in create start run kill delete state list ps exec pause resume events update spec \
			features kata-check kata-env factory version; do
			echo "$output" | grep -qE "^   $verb +" || fail "$flag does not list $verb"
		done
		[[ "$output" != *"__monitor"* ]]
		[[ "$output" != *"__shim"* ]]
	done
}

@test "no verb prints the help" {
	kata_runtime_noroot
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" = "NAME:" ]]
}

@test "unknown verb fails like runc: No help topic" {
	kata_runtime frobnicate
	[ "$status" -eq 1 ]
	[ "$output" = "No help topic for 'frobnicate'" ]
	kata_runtime help frobnicate
	[ "$status" -eq 1 ]
	[ "$output" = "No help topic for 'frobnicate'" ]
}

@test "every verb has --help" {
	local verb
	for verb in create start run kill delete state list ps exec pause resume events update spec features \
		kata-check kata-env factory version; do
		kata_runtime "$verb" --help
		[ "$status" -eq 0 ] || fail "$verb --help: status $status"
		[[ "${lines[0]}" == "Usage: kata-runtime $verb "* ]] || fail "$verb --help: ${lines[0]}"
		kata_runtime help "$verb"
		[ "$status" -eq 0 ]
		[[ "${lines[0]}" == "Usage: kata-runtime $verb "* ]]
	done
}

@test "-h works for verbs like runc's" {
	kata_runtime state -h
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Usage: kata-runtime state [OPTION...] <container-id>" ]
	kata_runtime exec -h
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Usage: kata-runtime exec [OPTION...] <container-id> <command>"* ]]
}

@test "ps: ps options are accepted (given to ps), json ignores them" {
	kata_runtime ps nosuch -ef
	[ "$status" -eq 1 ]
	[ "$output" = "container does not exist" ]
	kata_runtime ps -f json nosuch -ef
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	kata_runtime ps -f yaml nosuch
	[ "$status" -eq 1 ]
}

@test "verb flags are runc's" {
	kata_runtime create --help
	for f in --bundle --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds; do
		[[ "$output" == *"$f"* ]] || fail "create lacks $f"
	done
	kata_runtime run --help
	for f in --bundle --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds --detach; do
		[[ "$output" == *"$f"* ]] || fail "run lacks $f"
	done
	kata_runtime exec --help
	for f in --process --detach --pid-file --console-socket --tty --cwd --env --user --additional-gids \
		--cap --no-new-privs --preserve-fds --ignore-paused --process-label --apparmor; do
		[[ "$output" == *"$f"* ]] || fail "exec lacks $f"
	done
	kata_runtime update --help
	for f in --resources --memory --memory-swap --memory-reservation --kernel-memory --cpu-share \
		--cpu-quota --cpu-period --cpuset-cpus --cpuset-mems --pids-limit --blkio-weight; do
		[[ "$output" == *"$f"* ]] || fail "update lacks $f"
	done
}

@test "unknown flag of a verb fails with status 1" {
	kata_runtime state --bogus foo
	[ "$status" -eq 1 ]
	[[ "$output" == *"unrecognized option '--bogus'"* ]]
}

@test "global flags: --flag value and --flag=value, runc's accepted flags" {
	kata_runtime_noroot --root="$ROOT" list -q
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	kata_runtime --criu /usr/sbin/criu --systemd-cgroup --rootless false list -q
	[ "$status" -eq 0 ]
	kata_runtime --rootless=true list -q
	[ "$status" -eq 0 ]
	kata_runtime --rootless auto --log-format=text list -q
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "global flags: invalid --rootless and --log-format values fail" {
	kata_runtime --rootless maybe list
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid --rootless argument \"maybe\""* ]]
	kata_runtime --log-format xml list
	[ "$status" -eq 1 ]
	[ "$output" = 'unknown log-format "xml"' ]
	kata_runtime --root
	[ "$status" -eq 1 ]
}

@test "--kata-show-default-config-paths prints the search list" {
	kata_runtime_noroot --kata-show-default-config-paths
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/etc/kata-containers/configuration.toml" ]
	[ "${lines[-1]}" = "/usr/share/defaults/kata-containers/configuration.toml" ]
	for l in "${lines[@]}"; do
		[[ "$l" == /*configuration.toml ]]
	done
}

@test "list on an empty root: runc's header, null in json, nothing with -q" {
	kata_runtime list
	[ "$status" -eq 0 ]
	[ "$output" = "ID          PID         STATUS      BUNDLE      CREATED     OWNER" ]
	kata_runtime list --format json
	[ "$status" -eq 0 ]
	[ "$output" = "null" ]
	kata_runtime list -f json
	[ "$output" = "null" ]
	kata_runtime list --quiet
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	kata_runtime list --format yaml
	[ "$status" -eq 1 ]
	[ "$output" = "invalid format option" ]
}

@test "features prints the OCI features JSON" {
	requires jq
	kata_runtime features
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.ociVersionMin == "1.0.0" and .ociVersionMax == "1.2.0"'
	echo "$output" | jq -e '.hooks | index("createRuntime") != null and index("poststop") != null'
	echo "$output" | jq -e '.mountOptions | index("rbind") != null'
	echo "$output" | jq -e '.linux.namespaces | index("mount") != null and index("pid") != null'
	echo "$output" | jq -e '.linux.capabilities | index("CAP_SYS_ADMIN") != null'
	echo "$output" | jq -e '.linux.seccomp.enabled == true and (.linux.seccomp.actions | index("SCMP_ACT_ERRNO") != null)'
	echo "$output" | jq -e '.linux.seccomp.operators | index("SCMP_CMP_EQ") != null'
	echo "$output" | jq -e '.linux.seccomp.archs | index("SCMP_ARCH_X86_64") != null'
	echo "$output" | jq -e '.linux.apparmor.enabled == false and .linux.selinux.enabled == false'
	echo "$output" | jq -e '.annotations["io.katacontainers.runtime.version"] == "0.1.0"'
}

@test "factory with the factory disabled: Kata 1.x's messages, and argument errors" {
	kata_runtime factory init
	[ "$status" -eq 0 ]
	[ "$output" = "vm factory not enabled" ]
	kata_runtime factory status
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" = "vm factory not enabled" ]]
	[[ "$output" == *"cache: off (vm_cache_number = 0)"* ]]
	kata_runtime factory destroy
	[ "$status" -eq 0 ]
	[ "$output" = "vm factory destroyed" ]
	kata_runtime factory bogus
	[ "$status" -eq 1 ]
	[[ "$output" == *'unknown subcommand "bogus"'* ]]
	kata_runtime factory
	[ "$status" -eq 1 ]
	[ "$output" = 'kata-runtime: "factory" requires exactly 1 argument(s)' ]
}

@test "kata-check reports the accelerator and the reason for TCG" {
	kata_runtime kata-check
	echo "$output" | grep -E '^(PASS|INFO|FAIL): ' >/dev/null
	echo "$output" | grep -E '^(PASS|INFO): accelerator: (kvm|tcg)' >/dev/null
	if [ -d /sys/module/kvm_pvm ] || [ ! -e /dev/kvm ]; then
		echo "$output" | grep -F 'INFO: accelerator: tcg' >/dev/null
		echo "$output" | grep -F 'using TCG because' >/dev/null
	fi
	if [ -d /sys/module/kvm_pvm ]; then
		echo "$output" | grep -F 'kvm_pvm' >/dev/null
	fi
	# the host facts the network and cgroup code rely on
	echo "$output" | grep -E '^(PASS|FAIL): tun/tap: ' >/dev/null
	echo "$output" | grep -E '^(PASS|FAIL): tc: ' >/dev/null
	echo "$output" | grep -E '^(PASS|FAIL): cgroups: ' >/dev/null
	if [ -d /sys/fs/cgroup/unified ] && [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
		echo "$output" | grep -F 'PASS: cgroups: hybrid' >/dev/null
	fi
	if echo "$output" | grep -q '^FAIL: '; then
		[ "$status" -eq 1 ]
		[[ "${lines[-1]}" == "kata-check: "*" check(s) failed: this host cannot run a sandbox" ]]
	else
		[ "$status" -eq 0 ]
		[ "${lines[-1]}" = "System is capable of running Kata Containers" ]
	fi
}

@test "kata-check fails when the QEMU binary does not exist" {
	local cfg="$ROOT/bad-qemu.toml"
	printf '[hypervisor.qemu]\npath = "/nonexistent/qemu-system-x86_64"\n' >"$cfg"
	kata_runtime --kata-config "$cfg" kata-check
	[ "$status" -eq 1 ]
	echo "$output" | grep -F 'FAIL: QEMU: /nonexistent/qemu-system-x86_64' >/dev/null
}

@test "kata-env --json: config file used, resolved values, versions, host" {
	requires jq
	local cfg="$ROOT/conf.toml"
	printf '[hypervisor.qemu]\ndefault_memory = 512\n' >"$cfg"
	kata_runtime --kata-config "$cfg" kata-env --json
	[ "$status" -eq 0 ]
	echo "$output" | jq -e --arg p "$cfg" '.Runtime.Config.Path == $p and .Runtime.Config.Default == false'
	echo "$output" | jq -e '.Hypervisor.DefaultMemory == 512'
	echo "$output" | jq -e '.Runtime.Version.Semver == "0.1.0" and .Runtime.Version.OCI == "1.2.0"'
	echo "$output" | jq -e --arg r "$ROOT" '.Runtime.Root == $r'
	echo "$output" | jq -e '.Hypervisor.AccelChosen == "tcg" or .Hypervisor.AccelChosen == "kvm"'
	echo "$output" | jq -e '.Host.Architecture | length > 0'
	if [ -x /usr/bin/qemu-system-x86_64 ]; then
		echo "$output" | jq -e '.Hypervisor.Version | startswith("QEMU emulator version")'
	fi
}

@test "kata-env prints TOML by default" {
	kata_runtime kata-env
	[ "$status" -eq 0 ]
	echo "$output" | grep -Fx '[Hypervisor]' >/dev/null
	echo "$output" | grep -Fx '[Runtime.Version]' >/dev/null
	echo "$output" | grep -Fx '  Semver = "0.1.0"' >/dev/null
}

@test "--kata-config that does not exist fails" {
	kata_runtime --kata-config /nonexistent/kata.toml kata-env
	[ "$status" -eq 1 ]
	[[ "$output" == *"/nonexistent/kata.toml"* ]]
}

@test "hidden __monitor and __shim are dispatched before flag parsing" {
	run timeout 20 "$KATA_RUNTIME" __monitor
	echo "$output" >&2
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ "$output" != *"No help topic"* ]]
	run timeout 20 "$KATA_RUNTIME" __shim
	echo "$output" >&2
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ "$output" != *"No help topic"* ]]
}

@test "kill: bad signal names and numbers are rejected before any lookup" {
	for sig in SIGFOO FOO 65 -9 9x RTMIN+99; do  # 0 is valid (runc: does the container exist)
		kata_runtime kill nosuch "$sig"
		[ "$status" -eq 1 ]
		[[ "$output" == *"signal"*"$sig"* ]] || fail "kill $sig: $output"
	done
	kata_runtime kill nosuch KILL extra
	[ "$status" -eq 1 ]
	[ "$output" = 'kata-runtime: "kill" requires a maximum of 2 argument(s)' ]
}

@test "events --interval takes Go durations" {
	kata_runtime events --interval 0 nosuch
	[ "$status" -eq 1 ]
	[ "$output" = "duration interval must be greater than 0" ]
	kata_runtime events --interval 5 nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *'missing unit in duration "5"'* ]]
	kata_runtime events --interval 1m30s nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "update: sizes and numbers are checked" {
	kata_runtime update --memory 12q nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid value for memory"* ]]
	kata_runtime update --cpu-quota abc nosuch
	[ "$status" -eq 1 ]
	[ "$output" = 'invalid value "abc" for flag --cpu-quota' ]
	kata_runtime update --memory 256m --memory-swap -1 --cpu-shares 512 --pids-limit 10 nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	echo '[1]' >"$ROOT/res.json"
	kata_runtime update -r "$ROOT/res.json" nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"expected a JSON object"* ]]
}

@test "exec requires a container id; the exec's own failures exit 255 (runc)" {
	kata_runtime exec
	[ "$status" -eq 1 ]
	[ "$output" = 'kata-runtime: "exec" requires a minimum of 1 argument(s)' ]
	kata_runtime exec nosuch
	[ "$status" -eq 255 ]
	[ "$output" = "exec failed: container does not exist" ]
	kata_runtime exec nosuch ls -l --color
	[ "$status" -eq 255 ]
	[ "$output" = "exec failed: container does not exist" ]
}
