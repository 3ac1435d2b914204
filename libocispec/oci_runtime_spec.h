/* OCI runtime-spec (1.0.0 .. 1.2.0) types, parsed and generated over yajl.
 *
 * Mirrors the generated libocispec API that crun uses:
 *   T *T_parse_file (filename, ctx, &err);   T *T_parse_data (json, ctx, &err);
 *   T *make_T (yajl_val tree, ctx, &err);    char *T_generate_json (ptr, ctx, &err);
 *   void free_T (T *ptr);                    (free_T (NULL) is a no-op)
 *
 * Conventions: arrays are `T **x; size_t x_len;` (strings: `char **x`),
 * optional scalars carry a `bool x_present`, and a NULL pointer means absent.
 * A scalar is written when its `_present` is set or its value is non-zero.
 * JSON null for a field means absent.
 * A parsed empty JSON array gives a non-NULL pointer with `_len == 0`, so it is
 * written back as `[]`.  Unknown keys of every object are kept in `_residual`
 * (a yajl object owned by the struct) and written back after the known ones.
 *
 * Errors: *err receives a malloc'd message naming the JSON path, e.g.
 * "process.args[2]: expected string"; the caller frees it.  err may be NULL.
 */
#ifndef OCI_RUNTIME_SPEC_H
#define OCI_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yajl/yajl_tree.h>

/* GNU C predefines `linux` as 1; the spec's member is called linux. */
#undef linux

