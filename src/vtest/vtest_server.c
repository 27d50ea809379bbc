#include "vtest/vtest_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "vtest/vtest_protocol.h"

#define TAG "vtest"
#define DEFAULT_MAX_CLIENTS 64
/* a full server waits up to 10 times this for a slot before refusing */
#define FULL_WAIT_MS 20
/* the client's socket in a client process */
#define CLIENT_PROCESS_FD 3
#define CLIENT_SHARED_FD 4
#define DEFAULT_MAX_PER_PID 8
#define DEFAULT_TEARDOWN_TIMEOUT_MS 5000
/* what a client process's exit status 159 means (see the sandbox) */
#define SANDBOX_EXIT_STATUS 159

extern char **environ;

struct server_client {
   struct server_client *next;
   struct vtest_server *srv;
   pthread_t thread;
   int sock;
   uint32_t id;
   uint32_t slot;        /* in the memory budget: budget_slot_base + [0, max_clients) */
   pid_t peer_pid;       /* SO_PEERCRED at accept */
   uid_t peer_uid;
   bool done;            /* under srv->lock */
};

struct vtest_server {
   struct vtest_server_config cfg;
   char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
   int listen_fd;
   int stop_efd;         /* written by vtest_server_stop */
   int reap_efd;         /* written by a client thread that finished */
   pthread_mutex_t lock;
   struct server_client *clients;
   uint32_t client_count;
   uint32_t next_id;
   uint32_t failed_clients;
};

static int
make_addr(const char *path, struct sockaddr_un *addr)
{
   memset(addr, 0, sizeof(*addr));
   addr->sun_family = AF_UNIX;
   size_t len = strlen(path);
   if (len == 0 || len >= sizeof(addr->sun_path))
      return -ENAMETOOLONG;
   memcpy(addr->sun_path, path, len);
   return 0;
}

/* True when a server answers on the path. */
static bool
socket_is_live(const struct sockaddr_un *addr)
{
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (fd < 0)
      return false;
   bool live = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
   close(fd);
   return live;
}

static int
listen_on(const char *path)
{
   struct sockaddr_un addr;
   int ret = make_addr(path, &addr);
   if (ret < 0)
      return ret;
   if (socket_is_live(&addr))
      return -EADDRINUSE;
   unlink(path);

   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (fd < 0)
      return -errno;
   if (bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0) {
      ret = -errno;
      close(fd);
      return ret;
   }
   return fd;
}

int
vtest_server_create(const struct vtest_server_config *cfg, struct vtest_server **out)
{
   struct vtest_server *srv = calloc(1, sizeof(*srv));
   if (!srv)
      return -ENOMEM;
   srv->cfg = *cfg;
   if (!srv->cfg.max_clients)
      srv->cfg.max_clients = DEFAULT_MAX_CLIENTS;
   if (!srv->cfg.max_clients_per_pid)
      srv->cfg.max_clients_per_pid = DEFAULT_MAX_PER_PID;
   if (!srv->cfg.max_clients_per_uid)
      srv->cfg.max_clients_per_uid = srv->cfg.max_clients;
   if (!srv->cfg.teardown_timeout_ms)
      srv->cfg.teardown_timeout_ms = DEFAULT_TEARDOWN_TIMEOUT_MS;
   const char *path = cfg->socket_path ? cfg->socket_path : VTEST_DEFAULT_SOCKET;
   if (strlen(path) >= sizeof(srv->path)) {
      free(srv);
      return -ENAMETOOLONG;
   }
   strcpy(srv->path, path);
   srv->cfg.socket_path = srv->path;
   srv->stop_efd = srv->reap_efd = -1;
   srv->next_id = 1;

   int ret = pthread_mutex_init(&srv->lock, NULL);
   if (ret) {
      free(srv);
      return -ret;
   }
   srv->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
   srv->reap_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
   srv->listen_fd = -1;
   if (srv->stop_efd < 0 || srv->reap_efd < 0) {
      ret = -errno;
      goto fail;
   }
   srv->listen_fd = listen_on(path);
   if (srv->listen_fd < 0) {
      ret = srv->listen_fd;
      goto fail;
   }
   *out = srv;
   return 0;

fail:
   if (srv->stop_efd >= 0)
      close(srv->stop_efd);
   if (srv->reap_efd >= 0)
      close(srv->reap_efd);
   pthread_mutex_destroy(&srv->lock);
   free(srv);
   return ret;
}

