/* The VM factory (docs/factory.md): VM templating and the VM cache, as in Kata 1.x's
   `kata-runtime factory init|status|destroy`. */
#ifndef KATA_FACTORY_H
#define KATA_FACTORY_H
#include <stdbool.h>
#include "common/error.h"
#include "runtime/config.h"

/* Creates what CFG's [factory] asks for: the template (enable_template) and the
   cache daemon (vm_cache_number > 0, started detached).  *OUT gets the lines to print. */
int kata_factory_init (const kata_config_t *cfg, char **out, kata_error_t **err);
/* The template and the cache with their sizes (*OUT: text to print). */
int kata_factory_status (const kata_config_t *cfg, char **out, kata_error_t **err);
/* Kills the cache daemon and its VMs, removes the template (and its tmpfs). */
int kata_factory_destroy (const kata_config_t *cfg, char **out, kata_error_t **err);

/* The cache daemon: `kata-runtime [--kata-config F] [--log L] factory __vmcache` (hidden). */
int kata_vmcache_main (const kata_config_t *cfg);

/* Takes a standby VM from the cache at cfg->factory.vm_cache_endpoint for the sandbox
   whose monitor arguments are ARGS_JSON (root, sandbox_id, hostname, cgroup_path...).
   On success the standby monitor has become the sandbox's; INFO gets its pids. */
struct kata_monitor_info_s;
int kata_vmcache_claim (const kata_config_t *cfg, const char *args_json, struct kata_monitor_info_s *info,
                        kata_error_t **err);

#endif
