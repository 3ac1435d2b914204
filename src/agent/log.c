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

void
agent_buf_append (agent_buf_t *b, const void *p, size_t n)
{
  if (n == 0)
    return;
  if (b->off + b->len + n > b->cap)
    {
      if (b->off > 0)
        {
          memmove (b->data, b->data + b->off, b->len);
          b->off = 0;
        }
      if (b->len + n > b->cap)
        {
          size_t cap = b->cap ? b->cap : 4096;
          while (cap < b->len + n)
            cap *= 2;
          b->data = xrealloc (b->data, cap);
          b->cap = cap;
        }
    }
  memcpy (b->data + b->off + b->len, p, n);
  b->len += n;
}

void
agent_buf_consume (agent_buf_t *b, size_t n)
{
  if (n >= b->len)
    {
      b->off = b->len = 0;
      if (b->cap > (1u << 20))
        {
          free (b->data);
          b->data = NULL;
          b->cap = 0;
        }
      return;
    }
  b->off += n;
  b->len -= n;
}

void
agent_buf_clear (agent_buf_t *b)
{
  free (b->data);
  memset (b, 0, sizeof *b);
}
