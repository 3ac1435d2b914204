/* Shared flag handling: ids, argument counts, signals, durations, sizes, and
   the flags create and run share. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include "cmd/kata-runtime/common.h"
#include "common/utils.h"

/* -h as runc accepts it (argp gives --help and -?). */
static error_t
common_parse (int key, char *arg, struct argp_state *state)
{
  if (key == 'h')
    {
      argp_state_help (state, stdout, ARGP_HELP_STD_HELP);
      return 0;
    }
  return ARGP_ERR_UNKNOWN;
}

static const struct argp_option common_options[] = {
  { NULL, 'h', NULL, OPTION_HIDDEN, "show help", -1 },
  { 0 },
};

const struct argp kata_cmd_common_argp = { common_options, common_parse, NULL, NULL, NULL, NULL, NULL };

const struct argp_child kata_cmd_common_children[] = {
  { &kata_cmd_common_argp, 0, NULL, 0 },
  { 0 },
};

int
kata_cmd_parse (const struct argp *argp, int argc, char **argv, int *first, void *input, kata_error_t **err)
{
  error_t e;

  *first = argc;
  e = argp_parse (argp, argc, argv, ARGP_IN_ORDER, first, input);
  if (e)
    return kata_make_error (err, e, "%s: parse arguments", argv[0]);
  return 0;
}

int
kata_cmd_check_args (const char *verb, int nargs, int expected, kata_error_t **err)
{
  if (nargs != expected)
    return kata_make_error_nostr (err, EINVAL, "kata-runtime: \"%s\" requires exactly %d argument(s)", verb,
                                  expected);
  return 0;
}

int
kata_cmd_check_min_args (const char *verb, int nargs, int min, kata_error_t **err)
{
  if (nargs < min)
    return kata_make_error_nostr (err, EINVAL, "kata-runtime: \"%s\" requires a minimum of %d argument(s)",
                                  verb, min);
  return 0;
}

int
kata_cmd_get_id (const char *verb, int argc, char **argv, int first, const char **id, kata_error_t **err)
{
  if (kata_cmd_check_args (verb, argc - first, 1, err) < 0)
    return -1;
  if (kata_validate_id (argv[first], err) < 0)
    return -1;
  *id = argv[first];
  return 0;
}

int
kata_parse_int (const char *flag, const char *s, long long min, long long max, long long *out,
                kata_error_t **err)
{
  char *end = NULL;
  long long v;

  errno = 0;
  v = strtoll (s, &end, 10);
  if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
    return kata_make_error_nostr (err, EINVAL, "invalid value \"%s\" for flag --%s", s, flag);
  *out = v;
  return 0;
}

/* Signals --------------------------------------------------------------- */

