/* The other verbs of a container: exec, list, pids, pause, resume, update, events. */
#include "config.h"
#include "runtime/agent-client.h"
#include "runtime/lifecycle.h"
#include "runtime/client.h"
#include "runtime/log.h"
#include "runtime/pod.h"
#include "runtime/shim.h"
#include "common/json.h"
#include "common/utils.h"
#include "oci_runtime_spec.h"
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef runtime_spec_schema_config_schema_process oci_process_t;
static inline void
oci_process_freep (oci_process_t **p)
{
  free_runtime_spec_schema_config_schema_process (*p);
}
#define cleanup_oci_process __attribute__ ((cleanup (oci_process_freep)))

static void
strv_append (char ***v, size_t *n, const char *s)
{
  *v = xrealloc (*v, (*n + 1) * sizeof (char *));
  (*v)[(*n)++] = xstrdup (s);
}

/* Sets NAME=VALUE in ENV, replacing an entry with the same name. */
static void
env_set (char ***env, size_t *n, const char *kv)
{
  const char *eq = strchr (kv, '=');
  size_t klen = eq ? (size_t)(eq - kv) : strlen (kv), i;
  for (i = 0; i < *n; i++)
    if (strncmp ((*env)[i], kv, klen) == 0 && ((*env)[i][klen] == '=' || (*env)[i][klen] == '\0'))
      {
        free ((*env)[i]);
        (*env)[i] = xstrdup (kv);
        return;
      }
  strv_append (env, n, kv);
}

/* The process to exec: --process, or the container's process with the flags applied (runc). */
static char *
exec_process_json (const kata_container_state_t *c, const kata_exec_opts_t *o, bool *terminal,
                   kata_error_t **err)
{
  struct parser_context gen = { .options = OPT_GEN_SIMPLIFY };
  parser_error perr = NULL;
  cleanup_oci_process oci_process_t *p = NULL;
  char *json;
  size_t i;

  if (o->process_json_path)
    {
      p = runtime_spec_schema_config_schema_process_parse_file (o->process_json_path, NULL, &perr);
      if (p == NULL)
        {
          kata_make_error_nostr (err, KATA_EBADCONFIG, "parse `%s`: %s", o->process_json_path,
                                 perr ? perr : "invalid");
          free (perr);
          return NULL;
        }
    }
  else
    {
      if (o->args_len == 0)
        {
          kata_make_error_nostr (err, EINVAL, "process args cannot be empty"); /* runc's words */
          return NULL;
        }
      if (c->process_json)
        p = runtime_spec_schema_config_schema_process_parse_data (c->process_json, NULL, &perr);
      if (p == NULL)
        {
          free (perr);
          perr = NULL;
          p = xmalloc0 (sizeof *p);
        }
      for (i = 0; i < p->args_len; i++)
        free (p->args[i]);
      free (p->args);
      p->args = NULL;
      p->args_len = 0;
      for (i = 0; i < o->args_len; i++)
        strv_append (&p->args, &p->args_len, o->args[i]);
      p->terminal = o->tty;
      p->terminal_present = true;
      if (!o->tty && p->console_size)
        {
          free_runtime_spec_schema_config_schema_process_console_size (p->console_size);
          p->console_size = NULL;
        }
      if (o->cwd && o->cwd[0])
        {
          free (p->cwd);
          p->cwd = xstrdup (o->cwd);
        }
      if (p->cwd == NULL)
        p->cwd = xstrdup ("/");
      for (i = 0; i < o->env_len; i++)
        env_set (&p->env, &p->env_len, o->env[i]);
      if (o->user && o->user[0])
        {
          unsigned long uid, gid = 0;
          char *end;
          uid = strtoul (o->user, &end, 10);
          if (end == o->user || (*end != '\0' && *end != ':'))
            {
              kata_make_error_nostr (err, EINVAL, "exec: invalid --user `%s` (uid[:gid])", o->user);
              return NULL;
            }
          if (*end == ':')
            {
              char *g = end + 1;
              gid = strtoul (g, &end, 10);
              if (end == g || *end != '\0')
                {
                  kata_make_error_nostr (err, EINVAL, "exec: invalid --user `%s` (uid[:gid])", o->user);
                  return NULL;
                }
            }
          if (p->user == NULL)
            p->user = xmalloc0 (sizeof *p->user);
          p->user->uid = (uint32_t)uid;
          p->user->uid_present = true;
          p->user->gid = (uint32_t)gid;
          p->user->gid_present = true;
          free (p->user->username);
          p->user->username = NULL;
        }
      if (o->additional_gids_len)
        {
          if (p->user == NULL)
            p->user = xmalloc0 (sizeof *p->user);
          for (i = 0; i < o->additional_gids_len; i++)
            {
              char *end;
              unsigned long g = strtoul (o->additional_gids[i], &end, 10);
              if (end == o->additional_gids[i] || *end)
                {
                  kata_make_error_nostr (err, EINVAL, "exec: invalid additional gid `%s`",
                                         o->additional_gids[i]);
                  return NULL;
                }
              p->user->additional_gids = xrealloc (p->user->additional_gids,
                                                   (p->user->additional_gids_len + 1) * sizeof (uint32_t));
              p->user->additional_gids[p->user->additional_gids_len++] = (uint32_t)g;
            }
        }
      if (o->caps_len)
        {
          if (p->capabilities == NULL)
            p->capabilities = xmalloc0 (sizeof *p->capabilities);
          for (i = 0; i < o->caps_len; i++)
            {
              strv_append (&p->capabilities->bounding, &p->capabilities->bounding_len, o->caps[i]);
              strv_append (&p->capabilities->effective, &p->capabilities->effective_len, o->caps[i]);
              strv_append (&p->capabilities->permitted, &p->capabilities->permitted_len, o->caps[i]);
            }
        }
      if (o->no_new_privs)
        {
          p->no_new_privileges = true;
          p->no_new_privileges_present = true;
        }
    }
  if (p->args_len == 0)
    {
      kata_make_error_nostr (err, EINVAL, "process args cannot be empty");
      return NULL;
    }
  *terminal = p->terminal_present && p->terminal;
  json = runtime_spec_schema_config_schema_process_generate_json (p, &gen, &perr);
  if (json == NULL)
    {
      kata_make_error_nostr (err, EINVAL, "exec: %s", perr ? perr : "cannot generate the process");
      free (perr);
    }
  return json;
}

