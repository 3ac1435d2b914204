/* Pods (docs/kubernetes.md): what a container of a pod shares with the sandbox
   container inside the VM (namespaces, /dev/shm), and privileged containers' host
   devices. */
#ifndef KATA_POD_H
#define KATA_POD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"
#include "common/guest-paths.h"
#include "runtime/config.h"
#include "runtime/state.h"
#include "runtime/storage.h"
#include "oci_runtime_spec.h"

/* The guest tmpfs of a sandbox's /dev/shm, shared by its containers. */
#define KATA_POD_SHM_DEFAULT_SIZE (64ULL << 20)

/* True for the namespace types a pod container joins in the sandbox container when its
   spec gives a path for them (CRI: /proc/<pause pid>/ns/<type>): ipc, uts, pid. */
bool kata_pod_ns_shared (const char *type);

/* True when the spec gives a path for its pid namespace (shareProcessNamespace). */
bool kata_pod_pidns_path (const runtime_spec_schema_config_schema *spec);

/* A privileged container as docker, containerd's CRI and cri-o make one: the bounding
   set holds every capability up to CAP_AUDIT_READ (37) that this process's own bounding
   set holds, and there are no maskedPaths and no readonlyPaths.  (containerd and docker
   give a privileged container the capabilities they have themselves: where they run
   without one, as in a container without CAP_SYS_RESOURCE, so does the spec.) */
bool kata_pod_privileged (const runtime_spec_schema_config_schema *spec);

/* Pure: the same test against HOST_CAPS, the capabilities (bit N: capability N) a
   privileged spec must hold. */
bool kata_pod_privileged_caps (const runtime_spec_schema_config_schema *spec, uint64_t host_caps);

/* The capabilities up to CAP_AUDIT_READ in this process's bounding set (PR_CAPBSET_READ). */
uint64_t kata_pod_host_caps (void);

/* privileged_without_host_devices (default true): drops every linux.devices entry of a
   privileged container, so no host device is hot-plugged or created.  Returns how many. */
size_t kata_pod_drop_host_devices (const kata_config_t *cfg, runtime_spec_schema_config_schema *spec);

/* Pure: the size in bytes of a sandbox's shm from its /dev/shm mount: its "size=" option
   (tmpfs syntax: k, m, g suffixes), else HOST_TMPFS_SIZE (the source's tmpfs size, 0 if
   not a tmpfs), else KATA_POD_SHM_DEFAULT_SIZE. */
uint64_t kata_pod_shm_size (char *const *options, size_t n, uint64_t host_tmpfs_size);

/* /dev/shm of a pod: a new sandbox whose /dev/shm is a bind of a host path gets a guest
   tmpfs (an "ephemeral" storage at KATA_GUEST_SANDBOX_SHM) instead, and the host path
   is recorded in the sandbox state dir (ROOT/sbs/SID/pod-shm, by kata_pod_shm_record once
   that dir exists); a pod container whose /dev/shm is a bind of that same host path gets
   the sandbox's tmpfs.  Rewrites the PLAN entry in place. */
int kata_pod_shm (const char *root, const char *sid, bool new_sandbox,
                  const runtime_spec_schema_config_schema *spec, kata_bind_plan_t *plan, size_t nplan,
                  kata_error_t **err);
int kata_pod_shm_record (const char *root, const char *sid, const kata_bind_plan_t *plan, size_t nplan,
                         kata_error_t **err);

/* The VM's size for a pod whose CRI server says how big it is (containerd's
   io.kubernetes.cri.sandbox-memory, -cpu-quota, -cpu-period annotations on the sandbox's
   spec): as Kata's static sizing, the pod's memory on top of default_memory (*MEM =
   default_memory MiB + the annotation's bytes) and its CPUs on top of default_vcpus
   (*QUOTA and *PERIOD such that ceil(quota/period) = default_vcpus + ceil(pod quota/pod
   period)).  Leaves MEM, QUOTA, PERIOD alone without the annotations. */
/* Pod sizing by hot-plug (Kata 1.x's): a container with a memory limit that joins
   sandbox SB takes the limit rounded up to 128 MiB from the pod's hot-plugged memory
   that containers which left freed, and grows the VM by the rest (MonitorHotplugMemory: a
   pc-dimm on q35), adds it to SB's memory_mb (saved) and raises the sandbox's host
   cgroup limit when it has one.  Nothing when the pod was sized at boot from
   io.kubernetes.cri.sandbox-memory, or when the VM cannot grow (microvm, a template
   clone, memory_slots = 0).  A refused hot-plug (no free slot, QEMU's error) fails. */
int kata_pod_hotplug_memory (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb,
                             const char *cid, const runtime_spec_schema_config_schema *spec,
                             kata_error_t **err);

/* Grows sandbox SB's VM by SIZE_MB (a multiple of 128) for container CID: a pc-dimm
   (MonitorHotplugMemory), SB's memory_mb (saved), the sandbox's host cgroup limit when
   it has one.  A VM that cannot grow (no memory slot left, microvm, template clone)
   keeps its size and this returns 0 without change to SB: the caller compares
   SB->memory_mb.  The caller holds the sandbox's lock. */
int kata_pod_grow_memory (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb,
                          const char *cid, int64_t size_mb, kata_error_t **err);
/* update of container CID's memory LIMIT (bytes) past the VM's memory: the VM grows by
   the difference (rounded up to 128 MiB), which CID then holds in the pod's account
   (freed for others when it leaves).  Nothing when the VM holds LIMIT already or cannot
   grow (SB->memory_mb unchanged).  The caller holds the sandbox's lock. */
int kata_pod_update_memory (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb,
                            const char *cid, int64_t limit, kata_error_t **err);
void kata_pod_sandbox_limits (const kata_config_t *cfg, const runtime_spec_schema_config_schema *spec,
                              int64_t *mem, int64_t *quota, int64_t *period);

/* Pure: the vCPUs a CPU limit asks for, as Kata counts them: ceil(QUOTA / PERIOD)
   (PERIOD <= 0: 100000 us), 0 without a quota, at most 1024. */
int kata_pod_cpu_count (int64_t quota, int64_t period);
/* Pure: the vCPUs to hot-plug for a container that wants WANT when the pod has PLUGGED
   of which HELD are taken by its containers (the rest, freed by containers that left,
   are reused first). */
int kata_pod_cpu_to_plug (int64_t plugged, int64_t held, int want);
/* vCPU hot-plug (docs/kubernetes.md "vCPUs"): a container with a CPU quota that joins
   sandbox SB takes kata_pod_cpu_count vCPUs from those the pod's containers freed, and
   the VM grows by the rest (MonitorHotplugCpu on q35, then the agent's OnlineCpus);
   SB->vcpus (saved) and the sandbox's host cgroup CPU quota (when it has one) follow.
   Nothing when the pod was sized at boot (io.kubernetes.cri.sandbox-cpu-quota), on
   microvm, or when -smp's maxcpus has no free slot left (the VM keeps its size). */
int kata_pod_hotplug_cpu (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb,
                          const char *cid, const runtime_spec_schema_config_schema *spec, kata_error_t **err);
/* update of container CID's CPU quota past the VM's vCPUs: the VM grows to
   kata_pod_cpu_count (QUOTA, PERIOD) vCPUs when it can (SB->vcpus tells).  The caller
   holds the sandbox's lock. */
int kata_pod_update_cpu (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb,
                         const char *cid, int64_t quota, int64_t period, kata_error_t **err);

#endif
