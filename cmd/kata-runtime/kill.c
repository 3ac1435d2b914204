/* kata-runtime kill [--all] <container-id> [signal] */
#include "config.h"
#include <errno.h>
#include <signal.h>
#include "cmd/kata-runtime/common.h"

static const struct argp_option options[] = {
  { "all", 'a', NULL, 0, "send the specified signal to all processes inside the container", 0 },
  { 0 },
};

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  bool *all = state->input;
  if (key == 'a')
    {
      *all = true;
      return 0;
    }
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp
    = { options,
        parse_opt,
        "<container-id> [signal]",
        "kill sends the specified signal (default: SIGTERM) to the container's init process\v"
        "Where \"<container-id>\" is the name for the instance of the container and \"[signal]\" is the "
        "signal to be "
        "sent to the init process.\n\n"
        "EXAMPLE:\n  # kata-runtime kill ubuntu01 KILL",
        kata_cmd_common_children,
        NULL,
        NULL };

int
cmd_kill (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  bool all = false;
  const char *id;
  int first, signum = SIGTERM, n;

  if (kata_cmd_parse (&argp, argc, argv, &first, &all, err) < 0)
    return -1;
  n = argc - first;
  if (kata_cmd_check_min_args ("kill", n, 1, err) < 0)
    return -1;
  if (n > 2)
    return kata_make_error_nostr (err, EINVAL, "kata-runtime: \"kill\" requires a maximum of 2 argument(s)");
  id = argv[first];
  if (kata_validate_id (id, err) < 0)
    return -1;
  if (n == 2 && kata_parse_signal (argv[first + 1], &signum, err) < 0)
    return -1;
  if (kata_container_kill (ctx, id, signum, all, err) < 0)
    return -1;
  return 0;
}
