/* Test helper copied into pod-cri.bats' busybox rootfs (built with gcc -static):
     pod-tool mmap PATH TEXT   writes TEXT into PATH through a writable MAP_SHARED
                               mapping, then reads it back with read(2)
     pod-tool msgget KEY       creates a System V message queue with KEY
     pod-tool msgfind KEY      exits 0 when a queue with KEY exists in this IPC namespace */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "mmap") == 0)
    {
      size_t len = strlen (argv[3]);
      char buf[4096];
      char *m;
      ssize_t n;
      int fd = open (argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || ftruncate (fd, (off_t)len) < 0)
        {
          perror ("open/ftruncate");
          return 1;
        }
      m = mmap (NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (m == MAP_FAILED)
        {
          perror ("mmap MAP_SHARED");
          return 1;
        }
      memcpy (m, argv[3], len);
      if (msync (m, len, MS_SYNC) < 0)
        {
          perror ("msync");
          return 1;
        }
      munmap (m, len);
      n = pread (fd, buf, sizeof buf - 1, 0);
      if (n != (ssize_t)len || memcmp (buf, argv[3], len) != 0)
        {
          fprintf (stderr, "read back %zd bytes, not what was written\n", n);
          return 1;
        }
      printf ("mmap ok\n");
      return 0;
    }
  if (argc == 3 && strcmp (argv[1], "msgget") == 0)
    {
      int id = msgget ((key_t)atoi (argv[2]), IPC_CREAT | 0600);
      if (id < 0)
        {
          perror ("msgget");
          return 1;
        }
      printf ("%d\n", id);
      return 0;
    }
  if (argc == 3 && strcmp (argv[1], "msgfind") == 0)
    {
      if (msgget ((key_t)atoi (argv[2]), 0) < 0)
        {
          perror ("msgget");
          return 1;
        }
      return 0;
    }
  fprintf (stderr, "usage: pod-tool mmap PATH TEXT | msgget KEY | msgfind KEY\n");
  return 2;
}
