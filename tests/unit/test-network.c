/* Unit tests of src/runtime/network.c.  The pure helpers run anywhere; the
   netlink tests need root: the test moves itself into private network and
   mount namespaces first (and is skipped, exit 77, when it cannot), so the
   host's network is never touched. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/action.h>
#include <netlink/route/act/mirred.h>
#include <cmocka.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/network.h"

static char tmpdir[] = "/tmp/kata-test-network.XXXXXX";
static bool have_ns; /* running in private namespaces as root */

#define MAC0 "02:00:00:00:00:01"
#define MAC1 "02:00:00:00:00:02"
#define ETH_TEST 0x88b5 /* IEEE local experimental ethertype */

/* ---- pure helpers ------------------------------------------------------ */

static void
test_format_mac (void **state)
{
  const unsigned char m[6] = { 0x02, 0xab, 0, 0x10, 0xff, 0x7 };
  char out[18];
  assert_int_equal (kata_net_format_mac (m, 6, out), 0);
  assert_string_equal (out, "02:ab:00:10:ff:07");
  assert_int_equal (kata_net_format_mac (m, 5, out), -1);
  assert_int_equal (kata_net_format_mac (NULL, 6, out), -1);
}

static void
test_format_cidr (void **state)
{
  struct in_addr a4;
  struct in6_addr a6;
  char *s;
  inet_pton (AF_INET, "10.1.2.0", &a4);
  inet_pton (AF_INET6, "fd00:1::5", &a6);
  s = kata_net_format_cidr (AF_INET, &a4, 24);
  assert_string_equal (s, "10.1.2.0/24");
  free (s);
  s = kata_net_format_cidr (AF_INET, &a4, -1);
  assert_string_equal (s, "10.1.2.0");
  free (s);
  s = kata_net_format_cidr (AF_INET6, &a6, 64);
  assert_string_equal (s, "fd00:1::5/64");
  free (s);
  s = kata_net_format_cidr (AF_INET, &a4, 0);
  assert_string_equal (s, "10.1.2.0/0");
  free (s);
  assert_null (kata_net_format_cidr (AF_UNIX, &a4, 8));
}

static void
test_link_local6 (void **state)
{
  struct in6_addr a;
  inet_pton (AF_INET6, "fe80::1", &a);
  assert_true (kata_net_is_link_local6 (&a));
  inet_pton (AF_INET6, "febf:ffff::1", &a);
  assert_true (kata_net_is_link_local6 (&a));
  inet_pton (AF_INET6, "fec0::1", &a);
  assert_false (kata_net_is_link_local6 (&a));
  inet_pton (AF_INET6, "fd00::1", &a);
  assert_false (kata_net_is_link_local6 (&a));
}

static void
test_scope_and_tap_names (void **state)
{
  char buf[12];
  char *t;
  assert_string_equal (kata_net_scope_name (RT_SCOPE_UNIVERSE, buf, sizeof buf), "universe");
  assert_string_equal (kata_net_scope_name (RT_SCOPE_LINK, buf, sizeof buf), "link");
  assert_string_equal (kata_net_scope_name (RT_SCOPE_HOST, buf, sizeof buf), "host");
  assert_string_equal (kata_net_scope_name (RT_SCOPE_SITE, buf, sizeof buf), "200");
  t = kata_net_tap_name (0);
  assert_string_equal (t, "tap0_kata");
  free (t);
  t = kata_net_tap_name (12);
  assert_string_equal (t, "tap12_kata");
  free (t);
}

/* A plan built by hand, as discovery would fill it. */
static kata_net_plan_t *
fake_plan (void)
{
  kata_net_plan_t *p = xmalloc0 (sizeof *p);
  kata_net_iface_t *f;
  p->netns_path = xstrdup ("/run/netns/x");
  p->model = xstrdup ("tcfilter");
  p->n = 2;
  p->ifaces = xmalloc0 (2 * sizeof *p->ifaces);
  f = &p->ifaces[0];
  f->name = xstrdup ("eth0");
  f->tap = xstrdup ("tap0_kata");
  strcpy (f->mac, MAC0);
  f->mtu = 1450;
  f->n_addrs = 2;
  f->addrs = xmalloc0 (2 * sizeof *f->addrs);
  f->addrs[0] = (kata_net_addr_t){ AF_INET, xstrdup ("10.88.0.5"), 16 };
  f->addrs[1] = (kata_net_addr_t){ AF_INET6, xstrdup ("fd00::5"), 64 };
  f = &p->ifaces[1];
  f->name = xstrdup ("net1");
  f->tap = xstrdup ("tap1_kata");
  strcpy (f->mac, MAC1);
  f->mtu = 1500;
  p->n_routes = 2;
  p->routes = xmalloc0 (2 * sizeof *p->routes);
  p->routes[0] = (kata_net_route_t){ AF_INET, xstrdup ("default"), xstrdup ("10.88.0.1"), xstrdup ("eth0"),
                                     NULL,    RT_SCOPE_UNIVERSE };
  p->routes[1] = (kata_net_route_t){ AF_INET,          xstrdup ("192.168.7.0/24"), NULL,
                                     xstrdup ("net1"), xstrdup ("192.168.7.9"),    RT_SCOPE_LINK };
  return p;
}

static void
test_iface_json (void **state)
{
  kata_net_plan_t *p = fake_plan ();
  char *j = kata_net_iface_json (&p->ifaces[0]);
  assert_string_equal (j,
                       "{\"name\":\"eth0\",\"hw_addr\":\"" MAC0 "\",\"mtu\":1450,\"addresses\":["
                       "{\"address\":\"10.88.0.5\",\"prefix\":16},{\"address\":\"fd00::5\",\"prefix\":64}]}");
  free (j);
  j = kata_net_iface_json (&p->ifaces[1]);
  assert_string_equal (j, "{\"name\":\"net1\",\"hw_addr\":\"" MAC1 "\",\"mtu\":1500,\"addresses\":[]}");
  free (j);
  j = kata_network_interfaces_json (p);
  assert_true (j[0] == '[');
  assert_non_null (strstr (j, "\"name\":\"net1\""));
  free (j);
  j = kata_network_interfaces_json (NULL);
  assert_string_equal (j, "[]");
  free (j);
  kata_network_plan_free (p);
}

