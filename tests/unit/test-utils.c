/* Utilities (src/common/utils.c): files and directories, process identity. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/error.h"
#include "common/utils.h"

static void
test_utils_files (void **state)
{
  char dir[] = "/tmp/kata-utils-XXXXXX";
  kata_error_t *err = NULL;
  cleanup_free char *sub = NULL, *file = NULL, *data = NULL;
  size_t len = 0;
  assert_non_null (mkdtemp (dir));
  sub = xasprintf ("%s/a/b/c", dir);
  assert_int_equal (kata_mkdir_p (sub, 0700, &err), 0);
  file = xasprintf ("%s/state.json", sub);
  assert_int_equal (kata_write_file_atomic (file, "{\"v\":1}", 7, 0600, &err), 0);
  assert_int_equal (kata_read_file (file, &data, &len, 0, &err), 0);
  assert_int_equal (len, 7);
  assert_string_equal (data, "{\"v\":1}");
  assert_int_equal (kata_rm_rf (dir, &err), 0);
  assert_int_equal (access (dir, F_OK), -1);
  assert_int_equal (kata_read_file (file, &data, &len, 0, &err), -1);
  assert_int_equal (err->status, ENOENT);
  kata_error_cleanup (&err);
}

static void
test_proc_start_time (void **state)
{
  unsigned long long st = kata_proc_start_time (getpid ());
  assert_true (st > 0);
  assert_true (kata_proc_alive (getpid (), st));
  assert_false (kata_proc_alive (getpid (), st + 1)); /* a reused pid is not ours */
  assert_false (kata_proc_alive (0, 0));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_utils_files),
    cmocka_unit_test (test_proc_start_time),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
