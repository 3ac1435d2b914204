/* kata-runtime events [--stats] [--interval D] <container-id> */
#include "config.h"
#include <errno.h>
#include "cmd/kata-runtime/common.h"

struct events_args
{
  bool stats;
  const char *interval;
};

enum
{
  OPT_STATS = 1000,
  OPT_INTERVAL,
};

static const struct argp_option options[] = {
  { "interval", OPT_INTERVAL, "DURATION", 0, "set the stats collection interval (default: 5s)", 0 },
  { "stats", OPT_STATS, NULL, 0, "display the container's stats then exit", 0 },
  { 0 },
};

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  struct events_args *a = state->input;
  switch (key)
    {
    case OPT_STATS:
      a->stats = true;
      return 0;
    case OPT_INTERVAL:
      a->interval = arg;
      return 0;
    default:
      return ARGP_ERR_UNKNOWN;
    }
}

static const struct argp argp
    = { options,
        parse_opt,
        "<container-id>",
        "display container events such as OOM notifications, cpu, memory, and IO usage "
        "statistics\v"
        "Where \"<container-id>\" is the name for the instance of the container.",
        kata_cmd_common_children,
        NULL,
        NULL };

int
cmd_events (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  struct events_args a = { .interval = "5s" };
  const char *id;
  uint64_t ns;
  int first;
  long long ms;

  if (kata_cmd_parse (&argp, argc, argv, &first, &a, err) < 0)
    return -1;
  if (kata_cmd_get_id ("events", argc, argv, first, &id, err) < 0)
    return -1;
  if (kata_parse_duration (a.interval, &ns, err) < 0)
    return kata_error_wrap (err, "invalid value \"%s\" for flag --interval", a.interval);
  if (ns == 0)
    return kata_make_error_nostr (err, EINVAL, "duration interval must be greater than 0");
  /* milliseconds (at least 1); a day at most, as an int */
  ms = (long long)((ns + 999999ULL) / 1000000ULL);
  if (ms > 86400000LL)
    ms = 86400000LL;
  if (kata_container_events (ctx, id, a.stats, (int)ms, err) < 0)
    return -1;
  return 0;
}
