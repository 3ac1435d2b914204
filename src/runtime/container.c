/* The container lifecycle: create, start, state, kill, delete, run (runc's behaviour). */
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

typedef runtime_spec_schema_config_schema oci_spec_t;
static inline void
oci_spec_freep (oci_spec_t **p)
{
  free_runtime_spec_schema_config_schema (*p);
}
#define cleanup_oci_spec __attribute__ ((cleanup (oci_spec_freep)))

int
kata_container_lookup (kata_context_t *ctx, const char *id, char **sid, kata_container_state_t **c,
                       kata_sandbox_state_t **sb, kata_error_t **err)
{
  cleanup_free char *s = NULL;
  cleanup_error kata_error_t *e = NULL;

  if (kata_validate_id (id, err) < 0)
    return -1;
  if (kata_mapping_lookup (ctx->root, id, &s, err) < 0)
    return -1;
  if (kata_container_state_load (ctx->root, s, id, c, err) < 0)
    return -1;
  if (sb && kata_sandbox_state_load (ctx->root, s, sb, &e) < 0)
    *sb = NULL;
  if (sid)
    *sid = STEAL_POINTER (&s);
  return 0;
}

static char *
state_json_for_hooks (const kata_container_state_t *c, const char *status, int pid)
{
  return kata_hooks_state_json (c->oci_version, c->id, status, pid, c->bundle, c->ann_keys, c->ann_values,
                                c->ann_len);
}

void
kata_ctr_run_stored_hooks (const kata_container_state_t *c, const char *kind, const char *status, int pid)
{
  runtime_spec_schema_config_schema_hooks *h;
  parser_error perr = NULL;
  cleanup_free char *state = NULL;
  cleanup_error kata_error_t *e = NULL;
  runtime_spec_schema_defs_hook **list = NULL;
  size_t n = 0;

  if (c->hooks_json == NULL)
    return;
  h = runtime_spec_schema_config_schema_hooks_parse_data (c->hooks_json, NULL, &perr);
  if (h == NULL)
    {
      kata_warn ("container %s: stored hooks: %s", c->id, perr ? perr : "parse error");
      free (perr);
      return;
    }
  if (strcmp (kind, "poststart") == 0)
    list = h->poststart, n = h->poststart_len;
  else if (strcmp (kind, "poststop") == 0)
    list = h->poststop, n = h->poststop_len;
  if (n)
    {
      state = state_json_for_hooks (c, status, pid);
      if (kata_hooks_run (kind, list, n, state, &e) < 0)
        kata_warn ("container %s: %s", c->id, e->msg);
    }
  free_runtime_spec_schema_config_schema_hooks (h);
}

/* ---- create ---- */

typedef struct create_job_s
{
  kata_context_t *ctx;
  const char *id;
  char *sid;
  bool new_sandbox;
  bool claimed;
  bool sbs_made;
  bool monitor_started;
  kata_monitor_info_t info;
  bool agent_created;
  pid_t shim;
  unsigned long long shim_start;
  bool shim_child;
  kata_container_state_t *c;
  kata_bind_plan_t *plan;
  size_t nplan;
  int lock;
  kata_net_plan_t *net;
  char *blk_dev; /* the rootfs is this block device's filesystem: hot-plugged, not shared */
  char *blk_fstype;
  char *blk_pci;     /* its guest PCI address ("10/00") once hot-plugged */
  char **vol_pci;    /* per plan entry: the guest PCI address of a hot-plugged block volume */
  size_t ndev;       /* linux.devices of type "b": hot-plugged */
  size_t *dev_index; /* into spec->linux->devices */
  char **dev_host;   /* the host device (/dev/<name> from /sys/dev/block/MAJ:MIN) */
  char **dev_pci;    /* its guest PCI address once hot-plugged */
  bool drives;       /* something was hot-plugged (the state dir's "drives" lists it) */
  char *own_netns;   /* the netns this create made (<root>/netns/<sid>): the spec asked for a new one */
  char *guest_spec;  /* the spec as the guest gets it (CreateContainer's "oci") */
} create_job_t;

/* Hot-plugs host block device PATH as drive DRIVE: *PCI gets its guest address. */
static int
hotplug_drive (create_job_t *j, const char *drive, const char *path, bool readonly, char **pci,
               kata_error_t **err)
{
  j->drives = true; /* set first: a half-done plug is undone too */
  return kata_storage_hotplug_drive (j->ctx->root, j->sid, j->id, drive, path, readonly, pci, err);
}

static bool
mount_parent_too (const char *root, const char *sid, const char *target)
{
  cleanup_free char *shared = kata_state_shared_dir (root, sid);
  cleanup_free char *parent = xstrdup (target);
  return strcmp (dirname (parent), shared) != 0;
}

void
kata_ctr_unbind_mounts (const char *root, const kata_container_state_t *c)
{
  size_t i;
  for (i = c->mounts_len; i > 0; i--)
    {
      cleanup_error kata_error_t *e = NULL;
      const char *t = c->mounts[i - 1];
      if (kata_storage_unbind (t, mount_parent_too (root, c->sandbox_id, t), &e) < 0)
        kata_warn ("container %s: %s", c->id, e->msg);
    }
}

static void
create_rollback (create_job_t *j)
{
  const char *root = j->ctx->root;
  cleanup_error kata_error_t *e = NULL;

  if (j->shim > 0)
    {
      kill (j->shim, SIGKILL);
      /* The shim starts as our child in both modes: reap it if it still is. */
      if (waitpid (j->shim, NULL, 0) < 0)
        kata_kill_wait (j->shim, j->shim_start, 2000);
    }
  if (j->agent_created && !j->new_sandbox)
    {
      if (kata_agent_remove_container (root, j->sid, j->id, 5, KATA_SHORT_TIMEOUT_MS, &e) < 0)
        {
          kata_debug ("rollback: %s", e->msg);
          kata_error_free (e);
          e = NULL;
        }
    }
  if (j->drives && !j->new_sandbox)
    kata_storage_unplug_drives (root, j->sid, j->id);
  if (j->c)
    kata_ctr_unbind_mounts (root, j->c);
  if (j->new_sandbox && j->sbs_made)
    {
      kata_sandbox_state_t sb = { .id = j->sid, .info = j->info };
      if (kata_sandbox_destroy (root, j->sid, j->monitor_started ? &sb : NULL, &e) < 0)
        {
          kata_warn ("rollback: %s", e->msg);
          kata_error_free (e);
          e = NULL;
        }
    }
  else if (j->sid && !j->new_sandbox)
    {
      cleanup_free char *dir = kata_state_container_dir (root, j->sid, j->id);
      cleanup_free char *shared = kata_state_shared_dir (root, j->sid);
      cleanup_free char *cshared = xasprintf ("%s/%s", shared, j->id);
      kata_storage_umount_all_under (cshared, NULL);
      kata_rm_rf (cshared, NULL);
      kata_rm_rf (dir, NULL);
    }
  if (j->c)
    kata_host_cgroup_remove (j->c);
  if (j->claimed)
    kata_mapping_remove (root, j->id);
}

