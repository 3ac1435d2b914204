/* Internal: a table-driven engine.  Each spec type is described once by a
 * table of fields; parse, generate and free walk the table. */
#ifndef OCISPEC_INTERNAL_H
#define OCISPEC_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>
#include "oci_runtime_spec.h"

enum ocispec_kind
{
  OCISPEC_STRING,
  OCISPEC_BOOL,
  OCISPEC_INT32,
  OCISPEC_UINT16,
  OCISPEC_UINT32,
  OCISPEC_INT64,
  OCISPEC_UINT64,
  OCISPEC_STRING_ARRAY, /* char **, _len */
  OCISPEC_UINT32_ARRAY, /* uint32_t *, _len */
  OCISPEC_OBJECT,       /* T * */
  OCISPEC_OBJECT_ARRAY, /* T **, _len */
  OCISPEC_MAP_STRING,   /* json_map_string_string * */
  OCISPEC_MAP_OBJECT,   /* struct ocispec_map * with values of type sub */
};

struct ocispec_type;

struct ocispec_field
{
  const char *key;
  enum ocispec_kind kind;
  size_t off;
  size_t aux; /* offset of x_present (scalars) or x_len (arrays) */
  const struct ocispec_type *sub;
  bool required;
};

struct ocispec_type
{
  const char *name;
  size_t size;
  size_t residual_off;
  const struct ocispec_field *fields;
  size_t nfields;
};

/* Layout shared by json_map_string_string and the object maps. */
struct ocispec_map
{
  char **keys;
  void **values;
  size_t len;
};

/* A JSON path, kept on the stack and rendered only when an error occurs. */
struct ocispec_path
{
  const struct ocispec_path *parent;
  const char *key; /* NULL: index */
  size_t index;
};

#define OCISPEC_F(T, k, kind, m)                                                                             \
  {                                                                                                          \
    k, kind, offsetof (T, m), 0, NULL, false                                                                 \
  }
#define OCISPEC_F_REQ(T, k, kind, m)                                                                         \
  {                                                                                                          \
    k, kind, offsetof (T, m), 0, NULL, true                                                                  \
  }
#define OCISPEC_F_P(T, k, kind, m)                                                                           \
  {                                                                                                          \
    k, kind, offsetof (T, m), offsetof (T, m##_present), NULL, false                                         \
  }
#define OCISPEC_F_A(T, k, kind, m, sub)                                                                      \
  {                                                                                                          \
    k, kind, offsetof (T, m), offsetof (T, m##_len), sub, false                                              \
  }
#define OCISPEC_F_O(T, k, m, sub)                                                                            \
  {                                                                                                          \
    k, OCISPEC_OBJECT, offsetof (T, m), 0, sub, false                                                        \
  }
#define OCISPEC_F_M(T, k, m, sub)                                                                            \
  {                                                                                                          \
    k, OCISPEC_MAP_OBJECT, offsetof (T, m), 0, sub, false                                                    \
  }

#define OCISPEC_TYPE(T, tbl) OCISPEC_TYPE_ (T, tbl)
#define OCISPEC_TYPE_(T, tbl)                                                                                \
  const struct ocispec_type T##_desc                                                                         \
      = { #T, sizeof (T), offsetof (T, _residual), tbl, sizeof (tbl) / sizeof (tbl[0]) }

#define OCISPEC_DEFINE_FREE(T) OCISPEC_DEFINE_FREE_ (T)
#define OCISPEC_DEFINE_FREE_(T)                                                                              \
  void free_##T (T *ptr) { ocispec_free (&T##_desc, ptr); }

#define OCISPEC_DEFINE_TOPLEVEL(T) OCISPEC_DEFINE_TOPLEVEL_ (T)
#define OCISPEC_DEFINE_TOPLEVEL_(T)                                                                          \
  T *T##_parse_file (const char *filename, const struct parser_context *ctx, parser_error *err)              \
  {                                                                                                          \
    return ocispec_parse_file (&T##_desc, filename, ctx, err);                                               \
  }                                                                                                          \
  T *T##_parse_data (const char *jsondata, const struct parser_context *ctx, parser_error *err)              \
  {                                                                                                          \
    return ocispec_parse_data (&T##_desc, jsondata, ctx, err);                                               \
  }                                                                                                          \
  T *make_##T (yajl_val tree, const struct parser_context *ctx, parser_error *err)                           \
  {                                                                                                          \
    return ocispec_make (&T##_desc, tree, ctx, err);                                                         \
  }                                                                                                          \
  char *T##_generate_json (const T *ptr, const struct parser_context *ctx, parser_error *err)                \
  {                                                                                                          \
    return ocispec_generate (&T##_desc, ptr, ctx, err);                                                      \
  }                                                                                                          \
  OCISPEC_DEFINE_FREE (T)

/* Type descriptors (defined in oci_config.c, oci_linux.c, oci_state.c). */
#define OCISPEC_EXTERN_DESC(T) extern const struct ocispec_type T##_desc
OCISPEC_EXTERN_DESC (runtime_spec_schema_defs_id_mapping);
OCISPEC_EXTERN_DESC (runtime_spec_schema_defs_mount);
OCISPEC_EXTERN_DESC (runtime_spec_schema_config_linux);

/* ocispec_json.c */
void ocispec_set_error (parser_error *err, const struct ocispec_path *path, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
char *ocispec_path_render (const struct ocispec_path *path);
yajl_gen ocispec_gen_new (const struct parser_context *ctx);
char *ocispec_gen_finish (yajl_gen g, parser_error *err);
int ocispec_gen_tree (yajl_gen g, yajl_val v, const struct ocispec_path *path, parser_error *err);
int ocispec_gen_status (yajl_gen_status st, const struct ocispec_path *path, parser_error *err);

/* ocispec_engine.c */
void *ocispec_make (const struct ocispec_type *t, yajl_val tree, const struct parser_context *ctx,
                    parser_error *err);
void *ocispec_parse_data (const struct ocispec_type *t, const char *data, const struct parser_context *ctx,
                          parser_error *err);
void *ocispec_parse_file (const struct ocispec_type *t, const char *filename,
                          const struct parser_context *ctx, parser_error *err);
char *ocispec_generate (const struct ocispec_type *t, const void *ptr, const struct parser_context *ctx,
                        parser_error *err);
void ocispec_free (const struct ocispec_type *t, void *ptr);

#endif
