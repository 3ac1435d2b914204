/* libFuzzer target: the host side of the protocol.  The input is what a misbehaving
   monitor or agent sends back on monitor.sock; kata_client_call (the runtime's only
   reader of that socket) must return an error or a parsed result, never crash or hang.
   The client is built around one end of a socketpair (kata_client_from_fd). */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "runtime/client.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int sv[2];
  size_t off = 0;
  kata_client_t *c;
  yajl_val root = NULL, result = NULL;
  kata_error_t *err = NULL;

  if (size > 128 * 1024 || socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return 0;
  {
    int buf = 512 * 1024;
    setsockopt (sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    setsockopt (sv[0], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  }
  while (off < size)
    {
      ssize_t w = write (sv[1], data + off, size - off);
      if (w <= 0)
        break;
      off += (size_t)w;
    }
  shutdown (sv[1], SHUT_WR); /* EOF after the input: the call cannot block forever */
  c = kata_client_from_fd (sv[0], "fuzz");
  /* first call takes id 1, a second one id 2 over what is left */
  if (kata_client_call (c, "Check", NULL, &root, &result, 0, &err) == 0)
    {
      yajl_tree_free (root);
      root = NULL;
      if (kata_client_call (c, "Check", "{\"a\":1}", &root, &result, 0, &err) == 0)
        yajl_tree_free (root);
    }
  kata_error_free (err);
  kata_client_close (c); /* closes sv[0] */
  close (sv[1]);
  return 0;
}