static void
poke(int efd)
{
   uint64_t one = 1;
   ssize_t n = write(efd, &one, sizeof(one));
   (void)n; /* a full counter is already a pending wake-up */
}

static void
drain(int efd)
{
   uint64_t v;
   ssize_t n = read(efd, &v, sizeof(v));
   (void)n;
}

/* Starts the client's process: our program, the socket as CLIENT_PROCESS_FD,
 * default signal handling (we block SIGINT/SIGTERM for our signalfd). */
static pid_t
spawn_client_process(const struct vtest_server *srv, const struct server_client *sc)
{
   int fd = sc->sock;
   if (fd == CLIENT_PROCESS_FD) {
      /* dup2 onto itself would keep close-on-exec */
      fd = fcntl(sc->sock, F_DUPFD_CLOEXEC, CLIENT_PROCESS_FD + 1);
      if (fd < 0)
         return -errno;
   }
   char id[16];
   snprintf(id, sizeof(id), "%u", sc->id);
   char fdarg[16];
   snprintf(fdarg, sizeof(fdarg), "%d", CLIENT_PROCESS_FD);
   char wire[16];
   snprintf(wire, sizeof(wire), "%u", srv->cfg.client.wire_format);
   char *argv[64] = { (char *)srv->cfg.client_exe, "--client-fd", fdarg, "--client-id", id,
                      "--client-wire-format", wire };
   char slot[16];
   snprintf(slot, sizeof(slot), "%u", sc->slot);
   argv[7] = "--client-budget-slot";
   argv[8] = slot;
   size_t argc = 9;
   for (const char *const *a = srv->cfg.client_args; a && *a && argc + 1 < 64; a++)
      argv[argc++] = (char *)*a;
   argv[argc] = NULL;

   posix_spawn_file_actions_t fa;
   posix_spawnattr_t attr;
   posix_spawn_file_actions_init(&fa);
   posix_spawnattr_init(&attr);
   sigset_t none, dfl;
   sigemptyset(&none);
   sigemptyset(&dfl);
   sigaddset(&dfl, SIGINT);
   sigaddset(&dfl, SIGTERM);
   posix_spawn_file_actions_adddup2(&fa, fd, CLIENT_PROCESS_FD);
   if (srv->cfg.client_shared_fd >= 0)
      posix_spawn_file_actions_adddup2(&fa, srv->cfg.client_shared_fd, CLIENT_SHARED_FD);
   posix_spawnattr_setsigmask(&attr, &none);
   posix_spawnattr_setsigdefault(&attr, &dfl);
   posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
   pid_t pid;
   int ret = posix_spawn(&pid, srv->cfg.client_exe, &fa, &attr, argv, environ);
   posix_spawnattr_destroy(&attr);
   posix_spawn_file_actions_destroy(&fa);
   if (fd != sc->sock)
      close(fd);
   return ret ? -ret : pid;
}

static int64_t
now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the client's process. Once its connection has ended (POLLHUP:
 * the peer closed, or the process or a stopping server shut the socket
 * down) the process has teardown_timeout_ms to exit; then it is killed. */
