/* Host cgroups of a container (docs/cgroups.md "Host cgroups"): the
   spec's linux.cgroupsPath is created in every mounted hierarchy (v1 controllers,
   name=systemd, and the unified one), the container's shim joins it, and for a
   sandbox the monitor and QEMU join it too.  Removed on delete.

   Host limits (docs/cgroups.md): the cgroup of a sandbox container (the one that holds
   QEMU) gets memory = guest memory + [runtime] host_cgroup_overhead_mb, and, when the
   spec sets a CPU quota, cfs quota = spec quota + half a period (QEMU's main loop, the
   monitor and the shim).  A pod container's cgroup holds only its shim: no limits. */
#include "config.h"
#include "runtime/lifecycle.h"
#include "runtime/log.h"
#include "runtime/pod.h"
#include "common/utils.h"
#include "oci_runtime_spec.h"
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

static int
write_str (const char *path, const char *s)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  int r;
  if (fd < 0)
    return -1;
  r = kata_write_all (fd, s, strlen (s));
  close (fd);
  return r < 0 ? -1 : 0;
}

/* A new cpuset cgroup (v1) starts with empty cpus/mems: copy the parent's. */
static void
init_cpuset (const char *dir)
{
  static const char *files[] = { "cpuset.cpus", "cpuset.mems" };
  size_t i;
  for (i = 0; i < 2; i++)
    {
      cleanup_free char *mine = xasprintf ("%s/%s", dir, files[i]);
      cleanup_free char *parent = xasprintf ("%s/../%s", dir, files[i]);
      cleanup_free char *cur = NULL;
      cleanup_free char *val = NULL;
      size_t len = 0;
      if (kata_read_file (mine, &cur, &len, 4096, NULL) < 0)
        continue;
      if (len > 0 && cur[0] != '\n')
        continue;
      if (kata_read_file (parent, &val, &len, 4096, NULL) == 0 && len > 0)
        write_str (mine, val);
    }
}

/* The hierarchies: every directory of /sys/fs/cgroup that is a cgroup mount
   (or /sys/fs/cgroup itself on a v2-only host). */
static char **
hierarchies (size_t *n)
{
  struct statfs sf;
  char **v = NULL;
  size_t k = 0;
  DIR *d;
  struct dirent *de;

  *n = 0;
  if (statfs (CGROUP_ROOT, &sf) == 0 && sf.f_type == 0x63677270 /* CGROUP2_SUPER_MAGIC */)
    {
      v = xmalloc0 (sizeof (char *));
      v[0] = xstrdup (CGROUP_ROOT);
      *n = 1;
      return v;
    }
  d = opendir (CGROUP_ROOT);
  if (d == NULL)
    return NULL;
  while ((de = readdir (d)))
    {
      cleanup_free char *p = NULL;
      struct stat st;
      if (de->d_name[0] == '.')
        continue;
      p = xasprintf ("%s/%s", CGROUP_ROOT, de->d_name);
      if (lstat (p, &st) < 0 || !S_ISDIR (st.st_mode))
        continue; /* symlinks like cpu,cpuacct -> cpu */
      if (statfs (p, &sf) < 0 || (sf.f_type != 0x27e0eb /* CGROUP_SUPER_MAGIC */ && sf.f_type != 0x63677270))
        continue;
      v = xrealloc (v, (k + 1) * sizeof (char *));
      v[k++] = STEAL_POINTER (&p);
    }
  closedir (d);
  *n = k;
  return v;
}

/* "/a/b" or "a/b" -> "a/b"; systemd's "slice:prefix:name" -> "slice/prefix-name.scope". */
static char *
relative_path (const char *cgroups_path, bool systemd)
{
  if (systemd && strchr (cgroups_path, ':'))
    {
      cleanup_free char *copy = xstrdup (cgroups_path);
      char *slice = copy, *prefix, *name;
      prefix = strchr (slice, ':');
      *prefix++ = '\0';
      name = strchr (prefix, ':');
      if (name)
        *name++ = '\0';
      if (*slice == '\0')
        slice = (char *)"system.slice";
      return name ? xasprintf ("%s/%s-%s.scope", slice, prefix, name)
                  : xasprintf ("%s/%s.scope", slice, prefix);
    }
  while (*cgroups_path == '/')
    cgroups_path++;
  return xstrdup (cgroups_path);
}

