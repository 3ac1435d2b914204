/* Unit tests of libocispec: parsing, generation, round trips, errors. */
#ifndef _GNU_SOURCE
#include "config.h"
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>
#include "oci_runtime_spec.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/unit/data"
#endif

static char *
data_path (const char *name)
{
  char *p = NULL;
  assert_true (asprintf (&p, "%s/%s", TEST_DATA_DIR, name) > 0);
  return p;
}

static char *
write_tmp (const char *content, size_t len)
{
  char *p = strdup ("/tmp/test-ocispec-XXXXXX");
  int fd = mkstemp (p);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, content, len), (ssize_t)len);
  close (fd);
  return p;
}

static char *
read_all (const char *path)
{
  FILE *f = fopen (path, "r");
  char *buf = NULL;
  size_t len = 0;
  assert_non_null (f);
  FILE *m = open_memstream (&buf, &len);
  int c;
  while ((c = fgetc (f)) != EOF)
    fputc (c, m);
  fclose (m);
  fclose (f);
  return buf;
}

/* Order-insensitive equality of JSON objects; arrays compare in order. */
static bool
json_equal (yajl_val a, yajl_val b)
{
  size_t i, j;

  if (a == NULL || b == NULL)
    return a == b;
  if (a->type != b->type)
    return false;
  switch (a->type)
    {
    case yajl_t_string:
      return strcmp (a->u.string, b->u.string) == 0;
    case yajl_t_number:
      return strcmp (a->u.number.r, b->u.number.r) == 0;
    case yajl_t_array:
      if (a->u.array.len != b->u.array.len)
        return false;
      for (i = 0; i < a->u.array.len; i++)
        if (!json_equal (a->u.array.values[i], b->u.array.values[i]))
          return false;
      return true;
    case yajl_t_object:
      if (a->u.object.len != b->u.object.len)
        return false;
      for (i = 0; i < a->u.object.len; i++)
        {
          bool found = false;
          for (j = 0; j < b->u.object.len && !found; j++)
            if (strcmp (a->u.object.keys[i], b->u.object.keys[j]) == 0)
              {
                if (!json_equal (a->u.object.values[i], b->u.object.values[j]))
                  return false;
                found = true;
              }
          if (!found)
            return false;
        }
      return true;
    default:
      return true;
    }
}

static void
assert_json_text_equal (const char *x, const char *y)
{
  parser_error err = NULL;
  yajl_val a = ocispec_json_parse (x, strlen (x), &err);
  assert_null (err);
  yajl_val b = ocispec_json_parse (y, strlen (y), &err);
  assert_null (err);
  if (!json_equal (a, b))
    fail_msg ("JSON differs:\n%s\n---\n%s", x, y);
  yajl_tree_free (a);
  yajl_tree_free (b);
}

/* Parse the config in JSON text, expect failure with exactly msg. */
static void
expect_config_error (const char *json, const char *msg)
{
  parser_error err = NULL;
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_data (json, NULL, &err);
  if (c != NULL)
    {
      free_runtime_spec_schema_config_schema (c);
      fail_msg ("parsed, but expected error `%s`: %s", msg, json);
    }
  assert_non_null (err);
  if (strcmp (err, msg) != 0)
    fail_msg ("error `%s`, expected `%s`", err, msg);
  free (err);
}

/* ---- valid input ------------------------------------------------------------- */

static void
test_runc_spec (void **state)
{
  parser_error err = NULL;
  char *p = data_path ("runc-spec.json");
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_file (p, NULL, &err);
  free (p);
  assert_null (err);
  assert_non_null (c);
  assert_string_equal (c->oci_version, "1.0.2-dev");
  assert_string_equal (c->hostname, "runc");
  assert_true (c->process->terminal);
  assert_true (c->process->terminal_present);
  assert_int_equal (c->process->args_len, 1);
  assert_string_equal (c->process->args[0], "sh");
  assert_string_equal (c->process->cwd, "/");
  assert_true (c->process->user->uid_present);
  assert_int_equal (c->process->user->uid, 0);
  assert_false (c->process->user->umask_present);
  assert_int_equal (c->process->capabilities->bounding_len, 3);
  assert_string_equal (c->process->capabilities->bounding[0], "CAP_AUDIT_WRITE");
  assert_int_equal (c->process->rlimits_len, 1);
  assert_string_equal (c->process->rlimits[0]->type, "RLIMIT_NOFILE");
  assert_int_equal (c->process->rlimits[0]->hard, 1024);
  assert_true (c->process->no_new_privileges);
  assert_string_equal (c->root->path, "rootfs");
  assert_true (c->root->readonly);
  assert_int_equal (c->mounts_len, 7);
  assert_string_equal (c->mounts[0]->destination, "/proc");
  assert_string_equal (c->mounts[0]->type, "proc");
  assert_null (c->mounts[0]->options);
  assert_int_equal (c->linux->namespaces_len, 5);
  assert_string_equal (c->linux->namespaces[1]->type, "network");
  assert_null (c->linux->namespaces[1]->path);
  assert_int_equal (c->linux->masked_paths_len, 10);
  assert_int_equal (c->linux->readonly_paths_len, 5);
  assert_int_equal (c->linux->resources->devices_len, 1);
  assert_false (c->linux->resources->devices[0]->allow);
  assert_true (c->linux->resources->devices[0]->allow_present);
  assert_string_equal (c->linux->resources->devices[0]->access, "rwm");
  assert_null (c->annotations);
  assert_null (c->hooks);
  assert_null (c->_residual);
  free_runtime_spec_schema_config_schema (c);
}

