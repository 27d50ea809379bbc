#include "common/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

#ifdef PV_HAVE_SECCOMP
#include <seccomp.h>
#endif

#define TAG "sandbox"

/* Sanitizer runtimes need more at exit: LeakSanitizer stops the process's
 * threads from a helper task it clones (not a thread) and ptrace-attaches. */
#if defined(__SANITIZE_ADDRESS__)
#define PV_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PV_SANITIZER 1
#endif
#endif
#ifndef PV_SANITIZER
#define PV_SANITIZER 0
#endif

/* Each namespace alone, so that one the kernel refuses does not cost the
 * others. A mount namespace only detaches this process from later mounts
 * of the host (mount itself is forbidden by the filter); the network one
 * leaves it no interface but loopback (socket creation is forbidden too),
 * the IPC one no System V objects of the host. */
static void
enter_namespaces(const char *name)
{
   static const struct {
      int flag;
      const char *what;
   } nss[] = {
      { CLONE_NEWNET, "network" },
      { CLONE_NEWIPC, "IPC" },
      { CLONE_NEWNS, "mount" },
   };
   char done[64] = "", skipped[128] = "";
   for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++) {
      if (unshare(nss[i].flag) == 0) {
         if (nss[i].flag == CLONE_NEWNS)
            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
         snprintf(done + strlen(done), sizeof(done) - strlen(done), " %s", nss[i].what);
      } else {
         snprintf(skipped + strlen(skipped), sizeof(skipped) - strlen(skipped), " %s (%s)",
                  nss[i].what, strerror(errno));
      }
   }
   if (skipped[0])
      pv_info(TAG, "%s: private namespaces:%s; not permitted here:%s", name,
              done[0] ? done : " none", skipped);
   else
      pv_debug(TAG, "%s: private namespaces:%s", name, done);
}

static void
set_rlimits(void)
{
   /* no core dumps: they would hold guest data */
   const struct rlimit none = { 0, 0 };
   setrlimit(RLIMIT_CORE, &none);
}

/* Adds to gids (at most max, no duplicates) the group of each character
 * device in dir whose name starts with prefix and whose group may read and
 * write it; the root group (0) is never added. */
static void
add_device_groups(const char *dir, const char *prefix, gid_t *gids, int *n, int max)
{
   DIR *d = opendir(dir);
   if (!d)
      return;
   const struct dirent *e;
   while ((e = readdir(d)) && *n < max) {
      if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
         continue;
      struct stat st;
      if (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISCHR(st.st_mode) || st.st_gid == 0 ||
          (st.st_mode & (S_IRGRP | S_IWGRP)) != (S_IRGRP | S_IWGRP))
         continue;
      int i = 0;
      while (i < *n && gids[i] != st.st_gid)
         i++;
      if (i == *n)
         gids[(*n)++] = st.st_gid;
   }
   closedir(d);
}

int
pv_sandbox_gpu_groups(const char *dev, gid_t *gids, int max)
{
   char dri[4096];
   snprintf(dri, sizeof(dri), "%s/dri", dev);
   int n = 0;
   add_device_groups(dri, "", gids, &n, max);
   add_device_groups(dev, "nvidia", gids, &n, max);
   return n;
}

/* The user's own groups, plus with gpu_groups the groups that own the GPU
 * device nodes (video/render for /dev/dri, NVIDIA's when not world-usable). */
static int
set_groups(const char *user, gid_t gid, bool gpu_groups)
{
   if (initgroups(user, gid) < 0)
      return -errno;
   if (!gpu_groups)
      return 0;
   gid_t gids[256];
   int n = getgroups(128, gids);
   if (n < 0)
      return -errno;
   const int own = n;
   n += pv_sandbox_gpu_groups("/dev", gids + n, 256 - n);
   if (n > own && setgroups((size_t)n, gids) < 0)
      return -errno;
   return 0;
}

static int
drop_user(const struct pv_sandbox_config *cfg, const char *name)
{
   if (geteuid() != 0)
      return 0;
   const char *user = cfg->user ? cfg->user : "nobody";
   struct passwd *pw = getpwnam(user);
   if (!pw) {
      pv_error(TAG, "%s: no user \"%s\" to run as", name, user);
      return -ENOENT;
   }
   if (pw->pw_uid == 0) {
      pv_error(TAG, "%s: refusing to run as \"%s\": uid 0", name, user);
      return -EPERM;
   }
   const uid_t uid = pw->pw_uid; /* pw does not survive the next lookup */
   const gid_t gid = pw->pw_gid;
   /* The user's own groups (e.g. video/render, for /dev/dri) and no others,
    * unless gpu_groups. */
   int err = set_groups(user, gid, cfg->gpu_groups);
   if (!err && (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0))
      err = -errno;
   if (err) {
      pv_error(TAG, "%s: cannot become user \"%s\": %s", name, user, strerror(-err));
      return err;
   }
   if (setuid(0) == 0) {
      pv_error(TAG, "%s: still root after dropping to \"%s\"", name, user);
      return -EPERM;
   }
   pv_debug(TAG, "%s: running as %s (uid %d)", name, user, (int)uid);
   return 0;
}

