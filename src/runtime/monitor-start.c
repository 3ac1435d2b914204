/* The caller's side of the sandbox monitor: start it, kill it, check it. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <dirent.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/hypervisor.h"
#include "runtime/factory.h"
#include "runtime/log.h"
#include "runtime/monitor.h"
#include "runtime/state.h"

#define MON_ARGS_FILE "monitor.json"
#define MON_SOCK "monitor.sock"

/* ---- arguments file ---- */

static char *
args_json (const kata_sandbox_spec_t *spec)
{
  const kata_config_t *c = spec->cfg;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "root", spec->root);
  kata_gen_kv_str (g, "sandbox_id", spec->sandbox_id);
  kata_gen_kv_int (g, "vcpus", spec->vcpus);
  kata_gen_kv_int (g, "memory_mb", spec->memory_mb);
  kata_gen_kv_str (g, "hostname", spec->hostname);
  kata_gen_kv_str (g, "netns_path", spec->netns_path);
  kata_gen_kv_str (g, "cgroup_path", spec->cgroup_path);
  kata_gen_kv_str (g, "block_rootfs", spec->block_rootfs);
  kata_gen_kv_bool (g, "debug", spec->debug);
  {
    const char *lp = kata_log_path ();
    char cwd[4096];
    cleanup_free char *abs = NULL;
    if (lp && lp[0] != '/' && getcwd (cwd, sizeof cwd))
      abs = xasprintf ("%s/%s", cwd, lp);
    kata_gen_kv_str (g, "log_path", abs ? abs : lp);
  }
  kata_gen_kv_str (g, "log_format", kata_log_format ());
  kata_gen_kv_bool (g, "log_debug", kata_log_debug_enabled ());
  kata_gen_str (g, "nics");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < spec->nics_len; i++)
    {
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "tap", spec->nics[i].tap);
      kata_gen_kv_str (g, "mac", spec->nics[i].mac);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  kata_gen_str (g, "hypervisor");
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "path", c->hypervisor.path);
  kata_gen_kv_str (g, "kernel", c->hypervisor.kernel);
  kata_gen_kv_str (g, "initrd", c->hypervisor.initrd);
  kata_gen_kv_str (g, "image", c->hypervisor.image);
  kata_gen_kv_bool (g, "disable_image_nvdimm", c->hypervisor.disable_image_nvdimm);
  kata_gen_kv_str (g, "machine_type", c->hypervisor.machine_type);
  kata_gen_kv_str (g, "accel", c->hypervisor.accel);
  kata_gen_kv_str (g, "kernel_params", c->hypervisor.kernel_params);
  kata_gen_kv_str (g, "shared_fs", c->hypervisor.shared_fs);
  kata_gen_kv_str (g, "virtio_fs_daemon", c->hypervisor.virtio_fs_daemon);
  kata_gen_kv_str (g, "virtio_fs_cache", c->hypervisor.virtio_fs_cache);
  kata_gen_kv_str (g, "tb_size", c->hypervisor.tb_size);
  kata_gen_kv_str (g, "firmware", c->hypervisor.firmware);
  kata_gen_kv_str (g, "memory_backend", c->hypervisor.memory_backend);
  kata_gen_kv_str (g, "seccompsandbox", c->hypervisor.seccompsandbox);
  kata_gen_kv_int (g, "msize_9p", c->hypervisor.msize_9p);
  kata_gen_kv_str (g, "cache_9p", c->hypervisor.cache_9p);
  kata_gen_kv_int (g, "boot_timeout", c->hypervisor.boot_timeout);
  kata_gen_kv_int (g, "memory_slots", c->hypervisor.memory_slots);
  kata_gen_kv_int (g, "default_maxvcpus", c->hypervisor.default_maxvcpus);
  kata_gen_kv_bool (g, "disable_transparent_hugepages", c->hypervisor.disable_transparent_hugepages);
  kata_gen_kv_bool (g, "enable_debug", c->hypervisor.enable_debug);
  kata_gen_kv_bool (g, "agent_debug", c->agent.debug);
  kata_gen_kv_bool (g, "enable_template", c->factory.enable_template);
  kata_gen_kv_str (g, "template_path", c->factory.template_path);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

/* ---- start (caller side) ---- */

