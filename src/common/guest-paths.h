/* Names the host and the guest agree on: where the agent puts things in the guest, the
   virtio-serial port of the agent channel, and the mount tag of the shared filesystem.
   The runtime writes them into specs and QEMU's command line; the agent uses them. */
#ifndef KATA_GUEST_PATHS_H
#define KATA_GUEST_PATHS_H

/* The virtio-serial port the agent listens on (/dev/virtio-ports/<name> in the guest). */
#define KATA_AGENT_CHANNEL_NAME "agent.channel.0"
/* Mount tag of the shared directory (9p or virtio-fs). */
#define KATA_SHARED_TAG "kataShared"

#define KATA_GUEST_RUN_DIR "/run/kata-containers"
/* The shared directory, mounted by the agent: containers' rootfs and bind mounts. */
#define KATA_GUEST_SHARED_DIR KATA_GUEST_RUN_DIR "/shared/containers"
/* Per-sandbox storage the agent makes: tmpfs volumes, local dirs, block devices, /dev/shm. */
#define KATA_GUEST_EPHEMERAL_DIR KATA_GUEST_RUN_DIR "/sandbox/ephemeral"
#define KATA_GUEST_LOCAL_DIR KATA_GUEST_RUN_DIR "/sandbox/local"
#define KATA_GUEST_BLOCK_DIR KATA_GUEST_RUN_DIR "/sandbox/storage"
#define KATA_GUEST_SANDBOX_SHM KATA_GUEST_RUN_DIR "/sandbox/shm"

#endif
