/* Guest networking: lo up, UpdateInterface, UpdateRoutes over a raw NETLINK_ROUTE socket
   (no libnl needed in the static agent). */
#include "config.h"
#include "agent/agent.h"
#include "common/json.h"
#include "common/utils.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* if_nametoindex without glibc's if_index.o, which brings its netlink interface
   listing (ifaddrs.o, about 20 KB) into the static agent: the same SIOCGIFINDEX
   ioctl, 0 and errno (ENODEV for a name that is too long or unknown) on error. */
unsigned
agent_if_index (const char *name)
{
  struct ifreq ifr;
  int fd, r;
  if (strlen (name) >= IFNAMSIZ)
    return errno = ENODEV, 0;
  memset (&ifr, 0, sizeof ifr);
  memcpy (ifr.ifr_name, name, strlen (name));
  fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  r = ioctl (fd, SIOCGIFINDEX, &ifr);
  if (r < 0)
    {
      int e = errno;
      close (fd);
      errno = e;
      return 0;
    }
  close (fd);
  return ifr.ifr_ifindex;
}

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

struct nlreq
{
  struct nlmsghdr h;
  char buf[1024];
};

static void
add_attr (struct nlmsghdr *h, size_t max, int type, const void *data, size_t len)
{
  struct rtattr *rta = (struct rtattr *)((char *)h + NLMSG_ALIGN (h->nlmsg_len));
  size_t l = RTA_LENGTH (len);
  if (NLMSG_ALIGN (h->nlmsg_len) + RTA_ALIGN (l) > max)
    return;
  rta->rta_type = type;
  rta->rta_len = l;
  if (len)
    memcpy (RTA_DATA (rta), data, len);
  h->nlmsg_len = NLMSG_ALIGN (h->nlmsg_len) + RTA_ALIGN (l);
}

