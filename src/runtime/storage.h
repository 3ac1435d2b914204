/* Host side of the shared filesystem: the rootfs and bind mounts of a container are
   bind-mounted under <root>/shared/<sid>/ (exported to the guest as kataShared, seen at
   KATA_GUEST_SHARED_DIR), and the spec's paths are rewritten to the guest's view. */
#ifndef KATA_STORAGE_H
#define KATA_STORAGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "common/error.h"
#include "common/guest-paths.h"

/* One OCI mount, as the planner sees it. */
typedef struct kata_mount_desc_s
{
  const char *destination;
  const char *type;
  const char *source;
  char **options;
  size_t options_len;
} kata_mount_desc_t;

/* One host bind the plan asks for. */
typedef struct kata_bind_plan_s
{
  size_t index;       /* into the spec's mounts */
  char *host_source;  /* absolute host path to bind */
  char *name;         /* <cid>-<8 hex>-<basename>: the entry under the shared dir */
  char *host_target;  /* relative to the shared dir: NAME, or NAME/<basename> for a file */
  char *guest_source; /* KATA_GUEST_SHARED_DIR/<host_target>: the rewritten mount source */
  bool is_file;
  bool readonly;
  /* The mount asks for propagation from the host (rslave/slave: CRI's HostToContainer;
     rshared/shared: Bidirectional): the host bind is made rslave, so that what is mounted
     on the host under the source later reaches the shared dir (and the guest over it);
     nothing goes back.  Otherwise it is rprivate, as the container's own mount is. */
  bool host_propagation;
  bool ephemeral;  /* a Kubernetes emptyDir on tmpfs: no host bind; an "ephemeral" storage (a tmpfs
                      made once per sandbox by the agent) at GUEST_SOURCE instead */
  bool local;      /* a Kubernetes emptyDir NOT on tmpfs (set by kata_storage_plan_local): no host
                      bind; a "local" storage (a guest directory, mode 0777, once per sandbox) at
                      GUEST_SOURCE instead */
  bool block;      /* the source is a block device on the host: hot-plugged (virtio-blk), a "blk"
                      storage mounted by the agent at GUEST_SOURCE (KATA_GUEST_BLOCK_DIR/NAME),
                      the container gets a bind from it; no host bind */
  bool host_mount; /* a block device with disable_block_device_use (kata_storage_plan_block_fallback):
                      the runtime mounts it (FSTYPE) on the shared dir's NAME, shared like a directory */
  char *fstype;    /* block: the mount's type when it names a filesystem, else NULL (detect it) */
  /* ephemeral: the tmpfs's size= in bytes (a sandbox's /dev/shm, pod.c; an emptyDir: its host tmpfs's size),
   * 0 = none */
  uint64_t shm_size;
} kata_bind_plan_t;

/* Pure: decides which mounts are shared binds (type "bind", or options with bind/rbind,
   and a host source) and computes their names.  BUNDLE resolves relative sources.
   STAT_FN (NULL = stat) tells files from directories; a source it cannot stat is an error.
   Other mounts (proc, tmpfs, ...) are not in the plan and pass through unchanged.
   IS_TMPFS (NULL = statfs) tells a Kubernetes emptyDir on tmpfs (a source with
   "kubernetes.io~empty-dir"), which becomes an ephemeral storage named after it. */
int kata_storage_plan_binds (const char *cid, const char *bundle, const kata_mount_desc_t *mounts, size_t n,
                             int (*stat_fn) (const char *, struct stat *), bool (*is_tmpfs) (const char *),
                             kata_bind_plan_t **out, size_t *nout, kata_error_t **err);
void kata_bind_plan_free (kata_bind_plan_t *p, size_t n);

/* Pure: turns the plan's block-device volumes into host mounts shared through the shared dir
   (host_target NAME, guest_source KATA_GUEST_SHARED_DIR/NAME): disable_block_device_use.
   Returns how many. */
size_t kata_storage_plan_block_fallback (kata_bind_plan_t *p, size_t n);

/* The filesystem on block device (or image) DEV from its superblock: "ext4" (ext2/3/4),
   "xfs", "btrfs", "vfat", or NULL (unknown or unreadable). */
const char *kata_storage_detect_fstype (const char *dev);

/* The host block device with MAJOR:MINOR, as Kata finds it: SYSFS/dev/block/MAJ:MIN/uevent
   DEVNAME=<name> -> /dev/<name> (SYSFS NULL = "/sys").  Malloc'ed, or NULL with ERR set. */
char *kata_storage_blockdev_path (const char *sysfs, int64_t major, int64_t minor, kata_error_t **err);
/* false when the host has no block device MAJOR:MINOR (no SYSFS/dev/block/MAJ:MIN): a
   linux.devices entry for it is made in the guest as given, not hot-plugged. */
bool kata_storage_blockdev_exists (const char *sysfs, int64_t major, int64_t minor);

/* Pure: turns the plan's host emptyDir entries (a directory source with
   "kubernetes.io~empty-dir", not ephemeral) into "local" storages at
   KATA_GUEST_LOCAL_DIR/<basename>, shared by the pod's containers.  Returns how many. */
size_t kata_storage_plan_local (kata_bind_plan_t *p, size_t n);

/* True when ROOTFS (an absolute, canonical path) is the mount point of a whole block
   device filesystem (a loop or devmapper device mounted there, root "/"): *DEVICE gets
   the device path and *FSTYPE its filesystem type (both malloc'ed). */
bool kata_storage_block_rootfs (const char *rootfs, char **device, char **fstype);

/* Bind-mounts SOURCE (a directory or a file) on TARGET (created, as a dir or an empty file)
   with libmount, recursively; READONLY remounts it read-only.  PROPAGATION (0: left as the
   bind made it, MS_REC | MS_SLAVE, MS_REC | MS_PRIVATE) is then set on TARGET. */
int kata_storage_bind (const char *source, const char *target, bool readonly, unsigned long propagation,
                       kata_error_t **err);

/* The host bind's propagation for a plan entry: MS_REC | MS_SLAVE when the mount asks for
   propagation (plan->host_propagation), else MS_REC | MS_PRIVATE. */
unsigned long kata_storage_bind_propagation (const kata_bind_plan_t *plan);

/* Unmounts TARGET (MNT_DETACH, ignoring "not mounted") and removes it (rmdir or unlink),
   then removes its parent too when PARENT_TOO (file binds live in their own directory). */
int kata_storage_unbind (const char *target, bool parent_too, kata_error_t **err);

/* Unmounts every mount under DIR (or DIR itself), deepest first, from /proc/self/mountinfo. */
int kata_storage_umount_all_under (const char *dir, kata_error_t **err);

/* True when PATH is the mount point of a mount in /proc/self/mountinfo. */
bool kata_storage_is_mountpoint (const char *path);

/* Hot-plugged drives (rootfs, block volumes, block devices) of container CID of sandbox
   SID.  A host device is hot-plugged once per sandbox (two guest disks over one device
   would have the guest mount one filesystem twice): a second claim fails with EBUSY.
   The drive is listed in CID's state dir before QEMU is asked, so a half-done plug is
   undone too; kata_storage_unplug_drives unplugs the list, last first (best effort: the
   VM may be gone). */
int kata_storage_hotplug_drive (const char *root, const char *sid, const char *cid, const char *drive,
                                const char *path, bool readonly, char **pci, kata_error_t **err);
void kata_storage_unplug_drives (const char *root, const char *sid, const char *cid);
#endif
