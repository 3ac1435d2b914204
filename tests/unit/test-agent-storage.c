/* kata-agent: storages are reference-counted by mount point. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent/agent.h"
#include "common/json.h"

static int mounts, umounts;
static char last_fstype[64], last_data[256];

static int
fake_mount (const char *src, const char *dst, const char *fstype, unsigned long flags, const char *data)
{
  (void)src, (void)dst, (void)flags;
  mounts++;
  snprintf (last_fstype, sizeof last_fstype, "%s", fstype ? fstype : "");
  snprintf (last_data, sizeof last_data, "%s", data ? data : "");
  return 0;
}

static int
fake_umount (const char *dst)
{
  (void)dst;
  umounts++;
  return 0;
}

static yajl_val
parse (const char *s)
{
  yajl_val v = NULL;
  assert_int_equal (kata_json_parse (s, strlen (s), &v, NULL), 0);
  return v;
}

#define MP "/run/kata-containers/test-agent-storage"

static void
test_refcount (void **state)
{
  agent_t a;
  yajl_val st
      = parse ("{\"driver\":\"9p\",\"source\":\"kataShared\",\"fstype\":\"9p\","
               "\"options\":[\"trans=virtio\",\"version=9p2000.L\",\"nodev\"],\"mount_point\":\"" MP "\"}");
  char *mp = NULL;
  (void)state;
  memset (&a, 0, sizeof a);
  mounts = umounts = 0;
  agent_storage_mount_fn = fake_mount;
  agent_storage_umount_fn = fake_umount;
  assert_int_equal (agent_storage_add (&a, st, &mp, NULL), 0);
  assert_string_equal (mp, MP);
  free (mp);
  assert_int_equal (mounts, 1);
  assert_string_equal (last_fstype, "9p");
  assert_string_equal (last_data, "trans=virtio,version=9p2000.L");
  assert_int_equal (agent_storage_add (&a, st, &mp, NULL), 0);
  free (mp);
  assert_int_equal (mounts, 1);
  assert_int_equal (agent_storage_find (&a, MP)->refs, 2);
  assert_int_equal (agent_storage_release (&a, MP), 1);
  assert_int_equal (umounts, 0);
  assert_int_equal (agent_storage_release (&a, MP), 0);
  assert_int_equal (umounts, 1);
  assert_null (agent_storage_find (&a, MP));
  assert_int_equal (agent_storage_release (&a, MP), -1);
  yajl_tree_free (st);
}

static void
test_rejects (void **state)
{
  agent_t a;
  const char *bad[] = {
    "{\"driver\":\"9p\",\"source\":\"x\",\"mount_point\":\"/etc\"}",
    "{\"driver\":\"9p\",\"source\":\"x\",\"mount_point\":\"/run/kata-containers/../../etc\"}",
    "{\"driver\":\"9p\",\"source\":\"x\"}",
    "{\"driver\":\"bind\",\"source\":\"/etc\",\"mount_point\":\"" MP "2\"}",
    "{\"driver\":\"floppy\",\"source\":\"x\",\"mount_point\":\"" MP "3\"}",
  };
  size_t i;
  (void)state;
  memset (&a, 0, sizeof a);
  agent_storage_mount_fn = fake_mount;
  agent_storage_umount_fn = fake_umount;
  mounts = 0;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      yajl_val st = parse (bad[i]);
      char *mp = NULL;
      kata_error_t *err = NULL;
      assert_int_equal (agent_storage_add (&a, st, &mp, &err), -1);
      assert_non_null (err);
      kata_error_free (err);
      yajl_tree_free (st);
    }
  assert_int_equal (mounts, 0);
  assert_null (a.storages);
  rmdir (MP "2");
  rmdir (MP "3");
}

static void
test_batch_rollback (void **state)
{
  agent_t a;
  yajl_val arr = parse ("[{\"driver\":\"ephemeral\",\"source\":\"tmpfs\",\"mount_point\":\"" MP "4\"},"
                        "{\"driver\":\"nope\",\"source\":\"x\",\"mount_point\":\"" MP "5\"}]");
  char **mps = NULL;
  size_t n = 0;
  kata_error_t *err = NULL;
  (void)state;
  memset (&a, 0, sizeof a);
  agent_storage_mount_fn = fake_mount;
  agent_storage_umount_fn = fake_umount;
  mounts = umounts = 0;
  assert_int_equal (agent_storages_mount (&a, arr, &mps, &n, &err), -1);
  kata_error_free (err);
  assert_int_equal (mounts, 1);
  assert_int_equal (umounts, 1); /* the first one is released again */
  assert_null (a.storages);
  rmdir (MP "5");
  yajl_tree_free (arr);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_refcount),
    cmocka_unit_test (test_rejects),
    cmocka_unit_test (test_batch_rollback),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