#ifdef PV_HAVE_SECCOMP

/* Names of system calls by number, resolved before the filter is in
 * place: the SIGSYS handler must not allocate. */
#define MAX_SYSCALL_NR 512
static char *syscall_names[MAX_SYSCALL_NR];

static void
resolve_syscall_names(void)
{
   for (int nr = 0; nr < MAX_SYSCALL_NR; nr++) {
      if (!syscall_names[nr])
         syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
   }
}

/* The SIGSYS of a forbidden call (which did not run): say which, then
 * leave. Only async-signal-safe calls here, all of them allowed. */
static void
on_sigsys(int sig, siginfo_t *si, void *uc)
{
   (void)sig;
   (void)uc;
   char line[160];
   const int nr = si->si_syscall;
   const char *syscall_name =
      nr >= 0 && nr < MAX_SYSCALL_NR && syscall_names[nr] ? syscall_names[nr] : "?";
   int n = snprintf(line, sizeof(line),
                    "pearvisor sandbox: pid %d: forbidden system call %d (%s): stopped\n",
                    (int)getpid(), nr, syscall_name);
   if (n > 0) {
      ssize_t w = write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line));
      (void)w;
   }
   _exit(PV_SANDBOX_EXIT_STATUS);
}

/* Allowed whatever their arguments. */
static const char *const allowed[] = {
   /* files and memory: the driver (ICD json, shared objects, shader cache
    * as the unprivileged user), blobs (memfd), guest memory (mmap) */
   "read",
   "write",
   "readv",
   "writev",
   "pread64",
   "pwrite64",
   "preadv",
   "pwritev",
   "close",
   "close_range",
   "lseek",
   "fstat",
   "stat",
   "lstat",
   "newfstatat",
   "statx",
   "statfs",
   "fstatfs",
   "access",
   "faccessat",
   "faccessat2",
   "open",
   "openat",
   "readlink",
   "readlinkat",
   "getdents",
   "getdents64",
   "getcwd",
   "mkdir",
   "mkdirat",
   "rename",
   "renameat",
   "renameat2",
   "unlink",
   "unlinkat",
   /* NVIDIA's driver (580.159, H200) makes its shader-cache lock a symlink:
    * the only call PV_SANDBOX=log reported for it over the tests/vk programs
    * and a pvbench run with both guest drivers */
   "symlink",
   "symlinkat",
   "fsync",
   "fdatasync",
   "flock",
   "ftruncate",
   "fallocate",
   "fadvise64",
   "utimensat",
   "mmap",
   "munmap",
   "mprotect",
   "mremap",
   "madvise",
   "brk",
   "msync",
   "mincore",
   "mlock",
   "munlock",
   "memfd_create",
   "get_mempolicy",
   "set_mempolicy",
   "mbind",
   /* device nodes (ioctl: /dev/dri and /dev/nvidia*), descriptors, waiting */
   "ioctl",
   "fcntl",
   "dup",
   "dup2",
   "dup3",
   "pipe",
   "pipe2",
   "eventfd",
   "eventfd2",
   "poll",
   "ppoll",
   "select",
   "pselect6",
   "epoll_create",
   "epoll_create1",
   "epoll_ctl",
   "epoll_wait",
   "epoll_pwait",
   "timerfd_create",
   "timerfd_settime",
   "timerfd_gettime",
   "signalfd4",
   /* threads (clone itself: below) */
   "futex",
   "futex_waitv",
   "set_robust_list",
   "get_robust_list",
   "rseq",
   "set_tid_address",
   "sched_yield",
   "sched_getaffinity",
   "sched_setaffinity",
   "sched_getparam",
   "sched_getscheduler",
   "sched_setscheduler",
   "sched_get_priority_max",
   "sched_get_priority_min",
   "getpriority",
   "setpriority",
   "membarrier",
   /* time, identity, limits */
   "nanosleep",
   "clock_nanosleep",
   "clock_gettime",
   "clock_getres",
   "gettimeofday",
   "time",
   "getpid",
   "gettid",
   "getppid",
   "getuid",
   "geteuid",
   "getgid",
   "getegid",
   "getresuid",
   "getresgid",
   "getgroups",
   /* NVIDIA's driver (580.159, H200) reads its capabilities when a queue
    * asks for the realtime global priority (pv-vtest --queue-priority): the
    * unprivileged user has none, the driver then refuses the class and the
    * renderer falls back to the default */
   "capget",
   "getrlimit",
   "prlimit64",
   "getrusage",
   "sysinfo",
   "uname",
   "umask",
   "getrandom",
   "prctl",
   "arch_prctl",
   /* signals (kill and tgkill: below) */
   "rt_sigaction",
   "rt_sigprocmask",
   "rt_sigreturn",
   "rt_sigtimedwait",
   "sigaltstack",
   "restart_syscall",
   "exit",
   "exit_group",
   /* the sockets the process was given (no new ones) */
   "recvmsg",
   "sendmsg",
   "recvfrom",
   "sendto",
   "shutdown",
   "getsockopt",
   "setsockopt",
   "getsockname",
   "getpeername",
};

