/* OCI hooks, run on the host with the container's state JSON on stdin. */
#ifndef KATA_HOOKS_H
#define KATA_HOOKS_H
#include <stddef.h>
#include <sys/types.h>
#include "common/error.h"
#include "oci_runtime_spec.h"

/* Runs HOOKS[0..N) in order; stops at the first failure (non-zero exit, killed, or
   timed out), naming KIND ("prestart", "poststop", ...) and the hook's path. */
int kata_hooks_run (const char *kind, runtime_spec_schema_defs_hook **hooks, size_t n, const char *state_json,
                    kata_error_t **err);

/* A process that lives in the network namespace NETNS_PATH (NULL: ours) until
   kata_hooks_holder_stop: the pid the create-time hooks get in the state,
   since the container's own process does not exist yet.  Hooks use it for
   /proc/PID/ns/net (docker's libnetwork-setkey moves the veth there), as
   Kata 1.x gave them its own thread after entering the netns. */
int kata_hooks_holder_start (const char *netns_path, pid_t *pid, kata_error_t **err);
void kata_hooks_holder_stop (pid_t pid);

/* The OCI state given to hooks: {"ociVersion","id","status","pid","bundle","annotations"}. */
char *kata_hooks_state_json (const char *oci_version, const char *id, const char *status, int pid,
                             const char *bundle, char **ann_keys, char **ann_values, size_t ann_len);

#endif
