/* kata-runtime state <container-id>: the OCI state JSON. */
#include "config.h"
#include "cmd/kata-runtime/common.h"
#include "common/utils.h"

static const struct argp_option options[] = { { 0 } };

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp = { options,
                                  parse_opt,
                                  "<container-id>",
                                  "output the state of a container\v"
                                  "Where \"<container-id>\" is your name for the instance of the container.",
                                  kata_cmd_common_children,
                                  NULL,
                                  NULL };

int
cmd_state (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  cleanup_free char *json = NULL;
  const char *id;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, NULL, err) < 0)
    return -1;
  if (kata_cmd_get_id ("state", argc, argv, first, &id, err) < 0)
    return -1;
  if (kata_container_state (ctx, id, &json, err) < 0)
    return -1;
  return kata_cmd_print (json, err);
}
