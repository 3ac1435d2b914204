/* configuration.toml: search, load, validate. */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/error.h"
#include "common/utils.h"
#include "runtime/config.h"
#include "runtime/toml.h"

#ifndef KATA_DATADIR
#define KATA_DATADIR "/usr/share"
#endif

typedef enum
{
  K_STR,  /* any string */
  K_PATH, /* an absolute path */
  K_ENUM, /* one of choices */
  K_INT,  /* integer in [min, max] */
  K_BOOL,
  K_STRLIST, /* array of non-empty strings */
  K_TBSIZE,  /* integer (or string of digits) in [min, max], kept as a decimal string */
} ktype_t;

typedef struct
{
  const char *name;
  ktype_t type;
  size_t off;
  long long min, max;
  const char *const *choices;
} key_desc_t;

typedef struct
{
  const char *name; /* dotted path of the table */
  const key_desc_t *keys;
} section_desc_t;

static const char *const machine_types[] = { "q35", "microvm", NULL };
static const char *const accels[] = { "auto", "kvm", "tcg", NULL };
static const char *const shared_fss[] = { "virtio-9p", "virtio-fs", NULL };
static const char *const mem_backends[] = { "memfd", "ram", NULL };
static const char *const fs_caches[] = { "auto", "none", "always", NULL };
static const char *const caches_9p[] = { "none", "mmap", "loose", NULL };
static const char *const block_drivers[] = { "virtio-blk", "virtio-scsi", NULL };
static const char *const net_models[] = { "tcfilter", "macvtap", "none", NULL };

#define OFF(f) offsetof (kata_config_t, f)
#define STR(n, f)                                                                                            \
  {                                                                                                          \
    n, K_STR, OFF (f), 0, 0, NULL                                                                            \
  }
#define PATH(n, f)                                                                                           \
  {                                                                                                          \
    n, K_PATH, OFF (f), 0, 0, NULL                                                                           \
  }
#define ENUM(n, f, c)                                                                                        \
  {                                                                                                          \
    n, K_ENUM, OFF (f), 0, 0, c                                                                              \
  }
#define INT(n, f, lo, hi)                                                                                    \
  {                                                                                                          \
    n, K_INT, OFF (f), lo, hi, NULL                                                                          \
  }
#define BOOL(n, f)                                                                                           \
  {                                                                                                          \
    n, K_BOOL, OFF (f), 0, 0, NULL                                                                           \
  }

static const key_desc_t qemu_keys[] = {
  PATH ("path", hypervisor.path),
  PATH ("kernel", hypervisor.kernel),
  PATH ("initrd", hypervisor.initrd),
  PATH ("image", hypervisor.image),
  BOOL ("disable_image_nvdimm", hypervisor.disable_image_nvdimm),
  ENUM ("machine_type", hypervisor.machine_type, machine_types),
  ENUM ("accel", hypervisor.accel, accels),
  STR ("kernel_params", hypervisor.kernel_params),
  STR ("firmware", hypervisor.firmware),
  INT ("default_vcpus", hypervisor.default_vcpus, 1, 1024),
  INT ("default_maxvcpus", hypervisor.default_maxvcpus, 0, 1024),
  INT ("default_memory", hypervisor.default_memory, 16, 4 * 1024 * 1024),
  INT ("memory_slots", hypervisor.memory_slots, 0, 1024),
  ENUM ("shared_fs", hypervisor.shared_fs, shared_fss),
  ENUM ("memory_backend", hypervisor.memory_backend, mem_backends),
  PATH ("virtio_fs_daemon", hypervisor.virtio_fs_daemon),
  ENUM ("virtio_fs_cache", hypervisor.virtio_fs_cache, fs_caches),
  INT ("msize_9p", hypervisor.msize_9p, 4096, 1048576),
  ENUM ("cache_9p", hypervisor.cache_9p, caches_9p),
  ENUM ("block_device_driver", hypervisor.block_device_driver, block_drivers),
  BOOL ("disable_block_device_use", hypervisor.disable_block_device_use),
  BOOL ("enable_debug", hypervisor.enable_debug),
  INT ("boot_timeout", hypervisor.boot_timeout, 1, 3600),
  { "tb_size", K_TBSIZE, OFF (hypervisor.tb_size), 0, 1024 * 1024, NULL },
  STR ("seccompsandbox", hypervisor.seccompsandbox),
  BOOL ("disable_transparent_hugepages", hypervisor.disable_transparent_hugepages),
  { NULL, 0, 0, 0, 0, NULL },
};

