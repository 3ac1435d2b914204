/* The hypervisor interface: what the sandbox monitor needs from a VMM.
   QEMU (qemu.c) is the implementation; unit tests bring a fake one. */
#ifndef KATA_HYPERVISOR_H
#define KATA_HYPERVISOR_H
#include <stdbool.h>
#include <sys/types.h>
#include "common/error.h"
#include "common/guest-paths.h"
#include "runtime/config.h"

struct kata_qmp_s;

/* File names inside <root>/vm/<sid>/. */
#define KATA_VM_AGENT_SOCK "agent.sock"
#define KATA_VM_QMP_SOCK "qmp.sock"
#define KATA_VM_VFSD_SOCK "vfsd.sock"
#define KATA_VM_CONSOLE_LOG "console.log"
#define KATA_VM_QEMU_LOG "qemu.log"
/* Where the agent mounts the shared dir, and its mount tag. */
/* Guest address ("<root port slot>/<device>") of block_rootfs on q35; on microvm it is /dev/vda.
   Hot-plugged disks get 10/00, 11/00, 12/00 in turn. */
#define KATA_QEMU_BOOT_DISK_PCI "13/00"

/* How the VM comes up (VM templating, see docs/factory.md "Templating"). */
enum kata_vm_boot
{
  KATA_VM_BOOT_COLD = 0,     /* boot the kernel */
  KATA_VM_BOOT_TEMPLATE = 1, /* boot with guest RAM in <template_path>/memory (shared), to be saved */
  KATA_VM_BOOT_CLONE = 2,    /* restore <template_path>/state over a private copy of that memory */
};

typedef struct kata_vm_params_s
{
  const kata_config_t *cfg;
  const char *sandbox_id;
  const char *vm_dir;     /* <root>/vm/<sid>: sockets and console.log */
  const char *shared_dir; /* <root>/shared/<sid> */
  int vcpus;
  int memory_mb;
  const char *netns_path;   /* QEMU (only) enters it before exec; NULL = none */
  const char *block_rootfs; /* block device attached at boot (virtio-blk, id "rootfs"), or NULL */
  bool debug;
  const char *const *nic_taps; /* taps in netns_path, given as virtio-net NICs */
  const char *const *nic_macs; /* their guest MACs (entries may be NULL) */
  size_t nics_len;
  int boot_mode;             /* enum kata_vm_boot */
  const char *template_path; /* with KATA_VM_BOOT_TEMPLATE / _CLONE */
  /* A VM booted ahead of its sandbox (a cached VM): its agent prepares what containers
     need before it says ready (agent.warm=1; a template's agent always does). */
  bool warm;
} kata_vm_params_t;

/* The image guest (configuration.toml hypervisor.qemu.image, docs/guest.md): checks that
   PATH is a disk image to boot from, i.e. readable, with an MBR ("dos") partition table
   whose first partition is in use (as tools/osbuilder/build-image.sh writes it).
   *DISK_ID gets the MBR disk identifier: the guest mounts root=PARTUUID=<id>-01. */
int kata_guest_image_probe (const char *path, unsigned *disk_id, kata_error_t **err);

typedef struct kata_vm_s
{
  pid_t pid; /* QEMU, a child of the caller */
  unsigned long long start;
  pid_t vfsd_pid; /* virtiofsd, 0 when not used */
  unsigned long long vfsd_start;
  char *vm_dir;
  char *accel; /* "tcg" or "kvm" */
  void *priv;  /* implementation data (QMP connection, ...) */
} kata_vm_t;

