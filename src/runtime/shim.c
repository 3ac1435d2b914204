/* The shim: relays one container process's stdio and signals to the agent
   through the sandbox monitor, and exits with the process's status. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "common/json.h"
#include "common/proto.h"
#include "common/utils.h"
#include "runtime/agent-client.h"
#include "runtime/client.h"
#include "runtime/log.h"
#include "runtime/monitor.h"
#include "runtime/shim.h"

int
kata_shim_spawn (const kata_shim_spec_t *spec, pid_t *pid_out, kata_error_t **err)
{
  char stream[32];
  const char *argv[40];
  int argc = 0, pfd[2];
  cleanup_free char *msg = NULL;
  size_t len = 0;
  pid_t pid;

  snprintf (stream, sizeof stream, "%u", spec->stream);
  argv[argc++] = "kata-runtime";
  argv[argc++] = "__shim";
  argv[argc++] = "--root";
  argv[argc++] = spec->root;
  argv[argc++] = "--sandbox";
  argv[argc++] = spec->sandbox_id;
  argv[argc++] = "--container";
  argv[argc++] = spec->container_id;
  argv[argc++] = "--exec";
  argv[argc++] = spec->exec_id ? spec->exec_id : "";
  argv[argc++] = "--stream";
  argv[argc++] = stream;
  if (spec->terminal)
    argv[argc++] = "--terminal";
  if (spec->console_socket)
    {
      argv[argc++] = "--console-socket";
      argv[argc++] = spec->console_socket;
    }
  if (spec->detach)
    argv[argc++] = "--detach";
  if (spec->stop_sandbox)
    argv[argc++] = "--stop-sandbox";
  if (spec->oom_cgroup)
    {
      argv[argc++] = "--oom-cgroup";
      argv[argc++] = spec->oom_cgroup;
    }
  if (spec->log_path)
    {
      argv[argc++] = "--log";
      argv[argc++] = spec->log_path;
    }
  if (spec->log_format)
    {
      argv[argc++] = "--log-format";
      argv[argc++] = spec->log_format;
    }
  if (spec->debug)
    argv[argc++] = "--debug";
  argv[argc++] = "--ready-fd";
  argv[argc++] = "3";
  argv[argc] = NULL;

  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return kata_make_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (pfd[0]);
      close (pfd[1]);
      return kata_make_error (err, errno, "fork");
    }
  if (pid == 0)
    {
      close (pfd[0]);
      if (spec->cgroup_path && kata_join_cgroup (spec->cgroup_path, getpid (), NULL) < 0)
        {
          dprintf (pfd[1], "cannot join cgroup %s: %s", spec->cgroup_path, strerror (errno));
          _exit (1);
        }
      if (pfd[1] != 3)
        {
          if (dup2 (pfd[1], 3) < 0)
            _exit (127);
        }
      else
        kata_set_cloexec (3, 0);
#ifdef SYS_close_range
      if (syscall (SYS_close_range, 4U, ~0U, 0) < 0)
#endif
        for (int fd = 4; fd < 65536; fd++)
          close (fd);
      execv ("/proc/self/exe", (char **)argv);
      dprintf (3, "exec /proc/self/exe: %s", strerror (errno));
      _exit (127);
    }
  close (pfd[1]);
  if (kata_read_fd (pfd[0], &msg, &len, 65536, err) < 0)
    {
      close (pfd[0]);
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return kata_error_wrap (err, "start the shim");
    }
  close (pfd[0]);
  if (len >= 2 && strncmp (msg, "ok", 2) == 0)
    {
      *pid_out = pid;
      return 0;
    }
  int status = 0;
  waitpid (pid, &status, 0);
  if (len == 0)
    return kata_make_error_nostr (err, KATA_EVMDEAD, "the shim exited during start-up (status %d)",
                                  WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
  if (strncmp (msg, "vmdead ", 7) == 0)
    return kata_make_error_nostr (err, KATA_EVMDEAD, "%s", msg + 7);
  return kata_make_error_nostr (err, KATA_EVMDEAD, "%s", msg);
}

/* ---- the shim process ---- */

