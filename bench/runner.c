#include "runner.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

extern char **environ;

double
pb_now_s(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- environment ---- */

static int
env_push(struct pb_env *e, char *s)
{
   if (e->n + 2 > e->cap) {
      size_t cap = e->cap ? e->cap * 2 : 64;
      char **v = realloc(e->v, cap * sizeof(*v));
      if (!v)
         return -ENOMEM;
      e->v = v;
      e->cap = cap;
   }
   e->v[e->n++] = s;
   e->v[e->n] = NULL;
   return 0;
}

int
pb_env_init(struct pb_env *e)
{
   memset(e, 0, sizeof(*e));
   for (char **p = environ; *p; p++) {
      char *s = strdup(*p);
      if (!s || env_push(e, s)) {
         free(s);
         pb_env_fini(e);
         return -ENOMEM;
      }
   }
   if (!e->v) {
      /* An empty environment still needs its NULL terminator. */
      e->v = calloc(1, sizeof(*e->v));
      if (!e->v)
         return -ENOMEM;
      e->cap = 1;
   }
   return 0;
}

int
pb_env_set(struct pb_env *e, const char *name, const char *value)
{
   size_t nl = strlen(name);
   for (size_t i = 0; i < e->n; i++) {
      if (!strncmp(e->v[i], name, nl) && e->v[i][nl] == '=') {
         free(e->v[i]);
         e->v[i] = e->v[--e->n];
         e->v[e->n] = NULL;
         break;
      }
   }
   if (!value)
      return 0;
   size_t len = nl + strlen(value) + 2;
   char *s = malloc(len);
   if (!s)
      return -ENOMEM;
   snprintf(s, len, "%s=%s", name, value);
   if (env_push(e, s)) {
      free(s);
      return -ENOMEM;
   }
   return 0;
}

void
pb_env_fini(struct pb_env *e)
{
   for (size_t i = 0; i < e->n; i++)
      free(e->v[i]);
   free(e->v);
   memset(e, 0, sizeof(*e));
}

/* ---- processes ---- */

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void
child_exec(const char *file, char *const argv[], char *const envp[], int log_fd, int rep_w,
           int go_r, bool own_group)
{
   prctl(PR_SET_PDEATHSIG, SIGKILL);
   if (own_group)
      setpgid(0, 0);
   signal(SIGPIPE, SIG_DFL);
   int devnull = open("/dev/null", O_RDONLY);
   if (devnull >= 0)
      dup2(devnull, 0);
   if (log_fd >= 0) {
      dup2(log_fd, 1);
      dup2(log_fd, 2);
   }
   if (rep_w >= 0) {
      /* dup2 clears O_CLOEXEC on the new fds. go_r may already be 3. */
      int go = fcntl(go_r, F_DUPFD_CLOEXEC, 10);
      dup2(rep_w, 3);
      dup2(go, 4);
   }
   if (strchr(file, '/'))
      execve(file, argv, envp);
   else
      execvpe(file, argv, envp); /* a bare name, e.g. a --server-prefix tool */
   static const char msg[] = "pvbench: exec failed\n";
   ssize_t r = write(2, msg, sizeof(msg) - 1);
   (void)r;
   _exit(127);
}

int
pb_spawn(const char *file, char *const argv[], char *const envp[], int log_fd, bool pipes,
         bool own_group, struct pb_proc *p)
{
   int rep[2] = { -1, -1 }, go[2] = { -1, -1 };
   memset(p, 0, sizeof(*p));
   p->rep_fd = p->go_fd = -1;
   if (pipes && (pipe2(rep, O_CLOEXEC) || pipe2(go, O_CLOEXEC))) {
      int err = -errno;
      for (int i = 0; i < 2; i++) {
         if (rep[i] >= 0)
            close(rep[i]);
         if (go[i] >= 0)
            close(go[i]);
      }
      return err;
   }
   pid_t pid = fork();
   if (pid < 0) {
      int err = -errno;
      if (pipes) {
         close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
      }
      return err;
   }
   if (pid == 0)
      child_exec(file ? file : argv[0], argv, envp, log_fd, rep[1], go[0], own_group);
   if (own_group)
      setpgid(pid, pid); /* also from the parent: no race with kill(-pid) */
   p->pid = pid;
   if (pipes) {
      close(rep[1]);
      close(go[0]);
      p->rep_fd = rep[0];
      p->go_fd = go[1];
   }
   return 0;
}

static void
proc_close_fds(struct pb_proc *p)
{
   if (p->rep_fd >= 0)
      close(p->rep_fd);
   if (p->go_fd >= 0)
      close(p->go_fd);
   p->rep_fd = p->go_fd = -1;
}

bool
pb_proc_alive(struct pb_proc *p)
{
   if (p->reaped || p->pid <= 0)
      return false;
   pid_t r = waitpid(p->pid, &p->wstatus, WNOHANG);
   if (r == p->pid) {
      p->reaped = true;
      return false;
   }
   return r == 0;
}

void
pb_proc_kill(struct pb_proc *p, bool group)
{
   if (p->pid > 0 && !p->reaped) {
      kill(group ? -p->pid : p->pid, SIGKILL);
      if (waitpid(p->pid, &p->wstatus, 0) == p->pid)
         p->reaped = true;
   }
   proc_close_fds(p);
}

void
pb_proc_reap(struct pb_proc *p, double timeout_s, bool group)
{
   double deadline = pb_now_s() + timeout_s;
   while (pb_proc_alive(p) && pb_now_s() < deadline)
      usleep(5000);
   if (!p->reaped)
      pb_proc_kill(p, group);
   proc_close_fds(p);
}

void
pb_proc_describe(const struct pb_proc *p, char *buf, size_t len)
{
   if (!p->reaped)
      snprintf(buf, len, "still running");
   else if (WIFEXITED(p->wstatus))
      snprintf(buf, len, "exit %d", WEXITSTATUS(p->wstatus));
   else if (WIFSIGNALED(p->wstatus))
      snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(p->wstatus),
               strsignal(WTERMSIG(p->wstatus)));
   else
      snprintf(buf, len, "status 0x%x", p->wstatus);
}

