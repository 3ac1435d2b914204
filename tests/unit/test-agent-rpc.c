/* kata-agent: request handling of bad and simple requests (no VM needed). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "agent/agent.h"
#include "common/json.h"
#include "common/utils.h"

/* Takes the next frame queued for the host. */
static int
next_frame (agent_t *a, kata_frame_t *f)
{
  kata_frame_reader_t r = { 0 };
  int ret;
  kata_frame_reader_feed (&r, a->outq.data + a->outq.off, a->outq.len);
  ret = kata_frame_reader_next (&r, f, NULL);
  if (ret == 1)
    kata_buf_consume (&a->outq, KATA_FRAME_HDR_LEN + f->len);
  kata_frame_reader_free (&r);
  return ret;
}

static void
expect_error (agent_t *a, uint32_t id, const char *payload, int code)
{
  kata_frame_t f = { 0 };
  yajl_val root = NULL, res = NULL;
  int rc = 0;
  agent_rpc_dispatch (a, id, payload, strlen (payload));
  assert_int_equal (next_frame (a, &f), 1);
  assert_int_equal (f.type, KATA_FRAME_RESP);
  assert_int_equal (f.id, id);
  assert_int_equal (kata_msg_parse_response (f.payload, f.len, &root, &res, &rc, NULL), -1);
  assert_int_equal (rc, code);
  kata_frame_clear (&f);
}

static char *
expect_result (agent_t *a, uint32_t id, const char *payload)
{
  kata_frame_t f = { 0 };
  yajl_val root = NULL, res = NULL;
  char *s;
  agent_rpc_dispatch (a, id, payload, strlen (payload));
  assert_int_equal (next_frame (a, &f), 1);
  assert_int_equal (f.id, id);
  assert_int_equal (kata_msg_parse_response (f.payload, f.len, &root, &res, NULL, NULL), 0);
  s = kata_json_dump (res);
  yajl_tree_free (root);
  kata_frame_clear (&f);
  return s;
}

static void
test_bad_requests (void **state)
{
  agent_t a;
  (void)state;
  memset (&a, 0, sizeof a);
  a.epfd = a.chan_fd = -1;
  expect_error (&a, 1, "{\"method\":\"Nope\",\"params\":{}}", KATA_PROTO_ENOMETHOD);
  expect_error (&a, 2, "not json", KATA_PROTO_EPARSE);
  expect_error (&a, 3, "[1,2]", KATA_PROTO_EINVALID);
  expect_error (&a, 4, "{\"params\":{}}", KATA_PROTO_EINVALID);
  expect_error (&a, 5, "{\"method\":\"Check\",\"params\":[]}", KATA_PROTO_EINVALID);
  expect_error (&a, 6, "{\"method\":\"Hello\",\"params\":{\"version\":2}}", KATA_PROTO_EVERSION);
  expect_error (&a, 7, "{\"method\":\"Hello\"}", KATA_PROTO_EVERSION);
  expect_error (&a, 8, "{\"method\":\"CreateContainer\",\"params\":{\"container_id\":\"../x\"}}",
                KATA_PROTO_EPARAMS);
  expect_error (&a, 9, "{\"method\":\"CreateContainer\",\"params\":{\"container_id\":\"c1\"}}",
                KATA_PROTO_EPARAMS);
  expect_error (
      &a, 10, "{\"method\":\"CreateContainer\",\"params\":{\"container_id\":\"c1\",\"oci\":{\"process\":7}}}",
      KATA_PROTO_EPARAMS);
  expect_error (&a, 11, "{\"method\":\"StartContainer\",\"params\":{\"container_id\":\"nope\"}}", ENOENT);
  expect_error (
      &a, 12, "{\"method\":\"WaitProcess\",\"params\":{\"container_id\":\"nope\",\"exec_id\":\"\"}}", ENOENT);
  expect_error (&a, 13, "{\"method\":\"SignalProcess\",\"params\":{\"container_id\":\"nope\",\"signal\":9}}",
                ENOENT);
  expect_error (&a, 14,
                "{\"method\":\"SignalProcess\",\"params\":{\"container_id\":\"nope\",\"signal\":999}}",
                KATA_PROTO_EPARAMS);
  expect_error (&a, 15, "{\"method\":\"RemoveContainer\",\"params\":{}}", ENOENT);
  expect_error (&a, 16, "{\"method\":\"ExecProcess\",\"params\":{\"container_id\":\"nope\"}}", ENOENT);
  expect_error (&a, 17, "{\"method\":\"SetIdentity\",\"params\":{\"random_seed\":\"zz\"}}",
                KATA_PROTO_EPARAMS);
  assert_int_equal (a.outq.len, 0);
  kata_buf_clear (&a.outq);
}

static void
test_simple (void **state)
{
  agent_t a;
  char *s;
  (void)state;
  memset (&a, 0, sizeof a);
  a.epfd = a.chan_fd = -1;
  s = expect_result (&a, 1, "{\"method\":\"Hello\",\"params\":{\"version\":1}}");
  assert_string_equal (s, "{\"version\":1,\"agent\":\"" KATA_AGENT_VERSION "\"}");
  free (s);
  s = expect_result (&a, 2, "{\"method\":\"Check\"}");
  assert_string_equal (s, "{}");
  free (s);
  s = expect_result (&a, 3, "{\"method\":\"GetGuestDetails\",\"params\":{}}");
  assert_non_null (strstr (s, "\"kernel\":"));
  assert_non_null (strstr (s, "\"vcpus\":"));
  free (s);
  assert_true (agent_rpc_known ("UpdateRoutes"));
  assert_false (agent_rpc_known ("MonitorAttach"));
  kata_buf_clear (&a.outq);
}