static bool
opt_has (runtime_spec_schema_defs_mount *m, const char *o)
{
  size_t i;
  for (i = 0; i < m->options_len; i++)
    if (strcmp (m->options[i], o) == 0)
      return true;
  return false;
}

/* Decides the shared binds of SPEC's mounts (before anything is started: a missing
   source fails fast). */
static int
plan_storage (create_job_t *j, oci_spec_t *spec, const char *bundle, kata_error_t **err)
{
  kata_mount_desc_t *descs = NULL;
  size_t i;
  int r;

  if (spec->mounts_len)
    {
      descs = xmalloc0 (spec->mounts_len * sizeof (*descs));
      for (i = 0; i < spec->mounts_len; i++)
        {
          descs[i].destination = spec->mounts[i]->destination;
          descs[i].type = spec->mounts[i]->type;
          descs[i].source = spec->mounts[i]->source;
          descs[i].options = spec->mounts[i]->options;
          descs[i].options_len = spec->mounts[i]->options_len;
        }
    }
  r = kata_storage_plan_binds (j->id, bundle, descs, spec->mounts_len, NULL, NULL, &j->plan, &j->nplan, err);
  free (descs);
  if (r < 0)
    return r;
  if (!j->ctx->cfg->runtime.disable_guest_empty_dir)
    kata_storage_plan_local (j->plan, j->nplan);
  if (j->ctx->cfg->hypervisor.disable_block_device_use)
    kata_storage_plan_block_fallback (j->plan, j->nplan);
  j->vol_pci = xmalloc0 ((j->nplan + 1) * sizeof (char *));
  for (i = 0; i < j->nplan; i++)
    {
      kata_bind_plan_t *p = &j->plan[i];
      const char *fs;
      if ((!p->block && !p->host_mount) || p->fstype)
        continue;
      fs = kata_storage_detect_fstype (p->host_source);
      if (fs == NULL)
        return kata_make_error_nostr (
            err, KATA_EBADCONFIG,
            "mount %s: cannot tell the filesystem on block device `%s`; set the mount's "
            "\"type\"",
            spec->mounts[p->index]->destination, p->host_source);
      p->fstype = xstrdup (fs);
    }

  /* linux.devices of type "b": find the host device from its major:minor. */
  if (spec->linux)
    for (i = 0; i < spec->linux->devices_len; i++)
      {
        runtime_spec_schema_defs_linux_device *dv = spec->linux->devices[i];
        struct stat st;
        char *host;
        if (dv->type == NULL || strcmp (dv->type, "b") != 0)
          continue;
        if (dv->path == NULL || dv->path[0] != '/')
          return kata_make_error_nostr (err, KATA_EBADCONFIG, "linux.devices[%zu]: path must be absolute", i);
        if (!kata_storage_blockdev_exists (NULL, dv->major, dv->minor))
          {
            /* No such device on the host: the guest makes the node as given (type,
               numbers, mode, uid, gid), as runc makes it on the host. */
            kata_debug ("device %s: no host block device %lld:%lld, made as given in the guest", dv->path,
                        (long long)dv->major, (long long)dv->minor);
            continue;
          }
        host = kata_storage_blockdev_path (NULL, dv->major, dv->minor, err);
        if (host == NULL)
          return kata_error_wrap (err, "device %s", dv->path);
        if (stat (host, &st) < 0 || !S_ISBLK (st.st_mode) || major (st.st_rdev) != (unsigned)dv->major
            || minor (st.st_rdev) != (unsigned)dv->minor)
          {
            kata_make_error_nostr (err, ENODEV, "device %s: `%s` is not block device %lld:%lld", dv->path,
                                   host, (long long)dv->major, (long long)dv->minor);
            free (host);
            return -1;
          }
        j->dev_index = xrealloc (j->dev_index, (j->ndev + 1) * sizeof (size_t));
        j->dev_host = xrealloc (j->dev_host, (j->ndev + 1) * sizeof (char *));
        j->dev_pci = xrealloc (j->dev_pci, (j->ndev + 1) * sizeof (char *));
        j->dev_index[j->ndev] = i;
        j->dev_host[j->ndev] = host;
        j->dev_pci[j->ndev] = NULL;
        j->ndev++;
      }
  return 0;
}

/* The spec as the guest sees it: the rootfs and every planned mount at their paths in
   the guest (the shared dir, the sandbox's storage), as binds.  Only names change here:
   prepare_storage makes them exist. */
static void
rewrite_spec_for_guest (create_job_t *j, oci_spec_t *spec)
{
  size_t i;
  free (spec->root->path);
  spec->root->path = xasprintf ("%s/%s/rootfs", KATA_GUEST_SHARED_DIR, j->id);
  for (i = 0; i < j->nplan; i++)
    {
      kata_bind_plan_t *p = &j->plan[i];
      runtime_spec_schema_defs_mount *m = spec->mounts[p->index];
      free (m->source);
      m->source = xstrdup (p->guest_source);
      if (m->type == NULL || p->block || p->host_mount)
        {
          free (m->type);
          m->type = xstrdup ("bind");
        }
      if (!opt_has (m, "bind") && !opt_has (m, "rbind"))
        {
          m->options = xrealloc (m->options, (m->options_len + 1) * sizeof (char *));
          m->options[m->options_len++] = xstrdup ("rbind");
        }
    }
}

/* Binds the rootfs and the planned bind mounts into the shared dir and hot-plugs the
   planned disks (the spec already names them as the guest will see them). */
