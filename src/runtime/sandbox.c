/* Sandboxes: sandbox or pod container, VM sizing, boot and teardown of the VM. */
#include "config.h"
#include "runtime/agent-client.h"
#include "runtime/lifecycle.h"
#include "runtime/client.h"
#include "runtime/log.h"
#include "runtime/monitor.h"
#include "runtime/network.h"
#include "runtime/storage.h"
#include "common/json.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct
{
  const char *type_key;
  const char *id_key;
} pod_annotations[] = {
  { "io.kubernetes.cri.container-type", "io.kubernetes.cri.sandbox-id" },
  { "io.kubernetes.cri-o.ContainerType", "io.kubernetes.cri-o.SandboxID" },
  { "io.kubernetes.docker.type", "io.kubernetes.sandbox.id" },
};

static const char *
ann_get (char *const *keys, char *const *values, size_t n, const char *key)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (keys[i] && strcmp (keys[i], key) == 0)
      return values[i];
  return NULL;
}

int
kata_sandbox_decide (char *const *keys, char *const *values, size_t n, kata_pod_role_t *role,
                     const char **sandbox_id, kata_error_t **err)
{
  size_t i;

  *role = KATA_ROLE_SANDBOX;
  *sandbox_id = NULL;
  for (i = 0; i < sizeof pod_annotations / sizeof pod_annotations[0]; i++)
    {
      const char *type = ann_get (keys, values, n, pod_annotations[i].type_key);
      const char *sid;
      if (type == NULL)
        continue;
      if (strcmp (type, "sandbox") == 0 || strcmp (type, "podsandbox") == 0)
        return 0;
      if (strcmp (type, "container") != 0)
        return kata_make_error_nostr (err, KATA_EBADCONFIG, "annotation %s: unknown container type `%s`",
                                      pod_annotations[i].type_key, type);
      sid = ann_get (keys, values, n, pod_annotations[i].id_key);
      if (sid == NULL || sid[0] == '\0')
        return kata_make_error_nostr (err, KATA_EBADCONFIG, "annotation %s=container without %s",
                                      pod_annotations[i].type_key, pod_annotations[i].id_key);
      *role = KATA_ROLE_CONTAINER;
      *sandbox_id = sid;
      return 0;
    }
  return 0;
}

bool
kata_sandbox_is_pod (char *const *keys, char *const *values, size_t n)
{
  size_t i;
  for (i = 0; i < sizeof pod_annotations / sizeof pod_annotations[0]; i++)
    {
      const char *type = ann_get (keys, values, n, pod_annotations[i].type_key);
      if (type && (strcmp (type, "sandbox") == 0 || strcmp (type, "podsandbox") == 0))
        return true;
    }
  return false;
}

void
kata_spec_limits (const runtime_spec_schema_config_linux_resources *r, int64_t *mem, int64_t *quota,
                  int64_t *period)
{
  *mem = r && r->memory && r->memory->limit_present ? r->memory->limit : 0;
  *quota = r && r->cpu && r->cpu->quota_present ? r->cpu->quota : 0;
  *period = r && r->cpu && r->cpu->period_present ? (int64_t)r->cpu->period : 0;
}

/* VM size (docs/cgroups.md): guest memory = the limit rounded up to MiB, at least 128
   MiB (the guest kernel, agent and page cache need that much), default_memory when
   unset; vCPUs = ceil(quota / period) (a quota without a period uses the kernel's
   default 100000 us), capped by default_maxvcpus and the host's CPUs, default_vcpus
   when unset.  No hot-plug: the size is fixed at boot. */
void
kata_sandbox_size (const kata_config_t *cfg, int64_t mem_limit, int64_t quota, int64_t period, int host_cpus,
                   int *vcpus, int *memory_mb)
{
  int def_mem = cfg && cfg->hypervisor.default_memory > 0 ? cfg->hypervisor.default_memory : 256;
  int def_cpu = cfg && cfg->hypervisor.default_vcpus > 0 ? cfg->hypervisor.default_vcpus : 1;
  int max_cpu = cfg && cfg->hypervisor.default_maxvcpus > 0 ? cfg->hypervisor.default_maxvcpus : 0;

  if (mem_limit > 0)
    {
      int64_t mb = (mem_limit + (1 << 20) - 1) >> 20;
      if (mb < 128)
        mb = 128;
      if (mb > (1 << 20))
        mb = 1 << 20;
      *memory_mb = (int)mb;
    }
  else
    *memory_mb = def_mem;

  if (quota > 0 && period <= 0)
    period = 100000;
  if (quota > 0 && period > 0)
    {
      int64_t c = (quota + period - 1) / period;
      if (c < 1)
        c = 1;
      if (c > 1024)
        c = 1024;
      *vcpus = (int)c;
    }
  else
    *vcpus = def_cpu;
  if (max_cpu > 0 && *vcpus > max_cpu)
    *vcpus = max_cpu;
  if (host_cpus > 0 && *vcpus > host_cpus)
    *vcpus = host_cpus;
  if (*vcpus < 1)
    *vcpus = 1;
}

int
kata_lifecycle_call (const char *root, const char *sid, const char *method, const char *params,
                     yajl_val *resp, yajl_val *result, int timeout_ms, kata_error_t **err)
{
  kata_client_t *c = NULL;
  int r;
  if (resp)
    *resp = NULL;
  if (kata_client_connect (root, sid, &c, err) < 0)
    return -1;
  r = kata_client_call (c, method, params, resp, result, timeout_ms, err);
  kata_client_close (c);
  if (r < 0)
    return kata_error_wrap (err, "%s", method);
  return 0;
}

