/* The sandbox monitor, client and shim against a fake hypervisor whose "VM"
   is a fake agent process serving agent.sock. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/json.h"
#include "common/proto.h"
#include "common/utils.h"
#include "runtime/client.h"
#include "runtime/hypervisor.h"
#include "runtime/log.h"
#include "runtime/monitor.h"
#include "runtime/monitor-internal.h"
#include "runtime/shim.h"

/* ---- fake agent ---- */

enum kind
{
  K_ECHO,
  K_CAT,
  K_SLEEP
};

typedef struct fproc_s
{
  char cid[64], eid[64];
  uint32_t stream;
  enum kind kind;
  int state; /* 0 created, 1 running, 2 exited */
  int status;
  uint32_t waiters[8];
  int n_waiters;
} fproc_t;

static fproc_t procs[32];
static int n_procs;
static uint32_t next_stream = 4;
static int afd;

static void
areply (uint32_t id, const char *result)
{
  char *m = kata_msg_result (result);
  kata_frame_write (afd, KATA_FRAME_RESP, 0, id, m, strlen (m), NULL);
  free (m);
}

static void
aerror (uint32_t id, int code, const char *msg)
{
  char *m = kata_msg_error (code, msg);
  kata_frame_write (afd, KATA_FRAME_RESP, 0, id, m, strlen (m), NULL);
  free (m);
}

static void
astream (uint32_t id, uint8_t flags, const char *data)
{
  kata_frame_write (afd, KATA_FRAME_STREAM, flags, id, data, data ? strlen (data) : 0, NULL);
}

static void
finish (fproc_t *p, int status)
{
  p->state = 2;
  p->status = status;
  astream (p->stream + 1, KATA_FRAME_FLAG_EOF, NULL);
  astream (p->stream + 2, KATA_FRAME_FLAG_EOF, NULL);
  for (int i = 0; i < p->n_waiters; i++)
    {
      char r[128];
      snprintf (r, sizeof r, "{\"exit_code\":%d,\"signal\":%d,\"status\":%d}", status > 128 ? 0 : status,
                status > 128 ? status - 128 : 0, status);
      areply (p->waiters[i], r);
    }
  p->n_waiters = 0;
}

static void
run_proc (fproc_t *p)
{
  p->state = 1;
  if (p->kind == K_ECHO)
    {
      astream (p->stream + 1, 0, "hello\n");
      astream (p->stream + 2, 0, "err\n");
      finish (p, 3);
    }
}

static fproc_t *
find_proc (yajl_val params)
{
  const char *cid = kata_json_str (params, "container_id");
  const char *eid = kata_json_str (params, "exec_id");
  for (int i = 0; i < n_procs; i++)
    if (cid && strcmp (procs[i].cid, cid) == 0 && strcmp (procs[i].eid, eid ? eid : "") == 0)
      return &procs[i];
  return NULL;
}

static fproc_t *
new_proc (yajl_val params, yajl_val process)
{
  fproc_t *p = &procs[n_procs++];
  const char *eid = kata_json_str (params, "exec_id");
  yajl_val args = kata_json_array (process, "args");
  const char *a0 = args && args->u.array.len ? YAJL_GET_STRING (args->u.array.values[0]) : "echo";
  snprintf (p->cid, sizeof p->cid, "%s", kata_json_str (params, "container_id"));
  snprintf (p->eid, sizeof p->eid, "%s", eid ? eid : "");
  p->stream = next_stream;
  next_stream += 4;
  p->kind = strcmp (a0, "cat") == 0 ? K_CAT : strcmp (a0, "sleep") == 0 ? K_SLEEP : K_ECHO;
  return p;
}

