/* Containers: CreateContainer/StartContainer/ExecProcess/RemoveContainer and the cgroup
   based verbs (pause, resume, update, stats, list processes), OOM events. */
#include "config.h"
#include "agent/agent.h"
#include "common/json.h"
#include "common/utils.h"
#include "agent/storage-blk.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CHILD_TIMEOUT_MS 60000

agent_container_t *
agent_container_find (agent_t *a, const char *id)
{
  agent_container_t *c;
  if (id == NULL)
    return NULL;
  for (c = a->containers; c; c = c->next)
    if (strcmp (c->id, id) == 0)
      return c;
  return NULL;
}

static int
validate_id (const char *id, kata_error_t **err)
{
  size_t i, n;
  if (id == NULL || *id == '\0')
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "container_id is required");
  n = strlen (id);
  if (n > 1024 || strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "invalid container id `%s`", id);
  for (i = 0; i < n; i++)
    {
      char ch = id[i];
      if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'
            || ch == '-' || ch == '.' || ch == '+'))
        return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "invalid container id `%s`", id);
    }
  return 0;
}

static void
container_free (agent_t *a, agent_container_t *c)
{
  agent_container_t **pp;
  agent_process_t *p, *next;
  size_t i;
  for (pp = &a->containers; *pp; pp = &(*pp)->next)
    if (*pp == c)
      {
        *pp = c->next;
        break;
      }
  for (p = a->procs; p; p = next)
    {
      next = p->next;
      if (p->ctr == c)
        agent_process_free (a, p);
    }
  if (c->oom_wd >= 0 && a->inotify_fd >= 0)
    inotify_rm_watch (a->inotify_fd, c->oom_wd);
  for (i = 0; i < c->storages_len; i++)
    {
      agent_storage_release (a, c->storages[i]);
      free (c->storages[i]);
    }
  free (c->storages);
  free_runtime_spec_schema_config_schema (c->spec);
  free (c->id);
  free (c->rootfs);
  free (c->cgroup);
  free (c);
}

static int
ns_flag (const char *type)
{
  if (type == NULL)
    return 0;
  if (strcmp (type, "pid") == 0)
    return CLONE_NEWPID;
  if (strcmp (type, "mount") == 0)
    return CLONE_NEWNS;
  if (strcmp (type, "uts") == 0)
    return CLONE_NEWUTS;
  if (strcmp (type, "ipc") == 0)
    return CLONE_NEWIPC;
  if (strcmp (type, "cgroup") == 0)
    return CLONE_NEWCGROUP;
  return 0; /* network (the VM's) and user (not supported in the guest) */
}

static const char *
ns_file (int flag)
{
  switch (flag)
    {
    case CLONE_NEWPID:
      return "pid";
    case CLONE_NEWNS:
      return "mnt";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWCGROUP:
      return "cgroup";
    }
  return NULL;
}

static int
open_ns (pid_t pid, int flag, kata_error_t **err)
{
  char path[64];
  int fd;
  snprintf (path, sizeof path, "/proc/%d/ns/%s", pid, ns_file (flag));
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return kata_make_error (err, errno, "open `%s`", path);
  return fd;
}

struct spawn_req
{
  agent_container_t *c;
  runtime_spec_schema_config_schema_process *proc;
  bool is_init;
  agent_container_t *sandbox; /* pod: whose pid/ipc/uts namespaces to join */
  bool sandbox_pidns;
  const char *exec_id;
};

static void
close_all (int *fds, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (fds[i] >= 0)
      {
        close (fds[i]);
        fds[i] = -1;
      }
}

/* Receives the pty master the child sends once it has opened the container's /dev/ptmx.
   Returns the fd; -1 when the child closed the socket without sending one (it failed and
   says why on the sync pipe); -2 on a time-out (the child is killed and reaped). */
static int
recv_console (int sock, pid_t pid, kata_error_t **err)
{
  struct pollfd pfd = { .fd = sock, .events = POLLIN };
  int r, fd, st;
  do
    r = poll (&pfd, 1, CHILD_TIMEOUT_MS);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, &st, 0);
      kata_make_error_nostr (err, ETIMEDOUT, "container process sent no terminal in %d ms", CHILD_TIMEOUT_MS);
      return -2;
    }
  fd = kata_recv_fd (sock);
  return fd >= 0 ? fd : -1;
}

/* The namespaces of a new process: for a container's init, the spec's (new ones, or the
   sandbox container's for a pod's IPC, UTS and PID), always a new mount and cgroup
   namespace; for an exec, its container init's.  Opened fds go in NS (the caller closes
   them, also on failure). */
