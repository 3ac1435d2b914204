/* Processes: stdio streams, exit reaping and the WaitProcess/SignalProcess/TtyWinResize/
   CloseStdin verbs. */
#include "config.h"
#include "agent/agent.h"
#include "common/json.h"
#include "common/utils.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

agent_process_t *
agent_process_find (agent_t *a, const char *cid, const char *exec_id)
{
  agent_process_t *p;
  if (exec_id == NULL)
    exec_id = "";
  for (p = a->procs; p; p = p->next)
    if (p->ctr && strcmp (p->ctr->id, cid) == 0 && strcmp (p->exec_id, exec_id) == 0)
      return p;
  return NULL;
}

static agent_process_t *
find_by_stream (agent_t *a, uint32_t stream)
{
  agent_process_t *p;
  for (p = a->procs; p; p = p->next)
    if (p->stream == stream)
      return p;
  return NULL;
}

agent_process_t *
agent_process_new (agent_t *a, agent_container_t *c, const char *exec_id)
{
  agent_process_t *p = xmalloc0 (sizeof *p);
  p->ctr = c;
  p->exec_id = xstrdup (exec_id ? exec_id : "");
  p->in_fd = p->out_fd = p->err_fd = p->start_fd = p->sync_fd = -1;
  p->stream = a->next_stream;
  a->next_stream += 4;
  if (a->next_stream == 0 || a->next_stream > 0x7ffffff0u)
    a->next_stream = 4;
  p->w_out.kind = W_PROC_OUT;
  p->w_err.kind = W_PROC_ERR;
  p->w_in.kind = W_PROC_IN;
  p->w_out.proc = p->w_err.proc = p->w_in.proc = p;
  p->next = a->procs;
  a->procs = p;
  return p;
}

static void
close_fd (agent_t *a, int *fd)
{
  if (*fd >= 0)
    {
      agent_watch_del (a, *fd);
      close (*fd);
      *fd = -1;
    }
}

void
agent_process_free (agent_t *a, agent_process_t *p)
{
  agent_process_t **pp;
  agent_waiter_t *w;
  for (pp = &a->procs; *pp; pp = &(*pp)->next)
    if (*pp == p)
      {
        *pp = p->next;
        break;
      }
  close_fd (a, &p->in_fd);
  close_fd (a, &p->out_fd);
  close_fd (a, &p->err_fd);
  close_fd (a, &p->start_fd);
  close_fd (a, &p->sync_fd);
  while ((w = p->waiters))
    {
      p->waiters = w->next;
      agent_send_error (a, w->req_id, ESRCH, "process removed");
      free (w);
    }
  kata_buf_clear (&p->stdin_q);
  p->ctr = NULL;
  p->next = a->graveyard;
  a->graveyard = p;
}

void
agent_process_gc (agent_t *a)
{
  agent_process_t *p;
  while ((p = a->graveyard))
    {
      a->graveyard = p->next;
      free (p->exec_id);
      free (p);
    }
}

void
agent_process_watch_io (agent_t *a, agent_process_t *p)
{
  if (p->out_fd >= 0)
    {
      kata_set_nonblock (p->out_fd, 1);
      agent_watch_add (a, p->out_fd, EPOLLIN, &p->w_out);
    }
  if (p->err_fd >= 0)
    {
      kata_set_nonblock (p->err_fd, 1);
      agent_watch_add (a, p->err_fd, EPOLLIN, &p->w_err);
    }
  if (p->in_fd >= 0)
    kata_set_nonblock (p->in_fd, 1);
}

void
agent_output_pause (agent_t *a, bool pause)
{
  agent_process_t *p;
  for (p = a->procs; p; p = p->next)
    {
      if (p->out_paused == pause)
        continue;
      p->out_paused = pause;
      if (p->out_fd >= 0 && !p->out_eof)
        agent_watch_mod (a, p->out_fd, pause ? 0 : EPOLLIN, &p->w_out);
      if (p->err_fd >= 0 && !p->err_eof)
        agent_watch_mod (a, p->err_fd, pause ? 0 : EPOLLIN, &p->w_err);
    }
}

/* A terminal process's in_fd is a dup of the pty master, kept for writes (and
   resizes) while the process runs.  Once it has exited and its output has
   reached EOF nothing can use the master any more: close it, or every
   `exec -t` would hold a /dev/pts entry of the container until the container
   is removed (exec processes live as long as their container). */
static void
release_tty_master (agent_t *a, agent_process_t *p)
{
  if (p->terminal && p->exited && p->out_eof && p->in_fd >= 0)
    {
      kata_buf_clear (&p->stdin_q);
      p->in_watched = false;
      close_fd (a, &p->in_fd);
    }
}

static void
stream_eof (agent_t *a, agent_process_t *p, int which)
{
  int *fd = which == 1 ? &p->out_fd : &p->err_fd;
  if (which == 1)
    {
      p->out_eof = true;
      /* with a tty, in_fd is a dup of the master: keep it for writes until exit */
    }
  else
    p->err_eof = true;
  close_fd (a, fd);
  agent_send_frame (a, KATA_FRAME_STREAM, KATA_FRAME_FLAG_EOF, p->stream + which, NULL, 0);
  release_tty_master (a, p);
  agent_process_check_waiters (a, p, false);
}

