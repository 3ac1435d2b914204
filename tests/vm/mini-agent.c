/* mini-agent: a stand-in guest PID 1 for testing the host VM machinery
   (QEMU command line, agent channel, monitor) before/without the real agent.
   Serves Hello, CreateSandbox (mounts 9p/virtiofs storages), Check,
   GetGuestDetails, DestroySandbox (powers off) and "Crash" (panics the guest).
   Build: see tests/vm/build-mini-initrd.sh.  Not part of the product. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "common/json.h"
#include "common/proto.h"
#include "common/utils.h"

static int
open_port (void)
{
  DIR *d = opendir ("/sys/class/virtio-ports");
  struct dirent *e;
  char path[512], name[128];
  if (d == NULL)
    return -1;
  while ((e = readdir (d)))
    {
      if (e->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
      int fd = open (path, O_RDONLY);
      if (fd < 0)
        continue;
      ssize_t n = read (fd, name, sizeof name - 1);
      close (fd);
      if (n <= 0)
        continue;
      name[n] = '\0';
      if (strncmp (name, "agent.channel.0", 15) == 0)
        {
          snprintf (path, sizeof path, "/dev/%s", e->d_name);
          closedir (d);
          return open (path, O_RDWR | O_CLOEXEC);
        }
    }
  closedir (d);
  return -1;
}

static void
reply (int fd, uint32_t id, const char *result)
{
  char *m = kata_msg_result (result);
  kata_frame_write (fd, KATA_FRAME_RESP, 0, id, m, strlen (m), NULL);
  free (m);
}

static void
reply_err (int fd, uint32_t id, int code, const char *msg)
{
  char *m = kata_msg_error (code, msg);
  kata_frame_write (fd, KATA_FRAME_RESP, 0, id, m, strlen (m), NULL);
  free (m);
}

static int
mount_storages (yajl_val params, char *errbuf, size_t len)
{
  yajl_val st = kata_json_array (params, "storages");
  for (size_t i = 0; st && i < st->u.array.len; i++)
    {
      yajl_val s = st->u.array.values[i];
      const char *src = kata_json_str (s, "source"), *fstype = kata_json_str (s, "fstype");
      const char *mp = kata_json_str (s, "mount_point");
      yajl_val opts = kata_json_array (s, "options");
      char data[512] = "";
      for (size_t j = 0; opts && j < opts->u.array.len; j++)
        {
          if (*data)
            strcat (data, ",");
          strncat (data, YAJL_GET_STRING (opts->u.array.values[j]), sizeof data - strlen (data) - 2);
        }
      kata_mkdir_p (mp, 0755, NULL);
      if (mount (src, mp, fstype, 0, data) < 0)
        {
          snprintf (errbuf, len, "mount %s on %s (%s): %s", src, mp, fstype, strerror (errno));
          return -1;
        }
    }
  return 0;
}

int
main (void)
{
  int fd = -1;
  kata_frame_reader_t rd = { 0 };

  mount ("proc", "/proc", "proc", 0, NULL);
  mount ("sysfs", "/sys", "sysfs", 0, NULL);
  mount ("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  mkdir ("/run", 0755);
  mount ("tmpfs", "/run", "tmpfs", 0, NULL);
  int con = open ("/dev/console", O_RDWR);
  if (con >= 0)
    {
      dup2 (con, 1);
      dup2 (con, 2);
    }
  for (int i = 0; i < 500 && (fd = open_port ()) < 0; i++)
    usleep (10000);
  if (fd < 0)
    {
      printf ("mini-agent: no agent.channel.0 port\n");
      reboot (RB_POWER_OFF);
    }
  printf ("kata-agent: ready\n");
  fflush (stdout);
  for (;;)
    {
      char buf[65536];
      struct pollfd p = { .fd = fd, .events = POLLIN };
      if (poll (&p, 1, -1) < 0)
        continue;
      ssize_t n = read (fd, buf, sizeof buf);
      if (n <= 0)
        {
          /* the host side closed: wait for the next connection */
          usleep (50000);
          kata_frame_reader_free (&rd);
          continue;
        }
      kata_frame_reader_feed (&rd, buf, n);
      for (;;)
        {
          kata_frame_t f = { 0 };
          int r = kata_frame_reader_next (&rd, &f, NULL);
          if (r < 0)
            {
              kata_frame_reader_free (&rd);
              break;
            }
          if (r == 0)
            break;
          if (f.type != KATA_FRAME_REQ)
            {
              kata_frame_clear (&f);
              continue;
            }
          yajl_val root = NULL, params = NULL;
          const char *method = NULL;
          if (kata_msg_parse_request (f.payload, f.len, &root, &method, &params, NULL) < 0)
            {
              reply_err (fd, f.id, KATA_PROTO_EINVALID, "bad request");
              kata_frame_clear (&f);
              continue;
            }
          if (strcmp (method, "Hello") == 0)
            reply (fd, f.id, "{\"version\":1,\"agent\":\"mini-agent\"}");
          else if (strcmp (method, "CreateSandbox") == 0)
            {
              char e[512];
              if (mount_storages (params, e, sizeof e) < 0)
                reply_err (fd, f.id, errno, e);
              else
                reply (fd, f.id, NULL);
            }
          else if (strcmp (method, "Check") == 0)
            reply (fd, f.id, NULL);
          else if (strcmp (method, "GetGuestDetails") == 0)
            {
              struct utsname u;
              char r[512];
              uname (&u);
              snprintf (r, sizeof r, "{\"kernel\":\"%s\",\"agent\":\"mini-agent\",\"vcpus\":%ld}", u.release,
                        sysconf (_SC_NPROCESSORS_ONLN));
              reply (fd, f.id, r);
            }
          else if (strcmp (method, "ListShared") == 0)
            {
              /* test helper: the entries of the shared dir */
              DIR *d = opendir ("/run/kata-containers/shared/containers");
              struct dirent *de;
              char r[4096] = "{\"entries\":[";
              bool first = true;
              while (d && (de = readdir (d)))
                if (de->d_name[0] != '.')
                  {
                    snprintf (r + strlen (r), sizeof r - strlen (r), "%s\"%s\"", first ? "" : ",",
                              de->d_name);
                    first = false;
                  }
              if (d)
                closedir (d);
              strcat (r, "]}");
              reply (fd, f.id, r);
            }
          else if (strcmp (method, "DestroySandbox") == 0)
            {
              reply (fd, f.id, NULL);
              sync ();
              reboot (RB_POWER_OFF);
            }
          else
            reply_err (fd, f.id, KATA_PROTO_ENOMETHOD, "unknown method");
          yajl_tree_free (root);
          kata_frame_clear (&f);
        }
    }
}
