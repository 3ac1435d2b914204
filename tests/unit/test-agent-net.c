/* kata-agent: agent_if_index (net.c) against glibc's if_nametoindex. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <net/if.h>
#include "agent/agent.h"

static void
test_if_index (void **state)
{
  static const char *names[]
      = { "lo", "nosuch0", "", "lo0", "l", "a-name-of-sixteen" /* >= IFNAMSIZ */, "fifteen-chars-x" };
  size_t i;
  (void)state;
  assert_true (agent_if_index ("lo") > 0);
  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    {
      unsigned a, b;
      int ea, eb;
      errno = 0;
      a = agent_if_index (names[i]);
      ea = errno;
      errno = 0;
      b = if_nametoindex (names[i]);
      eb = errno;
      print_message ("'%s': %u (%d) %u (%d)\n", names[i], a, ea, b, eb);
      assert_int_equal (a, b);
      if (a == 0)
        assert_int_equal (ea, ENODEV);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_if_index),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
