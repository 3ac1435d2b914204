/* DNS relay (SetDnsRelay): a caller's resolver that lives on the loopback of the
   sandbox's network namespace on the host (docker's embedded DNS at 127.0.0.11 on
   user-defined networks) cannot be reached through the VM's NIC.  The agent
   listens on that address in the guest (UDP port 53) and carries each query over
   the agent channel, as STREAM frames on KATA_STREAM_DNS; the monitor sends it
   from inside the netns and returns the answer the same way (docs/network.md).

   The DNS transaction id carries the relay slot: the agent rewrites it to the
   slot's index on the way out and restores the client's id on the way back, so
   the host side keeps no state. */
#include "config.h"
#include "agent/agent.h"
#include "common/json.h"
#include "common/utils.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define DNS_SLOTS 1024
#define DNS_MAX 4096 /* EDNS0 answers fit; the classic limit is 512 */

typedef struct
{
  struct sockaddr_in peer;
  uint16_t txid;
  bool used;
} dns_slot_t;

/* Zero-initialised, so in .bss: with an initialiser (".fd = -1") its 20 KB were stored
   in the static binary's .data. */
static struct
{
  bool on; /* fd is the relay's socket */
  int fd;
  agent_watch_t w;
  struct in_addr addr;
  dns_slot_t slots[DNS_SLOTS];
  unsigned next;
} relay;

int
agent_dns_relay_start (agent_t *a, const char *address, kata_error_t **err)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (53) };
  int fd;
  if (address == NULL || inet_pton (AF_INET, address, &sin.sin_addr) != 1)
    return kata_make_error_nostr (err, EINVAL, "SetDnsRelay: `%s` is not an IPv4 address",
                                  address ? address : "");
  if ((ntohl (sin.sin_addr.s_addr) >> 24) != 127)
    return kata_make_error_nostr (err, EINVAL, "SetDnsRelay: `%s` is not a loopback address", address);
  if (relay.on)
    {
      if (relay.addr.s_addr == sin.sin_addr.s_addr)
        return 0;
      return kata_make_error_nostr (err, EBUSY, "SetDnsRelay: already relaying another address");
    }
  fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return kata_make_error (err, errno, "SetDnsRelay: socket");
  if (bind (fd, (struct sockaddr *)&sin, sizeof sin) < 0)
    {
      int e = errno;
      close (fd);
      return kata_make_error (err, e, "SetDnsRelay: bind %s:53", address);
    }
  relay.w.kind = W_DNS;
  if (agent_watch_add (a, fd, EPOLLIN, &relay.w) < 0)
    {
      int e = errno;
      close (fd);
      return kata_make_error (err, e, "SetDnsRelay: epoll");
    }
  relay.fd = fd;
  relay.on = true;
  relay.addr = sin.sin_addr;
  return 0;
}

/* A query from a client in the guest: to the host, with the slot as its id. */
void
agent_dns_on_query (agent_t *a)
{
  uint8_t buf[DNS_MAX];
  int budget = 64;
  while (budget-- > 0)
    {
      struct sockaddr_in peer;
      socklen_t plen = sizeof peer;
      ssize_t n = recvfrom (relay.fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &plen);
      unsigned slot;
      if (n < 0)
        return; /* EAGAIN, or nothing we can do */
      if (n < 12)
        continue; /* shorter than a DNS header */
      slot = relay.next++ % DNS_SLOTS;
      relay.slots[slot]
          = (dns_slot_t){ .peer = peer, .txid = (uint16_t)(buf[0] << 8 | buf[1]), .used = true };
      buf[0] = (uint8_t)(slot >> 8);
      buf[1] = (uint8_t)slot;
      agent_send_frame (a, KATA_FRAME_STREAM, 0, KATA_STREAM_DNS, buf, (uint32_t)n);
    }
}

/* An answer from the host: back to the client of its slot, with the client's id. */
void
agent_dns_on_answer (agent_t *a, const void *data, size_t len)
{
  uint8_t buf[DNS_MAX];
  unsigned slot;
  dns_slot_t *s;
  (void)a;
  if (!relay.on || len < 12 || len > sizeof buf)
    return;
  memcpy (buf, data, len);
  slot = (unsigned)(buf[0] << 8 | buf[1]);
  if (slot >= DNS_SLOTS || !relay.slots[slot].used)
    return;
  s = &relay.slots[slot];
  buf[0] = (uint8_t)(s->txid >> 8);
  buf[1] = (uint8_t)s->txid;
  s->used = false;
  (void)sendto (relay.fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&s->peer, sizeof s->peer);
}

int
agent_h_set_dns_relay (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  (void)id;
  (void)out;
  return agent_dns_relay_start (a, kata_json_str (params, "address"), err);
}
