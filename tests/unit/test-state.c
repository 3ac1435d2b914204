/* The state store: serialisation, atomic writes, locking, pid reuse, mapping;
   and the pure decisions of the lifecycle (sandbox or container, VM sizing). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common/utils.h"
#include "runtime/lifecycle.h"
#include "runtime/state.h"
#include "runtime/hooks.h"

static char *
make_root (void)
{
  char tmpl[] = "/tmp/kata-test-state.XXXXXX";
  char *d = mkdtemp (tmpl);
  assert_non_null (d);
  return xstrdup (d);
}

static void
rm_root (char *root)
{
  kata_rm_rf (root, NULL);
  free (root);
}

static kata_container_state_t *
sample (const char *sid, const char *cid)
{
  kata_container_state_t *c = xmalloc0 (sizeof *c);
  c->version = KATA_STATE_VERSION;
  c->id = xstrdup (cid);
  c->sandbox_id = xstrdup (sid);
  c->oci_version = xstrdup ("1.0.2");
  c->status = xstrdup ("created");
  c->bundle = xstrdup ("/b");
  c->rootfs = xstrdup ("/b/rootfs");
  c->created = xstrdup ("2024-01-01T00:00:00.000000000Z");
  c->owner = xstrdup ("");
  c->ann_len = 1;
  c->ann_keys = xmalloc0 (sizeof (char *));
  c->ann_values = xmalloc0 (sizeof (char *));
  c->ann_keys[0] = xstrdup ("k\"ey");
  c->ann_values[0] = xstrdup ("v/al");
  c->shim_pid = 1234;
  c->shim_start = 987654321ULL;
  c->stream = 8;
  c->terminal = true;
  kata_container_state_add_mount (c, "/r/shared/s/c/rootfs");
  kata_exec_state_t *x = kata_container_state_add_exec (c, "abcd");
  x->shim_pid = 55;
  x->shim_start = 66;
  c->process_json = xstrdup ("{\"args\":[\"sh\"],\"cwd\":\"/\"}");
  return c;
}

static void
test_roundtrip (void **state)
{
  (void)state;
  kata_container_state_t *c = sample ("s", "c"), *d = NULL;
  char *j = kata_container_state_to_json (c);
  assert_int_equal (kata_container_state_from_json (j, strlen (j), &d, NULL), 0);
  assert_string_equal (d->id, "c");
  assert_string_equal (d->sandbox_id, "s");
  assert_string_equal (d->status, "created");
  assert_string_equal (d->ann_keys[0], "k\"ey");
  assert_string_equal (d->ann_values[0], "v/al");
  assert_int_equal (d->shim_pid, 1234);
  assert_true (d->shim_start == 987654321ULL);
  assert_int_equal (d->stream, 8);
  assert_true (d->terminal);
  assert_int_equal (d->mounts_len, 1);
  assert_int_equal (d->execs_len, 1);
  assert_string_equal (d->execs[0].exec_id, "abcd");
  assert_true (d->execs[0].shim_start == 66);
  assert_non_null (strstr (d->process_json, "\"sh\""));
  assert_non_null (strstr (j, "\"version\":1"));
  free (j);
  kata_container_state_free (c);
  kata_container_state_free (d);

  /* Wrong version and garbage are errors, not crashes. */
  kata_error_t *err = NULL;
  assert_int_equal (
      kata_container_state_from_json ("{\"version\":2,\"id\":\"a\",\"sandbox_id\":\"a\"}", 41, &d, &err), -1);
  kata_error_free (err);
  err = NULL;
  assert_int_equal (kata_container_state_from_json ("{\"version\":1,\"id\"", 17, &d, &err), -1);
  kata_error_free (err);

  kata_sandbox_state_t sb = { .id = "s", .vcpus = 2, .memory_mb = 512 }, *sb2 = NULL;
  sb.info.qemu_pid = 77;
  sb.info.qemu_start = 1ULL << 40;
  kata_sandbox_state_add_container (&sb, "s");
  kata_sandbox_state_add_container (&sb, "c2");
  kata_sandbox_state_add_container (&sb, "c2");
  assert_int_equal (sb.containers_len, 2);
  j = kata_sandbox_state_to_json (&sb);
  assert_int_equal (kata_sandbox_state_from_json (j, strlen (j), &sb2, NULL), 0);
  assert_int_equal (sb2->info.qemu_pid, 77);
  assert_true (sb2->info.qemu_start == 1ULL << 40);
  assert_int_equal (sb2->containers_len, 2);
  assert_int_equal (sb2->memory_mb, 512);
  kata_sandbox_state_remove_container (sb2, "s");
  assert_int_equal (sb2->containers_len, 1);
  assert_string_equal (sb2->containers[0], "c2");
  free (j);
  kata_strvn_free (sb.containers, sb.containers_len);
  kata_sandbox_state_free (sb2);
}

