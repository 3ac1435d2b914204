/* Errors (src/common/error.c): made with errno, wrapped with context. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "common/error.h"

static void
test_error_wrap (void **state)
{
  kata_error_t *err = NULL;
  assert_int_equal (kata_make_error (&err, ENOENT, "open `%s`", "/x"), -1);
  assert_string_equal (err->msg, "open `/x`: No such file or directory");
  kata_error_wrap (&err, "create %s", "c1");
  assert_string_equal (err->msg, "create c1: open `/x`: No such file or directory");
  assert_int_equal (err->status, ENOENT);
  kata_error_cleanup (&err);
  assert_null (err);
  assert_int_equal (kata_make_error_nostr (&err, KATA_ENOTFOUND, "container does not exist"), -1);
  assert_string_equal (err->msg, "container does not exist");
  kata_error_cleanup (&err);
}

/* No error to fill, or none to wrap: still -1, nothing allocated. */
static void
test_error_null (void **state)
{
  kata_error_t *err = NULL;
  assert_int_equal (kata_make_error (NULL, EINVAL, "x"), -1);
  assert_int_equal (kata_make_error_nostr (NULL, KATA_EBADID, "x"), -1);
  assert_int_equal (kata_error_wrap (NULL, "ctx"), -1);
  assert_int_equal (kata_error_wrap (&err, "ctx"), -1);
  assert_null (err);
  kata_error_free (NULL);
}

/* A KATA_E* code is not an errno: no strerror suffix. */
static void
test_error_codes (void **state)
{
  kata_error_t *err = NULL;
  assert_int_equal (kata_make_error (&err, KATA_EVMDEAD, "sandbox %s is not running", "s1"), -1);
  assert_string_equal (err->msg, "sandbox s1 is not running");
  assert_int_equal (err->status, KATA_EVMDEAD);
  kata_error_wrap (&err, "kill");
  kata_error_wrap (&err, "delete %s", "c1");
  assert_string_equal (err->msg, "delete c1: kill: sandbox s1 is not running");
  assert_int_equal (err->status, KATA_EVMDEAD);
  kata_error_cleanup (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_error_wrap),
    cmocka_unit_test (test_error_null),
    cmocka_unit_test (test_error_codes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
