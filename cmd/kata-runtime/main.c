/* kata-runtime: runc's command line, each container in a QEMU VM.
   Global flags, the command table, and the one place errors are printed. */
#include "config.h"
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/kata-runtime/common.h"
#include "common/utils.h"
#include "runtime/log.h"
#include "runtime/monitor.h"
#include "runtime/shim.h"

static const struct kata_command_s commands[] = {
  { "create", cmd_create, "create a container", false },
  { "delete", cmd_delete, "delete any resources held by the container often used with detached container",
    false },
  { "events", cmd_events,
    "display container events such as OOM notifications, cpu, memory, and IO usage statistics", false },
  { "exec", cmd_exec, "execute new process inside the container", false },
  { "kill", cmd_kill, "kill sends the specified signal (default: SIGTERM) to the container's init process",
    false },
  { "list", cmd_list, "lists containers started by kata-runtime with the given root", false },
  { "pause", cmd_pause, "pause suspends all processes inside the container", false },
  { "ps", cmd_ps, "ps displays the processes running inside a container", false },
  { "resume", cmd_resume, "resumes all processes that have been previously paused", false },
  { "run", cmd_run, "create and run a container", false },
  { "spec", cmd_spec, "create a new specification file", false },
  { "start", cmd_start, "executes the user defined process in a created container", false },
  { "state", cmd_state, "output the state of a container", false },
  { "update", cmd_update, "update container resource constraints", false },
  { "features", cmd_features, "show the enabled features", false },
  { "kata-check", cmd_kata_check, "tests if system can run Kata Containers", false },
  { "check", cmd_kata_check, "tests if system can run Kata Containers", true },
  { "kata-env", cmd_kata_env, "display settings. Default to TOML", false },
  { "env", cmd_kata_env, "display settings. Default to TOML", true },
  { "factory", cmd_factory, "manage vm factory", false },
  { "version", cmd_version, "display version details", false },
  { NULL, NULL, NULL, false },
};

void
kata_cmd_print_commands (FILE *out)
{
  const struct kata_command_s *c;
  for (c = commands; c->name; c++)
    if (!c->hidden)
      fprintf (out, "   %-11s %s\n", c->name, c->summary);
  fprintf (out, "   %-11s %s\n", "help, h", "Shows a list of commands or help for one command");
}

static void
print_help (FILE *out)
{
  fprintf (out, "NAME:\n"
                "   kata-runtime - Open Container Initiative runtime for Kata Containers\n\n"
                "kata-runtime is a command line program for running applications packaged\n"
                "according to the Open Container Initiative (OCI) format; each container runs\n"
                "in a lightweight QEMU virtual machine.\n\n"
                "USAGE:\n"
                "   kata-runtime [global options] command [command options] [arguments...]\n\n"
                "VERSION:\n   ");
  kata_cmd_print_version (out);
  fprintf (out, "\nCOMMANDS:\n");
  kata_cmd_print_commands (out);
  fprintf (
      out,
      "\nGLOBAL OPTIONS:\n"
      "   --debug                           enable debug logging\n"
      "   --log value                       set the log file path where internal debug information is "
      "written\n"
      "   --log-format value                set the format used by logs ('text' (default), or 'json') "
      "(default: \"text\")\n"
      "   --root value                      root directory for storage of container state (this should be "
      "located in tmpfs) (default: \"" KATA_DEFAULT_ROOT "\")\n"
      "   --criu value                      ignored (checkpoint/restore is not supported)\n"
      "   --systemd-cgroup                  enable systemd cgroup support, expects cgroupsPath to be of form "
      "\"slice:prefix:name\" for e.g. \"system.slice:runc:434234\"\n"
      "   --rootless value                  ignore cgroup permission errors ('true', 'false', or 'auto') "
      "(default: \"auto\")\n"
      "   --kata-config value               Kata config file path\n"
      "   --kata-show-default-config-paths  show config file paths that will be checked for (in order)\n"
      "   --help, -h                        show help\n"
      "   --version, -v                     print the version\n");
}

