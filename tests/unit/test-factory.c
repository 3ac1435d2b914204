/* The VM factory (src/runtime/factory.c) without a VM: init/status/destroy over fake
   templates (files in a temporary directory) and the cache client against a fake cache
   daemon (a forked child on a unix socket). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/error.h"
#include "common/utils.h"
#include "runtime/config.h"
#include "runtime/factory.h"
#include "runtime/hypervisor.h"
#include "runtime/monitor.h"

typedef struct
{
  char dir[64];
  char *tpl;      /* <dir>/template */
  char *endpoint; /* <dir>/cache.sock */
  kata_config_t *cfg;
} fixture_t;

static int
setup (void **state)
{
  fixture_t *f = xmalloc0 (sizeof *f);
  strcpy (f->dir, "/tmp/kata-factory-XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  f->tpl = xasprintf ("%s/template", f->dir);
  f->endpoint = xasprintf ("%s/cache.sock", f->dir);
  f->cfg = kata_config_default ();
  free (f->cfg->factory.template_path);
  f->cfg->factory.template_path = xstrdup (f->tpl);
  free (f->cfg->factory.vm_cache_endpoint);
  f->cfg->factory.vm_cache_endpoint = xstrdup (f->endpoint);
  f->cfg->factory.enable_template = false;
  f->cfg->factory.vm_cache_number = 0;
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  fixture_t *f = *state;
  kata_rm_rf (f->dir, NULL);
  kata_config_free (f->cfg);
  free (f->tpl);
  free (f->endpoint);
  free (f);
  return 0;
}

static void
write_file (const char *path, const char *data, off_t size)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  if (data)
    assert_int_equal (write (fd, data, strlen (data)), (ssize_t)strlen (data));
  if (size > 0)
    assert_int_equal (ftruncate (fd, size), 0); /* sparse: no disk used */
  close (fd);
}

/* A complete template as qemu.c leaves it: memory, state and template.json. */
static void
make_template (const fixture_t *f, off_t mem_size, const char *meta)
{
  cleanup_free char *mem = xasprintf ("%s/memory", f->tpl);
  cleanup_free char *st = xasprintf ("%s/state", f->tpl);
  cleanup_free char *json = xasprintf ("%s/template.json", f->tpl);
  assert_int_equal (kata_mkdir_p (f->tpl, 0700, NULL), 0);
  write_file (mem, NULL, mem_size);
  write_file (st, "0123456789", 0);
  if (meta)
    write_file (json, meta, 0);
}

/* A template made for another guest is not cloned: kata_vm_template_mismatch names the
   first key of template.json that differs from the configuration. */
static void
test_template_mismatch (void **state)
{
  fixture_t *f = *state;
  cleanup_free char *why = NULL;
  const char *cmdline
      = "{\"machine_type\":\"q35\",\"kernel_params\":\"console=ttyS0 quiet panic=-1 no_timer_check "
        "agent.warm=1\"}";

  free (f->cfg->hypervisor.machine_type);
  f->cfg->hypervisor.machine_type = xstrdup ("q35");
  free (f->cfg->hypervisor.kernel_params);
  f->cfg->hypervisor.kernel_params = xstrdup ("");
  f->cfg->hypervisor.enable_debug = false;
  f->cfg->agent.debug = false;
  make_template (f, 4096, cmdline);
  assert_null (kata_vm_template_mismatch (f->cfg));

  /* what the configuration adds to the kernel command line */
  f->cfg->agent.debug = true;
  why = kata_vm_template_mismatch (f->cfg);
  assert_string_equal (
      why, "kernel_params `console=ttyS0 quiet panic=-1 no_timer_check agent.warm=1`, not `console=ttyS0 "
           "quiet panic=-1 no_timer_check agent.debug=1 agent.warm=1`");
  free (why);
  f->cfg->agent.debug = false;
  free (f->cfg->hypervisor.kernel_params);
  f->cfg->hypervisor.kernel_params = xstrdup ("foo=1");
  why = kata_vm_template_mismatch (f->cfg);
  assert_non_null (strstr (why, "not `console=ttyS0 quiet panic=-1 no_timer_check agent.warm=1 foo=1`"));
  free (why);

  /* another machine; keys a template of an older runtime does not record are not checked */
  make_template (f, 4096, "{\"vcpus\":1,\"memory_mb\":256,\"machine_type\":\"microvm\"}");
  why = kata_vm_template_mismatch (f->cfg);
  assert_string_equal (why, "machine_type `microvm`, not `q35`");
  free (why);
  why = NULL;
  make_template (f, 4096, "{\"vcpus\":1,\"memory_mb\":256}");
  assert_null (kata_vm_template_mismatch (f->cfg));
  make_template (f, 4096, "{\"initrd_or_image\":\"initrd /other/initrd.img\"}");
  why = kata_vm_template_mismatch (f->cfg);
  assert_non_null (strstr (why, "initrd_or_image `initrd /other/initrd.img`, not `"));
}

