/* libFuzzer target: the agent's frame handling and request dispatch.  The input is a byte
   stream as the host would send it.  Methods with side effects on the machine running the
   fuzzer (CreateSandbox sets the clock, CreateContainer forks and mounts, UpdateInterface
   changes the network, ...) are parsed but not dispatched. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "agent/agent.h"
#include "common/json.h"

static const char *const safe[] = {
  "Hello", "Check", "GetGuestDetails", "StartContainer", "SignalProcess", "WaitProcess", "TtyWinResize",
  "CloseStdin", "RemoveContainer", "PauseContainer", "ResumeContainer", "UpdateContainer", "StatsContainer",
  "ListProcesses", "ExecProcess", NULL,
};

static int
is_safe (const char *payload, size_t len)
{
  yajl_val root = NULL, params = NULL;
  const char *method = NULL;
  kata_error_t *err = NULL;
  int ok = 1, i;
  if (kata_msg_parse_request (payload, len, &root, &method, &params, &err) < 0)
    {
      kata_error_free (err);
      return 1; /* dispatch answers with a parse error */
    }
  if (agent_rpc_known (method))
    {
      ok = 0;
      for (i = 0; safe[i]; i++)
        if (strcmp (safe[i], method) == 0)
          ok = 1;
    }
  yajl_tree_free (root);
  return ok;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  agent_t a;
  kata_frame_t f;
  char *opts[8];
  size_t n = 0;
  memset (&a, 0, sizeof a);
  a.epfd = a.chan_fd = a.inotify_fd = a.sig_fd = -1;
  kata_frame_reader_feed (&a.reader, data, size);
  for (;;)
    {
      kata_error_t *err = NULL;
      int r;
      memset (&f, 0, sizeof f);
      r = kata_frame_reader_next (&a.reader, &f, &err);
      kata_error_free (err);
      if (r <= 0)
        break;
      if (f.type != KATA_FRAME_REQ || is_safe (f.payload ? f.payload : "", f.len))
        agent_handle_frame (&a, &f);
      /* also feed the payload to the mount option parser, split at commas */
      if (f.payload && f.len < 4096)
        {
          char *copy = strdup (f.payload), *save = NULL, *tok;
          agent_mount_opts_t o;
          for (tok = strtok_r (copy, ",", &save); tok && n < 8; tok = strtok_r (NULL, ",", &save))
            opts[n++] = tok;
          agent_parse_mount_options (opts, n, &o);
          agent_mount_opts_free (&o);
          n = 0;
          free (copy);
        }
      kata_frame_clear (&f);
    }
  kata_frame_reader_free (&a.reader);
  agent_buf_clear (&a.outq);
  agent_process_gc (&a);
  return 0;
}