struct ns_choice
{
  int fds[8], types[8], n;
  int pid_ns_fd;
  int clone_flags, unshare_flags;
};

static int
choose_namespaces (struct spawn_req *r, struct ns_choice *ns, kata_error_t **err)
{
  size_t i;
  if (r->is_init)
    {
      runtime_spec_schema_config_linux *lx = r->c->spec->linux;
      pid_t spid = r->sandbox && r->sandbox->init && !r->sandbox->init->exited ? r->sandbox->init->pid : 0;
      ns->unshare_flags |= CLONE_NEWNS;
      for (i = 0; lx && i < lx->namespaces_len; i++)
        {
          int f = ns_flag (lx->namespaces[i]->type);
          bool has_path = lx->namespaces[i]->path && *lx->namespaces[i]->path;
          bool join = spid
                      && ((f == CLONE_NEWPID && (has_path || r->sandbox_pidns))
                          || ((f == CLONE_NEWIPC || f == CLONE_NEWUTS) && has_path));
          if (f == 0 || f == CLONE_NEWNS)
            continue;
          if (join)
            {
              int fd = open_ns (spid, f, err);
              if (fd < 0)
                return -1;
              if (f == CLONE_NEWPID)
                ns->pid_ns_fd = fd;
              else
                {
                  ns->fds[ns->n] = fd;
                  ns->types[ns->n++] = f;
                }
            }
          else if (f == CLONE_NEWPID)
            ns->clone_flags |= CLONE_NEWPID;
          else
            ns->unshare_flags |= f;
        }
      /* A cgroup namespace of its own even when the spec asks for none (CRI servers on a
         cgroup v1 host): the guest is cgroup v2 only, and the container's /sys/fs/cgroup
         must show its own cgroup and limits, as runc's bind of the container's cgroup
         directory does on v1, not the guest's whole tree (docs/kubernetes.md). */
      ns->unshare_flags |= CLONE_NEWCGROUP;
      if (r->sandbox_pidns && spid && ns->pid_ns_fd < 0)
        {
          ns->pid_ns_fd = open_ns (spid, CLONE_NEWPID, err);
          if (ns->pid_ns_fd < 0)
            return -1;
        }
    }
  else
    {
      static const int order[] = { CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWNS };
      pid_t ipid = r->c->init->pid;
      for (i = 0; i < 4; i++)
        {
          int fd = open_ns (ipid, order[i], err);
          if (fd < 0)
            return -1;
          ns->fds[ns->n] = fd;
          ns->types[ns->n++] = order[i];
        }
      ns->pid_ns_fd = open_ns (ipid, CLONE_NEWPID, err);
      if (ns->pid_ns_fd < 0)
        return -1;
    }

  return 0;
}

/* What the child needs (agent_child_run): the spec, its namespaces, its ends of the
   stdio, sync and start pipes (FDS as in spawn), and the parent's ends to close. */
static void
child_args (struct spawn_req *r, const int *fds, const struct ns_choice *ns, agent_child_args_t *args)
{
  size_t i;
  memset (args, 0, sizeof *args);
  args->spec = r->c->spec;
  args->process = r->proc;
  args->rootfs = r->c->rootfs;
  args->cgroup = r->c->cgroup;
  args->is_init = r->is_init;
  memcpy (args->ns_fds, ns->fds, sizeof ns->fds);
  memcpy (args->ns_types, ns->types, sizeof ns->types);
  args->unshare_flags = ns->unshare_flags;
  if (r->proc->terminal)
    {
      args->stdio[0] = args->stdio[1] = args->stdio[2] = -1;
      args->console_sock = fds[11];
    }
  else
    {
      args->stdio[0] = fds[0];
      args->stdio[1] = fds[3];
      args->stdio[2] = fds[5];
      args->console_sock = -1;
    }
  args->sync_fd = fds[7];
  args->start_fd = fds[8];
  for (i = 0; i < 16; i++)
    args->close_fds[i] = -1;
  {
    int k = 0;
    static const int parent_ends[] = { 1, 2, 4, 6, 9, 10 };
    for (i = 0; i < sizeof parent_ends / sizeof parent_ends[0]; i++)
      if (fds[parent_ends[i]] >= 0)
        args->close_fds[k++] = fds[parent_ends[i]];
  }
}

