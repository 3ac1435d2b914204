/* kata-runtime spec [--bundle DIR] [--rootless]: writes runc's default
   config.json (same content as `runc spec`). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmd/kata-runtime/common.h"
#include "common/json.h"
#include "common/utils.h"

struct spec_args
{
  const char *bundle;
  bool rootless;
};

enum
{
  OPT_ROOTLESS = 1000,
};

static const struct argp_option options[] = {
  { "bundle", 'b', "DIR", 0, "path to the root of the bundle directory", 0 },
  { "rootless", OPT_ROOTLESS, NULL, 0, "generate a configuration for a rootless container", 0 },
  { 0 },
};

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  struct spec_args *a = state->input;
  switch (key)
    {
    case 'b':
      a->bundle = arg;
      return 0;
    case OPT_ROOTLESS:
      a->rootless = true;
      return 0;
    default:
      return ARGP_ERR_UNKNOWN;
    }
}

static const struct argp argp
    = { options,
        parse_opt,
        NULL,
        "create a new specification file\v"
        "The spec command creates the new specification file named \"config.json\" for the bundle.\n\n"
        "The spec generated is just a starter file. Editing of the spec is required to achieve desired "
        "results. For "
        "example, the newly generated spec includes an args parameter that is initially set to call the "
        "\"sh\" command "
        "when the container is started. Calling \"sh\" may work for an ubuntu container or busybox, but will "
        "not work "
        "for containers that do not include the \"sh\" program.\n\n"
        "EXAMPLE:\n  To run docker's hello-world container one needs to set the args parameter\nin the spec "
        "to call "
        "hello. This can be done using the sed command or a text\neditor. The following commands create a "
        "bundle for "
        "hello-world, change the\ndefault args parameter in the spec from \"sh\" to \"/hello\", then run the "
        "hello\n"
        "command in a new hello-world container named container1:\n\n"
        "    mkdir hello\n    cd hello\n    docker pull hello-world\n    docker export $(docker create "
        "hello-world) > "
        "hello-world.tar\n    mkdir rootfs\n    tar -C rootfs -xf hello-world.tar\n    kata-runtime spec\n"
        "    sed -i 's;\"sh\";\"/hello\";' config.json\n    kata-runtime run container1",
        kata_cmd_common_children,
        NULL,
        NULL };

static void
gen_strv (yajl_gen g, const char *key, const char *const *v)
{
  kata_gen_str (g, key);
  yajl_gen_array_open (g);
  for (; *v; v++)
    kata_gen_str (g, *v);
  yajl_gen_array_close (g);
}

struct mount_def
{
  const char *dst, *type, *src;
  const char *const *opts;
};

static void
gen_mount (yajl_gen g, const struct mount_def *m)
{
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "destination", m->dst);
  kata_gen_kv_str (g, "type", m->type);
  kata_gen_kv_str (g, "source", m->src);
  if (m->opts)
    gen_strv (g, "options", m->opts);
  yajl_gen_map_close (g);
}

static void
gen_id_mapping (yajl_gen g, const char *key, unsigned host_id)
{
  kata_gen_str (g, key);
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  kata_gen_kv_int (g, "containerID", 0);
  kata_gen_kv_int (g, "hostID", host_id);
  kata_gen_kv_int (g, "size", 1);
  yajl_gen_map_close (g);
  yajl_gen_array_close (g);
}

/* runc's specconv.Example(), and ToRootless() for --rootless. */
static char *
example_spec (bool rootless)
{
  static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
  static const char *const env[]
      = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL };
  static const char *const args[] = { "sh", NULL };
  static const char *const o_dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  static const char *const o_pts[]
      = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
  static const char *const o_pts_rl[]
      = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL };
  static const char *const o_shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
  static const char *const o_mq[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const o_sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const o_sys_rl[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const o_cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
  static const char *const masked[] = { "/proc/acpi",
                                        "/proc/asound",
                                        "/proc/kcore",
                                        "/proc/keys",
                                        "/proc/latency_stats",
                                        "/proc/timer_list",
                                        "/proc/timer_stats",
                                        "/proc/sched_debug",
                                        "/sys/firmware",
                                        "/proc/scsi",
                                        NULL };
  static const char *const ro[]
      = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };
  static const char *const ns[] = { "pid", "network", "ipc", "uts", "mount", NULL };
  static const char *const ns_rl[] = { "pid", "ipc", "uts", "mount", "user", NULL };
  const struct mount_def mounts[] = {
    { "/proc", "proc", "proc", NULL },
    { "/dev", "tmpfs", "tmpfs", o_dev },
    { "/dev/pts", "devpts", "devpts", rootless ? o_pts_rl : o_pts },
    { "/dev/shm", "tmpfs", "shm", o_shm },
    { "/dev/mqueue", "mqueue", "mqueue", o_mq },
    rootless ? (struct mount_def){ "/sys", "none", "/sys", o_sys_rl }
             : (struct mount_def){ "/sys", "sysfs", "sysfs", o_sys },
    { "/sys/fs/cgroup", "cgroup", "cgroup", o_cg },
  };
  static const char *const capsets[] = { "bounding", "effective", "permitted", "ambient", NULL };
  const char *const *p;
  yajl_gen g = kata_gen_new ();
  size_t i;

  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_config (g, yajl_gen_indent_string, "\t");
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "ociVersion", "1.2.0");

  kata_gen_str (g, "process");
  yajl_gen_map_open (g);
  kata_gen_kv_bool (g, "terminal", true);
  kata_gen_str (g, "user");
  yajl_gen_map_open (g);
  kata_gen_kv_int (g, "uid", 0);
  kata_gen_kv_int (g, "gid", 0);
  yajl_gen_map_close (g);
  gen_strv (g, "args", args);
  gen_strv (g, "env", env);
  kata_gen_kv_str (g, "cwd", "/");
  kata_gen_str (g, "capabilities");
  yajl_gen_map_open (g);
  for (p = capsets; *p; p++)
    gen_strv (g, *p, caps);
  yajl_gen_map_close (g);
  kata_gen_str (g, "rlimits");
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "type", "RLIMIT_NOFILE");
  kata_gen_kv_int (g, "hard", 1024);
  kata_gen_kv_int (g, "soft", 1024);
  yajl_gen_map_close (g);
  yajl_gen_array_close (g);
  kata_gen_kv_bool (g, "noNewPrivileges", true);
  yajl_gen_map_close (g);

  kata_gen_str (g, "root");
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "path", "rootfs");
  kata_gen_kv_bool (g, "readonly", true);
  yajl_gen_map_close (g);
  kata_gen_kv_str (g, "hostname", "runc");

  kata_gen_str (g, "mounts");
  yajl_gen_array_open (g);
  for (i = 0; i < sizeof mounts / sizeof mounts[0]; i++)
    gen_mount (g, &mounts[i]);
  yajl_gen_array_close (g);

  kata_gen_str (g, "linux");
  yajl_gen_map_open (g);
  if (rootless)
    {
      gen_id_mapping (g, "uidMappings", geteuid ());
      gen_id_mapping (g, "gidMappings", getegid ());
    }
  else
    {
      kata_gen_str (g, "resources");
      yajl_gen_map_open (g);
      kata_gen_str (g, "devices");
      yajl_gen_array_open (g);
      yajl_gen_map_open (g);
      kata_gen_kv_bool (g, "allow", false);
      kata_gen_kv_str (g, "access", "rwm");
      yajl_gen_map_close (g);
      yajl_gen_array_close (g);
      yajl_gen_map_close (g);
    }
  kata_gen_str (g, "namespaces");
  yajl_gen_array_open (g);
  for (p = rootless ? ns_rl : ns; *p; p++)
    {
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "type", *p);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  gen_strv (g, "maskedPaths", masked);
  gen_strv (g, "readonlyPaths", ro);
  yajl_gen_map_close (g);

  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

