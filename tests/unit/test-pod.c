/* Pods (src/runtime/pod.c): the privileged rule, the shm size, the shared namespace types. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "common/utils.h"
#include "runtime/pod.h"

static runtime_spec_schema_config_schema *
parse (const char *json)
{
  struct parser_context ctx = { 0 };
  parser_error perr = NULL;
  runtime_spec_schema_config_schema *s = runtime_spec_schema_config_schema_parse_data (json, &ctx, &perr);
  free (perr);
  assert_non_null (s);
  return s;
}

#define ALL_CAPS                                                                                             \
  "\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_DAC_READ_SEARCH\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\","   \
  "\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETPCAP\",\"CAP_LINUX_IMMUTABLE\",\"CAP_NET_BIND_SERVICE\","          \
  "\"CAP_NET_BROADCAST\",\"CAP_NET_ADMIN\",\"CAP_NET_RAW\",\"CAP_IPC_LOCK\",\"CAP_IPC_OWNER\","              \
  "\"CAP_SYS_MODULE\",\"CAP_SYS_RAWIO\",\"CAP_SYS_CHROOT\",\"CAP_SYS_PTRACE\",\"CAP_SYS_PACCT\","            \
  "\"CAP_SYS_ADMIN\",\"CAP_SYS_BOOT\",\"CAP_SYS_NICE\",\"CAP_SYS_RESOURCE\",\"CAP_SYS_TIME\","               \
  "\"CAP_SYS_TTY_CONFIG\",\"CAP_MKNOD\",\"CAP_LEASE\",\"CAP_AUDIT_WRITE\",\"CAP_AUDIT_CONTROL\","            \
  "\"CAP_SETFCAP\",\"CAP_MAC_OVERRIDE\",\"CAP_MAC_ADMIN\",\"CAP_SYSLOG\",\"CAP_WAKE_ALARM\","                \
  "\"CAP_BLOCK_SUSPEND\",\"CAP_AUDIT_READ\""

#define DEVS "\"devices\":[{\"path\":\"/dev/loop4\",\"type\":\"b\",\"major\":7,\"minor\":4}]"

static void
test_privileged (void **state)
{
  kata_config_t cfg;
  runtime_spec_schema_config_schema *s;
  (void)state;
  memset (&cfg, 0, sizeof cfg);
  cfg.runtime.privileged_without_host_devices = true;

  /* containerd's privileged container: all capabilities, no masked/readonly paths. */
  s = parse ("{\"process\":{\"capabilities\":{\"bounding\":[" ALL_CAPS ",\"CAP_BPF\"]}},\"linux\":{" DEVS
             "}}");
  assert_true (kata_pod_privileged (s));
  assert_int_equal (kata_pod_drop_host_devices (&cfg, s), 1);
  assert_int_equal (s->linux->devices_len, 0);
  free_runtime_spec_schema_config_schema (s);

  /* The option off: the devices stay. */
  cfg.runtime.privileged_without_host_devices = false;
  s = parse ("{\"process\":{\"capabilities\":{\"bounding\":[" ALL_CAPS "]}},\"linux\":{" DEVS "}}");
  assert_true (kata_pod_privileged (s));
  assert_int_equal (kata_pod_drop_host_devices (&cfg, s), 0);
  assert_int_equal (s->linux->devices_len, 1);
  free_runtime_spec_schema_config_schema (s);
  cfg.runtime.privileged_without_host_devices = true;

  /* Masked paths: not privileged. */
  s = parse ("{\"process\":{\"capabilities\":{\"bounding\":[" ALL_CAPS "]}},\"linux\":{" DEVS
             ",\"maskedPaths\":[\"/proc/kcore\"]}}");
  assert_false (kata_pod_privileged (s));
  assert_int_equal (kata_pod_drop_host_devices (&cfg, s), 0);
  free_runtime_spec_schema_config_schema (s);

  /* Read-only paths: not privileged. */
  s = parse ("{\"process\":{\"capabilities\":{\"bounding\":[" ALL_CAPS "]}},\"linux\":{" DEVS
             ",\"readonlyPaths\":[\"/proc/sys\"]}}");
  assert_false (kata_pod_privileged (s));
  free_runtime_spec_schema_config_schema (s);

  /* One capability short (no CAP_AUDIT_READ, last of the set): not privileged. */
  s = parse (
      "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_SYS_ADMIN\"]}},\"linux\":{" DEVS
      "}}");
  assert_false (kata_pod_privileged (s));
  free_runtime_spec_schema_config_schema (s);

  /* A host without CAP_SYS_RESOURCE (a container): containerd gives a privileged container
     the capabilities it has, all but that one.  Privileged there; not where the host has it. */
  s = parse ("{\"process\":{\"capabilities\":{\"bounding\":[" ALL_CAPS "]}},\"linux\":{" DEVS "}}");
  {
    runtime_spec_schema_config_schema_process_capabilities *c = s->process->capabilities;
    size_t k, j = 0;
    for (k = 0; k < c->bounding_len; k++)
      if (strcmp (c->bounding[k], "CAP_SYS_RESOURCE") == 0)
        free (c->bounding[k]);
      else
        c->bounding[j++] = c->bounding[k];
    assert_int_equal (j, c->bounding_len - 1);
    c->bounding_len = j;
  }
  assert_true (kata_pod_privileged_caps (s, ((1ULL << 38) - 1) & ~(1ULL << 24)));
  assert_false (kata_pod_privileged_caps (s, (1ULL << 38) - 1));
  free_runtime_spec_schema_config_schema (s);

  /* No capabilities at all. */
  s = parse ("{\"process\":{},\"linux\":{" DEVS "}}");
  assert_false (kata_pod_privileged (s));
  free_runtime_spec_schema_config_schema (s);
}

