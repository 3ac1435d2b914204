/* kata-runtime ps [--format table|json] <container-id> [ps options] */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
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

static const struct argp argp = {
  options,
  parse_opt,
  "<container-id> [ps options]",
  "ps displays the processes running inside a container\v"
  "As runc does, runs ps(1) on the host (\"ps -ef\", or the ps options given after the container id) and "
  "keeps the rows of the container's pids.  A container's pids are the host pids of its shims (init and "
  "exec processes), the pids that state, --pid-file and kill know; the json format prints them.  The "
  "processes inside the VM have no host pid: \"kata-runtime exec <container-id> ps\" lists them.",
  kata_cmd_common_children,
  NULL,
  NULL
};

/* Runs ps ARGS (NULL-terminated, ARGS[0] "ps"); *OUT gets stdout and stderr together. */
static int
run_ps (char **args, char **out, kata_error_t **err)
{
  cleanup_free char *buf = NULL;
  int st;

  if (kata_cmd_capture (args, 1, 64 << 20, &buf, &st, err) < 0)
    return -1;
  if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
    {
      /* runc: "<exit status>: <output>" */
      if (WIFEXITED (st))
        return kata_make_error_nostr (err, EIO, "exit status %d: %s", WEXITSTATUS (st), buf);
      return kata_make_error_nostr (err, EIO, "signal: %s: %s", strsignal (WTERMSIG (st)), buf);
    }
  *out = STEAL_POINTER (&buf);
  return 0;
}

/* Splits LINE (modified) into whitespace-separated fields; returns their number (at most MAX). */
static size_t
fields (char *line, char **f, size_t max)
{
  size_t n = 0;
  char *save = NULL, *t;
  for (t = strtok_r (line, " \t", &save); t && n < max; t = strtok_r (NULL, " \t", &save))
    f[n++] = t;
  return n;
}

/* runc's table: the header line, then the lines whose PID column is one of PIDS. */
static int
print_table (char *out, const pid_t *pids, size_t npids, kata_error_t **err)
{
  enum
  {
    MAXF = 64
  };
  char *f[MAXF], *line, *next, *copy;
  size_t nf, i, pid_index = MAXF;

  next = strchr (out, '\n');
  if (next)
    *next++ = '\0';
  copy = xstrdup (out);
  nf = fields (copy, f, MAXF);
  for (i = 0; i < nf; i++)
    if (strcmp (f[i], "PID") == 0)
      {
        pid_index = i;
        break;
      }
  free (copy);
  if (pid_index == MAXF)
    return kata_make_error_nostr (err, EINVAL, "couldn't find PID field in ps output");
  printf ("%s\n", out);
  for (line = next; line && *line; line = next)
    {
      char *end;
      long p;
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      if (*line == '\0')
        continue;
      copy = xstrdup (line);
      nf = fields (copy, f, MAXF);
      if (nf <= pid_index)
        {
          free (copy);
          continue;
        }
      errno = 0;
      p = strtol (f[pid_index], &end, 10);
      if (*end != '\0' || errno != 0)
        {
          kata_make_error_nostr (
              err, EINVAL, "unable to parse pid: strconv.Atoi: parsing \"%s\": invalid syntax", f[pid_index]);
          free (copy);
          return -1;
        }
      free (copy);
      for (i = 0; i < npids; i++)
        if (pids[i] == (pid_t)p)
          {
            printf ("%s\n", line);
            break;
          }
    }
  return 0;
}

int
cmd_ps (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  const char *format = "table", *id;
  cleanup_free pid_t *pids = NULL;
  cleanup_free char *out = NULL;
  cleanup_free char **args = NULL;
  size_t n = 0, i;
  int first, nargs;

  if (kata_cmd_parse (&argp, argc, argv, &first, &format, err) < 0)
    return -1;
  if (kata_cmd_check_min_args ("ps", argc - first, 1, err) < 0)
    return -1;
  id = argv[first];
  if (kata_validate_id (id, err) < 0)
    return -1;
  if (kata_container_pids (ctx, id, &pids, &n, err) < 0)
    return -1;
  if (strcmp (format, "json") == 0)
    {
      /* Go encodes an empty (nil) slice as null: runc prints null for a stopped container */
      if (n == 0)
        printf ("null\n");
      else
        {
          printf ("[");
          for (i = 0; i < n; i++)
            printf ("%s%d", i ? "," : "", (int)pids[i]);
          printf ("]\n");
        }
      if (fflush (stdout) != 0)
        return kata_make_error (err, errno, "write to stdout");
      return 0;
    }
  if (strcmp (format, "table") != 0)
    return kata_make_error_nostr (err, EINVAL, "invalid format option");
  nargs = argc - first - 1;
  args = xmalloc0 ((size_t)(nargs + 3) * sizeof (char *));
  args[0] = (char *)"ps";
  if (nargs == 0)
    args[1] = (char *)"-ef";
  else
    for (i = 0; i < (size_t)nargs; i++)
      args[i + 1] = argv[first + 1 + i];
  if (run_ps (args, &out, err) < 0)
    return -1;
  if (print_table (out, pids, n, err) < 0)
    return -1;
  if (fflush (stdout) != 0)
    return kata_make_error (err, errno, "write to stdout");
  return 0;
}
