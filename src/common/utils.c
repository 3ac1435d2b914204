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
#include <sys/un.h>
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
  kata_buf_t b = { 0 };
  if (max == 0)
    max = 64 << 20;
  for (;;)
    {
      size_t room = b.len < 4096 ? 4096 : b.len;
      ssize_t r = read (fd, kata_buf_reserve (&b, room), room);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          kata_buf_clear (&b);
          return kata_make_error (err, e, "read");
        }
      if (r == 0)
        break;
      kata_buf_commit (&b, (size_t)r);
      if (b.len > max)
        {
          kata_buf_clear (&b);
          return kata_make_error (err, EFBIG, "file larger than %zu bytes", max);
        }
    }
  if (len)
    *len = b.len;
  *out = kata_buf_steal (&b);
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
  cleanup_free char *tmp = xasprintf ("%s.tmp.%d", path, (int)getpid ());
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
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
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
  return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
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
kata_send_fd_data (int sock, int fd, const void *data, size_t len)
{
  struct msghdr mh = { 0 };
  struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct cmsghdr *cmsg;
  ssize_t n;

  memset (&u, 0, sizeof u);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = u.buf;
  mh.msg_controllen = sizeof u.buf;
  cmsg = CMSG_FIRSTHDR (&mh);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));
  while ((n = sendmsg (sock, &mh, MSG_NOSIGNAL)) < 0)
    if (errno != EINTR)
      return -1;
  return kata_write_all (sock, (const char *)data + n, len - (size_t)n);
}

int
kata_send_fd (int sock, int fd)
{
  return kata_send_fd_data (sock, fd, "", 1);
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
          dprintf (fd, "%s %d\n", name, (int)getpid ());
          close (fd);
        }
    }
  kill (getpid (), SIGKILL);
  for (;;)
    pause ();
#else
  (void)name;
#endif
}

void
kata_strv_free (char **v)
{
  char **p;
  if (v == NULL)
    return;
  for (p = v; *p; p++)
    free (*p);
  free (v);
}

