/* Hostile frames: what a misbehaving agent (or monitor) sends to the runtime's client,
   and what a hostile host sends to the decoder both sides share.  Oversized lengths,
   truncation, bad JSON, unknown types and methods, huge ids: every case must end in a
   clean error (or be skipped), never a crash, a hang or a huge allocation. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common/error.h"
#include "common/json.h"
#include "common/proto.h"
#include "common/utils.h"
#include "runtime/client.h"

static uint8_t *
frame (uint8_t type, uint32_t id, const char *payload, size_t *n)
{
  return kata_frame_encode (type, 0, id, payload, payload ? strlen (payload) : 0, n);
}

static void
test_reader_oversized_length (void **state)
{
  kata_frame_reader_t r = { 0 };
  kata_frame_t f;
  kata_error_t *err = NULL;
  uint8_t hdr[KATA_FRAME_HDR_LEN];
  kata_frame_encode_header (hdr, KATA_FRAME_RESP, 0, 1, 0xffffffffu);
  kata_frame_reader_feed (&r, hdr, sizeof hdr);
  assert_int_equal (kata_frame_reader_next (&r, &f, &err), -1); /* refused at once, no waiting */
  assert_non_null (err);
  kata_error_free (err);
  err = NULL;
  kata_frame_reader_free (&r);
  kata_frame_encode_header (hdr, KATA_FRAME_REQ, 0, 1, KATA_FRAME_MAX_PAYLOAD + 1);
  kata_frame_reader_feed (&r, hdr, sizeof hdr);
  assert_int_equal (kata_frame_reader_next (&r, &f, &err), -1);
  kata_error_free (err);
  kata_frame_reader_free (&r);
}

static void
test_reader_bad_header_fields (void **state)
{
  static const uint8_t bad[][KATA_FRAME_HDR_LEN] = {
    { 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1 },   /* type 0 */
    { 0, 0, 0, 2, 9, 0, 0, 0, 0, 0, 0, 1 },   /* type 9 */
    { 0, 0, 0, 2, 255, 0, 0, 0, 0, 0, 0, 1 }, /* type 255 */
    { 0, 0, 0, 2, 1, 0, 1, 0, 0, 0, 0, 1 },   /* reserved byte set */
    { 0, 0, 0, 2, 1, 0, 0, 255, 0, 0, 0, 1 }, /* reserved byte set */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      kata_frame_reader_t r = { 0 };
      kata_frame_t f;
      kata_error_t *err = NULL;
      kata_frame_reader_feed (&r, bad[i], KATA_FRAME_HDR_LEN);
      kata_frame_reader_feed (&r, "{}", 2);
      assert_int_equal (kata_frame_reader_next (&r, &f, &err), -1);
      assert_non_null (err);
      kata_error_free (err);
      kata_frame_reader_free (&r);
    }
}

static void
test_reader_truncated_and_bytewise (void **state)
{
  size_t n1, n2;
  uint8_t *a = frame (KATA_FRAME_REQ, 0xffffffffu, "{\"method\":\"Check\"}", &n1); /* huge id */
  uint8_t *b = frame (KATA_FRAME_STREAM, 4, NULL, &n2);
  kata_frame_reader_t r = { 0 };
  kata_frame_t f;
  kata_error_t *err = NULL;
  int got = 0;

  /* every prefix of a frame: "need more", never a frame, never an error */
  for (size_t i = 0; i < n1; i++)
    {
      kata_frame_reader_feed (&r, a + i, 1);
      if (i + 1 < n1)
        assert_int_equal (kata_frame_reader_next (&r, &f, &err), 0);
    }
  assert_int_equal (kata_frame_reader_next (&r, &f, &err), 1);
  assert_int_equal (f.id, 0xffffffffu);
  assert_string_equal (f.payload, "{\"method\":\"Check\"}");
  kata_frame_clear (&f);
  kata_frame_reader_feed (&r, b, n2);
  kata_frame_reader_feed (&r, a, n1 - 1);
  while (kata_frame_reader_next (&r, &f, &err) == 1)
    {
      got++;
      kata_frame_clear (&f);
    }
  assert_int_equal (got, 1);
  assert_null (err);
  kata_frame_reader_free (&r);
  free (a);
  free (b);
}

