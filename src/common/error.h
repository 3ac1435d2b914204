/* Errors: made once, wrapped on the way up, printed once (by main). */
#ifndef KATA_ERROR_H
#define KATA_ERROR_H
#include <stdarg.h>
#include <stddef.h>

typedef struct kata_error_s
{
  int status; /* errno value, or a KATA_E* code below when errno does not apply */
  char *msg;
} kata_error_t;

/* Codes that are not errnos (kept above the errno range). */
enum
{
  KATA_ENOTFOUND = 1000,   /* container/sandbox does not exist */
  KATA_EEXIST_ID = 1001,   /* id already in use */
  KATA_EBADID = 1002,      /* invalid id */
  KATA_EBADSTATE = 1003,   /* operation not valid in the current state */
  KATA_EBADCONFIG = 1004,  /* config.json or configuration.toml is wrong */
  KATA_EVMDEAD = 1005,     /* the VM or its monitor died */
  KATA_EPROTO = 1006,      /* agent protocol error */
  KATA_ENOTIMPL = 1007,    /* not implemented */
  KATA_ETIMEOUT = 1008,    /* timed out */
  KATA_EAGENT = 1009,      /* the agent reported an error */
};

/* Sets *err (if err is not NULL) and returns -1.  STATUS is kept in err->status.
   When STATUS is an errno (< 1000), ": strerror(STATUS)" is appended.  */
int kata_make_error (kata_error_t **err, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Same, without the strerror suffix. */
int kata_make_error_nostr (kata_error_t **err, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Prefixes context: "context: old message".  Returns -1. */
int kata_error_wrap (kata_error_t **err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void kata_error_free (kata_error_t *err);
static inline void
kata_error_cleanup (kata_error_t **e)
{
  kata_error_free (*e);
  *e = NULL;
}
#define cleanup_error __attribute__ ((cleanup (kata_error_cleanup)))

#endif
