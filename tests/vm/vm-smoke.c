/* vm-smoke: end-to-end check of the VM machinery with a real QEMU.
     vm-smoke [--kernel K] [--initrd I] [--machine q35|microvm] [--shared-fs virtio-9p|virtio-fs]
              [--containers] [--keep] [--debug]
   Without --containers it needs only Hello/CreateSandbox/Check/GetGuestDetails/DestroySandbox
   from the agent; with it, it runs a busybox container through the real agent: output,
   exit codes, stdin, signals.  Always: QEMU kill -9 -> shim 255 + cleanup, and
   MonitorShutdown -> nothing left.  Prints timings.  Exit 0 when every check passed. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/client.h"
#include "runtime/hypervisor.h"
#include "runtime/log.h"
#include "runtime/monitor.h"
#include "runtime/shim.h"

static int failures;
static char root[256];
static kata_config_t *cfg;
static bool containers, keep;
static const kata_monitor_info_t *info_for_rss;
static const char *cgroup_path, *netns_path, *block_rootfs;
static int boot_timeout = 60;
static kata_vm_nic_t nic;

#define CHECK(cond, ...)                                                                                     \
  do                                                                                                         \
    {                                                                                                        \
      if (cond)                                                                                              \
        printf ("ok   ");                                                                                    \
      else                                                                                                   \
        {                                                                                                    \
          printf ("FAIL ");                                                                                  \
          failures++;                                                                                        \
        }                                                                                                    \
      printf (__VA_ARGS__);                                                                                  \
      printf ("\n");                                                                                         \
      fflush (stdout);                                                                                       \
    }                                                                                                        \
  while (0)

static double
ms_since (uint64_t t0)
{
  return (kata_now_ns () - t0) / 1e6;
}

static int
start (const char *sid, kata_monitor_info_t *info)
{
  kata_error_t *err = NULL;
  cleanup_free char *sbs = xasprintf ("%s/sbs/%s", root, sid);
  kata_sandbox_spec_t spec = { .root = root,
                               .sandbox_id = sid,
                               .cfg = cfg,
                               .vcpus = 1,
                               .memory_mb = 256,
                               .hostname = sid,
                               .debug = true,
                               .cgroup_path = cgroup_path,
                               .block_rootfs = block_rootfs,
                               .netns_path = netns_path,
                               .nics = nic.tap ? &nic : NULL,
                               .nics_len = nic.tap ? 1 : 0 };
  kata_mkdir_p (sbs, 0700, NULL);
  uint64_t t0 = kata_now_ns ();
  int r = kata_monitor_start (&spec, info, &err);
  CHECK (r == 0, "start sandbox %s in %.0f ms%s%s", sid, ms_since (t0), r ? ": " : "", r ? err->msg : "");
  kata_error_free (err);
  return r;
}

static yajl_val
call (kata_client_t *c, const char *method, const char *params, yajl_val *res, kata_error_t **errp)
{
  yajl_val rv = NULL;
  kata_error_t *err = NULL;
  uint64_t t0 = kata_now_ns ();
  int r = kata_client_call (c, method, params, &rv, res, 60000, &err);
  if (errp)
    *errp = err;
  CHECK (r == 0 || errp, "%s (%.1f ms)%s%s", method, ms_since (t0), r ? ": " : "", r ? err->msg : "");
  if (!errp)
    kata_error_free (err);
  return rv;
}

static char *
read_all (int fd)
{
  char *out = NULL;
  size_t len;
  if (kata_read_fd (fd, &out, &len, 0, NULL) < 0)
    return xstrdup ("");
  return out;
}

static pid_t
spawn_shim (const char *sid, const char *cid, const char *eid, uint32_t stream, int in_fd, int *out_r,
            int *err_r)
{
  int o[2], e[2], s0 = dup (0), s1 = dup (1), s2 = dup (2);
  kata_error_t *err = NULL;
  pid_t pid = -1;
  kata_shim_spec_t spec = { .root = root,
                            .sandbox_id = sid,
                            .container_id = cid,
                            .exec_id = eid,
                            .stream = stream,
                            .log_path = kata_log_path (),
                            .debug = kata_log_debug_enabled () };
  if (pipe2 (o, O_CLOEXEC) < 0 || pipe2 (e, O_CLOEXEC) < 0)
    abort ();
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
  CHECK (r == 0, "spawn shim for %s/%s%s%s", cid, eid, r ? ": " : "", r ? err->msg : "");
  *out_r = o[0];
  *err_r = e[0];
  return r == 0 ? pid : -1;
}

static int
wait_status (pid_t pid, int timeout_ms)
{
  uint64_t t0 = kata_now_ns ();
  int st;
  while (ms_since (t0) < timeout_ms)
    {
      if (waitpid (pid, &st, WNOHANG) == pid)
        return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
      usleep (10000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  return -1;
}

static void
make_rootfs (const char *dir)
{
  const char *applets[] = { "sh",       "echo", "cat",  "sleep", "ls",     "true", "false", "id",
                            "hostname", "stty", "head", "wc",    "md5sum", "dd",   "yes",   NULL };
  cleanup_free char *bin = xasprintf ("%s/bin", dir);
  cleanup_free char *bb = xasprintf ("%s/bin/busybox", dir);
  cleanup_free char *cmd = xasprintf ("cp /bin/busybox %s", bb);
  kata_mkdir_p (bin, 0755, NULL);
  for (const char *d = "proc\0sys\0dev\0tmp\0etc\0"; *d; d += strlen (d) + 1)
    {
      cleanup_free char *p = xasprintf ("%s/%s", dir, d);
      kata_mkdir_p (p, 0755, NULL);
    }
  if (system (cmd) != 0)
    fprintf (stderr, "cannot copy busybox\n");
  for (int i = 0; applets[i]; i++)
    {
      cleanup_free char *l = xasprintf ("%s/bin/%s", dir, applets[i]);
      symlink ("busybox", l);
    }
}

static char *
oci (const char *cid, const char *script)
{
  return xasprintf (
      "{\"container_id\":\"%s\",\"storages\":[],\"sandbox_pidns\":false,\"oci\":{"
      "\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
      "\"args\":[\"/bin/sh\",\"-c\",\"%s\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"},"
      "\"root\":{\"path\":\"/run/kata-containers/shared/containers/%s/rootfs\",\"readonly\":false},"
      "\"hostname\":\"smoke\",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":"
      "\"proc\"}],\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},"
      "{\"type\":\"ipc\"}]}}}",
      cid, script, cid);
}

static uint32_t
stream_of (yajl_val res)
{
  return (uint32_t)kata_json_int (res, "stream", 0);
}

/* exec with a terminal through a console socket, as containerd/podman do */
static void
run_tty (kata_client_t *c, const char *sid)
{
  yajl_val res = NULL, rv;
  kata_error_t *err = NULL;
  cleanup_free char *cs = xasprintf ("%s/console.sock", root);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int l = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), master = -1;
  char name[64] = "";
  pid_t shim;

  strcpy (a.sun_path, cs);
  if (bind (l, (struct sockaddr *)&a, sizeof a) < 0 || listen (l, 1) < 0)
    abort ();
  rv = call (
      c, "ExecProcess",
      "{\"container_id\":\"c2\",\"exec_id\":\"t1\",\"process\":{\"terminal\":true,\"args\":[\"/bin/sh\"],"
      "\"env\":[\"PATH=/bin\",\"TERM=xterm\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}}",
      &res, NULL);
  uint32_t s = stream_of (res);
  yajl_tree_free (rv);
  kata_shim_spec_t spec = { .root = root,
                            .sandbox_id = sid,
                            .container_id = "c2",
                            .exec_id = "t1",
                            .stream = s,
                            .terminal = true,
                            .console_socket = cs,
                            .detach = true,
                            .log_path = kata_log_path () };
  int r = kata_shim_spawn (&spec, &shim, &err);
  CHECK (r == 0, "spawn tty shim%s%s", r ? ": " : "", r ? err->msg : "");
  if (r < 0)
    return;
  int cfd = accept4 (l, NULL, NULL, SOCK_CLOEXEC);
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
    if (recvmsg (cfd, &msg, 0) > 0 && CMSG_FIRSTHDR (&msg))
      memcpy (&master, CMSG_DATA (CMSG_FIRSTHDR (&msg)), sizeof (int));
  }
  CHECK (master >= 0 && isatty (master), "received the pty master (\"%s\") over the console socket", name);
  struct winsize ws = { .ws_row = 33, .ws_col = 101 };
  ioctl (master, TIOCSWINSZ, &ws);
  usleep (300000);
  const char *cmd = "stty size; echo tty-$((3+4)); exit 7\n";
  if (write (master, cmd, strlen (cmd)) < 0)
    abort ();
  char buf[4096] = "";
  size_t have = 0;
  uint64_t t0 = kata_now_ns ();
  int st = -1;
  while (ms_since (t0) < 30000)
    {
      struct pollfd pf = { .fd = master, .events = POLLIN };
      if (poll (&pf, 1, 100) > 0)
        {
          ssize_t n = read (master, buf + have, sizeof buf - 1 - have);
          if (n > 0)
            have += n;
        }
      int wst;
      if (waitpid (shim, &wst, WNOHANG) == shim)
        {
          st = WIFEXITED (wst) ? WEXITSTATUS (wst) : 128 + WTERMSIG (wst);
          break;
        }
    }
  buf[have] = '\0';
  CHECK (strstr (buf, "33 101") != NULL, "tty size reached the guest");
  CHECK (strstr (buf, "tty-7") != NULL, "tty output: %s", buf);
  CHECK (st == 7, "tty shim exited with %d (want 7)", st);
  close (master);
  close (cfd);
  close (l);
}

