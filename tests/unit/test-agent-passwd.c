/* kata-agent: /etc/passwd and /etc/group parsing (no NSS). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include "agent/agent.h"

static const char passwd[] = "# comment\n"
                             "root:x:0:0:root:/root:/bin/sh\n"
                             "broken line\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "bad:x:notanumber:1::/:\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                             "web:x:1000:1001::/home/web:/bin/sh";
static const char group[] = "root:x:0:\n"
                            "wheel:x:10:root,web\n"
                            "audio:x:29: web \n"
                            "web:x:1001:\n"
                            "nogroup:x:65534:nobody\n";

static void
test_lookup_name (void **state)
{
  uid_t uid = 99;
  gid_t gid = 99;
  char *home = NULL;
  (void)state;
  assert_int_equal (agent_passwd_lookup (passwd, "web", &uid, &gid, &home), 0);
  assert_int_equal (uid, 1000);
  assert_int_equal (gid, 1001);
  assert_string_equal (home, "/home/web");
  free (home);
  assert_int_equal (agent_passwd_lookup (passwd, "nobody", &uid, &gid, NULL), 0);
  assert_int_equal (uid, 65534);
  assert_int_equal (agent_passwd_lookup (passwd, "bad", &uid, &gid, NULL), -1);
  assert_int_equal (agent_passwd_lookup (passwd, "ghost", &uid, &gid, NULL), -1);
  /* a numeric user not in the file is valid */
  assert_int_equal (agent_passwd_lookup (passwd, "4242", &uid, &gid, NULL), 0);
  assert_int_equal (uid, 4242);
  assert_int_equal (agent_passwd_lookup (NULL, "root", &uid, &gid, NULL), -1);
}

static void
test_lookup_uid (void **state)
{
  char *name = NULL, *home = NULL;
  gid_t gid;
  (void)state;
  assert_int_equal (agent_passwd_lookup_uid (passwd, 1, &name, &gid, &home), 0);
  assert_string_equal (name, "daemon");
  assert_int_equal (gid, 1);
  assert_string_equal (home, "/usr/sbin");
  free (name);
  free (home);
  assert_int_equal (agent_passwd_lookup_uid (passwd, 777, &name, &gid, &home), -1);
}

static void
test_groups (void **state)
{
  gid_t *g = NULL, gid;
  size_t n = 0;
  (void)state;
  assert_int_equal (agent_group_members (group, "web", &g, &n), 0);
  assert_int_equal (n, 2);
  assert_int_equal (g[0], 10);
  assert_int_equal (g[1], 29);
  free (g);
  assert_int_equal (agent_group_members (group, "nobody", &g, &n), 0);
  assert_int_equal (n, 1);
  assert_int_equal (g[0], 65534);
  free (g);
  assert_int_equal (agent_group_members (group, "ghost", &g, &n), 0);
  assert_int_equal (n, 0);
  assert_int_equal (agent_group_lookup (group, "wheel", &gid), 0);
  assert_int_equal (gid, 10);
  assert_int_equal (agent_group_lookup (group, "123", &gid), 0);
  assert_int_equal (gid, 123);
  assert_int_equal (agent_group_lookup (group, "ghost", &gid), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_lookup_name),
    cmocka_unit_test (test_lookup_uid),
    cmocka_unit_test (test_groups),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
