/* kata-runtime factory init|status|destroy: the VM factory (templating and the VM cache,
   docs/factory.md). */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/kata-runtime/common.h"
#include "common/utils.h"
#include "runtime/factory.h"

static const struct argp_option options[] = { { 0 } };

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  (void)key, (void)arg, (void)state;
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp
    = { options,
        parse_opt,
        "init|status|destroy",
        "manage vm factory\v"
        "COMMANDS:\n  init     initialize a VM factory based on kata-runtime configuration\n"
        "  status   query the status of VM factory\n"
        "  destroy  destroy the VM factory",
        kata_cmd_common_children,
        NULL,
        NULL };

int
cmd_factory (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  int first, r;
  const char *sub;
  cleanup_free char *out = NULL;

  if (kata_cmd_parse (&argp, argc, argv, &first, NULL, err) < 0)
    return -1;
  if (kata_cmd_check_args ("factory", argc - first, 1, err) < 0)
    return -1;
  sub = argv[first];
  if (strcmp (sub, "__vmcache") == 0)
    {
      /* Hidden: the VM cache daemon, started detached by `factory init`. */
      if (kata_context_load_config (ctx, err) < 0)
        return -1;
      return kata_vmcache_main (ctx->cfg);
    }
  if (strcmp (sub, "init") != 0 && strcmp (sub, "status") != 0 && strcmp (sub, "destroy") != 0)
    return kata_make_error_nostr (
        err, EINVAL, "factory: unknown subcommand \"%s\" (expected init, status or destroy)", sub);
  if (kata_context_load_config (ctx, err) < 0)
    return -1;
  if (strcmp (sub, "init") == 0)
    r = kata_factory_init (ctx->cfg, &out, err);
  else if (strcmp (sub, "status") == 0)
    r = kata_factory_status (ctx->cfg, &out, err);
  else
    r = kata_factory_destroy (ctx->cfg, &out, err);
  if (r < 0)
    return -1;
  if (out)
    fputs (out, stdout);
  fflush (stdout);
  return 0;
}