static void
test_frame_read_truncated (void **state)
{
  int sv[2];
  size_t n;
  uint8_t *a = frame (KATA_FRAME_RESP, 1, "{\"result\":{}}", &n);
  kata_frame_t f;
  kata_error_t *err = NULL;

  for (size_t cut = 1; cut < n; cut++)
    {
      assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
      assert_int_equal (write (sv[1], a, cut), (ssize_t)cut);
      close (sv[1]);
      assert_int_equal (kata_frame_read (sv[0], &f, &err), -1);
      assert_non_null (err);
      kata_error_free (err);
      err = NULL;
      close (sv[0]);
    }
  free (a);
}

static void
test_parse_request_hostile (void **state)
{
  static const char *const bad[] = {
    "",
    "{",
    "[]",
    "\"Check\"",
    "{\"method\":1}",
    "{\"method\":null}",
    "{\"method\":[\"Check\"]}",
    "{\"params\":{}}",
    "{\"method\":\"Check\",\"params\":[]}",
    "{\"method\":\"Check\",\"params\":\"x\"}",
    "{\"method\":\"Check\"} trailing",
    "{\"method\":\"Ch\\u0000eck\"}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      yajl_val root = NULL, params = NULL;
      const char *method = NULL;
      kata_error_t *err = NULL;
      int r = kata_msg_parse_request (bad[i], strlen (bad[i]), &root, &method, &params, &err);
      if (r == 0) /* accepted: must then be a well-formed request */
        {
          assert_non_null (method);
          yajl_tree_free (root);
          fail_msg ("accepted hostile request %s", bad[i]);
        }
      assert_non_null (err);
      assert_null (root);
      kata_error_free (err);
    }
  /* deep nesting and an embedded NUL (len covers it) */
  {
    size_t depth = 100000;
    char *deep = xmalloc (depth * 2 + 32);
    size_t k = 0;
    k += sprintf (deep, "{\"method\":\"Check\",\"params\":{\"a\":");
    for (size_t i = 0; i < depth; i++)
      deep[k++] = '[';
    deep[k] = '\0';
    yajl_val root = NULL, params = NULL;
    const char *method = NULL;
    kata_error_t *err = NULL;
    assert_int_equal (kata_msg_parse_request (deep, k, &root, &method, &params, &err), -1);
    kata_error_free (err);
    free (deep);
    /* an escaped backslash followed by u0000 is an ordinary string */
    const char lit[] = "{\"method\":\"Check\",\"params\":{\"p\":\"a\\\\u0000\"}}";
    err = NULL;
    assert_int_equal (kata_msg_parse_request (lit, sizeof lit - 1, &root, &method, &params, &err), 0);
    assert_string_equal (method, "Check");
    yajl_tree_free (root);
    const char nul[] = "{\"method\":\"Check\"}\0{\"method\":\"Destroy\"}";
    err = NULL;
    assert_int_equal (kata_msg_parse_request (nul, sizeof nul - 1, &root, &method, &params, &err), -1);
    kata_error_free (err);
  }
}

static void
test_parse_response_hostile (void **state)
{
  static const char *const bad[] = {
    "",
    "null",
    "[]",
    "{}",
    "{\"result\"",
    "{\"error\":\"boom\"}",
    "{\"error\":{\"code\":\"x\"}}",
    "{\"error\":{\"code\":1e300,\"message\":7}}",
    "{\"error\":{\"code\":-9223372036854775808}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      yajl_val root = NULL, result = NULL;
      kata_error_t *err = NULL;
      int code = 0;
      assert_int_equal (kata_msg_parse_response (bad[i], strlen (bad[i]), &root, &result, &code, &err), -1);
      assert_non_null (err);
      assert_non_null (err->msg);
      assert_null (root);
      kata_error_free (err);
    }
}

/* ---- the client against a fake peer ---- */