static volatile pid_t forward_pid;

static void
forward_signal (int sig)
{
  if (forward_pid > 0)
    kill (forward_pid, sig);
}

/* Waits for PID (a foreground shim), forwarding the usual signals to it.
   Returns its status as a shell would (128+signal when killed). */
int
kata_wait_forwarding (pid_t pid)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  struct sigaction sa = { .sa_handler = forward_signal }, old[sizeof sigs / sizeof sigs[0]];
  int status = 0;
  size_t i;

  forward_pid = pid;
  sigemptyset (&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction (sigs[i], &sa, &old[i]);
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        status = 255 << 8;
        break;
      }
  forward_pid = 0;
  for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction (sigs[i], &old[i], NULL);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

int
kata_container_exec (kata_context_t *ctx, const char *id, const kata_exec_opts_t *opts, int *exit_status,
                     kata_error_t **err)
{
  cleanup_free char *sid = NULL;
  cleanup_container_state kata_container_state_t *c = NULL;
  cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
  cleanup_free char *process = NULL;
  cleanup_free char *exec_id = NULL;
  kata_status_t status;
  bool terminal = false;
  kata_shim_spec_t shs = { 0 };
  pid_t pid = 0;
  bool has_console = opts->console_socket && opts->console_socket[0];

  if (exit_status)
    *exit_status = 0;
  if (kata_container_lookup (ctx, id, &sid, &c, &sb, err) < 0)
    return -1;
  status = kata_container_state_status (c, sb);
  if (status == KATA_STATUS_STOPPED)
    return kata_make_error_nostr (err, KATA_EBADSTATE, "cannot exec in a stopped container");
  if (status == KATA_STATUS_PAUSED && !opts->ignore_paused)
    return kata_make_error_nostr (err, KATA_EBADSTATE,
                                  "cannot exec in a paused container (use --ignore-paused)");
  process = exec_process_json (c, opts, &terminal, err);
  if (process == NULL)
    return -1;
  if (terminal && opts->detach && !has_console)
    return kata_make_error_nostr (err, EINVAL,
                                  "cannot allocate tty if runc will detach without setting console socket");
  if (!terminal && has_console)
    return kata_make_error_nostr (err, EINVAL,
                                  "cannot use console socket if runc will not detach or allocate tty");

  exec_id = kata_random_hex (8);
  if (kata_agent_exec_process (ctx->root, sid, id, exec_id, opts->ignore_paused, process, &shs.stream,
                               KATA_CALL_TIMEOUT_MS, err)
      < 0)
    return kata_error_wrap (err, "exec in %s", id);

  shs.root = ctx->root;
  shs.sandbox_id = sid;
  shs.container_id = id;
  shs.exec_id = exec_id;
  shs.terminal = terminal;
  shs.console_socket = has_console ? opts->console_socket : NULL;
  shs.detach = opts->detach;
  shs.log_path = ctx->log_path;
  shs.log_format = ctx->log_format;
  shs.debug = ctx->debug;
  if (kata_shim_spawn (&shs, &pid, err) < 0)
    {
      cleanup_error kata_error_t *e = NULL;
      kata_agent_signal_process (ctx->root, sid, id, exec_id, SIGKILL, false, KATA_SHORT_TIMEOUT_MS, &e);
      return kata_error_wrap (err, "exec in %s: start the shim", id);
    }

  {
    cleanup_lock int lock = -1;
    cleanup_error kata_error_t *e = NULL;
    cleanup_container_state kata_container_state_t *c2 = NULL;
    if (kata_state_lock (ctx->root, sid, &lock, &e) == 0
        && kata_container_state_load (ctx->root, sid, id, &c2, &e) == 0)
      {
        kata_exec_state_t *x;
        size_t i, k = 0;
        /* Forget exec shims that are gone. */
        for (i = 0; i < c2->execs_len; i++)
          {
            if (kata_state_pid_alive (c2->execs[i].shim_pid, c2->execs[i].shim_start))
              c2->execs[k++] = c2->execs[i];
            else
              free (c2->execs[i].exec_id);
          }
        c2->execs_len = k;
        kata_host_cgroup_join (c2, pid);
        x = kata_container_state_add_exec (c2, exec_id);
        x->shim_pid = pid;
        x->shim_start = kata_proc_start_time (pid);
        x->stream = shs.stream;
        x->terminal = terminal;
        if (kata_container_state_save (ctx->root, c2, &e) < 0)
          kata_warn ("exec in %s: %s", id, e->msg);
      }
    else if (e)
      kata_warn ("exec in %s: %s", id, e->msg);
  }

  if (kata_write_pid_file (opts->pid_file, pid, err) < 0)
    {
      /* runc terminates the process: the one in the guest, then its shim */
      cleanup_error kata_error_t *e = NULL;
      if (kata_agent_signal_process (ctx->root, sid, id, exec_id, SIGKILL, false, KATA_SHORT_TIMEOUT_MS, &e)
          < 0)
        kata_debug ("exec in %s: kill the process: %s", id, e->msg);
      kill (pid, SIGKILL);
      if (!opts->detach)
        waitpid (pid, NULL, 0);
      return -1;
    }
  if (opts->detach)
    return 0;
  {
    int st = kata_wait_forwarding (pid);
    if (exit_status)
      *exit_status = st;
  }
  return 0;
}