static int
wait_client_process(struct server_client *sc, pid_t pid, int *status, bool *killed)
{
   const uint32_t timeout = sc->srv->cfg.teardown_timeout_ms;
   int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
   int64_t deadline = -1;
   for (;;) {
      pid_t w = waitpid(pid, status, WNOHANG);
      if (w == pid)
         break;
      if (w < 0 && errno != EINTR) {
         pv_error(TAG, "client %u: waitpid: %s", sc->id, strerror(errno));
         if (pidfd >= 0)
            close(pidfd);
         return -1;
      }
      const int64_t now = now_ms();
      if (deadline >= 0 && now >= deadline && !*killed) {
         pv_error(TAG, "client %u: its process (pid %d) did not finish within %u ms of the end "
                       "of its connection: killed (teardown watchdog)", sc->id, (int)pid, timeout);
         kill(pid, SIGKILL);
         *killed = true;
      }
      /* Without a pidfd (kernels before 5.3) the process is polled. */
      int wait_ms = pidfd >= 0 ? -1 : 100;
      if (deadline >= 0 && !*killed) {
         const int64_t left = deadline - now;
         wait_ms = wait_ms < 0 || left < wait_ms ? (int)left : wait_ms;
      }
      /* events 0: only POLLHUP/POLLERR wake us, never pending input */
      struct pollfd pfds[2] = {
         { .fd = pidfd, .events = POLLIN },
         { .fd = deadline < 0 ? sc->sock : -1, .events = 0 },
      };
      if (poll(pfds, 2, wait_ms) > 0 && (pfds[1].revents & (POLLHUP | POLLERR)))
         deadline = now_ms() + timeout;
   }
   if (pidfd >= 0)
      close(pidfd);
   return 0;
}

/* Runs the client's process and waits for it. False when it failed. */
static bool
serve_in_process(struct server_client *sc)
{
   pid_t pid = spawn_client_process(sc->srv, sc);
   if (pid < 0) {
      pv_error(TAG, "client %u: cannot start its process: %s", sc->id, strerror((int)-pid));
      return true; /* refused, not crashed */
   }
   int status;
   bool killed = false;
   if (wait_client_process(sc, pid, &status, &killed) < 0)
      return false;
   if (killed)
      return false;
   if (WIFEXITED(status) && WEXITSTATUS(status) == SANDBOX_EXIT_STATUS) {
      pv_error(TAG, "client %u: its process (pid %d) was stopped by its sandbox (a forbidden "
                    "system call, named in its log line above)", sc->id, (int)pid);
      return false;
   }
   if (WIFSIGNALED(status)) {
      const int sig = WTERMSIG(status);
      /* asked to stop (e.g. with its process group), not a crash */
      if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
         pv_info(TAG, "client %u: its process (pid %d) was stopped by signal %d", sc->id,
                 (int)pid, sig);
         return true;
      }
      pv_error(TAG, "client %u: its process (pid %d) was killed by signal %d", sc->id, (int)pid,
               sig);
      return false;
   }
   if (WEXITSTATUS(status)) {
      pv_error(TAG, "client %u: its process (pid %d) exited with status %d", sc->id, (int)pid,
               WEXITSTATUS(status));
      return false;
   }
   return true;
}

static void *
client_thread(void *arg)
{
   struct server_client *sc = arg;
   bool ok = true;
   struct vtest_client_config cfg = sc->srv->cfg.client;
   cfg.budget_slot = sc->slot;
   if (sc->srv->cfg.client_exe)
      ok = serve_in_process(sc);
   else
      vtest_client_serve(sc->sock, sc->id, &cfg);
   if (cfg.budget) {
      const uint64_t held = pv_shared_budget_reclaim(cfg.budget, sc->slot);
      if (held)
         pv_info(TAG, "client %u: %llu bytes it still held returned to the memory budget",
                 sc->id, (unsigned long long)held);
   }
   pthread_mutex_lock(&sc->srv->lock);
   if (!ok)
      sc->srv->failed_clients++;
   sc->done = true;
   pthread_mutex_unlock(&sc->srv->lock);
   poke(sc->srv->reap_efd);
   return NULL;
}

