/* Unit tests of configuration.toml loading (src/runtime/config.c). */
#include "config.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/error.h"
#include "common/utils.h"
#include "runtime/config.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/unit/data"
#endif
#ifndef TEST_TOP_SRCDIR
#define TEST_TOP_SRCDIR TEST_DATA_DIR "/../../.."
#endif
#ifndef KATA_DATADIR
#define KATA_DATADIR "/usr/share"
#endif

/* Warnings received through the callback. */
static char *warnings[16];
static size_t n_warnings;

static void
reset_warnings (void)
{
  size_t i;
  for (i = 0; i < n_warnings; i++)
    free (warnings[i]);
  n_warnings = 0;
}

static void
record_warning (const char *msg)
{
  if (n_warnings < 16)
    warnings[n_warnings] = xstrdup (msg);
  n_warnings++;
}

static int
teardown (void **state)
{
  reset_warnings ();
  unsetenv (KATA_CONFIG_ENV);
  return 0;
}

static kata_config_t *
load_ok (const char *s)
{
  kata_config_t *c = NULL;
  kata_error_t *err = NULL;

  if (kata_config_load_data (s, strlen (s), "t.toml", &c, record_warning, &err) < 0)
    fail_msg ("unexpected error: %s\ninput: %s", err->msg, s);
  assert_non_null (c);
  return c;
}

static void
load_err (const char *s, const char *msg)
{
  kata_config_t *c = NULL;
  kata_error_t *err = NULL;

  if (kata_config_load_data (s, strlen (s), "t.toml", &c, record_warning, &err) == 0)
    fail_msg ("loaded, expected error '%s'\ninput: %s", msg, s);
  assert_null (c);
  assert_int_equal (err->status, KATA_EBADCONFIG);
  if (strcmp (err->msg, msg) != 0)
    fail_msg ("input: %s\nexpected: %s\n     got: %s", s, msg, err->msg);
  kata_error_free (err);
}

/* Asserts that A and B hold the same settings (path aside). */
static void
assert_config_equal (const kata_config_t *a, const kata_config_t *b)
{
  size_t i;
#define S(f) assert_string_equal (a->f, b->f)
#define I(f) assert_int_equal (a->f, b->f)
  S (hypervisor.path);
  S (hypervisor.kernel);
  S (hypervisor.initrd);
  S (hypervisor.machine_type);
  S (hypervisor.accel);
  S (hypervisor.kernel_params);
  I (hypervisor.default_vcpus);
  I (hypervisor.default_maxvcpus);
  I (hypervisor.default_memory);
  I (hypervisor.memory_slots);
  S (hypervisor.shared_fs);
  S (hypervisor.virtio_fs_daemon);
  S (hypervisor.virtio_fs_cache);
  I (hypervisor.msize_9p);
  S (hypervisor.cache_9p);
  S (hypervisor.block_device_driver);
  I (hypervisor.disable_block_device_use);
  I (hypervisor.enable_debug);
  I (hypervisor.boot_timeout);
  S (hypervisor.tb_size);
  S (hypervisor.firmware);
  S (hypervisor.memory_backend);
  I (hypervisor.disable_transparent_hugepages);
  I (agent.debug);
  I (agent.kernel_modules_len);
  for (i = 0; i < a->agent.kernel_modules_len; i++)
    S (agent.kernel_modules[i]);
  assert_null (a->agent.kernel_modules[a->agent.kernel_modules_len]);
  assert_null (b->agent.kernel_modules[b->agent.kernel_modules_len]);
  S (runtime.internetworking_model);
  I (runtime.disable_new_netns);
  I (runtime.sandbox_cgroup_only);
  I (runtime.enable_debug);
  I (runtime.host_cgroup_overhead_mb);
  I (runtime.privileged_without_host_devices);
  I (runtime.disable_guest_empty_dir);
  I (factory.enable_template);
  S (factory.template_path);
  I (factory.vm_cache_number);
  S (factory.vm_cache_endpoint);
#undef S
#undef I
}