/* ---- list, pids ---- */

int
kata_container_list (kata_context_t *ctx, kata_container_summary_t **out, size_t *n, kata_error_t **err)
{
  char **ids = NULL;
  size_t nids = 0, i, k = 0;
  kata_container_summary_t *v = NULL;

  *out = NULL;
  *n = 0;
  if (kata_mapping_list (ctx->root, &ids, &nids, err) < 0)
    return -1;
  if (nids)
    v = xmalloc0 (nids * sizeof (*v));
  for (i = 0; i < nids; i++)
    {
      cleanup_container_state kata_container_state_t *c = NULL;
      cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
      kata_status_t status;
      size_t a;
      if (kata_container_lookup (ctx, ids[i], NULL, &c, &sb, NULL) < 0)
        continue; /* half created or being deleted */
      status = kata_container_state_status (c, sb);
      v[k].id = xstrdup (c->id);
      v[k].pid = status == KATA_STATUS_STOPPED ? 0 : c->shim_pid;
      v[k].status = xstrdup (kata_status_name (status));
      v[k].bundle = xstrdup (c->bundle ? c->bundle : "");
      v[k].rootfs = xstrdup (c->rootfs ? c->rootfs : "");
      v[k].created = xstrdup (c->created ? c->created : "");
      {
        /* runc's list: the user owning the container's state directory ("#UID" unnamed) */
        cleanup_free char *dir = kata_state_container_dir (ctx->root, c->sandbox_id, c->id);
        struct stat st;
        struct passwd *pw;
        if (stat (dir, &st) < 0)
          v[k].owner = xstrdup (c->owner ? c->owner : "");
        else if ((pw = getpwuid (st.st_uid)) != NULL)
          v[k].owner = xstrdup (pw->pw_name);
        else
          v[k].owner = xasprintf ("#%u", (unsigned)st.st_uid);
      }
      v[k].annotations_len = c->ann_len;
      if (c->ann_len)
        {
          v[k].annotations_keys = xmalloc0 (c->ann_len * sizeof (char *));
          v[k].annotations_values = xmalloc0 (c->ann_len * sizeof (char *));
          for (a = 0; a < c->ann_len; a++)
            {
              v[k].annotations_keys[a] = xstrdup (c->ann_keys[a]);
              v[k].annotations_values[a] = xstrdup (c->ann_values[a]);
            }
        }
      k++;
    }
  kata_strvn_free (ids, nids);
  *out = v;
  *n = k;
  return 0;
}

