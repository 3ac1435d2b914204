/* libFuzzer target: the frame decoder and message parsers (both sides use them). */
#include "config.h"
#include <stdint.h>
#include <stddef.h>
#include "common/proto.h"
#include "common/utils.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  kata_frame_reader_t r = { 0 };
  kata_frame_t f;
  kata_error_t *err = NULL;
  int rc;
  kata_frame_reader_feed (&r, data, size);
  while ((rc = kata_frame_reader_next (&r, &f, &err)) == 1)
    {
      yajl_val root = NULL, params = NULL, result = NULL;
      const char *method;
      if (f.type == KATA_FRAME_REQ && kata_msg_parse_request (f.payload, f.len, &root, &method, &params, &err) == 0)
        yajl_tree_free (root);
      else if (f.type == KATA_FRAME_RESP
               && kata_msg_parse_response (f.payload, f.len, &root, &result, NULL, &err) == 0)
        yajl_tree_free (root);
      kata_error_cleanup (&err);
      kata_frame_clear (&f);
    }
  kata_error_cleanup (&err);
  kata_frame_reader_free (&r);
  return 0;
}
