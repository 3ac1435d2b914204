/* configuration.toml: Kata's [hypervisor.qemu], [agent.kata], [runtime] and
   [factory] sections, loaded into one struct.  */
#ifndef KATA_RUNTIME_CONFIG_H
#define KATA_RUNTIME_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"

/* Environment variable naming the configuration file (search step 2). */
#define KATA_CONFIG_ENV "KATA_CONF_FILE"

/* Largest configuration file accepted. */
#define KATA_CONFIG_MAX_SIZE (1024 * 1024)

/* QEMU's -sandbox default (hypervisor.qemu.seccompsandbox). */
#define KATA_QEMU_SANDBOX_DEFAULT "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

/* Every string field below is never NULL after kata_config_load or
   kata_config_default (it may be ""), except path.  */
typedef struct kata_config_s
{
  char *path; /* the file loaded, or NULL when built-in defaults */
  struct
  {
    char *path;                    /* qemu binary: /usr/bin/qemu-system-x86_64 */
    char *kernel;                  /* /usr/share/kata-containers/vmlinuz.container */
    char *initrd;                  /* /usr/share/kata-containers/kata-containers-initrd.img */
    char *image;                   /* "" (default); a disk image with systemd as init
                                      (docs/guest.md); exclusive with initrd: setting it
                                      in the file clears the default initrd */
    bool disable_image_nvdimm;     /* true: the image is a read-only virtio-blk disk */
    char *machine_type;            /* "q35" (default) or "microvm" */
    char *accel;                   /* "auto" (default) | "kvm" | "tcg" */
    char *kernel_params;           /* extra params, default "" */
    char *memory_backend;          /* guest RAM: "memfd" (default: shared memfd, no THP) | "ram" */
    char *firmware;                /* q35 firmware: "" = qboot when installed (else SeaBIOS),
                                      "seabios" = QEMU's default, or a path for -bios */
    int default_vcpus;             /* 1 */
    int default_maxvcpus;          /* 0 = host cpus */
    int default_memory;            /* MiB, 256 */
    int memory_slots;              /* 10 */
    char *shared_fs;               /* "virtio-9p" (default) | "virtio-fs" */
    char *virtio_fs_daemon;        /* /usr/lib/qemu/virtiofsd */
    char *virtio_fs_cache;         /* "auto" (also "none", "always") */
    int msize_9p;                  /* 524288 */
    char *cache_9p;                /* "none" (also "mmap", "loose"): the 9p mounts' cache= */
    char *block_device_driver;     /* "virtio-blk" */
    bool disable_block_device_use; /* false */
    bool enable_debug;             /* false */
    int boot_timeout;              /* seconds to wait for the agent, default 60 */
    char *tb_size;                 /* TCG translation-block cache in MiB, as a decimal
                                      string; default "16" ("0" = QEMU's default).  Never NULL. */
    char *seccompsandbox;          /* QEMU -sandbox value ("" = none); default
                                      "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny" */
    /* true: prctl (PR_SET_THP_DISABLE) before QEMU's exec; default false */
    bool disable_transparent_hugepages;
  } hypervisor;
  struct
  {
    bool debug;
    char **kernel_modules; /* NULL-terminated too; kernel_modules_len entries */
    size_t kernel_modules_len;
  } agent;
  struct
  {
    char *internetworking_model; /* "tcfilter" (default) | "macvtap" | "none" */
    bool disable_new_netns;
    bool sandbox_cgroup_only;
    bool enable_debug;
    int host_cgroup_overhead_mb; /* default 64 */
    /* default true: a privileged container gets no host devices (docs/kubernetes.md) */
    bool privileged_without_host_devices;
    /* default true: a Kubernetes emptyDir on disk is the host directory shared over the
       shared dir; false: a "local" directory in the guest (Kata's default; docs/storage.md) */
    bool disable_guest_empty_dir;
  } runtime;
  struct
  {
    bool enable_template;
    char *template_path;     /* /run/vc/vm/template */
    int vm_cache_number;     /* 0 */
    char *vm_cache_endpoint; /* /var/run/kata-containers/cache.sock */
  } factory;
} kata_config_t;

/* Loads the configuration.  Search order: EXPLICIT_PATH (--kata-config) >
   $KATA_CONF_FILE > /etc/kata-containers/configuration.toml >
   KATA_DATADIR "/defaults/kata-containers/configuration.toml" >
   /usr/share/defaults/kata-containers/configuration.toml.  An explicit path or
   $KATA_CONF_FILE that does not exist is an error (ENOENT); when none of the
   others exists, the built-in defaults are returned (path NULL).
   Unknown tables/keys are reported through WARN ("file:line:col: ...") and
   ignored; WARN may be NULL.  A wrong type or invalid value is fatal, with
   err->status KATA_EBADCONFIG and a message "file:line:col: key: ...".  */
int kata_config_load (const char *explicit_path, kata_config_t **out, void (*warn) (const char *msg),
                      kata_error_t **err);

/* Parses DATA (LEN bytes) as configuration.toml, over the built-in defaults.
   FILENAME only names the source in messages; it becomes c->path.  */
int kata_config_load_data (const char *data, size_t len, const char *filename, kata_config_t **out,
                           void (*warn) (const char *msg), kata_error_t **err);

/* Picks the file to load: EXPLICIT_PATH if set (non-empty), else
   $KATA_CONF_FILE if set, else the first of DEFAULTS (NULL-terminated) that
   exists.  *FOUND is NULL when none exists.  A missing explicit or $KATA_CONF_FILE
   path is an error (ENOENT).  */
int kata_config_find (const char *explicit_path, const char *const *defaults, char **found,
                      kata_error_t **err);

/* Built-in defaults (path NULL). */
kata_config_t *kata_config_default (void);
void kata_config_free (kata_config_t *c);
static inline void
kata_config_cleanup (kata_config_t **c)
{
  kata_config_free (*c);
  *c = NULL;
}
#define cleanup_config __attribute__ ((cleanup (kata_config_cleanup)))

/* The paths searched after the explicit path and $KATA_CONF_FILE, in order,
   NULL-terminated (for --kata-show-default-config-paths).  Static storage.  */
const char **kata_config_default_paths (void);

#endif