void
kata_container_summary_free (kata_container_summary_t *s, size_t n)
{
  size_t i;
  if (s == NULL)
    return;
  for (i = 0; i < n; i++)
    {
      free (s[i].id);
      free (s[i].status);
      free (s[i].bundle);
      free (s[i].rootfs);
      free (s[i].created);
      free (s[i].owner);
      kata_strvn_free (s[i].annotations_keys, s[i].annotations_len);
      kata_strvn_free (s[i].annotations_values, s[i].annotations_len);
    }
  free (s);
}

int
kata_container_pids (kata_context_t *ctx, const char *id, pid_t **pids, size_t *n, kata_error_t **err)
{
  cleanup_container_state kata_container_state_t *c = NULL;
  size_t i, k = 0;
  pid_t *v;

  *pids = NULL;
  *n = 0;
  if (kata_container_lookup (ctx, id, NULL, &c, NULL, err) < 0)
    return -1;
  v = xmalloc0 ((c->execs_len + 1) * sizeof (pid_t));
  if (kata_state_pid_alive (c->shim_pid, c->shim_start))
    v[k++] = c->shim_pid;
  for (i = 0; i < c->execs_len; i++)
    if (kata_state_pid_alive (c->execs[i].shim_pid, c->execs[i].shim_start))
      v[k++] = c->execs[i].shim_pid;
  *pids = v;
  *n = k;
  return 0;
}

/* The sandbox id of a container that must be running (or paused). */
static int
running_container (kata_context_t *ctx, const char *id, char **sid, kata_container_state_t **cs,
                   kata_error_t **err)
{
  cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
  if (kata_container_lookup (ctx, id, sid, cs, &sb, err) < 0)
    return -1;
  if (kata_container_state_status (*cs, sb) == KATA_STATUS_STOPPED)
    return kata_make_error_nostr (err, KATA_EBADSTATE, "container not running");
  return 0;
}