typedef struct shim_s
{
  const char *root, *sid, *cid, *exec_id, *console_socket, *log_path, *log_format;
  const char *oom_cgroup; /* the container's own host memory cgroup (OOM reporting), or NULL */
  uint32_t stream;
  bool terminal, detach, debug;
  bool stop_sandbox; /* a pod's sandbox container: its exit stops the VM */
  int ready_fd;
  kata_client_t *client;
  int mfd;
  uint32_t next_id, wait_id;
  int in_fd, out_fd, err_fd, tty_fd;
  bool restore_tty;
  struct termios saved;
} shim_t;

static shim_t *the_shim;

static void
restore_terminal (void)
{
  if (the_shim && the_shim->restore_tty)
    {
      tcsetattr (the_shim->tty_fd, TCSANOW, &the_shim->saved);
      the_shim->restore_tty = false;
    }
}

static void __attribute__ ((noreturn)) shim_exit (int status)
{
  restore_terminal ();
  _exit (status);
}

static void __attribute__ ((noreturn)) vm_died (shim_t *s, const char *msg)
{
  if (strncmp (msg, "the VM", 6) == 0)
    kata_log (KATA_LOG_ERROR, "%s", msg);
  else
    kata_log (KATA_LOG_ERROR, "the VM died: %s", msg);
  (void)s;
  shim_exit (255);
}

static void
ready_fail (shim_t *s, const char *fmt, ...)
{
  va_list ap;
  char buf[4096];
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  if (s->ready_fd >= 0)
    {
      kata_write_all (s->ready_fd, buf, strlen (buf));
      close (s->ready_fd);
      s->ready_fd = -1;
    }
  kata_log (KATA_LOG_ERROR, "%s", buf);
  shim_exit (1);
}

static void
send_req (shim_t *s, const char *method, const char *params, uint32_t *id_out)
{
  cleanup_free char *req = kata_msg_request (method, params);
  uint32_t id = ++s->next_id;
  if (id_out)
    *id_out = id;
  if (kata_frame_write (s->mfd, KATA_FRAME_REQ, 0, id, req, strlen (req), NULL) < 0)
    vm_died (s, "the connection to the sandbox monitor was lost");
}

static void
send_winsize (shim_t *s)
{
  struct winsize ws;
  if (s->tty_fd < 0 || ioctl (s->tty_fd, TIOCGWINSZ, &ws) < 0 || (ws.ws_row == 0 && ws.ws_col == 0))
    return;
  cleanup_free char *p = kata_req_winsize (s->cid, s->exec_id, ws.ws_row, ws.ws_col);
  send_req (s, KATA_M_TTY_WIN_RESIZE, p, NULL);
}

/* runc's utils.SendFile: the file's name as data, the fd as SCM_RIGHTS. */
static int
send_console (const char *sock_path, int master, const char *name, kata_error_t **err)
{
  cleanup_close int fd = kata_unix_connect (sock_path, SOCK_CLOEXEC, err);
  if (fd < 0)
    return kata_error_wrap (err, "console socket");
  if (kata_send_fd_data (fd, master, name, strlen (name)) < 0)
    return kata_make_error (err, errno, "send the pty master to `%s`", sock_path);
  return 0;
}

static void
setup_console_socket (shim_t *s)
{
  kata_error_t *err = NULL;
  int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  char *slave_name;
  struct termios t;
  int slave;

  if (master < 0 || grantpt (master) < 0 || unlockpt (master) < 0 || (slave_name = ptsname (master)) == NULL)
    ready_fail (s, "cannot allocate a pty: %s", strerror (errno));
  slave = open (slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    ready_fail (s, "open `%s`: %s", slave_name, strerror (errno));
  if (tcgetattr (slave, &t) == 0)
    {
      cfmakeraw (&t);
      tcsetattr (slave, TCSANOW, &t);
    }
  /* The slave becomes our controlling tty, so a resize of the master sends us SIGWINCH. */
  if (setsid () < 0 || ioctl (slave, TIOCSCTTY, 0) < 0)
    kata_warn ("cannot make %s the shim's controlling terminal: %s", slave_name, strerror (errno));
  if (send_console (s->console_socket, master, "/dev/ptmx", &err) < 0)
    ready_fail (s, "%s", err->msg);
  close (master);
  /* The caller (containerd's shim, conmon) reads our inherited stdout/stderr
     until EOF: with a console socket nothing goes there, so let them go.  */
  {
    int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0)
      {
        for (int fd = 0; fd <= 2; fd++)
          if (fd != slave)
            dup2 (null, fd);
        if (null > 2)
          close (null);
      }
  }
  s->in_fd = s->out_fd = s->tty_fd = slave;
  s->err_fd = -1;
}