/* K_STRLIST keeps the count right after the array. */
_Static_assert(offsetof (kata_config_t, agent.kernel_modules_len)
                   == offsetof (kata_config_t, agent.kernel_modules) + sizeof (char **),
               "kernel_modules_len must follow kernel_modules");

static const key_desc_t agent_keys[] = {
  BOOL ("debug", agent.debug),
  { "kernel_modules", K_STRLIST, OFF (agent.kernel_modules), 0, 0, NULL },
  { NULL, 0, 0, 0, 0, NULL },
};

static const key_desc_t runtime_keys[] = {
  ENUM ("internetworking_model", runtime.internetworking_model, net_models),
  BOOL ("disable_new_netns", runtime.disable_new_netns),
  BOOL ("sandbox_cgroup_only", runtime.sandbox_cgroup_only),
  BOOL ("enable_debug", runtime.enable_debug),
  INT ("host_cgroup_overhead_mb", runtime.host_cgroup_overhead_mb, 0, 1024 * 1024),
  BOOL ("privileged_without_host_devices", runtime.privileged_without_host_devices),
  BOOL ("disable_guest_empty_dir", runtime.disable_guest_empty_dir),
  { NULL, 0, 0, 0, 0, NULL },
};

static const key_desc_t factory_keys[] = {
  BOOL ("enable_template", factory.enable_template),
  PATH ("template_path", factory.template_path),
  INT ("vm_cache_number", factory.vm_cache_number, 0, 1024),
  PATH ("vm_cache_endpoint", factory.vm_cache_endpoint),
  { NULL, 0, 0, 0, 0, NULL },
};

static const section_desc_t sections[] = {
  { "hypervisor.qemu", qemu_keys },
  { "agent.kata", agent_keys },
  { "runtime", runtime_keys },
  { "factory", factory_keys },
  { NULL, NULL },
};

kata_config_t *
kata_config_default (void)
{
  kata_config_t *c = xmalloc0 (sizeof (*c));

  c->path = NULL;
  c->hypervisor.path = xstrdup ("/usr/bin/qemu-system-x86_64");
  c->hypervisor.kernel = xstrdup ("/usr/share/kata-containers/vmlinuz.container");
  c->hypervisor.initrd = xstrdup ("/usr/share/kata-containers/kata-containers-initrd.img");
  c->hypervisor.image = xstrdup ("");
  /* the guest kernel (tools/osbuilder/kernel.fragment) has no LIBNVDIMM: docs/guest.md */
  c->hypervisor.disable_image_nvdimm = true;
  c->hypervisor.machine_type = xstrdup ("q35");
  c->hypervisor.accel = xstrdup ("auto");
  c->hypervisor.kernel_params = xstrdup ("");
  c->hypervisor.default_vcpus = 1;
  c->hypervisor.default_maxvcpus = 0;
  c->hypervisor.default_memory = 256;
  c->hypervisor.memory_slots = 10;
  c->hypervisor.shared_fs = xstrdup ("virtio-9p");
  c->hypervisor.virtio_fs_daemon = xstrdup ("/usr/lib/qemu/virtiofsd");
  c->hypervisor.virtio_fs_cache = xstrdup ("auto");
  c->hypervisor.cache_9p = xstrdup ("none");
  c->hypervisor.msize_9p = 524288; /* docs/storage.md "9p msize" */
  c->hypervisor.block_device_driver = xstrdup ("virtio-blk");
  c->hypervisor.disable_block_device_use = false;
  c->hypervisor.enable_debug = false;
  c->hypervisor.boot_timeout = 60;
  /* 32, not the 16 the memory sweep chose: QEMU 7.2 aborts a vCPU hot-plug when the cache's
     regions are used up (docs/benchmarks.md, issue 17, the tb_size sweep) */
  c->hypervisor.tb_size = xstrdup ("32");
  c->hypervisor.firmware = xstrdup ("");
  c->hypervisor.memory_backend = xstrdup ("memfd");
  c->hypervisor.seccompsandbox = xstrdup (KATA_QEMU_SANDBOX_DEFAULT);
  c->hypervisor.disable_transparent_hugepages = false;
  c->agent.debug = false;
  c->agent.kernel_modules = xmalloc0 (sizeof (char *));
  c->agent.kernel_modules_len = 0;
  c->runtime.internetworking_model = xstrdup ("tcfilter");
  c->runtime.disable_new_netns = false;
  c->runtime.sandbox_cgroup_only = false;
  c->runtime.enable_debug = false;
  c->runtime.host_cgroup_overhead_mb = 64;
  c->runtime.privileged_without_host_devices = true;
  c->runtime.disable_guest_empty_dir = true;
  c->factory.enable_template = false;
  c->factory.template_path = xstrdup ("/run/vc/vm/template");
  c->factory.vm_cache_number = 0;
  c->factory.vm_cache_endpoint = xstrdup ("/var/run/kata-containers/cache.sock");
  return c;
}

