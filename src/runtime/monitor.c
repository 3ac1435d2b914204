/* The sandbox monitor: owns QEMU and the agent channel, multiplexes clients.
   See docs/agent-protocol.md ("Monitor"). */
#include "config.h"
#include "runtime/monitor-internal.h"

/* ---- output queues ---- */

static void
outq_frame (outq_t *q, uint8_t type, uint8_t flags, uint32_t id, const void *payload, uint32_t len)
{
  uint8_t hdr[KATA_FRAME_HDR_LEN];
  kata_frame_encode_header (hdr, type, flags, id, len);
  kata_buf_append (q, hdr, sizeof hdr);
  if (len)
    kata_buf_append (q, payload, len);
}

/* Writes what it can.  -1 when the peer is gone. */
static int
outq_flush (int fd, outq_t *q)
{
  while (q->len)
    {
      ssize_t n = send (fd, kata_buf_ptr (q), q->len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            return 0;
          return -1;
        }
      kata_buf_consume (q, (size_t)n);
    }
  return 0;
}

char *
mon_exit_status_str (int status)
{
  if (WIFEXITED (status))
    return xasprintf ("QEMU exited with status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return xasprintf ("QEMU was killed by signal %d (%s)", WTERMSIG (status), strsignal (WTERMSIG (status)));
  return xstrdup ("QEMU stopped");
}

/* ---- arguments file (written by kata_monitor_start, monitor-start.c) ---- */

static void
set_str (char **dst, yajl_val obj, const char *key)
{
  const char *v = kata_json_str (obj, key);
  if (v)
    {
      free (*dst);
      *dst = xstrdup (v);
    }
}

static char *
opt_str (yajl_val obj, const char *key)
{
  const char *v = kata_json_str (obj, key);
  return v && *v ? xstrdup (v) : NULL;
}

int
mon_load_args (monitor_t *m, const char *path, kata_error_t **err)
{
  cleanup_free char *data = NULL;
  size_t len;
  cleanup_yajl_val yajl_val v = NULL;
  yajl_val h;

  if (kata_read_file (path, &data, &len, 1 << 20, err) < 0)
    return -1;
  if (kata_json_parse (data, len, &v, err) < 0)
    return kata_error_wrap (err, "parse `%s`", path);
  h = kata_json_get (v, "hypervisor");
  {
    yajl_val nics = kata_json_array (v, "nics");
    size_t n = nics ? nics->u.array.len : 0;
    m->nic_taps = xmalloc0 ((n + 1) * sizeof (char *));
    m->nic_macs = xmalloc0 ((n + 1) * sizeof (char *));
    for (size_t i = 0; i < n; i++)
      {
        m->nic_taps[m->nics_len] = opt_str (nics->u.array.values[i], "tap");
        m->nic_macs[m->nics_len] = opt_str (nics->u.array.values[i], "mac");
        if (m->nic_taps[m->nics_len])
          m->nics_len++;
      }
  }
  m->hostname = opt_str (v, "hostname");
  m->netns_path = opt_str (v, "netns_path");
  m->cgroup_path = opt_str (v, "cgroup_path");
  m->block_rootfs = opt_str (v, "block_rootfs");
  m->vcpus = (int)kata_json_int (v, "vcpus", 1);
  m->memory_mb = (int)kata_json_int (v, "memory_mb", 256);
  m->debug = kata_json_bool (v, "debug", false);
  {
    const char *lp = kata_json_str (v, "log_path");
    kata_log_init (lp && *lp ? lp : NULL, kata_json_str (v, "log_format"),
                   kata_json_bool (v, "log_debug", false));
  }
  m->cfg = kata_config_default ();
  set_str (&m->cfg->hypervisor.path, h, "path");
  set_str (&m->cfg->hypervisor.kernel, h, "kernel");
  set_str (&m->cfg->hypervisor.initrd, h, "initrd");
  set_str (&m->cfg->hypervisor.image, h, "image");
  m->cfg->hypervisor.disable_image_nvdimm = kata_json_bool (h, "disable_image_nvdimm", true);
  set_str (&m->cfg->hypervisor.machine_type, h, "machine_type");
  set_str (&m->cfg->hypervisor.accel, h, "accel");
  set_str (&m->cfg->hypervisor.kernel_params, h, "kernel_params");
  set_str (&m->cfg->hypervisor.shared_fs, h, "shared_fs");
  set_str (&m->cfg->hypervisor.virtio_fs_daemon, h, "virtio_fs_daemon");
  set_str (&m->cfg->hypervisor.virtio_fs_cache, h, "virtio_fs_cache");
  set_str (&m->cfg->hypervisor.cache_9p, h, "cache_9p");
  set_str (&m->cfg->hypervisor.tb_size, h, "tb_size");
  set_str (&m->cfg->hypervisor.firmware, h, "firmware");
  set_str (&m->cfg->hypervisor.memory_backend, h, "memory_backend");
  set_str (&m->cfg->hypervisor.seccompsandbox, h, "seccompsandbox");
  m->cfg->hypervisor.msize_9p = (int)kata_json_int (h, "msize_9p", m->cfg->hypervisor.msize_9p);
  m->cfg->hypervisor.boot_timeout = (int)kata_json_int (h, "boot_timeout", m->cfg->hypervisor.boot_timeout);
  m->cfg->hypervisor.memory_slots = (int)kata_json_int (h, "memory_slots", m->cfg->hypervisor.memory_slots);
  m->cfg->hypervisor.default_maxvcpus
      = (int)kata_json_int (h, "default_maxvcpus", m->cfg->hypervisor.default_maxvcpus);
  m->cfg->hypervisor.disable_transparent_hugepages
      = kata_json_bool (h, "disable_transparent_hugepages", m->cfg->hypervisor.disable_transparent_hugepages);
  m->cfg->hypervisor.enable_debug = kata_json_bool (h, "enable_debug", false);
  m->cfg->agent.debug = kata_json_bool (h, "agent_debug", false);
  m->cfg->factory.enable_template = kata_json_bool (h, "enable_template", false);
  set_str (&m->cfg->factory.template_path, h, "template_path");
  return 0;
}

/* ---- serving ---- */

static void
ep_set (monitor_t *m, int fd, uint64_t tag, uint32_t *cur, uint32_t want)
{
  struct epoll_event ev = { .events = want, .data.u64 = tag };
  if (*cur == want)
    return;
  epoll_ctl (m->epfd, EPOLL_CTL_MOD, fd, &ev);
  *cur = want;
}

static void
conn_send_json (conn_t *c, uint8_t type, uint32_t id, const char *json)
{
  if (c && !c->dead)
    outq_frame (&c->out, type, 0, id, json, strlen (json));
}

static void
conn_reply (conn_t *c, uint32_t id, const char *result_json)
{
  cleanup_free char *r = kata_msg_result (result_json);
  conn_send_json (c, KATA_FRAME_RESP, id, r);
}

static void
conn_error (conn_t *c, uint32_t id, int code, const char *message)
{
  cleanup_free char *r = kata_msg_error (code, message);
  conn_send_json (c, KATA_FRAME_RESP, id, r);
}

static void held_free (held_t *h);

static void
conn_drop (monitor_t *m, conn_t *c)
{
  if (c->dead)
    return;
  c->dead = true;
  epoll_ctl (m->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close (c->fd);
  c->fd = -1;
  for (pending_t *p = m->pending; p; p = p->next)
    if (p->c == c)
      p->c = NULL;
  for (held_t **hp = &m->held; *hp;)
    if ((*hp)->c == c)
      {
        held_t *h = *hp;
        *hp = h->next;
        held_free (h);
      }
    else
      hp = &(*hp)->next;
  for (stream_t *s = m->streams; s; s = s->next)
    if (s->c == c)
      s->c = NULL;
}

static void
conns_reap (monitor_t *m)
{
  conn_t **pp = &m->conns;
  while (*pp)
    {
      conn_t *c = *pp;
      if (c->dead)
        {
          *pp = c->next;
          kata_frame_reader_free (&c->rd);
          kata_buf_clear (&c->out);
          free (c);
        }
      else
        pp = &c->next;
    }
}

static stream_t *
stream_get (monitor_t *m, uint32_t base, bool create)
{
  for (stream_t *s = m->streams; s; s = s->next)
    if (s->base == base)
      return s;
  if (!create)
    return NULL;
  stream_t *s = xmalloc0 (sizeof *s);
  s->base = base;
  s->next = m->streams;
  m->streams = s;
  return s;
}

static void
stream_free_done (monitor_t *m, stream_t *done)
{
  for (stream_t **pp = &m->streams; *pp; pp = &(*pp)->next)
    if (*pp == done)
      {
        *pp = done->next;
        kata_buf_clear (&done->buf);
        free (done);
        return;
      }
}

static void
agent_send (monitor_t *m, uint8_t type, uint8_t flags, uint32_t id, const void *payload, uint32_t len)
{
  if (m->agent_fd >= 0)
    outq_frame (&m->agent_out, type, flags, id, payload, len);
}

static pending_t *
add_pending (monitor_t *m, uint32_t agent_id, conn_t *c, uint32_t client_id)
{
  pending_t *p = xmalloc0 (sizeof *p);
  p->agent_id = agent_id;
  p->c = c;
  p->client_id = client_id;
  p->next = m->pending;
  m->pending = p;
  return p;
}

/* ---- paused containers ----

   The agent serves one request at a time.  An ExecProcess in a frozen container waits
   for the new process, which is frozen too, so the agent would answer nothing, not even
   the ResumeContainer that thaws it, until its child time-out.  So the monitor tracks
   which containers are paused (from the PauseContainer it forwards, before the agent
   even sees it) and holds an ExecProcess for such a container until a ResumeContainer
   (or a RemoveContainer / SIGKILL to all, which thaw it) has been answered.  With
   "ignore_paused": false the exec is refused at once instead. */

static bool
ctr_paused (monitor_t *m, const char *cid)
{
  for (paused_t *p = m->paused_ctrs; p; p = p->next)
    if (strcmp (p->cid, cid) == 0)
      return true;
  return false;
}

static void
ctr_set_paused (monitor_t *m, const char *cid)
{
  if (ctr_paused (m, cid))
    return;
  paused_t *p = xmalloc0 (sizeof *p);
  p->cid = xstrdup (cid);
  p->next = m->paused_ctrs;
  m->paused_ctrs = p;
}

static void
held_free (held_t *h)
{
  free (h->cid);
  free (h->payload);
  free (h);
}

/* CID is thawed: forget it and send what was held for it, in arrival order. */
static void
ctr_thawed (monitor_t *m, const char *cid)
{
  for (paused_t **pp = &m->paused_ctrs; *pp; pp = &(*pp)->next)
    if (strcmp ((*pp)->cid, cid) == 0)
      {
        paused_t *p = *pp;
        *pp = p->next;
        free (p->cid);
        free (p);
        break;
      }
  for (held_t **hp = &m->held; *hp;)
    {
      held_t *h = *hp;
      if (strcmp (h->cid, cid) != 0)
        {
          hp = &h->next;
          continue;
        }
      *hp = h->next;
      if (h->c && !h->c->dead)
        {
          uint32_t aid = mon_new_id (m);
          add_pending (m, aid, h->c, h->client_id);
          agent_send (m, KATA_FRAME_REQ, 0, aid, h->payload, h->len);
          kata_debug ("sandbox %s: container %s resumed: sending its held request", m->sid, cid);
        }
      held_free (h);
    }
}

static void
hold_request (monitor_t *m, conn_t *c, uint32_t client_id, const char *cid, const kata_frame_t *f)
{
  held_t *h = xmalloc0 (sizeof *h), **tail = &m->held;
  h->c = c;
  h->client_id = client_id;
  h->cid = xstrdup (cid);
  h->payload = xmalloc (f->len ? f->len : 1);
  memcpy (h->payload, f->payload, f->len);
  h->len = f->len;
  while (*tail)
    tail = &(*tail)->next;
  *tail = h;
  kata_debug ("sandbox %s: container %s is paused: holding an exec until it is resumed", m->sid, cid);
}

/* The agent answered a request the monitor watches (see above). */
static void
pending_answered (monitor_t *m, pending_t *p, const kata_frame_t *f)
{
  yajl_val root = NULL, res = NULL;
  kata_error_t *e = NULL;
  bool ok;
  if (p->kind == PEND_PLAIN || p->cid == NULL)
    return;
  ok = kata_msg_parse_response (f->payload, f->len, &root, &res, NULL, &e) == 0;
  yajl_tree_free (root);
  kata_error_free (e);
  /* A failed pause left the container thawed; a failed resume may have left it frozen:
     what is held stays held (its client's time-out drops it). */
  if ((p->kind == PEND_PAUSE && !ok) || (p->kind == PEND_RESUME && ok) || p->kind == PEND_THAW)
    ctr_thawed (m, p->cid);
}

static int serve_shutdown (monitor_t *m, conn_t *asker, uint32_t ask_id, const char *why);

static void
flush_all_blocking (monitor_t *m, int timeout_ms)
{
  uint64_t end = kata_now_ns () + (uint64_t)timeout_ms * 1000000ULL;
  for (;;)
    {
      bool busy = false;
      for (conn_t *c = m->conns; c; c = c->next)
        if (!c->dead && c->out.len)
          {
            if (outq_flush (c->fd, &c->out) < 0)
              conn_drop (m, c);
            else if (c->out.len)
              busy = true;
          }
      if (!busy || kata_now_ns () >= end)
        return;
      usleep (5000);
    }
}

/* Tells everyone the VM is gone, cleans up and exits. */
static void __attribute__ ((noreturn)) vm_gone (monitor_t *m, const char *message, bool shutdown)
{
  cleanup_free char *ev = NULL;
  yajl_gen g = kata_gen_new ();

  if (!shutdown)
    kata_log (KATA_LOG_ERROR, "%s", message);
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "event", "vm-dead");
  kata_gen_kv_str (g, "message", message);
  yajl_gen_map_close (g);
  ev = kata_gen_finish (g, NULL);
  for (pending_t *p = m->pending; p; p = p->next)
    if (p->c)
      conn_error (p->c, p->client_id, KATA_PROTO_EVMDEAD, message);
  for (held_t *h = m->held; h; h = h->next)
    if (h->c)
      conn_error (h->c, h->client_id, KATA_PROTO_EVMDEAD, message);
  for (conn_t *c = m->conns; c; c = c->next)
    conn_send_json (c, KATA_FRAME_EVENT, 0, ev);
  if (m->listen_fd >= 0)
    {
      close (m->listen_fd);
      m->listen_fd = -1;
    }
  flush_all_blocking (m, 2000);
  for (conn_t *c = m->conns; c; c = c->next)
    conn_drop (m, c);
  if (m->vm.pid > 0 || m->vm.vfsd_pid > 0)
    m->ops->stop (&m->vm, true, NULL);
  kata_monitor_cleanup_dirs (m->root, m->sid, !shutdown);
  _exit (shutdown ? 0 : 1);
}

/* MonitorHotplugCpu {"count": N}: {"added": K} (monitor-cpu.c) */
static void
serve_hotplug_cpu (monitor_t *m, conn_t *c, uint32_t id, yajl_val params)
{
  kata_error_t *e = NULL;
  int added = 0;
  if (mon_hotplug_cpu (m, (int)kata_json_int (params, "count", 0), &added, &e) < 0)
    {
      conn_error (c, id, e->status < 1000 || e->status == KATA_ENOTIMPL ? e->status : KATA_PROTO_EINTERNAL,
                  e->msg);
      kata_error_free (e);
      return;
    }
  cleanup_free char *r = xasprintf ("{\"added\":%d}", added);
  conn_reply (c, id, r);
}

static void
handle_local (monitor_t *m, conn_t *c, uint32_t id, const char *method, yajl_val params)
{
  if (strcmp (method, "MonitorAttach") == 0)
    {
      long long base = kata_json_int (params, "stream", -1);
      if (base < 0 || (base & 3))
        {
          conn_error (c, id, KATA_PROTO_EPARAMS, "MonitorAttach: invalid stream");
          return;
        }
      stream_t *s = stream_get (m, (uint32_t)base, true);
      s->c = c;
      conn_reply (c, id, NULL);
      if (s->buf.len)
        kata_buf_append (&c->out, kata_buf_ptr (&s->buf), s->buf.len);
      kata_buf_clear (&s->buf);
      s->buffered[1] = s->buffered[2] = 0;
      if (s->eof[1] && s->eof[2])
        stream_free_done (m, s);
    }
  else if (strcmp (method, "MonitorInfo") == 0)
    {
      yajl_gen g = kata_gen_new ();
      cleanup_free char *r = NULL;
      yajl_gen_map_open (g);
      kata_gen_kv_int (g, "qemu_pid", m->vm.pid);
      kata_gen_kv_int (g, "qemu_start_time", (long long)m->vm.start);
      kata_gen_kv_int (g, "virtiofsd_pid", m->vm.vfsd_pid);
      kata_gen_kv_str (g, "accel", m->vm.accel);
      kata_gen_kv_str (g, "state", m->paused ? "stopped" : "running");
      yajl_gen_map_close (g);
      r = kata_gen_finish (g, NULL);
      conn_reply (c, id, r);
    }
  else if (strcmp (method, "MonitorPause") == 0 || strcmp (method, "MonitorResume") == 0)
    {
      bool pause = strcmp (method, "MonitorPause") == 0;
      kata_error_t *e = NULL;
      if ((pause ? m->ops->pause : m->ops->resume) (&m->vm, &e) < 0)
        {
          conn_error (c, id, KATA_PROTO_EINTERNAL, e->msg);
          kata_error_free (e);
          return;
        }
      m->paused = pause;
      conn_reply (c, id, NULL);
    }
  else if (strcmp (method, "MonitorHotplugBlock") == 0)
    {
      const char *dev = kata_json_str (params, "id");
      const char *path = kata_json_str (params, "path");
      kata_error_t *e = NULL;
      char *addr = NULL;
      if (dev == NULL || path == NULL)
        {
          conn_error (c, id, KATA_PROTO_EPARAMS, "MonitorHotplugBlock: id and path are required");
          return;
        }
      if (m->ops->hotplug_block (&m->vm, dev, path, kata_json_bool (params, "readonly", false), &addr, &e)
          < 0)
        {
          conn_error (c, id, e->status < 1000 ? e->status : KATA_PROTO_EINTERNAL, e->msg);
          kata_error_free (e);
          return;
        }
      cleanup_free char *r = xasprintf ("{\"pci\":\"%s\"}", addr);
      free (addr);
      conn_reply (c, id, r);
    }
  else if (strcmp (method, "MonitorHotUnplug") == 0)
    {
      const char *dev = kata_json_str (params, "id");
      kata_error_t *e = NULL;
      if (dev == NULL || m->ops->hot_unplug (&m->vm, dev, &e) < 0)
        {
          conn_error (c, id, KATA_PROTO_EINTERNAL, e ? e->msg : "MonitorHotUnplug: id is required");
          kata_error_free (e);
          return;
        }
      conn_reply (c, id, NULL);
    }
  else if (strcmp (method, "MonitorHotplugMemory") == 0)
    {
      /* pods: a joining container's memory (docs/kubernetes.md) */
      const char *dev = kata_json_str (params, "id");
      kata_error_t *e = NULL;
      if (dev == NULL
          || m->ops->hotplug_memory (&m->vm, dev, (int)kata_json_int (params, "size_mb", 0),
                                     m->cfg && kata_qemu_memfd (m->cfg), &e)
                 < 0)
        {
          conn_error (c, id,
                      e ? (e->status < 1000 || e->status == KATA_ENOTIMPL ? e->status : KATA_PROTO_EINTERNAL)
                        : KATA_PROTO_EPARAMS,
                      e ? e->msg : "MonitorHotplugMemory: id is required");
          kata_error_free (e);
          return;
        }
      conn_reply (c, id, NULL);
    }
  else if (strcmp (method, "MonitorHotplugNic") == 0)
    {
      /* a NIC that appeared after create (docs/network.md) */
      const char *dev = kata_json_str (params, "id");
      const char *tap = kata_json_str (params, "tap");
      kata_error_t *e = NULL;
      char *addr = NULL;
      if (dev == NULL || tap == NULL)
        {
          conn_error (c, id, KATA_PROTO_EPARAMS, "MonitorHotplugNic: id and tap are required");
          return;
        }
      if (mon_hotplug_nic (m, dev, tap, kata_json_str (params, "mac"), &addr, &e) < 0)
        {
          conn_error (c, id,
                      e->status < 1000 || e->status == KATA_ENOTIMPL ? e->status : KATA_PROTO_EINTERNAL,
                      e->msg);
          kata_error_free (e);
          return;
        }
      cleanup_free char *r = xasprintf ("{\"pci\":\"%s\"}", addr);
      free (addr);
      conn_reply (c, id, r);
    }
  else if (strcmp (method, "MonitorHotplugCpu") == 0)
    serve_hotplug_cpu (m, c, id, params);
  else if (strcmp (method, "MonitorShutdown") == 0)
    serve_shutdown (m, c, id, NULL);
  else
    conn_error (c, id, KATA_PROTO_ENOMETHOD, "unknown monitor method");
}

static void
client_frame (monitor_t *m, conn_t *c, kata_frame_t *f)
{
  if (f->type == KATA_FRAME_STREAM)
    {
      agent_send (m, KATA_FRAME_STREAM, f->flags, f->id, f->payload, f->len);
      return;
    }
  if (f->type != KATA_FRAME_REQ)
    return;
  yajl_val root = NULL, params = NULL;
  const char *method = NULL;
  kata_error_t *e = NULL;
  if (kata_msg_parse_request (f->payload, f->len, &root, &method, &params, &e) < 0)
    {
      conn_error (c, f->id, KATA_PROTO_EINVALID, e->msg);
      kata_error_free (e);
      return;
    }
  if (strncmp (method, "Monitor", 7) == 0)
    handle_local (m, c, f->id, method, params);
  else
    {
      mon_dns_note (m, method, params);
      const char *cid = kata_json_str (params, "container_id");
      int kind = PEND_PLAIN;
      if (cid && strcmp (method, "ExecProcess") == 0 && ctr_paused (m, cid))
        {
          yajl_val ip = kata_json_get (params, "ignore_paused");
          if (ip && YAJL_IS_FALSE (ip))
            conn_error (c, f->id, KATA_PROTO_EINTERNAL, "cannot exec in a paused container");
          else
            hold_request (m, c, f->id, cid, f);
          yajl_tree_free (root);
          return;
        }
      if (cid && strcmp (method, "PauseContainer") == 0)
        {
          ctr_set_paused (m, cid); /* from now on: the agent sees the pause before anything sent later */
          kind = PEND_PAUSE;
        }
      else if (cid && strcmp (method, "ResumeContainer") == 0)
        kind = PEND_RESUME;
      else if (cid
               && (strcmp (method, "RemoveContainer") == 0
                   || (strcmp (method, "SignalProcess") == 0 && kata_json_bool (params, "all", false)
                       && kata_json_int (params, "signal", 0) == SIGKILL)))
        kind = PEND_THAW;
      uint32_t aid = mon_new_id (m);
      pending_t *p = add_pending (m, aid, c, f->id);
      p->kind = kind;
      p->cid = kind != PEND_PLAIN ? xstrdup (cid) : NULL;
      agent_send (m, KATA_FRAME_REQ, 0, aid, f->payload, f->len);
    }
  yajl_tree_free (root);
}

static void
agent_frame (monitor_t *m, kata_frame_t *f)
{
  switch (f->type)
    {
    case KATA_FRAME_RESP:
      for (pending_t **pp = &m->pending; *pp; pp = &(*pp)->next)
        if ((*pp)->agent_id == f->id)
          {
            pending_t *p = *pp;
            *pp = p->next;
            if (p->c && !p->c->dead)
              outq_frame (&p->c->out, KATA_FRAME_RESP, 0, p->client_id, f->payload, f->len);
            pending_answered (m, p, f);
            free (p->cid);
            free (p);
            return;
          }
      return;
    case KATA_FRAME_STREAM:
      if (f->id == KATA_STREAM_DNS)
        {
          mon_dns_query (m, f->payload, f->len);
          return;
        }
      {
        uint32_t k = f->id & 3;
        stream_t *s = stream_get (m, f->id & ~3u, true);
        if (k == 1 || k == 2)
          {
            if (f->flags & KATA_FRAME_FLAG_EOF)
              s->eof[k] = true;
          }
        if (s->c && !s->c->dead)
          {
            outq_frame (&s->c->out, KATA_FRAME_STREAM, f->flags, f->id, f->payload, f->len);
            if (s->eof[1] && s->eof[2])
              stream_free_done (m, s);
          }
        else if (k < 3)
          {
            if (s->buffered[k] + f->len > STREAM_BUF_MAX && !(f->flags & KATA_FRAME_FLAG_EOF))
              return; /* bounded: drop output nobody reads */
            s->buffered[k] += f->len;
            outq_frame (&s->buf, KATA_FRAME_STREAM, f->flags, f->id, f->payload, f->len);
          }
        return;
      }
    case KATA_FRAME_EVENT:
      for (conn_t *c = m->conns; c; c = c->next)
        if (!c->dead)
          outq_frame (&c->out, KATA_FRAME_EVENT, 0, 0, f->payload, f->len);
      return;
    default:
      return;
    }
}

/* True when frame F answers request SYNCED_ID with {"synced":true}: the agent has killed
   every process and synced the guest's disks, so nothing is lost when QEMU stops now. */
static bool
is_synced_reply (const kata_frame_t *f, uint32_t synced_id)
{
  yajl_val root = NULL, res = NULL;
  bool synced = false;
  if (synced_id == 0 || f->type != KATA_FRAME_RESP || f->id != synced_id)
    return false;
  if (kata_msg_parse_response (f->payload, f->len, &root, &res, NULL, NULL) == 0)
    synced = YAJL_IS_TRUE (kata_json_get (res, "synced"));
  yajl_tree_free (root);
  return synced;
}

/* Waits up to TIMEOUT_MS for QEMU to exit (reaping it), or, when SYNCED_ID is not 0, for
   the agent's synced answer to that request (*SYNCED is then set).  True when either came. */
static bool
wait_qemu (monitor_t *m, int timeout_ms, uint32_t synced_id, bool *synced)
{
  uint64_t end = kata_now_ns () + (uint64_t)timeout_ms * 1000000ULL;
  int st;
  bool v;
  for (;;)
    {
      mon_reap_children (m, &st, &v);
      if (m->vm.pid <= 0)
        return true;
      if (kata_now_ns () >= end)
        return false;
      if (m->agent_fd >= 0)
        {
          /* Keep the channel drained so the guest never blocks on a write while powering off. */
          char buf[65536];
          struct pollfd p = { .fd = m->agent_fd, .events = POLLIN };
          ssize_t n = 0;
          if (poll (&p, 1, 10) > 0 && (n = recv (m->agent_fd, buf, sizeof buf, MSG_DONTWAIT)) == 0)
            {
              close (m->agent_fd);
              m->agent_fd = -1;
            }
          if (n > 0 && synced_id)
            {
              kata_frame_reader_feed (&m->agent_rd, buf, n);
              for (;;)
                {
                  kata_frame_t f = { 0 };
                  kata_error_t *e = NULL;
                  int r = kata_frame_reader_next (&m->agent_rd, &f, &e);
                  kata_error_free (e);
                  if (r <= 0)
                    break;
                  bool done = is_synced_reply (&f, synced_id);
                  kata_frame_clear (&f);
                  if (done)
                    {
                      *synced = true;
                      return true;
                    }
                }
            }
        }
      else
        usleep (10000);
    }
}

static int
serve_shutdown (monitor_t *m, conn_t *asker, uint32_t ask_id, const char *why)
{
  uint32_t id = mon_new_id (m);
  const char *req = "{\"method\":\"DestroySandbox\",\"params\":{}}";
  uint64_t t0 = kata_now_ns ();

  kata_debug ("shutting down sandbox %s%s%s", m->sid, why ? ": " : "", why ? why : "");
  if (m->paused && m->ops->resume (&m->vm, NULL) == 0)
    m->paused = false; /* a paused guest cannot power itself off */
  if (m->agent_fd >= 0 && m->vm.pid > 0)
    {
      agent_send (m, KATA_FRAME_REQ, 0, id, req, strlen (req));
      kata_set_nonblock (m->agent_fd, 0);
      outq_flush (m->agent_fd, &m->agent_out);
    }
  bool synced = false;
  if (!wait_qemu (m, 5000, m->agent_fd >= 0 ? id : 0, &synced))
    {
      kata_warn ("sandbox %s: QEMU did not power off within 5 s; stopping it", m->sid);
      m->ops->stop (&m->vm, true, NULL);
    }
  else if (synced)
    {
      /* The guest is synced: its own power-off (the kernel's device shutdown, slow under
         TCG) saves nothing more, so quit QEMU at once. */
      m->ops->stop (&m->vm, true, NULL);
      kata_debug ("guest synced in %llu ms; QEMU stopped",
                  (unsigned long long)((kata_now_ns () - t0) / 1000000));
    }
  else
    kata_debug ("QEMU powered off in %llu ms", (unsigned long long)((kata_now_ns () - t0) / 1000000));
  if (asker)
    {
      /* Answer the asker; everybody else learns the VM is gone. */
      for (pending_t *p = m->pending; p; p = p->next)
        if (p->c == asker)
          p->c = NULL;
      conn_reply (asker, ask_id, NULL);
      outq_flush (asker->fd, &asker->out);
    }
  cleanup_free char *msg = xasprintf ("the sandbox %s was shut down", m->sid);
  vm_gone (m, msg, true);
}

static void
accept_clients (monitor_t *m)
{
  for (;;)
    {
      int fd = accept4 (m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        return;
      conn_t *c = xmalloc0 (sizeof *c);
      c->fd = fd;
      c->ev = EPOLLIN;
      struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
      epoll_ctl (m->epfd, EPOLL_CTL_ADD, fd, &ev);
      c->next = m->conns;
      m->conns = c;
    }
}

static void
client_readable (monitor_t *m, conn_t *c)
{
  char buf[65536];
  ssize_t n = read (c->fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      conn_drop (m, c);
      return;
    }
  kata_frame_reader_feed (&c->rd, buf, n);
  for (;;)
    {
      kata_frame_t f = { 0 };
      kata_error_t *e = NULL;
      int r = kata_frame_reader_next (&c->rd, &f, &e);
      if (r < 0)
        {
          kata_warn ("monitor client: %s; dropping it", e->msg);
          kata_error_free (e);
          conn_drop (m, c);
          return;
        }
      if (r == 0)
        return;
      client_frame (m, c, &f);
      kata_frame_clear (&f);
      if (c->dead)
        return;
    }
}

static void
agent_died (monitor_t *m, const char *cause_in)
{
  cleanup_free char *cause = NULL;
  if (m->vm.pid > 0 && !wait_qemu (m, 2000, 0, NULL))
    m->ops->stop (&m->vm, true, NULL);
  cause = m->qemu_exited ? mon_exit_status_str (m->qemu_status) : xstrdup (cause_in);
  cleanup_free char *msg = mon_death_message (m, cause);
  vm_gone (m, msg, false);
}

static void
agent_readable (monitor_t *m)
{
  char buf[65536];
  for (int round = 0; round < 16; round++)
    {
      ssize_t n = read (m->agent_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          agent_died (m, "the agent channel was closed");
          return;
        }
      kata_frame_reader_feed (&m->agent_rd, buf, n);
      for (;;)
        {
          kata_frame_t f = { 0 };
          kata_error_t *e = NULL;
          int r = kata_frame_reader_next (&m->agent_rd, &f, &e);
          if (r < 0)
            {
              cleanup_free char *c = xasprintf ("agent protocol error: %s", e->msg);
              kata_error_free (e);
              m->ops->stop (&m->vm, true, NULL);
              cleanup_free char *msg = mon_death_message (m, c);
              vm_gone (m, msg, false);
            }
          if (r == 0)
            break;
          agent_frame (m, &f);
          kata_frame_clear (&f);
        }
    }
}

static void
update_interest (monitor_t *m)
{
  size_t maxq = 0;
  for (conn_t *c = m->conns; c; c = c->next)
    if (!c->dead)
      {
        uint32_t want = (m->agent_out.len < OUTQ_HIGH ? EPOLLIN : 0) | (c->out.len ? EPOLLOUT : 0);
        ep_set (m, c->fd, (uintptr_t)c, &c->ev, want);
        if (c->out.len > maxq)
          maxq = c->out.len;
      }
  ep_set (m, m->agent_fd, TAG_AGENT, &m->agent_ev,
          (maxq < OUTQ_HIGH ? EPOLLIN : 0) | (m->agent_out.len ? EPOLLOUT : 0));
}

static int
bind_monitor_sock (monitor_t *m, kata_error_t **err)
{
  cleanup_free char *path = xasprintf ("%s/%s", m->sbs_dir, MON_SOCK);
  struct stat st;
  mode_t old;
  int fd;

  /* Kept open: the socket is unlinked through it at exit, whatever the path's length. */
  m->sbs_dfd = open (m->sbs_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (m->sbs_dfd < 0)
    return kata_make_error (err, errno, "open `%s`", m->sbs_dir);
  old = umask (0177);
  fd = kata_unix_listen (path, SOCK_CLOEXEC | SOCK_NONBLOCK, 64, err);
  umask (old);
  if (fd < 0)
    return -1;
  if (fstatat (m->sbs_dfd, MON_SOCK, &st, 0) == 0)
    m->sock_ino = st.st_ino;
  m->listen_fd = fd;
  return 0;
}

/* The sandbox's mapping entry, <root>/mapping/<sid>/<sid>: claimed by the create that
   started us before it started us, removed by delete just before it stops us. */
static char *
mapping_entry (monitor_t *m)
{
  return xasprintf ("%s/mapping/%s/%s", m->root, m->sid, m->sid);
}

/* Our creator, as the mapping entry records it ("PID START"); else what
   kata_monitor_main saw as our parent. */
static void
read_creator (monitor_t *m)
{
  cleanup_free char *entry = mapping_entry (m);
  cleanup_free char *data = NULL;
  int pid = 0;
  unsigned long long start = 0;
  if (kata_read_file (entry, &data, NULL, 256, NULL) == 0 && sscanf (data, "%d %llu", &pid, &start) == 2
      && pid > 0)
    {
      m->creator_pid = pid;
      m->creator_start = start;
    }
}

/* A sandbox nobody can find any more: its mapping is gone (a delete --force ran while
   it was being created) and its creator is dead (it will not finish the create nor roll
   it back).  Seen on two watches in a row, so that a delete that removed the mapping
   and is about to send MonitorShutdown is not raced with: shut the VM down. */
static void
watch_mapping (monitor_t *m)
{
  cleanup_free char *entry = mapping_entry (m);
  bool creator_alive = m->creator_pid > 0 && kata_proc_alive (m->creator_pid, m->creator_start);
  if (creator_alive || access (entry, F_OK) == 0 || errno != ENOENT)
    {
      m->orphan_ticks = 0;
      return;
    }
  if (++m->orphan_ticks < 2)
    return;
  kata_warn ("sandbox %s: its mapping `%s` is gone and the runtime that created it is dead; shutting the "
             "sandbox down",
             m->sid, entry);
  serve_shutdown (m, NULL, 0, "mapping removed, creator dead");
}

static void __attribute__ ((noreturn)) serve (monitor_t *m)
{
  struct epoll_event ev;
  bool term = false;

  m->watch_ms = WATCH_INTERVAL_MS;
  if (getenv ("KATA_MONITOR_WATCH_MS")) /* tests */
    m->watch_ms = atoi (getenv ("KATA_MONITOR_WATCH_MS"));
  if (m->watch_ms <= 0)
    m->watch_ms = WATCH_INTERVAL_MS;
  read_creator (m);
  m->epfd = epoll_create1 (EPOLL_CLOEXEC);
  kata_set_nonblock (m->agent_fd, 1);
  ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = TAG_AGENT };
  epoll_ctl (m->epfd, EPOLL_CTL_ADD, m->agent_fd, &ev);
  m->agent_ev = EPOLLIN;
  ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = TAG_LISTEN };
  epoll_ctl (m->epfd, EPOLL_CTL_ADD, m->listen_fd, &ev);
  ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = TAG_SIGNAL };
  epoll_ctl (m->epfd, EPOLL_CTL_ADD, m->sfd, &ev);

  for (;;)
    {
      struct epoll_event evs[32];
      int n;
      update_interest (m);
      n = epoll_wait (m->epfd, evs, 32, m->watch_ms);
      if (kata_now_ns () >= m->next_watch)
        {
          /* If our state was deleted under us (rm -rf of the root), nobody can reach or
             delete this sandbox any more: do not leak a running VM. */
          struct stat st;
          cleanup_free char *path = xasprintf ("/proc/self/fd/%d/%s", m->sbs_dfd, MON_SOCK);
          m->next_watch = kata_now_ns () + (uint64_t)m->watch_ms * 1000000ULL;
          if (stat (path, &st) < 0 || st.st_ino != m->sock_ino)
            {
              kata_warn ("sandbox %s: %s/%s was removed; shutting the sandbox down", m->sid, m->sbs_dir,
                         MON_SOCK);
              serve_shutdown (m, NULL, 0, "monitor.sock removed");
            }
          watch_mapping (m);
        }
      if (n < 0 && errno != EINTR)
        {
          cleanup_free char *msg = mon_death_message (m, "the monitor failed (epoll)");
          vm_gone (m, msg, false);
        }
      for (int i = 0; i < n; i++)
        {
          uint64_t tag = evs[i].data.u64;
          if (tag == TAG_SIGNAL)
            {
              int st = 0;
              bool was_vfsd = false;
              mon_drain_signalfd (m->sfd, &term);
              if (mon_reap_children (m, &st, &was_vfsd))
                {
                  cleanup_free char *cause
                      = was_vfsd ? xstrdup ("virtiofsd exited") : mon_exit_status_str (st);
                  cleanup_free char *msg = mon_death_message (m, cause);
                  vm_gone (m, msg, false);
                }
              if (term)
                serve_shutdown (m, NULL, 0, "signal");
            }
          else if (tag == TAG_LISTEN)
            accept_clients (m);
          else if (tag == TAG_DNS)
            {
              char buf[4096];
              ssize_t len;
              while ((len = mon_dns_answer (m, buf, sizeof buf)) > 0)
                agent_send (m, KATA_FRAME_STREAM, 0, KATA_STREAM_DNS, buf, (uint32_t)len);
            }
          else if (tag == TAG_AGENT)
            {
              if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                agent_readable (m);
              if ((evs[i].events & EPOLLOUT) && outq_flush (m->agent_fd, &m->agent_out) < 0)
                agent_died (m, "the agent channel was closed");
            }
          else
            {
              conn_t *c = evs[i].data.ptr;
              if (c->dead)
                continue;
              if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                client_readable (m, c);
              if (!c->dead && (evs[i].events & EPOLLOUT) && outq_flush (c->fd, &c->out) < 0)
                conn_drop (m, c);
            }
        }
      /* Opportunistic flushes keep latency low. */
      if (m->agent_out.len && outq_flush (m->agent_fd, &m->agent_out) < 0)
        agent_died (m, "the agent channel was closed");
      for (conn_t *c = m->conns; c; c = c->next)
        if (!c->dead && c->out.len && outq_flush (c->fd, &c->out) < 0)
          conn_drop (m, c);
      conns_reap (m);
    }
}

