/* config.json: root object, process, root, mounts, hooks. */
#include "config.h"
#include "ocispec_internal.h"

/* ---- defs ---- */

#define T runtime_spec_schema_defs_id_mapping
static const struct ocispec_field id_mapping_fields[] = {
  OCISPEC_F_P (T, "containerID", OCISPEC_UINT32, container_id),
  OCISPEC_F_P (T, "hostID", OCISPEC_UINT32, host_id),
  OCISPEC_F_P (T, "size", OCISPEC_UINT32, size),
};
OCISPEC_TYPE (T, id_mapping_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_defs_mount
static const struct ocispec_field mount_fields[] = {
  OCISPEC_F_REQ (T, "destination", OCISPEC_STRING, destination),
  OCISPEC_F (T, "type", OCISPEC_STRING, type),
  OCISPEC_F (T, "source", OCISPEC_STRING, source),
  OCISPEC_F_A (T, "options", OCISPEC_STRING_ARRAY, options, NULL),
  OCISPEC_F_A (T, "uidMappings", OCISPEC_OBJECT_ARRAY, uid_mappings,
               &runtime_spec_schema_defs_id_mapping_desc),
  OCISPEC_F_A (T, "gidMappings", OCISPEC_OBJECT_ARRAY, gid_mappings,
               &runtime_spec_schema_defs_id_mapping_desc),
};
OCISPEC_TYPE (T, mount_fields);
OCISPEC_DEFINE_TOPLEVEL (T)
#undef T

#define T runtime_spec_schema_defs_hook
static const struct ocispec_field hook_fields[] = {
  OCISPEC_F_REQ (T, "path", OCISPEC_STRING, path),
  OCISPEC_F_A (T, "args", OCISPEC_STRING_ARRAY, args, NULL),
  OCISPEC_F_A (T, "env", OCISPEC_STRING_ARRAY, env, NULL),
  OCISPEC_F_P (T, "timeout", OCISPEC_INT32, timeout),
};
static OCISPEC_TYPE (T, hook_fields);
OCISPEC_DEFINE_TOPLEVEL (T)
#undef T

/* ---- process ---- */

#define T runtime_spec_schema_config_schema_process_console_size
static const struct ocispec_field console_size_fields[] = {
  OCISPEC_F_P (T, "height", OCISPEC_UINT64, height),
  OCISPEC_F_P (T, "width", OCISPEC_UINT64, width),
};
static OCISPEC_TYPE (T, console_size_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_schema_process_user
static const struct ocispec_field user_fields[] = {
  OCISPEC_F_P (T, "uid", OCISPEC_UINT32, uid),
  OCISPEC_F_P (T, "gid", OCISPEC_UINT32, gid),
  OCISPEC_F_P (T, "umask", OCISPEC_UINT32, umask),
  OCISPEC_F_A (T, "additionalGids", OCISPEC_UINT32_ARRAY, additional_gids, NULL),
  OCISPEC_F (T, "username", OCISPEC_STRING, username),
};
static OCISPEC_TYPE (T, user_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_schema_process_capabilities
static const struct ocispec_field capabilities_fields[] = {
  OCISPEC_F_A (T, "bounding", OCISPEC_STRING_ARRAY, bounding, NULL),
  OCISPEC_F_A (T, "effective", OCISPEC_STRING_ARRAY, effective, NULL),
  OCISPEC_F_A (T, "inheritable", OCISPEC_STRING_ARRAY, inheritable, NULL),
  OCISPEC_F_A (T, "permitted", OCISPEC_STRING_ARRAY, permitted, NULL),
  OCISPEC_F_A (T, "ambient", OCISPEC_STRING_ARRAY, ambient, NULL),
};
static OCISPEC_TYPE (T, capabilities_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_schema_process_rlimits_element
static const struct ocispec_field rlimit_fields[] = {
  OCISPEC_F_REQ (T, "type", OCISPEC_STRING, type),
  OCISPEC_F_P (T, "hard", OCISPEC_UINT64, hard),
  OCISPEC_F_P (T, "soft", OCISPEC_UINT64, soft),
};
static OCISPEC_TYPE (T, rlimit_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_schema_process_io_priority
static const struct ocispec_field io_priority_fields[] = {
  OCISPEC_F (T, "class", OCISPEC_STRING, class),
  OCISPEC_F_P (T, "priority", OCISPEC_INT32, priority),
};
static OCISPEC_TYPE (T, io_priority_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_schema_process_scheduler
static const struct ocispec_field scheduler_fields[] = {
  OCISPEC_F (T, "policy", OCISPEC_STRING, policy),
  OCISPEC_F_P (T, "nice", OCISPEC_INT32, nice),
  OCISPEC_F_P (T, "priority", OCISPEC_INT32, priority),
  OCISPEC_F_A (T, "flags", OCISPEC_STRING_ARRAY, flags, NULL),
  OCISPEC_F_P (T, "runtime", OCISPEC_UINT64, runtime),
  OCISPEC_F_P (T, "deadline", OCISPEC_UINT64, deadline),
  OCISPEC_F_P (T, "period", OCISPEC_UINT64, period),
};
static OCISPEC_TYPE (T, scheduler_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_schema_process_exec_cpu_affinity
static const struct ocispec_field exec_cpu_affinity_fields[] = {
  OCISPEC_F (T, "initial", OCISPEC_STRING, initial),
  OCISPEC_F (T, "final", OCISPEC_STRING, final),
};
static OCISPEC_TYPE (T, exec_cpu_affinity_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_schema_process
static const struct ocispec_field process_fields[] = {
  OCISPEC_F_P (T, "terminal", OCISPEC_BOOL, terminal),
  OCISPEC_F_O (T, "consoleSize", console_size, &runtime_spec_schema_config_schema_process_console_size_desc),
  OCISPEC_F_O (T, "user", user, &runtime_spec_schema_config_schema_process_user_desc),
  OCISPEC_F_A (T, "args", OCISPEC_STRING_ARRAY, args, NULL),
  OCISPEC_F_A (T, "env", OCISPEC_STRING_ARRAY, env, NULL),
  OCISPEC_F (T, "cwd", OCISPEC_STRING, cwd),
  OCISPEC_F_O (T, "capabilities", capabilities, &runtime_spec_schema_config_schema_process_capabilities_desc),
  OCISPEC_F_A (T, "rlimits", OCISPEC_OBJECT_ARRAY, rlimits,
               &runtime_spec_schema_config_schema_process_rlimits_element_desc),
  OCISPEC_F_P (T, "noNewPrivileges", OCISPEC_BOOL, no_new_privileges),
  OCISPEC_F (T, "apparmorProfile", OCISPEC_STRING, apparmor_profile),
  OCISPEC_F_P (T, "oomScoreAdj", OCISPEC_INT32, oom_score_adj),
  OCISPEC_F (T, "selinuxLabel", OCISPEC_STRING, selinux_label),
  OCISPEC_F_O (T, "ioPriority", io_priority, &runtime_spec_schema_config_schema_process_io_priority_desc),
  OCISPEC_F_O (T, "scheduler", scheduler, &runtime_spec_schema_config_schema_process_scheduler_desc),
  OCISPEC_F_O (T, "execCPUAffinity", exec_cpu_affinity,
               &runtime_spec_schema_config_schema_process_exec_cpu_affinity_desc),
};
static OCISPEC_TYPE (T, process_fields);
OCISPEC_DEFINE_TOPLEVEL (T)
#undef T

/* ---- root, hooks ---- */

#define T runtime_spec_schema_config_schema_root
static const struct ocispec_field root_fields[] = {
  OCISPEC_F (T, "path", OCISPEC_STRING, path),
  OCISPEC_F_P (T, "readonly", OCISPEC_BOOL, readonly),
};
static OCISPEC_TYPE (T, root_fields);
OCISPEC_DEFINE_TOPLEVEL (T)
#undef T

#define HOOKS(k, m) OCISPEC_F_A (T, k, OCISPEC_OBJECT_ARRAY, m, &runtime_spec_schema_defs_hook_desc)
#define T runtime_spec_schema_config_schema_hooks
static const struct ocispec_field hooks_fields[] = {
  HOOKS ("prestart", prestart),
  HOOKS ("createRuntime", create_runtime),
  HOOKS ("createContainer", create_container),
  HOOKS ("startContainer", start_container),
  HOOKS ("poststart", poststart),
  HOOKS ("poststop", poststop),
};
static OCISPEC_TYPE (T, hooks_fields);
OCISPEC_DEFINE_TOPLEVEL (T)
#undef T
#undef HOOKS

/* ---- config.json ---- */

#define T runtime_spec_schema_config_schema
static const struct ocispec_field config_fields[] = {
  OCISPEC_F (T, "ociVersion", OCISPEC_STRING, oci_version),
  OCISPEC_F_O (T, "process", process, &runtime_spec_schema_config_schema_process_desc),
  OCISPEC_F_O (T, "root", root, &runtime_spec_schema_config_schema_root_desc),
  OCISPEC_F (T, "hostname", OCISPEC_STRING, hostname),
  OCISPEC_F (T, "domainname", OCISPEC_STRING, domainname),
  OCISPEC_F_A (T, "mounts", OCISPEC_OBJECT_ARRAY, mounts, &runtime_spec_schema_defs_mount_desc),
  OCISPEC_F_O (T, "hooks", hooks, &runtime_spec_schema_config_schema_hooks_desc),
  OCISPEC_F (T, "annotations", OCISPEC_MAP_STRING, annotations),
  OCISPEC_F_O (T, "linux", linux, &runtime_spec_schema_config_linux_desc),
};
static OCISPEC_TYPE (T, config_fields);
OCISPEC_DEFINE_TOPLEVEL (T)
#undef T
