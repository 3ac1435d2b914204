/* QMP client: line-oriented JSON over a unix socket. */
#include "config.h"
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/qmp.h"

#define QMP_MAX_LINE (4u << 20)
#define QMP_TIMEOUT 30000

struct kata_qmp_s
{
  int fd;
  kata_buf_t in; /* bytes read, not yet a whole line */
  yajl_val *events;
  size_t n_events, cap_events;
  unsigned long next_id;
};

static int
remaining_ms (uint64_t deadline)
{
  uint64_t now;
  if (deadline == 0)
    return -1;
  now = kata_now_ns ();
  if (now >= deadline)
    return 0;
  return (int)((deadline - now) / 1000000) + 1;
}

static uint64_t
deadline_after (int timeout_ms)
{
  return timeout_ms > 0 ? kata_now_ns () + (uint64_t)timeout_ms * 1000000ULL : 0;
}

/* Reads one JSON line into *OUT.  Returns 1, 0 on timeout, -1 on error/EOF. */
static int
read_message (kata_qmp_t *q, yajl_val *out, uint64_t deadline, kata_error_t **err)
{
  for (;;)
    {
      char *nl = q->in.len ? memchr (kata_buf_ptr (&q->in), '\n', q->in.len) : NULL;
      if (nl)
        {
          size_t l = nl - kata_buf_ptr (&q->in);
          int r = kata_json_parse (kata_buf_ptr (&q->in), l, out, err);
          kata_buf_consume (&q->in, l + 1);
          if (r < 0)
            return kata_error_wrap (err, "QMP: invalid message");
          return 1;
        }
      if (q->in.len >= QMP_MAX_LINE)
        return kata_make_error_nostr (err, KATA_EPROTO, "QMP: message too long");
      struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
      int t = remaining_ms (deadline);
      if (t == 0)
        return 0;
      int r = poll (&pfd, 1, t);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          return kata_make_error (err, errno, "QMP: poll");
        }
      if (r == 0)
        return 0;
      ssize_t n = read (q->fd, kata_buf_reserve (&q->in, 8192), 8192);
      if (n < 0)
        {
          if (errno == EINTR || errno == EAGAIN)
            continue;
          return kata_make_error (err, errno, "QMP: read");
        }
      if (n == 0)
        return kata_make_error_nostr (err, KATA_EVMDEAD, "QMP: connection closed by QEMU");
      kata_buf_commit (&q->in, (size_t)n);
    }
}

static void
queue_event (kata_qmp_t *q, yajl_val ev)
{
  if (q->n_events == q->cap_events)
    {
      q->cap_events = q->cap_events ? q->cap_events * 2 : 8;
      q->events = xrealloc (q->events, q->cap_events * sizeof (yajl_val));
    }
  q->events[q->n_events++] = ev;
}

static yajl_val
take_event (kata_qmp_t *q, size_t i)
{
  yajl_val ev = q->events[i];
  memmove (q->events + i, q->events + i + 1, (q->n_events - i - 1) * sizeof (yajl_val));
  q->n_events--;
  return ev;
}

void
kata_qmp_close (kata_qmp_t *q)
{
  if (q == NULL)
    return;
  if (q->fd >= 0)
    close (q->fd);
  for (size_t i = 0; i < q->n_events; i++)
    yajl_tree_free (q->events[i]);
  free (q->events);
  kata_buf_clear (&q->in);
  free (q);
}