static void
test_routes_json (void **state)
{
  kata_net_plan_t *p = fake_plan ();
  char *j = kata_net_routes_json (p->routes, p->n_routes);
  assert_string_equal (
      j, "{\"routes\":["
         "{\"dest\":\"default\",\"gateway\":\"10.88.0.1\",\"device\":\"eth0\",\"scope\":\"universe\"},"
         "{\"dest\":\"192.168.7.0/24\",\"device\":\"net1\",\"source\":\"192.168.7.9\","
         "\"scope\":\"link\"}]}");
  free (j);
  j = kata_net_routes_json (NULL, 0);
  assert_string_equal (j, "{\"routes\":[]}");
  free (j);
  kata_network_plan_free (p);
}

static void
test_state_json (void **state)
{
  kata_net_plan_t *p = fake_plan ();
  char *j = NULL;
  kata_net_plan_t *back = NULL;
  kata_error_t *err = NULL;
  char *path = xasprintf ("%s/state-json.json", tmpdir);
  p->ifaces[0].ifindex = 7;
  p->ifaces[1].ifindex = 9;
  free (j);
  j = kata_network_state_json (p);
  assert_string_equal (j, "{\"netns\":\"/run/netns/x\",\"model\":\"tcfilter\",\"owned\":false,"
                          "\"taps\":[\"tap0_kata\",\"tap1_kata\"],\"interfaces\":["
                          "{\"name\":\"eth0\",\"ifindex\":7,\"mac\":\"" MAC0 "\",\"tap\":\"tap0_kata\"},"
                          "{\"name\":\"net1\",\"ifindex\":9,\"mac\":\"" MAC1 "\",\"tap\":\"tap1_kata\"}]}");
  free (j);
  j = kata_network_state_json (NULL);
  assert_string_equal (j,
                       "{\"netns\":null,\"model\":\"none\",\"owned\":false,\"taps\":[],\"interfaces\":[]}");
  free (j);
  /* and back */
  p->netns_owned = true;
  assert_int_equal (kata_network_save_state (p, path, &err), 0);
  assert_int_equal (kata_network_state_load (path, &back, &err), 0);
  assert_non_null (back);
  assert_true (back->has_ifaces);
  assert_true (back->netns_owned);
  assert_string_equal (back->netns_path, "/run/netns/x");
  assert_string_equal (back->model, "tcfilter");
  assert_int_equal (back->n, 2);
  assert_string_equal (back->ifaces[1].name, "net1");
  assert_string_equal (back->ifaces[1].tap, "tap1_kata");
  assert_string_equal (back->ifaces[1].mac, MAC1);
  assert_int_equal (back->ifaces[1].ifindex, 9);
  kata_network_plan_free (back);
  /* a state from before interfaces were recorded; none at all */
  assert_int_equal (kata_network_save_intent ("/run/netns/x", "tcfilter", false, path, &err), 0);
  {
    const char *old = "{\"netns\":\"/run/netns/x\",\"model\":\"tcfilter\",\"owned\":false,\"taps\":[]}";
    assert_int_equal (kata_write_file_atomic (path, old, strlen (old), 0600, &err), 0);
  }
  assert_int_equal (kata_network_state_load (path, &back, &err), 0);
  assert_false (back->has_ifaces);
  assert_int_equal (back->n, 0);
  kata_network_plan_free (back);
  unlink (path);
  assert_int_equal (kata_network_state_load (path, &back, &err), 0);
  assert_null (back);
  free (path);
  kata_network_plan_free (p);
}

static void
test_bad_model_and_none (void **state)
{
  kata_net_plan_t *p = NULL;
  kata_error_t *err = NULL;
  assert_int_equal (kata_network_setup ("/nonexistent", "macvtap", &p, &err), -1);
  assert_int_equal (err->status, KATA_EBADCONFIG);
  assert_non_null (strstr (err->msg, "macvtap"));
  kata_error_free (err);
  err = NULL;
  /* none never opens the netns */
  assert_int_equal (kata_network_setup ("/nonexistent", "none", &p, &err), 0);
  assert_int_equal (p->n, 0);
  assert_string_equal (p->routes_json, "{\"routes\":[]}");
  kata_network_plan_free (p);
  assert_int_equal (kata_network_setup (NULL, "tcfilter", &p, &err), 0);
  assert_int_equal (p->n, 0);
  kata_network_plan_free (p);
  /* a teardown of nothing */
  assert_int_equal (kata_network_teardown (NULL, NULL, 0, &err), 0);
  assert_int_equal (kata_network_teardown ("/nonexistent/netns", NULL, 0, &err), 0);
}

/* ---- netlink fixtures (inside the private netns) ---------------------- */

static struct nl_sock *
nl (void)
{
  struct nl_sock *s = nl_socket_alloc ();
  assert_non_null (s);
  assert_int_equal (nl_connect (s, NETLINK_ROUTE), 0);
  return s;
}

static int saved_ns = -1;

static void
enter (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (saved_ns, -1);
  saved_ns = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  assert_true (saved_ns >= 0);
  assert_int_equal (setns (fd, CLONE_NEWNET), 0);
  close (fd);
}

static void
leave (void)
{
  assert_int_equal (setns (saved_ns, CLONE_NEWNET), 0);
  close (saved_ns);
  saved_ns = -1;
}

static ino_t
own_ns_ino (void)
{
  struct stat st;
  assert_int_equal (stat ("/proc/thread-self/ns/net", &st), 0);
  return st.st_ino;
}

static int
ifindex_of (struct nl_sock *s, const char *name)
{
  struct rtnl_link *l = NULL;
  int idx;
  if (rtnl_link_get_kernel (s, 0, name, &l) < 0)
    return 0;
  idx = rtnl_link_get_ifindex (l);
  rtnl_link_put (l);
  return idx;
}

