/* Shared by container.c (create, start, state, run) and container-delete.c
   (kill, delete, clean-up). */
#ifndef KATA_CONTAINER_INTERNAL_H
#define KATA_CONTAINER_INTERNAL_H
#include "runtime/state.h"

/* Runs the hooks of KIND stored in the container's state, with STATUS and PID in
   the state JSON; failures are logged (poststart, poststop). */
void kata_ctr_run_stored_hooks (const kata_container_state_t *c, const char *kind, const char *status,
                                int pid);
/* Unplugs the drives listed in the container's state dir, last first. */
/* Unmounts what the container bound into the sandbox's shared dir. */
void kata_ctr_unbind_mounts (const char *root, const kata_container_state_t *c);

#endif