void
kata_config_free (kata_config_t *c)
{
  if (c == NULL)
    return;
  free (c->path);
  free (c->hypervisor.path);
  free (c->hypervisor.kernel);
  free (c->hypervisor.initrd);
  free (c->hypervisor.image);
  free (c->hypervisor.machine_type);
  free (c->hypervisor.accel);
  free (c->hypervisor.kernel_params);
  free (c->hypervisor.shared_fs);
  free (c->hypervisor.virtio_fs_daemon);
  free (c->hypervisor.virtio_fs_cache);
  free (c->hypervisor.cache_9p);
  free (c->hypervisor.block_device_driver);
  free (c->hypervisor.tb_size);
  free (c->hypervisor.firmware);
  free (c->hypervisor.memory_backend);
  free (c->hypervisor.seccompsandbox);
  kata_strv_free (c->agent.kernel_modules);
  free (c->runtime.internetworking_model);
  free (c->factory.template_path);
  free (c->factory.vm_cache_endpoint);
  free (c);
}

typedef struct
{
  const char *file;
  void (*warn) (const char *msg);
  kata_error_t **err;
} ctx_t;

/* Values and keys may hold control characters: keep messages on one line. */
static void
sanitize (char *s)
{
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7F)
      *s = '?';
}

static int __attribute__ ((format (printf, 3, 4)))
cfg_error (ctx_t *x, const toml_value_t *at, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  sanitize (msg);
  return kata_make_error_nostr (x->err, KATA_EBADCONFIG, "%s:%d:%d: %s", x->file, at->line, at->col,
                                msg ? msg : "out of memory");
}

static int
type_error (ctx_t *x, const char *sec, const char *key, const toml_value_t *v, const char *expected)
{
  return cfg_error (x, v, "%s.%s: expected %s, got %s", sec, key, expected, kata_toml_kind_name (v->kind));
}

static char *
choices_str (const char *const *ch)
{
  size_t i, n = 0;
  char *s;

  for (i = 0; ch[i]; i++)
    n += strlen (ch[i]) + 4;
  s = xmalloc0 (n + 1);
  for (i = 0; ch[i]; i++)
    {
      if (i)
        strcat (s, ", ");
      strcat (s, "\"");
      strcat (s, ch[i]);
      strcat (s, "\"");
    }
  return s;
}

static void
set_str (kata_config_t *c, size_t off, const char *s)
{
  char **f = (char **)((char *)c + off);
  free (*f);
  *f = xstrdup (s);
}

