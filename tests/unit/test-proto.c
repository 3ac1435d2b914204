/* Agent protocol codec: framing and messages. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include "common/proto.h"
#include "common/json.h"
#include "common/utils.h"

static void
test_header_roundtrip (void **state)
{
  uint8_t hdr[KATA_FRAME_HDR_LEN];
  kata_frame_t f;
  kata_error_t *err = NULL;
  kata_frame_encode_header (hdr, KATA_FRAME_STREAM, KATA_FRAME_FLAG_EOF, 0x01020304, 77);
  assert_int_equal (hdr[0], 0);
  assert_int_equal (hdr[3], 77);
  assert_int_equal (hdr[4], KATA_FRAME_STREAM);
  assert_int_equal (kata_frame_decode_header (hdr, &f, &err), 0);
  assert_int_equal (f.type, KATA_FRAME_STREAM);
  assert_int_equal (f.flags, KATA_FRAME_FLAG_EOF);
  assert_int_equal (f.id, 0x01020304);
  assert_int_equal (f.len, 77);
}

static void
test_header_rejects (void **state)
{
  uint8_t hdr[KATA_FRAME_HDR_LEN];
  kata_frame_t f;
  kata_error_t *err = NULL;

  kata_frame_encode_header (hdr, 9, 0, 1, 10);
  assert_int_equal (kata_frame_decode_header (hdr, &f, &err), -1);
  assert_int_equal (err->status, KATA_EPROTO);
  assert_non_null (strstr (err->msg, "unknown frame type 9"));
  kata_error_cleanup (&err);

  kata_frame_encode_header (hdr, KATA_FRAME_REQ, 0, 1, KATA_FRAME_MAX_PAYLOAD + 1);
  assert_int_equal (kata_frame_decode_header (hdr, &f, &err), -1);
  assert_non_null (strstr (err->msg, "exceeds"));
  kata_error_cleanup (&err);

  kata_frame_encode_header (hdr, KATA_FRAME_REQ, 0, 1, 10);
  hdr[6] = 1;
  assert_int_equal (kata_frame_decode_header (hdr, &f, &err), -1);
  assert_non_null (strstr (err->msg, "reserved"));
  kata_error_cleanup (&err);

  kata_frame_encode_header (hdr, KATA_FRAME_RESP, 0, 1, 0);
  assert_int_equal (kata_frame_decode_header (hdr, &f, &err), -1);
  assert_non_null (strstr (err->msg, "empty control frame"));
  kata_error_cleanup (&err);

  /* an empty stream frame is valid (EOF) */
  kata_frame_encode_header (hdr, KATA_FRAME_STREAM, KATA_FRAME_FLAG_EOF, 5, 0);
  assert_int_equal (kata_frame_decode_header (hdr, &f, &err), 0);
}

static void
test_socket_roundtrip (void **state)
{
  int sv[2];
  kata_frame_t f = { 0 };
  kata_error_t *err = NULL;
  const char *payload = "{\"method\":\"Check\"}";
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal (kata_frame_write (sv[0], KATA_FRAME_REQ, 0, 42, payload, strlen (payload), &err), 0);
  assert_int_equal (kata_frame_write (sv[0], KATA_FRAME_STREAM, KATA_FRAME_FLAG_EOF, 9, NULL, 0, &err), 0);
  close (sv[0]);
  assert_int_equal (kata_frame_read (sv[1], &f, &err), 1);
  assert_int_equal (f.id, 42);
  assert_int_equal (f.type, KATA_FRAME_REQ);
  assert_string_equal (f.payload, payload);
  kata_frame_clear (&f);
  assert_int_equal (kata_frame_read (sv[1], &f, &err), 1);
  assert_int_equal (f.len, 0);
  assert_null (f.payload);
  assert_int_equal (f.flags, KATA_FRAME_FLAG_EOF);
  assert_int_equal (kata_frame_read (sv[1], &f, &err), 0); /* clean EOF */
  close (sv[1]);
}

static void
test_truncated (void **state)
{
  int sv[2];
  kata_frame_t f = { 0 };
  kata_error_t *err = NULL;
  uint8_t hdr[KATA_FRAME_HDR_LEN];
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  kata_frame_encode_header (hdr, KATA_FRAME_REQ, 0, 1, 100);
  assert_int_equal (write (sv[0], hdr, sizeof hdr), (ssize_t)sizeof hdr);
  assert_int_equal (write (sv[0], "{\"a\"", 4), 4);
  close (sv[0]);
  assert_int_equal (kata_frame_read (sv[1], &f, &err), -1);
  assert_int_equal (err->status, EPIPE);
  kata_error_cleanup (&err);
  close (sv[1]);

  /* truncated header */
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal (write (sv[0], hdr, 5), 5);
  close (sv[0]);
  assert_int_equal (kata_frame_read (sv[1], &f, &err), -1);
  kata_error_cleanup (&err);
  close (sv[1]);
}

