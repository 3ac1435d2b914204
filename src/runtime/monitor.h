/* The sandbox monitor: one detached process per sandbox that owns QEMU (and
   virtiofsd) and the agent channel, and multiplexes clients over
   <root>/sbs/<sid>/monitor.sock.  Protocol: docs/agent-protocol.md. */
#ifndef KATA_MONITOR_H
#define KATA_MONITOR_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "common/error.h"
#include "runtime/config.h"

/* A NIC for the VM: a tap device that already exists in netns_path (vhost=off). */
typedef struct kata_vm_nic_s
{
  const char *tap; /* interface name inside netns_path */
  const char *mac; /* the guest NIC's MAC ("aa:bb:.."), usually the veth's; NULL = QEMU's default */
} kata_vm_nic_t;

typedef struct kata_sandbox_spec_s
{
  const char *root; /* state root (/run/vc or --root) */
  const char *sandbox_id;
  const kata_config_t *cfg;
  int vcpus; /* already sized from the spec (or cfg defaults) */
  int memory_mb;
  const char *hostname;   /* for CreateSandbox */
  const char *netns_path; /* network namespace whose interfaces are wired to the VM; NULL = none */
  const char
      *cgroup_path; /* host cgroup (absolute dir of one hierarchy) QEMU and the monitor join; NULL = none */
  const char *block_rootfs; /* a block device to attach at boot as the sandbox rootfs (microvm), or NULL */
  bool debug;
  /* NICs given to QEMU (optional, zero = none). */
  const kata_vm_nic_t *nics;
  size_t nics_len;
} kata_sandbox_spec_t;

typedef struct kata_monitor_info_s
{
  pid_t monitor_pid;
  unsigned long long monitor_start;
  pid_t qemu_pid;
  unsigned long long qemu_start;
  pid_t virtiofsd_pid; /* 0 when not used */
  unsigned long long virtiofsd_start;
} kata_monitor_info_t;

/* Creates <root>/vm/<sid> and <root>/shared/<sid> (the shared dir QEMU exports as
   mount tag "kataShared"), starts the detached monitor, which starts QEMU,
   connects the agent, sends Hello and CreateSandbox (mounting the shared dir at
   /run/kata-containers/shared/containers), and then serves monitor.sock.
   Returns once the sandbox is ready, or fails with the cause (including the last
   lines of console.log) after cleaning up everything it started.
   The caller must have created <root>/sbs/<sid>/. */
int kata_monitor_start (const kata_sandbox_spec_t *spec, kata_monitor_info_t *info, kata_error_t **err);

/* Kills the monitor, QEMU and virtiofsd given by INFO (pid + start time checked),
   waits for them to go, and removes <root>/vm/<sid>.  Never fails on "already gone". */
int kata_monitor_kill (const char *root, const char *sandbox_id, const kata_monitor_info_t *info,
                       kata_error_t **err);

/* True when the monitor and QEMU are both alive. */
bool kata_monitor_alive (const kata_monitor_info_t *info);

/* Helpers shared by the monitor, the shim and the caller. */
/* Removes <root>/sbs/<sid>/monitor.sock and <root>/vm/<sid> (only its sockets with KEEP_CONSOLE),
   and <root>/shared/<sid> when it is empty. */
void kata_monitor_cleanup_dirs (const char *root, const char *sandbox_id, bool keep_console);
/* Writes PID to CGROUP_PATH/cgroup.procs. */
int kata_join_cgroup (const char *cgroup_path, pid_t pid, kata_error_t **err);

/* The monitor's arguments for SPEC as JSON (malloc'd): what the VM cache hands a standby monitor. */
char *kata_monitor_args_json (const kata_sandbox_spec_t *spec);

/* Entry of the hidden subcommand `kata-runtime __monitor ...`. */
int kata_monitor_main (int argc, char **argv);

#endif