/* The VM's parameters from the arguments file, and whether it is a clone of the VM
   template (a clone has the template's size; its NICs are hot-plugged once it answers). */
static void
choose_boot (monitor_t *m)
{
  m->ops = kata_hypervisor_get ("qemu");
  m->params = (kata_vm_params_t){ .cfg = m->cfg,
                                  .sandbox_id = m->sid,
                                  .vm_dir = m->vm_dir,
                                  .shared_dir = m->shared_dir,
                                  .vcpus = m->vcpus,
                                  .memory_mb = m->memory_mb,
                                  .netns_path = m->netns_path,
                                  .block_rootfs = m->block_rootfs,
                                  .nic_taps = (const char *const *)m->nic_taps,
                                  .nic_macs = (const char *const *)m->nic_macs,
                                  .nics_len = m->nics_len,
                                  .debug = m->debug,
                                  .warm = m->standby };
  if (m->cfg->factory.enable_template && m->nics_len > 0
      && strcmp (m->cfg->hypervisor.machine_type, "microvm") == 0)
    kata_debug ("sandbox %s: NICs cannot be hot-plugged into a microvm clone; booting normally", m->sid);
  else if (m->cfg->factory.enable_template)
    {
      int tv = 0, tm = 0;
      bool ready = kata_vm_template_ready (m->cfg, &tv, &tm);
      /* another configuration's template (they share the default template_path): its
         clone would run that configuration's guest */
      cleanup_free char *why = ready ? kata_vm_template_mismatch (m->cfg) : NULL;
      if (ready && why == NULL)
        {
          /* A clone has the template's size, whatever the spec asked for. */
          m->params.boot_mode = KATA_VM_BOOT_CLONE;
          m->params.template_path = m->cfg->factory.template_path;
          m->params.vcpus = tv;
          m->params.memory_mb = tm;
          /* the template has no NIC: they are hot-plugged once the clone answers */
          m->params.nics_len = 0;
          kata_debug ("sandbox %s: cloning the VM template in %s", m->sid, m->cfg->factory.template_path);
        }
      else if (ready)
        kata_warn ("sandbox %s: the VM template in `%s` was made for another guest (%s); booting normally",
                   m->sid, m->cfg->factory.template_path, why);
      else
        kata_warn (
            "sandbox %s: enable_template is set but there is no VM template in `%s` (run `kata-runtime "
            "factory init`); booting normally",
            m->sid, m->cfg->factory.template_path);
    }
}