static int
prepare_storage (create_job_t *j, oci_spec_t *spec, kata_error_t **err)
{
  const char *root = j->ctx->root;
  cleanup_free char *shared = kata_state_shared_dir (root, j->sid);
  cleanup_free char *rootfs_target = xasprintf ("%s/%s/rootfs", shared, j->id);
  size_t i;

  if (kata_mkdir_p (shared, 0700, err) < 0)
    return -1;
  kata_container_state_add_mount (j->c, rootfs_target);
  if (j->blk_dev)
    {
      /* Not shared: the agent mounts the hot-plugged disk on the (empty) directory the
         guest sees through the shared dir.  The host's mount of it is left alone. */
      cleanup_free char *drive = xasprintf ("drive-%s", j->id);
      if (kata_mkdir_p (rootfs_target, 0755, err) < 0)
        return kata_error_wrap (err, "rootfs");
      if (hotplug_drive (j, drive, j->blk_dev, false, &j->blk_pci, err) < 0)
        return kata_error_wrap (err, "rootfs on %s", j->blk_dev);
    }
  else if (kata_storage_bind (j->c->rootfs, rootfs_target, false, 0, err) < 0)
    return kata_error_wrap (err, "rootfs");

  for (i = 0; i < j->nplan; i++)
    {
      kata_bind_plan_t *p = &j->plan[i];
      cleanup_free char *target = NULL;
      runtime_spec_schema_defs_mount *m = spec->mounts[p->index];
      if (p->block)
        {
          cleanup_free char *drive = xasprintf ("vol%zu-%s", i, j->id);
          if (hotplug_drive (j, drive, p->host_source, p->readonly, &j->vol_pci[i], err) < 0)
            return kata_error_wrap (err, "mount %s (block device %s)", m->destination, p->host_source);
        }
      else if (p->host_mount)
        {
          /* disable_block_device_use: the host mounts the device, the guest sees it over the shared dir. */
          target = xasprintf ("%s/%s", shared, p->host_target);
          kata_container_state_add_mount (j->c, target);
          if (kata_mkdir_p (target, 0700, err) < 0)
            return kata_error_wrap (err, "mount %s", m->destination);
          if (mount (p->host_source, target, p->fstype, p->readonly ? MS_RDONLY : 0, NULL) < 0)
            return kata_make_error (err, errno, "mount %s: mount block device `%s` (%s) on `%s`",
                                    m->destination, p->host_source, p->fstype, target);
        }
      else if (!p->ephemeral && !p->local)
        {
          target = xasprintf ("%s/%s", shared, p->host_target);
          kata_container_state_add_mount (j->c, target);
          if (kata_storage_bind (p->host_source, target, p->readonly, kata_storage_bind_propagation (p), err)
              < 0)
            return kata_error_wrap (err, "mount %s", m->destination);
        }
    }

  /* linux.devices of type "b": the host device is hot-plugged; the agent makes the node
     at the spec's path with the guest device's numbers. */
  for (i = 0; i < j->ndev; i++)
    {
      runtime_spec_schema_defs_linux_device *dv = spec->linux->devices[j->dev_index[i]];
      cleanup_free char *drive = xasprintf ("dev%zu-%s", i, j->id);
      if (hotplug_drive (j, drive, j->dev_host[i], false, &j->dev_pci[i], err) < 0)
        return kata_error_wrap (err, "device %s (%s)", dv->path, j->dev_host[i]);
    }
  return 0;
}

/* The host network namespace whose interfaces the VM gets (its path, or NULL). */
static const char *
find_netns (oci_spec_t *spec)
{
  size_t i;
  if (spec->linux == NULL)
    return NULL;
  for (i = 0; i < spec->linux->namespaces_len; i++)
    {
      runtime_spec_schema_defs_linux_namespace_reference *ns = spec->linux->namespaces[i];
      if (ns->type && strcmp (ns->type, "network") == 0 && ns->path && ns->path[0])
        return ns->path;
    }
  return NULL;
}

/* The spec asks for a new network namespace: a "network" entry without a path
   (docker's bridge and none modes, `kata-runtime spec`). */
static bool
spec_new_netns (oci_spec_t *spec)
{
  size_t i;
  for (i = 0; spec->linux && i < spec->linux->namespaces_len; i++)
    {
      runtime_spec_schema_defs_linux_namespace_reference *ns = spec->linux->namespaces[i];
      if (ns->type && strcmp (ns->type, "network") == 0)
        return ns->path == NULL || ns->path[0] == '\0';
    }
  return false;
}

/* prestart and createRuntime hooks, with the pid of a process in the container's
   network namespace NETNS (see kata_hooks_holder_start) in the state. */
static int
run_create_hooks (create_job_t *j, oci_spec_t *spec, const char *netns, kata_error_t **err)
{
  cleanup_free char *state = NULL;
  pid_t holder = 0;
  int r;
  if (spec->hooks == NULL || (spec->hooks->prestart_len == 0 && spec->hooks->create_runtime_len == 0))
    return 0;
  if (kata_hooks_holder_start (netns, &holder, err) < 0)
    return -1;
  state = state_json_for_hooks (j->c, "creating", holder);
  r = kata_hooks_run ("prestart", spec->hooks->prestart, spec->hooks->prestart_len, state, err);
  if (r == 0)
    r = kata_hooks_run ("createRuntime", spec->hooks->create_runtime, spec->hooks->create_runtime_len, state,
                        err);
  kata_hooks_holder_stop (holder);
  return r;
}

/* The network namespace the runtime makes for a sandbox whose spec asks for a new
   one, before the hooks run (docker's libnetwork-setkey fills it from its prestart
   hook).  network.json records it first, so that any crash leaves it findable. */
static int
make_own_netns (create_job_t *j, const char *netstate, kata_error_t **err)
{
  cleanup_free char *top = xasprintf ("%s/netns", j->ctx->root);
  j->own_netns = xasprintf ("%s/%s", top, j->sid);
  if (kata_mkdir_p (top, 0700, err) < 0)
    return -1;
  if (kata_network_save_intent (j->own_netns, j->ctx->cfg->runtime.internetworking_model, true, netstate, err)
      < 0)
    return -1;
  if (kata_netns_create (j->own_netns, err) < 0)
    return kata_error_wrap (err, "sandbox %s", j->sid);
  return 0;
}

/* A resolver on the loopback of the host netns (docker's embedded DNS on user-defined
   networks, 127.0.0.11 in the container's resolv.conf) cannot be reached through the
   NIC: the agent relays it over the channel (docs/network.md "DNS"). */
static int
start_dns_relay (create_job_t *j, oci_spec_t *spec, kata_error_t **err)
{
  cleanup_free char *addr = NULL;
  /* the host's file: the spec names the guest's view by now */
  for (size_t i = 0; i < j->nplan && addr == NULL; i++)
    {
      const char *d = spec->mounts[j->plan[i].index]->destination;
      if (d && strcmp (d, "/etc/resolv.conf") == 0)
        addr = kata_network_resolv_loopback (j->plan[i].host_source);
    }
  if (addr == NULL)
    return 0;
  if (kata_agent_set_dns_relay (j->ctx->root, j->sid, addr, KATA_SHORT_TIMEOUT_MS, err) < 0)
    return kata_error_wrap (err, "sandbox %s: DNS relay to %s", j->sid, addr);
  kata_debug ("sandbox %s: DNS relay to %s:53 in the sandbox's netns", j->sid, addr);
  return 0;
}

/* internetworking_model "none" with a netns the runtime made: if the hooks put
   interfaces there (docker's bridge), the container would silently have no
   network.  Say so instead. */
static int
check_model_none (const char *netns, kata_error_t **err)
{
  cleanup_net_plan kata_net_plan_t *p = NULL;
  if (kata_network_discover (netns, &p, err) < 0)
    return -1;
  if (p->n > 0)
    return kata_make_error_nostr (
        err, KATA_EBADCONFIG,
        "the caller configured interface `%s` in the container's network namespace, but "
        "internetworking_model is \"none\": the VM would have no network (set "
        "internetworking_model = \"tcfilter\", or run the container without a network)",
        p->ifaces[0].name);
  return 0;
}

