/* Seccomp: the spec's linux.seccomp translated to a rule list (pure, unit-tested), then
   loaded with libseccomp, following runc's semantics. */
#include "config.h"
#include "agent/agent.h"
#include "common/utils.h"
#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <strings.h>

int
agent_seccomp_action (const char *name, uint32_t errno_ret, bool errno_present, uint32_t *out)
{
  if (name == NULL)
    return -1;
  if (strcmp (name, "SCMP_ACT_ALLOW") == 0)
    *out = SCMP_ACT_ALLOW;
  else if (strcmp (name, "SCMP_ACT_ERRNO") == 0)
    *out = SCMP_ACT_ERRNO (errno_present ? errno_ret : EPERM);
  else if (strcmp (name, "SCMP_ACT_KILL") == 0 || strcmp (name, "SCMP_ACT_KILL_THREAD") == 0)
    *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp (name, "SCMP_ACT_KILL_PROCESS") == 0)
    *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp (name, "SCMP_ACT_TRAP") == 0)
    *out = SCMP_ACT_TRAP;
  else if (strcmp (name, "SCMP_ACT_TRACE") == 0)
    *out = SCMP_ACT_TRACE (errno_present ? errno_ret : EPERM);
  else if (strcmp (name, "SCMP_ACT_LOG") == 0)
    *out = SCMP_ACT_LOG;
  else
    return -1;
  return 0;
}

int
agent_seccomp_op (const char *name)
{
  static const struct
  {
    const char *n;
    int op;
  } ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE },
    { "SCMP_CMP_LT", SCMP_CMP_LT },
    { "SCMP_CMP_LE", SCMP_CMP_LE },
    { "SCMP_CMP_EQ", SCMP_CMP_EQ },
    { "SCMP_CMP_GE", SCMP_CMP_GE },
    { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  };
  size_t i;
  if (name == NULL)
    return -1;
  for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp (ops[i].n, name) == 0)
      return ops[i].op;
  return -1;
}

static uint32_t
arch_token (const char *name)
{
  char buf[64];
  size_t i;
  if (strncmp (name, "SCMP_ARCH_", 10) == 0)
    name += 10;
  for (i = 0; name[i] && i < sizeof buf - 1; i++)
    buf[i] = name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i];
  buf[i] = '\0';
  return seccomp_arch_resolve_name (buf);
}

static void
add_rule (agent_sc_filter_t *f, const char *name, uint32_t action, agent_sc_arg_t *args, unsigned nargs)
{
  agent_sc_rule_t *r;
  f->rules = xrealloc (f->rules, sizeof *f->rules * (f->rules_len + 1));
  r = &f->rules[f->rules_len++];
  memset (r, 0, sizeof *r);
  r->name = xstrdup (name);
  r->action = action;
  r->nargs = nargs;
  if (nargs)
    memcpy (r->args, args, sizeof *args * nargs);
}