/* A template clone: true when its agent answered; false (the parameters switched to a
   cold boot) when the clone could not start or come up, or there is no template. */
static bool
try_clone (monitor_t *m)
{
  kata_error_t *err = NULL;
  cleanup_error kata_error_t *booterr = NULL;
  if (m->params.boot_mode != KATA_VM_BOOT_CLONE)
    return false;
  if (m->ops->start (&m->params, &m->vm, &err) < 0)
    {
      /* A corrupt template must not keep sandboxes from starting. */
      kata_warn ("sandbox %s: cannot clone the VM template in `%s` (%s); falling back to a cold boot", m->sid,
                 m->cfg->factory.template_path, err->msg);
      kata_error_free (err);
      mon_clone_to_cold (m);
      return false;
    }
  kata_debug ("sandbox %s: QEMU pid %d (%s, template clone)", m->sid, (int)m->vm.pid, m->vm.accel);
  if (mon_boot_agent (m, &booterr) == 0)
    return true;
  kata_warn ("sandbox %s: the clone of the VM template in `%s` did not come up (%s); falling back to a "
             "cold boot",
             m->sid, m->cfg->factory.template_path, booterr->msg);
  m->ops->stop (&m->vm, true, NULL);
  m->ops->release (&m->vm);
  memset (&m->vm, 0, sizeof m->vm);
  if (m->agent_fd >= 0)
    close (m->agent_fd);
  m->agent_fd = -1;
  kata_frame_reader_free (&m->agent_rd);
  m->qemu_exited = false;
  mon_clone_to_cold (m);
  return false;
}

