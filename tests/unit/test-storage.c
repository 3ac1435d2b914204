/* Shared-dir storage: the mount plan (pure) and the libmount binds (as root). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/utils.h"
#include "runtime/storage.h"

static int
fake_stat (const char *path, struct stat *st)
{
  memset (st, 0, sizeof *st);
  if (strstr (path, "missing"))
    {
      errno = ENOENT;
      return -1;
    }
  if (strncmp (path, "/dev/blk", 8) == 0)
    st->st_mode = S_IFBLK | 0660;
  else
    st->st_mode = strstr (path, ".conf") || strstr (path, "hosts") ? S_IFREG | 0644 : S_IFDIR | 0755;
  return 0;
}

static bool
fake_tmpfs (const char *path)
{
  return strstr (path, "/tmpfs/") != NULL;
}

static void
test_ephemeral (void **state)
{
  (void)state;
  kata_mount_desc_t m[] = {
    { "/cache", "bind", "/var/lib/kubelet/pods/u/volumes/kubernetes.io~empty-dir/tmpfs/cache", NULL, 0 },
    { "/data", "bind", "/var/lib/kubelet/pods/u/volumes/kubernetes.io~empty-dir/data", NULL, 0 },
  };
  kata_bind_plan_t *p = NULL;
  size_t n = 0;
  assert_int_equal (kata_storage_plan_binds ("c1", "/b", m, 2, fake_stat, fake_tmpfs, &p, &n, NULL), 0);
  assert_int_equal (n, 2);
  assert_true (p[0].ephemeral);
  assert_string_equal (p[0].guest_source, KATA_GUEST_EPHEMERAL_DIR "/cache");
  assert_null (p[0].host_target);
  /* A host emptyDir (not tmpfs) is shared like any bind mount. */
  assert_false (p[1].ephemeral);
  assert_non_null (strstr (p[1].guest_source, KATA_GUEST_SHARED_DIR "/c1-"));
  kata_bind_plan_free (p, n);
}