static void
test_reader_incremental (void **state)
{
  kata_frame_reader_t r = { 0 };
  kata_frame_t f = { 0 };
  kata_error_t *err = NULL;
  size_t n1, n2, i;
  uint8_t *a = kata_frame_encode (KATA_FRAME_RESP, 0, 7, "{\"result\":{}}", 13, &n1);
  uint8_t *b = kata_frame_encode (KATA_FRAME_STREAM, 0, 13, "hello", 5, &n2);
  /* byte by byte */
  for (i = 0; i < n1 - 1; i++)
    {
      kata_frame_reader_feed (&r, a + i, 1);
      assert_int_equal (kata_frame_reader_next (&r, &f, &err), 0);
    }
  kata_frame_reader_feed (&r, a + n1 - 1, 1);
  kata_frame_reader_feed (&r, b, n2);
  assert_int_equal (kata_frame_reader_next (&r, &f, &err), 1);
  assert_int_equal (f.id, 7);
  assert_string_equal (f.payload, "{\"result\":{}}");
  kata_frame_clear (&f);
  assert_int_equal (kata_frame_reader_next (&r, &f, &err), 1);
  assert_int_equal (f.id, 13);
  assert_memory_equal (f.payload, "hello", 5);
  kata_frame_clear (&f);
  assert_int_equal (kata_frame_reader_next (&r, &f, &err), 0);
  /* oversized frame is an error, without waiting for its payload */
  {
    uint8_t hdr[KATA_FRAME_HDR_LEN];
    kata_frame_encode_header (hdr, KATA_FRAME_STREAM, 0, 1, 0xffffffffu);
    kata_frame_reader_feed (&r, hdr, sizeof hdr);
    assert_int_equal (kata_frame_reader_next (&r, &f, &err), -1);
    assert_int_equal (err->status, KATA_EPROTO);
    kata_error_cleanup (&err);
  }
  kata_frame_reader_free (&r);
  free (a);
  free (b);
}

static void
test_write_oversized (void **state)
{
  kata_error_t *err = NULL;
  char *big = xmalloc0 (KATA_FRAME_MAX_PAYLOAD + 1);
  assert_int_equal (kata_frame_write (-1, KATA_FRAME_STREAM, 0, 1, big, KATA_FRAME_MAX_PAYLOAD + 1, &err),
                    -1);
  assert_int_equal (err->status, KATA_EPROTO);
  kata_error_cleanup (&err);
  free (big);
}

static void
test_messages (void **state)
{
  kata_error_t *err = NULL;
  yajl_val root = NULL, params = NULL, result = NULL;
  const char *method = NULL;
  int code = 0;
  cleanup_free char *req = kata_msg_request ("CreateContainer", "{\"container_id\":\"c1\"}");
  cleanup_free char *req2 = kata_msg_request ("Check", NULL);
  cleanup_free char *ok = kata_msg_result ("{\"pid\":12}");
  cleanup_free char *bad = kata_msg_error (2, "exec: \"x\": No such file");

  assert_int_equal (kata_msg_parse_request (req, strlen (req), &root, &method, &params, &err), 0);
  assert_string_equal (method, "CreateContainer");
  assert_string_equal (kata_json_str (params, "container_id"), "c1");
  yajl_tree_free (root);

  assert_int_equal (kata_msg_parse_request (req2, strlen (req2), &root, &method, &params, &err), 0);
  assert_true (YAJL_IS_OBJECT (params));
  yajl_tree_free (root);

  assert_int_equal (kata_msg_parse_response (ok, strlen (ok), &root, &result, &code, &err), 0);
  assert_int_equal (kata_json_int (result, "pid", -1), 12);
  yajl_tree_free (root);

  assert_int_equal (kata_msg_parse_response (bad, strlen (bad), &root, &result, &code, &err), -1);
  assert_int_equal (code, 2);
  assert_int_equal (err->status, KATA_EAGENT);
  assert_string_equal (err->msg, "exec: \"x\": No such file");
  kata_error_cleanup (&err);
}

static void
test_bad_messages (void **state)
{
  kata_error_t *err = NULL;
  yajl_val root = NULL, params = NULL, result = NULL;
  const char *method = NULL;
  const char *cases[] = { "{not json", "[1,2]", "{\"params\":{}}", "{\"method\":\"X\",\"params\":[1]}" };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      assert_int_equal (kata_msg_parse_request (cases[i], strlen (cases[i]), &root, &method, &params, &err),
                        -1);
      assert_null (root);
      kata_error_cleanup (&err);
    }
  assert_int_equal (kata_msg_parse_request ("{\"method\":\"a\0b\"}", 16, &root, &method, &params, &err), -1);
  assert_non_null (strstr (err->msg, "NUL"));
  kata_error_cleanup (&err);
  assert_int_equal (kata_msg_parse_response ("{}", 2, &root, &result, NULL, &err), -1);
  assert_non_null (strstr (err->msg, "no result"));
  kata_error_cleanup (&err);
  {
    const char *vm = "{\"error\":{\"code\":-32002,\"message\":\"the VM died\"}}";
    assert_int_equal (kata_msg_parse_response (vm, strlen (vm), &root, &result, NULL, &err), -1);
    assert_int_equal (err->status, KATA_EVMDEAD);
    kata_error_cleanup (&err);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_header_roundtrip),   cmocka_unit_test (test_header_rejects),
    cmocka_unit_test (test_socket_roundtrip),   cmocka_unit_test (test_truncated),
    cmocka_unit_test (test_reader_incremental), cmocka_unit_test (test_write_oversized),
    cmocka_unit_test (test_messages),           cmocka_unit_test (test_bad_messages),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