int
kata_monitor_main (int argc, char **argv)
{
  monitor_t mon = { .sfd = -1, .epfd = -1, .listen_fd = -1, .sbs_dfd = -1, .agent_fd = -1 };
  monitor_t *m = &mon;
  kata_error_t *err = NULL;
  cleanup_error kata_error_t *booterr = NULL;
  int ready = -1, i0 = 1;
  sigset_t set;

  for (int i = 0; i < argc; i++)
    if (strcmp (argv[i], "__monitor") == 0)
      i0 = i + 1;
  if (argc - i0 < 2)
    {
      fprintf (stderr, "usage: __monitor ROOT SANDBOX-ID [READY-FD]\n");
      return 2;
    }
  /* We chdir into the VM dir: every path must be absolute. */
  m->root = realpath (argv[i0], NULL);
  if (m->root == NULL)
    m->root = xstrdup (argv[i0]);
  m->sid = argv[i0 + 1];
  if (argc - i0 >= 3)
    {
      ready = atoi (argv[i0 + 2]);
      kata_set_cloexec (ready, 1); /* QEMU must not hold it */
    }
  if (argc - i0 >= 4 && strcmp (argv[i0 + 3], "standby") == 0)
    m->standby = true;
  m->creator_pid = getppid ();
  m->creator_start = kata_proc_start_time (m->creator_pid);
  m->vm_dir = xasprintf ("%s/vm/%s", m->root, m->sid);
  m->shared_dir = xasprintf ("%s/shared/%s", m->root, m->sid);
  m->sbs_dir = xasprintf ("%s/sbs/%s", m->root, m->sid);

  signal (SIGPIPE, SIG_IGN);
  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGHUP);
  sigprocmask (SIG_BLOCK, &set, NULL);
  m->sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

  {
    cleanup_free char *args = xasprintf ("%s/%s", m->vm_dir, MON_ARGS_FILE);
    if (chdir (m->vm_dir) < 0)
      {
        mon_report (ready, "err %d cannot enter `%s`: %s\n", errno, m->vm_dir, strerror (errno));
        return 1;
      }
    if (mon_load_args (m, args, &err) < 0)
      {
        mon_report_error (ready, err);
        kata_monitor_cleanup_dirs (m->root, m->sid, false);
        return 1;
      }
  }
  choose_boot (m);
  if (try_clone (m))
    goto booted;
  if (m->vm.pid == 0 && m->ops->start (&m->params, &m->vm, &err) < 0)
    {
      mon_report_error (ready, err);
      kata_monitor_cleanup_dirs (m->root, m->sid, false);
      return 1;
    }
  kata_debug ("sandbox %s: QEMU pid %d (%s)", m->sid, (int)m->vm.pid, m->vm.accel);
  kata_fault_point ("monitor-qemu-started");
  if (mon_boot_agent (m, &booterr) < 0)
    {
      kata_log (KATA_LOG_ERROR, "sandbox %s: %s", m->sid, booterr->msg);
      m->ops->stop (&m->vm, true, NULL);
      mon_report_error (ready, booterr);
      kata_monitor_cleanup_dirs (m->root, m->sid, false);
      return 1;
    }
