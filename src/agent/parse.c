/* Small parsers in place of sscanf, which pulled glibc's vfscanf and, through it, the
   float, long double and _Float128 parsers (about 82 KB) into the static agent.  Each
   accepts what the sscanf format it replaces did. */
#include "config.h"
#include "agent/agent.h"
#include <stdlib.h>
#include <string.h>

static bool
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* A line of /proc/net/dev after the two header lines ("  eth0: 1 2 3 ..."), as
   sscanf (" %63s") before the first ':' and 12 "%llu" after it: NAME gets the
   interface name (at most 63 characters), V the first 12 counters. */
bool
agent_parse_net_dev_line (const char *line, char name[64], unsigned long long v[12])
{
  const char *colon = strchr (line, ':'), *p = line;
  size_t n = 0, i;
  if (colon == NULL)
    return false;
  while (p < colon && is_blank (*p))
    p++;
  while (p < colon && !is_blank (*p) && n < 63)
    name[n++] = *p++;
  name[n] = '\0';
  if (n == 0)
    return false;
  p = colon + 1;
  for (i = 0; i < 12; i++)
    {
      char *end;
      v[i] = strtoull (p, &end, 10);
      if (end == p)
        return false;
      p = end;
    }
  return true;
}

/* What follows the ')' of /proc/<pid>/stat, as sscanf (" %c %d"): the state
   character and the parent pid; each is left alone when it is not there. */
void
agent_parse_proc_stat (const char *s, char *state, int *ppid)
{
  char *end;
  long v;
  while (is_blank (*s))
    s++;
  if (*s == '\0')
    return;
  *state = *s++;
  v = strtol (s, &end, 10);
  if (end != s)
    *ppid = (int)v;
}

/* As sscanf (S, "%x<c1>%x<c2>...%x") with SEPS = "<c1><c2>..." (strlen (SEPS) + 1
   numbers): each number may have leading blanks, a sign and a 0x prefix (strtoul);
   a separator must follow it exactly; what follows the last number is ignored.
   True when all the numbers were read. */
bool
agent_scan_hex (const char *s, const char *seps, unsigned *v)
{
  size_t i, n = strlen (seps) + 1;
  for (i = 0; i < n; i++)
    {
      char *end;
      v[i] = (unsigned)strtoul (s, &end, 16);
      if (end == s)
        return false;
      s = end;
      if (i + 1 < n)
        {
          if (*s != seps[i])
            return false;
          s++;
        }
    }
  return true;
}
