/* kata-runtime start <container-id>: start the container's process */
#include "config.h"
#include "cmd/kata-runtime/common.h"

static const struct argp_option options[] = { { 0 } };

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp
    = { options,
        parse_opt,
        "<container-id>",
        "executes the user defined process in a created container\v"
        "Where \"<container-id>\" is your name for the instance of the container that you are starting. The "
        "name you provide for the container instance must be unique on your host.",
        kata_cmd_common_children,
        NULL,
        NULL };

int
cmd_start (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  const char *id;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, NULL, err) < 0)
    return -1;
  if (kata_cmd_get_id ("start", argc, argv, first, &id, err) < 0)
    return -1;
  if (kata_container_start (ctx, id, err) < 0)
    return -1;
  return 0;
}
