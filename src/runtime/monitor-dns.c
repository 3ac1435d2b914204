/* The host end of the agent's DNS relay (src/agent/dns.c, docs/network.md): DNS
   messages on KATA_STREAM_DNS are sent from inside the sandbox's network
   namespace to the resolver on its loopback that SetDnsRelay named (docker's
   embedded DNS, 127.0.0.11:53); every answer goes back to the agent as it
   comes.  The agent keeps the per-query state (the transaction id carries its
   slot), so nothing is kept here. */
#include "config.h"
#include "runtime/monitor-internal.h"
#include "runtime/network.h"
#include <arpa/inet.h>
#include <netinet/in.h>

void
mon_dns_note (monitor_t *m, const char *method, yajl_val params)
{
  struct in_addr a;
  const char *addr;
  if (strcmp (method, "SetDnsRelay") != 0)
    return;
  addr = kata_json_str (params, "address");
  if (addr && inet_pton (AF_INET, addr, &a) == 1)
    m->dns_target = a.s_addr;
}

/* The socket lives in the sandbox's netns (so that the netns' own loopback and its
   nat rules, e.g. docker's DNAT of 127.0.0.11:53, apply). */
static int
dns_open (monitor_t *m)
{
  kata_error_t *e = NULL;
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_DNS };
  int orig = -1, fd;
  if (m->dns_open)
    return m->dns_fd;
  if (m->netns_path && kata_netns_enter (m->netns_path, &orig, &e) < 0)
    {
      kata_warn ("sandbox %s: DNS relay: %s", m->sid, e->msg);
      kata_error_free (e);
      return -1;
    }
  fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (orig >= 0)
    kata_netns_leave (orig);
  if (fd < 0)
    return -1;
  if (epoll_ctl (m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    {
      close (fd);
      return -1;
    }
  m->dns_fd = fd;
  m->dns_open = true;
  return fd;
}

void
mon_dns_query (monitor_t *m, const void *q, size_t n)
{
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (53), .sin_addr.s_addr = m->dns_target };
  int fd;
  if (m->dns_target == 0 || n < 12)
    return; /* SetDnsRelay never went through: nothing to relay to */
  fd = dns_open (m);
  if (fd >= 0)
    (void)sendto (fd, q, n, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
}

ssize_t
mon_dns_answer (monitor_t *m, void *buf, size_t cap)
{
  struct sockaddr_in from;
  socklen_t flen = sizeof from;
  ssize_t n;
  if (!m->dns_open)
    return -1;
  for (;;)
    {
      n = recvfrom (m->dns_fd, buf, cap, 0, (struct sockaddr *)&from, &flen);
      if (n < 0)
        return -1;
      /* only the resolver's answers (after the netns' nat, from the address asked) */
      if (n >= 12 && from.sin_port == htons (53) && from.sin_addr.s_addr == m->dns_target)
        return n;
      flen = sizeof from;
    }
}