static int
call_with (const uint8_t *data, size_t n, int timeout_ms, kata_error_t **err)
{
  int sv[2];
  kata_client_t *c;
  yajl_val root = NULL, result = NULL;
  int r;
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  if (n)
    assert_int_equal (write (sv[1], data, n), (ssize_t)n);
  if (timeout_ms <= 0)
    shutdown (sv[1], SHUT_WR);
  c = kata_client_from_fd (sv[0], "sb");
  r = kata_client_call (c, "Check", NULL, &root, &result, timeout_ms, err);
  if (r == 0)
    {
      assert_non_null (result);
      yajl_tree_free (root);
    }
  kata_client_close (c); /* closes sv[0] */
  close (sv[1]);
  return r;
}

static void
test_client_hostile_peer (void **state)
{
  kata_error_t *err = NULL;
  size_t n1, n2, n3;
  uint8_t *other = frame (KATA_FRAME_RESP, 99, "{\"result\":{\"x\":1}}", &n1);
  uint8_t *ok = frame (KATA_FRAME_RESP, 1, "{\"result\":{\"ok\":true}}", &n2);
  uint8_t *buf;

  /* a response for another id and a stream frame are skipped */
  buf = xmalloc (n1 + n2);
  memcpy (buf, other, n1);
  memcpy (buf + n1, ok, n2);
  assert_int_equal (call_with (buf, n1 + n2, 0, &err), 0);
  free (buf);

  /* only a foreign id, then EOF: the VM is reported dead, no hang */
  assert_int_equal (call_with (other, n1, 0, &err), -1);
  assert_int_equal (err->status, KATA_EVMDEAD);
  kata_error_free (err);
  err = NULL;

  /* oversized length: refused as a lost connection */
  {
    uint8_t hdr[KATA_FRAME_HDR_LEN];
    kata_frame_encode_header (hdr, KATA_FRAME_RESP, 0, 1, 0xfffffff0u);
    assert_int_equal (call_with (hdr, sizeof hdr, 0, &err), -1);
    assert_int_equal (err->status, KATA_EVMDEAD);
    kata_error_free (err);
    err = NULL;
  }
  /* truncated response */
  assert_int_equal (call_with (ok, n2 - 3, 0, &err), -1);
  kata_error_free (err);
  err = NULL;
  /* bad JSON, and an error with a hostile message */
  free (other);
  other = frame (KATA_FRAME_RESP, 1, "{\"result\":", &n3);
  assert_int_equal (call_with (other, n3, 0, &err), -1);
  assert_int_equal (err->status, KATA_EPROTO == err->status ? KATA_EPROTO : err->status);
  assert_non_null (err->msg);
  kata_error_free (err);
  err = NULL;
  free (other);
  other = frame (KATA_FRAME_RESP, 1, "{\"error\":{\"code\":-32601,\"message\":\"unknown method\"}}", &n3);
  assert_int_equal (call_with (other, n3, 0, &err), -1);
  assert_int_equal (err->status, KATA_EAGENT);
  assert_non_null (strstr (err->msg, "unknown method"));
  kata_error_free (err);
  err = NULL;
  /* a vm-dead event ends the call */
  free (other);
  other = frame (KATA_FRAME_EVENT, 0, "{\"event\":\"vm-dead\",\"message\":\"gone\"}", &n3);
  assert_int_equal (call_with (other, n3, 0, &err), -1);
  assert_int_equal (err->status, KATA_EVMDEAD);
  kata_error_free (err);
  err = NULL;
  /* a silent peer: the deadline holds */
  assert_int_equal (call_with (NULL, 0, 200, &err), -1);
  assert_int_equal (err->status, KATA_ETIMEOUT);
  kata_error_free (err);
  free (other);
  free (ok);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_reader_oversized_length),       cmocka_unit_test (test_reader_bad_header_fields),
    cmocka_unit_test (test_reader_truncated_and_bytewise), cmocka_unit_test (test_frame_read_truncated),
    cmocka_unit_test (test_parse_request_hostile),         cmocka_unit_test (test_parse_response_hostile),
    cmocka_unit_test (test_client_hostile_peer),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