static void
setup_stdio (shim_t *s)
{
  s->in_fd = 0;
  s->out_fd = 1;
  s->err_fd = s->terminal ? -1 : 2;
  s->tty_fd = -1;
  if (s->terminal)
    {
      if (isatty (0))
        {
          struct termios t;
          s->tty_fd = 0;
          if (tcgetattr (0, &s->saved) == 0)
            {
              t = s->saved;
              cfmakeraw (&t);
              if (tcsetattr (0, TCSANOW, &t) == 0)
                s->restore_tty = true;
            }
        }
      else if (isatty (1))
        s->tty_fd = 1;
    }
}

static void
write_out (int *fd, const void *data, size_t len)
{
  if (*fd < 0 || len == 0)
    return;
  if (kata_write_all (*fd, data, len) < 0 && errno != EAGAIN)
    *fd = -1; /* the reader went away: drop the rest */
}

static void handle_frame (shim_t *s, kata_frame_t *f);

/* After the process's exit: METHOD through the monitor, waiting up to TIMEOUT_MS for
   its answer (output still arriving is written out).  The response frame in *RESP
   (the caller clears it); false when none came (time-out, the monitor or VM gone). */
static bool
call_after_exit (shim_t *s, const char *method, const char *params, int timeout_ms, kata_frame_t *resp)
{
  uint32_t id;
  uint64_t end = kata_now_ns () + (uint64_t)timeout_ms * 1000000ULL;

  s->wait_id = 0;
  send_req (s, method, params, &id);
  while (kata_now_ns () < end)
    {
      struct pollfd p = { .fd = s->mfd, .events = POLLIN };
      kata_frame_t f = { 0 };
      kata_error_t *e = NULL;
      int r = poll (&p, 1, 200);
      if (r < 0 && errno != EINTR)
        return false;
      if (r <= 0)
        continue;
      if (kata_frame_read (s->mfd, &f, &e) <= 0)
        {
          kata_error_free (e);
          return false;
        }
      if (f.type == KATA_FRAME_RESP && f.id == id)
        {
          *resp = f;
          return true;
        }
      if (f.type == KATA_FRAME_EVENT)
        {
          yajl_val v = NULL;
          bool dead = kata_json_parse (f.payload, f.len, &v, NULL) == 0 && kata_json_str (v, "event")
                      && strcmp (kata_json_str (v, "event"), "vm-dead") == 0;
          yajl_tree_free (v);
          if (dead)
            {
              kata_frame_clear (&f);
              return false;
            }
        }
      if (f.type == KATA_FRAME_STREAM)
        handle_frame (s, &f);
      kata_frame_clear (&f);
    }
  kata_warn ("%s of %s: no answer within %d ms", method, s->cid, timeout_ms);
  return false;
}

/* The sandbox container of a pod exited: the pod is over, and so is its VM (Kata's
   StopSandbox; docs/kubernetes.md, K1).  Asks the monitor to shut it down and waits
   for that (up to 15 s) before the shim exits: whoever waits for this container's
   exit (conmon, containerd's shim) then finds no VM left.  The container's state
   stays "stopped" and `delete` removes what is left, as after any VM death. */
static void
stop_sandbox_vm (shim_t *s)
{
  kata_frame_t f = { 0 };
  kata_debug ("sandbox container %s exited: stopping the sandbox's VM", s->cid);
  if (call_after_exit (s, KATA_M_MONITOR_SHUTDOWN, NULL, 15000, &f))
    kata_frame_clear (&f);
}

/* True when the container's guest cgroup counted an OOM kill (asked once its init died
   of SIGKILL, before RemoveContainer takes the cgroup away). */
static bool
guest_oom_killed (shim_t *s)
{
  cleanup_free char *params = kata_req_process (s->cid, s->exec_id);
  kata_frame_t f = { 0 };
  yajl_val root = NULL, res = NULL;
  kata_error_t *e = NULL;
  long long n = 0;

  if (!call_after_exit (s, KATA_M_STATS_CONTAINER, params, 10000, &f))
    return false;
  if (kata_msg_parse_response (f.payload, f.len, &root, &res, NULL, &e) == 0)
    n = kata_json_int (kata_json_get (res, "memory"), "oom_kill", 0);
  kata_error_free (e);
  yajl_tree_free (root);
  kata_frame_clear (&f);
  return n > 0;
}