static int
spawn (agent_t *a, struct spawn_req *r, agent_process_t **out, kata_error_t **err)
{
  agent_child_args_t args;
  /* 0..5: stdin r/w, stdout r/w, stderr r/w; 6,7: sync r/w; 8,9: start r/w;
     10, 11: console socketpair (agent end, child end) that brings back the pty master */
  int fds[12];
  struct ns_choice ns = { .pid_ns_fd = -1, .clone_flags = SIGCHLD };
  int self_pid_ns = -1;
  pid_t pid;
  agent_process_t *p;
  size_t i;
  int r2, master = -1;

  for (i = 0; i < 12; i++)
    fds[i] = -1;
  for (i = 0; i < 8; i++)
    ns.fds[i] = -1;

  /* With a terminal the child allocates the pty from the container's devpts, after its
     mounts (runc does the same), and sends the master back here. */
  if (r->proc->terminal)
    {
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, &fds[10]) < 0)
        {
          kata_make_error (err, errno, "socketpair");
          goto fail;
        }
    }
  else
    for (i = 0; i < 3; i++)
      if (pipe2 (&fds[2 * i], O_CLOEXEC) < 0)
        {
          kata_make_error (err, errno, "pipe");
          goto fail;
        }
  if (pipe2 (&fds[6], O_CLOEXEC) < 0 || (r->is_init && pipe2 (&fds[8], O_CLOEXEC) < 0))
    {
      kata_make_error (err, errno, "pipe");
      goto fail;
    }

  if (choose_namespaces (r, &ns, err) < 0)
    goto fail;
  child_args (r, fds, &ns, &args);
  if (ns.pid_ns_fd >= 0)
    {
      self_pid_ns = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
      if (setns (ns.pid_ns_fd, CLONE_NEWPID) < 0)
        {
          kata_make_error (err, errno, "join pid namespace");
          goto fail;
        }
    }
  pid = syscall (SYS_clone, ns.clone_flags, NULL, NULL, NULL, NULL);
  if (pid == 0)
    agent_child_run (&args);
  r2 = errno;
  if (self_pid_ns >= 0)
    {
      if (setns (self_pid_ns, CLONE_NEWPID) < 0)
        agent_log_always ("restore pid namespace: %s", strerror (errno));
      close (self_pid_ns);
      self_pid_ns = -1;
    }
  if (pid < 0)
    {
      kata_make_error (err, r2, "clone");
      goto fail;
    }
  if (r->proc->terminal)
    {
      close (fds[11]);
      fds[11] = -1;
      master = recv_console (fds[10], pid, err);
      if (master == -2)
        goto fail;
    }

  p = agent_process_new (a, r->c, r->exec_id);
  p->pid = pid;
  p->terminal = r->proc->terminal;
  if (r->proc->terminal && master >= 0)
    {
      /* without a master the child failed: the caller reads why on the sync pipe */
      p->out_fd = master;
      p->in_fd = fcntl (master, F_DUPFD_CLOEXEC, 3);
    }
  else
    {
      p->in_fd = fds[1];
      p->out_fd = fds[2];
      p->err_fd = fds[4];
      fds[1] = fds[2] = fds[4] = -1;
    }
  p->sync_fd = fds[6];
  p->start_fd = fds[9];
  fds[6] = fds[9] = -1;
  close_all (fds, 12);
  close_all (ns.fds, 8);
  if (ns.pid_ns_fd >= 0)
    close (ns.pid_ns_fd);
  agent_process_watch_io (a, p);
  *out = p;
  return 0;

fail:
  close_all (fds, 12);
  close_all (ns.fds, 8);
  if (ns.pid_ns_fd >= 0)
    close (ns.pid_ns_fd);
  return -1;
}

/* Waits for a child that failed (it exits at once) so it is not left as a zombie
   whose status nobody wants. */
static void
reap_failed (agent_t *a, agent_process_t *p)
{
  int st;
  if (!p->exited && waitpid (p->pid, &st, 0) == p->pid)
    {
      p->exited = true;
      p->wstatus = st;
      p->exit_ns = kata_now_ns ();
    }
  (void)a;
}

static void
gen_pid_stream (yajl_gen out, agent_process_t *p)
{
  kata_gen_kv_int (out, "pid", p->pid);
  kata_gen_kv_int (out, "stream", p->stream);
}

static void
watch_oom (agent_t *a, agent_container_t *c)
{
  cleanup_free char *p = xasprintf ("%s/memory.events", c->cgroup);
  c->oom_wd = a->inotify_fd >= 0 ? inotify_add_watch (a->inotify_fd, p, IN_MODIFY) : -1;
}

