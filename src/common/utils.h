/* Small helpers shared by the runtime and the agent. */
#ifndef KATA_UTILS_H
#define KATA_UTILS_H
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/types.h>
#include "common/error.h"

void *xmalloc (size_t size);
void *xmalloc0 (size_t size);
void *xrealloc (void *p, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static inline void cleanup_freep (void *p) { free (*(void **) p); }
static inline void cleanup_closep (int *fd) { if (*fd >= 0) close (*fd); }
static inline void cleanup_filep (FILE **f) { if (*f) fclose (*f); }
static inline void cleanup_dirp (DIR **d) { if (*d) closedir (*d); }
#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_file __attribute__ ((cleanup (cleanup_filep)))
#define cleanup_dir __attribute__ ((cleanup (cleanup_dirp)))

/* Hands ownership of *P to the caller: returns it and sets *P to NULL/-1. */
#define STEAL_POINTER(pp) ({ __typeof__ (*(pp)) _p = *(pp); *(pp) = NULL; _p; })
static inline int steal_fd (int *fd) { int r = *fd; *fd = -1; return r; }

/* Reads a whole file (at most MAX bytes; 0 = 64 MiB).  NUL-terminated. */
int kata_read_file (const char *path, char **out, size_t *len, size_t max, kata_error_t **err);
int kata_read_fd (int fd, char **out, size_t *len, size_t max, kata_error_t **err);
/* write(2)/read(2) of exactly LEN bytes, retrying on EINTR. -1 + errno on failure,
   kata_read_all returns 0 at a clean EOF before any byte, else LEN. */
int kata_write_all (int fd, const void *buf, size_t len);
ssize_t kata_read_all (int fd, void *buf, size_t len);
/* Atomic write: temp file in the same dir, fsync, rename, fsync dir. MODE for the file. */
int kata_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode, kata_error_t **err);
/* mkdir -p with MODE for each created component. */
int kata_mkdir_p (const char *path, mode_t mode, kata_error_t **err);
/* rm -rf that never crosses into another filesystem (mounts are left alone and reported). */
int kata_rm_rf (const char *path, kata_error_t **err);

/* Process start time (field 22 of /proc/PID/stat), 0 if the pid does not exist. */
unsigned long long kata_proc_start_time (pid_t pid);
/* True when PID exists, is not a zombie, and has START_TIME (0 = don't check). */
int kata_proc_alive (pid_t pid, unsigned long long start_time);

/* Monotonic time in ns, and wall-clock RFC3339 with nanoseconds in BUF (>= 40 bytes). */
uint64_t kata_now_ns (void);
void kata_rfc3339_now (char *buf, size_t len);

/* The value of hexadecimal digit C, or -1. */
static inline int
kata_hexval (int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int kata_set_cloexec (int fd, int on);
int kata_set_nonblock (int fd, int on);

/* Sends/receives one fd over a unix socket with SCM_RIGHTS (one data byte). */
int kata_send_fd (int sock, int fd);
/* Sends DATA (LEN > 0 bytes, all of them) with FD attached to its first byte: QMP's getfd,
   runc's console socket (the pty's name).  0, or -1 + errno. */
int kata_send_fd_data (int sock, int fd, const void *data, size_t len);
int kata_recv_fd (int sock);

/* Fault injection (docs/lifecycle.md "Fault injection"): in a build configured with
   --enable-fault-injection, the process SIGKILLs itself at the point NAME when
   $KATA_FAULT_INJECT == NAME (after appending NAME to $KATA_FAULT_MARK, if set), to
   look like a crash there.  In other builds it does nothing.  A function, not a
   macro, so that whether it is active never depends on config.h being included. */
void kata_fault_point (const char *name);

/* String vectors: NULL-terminated (kata_strv_free), or counted arrays whose slots may be
   NULL (kata_strvn_free).  Both accept NULL. */
void kata_strv_free (char **v);
void kata_strvn_free (char **v, size_t n);
size_t kata_strv_len (char *const *v);
static inline void cleanup_strvp (char ***v) { kata_strv_free (*v); }
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))

/* A growable byte buffer, also a queue: the valid bytes are data[off .. off+len), and
   data[off+len] is always '\0' once anything was added, so it doubles as a string builder.
   Zero-initialise; kata_buf_clear frees. */
typedef struct kata_buf_s
{
  char *data;
  size_t off, len, cap;
} kata_buf_t;
/* Room for N more bytes (plus the NUL) at the returned pointer; kata_buf_commit (B, K)
   then makes the K bytes written there part of the buffer. */
char *kata_buf_reserve (kata_buf_t *b, size_t n);
void kata_buf_commit (kata_buf_t *b, size_t n);
void kata_buf_append (kata_buf_t *b, const void *p, size_t n);
void kata_buf_appendc (kata_buf_t *b, char c);
void kata_buf_appends (kata_buf_t *b, const char *s);
/* Drops the first N valid bytes (all of them when N >= len). */
void kata_buf_consume (kata_buf_t *b, size_t n);
void kata_buf_clear (kata_buf_t *b);
static inline char *kata_buf_ptr (const kata_buf_t *b) { return b->data ? b->data + b->off : NULL; }
/* The contents as a malloc'ed NUL-terminated string (never NULL); B is left empty. */
char *kata_buf_steal (kata_buf_t *b);

/* Unix sockets for paths of any length: a path longer than sun_path is reached through
   its directory (O_PATH fd, /proc/self/fd/N/NAME), never truncated.  FLAGS are
   SOCK_CLOEXEC / SOCK_NONBLOCK for socket(2).  kata_unix_listen unlinks a stale socket
   first.  Both return the fd, or -1 with ERR set. */
int kata_unix_connect (const char *path, int flags, kata_error_t **err);
int kata_unix_listen (const char *path, int flags, int backlog, kata_error_t **err);

/* Writes PID as decimal (no newline, as runc) to PATH atomically (mode 0644). */
int kata_write_pid_file (const char *path, pid_t pid, kata_error_t **err);

/* rmdir of a cgroup directory whose processes may have just exited: retries EBUSY for up
   to 1 s.  With UNLESS_USED, a directory that still lists a process or has a child cgroup
   is in use: -1 (EBUSY) at once.  0 when it is gone (or never existed), else -1 + errno. */
int kata_cgroup_rmdir (const char *path, int unless_used);

#endif
