/* kata-runtime update [options] <container-id>: new LinuxResources. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cmd/kata-runtime/common.h"
#include "common/json.h"
#include "common/utils.h"

enum
{
  U_MEMORY,
  U_MEMORY_SWAP,
  U_MEMORY_RESERVATION,
  U_KERNEL_MEMORY,
  U_KERNEL_MEMORY_TCP,
  U_CPU_SHARES,
  U_CPU_QUOTA,
  U_CPU_PERIOD,
  U_CPU_RT_PERIOD,
  U_CPU_RT_RUNTIME,
  U_CPUSET_CPUS,
  U_CPUSET_MEMS,
  U_PIDS_LIMIT,
  U_BLKIO_WEIGHT,
  U_N
};

static const char *const flag_names[U_N] = {
  "memory",      "memory-swap", "memory-reservation", "kernel-memory", "kernel-memory-tcp",
  "cpu-share",   "cpu-quota",   "cpu-period",         "cpu-rt-period", "cpu-rt-runtime",
  "cpuset-cpus", "cpuset-mems", "pids-limit",         "blkio-weight",
};

struct update_args
{
  const char *resources;
  const char *val[U_N];
};

#define OPT_BASE 1000
static const struct argp_option options[] = {
  { "resources", 'r', "FILE", 0,
    "path to the file containing the resources to update or '-' to read from the standard input", 0 },
  { "blkio-weight", OPT_BASE + U_BLKIO_WEIGHT, "N", 0,
    "Specifies per cgroup weight, range is from 10 to 1000", 0 },
  { "cpu-period", OPT_BASE + U_CPU_PERIOD, "N", 0,
    "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default", 0 },
  { "cpu-quota", OPT_BASE + U_CPU_QUOTA, "N", 0,
    "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period", 0 },
  { "cpu-share", OPT_BASE + U_CPU_SHARES, "N", 0, "CPU shares (relative weight vs. other containers)", 0 },
  { "cpu-shares", OPT_BASE + U_CPU_SHARES, "N", OPTION_HIDDEN, NULL, 0 },
  { "cpu-rt-period", OPT_BASE + U_CPU_RT_PERIOD, "N", 0,
    "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default", 0 },
  { "cpu-rt-runtime", OPT_BASE + U_CPU_RT_RUNTIME, "N", 0,
    "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period", 0 },
  { "cpuset-cpus", OPT_BASE + U_CPUSET_CPUS, "CPUS", 0, "CPU(s) to use", 0 },
  { "cpuset-mems", OPT_BASE + U_CPUSET_MEMS, "MEMS", 0, "Memory node(s) to use", 0 },
  { "kernel-memory", OPT_BASE + U_KERNEL_MEMORY, "SIZE", 0, "Kernel memory limit (in bytes)", 0 },
  { "kernel-memory-tcp", OPT_BASE + U_KERNEL_MEMORY_TCP, "SIZE", 0,
    "Kernel memory limit (in bytes) for tcp buffer", 0 },
  { "memory", OPT_BASE + U_MEMORY, "SIZE", 0, "Memory limit (in bytes)", 0 },
  { "memory-reservation", OPT_BASE + U_MEMORY_RESERVATION, "SIZE", 0,
    "Memory reservation or soft_limit (in bytes)", 0 },
  { "memory-swap", OPT_BASE + U_MEMORY_SWAP, "SIZE", 0,
    "Total memory usage (memory + swap); set '-1' to enable unlimited swap", 0 },
  { "pids-limit", OPT_BASE + U_PIDS_LIMIT, "N", 0, "Maximum number of pids allowed in the container", 0 },
  { 0 },
};

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  struct update_args *a = state->input;
  if (key == 'r')
    {
      a->resources = arg;
      return 0;
    }
  if (key >= OPT_BASE && key < OPT_BASE + U_N)
    {
      a->val[key - OPT_BASE] = arg;
      return 0;
    }
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp = {
  options,
  parse_opt,
  "<container-id>",
  "update container resource constraints\v"
  "The accepted format of the --resources file is an OCI LinuxResources object:\n\n"
  "{\n  \"memory\": {\"limit\": 0, \"reservation\": 0, \"swap\": 0, \"kernel\": 0, \"kernelTCP\": 0},\n"
  "  \"cpu\": {\"shares\": 0, \"quota\": 0, \"period\": 0, \"realtimeRuntime\": 0, \"realtimePeriod\": 0, "
  "\"cpus\": \"\", \"mems\": \"\"},\n  \"blockIO\": {\"weight\": 0},\n  \"pids\": {\"limit\": 0}\n}\n\n"
  "Note: if data is to be read from a file or the standard input, all other options are ignored.",
  kata_cmd_common_children,
  NULL,
  NULL
};

/* One flag's value as a JSON integer; memory flags take sizes ("256m") and -1. */
static int
flag_int (struct update_args *a, int i, long long *v, kata_error_t **err)
{
  const char *s = a->val[i];
  bool mem = i == U_MEMORY || i == U_MEMORY_SWAP || i == U_MEMORY_RESERVATION || i == U_KERNEL_MEMORY
             || i == U_KERNEL_MEMORY_TCP;
  if (mem)
    {
      int64_t b;
      if (strcmp (s, "-1") == 0)
        {
          *v = -1;
          return 0;
        }
      if (kata_parse_mem_size (s, &b, err) < 0)
        return kata_error_wrap (err, "invalid value for %s", flag_names[i]);
      *v = b;
      return 0;
    }
  if (i == U_CPU_QUOTA || i == U_CPU_RT_RUNTIME || i == U_PIDS_LIMIT)
    return kata_parse_int (flag_names[i], s, INT64_MIN, INT64_MAX, v, err);
  if (i == U_BLKIO_WEIGHT)
    return kata_parse_int (flag_names[i], s, 0, 65535, v, err);
  return kata_parse_int (flag_names[i], s, 0, INT64_MAX, v, err);
}