static long long
read_key (const char *path, const char *key)
{
  cleanup_free char *s = NULL;
  char *line, *save = NULL;
  size_t kl = strlen (key);
  if (kata_read_file (path, &s, NULL, 1 << 20, NULL) < 0)
    return -1;
  for (line = strtok_r (s, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (strncmp (line, key, kl) == 0 && line[kl] == ' ')
      return strtoll (line + kl + 1, NULL, 10);
  return -1;
}

void
agent_check_oom (agent_t *a)
{
  agent_container_t *c;
  for (c = a->containers; c; c = c->next)
    {
      cleanup_free char *p = xasprintf ("%s/memory.events", c->cgroup);
      long long n = read_key (p, "oom_kill");
      if (n > c->oom_kills)
        {
          yajl_gen g = kata_gen_new ();
          char *ev;
          c->oom_kills = n;
          yajl_gen_map_open (g);
          kata_gen_kv_str (g, "event", "oom");
          kata_gen_kv_str (g, "container_id", c->id);
          yajl_gen_map_close (g);
          ev = kata_gen_finish (g, NULL);
          agent_send_event (a, ev);
          free (ev);
        }
    }
}

/* CreateContainer's "devices": hot-plugged block devices named by the spec's linux.devices
   (by "container_path").  In the VM the disk has its own major:minor: the spec's device
   entry gets the guest's numbers, and so does every device cgroup rule that named the
   host's (as Kata's agent does).  create_devices() then makes the node at the path with
   the spec's file mode, uid and gid. */
static int
update_spec_devices (runtime_spec_schema_config_schema *spec, yajl_val devs, kata_error_t **err)
{
  size_t i, k;
  if (devs == NULL)
    return 0;
  for (i = 0; i < devs->u.array.len; i++)
    {
      yajl_val d = devs->u.array.values[i];
      const char *driver = kata_json_str (d, "driver");
      const char *source = kata_json_str (d, "source");
      const char *cpath = kata_json_str (d, "container_path");
      runtime_spec_schema_defs_linux_device *dv = NULL;
      cleanup_free char *dev = NULL;
      struct stat st;
      int64_t hmaj, hmin;

      if (driver == NULL || source == NULL || cpath == NULL || strcmp (driver, "blk") != 0)
        return kata_make_error_nostr (err, KATA_PROTO_EPARAMS,
                                      "devices[%zu]: driver \"blk\", source and container_path are required",
                                      i);
      for (k = 0; spec->linux && k < spec->linux->devices_len; k++)
        if (spec->linux->devices[k]->path && strcmp (spec->linux->devices[k]->path, cpath) == 0)
          dv = spec->linux->devices[k];
      if (dv == NULL)
        return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "device `%s` is not in linux.devices", cpath);
      dev = agent_wait_block_device (source, err);
      if (dev == NULL)
        return kata_error_wrap (err, "device %s", cpath);
      if (stat (dev, &st) < 0 || !S_ISBLK (st.st_mode))
        return kata_make_error (err, errno ? errno : ENOTBLK, "device %s: `%s`", cpath, dev);
      hmaj = dv->major;
      hmin = dv->minor;
      dv->major = major (st.st_rdev);
      dv->minor = minor (st.st_rdev);
      dv->major_present = dv->minor_present = true;
      if (spec->linux->resources)
        for (k = 0; k < spec->linux->resources->devices_len; k++)
          {
            runtime_spec_schema_defs_linux_device_cgroup *r = spec->linux->resources->devices[k];
            if (r->type && strcmp (r->type, "b") == 0 && r->major_present && r->minor_present
                && r->major == hmaj && r->minor == hmin)
              {
                r->major = dv->major;
                r->minor = dv->minor;
              }
          }
      agent_log ("device %s: host %lld:%lld is %s (%lld:%lld) in the guest", cpath, (long long)hmaj,
                 (long long)hmin, dev, (long long)dv->major, (long long)dv->minor);
    }
  return 0;
}

int
agent_h_create_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  const char *cid = kata_json_str (params, "container_id");
  const char *scid = kata_json_str (params, "sandbox_container_id");
  yajl_val oci = kata_json_get (params, "oci");
  struct parser_context ctx = { 0 };
  parser_error perr = NULL;
  agent_container_t *c;
  struct spawn_req r = { 0 };
  agent_process_t *p = NULL;
  struct stat st;
  (void)id;

  if (validate_id (cid, err) < 0)
    return -1;
  if (agent_container_find (a, cid))
    return kata_make_error_nostr (err, EEXIST, "container %s already exists", cid);
  if (oci == NULL || !YAJL_IS_OBJECT (oci))
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "create container %s: `oci` is required", cid);
  c = xmalloc0 (sizeof *c);
  c->oom_wd = -1;
  c->id = xstrdup (cid);
  c->spec = make_runtime_spec_schema_config_schema (oci, &ctx, &perr);
  if (c->spec == NULL)
    {
      kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "create container %s: invalid OCI spec: %s", cid,
                             perr ? perr : "?");
      free (perr);
      free (c->id);
      free (c);
      return -1;
    }
  free (perr);
  c->state = CTR_CREATED;
  c->next = a->containers;
  a->containers = c;

  if (agent_storages_mount (a, kata_json_array (params, "storages"), &c->storages, &c->storages_len, err) < 0)
    goto fail;
  if (update_spec_devices (c->spec, kata_json_array (params, "devices"), err) < 0)
    goto fail;
  if (c->spec->root == NULL || c->spec->root->path == NULL)
    {
      kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "root.path is required");
      goto fail;
    }
  if (c->spec->root->path[0] == '/')
    c->rootfs = xstrdup (c->spec->root->path);
  else
    c->rootfs = xasprintf (KATA_GUEST_SHARED_DIR "/%s/%s", cid, c->spec->root->path);
  if (stat (c->rootfs, &st) < 0 || !S_ISDIR (st.st_mode))
    {
      kata_make_error (err, errno ? errno : ENOTDIR, "rootfs `%s`", c->rootfs);
      goto fail;
    }
  if (c->spec->process == NULL)
    {
      kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "process is required");
      goto fail;
    }
  c->cgroup = xasprintf (AGENT_CGROUP_PARENT "/%s", cid);
  if (agent_cgroup_create (c->cgroup, c->spec->linux ? c->spec->linux->resources : NULL, err) < 0)
    goto fail;

  r.c = c;
  r.proc = c->spec->process;
  r.is_init = true;
  r.exec_id = "";
  r.sandbox = scid && *scid ? agent_container_find (a, scid) : NULL;
  if (scid && *scid && r.sandbox == NULL)
    {
      kata_make_error_nostr (err, ENOENT, "sandbox container %s not found", scid);
      goto fail;
    }
  r.sandbox_pidns = kata_json_bool (params, "sandbox_pidns", false);
  if (spawn (a, &r, &p, err) < 0)
    goto fail;
  c->init = p;
  if (agent_child_read_status (p->sync_fd, true, CHILD_TIMEOUT_MS, err) < 0)
    {
      kill (p->pid, SIGKILL);
      reap_failed (a, p);
      goto fail;
    }
  watch_oom (a, c);
  gen_pid_stream (out, p);
  agent_log ("container %s created, pid %d", cid, p->pid);
  return 0;