static int
apply_key (ctx_t *x, kata_config_t *c, const char *sec, const key_desc_t *k, const toml_value_t *v)
{
  switch (k->type)
    {
    case K_STR:
      if (v->kind != TOML_STRING)
        return type_error (x, sec, k->name, v, "string");
      set_str (c, k->off, v->u.str.s);
      return 0;

    case K_PATH:
      if (v->kind != TOML_STRING)
        return type_error (x, sec, k->name, v, "string");
      if (v->u.str.s[0] != '/')
        return cfg_error (x, v, "%s.%s: expected an absolute path, got \"%.100s\"", sec, k->name, v->u.str.s);
      set_str (c, k->off, v->u.str.s);
      return 0;

    case K_ENUM:
      {
        size_t i;
        cleanup_free char *all = NULL;
        if (v->kind != TOML_STRING)
          return type_error (x, sec, k->name, v, "string");
        for (i = 0; k->choices[i]; i++)
          if (strcmp (k->choices[i], v->u.str.s) == 0)
            {
              set_str (c, k->off, v->u.str.s);
              return 0;
            }
        all = choices_str (k->choices);
        return cfg_error (x, v, "%s.%s: invalid value \"%.100s\", expected one of %s", sec, k->name,
                          v->u.str.s, all);
      }

    case K_INT:
      if (v->kind != TOML_INT)
        return type_error (x, sec, k->name, v, "integer");
      if (v->u.i < k->min || v->u.i > k->max)
        return cfg_error (x, v, "%s.%s: %lld is out of range, expected an integer from %lld to %lld", sec,
                          k->name, (long long)v->u.i, k->min, k->max);
      *(int *)((char *)c + k->off) = (int)v->u.i;
      return 0;

    case K_TBSIZE:
      {
        long long n;
        if (v->kind == TOML_INT)
          n = v->u.i;
        else if (v->kind == TOML_STRING && v->u.str.len > 0 && v->u.str.len <= 9
                 && strspn (v->u.str.s, "0123456789") == v->u.str.len)
          n = strtoll (v->u.str.s, NULL, 10);
        else
          return type_error (x, sec, k->name, v, "integer");
        if (n < k->min || n > k->max)
          return cfg_error (x, v, "%s.%s: %lld is out of range, expected an integer from %lld to %lld", sec,
                            k->name, n, k->min, k->max);
        char **f = (char **)((char *)c + k->off);
        free (*f);
        *f = xasprintf ("%lld", n);
        return 0;
      }

    case K_BOOL:
      if (v->kind != TOML_BOOL)
        return type_error (x, sec, k->name, v, "boolean");
      *(bool *)((char *)c + k->off) = v->u.b;
      return 0;

    case K_STRLIST:
      {
        size_t i;
        char ***f = (char ***)((char *)c + k->off);
        size_t *flen = (size_t *)((char *)c + k->off + sizeof (char **));
        char **l;
        if (v->kind != TOML_ARRAY)
          return type_error (x, sec, k->name, v, "array of strings");
        for (i = 0; i < v->u.arr.len; i++)
          {
            const toml_value_t *it = v->u.arr.items[i];
            if (it->kind != TOML_STRING)
              return cfg_error (x, it, "%s.%s[%zu]: expected string, got %s", sec, k->name, i,
                                kata_toml_kind_name (it->kind));
            if (it->u.str.len == 0)
              return cfg_error (x, it, "%s.%s[%zu]: expected a non-empty string", sec, k->name, i);
          }
        l = xmalloc0 ((v->u.arr.len + 1) * sizeof (char *));
        for (i = 0; i < v->u.arr.len; i++)
          l[i] = xstrdup (v->u.arr.items[i]->u.str.s);
        kata_strv_free (*f);
        *f = l;
        *flen = v->u.arr.len;
        return 0;
      }
    }
  return cfg_error (x, v, "%s.%s: internal error", sec, k->name);
}

static void __attribute__ ((format (printf, 4, 5)))
cfg_warn (ctx_t *x, int line, int col, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  cleanup_free char *full = NULL;
  va_list ap;

  if (x->warn == NULL)
    return;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  sanitize (msg);
  full = xasprintf ("%s:%d:%d: %s", x->file, line, col, msg ? msg : "out of memory");
  x->warn (full);
}

static const section_desc_t *
find_section (const char *name)
{
  size_t i;
  for (i = 0; sections[i].name; i++)
    if (strcmp (sections[i].name, name) == 0)
      return &sections[i];
  return NULL;
}

/* Whether NAME is a strict prefix table of a known section ("hypervisor"). */
static bool
is_section_parent (const char *name)
{
  size_t i, n = strlen (name);
  for (i = 0; sections[i].name; i++)
    if (strncmp (sections[i].name, name, n) == 0 && sections[i].name[n] == '.')
      return true;
  return false;
}

static int
apply_section (ctx_t *x, kata_config_t *c, const section_desc_t *sec, const toml_value_t *t)
{
  size_t i, j;

  for (i = 0; i < t->u.tab.len; i++)
    {
      const toml_entry_t *e = &t->u.tab.entries[i];
      const key_desc_t *k = NULL;
      for (j = 0; sec->keys[j].name; j++)
        if (strcmp (sec->keys[j].name, e->key) == 0)
          k = &sec->keys[j];
      if (k == NULL)
        {
          cfg_warn (x, e->line, e->col, "unknown %s '%s.%s' (ignored)",
                    e->value->kind == TOML_TABLE ? "table" : "key", sec->name, e->key);
          continue;
        }
      if (apply_key (x, c, sec->name, k, e->value) < 0)
        return -1;
    }
  return 0;
}

