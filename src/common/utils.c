#include "config.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>

void *
xmalloc (size_t size)
{
  void *p = malloc (size ? size : 1);
  if (p == NULL)
    abort ();
  return p;
}

void *
xmalloc0 (size_t size)
{
  void *p = calloc (1, size ? size : 1);
  if (p == NULL)
    abort ();
  return p;
}

void *
xrealloc (void *p, size_t size)
{
  void *r = realloc (p, size ? size : 1);
  if (r == NULL)
    abort ();
  return r;
}

char *
xstrdup (const char *s)
{
  char *r;
  if (s == NULL)
    return NULL;
  r = strdup (s);
  if (r == NULL)
    abort ();
  return r;
}

char *
xstrndup (const char *s, size_t n)
{
  char *r = strndup (s, n);
  if (r == NULL)
    abort ();
  return r;
}

char *
xasprintf (const char *fmt, ...)
{
  char *r = NULL;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (&r, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return r;
}

int
kata_read_fd (int fd, char **out, size_t *len, size_t max, kata_error_t **err)
{
  size_t cap = 4096, n = 0;
  char *buf;
  if (max == 0)
    max = 64 << 20;
  buf = xmalloc (cap + 1);
  for (;;)
    {
      ssize_t r;
      if (n == cap)
        {
          if (cap >= max)
            {
              free (buf);
              return kata_make_error (err, EFBIG, "file larger than %zu bytes", max);
            }
          cap *= 2;
          buf = xrealloc (buf, cap + 1);
        }
      r = read (fd, buf + n, cap - n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          free (buf);
          return kata_make_error (err, e, "read");
        }
      if (r == 0)
        break;
      n += r;
    }
  buf[n] = '\0';
  *out = buf;
  if (len)
    *len = n;
  return 0;
}

int
kata_read_file (const char *path, char **out, size_t *len, size_t max, kata_error_t **err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return kata_make_error (err, errno, "open `%s`", path);
  if (kata_read_fd (fd, out, len, max, err) < 0)
    return kata_error_wrap (err, "read `%s`", path);
  return 0;
}

int
kata_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t r = write (fd, p, len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -1;
      p += r;
      len -= r;
    }
  return 0;
}

ssize_t
kata_read_all (int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;
  while (got < len)
    {
      ssize_t r = read (fd, p + got, len - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -1;
      if (r == 0)
        {
          if (got == 0)
            return 0;
          errno = EPIPE;
          return -1;
        }
      got += r;
    }
  return got;
}

int
kata_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode, kata_error_t **err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp.%d", path, (int) getpid ());
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  int fd;

  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return kata_make_error (err, errno, "open `%s`", tmp);
  if (kata_write_all (fd, data, len) < 0 || fsync (fd) < 0)
    {
      int e = errno;
      close (fd);
      unlink (tmp);
      return kata_make_error (err, e, "write `%s`", tmp);
    }
  close (fd);
  if (rename (tmp, path) < 0)
    {
      int e = errno;
      unlink (tmp);
      return kata_make_error (err, e, "rename `%s`", path);
    }
  if (slash)
    {
      *slash = '\0';
      int dfd = open (*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0)
        {
          fsync (dfd);
          close (dfd);
        }
    }
  return 0;
}

int
kata_mkdir_p (const char *path, mode_t mode, kata_error_t **err)
{
  cleanup_free char *p = xstrdup (path);
  char *s;
  for (s = p + 1; *s; s++)
    {
      if (*s != '/')
        continue;
      *s = '\0';
      if (mkdir (p, mode) < 0 && errno != EEXIST)
        return kata_make_error (err, errno, "mkdir `%s`", p);
      *s = '/';
    }
  if (mkdir (p, mode) < 0 && errno != EEXIST)
    return kata_make_error (err, errno, "mkdir `%s`", p);
  return 0;
}

