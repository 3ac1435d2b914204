/* The end of a container: kill, delete, and the clean-up of broken state
   (docs/lifecycle.md).  Create, start, state and run are in container.c. */
#include "config.h"
#include "runtime/agent-client.h"
#include "runtime/lifecycle.h"
#include "runtime/container-internal.h"
#include "runtime/client.h"
#include "runtime/hooks.h"
#include "runtime/log.h"
#include "runtime/monitor.h"
#include "runtime/network.h"
#include "runtime/pod.h"
#include "runtime/shim.h"
#include "runtime/storage.h"
#include "common/json.h"
#include "common/proto.h"
#include "common/utils.h"
#include "oci_runtime_spec.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- kill ---- */

int
kata_container_kill (kata_context_t *ctx, const char *id, int signum, bool all, kata_error_t **err)
{
  cleanup_free char *sid = NULL;
  cleanup_container_state kata_container_state_t *c = NULL;
  cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;

  if (kata_container_lookup (ctx, id, &sid, &c, &sb, err) < 0)
    return -1;
  if (kata_container_state_status (c, sb) == KATA_STATUS_STOPPED)
    {
      cleanup_error kata_error_t *e = NULL;
      if (!all)
        return kata_make_error_nostr (err, KATA_EBADSTATE, "container not running");
      /* runc: --all on a stopped container signals what is left in its cgroup and succeeds */
      if (sb && kata_monitor_alive (&sb->info)
          && kata_agent_signal_process (ctx->root, sid, id, NULL, signum, all, KATA_SHORT_TIMEOUT_MS, &e) < 0)
        kata_debug ("kill --all %s: %s", id, e->msg);
      return 0;
    }
  if (kata_agent_signal_process (ctx->root, sid, id, NULL, signum, all, KATA_CALL_TIMEOUT_MS, err) < 0)
    return kata_error_wrap (err, "kill container %s", id);
  return 0;
}

/* ---- delete ---- */

static void
kill_container_shims (const kata_container_state_t *c)
{
  size_t i;
  for (i = 0; i < c->execs_len; i++)
    kata_kill_wait (c->execs[i].shim_pid, c->execs[i].shim_start, 2000);
  kata_kill_wait (c->shim_pid, c->shim_start, 2000);
}

/* Removes one container of a sandbox (state, mounts, mapping); the caller holds the lock.
   FORCE: the agent gets a short time to answer (a sandbox being destroyed does not need it). */
static void
remove_one (kata_context_t *ctx, const char *sid, kata_container_state_t *c, bool vm_alive, bool cgroups,
            bool unplug, bool force)
{
  cleanup_free char *dir = kata_state_container_dir (ctx->root, sid, c->id);
  cleanup_error kata_error_t *e = NULL;

  kata_host_cgroup_thaw (c); /* frozen shims cannot be killed */
  if (vm_alive)
    {
      if (kata_agent_remove_container (ctx->root, sid, c->id, 10,
                                       force ? KATA_SHORT_TIMEOUT_MS : KATA_CALL_TIMEOUT_MS, &e)
          < 0)
        kata_debug ("delete %s: %s", c->id, e->msg);
      /* After RemoveContainer unmounted it in the guest; the VM's own shutdown frees
         the drives of a sandbox that goes as a whole. */
      if (unplug)
        kata_storage_unplug_drives (ctx->root, sid, c->id);
    }
  kata_fault_point ("delete-after-remove");
  kill_container_shims (c);
  if (cgroups)
    kata_host_cgroup_remove (c);
  kata_ctr_run_stored_hooks (c, "poststop", "stopped", 0);
  kata_fault_point ("delete-before-state-removal");
  kata_ctr_unbind_mounts (ctx->root, c);
  kata_rm_rf (dir, NULL);
  kata_mapping_remove (ctx->root, c->id);
}

/* delete --force of an id whose create is still running (mapping claimed, creator
   alive, no container.json yet): waits for the create to write container.json or to
   die, for as long as a create may boot.  True when container.json appeared. */
