/* vm-smoke: end-to-end check of the VM machinery with a real QEMU.
     vm-smoke [--kernel K] [--initrd I] [--machine q35|microvm] [--shared-fs virtio-9p|virtio-fs]
              [--containers] [--keep] [--debug]
   Without --containers it needs only Hello/CreateSandbox/Check/GetGuestDetails/DestroySandbox
   (tests/vm/mini-agent is enough); with it, it runs a busybox container through the real
   agent: output, exit codes, stdin, signals.  Always: QEMU kill -9 -> shim 255 + cleanup, and
   MonitorShutdown -> nothing left.  Prints timings.  Exit 0 when every check passed. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

#define CHECK(cond, ...)                                                                                               \
  do                                                                                                                   \
    {                                                                                                                  \
      if (cond)                                                                                                        \
        printf ("ok   ");                                                                                              \
      else                                                                                                             \
        {                                                                                                              \
          printf ("FAIL ");                                                                                            \
          failures++;                                                                                                  \
        }                                                                                                              \
      printf (__VA_ARGS__);                                                                                            \
      printf ("\n");                                                                                                   \
      fflush (stdout);                                                                                                 \
    }                                                                                                                  \
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
  kata_sandbox_spec_t spec = { .root = root, .sandbox_id = sid, .cfg = cfg, .vcpus = 1, .memory_mb = 256,
                               .hostname = sid, .debug = true };
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
spawn_shim (const char *sid, const char *cid, const char *eid, uint32_t stream, int in_fd, int *out_r, int *err_r)
{
  int o[2], e[2], s0 = dup (0), s1 = dup (1), s2 = dup (2);
  kata_error_t *err = NULL;
  pid_t pid = -1;
  kata_shim_spec_t spec = { .root = root, .sandbox_id = sid, .container_id = cid, .exec_id = eid,
                            .stream = stream, .log_path = kata_log_path (), .debug = kata_log_debug_enabled () };
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
  const char *applets[] = { "sh", "echo", "cat", "sleep", "ls", "true", "false", "id", "hostname", NULL };
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
  return xasprintf ("{\"container_id\":\"%s\",\"storages\":[],\"sandbox_pidns\":false,\"oci\":{"
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
  return (uint32_t) kata_json_int (res, "stream", 0);
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
  (void) shim2;

  /* stdin through a pipe */
  int in[2];
  if (pipe (in) < 0)
    abort ();
  rv = call (c, "ExecProcess",
             "{\"container_id\":\"c2\",\"exec_id\":\"e1\",\"process\":{\"args\":[\"/bin/cat\"],\"env\":[\"PATH=/bin\"],"
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
             "{\"container_id\":\"c2\",\"exec_id\":\"e2\",\"process\":{\"args\":[\"/bin/sleep\",\"100\"],\"env\":[\"PATH=/bin\"],"
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
}

static bool
gone (const kata_monitor_info_t *info, int timeout_ms)
{
  uint64_t t0 = kata_now_ns ();
  while (ms_since (t0) < timeout_ms)
    {
      waitpid (info->monitor_pid, NULL, WNOHANG);
      if (!kata_proc_alive (info->monitor_pid, info->monitor_start) && !kata_proc_alive (info->qemu_pid, info->qemu_start)
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
  bool debug = false;

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
#define OPT(name, field)                                                                                               \
  if (strcmp (argv[i], name) == 0 && i + 1 < argc)                                                                     \
    {                                                                                                                  \
      free (cfg->hypervisor.field);                                                                                    \
      cfg->hypervisor.field = xstrdup (argv[++i]);                                                                     \
      continue;                                                                                                        \
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
    }
  snprintf (root, sizeof root, "/tmp/vm-smoke-%d", (int) getpid ());
  cleanup_free char *logp = xasprintf ("%s.log", root);
  kata_log_init (logp, "text", debug);
  cfg->hypervisor.boot_timeout = 60;
  printf ("root %s, log %s, kernel %s, initrd %s, machine %s, shared_fs %s\n", root, logp, cfg->hypervisor.kernel,
          cfg->hypervisor.initrd, cfg->hypervisor.machine_type, cfg->hypervisor.shared_fs);

  /* 1. boot, talk, containers, then kill -9 QEMU */
  if (start ("smoke1", &info) < 0)
    return 1;
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
  CHECK (rv && kata_json_int (res, "qemu_pid", 0) == info.qemu_pid, "MonitorInfo names QEMU pid %d", info.qemu_pid);
  yajl_tree_free (rv);
  if (containers)
    run_containers (c, "smoke1");
  {
    int out, errfd, nul = open ("/dev/null", O_RDONLY);
    pid_t shim = -1;
    uint32_t s = 0;
    if (containers)
      {
        rv = call (c, "ExecProcess",
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
  if (!keep)
    {
      cleanup_free char *cmd = xasprintf ("rm -rf %s", root);
      if (system (cmd) != 0)
        fprintf (stderr, "cleanup failed\n");
    }
  printf ("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
