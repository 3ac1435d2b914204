/* QMP client against a scripted fake QMP server on a socketpair. */
#include "config.h"
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/qmp.h"

static void
say (int fd, const char *fmt, ...)
{
  va_list ap;
  char buf[1024];
  va_start (ap, fmt);
  int n = vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  kata_write_all (fd, buf, n);
}

/* Reads one command line; returns its "execute" and fills ID. */
static char *
hear (FILE *in, char *id, size_t idlen)
{
  char line[4096];
  yajl_val v = NULL;
  if (!fgets (line, sizeof line, in))
    return NULL;
  if (kata_json_parse (line, strlen (line), &v, NULL) < 0)
    return NULL;
  snprintf (id, idlen, "%s", kata_json_str (v, "id") ? kata_json_str (v, "id") : "");
  char *cmd = xstrdup (kata_json_str (v, "execute"));
  yajl_tree_free (v);
  return cmd;
}

static void __attribute__ ((noreturn)) server (int fd)
{
  FILE *in = fdopen (dup (fd), "r");
  char id[64];
  char *cmd;
  say (fd, "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7}}, \"capabilities\": [\"oob\"]}}\r\n");
  while ((cmd = hear (in, id, sizeof id)))
    {
      if (strcmp (cmd, "qmp_capabilities") == 0)
        say (fd, "{\"return\": {}, \"id\": \"%s\"}\r\n", id);
      else if (strcmp (cmd, "query-status") == 0)
        {
          /* an event and a reply to someone else first */
          say (fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}\r\n");
          say (fd, "{\"return\": {}, \"id\": \"other\"}\r\n");
          say (fd,
               "{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"running\": false}, \"id\": "
               "\"%s\"}\r\n",
               id);
        }
      else if (strcmp (cmd, "device_del") == 0)
        {
          say (fd, "{\"return\": {}, \"id\": \"%s\"}\r\n", id);
          say (fd,
               "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"other\", \"path\": \"/x\"}}\r\n");
          /* split across writes */
          say (fd, "{\"event\": \"DEVICE_DELETED\", \"data\": ");
          usleep (20000);
          say (fd, "{\"device\": \"blk0\", \"path\": \"/machine/peripheral/blk0\"}}\r\n");
        }
      else if (strcmp (cmd, "query-migrate") == 0)
        say (fd, "{\"return\": {\"status\": \"completed\"}, \"id\": \"%s\"}\r\n", id);
      else if (strcmp (cmd, "quit") == 0)
        {
          say (fd, "{\"return\": {}, \"id\": \"%s\"}\r\n", id);
          say (fd, "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false}}\r\n");
          _exit (0);
        }
      else if (strcmp (cmd, "hang") == 0)
        ; /* never answers */
      else
        say (fd,
             "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command %s has not been found\"}, "
             "\"id\": \"%s\"}\r\n",
             cmd, id);
      free (cmd);
    }
  _exit (0);
}

static void
test_qmp_session (void **state)
{
  int sv[2];
  kata_qmp_t *q = NULL;
  kata_error_t *err = NULL;
  char *status = NULL;
  bool running = true;
  yajl_val ev = NULL;
  (void)state;

  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (sv[0]);
      server (sv[1]);
    }
  close (sv[1]);
  assert_int_equal (kata_qmp_connect_fd (sv[0], 5000, &q, &err), 0);

  assert_int_equal (kata_qmp_query_status (q, &status, &running, &err), 0);
  assert_string_equal (status, "paused");
  assert_false (running);
  free (status);

  /* the STOP event was queued while waiting */
  assert_int_equal (kata_qmp_next_event (q, &ev, 0, &err), 1);
  assert_string_equal (kata_json_str (ev, "event"), "STOP");
  yajl_tree_free (ev);
  assert_int_equal (kata_qmp_next_event (q, &ev, 0, &err), 0);

  /* errors carry QEMU's desc */
  assert_int_equal (kata_qmp_execute (q, "bogus", NULL, NULL, 5000, &err), -1);
  assert_int_equal (err->status, KATA_EPROTO);
  assert_string_equal (err->msg, "QMP bogus: The command bogus has not been found");
  kata_error_free (err);
  err = NULL;

  /* device_del waits for its own DEVICE_DELETED; the other one stays queued */
  assert_int_equal (kata_qmp_device_del (q, "blk0", 5000, &err), 0);
  assert_int_equal (kata_qmp_next_event (q, &ev, 0, &err), 1);
  assert_string_equal (kata_json_str (kata_json_get (ev, "data"), "device"), "other");
  yajl_tree_free (ev);

  assert_int_equal (kata_qmp_query_migrate (q, &status, &err), 0);
  assert_string_equal (status, "completed");
  free (status);

  /* time-outs */
  assert_int_equal (kata_qmp_execute (q, "hang", NULL, NULL, 100, &err), -1);
  assert_int_equal (err->status, KATA_ETIMEOUT);
  kata_error_free (err);
  err = NULL;

  assert_int_equal (kata_qmp_quit (q, &err), 0);
  /* after quit the connection is closed: a clean error, not a hang */
  assert_int_equal (kata_qmp_execute (q, "query-status", NULL, NULL, 5000, &err), -1);
  kata_error_free (err);
  kata_qmp_close (q);
  waitpid (pid, NULL, 0);
}

