/* Hot-plugged block devices in the guest (src/agent/storage.c), for the storages and for
   the linux.devices of a container (src/agent/container.c). */
#ifndef KATA_AGENT_STORAGE_BLK_H
#define KATA_AGENT_STORAGE_BLK_H
#include "common/error.h"

/* Waits (up to 10 s) for the disk at SOURCE ("10/00": root port slot / device, or a
   /dev path) and returns its /dev path (malloc'ed), or NULL with ERR set. */
char *agent_wait_block_device (const char *source, kata_error_t **err);

#endif
