/* OnlineCpus: vCPUs hot-plugged by the monitor (QMP device_add on q35) reach the
   guest as offline CPUs (the kernel does not online them and there is no udev): the
   agent writes 1 to /sys/devices/system/cpu/cpuN/online for each, waiting for the
   ACPI hot-add to show them (docs/kubernetes.md "vCPUs"). */
#include "config.h"
#include "agent/agent.h"
#include "common/json.h"
#include "common/utils.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CPU_SYSFS "/sys/devices/system/cpu"

/* Onlines the offline CPUs under DIR; returns how many are online then. */
int
agent_cpu_online_all (const char *dir)
{
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;
  int online = 0;

  if (d == NULL)
    return -1;
  while ((de = readdir (d)))
    {
      cleanup_free char *path = NULL;
      char v = '1';
      int fd;
      if (strncmp (de->d_name, "cpu", 3) != 0 || de->d_name[3] < '0' || de->d_name[3] > '9'
          || strspn (de->d_name + 3, "0123456789") != strlen (de->d_name + 3))
        continue;
      path = xasprintf ("%s/%s/online", dir, de->d_name);
      fd = open (path, O_RDWR | O_CLOEXEC);
      if (fd < 0)
        {
          online++; /* cpu0 has no online file: always online */
          continue;
        }
      if (pread (fd, &v, 1, 0) == 1 && v == '0')
        {
          if (pwrite (fd, "1", 1, 0) == 1)
            v = '1';
          else
            agent_log ("online %s: %s", de->d_name, strerror (errno));
        }
      close (fd);
      if (v == '1')
        online++;
    }
  return online;
}

/* {"vcpus": N}: onlines every present CPU, waiting up to "timeout_ms" (default 5000) for
   N to be online.  {"online": count}. */
int
agent_h_online_cpus (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err)
{
  long long want = kata_json_int (params, "vcpus", 0);
  long long timeout_ms = kata_json_int (params, "timeout_ms", 5000);
  uint64_t end = kata_now_ns () + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ULL;
  int online;

  (void)a;
  (void)id;
  for (;;)
    {
      online = agent_cpu_online_all (CPU_SYSFS);
      if (online < 0)
        return kata_make_error (err, errno, "online CPUs: %s", CPU_SYSFS);
      if (online >= want || kata_now_ns () >= end)
        break;
      usleep (20000);
    }
  if (online < want)
    return kata_make_error_nostr (err, KATA_ETIMEOUT, "online CPUs: %d of %lld online after %lld ms", online,
                                  want, timeout_ms);
  kata_gen_kv_int (out, "online", online);
  return 0;
}
