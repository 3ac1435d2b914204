/* agent-client: a small host-side client for kata-agent tests.  Connects to the QEMU
   chardev socket of the agent channel, says Hello, then runs one command:

     agent-client SOCK hello
     agent-client SOCK call METHOD [PARAMS_JSON]         prints the result JSON (exit 0),
                                                          or "error CODE: MESSAGE" (exit 1)
     agent-client SOCK run CID CONFIG_JSON [options]      create+start a container, stream its
                                                          output, wait, remove it; exits with
                                                          the process status (128+sig if killed)
     agent-client SOCK start CID CONFIG_JSON [options]    create+start, do not wait
     agent-client SOCK wait CID [EXEC_ID]                 WaitProcess; exits with the status
     agent-client SOCK exec CID EXEC_ID PROCESS_JSON [options]
   options:
     --stdin TEXT          write TEXT to the process's stdin, then EOF
     --storage JSON        add a storage (repeatable, run only)
     --signal MS:SIG       SignalProcess SIG after MS milliseconds
     --keep                (run) do not RemoveContainer at the end
     --sandbox CID         (run/start) sandbox_container_id: join its namespaces
     --sandbox-pidns       (run/start) sandbox_pidns: true
     --timeout S           give up after S seconds (default 60)
   Errors of the agent are printed to stderr as "agent error CODE: MESSAGE", exit 255. */
#include "config.h"
#include "common/json.h"
#include "common/proto.h"
#include "common/utils.h"
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int sock = -1;
static uint32_t next_id = 1;
static kata_frame_reader_t reader;
static uint32_t stream_base;
static int out_eof, err_eof;
static int wait_status = -1;
static uint32_t wait_id;
static uint64_t deadline;

static void __attribute__ ((noreturn)) die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "agent-client: ");
  vfprintf (stderr, fmt, ap);
  fprintf (stderr, "\n");
  va_end (ap);
  exit (255);
}

static char *
read_text_file (const char *path)
{
  char *s = NULL;
  kata_error_t *err = NULL;
  if (kata_read_file (path, &s, NULL, 0, &err) < 0)
    die ("%s", err->msg);
  return s;
}

static void
send_req (uint32_t id, const char *method, const char *params)
{
  char *m = kata_msg_request (method, params);
  kata_error_t *err = NULL;
  if (kata_frame_write (sock, KATA_FRAME_REQ, 0, id, m, strlen (m), &err) < 0)
    die ("write: %s", err->msg);
  free (m);
}

static void
send_stream (uint32_t id, const char *data, size_t len, int eof)
{
  kata_error_t *err = NULL;
  if (kata_frame_write (sock, KATA_FRAME_STREAM, eof ? KATA_FRAME_FLAG_EOF : 0, id, data, len, &err) < 0)
    die ("write: %s", err->msg);
}

static void
on_wait_resp (kata_frame_t *f)
{
  yajl_val root = NULL, res = NULL;
  int code = 0;
  kata_error_t *err = NULL;
  if (kata_msg_parse_response (f->payload, f->len, &root, &res, &code, &err) < 0)
    die ("agent error %d: %s", code, err->msg);
  wait_status = kata_json_int (res, "status", -1);
  yajl_tree_free (root);
}

/* Reads one frame (with timeout MS, -1 = until deadline); handles stream/event frames.
   Returns the frame if it is the response with WANT id (caller frees), else NULL. */
