/* QEMU: command line, start/stop, pause/resume and block, memory and NIC hot-plug over QMP. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <dirent.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/hypervisor.h"
#include "runtime/log.h"
#include "runtime/qmp.h"

#define QEMU_ROOT_PORTS 4
/* Kernel parameter added under TCG (kernel-patches/0002): the APIC timer input clock. */
#define KATA_TCG_LAPIC_PARAM "lapic_timer_hz=1000000000"
#define QEMU_ROOT_PORT_SLOT0 0x10

typedef struct qemu_priv_s
{
  kata_qmp_t *qmp;
  bool microvm;     /* no PCIe, no hot-plug */
  bool mem_hotplug; /* started with memory slots (q35, not a template or a clone) */
  unsigned rp_used; /* bitmap of root ports with a hot-plugged device */
  char *rp_dev[QEMU_ROOT_PORTS];
} qemu_priv_t;

static int get_qmp (kata_vm_t *vm, kata_qmp_t **q, kata_error_t **err);
static int qemu_stop (kata_vm_t *vm, bool wait, kata_error_t **err);
static void qemu_release (kata_vm_t *vm);
static int qemu_restore (kata_vm_t *vm, const char *template_path, kata_error_t **err);

typedef struct strv_s
{
  char **v;
  size_t n, cap;
} strv_t;

static void
strv_add (strv_t *s, const char *x)
{
  if (s->n + 2 > s->cap)
    {
      s->cap = s->cap ? s->cap * 2 : 64;
      s->v = xrealloc (s->v, s->cap * sizeof (char *));
    }
  s->v[s->n++] = xstrdup (x);
  s->v[s->n] = NULL;
}

static void __attribute__ ((format (printf, 2, 3))) strv_addf (strv_t *s, const char *fmt, ...)
{
  va_list ap;
  char *x = NULL;
  va_start (ap, fmt);
  if (vasprintf (&x, fmt, ap) < 0)
    abort ();
  va_end (ap);
  strv_add (s, x);
  free (x);
}

/* A socket path for QEMU: absolute when it fits in sun_path, else relative to
   the VM dir (QEMU runs with the VM dir as its cwd). */
static char *
sock_path (const char *vm_dir, const char *name)
{
  char *p = xasprintf ("%s/%s", vm_dir, name);
  if (strlen (p) < sizeof (((struct sockaddr_un *)0)->sun_path) - 1)
    return p;
  free (p);
  return xstrdup (name);
}

bool
kata_qemu_memfd (const kata_config_t *cfg)
{
  return strcmp (cfg->hypervisor.shared_fs, "virtio-fs") == 0
         || (cfg->hypervisor.memory_backend && strcmp (cfg->hypervisor.memory_backend, "memfd") == 0);
}

const char *
kata_qemu_firmware (const kata_config_t *cfg)
{
  const char *fw = cfg->hypervisor.firmware ? cfg->hypervisor.firmware : "";
  if (strcmp (cfg->hypervisor.machine_type, "microvm") == 0 || strcmp (fw, "seabios") == 0)
    return NULL;
  if (*fw)
    return fw;
  return access (KATA_QBOOT_PATH, R_OK) == 0 ? KATA_QBOOT_PATH : NULL;
}

static bool
is_qboot (const char *fw)
{
  const char *base = fw ? strrchr (fw, '/') : NULL;
  base = base ? base + 1 : fw;
  return base && strncmp (base, "qboot", 5) == 0;
}

/* vmlinuz.container -> vmlinux.container, when it exists. */
static char *
pvh_kernel (const char *kernel)
{
  const char *base = strrchr (kernel, '/');
  base = base ? base + 1 : kernel;
  if (strncmp (base, "vmlinuz", 7) == 0)
    {
      char *alt = xstrdup (kernel);
      alt[base - kernel + 6] = 'x';
      if (access (alt, R_OK) == 0)
        return alt;
      free (alt);
    }
  return xstrdup (kernel);
}

char *
kata_qemu_kernel (const kata_config_t *cfg)
{
  if (strcmp (cfg->hypervisor.machine_type, "microvm") == 0 || is_qboot (kata_qemu_firmware (cfg)))
    return pvh_kernel (cfg->hypervisor.kernel);
  return xstrdup (cfg->hypervisor.kernel);
}

/* QEMU option values escape ',' by doubling it. */
static char *
qemu_escape (const char *s)
{
  size_t n = strlen (s);
  char *out = xmalloc (2 * n + 1), *o = out;
  for (; *s; s++)
    {
      *o++ = *s;
      if (*s == ',')
        *o++ = ',';
    }
  *o = '\0';
  return out;
}

/* Memory hot-plug (pods, docs/kubernetes.md): q35 with memory_slots, not for a template
   or its clones (their QEMU command line must stay the template's). */
static bool
qemu_mem_hotplug (const kata_vm_params_t *p)
{
  return strcmp (p->cfg->hypervisor.machine_type, "microvm") != 0 && p->cfg->hypervisor.memory_slots > 0
         && p->boot_mode != KATA_VM_BOOT_TEMPLATE && p->boot_mode != KATA_VM_BOOT_CLONE;
}

/* maxmem: the boot memory plus the host's RAM (as Kata), in 128 MiB blocks. */
static long long
qemu_maxmem_mb (int memory_mb)
{
  long long host = (long long)sysconf (_SC_PHYS_PAGES) * sysconf (_SC_PAGESIZE) >> 20;
  if (host < 128)
    host = 128;
  return memory_mb + host / 128 * 128;
}

/* -smp's maxcpus: vCPU hot-plug slots on q35 (docs/kubernetes.md "vCPUs"), up to
   default_maxvcpus (0: the host's CPUs), never fewer than VCPUS.  FIXED (microvm, which
   has no CPU hot-plug; a template and its clones, which must keep one command line):
   VCPUS. */
static int
qemu_maxcpus (const kata_config_t *cfg, int vcpus, bool fixed)
{
  long host = sysconf (_SC_NPROCESSORS_ONLN);
  int max = cfg->hypervisor.default_maxvcpus > 0 ? cfg->hypervisor.default_maxvcpus : (int)host;
  if (vcpus < 1)
    vcpus = 1;
  if (fixed || max < vcpus)
    return vcpus;
  return max > 255 ? 255 : max;
}

/* What the command line cannot express: an unknown machine or shared filesystem, or
   templating without 9p or a template path. */