/* User namespaces are not supported in the guest (docs/compatibility.md): a spec that asks
   for one (a "user" namespace, uid/gid mappings, idmapped mounts) is refused before
   anything starts, never run without the mapping it asked for. */
static int
check_user_namespace (oci_spec_t *spec, const char *config_path, kata_error_t **err)
{
  size_t i;
  const char *what = NULL;
  if (spec->linux)
    {
      for (i = 0; i < spec->linux->namespaces_len; i++)
        if (spec->linux->namespaces[i]->type && strcmp (spec->linux->namespaces[i]->type, "user") == 0)
          what = "a \"user\" namespace in linux.namespaces";
      if (spec->linux->uid_mappings_len)
        what = "linux.uidMappings";
      else if (spec->linux->gid_mappings_len)
        what = "linux.gidMappings";
    }
  if (what)
    return kata_make_error_nostr (err, KATA_EBADCONFIG,
                                  "%s: user namespaces are not supported by kata-runtime (the spec has %s)",
                                  config_path, what);
  for (i = 0; i < spec->mounts_len; i++)
    if (spec->mounts[i]->uid_mappings_len || spec->mounts[i]->gid_mappings_len)
      return kata_make_error_nostr (
          err, KATA_EBADCONFIG, "%s: mounts[%zu] (%s): idmapped mounts are not supported by kata-runtime",
          config_path, i, spec->mounts[i]->destination ? spec->mounts[i]->destination : "");
  return 0;
}

/* Host namespace paths mean nothing in the guest: the guest's network is the VM's
   (the network namespace is dropped), the others are created fresh by the agent;
   in a pod container (POD_JOIN) an ipc, uts or pid path means the sandbox
   container's namespace (pod.c), the path is kept for the agent. */
static char *
generate_guest_spec (oci_spec_t *spec, bool pod_join, kata_error_t **err)
{
  struct parser_context pctx = { .options = OPT_GEN_SIMPLIFY };
  parser_error perr = NULL;
  runtime_spec_schema_config_schema_hooks *hooks = spec->hooks;
  runtime_spec_schema_defs_linux_namespace_reference **ns = NULL;
  size_t ns_len = 0, i, k = 0;
  char *json;

  spec->hooks = NULL;
  if (spec->linux && spec->linux->namespaces_len)
    {
      ns = spec->linux->namespaces;
      ns_len = spec->linux->namespaces_len;
      spec->linux->namespaces = xmalloc0 (ns_len * sizeof (*ns));
      for (i = 0; i < ns_len; i++)
        {
          runtime_spec_schema_defs_linux_namespace_reference *n;
          if (ns[i]->type && strcmp (ns[i]->type, "network") == 0)
            continue;
          n = xmalloc0 (sizeof *n);
          n->type = xstrdup (ns[i]->type);
          if (pod_join && kata_pod_ns_shared (ns[i]->type) && ns[i]->path && ns[i]->path[0])
            n->path = xstrdup (ns[i]->path);
          spec->linux->namespaces[k++] = n;
        }
      spec->linux->namespaces_len = k;
    }
  json = runtime_spec_schema_config_schema_generate_json (spec, &pctx, &perr);
  if (ns)
    {
      for (i = 0; i < k; i++)
        free_runtime_spec_schema_defs_linux_namespace_reference (spec->linux->namespaces[i]);
      free (spec->linux->namespaces);
      spec->linux->namespaces = ns;
      spec->linux->namespaces_len = ns_len;
    }
  spec->hooks = hooks;
  if (json == NULL)
    {
      kata_make_error_nostr (err, KATA_EBADCONFIG, "generate the guest spec: %s", perr ? perr : "error");
      free (perr);
      return NULL;
    }
  return json;
}

/* One entry of CreateContainer's "storages": OPTION (or NULL) is its only mount option. */
static void
gen_storage (yajl_gen g, const char *driver, const char *source, const char *fstype, const char *option,
             const char *mount_point)
{
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "driver", driver);
  kata_gen_kv_str (g, "source", source);
  kata_gen_kv_str (g, "fstype", fstype);
  yajl_gen_string (g, (const unsigned char *)"options", 7);
  yajl_gen_array_open (g);
  if (option)
    yajl_gen_string (g, (const unsigned char *)option, strlen (option));
  yajl_gen_array_close (g);
  kata_gen_kv_str (g, "mount_point", mount_point);
  yajl_gen_map_close (g);
}

/* Step 1: the bundle.  Parses config.json and refuses, before anything is made, what
   cannot run: a missing process or root, `..` in a mount destination, a user namespace,
   a spec too large for one agent frame, runc's tty/console-socket mismatches, a rootfs
   that is not a directory.  BUNDLE and ROOTFS get the real paths. */
static int
load_bundle (create_job_t *j, const kata_create_opts_t *opts, oci_spec_t **out, char *bundle, char *rootfs,
             bool *terminal, kata_error_t **err)
{
  cleanup_free char *config_path = NULL;
  cleanup_oci_spec oci_spec_t *spec = NULL;
  parser_error perr = NULL;
  struct parser_context pctx = { 0 };
  size_t i;

  if (realpath (opts->bundle && opts->bundle[0] ? opts->bundle : ".", bundle) == NULL)
    return kata_make_error (err, errno, "bundle `%s`", opts->bundle ? opts->bundle : ".");
  config_path = xasprintf ("%s/config.json", bundle);
  if (access (config_path, R_OK) < 0)
    return kata_make_error (err, errno, "open `%s`", config_path);
  spec = runtime_spec_schema_config_schema_parse_file (config_path, &pctx, &perr);
  if (spec == NULL)
    {
      kata_make_error_nostr (err, KATA_EBADCONFIG, "parse `%s`: %s", config_path, perr ? perr : "invalid");
      free (perr);
      return -1;
    }
  if (spec->process == NULL)
    return kata_make_error_nostr (err, KATA_EBADCONFIG, "%s: process property must not be empty",
                                  config_path);
  if (spec->root == NULL || spec->root->path == NULL || spec->root->path[0] == '\0')
    return kata_make_error_nostr (err, KATA_EBADCONFIG, "%s: root.path must be set", config_path);
  for (i = 0; i < spec->mounts_len; i++) /* hostile input: refused before anything starts */
    {
      const char *d = spec->mounts[i]->destination ? spec->mounts[i]->destination : "";
      if (strcmp (d, "..") == 0 || strncmp (d, "../", 3) == 0 || strstr (d, "/../")
          || (strlen (d) >= 3 && strcmp (d + strlen (d) - 3, "/..") == 0))
        return kata_make_error_nostr (err, KATA_EBADCONFIG, "%s: mounts[%zu].destination `%s` contains `..`",
                                      config_path, i, d);
    }
  if (check_user_namespace (spec, config_path, err) < 0)
    return -1;
  *terminal = spec->process->terminal_present && spec->process->terminal;
  if (*terminal && opts->detach && (opts->console_socket == NULL || opts->console_socket[0] == '\0'))
    return kata_make_error_nostr (err, EINVAL,
                                  "cannot allocate tty if runc will detach without setting console socket");
  if (!*terminal && opts->console_socket && opts->console_socket[0])
    return kata_make_error_nostr (err, EINVAL,
                                  "cannot use console socket if runc will not detach or allocate tty");
  {
    cleanup_free char *r = spec->root->path[0] == '/' ? xstrdup (spec->root->path)
                                                      : xasprintf ("%s/%s", bundle, spec->root->path);
    struct stat rst;
    if (realpath (r, rootfs) == NULL)
      return kata_make_error (err, errno, "rootfs `%s`", r);
    if (stat (rootfs, &rst) < 0 || !S_ISDIR (rst.st_mode))
      return kata_make_error_nostr (err, KATA_EBADCONFIG, "rootfs `%s`: not a directory", r);
  }
  (void)j;
  *out = STEAL_POINTER (&spec);
  return 0;
}

