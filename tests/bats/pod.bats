#!/usr/bin/env bats
# Pods: a sandbox and app containers joining it (cri annotations), a host emptyDir
# shared by the app containers as "local" storage, deleting one app container while
# the other runs, and deleting the pod.  (Joining itself: lifecycle.bats.)

load helpers-vm

function setup() {
	requires_for_test
	setup_bundle sleep 1000
}

function teardown() {
	teardown_bundle
}

function join_pod() {
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container" | .annotations["io.kubernetes.cri.sandbox-id"] = "'"$1"'"'
}

@test "a host emptyDir is local storage shared by the pod's containers; one app container goes, the pod stays" {
	local ed
	ed="$BUNDLE/pod/volumes/kubernetes.io~empty-dir/cache"
	mkdir -p "$ed"
	[ "$(stat -f -c %T "$ed")" != tmpfs ]

	kata_runtime_detached run -d --bundle "$BUNDLE" pod1
	[ "$status" -eq 0 ]
	join_pod pod1
	update_config '.mounts += [{"destination":"/cache","type":"bind","source":"'"$ed"'","options":["rbind","rw"]}]'
	kata_runtime_detached run -d --bundle "$BUNDLE" app1
	[ "$status" -eq 0 ]
	kata_runtime_detached run -d --bundle "$BUNDLE" app2
	[ "$status" -eq 0 ]
	[ "$(jq -r '.containers | join(",")' "$ROOT/sbs/pod1/sandbox.json")" = pod1,app1,app2 ]

	# Not shared from the host: nothing of it under the shared dir.
	! grep -qF "$ed" /proc/self/mountinfo
	[ -z "$(ls "$ROOT/shared/pod1" | grep -v -e '^pod1$' -e '^app1$' -e '^app2$')" ]

	kata_runtime exec app1 sh -c 'echo from-app1 >/cache/f; stat -c %a /cache'
	[ "$status" -eq 0 ]
	[ "$output" = 777 ]
	kata_runtime exec app2 cat /cache/f
	[ "$status" -eq 0 ]
	[ "$output" = from-app1 ]
	[ ! -e "$ed/f" ]

	# One app container goes; the other and the pod keep running, the volume too.
	kata_runtime delete --force app1
	[ "$status" -eq 0 ]
	kata_runtime state app1
	[ "$status" -ne 0 ]
	[ "$(container_status app2)" = running ]
	[ "$(container_status pod1)" = running ]
	[ "$(jq -r '.containers | join(",")' "$ROOT/sbs/pod1/sandbox.json")" = pod1,app2 ]
	[ ! -e "$ROOT/sbs/pod1/app1" ]
	[ ! -e "$ROOT/shared/pod1/app1" ]
	! grep -qF "$ROOT/shared/pod1/app1" /proc/self/mountinfo
	kata_runtime exec app2 sh -c 'cat /cache/f; echo again >>/cache/f'
	[ "$status" -eq 0 ]
	[ "$output" = from-app1 ]

	# The pod goes with everything in it.
	kata_runtime delete --force pod1
	[ "$status" -eq 0 ]
	kata_runtime state app2
	[ "$status" -ne 0 ]
	kata_runtime list -q
	[ -z "$output" ]
	assert_root_clean
	assert_no_vm_process
	[ -z "$(losetup -a | grep -F "$ROOT" || true)" ]
	[ -z "$(ls -A "$ed")" ]
}
