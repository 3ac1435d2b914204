/* Sandbox-wide verbs: Hello, Check, GetGuestDetails, CreateSandbox, DestroySandbox,
   SetIdentity. */
#include "config.h"
#include "agent/agent.h"
#include "common/json.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/random.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int
agent_h_hello (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  long long v = kata_json_int (params, "version", -1);
  (void)a;
  (void)id;
  if (v != KATA_PROTO_VERSION)
    return kata_make_error_nostr (err, KATA_PROTO_EVERSION,
                                  "protocol version %lld not supported (agent speaks %d)", v,
                                  KATA_PROTO_VERSION);
  kata_gen_kv_int (out, "version", KATA_PROTO_VERSION);
  kata_gen_kv_str (out, "agent", KATA_AGENT_VERSION);
  return 0;
}

int
agent_h_check (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  (void)a, (void)id, (void)params, (void)out, (void)err;
  return 0;
}

int
agent_h_guest_details (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  struct utsname u;
  struct sysinfo si;
  (void)a, (void)id, (void)params, (void)err;
  uname (&u);
  sysinfo (&si);
  kata_gen_kv_str (out, "kernel", u.release);
  kata_gen_kv_str (out, "agent", KATA_AGENT_VERSION);
  kata_gen_kv_int (out, "mem_total_kb", (long long)si.totalram * si.mem_unit / 1024);
  kata_gen_kv_int (out, "vcpus", sysconf (_SC_NPROCESSORS_ONLN));
  return 0;
}

static int
set_identity (yajl_val params, kata_error_t **err)
{
  const char *hostname = kata_json_str (params, "hostname");
  const char *seed = kata_json_str (params, "random_seed");
  long long t = kata_json_int (params, "time_ns", 0);

  if (hostname && *hostname && sethostname (hostname, strlen (hostname)) < 0)
    return kata_make_error (err, errno, "sethostname `%s`", hostname);
  if (t > 0)
    {
      struct timespec ts = { .tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL };
      if (clock_settime (CLOCK_REALTIME, &ts) < 0)
        agent_log ("clock_settime: %s", strerror (errno));
    }
  if (seed && *seed)
    {
      size_t n = strlen (seed) / 2, i;
      struct rand_pool_info *rp = xmalloc0 (sizeof *rp + n + 4);
      int fd;
      for (i = 0; i < n; i++)
        {
          int hi = kata_hexval (seed[2 * i]), lo = kata_hexval (seed[2 * i + 1]);
          if (hi < 0 || lo < 0)
            {
              free (rp);
              return kata_make_error_nostr (err, KATA_PROTO_EPARAMS, "random_seed is not a hex string");
            }
          ((unsigned char *)rp->buf)[i] = hi << 4 | lo;
        }
      rp->buf_size = n;
      rp->entropy_count = n * 8;
      fd = open ("/dev/urandom", O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          if (ioctl (fd, RNDADDENTROPY, rp) < 0)
            (void)!write (fd, rp->buf, n);
          /* The crng reseeds from the pool only every 60 s once it is ready:
             a clone of a template would hand out the template's stream until
             then.  Force the reseed now so that every clone differs. */
          if (ioctl (fd, RNDRESEEDCRNG) < 0)
            agent_log ("RNDRESEEDCRNG: %s", strerror (errno));
          close (fd);
        }
      free (rp);
    }
  return 0;
}

int
agent_h_set_identity (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  (void)a, (void)id, (void)out;
  return set_identity (params, err);
}

static int
write_resolv_conf (yajl_val dns, kata_error_t **err)
{
  size_t i;
  kata_buf_t b = { 0 };
  int r;
  if (dns == NULL || dns->u.array.len == 0)
    return 0;
  for (i = 0; i < dns->u.array.len; i++)
    {
      yajl_val l = dns->u.array.values[i];
      const char *s = YAJL_IS_STRING (l) ? YAJL_GET_STRING (l) : NULL;
      if (s == NULL)
        continue;
      kata_buf_append (&b, s, strlen (s));
      kata_buf_append (&b, "\n", 1);
    }
  kata_mkdir_p ("/etc", 0755, NULL);
  {
    /* The image guest's /etc is read-only: its /etc/resolv.conf is a link into /run. */
    char target[PATH_MAX];
    ssize_t n = readlink ("/etc/resolv.conf", target, sizeof target - 1);
    cleanup_free char *path = NULL;
    if (n > 0)
      {
        target[n] = '\0';
        path = target[0] == '/' ? xstrdup (target) : xasprintf ("/etc/%s", target);
        {
          cleanup_free char *dir = xstrdup (path);
          char *slash = strrchr (dir, '/');
          if (slash && slash != dir)
            {
              *slash = '\0';
              kata_mkdir_p (dir, 0755, NULL);
            }
        }
      }
    r = kata_write_file_atomic (path ? path : "/etc/resolv.conf", kata_buf_ptr (&b), b.len, 0644, err);
  }
  kata_buf_clear (&b);
  return r;
}

int
agent_h_create_sandbox (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  const char *sid = kata_json_str (params, "sandbox_id");
  yajl_val storages = kata_json_array (params, "storages");
  char **mps = NULL;
  size_t n = 0, i;
  (void)id, (void)out;

  if (a->sandbox_created)
    return kata_make_error_nostr (err, EEXIST, "sandbox %s already created",
                                  a->sandbox_id ? a->sandbox_id : "");
  if (set_identity (params, err) < 0)
    return kata_error_wrap (err, "create sandbox");
  if (write_resolv_conf (kata_json_array (params, "dns"), err) < 0)
    return kata_error_wrap (err, "create sandbox: resolv.conf");
  if (storages && agent_storages_mount (a, storages, &mps, &n, err) < 0)
    return kata_error_wrap (err, "create sandbox");
  /* The sandbox keeps its storage references until it is destroyed. */
  for (i = 0; i < n; i++)
    free (mps[i]);
  free (mps);
  a->sandbox_created = true;
  free (a->sandbox_id);
  a->sandbox_id = xstrdup (sid ? sid : "");
  return 0;
}

int
agent_h_destroy_sandbox (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  (void)params, (void)out, (void)err;
  /* Answered by agent_power_off once every process is gone and the disks are synced
     ({"synced":true}): the host may then stop QEMU instead of waiting for the power-off. */
  a->shutdown = true;
  a->shutdown_id = id;
  return 1;
}
