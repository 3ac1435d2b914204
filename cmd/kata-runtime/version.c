/* kata-runtime version: the same as --version. */
#include "config.h"
#include <stdio.h>
#include "cmd/kata-runtime/common.h"

static const struct argp_option options[] = { { 0 } };

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp
    = { options, parse_opt, NULL, "display version details", kata_cmd_common_children, NULL, NULL };

int
cmd_version (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, NULL, err) < 0)
    return -1;
  if (kata_cmd_check_args ("version", argc - first, 0, err) < 0)
    return -1;
  kata_cmd_print_version (stdout);
  return 0;
}