static void
test_default (void **state)
{
  kata_config_t *c = kata_config_default ();

  assert_null (c->path);
  assert_string_equal (c->hypervisor.path, "/usr/bin/qemu-system-x86_64");
  assert_string_equal (c->hypervisor.kernel, "/usr/share/kata-containers/vmlinuz.container");
  assert_string_equal (c->hypervisor.initrd, "/usr/share/kata-containers/kata-containers-initrd.img");
  assert_string_equal (c->hypervisor.machine_type, "q35");
  assert_string_equal (c->hypervisor.accel, "auto");
  assert_string_equal (c->hypervisor.kernel_params, "");
  assert_int_equal (c->hypervisor.default_vcpus, 1);
  assert_int_equal (c->hypervisor.default_maxvcpus, 0);
  assert_int_equal (c->hypervisor.default_memory, 256);
  assert_int_equal (c->hypervisor.memory_slots, 10);
  assert_string_equal (c->hypervisor.shared_fs, "virtio-9p");
  assert_string_equal (c->hypervisor.virtio_fs_daemon, "/usr/lib/qemu/virtiofsd");
  assert_string_equal (c->hypervisor.virtio_fs_cache, "auto");
  assert_int_equal (c->hypervisor.msize_9p, 524288);
  assert_string_equal (c->hypervisor.cache_9p, "none");
  assert_string_equal (c->hypervisor.block_device_driver, "virtio-blk");
  assert_false (c->hypervisor.disable_block_device_use);
  assert_false (c->hypervisor.enable_debug);
  assert_int_equal (c->hypervisor.boot_timeout, 60);
  assert_string_equal (c->hypervisor.tb_size, "32");
  assert_string_equal (c->hypervisor.firmware, "");
  assert_string_equal (c->hypervisor.memory_backend, "memfd");
  assert_int_equal (c->hypervisor.disable_transparent_hugepages, 0);
  assert_false (c->agent.debug);
  assert_int_equal (c->agent.kernel_modules_len, 0);
  assert_non_null (c->agent.kernel_modules);
  assert_null (c->agent.kernel_modules[0]);
  assert_string_equal (c->runtime.internetworking_model, "tcfilter");
  assert_false (c->runtime.disable_new_netns);
  assert_false (c->runtime.sandbox_cgroup_only);
  assert_false (c->runtime.enable_debug);
  assert_int_equal (c->runtime.host_cgroup_overhead_mb, 64);
  assert_true (c->runtime.disable_guest_empty_dir);
  assert_false (c->factory.enable_template);
  assert_string_equal (c->factory.template_path, "/run/vc/vm/template");
  assert_int_equal (c->factory.vm_cache_number, 0);
  assert_string_equal (c->factory.vm_cache_endpoint, "/var/run/kata-containers/cache.sock");
  kata_config_free (c);
  kata_config_free (NULL);
}

static void
test_default_paths (void **state)
{
  const char **p = kata_config_default_paths ();
  const char *datadir = KATA_DATADIR "/defaults/kata-containers/configuration.toml";
  const char *usr = "/usr/share/defaults/kata-containers/configuration.toml";
  size_t n = 0;

  while (p[n])
    n++;
  assert_string_equal (p[0], "/etc/kata-containers/configuration.toml");
  assert_string_equal (p[1], datadir);
  if (strcmp (datadir, usr) == 0)
    assert_int_equal (n, 2);
  else
    {
      assert_int_equal (n, 3);
      assert_string_equal (p[2], usr);
    }
  /* the same static list every time */
  assert_ptr_equal (kata_config_default_paths (), p);
}

/* The guest is an initrd or an image: both is an error naming both keys; image alone
   replaces the default initrd. */
static void
test_image_or_initrd (void **state)
{
  kata_config_t *c;
  (void)state;
  c = load_ok ("[hypervisor.qemu]\nkernel = \"/k/vmlinuz\"\n");
  assert_string_equal (c->hypervisor.image, "");
  assert_string_equal (c->hypervisor.initrd, "/usr/share/kata-containers/kata-containers-initrd.img");
  assert_true (c->hypervisor.disable_image_nvdimm);
  kata_config_free (c);
  c = load_ok ("[hypervisor.qemu]\nimage = \"/k/kata-containers.img\"\ndisable_image_nvdimm = false\n");
  assert_string_equal (c->hypervisor.image, "/k/kata-containers.img");
  assert_string_equal (c->hypervisor.initrd, "");
  assert_false (c->hypervisor.disable_image_nvdimm);
  kata_config_free (c);
  load_err (
      "[hypervisor.qemu]\ninitrd = \"/k/initrd.img\"\nimage = \"/k/kata-containers.img\"\n",
      "t.toml:3:9: hypervisor.qemu: `image` and `initrd` are both set: the guest is either a disk image "
      "(systemd as init) or an initrd (the agent as init), set only one of them");
  load_err ("[hypervisor.qemu]\nimage = \"k.img\"\n",
            "t.toml:2:9: hypervisor.qemu.image: expected an absolute path, got \"k.img\"");
}

