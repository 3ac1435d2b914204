/* kata-runtime pause <container-id>: suspend the container */
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
        "pause suspends all processes inside the container\v"
        "Where \"<container-id>\" is the name for the instance of the container to be paused.",
        kata_cmd_common_children,
        NULL,
        NULL };

int
cmd_pause (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  const char *id;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, NULL, err) < 0)
    return -1;
  if (kata_cmd_get_id ("pause", argc, argv, first, &id, err) < 0)
    return -1;
  if (kata_container_pause (ctx, id, err) < 0)
    return -1;
  return 0;
}