static void
link_set (struct nl_sock *s, const char *name, const char *mac, int mtu, int nsfd)
{
  struct rtnl_link *old = NULL, *chg = rtnl_link_alloc ();
  assert_int_equal (rtnl_link_get_kernel (s, 0, name, &old), 0);
  if (mac)
    {
      struct nl_addr *a = NULL;
      assert_int_equal (nl_addr_parse (mac, AF_LLC, &a), 0);
      rtnl_link_set_addr (chg, a);
      nl_addr_put (a);
    }
  if (mtu)
    rtnl_link_set_mtu (chg, mtu);
  if (nsfd >= 0)
    rtnl_link_set_ns_fd (chg, nsfd);
  else
    rtnl_link_set_flags (chg, IFF_UP);
  assert_int_equal (rtnl_link_change (s, old, chg, 0), 0);
  rtnl_link_put (old);
  rtnl_link_put (chg);
}

static void
addr_add (struct nl_sock *s, const char *dev, const char *cidr)
{
  struct rtnl_addr *a = rtnl_addr_alloc ();
  struct nl_addr *l = NULL;
  assert_int_equal (nl_addr_parse (cidr, AF_UNSPEC, &l), 0);
  rtnl_addr_set_ifindex (a, ifindex_of (s, dev));
  assert_int_equal (rtnl_addr_set_local (a, l), 0);
  rtnl_addr_set_flags (a, IFA_F_NODAD);
  assert_int_equal (rtnl_addr_add (s, a, 0), 0);
  nl_addr_put (l);
  rtnl_addr_put (a);
}

static void
route_add (struct nl_sock *s, const char *dst, const char *gw, const char *dev)
{
  struct rtnl_route *r = rtnl_route_alloc ();
  struct rtnl_nexthop *nh = rtnl_route_nh_alloc ();
  struct nl_addr *d = NULL, *g = NULL;
  assert_int_equal (nl_addr_parse (gw, AF_UNSPEC, &g), 0);
  assert_int_equal (nl_addr_parse (dst, nl_addr_get_family (g), &d), 0);
  rtnl_route_set_family (r, nl_addr_get_family (g));
  rtnl_route_set_dst (r, d);
  rtnl_route_set_table (r, RT_TABLE_MAIN);
  rtnl_route_set_protocol (r, RTPROT_STATIC);
  rtnl_route_nh_set_gateway (nh, g);
  rtnl_route_nh_set_ifindex (nh, ifindex_of (s, dev));
  rtnl_route_add_nexthop (r, nh);
  assert_int_equal (rtnl_route_add (s, r, NLM_F_CREATE), 0);
  nl_addr_put (d);
  nl_addr_put (g);
  rtnl_route_put (r);
}

/* A veth pair: NAME (with MAC/MTU, moved into NETNS when given) <-> PEER here. */
static void
veth (struct nl_sock *s, const char *name, const char *peer, const char *mac, int mtu, const char *netns)
{
  assert_int_equal (rtnl_link_veth_add (s, name, peer, getpid ()), 0);
  link_set (s, name, mac, mtu, -1);
  link_set (s, peer, NULL, 0, -1);
  if (netns)
    {
      int fd = open (netns, O_RDONLY | O_CLOEXEC);
      assert_true (fd >= 0);
      link_set (s, name, NULL, 0, fd);
      close (fd);
    }
}

static char *
ns_path (const char *name)
{
  return xasprintf ("%s/%s", tmpdir, name);
}

static char *
new_ns (const char *name)
{
  char *p = ns_path (name);
  kata_error_t *err = NULL;
  if (kata_netns_create (p, &err) < 0)
    fail_msg ("kata_netns_create: %s", err->msg);
  return p;
}

static bool
has_ingress (struct nl_sock *s, int ifindex)
{
  struct nl_cache *c = NULL;
  struct rtnl_qdisc *q;
  bool r;
  assert_int_equal (rtnl_qdisc_alloc_cache (s, &c), 0);
  q = rtnl_qdisc_get_by_parent (c, ifindex, TC_H_INGRESS);
  r = q != NULL && strcmp (rtnl_tc_get_kind (TC_CAST (q)), "ingress") == 0
      && rtnl_tc_get_handle (TC_CAST (q)) == TC_H_MAKE (TC_H_INGRESS, 0);
  if (q)
    rtnl_qdisc_put (q);
  nl_cache_free (c);
  return r;
}

/* Number of u32 filters on FROM's ingress whose action is a mirred egress
   redirect (stolen) to TO, with a match-all key. */
static int
redirects (struct nl_sock *s, int from, int to)
{
  struct nl_cache *c = NULL;
  struct nl_object *o;
  int n = 0;
  if (rtnl_cls_alloc_cache (s, from, TC_H_MAKE (TC_H_INGRESS, 0), &c) < 0)
    return 0;
  for (o = nl_cache_get_first (c); o; o = nl_cache_get_next (o))
    {
      struct rtnl_cls *cls = (struct rtnl_cls *)o;
      struct rtnl_act *a;
      uint32_t val = 1, mask = 1;
      int off = -1, offmask = -1;
      if (strcmp (rtnl_tc_get_kind (TC_CAST (cls)), "u32") != 0)
        continue;
      for (a = rtnl_u32_get_action (cls); a; a = rtnl_act_next (a))
        if (strcmp (rtnl_tc_get_kind (TC_CAST (a)), "mirred") == 0 && (int)rtnl_mirred_get_ifindex (a) == to
            && rtnl_mirred_get_action (a) == TCA_EGRESS_REDIR && rtnl_mirred_get_policy (a) == TC_ACT_STOLEN)
          {
            assert_int_equal (rtnl_u32_get_key (cls, 0, &val, &mask, &off, &offmask), 0);
            assert_int_equal (val, 0);
            assert_int_equal (mask, 0);
            assert_int_equal (rtnl_cls_get_protocol (cls), ETH_P_ALL);
            n++;
          }
    }
  nl_cache_free (c);
  return n;
}

/* An AF_PACKET socket on IFNAME (in the current netns) for ETH_TEST frames. */
static int
packet_socket (const char *ifname)
{
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons (ETH_TEST) };
  int fd = socket (AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons (ETH_TEST));
  assert_true (fd >= 0);
  sll.sll_ifindex = if_nametoindex (ifname);
  assert_true (sll.sll_ifindex > 0);
  assert_int_equal (bind (fd, (struct sockaddr *)&sll, sizeof sll), 0);
  return fd;
}

