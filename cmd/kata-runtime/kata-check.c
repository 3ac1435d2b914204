/* kata-runtime kata-check: can this host run a sandbox? */
#include <config.h>
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
      if (ctx->cfg->hypervisor.initrd && *ctx->cfg->hypervisor.initrd)
        check_readable (&c, "guest initrd", ctx->cfg->hypervisor.initrd);
    }

  fflush (stdout);
  if (c.failed)
    return kata_make_error_nostr (err, EINVAL,
                                  "kata-check: %d check(s) failed: this host cannot run a sandbox", c.failed);
  printf ("System is capable of running Kata Containers\n");
  return 0;
}