/* ---- pause, resume, update ---- */

/* Pause or resume: under the sandbox lock, so that the status stored is the agent's
   (two concurrent pause/resume calls cannot leave "paused" stored over a thawed
   container).  The monitor answers other requests meanwhile: an exec of a paused
   container is held there, not in the agent (src/runtime/monitor.c "paused
   containers"), so a resume never waits behind it. */
static int
pause_resume (kata_context_t *ctx, const char *id, bool pause, kata_error_t **err)
{
  cleanup_free char *sid = NULL;
  cleanup_container_state kata_container_state_t *c = NULL;
  cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
  cleanup_lock int lock = -1;
  kata_status_t status;

  if (kata_container_lookup (ctx, id, &sid, &c, NULL, err) < 0)
    return -1;
  if (kata_state_lock (ctx->root, sid, &lock, err) < 0)
    return -1;
  kata_container_state_free (c);
  c = NULL;
  if (kata_container_lookup (ctx, id, NULL, &c, &sb, err) < 0)
    return -1;
  status = kata_container_state_status (c, sb);
  if (status == KATA_STATUS_STOPPED)
    return kata_make_error_nostr (err, KATA_EBADSTATE, "container not running");
  if (pause && status != KATA_STATUS_RUNNING)
    return kata_make_error_nostr (err, KATA_EBADSTATE, "container not running");
  if (!pause && status != KATA_STATUS_PAUSED)
    return kata_make_error_nostr (err, KATA_EBADSTATE, "container not paused");
  if (kata_agent_pause_container (ctx->root, sid, id, pause, KATA_CALL_TIMEOUT_MS, err) < 0)
    return kata_error_wrap (err, "%s %s", pause ? "pause" : "resume", id);
  free (c->status);
  c->status = xstrdup (pause ? "paused" : "running");
  return kata_container_state_save (ctx->root, c, err);
}

int
kata_container_pause (kata_context_t *ctx, const char *id, kata_error_t **err)
{
  return pause_resume (ctx, id, true, err);
}

int
kata_container_resume (kata_context_t *ctx, const char *id, kata_error_t **err)
{
  return pause_resume (ctx, id, false, err);
}

/* In cgroup-host.c (declared here: lifecycle.h is not ours to change). */
void kata_host_cgroup_set_limits (const kata_config_t *cfg, const kata_container_state_t *c, int memory_mb,
                                  int64_t quota, int64_t period);

/* The guest's cgroup gets the new limits (UpdateContainer).  Memory cannot grow past
   the VM's memory (no hot-plug): such a limit is refused before anything changes.  The
   host cgroup of the sandbox keeps "guest memory + overhead" (memory given to the guest
   cannot be taken back without a balloon) and gets a new CPU quota (+ the overhead
   share).  See docs/cgroups.md. */
