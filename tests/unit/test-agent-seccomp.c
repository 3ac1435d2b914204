/* kata-agent: translation of linux.seccomp into libseccomp rules. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include "agent/agent.h"

static runtime_spec_schema_config_linux_seccomp *
parse (const char *json)
{
  struct parser_context ctx = { 0 };
  parser_error e = NULL;
  runtime_spec_schema_config_linux_seccomp *s
      = runtime_spec_schema_config_linux_seccomp_parse_data (json, &ctx, &e);
  if (s == NULL)
    fail_msg ("parse: %s", e);
  return s;
}

static void
test_basic (void **state)
{
  runtime_spec_schema_config_linux_seccomp *s = parse (
      "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
      "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_NOPE\"],"
      "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
      "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
      "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
      "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38},"
      "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":8,"
      "\"op\":\"SCMP_CMP_EQ\"}]}]}");
  agent_sc_filter_t f;
  kata_error_t *err = NULL;
  (void)state;
  assert_int_equal (agent_seccomp_translate (s, &f, &err), 0);
  assert_int_equal (f.default_action, SCMP_ACT_ERRNO (38));
  assert_int_equal (f.arches_len, 2);
  assert_int_equal (f.arches[0], SCMP_ARCH_X86_64);
  assert_true (f.flag_log);
  /* kill is skipped: same as the default action */
  assert_int_equal (f.rules_len, 4);
  assert_string_equal (f.rules[0].name, "read");
  assert_int_equal (f.rules[0].action, SCMP_ACT_ALLOW);
  assert_string_equal (f.rules[2].name, "mkdir");
  assert_int_equal (f.rules[2].action, SCMP_ACT_ERRNO (1));
  assert_string_equal (f.rules[3].name, "personality");
  assert_int_equal (f.rules[3].nargs, 1);
  assert_int_equal (f.rules[3].args[0].op, SCMP_CMP_EQ);
  assert_int_equal (f.rules[3].args[0].value, 8);
  agent_seccomp_filter_free (&f);
  free_runtime_spec_schema_config_linux_seccomp (s);
}

static void
test_dup_index (void **state)
{
  /* two conditions on the same argument become two rules, as in runc */
  runtime_spec_schema_config_linux_seccomp *s
      = parse ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"clone\"],"
               "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
               "{\"index\":0,\"value\":2,\"valueTwo\":2,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}");
  agent_sc_filter_t f;
  (void)state;
  assert_int_equal (agent_seccomp_translate (s, &f, NULL), 0);
  assert_int_equal (f.rules_len, 2);
  assert_int_equal (f.rules[0].action, SCMP_ACT_ERRNO (EPERM));
  assert_int_equal (f.rules[0].nargs, 1);
  assert_int_equal (f.rules[1].args[0].op, SCMP_CMP_MASKED_EQ);
  assert_int_equal (f.rules[1].args[0].value_two, 2);
  agent_seccomp_filter_free (&f);
  free_runtime_spec_schema_config_linux_seccomp (s);
}

static void
test_errors (void **state)
{
  const char *bad[] = {
    "{\"defaultAction\":\"SCMP_ACT_BOGUS\"}",
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"NOPE\"]}",
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"x\"],\"action\":\"NOPE\"}]}",
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"x\"],\"action\":\"SCMP_ACT_ERRNO\","
    "\"args\":[{\"index\":7,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"x\"],\"action\":\"SCMP_ACT_ERRNO\","
    "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_WHAT\"}]}]}",
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      runtime_spec_schema_config_linux_seccomp *s = parse (bad[i]);
      agent_sc_filter_t f;
      kata_error_t *err = NULL;
      assert_int_equal (agent_seccomp_translate (s, &f, &err), -1);
      assert_non_null (err);
      assert_int_equal (err->status, EINVAL);
      kata_error_free (err);
      free_runtime_spec_schema_config_linux_seccomp (s);
    }
}

static void
test_actions (void **state)
{
  uint32_t a;
  (void)state;
  assert_int_equal (agent_seccomp_action ("SCMP_ACT_KILL_PROCESS", 0, false, &a), 0);
  assert_int_equal (a, SCMP_ACT_KILL_PROCESS);
  assert_int_equal (agent_seccomp_action ("SCMP_ACT_TRACE", 5, true, &a), 0);
  assert_int_equal (a, SCMP_ACT_TRACE (5));
  assert_int_equal (agent_seccomp_action ("SCMP_ACT_LOG", 0, false, &a), 0);
  assert_int_equal (a, SCMP_ACT_LOG);
  assert_int_equal (agent_seccomp_action ("SCMP_ACT_NOTIFY", 0, false, &a), -1);
  assert_int_equal (agent_seccomp_op ("SCMP_CMP_GE"), SCMP_CMP_GE);
  assert_int_equal (agent_seccomp_op ("GE"), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_basic),
    cmocka_unit_test (test_dup_index),
    cmocka_unit_test (test_errors),
    cmocka_unit_test (test_actions),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
