/* /etc/passwd and /etc/group of the container, parsed as runc's libcontainer/user does
   (no NSS in a static binary, and the guest's files are not the container's). */
#include "config.h"
#include "agent/agent.h"
#include "common/utils.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Splits LINE (modified) at ':' into at most N fields; returns the count. */
static size_t
split_fields (char *line, char **f, size_t n)
{
  size_t i = 0;
  char *p = line;
  while (i < n)
    {
      f[i++] = p;
      p = strchr (p, ':');
      if (p == NULL)
        break;
      *p++ = '\0';
    }
  return i;
}

static bool
parse_id (const char *s, unsigned long *out)
{
  char *end;
  if (s == NULL || *s == '\0')
    return false;
  errno = 0;
  *out = strtoul (s, &end, 10);
  return errno == 0 && *end == '\0' && *out <= 0xfffffffful;
}

/* Calls FN for every non-comment line of TEXT split in N fields; stops when FN returns 1. */
static int
foreach_line (const char *text, size_t n, int (*fn) (char **f, size_t nf, void *arg), void *arg)
{
  cleanup_free char *copy = xstrdup (text ? text : "");
  char *save = NULL, *line;
  for (line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[8];
      size_t nf;
      while (*line == ' ' || *line == '\t')
        line++;
      if (*line == '\0' || *line == '#')
        continue;
      nf = split_fields (line, f, n);
      if (fn (f, nf, arg))
        return 1;
    }
  return 0;
}

struct pw_q
{
  const char *name;
  bool by_uid;
  uid_t uid;
  bool found;
  uid_t out_uid;
  gid_t out_gid;
  char *out_name, *home;
};

static int
pw_cb (char **f, size_t nf, void *arg)
{
  struct pw_q *q = arg;
  unsigned long uid, gid;
  if (nf < 4 || !parse_id (f[2], &uid) || !parse_id (f[3], &gid))
    return 0;
  if (q->by_uid ? uid != q->uid : strcmp (f[0], q->name) != 0)
    return 0;
  q->found = true;
  q->out_uid = uid;
  q->out_gid = gid;
  q->out_name = xstrdup (f[0]);
  q->home = nf >= 6 ? xstrdup (f[5]) : NULL;
  return 1;
}

int
agent_passwd_lookup (const char *passwd, const char *name, uid_t *uid, gid_t *gid, char **home)
{
  struct pw_q q = { .name = name };
  unsigned long n;
  foreach_line (passwd, 7, pw_cb, &q);
  if (!q.found)
    {
      /* A numeric user that is not in the file is still valid. */
      if (parse_id (name, &n))
        {
          *uid = n;
          *gid = n == 0 ? 0 : *gid;
          if (home)
            *home = NULL;
          return 0;
        }
      return -1;
    }
  *uid = q.out_uid;
  *gid = q.out_gid;
  if (home)
    *home = q.home;
  else
    free (q.home);
  free (q.out_name);
  return 0;
}

int
agent_passwd_lookup_uid (const char *passwd, uid_t uid, char **name, gid_t *gid, char **home)
{
  struct pw_q q = { .by_uid = true, .uid = uid };
  foreach_line (passwd, 7, pw_cb, &q);
  if (!q.found)
    return -1;
  if (name)
    *name = q.out_name;
  else
    free (q.out_name);
  if (gid)
    *gid = q.out_gid;
  if (home)
    *home = q.home;
  else
    free (q.home);
  return 0;
}

struct gr_q
{
  const char *name;
  gid_t *gids;
  size_t n;
  bool found;
  gid_t gid;
};

static int
gr_members_cb (char **f, size_t nf, void *arg)
{
  struct gr_q *q = arg;
  unsigned long gid;
  char *save = NULL, *m;
  if (nf < 4 || !parse_id (f[2], &gid))
    return 0;
  for (m = strtok_r (f[3], ",", &save); m; m = strtok_r (NULL, ",", &save))
    {
      size_t l;
      while (*m == ' ' || *m == '\t')
        m++;
      l = strlen (m);
      while (l > 0 && (m[l - 1] == ' ' || m[l - 1] == '\t' || m[l - 1] == '\r'))
        m[--l] = '\0';
      if (strcmp (m, q->name) == 0)
        {
          q->gids = xrealloc (q->gids, sizeof (gid_t) * (q->n + 1));
          q->gids[q->n++] = gid;
          break;
        }
    }
  return 0;
}

int
agent_group_members (const char *group, const char *name, gid_t **gids, size_t *n)
{
  struct gr_q q = { .name = name };
  foreach_line (group, 4, gr_members_cb, &q);
  *gids = q.gids;
  *n = q.n;
  return 0;
}

static int
gr_name_cb (char **f, size_t nf, void *arg)
{
  struct gr_q *q = arg;
  unsigned long gid;
  if (nf < 3 || !parse_id (f[2], &gid) || strcmp (f[0], q->name) != 0)
    return 0;
  q->found = true;
  q->gid = gid;
  return 1;
}

int
agent_group_lookup (const char *group, const char *name, gid_t *gid)
{
  struct gr_q q = { .name = name };
  unsigned long n;
  foreach_line (group, 4, gr_name_cb, &q);
  if (q.found)
    {
      *gid = q.gid;
      return 0;
    }
  if (parse_id (name, &n))
    {
      *gid = n;
      return 0;
    }
  return -1;
}