static size_t
make_frame (unsigned char *f, const char *payload)
{
  size_t n = strlen (payload);
  memset (f, 0, 60);
  memset (f, 0xff, 6);                           /* broadcast */
  memcpy (f + 6, "\x02\x00\x00\x00\x00\x09", 6); /* a made-up source */
  f[12] = ETH_TEST >> 8;
  f[13] = ETH_TEST & 0xff;
  memcpy (f + 14, payload, n);
  return 14 + n < 60 ? 60 : 14 + n;
}

/* Reads frames from FD for up to 3 s until one of ETH_TEST carries PAYLOAD; the
   frame starts at OFF (a tap opened with IFF_VNET_HDR: after the 10-byte header). */
static bool
wait_frame_at (int fd, const char *payload, size_t off)
{
  unsigned char buf[2048];
  int i;
  for (i = 0; i < 30; i++)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      ssize_t n;
      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (fd, buf, sizeof buf);
      if (n >= (ssize_t)(off + 14 + strlen (payload)) && buf[off + 12] == (ETH_TEST >> 8)
          && buf[off + 13] == (ETH_TEST & 0xff) && memcmp (buf + off + 14, payload, strlen (payload)) == 0)
        return true;
    }
  return false;
}

static bool
wait_frame (int fd, const char *payload)
{
  return wait_frame_at (fd, payload, 0);
}

/* ---- netlink tests ---------------------------------------------------- */

#define NEED_NS()                                                                                            \
  do                                                                                                         \
    {                                                                                                        \
      if (!have_ns)                                                                                          \
        skip ();                                                                                             \
    }                                                                                                        \
  while (0)

static void
test_netns_create_remove (void **state)
{
  struct stat a, b;
  kata_error_t *err = NULL;
  char *p;
  NEED_NS ();
  p = new_ns ("ns-cr");
  assert_int_equal (stat (p, &a), 0);
  assert_int_equal (stat ("/proc/self/ns/net", &b), 0);
  assert_true (a.st_ino != b.st_ino); /* a netns file, and not ours */
  enter (p);
  {
    struct nl_sock *s = nl ();
    struct rtnl_link *lo = NULL;
    assert_int_equal (rtnl_link_get_kernel (s, 0, "lo", &lo), 0);
    assert_true (rtnl_link_get_flags (lo) & IFF_UP);
    rtnl_link_put (lo);
    nl_socket_free (s);
  }
  leave ();
  assert_int_equal (kata_netns_remove (p, &err), 0);
  assert_int_equal (access (p, F_OK), -1);
  assert_int_equal (kata_netns_remove (p, &err), 0); /* again: nothing to do */
  free (p);
}

static void
test_empty_netns (void **state)
{
  kata_net_plan_t *p = NULL;
  kata_error_t *err = NULL;
  char *ns;
  NEED_NS ();
  ns = new_ns ("ns-empty");
  assert_int_equal (kata_network_setup (ns, "tcfilter", &p, &err), 0);
  assert_int_equal (p->n, 0);
  assert_int_equal (p->n_routes, 0);
  assert_string_equal (p->routes_json, "{\"routes\":[]}");
  assert_string_equal (p->netns_path, ns);
  kata_network_plan_free (p);
  assert_int_equal (kata_network_discover (ns, &p, &err), 0);
  assert_int_equal (p->n, 0);
  kata_network_plan_free (p);
  assert_int_equal (kata_network_teardown (ns, NULL, 0, &err), 0);
  assert_int_equal (kata_netns_remove (ns, &err), 0);
  /* a missing netns is an error for setup */
  assert_int_equal (kata_network_setup (ns, "tcfilter", &p, &err), -1);
  assert_int_equal (err->status, ENOENT);
  kata_error_free (err);
  free (ns);
}

/* The netns of a pod: eth0 (MAC0, MTU 1400, v4 + v6 addresses, default routes
   and one more route) paired with peer0 in the test's own netns. */
static char *
pod_ns (const char *name, const char *peer)
{
  char *ns = new_ns (name);
  struct nl_sock *s = nl ();
  veth (s, "eth0", peer, MAC0, 1400, ns);
  addr_add (s, peer, "10.99.0.1/24");
  nl_socket_free (s);
  enter (ns);
  s = nl ();
  link_set (s, "eth0", NULL, 0, -1);
  addr_add (s, "eth0", "10.99.0.2/24");
  addr_add (s, "eth0", "fd00:99::2/64");
  route_add (s, "default", "10.99.0.1", "eth0");
  route_add (s, "10.100.0.0/16", "10.99.0.254", "eth0");
  route_add (s, "default", "fd00:99::1", "eth0");
  nl_socket_free (s);
  leave ();
  return ns;
}

