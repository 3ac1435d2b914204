/* cgroup v2 in the guest: one cgroup per container under /sys/fs/cgroup/kata/<id>. */
#include "config.h"
#include "agent/agent.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int
write_str (const char *path, const char *val)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  int r;
  if (fd < 0)
    return -1;
  r = kata_write_all (fd, val, strlen (val));
  if (r < 0)
    {
      int e = errno;
      close (fd);
      errno = e;
      return -1;
    }
  close (fd);
  return 0;
}

int
agent_cgroup_setup_root (void)
{
  const char *ctrls[] = { "+cpu", "+memory", "+pids", "+io", "+cpuset" };
  size_t i;
  int r = 0;
  if (mkdir (AGENT_CGROUP_PARENT, 0755) < 0 && errno != EEXIST)
    return -1;
  for (i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++)
    {
      /* one at a time: a controller missing from the kernel must not hide the others */
      if (write_str (AGENT_CGROUP_ROOT "/cgroup.subtree_control", ctrls[i]) < 0)
        agent_log ("enable %s in /: %s", ctrls[i], strerror (errno));
      if (write_str (AGENT_CGROUP_PARENT "/cgroup.subtree_control", ctrls[i]) < 0)
        agent_log ("enable %s in kata: %s", ctrls[i], strerror (errno));
    }
  return r;
}

int
agent_cgroup_write (const char *cg, const char *file, const char *val, kata_error_t **err)
{
  cleanup_free char *p = xasprintf ("%s/%s", cg, file);
  if (write_str (p, val) < 0)
    return kata_make_error (err, errno, "write `%s` to %s", val, p);
  return 0;
}

char *
agent_cgroup_cpu_max (int64_t quota, bool quota_present, uint64_t period, bool period_present)
{
  if (!period_present || period == 0)
    period = 100000;
  if (!quota_present || quota <= 0)
    return xasprintf ("max %" PRIu64, period);
  return xasprintf ("%" PRId64 " %" PRIu64, quota, period);
}

/* The conversion used by runc/crun for cgroup v2 (shares 2..262144 -> weight 1..10000). */
uint64_t
agent_cgroup_shares_to_weight (uint64_t shares)
{
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

static char *
limit_str (int64_t v)
{
  if (v < 0)
    return xstrdup ("max");
  return xasprintf ("%" PRId64, v);
}

int
agent_cgroup_apply (const char *cg, runtime_spec_schema_config_linux_resources *r, kata_error_t **err)
{
  if (r == NULL)
    return 0;
  if (r->memory)
    {
      runtime_spec_schema_config_linux_resources_memory *m = r->memory;
      if (m->limit_present || m->limit)
        {
          cleanup_free char *v = limit_str (m->limit);
          if (agent_cgroup_write (cg, "memory.max", v, err) < 0)
            return -1;
        }
      if (m->reservation_present || m->reservation)
        {
          cleanup_free char *v = limit_str (m->reservation);
          if (agent_cgroup_write (cg, "memory.low", v, err) < 0)
            return -1;
        }
      if (m->swap_present || m->swap)
        {
          /* OCI swap is memory+swap; v2 swap.max is swap alone. */
          cleanup_free char *v = NULL;
          if (m->swap < 0)
            v = xstrdup ("max");
          else if (m->limit > 0 && m->swap >= m->limit)
            v = xasprintf ("%" PRId64, m->swap - m->limit);
          else
            v = xasprintf ("%" PRId64, m->swap);
          if (agent_cgroup_write (cg, "memory.swap.max", v, NULL) < 0)
            agent_log ("memory.swap.max not set (no swap accounting)");
        }
    }
  if (r->cpu)
    {
      runtime_spec_schema_config_linux_resources_cpu *c = r->cpu;
      if (c->shares_present || c->shares)
        {
          cleanup_free char *v = xasprintf ("%" PRIu64, agent_cgroup_shares_to_weight (c->shares));
          if (c->shares && agent_cgroup_write (cg, "cpu.weight", v, err) < 0)
            return -1;
        }
      if (c->quota_present || c->period_present)
        {
          cleanup_free char *v
              = agent_cgroup_cpu_max (c->quota, c->quota_present, c->period, c->period_present);
          if (agent_cgroup_write (cg, "cpu.max", v, err) < 0)
            return -1;
        }
      if (c->cpus && *c->cpus && agent_cgroup_write (cg, "cpuset.cpus", c->cpus, err) < 0)
        return -1;
      if (c->mems && *c->mems && agent_cgroup_write (cg, "cpuset.mems", c->mems, err) < 0)
        return -1;
    }
  if (r->pids && (r->pids->limit_present || r->pids->limit))
    {
      cleanup_free char *v = r->pids->limit <= 0 ? xstrdup ("max") : xasprintf ("%" PRId64, r->pids->limit);
      if (agent_cgroup_write (cg, "pids.max", v, err) < 0)
        return -1;
    }
  if (r->block_io && r->block_io->weight_present && r->block_io->weight)
    {
      cleanup_free char *v = xasprintf ("default %u", (unsigned)r->block_io->weight);
      if (agent_cgroup_write (cg, "io.weight", v, NULL) < 0)
        agent_log ("io.weight: %s", strerror (errno));
    }
  if (r->unified)
    {
      size_t i;
      for (i = 0; i < r->unified->len; i++)
        {
          const char *k = r->unified->keys[i];
          if (strchr (k, '/') || k[0] == '.')
            return kata_make_error_nostr (err, EINVAL, "unified: invalid key `%s`", k);
          if (agent_cgroup_write (cg, k, r->unified->values[i], err) < 0)
            return -1;
        }
    }
  return 0;
}

int
agent_cgroup_create (const char *path, runtime_spec_schema_config_linux_resources *r, kata_error_t **err)
{
  if (mkdir (path, 0755) < 0 && errno != EEXIST)
    return kata_make_error (err, errno, "create cgroup `%s`", path);
  if (agent_cgroup_apply (path, r, err) < 0)
    return kata_error_wrap (err, "cgroup %s", path);
  /* Device rules at creation only (runc's update does not change them either); with no
     rules in the spec the default list still applies, as with runc. */
  if (agent_devcg_apply (path, r ? r->devices : NULL, r ? r->devices_len : 0, err) < 0)
    return kata_error_wrap (err, "cgroup %s", path);
  return 0;
}

pid_t *
agent_cgroup_pids (const char *cg, size_t *n)
{
  cleanup_free char *p = xasprintf ("%s/cgroup.procs", cg);
  cleanup_free char *s = NULL;
  pid_t *out = NULL;
  char *save = NULL, *tok;
  *n = 0;
  if (kata_read_file (p, &s, NULL, 1 << 22, NULL) < 0)
    return NULL;
  for (tok = strtok_r (s, "\n", &save); tok; tok = strtok_r (NULL, "\n", &save))
    {
      out = xrealloc (out, sizeof (pid_t) * (*n + 1));
      out[(*n)++] = atoi (tok);
    }
  return out;
}

int
agent_cgroup_kill (const char *cg)
{
  cleanup_free char *p = xasprintf ("%s/cgroup.kill", cg);
  if (write_str (p, "1") == 0)
    return 0;
  {
    size_t n, i;
    cleanup_free pid_t *pids = agent_cgroup_pids (cg, &n);
    for (i = 0; i < n; i++)
      kill (pids[i], SIGKILL);
  }
  return 0;
}

int
agent_cgroup_destroy (const char *cg)
{
  int i;
  for (i = 0; i < 100; i++)
    {
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      if (rmdir (cg) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY)
        return -1;
      nanosleep (&ts, NULL);
    }
  return -1;
}