static void
test_every_key (void **state)
{
  kata_config_t *c = load_ok ("[hypervisor.qemu]\n"
                              "path = \"/opt/qemu/bin/qemu\"\n"
                              "kernel = \"/k/vmlinux.container\"\n"
                              "initrd = \"/k/initrd.img\"\n"
                              "machine_type = \"microvm\"\n"
                              "accel = \"tcg\"\n"
                              "kernel_params = \"quiet tsc_early_khz=2000000\"\n"
                              "default_vcpus = 2\n"
                              "default_maxvcpus = 4\n"
                              "default_memory = 1024\n"
                              "memory_slots = 3\n"
                              "shared_fs = \"virtio-fs\"\n"
                              "virtio_fs_daemon = \"/usr/libexec/virtiofsd\"\n"
                              "virtio_fs_cache = \"always\"\n"
                              "msize_9p = 524288\n"
                              "block_device_driver = \"virtio-scsi\"\n"
                              "disable_block_device_use = true\n"
                              "enable_debug = true\n"
                              "boot_timeout = 120\n"
                              "tb_size = 512\n"
                              "disable_transparent_hugepages = true\n"
                              "[agent.kata]\n"
                              "debug = true\n"
                              "kernel_modules = [\"e1000e EEE=1\", \"i915\"]\n"
                              "[runtime]\n"
                              "internetworking_model = \"macvtap\"\n"
                              "disable_new_netns = true\n"
                              "sandbox_cgroup_only = true\n"
                              "enable_debug = true\n"
                              "host_cgroup_overhead_mb = 128\n"
                              "disable_guest_empty_dir = false\n"
                              "[factory]\n"
                              "enable_template = true\n"
                              "template_path = \"/run/tpl\"\n"
                              "vm_cache_number = 3\n"
                              "vm_cache_endpoint = \"/run/cache.sock\"\n");

  assert_int_equal (n_warnings, 0);
  assert_string_equal (c->path, "t.toml");
  assert_string_equal (c->hypervisor.path, "/opt/qemu/bin/qemu");
  assert_string_equal (c->hypervisor.kernel, "/k/vmlinux.container");
  assert_string_equal (c->hypervisor.initrd, "/k/initrd.img");
  assert_string_equal (c->hypervisor.machine_type, "microvm");
  assert_string_equal (c->hypervisor.accel, "tcg");
  assert_string_equal (c->hypervisor.kernel_params, "quiet tsc_early_khz=2000000");
  assert_int_equal (c->hypervisor.default_vcpus, 2);
  assert_int_equal (c->hypervisor.default_maxvcpus, 4);
  assert_int_equal (c->hypervisor.default_memory, 1024);
  assert_int_equal (c->hypervisor.memory_slots, 3);
  assert_string_equal (c->hypervisor.shared_fs, "virtio-fs");
  assert_string_equal (c->hypervisor.virtio_fs_daemon, "/usr/libexec/virtiofsd");
  assert_string_equal (c->hypervisor.virtio_fs_cache, "always");
  assert_int_equal (c->hypervisor.msize_9p, 524288);
  assert_string_equal (c->hypervisor.block_device_driver, "virtio-scsi");
  assert_true (c->hypervisor.disable_block_device_use);
  assert_true (c->hypervisor.enable_debug);
  assert_int_equal (c->hypervisor.boot_timeout, 120);
  assert_string_equal (c->hypervisor.tb_size, "512");
  assert_true (c->hypervisor.disable_transparent_hugepages);
  assert_true (c->agent.debug);
  assert_int_equal (c->agent.kernel_modules_len, 2);
  assert_string_equal (c->agent.kernel_modules[0], "e1000e EEE=1");
  assert_string_equal (c->agent.kernel_modules[1], "i915");
  assert_null (c->agent.kernel_modules[2]);
  assert_string_equal (c->runtime.internetworking_model, "macvtap");
  assert_true (c->runtime.disable_new_netns);
  assert_true (c->runtime.sandbox_cgroup_only);
  assert_true (c->runtime.enable_debug);
  assert_int_equal (c->runtime.host_cgroup_overhead_mb, 128);
  assert_false (c->runtime.disable_guest_empty_dir);
  assert_true (c->factory.enable_template);
  assert_string_equal (c->factory.template_path, "/run/tpl");
  assert_int_equal (c->factory.vm_cache_number, 3);
  assert_string_equal (c->factory.vm_cache_endpoint, "/run/cache.sock");
  kata_config_free (c);
}