static int
pump (uint32_t want, kata_frame_t *out, int ms)
{
  for (;;)
    {
      kata_frame_t f = { 0 };
      kata_error_t *err = NULL;
      int r = kata_frame_reader_next (&reader, &f, &err);
      if (r < 0)
        die ("protocol error: %s", err->msg);
      if (r == 1)
        {
          if (f.type == KATA_FRAME_STREAM && stream_base && f.id == stream_base + 1)
            {
              if (f.len)
                kata_write_all (1, f.payload, f.len);
              if (f.flags & KATA_FRAME_FLAG_EOF)
                out_eof = 1;
            }
          else if (f.type == KATA_FRAME_STREAM && stream_base && f.id == stream_base + 2)
            {
              if (f.len)
                kata_write_all (2, f.payload, f.len);
              if (f.flags & KATA_FRAME_FLAG_EOF)
                err_eof = 1;
            }
          else if (f.type == KATA_FRAME_EVENT)
            {
              if (getenv ("AGENT_CLIENT_EVENTS"))
                fprintf (stderr, "event: %s\n", f.payload);
            }
          else if (f.type == KATA_FRAME_RESP && wait_id && f.id == wait_id)
            {
              on_wait_resp (&f);
              kata_frame_clear (&f);
              return 0;
            }
          else if (f.type == KATA_FRAME_RESP && f.id == want)
            {
              *out = f;
              return 1;
            }
          kata_frame_clear (&f);
          continue;
        }
      {
        struct pollfd pfd = { .fd = sock, .events = POLLIN };
        char buf[65536];
        ssize_t n;
        int t = ms;
        uint64_t now = kata_now_ns ();
        if (now >= deadline)
          die ("timed out");
        if (t < 0 || (uint64_t)t > (deadline - now) / 1000000)
          t = (deadline - now) / 1000000 + 1;
        r = poll (&pfd, 1, t);
        if (r == 0)
          {
            if (ms >= 0)
              return 0;
            continue;
          }
        n = read (sock, buf, sizeof buf);
        if (n <= 0)
          die ("connection closed");
        kata_frame_reader_feed (&reader, buf, n);
      }
    }
}

/* Synchronous call; returns the result tree (root in *root) or exits on error unless
   ALLOW_ERR, in which case returns NULL and prints the error. */
static yajl_val
call (const char *method, const char *params, yajl_val *root, int allow_err, int *code_out)
{
  uint32_t id = next_id++;
  kata_frame_t f = { 0 };
  yajl_val res = NULL;
  int code = 0;
  kata_error_t *err = NULL;
  send_req (id, method, params);
  pump (id, &f, -1);
  if (kata_msg_parse_response (f.payload, f.len, root, &res, &code, &err) < 0)
    {
      kata_frame_clear (&f);
      if (code_out)
        *code_out = code;
      if (allow_err)
        {
          printf ("error %d: %s\n", code, err->msg);
          return NULL;
        }
      die ("agent error %d: %s", code, err->msg);
    }
  kata_frame_clear (&f);
  return res;
}

static void
connect_agent (const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int i;
  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (strlen (path) >= sizeof sa.sun_path)
    die ("socket path too long");
  strcpy (sa.sun_path, path);
  for (i = 0; connect (sock, (struct sockaddr *)&sa, sizeof sa) < 0; i++)
    {
      if (i > 100)
        die ("connect %s: %s", path, strerror (errno));
      usleep (100000);
    }
}