fail:
  kata_error_wrap (err, "create container %s", cid);
  if (c->cgroup)
    {
      agent_cgroup_kill (c->cgroup);
      agent_cgroup_destroy (c->cgroup);
    }
  container_free (a, c);
  return -1;
}

int
agent_h_start_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  const char *cid = kata_json_str (params, "container_id");
  agent_container_t *c = agent_container_find (a, cid);
  agent_process_t *p;
  (void)id, (void)out;
  if (c == NULL)
    return kata_make_error_nostr (err, ENOENT, "container %s not found", cid ? cid : "");
  p = c->init;
  if (c->state != CTR_CREATED || p == NULL || p->start_fd < 0)
    return kata_make_error_nostr (err, EINVAL, "container %s is not in the created state", cid);
  if (kata_write_all (p->start_fd, "S", 1) < 0)
    return kata_make_error (err, errno, "start container %s", cid);
  close (p->start_fd);
  p->start_fd = -1;
  if (agent_child_read_status (p->sync_fd, false, CHILD_TIMEOUT_MS, err) < 0)
    {
      c->state = CTR_STOPPED;
      return kata_error_wrap (err, "start container %s", cid);
    }
  close (p->sync_fd);
  p->sync_fd = -1;
  c->state = CTR_RUNNING;
  return 0;
}

