/* kata-runtime run [options] <container-id>: create + start; in the
   foreground exits with the container process's status. */
#include "config.h"
#include "cmd/kata-runtime/common.h"

enum
{
  OPT_KEEP = 2000, /* above kata_create_options' keys */
};

static const struct argp_option options[] = {
  { "detach", 'd', NULL, 0, "detach from the container's process", 0 },
  { "keep", OPT_KEEP, NULL, 0, "do not delete the container after it exits", 0 },
  { 0 },
};

static error_t
create_parse (int key, char *arg, struct argp_state *state)
{
  return kata_create_parse_key (key, arg, state, state->input);
}

static const struct argp create_argp = { kata_create_options, create_parse, NULL, NULL, NULL, NULL, NULL };

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  kata_create_opts_t *opts = state->input;
  switch (key)
    {
    case ARGP_KEY_INIT:
      state->child_inputs[0] = opts;
      return 0;
    case 'd':
      opts->detach = true;
      return 0;
    case OPT_KEEP:
      opts->keep = true;
      return 0;
    default:
      return ARGP_ERR_UNKNOWN;
    }
}

static const struct argp_child children[] = {
  { &create_argp, 0, NULL, 0 },
  { &kata_cmd_common_argp, 0, NULL, 0 },
  { 0 },
};

static const struct argp argp
    = { options,
        parse_opt,
        "<container-id>",
        "create and run a container\v"
        "Where \"<container-id>\" is your name for the instance of the container that you are starting. The "
        "name you "
        "provide for the container instance must be unique on your host.\n\n"
        "The run command creates an instance of a container for a bundle. The bundle is a directory with a "
        "specification file named \"config.json\" and a root filesystem.",
        children,
        NULL,
        NULL };

int
cmd_run (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  kata_create_opts_t opts = { .detach = false };
  const char *id;
  int first, status = 0;

  if (kata_cmd_parse (&argp, argc, argv, &first, &opts, err) < 0)
    return -1;
  if (kata_cmd_get_id ("run", argc, argv, first, &id, err) < 0)
    return -1;
  if (kata_cmd_check_preserve_fds (opts.preserve_fds, err) < 0)
    return -1;
  if (kata_container_run (ctx, id, &opts, &status, err) < 0)
    return -1;
  return opts.detach ? 0 : status;
}