struct hypervisor_ops
{
  const char *name;
  /* Starts the VM (and its helpers) as children of the caller. */
  int (*start) (const kata_vm_params_t *p, kata_vm_t *vm, kata_error_t **err);
  /* Makes sure the VM is gone: QMP quit, then SIGKILL; reaps it when WAIT is true. */
  int (*stop) (kata_vm_t *vm, bool wait, kata_error_t **err);
  int (*pause) (kata_vm_t *vm, kata_error_t **err);
  int (*resume) (kata_vm_t *vm, kata_error_t **err);
  /* Hot-plugs PATH as a virtio-blk disk named ID; *ADDR gets the guest PCI
     address "<root port slot>/<device>" (e.g. "02/00") for the agent. */
  int (*hotplug_block) (kata_vm_t *vm, const char *id, const char *path, bool readonly, char **addr,
                        kata_error_t **err);
  int (*hot_unplug) (kata_vm_t *vm, const char *id, kata_error_t **err);
  /* Hot-plugs a virtio-net NIC named ID with MAC on the tap TAP_FD (handed to the
     VMM, ours stays open: close it after); *ADDR gets its guest PCI address. */
  int (*hotplug_nic) (kata_vm_t *vm, const char *id, int tap_fd, const char *mac, char **addr,
                      kata_error_t **err);
  /* Hot-plugs SIZE_MB of RAM as a DIMM named ID (SHARED: memfd, for virtio-fs);
     KATA_ENOTIMPL when the VM cannot grow. */
  int (*hotplug_memory) (kata_vm_t *vm, const char *id, int size_mb, bool shared, kata_error_t **err);
  /* The VM's QMP connection (kept open by the implementation), for verbs that speak
     QMP themselves (monitor-cpu.c); NULL when the VMM has none. */
  int (*qmp) (kata_vm_t *vm, struct kata_qmp_s **q, kata_error_t **err);
  /* Releases what start() allocated (not the processes). */
  void (*release) (kata_vm_t *vm);
};

extern const struct hypervisor_ops kata_qemu_ops;

/* Unit tests set this to a fake implementation; kata_hypervisor_get then returns it. */
extern const struct hypervisor_ops *kata_hypervisor_override;

/* The implementation for a name ("qemu"); NULL when unknown. */
const struct hypervisor_ops *kata_hypervisor_get (const char *name);

/* Resolves accel = "auto" | "kvm" | "tcg" to "kvm" or "tcg".  *REASON (may be NULL)
   gets a sentence saying why (malloc'd).  "kvm" where KVM cannot run guests is an error. */
int kata_hypervisor_choose_accel (const char *accel, const char **chosen, char **reason, kata_error_t **err);

/* Builds QEMU's argv (NULL-terminated, malloc'd strings) for P with ACCEL ("kvm"/"tcg").
   Exposed for tests and `kata-check`. */
int kata_qemu_build_argv (const kata_vm_params_t *p, const char *accel, char ***argv, kata_error_t **err);

/* Guest RAM (boot and hot-plugged) comes from a shared memfd: virtio-fs needs it, and
   `memory_backend = "memfd"` asks for it (shmem gets no transparent huge pages, so an idle
   guest's untouched RAM is not brought in 2 MiB at a time). */
bool kata_qemu_memfd (const kata_config_t *cfg);

/* Debian's QEMU ships qboot, a minimal firmware that boots a PVH kernel. */
#define KATA_QBOOT_PATH "/usr/share/qemu/qboot.rom"

/* The firmware QEMU gets with -bios: NULL for QEMU's default (SeaBIOS; always on
   microvm).  On q35, `firmware = ""` means qboot when it is installed. */
const char *kata_qemu_firmware (const kata_config_t *cfg);

/* The kernel QEMU boots: the uncompressed PVH vmlinux next to the configured
   vmlinuz on microvm and with qboot (no decompression under TCG), else the
   configured one.  Freed by the caller. */
char *kata_qemu_kernel (const kata_config_t *cfg);

/* Host TSC frequency in kHz (0 when unknown). */
unsigned long kata_host_tsc_khz (void);

/* virtiofsd (virtiofsd.c): starts the daemon for SHARED_DIR on SOCK_PATH, as a child;
   returns once the socket exists. */
int kata_virtiofsd_start (const kata_config_t *cfg, const char *shared_dir, const char *sock_path, pid_t *pid,
                          kata_error_t **err);

/* VM templating (qemu.c).  The template lives in cfg->factory.template_path (a tmpfs is
   mounted there when it is not one already): memory, state, template.json. */
/* Boots a template VM, waits for the agent, saves it and stops it. */
int kata_vm_template_create (const kata_config_t *cfg, kata_error_t **err);
/* True when a complete template exists; *VCPUS / *MEMORY_MB (may be NULL) get its size. */
bool kata_vm_template_ready (const kata_config_t *cfg, int *vcpus, int *memory_mb);
/* NULL when sandboxes of CFG can clone the template (it was made for the same machine,
   QEMU, firmware, kernel, initrd or image and kernel command line), else why not
   (malloc'd).  A clone would otherwise restore another guest than CFG's. */
char *kata_vm_template_mismatch (const kata_config_t *cfg);
/* Removes the template (and unmounts the tmpfs we mounted).  Fine when there is none. */
int kata_vm_template_destroy (const kata_config_t *cfg, kata_error_t **err);

#endif