int
kata_container_update (kata_context_t *ctx, const char *id, const char *resources_json, kata_error_t **err)
{
  cleanup_free char *sid = NULL;
  cleanup_container_state kata_container_state_t *c = NULL;
  cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
  cleanup_free char *norm = NULL;
  struct parser_context gen = { .options = OPT_GEN_SIMPLIFY };
  parser_error perr = NULL;
  runtime_spec_schema_config_linux_resources *r;
  int64_t mem = 0, quota = 0, period = 0;

  r = runtime_spec_schema_config_linux_resources_parse_data (resources_json ? resources_json : "{}", NULL,
                                                             &perr);
  if (r == NULL)
    {
      kata_make_error_nostr (err, EINVAL, "invalid resources: %s", perr ? perr : "parse error");
      free (perr);
      return -1;
    }
  if (r->memory && r->memory->limit_present)
    mem = r->memory->limit;
  if (r->cpu && r->cpu->quota_present)
    quota = r->cpu->quota;
  if (r->cpu && r->cpu->period_present)
    period = (int64_t)r->cpu->period;
  norm = runtime_spec_schema_config_linux_resources_generate_json (r, &gen, NULL);
  free_runtime_spec_schema_config_linux_resources (r);
  if (norm == NULL)
    return kata_make_error_nostr (err, EINVAL, "invalid resources");
  if (running_container (ctx, id, &sid, &c, err) < 0)
    return -1;
  if (kata_sandbox_state_load (ctx->root, sid, &sb, err) < 0)
    return kata_error_wrap (err, "update %s", id);
  if (mem > 0 && sb->memory_mb > 0 && mem > ((int64_t)sb->memory_mb << 20))
    {
      /* The VM grows by memory hot-plug to hold the new limit (docs/kubernetes.md). */
      cleanup_lock int lock = -1;
      if (kata_context_load_config (ctx, err) < 0 || kata_state_lock (ctx->root, sid, &lock, err) < 0)
        return kata_error_wrap (err, "update %s", id);
      kata_sandbox_state_free (sb);
      sb = NULL;
      if (kata_sandbox_state_load (ctx->root, sid, &sb, err) < 0)
        return kata_error_wrap (err, "update %s", id);
      if (kata_pod_update_memory (ctx->root, ctx->cfg, sb, id, mem, err) < 0)
        return kata_error_wrap (err, "update %s", id);
      if (mem > ((int64_t)sb->memory_mb << 20))
        return kata_make_error_nostr (err, EINVAL,
                                      "update %s: memory limit %lld bytes exceeds the VM's memory (%d MiB), "
                                      "which cannot grow (no memory slot left, or no hot-plug on this VM); "
                                      "recreate the container with the larger limit",
                                      id, (long long)mem, sb->memory_mb);
    }
  if (kata_pod_cpu_count (quota, period) > sb->vcpus && sb->vcpus > 0)
    {
      /* The VM grows by vCPU hot-plug to the new quota (docs/kubernetes.md "vCPUs"); a VM
         that cannot keeps its vCPUs: the quota still applies in the guest. */
      cleanup_lock int lock = -1;
      if (kata_context_load_config (ctx, err) < 0 || kata_state_lock (ctx->root, sid, &lock, err) < 0)
        return kata_error_wrap (err, "update %s", id);
      kata_sandbox_state_free (sb);
      sb = NULL;
      if (kata_sandbox_state_load (ctx->root, sid, &sb, err) < 0)
        return kata_error_wrap (err, "update %s", id);
      if (kata_pod_update_cpu (ctx->root, ctx->cfg, sb, id, quota, period, err) < 0)
        return kata_error_wrap (err, "update %s", id);
    }
  if (kata_agent_update_container (ctx->root, sid, id, norm, KATA_CALL_TIMEOUT_MS, err) < 0)
    return kata_error_wrap (err, "update %s", id);
  if (strcmp (id, sid) == 0 && (mem > 0 || quota > 0))
    {
      cleanup_error kata_error_t *e = NULL;
      if (kata_context_load_config (ctx, &e) < 0)
        kata_warn ("update %s: host cgroup not updated: %s", id, e->msg);
      else
        kata_host_cgroup_set_limits (ctx->cfg, c, mem > 0 ? sb->memory_mb : 0, quota,
                                     quota > 0 && period <= 0 ? 100000 : period);
    }
  return 0;
}

/* ---- events ---- */

static void
gen_key (yajl_gen g, const char *k)
{
  yajl_gen_string (g, (const unsigned char *)k, strlen (k));
}

static void
gen_u (yajl_gen g, const char *k, yajl_val obj, const char *src)
{
  long long v = kata_json_int (obj, src, 0);
  kata_gen_kv_int (g, k, v < 0 ? 0 : v);
}