/* Sends one request and waits for its ACK; returns 0 or -errno. */
static int
nl_talk (struct nlmsghdr *h)
{
  static uint32_t seq;
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  char buf[8192];
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int ret = -EIO;
  if (fd < 0)
    return -errno;
  h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  h->nlmsg_seq = ++seq;
  if (sendto (fd, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
    {
      ret = -errno;
      close (fd);
      return ret;
    }
  for (;;)
    {
      ssize_t n = recv (fd, buf, sizeof buf, 0);
      struct nlmsghdr *r;
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          ret = -errno;
          break;
        }
      for (r = (struct nlmsghdr *)buf; NLMSG_OK (r, (size_t)n); r = NLMSG_NEXT (r, n))
        if (r->nlmsg_seq == h->nlmsg_seq && r->nlmsg_type == NLMSG_ERROR)
          {
            struct nlmsgerr *e = NLMSG_DATA (r);
            close (fd);
            return e->error;
          }
    }
  close (fd);
  return ret;
}

static int
parse_mac (const char *s, unsigned char mac[6])
{
  unsigned v[6];
  int i;
  if (!agent_scan_hex (s, ":::::", v))
    return -1;
  for (i = 0; i < 6; i++)
    mac[i] = v[i];
  return 0;
}

/* The interface with hardware address MAC, by /sys/class/net/<if>/address. */
static char *
find_by_mac (const char *mac)
{
  cleanup_dir DIR *d = opendir ("/sys/class/net");
  struct dirent *de;
  if (d == NULL)
    return NULL;
  while ((de = readdir (d)))
    {
      cleanup_free char *p = NULL, *a = NULL;
      if (de->d_name[0] == '.')
        continue;
      p = xasprintf ("/sys/class/net/%s/address", de->d_name);
      if (kata_read_file (p, &a, NULL, 128, NULL) < 0)
        continue;
      a[strcspn (a, "\n")] = '\0';
      if (strcasecmp (a, mac) == 0)
        return xstrdup (de->d_name);
    }
  return NULL;
}

static int
link_set (int ifindex, const char *newname, int mtu, const unsigned char *mac, int up)
{
  struct nlreq req;
  struct ifinfomsg *ifi;
  memset (&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH (sizeof *ifi);
  req.h.nlmsg_type = RTM_NEWLINK;
  ifi = NLMSG_DATA (&req.h);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  if (up >= 0)
    {
      ifi->ifi_change = IFF_UP;
      ifi->ifi_flags = up ? IFF_UP : 0;
    }
  if (newname)
    add_attr (&req.h, sizeof req, IFLA_IFNAME, newname, strlen (newname) + 1);
  if (mtu > 0)
    add_attr (&req.h, sizeof req, IFLA_MTU, &mtu, sizeof mtu);
  if (mac)
    add_attr (&req.h, sizeof req, IFLA_ADDRESS, mac, 6);
  return nl_talk (&req.h);
}

static int
parse_ip (const char *s, int *family, unsigned char addr[16])
{
  if (inet_pton (AF_INET, s, addr) == 1)
    {
      *family = AF_INET;
      return 4;
    }
  if (inet_pton (AF_INET6, s, addr) == 1)
    {
      *family = AF_INET6;
      return 16;
    }
  return -1;
}

static int
addr_add (int ifindex, const char *address, int prefix, kata_error_t **err)
{
  struct nlreq req;
  struct ifaddrmsg *ifa;
  unsigned char a[16];
  int family, len, r;
  char buf[64];
  const char *slash = strchr (address, '/');
  if (slash)
    {
      snprintf (buf, sizeof buf, "%.*s", (int)(slash - address), address);
      prefix = atoi (slash + 1);
      address = buf;
    }
  len = parse_ip (address, &family, a);
  if (len < 0)
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "invalid address `%s`", address);
  if (prefix < 0 || prefix > len * 8)
    prefix = len * 8;
  memset (&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH (sizeof *ifa);
  req.h.nlmsg_type = RTM_NEWADDR;
  req.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
  ifa = NLMSG_DATA (&req.h);
  ifa->ifa_family = family;
  ifa->ifa_prefixlen = prefix;
  ifa->ifa_index = ifindex;
  add_attr (&req.h, sizeof req, IFA_LOCAL, a, len);
  add_attr (&req.h, sizeof req, IFA_ADDRESS, a, len);
  r = nl_talk (&req.h);
  if (r < 0 && r != -EEXIST)
    return kata_make_error (err, -r, "add address %s/%d", address, prefix);
  return 0;
}

int
agent_h_update_interface (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  const char *name = kata_json_str (params, "name");
  const char *hw = kata_json_str (params, "hw_addr");
  long long mtu = kata_json_int (params, "mtu", 0);
  long long wait_ms = kata_json_int (params, "wait_ms", 0);
  yajl_val addrs = kata_json_array (params, "addresses");
  cleanup_free char *cur = NULL;
  unsigned char mac[6];
  int idx, r;
  size_t i;
  (void)a, (void)id;

  if (wait_ms > 60000)
    wait_ms = 60000; /* the agent serves nothing else meanwhile */
  if ((name == NULL || *name == '\0') && (hw == NULL || *hw == '\0'))
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "UpdateInterface: name or hw_addr is required");
  if (hw && *hw && parse_mac (hw, mac) < 0)
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "UpdateInterface: invalid hw_addr `%s`", hw);
  /* by MAC first: the NIC carries the host interface's MAC, while its name is the
     guest kernel's (a hot-plugged NIC may take the name of one still to be renamed) */
  if (hw && *hw)
    {
      uint64_t end = kata_now_ns () + (uint64_t)(wait_ms > 0 ? wait_ms : 0) * 1000000ULL;
      while ((cur = find_by_mac (hw)) == NULL && kata_now_ns () < end)
        usleep (20000); /* a hot-plugged NIC: the guest is still probing it */
    }
  if (cur == NULL && name && agent_if_index (name))
    cur = xstrdup (name);
  if (cur == NULL)
    return kata_make_error_nostr (err, ENODEV, "interface %s (%s) not found%s", name ? name : "",
                                  hw ? hw : "", wait_ms > 0 ? " (waited for it)" : "");
  idx = agent_if_index (cur);
  if (idx == 0)
    return kata_make_error (err, errno, "interface %s", cur);
  /* rename (only possible while down), MTU, MAC */
  if (name && *name && strcmp (name, cur) != 0)
    {
      link_set (idx, NULL, 0, NULL, 0);
      if ((r = link_set (idx, name, 0, NULL, -1)) < 0)
        return kata_make_error (err, -r, "rename %s to %s", cur, name);
    }
  if (mtu > 0 && (r = link_set (idx, NULL, mtu, NULL, -1)) < 0)
    return kata_make_error (err, -r, "set MTU %lld on %s", mtu, name ? name : cur);
  if (hw && *hw && (r = link_set (idx, NULL, 0, mac, -1)) < 0)
    return kata_make_error (err, -r, "set MAC %s on %s", hw, name ? name : cur);
  for (i = 0; addrs && i < addrs->u.array.len; i++)
    {
      yajl_val ad = addrs->u.array.values[i];
      const char *ip = kata_json_str (ad, "address");
      if (ip == NULL)
        return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "addresses[%zu]: address is required", i);
      if (addr_add (idx, ip, (int)kata_json_int (ad, "prefix", -1), err) < 0)
        return -1;
    }
  if ((r = link_set (idx, NULL, 0, NULL, 1)) < 0)
    return kata_make_error (err, -r, "set %s up", name ? name : cur);
  (void)out;
  return 0;
}