/* The guest OOM-killed the container.  containerd's shim and conmon learn of an OOM
   from the container's host cgroup (memory.oom_control / memory.events of the cgroup
   of the pid the runtime reported: this shim's), which never sees the guest's.  So the
   shim makes one there, as small as it can: a child that the kernel kills first
   (oom_score_adj 1000) allocates past a limit set just above the cgroup's usage; the
   limit is put back afterwards.  DIR is the container's own memory cgroup, one that
   create made (never a cgroup the shim merely inherited).  docs/kubernetes.md, "OOM". */
static void
host_cgroup_oom (const char *dir)
{
  cleanup_free char *limit_p = NULL, *usage_p = NULL, *v2_p = xasprintf ("%s/memory.max", dir);
  cleanup_free char *old = NULL, *usage = NULL;
  bool v2 = access (v2_p, F_OK) == 0;
  size_t len = 0;
  int pfd[2], st;
  pid_t pid;

  limit_p = xasprintf ("%s/%s", dir, v2 ? "memory.max" : "memory.limit_in_bytes");
  usage_p = xasprintf ("%s/%s", dir, v2 ? "memory.current" : "memory.usage_in_bytes");
  if (kata_read_file (limit_p, &old, &len, 64, NULL) < 0)
    return;
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return;
  pid = fork ();
  if (pid < 0)
    {
      close (pfd[0]);
      close (pfd[1]);
      return;
    }
  if (pid == 0)
    {
      char b;
      int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          (void)!write (fd, "1000", 4);
          close (fd);
        }
      close (pfd[1]);
      if (read (pfd[0], &b, 1) != 1)
        _exit (0);
      for (int i = 0; i < 256; i++)
        {
          void *m = mmap (NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          if (m == MAP_FAILED)
            _exit (0);
          memset (m, 1, 1 << 20);
        }
      _exit (0);
    }
  close (pfd[0]);
  if (kata_read_file (usage_p, &usage, &len, 64, NULL) == 0)
    {
      char buf[32];
      int fd = open (limit_p, O_WRONLY | O_CLOEXEC);
      snprintf (buf, sizeof buf, "%lld", strtoll (usage, NULL, 10) + (16LL << 20));
      if (fd >= 0 && write (fd, buf, strlen (buf)) > 0)
        (void)!write (pfd[1], "g", 1);
      else
        kata_debug ("OOM of %s: cannot set %s: %s", dir, limit_p, strerror (errno));
      if (fd >= 0)
        close (fd);
    }
  close (pfd[1]);
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  {
    int fd = open (limit_p, O_WRONLY | O_CLOEXEC);
    size_t l = strlen (old);
    while (l && old[l - 1] == '\n')
      old[--l] = '\0';
    if (fd < 0 || write (fd, old, l) < 0)
      kata_warn ("cannot restore %s to %s: %s", limit_p, old, strerror (errno));
    if (fd >= 0)
      close (fd);
  }
  kata_debug ("OOM in host cgroup %s: child %s", dir,
              WIFSIGNALED (st) && WTERMSIG (st) == SIGKILL ? "OOM-killed" : "not killed");
}