static const struct
{
  const char *name;
  int num;
} signal_names[] = {
  { "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "BUS", SIGBUS },       { "CHLD", SIGCHLD },
  { "CLD", SIGCHLD },  { "CONT", SIGCONT }, { "FPE", SIGFPE },       { "HUP", SIGHUP },
  { "ILL", SIGILL },   { "INT", SIGINT },   { "IO", SIGIO },         { "IOT", SIGIOT },
  { "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "POLL", SIGPOLL },     { "PROF", SIGPROF },
  { "PWR", SIGPWR },   { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV },     { "STKFLT", SIGSTKFLT },
  { "STOP", SIGSTOP }, { "SYS", SIGSYS },   { "TERM", SIGTERM },     { "TRAP", SIGTRAP },
  { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
  { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH },
  { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
};

int
kata_parse_signal (const char *s, int *signum, kata_error_t **err)
{
  const char *name = s;
  char *end = NULL;
  long v;
  size_t i;

  if (s == NULL || *s == '\0')
    return kata_make_error_nostr (err, EINVAL, "invalid signal: %s", s ? s : "");
  if (isdigit ((unsigned char)s[0]))
    {
      errno = 0;
      v = strtol (s, &end, 10);
      /* 0 is runc's "does the container exist" probe (kill(2) with signal 0) */
      if (*end != '\0' || errno != 0 || v < 0 || v >= NSIG)
        return kata_make_error_nostr (err, EINVAL, "invalid signal: %s", s);
      *signum = (int)v;
      return 0;
    }
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
    if (strcasecmp (name, signal_names[i].name) == 0)
      {
        *signum = signal_names[i].num;
        return 0;
      }
  if (strncasecmp (name, "RTMIN", 5) == 0 || strncasecmp (name, "RTMAX", 5) == 0)
    {
      bool max = strncasecmp (name, "RTMAX", 5) == 0;
      long off = 0;
      const char *p = name + 5;
      if (*p == '+' || *p == '-')
        {
          errno = 0;
          off = strtol (p, &end, 10);
          if (*end != '\0' || errno != 0 || p[1] == '\0')
            return kata_make_error_nostr (err, EINVAL, "unknown signal \"%s\"", s);
        }
      else if (*p != '\0')
        return kata_make_error_nostr (err, EINVAL, "unknown signal \"%s\"", s);
      v = (max ? SIGRTMAX : SIGRTMIN) + off;
      if (v < SIGRTMIN || v > SIGRTMAX)
        return kata_make_error_nostr (err, EINVAL, "unknown signal \"%s\"", s);
      *signum = (int)v;
      return 0;
    }
  return kata_make_error_nostr (err, EINVAL, "unknown signal \"%s\"", s);
}

/* Go durations ---------------------------------------------------------- */

int
kata_parse_duration (const char *s, uint64_t *ns, kata_error_t **err)
{
  static const struct
  {
    const char *unit;
    uint64_t ns;
  } units[] = {
    /* longest first so "ms" is not read as "m" */
    { "ns", 1ULL },         { "us", 1000ULL },       { "\xc2\xb5s", 1000ULL },  { "ms", 1000000ULL },
    { "s", 1000000000ULL }, { "m", 60000000000ULL }, { "h", 3600000000000ULL },
  };
  const char *p = s;
  long double total = 0;

  if (s == NULL || *s == '\0')
    return kata_make_error_nostr (err, EINVAL, "time: invalid duration \"%s\"", s ? s : "");
  if (*p == '+')
    p++;
  if (*p == '-')
    return kata_make_error_nostr (err, EINVAL, "time: invalid duration \"%s\": negative", s);
  if (strcmp (p, "0") == 0)
    {
      *ns = 0;
      return 0;
    }
  while (*p)
    {
      char *end = NULL;
      long double v;
      size_t i, ulen = 0;
      uint64_t mult = 0;

      if (!isdigit ((unsigned char)*p) && *p != '.')
        return kata_make_error_nostr (err, EINVAL, "time: invalid duration \"%s\"", s);
      errno = 0;
      v = strtold (p, &end);
      if (end == p || errno != 0)
        return kata_make_error_nostr (err, EINVAL, "time: invalid duration \"%s\"", s);
      p = end;
      for (i = 0; i < sizeof units / sizeof units[0]; i++)
        {
          size_t l = strlen (units[i].unit);
          if (strncmp (p, units[i].unit, l) == 0 && l > ulen)
            {
              ulen = l;
              mult = units[i].ns;
            }
        }
      if (ulen == 0)
        return kata_make_error_nostr (err, EINVAL, "time: missing unit in duration \"%s\"", s);
      p += ulen;
      total += v * (long double)mult;
      if (total > (long double)INT64_MAX)
        return kata_make_error_nostr (err, EINVAL, "time: invalid duration \"%s\"", s);
    }
  *ns = (uint64_t)total;
  return 0;
}

/* Memory sizes (docker/go-units RAMInBytes) ------------------------------ */

int
kata_parse_mem_size (const char *s, int64_t *bytes, kata_error_t **err)
{
  char *end = NULL;
  long double v;
  int64_t mult = 1;
  const char *u;

  if (s == NULL || *s == '\0' || !(isdigit ((unsigned char)s[0]) || s[0] == '.'))
    return kata_make_error_nostr (err, EINVAL, "invalid size: '%s'", s ? s : "");
  errno = 0;
  v = strtold (s, &end);
  if (end == s || errno != 0 || v < 0)
    return kata_make_error_nostr (err, EINVAL, "invalid size: '%s'", s);
  u = end;
  if (*u)
    {
      switch (tolower ((unsigned char)*u))
        {
        case 'b':
          mult = 1;
          break;
        case 'k':
          mult = 1LL << 10;
          break;
        case 'm':
          mult = 1LL << 20;
          break;
        case 'g':
          mult = 1LL << 30;
          break;
        case 't':
          mult = 1LL << 40;
          break;
        case 'p':
          mult = 1LL << 50;
          break;
        default:
          return kata_make_error_nostr (err, EINVAL, "invalid suffix: '%s'", u);
        }
      /* "k", "kb", "kib" (any case); "b" alone */
      if (tolower ((unsigned char)u[0]) != 'b')
        {
          const char *r = u + 1;
          if (strcasecmp (r, "") != 0 && strcasecmp (r, "b") != 0 && strcasecmp (r, "ib") != 0)
            return kata_make_error_nostr (err, EINVAL, "invalid suffix: '%s'", u);
        }
      else if (u[1] != '\0')
        return kata_make_error_nostr (err, EINVAL, "invalid suffix: '%s'", u);
    }
  v *= (long double)mult;
  if (v > (long double)INT64_MAX)
    return kata_make_error_nostr (err, ERANGE, "invalid size: '%s': too large", s);
  *bytes = (int64_t)v;
  return 0;
}

/* create / run ----------------------------------------------------------- */

enum
{
  OPT_PID_FILE = 1000,
  OPT_CONSOLE_SOCKET,
  OPT_NO_PIVOT,
  OPT_NO_NEW_KEYRING,
  OPT_PRESERVE_FDS,
};

const struct argp_option kata_create_options[] = {
  { "bundle", 'b', "DIR", 0, "path to the root of the bundle directory, defaults to the current directory",
    0 },
  { "console-socket", OPT_CONSOLE_SOCKET, "SOCKET", 0,
    "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the "
    "console's "
    "pseudoterminal",
    0 },
  { "pid-file", OPT_PID_FILE, "FILE", 0, "specify the file to write the process id to", 0 },
  { "no-pivot", OPT_NO_PIVOT, NULL, 0,
    "do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top "
    "of a "
    "ramdisk",
    0 },
  { "no-new-keyring", OPT_NO_NEW_KEYRING, NULL, 0,
    "do not create a new session keyring for the container.  This will cause the container to inherit the "
    "calling "
    "processes session key",
    0 },
  { "preserve-fds", OPT_PRESERVE_FDS, "N", 0,
    "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)", 0 },
  { 0 },
};

error_t
kata_create_parse_key (int key, char *arg, struct argp_state *state, kata_create_opts_t *opts)
{
  switch (key)
    {
    case 'b':
      opts->bundle = arg;
      return 0;
    case OPT_CONSOLE_SOCKET:
      opts->console_socket = arg;
      return 0;
    case OPT_PID_FILE:
      opts->pid_file = arg;
      return 0;
    case OPT_NO_PIVOT:
      opts->no_pivot = true;
      return 0;
    case OPT_NO_NEW_KEYRING:
      opts->no_new_keyring = true;
      return 0;
    case OPT_PRESERVE_FDS:
      {
        char *end = NULL;
        long v;
        errno = 0;
        v = strtol (arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || errno || v < 0 || v > INT_MAX)
          argp_error (state, "invalid value \"%s\" for flag --preserve-fds", arg);
        opts->preserve_fds = (int)v;
        return 0;
      }
    default:
      return ARGP_ERR_UNKNOWN;
    }
}

int
kata_cmd_check_preserve_fds (int n, kata_error_t **err)
{
  if (n > 0)
    return kata_make_error_nostr (
        err, KATA_ENOTIMPL,
        "--preserve-fds %d: the process runs in a VM and cannot be given the caller's "
        "file descriptors (only stdio is forwarded)",
        n);
  return 0;
}

void
kata_cmd_print_version (FILE *out)
{
  fprintf (out, "kata-runtime version %s\ncommit: %s\nspec: 1.2.0\n", PACKAGE_VERSION, GIT_COMMIT);
}

int
kata_cmd_print (const char *text, kata_error_t **err)
{
  if (fputs (text, stdout) < 0 || fputc ('\n', stdout) < 0 || fflush (stdout) != 0)
    return kata_make_error (err, errno, "write to stdout");
  return 0;
}

int
kata_cmd_capture (char *const argv[], int with_stderr, size_t max, char **out, int *status,
                  kata_error_t **err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;
  int pfd[2];
  pid_t pid;

  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return kata_make_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (pfd[0]);
      close (pfd[1]);
      return kata_make_error (err, errno, "fork");
    }
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDWR);
      if (null >= 0)
        dup2 (null, 0);
      dup2 (pfd[1], 1);
      if (with_stderr)
        dup2 (pfd[1], 2);
      else if (null >= 0)
        dup2 (null, 2);
      execvp (argv[0], argv);
      dprintf (2, "exec: \"%s\": %s", argv[0], strerror (errno));
      _exit (127);
    }
  close (pfd[1]);
  if (kata_read_fd (pfd[0], &buf, &len, max, err) < 0)
    {
      close (pfd[0]);
      waitpid (pid, NULL, 0);
      return -1;
    }
  close (pfd[0]);
  while (waitpid (pid, status, 0) < 0)
    if (errno != EINTR)
      return kata_make_error (err, errno, "waitpid");
  *out = STEAL_POINTER (&buf);
  return 0;
}

int
kata_cmd_qemu_version (const char *qemu, char **version, kata_error_t **err)
{
  char *argv[] = { (char *)qemu, (char *)"--version", NULL };
  cleanup_free char *out = NULL;
  int status;
  char *nl;

  if (access (qemu, X_OK) < 0)
    return kata_make_error (err, errno, "%s", qemu);
  if (kata_cmd_capture (argv, 0, 65536, &out, &status, err) < 0)
    return -1;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return kata_make_error_nostr (err, EIO, "%s --version failed (status %d)", qemu,
                                  WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
  nl = strchr (out, '\n');
  if (nl)
    *nl = '\0';
  *version = STEAL_POINTER (&out);
  return 0;
}