static void
test_save_load_modes (void **state)
{
  (void)state;
  char *root = make_root ();
  char *sbs = kata_state_sandbox_dir (root, "s");
  kata_container_state_t *c = sample ("s", "c"), *d = NULL;
  kata_error_t *err = NULL;
  struct stat st;
  char *p;

  assert_int_equal (kata_mkdir_p (sbs, 0700, NULL), 0);
  assert_int_equal (kata_container_state_load (root, "s", "c", &d, &err), -1);
  assert_int_equal (err->status, KATA_ENOTFOUND);
  kata_error_free (err);
  assert_int_equal (kata_container_state_save (root, c, NULL), 0);
  p = xasprintf ("%s/c/container.json", sbs);
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  free (p);
  p = xasprintf ("%s/c", sbs);
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0700);
  free (p);
  assert_int_equal (kata_container_state_load (root, "s", "c", &d, NULL), 0);
  assert_string_equal (d->bundle, "/b");
  kata_container_state_free (d);
  kata_container_state_free (c);
  free (sbs);
  rm_root (root);
}

/* A writer killed at any point leaves either the old or the new file, never a torn one. */
static void
test_atomic_crash (void **state)
{
  (void)state;
  char *root = make_root ();
  char *sbs = kata_state_sandbox_dir (root, "s");
  kata_container_state_t *c = sample ("s", "c");
  int round;

  assert_int_equal (kata_mkdir_p (sbs, 0700, NULL), 0);
  assert_int_equal (kata_container_state_save (root, c, NULL), 0);
  for (round = 0; round < 20; round++)
    {
      pid_t pid = fork ();
      assert_true (pid >= 0);
      if (pid == 0)
        {
          kata_container_state_t *big = sample ("s", "c");
          int i;
          free (big->bundle);
          big->bundle = xmalloc (200000);
          memset (big->bundle, 'x', 199999);
          big->bundle[199999] = '\0';
          for (i = 0;; i++)
            {
              free (big->status);
              big->status = xstrdup (i % 2 ? "running" : "created");
              kata_container_state_save (root, big, NULL);
            }
        }
      struct timespec ts = { 0, (round % 5 + 1) * 1000 * 1000 };
      nanosleep (&ts, NULL);
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      kata_container_state_t *d = NULL;
      kata_error_t *err = NULL;
      int r = kata_container_state_load (root, "s", "c", &d, &err);
      if (r < 0)
        fail_msg ("torn state after a crash: %s", err->msg);
      assert_true (strcmp (d->status, "created") == 0 || strcmp (d->status, "running") == 0);
      kata_container_state_free (d);
    }
  /* A crash between the temp write and the rename: the temp file is ignored. */
  {
    char *tmp = xasprintf ("%s/c/container.json.tmp.99999", sbs);
    FILE *f = fopen (tmp, "w");
    kata_container_state_t *d = NULL;
    fputs ("{\"version\":1,\"id\":", f);
    fclose (f);
    assert_int_equal (kata_container_state_load (root, "s", "c", &d, NULL), 0);
    kata_container_state_free (d);
    free (tmp);
  }
  kata_container_state_free (c);
  free (sbs);
  rm_root (root);
}