static void
test_partial_keeps_defaults (void **state)
{
  kata_config_t *d = kata_config_default ();
  kata_config_t *c = load_ok ("[hypervisor.qemu]\ndefault_memory = 512\n");

  assert_int_equal (c->hypervisor.default_memory, 512);
  d->hypervisor.default_memory = 512;
  assert_config_equal (c, d);
  kata_config_free (c);
  kata_config_free (d);

  /* an empty file is all defaults; the path is recorded */
  d = kata_config_default ();
  c = load_ok ("");
  assert_config_equal (c, d);
  assert_string_equal (c->path, "t.toml");
  kata_config_free (c);
  kata_config_free (d);

  /* a NULL filename names "<input>" and leaves path NULL */
  {
    kata_error_t *err = NULL;
    assert_int_equal (kata_config_load_data ("x = 1", 5, NULL, &c, record_warning, &err), 0);
    assert_null (c->path);
    assert_int_equal (n_warnings, 1);
    assert_string_equal (warnings[0], "<input>:1:1: unknown key 'x' (ignored)");
    kata_config_free (c);
  }
}

static void
test_tb_size_forms (void **state)
{
  kata_config_t *c = load_ok ("[hypervisor.qemu]\ntb_size = \"256\"\n");
  assert_string_equal (c->hypervisor.tb_size, "256");
  kata_config_free (c);
  c = load_ok ("[hypervisor.qemu]\ntb_size = 0\n");
  assert_string_equal (c->hypervisor.tb_size, "0");
  kata_config_free (c);
  c = load_ok ("[hypervisor.qemu]\nmemory_backend = \"ram\"\nfirmware = \"seabios\"\n");
  assert_string_equal (c->hypervisor.memory_backend, "ram");
  assert_string_equal (c->hypervisor.firmware, "seabios");
  kata_config_free (c);
  load_err ("[hypervisor.qemu]\ntb_size = \"big\"\n",
            "t.toml:2:11: hypervisor.qemu.tb_size: expected integer, got string");
  load_err ("[hypervisor.qemu]\ntb_size = \"\"\n",
            "t.toml:2:11: hypervisor.qemu.tb_size: expected integer, got string");
  load_err (
      "[hypervisor.qemu]\ntb_size = -1\n",
      "t.toml:2:11: hypervisor.qemu.tb_size: -1 is out of range, expected an integer from 0 to 1048576");
  load_err ("[hypervisor.qemu]\ntb_size = 1.5\n",
            "t.toml:2:11: hypervisor.qemu.tb_size: expected integer, got float");
  c = load_ok ("[hypervisor.qemu]\ndisable_transparent_hugepages = false\n");
  assert_false (c->hypervisor.disable_transparent_hugepages);
  kata_config_free (c);
  load_err ("[hypervisor.qemu]\ndisable_transparent_hugepages = 1\n",
            "t.toml:2:33: hypervisor.qemu.disable_transparent_hugepages: expected boolean, got integer");
}

static void
test_unknown_warns (void **state)
{
  kata_config_t *c = load_ok ("[hypervisor.qemu]\n"
                              "path = \"/q\"\n"
                              "  machine_accelerators = \"\"\n"
                              "[hypervisor.firecracker]\n"
                              "path = \"/fc\"\n"
                              "[hypervisor]\n"
                              "foo = 1\n"
                              "[proxy.kata]\n"
                              "[runtime]\n"
                              "enable_tracing = true\n"
                              "[netmon]\n"
                              "enable = false\n"
                              "[agent.kata]\n"
                              "debug = true\n"
                              "[agent.other]\n"
                              "top = 1\n");

  /* the file still loads, with the known keys applied */
  assert_string_equal (c->hypervisor.path, "/q");
  assert_true (c->agent.debug);
  assert_int_equal (n_warnings, 7);
  assert_string_equal (warnings[0],
                       "t.toml:3:3: unknown key 'hypervisor.qemu.machine_accelerators' (ignored)");
  assert_string_equal (warnings[1], "t.toml:4:13: unknown table 'hypervisor.firecracker' (ignored)");
  assert_string_equal (warnings[2], "t.toml:7:1: unknown key 'hypervisor.foo' (ignored)");
  assert_string_equal (warnings[3], "t.toml:8:2: unknown table 'proxy' (ignored)");
  assert_string_equal (warnings[4], "t.toml:10:1: unknown key 'runtime.enable_tracing' (ignored)");
  assert_string_equal (warnings[5], "t.toml:11:2: unknown table 'netmon' (ignored)");
  assert_string_equal (warnings[6], "t.toml:15:8: unknown table 'agent.other' (ignored)");
  kata_config_free (c);

  /* WARN may be NULL */
  {
    kata_error_t *err = NULL;
    const char *s = "[nope]\nx = 1\n";
    assert_int_equal (kata_config_load_data (s, strlen (s), "t.toml", &c, NULL, &err), 0);
    kata_config_free (c);
  }
  /* a table inside a known section is unknown too */
  reset_warnings ();
  c = load_ok ("[runtime.sub]\nx = 1\n");
  assert_int_equal (n_warnings, 1);
  assert_string_equal (warnings[0], "t.toml:1:10: unknown table 'runtime.sub' (ignored)");
  kata_config_free (c);
}

