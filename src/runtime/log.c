#include "config.h"
#include "runtime/log.h"
#include "common/json.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>

static int log_fd = -1;
static bool log_json;
static bool log_debug;
static bool log_stderr; /* log_fd is a dup of stderr (--debug without --log) */
static char *log_path_s;
static uint64_t log_t0;

void
kata_log_init (const char *path, const char *format, bool debug)
{
  if (log_fd >= 0)
    close (log_fd);
  log_fd = -1;
  log_stderr = false;
  free (log_path_s);
  log_path_s = path ? xstrdup (path) : NULL;
  log_json = format && strcmp (format, "json") == 0;
  log_debug = debug;
  if (log_t0 == 0)
    log_t0 = kata_now_ns ();
  if (path && *path)
    log_fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

void
kata_log_to_stderr (void)
{
  if (log_fd >= 0)
    return;
  log_fd = fcntl (STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  log_stderr = log_fd >= 0;
}

bool
kata_log_debug_enabled (void)
{
  return log_debug;
}

const char *
kata_log_path (void)
{
  return log_path_s;
}

const char *
kata_log_format (void)
{
  return log_json ? "json" : "text";
}

static const char *
level_name (enum kata_log_level l)
{
  switch (l)
    {
    case KATA_LOG_ERROR:
      return "error";
    case KATA_LOG_WARNING:
      return "warning";
    case KATA_LOG_INFO:
      return "info";
    default:
      return "debug";
    }
}

static void
write_line (enum kata_log_level level, const char *msg)
{
  char ts[64];
  cleanup_free char *line = NULL;
  if (log_fd < 0)
    {
      if (level == KATA_LOG_WARNING)
        fprintf (stderr, "warning: %s\n", msg);
      return;
    }
  kata_rfc3339_now (ts, sizeof ts);
  if (log_json)
    {
      yajl_gen g = kata_gen_new ();
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "level", level_name (level));
      kata_gen_kv_str (g, "msg", msg);
      kata_gen_kv_str (g, "time", ts);
      yajl_gen_map_close (g);
      char *j = kata_gen_finish (g, NULL);
      line = xasprintf ("%s\n", j);
      free (j);
    }
  else
    {
      /* logrus text format, as runc writes it */
      yajl_gen g = kata_gen_new ();
      kata_gen_str (g, msg);
      char *q = kata_gen_finish (g, NULL);
      line = xasprintf ("time=\"%s\" level=%s msg=%s\n", ts, level_name (level), q);
      free (q);
    }
  kata_write_all (log_fd, line, strlen (line));
}

void
kata_log (enum kata_log_level level, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  int saved = errno;
  if (level == KATA_LOG_DEBUG && !log_debug)
    return;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg)
    write_line (level, msg);
  errno = saved;
}

void
kata_log_stage (const char *name)
{
  uint64_t now = kata_now_ns ();
  if (!log_debug)
    return;
  kata_log (KATA_LOG_DEBUG, "stage %s mono=%llu.%06llu +%llu.%03llu ms pid=%d", name,
            (unsigned long long)(now / 1000000000ULL), (unsigned long long)((now / 1000) % 1000000),
            (unsigned long long)((now - log_t0) / 1000000),
            (unsigned long long)(((now - log_t0) / 1000) % 1000), (int)getpid ());
}

void
kata_log_error_once (const char *msg)
{
  if (!log_stderr)
    {
      fprintf (stderr, "%s\n", msg);
      fflush (stderr);
    }
  write_line (KATA_LOG_ERROR, msg);
}
