/* OCI hooks: fork/exec PATH with ARGS and ENV, the state JSON on stdin, a timeout. */
#include "config.h"
#include "runtime/hooks.h"
#include "common/json.h"
#include "common/utils.h"
#include "runtime/log.h"
#include "runtime/network.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *
kata_hooks_state_json (const char *oci_version, const char *id, const char *status, int pid,
                       const char *bundle, char **ann_keys, char **ann_values, size_t ann_len)
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
      yajl_gen_string (g, (const unsigned char *)"annotations", 11);
      yajl_gen_map_open (g);
      for (i = 0; i < ann_len; i++)
        kata_gen_kv_str (g, ann_keys[i], ann_values[i]);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

/* What a hook wrote to FD (a memfd), at most 4 KiB of its end, blanks trimmed. */
static char *
hook_output (int fd)
{
  char buf[4097];
  off_t end = fd >= 0 ? lseek (fd, 0, SEEK_END) : -1;
  ssize_t n;
  size_t len;
  if (end <= 0)
    return xstrdup ("");
  n = pread (fd, buf, sizeof buf - 1, end > 4096 ? end - 4096 : 0);
  len = n > 0 ? (size_t)n : 0;
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\r'))
    len--;
  buf[len] = '\0';
  return xstrdup (buf);
}

static int
hook_failed (kata_error_t **err, const char *kind, const char *path, const char *how, int out, int errfd)
{
  cleanup_free char *o = hook_output (out);
  cleanup_free char *e = hook_output (errfd);
  /* runc's form: "error running hook: exit status 1, stdout: ..., stderr: ..." */
  return kata_make_error_nostr (err, EINVAL, "%s hook `%s` failed: %s, stdout: %s, stderr: %s", kind, path,
                                how, o, e);
}

static int
run_one (const char *kind, const runtime_spec_schema_defs_hook *h, const char *state_json, kata_error_t **err)
{
  int in[2];
  cleanup_close int out = -1, errfd = -1;
  char how[64];
  pid_t pid;
  int status = 0;
  struct sigaction ign = { .sa_handler = SIG_IGN }, old;
  uint64_t deadline;
  int timeout = h->timeout_present && h->timeout > 0 ? h->timeout : 0;

  if (h->path == NULL || h->path[0] != '/')
    return kata_make_error_nostr (err, EINVAL, "%s hook: path `%s` is not absolute", kind,
                                  h->path ? h->path : "");
  if (pipe2 (in, O_CLOEXEC) < 0)
    return kata_make_error (err, errno, "pipe");
  /* the hook's output is kept for the error message (runc shows both) */
  out = memfd_create ("hook-stdout", MFD_CLOEXEC);
  errfd = memfd_create ("hook-stderr", MFD_CLOEXEC);
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
        argv[0] = (char *)h->path;
      if (h->env_len)
        memcpy (envp, h->env, h->env_len * sizeof (char *));

      int fd;
      sigemptyset (&all);
      sigprocmask (SIG_SETMASK, &all, NULL);
      signal (SIGPIPE, SIG_DFL);
      dup2 (in[0], 0);
      /* A hook's output must not reach our caller's stdout (it may be parsed). */
      fd = out >= 0 ? out : open ("/dev/null", O_WRONLY);
      if (fd >= 0)
        dup2 (fd, 1);
      if (errfd >= 0)
        dup2 (errfd, 2);
      setsid ();
      execve (h->path, argv, envp);
      _exit (127);
    }
  close (in[0]);
  sigaction (SIGPIPE, &ign, &old);
  kata_write_all (in[1], state_json, strlen (state_json));
  close (in[1]);
  sigaction (SIGPIPE, &old, NULL);

  deadline = timeout ? kata_now_ns () + (uint64_t)timeout * 1000000000ULL : 0;
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
              cleanup_free char *e = hook_output (errfd);
              return kata_make_error_nostr (err, KATA_ETIMEOUT, "%s hook `%s` timed out after %d s%s%s", kind,
                                            h->path, timeout, e[0] ? ", stderr: " : "", e);
            }
          struct timespec ts = { 0, 10 * 1000 * 1000 };
          nanosleep (&ts, NULL);
        }
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status))
    snprintf (how, sizeof how, "exit status %d", WEXITSTATUS (status));
  else
    snprintf (how, sizeof how, "killed by signal %d", WTERMSIG (status));
  return hook_failed (err, kind, h->path, how, out, errfd);
}

int
kata_hooks_holder_start (const char *netns_path, pid_t *pid, kata_error_t **err)
{
  int p[2];
  int e = 0;
  ssize_t n;
  pid_t child;
  if (pipe2 (p, O_CLOEXEC) < 0)
    return kata_make_error (err, errno, "pipe");
  child = fork ();
  if (child < 0)
    {
      e = errno;
      close (p[0]);
      close (p[1]);
      return kata_make_error (err, e, "fork");
    }
  if (child == 0)
    {
      int orig;
      close (p[0]);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (netns_path && kata_netns_enter (netns_path, &orig, NULL) < 0)
        e = errno ? errno : EINVAL;
      (void)!write (p[1], &e, sizeof e);
      close (p[1]);
      if (e)
        _exit (1);
      for (;;)
        pause ();
    }
  close (p[1]);
  while ((n = read (p[0], &e, sizeof e)) < 0 && errno == EINTR)
    ;
  close (p[0]);
  if (n != (ssize_t)sizeof e || e != 0)
    {
      kata_hooks_holder_stop (child);
      return kata_make_error (err, n == (ssize_t)sizeof e ? e : EIO,
                              "enter network namespace `%s` for the hooks", netns_path ? netns_path : "");
    }
  *pid = child;
  return 0;
}

void
kata_hooks_holder_stop (pid_t pid)
{
  if (pid <= 0)
    return;
  kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
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