/* Step 2: new sandbox or join one (the CRI annotations decide), and claim the id in the
   sandbox-ID mapping. */
static int
decide_sandbox (create_job_t *j, oci_spec_t *spec, kata_error_t **err)
{
  const char *id = j->id;
  kata_pod_role_t role;
  const char *join_sid = NULL;

  if (kata_sandbox_decide (spec->annotations ? spec->annotations->keys : NULL,
                           spec->annotations ? spec->annotations->values : NULL,
                           spec->annotations ? spec->annotations->len : 0, &role, &join_sid, err)
      < 0)
    return -1;
  if (role == KATA_ROLE_CONTAINER && strcmp (join_sid, id) == 0)
    role = KATA_ROLE_SANDBOX;
  j->new_sandbox = role == KATA_ROLE_SANDBOX;
  j->sid = xstrdup (j->new_sandbox ? id : join_sid);
  if (!j->new_sandbox && kata_validate_id (j->sid, err) < 0)
    return kata_error_wrap (err, "sandbox id");

  if (kata_mapping_claim (j->ctx->root, id, j->sid, err) < 0)
    return -1;
  j->claimed = true;
  return 0;
}

/* Step 3: the container's state record, as it will be saved. */
static void
init_container_state (create_job_t *j, oci_spec_t *spec, const char *bundle, const char *rootfs,
                      bool terminal)
{
  char created[64];
  size_t i;

  j->c = xmalloc0 (sizeof *j->c);
  j->c->version = KATA_STATE_VERSION;
  j->c->id = xstrdup (j->id);
  j->c->sandbox_id = xstrdup (j->sid);
  j->c->oci_version = xstrdup (spec->oci_version ? spec->oci_version : "1.0.2");
  j->c->status = xstrdup ("created");
  j->c->bundle = xstrdup (bundle);
  j->c->rootfs = xstrdup (rootfs);
  kata_rfc3339_now (created, sizeof created);
  j->c->created = xstrdup (created);
  j->c->owner = xstrdup ("");
  j->c->terminal = terminal;
  if (spec->annotations && spec->annotations->len)
    {
      j->c->ann_len = spec->annotations->len;
      j->c->ann_keys = xmalloc0 (j->c->ann_len * sizeof (char *));
      j->c->ann_values = xmalloc0 (j->c->ann_len * sizeof (char *));
      for (i = 0; i < j->c->ann_len; i++)
        {
          j->c->ann_keys[i] = xstrdup (spec->annotations->keys[i]);
          j->c->ann_values[i] = xstrdup (spec->annotations->values[i] ? spec->annotations->values[i] : "");
        }
    }
  j->c->process_json = runtime_spec_schema_config_schema_process_generate_json (
      spec->process, &(struct parser_context){ .options = OPT_GEN_SIMPLIFY }, NULL);
  if (spec->hooks)
    j->c->hooks_json = runtime_spec_schema_config_schema_hooks_generate_json (
        spec->hooks, &(struct parser_context){ .options = OPT_GEN_SIMPLIFY }, NULL);
}

/* Step 4, new sandbox: the state dir and its lock, the VM's size, the network namespace
   (made here when the spec asks for a new one) with the create hooks run in it before it
   is scanned, then the VM and its monitor; the NICs, routes and DNS relay are set in the
   guest.  *NETNS becomes the netns the sandbox uses; *OUT the sandbox state (saved). */
