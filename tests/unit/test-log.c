/* runc-compatible logging (src/runtime/log.c): the JSON and logrus text lines in --log,
   debug lines only with --debug, warnings on stderr without a log file, errors once. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/log.h"

static char dir[] = "/tmp/kata-log-XXXXXX";

static char *
log_file (const char *name)
{
  return xasprintf ("%s/%s", dir, name);
}

static char *
slurp (const char *path)
{
  char *data = NULL;
  size_t len = 0;
  if (kata_read_file (path, &data, &len, 0, NULL) < 0)
    return xstrdup ("");
  return data;
}

static void
assert_prefix (const char *s, const char *prefix)
{
  if (strncmp (s, prefix, strlen (prefix)) != 0)
    fail_msg ("got:\n%s\nwanted it to start with:\n%s", s, prefix);
}

/* Runs FN with stderr sent to a file; returns what it wrote. */
static char *
capture_stderr (void (*fn) (void))
{
  cleanup_free char *path = log_file ("stderr");
  int saved = dup (STDERR_FILENO);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true (saved >= 0 && fd >= 0);
  fflush (stderr);
  dup2 (fd, STDERR_FILENO);
  close (fd);
  fn ();
  fflush (stderr);
  dup2 (saved, STDERR_FILENO);
  close (saved);
  return slurp (path);
}

static void
test_json_lines (void **state)
{
  cleanup_free char *path = log_file ("json.log");
  cleanup_free char *data = NULL;
  char *nl;
  kata_log_init (path, "json", false);
  assert_string_equal (kata_log_format (), "json");
  assert_string_equal (kata_log_path (), path);
  assert_false (kata_log_debug_enabled ());
  kata_log (KATA_LOG_ERROR, "container %s: \"%s\"\n", "c1", "boom");
  kata_log (KATA_LOG_DEBUG, "not without --debug");
  kata_log (KATA_LOG_INFO, "info");
  data = slurp (path);
  nl = strchr (data, '\n');
  assert_non_null (nl);
  *nl = '\0';
  {
    cleanup_yajl_val yajl_val v = NULL;
    assert_int_equal (kata_json_parse (data, strlen (data), &v, NULL), 0);
    assert_string_equal (kata_json_str (v, "level"), "error");
    assert_string_equal (kata_json_str (v, "msg"), "container c1: \"boom\"\n");
    assert_non_null (kata_json_str (v, "time"));
    assert_prefix (data, "{\"level\":\"error\",\"msg\":"); /* runc's key order */
  }
  assert_prefix (nl + 1, "{\"level\":\"info\",\"msg\":\"info\",\"time\":\"");
  assert_non_null (strchr (nl + 1, '\n'));
  assert_string_equal (strchr (nl + 1, '\n'), "\n"); /* two lines: no debug line */
}

static void
test_text_lines (void **state)
{
  cleanup_free char *path = log_file ("text.log");
  cleanup_free char *data = NULL;
  char *p;
  kata_log_init (path, NULL, true); /* text is the default */
  assert_string_equal (kata_log_format (), "text");
  assert_true (kata_log_debug_enabled ());
  kata_warn ("disk \"%s\" is %d%% full", "vda", 90);
  kata_debug ("a debug line");
  data = slurp (path);
  /* logrus: time="RFC3339" level=warning msg="quoted \"and\" escaped" */
  assert_prefix (data, "time=\"");
  p = strstr (data, "\" level=warning msg=\"disk \\\"vda\\\" is 90% full\"\n");
  assert_non_null (p);
  p = strstr (p + 1, "\" level=debug msg=\"a debug line\"\n");
  assert_non_null (p);
  assert_string_equal (strchr (p, '\n'), "\n");
}

static void
stage_and_errno (void)
{
  errno = EBUSY;
  kata_log_stage ("qemu-started");
  assert_int_equal (errno, EBUSY); /* logging keeps errno */
}

static void
test_stage_lines (void **state)
{
  cleanup_free char *path = log_file ("stage.log");
  cleanup_free char *data = NULL;
  cleanup_free char *err = NULL;
  cleanup_free char *want = xasprintf (" ms pid=%d\"\n", (int)getpid ());
  kata_log_init (path, "text", false);
  err = capture_stderr (stage_and_errno);
  data = slurp (path);
  assert_string_equal (data, ""); /* no --debug: no stage line */
  kata_log_init (path, "text", true);
  stage_and_errno ();
  free (data);
  data = slurp (path);
  assert_non_null (strstr (data, "level=debug msg=\"stage qemu-started mono="));
  assert_non_null (strstr (data, want));
  assert_string_equal (err, "");
}

static void
warn_without_file (void)
{
  kata_log_init (NULL, "json", true);
  kata_warn ("w %d", 1);
  kata_log (KATA_LOG_ERROR, "not printed: main prints errors");
  kata_debug ("not printed either");
}

static void
error_once (void)
{
  kata_log_error_once ("create c1: no such file");
}

/* Without --log: only warnings reach stderr, with a "warning: " prefix. */
static void
test_no_log_file (void **state)
{
  cleanup_free char *err = capture_stderr (warn_without_file);
  assert_string_equal (err, "warning: w 1\n");
  assert_null (kata_log_path ());
}

/* The final error: once on stderr (bare) and once in the log file. */
static void
test_error_once (void **state)
{
  cleanup_free char *path = log_file ("once.log");
  cleanup_free char *err = NULL;
  cleanup_free char *data = NULL;
  kata_log_init (path, "json", false);
  err = capture_stderr (error_once);
  assert_string_equal (err, "create c1: no such file\n");
  data = slurp (path);
  assert_prefix (data, "{\"level\":\"error\",\"msg\":\"create c1: no such file\",\"time\":\"");
  assert_string_equal (strchr (data, '\n'), "\n");
}

static void
debug_to_stderr (void)
{
  /* main: --debug without --log (the dup of stderr is made while it is the capture file) */
  kata_log_init (NULL, "text", true);
  kata_log_to_stderr ();
  kata_debug ("kata-runtime %s", "list");
  kata_warn ("w %d", 2);
  kata_log_error_once ("container does not exist");
  assert_null (kata_log_path ());
  kata_log_init (NULL, "text", false);
}

/* --debug without --log: runc's logrus lines on stderr, the error once as one of them. */
static void
test_debug_to_stderr (void **state)
{
  cleanup_free char *err = capture_stderr (debug_to_stderr);
  char *l2, *l3;
  assert_prefix (err, "time=\"");
  assert_non_null (strstr (err, "\" level=debug msg=\"kata-runtime list\"\n"));
  l2 = strchr (err, '\n') + 1;
  assert_prefix (l2, "time=\"");
  assert_non_null (strstr (l2, "\" level=warning msg=\"w 2\"\n"));
  l3 = strchr (l2, '\n') + 1;
  assert_prefix (l3, "time=\"");
  assert_non_null (strstr (l3, "\" level=error msg=\"container does not exist\"\n"));
  assert_string_equal (strchr (l3, '\n'), "\n");
}

static int
setup (void **state)
{
  assert_non_null (mkdtemp (dir));
  return 0;
}

static int
teardown (void **state)
{
  kata_log_init (NULL, NULL, false);
  kata_rm_rf (dir, NULL);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_json_lines),  cmocka_unit_test (test_text_lines),
    cmocka_unit_test (test_stage_lines), cmocka_unit_test (test_no_log_file),
    cmocka_unit_test (test_error_once),  cmocka_unit_test (test_debug_to_stderr),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