static int
qemu_check_config (const kata_vm_params_t *p, bool tmpl, bool virtiofs, bool microvm, kata_error_t **err)
{
  const kata_config_t *cfg = p->cfg;
  if (!microvm && strcmp (cfg->hypervisor.machine_type, "q35") != 0)
    return kata_make_error_nostr (err, KATA_EBADCONFIG,
                                  "unsupported machine_type `%s` (expected q35 or microvm)",
                                  cfg->hypervisor.machine_type);
  if (tmpl && virtiofs)
    return kata_make_error_nostr (
        err, KATA_EBADCONFIG,
        "VM templating needs shared_fs = \"virtio-9p\": virtio-fs needs shared guest memory");
  if (tmpl && (p->template_path == NULL || *p->template_path == '\0'))
    return kata_make_error_nostr (err, KATA_EBADCONFIG, "VM templating needs a template_path");
  if (!virtiofs && strcmp (cfg->hypervisor.shared_fs, "virtio-9p") != 0)
    return kata_make_error_nostr (err, KATA_EBADCONFIG,
                                  "unsupported shared_fs `%s` (expected virtio-9p or virtio-fs)",
                                  cfg->hypervisor.shared_fs);
  return 0;
}

/* The guest kernel's command line (malloc'd), or NULL with ERR (a bad image). */
static char *
qemu_kernel_cmdline (const kata_config_t *cfg, bool microvm, bool warm, kata_error_t **err)
{
  char *append;
  /* no_timer_check (as Kata's qemu_amd64 defaults): a loaded TCG host can fail the
     kernel's IO-APIC timer check ("IO-APIC + timer doesn't work!" panic). */
  append
      = xasprintf ("console=ttyS0%s panic=-1 no_timer_check", cfg->hypervisor.enable_debug ? "" : " quiet");
  if (microvm)
    {
      unsigned long khz = kata_host_tsc_khz ();
      if (khz)
        {
          char *a = xasprintf ("%s tsc_early_khz=%lu", append, khz);
          free (append);
          append = a;
        }
    }
  if (cfg->agent.debug)
    {
      char *a = xasprintf ("%s agent.debug=1", append);
      free (append);
      append = a;
    }
  if (warm)
    {
      char *a = xasprintf ("%s agent.warm=1", append);
      free (append);
      append = a;
    }
  /* Image guest (docs/guest.md): a read-only disk whose first partition is the root, with
     systemd as init and the kernel parameters Kata's katautils adds for an image. */
  if (cfg->hypervisor.image && *cfg->hypervisor.image)
    {
      unsigned disk_id = 0;
      char *a;
      if (!cfg->hypervisor.disable_image_nvdimm)
        {
          free (append);
          kata_make_error_nostr (err, KATA_EBADCONFIG,
                                 "hypervisor.qemu.disable_image_nvdimm = false: the guest kernel "
                                 "has no NVDIMM support, the image is attached as virtio-blk");
          return NULL;
        }
      if (kata_guest_image_probe (cfg->hypervisor.image, &disk_id, err) < 0)
        {
          free (append);
          return NULL;
        }
      a = xasprintf ("%s root=PARTUUID=%08x-01 rootfstype=ext4 rootflags=errors=remount-ro ro "
                     "systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service "
                     "systemd.mask=systemd-networkd.socket",
                     append, disk_id);
      free (append);
      append = a;
    }
  if (cfg->hypervisor.kernel_params && *cfg->hypervisor.kernel_params)
    {
      char *a = xasprintf ("%s %s", append, cfg->hypervisor.kernel_params);
      free (append);
      append = a;
    }
  return append;
}

/* The devices: root ports (q35), rng, the agent's virtio-serial port, the shared
   filesystem, the NICs, a block-device rootfs and the image guest's disk. */
static void
qemu_devices (strv_t *sv, const kata_vm_params_t *p, bool virtiofs, bool microvm, const char *agent,
              const char *vfsd, const char *shared)
{
  const kata_config_t *cfg = p->cfg;
  const char *bus_sfx = microvm ? "device" : "pci";
  if (!microvm)
    for (int i = 0; i < QEMU_ROOT_PORTS; i++)
      {
        strv_add (sv, "-device");
        strv_addf (sv, "pcie-root-port,id=rp%d,chassis=%d,slot=%d,bus=pcie.0,addr=0x%x", i, i + 1, i + 1,
                   QEMU_ROOT_PORT_SLOT0 + i);
      }
  strv_add (sv, "-device");
  strv_addf (sv, "virtio-rng-%s", bus_sfx);
  strv_add (sv, "-device");
  strv_addf (sv, "virtio-serial-%s,id=serial0", bus_sfx);
  strv_add (sv, "-chardev");
  strv_addf (sv, "socket,id=agent,path=%s,server=on,wait=off", agent);
  strv_add (sv, "-device");
  strv_add (sv, "virtserialport,bus=serial0.0,chardev=agent,name=" KATA_AGENT_CHANNEL_NAME);
  if (virtiofs)
    {
      strv_add (sv, "-chardev");
      strv_addf (sv, "socket,id=vfs,path=%s", vfsd);
      strv_add (sv, "-device");
      strv_addf (sv, "vhost-user-fs-%s,chardev=vfs,tag=%s", bus_sfx, KATA_SHARED_TAG);
    }
  else
    {
      strv_add (sv, "-fsdev");
      /* multidevs=remap: the export spans several host filesystems (the rootfs, volumes, and what
         is mounted under a volume later: mount propagation); QEMU 7.2 (multidevs=warn) would
         pass their inode numbers as they are, which collide across devices in the guest. */
      strv_addf (sv, "local,id=fs0,path=%s,security_model=none,multidevs=remap", shared);
      strv_add (sv, "-device");
      strv_addf (sv, "virtio-9p-%s,fsdev=fs0,mount_tag=%s", bus_sfx, KATA_SHARED_TAG);
    }
  for (size_t i = 0; i < p->nics_len; i++)
    {
      cleanup_free char *tap = qemu_escape (p->nic_taps[i]);
      strv_add (sv, "-netdev");
      strv_addf (sv, "tap,id=net%zu,ifname=%s,script=no,downscript=no,vhost=off", i, tap);
      strv_add (sv, "-device");
      if (p->nic_macs && p->nic_macs[i] && *p->nic_macs[i])
        strv_addf (sv, "virtio-net-%s,netdev=net%zu,mac=%s,id=nic%zu%s", bus_sfx, i, p->nic_macs[i], i,
                   microvm ? "" : ",romfile=");
      else
        strv_addf (sv, "virtio-net-%s,netdev=net%zu,id=nic%zu%s", bus_sfx, i, i, microvm ? "" : ",romfile=");
    }
  if (p->block_rootfs)
    {
      cleanup_free char *bp = qemu_escape (p->block_rootfs);
      strv_add (sv, "-drive");
      strv_addf (sv, "file=%s,if=none,id=drive-rootfs,format=raw,cache=none,aio=threads", bp);
      strv_add (sv, "-device");
      /* q35: on the last root port, so the guest finds it at KATA_QEMU_BOOT_DISK_PCI */
      if (microvm)
        strv_add (sv, "virtio-blk-device,drive=drive-rootfs,id=rootfs");
      else
        strv_addf (sv, "virtio-blk-pci,drive=drive-rootfs,id=rootfs,bus=rp%d,addr=0", QEMU_ROOT_PORTS - 1);
    }
  if (cfg->hypervisor.image && *cfg->hypervisor.image)
    {
      /* after block_rootfs: on microvm that one stays /dev/vda; shared read-only by every VM */
      cleanup_free char *ip = qemu_escape (cfg->hypervisor.image);
      strv_add (sv, "-drive");
      strv_addf (sv, "file=%s,if=none,id=drive-image,format=raw,readonly=on,aio=threads", ip);
      strv_add (sv, "-device");
      strv_addf (sv, "virtio-blk-%s,drive=drive-image,id=image", bus_sfx);
    }
}

