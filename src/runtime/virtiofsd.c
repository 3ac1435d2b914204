/* virtiofsd: the vhost-user daemon behind shared_fs = "virtio-fs". */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/utils.h"
#include "runtime/hypervisor.h"
#include "runtime/log.h"
#include "runtime/storage.h"

int
kata_virtiofsd_start (const kata_config_t *cfg, const char *shared_dir, const char *sock_path, pid_t *pid_out,
                      kata_error_t **err)
{
  const char *daemon = cfg->hypervisor.virtio_fs_daemon && *cfg->hypervisor.virtio_fs_daemon
                           ? cfg->hypervisor.virtio_fs_daemon
                           : "/usr/lib/qemu/virtiofsd";
  const char *cache = cfg->hypervisor.virtio_fs_cache && *cfg->hypervisor.virtio_fs_cache
                          ? cfg->hypervisor.virtio_fs_cache
                          : "auto";
  cleanup_free char *a_sock = xasprintf ("--socket-path=%s", sock_path);
  cleanup_free char *a_src = xasprintf ("source=%s", shared_dir);
  cleanup_free char *a_cache = xasprintf ("cache=%s", cache);
  cleanup_free char *logpath = NULL;
  const char *slash = strrchr (sock_path, '/');
  uint64_t deadline;
  struct stat st;
  pid_t pid;

  if (access (daemon, X_OK) < 0)
    return kata_make_error (err, errno, "virtiofsd `%s`", daemon);
  /* As Kata does: virtiofsd's namespace (sandbox=namespace) is a slave copy of ours taken
     when it starts, so the rootfs and volumes bound under SHARED_DIR later reach it only if
     SHARED_DIR is a mount of its own in a shared peer group (the host's / may be private).
     The sandbox's cleanup unmounts it (kata_storage_umount_all_under, monitor cleanup). */
  if (!kata_storage_is_mountpoint (shared_dir) && mount (shared_dir, shared_dir, NULL, MS_BIND, NULL) < 0)
    return kata_make_error (err, errno, "bind `%s` onto itself", shared_dir);
  if (mount (NULL, shared_dir, NULL, MS_SHARED, NULL) < 0)
    return kata_make_error (err, errno, "make `%s` a shared mount", shared_dir);
  logpath = slash ? xasprintf ("%.*s/virtiofsd.log", (int)(slash - sock_path), sock_path)
                  : xstrdup ("virtiofsd.log");
  unlink (sock_path);
  pid = fork ();
  if (pid < 0)
    return kata_make_error (err, errno, "fork");
  if (pid == 0)
    {
      sigset_t none;
      int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
      int logfd = open (logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      for (int sig = 1; sig < NSIG; sig++)
        signal (sig, SIG_DFL);
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (nul >= 0)
        dup2 (nul, 0);
      if (logfd >= 0)
        {
          dup2 (logfd, 1);
          dup2 (logfd, 2);
        }
      execl (daemon, daemon, a_sock, "-o", a_src, "-o", a_cache, "-o", "sandbox=namespace", "-o",
             "log_level=warn", (char *)NULL);
      _exit (127);
    }
  deadline = kata_now_ns () + 10000000000ULL;
  while (stat (sock_path, &st) < 0 || !S_ISSOCK (st.st_mode))
    {
      int status;
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          cleanup_free char *log = NULL;
          kata_read_file (logpath, &log, NULL, 4096, NULL);
          return kata_make_error_nostr (err, KATA_EVMDEAD, "virtiofsd exited with status %d: %s",
                                        WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status),
                                        log ? log : "");
        }
      if (kata_now_ns () > deadline)
        {
          kill (pid, SIGKILL);
          waitpid (pid, NULL, 0);
          return kata_make_error_nostr (err, KATA_ETIMEOUT, "virtiofsd did not create `%s` within 10 s",
                                        sock_path);
        }
      usleep (5000);
    }
  kata_debug ("virtiofsd started (pid %d) for %s", (int)pid, shared_dir);
  *pid_out = pid;
  return 0;
}
