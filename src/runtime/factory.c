/* The VM factory: `kata-runtime factory init|status|destroy` (docs/factory.md).
   Templating itself (boot, save, clone) is in qemu.c; the monitor clones from the
   template when [factory] enable_template is set. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/factory.h"
#include "runtime/hypervisor.h"
#include "runtime/log.h"
#include "runtime/monitor.h"

/* Appends a printf'd line to *OUT. */
static void __attribute__ ((format (printf, 2, 3))) out_line (char **out, const char *fmt, ...)
{
  va_list ap;
  char *line = NULL, *n;
  va_start (ap, fmt);
  if (vasprintf (&line, fmt, ap) < 0)
    line = NULL;
  va_end (ap);
  n = xasprintf ("%s%s\n", *out ? *out : "", line ? line : "");
  free (line);
  free (*out);
  *out = n;
}

static char *
human_size (unsigned long long b)
{
  if (b >= 1024ULL * 1024 * 1024)
    return xasprintf ("%.1f GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024ULL * 1024)
    return xasprintf ("%.1f MiB", b / (1024.0 * 1024));
  if (b >= 1024ULL)
    return xasprintf ("%.1f KiB", b / 1024.0);
  return xasprintf ("%llu B", b);
}

static bool
factory_enabled (const kata_config_t *cfg)
{
  return cfg->factory.enable_template || cfg->factory.vm_cache_number > 0;
}

/* ---- the VM cache (vm_cache_number > 0) ---- */

static bool kata_vmcache_status (const kata_config_t *cfg, char **out);
static int kata_vmcache_start (const kata_config_t *cfg, kata_error_t **err);
static int kata_vmcache_stop (const kata_config_t *cfg, kata_error_t **err);

/* ---- init / status / destroy ---- */

int
kata_factory_init (const kata_config_t *cfg, char **out, kata_error_t **err)
{
  *out = NULL;
  if (!factory_enabled (cfg))
    {
      out_line (out, "vm factory not enabled");
      return 0;
    }
  if (cfg->factory.enable_template)
    {
      int v = 0, m = 0;
      if (kata_vm_template_ready (cfg, &v, &m))
        out_line (out, "vm template already exists in %s (%d vCPUs, %d MiB)", cfg->factory.template_path, v,
                  m);
      else
        {
          uint64_t t0 = kata_now_ns ();
          /* Leftovers of a broken template would be taken as a template. */
          kata_vm_template_destroy (cfg, NULL);
          if (kata_vm_template_create (cfg, err) < 0)
            return -1;
          kata_vm_template_ready (cfg, &v, &m);
          out_line (out, "vm template created in %s (%d vCPUs, %d MiB) in %.2f s", cfg->factory.template_path,
                    v, m, (kata_now_ns () - t0) / 1e9);
        }
    }
  if (cfg->factory.vm_cache_number > 0)
    {
      if (kata_vmcache_start (cfg, err) < 0)
        return -1;
      out_line (out, "vm cache started: %d VMs at %s", cfg->factory.vm_cache_number,
                cfg->factory.vm_cache_endpoint);
    }
  out_line (out, "vm factory initialized");
  return 0;
}

static void
template_status (const kata_config_t *cfg, char **out, bool *on)
{
  int v = 0, m = 0;
  struct stat mst, sst;
  cleanup_free char *mem = xasprintf ("%s/memory", cfg->factory.template_path);
  cleanup_free char *state = xasprintf ("%s/state", cfg->factory.template_path);

  if (!kata_vm_template_ready (cfg, &v, &m))
    {
      out_line (out, "template: none in %s%s", cfg->factory.template_path,
                cfg->factory.enable_template ? " (sandboxes boot cold)" : "");
      return;
    }
  *on = true;
  if (stat (mem, &mst) < 0)
    memset (&mst, 0, sizeof mst);
  if (stat (state, &sst) < 0)
    memset (&sst, 0, sizeof sst);
  cleanup_free char *msize = human_size ((unsigned long long)mst.st_size);
  cleanup_free char *mused = human_size ((unsigned long long)mst.st_blocks * 512ULL);
  cleanup_free char *ssize = human_size ((unsigned long long)sst.st_size);
  out_line (out, "template: %s: %d vCPUs, %d MiB; memory file %s (%s in use), device state %s%s",
            cfg->factory.template_path, v, m, msize, mused, ssize,
            cfg->factory.enable_template ? "" : " (not used: enable_template is false)");
}

int
kata_factory_status (const kata_config_t *cfg, char **out, kata_error_t **err)
{
  bool on = false;
  cleanup_free char *body = NULL;
  (void)err;
  *out = NULL;
  template_status (cfg, &body, &on);
  if (kata_vmcache_status (cfg, &body))
    on = true;
  if (!factory_enabled (cfg) && !on)
    out_line (out, "vm factory not enabled");
  else
    out_line (out, "vm factory is %s", on ? "on" : "off");
  out_line (out, "%.*s", body ? (int)strlen (body) - 1 : 0, body ? body : "");
  return 0;
}

int
kata_factory_destroy (const kata_config_t *cfg, char **out, kata_error_t **err)
{
  *out = NULL;
  if (kata_vmcache_stop (cfg, err) < 0)
    return -1;
  if (kata_vm_template_destroy (cfg, err) < 0)
    return -1;
  out_line (out, "vm factory destroyed");
  return 0;
}

/* ---- the VM cache daemon ----
   State in <vm_cache_endpoint>.d/: daemon.pid ("PID START"), vm/vmN and shared/vmN of the
   standby monitors (`__monitor DIR vmN FD standby`).  Protocol on the endpoint, one line each
   way: "get" -> "vm CLAIM-SOCK MONITOR-PID MONITOR-START" or "none"; "status" -> lines
   "vmN ready|starting QEMU-PID", then "end". */

static char *
cache_dir (const kata_config_t *cfg)
{
  return xasprintf ("%s.d", cfg->factory.vm_cache_endpoint);
}

static int
unix_connect (const char *path, int timeout_s, kata_error_t **err)
{
  struct timeval tv = { .tv_sec = timeout_s };
  int fd = kata_unix_connect (path, SOCK_CLOEXEC, err);
  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

/* Reads up to EOF or (with ONE_LINE) the first newline. */
static char *
read_reply (int fd, bool one_line)
{
  kata_buf_t b = { 0 };
  for (;;)
    {
      ssize_t n = read (fd, kata_buf_reserve (&b, 4096), 4096);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      kata_buf_commit (&b, (size_t)n);
      if (one_line && memchr (b.data, '\n', b.len))
        break;
    }
  return kata_buf_steal (&b);
}

static char *
cache_request (const kata_config_t *cfg, const char *req, bool one_line, kata_error_t **err)
{
  int fd = unix_connect (cfg->factory.vm_cache_endpoint, 30, err);
  char *r;
  if (fd < 0)
    return NULL;
  if (kata_write_all (fd, req, strlen (req)) < 0)
    {
      kata_make_error (err, errno, "write to the VM cache");
      close (fd);
      return NULL;
    }
  r = read_reply (fd, one_line);
  close (fd);
  return r;
}

int
kata_vmcache_claim (const kata_config_t *cfg, const char *args_json, struct kata_monitor_info_s *info,
                    kata_error_t **err)
{
  cleanup_free char *r = cache_request (cfg, "get\n", true, err);
  char path[4096];
  int mp = 0, fd, qp = 0, vp = 0;
  unsigned long long ms = 0, qs = 0, vs = 0;
  cleanup_free char *ok = NULL;

  if (r == NULL)
    return -1;
  if (sscanf (r, "vm %4095s %d %llu", path, &mp, &ms) != 3)
    return kata_make_error_nostr (err, EAGAIN, "the VM cache has no VM ready (%.*s)", (int)strcspn (r, "\n"),
                                  r);
  fd = unix_connect (path, 60, err);
  if (fd < 0)
    return -1;
  if (kata_write_all (fd, args_json, strlen (args_json)) < 0)
    {
      close (fd);
      return kata_make_error (err, errno, "hand the sandbox to the cached VM");
    }
  shutdown (fd, SHUT_WR);
  ok = read_reply (fd, true);
  close (fd);
  if (sscanf (ok, "ok %d %llu %d %llu", &qp, &qs, &vp, &vs) != 4)
    return kata_make_error_nostr (err, KATA_EVMDEAD, "the cached VM refused the sandbox: %.*s",
                                  (int)strcspn (ok, "\n"), ok);
  info->monitor_pid = mp;
  info->monitor_start = ms;
  info->qemu_pid = qp;
  info->qemu_start = qs;
  info->virtiofsd_pid = vp;
  info->virtiofsd_start = vs;
  return 0;
}

static bool
daemon_pid (const kata_config_t *cfg, pid_t *pid, unsigned long long *start)
{
  cleanup_free char *dir = cache_dir (cfg);
  cleanup_free char *pf = xasprintf ("%s/daemon.pid", dir);
  cleanup_free char *data = NULL;
  int p = 0;
  unsigned long long st = 0;
  if (kata_read_file (pf, &data, NULL, 4096, NULL) < 0 || sscanf (data, "%d %llu", &p, &st) != 2)
    return false;
  *pid = p;
  *start = st;
  return p > 0 && kata_proc_alive (p, st);
}

static unsigned long long
rss_kb (pid_t pid)
{
  cleanup_free char *path = xasprintf ("/proc/%d/status", (int)pid);
  cleanup_free char *data = NULL;
  char *l;
  if (kata_read_file (path, &data, NULL, 1 << 16, NULL) < 0 || (l = strstr (data, "VmRSS:")) == NULL)
    return 0;
  return strtoull (l + 6, NULL, 10);
}

static bool
kata_vmcache_status (const kata_config_t *cfg, char **out)
{
  pid_t pid;
  unsigned long long st;
  cleanup_free char *r = NULL;
  int ready = 0, starting = 0;
  cleanup_free char *vms = NULL;

  if (!daemon_pid (cfg, &pid, &st))
    {
      if (cfg->factory.vm_cache_number > 0)
        out_line (out, "cache: not running (vm_cache_number = %d, endpoint %s)", cfg->factory.vm_cache_number,
                  cfg->factory.vm_cache_endpoint);
      else
        out_line (out, "cache: off (vm_cache_number = 0)");
      return false;
    }
  r = cache_request (cfg, "status\n", false, NULL);
  for (char *save = NULL, *l = r ? strtok_r (r, "\n", &save) : NULL; l; l = strtok_r (NULL, "\n", &save))
    {
      char name[64], state[32];
      int qp = 0;
      if (sscanf (l, "%63s %31s %d", name, state, &qp) != 3)
        continue;
      if (strcmp (state, "ready") == 0)
        {
          cleanup_free char *rss = human_size (rss_kb (qp) * 1024ULL);
          ready++;
          out_line (&vms, "  %s: ready, QEMU pid %d, RSS %s", name, qp, rss);
        }
      else
        {
          starting++;
          out_line (&vms, "  %s: starting", name);
        }
    }
  out_line (out, "cache: %d of %d VMs ready (%d starting) at %s, daemon pid %d", ready,
            cfg->factory.vm_cache_number, starting, cfg->factory.vm_cache_endpoint, (int)pid);
  if (vms)
    out_line (out, "%.*s", (int)strlen (vms) - 1, vms);
  return true;
}

static int
kata_vmcache_start (const kata_config_t *cfg, kata_error_t **err)
{
  pid_t pid;
  unsigned long long st;
  uint64_t deadline;
  int timeout_s = (cfg->hypervisor.boot_timeout > 0 ? cfg->hypervisor.boot_timeout : 60) + 30;

  if (!daemon_pid (cfg, &pid, &st))
    {
      const char *lp = kata_log_path ();
      const char *argv[12];
      int n = 0;
      argv[n++] = "kata-runtime";
      if (cfg->path)
        {
          argv[n++] = "--kata-config";
          argv[n++] = cfg->path;
        }
      if (lp && *lp)
        {
          argv[n++] = "--log";
          argv[n++] = lp;
          argv[n++] = "--log-format";
          argv[n++] = kata_log_format ();
        }
      if (kata_log_debug_enabled ())
        argv[n++] = "--debug";
      argv[n++] = "factory";
      argv[n++] = "__vmcache";
      argv[n] = NULL;
      pid = fork ();
      if (pid < 0)
        return kata_make_error (err, errno, "fork");
      if (pid == 0)
        {
          setsid ();
          if (fork () != 0)
            _exit (0);
          int nul = open ("/dev/null", O_RDWR);
          dup2 (nul, 0);
          dup2 (nul, 1);
          dup2 (nul, 2);
          for (int fd = 3; fd < 1024; fd++)
            close (fd);
          execv ("/proc/self/exe", (char **)argv);
          _exit (127);
        }
      waitpid (pid, NULL, 0);
    }
  /* Wait until the cache is full, so that the next sandbox gets a VM. */
  deadline = kata_now_ns () + (uint64_t)timeout_s * 1000000000ULL;
  for (;;)
    {
      cleanup_free char *r = cache_request (cfg, "status\n", false, NULL);
      int ready = 0;
      for (char *p = r; p && (p = strstr (p, " ready ")); p++)
        ready++;
      if (ready >= cfg->factory.vm_cache_number)
        return 0;
      if (kata_now_ns () > deadline)
        return kata_make_error_nostr (err, KATA_ETIMEOUT,
                                      "factory: the VM cache has %d of %d VMs ready after %d s", ready,
                                      cfg->factory.vm_cache_number, timeout_s);
      usleep (100000);
    }
}

static int
kata_vmcache_stop (const kata_config_t *cfg, kata_error_t **err)
{
  pid_t pid;
  unsigned long long st;
  cleanup_free char *dir = cache_dir (cfg);
  (void)err;
  if (daemon_pid (cfg, &pid, &st))
    {
      uint64_t deadline = kata_now_ns () + 20000000000ULL;
      kill (pid, SIGTERM);
      while (kata_proc_alive (pid, st) && kata_now_ns () < deadline)
        usleep (20000);
      if (kata_proc_alive (pid, st))
        kill (pid, SIGKILL);
    }
  unlink (cfg->factory.vm_cache_endpoint);
  kata_rm_rf (dir, NULL);
  return 0;
}

/* -- the daemon itself -- */

enum slot_state
{
  SLOT_EMPTY,
  SLOT_STARTING,
  SLOT_READY
};

typedef struct
{
  int state;
  char *name;
  int pipe_fd;
  pid_t mpid, qpid;
  unsigned long long mstart, qstart;
  char buf[256];
  size_t len;
} slot_t;

static int
slot_spawn (const kata_config_t *cfg, const char *dir, slot_t *s, unsigned *counter)
{
  kata_error_t *err = NULL;
  kata_sandbox_spec_t spec
      = { .root = dir,
          .cfg = cfg,
          .vcpus = cfg->hypervisor.default_vcpus > 0 ? cfg->hypervisor.default_vcpus : 1,
          .memory_mb = cfg->hypervisor.default_memory > 0 ? cfg->hypervisor.default_memory : 256,
          .hostname = "" };
  cleanup_free char *vm_dir = NULL, *shared = NULL, *args = NULL, *args_path = NULL;
  int pfd[2];
  pid_t pid;

  free (s->name);
  s->name = xasprintf ("vm%u", (*counter)++);
  spec.sandbox_id = s->name;
  vm_dir = xasprintf ("%s/vm/%s", dir, s->name);
  shared = xasprintf ("%s/shared/%s", dir, s->name);
  if (kata_mkdir_p (vm_dir, 0700, &err) < 0 || kata_mkdir_p (shared, 0700, &err) < 0)
    goto fail;
  args = kata_monitor_args_json (&spec);
  args_path = xasprintf ("%s/monitor.json", vm_dir) /* MON_ARGS_FILE */;
  if (kata_write_file_atomic (args_path, args, strlen (args), 0600, &err) < 0)
    goto fail;
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return -1;
  pid = fork ();
  if (pid == 0)
    {
      setsid ();
      if (fork () != 0)
        _exit (0);
      int nul = open ("/dev/null", O_RDWR);
      dup2 (nul, 0);
      dup2 (nul, 1);
      dup2 (nul, 2);
      dup2 (pfd[1], 3);
      for (int fd = 4; fd < 1024; fd++)
        close (fd);
      execl ("/proc/self/exe", "kata-runtime", "__monitor", dir, s->name, "3", "standby", (char *)NULL);
      _exit (127);
    }
  close (pfd[1]);
  if (pid > 0)
    waitpid (pid, NULL, 0);
  s->pipe_fd = pfd[0];
  s->state = SLOT_STARTING;
  s->len = 0;
  return 0;
fail:
  kata_warn ("vm cache: cannot prepare %s: %s", s->name, err->msg);
  kata_error_free (err);
  return -1;
}

static void
slot_kill (const char *dir, slot_t *s)
{
  if (s->state == SLOT_READY && kata_proc_alive (s->mpid, s->mstart))
    kill (s->mpid, SIGTERM);
  if (s->pipe_fd >= 0)
    close (s->pipe_fd);
  s->pipe_fd = -1;
  (void)dir;
}

/* Reads what a starting slot's monitor reports.  False while its line is not complete;
   then the slot is READY ("standby MPID MSTART QPID QSTART") or EMPTY, and its pipe closed. */
static bool
slot_read_report (slot_t *s)
{
  ssize_t r = read (s->pipe_fd, s->buf + s->len, sizeof s->buf - 1 - s->len);
  if (r > 0)
    {
      s->len += r;
      s->buf[s->len] = '\0';
      if (!memchr (s->buf, '\n', s->len) && s->len < sizeof s->buf - 1)
        return false;
    }
  s->buf[s->len] = '\0';
  close (s->pipe_fd);
  s->pipe_fd = -1;
  s->state = sscanf (s->buf, "standby %d %llu %d %llu", &s->mpid, &s->mstart, &s->qpid, &s->qstart) == 4
                 ? SLOT_READY
                 : SLOT_EMPTY;
  return true;
}

/* The cache's directories, its socket (returned) and its pid file. */
static int
cache_listen (const kata_config_t *cfg, const char *vmd, const char *shd, const char *pf)
{
  kata_error_t *err = NULL;
  int lfd;
  if (kata_mkdir_p (vmd, 0700, &err) < 0 || kata_mkdir_p (shd, 0700, &err) < 0)
    {
      kata_log (KATA_LOG_ERROR, "vm cache: %s", err->msg);
      kata_error_free (err);
      return -1;
    }
  {
    cleanup_free char *epdir = xstrdup (cfg->factory.vm_cache_endpoint);
    char *sl = strrchr (epdir, '/');
    if (sl && sl != epdir)
      {
        *sl = '\0';
        kata_mkdir_p (epdir, 0755, NULL);
      }
  }
  lfd = kata_unix_listen (cfg->factory.vm_cache_endpoint, SOCK_CLOEXEC, 16, &err);
  if (lfd < 0)
    {
      kata_log (KATA_LOG_ERROR, "vm cache: %s", err->msg);
      kata_error_free (err);
      return -1;
    }
  chmod (cfg->factory.vm_cache_endpoint, 0600);
  {
    cleanup_free char *pid = xasprintf ("%d %llu\n", (int)getpid (), kata_proc_start_time (getpid ()));
    kata_write_file_atomic (pf, pid, strlen (pid), 0600, NULL);
  }
  return lfd;
}

/* One client of the cache: "get" hands out a ready VM (its claim socket), "status" lists
   the slots. */
static void
serve_client (int lfd, const char *dir, slot_t *slots, int n)
{
  int c = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  char req[64] = "";
  struct timeval tv = { .tv_sec = 5 };
  ssize_t r;
  if (c < 0)
    return;
  setsockopt (c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  r = read (c, req, sizeof req - 1);
  if (r > 0 && strncmp (req, "get", 3) == 0)
    {
      slot_t *s = NULL;
      for (int i = 0; i < n && s == NULL; i++)
        if (slots[i].state == SLOT_READY && kata_proc_alive (slots[i].mpid, slots[i].mstart))
          s = &slots[i];
      if (s)
        {
          dprintf (c, "vm %s/vm/%s/claim.sock %d %llu\n", dir, s->name, (int)s->mpid, s->mstart);
          kata_debug ("vm cache: handed out %s", s->name);
          s->state = SLOT_EMPTY; /* replaced on the next turn */
        }
      else
        dprintf (c, "none\n");
    }
  else if (r > 0 && strncmp (req, "status", 6) == 0)
    {
      for (int i = 0; i < n; i++)
        if (slots[i].state != SLOT_EMPTY)
          dprintf (c, "%s %s %d\n", slots[i].name, slots[i].state == SLOT_READY ? "ready" : "starting",
                   slots[i].state == SLOT_READY ? (int)slots[i].qpid : 0);
      dprintf (c, "end\n");
    }
  close (c);
}

/* Shut down: VMs still booting are waited for (their monitors report, up to 90 s), then
   every standby monitor stops its VM and removes its dir; what does not go in 10 s is
   killed. */
static void
cache_shutdown (const char *dir, slot_t *slots, int n)
{
  for (int i = 0; i < n; i++)
    {
      slot_t *s = &slots[i];
      uint64_t deadline = kata_now_ns () + 90000000000ULL;
      while (s->state == SLOT_STARTING && kata_now_ns () < deadline)
        {
          struct pollfd pp = { .fd = s->pipe_fd, .events = POLLIN };
          if (poll (&pp, 1, 1000) > 0)
            slot_read_report (s);
        }
    }
  for (int i = 0; i < n; i++)
    slot_kill (dir, &slots[i]);
  {
    uint64_t deadline = kata_now_ns () + 10000000000ULL;
    for (int i = 0; i < n; i++)
      {
        while (slots[i].state == SLOT_READY && kata_proc_alive (slots[i].mpid, slots[i].mstart)
               && kata_now_ns () < deadline)
          usleep (20000);
        if (slots[i].state == SLOT_READY && kata_proc_alive (slots[i].mpid, slots[i].mstart))
          kill (slots[i].mpid, SIGKILL);
        if (slots[i].state == SLOT_READY && kata_proc_alive (slots[i].qpid, slots[i].qstart))
          kill (slots[i].qpid, SIGKILL);
      }
  }
}

int
kata_vmcache_main (const kata_config_t *cfg)
{
  int n = cfg->factory.vm_cache_number;
  cleanup_free char *dir = cache_dir (cfg);
  cleanup_free char *pf = xasprintf ("%s/daemon.pid", dir);
  cleanup_free char *vmd = xasprintf ("%s/vm", dir);
  cleanup_free char *shd = xasprintf ("%s/shared", dir);
  slot_t *slots;
  unsigned counter = 0;
  uint64_t next_spawn = 0;
  int lfd, sfd;
  sigset_t set;

  if (n <= 0)
    return 0;
  signal (SIGPIPE, SIG_IGN);
  sigemptyset (&set);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGHUP);
  sigprocmask (SIG_BLOCK, &set, NULL);
  sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  lfd = cache_listen (cfg, vmd, shd, pf);
  if (lfd < 0)
    return 1;
  kata_debug ("vm cache: serving %d VMs on %s", n, cfg->factory.vm_cache_endpoint);
  slots = xmalloc0 (n * sizeof *slots);
  for (int i = 0; i < n; i++)
    slots[i].pipe_fd = -1;

  for (;;)
    {
      struct pollfd p[2 + 1024];
      int np = 0;
      bool term = false;
      uint64_t now = kata_now_ns ();
      for (int i = 0; i < n; i++)
        {
          slot_t *s = &slots[i];
          if (s->state == SLOT_READY && !kata_proc_alive (s->mpid, s->mstart))
            {
              kata_warn ("vm cache: standby VM %s is gone", s->name);
              s->state = SLOT_EMPTY;
            }
          if (s->state == SLOT_EMPTY && now >= next_spawn && slot_spawn (cfg, dir, s, &counter) < 0)
            next_spawn = now + 5000000000ULL;
        }
      p[np++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
      p[np++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
      for (int i = 0; i < n && np < 1026; i++)
        if (slots[i].state == SLOT_STARTING)
          p[np++] = (struct pollfd){ .fd = slots[i].pipe_fd, .events = POLLIN };
      if (poll (p, np, 1000) < 0 && errno != EINTR)
        break;
      if (p[0].revents)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == (ssize_t)sizeof si)
            term = true;
        }
      if (term)
        break;
      for (int k = 2; k < np; k++)
        {
          slot_t *s = NULL;
          if (!p[k].revents)
            continue;
          for (int i = 0; i < n; i++)
            if (slots[i].state == SLOT_STARTING && slots[i].pipe_fd == p[k].fd)
              s = &slots[i];
          if (s == NULL || !slot_read_report (s))
            continue;
          if (s->state == SLOT_READY)
            kata_debug ("vm cache: %s ready (monitor %d, QEMU %d)", s->name, (int)s->mpid, (int)s->qpid);
          else
            {
              kata_warn ("vm cache: standby VM %s failed to start: %.*s", s->name,
                         (int)strcspn (s->buf, "\n"), s->buf);
              next_spawn = kata_now_ns () + 5000000000ULL;
            }
        }
      if (p[1].revents & POLLIN)
        serve_client (lfd, dir, slots, n);
    }
  kata_debug ("vm cache: shutting down");
  close (lfd);
  unlink (cfg->factory.vm_cache_endpoint);
  cache_shutdown (dir, slots, n);
  free (slots);
  kata_rm_rf (vmd, NULL);
  kata_rm_rf (shd, NULL);
  unlink (pf);
  return 0;
}