int
kata_qemu_build_argv (const kata_vm_params_t *p, const char *accel, char ***argv, kata_error_t **err)
{
  const kata_config_t *cfg = p->cfg;
  bool microvm = strcmp (cfg->hypervisor.machine_type, "microvm") == 0;
  bool virtiofs = strcmp (cfg->hypervisor.shared_fs, "virtio-fs") == 0;
  bool kvm = strcmp (accel, "kvm") == 0;
  bool tmpl = p->boot_mode == KATA_VM_BOOT_TEMPLATE || p->boot_mode == KATA_VM_BOOT_CLONE;
  bool memfd = !tmpl && kata_qemu_memfd (cfg);
  const char *memdev = memfd || tmpl ? ",memory-backend=mem" : "";
  long tb = strtol (cfg->hypervisor.tb_size ? cfg->hypervisor.tb_size : "0", NULL, 10);
  cleanup_free char *agent = sock_path (p->vm_dir, KATA_VM_AGENT_SOCK);
  cleanup_free char *qmp = sock_path (p->vm_dir, KATA_VM_QMP_SOCK);
  cleanup_free char *vfsd = sock_path (p->vm_dir, KATA_VM_VFSD_SOCK);
  cleanup_free char *console = NULL;
  cleanup_free char *kernel = NULL;
  cleanup_free char *shared = NULL;
  cleanup_free char *append = NULL;
  strv_t s = { 0 };

  if (qemu_check_config (p, tmpl, virtiofs, microvm, err) < 0)
    return -1;
  console = xasprintf ("%s/%s", p->vm_dir, KATA_VM_CONSOLE_LOG);
  if (strlen (console) > 200)
    {
      free (console);
      console = xstrdup (KATA_VM_CONSOLE_LOG);
    }
  kernel = kata_qemu_kernel (cfg);
  shared = qemu_escape (p->shared_dir);

  strv_add (&s, cfg->hypervisor.path);
  strv_add (&s, "-name");
  strv_addf (&s, "sandbox-%s", p->sandbox_id);
  strv_add (&s, "-machine");
  if (microvm)
    strv_addf (&s, "microvm,pic=off,pit=off,rtc=on%s", memdev);
  else
    strv_addf (&s, "q35%s", memdev);
  strv_add (&s, "-accel");
  if (!kvm && tb > 0)
    strv_addf (&s, "tcg,tb-size=%ld", tb);
  else
    strv_add (&s, accel);
  strv_add (&s, "-cpu");
  strv_add (&s, kvm ? "host" : "max");
  strv_add (&s, "-smp");
  strv_addf (&s, "%d,maxcpus=%d", p->vcpus > 0 ? p->vcpus : 1, qemu_maxcpus (cfg, p->vcpus, microvm || tmpl));
  strv_add (&s, "-m");
  if (qemu_mem_hotplug (p))
    strv_addf (&s, "%dM,slots=%d,maxmem=%lldM", p->memory_mb > 0 ? p->memory_mb : 256,
               cfg->hypervisor.memory_slots, qemu_maxmem_mb (p->memory_mb > 0 ? p->memory_mb : 256));
  else
    strv_addf (&s, "%dM", p->memory_mb > 0 ? p->memory_mb : 256);
  if (tmpl)
    {
      /* The template writes its RAM to the file; a clone maps it privately (copy-on-write). */
      cleanup_free char *mp = qemu_escape (p->template_path);
      strv_add (&s, "-object");
      strv_addf (&s, "memory-backend-file,id=mem,size=%dM,mem-path=%s/memory,share=%s",
                 p->memory_mb > 0 ? p->memory_mb : 256, mp,
                 p->boot_mode == KATA_VM_BOOT_TEMPLATE ? "on" : "off");
    }
  else if (memfd)
    {
      strv_add (&s, "-object");
      strv_addf (&s, "memory-backend-memfd,id=mem,size=%dM,share=on", p->memory_mb > 0 ? p->memory_mb : 256);
    }
  if (microvm)
    {
      strv_add (&s, "-global");
      strv_add (&s, "virtio-mmio.force-legacy=false");
    }
  strv_add (&s, "-nodefaults");
  strv_add (&s, "-nographic");
  strv_add (&s, "-no-reboot");
  strv_add (&s, "-no-user-config");
  if (kata_qemu_firmware (cfg))
    {
      strv_add (&s, "-bios");
      strv_add (&s, kata_qemu_firmware (cfg));
    }
  strv_add (&s, "-kernel");
  strv_add (&s, kernel);
  if (cfg->hypervisor.initrd && *cfg->hypervisor.initrd)
    {
      strv_add (&s, "-initrd");
      strv_add (&s, cfg->hypervisor.initrd);
    }
  append = qemu_kernel_cmdline (cfg, microvm, p->warm || p->boot_mode == KATA_VM_BOOT_TEMPLATE, err);
  if (append == NULL)
    return -1;
  if (!kvm)
    {
      /* TCG's local APIC timer counts at 1 GHz: told so, the guest kernel (patched,
         tools/osbuilder/kernel-patches) skips its 100 ms calibration.  The TSC runs at
         the host's rate: told so, the kernel does not fall back to a 60 ms PIT/HPET
         calibration when its quick PIT one fails (it does, now and then, under TCG).
         Not part of qemu_kernel_cmdline: a template records the command line
         independent of the accelerator. */
      unsigned long khz = microvm ? 0 : kata_host_tsc_khz ();
      char *a = khz ? xasprintf ("%s " KATA_TCG_LAPIC_PARAM " tsc_early_khz=%lu", append, khz)
                    : xasprintf ("%s " KATA_TCG_LAPIC_PARAM, append);
      free (append);
      append = a;
    }
  strv_add (&s, "-append");
  strv_add (&s, append);
  strv_add (&s, "-serial");
  strv_addf (&s, "file:%s", console);
  strv_add (&s, "-qmp");
  strv_addf (&s, "unix:%s,server=on,wait=off", qmp);
  /* QEMU's seccomp sandbox (configuration.toml: seccompsandbox; "" turns it off).  The
     default denies obsolete syscalls, setuid & co, fork/exec and sched/affinity changes.
     Templates save and restore through "exec:" migration URIs, which fork a shell:
     spawn=deny is dropped for template and clone VMs only. */
  if (cfg->hypervisor.seccompsandbox && *cfg->hypervisor.seccompsandbox)
    {
      cleanup_free char *sb = xstrdup (cfg->hypervisor.seccompsandbox);
      if (tmpl)
        {
          char *sp = strstr (sb, ",spawn=deny");
          if (sp)
            memmove (sp, sp + strlen (",spawn=deny"), strlen (sp + strlen (",spawn=deny")) + 1);
        }
      strv_add (&s, "-sandbox");
      strv_add (&s, sb);
    }
  if (p->boot_mode == KATA_VM_BOOT_CLONE)
    {
      strv_add (&s, "-incoming");
      strv_add (&s, "defer");
    }
  qemu_devices (&s, p, virtiofs, microvm, agent, vfsd, shared);
  *argv = s.v;
  return 0;
}