static void
test_lock_between_processes (void **state)
{
  (void)state;
  char *root = make_root ();
  char *sbs = kata_state_sandbox_dir (root, "s");
  int p[2], fd = -1;
  char b;
  uint64_t t0, waited;
  pid_t pid;
  kata_error_t *err = NULL;

  assert_int_equal (kata_state_lock (root, "nosuch", &fd, &err), -1);
  assert_int_equal (err->status, KATA_ENOTFOUND);
  kata_error_free (err);
  assert_int_equal (kata_mkdir_p (sbs, 0700, NULL), 0);
  assert_int_equal (pipe (p), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      int lfd = -1;
      if (kata_state_lock (root, "s", &lfd, NULL) < 0)
        _exit (1);
      if (write (p[1], "x", 1) != 1)
        _exit (1);
      usleep (400 * 1000);
      _exit (0);
    }
  assert_int_equal (read (p[0], &b, 1), 1);
  t0 = kata_now_ns ();
  assert_int_equal (kata_state_lock (root, "s", &fd, NULL), 0);
  waited = (kata_now_ns () - t0) / 1000000;
  assert_true (waited >= 250);
  close (fd);
  waitpid (pid, NULL, 0);
  close (p[0]);
  close (p[1]);
  free (sbs);
  rm_root (root);
}

static void
test_pid_reuse (void **state)
{
  (void)state;
  pid_t self = getpid ();
  unsigned long long st = kata_proc_start_time (self);
  kata_container_state_t *c = sample ("s", "c");

  assert_true (st > 0);
  assert_true (kata_state_pid_alive (self, st));
  assert_false (kata_state_pid_alive (self, st + 1));
  assert_false (kata_state_pid_alive (0, 0));
  assert_false (kata_state_pid_alive (-1, 0));

  free (c->status);
  c->status = xstrdup ("running");
  c->shim_pid = self;
  c->shim_start = st + 12345; /* our pid, someone else's start time */
  assert_string_equal (kata_status_name (kata_container_state_status (c, NULL)), "stopped");
  c->shim_start = st;
  assert_string_equal (kata_status_name (kata_container_state_status (c, NULL)), "running");
  free (c->status);
  c->status = xstrdup ("stopped");
  assert_string_equal (kata_status_name (kata_container_state_status (c, NULL)), "stopped");
  kata_container_state_free (c);

  /* A zombie is not alive. */
  pid_t z = fork ();
  if (z == 0)
    _exit (0);
  usleep (100 * 1000);
  assert_false (kata_state_pid_alive (z, 0));
  waitpid (z, NULL, 0);
}

static void
test_mapping (void **state)
{
  (void)state;
  char *root = make_root ();
  kata_error_t *err = NULL;
  char *sid = NULL, **ids = NULL;
  size_t n = 0;

  assert_int_equal (kata_mapping_lookup (root, "c1", &sid, &err), -1);
  assert_int_equal (err->status, KATA_ENOTFOUND);
  assert_non_null (strstr (err->msg, "does not exist"));
  kata_error_free (err);
  err = NULL;
  assert_int_equal (kata_mapping_claim (root, "c1", "s1", NULL), 0);
  assert_int_equal (kata_mapping_claim (root, "c1", "s1", &err), -1);
  assert_int_equal (err->status, KATA_EEXIST_ID);
  assert_string_equal (err->msg, "container with id exists: c1");
  kata_error_free (err);
  assert_int_equal (kata_mapping_claim (root, "b0", "s1", NULL), 0);
  assert_int_equal (kata_mapping_lookup (root, "c1", &sid, NULL), 0);
  assert_string_equal (sid, "s1");
  free (sid);
  assert_int_equal (kata_mapping_list (root, &ids, &n, NULL), 0);
  assert_int_equal (n, 2);
  assert_string_equal (ids[0], "b0");
  assert_string_equal (ids[1], "c1");
  kata_strvn_free (ids, n);
  kata_mapping_remove (root, "c1");
  assert_int_equal (kata_mapping_lookup (root, "c1", &sid, NULL), -1);
  rm_root (root);
}

/* Two writers whose copies of sandbox.json were loaded before they locked: neither
   loses the other's change to the container list. */
