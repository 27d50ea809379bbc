/* Unit test: the sandbox lets a process do what a renderer does (threads,
 * memfd, mmap, files it may read, its inherited sockets) and stops each
 * forbidden call without running it. Every case runs in a child process. */
#include "common/sandbox.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void *
thread_fn(void *arg)
{
   return arg;
}

/* Allowed: returns 0 when all of it worked. */
static int
allowed_work(int sock)
{
   pthread_t t;
   void *ret = NULL;
   if (pthread_create(&t, NULL, thread_fn, (void *)1) || pthread_join(t, &ret) || ret != (void *)1)
      return 1;
   int mfd = memfd_create("pv-test", MFD_CLOEXEC);
   if (mfd < 0 || ftruncate(mfd, 65536) < 0)
      return 2;
   void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
   if (p == MAP_FAILED)
      return 3;
   memset(p, 1, 65536);
   munmap(p, 65536);
   close(mfd);
   int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
   char buf[64];
   if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
      return 4;
   close(fd);
   if (send(sock, "x", 1, MSG_NOSIGNAL) != 1)
      return 5;
   return 0;
}

static void
forbidden(const char *what)
{
   if (!strcmp(what, "execve")) {
      char *const argv[] = { "/bin/true", NULL };
      execve(argv[0], argv, NULL);
   } else if (!strcmp(what, "socket")) {
      socket(AF_INET, SOCK_STREAM, 0);
   } else if (!strcmp(what, "mount")) {
      mount("none", "/mnt", "tmpfs", 0, NULL);
   } else if (!strcmp(what, "ptrace")) {
      ptrace(PTRACE_ATTACH, getppid(), NULL, NULL);
   } else if (!strcmp(what, "fork")) {
      if (fork() == 0)
         _exit(0);
   }
}

/* Runs `what` in a sandboxed child; returns its wait status. */
static int
run_child(const char *what)
{
   int sv[2];
   if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
      exit(1);
   pid_t pid = fork();
   if (pid < 0)
      exit(1);
   if (pid == 0) {
      close(sv[0]);
      const struct pv_sandbox_config cfg = { .name = what };
      if (pv_sandbox_enter(&cfg) < 0)
         _exit(90);
      if (!strcmp(what, "allowed"))
         _exit(allowed_work(sv[1]));
      forbidden(what);
      _exit(0); /* the call ran, or returned an error instead of stopping us */
   }
   close(sv[1]);
   int status = 0;
   waitpid(pid, &status, 0);
   close(sv[0]);
   return status;
}

int
main(void)
{
   if (!pv_sandbox_available()) {
      printf("built without libseccomp: skipped\n");
      return 77;
   }
   int failed = 0;
   int st = run_child("allowed");
   if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fprintf(stderr, "allowed work failed in the sandbox (status 0x%x)\n", st);
      failed++;
   }
   /* ptrace and fork are allowed in sanitizer builds (LeakSanitizer) */
   const char *const forbidden_calls[] = {
      "execve",
      "socket",
      "mount",
#if !defined(__SANITIZE_ADDRESS__)
      "ptrace",
      "fork",
#endif
   };
   for (size_t i = 0; i < sizeof(forbidden_calls) / sizeof(forbidden_calls[0]); i++) {
      st = run_child(forbidden_calls[i]);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != PV_SANDBOX_EXIT_STATUS) {
         fprintf(stderr, "%s was not stopped by the sandbox (status 0x%x)\n", forbidden_calls[i],
                 st);
         failed++;
      }
   }
   printf(failed ? "FAILED\n" : "ok\n");
   return failed ? 1 : 0;
}