static void
test_wrong_type (void **state)
{
  load_err ("[hypervisor.qemu]\n"
            "default_memory = \"2048\"\n",
            "t.toml:2:18: hypervisor.qemu.default_memory: expected integer, got string");
  load_err ("[hypervisor.qemu]\ndefault_vcpus = 1.0\n",
            "t.toml:2:17: hypervisor.qemu.default_vcpus: expected integer, got float");
  load_err ("[hypervisor.qemu]\npath = 1\n",
            "t.toml:2:8: hypervisor.qemu.path: expected string, got integer");
  load_err ("[hypervisor.qemu]\nkernel_params = [\"a\"]\n",
            "t.toml:2:17: hypervisor.qemu.kernel_params: expected string, got array");
  load_err ("[hypervisor.qemu]\nmachine_type = true\n",
            "t.toml:2:16: hypervisor.qemu.machine_type: expected string, got boolean");
  load_err ("[hypervisor.qemu]\nenable_debug = \"true\"\n",
            "t.toml:2:16: hypervisor.qemu.enable_debug: expected boolean, got string");
  load_err ("[agent.kata]\ndebug = 1\n", "t.toml:2:9: agent.kata.debug: expected boolean, got integer");
  load_err ("[agent.kata]\nkernel_modules = \"i915\"\n",
            "t.toml:2:18: agent.kata.kernel_modules: expected array of strings, got string");
  load_err ("[agent.kata]\nkernel_modules = [\n  \"a\",\n  2,\n]\n",
            "t.toml:4:3: agent.kata.kernel_modules[1]: expected string, got integer");
  load_err ("[agent.kata]\nkernel_modules = [\"\"]\n",
            "t.toml:2:19: agent.kata.kernel_modules[0]: expected a non-empty string");
  load_err ("[runtime]\nsandbox_cgroup_only = 0\n",
            "t.toml:2:23: runtime.sandbox_cgroup_only: expected boolean, got integer");
  load_err ("[factory]\nvm_cache_number = \"3\"\n",
            "t.toml:2:19: factory.vm_cache_number: expected integer, got string");
  /* a section that is not a table */
  load_err ("runtime = 1\n", "t.toml:1:11: runtime: expected table, got integer");
  load_err ("hypervisor = \"qemu\"\n", "t.toml:1:14: hypervisor: expected table, got string");
  load_err ("[hypervisor]\nqemu = []\n", "t.toml:2:8: hypervisor.qemu: expected table, got array");
  /* and a syntax error comes from the parser, located */
  load_err ("[runtime]\nenable_debug = yes\n", "t.toml:2:16: invalid value 'yes'");
}

static void
test_enums (void **state)
{
  static const struct
  {
    const char *key, *values[4];
  } ok[] = {
    { "hypervisor.qemu.machine_type", { "q35", "microvm", NULL } },
    { "hypervisor.qemu.accel", { "auto", "kvm", "tcg", NULL } },
    { "hypervisor.qemu.shared_fs", { "virtio-9p", "virtio-fs", NULL } },
    { "hypervisor.qemu.virtio_fs_cache", { "auto", "none", "always", NULL } },
    { "hypervisor.qemu.cache_9p", { "none", "mmap", "loose", NULL } },
    { "hypervisor.qemu.block_device_driver", { "virtio-blk", "virtio-scsi", NULL } },
    { "runtime.internetworking_model", { "tcfilter", "macvtap", "none", NULL } },
  };
  size_t i, j;

  for (i = 0; i < sizeof (ok) / sizeof (ok[0]); i++)
    for (j = 0; ok[i].values[j]; j++)
      {
        const char *dot = strrchr (ok[i].key, '.');
        cleanup_free char *s = xasprintf ("[%.*s]\n%s = \"%s\"\n", (int)(dot - ok[i].key), ok[i].key, dot + 1,
                                          ok[i].values[j]);
        kata_config_t *c = load_ok (s);
        const char *got = strcmp (dot + 1, "machine_type") == 0          ? c->hypervisor.machine_type
                          : strcmp (dot + 1, "accel") == 0               ? c->hypervisor.accel
                          : strcmp (dot + 1, "shared_fs") == 0           ? c->hypervisor.shared_fs
                          : strcmp (dot + 1, "virtio_fs_cache") == 0     ? c->hypervisor.virtio_fs_cache
                          : strcmp (dot + 1, "cache_9p") == 0            ? c->hypervisor.cache_9p
                          : strcmp (dot + 1, "block_device_driver") == 0 ? c->hypervisor.block_device_driver
                                                                         : c->runtime.internetworking_model;
        assert_string_equal (got, ok[i].values[j]);
        kata_config_free (c);
      }

  load_err ("[hypervisor.qemu]\nmachine_type = \"pc\"\n",
            "t.toml:2:16: hypervisor.qemu.machine_type: invalid value \"pc\", expected one of \"q35\", "
            "\"microvm\"");
  load_err (
      "[hypervisor.qemu]\naccel = \"KVM\"\n",
      "t.toml:2:9: hypervisor.qemu.accel: invalid value \"KVM\", expected one of \"auto\", \"kvm\", \"tcg\"");
  load_err ("[hypervisor.qemu]\nshared_fs = \"virtio-fs-nydus\"\n",
            "t.toml:2:13: hypervisor.qemu.shared_fs: invalid value \"virtio-fs-nydus\", expected one of "
            "\"virtio-9p\", \"virtio-fs\"");
  load_err ("[runtime]\ninternetworking_model = \"bridged\"\n",
            "t.toml:2:25: runtime.internetworking_model: invalid value \"bridged\", expected one of "
            "\"tcfilter\", \"macvtap\", \"none\"");
  load_err ("[hypervisor.qemu]\nblock_device_driver = \"nvdimm\"\n",
            "t.toml:2:23: hypervisor.qemu.block_device_driver: invalid value \"nvdimm\", expected one of "
            "\"virtio-blk\", \"virtio-scsi\"");
  load_err ("[hypervisor.qemu]\ncache_9p = \"fscache\"\n",
            "t.toml:2:12: hypervisor.qemu.cache_9p: invalid value \"fscache\", expected one of \"none\", "
            "\"mmap\", \"loose\"");
  load_err ("[hypervisor.qemu]\nvirtio_fs_cache = \"\"\n",
            "t.toml:2:19: hypervisor.qemu.virtio_fs_cache: invalid value \"\", expected one of \"auto\", "
            "\"none\", \"always\"");
}

