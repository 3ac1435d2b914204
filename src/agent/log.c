/* Logging to /dev/console, and the byte queue used for output. */
#include "config.h"
#include "agent/agent.h"
#include "common/utils.h"
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int agent_debug;
int agent_warm;
static int console_fd = 2;

void
agent_log_open (void)
{
  int fd = open ("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (fd >= 0)
    console_fd = fd;
}

static void
vlog (const char *fmt, va_list ap)
{
  char buf[1024];
  struct timespec ts;
  int n;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  n = snprintf (buf, sizeof buf, "[%5ld.%03ld] kata-agent: ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
  n += vsnprintf (buf + n, sizeof buf - n - 1, fmt, ap);
  if (n > (int)sizeof buf - 2)
    n = sizeof buf - 2;
  buf[n++] = '\n';
  (void)!write (console_fd, buf, n);
}

void
agent_log (const char *fmt, ...)
{
  va_list ap;
  if (!agent_debug)
    return;
  va_start (ap, fmt);
  vlog (fmt, ap);
  va_end (ap);
}

void
agent_log_always (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog (fmt, ap);
  va_end (ap);
}
