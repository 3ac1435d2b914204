/* kata-runtime create [options] <container-id> */
#include "config.h"
#include "cmd/kata-runtime/common.h"

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  return kata_create_parse_key (key, arg, state, state->input);
}

static const struct argp argp = {
  kata_create_options,
  parse_opt,
  "<container-id>",
  "create a container\v"
  "Where \"<container-id>\" is your name for the instance of the container that you are starting. The name "
  "you "
  "provide for the container instance must be unique on your host.\n\n"
  "The create command creates an instance of a container for a bundle. The bundle is a directory with a "
  "specification file named \"config.json\" and a root filesystem.",
  kata_cmd_common_children,
  NULL,
  NULL
};

int
cmd_create (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  kata_create_opts_t opts = { .detach = true };
  const char *id;
  pid_t shim_pid = 0;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, &opts, err) < 0)
    return -1;
  if (kata_cmd_get_id ("create", argc, argv, first, &id, err) < 0)
    return -1;
  if (kata_cmd_check_preserve_fds (opts.preserve_fds, err) < 0)
    return -1;
  if (kata_container_create (ctx, id, &opts, &shim_pid, err) < 0)
    return -1;
  return 0;
}