/* Writes VALUE to FILE in every dir of C that has FILE (absent: that controller is
   not in that hierarchy). */
static void
write_all_dirs (const kata_container_state_t *c, const char *file, const char *value)
{
  size_t i;
  for (i = 0; i < c->cgroup_paths_len; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", c->cgroup_paths[i], file);
      if (access (p, F_OK) < 0)
        continue;
      if (write_str (p, value) < 0)
        kata_warn ("cgroup: write %s to %s: %s", value, p, strerror (errno));
      else
        kata_debug ("cgroup: %s = %s", p, value);
    }
}

/* Host limits of a sandbox's cgroup from the VM's size (MEMORY_MB) and the spec's CPU
   QUOTA/PERIOD (<= 0: no CPU limit).  Memory: guest memory + the overhead; it is never
   below what the VM may touch, so the host never OOM-kills QEMU for guest memory. */
void kata_host_cgroup_set_limits (const kata_config_t *cfg, const kata_container_state_t *c, int memory_mb,
                                  int64_t quota, int64_t period);
void
kata_host_cgroup_set_limits (const kata_config_t *cfg, const kata_container_state_t *c, int memory_mb,
                             int64_t quota, int64_t period)
{
  int overhead = cfg && cfg->runtime.host_cgroup_overhead_mb > 0 ? cfg->runtime.host_cgroup_overhead_mb : 0;
  char buf[64];

  if (memory_mb > 0)
    {
      int64_t bytes = ((int64_t)memory_mb + overhead) << 20;
      snprintf (buf, sizeof buf, "%" PRId64, bytes);
      write_all_dirs (c, "memory.limit_in_bytes", buf); /* v1 */
      write_all_dirs (c, "memory.max", buf);            /* v2 */
    }
  if (quota > 0 && period > 0)
    {
      int64_t host_quota = quota + period / 2;
      snprintf (buf, sizeof buf, "%" PRId64, period);
      write_all_dirs (c, "cpu.cfs_period_us", buf);
      snprintf (buf, sizeof buf, "%" PRId64, host_quota);
      write_all_dirs (c, "cpu.cfs_quota_us", buf);
      snprintf (buf, sizeof buf, "%" PRId64 " %" PRId64, host_quota, period);
      write_all_dirs (c, "cpu.max", buf);
    }
}

/* The limits of a new sandbox's cgroup, from its bundle's config.json (sized as the
   VM is: kata_sandbox_size). */
static void
set_sandbox_limits (kata_context_t *ctx, const kata_container_state_t *c)
{
  cleanup_free char *path = NULL;
  struct parser_context pctx = { 0 };
  parser_error perr = NULL;
  runtime_spec_schema_config_schema *spec;
  int64_t mem = 0, quota = 0, period = 0;
  long ncpu = sysconf (_SC_NPROCESSORS_ONLN);
  int vcpus = 0, memory_mb = 0;

  if (c->bundle == NULL || c->id == NULL || c->sandbox_id == NULL || strcmp (c->id, c->sandbox_id) != 0)
    return;
  path = xasprintf ("%s/config.json", c->bundle);
  spec = runtime_spec_schema_config_schema_parse_file (path, &pctx, &perr);
  free (perr);
  if (spec == NULL)
    return;
  kata_spec_limits (spec->linux ? spec->linux->resources : NULL, &mem, &quota, &period);
  kata_pod_sandbox_limits (ctx->cfg, spec, &mem, &quota, &period);
  free_runtime_spec_schema_config_schema (spec);
  if (quota > 0 && period <= 0)
    period = 100000; /* the kernel's default */
  if (mem <= 0 && quota <= 0)
    return; /* no limits asked for: none on the host either */
  kata_sandbox_size (ctx->cfg, mem, quota, period, ncpu > 0 ? (int)ncpu : 0, &vcpus, &memory_mb);
  kata_host_cgroup_set_limits (ctx->cfg, c, mem > 0 ? memory_mb : 0, quota, period);
}

