/* The shim: one process per container process.  Its pid is what --pid-file gets.
   It relays stdio (or a pty for --console-socket / terminal) to the agent streams,
   forwards signals, and exits with the process's status (128+signal when killed;
   255 with a log message when the VM dies). */
#ifndef KATA_SHIM_H
#define KATA_SHIM_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/error.h"

typedef struct kata_shim_spec_s
{
  const char *root;
  const char *sandbox_id;
  const char *container_id;
  const char *exec_id; /* "" for the container's init process */
  uint32_t stream;     /* stream base from CreateContainer / ExecProcess */
  bool terminal;
  const char
      *console_socket;    /* with terminal: send the pty master here (runc's protocol); NULL: use own stdio */
  bool detach;            /* true: the shim is orphaned when the caller exits (create, run -d, exec -d);
                             false: it stays the caller's child (run, exec in the foreground) */
  bool stop_sandbox;      /* the init of a pod's sandbox container: its exit stops the VM */
  const char *oom_cgroup; /* the container's own host memory cgroup: a guest OOM kill is made visible
                             there (CRI servers watch it), or NULL */
  const char *cgroup_path; /* host cgroup directory to join, or NULL */
  const char *log_path;    /* where the shim logs (the caller's --log), or NULL */
  const char *log_format;
  bool debug;
} kata_shim_spec_t;

/* Starts the shim with the caller's stdin/stdout/stderr.  Returns once it is attached
   to the streams (and has sent the pty master, if any), with its pid.  When DETACH is
   false the caller must waitpid() it; its exit status is the process's. */
int kata_shim_spawn (const kata_shim_spec_t *spec, pid_t *pid, kata_error_t **err);

/* Entry of the hidden subcommand `kata-runtime __shim ...`. */
int kata_shim_main (int argc, char **argv);

#endif
