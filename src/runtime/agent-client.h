/* The host side of the agent protocol, typed: one function per agent or monitor verb
   that the runtime calls (docs/agent-protocol.md lists them).  The request bodies are
   built here, with the JSON generator, and nowhere else; callers never name a method.

   The kata_agent_* / kata_monitor_* calls each open a connection to the sandbox's
   monitor (<root>/sbs/<sid>/monitor.sock), send one request and wait up to TIMEOUT_MS
   for its answer; errors are wrapped with the verb's name.  The kata_req_* builders
   return a malloc'd body for callers that keep their own connection (the shim,
   `events`), with the method names below. */
#ifndef KATA_AGENT_CLIENT_H
#define KATA_AGENT_CLIENT_H
#include <stdbool.h>
#include <stdint.h>
#include "common/error.h"

/* Method names, for kata_client_call on a connection of the caller's own. */
#define KATA_M_WAIT_PROCESS "WaitProcess"
#define KATA_M_SIGNAL_PROCESS "SignalProcess"
#define KATA_M_TTY_WIN_RESIZE "TtyWinResize"
#define KATA_M_STATS_CONTAINER "StatsContainer"
#define KATA_M_MONITOR_ATTACH "MonitorAttach"
#define KATA_M_MONITOR_SHUTDOWN "MonitorShutdown"

/* {"container_id":CID} */
char *kata_req_container (const char *cid);
/* {"container_id":CID,"exec_id":EXEC_ID} (EXEC_ID NULL: "", the container's init) */
char *kata_req_process (const char *cid, const char *exec_id);
char *kata_req_signal (const char *cid, const char *exec_id, int signum, bool all);
char *kata_req_winsize (const char *cid, const char *exec_id, unsigned rows, unsigned cols);
char *kata_req_attach (uint32_t stream);

/* ---- the agent's verbs ---- */

/* PARAMS: the CreateContainer body (built by the caller's generator: spec, storages,
   devices).  *STREAM gets the init process's stream. */
int kata_agent_create_container (const char *root, const char *sid, const char *cid, const char *params,
                                 uint32_t *stream, int timeout_ms, kata_error_t **err);
int kata_agent_start_container (const char *root, const char *sid, const char *cid, int timeout_ms,
                                kata_error_t **err);
/* PROCESS: the OCI process object (JSON).  *STREAM gets the exec's stream. */
int kata_agent_exec_process (const char *root, const char *sid, const char *cid, const char *exec_id,
                             bool ignore_paused, const char *process, uint32_t *stream, int timeout_ms,
                             kata_error_t **err);
int kata_agent_signal_process (const char *root, const char *sid, const char *cid, const char *exec_id,
                               int signum, bool all, int timeout_ms, kata_error_t **err);
/* GRACE_S: how long the agent waits for the container's processes to go. */
int kata_agent_remove_container (const char *root, const char *sid, const char *cid, int grace_s,
                                 int timeout_ms, kata_error_t **err);
int kata_agent_pause_container (const char *root, const char *sid, const char *cid, bool pause,
                                int timeout_ms, kata_error_t **err);
/* RESOURCES: the OCI linux.resources object (JSON). */
int kata_agent_update_container (const char *root, const char *sid, const char *cid, const char *resources,
                                 int timeout_ms, kata_error_t **err);
/* IFACE / ROUTES: the bodies network.c builds from the netns scan. */
int kata_agent_update_interface (const char *root, const char *sid, const char *iface, int timeout_ms,
                                 kata_error_t **err);
int kata_agent_update_routes (const char *root, const char *sid, const char *routes, int timeout_ms,
                              kata_error_t **err);
/* The guest's DNS relay listens on ADDRESS:53 (docs/network.md "DNS"). */
int kata_agent_set_dns_relay (const char *root, const char *sid, const char *address, int timeout_ms,
                              kata_error_t **err);
/* OnlineCpus: the guest onlines its hot-plugged vCPUs, waiting up to WAIT_MS for VCPUS
   of them to be online; *ONLINE (may be NULL) gets how many are. */
int kata_agent_online_cpus (const char *root, const char *sid, int vcpus, int wait_ms, int *online,
                            int timeout_ms, kata_error_t **err);

/* ---- the monitor's verbs ---- */

int kata_monitor_shutdown (const char *root, const char *sid, int timeout_ms, kata_error_t **err);
/* Hot-plugs the block device PATH as drive ID; *PCI gets its guest PCI address. */
int kata_monitor_hotplug_block (const char *root, const char *sid, const char *id, const char *path,
                                bool readonly, char **pci, int timeout_ms, kata_error_t **err);
int kata_monitor_hot_unplug (const char *root, const char *sid, const char *id, int timeout_ms,
                             kata_error_t **err);
/* Hot-plugs a virtio-net NIC with MAC over host tap TAP (in the sandbox's netns), as
   device ID. */
int kata_monitor_hotplug_nic (const char *root, const char *sid, const char *id, const char *tap,
                              const char *mac, int timeout_ms, kata_error_t **err);
/* Adds a DIMM of SIZE_MB named ID. */
int kata_monitor_hotplug_memory (const char *root, const char *sid, const char *id, long long size_mb,
                                 int timeout_ms, kata_error_t **err);
/* MonitorHotplugCpu: adds up to COUNT vCPUs (q35, within -smp's maxcpus); *ADDED gets
   how many (fewer when the slots ran out).  ENOSPC when none is free, KATA_ENOTIMPL on
   microvm. */
int kata_monitor_hotplug_cpu (const char *root, const char *sid, int count, int *added, int timeout_ms,
                              kata_error_t **err);

#endif