static void
test_plan (void **state)
{
  (void)state;
  char *o_rbind_ro[] = { "rbind", "ro" };
  char *o_nosuid[] = { "nosuid", "noexec" };
  char *o_bind[] = { "bind" };
  kata_mount_desc_t m[] = {
    { "/proc", "proc", "proc", NULL, 0 },
    { "/dev", "tmpfs", "tmpfs", o_nosuid, 2 },
    { "/data", "bind", "/srv/data", o_rbind_ro, 2 },
    { "/etc/hosts", NULL, "/var/lib/x/hosts", o_bind, 1 },
    { "/rel", "bind", "vol", NULL, 0 },
    { "/dev/shm", "tmpfs", "shm", NULL, 0 },
    { "/data2", "bind", "/srv/data", NULL, 0 },
  };
  kata_bind_plan_t *p = NULL;
  size_t n = 0;

  assert_int_equal (kata_storage_plan_binds ("c1", "/bundle", m, 7, fake_stat, fake_tmpfs, &p, &n, NULL), 0);
  assert_int_equal (n, 4);

  assert_int_equal (p[0].index, 2);
  assert_string_equal (p[0].host_source, "/srv/data");
  assert_false (p[0].is_file);
  assert_true (p[0].readonly);
  assert_int_equal (strncmp (p[0].name, "c1-", 3), 0);
  assert_int_equal (strlen (p[0].name), strlen ("c1-12345678-data"));
  assert_string_equal (p[0].name + 11, "-data");
  assert_string_equal (p[0].host_target, p[0].name);
  {
    char *g = xasprintf ("%s/%s", KATA_GUEST_SHARED_DIR, p[0].name);
    assert_string_equal (p[0].guest_source, g);
    free (g);
  }

  /* A file gets a directory of its own. */
  assert_int_equal (p[1].index, 3);
  assert_true (p[1].is_file);
  assert_false (p[1].readonly);
  {
    char *t = xasprintf ("%s/hosts", p[1].name);
    assert_string_equal (p[1].host_target, t);
    free (t);
  }
  assert_non_null (strstr (p[1].guest_source, "/hosts"));

  /* A relative source is the bundle's. */
  assert_string_equal (p[2].host_source, "/bundle/vol");

  /* The same source at another destination is another entry. */
  assert_int_equal (p[3].index, 6);
  assert_string_not_equal (p[3].name, p[0].name);
  kata_bind_plan_free (p, n);

  /* Same inputs, same names (stable across calls). */
  {
    kata_bind_plan_t *a = NULL, *b = NULL;
    size_t na, nb;
    assert_int_equal (kata_storage_plan_binds ("c1", "/bundle", m, 7, fake_stat, fake_tmpfs, &a, &na, NULL),
                      0);
    assert_int_equal (kata_storage_plan_binds ("c1", "/bundle", m, 7, fake_stat, fake_tmpfs, &b, &nb, NULL),
                      0);
    assert_string_equal (a[0].name, b[0].name);
    kata_bind_plan_free (a, na);
    kata_bind_plan_free (b, nb);
  }

  /* A missing source is an error naming it. */
  {
    kata_mount_desc_t bad[] = { { "/x", "bind", "/missing/dir", NULL, 0 } };
    kata_error_t *err = NULL;
    assert_int_equal (kata_storage_plan_binds ("c1", "/bundle", bad, 1, fake_stat, fake_tmpfs, &p, &n, &err),
                      -1);
    assert_non_null (strstr (err->msg, "/missing/dir"));
    assert_int_equal (err->status, ENOENT);
    kata_error_free (err);
  }

  /* Propagation: rslave/slave (CRI HostToContainer) and rshared/shared (Bidirectional) make
     the host bind rslave; anything else rprivate. */
  {
    char *o_rslave[] = { "rbind", "rslave", "rw" };
    char *o_rshared[] = { "rbind", "rshared" };
    char *o_shared[] = { "bind", "shared" };
    char *o_rprivate[] = { "rbind", "rprivate" };
    kata_mount_desc_t pm[] = {
      { "/a", "bind", "/srv/a", o_rslave, 3 }, { "/b", "bind", "/srv/b", o_rshared, 2 },
      { "/c", "bind", "/srv/c", o_shared, 2 }, { "/d", "bind", "/srv/d", o_rprivate, 2 },
      { "/e", "bind", "/srv/e", o_bind, 1 },
    };
    assert_int_equal (kata_storage_plan_binds ("c1", "/b", pm, 5, fake_stat, fake_tmpfs, &p, &n, NULL), 0);
    assert_int_equal (n, 5);
    assert_true (p[0].host_propagation);
    assert_true (p[1].host_propagation);
    assert_true (p[2].host_propagation);
    assert_false (p[3].host_propagation);
    assert_false (p[4].host_propagation);
    assert_int_equal (kata_storage_bind_propagation (&p[0]), MS_REC | MS_SLAVE);
    assert_int_equal (kata_storage_bind_propagation (&p[3]), MS_REC | MS_PRIVATE);
    kata_bind_plan_free (p, n);
  }

  /* Odd bytes in the basename do not reach the path. */
  {
    kata_mount_desc_t odd[] = { { "/x", "bind", "/srv/we ird:name", NULL, 0 } };
    assert_int_equal (kata_storage_plan_binds ("c1", "/b", odd, 1, fake_stat, fake_tmpfs, &p, &n, NULL), 0);
    assert_null (strchr (p[0].name, ' '));
    assert_null (strchr (p[0].name, ':'));
    kata_bind_plan_free (p, n);
  }
}

