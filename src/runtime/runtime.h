/* The runtime's verbs: what each cmd/kata-runtime/<verb>.c calls. */
#ifndef KATA_RUNTIME_H
#define KATA_RUNTIME_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "common/error.h"
#include "runtime/config.h"

#define KATA_DEFAULT_ROOT "/run/vc"

typedef struct kata_context_s
{
  const char *root;       /* --root, default KATA_DEFAULT_ROOT */
  const char *log_path;   /* --log */
  const char *log_format; /* --log-format: "text" | "json" */
  bool debug;
  bool systemd_cgroup;
  bool rootless;
  const char *kata_config; /* --kata-config */
  kata_config_t *cfg;      /* loaded by kata_context_load_config(), owned by the context */
} kata_context_t;

/* Loads the configuration once (search order in config.h); warnings go to the log. */
int kata_context_load_config (kata_context_t *ctx, kata_error_t **err);

/* runc's rules: non-empty, at most 1024 bytes, only [A-Za-z0-9_+.-], and not "." or "..". */
int kata_validate_id (const char *id, kata_error_t **err);

typedef struct kata_create_opts_s
{
  const char *bundle; /* default: cwd */
  const char *pid_file;
  const char *console_socket;
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;
  bool detach; /* create, run -d: the shim is orphaned; run (foreground): the shim is our child */
  bool keep;   /* run --keep: do not delete the container after it exits (or fails to start) */
} kata_create_opts_t;

int kata_container_create (kata_context_t *ctx, const char *id, const kata_create_opts_t *opts,
                           pid_t *shim_pid, kata_error_t **err);
int kata_container_start (kata_context_t *ctx, const char *id, kata_error_t **err);
/* run: create + start; in the foreground waits for the process, deletes the container
   (unless opts->keep), and sets *exit_status (the process's status, 128+signal when killed). */
int kata_container_run (kata_context_t *ctx, const char *id, const kata_create_opts_t *opts, int *exit_status,
                        kata_error_t **err);
int kata_container_kill (kata_context_t *ctx, const char *id, int signum, bool all, kata_error_t **err);
int kata_container_delete (kata_context_t *ctx, const char *id, bool force, kata_error_t **err);
/* The OCI state JSON as runc prints it (pretty-printed, malloc'd). */
int kata_container_state (kata_context_t *ctx, const char *id, char **json, kata_error_t **err);

typedef struct kata_container_summary_s
{
  char *id;
  pid_t pid;
  char *status; /* created | running | paused | stopped */
  char *bundle;
  char *rootfs;  /* host path of the rootfs, as `state` prints it */
  char *created; /* RFC3339 */
  char *owner;
  char **annotations_keys, **annotations_values;
  size_t annotations_len;
} kata_container_summary_t;
int kata_container_list (kata_context_t *ctx, kata_container_summary_t **out, size_t *n, kata_error_t **err);
void kata_container_summary_free (kata_container_summary_t *s, size_t n);

/* Host-visible pids of the container's processes (runc's `ps` prints these).
   We report the live shim pids: the init shim first, then exec shims (none once stopped).
   `ps` filters the host's ps(1) output to them, as runc does (docs/compatibility.md). */
int kata_container_pids (kata_context_t *ctx, const char *id, pid_t **pids, size_t *n, kata_error_t **err);

/* Removes every trace of a container/sandbox that we can find for ID (used by delete --force
   on broken state): processes (pid + start time checked), mounts, state, mapping. */
int kata_container_cleanup_id (kata_context_t *ctx, const char *id, kata_error_t **err);

typedef struct kata_exec_opts_s
{
  const char *process_json_path; /* --process; when set the flags below except detach/pid_file/console_socket
                                    are ignored */
  char **args;
  size_t args_len;
  bool tty;
  const char *cwd;
  char **env;
  size_t env_len;
  const char *user; /* "uid[:gid]" */
  char **additional_gids;
  size_t additional_gids_len;
  char **caps;
  size_t caps_len;
  bool no_new_privs;
  bool detach;
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
  bool ignore_paused;
} kata_exec_opts_t;
/* Foreground: waits and sets *exit_status.  Detached: returns once the process runs. */
int kata_container_exec (kata_context_t *ctx, const char *id, const kata_exec_opts_t *opts, int *exit_status,
                         kata_error_t **err);

int kata_container_pause (kata_context_t *ctx, const char *id, kata_error_t **err);
int kata_container_resume (kata_context_t *ctx, const char *id, kata_error_t **err);
/* update: RESOURCES_JSON is an OCI LinuxResources object. */
int kata_container_update (kata_context_t *ctx, const char *id, const char *resources_json,
                           kata_error_t **err);
/* events: with STATS prints one runc "stats" event and returns; else streams runc's
   JSON lines to stdout: a "stats" event every INTERVAL_MS and an "oom" event as soon as
   the container's memory limit kills a process, until the container stops. */
int kata_container_events (kata_context_t *ctx, const char *id, bool stats, int interval_ms,
                           kata_error_t **err);

#endif
