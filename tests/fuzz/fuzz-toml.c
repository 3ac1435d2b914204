/* libFuzzer target for the TOML parser and the configuration loader.
   Build: clang -fsanitize=fuzzer,address -I src -I . src/runtime/toml.c
          src/runtime/config.c src/common/error.c src/common/utils.c tests/fuzz/fuzz-toml.c
   Run:   ./fuzz-toml tests/fuzz/corpus/toml  */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "common/error.h"
#include "common/utils.h"
#include "runtime/config.h"
#include "runtime/toml.h"

/* Walks the tree, so every node is touched (and checked by ASan). */
static size_t
walk (const toml_value_t *v, int depth)
{
  size_t n = 1, i;

  if (depth > 4 * KATA_TOML_MAX_DEPTH)
    __builtin_trap (); /* the depth limits failed */
  if (v->line < 1 || v->col < 1)
    __builtin_trap ();
  switch (v->kind)
    {
    case TOML_STRING:
      if (strlen (v->u.str.s) != v->u.str.len)
        __builtin_trap ();
      break;
    case TOML_ARRAY:
      for (i = 0; i < v->u.arr.len; i++)
        n += walk (v->u.arr.items[i], depth + 1);
      break;
    case TOML_TABLE:
      for (i = 0; i < v->u.tab.len; i++)
        {
          if (kata_toml_get_key (v, v->u.tab.entries[i].key) == NULL)
            __builtin_trap ();
          n += walk (v->u.tab.entries[i].value, depth + 1);
        }
      break;
    default:
      break;
    }
  return n;
}

static void
ignore (const char *msg)
{
  (void)msg;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  toml_value_t *root = NULL;
  kata_config_t *c = NULL;
  kata_error_t *err = NULL;

  if (kata_toml_parse ((const char *)data, size, "fuzz.toml", &root, &err) == 0)
    {
      walk (root, 0);
      kata_toml_get (root, "hypervisor.qemu.path");
      kata_toml_free (root);
    }
  else
    {
      if (err == NULL || err->status != KATA_EBADCONFIG || strncmp (err->msg, "fuzz.toml", 9) != 0)
        __builtin_trap ();
      kata_error_free (err);
    }
  err = NULL;
  if (kata_config_load_data ((const char *)data, size, "fuzz.toml", &c, ignore, &err) == 0)
    kata_config_free (c);
  else
    kata_error_free (err);
  return 0;
}