static void
test_qmp_bad_greeting (void **state)
{
  int sv[2];
  kata_qmp_t *q = NULL;
  kata_error_t *err = NULL;
  (void)state;
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  say (sv[1], "{\"hello\": 1}\n");
  assert_int_equal (kata_qmp_connect_fd (sv[0], 1000, &q, &err), -1);
  assert_int_equal (err->status, KATA_EPROTO);
  kata_error_free (err);
  err = NULL;
  close (sv[1]);

  /* no greeting at all: time-out */
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal (kata_qmp_connect_fd (sv[0], 100, &q, &err), -1);
  assert_int_equal (err->status, KATA_ETIMEOUT);
  kata_error_free (err);
  close (sv[1]);
}

/* Reads one command (a whole line in one message here: the client waits for each
   answer) with recvmsg; *FD gets a descriptor passed along with it, else -1. */
static char *
hear_fd (int sock, char *id, size_t idlen, int *fd)
{
  char line[4096];
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = line, .iov_len = sizeof line - 1 };
  struct msghdr mh
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *c;
  yajl_val v = NULL;
  ssize_t n = recvmsg (sock, &mh, 0);
  *fd = -1;
  if (n <= 0)
    return NULL;
  line[n] = '\0';
  for (c = CMSG_FIRSTHDR (&mh); c; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy (fd, CMSG_DATA (c), sizeof (int));
  if (kata_json_parse (line, strlen (line), &v, NULL) < 0)
    return NULL;
  snprintf (id, idlen, "%s", kata_json_str (v, "id") ? kata_json_str (v, "id") : "");
  char *cmd = xstrdup (kata_json_str (v, "execute"));
  if (strcmp (cmd, "getfd") == 0 && kata_json_str (kata_json_get (v, "arguments"), "fdname"))
    snprintf (id + strlen (id), idlen - strlen (id), " %s",
              kata_json_str (kata_json_get (v, "arguments"), "fdname"));
  yajl_tree_free (v);
  return cmd;
}

/* getfd: the fd travels with the command (SCM_RIGHTS); the server writes through it. */
static void
test_qmp_getfd (void **state)
{
  int sv[2], pfd[2];
  kata_qmp_t *q = NULL;
  kata_error_t *err = NULL;
  char got[64] = "";
  (void)state;

  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal (pipe2 (pfd, O_CLOEXEC), 0);
  pid_t pid = fork ();
  if (pid == 0)
    {
      char id[128];
      char *cmd;
      int fd;
      close (sv[0]);
      close (pfd[1]);
      say (sv[1], "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
      while ((cmd = hear_fd (sv[1], id, sizeof id, &fd)))
        {
          char *fdname = strchr (id, ' ');
          if (fdname)
            *fdname++ = '\0';
          if (strcmp (cmd, "getfd") == 0 && fd >= 0 && fdname && strcmp (fdname, "fd-nic0") == 0)
            {
              /* the descriptor is the client's pipe: write through it */
              (void)!write (fd, "via-fd", 6);
              close (fd);
              say (sv[1], "{\"return\": {}, \"id\": \"%s\"}\r\n", id);
            }
          else if (strcmp (cmd, "getfd") == 0)
            say (sv[1],
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": \"No file descriptor supplied via "
                 "SCM_RIGHTS\"}, \"id\": \"%s\"}\r\n",
                 id);
          else if (fd < 0)
            say (sv[1], "{\"return\": {}, \"id\": \"%s\"}\r\n", id);
          else
            say (sv[1],
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": \"stray fd\"}, \"id\": \"%s\"}\r\n",
                 id);
          free (cmd);
        }
      _exit (0);
    }
  close (sv[1]);
  assert_int_equal (kata_qmp_connect_fd (sv[0], 5000, &q, &err), 0);
  if (kata_qmp_getfd (q, "fd-nic0", pfd[1], &err) < 0)
    fail_msg ("getfd: %s", err->msg);
  /* ours stays open */
  assert_true (fcntl (pfd[1], F_GETFD) >= 0);
  close (pfd[1]);
  assert_int_equal (read (pfd[0], got, sizeof got - 1), 6);
  assert_string_equal (got, "via-fd");
  /* later commands carry no fd */
  assert_int_equal (kata_qmp_netdev_del (q, "nd-nic0", &err), 0);
  close (pfd[0]);
  kata_qmp_close (q);
  waitpid (pid, NULL, 0);
}

int
main (void)
{
  signal (SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_qmp_session),
    cmocka_unit_test (test_qmp_bad_greeting),
    cmocka_unit_test (test_qmp_getfd),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