static void
test_sandbox_save_merges (void **state)
{
  (void)state;
  char *root = make_root ();
  char *sbs = xasprintf ("%s/sbs/s1", root);
  kata_sandbox_state_t sb = { .version = KATA_STATE_VERSION, .id = (char *)"s1" };
  kata_sandbox_state_t *a = NULL, *b = NULL, *r = NULL;

  assert_int_equal (kata_state_mkdir (sbs, true), 0);
  kata_sandbox_state_add_container (&sb, "s1");
  kata_sandbox_state_add_container (&sb, "p1");
  assert_int_equal (kata_sandbox_state_save (root, &sb, NULL), 0);
  assert_int_equal (kata_sandbox_state_load (root, "s1", &a, NULL), 0);
  assert_int_equal (kata_sandbox_state_load (root, "s1", &b, NULL), 0);
  kata_sandbox_state_remove_container (a, "p1");
  assert_int_equal (kata_sandbox_state_save (root, a, NULL), 0);
  kata_sandbox_state_add_container (b, "p2");
  assert_int_equal (kata_sandbox_state_save (root, b, NULL), 0);
  assert_int_equal (kata_sandbox_state_load (root, "s1", &r, NULL), 0);
  assert_int_equal (r->containers_len, 2);
  assert_string_equal (r->containers[0], "s1");
  assert_string_equal (r->containers[1], "p2");
  kata_sandbox_state_free (a);
  kata_sandbox_state_free (b);
  kata_sandbox_state_free (r);
  kata_strvn_free (sb.containers, sb.containers_len);
  free (sbs);
  rm_root (root);
}

/* Saved before its shim exists: "creating" while the saver lives, "stopped" after. */
static void
test_creating_status (void **state)
{
  (void)state;
  char *root = make_root ();
  char *sbs = xasprintf ("%s/sbs/s1", root);
  kata_container_state_t c = {
    .version = KATA_STATE_VERSION, .id = (char *)"c1", .sandbox_id = (char *)"s1", .status = (char *)"created"
  };
  kata_container_state_t *l = NULL;
  pid_t child;
  int st;

  assert_int_equal (kata_state_mkdir (sbs, true), 0);
  assert_int_equal (kata_container_state_save (root, &c, NULL), 0);
  assert_int_equal (kata_container_state_load (root, "s1", "c1", &l, NULL), 0);
  assert_int_equal (l->creator_pid, getpid ());
  assert_string_equal (kata_status_name (kata_container_state_status (l, NULL)), "creating");
  kata_container_state_free (l);
  l = NULL;
  /* saved by a process that is gone: a crashed create */
  child = fork ();
  if (child == 0)
    _exit (kata_container_state_save (root, &c, NULL) == 0 ? 0 : 1);
  assert_int_equal (waitpid (child, &st, 0), child);
  assert_int_equal (WEXITSTATUS (st), 0);
  assert_int_equal (kata_container_state_load (root, "s1", "c1", &l, NULL), 0);
  assert_int_equal (l->creator_pid, child);
  assert_string_equal (kata_status_name (kata_container_state_status (l, NULL)), "stopped");
  kata_container_state_free (l);
  free (sbs);
  rm_root (root);
}

/* The per-kind dirs go with their last entry; the mapping records its creator. */
static void
test_prune_and_creator (void **state)
{
  (void)state;
  char *root = make_root ();
  char *p = NULL;
  struct stat st;

  assert_int_equal (kata_mapping_claim (root, "c1", "s1", NULL), 0);
  assert_true (kata_mapping_creator_alive (root, "c1", "s1"));
  assert_int_equal (kata_mapping_claim (root, "c2", "s1", NULL), 0);
  kata_mapping_remove (root, "c1");
  p = xasprintf ("%s/mapping", root);
  assert_int_equal (stat (p, &st), 0);
  kata_mapping_remove (root, "c2");
  assert_int_equal (stat (p, &st), -1);
  free (p);
  /* made again when a concurrent delete removed the parent */
  p = xasprintf ("%s/vm/s1", root);
  assert_int_equal (kata_state_mkdir (p, true), 0);
  assert_int_equal (kata_state_mkdir (p, true), -1);
  assert_int_equal (errno, EEXIST);
  assert_int_equal (rmdir (p), 0);
  kata_state_prune (root);
  assert_int_equal (kata_state_mkdir (p, false), 0);
  assert_int_equal (rmdir (p), 0);
  free (p);
  rm_root (root);
}

