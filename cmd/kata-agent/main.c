/* kata-agent: PID 1 of the guest VM.  Sets up the system, then serves the agent protocol
   on the virtio-serial port agent.channel.0 (docs/agent.md). */
#include "config.h"
#include "agent/agent.h"
#include "common/utils.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  static agent_t agent;
  (void)argc;
  (void)argv;
  agent_init_system ();
  agent_log ("starting, pid %d", getpid ());
  for (;;)
    {
      agent_loop_run (&agent);
      /* PID 1 must never exit */
      agent_log_always ("event loop failed: %s; retrying", strerror (errno));
      sleep (1);
    }
  return 0;
}