int
agent_seccomp_translate (runtime_spec_schema_config_linux_seccomp *s, agent_sc_filter_t *f,
                         kata_error_t **err)
{
  size_t i, j, k;
  memset (f, 0, sizeof *f);
  if (agent_seccomp_action (s->default_action, s->default_errno_ret, s->default_errno_ret_present,
                            &f->default_action)
      < 0)
    return kata_make_error_nostr (err, EINVAL, "seccomp: unknown defaultAction `%s`",
                                  s->default_action ? s->default_action : "");
  for (i = 0; i < s->architectures_len; i++)
    {
      uint32_t t = arch_token (s->architectures[i]);
      if (t == 0)
        continue; /* unknown to this libseccomp: skip */
      f->arches = xrealloc (f->arches, sizeof (uint32_t) * (f->arches_len + 1));
      f->arches[f->arches_len++] = t;
    }
  for (i = 0; i < s->flags_len; i++)
    {
      if (strcmp (s->flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
        f->flag_log = true;
      else if (strcmp (s->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
        f->flag_spec_allow = true;
      else if (strcmp (s->flags[i], "SECCOMP_FILTER_FLAG_TSYNC") == 0)
        f->flag_tsync = true;
      else
        {
          agent_seccomp_filter_free (f);
          return kata_make_error_nostr (err, EINVAL, "seccomp: unknown flag `%s`", s->flags[i]);
        }
    }
  for (i = 0; i < s->syscalls_len; i++)
    {
      runtime_spec_schema_defs_linux_syscall *sc = s->syscalls[i];
      agent_sc_arg_t args[6];
      unsigned nargs = 0;
      bool dup = false;
      uint32_t action;
      if (agent_seccomp_action (sc->action, sc->errno_ret, sc->errno_ret_present, &action) < 0)
        {
          agent_seccomp_filter_free (f);
          return kata_make_error_nostr (err, EINVAL, "seccomp: unknown action `%s`",
                                        sc->action ? sc->action : "");
        }
      if (action == f->default_action)
        continue; /* libseccomp refuses rules equal to the default */
      if (sc->args_len > 6)
        {
          agent_seccomp_filter_free (f);
          return kata_make_error_nostr (err, EINVAL, "seccomp: too many args for a syscall rule");
        }
      for (j = 0; j < sc->args_len; j++)
        {
          runtime_spec_schema_defs_linux_syscall_arg *a = sc->args[j];
          int op = agent_seccomp_op (a->op);
          if (op < 0 || a->index > 5)
            {
              agent_seccomp_filter_free (f);
              return kata_make_error_nostr (err, EINVAL, "seccomp: bad arg (op `%s`, index %u)",
                                            a->op ? a->op : "", a->index);
            }
          args[nargs].index = a->index;
          args[nargs].op = op;
          args[nargs].value = a->value;
          args[nargs].value_two = a->value_two;
          for (k = 0; k < nargs; k++)
            if (args[k].index == a->index)
              dup = true;
          nargs++;
        }
      for (j = 0; j < sc->names_len; j++)
        {
          if (!dup)
            add_rule (f, sc->names[j], action, args, nargs);
          else
            for (k = 0; k < nargs; k++)
              add_rule (f, sc->names[j], action, &args[k], 1);
        }
    }
  return 0;
}

void
agent_seccomp_filter_free (agent_sc_filter_t *f)
{
  size_t i;
  for (i = 0; i < f->rules_len; i++)
    free (f->rules[i].name);
  free (f->rules);
  free (f->arches);
  memset (f, 0, sizeof *f);
}

int
agent_seccomp_load (const agent_sc_filter_t *f, kata_error_t **err)
{
  scmp_filter_ctx ctx = seccomp_init (f->default_action);
  size_t i;
  int r;
  if (ctx == NULL)
    return kata_make_error (err, EINVAL, "seccomp_init");
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (f->flag_log)
    seccomp_attr_set (ctx, SCMP_FLTATR_CTL_LOG, 1);
  if (f->flag_spec_allow)
    seccomp_attr_set (ctx, SCMP_FLTATR_CTL_SSB, 1);
  if (f->flag_tsync)
    seccomp_attr_set (ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  for (i = 0; i < f->arches_len; i++)
    {
      r = seccomp_arch_add (ctx, f->arches[i]);
      if (r < 0 && r != -EEXIST)
        agent_log ("seccomp arch %u: %s", f->arches[i], strerror (-r));
    }
  for (i = 0; i < f->rules_len; i++)
    {
      const agent_sc_rule_t *rl = &f->rules[i];
      struct scmp_arg_cmp cmp[6];
      unsigned j;
      int nr = seccomp_syscall_resolve_name (rl->name);
      if (nr == __NR_SCMP_ERROR)
        continue; /* unknown syscall name: skipped, as runc does */
      for (j = 0; j < rl->nargs; j++)
        {
          cmp[j].arg = rl->args[j].index;
          cmp[j].op = rl->args[j].op;
          cmp[j].datum_a = rl->args[j].value;
          cmp[j].datum_b = rl->args[j].value_two;
        }
      r = seccomp_rule_add_array (ctx, rl->action, nr, rl->nargs, cmp);
      if (r < 0)
        {
          seccomp_release (ctx);
          return kata_make_error (err, -r, "seccomp rule for `%s`", rl->name);
        }
    }
  r = seccomp_load (ctx);
  seccomp_release (ctx);
  if (r < 0)
    return kata_make_error (err, -r, "load seccomp filter");
  return 0;
}
