/* Guest networking: lo up, UpdateInterface, UpdateRoutes (rtnetlink over a raw socket). */
#include "config.h"
#include "agent/agent.h"
#include "common/json.h"
#include "common/utils.h"
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int
agent_net_lo_up (void)
{
  struct ifreq ifr;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, "lo");
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) == 0)
    {
      ifr.ifr_flags |= IFF_UP;
      if (ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
        {
          close (fd);
          return -1;
        }
    }
  close (fd);
  return 0;
}

int
agent_h_update_interface (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  (void) a, (void) id, (void) params, (void) out;
  return kata_make_error_nostr (err, ENOSYS, "UpdateInterface: not implemented");
}

int
agent_h_update_routes (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  (void) a, (void) id, (void) params, (void) out;
  return kata_make_error_nostr (err, ENOSYS, "UpdateRoutes: not implemented");
}