int
cmd_spec (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  struct spec_args a = { 0 };
  cleanup_free char *path = NULL, *json = NULL;
  cleanup_close int fd = -1;
  struct stat st;
  size_t len;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, &a, err) < 0)
    return -1;
  if (kata_cmd_check_args ("spec", argc - first, 0, err) < 0)
    return -1;
  if (a.bundle && *a.bundle)
    {
      if (stat (a.bundle, &st) < 0)
        return kata_make_error (err, errno, "chdir %s", a.bundle);
      if (!S_ISDIR (st.st_mode))
        return kata_make_error (err, ENOTDIR, "chdir %s", a.bundle);
      path = xasprintf ("%s/config.json", a.bundle);
    }
  else
    path = xstrdup ("config.json");

  if (lstat (path, &st) == 0)
    return kata_make_error_nostr (err, EEXIST, "File config.json exists. Remove it first");

  json = example_spec (a.rootless);
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      if (errno == EEXIST)
        return kata_make_error_nostr (err, EEXIST, "File config.json exists. Remove it first");
      return kata_make_error (err, errno, "open %s", path);
    }
  len = strlen (json);
  while (len && json[len - 1] == '\n') /* runc writes no trailing newline */
    json[--len] = '\0';
  if (kata_write_all (fd, json, len) < 0)
    return kata_make_error (err, errno, "write %s", path);
  return 0;
}
