/* config.json "linux": namespaces, devices, resources, seccomp, ... */
#include "config.h"
#include <stdlib.h>
#include "ocispec_internal.h"

/* ---- defs ---- */

#define T runtime_spec_schema_defs_linux_namespace_reference
static const struct ocispec_field namespace_fields[] = {
  OCISPEC_F_REQ (T, "type", OCISPEC_STRING, type),
  OCISPEC_F (T, "path", OCISPEC_STRING, path),
};
static OCISPEC_TYPE (T, namespace_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_defs_linux_device
static const struct ocispec_field device_fields[] = {
  OCISPEC_F_REQ (T, "type", OCISPEC_STRING, type),
  OCISPEC_F_REQ (T, "path", OCISPEC_STRING, path),
  OCISPEC_F_P (T, "major", OCISPEC_INT64, major),
  OCISPEC_F_P (T, "minor", OCISPEC_INT64, minor),
  OCISPEC_F_P (T, "fileMode", OCISPEC_UINT32, file_mode),
  OCISPEC_F_P (T, "uid", OCISPEC_UINT32, uid),
  OCISPEC_F_P (T, "gid", OCISPEC_UINT32, gid),
};
static OCISPEC_TYPE (T, device_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_defs_linux_device_cgroup
static const struct ocispec_field device_cgroup_fields[] = {
  OCISPEC_F_P (T, "allow", OCISPEC_BOOL, allow),   OCISPEC_F (T, "type", OCISPEC_STRING, type),
  OCISPEC_F_P (T, "major", OCISPEC_INT64, major),  OCISPEC_F_P (T, "minor", OCISPEC_INT64, minor),
  OCISPEC_F (T, "access", OCISPEC_STRING, access),
};
static OCISPEC_TYPE (T, device_cgroup_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_defs_linux_block_io_device_weight
static const struct ocispec_field weight_device_fields[] = {
  OCISPEC_F_P (T, "major", OCISPEC_INT64, major),
  OCISPEC_F_P (T, "minor", OCISPEC_INT64, minor),
  OCISPEC_F_P (T, "weight", OCISPEC_UINT16, weight),
  OCISPEC_F_P (T, "leafWeight", OCISPEC_UINT16, leaf_weight),
};
static OCISPEC_TYPE (T, weight_device_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_defs_linux_block_io_device_throttle
static const struct ocispec_field throttle_fields[] = {
  OCISPEC_F_P (T, "major", OCISPEC_INT64, major),
  OCISPEC_F_P (T, "minor", OCISPEC_INT64, minor),
  OCISPEC_F_P (T, "rate", OCISPEC_UINT64, rate),
};
static OCISPEC_TYPE (T, throttle_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_defs_linux_network_interface_priority
static const struct ocispec_field priority_fields[] = {
  OCISPEC_F (T, "name", OCISPEC_STRING, name),
  OCISPEC_F_P (T, "priority", OCISPEC_UINT32, priority),
};
static OCISPEC_TYPE (T, priority_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_defs_linux_rdma
static const struct ocispec_field rdma_fields[] = {
  OCISPEC_F_P (T, "hcaHandles", OCISPEC_UINT32, hca_handles),
  OCISPEC_F_P (T, "hcaObjects", OCISPEC_UINT32, hca_objects),
};
static OCISPEC_TYPE (T, rdma_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_defs_linux_syscall_arg
static const struct ocispec_field syscall_arg_fields[] = {
  OCISPEC_F_P (T, "index", OCISPEC_UINT32, index),
  OCISPEC_F_P (T, "value", OCISPEC_UINT64, value),
  OCISPEC_F_P (T, "valueTwo", OCISPEC_UINT64, value_two),
  OCISPEC_F (T, "op", OCISPEC_STRING, op),
};
static OCISPEC_TYPE (T, syscall_arg_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_defs_linux_syscall
static const struct ocispec_field syscall_fields[] = {
  OCISPEC_F_A (T, "names", OCISPEC_STRING_ARRAY, names, NULL),
  OCISPEC_F (T, "action", OCISPEC_STRING, action),
  OCISPEC_F_P (T, "errnoRet", OCISPEC_UINT32, errno_ret),
  OCISPEC_F_A (T, "args", OCISPEC_OBJECT_ARRAY, args, &runtime_spec_schema_defs_linux_syscall_arg_desc),
};
static OCISPEC_TYPE (T, syscall_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_defs_linux_time_offsets
static const struct ocispec_field time_offsets_fields[] = {
  OCISPEC_F_P (T, "secs", OCISPEC_INT64, secs),
  OCISPEC_F_P (T, "nanosecs", OCISPEC_UINT32, nanosecs),
};
static OCISPEC_TYPE (T, time_offsets_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

/* ---- resources ---- */

#define T runtime_spec_schema_config_linux_resources_memory
static const struct ocispec_field memory_fields[] = {
  OCISPEC_F_P (T, "limit", OCISPEC_INT64, limit),
  OCISPEC_F_P (T, "reservation", OCISPEC_INT64, reservation),
  OCISPEC_F_P (T, "swap", OCISPEC_INT64, swap),
  OCISPEC_F_P (T, "kernel", OCISPEC_INT64, kernel),
  OCISPEC_F_P (T, "kernelTCP", OCISPEC_INT64, kernel_tcp),
  OCISPEC_F_P (T, "swappiness", OCISPEC_UINT64, swappiness),
  OCISPEC_F_P (T, "disableOOMKiller", OCISPEC_BOOL, disable_oom_killer),
  OCISPEC_F_P (T, "useHierarchy", OCISPEC_BOOL, use_hierarchy),
  OCISPEC_F_P (T, "checkBeforeUpdate", OCISPEC_BOOL, check_before_update),
};
static OCISPEC_TYPE (T, memory_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_linux_resources_cpu
static const struct ocispec_field cpu_fields[] = {
  OCISPEC_F_P (T, "shares", OCISPEC_UINT64, shares),
  OCISPEC_F_P (T, "quota", OCISPEC_INT64, quota),
  OCISPEC_F_P (T, "burst", OCISPEC_UINT64, burst),
  OCISPEC_F_P (T, "period", OCISPEC_UINT64, period),
  OCISPEC_F_P (T, "realtimeRuntime", OCISPEC_INT64, realtime_runtime),
  OCISPEC_F_P (T, "realtimePeriod", OCISPEC_UINT64, realtime_period),
  OCISPEC_F (T, "cpus", OCISPEC_STRING, cpus),
  OCISPEC_F (T, "mems", OCISPEC_STRING, mems),
  OCISPEC_F_P (T, "idle", OCISPEC_INT64, idle),
};
static OCISPEC_TYPE (T, cpu_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_linux_resources_pids
static const struct ocispec_field pids_fields[] = {
  OCISPEC_F_P (T, "limit", OCISPEC_INT64, limit),
};
static OCISPEC_TYPE (T, pids_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define THROTTLE(k, m)                                                                                       \
  OCISPEC_F_A (T, k, OCISPEC_OBJECT_ARRAY, m, &runtime_spec_schema_defs_linux_block_io_device_throttle_desc)
#define T runtime_spec_schema_config_linux_resources_block_io
static const struct ocispec_field block_io_fields[] = {
  OCISPEC_F_P (T, "weight", OCISPEC_UINT16, weight),
  OCISPEC_F_P (T, "leafWeight", OCISPEC_UINT16, leaf_weight),
  OCISPEC_F_A (T, "weightDevice", OCISPEC_OBJECT_ARRAY, weight_device,
               &runtime_spec_schema_defs_linux_block_io_device_weight_desc),
  THROTTLE ("throttleReadBpsDevice", throttle_read_bps_device),
  THROTTLE ("throttleWriteBpsDevice", throttle_write_bps_device),
  THROTTLE ("throttleReadIOPSDevice", throttle_read_iops_device),
  THROTTLE ("throttleWriteIOPSDevice", throttle_write_iops_device),
};
static OCISPEC_TYPE (T, block_io_fields);
OCISPEC_DEFINE_FREE (T)
#undef T
#undef THROTTLE

#define T runtime_spec_schema_config_linux_resources_hugepage_limits_element
static const struct ocispec_field hugepage_fields[] = {
  OCISPEC_F (T, "pageSize", OCISPEC_STRING, page_size),
  OCISPEC_F_P (T, "limit", OCISPEC_UINT64, limit),
};
static OCISPEC_TYPE (T, hugepage_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_linux_resources_network
static const struct ocispec_field network_fields[] = {
  OCISPEC_F_P (T, "classID", OCISPEC_UINT32, class_id),
  OCISPEC_F_A (T, "priorities", OCISPEC_OBJECT_ARRAY, priorities,
               &runtime_spec_schema_defs_linux_network_interface_priority_desc),
};
static OCISPEC_TYPE (T, network_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

void
free_runtime_spec_schema_config_linux_resources_rdma (runtime_spec_schema_config_linux_resources_rdma *ptr)
{
  size_t i;

  if (ptr == NULL)
    return;
  for (i = 0; i < ptr->len; i++)
    {
      free (ptr->keys ? ptr->keys[i] : NULL);
      free_runtime_spec_schema_defs_linux_rdma (ptr->values ? ptr->values[i] : NULL);
    }
  free (ptr->keys);
  free (ptr->values);
  free (ptr);
}

#define T runtime_spec_schema_config_linux_resources
static const struct ocispec_field resources_fields[] = {
  OCISPEC_F_A (T, "devices", OCISPEC_OBJECT_ARRAY, devices,
               &runtime_spec_schema_defs_linux_device_cgroup_desc),
  OCISPEC_F_O (T, "memory", memory, &runtime_spec_schema_config_linux_resources_memory_desc),
  OCISPEC_F_O (T, "cpu", cpu, &runtime_spec_schema_config_linux_resources_cpu_desc),
  OCISPEC_F_O (T, "pids", pids, &runtime_spec_schema_config_linux_resources_pids_desc),
  OCISPEC_F_O (T, "blockIO", block_io, &runtime_spec_schema_config_linux_resources_block_io_desc),
  OCISPEC_F_A (T, "hugepageLimits", OCISPEC_OBJECT_ARRAY, hugepage_limits,
               &runtime_spec_schema_config_linux_resources_hugepage_limits_element_desc),
  OCISPEC_F_O (T, "network", network, &runtime_spec_schema_config_linux_resources_network_desc),
  OCISPEC_F_M (T, "rdma", rdma, &runtime_spec_schema_defs_linux_rdma_desc),
  OCISPEC_F (T, "unified", OCISPEC_MAP_STRING, unified),
};
static OCISPEC_TYPE (T, resources_fields);
OCISPEC_DEFINE_TOPLEVEL (T)
#undef T

/* ---- seccomp, intelRdt, personality ---- */

#define T runtime_spec_schema_config_linux_seccomp
static const struct ocispec_field seccomp_fields[] = {
  OCISPEC_F_REQ (T, "defaultAction", OCISPEC_STRING, default_action),
  OCISPEC_F_P (T, "defaultErrnoRet", OCISPEC_UINT32, default_errno_ret),
  OCISPEC_F_A (T, "architectures", OCISPEC_STRING_ARRAY, architectures, NULL),
  OCISPEC_F_A (T, "flags", OCISPEC_STRING_ARRAY, flags, NULL),
  OCISPEC_F (T, "listenerPath", OCISPEC_STRING, listener_path),
  OCISPEC_F (T, "listenerMetadata", OCISPEC_STRING, listener_metadata),
  OCISPEC_F_A (T, "syscalls", OCISPEC_OBJECT_ARRAY, syscalls, &runtime_spec_schema_defs_linux_syscall_desc),
};
static OCISPEC_TYPE (T, seccomp_fields);
OCISPEC_DEFINE_TOPLEVEL (T)
#undef T

#define T runtime_spec_schema_config_linux_intel_rdt
static const struct ocispec_field intel_rdt_fields[] = {
  OCISPEC_F (T, "closID", OCISPEC_STRING, clos_id),
  OCISPEC_F (T, "l3CacheSchema", OCISPEC_STRING, l3_cache_schema),
  OCISPEC_F (T, "memBwSchema", OCISPEC_STRING, mem_bw_schema),
  OCISPEC_F_P (T, "enableCMT", OCISPEC_BOOL, enable_cmt),
  OCISPEC_F_P (T, "enableMBM", OCISPEC_BOOL, enable_mbm),
};
static OCISPEC_TYPE (T, intel_rdt_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

#define T runtime_spec_schema_config_linux_personality
static const struct ocispec_field personality_fields[] = {
  OCISPEC_F (T, "domain", OCISPEC_STRING, domain),
  OCISPEC_F_A (T, "flags", OCISPEC_STRING_ARRAY, flags, NULL),
};
static OCISPEC_TYPE (T, personality_fields);
OCISPEC_DEFINE_FREE (T)
#undef T

void
free_runtime_spec_schema_config_linux_time_offsets (runtime_spec_schema_config_linux_time_offsets *ptr)
{
  size_t i;

  if (ptr == NULL)
    return;
  for (i = 0; i < ptr->len; i++)
    {
      free (ptr->keys ? ptr->keys[i] : NULL);
      free_runtime_spec_schema_defs_linux_time_offsets (ptr->values ? ptr->values[i] : NULL);
    }
  free (ptr->keys);
  free (ptr->values);
  free (ptr);
}

/* ---- linux ---- */

#define T runtime_spec_schema_config_linux
static const struct ocispec_field linux_fields[] = {
  OCISPEC_F_A (T, "namespaces", OCISPEC_OBJECT_ARRAY, namespaces,
               &runtime_spec_schema_defs_linux_namespace_reference_desc),
  OCISPEC_F_A (T, "uidMappings", OCISPEC_OBJECT_ARRAY, uid_mappings,
               &runtime_spec_schema_defs_id_mapping_desc),
  OCISPEC_F_A (T, "gidMappings", OCISPEC_OBJECT_ARRAY, gid_mappings,
               &runtime_spec_schema_defs_id_mapping_desc),
  OCISPEC_F_M (T, "timeOffsets", time_offsets, &runtime_spec_schema_defs_linux_time_offsets_desc),
  OCISPEC_F_A (T, "devices", OCISPEC_OBJECT_ARRAY, devices, &runtime_spec_schema_defs_linux_device_desc),
  OCISPEC_F (T, "cgroupsPath", OCISPEC_STRING, cgroups_path),
  OCISPEC_F_O (T, "resources", resources, &runtime_spec_schema_config_linux_resources_desc),
  OCISPEC_F (T, "rootfsPropagation", OCISPEC_STRING, rootfs_propagation),
  OCISPEC_F_O (T, "seccomp", seccomp, &runtime_spec_schema_config_linux_seccomp_desc),
  OCISPEC_F (T, "sysctl", OCISPEC_MAP_STRING, sysctl),
  OCISPEC_F_A (T, "maskedPaths", OCISPEC_STRING_ARRAY, masked_paths, NULL),
  OCISPEC_F_A (T, "readonlyPaths", OCISPEC_STRING_ARRAY, readonly_paths, NULL),
  OCISPEC_F (T, "mountLabel", OCISPEC_STRING, mount_label),
  OCISPEC_F_O (T, "intelRdt", intel_rdt, &runtime_spec_schema_config_linux_intel_rdt_desc),
  OCISPEC_F_O (T, "personality", personality, &runtime_spec_schema_config_linux_personality_desc),
};
OCISPEC_TYPE (T, linux_fields);
OCISPEC_DEFINE_TOPLEVEL (T)
#undef T
