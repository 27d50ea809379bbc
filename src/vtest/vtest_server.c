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
#include <sys/eventfd.h>
#include <sys/socket.h>
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

extern char **environ;

struct server_client {
   struct server_client *next;
   struct vtest_server *srv;
   pthread_t thread;
   int sock;
   uint32_t id;
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
   char *const argv[] = { (char *)srv->cfg.client_exe, "--client-fd", fdarg, "--client-id", id,
                          "--client-wire-format", wire, NULL };

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
   while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) {
         pv_error(TAG, "client %u: waitpid: %s", sc->id, strerror(errno));
         return false;
      }
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
   if (sc->srv->cfg.client_exe)
      ok = serve_in_process(sc);
   else
      vtest_client_serve(sc->sock, sc->id, &sc->srv->cfg.client);
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
   pthread_mutex_lock(&srv->lock);
   uint32_t id = srv->next_id++;
   pthread_mutex_unlock(&srv->lock);
   if (full) {
      pv_warn(TAG, "client %u refused: %u clients already", id, srv->cfg.max_clients);
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
   /* Linked before the thread starts so that a stop always finds it. */
   pthread_mutex_lock(&srv->lock);
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

/* Wakes every client thread out of its blocking read or write, then joins them. */
static void
disconnect_all(struct vtest_server *srv)
{
   pthread_mutex_lock(&srv->lock);
   for (struct server_client *sc = srv->clients; sc; sc = sc->next)
      shutdown(sc->sock, SHUT_RDWR);
   pthread_mutex_unlock(&srv->lock);
   reap_clients(srv, true);
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
   disconnect_all(srv);
   return 0;
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
   disconnect_all(srv);
   close(srv->listen_fd);
   unlink(srv->path);
   close(srv->stop_efd);
   close(srv->reap_efd);
   pthread_mutex_destroy(&srv->lock);
   free(srv);
}
