/* libFuzzer target: the agent's channel input (framing, resynchronisation after errors,
   request dispatch), fed the byte stream a host would send.  Methods with side effects on
   the machine running the fuzzer (CreateSandbox sets the clock, CreateContainer forks and
   mounts, UpdateInterface changes the network, ...) are refused through agent_rpc_allow. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "agent/agent.h"
#include "common/json.h"

static const char *const safe[] = {
  "Hello",           "Check",          "GetGuestDetails", "StartContainer",
  "SignalProcess",   "WaitProcess",    "TtyWinResize",    "CloseStdin",
  "RemoveContainer", "PauseContainer", "ResumeContainer", "UpdateContainer",
  "StatsContainer",  "ListProcesses",  "ExecProcess",     NULL,
};

static bool
allow (const char *method)
{
  int i;
  for (i = 0; safe[i]; i++)
    if (strcmp (safe[i], method) == 0)
      return true;
  return false;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  agent_t a;
  size_t half = size / 2;
  memset (&a, 0, sizeof a);
  a.epfd = a.chan_fd = a.inotify_fd = a.sig_fd = -1;
  agent_rpc_allow = allow;
  /* two reads, to exercise frames split across them */
  agent_chan_input (&a, data, half);
  agent_chan_input (&a, data + half, size - half);
  /* the mount option parser, on the input split at commas */
  if (size < 4096)
    {
      char *copy = strndup ((const char *)data, size), *save = NULL, *tok;
      char *opts[16];
      size_t n = 0;
      agent_mount_opts_t o;
      for (tok = strtok_r (copy, ",", &save); tok && n < 16; tok = strtok_r (NULL, ",", &save))
        opts[n++] = tok;
      agent_parse_mount_options (opts, n, &o);
      agent_mount_opts_free (&o);
      free (copy);
    }
  kata_frame_reader_free (&a.reader);
  kata_buf_clear (&a.outq);
  kata_buf_clear (&a.discard);
  agent_process_gc (&a);
  return 0;
}
