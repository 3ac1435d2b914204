/* kata-agent: cgroup v2 value conversions. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include "agent/agent.h"

static void
test_cpu_max (void **state)
{
  char *s;
  (void)state;
  s = agent_cgroup_cpu_max (50000, true, 100000, true);
  assert_string_equal (s, "50000 100000");
  free (s);
  s = agent_cgroup_cpu_max (-1, true, 0, false);
  assert_string_equal (s, "max 100000");
  free (s);
  s = agent_cgroup_cpu_max (0, false, 20000, true);
  assert_string_equal (s, "max 20000");
  free (s);
}

static void
test_weight (void **state)
{
  (void)state;
  assert_int_equal (agent_cgroup_shares_to_weight (0), 0);
  assert_int_equal (agent_cgroup_shares_to_weight (2), 1);
  assert_int_equal (agent_cgroup_shares_to_weight (1024), 39);
  assert_int_equal (agent_cgroup_shares_to_weight (262144), 10000);
  assert_int_equal (agent_cgroup_shares_to_weight (1u << 30), 10000);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cpu_max),
    cmocka_unit_test (test_weight),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