static int
boot_sandbox (create_job_t *j, oci_spec_t *spec, const char **netns, kata_sandbox_state_t **out,
              kata_error_t **err)
{
  kata_sandbox_state_t *sb;
  cleanup_free char *sbs = kata_state_sandbox_dir (j->ctx->root, j->sid);
  cleanup_free char *sbs_top = xasprintf ("%s/sbs", j->ctx->root);
  cleanup_free char *netstate = xasprintf ("%s/%s", sbs, KATA_NET_STATE_FILE);
  kata_sandbox_spec_t sspec = { 0 };
  cleanup_free kata_vm_nic_t *nics = NULL;
  int64_t mem = 0, quota = 0, period = 0;
  long ncpu = sysconf (_SC_NPROCESSORS_ONLN);

  if (kata_mkdir_p (sbs_top, 0700, err) < 0)
    return -1;
  if (kata_state_mkdir (sbs, true) < 0)
    {
      if (errno == EEXIST)
        return kata_make_error_nostr (err, KATA_EEXIST_ID, "container with id exists: %s", j->id);
      return kata_make_error (err, errno, "mkdir `%s`", sbs);
    }
  j->sbs_made = true;
  kata_fault_point ("create-state-dir");
  if (kata_state_lock (j->ctx->root, j->sid, &j->lock, err) < 0)
    return -1;
  kata_spec_limits (spec->linux ? spec->linux->resources : NULL, &mem, &quota, &period);
  kata_pod_sandbox_limits (j->ctx->cfg, spec, &mem, &quota, &period);
  *out = sb = xmalloc0 (sizeof *sb);
  sb->version = KATA_STATE_VERSION;
  sb->id = xstrdup (j->sid);
  sb->config_path = j->ctx->cfg->path ? xstrdup (j->ctx->cfg->path) : NULL;
  kata_sandbox_size (j->ctx->cfg, mem, quota, period, ncpu > 0 ? (int)ncpu : 0, &sb->vcpus, &sb->memory_mb);
  sspec.root = j->ctx->root;
  sspec.sandbox_id = j->sid;
  sspec.cfg = j->ctx->cfg;
  sspec.vcpus = sb->vcpus;
  sspec.memory_mb = sb->memory_mb;
  sspec.hostname = spec->hostname;
  if (spec_new_netns (spec))
    {
      if (make_own_netns (j, netstate, err) < 0)
        return -1;
      *netns = j->own_netns;
    }
  /* before the netns is scanned: the hooks may put the interfaces there */
  if (run_create_hooks (j, spec, *netns, err) < 0)
    return -1;
  sspec.netns_path = *netns;
  sspec.debug = j->ctx->debug;
  if (*netns)
    {
      const char *model = j->ctx->cfg->runtime.internetworking_model;
      if (j->own_netns == NULL && (model == NULL || strcmp (model, "none") != 0)
          && kata_network_check_free (*netns, err) < 0)
        return kata_error_wrap (err, "sandbox %s", j->sid);
      if (kata_network_save_intent (*netns, model, j->own_netns != NULL, netstate, err) < 0)
        return -1;
      if (j->own_netns && model && strcmp (model, "none") == 0 && check_model_none (*netns, err) < 0)
        return -1;
      if (kata_network_setup (*netns, model, &j->net, err) < 0)
        return kata_error_wrap (err, "sandbox %s", j->sid);
      j->net->netns_owned = j->own_netns != NULL;
      if (kata_network_save_state (j->net, netstate, err) < 0)
        return -1;
      nics = xmalloc0 ((j->net->n + 1) * sizeof *nics);
      for (size_t k = 0; k < j->net->n; k++)
        nics[k] = (kata_vm_nic_t){ .tap = j->net->ifaces[k].tap, .mac = j->net->ifaces[k].mac };
      sspec.nics = nics;
      sspec.nics_len = j->net->n;
    }
  kata_debug ("sandbox %s: %d vCPUs, %d MiB", j->sid, sb->vcpus, sb->memory_mb);
  kata_fault_point ("create-before-vm");
  if (kata_monitor_start (&sspec, &j->info, err) < 0)
    return kata_error_wrap (err, "start sandbox %s", j->sid);
  j->monitor_started = true;
  kata_fault_point ("create-vm-started");
  for (size_t k = 0; j->net && k < j->net->n; k++)
    if (kata_agent_update_interface (j->ctx->root, j->sid, j->net->ifaces[k].update_json,
                                     KATA_SHORT_TIMEOUT_MS, err)
        < 0)
      return kata_error_wrap (err, "sandbox %s: interface %s", j->sid, j->net->ifaces[k].name);
  if (j->net && j->net->n_routes > 0
      && kata_agent_update_routes (j->ctx->root, j->sid, j->net->routes_json, KATA_SHORT_TIMEOUT_MS, err) < 0)
    return kata_error_wrap (err, "sandbox %s: routes", j->sid);
  if (j->net && j->net->n > 0 && start_dns_relay (j, spec, err) < 0)
    return -1;
  kata_host_cgroup_join (j->c, j->info.monitor_pid);
  kata_host_cgroup_join (j->c, j->info.qemu_pid);
  kata_host_cgroup_join (j->c, j->info.virtiofsd_pid);
  sb->info = j->info;
  kata_sandbox_state_add_container (sb, j->id);
  if (kata_sandbox_state_save (j->ctx->root, sb, err) < 0)
    return -1;
  kata_log_stage ("vm-ready");
  kata_fault_point ("create-vm-ready");
  return 0;
}

/* Step 4, join: the sandbox must be running; its VM grows by the container's memory. */
static int
join_sandbox (create_job_t *j, oci_spec_t *spec, kata_sandbox_state_t **sb, kata_error_t **err)
{
  const char *root = j->ctx->root;
  if (kata_state_lock (root, j->sid, &j->lock, err) < 0)
    return kata_error_wrap (err, "container %s", j->id);
  if (kata_sandbox_state_load (root, j->sid, sb, err) < 0)
    return -1;
  if (!kata_monitor_alive (&(*sb)->info))
    return kata_make_error_nostr (err, KATA_EVMDEAD, "sandbox %s is not running", j->sid);
  kata_fault_point ("join-locked");
  if (kata_pod_hotplug_memory (root, j->ctx->cfg, *sb, j->id, spec, err) < 0)
    return -1;
  if (kata_pod_hotplug_cpu (root, j->ctx->cfg, *sb, j->id, spec, err) < 0)
    return -1;
  return 0;
}

/* Step 5: CreateContainer in the guest, with the spec as the guest sees it (paths in the
   shared dir, hot-plugged disks as storages and devices). */
static int
create_in_guest (create_job_t *j, oci_spec_t *spec, kata_error_t **err)
{
  cleanup_free char *params = NULL;
  const char *id = j->id;
  size_t i;

  {
    yajl_gen g = kata_gen_new ();
    yajl_gen_map_open (g);
    kata_gen_kv_str (g, "container_id", id);
    kata_gen_kv_raw (g, "oci", j->guest_spec);
    yajl_gen_string (g, (const unsigned char *)"storages", 8);
    yajl_gen_array_open (g);
    if (j->blk_pci)
      {
        cleanup_free char *mp = xasprintf ("%s/%s/rootfs", KATA_GUEST_SHARED_DIR, id);
        gen_storage (g, "blk", j->blk_pci, j->blk_fstype, NULL, mp);
      }
    for (i = 0; i < j->nplan; i++)
      if (j->plan[i].block)
        gen_storage (g, "blk", j->vol_pci[i], j->plan[i].fstype, j->plan[i].readonly ? "ro" : NULL,
                     j->plan[i].guest_source);
      else if (j->plan[i].local)
        gen_storage (g, "local", "local", "local", "mode=0777", j->plan[i].guest_source);
      else if (j->plan[i].ephemeral)
        {
          cleanup_free char *o
              = j->plan[i].shm_size ? xasprintf ("size=%llu", (unsigned long long)j->plan[i].shm_size) : NULL;
          gen_storage (g, "ephemeral", "tmpfs", "tmpfs", o, j->plan[i].guest_source);
        }
    yajl_gen_array_close (g);
    if (j->ndev)
      {
        yajl_gen_string (g, (const unsigned char *)"devices", 7);
        yajl_gen_array_open (g);
        for (i = 0; i < j->ndev; i++)
          {
            yajl_gen_map_open (g);
            kata_gen_kv_str (g, "driver", "blk");
            kata_gen_kv_str (g, "source", j->dev_pci[i]);
            kata_gen_kv_str (g, "container_path", spec->linux->devices[j->dev_index[i]]->path);
            yajl_gen_map_close (g);
          }
        yajl_gen_array_close (g);
      }
    kata_gen_kv_bool (g, "sandbox_pidns", !j->new_sandbox && kata_pod_pidns_path (spec));
    if (!j->new_sandbox)
      kata_gen_kv_str (g, "sandbox_container_id", j->sid);
    yajl_gen_map_close (g);
    params = kata_gen_finish (g, NULL);
  }
  if (kata_agent_create_container (j->ctx->root, j->sid, id, params, &j->c->stream, KATA_CALL_TIMEOUT_MS, err)
      < 0)
    return kata_error_wrap (err, "create container %s", id);
  j->agent_created = true;
  kata_fault_point ("create-after-create-container");
  kata_log_stage ("container-created");
  return 0;
}