static int
route_add (yajl_val rt, kata_error_t **err)
{
  const char *dest = kata_json_str (rt, "dest");
  const char *gw = kata_json_str (rt, "gateway");
  const char *dev = kata_json_str (rt, "device");
  const char *src = kata_json_str (rt, "source");
  const char *scope = kata_json_str (rt, "scope");
  struct nlreq req;
  struct rtmsg *rtm;
  unsigned char a[16];
  int family = 0, len, r, prefix = 0;
  char buf[64];

  memset (&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH (sizeof *rtm);
  req.h.nlmsg_type = RTM_NEWROUTE;
  req.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
  rtm = NLMSG_DATA (&req.h);
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_type = RTN_UNICAST;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  if (scope && strcmp (scope, "link") == 0)
    rtm->rtm_scope = RT_SCOPE_LINK;
  else if (scope && strcmp (scope, "host") == 0)
    rtm->rtm_scope = RT_SCOPE_HOST;
  else if (scope && *scope && strcmp (scope, "universe") != 0 && strcmp (scope, "global") != 0)
    rtm->rtm_scope = atoi (scope);
  if (dest && *dest && strcmp (dest, "default") != 0)
    {
      const char *slash = strchr (dest, '/');
      snprintf (buf, sizeof buf, "%.*s", slash ? (int)(slash - dest) : (int)strlen (dest), dest);
      len = parse_ip (buf, &family, a);
      if (len < 0)
        return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "invalid route destination `%s`", dest);
      prefix = slash ? atoi (slash + 1) : len * 8;
      if (prefix < 0 || prefix > len * 8)
        return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "invalid route destination `%s`", dest);
      add_attr (&req.h, sizeof req, RTA_DST, a, len);
    }
  if (gw && *gw)
    {
      int gf;
      len = parse_ip (gw, &gf, a);
      if (len < 0 || (family && gf != family))
        return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "invalid gateway `%s`", gw);
      family = gf;
      add_attr (&req.h, sizeof req, RTA_GATEWAY, a, len);
    }
  if (src && *src)
    {
      int sf;
      len = parse_ip (src, &sf, a);
      if (len < 0)
        return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "invalid source `%s`", src);
      if (!family)
        family = sf;
      add_attr (&req.h, sizeof req, RTA_PREFSRC, a, len);
    }
  if (dev && *dev)
    {
      int idx = agent_if_index (dev);
      if (idx == 0)
        return kata_make_error_nostr (err, ENODEV, "route device %s not found", dev);
      add_attr (&req.h, sizeof req, RTA_OIF, &idx, sizeof idx);
      if (!(gw && *gw) && !(scope && *scope))
        rtm->rtm_scope = RT_SCOPE_LINK;
    }
  rtm->rtm_family = family ? family : AF_INET;
  rtm->rtm_dst_len = prefix;
  r = nl_talk (&req.h);
  if (r < 0)
    return kata_make_error (err, -r, "add route %s via %s dev %s", dest ? dest : "default", gw ? gw : "-",
                            dev ? dev : "-");
  return 0;
}

int
agent_h_update_routes (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  yajl_val routes = kata_json_array (params, "routes");
  size_t i;
  int pass;
  (void)a, (void)id, (void)out;
  if (routes == NULL)
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "UpdateRoutes: routes is required");
  /* link routes first, so the gateways of the others are reachable */
  for (pass = 0; pass < 2; pass++)
    for (i = 0; i < routes->u.array.len; i++)
      {
        yajl_val rt = routes->u.array.values[i];
        const char *gw = kata_json_str (rt, "gateway");
        bool has_gw = gw && *gw;
        if (has_gw != (pass == 1))
          continue;
        if (route_add (rt, err) < 0)
          return -1;
      }
  return 0;
}
