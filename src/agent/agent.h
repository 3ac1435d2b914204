/* kata-agent: the guest agent (PID 1 of the VM).  See docs/agent.md and
   docs/agent-protocol.md. */
#ifndef KATA_AGENT_H
#define KATA_AGENT_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include "common/error.h"
#include "common/guest-paths.h"
#include "common/proto.h"
#include "oci_runtime_spec.h"

#define KATA_AGENT_VERSION "kata-agent 0.1.0"
#define AGENT_CGROUP_ROOT "/sys/fs/cgroup"
#define AGENT_CGROUP_PARENT "/sys/fs/cgroup/kata"
/* Stop reading process output while this much is queued for the host. */
#define AGENT_OUTQ_HIGH (1u << 20)
#define AGENT_WAIT_GRACE_NS (200ull * 1000 * 1000)

/* ---- logging (log.c) ---- */
extern int agent_debug;
/* agent.warm=1 on the kernel command line: a VM template or a cached VM, whose boot is off
   the critical path: prepare what containers need before saying ready. */
extern int agent_warm;
void agent_log_open (void);
void agent_log (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void agent_log_always (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* byte queues are kata_buf_t (common/utils.h) */

/* ---- epoll watches ---- */
enum agent_watch_kind
{
  W_CHANNEL = 1,
  W_SIGNAL,
  W_INOTIFY,
  W_PROC_OUT,
  W_PROC_ERR,
  W_PROC_IN,
  W_DNS,
};
typedef struct agent_watch_s
{
  int kind;
  struct agent_process_s *proc;
} agent_watch_t;

struct agent_container_s;

typedef struct agent_waiter_s
{
  struct agent_waiter_s *next;
  uint32_t req_id;
} agent_waiter_t;

typedef struct agent_process_s
{
  struct agent_process_s *next;
  struct agent_container_s *ctr;
  char *exec_id; /* "" for the container's init process */
  pid_t pid;
  uint32_t stream;
  bool terminal;
  int in_fd;  /* write end of stdin (or a dup of the pty master), -1 when closed */
  int out_fd; /* read end of stdout, or the pty master */
  int err_fd; /* read end of stderr, -1 with a tty */
  bool out_eof, err_eof;
  bool out_paused; /* back-pressure: removed from epoll */
  kata_buf_t stdin_q;
  bool stdin_close; /* close in_fd once stdin_q is drained */
  bool in_watched;
  agent_watch_t w_out, w_err, w_in;
  /* Held init process: write a byte here to let it exec. */
  int start_fd;
  int sync_fd; /* CLOEXEC error pipe from the child (read end) */
  bool exited;
  int wstatus;
  uint64_t exit_ns;
  agent_waiter_t *waiters;
} agent_process_t;

enum agent_ctr_state
{
  CTR_CREATED = 1,
  CTR_RUNNING,
  CTR_STOPPED,
};

typedef struct agent_container_s
{
  struct agent_container_s *next;
  char *id;
  int state;
  runtime_spec_schema_config_schema *spec;
  char *rootfs; /* guest path of the rootfs */
  char *cgroup; /* /sys/fs/cgroup/kata/<id> */
  agent_process_t *init;
  char **storages; /* mount points this container holds a reference on */
  size_t storages_len;
  int oom_wd;
  long long oom_kills;
  bool paused;
} agent_container_t;

/* Storage refcounts (storage.c). */
typedef struct agent_storage_s
{
  struct agent_storage_s *next;
  char *mount_point;
  char *driver;
  int refs;
  bool mounted; /* we mounted something (vs. created a directory) */
} agent_storage_t;

typedef struct agent_s
{
  int epfd;
  int chan_fd;
  char *chan_path;
  bool chan_connected;
  bool chan_out_watched;
  bool await_hello;   /* after (re)connect: write nothing until Hello */
  bool chan_discard;  /* after a framing error: skip input until a Hello request starts */
  kata_buf_t discard; /* skipped input, scanned for the next host's Hello */
  kata_frame_reader_t reader;
  kata_buf_t outq;
  agent_watch_t w_chan, w_sig, w_inotify;
  int sig_fd;
  int inotify_fd;
  agent_container_t *containers;
  agent_process_t *procs;
  agent_process_t *graveyard; /* freed after the current batch of events */
  agent_storage_t *storages;
  uint32_t next_stream;
  bool sandbox_created;
  char *sandbox_id;
  bool shutdown;
  uint32_t shutdown_id; /* the DestroySandbox request, answered once the guest is synced */
} agent_t;

/* ---- init.c: PID 1 setup ---- */
void agent_init_system (void);
void agent_power_off (agent_t *a) __attribute__ ((noreturn));

/* ---- loop.c: event loop and channel ---- */
int agent_loop_run (agent_t *a);
void agent_send_frame (agent_t *a, uint8_t type, uint8_t flags, uint32_t id, const void *payload,
                       uint32_t len);
void agent_send_result (agent_t *a, uint32_t id, const char *result_json);
void agent_send_error (agent_t *a, uint32_t id, int code, const char *msg);
void agent_send_event (agent_t *a, const char *json);
void agent_flush_blocking (agent_t *a, int timeout_ms);
int agent_watch_add (agent_t *a, int fd, uint32_t events, agent_watch_t *w);
void agent_watch_mod (agent_t *a, int fd, uint32_t events, agent_watch_t *w);
void agent_watch_del (agent_t *a, int fd);
/* Called by the loop for each frame; exposed for unit tests. */
void agent_handle_frame (agent_t *a, kata_frame_t *f);
/* Feeds input bytes to the channel (framing, resync after errors, dispatch). */
void agent_chan_input (agent_t *a, const void *data, size_t n);

/* ---- rpc.c ---- */
/* Handler return: 0 = send RESULT (the generator's map), 1 = the handler answers later,
   -1 = error (err->status is the code). */
typedef int (*agent_handler_t) (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
void agent_rpc_dispatch (agent_t *a, uint32_t id, const char *payload, size_t len);
int agent_error_code (const kata_error_t *err);
/* Test hook (fuzzing): when set, methods it refuses are answered with ENOSYS. */
extern bool (*agent_rpc_allow) (const char *method);
/* true when a method name is known */
bool agent_rpc_known (const char *method);

/* ---- sandbox.c ---- */
int agent_h_hello (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_check (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_guest_details (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_create_sandbox (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_destroy_sandbox (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_set_identity (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);

/* ---- container.c ---- */
agent_container_t *agent_container_find (agent_t *a, const char *id);
int agent_h_create_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_start_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_exec_process (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_remove_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_pause_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_resume_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_update_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_stats_container (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_list_processes (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
void agent_kill_all (agent_t *a);
void agent_check_oom (agent_t *a);

/* ---- parse.c: what sscanf did, without glibc's vfscanf ---- */
bool agent_parse_net_dev_line (const char *line, char name[64], unsigned long long v[12]);
void agent_parse_proc_stat (const char *s, char *state, int *ppid);
bool agent_scan_hex (const char *s, const char *seps, unsigned *v);

/* ---- process.c ---- */
agent_process_t *agent_process_find (agent_t *a, const char *cid, const char *exec_id);
agent_process_t *agent_process_new (agent_t *a, agent_container_t *c, const char *exec_id);
void agent_process_free (agent_t *a, agent_process_t *p);
void agent_process_gc (agent_t *a);
void agent_process_watch_io (agent_t *a, agent_process_t *p);
void agent_process_on_output (agent_t *a, agent_process_t *p, int which);
void agent_process_on_stdin_writable (agent_t *a, agent_process_t *p);
void agent_process_stdin_data (agent_t *a, uint32_t stream, const void *data, size_t len, bool eof);
void agent_reap_children (agent_t *a);
void agent_process_check_waiters (agent_t *a, agent_process_t *p, bool force);
/* The soonest deadline (ns, monotonic) of a pending wait, or 0. */
uint64_t agent_process_next_deadline (agent_t *a);
void agent_process_timers (agent_t *a);
void agent_output_pause (agent_t *a, bool pause);
int agent_h_signal_process (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_wait_process (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_tty_win_resize (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_close_stdin (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);

/* ---- storage.c ---- */
/* mount function used for storages (replaceable in unit tests) */
typedef int (*agent_mount_fn) (const char *source, const char *target, const char *fstype,
                               unsigned long flags, const char *data);
extern agent_mount_fn agent_storage_mount_fn;
extern int (*agent_storage_umount_fn) (const char *target);
int agent_storage_add (agent_t *a, yajl_val storage, char **mount_point, kata_error_t **err);
int agent_storage_release (agent_t *a, const char *mount_point);
agent_storage_t *agent_storage_find (agent_t *a, const char *mount_point);
int agent_storages_mount (agent_t *a, yajl_val arr, char ***mps, size_t *n, kata_error_t **err);

/* ---- mount.c: option parsing and rootfs (pure parts are unit-tested) ---- */
typedef struct agent_mount_opts_s
{
  unsigned long flags;       /* MS_* to set */
  unsigned long clear;       /* MS_* explicitly cleared (e.g. "rw", "suid") */
  unsigned long propagation; /* MS_PRIVATE|MS_SLAVE|MS_SHARED|MS_UNBINDABLE [|MS_REC] */
  char *data;                /* comma-joined unknown options (fs data) */
  bool bind, rbind;
} agent_mount_opts_t;
int agent_parse_mount_options (char **opts, size_t n, agent_mount_opts_t *out);
void agent_mount_opts_free (agent_mount_opts_t *o);
unsigned long agent_propagation_flag (const char *name); /* 0 when unknown */
/* Resolves PATH (absolute or relative) inside ROOT without escaping it; creates missing
   components when MKDIR (last as dir) or MKFILE (last as file).  Returns a malloc'd host path. */
char *agent_resolve_in_root (const char *root, const char *path, int create, kata_error_t **err);
enum
{
  RESOLVE_NOCREATE = 0,
  RESOLVE_MKDIR = 1,
  RESOLVE_MKFILE = 2,
};
/* In the child: rootfs setup, up to and including pivot_root and masked paths. */
int agent_setup_rootfs (runtime_spec_schema_config_schema *spec, const char *rootfs, bool new_mntns,
                        kata_error_t **err);

/* ---- cgroup.c ---- */
int agent_cgroup_setup_root (void);
int agent_cgroup_create (const char *path, runtime_spec_schema_config_linux_resources *r, kata_error_t **err);
int agent_cgroup_apply (const char *path, runtime_spec_schema_config_linux_resources *r, kata_error_t **err);
int agent_cgroup_write (const char *cg, const char *file, const char *val, kata_error_t **err);
int agent_cgroup_kill (const char *cg);
int agent_cgroup_destroy (const char *cg);
pid_t *agent_cgroup_pids (const char *cg, size_t *n);
/* Memory/CPU/etc value formatting (pure, unit-tested). */
char *agent_cgroup_cpu_max (int64_t quota, bool quota_present, uint64_t period, bool period_present);
uint64_t agent_cgroup_shares_to_weight (uint64_t shares);

/* ---- devcg.c: linux.resources.devices as a cgroup v2 BPF device program ---- */
typedef struct agent_devcg_rule_s
{
  char type;       /* 'a', 'b' or 'c' */
  int64_t major;   /* -1: any */
  int64_t minor;   /* -1: any */
  unsigned access; /* BPF_DEVCG_ACC_* bits */
  bool allow;
} agent_devcg_rule_t;
struct bpf_insn;
/* "rwm" letters -> BPF_DEVCG_ACC_* bits ("" or NULL: all); -1 on an unknown letter. */
int agent_devcg_access (const char *s, unsigned *out);
/* The spec's rules then runc's default allow list (pure, unit-tested). */
int agent_devcg_rules (runtime_spec_schema_defs_linux_device_cgroup **spec, size_t n,
                       agent_devcg_rule_t **out, size_t *len, kata_error_t **err);
/* The program for RULES (the last matching rule decides; none: denied); malloc'd. */
struct bpf_insn *agent_devcg_program (const agent_devcg_rule_t *rules, size_t n, size_t *len);
/* Loads the default program (an empty spec's: runc's, docker's and CRI's default rules)
   into the cache of loaded programs, so that containers need not wait for the verifier. */
int agent_devcg_preload (kata_error_t **err);
/* Loads the program (or takes it from the cache) and attaches it to cgroup CG. */
int agent_devcg_apply (const char *cg, runtime_spec_schema_defs_linux_device_cgroup **spec, size_t n,
                       kata_error_t **err);

/* ---- caps.c ---- */
int agent_cap_from_name (const char *name); /* -1 if unknown */
int agent_caps_mask (char **names, size_t n, uint64_t *mask, kata_error_t **err);
int agent_caps_apply (runtime_spec_schema_config_schema_process_capabilities *c, kata_error_t **err);
int agent_caps_drop_bounding (runtime_spec_schema_config_schema_process_capabilities *c, kata_error_t **err);

/* ---- seccomp.c ---- */
typedef struct agent_sc_arg_s
{
  unsigned int index;
  int op; /* enum scmp_compare */
  uint64_t value, value_two;
} agent_sc_arg_t;
typedef struct agent_sc_rule_s
{
  char *name;
  uint32_t action; /* SCMP_ACT_* */
  agent_sc_arg_t args[6];
  unsigned int nargs;
} agent_sc_rule_t;
typedef struct agent_sc_filter_s
{
  uint32_t default_action;
  uint32_t *arches;
  size_t arches_len;
  bool flag_log, flag_spec_allow, flag_tsync;
  agent_sc_rule_t *rules;
  size_t rules_len;
} agent_sc_filter_t;
int agent_seccomp_action (const char *name, uint32_t errno_ret, bool errno_present, uint32_t *out);
int agent_seccomp_op (const char *name);
int agent_seccomp_translate (runtime_spec_schema_config_linux_seccomp *s, agent_sc_filter_t *out,
                             kata_error_t **err);
void agent_seccomp_filter_free (agent_sc_filter_t *f);
int agent_seccomp_load (const agent_sc_filter_t *f, kata_error_t **err);

/* ---- passwd.c ---- */
typedef struct agent_user_s
{
  uid_t uid;
  gid_t gid;
  char *home;
  gid_t *groups;
  size_t groups_len;
} agent_user_t;
/* Looks NAME (or a numeric uid) up in PASSWD text; 0 found, -1 not found. */
int agent_passwd_lookup (const char *passwd, const char *name, uid_t *uid, gid_t *gid, char **home);
int agent_passwd_lookup_uid (const char *passwd, uid_t uid, char **name, gid_t *gid, char **home);
/* Supplementary gids of user NAME (by member lists) in GROUP text.  */
int agent_group_members (const char *group, const char *name, gid_t **gids, size_t *n);
int agent_group_lookup (const char *group, const char *name, gid_t *gid);

/* ---- child.c: code running in the forked child ---- */
typedef struct agent_child_args_s
{
  runtime_spec_schema_config_schema *spec;            /* container spec (CreateContainer) */
  runtime_spec_schema_config_schema_process *process; /* the process to run */
  const char *rootfs;
  const char *cgroup;
  bool is_init;  /* create the container (rootfs etc.) vs exec into it */
  int ns_fds[8]; /* namespaces to join (setns), -1 terminated */
  int ns_types[8];
  int unshare_flags; /* namespaces to create (besides those from clone) */
  int stdio[3];      /* child ends */
  int console_sock;  /* terminal: child end of the socketpair the pty master goes back on; else -1 */
  int sync_fd;       /* write end: messages to the parent (CLOEXEC) */
  int start_fd;      /* read end: wait for StartContainer (init only) */
  int close_fds[16];
} agent_child_args_t;
void agent_child_run (agent_child_args_t *args) __attribute__ ((noreturn));
/* Message on the sync pipe: 'R' = ready (held), 'E' + int32 errno + text = error. */
int agent_child_read_status (int fd, bool want_ready, int timeout_ms, kata_error_t **err);

/* ---- net.c ---- */
int agent_net_lo_up (void);
unsigned agent_if_index (const char *name);
int agent_h_update_interface (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);
int agent_h_update_routes (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);

/* ---- dns.c: the relay to a resolver on the host netns' loopback ---- */
int agent_dns_relay_start (agent_t *a, const char *address, kata_error_t **err);
void agent_dns_on_query (agent_t *a);
void agent_dns_on_answer (agent_t *a, const void *data, size_t len);
int agent_h_set_dns_relay (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);

/* ---- cpu.c: hot-plugged vCPUs ---- */
/* Onlines the offline CPUs under DIR (/sys/devices/system/cpu); how many are online, -1 (errno). */
int agent_cpu_online_all (const char *dir);
int agent_h_online_cpus (agent_t *a, uint32_t id, yajl_val params, yajl_gen out, kata_error_t **err);

#endif