static void
test_frames_before_hello (void **state)
{
  /* output queued for an old host is dropped when the next host's first request arrives */
  agent_t a;
  kata_frame_t f = { 0 };
  const char *hello = "{\"method\":\"Hello\",\"params\":{\"version\":1}}";
  (void)state;
  memset (&a, 0, sizeof a);
  a.epfd = a.chan_fd = -1;
  a.await_hello = true;
  agent_send_frame (&a, KATA_FRAME_STREAM, 0, 5, "stale", 5);
  f.type = KATA_FRAME_REQ;
  f.id = 1;
  f.payload = (char *)hello;
  f.len = strlen (hello);
  agent_handle_frame (&a, &f);
  assert_false (a.await_hello);
  memset (&f, 0, sizeof f);
  assert_int_equal (next_frame (&a, &f), 1);
  assert_int_equal (f.type, KATA_FRAME_RESP);
  kata_frame_clear (&f);
  assert_int_equal (a.outq.len, 0);
  kata_buf_clear (&a.outq);
}

static void
test_resync (void **state)
{
  /* a framing error skips input until a Hello request frame starts */
  agent_t a;
  kata_frame_t f = { 0 };
  const char *hello = "{\"method\":\"Hello\",\"params\":{\"version\":1}}";
  const char *check = "{\"method\":\"Check\"}";
  uint8_t hdr[KATA_FRAME_HDR_LEN];
  (void)state;
  memset (&a, 0, sizeof a);
  a.epfd = a.chan_fd = -1;
  kata_frame_encode_header (hdr, KATA_FRAME_REQ, 0, 9, 2u << 20); /* too large */
  agent_chan_input (&a, hdr, sizeof hdr);
  agent_chan_input (&a, "garbage", 7);
  assert_true (a.chan_discard);
  /* a Check is not a Hello: still skipped */
  kata_frame_encode_header (hdr, KATA_FRAME_REQ, 0, 3, strlen (check));
  agent_chan_input (&a, hdr, sizeof hdr);
  agent_chan_input (&a, check, strlen (check));
  assert_true (a.chan_discard);
  assert_int_equal (a.outq.len, 0);
  /* the Hello arrives in two pieces */
  kata_frame_encode_header (hdr, KATA_FRAME_REQ, 0, 1, strlen (hello));
  agent_chan_input (&a, hdr, sizeof hdr);
  agent_chan_input (&a, hello, 10);
  assert_true (a.chan_discard);
  agent_chan_input (&a, hello + 10, strlen (hello) - 10);
  assert_false (a.chan_discard);
  assert_int_equal (next_frame (&a, &f), 1);
  assert_int_equal (f.type, KATA_FRAME_RESP);
  assert_int_equal (f.id, 1);
  assert_non_null (strstr (f.payload, "\"version\":1"));
  kata_frame_clear (&f);
  /* and the connection works normally afterwards */
  kata_frame_encode_header (hdr, KATA_FRAME_REQ, 0, 2, strlen (check));
  agent_chan_input (&a, hdr, sizeof hdr);
  agent_chan_input (&a, check, strlen (check));
  assert_int_equal (next_frame (&a, &f), 1);
  assert_int_equal (f.id, 2);
  kata_frame_clear (&f);
  kata_buf_clear (&a.outq);
  kata_buf_clear (&a.discard);
  kata_frame_reader_free (&a.reader);
}

/* OnlineCpus' walk (src/agent/cpu.c) over a fake /sys/devices/system/cpu: cpu0 has
   no online file (always online), an offline hot-plugged CPU gets 1 written. */
static void
test_online_cpus (void **state)
{
  char dir[] = "/tmp/kata-cpus-XXXXXX";
  const char *const mk[] = { "cpu0", "cpu1", "cpu2", "cpufreq", "cpuidle" };
  cleanup_free char *p1 = NULL, *p2 = NULL, *v = NULL;
  size_t i;
  (void)state;
  assert_non_null (mkdtemp (dir));
  for (i = 0; i < 5; i++)
    {
      cleanup_free char *d = xasprintf ("%s/%s", dir, mk[i]);
      assert_int_equal (mkdir (d, 0755), 0);
    }
  p1 = xasprintf ("%s/cpu1/online", dir);
  p2 = xasprintf ("%s/cpu2/online", dir);
  assert_int_equal (kata_write_file_atomic (p1, "1\n", 2, 0644, NULL), 0);
  assert_int_equal (kata_write_file_atomic (p2, "0\n", 2, 0644, NULL), 0);
  assert_int_equal (agent_cpu_online_all (dir), 3);
  assert_int_equal (kata_read_file (p2, &v, NULL, 16, NULL), 0);
  assert_true (v[0] == '1');
  assert_int_equal (agent_cpu_online_all ("/nonexistent-kata-cpus"), -1);
  kata_rm_rf (dir, NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_bad_requests),        cmocka_unit_test (test_simple),
    cmocka_unit_test (test_frames_before_hello), cmocka_unit_test (test_resync),
    cmocka_unit_test (test_online_cpus),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