static void
test_setup_teardown (void **state)
{
  kata_net_plan_t *p = NULL;
  kata_error_t *err = NULL;
  cleanup_yajl_val yajl_val v = NULL;
  cleanup_yajl_val yajl_val rv = NULL;
  yajl_val a, routes;
  ino_t before;
  int eth, tap, pk, fl, tfd = -1;
  struct nl_sock *s;
  unsigned char frame[128];
  size_t flen, i;
  bool def4 = false, def6 = false, extra = false;
  char *ns;
  NEED_NS ();
  ns = pod_ns ("ns-pod", "peer0");
  before = own_ns_ino ();
  if (kata_network_setup (ns, "tcfilter", &p, &err) < 0)
    fail_msg ("setup: %s", err->msg);
  assert_true (own_ns_ino () == before); /* back in our own netns */

  assert_int_equal (p->n, 1);
  assert_string_equal (p->ifaces[0].name, "eth0");
  assert_string_equal (p->ifaces[0].tap, "tap0_kata");
  assert_string_equal (p->ifaces[0].mac, MAC0);
  assert_int_equal (p->ifaces[0].mtu, 1400);
  assert_int_equal (kata_json_parse (p->ifaces[0].update_json, strlen (p->ifaces[0].update_json), &v, &err),
                    0);
  assert_int_equal (kata_json_int (v, "wait_ms", 0), KATA_NET_NIC_WAIT_MS);
  yajl_tree_free (v);
  v = NULL;

  /* UpdateInterface: MAC, MTU, both addresses, no link-local */
  assert_int_equal (kata_json_parse (p->ifaces[0].update_json, strlen (p->ifaces[0].update_json), &v, &err),
                    0);
  assert_string_equal (kata_json_str (v, "name"), "eth0");
  assert_string_equal (kata_json_str (v, "hw_addr"), MAC0);
  assert_int_equal (kata_json_int (v, "mtu", 0), 1400);
  a = kata_json_array (v, "addresses");
  assert_non_null (a);
  assert_int_equal (a->u.array.len, 2);
  assert_string_equal (kata_json_str (a->u.array.values[0], "address"), "10.99.0.2");
  assert_int_equal (kata_json_int (a->u.array.values[0], "prefix", 0), 24);
  assert_string_equal (kata_json_str (a->u.array.values[1], "address"), "fd00:99::2");
  assert_int_equal (kata_json_int (a->u.array.values[1], "prefix", 0), 64);

  /* UpdateRoutes: both defaults and the extra route; no kernel-made route */
  assert_int_equal (kata_json_parse (p->routes_json, strlen (p->routes_json), &rv, &err), 0);
  routes = kata_json_array (rv, "routes");
  assert_non_null (routes);
  assert_int_equal (routes->u.array.len, 3);
  for (i = 0; i < routes->u.array.len; i++)
    {
      yajl_val r = routes->u.array.values[i];
      const char *dest = kata_json_str (r, "dest"), *gw = kata_json_str (r, "gateway");
      assert_string_equal (kata_json_str (r, "device"), "eth0");
      if (strcmp (dest, "default") == 0)
        def4 = strcmp (gw, "10.99.0.1") == 0 && strcmp (kata_json_str (r, "scope"), "universe") == 0;
      else if (strcmp (dest, "::/0") == 0)
        def6 = strcmp (gw, "fd00:99::1") == 0;
      else if (strcmp (dest, "10.100.0.0/16") == 0)
        extra = strcmp (gw, "10.99.0.254") == 0;
      else
        fail_msg ("unexpected route %s", dest);
    }
  assert_true (def4 && def6 && extra);

  /* the tap is persistent: it is there without any fd, and can be attached to once
     (as QEMU does, by name or through the monitor's hot-plug) */
  if (kata_network_open_tap (ns, "tap0_kata", &tfd, &err) < 0)
    fail_msg ("open tap: %s", err->msg);
  assert_true (own_ns_ino () == before);
  assert_true (tfd >= 3);
  fl = fcntl (tfd, F_GETFD);
  assert_true (fl & FD_CLOEXEC);
  {
    int busy = -1;
    assert_int_equal (kata_network_open_tap (ns, "tap0_kata", &busy, &err), -1);
    assert_int_equal (err->status, EBUSY);
    kata_error_free (err);
    err = NULL;
  }

  /* the netns now has the tap, both ingress qdiscs and both filters */
  enter (ns);
  s = nl ();
  eth = ifindex_of (s, "eth0");
  tap = ifindex_of (s, "tap0_kata");
  assert_true (eth > 0 && tap > 0);
  assert_int_equal (p->ifaces[0].tap_ifindex, tap);
  {
    struct rtnl_link *l = NULL;
    assert_int_equal (rtnl_link_get_kernel (s, tap, NULL, &l), 0);
    assert_int_equal (rtnl_link_get_mtu (l), 1400);
    assert_true (rtnl_link_get_flags (l) & IFF_UP);
    rtnl_link_put (l);
  }
  assert_true (has_ingress (s, eth));
  assert_true (has_ingress (s, tap));
  assert_int_equal (redirects (s, eth, tap), 1);
  assert_int_equal (redirects (s, tap, eth), 1);
  nl_socket_free (s);
  leave ();

  /* frames really cross: peer0 -> eth0 -> tap fd, and tap fd -> eth0 -> peer0 */
  pk = packet_socket ("peer0");
  flen = make_frame (frame, "to-guest");
  assert_int_equal (send (pk, frame, flen, 0), (ssize_t)flen);
  assert_true (wait_frame_at (tfd, "to-guest", 10));
  flen = make_frame (frame + 10, "from-guest");
  memset (frame, 0, 10); /* an empty virtio_net_hdr */
  assert_int_equal (write (tfd, frame, flen + 10), (ssize_t)flen + 10);
  assert_true (wait_frame (pk, "from-guest"));
  close (pk);

  /* a second setup sees the tap as ours, not as an interface */
  {
    kata_net_plan_t *d = NULL;
    assert_int_equal (kata_network_discover (ns, &d, &err), 0);
    assert_int_equal (d->n, 1);
    assert_string_equal (d->ifaces[0].name, "eth0");
    kata_network_plan_free (d);
  }

  /* teardown from the tap names, while the tap is still held open (by QEMU) */
  {
    char *taps[] = { "tap0_kata" };
    assert_int_equal (kata_network_teardown (ns, taps, 1, &err), 0);
  }
  enter (ns);
  s = nl ();
  assert_int_equal (ifindex_of (s, "tap0_kata"), 0);
  assert_false (has_ingress (s, eth));
  assert_int_equal (ifindex_of (s, "eth0"), eth); /* the veth stays */
  nl_socket_free (s);
  leave ();
  /* and again: nothing left to do */
  assert_int_equal (kata_network_teardown (ns, NULL, 0, &err), 0);
  close (tfd);

  kata_network_plan_free (p);
  assert_int_equal (kata_netns_remove (ns, &err), 0);
  /* the netns goes (asynchronously, in the kernel), and the pair with it:
     nothing of ours kept a reference to it */
  s = nl ();
  for (i = 0; i < 100 && ifindex_of (s, "peer0") != 0; i++)
    usleep (50000);
  assert_int_equal (ifindex_of (s, "peer0"), 0);
  nl_socket_free (s);
  free (ns);
}

