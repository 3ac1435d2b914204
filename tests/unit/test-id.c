/* kata_validate_id: runc's rules. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <stdlib.h>
#include "runtime/runtime.h"
#include "common/error.h"

static void
test_valid_ids (void **state)
{
  static const char *ok[] = { "a", "abc", "A-b_c.d+e", "0123456789", "...", "a..b", ".a", "x-", NULL };
  size_t i;
  (void) state;
  for (i = 0; ok[i]; i++)
    {
      kata_error_t *err = NULL;
      assert_int_equal (kata_validate_id (ok[i], &err), 0);
      assert_null (err);
    }
}

static void
test_invalid_ids (void **state)
{
  static const char *bad[] = { "", ".", "..", "a/b", "/", "../x", "a b", "a:b", "é", "a\nb", "a*", "x$", NULL };
  size_t i;
  (void) state;
  for (i = 0; bad[i]; i++)
    {
      kata_error_t *err = NULL;
      assert_int_equal (kata_validate_id (bad[i], &err), -1);
      assert_non_null (err);
      assert_int_equal (err->status, KATA_EBADID);
      assert_non_null (strstr (err->msg, "invalid id format"));
      kata_error_free (err);
    }
  {
    kata_error_t *err = NULL;
    assert_int_equal (kata_validate_id (NULL, &err), -1);
    kata_error_free (err);
  }
}

static void
test_length (void **state)
{
  char *id = malloc (1026);
  kata_error_t *err = NULL;
  (void) state;
  memset (id, 'a', 1025);
  id[1024] = '\0';
  assert_int_equal (kata_validate_id (id, &err), 0);
  id[1024] = 'a';
  id[1025] = '\0';
  assert_int_equal (kata_validate_id (id, &err), -1);
  assert_int_equal (err->status, KATA_EBADID);
  kata_error_free (err);
  free (id);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_valid_ids),
    cmocka_unit_test (test_invalid_ids),
    cmocka_unit_test (test_length),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
