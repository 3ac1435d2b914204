/* kata-runtime's argument parsing: signals, durations, sizes, id arguments. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include "cmd/kata-runtime/common.h"
#include "common/utils.h"

static int
sig (const char *s)
{
  kata_error_t *err = NULL;
  int n = -1;
  if (kata_parse_signal (s, &n, &err) < 0)
    {
      assert_non_null (err);
      assert_int_equal (err->status, EINVAL);
      kata_error_free (err);
      return -1;
    }
  assert_null (err);
  return n;
}

static void
test_signals (void **state)
{
  assert_int_equal (sig ("KILL"), SIGKILL);
  assert_int_equal (sig ("SIGKILL"), SIGKILL);
  assert_int_equal (sig ("sigkill"), SIGKILL);
  assert_int_equal (sig ("kill"), SIGKILL);
  assert_int_equal (sig ("TERM"), SIGTERM);
  assert_int_equal (sig ("SIGHUP"), SIGHUP);
  assert_int_equal (sig ("USR1"), SIGUSR1);
  assert_int_equal (sig ("SIGWINCH"), SIGWINCH);
  assert_int_equal (sig ("CHLD"), SIGCHLD);
  assert_int_equal (sig ("9"), 9);
  assert_int_equal (sig ("15"), 15);
  assert_int_equal (sig ("64"), 64);
  assert_int_equal (sig ("RTMIN"), SIGRTMIN);
  assert_int_equal (sig ("SIGRTMIN+3"), SIGRTMIN + 3);
  assert_int_equal (sig ("RTMAX-1"), SIGRTMAX - 1);
  assert_int_equal (sig ("RTMAX"), SIGRTMAX);

  assert_int_equal (sig (""), -1);
  assert_int_equal (sig ("0"), 0); /* runc: signal 0 checks that the container exists */
  assert_int_equal (sig ("65"), -1);
  assert_int_equal (sig ("-9"), -1);
  assert_int_equal (sig ("9x"), -1);
  assert_int_equal (sig ("SIG"), -1);
  assert_int_equal (sig ("SIGFOO"), -1);
  assert_int_equal (sig ("RTMIN+99"), -1);
  assert_int_equal (sig ("RTMIN+"), -1);
  assert_int_equal (sig ("RTMINx"), -1);
}

static void
test_signal_message (void **state)
{
  kata_error_t *err = NULL;
  int n;
  assert_int_equal (kata_parse_signal ("SIGFOO", &n, &err), -1);
  assert_string_equal (err->msg, "unknown signal \"SIGFOO\"");
  kata_error_free (err);
  err = NULL;
  assert_int_equal (kata_parse_signal ("100", &n, &err), -1);
  assert_string_equal (err->msg, "invalid signal: 100");
  kata_error_free (err);
}

static long long
dur (const char *s)
{
  kata_error_t *err = NULL;
  uint64_t ns = 0;
  if (kata_parse_duration (s, &ns, &err) < 0)
    {
      assert_non_null (err);
      kata_error_free (err);
      return -1;
    }
  return (long long)ns;
}

static void
test_durations (void **state)
{
  const long long s = 1000000000LL;
  assert_int_equal (dur ("5s"), 5 * s);
  assert_int_equal (dur ("1m"), 60 * s);
  assert_int_equal (dur ("1h"), 3600 * s);
  assert_int_equal (dur ("1m30s"), 90 * s);
  assert_int_equal (dur ("1h2m3s"), 3723 * s);
  assert_int_equal (dur ("250ms"), 250000000LL);
  assert_int_equal (dur ("1.5s"), 1500000000LL);
  assert_int_equal (dur ("10us"), 10000LL);
  assert_int_equal (dur ("7ns"), 7LL);
  assert_int_equal (dur ("0"), 0);
  assert_int_equal (dur ("0s"), 0);
  assert_int_equal (dur ("+2s"), 2 * s);

  assert_int_equal (dur (""), -1);
  assert_int_equal (dur ("5"), -1);
  assert_int_equal (dur ("s"), -1);
  assert_int_equal (dur ("5x"), -1);
  assert_int_equal (dur ("-5s"), -1);
  assert_int_equal (dur ("5s "), -1);
  assert_int_equal (dur ("1d"), -1);
}

static long long
mem (const char *s)
{
  kata_error_t *err = NULL;
  int64_t b = 0;
  if (kata_parse_mem_size (s, &b, &err) < 0)
    {
      assert_non_null (err);
      kata_error_free (err);
      return -1;
    }
  return b;
}

