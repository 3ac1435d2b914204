/* The typed agent/monitor client (src/runtime/agent-client.c): request bodies, and
   calls against a fake monitor socket that records what it was sent. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "common/json.h"
#include "common/proto.h"
#include "common/utils.h"
#include "runtime/agent-client.h"

static void
test_bodies (void **state)
{
  cleanup_free char *c = kata_req_container ("c1");
  cleanup_free char *p = kata_req_process ("c1", NULL);
  cleanup_free char *s = kata_req_signal ("c\"1", "e1", 15, true);
  cleanup_free char *w = kata_req_winsize ("c1", "e1", 24, 80);
  cleanup_free char *a = kata_req_attach (4096);
  assert_string_equal (c, "{\"container_id\":\"c1\"}");
  assert_string_equal (p, "{\"container_id\":\"c1\",\"exec_id\":\"\"}");
  /* the generator escapes: no hand-made JSON */
  assert_string_equal (s, "{\"container_id\":\"c\\\"1\",\"exec_id\":\"e1\",\"signal\":15,\"all\":true}");
  assert_string_equal (w, "{\"container_id\":\"c1\",\"exec_id\":\"e1\",\"rows\":24,\"cols\":80}");
  assert_string_equal (a, "{\"stream\":4096}");
}

/* A monitor that takes one request, writes "METHOD PARAMS" to OUT and answers RESULT
   (or an agent error when RESULT is NULL). */
static pid_t
fake_monitor (const char *sock, const char *out, const char *result)
{
  kata_error_t *err = NULL;
  int l = kata_unix_listen (sock, SOCK_CLOEXEC, 1, &err);
  pid_t pid;
  assert_true (l >= 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      kata_frame_t f = { 0 };
      yajl_val root = NULL, params = NULL;
      const char *method = NULL;
      cleanup_free char *reply = NULL;
      cleanup_free char *line = NULL;
      int c = accept (l, NULL, NULL);
      if (c < 0 || kata_frame_read (c, &f, NULL) <= 0
          || kata_msg_parse_request (f.payload, f.len, &root, &method, &params, NULL) < 0)
        _exit (1);
      {
        yajl_gen g = kata_gen_new ();
        kata_gen_val (g, params);
        cleanup_free char *pj = kata_gen_finish (g, NULL);
        line = xasprintf ("%s %s", method, pj);
      }
      kata_write_file_atomic (out, line, strlen (line), 0600, NULL);
      reply = result ? kata_msg_result (result) : kata_msg_error (5, "no such container");
      kata_frame_write (c, KATA_FRAME_RESP, 0, f.id, reply, strlen (reply), NULL);
      _exit (0);
    }
  close (l);
  return pid;
}

static char *
call_seen (const char *out, pid_t pid)
{
  char *data = NULL;
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);
  assert_int_equal (kata_read_file (out, &data, NULL, 0, NULL), 0);
  return data;
}

static void
test_calls (void **state)
{
  char root[] = "/tmp/kata-agentc-XXXXXX";
  kata_error_t *err = NULL;
  cleanup_free char *dir = NULL, *sock = NULL, *out = NULL;
  char *seen, *pci = NULL;
  uint32_t stream = 0;
  pid_t pid;

  assert_non_null (mkdtemp (root));
  dir = xasprintf ("%s/sbs/sb1", root);
  assert_int_equal (kata_mkdir_p (dir, 0700, &err), 0);
  sock = xasprintf ("%s/monitor.sock", dir);
  out = xasprintf ("%s/seen", root);

  pid = fake_monitor (sock, out, "{}");
  assert_int_equal (kata_agent_signal_process (root, "sb1", "c1", NULL, SIGKILL, true, 5000, &err), 0);
  seen = call_seen (out, pid);
  assert_string_equal (seen,
                       "SignalProcess {\"container_id\":\"c1\",\"exec_id\":\"\",\"signal\":9,\"all\":true}");
  free (seen);

  pid = fake_monitor (sock, out, "{\"stream\":77}");
  assert_int_equal (
      kata_agent_exec_process (root, "sb1", "c1", "e9", true, "{\"args\":[\"sh\"]}", &stream, 5000, &err), 0);
  seen = call_seen (out, pid);
  assert_string_equal (seen, "ExecProcess {\"container_id\":\"c1\",\"exec_id\":\"e9\",\"ignore_paused\":true,"
                             "\"process\":{\"args\":[\"sh\"]}}");
  assert_int_equal (stream, 77);
  free (seen);

  pid = fake_monitor (sock, out, "{\"pci\":\"02/00\"}");
  assert_int_equal (kata_monitor_hotplug_block (root, "sb1", "drive-1", "/dev/loop9", true, &pci, 5000, &err),
                    0);
  seen = call_seen (out, pid);
  assert_string_equal (seen,
                       "MonitorHotplugBlock {\"id\":\"drive-1\",\"path\":\"/dev/loop9\",\"readonly\":true}");
  assert_string_equal (pci, "02/00");
  free (pci);
  free (seen);

  pid = fake_monitor (sock, out, "{}");
  assert_int_equal (
      kata_monitor_hotplug_nic (root, "sb1", "nic-tap1_kata", "tap1_kata", "02:00:ca:fe:00:01", 5000, &err),
      0);
  seen = call_seen (out, pid);
  assert_string_equal (seen, "MonitorHotplugNic {\"id\":\"nic-tap1_kata\",\"tap\":\"tap1_kata\","
                             "\"mac\":\"02:00:ca:fe:00:01\"}");
  free (seen);

  {
    int added = 0, online = 0;
    pid = fake_monitor (sock, out, "{\"added\":2}");
    assert_int_equal (kata_monitor_hotplug_cpu (root, "sb1", 3, &added, 5000, &err), 0);
    seen = call_seen (out, pid);
    assert_string_equal (seen, "MonitorHotplugCpu {\"count\":3}");
    assert_int_equal (added, 2);
    free (seen);

    pid = fake_monitor (sock, out, "{\"online\":3}");
    assert_int_equal (kata_agent_online_cpus (root, "sb1", 3, 10000, &online, 5000, &err), 0);
    seen = call_seen (out, pid);
    assert_string_equal (seen, "OnlineCpus {\"vcpus\":3,\"timeout_ms\":10000}");
    assert_int_equal (online, 3);
    free (seen);
  }

  pid = fake_monitor (sock, out, "{}");
  assert_int_equal (kata_agent_remove_container (root, "sb1", "c2", 10, 5000, &err), 0);
  seen = call_seen (out, pid);
  assert_string_equal (seen, "RemoveContainer {\"container_id\":\"c2\",\"timeout\":10}");
  free (seen);

  /* an agent error comes back as the call's error, named after the verb */
  pid = fake_monitor (sock, out, NULL);
  assert_int_equal (kata_agent_start_container (root, "sb1", "c3", 5000, &err), -1);
  seen = call_seen (out, pid);
  assert_string_equal (seen, "StartContainer {\"container_id\":\"c3\"}");
  assert_non_null (err);
  assert_non_null (strstr (err->msg, "StartContainer"));
  assert_non_null (strstr (err->msg, "no such container"));
  kata_error_free (err);
  err = NULL;
  free (seen);

  /* no monitor: the sandbox is not running */
  unlink (sock);
  assert_int_equal (kata_monitor_shutdown (root, "sb1", 1000, &err), -1);
  assert_non_null (strstr (err->msg, "not running"));
  kata_error_free (err);
  err = NULL;
  assert_int_equal (kata_rm_rf (root, &err), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_bodies),
    cmocka_unit_test (test_calls),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
