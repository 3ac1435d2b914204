/* Pods: namespaces and /dev/shm shared with the sandbox container inside the VM,
   privileged containers without host devices (docs/kubernetes.md). */
#include "config.h"
#include "runtime/agent-client.h"
#include "runtime/pod.h"
#include "common/cap-names.h"
#include "runtime/lifecycle.h"
#include "runtime/log.h"
#include "runtime/state.h"
#include "common/utils.h"
#include <errno.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/vfs.h>

bool
kata_pod_ns_shared (const char *type)
{
  return type && (strcmp (type, "ipc") == 0 || strcmp (type, "uts") == 0 || strcmp (type, "pid") == 0);
}

bool
kata_pod_pidns_path (const runtime_spec_schema_config_schema *spec)
{
  size_t i;
  for (i = 0; spec->linux && i < spec->linux->namespaces_len; i++)
    {
      runtime_spec_schema_defs_linux_namespace_reference *n = spec->linux->namespaces[i];
      if (n->type && strcmp (n->type, "pid") == 0 && n->path && n->path[0])
        return true;
    }
  return false;
}

/* The bounding set of a privileged container holds at least CAP_CHOWN (0) to
   CAP_AUDIT_READ (37): what docker --privileged, containerd's CRI and cri-o give
   (newer capabilities depend on their versions). */
#define PRIVILEGED_LAST_CAP 37

uint64_t
kata_pod_host_caps (void)
{
  uint64_t m = 0;
  int i;
  for (i = 0; i <= PRIVILEGED_LAST_CAP; i++)
    if (prctl (PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) == 1) /* -1: the kernel lacks it */
      m |= 1ULL << i;
  return m;
}

bool
kata_pod_privileged (const runtime_spec_schema_config_schema *spec)
{
  return kata_pod_privileged_caps (spec, kata_pod_host_caps ());
}

bool
kata_pod_privileged_caps (const runtime_spec_schema_config_schema *spec, uint64_t host_caps)
{
  size_t i, k;
  const runtime_spec_schema_config_schema_process_capabilities *c;
  if (spec->process == NULL || (c = spec->process->capabilities) == NULL)
    return false;
  if (spec->linux && (spec->linux->masked_paths_len || spec->linux->readonly_paths_len))
    return false;
  for (i = 0; i <= PRIVILEGED_LAST_CAP; i++)
    {
      if (!(host_caps & (1ULL << i)))
        continue; /* the host has it not: neither has its clients' privileged spec */
      for (k = 0; k < c->bounding_len; k++)
        if (c->bounding[k] && strcasecmp (c->bounding[k], kata_cap_names[i]) == 0)
          break;
      if (k == c->bounding_len)
        return false;
    }
  return true;
}

size_t
kata_pod_drop_host_devices (const kata_config_t *cfg, runtime_spec_schema_config_schema *spec)
{
  size_t i, n;
  if (!cfg->runtime.privileged_without_host_devices || spec->linux == NULL || spec->linux->devices_len == 0
      || !kata_pod_privileged (spec))
    return 0;
  n = spec->linux->devices_len;
  for (i = 0; i < n; i++)
    free_runtime_spec_schema_defs_linux_device (spec->linux->devices[i]);
  free (spec->linux->devices);
  spec->linux->devices = NULL;
  spec->linux->devices_len = 0;
  kata_debug ("privileged container: %zu host devices not passed (privileged_without_host_devices)", n);
  return n;
}

