/* Mount options (parsed as runc does), safe path resolution inside a root, and the
   container's rootfs setup (runs in the child, in its new mount namespace). */
#include "config.h"
#include "agent/agent.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

struct opt
{
  const char *name;
  bool clear;
  unsigned long flag;
};

static const struct opt mount_opts[] = {
  { "async", true, MS_SYNCHRONOUS },
  { "atime", true, MS_NOATIME },
  { "bind", false, MS_BIND },
  { "defaults", false, 0 },
  { "dev", true, MS_NODEV },
  { "diratime", true, MS_NODIRATIME },
  { "dirsync", false, MS_DIRSYNC },
  { "exec", true, MS_NOEXEC },
  { "iversion", false, MS_I_VERSION },
  { "lazytime", false, MS_LAZYTIME },
  { "loud", true, MS_SILENT },
  { "mand", false, MS_MANDLOCK },
  { "noatime", false, MS_NOATIME },
  { "nodev", false, MS_NODEV },
  { "nodiratime", false, MS_NODIRATIME },
  { "noexec", false, MS_NOEXEC },
  { "noiversion", true, MS_I_VERSION },
  { "nolazytime", true, MS_LAZYTIME },
  { "nomand", true, MS_MANDLOCK },
  { "norelatime", true, MS_RELATIME },
  { "nostrictatime", true, MS_STRICTATIME },
  { "nosuid", false, MS_NOSUID },
  { "rbind", false, MS_BIND | MS_REC },
  { "relatime", false, MS_RELATIME },
  { "remount", false, MS_REMOUNT },
  { "ro", false, MS_RDONLY },
  { "rw", true, MS_RDONLY },
  { "silent", false, MS_SILENT },
  { "strictatime", false, MS_STRICTATIME },
  { "suid", true, MS_NOSUID },
  { "sync", false, MS_SYNCHRONOUS },
  { NULL, false, 0 },
};

static const struct opt prop_opts[] = {
  { "private", false, MS_PRIVATE },
  { "rprivate", false, MS_PRIVATE | MS_REC },
  { "shared", false, MS_SHARED },
  { "rshared", false, MS_SHARED | MS_REC },
  { "slave", false, MS_SLAVE },
  { "rslave", false, MS_SLAVE | MS_REC },
  { "unbindable", false, MS_UNBINDABLE },
  { "runbindable", false, MS_UNBINDABLE | MS_REC },
  { NULL, false, 0 },
};

unsigned long
agent_propagation_flag (const char *name)
{
  const struct opt *o;
  if (name == NULL)
    return 0;
  for (o = prop_opts; o->name; o++)
    if (strcmp (o->name, name) == 0)
      return o->flag;
  return 0;
}

int
agent_parse_mount_options (char **opts, size_t n, agent_mount_opts_t *out)
{
  size_t i;
  kata_buf_t data = { 0 };
  memset (out, 0, sizeof *out);
  for (i = 0; i < n; i++)
    {
      const struct opt *o;
      const char *s = opts[i];
      unsigned long p;
      if (s == NULL || *s == '\0')
        continue;
      for (o = mount_opts; o->name; o++)
        if (strcmp (o->name, s) == 0)
          break;
      if (o->name)
        {
          if (o->clear)
            {
              out->flags &= ~o->flag;
              out->clear |= o->flag;
            }
          else
            {
              out->flags |= o->flag;
              out->clear &= ~o->flag;
            }
          if (strcmp (s, "bind") == 0)
            out->bind = true;
          if (strcmp (s, "rbind") == 0)
            out->bind = out->rbind = true;
          continue;
        }
      p = agent_propagation_flag (s);
      if (p)
        {
          out->propagation = p;
          continue;
        }
      /* runc extensions that do not apply in the guest */
      if (strcmp (s, "tmpcopyup") == 0 || strcmp (s, "idmap") == 0 || strcmp (s, "ridmap") == 0
          || strcmp (s, "rro") == 0)
        continue;
      if (data.len)
        kata_buf_append (&data, ",", 1);
      kata_buf_append (&data, s, strlen (s));
    }
  if (data.len)
    {
      out->data = xstrndup ((char *)data.data + data.off, data.len);
      kata_buf_clear (&data);
    }
  return 0;
}

void
agent_mount_opts_free (agent_mount_opts_t *o)
{
  free (o->data);
  o->data = NULL;
}

/* ---- path resolution ---- */

