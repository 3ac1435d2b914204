/* Host networking of a sandbox: Kata's "tcfilter" model over libnl-route-3.
   See network.h for the interface and docs/network.md for the design. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/action.h>
#include <netlink/route/act/mirred.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/log.h"
#include "runtime/network.h"

#define INGRESS_HANDLE TC_H_MAKE (TC_H_INGRESS, 0) /* ffff: */

/* ---- libnl plumbing ---------------------------------------------------- */

static inline void
nl_sock_freep (struct nl_sock **s)
{
  if (*s)
    nl_socket_free (*s);
}
static inline void
nl_cache_freep (struct nl_cache **c)
{
  if (*c)
    nl_cache_free (*c);
}
static inline void
nl_obj_putp (void *p)
{
  struct nl_object **o = p;
  if (*o)
    nl_object_put (*o);
}
#define cleanup_nl_sock __attribute__ ((cleanup (nl_sock_freep)))
#define cleanup_nl_cache __attribute__ ((cleanup (nl_cache_freep)))
#define cleanup_nl_obj __attribute__ ((cleanup (nl_obj_putp)))

/* errno closest to a libnl error code. */
static int
nl_to_errno (int r)
{
  switch (r < 0 ? -r : r)
    {
    case NLE_EXIST:
      return EEXIST;
    case NLE_NOMEM:
      return ENOMEM;
    case NLE_PERM:
      return EPERM;
    case NLE_NOACCESS:
      return EACCES;
    case NLE_OBJ_NOTFOUND:
      return ENOENT;
    case NLE_NODEV:
      return ENODEV;
    case NLE_INVAL:
      return EINVAL;
    case NLE_BUSY:
      return EBUSY;
    case NLE_OPNOTSUPP:
      return EOPNOTSUPP;
    case NLE_AGAIN:
      return EAGAIN;
    case NLE_RANGE:
      return ERANGE;
    case NLE_MSGSIZE:
      return EMSGSIZE;
    case NLE_AF_NOSUPPORT:
      return EAFNOSUPPORT;
    default:
      return EIO;
    }
}

static int __attribute__ ((format (printf, 3, 4))) nl_fail (kata_error_t **err, int r, const char *fmt, ...)
{
  cleanup_free char *what = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&what, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return kata_make_error_nostr (err, nl_to_errno (r), "%s: %s", what, nl_geterror (r));
}

static int
nl_open (struct nl_sock **out, kata_error_t **err)
{
  struct nl_sock *s = nl_socket_alloc ();
  int r;
  if (s == NULL)
    return kata_make_error (err, ENOMEM, "netlink socket");
  if ((r = nl_connect (s, NETLINK_ROUTE)) < 0)
    {
      nl_socket_free (s);
      return nl_fail (err, r, "connect to rtnetlink");
    }
  *out = s;
  return 0;
}

/* ---- entering the sandbox's netns ------------------------------------- */

/* ENOENT/EINVAL (no such netns) are reported with that status. */
int
kata_netns_enter (const char *path, int *orig, kata_error_t **err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  int o;
  if (fd < 0)
    return kata_make_error (err, errno, "open network namespace `%s`", path);
  o = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (o < 0)
    o = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (o < 0)
    return kata_make_error (err, errno, "open our own network namespace");
  if (setns (fd, CLONE_NEWNET) < 0)
    {
      int e = errno;
      close (o);
      return kata_make_error (err, e, "enter network namespace `%s`", path);
    }
  *orig = o;
  return 0;
}

void
kata_netns_leave (int orig)
{
  if (setns (orig, CLONE_NEWNET) < 0)
    {
      kata_log (KATA_LOG_ERROR, "cannot return to the runtime's network namespace: %s", strerror (errno));
      abort ();
    }
  close (orig);
}

/* ---- pure helpers ------------------------------------------------------ */

