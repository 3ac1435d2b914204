/* state.json: the output of `state` and the stdin of hooks. */
#include "config.h"
#include "ocispec_internal.h"

#define T runtime_spec_schema_state_schema
static const struct ocispec_field state_fields[] = {
  OCISPEC_F (T, "ociVersion", OCISPEC_STRING, oci_version),
  OCISPEC_F (T, "id", OCISPEC_STRING, id),
  OCISPEC_F (T, "status", OCISPEC_STRING, status),
  OCISPEC_F_P (T, "pid", OCISPEC_INT32, pid),
  OCISPEC_F (T, "bundle", OCISPEC_STRING, bundle),
  OCISPEC_F (T, "annotations", OCISPEC_MAP_STRING, annotations),
};
static OCISPEC_TYPE (T, state_fields);
OCISPEC_DEFINE_TOPLEVEL (T)
#undef T