static void
handle_frame (shim_t *s, kata_frame_t *f)
{
  if (f->type == KATA_FRAME_STREAM)
    {
      uint32_t k = f->id - s->stream;
      bool eof = f->flags & KATA_FRAME_FLAG_EOF;
      if (f->id < s->stream || k > 2)
        return;
      if (k == 1)
        {
          write_out (&s->out_fd, f->payload, f->len);
          if (eof && !s->terminal && s->out_fd >= 0)
            {
              close (s->out_fd);
              s->out_fd = -1;
            }
        }
      else if (k == 2)
        {
          int *fd = s->terminal ? &s->out_fd : &s->err_fd;
          write_out (fd, f->payload, f->len);
          if (eof && !s->terminal && s->err_fd >= 0)
            {
              close (s->err_fd);
              s->err_fd = -1;
            }
        }
      return;
    }
  if (f->type == KATA_FRAME_EVENT)
    {
      yajl_val v = NULL;
      if (kata_json_parse (f->payload, f->len, &v, NULL) == 0)
        {
          const char *ev = kata_json_str (v, "event");
          if (ev && strcmp (ev, "vm-dead") == 0)
            {
              const char *m = kata_json_str (v, "message");
              vm_died (s, m ? m : "the VM died");
            }
          yajl_tree_free (v);
        }
      return;
    }
  if (f->type == KATA_FRAME_RESP && f->id == s->wait_id)
    {
      yajl_val root = NULL, res = NULL;
      kata_error_t *e = NULL;
      if (kata_msg_parse_response (f->payload, f->len, &root, &res, NULL, &e) < 0)
        {
          if (e->status == KATA_EVMDEAD)
            vm_died (s, e->msg);
          kata_log (KATA_LOG_ERROR, "wait for %s%s%s: %s", s->cid, *s->exec_id ? " exec " : "", s->exec_id,
                    e->msg);
          shim_exit (255);
        }
      int status = (int)kata_json_int (res, "status", -1);
      if (status < 0)
        {
          int sig = (int)kata_json_int (res, "signal", 0);
          status = sig ? 128 + sig : (int)kata_json_int (res, "exit_code", 255);
        }
      yajl_tree_free (root);
      kata_debug ("process %s%s%s exited with status %d", s->cid, *s->exec_id ? " exec " : "", s->exec_id,
                  status);
      if (!*s->exec_id && s->oom_cgroup && status == 128 + SIGKILL && guest_oom_killed (s))
        host_cgroup_oom (s->oom_cgroup);
      if (s->stop_sandbox && !*s->exec_id)
        stop_sandbox_vm (s);
      shim_exit (status & 0xff);
    }
  if (f->type == KATA_FRAME_RESP && kata_log_debug_enabled ())
    kata_debug ("shim: response %u: %.*s", f->id, (int)f->len, f->payload ? f->payload : "");
}

static const char *
arg_value (int argc, char **argv, int *i)
{
  if (*i + 1 >= argc)
    {
      fprintf (stderr, "__shim: %s needs a value\n", argv[*i]);
      _exit (2);
    }
  return argv[++*i];
}

/* The shim's command line (kata_shim_spawn writes it): "... __shim --root R ...". */
static void
parse_args (shim_t *s, int argc, char **argv)
{
  int i0 = 1;
  for (int i = 0; i < argc; i++)
    if (strcmp (argv[i], "__shim") == 0)
      i0 = i + 1;
  for (int i = i0; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--root") == 0)
        s->root = arg_value (argc, argv, &i);
      else if (strcmp (a, "--sandbox") == 0)
        s->sid = arg_value (argc, argv, &i);
      else if (strcmp (a, "--container") == 0)
        s->cid = arg_value (argc, argv, &i);
      else if (strcmp (a, "--exec") == 0)
        s->exec_id = arg_value (argc, argv, &i);
      else if (strcmp (a, "--stream") == 0)
        s->stream = (uint32_t)strtoul (arg_value (argc, argv, &i), NULL, 10);
      else if (strcmp (a, "--terminal") == 0)
        s->terminal = true;
      else if (strcmp (a, "--console-socket") == 0)
        s->console_socket = arg_value (argc, argv, &i);
      else if (strcmp (a, "--detach") == 0)
        s->detach = true;
      else if (strcmp (a, "--stop-sandbox") == 0)
        s->stop_sandbox = true;
      else if (strcmp (a, "--oom-cgroup") == 0)
        s->oom_cgroup = arg_value (argc, argv, &i);
      else if (strcmp (a, "--log") == 0)
        s->log_path = arg_value (argc, argv, &i);
      else if (strcmp (a, "--log-format") == 0)
        s->log_format = arg_value (argc, argv, &i);
      else if (strcmp (a, "--debug") == 0)
        s->debug = true;
      else if (strcmp (a, "--ready-fd") == 0)
        s->ready_fd = atoi (arg_value (argc, argv, &i));
    }
}

