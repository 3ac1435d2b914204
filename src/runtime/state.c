/* State on disk.  Every write is atomic (temp + fsync + rename + fsync dir). */
#include "config.h"
#include "runtime/state.h"
#include "runtime/runtime.h"
#include "common/json.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

char *
kata_state_sandbox_dir (const char *root, const char *sid)
{
  return xasprintf ("%s/sbs/%s", root, sid);
}

char *
kata_state_container_dir (const char *root, const char *sid, const char *cid)
{
  return xasprintf ("%s/sbs/%s/%s", root, sid, cid);
}

char *
kata_state_shared_dir (const char *root, const char *sid)
{
  return xasprintf ("%s/shared/%s", root, sid);
}

char *
kata_state_vm_dir (const char *root, const char *sid)
{
  return xasprintf ("%s/vm/%s", root, sid);
}

char *
kata_state_mapping_dir (const char *root, const char *cid)
{
  return xasprintf ("%s/mapping/%s", root, cid);
}

int
kata_state_lock (const char *root, const char *sid, int *fd, kata_error_t **err)
{
  cleanup_free char *path = xasprintf ("%s/sbs/%s/lock", root, sid);
  int f, tries;

  *fd = -1;
  for (tries = 0;; tries++)
    {
      struct stat a, b;
      f = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (f < 0)
        {
          if (errno == ENOENT)
            return kata_make_error_nostr (err, KATA_ENOTFOUND, "sandbox %s does not exist", sid);
          return kata_make_error (err, errno, "open `%s`", path);
        }
      while (flock (f, LOCK_EX) < 0)
        {
          if (errno == EINTR)
            continue;
          int e = errno;
          close (f);
          return kata_make_error (err, e, "flock `%s`", path);
        }
      /* The sandbox may have been deleted (and even made again) while we waited: the
         lock only counts when it is still the file at PATH. */
      if (fstat (f, &a) == 0 && stat (path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        break;
      close (f);
      if (tries >= 100)
        return kata_make_error_nostr (err, KATA_ENOTFOUND, "sandbox %s does not exist", sid);
    }
  *fd = f;
  return 0;
}

int
kata_state_mkdir (const char *path, bool excl)
{
  int tries;
  for (tries = 0; tries < 1000; tries++)
    {
      cleanup_free char *parent = xstrdup (path);
      char *slash = strrchr (parent, '/');
      if (mkdir (path, 0700) == 0)
        return 0;
      if (errno == EEXIST)
        {
          if (excl)
            return -1;
          return 0;
        }
      if (errno != ENOENT || slash == NULL || slash == parent)
        return -1;
      /* A concurrent delete may remove the (empty) parent between its mkdir and ours. */
      *slash = '\0';
      if (kata_state_mkdir (parent, false) < 0)
        return -1;
    }
  errno = ENOENT;
  return -1;
}

void
kata_state_prune (const char *root)
{
  static const char *const kinds[] = { "mapping", "sbs", "vm", "shared", "netns" };
  size_t i;
  for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", root, kinds[i]);
      rmdir (p); /* only when empty */
    }
}

/* ---- serialisation ---- */

static void
gen_kv_u64 (yajl_gen g, const char *k, unsigned long long v)
{
  char buf[32];
  snprintf (buf, sizeof buf, "%llu", v);
  yajl_gen_string (g, (const unsigned char *)k, strlen (k));
  yajl_gen_number (g, buf, strlen (buf));
}

static void
gen_strv (yajl_gen g, const char *k, char **v, size_t n)
{
  size_t i;
  yajl_gen_string (g, (const unsigned char *)k, strlen (k));
  yajl_gen_array_open (g);
  for (i = 0; i < n; i++)
    kata_gen_str (g, v[i]);
  yajl_gen_array_close (g);
}

static unsigned long long
json_u64 (yajl_val obj, const char *key)
{
  yajl_val v = kata_json_get (obj, key);
  if (v == NULL || !YAJL_IS_NUMBER (v) || v->u.number.r == NULL)
    return 0;
  return strtoull (v->u.number.r, NULL, 10);
}

static char *
json_strdup (yajl_val obj, const char *key)
{
  const char *s = kata_json_str (obj, key);
  return s ? xstrdup (s) : NULL;
}

static void
json_strv (yajl_val obj, const char *key, char ***out, size_t *n)
{
  yajl_val a = kata_json_array (obj, key);
  size_t i, k = 0;
  *out = NULL;
  *n = 0;
  if (a == NULL)
    return;
  *out = xmalloc0 ((a->u.array.len + 1) * sizeof (char *));
  for (i = 0; i < a->u.array.len; i++)
    if (YAJL_IS_STRING (a->u.array.values[i]))
      (*out)[k++] = xstrdup (YAJL_GET_STRING (a->u.array.values[i]));
  *n = k;
}

char *
kata_container_state_to_json (const kata_container_state_t *s)
{
  yajl_gen g = kata_gen_new ();
  size_t i;

  yajl_gen_map_open (g);
  kata_gen_kv_int (g, "version", KATA_STATE_VERSION);
  kata_gen_kv_str (g, "id", s->id);
  kata_gen_kv_str (g, "sandbox_id", s->sandbox_id);
  kata_gen_kv_str (g, "oci_version", s->oci_version);
  kata_gen_kv_str (g, "status", s->status);
  kata_gen_kv_str (g, "bundle", s->bundle);
  kata_gen_kv_str (g, "rootfs", s->rootfs);
  kata_gen_kv_str (g, "created", s->created);
  kata_gen_kv_str (g, "owner", s->owner ? s->owner : "");
  yajl_gen_string (g, (const unsigned char *)"annotations", 11);
  yajl_gen_map_open (g);
  for (i = 0; i < s->ann_len; i++)
    kata_gen_kv_str (g, s->ann_keys[i], s->ann_values[i]);
  yajl_gen_map_close (g);
  kata_gen_kv_int (g, "shim_pid", s->shim_pid);
  gen_kv_u64 (g, "shim_start", s->shim_start);
  kata_gen_kv_int (g, "stream", s->stream);
  kata_gen_kv_bool (g, "terminal", s->terminal);
  yajl_gen_string (g, (const unsigned char *)"execs", 5);
  yajl_gen_array_open (g);
  for (i = 0; i < s->execs_len; i++)
    {
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "exec_id", s->execs[i].exec_id);
      kata_gen_kv_int (g, "shim_pid", s->execs[i].shim_pid);
      gen_kv_u64 (g, "shim_start", s->execs[i].shim_start);
      kata_gen_kv_int (g, "stream", s->execs[i].stream);
      kata_gen_kv_bool (g, "terminal", s->execs[i].terminal);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  gen_strv (g, "mounts", s->mounts, s->mounts_len);
  gen_strv (g, "cgroup_paths", s->cgroup_paths, s->cgroup_paths_len);
  gen_strv (g, "cgroups_made", s->cgroups_made, s->cgroups_made_len);
  if (s->creator_pid > 0)
    {
      kata_gen_kv_int (g, "creator_pid", s->creator_pid);
      gen_kv_u64 (g, "creator_start", s->creator_start);
    }
  if (s->process_json)
    kata_gen_kv_raw (g, "process", s->process_json);
  if (s->hooks_json)
    kata_gen_kv_raw (g, "hooks", s->hooks_json);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

int
kata_container_state_from_json (const char *data, size_t len, kata_container_state_t **out,
                                kata_error_t **err)
{
  cleanup_yajl_val yajl_val t = NULL;
  kata_container_state_t *s;
  yajl_val v;
  size_t i;

  if (kata_json_parse (data, len, &t, err) < 0)
    return -1;
  if (!YAJL_IS_OBJECT (t))
    return kata_make_error_nostr (err, EINVAL, "container state is not an object");
  if (kata_json_int (t, "version", 0) != KATA_STATE_VERSION)
    return kata_make_error_nostr (err, EINVAL, "unsupported container state version %lld",
                                  kata_json_int (t, "version", 0));
  if (kata_json_str (t, "id") == NULL || kata_json_str (t, "sandbox_id") == NULL)
    return kata_make_error_nostr (err, EINVAL, "container state lacks id or sandbox_id");

  s = xmalloc0 (sizeof *s);
  s->version = KATA_STATE_VERSION;
  s->id = json_strdup (t, "id");
  s->sandbox_id = json_strdup (t, "sandbox_id");
  s->oci_version = json_strdup (t, "oci_version");
  s->status = json_strdup (t, "status");
  if (s->status == NULL)
    s->status = xstrdup ("stopped");
  s->bundle = json_strdup (t, "bundle");
  s->rootfs = json_strdup (t, "rootfs");
  s->created = json_strdup (t, "created");
  s->owner = json_strdup (t, "owner");
  v = kata_json_get (t, "annotations");
  if (v && YAJL_IS_OBJECT (v) && v->u.object.len)
    {
      s->ann_keys = xmalloc0 (v->u.object.len * sizeof (char *));
      s->ann_values = xmalloc0 (v->u.object.len * sizeof (char *));
      for (i = 0; i < v->u.object.len; i++)
        if (YAJL_IS_STRING (v->u.object.values[i]))
          {
            s->ann_keys[s->ann_len] = xstrdup (v->u.object.keys[i]);
            s->ann_values[s->ann_len++] = xstrdup (YAJL_GET_STRING (v->u.object.values[i]));
          }
    }
  s->shim_pid = (pid_t)kata_json_int (t, "shim_pid", 0);
  s->shim_start = json_u64 (t, "shim_start");
  s->stream = (uint32_t)kata_json_int (t, "stream", 0);
  s->terminal = kata_json_bool (t, "terminal", false);
  v = kata_json_array (t, "execs");
  if (v && v->u.array.len)
    {
      s->execs = xmalloc0 (v->u.array.len * sizeof (kata_exec_state_t));
      for (i = 0; i < v->u.array.len; i++)
        {
          yajl_val e = v->u.array.values[i];
          if (!YAJL_IS_OBJECT (e) || kata_json_str (e, "exec_id") == NULL)
            continue;
          kata_exec_state_t *x = &s->execs[s->execs_len++];
          x->exec_id = json_strdup (e, "exec_id");
          x->shim_pid = (pid_t)kata_json_int (e, "shim_pid", 0);
          x->shim_start = json_u64 (e, "shim_start");
          x->stream = (uint32_t)kata_json_int (e, "stream", 0);
          x->terminal = kata_json_bool (e, "terminal", false);
        }
    }
  json_strv (t, "mounts", &s->mounts, &s->mounts_len);
  json_strv (t, "cgroup_paths", &s->cgroup_paths, &s->cgroup_paths_len);
  json_strv (t, "cgroups_made", &s->cgroups_made, &s->cgroups_made_len);
  s->creator_pid = (pid_t)kata_json_int (t, "creator_pid", 0);
  s->creator_start = json_u64 (t, "creator_start");
  v = kata_json_get (t, "process");
  if (v && YAJL_IS_OBJECT (v))
    s->process_json = kata_json_dump (v);
  v = kata_json_get (t, "hooks");
  if (v && YAJL_IS_OBJECT (v))
    s->hooks_json = kata_json_dump (v);
  *out = s;
  return 0;
}

char *
kata_sandbox_state_to_json (const kata_sandbox_state_t *s)
{
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_int (g, "version", KATA_STATE_VERSION);
  kata_gen_kv_str (g, "id", s->id);
  kata_gen_kv_int (g, "monitor_pid", s->info.monitor_pid);
  gen_kv_u64 (g, "monitor_start", s->info.monitor_start);
  kata_gen_kv_int (g, "qemu_pid", s->info.qemu_pid);
  gen_kv_u64 (g, "qemu_start", s->info.qemu_start);
  kata_gen_kv_int (g, "virtiofsd_pid", s->info.virtiofsd_pid);
  gen_kv_u64 (g, "virtiofsd_start", s->info.virtiofsd_start);
  kata_gen_kv_str (g, "config_path", s->config_path);
  kata_gen_kv_int (g, "vcpus", s->vcpus);
  kata_gen_kv_int (g, "memory_mb", s->memory_mb);
  gen_strv (g, "containers", s->containers, s->containers_len);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

int
kata_sandbox_state_from_json (const char *data, size_t len, kata_sandbox_state_t **out, kata_error_t **err)
{
  cleanup_yajl_val yajl_val t = NULL;
  kata_sandbox_state_t *s;

  if (kata_json_parse (data, len, &t, err) < 0)
    return -1;
  if (!YAJL_IS_OBJECT (t))
    return kata_make_error_nostr (err, EINVAL, "sandbox state is not an object");
  if (kata_json_int (t, "version", 0) != KATA_STATE_VERSION)
    return kata_make_error_nostr (err, EINVAL, "unsupported sandbox state version %lld",
                                  kata_json_int (t, "version", 0));
  if (kata_json_str (t, "id") == NULL)
    return kata_make_error_nostr (err, EINVAL, "sandbox state lacks id");
  s = xmalloc0 (sizeof *s);
  s->version = KATA_STATE_VERSION;
  s->id = json_strdup (t, "id");
  s->info.monitor_pid = (pid_t)kata_json_int (t, "monitor_pid", 0);
  s->info.monitor_start = json_u64 (t, "monitor_start");
  s->info.qemu_pid = (pid_t)kata_json_int (t, "qemu_pid", 0);
  s->info.qemu_start = json_u64 (t, "qemu_start");
  s->info.virtiofsd_pid = (pid_t)kata_json_int (t, "virtiofsd_pid", 0);
  s->info.virtiofsd_start = json_u64 (t, "virtiofsd_start");
  s->config_path = json_strdup (t, "config_path");
  s->vcpus = (int)kata_json_int (t, "vcpus", 0);
  s->memory_mb = (int)kata_json_int (t, "memory_mb", 0);
  json_strv (t, "containers", &s->containers, &s->containers_len);
  json_strv (t, "containers", &s->loaded, &s->loaded_len);
  s->from_disk = true;
  *out = s;
  return 0;
}

/* ---- files ---- */

static bool
strv_has (char *const *v, size_t n, const char *x)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (v[i] && strcmp (v[i], x) == 0)
      return true;
  return false;
}

int
kata_container_state_save (const char *root, const kata_container_state_t *s, kata_error_t **err)
{
  cleanup_free char *dir = kata_state_container_dir (root, s->sandbox_id, s->id);
  cleanup_free char *path = xasprintf ("%s/container.json", dir);
  cleanup_free char *json = NULL;
  kata_container_state_t copy = *s;

  /* Saved before its shim exists: by create, which is running. */
  if (copy.shim_pid <= 0 && copy.creator_pid <= 0)
    {
      copy.creator_pid = getpid ();
      copy.creator_start = kata_proc_start_time (copy.creator_pid);
    }
  else if (copy.shim_pid > 0)
    copy.creator_pid = 0;
  json = kata_container_state_to_json (&copy);
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return kata_make_error (err, errno, "mkdir `%s`", dir);
  if (kata_write_file_atomic (path, json, strlen (json), 0600, err) < 0)
    return kata_error_wrap (err, "save container state");
  return 0;
}

int
kata_container_state_load (const char *root, const char *sid, const char *cid, kata_container_state_t **out,
                           kata_error_t **err)
{
  cleanup_free char *path = xasprintf ("%s/sbs/%s/%s/container.json", root, sid, cid);
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (access (path, F_OK) < 0 && errno == ENOENT)
    return kata_make_error_nostr (err, KATA_ENOTFOUND, "container does not exist");
  if (kata_read_file (path, &data, &len, 0, err) < 0)
    return -1;
  if (kata_container_state_from_json (data, len, out, err) < 0)
    return kata_error_wrap (err, "load `%s`", path);
  return 0;
}

int
kata_sandbox_state_save (const char *root, const kata_sandbox_state_t *s, kata_error_t **err)
{
  cleanup_free char *path = xasprintf ("%s/sbs/%s/sandbox.json", root, s->id);
  cleanup_free char *json = NULL;
  kata_sandbox_state_t merged = *s;
  char **list = NULL;
  size_t n = 0, i;

  /* The caller holds the lock, but its copy may have been loaded before it took it:
     apply its additions and removals to the list on disk now. */
  if (s->from_disk)
    {
      kata_sandbox_state_t *disk = NULL;
      if (kata_sandbox_state_load (root, s->id, &disk, NULL) == 0)
        {
          list = xmalloc0 ((disk->containers_len + s->containers_len + 1) * sizeof (char *));
          for (i = 0; i < disk->containers_len; i++)
            if (!strv_has (s->loaded, s->loaded_len, disk->containers[i])
                || strv_has (s->containers, s->containers_len, disk->containers[i]))
              list[n++] = disk->containers[i];
          for (i = 0; i < s->containers_len; i++)
            if (!strv_has (s->loaded, s->loaded_len, s->containers[i])
                && !strv_has (list, n, s->containers[i]))
              list[n++] = s->containers[i];
          merged.containers = list;
          merged.containers_len = n;
        }
      json = kata_sandbox_state_to_json (&merged);
      free (list);
      kata_sandbox_state_free (disk);
    }
  else
    json = kata_sandbox_state_to_json (s);
  if (kata_write_file_atomic (path, json, strlen (json), 0600, err) < 0)
    return kata_error_wrap (err, "save sandbox state");
  return 0;
}

int
kata_sandbox_state_load (const char *root, const char *sid, kata_sandbox_state_t **out, kata_error_t **err)
{
  cleanup_free char *path = xasprintf ("%s/sbs/%s/sandbox.json", root, sid);
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (access (path, F_OK) < 0 && errno == ENOENT)
    return kata_make_error_nostr (err, KATA_ENOTFOUND, "sandbox %s does not exist", sid);
  if (kata_read_file (path, &data, &len, 0, err) < 0)
    return -1;
  if (kata_sandbox_state_from_json (data, len, out, err) < 0)
    return kata_error_wrap (err, "load `%s`", path);
  return 0;
}

void
kata_container_state_free (kata_container_state_t *s)
{
  size_t i;
  if (s == NULL)
    return;
  free (s->id);
  free (s->sandbox_id);
  free (s->oci_version);
  free (s->status);
  free (s->bundle);
  free (s->rootfs);
  free (s->created);
  free (s->owner);
  kata_strvn_free (s->ann_keys, s->ann_len);
  kata_strvn_free (s->ann_values, s->ann_len);
  for (i = 0; i < s->execs_len; i++)
    free (s->execs[i].exec_id);
  free (s->execs);
  kata_strvn_free (s->mounts, s->mounts_len);
  kata_strvn_free (s->cgroup_paths, s->cgroup_paths_len);
  kata_strvn_free (s->cgroups_made, s->cgroups_made_len);
  free (s->process_json);
  free (s->hooks_json);
  free (s);
}

void
kata_sandbox_state_free (kata_sandbox_state_t *s)
{
  if (s == NULL)
    return;
  free (s->id);
  free (s->config_path);
  kata_strvn_free (s->containers, s->containers_len);
  kata_strvn_free (s->loaded, s->loaded_len);
  free (s);
}

void
kata_sandbox_state_add_container (kata_sandbox_state_t *s, const char *cid)
{
  size_t i;
  for (i = 0; i < s->containers_len; i++)
    if (strcmp (s->containers[i], cid) == 0)
      return;
  s->containers = xrealloc (s->containers, (s->containers_len + 1) * sizeof (char *));
  s->containers[s->containers_len++] = xstrdup (cid);
}

void
kata_sandbox_state_remove_container (kata_sandbox_state_t *s, const char *cid)
{
  size_t i;
  for (i = 0; i < s->containers_len; i++)
    if (strcmp (s->containers[i], cid) == 0)
      {
        free (s->containers[i]);
        memmove (&s->containers[i], &s->containers[i + 1], (s->containers_len - i - 1) * sizeof (char *));
        s->containers_len--;
        return;
      }
}

void
kata_container_state_add_mount (kata_container_state_t *s, const char *path)
{
  s->mounts = xrealloc (s->mounts, (s->mounts_len + 1) * sizeof (char *));
  s->mounts[s->mounts_len++] = xstrdup (path);
}

#define CGROUPS_LEFT "cgroups-left"

void
kata_state_cgroups_release (const char *root, const char *sid)
{
  cleanup_free char *path = xasprintf ("%s/sbs/%s/" CGROUPS_LEFT, root, sid);
  cleanup_free char *data = NULL;
  char *lines[256];
  size_t n = 0, i;
  char *save = NULL, *l;
  if (kata_read_file (path, &data, NULL, 1 << 20, NULL) < 0)
    return;
  for (l = strtok_r (data, "\n", &save); l && n < 256; l = strtok_r (NULL, "\n", &save))
    if (strncmp (l, "cgroup /sys/fs/cgroup/", 22) == 0 && strstr (l, "/../") == NULL)
      lines[n++] = l + 7;
  for (i = n; i > 0; i--)
    kata_cgroup_rmdir (lines[i - 1], 1);
  unlink (path);
}

/* The mapping entry this process claimed: the journal of what create makes outside
   --root (host cgroup dirs), so that a crashed create can be undone. */
static char *claimed_entry;

static void
journal_append (const char *line)
{
  int fd;
  if (claimed_entry == NULL)
    return;
  fd = open (claimed_entry, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    return;
  if (kata_write_all (fd, line, strlen (line)) == 0)
    fsync (fd);
  close (fd);
}

void
kata_container_state_add_cgroup (kata_container_state_t *s, const char *made)
{
  cleanup_free char *line = xasprintf ("cgroup %s\n", made);
  journal_append (line);
  s->cgroups_made = xrealloc (s->cgroups_made, (s->cgroups_made_len + 1) * sizeof (char *));
  s->cgroups_made[s->cgroups_made_len++] = xstrdup (made);
}

kata_exec_state_t *
kata_container_state_add_exec (kata_container_state_t *s, const char *exec_id)
{
  kata_exec_state_t *x;
  s->execs = xrealloc (s->execs, (s->execs_len + 1) * sizeof (kata_exec_state_t));
  x = &s->execs[s->execs_len++];
  memset (x, 0, sizeof *x);
  x->exec_id = xstrdup (exec_id);
  return x;
}

/* ---- mapping ---- */

int
kata_mapping_claim (const char *root, const char *cid, const char *sid, kata_error_t **err)
{
  cleanup_free char *dir = kata_state_mapping_dir (root, cid);
  cleanup_free char *entry = xasprintf ("%s/%s", dir, sid);
  char buf[64];
  int fd, n;

  if (kata_state_mkdir (dir, true) < 0)
    {
      if (errno == EEXIST)
        return kata_make_error_nostr (err, KATA_EEXIST_ID, "container with id exists: %s", cid);
      return kata_make_error (err, errno, "mkdir `%s`", dir);
    }
  fd = open (entry, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int e = errno;
      rmdir (dir);
      return kata_make_error (err, e, "create `%s`", entry);
    }
  /* The creator: while it lives and container.json is missing, the id is being created;
     once it is dead, the create crashed (docs/lifecycle.md "Crashes"). */
  n = snprintf (buf, sizeof buf, "%d %llu\n", (int)getpid (), kata_proc_start_time (getpid ()));
  if (kata_write_all (fd, buf, (size_t)n) < 0 || fsync (fd) < 0)
    {
      int e = errno;
      close (fd);
      unlink (entry);
      rmdir (dir);
      return kata_make_error (err, e, "write `%s`", entry);
    }
  close (fd);
  free (claimed_entry);
  claimed_entry = xstrdup (entry);
  return 0;
}

bool
kata_mapping_creator_alive (const char *root, const char *cid, const char *sid)
{
  cleanup_free char *entry = xasprintf ("%s/mapping/%s/%s", root, cid, sid);
  cleanup_free char *data = NULL;
  int pid = 0;
  unsigned long long start = 0;
  if (kata_read_file (entry, &data, NULL, 256, NULL) < 0)
    return false;
  if (sscanf (data, "%d %llu", &pid, &start) != 2)
    return false;
  return kata_state_pid_alive (pid, start);
}

int
kata_mapping_lookup (const char *root, const char *cid, char **sid, kata_error_t **err)
{
  cleanup_free char *dir = kata_state_mapping_dir (root, cid);
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;

  *sid = NULL;
  if (d == NULL)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return kata_make_error_nostr (err, KATA_ENOTFOUND, "container does not exist");
      return kata_make_error (err, errno, "open `%s`", dir);
    }
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      *sid = xstrdup (de->d_name);
      return 0;
    }
  return kata_make_error_nostr (err, KATA_ENOTFOUND, "container does not exist");
}

int
kata_mapping_remove (const char *root, const char *cid)
{
  cleanup_free char *dir = kata_state_mapping_dir (root, cid);
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;
  int r;

  /* What the journal says create made outside --root, deepest (last) first; after a
     complete delete these are gone already.  Dirs still in use (the sandbox's VM runs
     in them) are handed to the sandbox: kata_state_cgroups_release removes them once
     the VM is gone. */
  while (d && (de = readdir (d)))
    {
      cleanup_free char *entry = NULL;
      cleanup_free char *data = NULL;
      cleanup_free char *left = NULL;
      char *lines[64];
      bool failed[64];
      size_t n = 0, i, k;
      char *save = NULL, *l;
      if (de->d_name[0] == '.')
        continue;
      entry = xasprintf ("%s/%s", dir, de->d_name);
      if (kata_read_file (entry, &data, NULL, 65536, NULL) < 0)
        continue;
      for (l = strtok_r (data, "\n", &save); l && n < 64; l = strtok_r (NULL, "\n", &save))
        if (strncmp (l, "cgroup /sys/fs/cgroup/", 22) == 0 && strstr (l, "/../") == NULL)
          lines[n++] = l + 7;
      for (i = n; i > 0; i--)
        {
          size_t len = strlen (lines[i - 1]);
          failed[i - 1] = false;
          for (k = i; k < n; k++)
            if (failed[k] && strncmp (lines[k], lines[i - 1], len) == 0 && lines[k][len] == '/')
              failed[i - 1] = true;
          if (!failed[i - 1] && kata_cgroup_rmdir (lines[i - 1], 1) < 0)
            failed[i - 1] = true;
        }
      for (i = 0; i < n; i++)
        if (failed[i])
          {
            char *t = xasprintf ("%scgroup %s\n", left ? left : "", lines[i]);
            free (left);
            left = t;
          }
      if (left && kata_validate_id (de->d_name, NULL) == 0)
        {
          cleanup_free char *keep = xasprintf ("%s/sbs/%s/" CGROUPS_LEFT, root, de->d_name);
          int fd = open (keep, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
          if (fd >= 0)
            {
              if (kata_write_all (fd, left, strlen (left)) == 0)
                fsync (fd);
              close (fd);
            }
        }
    }
  r = kata_rm_rf (dir, NULL);
  kata_state_prune (root);
  return r;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

int
kata_mapping_list (const char *root, char ***ids, size_t *n, kata_error_t **err)
{
  cleanup_free char *dir = xasprintf ("%s/mapping", root);
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;
  char **v = NULL;
  size_t k = 0;

  *ids = NULL;
  *n = 0;
  if (d == NULL)
    return errno == ENOENT ? 0 : kata_make_error (err, errno, "open `%s`", dir);
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
        continue;
      v = xrealloc (v, (k + 1) * sizeof (char *));
      v[k++] = xstrdup (de->d_name);
    }
  if (k)
    qsort (v, k, sizeof (char *), cmp_str);
  *ids = v;
  *n = k;
  return 0;
}

bool
kata_state_pid_alive (pid_t pid, unsigned long long start)
{
  if (pid <= 0)
    return false;
  return kata_proc_alive (pid, start) != 0;
}

const char *
kata_status_name (kata_status_t s)
{
  switch (s)
    {
    case KATA_STATUS_CREATING:
      return "creating";
    case KATA_STATUS_CREATED:
      return "created";
    case KATA_STATUS_RUNNING:
      return "running";
    case KATA_STATUS_PAUSED:
      return "paused";
    case KATA_STATUS_STOPPED:
    default:
      return "stopped";
    }
}

/* The stored status (container.json's "status"); anything else is "stopped". */
static kata_status_t
stored_status (const char *s)
{
  if (s == NULL)
    return KATA_STATUS_STOPPED;
  if (strcmp (s, "created") == 0)
    return KATA_STATUS_CREATED;
  if (strcmp (s, "running") == 0)
    return KATA_STATUS_RUNNING;
  if (strcmp (s, "paused") == 0)
    return KATA_STATUS_PAUSED;
  return KATA_STATUS_STOPPED;
}

kata_status_t
kata_container_state_status (const kata_container_state_t *c, const kata_sandbox_state_t *sb)
{
  kata_status_t s = stored_status (c->status);
  if (s == KATA_STATUS_STOPPED)
    return s;
  if (c->shim_pid <= 0 && s == KATA_STATUS_CREATED && kata_state_pid_alive (c->creator_pid, c->creator_start))
    return KATA_STATUS_CREATING;
  if (!kata_state_pid_alive (c->shim_pid, c->shim_start))
    return KATA_STATUS_STOPPED;
  if (sb && !kata_monitor_alive (&sb->info))
    return KATA_STATUS_STOPPED;
  return s;
}