/* Step 6: the shim, whose pid is the container's for the caller. */
static int
spawn_shim (create_job_t *j, oci_spec_t *spec, const kata_create_opts_t *opts, bool terminal,
            const char *netns, kata_error_t **err)
{
  kata_context_t *ctx = j->ctx;
  const char *id = j->id;
  kata_shim_spec_t shs = { 0 };
  shs.root = ctx->root;
  shs.sandbox_id = j->sid;
  shs.container_id = id;
  shs.exec_id = "";
  shs.stream = j->c->stream;
  shs.terminal = terminal;
  shs.console_socket = opts->console_socket && opts->console_socket[0] ? opts->console_socket : NULL;
  shs.detach = opts->detach;
  shs.stop_sandbox = j->new_sandbox
                     && kata_sandbox_is_pod (spec->annotations ? spec->annotations->keys : NULL,
                                             spec->annotations ? spec->annotations->values : NULL,
                                             spec->annotations ? spec->annotations->len : 0);
  shs.oom_cgroup = kata_host_cgroup_memory_dir (j->c);
  shs.log_path = ctx->log_path;
  shs.log_format = ctx->log_format;
  shs.debug = ctx->debug;
  {
    /* the shim's pid is the container's for the caller: it lives in the container's
       netns (docker's --network container:<id> names /proc/<pid>/ns/net) */
    int orig = -1, r;
    if (netns && kata_netns_enter (netns, &orig, err) < 0)
      return kata_error_wrap (err, "start the shim of %s", id);
    r = kata_shim_spawn (&shs, &j->shim, err);
    if (orig >= 0)
      kata_netns_leave (orig);
    if (r < 0)
      return kata_error_wrap (err, "start the shim of %s", id);
  }
  j->shim_child = !opts->detach;
  j->shim_start = kata_proc_start_time (j->shim);
  kata_host_cgroup_join (j->c, j->shim);
  kata_log_stage ("shim-started");
  return 0;
}

static int
create_impl (create_job_t *j, const kata_create_opts_t *opts, pid_t *shim_pid, kata_error_t **err)
{
  kata_context_t *ctx = j->ctx;
  const char *root = ctx->root;
  const char *id = j->id;
  char bundle[PATH_MAX], rootfs[PATH_MAX];
  cleanup_oci_spec oci_spec_t *spec = NULL;
  cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
  const char *netns = NULL;
  bool terminal;

  if (kata_validate_id (id, err) < 0)
    return -1;
  if (kata_context_load_config (ctx, err) < 0)
    return -1;
  if (load_bundle (j, opts, &spec, bundle, rootfs, &terminal, err) < 0)
    return -1;
  kata_pod_drop_host_devices (ctx->cfg, spec);
  if (plan_storage (j, spec, bundle, err) < 0)
    return -1;
  if (!ctx->cfg->hypervisor.disable_block_device_use
      && kata_storage_block_rootfs (rootfs, &j->blk_dev, &j->blk_fstype))
    kata_debug ("container %s: rootfs %s is %s (%s): hot-plugged, not shared", id, rootfs, j->blk_dev,
                j->blk_fstype);
  kata_log_stage ("config-parsed");

  if (decide_sandbox (j, spec, err) < 0)
    return -1;
  init_container_state (j, spec, bundle, rootfs, terminal);
  /* The spec the guest gets is built once, here, before anything is made: it must fit
     one agent frame. */
  if (kata_pod_shm (root, j->sid, j->new_sandbox, spec, j->plan, j->nplan, err) < 0)
    return -1;
  rewrite_spec_for_guest (j, spec);
  j->guest_spec = generate_guest_spec (spec, !j->new_sandbox, err);
  if (j->guest_spec == NULL)
    return -1;
  if (strlen (j->guest_spec) > KATA_FRAME_MAX_PAYLOAD - 4096)
    return kata_make_error_nostr (err, KATA_EBADCONFIG,
                                  "%s/config.json: the spec is too large (%zu bytes, limit %u)", bundle,
                                  strlen (j->guest_spec), KATA_FRAME_MAX_PAYLOAD - 4096);
  netns = find_netns (spec);
  if (kata_host_cgroup_create (ctx, spec->linux ? spec->linux->cgroups_path : NULL, j->c, err) < 0)
    return -1;

  if (j->new_sandbox ? boot_sandbox (j, spec, &netns, &sb, err) < 0 : join_sandbox (j, spec, &sb, err) < 0)
    return -1;

  if ((j->new_sandbox && kata_pod_shm_record (root, j->sid, j->plan, j->nplan, err) < 0)
      || prepare_storage (j, spec, err) < 0)
    return -1;
  if (kata_container_state_save (root, j->c, err) < 0)
    return -1;

  if (!j->new_sandbox && run_create_hooks (j, spec, netns, err) < 0)
    return -1;

  if (create_in_guest (j, spec, err) < 0)
    return -1;
  if (spawn_shim (j, spec, opts, terminal, netns, err) < 0)
    return -1;
  j->c->shim_pid = j->shim;
  j->c->shim_start = j->shim_start;
  if (kata_container_state_save (root, j->c, err) < 0)
    return -1;
  if (!j->new_sandbox)
    {
      kata_sandbox_state_add_container (sb, id);
      if (kata_sandbox_state_save (root, sb, err) < 0)
        return -1;
    }
  kata_fault_point ("create-before-pid-file");
  if (kata_write_pid_file (opts->pid_file, j->shim, err) < 0)
    return -1;
  if (shim_pid)
    *shim_pid = j->shim;
  return 0;
}

int
kata_container_create (kata_context_t *ctx, const char *id, const kata_create_opts_t *opts, pid_t *shim_pid,
                       kata_error_t **err)
{
  create_job_t j = { .ctx = ctx, .id = id, .lock = -1 };
  int r = create_impl (&j, opts, shim_pid, err);
  if (r < 0)
    create_rollback (&j);
  if (j.lock >= 0)
    close (j.lock);
  kata_container_state_free (j.c);
  kata_bind_plan_free (j.plan, j.nplan);
  kata_network_plan_free (j.net);
  free (j.blk_dev);
  free (j.blk_fstype);
  free (j.blk_pci);
  for (size_t k = 0; j.vol_pci && k < j.nplan; k++)
    free (j.vol_pci[k]);
  free (j.vol_pci);
  for (size_t k = 0; k < j.ndev; k++)
    {
      free (j.dev_host[k]);
      free (j.dev_pci[k]);
    }
  free (j.dev_index);
  free (j.dev_host);
  free (j.dev_pci);
  free (j.own_netns);
  free (j.guest_spec);
  free (j.sid);
  return r;
}

