/* kata-runtime kata-env [--json]: the configuration in use, resolved values,
   versions and host facts (TOML by default, as Kata 1.x printed it). */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "cmd/kata-runtime/common.h"
#include "common/json.h"
#include "common/utils.h"
#include "runtime/hypervisor.h"

static const struct argp_option options[] = {
  { "json", 'j', NULL, 0, "Format output as JSON", 0 },
  { 0 },
};

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  bool *json = state->input;
  if (key == 'j')
    {
      *json = true;
      return 0;
    }
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp
    = { options, parse_opt, NULL, "display settings. Default to TOML", kata_cmd_common_children, NULL, NULL };

/* One emitter for both formats: a JSON object tree, or TOML tables (sub-tables
   must come after a table's keys). */
struct out
{
  yajl_gen g; /* NULL: TOML */
  char path[256];
};

static void
sect_open (struct out *o, const char *name)
{
  if (o->g)
    {
      kata_gen_str (o->g, name);
      yajl_gen_map_open (o->g);
      return;
    }
  if (o->path[0])
    strncat (o->path, ".", sizeof o->path - strlen (o->path) - 1);
  strncat (o->path, name, sizeof o->path - strlen (o->path) - 1);
  printf ("\n[%s]\n", o->path);
}

static void
sect_close (struct out *o)
{
  char *dot;
  if (o->g)
    {
      yajl_gen_map_close (o->g);
      return;
    }
  dot = strrchr (o->path, '.');
  if (dot)
    *dot = '\0';
  else
    o->path[0] = '\0';
}

static void
toml_str (const char *s)
{
  putchar ('"');
  for (; s && *s; s++)
    {
      if (*s == '"' || *s == '\\')
        printf ("\\%c", *s);
      else if ((unsigned char)*s < 0x20)
        printf ("\\u%04x", (unsigned char)*s);
      else
        putchar (*s);
    }
  putchar ('"');
}

static void
kv_str (struct out *o, const char *k, const char *v)
{
  if (o->g)
    {
      kata_gen_kv_str (o->g, k, v ? v : "");
      return;
    }
  printf ("  %s = ", k);
  toml_str (v ? v : "");
  putchar ('\n');
}

static void
kv_bool (struct out *o, const char *k, bool v)
{
  if (o->g)
    kata_gen_kv_bool (o->g, k, v);
  else
    printf ("  %s = %s\n", k, v ? "true" : "false");
}

static void
kv_int (struct out *o, const char *k, long long v)
{
  if (o->g)
    kata_gen_kv_int (o->g, k, v);
  else
    printf ("  %s = %lld\n", k, v);
}

static void
kv_strv (struct out *o, const char *k, char **v, size_t n)
{
  size_t i;
  if (o->g)
    {
      kata_gen_str (o->g, k);
      yajl_gen_array_open (o->g);
      for (i = 0; i < n; i++)
        kata_gen_str (o->g, v[i]);
      yajl_gen_array_close (o->g);
      return;
    }
  printf ("  %s = [", k);
  for (i = 0; i < n; i++)
    {
      if (i)
        printf (", ");
      toml_str (v[i]);
    }
  printf ("]\n");
}

/* "key : value" from /proc/cpuinfo, first match, malloc'd. */
static char *
cpuinfo (const char *key)
{
  cleanup_free char *data = NULL;
  char *p, *nl;
  size_t kl = strlen (key);

  if (kata_read_file ("/proc/cpuinfo", &data, NULL, 0, NULL) < 0)
    return xstrdup ("");
  for (p = data; p && *p; p = nl ? nl + 1 : NULL)
    {
      nl = strchr (p, '\n');
      if (strncmp (p, key, kl) == 0 && (p[kl] == '\t' || p[kl] == ' ' || p[kl] == ':'))
        {
          char *c = strchr (p, ':');
          if (c == NULL || (nl && c > nl))
            continue;
          c++;
          while (*c == ' ')
            c++;
          return nl ? xstrndup (c, nl - c) : xstrdup (c);
        }
    }
  return xstrdup ("");
}

static long long
meminfo_kb (const char *key)
{
  cleanup_free char *data = NULL;
  char *p;
  if (kata_read_file ("/proc/meminfo", &data, NULL, 0, NULL) < 0)
    return 0;
  p = strstr (data, key);
  if (p == NULL)
    return 0;
  p = strchr (p, ':');
  return p ? strtoll (p + 1, NULL, 10) : 0;
}