/* Listens on PATH; a child accepts N connections, reads each request up to a newline or
   EOF and answers REPLIES[i].  The child exits 0 when every request equalled EXPECT[i]
   (NULL: anything).  Returns the child's pid. */
static pid_t
fake_server (const char *path, int n, const char *const *expect, const char *const *replies)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  pid_t pid;
  assert_true (lfd >= 0);
  assert_true (strlen (path) < sizeof addr.sun_path);
  strcpy (addr.sun_path, path);
  assert_int_equal (bind (lfd, (struct sockaddr *)&addr, sizeof addr), 0);
  assert_int_equal (listen (lfd, 4), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      int bad = 0;
      alarm (20);
      for (int i = 0; i < n; i++)
        {
          char buf[4096];
          size_t len = 0;
          int fd = accept (lfd, NULL, NULL);
          if (fd < 0)
            _exit (3);
          while (len < sizeof buf - 1)
            {
              ssize_t r = read (fd, buf + len, sizeof buf - 1 - len);
              if (r <= 0)
                break;
              len += r;
              if (memchr (buf, '\n', len))
                break;
            }
          buf[len] = '\0';
          if (expect[i] && strcmp (buf, expect[i]) != 0)
            bad = 1;
          if (kata_write_all (fd, replies[i], strlen (replies[i])) < 0)
            bad = 1;
          close (fd);
        }
      _exit (bad);
    }
  close (lfd);
  return pid;
}

static void
assert_prefix (const char *s, const char *prefix)
{
  if (strncmp (s, prefix, strlen (prefix)) != 0)
    fail_msg ("got:\n%s\nwanted it to start with:\n%s", s, prefix);
}

static void
assert_child_ok (pid_t pid)
{
  int st = 0;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  assert_true (WIFEXITED (st));
  assert_int_equal (WEXITSTATUS (st), 0);
}

/* ---- init ---- */

static void
test_init_not_enabled (void **state)
{
  fixture_t *f = *state;
  cleanup_free char *out = NULL;
  kata_error_t *err = NULL;
  assert_int_equal (kata_factory_init (f->cfg, &out, &err), 0);
  assert_string_equal (out, "vm factory not enabled\n");
  assert_null (err);
}

static void
test_init_template_exists (void **state)
{
  fixture_t *f = *state;
  cleanup_free char *out = NULL;
  cleanup_free char *want = NULL;
  kata_error_t *err = NULL;
  f->cfg->factory.enable_template = true;
  make_template (f, 4096, "{\"vcpus\":2,\"memory_mb\":512}");
  /* an existing template is kept: no VM is booted */
  assert_int_equal (kata_factory_init (f->cfg, &out, &err), 0);
  want = xasprintf ("vm template already exists in %s (2 vCPUs, 512 MiB)\nvm factory initialized\n", f->tpl);
  assert_string_equal (out, want);
}

/* ---- status ---- */

static void
test_status_nothing (void **state)
{
  fixture_t *f = *state;
  cleanup_free char *out = NULL;
  cleanup_free char *want = NULL;
  assert_int_equal (kata_factory_status (f->cfg, &out, NULL), 0);
  want = xasprintf ("vm factory not enabled\ntemplate: none in %s\ncache: off (vm_cache_number = 0)\n",
                    f->tpl);
  assert_string_equal (out, want);
}

static void
test_status_template (void **state)
{
  fixture_t *f = *state;
  static const struct
  {
    off_t size;
    const char *shown;
  } sizes[] = { { 512, "512 B" }, { 2048, "2.0 KiB" }, { 3 << 20, "3.0 MiB" }, { 2LL << 30, "2.0 GiB" } };

  f->cfg->factory.enable_template = true;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    {
      cleanup_free char *out = NULL;
      cleanup_free char *head = NULL;
      make_template (f, sizes[i].size, "{\"vcpus\":2,\"memory_mb\":512}");
      assert_int_equal (kata_factory_status (f->cfg, &out, NULL), 0);
      head = xasprintf ("vm factory is on\ntemplate: %s: 2 vCPUs, 512 MiB; memory file %s (", f->tpl,
                        sizes[i].shown);
      assert_prefix (out, head);
      assert_non_null (strstr (out, " in use), device state 10 B\ncache: off (vm_cache_number = 0)\n"));
    }
}