void
kata_strvn_free (char **v, size_t n)
{
  size_t i;
  if (v == NULL)
    return;
  for (i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

size_t
kata_strv_len (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

char *
kata_buf_reserve (kata_buf_t *b, size_t n)
{
  if (b->off + b->len + n + 1 > b->cap)
    {
      if (b->off > 0)
        {
          memmove (b->data, b->data + b->off, b->len);
          b->off = 0;
          b->data[b->len] = '\0';
        }
      if (b->len + n + 1 > b->cap)
        {
          size_t cap = b->cap ? b->cap : 64;
          while (cap < b->len + n + 1)
            cap *= 2;
          b->data = xrealloc (b->data, cap);
          b->cap = cap;
        }
    }
  b->data[b->off + b->len] = '\0';
  return b->data + b->off + b->len;
}

void
kata_buf_commit (kata_buf_t *b, size_t n)
{
  b->len += n;
  b->data[b->off + b->len] = '\0';
}

void
kata_buf_append (kata_buf_t *b, const void *p, size_t n)
{
  char *at = kata_buf_reserve (b, n);
  if (n)
    memcpy (at, p, n);
  kata_buf_commit (b, n);
}

void
kata_buf_appendc (kata_buf_t *b, char c)
{
  kata_buf_append (b, &c, 1);
}

void
kata_buf_appends (kata_buf_t *b, const char *s)
{
  kata_buf_append (b, s, strlen (s));
}

void
kata_buf_consume (kata_buf_t *b, size_t n)
{
  if (n >= b->len)
    {
      b->off = b->len = 0;
      if (b->cap > (1u << 20))
        {
          free (b->data);
          b->data = NULL;
          b->cap = 0;
        }
      else if (b->data)
        b->data[0] = '\0';
      return;
    }
  b->off += n;
  b->len -= n;
}

void
kata_buf_clear (kata_buf_t *b)
{
  free (b->data);
  memset (b, 0, sizeof *b);
}

char *
kata_buf_steal (kata_buf_t *b)
{
  char *s;
  if (b->data == NULL)
    return xstrdup ("");
  if (b->off > 0)
    memmove (b->data, b->data + b->off, b->len + 1);
  s = b->data;
  memset (b, 0, sizeof *b);
  return s;
}

/* Fills ADDR for PATH; a path too long for sun_path goes through an O_PATH fd of its
   directory, returned in *DFD (the caller closes it once bind/connect is done). */
static int
unix_addr (const char *path, struct sockaddr_un *addr, int *dfd, kata_error_t **err)
{
  cleanup_free char *dir = NULL;
  char *slash;
  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  *dfd = -1;
  if (strlen (path) < sizeof addr->sun_path)
    {
      strcpy (addr->sun_path, path);
      return 0;
    }
  dir = xstrdup (path);
  slash = strrchr (dir, '/');
  if (slash == NULL || strlen (slash + 1) + 32 >= sizeof addr->sun_path)
    return kata_make_error (err, ENAMETOOLONG, "socket path `%s`", path);
  *slash = '\0';
  *dfd = open (dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*dfd < 0)
    return kata_make_error (err, errno, "open `%s`", dir[0] ? dir : "/");
  snprintf (addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", *dfd, slash + 1);
  return 0;
}

int
kata_unix_connect (const char *path, int flags, kata_error_t **err)
{
  struct sockaddr_un addr;
  cleanup_close int dfd = -1;
  int fd, r;
  if (unix_addr (path, &addr, &dfd, err) < 0)
    return -1;
  fd = socket (AF_UNIX, SOCK_STREAM | flags, 0);
  if (fd < 0)
    return kata_make_error (err, errno, "socket");
  do
    r = connect (fd, (struct sockaddr *)&addr, sizeof addr);
  while (r < 0 && errno == EINTR);
  if (r < 0 && !(errno == EINPROGRESS && (flags & SOCK_NONBLOCK)))
    {
      int e = errno;
      close (fd);
      kata_make_error (err, e, "connect to `%s`", path);
      errno = e;
      return -1;
    }
  return fd;
}

int
kata_unix_listen (const char *path, int flags, int backlog, kata_error_t **err)
{
  struct sockaddr_un addr;
  cleanup_close int dfd = -1;
  int fd;
  if (unix_addr (path, &addr, &dfd, err) < 0)
    return -1;
  fd = socket (AF_UNIX, SOCK_STREAM | flags, 0);
  if (fd < 0)
    return kata_make_error (err, errno, "socket");
  unlink (addr.sun_path);
  if (bind (fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen (fd, backlog) < 0)
    {
      int e = errno;
      close (fd);
      kata_make_error (err, e, "listen on `%s`", path);
      errno = e;
      return -1;
    }
  return fd;
}

int
kata_write_pid_file (const char *path, pid_t pid, kata_error_t **err)
{
  char buf[32];
  int n;
  if (path == NULL || path[0] == '\0')
    return 0;
  n = snprintf (buf, sizeof buf, "%d", (int)pid);
  if (kata_write_file_atomic (path, buf, (size_t)n, 0644, err) < 0)
    return kata_error_wrap (err, "write pid file");
  return 0;
}

static int
has_subdir (const char *path)
{
  cleanup_dir DIR *d = opendir (path);
  struct dirent *de;
  while (d && (de = readdir (d)))
    if (de->d_type == DT_DIR && strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      return 1;
  return 0;
}

int
kata_cgroup_rmdir (const char *path, int unless_used)
{
  int tries;
  for (tries = 0; tries < 50; tries++)
    {
      cleanup_free char *procs = NULL;
      cleanup_free char *p = NULL;
      struct timespec ts = { 0, 20 * 1000 * 1000 };
      if (rmdir (path) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY)
        return -1;
      p = xasprintf ("%s/cgroup.procs", path);
      if (unless_used
          && (kata_read_file (p, &procs, NULL, 65536, NULL) < 0 || procs[0] != '\0' || has_subdir (path)))
        {
          errno = EBUSY;
          return -1;
        }
      nanosleep (&ts, NULL);
    }
  errno = EBUSY;
  return -1;
}