/* ---- start ---- */

/* Interfaces that appeared in the sandbox's netns since create (`ctr run --cni` runs
   CNI between create and start): wired with tcfilter, hot-plugged into the VM, one at
   a time (so the guest's new NIC is renamed before the next one comes), configured
   by the agent (docs/network.md "Interfaces added after create").  network.json
   lists them before anything is made, so delete (--force) removes their taps. */
static int
hotplug_new_nics (const char *root, const char *sid, kata_error_t **err)
{
  cleanup_free char *sbs = kata_state_sandbox_dir (root, sid);
  cleanup_free char *netstate = xasprintf ("%s/%s", sbs, KATA_NET_STATE_FILE);
  cleanup_net_plan kata_net_plan_t *p = NULL;
  size_t i;

  if (kata_network_add_new (netstate, &p, err) < 0)
    return kata_error_wrap (err, "sandbox %s", sid);
  for (i = 0; i < p->n; i++)
    {
      const kata_net_iface_t *f = &p->ifaces[i];
      cleanup_free char *dev = xasprintf ("nic-%s", f->tap);
      if (kata_monitor_hotplug_nic (root, sid, dev, f->tap, f->mac, KATA_SHORT_TIMEOUT_MS, err) < 0)
        return kata_error_wrap (err, "sandbox %s: hot-plug interface %s", sid, f->name);
      if (kata_agent_update_interface (root, sid, f->update_json, KATA_SHORT_TIMEOUT_MS, err) < 0)
        return kata_error_wrap (err, "sandbox %s: interface %s", sid, f->name);
      kata_debug ("sandbox %s: interface %s (%s) hot-plugged through %s", sid, f->name, f->mac, f->tap);
    }
  if (p->n_routes > 0 && kata_agent_update_routes (root, sid, p->routes_json, KATA_SHORT_TIMEOUT_MS, err) < 0)
    return kata_error_wrap (err, "sandbox %s: routes", sid);
  return 0;
}

int
kata_container_start (kata_context_t *ctx, const char *id, kata_error_t **err)
{
  cleanup_free char *sid = NULL;
  cleanup_container_state kata_container_state_t *c = NULL;
  cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
  cleanup_free char *params = NULL;
  cleanup_lock int lock = -1;
  kata_status_t status;

  if (kata_container_lookup (ctx, id, &sid, &c, &sb, err) < 0)
    return -1;
  if (kata_state_lock (ctx->root, sid, &lock, err) < 0)
    return -1;
  kata_container_state_free (c);
  c = NULL;
  if (kata_container_state_load (ctx->root, sid, id, &c, err) < 0)
    return -1;
  status = kata_container_state_status (c, sb);
  if (status == KATA_STATUS_STOPPED)
    return kata_make_error_nostr (err, KATA_EBADSTATE, "cannot start a container that has stopped");
  if (status != KATA_STATUS_CREATED)
    return kata_make_error_nostr (err, KATA_EBADSTATE, "cannot start an already running container");
  /* the sandbox's own container: its netns may have been configured since create */
  if (strcmp (id, sid) == 0 && hotplug_new_nics (ctx->root, sid, err) < 0)
    return -1;
  kata_fault_point ("start-before-agent");
  if (kata_agent_start_container (ctx->root, sid, id, KATA_CALL_TIMEOUT_MS, err) < 0)
    return kata_error_wrap (err, "start container %s", id);
  kata_fault_point ("start-after-agent");
  free (c->status);
  c->status = xstrdup ("running");
  if (kata_container_state_save (ctx->root, c, err) < 0)
    return -1;
  close (lock);
  lock = -1;
  kata_log_stage ("container-started");
  kata_ctr_run_stored_hooks (c, "poststart", "running", c->shim_pid);
  return 0;
}

/* ---- state ---- */

int
kata_container_state (kata_context_t *ctx, const char *id, char **json, kata_error_t **err)
{
  cleanup_container_state kata_container_state_t *c = NULL;
  cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
  kata_status_t status;
  yajl_gen g;
  size_t i;

  if (kata_container_lookup (ctx, id, NULL, &c, &sb, err) < 0)
    return -1;
  status = kata_container_state_status (c, sb);
  g = kata_gen_new ();
  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_config (g, yajl_gen_indent_string, "  ");
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "ociVersion", c->oci_version ? c->oci_version : "1.0.2");
  kata_gen_kv_str (g, "id", c->id);
  kata_gen_kv_int (g, "pid", status == KATA_STATUS_STOPPED ? 0 : c->shim_pid);
  kata_gen_kv_str (g, "status", kata_status_name (status));
  kata_gen_kv_str (g, "bundle", c->bundle ? c->bundle : "");
  kata_gen_kv_str (g, "rootfs", c->rootfs ? c->rootfs : "");
  kata_gen_kv_str (g, "created", c->created ? c->created : "");
  if (c->ann_len)
    {
      yajl_gen_string (g, (const unsigned char *)"annotations", 11);
      yajl_gen_map_open (g);
      for (i = 0; i < c->ann_len; i++)
        kata_gen_kv_str (g, c->ann_keys[i], c->ann_values[i]);
      yajl_gen_map_close (g);
    }
  /* after "annotations", as in runc's state */
  kata_gen_kv_str (g, "owner", c->owner ? c->owner : "");
  yajl_gen_map_close (g);
  *json = kata_gen_finish (g, NULL);
  /* yajl's beautifier ends with a newline; runc's does not. */
  {
    size_t l = strlen (*json);
    while (l && (*json)[l - 1] == '\n')
      (*json)[--l] = '\0';
  }
  return 0;
}

/* ---- run ---- */

int
kata_container_run (kata_context_t *ctx, const char *id, const kata_create_opts_t *opts, int *exit_status,
                    kata_error_t **err)
{
  kata_create_opts_t o = *opts;
  cleanup_error kata_error_t *e = NULL;
  pid_t pid = 0;

  if (exit_status)
    *exit_status = 0;
  if (kata_container_create (ctx, id, &o, &pid, err) < 0)
    return -1;
  if (kata_container_start (ctx, id, err) < 0)
    {
      if (!o.detach && pid > 0)
        {
          kill (pid, SIGKILL);
          waitpid (pid, NULL, 0);
        }
      /* runc --keep keeps a container whose start failed too */
      if (!o.keep)
        kata_container_delete (ctx, id, true, &e);
      return -1;
    }
  if (o.detach)
    return 0;

  {
    int st = kata_wait_forwarding (pid);
    if (exit_status)
      *exit_status = st;
  }
  if (!o.keep && kata_container_delete (ctx, id, true, &e) < 0)
    kata_warn ("run: delete %s: %s", id, e->msg);
  return 0;
}
