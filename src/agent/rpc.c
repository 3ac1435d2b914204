/* Request dispatch: parse, look the method up, run the handler, answer. */
#include "config.h"
#include "agent/agent.h"
#include "common/json.h"
#include "common/utils.h"
#include <errno.h>
#include <string.h>

struct method
{
  const char *name;
  agent_handler_t fn;
};

static const struct method methods[] = {
  { "Hello", agent_h_hello },
  { "Check", agent_h_check },
  { "GetGuestDetails", agent_h_guest_details },
  { "CreateSandbox", agent_h_create_sandbox },
  { "DestroySandbox", agent_h_destroy_sandbox },
  { "SetIdentity", agent_h_set_identity },
  { "CreateContainer", agent_h_create_container },
  { "StartContainer", agent_h_start_container },
  { "ExecProcess", agent_h_exec_process },
  { "SignalProcess", agent_h_signal_process },
  { "WaitProcess", agent_h_wait_process },
  { "TtyWinResize", agent_h_tty_win_resize },
  { "CloseStdin", agent_h_close_stdin },
  { "RemoveContainer", agent_h_remove_container },
  { "PauseContainer", agent_h_pause_container },
  { "ResumeContainer", agent_h_resume_container },
  { "UpdateContainer", agent_h_update_container },
  { "StatsContainer", agent_h_stats_container },
  { "ListProcesses", agent_h_list_processes },
  { "UpdateInterface", agent_h_update_interface },
  { "UpdateRoutes", agent_h_update_routes },
  { "SetDnsRelay", agent_h_set_dns_relay },
  { "OnlineCpus", agent_h_online_cpus },
  { NULL, NULL },
};

bool (*agent_rpc_allow) (const char *method);

bool
agent_rpc_known (const char *method)
{
  const struct method *m;
  for (m = methods; m->name; m++)
    if (strcmp (m->name, method) == 0)
      return true;
  return false;
}

int
agent_error_code (const kata_error_t *err)
{
  if (err == NULL)
    return KATA_PROTO_EINTERNAL;
  if (err->status < 0)
    return err->status;
  if (err->status > 0 && err->status < 1000)
    return err->status;
  switch (err->status)
    {
    case KATA_ENOTFOUND:
      return ENOENT;
    case KATA_EEXIST_ID:
      return EEXIST;
    case KATA_EBADSTATE:
      return EINVAL;
    case KATA_EBADCONFIG:
    case KATA_EBADID:
    case KATA_EPROTO:
      return KATA_PROTO_EPARAMS;
    case KATA_ENOTIMPL:
      return ENOSYS;
    case KATA_ETIMEOUT:
      return ETIMEDOUT;
    default:
      return KATA_PROTO_EINTERNAL;
    }
}

void
agent_rpc_dispatch (agent_t *a, uint32_t id, const char *payload, size_t len)
{
  cleanup_yajl_val yajl_val root = NULL;
  cleanup_error kata_error_t *err = NULL;
  const char *method = NULL;
  yajl_val params = NULL;
  const struct method *m;
  yajl_gen g;
  int r;

  if (kata_msg_parse_request (payload, len, &root, &method, &params, &err) < 0)
    {
      int code = err && err->status == KATA_EPROTO ? KATA_PROTO_EINVALID : KATA_PROTO_EPARSE;
      agent_send_error (a, id, code, err ? err->msg : "bad request");
      return;
    }
  for (m = methods; m->name; m++)
    if (strcmp (m->name, method) == 0)
      break;
  if (m->name == NULL)
    {
      cleanup_free char *msg = xasprintf ("unknown method `%s`", method);
      agent_send_error (a, id, KATA_PROTO_ENOMETHOD, msg);
      return;
    }
  if (agent_rpc_allow && !agent_rpc_allow (method))
    {
      agent_send_error (a, id, ENOSYS, "method not allowed here");
      return;
    }
  agent_log ("request %u: %s", id, method);
  if (params == NULL)
    params = NULL; /* handlers accept NULL (kata_json_* return defaults) */
  g = kata_gen_new ();
  yajl_gen_map_open (g);
  r = m->fn (a, id, params, g, &err);
  if (r < 0)
    {
      yajl_gen_free (g);
      agent_send_error (a, id, agent_error_code (err), err ? err->msg : "internal error");
      return;
    }
  yajl_gen_map_close (g);
  {
    cleanup_free char *res = kata_gen_finish (g, NULL);
    if (r == 0)
      agent_send_result (a, id, res);
  }
}