void
kata_kill_wait (pid_t pid, unsigned long long start, int timeout_ms)
{
  int waited = 0;
  if (!kata_state_pid_alive (pid, start))
    return;
  kill (pid, SIGKILL);
  while (kata_state_pid_alive (pid, start) && waited < timeout_ms)
    {
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep (&ts, NULL);
      waited += 10;
    }
}

char *
kata_random_hex (size_t bytes)
{
  unsigned char buf[64];
  char *out;
  size_t i;
  int fd;

  if (bytes > sizeof buf)
    bytes = sizeof buf;
  fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || kata_read_all (fd, buf, bytes) != (ssize_t)bytes)
    {
      struct timespec ts;
      clock_gettime (CLOCK_REALTIME, &ts);
      srandom ((unsigned)(ts.tv_nsec ^ getpid ()));
      for (i = 0; i < bytes; i++)
        buf[i] = (unsigned char)random ();
    }
  if (fd >= 0)
    close (fd);
  out = xmalloc (bytes * 2 + 1);
  for (i = 0; i < bytes; i++)
    sprintf (out + i * 2, "%02x", buf[i]);
  out[bytes * 2] = '\0';
  return out;
}

/* Processes whose command line names PATTERN (a path of this sandbox): the monitor and
   QEMU when sandbox.json is unusable. */
static void
kill_by_cmdline (const char *pattern, const char *pattern2)
{
  cleanup_dir DIR *d = opendir ("/proc");
  struct dirent *de;
  pid_t self = getpid ();

  if (d == NULL)
    return;
  while ((de = readdir (d)))
    {
      char path[64];
      cleanup_free char *cmd = NULL;
      size_t len = 0, i;
      pid_t pid = (pid_t)atoi (de->d_name);
      if (pid <= 0 || pid == self)
        continue;
      snprintf (path, sizeof path, "/proc/%d/cmdline", (int)pid);
      if (kata_read_file (path, &cmd, &len, 1 << 20, NULL) < 0 || len == 0)
        continue;
      for (i = 0; i + 1 < len; i++)
        if (cmd[i] == '\0')
          cmd[i] = ' ';
      if (strstr (cmd, pattern) || (pattern2 && strstr (cmd, pattern2)))
        kata_kill_wait (pid, kata_proc_start_time (pid), 2000);
    }
}

int
kata_sandbox_destroy (const char *root, const char *sid, const kata_sandbox_state_t *sb, kata_error_t **err)
{
  cleanup_free char *shared = kata_state_shared_dir (root, sid);
  cleanup_free char *vm = kata_state_vm_dir (root, sid);
  cleanup_free char *sbs = kata_state_sandbox_dir (root, sid);
  cleanup_free char *pattern = xasprintf ("%s/vm/%s/", root, sid);
  cleanup_free char *pattern2 = xasprintf ("__monitor %s %s ", root, sid);
  cleanup_error kata_error_t *e = NULL;

  if (sb && kata_monitor_alive (&sb->info))
    {
      if (kata_monitor_shutdown (root, sid, KATA_SHORT_TIMEOUT_MS, &e) < 0)
        {
          kata_debug ("sandbox %s: %s; killing it", sid, e->msg);
          kata_error_free (e);
          e = NULL;
        }
    }
  if (sb)
    {
      /* Whatever MonitorShutdown left (or a dead monitor's QEMU) goes now. */
      int waited = 0;
      while (waited < 5000
             && (kata_state_pid_alive (sb->info.monitor_pid, sb->info.monitor_start)
                 || kata_state_pid_alive (sb->info.qemu_pid, sb->info.qemu_start)))
        {
          struct timespec ts = { 0, 20 * 1000 * 1000 };
          nanosleep (&ts, NULL);
          waited += 20;
        }
      if (kata_monitor_kill (root, sid, &sb->info, &e) < 0)
        {
          kata_warn ("sandbox %s: %s", sid, e->msg);
          kata_error_free (e);
          e = NULL;
        }
    }
  else
    kill_by_cmdline (pattern, pattern2);

  kata_fault_point ("delete-after-vm-stop");
  {
    /* QEMU is gone: its taps and the veths' redirects go too */
    cleanup_free char *netstate = xasprintf ("%s/%s", sbs, KATA_NET_STATE_FILE);
    cleanup_free char *own_netns = xasprintf ("%s/netns/%s", root, sid);
    if (kata_network_teardown_state (netstate, err) < 0)
      return kata_error_wrap (err, "destroy sandbox %s", sid);
    /* the netns this runtime made for the sandbox, even if network.json was lost */
    if (kata_netns_remove (own_netns, err) < 0)
      return kata_error_wrap (err, "destroy sandbox %s", sid);
  }
  kata_state_cgroups_release (root, sid);
  if (kata_storage_umount_all_under (shared, err) < 0)
    return kata_error_wrap (err, "destroy sandbox %s", sid);
  if (kata_rm_rf (shared, err) < 0 || kata_rm_rf (vm, err) < 0 || kata_rm_rf (sbs, err) < 0)
    return kata_error_wrap (err, "destroy sandbox %s", sid);
  kata_state_prune (root);
  return 0;
}
