/* Host side of the shared filesystem (libmount for the binds). */
#include "config.h"
#include "runtime/storage.h"
#include "runtime/agent-client.h"
#include "runtime/lifecycle.h"
#include "runtime/log.h"
#include "runtime/state.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <libmount/libmount.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <sys/vfs.h>
#include <unistd.h>

static uint32_t
fnv1a (uint32_t h, const char *s)
{
  for (; s && *s; s++)
    {
      h ^= (unsigned char)*s;
      h *= 16777619u;
    }
  return h;
}

static bool
has_option (const kata_mount_desc_t *m, const char *opt)
{
  size_t i;
  for (i = 0; i < m->options_len; i++)
    if (m->options[i] && strcmp (m->options[i], opt) == 0)
      return true;
  return false;
}

static bool
is_bind (const kata_mount_desc_t *m)
{
  if (m->type && strcmp (m->type, "bind") == 0)
    return true;
  return has_option (m, "bind") || has_option (m, "rbind");
}

/* A name safe as one path component: the source's basename with odd bytes replaced. */
static char *
safe_basename (const char *path)
{
  const char *b = strrchr (path, '/');
  char *r, *p;
  b = b ? b + 1 : path;
  if (*b == '\0' || strcmp (b, ".") == 0 || strcmp (b, "..") == 0)
    b = "root";
  r = xstrndup (b, 200);
  for (p = r; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.'
          || *p == '_' || *p == '-' || *p == '+'))
      *p = '_';
  return r;
}

void
kata_bind_plan_free (kata_bind_plan_t *p, size_t n)
{
  size_t i;
  if (p == NULL)
    return;
  for (i = 0; i < n; i++)
    {
      free (p[i].host_source);
      free (p[i].name);
      free (p[i].host_target);
      free (p[i].guest_source);
      free (p[i].fstype);
    }
  free (p);
}