static void
path_pop (char *cur)
{
  char *s = strrchr (cur, '/');
  if (s)
    *s = '\0';
  else
    cur[0] = '\0';
}

char *
agent_resolve_in_root (const char *root, const char *path, int create, kata_error_t **err)
{
  cleanup_free char *rem = xstrdup (path ? path : "");
  char cur[PATH_MAX - 256] = ""; /* "" or "/a/b": resolved, symlink-free, relative to root */
  int links = 0;
  size_t rootlen = strlen (root);

  while (rootlen > 1 && root[rootlen - 1] == '/')
    rootlen--;
  for (;;)
    {
      char *p = rem, *comp, *next;
      char full[PATH_MAX * 2];
      struct stat st;
      bool last;
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      comp = p;
      next = strchr (p, '/');
      if (next)
        *next++ = '\0';
      else
        next = p + strlen (p);
      while (*next == '/')
        next++;
      last = *next == '\0';
      if (strcmp (comp, ".") == 0)
        {
          memmove (rem, next, strlen (next) + 1);
          continue;
        }
      if (strcmp (comp, "..") == 0)
        {
          path_pop (cur);
          memmove (rem, next, strlen (next) + 1);
          continue;
        }
      if (strlen (cur) + strlen (comp) + 2 >= sizeof cur)
        return kata_make_error (err, ENAMETOOLONG, "resolve `%s`", path), NULL;
      snprintf (full, sizeof full, "%.*s%s/%s", (int)rootlen, root, cur, comp);
      if (lstat (full, &st) < 0)
        {
          if (errno != ENOENT)
            return kata_make_error (err, errno, "stat `%s`", full), NULL;
          if (create != RESOLVE_NOCREATE)
            {
              if (!last || create == RESOLVE_MKDIR)
                {
                  if (mkdir (full, 0755) < 0 && errno != EEXIST)
                    return kata_make_error (err, errno, "mkdir `%s`", full), NULL;
                }
              else
                {
                  int fd = open (full, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                  if (fd < 0)
                    return kata_make_error (err, errno, "create `%s`", full), NULL;
                  close (fd);
                }
            }
          strcat (cur, "/");
          strcat (cur, comp);
          memmove (rem, next, strlen (next) + 1);
          continue;
        }
      if (S_ISLNK (st.st_mode))
        {
          char target[PATH_MAX];
          ssize_t n;
          char *nrem;
          if (++links > 40)
            return kata_make_error (err, ELOOP, "resolve `%s`", path), NULL;
          n = readlink (full, target, sizeof target - 1);
          if (n < 0)
            return kata_make_error (err, errno, "readlink `%s`", full), NULL;
          target[n] = '\0';
          if (target[0] == '/')
            cur[0] = '\0';
          nrem = xasprintf ("%s/%s", target, next);
          free (rem);
          rem = nrem;
          continue;
        }
      strcat (cur, "/");
      strcat (cur, comp);
      memmove (rem, next, strlen (next) + 1);
    }
  return xasprintf ("%.*s%s", (int)rootlen, root, cur[0] ? cur : (rootlen ? "" : "/"));
}

/* ---- rootfs setup (in the child) ---- */

static int
mount_err (kata_error_t **err, const char *what, const char *src, const char *dst)
{
  return kata_make_error (err, errno, "mount %s `%s` on `%s`", what, src ? src : "", dst);
}

static bool
is_bind (runtime_spec_schema_defs_mount *m, agent_mount_opts_t *o)
{
  return o->bind || (m->type && strcmp (m->type, "bind") == 0);
}

static bool
path_under (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  if (n == 1 && dir[0] == '/')
    return path[0] == '/';
  return strncmp (path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Opens DEST (already resolved by agent_resolve_in_root) with O_PATH|O_NOFOLLOW and checks
   that what was opened is inside ROOTFS, so that a component swapped for a symlink since
   the walk cannot redirect the mount; PROCFD gets "/proc/self/fd/N", the path to mount on
   (as runc does).  Returns the fd (the caller closes it). */
static int
open_dest_in_root (const char *rootfs, const char *dest, char *procfd, size_t len, kata_error_t **err)
{
  char real_root[PATH_MAX], link[PATH_MAX];
  ssize_t n;
  int fd;

  if (realpath (rootfs, real_root) == NULL)
    return kata_make_error (err, errno, "rootfs `%s`", rootfs);
  fd = open (dest, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return kata_make_error (err, errno, "open `%s`", dest);
  snprintf (procfd, len, "/proc/self/fd/%d", fd);
  n = readlink (procfd, link, sizeof link - 1);
  if (n < 0)
    {
      int e = errno;
      close (fd);
      return kata_make_error (err, e, "readlink `%s`", procfd);
    }
  link[n] = '\0';
  if (!path_under (link, real_root))
    {
      close (fd);
      return kata_make_error (
          err, EPERM, "mount destination `%s` resolves to `%s`, outside the container's rootfs", dest, link);
    }
  return fd;
}

/* A bind source in the guest must be in the agent's run dir: the shared dir or a storage
   (ephemeral, local, blk, ...), after symlinks.  REAL gets the resolved path. */
static int
check_bind_source (const char *src, char *real, kata_error_t **err)
{
  if (src == NULL || src[0] != '/')
    return kata_make_error_nostr (err, EPERM, "bind mount source `%s` is not an absolute path",
                                  src ? src : "");
  if (realpath (src, real) == NULL)
    return kata_make_error (err, errno, "bind mount source `%s`", src);
  if (!path_under (real, KATA_GUEST_RUN_DIR))
    return kata_make_error_nostr (
        err, EPERM, "bind mount source `%s` (`%s`) is outside the shared dir and the sandbox's storages", src,
        real);
  return 0;
}

/* DEFER_RO: mount read-write even with "ro" (the caller remounts it read-only later, once
   it has made what goes in it: /dev, as runc does). */
static int
do_spec_mount (const char *rootfs, runtime_spec_schema_defs_mount *m, bool defer_ro, kata_error_t **err)
{
  agent_mount_opts_t o;
  cleanup_free char *dest = NULL;
  const char *type = m->type;
  unsigned long flags;
  bool bind;
  int create = RESOLVE_MKDIR;
  struct stat st;
  char procfd[64];
  int dest_fd = -1;

  agent_parse_mount_options (m->options, m->options_len, &o);
  bind = is_bind (m, &o);
  if (bind && m->source && stat (m->source, &st) == 0 && !S_ISDIR (st.st_mode))
    create = RESOLVE_MKFILE;
  dest = agent_resolve_in_root (rootfs, m->destination, create, err);
  if (dest == NULL)
    {
      agent_mount_opts_free (&o);
      return -1;
    }
  flags = o.flags;
  if (defer_ro)
    flags &= ~(unsigned long)MS_RDONLY;
  {
    char real_src[PATH_MAX];
    int fd;
    if (bind && check_bind_source (m->source, real_src, err) < 0)
      {
        agent_mount_opts_free (&o);
        return -1;
      }
    fd = open_dest_in_root (rootfs, dest, procfd, sizeof procfd, err);
    if (fd < 0)
      {
        agent_mount_opts_free (&o);
        return -1;
      }
    if (bind)
      {
        int r = mount (real_src, procfd, NULL, MS_BIND | (o.rbind ? MS_REC : 0), NULL);
        int e = errno;
        close (fd);
        if (r < 0)
          {
            errno = e;
            mount_err (err, "bind", m->source, m->destination);
            agent_mount_opts_free (&o);
            return -1;
          }
      }
    else
      dest_fd = fd; /* mounted on below, through PROCFD */
  }
  if (bind)
    {
      if (flags & ~(MS_BIND | MS_REC | MS_REMOUNT))
        {
          unsigned long keep = 0;
          struct statvfs sv;
          /* Keep the locked flags of the source (nosuid/nodev/noexec). */
          if (statvfs (dest, &sv) == 0)
            keep = sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
          if (mount (NULL, dest, NULL, (flags & ~MS_REC) | keep | MS_BIND | MS_REMOUNT, NULL) < 0)
            {
              mount_err (err, "remount", m->source, m->destination);
              agent_mount_opts_free (&o);
              return -1;
            }
        }
    }
  else
    {
      const char *src = m->source ? m->source : type;
      if (type == NULL)
        type = "none";
      if (strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0)
        {
          /* The guest is cgroup v2 only: mount the container's cgroup namespace view. */
          if (mount ("cgroup2", procfd, "cgroup2", flags & ~MS_REC, NULL) < 0)
            agent_log ("mount cgroup2 on %s: %s", dest, strerror (errno));
          close (dest_fd);
          agent_mount_opts_free (&o);
          return 0;
        }
      if (mount (src, procfd, type, flags & ~MS_REC, o.data) < 0)
        {
          int e = errno;
          close (dest_fd);
          errno = e;
          /* mqueue/sysfs may be refused in some namespace setups: bind instead, as runc does */
          if ((errno == EPERM || errno == EBUSY) && strcmp (type, "sysfs") == 0)
            {
              if (mount ("/sys", dest, NULL, MS_BIND | MS_REC, NULL) == 0)
                {
                  agent_mount_opts_free (&o);
                  return 0;
                }
            }
          mount_err (err, type, src, m->destination);
          agent_mount_opts_free (&o);
          return -1;
        }
      close (dest_fd);
    }
  if (o.propagation && mount (NULL, dest, NULL, o.propagation, NULL) < 0)
    {
      mount_err (err, "propagation", NULL, m->destination);
      agent_mount_opts_free (&o);
      return -1;
    }
  agent_mount_opts_free (&o);
  return 0;
}

struct dev
{
  const char *name;
  unsigned maj, min;
};

static const struct dev default_devs[] = {
  { "null", 1, 3 },    { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 },
  { "urandom", 1, 9 }, { "tty", 5, 0 },  { NULL, 0, 0 },
};

/* true when the spec's linux.devices has an entry at PATH (it replaces a default node) */
static bool
spec_lists_device (runtime_spec_schema_config_schema *spec, const char *path)
{
  size_t i;
  for (i = 0; spec->linux && i < spec->linux->devices_len; i++)
    {
      const char *p = spec->linux->devices[i]->path;
      if (p && strcmp (p, path) == 0)
        return true;
    }
  return false;
}

/* Makes the node of a linux.devices entry at its path in the container, as given (type,
   numbers, mode, uid, gid).  The parent is resolved inside the rootfs; the last
   component is not followed: a file or symlink already there (a node of the rootfs, the
   /dev/ptmx symlink) is replaced, as runc's fresh /dev would have none. */
static int
make_spec_device (const char *rootfs, runtime_spec_schema_defs_linux_device *dv, size_t i, kata_error_t **err)
{
  cleanup_free char *dir = NULL, *rdir = NULL, *p = NULL;
  const char *base;
  char *slash;
  mode_t type;
  struct stat st;

  if (dv->path == NULL || dv->path[0] != '/')
    return kata_make_error_nostr (err, EINVAL, "linux.devices[%zu]: path must be absolute", i);
  switch (dv->type ? dv->type[0] : 'c')
    {
    case 'b':
      type = S_IFBLK;
      break;
    case 'p':
      type = S_IFIFO;
      break;
    default: /* c, u */
      type = S_IFCHR;
    }
  dir = xstrdup (dv->path);
  while (strlen (dir) > 1 && dir[strlen (dir) - 1] == '/')
    dir[strlen (dir) - 1] = '\0';
  slash = strrchr (dir, '/');
  base = slash + 1;
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return kata_make_error_nostr (err, EINVAL, "linux.devices[%zu]: invalid path `%s`", i, dv->path);
  *slash = '\0';
  rdir = agent_resolve_in_root (rootfs, *dir ? dir : "/", RESOLVE_MKDIR, err);
  if (rdir == NULL)
    return kata_error_wrap (err, "device %s", dv->path);
  p = xasprintf ("%s/%s", rdir, base);
  if (lstat (p, &st) == 0)
    {
      if (S_ISDIR (st.st_mode))
        return kata_make_error_nostr (err, EISDIR, "mknod `%s`: a directory is in the way", dv->path);
      if (unlink (p) < 0)
        return kata_make_error (err, errno, "mknod `%s`: remove the file in the way", dv->path);
    }
  if (mknod (p, type | (dv->file_mode_present ? dv->file_mode & 07777 : 0666), makedev (dv->major, dv->minor))
          < 0
      && errno != EEXIST)
    return kata_make_error (err, errno, "mknod `%s`", dv->path);
  if (lchown (p, dv->uid_present ? dv->uid : 0, dv->gid_present ? dv->gid : 0) < 0)
    agent_log ("chown %s: %s", p, strerror (errno));
  return 0;
}

/* /dev as runc makes it: the default nodes (those the spec lists are its own), the spec's
   linux.devices, then /dev/ptmx -> pts/ptmx (replacing a ptmx node of the spec, as runc's
   setupPtmx does) and the fd links. */
static int
create_devices (runtime_spec_schema_config_schema *spec, const char *rootfs, kata_error_t **err)
{
  const struct dev *d;
  size_t i;
  char path[PATH_MAX];
  static const char *links[][2] = {
    { "/proc/self/fd", "fd" },       { "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
    { "/proc/self/fd/2", "stderr" }, { "pts/ptmx", "ptmx" },
  };
  mode_t old = umask (0);
  for (d = default_devs; d->name; d++)
    {
      snprintf (path, sizeof path, "/dev/%s", d->name);
      if (spec_lists_device (spec, path))
        continue;
      snprintf (path, sizeof path, "%s/dev/%s", rootfs, d->name);
      if (mknod (path, S_IFCHR | 0666, makedev (d->maj, d->min)) < 0 && errno != EEXIST)
        {
          /* fall back to a bind of the guest's node */
          char host[64];
          int fd;
          snprintf (host, sizeof host, "/dev/%s", d->name);
          fd = open (path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
          if (fd >= 0)
            close (fd);
          if (mount (host, path, NULL, MS_BIND, NULL) < 0)
            agent_log ("device %s: %s", path, strerror (errno));
        }
    }
  if (spec->linux)
    for (i = 0; i < spec->linux->devices_len; i++)
      if (make_spec_device (rootfs, spec->linux->devices[i], i, err) < 0)
        {
          umask (old);
          return -1;
        }
  for (i = 0; i < sizeof links / sizeof links[0]; i++)
    {
      snprintf (path, sizeof path, "%s/dev/%s", rootfs, links[i][1]);
      if (strcmp (links[i][1], "ptmx") == 0)
        unlink (path);
      (void)!symlink (links[i][0], path);
    }
  umask (old);
  return 0;
}

static int
mask_path (const char *path, kata_error_t **err)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return 0;
  if (S_ISDIR (st.st_mode))
    {
      if (mount ("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k") < 0)
        return mount_err (err, "mask", "tmpfs", path);
      return 0;
    }
  if (mount ("/dev/null", path, NULL, MS_BIND, NULL) < 0)
    return mount_err (err, "mask", "/dev/null", path);
  return 0;
}

static int
readonly_path (const char *path, kata_error_t **err)
{
  struct statvfs sv;
  unsigned long keep = 0;
  if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return mount_err (err, "readonly", path, path);
    }
  if (statvfs (path, &sv) == 0)
    keep = sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (mount (NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
    return mount_err (err, "readonly remount", path, path);
  return 0;
}

static int
write_sysctl (const char *key, const char *val, kata_error_t **err)
{
  char path[PATH_MAX];
  char *p;
  int fd;
  if (strstr (key, "..") || key[0] == '/')
    return kata_make_error_nostr (err, EINVAL, "sysctl `%s`: invalid key", key);
  snprintf (path, sizeof path, "/proc/sys/%s", key);
  for (p = path + 10; *p; p++)
    if (*p == '.')
      *p = '/';
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return kata_make_error (err, errno, "sysctl `%s`", key);
  if (kata_write_all (fd, val, strlen (val)) < 0)
    {
      close (fd);
      return kata_make_error (err, errno, "sysctl `%s`", key);
    }
  close (fd);
  return 0;
}

/* The mount point of the topmost mount that holds PATH: the longest mount point in
   /proc/self/mountinfo that is PATH or one of its parents (the last one listed when
   mounts are stacked).  Malloc'ed, NULL when mountinfo cannot be read. */
static char *
containing_mount (const char *path)
{
  cleanup_free char *data = NULL;
  char *line, *save = NULL, *best = NULL;
  size_t bestlen = 0;
  if (kata_read_file ("/proc/self/mountinfo", &data, NULL, 1 << 24, NULL) < 0)
    return NULL;
  for (line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      /* the fifth field: "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." (no sscanf in the agent:
         docs/agent.md) */
      char *mp = line, *end;
      size_t l;
      int i;
      for (i = 0; i < 4 && mp; i++)
        {
          mp = strchr (mp, ' ');
          if (mp)
            mp++;
        }
      if (mp == NULL || *mp == '\0' || *mp == ' ')
        continue;
      end = strchr (mp, ' ');
      if (end)
        *end = '\0';
      l = strcmp (mp, "/") == 0 ? 0 : strlen (mp);
      if (l && (strncmp (path, mp, l) != 0 || (path[l] != '/' && path[l] != '\0')))
        continue;
      if (best == NULL || l >= bestlen)
        {
          free (best);
          best = xstrdup (mp);
          bestlen = l;
        }
    }
  return best;
}

int
agent_setup_rootfs (runtime_spec_schema_config_schema *spec, const char *rootfs, bool new_mntns,
                    kata_error_t **err)
{
  unsigned long prop = MS_SLAVE | MS_REC;
  size_t i;
  bool has_dev = false, dev_ro = false, dev_bind = false;
  unsigned long dev_flags = 0;
  runtime_spec_schema_config_linux *lx = spec->linux;

  if (!new_mntns)
    return kata_make_error_nostr (err, EINVAL, "a container needs a mount namespace");
  if (lx && lx->rootfs_propagation && agent_propagation_flag (lx->rootfs_propagation))
    prop = agent_propagation_flag (lx->rootfs_propagation);
  if (mount (NULL, "/", NULL, prop, NULL) < 0)
    return mount_err (err, "propagation", NULL, "/");
  if (prop & MS_SHARED)
    {
      /* rootfsPropagation "rshared" (a CRI container with a Bidirectional mount): the mount
         that will be the rootfs bind's parent is now shared, and neither MS_MOVE nor
         pivot_root moves a mount whose parent is shared (EINVAL).  Make that one mount
         private, as runc does (rootfsParentMountPrivate); the rest stays shared. */
      cleanup_free char *parent = containing_mount (rootfs);
      if (parent && mount (NULL, parent, NULL, MS_PRIVATE, NULL) < 0)
        return mount_err (err, "make the rootfs's parent mount private", NULL, parent);
    }
  if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return mount_err (err, "rootfs bind", rootfs, rootfs);
  /* pivot_root needs a private parent. */
  if (mount (NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0)
    agent_log ("make rootfs private: %s", strerror (errno));

  for (i = 0; i < spec->mounts_len; i++)
    {
      runtime_spec_schema_defs_mount *m = spec->mounts[i];
      bool is_dev;
      if (m->destination == NULL)
        continue;
      is_dev = strcmp (m->destination, "/dev") == 0 || strcmp (m->destination, "/dev/") == 0;
      if (is_dev)
        {
          agent_mount_opts_t o;
          has_dev = true;
          agent_parse_mount_options (m->options, m->options_len, &o);
          /* a read-only /dev is populated first and made read-only last (runc's order) */
          dev_ro = (o.flags & MS_RDONLY) != 0;
          dev_bind = is_bind (m, &o);
          dev_flags = o.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
          agent_mount_opts_free (&o);
        }
      if (do_spec_mount (rootfs, m, is_dev, err) < 0)
        return -1;
    }
  if (has_dev && create_devices (spec, rootfs, err) < 0)
    return -1;

  if (chdir (rootfs) < 0)
    return kata_make_error (err, errno, "chdir `%s`", rootfs);
  if (syscall (SYS_pivot_root, ".", ".") == 0)
    {
      if (umount2 (".", MNT_DETACH) < 0)
        return kata_make_error (err, errno, "umount old root");
    }
  else
    {
      /* Root on an initramfs: move the rootfs over / and chroot, as runc --no-pivot. */
      agent_log ("pivot_root: %s; using MS_MOVE", strerror (errno));
      if (mount (rootfs, "/", NULL, MS_MOVE, NULL) < 0)
        return kata_make_error (err, errno, "move rootfs");
      if (chroot (".") < 0)
        return kata_make_error (err, errno, "chroot");
    }
  if (chdir ("/") < 0)
    return kata_make_error (err, errno, "chdir /");

  if (lx)
    {
      if (lx->sysctl)
        for (i = 0; i < lx->sysctl->len; i++)
          if (write_sysctl (lx->sysctl->keys[i], lx->sysctl->values[i], err) < 0)
            return -1;
      for (i = 0; i < lx->masked_paths_len; i++)
        if (mask_path (lx->masked_paths[i], err) < 0)
          return -1;
      for (i = 0; i < lx->readonly_paths_len; i++)
        if (readonly_path (lx->readonly_paths[i], err) < 0)
          return -1;
    }
  if (dev_ro)
    {
      struct statvfs sv;
      if (statvfs ("/dev", &sv) == 0)
        dev_flags |= sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
      if (mount (NULL, "/dev", NULL, MS_REMOUNT | MS_RDONLY | dev_flags | (dev_bind ? MS_BIND : 0), NULL) < 0)
        return kata_make_error (err, errno, "remount /dev read-only");
    }
  if (spec->root && spec->root->readonly)
    {
      if (mount (NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
        return kata_make_error (err, errno, "remount rootfs read-only");
    }
  return 0;
}