/* Joins and frees finished clients (or all, once `all` and their sockets are shut down). */
static void
reap_clients(struct vtest_server *srv, bool all)
{
   for (;;) {
      struct server_client *found = NULL;
      pthread_mutex_lock(&srv->lock);
      for (struct server_client **link = &srv->clients; *link; link = &(*link)->next) {
         if ((*link)->done || all) {
            found = *link;
            *link = found->next;
            srv->client_count--;
            break;
         }
      }
      pthread_mutex_unlock(&srv->lock);
      if (!found)
         return;
      pthread_join(found->thread, NULL);
      close(found->sock);
      free(found);
   }
}

/* The lowest budget slot no client holds (srv->lock held). A finished but
 * not yet reaped client still holds its slot: its charges are taken back
 * just before it is marked done, so only a live one counts. */
static uint32_t
free_slot_locked(struct vtest_server *srv)
{
   for (uint32_t slot = srv->cfg.budget_slot_base;; slot++) {
      bool taken = false;
      for (struct server_client *c = srv->clients; c && !taken; c = c->next)
         taken = c->slot == slot;
      if (!taken)
         return slot;
   }
}

static void
accept_client(struct vtest_server *srv)
{
   int sock = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
   if (sock < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
         pv_warn(TAG, "accept failed: %s", strerror(errno));
      return;
   }
   /* Clients that just finished must not count against the limit, nor one
    * that is finishing now (a connect-and-close probe still has a process
    * for a few milliseconds): give a slot a moment to free up. */
   bool full = true;
   for (int tries = 0; full && tries < 10; tries++) {
      if (tries) {
         struct pollfd pfd = { .fd = srv->reap_efd, .events = POLLIN };
         if (poll(&pfd, 1, FULL_WAIT_MS) > 0)
            drain(srv->reap_efd);
      }
      reap_clients(srv, false);
      full = vtest_server_client_count(srv) >= srv->cfg.max_clients;
   }
   struct ucred cred = { .pid = 0, .uid = (uid_t)-1 };
   socklen_t cred_len = sizeof(cred);
   if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0)
      pv_warn(TAG, "no peer credentials: %s", strerror(errno));
   pthread_mutex_lock(&srv->lock);
   uint32_t id = srv->next_id++;
   uint32_t same_pid = 0, same_uid = 0;
   for (struct server_client *c = srv->clients; c; c = c->next) {
      if (c->done)
         continue;
      same_pid += c->peer_pid == cred.pid;
      same_uid += c->peer_uid == cred.uid;
   }
   pthread_mutex_unlock(&srv->lock);
   if (full) {
      pv_warn(TAG, "client %u (pid %d, uid %d) refused: %u clients already (--max-clients)", id,
              (int)cred.pid, (int)cred.uid, srv->cfg.max_clients);
      close(sock);
      return;
   }
   if (same_pid >= srv->cfg.max_clients_per_pid) {
      pv_warn(TAG, "client %u refused: its process (pid %d) has %u connections already "
                   "(--max-clients-per-pid)", id, (int)cred.pid, same_pid);
      close(sock);
      return;
   }
   if (same_uid >= srv->cfg.max_clients_per_uid) {
      pv_warn(TAG, "client %u (pid %d) refused: its user (uid %d) has %u connections already "
                   "(--max-clients-per-uid)", id, (int)cred.pid, (int)cred.uid, same_uid);
      close(sock);
      return;
   }

   struct server_client *sc = calloc(1, sizeof(*sc));
   if (!sc) {
      pv_error(TAG, "client %u refused: out of memory", id);
      close(sock);
      return;
   }
   sc->srv = srv;
   sc->sock = sock;
   sc->id = id;
   sc->peer_pid = cred.pid;
   sc->peer_uid = cred.uid;
   /* Linked before the thread starts so that a stop always finds it. */
   pthread_mutex_lock(&srv->lock);
   sc->slot = free_slot_locked(srv);
   int ret = pthread_create(&sc->thread, NULL, client_thread, sc);
   if (ret == 0) {
      sc->next = srv->clients;
      srv->clients = sc;
      srv->client_count++;
   }
   pthread_mutex_unlock(&srv->lock);
   if (ret) {
      pv_error(TAG, "client %u refused: no thread: %s", id, strerror(ret));
      close(sock);
      free(sc);
   }
}