static void
test_ranges_and_paths (void **state)
{
  load_err (
      "[hypervisor.qemu]\ndefault_vcpus = 0\n",
      "t.toml:2:17: hypervisor.qemu.default_vcpus: 0 is out of range, expected an integer from 1 to 1024");
  load_err ("[hypervisor.qemu]\ndefault_memory = 9999999999\n",
            "t.toml:2:18: hypervisor.qemu.default_memory: 9999999999 is out of range, expected an integer "
            "from 16 to 4194304");
  load_err ("[hypervisor.qemu]\nmsize_9p = 1024\n",
            "t.toml:2:12: hypervisor.qemu.msize_9p: 1024 is out of range, expected an integer from 4096 to "
            "1048576");
  load_err (
      "[hypervisor.qemu]\nboot_timeout = 0\n",
      "t.toml:2:16: hypervisor.qemu.boot_timeout: 0 is out of range, expected an integer from 1 to 3600");
  load_err ("[runtime]\nhost_cgroup_overhead_mb = -1\n",
            "t.toml:2:27: runtime.host_cgroup_overhead_mb: -1 is out of range, expected an integer from 0 to "
            "1048576");
  load_err ("[factory]\nvm_cache_number = -1\n",
            "t.toml:2:19: factory.vm_cache_number: -1 is out of range, expected an integer from 0 to 1024");
  load_err ("[hypervisor.qemu]\nkernel = \"vmlinuz\"\n",
            "t.toml:2:10: hypervisor.qemu.kernel: expected an absolute path, got \"vmlinuz\"");
  load_err ("[hypervisor.qemu]\npath = \"\"\n",
            "t.toml:2:8: hypervisor.qemu.path: expected an absolute path, got \"\"");
  /* control characters do not reach messages */
  load_err ("[runtime]\ninternetworking_model = \"a\\nb\"\n",
            "t.toml:2:25: runtime.internetworking_model: invalid value \"a?b\", expected one of "
            "\"tcfilter\", \"macvtap\", \"none\"");
  kata_config_free (load_ok ("[runtime]\n\"x\\ty\" = 1\n"));
  assert_int_equal (n_warnings, 1);
  assert_string_equal (warnings[0], "t.toml:2:1: unknown key 'runtime.x?y' (ignored)");
  load_err ("[factory]\ntemplate_path = \"run/tpl\"\n",
            "t.toml:2:17: factory.template_path: expected an absolute path, got \"run/tpl\"");
}

/* A temporary directory with files a.toml, b.toml, c.toml, each setting
   default_memory to a different value. */
static char tmpdir[64];

static char *
tmp_file (const char *name, int mem)
{
  char *p = xasprintf ("%s/%s", tmpdir, name);
  FILE *f = fopen (p, "w");
  assert_non_null (f);
  fprintf (f, "[hypervisor.qemu]\ndefault_memory = %d\n", mem);
  fclose (f);
  return p;
}