/* After a crash: the tap vanished with its last fd (QEMU), the veth's ingress
   still redirects to nothing; teardown from the netns path alone cleans it,
   and leaves an ingress qdisc that is not ours alone. */
static void
test_teardown_after_crash (void **state)
{
  kata_net_plan_t *p = NULL;
  kata_error_t *err = NULL;
  struct nl_sock *s;
  char *ns, *statef;
  int eth, other;
  NEED_NS ();
  ns = pod_ns ("ns-crash", "peer1");
  enter (ns);
  s = nl ();
  veth (s, "other0", "other1", MAC1, 0, NULL);
  other = ifindex_of (s, "other0");
  {
    struct rtnl_qdisc *q = rtnl_qdisc_alloc ();
    rtnl_tc_set_ifindex (TC_CAST (q), other);
    rtnl_tc_set_parent (TC_CAST (q), TC_H_INGRESS);
    rtnl_tc_set_handle (TC_CAST (q), TC_H_MAKE (TC_H_INGRESS, 0));
    rtnl_tc_set_kind (TC_CAST (q), "ingress");
    assert_int_equal (rtnl_qdisc_add (s, q, NLM_F_CREATE), 0);
    rtnl_qdisc_put (q);
  }
  nl_socket_free (s);
  leave ();

  if (kata_network_setup (ns, "tcfilter", &p, &err) < 0)
    fail_msg ("setup: %s", err->msg);
  assert_int_equal (p->n, 3); /* eth0, other0, other1 */
  statef = xasprintf ("%s/network.json", tmpdir);
  assert_int_equal (kata_network_save_state (p, statef, &err), 0);
  kata_network_plan_free (p);

  /* a tap that went behind our back: eth0's ingress redirects to nothing */
  enter (ns);
  s = nl ();
  {
    struct rtnl_link *l = rtnl_link_alloc ();
    rtnl_link_set_ifindex (l, ifindex_of (s, "tap0_kata"));
    assert_int_equal (rtnl_link_delete (s, l), 0);
    rtnl_link_put (l);
  }
  eth = ifindex_of (s, "eth0");
  assert_int_equal (ifindex_of (s, "tap0_kata"), 0);
  assert_true (has_ingress (s, eth)); /* left behind, redirecting to nothing */
  nl_socket_free (s);
  leave ();

  if (kata_network_teardown_state (statef, &err) < 0)
    fail_msg ("teardown: %s", err->msg);
  assert_int_equal (access (statef, F_OK), -1);
  assert_int_equal (kata_network_teardown_state (statef, &err), 0); /* no state: nothing to do */
  /* a state saved before setup names no tap: every tap<N>_kata goes */
  {
    kata_net_plan_t *p2 = NULL;
    assert_int_equal (kata_network_save_intent (ns, "tcfilter", false, statef, &err), 0);
    assert_int_equal (kata_network_setup (ns, "tcfilter", &p2, &err), 0);
    kata_network_plan_free (p2);
    enter (ns);
    s = nl ();
    assert_true (ifindex_of (s, "tap0_kata") > 0);
    nl_socket_free (s);
    leave ();
    assert_int_equal (kata_network_teardown_state (statef, &err), 0);
    assert_int_equal (access (statef, F_OK), -1);
    enter (ns);
    s = nl ();
    assert_int_equal (ifindex_of (s, "tap0_kata"), 0);
    assert_int_equal (ifindex_of (s, "tap2_kata"), 0);
    nl_socket_free (s);
    leave ();
  }
  /* model none in the state: the netns is not touched */
  {
    kata_net_plan_t *p2 = NULL;
    assert_int_equal (kata_network_setup (ns, "tcfilter", &p2, &err), 0);
    kata_network_plan_free (p2);
    assert_int_equal (kata_network_save_intent (ns, "none", false, statef, &err), 0);
    assert_int_equal (kata_network_teardown_state (statef, &err), 0);
    enter (ns);
    s = nl ();
    assert_true (ifindex_of (s, "tap0_kata") > 0);
    nl_socket_free (s);
    leave ();
    assert_int_equal (kata_network_teardown (ns, NULL, 0, &err), 0);
  }
  enter (ns);
  s = nl ();
  assert_false (has_ingress (s, eth));
  assert_false (has_ingress (s, ifindex_of (s, "other1")));
  /* other0's ingress held our filter on top of its own qdisc: both go */
  assert_false (has_ingress (s, other));
  nl_socket_free (s);
  leave ();
  assert_int_equal (kata_netns_remove (ns, &err), 0);
  free (statef);
  free (ns);
}

/* The taps are persistent: no fd is kept, the tap outlives the plan (QEMU opens
   it by name), its filters work, and teardown from the netns path removes it. */
static void
test_persistent (void **state)
{
  kata_net_plan_t *p = NULL;
  kata_error_t *err = NULL;
  struct nl_sock *s;
  char *ns;
  int eth, tap;
  NEED_NS ();
  ns = pod_ns ("ns-persist", "peer2");
  if (kata_network_setup (ns, "tcfilter", &p, &err) < 0)
    fail_msg ("setup: %s", err->msg);
  assert_int_equal (p->n, 1);
  assert_string_equal (p->ifaces[0].tap, "tap0_kata");
  kata_network_plan_free (p);
  enter (ns);
  s = nl ();
  eth = ifindex_of (s, "eth0");
  tap = ifindex_of (s, "tap0_kata");
  assert_true (tap > 0); /* still there without any fd */
  assert_true (has_ingress (s, eth));
  assert_true (has_ingress (s, tap));
  assert_int_equal (redirects (s, eth, tap), 1);
  assert_int_equal (redirects (s, tap, eth), 1);
  nl_socket_free (s);
  leave ();
  assert_int_equal (kata_network_teardown (ns, NULL, 0, &err), 0);
  enter (ns);
  s = nl ();
  assert_int_equal (ifindex_of (s, "tap0_kata"), 0);
  assert_false (has_ingress (s, eth));
  nl_socket_free (s);
  leave ();
  assert_int_equal (kata_netns_remove (ns, &err), 0);
  free (ns);
}

/* `ctr run --cni`: an interface that appears after setup is found by
   kata_network_add_new, wired with the next tap number, recorded (tap included)
   in the state file, and torn down with the rest; the known one is left alone. */
