/* kata-runtime resume <container-id>: resume a paused container */
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
        "resumes all processes that have been previously paused\v"
        "Where \"<container-id>\" is the name for the instance of the container to be resumed.",
        kata_cmd_common_children,
        NULL,
        NULL };

int
cmd_resume (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  const char *id;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, NULL, err) < 0)
    return -1;
  if (kata_cmd_get_id ("resume", argc, argv, first, &id, err) < 0)
    return -1;
  if (kata_container_resume (ctx, id, err) < 0)
    return -1;
  return 0;
}