uint64_t
kata_pod_shm_size (char *const *options, size_t n, uint64_t host_tmpfs_size)
{
  size_t i;
  for (i = 0; i < n; i++)
    {
      const char *o = options[i];
      char *end;
      unsigned long long v;
      if (o == NULL || strncmp (o, "size=", 5) != 0)
        continue;
      errno = 0;
      v = strtoull (o + 5, &end, 10);
      if (errno || end == o + 5)
        continue;
      switch (*end)
        {
        case 'k':
        case 'K':
          v <<= 10;
          end++;
          break;
        case 'm':
        case 'M':
          v <<= 20;
          end++;
          break;
        case 'g':
        case 'G':
          v <<= 30;
          end++;
          break;
        default:
          break;
        }
      if (*end == '\0' && v > 0)
        return v;
    }
  if (host_tmpfs_size > 0)
    return host_tmpfs_size;
  return KATA_POD_SHM_DEFAULT_SIZE;
}

#define POD_SHM_FILE "pod-shm"

int
kata_pod_shm (const char *root, const char *sid, bool new_sandbox,
              const runtime_spec_schema_config_schema *spec, kata_bind_plan_t *plan, size_t nplan,
              kata_error_t **err)
{
  cleanup_free char *sbs = kata_state_sandbox_dir (root, sid);
  cleanup_free char *file = xasprintf ("%s/" POD_SHM_FILE, sbs);
  cleanup_free char *recorded = NULL;
  size_t i, len = 0;

  for (i = 0; i < nplan; i++)
    {
      kata_bind_plan_t *p = &plan[i];
      const runtime_spec_schema_defs_mount *m = spec->mounts[p->index];
      uint64_t size = 0;
      if (m->destination == NULL || strcmp (m->destination, "/dev/shm") != 0 || p->block || p->host_mount
          || p->is_file || p->ephemeral || p->local)
        continue;
      if (new_sandbox)
        {
          struct statfs sf;
          if (statfs (p->host_source, &sf) == 0 && sf.f_type == TMPFS_MAGIC)
            size = (uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize;
          size = kata_pod_shm_size (m->options, m->options_len, size);
        }
      else
        {
          if (recorded == NULL)
            {
              kata_error_t *e = NULL;
              if (kata_read_file (file, &recorded, &len, 1 << 16, &e) < 0)
                {
                  kata_error_free (e);
                  return 0; /* the sandbox has no shm of its own */
                }
              if (len && recorded[len - 1] == '\n')
                recorded[len - 1] = '\0';
            }
          if (strcmp (recorded, p->host_source) != 0)
            continue;
        }
      free (p->host_target);
      p->host_target = NULL;
      free (p->guest_source);
      p->guest_source = xstrdup (KATA_GUEST_SANDBOX_SHM);
      p->ephemeral = true;
      p->shm_size = size;
      kata_debug ("/dev/shm: the sandbox's guest tmpfs (%s)", new_sandbox ? "new" : "shared");
    }
  return 0;
}

int
kata_pod_shm_record (const char *root, const char *sid, const kata_bind_plan_t *plan, size_t nplan,
                     kata_error_t **err)
{
  cleanup_free char *sbs = kata_state_sandbox_dir (root, sid);
  cleanup_free char *file = xasprintf ("%s/" POD_SHM_FILE, sbs);
  size_t i;
  for (i = 0; i < nplan; i++)
    if (plan[i].ephemeral && plan[i].guest_source
        && strcmp (plan[i].guest_source, KATA_GUEST_SANDBOX_SHM) == 0)
      {
        cleanup_free char *rec = xasprintf ("%s\n", plan[i].host_source);
        if (kata_write_file_atomic (file, rec, strlen (rec), 0600, err) < 0)
          return kata_error_wrap (err, "sandbox shm");
      }
  return 0;
}

/* containerd (1.7+) puts the pod's resources (the sum of its containers' limits, from
   the kubelet) on the sandbox's spec. */
#define ANN_SANDBOX_MEMORY "io.kubernetes.cri.sandbox-memory"
#define ANN_SANDBOX_CPU_QUOTA "io.kubernetes.cri.sandbox-cpu-quota"
#define ANN_SANDBOX_CPU_PERIOD "io.kubernetes.cri.sandbox-cpu-period"

static int64_t
ann_int (const runtime_spec_schema_config_schema *spec, const char *key)
{
  size_t i;
  for (i = 0; spec->annotations && i < spec->annotations->len; i++)
    if (spec->annotations->keys[i] && strcmp (spec->annotations->keys[i], key) == 0
        && spec->annotations->values[i])
      {
        char *end;
        long long v;
        errno = 0;
        v = strtoll (spec->annotations->values[i], &end, 10);
        if (errno || end == spec->annotations->values[i] || *end || v <= 0)
          return 0;
        return v;
      }
  return 0;
}

void
kata_pod_sandbox_limits (const kata_config_t *cfg, const runtime_spec_schema_config_schema *spec,
                         int64_t *mem, int64_t *quota, int64_t *period)
{
  int64_t amem = ann_int (spec, ANN_SANDBOX_MEMORY);
  int64_t aquota = ann_int (spec, ANN_SANDBOX_CPU_QUOTA);
  int64_t aperiod = ann_int (spec, ANN_SANDBOX_CPU_PERIOD);
  int def_mem = cfg && cfg->hypervisor.default_memory > 0 ? cfg->hypervisor.default_memory : 256;
  int def_cpu = cfg && cfg->hypervisor.default_vcpus > 0 ? cfg->hypervisor.default_vcpus : 1;

  if (amem > 0 && amem < (INT64_C (1) << 50))
    *mem = ((int64_t)def_mem << 20) + amem;
  if (aquota > 0)
    {
      if (aperiod <= 0 || aperiod > 1000000)
        aperiod = 100000;
      if (aquota > aperiod * 1024)
        aquota = aperiod * 1024;
      *period = aperiod;
      *quota = aquota + (int64_t)def_cpu * aperiod;
    }
}

void kata_host_cgroup_set_limits (const kata_config_t *cfg, const kata_container_state_t *c, int memory_mb,
                                  int64_t quota, int64_t period);

/* True when one of the sandbox container's host cgroups has a finite limit in one of
   FILES (the v2 name, then the v1 one): "max", v1's "no limit" (a page-rounded
   LLONG_MAX) and -1 are no limit. */
static bool
host_cgroup_limited (const kata_container_state_t *sbc, const char *const files[2])
{
  size_t i, k;
  for (i = 0; i < sbc->cgroup_paths_len; i++)
    for (k = 0; k < 2; k++)
      {
        cleanup_free char *p = xasprintf ("%s/%s", sbc->cgroup_paths[i], files[k]);
        cleanup_free char *v = NULL;
        kata_error_t *e = NULL;
        long long cur;
        if (kata_read_file (p, &v, NULL, 64, &e) < 0)
          {
            kata_error_free (e);
            continue;
          }
        cur = strtoll (v, NULL, 10);
        if (strncmp (v, "max", 3) != 0 && cur > 0 && cur < (1LL << 62))
          return true;
      }
  return false;
}

/* The sandbox container's host cgroup: raised to the VM's new size when it has a memory
   limit (the sandbox's spec asked for one), so the host never OOM-kills QEMU for memory
   the guest was given. */
static void
grow_host_cgroup (const kata_config_t *cfg, const kata_container_state_t *sbc, int memory_mb)
{
  static const char *const files[] = { "memory.max", "memory.limit_in_bytes" };
  if (host_cgroup_limited (sbc, files))
    kata_host_cgroup_set_limits (cfg, sbc, memory_mb, 0, 0);
}

/* The pod's hot-plugged memory (<root>/sbs/<sid>/pod-memory): "plugged N" (MiB added
   to the VM since boot), then "CID M" for each container that holds M MiB of it.
   Entries of containers no longer in the sandbox are dropped when read: their memory
   is free again for the next container (a DIMM cannot be taken out of the guest). */
#define POD_MEMORY_FILE "pod-memory"

typedef struct
{
  int64_t plugged, held;
  char **ids;
  int64_t *mb;
  size_t n;
} pod_memory_t;

static void
pod_memory_free (pod_memory_t *pm)
{
  size_t i;
  for (i = 0; i < pm->n; i++)
    free (pm->ids[i]);
  free (pm->ids);
  free (pm->mb);
  memset (pm, 0, sizeof *pm);
}

static bool
sb_has (const kata_sandbox_state_t *sb, const char *cid)
{
  size_t i;
  for (i = 0; i < sb->containers_len; i++)
    if (strcmp (sb->containers[i], cid) == 0)
      return true;
  return false;
}

/* Reads the file, keeping the entries of SB's containers and of KEEP. */
static void
pod_account_load (const char *root, const kata_sandbox_state_t *sb, const char *file, const char *keep,
                  pod_memory_t *pm)
{
  cleanup_free char *path = xasprintf ("%s/sbs/%s/%s", root, sb->id, file);
  cleanup_free char *data = NULL;
  char *line, *save = NULL;
  size_t len = 0;
  kata_error_t *e = NULL;

  memset (pm, 0, sizeof *pm);
  if (kata_read_file (path, &data, &len, 1 << 20, &e) < 0)
    {
      kata_error_free (e);
      return;
    }
  for (line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *sp = strchr (line, ' ');
      long long v;
      if (sp == NULL)
        continue;
      *sp = '\0';
      v = strtoll (sp + 1, NULL, 10);
      if (v < 0)
        continue;
      if (strcmp (line, "plugged") == 0)
        pm->plugged = v;
      else if (sb_has (sb, line) || (keep && strcmp (line, keep) == 0))
        {
          pm->ids = xrealloc (pm->ids, (pm->n + 1) * sizeof *pm->ids);
          pm->mb = xrealloc (pm->mb, (pm->n + 1) * sizeof *pm->mb);
          pm->ids[pm->n] = xstrdup (line);
          pm->mb[pm->n++] = v;
          pm->held += v;
        }
    }
}

static int64_t *
pod_memory_entry (pod_memory_t *pm, const char *cid)
{
  size_t i;
  for (i = 0; i < pm->n; i++)
    if (strcmp (pm->ids[i], cid) == 0)
      return &pm->mb[i];
  pm->ids = xrealloc (pm->ids, (pm->n + 1) * sizeof *pm->ids);
  pm->mb = xrealloc (pm->mb, (pm->n + 1) * sizeof *pm->mb);
  pm->ids[pm->n] = xstrdup (cid);
  pm->mb[pm->n] = 0;
  return &pm->mb[pm->n++];
}

static int
pod_account_save (const char *root, const char *sid, const char *file, const pod_memory_t *pm,
                  kata_error_t **err)
{
  cleanup_free char *path = xasprintf ("%s/sbs/%s/%s", root, sid, file);
  cleanup_free char *data = xasprintf ("plugged %lld\n", (long long)pm->plugged);
  size_t i;
  for (i = 0; i < pm->n; i++)
    {
      char *d = xasprintf ("%s%s %lld\n", data, pm->ids[i], (long long)pm->mb[i]);
      free (data);
      data = d;
    }
  return kata_write_file_atomic (path, data, strlen (data), 0600, err);
}

/* Gives container CID SIZE_MB of the pod's hot-plugged memory: what containers that
   left freed first, a new DIMM for the rest. */
static int
pod_memory_take (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb, const char *cid,
                 int64_t size_mb, kata_error_t **err)
{
  pod_memory_t pm;
  int64_t free_mb, need;
  int before = sb->memory_mb;
  int r = 0;

  pod_account_load (root, sb, POD_MEMORY_FILE, NULL, &pm);
  free_mb = pm.plugged > pm.held ? pm.plugged - pm.held : 0;
  need = size_mb > free_mb ? (size_mb - free_mb + 127) / 128 * 128 : 0;
  if (need > 0)
    r = kata_pod_grow_memory (root, cfg, sb, cid, need, err);
  if (r == 0 && (need == 0 || sb->memory_mb > before))
    {
      pm.plugged += sb->memory_mb - before;
      *pod_memory_entry (&pm, cid) += size_mb;
      if (need == 0)
        kata_debug ("container %s: %lld MiB of memory freed by containers that left the pod: no hot-plug",
                    cid, (long long)size_mb);
      r = pod_account_save (root, sb->id, POD_MEMORY_FILE, &pm, err);
    }
  pod_memory_free (&pm);
  return r;
}

int
kata_pod_hotplug_memory (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb,
                         const char *cid, const runtime_spec_schema_config_schema *spec, kata_error_t **err)
{
  cleanup_container_state kata_container_state_t *sbc = NULL;
  kata_error_t *e = NULL;
  int64_t limit, size_mb;
  size_t i;

  limit = spec->linux && spec->linux->resources && spec->linux->resources->memory
                  && spec->linux->resources->memory->limit_present
              ? spec->linux->resources->memory->limit
              : 0;
  if (limit <= 0)
    return 0;
  if (kata_container_state_load (root, sb->id, sb->id, &sbc, &e) < 0)
    {
      kata_error_free (e); /* the sandbox container is gone: nothing to size from */
      sbc = NULL;
    }
  for (i = 0; sbc && i < sbc->ann_len; i++)
    if (sbc->ann_keys[i] && strcmp (sbc->ann_keys[i], ANN_SANDBOX_MEMORY) == 0)
      {
        kata_debug ("container %s: the pod was sized at boot (%s): no memory hot-plug", cid,
                    ANN_SANDBOX_MEMORY);
        return 0;
      }
  size_mb = (limit + (128LL << 20) - 1) / (128LL << 20) * 128;
  return pod_memory_take (root, cfg, sb, cid, size_mb, err);
}

int
kata_pod_grow_memory (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb, const char *cid,
                      int64_t size_mb, kata_error_t **err)
{
  cleanup_container_state kata_container_state_t *sbc = NULL;
  cleanup_free char *dimm = NULL;
  cleanup_free char *rnd = kata_random_hex (4);
  kata_error_t *e = NULL;

  if (kata_container_state_load (root, sb->id, sb->id, &sbc, &e) < 0)
    {
      kata_error_free (e); /* the sandbox container is gone: no host cgroup to raise */
      e = NULL;
      sbc = NULL;
    }
  if (size_mb > (1 << 20))
    return kata_make_error_nostr (err, KATA_EBADCONFIG, "container %s: memory limit of %lld MiB is too large",
                                  cid, (long long)size_mb);
  dimm = xasprintf ("dimm-%s", rnd);
  if (kata_monitor_hotplug_memory (root, sb->id, dimm, size_mb, KATA_CALL_TIMEOUT_MS, &e) < 0)
    {
      if (e && strstr (e->msg, "no memory slots"))
        {
          kata_debug ("container %s: %s; the VM keeps its size", cid, e->msg);
          kata_error_free (e);
          return 0;
        }
      *err = e;
      return kata_error_wrap (err, "container %s: grow sandbox %s by its memory limit (%lld MiB)", cid,
                              sb->id, (long long)size_mb);
    }
  sb->memory_mb += (int)size_mb;
  kata_debug ("container %s: sandbox %s grew by %lld MiB to %d MiB", cid, sb->id, (long long)size_mb,
              sb->memory_mb);
  if (sbc)
    grow_host_cgroup (cfg, sbc, sb->memory_mb);
  return kata_sandbox_state_save (root, sb, err);
}

int
kata_pod_update_memory (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb, const char *cid,
                        int64_t limit, kata_error_t **err)
{
  pod_memory_t pm;
  int64_t need;
  int before = sb->memory_mb, r;

  if (limit <= 0 || limit <= ((int64_t)sb->memory_mb << 20))
    return 0;
  /* The VM must hold the new limit: what is free in it does not make it bigger. */
  need = (limit - ((int64_t)sb->memory_mb << 20) + (128LL << 20) - 1) / (128LL << 20) * 128;
  if (kata_pod_grow_memory (root, cfg, sb, cid, need, err) < 0)
    return -1;
  if (sb->memory_mb == before)
    return 0;
  pod_account_load (root, sb, POD_MEMORY_FILE, cid, &pm);
  pm.plugged += sb->memory_mb - before;
  *pod_memory_entry (&pm, cid) += sb->memory_mb - before;
  r = pod_account_save (root, sb->id, POD_MEMORY_FILE, &pm, err);
  pod_memory_free (&pm);
  return r;
}

/* ---- vCPUs (docs/kubernetes.md "vCPUs") ----

   The pod's hot-plugged vCPUs (<root>/sbs/<sid>/pod-cpu), kept as its memory is:
   "plugged N" (vCPUs added since boot), then "CID M" for each container that holds M of
   them.  A vCPU is never unplugged: those of containers that left go to the next. */
#define POD_CPU_FILE "pod-cpu"

int
kata_pod_cpu_count (int64_t quota, int64_t period)
{
  int64_t c;
  if (quota <= 0)
    return 0;
  if (period <= 0)
    period = 100000;
  c = (quota + period - 1) / period;
  return c > 1024 ? 1024 : (int)c;
}

int
kata_pod_cpu_to_plug (int64_t plugged, int64_t held, int want)
{
  int64_t free_cpus = plugged > held ? plugged - held : 0;
  return want > free_cpus ? (int)(want - free_cpus) : 0;
}

/* The sandbox's host cgroup CPU quota, when it has one, follows the VM's vCPUs. */
static void
grow_host_cgroup_cpu (const kata_config_t *cfg, const kata_container_state_t *sbc, int vcpus)
{
  static const char *const files[] = { "cpu.max", "cpu.cfs_quota_us" };
  if (host_cgroup_limited (sbc, files)) /* no quota: nothing to follow */
    kata_host_cgroup_set_limits (cfg, sbc, 0, (int64_t)vcpus * 100000, 100000);
}

/* Adds up to COUNT vCPUs to SB's VM for container CID and onlines them in the guest;
 *ADDED says how many (0 when the VM cannot grow: microvm, no free slot). */
static int
pod_grow_cpu (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb, const char *cid,
              int count, int *added, kata_error_t **err)
{
  cleanup_container_state kata_container_state_t *sbc = NULL;
  kata_error_t *e = NULL;
  int online = 0;

  *added = 0;
  if (cfg && strcmp (cfg->hypervisor.machine_type, "microvm") == 0)
    {
      kata_debug ("container %s: machine_type \"microvm\" has no vCPU hot-plug; the VM keeps %d vCPUs", cid,
                  sb->vcpus);
      return 0;
    }
  if (kata_monitor_hotplug_cpu (root, sb->id, count, added, KATA_CALL_TIMEOUT_MS, &e) < 0)
    {
      if (e && (e->status == ENOSPC || e->status == KATA_ENOTIMPL || strstr (e->msg, "no free CPU slot")))
        {
          kata_debug ("container %s: %s; the VM keeps %d vCPUs", cid, e->msg, sb->vcpus);
          kata_error_free (e);
          return 0;
        }
      *err = e;
      return kata_error_wrap (err, "container %s: grow sandbox %s by %d vCPUs", cid, sb->id, count);
    }
  sb->vcpus += *added;
  kata_debug ("container %s: sandbox %s grew by %d vCPUs to %d", cid, sb->id, *added, sb->vcpus);
  if (kata_sandbox_state_save (root, sb, err) < 0)
    return -1;
  /* The VM has grown whatever the guest does with the CPUs: an agent that cannot
     online them (one older than OnlineCpus) leaves them offline, the container runs. */
  if (kata_agent_online_cpus (root, sb->id, sb->vcpus, 10000, &online, KATA_CALL_TIMEOUT_MS, &e) < 0)
    {
      kata_warn ("container %s: online the hot-plugged vCPUs: %s", cid, e ? e->msg : "failed");
      kata_error_free (e);
      e = NULL;
    }
  else
    kata_debug ("container %s: %d vCPUs online in the guest", cid, online);
  if (kata_container_state_load (root, sb->id, sb->id, &sbc, &e) < 0)
    kata_error_free (e);
  else
    grow_host_cgroup_cpu (cfg, sbc, sb->vcpus);
  return 0;
}

static bool
sized_at_boot (const char *root, const kata_sandbox_state_t *sb, const char *key)
{
  cleanup_container_state kata_container_state_t *sbc = NULL;
  kata_error_t *e = NULL;
  size_t i;
  if (kata_container_state_load (root, sb->id, sb->id, &sbc, &e) < 0)
    {
      kata_error_free (e);
      return false;
    }
  for (i = 0; i < sbc->ann_len; i++)
    if (sbc->ann_keys[i] && strcmp (sbc->ann_keys[i], key) == 0 && sbc->ann_values[i]
        && strtoll (sbc->ann_values[i], NULL, 10) > 0)
      return true;
  return false;
}

int
kata_pod_hotplug_cpu (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb, const char *cid,
                      const runtime_spec_schema_config_schema *spec, kata_error_t **err)
{
  const runtime_spec_schema_config_linux_resources *r = spec->linux ? spec->linux->resources : NULL;
  int64_t quota = 0, period = 0;
  pod_memory_t pc;
  int want, need, added = 0, r2 = 0;

  if (r && r->cpu && r->cpu->quota_present)
    quota = r->cpu->quota;
  if (r && r->cpu && r->cpu->period_present)
    period = (int64_t)r->cpu->period;
  want = kata_pod_cpu_count (quota, period);
  if (want == 0)
    return 0;
  if (sized_at_boot (root, sb, ANN_SANDBOX_CPU_QUOTA))
    {
      kata_debug ("container %s: the pod was sized at boot (%s): no vCPU hot-plug", cid,
                  ANN_SANDBOX_CPU_QUOTA);
      return 0;
    }
  pod_account_load (root, sb, POD_CPU_FILE, NULL, &pc);
  need = kata_pod_cpu_to_plug (pc.plugged, pc.held, want);
  if (need > 0 && pod_grow_cpu (root, cfg, sb, cid, need, &added, err) < 0)
    r2 = -1;
  else
    {
      int64_t free_cpus = pc.plugged > pc.held ? pc.plugged - pc.held : 0;
      pc.plugged += added;
      *pod_memory_entry (&pc, cid) += want < free_cpus + added ? want : free_cpus + added;
      if (need == 0)
        kata_debug ("container %s: %d vCPUs freed by containers that left the pod: no hot-plug", cid, want);
      r2 = pod_account_save (root, sb->id, POD_CPU_FILE, &pc, err);
    }
  pod_memory_free (&pc);
  return r2;
}

int
kata_pod_update_cpu (const char *root, const kata_config_t *cfg, kata_sandbox_state_t *sb, const char *cid,
                     int64_t quota, int64_t period, kata_error_t **err)
{
  int want = kata_pod_cpu_count (quota, period);
  int added = 0, r;
  pod_memory_t pc;

  if (want <= sb->vcpus)
    return 0;
  if (pod_grow_cpu (root, cfg, sb, cid, want - sb->vcpus, &added, err) < 0)
    return -1;
  if (added == 0)
    return 0;
  pod_account_load (root, sb, POD_CPU_FILE, cid, &pc);
  pc.plugged += added;
  *pod_memory_entry (&pc, cid) += added;
  r = pod_account_save (root, sb->id, POD_CPU_FILE, &pc, err);
  pod_memory_free (&pc);
  return r;
}
