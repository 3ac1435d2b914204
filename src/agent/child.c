/* Code that runs in the forked child: join/create namespaces, set up the rootfs (init
   process), wait for StartContainer, apply the process settings and exec.  Errors go back
   to the agent through the CLOEXEC sync pipe, so the host sees the cause. */
#include "config.h"
#include "agent/agent.h"
#include "common/utils.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static void __attribute__ ((noreturn)) child_fail (agent_child_args_t *a, kata_error_t *err)
{
  int32_t code = agent_error_code (err);
  const char *msg = err && err->msg ? err->msg : "unknown error";
  uint32_t len = strlen (msg);
  char hdr[1 + 8];
  hdr[0] = 'E';
  memcpy (hdr + 1, &code, 4);
  memcpy (hdr + 5, &len, 4);
  kata_write_all (a->sync_fd, hdr, sizeof hdr);
  kata_write_all (a->sync_fd, msg, len);
  _exit (127);
}

int
agent_child_read_status (int fd, bool want_ready, int timeout_ms, kata_error_t **err)
{
  char c;
  ssize_t n;
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  int r;
  do
    r = poll (&pfd, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return kata_make_error_nostr (err, ETIMEDOUT, "container process did not answer in %d ms", timeout_ms);
  n = kata_read_all (fd, &c, 1);
  if (n <= 0)
    {
      if (want_ready)
        return kata_make_error_nostr (err, ECHILD, "container process exited during setup");
      return 0; /* exec'd: the CLOEXEC pipe closed */
    }
  if (c == 'R')
    return want_ready ? 0 : kata_make_error_nostr (err, EPROTO, "unexpected message from child");
  if (c == 'E')
    {
      int32_t code;
      uint32_t len;
      char *msg;
      if (kata_read_all (fd, &code, 4) != 4 || kata_read_all (fd, &len, 4) != 4 || len > 65536)
        return kata_make_error_nostr (err, EPROTO, "truncated error from child");
      msg = xmalloc (len + 1);
      if (kata_read_all (fd, msg, len) != (ssize_t)len)
        {
          free (msg);
          return kata_make_error_nostr (err, EPROTO, "truncated error from child");
        }
      msg[len] = '\0';
      kata_make_error_nostr (err, code, "%s", msg);
      free (msg);
      return -1;
    }
  return kata_make_error_nostr (err, EPROTO, "unexpected message from child");
}

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO ('T', 0x41)
#endif

/* The terminal, allocated as runc does: from the container's own devpts (its /dev/ptmx,
   once the process is inside the container's mount namespace and root), so that the slave
   is /dev/pts/N there and ttyname() finds it.  The master goes back to the agent over
   a->console_sock (SCM_RIGHTS); the slave becomes the controlling terminal and fds 0-2.
   GUEST_MASTER is a pty master from the guest's devpts, opened before entering the
   container: used only when the container has no /dev/ptmx (a spec without a devpts
   mount, where runc fails); the terminal works then, but has no name in the container. */
static void
setup_console (agent_child_args_t *a, int guest_master)
{
  runtime_spec_schema_config_schema_process *p = a->process;
  kata_error_t *err = NULL;
  char name[64];
  unsigned int n = 0;
  int unlock = 0, master, slave, i;

  master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 && errno == ENOENT && guest_master >= 0)
    {
      master = guest_master;
      guest_master = -1;
      if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
        {
          kata_make_error (&err, errno, "unlock the pty");
          child_fail (a, err);
        }
      slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (slave < 0)
        {
          kata_make_error (&err, errno, "open the pty's slave");
          child_fail (a, err);
        }
      agent_log ("no /dev/ptmx in the container: terminal from the guest's devpts");
    }
  else
    {
      if (master < 0)
        {
          kata_make_error (&err, errno, "open /dev/ptmx in the container");
          child_fail (a, err);
        }
      if (ioctl (master, TIOCSPTLCK, &unlock) < 0 || ioctl (master, TIOCGPTN, &n) < 0)
        {
          kata_make_error (&err, errno, "unlock the pty");
          child_fail (a, err);
        }
      snprintf (name, sizeof name, "/dev/pts/%u", n);
      slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (slave < 0)
        {
          kata_make_error (&err, errno, "open `%s`", name);
          child_fail (a, err);
        }
    }
  if (guest_master >= 0)
    close (guest_master);
  if (p && p->console_size)
    {
      struct winsize ws = { .ws_row = p->console_size->height, .ws_col = p->console_size->width };
      ioctl (master, TIOCSWINSZ, &ws);
    }
  if (kata_send_fd (a->console_sock, master) < 0)
    {
      kata_make_error (&err, errno, "send the pty master to the agent");
      child_fail (a, err);
    }
  close (master);
  close (a->console_sock);
  a->console_sock = -1;
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    agent_log ("TIOCSCTTY: %s", strerror (errno));
  for (i = 0; i < 3; i++)
    if (dup2 (slave, i) < 0)
      {
        kata_make_error (&err, errno, "dup2 the pty slave");
        child_fail (a, err);
      }
  if (slave > 2)
    close (slave);
}