/* ---- the freezer (docs/cgroups.md "Frozen host cgroups") ----

   The runtime never freezes a host cgroup: pause freezes the container's cgroup in the
   guest, and the host cgroup holds the monitor, QEMU and the shims, which must keep
   running (a frozen monitor answers nothing, not even the resume or the delete).  A
   host cgroup frozen by someone else (a runc container paused under the same
   cgroupsPath, a frozen parent) is refused by create and thawed by delete. */

/* True when DIR is frozen or freezing: v1 freezer.state other than THAWED (it shows
   a frozen parent too), v2 cgroup.freeze 1 or cgroup.events "frozen 1" (idem). */
static bool
dir_frozen (const char *dir)
{
  cleanup_free char *v1 = xasprintf ("%s/freezer.state", dir);
  cleanup_free char *own = xasprintf ("%s/cgroup.freeze", dir);
  cleanup_free char *ev = xasprintf ("%s/cgroup.events", dir);
  cleanup_free char *s = NULL;
  size_t len = 0;

  if (kata_read_file (v1, &s, &len, 4096, NULL) == 0 && len > 0 && strncmp (s, "THAWED", 6) != 0)
    return true;
  free (s);
  s = NULL;
  if (kata_read_file (own, &s, &len, 4096, NULL) == 0 && len > 0 && s[0] == '1')
    return true;
  free (s);
  s = NULL;
  if (kata_read_file (ev, &s, &len, 4096, NULL) == 0 && len > 0)
    {
      const char *f = strstr (s, "frozen ");
      if (f && (f == s || f[-1] == '\n') && f[7] == '1')
        return true;
    }
  return false;
}

/* Thaws C's host cgroup in every hierarchy where it is frozen, so that its processes
   can be killed (a frozen task does not die of SIGKILL under the v1 freezer) and the
   dirs removed.  A cgroup frozen through a frozen parent cannot be thawed from here:
   that is only reported. */
