/* The device cgroup in the guest (cgroup v2): linux.resources.devices becomes a
   BPF_PROG_TYPE_CGROUP_DEVICE program attached to the container's cgroup, as runc and crun
   do.  The program is emitted by hand (no libbpf in the static agent).

   Rules: the spec's, then runc's default allow list (runc appends it too: mknod of any
   node, /dev/null, zero, full, random, urandom, tty, ptmx, /dev/pts/N, tun).  The last
   rule that matches a request decides (as in the v1 controller the spec describes, and
   as crun's program does); no rule matching means denied.  An allow rule matches when it
   grants every access asked for; a deny rule matches when it names any of them. */
#include "config.h"
#include "agent/agent.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEV_WILD (-1)

/* runc 1.1's AllowedDevices (libcontainer/specconv), appended after the spec's rules. */
static const agent_devcg_rule_t default_rules[] = {
  { 'c', DEV_WILD, DEV_WILD, BPF_DEVCG_ACC_MKNOD, true },
  { 'b', DEV_WILD, DEV_WILD, BPF_DEVCG_ACC_MKNOD, true },
  { 'c', 1, 3, 7, true },          /* null */
  { 'c', 1, 8, 7, true },          /* random */
  { 'c', 1, 7, 7, true },          /* full */
  { 'c', 5, 0, 7, true },          /* tty */
  { 'c', 1, 5, 7, true },          /* zero */
  { 'c', 1, 9, 7, true },          /* urandom */
  { 'c', 136, DEV_WILD, 7, true }, /* /dev/pts/N */
  { 'c', 5, 2, 7, true },          /* ptmx */
  { 'c', 10, 200, 7, true },       /* net/tun */
};

int
agent_devcg_access (const char *s, unsigned *out)
{
  unsigned acc = 0;
  if (s == NULL || *s == '\0')
    s = "rwm";
  for (; *s; s++)
    switch (*s)
      {
      case 'r':
        acc |= BPF_DEVCG_ACC_READ;
        break;
      case 'w':
        acc |= BPF_DEVCG_ACC_WRITE;
        break;
      case 'm':
        acc |= BPF_DEVCG_ACC_MKNOD;
        break;
      default:
        return -1;
      }
  *out = acc;
  return 0;
}

static bool
same_rule (const agent_devcg_rule_t *a, const agent_devcg_rule_t *b)
{
  return a->type == b->type && a->major == b->major && a->minor == b->minor && a->access == b->access
         && a->allow == b->allow;
}

/* Drops every rule that an identical rule follows: the later one matches the same
   requests and decides them (the last match wins), so the earlier one never decides.
   Docker's and CRI's specs repeat the default list, which comes again at the end: without
   them their program is the one of an empty spec (shorter to verify, and shared in the
   cache of agent_devcg_apply).  Returns the new count. */
static size_t
drop_shadowed (agent_devcg_rule_t *r, size_t n)
{
  size_t i, j, k = 0;
  for (i = 0; i < n; i++)
    {
      bool shadowed = false;
      for (j = i + 1; j < n && !shadowed; j++)
        shadowed = same_rule (&r[i], &r[j]);
      if (!shadowed)
        r[k++] = r[i];
    }
  return k;
}

/* The rules the program enforces: the spec's (converted), then the defaults; rules that
   an identical later rule shadows are left out. */
