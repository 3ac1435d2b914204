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
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* One growable buffer: a string builder and a queue. */
static void
test_buf (void **state)
{
  kata_buf_t b = { 0 };
  cleanup_free char *s = NULL;
  char big[10000];
  char *w;
  assert_null (kata_buf_ptr (&b));
  kata_buf_append (&b, "", 0);
  assert_non_null (kata_buf_ptr (&b));
  assert_string_equal (kata_buf_ptr (&b), "");
  kata_buf_appends (&b, "hello");
  kata_buf_appendc (&b, ' ');
  kata_buf_append (&b, "world!!", 5);
  assert_int_equal (b.len, 11);
  assert_string_equal (kata_buf_ptr (&b), "hello world");
  /* a queue: consumed bytes go, the rest stays NUL-terminated */
  kata_buf_consume (&b, 6);
  assert_int_equal (b.len, 5);
  assert_string_equal (kata_buf_ptr (&b), "world");
  /* growing after a consume keeps the order (compaction) */
  memset (big, 'x', sizeof big);
  kata_buf_append (&b, big, sizeof big);
  assert_int_equal (b.len, 5 + sizeof big);
  assert_memory_equal (kata_buf_ptr (&b), "worldxxx", 8);
  assert_int_equal (kata_buf_ptr (&b)[b.len], '\0');
  /* reserve + commit, as read(2) into the buffer */
  w = kata_buf_reserve (&b, 3);
  memcpy (w, "abcdef", 3);
  kata_buf_commit (&b, 2);
  assert_int_equal (b.len, 5 + sizeof big + 2);
  assert_string_equal (kata_buf_ptr (&b) + b.len - 3, "xab");
  kata_buf_consume (&b, b.len + 1);
  assert_int_equal (b.len, 0);
  assert_string_equal (kata_buf_ptr (&b), "");
  kata_buf_appends (&b, "tail");
  kata_buf_consume (&b, 1);
  s = kata_buf_steal (&b);
  assert_string_equal (s, "ail");
  assert_null (b.data);
  assert_int_equal (b.len, 0);
  free (s);
  s = kata_buf_steal (&b); /* an empty buffer gives "" */
  assert_string_equal (s, "");
  kata_buf_appends (&b, "x");
  kata_buf_clear (&b);
  assert_null (b.data);
}

static void
test_strv (void **state)
{
  char **v = xmalloc0 (4 * sizeof (char *));
  char **n = xmalloc0 (3 * sizeof (char *));
  v[0] = xstrdup ("a");
  v[1] = xstrdup ("b");
  v[2] = xstrdup ("c");
  assert_int_equal (kata_strv_len (v), 3);
  assert_int_equal (kata_strv_len (NULL), 0);
  kata_strv_free (v);
  kata_strv_free (NULL);
  n[0] = xstrdup ("x"); /* counted: slots may be NULL */
  n[2] = xstrdup ("z");
  kata_strvn_free (n, 3);
  kata_strvn_free (NULL, 2);
  {
    cleanup_strv char **c = xmalloc0 (2 * sizeof (char *));
    c[0] = xstrdup ("freed on scope exit");
  }
}

/* Unix sockets: a path longer than sun_path (108) works, and is not truncated. */
static void
test_unix_long_path (void **state)
{
  char dir[] = "/tmp/kata-sock-XXXXXX";
  kata_error_t *err = NULL;
  cleanup_free char *deep = NULL, *path = NULL, *other = NULL;
  int l, c, a;
  char byte = 0;
  struct stat st;
  assert_non_null (mkdtemp (dir));
  deep = xasprintf ("%s/%0120d", dir, 7);
  assert_int_equal (kata_mkdir_p (deep, 0700, &err), 0);
  path = xasprintf ("%s/s.sock", deep);
  assert_true (strlen (path) > 108);
  l = kata_unix_listen (path, SOCK_CLOEXEC, 4, &err);
  assert_true (l >= 0);
  assert_int_equal (stat (path, &st), 0); /* bound at the full path, not a truncated one */
  assert_true (S_ISSOCK (st.st_mode));
  c = kata_unix_connect (path, SOCK_CLOEXEC, &err);
  assert_true (c >= 0);
  a = accept (l, NULL, NULL);
  assert_true (a >= 0);
  assert_int_equal (write (c, "k", 1), 1);
  assert_int_equal (read (a, &byte, 1), 1);
  assert_int_equal (byte, 'k');
  close (a);
  close (c);
  /* listening again replaces the stale socket */
  close (l);
  l = kata_unix_listen (path, SOCK_CLOEXEC, 4, &err);
  assert_true (l >= 0);
  close (l);
  /* nobody listening: -1, errno and the error say so */
  other = xasprintf ("%s/none.sock", deep);
  assert_int_equal (kata_unix_connect (other, SOCK_CLOEXEC, &err), -1);
  assert_int_equal (errno, ENOENT);
  assert_non_null (err);
  assert_int_equal (err->status, ENOENT);
  assert_non_null (strstr (err->msg, "none.sock"));
  kata_error_free (err);
  err = NULL;
  assert_int_equal (kata_rm_rf (dir, &err), 0);
}

static void
test_pid_file_and_rmdir (void **state)
{
  char dir[] = "/tmp/kata-pidf-XXXXXX";
  kata_error_t *err = NULL;
  cleanup_free char *pf = NULL, *data = NULL, *sub = NULL, *child = NULL;
  assert_non_null (mkdtemp (dir));
  pf = xasprintf ("%s/pid", dir);
  assert_int_equal (kata_write_pid_file (pf, 4321, &err), 0);
  assert_int_equal (kata_read_file (pf, &data, NULL, 0, &err), 0);
  assert_string_equal (data, "4321"); /* no newline, as runc */
  assert_int_equal (kata_write_pid_file (NULL, 1, &err), 0);
  assert_int_equal (kata_write_pid_file ("", 1, &err), 0);
  /* an ordinary directory: gone at once; a missing one is "gone" too */
  sub = xasprintf ("%s/cg", dir);
  assert_int_equal (mkdir (sub, 0700), 0);
  assert_int_equal (kata_cgroup_rmdir (sub, 1), 0);
  assert_int_equal (access (sub, F_OK), -1);
  assert_int_equal (kata_cgroup_rmdir (sub, 0), 0);
  /* not empty: an error other than EBUSY is returned at once */
  child = xasprintf ("%s/cg/child", dir);
  assert_int_equal (kata_mkdir_p (child, 0700, &err), 0);
  assert_int_equal (kata_cgroup_rmdir (sub, 0), -1);
  assert_int_equal (errno, ENOTEMPTY);
  assert_int_equal (kata_rm_rf (dir, &err), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_utils_files),
    cmocka_unit_test (test_proc_start_time),
    cmocka_unit_test (test_buf),
    cmocka_unit_test (test_strv),
    cmocka_unit_test (test_unix_long_path),
    cmocka_unit_test (test_pid_file_and_rmdir),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