int
main (int argc, char **argv)
{
  const char *stdin_text = NULL;
  char *storages[16];
  int nstorages = 0, sig_ms = -1, sig = 0, keep = 0, timeout = 60, sandbox_pidns = 0;
  const char *sandbox_cid = NULL;
  int i, nargs = 0;
  char *args[8];
  yajl_val root = NULL, res;

  for (i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--stdin") == 0 && i + 1 < argc)
        stdin_text = argv[++i];
      else if (strcmp (argv[i], "--storage") == 0 && i + 1 < argc && nstorages < 16)
        storages[nstorages++] = argv[++i];
      else if (strcmp (argv[i], "--signal") == 0 && i + 1 < argc)
        {
          if (sscanf (argv[++i], "%d:%d", &sig_ms, &sig) != 2)
            die ("bad --signal");
        }
      else if (strcmp (argv[i], "--sandbox") == 0 && i + 1 < argc)
        sandbox_cid = argv[++i];
      else if (strcmp (argv[i], "--sandbox-pidns") == 0)
        sandbox_pidns = 1;
      else if (strcmp (argv[i], "--keep") == 0)
        keep = 1;
      else if (strcmp (argv[i], "--timeout") == 0 && i + 1 < argc)
        timeout = atoi (argv[++i]);
      else if (nargs < 8)
        args[nargs++] = argv[i];
    }
  if (nargs < 2)
    die ("usage: agent-client SOCK hello|call|run|exec ...");
  deadline = kata_now_ns () + (uint64_t)timeout * 1000000000ull;
  connect_agent (args[0]);
  res = call ("Hello", "{\"version\":1}", &root, 0, NULL);
  if (strcmp (args[1], "hello") == 0)
    {
      char *s = kata_json_dump (res);
      printf ("%s\n", s);
      return 0;
    }
  yajl_tree_free (root);
  if (strcmp (args[1], "call") == 0 && nargs >= 3)
    {
      int code = 0;
      res = call (args[2], nargs >= 4 ? args[3] : "{}", &root, 1, &code);
      if (res == NULL)
        return 1;
      printf ("%s\n", kata_json_dump (res));
      return 0;
    }
  if (strcmp (args[1], "wait") == 0 && nargs >= 3)
    {
      char *p2
          = xasprintf ("{\"container_id\":\"%s\",\"exec_id\":\"%s\"}", args[2], nargs >= 4 ? args[3] : "");
      wait_id = next_id++;
      send_req (wait_id, "WaitProcess", p2);
      while (wait_status < 0)
        {
          kata_frame_t f = { 0 };
          pump (0, &f, -1);
        }
      return wait_status;
    }
  if (((strcmp (args[1], "run") == 0 || strcmp (args[1], "start") == 0) && nargs >= 4)
      || (strcmp (args[1], "exec") == 0 && nargs >= 5))
    {
      int is_exec = args[1][0] == 'e';
      const char *cid = args[2];
      const char *eid = is_exec ? args[3] : "";
      char *spec = read_text_file (is_exec ? args[4] : args[3]);
      yajl_gen g = kata_gen_new ();
      char *params, *p2;
      uint64_t t0;
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "container_id", cid);
      if (is_exec)
        {
          kata_gen_kv_str (g, "exec_id", eid);
          kata_gen_kv_raw (g, "process", spec);
        }
      else
        {
          kata_gen_kv_raw (g, "oci", spec);
          if (sandbox_cid)
            kata_gen_kv_str (g, "sandbox_container_id", sandbox_cid);
          if (sandbox_pidns)
            kata_gen_kv_bool (g, "sandbox_pidns", true);
          yajl_gen_string (g, (const unsigned char *)"storages", 8);
          yajl_gen_array_open (g);
          for (i = 0; i < nstorages; i++)
            {
              yajl_val v;
              kata_error_t *err = NULL;
              if (kata_json_parse (storages[i], strlen (storages[i]), &v, &err) < 0)
                die ("--storage: %s", err->msg);
              kata_gen_val (g, v);
            }
          yajl_gen_array_close (g);
        }
      yajl_gen_map_close (g);
      params = kata_gen_finish (g, NULL);
      res = call (is_exec ? "ExecProcess" : "CreateContainer", params, &root, 0, NULL);
      stream_base = kata_json_int (res, "stream", 0);
      yajl_tree_free (root);
      if (stdin_text)
        {
          send_stream (stream_base, stdin_text, strlen (stdin_text), 0);
          send_stream (stream_base, NULL, 0, 1);
        }
      p2 = xasprintf ("{\"container_id\":\"%s\",\"exec_id\":\"%s\"}", cid, eid);
      if (!is_exec)
        {
          res = call ("StartContainer", p2, &root, 0, NULL);
          yajl_tree_free (root);
          if (args[1][1] == 't')
            return 0; /* start: leave it running */
        }
      wait_id = next_id++;
      send_req (wait_id, "WaitProcess", p2);
      t0 = kata_now_ns ();
      while (wait_status < 0)
        {
          kata_frame_t f = { 0 };
          int ms = -1;
          if (sig_ms >= 0)
            {
              uint64_t el = (kata_now_ns () - t0) / 1000000;
              ms = el >= (uint64_t)sig_ms ? 0 : (int)(sig_ms - el);
              if (ms == 0)
                {
                  char *ps = xasprintf ("{\"container_id\":\"%s\",\"exec_id\":\"%s\",\"signal\":%d}", cid,
                                        eid, sig);
                  sig_ms = -1;
                  res = call ("SignalProcess", ps, &root, 0, NULL);
                  yajl_tree_free (root);
                  free (ps);
                  continue;
                }
            }
          pump (0, &f, ms);
        }
      if (!is_exec && !keep)
        {
          char *pr = xasprintf ("{\"container_id\":\"%s\"}", cid);
          res = call ("RemoveContainer", pr, &root, 0, NULL);
          yajl_tree_free (root);
        }
      return wait_status;
    }
  die ("unknown command %s", args[1]);
}
