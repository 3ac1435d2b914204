/* libFuzzer target: libocispec parsers and generators.  Whatever parses must
 * generate, and generating what was re-parsed must give the same text. */
#include "config.h"
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oci_runtime_spec.h"

#define ROUND_TRIP(T, json)                                                                                  \
  do                                                                                                         \
    {                                                                                                        \
      parser_error err = NULL;                                                                               \
      T *a = T##_parse_data (json, NULL, &err);                                                              \
      if (a == NULL)                                                                                         \
        {                                                                                                    \
          if (err == NULL)                                                                                   \
            abort (); /* every failure has a message */                                                      \
          free (err);                                                                                        \
          break;                                                                                             \
        }                                                                                                    \
      char *g1 = T##_generate_json (a, NULL, &err);                                                          \
      if (g1 == NULL)                                                                                        \
        {                                                                                                    \
          fprintf (stderr, "generate failed: %s\n", err);                                                    \
          abort ();                                                                                          \
        }                                                                                                    \
      T *b = T##_parse_data (g1, NULL, &err);                                                                \
      if (b == NULL)                                                                                         \
        {                                                                                                    \
          fprintf (stderr, "re-parse failed: %s\n%s\n", err, g1);                                            \
          abort ();                                                                                          \
        }                                                                                                    \
      char *g2 = T##_generate_json (b, NULL, &err);                                                          \
      if (g2 == NULL || strcmp (g1, g2) != 0)                                                                \
        {                                                                                                    \
          fprintf (stderr, "unstable round trip:\n%s\n---\n%s\n", g1, g2 ? g2 : "(null)");                   \
          abort ();                                                                                          \
        }                                                                                                    \
      free (g1);                                                                                             \
      free (g2);                                                                                             \
      free_##T (a);                                                                                          \
      free_##T (b);                                                                                          \
    }                                                                                                        \
  while (0)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *json = malloc (size + 1);
  parser_error err = NULL;
  yajl_val tree;

  if (json == NULL)
    return 0;
  memcpy (json, data, size);
  json[size] = '\0';

  ROUND_TRIP (runtime_spec_schema_config_schema, json);
  ROUND_TRIP (runtime_spec_schema_config_schema_process, json);
  ROUND_TRIP (runtime_spec_schema_config_linux_resources, json);
  ROUND_TRIP (runtime_spec_schema_state_schema, json);

  /* The raw bytes, embedded NULs included, through the tree API. */
  tree = ocispec_json_parse (json, size, &err);
  if (tree != NULL)
    {
      struct parser_context strict = { OPT_PARSE_STRICT | OPT_GEN_SIMPLIFY, NULL };
      runtime_spec_schema_config_schema *c = make_runtime_spec_schema_config_schema (tree, &strict, &err);
      if (c != NULL)
        {
          char *g = runtime_spec_schema_config_schema_generate_json (c, &strict, &err);
          free (g);
          free_runtime_spec_schema_config_schema (c);
        }
      char *t = ocispec_yajl_to_json (tree, NULL, &err);
      free (t);
      yajl_tree_free (tree);
    }
  free (err);
  free (json);
  return 0;
}
