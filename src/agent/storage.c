/* Storages: mounts requested by CreateSandbox/CreateContainer, reference-counted by
   mount point (docs/agent-protocol.md, "Storage"). */
#include "config.h"
#include "agent/agent.h"
#include "common/json.h"
#include "common/utils.h"
#include "agent/storage-blk.h"
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int
real_mount (const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)
{
  return mount (source, target, fstype, flags, data);
}

static int
real_umount (const char *target)
{
  return umount2 (target, MNT_DETACH);
}

agent_mount_fn agent_storage_mount_fn = real_mount;
int (*agent_storage_umount_fn) (const char *target) = real_umount;

agent_storage_t *
agent_storage_find (agent_t *a, const char *mount_point)
{
  agent_storage_t *s;
  for (s = a->storages; s; s = s->next)
    if (strcmp (s->mount_point, mount_point) == 0)
      return s;
  return NULL;
}

static bool
path_is_clean_under (const char *path, const char *prefix)
{
  size_t n = strlen (prefix);
  if (strncmp (path, prefix, n) != 0 || (path[n] != '/' && path[n] != '\0'))
    return false;
  if (strstr (path, "/../") || strstr (path, "/./") || strstr (path, "//"))
    return false;
  n = strlen (path);
  if (n >= 3 && strcmp (path + n - 3, "/..") == 0)
    return false;
  return true;
}

/* "02/00": the disk behind root port 00:02.0, device 00 (or a /dev path). */
static char *
find_block_device (const char *source)
{
  unsigned v[2]; /* slot, device */
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  char path[512];
  if (source[0] == '/')
    return access (source, F_OK) == 0 ? xstrdup (source) : NULL;
  if (!agent_scan_hex (source, "/", v))
    return NULL;
  snprintf (path, sizeof path, "/sys/bus/pci/devices/0000:00:%02x.0", v[0]);
  d = opendir (path);
  if (d == NULL)
    return NULL;
  while ((de = readdir (d)))
    {
      unsigned bdf[4]; /* domain:bus:slot.function */
      if (!agent_scan_hex (de->d_name, "::.", bdf) || bdf[2] != v[1])
        continue;
      {
        char sub[1024];
        cleanup_dir DIR *d2 = NULL;
        struct dirent *de2;
        snprintf (sub, sizeof sub, "%s/%s", path, de->d_name);
        d2 = opendir (sub);
        if (d2 == NULL)
          continue;
        while ((de2 = readdir (d2)))
          {
            char blk[1300];
            cleanup_dir DIR *d3 = NULL;
            struct dirent *de3;
            if (strncmp (de2->d_name, "virtio", 6) != 0)
              continue;
            snprintf (blk, sizeof blk, "%s/%s/block", sub, de2->d_name);
            d3 = opendir (blk);
            if (d3 == NULL)
              continue;
            while ((de3 = readdir (d3)))
              if (de3->d_name[0] != '.')
                return xasprintf ("/dev/%s", de3->d_name);
          }
      }
    }
  return NULL;
}

char *
agent_wait_block_device (const char *source, kata_error_t **err)
{
  char *dev = NULL;
  int i;
  if (source == NULL || source[0] == '\0')
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "block device: no source"), NULL;
  if (source[0] == '/' && (strncmp (source, "/dev/", 5) != 0 || strstr (source, "..")))
    return kata_make_error_nostr (err, EPERM, "block device `%s` is not under /dev", source), NULL;
  for (i = 0; i < 1000 && ((dev = find_block_device (source)) == NULL || access (dev, F_OK) < 0); i++)
    {
      free (dev);
      dev = NULL;
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  if (dev == NULL)
    kata_make_error_nostr (err, ENODEV, "block device `%s` did not appear", source);
  return dev;
}

static int
mount_storage (const char *driver, const char *source, const char *fstype, agent_mount_opts_t *o,
               const char *mp, bool *mounted, kata_error_t **err)
{
  unsigned long flags = o->flags;
  *mounted = true;
  if (strcmp (driver, "9p") == 0)
    return agent_storage_mount_fn (source, mp, "9p", flags, o->data);
  if (strcmp (driver, "virtio-fs") == 0 || strcmp (driver, "virtiofs") == 0)
    return agent_storage_mount_fn (source, mp, "virtiofs", flags, o->data);
  if (strcmp (driver, "ephemeral") == 0)
    return agent_storage_mount_fn ("tmpfs", mp, "tmpfs", flags, o->data);
  if (strcmp (driver, "local") == 0)
    {
      mode_t mode = 0777;
      const char *m = o->data ? strstr (o->data, "mode=") : NULL;
      if (m)
        mode = strtoul (m + 5, NULL, 8) & 07777;
      *mounted = false;
      if (chmod (mp, mode) < 0)
        return -1;
      return 0;
    }
  if (strcmp (driver, "bind") == 0)
    {
      if (!path_is_clean_under (source, KATA_GUEST_RUN_DIR))
        {
          errno = EPERM;
          return kata_make_error (err, EPERM, "bind storage source `%s` is not under " KATA_GUEST_RUN_DIR,
                                  source);
        }
      if (agent_storage_mount_fn (source, mp, NULL, MS_BIND | MS_REC, NULL) < 0)
        return -1;
      if (flags & MS_RDONLY)
        return agent_storage_mount_fn (NULL, mp, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
      return 0;
    }
  if (strcmp (driver, "blk") == 0 || strcmp (driver, "virtio-blk") == 0 || strcmp (driver, "scsi") == 0)
    {
      cleanup_free char *dev = agent_wait_block_device (source, err);
      static const char *const guess[] = { "ext4", "xfs", "btrfs", "vfat", NULL };
      int i;
      if (dev == NULL)
        {
          errno = ENODEV;
          return -1;
        }
      if (fstype && *fstype)
        {
          /* A disk that just appeared in sysfs may not open yet (ENXIO/ENOENT): retry a while. */
          for (i = 0;; i++)
            {
              struct timespec ts = { 0, 20 * 1000 * 1000 };
              if (agent_storage_mount_fn (dev, mp, fstype, flags, o->data) == 0)
                return 0;
              if ((errno != ENXIO && errno != ENOENT) || i >= 500)
                return -1;
              nanosleep (&ts, NULL);
            }
        }
      /* No type given: try the usual ones, as mount(8) does without -t. */
      for (i = 0; guess[i]; i++)
        if (agent_storage_mount_fn (dev, mp, guess[i], flags, o->data) == 0)
          return 0;
      return kata_make_error (err, errno, "mount block device `%s` on `%s`: unknown filesystem", dev, mp);
    }
  errno = EINVAL;
  return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "unknown storage driver `%s`", driver);
}

