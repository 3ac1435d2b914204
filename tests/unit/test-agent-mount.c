/* kata-agent: mount option parsing and path resolution inside a root. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "agent/agent.h"
#include "common/utils.h"

static void
test_options (void **state)
{
  char *opts[] = { "nosuid", "noexec", "ro", "mode=755", "size=65536k", "rprivate", "strictatime" };
  agent_mount_opts_t o;
  (void)state;
  agent_parse_mount_options (opts, 7, &o);
  assert_int_equal (o.flags, MS_NOSUID | MS_NOEXEC | MS_RDONLY | MS_STRICTATIME);
  assert_int_equal (o.propagation, MS_PRIVATE | MS_REC);
  assert_string_equal (o.data, "mode=755,size=65536k");
  assert_false (o.bind);
  agent_mount_opts_free (&o);
}

static void
test_options_clear_and_bind (void **state)
{
  char *opts[] = { "ro", "rw", "rbind", "nodev", "dev", "suid" };
  agent_mount_opts_t o;
  (void)state;
  agent_parse_mount_options (opts, 6, &o);
  assert_int_equal (o.flags, MS_BIND | MS_REC);
  assert_true (o.clear & MS_RDONLY);
  assert_true (o.clear & MS_NODEV);
  assert_true (o.clear & MS_NOSUID);
  assert_true (o.bind);
  assert_true (o.rbind);
  assert_null (o.data);
  agent_mount_opts_free (&o);
}

static void
test_propagation (void **state)
{
  (void)state;
  assert_int_equal (agent_propagation_flag ("rslave"), MS_SLAVE | MS_REC);
  assert_int_equal (agent_propagation_flag ("shared"), MS_SHARED);
  assert_int_equal (agent_propagation_flag ("runbindable"), MS_UNBINDABLE | MS_REC);
  assert_int_equal (agent_propagation_flag ("bogus"), 0);
  assert_int_equal (agent_propagation_flag (NULL), 0);
}

static char root[] = "/tmp/test-agent-mount.XXXXXX";

static void
test_resolve (void **state)
{
  char p[512];
  char *r;
  kata_error_t *err = NULL;
  (void)state;
  assert_non_null (mkdtemp (root));
  snprintf (p, sizeof p, "%s/etc", root);
  mkdir (p, 0755);
  /* an absolute symlink pointing out of the root stays inside it */
  snprintf (p, sizeof p, "%s/etc/evil", root);
  assert_int_equal (symlink ("/etc", p), 0);
  snprintf (p, sizeof p, "%s/up", root);
  assert_int_equal (symlink ("../../../..", p), 0);

  r = agent_resolve_in_root (root, "/etc/evil/passwd", RESOLVE_NOCREATE, &err);
  snprintf (p, sizeof p, "%s/etc/passwd", root);
  assert_string_equal (r, p);
  free (r);

  r = agent_resolve_in_root (root, "/up/etc/shadow", RESOLVE_NOCREATE, &err);
  snprintf (p, sizeof p, "%s/etc/shadow", root);
  assert_string_equal (r, p);
  free (r);

  r = agent_resolve_in_root (root, "../../a/./b/..//c", RESOLVE_NOCREATE, &err);
  snprintf (p, sizeof p, "%s/a/c", root);
  assert_string_equal (r, p);
  free (r);

  r = agent_resolve_in_root (root, "/new/dir/file", RESOLVE_MKFILE, &err);
  assert_non_null (r);
  {
    struct stat st;
    assert_int_equal (stat (r, &st), 0);
    assert_true (S_ISREG (st.st_mode));
    snprintf (p, sizeof p, "%s/new/dir", root);
    assert_int_equal (stat (p, &st), 0);
    assert_true (S_ISDIR (st.st_mode));
  }
  free (r);

  r = agent_resolve_in_root (root, "/", RESOLVE_NOCREATE, &err);
  assert_string_equal (r, root);
  free (r);

  /* a symlink loop fails with ELOOP */
  snprintf (p, sizeof p, "%s/loop", root);
  assert_int_equal (symlink ("loop", p), 0);
  r = agent_resolve_in_root (root, "/loop/x", RESOLVE_NOCREATE, &err);
  assert_null (r);
  assert_non_null (err);
  assert_int_equal (err->status, ELOOP);
  kata_error_free (err);
  {
    cleanup_free char *cmd = xasprintf ("rm -rf '%s'", root);
    assert_int_equal (system (cmd), 0);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_options),
    cmocka_unit_test (test_options_clear_and_bind),
    cmocka_unit_test (test_propagation),
    cmocka_unit_test (test_resolve),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