static bool
statfs_is_tmpfs (const char *path)
{
  struct statfs sf;
  return statfs (path, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

int
kata_storage_plan_binds (const char *cid, const char *bundle, const kata_mount_desc_t *mounts, size_t n,
                         int (*stat_fn) (const char *, struct stat *), bool (*is_tmpfs) (const char *),
                         kata_bind_plan_t **out, size_t *nout, kata_error_t **err)
{
  kata_bind_plan_t *plan = NULL;
  size_t i, k = 0;

  *out = NULL;
  *nout = 0;
  if (stat_fn == NULL)
    stat_fn = stat;
  if (is_tmpfs == NULL)
    is_tmpfs = statfs_is_tmpfs;
  for (i = 0; i < n; i++)
    {
      const kata_mount_desc_t *m = &mounts[i];
      struct stat st;
      cleanup_free char *base = NULL;
      char *src;
      uint32_t h;

      if (m->source == NULL || m->source[0] == '\0')
        continue;
      if (!is_bind (m))
        {
          /* A mount of a host block device ("type": "ext4", "source": "/dev/sdb1"): a
             block volume.  Other sources ("proc", "tmpfs", ...) pass through. */
          if (m->source[0] != '/' || stat_fn (m->source, &st) < 0 || !S_ISBLK (st.st_mode))
            continue;
        }
      if (m->source[0] == '/')
        src = xstrdup (m->source);
      else
        src = xasprintf ("%s/%s", bundle ? bundle : ".", m->source);
      if (stat_fn (src, &st) < 0)
        {
          int e = errno;
          kata_bind_plan_free (plan, k);
          kata_make_error (err, e, "mount source `%s` (destination `%s`)", src,
                           m->destination ? m->destination : "");
          free (src);
          return -1;
        }
      h = fnv1a (2166136261u, src);
      h = fnv1a (h ^ 0xff, m->destination);
      h = fnv1a (h ^ 0x1, cid);
      base = safe_basename (src);
      plan = xrealloc (plan, (k + 1) * sizeof (*plan));
      memset (&plan[k], 0, sizeof plan[k]);
      plan[k].index = i;
      plan[k].host_source = src;
      plan[k].name = xasprintf ("%s-%08x-%s", cid, h, base);
      plan[k].is_file = !S_ISDIR (st.st_mode);
      plan[k].readonly = has_option (m, "ro");
      plan[k].host_propagation = has_option (m, "rslave") || has_option (m, "slave")
                                 || has_option (m, "rshared") || has_option (m, "shared");
      if (S_ISBLK (st.st_mode))
        {
          plan[k].is_file = false;
          plan[k].block = true;
          if (m->type && m->type[0] && strcmp (m->type, "bind") != 0 && strcmp (m->type, "none") != 0)
            plan[k].fstype = xstrdup (m->type);
          plan[k].guest_source = xasprintf ("%s/%s", KATA_GUEST_BLOCK_DIR, plan[k].name);
          k++;
          continue;
        }
      if (strstr (src, "kubernetes.io~empty-dir") && !plan[k].is_file && is_tmpfs (src))
        {
          struct statfs sf;
          plan[k].ephemeral = true;
          plan[k].guest_source = xasprintf ("%s/%s", KATA_GUEST_EPHEMERAL_DIR, base);
          /* kubelet's sizeLimit is the host tmpfs's size: the guest tmpfs gets the same */
          if (statfs (src, &sf) == 0 && sf.f_type == TMPFS_MAGIC && sf.f_blocks > 0)
            plan[k].shm_size = (uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize;
          k++;
          continue;
        }
      if (plan[k].is_file)
        plan[k].host_target = xasprintf ("%s/%s", plan[k].name, base);
      else
        plan[k].host_target = xstrdup (plan[k].name);
      plan[k].guest_source = xasprintf ("%s/%s", KATA_GUEST_SHARED_DIR, plan[k].host_target);
      k++;
    }
  *out = plan;
  *nout = k;
  return 0;
}

size_t
kata_storage_plan_block_fallback (kata_bind_plan_t *p, size_t n)
{
  size_t i, k = 0;
  for (i = 0; i < n; i++)
    {
      if (!p[i].block)
        continue;
      p[i].block = false;
      p[i].host_mount = true;
      free (p[i].host_target);
      p[i].host_target = xstrdup (p[i].name);
      free (p[i].guest_source);
      p[i].guest_source = xasprintf ("%s/%s", KATA_GUEST_SHARED_DIR, p[i].host_target);
      k++;
    }
  return k;
}

const char *
kata_storage_detect_fstype (const char *dev)
{
  unsigned char b[65536 + 128];
  ssize_t n;
  int fd = open (dev, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  memset (b, 0, sizeof b);
  n = pread (fd, b, sizeof b, 0);
  close (fd);
  if (n < 1082)
    return NULL;
  if (b[1080] == 0x53 && b[1081] == 0xef) /* ext2/3/4 s_magic (the ext4 driver mounts all) */
    return "ext4";
  if (memcmp (b, "XFSB", 4) == 0)
    return "xfs";
  if (n >= 65536 + 72 && memcmp (b + 65536 + 64, "_BHRfS_M", 8) == 0)
    return "btrfs";
  if (b[510] == 0x55 && b[511] == 0xaa
      && (memcmp (b + 54, "FAT", 3) == 0 || memcmp (b + 82, "FAT32", 5) == 0))
    return "vfat";
  return NULL;
}

bool
kata_storage_blockdev_exists (const char *sysfs, int64_t major, int64_t minor)
{
  cleanup_free char *dir = NULL;
  if (major < 0 || minor < 0)
    return true; /* kata_storage_blockdev_path says what is wrong */
  dir = xasprintf ("%s/dev/block/%lld:%lld", sysfs ? sysfs : "/sys", (long long)major, (long long)minor);
  return access (dir, F_OK) == 0 || errno != ENOENT;
}

char *
kata_storage_blockdev_path (const char *sysfs, int64_t major, int64_t minor, kata_error_t **err)
{
  cleanup_free char *uevent = NULL;
  cleanup_free char *buf = NULL;
  size_t len = 0;
  char *line, *save = NULL;

  if (major < 0 || minor < 0)
    return kata_make_error_nostr (err, EINVAL, "block device %lld:%lld: bad number", (long long)major,
                                  (long long)minor),
           NULL;
  uevent = xasprintf ("%s/dev/block/%lld:%lld/uevent", sysfs ? sysfs : "/sys", (long long)major,
                      (long long)minor);
  if (kata_read_file (uevent, &buf, &len, 65536, err) < 0)
    {
      kata_error_wrap (err, "no host block device %lld:%lld", (long long)major, (long long)minor);
      return NULL;
    }
  for (line = strtok_r (buf, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (strncmp (line, "DEVNAME=", 8) == 0 && line[8] && strstr (line + 8, "..") == NULL)
      return xasprintf ("/dev/%s", line + 8);
  kata_make_error_nostr (err, ENODEV, "block device %lld:%lld: no DEVNAME in `%s`", (long long)major,
                         (long long)minor, uevent);
  return NULL;
}

size_t
kata_storage_plan_local (kata_bind_plan_t *p, size_t n)
{
  size_t i, k = 0;
  for (i = 0; i < n; i++)
    {
      const char *b;
      cleanup_free char *base = NULL;
      if (p[i].ephemeral || p[i].is_file || p[i].block || p[i].host_mount || p[i].host_source == NULL
          || strstr (p[i].host_source, "kubernetes.io~empty-dir") == NULL)
        continue;
      b = strrchr (p[i].host_source, '/');
      base = safe_basename (b ? b + 1 : p[i].host_source);
      p[i].local = true;
      free (p[i].host_target);
      p[i].host_target = NULL;
      free (p[i].guest_source);
      p[i].guest_source = xasprintf ("%s/%s", KATA_GUEST_LOCAL_DIR, base);
      k++;
    }
  return k;
}

bool
kata_storage_block_rootfs (const char *rootfs, char **device, char **fstype)
{
  struct libmnt_table *tb;
  struct libmnt_fs *fs;
  struct stat st;
  const char *src, *root, *target;
  bool ok = false;

  *device = NULL;
  *fstype = NULL;
  tb = mnt_new_table_from_file ("/proc/self/mountinfo");
  if (tb == NULL)
    return false;
  /* The last mount on ROOTFS is the one that is seen. */
  fs = mnt_table_find_target (tb, rootfs, MNT_ITER_BACKWARD);
  if (fs)
    {
      src = mnt_fs_get_srcpath (fs);
      root = mnt_fs_get_root (fs);
      target = mnt_fs_get_target (fs);
      if (src && src[0] == '/' && target && strcmp (target, rootfs) == 0
          && (root == NULL || strcmp (root, "/") == 0) && stat (src, &st) == 0 && S_ISBLK (st.st_mode))
        {
          *device = xstrdup (src);
          *fstype = xstrdup (mnt_fs_get_fstype (fs) ? mnt_fs_get_fstype (fs) : "ext4");
          ok = true;
        }
    }
  mnt_unref_table (tb);
  return ok;
}

static int
make_target (const char *source, const char *target, kata_error_t **err)
{
  struct stat st;
  if (stat (source, &st) < 0)
    return kata_make_error (err, errno, "stat `%s`", source);
  if (S_ISDIR (st.st_mode))
    {
      if (kata_mkdir_p (target, 0700, err) < 0)
        return -1;
      return 0;
    }
  else
    {
      cleanup_free char *parent = xstrdup (target);
      int fd;
      if (kata_mkdir_p (dirname (parent), 0700, err) < 0)
        return -1;
      fd = open (target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0)
        return kata_make_error (err, errno, "create `%s`", target);
      close (fd);
    }
  return 0;
}

unsigned long
kata_storage_bind_propagation (const kata_bind_plan_t *plan)
{
  return MS_REC | (plan->host_propagation ? MS_SLAVE : MS_PRIVATE);
}

int
kata_storage_bind (const char *source, const char *target, bool readonly, unsigned long propagation,
                   kata_error_t **err)
{
  struct libmnt_context *cxt;
  int rc;

  if (make_target (source, target, err) < 0)
    return -1;
  cxt = mnt_new_context ();
  if (cxt == NULL)
    return kata_make_error (err, ENOMEM, "libmount context");
  mnt_context_disable_mtab (cxt, 1);
  mnt_context_disable_helpers (cxt, 1);
  mnt_context_set_source (cxt, source);
  mnt_context_set_target (cxt, target);
  mnt_context_set_mflags (cxt, MS_BIND | MS_REC);
  if (readonly)
    mnt_context_set_options (cxt, "ro");
  rc = mnt_context_mount (cxt);
  if (rc != 0 || mnt_context_get_status (cxt) != 1)
    {
      int e = mnt_context_get_syscall_errno (cxt);
      if (e == 0)
        e = rc < 0 ? -rc : EINVAL;
      mnt_free_context (cxt);
      return kata_make_error (err, e, "bind mount `%s` on `%s`", source, target);
    }
  mnt_free_context (cxt);
  /* A bind of a shared mount joins its peer group: without this, mounts would propagate
     both ways between the host's source and the shared dir (docs/storage.md). */
  if (propagation && mount (NULL, target, NULL, propagation, NULL) < 0)
    {
      int e = errno;
      umount2 (target, MNT_DETACH);
      return kata_make_error (err, e, "set the propagation of `%s`", target);
    }
  return 0;
}

int
kata_storage_unbind (const char *target, bool parent_too, kata_error_t **err)
{
  struct stat st;
  int i;

  /* A target may hold stacked mounts (a retried bind): peel them all. */
  for (i = 0; i < 16; i++)
    if (umount2 (target, MNT_DETACH) < 0)
      {
        if (errno == EINVAL || errno == ENOENT)
          break;
        return kata_make_error (err, errno, "umount `%s`", target);
      }
  if (lstat (target, &st) == 0)
    {
      if (S_ISDIR (st.st_mode))
        {
          if (rmdir (target) < 0 && errno != ENOENT)
            return kata_make_error (err, errno, "rmdir `%s`", target);
        }
      else if (unlink (target) < 0 && errno != ENOENT)
        return kata_make_error (err, errno, "unlink `%s`", target);
    }
  if (parent_too)
    {
      cleanup_free char *parent = xstrdup (target);
      if (rmdir (dirname (parent)) < 0 && errno != ENOENT && errno != ENOTEMPTY)
        return kata_make_error (err, errno, "rmdir `%s`", parent);
    }
  return 0;
}

/* Mount points (unescaped) from /proc/self/mountinfo that are DIR or under it. */
static char **
mounts_under (const char *dir, size_t *n)
{
  struct libmnt_table *tb = mnt_new_table_from_file ("/proc/self/mountinfo");
  struct libmnt_iter *itr;
  struct libmnt_fs *fs;
  size_t dlen = strlen (dir), k = 0;
  char **v = NULL;

  *n = 0;
  if (tb == NULL)
    return NULL;
  itr = mnt_new_iter (MNT_ITER_FORWARD);
  while (mnt_table_next_fs (tb, itr, &fs) == 0)
    {
      const char *t = mnt_fs_get_target (fs);
      if (t == NULL || strncmp (t, dir, dlen) != 0 || (t[dlen] != '\0' && t[dlen] != '/'))
        continue;
      v = xrealloc (v, (k + 1) * sizeof (char *));
      v[k++] = xstrdup (t);
    }
  mnt_free_iter (itr);
  mnt_unref_table (tb);
  *n = k;
  return v;
}

static int
cmp_len_desc (const void *a, const void *b)
{
  size_t la = strlen (*(char *const *)a), lb = strlen (*(char *const *)b);
  return la < lb ? 1 : la > lb ? -1 : 0;
}

int
kata_storage_umount_all_under (const char *dir, kata_error_t **err)
{
  size_t n, i;
  int pass, ret = 0;

  /* A few passes: stacked mounts show up again once the top one is gone. */
  for (pass = 0; pass < 8; pass++)
    {
      char **v = mounts_under (dir, &n);
      if (n == 0)
        {
          free (v);
          return 0;
        }
      qsort (v, n, sizeof (char *), cmp_len_desc);
      for (i = 0; i < n; i++)
        if (umount2 (v[i], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT && ret == 0)
          ret = kata_make_error (err, errno, "umount `%s`", v[i]);
      for (i = 0; i < n; i++)
        free (v[i]);
      free (v);
      if (ret < 0)
        return ret;
    }
  return 0;
}

bool
kata_storage_is_mountpoint (const char *path)
{
  size_t n, i;
  bool found = false;
  char **v = mounts_under (path, &n);
  for (i = 0; i < n; i++)
    {
      if (strcmp (v[i], path) == 0)
        found = true;
      free (v[i]);
    }
  free (v);
  return found;
}

/* ---- hot-plugged drives ---- */

/* The drives hot-plugged for a container (rootfs, block volumes, block devices) are
   listed, one device id a line, in this file of its state dir: delete unplugs them,
   last first, after RemoveContainer. */
#define DRIVES_FILE "drives"

static char *
drives_path (const char *root, const char *sid, const char *cid)
{
  cleanup_free char *dir = kata_state_container_dir (root, sid, cid);
  return xasprintf ("%s/" DRIVES_FILE, dir);
}

/* Appends DRIVE to CID's list (before the hot-plug, so that a half-done plug is undone too). */
static int
drives_add (const char *root, const char *sid, const char *cid, const char *drive, kata_error_t **err)
{
  cleanup_free char *dir = kata_state_container_dir (root, sid, cid);
  cleanup_free char *path = drives_path (root, sid, cid);
  cleanup_free char *old = NULL;
  cleanup_free char *buf = NULL;
  size_t len = 0;

  if (kata_mkdir_p (dir, 0700, err) < 0)
    return -1;
  if (access (path, F_OK) == 0 && kata_read_file (path, &old, &len, 65536, err) < 0)
    return -1;
  buf = xasprintf ("%s%s\n", old ? old : "", drive);
  return kata_write_file_atomic (path, buf, strlen (buf), 0600, err);
}

/* MonitorHotUnplug of every drive in CID's list, last first (best effort; the VM may be gone). */
void
kata_storage_unplug_drives (const char *root, const char *sid, const char *cid)
{
  cleanup_free char *path = drives_path (root, sid, cid);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  char *p;

  if (access (path, F_OK) < 0 || kata_read_file (path, &buf, &len, 65536, NULL) < 0)
    return;
  while (len > 0 && buf[len - 1] == '\n')
    buf[--len] = '\0';
  while (len > 0)
    {
      cleanup_free char *params = NULL;
      cleanup_error kata_error_t *e = NULL;
      const char *drive;
      p = strrchr (buf, '\n');
      drive = p ? p + 1 : buf;
      if (*drive)
        {
          if (kata_monitor_hot_unplug (root, sid, drive, KATA_CALL_TIMEOUT_MS, &e) < 0)
            kata_warn ("container %s: unplug %s: %s", cid, drive, e->msg);
          else
            kata_debug ("container %s: %s unplugged", cid, drive);
        }
      if (p == NULL)
        break;
      *p = '\0';
      len = (size_t)(p - buf);
    }
  unlink (path);
}

/* The host devices (major:minor, one a line) a container has hot-plugged, in its state
   dir: one device is hot-plugged once per sandbox, because two guest disks over one
   device would have the guest mount one filesystem twice. */
#define BLOCK_DEVS_FILE "block-devices"

/* Fails when host device RDEV is already hot-plugged for a container of the sandbox
   (CID itself included), else records it for CID. */
static int
claim_block_device (const char *root, const char *sid, const char *cid, dev_t rdev, const char *path,
                    kata_error_t **err)
{
  cleanup_free char *sbs = kata_state_sandbox_dir (root, sid);
  cleanup_free char *mine = NULL;
  cleanup_free char *old = NULL;
  cleanup_free char *buf = NULL;
  cleanup_dir DIR *d = opendir (sbs);
  struct dirent *de;
  char key[64];
  size_t len = 0;

  snprintf (key, sizeof key, "%u:%u\n", major (rdev), minor (rdev));
  while (d && (de = readdir (d)))
    {
      cleanup_free char *f = NULL;
      cleanup_free char *content = NULL;
      size_t n = 0;
      if (de->d_name[0] == '.')
        continue;
      f = xasprintf ("%s/%s/" BLOCK_DEVS_FILE, sbs, de->d_name);
      if (access (f, F_OK) < 0 || kata_read_file (f, &content, &n, 65536, NULL) < 0)
        continue;
      {
        char *hit = strstr (content, key);
        if (hit && (hit == content || hit[-1] == '\n'))
          return kata_make_error_nostr (
              err, EBUSY,
              "block device `%s` (%u:%u) is already hot-plugged for container %s of "
              "sandbox %s; a block device is used by one container (or mount) at a time",
              path, major (rdev), minor (rdev), de->d_name, sid);
      }
    }
  mine = xasprintf ("%s/%s", sbs, cid);
  if (kata_mkdir_p (mine, 0700, err) < 0)
    return -1;
  free (mine);
  mine = xasprintf ("%s/%s/" BLOCK_DEVS_FILE, sbs, cid);
  if (access (mine, F_OK) == 0 && kata_read_file (mine, &old, &len, 65536, err) < 0)
    return -1;
  buf = xasprintf ("%s%s", old ? old : "", key);
  return kata_write_file_atomic (mine, buf, strlen (buf), 0600, err);
}

/* Hot-plugs host block device PATH as drive DRIVE of container CID: *PCI gets its guest address. */
int
kata_storage_hotplug_drive (const char *root, const char *sid, const char *cid, const char *drive,
                            const char *path, bool readonly, char **pci, kata_error_t **err)
{
  struct stat st;

  if (stat (path, &st) < 0 || !S_ISBLK (st.st_mode))
    return kata_make_error (err, errno ? errno : ENOTBLK, "`%s` is not a block device", path);
  if (claim_block_device (root, sid, cid, st.st_rdev, path, err) < 0)
    return -1;
  if (drives_add (root, sid, cid, drive, err) < 0)
    return kata_error_wrap (err, "drive list");
  if (kata_monitor_hotplug_block (root, sid, drive, path, readonly, pci, KATA_CALL_TIMEOUT_MS, err) < 0)
    return -1;
  kata_debug ("container %s: %s hot-plugged as %s at %s", cid, path, drive, *pci);
  return 0;
}