static int
walk (ctx_t *x, kata_config_t *c, const char *prefix, const toml_value_t *t)
{
  size_t i;

  for (i = 0; i < t->u.tab.len; i++)
    {
      const toml_entry_t *e = &t->u.tab.entries[i];
      cleanup_free char *name = prefix ? xasprintf ("%s.%s", prefix, e->key) : xstrdup (e->key);
      const section_desc_t *sec = find_section (name);
      bool parent = sec == NULL && is_section_parent (name);

      if (sec == NULL && !parent)
        {
          cfg_warn (x, e->line, e->col, "unknown %s '%s' (ignored)",
                    e->value->kind == TOML_TABLE ? "table" : "key", name);
          continue;
        }
      if (e->value->kind != TOML_TABLE)
        return cfg_error (x, e->value, "%s: expected table, got %s", name,
                          kata_toml_kind_name (e->value->kind));
      if (sec ? apply_section (x, c, sec, e->value) < 0 : walk (x, c, name, e->value) < 0)
        return -1;
    }
  return 0;
}

/* The guest is an initrd (the agent is init) or a disk image (systemd is init), as in
   Kata: both in the file is an error; `image` alone replaces the default initrd. */
static int
guest_kind (ctx_t *x, kata_config_t *c, const toml_value_t *root)
{
  const toml_value_t *q = kata_toml_get (root, "hypervisor.qemu");
  const toml_value_t *img = q ? kata_toml_get_key (q, "image") : NULL;
  const toml_value_t *ird = q ? kata_toml_get_key (q, "initrd") : NULL;
  if (img == NULL)
    return 0;
  if (ird)
    return cfg_error (x, img,
                      "hypervisor.qemu: `image` and `initrd` are both set: the guest is either a disk "
                      "image (systemd as init) or an initrd (the agent as init), set only one of them");
  set_str (c, offsetof (kata_config_t, hypervisor.initrd), "");
  return 0;
}

int
kata_config_load_data (const char *data, size_t len, const char *filename, kata_config_t **out,
                       void (*warn) (const char *msg), kata_error_t **err)
{
  cleanup_toml toml_value_t *root = NULL;
  kata_config_t *c;
  ctx_t x = { .file = filename ? filename : "<input>", .warn = warn, .err = err };

  if (kata_toml_parse (data, len, x.file, &root, err) < 0)
    return -1;
  c = kata_config_default ();
  if (walk (&x, c, NULL, root) < 0 || guest_kind (&x, c, root) < 0)
    {
      kata_config_free (c);
      return -1;
    }
  c->path = filename ? xstrdup (filename) : NULL;
  *out = c;
  return 0;
}

const char **
kata_config_default_paths (void)
{
  static const char *paths[4];

  if (paths[0] == NULL)
    {
      size_t n = 0;
      const char *datadir = KATA_DATADIR "/defaults/kata-containers/configuration.toml";
      const char *usr = "/usr/share/defaults/kata-containers/configuration.toml";
      paths[n++] = "/etc/kata-containers/configuration.toml";
      paths[n++] = datadir;
      if (strcmp (datadir, usr) != 0)
        paths[n++] = usr;
      paths[n] = NULL;
    }
  return paths;
}

int
kata_config_find (const char *explicit_path, const char *const *defaults, char **found, kata_error_t **err)
{
  const char *env = getenv (KATA_CONFIG_ENV);
  const char *pick = NULL, *why = NULL;
  struct stat st;
  size_t i;

  *found = NULL;
  if (explicit_path && explicit_path[0])
    pick = explicit_path, why = "--kata-config";
  else if (env && env[0])
    pick = env, why = KATA_CONFIG_ENV;
  if (pick)
    {
      if (stat (pick, &st) < 0)
        return kata_make_error (err, errno, "configuration file `%s` (from %s)", pick, why);
      *found = xstrdup (pick);
      return 0;
    }
  for (i = 0; defaults && defaults[i]; i++)
    {
      if (stat (defaults[i], &st) == 0)
        {
          *found = xstrdup (defaults[i]);
          return 0;
        }
      if (errno != ENOENT && errno != ENOTDIR)
        return kata_make_error (err, errno, "configuration file `%s`", defaults[i]);
    }
  return 0;
}

int
kata_config_load (const char *explicit_path, kata_config_t **out, void (*warn) (const char *msg),
                  kata_error_t **err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *data = NULL;
  size_t len = 0;

  if (kata_config_find (explicit_path, kata_config_default_paths (), &path, err) < 0)
    return -1;
  if (path == NULL)
    {
      *out = kata_config_default ();
      return 0;
    }
  if (kata_read_file (path, &data, &len, KATA_CONFIG_MAX_SIZE, err) < 0)
    return kata_error_wrap (err, "load configuration");
  return kata_config_load_data (data, len, path, out, warn, err);
}