/* True once every client is done, waiting at most until deadline (ms). */
static bool
wait_all_done(struct vtest_server *srv, int64_t deadline)
{
   for (;;) {
      bool all_done = true;
      pthread_mutex_lock(&srv->lock);
      for (struct server_client *sc = srv->clients; sc; sc = sc->next)
         all_done = all_done && sc->done;
      pthread_mutex_unlock(&srv->lock);
      const int64_t left = deadline - now_ms();
      if (all_done || left <= 0)
         return all_done;
      struct pollfd pfd = { .fd = srv->reap_efd, .events = POLLIN };
      if (poll(&pfd, 1, (int)left) > 0)
         drain(srv->reap_efd);
   }
}

/* Wakes every client out of its blocking read or write, then joins them.
 * Client processes are bounded by their watchdog; client threads by a wait
 * here: -ETIMEDOUT when one is stuck (it cannot be killed nor joined). */
static int
disconnect_all(struct vtest_server *srv)
{
   pthread_mutex_lock(&srv->lock);
   for (struct server_client *sc = srv->clients; sc; sc = sc->next)
      shutdown(sc->sock, SHUT_RDWR);
   pthread_mutex_unlock(&srv->lock);
   if (!srv->cfg.client_exe &&
       !wait_all_done(srv, now_ms() + srv->cfg.teardown_timeout_ms + 1000)) {
      pv_error(TAG, "a client thread did not finish within %u ms of the server stopping",
               srv->cfg.teardown_timeout_ms + 1000);
      return -ETIMEDOUT;
   }
   reap_clients(srv, true);
   return 0;
}

int
vtest_server_run(struct vtest_server *srv, int stop_fd)
{
   pv_info(TAG, "listening on %s", srv->path);
   for (;;) {
      struct pollfd pfds[4] = {
         { .fd = srv->listen_fd, .events = POLLIN },
         { .fd = srv->stop_efd, .events = POLLIN },
         { .fd = srv->reap_efd, .events = POLLIN },
         { .fd = stop_fd, .events = POLLIN },
      };
      int n = poll(pfds, stop_fd >= 0 ? 4 : 3, -1);
      if (n < 0) {
         if (errno == EINTR)
            continue;
         pv_error(TAG, "poll failed: %s", strerror(errno));
         break;
      }
      if (pfds[1].revents || (stop_fd >= 0 && pfds[3].revents))
         break;
      if (pfds[2].revents) {
         drain(srv->reap_efd);
         reap_clients(srv, false);
      }
      if (pfds[0].revents & POLLIN)
         accept_client(srv);
   }

   pv_info(TAG, "stopping, %u clients connected", vtest_server_client_count(srv));
   return disconnect_all(srv);
}

void
vtest_server_stop(struct vtest_server *srv)
{
   poke(srv->stop_efd);
}

uint32_t
vtest_server_client_count(struct vtest_server *srv)
{
   pthread_mutex_lock(&srv->lock);
   uint32_t n = srv->client_count;
   pthread_mutex_unlock(&srv->lock);
   return n;
}

uint32_t
vtest_server_failed_clients(struct vtest_server *srv)
{
   pthread_mutex_lock(&srv->lock);
   uint32_t n = srv->failed_clients;
   pthread_mutex_unlock(&srv->lock);
   return n;
}

void
vtest_server_destroy(struct vtest_server *srv)
{
   if (!srv)
      return;
   (void)disconnect_all(srv);
   close(srv->listen_fd);
   unlink(srv->path);
   close(srv->stop_efd);
   close(srv->reap_efd);
   pthread_mutex_destroy(&srv->lock);
   free(srv);
}
