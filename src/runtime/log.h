/* runc-compatible logging: text or JSON lines to --log (stderr when none). */
#ifndef KATA_LOG_H
#define KATA_LOG_H
#include <stdbool.h>

enum kata_log_level
{
  KATA_LOG_ERROR = 0,
  KATA_LOG_WARNING = 1,
  KATA_LOG_INFO = 2,
  KATA_LOG_DEBUG = 3
};

/* PATH NULL: no log file.  FORMAT "text" (default) or "json".  Safe to call again (e.g. in a child). */
void kata_log_init (const char *path, const char *format, bool debug);
/* runc without --log: the log lines (debug with --debug, warnings, errors) go to stderr in
   the chosen format.  Only for the CLI process: kata_log_path() stays NULL, so the shim
   and the monitor (whose stderr may be the container's) log nothing there. */
void kata_log_to_stderr (void);
bool kata_log_debug_enabled (void);
const char *kata_log_path (void);
const char *kata_log_format (void);
/* Writes one line to the log file (if any).  Debug lines only with --debug.
   JSON: {"level":"error","msg":"...","time":"RFC3339"}; text: time="..." level=error msg="..." */
void kata_log (enum kata_log_level level, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
#define kata_debug(...)                                                                                      \
  do                                                                                                         \
    {                                                                                                        \
      if (kata_log_debug_enabled ())                                                                         \
        kata_log (KATA_LOG_DEBUG, __VA_ARGS__);                                                              \
    }                                                                                                        \
  while (0)
#define kata_warn(...) kata_log (KATA_LOG_WARNING, __VA_ARGS__)
/* Debug line "stage NAME +<ms since process start> ms" with a monotonic timestamp. */
void kata_log_stage (const char *name);
/* Prints an error once: to stderr, and as level=error to the log file. */
void kata_log_error_once (const char *msg);

#endif