int
agent_devcg_rules (runtime_spec_schema_defs_linux_device_cgroup **spec, size_t n, agent_devcg_rule_t **out,
                   size_t *len, kata_error_t **err)
{
  size_t i, k = 0, nd = sizeof default_rules / sizeof default_rules[0];
  agent_devcg_rule_t *r = xmalloc0 ((n + nd) * sizeof *r);
  for (i = 0; i < n; i++)
    {
      runtime_spec_schema_defs_linux_device_cgroup *s = spec[i];
      const char *t = s->type && *s->type ? s->type : "a";
      if (strcmp (t, "a") != 0 && strcmp (t, "b") != 0 && strcmp (t, "c") != 0)
        {
          free (r);
          return kata_make_error_nostr (err, EINVAL, "linux.resources.devices[%zu]: invalid type `%s`", i, t);
        }
      r[k].type = t[0];
      r[k].major = s->major_present && s->major >= 0 ? s->major : DEV_WILD;
      r[k].minor = s->minor_present && s->minor >= 0 ? s->minor : DEV_WILD;
      if ((r[k].major != DEV_WILD && r[k].major > 0xfffff)
          || (r[k].minor != DEV_WILD && r[k].minor > 0xfffff))
        {
          free (r);
          return kata_make_error_nostr (err, EINVAL, "linux.resources.devices[%zu]: invalid device number",
                                        i);
        }
      if (agent_devcg_access (s->access, &r[k].access) < 0)
        {
          free (r);
          return kata_make_error_nostr (err, EINVAL, "linux.resources.devices[%zu]: invalid access `%s`", i,
                                        s->access);
        }
      r[k].allow = s->allow;
      k++;
    }
  memcpy (r + k, default_rules, sizeof default_rules);
  *len = drop_shadowed (r, k + nd);
  *out = r;
  return 0;
}