int
agent_h_exec_process (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  const char *cid = kata_json_str (params, "container_id");
  const char *eid = kata_json_str (params, "exec_id");
  yajl_val proc = kata_json_get (params, "process");
  agent_container_t *c = agent_container_find (a, cid);
  struct parser_context ctx = { 0 };
  parser_error perr = NULL;
  runtime_spec_schema_config_schema_process *pr;
  struct spawn_req r = { 0 };
  agent_process_t *p = NULL;
  int ret;
  (void)id;

  if (c == NULL)
    return kata_make_error_nostr (err, ENOENT, "container %s not found", cid ? cid : "");
  if (eid == NULL || *eid == '\0')
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "exec_id is required");
  if (agent_process_find (a, cid, eid))
    return kata_make_error_nostr (err, EEXIST, "exec %s already exists in container %s", eid, cid);
  /* runc allows exec in a created container: its init holds the namespaces (and waits
     for StartContainer in the prepared root). */
  if (c->init == NULL || c->init->exited || (c->state != CTR_RUNNING && c->state != CTR_CREATED))
    return kata_make_error_nostr (err, EINVAL, "cannot exec in container %s: it is not running", cid);
  if (proc == NULL || !YAJL_IS_OBJECT (proc))
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "process is required");
  pr = make_runtime_spec_schema_config_schema_process (proc, &ctx, &perr);
  if (pr == NULL)
    {
      kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "exec %s: invalid process: %s", eid, perr ? perr : "?");
      free (perr);
      return -1;
    }
  free (perr);
  r.c = c;
  r.proc = pr;
  r.is_init = false;
  r.exec_id = eid;
  ret = spawn (a, &r, &p, err);
  if (ret == 0 && agent_child_read_status (p->sync_fd, false, CHILD_TIMEOUT_MS, err) < 0)
    {
      reap_failed (a, p);
      agent_process_free (a, p);
      ret = -1;
    }
  free_runtime_spec_schema_config_schema_process (pr);
  if (ret < 0)
    return kata_error_wrap (err, "exec in container %s", cid);
  close (p->sync_fd);
  p->sync_fd = -1;
  gen_pid_stream (out, p);
  return 0;
}

static void
wait_cgroup_empty (agent_t *a, agent_container_t *c, long long timeout_s)
{
  uint64_t end = kata_now_ns () + (uint64_t)timeout_s * 1000000000ull;
  for (;;)
    {
      size_t n = 0;
      cleanup_free pid_t *pids = NULL;
      struct timespec ts = { 0, 5 * 1000 * 1000 };
      agent_reap_children (a);
      pids = agent_cgroup_pids (c->cgroup, &n);
      if (n == 0 && (c->init == NULL || c->init->exited))
        return;
      if (kata_now_ns () > end)
        return;
      nanosleep (&ts, NULL);
    }
}

int
agent_h_remove_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  const char *cid = kata_json_str (params, "container_id");
  long long timeout = kata_json_int (params, "timeout", 10);
  agent_container_t *c = agent_container_find (a, cid);
  (void)id, (void)out;
  if (c == NULL)
    return kata_make_error_nostr (err, ENOENT, "container %s not found", cid ? cid : "");
  if (timeout <= 0)
    timeout = 10;
  agent_cgroup_write (c->cgroup, "cgroup.freeze", "0", NULL);
  agent_cgroup_kill (c->cgroup);
  if (c->init && !c->init->exited)
    kill (c->init->pid, SIGKILL);
  wait_cgroup_empty (a, c, timeout);
  /* flush what the processes wrote before they died */
  {
    agent_process_t *p;
    for (p = a->procs; p; p = p->next)
      if (p->ctr == c)
        {
          if (p->out_fd >= 0 && !p->out_eof)
            agent_process_on_output (a, p, 1);
          if (p->err_fd >= 0 && !p->err_eof)
            agent_process_on_output (a, p, 2);
          agent_process_check_waiters (a, p, true);
        }
  }
  if (agent_cgroup_destroy (c->cgroup) < 0)
    agent_log ("rmdir %s: %s", c->cgroup, strerror (errno));
  container_free (a, c);
  return 0;
}

static int
freeze (agent_t *a, yajl_val params, const char *v, bool paused, kata_error_t **err)
{
  const char *cid = kata_json_str (params, "container_id");
  agent_container_t *c = agent_container_find (a, cid);
  if (c == NULL)
    return kata_make_error_nostr (err, ENOENT, "container %s not found", cid ? cid : "");
  if (agent_cgroup_write (c->cgroup, "cgroup.freeze", v, err) < 0)
    return kata_error_wrap (err, "container %s", cid);
  c->paused = paused;
  return 0;
}

int
agent_h_pause_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  (void)id, (void)out;
  return freeze (a, params, "1", true, err);
}

int
agent_h_resume_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  (void)id, (void)out;
  return freeze (a, params, "0", false, err);
}

