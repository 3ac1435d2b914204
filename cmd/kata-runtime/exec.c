/* kata-runtime exec [options] <container-id> <command> [args...] */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include "cmd/kata-runtime/common.h"
#include "common/utils.h"
#include "runtime/log.h"

enum
{
  OPT_PID_FILE = 1000,
  OPT_CONSOLE_SOCKET,
  OPT_CWD,
  OPT_NO_NEW_PRIVS,
  OPT_PRESERVE_FDS,
  OPT_IGNORE_PAUSED,
  OPT_PROCESS_LABEL,
  OPT_APPARMOR,
};

static const struct argp_option options[] = {
  { "console-socket", OPT_CONSOLE_SOCKET, "SOCKET", 0,
    "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the "
    "console's "
    "pseudoterminal",
    0 },
  { "cwd", OPT_CWD, "DIR", 0, "current working directory in the container", 0 },
  { "env", 'e', "VAR=VALUE", 0, "set environment variables", 0 },
  { "tty", 't', NULL, 0, "allocate a pseudo-TTY", 0 },
  { "user", 'u', "UID[:GID]", 0, "UID (format: <uid>[:<gid>])", 0 },
  { "additional-gids", 'g', "GID", 0, "additional gids", 0 },
  { "process", 'p', "FILE", 0, "path to the process.json", 0 },
  { "detach", 'd', NULL, 0, "detach from the container's process", 0 },
  { "pid-file", OPT_PID_FILE, "FILE", 0, "specify the file to write the process id to", 0 },
  { "process-label", OPT_PROCESS_LABEL, "LABEL", 0,
    "set the asm process label for the process commonly used with selinux (ignored: the process runs in a "
    "VM)",
    0 },
  { "apparmor", OPT_APPARMOR, "PROFILE", 0,
    "set the apparmor profile for the process (ignored: the process runs in a VM)", 0 },
  { "no-new-privs", OPT_NO_NEW_PRIVS, NULL, 0, "set the no new privileges value for the process", 0 },
  { "cap", 'c', "CAP", 0, "add a capability to the bounding set for the process", 0 },
  { "preserve-fds", OPT_PRESERVE_FDS, "N", 0, "Pass N additional file descriptors to the container", 0 },
  { "ignore-paused", OPT_IGNORE_PAUSED, NULL, 0, "allow exec in a paused container", 0 },
  { 0 },
};

static void
push (char ***v, size_t *n, char *s)
{
  *v = xrealloc (*v, (*n + 2) * sizeof (char *));
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
}

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  kata_exec_opts_t *o = state->input;
  switch (key)
    {
    case OPT_CONSOLE_SOCKET:
      o->console_socket = arg;
      break;
    case OPT_CWD:
      o->cwd = arg;
      break;
    case 'e':
      push (&o->env, &o->env_len, arg);
      break;
    case 't':
      o->tty = true;
      break;
    case 'u':
      o->user = arg;
      break;
    case 'g':
      push (&o->additional_gids, &o->additional_gids_len, arg);
      break;
    case 'p':
      o->process_json_path = arg;
      break;
    case 'd':
      o->detach = true;
      break;
    case OPT_PID_FILE:
      o->pid_file = arg;
      break;
    case OPT_PROCESS_LABEL:
    case OPT_APPARMOR:
      break;
    case OPT_NO_NEW_PRIVS:
      o->no_new_privs = true;
      break;
    case 'c':
      push (&o->caps, &o->caps_len, arg);
      break;
    case OPT_PRESERVE_FDS:
      {
        char *end = NULL;
        long v;
        errno = 0;
        v = strtol (arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || errno || v < 0 || v > INT_MAX)
          argp_error (state, "invalid value \"%s\" for flag --preserve-fds", arg);
        o->preserve_fds = (int)v;
        break;
      }
    case OPT_IGNORE_PAUSED:
      o->ignore_paused = true;
      break;
    default:
      return ARGP_ERR_UNKNOWN;
    }
  return 0;
}

static const struct argp argp
    = { options,
        parse_opt,
        "<container-id> <command> [args...]\n-p process.json <container-id>",
        "execute new process inside the container\v"
        "Where \"<container-id>\" is the name for the instance of the container and \"<command>\" is the "
        "command to be "
        "executed in the container.\n\n"
        "EXAMPLE:\nFor example, if the container is configured to run the linux ps command the\n"
        "following will output a list of processes running in the container:\n\n"
        "       # kata-runtime exec <container-id> ps",
        kata_cmd_common_children,
        NULL,
        NULL };

/* runc: once the arguments parse, every failure of the exec itself exits 255 with
   "exec failed: ...", so that a caller tells it from the process's own status. */
static int
exec_failed (kata_error_t *e)
{
  cleanup_free char *m = xasprintf ("exec failed: %s", e && e->msg ? e->msg : "unknown error");
  kata_log_error_once (m);
  kata_error_free (e);
  return 255;
}

int
cmd_exec (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  kata_exec_opts_t o = { 0 };
  cleanup_free char **env = NULL, **gids = NULL, **caps = NULL;
  kata_error_t *e = NULL;
  const char *id;
  int first, status = 0, ret;

  ret = kata_cmd_parse (&argp, argc, argv, &first, &o, err);
  env = o.env;
  gids = o.additional_gids;
  caps = o.caps;
  if (ret < 0)
    return -1;
  if (kata_cmd_check_min_args ("exec", argc - first, 1, err) < 0)
    return -1;
  id = argv[first];
  if (kata_validate_id (id, &e) < 0)
    return exec_failed (e);
  o.args = argv + first + 1;
  o.args_len = argc - first - 1;
  if (kata_cmd_check_preserve_fds (o.preserve_fds, &e) < 0)
    return exec_failed (e);
  if (kata_container_exec (ctx, id, &o, &status, &e) < 0)
    return exec_failed (e);
  return o.detach ? 0 : status;
}