static void
test_shm_size (void **state)
{
  char *o1[] = { "rbind", "size=65536k" };
  char *o2[] = { "rbind", "size=16m", "ro" };
  char *o3[] = { "size=1g" };
  char *o4[] = { "size=4096" };
  char *bad[] = { "size=", "size=12x", "size=0" };
  (void)state;
  assert_int_equal (kata_pod_shm_size (o1, 2, 0), 64ULL << 20);
  assert_int_equal (kata_pod_shm_size (o2, 3, 1 << 20), 16ULL << 20);
  assert_int_equal (kata_pod_shm_size (o3, 1, 0), 1ULL << 30);
  assert_int_equal (kata_pod_shm_size (o4, 1, 0), 4096);
  assert_int_equal (kata_pod_shm_size (bad, 3, 0), KATA_POD_SHM_DEFAULT_SIZE);
  assert_int_equal (kata_pod_shm_size (bad, 3, 32ULL << 20), 32ULL << 20);
  assert_int_equal (kata_pod_shm_size (NULL, 0, 0), 64ULL << 20);
}

static void
test_ns (void **state)
{
  runtime_spec_schema_config_schema *s;
  (void)state;
  assert_true (kata_pod_ns_shared ("ipc"));
  assert_true (kata_pod_ns_shared ("uts"));
  assert_true (kata_pod_ns_shared ("pid"));
  assert_false (kata_pod_ns_shared ("network"));
  assert_false (kata_pod_ns_shared ("mount"));
  assert_false (kata_pod_ns_shared ("cgroup"));
  assert_false (kata_pod_ns_shared (NULL));
  s = parse (
      "{\"linux\":{\"namespaces\":[{\"type\":\"pid\",\"path\":\"/proc/9/ns/pid\"},{\"type\":\"ipc\"}]}}");
  assert_true (kata_pod_pidns_path (s));
  free_runtime_spec_schema_config_schema (s);
  s = parse (
      "{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\",\"path\":\"/proc/9/ns/ipc\"}]}}");
  assert_false (kata_pod_pidns_path (s));
  free_runtime_spec_schema_config_schema (s);
}