static void
test_sandbox_decide (void **state)
{
  (void)state;
  struct
  {
    const char *k1, *v1, *k2, *v2;
    int ret;
    kata_pod_role_t role;
    const char *sid;
    bool pod; /* kata_sandbox_is_pod: a CRI pod's sandbox container */
  } t[] = {
    { NULL, NULL, NULL, NULL, 0, KATA_ROLE_SANDBOX, NULL, false },
    { "io.kubernetes.cri.container-type", "sandbox", NULL, NULL, 0, KATA_ROLE_SANDBOX, NULL, true },
    { "io.kubernetes.cri.container-type", "container", "io.kubernetes.cri.sandbox-id", "pod1", 0,
      KATA_ROLE_CONTAINER, "pod1", false },
    { "io.kubernetes.cri-o.ContainerType", "sandbox", NULL, NULL, 0, KATA_ROLE_SANDBOX, NULL, true },
    { "io.kubernetes.cri-o.ContainerType", "container", "io.kubernetes.cri-o.SandboxID", "p2", 0,
      KATA_ROLE_CONTAINER, "p2", false },
    { "io.kubernetes.docker.type", "podsandbox", NULL, NULL, 0, KATA_ROLE_SANDBOX, NULL, true },
    { "io.kubernetes.docker.type", "container", "io.kubernetes.sandbox.id", "p3", 0, KATA_ROLE_CONTAINER,
      "p3", false },
    { "io.kubernetes.cri.container-type", "container", NULL, NULL, -1, KATA_ROLE_SANDBOX, NULL, false },
    { "io.kubernetes.cri.container-type", "bogus", NULL, NULL, -1, KATA_ROLE_SANDBOX, NULL, false },
    { "unrelated", "container", NULL, NULL, 0, KATA_ROLE_SANDBOX, NULL, false },
  };
  size_t i;
  for (i = 0; i < sizeof t / sizeof t[0]; i++)
    {
      char *keys[2] = { (char *)t[i].k1, (char *)t[i].k2 };
      char *vals[2] = { (char *)t[i].v1, (char *)t[i].v2 };
      size_t n = t[i].k2 ? 2 : t[i].k1 ? 1 : 0;
      kata_pod_role_t role;
      const char *sid = NULL;
      kata_error_t *err = NULL;
      int r = kata_sandbox_decide (keys, vals, n, &role, &sid, &err);
      assert_int_equal (r, t[i].ret);
      assert_int_equal (kata_sandbox_is_pod (keys, vals, n), t[i].pod);
      if (r == 0)
        {
          assert_int_equal (role, t[i].role);
          if (t[i].sid)
            assert_string_equal (sid, t[i].sid);
          else
            assert_null (sid);
        }
      else
        {
          assert_int_equal (err->status, KATA_EBADCONFIG);
          kata_error_free (err);
        }
    }
}

static void
test_vm_sizing (void **state)
{
  (void)state;
  kata_config_t *cfg = kata_config_default ();
  int v, m;
  cfg->hypervisor.default_vcpus = 1;
  cfg->hypervisor.default_memory = 256;
  cfg->hypervisor.default_maxvcpus = 0;

  kata_sandbox_size (cfg, 0, 0, 0, 8, &v, &m);
  assert_int_equal (v, 1);
  assert_int_equal (m, 256);
  kata_sandbox_size (cfg, 512LL << 20, 150000, 100000, 8, &v, &m);
  assert_int_equal (v, 2); /* 1.5 CPUs round up */
  assert_int_equal (m, 512);
  kata_sandbox_size (cfg, (300LL << 20) + 1, 100000, 100000, 8, &v, &m);
  assert_int_equal (v, 1);
  assert_int_equal (m, 301); /* rounded up to the next MiB */
  kata_sandbox_size (cfg, 4 << 20, -1, 100000, 8, &v, &m);
  assert_int_equal (m, 128); /* at least 128 MiB */
  assert_int_equal (v, 1);
  kata_sandbox_size (cfg, -1, 1600000, 100000, 4, &v, &m);
  assert_int_equal (v, 4); /* capped by the host */
  assert_int_equal (m, 256);
  cfg->hypervisor.default_maxvcpus = 2;
  kata_sandbox_size (cfg, 0, 1600000, 100000, 0, &v, &m);
  assert_int_equal (v, 2);
  kata_config_free (cfg);
}