/* runc's stats event from StatsContainer's result. */
static char *
stats_event (const char *id, yajl_val r)
{
  yajl_gen g = kata_gen_new ();
  yajl_val cpu = kata_json_get (r, "cpu"), mem = kata_json_get (r, "memory"),
           pids = kata_json_get (r, "pids");
  yajl_val blk = kata_json_get (r, "blkio"), net = kata_json_array (r, "network");
  size_t i;

  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "type", "stats");
  kata_gen_kv_str (g, "id", id);
  gen_key (g, "data");
  yajl_gen_map_open (g);

  gen_key (g, "cpu");
  yajl_gen_map_open (g);
  gen_key (g, "usage");
  yajl_gen_map_open (g);
  gen_u (g, "total", cpu, "usage_ns");
  gen_u (g, "kernel", cpu, "system_ns");
  gen_u (g, "user", cpu, "user_ns");
  gen_key (g, "percpu");
  yajl_gen_array_open (g);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  gen_key (g, "throttling");
  yajl_gen_map_open (g);
  kata_gen_kv_int (g, "periods", 0);
  gen_u (g, "throttledPeriods", cpu, "throttled_periods");
  gen_u (g, "throttledTime", cpu, "throttled_ns");
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);

  gen_key (g, "memory");
  yajl_gen_map_open (g);
  gen_key (g, "usage");
  yajl_gen_map_open (g);
  gen_u (g, "usage", mem, "usage");
  gen_u (g, "limit", mem, "limit");
  gen_u (g, "max", mem, "max_usage");
  kata_gen_kv_int (g, "failcnt", 0);
  yajl_gen_map_close (g);
  gen_key (g, "raw");
  yajl_gen_map_open (g);
  gen_u (g, "cache", mem, "cache");
  gen_u (g, "rss", mem, "rss");
  gen_u (g, "oom_kill", mem, "oom_kill");
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);

  gen_key (g, "pids");
  yajl_gen_map_open (g);
  gen_u (g, "current", pids, "current");
  gen_u (g, "limit", pids, "limit");
  yajl_gen_map_close (g);

  gen_key (g, "blkio");
  yajl_gen_map_open (g);
  if (blk)
    {
      gen_key (g, "ioServiceBytesRecursive");
      yajl_gen_array_open (g);
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "op", "Read");
      gen_u (g, "value", blk, "read_bytes");
      yajl_gen_map_close (g);
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "op", "Write");
      gen_u (g, "value", blk, "write_bytes");
      yajl_gen_map_close (g);
      yajl_gen_array_close (g);
    }
  yajl_gen_map_close (g);

  gen_key (g, "network_interfaces");
  yajl_gen_array_open (g);
  for (i = 0; net && i < net->u.array.len; i++)
    {
      yajl_val n = net->u.array.values[i];
      const char *name = kata_json_str (n, "name");
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "name", name ? name : "");
      gen_u (g, "rx_bytes", n, "rx_bytes");
      gen_u (g, "rx_packets", n, "rx_packets");
      gen_u (g, "rx_errors", n, "rx_errors");
      gen_u (g, "rx_dropped", n, "rx_dropped");
      gen_u (g, "tx_bytes", n, "tx_bytes");
      gen_u (g, "tx_packets", n, "tx_packets");
      gen_u (g, "tx_errors", n, "tx_errors");
      gen_u (g, "tx_dropped", n, "tx_dropped");
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);

  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

/* What `events` keeps between samples. */
typedef struct events_job_s
{
  const char *id;
  bool oom_seen; /* the agent sent an "oom" event for this container since the last sample */
} events_job_t;

static void
events_on_agent_event (const char *payload, size_t len, void *data)
{
  events_job_t *j = data;
  yajl_val v = NULL;
  const char *ev, *cid;
  if (kata_json_parse (payload, len, &v, NULL) < 0)
    return;
  ev = kata_json_str (v, "event");
  cid = kata_json_str (v, "container_id");
  if (ev && cid && strcmp (ev, "oom") == 0 && strcmp (cid, j->id) == 0)
    j->oom_seen = true;
  yajl_tree_free (v);
}

/* One StatsContainer on the open connection C (*RESULT points into *RESP). */
static int
events_stats (kata_client_t *c, const char *params, yajl_val *resp, yajl_val *result, kata_error_t **err)
{
  return kata_client_call (c, KATA_M_STATS_CONTAINER, params, resp, result, KATA_SHORT_TIMEOUT_MS, err);
}

