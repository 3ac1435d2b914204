/* kata-agent: capability names and masks. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/capability.h>
#include "agent/agent.h"

static void
test_names (void **state)
{
  (void)state;
  assert_int_equal (agent_cap_from_name ("CAP_CHOWN"), CAP_CHOWN);
  assert_int_equal (agent_cap_from_name ("CAP_KILL"), CAP_KILL);
  assert_int_equal (agent_cap_from_name ("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  assert_int_equal (agent_cap_from_name ("cap_net_raw"), CAP_NET_RAW);
  assert_int_equal (agent_cap_from_name ("CAP_CHECKPOINT_RESTORE"), 40);
  assert_int_equal (agent_cap_from_name ("CHOWN"), -1);
  assert_int_equal (agent_cap_from_name ("CAP_NOPE"), -1);
  assert_int_equal (agent_cap_from_name (NULL), -1);
}

static void
test_mask (void **state)
{
  char *caps[] = { "CAP_CHOWN", "CAP_KILL", "CAP_UNKNOWN_FUTURE" };
  char *dflt[] = { "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
                   "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
                   "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
                   "CAP_KILL",    "CAP_AUDIT_WRITE" };
  uint64_t m;
  (void)state;
  assert_int_equal (agent_caps_mask (caps, 3, &m, NULL), 0);
  assert_int_equal (m, 0x21);
  /* docker's default set: CapEff 00000000a80425fb */
  assert_int_equal (agent_caps_mask (dflt, 14, &m, NULL), 0);
  assert_int_equal (m, 0xa80425fbull);
  assert_int_equal (agent_caps_mask (NULL, 0, &m, NULL), 0);
  assert_int_equal (m, 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_names),
    cmocka_unit_test (test_mask),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
