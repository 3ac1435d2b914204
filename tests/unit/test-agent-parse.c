/* kata-agent: the parsers that replace sscanf (parse.c), against sscanf itself. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "agent/agent.h"

/* What gen_network did with sscanf before. */
static bool
net_dev_sscanf (const char *line, char name[64], unsigned long long v[12])
{
  char copy[4096], *colon;
  snprintf (copy, sizeof copy, "%s", line);
  if ((colon = strchr (copy, ':')) == NULL)
    return false;
  *colon = '\0';
  return sscanf (copy, " %63s", name) == 1
         && sscanf (colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                    &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11])
                == 12;
}

static void
test_net_dev (void **state)
{
  static const char *lines[] = {
    "    lo:    1234      10    0    0    0     0          0         0     1234      10    0    0    0     0 "
    "      0"
    "          0",
    "  eth0: 98765432 4321 1 2 0 0 0 0 1234567 765 3 4 0 0 0 0",
    "eth0:1 2 3 4 5 6 7 8 9 10 11 12",
    "  eth0: 1 2 3 4 5 6 7 8 9 10 11",    /* 11 counters */
    "  eth0: 1 2 3 4 5 x 7 8 9 10 11 12", /* not a number */
    "  eth0  1 2 3 4 5 6 7 8 9 10 11 12", /* no ':' */
    "    : 1 2 3 4 5 6 7 8 9 10 11 12",   /* no name */
    ": 1 2 3 4 5 6 7 8 9 10 11 12",
    "",
    "  a-very-long-interface-name-that-goes-on-and-on-past-sixty-three-characters-x: 1 2 3 4 5 6 7 8 9 10 11 "
    "12",
    "  eth0: 18446744073709551615 99999999999999999999999 3 4 5 6 7 8 9 10 11 12", /* max, overflow */
    "  eth0: -1 +2 3 4 5 6 7 8 9 10 11 12",
    "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 trailing",
    "  ab cd: 1 2 3 4 5 6 7 8 9 10 11 12", /* the name is the first word */
    "  eth0:1:2 3 4 5 6 7 8 9 10 11 12",   /* ':' is not a blank */
  };
  size_t i, k;
  (void)state;
  for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
    {
      char n1[64] = "", n2[64] = "";
      unsigned long long v1[12] = { 0 }, v2[12] = { 0 };
      bool r1 = agent_parse_net_dev_line (lines[i], n1, v1), r2 = net_dev_sscanf (lines[i], n2, v2);
      print_message ("line %zu: %d %d\n", i, r1, r2);
      assert_int_equal (r1, r2);
      if (!r1)
        continue;
      assert_string_equal (n1, n2);
      for (k = 0; k < 12; k++)
        assert_true (v1[k] == v2[k]);
    }
  {
    char n[64];
    unsigned long long v[12];
    assert_true (
        agent_parse_net_dev_line ("  eth0: 98765432 4321 1 2 0 0 0 0 1234567 765 3 4 0 0 0 0", n, v));
    assert_string_equal (n, "eth0");
    assert_true (v[0] == 98765432ULL && v[8] == 1234567ULL && v[11] == 4);
    assert_true (
        agent_parse_net_dev_line ("  a-very-long-interface-name-that-goes-on-and-on-past-sixty-three-"
                                  "characters-x: 1 2 3 4 5 6 7 8 9 10 11 12",
                                  n, v));
    assert_int_equal (strlen (n), 63);
  }
}

static void
test_proc_stat (void **state)
{
  static const char *tails[] = {
    " S 1 42 42 0 -1 4194560", " R 0", "Z 17", " D", "", "   ", " S x", " S -5", " S 2147483647 1", "\tT\t9",
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof tails / sizeof tails[0]; i++)
    {
      char s1 = '?', s2 = '?';
      int p1 = 0, p2 = 0;
      agent_parse_proc_stat (tails[i], &s1, &p1);
      sscanf (tails[i], " %c %d", &s2, &p2);
      print_message ("tail %zu: '%c' %d / '%c' %d\n", i, s1, p1, s2, p2);
      assert_int_equal (s1, s2);
      assert_int_equal (p1, p2);
    }
}

static void
test_scan_hex (void **state)
{
  static const char *macs[] = {
    "02:42:ac:11:00:02",    "02:42:AC:11:00:02",   "2:4:a:1:0:2",        "02:42:ac:11:00",
    "02:42:ac:11:00:02:ff", "02-42-ac-11-00-02",   "02:42:zz:11:00:02",  "",
    ":42:ac:11:00:02",      " 02: 42:ac:11:00:02", "02 :42:ac:11:00:02", "0x02:0x42:ac:11:00:02",
    "1ff:42:ac:11:00:02",   "-1:0:0:0:0:0",
  };
  static const char *blk[]
      = { "02/00", "2/0", "1f/a", "02", "02/", "/00", "02:00", "zz/00", "02/00/01", "123456789/1" };
  static const char *bdf[] = { "0000:00:02.0",
                               "0000:01:00.0",
                               "0000:01:1f.7",
                               "0000:01:00",
                               "0000:01.00.0",
                               "virtio2",
                               ".",
                               "..",
                               "0000:01:00.0:extra",
                               "" };
  size_t i, k;
  (void)state;
  for (i = 0; i < sizeof macs / sizeof macs[0]; i++)
    {
      unsigned a[6] = { 0 }, b[6] = { 0 };
      bool r1 = agent_scan_hex (macs[i], ":::::", a);
      bool r2 = sscanf (macs[i], "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) == 6;
      print_message ("mac '%s': %d %d\n", macs[i], r1, r2);
      assert_int_equal (r1, r2);
      for (k = 0; r1 && k < 6; k++)
        assert_int_equal (a[k], b[k]);
    }
  for (i = 0; i < sizeof blk / sizeof blk[0]; i++)
    {
      unsigned a[2] = { 0 }, b[2] = { 0 };
      bool r1 = agent_scan_hex (blk[i], "/", a), r2 = sscanf (blk[i], "%x/%x", &b[0], &b[1]) == 2;
      print_message ("blk '%s': %d %d\n", blk[i], r1, r2);
      assert_int_equal (r1, r2);
      for (k = 0; r1 && k < 2; k++)
        assert_int_equal (a[k], b[k]);
    }
  for (i = 0; i < sizeof bdf / sizeof bdf[0]; i++)
    {
      unsigned a[4] = { 0 }, b[4] = { 0 };
      bool r1 = agent_scan_hex (bdf[i], "::.", a);
      bool r2 = sscanf (bdf[i], "%x:%x:%x.%x", &b[0], &b[1], &b[2], &b[3]) == 4;
      print_message ("bdf '%s': %d %d\n", bdf[i], r1, r2);
      assert_int_equal (r1, r2);
      for (k = 0; r1 && k < 4; k++)
        assert_int_equal (a[k], b[k]);
    }
  {
    unsigned v[4];
    assert_true (agent_scan_hex ("0000:01:1f.7", "::.", v));
    assert_true (v[0] == 0 && v[1] == 1 && v[2] == 0x1f && v[3] == 7);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_net_dev),
    cmocka_unit_test (test_proc_stat),
    cmocka_unit_test (test_scan_hex),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