static bool
exists (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0;
}

int
cmd_kata_env (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  const kata_config_t *cfg;
  struct out o = { 0 };
  cleanup_free char *qver = NULL, *reason = NULL, *exe = NULL, *vendor = NULL, *model = NULL;
  kata_error_t *e = NULL;
  const char *accel = NULL;
  struct utsname u;
  bool json = false, capable;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, &json, err) < 0)
    return -1;
  if (kata_cmd_check_args ("kata-env", argc - first, 0, err) < 0)
    return -1;
  if (kata_context_load_config (ctx, err) < 0)
    return -1;
  cfg = ctx->cfg;

  if (kata_cmd_qemu_version (cfg->hypervisor.path, &qver, &e) < 0)
    {
      qver = xasprintf ("unknown: %s", e->msg);
      kata_error_free (e);
      e = NULL;
    }
  if (kata_hypervisor_choose_accel (cfg->hypervisor.accel, &accel, &reason, &e) < 0)
    {
      free (reason);
      reason = xstrdup (e->msg);
      accel = "";
      kata_error_free (e);
      e = NULL;
    }
  exe = realpath ("/proc/self/exe", NULL);
  vendor = cpuinfo ("vendor_id");
  model = cpuinfo ("model name");
  if (uname (&u) < 0)
    memset (&u, 0, sizeof u);
  capable = accel && *accel && access (cfg->hypervisor.path, X_OK) == 0;

  if (json)
    {
      o.g = kata_gen_new ();
      yajl_gen_config (o.g, yajl_gen_beautify, 1);
      yajl_gen_config (o.g, yajl_gen_indent_string, "  ");
      yajl_gen_map_open (o.g);
    }

  sect_open (&o, "Meta");
  kv_str (&o, "Version", "1.0.25");
  sect_close (&o);

  sect_open (&o, "Runtime");
  kv_str (&o, "Path", exe ? exe : "");
  kv_str (&o, "Root", ctx->root);
  kv_bool (&o, "Debug", cfg->runtime.enable_debug || ctx->debug);
  kv_bool (&o, "DisableNewNetNs", cfg->runtime.disable_new_netns);
  kv_bool (&o, "SandboxCgroupOnly", cfg->runtime.sandbox_cgroup_only);
  kv_str (&o, "InterNetworkModel", cfg->runtime.internetworking_model);
  kv_int (&o, "HostCgroupOverheadMB", cfg->runtime.host_cgroup_overhead_mb);
  sect_open (&o, "Version");
  kv_str (&o, "Semver", PACKAGE_VERSION);
  kv_str (&o, "Commit", GIT_COMMIT);
  kv_str (&o, "OCI", "1.2.0");
  sect_close (&o);
  sect_open (&o, "Config");
  kv_str (&o, "Path", cfg->path ? cfg->path : "");
  kv_bool (&o, "Default", cfg->path == NULL);
  sect_close (&o);
  sect_close (&o);

  sect_open (&o, "Hypervisor");
  kv_str (&o, "Path", cfg->hypervisor.path);
  kv_str (&o, "Version", qver);
  kv_str (&o, "MachineType", cfg->hypervisor.machine_type);
  kv_str (&o, "Accel", cfg->hypervisor.accel);
  kv_str (&o, "AccelChosen", accel);
  kv_str (&o, "AccelReason", reason ? reason : "");
  kv_str (&o, "TbSize", cfg->hypervisor.tb_size);
  kv_str (&o, "MemoryBackend", cfg->hypervisor.memory_backend);
  kv_bool (&o, "DisableTransparentHugepages", cfg->hypervisor.disable_transparent_hugepages);
  kv_str (&o, "Firmware", kata_qemu_firmware (cfg) ? kata_qemu_firmware (cfg) : "");
  kv_int (&o, "DefaultVCPUs", cfg->hypervisor.default_vcpus);
  kv_int (&o, "DefaultMaxVCPUs", cfg->hypervisor.default_maxvcpus);
  kv_int (&o, "DefaultMemory", cfg->hypervisor.default_memory);
  kv_int (&o, "MemorySlots", cfg->hypervisor.memory_slots);
  kv_str (&o, "SharedFS", cfg->hypervisor.shared_fs);
  kv_str (&o, "VirtioFSDaemon", cfg->hypervisor.virtio_fs_daemon);
  kv_str (&o, "VirtioFSCache", cfg->hypervisor.virtio_fs_cache);
  kv_int (&o, "Msize9p", cfg->hypervisor.msize_9p);
  kv_str (&o, "Cache9p", cfg->hypervisor.cache_9p);
  kv_str (&o, "BlockDeviceDriver", cfg->hypervisor.block_device_driver);
  kv_bool (&o, "DisableBlockDeviceUse", cfg->hypervisor.disable_block_device_use);
  kv_int (&o, "BootTimeout", cfg->hypervisor.boot_timeout);
  kv_bool (&o, "Debug", cfg->hypervisor.enable_debug);
  sect_close (&o);

  sect_open (&o, "Kernel");
  kv_str (&o, "Path", cfg->hypervisor.kernel);
  kv_str (&o, "Parameters", cfg->hypervisor.kernel_params);
  kv_bool (&o, "Readable", access (cfg->hypervisor.kernel, R_OK) == 0);
  sect_close (&o);

  sect_open (&o, "Guest");
  /* docs/guest.md: "initrd" (the agent is init) or "image" (systemd is init) */
  kv_str (&o, "Flavour", *cfg->hypervisor.image ? "image" : "initrd");
  sect_close (&o);

  sect_open (&o, "Initrd");
  kv_str (&o, "Path", cfg->hypervisor.initrd);
  kv_bool (&o, "Readable", *cfg->hypervisor.initrd && access (cfg->hypervisor.initrd, R_OK) == 0);
  sect_close (&o);

  sect_open (&o, "Image");
  kv_str (&o, "Path", cfg->hypervisor.image);
  kv_bool (&o, "Readable", *cfg->hypervisor.image && access (cfg->hypervisor.image, R_OK) == 0);
  {
    unsigned id = 0;
    kata_error_t *ie = NULL;
    bool ok = *cfg->hypervisor.image && kata_guest_image_probe (cfg->hypervisor.image, &id, &ie) == 0;
    kata_error_free (ie);
    kv_bool (&o, "PartitionTable", ok);
    kv_bool (&o, "NVDIMM", !cfg->hypervisor.disable_image_nvdimm);
  }
  sect_close (&o);

  sect_open (&o, "Agent");
  kv_bool (&o, "Debug", cfg->agent.debug);
  kv_strv (&o, "KernelModules", cfg->agent.kernel_modules, cfg->agent.kernel_modules_len);
  sect_close (&o);

  sect_open (&o, "Factory");
  kv_bool (&o, "VMCacheEnabled", cfg->factory.vm_cache_number > 0);
  kv_bool (&o, "TemplateEnabled", cfg->factory.enable_template);
  kv_str (&o, "TemplatePath", cfg->factory.template_path);
  kv_int (&o, "VMCacheNumber", cfg->factory.vm_cache_number);
  kv_str (&o, "VMCacheEndpoint", cfg->factory.vm_cache_endpoint);
  sect_close (&o);

  sect_open (&o, "Host");
  kv_str (&o, "Kernel", u.release);
  kv_str (&o, "Architecture", u.machine);
  kv_bool (&o, "VMContainerCapable", capable);
  kv_bool (&o, "SupportVSocks", exists ("/dev/vhost-vsock"));
  kv_bool (&o, "Root", geteuid () == 0);
  sect_open (&o, "KVM");
  kv_bool (&o, "DevKVM", exists ("/dev/kvm"));
  kv_bool (&o, "KvmPvm", exists ("/sys/module/kvm_pvm"));
  sect_close (&o);
  sect_open (&o, "CPU");
  kv_str (&o, "Vendor", vendor);
  kv_str (&o, "Model", model);
  kv_int (&o, "CPUs", sysconf (_SC_NPROCESSORS_ONLN));
  sect_close (&o);
  sect_open (&o, "Memory");
  kv_int (&o, "Total", meminfo_kb ("MemTotal"));
  kv_int (&o, "Free", meminfo_kb ("MemFree"));
  kv_int (&o, "Available", meminfo_kb ("MemAvailable"));
  sect_close (&o);
  sect_close (&o);

  if (o.g)
    {
      cleanup_free char *text = NULL;
      yajl_gen_map_close (o.g);
      text = kata_gen_finish (o.g, NULL);
      return kata_cmd_print (text, err);
    }
  if (fflush (stdout) != 0)
    return kata_make_error (err, errno, "write to stdout");
  return 0;
}