enum
{
  OPT_ROOT = 1000,
  OPT_LOG,
  OPT_LOG_FORMAT,
  OPT_DEBUG,
  OPT_SYSTEMD_CGROUP,
  OPT_ROOTLESS,
  OPT_CRIU,
  OPT_KATA_CONFIG,
  OPT_SHOW_PATHS,
};

static const struct argp_option global_options[] = {
  { "root", OPT_ROOT, "DIR", 0, "root directory for storage of container state", 0 },
  { "log", OPT_LOG, "FILE", 0, "log file", 0 },
  { "log-format", OPT_LOG_FORMAT, "FORMAT", 0, "text or json", 0 },
  { "debug", OPT_DEBUG, NULL, 0, "enable debug logging", 0 },
  { "systemd-cgroup", OPT_SYSTEMD_CGROUP, NULL, 0, "systemd cgroups", 0 },
  { "rootless", OPT_ROOTLESS, "VALUE", 0, "true, false or auto", 0 },
  { "criu", OPT_CRIU, "PATH", 0, "ignored", 0 },
  { "kata-config", OPT_KATA_CONFIG, "PATH", 0, "Kata config file path", 0 },
  { "kata-show-default-config-paths", OPT_SHOW_PATHS, NULL, 0, "show config file paths", 0 },
  { "version", 'v', NULL, 0, "print the version", 0 },
  { "help", 'h', NULL, 0, "show help", 0 },
  { 0 },
};

struct global_args
{
  kata_context_t *ctx;
  bool show_paths;
  bool version;
  bool help;
  const char *bad_log_format;
  const char *bad_rootless;
};

static error_t
global_parse (int key, char *arg, struct argp_state *state)
{
  struct global_args *g = state->input;

  switch (key)
    {
    case OPT_ROOT:
      g->ctx->root = arg;
      break;
    case OPT_LOG:
      g->ctx->log_path = arg;
      break;
    case OPT_LOG_FORMAT:
      if (strcmp (arg, "text") != 0 && strcmp (arg, "json") != 0)
        g->bad_log_format = arg;
      else
        g->ctx->log_format = arg;
      break;
    case OPT_DEBUG:
      g->ctx->debug = true;
      break;
    case OPT_SYSTEMD_CGROUP:
      g->ctx->systemd_cgroup = true;
      break;
    case OPT_ROOTLESS:
      if (strcmp (arg, "true") == 0)
        g->ctx->rootless = true;
      else if (strcmp (arg, "false") == 0)
        g->ctx->rootless = false;
      else if (strcmp (arg, "auto") == 0)
        g->ctx->rootless = geteuid () != 0;
      else
        g->bad_rootless = arg;
      break;
    case OPT_CRIU:
      break;
    case OPT_KATA_CONFIG:
      g->ctx->kata_config = arg;
      break;
    case OPT_SHOW_PATHS:
      g->show_paths = true;
      break;
    case 'v':
      g->version = true;
      break;
    case 'h':
      g->help = true;
      break;
    default:
      /* ARGP_KEY_ARG included: stop at the verb. */
      return ARGP_ERR_UNKNOWN;
    }
  return 0;
}

static const struct argp global_argp = { global_options, global_parse, NULL, NULL, NULL, NULL, NULL };

static const struct kata_command_s *
find_command (const char *name)
{
  const struct kata_command_s *c;
  for (c = commands; c->name; c++)
    if (strcmp (c->name, name) == 0)
      return c;
  return NULL;
}

static int
run_command (const struct kata_command_s *c, kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  cleanup_free char *name = xasprintf ("kata-runtime %s", c->name);
  cleanup_free char **v = xmalloc0 ((argc + 1) * sizeof (char *));
  int i;

  /* argp names the verb in its messages after argv[0] */
  v[0] = name;
  for (i = 1; i < argc; i++)
    v[i] = argv[i];
  return c->fn (ctx, argc, v, err);
}