static void
close_fds_from (int lowfd)
{
#ifdef SYS_close_range
  if (syscall (SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
    return;
#endif
  for (int fd = lowfd; fd < 65536; fd++)
    close (fd);
}

/* Moves FD to 3, closes every fd above, and points 0-2 at /dev/null. */
static void
child_prepare_fds (int keep, bool devnull_stdio)
{
  if (keep >= 0 && keep != 3)
    {
      if (dup2 (keep, 3) < 0)
        _exit (127);
    }
  close_fds_from (keep >= 0 ? 4 : 3);
  if (devnull_stdio)
    {
      int nul = open ("/dev/null", O_RDWR);
      if (nul >= 0)
        {
          dup2 (nul, 0);
          dup2 (nul, 1);
          dup2 (nul, 2);
          if (nul > 2)
            close (nul);
        }
    }
}

int
kata_join_cgroup (const char *cgroup_path, pid_t pid, kata_error_t **err)
{
  cleanup_free char *procs = xasprintf ("%s/cgroup.procs", cgroup_path);
  char buf[32];
  int fd, n;

  fd = open (procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return kata_make_error (err, errno, "open `%s`", procs);
  n = snprintf (buf, sizeof buf, "%d", (int)pid);
  if (write (fd, buf, n) < 0)
    {
      int e = errno;
      close (fd);
      return kata_make_error (err, e, "write to `%s`", procs);
    }
  close (fd);
  return 0;
}

static bool
shared_dir_empty (const char *dir)
{
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;
  if (d == NULL)
    return false;
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      return false;
  return true;
}

void
kata_monitor_cleanup_dirs (const char *root, const char *sid, bool keep_console)
{
  cleanup_free char *vm_dir = xasprintf ("%s/vm/%s", root, sid);
  cleanup_free char *shared = xasprintf ("%s/shared/%s", root, sid);
  cleanup_free char *sock = xasprintf ("%s/sbs/%s/%s", root, sid, MON_SOCK);
  unlink (sock);
  if (keep_console)
    {
      const char *names[] = { KATA_VM_AGENT_SOCK, KATA_VM_QMP_SOCK, KATA_VM_VFSD_SOCK, NULL };
      for (int i = 0; names[i]; i++)
        {
          cleanup_free char *p = xasprintf ("%s/%s", vm_dir, names[i]);
          unlink (p);
        }
    }
  else
    {
      kata_rm_rf (vm_dir, NULL);
      /* only when empty; with virtio-fs it is a (shared) bind onto itself: unmount it first */
      if (rmdir (shared) < 0 && errno == EBUSY && shared_dir_empty (shared))
        {
          umount2 (shared, MNT_DETACH);
          rmdir (shared);
        }
      kata_state_prune (root);
    }
}

char *
kata_monitor_args_json (const kata_sandbox_spec_t *spec)
{
  return args_json (spec);
}

int
kata_monitor_start (const kata_sandbox_spec_t *spec, kata_monitor_info_t *info, kata_error_t **err)
{
  cleanup_free char *vm_dir = xasprintf ("%s/vm/%s", spec->root, spec->sandbox_id);
  cleanup_free char *shared = xasprintf ("%s/shared/%s", spec->root, spec->sandbox_id);
  cleanup_free char *args_path = NULL;
  cleanup_free char *args = NULL;
  cleanup_free char *msg = NULL;
  int pfd[2];
  pid_t pid;
  size_t len = 0;
  int status;

  memset (info, 0, sizeof *info);
  /* VM cache (docs/factory.md): take a standby VM when the sandbox needs nothing at boot
     that cannot be hot-plugged (its NICs are, on q35). */
  if (spec->cfg->factory.vm_cache_number > 0
      && (spec->nics_len == 0 || strcmp (spec->cfg->hypervisor.machine_type, "microvm") != 0)
      && spec->block_rootfs == NULL && spec->root[0] == '/')
    {
      kata_error_t *e = NULL;
      cleanup_free char *a = args_json (spec);
      if (kata_vmcache_claim (spec->cfg, a, info, &e) == 0)
        {
          kata_log_stage ("monitor-ready");
          return 0;
        }
      kata_warn ("sandbox %s: no VM from the VM cache at `%s` (%s); starting one", spec->sandbox_id,
                 spec->cfg->factory.vm_cache_endpoint, e->msg);
      kata_error_free (e);
      memset (info, 0, sizeof *info);
    }
  if (kata_state_mkdir (vm_dir, false) < 0)
    return kata_make_error (err, errno, "mkdir `%s`", vm_dir);
  if (kata_state_mkdir (shared, false) < 0)
    return kata_make_error (err, errno, "mkdir `%s`", shared);
  args_path = xasprintf ("%s/%s", vm_dir, MON_ARGS_FILE);
  args = args_json (spec);
  if (kata_write_file_atomic (args_path, args, strlen (args), 0600, err) < 0)
    return -1;
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return kata_make_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (pfd[0]);
      close (pfd[1]);
      return kata_make_error (err, errno, "fork");
    }
  if (pid == 0)
    {
      close (pfd[0]);
      setsid ();
      if (spec->cgroup_path && kata_join_cgroup (spec->cgroup_path, getpid (), NULL) < 0)
        {
          dprintf (pfd[1], "err %d cannot join cgroup %s: %s\n", errno, spec->cgroup_path, strerror (errno));
          _exit (1);
        }
      child_prepare_fds (pfd[1], true);
      kata_set_cloexec (3, 0);
      execl ("/proc/self/exe", "kata-runtime", "__monitor", spec->root, spec->sandbox_id, "3", (char *)NULL);
      dprintf (3, "err %d exec /proc/self/exe: %s\n", errno, strerror (errno));
      _exit (127);
    }
  close (pfd[1]);
  /* One line: the VM's processes may inherit the pipe, so do not wait for EOF. */
  msg = xmalloc (65536);
  while (len < 65535)
    {
      ssize_t n = read (pfd[0], msg + len, 65535 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += n;
      if (memchr (msg + len - n, '\n', n))
        break;
    }
  msg[len] = '\0';
  close (pfd[0]);
  if (strncmp (msg, "ok ", 3) == 0)
    {
      int qp = 0, vp = 0;
      unsigned long long qs = 0, vs = 0;
      if (sscanf (msg + 3, "%d %llu %d %llu", &qp, &qs, &vp, &vs) == 4)
        {
          info->monitor_pid = pid;
          info->monitor_start = kata_proc_start_time (pid);
          info->qemu_pid = qp;
          info->qemu_start = qs;
          info->virtiofsd_pid = vp;
          info->virtiofsd_start = vs;
          kata_log_stage ("monitor-ready");
          return 0;
        }
    }
  /* The monitor failed: it cleans up after itself; reap it. */
  waitpid (pid, &status, 0);
  kata_monitor_cleanup_dirs (spec->root, spec->sandbox_id, false);
  if (strncmp (msg, "err ", 4) == 0)
    {
      char *p = msg + 4;
      int st = (int)strtol (p, &p, 10);
      while (*p == ' ')
        p++;
      size_t l = strlen (p);
      while (l && p[l - 1] == '\n')
        p[--l] = '\0';
      return kata_make_error_nostr (err, st > 0 ? st : KATA_EVMDEAD, "%s", p);
    }
  return kata_make_error_nostr (err, KATA_EVMDEAD, "the sandbox monitor exited during start-up (status %d)",
                                WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
}

/* ---- kill / alive ---- */

static void
kill_checked (pid_t pid, unsigned long long start)
{
  if (pid > 0 && kata_proc_alive (pid, start))
    kill (pid, SIGKILL);
}

int
kata_monitor_kill (const char *root, const char *sandbox_id, const kata_monitor_info_t *info,
                   kata_error_t **err)
{
  uint64_t deadline = kata_now_ns () + 10000000000ULL;
  (void)err;
  if (info)
    {
      kill_checked (info->monitor_pid, info->monitor_start);
      kill_checked (info->qemu_pid, info->qemu_start);
      kill_checked (info->virtiofsd_pid, info->virtiofsd_start);
      while (kata_now_ns () < deadline)
        {
          if (info->monitor_pid > 0)
            waitpid (info->monitor_pid, NULL, WNOHANG); /* when it is our child */
          if (!(info->monitor_pid > 0 && kata_proc_alive (info->monitor_pid, info->monitor_start))
              && !(info->qemu_pid > 0 && kata_proc_alive (info->qemu_pid, info->qemu_start))
              && !(info->virtiofsd_pid > 0 && kata_proc_alive (info->virtiofsd_pid, info->virtiofsd_start)))
            break;
          usleep (10000);
        }
    }
  kata_monitor_cleanup_dirs (root, sandbox_id, false);
  return 0;
}

bool
kata_monitor_alive (const kata_monitor_info_t *info)
{
  return info && info->monitor_pid > 0 && kata_proc_alive (info->monitor_pid, info->monitor_start)
         && info->qemu_pid > 0 && kata_proc_alive (info->qemu_pid, info->qemu_start);
}
