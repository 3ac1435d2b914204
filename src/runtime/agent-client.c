/* Typed calls to the agent and the monitor: see agent-client.h. */
#include "config.h"
#include "runtime/agent-client.h"
#include <errno.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include "common/json.h"
#include "common/utils.h"
#include "runtime/lifecycle.h"

char *
kata_req_container (const char *cid)
{
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "container_id", cid);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

static void
gen_process (yajl_gen g, const char *cid, const char *exec_id)
{
  kata_gen_kv_str (g, "container_id", cid);
  kata_gen_kv_str (g, "exec_id", exec_id ? exec_id : "");
}

char *
kata_req_process (const char *cid, const char *exec_id)
{
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  gen_process (g, cid, exec_id);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

char *
kata_req_signal (const char *cid, const char *exec_id, int signum, bool all)
{
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  gen_process (g, cid, exec_id);
  kata_gen_kv_int (g, "signal", signum);
  kata_gen_kv_bool (g, "all", all);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

char *
kata_req_winsize (const char *cid, const char *exec_id, unsigned rows, unsigned cols)
{
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  gen_process (g, cid, exec_id);
  kata_gen_kv_int (g, "rows", rows);
  kata_gen_kv_int (g, "cols", cols);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

char *
kata_req_attach (uint32_t stream)
{
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_int (g, "stream", stream);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

/* One call whose answer only says "done". */
static int
call (const char *root, const char *sid, const char *method, const char *params, int timeout_ms,
      kata_error_t **err)
{
  return kata_lifecycle_call (root, sid, method, params, NULL, NULL, timeout_ms, err);
}

/* One call whose answer carries a "stream". */
static int
call_stream (const char *root, const char *sid, const char *method, const char *params, uint32_t *stream,
             int timeout_ms, kata_error_t **err)
{
  yajl_val resp = NULL, result = NULL;
  if (kata_lifecycle_call (root, sid, method, params, &resp, &result, timeout_ms, err) < 0)
    return -1;
  if (stream)
    *stream = (uint32_t)kata_json_int (result, "stream", 0);
  yajl_tree_free (resp);
  return 0;
}

int
kata_agent_create_container (const char *root, const char *sid, const char *cid, const char *params,
                             uint32_t *stream, int timeout_ms, kata_error_t **err)
{
  (void)cid; /* named in PARAMS; kept in the signature for the reader and for errors */
  return call_stream (root, sid, "CreateContainer", params, stream, timeout_ms, err);
}

int
kata_agent_start_container (const char *root, const char *sid, const char *cid, int timeout_ms,
                            kata_error_t **err)
{
  cleanup_free char *p = kata_req_container (cid);
  return call (root, sid, "StartContainer", p, timeout_ms, err);
}

int
kata_agent_exec_process (const char *root, const char *sid, const char *cid, const char *exec_id,
                         bool ignore_paused, const char *process, uint32_t *stream, int timeout_ms,
                         kata_error_t **err)
{
  cleanup_free char *p = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  gen_process (g, cid, exec_id);
  kata_gen_kv_bool (g, "ignore_paused", ignore_paused); /* the monitor's paused check */
  kata_gen_kv_raw (g, "process", process);
  yajl_gen_map_close (g);
  p = kata_gen_finish (g, NULL);
  return call_stream (root, sid, "ExecProcess", p, stream, timeout_ms, err);
}

int
kata_agent_signal_process (const char *root, const char *sid, const char *cid, const char *exec_id,
                           int signum, bool all, int timeout_ms, kata_error_t **err)
{
  cleanup_free char *p = kata_req_signal (cid, exec_id, signum, all);
  return call (root, sid, KATA_M_SIGNAL_PROCESS, p, timeout_ms, err);
}

int
kata_agent_remove_container (const char *root, const char *sid, const char *cid, int grace_s, int timeout_ms,
                             kata_error_t **err)
{
  cleanup_free char *p = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "container_id", cid);
  kata_gen_kv_int (g, "timeout", grace_s);
  yajl_gen_map_close (g);
  p = kata_gen_finish (g, NULL);
  return call (root, sid, "RemoveContainer", p, timeout_ms, err);
}

int
kata_agent_pause_container (const char *root, const char *sid, const char *cid, bool pause, int timeout_ms,
                            kata_error_t **err)
{
  cleanup_free char *p = kata_req_container (cid);
  return call (root, sid, pause ? "PauseContainer" : "ResumeContainer", p, timeout_ms, err);
}

int
kata_agent_update_container (const char *root, const char *sid, const char *cid, const char *resources,
                             int timeout_ms, kata_error_t **err)
{
  cleanup_free char *p = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "container_id", cid);
  kata_gen_kv_raw (g, "resources", resources);
  yajl_gen_map_close (g);
  p = kata_gen_finish (g, NULL);
  return call (root, sid, "UpdateContainer", p, timeout_ms, err);
}

int
kata_agent_update_interface (const char *root, const char *sid, const char *iface, int timeout_ms,
                             kata_error_t **err)
{
  return call (root, sid, "UpdateInterface", iface, timeout_ms, err);
}

int
kata_agent_update_routes (const char *root, const char *sid, const char *routes, int timeout_ms,
                          kata_error_t **err)
{
  return call (root, sid, "UpdateRoutes", routes, timeout_ms, err);
}

int
kata_agent_set_dns_relay (const char *root, const char *sid, const char *address, int timeout_ms,
                          kata_error_t **err)
{
  cleanup_free char *p = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "address", address);
  yajl_gen_map_close (g);
  p = kata_gen_finish (g, NULL);
  return call (root, sid, "SetDnsRelay", p, timeout_ms, err);
}

int
kata_monitor_shutdown (const char *root, const char *sid, int timeout_ms, kata_error_t **err)
{
  return call (root, sid, KATA_M_MONITOR_SHUTDOWN, NULL, timeout_ms, err);
}

int
kata_monitor_hotplug_block (const char *root, const char *sid, const char *id, const char *path,
                            bool readonly, char **pci, int timeout_ms, kata_error_t **err)
{
  cleanup_free char *p = NULL;
  yajl_val resp = NULL, result = NULL;
  const char *a;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "id", id);
  kata_gen_kv_str (g, "path", path);
  kata_gen_kv_bool (g, "readonly", readonly);
  yajl_gen_map_close (g);
  p = kata_gen_finish (g, NULL);
  if (kata_lifecycle_call (root, sid, "MonitorHotplugBlock", p, &resp, &result, timeout_ms, err) < 0)
    return -1;
  a = kata_json_str (result, "pci");
  if (a == NULL || a[0] == '\0')
    {
      yajl_tree_free (resp);
      return kata_make_error_nostr (err, EIO, "MonitorHotplugBlock of %s: no pci address", path);
    }
  *pci = xstrdup (a);
  yajl_tree_free (resp);
  return 0;
}