static void
test_add_new (void **state)
{
  kata_net_plan_t *p = NULL;
  kata_error_t *err = NULL;
  cleanup_yajl_val yajl_val rv = NULL;
  yajl_val routes;
  struct nl_sock *s;
  char *ns, *statef = xasprintf ("%s/network-add.json", tmpdir);
  cleanup_free char *data = NULL;
  int eth, net1, tap0, tap1;
  NEED_NS ();
  ns = pod_ns ("ns-add", "peer4");
  /* before anything: no state file, nothing to add */
  assert_int_equal (kata_network_add_new (statef, &p, &err), 0);
  assert_int_equal (p->n, 0);
  kata_network_plan_free (p);
  if (kata_network_setup (ns, "tcfilter", &p, &err) < 0)
    fail_msg ("setup: %s", err->msg);
  p->netns_owned = false;
  assert_int_equal (kata_network_save_state (p, statef, &err), 0);
  kata_network_plan_free (p);
  /* nothing new yet */
  if (kata_network_add_new (statef, &p, &err) < 0)
    fail_msg ("add_new: %s", err->msg);
  assert_int_equal (p->n, 0);
  assert_string_equal (p->routes_json, "{\"routes\":[]}");
  kata_network_plan_free (p);

  /* CNI adds net1 (MAC1, 10.98.0.2/24, a route through it) */
  s = nl ();
  veth (s, "net1", "peer5", MAC1, 1450, ns);
  nl_socket_free (s);
  enter (ns);
  s = nl ();
  link_set (s, "net1", NULL, 0, -1);
  addr_add (s, "net1", "10.98.0.2/24");
  route_add (s, "10.97.0.0/16", "10.98.0.1", "net1");
  nl_socket_free (s);
  leave ();

  if (kata_network_add_new (statef, &p, &err) < 0)
    fail_msg ("add_new: %s", err->msg);
  assert_int_equal (p->n, 1);
  assert_string_equal (p->ifaces[0].name, "net1");
  assert_string_equal (p->ifaces[0].tap, "tap1_kata");
  assert_string_equal (p->ifaces[0].mac, MAC1);
  assert_int_equal (p->ifaces[0].mtu, 1450);
  assert_non_null (strstr (p->ifaces[0].update_json, "\"address\":\"10.98.0.2\",\"prefix\":24"));
  assert_non_null (strstr (p->ifaces[0].update_json, "\"wait_ms\":"));
  /* only the routes through the new interface */
  assert_int_equal (kata_json_parse (p->routes_json, strlen (p->routes_json), &rv, &err), 0);
  routes = kata_json_array (rv, "routes");
  assert_int_equal (routes->u.array.len, 1);
  assert_string_equal (kata_json_str (routes->u.array.values[0], "dest"), "10.97.0.0/16");
  assert_string_equal (kata_json_str (routes->u.array.values[0], "device"), "net1");
  kata_network_plan_free (p);
  /* recorded: both taps, both interfaces */
  assert_int_equal (kata_read_file (statef, &data, NULL, 65536, &err), 0);
  assert_non_null (strstr (data, "\"taps\":[\"tap0_kata\",\"tap1_kata\"]"));
  assert_non_null (strstr (data, "\"name\":\"net1\""));
  /* wired both ways, and the old pair untouched */
  enter (ns);
  s = nl ();
  eth = ifindex_of (s, "eth0");
  net1 = ifindex_of (s, "net1");
  tap0 = ifindex_of (s, "tap0_kata");
  tap1 = ifindex_of (s, "tap1_kata");
  assert_true (tap1 > 0);
  assert_int_equal (redirects (s, net1, tap1), 1);
  assert_int_equal (redirects (s, tap1, net1), 1);
  assert_int_equal (redirects (s, eth, tap0), 1);
  nl_socket_free (s);
  leave ();
  /* once only */
  assert_int_equal (kata_network_add_new (statef, &p, &err), 0);
  assert_int_equal (p->n, 0);
  kata_network_plan_free (p);
  /* teardown from the state file takes both */
  if (kata_network_teardown_state (statef, &err) < 0)
    fail_msg ("teardown: %s", err->msg);
  enter (ns);
  s = nl ();
  assert_int_equal (ifindex_of (s, "tap0_kata"), 0);
  assert_int_equal (ifindex_of (s, "tap1_kata"), 0);
  assert_false (has_ingress (s, net1));
  assert_false (has_ingress (s, eth));
  nl_socket_free (s);
  leave ();
  /* model none: the VM gets no NIC, nothing is made */
  assert_int_equal (kata_network_save_intent (ns, "none", false, statef, &err), 0);
  assert_int_equal (kata_network_add_new (statef, &p, &err), 0);
  assert_int_equal (p->n, 0);
  kata_network_plan_free (p);
  enter (ns);
  s = nl ();
  assert_int_equal (ifindex_of (s, "tap0_kata"), 0);
  nl_socket_free (s);
  leave ();
  unlink (statef);
  assert_int_equal (kata_netns_remove (ns, &err), 0);
  free (statef);
  free (ns);
}

/* A netns that already carries another sandbox's tap (docker --network
   container:<kata id>) is refused and left exactly as it was. */
static void
test_setup_refuses_taken_netns (void **state)
{
  kata_net_plan_t *p = NULL, *p2 = NULL;
  kata_error_t *err = NULL;
  struct nl_sock *s;
  char *ns;
  int eth, tap;
  NEED_NS ();
  ns = pod_ns ("ns-taken", "peer3");
  if (kata_network_setup (ns, "tcfilter", &p, &err) < 0)
    fail_msg ("setup: %s", err->msg);
  kata_network_plan_free (p);
  assert_int_equal (kata_network_setup (ns, "tcfilter", &p2, &err), -1);
  assert_null (p2);
  assert_int_equal (err->status, EBUSY);
  assert_non_null (strstr (err->msg, "tap0_kata"));
  assert_non_null (strstr (err->msg, "another kata sandbox"));
  kata_error_free (err);
  err = NULL;
  enter (ns);
  s = nl ();
  eth = ifindex_of (s, "eth0");
  tap = ifindex_of (s, "tap0_kata");
  assert_true (tap > 0);
  assert_int_equal (ifindex_of (s, "tap1_kata"), 0);
  assert_int_equal (redirects (s, eth, tap), 1); /* the first sandbox's wiring is intact */
  assert_int_equal (redirects (s, tap, eth), 1);
  nl_socket_free (s);
  leave ();
  assert_int_equal (kata_network_teardown (ns, NULL, 0, &err), 0);
  assert_int_equal (kata_netns_remove (ns, &err), 0);
  free (ns);
}