static void
test_hooks (void **state)
{
  (void)state;
  char *root = make_root ();
  char *out = xasprintf ("%s/out", root);
  char *script = xasprintf ("cat > %s; echo \"$X\" >> %s", out, out);
  char *args[] = { "sh", "-c", script };
  char *env[] = { "X=from-env", "PATH=/usr/bin:/bin" };
  runtime_spec_schema_defs_hook ok
      = { .path = "/bin/sh", .args = args, .args_len = 3, .env = env, .env_len = 2 };
  char *fargs[] = { "false" };
  runtime_spec_schema_defs_hook bad = { .path = "/bin/false", .args = fargs, .args_len = 1 };
  char *sargs[] = { "sleep", "10" };
  runtime_spec_schema_defs_hook slow
      = { .path = "/bin/sleep", .args = sargs, .args_len = 2, .timeout = 1, .timeout_present = true };
  runtime_spec_schema_defs_hook rel = { .path = "sh" };
  runtime_spec_schema_defs_hook *list1[] = { &ok };
  runtime_spec_schema_defs_hook *list2[] = { &ok, &bad };
  runtime_spec_schema_defs_hook *list3[] = { &slow };
  runtime_spec_schema_defs_hook *list4[] = { &rel };
  char *keys[] = { "a" }, *vals[] = { "b" };
  char *st = kata_hooks_state_json ("1.0.2", "c1", "creating", 42, "/b", keys, vals, 1);
  kata_error_t *err = NULL;
  char *data = NULL;
  size_t len = 0;
  uint64_t t0;

  assert_non_null (strstr (st, "\"pid\":42"));
  assert_non_null (strstr (st, "\"annotations\":{\"a\":\"b\"}"));
  assert_int_equal (kata_hooks_run ("prestart", list1, 1, st, NULL), 0);
  assert_int_equal (kata_read_file (out, &data, &len, 0, NULL), 0);
  assert_non_null (strstr (data, st));
  assert_non_null (strstr (data, "from-env"));
  free (data);

  assert_int_equal (kata_hooks_run ("prestart", list2, 2, st, &err), -1);
  assert_non_null (strstr (err->msg, "prestart hook `/bin/false` failed: exit status 1"));
  kata_error_free (err);
  err = NULL;

  t0 = kata_now_ns ();
  assert_int_equal (kata_hooks_run ("poststop", list3, 1, st, &err), -1);
  assert_int_equal (err->status, KATA_ETIMEOUT);
  assert_true ((kata_now_ns () - t0) / 1000000 < 5000);
  kata_error_free (err);
  err = NULL;

  assert_int_equal (kata_hooks_run ("poststart", list4, 1, st, &err), -1);
  kata_error_free (err);
  free (st);
  free (script);
  free (out);
  rm_root (root);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_roundtrip),           cmocka_unit_test (test_save_load_modes),
    cmocka_unit_test (test_atomic_crash),        cmocka_unit_test (test_lock_between_processes),
    cmocka_unit_test (test_pid_reuse),           cmocka_unit_test (test_mapping),
    cmocka_unit_test (test_sandbox_save_merges), cmocka_unit_test (test_creating_status),
    cmocka_unit_test (test_prune_and_creator),   cmocka_unit_test (test_sandbox_decide),
    cmocka_unit_test (test_vm_sizing),           cmocka_unit_test (test_hooks),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
