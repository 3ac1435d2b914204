/* libFuzzer target: process.json (exec --process), parsed as the runtime does
   (runtime_spec_schema_config_schema_process_parse_data), then generated and
   re-parsed: whatever parses must survive the round trip to the agent. */
#include "config.h"
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oci_runtime_spec.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *json = malloc (size + 1);
  parser_error err = NULL;
  runtime_spec_schema_config_schema_process *p, *q;
  char *g;

  if (json == NULL)
    return 0;
  memcpy (json, data, size);
  json[size] = '\0';
  p = runtime_spec_schema_config_schema_process_parse_data (json, NULL, &err);
  if (p == NULL)
    {
      if (err == NULL)
        abort (); /* a failure always says why */
      free (err);
      free (json);
      return 0;
    }
  g = runtime_spec_schema_config_schema_process_generate_json (
      p, &(struct parser_context){ .options = OPT_GEN_SIMPLIFY }, &err);
  if (g == NULL)
    {
      fprintf (stderr, "generate failed: %s\n", err ? err : "?");
      abort ();
    }
  q = runtime_spec_schema_config_schema_process_parse_data (g, NULL, &err);
  if (q == NULL)
    {
      fprintf (stderr, "re-parse failed: %s\n%s\n", err ? err : "?", g);
      abort ();
    }
  free_runtime_spec_schema_config_schema_process (q);
  free_runtime_spec_schema_config_schema_process (p);
  free (g);
  free (err);
  free (json);
  return 0;
}
