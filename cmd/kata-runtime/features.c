/* kata-runtime features: the OCI features document (runtime-spec features.md). */
#include "config.h"
#include "cmd/kata-runtime/common.h"
#include "common/cap-names.h"
#include "common/json.h"
#include "common/utils.h"

static const struct argp_option options[] = { { 0 } };

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  return ARGP_ERR_UNKNOWN;
}

static const struct argp argp = { options,
                                  parse_opt,
                                  NULL,
                                  "show the enabled features\v"
                                  "Show the enabled features.\nThe result is parsable as a JSON.\n"
                                  "See https://github.com/opencontainers/runtime-spec/blob/main/features.md",
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

static const char *const hooks[]
    = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", NULL };

static const char *const mount_options[] = { "acl",
                                             "async",
                                             "atime",
                                             "bind",
                                             "defaults",
                                             "dev",
                                             "diratime",
                                             "dirsync",
                                             "exec",
                                             "iversion",
                                             "lazytime",
                                             "loud",
                                             "mand",
                                             "noacl",
                                             "noatime",
                                             "nodev",
                                             "nodiratime",
                                             "noexec",
                                             "noiversion",
                                             "nolazytime",
                                             "nomand",
                                             "norelatime",
                                             "nostrictatime",
                                             "nosuid",
                                             "nosymfollow",
                                             "private",
                                             "ratime",
                                             "rbind",
                                             "rdev",
                                             "rdiratime",
                                             "relatime",
                                             "remount",
                                             "rexec",
                                             "rnoatime",
                                             "rnodev",
                                             "rnodiratime",
                                             "rnoexec",
                                             "rnorelatime",
                                             "rnostrictatime",
                                             "rnosuid",
                                             "rnosymfollow",
                                             "ro",
                                             "rprivate",
                                             "rrelatime",
                                             "rro",
                                             "rrw",
                                             "rshared",
                                             "rslave",
                                             "rstrictatime",
                                             "rsuid",
                                             "rsymfollow",
                                             "runbindable",
                                             "rw",
                                             "shared",
                                             "silent",
                                             "slave",
                                             "strictatime",
                                             "suid",
                                             "symfollow",
                                             "sync",
                                             "tmpcopyup",
                                             "unbindable",
                                             NULL };

/* Namespaces the guest agent creates for a container inside the VM. */
static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "uts", NULL };
static const char *const seccomp_actions[]
    = { "SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO",       "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
        "SCMP_ACT_TRACE",        "SCMP_ACT_TRAP",        NULL };
static const char *const seccomp_operators[]
    = { "SCMP_CMP_EQ", "SCMP_CMP_GE",        "SCMP_CMP_GT", "SCMP_CMP_LE",
        "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL };
static const char *const seccomp_archs[] = { "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", NULL };

static void
gen_enabled (yajl_gen g, const char *key, bool on)
{
  kata_gen_str (g, key);
  yajl_gen_map_open (g);
  kata_gen_kv_bool (g, "enabled", on);
  yajl_gen_map_close (g);
}

int
cmd_features (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  cleanup_free char *json = NULL;
  yajl_gen g;
  int first;

  if (kata_cmd_parse (&argp, argc, argv, &first, NULL, err) < 0)
    return -1;
  if (kata_cmd_check_args ("features", argc - first, 0, err) < 0)
    return -1;

  g = kata_gen_new ();
  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_config (g, yajl_gen_indent_string, "    ");
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "ociVersionMin", "1.0.0");
  kata_gen_kv_str (g, "ociVersionMax", "1.2.0");
  gen_strv (g, "hooks", hooks);
  gen_strv (g, "mountOptions", mount_options);
  kata_gen_str (g, "linux");
  yajl_gen_map_open (g);
  gen_strv (g, "namespaces", namespaces);
  gen_strv (g, "capabilities", kata_cap_names);
  kata_gen_str (g, "cgroup");
  yajl_gen_map_open (g);
  kata_gen_kv_bool (g, "v1", true);
  kata_gen_kv_bool (g, "v2", true);
  kata_gen_kv_bool (g, "systemd", false);
  kata_gen_kv_bool (g, "systemdUser", false);
  yajl_gen_map_close (g);
  kata_gen_str (g, "seccomp");
  yajl_gen_map_open (g);
  kata_gen_kv_bool (g, "enabled", true);
  gen_strv (g, "actions", seccomp_actions);
  gen_strv (g, "operators", seccomp_operators);
  gen_strv (g, "archs", seccomp_archs);
  yajl_gen_map_close (g);
  gen_enabled (g, "apparmor", false);
  gen_enabled (g, "selinux", false);
  yajl_gen_map_close (g);
  kata_gen_str (g, "annotations");
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "io.katacontainers.runtime.version", PACKAGE_VERSION);
  kata_gen_kv_str (g, "io.katacontainers.runtime.commit", GIT_COMMIT);
  kata_gen_kv_str (g, "io.katacontainers.hypervisor", "qemu");
  kata_gen_kv_str (g, "io.katacontainers.checkpoint.enabled", "false");
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  json = kata_gen_finish (g, NULL);
  return kata_cmd_print (json, err);
}