static void
test_bind_unbind (void **state)
{
  (void)state;
  char tmpl[] = "/tmp/kata-test-storage.XXXXXX";
  char *d = mkdtemp (tmpl);
  char *src, *file, *shared, *t1, *t2, *t3;
  kata_error_t *err = NULL;
  FILE *f;

  if (geteuid () != 0)
    skip ();
  src = xasprintf ("%s/src", d);
  file = xasprintf ("%s/src.conf", d);
  shared = xasprintf ("%s/shared", d);
  t1 = xasprintf ("%s/c/rootfs", shared);
  t2 = xasprintf ("%s/c-1-conf/src.conf", shared);
  t3 = xasprintf ("%s/c-2-ro", shared);
  assert_int_equal (kata_mkdir_p (src, 0700, NULL), 0);
  f = fopen (file, "w");
  fputs ("hello\n", f);
  fclose (f);
  {
    char *in = xasprintf ("%s/inside", src);
    f = fopen (in, "w");
    fclose (f);
    free (in);
  }

  if (kata_storage_bind (src, t1, false, 0, &err) < 0)
    {
      /* No mount privilege here (unprivileged container): nothing more to test. */
      kata_error_free (err);
      kata_rm_rf (d, NULL);
      skip ();
    }
  assert_true (kata_storage_is_mountpoint (t1));
  {
    char *in = xasprintf ("%s/inside", t1);
    assert_int_equal (access (in, F_OK), 0);
    free (in);
  }
  assert_int_equal (kata_storage_bind (file, t2, false, 0, NULL), 0);
  {
    char buf[16] = { 0 };
    f = fopen (t2, "r");
    assert_non_null (f);
    assert_non_null (fgets (buf, sizeof buf, f));
    fclose (f);
    assert_string_equal (buf, "hello\n");
  }
  assert_int_equal (kata_storage_bind (src, t3, true, 0, NULL), 0);
  {
    char *w = xasprintf ("%s/new", t3);
    assert_null (fopen (w, "w"));
    assert_int_equal (errno, EROFS);
    free (w);
  }

  /* Unbind one; then everything left under the shared dir, deepest first. */
  assert_int_equal (kata_storage_unbind (t2, true, NULL), 0);
  assert_false (kata_storage_is_mountpoint (t2));
  {
    char *p = xasprintf ("%s/c-1-conf", shared);
    assert_int_equal (access (p, F_OK), -1);
    free (p);
  }
  assert_int_equal (kata_storage_bind (src, t1, false, 0, NULL), 0); /* stacked */
  assert_int_equal (kata_storage_umount_all_under (shared, NULL), 0);
  assert_false (kata_storage_is_mountpoint (t1));
  assert_false (kata_storage_is_mountpoint (t3));
  /* The sources survive. */
  assert_int_equal (access (file, F_OK), 0);
  assert_int_equal (kata_rm_rf (shared, NULL), 0);
  {
    char *in = xasprintf ("%s/inside", src);
    assert_int_equal (access (in, F_OK), 0);
    free (in);
  }
  kata_rm_rf (d, NULL);
  free (src);
  free (file);
  free (shared);
  free (t1);
  free (t2);
  free (t3);
}

/* The host bind of a shared source: rslave gets what is mounted on the source later and
   sends nothing back; rprivate gets nothing (as root; skipped without mount privilege). */