static void
test_sandbox_limits (void **state)
{
  kata_config_t cfg;
  runtime_spec_schema_config_schema *s;
  int64_t mem = 0, quota = 0, period = 0;
  (void)state;
  memset (&cfg, 0, sizeof cfg);
  cfg.hypervisor.default_memory = 256;
  cfg.hypervisor.default_vcpus = 1;
  s = parse ("{\"annotations\":{\"io.kubernetes.cri.sandbox-memory\":\"268435456\","
             "\"io.kubernetes.cri.sandbox-cpu-quota\":\"150000\",\"io.kubernetes.cri.sandbox-cpu-period\":"
             "\"100000\"}}");
  kata_pod_sandbox_limits (&cfg, s, &mem, &quota, &period);
  assert_int_equal (mem, (int64_t)512 << 20);
  assert_int_equal (period, 100000);
  assert_int_equal (quota, 250000); /* ceil(2.5) = 3 vCPUs: 1 + ceil(1.5) */
  free_runtime_spec_schema_config_schema (s);

  /* Bad values and no annotations: left alone. */
  mem = 7;
  quota = period = 0;
  s = parse ("{\"annotations\":{\"io.kubernetes.cri.sandbox-memory\":\"-5\",\"io.kubernetes.cri.sandbox-cpu-"
             "quota\":\"x\"}}");
  kata_pod_sandbox_limits (&cfg, s, &mem, &quota, &period);
  assert_int_equal (mem, 7);
  assert_int_equal (quota, 0);
  free_runtime_spec_schema_config_schema (s);
  s = parse ("{}");
  kata_pod_sandbox_limits (&cfg, s, &mem, &quota, &period);
  assert_int_equal (mem, 7);
  free_runtime_spec_schema_config_schema (s);

  /* A quota without a period: the kernel's 100000. */
  s = parse ("{\"annotations\":{\"io.kubernetes.cri.sandbox-cpu-quota\":\"100000\"}}");
  kata_pod_sandbox_limits (&cfg, s, &mem, &quota, &period);
  assert_int_equal (period, 100000);
  assert_int_equal (quota, 200000);
  free_runtime_spec_schema_config_schema (s);
}

/* vCPU hot-plug (docs/kubernetes.md "vCPUs"): ceil(quota/period) as Kata counts, and
   the vCPUs that containers which left freed go first. */
static void
test_cpu_count (void **state)
{
  (void)state;
  assert_int_equal (kata_pod_cpu_count (0, 100000), 0);
  assert_int_equal (kata_pod_cpu_count (-1, 100000), 0);
  assert_int_equal (kata_pod_cpu_count (200000, 100000), 2);
  assert_int_equal (kata_pod_cpu_count (200001, 100000), 3);
  assert_int_equal (kata_pod_cpu_count (50000, 100000), 1);
  assert_int_equal (kata_pod_cpu_count (150000, 0), 2); /* the kernel's default period */
  assert_int_equal (kata_pod_cpu_count (INT64_C (1) << 40, 1000), 1024);

  assert_int_equal (kata_pod_cpu_to_plug (0, 0, 2), 2);
  assert_int_equal (kata_pod_cpu_to_plug (3, 1, 2), 0); /* 2 freed: reused */
  assert_int_equal (kata_pod_cpu_to_plug (3, 2, 2), 1);
  assert_int_equal (kata_pod_cpu_to_plug (2, 5, 1), 1); /* more held than plugged: nothing free */
  assert_int_equal (kata_pod_cpu_to_plug (4, 0, 0), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_privileged),     cmocka_unit_test (test_shm_size),  cmocka_unit_test (test_ns),
    cmocka_unit_test (test_sandbox_limits), cmocka_unit_test (test_cpu_count),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
