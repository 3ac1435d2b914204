/* Internal to the sandbox monitor (monitor.c: boot and serving; monitor-standby.c:
   the VM cache's standby monitors).  Not for other users: see monitor.h. */
#ifndef KATA_RUNTIME_MONITOR_INTERNAL_H
#define KATA_RUNTIME_MONITOR_INTERNAL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common/json.h"
#include "common/proto.h"
#include "common/utils.h"
#include "runtime/hypervisor.h"
#include "runtime/log.h"
#include "runtime/monitor.h"

#define MON_ARGS_FILE "monitor.json"
#define MON_SOCK "monitor.sock"
#define STREAM_BUF_MAX (1u << 20)
#define OUTQ_HIGH (4u << 20)
/* Hello is resent after 200 ms, then twice as late each time, up to 1 s: the first one
   waits in the socket until the guest opens its port and is answered at once (the debug
   log says "Hello 1 of N"), and every extra one is answered too, by a guest that has
   better to do (a 4 s TCG boot piled up 20 of them at a fixed 200 ms). */
#define HELLO_INTERVAL_MS 200
#define HELLO_INTERVAL_MAX_MS 1000
#define WATCH_INTERVAL_MS 5000

/* A client's or the agent's output queue. */
typedef kata_buf_t outq_t;

/* ---- monitor state ---- */

typedef struct conn_s
{
  int fd;
  bool dead;
  kata_frame_reader_t rd;
  outq_t out;
  uint32_t ev; /* current epoll mask */
  struct conn_s *next;
} conn_t;

/* What the monitor must know about a request it forwarded (see "paused containers"). */
enum
{
  PEND_PLAIN = 0,
  PEND_PAUSE,  /* PauseContainer */
  PEND_RESUME, /* ResumeContainer */
  PEND_THAW,   /* RemoveContainer, SignalProcess SIGKILL to all: the agent thaws the container */
};

typedef struct pending_s
{
  uint32_t agent_id;
  conn_t *c; /* NULL: internal request, or its client went away */
  uint32_t client_id;
  int kind;  /* PEND_* */
  char *cid; /* container of a PEND_PAUSE/RESUME/THAW request */
  struct pending_s *next;
} pending_t;

/* A request held back by the monitor: an ExecProcess for a paused container would
   block the (single-threaded) agent until the container is resumed, and with it every
   request behind it, ResumeContainer included.  It is sent once the container is
   resumed (or removed), or dropped with its client. */
typedef struct held_s
{
  conn_t *c;
  uint32_t client_id;
  char *cid;
  uint8_t *payload;
  uint32_t len;
  struct held_s *next;
} held_t;

/* A container the agent has (or is about to have) frozen. */
typedef struct paused_s
{
  char *cid;
  struct paused_s *next;
} paused_t;

typedef struct stream_s
{
  uint32_t base;
  conn_t *c;  /* attached client */
  outq_t buf; /* frames buffered while no client is attached */
  size_t buffered[3];
  bool eof[3];
  struct stream_s *next;
} stream_t;

typedef struct monitor_s
{
  char *root, *sid, *vm_dir, *shared_dir, *sbs_dir;
  char *hostname, *netns_path, *cgroup_path, *block_rootfs;
  char **nic_taps, **nic_macs;
  size_t nics_len;
  int vcpus, memory_mb;
  bool debug;
  kata_config_t *cfg;
  const struct hypervisor_ops *ops;
  kata_vm_params_t params;
  kata_vm_t vm;
  int sfd, epfd, listen_fd, sbs_dfd;
  int agent_fd;
  kata_frame_reader_t agent_rd;
  outq_t agent_out;
  uint32_t agent_ev;
  uint32_t next_id;
  conn_t *conns;
  pending_t *pending;
  held_t *held; /* in arrival order */
  paused_t *paused_ctrs;
  stream_t *streams;
  bool paused;
  bool qemu_exited;
  int qemu_status;
  ino_t sock_ino; /* monitor.sock as bound, to notice it being removed */
  uint64_t next_watch;
  int watch_ms;
  bool standby;        /* VM cache: booted for nobody yet, waits to be claimed (docs/factory.md) */
  uint32_t dns_target; /* SetDnsRelay's resolver (IPv4, network order), 0: none */
  bool dns_open;       /* dns_fd: the relay's socket in the sandbox's netns */
  int dns_fd;
  pid_t creator_pid; /* the create that started us (from the sandbox's mapping entry, else our parent) */
  unsigned long long creator_start;
  int orphan_ticks; /* consecutive watch ticks that found the sandbox's mapping gone, its creator dead */
} monitor_t;

enum
{
  TAG_AGENT = 1,
  TAG_LISTEN = 2,
  TAG_SIGNAL = 3,
  TAG_DNS = 4
};

/* monitor-dns.c: the host end of the agent's DNS relay. */
void mon_dns_note (monitor_t *m, const char *method, yajl_val params);
void mon_dns_query (monitor_t *m, const void *q, size_t n);
ssize_t mon_dns_answer (monitor_t *m, void *buf, size_t cap);

/* monitor-nic.c: NIC hot-plug.  Opens TAP in the sandbox's netns and hands it to the
   VM as a virtio-net NIC named ID with MAC; *ADDR gets its guest PCI address. */
int mon_hotplug_nic (monitor_t *m, const char *id, const char *tap, const char *mac, char **addr,
                     kata_error_t **err);
/* Hot-plugs every NIC of the arguments (a VM that booted without them: a template
   clone, a VM from the cache). */
int mon_hotplug_boot_nics (monitor_t *m, kata_error_t **err);

/* monitor-cpu.c: vCPU hot-plug (q35).  Adds up to COUNT vCPUs in the free slots of
   -smp's maxcpus; *ADDED says how many.  ENOSPC when no slot is free, KATA_ENOTIMPL on
   microvm. */
int mon_hotplug_cpu (monitor_t *m, int count, int *added, kata_error_t **err);
/* Pure: device_add's arguments for a free slot of query-hotpluggable-cpus (its type
   as driver, ID, its integer props), NULL for a slot in use. */
char *mon_cpu_slot_args (yajl_val slot, const char *id);

int mon_load_args (monitor_t *m, const char *path, kata_error_t **err);
int mon_report (int fd, const char *fmt, ...);
/* The "err STATUS MESSAGE" line for E: how a failure reaches the creator. */
int mon_report_error (int fd, const kata_error_t *e);
uint32_t mon_new_id (monitor_t *m);
bool mon_reap_children (monitor_t *m, int *status, bool *was_vfsd);
void mon_drain_signalfd (int sfd, bool *term);
/* monitor-boot.c: the agent's first exchange (Hello, CreateSandbox): 0, or -1 with ERR
   saying why (KATA_EVMDEAD, console lines included). */
int mon_boot_agent (monitor_t *m, kata_error_t **err);
/* What a death of the VM or the agent looks like to callers: CAUSE and the console's
   last line (malloc'd). */
char *mon_death_message (monitor_t *m, const char *cause);
/* "QEMU exited with status N" / "QEMU was killed by signal S (...)" (malloc'd). */
char *mon_exit_status_str (int status);
int mon_standby_wait (monitor_t *m, int ready);
void mon_clone_to_cold (monitor_t *m);

#endif