static const char *
env_get (char **env, size_t n, const char *key)
{
  size_t i, kl = strlen (key);
  for (i = 0; i < n; i++)
    if (strncmp (env[i], key, kl) == 0 && env[i][kl] == '=')
      return env[i] + kl + 1;
  return NULL;
}

/* exec.LookPath as runc/Go does it, with the same messages. */
static char *
look_path (const char *file, const char *path_env, kata_error_t **err)
{
  struct stat st;
  if (strchr (file, '/'))
    {
      if (stat (file, &st) < 0)
        return kata_make_error_nostr (err, errno, "exec: \"%s\": %s", file, strerror (errno)), NULL;
      if (S_ISDIR (st.st_mode) || access (file, X_OK) < 0)
        return kata_make_error_nostr (err, EACCES, "exec: \"%s\": permission denied", file), NULL;
      return xstrdup (file);
    }
  {
    cleanup_free char *copy
        = xstrdup (path_env ? path_env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    char *save = NULL, *dir;
    bool denied = false;
    for (dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
      {
        char *p = xasprintf ("%s/%s", *dir ? dir : ".", file);
        if (stat (p, &st) == 0 && !S_ISDIR (st.st_mode))
          {
            if (access (p, X_OK) == 0)
              return p;
            denied = true;
          }
        free (p);
      }
    if (denied)
      return kata_make_error_nostr (err, EACCES, "exec: \"%s\": permission denied", file), NULL;
    return kata_make_error_nostr (err, ENOENT, "exec: \"%s\": executable file not found in $PATH", file),
           NULL;
  }
}

static int
rlimit_resource (const char *name)
{
  static const struct
  {
    const char *n;
    int r;
  } t[] = {
    { "RLIMIT_AS", RLIMIT_AS },
    { "RLIMIT_CORE", RLIMIT_CORE },
    { "RLIMIT_CPU", RLIMIT_CPU },
    { "RLIMIT_DATA", RLIMIT_DATA },
    { "RLIMIT_FSIZE", RLIMIT_FSIZE },
    { "RLIMIT_LOCKS", RLIMIT_LOCKS },
    { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
    { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
    { "RLIMIT_NICE", RLIMIT_NICE },
    { "RLIMIT_NOFILE", RLIMIT_NOFILE },
    { "RLIMIT_NPROC", RLIMIT_NPROC },
    { "RLIMIT_RSS", RLIMIT_RSS },
    { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
    { "RLIMIT_RTTIME", RLIMIT_RTTIME },
    { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
    { "RLIMIT_STACK", RLIMIT_STACK },
  };
  size_t i;
  for (i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp (t[i].n, name) == 0)
      return t[i].r;
  return -1;
}

/* runc's fixStdioPermissions: before the switch to the process's user, its stdio (the
   terminal's slave, or the pipes) becomes the user's, keeping the group (the tty group
   that devpts gives with gid=5); /dev/null is left alone.  Errors from a read-only or
   foreign inode are ignored, as runc does. */
static int
fix_stdio_owner (uid_t uid, kata_error_t **err)
{
  struct stat null_st, st;
  bool have_null = stat ("/dev/null", &null_st) == 0;
  int fd;
  if (uid == 0)
    return 0;
  for (fd = 0; fd < 3; fd++)
    {
      if (fstat (fd, &st) < 0)
        continue;
      if (have_null && (S_ISCHR (st.st_mode) && st.st_rdev == null_st.st_rdev))
        continue;
      if (st.st_uid == uid)
        continue;
      if (fchown (fd, uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
        return kata_make_error (err, errno, "fchown fd %d to uid %u", fd, (unsigned)uid);
    }
  return 0;
}

static int
setup_user (runtime_spec_schema_config_schema_process *p, char ***envp, size_t *envn, kata_error_t **err)
{
  runtime_spec_schema_config_schema_process_user *u = p->user;
  uid_t uid = u ? u->uid : 0;
  gid_t gid = u ? u->gid : 0;
  cleanup_free char *passwd = NULL, *group = NULL, *home = NULL, *name = NULL;
  gid_t *groups = NULL;
  size_t ngroups = 0, i;

  kata_read_file ("/etc/passwd", &passwd, NULL, 1 << 22, NULL);
  kata_read_file ("/etc/group", &group, NULL, 1 << 22, NULL);
  if (u && u->username && *u->username)
    {
      if (agent_passwd_lookup (passwd, u->username, &uid, &gid, &home) < 0)
        return kata_make_error_nostr (
            err, ENOENT, "unable to find user %s: no matching entries in passwd file", u->username);
      name = xstrdup (u->username);
    }
  else if (passwd)
    agent_passwd_lookup_uid (passwd, uid, &name, NULL, &home);
  if (name && group)
    agent_group_members (group, name, &groups, &ngroups);
  if (u)
    for (i = 0; i < u->additional_gids_len; i++)
      {
        groups = xrealloc (groups, sizeof (gid_t) * (ngroups + 1));
        groups[ngroups++] = u->additional_gids[i];
      }
  if (env_get (*envp, *envn, "HOME") == NULL)
    {
      *envp = xrealloc (*envp, sizeof (char *) * (*envn + 2));
      (*envp)[(*envn)++] = xasprintf ("HOME=%s", home && *home ? home : "/");
      (*envp)[*envn] = NULL;
    }
  if (fix_stdio_owner (uid, err) < 0)
    {
      free (groups);
      return -1;
    }
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    {
      free (groups);
      return kata_make_error (err, errno, "PR_SET_KEEPCAPS");
    }
  if (setgroups (ngroups, groups) < 0)
    {
      free (groups);
      return kata_make_error (err, errno, "setgroups");
    }
  free (groups);
  if (setresgid (gid, gid, gid) < 0)
    return kata_make_error (err, errno, "setgid %u", (unsigned)gid);
  if (setresuid (uid, uid, uid) < 0)
    return kata_make_error (err, errno, "setuid %u", (unsigned)uid);
  return 0;
}

static int
load_seccomp (runtime_spec_schema_config_schema *spec, kata_error_t **err)
{
  agent_sc_filter_t f;
  int r;
  if (spec == NULL || spec->linux == NULL || spec->linux->seccomp == NULL)
    return 0;
  if (agent_seccomp_translate (spec->linux->seccomp, &f, err) < 0)
    return -1;
  r = agent_seccomp_load (&f, err);
  agent_seccomp_filter_free (&f);
  return r;
}

/* Joins the container's cgroup and namespaces (or makes new ones), starts a session and
   takes the stdio pipes (a terminal comes later, inside the root). */
static void
enter_namespaces (agent_child_args_t *a)
{
  kata_error_t *err = NULL;
  int i;
  /* Join the cgroup while /sys/fs/cgroup is still the guest's. */
  if (a->cgroup && agent_cgroup_write (a->cgroup, "cgroup.procs", "0", &err) < 0)
    child_fail (a, err);
  for (i = 0; i < 8 && a->ns_fds[i] >= 0; i++)
    if (setns (a->ns_fds[i], a->ns_types[i]) < 0)
      {
        kata_make_error (&err, errno, "join namespace %#x", a->ns_types[i]);
        child_fail (a, err);
      }
  if (a->unshare_flags && unshare (a->unshare_flags) < 0)
    {
      kata_make_error (&err, errno, "unshare %#x", a->unshare_flags);
      child_fail (a, err);
    }

  setsid ();
  /* Pipes now; a terminal once inside the container's root (setup_console). */
  for (i = 0; i < 3; i++)
    if (a->stdio[i] >= 0 && dup2 (a->stdio[i], i) < 0)
      {
        kata_make_error (&err, errno, "dup2 stdio");
        child_fail (a, err);
      }
  for (i = 0; i < 3; i++)
    if (a->stdio[i] > 2)
      close (a->stdio[i]);
}

/* The process's rlimits, oom_score_adj and, with a terminal, its size. */
static void
set_limits (agent_child_args_t *a, runtime_spec_schema_config_schema_process *p)
{
  kata_error_t *err = NULL;
  int i;
  for (i = 0; i < (int)p->rlimits_len; i++)
    {
      runtime_spec_schema_config_schema_process_rlimits_element *rl = p->rlimits[i];
      int res = rlimit_resource (rl->type);
      struct rlimit lim = { .rlim_cur = rl->soft, .rlim_max = rl->hard };
      if (res < 0)
        {
          kata_make_error_nostr (&err, EINVAL, "unknown rlimit `%s`", rl->type);
          child_fail (a, err);
        }
      if (setrlimit (res, &lim) < 0)
        {
          kata_make_error (&err, errno, "setrlimit %s", rl->type);
          child_fail (a, err);
        }
    }
  if (p->oom_score_adj_present)
    {
      char buf[32];
      int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      snprintf (buf, sizeof buf, "%d", p->oom_score_adj);
      if (fd >= 0)
        {
          kata_write_all (fd, buf, strlen (buf));
          close (fd);
        }
    }
  if (p->terminal && p->console_size)
    {
      struct winsize ws = { .ws_row = p->console_size->height, .ws_col = p->console_size->width };
      ioctl (0, TIOCSWINSZ, &ws);
    }
}

void
agent_child_run (agent_child_args_t *a)
{
  runtime_spec_schema_config_schema_process *p = a->process;
  kata_error_t *err = NULL;
  sigset_t all;
  int i;
  char **env;
  size_t envn;
  cleanup_free char *exe = NULL;
  int guest_master = -1;

  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  for (i = 1; i < NSIG; i++)
    signal (i, SIG_DFL);
  for (i = 0; i < 16 && a->close_fds[i] >= 0; i++)
    close (a->close_fds[i]);

  /* A fallback terminal, while /dev is still the guest's (see setup_console). */
  if (a->console_sock >= 0)
    guest_master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  enter_namespaces (a);
  if (a->is_init)
    {
      if (agent_setup_rootfs (a->spec, a->rootfs, (a->unshare_flags & CLONE_NEWNS) != 0, &err) < 0)
        {
          kata_error_wrap (&err, "rootfs");
          child_fail (a, err);
        }
      if ((a->unshare_flags & CLONE_NEWUTS) && a->spec->hostname
          && sethostname (a->spec->hostname, strlen (a->spec->hostname)) < 0)
        {
          kata_make_error (&err, errno, "sethostname");
          child_fail (a, err);
        }
      if ((a->unshare_flags & CLONE_NEWUTS) && a->spec->domainname
          && setdomainname (a->spec->domainname, strlen (a->spec->domainname)) < 0)
        {
          kata_make_error (&err, errno, "setdomainname");
          child_fail (a, err);
        }
    }

  if (a->console_sock >= 0)
    setup_console (a, guest_master);

  if (p == NULL || p->args_len == 0)
    {
      kata_make_error_nostr (&err, EINVAL, "process.args must not be empty");
      child_fail (a, err);
    }
  envn = p->env_len;
  env = xmalloc0 (sizeof (char *) * (envn + 2));
  for (i = 0; i < (int)envn; i++)
    env[i] = p->env[i];
  /* like runc, create a missing cwd of the container's process (we are inside its root) */
  if (a->is_init && p->cwd && *p->cwd && access (p->cwd, F_OK) < 0)
    kata_mkdir_p (p->cwd, 0755, NULL);
  if (p->cwd && *p->cwd && chdir (p->cwd) < 0)
    {
      kata_make_error (&err, errno, "chdir to cwd (\"%s\") set in config.json failed", p->cwd);
      child_fail (a, err);
    }
  exe = look_path (p->args[0], env_get (env, envn, "PATH"), &err);
  if (exe == NULL)
    child_fail (a, err);

  if (a->is_init)
    {
      char c;
      kata_write_all (a->sync_fd, "R", 1);
      if (kata_read_all (a->start_fd, &c, 1) != 1)
        _exit (1); /* removed before being started */
      close (a->start_fd);
    }

  set_limits (a, p);
  if (agent_caps_drop_bounding (p->capabilities, &err) < 0)
    child_fail (a, err);
  if (!p->no_new_privileges && load_seccomp (a->spec, &err) < 0)
    child_fail (a, err);
  if (setup_user (p, &env, &envn, &err) < 0)
    child_fail (a, err);
  umask (p->user && p->user->umask_present ? p->user->umask : 022);
  if (agent_caps_apply (p->capabilities, &err) < 0)
    child_fail (a, err);
  if (p->no_new_privileges)
    {
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        {
          kata_make_error (&err, errno, "no_new_privs");
          child_fail (a, err);
        }
      if (load_seccomp (a->spec, &err) < 0)
        child_fail (a, err);
    }
  execve (exe, p->args, env);
  kata_make_error_nostr (&err, errno, "exec: \"%s\": %s", p->args[0], strerror (errno));
  child_fail (a, err);
}