#ifdef __cplusplus
extern "C"
{
#endif

/* parser_context.options */
#define OPT_PARSE_STRICT 0x01         /* unknown keys are an error */
#define OPT_GEN_KEY_VALUE 0x02        /* also write scalars that are 0/false and not _present */
#define OPT_GEN_SIMPLIFY 0x04         /* compact output, no indentation */
#define OPT_PARSE_FULLKEY 0x08        /* accepted for compatibility; no effect */
#define OPT_GEN_NO_VALIDATE_UTF8 0x10 /* do not reject invalid UTF-8 on output */

/* Limits against hostile input. */
#define OCISPEC_MAX_DEPTH 64                        /* nesting of arrays/objects */
#define OCISPEC_MAX_FILE_SIZE (64u * 1024u * 1024u) /* bytes */
#define OCISPEC_MAX_ARRAY_LEN (1u << 20)            /* elements/keys per container */
#define OCISPEC_MAX_NODES (1u << 22)                /* JSON values in one document */

  typedef char *parser_error;

  struct parser_context
  {
    unsigned int options;
    FILE *errfile; /* unused; kept for API compatibility */
  };

  typedef struct
  {
    char **keys;
    char **values;
    size_t len;
  } json_map_string_string;

  /* ---- defs ---------------------------------------------------------------- */

  typedef struct
  {
    uint32_t container_id;
    bool container_id_present;
    uint32_t host_id;
    bool host_id_present;
    uint32_t size;
    bool size_present;
    yajl_val _residual;
  } runtime_spec_schema_defs_id_mapping;

  typedef struct
  {
    char *destination; /* required */
    char *type;
    char *source;
    char **options;
    size_t options_len;
    runtime_spec_schema_defs_id_mapping **uid_mappings;
    size_t uid_mappings_len;
    runtime_spec_schema_defs_id_mapping **gid_mappings;
    size_t gid_mappings_len;
    yajl_val _residual;
  } runtime_spec_schema_defs_mount;

  typedef struct
  {
    char *path; /* required */
    char **args;
    size_t args_len;
    char **env;
    size_t env_len;
    int timeout;
    bool timeout_present;
    yajl_val _residual;
  } runtime_spec_schema_defs_hook;

  typedef struct
  {
    char *type; /* required */
    char *path;
    yajl_val _residual;
  } runtime_spec_schema_defs_linux_namespace_reference;

  typedef struct
  {
    char *type; /* required */
    char *path; /* required */
    int64_t major;
    bool major_present;
    int64_t minor;
    bool minor_present;
    uint32_t file_mode;
    bool file_mode_present;
    uint32_t uid;
    bool uid_present;
    uint32_t gid;
    bool gid_present;
    yajl_val _residual;
  } runtime_spec_schema_defs_linux_device;

  typedef struct
  {
    bool allow;
    bool allow_present;
    char *type;
    int64_t major;
    bool major_present;
    int64_t minor;
    bool minor_present;
    char *access;
    yajl_val _residual;
  } runtime_spec_schema_defs_linux_device_cgroup;

  typedef struct
  {
    int64_t major;
    bool major_present;
    int64_t minor;
    bool minor_present;
    uint16_t weight;
    bool weight_present;
    uint16_t leaf_weight;
    bool leaf_weight_present;
    yajl_val _residual;
  } runtime_spec_schema_defs_linux_block_io_device_weight;

  typedef struct
  {
    int64_t major;
    bool major_present;
    int64_t minor;
    bool minor_present;
    uint64_t rate;
    bool rate_present;
    yajl_val _residual;
  } runtime_spec_schema_defs_linux_block_io_device_throttle;

  typedef struct
  {
    char *name;
    uint32_t priority;
    bool priority_present;
    yajl_val _residual;
  } runtime_spec_schema_defs_linux_network_interface_priority;

  typedef struct
  {
    uint32_t hca_handles;
    bool hca_handles_present;
    uint32_t hca_objects;
    bool hca_objects_present;
    yajl_val _residual;
  } runtime_spec_schema_defs_linux_rdma;

  typedef struct
  {
    uint32_t index;
    bool index_present;
    uint64_t value;
    bool value_present;
    uint64_t value_two;
    bool value_two_present;
    char *op;
    yajl_val _residual;
  } runtime_spec_schema_defs_linux_syscall_arg;

  typedef struct
  {
    char **names;
    size_t names_len;
    char *action;
    uint32_t errno_ret;
    bool errno_ret_present;
    runtime_spec_schema_defs_linux_syscall_arg **args;
    size_t args_len;
    yajl_val _residual;
  } runtime_spec_schema_defs_linux_syscall;

  typedef struct
  {
    int64_t secs;
    bool secs_present;
    uint32_t nanosecs;
    bool nanosecs_present;
    yajl_val _residual;
  } runtime_spec_schema_defs_linux_time_offsets;

  /* ---- process --------------------------------------------------------------- */

  typedef struct
  {
    uint64_t height;
    bool height_present;
    uint64_t width;
    bool width_present;
    yajl_val _residual;
  } runtime_spec_schema_config_schema_process_console_size;

  typedef struct
  {
    uint32_t uid;
    bool uid_present;
    uint32_t gid;
    bool gid_present;
    uint32_t umask;
    bool umask_present;
    uint32_t *additional_gids;
    size_t additional_gids_len;
    char *username;
    yajl_val _residual;
  } runtime_spec_schema_config_schema_process_user;

  typedef struct
  {
    char **bounding;
    size_t bounding_len;
    char **effective;
    size_t effective_len;
    char **inheritable;
    size_t inheritable_len;
    char **permitted;
    size_t permitted_len;
    char **ambient;
    size_t ambient_len;
    yajl_val _residual;
  } runtime_spec_schema_config_schema_process_capabilities;

  typedef struct
  {
    char *type; /* required */
    uint64_t hard;
    bool hard_present;
    uint64_t soft;
    bool soft_present;
    yajl_val _residual;
  } runtime_spec_schema_config_schema_process_rlimits_element;

  typedef struct
  {
    char *class;
    int32_t priority;
    bool priority_present;
    yajl_val _residual;
  } runtime_spec_schema_config_schema_process_io_priority;

  typedef struct
  {
    char *policy;
    int32_t nice;
    bool nice_present;
    int32_t priority;
    bool priority_present;
    char **flags;
    size_t flags_len;
    uint64_t runtime;
    bool runtime_present;
    uint64_t deadline;
    bool deadline_present;
    uint64_t period;
    bool period_present;
    yajl_val _residual;
  } runtime_spec_schema_config_schema_process_scheduler;

  typedef struct
  {
    char *initial;
    char *final;
    yajl_val _residual;
  } runtime_spec_schema_config_schema_process_exec_cpu_affinity;

  typedef struct
  {
    bool terminal;
    bool terminal_present;
    runtime_spec_schema_config_schema_process_console_size *console_size;
    char *cwd;
    char **env;
    size_t env_len;
    char **args;
    size_t args_len;
    runtime_spec_schema_config_schema_process_user *user;
    runtime_spec_schema_config_schema_process_capabilities *capabilities;
    runtime_spec_schema_config_schema_process_rlimits_element **rlimits;
    size_t rlimits_len;
    bool no_new_privileges;
    bool no_new_privileges_present;
    char *apparmor_profile;
    char *selinux_label;
    int oom_score_adj;
    bool oom_score_adj_present;
    runtime_spec_schema_config_schema_process_io_priority *io_priority;
    runtime_spec_schema_config_schema_process_scheduler *scheduler;
    runtime_spec_schema_config_schema_process_exec_cpu_affinity *exec_cpu_affinity;
    yajl_val _residual;
  } runtime_spec_schema_config_schema_process;

  /* ---- root, hooks ------------------------------------------------------------ */

  typedef struct
  {
    char *path;
    bool readonly;
    bool readonly_present;
    yajl_val _residual;
  } runtime_spec_schema_config_schema_root;

  typedef struct
  {
    runtime_spec_schema_defs_hook **prestart;
    size_t prestart_len;
    runtime_spec_schema_defs_hook **create_runtime;
    size_t create_runtime_len;
    runtime_spec_schema_defs_hook **create_container;
    size_t create_container_len;
    runtime_spec_schema_defs_hook **start_container;
    size_t start_container_len;
    runtime_spec_schema_defs_hook **poststart;
    size_t poststart_len;
    runtime_spec_schema_defs_hook **poststop;
    size_t poststop_len;
    yajl_val _residual;
  } runtime_spec_schema_config_schema_hooks;

  /* ---- linux.resources ----------------------------------------------------------- */

  typedef struct
  {
    int64_t limit;
    bool limit_present;
    int64_t reservation;
    bool reservation_present;
    int64_t swap;
    bool swap_present;
    int64_t kernel;
    bool kernel_present;
    int64_t kernel_tcp;
    bool kernel_tcp_present;
    uint64_t swappiness;
    bool swappiness_present;
    bool disable_oom_killer;
    bool disable_oom_killer_present;
    bool use_hierarchy;
    bool use_hierarchy_present;
    bool check_before_update;
    bool check_before_update_present;
    yajl_val _residual;
  } runtime_spec_schema_config_linux_resources_memory;

  typedef struct
  {
    uint64_t shares;
    bool shares_present;
    int64_t quota;
    bool quota_present;
    uint64_t burst;
    bool burst_present;
    uint64_t period;
    bool period_present;
    int64_t realtime_runtime;
    bool realtime_runtime_present;
    uint64_t realtime_period;
    bool realtime_period_present;
    char *cpus;
    char *mems;
    int64_t idle;
    bool idle_present;
    yajl_val _residual;
  } runtime_spec_schema_config_linux_resources_cpu;

  typedef struct
  {
    int64_t limit;
    bool limit_present;
    yajl_val _residual;
  } runtime_spec_schema_config_linux_resources_pids;

  typedef struct
  {
    uint16_t weight;
    bool weight_present;
    uint16_t leaf_weight;
    bool leaf_weight_present;
    runtime_spec_schema_defs_linux_block_io_device_weight **weight_device;
    size_t weight_device_len;
    runtime_spec_schema_defs_linux_block_io_device_throttle **throttle_read_bps_device;
    size_t throttle_read_bps_device_len;
    runtime_spec_schema_defs_linux_block_io_device_throttle **throttle_write_bps_device;
    size_t throttle_write_bps_device_len;
    runtime_spec_schema_defs_linux_block_io_device_throttle **throttle_read_iops_device;
    size_t throttle_read_iops_device_len;
    runtime_spec_schema_defs_linux_block_io_device_throttle **throttle_write_iops_device;
    size_t throttle_write_iops_device_len;
    yajl_val _residual;
  } runtime_spec_schema_config_linux_resources_block_io;

  typedef struct
  {
    char *page_size;
    uint64_t limit;
    bool limit_present;
    yajl_val _residual;
  } runtime_spec_schema_config_linux_resources_hugepage_limits_element;

  typedef struct
  {
    uint32_t class_id;
    bool class_id_present;
    runtime_spec_schema_defs_linux_network_interface_priority **priorities;
    size_t priorities_len;
    yajl_val _residual;
  } runtime_spec_schema_config_linux_resources_network;

  /* "rdma": { "<device>": { "hcaHandles": N, "hcaObjects": N } } */
  typedef struct
  {
    char **keys;
    runtime_spec_schema_defs_linux_rdma **values;
    size_t len;
  } runtime_spec_schema_config_linux_resources_rdma;

  typedef struct
  {
    runtime_spec_schema_defs_linux_device_cgroup **devices;
    size_t devices_len;
    runtime_spec_schema_config_linux_resources_memory *memory;
    runtime_spec_schema_config_linux_resources_cpu *cpu;
    runtime_spec_schema_config_linux_resources_pids *pids;
    runtime_spec_schema_config_linux_resources_block_io *block_io;
    runtime_spec_schema_config_linux_resources_hugepage_limits_element **hugepage_limits;
    size_t hugepage_limits_len;
    runtime_spec_schema_config_linux_resources_network *network;
    runtime_spec_schema_config_linux_resources_rdma *rdma;
    json_map_string_string *unified;
    yajl_val _residual;
  } runtime_spec_schema_config_linux_resources;

  /* ---- linux ---------------------------------------------------------------------- */

  typedef struct
  {
    char *default_action; /* required */
    uint32_t default_errno_ret;
    bool default_errno_ret_present;
    char **architectures;
    size_t architectures_len;
    char **flags;
    size_t flags_len;
    char *listener_path;
    char *listener_metadata;
    runtime_spec_schema_defs_linux_syscall **syscalls;
    size_t syscalls_len;
    yajl_val _residual;
  } runtime_spec_schema_config_linux_seccomp;

  typedef struct
  {
    char *clos_id;
    char *l3_cache_schema;
    char *mem_bw_schema;
    bool enable_cmt;
    bool enable_cmt_present;
    bool enable_mbm;
    bool enable_mbm_present;
    yajl_val _residual;
  } runtime_spec_schema_config_linux_intel_rdt;

  typedef struct
  {
    char *domain;
    char **flags;
    size_t flags_len;
    yajl_val _residual;
  } runtime_spec_schema_config_linux_personality;

  /* "timeOffsets": { "monotonic": { "secs": N, "nanosecs": N }, ... } */
  typedef struct
  {
    char **keys;
    runtime_spec_schema_defs_linux_time_offsets **values;
    size_t len;
  } runtime_spec_schema_config_linux_time_offsets;

  typedef struct
  {
    runtime_spec_schema_defs_linux_namespace_reference **namespaces;
    size_t namespaces_len;
    runtime_spec_schema_defs_id_mapping **uid_mappings;
    size_t uid_mappings_len;
    runtime_spec_schema_defs_id_mapping **gid_mappings;
    size_t gid_mappings_len;
    runtime_spec_schema_defs_linux_device **devices;
    size_t devices_len;
    char *cgroups_path;
    runtime_spec_schema_config_linux_resources *resources;
    json_map_string_string *sysctl;
    runtime_spec_schema_config_linux_seccomp *seccomp;
    char *rootfs_propagation;
    char **masked_paths;
    size_t masked_paths_len;
    char **readonly_paths;
    size_t readonly_paths_len;
    char *mount_label;
    runtime_spec_schema_config_linux_intel_rdt *intel_rdt;
    runtime_spec_schema_config_linux_personality *personality;
    runtime_spec_schema_config_linux_time_offsets *time_offsets;
    yajl_val _residual;
  } runtime_spec_schema_config_linux;

  /* ---- config.json root ------------------------------------------------------------- */

  typedef struct
  {
    char *oci_version;
    runtime_spec_schema_config_schema_process *process;
    runtime_spec_schema_config_schema_root *root;
    char *hostname;
    char *domainname;
    runtime_spec_schema_defs_mount **mounts;
    size_t mounts_len;
    runtime_spec_schema_config_schema_hooks *hooks;
    json_map_string_string *annotations;
    runtime_spec_schema_config_linux *linux;
    yajl_val _residual;
  } runtime_spec_schema_config_schema;

  /* ---- state (output of `state`, input of hooks) ------------------------------------- */

  typedef struct
  {
    char *oci_version;
    char *id;
    char *status;
    int pid;
    bool pid_present;
    char *bundle;
    json_map_string_string *annotations;
    yajl_val _residual;
  } runtime_spec_schema_state_schema;

  /* ---- functions -------------------------------------------------------------------- */

#define OCISPEC_DECLARE_TOPLEVEL(T)                                                                          \
  T *T##_parse_file (const char *filename, const struct parser_context *ctx, parser_error *err);             \
  T *T##_parse_data (const char *jsondata, const struct parser_context *ctx, parser_error *err);             \
  T *make_##T (yajl_val tree, const struct parser_context *ctx, parser_error *err);                          \
  char *T##_generate_json (const T *ptr, const struct parser_context *ctx, parser_error *err);               \
  void free_##T (T *ptr)

  /* Full API: parse_file, parse_data, make_, generate_json, free_. */
  OCISPEC_DECLARE_TOPLEVEL (runtime_spec_schema_config_schema);
  OCISPEC_DECLARE_TOPLEVEL (runtime_spec_schema_config_schema_process);
  OCISPEC_DECLARE_TOPLEVEL (runtime_spec_schema_config_linux);
  OCISPEC_DECLARE_TOPLEVEL (runtime_spec_schema_config_linux_resources);
  OCISPEC_DECLARE_TOPLEVEL (runtime_spec_schema_config_linux_seccomp);
  OCISPEC_DECLARE_TOPLEVEL (runtime_spec_schema_state_schema);
  OCISPEC_DECLARE_TOPLEVEL (runtime_spec_schema_defs_mount);
  OCISPEC_DECLARE_TOPLEVEL (runtime_spec_schema_defs_hook);
  OCISPEC_DECLARE_TOPLEVEL (runtime_spec_schema_config_schema_hooks);
  OCISPEC_DECLARE_TOPLEVEL (runtime_spec_schema_config_schema_root);

  /* free_ of every other type (each accepts NULL). */
  void free_runtime_spec_schema_defs_id_mapping (runtime_spec_schema_defs_id_mapping *ptr);
  void free_runtime_spec_schema_defs_linux_namespace_reference (
      runtime_spec_schema_defs_linux_namespace_reference *ptr);
  void free_runtime_spec_schema_defs_linux_device (runtime_spec_schema_defs_linux_device *ptr);
  void free_runtime_spec_schema_defs_linux_device_cgroup (runtime_spec_schema_defs_linux_device_cgroup *ptr);
  void free_runtime_spec_schema_defs_linux_block_io_device_weight (
      runtime_spec_schema_defs_linux_block_io_device_weight *ptr);
  void free_runtime_spec_schema_defs_linux_block_io_device_throttle (
      runtime_spec_schema_defs_linux_block_io_device_throttle *ptr);
  void free_runtime_spec_schema_defs_linux_network_interface_priority (
      runtime_spec_schema_defs_linux_network_interface_priority *ptr);
  void free_runtime_spec_schema_defs_linux_rdma (runtime_spec_schema_defs_linux_rdma *ptr);
  void free_runtime_spec_schema_defs_linux_syscall_arg (runtime_spec_schema_defs_linux_syscall_arg *ptr);
  void free_runtime_spec_schema_defs_linux_syscall (runtime_spec_schema_defs_linux_syscall *ptr);
  void free_runtime_spec_schema_defs_linux_time_offsets (runtime_spec_schema_defs_linux_time_offsets *ptr);
  void free_runtime_spec_schema_config_schema_process_console_size (
      runtime_spec_schema_config_schema_process_console_size *ptr);
  void
  free_runtime_spec_schema_config_schema_process_user (runtime_spec_schema_config_schema_process_user *ptr);
  void free_runtime_spec_schema_config_schema_process_capabilities (
      runtime_spec_schema_config_schema_process_capabilities *ptr);
  void free_runtime_spec_schema_config_schema_process_rlimits_element (
      runtime_spec_schema_config_schema_process_rlimits_element *ptr);
  void free_runtime_spec_schema_config_schema_process_io_priority (
      runtime_spec_schema_config_schema_process_io_priority *ptr);
  void free_runtime_spec_schema_config_schema_process_scheduler (
      runtime_spec_schema_config_schema_process_scheduler *ptr);
  void free_runtime_spec_schema_config_schema_process_exec_cpu_affinity (
      runtime_spec_schema_config_schema_process_exec_cpu_affinity *ptr);
  void free_runtime_spec_schema_config_linux_resources_memory (
      runtime_spec_schema_config_linux_resources_memory *ptr);
  void
  free_runtime_spec_schema_config_linux_resources_cpu (runtime_spec_schema_config_linux_resources_cpu *ptr);
  void
  free_runtime_spec_schema_config_linux_resources_pids (runtime_spec_schema_config_linux_resources_pids *ptr);
  void free_runtime_spec_schema_config_linux_resources_block_io (
      runtime_spec_schema_config_linux_resources_block_io *ptr);
  void free_runtime_spec_schema_config_linux_resources_hugepage_limits_element (
      runtime_spec_schema_config_linux_resources_hugepage_limits_element *ptr);
  void free_runtime_spec_schema_config_linux_resources_network (
      runtime_spec_schema_config_linux_resources_network *ptr);
  void
  free_runtime_spec_schema_config_linux_resources_rdma (runtime_spec_schema_config_linux_resources_rdma *ptr);
  void free_runtime_spec_schema_config_linux_intel_rdt (runtime_spec_schema_config_linux_intel_rdt *ptr);
  void free_runtime_spec_schema_config_linux_personality (runtime_spec_schema_config_linux_personality *ptr);
  void
  free_runtime_spec_schema_config_linux_time_offsets (runtime_spec_schema_config_linux_time_offsets *ptr);

  /* json_map_string_string helpers. */
  void free_json_map_string_string (json_map_string_string *map);
  /* Set key to val (replacing an existing value). Returns 0, or -1 on bad args. */
  int append_json_map_string_string (json_map_string_string *map, const char *key, const char *val);
  /* Value for key, or NULL. */
  const char *json_map_string_string_get (const json_map_string_string *map, const char *key);

  /* Hardened JSON parsing into a yajl tree (free with yajl_tree_free): rejects
   * NUL bytes, strings containing \u0000, nesting deeper than OCISPEC_MAX_DEPTH,
   * containers larger than OCISPEC_MAX_ARRAY_LEN and documents of more than
   * OCISPEC_MAX_NODES values.  Errors name the path. */
  yajl_val ocispec_json_parse (const char *data, size_t len, parser_error *err);
  /* Read a whole file (at most OCISPEC_MAX_FILE_SIZE) and parse it as above. */
  yajl_val ocispec_json_parse_file (const char *filename, parser_error *err);
  /* Deep copy of a yajl tree (NULL for NULL). */
  yajl_val ocispec_yajl_copy (yajl_val v);
  /* Serialize a yajl tree to a malloc'd JSON string (NULL on error). */
  char *ocispec_yajl_to_json (yajl_val v, const struct parser_context *ctx, parser_error *err);

#ifdef __cplusplus
}
#endif

#endif /* OCI_RUNTIME_SPEC_H */