int
kata_monitor_hot_unplug (const char *root, const char *sid, const char *id, int timeout_ms,
                         kata_error_t **err)
{
  cleanup_free char *p = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "id", id);
  yajl_gen_map_close (g);
  p = kata_gen_finish (g, NULL);
  return call (root, sid, "MonitorHotUnplug", p, timeout_ms, err);
}

int
kata_monitor_hotplug_memory (const char *root, const char *sid, const char *id, long long size_mb,
                             int timeout_ms, kata_error_t **err)
{
  cleanup_free char *p = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "id", id);
  kata_gen_kv_int (g, "size_mb", size_mb);
  yajl_gen_map_close (g);
  p = kata_gen_finish (g, NULL);
  return call (root, sid, "MonitorHotplugMemory", p, timeout_ms, err);
}

int
kata_monitor_hotplug_nic (const char *root, const char *sid, const char *id, const char *tap, const char *mac,
                          int timeout_ms, kata_error_t **err)
{
  cleanup_free char *p = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "id", id);
  kata_gen_kv_str (g, "tap", tap);
  kata_gen_kv_str (g, "mac", mac);
  yajl_gen_map_close (g);
  p = kata_gen_finish (g, NULL);
  return call (root, sid, "MonitorHotplugNic", p, timeout_ms, err);
}

int
kata_agent_online_cpus (const char *root, const char *sid, int vcpus, int wait_ms, int *online,
                        int timeout_ms, kata_error_t **err)
{
  cleanup_free char *p = NULL;
  yajl_val resp = NULL, result = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_int (g, "vcpus", vcpus);
  kata_gen_kv_int (g, "timeout_ms", wait_ms);
  yajl_gen_map_close (g);
  p = kata_gen_finish (g, NULL);
  if (kata_lifecycle_call (root, sid, "OnlineCpus", p, &resp, &result, timeout_ms, err) < 0)
    return -1;
  if (online)
    *online = (int)kata_json_int (result, "online", 0);
  yajl_tree_free (resp);
  return 0;
}

int
kata_monitor_hotplug_cpu (const char *root, const char *sid, int count, int *added, int timeout_ms,
                          kata_error_t **err)
{
  cleanup_free char *p = NULL;
  yajl_val resp = NULL, result = NULL;
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_int (g, "count", count);
  yajl_gen_map_close (g);
  p = kata_gen_finish (g, NULL);
  if (kata_lifecycle_call (root, sid, "MonitorHotplugCpu", p, &resp, &result, timeout_ms, err) < 0)
    return -1;
  if (added)
    *added = (int)kata_json_int (result, "added", 0);
  yajl_tree_free (resp);
  return 0;
}
