/* kata-runtime kata-check: can this host run a sandbox? */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmd/kata-runtime/common.h"
#include "common/utils.h"
#include "runtime/hypervisor.h"
#include "runtime/network.h"

static const struct argp_option options[] = { { 0 } };

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp
    = { options,
        parse_opt,
        NULL,
        "tests if system can run Kata Containers\v"
        "Prints one PASS, INFO or FAIL line per check; exits non-zero when the host "
        "cannot run a sandbox.",
        kata_cmd_common_children,
        NULL,
        NULL };

struct check
{
  int failed;
};

static void line (struct check *c, const char *kind, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
line (struct check *c, const char *kind, const char *fmt, ...)
{
  va_list ap;
  if (strcmp (kind, "FAIL") == 0)
    c->failed++;
  printf ("%s: ", kind);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  putchar ('\n');
}

static void
check_readable (struct check *c, const char *what, const char *path)
{
  int fd;
  if (path == NULL || *path == '\0')
    {
      line (c, "FAIL", "%s: not configured", what);
      return;
    }
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      line (c, "FAIL", "%s %s: %s", what, path, strerror (errno));
      return;
    }
  close (fd);
  line (c, "PASS", "%s %s is readable", what, path);
}

/* Network and cgroup facts the runtime depends on. */
static void
check_host (struct check *c)
{
  kata_error_t *e = NULL;
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd >= 0)
    {
      close (fd);
      line (c, "PASS", "tun/tap: /dev/net/tun can be opened");
    }
  else
    line (c, "FAIL", "tun/tap: /dev/net/tun: %s (fix: modprobe tun)", strerror (errno));
  if (kata_network_probe_tc (&e) == 0)
    line (c, "PASS", "tc: ingress qdisc, u32 filter and mirred redirect work");
  else
    {
      line (c, "FAIL", "tc: %s (fix: modprobe sch_ingress cls_u32 act_mirred)", e->msg);
      kata_error_free (e);
    }
  if (access ("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
    line (c, "PASS", "cgroups: unified (cgroup v2 only)");
  else if (access ("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0)
    line (c, "PASS", "cgroups: hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified)");
  else if (access ("/sys/fs/cgroup/memory", F_OK) == 0)
    line (c, "PASS", "cgroups: legacy (v1 only)");
  else
    line (c, "FAIL",
          "cgroups: no cgroup hierarchy mounted under /sys/fs/cgroup (fix: mount cgroup2 or the v1 "
          "controllers)");
}

int
cmd_kata_check (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  struct check c = { 0 };
  kata_error_t *e = NULL;
  cleanup_free char *reason = NULL, *qver = NULL;
  const char *accel = NULL;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, NULL, err) < 0)
    return -1;
  if (kata_cmd_check_args ("kata-check", argc - first, 0, err) < 0)
    return -1;

  if (geteuid () == 0)
    line (&c, "PASS", "running as root");
  else
    line (&c, "FAIL", "not running as root (euid %d): kata-runtime needs root to create sandboxes",
          (int)geteuid ());

  if (kata_context_load_config (ctx, &e) < 0)
    {
      line (&c, "FAIL", "configuration: %s", e->msg);
      kata_error_free (e);
      e = NULL;
    }
  else
    line (&c, "PASS", "configuration: %s", ctx->cfg->path ? ctx->cfg->path : "built-in defaults");

  if (access ("/dev/kvm", F_OK) == 0)
    line (&c, "INFO", "/dev/kvm exists");
  else
    line (&c, "INFO", "/dev/kvm does not exist");
  {
    struct stat st;
    if (stat ("/sys/module/kvm_pvm", &st) == 0)
      line (&c, "INFO", "kvm_pvm is loaded (nested paravirtual KVM): it cannot run our guests");
  }

  if (ctx->cfg)
    {
      if (kata_hypervisor_choose_accel (ctx->cfg->hypervisor.accel, &accel, &reason, &e) < 0)
        {
          line (&c, "FAIL", "accelerator: %s", e->msg);
          kata_error_free (e);
          e = NULL;
        }
      else if (strcmp (accel, "kvm") == 0)
        line (&c, "PASS", "accelerator: kvm (%s)", reason ? reason : "");
      else
        line (&c, "INFO", "accelerator: tcg (software emulation, slow): %s", reason ? reason : "");

      if (kata_cmd_qemu_version (ctx->cfg->hypervisor.path, &qver, &e) < 0)
        {
          line (&c, "FAIL", "QEMU: %s", e->msg);
          kata_error_free (e);
          e = NULL;
        }
      else
        line (&c, "PASS", "QEMU %s: %s", ctx->cfg->hypervisor.path, qver);

      check_readable (&c, "guest kernel", ctx->cfg->hypervisor.kernel);
      if (ctx->cfg->hypervisor.image && *ctx->cfg->hypervisor.image)
        {
          unsigned id = 0;
          line (&c, "INFO", "guest: image (systemd as init, the agent as kata-agent.service)");
          if (kata_guest_image_probe (ctx->cfg->hypervisor.image, &id, &e) < 0)
            {
              line (&c, "FAIL", "guest image: %s", e->msg);
              kata_error_free (e);
              e = NULL;
            }
          else
            line (&c, "PASS", "guest image %s is readable, with a partition table (root=PARTUUID=%08x-01)",
                  ctx->cfg->hypervisor.image, id);
        }
      else
        line (&c, "INFO", "guest: initrd (the agent as init)");
      if (ctx->cfg->hypervisor.initrd && *ctx->cfg->hypervisor.initrd)
        check_readable (&c, "guest initrd", ctx->cfg->hypervisor.initrd);
      if (strcmp (ctx->cfg->hypervisor.shared_fs, "virtio-fs") == 0)
        {
          if (access (ctx->cfg->hypervisor.virtio_fs_daemon, X_OK) == 0)
            line (&c, "PASS", "virtiofsd %s is executable", ctx->cfg->hypervisor.virtio_fs_daemon);
          else
            line (&c, "FAIL", "virtiofsd %s: %s (install qemu-system-x86, or set shared_fs = \"virtio-9p\")",
                  ctx->cfg->hypervisor.virtio_fs_daemon, strerror (errno));
        }
    }
  check_host (&c);

  fflush (stdout);
  if (c.failed)
    return kata_make_error_nostr (err, EINVAL,
                                  "kata-check: %d check(s) failed: this host cannot run a sandbox", c.failed);
  printf ("System is capable of running Kata Containers\n");
  return 0;
}