/* The signals the shim forwards (or handles: SIGWINCH) come through a signalfd. */
static void
block_signals (sigset_t *set)
{
  signal (SIGPIPE, SIG_IGN);
  signal (SIGTTIN, SIG_IGN);
  signal (SIGTTOU, SIG_IGN);
  sigemptyset (set);
  sigaddset (set, SIGTERM);
  sigaddset (set, SIGINT);
  sigaddset (set, SIGHUP);
  sigaddset (set, SIGQUIT);
  sigaddset (set, SIGUSR1);
  sigaddset (set, SIGUSR2);
  sigaddset (set, SIGCONT);
  sigaddset (set, SIGWINCH);
  sigprocmask (SIG_BLOCK, set, NULL);
}

int
kata_shim_main (int argc, char **argv)
{
  shim_t shim = { .ready_fd = -1, .exec_id = "", .mfd = -1, .tty_fd = -1 };
  shim_t *s = &shim;
  kata_error_t *err = NULL;
  sigset_t set;
  int sfd;
  bool in_open = true;

  the_shim = s;
  parse_args (s, argc, argv);
  kata_log_init (s->log_path, s->log_format, s->debug);
  if (s->ready_fd >= 0)
    kata_set_cloexec (s->ready_fd, 1);
  if (s->root == NULL || s->sid == NULL || s->cid == NULL)
    ready_fail (s, "__shim: --root, --sandbox and --container are required");

  block_signals (&set);
  sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

  if (kata_client_connect (s->root, s->sid, &s->client, &err) < 0)
    ready_fail (s, "%s", err->msg);
  s->mfd = kata_client_fd (s->client);
  {
    cleanup_free char *p = kata_req_attach (s->stream);
    if (kata_client_call (s->client, KATA_M_MONITOR_ATTACH, p, NULL, NULL, 30000, &err) < 0)
      ready_fail (s, "attach to %s: %s", s->cid, err->msg);
  }
  s->next_id = 1000;
  if (s->terminal && s->console_socket)
    setup_console_socket (s);
  else
    setup_stdio (s);
  atexit (restore_terminal);
  kata_fault_point ("shim-attached");
  if (s->ready_fd >= 0)
    {
      kata_write_all (s->ready_fd, "ok", 2);
      close (s->ready_fd);
      s->ready_fd = -1;
    }
  {
    cleanup_free char *p = kata_req_process (s->cid, s->exec_id);
    send_req (s, KATA_M_WAIT_PROCESS, p, &s->wait_id);
  }
  if (s->terminal)
    send_winsize (s);

  for (;;)
    {
      struct pollfd p[3] = { { .fd = s->mfd, .events = POLLIN },
                             { .fd = sfd, .events = POLLIN },
                             { .fd = in_open ? s->in_fd : -1, .events = POLLIN } };
      int r = poll (p, 3, -1);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          vm_died (s, "poll failed");
        }
      if (p[0].revents)
        {
          kata_frame_t f = { 0 };
          kata_error_t *e = NULL;
          int fr = kata_frame_read (s->mfd, &f, &e);
          if (fr <= 0)
            {
              kata_error_free (e);
              vm_died (s, "the connection to the sandbox monitor was lost");
            }
          handle_frame (s, &f);
          kata_frame_clear (&f);
          continue; /* drain the monitor first: output before input */
        }
      if (p[1].revents)
        {
          struct signalfd_siginfo si;
          while (read (sfd, &si, sizeof si) == (ssize_t)sizeof si)
            {
              if (si.ssi_signo == SIGWINCH)
                send_winsize (s);
              else
                {
                  cleanup_free char *pp = kata_req_signal (s->cid, s->exec_id, (int)si.ssi_signo, false);
                  send_req (s, KATA_M_SIGNAL_PROCESS, pp, NULL);
                }
            }
        }
      if (in_open && p[2].revents)
        {
          char buf[32768];
          ssize_t n = (p[2].revents & POLLNVAL) ? 0 : read (s->in_fd, buf, sizeof buf);
          if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (n > 0)
            {
              if (kata_frame_write (s->mfd, KATA_FRAME_STREAM, 0, s->stream + KATA_STREAM_STDIN, buf, n, NULL)
                  < 0)
                vm_died (s, "the connection to the sandbox monitor was lost");
            }
          else
            {
              in_open = false;
              if (kata_frame_write (s->mfd, KATA_FRAME_STREAM, KATA_FRAME_FLAG_EOF,
                                    s->stream + KATA_STREAM_STDIN, NULL, 0, NULL)
                  < 0)
                vm_died (s, "the connection to the sandbox monitor was lost");
            }
        }
    }
}