static bool
wait_for_creator (kata_context_t *ctx, const char *id)
{
  cleanup_free char *sid = NULL;
  cleanup_error kata_error_t *e = NULL;
  uint64_t deadline;
  int boot_s = 60;

  if (kata_validate_id (id, NULL) < 0 || kata_mapping_lookup (ctx->root, id, &sid, NULL) < 0
      || kata_validate_id (sid, NULL) < 0 || !kata_mapping_creator_alive (ctx->root, id, sid))
    return false;
  if (kata_context_load_config (ctx, &e) == 0 && ctx->cfg->hypervisor.boot_timeout > 0)
    boot_s = ctx->cfg->hypervisor.boot_timeout;
  deadline = kata_now_ns () + (uint64_t)(boot_s + 30) * 1000000000ULL;
  kata_debug ("delete %s: its create is in progress; waiting for it", id);
  while (kata_now_ns () < deadline)
    {
      cleanup_container_state kata_container_state_t *c = NULL;
      struct timespec ts = { 0, 50 * 1000 * 1000 };
      if (kata_container_state_load (ctx->root, sid, id, &c, NULL) == 0)
        return true;
      if (!kata_mapping_creator_alive (ctx->root, id, sid))
        return false;
      nanosleep (&ts, NULL);
    }
  kata_warn ("delete %s: its create is still running after %d s; removing it anyway", id, boot_s + 30);
  return false;
}

int
kata_container_delete (kata_context_t *ctx, const char *id, bool force, kata_error_t **err)
{
  cleanup_free char *sid = NULL;
  cleanup_container_state kata_container_state_t *c = NULL;
  cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
  cleanup_lock int lock = -1;
  cleanup_error kata_error_t *e = NULL;
  kata_status_t status;
  bool vm_alive;

  if (kata_container_lookup (ctx, id, &sid, &c, &sb, &e) < 0)
    {
      /* A create in progress (its creator alive, container.json not written yet) owns
         the state: wait for it to finish or die rather than pull the state from under
         it (its monitor would run on, unreachable). */
      if (force && e->status == KATA_ENOTFOUND && wait_for_creator (ctx, id))
        {
          kata_error_free (e);
          e = NULL;
          if (kata_container_lookup (ctx, id, &sid, &c, &sb, &e) < 0)
            return kata_container_cleanup_id (ctx, id, err);
        }
      else if (force && e->status != KATA_EBADID)
        return kata_container_cleanup_id (ctx, id, err);
      else
        {
          *err = STEAL_POINTER (&e);
          return -1;
        }
    }
  status = kata_container_state_status (c, sb);
  if (!force && status != KATA_STATUS_STOPPED && status != KATA_STATUS_CREATED)
    return kata_make_error_nostr (err, KATA_EBADSTATE, "cannot delete container %s that is not stopped: %s",
                                  id, kata_status_name (status));
  vm_alive = sb && kata_monitor_alive (&sb->info);
  kata_host_cgroup_thaw (c);
  if (vm_alive && status != KATA_STATUS_STOPPED)
    {
      if (kata_agent_signal_process (ctx->root, sid, id, NULL, SIGKILL, true, KATA_SHORT_TIMEOUT_MS, &e) < 0)
        {
          kata_debug ("delete %s: %s", id, e->msg);
          /* An agent that does not answer a kill will not answer RemoveContainer either:
             the VM's own shutdown (or the monitor's kill) does the rest. */
          if (force && e->status == KATA_ETIMEOUT)
            vm_alive = false;
          kata_error_free (e);
          e = NULL;
        }
    }
  if (kata_state_lock (ctx->root, sid, &lock, err) < 0)
    return force ? kata_container_cleanup_id (ctx, id, err) : -1;

  if (strcmp (sid, id) == 0)
    {
      /* The sandbox container: the whole pod goes. */
      size_t i;
      if (sb)
        for (i = 0; i < sb->containers_len; i++)
          {
            cleanup_container_state kata_container_state_t *o = NULL;
            if (strcmp (sb->containers[i], id) == 0)
              continue;
            if (kata_container_state_load (ctx->root, sid, sb->containers[i], &o, NULL) == 0)
              remove_one (ctx, sid, o, vm_alive, true, false, force);
            else
              kata_mapping_remove (ctx->root, sb->containers[i]);
          }
      remove_one (ctx, sid, c, vm_alive, false, false, force);
      close (lock);
      lock = -1;
      if (kata_sandbox_destroy (ctx->root, sid, sb, err) < 0)
        return -1;
      kata_host_cgroup_remove (c); /* QEMU and the monitor were in it */
    }
  else
    {
      remove_one (ctx, sid, c, vm_alive, true, true, force);
      if (sb)
        {
          kata_sandbox_state_remove_container (sb, id);
          if (kata_sandbox_state_save (ctx->root, sb, err) < 0)
            return -1;
        }
    }
  kata_log_stage ("container-deleted");
  return 0;
}

/* ---- cleanup of broken state ---- */

