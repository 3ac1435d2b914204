/* console-receiver: the receiving end of runc's --console-socket protocol, for tests.
   Usage: console-receiver SOCKET ROWS COLS INPUT [TIMEOUT_S]
   Listens on the unix socket SOCKET, takes one connection, receives the pty master
   (SCM_RIGHTS), sets its window size to ROWS x COLS (TIOCSWINSZ), writes INPUT ("\n"
   escapes allowed), then copies everything the pty prints to stdout until the pty
   closes (EIO/EOF) or TIMEOUT_S (default 120) passes.  Exit status: 0, or 1 on error,
   2 on timeout. */
#ifndef _GNU_SOURCE
#include "config.h"
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int
recv_fd (int sock)
{
  char byte, ctl[CMSG_SPACE (sizeof (int))];
  struct iovec iov = { &byte, 1 };
  struct msghdr msg = { 0 };
  struct cmsghdr *c;
  char name[4096];

  /* runc sends the pty's name as the data; accept any length. */
  iov.iov_base = name;
  iov.iov_len = sizeof name;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  if (recvmsg (sock, &msg, 0) < 0)
    return -1;
  for (c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        int fd;
        memcpy (&fd, CMSG_DATA (c), sizeof fd);
        return fd;
      }
  errno = EBADMSG;
  return -1;
}

static char *
unescape (const char *s)
{
  char *r = malloc (strlen (s) + 1), *p = r;
  for (; *s; s++)
    {
      if (*s == '\\' && s[1] == 'n')
        *p++ = '\n', s++;
      else if (*s == '\\' && s[1] == 'r')
        *p++ = '\r', s++;
      else
        *p++ = *s;
    }
  *p = '\0';
  return r;
}

int
main (int argc, char **argv)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct winsize ws = { 0 };
  int ls, cs, master, timeout = 120;
  char *input;
  time_t deadline;

  if (argc < 5)
    {
      fprintf (stderr, "usage: %s SOCKET ROWS COLS INPUT [TIMEOUT_S]\n", argv[0]);
      return 1;
    }
  if (argc > 5)
    timeout = atoi (argv[5]);
  ws.ws_row = (unsigned short) atoi (argv[2]);
  ws.ws_col = (unsigned short) atoi (argv[3]);
  input = unescape (argv[4]);
  if (strlen (argv[1]) >= sizeof addr.sun_path)
    {
      fprintf (stderr, "socket path too long\n");
      return 1;
    }
  strcpy (addr.sun_path, argv[1]);
  unlink (argv[1]);
  ls = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0 || bind (ls, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (ls, 1) < 0)
    {
      perror ("listen");
      return 1;
    }
  deadline = time (NULL) + timeout;
  {
    struct pollfd p = { ls, POLLIN, 0 };
    if (poll (&p, 1, timeout * 1000) <= 0)
      {
        fprintf (stderr, "no connection on %s\n", argv[1]);
        return 2;
      }
  }
  cs = accept4 (ls, NULL, NULL, SOCK_CLOEXEC);
  if (cs < 0)
    {
      perror ("accept");
      return 1;
    }
  master = recv_fd (cs);
  if (master < 0)
    {
      perror ("recvmsg");
      return 1;
    }
  close (cs);
  close (ls);
  unlink (argv[1]);
  if (ioctl (master, TIOCSWINSZ, &ws) < 0)
    {
      perror ("TIOCSWINSZ");
      return 1;
    }
  /* Give the relay a moment to pass the new size on before the command runs. */
  usleep (300 * 1000);
  if (*input && write (master, input, strlen (input)) < 0)
    {
      perror ("write");
      return 1;
    }
  for (;;)
    {
      char buf[4096];
      struct pollfd p = { master, POLLIN, 0 };
      int left = (int) (deadline - time (NULL));
      ssize_t n;
      if (left <= 0)
        {
          fprintf (stderr, "timed out\n");
          return 2;
        }
      if (poll (&p, 1, left * 1000) <= 0)
        continue;
      n = read (master, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      fwrite (buf, 1, (size_t) n, stdout);
      fflush (stdout);
    }
  return 0;
}