/* Splits buffered input into lines; keeps a trailing partial line. */
static void
drain_lines(struct pb_proc *p, size_t idx, void (*on_line)(void *, size_t, char *), void *data)
{
   size_t start = 0;
   for (size_t i = 0; i < p->len; i++) {
      if (p->buf[i] == '\n') {
         p->buf[i] = '\0';
         on_line(data, idx, p->buf + start);
         start = i + 1;
      }
   }
   if (start == 0 && p->len == sizeof(p->buf)) {
      /* An over-long line: hand it over cut rather than stall. */
      p->buf[p->len - 1] = '\0';
      on_line(data, idx, p->buf);
      start = p->len;
   }
   memmove(p->buf, p->buf + start, p->len - start);
   p->len -= start;
}

int
pb_pump(struct pb_proc *procs, size_t n, double deadline,
        void (*on_line)(void *data, size_t idx, char *line), bool (*stop)(void *data), void *data)
{
   struct pollfd *pfd = calloc(n ? n : 1, sizeof(*pfd));
   if (!pfd)
      return -ENOMEM;
   int ret = -ETIMEDOUT;
   for (;;) {
      if (stop && stop(data)) {
         ret = 1;
         break;
      }
      size_t open_fds = 0;
      for (size_t i = 0; i < n; i++) {
         pfd[i].fd = procs[i].eof ? -1 : procs[i].rep_fd;
         pfd[i].events = POLLIN;
         pfd[i].revents = 0;
         open_fds += pfd[i].fd >= 0;
      }
      if (!open_fds) {
         ret = 0;
         break;
      }
      double left = deadline - pb_now_s();
      if (left <= 0)
         break;
      int r = poll(pfd, n, left > 1.0 ? 1000 : (int)(left * 1000) + 1);
      if (r < 0 && errno != EINTR) {
         ret = -errno;
         break;
      }
      for (size_t i = 0; r > 0 && i < n; i++) {
         if (!pfd[i].revents || pfd[i].fd < 0)
            continue;
         struct pb_proc *p = &procs[i];
         ssize_t got = read(p->rep_fd, p->buf + p->len, sizeof(p->buf) - p->len);
         if (got > 0) {
            p->len += (size_t)got;
            drain_lines(p, i, on_line, data);
         } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
            if (p->len < sizeof(p->buf)) {
               p->buf[p->len] = '\0';
               if (p->len)
                  on_line(data, i, p->buf);
            }
            p->len = 0;
            p->eof = true;
         }
      }
   }
   free(pfd);
   return ret;
}