static int
rm_rf_at (int dfd, const char *name, dev_t dev, kata_error_t **err)
{
  struct stat st;
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : kata_make_error (err, errno, "stat `%s`", name);
  if (S_ISDIR (st.st_mode))
    {
      int fd;
      DIR *d;
      struct dirent *de;
      if (st.st_dev != dev)
        return kata_make_error (err, EBUSY, "`%s` is a mount point", name);
      fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return kata_make_error (err, errno, "open `%s`", name);
      d = fdopendir (fd);
      if (d == NULL)
        {
          close (fd);
          return kata_make_error (err, errno, "opendir `%s`", name);
        }
      while ((de = readdir (d)))
        {
          if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
            continue;
          if (rm_rf_at (dirfd (d), de->d_name, dev, err) < 0)
            {
              closedir (d);
              return -1;
            }
        }
      closedir (d);
      if (unlinkat (dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return kata_make_error (err, errno, "rmdir `%s`", name);
      return 0;
    }
  if (unlinkat (dfd, name, 0) < 0 && errno != ENOENT)
    return kata_make_error (err, errno, "unlink `%s`", name);
  return 0;
}

int
kata_rm_rf (const char *path, kata_error_t **err)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    return errno == ENOENT ? 0 : kata_make_error (err, errno, "stat `%s`", path);
  if (rm_rf_at (AT_FDCWD, path, st.st_dev, err) < 0)
    return kata_error_wrap (err, "remove `%s`", path);
  return 0;
}

unsigned long long
kata_proc_start_time (pid_t pid)
{
  char path[64], buf[1024];
  ssize_t n;
  char *p;
  int fd, field;
  unsigned long long st = 0;

  if (pid <= 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  p = strrchr (buf, ')');
  if (p == NULL)
    return 0;
  p += 2; /* now at field 3 (state) */
  if (*p == 'Z' || *p == 'X')
    return 0;
  for (field = 3; field < 22 && p; field++)
    {
      p = strchr (p, ' ');
      if (p)
        p++;
    }
  if (p)
    st = strtoull (p, NULL, 10);
  return st ? st : 1;
}

int
kata_proc_alive (pid_t pid, unsigned long long start_time)
{
  unsigned long long st = kata_proc_start_time (pid);
  if (st == 0)
    return 0;
  return start_time == 0 || st == start_time;
}

uint64_t
kata_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void
kata_rfc3339_now (char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;
  char base[32], zone[8];
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (zone, sizeof zone, "Z");
  snprintf (buf, len, "%s.%09ld%s", base, ts.tv_nsec, zone);
}

int
kata_set_cloexec (int fd, int on)
{
  int f = fcntl (fd, F_GETFD);
  if (f < 0)
    return -1;
  return fcntl (fd, F_SETFD, on ? (f | FD_CLOEXEC) : (f & ~FD_CLOEXEC));
}

int
kata_set_nonblock (int fd, int on)
{
  int f = fcntl (fd, F_GETFL);
  if (f < 0)
    return -1;
  return fcntl (fd, F_SETFL, on ? (f | O_NONBLOCK) : (f & ~O_NONBLOCK));
}

int
kata_send_fd (int sock, int fd)
{
  struct msghdr msg = { 0 };
  struct iovec iov;
  char data = '\0';
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct cmsghdr *cmsg;

  memset (&u, 0, sizeof u);
  iov.iov_base = &data;
  iov.iov_len = 1;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));
  while (sendmsg (sock, &msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

int
kata_recv_fd (int sock)
{
  struct msghdr msg = { 0 };
  struct iovec iov;
  char data;
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct cmsghdr *cmsg;
  int fd = -1;

  iov.iov_base = &data;
  iov.iov_len = 1;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  while (recvmsg (sock, &msg, MSG_CMSG_CLOEXEC) < 0)
    if (errno != EINTR)
      return -1;
  cmsg = CMSG_FIRSTHDR (&msg);
  if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS)
    {
      errno = EBADMSG;
      return -1;
    }
  memcpy (&fd, CMSG_DATA (cmsg), sizeof (int));
  return fd;
}

void
kata_fault_point (const char *name)
{
#ifdef KATA_FAULT_INJECTION
  const char *f = getenv ("KATA_FAULT_INJECT");
  const char *mark = getenv ("KATA_FAULT_MARK");
  if (f == NULL || strcmp (f, name) != 0)
    return;
  if (mark && *mark)
    {
      int fd = open (mark, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0)
        {
          dprintf (fd, "%s %d\n", name, (int) getpid ());
          close (fd);
        }
    }
  kill (getpid (), SIGKILL);
  for (;;)
    pause ();
#else
  (void) name;
#endif
}