static int
setup_tmp (void **state)
{
  snprintf (tmpdir, sizeof (tmpdir), "/tmp/test-config-XXXXXX");
  assert_non_null (mkdtemp (tmpdir));
  unsetenv (KATA_CONFIG_ENV);
  return 0;
}

static int
teardown_tmp (void **state)
{
  kata_error_t *err = NULL;
  kata_rm_rf (tmpdir, &err);
  kata_error_free (err);
  return teardown (state);
}

static void
test_find_order (void **state)
{
  cleanup_free char *a = tmp_file ("a.toml", 100);
  cleanup_free char *b = tmp_file ("b.toml", 200);
  cleanup_free char *c = tmp_file ("c.toml", 300);
  cleanup_free char *missing = xasprintf ("%s/missing.toml", tmpdir);
  cleanup_free char *notdir = xasprintf ("%s/x", a);
  const char *defaults[] = { missing, notdir, b, c, NULL };
  const char *none[] = { missing, NULL };
  char *found = NULL;
  kata_error_t *err = NULL;

  /* the first default that exists */
  assert_int_equal (kata_config_find (NULL, defaults, &found, &err), 0);
  assert_string_equal (found, b);
  free (found);
  assert_int_equal (kata_config_find (NULL, defaults + 3, &found, &err), 0);
  assert_string_equal (found, c);
  free (found);
  /* none exists: NULL, no error */
  assert_int_equal (kata_config_find (NULL, none, &found, &err), 0);
  assert_null (found);
  assert_int_equal (kata_config_find (NULL, NULL, &found, &err), 0);
  assert_null (found);
  /* the environment beats the defaults; an empty value is unset */
  setenv (KATA_CONFIG_ENV, "", 1);
  assert_int_equal (kata_config_find (NULL, defaults, &found, &err), 0);
  assert_string_equal (found, b);
  free (found);
  setenv (KATA_CONFIG_ENV, c, 1);
  assert_int_equal (kata_config_find (NULL, defaults, &found, &err), 0);
  assert_string_equal (found, c);
  free (found);
  /* the explicit path beats the environment; "" is no explicit path */
  assert_int_equal (kata_config_find (a, defaults, &found, &err), 0);
  assert_string_equal (found, a);
  free (found);
  assert_int_equal (kata_config_find ("", defaults, &found, &err), 0);
  assert_string_equal (found, c);
  free (found);
  /* a missing explicit or environment file is an error, not a fall-back */
  assert_int_equal (kata_config_find (missing, defaults, &found, &err), -1);
  assert_int_equal (err->status, ENOENT);
  assert_null (found);
  assert_non_null (strstr (err->msg, "--kata-config"));
  kata_error_free (err);
  err = NULL;
  setenv (KATA_CONFIG_ENV, missing, 1);
  assert_int_equal (kata_config_find (NULL, defaults, &found, &err), -1);
  assert_int_equal (err->status, ENOENT);
  assert_non_null (strstr (err->msg, KATA_CONFIG_ENV));
  kata_error_free (err);
}

static void
test_load (void **state)
{
  cleanup_free char *a = tmp_file ("a.toml", 100);
  cleanup_free char *b = tmp_file ("b.toml", 200);
  cleanup_free char *missing = xasprintf ("%s/missing.toml", tmpdir);
  cleanup_free char *bad = xasprintf ("%s/bad.toml", tmpdir);
  cleanup_free char *msg = NULL;
  kata_config_t *c = NULL;
  kata_error_t *err = NULL;
  FILE *f;

  /* explicit > environment */
  setenv (KATA_CONFIG_ENV, b, 1);
  assert_int_equal (kata_config_load (a, &c, record_warning, &err), 0);
  assert_string_equal (c->path, a);
  assert_int_equal (c->hypervisor.default_memory, 100);
  kata_config_free (c);
  assert_int_equal (kata_config_load (NULL, &c, record_warning, &err), 0);
  assert_string_equal (c->path, b);
  assert_int_equal (c->hypervisor.default_memory, 200);
  kata_config_free (c);
  c = NULL;

  assert_int_equal (kata_config_load (missing, &c, record_warning, &err), -1);
  assert_null (c);
  assert_int_equal (err->status, ENOENT);
  kata_error_free (err);
  err = NULL;

  /* errors name the file that was loaded */
  f = fopen (bad, "w");
  assert_non_null (f);
  fputs ("[hypervisor.qemu]\n\nmemory_slots = \"ten\"\nnew_key = 1\n", f);
  fclose (f);
  assert_int_equal (kata_config_load (bad, &c, record_warning, &err), -1);
  msg = xasprintf ("%s:3:16: hypervisor.qemu.memory_slots: expected integer, got string", bad);
  assert_string_equal (err->msg, msg);
  assert_int_equal (err->status, KATA_EBADCONFIG);
  kata_error_free (err);
  err = NULL;
  f = fopen (bad, "w");
  fputs ("[hypervisor.qemu]\nnew_key = 1\n", f);
  fclose (f);
  assert_int_equal (kata_config_load (bad, &c, record_warning, &err), 0);
  free (msg);
  msg = xasprintf ("%s:2:1: unknown key 'hypervisor.qemu.new_key' (ignored)", bad);
  assert_int_equal (n_warnings, 1);
  assert_string_equal (warnings[0], msg);
  kata_config_free (c);

  /* a directory is not a configuration file */
  assert_int_equal (kata_config_load (tmpdir, &c, record_warning, &err), -1);
  assert_int_equal (err->status, EISDIR);
  kata_error_free (err);
}

