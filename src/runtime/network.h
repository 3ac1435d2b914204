/* Host networking of a sandbox: Kata's "tcfilter" model.

   Every ethernet interface of the sandbox's network namespace (a veth, usually)
   gets a persistent tap `tap<N>_kata` in the same netns; tc ingress + u32
   match-all + mirred egress redirect joins the two in both directions, and QEMU
   gets the tap as a virtio-net device with the veth's MAC (by name on its
   command line, QEMU running in the netns, or hot-plugged as an fd).  The agent then gives
   the guest interface the veth's addresses and the netns' routes
   (UpdateInterface / UpdateRoutes).  Design and cleanup: docs/network.md. */
#ifndef KATA_NETWORK_H
#define KATA_NETWORK_H
#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"

/* Taps are named KATA_NET_TAP_PREFIX<N>KATA_NET_TAP_SUFFIX ("tap0_kata"). */
/* Suggested name of the network state file, in <root>/sbs/<sid>/. */
#define KATA_NET_STATE_FILE "network.json"
#define KATA_NET_TAP_PREFIX "tap"
#define KATA_NET_TAP_SUFFIX "_kata"
/* UpdateInterface's "wait_ms": a hot-plugged NIC (a template clone's, a cached VM's,
   one added at start) may take a moment to appear in the guest. */
#define KATA_NET_NIC_WAIT_MS 10000

typedef struct kata_net_addr_s
{
  int family;    /* AF_INET / AF_INET6 */
  char *address; /* "10.88.0.5", "fd00::5" */
  int prefix;
} kata_net_addr_t;

typedef struct kata_net_route_s
{
  int family;
  char *dest;    /* "default" or a CIDR "10.0.0.0/24" */
  char *gateway; /* NULL when none */
  char *device;  /* the interface's name (in the netns and in the guest) */
  char *source;  /* preferred source, NULL when none */
  int scope;     /* RT_SCOPE_* */
} kata_net_route_t;

typedef struct kata_net_iface_s
{
  char *name;  /* in the netns; the guest interface is renamed to it */
  char *tap;   /* tap<N>_kata, NULL before the tap exists */
  int ifindex; /* in the netns */
  int tap_ifindex;
  char mac[18]; /* "aa:bb:cc:dd:ee:ff": the veth's, and the guest NIC's */
  int mtu;
  kata_net_addr_t *addrs;
  size_t n_addrs;
  char *update_json; /* params of UpdateInterface (with "wait_ms") */
} kata_net_iface_t;

typedef struct kata_net_plan_s
{
  char *netns_path; /* NULL for an empty plan made without a netns */
  char *model;      /* "tcfilter" or "none" */
  kata_net_iface_t *ifaces;
  size_t n;
  kata_net_route_t *routes;
  size_t n_routes;
  char *routes_json; /* params of UpdateRoutes: {"routes":[...]} (never NULL) */
  bool has_ifaces;   /* loaded from a state file that lists its interfaces */
  bool netns_owned;  /* the runtime made the netns (the spec asked for a new one): removed at teardown */
  char *foreign_tap; /* a tap<N>_kata found by discovery: another sandbox's VM uses this netns */
} kata_net_plan_t;

/* Reads the interfaces (lo and non-ethernet links skipped), their addresses
   (IPv6 link-local skipped) and the main table's routes (kernel-made routes
   skipped: the guest makes its own when the addresses are set) of NETNS_PATH.
   No tap is made; tap/tap_fd are NULL/-1.  The JSON fields are filled. */
int kata_network_discover (const char *netns_path, kata_net_plan_t **plan, kata_error_t **err);

/* MODEL "none" (or NETNS_PATH NULL): an empty plan, the VM has only loopback.
   MODEL "tcfilter": discover, then per interface make a persistent tap (no
   multi-queue, no vnet_hdr; QEMU, started inside the netns, opens it by name:
   -netdev tap,ifname=...), set it up with the interface's MTU, add an ingress
   qdisc (ffff:) on both and a u32 match-all filter redirecting (mirred egress,
   stolen) each one's ingress to the other's egress.  The taps outlive QEMU until
   teardown.  The caller's netns is restored before returning.  On failure
   everything made so far is removed.  Other models: KATA_EBADCONFIG. */
int kata_network_setup (const char *netns_path, const char *model, kata_net_plan_t **plan,
                        kata_error_t **err);

/* Hot-plug (docs/network.md "Interfaces added after create"): the interfaces of
   the netns that the state file STATE_PATH does not list (they appeared since
   setup: `ctr run --cni` runs CNI between create and start), wired as setup
   does, taps numbered after the recorded ones.  The state file lists them, taps
   included, before anything is made (a crash leaves them to teardown), and again
   without them when wiring fails.  *PLAN gets only the new interfaces (n == 0:
   none; also when there is no state, no netns, or a state from before
   interfaces were recorded, or model "none") with their UpdateInterface JSON
   and the routes through them. */
int kata_network_add_new (const char *state_path, kata_net_plan_t **plan, kata_error_t **err);