static void
run_containers (kata_client_t *c, const char *sid)
{
  yajl_val res = NULL, rv;
  int out, err, nul = open ("/dev/null", O_RDONLY);
  cleanup_free char *rootfs = xasprintf ("%s/shared/%s/c1/rootfs", root, sid);
  cleanup_free char *rootfs2 = xasprintf ("%s/shared/%s/c2/rootfs", root, sid);
  make_rootfs (rootfs);
  make_rootfs (rootfs2);

  cleanup_free char *p = oci ("c1", "echo hello; echo err >&2; exit 3");
  rv = call (c, "CreateContainer", p, &res, NULL);
  uint32_t s = stream_of (res);
  yajl_tree_free (rv);
  pid_t shim = spawn_shim (sid, "c1", "", s, nul, &out, &err);
  uint64_t t0 = kata_now_ns ();
  yajl_tree_free (call (c, "StartContainer", "{\"container_id\":\"c1\"}", NULL, NULL));
  int st = wait_status (shim, 30000);
  cleanup_free char *o = read_all (out);
  cleanup_free char *e = read_all (err);
  CHECK (st == 3, "container exit status %d (want 3), start->exit %.0f ms", st, ms_since (t0));
  CHECK (strcmp (o, "hello\n") == 0, "stdout \"%s\"", o);
  CHECK (strcmp (e, "err\n") == 0, "stderr \"%s\"", e);
  close (out);
  close (err);

  /* c2: a long-running init to exec into */
  cleanup_free char *p2 = oci ("c2", "exec sleep 1000");
  rv = call (c, "CreateContainer", p2, &res, NULL);
  s = stream_of (res);
  yajl_tree_free (rv);
  pid_t shim2 = spawn_shim (sid, "c2", "", s, nul, &out, &err);
  yajl_tree_free (call (c, "StartContainer", "{\"container_id\":\"c2\"}", NULL, NULL));
  close (out);
  close (err);
  {
    cleanup_free char *stp = xasprintf ("/proc/%d/status", (int)shim2);
    cleanup_free char *mtp = xasprintf ("/proc/%d/status", (int)info_for_rss->monitor_pid);
    cleanup_free char *st1 = NULL, *st2 = NULL;
    kata_read_file (stp, &st1, NULL, 0, NULL);
    kata_read_file (mtp, &st2, NULL, 0, NULL);
    const char *r1 = st1 ? strstr (st1, "VmRSS:") : NULL, *r2 = st2 ? strstr (st2, "VmRSS:") : NULL;
    printf ("     shim %.*s; monitor %.*s\n", r1 ? (int)strcspn (r1, "\n") : 0, r1 ? r1 : "",
            r2 ? (int)strcspn (r2, "\n") : 0, r2 ? r2 : "");
  }

  /* stdin through a pipe */
  int in[2];
  if (pipe (in) < 0)
    abort ();
  rv = call (c, "ExecProcess",
             "{\"container_id\":\"c2\",\"exec_id\":\"e1\",\"process\":{\"args\":[\"/bin/"
             "cat\"],\"env\":[\"PATH=/bin\"],"
             "\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}}",
             &res, NULL);
  s = stream_of (res);
  yajl_tree_free (rv);
  shim = spawn_shim (sid, "c2", "e1", s, in[0], &out, &err);
  close (in[0]);
  if (write (in[1], "via stdin\n", 10) != 10)
    abort ();
  close (in[1]);
  st = wait_status (shim, 30000);
  free (o);
  o = read_all (out);
  CHECK (st == 0 && strcmp (o, "via stdin\n") == 0, "exec cat: status %d, stdout \"%s\"", st, o);
  close (out);
  close (err);

  /* a signal forwarded by the shim */
  rv = call (c, "ExecProcess",
             "{\"container_id\":\"c2\",\"exec_id\":\"e2\",\"process\":{\"args\":[\"/bin/"
             "sleep\",\"100\"],\"env\":[\"PATH=/bin\"],"
             "\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}}",
             &res, NULL);
  s = stream_of (res);
  yajl_tree_free (rv);
  shim = spawn_shim (sid, "c2", "e2", s, nul, &out, &err);
  usleep (300000);
  kill (shim, SIGTERM);
  st = wait_status (shim, 30000);
  CHECK (st == 143, "exec sleep killed by forwarded SIGTERM: status %d (want 143)", st);
  close (out);
  close (err);
  close (nul);
  run_tty (c, sid);

  /* bulk output: 8 MiB through agent -> monitor -> shim -> pipe */
  rv = call (
      c, "ExecProcess",
      "{\"container_id\":\"c2\",\"exec_id\":\"b1\",\"process\":{\"args\":[\"/bin/sh\",\"-c\","
      "\"yes | head -c 8388608\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}}",
      &res, NULL);
  uint32_t bs = stream_of (res);
  yajl_tree_free (rv);
  nul = open ("/dev/null", O_RDONLY);
  t0 = kata_now_ns ();
  pid_t bshim = spawn_shim (sid, "c2", "b1", bs, nul, &out, &err);
  size_t total = 0;
  bool zeros = true;
  for (;;)
    {
      char buf[65536];
      ssize_t n = read (out, buf, sizeof buf);
      if (n <= 0)
        break;
      for (ssize_t i = 0; i < n; i++)
        zeros &= buf[i] == ((total + i) % 2 ? '\n' : 'y');
      total += n;
    }
  int bst = wait_status (bshim, 60000);
  double ms = ms_since (t0);
  CHECK (bst == 0 && total == 8388608 && zeros,
         "8 MiB of stdout: got %zu bytes, status %d, %.0f ms (%.1f MB/s)", total, bst, ms, total / 1e3 / ms);
  close (out);
  close (err);
  close (nul);
}