int
kata_qmp_connect_fd (int fd, int timeout_ms, kata_qmp_t **out, kata_error_t **err)
{
  kata_qmp_t *q = xmalloc0 (sizeof *q);
  uint64_t deadline = deadline_after (timeout_ms);
  yajl_val greeting = NULL;
  int r;

  q->fd = fd;
  q->next_id = 1;
  r = read_message (q, &greeting, deadline, err);
  if (r <= 0)
    {
      if (r == 0)
        kata_make_error_nostr (err, KATA_ETIMEOUT, "QMP: no greeting from QEMU");
      kata_qmp_close (q);
      return -1;
    }
  if (kata_json_get (greeting, "QMP") == NULL)
    {
      yajl_tree_free (greeting);
      kata_qmp_close (q);
      return kata_make_error_nostr (err, KATA_EPROTO, "QMP: unexpected greeting");
    }
  yajl_tree_free (greeting);
  if (kata_qmp_execute (q, "qmp_capabilities", NULL, NULL, timeout_ms, err) < 0)
    {
      kata_qmp_close (q);
      return -1;
    }
  *out = q;
  return 0;
}

int
kata_qmp_connect (const char *path, int timeout_ms, kata_qmp_t **out, kata_error_t **err)
{
  uint64_t deadline = deadline_after (timeout_ms);

  for (;;)
    {
      int fd = kata_unix_connect (path, SOCK_CLOEXEC, NULL);
      if (fd >= 0)
        return kata_qmp_connect_fd (fd, timeout_ms, out, err);
      int e = errno;
      if ((e != ENOENT && e != ECONNREFUSED) || remaining_ms (deadline) == 0)
        return kata_make_error (err, e, "connect to QMP socket `%s`", path);
      usleep (10000);
    }
}

static int execute_fd (kata_qmp_t *q, const char *command, const char *args_json, int fd, yajl_val *ret,
                       int timeout_ms, kata_error_t **err);

int
kata_qmp_execute (kata_qmp_t *q, const char *command, const char *args_json, yajl_val *ret, int timeout_ms,
                  kata_error_t **err)
{
  return execute_fd (q, command, args_json, -1, ret, timeout_ms, err);
}

int
kata_qmp_getfd (kata_qmp_t *q, const char *fdname, int fd, kata_error_t **err)
{
  cleanup_free char *args = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "fdname", fdname);
  yajl_gen_map_close (g);
  args = kata_gen_finish (g, NULL);
  return execute_fd (q, "getfd", args, fd, NULL, QMP_TIMEOUT, err);
}

static int
execute_fd (kata_qmp_t *q, const char *command, const char *args_json, int fd, yajl_val *ret, int timeout_ms,
            kata_error_t **err)
{
  uint64_t deadline = deadline_after (timeout_ms);
  unsigned long id = q->next_id++;
  cleanup_free char *idstr = xasprintf ("kata-%lu", id);
  cleanup_free char *msg = NULL;
  yajl_gen g = kata_gen_new ();

  if (ret)
    *ret = NULL;
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "execute", command);
  if (args_json)
    kata_gen_kv_raw (g, "arguments", args_json);
  kata_gen_kv_str (g, "id", idstr);
  yajl_gen_map_close (g);
  {
    size_t l;
    char *s = kata_gen_finish (g, &l);
    msg = xasprintf ("%s\n", s);
    free (s);
  }
  if ((fd >= 0 ? kata_send_fd_data (q->fd, fd, msg, strlen (msg)) : kata_write_all (q->fd, msg, strlen (msg)))
      < 0)
    return kata_make_error (err, errno, "QMP: send `%s`", command);
  for (;;)
    {
      yajl_val v = NULL;
      int r = read_message (q, &v, deadline, err);
      if (r < 0)
        return kata_error_wrap (err, "QMP %s", command);
      if (r == 0)
        return kata_make_error_nostr (err, KATA_ETIMEOUT, "QMP %s: no answer from QEMU", command);
      if (kata_json_get (v, "event"))
        {
          queue_event (q, v);
          continue;
        }
      const char *vid = kata_json_str (v, "id");
      if (vid == NULL || strcmp (vid, idstr) != 0)
        {
          yajl_tree_free (v);
          continue;
        }
      yajl_val e = kata_json_get (v, "error");
      if (e)
        {
          const char *desc = kata_json_str (e, "desc");
          kata_make_error_nostr (err, KATA_EPROTO, "QMP %s: %s", command, desc ? desc : "unknown error");
          yajl_tree_free (v);
          return -1;
        }
      if (ret)
        *ret = v;
      else
        yajl_tree_free (v);
      return 0;
    }
}

