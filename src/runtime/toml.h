/* A strict parser for the subset of TOML 1.0 that configuration.toml uses.

   Supported: [tables], [dotted.tables], bare/"quoted"/'literal' keys, dotted
   keys (a.b = 1), basic and literal strings (also the multi-line forms),
   integers (decimal with _ separators and sign, 0x/0o/0b), floats (incl. inf
   and nan), booleans, arrays (nested, multi-line, trailing comma, comments),
   comments.  Not supported (an error): inline tables, arrays of tables,
   dates and times.

   Every error is KATA_EBADCONFIG with the message "file:line:col: what".
   Lines and columns start at 1; columns count bytes.  */
#ifndef KATA_RUNTIME_TOML_H
#define KATA_RUNTIME_TOML_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"

/* Limits, so hostile input cannot exhaust the stack or the CPU. */
#define KATA_TOML_MAX_SIZE (16 * 1024 * 1024) /* bytes of input */
#define KATA_TOML_MAX_DEPTH 64                /* nesting of arrays and tables */
#define KATA_TOML_MAX_KEYS 4096               /* entries in one table */

typedef enum
{
  TOML_TABLE,
  TOML_ARRAY,
  TOML_STRING,
  TOML_INT,
  TOML_FLOAT,
  TOML_BOOL,
} toml_kind_t;

typedef struct toml_value_s toml_value_t;

typedef struct toml_entry_s
{
  char *key;     /* NUL-terminated; keys with a NUL are rejected */
  int line, col; /* where the key was written (its last part for dotted keys / headers) */
  toml_value_t *value;
} toml_entry_t;

struct toml_value_s
{
  toml_kind_t kind;
  int line, col; /* where the value starts; for a table, its header or first key */
  union
  {
    struct
    {
      char *s; /* NUL-terminated; "\u0000" is rejected, so len == strlen (s) */
      size_t len;
    } str;
    int64_t i;
    double f;
    bool b;
    struct
    {
      toml_value_t **items;
      size_t len;
    } arr;
    struct
    {
      toml_entry_t *entries; /* in the order they were defined */
      size_t len;
      unsigned char how; /* private: how the table was defined */
    } tab;
  } u;
};

/* Parses DATA (LEN bytes, need not be NUL-terminated).  FILENAME names the
   input in error messages (NULL: "<input>").  On success *OUT is the root
   table, to be released with kata_toml_free.  */
int kata_toml_parse (const char *data, size_t len, const char *filename, toml_value_t **out,
                     kata_error_t **err);
/* Reads and parses a file. */
int kata_toml_parse_file (const char *path, toml_value_t **out, kata_error_t **err);
void kata_toml_free (toml_value_t *v);
static inline void
kata_toml_cleanup (toml_value_t **v)
{
  kata_toml_free (*v);
  *v = NULL;
}
#define cleanup_toml __attribute__ ((cleanup (kata_toml_cleanup)))

/* Looks up a dotted path of bare keys ("hypervisor.qemu.path") from TABLE.
   NULL when absent, or when TABLE or an intermediate value is not a table.  */
toml_value_t *kata_toml_get (const toml_value_t *table, const char *path);
/* Looks up one key, taken literally (it may contain dots). */
toml_value_t *kata_toml_get_key (const toml_value_t *table, const char *key);
/* The entry for KEY, to know where the key was written. */
const toml_entry_t *kata_toml_get_entry (const toml_value_t *table, const char *key);

/* "table", "array", "string", "integer", "float", "boolean". */
const char *kata_toml_kind_name (toml_kind_t kind);

#endif