/* A template that enable_template does not use still counts as "on". */
static void
test_status_template_unused (void **state)
{
  fixture_t *f = *state;
  cleanup_free char *out = NULL;
  make_template (f, 4096, "{}"); /* no sizes in the metadata: 1 vCPU, 256 MiB */
  assert_int_equal (kata_factory_status (f->cfg, &out, NULL), 0);
  assert_non_null (strstr (out, "vm factory is on\n"));
  assert_non_null (strstr (out, ": 1 vCPUs, 256 MiB; "));
  assert_non_null (strstr (out, "device state 10 B (not used: enable_template is false)\n"));
}

/* Without template.json the template is not complete: sandboxes boot cold. */
static void
test_status_template_incomplete (void **state)
{
  fixture_t *f = *state;
  cleanup_free char *out = NULL;
  cleanup_free char *want = NULL;
  f->cfg->factory.enable_template = true;
  make_template (f, 4096, NULL);
  assert_int_equal (kata_factory_status (f->cfg, &out, NULL), 0);
  want = xasprintf ("vm factory is off\ntemplate: none in %s (sandboxes boot cold)\n"
                    "cache: off (vm_cache_number = 0)\n",
                    f->tpl);
  assert_string_equal (out, want);
}

static void
test_status_cache_not_running (void **state)
{
  fixture_t *f = *state;
  cleanup_free char *out = NULL;
  cleanup_free char *want = NULL;
  cleanup_free char *cdir = xasprintf ("%s.d", f->endpoint);
  cleanup_free char *pidfile = xasprintf ("%s/daemon.pid", cdir);
  f->cfg->factory.vm_cache_number = 2;
  /* a pid file whose process is gone (wrong start time) is not a daemon */
  assert_int_equal (kata_mkdir_p (cdir, 0700, NULL), 0);
  {
    cleanup_free char *line = xasprintf ("%d %llu\n", (int)getpid (), kata_proc_start_time (getpid ()) + 1);
    write_file (pidfile, line, 0);
  }
  assert_int_equal (kata_factory_status (f->cfg, &out, NULL), 0);
  want = xasprintf (
      "vm factory is off\ntemplate: none in %s\ncache: not running (vm_cache_number = 2, endpoint %s)\n",
      f->tpl, f->endpoint);
  assert_string_equal (out, want);
}

static void
test_status_cache_running (void **state)
{
  fixture_t *f = *state;
  cleanup_free char *out = NULL;
  cleanup_free char *want = NULL;
  cleanup_free char *cdir = xasprintf ("%s.d", f->endpoint);
  cleanup_free char *pidfile = xasprintf ("%s/daemon.pid", cdir);
  cleanup_free char *line = xasprintf ("%d %llu\n", (int)getpid (), kata_proc_start_time (getpid ()));
  cleanup_free char *reply = xasprintf ("vm0 ready %d\nvm1 starting 0\nend\n", (int)getpid ());
  const char *expect[] = { "status\n" };
  const char *replies[] = { reply };
  pid_t srv;

  f->cfg->factory.vm_cache_number = 2;
  assert_int_equal (kata_mkdir_p (cdir, 0700, NULL), 0);
  write_file (pidfile, line, 0); /* the "daemon" is this process */
  srv = fake_server (f->endpoint, 1, expect, replies);
  assert_int_equal (kata_factory_status (f->cfg, &out, NULL), 0);
  assert_child_ok (srv);
  want = xasprintf (
      "vm factory is on\ntemplate: none in %s\ncache: 1 of 2 VMs ready (1 starting) at %s, daemon pid %d\n"
      "  vm0: ready, QEMU pid %d, RSS ",
      f->tpl, f->endpoint, (int)getpid (), (int)getpid ());
  assert_prefix (out, want);
  assert_non_null (strstr (out, "\n  vm1: starting\n"));
}

/* ---- destroy ---- */

static void
test_destroy (void **state)
{
  fixture_t *f = *state;
  cleanup_free char *cdir = xasprintf ("%s.d", f->endpoint);
  cleanup_free char *vmdir = xasprintf ("%s/vm/vm0", cdir);
  cleanup_free char *pidfile = xasprintf ("%s/daemon.pid", cdir);

  make_template (f, 4096, "{}");
  assert_int_equal (kata_mkdir_p (vmdir, 0700, NULL), 0);
  write_file (pidfile, "999999999 1\n", 0); /* no such process: nothing is killed */
  write_file (f->endpoint, "", 0);
  for (int i = 0; i < 2; i++) /* idempotent */
    {
      cleanup_free char *out = NULL;
      kata_error_t *err = NULL;
      assert_int_equal (kata_factory_destroy (f->cfg, &out, &err), 0);
      assert_string_equal (out, "vm factory destroyed\n");
      assert_int_equal (access (f->tpl, F_OK), -1);
      assert_int_equal (access (cdir, F_OK), -1);
      assert_int_equal (access (f->endpoint, F_OK), -1);
    }
}

