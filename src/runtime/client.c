/* Client of the sandbox monitor: blocking request/response over monitor.sock. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common/json.h"
#include "common/proto.h"
#include "common/utils.h"
#include "runtime/client.h"

struct kata_client_s
{
  int fd;
  uint32_t next_id;
  char *sid;
  kata_client_event_cb on_event;
  void *event_data;
};

void
kata_client_on_event (kata_client_t *c, kata_client_event_cb cb, void *data)
{
  c->on_event = cb;
  c->event_data = data;
}

int
kata_client_connect (const char *root, const char *sandbox_id, kata_client_t **out, kata_error_t **err)
{
  cleanup_free char *path = xasprintf ("%s/sbs/%s/monitor.sock", root, sandbox_id);
  cleanup_error kata_error_t *e = NULL;
  int fd;

  fd = kata_unix_connect (path, SOCK_CLOEXEC, &e);
  if (fd < 0)
    {
      if (e->status == ENOENT || e->status == ECONNREFUSED)
        return kata_make_error_nostr (err, KATA_EVMDEAD, "sandbox %s is not running", sandbox_id);
      *err = STEAL_POINTER (&e);
      return -1;
    }
  *out = kata_client_from_fd (fd, sandbox_id);
  return 0;
}

kata_client_t *
kata_client_from_fd (int fd, const char *sandbox_id)
{
  kata_client_t *c = xmalloc0 (sizeof *c);
  c->fd = fd;
  c->next_id = 0;
  c->sid = xstrdup (sandbox_id);
  return c;
}

int
kata_client_fd (kata_client_t *c)
{
  return c->fd;
}

void
kata_client_close (kata_client_t *c)
{
  if (c == NULL)
    return;
  if (c->fd >= 0)
    close (c->fd);
  free (c->sid);
  free (c);
}

/* Like kata_frame_write, without SIGPIPE when the monitor is gone. */
static int
send_frame (int fd, uint32_t id, const char *payload)
{
  size_t n, off = 0;
  cleanup_free uint8_t *buf = kata_frame_encode (KATA_FRAME_REQ, 0, id, payload, strlen (payload), &n);
  while (off < n)
    {
      ssize_t w = send (fd, buf + off, n - off, MSG_NOSIGNAL);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      off += w;
    }
  return 0;
}

/* A vm-dead event's message, or NULL. */
static char *
vm_dead_message (const kata_frame_t *f)
{
  yajl_val v = NULL;
  char *msg = NULL;
  if (f->len == 0 || kata_json_parse (f->payload, f->len, &v, NULL) < 0)
    return NULL;
  const char *ev = kata_json_str (v, "event");
  if (ev && strcmp (ev, "vm-dead") == 0)
    {
      const char *m = kata_json_str (v, "message");
      msg = xstrdup (m ? m : "the VM died");
    }
  yajl_tree_free (v);
  return msg;
}

int
kata_client_call (kata_client_t *c, const char *method, const char *params_json, yajl_val *root,
                  yajl_val *result, int timeout_ms, kata_error_t **err)
{
  cleanup_free char *req = kata_msg_request (method, params_json);
  uint64_t deadline = timeout_ms > 0 ? kata_now_ns () + (uint64_t)timeout_ms * 1000000ULL : 0;
  uint32_t id;

  if (root)
    *root = NULL;
  if (result)
    *result = NULL;
  if (++c->next_id == 0)
    c->next_id = 1;
  id = c->next_id;
  if (send_frame (c->fd, id, req) < 0)
    return kata_make_error_nostr (err, KATA_EVMDEAD, "%s: the monitor of sandbox %s is gone", method, c->sid);
  for (;;)
    {
      kata_frame_t f = { 0 };
      kata_error_t *e = NULL;
      int r;

      if (deadline)
        {
          uint64_t now = kata_now_ns ();
          struct pollfd p = { .fd = c->fd, .events = POLLIN };
          if (now >= deadline)
            return kata_make_error_nostr (err, KATA_ETIMEOUT, "%s: no answer from sandbox %s within %d ms",
                                          method, c->sid, timeout_ms);
          r = poll (&p, 1, (int)((deadline - now) / 1000000) + 1);
          if (r < 0 && errno != EINTR)
            return kata_make_error (err, errno, "poll");
          if (r <= 0)
            continue;
        }
      r = kata_frame_read (c->fd, &f, &e);
      if (r <= 0)
        {
          kata_error_free (e);
          return kata_make_error_nostr (err, KATA_EVMDEAD, "%s: the connection to sandbox %s was lost",
                                        method, c->sid);
        }
      if (f.type == KATA_FRAME_EVENT)
        {
          char *dead = vm_dead_message (&f);
          if (dead == NULL && c->on_event)
            c->on_event ((const char *)f.payload, f.len, c->event_data);
          kata_frame_clear (&f);
          if (dead)
            {
              kata_make_error_nostr (err, KATA_EVMDEAD, "%s", dead);
              free (dead);
              return -1;
            }
          continue;
        }
      if (f.type != KATA_FRAME_RESP || f.id != id)
        {
          kata_frame_clear (&f);
          continue;
        }
      yajl_val rt = NULL, res = NULL;
      r = kata_msg_parse_response (f.payload, f.len, &rt, &res, NULL, err);
      kata_frame_clear (&f);
      if (r < 0)
        return -1;
      if (root)
        *root = rt;
      else
        yajl_tree_free (rt);
      if (result)
        *result = root ? res : NULL;
      return 0;
    }
}

int
kata_client_wait (kata_client_t *c, int timeout_ms, kata_error_t **err)
{
  uint64_t deadline = kata_now_ns () + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ULL;
  for (;;)
    {
      kata_frame_t f = { 0 };
      kata_error_t *e = NULL;
      uint64_t now = kata_now_ns ();
      struct pollfd p = { .fd = c->fd, .events = POLLIN };
      int r;
      if (now >= deadline)
        return 0;
      r = poll (&p, 1, (int)((deadline - now) / 1000000) + 1);
      if (r < 0 && errno != EINTR)
        return kata_make_error (err, errno, "poll");
      if (r <= 0)
        continue;
      r = kata_frame_read (c->fd, &f, &e);
      if (r <= 0)
        {
          kata_error_free (e);
          return kata_make_error_nostr (err, KATA_EVMDEAD, "the connection to sandbox %s was lost", c->sid);
        }
      if (f.type == KATA_FRAME_EVENT)
        {
          char *dead = vm_dead_message (&f);
          if (dead)
            {
              kata_frame_clear (&f);
              kata_make_error_nostr (err, KATA_EVMDEAD, "%s", dead);
              free (dead);
              return -1;
            }
          if (c->on_event)
            c->on_event ((const char *)f.payload, f.len, c->event_data);
          kata_frame_clear (&f);
          return 1;
        }
      kata_frame_clear (&f);
    }
}
