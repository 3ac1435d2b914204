/* State on disk: <root>/sbs/<sid>/sandbox.json, <root>/sbs/<sid>/<cid>/container.json,
   <root>/mapping/<cid>/<sid>.  Directories 0700, files 0600, atomic writes, every
   change under flock (<root>/sbs/<sid>/lock).  See docs/lifecycle.md "State on disk". */
#ifndef KATA_STATE_H
#define KATA_STATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>
#include "common/error.h"
#include "runtime/monitor.h"

#define KATA_STATE_VERSION 1

typedef struct kata_exec_state_s
{
  char *exec_id;
  pid_t shim_pid;
  unsigned long long shim_start;
  uint32_t stream;
  bool terminal;
} kata_exec_state_t;

typedef struct kata_container_state_s
{
  int version;
  char *id;
  char *sandbox_id;
  char *oci_version;
  char *status; /* created | running | paused | stopped (as stored) */
  char *bundle;
  char *rootfs;  /* host path of the rootfs (as in the spec) */
  char *created; /* RFC3339 */
  char *owner;
  char **ann_keys, **ann_values;
  size_t ann_len;
  pid_t shim_pid;
  unsigned long long shim_start;
  uint32_t stream;
  bool terminal;
  kata_exec_state_t *execs;
  size_t execs_len;
  char **mounts; /* host mount points made in the shared dir (for cleanup), rootfs first */
  size_t mounts_len;
  char *process_json;  /* the container's OCI process (defaults for exec), or NULL */
  char *hooks_json;    /* the container's OCI hooks (poststart/poststop), or NULL */
  char **cgroup_paths; /* host cgroup of the container, one dir per hierarchy (joined by its processes) */
  size_t cgroup_paths_len;
  char **cgroups_made; /* the cgroup dirs create made (removed on delete, last first) */
  size_t cgroups_made_len;
  pid_t creator_pid;                /* the create that saved it before the shim existed (shim_pid 0): */
  unsigned long long creator_start; /* while it lives the status is "creating" */
} kata_container_state_t;

typedef struct kata_sandbox_state_s
{
  int version;
  char *id;
  kata_monitor_info_t info;
  char *config_path; /* configuration.toml used, or NULL (built-in defaults) */
  int vcpus;
  int memory_mb;
  char **containers;
  size_t containers_len;
  char **loaded;     /* containers as loaded: kata_sandbox_state_save applies only the */
  size_t loaded_len; /* changes made since to what is on disk then (no lost update) */
  bool from_disk;
} kata_sandbox_state_t;

/* Paths (malloc'd). */
char *kata_state_sandbox_dir (const char *root, const char *sid);
char *kata_state_container_dir (const char *root, const char *sid, const char *cid);
char *kata_state_shared_dir (const char *root, const char *sid);
char *kata_state_vm_dir (const char *root, const char *sid);
char *kata_state_mapping_dir (const char *root, const char *cid);

/* Takes an exclusive flock on <root>/sbs/<sid>/lock (creating it); *fd is the lock
   (close it to release).  Fails with KATA_ENOTFOUND when the sandbox dir is missing. */
int kata_state_lock (const char *root, const char *sid, int *fd, kata_error_t **err);
static inline void
kata_state_unlockp (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}
#define cleanup_lock __attribute__ ((cleanup (kata_state_unlockp)))
/* mkdir PATH (0700), making missing parents; retries when a concurrent delete removes
   an empty parent in between.  EXCL: EEXIST is an error (-1, errno).  */
int kata_state_mkdir (const char *path, bool excl);
/* Removes <root>/{mapping,sbs,vm,shared} when they are empty (after the last entry went). */
void kata_state_prune (const char *root);
/* Removes the host cgroup dirs a sandbox's containers made that were still in use when
   their mapping went (<root>/sbs/<sid>/cgroups-left); call once the VM is gone. */
void kata_state_cgroups_release (const char *root, const char *sid);

/* Serialisation (pure; for tests too). */
char *kata_container_state_to_json (const kata_container_state_t *s);
int kata_container_state_from_json (const char *data, size_t len, kata_container_state_t **out,
                                    kata_error_t **err);
char *kata_sandbox_state_to_json (const kata_sandbox_state_t *s);
int kata_sandbox_state_from_json (const char *data, size_t len, kata_sandbox_state_t **out,
                                  kata_error_t **err);

int kata_container_state_save (const char *root, const kata_container_state_t *s, kata_error_t **err);
/* Missing file: KATA_ENOTFOUND. */
int kata_container_state_load (const char *root, const char *sid, const char *cid,
                               kata_container_state_t **out, kata_error_t **err);
int kata_sandbox_state_save (const char *root, const kata_sandbox_state_t *s, kata_error_t **err);
int kata_sandbox_state_load (const char *root, const char *sid, kata_sandbox_state_t **out,
                             kata_error_t **err);

void kata_container_state_free (kata_container_state_t *s);
void kata_sandbox_state_free (kata_sandbox_state_t *s);
static inline void
kata_container_state_freep (kata_container_state_t **s)
{
  kata_container_state_free (*s);
  *s = NULL;
}
static inline void
kata_sandbox_state_freep (kata_sandbox_state_t **s)
{
  kata_sandbox_state_free (*s);
  *s = NULL;
}
#define cleanup_container_state __attribute__ ((cleanup (kata_container_state_freep)))
#define cleanup_sandbox_state __attribute__ ((cleanup (kata_sandbox_state_freep)))

/* Helpers on the lists. */
void kata_sandbox_state_add_container (kata_sandbox_state_t *s, const char *cid);
void kata_sandbox_state_remove_container (kata_sandbox_state_t *s, const char *cid);
void kata_container_state_add_mount (kata_container_state_t *s, const char *path);
void kata_container_state_add_cgroup (kata_container_state_t *s, const char *made);
kata_exec_state_t *kata_container_state_add_exec (kata_container_state_t *s, const char *exec_id);

/* container -> sandbox mapping.  kata_mapping_claim creates <root>/mapping/<cid> (EEXIST:
   KATA_EEXIST_ID "container with id exists: CID") and the <sid> entry. */
int kata_mapping_claim (const char *root, const char *cid, const char *sid, kata_error_t **err);
/* Missing: KATA_ENOTFOUND "container does not exist". */
int kata_mapping_lookup (const char *root, const char *cid, char **sid, kata_error_t **err);
int kata_mapping_remove (const char *root, const char *cid);
/* True while the process that claimed CID (recorded in the mapping entry) is alive:
   the create is in progress, not crashed. */
bool kata_mapping_creator_alive (const char *root, const char *cid, const char *sid);
/* Every container id in <root>/mapping (sorted). */
int kata_mapping_list (const char *root, char ***ids, size_t *n, kata_error_t **err);

/* True when PID (with START) is alive; pid 0 is never alive. */
bool kata_state_pid_alive (pid_t pid, unsigned long long start);
/* A container's status, as the OCI runtime spec names them. */
typedef enum
{
  KATA_STATUS_CREATING,
  KATA_STATUS_CREATED,
  KATA_STATUS_RUNNING,
  KATA_STATUS_PAUSED,
  KATA_STATUS_STOPPED,
} kata_status_t;
/* "creating", "created", "running", "paused", "stopped". */
const char *kata_status_name (kata_status_t s);
/* The status a caller sees: the stored one, "creating" while create runs (no shim yet,
   its creator alive), or "stopped" when the shim or the VM is gone. */
kata_status_t kata_container_state_status (const kata_container_state_t *c, const kata_sandbox_state_t *sb);


#endif