static void
test_mem_sizes (void **state)
{
  assert_int_equal (mem ("1024"), 1024);
  assert_int_equal (mem ("0"), 0);
  assert_int_equal (mem ("10b"), 10);
  assert_int_equal (mem ("1k"), 1024);
  assert_int_equal (mem ("1K"), 1024);
  assert_int_equal (mem ("1kb"), 1024);
  assert_int_equal (mem ("1KiB"), 1024);
  assert_int_equal (mem ("256m"), 256LL << 20);
  assert_int_equal (mem ("256M"), 256LL << 20);
  assert_int_equal (mem ("256MB"), 256LL << 20);
  assert_int_equal (mem ("2g"), 2LL << 30);
  assert_int_equal (mem ("1.5g"), 3LL << 29);
  assert_int_equal (mem ("1t"), 1LL << 40);
  assert_int_equal (mem ("1p"), 1LL << 50);

  assert_int_equal (mem (""), -1);
  assert_int_equal (mem ("m"), -1);
  assert_int_equal (mem ("-1"), -1);
  assert_int_equal (mem ("12q"), -1);
  assert_int_equal (mem ("1mm"), -1);
  assert_int_equal (mem ("1bb"), -1);
  assert_int_equal (mem ("99999999p"), -1);
}

static void
test_parse_int (void **state)
{
  kata_error_t *err = NULL;
  long long v = 0;
  assert_int_equal (kata_parse_int ("cpu-quota", "-1", -1, 100, &v, &err), 0);
  assert_int_equal (v, -1);
  assert_int_equal (kata_parse_int ("cpu-quota", "101", -1, 100, &v, &err), -1);
  assert_string_equal (err->msg, "invalid value \"101\" for flag --cpu-quota");
  kata_error_free (err);
  err = NULL;
  assert_int_equal (kata_parse_int ("x", "", 0, 1, &v, &err), -1);
  kata_error_free (err);
}

static void
test_arg_counts (void **state)
{
  kata_error_t *err = NULL;
  assert_int_equal (kata_cmd_check_args ("state", 1, 1, &err), 0);
  assert_null (err);
  assert_int_equal (kata_cmd_check_args ("state", 0, 1, &err), -1);
  assert_string_equal (err->msg, "kata-runtime: \"state\" requires exactly 1 argument(s)");
  kata_error_free (err);
  err = NULL;
  assert_int_equal (kata_cmd_check_args ("state", 2, 1, &err), -1);
  kata_error_free (err);
  err = NULL;
  assert_int_equal (kata_cmd_check_min_args ("exec", 1, 2, &err), -1);
  assert_string_equal (err->msg, "kata-runtime: \"exec\" requires a minimum of 2 argument(s)");
  kata_error_free (err);
  err = NULL;
  assert_int_equal (kata_cmd_check_min_args ("exec", 3, 2, &err), 0);
}

static int
get_id (int argc, char **argv, const char **id)
{
  kata_error_t *err = NULL;
  if (kata_cmd_get_id ("delete", argc, argv, 1, id, &err) < 0)
    {
      assert_non_null (err);
      kata_error_free (err);
      return -1;
    }
  return 0;
}

static void
test_id_argument (void **state)
{
  char long_id[1026];
  const char *id = NULL;
  char *ok[] = { (char *)"delete", (char *)"abc-DEF_0.9+x", NULL };
  char *none[] = { (char *)"delete", NULL };
  char *two[] = { (char *)"delete", (char *)"a", (char *)"b", NULL };
  const char *bad[] = { "", ".", "..", "a/b", "a..b/", "a b", "a:b", "../x", "é" };
  size_t i;

  assert_int_equal (get_id (2, ok, &id), 0);
  assert_string_equal (id, "abc-DEF_0.9+x");
  assert_int_equal (get_id (1, none, &id), -1);
  assert_int_equal (get_id (3, two, &id), -1);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      char *v[] = { (char *)"delete", (char *)bad[i], NULL };
      assert_int_equal (get_id (2, v, &id), -1);
    }
  memset (long_id, 'a', 1025);
  long_id[1025] = '\0';
  {
    char *v[] = { (char *)"delete", long_id, NULL };
    assert_int_equal (get_id (2, v, &id), -1);
    long_id[1024] = '\0';
    assert_int_equal (get_id (2, v, &id), 0);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_signals),     cmocka_unit_test (test_signal_message),
    cmocka_unit_test (test_durations),   cmocka_unit_test (test_mem_sizes),
    cmocka_unit_test (test_parse_int),   cmocka_unit_test (test_arg_counts),
    cmocka_unit_test (test_id_argument),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