/* ---- claiming a VM from the cache ---- */

static void
test_claim_no_cache (void **state)
{
  fixture_t *f = *state;
  kata_monitor_info_t info = { 0 };
  kata_error_t *err = NULL;
  f->cfg->factory.vm_cache_number = 1;
  assert_int_equal (kata_vmcache_claim (f->cfg, "{}", &info, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->status, ENOENT);
  assert_non_null (strstr (err->msg, f->endpoint));
  kata_error_free (err);
}

static void
test_claim_none_ready (void **state)
{
  fixture_t *f = *state;
  kata_monitor_info_t info = { 0 };
  kata_error_t *err = NULL;
  const char *expect[] = { "get\n" };
  const char *replies[] = { "none\n" };
  pid_t srv = fake_server (f->endpoint, 1, expect, replies);
  assert_int_equal (kata_vmcache_claim (f->cfg, "{}", &info, &err), -1);
  assert_child_ok (srv);
  assert_int_equal (err->status, EAGAIN);
  assert_string_equal (err->msg, "the VM cache has no VM ready (none)");
  kata_error_free (err);
}

static void
test_claim (void **state)
{
  fixture_t *f = *state;
  kata_monitor_info_t info = { 0 };
  kata_error_t *err = NULL;
  cleanup_free char *vm_sock = xasprintf ("%s/vm0.claim", f->dir);
  cleanup_free char *get_reply = xasprintf ("vm %s 123 456\n", vm_sock);
  const char *args = "{\"root\":\"/run/vc\",\"sandbox_id\":\"s1\"}";
  const char *expect1[] = { "get\n" }, *replies1[] = { get_reply };
  const char *expect2[] = { args }, *replies2[] = { "ok 11 12 13 14\n" };
  pid_t cache = fake_server (f->endpoint, 1, expect1, replies1);
  pid_t vm = fake_server (vm_sock, 1, expect2, replies2);

  assert_int_equal (kata_vmcache_claim (f->cfg, args, &info, &err), 0);
  assert_null (err);
  assert_child_ok (cache);
  assert_child_ok (vm); /* it got the sandbox's arguments */
  assert_int_equal (info.monitor_pid, 123);
  assert_int_equal (info.monitor_start, 456);
  assert_int_equal (info.qemu_pid, 11);
  assert_int_equal (info.qemu_start, 12);
  assert_int_equal (info.virtiofsd_pid, 13);
  assert_int_equal (info.virtiofsd_start, 14);
}

static void
test_claim_refused (void **state)
{
  fixture_t *f = *state;
  kata_monitor_info_t info = { 0 };
  kata_error_t *err = NULL;
  cleanup_free char *vm_sock = xasprintf ("%s/vm0.claim", f->dir);
  cleanup_free char *get_reply = xasprintf ("vm %s 123 456\n", vm_sock);
  const char *expect[] = { NULL };
  const char *replies1[] = { get_reply }, *replies2[] = { "busy\nmore\n" };
  pid_t cache = fake_server (f->endpoint, 1, expect, replies1);
  pid_t vm = fake_server (vm_sock, 1, expect, replies2);

  assert_int_equal (kata_vmcache_claim (f->cfg, "{}", &info, &err), -1);
  assert_child_ok (cache);
  assert_child_ok (vm);
  assert_int_equal (err->status, KATA_EVMDEAD);
  assert_string_equal (err->msg, "the cached VM refused the sandbox: busy");
  assert_int_equal (info.monitor_pid, 0); /* untouched */
  kata_error_free (err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_init_not_enabled, setup, teardown),
    cmocka_unit_test_setup_teardown (test_init_template_exists, setup, teardown),
    cmocka_unit_test_setup_teardown (test_status_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_status_template, setup, teardown),
    cmocka_unit_test_setup_teardown (test_status_template_unused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_status_template_incomplete, setup, teardown),
    cmocka_unit_test_setup_teardown (test_template_mismatch, setup, teardown),
    cmocka_unit_test_setup_teardown (test_status_cache_not_running, setup, teardown),
    cmocka_unit_test_setup_teardown (test_status_cache_running, setup, teardown),
    cmocka_unit_test_setup_teardown (test_destroy, setup, teardown),
    cmocka_unit_test_setup_teardown (test_claim_no_cache, setup, teardown),
    cmocka_unit_test_setup_teardown (test_claim_none_ready, setup, teardown),
    cmocka_unit_test_setup_teardown (test_claim, setup, teardown),
    cmocka_unit_test_setup_teardown (test_claim_refused, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