int
agent_h_update_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  const char *cid = kata_json_str (params, "container_id");
  agent_container_t *c = agent_container_find (a, cid);
  yajl_val res = kata_json_get (params, "resources");
  struct parser_context ctx = { 0 };
  parser_error perr = NULL;
  runtime_spec_schema_config_linux_resources *r;
  int ret;
  (void)id, (void)out;
  if (c == NULL)
    return kata_make_error_nostr (err, ENOENT, "container %s not found", cid ? cid : "");
  if (res == NULL || !YAJL_IS_OBJECT (res))
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "resources is required");
  r = make_runtime_spec_schema_config_linux_resources (res, &ctx, &perr);
  if (r == NULL)
    {
      kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "invalid resources: %s", perr ? perr : "?");
      free (perr);
      return -1;
    }
  free (perr);
  ret = agent_cgroup_apply (c->cgroup, r, err);
  free_runtime_spec_schema_config_linux_resources (r);
  if (ret < 0)
    return kata_error_wrap (err, "update container %s", cid);
  return 0;
}

static long long
read_num (const char *cg, const char *file)
{
  cleanup_free char *p = xasprintf ("%s/%s", cg, file);
  cleanup_free char *s = NULL;
  if (kata_read_file (p, &s, NULL, 4096, NULL) < 0)
    return 0;
  if (strncmp (s, "max", 3) == 0)
    return 0;
  return strtoll (s, NULL, 10);
}

static void
io_bytes (const char *cg, long long *rd, long long *wr)
{
  cleanup_free char *p = xasprintf ("%s/io.stat", cg);
  cleanup_free char *s = NULL;
  char *tok, *save = NULL;
  *rd = *wr = 0;
  if (kata_read_file (p, &s, NULL, 1 << 20, NULL) < 0)
    return;
  for (tok = strtok_r (s, " \n", &save); tok; tok = strtok_r (NULL, " \n", &save))
    {
      if (strncmp (tok, "rbytes=", 7) == 0)
        *rd += strtoll (tok + 7, NULL, 10);
      else if (strncmp (tok, "wbytes=", 7) == 0)
        *wr += strtoll (tok + 7, NULL, 10);
    }
}