/* A netns the runtime made ("owned" in network.json) goes with the teardown;
   one the caller gave stays. */
static void
test_teardown_removes_owned_netns (void **state)
{
  kata_error_t *err = NULL;
  char *ns, *statef;
  struct stat st;
  NEED_NS ();
  ns = new_ns ("ns-owned");
  statef = xasprintf ("%s/owned.json", tmpdir);
  assert_int_equal (kata_network_save_intent (ns, "tcfilter", false, statef, &err), 0);
  assert_int_equal (kata_network_teardown_state (statef, &err), 0);
  assert_int_equal (stat (ns, &st), 0); /* the caller's: kept */
  assert_int_equal (kata_network_save_intent (ns, "none", true, statef, &err), 0);
  if (kata_network_teardown_state (statef, &err) < 0)
    fail_msg ("teardown: %s", err->msg);
  assert_int_equal (stat (ns, &st), -1); /* ours: unmounted and removed, model none too */
  assert_int_equal (errno, ENOENT);
  assert_int_equal (access (statef, F_OK), -1);
  free (statef);
  free (ns);
}

/* A foreign ingress qdisc (no redirect of ours) survives a teardown. */
static void
test_teardown_keeps_foreign (void **state)
{
  kata_error_t *err = NULL;
  struct nl_sock *s;
  char *ns;
  int idx;
  NEED_NS ();
  ns = new_ns ("ns-foreign");
  enter (ns);
  s = nl ();
  veth (s, "f0", "f1", NULL, 0, NULL);
  idx = ifindex_of (s, "f0");
  {
    struct rtnl_qdisc *q = rtnl_qdisc_alloc ();
    rtnl_tc_set_ifindex (TC_CAST (q), idx);
    rtnl_tc_set_parent (TC_CAST (q), TC_H_INGRESS);
    rtnl_tc_set_handle (TC_CAST (q), TC_H_MAKE (TC_H_INGRESS, 0));
    rtnl_tc_set_kind (TC_CAST (q), "ingress");
    assert_int_equal (rtnl_qdisc_add (s, q, NLM_F_CREATE), 0);
    rtnl_qdisc_put (q);
  }
  nl_socket_free (s);
  leave ();
  assert_int_equal (kata_network_teardown (ns, NULL, 0, &err), 0);
  enter (ns);
  s = nl ();
  assert_true (has_ingress (s, idx));
  nl_socket_free (s);
  leave ();
  assert_int_equal (kata_netns_remove (ns, &err), 0);
  free (ns);
}

/* A failure half-way (the second tap's name is taken by a veth) undoes the
   first interface's wiring and leaves the impostor alone. */
static void
test_setup_rollback (void **state)
{
  kata_net_plan_t *p = NULL;
  kata_error_t *err = NULL;
  struct nl_sock *s;
  char *ns;
  int e0;
  NEED_NS ();
  ns = new_ns ("ns-rollback");
  enter (ns);
  s = nl ();
  /* the impostor is skipped as an interface (its name is a tap's); eth0 is
     wired to tap0_kata, then eth1 fails on tap1_kata */
  veth (s, "eth0", "tap1_kata", MAC0, 0, NULL);
  veth (s, "eth1", "x1", MAC1, 0, NULL);
  e0 = ifindex_of (s, "eth0");
  nl_socket_free (s);
  leave ();
  assert_int_equal (kata_network_setup (ns, "tcfilter", &p, &err), -1);
  assert_int_equal (err->status, EINVAL);
  assert_non_null (strstr (err->msg, "tap1_kata"));
  kata_error_free (err);
  err = NULL;
  enter (ns);
  s = nl ();
  assert_int_equal (ifindex_of (s, "tap0_kata"), 0);
  assert_false (has_ingress (s, e0));
  assert_true (ifindex_of (s, "tap1_kata") > 0);
  nl_socket_free (s);
  leave ();
  assert_int_equal (kata_netns_remove (ns, &err), 0);
  free (ns);
}

/* ---- main ------------------------------------------------------------- */

static bool
private_namespaces (void)
{
  if (geteuid () != 0)
    return false;
  if (unshare (CLONE_NEWNET | CLONE_NEWNS) < 0)
    return false;
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return false;
  return access ("/dev/net/tun", R_OK | W_OK) == 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_format_mac),
    cmocka_unit_test (test_setup_refuses_taken_netns),
    cmocka_unit_test (test_teardown_removes_owned_netns),
    cmocka_unit_test (test_format_cidr),
    cmocka_unit_test (test_link_local6),
    cmocka_unit_test (test_scope_and_tap_names),
    cmocka_unit_test (test_iface_json),
    cmocka_unit_test (test_routes_json),
    cmocka_unit_test (test_state_json),
    cmocka_unit_test (test_bad_model_and_none),
    cmocka_unit_test (test_netns_create_remove),
    cmocka_unit_test (test_empty_netns),
    cmocka_unit_test (test_setup_teardown),
    cmocka_unit_test (test_teardown_after_crash),
    cmocka_unit_test (test_persistent),
    cmocka_unit_test (test_add_new),
    cmocka_unit_test (test_teardown_keeps_foreign),
    cmocka_unit_test (test_setup_rollback),
  };
  int r;
  have_ns = private_namespaces ();
  if (!have_ns)
    fprintf (stderr, "test-network: not root or no private netns: the netlink tests are skipped\n");
  if (mkdtemp (tmpdir) == NULL)
    return 1;
  r = cmocka_run_group_tests (tests, NULL, NULL);
  rmdir (tmpdir);
  return r;
}
