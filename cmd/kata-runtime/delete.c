/* kata-runtime delete [--force] <container-id> */
#include "config.h"
#include <stdlib.h>
#include "cmd/kata-runtime/common.h"
#include "common/utils.h"
#include "runtime/state.h"

static const struct argp_option options[] = {
  { "force", 'f', NULL, 0, "Forcibly deletes the container if it is still running (uses SIGKILL)", 0 },
  { 0 },
};

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  bool *force = state->input;
  if (key == 'f')
    {
      *force = true;
      return 0;
    }
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp = {
  options,
  parse_opt,
  "<container-id>",
  "delete any resources held by the container often used with detached container\v"
  "Where \"<container-id>\" is the name for the instance of the container.\n\n"
  "EXAMPLE:\nFor example, if the container id is \"ubuntu01\" and kata-runtime list currently shows the\n"
  "status of \"ubuntu01\" as \"stopped\" the following will delete resources held for\n"
  "\"ubuntu01\" removing \"ubuntu01\" from the kata-runtime list of containers:\n\n"
  "       # kata-runtime delete ubuntu01",
  kata_cmd_common_children,
  NULL,
  NULL
};

int
cmd_delete (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  bool force = false;
  const char *id;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, &force, err) < 0)
    return -1;
  if (kata_cmd_get_id ("delete", argc, argv, first, &id, err) < 0)
    return -1;
  if (kata_container_delete (ctx, id, force, err) < 0)
    {
      /* A create that crashed before container.json was written left only its mapping
         (and maybe a VM): its creator is dead, so nobody will finish it; clean it up
         (docs/lifecycle.md "Crashes").  One still running is left alone. */
      cleanup_free char *sid = NULL;
      if (!force && (*err)->status == KATA_ENOTFOUND && kata_validate_id (id, NULL) == 0
          && kata_mapping_lookup (ctx->root, id, &sid, NULL) == 0 && kata_validate_id (sid, NULL) == 0
          && !kata_mapping_creator_alive (ctx->root, id, sid))
        {
          kata_error_free (*err);
          *err = NULL;
          return kata_container_cleanup_id (ctx, id, err);
        }
      return -1;
    }
  return 0;
}