int
kata_container_cleanup_id (kata_context_t *ctx, const char *id, kata_error_t **err)
{
  cleanup_free char *sid = NULL;
  cleanup_container_state kata_container_state_t *c = NULL;
  cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
  cleanup_free char *shared = NULL;
  cleanup_free char *cdir = NULL;
  cleanup_free char *sbs = NULL;
  struct stat st;

  if (kata_validate_id (id, err) < 0)
    return -1;
  if (kata_mapping_lookup (ctx->root, id, &sid, NULL) < 0)
    sid = xstrdup (id);
  if (kata_validate_id (sid, NULL) < 0)
    {
      free (sid);
      sid = xstrdup (id);
    }
  shared = kata_state_shared_dir (ctx->root, sid);
  sbs = kata_state_sandbox_dir (ctx->root, sid);
  cdir = kata_state_container_dir (ctx->root, sid, id);

  if (kata_container_state_load (ctx->root, sid, id, &c, NULL) == 0)
    {
      kata_host_cgroup_thaw (c);
      kill_container_shims (c);
      kata_ctr_unbind_mounts (ctx->root, c);
    }
  kata_sandbox_state_load (ctx->root, sid, &sb, NULL);

  if (strcmp (sid, id) == 0)
    {
      /* Every container of the sandbox: from the list and from the directory. */
      cleanup_dir DIR *d = opendir (sbs);
      struct dirent *de;
      if (d)
        while ((de = readdir (d)))
          {
            cleanup_container_state kata_container_state_t *o = NULL;
            cleanup_free char *p = NULL;
            if (de->d_name[0] == '.' || strcmp (de->d_name, id) == 0)
              continue;
            p = xasprintf ("%s/%s", sbs, de->d_name);
            if (stat (p, &st) < 0 || !S_ISDIR (st.st_mode))
              continue;
            if (kata_container_state_load (ctx->root, sid, de->d_name, &o, NULL) == 0)
              {
                kata_host_cgroup_thaw (o);
                kill_container_shims (o);
                kata_host_cgroup_remove (o);
              }
            if (kata_validate_id (de->d_name, NULL) == 0)
              kata_mapping_remove (ctx->root, de->d_name);
          }
      if (sb)
        {
          size_t i;
          for (i = 0; i < sb->containers_len; i++)
            if (strcmp (sb->containers[i], id) != 0 && kata_validate_id (sb->containers[i], NULL) == 0)
              kata_mapping_remove (ctx->root, sb->containers[i]);
        }
      if (kata_sandbox_destroy (ctx->root, sid, sb, err) < 0)
        return -1;
      if (c)
        kata_host_cgroup_remove (c);
    }
  else
    {
      cleanup_free char *prefix = xasprintf ("%s/%s", shared, id);
      cleanup_dir DIR *d = opendir (shared);
      struct dirent *de;
      size_t idlen = strlen (id);
      if (sb && kata_monitor_alive (&sb->info))
        {
          /* Its hot-plugged drives: the guest lets go of them first. */
          cleanup_error kata_error_t *e = NULL;
          if (kata_agent_remove_container (ctx->root, sid, id, 10, KATA_SHORT_TIMEOUT_MS, &e) < 0)
            kata_debug ("cleanup %s: %s", id, e->msg);
          kata_storage_unplug_drives (ctx->root, sid, id);
        }
      kata_storage_umount_all_under (prefix, NULL);
      kata_rm_rf (prefix, NULL);
      /* Bind mounts of this container: <shared>/<id>-<hash>-<name>. */
      if (d)
        while ((de = readdir (d)))
          if (strncmp (de->d_name, id, idlen) == 0 && de->d_name[idlen] == '-')
            {
              cleanup_free char *p = xasprintf ("%s/%s", shared, de->d_name);
              kata_storage_umount_all_under (p, NULL);
              kata_rm_rf (p, NULL);
            }
      kata_rm_rf (cdir, NULL);
      if (c)
        kata_host_cgroup_remove (c);
      if (sb)
        {
          cleanup_lock int lock = -1;
          if (kata_state_lock (ctx->root, sid, &lock, NULL) == 0)
            {
              kata_sandbox_state_free (sb);
              sb = NULL;
              if (kata_sandbox_state_load (ctx->root, sid, &sb, NULL) == 0)
                {
                  kata_sandbox_state_remove_container (sb, id);
                  kata_sandbox_state_save (ctx->root, sb, NULL);
                }
            }
        }
    }
  kata_mapping_remove (ctx->root, id);
  return 0;
}
