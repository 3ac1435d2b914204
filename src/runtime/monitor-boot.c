/* The sandbox monitor's boot: the arguments it reports back to its creator, QEMU's
   children, and the agent's first exchange (Hello, CreateSandbox).  Serving clients is
   monitor.c; docs/agent-protocol.md ("Monitor"). */
#include "config.h"
#include "runtime/monitor-internal.h"

/* Last N lines of console.log (malloc'd, maybe ""). */
static char *
console_tail (const char *vm_dir, int nlines)
{
  cleanup_free char *path = xasprintf ("%s/%s", vm_dir, KATA_VM_CONSOLE_LOG);
  cleanup_free char *data = NULL;
  size_t len = 0;
  const char *p;
  int seen = 0;

  if (kata_read_file (path, &data, &len, 0, NULL) < 0 || len == 0)
    return xstrdup ("");
  while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
    data[--len] = '\0';
  for (p = data + len; p > data; p--)
    if (p[-1] == '\n' && ++seen == nlines)
      break;
  /* drop carriage returns */
  char *out = xstrdup (p), *w = out;
  for (const char *r = out; *r; r++)
    if (*r != '\r')
      *w++ = *r;
  *w = '\0';
  return out;
}

int
mon_report (int fd, const char *fmt, ...)
{
  va_list ap;
  int r;
  if (fd < 0)
    return 0;
  va_start (ap, fmt);
  r = vdprintf (fd, fmt, ap);
  va_end (ap);
  return r;
}

int
mon_report_error (int fd, const kata_error_t *e)
{
  return mon_report (fd, "err %d %s\n", e->status, e->msg);
}

uint32_t
mon_new_id (monitor_t *m)
{
  if (++m->next_id == 0)
    m->next_id = 1;
  return m->next_id;
}