static void
gen_network (yajl_gen out)
{
  cleanup_free char *s = NULL;
  char *line, *save = NULL;
  int ln = 0;
  kata_gen_str (out, "network");
  yajl_gen_array_open (out);
  if (kata_read_file ("/proc/net/dev", &s, NULL, 1 << 20, NULL) == 0)
    for (line = strtok_r (s, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
      {
        char name[64];
        unsigned long long v[12];
        if (ln++ < 2 || !agent_parse_net_dev_line (line, name, v))
          continue;
        yajl_gen_map_open (out);
        kata_gen_kv_str (out, "name", name);
        kata_gen_kv_int (out, "rx_bytes", v[0]);
        kata_gen_kv_int (out, "rx_packets", v[1]);
        kata_gen_kv_int (out, "rx_errors", v[2]);
        kata_gen_kv_int (out, "rx_dropped", v[3]);
        kata_gen_kv_int (out, "tx_bytes", v[8]);
        kata_gen_kv_int (out, "tx_packets", v[9]);
        kata_gen_kv_int (out, "tx_errors", v[10]);
        kata_gen_kv_int (out, "tx_dropped", v[11]);
        yajl_gen_map_close (out);
      }
  yajl_gen_array_close (out);
}

int
agent_h_stats_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  const char *cid = kata_json_str (params, "container_id");
  agent_container_t *c = agent_container_find (a, cid);
  cleanup_free char *cpu = NULL, *mst = NULL, *mev = NULL;
  long long rd, wr, v;
  (void)id;
  if (c == NULL)
    return kata_make_error_nostr (err, ENOENT, "container %s not found", cid ? cid : "");
  cpu = xasprintf ("%s/cpu.stat", c->cgroup);
  mst = xasprintf ("%s/memory.stat", c->cgroup);
  mev = xasprintf ("%s/memory.events", c->cgroup);
  kata_gen_str (out, "cpu");
  yajl_gen_map_open (out);
  kata_gen_kv_int (out, "usage_ns", (v = read_key (cpu, "usage_usec")) > 0 ? v * 1000 : 0);
  kata_gen_kv_int (out, "user_ns", (v = read_key (cpu, "user_usec")) > 0 ? v * 1000 : 0);
  kata_gen_kv_int (out, "system_ns", (v = read_key (cpu, "system_usec")) > 0 ? v * 1000 : 0);
  kata_gen_kv_int (out, "throttled_periods", (v = read_key (cpu, "nr_throttled")) > 0 ? v : 0);
  kata_gen_kv_int (out, "throttled_ns", (v = read_key (cpu, "throttled_usec")) > 0 ? v * 1000 : 0);
  yajl_gen_map_close (out);
  kata_gen_str (out, "memory");
  yajl_gen_map_open (out);
  kata_gen_kv_int (out, "usage", read_num (c->cgroup, "memory.current"));
  kata_gen_kv_int (out, "limit", read_num (c->cgroup, "memory.max"));
  kata_gen_kv_int (out, "max_usage", read_num (c->cgroup, "memory.peak"));
  kata_gen_kv_int (out, "cache", (v = read_key (mst, "file")) > 0 ? v : 0);
  kata_gen_kv_int (out, "rss", (v = read_key (mst, "anon")) > 0 ? v : 0);
  kata_gen_kv_int (out, "oom_kill", (v = read_key (mev, "oom_kill")) > 0 ? v : 0);
  yajl_gen_map_close (out);
  kata_gen_str (out, "pids");
  yajl_gen_map_open (out);
  kata_gen_kv_int (out, "current", read_num (c->cgroup, "pids.current"));
  kata_gen_kv_int (out, "limit", read_num (c->cgroup, "pids.max"));
  yajl_gen_map_close (out);
  io_bytes (c->cgroup, &rd, &wr);
  kata_gen_str (out, "blkio");
  yajl_gen_map_open (out);
  kata_gen_kv_int (out, "read_bytes", rd);
  kata_gen_kv_int (out, "write_bytes", wr);
  yajl_gen_map_close (out);
  gen_network (out);
  return 0;
}

int
agent_h_list_processes (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  const char *cid = kata_json_str (params, "container_id");
  agent_container_t *c = agent_container_find (a, cid);
  size_t n = 0, i;
  cleanup_free pid_t *pids = NULL;
  (void)id;
  if (c == NULL)
    return kata_make_error_nostr (err, ENOENT, "container %s not found", cid ? cid : "");
  pids = agent_cgroup_pids (c->cgroup, &n);
  kata_gen_str (out, "processes");
  yajl_gen_array_open (out);
  for (i = 0; i < n; i++)
    {
      char path[64];
      cleanup_free char *stat = NULL, *status = NULL, *cmd = NULL;
      size_t cl = 0, k;
      char st = '?';
      int ppid = 0;
      long long uid = 0;
      char *rp;
      snprintf (path, sizeof path, "/proc/%d/stat", pids[i]);
      if (kata_read_file (path, &stat, NULL, 4096, NULL) < 0)
        continue;
      rp = strrchr (stat, ')');
      if (rp)
        agent_parse_proc_stat (rp + 1, &st, &ppid);
      snprintf (path, sizeof path, "/proc/%d/status", pids[i]);
      if (kata_read_file (path, &status, NULL, 65536, NULL) == 0)
        {
          char *u = strstr (status, "\nUid:");
          if (u)
            uid = strtoll (u + 5, NULL, 10);
        }
      snprintf (path, sizeof path, "/proc/%d/cmdline", pids[i]);
      if (kata_read_file (path, &cmd, &cl, 65536, NULL) == 0)
        {
          for (k = 0; k + 1 < cl; k++)
            if (cmd[k] == '\0')
              cmd[k] = ' ';
        }
      yajl_gen_map_open (out);
      kata_gen_kv_int (out, "pid", pids[i]);
      kata_gen_kv_int (out, "ppid", ppid);
      kata_gen_kv_int (out, "uid", uid);
      {
        char s[2] = { st, 0 };
        kata_gen_kv_str (out, "stat", s);
      }
      kata_gen_kv_str (out, "cmd", cmd ? cmd : "");
      yajl_gen_map_close (out);
    }
  yajl_gen_array_close (out);
  return 0;
}

void
agent_kill_all (agent_t *a)
{
  agent_container_t *c;
  agent_storage_t *s;
  for (c = a->containers; c; c = c->next)
    {
      agent_cgroup_write (c->cgroup, "cgroup.freeze", "0", NULL);
      agent_cgroup_kill (c->cgroup);
    }
  for (c = a->containers; c; c = c->next)
    wait_cgroup_empty (a, c, 2);
  for (s = a->storages; s; s = s->next)
    if (s->mounted)
      umount2 (s->mount_point, MNT_DETACH);
}
