/* The pod's infra ("pause") container for the CRI tests: sleeps until
   SIGTERM or SIGINT (exit 0), reaps any child that is handed to it (it is
   PID 1 of the pod's PID namespace when the pod shares one).  Built static by
   lib.bash (gcc -static), so the image needs nothing else. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t done;

static void
on_stop (int sig)
{
  (void)sig;
  done = 1;
}

static void
on_child (int sig)
{
  int saved = errno;
  (void)sig;
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
  errno = saved;
}

int
main (void)
{
  struct sigaction sa;
  sigset_t block, wait_mask;

  /* SIGTERM/SIGINT stay blocked except inside sigsuspend: one that arrives
     before we wait is not lost. */
  sigemptyset (&block);
  sigaddset (&block, SIGTERM);
  sigaddset (&block, SIGINT);
  sigprocmask (SIG_BLOCK, &block, &wait_mask);
  sigdelset (&wait_mask, SIGTERM);
  sigdelset (&wait_mask, SIGINT);
  memset (&sa, 0, sizeof sa);
  sigemptyset (&sa.sa_mask);
  sa.sa_handler = on_stop;
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  sa.sa_handler = on_child;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction (SIGCHLD, &sa, NULL);
  while (!done)
    sigsuspend (&wait_mask);
  return 0;
}