/* ---- servers ---- */

static bool
socket_accepts(const char *path)
{
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (fd < 0)
      return false;
   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
   bool ok = connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0;
   close(fd);
   return ok;
}

int
pb_server_start(char *const argv[], char *const envp[], int log_fd, double timeout_s,
                struct pb_proc *p, char *why, size_t whylen)
{
   struct stat st;
   if (lstat(PB_VTEST_SOCKET, &st) == 0) {
      if (socket_accepts(PB_VTEST_SOCKET)) {
         snprintf(why, whylen, "another server already listens on %s", PB_VTEST_SOCKET);
         return -EADDRINUSE;
      }
      unlink(PB_VTEST_SOCKET); /* stale, from our own previous server */
   }
   int err = pb_spawn(NULL, argv, envp, log_fd, false, true, p);
   if (err) {
      snprintf(why, whylen, "cannot start %s: %s", argv[0], strerror(-err));
      return err;
   }
   double deadline = pb_now_s() + timeout_s;
   for (;;) {
      /* A stat first: a connect probe only once the socket exists. */
      if (lstat(PB_VTEST_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode) &&
          socket_accepts(PB_VTEST_SOCKET))
         return 0;
      if (!pb_proc_alive(p)) {
         char how[96];
         pb_proc_describe(p, how, sizeof(how));
         snprintf(why, whylen, "server %s before listening", how);
         proc_close_fds(p);
         return -ECHILD;
      }
      if (pb_now_s() > deadline) {
         snprintf(why, whylen, "server not listening on %s after %.0f s", PB_VTEST_SOCKET,
                  timeout_s);
         pb_server_stop(p, pb_server_stop_grace_s(0));
         return -ETIMEDOUT;
      }
      usleep(10000);
   }
}

void
pb_server_stop(struct pb_proc *p, double grace_s)
{
   if (p->pid <= 0)
      return;
   /* The server alone, as a user stops it: it lets its client processes
    * finish their teardown (bounded by its teardown watchdog) instead of
    * their dying with the group mid-teardown. */
   if (!p->reaped)
      kill(p->pid, SIGTERM);
   pb_proc_reap(p, grace_s, true);
   /* Forked per-client children of the server die with its group. */
   kill(-p->pid, SIGKILL);
   unlink(PB_VTEST_SOCKET);
}

/* ---- namespaces ---- */

/* In the current (private) mount namespace, lays a fresh tmpfs over the real
 * /tmp: files there stay readable (an ICD or build tree may live under /tmp)
 * while what is written, a server's socket included, stays private. */
