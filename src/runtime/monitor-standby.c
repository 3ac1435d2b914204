/* The VM cache's standby monitors: a VM booted for nobody yet waits to be claimed,
   then takes the claiming sandbox's identity (docs/factory.md). */
#include "config.h"
#include "runtime/monitor-internal.h"

/* ---- VM cache: standby monitors (docs/factory.md) ---- */

static void __attribute__ ((noreturn)) standby_exit (monitor_t *m, const char *why)
{
  kata_debug ("standby VM %s: %s; shutting it down", m->sid, why);
  m->ops->stop (&m->vm, true, NULL);
  kata_monitor_cleanup_dirs (m->root, m->sid, false);
  rmdir (m->shared_dir);
  _exit (0);
}

/* Sends SetIdentity (hostname, host clock, fresh entropy) and waits for its answer. */
static int
standby_set_identity (monitor_t *m, kata_error_t **err)
{
  uint8_t seed[32];
  char hex[65];
  struct timespec ts;
  uint32_t id = mon_new_id (m);
  uint64_t deadline = kata_now_ns () + 10000000000ULL;
  yajl_gen g = kata_gen_new ();
  cleanup_free char *params = NULL, *req = NULL;

  if (getrandom (seed, sizeof seed, 0) != (ssize_t)sizeof seed)
    memset (seed, 0, sizeof seed);
  for (size_t i = 0; i < sizeof seed; i++)
    sprintf (hex + 2 * i, "%02x", seed[i]);
  clock_gettime (CLOCK_REALTIME, &ts);
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "hostname", m->hostname ? m->hostname : "");
  kata_gen_kv_int (g, "time_ns", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  kata_gen_kv_str (g, "random_seed", hex);
  yajl_gen_map_close (g);
  params = kata_gen_finish (g, NULL);
  req = kata_msg_request ("SetIdentity", params);
  if (kata_frame_write (m->agent_fd, KATA_FRAME_REQ, 0, id, req, strlen (req), err) < 0)
    return -1;
  for (;;)
    {
      kata_frame_t f = { 0 };
      int r = kata_frame_reader_next (&m->agent_rd, &f, err);
      if (r < 0)
        return -1;
      if (r > 0)
        {
          if (f.type == KATA_FRAME_RESP && f.id == id)
            {
              yajl_val root = NULL, res = NULL;
              int code = 0;
              r = kata_msg_parse_response (f.payload, f.len, &root, &res, &code, err);
              if (root)
                yajl_tree_free (root);
              kata_frame_clear (&f);
              return r < 0 ? kata_error_wrap (err, "SetIdentity") : 0;
            }
          kata_frame_clear (&f);
          continue;
        }
      uint64_t now = kata_now_ns ();
      if (now >= deadline)
        return kata_make_error_nostr (err, KATA_ETIMEOUT, "SetIdentity: the agent did not answer");
      struct pollfd p = { .fd = m->agent_fd, .events = POLLIN };
      if (poll (&p, 1, (int)((deadline - now) / 1000000) + 1) <= 0)
        continue;
      char buf[65536];
      ssize_t n = read (m->agent_fd, buf, sizeof buf);
      if (n <= 0)
        return kata_make_error_nostr (err, KATA_EVMDEAD, "SetIdentity: the agent channel closed");
      kata_frame_reader_feed (&m->agent_rd, buf, n);
    }
}

/* Handles one claim on CONN: the sandbox's args JSON (as monitor-start.c writes it).
   Moves the VM dir and the shared dir to the sandbox's, takes its identity.  */