int
kata_net_format_mac (const unsigned char *mac, size_t len, char *out)
{
  if (mac == NULL || len != 6)
    return -1;
  snprintf (out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return 0;
}

char *
kata_net_format_cidr (int family, const void *addr, int prefix)
{
  char buf[INET6_ADDRSTRLEN];
  if ((family != AF_INET && family != AF_INET6) || inet_ntop (family, addr, buf, sizeof buf) == NULL)
    return NULL;
  if (prefix < 0)
    return xstrdup (buf);
  return xasprintf ("%s/%d", buf, prefix);
}

bool
kata_net_is_link_local6 (const void *in6)
{
  const unsigned char *a = in6;
  return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* Names the agent understands ("universe", "link", "host"); others as numbers. */
const char *
kata_net_scope_name (int scope, char *buf, size_t len)
{
  switch (scope)
    {
    case RT_SCOPE_UNIVERSE:
      return "universe";
    case RT_SCOPE_LINK:
      return "link";
    case RT_SCOPE_HOST:
      return "host";
    default:
      snprintf (buf, len, "%d", scope);
      return buf;
    }
}

char *
kata_net_tap_name (size_t n)
{
  return xasprintf (KATA_NET_TAP_PREFIX "%zu" KATA_NET_TAP_SUFFIX, n);
}

/* WAIT_MS > 0: how long the agent waits for a NIC with this MAC to appear (hot-plugged). */
static void
gen_iface (yajl_gen g, const kata_net_iface_t *ifc, int wait_ms)
{
  size_t i;
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "name", ifc->name);
  kata_gen_kv_str (g, "hw_addr", ifc->mac);
  kata_gen_kv_int (g, "mtu", ifc->mtu);
  if (wait_ms > 0)
    kata_gen_kv_int (g, "wait_ms", wait_ms);
  kata_gen_str (g, "addresses");
  yajl_gen_array_open (g);
  for (i = 0; i < ifc->n_addrs; i++)
    {
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "address", ifc->addrs[i].address);
      kata_gen_kv_int (g, "prefix", ifc->addrs[i].prefix);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
}

char *
kata_net_iface_json (const kata_net_iface_t *ifc)
{
  yajl_gen g = kata_gen_new ();
  gen_iface (g, ifc, 0);
  return kata_gen_finish (g, NULL);
}

char *
kata_net_routes_json (const kata_net_route_t *routes, size_t n)
{
  yajl_gen g = kata_gen_new ();
  char sbuf[12];
  size_t i;
  yajl_gen_map_open (g);
  kata_gen_str (g, "routes");
  yajl_gen_array_open (g);
  for (i = 0; i < n; i++)
    {
      const kata_net_route_t *r = &routes[i];
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "dest", r->dest);
      if (r->gateway)
        kata_gen_kv_str (g, "gateway", r->gateway);
      if (r->device)
        kata_gen_kv_str (g, "device", r->device);
      if (r->source)
        kata_gen_kv_str (g, "source", r->source);
      kata_gen_kv_str (g, "scope", kata_net_scope_name (r->scope, sbuf, sizeof sbuf));
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

char *
kata_network_interfaces_json (const kata_net_plan_t *plan)
{
  yajl_gen g = kata_gen_new ();
  size_t i;
  yajl_gen_array_open (g);
  for (i = 0; plan && i < plan->n; i++)
    gen_iface (g, &plan->ifaces[i], 0);
  yajl_gen_array_close (g);
  return kata_gen_finish (g, NULL);
}

/* ---- plan ------------------------------------------------------------- */

static kata_net_plan_t *
plan_new (const char *netns_path, const char *model)
{
  kata_net_plan_t *p = xmalloc0 (sizeof *p);
  p->netns_path = netns_path ? xstrdup (netns_path) : NULL;
  p->model = xstrdup (model ? model : "none");
  return p;
}

static void
plan_finish_json (kata_net_plan_t *p)
{
  size_t i;
  for (i = 0; i < p->n; i++)
    {
      yajl_gen g = kata_gen_new ();
      gen_iface (g, &p->ifaces[i], KATA_NET_NIC_WAIT_MS);
      free (p->ifaces[i].update_json);
      p->ifaces[i].update_json = kata_gen_finish (g, NULL);
    }
  free (p->routes_json);
  p->routes_json = kata_net_routes_json (p->routes, p->n_routes);
}

void
kata_network_plan_free (kata_net_plan_t *plan)
{
  size_t i, j;
  if (plan == NULL)
    return;
  for (i = 0; i < plan->n; i++)
    {
      kata_net_iface_t *f = &plan->ifaces[i];
      free (f->name);
      free (f->tap);
      for (j = 0; j < f->n_addrs; j++)
        free (f->addrs[j].address);
      free (f->addrs);
      free (f->update_json);
    }
  free (plan->ifaces);
  for (i = 0; i < plan->n_routes; i++)
    {
      free (plan->routes[i].dest);
      free (plan->routes[i].gateway);
      free (plan->routes[i].device);
      free (plan->routes[i].source);
    }
  free (plan->routes);
  free (plan->routes_json);
  free (plan->netns_path);
  free (plan->model);
  free (plan->foreign_tap);
  free (plan);
}

static kata_net_iface_t *
plan_iface_by_index (kata_net_plan_t *p, int ifindex)
{
  size_t i;
  for (i = 0; i < p->n; i++)
    if (p->ifaces[i].ifindex == ifindex)
      return &p->ifaces[i];
  return NULL;
}

/* ---- discovery (in the netns) ----------------------------------------- */

/* tap<digits>_kata */
static bool
is_kata_tap (const char *name)
{
  size_t pl = strlen (KATA_NET_TAP_PREFIX), d;
  if (name == NULL || strncmp (name, KATA_NET_TAP_PREFIX, pl) != 0)
    return false;
  d = strspn (name + pl, "0123456789");
  return d > 0 && strcmp (name + pl + d, KATA_NET_TAP_SUFFIX) == 0;
}

static int
cmp_iface (const void *a, const void *b)
{
  const kata_net_iface_t *x = a, *y = b;
  return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static void
discover_links (struct nl_cache *links, kata_net_plan_t *p)
{
  struct nl_object *o;
  for (o = nl_cache_get_first (links); o; o = nl_cache_get_next (o))
    {
      struct rtnl_link *l = (struct rtnl_link *)o;
      struct nl_addr *a = rtnl_link_get_addr (l);
      const char *name = rtnl_link_get_name (l);
      static const unsigned char zero[6];
      kata_net_iface_t *f;
      /* a real tap by our name (not an impostor veth): another sandbox's VM */
      if (name && is_kata_tap (name) && p->foreign_tap == NULL && rtnl_link_get_type (l)
          && strcmp (rtnl_link_get_type (l), "tun") == 0)
        p->foreign_tap = xstrdup (name);
      if ((rtnl_link_get_flags (l) & IFF_LOOPBACK) || rtnl_link_get_arptype (l) != ARPHRD_ETHER
          || name == NULL || is_kata_tap (name))
        continue;
      if (a == NULL || nl_addr_get_len (a) != 6 || memcmp (nl_addr_get_binary_addr (a), zero, 6) == 0)
        continue;
      p->ifaces = xrealloc (p->ifaces, (p->n + 1) * sizeof *p->ifaces);
      f = &p->ifaces[p->n++];
      memset (f, 0, sizeof *f);
      f->name = xstrdup (name);
      f->ifindex = rtnl_link_get_ifindex (l);
      f->mtu = rtnl_link_get_mtu (l);
      kata_net_format_mac (nl_addr_get_binary_addr (a), 6, f->mac);
    }
  if (p->n > 1)
    qsort (p->ifaces, p->n, sizeof *p->ifaces, cmp_iface);
}

static void
discover_addrs (struct nl_cache *addrs, kata_net_plan_t *p)
{
  struct nl_object *o;
  for (o = nl_cache_get_first (addrs); o; o = nl_cache_get_next (o))
    {
      struct rtnl_addr *ad = (struct rtnl_addr *)o;
      kata_net_iface_t *f = plan_iface_by_index (p, rtnl_addr_get_ifindex (ad));
      struct nl_addr *local = rtnl_addr_get_local (ad);
      int family = rtnl_addr_get_family (ad);
      kata_net_addr_t *na;
      if (f == NULL || local == NULL || (family != AF_INET && family != AF_INET6))
        continue;
      if (nl_addr_get_len (local) != (family == AF_INET ? 4u : 16u))
        continue;
      if (family == AF_INET6 && kata_net_is_link_local6 (nl_addr_get_binary_addr (local)))
        continue;
      f->addrs = xrealloc (f->addrs, (f->n_addrs + 1) * sizeof *f->addrs);
      na = &f->addrs[f->n_addrs++];
      na->family = family;
      na->address = kata_net_format_cidr (family, nl_addr_get_binary_addr (local), -1);
      na->prefix = rtnl_addr_get_prefixlen (ad);
    }
}

static char *
addr_str (struct nl_addr *a, int family)
{
  if (a == NULL || nl_addr_get_len (a) != (family == AF_INET ? 4u : 16u))
    return NULL;
  return kata_net_format_cidr (family, nl_addr_get_binary_addr (a), -1);
}

static void
discover_routes (struct nl_cache *routes, kata_net_plan_t *p)
{
  struct nl_object *o;
  for (o = nl_cache_get_first (routes); o; o = nl_cache_get_next (o))
    {
      struct rtnl_route *rt = (struct rtnl_route *)o;
      int family = rtnl_route_get_family (rt);
      struct rtnl_nexthop *nh;
      struct nl_addr *dst;
      kata_net_iface_t *f;
      kata_net_route_t *r;
      unsigned plen;
      if ((family != AF_INET && family != AF_INET6) || rtnl_route_get_table (rt) != RT_TABLE_MAIN
          || rtnl_route_get_type (rt) != RTN_UNICAST || rtnl_route_get_protocol (rt) == RTPROT_KERNEL
          || rtnl_route_get_nnexthops (rt) < 1)
        continue;
      /* multipath routes keep their first hop only */
      nh = rtnl_route_nexthop_n (rt, 0);
      f = nh ? plan_iface_by_index (p, rtnl_route_nh_get_ifindex (nh)) : NULL;
      if (f == NULL)
        continue;
      dst = rtnl_route_get_dst (rt);
      plen = dst ? nl_addr_get_prefixlen (dst) : 0;
      if (family == AF_INET6 && plen > 0 && nl_addr_get_len (dst) == 16
          && kata_net_is_link_local6 (nl_addr_get_binary_addr (dst)))
        continue;
      p->routes = xrealloc (p->routes, (p->n_routes + 1) * sizeof *p->routes);
      r = &p->routes[p->n_routes++];
      memset (r, 0, sizeof *r);
      r->family = family;
      /* "default" is IPv4 to the agent; IPv6 says "::/0" so the family is explicit. */
      if (plen == 0)
        r->dest = xstrdup (family == AF_INET ? "default" : "::/0");
      else
        r->dest = kata_net_format_cidr (family, nl_addr_get_binary_addr (dst), plen);
      r->gateway = addr_str (rtnl_route_nh_get_gateway (nh), family);
      r->device = xstrdup (f->name);
      r->source = addr_str (rtnl_route_get_pref_src (rt), family);
      r->scope = rtnl_route_get_scope (rt);
    }
}

/* Drops from P the interfaces whose ifindex is in KNOWN (already wired). */
static void
drop_known (kata_net_plan_t *p, const int *known, size_t nknown)
{
  size_t i, k = 0;
  for (i = 0; i < p->n; i++)
    {
      size_t j;
      bool seen = false;
      for (j = 0; j < nknown && !seen; j++)
        seen = known[j] == p->ifaces[i].ifindex;
      if (seen)
        free (p->ifaces[i].name);
      else
        p->ifaces[k++] = p->ifaces[i];
    }
  p->n = k;
}

/* Links (but those in KNOWN), their addresses and the routes through them. */
static int
discover_in_ns (struct nl_sock *s, kata_net_plan_t *p, const int *known, size_t nknown, kata_error_t **err)
{
  cleanup_nl_cache struct nl_cache *links = NULL;
  cleanup_nl_cache struct nl_cache *addrs = NULL;
  cleanup_nl_cache struct nl_cache *routes = NULL;
  int r;
  if ((r = rtnl_link_alloc_cache (s, AF_UNSPEC, &links)) < 0)
    return nl_fail (err, r, "list links");
  discover_links (links, p);
  if (nknown)
    drop_known (p, known, nknown);
  if (p->n == 0)
    return 0;
  if ((r = rtnl_addr_alloc_cache (s, &addrs)) < 0)
    return nl_fail (err, r, "list addresses");
  discover_addrs (addrs, p);
  if ((r = rtnl_route_alloc_cache (s, AF_UNSPEC, 0, &routes)) < 0)
    return nl_fail (err, r, "list routes");
  discover_routes (routes, p);
  return 0;
}

int
kata_network_discover (const char *netns_path, kata_net_plan_t **plan, kata_error_t **err)
{
  cleanup_net_plan kata_net_plan_t *p = plan_new (netns_path, "tcfilter");
  cleanup_nl_sock struct nl_sock *s = NULL;
  int orig = -1, r;
  if (netns_path == NULL)
    return kata_make_error_nostr (err, EINVAL, "discover: no network namespace");
  if (kata_netns_enter (netns_path, &orig, err) < 0)
    return -1;
  r = nl_open (&s, err);
  if (r == 0)
    r = discover_in_ns (s, p, NULL, 0, err);
  kata_netns_leave (orig);
  if (r < 0)
    return kata_error_wrap (err, "network namespace `%s`", netns_path);
  plan_finish_json (p);
  *plan = STEAL_POINTER (&p);
  return 0;
}

/* ---- tc: qdiscs and filters ------------------------------------------- */

static int
add_ingress (struct nl_sock *s, int ifindex, const char *name, kata_error_t **err)
{
  cleanup_nl_obj struct rtnl_qdisc *q = rtnl_qdisc_alloc ();
  int r;
  if (q == NULL)
    return kata_make_error (err, ENOMEM, "qdisc");
  rtnl_tc_set_ifindex (TC_CAST (q), ifindex);
  rtnl_tc_set_parent (TC_CAST (q), TC_H_INGRESS);
  rtnl_tc_set_handle (TC_CAST (q), INGRESS_HANDLE);
  if ((r = rtnl_tc_set_kind (TC_CAST (q), "ingress")) < 0)
    return nl_fail (err, r, "ingress qdisc kind");
  r = rtnl_qdisc_add (s, q, NLM_F_CREATE | NLM_F_EXCL);
  /* an ingress qdisc that is already there is shared: our filter goes first */
  if (r < 0 && r != -NLE_EXIST)
    return nl_fail (err, r, "add ingress qdisc on %s", name);
  return 0;
}

/* u32 match-all on FROM's ingress -> mirred egress redirect to TO (stolen). */
static int
add_redirect (struct nl_sock *s, int from, const char *from_name, int to, const char *to_name,
              kata_error_t **err)
{
  cleanup_nl_obj struct rtnl_cls *cls = rtnl_cls_alloc ();
  struct rtnl_act *act = rtnl_act_alloc ();
  int r;
  if (cls == NULL || act == NULL)
    {
      if (act)
        rtnl_act_put (act);
      return kata_make_error (err, ENOMEM, "tc filter");
    }
  rtnl_tc_set_ifindex (TC_CAST (cls), from);
  rtnl_tc_set_parent (TC_CAST (cls), INGRESS_HANDLE);
  rtnl_cls_set_protocol (cls, ETH_P_ALL);
  r = rtnl_tc_set_kind (TC_CAST (cls), "u32");
  if (r == 0)
    r = rtnl_u32_set_cls_terminal (cls);
  if (r == 0)
    r = rtnl_u32_add_key_uint32 (cls, 0, 0, 0, 0); /* match u32 0 0 */
  if (r == 0)
    r = rtnl_tc_set_kind (TC_CAST (act), "mirred");
  if (r == 0)
    {
      rtnl_mirred_set_action (act, TCA_EGRESS_REDIR);
      rtnl_mirred_set_policy (act, TC_ACT_STOLEN);
      rtnl_mirred_set_ifindex (act, to);
      r = rtnl_u32_add_action (cls, act);
    }
  rtnl_act_put (act); /* the filter holds its own reference */
  if (r < 0)
    return nl_fail (err, r, "build filter %s -> %s", from_name, to_name);
  if ((r = rtnl_cls_add (s, cls, NLM_F_CREATE)) < 0)
    return nl_fail (err, r, "add filter %s ingress -> %s egress", from_name, to_name);
  return 0;
}

/* ---- taps ------------------------------------------------------------- */

/* Opens the tap NAME in the current netns (FLAGS: IFF_TAP | IFF_NO_PI and maybe
   IFF_VNET_HDR): a new one, not persistent (it lives while an fd to it is open), or
   a persistent one that no queue holds (then it is attached to). */
static int
open_tap (const char *name, int flags, int *fdp, kata_error_t **err)
{
  struct ifreq ifr;
  cleanup_close int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return kata_make_error (err, errno, "open /dev/net/tun");
  memset (&ifr, 0, sizeof ifr);
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  ifr.ifr_flags = flags; /* no IFF_MULTI_QUEUE */
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    return kata_make_error (err, errno, "open tap %s", name);
  if (fd < 3)
    {
      /* a child may dup2 onto 0..2: keep the tap fd clear of them */
      int hi = fcntl (fd, F_DUPFD_CLOEXEC, 3);
      if (hi < 0)
        return kata_make_error (err, errno, "dup tap fd");
      close (fd);
      fd = hi;
    }
  *fdp = steal_fd (&fd);
  return 0;
}

/* Brings IFINDEX up, with MTU when > 0. */
static int
link_up (struct nl_sock *s, int ifindex, const char *name, int mtu, kata_error_t **err)
{
  cleanup_nl_obj struct rtnl_link *old = rtnl_link_alloc ();
  cleanup_nl_obj struct rtnl_link *chg = rtnl_link_alloc ();
  int r;
  if (old == NULL || chg == NULL)
    return kata_make_error (err, ENOMEM, "link");
  rtnl_link_set_ifindex (old, ifindex);
  if (mtu > 0)
    rtnl_link_set_mtu (chg, mtu);
  rtnl_link_set_flags (chg, IFF_UP);
  if ((r = rtnl_link_change (s, old, chg, 0)) < 0)
    return nl_fail (err, r, "set %s up", name);
  return 0;
}

/* No IPv6 link-local address on the tap: it would only chatter at the guest. */
static void
tap_quiet (struct nl_sock *s, int ifindex)
{
  cleanup_nl_obj struct rtnl_link *old = rtnl_link_alloc ();
  cleanup_nl_obj struct rtnl_link *chg = rtnl_link_alloc ();
  if (old == NULL || chg == NULL)
    return;
  rtnl_link_set_ifindex (old, ifindex);
  if (rtnl_link_inet6_set_addr_gen_mode (chg, rtnl_link_inet6_str2addrgenmode ("none")) == 0)
    (void)rtnl_link_change (s, old, chg, 0);
}

static int
link_index (struct nl_sock *s, const char *name, kata_error_t **err)
{
  cleanup_nl_obj struct rtnl_link *l = NULL;
  int r = rtnl_link_get_kernel (s, 0, name, &l);
  if (r < 0)
    return nl_fail (err, r, "find link %s", name);
  return rtnl_link_get_ifindex (l);
}

/* Makes the persistent tap tap<TAPNO>_kata for F, links the two with tc. */
static int
wire_iface (struct nl_sock *s, kata_net_iface_t *f, size_t tapno, kata_error_t **err)
{
  cleanup_close int fd = -1;
  int idx;
  free (f->tap);
  f->tap = kata_net_tap_name (tapno);
  if (open_tap (f->tap, IFF_TAP | IFF_NO_PI, &fd, err) < 0)
    return -1;
  if ((idx = link_index (s, f->tap, err)) < 0)
    return -1;
  f->tap_ifindex = idx;
  tap_quiet (s, f->tap_ifindex);
  if (link_up (s, f->tap_ifindex, f->tap, f->mtu, err) < 0 || link_up (s, f->ifindex, f->name, 0, err) < 0)
    return -1;
  if (add_ingress (s, f->ifindex, f->name, err) < 0 || add_ingress (s, f->tap_ifindex, f->tap, err) < 0)
    return -1;
  if (add_redirect (s, f->ifindex, f->name, f->tap_ifindex, f->tap, err) < 0
      || add_redirect (s, f->tap_ifindex, f->tap, f->ifindex, f->name, err) < 0)
    return -1;
  /* last, so that a failure before leaves no tap: until then it vanishes with our fd */
  if (ioctl (fd, TUNSETPERSIST, 1) < 0)
    return kata_make_error (err, errno, "make tap %s persistent", f->tap);
  kata_debug ("network: %s (%s, mtu %d) <-> %s", f->name, f->mac, f->mtu, f->tap);
  return 0;
}

/* ---- teardown (in the netns) ------------------------------------------ */

static bool
in_set (const int *v, size_t n, int x)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (v[i] == x)
      return true;
  return false;
}

/* True when IFINDEX's ingress has a mirred redirect to one of TAPS, or to a
   device that is gone (mirred reports 0 or a stale index). */
static bool
ingress_is_ours (struct nl_sock *s, struct nl_cache *links, int ifindex, const int *taps, size_t n)
{
  cleanup_nl_cache struct nl_cache *cls = NULL;
  struct nl_object *o;
  if (rtnl_cls_alloc_cache (s, ifindex, INGRESS_HANDLE, &cls) < 0)
    return false;
  for (o = nl_cache_get_first (cls); o; o = nl_cache_get_next (o))
    {
      struct rtnl_cls *c = (struct rtnl_cls *)o;
      struct rtnl_act *a;
      const char *kind = rtnl_tc_get_kind (TC_CAST (c));
      if (kind == NULL || strcmp (kind, "u32") != 0)
        continue;
      for (a = rtnl_u32_get_action (c); a; a = rtnl_act_next (a))
        {
          const char *ak = rtnl_tc_get_kind (TC_CAST (a));
          struct rtnl_link *target;
          int to;
          if (ak == NULL || strcmp (ak, "mirred") != 0)
            continue;
          to = (int)rtnl_mirred_get_ifindex (a);
          if (to == 0 || in_set (taps, n, to))
            return true;
          target = rtnl_link_get (links, to);
          if (target == NULL)
            return true;
          rtnl_link_put (target);
        }
    }
  return false;
}

static int
teardown_in_ns (struct nl_sock *s, char **taps, size_t n, kata_error_t **err)
{
  cleanup_nl_cache struct nl_cache *links = NULL;
  cleanup_nl_cache struct nl_cache *qdiscs = NULL;
  cleanup_free int *idx = NULL;
  cleanup_free char **names = NULL;
  struct nl_object *o;
  size_t i;
  int r, ret = 0;

  if ((r = rtnl_link_alloc_cache (s, AF_UNSPEC, &links)) < 0)
    return nl_fail (err, r, "list links");
  if ((r = rtnl_qdisc_alloc_cache (s, &qdiscs)) < 0)
    return nl_fail (err, r, "list qdiscs");
  if (taps == NULL)
    {
      /* every tap<N>_kata of the netns: one sandbox per netns */
      n = 0;
      for (o = nl_cache_get_first (links); o; o = nl_cache_get_next (o))
        n += is_kata_tap (rtnl_link_get_name ((struct rtnl_link *)o)) ? 1 : 0;
      taps = names = xmalloc0 ((n + 1) * sizeof (char *));
      n = 0;
      for (o = nl_cache_get_first (links); o; o = nl_cache_get_next (o))
        if (is_kata_tap (rtnl_link_get_name ((struct rtnl_link *)o)))
          names[n++] = rtnl_link_get_name ((struct rtnl_link *)o);
    }
  idx = xmalloc0 ((n + 1) * sizeof (int));
  for (i = 0; i < n; i++)
    {
      struct rtnl_link *l = taps[i] ? rtnl_link_get_by_name (links, taps[i]) : NULL;
      if (l)
        {
          idx[i] = rtnl_link_get_ifindex (l);
          rtnl_link_put (l);
        }
    }
  /* the other side first: its filters name the taps' indexes */
  for (o = nl_cache_get_first (links); o; o = nl_cache_get_next (o))
    {
      int ifindex = rtnl_link_get_ifindex ((struct rtnl_link *)o);
      struct rtnl_qdisc *q;
      if (in_set (idx, n, ifindex))
        continue;
      q = rtnl_qdisc_get_by_parent (qdiscs, ifindex, TC_H_INGRESS);
      if (q == NULL)
        continue;
      if (ingress_is_ours (s, links, ifindex, idx, n))
        {
          r = rtnl_qdisc_delete (s, q);
          if (r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_INVAL && ret == 0)
            ret = nl_fail (err, r, "delete ingress qdisc of %s", rtnl_link_get_name ((struct rtnl_link *)o));
          else
            kata_debug ("network: removed ingress qdisc of %s", rtnl_link_get_name ((struct rtnl_link *)o));
        }
      rtnl_qdisc_put (q);
    }
  /* deleting a tap takes its qdisc and filters with it */
  for (i = 0; i < n; i++)
    {
      cleanup_nl_obj struct rtnl_link *l = NULL;
      if (idx[i] == 0)
        continue;
      l = rtnl_link_alloc ();
      rtnl_link_set_ifindex (l, idx[i]);
      r = rtnl_link_delete (s, l);
      if (r < 0 && r != -NLE_NODEV && r != -NLE_OBJ_NOTFOUND && ret == 0)
        ret = nl_fail (err, r, "delete tap %s", taps[i]);
      else
        kata_debug ("network: removed %s", taps[i]);
    }
  return ret;
}

int
kata_network_teardown (const char *netns_path, char **taps, size_t n, kata_error_t **err)
{
  cleanup_nl_sock struct nl_sock *s = NULL;
  kata_error_t *e = NULL;
  int orig = -1, r;
  if (netns_path == NULL)
    return 0;
  if (kata_netns_enter (netns_path, &orig, &e) < 0)
    {
      /* the netns is gone, and everything that lived in it */
      if (e->status == ENOENT || e->status == EINVAL)
        {
          kata_error_free (e);
          return 0;
        }
      *err = e;
      return -1;
    }
  r = nl_open (&s, err);
  if (r == 0)
    r = teardown_in_ns (s, taps, n, err);
  kata_netns_leave (orig);
  if (r < 0)
    return kata_error_wrap (err, "network teardown in `%s`", netns_path);
  return 0;
}

/* ---- setup ------------------------------------------------------------ */

char *
kata_network_resolv_loopback (const char *path)
{
  cleanup_free char *data = NULL;
  char *line, *save = NULL;
  if (path == NULL || kata_read_file (path, &data, NULL, 1 << 16, NULL) < 0)
    return NULL;
  for (line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      struct in_addr a;
      char addr[64];
      if (sscanf (line, " nameserver %63s", addr) == 1 && inet_pton (AF_INET, addr, &a) == 1
          && (ntohl (a.s_addr) >> 24) == 127)
        return xstrdup (addr);
    }
  return NULL;
}

/* Another sandbox's VM carries this netns (docker --network container:<kata id>):
   its taps and redirects are not ours to touch, and a NIC cannot be in two VMs. */
static int
taken_error (const char *netns_path, const char *tap, kata_error_t **err)
{
  return kata_make_error_nostr (err, EBUSY,
                                "network namespace `%s` already carries another kata sandbox's VM (%s): a VM "
                                "cannot share another VM's network; give the container a network of its own",
                                netns_path, tap);
}

/* True when PATH is the same netns as OTHER (a /proc/.../ns/net path). */
static bool
same_netns (const char *path, const char *other)
{
  struct stat a, b;
  return stat (path, &a) == 0 && stat (other, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int
kata_network_check_free (const char *netns_path, kata_error_t **err)
{
  cleanup_net_plan kata_net_plan_t *p = NULL;
  /* docker --network host names its own netns (/var/run/docker/netns/default): the
     interfaces there are the host's, and tcfilter would take them all over */
  if (same_netns (netns_path, "/proc/self/ns/net") || same_netns (netns_path, "/proc/1/ns/net"))
    return kata_make_error_nostr (
        err, EPERM,
        "network namespace `%s` is the host's (host networking was requested): a VM "
        "cannot take over the host's interfaces; run the container without host "
        "networking",
        netns_path);
  if (kata_network_discover (netns_path, &p, err) < 0)
    return -1;
  return p->foreign_tap ? taken_error (netns_path, p->foreign_tap, err) : 0;
}

/* Wires P's interfaces in the current netns, taps numbered from TAPNO0; on failure
   removes what it made (the taps it created, and only those: a device that already
   had a tap's name is not ours, and the interfaces' ingress qdiscs). */
static int
wire_all (struct nl_sock *s, kata_net_plan_t *p, size_t tapno0, kata_error_t **err)
{
  size_t i;
  int r = 0;
  for (i = 0; r == 0 && i < p->n; i++)
    r = wire_iface (s, &p->ifaces[i], tapno0 + i, err);
  if (r < 0)
    {
      cleanup_free char **names = xmalloc0 ((p->n + 1) * sizeof (char *));
      cleanup_error kata_error_t *e2 = NULL;
      for (i = 0; i < p->n; i++)
        names[i] = p->ifaces[i].tap_ifindex > 0 ? p->ifaces[i].tap : NULL;
      teardown_in_ns (s, names, p->n, &e2);
    }
  return r;
}

static int
check_model (const char *model, kata_error_t **err)
{
  if (strcmp (model, "none") != 0 && strcmp (model, "tcfilter") != 0)
    return kata_make_error_nostr (
        err, KATA_EBADCONFIG, "internetworking_model `%s` is not supported (use tcfilter or none)", model);
  return 0;
}

int
kata_network_setup (const char *netns_path, const char *model, kata_net_plan_t **plan, kata_error_t **err)
{
  cleanup_net_plan kata_net_plan_t *p = NULL;
  cleanup_nl_sock struct nl_sock *s = NULL;
  int orig = -1, r;

  if (model == NULL || *model == '\0')
    model = "tcfilter";
  if (check_model (model, err) < 0)
    return -1;
  p = plan_new (netns_path, model);
  if (netns_path == NULL || strcmp (model, "none") == 0)
    {
      plan_finish_json (p);
      *plan = STEAL_POINTER (&p);
      return 0;
    }
  if (kata_netns_enter (netns_path, &orig, err) < 0)
    return -1;
  r = nl_open (&s, err);
  if (r == 0)
    r = discover_in_ns (s, p, NULL, 0, err);
  if (r == 0 && p->foreign_tap)
    {
      kata_netns_leave (orig);
      return taken_error (netns_path, p->foreign_tap, err);
    }
  if (r == 0)
    r = wire_all (s, p, 0, err);
  kata_netns_leave (orig);
  if (r < 0)
    return kata_error_wrap (err, "network setup in `%s`", netns_path);
  plan_finish_json (p);
  *plan = STEAL_POINTER (&p);
  return 0;
}

/* ---- hot-plug: interfaces that appeared after setup -------------------- */

/* The tap number after the highest of P's taps. */
static size_t
next_tapno (const kata_net_plan_t *p)
{
  size_t i, next = 0;
  for (i = 0; i < p->n; i++)
    {
      const char *t = p->ifaces[i].tap;
      unsigned long v;
      if (t && is_kata_tap (t))
        {
          v = strtoul (t + strlen (KATA_NET_TAP_PREFIX), NULL, 10);
          if (v + 1 > next)
            next = v + 1;
        }
    }
  return next;
}

/* Appends the interfaces of ADD to P (moved: ADD keeps copies of names, taps). */
static void
plan_append (kata_net_plan_t *p, const kata_net_plan_t *add)
{
  size_t i;
  p->ifaces = xrealloc (p->ifaces, (p->n + add->n + 1) * sizeof *p->ifaces);
  for (i = 0; i < add->n; i++)
    {
      kata_net_iface_t *f = &p->ifaces[p->n++];
      memset (f, 0, sizeof *f);
      f->name = xstrdup (add->ifaces[i].name);
      f->tap = add->ifaces[i].tap ? xstrdup (add->ifaces[i].tap) : NULL;
      f->ifindex = add->ifaces[i].ifindex;
      f->tap_ifindex = add->ifaces[i].tap_ifindex;
      memcpy (f->mac, add->ifaces[i].mac, sizeof f->mac);
      f->mtu = add->ifaces[i].mtu;
    }
}

int
kata_network_add_new (const char *state_path, kata_net_plan_t **plan, kata_error_t **err)
{
  cleanup_net_plan kata_net_plan_t *st = NULL;
  cleanup_net_plan kata_net_plan_t *p = NULL;
  cleanup_nl_sock struct nl_sock *s = NULL;
  cleanup_free int *known = NULL;
  cleanup_free char *old = NULL;
  size_t i, n0;
  int orig = -1, r;

  *plan = NULL;
  if (kata_network_state_load (state_path, &st, err) < 0)
    return -1;
  p = plan_new (st ? st->netns_path : NULL, st ? st->model : "none");
  if (st == NULL || st->netns_path == NULL || !st->has_ifaces || strcmp (st->model, "none") == 0)
    {
      /* no network, model "none" (the VM gets no NIC, whatever the netns holds), or
         a state written before interfaces were recorded */
      plan_finish_json (p);
      *plan = STEAL_POINTER (&p);
      return 0;
    }
  known = xmalloc0 ((st->n + 1) * sizeof (int));
  for (i = 0; i < st->n; i++)
    known[i] = st->ifaces[i].ifindex;
  if (kata_netns_enter (st->netns_path, &orig, err) < 0)
    return kata_error_wrap (err, "network hot-plug");
  r = nl_open (&s, err);
  if (r == 0)
    r = discover_in_ns (s, p, known, st->n, err);
  if (r == 0 && p->n > 0)
    {
      /* recorded first, taps included: a crash from here on leaves them to teardown */
      size_t tapno = next_tapno (st);
      old = kata_network_state_json (st);
      for (i = 0; i < p->n; i++)
        p->ifaces[i].tap = kata_net_tap_name (tapno + i);
      n0 = st->n;
      plan_append (st, p);
      r = kata_network_save_state (st, state_path, err);
      if (r == 0)
        r = wire_all (s, p, tapno, err);
      if (r < 0)
        {
          /* nothing is left of them: forget them, so that a retry sees them again */
          st->n = n0;
          (void)kata_write_file_atomic (state_path, old, strlen (old), 0600, NULL);
          for (i = n0; i < n0 + p->n; i++)
            {
              free (st->ifaces[i].name);
              free (st->ifaces[i].tap);
            }
        }
      else
        for (i = 0; i < p->n; i++)
          st->ifaces[n0 + i].tap_ifindex = p->ifaces[i].tap_ifindex;
    }
  kata_netns_leave (orig);
  if (r < 0)
    return kata_error_wrap (err, "network hot-plug in `%s`", st->netns_path);
  plan_finish_json (p);
  *plan = STEAL_POINTER (&p);
  return 0;
}

int
kata_network_open_tap (const char *netns_path, const char *tap, int *fd, kata_error_t **err)
{
  int orig = -1, r;
  if (netns_path && kata_netns_enter (netns_path, &orig, err) < 0)
    return -1;
  /* IFF_VNET_HDR: as QEMU itself asks when it opens a tap by name */
  r = open_tap (tap, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, fd, err);
  if (orig >= 0)
    kata_netns_leave (orig);
  if (r < 0 && netns_path)
    return kata_error_wrap (err, "network namespace `%s`", netns_path);
  return r;
}

/* ---- state ------------------------------------------------------------ */

char *
kata_network_state_json (const kata_net_plan_t *plan)
{
  yajl_gen g = kata_gen_new ();
  size_t i;
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "netns", plan ? plan->netns_path : NULL);
  kata_gen_kv_str (g, "model", plan && plan->model ? plan->model : "none");
  kata_gen_kv_bool (g, "owned", plan && plan->netns_owned);
  kata_gen_str (g, "taps");
  yajl_gen_array_open (g);
  for (i = 0; plan && i < plan->n; i++)
    if (plan->ifaces[i].tap)
      kata_gen_str (g, plan->ifaces[i].tap);
  yajl_gen_array_close (g);
  /* what is wired (and so known to the VM): an interface not listed is new */
  kata_gen_str (g, "interfaces");
  yajl_gen_array_open (g);
  for (i = 0; plan && i < plan->n; i++)
    {
      const kata_net_iface_t *f = &plan->ifaces[i];
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "name", f->name);
      kata_gen_kv_int (g, "ifindex", f->ifindex);
      kata_gen_kv_str (g, "mac", f->mac);
      kata_gen_kv_str (g, "tap", f->tap);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

int
kata_network_save_state (const kata_net_plan_t *plan, const char *path, kata_error_t **err)
{
  cleanup_free char *j = kata_network_state_json (plan);
  return kata_write_file_atomic (path, j, strlen (j), 0600, err);
}

/* network.json at PATH, parsed into *V; *V is NULL (and 0 returned) when there is none. */
static int
read_net_state (const char *path, yajl_val *v, kata_error_t **err)
{
  cleanup_free char *data = NULL;
  kata_error_t *e = NULL;
  size_t len = 0;
  *v = NULL;
  if (kata_read_file (path, &data, &len, 1 << 20, &e) < 0)
    {
      if (e->status == ENOENT)
        {
          kata_error_free (e);
          return 0;
        }
      *err = e;
      return -1;
    }
  if (kata_json_parse (data, len, v, err) < 0)
    return kata_error_wrap (err, "network state `%s`", path);
  return 0;
}

int
kata_network_save_intent (const char *netns_path, const char *model, bool owned, const char *path,
                          kata_error_t **err)
{
  kata_net_plan_t p = { .netns_path = (char *)netns_path,
                        .model = (char *)(model ? model : "tcfilter"),
                        .netns_owned = owned };
  return kata_network_save_state (&p, path, err);
}

int
kata_network_state_load (const char *path, kata_net_plan_t **plan, kata_error_t **err)
{
  cleanup_yajl_val yajl_val v = NULL;
  cleanup_net_plan kata_net_plan_t *p = NULL;
  yajl_val arr;
  size_t i;

  *plan = NULL;
  if (read_net_state (path, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  p = plan_new (kata_json_str (v, "netns"), kata_json_str (v, "model"));
  p->netns_owned = kata_json_bool (v, "owned", false);
  arr = kata_json_array (v, "interfaces");
  p->has_ifaces = arr != NULL;
  p->ifaces = xmalloc0 (((arr ? arr->u.array.len : 0) + 1) * sizeof *p->ifaces);
  for (i = 0; arr && i < arr->u.array.len; i++)
    {
      yajl_val o = arr->u.array.values[i];
      kata_net_iface_t *f = &p->ifaces[p->n];
      const char *name = kata_json_str (o, "name"), *mac = kata_json_str (o, "mac"),
                 *tap = kata_json_str (o, "tap");
      if (name == NULL)
        continue;
      f->name = xstrdup (name);
      f->tap = tap ? xstrdup (tap) : NULL;
      f->ifindex = (int)kata_json_int (o, "ifindex", 0);
      snprintf (f->mac, sizeof f->mac, "%s", mac ? mac : "");
      p->n++;
    }
  *plan = STEAL_POINTER (&p);
  return 0;
}

int
kata_network_teardown_state (const char *path, kata_error_t **err)
{
  cleanup_yajl_val yajl_val v = NULL;
  cleanup_free char **taps = NULL;
  yajl_val arr;
  size_t i, n = 0;
  const char *netns, *model, *owned_path;

  if (read_net_state (path, &v, err) < 0)
    return -1;
  if (v == NULL)
    return 0;
  netns = kata_json_str (v, "netns");
  model = kata_json_str (v, "model");
  owned_path = kata_json_bool (v, "owned", false) ? netns : NULL;
  if (model && strcmp (model, "none") == 0)
    netns = NULL;
  arr = kata_json_array (v, "taps");
  taps = xmalloc0 (((arr ? arr->u.array.len : 0) + 1) * sizeof (char *));
  for (i = 0; arr && i < arr->u.array.len; i++)
    if (YAJL_IS_STRING (arr->u.array.values[i]))
      taps[n++] = YAJL_GET_STRING (arr->u.array.values[i]);
  /* no names recorded (saved before setup): every tap<N>_kata of the netns */
  if (kata_network_teardown (netns, n ? taps : NULL, n, err) < 0)
    return -1;
  if (owned_path && kata_netns_remove (owned_path, err) < 0)
    return -1;
  if (unlink (path) < 0 && errno != ENOENT)
    return kata_make_error (err, errno, "remove `%s`", path);
  return 0;
}

/* ---- network namespaces ----------------------------------------------- */

int
kata_netns_create (const char *path, kata_error_t **err)
{
  int fd, status;
  pid_t pid;

  fd = open (path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return kata_make_error (err, errno, "create `%s`", path);
  close (fd);
  pid = fork ();
  if (pid < 0)
    return kata_make_error (err, errno, "fork");
  if (pid == 0)
    {
      struct ifreq ifr;
      int sk;
      if (unshare (CLONE_NEWNET) < 0)
        _exit (errno ? errno : EIO);
      sk = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (sk >= 0)
        {
          memset (&ifr, 0, sizeof ifr);
          strcpy (ifr.ifr_name, "lo");
          if (ioctl (sk, SIOCGIFFLAGS, &ifr) == 0)
            {
              ifr.ifr_flags |= IFF_UP;
              (void)ioctl (sk, SIOCSIFFLAGS, &ifr);
            }
          close (sk);
        }
      if (mount ("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
        _exit (errno ? errno : EIO);
      _exit (0);
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return kata_make_error (err, errno, "wait for the netns child");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      int e = WIFEXITED (status) ? WEXITSTATUS (status) : EIO;
      unlink (path);
      return kata_make_error (err, e, "create network namespace `%s`", path);
    }
  return 0;
}

int
kata_netns_remove (const char *path, kata_error_t **err)
{
  if (umount2 (path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return kata_make_error (err, errno, "unmount network namespace `%s`", path);
  if (unlink (path) < 0 && errno != ENOENT)
    return kata_make_error (err, errno, "remove `%s`", path);
  return 0;
}

/* kata-check: can this kernel do tcfilter?  In a throwaway network namespace
   (a child process), add an ingress qdisc on lo and a u32 + mirred filter. */
int
kata_network_probe_tc (kata_error_t **err)
{
  int pfd[2];
  pid_t pid;
  char msg[256] = "";
  ssize_t n;
  int status = 0;
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return kata_make_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (pfd[0]);
      close (pfd[1]);
      return kata_make_error (err, errno, "fork");
    }
  if (pid == 0)
    {
      struct nl_sock *s = NULL;
      kata_error_t *e = NULL;
      int lo;
      close (pfd[0]);
      if (unshare (CLONE_NEWNET) < 0)
        kata_make_error (&e, errno, "unshare(CLONE_NEWNET)");
      else if (nl_open (&s, &e) == 0 && (lo = link_index (s, "lo", &e)) > 0
               && link_up (s, lo, "lo", 0, &e) == 0 && add_ingress (s, lo, "lo", &e) == 0)
        add_redirect (s, lo, "lo", lo, "lo", &e);
      if (e)
        {
          (void)!write (pfd[1], e->msg, strlen (e->msg));
          _exit (1);
        }
      _exit (0);
    }
  close (pfd[1]);
  n = read (pfd[0], msg, sizeof msg - 1);
  close (pfd[0]);
  if (n > 0)
    msg[n] = '\0';
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return kata_make_error_nostr (err, EOPNOTSUPP, "%s", msg[0] ? msg : "tc probe failed");
  return 0;
}