static int
overlay_tmp(void)
{
   static const char layer[] = "/run/pearvisor-private-tmp";
   if (mkdir(layer, 0755) && errno != EEXIST)
      return -errno;
   if (mount("pvbench-layer", layer, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755"))
      return -errno;
   if (mkdir("/run/pearvisor-private-tmp/upper", 01777) ||
       chmod("/run/pearvisor-private-tmp/upper", 01777) ||
       mkdir("/run/pearvisor-private-tmp/work", 0755))
      return -errno;
   if (mount("pvbench-tmp", "/tmp", "overlay", MS_NOSUID | MS_NODEV,
             "lowerdir=/tmp,upperdir=/run/pearvisor-private-tmp/upper,"
             "workdir=/run/pearvisor-private-tmp/work"))
      return -errno;
   return 0;
}

int
pb_private_tmp(char *why, size_t whylen)
{
   if (unshare(CLONE_NEWNS)) {
      int err = -errno;
      snprintf(why, whylen, "unshare(CLONE_NEWNS): %s", strerror(errno));
      return err;
   }
   /* Without this, the tmpfs mount would propagate back to the host. */
   if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
      int err = -errno;
      snprintf(why, whylen, "making mounts private: %s", strerror(errno));
      return err;
   }
   if (overlay_tmp() == 0)
      return 0;
   if (mount("pvbench-tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")) {
      int err = -errno;
      snprintf(why, whylen, "mounting a tmpfs on /tmp: %s", strerror(errno));
      return err;
   }
   return 0;
}

/* ---- memory ---- */

struct pid_pair {
   pid_t pid, ppid;
};

static pid_t
read_ppid(pid_t pid)
{
   char path[64], buf[512];
   snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
   int fd = open(path, O_RDONLY | O_CLOEXEC);
   if (fd < 0)
      return -1;
   ssize_t n = read(fd, buf, sizeof(buf) - 1);
   close(fd);
   if (n <= 0)
      return -1;
   buf[n] = '\0';
   /* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
   char *rp = strrchr(buf, ')');
   if (!rp)
      return -1;
   char state;
   int ppid;
   if (sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
      return -1;
   return ppid;
}

/* One mapped range of a pv-... memfd, to count each range once. */
struct shared_range {
   unsigned long inode, offset, len;
};

static bool
is_context_memfd(const char *name)
{
   return !strncmp(name, "/memfd:pv-", 10) && strncmp(name, "/memfd:pv-memory-budget", 23);
}

/* Shared_Clean + Shared_Dirty of pid's pv-... memfd mappings, adding to
 * *seen (ranges already counted, also across processes of the tree). */
static long
proc_guest_shared_kb(pid_t pid, struct shared_range **seen, size_t *nseen, size_t *cap)
{
   char path[64], line[512];
   snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
   FILE *f = fopen(path, "re");
   if (!f)
      return -errno;
   long kb = 0;
   bool counting = false;
   while (fgets(line, sizeof(line), f)) {
      unsigned long lo, hi, off, inode;
      char perms[8], dev[16];
      int name_at = 0;
      if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &lo, &hi, perms, &off, dev, &inode,
                 &name_at) == 6) {
         counting = false;
         char *name = line + name_at;
         name[strcspn(name, "\n")] = '\0';
         if (!is_context_memfd(name))
            continue;
         const struct shared_range r = { inode, off, hi - lo };
         counting = true;
         for (size_t i = 0; i < *nseen && counting; i++)
            counting = memcmp(&(*seen)[i], &r, sizeof(r)) != 0;
         if (!counting)
            continue;
         if (*nseen == *cap) {
            size_t ncap = *cap ? *cap * 2 : 64;
            struct shared_range *a = realloc(*seen, ncap * sizeof(*a));
            if (!a) {
               fclose(f);
               return -ENOMEM;
            }
            *seen = a;
            *cap = ncap;
         }
         (*seen)[(*nseen)++] = r;
      } else if (counting &&
                 (!strncmp(line, "Shared_Clean:", 13) || !strncmp(line, "Shared_Dirty:", 13))) {
         kb += strtol(line + 13, NULL, 10);
      }
   }
   fclose(f);
   return kb;
}

/* pid's command name (comm), "" when gone. */
static void
read_comm(pid_t pid, char *buf, size_t len)
{
   char path[64];
   snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
   buf[0] = '\0';
   FILE *f = fopen(path, "re");
   if (!f)
      return;
   if (fgets(buf, (int)len, f))
      buf[strcspn(buf, "\n")] = '\0';
   fclose(f);
}

