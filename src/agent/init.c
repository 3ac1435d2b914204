/* PID 1 duties: early mounts, kernel modules, power off.  In the image guest
   (docs/guest.md) systemd is PID 1 and does them: the agent is kata-agent.service,
   mounts nothing, reaps only its own descendants (a child subreaper) and exits on
   DestroySandbox; the unit's SuccessAction/FailureAction powers the VM off. */
#include "config.h"
#include "agent/agent.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <signal.h>
#include <unistd.h>

static void
try_mount (const char *src, const char *dst, const char *fs, unsigned long flags, const char *data)
{
  mkdir (dst, 0755);
  if (mount (src, dst, fs, flags, data) < 0 && errno != EBUSY)
    agent_log_always ("mount %s on %s: %s", fs, dst, strerror (errno));
}

static void
parse_cmdline (void)
{
  cleanup_free char *cmd = NULL;
  char *save = NULL, *tok;
  if (kata_read_file ("/proc/cmdline", &cmd, NULL, 65536, NULL) < 0)
    return;
  for (tok = strtok_r (cmd, " \t\n", &save); tok; tok = strtok_r (NULL, " \t\n", &save))
    {
      if (strcmp (tok, "agent.debug=1") == 0 || strcmp (tok, "agent.log=debug") == 0
          || strcmp (tok, "kata.debug") == 0 || strcmp (tok, "kata.debug=1") == 0
          || strcmp (tok, "agent.debug") == 0)
        agent_debug = 1;
      else if (strcmp (tok, "agent.warm=1") == 0)
        agent_warm = 1;
    }
}

static void
load_modules (void)
{
  cleanup_free char *list = NULL;
  char *save = NULL, *line;
  if (kata_read_file ("/lib/modules/modules.load", &list, NULL, 1 << 20, NULL) < 0)
    return;
  for (line = strtok_r (list, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      cleanup_free char *path = NULL;
      int fd;
      while (*line == ' ' || *line == '\t')
        line++;
      if (*line == '\0' || *line == '#')
        continue;
      path = line[0] == '/' ? xstrdup (line) : xasprintf ("/lib/modules/%s", line);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          agent_log_always ("module %s: %s", path, strerror (errno));
          continue;
        }
      if (syscall (SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
        agent_log_always ("load module %s: %s", path, strerror (errno));
      close (fd);
    }
}

/* pivot_root(2) refuses to work when the current root is the initramfs (it has no parent
   mount).  Put a bind mount of it over / and chroot into that, as switch_root does, so
   containers can pivot_root. */
static void
leave_initramfs (void)
{
  if (mkdir ("/.kroot", 0700) < 0 && errno != EEXIST)
    return;
  if (mount ("/", "/.kroot", NULL, MS_BIND, NULL) < 0)
    goto fail;
  if (chdir ("/.kroot") < 0)
    goto fail;
  if (mount (".", "/", NULL, MS_MOVE, NULL) < 0 || chroot (".") < 0)
    goto fail;
  if (chdir ("/") < 0)
    goto fail;
  rmdir ("/.kroot");
  return;
fail:
  agent_log_always ("leave initramfs: %s", strerror (errno));
  (void)!chdir ("/");
}

void
agent_init_system (void)
{
  if (getpid () == 1)
    {
      leave_initramfs ();
      try_mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
      try_mount ("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
      try_mount ("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
      try_mount ("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=0620");
      try_mount ("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
      try_mount ("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
      try_mount ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
      /* favordynmods (Linux 6.0+): moving a process into a cgroup, which every container
         start does, no longer waits for an RCU grace period (slow in a one-vCPU TCG guest);
         forks and exits pay a little instead.  Older kernels: without it. */
      mkdir (AGENT_CGROUP_ROOT, 0755);
      if (mount ("cgroup2", AGENT_CGROUP_ROOT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "nsdelegate,favordynmods")
          < 0)
        try_mount ("cgroup2", AGENT_CGROUP_ROOT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, "nsdelegate");
      /* /dev/ptmx of devtmpfs is the initial instance; use ours. */
      if (access ("/dev/pts/ptmx", F_OK) == 0)
        {
          unlink ("/dev/ptmx");
          if (symlink ("pts/ptmx", "/dev/ptmx") < 0)
            mount ("/dev/pts/ptmx", "/dev/ptmx", NULL, MS_BIND, NULL);
        }
      (void)!symlink ("/proc/self/fd", "/dev/fd");
      (void)!symlink ("/proc/self/fd/0", "/dev/stdin");
      (void)!symlink ("/proc/self/fd/1", "/dev/stdout");
      (void)!symlink ("/proc/self/fd/2", "/dev/stderr");
      setsid ();
    }
  else if (prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    agent_log_always ("child subreaper: %s", strerror (errno));
  agent_log_open ();
  parse_cmdline ();
  load_modules ();
  kata_mkdir_p (KATA_GUEST_SHARED_DIR, 0755, NULL);
  kata_mkdir_p (KATA_GUEST_LOCAL_DIR, 0755, NULL);
  if (agent_cgroup_setup_root () < 0)
    agent_log_always ("cgroup setup failed: %s", strerror (errno));
  if (agent_net_lo_up () < 0)
    agent_log ("lo up: %s", strerror (errno));
  if (agent_warm)
    {
      kata_error_t *e = NULL;
      if (agent_devcg_preload (&e) < 0)
        {
          agent_log_always ("preload the device cgroup program: %s", e->msg);
          kata_error_free (e);
        }
      else
        agent_log ("warm: the default device cgroup program is loaded");
    }
  umask (022);
}

void
agent_power_off (agent_t *a)
{
  agent_kill_all (a);
  sync ();
  if (a->shutdown_id)
    agent_send_result (a, a->shutdown_id, "{\"synced\":true}");
  agent_flush_blocking (a, 2000);
  if (getpid () == 1)
    {
      reboot (RB_POWER_OFF);
      agent_log_always ("reboot: %s", strerror (errno));
    }
  _exit (0);
}
