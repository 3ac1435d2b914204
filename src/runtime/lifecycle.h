/* Internals shared by the lifecycle files (container*.c, sandbox.c); pure helpers are
   exposed for the unit tests. */
#ifndef KATA_LIFECYCLE_H
#define KATA_LIFECYCLE_H
#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>
#include "common/error.h"
#include "runtime/config.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "oci_runtime_spec.h"

/* Timeouts of agent calls (TCG guests are slow). */
#define KATA_CALL_TIMEOUT_MS 120000
#define KATA_SHORT_TIMEOUT_MS 15000

typedef enum
{
  KATA_ROLE_SANDBOX = 0, /* a new VM: sandbox id = container id */
  KATA_ROLE_CONTAINER,   /* joins the sandbox named by the annotations */
} kata_pod_role_t;

/* Pure: sandbox or pod container from the CRI annotations (cri, cri-o, docker/dockershim).
 *SANDBOX_ID points into VALUES (for KATA_ROLE_CONTAINER). */
int kata_sandbox_decide (char *const *keys, char *const *values, size_t n, kata_pod_role_t *role,
                         const char **sandbox_id, kata_error_t **err);
/* Pure: the annotations name a CRI pod's sandbox container (not a plain container). */
bool kata_sandbox_is_pod (char *const *keys, char *const *values, size_t n);

/* Pure: VM size from the spec's limits.  MEM_LIMIT bytes (<= 0: unset), QUOTA/PERIOD
   (<= 0: unset).  HOST_CPUS caps the vCPUs (0: no cap). */
void kata_sandbox_size (const kata_config_t *cfg, int64_t mem_limit, int64_t quota, int64_t period,
                        int host_cpus, int *vcpus, int *memory_mb);

/* The limits kata_sandbox_size reads, from a spec's resources (R may be NULL): memory
   limit, CPU quota and period in the spec's units; 0 when unset. */
void kata_spec_limits (const runtime_spec_schema_config_linux_resources *r, int64_t *mem, int64_t *quota,
                       int64_t *period);

/* One call to the agent through the sandbox's monitor. */
int kata_lifecycle_call (const char *root, const char *sid, const char *method, const char *params,
                         yajl_val *resp, yajl_val *result, int timeout_ms, kata_error_t **err);

/* Stops the VM (MonitorShutdown, else kills the monitor/QEMU), unmounts what is left
   under the shared dir and removes shared/<sid>, vm/<sid> and sbs/<sid>.  SB may be NULL
   (broken state): processes are then found by their command lines. */
int kata_sandbox_destroy (const char *root, const char *sid, const kata_sandbox_state_t *sb,
                          kata_error_t **err);

/* Kills PID (only when START matches) with SIGKILL and waits up to TIMEOUT_MS for it to go. */
void kata_kill_wait (pid_t pid, unsigned long long start, int timeout_ms);

/* Lookup of a container: mapping -> sid, container.json, sandbox.json (may be NULL). */
int kata_container_lookup (kata_context_t *ctx, const char *id, char **sid, kata_container_state_t **c,
                           kata_sandbox_state_t **sb, kata_error_t **err);

/* Host cgroups (cgroup-host.c): creates CGROUPS_PATH (the spec's linux.cgroupsPath;
   NULL/"" = none) in every hierarchy, recording the dirs in C; --systemd-cgroup without
   systemd is an error, as in runc. */
int kata_host_cgroup_create (kata_context_t *ctx, const char *cgroups_path, kata_container_state_t *c,
                             kata_error_t **err);
/* Moves PID (the whole process) into C's cgroup in every hierarchy (best effort). */
void kata_host_cgroup_join (const kata_container_state_t *c, pid_t pid);
/* The memory cgroup directory (v1 memory hierarchy, or v2 with memory.max) that create
   made for C, or NULL: where the shim makes a guest OOM kill visible (shim.c). */
const char *kata_host_cgroup_memory_dir (const kata_container_state_t *c);
/* Removes the cgroup dirs that create made (the processes must be gone; thaws first). */
void kata_host_cgroup_remove (const kata_container_state_t *c);
/* Thaws C's host cgroup where someone froze it (delete: frozen processes cannot die). */
void kata_host_cgroup_thaw (const kata_container_state_t *c);

/* Random hex string of 2*BYTES characters. */
char *kata_random_hex (size_t bytes);

/* container-ops.c: waits for a foreground shim, forwarding signals; shell-style status. */
int kata_wait_forwarding (pid_t pid);

#endif