void
agent_process_on_output (agent_t *a, agent_process_t *p, int which)
{
  int fd = which == 1 ? p->out_fd : p->err_fd;
  char buf[KATA_STREAM_CHUNK];
  int rounds = 0;
  if (fd < 0)
    return;
  while (rounds++ < 4 && !p->out_paused)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n > 0)
        {
          agent_send_frame (a, KATA_FRAME_STREAM, 0, p->stream + which, buf, n);
          if ((size_t)n < sizeof buf)
            break;
          continue;
        }
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        break;
      /* 0 = EOF; EIO = the pty's last slave closed */
      stream_eof (a, p, which);
      break;
    }
}

static void
stdin_update (agent_t *a, agent_process_t *p)
{
  if (p->in_fd < 0)
    return;
  if (p->stdin_q.len == 0 && p->stdin_close)
    {
      if (p->in_watched)
        agent_watch_del (a, p->in_fd);
      p->in_watched = false;
      if (p->terminal)
        {
          /* EOF on a tty: send ^D (VEOF) rather than closing the master */
          char eof = 4;
          (void)!write (p->in_fd, &eof, 1);
        }
      close (p->in_fd);
      p->in_fd = -1;
      return;
    }
  if (p->stdin_q.len > 0 && !p->in_watched)
    {
      agent_watch_add (a, p->in_fd, EPOLLOUT, &p->w_in);
      p->in_watched = true;
    }
  else if (p->stdin_q.len == 0 && p->in_watched)
    {
      agent_watch_del (a, p->in_fd);
      p->in_watched = false;
    }
}

void
agent_process_on_stdin_writable (agent_t *a, agent_process_t *p)
{
  while (p->in_fd >= 0 && p->stdin_q.len > 0)
    {
      ssize_t n = write (p->in_fd, p->stdin_q.data + p->stdin_q.off, p->stdin_q.len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            break;
          /* reader gone (EPIPE): drop what is queued */
          kata_buf_clear (&p->stdin_q);
          p->stdin_close = true;
          break;
        }
      kata_buf_consume (&p->stdin_q, n);
    }
  stdin_update (a, p);
}

void
agent_process_stdin_data (agent_t *a, uint32_t stream, const void *data, size_t len, bool eof)
{
  agent_process_t *p = find_by_stream (a, stream & ~3u);
  if (p == NULL || (stream & 3u) != KATA_STREAM_STDIN || p->in_fd < 0)
    return;
  if (len)
    kata_buf_append (&p->stdin_q, data, len);
  if (eof)
    p->stdin_close = true;
  agent_process_on_stdin_writable (a, p);
}

static void
exit_codes (int st, int *code, int *sig, int *status)
{
  if (WIFSIGNALED (st))
    {
      *sig = WTERMSIG (st);
      *code = 0;
      *status = 128 + *sig;
    }
  else
    {
      *sig = 0;
      *code = WEXITSTATUS (st);
      *status = *code;
    }
}

static void
answer_wait (agent_t *a, agent_process_t *p, uint32_t req)
{
  int code, sig, status;
  char buf[128];
  exit_codes (p->wstatus, &code, &sig, &status);
  snprintf (buf, sizeof buf, "{\"exit_code\":%d,\"signal\":%d,\"status\":%d}", code, sig, status);
  agent_send_result (a, req, buf);
}

void
agent_process_check_waiters (agent_t *a, agent_process_t *p, bool force)
{
  agent_waiter_t *w;
  if (!p->exited)
    return;
  if (!force && !((p->out_fd < 0 || p->out_eof) && (p->err_fd < 0 || p->err_eof)))
    return;
  while ((w = p->waiters))
    {
      p->waiters = w->next;
      answer_wait (a, p, w->req_id);
      free (w);
    }
}

uint64_t
agent_process_next_deadline (agent_t *a)
{
  agent_process_t *p;
  uint64_t best = 0;
  for (p = a->procs; p; p = p->next)
    if (p->exited && p->waiters)
      {
        uint64_t d = p->exit_ns + AGENT_WAIT_GRACE_NS;
        if (best == 0 || d < best)
          best = d;
      }
  return best;
}

void
agent_process_timers (agent_t *a)
{
  agent_process_t *p;
  uint64_t now = kata_now_ns ();
  for (p = a->procs; p; p = p->next)
    if (p->exited && p->waiters && now >= p->exit_ns + AGENT_WAIT_GRACE_NS)
      {
        /* a child still holds the pipes: flush what is readable, then answer */
        if (p->out_fd >= 0 && !p->out_eof)
          agent_process_on_output (a, p, 1);
        if (p->err_fd >= 0 && !p->err_eof)
          agent_process_on_output (a, p, 2);
        agent_process_check_waiters (a, p, true);
      }
}