int
pb_tree_mem(pid_t root, const char *ctx_comm, struct pb_tree_mem *out)
{
   memset(out, 0, sizeof(*out));
   DIR *d = opendir("/proc");
   if (!d)
      return -errno;
   struct pid_pair *all = NULL;
   size_t n = 0, cap = 0;
   struct dirent *e;
   while ((e = readdir(d))) {
      if (!isdigit((unsigned char)e->d_name[0]))
         continue;
      pid_t pid = (pid_t)atoi(e->d_name);
      pid_t ppid = read_ppid(pid);
      if (ppid < 0)
         continue;
      if (n == cap) {
         cap = cap ? cap * 2 : 512;
         struct pid_pair *a = realloc(all, cap * sizeof(*a));
         if (!a) {
            free(all);
            closedir(d);
            return -ENOMEM;
         }
         all = a;
      }
      all[n++] = (struct pid_pair){ pid, ppid };
   }
   closedir(d);
   /* Breadth-first over the tree; members are marked by moving them to the
    * front of the array. */
   size_t members = 0;
   for (size_t i = 0; i < n; i++) {
      if (all[i].pid == root) {
         struct pid_pair t = all[0];
         all[0] = all[i];
         all[i] = t;
         members = 1;
         break;
      }
   }
   for (size_t head = 0; head < members; head++) {
      for (size_t i = members; i < n; i++) {
         if (all[i].ppid == all[head].pid) {
            struct pid_pair t = all[members];
            all[members] = all[i];
            all[i] = t;
            members++;
         }
      }
   }
   struct shared_range *seen = NULL;
   size_t nseen = 0, seen_cap = 0;
   for (size_t i = 0; i < members; i++) {
      char comm[32];
      read_comm(all[i].pid, comm, sizeof(comm));
      const bool ctx = i == 0 || (ctx_comm && !strncmp(comm, ctx_comm, strlen(ctx_comm)));
      long kb = pb_proc_uss_kb(all[i].pid);
      if (kb > 0) {
         out->uss_kb += kb;
         out->ctx_uss_kb += ctx ? kb : 0;
         out->root_uss_kb += i == 0 ? kb : 0;
      }
      kb = proc_guest_shared_kb(all[i].pid, &seen, &nseen, &seen_cap);
      if (kb > 0) {
         out->shared_kb += kb;
         out->ctx_shared_kb += ctx ? kb : 0;
      }
      out->ctx_procs += ctx && i > 0;
   }
   free(seen);
   free(all);
   return members ? 0 : -ESRCH;
}

long
pb_tree_uss_kb(pid_t root)
{
   struct pb_tree_mem m;
   const int err = pb_tree_mem(root, NULL, &m);
   return err ? err : m.uss_kb;
}

void
pb_file_find(int dirfd, const char *name, const struct pb_find *q, char *buf, size_t len)
{
   buf[0] = '\0';
   int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
   FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
   if (!f) {
      if (fd >= 0)
         close(fd);
      return;
   }
   char line[512], prev[512] = "";
   /* Log files are small; a linear scan keeps this simple. */
   while (fgets(line, sizeof(line), f)) {
      size_t l = strlen(line);
      while (l && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' '))
         line[--l] = '\0';
      if (!l)
         continue;
      bool hit =
         (!q->needle || strstr(line, q->needle)) && (!q->exclude || !strstr(line, q->exclude));
      if (hit && q->with_prev && prev[0])
         snprintf(buf, len, "%s / %s", prev, line);
      else if (hit)
         snprintf(buf, len, "%s", line);
      if (hit && q->first)
         break;
      snprintf(prev, sizeof(prev), "%s", line);
   }
   fclose(f);
}

void
pb_file_last_line(int dirfd, const char *name, char *buf, size_t len)
{
   const struct pb_find q = { 0 };
   pb_file_find(dirfd, name, &q, buf, len);
}