/* Opens (attaches to) the persistent tap TAP inside NETNS_PATH (NULL: ours) with
   IFF_VNET_HDR, for QEMU (netdev_add fd=...); O_CLOEXEC, never 0..2.  EBUSY when
   something holds it already. */
int kata_network_open_tap (const char *netns_path, const char *tap, int *fd, kata_error_t **err);

/* The UpdateInterface params of every interface as one JSON array. */
char *kata_network_interfaces_json (const kata_net_plan_t *plan);

/* What teardown needs, as JSON {"netns": PATH|null, "model": M, "owned": B, "taps": [...],
   "interfaces": [{"name", "ifindex", "mac", "tap"}...]} (the interfaces wired to the VM). */
char *kata_network_state_json (const kata_net_plan_t *plan);
/* Writes kata_network_state_json atomically (0600) to PATH. */
int kata_network_save_state (const kata_net_plan_t *plan, const char *path, kata_error_t **err);
/* The same file before setup (no taps yet), so that a crash during setup
   still leaves the netns path on disk for teardown. */
int kata_network_save_intent (const char *netns_path, const char *model, bool owned, const char *path,
                              kata_error_t **err);
/* Reads the state file PATH into *PLAN (netns, model, owned, the interfaces with
   their taps; no addresses).  A missing file: 0 and *PLAN NULL. */
int kata_network_state_load (const char *path, kata_net_plan_t **plan, kata_error_t **err);
/* Tears down what the state file PATH records (no tap recorded: every
   tap<N>_kata of the netns), then removes it.  A missing file is not an error
   (nothing was set up, or it was already torn down); nor is model "none".
   A netns the runtime made ("owned") is removed last. */
int kata_network_teardown_state (const char *path, kata_error_t **err);
/* The first nameserver of the resolv.conf at PATH that is an IPv4 loopback address
   (docker's embedded DNS, 127.0.0.11): reachable only from inside the host netns,
   so the agent relays it (SetDnsRelay).  NULL when there is none or PATH is unreadable. */
char *kata_network_resolv_loopback (const char *path);

/* Fails with EPERM when NETNS_PATH is the host's netns (the runtime's own, or
   PID 1's: host networking), and with EBUSY when the netns already carries another sandbox's tap: checked
   before network.json names the netns, since a teardown from a state without
   taps removes every tap<N>_kata there. */
int kata_network_check_free (const char *netns_path, kata_error_t **err);
/* kata-check: ingress qdisc + u32 + mirred work (probed in a throwaway netns). */
int kata_network_probe_tc (kata_error_t **err);

/* Removes, inside NETNS_PATH, the taps named in TAPS (TAPS NULL: every
   tap<N>_kata of the netns, since a netns serves one sandbox) and the ingress
   qdisc (with its filters) of every interface whose ingress redirects to one
   of them or to a device that no longer exists (the tap vanished with QEMU).
   Works from the netns path alone, after any crash.  A netns that is gone,
   or taps and qdiscs already gone, are not errors. */
int kata_network_teardown (const char *netns_path, char **taps, size_t n, kata_error_t **err);

void kata_network_plan_free (kata_net_plan_t *plan);
static inline void
kata_network_plan_freep (kata_net_plan_t **p)
{
  kata_network_plan_free (*p);
  *p = NULL;
}
#define cleanup_net_plan __attribute__ ((cleanup (kata_network_plan_freep)))

/* A new network namespace, bind-mounted on PATH (a file, created if missing;
   its directory must exist), as `ip netns add` does: a child unshares
   CLONE_NEWNET and bind-mounts its /proc/self/ns/net there.  Loopback is up. */
int kata_netns_create (const char *path, kata_error_t **err);
/* Unmounts (lazily) and unlinks PATH.  Missing is not an error. */
int kata_netns_remove (const char *path, kata_error_t **err);

/* Moves the calling thread into PATH's netns; *ORIG gets our own, for
   kata_netns_leave, which aborts if it cannot go back (staying would be a
   silent disaster for everything after). */
int kata_netns_enter (const char *path, int *orig, kata_error_t **err);
void kata_netns_leave (int orig);

/* Pure helpers, exposed for tests. */
/* "aa:bb:cc:dd:ee:ff" from 6 bytes (OUT >= 18 bytes); -1 when LEN != 6. */
int kata_net_format_mac (const unsigned char *mac, size_t len, char *out);
/* "10.0.0.0/24" (prefix < 0: no "/prefix"); NULL on a bad family. */
char *kata_net_format_cidr (int family, const void *addr, int prefix);
/* fe80::/10 */
bool kata_net_is_link_local6 (const void *in6_addr);
/* "universe", "link", "host" (the names the agent knows), else the number. BUF >= 12. */
const char *kata_net_scope_name (int scope, char *buf, size_t len);
/* UpdateInterface params of one interface / UpdateRoutes params. */
char *kata_net_iface_json (const kata_net_iface_t *iface);
char *kata_net_routes_json (const kata_net_route_t *routes, size_t n);
/* "tap<N>_kata" (malloc'd). */
char *kata_net_tap_name (size_t n);

#endif