static int
standby_claim (monitor_t *m, int conn, kata_error_t **err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  cleanup_yajl_val yajl_val v = NULL;
  const char *root, *sid;
  cleanup_free char *new_vm = NULL, *new_shared = NULL, *vm_parent = NULL, *sh_parent = NULL, *args = NULL;

  if (kata_read_fd (conn, &data, &len, 1 << 20, err) < 0 || kata_json_parse (data, len, &v, err) < 0)
    return kata_error_wrap (err, "read the claim");
  root = kata_json_str (v, "root");
  sid = kata_json_str (v, "sandbox_id");
  if (root == NULL || sid == NULL || root[0] != '/')
    return kata_make_error_nostr (err, EINVAL, "claim without an absolute root or a sandbox id");
  vm_parent = xasprintf ("%s/vm", root);
  sh_parent = xasprintf ("%s/shared", root);
  new_vm = xasprintf ("%s/vm/%s", root, sid);
  new_shared = xasprintf ("%s/shared/%s", root, sid);
  if (kata_mkdir_p (vm_parent, 0700, err) < 0 || kata_mkdir_p (sh_parent, 0700, err) < 0)
    return -1;
  /* QEMU holds the 9p export and the sockets by fd: renaming the dirs keeps them working. */
  if (rename (m->vm_dir, new_vm) < 0)
    return kata_make_error (err, errno, "move `%s` to `%s`", m->vm_dir, new_vm);
  if (rename (m->shared_dir, new_shared) < 0)
    {
      int e = errno;
      rename (new_vm, m->vm_dir);
      return kata_make_error (err, e, "move `%s` to `%s`", m->shared_dir, new_shared);
    }
  free (m->root);
  m->root = xstrdup (root);
  m->sid = xstrdup (sid);
  free (m->vm_dir);
  m->vm_dir = xstrdup (new_vm);
  free (m->shared_dir);
  m->shared_dir = xstrdup (new_shared);
  free (m->sbs_dir);
  m->sbs_dir = xasprintf ("%s/sbs/%s", root, sid);
  free (m->vm.vm_dir);
  m->vm.vm_dir = xstrdup (new_vm);
  m->params.vm_dir = m->vm_dir;
  m->params.shared_dir = m->shared_dir;
  m->params.sandbox_id = m->sid;
  {
    cleanup_free char *claim = xasprintf ("%s/claim.sock", new_vm);
    unlink (claim);
  }
  args = xasprintf ("%s/%s", new_vm, MON_ARGS_FILE);
  if (kata_write_file_atomic (args, data, len, 0600, err) < 0)
    return -1;
  m->nics_len = 0;
  if (mon_load_args (m, args, err) < 0)
    return -1;
  m->standby = false;
  if (m->cgroup_path
      && (kata_join_cgroup (m->cgroup_path, getpid (), err) < 0
          || kata_join_cgroup (m->cgroup_path, m->vm.pid, err) < 0))
    return -1;
  if (standby_set_identity (m, err) < 0)
    return -1;
  /* the sandbox's NICs: the taps are wired in its netns; QEMU gets them as fds */
  if (m->nics_len > 0 && mon_hotplug_boot_nics (m, err) < 0)
    return -1;
  kata_debug ("sandbox %s: took over the cached VM (QEMU pid %d)", m->sid, (int)m->vm.pid);
  return 0;
}

/* Standby: tells READY we are up, then waits on <vm_dir>/claim.sock for a sandbox.
   Returns the claimant's connection (it gets the usual "ok ..." line); exits on SIGTERM
   or when the VM dies. */
int
mon_standby_wait (monitor_t *m, int ready)
{
  cleanup_free char *claim = xasprintf ("%s/claim.sock", m->vm_dir);
  cleanup_error kata_error_t *e = NULL;
  int lfd = kata_unix_listen (claim, SOCK_CLOEXEC, 4, &e);
  bool term = false;

  if (lfd < 0)
    {
      mon_report_error (ready, e);
      standby_exit (m, "no claim socket");
    }
  if (mon_report (ready, "standby %d %llu %d %llu\n", (int)getpid (), kata_proc_start_time (getpid ()),
                  (int)m->vm.pid, m->vm.start)
      < 0)
    standby_exit (m, "the VM cache daemon is gone");
  if (ready >= 0)
    close (ready);
  for (;;)
    {
      struct pollfd p[3] = { { .fd = m->sfd, .events = POLLIN },
                             { .fd = lfd, .events = POLLIN },
                             { .fd = m->agent_fd, .events = POLLRDHUP } };
      int status;
      bool was_vfsd;
      if (poll (p, 3, 1000) < 0 && errno != EINTR)
        standby_exit (m, "poll failed");
      if (p[0].revents)
        mon_drain_signalfd (m->sfd, &term);
      if (term)
        standby_exit (m, "terminated");
      if (mon_reap_children (m, &status, &was_vfsd) || (p[2].revents & (POLLHUP | POLLRDHUP | POLLERR)))
        standby_exit (m, "the VM died");
      if (p[1].revents & POLLIN)
        {
          kata_error_t *err = NULL;
          int c = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
          if (c < 0)
            continue;
          close (lfd);
          if (standby_claim (m, c, &err) < 0)
            {
              kata_log (KATA_LOG_WARNING, "standby VM: claim failed: %s", err->msg);
              /* Whatever was moved goes with the VM, before the runtime falls back to its own VM. */
              m->ops->stop (&m->vm, true, NULL);
              kata_monitor_cleanup_dirs (m->root, m->sid, false);
              rmdir (m->shared_dir);
              mon_report_error (c, err);
              close (c);
              _exit (0);
            }
          return c;
        }
    }
}

/* Back to a cold boot with the sandbox's own size, after a failed clone. */
void
mon_clone_to_cold (monitor_t *m)
{
  m->params.boot_mode = KATA_VM_BOOT_COLD;
  m->params.template_path = NULL;
  m->params.vcpus = m->vcpus;
  m->params.memory_mb = m->memory_mb;
  m->params.nics_len = m->nics_len; /* on the command line again */
}