static struct bpf_insn
insn (uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  struct bpf_insn i;
  memset (&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}

/* Instructions that test one rule; the block ends by returning the rule's verdict, and
   its tests jump past that end when the rule does not match. */
static size_t
rule_block (const agent_devcg_rule_t *r, struct bpf_insn *b)
{
  size_t n = 0;
  bool check_access = r->access != 7; /* rwm: any request matches */
  size_t tests = (r->type != 'a') + (r->major != DEV_WILD) + (r->minor != DEV_WILD) + (check_access ? 3 : 0);
  size_t total = tests + 2;
  /* each conditional jump skips to the instruction after the block's exit */
#define SKIP ((int16_t)(total - n - 1))
  if (r->type != 'a')
    {
      b[n] = insn (BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                   r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
      b[n].off = SKIP;
      n++;
    }
  if (r->major != DEV_WILD)
    {
      b[n] = insn (BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)r->major);
      b[n].off = SKIP;
      n++;
    }
  if (r->minor != DEV_WILD)
    {
      b[n] = insn (BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t)r->minor);
      b[n].off = SKIP;
      n++;
    }
  if (check_access)
    {
      /* w1 = asked & granted */
      b[n++] = insn (BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
      b[n++] = insn (BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)r->access);
      if (r->allow) /* all asked for must be granted */
        b[n] = insn (BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
      else /* any of them named denies */
        b[n] = insn (BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, 0, 0);
      b[n].off = SKIP;
      n++;
    }
#undef SKIP
  b[n++] = insn (BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0);
  b[n++] = insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return n;
}

struct bpf_insn *
agent_devcg_program (const agent_devcg_rule_t *rules, size_t n, size_t *len)
{
  /* 6 to load the context, at most 8 per rule, 2 to deny at the end */
  struct bpf_insn *p = xmalloc0 ((6 + 8 * n + 2) * sizeof *p);
  size_t k = 0, i;
  /* r2 = type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx) */
  p[k++] = insn (BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
  p[k++] = insn (BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  p[k++] = insn (BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0);
  p[k++] = insn (BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
  p[k++] = insn (BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
  p[k++] = insn (BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
  for (i = n; i > 0; i--) /* the last rule first: it wins */
    {
      const agent_devcg_rule_t *r = &rules[i - 1];
      k += rule_block (r, p + k);
      /* a rule for every device and access decides alone: what follows is unreachable
         (and the verifier refuses unreachable instructions) */
      if (r->type == 'a' && r->major == DEV_WILD && r->minor == DEV_WILD && r->access == 7)
        {
          *len = k;
          return p;
        }
    }
  p[k++] = insn (BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
  p[k++] = insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  *len = k;
  return p;
}

static int
sys_bpf (int cmd, union bpf_attr *attr)
{
  return (int)syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

/* Loaded programs by their instructions.  The pod's containers mostly have the same
   rules, and so the same program: it is verified once per VM (a verifier pass costs tens
   of ms under TCG, docs/benchmarks.md), and a template's or a cached VM's agent loads
   the default one before it says ready (agent_devcg_preload).  The cache holds the fds. */
#define DEVCG_CACHE 8
static struct
{
  struct bpf_insn *insns;
  size_t len;
  int fd;
} prog_cache[DEVCG_CACHE];
static size_t prog_cache_next;

/* The fd of the loaded program PROG (owned by the cache), or -1 with ERR. */
static int
load_program (const struct bpf_insn *prog, size_t len, size_t nrules, kata_error_t **err)
{
  static char log[8192];
  union bpf_attr attr;
  size_t i, slot;
  int pfd;

  for (i = 0; i < DEVCG_CACHE; i++)
    if (prog_cache[i].insns && prog_cache[i].len == len
        && memcmp (prog_cache[i].insns, prog, len * sizeof *prog) == 0)
      return prog_cache[i].fd;
  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)prog;
  attr.insn_cnt = (uint32_t)len;
  attr.license = (uint64_t)(uintptr_t) "Apache";
  pfd = sys_bpf (BPF_PROG_LOAD, &attr);
  if (pfd < 0)
    {
      int e = errno;
      /* again with the verifier's log, for the message */
      log[0] = '\0';
      attr.log_buf = (uint64_t)(uintptr_t)log;
      attr.log_size = sizeof log;
      attr.log_level = 1;
      if (sys_bpf (BPF_PROG_LOAD, &attr) >= 0)
        log[0] = '\0';
      log[sizeof log - 1] = '\0';
      errno = e;
      return kata_make_error (err, e, "load the device cgroup program (%zu rules)%s%s", nrules,
                              log[0] ? ": " : "", log);
    }
  slot = prog_cache_next++ % DEVCG_CACHE;
  if (prog_cache[slot].insns)
    {
      close (prog_cache[slot].fd); /* the cgroups it is attached to keep it */
      free (prog_cache[slot].insns);
    }
  prog_cache[slot].insns = xmalloc (len * sizeof *prog);
  memcpy (prog_cache[slot].insns, prog, len * sizeof *prog);
  prog_cache[slot].len = len;
  prog_cache[slot].fd = pfd;
  return pfd;
}

/* The program of the rules RULES of a spec, loaded (or found in the cache). */
static int
spec_program (runtime_spec_schema_defs_linux_device_cgroup **spec, size_t n, size_t *nrules, size_t *ninsns,
              kata_error_t **err)
{
  cleanup_free agent_devcg_rule_t *rules = NULL;
  cleanup_free struct bpf_insn *prog = NULL;
  if (agent_devcg_rules (spec, n, &rules, nrules, err) < 0)
    return -1;
  prog = agent_devcg_program (rules, *nrules, ninsns);
  return load_program (prog, *ninsns, *nrules, err);
}

int
agent_devcg_preload (kata_error_t **err)
{
  size_t nrules = 0, len = 0;
  return spec_program (NULL, 0, &nrules, &len, err) < 0 ? -1 : 0;
}

int
agent_devcg_apply (const char *cg, runtime_spec_schema_defs_linux_device_cgroup **spec, size_t n,
                   kata_error_t **err)
{
  size_t nrules = 0, len = 0;
  union bpf_attr attr;
  int pfd, cfd, r;

  pfd = spec_program (spec, n, &nrules, &len, err);
  if (pfd < 0)
    return -1;
  cfd = open (cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cfd < 0)
    return kata_make_error (err, errno, "open cgroup `%s`", cg);
  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cfd;
  attr.attach_bpf_fd = (uint32_t)pfd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = 0; /* no override: a sub-cgroup cannot replace it */
  r = sys_bpf (BPF_PROG_ATTACH, &attr);
  if (r < 0)
    {
      int e = errno;
      close (cfd);
      return kata_make_error (err, e, "attach the device cgroup program to `%s`", cg);
    }
  close (cfd);
  agent_log ("cgroup %s: device program of %zu rules (%zu instructions)", cg, nrules, len);
  return 0;
}