booted:
  kata_log_stage ("agent-ready");
  kata_fault_point ("monitor-agent-ready");
  if (!m->standby && m->params.nics_len < m->nics_len && mon_hotplug_boot_nics (m, &err) < 0)
    {
      m->ops->stop (&m->vm, true, NULL);
      mon_report_error (ready, err);
      kata_monitor_cleanup_dirs (m->root, m->sid, false);
      return 1;
    }
  if (m->standby)
    ready = mon_standby_wait (m, ready);
  if (bind_monitor_sock (m, &err) < 0)
    {
      m->ops->stop (&m->vm, true, NULL);
      mon_report_error (ready, err);
      kata_monitor_cleanup_dirs (m->root, m->sid, false);
      return 1;
    }
  if (mon_report (ready, "ok %d %llu %d %llu\n", (int)m->vm.pid, m->vm.start, (int)m->vm.vfsd_pid,
                  m->vm.vfsd_start)
      < 0)
    {
      /* Whoever started us is gone and nobody knows this sandbox: do not leak it. */
      kata_warn ("sandbox %s: the runtime that started it is gone; shutting it down", m->sid);
      close (ready);
      serve_shutdown (m, NULL, 0, "orphaned at start");
    }
  if (ready >= 0)
    close (ready);
  serve (m);
}