void
agent_reap_children (agent_t *a)
{
  /* An OOM kill is reported before the exit it caused. */
  agent_check_oom (a);
  for (;;)
    {
      int st;
      pid_t pid = waitpid (-1, &st, WNOHANG);
      agent_process_t *p;
      if (pid <= 0)
        break;
      for (p = a->procs; p; p = p->next)
        if (p->pid == pid && !p->exited)
          break;
      if (p == NULL)
        continue;
      p->exited = true;
      p->wstatus = st;
      p->exit_ns = kata_now_ns ();
      agent_log ("process %d (%s/%s) exited: %#x", pid, p->ctr ? p->ctr->id : "?", p->exec_id, st);
      if (p->ctr && p->ctr->init == p)
        p->ctr->state = CTR_STOPPED;
      {
        int code, sig, status;
        char *ev;
        yajl_gen g = kata_gen_new ();
        exit_codes (st, &code, &sig, &status);
        yajl_gen_map_open (g);
        kata_gen_kv_str (g, "event", "exit");
        kata_gen_kv_str (g, "container_id", p->ctr ? p->ctr->id : "");
        kata_gen_kv_str (g, "exec_id", p->exec_id);
        kata_gen_kv_int (g, "status", status);
        yajl_gen_map_close (g);
        ev = kata_gen_finish (g, NULL);
        agent_send_event (a, ev);
        free (ev);
      }
      /* the held process never exec'd: nothing will come on its pipes */
      close_fd (a, &p->start_fd);
      release_tty_master (a, p);
      agent_process_check_waiters (a, p, false);
    }
}

static agent_process_t *
lookup (agent_t *a, yajl_val params, kata_error_t **err)
{
  const char *cid = kata_json_str (params, "container_id");
  const char *eid = kata_json_str (params, "exec_id");
  agent_process_t *p;
  if (cid == NULL)
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "container_id is required"), NULL;
  if (agent_container_find (a, cid) == NULL)
    return kata_make_error_nostr (err, ENOENT, "container %s not found", cid), NULL;
  p = agent_process_find (a, cid, eid);
  if (p == NULL)
    return kata_make_error_nostr (err, ENOENT, "process %s of container %s not found", eid ? eid : "", cid),
           NULL;
  return p;
}

int
agent_h_signal_process (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  long long sig = kata_json_int (params, "signal", -1);
  bool all = kata_json_bool (params, "all", false);
  const char *cid = kata_json_str (params, "container_id");
  agent_container_t *c;
  agent_process_t *p;
  (void)id, (void)out;
  if (sig < 0 || sig >= 65)
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "invalid signal %lld", sig);
  if (cid == NULL || (c = agent_container_find (a, cid)) == NULL)
    return kata_make_error_nostr (err, ENOENT, "container %s not found", cid ? cid : "");
  if (all)
    {
      size_t n, i;
      cleanup_free pid_t *pids = agent_cgroup_pids (c->cgroup, &n);
      if (c->paused && sig == SIGKILL)
        agent_cgroup_write (c->cgroup, "cgroup.freeze", "0", NULL);
      for (i = 0; i < n; i++)
        kill (pids[i], sig);
      return 0;
    }
  p = lookup (a, params, err);
  if (p == NULL)
    return -1;
  if (p->exited)
    return kata_make_error_nostr (err, ESRCH, "process %s of container %s has already exited", p->exec_id,
                                  cid);
  if (p->ctr->init == p && p->ctr->state == CTR_CREATED && p->start_fd >= 0 && sig != 0)
    {
      /* Not started yet: the held child is ours, signal it directly. */
    }
  if (kill (p->pid, sig) < 0)
    return kata_make_error (err, errno, "signal %lld to process %d", sig, p->pid);
  return 0;
}

int
agent_h_wait_process (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  agent_process_t *p = lookup (a, params, err);
  agent_waiter_t *w;
  (void)out;
  if (p == NULL)
    return -1;
  w = xmalloc0 (sizeof *w);
  w->req_id = id;
  w->next = p->waiters;
  p->waiters = w;
  agent_process_check_waiters (a, p, false);
  return 1;
}

int
agent_h_tty_win_resize (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  agent_process_t *p = lookup (a, params, err);
  struct winsize ws = { 0 };
  int fd;
  (void)id, (void)out;
  if (p == NULL)
    return -1;
  if (!p->terminal)
    return kata_make_error_nostr (err, ENOTTY, "process %s has no terminal", p->exec_id);
  fd = p->out_fd >= 0 ? p->out_fd : p->in_fd;
  if (fd < 0 && p->exited)
    return 0; /* the terminal went with the process (release_tty_master): nothing to resize */
  if (fd < 0)
    return kata_make_error_nostr (err, EIO, "terminal of process %s is closed", p->exec_id);
  ws.ws_row = kata_json_int (params, "rows", 0);
  ws.ws_col = kata_json_int (params, "cols", 0);
  if (ioctl (fd, TIOCSWINSZ, &ws) < 0)
    return kata_make_error (err, errno, "resize terminal");
  return 0;
}

int
agent_h_close_stdin (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  agent_process_t *p = lookup (a, params, err);
  (void)id, (void)out;
  if (p == NULL)
    return -1;
  p->stdin_close = true;
  agent_process_on_stdin_writable (a, p);
  return 0;
}