static int
fail (kata_error_t *err, const char *verb)
{
  if (err == NULL)
    kata_log_error_once ("unknown error");
  else if (err->status == KATA_ENOTIMPL && verb && strstr (err->msg, "not implemented") == NULL)
    {
      cleanup_free char *m = xasprintf ("%s: not implemented: %s", verb, err->msg);
      kata_log_error_once (m);
    }
  else
    kata_log_error_once (err->msg);
  kata_error_free (err);
  return 1;
}

int
main (int argc, char **argv)
{
  kata_context_t ctx = { .root = KATA_DEFAULT_ROOT, .log_format = "text" };
  struct global_args g = { .ctx = &ctx };
  const struct kata_command_s *c;
  kata_error_t *err = NULL;
  int first = argc, ret, i;

  /* Hidden entry points get their own argv, before any flag parsing. */
  if (argc > 1 && strcmp (argv[1], "__monitor") == 0)
    return kata_monitor_main (argc - 1, argv + 1);
  if (argc > 1 && strcmp (argv[1], "__shim") == 0)
    return kata_shim_main (argc - 1, argv + 1);

  argp_err_exit_status = 1;
  if (argp_parse (&global_argp, argc, argv, ARGP_IN_ORDER | ARGP_NO_HELP, &first, &g) != 0)
    return 1;

  if (ctx.log_path && *ctx.log_path)
    {
      /* log.c cannot report it; runc fails when the log cannot be opened */
      int fd = open (ctx.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0)
        {
          fprintf (stderr, "open log file %s: %s\n", ctx.log_path, strerror (errno));
          return 1;
        }
      close (fd);
    }
  kata_log_init (ctx.log_path, ctx.log_format, ctx.debug);
  if (ctx.debug && !(ctx.log_path && *ctx.log_path))
    kata_log_to_stderr ();
  if (g.bad_log_format)
    {
      cleanup_free char *m = xasprintf ("unknown log-format \"%s\"", g.bad_log_format);
      kata_log_error_once (m);
      return 1;
    }
  if (g.bad_rootless)
    {
      cleanup_free char *m
          = xasprintf ("invalid --rootless argument \"%s\": expected true, false or auto", g.bad_rootless);
      kata_log_error_once (m);
      return 1;
    }
  if (g.help)
    {
      print_help (stdout);
      return 0;
    }
  if (g.version)
    {
      kata_cmd_print_version (stdout);
      return 0;
    }
  if (g.show_paths)
    {
      const char **p = kata_config_default_paths ();
      for (; p && *p; p++)
        printf ("%s\n", *p);
      return 0;
    }
  if (first >= argc)
    {
      print_help (stdout);
      return 0;
    }

  if (kata_log_debug_enabled ())
    {
      cleanup_free char *line = xstrdup ("");
      for (i = first; i < argc; i++)
        {
          char *n = xasprintf ("%s%s%s", line, i > first ? " " : "", argv[i]);
          free (line);
          line = n;
        }
      kata_debug ("kata-runtime %s (root=%s pid=%d)", line, ctx.root, (int)getpid ());
    }

  if (strcmp (argv[first], "help") == 0 || strcmp (argv[first], "h") == 0)
    {
      if (first + 1 < argc && (c = find_command (argv[first + 1])) != NULL)
        {
          char *hv[] = { argv[first + 1], (char *)"--help", NULL };
          return run_command (c, &ctx, 2, hv, &err) < 0 ? fail (err, c->name) : 0;
        }
      if (first + 1 < argc)
        {
          cleanup_free char *m = xasprintf ("No help topic for '%s'", argv[first + 1]);
          kata_log_error_once (m);
          return 1;
        }
      print_help (stdout);
      return 0;
    }

  c = find_command (argv[first]);
  if (c == NULL)
    {
      cleanup_free char *m = xasprintf ("No help topic for '%s'", argv[first]);
      kata_log_error_once (m);
      return 1;
    }

  ret = run_command (c, &ctx, argc - first, argv + first, &err);
  if (ctx.cfg)
    {
      kata_config_free (ctx.cfg);
      ctx.cfg = NULL;
    }
  if (ret < 0)
    return fail (err, c->name);
  kata_debug ("kata-runtime %s: exit status %d", c->name, ret);
  return ret;
}
