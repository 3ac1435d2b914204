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

/* Entry of the hidden subcommand `kata-runtime __vmcache CONFIG-JSON-FILE`. */
int kata_vmcache_main (int argc, char **argv);

#endif