static int
add_rule(scmp_filter_ctx f, const char *syscall_name, unsigned n, const struct scmp_arg_cmp *args)
{
   const int nr = seccomp_syscall_resolve_name(syscall_name);
   if (nr == __NR_SCMP_ERROR)
      return 0; /* not on this architecture */
   return seccomp_rule_add_array(f, SCMP_ACT_ALLOW, nr, n, args);
}

static int
build_filter(scmp_filter_ctx f, const struct pv_sandbox_config *cfg)
{
   int ret = 0;
   for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !ret; i++)
      ret = add_rule(f, allowed[i], 0, NULL);
   const pid_t self = getpid();
   /* signals to this process only (the sanitizers' helper task is another
    * process: it may signal this one) */
   const struct scmp_arg_cmp to_self = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self);
   if (!ret)
      ret = add_rule(f, "kill", PV_SANITIZER ? 0 : 1, &to_self);
   if (!ret)
      ret = add_rule(f, "tgkill", PV_SANITIZER ? 0 : 1, &to_self);
   /* clone3 hides its flags from the filter: glibc falls back to clone */
   if (!ret)
      ret = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
   if (!ret && PV_SANITIZER) {
      /* LeakSanitizer's helper task: clone without CLONE_THREAD, then
       * ptrace (attach to this process's threads) and wait4 */
      ret = add_rule(f, "clone", 0, NULL);
      if (!ret)
         ret = add_rule(f, "ptrace", 0, NULL);
      if (!ret)
         ret = add_rule(f, "wait4", 0, NULL);
   } else if (!ret) {
      /* threads only: no new processes */
      const struct scmp_arg_cmp thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
      ret = add_rule(f, "clone", 1, &thread);
   }
   if (!ret && cfg->allow_accept)
      ret = add_rule(f, "accept4", 0, NULL);
   if (!ret && cfg->allow_accept)
      ret = add_rule(f, "accept", 0, NULL);
   return ret;
}

static int
install_filter(const struct pv_sandbox_config *cfg, const char *name)
{
   resolve_syscall_names();
   struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
   sigemptyset(&sa.sa_mask);
   sigaction(SIGSYS, &sa, NULL);
   sigset_t sys;
   sigemptyset(&sys);
   sigaddset(&sys, SIGSYS);
   pthread_sigmask(SIG_UNBLOCK, &sys, NULL);

   /* A forbidden call does not run: the kernel raises SIGSYS instead.
    * PV_SANDBOX=log (bring-up on a new host driver): forbidden calls run
    * and the kernel's audit log (dmesg, type=1326) names them. */
   const char *mode = getenv("PV_SANDBOX");
   const bool log_only = mode && !strcmp(mode, "log");
   if (log_only)
      pv_warn(TAG, "%s: PV_SANDBOX=log: forbidden system calls are only logged (audit)", name);
   scmp_filter_ctx f = seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
   if (!f) {
      pv_error(TAG, "%s: seccomp_init failed", name);
      return -ENOMEM;
   }
   int ret = build_filter(f, cfg);
   if (!ret)
      ret = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
   if (!ret)
      ret = seccomp_load(f);
   seccomp_release(f);
   if (ret) {
      pv_error(TAG, "%s: cannot install the seccomp filter: %s", name, strerror(-ret));
      return ret;
   }
   return 0;
}

bool
pv_sandbox_available(void)
{
   return true;
}

#else

static int
install_filter(const struct pv_sandbox_config *cfg, const char *name)
{
   (void)cfg;
   pv_warn(TAG, "%s: built without libseccomp: no system call filter", name);
   return 0;
}

bool
pv_sandbox_available(void)
{
   return false;
}

#endif

int
pv_sandbox_enter(const struct pv_sandbox_config *cfg)
{
   const char *name = cfg->name ? cfg->name : "process";
   /* namespaces need privileges the user drop takes away */
   enter_namespaces(name);
   set_rlimits();
   int ret = drop_user(cfg, name);
   if (ret < 0)
      return ret;
   /* glibc's first user lookup tries nscd over a new socket, which the filter
    * forbids; the host driver looks its user up later (for its cache
    * directory). One lookup here lets glibc settle on files first. */
   (void)getpwuid(geteuid());
   if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
      ret = -errno;
      pv_error(TAG, "%s: PR_SET_NO_NEW_PRIVS: %s", name, strerror(errno));
      return ret;
   }
   return install_filter(cfg, name);
}