int
agent_storage_add (agent_t *a, yajl_val st, char **mount_point, kata_error_t **err)
{
  const char *driver = kata_json_str (st, "driver");
  const char *source = kata_json_str (st, "source");
  const char *fstype = kata_json_str (st, "fstype");
  const char *mp = kata_json_str (st, "mount_point");
  yajl_val opts = kata_json_array (st, "options");
  agent_mount_opts_t o = { 0 };
  agent_storage_t *s;
  char **ov = NULL;
  size_t on = 0, i;
  bool mounted = false;
  int r;

  if (driver == NULL || mp == NULL)
    return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "storage: driver and mount_point are required");
  if (mp[0] != '/' || !path_is_clean_under (mp, KATA_GUEST_RUN_DIR))
    return kata_make_error_nostr (err, EPERM, "storage: mount point `%s` is not under " KATA_GUEST_RUN_DIR,
                                  mp);
  s = agent_storage_find (a, mp);
  if (s)
    {
      s->refs++;
      *mount_point = xstrdup (mp);
      return 0;
    }
  if (source == NULL)
    source = "";
  if (opts)
    {
      ov = xmalloc0 (sizeof (char *) * (opts->u.array.len + 1));
      for (i = 0; i < opts->u.array.len; i++)
        if (YAJL_IS_STRING (opts->u.array.values[i]))
          ov[on++] = YAJL_GET_STRING (opts->u.array.values[i]);
    }
  agent_parse_mount_options (ov, on, &o);
  free (ov);
  if (kata_mkdir_p (mp, 0755, err) < 0)
    {
      agent_mount_opts_free (&o);
      return kata_error_wrap (err, "storage %s", mp);
    }
  {
    kata_error_t *e2 = NULL;
    r = mount_storage (driver, source, fstype, &o, mp, &mounted, &e2);
    agent_mount_opts_free (&o);
    if (r < 0)
      {
        if (e2)
          {
            *err = e2;
            return -1;
          }
        return kata_make_error (err, errno, "mount %s storage `%s` on `%s`", driver, source, mp);
      }
  }
  s = xmalloc0 (sizeof *s);
  s->mount_point = xstrdup (mp);
  s->driver = xstrdup (driver);
  s->refs = 1;
  s->mounted = mounted;
  s->next = a->storages;
  a->storages = s;
  *mount_point = xstrdup (mp);
  agent_log ("storage %s (%s) mounted", mp, driver);
  return 0;
}

int
agent_storage_release (agent_t *a, const char *mount_point)
{
  agent_storage_t **pp, *s;
  for (pp = &a->storages; (s = *pp); pp = &s->next)
    if (strcmp (s->mount_point, mount_point) == 0)
      break;
  if (s == NULL)
    return -1;
  if (--s->refs > 0)
    return s->refs;
  *pp = s->next;
  if (s->mounted)
    {
      if (agent_storage_umount_fn (s->mount_point) < 0)
        agent_log ("umount %s: %s", s->mount_point, strerror (errno));
    }
  rmdir (s->mount_point);
  free (s->mount_point);
  free (s->driver);
  free (s);
  return 0;
}

int
agent_storages_mount (agent_t *a, yajl_val arr, char ***mps, size_t *n, kata_error_t **err)
{
  size_t i;
  *mps = NULL;
  *n = 0;
  if (arr == NULL)
    return 0;
  *mps = xmalloc0 (sizeof (char *) * (arr->u.array.len + 1));
  for (i = 0; i < arr->u.array.len; i++)
    {
      char *mp = NULL;
      if (agent_storage_add (a, arr->u.array.values[i], &mp, err) < 0)
        {
          while (*n > 0)
            {
              (*n)--;
              agent_storage_release (a, (*mps)[*n]);
              free ((*mps)[*n]);
            }
          free (*mps);
          *mps = NULL;
          return -1;
        }
      (*mps)[(*n)++] = mp;
    }
  return 0;
}
