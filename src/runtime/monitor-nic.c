/* NIC hot-plug by the sandbox monitor (docs/network.md "Interfaces added after
   create", docs/factory.md "Networked sandboxes"): the tap, already wired in the
   sandbox's netns, is opened there by the monitor and handed to QEMU as an fd, so
   QEMU need not run in that netns (a VM from the VM cache does not). */
#include "config.h"
#include "runtime/monitor-internal.h"
#include "runtime/network.h"

int
mon_hotplug_nic (monitor_t *m, const char *id, const char *tap, const char *mac, char **addr,
                 kata_error_t **err)
{
  cleanup_close int fd = -1;
  if (m->ops->hotplug_nic == NULL)
    return kata_make_error_nostr (err, KATA_ENOTIMPL, "hot-plug NIC %s: the hypervisor cannot", id);
  if (m->netns_path == NULL)
    return kata_make_error_nostr (err, EINVAL, "hot-plug NIC %s: the sandbox has no network namespace", id);
  if (kata_network_open_tap (m->netns_path, tap, &fd, err) < 0)
    return kata_error_wrap (err, "hot-plug NIC %s", id);
  if (m->ops->hotplug_nic (&m->vm, id, fd, mac, addr, err) < 0)
    return -1;
  kata_debug ("sandbox %s: NIC %s (%s, tap %s) hot-plugged at %s", m->sid, id, mac ? mac : "-", tap, *addr);
  return 0;
}

int
mon_hotplug_boot_nics (monitor_t *m, kata_error_t **err)
{
  for (size_t i = 0; i < m->nics_len; i++)
    {
      cleanup_free char *id = xasprintf ("nic-%s", m->nic_taps[i]);
      cleanup_free char *addr = NULL;
      if (mon_hotplug_nic (m, id, m->nic_taps[i], m->nic_macs[i], &addr, err) < 0)
        return kata_error_wrap (err, "sandbox %s", m->sid);
    }
  return 0;
}
