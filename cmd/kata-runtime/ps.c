/* kata-runtime ps [--format table|json] <container-id> [ps options] */
#include <config.h>
#include <errno.h>
#include <string.h>
#include "cmd/kata-runtime/common.h"
#include "common/utils.h"

static const struct argp_option options[] = {
  { "format", 'f', "FORMAT", 0, "select one of: table or json (default: \"table\")", 0 },
  { 0 },
};

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  const char **format = state->input;
  if (key == 'f')
    {
      *format = arg;
      return 0;
    }
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp = { options,
                                  parse_opt,
                                  "<container-id> [ps options]",
                                  "ps displays the processes running inside a container\v"
                                  "The json format prints the host pids of the container's processes (their "
                                  "shims); the table lists the processes inside the VM.",
                                  kata_cmd_common_children,
                                  NULL,
                                  NULL };

int
cmd_ps (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  const char *format = "table", *id;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, &format, err) < 0)
    return -1;
  if (kata_cmd_check_min_args ("ps", argc - first, 1, err) < 0)
    return -1;
  id = argv[first];
  if (kata_validate_id (id, err) < 0)
    return -1;
  if (strcmp (format, "json") == 0)
    {
      cleanup_free pid_t *pids = NULL;
      size_t n = 0, i;
      if (kata_container_pids (ctx, id, &pids, &n, err) < 0)
        return -1;
      printf ("[");
      for (i = 0; i < n; i++)
        printf ("%s%d", i ? "," : "", (int)pids[i]);
      printf ("]\n");
      if (fflush (stdout) != 0)
        return kata_make_error (err, errno, "write to stdout");
      return 0;
    }
  if (strcmp (format, "table") != 0)
    return kata_make_error_nostr (err, EINVAL, "invalid format option");
  if (argc - first > 1)
    return kata_make_error_nostr (err, KATA_ENOTIMPL,
                                  "ps options are not supported: the processes run inside the VM");
  {
    cleanup_free char *table = NULL;
    size_t l;
    if (kata_container_top (ctx, id, &table, err) < 0)
      return -1;
    l = strlen (table);
    if (l && table[l - 1] == '\n')
      table[l - 1] = '\0';
    return kata_cmd_print (table, err);
  }
}