static void
thaw_dir (const char *d)
{
  cleanup_free char *v1 = xasprintf ("%s/freezer.state", d);
  cleanup_free char *own = xasprintf ("%s/cgroup.freeze", d);
  int tries;
  if (!dir_frozen (d))
    return;
  kata_debug ("cgroup %s is frozen; thawing it", d);
  if (access (v1, F_OK) == 0 && write_str (v1, "THAWED") < 0)
    kata_warn ("cgroup: thaw %s: %s", d, strerror (errno));
  if (access (own, F_OK) == 0 && write_str (own, "0") < 0)
    kata_warn ("cgroup: thaw %s: %s", d, strerror (errno));
  for (tries = 0; tries < 50 && dir_frozen (d); tries++)
    {
      struct timespec ts = { 0, 20 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  if (dir_frozen (d))
    kata_warn ("cgroup %s is still frozen (a parent is frozen?): its processes cannot be stopped", d);
}

void
kata_host_cgroup_thaw (const kata_container_state_t *c)
{
  size_t i;
  for (i = 0; i < c->cgroup_paths_len; i++)
    thaw_dir (c->cgroup_paths[i]);
}

int
kata_host_cgroup_create (kata_context_t *ctx, const char *cgroups_path, kata_container_state_t *c,
                         kata_error_t **err)
{
  cleanup_free char *rel = NULL;
  char **h;
  size_t n, i;
  int ret = 0;

  if (cgroups_path == NULL || cgroups_path[0] == '\0')
    return 0;
  if (ctx->systemd_cgroup && access ("/run/systemd/system", F_OK) < 0)
    return kata_make_error_nostr (
        err, EINVAL,
        "systemd cgroup flag passed, but systemd support for managing cgroups is not "
        "available");
  rel = relative_path (cgroups_path, ctx->systemd_cgroup);
  if (rel[0] == '\0' || strstr (rel, "..") != NULL)
    return kata_make_error_nostr (err, EINVAL, "invalid cgroupsPath `%s`", cgroups_path);
  h = hierarchies (&n);
  for (i = 0; i < n && ret == 0; i++)
    {
      cleanup_free char *full = xasprintf ("%s/%s", h[i], rel);
      char *s = full + strlen (h[i]) + 1;
      /* mkdir -p, remembering what we made (removed on delete, deepest first). */
      for (;; s++)
        {
          bool last = *s == '\0';
          if (*s != '/' && !last)
            continue;
          *s = '\0';
          if (mkdir (full, 0755) == 0)
            {
              kata_container_state_add_cgroup (c, full);
              if (strstr (h[i], "cpuset"))
                init_cpuset (full);
            }
          else if (errno != EEXIST)
            {
              ret = kata_make_error (err, errno, "create cgroup `%s`", full);
              break;
            }
          if (last)
            break;
          *s = '/';
        }
      if (ret == 0)
        {
          cleanup_free char *dir = xasprintf ("%s/%s", h[i], rel);
          c->cgroup_paths = xrealloc (c->cgroup_paths, (c->cgroup_paths_len + 1) * sizeof (char *));
          c->cgroup_paths[c->cgroup_paths_len++] = STEAL_POINTER (&dir);
        }
    }
  kata_strvn_free (h, n);
  /* A frozen cgroup (left by someone else, or under a frozen parent) would freeze the
     shim, the monitor and QEMU as they join, and create would hang: refused, not
     thawed, as thawing would resume whatever its owner paused there. */
  for (i = 0; ret == 0 && i < c->cgroup_paths_len; i++)
    if (dir_frozen (c->cgroup_paths[i]))
      ret = kata_make_error_nostr (err, EBUSY,
                                   "cgroup `%s` is frozen: the container's processes (shim, monitor, QEMU) "
                                   "cannot run in a frozen cgroup; thaw it (freezer.state THAWED, "
                                   "cgroup.freeze 0) or use another cgroupsPath",
                                   c->cgroup_paths[i]);
  if (ret == 0)
    set_sandbox_limits (ctx, c);
  return ret;
}

void
kata_host_cgroup_join (const kata_container_state_t *c, pid_t pid)
{
  char buf[32];
  size_t i;
  if (pid <= 0)
    return;
  snprintf (buf, sizeof buf, "%d", (int)pid);
  for (i = 0; i < c->cgroup_paths_len; i++)
    {
      cleanup_free char *procs = xasprintf ("%s/cgroup.procs", c->cgroup_paths[i]);
      if (write_str (procs, buf) < 0)
        kata_debug ("join %s: %s", procs, strerror (errno));
    }
}

const char *
kata_host_cgroup_memory_dir (const kata_container_state_t *c)
{
  size_t i;
  for (i = 0; i < c->cgroups_made_len; i++)
    {
      cleanup_free char *v1 = xasprintf ("%s/memory.limit_in_bytes", c->cgroups_made[i]);
      cleanup_free char *v2 = xasprintf ("%s/memory.max", c->cgroups_made[i]);
      if (access (v1, F_OK) == 0 || access (v2, F_OK) == 0)
        return c->cgroups_made[i];
    }
  return NULL;
}

void
kata_host_cgroup_remove (const kata_container_state_t *c)
{
  size_t i;
  /* What create made goes thawed (what it found is left as it is: a create that
     refused a frozen cgroup leaves its owner's freeze alone). */
  for (i = c->cgroups_made_len; i > 0; i--)
    thaw_dir (c->cgroups_made[i - 1]);
  for (i = c->cgroups_made_len; i > 0; i--)
    {
      /* A killed process leaves its cgroup a moment after it is gone. */
      kata_cgroup_rmdir (c->cgroups_made[i - 1], 0);
    }
}