int
kata_qmp_next_event (kata_qmp_t *q, yajl_val *ev, int timeout_ms, kata_error_t **err)
{
  uint64_t deadline = timeout_ms > 0 ? deadline_after (timeout_ms) : kata_now_ns ();

  *ev = NULL;
  if (q->n_events)
    {
      *ev = take_event (q, 0);
      return 1;
    }
  for (;;)
    {
      yajl_val v = NULL;
      int r = read_message (q, &v, deadline, err);
      if (r <= 0)
        return r;
      if (kata_json_get (v, "event"))
        {
          *ev = v;
          return 1;
        }
      yajl_tree_free (v); /* a stray reply */
    }
}

static bool
event_matches (yajl_val ev, const char *name, const char *key, const char *value)
{
  const char *n = kata_json_str (ev, "event");
  if (n == NULL || strcmp (n, name) != 0)
    return false;
  if (key == NULL)
    return true;
  const char *v = kata_json_str (kata_json_get (ev, "data"), key);
  return v && value && strcmp (v, value) == 0;
}

int
kata_qmp_wait_event (kata_qmp_t *q, const char *name, const char *key, const char *value, int timeout_ms,
                     kata_error_t **err)
{
  uint64_t deadline = deadline_after (timeout_ms);

  for (size_t i = 0; i < q->n_events; i++)
    if (event_matches (q->events[i], name, key, value))
      {
        yajl_tree_free (take_event (q, i));
        return 0;
      }
  for (;;)
    {
      yajl_val v = NULL;
      int r = read_message (q, &v, deadline, err);
      if (r < 0)
        return -1;
      if (r == 0)
        return kata_make_error_nostr (err, KATA_ETIMEOUT, "QMP: timed out waiting for event %s", name);
      if (!kata_json_get (v, "event"))
        {
          yajl_tree_free (v);
          continue;
        }
      if (event_matches (v, name, key, value))
        {
          yajl_tree_free (v);
          return 0;
        }
      queue_event (q, v);
    }
}

int
kata_qmp_query_status (kata_qmp_t *q, char **status, bool *running, kata_error_t **err)
{
  yajl_val v = NULL;
  if (kata_qmp_execute (q, "query-status", NULL, &v, QMP_TIMEOUT, err) < 0)
    return -1;
  yajl_val r = kata_json_get (v, "return");
  const char *s = kata_json_str (r, "status");
  if (status)
    *status = xstrdup (s ? s : "unknown");
  if (running)
    *running = kata_json_bool (r, "running", false);
  yajl_tree_free (v);
  return 0;
}

int
kata_qmp_stop (kata_qmp_t *q, kata_error_t **err)
{
  return kata_qmp_execute (q, "stop", NULL, NULL, QMP_TIMEOUT, err);
}

int
kata_qmp_cont (kata_qmp_t *q, kata_error_t **err)
{
  return kata_qmp_execute (q, "cont", NULL, NULL, QMP_TIMEOUT, err);
}

int
kata_qmp_quit (kata_qmp_t *q, kata_error_t **err)
{
  kata_error_t *e = NULL;
  /* QEMU may close the socket before (or instead of) answering. */
  if (kata_qmp_execute (q, "quit", NULL, NULL, 5000, &e) < 0)
    {
      if (e->status == KATA_EVMDEAD)
        {
          kata_error_free (e);
          return 0;
        }
      if (err)
        *err = e;
      else
        kata_error_free (e);
      return -1;
    }
  return 0;
}