static bool
gone (const kata_monitor_info_t *info, int timeout_ms)
{
  uint64_t t0 = kata_now_ns ();
  while (ms_since (t0) < timeout_ms)
    {
      waitpid (info->monitor_pid, NULL, WNOHANG);
      if (!kata_proc_alive (info->monitor_pid, info->monitor_start)
          && !kata_proc_alive (info->qemu_pid, info->qemu_start)
          && (info->virtiofsd_pid == 0 || !kata_proc_alive (info->virtiofsd_pid, info->virtiofsd_start)))
        return true;
      usleep (10000);
    }
  return false;
}

int
main (int argc, char **argv)
{
  kata_monitor_info_t info;
  kata_client_t *c = NULL;
  kata_error_t *err = NULL;
  yajl_val res = NULL, rv;
  bool debug = false, template = false;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "__monitor") == 0)
        return kata_monitor_main (argc, argv);
      if (strcmp (argv[i], "__shim") == 0)
        return kata_shim_main (argc, argv);
    }
  cfg = kata_config_default ();
  for (int i = 1; i < argc; i++)
    {
#define OPT(name, field)                                                                                     \
  if (strcmp (argv[i], name) == 0 && i + 1 < argc)                                                           \
    {                                                                                                        \
      free (cfg->hypervisor.field);                                                                          \
      cfg->hypervisor.field = xstrdup (argv[++i]);                                                           \
      continue;                                                                                              \
    }
      OPT ("--kernel", kernel);
      OPT ("--initrd", initrd);
      OPT ("--machine", machine_type);
      OPT ("--shared-fs", shared_fs);
      OPT ("--tb-size", tb_size);
      if (strcmp (argv[i], "--containers") == 0)
        containers = true;
      else if (strcmp (argv[i], "--keep") == 0)
        keep = true;
      else if (strcmp (argv[i], "--debug") == 0)
        debug = true;
      else if (strcmp (argv[i], "--block-rootfs") == 0 && i + 1 < argc)
        block_rootfs = argv[++i];
      else if (strcmp (argv[i], "--boot-timeout") == 0 && i + 1 < argc)
        boot_timeout = atoi (argv[++i]);
      else if (strcmp (argv[i], "--tap") == 0 && i + 2 < argc)
        {
          nic.tap = argv[++i];
          nic.mac = argv[++i];
        }
      else if (strcmp (argv[i], "--netns") == 0 && i + 1 < argc)
        netns_path = argv[++i];
      else if (strcmp (argv[i], "--cgroup") == 0 && i + 1 < argc)
        cgroup_path = argv[++i];
      else if (strcmp (argv[i], "--template") == 0)
        template = true;
    }
  snprintf (root, sizeof root, "/tmp/vm-smoke-%d", (int)getpid ());
  cleanup_free char *logp = xasprintf ("%s.log", root);
  kata_log_init (logp, "text", debug);
  cfg->hypervisor.boot_timeout = boot_timeout;
  printf ("root %s, log %s, kernel %s, initrd %s, machine %s, shared_fs %s\n", root, logp,
          cfg->hypervisor.kernel, cfg->hypervisor.initrd, cfg->hypervisor.machine_type,
          cfg->hypervisor.shared_fs);

  if (template)
    {
      cfg->factory.enable_template = true;
      free (cfg->factory.template_path);
      cfg->factory.template_path = xasprintf ("%s/template", root);
      uint64_t t0 = kata_now_ns ();
      int r = kata_vm_template_create (cfg, &err);
      CHECK (r == 0, "factory init (template saved) in %.0f ms%s%s", ms_since (t0), r ? ": " : "",
             r ? err->msg : "");
      if (r < 0)
        return 1;
      CHECK (kata_vm_template_ready (cfg, NULL, NULL), "template ready");
    }

  /* 1. boot, talk, containers, then kill -9 QEMU */
  if (start ("smoke1", &info) < 0)
    return 1;
  info_for_rss = &info;
  if (netns_path)
    {
      struct stat a, b;
      cleanup_free char *qns = xasprintf ("/proc/%d/ns/net", info.qemu_pid);
      cleanup_free char *mns = xasprintf ("/proc/%d/ns/net", info.monitor_pid);
      struct stat c;
      CHECK (stat (qns, &a) == 0 && stat (netns_path, &b) == 0 && a.st_ino == b.st_ino && stat (mns, &c) == 0
                 && c.st_ino != b.st_ino,
             "QEMU (only) is in the network namespace %s", netns_path);
    }
  if (cgroup_path)
    {
      cleanup_free char *procs = xasprintf ("%s/cgroup.procs", cgroup_path);
      cleanup_free char *data = NULL;
      char q[32], mpid[32];
      snprintf (q, sizeof q, "%d\n", info.qemu_pid);
      snprintf (mpid, sizeof mpid, "%d\n", info.monitor_pid);
      kata_read_file (procs, &data, NULL, 0, NULL);
      CHECK (data && strstr (data, q) && strstr (data, mpid), "monitor and QEMU are in %s", cgroup_path);
    }
  if (kata_client_connect (root, "smoke1", &c, &err) < 0)
    {
      CHECK (0, "connect: %s", err->msg);
      return 1;
    }
  yajl_tree_free (call (c, "Check", NULL, NULL, NULL));
  rv = call (c, "GetGuestDetails", NULL, &res, NULL);
  if (rv)
    {
      cleanup_free char *s = kata_json_dump (res);
      printf ("     guest: %s\n", s);
    }
  yajl_tree_free (rv);
  rv = call (c, "MonitorInfo", NULL, &res, NULL);
  CHECK (rv && kata_json_int (res, "qemu_pid", 0) == info.qemu_pid, "MonitorInfo names QEMU pid %d",
         info.qemu_pid);
  yajl_tree_free (rv);
  {
    /* pause/resume and block hot-plug through the monitor (QMP) */
    yajl_tree_free (call (c, "MonitorPause", NULL, NULL, NULL));
    rv = call (c, "MonitorInfo", NULL, &res, NULL);
    CHECK (rv && strcmp (kata_json_str (res, "state"), "stopped") == 0, "paused VM reports state stopped");
    yajl_tree_free (rv);
    yajl_tree_free (call (c, "MonitorResume", NULL, NULL, NULL));
    yajl_tree_free (call (c, "Check", NULL, NULL, NULL));
    bool microvm = strcmp (cfg->hypervisor.machine_type, "microvm") == 0;
    cleanup_free char *img = xasprintf ("%s/disk.img", root);
    cleanup_free char *mk = xasprintf ("truncate -s 16M %s", img);
    if (system (mk) != 0)
      abort ();
    cleanup_free char *hp = xasprintf ("{\"id\":\"blk0\",\"path\":\"%s\",\"readonly\":false}", img);
    uint64_t t0 = kata_now_ns ();
    if (microvm)
      {
        kata_error_t *he = NULL;
        rv = call (c, "MonitorHotplugBlock", hp, &res, &he);
        CHECK (rv == NULL && he && strstr (he->msg, "no hot-plug"), "microvm: hot-plug refused: %s",
               he ? he->msg : "accepted?");
        kata_error_free (he);
      }
    else
      {
        rv = call (c, "MonitorHotplugBlock", hp, &res, NULL);
        CHECK (rv && kata_json_str (res, "pci") && strcmp (kata_json_str (res, "pci"), "10/00") == 0,
               "hot-plugged blk0 at %s in %.0f ms", rv ? kata_json_str (res, "pci") : "?", ms_since (t0));
        yajl_tree_free (rv);
        usleep (500000);
        t0 = kata_now_ns ();
        yajl_tree_free (call (c, "MonitorHotUnplug", "{\"id\":\"blk0\"}", NULL, NULL));
        printf ("     hot-unplug took %.0f ms\n", ms_since (t0));
      }
  }
  if (containers)
    run_containers (c, "smoke1");
  {
    int out, errfd, nul = open ("/dev/null", O_RDONLY);
    pid_t shim = -1;
    uint32_t s = 0;
    if (containers)
      {
        rv = call (
            c, "ExecProcess",
            "{\"container_id\":\"c2\",\"exec_id\":\"e9\",\"process\":{\"args\":[\"/bin/sleep\",\"100\"],"
            "\"env\":[\"PATH=/bin\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}}",
            &res, NULL);
        s = stream_of (res);
        yajl_tree_free (rv);
      }
    else
      s = 4000; /* no process: the shim's WaitProcess just stays pending (or fails) */
    shim = spawn_shim ("smoke1", "c2", "e9", s, nul, &out, &errfd);
    close (nul);
    usleep (200000);
    uint64_t t0 = kata_now_ns ();
    kill (info.qemu_pid, SIGKILL);
    int st = shim > 0 ? wait_status (shim, 10000) : -1;
    if (containers)
      CHECK (st == 255, "kill -9 QEMU: shim exited %d (want 255) after %.0f ms", st, ms_since (t0));
    else
      printf ("     shim exited %d after %.0f ms\n", st, ms_since (t0));
    CHECK (gone (&info, 10000), "monitor and QEMU gone %.0f ms after kill -9", ms_since (t0));
    cleanup_free char *sock = xasprintf ("%s/sbs/smoke1/monitor.sock", root);
    CHECK (access (sock, F_OK) < 0, "monitor.sock removed");
    kata_error_t *e2 = NULL;
    int r = kata_client_call (c, "Check", NULL, NULL, NULL, 5000, &e2);
    CHECK (r < 0 && e2->status == KATA_EVMDEAD, "call after death: %s", e2 ? e2->msg : "succeeded?");
    kata_error_free (e2);
    close (out);
    close (errfd);
  }
  kata_client_close (c);
  kata_monitor_kill (root, "smoke1", &info, NULL);
  {
    cleanup_free char *vm = xasprintf ("%s/vm/smoke1", root);
    CHECK (access (vm, F_OK) < 0, "kata_monitor_kill removed the VM dir");
  }

  /* 2. boot and shut down cleanly */
  if (start ("smoke2", &info) == 0 && kata_client_connect (root, "smoke2", &c, &err) == 0)
    {
      uint64_t t0 = kata_now_ns ();
      yajl_tree_free (call (c, "MonitorShutdown", NULL, NULL, NULL));
      printf ("     shutdown took %.0f ms\n", ms_since (t0));
      kata_client_close (c);
      CHECK (gone (&info, 10000), "monitor and QEMU gone after MonitorShutdown");
      cleanup_free char *vm = xasprintf ("%s/vm/smoke2", root);
      cleanup_free char *sh = xasprintf ("%s/shared/smoke2", root);
      CHECK (access (vm, F_OK) < 0 && access (sh, F_OK) < 0, "VM and shared dirs removed");
    }
  /* 3. kill -9 of the monitor: QEMU goes with it, clients are told */
  if (start ("smoke3", &info) == 0)
    {
      int out, errfd, nul = open ("/dev/null", O_RDONLY);
      kata_client_t *c3 = NULL;
      uint32_t s3 = 4000;
      if (containers && kata_client_connect (root, "smoke3", &c3, &err) == 0)
        {
          cleanup_free char *rootfs = xasprintf ("%s/shared/smoke3/c3/rootfs", root);
          cleanup_free char *p3 = oci ("c3", "exec sleep 1000");
          make_rootfs (rootfs);
          rv = call (c3, "CreateContainer", p3, &res, NULL);
          s3 = stream_of (res);
          yajl_tree_free (rv);
        }
      pid_t shim = spawn_shim ("smoke3", "c3", "", s3, nul, &out, &errfd);
      if (c3)
        yajl_tree_free (call (c3, "StartContainer", "{\"container_id\":\"c3\"}", NULL, NULL));
      close (nul);
      usleep (200000);
      uint64_t t0 = kata_now_ns ();
      kill (info.monitor_pid, SIGKILL);
      int st = shim > 0 ? wait_status (shim, 10000) : -1;
      if (containers)
        CHECK (st == 255, "kill -9 monitor: shim exited %d (want 255) after %.0f ms", st, ms_since (t0));
      kata_client_close (c3);
      CHECK (gone (&info, 10000), "QEMU gone %.0f ms after kill -9 of its monitor", ms_since (t0));
      kata_monitor_kill (root, "smoke3", &info, NULL);
      cleanup_free char *vm = xasprintf ("%s/vm/smoke3", root);
      cleanup_free char *sock = xasprintf ("%s/sbs/smoke3/monitor.sock", root);
      CHECK (access (vm, F_OK) < 0 && access (sock, F_OK) < 0, "kata_monitor_kill cleaned up");
      close (out);
      close (errfd);
    }

  if (template)
    {
      kata_error_t *e3 = NULL;
      int r = kata_vm_template_destroy (cfg, &e3);
      CHECK (r == 0 && !kata_vm_template_ready (cfg, NULL, NULL), "factory destroy%s%s", r ? ": " : "",
             r ? e3->msg : "");
    }
  if (!keep)
    {
      cleanup_free char *cmd = xasprintf ("rm -rf %s", root);
      if (system (cmd) != 0)
        fprintf (stderr, "cleanup failed\n");
    }
  printf ("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