static void
test_bind_propagation (void **state)
{
  (void)state;
  char tmpl[] = "/tmp/kata-test-prop-XXXXXX";
  char *d = mkdtemp (tmpl);
  char *src, *slave, *priv, *p;
  kata_error_t *err = NULL;
  assert_non_null (d);
  src = xasprintf ("%s/src", d);
  slave = xasprintf ("%s/shared/slave", d);
  priv = xasprintf ("%s/shared/priv", d);
  p = xasprintf ("%s/late", src);
  assert_int_equal (kata_mkdir_p (p, 0700, NULL), 0);
  free (p);
  p = xasprintf ("%s/back", src);
  assert_int_equal (kata_mkdir_p (p, 0700, NULL), 0);
  free (p);
  if (mount (src, src, NULL, MS_BIND, NULL) < 0)
    {
      kata_rm_rf (d, NULL);
      free (src);
      free (slave);
      free (priv);
      skip ();
    }
  assert_int_equal (mount (NULL, src, NULL, MS_SHARED | MS_REC, NULL), 0);
  if (kata_storage_bind (src, slave, false, MS_REC | MS_SLAVE, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (kata_storage_bind (src, priv, false, MS_REC | MS_PRIVATE, NULL), 0);

  p = xasprintf ("%s/late", src);
  assert_int_equal (mount ("tmpfs", p, "tmpfs", 0, "size=64k"), 0);
  free (p);
  p = xasprintf ("%s/late", slave);
  assert_true (kata_storage_is_mountpoint (p)); /* host -> shared dir */
  free (p);
  p = xasprintf ("%s/late", priv);
  assert_false (kata_storage_is_mountpoint (p));
  free (p);
  p = xasprintf ("%s/back", slave);
  assert_int_equal (mount ("tmpfs", p, "tmpfs", 0, "size=64k"), 0);
  free (p);
  p = xasprintf ("%s/back", src);
  assert_false (kata_storage_is_mountpoint (p)); /* nothing back to the host */
  free (p);

  p = xasprintf ("%s/shared", d);
  assert_int_equal (kata_storage_umount_all_under (p, NULL), 0);
  free (p);
  assert_int_equal (kata_storage_umount_all_under (src, NULL), 0);
  assert_false (kata_storage_is_mountpoint (src));
  kata_rm_rf (d, NULL);
  free (src);
  free (slave);
  free (priv);
}

/* Every kind at once: pass-through, bind of a dir and of a file, ephemeral and local
   emptyDirs, block volumes (bind of a device, or a typed mount of one). */
static void
test_classify (void **state)
{
  (void)state;
  char *o_ro[] = { "ro" };
  char *o_rbind[] = { "rbind", "rw" };
  kata_mount_desc_t m[] = {
    { "/proc", "proc", "proc", NULL, 0 },                                      /* pass */
    { "/d", "bind", "/srv/dir", o_rbind, 2 },                                  /* 0: bind */
    { "/etc/resolv.conf", "bind", "/srv/resolv.conf", NULL, 0 },               /* 1: file */
    { "/e", "bind", "/p/volumes/kubernetes.io~empty-dir/tmpfs/eph", NULL, 0 }, /* 2: ephemeral */
    { "/l", "bind", "/p/volumes/kubernetes.io~empty-dir/loc", NULL, 0 },       /* 3: local */
    { "/vol", "bind", "/dev/blk0", o_rbind, 2 },                               /* 4: block, no type */
    { "/vol2", "xfs", "/dev/blk1", o_ro, 1 },                                  /* 5: block, typed, ro */
    { "/t", "tmpfs", "/srv/notblock", NULL, 0 },                               /* pass: not a device */
    { "/m", "ext4", "/missing/dev", NULL, 0 },                                 /* pass: no such source */
  };
  kata_bind_plan_t *p = NULL;
  size_t n = 0, i;
  char *g;

  assert_int_equal (kata_storage_plan_binds ("c2", "/b", m, 9, fake_stat, fake_tmpfs, &p, &n, NULL), 0);
  assert_int_equal (n, 6);
  assert_int_equal (kata_storage_plan_local (p, n), 1);

  assert_int_equal (p[0].index, 1);
  assert_false (p[0].is_file || p[0].ephemeral || p[0].local || p[0].block || p[0].host_mount);
  assert_true (p[1].is_file);
  assert_false (p[1].block);
  assert_true (p[2].ephemeral);
  assert_false (p[2].local || p[2].block);
  assert_true (p[3].local);
  assert_null (p[3].host_target);
  assert_string_equal (p[3].guest_source, KATA_GUEST_LOCAL_DIR "/loc");

  /* A bind of a block device: hot-plugged, not a file bind, fs type to be detected. */
  assert_int_equal (p[4].index, 5);
  assert_true (p[4].block);
  assert_false (p[4].is_file || p[4].local || p[4].ephemeral || p[4].readonly);
  assert_null (p[4].fstype);
  assert_null (p[4].host_target);
  assert_string_equal (p[4].host_source, "/dev/blk0");
  g = xasprintf ("%s/%s", KATA_GUEST_BLOCK_DIR, p[4].name);
  assert_string_equal (p[4].guest_source, g);
  free (g);
  assert_string_equal (p[4].name + strlen (p[4].name) - 5, "-blk0");

  /* A typed mount of a block device: the type is the fs type; "ro" is kept. */
  assert_int_equal (p[5].index, 6);
  assert_true (p[5].block);
  assert_true (p[5].readonly);
  assert_string_equal (p[5].fstype, "xfs");

  /* disable_block_device_use: the block volumes become host mounts in the shared dir. */
  assert_int_equal (kata_storage_plan_block_fallback (p, n), 2);
  for (i = 0; i < n; i++)
    assert_false (p[i].block);
  assert_true (p[4].host_mount && p[5].host_mount);
  assert_false (p[0].host_mount || p[2].host_mount || p[3].host_mount);
  assert_string_equal (p[4].host_target, p[4].name);
  g = xasprintf ("%s/%s", KATA_GUEST_SHARED_DIR, p[4].name);
  assert_string_equal (p[4].guest_source, g);
  free (g);
  assert_string_equal (p[5].fstype, "xfs");
  /* The ephemeral and local entries are left alone. */
  assert_true (p[2].ephemeral && p[3].local);
  assert_int_equal (kata_storage_plan_block_fallback (p, n), 0);
  kata_bind_plan_free (p, n);

  /* A missing block source of a bind is still an error. */
  {
    kata_mount_desc_t bad[] = { { "/x", "bind", "/missing/blk", NULL, 0 } };
    kata_error_t *err = NULL;
    assert_int_equal (kata_storage_plan_binds ("c2", "/b", bad, 1, fake_stat, fake_tmpfs, &p, &n, &err), -1);
    kata_error_free (err);
  }
}

static char *
write_image (const char *dir, const char *name, size_t off, const char *magic, size_t mlen)
{
  char *path = xasprintf ("%s/%s", dir, name);
  FILE *f = fopen (path, "w");
  char zero[4096] = { 0 };
  size_t i;
  assert_non_null (f);
  for (i = 0; i < 20; i++)
    assert_int_equal (fwrite (zero, 1, sizeof zero, f), sizeof zero);
  if (magic)
    {
      assert_int_equal (fseek (f, (long)off, SEEK_SET), 0);
      assert_int_equal (fwrite (magic, 1, mlen, f), mlen);
    }
  fclose (f);
  return path;
}

static void
test_detect_fstype (void **state)
{
  (void)state;
  char dir[] = "/tmp/kata-test-fs.XXXXXX";
  char *a, *b, *c, *d;
  assert_non_null (mkdtemp (dir));
  a = write_image (dir, "ext", 1080, "\x53\xef", 2);
  b = write_image (dir, "xfs", 0, "XFSB", 4);
  c = write_image (dir, "zero", 0, NULL, 0);
  d = write_image (dir, "btrfs", 65536 + 64, "_BHRfS_M", 8);
  assert_string_equal (kata_storage_detect_fstype (a), "ext4");
  assert_string_equal (kata_storage_detect_fstype (b), "xfs");
  assert_string_equal (kata_storage_detect_fstype (d), "btrfs");
  assert_null (kata_storage_detect_fstype (c));
  assert_null (kata_storage_detect_fstype ("/nonexistent/dev"));
  unlink (a), unlink (b), unlink (c), unlink (d);
  free (a), free (b), free (c), free (d);
  rmdir (dir);
}

static void
test_blockdev_path (void **state)
{
  (void)state;
  char dir[] = "/tmp/kata-test-sys.XXXXXX";
  char *p, *f;
  kata_error_t *err = NULL;
  assert_non_null (mkdtemp (dir));
  p = xasprintf ("%s/dev/block/7:3", dir);
  assert_int_equal (kata_mkdir_p (p, 0755, NULL), 0);
  f = xasprintf ("%s/uevent", p);
  assert_int_equal (
      kata_write_file_atomic (f, "MAJOR=7\nMINOR=3\nDEVNAME=loop3\nDEVTYPE=disk\n", 43, 0644, NULL), 0);
  free (p);
  p = kata_storage_blockdev_path (dir, 7, 3, NULL);
  assert_string_equal (p, "/dev/loop3");
  free (p);

  /* Whether the host has the device: linux.devices entries without one are made in
     the guest as given. */
  assert_true (kata_storage_blockdev_exists (dir, 7, 3));
  assert_false (kata_storage_blockdev_exists (dir, 7, 4));
  assert_false (kata_storage_blockdev_exists (dir, 8, 666));

  /* No such device: an error naming the numbers. */
  assert_null (kata_storage_blockdev_path (dir, 7, 4, &err));
  assert_non_null (strstr (err->msg, "7:4"));
  kata_error_free (err);
  err = NULL;

  /* A DEVNAME that climbs out of /dev is refused. */
  assert_int_equal (kata_write_file_atomic (f, "MAJOR=7\nDEVNAME=../etc/x\n", 25, 0644, NULL), 0);
  assert_null (kata_storage_blockdev_path (dir, 7, 3, &err));
  kata_error_free (err);
  unlink (f);
  free (f);
  assert_int_equal (kata_rm_rf (dir, NULL), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_plan),          cmocka_unit_test (test_ephemeral),
    cmocka_unit_test (test_bind_unbind),   cmocka_unit_test (test_bind_propagation),
    cmocka_unit_test (test_classify),      cmocka_unit_test (test_detect_fstype),
    cmocka_unit_test (test_blockdev_path),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