static void
test_load_system (void **state)
{
  /* Without explicit path or environment, kata_config_load takes the first
     default path that exists, or the built-in defaults when none does. */
  char *found = NULL;
  kata_config_t *c = NULL, *d = kata_config_default ();
  kata_error_t *err = NULL;

  unsetenv (KATA_CONFIG_ENV);
  assert_int_equal (kata_config_find (NULL, kata_config_default_paths (), &found, &err), 0);
  if (kata_config_load (NULL, &c, NULL, &err) < 0)
    {
      /* only a broken system file may fail */
      assert_non_null (found);
      kata_error_free (err);
    }
  else if (found == NULL)
    {
      assert_null (c->path);
      assert_config_equal (c, d);
    }
  else
    assert_string_equal (c->path, found);
  kata_config_free (c);
  kata_config_free (d);
  free (found);
}

static void
test_shipped_configuration (void **state)
{
  const char *path = TEST_TOP_SRCDIR "/src/runtime/configuration.toml.in";
  cleanup_free char *data = NULL;
  size_t len = 0;
  kata_config_t *c = NULL, *d = kata_config_default ();
  kata_error_t *err = NULL;

  if (kata_read_file (path, &data, &len, 0, &err) < 0)
    fail_msg ("%s", err->msg);
  if (kata_config_load_data (data, len, path, &c, record_warning, &err) < 0)
    fail_msg ("%s", err->msg);
  if (n_warnings)
    fail_msg ("warning: %s", warnings[0]);
  assert_string_equal (c->path, path);
  assert_config_equal (c, d);
  kata_config_free (c);
  kata_config_free (d);
}

static void
test_data_files (void **state)
{
  kata_config_t *c = NULL;
  kata_error_t *err = NULL;

  /* a file in upstream Kata 1.x style: other hypervisors and sections warn */
  assert_int_equal (kata_config_load (TEST_DATA_DIR "/toml/kata-1x.toml", &c, record_warning, &err), 0);
  assert_string_equal (c->hypervisor.path, "/usr/bin/qemu-lite-system-x86_64");
  assert_int_equal (c->hypervisor.default_memory, 2048);
  assert_string_equal (c->hypervisor.block_device_driver, "virtio-scsi");
  assert_int_equal (c->agent.kernel_modules_len, 0);
  assert_string_equal (c->runtime.internetworking_model, "tcfilter");
  /* Kata 1.x refuses image and initrd together, as this runtime does (test_image_or_initrd) */
  assert_int_equal (n_warnings, 5);
  assert_string_equal (warnings[0], TEST_DATA_DIR "/toml/kata-1x.toml:22:1: unknown key "
                                                  "'hypervisor.qemu.valid_hypervisor_paths' (ignored)");
  kata_config_free (c);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown (test_default, teardown),
    cmocka_unit_test_teardown (test_default_paths, teardown),
    cmocka_unit_test_teardown (test_every_key, teardown),
    cmocka_unit_test_teardown (test_partial_keeps_defaults, teardown),
    cmocka_unit_test_teardown (test_tb_size_forms, teardown),
    cmocka_unit_test_teardown (test_unknown_warns, teardown),
    cmocka_unit_test_teardown (test_wrong_type, teardown),
    cmocka_unit_test_teardown (test_enums, teardown),
    cmocka_unit_test_teardown (test_ranges_and_paths, teardown),
    cmocka_unit_test_setup_teardown (test_find_order, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown (test_load, setup_tmp, teardown_tmp),
    cmocka_unit_test_teardown (test_load_system, teardown),
    cmocka_unit_test_teardown (test_image_or_initrd, teardown),
    cmocka_unit_test_teardown (test_shipped_configuration, teardown),
    cmocka_unit_test_teardown (test_data_files, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