/* The OOM kills counted in RESULT beyond *LAST are printed as runc's "oom" events. */
static void
events_print_ooms (const char *id, yajl_val result, long long *last)
{
  long long oom = kata_json_int (kata_json_get (result, "memory"), "oom_kill", 0);
  for (; *last >= 0 && *last < oom; (*last)++)
    printf ("{\"type\":\"oom\",\"id\":\"%s\"}\n", id);
  *last = oom;
  fflush (stdout);
}

/* One connection to the monitor for the whole run (a sample is one round trip: no
   connect, no state files but the stopped check).  The guest cgroup's oom_kill counter
   is the one source of truth for "oom" events; the agent's own "oom" event (sent when
   memory.events changes) only makes the sample come at once instead of at the next
   tick. */
int
kata_container_events (kata_context_t *ctx, const char *id, bool stats, int interval_ms, kata_error_t **err)
{
  cleanup_free char *sid = NULL;
  cleanup_container_state kata_container_state_t *c = NULL;
  cleanup_free char *params = NULL;
  kata_client_t *cl = NULL;
  events_job_t job = { .id = id };
  long long last_oom = -1;
  uint64_t next;
  int ret = 0;

  if (running_container (ctx, id, &sid, &c, err) < 0)
    return -1;
  params = kata_req_container (id);
  if (interval_ms <= 0)
    interval_ms = 5000;
  if (kata_client_connect (ctx->root, sid, &cl, err) < 0)
    return kata_error_wrap (err, "%s %s", stats ? "stats" : "events", id);
  kata_client_on_event (cl, events_on_agent_event, &job);
  if (stats)
    {
      cleanup_yajl_val yajl_val resp = NULL;
      yajl_val result = NULL;
      cleanup_free char *line = NULL;
      if (events_stats (cl, params, &resp, &result, err) < 0)
        ret = kata_error_wrap (err, "stats %s", id);
      else
        {
          line = stats_event (id, result);
          printf ("%s\n", line);
          fflush (stdout);
        }
      kata_client_close (cl);
      return ret;
    }
  {
    /* The OOM kills counted so far are not events. */
    cleanup_yajl_val yajl_val resp = NULL;
    yajl_val result = NULL;
    if (events_stats (cl, params, &resp, &result, err) < 0)
      {
        kata_client_close (cl);
        return kata_error_wrap (err, "events %s", id);
      }
    last_oom = kata_json_int (kata_json_get (result, "memory"), "oom_kill", 0);
  }
  next = kata_now_ns () + (uint64_t)interval_ms * 1000000ULL;
  for (;;)
    {
      cleanup_yajl_val yajl_val resp = NULL;
      cleanup_free char *line = NULL;
      cleanup_container_state kata_container_state_t *cur = NULL;
      cleanup_sandbox_state kata_sandbox_state_t *sb = NULL;
      cleanup_error kata_error_t *e = NULL;
      yajl_val result = NULL;
      uint64_t now = kata_now_ns ();
      bool tick, stopped;

      if (!job.oom_seen && now < next)
        {
          if (kata_client_wait (cl, (int)((next - now) / 1000000) + 1, &e) < 0)
            break; /* the sandbox is gone: the container stopped */
          continue;
        }
      tick = kata_now_ns () >= next;
      job.oom_seen = false;
      stopped = tick
                && (kata_container_lookup (ctx, id, NULL, &cur, &sb, &e) < 0
                    || kata_container_state_status (cur, sb) == KATA_STATUS_STOPPED);
      if (events_stats (cl, params, &resp, &result, &e) < 0)
        break; /* the sandbox is gone: the container stopped */
      events_print_ooms (id, result, &last_oom);
      if (stopped)
        break;
      if (!tick)
        continue;
      line = stats_event (id, result);
      printf ("%s\n", line);
      fflush (stdout);
      next += (uint64_t)interval_ms * 1000000ULL;
      if (next <= kata_now_ns ()) /* a slow sample: no burst to catch up */
        next = kata_now_ns () + (uint64_t)interval_ms * 1000000ULL;
    }
  kata_client_close (cl);
  return 0;
}
