/* vCPU hot-plug by the sandbox monitor (docs/kubernetes.md "vCPUs"): QMP
   query-hotpluggable-cpus lists the slots -smp's maxcpus made, device_add fills the
   free ones (those without a qom-path) with the CPU model QEMU names for them.  The
   guest onlines the new CPUs when the agent's OnlineCpus asks. */
#include "config.h"
#include "runtime/monitor-internal.h"
#include "runtime/qmp.h"
#include "common/json.h"
#include <errno.h>
#include <string.h>

/* device_add arguments for the free slot SLOT (an entry of query-hotpluggable-cpus),
   or NULL when the slot is in use or malformed. */
char *
mon_cpu_slot_args (yajl_val slot, const char *id)
{
  yajl_val props = kata_json_get (slot, "props");
  const char *type = kata_json_str (slot, "type");
  yajl_gen g;
  size_t i;

  if (!YAJL_IS_OBJECT (slot) || kata_json_get (slot, "qom-path") || type == NULL || !YAJL_IS_OBJECT (props))
    return NULL;
  g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "driver", type);
  kata_gen_kv_str (g, "id", id);
  for (i = 0; i < props->u.object.len; i++)
    if (YAJL_IS_INTEGER (props->u.object.values[i]))
      kata_gen_kv_int (g, props->u.object.keys[i], YAJL_GET_INTEGER (props->u.object.values[i]));
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

int
mon_hotplug_cpu (monitor_t *m, int count, int *added, kata_error_t **err)
{
  cleanup_yajl_val yajl_val reply = NULL;
  struct kata_qmp_s *q;
  yajl_val slots;
  size_t i;

  *added = 0;
  if (count <= 0 || count > 1024)
    return kata_make_error_nostr (err, EINVAL, "hot-plug vCPUs: invalid count %d", count);
  if (m->cfg && strcmp (m->cfg->hypervisor.machine_type, "microvm") == 0)
    return kata_make_error_nostr (err, KATA_ENOTIMPL,
                                  "hot-plug vCPUs: machine_type \"microvm\" has no CPU hot-plug; use q35");
  if (m->ops->qmp == NULL)
    return kata_make_error_nostr (err, KATA_ENOTIMPL, "hot-plug vCPUs: the hypervisor cannot");
  if (m->ops->qmp (&m->vm, &q, err) < 0)
    return kata_error_wrap (err, "hot-plug vCPUs");
  if (kata_qmp_execute (q, "query-hotpluggable-cpus", NULL, &reply, 10000, err) < 0)
    return kata_error_wrap (err, "hot-plug vCPUs");
  slots = kata_json_get (reply, "return");
  if (!YAJL_IS_ARRAY (slots))
    return kata_make_error_nostr (err, KATA_EPROTO, "hot-plug vCPUs: query-hotpluggable-cpus: no list");
  /* QEMU lists the slots from the highest: fill them from the lowest, as the guest numbers them. */
  for (i = slots->u.array.len; i > 0 && *added < count; i--)
    {
      cleanup_free char *id = xasprintf ("vcpu%zu", slots->u.array.len - i);
      cleanup_free char *args = mon_cpu_slot_args (slots->u.array.values[i - 1], id);
      if (args == NULL)
        continue;
      if (kata_qmp_device_add (q, args, err) < 0)
        {
          if (*added > 0)
            break; /* what was added stays: the caller counts it */
          return kata_error_wrap (err, "hot-plug vCPUs");
        }
      ++*added;
    }
  if (*added == 0)
    return kata_make_error_nostr (err, ENOSPC, "hot-plug vCPUs: no free CPU slot (default_maxvcpus)");
  kata_debug ("sandbox %s: %d vCPUs hot-plugged (%d asked)", m->sid, *added, count);
  if (*added < count && err && *err)
    {
      kata_error_free (*err);
      *err = NULL;
    }
  return 0;
}
