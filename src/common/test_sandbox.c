/* Unit test: the sandbox lets a process do what a renderer does (threads,
 * memfd, mmap, files it may read, its inherited sockets) and stops each
 * forbidden call without running it. Every case runs in a child process. */
#include "common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* The groups pv-vhost-user-gpu keeps for the GPU device nodes, on fake
 * nodes (mknod needs CAP_MKNOD: skipped without it). Returns failures. */
static int
test_gpu_groups(void)
{
   char dev[] = "/tmp/pv-test-dev-XXXXXX", path[128];
   if (!mkdtemp(dev))
      return 1;
   snprintf(path, sizeof(path), "%s/dri", dev);
   mkdir(path, 0755);
   static const struct {
      const char *name;
      mode_t mode;
      gid_t gid;
   } nodes[] = {
      { "dri/renderD128", 0660, 4242 }, /* render: kept */
      { "dri/card0", 0660, 4343 },      /* video: kept */
      { "dri/card1", 0660, 4242 },      /* the same group: once */
      { "dri/renderD129", 0600, 4444 }, /* the group may not use it */
      { "dri/renderD130", 0660, 0 },    /* the root group: never */
      { "nvidia0", 0660, 4545 },        /* NVIDIA's: kept */
      { "nvidiactl", 0666, 4646 },      /* world-usable: its group is kept too */
      { "fb0", 0660, 4747 },            /* not a GPU node */
   };
   int failed = 0;
   for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
      snprintf(path, sizeof(path), "%s/%s", dev, nodes[i].name);
      if (mknod(path, S_IFCHR | nodes[i].mode, makedev(1, 3)) < 0) {
         printf("gpu groups: mknod: %s: skipped\n", strerror(errno));
         goto out;
      }
      if (chmod(path, nodes[i].mode) < 0 || chown(path, 0, nodes[i].gid) < 0)
         failed++;
   }
   /* a plain file with a GPU name is not a device */
   snprintf(path, sizeof(path), "%s/dri/renderD131", dev);
   int fd = open(path, O_CREAT | O_WRONLY, 0660);
   if (fd < 0 || fchown(fd, 0, 4848) < 0)
      failed++;
   close(fd);
   gid_t gids[16];
   const int n = pv_sandbox_gpu_groups(dev, gids, 16);
   int seen[4] = { 0 };
   for (int i = 0; i < n; i++) {
      const gid_t want[] = { 4242, 4343, 4545, 4646 };
      int j = 0;
      while (j < 4 && want[j] != gids[i])
         j++;
      if (j == 4)
         failed++, fprintf(stderr, "gpu groups: unexpected group %d\n", (int)gids[i]);
      else
         seen[j]++;
   }
   for (int j = 0; j < 4; j++) {
      if (seen[j] != 1)
         failed++, fprintf(stderr, "gpu groups: group %d of 4242/4343/4545/4646 seen %d times\n", j,
                           seen[j]);
   }
   if (pv_sandbox_gpu_groups(dev, gids, 2) != 2)
      failed++;
out:
   for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
      snprintf(path, sizeof(path), "%s/%s", dev, nodes[i].name);
      unlink(path);
   }
   snprintf(path, sizeof(path), "%s/dri/renderD131", dev);
   unlink(path);
   snprintf(path, sizeof(path), "%s/dri", dev);
   rmdir(path);
   rmdir(dev);
   if (failed)
      fprintf(stderr, "gpu groups: %d failure(s)\n", failed);
   return failed;
}

int
main(void)
{
   if (test_gpu_groups())
      return 1;
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