static int
gen_group (yajl_gen g, struct update_args *a, const char *group, const int *idx, const char *const *keys,
           size_t n, kata_error_t **err)
{
  size_t i;
  bool any = false;

  for (i = 0; i < n; i++)
    any |= a->val[idx[i]] != NULL;
  if (!any)
    return 0;
  kata_gen_str (g, group);
  yajl_gen_map_open (g);
  for (i = 0; i < n; i++)
    {
      long long v;
      if (a->val[idx[i]] == NULL)
        continue;
      if (idx[i] == U_CPUSET_CPUS || idx[i] == U_CPUSET_MEMS)
        {
          kata_gen_kv_str (g, keys[i], a->val[idx[i]]);
          continue;
        }
      if (flag_int (a, idx[i], &v, err) < 0)
        return -1;
      kata_gen_kv_int (g, keys[i], v);
    }
  yajl_gen_map_close (g);
  return 0;
}

/* Builds the LinuxResources JSON from the individual flags. */
static int
resources_from_flags (struct update_args *a, char **out, kata_error_t **err)
{
  static const int mem_idx[]
      = { U_MEMORY, U_MEMORY_RESERVATION, U_MEMORY_SWAP, U_KERNEL_MEMORY, U_KERNEL_MEMORY_TCP };
  static const char *const mem_keys[] = { "limit", "reservation", "swap", "kernel", "kernelTCP" };
  static const int cpu_idx[] = { U_CPU_SHARES,    U_CPU_QUOTA,   U_CPU_PERIOD, U_CPU_RT_RUNTIME,
                                 U_CPU_RT_PERIOD, U_CPUSET_CPUS, U_CPUSET_MEMS };
  static const char *const cpu_keys[]
      = { "shares", "quota", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems" };
  static const int pids_idx[] = { U_PIDS_LIMIT };
  static const char *const pids_keys[] = { "limit" };
  static const int blkio_idx[] = { U_BLKIO_WEIGHT };
  static const char *const blkio_keys[] = { "weight" };
  yajl_gen g = kata_gen_new ();

  yajl_gen_map_open (g);
  if (gen_group (g, a, "memory", mem_idx, mem_keys, 5, err) < 0
      || gen_group (g, a, "cpu", cpu_idx, cpu_keys, 7, err) < 0
      || gen_group (g, a, "pids", pids_idx, pids_keys, 1, err) < 0
      || gen_group (g, a, "blockIO", blkio_idx, blkio_keys, 1, err) < 0)
    {
      yajl_gen_free (g);
      return -1;
    }
  yajl_gen_map_close (g);
  *out = kata_gen_finish (g, NULL);
  return 0;
}

int
cmd_update (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  struct update_args a = { 0 };
  cleanup_free char *json = NULL;
  const char *id;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, &a, err) < 0)
    return -1;
  if (kata_cmd_get_id ("update", argc, argv, first, &id, err) < 0)
    return -1;
  if (a.resources)
    {
      cleanup_yajl_val yajl_val tree = NULL;
      size_t len = 0;
      if (strcmp (a.resources, "-") == 0)
        {
          if (kata_read_fd (0, &json, &len, 1024 * 1024, err) < 0)
            return kata_error_wrap (err, "read resources from stdin");
        }
      else if (kata_read_file (a.resources, &json, &len, 1024 * 1024, err) < 0)
        return -1;
      if (kata_json_parse (json, len, &tree, err) < 0)
        return kata_error_wrap (err, "decode resources");
      if (!YAJL_IS_OBJECT (tree))
        return kata_make_error_nostr (err, EINVAL, "decode resources: expected a JSON object");
    }
  else if (resources_from_flags (&a, &json, err) < 0)
    return -1;
  if (kata_container_update (ctx, id, json, err) < 0)
    return -1;
  return 0;
}
