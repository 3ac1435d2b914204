#include "config.h"
#include "common/error.h"
#include "common/utils.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
make_error_v (kata_error_t **err, int status, int with_errno, const char *fmt, va_list ap)
{
  char *msg = NULL;
  if (err == NULL)
    return -1;
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  if (with_errno && status > 0 && status < 1000)
    {
      char *m2 = xasprintf ("%s: %s", msg, strerror (status));
      free (msg);
      msg = m2;
    }
  if (*err)
    kata_error_free (*err);
  *err = xmalloc0 (sizeof (**err));
  (*err)->status = status;
  (*err)->msg = msg;
  return -1;
}

int
kata_make_error (kata_error_t **err, int status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  make_error_v (err, status, 1, fmt, ap);
  va_end (ap);
  return -1;
}

int
kata_make_error_nostr (kata_error_t **err, int status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  make_error_v (err, status, 0, fmt, ap);
  va_end (ap);
  return -1;
}

int
kata_error_wrap (kata_error_t **err, const char *fmt, ...)
{
  char *ctx = NULL;
  va_list ap;
  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&ctx, fmt, ap) < 0)
    abort ();
  va_end (ap);
  char *m = xasprintf ("%s: %s", ctx, (*err)->msg);
  free (ctx);
  free ((*err)->msg);
  (*err)->msg = m;
  return -1;
}

void
kata_error_free (kata_error_t *err)
{
  if (err == NULL)
    return;
  free (err->msg);
  free (err);
}
