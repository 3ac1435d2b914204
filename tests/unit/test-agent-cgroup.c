/* kata-agent: cgroup v2 value conversions. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
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

/* Runs the device program on one request, as the kernel would: an interpreter for the
   instructions the generator emits (anything else fails the test). */
static int
run_prog (const struct bpf_insn *p, size_t len, int type, unsigned access, unsigned maj, unsigned min)
{
  uint32_t ctx[3] = { (access << 16) | (unsigned)type, maj, min };
  uint64_t r[11] = { 0 };
  size_t pc = 0, steps = 0;
  while (pc < len && steps++ < 100000)
    {
      const struct bpf_insn *i = &p[pc];
      uint64_t src = BPF_SRC (i->code) == BPF_X ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
      switch (i->code)
        {
        case BPF_LDX | BPF_MEM | BPF_W:
          assert_int_equal (i->src_reg, 1);
          assert_true (i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
          r[i->dst_reg] = ctx[i->off / 4];
          break;
        case BPF_ALU | BPF_AND | BPF_K:
          r[i->dst_reg] = (uint32_t)(r[i->dst_reg] & (uint32_t)i->imm);
          break;
        case BPF_ALU | BPF_RSH | BPF_K:
          r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
          break;
        case BPF_ALU | BPF_MOV | BPF_X:
          r[i->dst_reg] = (uint32_t)r[i->src_reg];
          break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
          r[i->dst_reg] = (uint64_t)(int64_t)i->imm;
          break;
        case BPF_JMP | BPF_JNE | BPF_K:
        case BPF_JMP | BPF_JNE | BPF_X:
          if (r[i->dst_reg] != src)
            pc += i->off;
          break;
        case BPF_JMP | BPF_JEQ | BPF_K:
          if (r[i->dst_reg] == src)
            pc += i->off;
          break;
        case BPF_JMP | BPF_EXIT:
          return (int)r[0];
        default:
          fail_msg ("unexpected opcode %#x at %zu", i->code, pc);
        }
      pc++;
    }
  fail_msg ("the program ran off its end");
  return -1;
}

/* The kernel's verifier refuses unreachable instructions and jumps out of the program. */
static void
assert_all_reachable (const struct bpf_insn *p, size_t len)
{
  char *seen = calloc (len, 1);
  size_t *stack = calloc (2 * len + 1, sizeof (size_t)), sp = 0, i;
  stack[sp++] = 0;
  while (sp)
    {
      size_t pc = stack[--sp];
      assert_true (pc < len);
      if (seen[pc])
        continue;
      seen[pc] = 1;
      if (p[pc].code == (BPF_JMP | BPF_EXIT))
        continue;
      if (BPF_CLASS (p[pc].code) == BPF_JMP)
        {
          assert_true ((long)pc + 1 + p[pc].off < (long)len);
          stack[sp++] = pc + 1 + p[pc].off;
        }
      stack[sp++] = pc + 1;
    }
  for (i = 0; i < len; i++)
    if (!seen[i])
      fail_msg ("instruction %zu is unreachable", i);
  free (seen);
  free (stack);
}

#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD
#define CHR BPF_DEVCG_DEV_CHAR
#define BLK BPF_DEVCG_DEV_BLOCK

static int
check (runtime_spec_schema_defs_linux_device_cgroup **spec, size_t n, int type, unsigned acc, unsigned maj,
       unsigned min)
{
  agent_devcg_rule_t *rules = NULL;
  struct bpf_insn *p;
  size_t nr = 0, len = 0;
  int v;
  assert_int_equal (agent_devcg_rules (spec, n, &rules, &nr, NULL), 0);
  p = agent_devcg_program (rules, nr, &len);
  assert_true (len > 8);
  assert_all_reachable (p, len);
  v = run_prog (p, len, type, acc, maj, min);
  free (p);
  free (rules);
  return v;
}

static runtime_spec_schema_defs_linux_device_cgroup *
rule (bool allow, const char *type, int64_t maj, int64_t min, const char *access)
{
  runtime_spec_schema_defs_linux_device_cgroup *r = calloc (1, sizeof *r);
  r->allow = allow;
  r->allow_present = true;
  r->type = type ? strdup (type) : NULL;
  if (maj != -2)
    {
      r->major = maj;
      r->major_present = true;
    }
  if (min != -2)
    {
      r->minor = min;
      r->minor_present = true;
    }
  r->access = access ? strdup (access) : NULL;
  return r;
}

static void
free_rules (runtime_spec_schema_defs_linux_device_cgroup **r, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    free_runtime_spec_schema_defs_linux_device_cgroup (r[i]);
}

static void
test_devcg_default_spec (void **state)
{
  /* runc spec / docker: deny all, then what the spec allows; runc's defaults after */
  runtime_spec_schema_defs_linux_device_cgroup *s[2];
  (void)state;
  s[0] = rule (false, NULL, -2, -2, "rwm");
  s[1] = rule (true, "b", 254, 16, "rwm");
  /* the default list: /dev/null, tty, ptmx, /dev/pts/N, mknod of anything */
  assert_int_equal (check (s, 2, CHR, R | W, 1, 3), 1);
  assert_int_equal (check (s, 2, CHR, R | W, 5, 0), 1);
  assert_int_equal (check (s, 2, CHR, R | W, 5, 2), 1);
  assert_int_equal (check (s, 2, CHR, R | W, 136, 7), 1);
  assert_int_equal (check (s, 2, CHR, M, 1, 11), 1);
  assert_int_equal (check (s, 2, BLK, M, 8, 666), 1);
  /* /dev/kmsg (1:11) and /dev/mem (1:1) are not */
  assert_int_equal (check (s, 2, CHR, W, 1, 11), 0);
  assert_int_equal (check (s, 2, CHR, R, 1, 1), 0);
  /* the allowed disk; another disk and the same numbers as a char device are not */
  assert_int_equal (check (s, 2, BLK, R | W, 254, 16), 1);
  assert_int_equal (check (s, 2, BLK, R, 254, 0), 0);
  assert_int_equal (check (s, 2, CHR, R, 254, 16), 0);
  /* no rule in the spec: the default list alone */
  assert_int_equal (check (NULL, 0, CHR, R | W, 1, 5), 1);
  assert_int_equal (check (NULL, 0, BLK, R, 254, 16), 0);
  free_rules (s, 2);
}

/* The rules of SPEC as a program (malloc'd), its length in *LEN. */
static struct bpf_insn *
program_of (runtime_spec_schema_defs_linux_device_cgroup **spec, size_t n, size_t *len)
{
  agent_devcg_rule_t *rules = NULL;
  size_t nr = 0;
  struct bpf_insn *p;
  assert_int_equal (agent_devcg_rules (spec, n, &rules, &nr, NULL), 0);
  p = agent_devcg_program (rules, nr, len);
  free (rules);
  return p;
}

static void
test_devcg_shadowed_rules (void **state)
{
  /* docker's and CRI's spec: deny all, then runc's default list again, which the agent
     appends anyway: the same program as an empty spec's (one verifier pass, one cached
     program for runc's, docker's and CRI's containers) */
  runtime_spec_schema_defs_linux_device_cgroup *s[13];
  struct bpf_insn *p0, *p1;
  size_t l0 = 0, l1 = 0, n = 0;
  (void)state;
  s[n++] = rule (false, "a", -2, -2, "rwm");
  s[n++] = rule (true, "c", -1, -1, "m");
  s[n++] = rule (true, "b", -1, -1, "m");
  s[n++] = rule (true, "c", 1, 3, "rwm");
  s[n++] = rule (true, "c", 1, 8, "rwm");
  s[n++] = rule (true, "c", 1, 7, "rwm");
  s[n++] = rule (true, "c", 5, 0, "rwm");
  s[n++] = rule (true, "c", 1, 5, "rwm");
  s[n++] = rule (true, "c", 1, 9, "rwm");
  s[n++] = rule (true, "c", 136, -1, "rwm");
  s[n++] = rule (true, "c", 5, 2, "rwm");
  s[n++] = rule (true, "c", 10, 200, "rwm");
  p0 = program_of (NULL, 0, &l0);
  p1 = program_of (s, n, &l1);
  assert_int_equal (l0, l1);
  assert_memory_equal (p0, p1, l0 * sizeof *p0);
  free (p1);
  /* runc spec's lone deny-all as well */
  p1 = program_of (s, 1, &l1);
  assert_int_equal (l0, l1);
  assert_memory_equal (p0, p1, l0 * sizeof *p0);
  free (p1);
  free (p0);
  assert_int_equal (check (s, n, CHR, R | W, 1, 3), 1);
  assert_int_equal (check (s, n, CHR, R, 1, 1), 0);
  free_rules (s, n);

  /* a shadowed rule goes, the order of the others stays: deny 1:11 w, allow all of 1:11,
     deny 1:11 w again: the last deny decides, as without the first */
  s[0] = rule (false, "c", 1, 11, "w");
  s[1] = rule (true, "c", 1, 11, "rwm");
  s[2] = rule (false, "c", 1, 11, "w");
  assert_int_equal (check (s, 3, CHR, W, 1, 11), 0);
  assert_int_equal (check (s, 3, CHR, R, 1, 11), 1);
  assert_int_equal (check (s, 2, CHR, W, 1, 11), 1);
  free_rules (s, 3);
}

static void
test_devcg_order_and_access (void **state)
{
  runtime_spec_schema_defs_linux_device_cgroup *s[3];
  (void)state;
  /* privileged: allow all; a later deny of one device for writes */
  s[0] = rule (true, "a", -1, -1, "rwm");
  s[1] = rule (false, "c", 1, 11, "w");
  s[2] = rule (true, "c", 4, -1, "r");
  assert_int_equal (check (s, 1, BLK, R | W, 8, 0), 1);
  assert_int_equal (check (s, 2, CHR, R, 1, 11), 1);
  assert_int_equal (check (s, 2, CHR, W, 1, 11), 0);
  /* a deny that names any of the accesses asked for denies (O_RDWR) */
  assert_int_equal (check (s, 2, CHR, R | W, 1, 11), 0);
  free_rules (s, 3);
  /* deny all; an allow of reads only (any minor) does not grant writes */
  s[0] = rule (false, "a", -2, -2, "rwm");
  s[1] = rule (true, "c", 4, -1, "r");
  s[2] = rule (false, "c", 4, 1, "rwm"); /* the last rule wins over the one before */
  assert_int_equal (check (s, 2, CHR, R, 4, 5), 1);
  assert_int_equal (check (s, 2, CHR, R | W, 4, 5), 0);
  assert_int_equal (check (s, 3, CHR, R, 4, 1), 0);
  assert_int_equal (check (s, 3, CHR, R, 4, 2), 1);
  free_rules (s, 3);
}

static void
test_devcg_bad_rules (void **state)
{
  runtime_spec_schema_defs_linux_device_cgroup *s[1];
  agent_devcg_rule_t *rules = NULL;
  size_t n = 0;
  kata_error_t *err = NULL;
  unsigned acc = 0;
  (void)state;
  s[0] = rule (true, "x", 1, 1, "rwm");
  assert_int_equal (agent_devcg_rules (s, 1, &rules, &n, &err), -1);
  assert_non_null (strstr (err->msg, "invalid type"));
  kata_error_free (err);
  err = NULL;
  free_rules (s, 1);
  s[0] = rule (true, "c", 1, 1, "rwx");
  assert_int_equal (agent_devcg_rules (s, 1, &rules, &n, &err), -1);
  assert_non_null (strstr (err->msg, "invalid access"));
  kata_error_free (err);
  free_rules (s, 1);
  assert_int_equal (agent_devcg_access (NULL, &acc), 0);
  assert_int_equal (acc, R | W | M);
  assert_int_equal (agent_devcg_access ("m", &acc), 0);
  assert_int_equal (acc, M);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cpu_max),
    cmocka_unit_test (test_weight),
    cmocka_unit_test (test_devcg_default_spec),
    cmocka_unit_test (test_devcg_shadowed_rules),
    cmocka_unit_test (test_devcg_order_and_access),
    cmocka_unit_test (test_devcg_bad_rules),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