int
kata_qmp_blockdev_add_file (kata_qmp_t *q, const char *node, const char *path, bool readonly,
                            kata_error_t **err)
{
  yajl_gen g = kata_gen_new ();
  cleanup_free char *args = NULL;
  bool is_blk = strncmp (path, "/dev/", 5) == 0;

  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "node-name", node);
  kata_gen_kv_str (g, "driver", "raw");
  kata_gen_kv_bool (g, "read-only", readonly);
  kata_gen_str (g, "file");
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "driver", is_blk ? "host_device" : "file");
  kata_gen_kv_str (g, "filename", path);
  kata_gen_str (g, "cache");
  yajl_gen_map_open (g);
  kata_gen_kv_bool (g, "direct", false);
  kata_gen_kv_bool (g, "no-flush", false);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  args = kata_gen_finish (g, NULL);
  return kata_qmp_execute (q, "blockdev-add", args, NULL, QMP_TIMEOUT, err);
}

int
kata_qmp_blockdev_del (kata_qmp_t *q, const char *node, kata_error_t **err)
{
  yajl_gen g = kata_gen_new ();
  cleanup_free char *args = NULL;
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "node-name", node);
  yajl_gen_map_close (g);
  args = kata_gen_finish (g, NULL);
  return kata_qmp_execute (q, "blockdev-del", args, NULL, QMP_TIMEOUT, err);
}

int
kata_qmp_device_add (kata_qmp_t *q, const char *args_json, kata_error_t **err)
{
  return kata_qmp_execute (q, "device_add", args_json, NULL, QMP_TIMEOUT, err);
}

int
kata_qmp_netdev_del (kata_qmp_t *q, const char *id, kata_error_t **err)
{
  yajl_gen g = kata_gen_new ();
  cleanup_free char *args = NULL;
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "id", id);
  yajl_gen_map_close (g);
  args = kata_gen_finish (g, NULL);
  return kata_qmp_execute (q, "netdev_del", args, NULL, QMP_TIMEOUT, err);
}

int
kata_qmp_device_del (kata_qmp_t *q, const char *id, int timeout_ms, kata_error_t **err)
{
  yajl_gen g = kata_gen_new ();
  cleanup_free char *args = NULL;
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "id", id);
  yajl_gen_map_close (g);
  args = kata_gen_finish (g, NULL);
  if (kata_qmp_execute (q, "device_del", args, NULL, QMP_TIMEOUT, err) < 0)
    return -1;
  return kata_qmp_wait_event (q, "DEVICE_DELETED", "device", id, timeout_ms, err);
}

int
kata_qmp_migrate_set_capability (kata_qmp_t *q, const char *capability, bool state, kata_error_t **err)
{
  cleanup_free char *args = xasprintf ("{\"capabilities\":[{\"capability\":\"%s\",\"state\":%s}]}",
                                       capability, state ? "true" : "false");
  return kata_qmp_execute (q, "migrate-set-capabilities", args, NULL, QMP_TIMEOUT, err);
}

static int
uri_command (kata_qmp_t *q, const char *cmd, const char *uri, kata_error_t **err)
{
  yajl_gen g = kata_gen_new ();
  cleanup_free char *args = NULL;
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "uri", uri);
  yajl_gen_map_close (g);
  args = kata_gen_finish (g, NULL);
  return kata_qmp_execute (q, cmd, args, NULL, QMP_TIMEOUT, err);
}

int
kata_qmp_migrate (kata_qmp_t *q, const char *uri, kata_error_t **err)
{
  return uri_command (q, "migrate", uri, err);
}

int
kata_qmp_migrate_incoming (kata_qmp_t *q, const char *uri, kata_error_t **err)
{
  return uri_command (q, "migrate-incoming", uri, err);
}

int
kata_qmp_query_migrate (kata_qmp_t *q, char **status, kata_error_t **err)
{
  yajl_val v = NULL;
  if (kata_qmp_execute (q, "query-migrate", NULL, &v, QMP_TIMEOUT, err) < 0)
    return -1;
  const char *s = kata_json_str (kata_json_get (v, "return"), "status");
  *status = xstrdup (s ? s : "none");
  yajl_tree_free (v);
  return 0;
}