static void
child_fail (int fd, const char *what)
{
  char buf[512];
  int n = snprintf (buf, sizeof buf, "%s: %s\n", what, strerror (errno));
  if (fd >= 0 && n > 0)
    (void)!write (fd, buf, n);
  _exit (127);
}

static int
qemu_start (const kata_vm_params_t *p, kata_vm_t *vm, kata_error_t **err)
{
  const char *accel = NULL;
  cleanup_free char *reason = NULL;
  char **argv = NULL;
  cleanup_free char *logpath = xasprintf ("%s/%s", p->vm_dir, KATA_VM_QEMU_LOG);
  cleanup_close int netns = -1;
  pid_t pid;

  /* Named before anything is spawned, rather than as QEMU's exit message. */
  if (access (p->cfg->hypervisor.path, X_OK) < 0)
    return kata_make_error (err, errno, "hypervisor.qemu.path `%s`", p->cfg->hypervisor.path);
  if (access (p->cfg->hypervisor.kernel, R_OK) < 0)
    return kata_make_error (err, errno, "hypervisor.qemu.kernel `%s`", p->cfg->hypervisor.kernel);
  if (p->cfg->hypervisor.initrd && *p->cfg->hypervisor.initrd && access (p->cfg->hypervisor.initrd, R_OK) < 0)
    return kata_make_error (err, errno, "hypervisor.qemu.initrd `%s`", p->cfg->hypervisor.initrd);
  if (p->cfg->hypervisor.image && *p->cfg->hypervisor.image && access (p->cfg->hypervisor.image, R_OK) < 0)
    return kata_make_error (err, errno, "hypervisor.qemu.image `%s`", p->cfg->hypervisor.image);
  if (kata_hypervisor_choose_accel (p->cfg->hypervisor.accel, &accel, &reason, err) < 0)
    return -1;
  if (kata_qemu_build_argv (p, accel, &argv, err) < 0)
    return -1;
  {
    /* QEMU creates -serial file: with its umask (0644): made private first */
    cleanup_free char *console = xasprintf ("%s/%s", p->vm_dir, KATA_VM_CONSOLE_LOG);
    int cfd = open (console, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (cfd >= 0)
      {
        fchmod (cfd, 0600);
        close (cfd);
      }
  }
  if (kata_log_debug_enabled ())
    {
      size_t len = 0;
      for (char **a = argv; *a; a++)
        len += strlen (*a) + 1;
      cleanup_free char *line = xmalloc0 (len + 1);
      for (char **a = argv; *a; a++)
        {
          strcat (line, *a);
          strcat (line, " ");
        }
      kata_debug ("%s; starting %s", reason, line);
    }
  if (p->netns_path)
    {
      netns = open (p->netns_path, O_RDONLY | O_CLOEXEC);
      if (netns < 0)
        {
          kata_strv_free (argv);
          return kata_make_error (err, errno, "open network namespace `%s`", p->netns_path);
        }
    }
  if (strcmp (p->cfg->hypervisor.shared_fs, "virtio-fs") == 0)
    {
      cleanup_free char *vsock = xasprintf ("%s/%s", p->vm_dir, KATA_VM_VFSD_SOCK);
      if (kata_virtiofsd_start (p->cfg, p->shared_dir, vsock, &vm->vfsd_pid, err) < 0)
        {
          kata_strv_free (argv);
          return -1;
        }
      vm->vfsd_start = kata_proc_start_time (vm->vfsd_pid);
    }
  pid = fork ();
  if (pid < 0)
    {
      kata_strv_free (argv);
      return kata_make_error (err, errno, "fork");
    }
  if (pid == 0)
    {
      sigset_t all;
      int logfd = open (logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
      for (int sig = 1; sig < NSIG; sig++)
        signal (sig, SIG_DFL);
      sigemptyset (&all);
      sigprocmask (SIG_SETMASK, &all, NULL);
      if (nul >= 0)
        dup2 (nul, 0);
      if (logfd >= 0)
        {
          dup2 (logfd, 1);
          dup2 (logfd, 2);
        }
      /* The VM goes with its monitor: no orphaned QEMU when the monitor is killed. */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () == 1)
        _exit (127);
      if (chdir (p->vm_dir) < 0)
        child_fail (logfd, "chdir to the VM dir");
      if (netns >= 0 && setns (netns, CLONE_NEWNET) < 0)
        child_fail (logfd, "setns into the network namespace");
      /* Kept across execve: QEMU's MADV_HUGEPAGE (TCG cache, anonymous guest RAM) is
         then ignored, and each page costs 4 KiB instead of 2 MiB (disable_transparent_hugepages). */
      if (p->cfg->hypervisor.disable_transparent_hugepages && prctl (PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
        child_fail (logfd, "prctl PR_SET_THP_DISABLE");
      execv (argv[0], argv);
      child_fail (logfd, argv[0]);
    }
  kata_strv_free (argv);
  vm->pid = pid;
  vm->start = kata_proc_start_time (pid);
  vm->vm_dir = xstrdup (p->vm_dir);
  vm->accel = xstrdup (accel);
  vm->priv = xmalloc0 (sizeof (qemu_priv_t));
  ((qemu_priv_t *)vm->priv)->microvm = strcmp (p->cfg->hypervisor.machine_type, "microvm") == 0;
  ((qemu_priv_t *)vm->priv)->mem_hotplug = qemu_mem_hotplug (p);
  if (p->block_rootfs)
    ((qemu_priv_t *)vm->priv)->rp_used |= 1u << (QEMU_ROOT_PORTS - 1);
  if (p->boot_mode == KATA_VM_BOOT_CLONE && qemu_restore (vm, p->template_path, err) < 0)
    {
      kata_error_wrap (err, "clone the VM template in `%s`", p->template_path);
      qemu_stop (vm, true, NULL);
      qemu_release (vm);
      return -1;
    }
  kata_log_stage ("qemu-started");
  return 0;
}

static int
get_qmp (kata_vm_t *vm, kata_qmp_t **q, kata_error_t **err)
{
  qemu_priv_t *pr = vm->priv;
  if (pr == NULL)
    return kata_make_error_nostr (err, KATA_EBADSTATE, "QEMU is not running");
  if (pr->qmp == NULL)
    {
      cleanup_free char *path = sock_path (vm->vm_dir, KATA_VM_QMP_SOCK);
      /* The relative fallback path is relative to the VM dir. */
      if (path[0] != '/')
        {
          free (path);
          path = xasprintf ("/proc/self/cwd/%s", KATA_VM_QMP_SOCK);
        }
      if (kata_qmp_connect (path, 10000, &pr->qmp, err) < 0)
        return -1;
    }
  *q = pr->qmp;
  return 0;
}

/* Waits up to TIMEOUT_MS for our child PID to exit.  True when it did (reaped). */
static bool
wait_child (pid_t pid, int timeout_ms)
{
  uint64_t end = kata_now_ns () + (uint64_t)timeout_ms * 1000000ULL;
  do
    {
      pid_t r = waitpid (pid, NULL, WNOHANG);
      if (r == pid || (r < 0 && errno == ECHILD))
        return true;
      usleep (10000);
    }
  while (kata_now_ns () < end);
  return false;
}

static int
qemu_stop (kata_vm_t *vm, bool wait, kata_error_t **err)
{
  (void)err;
  if (vm->pid <= 0)
    return 0;
  if (kata_proc_alive (vm->pid, vm->start))
    {
      kata_qmp_t *q = NULL;
      kata_error_t *e = NULL;
      if (get_qmp (vm, &q, &e) == 0)
        kata_qmp_quit (q, NULL);
      kata_error_free (e);
      if (!wait || !wait_child (vm->pid, 3000))
        kill (vm->pid, SIGKILL);
    }
  if (wait)
    waitpid (vm->pid, NULL, 0);
  vm->pid = 0;
  if (vm->vfsd_pid > 0)
    {
      if (kata_proc_alive (vm->vfsd_pid, vm->vfsd_start))
        kill (vm->vfsd_pid, SIGKILL);
      if (wait)
        waitpid (vm->vfsd_pid, NULL, 0);
      vm->vfsd_pid = 0;
    }
  return 0;
}

static int
qemu_pause (kata_vm_t *vm, kata_error_t **err)
{
  kata_qmp_t *q;
  if (get_qmp (vm, &q, err) < 0)
    return -1;
  return kata_qmp_stop (q, err);
}

static int
qemu_resume (kata_vm_t *vm, kata_error_t **err)
{
  kata_qmp_t *q;
  if (get_qmp (vm, &q, err) < 0)
    return -1;
  return kata_qmp_cont (q, err);
}

/* The block node of hot-plugged device ID: QEMU limits node names to 31 characters, so
   it is a hash of the (unbounded) device id. */
static char *
hotplug_node_name (const char *id)
{
  uint32_t h = 2166136261u;
  for (const char *p = id; *p; p++)
    {
      h ^= (unsigned char)*p;
      h *= 16777619u;
    }
  return xasprintf ("hp-%08x", h);
}

/* The first free root port, or -1. */
static int
free_root_port (const qemu_priv_t *pr)
{
  for (int i = 0; i < QEMU_ROOT_PORTS; i++)
    if (!(pr->rp_used & (1u << i)))
      return i;
  return -1;
}

static int
qemu_hotplug_block (kata_vm_t *vm, const char *id, const char *path, bool readonly, char **addr,
                    kata_error_t **err)
{
  qemu_priv_t *pr = vm->priv;
  kata_qmp_t *q;
  cleanup_free char *node = hotplug_node_name (id);
  cleanup_free char *args = NULL;
  int port = -1;

  if (pr && pr->microvm)
    return kata_make_error_nostr (err, KATA_ENOTIMPL,
                                  "hot-plug %s: machine_type \"microvm\" has no hot-plug; use q35", id);
  if (get_qmp (vm, &q, err) < 0)
    return -1;
  port = free_root_port (pr);
  if (port < 0)
    return kata_make_error_nostr (err, ENOSPC, "hot-plug %s: no free PCIe root port (%d in use)", id,
                                  QEMU_ROOT_PORTS);
  if (kata_qmp_blockdev_add_file (q, node, path, readonly, err) < 0)
    return kata_error_wrap (err, "hot-plug %s", id);
  {
    yajl_gen g = kata_gen_new ();
    char bus[16];
    snprintf (bus, sizeof bus, "rp%d", port);
    yajl_gen_map_open (g);
    kata_gen_kv_str (g, "driver", "virtio-blk-pci");
    kata_gen_kv_str (g, "id", id);
    kata_gen_kv_str (g, "drive", node);
    kata_gen_kv_str (g, "bus", bus);
    kata_gen_kv_str (g, "addr", "0");
    yajl_gen_map_close (g);
    args = kata_gen_finish (g, NULL);
  }
  if (kata_qmp_device_add (q, args, err) < 0)
    {
      kata_qmp_blockdev_del (q, node, NULL);
      return kata_error_wrap (err, "hot-plug %s", id);
    }
  pr->rp_used |= 1u << port;
  pr->rp_dev[port] = xstrdup (id);
  *addr = xasprintf ("%02x/00", QEMU_ROOT_PORT_SLOT0 + port);
  return 0;
}

/* netdev_add (type tap, the fd handed over with getfd: QEMU need not be in the tap's
   netns), then a virtio-net-pci with MAC on a free root port. */
static int
qemu_hotplug_nic (kata_vm_t *vm, const char *id, int tap_fd, const char *mac, char **addr, kata_error_t **err)
{
  qemu_priv_t *pr = vm->priv;
  kata_qmp_t *q;
  cleanup_free char *netdev = xasprintf ("nd-%s", id);
  cleanup_free char *fdname = xasprintf ("fd-%s", id);
  cleanup_free char *args = NULL;
  char bus[16];
  int port;

  if (pr && pr->microvm)
    return kata_make_error_nostr (err, KATA_ENOTIMPL,
                                  "hot-plug NIC %s: machine_type \"microvm\" has no hot-plug; use q35", id);
  if (get_qmp (vm, &q, err) < 0)
    return -1;
  port = free_root_port (pr);
  if (port < 0)
    return kata_make_error_nostr (err, ENOSPC, "hot-plug NIC %s: no free PCIe root port (%d in use)", id,
                                  QEMU_ROOT_PORTS);
  if (kata_qmp_getfd (q, fdname, tap_fd, err) < 0)
    return kata_error_wrap (err, "hot-plug NIC %s", id);
  {
    yajl_gen g = kata_gen_new ();
    yajl_gen_map_open (g);
    kata_gen_kv_str (g, "type", "tap");
    kata_gen_kv_str (g, "id", netdev);
    kata_gen_kv_str (g, "fd", fdname);
    kata_gen_kv_bool (g, "vhost", false); /* no vhost-net here: QEMU aborts with it */
    yajl_gen_map_close (g);
    args = kata_gen_finish (g, NULL);
  }
  if (kata_qmp_execute (q, "netdev_add", args, NULL, 30000, err) < 0)
    {
      cleanup_free char *close_args = xasprintf ("{\"fdname\":\"%s\"}", fdname);
      kata_qmp_execute (q, "closefd", close_args, NULL, 10000, NULL);
      return kata_error_wrap (err, "hot-plug NIC %s", id);
    }
  free (args);
  snprintf (bus, sizeof bus, "rp%d", port);
  {
    yajl_gen g = kata_gen_new ();
    yajl_gen_map_open (g);
    kata_gen_kv_str (g, "driver", "virtio-net-pci");
    kata_gen_kv_str (g, "id", id);
    kata_gen_kv_str (g, "netdev", netdev);
    kata_gen_kv_str (g, "mac", mac);
    kata_gen_kv_str (g, "bus", bus);
    kata_gen_kv_str (g, "addr", "0");
    kata_gen_kv_str (g, "romfile", "");
    yajl_gen_map_close (g);
    args = kata_gen_finish (g, NULL);
  }
  if (kata_qmp_device_add (q, args, err) < 0)
    {
      kata_qmp_netdev_del (q, netdev, NULL);
      return kata_error_wrap (err, "hot-plug NIC %s", id);
    }
  pr->rp_used |= 1u << port;
  pr->rp_dev[port] = xstrdup (id);
  *addr = xasprintf ("%02x/00", QEMU_ROOT_PORT_SLOT0 + port);
  return 0;
}

/* A pc-dimm of SIZE_MB (a multiple of 128) named ID over a RAM backend ("mem-ID"),
   memfd shared as the boot RAM when virtio-fs needs it; the guest kernel onlines it. */
static int
qemu_hotplug_memory (kata_vm_t *vm, const char *id, int size_mb, bool shared, kata_error_t **err)
{
  qemu_priv_t *pr = vm->priv;
  kata_qmp_t *q;
  cleanup_free char *backend = xasprintf ("mem-%s", id);
  cleanup_free char *args = NULL;

  if (pr == NULL || !pr->mem_hotplug)
    return kata_make_error_nostr (
        err, KATA_ENOTIMPL,
        "hot-plug memory %s: the VM has no memory slots (microvm, a template clone, or "
        "memory_slots = 0)",
        id);
  if (size_mb <= 0 || size_mb % 128)
    return kata_make_error_nostr (err, EINVAL, "hot-plug memory %s: %d MiB is not a multiple of 128", id,
                                  size_mb);
  if (get_qmp (vm, &q, err) < 0)
    return -1;
  {
    yajl_gen g = kata_gen_new ();
    yajl_gen_map_open (g);
    kata_gen_kv_str (g, "qom-type", shared ? "memory-backend-memfd" : "memory-backend-ram");
    kata_gen_kv_str (g, "id", backend);
    kata_gen_kv_int (g, "size", (long long)size_mb << 20);
    if (shared)
      kata_gen_kv_bool (g, "share", true);
    yajl_gen_map_close (g);
    args = kata_gen_finish (g, NULL);
  }
  if (kata_qmp_execute (q, "object-add", args, NULL, 10000, err) < 0)
    return kata_error_wrap (err, "hot-plug memory %s (%d MiB)", id, size_mb);
  free (args);
  {
    yajl_gen g = kata_gen_new ();
    yajl_gen_map_open (g);
    kata_gen_kv_str (g, "driver", "pc-dimm");
    kata_gen_kv_str (g, "id", id);
    kata_gen_kv_str (g, "memdev", backend);
    yajl_gen_map_close (g);
    args = kata_gen_finish (g, NULL);
  }
  if (kata_qmp_device_add (q, args, err) < 0)
    {
      cleanup_free char *del = xasprintf ("{\"id\":\"%s\"}", backend);
      kata_qmp_execute (q, "object-del", del, NULL, 10000, NULL);
      return kata_error_wrap (err, "hot-plug memory %s (%d MiB)", id, size_mb);
    }
  return 0;
}

static int
qemu_hot_unplug (kata_vm_t *vm, const char *id, kata_error_t **err)
{
  qemu_priv_t *pr = vm->priv;
  kata_qmp_t *q;
  cleanup_free char *node = hotplug_node_name (id);

  if (get_qmp (vm, &q, err) < 0)
    return -1;
  if (kata_qmp_device_del (q, id, 10000, err) < 0)
    return kata_error_wrap (err, "hot-unplug %s", id);
  for (int i = 0; i < QEMU_ROOT_PORTS; i++)
    if (pr->rp_dev[i] && strcmp (pr->rp_dev[i], id) == 0)
      {
        free (pr->rp_dev[i]);
        pr->rp_dev[i] = NULL;
        pr->rp_used &= ~(1u << i);
      }
  if (kata_qmp_blockdev_del (q, node, err) < 0)
    return kata_error_wrap (err, "hot-unplug %s", id);
  return 0;
}

static void
qemu_release (kata_vm_t *vm)
{
  qemu_priv_t *pr = vm->priv;
  if (pr)
    {
      kata_qmp_close (pr->qmp);
      for (int i = 0; i < QEMU_ROOT_PORTS; i++)
        free (pr->rp_dev[i]);
      free (pr);
    }
  vm->priv = NULL;
  free (vm->vm_dir);
  vm->vm_dir = NULL;
  free (vm->accel);
  vm->accel = NULL;
}

/* ---- VM templating ---- */

static char *
shell_quote (const char *s)
{
  size_t n = 2;
  for (const char *p = s; *p; p++)
    n += *p == '\'' ? 4 : 1;
  char *out = xmalloc (n + 1), *o = out;
  *o++ = '\'';
  for (const char *p = s; *p; p++)
    {
      if (*p == '\'')
        {
          memcpy (o, "'\\''", 4);
          o += 4;
        }
      else
        *o++ = *p;
    }
  *o++ = '\'';
  *o = '\0';
  return out;
}

/* Waits until query-status leaves STATE (e.g. "inmigrate"). */
static int
wait_status_leaves (kata_qmp_t *q, const char *state, int timeout_ms, char **final, kata_error_t **err)
{
  uint64_t end = kata_now_ns () + (uint64_t)timeout_ms * 1000000ULL;
  for (;;)
    {
      char *st = NULL;
      if (kata_qmp_query_status (q, &st, NULL, err) < 0)
        return -1;
      if (strcmp (st, state) != 0)
        {
          *final = st;
          return 0;
        }
      free (st);
      if (kata_now_ns () > end)
        return kata_make_error_nostr (err, KATA_ETIMEOUT, "QEMU stayed in state %s for %d ms", state,
                                      timeout_ms);
      usleep (2000);
    }
}

static int
qemu_restore (kata_vm_t *vm, const char *template_path, kata_error_t **err)
{
  kata_qmp_t *q;
  cleanup_free char *state = xasprintf ("%s/state", template_path);
  cleanup_free char *quoted = shell_quote (state);
  cleanup_free char *uri = xasprintf ("exec:cat %s", quoted);
  cleanup_free char *final = NULL;

  if (get_qmp (vm, &q, err) < 0)
    return -1;
  if (kata_qmp_migrate_set_capability (q, "x-ignore-shared", true, err) < 0
      || kata_qmp_migrate_incoming (q, uri, err) < 0)
    return -1;
  if (wait_status_leaves (q, "inmigrate", 30000, &final, err) < 0)
    return -1;
  if (strcmp (final, "paused") != 0 && strcmp (final, "running") != 0)
    return kata_make_error_nostr (err, KATA_EVMDEAD, "restoring the template state left QEMU in state %s",
                                  final);
  if (strcmp (final, "running") != 0 && kata_qmp_cont (q, err) < 0)
    return -1;
  kata_log_stage ("template-restored");
  return 0;
}

static char *
template_file (const kata_config_t *cfg, const char *name)
{
  return xasprintf ("%s/%s", cfg->factory.template_path, name);
}

/* What a clone takes from its template rather than from its own configuration: the
   machine, QEMU, the firmware, kernel, initrd or image and the kernel command line (the
   device list follows from these).  Recorded in template.json by kata_vm_template_create;
   KEYS[i] is the template.json key of VALUES[i] (malloc'd, "" when unset). */
#define TEMPLATE_GUEST_KEYS 6
static const char *const template_guest_keys[TEMPLATE_GUEST_KEYS]
    = { "machine_type", "qemu", "firmware", "kernel", "initrd_or_image", "kernel_params" };

static void
template_guest (const kata_config_t *cfg, char *values[TEMPLATE_GUEST_KEYS])
{
  const char *img = cfg->hypervisor.image && *cfg->hypervisor.image ? cfg->hypervisor.image : NULL;
  const char *fw = kata_qemu_firmware (cfg);
  /* the template's own command line: warm (agent.warm=1), as kata_vm_template_create boots it */
  char *append = qemu_kernel_cmdline (cfg, strcmp (cfg->hypervisor.machine_type, "microvm") == 0, true, NULL);
  values[0] = xstrdup (cfg->hypervisor.machine_type ? cfg->hypervisor.machine_type : "");
  values[1] = xstrdup (cfg->hypervisor.path ? cfg->hypervisor.path : "");
  values[2] = xstrdup (fw ? fw : "");
  values[3] = kata_qemu_kernel (cfg);
  values[4] = img ? xasprintf ("image %s", img)
                  : xasprintf ("initrd %s", cfg->hypervisor.initrd ? cfg->hypervisor.initrd : "");
  values[5] = append ? append : xstrdup ("");
}

char *
kata_vm_template_mismatch (const kata_config_t *cfg)
{
  cleanup_free char *meta = template_file (cfg, "template.json");
  cleanup_free char *data = NULL;
  char *values[TEMPLATE_GUEST_KEYS];
  char *why = NULL;
  yajl_val v = NULL;
  size_t len;

  if (kata_read_file (meta, &data, &len, 65536, NULL) < 0 || kata_json_parse (data, len, &v, NULL) < 0)
    return xstrdup ("no template.json");
  template_guest (cfg, values);
  for (int i = 0; i < TEMPLATE_GUEST_KEYS; i++)
    {
      /* a key that a template of an older runtime does not record is not checked */
      const char *t = kata_json_str (v, template_guest_keys[i]);
      if (why == NULL && t != NULL && strcmp (t, values[i]) != 0)
        why = xasprintf ("%s `%s`, not `%s`", template_guest_keys[i], t, values[i]);
      free (values[i]);
    }
  yajl_tree_free (v);
  return why;
}

bool
kata_vm_template_ready (const kata_config_t *cfg, int *vcpus, int *memory_mb)
{
  cleanup_free char *state = template_file (cfg, "state");
  cleanup_free char *memory = template_file (cfg, "memory");
  cleanup_free char *meta = template_file (cfg, "template.json");
  cleanup_free char *data = NULL;
  yajl_val v = NULL;
  size_t len;

  if (cfg->factory.template_path == NULL || access (state, R_OK) < 0 || access (memory, R_OK) < 0)
    return false;
  if (kata_read_file (meta, &data, &len, 65536, NULL) < 0 || kata_json_parse (data, len, &v, NULL) < 0)
    return false;
  if (vcpus)
    *vcpus = (int)kata_json_int (v, "vcpus", 1);
  if (memory_mb)
    *memory_mb = (int)kata_json_int (v, "memory_mb", 256);
  yajl_tree_free (v);
  return true;
}

/* True when PATH is a mount point of its own (its device differs from its parent's). */
static bool
is_mount_point (const char *path)
{
  struct stat a, b;
  cleanup_free char *parent = xasprintf ("%s/..", path);
  return stat (path, &a) == 0 && stat (parent, &b) == 0 && a.st_dev != b.st_dev;
}

int
kata_vm_template_destroy (const kata_config_t *cfg, kata_error_t **err)
{
  const char *tp = cfg->factory.template_path;
  DIR *d;
  struct dirent *e;

  if (tp == NULL || *tp == '\0')
    return 0;
  d = opendir (tp);
  if (d == NULL)
    return errno == ENOENT ? 0 : kata_make_error (err, errno, "open `%s`", tp);
  while ((e = readdir (d)))
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      cleanup_free char *p = xasprintf ("%s/%s", tp, e->d_name);
      if (kata_rm_rf (p, err) < 0)
        {
          closedir (d);
          return -1;
        }
    }
  closedir (d);
  if (is_mount_point (tp) && umount2 (tp, MNT_DETACH) < 0)
    return kata_make_error (err, errno, "unmount `%s`", tp);
  rmdir (tp);
  return 0;
}

static int
wait_console (const char *vm_dir, pid_t pid, int timeout_s, kata_error_t **err)
{
  cleanup_free char *path = xasprintf ("%s/%s", vm_dir, KATA_VM_CONSOLE_LOG);
  uint64_t end = kata_now_ns () + (uint64_t)timeout_s * 1000000000ULL;
  for (;;)
    {
      cleanup_free char *data = NULL;
      int st;
      if (kata_read_file (path, &data, NULL, 0, NULL) == 0 && strstr (data, "kata-agent: ready"))
        return 0;
      if (waitpid (pid, &st, WNOHANG) == pid)
        return kata_make_error_nostr (
            err, KATA_EVMDEAD, "the template VM exited (status %d) before the agent was ready: %s",
            WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st), data ? data : "");
      if (kata_now_ns () > end)
        return kata_make_error_nostr (err, KATA_ETIMEOUT,
                                      "the agent of the template VM was not ready within %d s: %s", timeout_s,
                                      data ? data : "");
      usleep (20000);
    }
}

int
kata_vm_template_create (const kata_config_t *cfg, kata_error_t **err)
{
  const char *tp = cfg->factory.template_path;
  cleanup_free char *vm_dir = template_file (cfg, "vm");
  cleanup_free char *shared = template_file (cfg, "shared");
  cleanup_free char *state = template_file (cfg, "state");
  cleanup_free char *qstate = shell_quote (state);
  cleanup_free char *uri = xasprintf ("exec:cat > %s", qstate);
  cleanup_free char *meta_path = template_file (cfg, "template.json");
  cleanup_free char *final = NULL;
  int vcpus = cfg->hypervisor.default_vcpus > 0 ? cfg->hypervisor.default_vcpus : 1;
  int mem = cfg->hypervisor.default_memory > 0 ? cfg->hypervisor.default_memory : 256;
  kata_vm_t vm = { 0 };
  kata_qmp_t *q;
  struct statfs sf;
  uint64_t t0 = kata_now_ns ();

  if (tp == NULL || *tp == '\0')
    return kata_make_error_nostr (err, KATA_EBADCONFIG, "factory: template_path is not set");
  if (kata_vm_template_ready (cfg, NULL, NULL))
    return kata_make_error_nostr (err, EEXIST, "factory: a VM template already exists in `%s`", tp);
  if (kata_mkdir_p (tp, 0700, err) < 0)
    return -1;
  if (statfs (tp, &sf) == 0 && sf.f_type != TMPFS_MAGIC)
    {
      cleanup_free char *opts = xasprintf ("size=%dM,mode=0700", mem + 64);
      if (mount ("tmpfs", tp, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        return kata_make_error (err, errno, "factory: mount a tmpfs on `%s`", tp);
    }
  if (kata_mkdir_p (vm_dir, 0700, err) < 0 || kata_mkdir_p (shared, 0700, err) < 0)
    goto fail;
  kata_vm_params_t p = { .cfg = cfg,
                         .sandbox_id = "template",
                         .vm_dir = vm_dir,
                         .shared_dir = shared,
                         .vcpus = vcpus,
                         .memory_mb = mem,
                         .boot_mode = KATA_VM_BOOT_TEMPLATE,
                         .template_path = tp };
  if (qemu_start (&p, &vm, err) < 0)
    goto fail;
  /* No host connection while the template is saved: clones then see a clean open. */
  if (wait_console (vm_dir, vm.pid, cfg->hypervisor.boot_timeout > 0 ? cfg->hypervisor.boot_timeout : 60, err)
      < 0)
    goto fail_vm;
  usleep (100000);
  if (get_qmp (&vm, &q, err) < 0 || kata_qmp_stop (q, err) < 0
      || kata_qmp_migrate_set_capability (q, "x-ignore-shared", true, err) < 0
      || kata_qmp_migrate (q, uri, err) < 0)
    goto fail_vm;
  for (;;)
    {
      free (final);
      final = NULL;
      if (kata_qmp_query_migrate (q, &final, err) < 0)
        goto fail_vm;
      if (strcmp (final, "completed") == 0)
        break;
      if (strcmp (final, "failed") == 0 || strcmp (final, "cancelled") == 0)
        {
          kata_make_error_nostr (err, KATA_EVMDEAD, "factory: saving the template failed (%s)", final);
          goto fail_vm;
        }
      if (kata_now_ns () - t0 > 120000000000ULL)
        {
          kata_make_error_nostr (err, KATA_ETIMEOUT, "factory: saving the template did not complete");
          goto fail_vm;
        }
      usleep (5000);
    }
  kata_qmp_quit (q, NULL);
  qemu_stop (&vm, true, NULL);
  qemu_release (&vm);
  {
    char *values[TEMPLATE_GUEST_KEYS];
    cleanup_free char *meta = NULL;
    yajl_gen g = kata_gen_new ();
    yajl_gen_map_open (g);
    kata_gen_kv_int (g, "vcpus", vcpus);
    kata_gen_kv_int (g, "memory_mb", mem);
    template_guest (cfg, values);
    for (int i = 0; i < TEMPLATE_GUEST_KEYS; i++)
      {
        kata_gen_kv_str (g, template_guest_keys[i], values[i]);
        free (values[i]);
      }
    kata_gen_kv_int (g, "created_ms", (long long)((kata_now_ns () - t0) / 1000000));
    yajl_gen_map_close (g);
    meta = kata_gen_finish (g, NULL);
    if (kata_write_file_atomic (meta_path, meta, strlen (meta), 0600, err) < 0)
      goto fail;
  }
  kata_rm_rf (vm_dir, NULL);
  kata_debug ("factory: template saved in %s in %llu ms", tp,
              (unsigned long long)((kata_now_ns () - t0) / 1000000));
  return 0;

fail_vm:
  qemu_stop (&vm, true, NULL);
  qemu_release (&vm);
fail:
  kata_error_wrap (err, "factory init");
  kata_vm_template_destroy (cfg, NULL);
  return -1;
}

const struct hypervisor_ops kata_qemu_ops = {
  .name = "qemu",
  .start = qemu_start,
  .stop = qemu_stop,
  .pause = qemu_pause,
  .resume = qemu_resume,
  .hotplug_block = qemu_hotplug_block,
  .hot_unplug = qemu_hot_unplug,
  .hotplug_memory = qemu_hotplug_memory,
  .hotplug_nic = qemu_hotplug_nic,
  .qmp = get_qmp,
  .release = qemu_release,
};
