/* The VM factory: `kata-runtime factory init|status|destroy` (docs/factory.md).
   Templating itself (boot, save, clone) is in qemu.c; the monitor clones from the
   template when [factory] enable_template is set. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/factory.h"
#include "runtime/hypervisor.h"
#include "runtime/log.h"

/* Appends a printf'd line to *OUT. */
static void __attribute__ ((format (printf, 2, 3)))
out_line (char **out, const char *fmt, ...)
{
  va_list ap;
  char *line = NULL, *n;
  va_start (ap, fmt);
  if (vasprintf (&line, fmt, ap) < 0)
    line = NULL;
  va_end (ap);
  n = xasprintf ("%s%s\n", *out ? *out : "", line ? line : "");
  free (line);
  free (*out);
  *out = n;
}

static char *
human_size (unsigned long long b)
{
  if (b >= 1024ULL * 1024 * 1024)
    return xasprintf ("%.1f GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024ULL * 1024)
    return xasprintf ("%.1f MiB", b / (1024.0 * 1024));
  if (b >= 1024ULL)
    return xasprintf ("%.1f KiB", b / 1024.0);
  return xasprintf ("%llu B", b);
}

static bool
factory_enabled (const kata_config_t *cfg)
{
  return cfg->factory.enable_template || cfg->factory.vm_cache_number > 0;
}

/* ---- the VM cache (vm_cache_number > 0) ---- */

bool kata_vmcache_status (const kata_config_t *cfg, char **out);
int kata_vmcache_start (const kata_config_t *cfg, kata_error_t **err);
int kata_vmcache_stop (const kata_config_t *cfg, kata_error_t **err);

/* ---- init / status / destroy ---- */

int
kata_factory_init (const kata_config_t *cfg, char **out, kata_error_t **err)
{
  *out = NULL;
  if (!factory_enabled (cfg))
    {
      out_line (out, "vm factory not enabled");
      return 0;
    }
  if (cfg->factory.enable_template)
    {
      int v = 0, m = 0;
      if (kata_vm_template_ready (cfg, &v, &m))
        out_line (out, "vm template already exists in %s (%d vCPUs, %d MiB)", cfg->factory.template_path, v, m);
      else
        {
          uint64_t t0 = kata_now_ns ();
          /* Leftovers of a broken template would be taken as a template. */
          kata_vm_template_destroy (cfg, NULL);
          if (kata_vm_template_create (cfg, err) < 0)
            return -1;
          kata_vm_template_ready (cfg, &v, &m);
          out_line (out, "vm template created in %s (%d vCPUs, %d MiB) in %.2f s", cfg->factory.template_path, v,
                    m, (kata_now_ns () - t0) / 1e9);
        }
    }
  if (cfg->factory.vm_cache_number > 0)
    {
      if (kata_vmcache_start (cfg, err) < 0)
        return -1;
      out_line (out, "vm cache started: %d VMs at %s", cfg->factory.vm_cache_number,
                cfg->factory.vm_cache_endpoint);
    }
  out_line (out, "vm factory initialized");
  return 0;
}

static void
template_status (const kata_config_t *cfg, char **out, bool *on)
{
  int v = 0, m = 0;
  struct stat mst, sst;
  cleanup_free char *mem = xasprintf ("%s/memory", cfg->factory.template_path);
  cleanup_free char *state = xasprintf ("%s/state", cfg->factory.template_path);

  if (!kata_vm_template_ready (cfg, &v, &m))
    {
      out_line (out, "template: none in %s%s", cfg->factory.template_path,
                cfg->factory.enable_template ? " (sandboxes boot cold)" : "");
      return;
    }
  *on = true;
  if (stat (mem, &mst) < 0)
    memset (&mst, 0, sizeof mst);
  if (stat (state, &sst) < 0)
    memset (&sst, 0, sizeof sst);
  cleanup_free char *msize = human_size ((unsigned long long)mst.st_size);
  cleanup_free char *mused = human_size ((unsigned long long)mst.st_blocks * 512ULL);
  cleanup_free char *ssize = human_size ((unsigned long long)sst.st_size);
  out_line (out, "template: %s: %d vCPUs, %d MiB; memory file %s (%s in use), device state %s%s",
            cfg->factory.template_path, v, m, msize, mused, ssize,
            cfg->factory.enable_template ? "" : " (not used: enable_template is false)");
}

int
kata_factory_status (const kata_config_t *cfg, char **out, kata_error_t **err)
{
  bool on = false;
  cleanup_free char *body = NULL;
  (void)err;
  *out = NULL;
  template_status (cfg, &body, &on);
  if (kata_vmcache_status (cfg, &body))
    on = true;
  if (!factory_enabled (cfg) && !on)
    out_line (out, "vm factory not enabled");
  else
    out_line (out, "vm factory is %s", on ? "on" : "off");
  out_line (out, "%.*s", body ? (int)strlen (body) - 1 : 0, body ? body : "");
  return 0;
}

int
kata_factory_destroy (const kata_config_t *cfg, char **out, kata_error_t **err)
{
  *out = NULL;
  if (kata_vmcache_stop (cfg, err) < 0)
    return -1;
  if (kata_vm_template_destroy (cfg, err) < 0)
    return -1;
  out_line (out, "vm factory destroyed");
  return 0;
}

/* ---- VM cache (placeholder until the daemon lands) ---- */
bool
kata_vmcache_status (const kata_config_t *cfg, char **out)
{
  if (cfg->factory.vm_cache_number > 0)
    out_line (out, "cache: not running (%d VMs configured at %s)", cfg->factory.vm_cache_number,
              cfg->factory.vm_cache_endpoint);
  else
    out_line (out, "cache: off (vm_cache_number = 0)");
  return false;
}

int
kata_vmcache_start (const kata_config_t *cfg, kata_error_t **err)
{
  (void)cfg;
  return kata_make_error_nostr (err, KATA_ENOTIMPL, "factory: the VM cache is not implemented yet");
}

int
kata_vmcache_stop (const kata_config_t *cfg, kata_error_t **err)
{
  (void)cfg, (void)err;
  return 0;
}

int
kata_vmcache_main (int argc, char **argv)
{
  (void)argc, (void)argv;
  return 2;
}