static void __attribute__ ((noreturn)) fake_agent (int lfd)
{
  bool hello = false;
  afd = accept (lfd, NULL, NULL);
  if (afd < 0)
    _exit (20);
  for (;;)
    {
      kata_frame_t f = { 0 };
      int r = kata_frame_read (afd, &f, NULL);
      if (r <= 0)
        _exit (0);
      if (f.type == KATA_FRAME_STREAM)
        {
          for (int i = 0; i < n_procs; i++)
            if (procs[i].stream == f.id && procs[i].kind == K_CAT && procs[i].state == 1)
              {
                if (f.len)
                  astream (f.id + 1, 0, f.payload);
                if (f.flags & KATA_FRAME_FLAG_EOF)
                  finish (&procs[i], 0);
              }
          kata_frame_clear (&f);
          continue;
        }
      yajl_val root = NULL, params = NULL;
      const char *method = NULL;
      if (kata_msg_parse_request (f.payload, f.len, &root, &method, &params, NULL) < 0)
        _exit (21);
      if (strcmp (method, "Hello") == 0)
        {
          if (!hello)
            areply (f.id, "{\"version\":1,\"agent\":\"fake\"}");
          hello = true;
        }
      else if (strcmp (method, "CreateSandbox") == 0)
        {
          yajl_val st = kata_json_array (params, "storages");
          if (st == NULL || st->u.array.len != 1
              || strcmp (kata_json_str (st->u.array.values[0], "mount_point"), KATA_GUEST_SHARED_DIR) != 0)
            aerror (f.id, KATA_PROTO_EPARAMS, "bad storages");
          else
            areply (f.id, NULL);
        }
      else if (strcmp (method, "Check") == 0)
        areply (f.id, NULL);
      else if (strcmp (method, "CreateContainer") == 0 || strcmp (method, "ExecProcess") == 0)
        {
          bool exec = method[0] == 'E';
          yajl_val process = exec ? kata_json_get (params, "process")
                                  : kata_json_get (kata_json_get (params, "oci"), "process");
          fproc_t *p = new_proc (params, process);
          char r[128];
          snprintf (r, sizeof r, "{\"pid\":%d,\"stream\":%u}", 100 + n_procs, p->stream);
          areply (f.id, r);
          if (exec)
            run_proc (p);
        }
      else if (strcmp (method, "StartContainer") == 0)
        {
          fproc_t *p = find_proc (params);
          areply (f.id, NULL);
          if (p)
            run_proc (p);
        }
      else if (strcmp (method, "WaitProcess") == 0)
        {
          fproc_t *p = find_proc (params);
          if (p == NULL)
            aerror (f.id, ENOENT, "no such process");
          else
            {
              p->waiters[p->n_waiters++] = f.id;
              if (p->state == 2)
                finish (p, p->status);
            }
        }
      else if (strcmp (method, "SignalProcess") == 0)
        {
          fproc_t *p = find_proc (params);
          areply (f.id, NULL);
          if (p && p->state == 1)
            finish (p, 128 + (int)kata_json_int (params, "signal", 0));
        }
      else if (strcmp (method, "DestroySandbox") == 0)
        {
          if (getenv ("FAKE_SYNCED"))
            {
              /* answers after its "sync" and never powers off: the monitor must stop it */
              areply (f.id, "{\"synced\":true}");
              pause ();
            }
          areply (f.id, NULL);
          _exit (0);
        }
      else if (strcmp (method, "Crash") == 0)
        kill (getpid (), SIGKILL);
      else
        aerror (f.id, KATA_PROTO_ENOMETHOD, "unknown method");
      yajl_tree_free (root);
      kata_frame_clear (&f);
    }
}

static int fake_mode; /* 0 normal, 1 exits at once */