static char *
resolv_lines_json (void)
{
  cleanup_free char *data = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_array_open (g);
  if (kata_read_file ("/etc/resolv.conf", &data, NULL, 65536, NULL) == 0)
    {
      char *save = NULL;
      for (char *l = strtok_r (data, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
        if (*l && *l != '#' && *l != ';')
          kata_gen_str (g, l);
    }
  yajl_gen_array_close (g);
  return kata_gen_finish (g, NULL);
}

static char *
create_sandbox_params (monitor_t *m)
{
  uint8_t seed[32];
  char hex[65];
  struct timespec ts;
  cleanup_free char *dns = resolv_lines_json ();
  bool vfs = strcmp (m->cfg->hypervisor.shared_fs, "virtio-fs") == 0;
  yajl_gen g = kata_gen_new ();

  if (getrandom (seed, sizeof seed, 0) != (ssize_t)sizeof seed)
    memset (seed, 0, sizeof seed);
  for (size_t i = 0; i < sizeof seed; i++)
    sprintf (hex + 2 * i, "%02x", seed[i]);
  clock_gettime (CLOCK_REALTIME, &ts);
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "sandbox_id", m->sid);
  kata_gen_kv_str (g, "hostname", m->hostname ? m->hostname : "");
  kata_gen_kv_raw (g, "dns", dns);
  kata_gen_kv_int (g, "time_ns", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  kata_gen_kv_str (g, "random_seed", hex);
  kata_gen_str (g, "storages");
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "driver", vfs ? "virtio-fs" : "9p");
  kata_gen_kv_str (g, "source", KATA_SHARED_TAG);
  kata_gen_kv_str (g, "fstype", vfs ? "virtiofs" : "9p");
  kata_gen_str (g, "options");
  yajl_gen_array_open (g);
  if (!vfs)
    {
      char msize[32];
      snprintf (msize, sizeof msize, "msize=%d",
                m->cfg->hypervisor.msize_9p > 0 ? m->cfg->hypervisor.msize_9p : 8192);
      kata_gen_str (g, "trans=virtio");
      kata_gen_str (g, "version=9p2000.L");
      kata_gen_str (g, msize);
      if (m->cfg->hypervisor.cache_9p && strcmp (m->cfg->hypervisor.cache_9p, "none") != 0)
        {
          char cache[32];
          snprintf (cache, sizeof cache, "cache=%s", m->cfg->hypervisor.cache_9p);
          kata_gen_str (g, cache);
        }
    }
  yajl_gen_array_close (g);
  kata_gen_kv_str (g, "mount_point", KATA_GUEST_SHARED_DIR);
  yajl_gen_map_close (g);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

/* Reaps children; returns true (with *STATUS) when QEMU or virtiofsd is gone. */
bool
mon_reap_children (monitor_t *m, int *status, bool *was_vfsd)
{
  bool dead = false;
  int st;
  pid_t p;
  while ((p = waitpid (-1, &st, WNOHANG)) > 0)
    {
      if (p == m->vm.pid)
        {
          m->vm.pid = 0;
          m->qemu_exited = true;
          m->qemu_status = st;
          *status = st;
          *was_vfsd = false;
          dead = true;
        }
      else if (m->vm.vfsd_pid > 0 && p == m->vm.vfsd_pid)
        {
          m->vm.vfsd_pid = 0;
          if (!dead)
            {
              *status = st;
              *was_vfsd = true;
            }
          dead = true;
        }
    }
  return dead;
}

void
mon_drain_signalfd (int sfd, bool *term)
{
  struct signalfd_siginfo si;
  while (read (sfd, &si, sizeof si) == (ssize_t)sizeof si)
    if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP)
      *term = true;
}

char *
mon_death_message (monitor_t *m, const char *cause)
{
  cleanup_free char *last = console_tail (m->vm_dir, 1);
  return xasprintf ("the VM for sandbox %s died: %s%s%s", m->sid, cause, *last ? "; last console line: " : "",
                    last);
}

/* Boot failure: the cause plus the console's tail and QEMU's own messages. */
static char *
boot_failure (monitor_t *m, const char *cause)
{
  cleanup_free char *tail = console_tail (m->vm_dir, 20);
  cleanup_free char *qlog_path = xasprintf ("%s/%s", m->vm_dir, KATA_VM_QEMU_LOG);
  cleanup_free char *qlog = NULL;
  kata_read_file (qlog_path, &qlog, NULL, 8192, NULL);
  if (qlog)
    {
      size_t l = strlen (qlog);
      while (l && qlog[l - 1] == '\n')
        qlog[--l] = '\0';
    }
  return xasprintf ("%s%s%s%s%s", cause, qlog && *qlog ? "; QEMU said: " : "", qlog ? qlog : "",
                    *tail ? "; last console lines:\n" : "; the console is empty", tail);
}

/* The agent socket closed during boot: QEMU is going away; say why. */
static char *
boot_closed (monitor_t *m)
{
  int status = 0;
  bool was_vfsd = false;
  for (int i = 0; i < 100; i++)
    {
      if (mon_reap_children (m, &status, &was_vfsd))
        {
          cleanup_free char *st = was_vfsd ? xstrdup ("virtiofsd exited") : mon_exit_status_str (status);
          return boot_failure (m, st);
        }
      usleep (10000);
    }
  return boot_failure (m, "the agent socket was closed by QEMU");
}

/* Connects to QEMU's agent socket (relative to our cwd, the VM dir). */
static int
connect_agent (void)
{
  return kata_unix_connect (KATA_VM_AGENT_SOCK, SOCK_CLOEXEC, NULL);
}

/* Boot failures are the VM's death to the creator: KATA_EVMDEAD with MSG (taken). */
static int
boot_error (kata_error_t **err, char *msg)
{
  kata_make_error_nostr (err, KATA_EVMDEAD, "%s", msg);
  free (msg);
  return -1;
}

/* Boot: Hello (resent until answered) and CreateSandbox.  Returns 0, or -1 with ERR saying why. */
int
mon_boot_agent (monitor_t *m, kata_error_t **err)
{
  uint64_t t0 = kata_now_ns ();
  int timeout_s = m->cfg->hypervisor.boot_timeout > 0 ? m->cfg->hypervisor.boot_timeout : 60;
  /* A clone answers within a fraction of a second; a broken one falls back to a cold boot soon. */
  if (m->params.boot_mode == KATA_VM_BOOT_CLONE && timeout_s > 15)
    timeout_s = 15;
  uint64_t deadline = t0 + (uint64_t)timeout_s * 1000000000ULL;
  uint64_t next_hello = 0;
  uint64_t hello_interval_ms = HELLO_INTERVAL_MS;
  uint32_t first_hello = 0, create_id = 0;
  bool hello_ok = false, term = false;
  int status = 0;
  bool was_vfsd = false;
  const char *hello = "{\"method\":\"Hello\",\"params\":{\"version\":1}}";

  for (;;)
    {
      uint64_t now = kata_now_ns ();
      if (mon_reap_children (m, &status, &was_vfsd))
        {
          cleanup_free char *st = was_vfsd ? xstrdup ("virtiofsd exited") : mon_exit_status_str (status);
          return boot_error (err, boot_failure (m, st));
        }
      if (term)
        return kata_make_error_nostr (err, KATA_EVMDEAD, "interrupted by a signal while booting");
      if (now >= deadline)
        {
          cleanup_free char *c = xasprintf ("the agent did not answer within %d s (boot_timeout)", timeout_s);
          return boot_error (err, boot_failure (m, c));
        }
      if (m->agent_fd < 0)
        {
          m->agent_fd = connect_agent ();
          if (m->agent_fd < 0)
            {
              struct pollfd p = { .fd = m->sfd, .events = POLLIN };
              if (poll (&p, 1, 10) > 0)
                mon_drain_signalfd (m->sfd, &term);
              continue;
            }
          kata_debug ("connected to the agent socket after %llu ms",
                      (unsigned long long)((kata_now_ns () - t0) / 1000000));
        }
      if (!hello_ok && now >= next_hello)
        {
          uint32_t id = mon_new_id (m);
          if (first_hello == 0)
            first_hello = id;
          /* A guest that never opens its port never drains the socket: only
             write when there is room, so boot_timeout always fires.  */
          struct pollfd wp = { .fd = m->agent_fd, .events = POLLOUT };
          if (poll (&wp, 1, 0) == 1 && (wp.revents & POLLOUT)
              && kata_frame_write (m->agent_fd, KATA_FRAME_REQ, 0, id, hello, strlen (hello), NULL) < 0)
            {
              return boot_error (err, boot_closed (m));
            }
          next_hello = now + hello_interval_ms * 1000000ULL;
          hello_interval_ms
              = hello_interval_ms * 2 > HELLO_INTERVAL_MAX_MS ? HELLO_INTERVAL_MAX_MS : hello_interval_ms * 2;
        }
      struct pollfd p[2] = { { .fd = m->sfd, .events = POLLIN }, { .fd = m->agent_fd, .events = POLLIN } };
      uint64_t wake = hello_ok ? deadline : (next_hello < deadline ? next_hello : deadline);
      now = kata_now_ns ();
      int to = wake > now ? (int)((wake - now) / 1000000) + 1 : 0;
      int r = poll (p, 2, to);
      if (r < 0 && errno != EINTR)
        return kata_make_error (err, errno, "poll");
      if (r <= 0)
        continue;
      if (p[0].revents)
        mon_drain_signalfd (m->sfd, &term);
      if (p[1].revents)
        {
          char buf[65536];
          ssize_t n = read (m->agent_fd, buf, sizeof buf);
          if (n <= 0)
            {
              if (n < 0 && errno == EINTR)
                continue;
              return boot_error (err, boot_closed (m));
            }
          kata_frame_reader_feed (&m->agent_rd, buf, n);
          for (;;)
            {
              kata_frame_t f = { 0 };
              kata_error_t *e = NULL;
              int fr = kata_frame_reader_next (&m->agent_rd, &f, &e);
              if (fr < 0)
                {
                  /* Garbage before the agent took over the port: start over. */
                  kata_debug ("agent channel: %s; resynchronising", e->msg);
                  kata_error_free (e);
                  kata_frame_reader_free (&m->agent_rd);
                  break;
                }
              if (fr == 0)
                break;
              if (f.type == KATA_FRAME_RESP && !hello_ok && f.id >= first_hello)
                {
                  yajl_val root = NULL, res = NULL;
                  int code = 0;
                  if (kata_msg_parse_response (f.payload, f.len, &root, &res, &code, &e) < 0)
                    {
                      kata_make_error_nostr (err, KATA_EVMDEAD, "the agent refused Hello: %s", e->msg);
                      kata_error_free (e);
                      kata_frame_clear (&f);
                      return -1;
                    }
                  kata_debug ("agent answered Hello after %llu ms (Hello %u of %u): %s",
                              (unsigned long long)((kata_now_ns () - t0) / 1000000), f.id - first_hello + 1,
                              m->next_id - first_hello + 1, f.payload);
                  yajl_tree_free (root);
                  hello_ok = true;
                  cleanup_free char *params = create_sandbox_params (m);
                  cleanup_free char *req = kata_msg_request ("CreateSandbox", params);
                  create_id = mon_new_id (m);
                  if (kata_frame_write (m->agent_fd, KATA_FRAME_REQ, 0, create_id, req, strlen (req), NULL)
                      < 0)
                    {
                      kata_frame_clear (&f);
                      return boot_error (err, boot_closed (m));
                    }
                }
              else if (f.type == KATA_FRAME_RESP && create_id && f.id == create_id)
                {
                  yajl_val root = NULL, res = NULL;
                  if (kata_msg_parse_response (f.payload, f.len, &root, &res, NULL, &e) < 0)
                    {
                      kata_make_error_nostr (err, KATA_EVMDEAD, "CreateSandbox: %s", e->msg);
                      kata_error_free (e);
                      kata_frame_clear (&f);
                      return -1;
                    }
                  yajl_tree_free (root);
                  kata_frame_clear (&f);
                  return 0;
                }
              kata_frame_clear (&f);
            }
        }
    }
}