static void
test_crun_spec (void **state)
{
  parser_error err = NULL;
  char *p = data_path ("crun-spec.json");
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_file (p, NULL, &err);
  free (p);
  assert_null (err);
  assert_non_null (c);
  assert_string_equal (c->hostname, "crun");
  assert_int_equal (c->mounts_len, 7);
  assert_int_equal (c->linux->namespaces_len, 5);
  assert_string_equal (c->process->env[0],
                       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  free_runtime_spec_schema_config_schema (c);
}

static void
test_podman_config (void **state)
{
  parser_error err = NULL;
  char *p = data_path ("podman-config.json");
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_file (p, NULL, &err);
  free (p);
  assert_null (err);
  assert_non_null (c);
  assert_int_equal (c->process->user->umask, 18);
  assert_true (c->process->user->umask_present);
  assert_int_equal (c->process->user->additional_gids_len, 11);
  assert_int_equal (c->process->user->additional_gids[10], 27);
  assert_int_equal (c->process->rlimits_len, 2);
  assert_int_equal (c->process->rlimits[1]->soft, 4194304);
  assert_true (c->process->oom_score_adj_present);
  assert_int_equal (c->process->oom_score_adj, 0);
  assert_string_equal (c->process->selinux_label, "system_u:system_r:container_t:s0:c123,c456");
  assert_int_equal (c->mounts_len, 12);
  assert_int_equal (c->mounts[11]->uid_mappings_len, 1);
  assert_int_equal (c->mounts[11]->uid_mappings[0]->host_id, 100000);
  assert_int_equal (c->mounts[11]->gid_mappings[0]->size, 65536);
  assert_int_equal (c->annotations->len, 9);
  assert_string_equal (json_map_string_string_get (c->annotations, "io.container.manager"), "libpod");
  assert_int_equal (c->hooks->prestart_len, 1);
  assert_int_equal (c->hooks->prestart[0]->timeout, 10);
  assert_true (c->hooks->prestart[0]->timeout_present);
  assert_int_equal (c->hooks->create_runtime_len, 1);
  assert_false (c->hooks->create_runtime[0]->timeout_present);
  assert_int_equal (c->hooks->poststop[0]->args_len, 6);
  assert_null (c->hooks->poststart);
  assert_string_equal (c->linux->cgroups_path, "machine.slice:libpod:a1b2c3d4e5f6");
  assert_string_equal (c->linux->namespaces[1]->path, "/run/netns/netns-1234");
  runtime_spec_schema_config_linux_resources *r = c->linux->resources;
  assert_int_equal (r->memory->limit, 536870912);
  assert_true (r->memory->disable_oom_killer_present);
  assert_false (r->memory->reservation_present);
  assert_int_equal (r->cpu->quota, 150000);
  assert_string_equal (r->cpu->cpus, "0-1");
  assert_int_equal (r->pids->limit, 2048);
  assert_int_equal (r->block_io->weight, 500);
  assert_int_equal (r->block_io->weight_device[0]->leaf_weight, 200);
  assert_int_equal (r->block_io->throttle_read_bps_device[0]->rate, 104857600);
  assert_string_equal (r->hugepage_limits[0]->page_size, "2MB");
  assert_string_equal (json_map_string_string_get (r->unified, "io.weight"), "default 100");
  assert_int_equal (r->devices[1]->major, 1);
  assert_false (r->devices[0]->major_present);
  runtime_spec_schema_config_linux_seccomp *s = c->linux->seccomp;
  assert_string_equal (s->default_action, "SCMP_ACT_ERRNO");
  assert_int_equal (s->default_errno_ret, 38);
  assert_int_equal (s->architectures_len, 3);
  assert_int_equal (s->syscalls_len, 6);
  assert_int_equal (s->syscalls[0]->errno_ret, 1);
  assert_true (s->syscalls[0]->errno_ret_present);
  assert_false (s->syscalls[1]->errno_ret_present);
  assert_int_equal (s->syscalls[3]->args[0]->value, 4294967295u);
  assert_int_equal (s->syscalls[4]->args[0]->value_two, 0);
  assert_true (s->syscalls[4]->args[0]->value_two_present);
  assert_string_equal (s->syscalls[4]->args[0]->op, "SCMP_CMP_MASKED_EQ");
  assert_true (s->syscalls[5]->args[1]->value == UINT64_MAX);
  assert_int_equal (s->syscalls[5]->args[1]->index, 2);
  assert_string_equal (json_map_string_string_get (c->linux->sysctl, "net.ipv4.ping_group_range"), "0 0");
  free_runtime_spec_schema_config_schema (c);
}

static void
test_containerd_config (void **state)
{
  parser_error err = NULL;
  char *p = data_path ("containerd-config.json");
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_file (p, NULL, &err);
  free (p);
  assert_null (err);
  assert_non_null (c);
  assert_string_equal (c->domainname, "cluster.local");
  assert_int_equal (c->process->console_size->height, 40);
  assert_int_equal (c->process->console_size->width, 120);
  assert_int_equal (c->process->capabilities->inheritable_len, 0);
  assert_non_null (c->process->capabilities->inheritable);
  assert_string_equal (c->process->capabilities->ambient[0], "CAP_NET_BIND_SERVICE");
  assert_int_equal (c->process->oom_score_adj, 1000);
  assert_string_equal (c->process->io_priority->class, "IOPRIO_CLASS_BE");
  assert_int_equal (c->process->io_priority->priority, 4);
  assert_int_equal (c->process->scheduler->nice, -5);
  assert_int_equal (c->linux->uid_mappings[0]->host_id, 100000);
  assert_int_equal (c->linux->gid_mappings_len, 1);
  runtime_spec_schema_config_linux_resources *r = c->linux->resources;
  assert_int_equal (r->memory->swap, -1);
  assert_true (r->memory->kernel_tcp_present);
  assert_true (r->memory->use_hierarchy);
  assert_true (r->memory->check_before_update);
  assert_int_equal (r->cpu->burst, 10000);
  assert_true (r->cpu->idle_present);
  assert_int_equal (r->pids->limit, -1);
  assert_int_equal (r->block_io->leaf_weight, 10);
  assert_int_equal (r->block_io->throttle_write_iops_device[0]->rate, 500);
  assert_int_equal (r->block_io->throttle_read_iops_device[0]->major, 253);
  assert_int_equal (r->block_io->throttle_write_bps_device_len, 1);
  assert_int_equal (r->network->class_id, 1048577);
  assert_string_equal (r->network->priorities[1]->name, "lo");
  assert_int_equal (r->rdma->len, 1);
  assert_string_equal (r->rdma->keys[0], "mlx5_1");
  assert_int_equal (r->rdma->values[0]->hca_objects, 10000);
  assert_int_equal (c->linux->devices[0]->file_mode, 438);
  assert_true (c->linux->devices[0]->gid_present);
  assert_int_equal (c->linux->devices[0]->minor, 229);
  assert_string_equal (c->linux->seccomp->flags[0], "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
  assert_string_equal (c->linux->seccomp->listener_path, "/run/seccomp-agent.sock");
  assert_string_equal (c->linux->seccomp->listener_metadata, "meta");
  assert_string_equal (c->linux->rootfs_propagation, "rslave");
  assert_string_equal (c->linux->intel_rdt->clos_id, "guaranteed");
  assert_string_equal (c->linux->intel_rdt->mem_bw_schema, "MB:0=20");
  assert_string_equal (c->linux->personality->domain, "LINUX");
  assert_int_equal (c->linux->personality->flags_len, 0);
  assert_int_equal (c->linux->time_offsets->len, 2);
  assert_int_equal (c->linux->time_offsets->values[1]->secs, -5);
  assert_int_equal (c->linux->time_offsets->values[1]->nanosecs, 500);
  assert_int_equal (c->hooks->create_container[0]->timeout, 5);
  assert_int_equal (c->hooks->start_container_len, 1);
  assert_int_equal (c->hooks->poststart_len, 1);
  free_runtime_spec_schema_config_schema (c);
}

/* ---- round trips --------------------------------------------------------------- */

static void
round_trip_file (const char *name)
{
  parser_error err = NULL;
  char *p = data_path (name);
  char *orig = read_all (p);
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_file (p, NULL, &err);
  assert_null (err);
  assert_non_null (c);
  char *gen = runtime_spec_schema_config_schema_generate_json (c, NULL, &err);
  assert_null (err);
  assert_non_null (gen);
  assert_json_text_equal (orig, gen);

  /* And again: generation is stable. */
  runtime_spec_schema_config_schema *c2 = runtime_spec_schema_config_schema_parse_data (gen, NULL, &err);
  assert_null (err);
  char *gen2 = runtime_spec_schema_config_schema_generate_json (c2, NULL, &err);
  assert_string_equal (gen, gen2);

  free (gen2);
  free_runtime_spec_schema_config_schema (c2);
  free (gen);
  free_runtime_spec_schema_config_schema (c);
  free (orig);
  free (p);
}

static void
test_round_trip_runc (void **state)
{
  round_trip_file ("runc-spec.json");
}

static void
test_round_trip_crun (void **state)
{
  round_trip_file ("crun-spec.json");
}

static void
test_round_trip_podman (void **state)
{
  round_trip_file ("podman-config.json");
}

static void
test_round_trip_containerd (void **state)
{
  round_trip_file ("containerd-config.json");
}

/* Captured from the real clients by tests/unit/data/capture-configs.sh. */
static void
test_round_trip_captured (void **state)
{
  round_trip_file ("podman-captured.json");
  round_trip_file ("containerd-captured.json");
}

static const char unknown_json[]
    = "{\"ociVersion\":\"1.2.0\",\"x-top\":{\"a\":[1,2.5,true,null,\"s\"]},"
      "\"process\":{\"cwd\":\"/\",\"x-proc\":7,\"user\":{\"uid\":1,\"x-user\":\"u\"}},"
      "\"root\":{\"path\":\"rootfs\",\"x-root\":false},"
      "\"mounts\":[{\"destination\":\"/a\",\"x-mount\":{}}],"
      "\"windows\":{\"layerFolders\":[\"C:\\\\x\"]},"
      "\"vm\":{\"hypervisor\":{\"path\":\"/usr/bin/qemu\"}},"
      "\"linux\":{\"x-linux\":[],\"netDevices\":{\"eth0\":{\"name\":\"ceth0\"}},"
      "\"resources\":{\"x-res\":1,\"memory\":{\"limit\":1,\"x-mem\":2}},"
      "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"x-sec\":\"y\"}}}";

static void
test_unknown_fields_preserved (void **state)
{
  parser_error err = NULL;
  runtime_spec_schema_config_schema *c
      = runtime_spec_schema_config_schema_parse_data (unknown_json, NULL, &err);
  assert_null (err);
  assert_non_null (c);
  assert_non_null (c->_residual);
  assert_int_equal (c->_residual->u.object.len, 3);
  assert_non_null (c->process->_residual);
  assert_non_null (c->process->user->_residual);
  assert_non_null (c->root->_residual);
  assert_non_null (c->mounts[0]->_residual);
  assert_non_null (c->linux->_residual);
  assert_non_null (c->linux->resources->_residual);
  assert_non_null (c->linux->resources->memory->_residual);
  assert_non_null (c->linux->seccomp->_residual);
  char *gen = runtime_spec_schema_config_schema_generate_json (c, NULL, &err);
  assert_null (err);
  assert_json_text_equal (unknown_json, gen);
  free (gen);
  free_runtime_spec_schema_config_schema (c);
}

static void
test_strict_rejects_unknown (void **state)
{
  struct parser_context ctx = { OPT_PARSE_STRICT, NULL };
  parser_error err = NULL;
  runtime_spec_schema_config_schema *c
      = runtime_spec_schema_config_schema_parse_data ("{\"process\":{\"cwd\":\"/\",\"foo\":1}}", &ctx, &err);
  assert_null (c);
  assert_string_equal (err, "process.foo: unknown field");
  free (err);
  err = NULL;
  c = runtime_spec_schema_config_schema_parse_data ("{\"linux\":{\"resources\":{\"memory\":{\"limits\":1}}}}",
                                                    &ctx, &err);
  assert_null (c);
  assert_string_equal (err, "linux.resources.memory.limits: unknown field");
  free (err);
  /* Known fields still pass in strict mode. */
  char *p = data_path ("containerd-config.json");
  c = runtime_spec_schema_config_schema_parse_file (p, &ctx, &err);
  free (p);
  assert_null (err);
  assert_non_null (c);
  free_runtime_spec_schema_config_schema (c);
}

/* ---- invalid input: each class, with the exact path -------------------------------- */

static void
test_error_paths (void **state)
{
  static const struct
  {
    const char *json;
    const char *msg;
  } cases[] = {
    { "{\"process\":{\"args\":[\"a\",\"b\",3]}}", "process.args[2]: expected string" },
    { "{\"linux\":{\"resources\":{\"memory\":{\"limit\":\"x\"}}}}",
      "linux.resources.memory.limit: expected integer" },
    { "{\"linux\":{\"resources\":{\"memory\":{\"limit\":1.5}}}}",
      "linux.resources.memory.limit: expected integer" },
    { "{\"linux\":{\"resources\":{\"memory\":{\"limit\":1e3}}}}",
      "linux.resources.memory.limit: expected integer" },
    { "{\"linux\":{\"resources\":{\"memory\":{\"limit\":9223372036854775808}}}}",
      "linux.resources.memory.limit: integer out of range" },
    { "{\"linux\":{\"resources\":{\"memory\":{\"swappiness\":-1}}}}",
      "linux.resources.memory.swappiness: integer out of range" },
    { "{\"linux\":{\"resources\":{\"memory\":{\"disableOOMKiller\":1}}}}",
      "linux.resources.memory.disableOOMKiller: expected boolean" },
    { "{\"linux\":{\"resources\":{\"blockIO\":{\"weight\":65536}}}}",
      "linux.resources.blockIO.weight: integer out of range" },
    { "{\"linux\":{\"resources\":{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,"
      "\"minor\":0,\"rate\":18446744073709551616}]}}}}",
      "linux.resources.blockIO.throttleReadBpsDevice[0].rate: integer out of range" },
    { "{\"linux\":{\"resources\":{\"rdma\":{\"mlx\":{\"hcaHandles\":-1}}}}}",
      "linux.resources.rdma.mlx.hcaHandles: integer out of range" },
    { "{\"linux\":{\"resources\":{\"unified\":{\"memory.max\":5}}}}",
      "linux.resources.unified.memory.max: expected string" },
    { "{\"linux\":{\"resources\":{\"cpu\":{\"cpus\":1}}}}", "linux.resources.cpu.cpus: expected string" },
    { "{\"linux\":{\"resources\":{\"pids\":[]}}}", "linux.resources.pids: expected object" },
    { "{\"process\":{\"terminal\":\"yes\"}}", "process.terminal: expected boolean" },
    { "{\"process\":{\"user\":{\"uid\":-1}}}", "process.user.uid: integer out of range" },
    { "{\"process\":{\"user\":{\"gid\":4294967296}}}", "process.user.gid: integer out of range" },
    { "{\"process\":{\"user\":{\"additionalGids\":[1,\"a\"]}}}",
      "process.user.additionalGids[1]: expected integer" },
    { "{\"process\":{\"oomScoreAdj\":2147483648}}", "process.oomScoreAdj: integer out of range" },
    { "{\"process\":{\"rlimits\":[{\"hard\":1,\"soft\":1}]}}",
      "process.rlimits[0].type: missing required field" },
    { "{\"process\":{\"capabilities\":{\"bounding\":\"CAP_KILL\"}}}",
      "process.capabilities.bounding: expected array" },
    { "{\"process\":{\"consoleSize\":{\"height\":true}}}", "process.consoleSize.height: expected integer" },
    { "{\"process\":{\"env\":[\"A=1\",null]}}", "process.env[1]: expected string" },
    { "{\"mounts\":{}}", "mounts: expected array" },
    { "{\"mounts\":[{\"destination\":\"/a\"},{\"source\":\"x\"}]}",
      "mounts[1].destination: missing required field" },
    { "{\"mounts\":[{\"destination\":\"/a\",\"options\":[1]}]}", "mounts[0].options[0]: expected string" },
    { "{\"mounts\":[{\"destination\":\"/a\",\"uidMappings\":[{\"hostID\":\"1\"}]}]}",
      "mounts[0].uidMappings[0].hostID: expected integer" },
    { "{\"annotations\":{\"a\":1}}", "annotations.a: expected string" },
    { "{\"annotations\":[]}", "annotations: expected object" },
    { "{\"hooks\":{\"prestart\":[{\"path\":\"/x\",\"timeout\":\"1\"}]}}",
      "hooks.prestart[0].timeout: expected integer" },
    { "{\"hooks\":{\"poststop\":[{\"args\":[]}]}}", "hooks.poststop[0].path: missing required field" },
    { "{\"root\":{\"readonly\":\"true\"}}", "root.readonly: expected boolean" },
    { "{\"ociVersion\":1}", "ociVersion: expected string" },
    { "{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},null]}}", "linux.namespaces[1]: expected object" },
    { "{\"linux\":{\"namespaces\":[{\"path\":\"/proc/1/ns/net\"}]}}",
      "linux.namespaces[0].type: missing required field" },
    { "{\"linux\":{\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"fileMode\":-1}]}}",
      "linux.devices[0].fileMode: integer out of range" },
    { "{\"linux\":{\"devices\":[{\"type\":\"c\"}]}}", "linux.devices[0].path: missing required field" },
    { "{\"linux\":{\"sysctl\":{\"net.x\":[]}}}", "linux.sysctl.net.x: expected string" },
    { "{\"linux\":{\"seccomp\":{\"syscalls\":[]}}}", "linux.seccomp.defaultAction: missing required field" },
    { "{\"linux\":{\"seccomp\":{\"defaultAction\":\"a\",\"syscalls\":[{\"names\":[\"x\"],"
      "\"args\":[{\"index\":\"0\"}]}]}}}",
      "linux.seccomp.syscalls[0].args[0].index: expected integer" },
    { "{\"linux\":{\"seccomp\":{\"defaultAction\":\"a\",\"syscalls\":[{},{\"errnoRet\":-1}]}}}",
      "linux.seccomp.syscalls[1].errnoRet: integer out of range" },
    { "{\"linux\":{\"maskedPaths\":[\"/a\",{}]}}", "linux.maskedPaths[1]: expected string" },
    { "{\"linux\":{\"intelRdt\":{\"closID\":false}}}", "linux.intelRdt.closID: expected string" },
    { "{\"linux\":{\"personality\":{\"flags\":[1]}}}", "linux.personality.flags[0]: expected string" },
    { "{\"linux\":{\"timeOffsets\":{\"monotonic\":{\"secs\":\"1\"}}}}",
      "linux.timeOffsets.monotonic.secs: expected integer" },
    { "[]", "(root): expected object" },
    { "\"config\"", "(root): expected object" },
    /* NUL bytes */
    { "{\"hostname\":\"a\\u0000b\"}", "hostname: string contains a NUL byte" },
    { "{\"process\":{\"args\":[\"ok\",\"x\\u0000\"]}}", "process.args[1]: string contains a NUL byte" },
    { "{\"annotations\":{\"k\\u0000x\":\"v\"}}", "annotations.k: key contains a NUL byte" },
    /* malformed JSON: yajl's message */
    { "", "parse error: premature EOF" },
    { "{\"a\":", "parse error: premature EOF" },
    { "{} {}", "parse error: trailing garbage (at byte 4)" },
    { "{\"a\" 1}", "parse error: object key and value must be separated by a colon (':') (at byte 6)" },
    { "{\"a\":tru}", "lexical error: invalid string in json text. (at byte 8)" },
    { "{\"a\":\"\\x\"}",
      "lexical error: inside a string, '\\' occurs before a character which it may not. (at byte 7)" },
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_config_error (cases[i].json, cases[i].msg);
}

static void
test_deep_nesting (void **state)
{
  size_t n = 100000, i;
  char *s = malloc (2 * n + 1);
  parser_error err = NULL;

  for (i = 0; i < n; i++)
    {
      s[i] = '[';
      s[n + i] = ']';
    }
  s[2 * n] = '\0';
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_data (s, NULL, &err);
  assert_null (c);
  assert_non_null (strstr (err, ": JSON nested too deeply"));
  free (err);
  err = NULL;

  /* Inside a known field too: the path is named. */
  const char *deep = "{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                     "[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
                     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}";
  c = runtime_spec_schema_config_schema_parse_data (deep, NULL, &err);
  assert_null (c);
  assert_non_null (err);
  assert_true (strncmp (err, "x[0][0]", 7) == 0);
  free (err);
  err = NULL;

  /* Just under the limit is fine and kept as an unknown field. */
  char *ok = NULL;
  size_t depth = OCISPEC_MAX_DEPTH - 1;
  FILE *m = open_memstream (&ok, &n);
  fputs ("{\"x\":", m);
  for (i = 0; i < depth - 1; i++)
    fputc ('[', m);
  for (i = 0; i < depth - 1; i++)
    fputc (']', m);
  fputc ('}', m);
  fclose (m);
  c = runtime_spec_schema_config_schema_parse_data (ok, NULL, &err);
  assert_null (err);
  assert_non_null (c);
  char *gen = runtime_spec_schema_config_schema_generate_json (c, NULL, &err);
  assert_non_null (gen);
  assert_json_text_equal (ok, gen);
  free (gen);
  free_runtime_spec_schema_config_schema (c);
  free (ok);
  free (s);
}

static void
test_huge_array (void **state)
{
  size_t n = OCISPEC_MAX_ARRAY_LEN + 1, i;
  size_t len = 0;
  char *s = NULL;
  parser_error err = NULL;
  FILE *m = open_memstream (&s, &len);

  fputs ("{\"process\":{\"args\":[", m);
  for (i = 0; i < n; i++)
    fputs (i ? ",\"\"" : "\"\"", m);
  fputs ("]}}", m);
  fclose (m);
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_data (s, NULL, &err);
  assert_null (c);
  char *expected = NULL;
  assert_true (asprintf (&expected, "process.args[%u]: array too large", (unsigned)OCISPEC_MAX_ARRAY_LEN)
               > 0);
  assert_string_equal (err, expected);
  free (expected);
  free (err);
  free (s);
}

static void
test_too_many_values (void **state)
{
  size_t per = OCISPEC_MAX_ARRAY_LEN - 1, arrays = OCISPEC_MAX_NODES / per + 1, i, j;
  size_t len = 0;
  char *s = NULL;
  parser_error err = NULL;
  FILE *m = open_memstream (&s, &len);

  fputs ("{\"x\":[", m);
  for (i = 0; i < arrays; i++)
    {
      fputs (i ? ",[" : "[", m);
      for (j = 0; j < per; j++)
        fputs (j ? ",0" : "0", m);
      fputc (']', m);
    }
  fputs ("]}", m);
  fclose (m);
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_data (s, NULL, &err);
  assert_null (c);
  assert_non_null (err);
  assert_true (strncmp (err, "x[", 2) == 0);
  assert_non_null (strstr (err, "]: too many JSON values"));
  free (err);
  free (s);
}

static void
test_file_errors (void **state)
{
  parser_error err = NULL;
  runtime_spec_schema_config_schema *c
      = runtime_spec_schema_config_schema_parse_file ("/nonexistent/dir/config.json", NULL, &err);
  assert_null (c);
  assert_string_equal (err, "open `/nonexistent/dir/config.json`: No such file or directory");
  free (err);
  err = NULL;

  static const char with_nul[] = "{\"hostname\":\"a\0b\"}";
  char *p = write_tmp (with_nul, sizeof with_nul - 1);
  c = runtime_spec_schema_config_schema_parse_file (p, NULL, &err);
  assert_null (c);
  char *expected = NULL;
  assert_true (asprintf (&expected, "`%s`: file contains a NUL byte at offset 14", p) > 0);
  assert_string_equal (err, expected);
  free (expected);
  free (err);
  err = NULL;
  unlink (p);
  free (p);

  c = runtime_spec_schema_config_schema_parse_data (NULL, NULL, &err);
  assert_null (c);
  assert_string_equal (err, "no JSON data");
  free (err);
  err = NULL;

  /* A directory cannot be read. */
  c = runtime_spec_schema_config_schema_parse_file ("/", NULL, &err);
  assert_null (c);
  assert_string_equal (err, "read `/`: Is a directory");
  free (err);

  /* err may be NULL. */
  assert_null (runtime_spec_schema_config_schema_parse_data ("[", NULL, NULL));
  assert_null (runtime_spec_schema_config_schema_parse_data ("{\"ociVersion\":1}", NULL, NULL));
}

static void
test_null_and_duplicates (void **state)
{
  parser_error err = NULL;
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_data (
      "{\"hostname\":\"a\",\"hostname\":\"b\",\"process\":null,\"domainname\":null,"
      "\"mounts\":[{\"destination\":\"/x\",\"options\":[\"ro\"],\"options\":[\"rw\",\"nosuid\"]}],"
      "\"linux\":{\"resources\":{\"memory\":{\"limit\":1,\"limit\":2}}}}",
      NULL, &err);
  assert_null (err);
  assert_string_equal (c->hostname, "b");
  assert_null (c->process);
  assert_null (c->domainname);
  assert_int_equal (c->mounts[0]->options_len, 2);
  assert_string_equal (c->mounts[0]->options[0], "rw");
  assert_int_equal (c->linux->resources->memory->limit, 2);
  free_runtime_spec_schema_config_schema (c);

  /* Empty arrays and objects survive a round trip. */
  const char *empty = "{\"mounts\":[],\"process\":{\"args\":[],\"env\":[]},\"annotations\":{},"
                      "\"linux\":{\"resources\":{}}}";
  c = runtime_spec_schema_config_schema_parse_data (empty, NULL, &err);
  assert_null (err);
  assert_non_null (c->mounts);
  assert_int_equal (c->mounts_len, 0);
  char *gen = runtime_spec_schema_config_schema_generate_json (c, NULL, &err);
  assert_json_text_equal (empty, gen);
  free (gen);
  free_runtime_spec_schema_config_schema (c);
}

static void
test_uint64_extremes (void **state)
{
  parser_error err = NULL;
  const char *json = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"x\"],"
                     "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":5,"
                     "\"value\":18446744073709551615,\"valueTwo\":9223372036854775808,"
                     "\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}";
  runtime_spec_schema_config_linux_seccomp *s
      = runtime_spec_schema_config_linux_seccomp_parse_data (json, NULL, &err);
  assert_null (err);
  assert_true (s->syscalls[0]->args[0]->value == UINT64_MAX);
  assert_true (s->syscalls[0]->args[0]->value_two == 9223372036854775808ull);
  char *gen = runtime_spec_schema_config_linux_seccomp_generate_json (s, NULL, &err);
  assert_non_null (strstr (gen, "18446744073709551615"));
  assert_non_null (strstr (gen, "9223372036854775808"));
  assert_json_text_equal (json, gen);
  free (gen);
  free_runtime_spec_schema_config_linux_seccomp (s);

  runtime_spec_schema_config_linux_resources *r = runtime_spec_schema_config_linux_resources_parse_data (
      "{\"memory\":{\"limit\":-9223372036854775808}}", NULL, &err);
  assert_null (err);
  assert_true (r->memory->limit == INT64_MIN);
  free_runtime_spec_schema_config_linux_resources (r);
}

/* ---- process (exec --process), resources (update --resources), state ---------------- */

static const char process_json[]
    = "{\"terminal\":false,\"user\":{\"uid\":1000,\"gid\":100,\"username\":\"me\"},"
      "\"args\":[\"/bin/ls\",\"-l\"],\"env\":[\"A=1\"],\"cwd\":\"/tmp\","
      "\"capabilities\":{\"bounding\":[\"CAP_KILL\"]},\"noNewPrivileges\":true,"
      "\"apparmorProfile\":\"unconfined\",\"selinuxLabel\":\"l\",\"oomScoreAdj\":-17,"
      "\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"runtime\":1,\"deadline\":2,\"period\":3,"
      "\"flags\":[\"SCHED_FLAG_RESET_ON_FORK\"],\"priority\":0},"
      "\"execCPUAffinity\":{\"initial\":\"0\",\"final\":\"0-3\"},\"x-extra\":[1]}";

static void
test_process (void **state)
{
  parser_error err = NULL;
  runtime_spec_schema_config_schema_process *p
      = runtime_spec_schema_config_schema_process_parse_data (process_json, NULL, &err);
  assert_null (err);
  assert_non_null (p);
  assert_false (p->terminal);
  assert_true (p->terminal_present);
  assert_int_equal (p->user->uid, 1000);
  assert_string_equal (p->user->username, "me");
  assert_int_equal (p->args_len, 2);
  assert_string_equal (p->cwd, "/tmp");
  assert_int_equal (p->oom_score_adj, -17);
  assert_string_equal (p->scheduler->policy, "SCHED_DEADLINE");
  assert_int_equal (p->scheduler->period, 3);
  assert_true (p->scheduler->priority_present);
  assert_string_equal (p->exec_cpu_affinity->final, "0-3");
  char *gen = runtime_spec_schema_config_schema_process_generate_json (p, NULL, &err);
  assert_null (err);
  assert_json_text_equal (process_json, gen);
  free (gen);
  free_runtime_spec_schema_config_schema_process (p);

  char *f = write_tmp (process_json, strlen (process_json));
  p = runtime_spec_schema_config_schema_process_parse_file (f, NULL, &err);
  assert_null (err);
  assert_string_equal (p->args[1], "-l");
  free_runtime_spec_schema_config_schema_process (p);
  unlink (f);
  free (f);

  /* Errors are relative to the process object. */
  p = runtime_spec_schema_config_schema_process_parse_data ("{\"args\":[\"a\",\"b\",3]}", NULL, &err);
  assert_null (p);
  assert_string_equal (err, "args[2]: expected string");
  free (err);
}

static void
test_resources (void **state)
{
  parser_error err = NULL;
  const char *json = "{\"memory\":{\"limit\":104857600,\"reservation\":0,\"swap\":209715200},"
                     "\"cpu\":{\"shares\":512,\"quota\":-1,\"period\":100000,\"cpus\":\"0\"},"
                     "\"pids\":{\"limit\":100},\"blockIO\":{\"weight\":10},"
                     "\"unified\":{\"memory.high\":\"max\"},\"x-new\":{\"y\":1}}";
  runtime_spec_schema_config_linux_resources *r
      = runtime_spec_schema_config_linux_resources_parse_data (json, NULL, &err);
  assert_null (err);
  assert_int_equal (r->memory->limit, 104857600);
  assert_true (r->memory->reservation_present);
  assert_int_equal (r->cpu->quota, -1);
  assert_int_equal (r->pids->limit, 100);
  assert_int_equal (r->block_io->weight, 10);
  char *gen = runtime_spec_schema_config_linux_resources_generate_json (r, NULL, &err);
  assert_json_text_equal (json, gen);
  free (gen);
  free_runtime_spec_schema_config_linux_resources (r);

  char *f = write_tmp (json, strlen (json));
  r = runtime_spec_schema_config_linux_resources_parse_file (f, NULL, &err);
  assert_null (err);
  assert_int_equal (r->cpu->shares, 512);
  free_runtime_spec_schema_config_linux_resources (r);
  unlink (f);
  free (f);

  r = runtime_spec_schema_config_linux_resources_parse_data ("{\"memory\":{\"limit\":\"1G\"}}", NULL, &err);
  assert_null (r);
  assert_string_equal (err, "memory.limit: expected integer");
  free (err);
}

static void
test_state (void **state)
{
  parser_error err = NULL;
  const char *json = "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"running\",\"pid\":4422,"
                     "\"bundle\":\"/run/bundle\",\"annotations\":{\"a\":\"b\"}}";
  runtime_spec_schema_state_schema *s = runtime_spec_schema_state_schema_parse_data (json, NULL, &err);
  assert_null (err);
  assert_string_equal (s->id, "c1");
  assert_string_equal (s->status, "running");
  assert_int_equal (s->pid, 4422);
  assert_true (s->pid_present);
  assert_string_equal (s->annotations->values[0], "b");
  char *gen = runtime_spec_schema_state_schema_generate_json (s, NULL, &err);
  assert_json_text_equal (json, gen);
  free (gen);
  free_runtime_spec_schema_state_schema (s);

  /* Built by hand, as the runtime does for `state`: a stopped container has pid 0. */
  runtime_spec_schema_state_schema st = { 0 };
  st.oci_version = (char *)"1.2.0";
  st.id = (char *)"c2";
  st.status = (char *)"stopped";
  st.bundle = (char *)"/b";
  st.pid_present = true;
  struct parser_context ctx = { OPT_GEN_SIMPLIFY, NULL };
  gen = runtime_spec_schema_state_schema_generate_json (&st, &ctx, &err);
  assert_null (err);
  assert_string_equal (gen, "{\"ociVersion\":\"1.2.0\",\"id\":\"c2\",\"status\":\"stopped\","
                            "\"pid\":0,\"bundle\":\"/b\"}");
  free (gen);
  st.pid_present = false;
  gen = runtime_spec_schema_state_schema_generate_json (&st, &ctx, &err);
  assert_null (strstr (gen, "pid"));
  free (gen);
  /* A non-zero value is written even without _present. */
  st.pid = 7;
  gen = runtime_spec_schema_state_schema_generate_json (&st, &ctx, &err);
  assert_non_null (strstr (gen, "\"pid\":7"));
  free (gen);

  char *f = write_tmp (json, strlen (json));
  s = runtime_spec_schema_state_schema_parse_file (f, NULL, &err);
  assert_null (err);
  assert_string_equal (s->bundle, "/run/bundle");
  free_runtime_spec_schema_state_schema (s);
  unlink (f);
  free (f);
}

/* ---- the other top-level types: parse_data, parse_file, make_, generate ------------- */

#define CHECK_TOPLEVEL(T, json, field, expected)                                                             \
  do                                                                                                         \
    {                                                                                                        \
      parser_error e = NULL;                                                                                 \
      T *a = T##_parse_data (json, NULL, &e);                                                                \
      assert_null (e);                                                                                       \
      assert_non_null (a);                                                                                   \
      assert_string_equal (a->field, expected);                                                              \
      char *g = T##_generate_json (a, NULL, &e);                                                             \
      assert_null (e);                                                                                       \
      assert_json_text_equal (json, g);                                                                      \
      char *fname = write_tmp (g, strlen (g));                                                               \
      T *b = T##_parse_file (fname, NULL, &e);                                                               \
      assert_null (e);                                                                                       \
      assert_string_equal (b->field, expected);                                                              \
      unlink (fname);                                                                                        \
      free (fname);                                                                                          \
      yajl_val tree = yajl_tree_parse (json, NULL, 0);                                                       \
      assert_non_null (tree);                                                                                \
      T *c = make_##T (tree, NULL, &e);                                                                      \
      yajl_tree_free (tree);                                                                                 \
      assert_null (e);                                                                                       \
      char *g2 = T##_generate_json (c, NULL, &e);                                                            \
      assert_string_equal (g, g2);                                                                           \
      free (g2);                                                                                             \
      free (g);                                                                                              \
      free_##T (a);                                                                                          \
      free_##T (b);                                                                                          \
      free_##T (c);                                                                                          \
      assert_null (T##_generate_json (NULL, NULL, &e));                                                      \
      assert_non_null (strstr (e, "nothing to generate"));                                                   \
      free (e);                                                                                              \
      e = NULL;                                                                                              \
      assert_null (make_##T (NULL, NULL, &e));                                                               \
      assert_string_equal (e, "(root): expected object");                                                    \
      free (e);                                                                                              \
    }                                                                                                        \
  while (0)

static void
test_toplevel_types (void **state)
{
  CHECK_TOPLEVEL (runtime_spec_schema_config_schema, "{\"ociVersion\":\"1.0.0\",\"z\":1}", oci_version,
                  "1.0.0");
  CHECK_TOPLEVEL (runtime_spec_schema_config_schema_process, process_json, cwd, "/tmp");
  CHECK_TOPLEVEL (runtime_spec_schema_config_linux,
                  "{\"cgroupsPath\":\"/a\",\"namespaces\":[{\"type\":\"pid\"}],\"z\":null}", cgroups_path,
                  "/a");
  CHECK_TOPLEVEL (runtime_spec_schema_config_linux_resources,
                  "{\"cpu\":{\"mems\":\"0\"},\"devices\":[{\"allow\":true}]}", cpu->mems, "0");
  CHECK_TOPLEVEL (runtime_spec_schema_config_linux_seccomp,
                  "{\"defaultAction\":\"SCMP_ACT_LOG\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"]}",
                  default_action, "SCMP_ACT_LOG");
  CHECK_TOPLEVEL (runtime_spec_schema_state_schema, "{\"id\":\"x\",\"status\":\"created\"}", id, "x");
  CHECK_TOPLEVEL (runtime_spec_schema_defs_mount,
                  "{\"destination\":\"/m\",\"type\":\"bind\",\"source\":\"/s\",\"options\":[\"rbind\"]}",
                  source, "/s");
  CHECK_TOPLEVEL (runtime_spec_schema_defs_hook,
                  "{\"path\":\"/bin/hook\",\"args\":[\"hook\"],\"env\":[\"X=1\"],\"timeout\":3}", path,
                  "/bin/hook");
  CHECK_TOPLEVEL (runtime_spec_schema_config_schema_hooks,
                  "{\"prestart\":[{\"path\":\"/p\"}],\"poststop\":[{\"path\":\"/q\"}]}", prestart[0]->path,
                  "/p");
  CHECK_TOPLEVEL (runtime_spec_schema_config_schema_root, "{\"path\":\"/r\",\"readonly\":false}", path, "/r");
}

/* make_ copies what it keeps: the caller's tree can be freed first (JSON-RPC params). */
static void
test_make_from_tree (void **state)
{
  parser_error err = NULL;
  char errbuf[256];
  yajl_val rpc = yajl_tree_parse ("{\"method\":\"CreateContainer\",\"params\":{\"ociVersion\":"
                                  "\"1.2.0\",\"hostname\":\"h\",\"x-unknown\":{\"k\":[1]}}}",
                                  errbuf, sizeof errbuf);
  assert_non_null (rpc);
  const char *path[] = { "params", NULL };
  yajl_val params = yajl_tree_get (rpc, path, yajl_t_object);
  runtime_spec_schema_config_schema *c = make_runtime_spec_schema_config_schema (params, NULL, &err);
  assert_null (err);
  yajl_tree_free (rpc);
  assert_string_equal (c->hostname, "h");
  char *gen = runtime_spec_schema_config_schema_generate_json (c, NULL, &err);
  assert_json_text_equal ("{\"ociVersion\":\"1.2.0\",\"hostname\":\"h\",\"x-unknown\":{\"k\":[1]}}", gen);
  free (gen);
  free_runtime_spec_schema_config_schema (c);

  struct parser_context ctx = { OPT_PARSE_STRICT, NULL };
  rpc = yajl_tree_parse ("{\"hostname\":\"h\",\"bad\":1}", errbuf, sizeof errbuf);
  c = make_runtime_spec_schema_config_schema (rpc, &ctx, &err);
  assert_null (c);
  assert_string_equal (err, "bad: unknown field");
  free (err);
  yajl_tree_free (rpc);
}

/* ---- generation options and errors -------------------------------------------------- */

static void
test_generate_options (void **state)
{
  parser_error err = NULL;
  runtime_spec_schema_config_schema_root root = { 0 };
  root.path = (char *)"rootfs";

  char *gen = runtime_spec_schema_config_schema_root_generate_json (&root, NULL, &err);
  assert_non_null (strchr (gen, '\n'));
  assert_json_text_equal ("{\"path\":\"rootfs\"}", gen);
  free (gen);

  struct parser_context simple = { OPT_GEN_SIMPLIFY, NULL };
  gen = runtime_spec_schema_config_schema_root_generate_json (&root, &simple, &err);
  assert_string_equal (gen, "{\"path\":\"rootfs\"}");
  free (gen);

  struct parser_context kv = { OPT_GEN_SIMPLIFY | OPT_GEN_KEY_VALUE, NULL };
  gen = runtime_spec_schema_config_schema_root_generate_json (&root, &kv, &err);
  assert_string_equal (gen, "{\"path\":\"rootfs\",\"readonly\":false}");
  free (gen);

  /* Invalid UTF-8 is refused, with the path, unless asked not to validate. */
  root.path = (char *)"bad\xff";
  gen = runtime_spec_schema_config_schema_root_generate_json (&root, &simple, &err);
  assert_null (gen);
  assert_string_equal (err, "path: invalid UTF-8 string");
  free (err);
  err = NULL;
  struct parser_context novalid = { OPT_GEN_SIMPLIFY | OPT_GEN_NO_VALIDATE_UTF8, NULL };
  gen = runtime_spec_schema_config_schema_root_generate_json (&root, &novalid, &err);
  assert_non_null (gen);
  free (gen);

  /* Invalid UTF-8 on input is a yajl lexical error. */
  expect_config_error ("{\"hostname\":\"\xff\"}",
                       "lexical error: invalid bytes in UTF8 string. (at byte 14)");
}

/* Structures built by hand (as the runtime does) generate what they hold. */
static void
test_generate_built (void **state)
{
  parser_error err = NULL;
  runtime_spec_schema_config_schema c = { 0 };
  runtime_spec_schema_config_schema_process proc = { 0 };
  runtime_spec_schema_defs_mount m = { 0 };
  runtime_spec_schema_defs_mount *mounts[] = { &m };
  char *args[] = { (char *)"sh", (char *)"-c", (char *)"true" };
  char *opts[] = { (char *)"ro" };
  struct parser_context ctx = { OPT_GEN_SIMPLIFY, NULL };

  c.oci_version = (char *)"1.2.0";
  c.process = &proc;
  proc.args = args;
  proc.args_len = 3;
  proc.terminal = true; /* _present not set: still written, it is non-zero */
  c.mounts = mounts;
  c.mounts_len = 1;
  m.destination = (char *)"/x";
  m.options = opts;
  m.options_len = 1;
  c.annotations = calloc (1, sizeof (json_map_string_string));
  append_json_map_string_string (c.annotations, "k", "v");

  char *gen = runtime_spec_schema_config_schema_generate_json (&c, &ctx, &err);
  assert_null (err);
  assert_string_equal (gen, "{\"ociVersion\":\"1.2.0\",\"process\":{\"terminal\":true,"
                            "\"args\":[\"sh\",\"-c\",\"true\"]},\"mounts\":[{\"destination\":"
                            "\"/x\",\"options\":[\"ro\"]}],\"annotations\":{\"k\":\"v\"}}");
  free (gen);
  free_json_map_string_string (c.annotations);
}

/* ---- helpers ------------------------------------------------------------------------ */

static void
test_map_helpers (void **state)
{
  json_map_string_string *m = calloc (1, sizeof (*m));
  assert_int_equal (append_json_map_string_string (m, "a", "1"), 0);
  assert_int_equal (append_json_map_string_string (m, "b", "2"), 0);
  assert_int_equal (append_json_map_string_string (m, "a", "3"), 0);
  assert_int_equal (m->len, 2);
  assert_string_equal (json_map_string_string_get (m, "a"), "3");
  assert_string_equal (json_map_string_string_get (m, "b"), "2");
  assert_null (json_map_string_string_get (m, "c"));
  assert_null (json_map_string_string_get (NULL, "c"));
  assert_int_equal (append_json_map_string_string (NULL, "a", "1"), -1);
  assert_int_equal (append_json_map_string_string (m, NULL, "1"), -1);
  assert_int_equal (append_json_map_string_string (m, "a", NULL), -1);
  free_json_map_string_string (m);
  free_json_map_string_string (NULL);
}

static void
test_json_helpers (void **state)
{
  parser_error err = NULL;
  const char *json = "{\"a\":[1,-2,3.5,\"x\",true,false,null,{}],\"b\":{\"c\":\"d\"}}";
  yajl_val v = ocispec_json_parse (json, strlen (json), &err);
  assert_null (err);
  assert_non_null (v);
  yajl_val copy = ocispec_yajl_copy (v);
  yajl_tree_free (v);
  struct parser_context ctx = { OPT_GEN_SIMPLIFY, NULL };
  char *out = ocispec_yajl_to_json (copy, &ctx, &err);
  assert_string_equal (out, json);
  free (out);
  yajl_tree_free (copy);
  assert_null (ocispec_yajl_copy (NULL));
  out = ocispec_yajl_to_json (NULL, &ctx, &err);
  assert_string_equal (out, "null");
  free (out);

  char *f = write_tmp (json, strlen (json));
  v = ocispec_json_parse_file (f, &err);
  assert_null (err);
  assert_int_equal (v->u.object.len, 2);
  yajl_tree_free (v);
  unlink (f);
  free (f);

  assert_null (ocispec_json_parse ("[1,]", 4, &err));
  assert_non_null (err);
  free (err);
  err = NULL;
  assert_null (ocispec_json_parse_file (NULL, &err));
  assert_string_equal (err, "no file name");
  free (err);
  err = NULL;
  /* Comments are accepted, as yajl_tree_parse does. */
  v = ocispec_json_parse ("/* c */ {\"a\":1}", 15, &err);
  assert_non_null (v);
  yajl_tree_free (v);
}

static void
test_free_null (void **state)
{
  free_runtime_spec_schema_config_schema (NULL);
  free_runtime_spec_schema_config_schema_process (NULL);
  free_runtime_spec_schema_config_linux (NULL);
  free_runtime_spec_schema_config_linux_resources (NULL);
  free_runtime_spec_schema_config_linux_seccomp (NULL);
  free_runtime_spec_schema_state_schema (NULL);
  free_runtime_spec_schema_defs_mount (NULL);
  free_runtime_spec_schema_defs_hook (NULL);
  free_runtime_spec_schema_config_schema_hooks (NULL);
  free_runtime_spec_schema_config_schema_root (NULL);
  free_runtime_spec_schema_defs_id_mapping (NULL);
  free_runtime_spec_schema_defs_linux_namespace_reference (NULL);
  free_runtime_spec_schema_defs_linux_device (NULL);
  free_runtime_spec_schema_defs_linux_device_cgroup (NULL);
  free_runtime_spec_schema_defs_linux_block_io_device_weight (NULL);
  free_runtime_spec_schema_defs_linux_block_io_device_throttle (NULL);
  free_runtime_spec_schema_defs_linux_network_interface_priority (NULL);
  free_runtime_spec_schema_defs_linux_rdma (NULL);
  free_runtime_spec_schema_defs_linux_syscall_arg (NULL);
  free_runtime_spec_schema_defs_linux_syscall (NULL);
  free_runtime_spec_schema_defs_linux_time_offsets (NULL);
  free_runtime_spec_schema_config_schema_process_console_size (NULL);
  free_runtime_spec_schema_config_schema_process_user (NULL);
  free_runtime_spec_schema_config_schema_process_capabilities (NULL);
  free_runtime_spec_schema_config_schema_process_rlimits_element (NULL);
  free_runtime_spec_schema_config_schema_process_io_priority (NULL);
  free_runtime_spec_schema_config_schema_process_scheduler (NULL);
  free_runtime_spec_schema_config_schema_process_exec_cpu_affinity (NULL);
  free_runtime_spec_schema_config_linux_resources_memory (NULL);
  free_runtime_spec_schema_config_linux_resources_cpu (NULL);
  free_runtime_spec_schema_config_linux_resources_pids (NULL);
  free_runtime_spec_schema_config_linux_resources_block_io (NULL);
  free_runtime_spec_schema_config_linux_resources_hugepage_limits_element (NULL);
  free_runtime_spec_schema_config_linux_resources_network (NULL);
  free_runtime_spec_schema_config_linux_resources_rdma (NULL);
  free_runtime_spec_schema_config_linux_intel_rdt (NULL);
  free_runtime_spec_schema_config_linux_personality (NULL);
  free_runtime_spec_schema_config_linux_time_offsets (NULL);
}

/* Sub-objects can be detached and freed on their own (callers steal pieces). */
static void
test_free_subobjects (void **state)
{
  parser_error err = NULL;
  char *p = data_path ("containerd-config.json");
  runtime_spec_schema_config_schema *c = runtime_spec_schema_config_schema_parse_file (p, NULL, &err);
  free (p);
  assert_non_null (c);
  runtime_spec_schema_config_linux *l = c->linux;
  c->linux = NULL;
  free_runtime_spec_schema_config_linux_resources_rdma (l->resources->rdma);
  l->resources->rdma = NULL;
  free_runtime_spec_schema_config_linux_time_offsets (l->time_offsets);
  l->time_offsets = NULL;
  free_runtime_spec_schema_config_linux_resources_memory (l->resources->memory);
  l->resources->memory = NULL;
  free_runtime_spec_schema_config_linux (l);
  runtime_spec_schema_config_schema_process *proc = c->process;
  c->process = NULL;
  free_runtime_spec_schema_config_schema (c);
  free_runtime_spec_schema_config_schema_process (proc);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_runc_spec),
    cmocka_unit_test (test_crun_spec),
    cmocka_unit_test (test_podman_config),
    cmocka_unit_test (test_containerd_config),
    cmocka_unit_test (test_round_trip_runc),
    cmocka_unit_test (test_round_trip_crun),
    cmocka_unit_test (test_round_trip_podman),
    cmocka_unit_test (test_round_trip_containerd),
    cmocka_unit_test (test_round_trip_captured),
    cmocka_unit_test (test_unknown_fields_preserved),
    cmocka_unit_test (test_strict_rejects_unknown),
    cmocka_unit_test (test_error_paths),
    cmocka_unit_test (test_deep_nesting),
    cmocka_unit_test (test_huge_array),
    cmocka_unit_test (test_too_many_values),
    cmocka_unit_test (test_file_errors),
    cmocka_unit_test (test_null_and_duplicates),
    cmocka_unit_test (test_uint64_extremes),
    cmocka_unit_test (test_process),
    cmocka_unit_test (test_resources),
    cmocka_unit_test (test_state),
    cmocka_unit_test (test_toplevel_types),
    cmocka_unit_test (test_make_from_tree),
    cmocka_unit_test (test_generate_options),
    cmocka_unit_test (test_generate_built),
    cmocka_unit_test (test_map_helpers),
    cmocka_unit_test (test_json_helpers),
    cmocka_unit_test (test_free_null),
    cmocka_unit_test (test_free_subobjects),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
