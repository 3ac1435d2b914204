/* The single-threaded event loop: the agent channel (virtio-serial port), a signalfd for
   SIGCHLD, process output/input fds and an inotify fd for OOM events. */
#include "config.h"
#include "agent/agent.h"
#include "common/utils.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define CHAN_POLL_MS 20

int
agent_watch_add (agent_t *a, int fd, uint32_t events, agent_watch_t *w)
{
  struct epoll_event ev = { .events = events, .data.ptr = w };
  return epoll_ctl (a->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void
agent_watch_mod (agent_t *a, int fd, uint32_t events, agent_watch_t *w)
{
  struct epoll_event ev = { .events = events, .data.ptr = w };
  if (epoll_ctl (a->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT)
    epoll_ctl (a->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void
agent_watch_del (agent_t *a, int fd)
{
  if (fd >= 0)
    epoll_ctl (a->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* Finds /dev/vportNpM named agent.channel.0. */
static char *
find_channel (void)
{
  cleanup_dir DIR *d = opendir ("/sys/class/virtio-ports");
  struct dirent *de;
  if (d == NULL)
    return NULL;
  while ((de = readdir (d)))
    {
      cleanup_free char *p = NULL, *name = NULL;
      if (de->d_name[0] == '.')
        continue;
      p = xasprintf ("/sys/class/virtio-ports/%s/name", de->d_name);
      if (kata_read_file (p, &name, NULL, 4096, NULL) < 0)
        continue;
      name[strcspn (name, "\n")] = '\0';
      if (strcmp (name, KATA_AGENT_CHANNEL_NAME) == 0)
        return xasprintf ("/dev/%s", de->d_name);
    }
  return NULL;
}

static void
chan_update_events (agent_t *a)
{
  uint32_t ev = EPOLLIN;
  if (!a->chan_connected)
    return;
  if (a->outq.len > 0 && !a->await_hello)
    ev |= EPOLLOUT;
  agent_watch_mod (a, a->chan_fd, ev, &a->w_chan);
  a->chan_out_watched = (ev & EPOLLOUT) != 0;
}

static void
chan_disconnected (agent_t *a, const char *why)
{
  agent_log ("host disconnected (%s)", why);
  if (a->chan_connected)
    agent_watch_del (a, a->chan_fd);
  a->chan_connected = false;
  a->chan_out_watched = false;
  a->await_hello = true;
  a->chan_discard = false;
  kata_buf_clear (&a->discard);
  kata_frame_reader_free (&a->reader);
  /* Frames queued for the old host are useless to the next one (it sends Hello, which
     discards them anyway); drop them now so output readers are not held back. */
  kata_buf_clear (&a->outq);
  agent_output_pause (a, false);
}

/* Polls the port for a host connection; called on every tick while disconnected. */
static void
chan_try_connect (agent_t *a)
{
  struct pollfd pfd;
  if (a->chan_fd < 0)
    {
      if (a->chan_path == NULL)
        a->chan_path = find_channel ();
      if (a->chan_path == NULL)
        return;
      a->chan_fd = open (a->chan_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (a->chan_fd < 0)
        {
          agent_log ("open %s: %s", a->chan_path, strerror (errno));
          return;
        }
      agent_log ("channel %s opened", a->chan_path);
    }
  pfd.fd = a->chan_fd;
  pfd.events = POLLIN;
  pfd.revents = 0;
  /* Do not read here: bytes may already be the next host's Hello, delivered before the
     port-open notice. */
  if (poll (&pfd, 1, 0) < 0 || (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
    return;
  a->chan_connected = true;
  a->await_hello = true;
  agent_log ("host connected");
  agent_watch_add (a, a->chan_fd, EPOLLIN, &a->w_chan);
}

/* EPOLLHUP may be stale: the host can close and a new one connect before we look. */
static void
chan_check_hangup (agent_t *a)
{
  struct pollfd pfd = { .fd = a->chan_fd, .events = POLLIN };
  if (poll (&pfd, 1, 0) < 0 || (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
    {
      chan_disconnected (a, "hangup");
      return;
    }
  /* Another host is already there: start afresh as on a new connection. */
  agent_log ("host reconnected");
  kata_frame_reader_free (&a->reader);
  a->await_hello = true;
  a->chan_discard = false;
  kata_buf_clear (&a->discard);
  chan_update_events (a);
}

static void
chan_write (agent_t *a)
{
  while (a->outq.len > 0 && a->chan_connected && !a->await_hello)
    {
      ssize_t n = write (a->chan_fd, a->outq.data + a->outq.off, a->outq.len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            break;
          chan_disconnected (a, strerror (errno));
          return;
        }
      if (n == 0)
        break;
      kata_buf_consume (&a->outq, n);
    }
  if (a->outq.len < AGENT_OUTQ_HIGH / 2)
    agent_output_pause (a, false);
  chan_update_events (a);
}

void
agent_send_frame (agent_t *a, uint8_t type, uint8_t flags, uint32_t id, const void *payload, uint32_t len)
{
  uint8_t hdr[KATA_FRAME_HDR_LEN];
  kata_frame_encode_header (hdr, type, flags, id, len);
  kata_buf_append (&a->outq, hdr, sizeof hdr);
  kata_buf_append (&a->outq, payload, len);
  if (a->outq.len >= AGENT_OUTQ_HIGH)
    agent_output_pause (a, true);
  if (a->chan_connected && !a->await_hello && !a->chan_out_watched)
    chan_write (a);
}

void
agent_send_result (agent_t *a, uint32_t id, const char *result_json)
{
  cleanup_free char *m = kata_msg_result (result_json);
  agent_send_frame (a, KATA_FRAME_RESP, 0, id, m, strlen (m));
}

void
agent_send_error (agent_t *a, uint32_t id, int code, const char *msg)
{
  cleanup_free char *m = kata_msg_error (code, msg);
  agent_log ("request %u failed: %d %s", id, code, msg);
  agent_send_frame (a, KATA_FRAME_RESP, 0, id, m, strlen (m));
}

void
agent_send_event (agent_t *a, const char *json)
{
  agent_send_frame (a, KATA_FRAME_EVENT, 0, 0, json, strlen (json));
}

/* Best effort: push the queue out before powering off. */
void
agent_flush_blocking (agent_t *a, int timeout_ms)
{
  uint64_t end = kata_now_ns () + (uint64_t)timeout_ms * 1000000ull;
  while (a->outq.len > 0 && a->chan_connected && !a->await_hello && kata_now_ns () < end)
    {
      struct pollfd pfd = { .fd = a->chan_fd, .events = POLLOUT };
      if (poll (&pfd, 1, 50) < 0 && errno != EINTR)
        break;
      if (pfd.revents & (POLLHUP | POLLERR))
        break;
      if (pfd.revents & POLLOUT)
        chan_write (a);
    }
}

void
agent_handle_frame (agent_t *a, kata_frame_t *f)
{
  switch (f->type)
    {
    case KATA_FRAME_REQ:
      if (a->await_hello)
        {
          /* First request of a connection: whatever was queued belongs to an old host. */
          kata_buf_clear (&a->outq);
          agent_output_pause (a, false);
          a->await_hello = false;
        }
      agent_rpc_dispatch (a, f->id, f->payload ? f->payload : "", f->len);
      break;
    case KATA_FRAME_STREAM:
      if (f->id == KATA_STREAM_DNS)
        agent_dns_on_answer (a, f->payload, f->len);
      else
        agent_process_stdin_data (a, f->id, f->payload, f->len, (f->flags & KATA_FRAME_FLAG_EOF) != 0);
      break;
    default:
      /* RESP/EVENT from the host: nothing to do. */
      break;
    }
}

/* A host that connects sends Hello first.  After a framing error (or a reconnect we could
   not see: virtio-serial does not always show the hang-up of a host that is quickly
   replaced), skip bytes until a complete, valid Hello request frame starts. */
static bool
resync (agent_t *a)
{
  const uint8_t *d = (const uint8_t *)kata_buf_ptr (&a->discard);
  size_t n = a->discard.len, i;
  for (i = 0; i + KATA_FRAME_HDR_LEN <= n; i++)
    {
      uint32_t l = (uint32_t)d[i] << 24 | (uint32_t)d[i + 1] << 16 | (uint32_t)d[i + 2] << 8 | d[i + 3];
      yajl_val root = NULL, params = NULL;
      const char *method = NULL;
      bool hello;
      if (d[i + 4] != KATA_FRAME_REQ || d[i + 5] || d[i + 6] || d[i + 7] || l < 2 || l > 65536)
        continue;
      if (i + KATA_FRAME_HDR_LEN < n && d[i + KATA_FRAME_HDR_LEN] != '{')
        continue;
      if (i + KATA_FRAME_HDR_LEN + l > n)
        {
          /* maybe a Hello still arriving: keep it and wait */
          kata_buf_consume (&a->discard, i);
          return false;
        }
      hello = kata_msg_parse_request ((const char *)d + i + KATA_FRAME_HDR_LEN, l, &root, &method, &params,
                                      NULL)
                  == 0
              && strcmp (method, "Hello") == 0;
      if (root)
        yajl_tree_free (root);
      if (!hello)
        continue;
      agent_log ("resynchronised on a Hello after %zu skipped bytes", i);
      kata_frame_reader_free (&a->reader);
      kata_frame_reader_feed (&a->reader, d + i, n - i);
      kata_buf_clear (&a->discard);
      a->chan_discard = false;
      a->await_hello = true;
      return true;
    }
  /* keep a tail that may begin a header */
  if (n > KATA_FRAME_HDR_LEN)
    kata_buf_consume (&a->discard, n - (KATA_FRAME_HDR_LEN - 1));
  return false;
}

void
agent_chan_input (agent_t *a, const void *data, size_t n)
{
  if (a->chan_discard)
    {
      kata_buf_append (&a->discard, data, n);
      if (!resync (a))
        return;
    }
  else
    kata_frame_reader_feed (&a->reader, data, n);
  for (;;)
    {
      kata_frame_t f = { 0 };
      cleanup_error kata_error_t *err = NULL;
      int r = kata_frame_reader_next (&a->reader, &f, &err);
      if (r == 0)
        break;
      if (r < 0)
        {
          /* Unrecoverable framing: drop this host's output and skip its input until the
             next Hello. */
          agent_log_always ("protocol error: %s; waiting for a Hello", err ? err->msg : "?");
          a->await_hello = true;
          a->chan_discard = true;
          kata_buf_clear (&a->outq);
          agent_output_pause (a, false);
          kata_buf_clear (&a->discard);
          if (a->reader.len > 1)
            kata_buf_append (&a->discard, kata_buf_ptr (&a->reader) + 1, a->reader.len - 1);
          kata_frame_reader_free (&a->reader);
          if (!resync (a))
            break;
          continue;
        }
      agent_handle_frame (a, &f);
      kata_frame_clear (&f);
      if (a->chan_fd >= 0 && !a->chan_connected)
        break;
    }
}

static void
chan_read (agent_t *a)
{
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (a->chan_fd, buf, sizeof buf);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            break;
          chan_disconnected (a, strerror (errno));
          return;
        }
      if (n == 0)
        {
          chan_disconnected (a, "EOF");
          return;
        }
      agent_chan_input (a, buf, n);
      if (!a->chan_connected)
        return;
      if ((size_t)n < sizeof buf)
        break;
    }
}

static void
on_signal (agent_t *a)
{
  struct signalfd_siginfo si;
  while (read (a->sig_fd, &si, sizeof si) == sizeof si)
    ;
  agent_reap_children (a);
}

static void
on_inotify (agent_t *a)
{
  char buf[4096];
  while (read (a->inotify_fd, buf, sizeof buf) > 0)
    ;
  agent_check_oom (a);
}

int
agent_loop_run (agent_t *a)
{
  sigset_t mask;
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGHUP);
  sigaddset (&mask, SIGUSR1);
  sigaddset (&mask, SIGUSR2);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  signal (SIGPIPE, SIG_IGN);

  a->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (a->epfd < 0)
    return -1;
  a->chan_fd = -1;
  a->await_hello = true;
  a->next_stream = 4;
  a->w_chan.kind = W_CHANNEL;
  a->w_sig.kind = W_SIGNAL;
  a->w_inotify.kind = W_INOTIFY;
  a->sig_fd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (a->sig_fd >= 0)
    agent_watch_add (a, a->sig_fd, EPOLLIN, &a->w_sig);
  a->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (a->inotify_fd >= 0)
    agent_watch_add (a, a->inotify_fd, EPOLLIN, &a->w_inotify);

  chan_try_connect (a);
  if (a->chan_fd < 0)
    agent_log ("waiting for port %s", KATA_AGENT_CHANNEL_NAME);
  agent_log_always ("ready");
  {
    int cfd = open ("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (cfd >= 0)
      {
        (void)!write (cfd, "kata-agent: ready\n", 18);
        close (cfd);
      }
  }

  for (;;)
    {
      struct epoll_event evs[32];
      int timeout = -1, n, i;
      uint64_t dl = agent_process_next_deadline (a);
      if (!a->chan_connected)
        timeout = CHAN_POLL_MS;
      if (dl)
        {
          uint64_t now = kata_now_ns ();
          int ms = dl <= now ? 0 : (int)((dl - now) / 1000000) + 1;
          if (timeout < 0 || ms < timeout)
            timeout = ms;
        }
      n = epoll_wait (a->epfd, evs, 32, timeout);
      if (n < 0 && errno != EINTR)
        {
          agent_log_always ("epoll_wait: %s", strerror (errno));
          usleep (10000);
          continue;
        }
      for (i = 0; i < n; i++)
        {
          agent_watch_t *w = evs[i].data.ptr;
          uint32_t e = evs[i].events;
          switch (w->kind)
            {
            case W_CHANNEL:
              if (!a->chan_connected)
                break;
              /* hang-ups first: data read after a stale one belongs to the new host */
              if (e & (EPOLLHUP | EPOLLERR))
                chan_check_hangup (a);
              if (a->chan_connected && (e & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                chan_read (a);
              if (a->chan_connected && (e & EPOLLOUT))
                chan_write (a);
              break;
            case W_SIGNAL:
              on_signal (a);
              break;
            case W_INOTIFY:
              on_inotify (a);
              break;
            case W_PROC_OUT:
              agent_process_on_output (a, w->proc, 1);
              break;
            case W_PROC_ERR:
              agent_process_on_output (a, w->proc, 2);
              break;
            case W_PROC_IN:
              agent_process_on_stdin_writable (a, w->proc);
              break;
            case W_DNS:
              agent_dns_on_query (a);
              break;
            }
          /* A handler may have freed watches of later events (process removal): the
             loop below re-validates through the process list, so stop here when asked. */
          if (a->shutdown)
            break;
        }
      if (a->shutdown)
        agent_power_off (a);
      agent_process_gc (a);
      if (!a->chan_connected)
        chan_try_connect (a);
      agent_process_timers (a);
    }
  return 0;
}
