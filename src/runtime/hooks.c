/* OCI hooks: fork/exec PATH with ARGS and ENV, the state JSON on stdin, a timeout. */
#include "runtime/hooks.h"
#include "common/json.h"
#include "common/utils.h"
#include "runtime/log.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *
kata_hooks_state_json (const char *oci_version, const char *id, const char *status, int pid, const char *bundle,
                       char **ann_keys, char **ann_values, size_t ann_len)
{
  yajl_gen g = kata_gen_new ();
  size_t i;
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "ociVersion", oci_version ? oci_version : "1.0.2");
  kata_gen_kv_str (g, "id", id);
  kata_gen_kv_str (g, "status", status);
  kata_gen_kv_int (g, "pid", pid);
  kata_gen_kv_str (g, "bundle", bundle ? bundle : "");
  if (ann_len)
    {
      yajl_gen_string (g, (const unsigned char *) "annotations", 11);
      yajl_gen_map_open (g);
      for (i = 0; i < ann_len; i++)
        kata_gen_kv_str (g, ann_keys[i], ann_values[i]);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

static int
run_one (const char *kind, const runtime_spec_schema_defs_hook *h, const char *state_json, kata_error_t **err)
{
  int in[2];
  pid_t pid;
  int status = 0;
  struct sigaction ign = { .sa_handler = SIG_IGN }, old;
  uint64_t deadline;
  int timeout = h->timeout_present && h->timeout > 0 ? h->timeout : 0;

  if (h->path == NULL || h->path[0] != '/')
    return kata_make_error_nostr (err, EINVAL, "%s hook: path `%s` is not absolute", kind, h->path ? h->path : "");
  if (pipe2 (in, O_CLOEXEC) < 0)
    return kata_make_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    {
      int e = errno;
      close (in[0]);
      close (in[1]);
      return kata_make_error (err, e, "fork");
    }
  if (pid == 0)
    {
      /* libocispec's arrays carry a length, not a NULL terminator. */
      char **argv = xmalloc0 ((h->args_len + 2) * sizeof (char *));
      char **envp = xmalloc0 ((h->env_len + 1) * sizeof (char *));
      sigset_t all;
      if (h->args_len)
        memcpy (argv, h->args, h->args_len * sizeof (char *));
      else
        argv[0] = (char *) h->path;
      if (h->env_len)
        memcpy (envp, h->env, h->env_len * sizeof (char *));

      int fd;
      sigemptyset (&all);
      sigprocmask (SIG_SETMASK, &all, NULL);
      signal (SIGPIPE, SIG_DFL);
      dup2 (in[0], 0);
      /* A hook's output must not reach our caller's stdout (it may be parsed). */
      fd = open ("/dev/null", O_WRONLY);
      if (fd >= 0)
        dup2 (fd, 1);
      setsid ();
      execve (h->path, argv, envp);
      _exit (127);
    }
  close (in[0]);
  sigaction (SIGPIPE, &ign, &old);
  kata_write_all (in[1], state_json, strlen (state_json));
  close (in[1]);
  sigaction (SIGPIPE, &old, NULL);

  deadline = timeout ? kata_now_ns () + (uint64_t) timeout * 1000000000ULL : 0;
  for (;;)
    {
      pid_t r = waitpid (pid, &status, timeout ? WNOHANG : 0);
      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        return kata_make_error (err, errno, "%s hook `%s`: waitpid", kind, h->path);
      if (timeout && r == 0)
        {
          if (kata_now_ns () > deadline)
            {
              kill (pid, SIGKILL);
              waitpid (pid, &status, 0);
              return kata_make_error_nostr (err, KATA_ETIMEOUT, "%s hook `%s` timed out after %d s", kind,
                                            h->path, timeout);
            }
          struct timespec ts = { 0, 10 * 1000 * 1000 };
          nanosleep (&ts, NULL);
        }
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status))
    return kata_make_error_nostr (err, EINVAL, "%s hook `%s` failed: exit status %d", kind, h->path,
                                  WEXITSTATUS (status));
  return kata_make_error_nostr (err, EINVAL, "%s hook `%s` failed: killed by signal %d", kind, h->path,
                                WTERMSIG (status));
}

int
kata_hooks_run (const char *kind, runtime_spec_schema_defs_hook **hooks, size_t n, const char *state_json,
                kata_error_t **err)
{
  size_t i;
  for (i = 0; i < n; i++)
    {
      if (hooks[i] == NULL)
        continue;
      kata_debug ("running %s hook %s", kind, hooks[i]->path);
      if (run_one (kind, hooks[i], state_json, err) < 0)
        return -1;
    }
  return 0;
}