static int
fake_start (const kata_vm_params_t *p, kata_vm_t *vm, kata_error_t **err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  (void)err;
  strcpy (addr.sun_path, KATA_VM_AGENT_SOCK);
  unlink (KATA_VM_AGENT_SOCK);
  if (bind (lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen (lfd, 1) < 0)
    return kata_make_error (err, errno, "fake bind");
  if (getenv ("FAKE_EXIT"))
    fake_mode = 1;
  pid_t pid = fork ();
  if (pid == 0)
    {
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      if (fake_mode == 1)
        {
          FILE *f = fopen (KATA_VM_CONSOLE_LOG, "w");
          fprintf (f, "line one\nKernel panic - fake\n");
          fclose (f);
          _exit (7);
        }
      fake_agent (lfd);
    }
  close (lfd);
  vm->pid = pid;
  vm->start = kata_proc_start_time (pid);
  vm->vm_dir = xstrdup (p->vm_dir);
  vm->accel = xstrdup ("fake");
  return 0;
}

static int
fake_stop (kata_vm_t *vm, bool wait, kata_error_t **err)
{
  (void)err;
  if (vm->pid > 0)
    {
      kill (vm->pid, SIGKILL);
      if (wait)
        waitpid (vm->pid, NULL, 0);
    }
  vm->pid = 0;
  return 0;
}

static int
fake_nop (kata_vm_t *vm, kata_error_t **err)
{
  (void)vm;
  (void)err;
  return 0;
}

static int
fake_hotplug_nic (kata_vm_t *vm, const char *id, int tap_fd, const char *mac, char **addr, kata_error_t **err)
{
  (void)vm, (void)id, (void)mac, (void)err;
  if (fcntl (tap_fd, F_GETFD) < 0)
    return kata_make_error (err, EBADF, "fake hot-plug: no tap fd");
  *addr = xstrdup ("10/00");
  return 0;
}

static const struct hypervisor_ops fake_ops = {
  .name = "fake",
  .start = fake_start,
  .stop = fake_stop,
  .pause = fake_nop,
  .resume = fake_nop,
  .hotplug_nic = fake_hotplug_nic,
};

/* ---- tests ---- */

static char root[256];
static kata_config_t *cfg;

static void
start_sandbox (const char *sid, kata_monitor_info_t *info)
{
  kata_error_t *err = NULL;
  char *sbs = xasprintf ("%s/sbs/%s", root, sid);
  kata_sandbox_spec_t spec
      = { .root = root, .sandbox_id = sid, .cfg = cfg, .vcpus = 1, .memory_mb = 128, .hostname = "fakehost" };
  assert_int_equal (kata_mkdir_p (sbs, 0700, NULL), 0);
  int r = kata_monitor_start (&spec, info, &err);
  if (r < 0)
    fail_msg ("kata_monitor_start: %s", err->msg);
  free (sbs);
}

static char *
read_all (int fd)
{
  char *out = NULL;
  size_t len;
  assert_int_equal (kata_read_fd (fd, &out, &len, 0, NULL), 0);
  return out;
}

static uint32_t
call_stream (kata_client_t *c, const char *method, const char *params)
{
  yajl_val root_v = NULL, res = NULL;
  kata_error_t *err = NULL;
  if (kata_client_call (c, method, params, &root_v, &res, 5000, &err) < 0)
    fail_msg ("%s: %s", method, err->msg);
  uint32_t s = (uint32_t)kata_json_int (res, "stream", 0);
  yajl_tree_free (root_v);
  return s;
}

/* Spawns a shim with stdin from IN_FD and stdout/stderr to pipes. */
static pid_t
spawn_shim (const char *sid, const char *cid, const char *eid, uint32_t stream, int in_fd, int *out_r,
            int *err_r)
{
  int o[2], e[2], s0 = dup (0), s1 = dup (1), s2 = dup (2);
  kata_error_t *err = NULL;
  pid_t pid;
  kata_shim_spec_t spec = {
    .root = root, .sandbox_id = sid, .container_id = cid, .exec_id = eid, .stream = stream, .detach = false
  };
  assert_int_equal (pipe2 (o, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (e, O_CLOEXEC), 0);
  dup2 (in_fd, 0);
  dup2 (o[1], 1);
  dup2 (e[1], 2);
  int r = kata_shim_spawn (&spec, &pid, &err);
  dup2 (s0, 0);
  dup2 (s1, 1);
  dup2 (s2, 2);
  close (s0);
  close (s1);
  close (s2);
  close (o[1]);
  close (e[1]);
  if (r < 0)
    fail_msg ("kata_shim_spawn: %s", err->msg);
  *out_r = o[0];
  *err_r = e[0];
  return pid;
}

static int
wait_status (pid_t pid)
{
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  assert_true (WIFEXITED (st));
  return WEXITSTATUS (st);
}

static void
test_lifecycle (void **state)
{
  kata_monitor_info_t info;
  kata_client_t *c = NULL;
  kata_error_t *err = NULL;
  yajl_val rv = NULL, res = NULL;
  int out, errfd, nul;
  (void)state;

  start_sandbox ("sb1", &info);
  assert_true (info.monitor_pid > 0 && info.qemu_pid > 0);
  assert_true (kata_monitor_alive (&info));
  assert_int_equal (kata_client_connect (root, "sb1", &c, &err), 0);
  assert_int_equal (kata_client_call (c, "Check", NULL, NULL, NULL, 5000, &err), 0);
  assert_int_equal (kata_client_call (c, "MonitorInfo", NULL, &rv, &res, 5000, &err), 0);
  assert_int_equal (kata_json_int (res, "qemu_pid", 0), info.qemu_pid);
  assert_string_equal (kata_json_str (res, "state"), "running");
  yajl_tree_free (rv);
  /* agent errors come back with their code and message */
  assert_int_equal (kata_client_call (c, "NoSuch", NULL, NULL, NULL, 5000, &err), -1);
  assert_int_equal (err->status, KATA_EAGENT);
  assert_string_equal (err->msg, "unknown method");
  kata_error_free (err);
  err = NULL;

  /* NIC hot-plug: both id and tap are needed; a sandbox without a netns has no tap to give */
  assert_int_equal (kata_client_call (c, "MonitorHotplugNic", "{\"id\":\"nic-x\"}", NULL, NULL, 5000, &err),
                    -1);
  assert_non_null (strstr (err->msg, "MonitorHotplugNic: id and tap are required"));
  kata_error_free (err);
  err = NULL;
  assert_int_equal (
      kata_client_call (c, "MonitorHotplugNic",
                        "{\"id\":\"nic-x\",\"tap\":\"tap0_kata\",\"mac\":\"02:00:00:00:00:01\"}", NULL, NULL,
                        5000, &err),
      -1);
  assert_non_null (strstr (err->msg, "hot-plug NIC nic-x: the sandbox has no network namespace"));
  kata_error_free (err);
  err = NULL;

  /* init process: output before start is buffered until the shim attaches; status 3 */
  uint32_t s = call_stream (c, "CreateContainer",
                            "{\"container_id\":\"c1\",\"oci\":{\"process\":{\"args\":[\"echo\"]}}}");
  assert_int_equal (s, 4);
  nul = open ("/dev/null", O_RDONLY);
  pid_t shim = spawn_shim ("sb1", "c1", "", s, nul, &out, &errfd);
  assert_int_equal (
      kata_client_call (c, "StartContainer", "{\"container_id\":\"c1\"}", NULL, NULL, 5000, &err), 0);
  assert_int_equal (wait_status (shim), 3);
  char *o = read_all (out), *e = read_all (errfd);
  assert_string_equal (o, "hello\n");
  assert_string_equal (e, "err\n");
  free (o);
  free (e);
  close (out);
  close (errfd);

  /* stdin relay: "cat" echoes until EOF */
  int in[2];
  assert_int_equal (pipe (in), 0);
  s = call_stream (c, "ExecProcess",
                   "{\"container_id\":\"c1\",\"exec_id\":\"e1\",\"process\":{\"args\":[\"cat\"]}}");
  shim = spawn_shim ("sb1", "c1", "e1", s, in[0], &out, &errfd);
  close (in[0]);
  assert_int_equal (write (in[1], "abc", 3), 3);
  close (in[1]);
  assert_int_equal (wait_status (shim), 0);
  o = read_all (out);
  assert_string_equal (o, "abc");
  free (o);
  close (out);
  close (errfd);

  /* signals are forwarded: SIGTERM -> 143 */
  s = call_stream (c, "ExecProcess",
                   "{\"container_id\":\"c1\",\"exec_id\":\"e2\",\"process\":{\"args\":[\"sleep\"]}}");
  shim = spawn_shim ("sb1", "c1", "e2", s, nul, &out, &errfd);
  usleep (100000);
  kill (shim, SIGTERM);
  assert_int_equal (wait_status (shim), 143);
  close (out);
  close (errfd);

  /* terminal + console socket: the master comes over SCM_RIGHTS (runc's protocol) */
  {
    char *cs = xasprintf ("%s/console.sock", root);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int l = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    strcpy (a.sun_path, cs);
    assert_int_equal (bind (l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal (listen (l, 1), 0);
    s = call_stream (
        c, "ExecProcess",
        "{\"container_id\":\"c1\",\"exec_id\":\"t1\",\"process\":{\"terminal\":true,\"args\":[\"cat\"]}}");
    kata_shim_spec_t spec = { .root = root,
                              .sandbox_id = "sb1",
                              .container_id = "c1",
                              .exec_id = "t1",
                              .stream = s,
                              .terminal = true,
                              .console_socket = cs,
                              .detach = true };
    pid_t tshim;
    assert_int_equal (kata_shim_spawn (&spec, &tshim, &err), 0);
    int cfd = accept4 (l, NULL, NULL, SOCK_CLOEXEC);
    assert_true (cfd >= 0);
    char name[64] = "";
    int master = -1;
    {
      struct msghdr msg = { 0 };
      struct iovec iov = { .iov_base = name, .iov_len = sizeof name - 1 };
      union
      {
        char buf[CMSG_SPACE (sizeof (int))];
        struct cmsghdr align;
      } u;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = u.buf;
      msg.msg_controllen = sizeof u.buf;
      assert_true (recvmsg (cfd, &msg, 0) > 0);
      struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
      assert_non_null (cm);
      assert_int_equal (cm->cmsg_type, SCM_RIGHTS);
      memcpy (&master, CMSG_DATA (cm), sizeof (int));
    }
    assert_string_equal (name, "/dev/ptmx");
    assert_true (isatty (master));
    assert_int_equal (write (master, "tty!", 4), 4);
    char got[16] = "";
    size_t have = 0;
    while (have < 4)
      {
        ssize_t n = read (master, got + have, sizeof got - 1 - have);
        assert_true (n > 0);
        have += n;
      }
    assert_string_equal (got, "tty!");
    close (master); /* hang-up: SIGHUP (forwarded, as a pty would) or stdin EOF ends cat */
    int ts = wait_status (tshim);
    assert_true (ts == 0 || ts == 128 + SIGHUP);
    close (cfd);
    close (l);
    free (cs);
  }

  /* a client that goes away with a request pending: its answer is dropped, nothing breaks */
  {
    kata_client_t *c2 = NULL;
    s = call_stream (c, "ExecProcess",
                     "{\"container_id\":\"c1\",\"exec_id\":\"g1\",\"process\":{\"args\":[\"sleep\"]}}");
    assert_int_equal (kata_client_connect (root, "sb1", &c2, &err), 0);
    assert_int_equal (kata_client_call (c2, "WaitProcess", "{\"container_id\":\"c1\",\"exec_id\":\"g1\"}",
                                        NULL, NULL, 100, &err),
                      -1);
    assert_int_equal (err->status, KATA_ETIMEOUT);
    kata_error_free (err);
    err = NULL;
    kata_client_close (c2);
    usleep (50000);
    assert_int_equal (kata_client_call (c, "SignalProcess",
                                        "{\"container_id\":\"c1\",\"exec_id\":\"g1\",\"signal\":9}", NULL,
                                        NULL, 5000, &err),
                      0);
    assert_int_equal (kata_client_call (c, "Check", NULL, NULL, NULL, 5000, &err), 0);
  }

  /* VM death: the shim exits 255, the monitor cleans up and exits */
  s = call_stream (c, "ExecProcess",
                   "{\"container_id\":\"c1\",\"exec_id\":\"e3\",\"process\":{\"args\":[\"sleep\"]}}");
  shim = spawn_shim ("sb1", "c1", "e3", s, nul, &out, &errfd);
  assert_int_equal (kata_client_call (c, "Crash", NULL, NULL, NULL, 5000, &err), -1);
  assert_int_equal (err->status, KATA_EVMDEAD);
  assert_non_null (strstr (err->msg, "the VM for sandbox sb1 died: QEMU was killed by signal 9"));
  kata_error_free (err);
  err = NULL;
  assert_int_equal (wait_status (shim), 255);
  close (out);
  close (errfd);
  kata_client_close (c);
  assert_int_equal (waitpid (info.monitor_pid, NULL, 0), info.monitor_pid);
  char *sock = xasprintf ("%s/sbs/sb1/monitor.sock", root);
  assert_int_equal (access (sock, F_OK), -1);
  free (sock);
  assert_int_equal (kata_client_connect (root, "sb1", &c, &err), -1);
  assert_int_equal (err->status, KATA_EVMDEAD);
  kata_error_free (err);
  assert_int_equal (kata_monitor_kill (root, "sb1", &info, NULL), 0);
  char *vm = xasprintf ("%s/vm/sb1", root);
  assert_int_equal (access (vm, F_OK), -1);
  free (vm);
  close (nul);
}

static void
test_shutdown (void **state)
{
  kata_monitor_info_t info;
  kata_client_t *c = NULL;
  kata_error_t *err = NULL;
  (void)state;

  start_sandbox ("sb2", &info);
  assert_int_equal (kata_client_connect (root, "sb2", &c, &err), 0);
  assert_int_equal (kata_client_call (c, "MonitorShutdown", NULL, NULL, NULL, 10000, &err), 0);
  kata_client_close (c);
  assert_int_equal (waitpid (info.monitor_pid, NULL, 0), info.monitor_pid);
  assert_false (kata_proc_alive (info.qemu_pid, info.qemu_start));
  char *vm = xasprintf ("%s/vm/sb2", root), *sh = xasprintf ("%s/shared/sb2", root);
  assert_int_equal (access (vm, F_OK), -1);
  assert_int_equal (access (sh, F_OK), -1);
  free (vm);
  free (sh);
}

/* An agent that answers DestroySandbox with synced:true is stopped at once, without
   waiting for its power-off (the fake never powers off: the 5 s fallback would be hit). */
static void
test_shutdown_synced (void **state)
{
  kata_monitor_info_t info;
  kata_client_t *c = NULL;
  kata_error_t *err = NULL;
  (void)state;

  setenv ("FAKE_SYNCED", "1", 1);
  start_sandbox ("sb5", &info);
  unsetenv ("FAKE_SYNCED");
  assert_int_equal (kata_client_connect (root, "sb5", &c, &err), 0);
  uint64_t t0 = kata_now_ns ();
  assert_int_equal (kata_client_call (c, "MonitorShutdown", NULL, NULL, NULL, 10000, &err), 0);
  uint64_t ms = (kata_now_ns () - t0) / 1000000;
  kata_client_close (c);
  assert_int_equal (waitpid (info.monitor_pid, NULL, 0), info.monitor_pid);
  assert_false (kata_proc_alive (info.qemu_pid, info.qemu_start));
  if (ms >= 3000)
    fail_msg ("MonitorShutdown took %llu ms: the synced answer was not acted on", (unsigned long long)ms);
}

static void
test_state_removed (void **state)
{
  kata_monitor_info_t info;
  (void)state;
  setenv ("KATA_MONITOR_WATCH_MS", "100", 1);
  start_sandbox ("sb4", &info);
  unsetenv ("KATA_MONITOR_WATCH_MS");
  char *sbs = xasprintf ("%s/sbs/sb4", root);
  assert_int_equal (kata_rm_rf (sbs, NULL), 0);
  /* the monitor notices and shuts the sandbox down */
  for (int i = 0; i < 300 && kata_proc_alive (info.monitor_pid, info.monitor_start); i++)
    {
      waitpid (info.monitor_pid, NULL, WNOHANG);
      usleep (10000);
    }
  waitpid (info.monitor_pid, NULL, WNOHANG);
  assert_false (kata_proc_alive (info.monitor_pid, info.monitor_start));
  assert_false (kata_proc_alive (info.qemu_pid, info.qemu_start));
  free (sbs);
}

static void
test_boot_failure (void **state)
{
  kata_monitor_info_t info;
  kata_error_t *err = NULL;
  (void)state;
  char *sbs = xasprintf ("%s/sbs/sb3", root);
  kata_mkdir_p (sbs, 0700, NULL);
  kata_sandbox_spec_t spec = { .root = root, .sandbox_id = "sb3", .cfg = cfg, .vcpus = 1, .memory_mb = 128 };
  setenv ("FAKE_EXIT", "1", 1);
  assert_int_equal (kata_monitor_start (&spec, &info, &err), -1);
  unsetenv ("FAKE_EXIT");
  assert_int_equal (err->status, KATA_EVMDEAD);
  assert_non_null (strstr (err->msg, "QEMU exited with status 7"));
  assert_non_null (strstr (err->msg, "Kernel panic - fake"));
  kata_error_free (err);
  char *vm = xasprintf ("%s/vm/sb3", root);
  assert_int_equal (access (vm, F_OK), -1);
  free (vm);
  free (sbs);
}

/* MonitorHotplugCpu's device_add for a slot of query-hotpluggable-cpus (monitor-cpu.c):
   the slot's type and integer props; a slot in use (qom-path) gives nothing. */
static void
test_cpu_slot_args (void **state)
{
  static const char slots[] = "[{\"props\":{\"core-id\":0,\"thread-id\":0,\"socket-id\":2},\"vcpus-count\":1,"
                              "\"type\":\"max-x86_64-cpu\"},"
                              "{\"props\":{\"core-id\":0,\"thread-id\":0,\"socket-id\":0},\"vcpus-count\":1,"
                              "\"qom-path\":\"/machine/unattached/device[0]\",\"type\":\"max-x86_64-cpu\"},"
                              "{\"vcpus-count\":1}]";
  cleanup_yajl_val yajl_val v = NULL;
  cleanup_free char *a = NULL;
  (void)state;
  assert_int_equal (kata_json_parse (slots, strlen (slots), &v, NULL), 0);
  a = mon_cpu_slot_args (v->u.array.values[0], "vcpu2");
  assert_string_equal (a, "{\"driver\":\"max-x86_64-cpu\",\"id\":\"vcpu2\",\"core-id\":0,\"thread-id\":0,"
                          "\"socket-id\":2}");
  assert_null (mon_cpu_slot_args (v->u.array.values[1], "vcpu0"));
  assert_null (mon_cpu_slot_args (v->u.array.values[2], "vcpu9"));
}

int
main (int argc, char **argv)
{
  kata_hypervisor_override = &fake_ops;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "__monitor") == 0)
        return kata_monitor_main (argc, argv);
      if (strcmp (argv[i], "__shim") == 0)
        return kata_shim_main (argc, argv);
    }
  snprintf (root, sizeof root, "/tmp/kata-test-monitor-%d", (int)getpid ());
  cfg = kata_config_default ();
  if (getenv ("TEST_MONITOR_LOG"))
    kata_log_init (getenv ("TEST_MONITOR_LOG"), "text", true);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_lifecycle),       cmocka_unit_test (test_shutdown),
    cmocka_unit_test (test_shutdown_synced), cmocka_unit_test (test_state_removed),
    cmocka_unit_test (test_boot_failure),    cmocka_unit_test (test_cpu_slot_args),
  };
  int r = cmocka_run_group_tests (tests, NULL, NULL);
  kata_rm_rf (root, NULL);
  kata_config_free (cfg);
  return r;
}
