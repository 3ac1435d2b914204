/* Capabilities: OCI names -> numbers, and the five sets applied with libcap. */
#include "config.h"
#include "agent/agent.h"
#include "common/cap-names.h"
#include "common/utils.h"
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

int
agent_cap_from_name (const char *name)
{
  int i;
  if (name == NULL)
    return -1;
  if (strncasecmp (name, "CAP_", 4) != 0)
    return -1;
  for (i = 0; i < KATA_N_CAPS; i++)
    if (strcasecmp (kata_cap_names[i], name) == 0)
      return i;
  return -1;
}

/* Unknown names are skipped (as runc does with a warning): a spec written for a newer
   kernel still runs.  */
int
agent_caps_mask (char **names, size_t n, uint64_t *mask, kata_error_t **err)
{
  size_t i;
  (void)err;
  *mask = 0;
  for (i = 0; i < n; i++)
    {
      int c = agent_cap_from_name (names[i]);
      if (c < 0)
        {
          agent_log ("unknown capability `%s` ignored", names[i] ? names[i] : "");
          continue;
        }
      *mask |= 1ull << c;
    }
  return 0;
}

static int
last_cap (void)
{
  static int last = -1;
  if (last < 0)
    {
      cleanup_free char *s = NULL;
      if (kata_read_file ("/proc/sys/kernel/cap_last_cap", &s, NULL, 64, NULL) == 0)
        last = atoi (s);
      else
        last = CAP_LAST_CAP;
    }
  return last;
}

int
agent_caps_drop_bounding (runtime_spec_schema_config_schema_process_capabilities *c, kata_error_t **err)
{
  uint64_t bound;
  int i;
  if (c == NULL)
    return 0;
  agent_caps_mask (c->bounding, c->bounding_len, &bound, err);
  for (i = 0; i <= last_cap (); i++)
    if (!(bound & (1ull << i)) && prctl (PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
      return kata_make_error (err, errno, "drop bounding capability %d", i);
  return 0;
}

static void
set_flags (cap_t caps, cap_flag_t which, uint64_t mask)
{
  int i;
  for (i = 0; i <= last_cap () && i < 64; i++)
    if (mask & (1ull << i))
      {
        cap_value_t v = i;
        cap_set_flag (caps, which, 1, &v, CAP_SET);
      }
}

int
agent_caps_apply (runtime_spec_schema_config_schema_process_capabilities *c, kata_error_t **err)
{
  uint64_t eff, perm, inh, amb;
  cap_t caps;
  int i;
  if (c == NULL)
    return 0;
  agent_caps_mask (c->effective, c->effective_len, &eff, err);
  agent_caps_mask (c->permitted, c->permitted_len, &perm, err);
  agent_caps_mask (c->inheritable, c->inheritable_len, &inh, err);
  agent_caps_mask (c->ambient, c->ambient_len, &amb, err);
  caps = cap_init ();
  if (caps == NULL)
    return kata_make_error (err, errno, "cap_init");
  set_flags (caps, CAP_EFFECTIVE, eff);
  set_flags (caps, CAP_PERMITTED, perm);
  set_flags (caps, CAP_INHERITABLE, inh);
  if (cap_set_proc (caps) < 0)
    {
      int e = errno;
      cap_free (caps);
      return kata_make_error (err, e, "set capabilities");
    }
  cap_free (caps);
  prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (i = 0; i <= last_cap () && i < 64; i++)
    if ((amb & (1ull << i)) && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
      agent_log ("ambient capability %d: %s", i, strerror (errno));
  return 0;
}
