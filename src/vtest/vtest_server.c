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
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "pearvisor/pearvisor.h"
#include "vtest/vtest_protocol.h"
#include "vtest/vtest_watchdog.h"

#define TAG "vtest"
#define DEFAULT_MAX_CLIENTS 64
/* a full server waits up to 10 times this for a slot before refusing */
#define FULL_WAIT_MS 20
/* the client's socket in a client process */
#define CLIENT_PROCESS_FD 3
#define CLIENT_SHARED_FD 4
#define DEFAULT_MAX_PER_PID 8
#define DEFAULT_TEARDOWN_TIMEOUT_MS 5000
/* Added to the teardown timeout for each other client process tearing down
 * at the same time: host drivers destroy devices under one lock (NVIDIA:
 * 70-100 ms each), so when many guests leave together the last ones wait
 * their turn; they are slow, not stuck. */
#define TEARDOWN_SHARE_MS 250
/* what a client process's exit status 159 means (see the sandbox) */
#define SANDBOX_EXIT_STATUS 159
/* nice value of a pre-started process until it gets a client */
#define PRESTART_NICE 10

extern char **environ;

struct server_client {
   struct server_client *next;
   struct vtest_server *srv;
   pthread_t thread;
   int sock;
   uint32_t id;
   uint32_t slot;  /* in the memory budget: budget_slot_base + [0, max_clients) */
   pid_t pid;      /* its client process (with client_exe) */
   int ctrl;       /* its process's socketpair: recipes come back on it; -1 none */
   pid_t peer_pid; /* SO_PEERCRED at accept */
   uid_t peer_uid;
   bool done; /* under srv->lock */
   /* under srv->lock: its connection ended (at hung_up_ms), its process may
    * still be tearing down (not counted per peer) */
   bool hung_up;
   int64_t hung_up_ms;
   /* under srv->lock: its process has not said it serves yet (still
    * loading the driver or making devices ahead) */
   bool starting;
};

/* A client process started ahead of its client: the server's end of its
 * socketpair, on which the client's socket will be sent. */
struct prestarted {
   pid_t pid;
   int ctrl;
   int64_t started_ms;
   uint32_t recipe_gen; /* the server's recipe it was sent last (0: none) */
   bool ready;          /* said so since it was started or sent a recipe */
};

/* A pre-started process being stopped (retire_prestarted): the accept
 * loop reaps it when it exits (its pidfd wakes the loop) and kills it at
 * its deadline. */
struct retiring {
   struct prestarted p;
   int pidfd; /* -1: its exit is polled */
   int64_t stopped_ms;
   int64_t deadline_ms;
   bool killed;
};
#define VTEST_MAX_RETIRING (2 * VTEST_MAX_PRESTART)

/* What the server sends a client process with the client's socket. */
struct vtest_handoff {
   uint32_t magic;
   uint32_t client_id;
   uint32_t budget_slot;
};
#define VTEST_HANDOFF_MAGIC 0x70766331u /* "pvc1" */
/* A recipe (pv_premade), either way on the socketpair: this magic, then
 * its bytes. */
#define VTEST_RECIPE_MAGIC 0x70767231u /* "pvr1" */
#define VTEST_RECIPE_MSG_MAX (4 + PV_PREMADE_MAX_RECIPE)
/* A waiting process is ready for a client: this magic alone. */
#define VTEST_READY_MAGIC 0x70767931u /* "pvy1" */
/* A process that received its client serves it now: this magic alone. */
#define VTEST_SERVING_MAGIC 0x70767331u /* "pvs1" */

struct vtest_server {
   struct vtest_server_config cfg;
   char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
   int listen_fd;
   int stop_efd; /* written by vtest_server_stop */
   int reap_efd; /* written by a client thread that finished */
   pthread_mutex_t lock;
   struct server_client *clients;
   uint32_t client_count;
   uint32_t next_id;
   uint32_t failed_clients;
   /* oldest first; touched by the accept loop's thread only */
   struct prestarted pool[VTEST_MAX_PRESTART];
   uint32_t pool_count;
   uint32_t pool_target; /* [cfg.prestart, cfg.prestart_max] */
   int64_t last_take_ms; /* a client took a pool process (or found none) */
   /* touched by the accept loop's thread only (and the stop after it) */
   struct retiring retiring[VTEST_MAX_RETIRING];
   uint32_t retiring_count;
   bool renice; /* pool processes wait at PRESTART_NICE (root only) */
   /* the latest guest's recipe (under lock): each pool process is sent it
    * once to make its instance and device ahead; recipe_gen counts changes */
   uint8_t *recipe;
   size_t recipe_size;
   uint32_t recipe_gen;
   uint32_t recipes_received; /* vtest_server_recipes_received */
   uint32_t teardowns;        /* under lock: clients hung up and not yet done */
   uint32_t starting;         /* under lock: clients starting (sc->starting), not hung up */
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
   if (!srv->cfg.client_exe)
      srv->cfg.prestart = 0;
   if (srv->cfg.prestart > VTEST_MAX_PRESTART)
      srv->cfg.prestart = VTEST_MAX_PRESTART;
   if (srv->cfg.prestart_max > VTEST_MAX_PRESTART)
      srv->cfg.prestart_max = VTEST_MAX_PRESTART;
   if (srv->cfg.prestart_max < srv->cfg.prestart)
      srv->cfg.prestart_max = srv->cfg.prestart;
   srv->pool_target = srv->cfg.prestart;
   if (!srv->cfg.prestart_idle_ms)
      srv->cfg.prestart_idle_ms = VTEST_POOL_SHRINK_MS;
   /* Taking a nice value back needs CAP_SYS_NICE: approximated by root. */
   srv->renice = geteuid() == 0;
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

/* Starts a client process: our program, one end of a new socketpair as
 * CLIENT_PROCESS_FD (the other end, kept in *out, will carry its client's
 * socket), default signal handling (we block SIGINT/SIGTERM for our
 * signalfd). The client's id and budget slot are sent with its socket. */
static int
spawn_client_process(const struct vtest_server *srv, struct prestarted *out)
{
   int sv[2];
   if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
      return -errno;
   int fd = sv[1];
   if (fd == CLIENT_PROCESS_FD) {
      /* dup2 onto itself would keep close-on-exec */
      fd = fcntl(sv[1], F_DUPFD_CLOEXEC, CLIENT_SHARED_FD + 1);
      if (fd < 0) {
         const int err = -errno;
         close(sv[0]);
         close(sv[1]);
         return err;
      }
   }
   char fdarg[16];
   snprintf(fdarg, sizeof(fdarg), "%d", CLIENT_PROCESS_FD);
   char wire[16];
   snprintf(wire, sizeof(wire), "%u", srv->cfg.client.wire_format);
   char *argv[64] = { (char *)srv->cfg.client_exe, "--client-pool-fd", fdarg,
                      "--client-wire-format", wire };
   size_t argc = 5;
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
   if (fd != sv[1])
      close(fd);
   close(sv[1]);
   if (ret) {
      close(sv[0]);
      return -ret;
   }
   *out = (struct prestarted){ .pid = pid, .ctrl = sv[0] };
   return 0;
}

/* Sends the client's socket, id and budget slot to its process. Fails
 * (EPIPE) when the process is gone. */
static int
hand_over(const struct prestarted *p, const struct server_client *sc)
{
   struct vtest_handoff msg = {
      .magic = VTEST_HANDOFF_MAGIC,
      .client_id = sc->id,
      .budget_slot = sc->slot,
   };
   struct iovec iov = { .iov_base = &msg, .iov_len = sizeof(msg) };
   union {
      struct cmsghdr hdr;
      char buf[CMSG_SPACE(sizeof(int))];
   } ctl;
   memset(&ctl, 0, sizeof(ctl));
   struct msghdr mh = {
      .msg_iov = &iov,
      .msg_iovlen = 1,
      .msg_control = ctl.buf,
      .msg_controllen = sizeof(ctl.buf),
   };
   struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
   c->cmsg_level = SOL_SOCKET;
   c->cmsg_type = SCM_RIGHTS;
   c->cmsg_len = CMSG_LEN(sizeof(int));
   memcpy(CMSG_DATA(c), &sc->sock, sizeof(int));
   ssize_t n;
   do
      n = sendmsg(p->ctrl, &mh, MSG_NOSIGNAL);
   while (n < 0 && errno == EINTR);
   if (n < 0)
      return -errno;
   return n == (ssize_t)sizeof(msg) ? 0 : -EIO;
}

int
vtest_server_receive_client_ex(int ctrl_fd, uint32_t *client_id, uint32_t *budget_slot,
                               vtest_recipe_fn on_recipe, void *data)
{
   uint8_t *buf = malloc(VTEST_RECIPE_MSG_MAX);
   if (!buf)
      return -ENOMEM;
   int ret;
   for (;;) {
      struct iovec iov = { .iov_base = buf, .iov_len = VTEST_RECIPE_MSG_MAX };
      union {
         struct cmsghdr hdr;
         char buf[CMSG_SPACE(sizeof(int))];
      } ctl;
      struct msghdr mh = {
         .msg_iov = &iov,
         .msg_iovlen = 1,
         .msg_control = ctl.buf,
         .msg_controllen = sizeof(ctl.buf),
      };
      ssize_t n;
      do
         n = recvmsg(ctrl_fd, &mh, MSG_CMSG_CLOEXEC);
      while (n < 0 && errno == EINTR);
      if (n < 0) {
         ret = -errno;
         break;
      }
      int fd = -1;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
         if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
             c->cmsg_len == CMSG_LEN(sizeof(int)) && fd < 0)
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
      }
      if (n == 0 && fd < 0) {
         ret = -ENODATA;
         break;
      }
      uint32_t magic = 0;
      if (n >= 4)
         memcpy(&magic, buf, sizeof(magic));
      const bool clean = !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
      if (magic == VTEST_RECIPE_MAGIC && fd < 0 && clean) {
         /* from the server, but first written by some guest's process:
          * on_recipe validates it (pv_premade_create) */
         if (on_recipe)
            on_recipe(data, buf + 4, (size_t)n - 4);
         continue;
      }
      struct vtest_handoff msg;
      if (n != (ssize_t)sizeof(msg) || fd < 0 || !clean || magic != VTEST_HANDOFF_MAGIC) {
         if (fd >= 0)
            close(fd);
         ret = -EPROTO;
         break;
      }
      memcpy(&msg, buf, sizeof(msg));
      *client_id = msg.client_id;
      *budget_slot = msg.budget_slot;
      ret = fd;
      break;
   }
   free(buf);
   return ret;
}

/* The magic of the next message on ctrl_fd, 0 when none is there yet. */
static uint32_t
peek_magic(int ctrl_fd)
{
   uint32_t magic = 0;
   ssize_t n;
   do
      n = recv(ctrl_fd, &magic, sizeof(magic), MSG_PEEK | MSG_DONTWAIT);
   while (n < 0 && errno == EINTR);
   return n == (ssize_t)sizeof(magic) ? magic : 0;
}

bool
vtest_server_recipe_pending(int ctrl_fd)
{
   return peek_magic(ctrl_fd) == VTEST_RECIPE_MAGIC;
}

bool
vtest_server_client_pending(int ctrl_fd)
{
   return peek_magic(ctrl_fd) == VTEST_HANDOFF_MAGIC;
}

int
vtest_server_receive_client(int ctrl_fd, uint32_t *client_id, uint32_t *budget_slot)
{
   return vtest_server_receive_client_ex(ctrl_fd, client_id, budget_slot, NULL, NULL);
}

int
vtest_server_send_recipe(int ctrl_fd, const void *recipe, size_t size)
{
   if (!size || size > PV_PREMADE_MAX_RECIPE)
      return -EINVAL;
   const uint32_t magic = VTEST_RECIPE_MAGIC;
   struct iovec iov[2] = {
      { .iov_base = (void *)&magic, .iov_len = sizeof(magic) },
      { .iov_base = (void *)recipe, .iov_len = size },
   };
   const struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
   ssize_t n;
   do
      n = sendmsg(ctrl_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
   while (n < 0 && errno == EINTR);
   if (n < 0)
      return -errno;
   return n == (ssize_t)(size + sizeof(magic)) ? 0 : -EIO;
}

static int
send_magic(int ctrl_fd, uint32_t magic)
{
   ssize_t n;
   do
      n = send(ctrl_fd, &magic, sizeof(magic), MSG_NOSIGNAL | MSG_DONTWAIT);
   while (n < 0 && errno == EINTR);
   if (n < 0)
      return -errno;
   return n == (ssize_t)sizeof(magic) ? 0 : -EIO;
}

int
vtest_server_send_ready(int ctrl_fd)
{
   return send_magic(ctrl_fd, VTEST_READY_MAGIC);
}

int
vtest_server_send_serving(int ctrl_fd)
{
   return send_magic(ctrl_fd, VTEST_SERVING_MAGIC);
}

/* Reads what a waiting pool process sent: "ready" messages. Anything else
 * is ignored (a process is trusted no more than its sandbox). */
static void
read_ready(struct prestarted *p)
{
   for (;;) {
      uint32_t magic = 0;
      ssize_t n;
      do
         n = recv(p->ctrl, &magic, sizeof(magic), MSG_DONTWAIT | MSG_TRUNC);
      while (n < 0 && errno == EINTR);
      if (n <= 0)
         return;
      if (n == (ssize_t)sizeof(magic) && magic == VTEST_READY_MAGIC)
         p->ready = true;
   }
}

/* The client's process said it serves its client: no longer a start in
 * progress. */
static void
started(struct server_client *sc)
{
   pthread_mutex_lock(&sc->srv->lock);
   if (sc->starting && !sc->hung_up && !sc->done)
      sc->srv->starting--;
   sc->starting = false;
   pthread_mutex_unlock(&sc->srv->lock);
}

/* A recipe from a client process (guest data: only its size is checked
 * here, its process-to-be decodes it as untrusted input). Kept when it
 * differs from the one the server has; the accept loop passes it on.
 * False once the process's end is closed (nothing more to read). */
static bool
take_recipe(struct server_client *sc)
{
   struct vtest_server *srv = sc->srv;
   uint8_t *buf = malloc(VTEST_RECIPE_MSG_MAX);
   if (!buf)
      return false;
   ssize_t n;
   do
      n = recv(sc->ctrl, buf, VTEST_RECIPE_MSG_MAX, MSG_DONTWAIT | MSG_TRUNC);
   while (n < 0 && errno == EINTR);
   uint32_t magic = 0;
   if (n >= 4)
      memcpy(&magic, buf, sizeof(magic));
   if (n == 4 && magic == VTEST_SERVING_MAGIC)
      started(sc);
   if (n <= 4 || n > VTEST_RECIPE_MSG_MAX || magic != VTEST_RECIPE_MAGIC) {
      const bool open = n > 0 || (n < 0 && errno == EAGAIN);
      /* a "ready" sent while it waited, not read before the hand-over */
      if (n > 0 && !(n == 4 && (magic == VTEST_READY_MAGIC || magic == VTEST_SERVING_MAGIC)))
         pv_warn(TAG, "client %u: its process sent a malformed recipe (%zd bytes): ignored", sc->id,
                 n);
      free(buf);
      return open;
   }
   const size_t size = (size_t)n - 4;
   bool changed = false;
   pthread_mutex_lock(&srv->lock);
   srv->recipes_received++;
   if (size != srv->recipe_size || memcmp(srv->recipe, buf + 4, size)) {
      memmove(buf, buf + 4, size);
      free(srv->recipe);
      srv->recipe = buf;
      srv->recipe_size = size;
      srv->recipe_gen++;
      buf = NULL;
      changed = true;
   }
   pthread_mutex_unlock(&srv->lock);
   free(buf);
   if (changed) {
      pv_info(TAG, "client %u: new context recipe (%zu bytes) for the pre-started processes",
              sc->id, size);
      poke(srv->reap_efd); /* the accept loop sends it to the pool */
   }
   return true;
}

static int64_t
now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Marks the client's connection ended (srv->lock held); its process's
 * teardown counts until the client is done. */
static void
mark_hung_up_locked(struct server_client *sc)
{
   if (sc->hung_up || sc->done)
      return;
   sc->hung_up = true;
   sc->hung_up_ms = now_ms();
   sc->srv->teardowns++;
   /* counted once: as a teardown from now on */
   if (sc->starting)
      sc->srv->starting--;
}

/* How long a teardown may take before the watchdog kills it, when n
 * processes tear down at once: the timeout, plus TEARDOWN_SHARE_MS for each
 * of the others. */
static int64_t
teardown_allowance(const struct vtest_server *srv, uint32_t n)
{
   return (int64_t)srv->cfg.teardown_timeout_ms +
          (n > 1 ? (int64_t)(n - 1) * TEARDOWN_SHARE_MS : 0);
}

/* The moment the client's process is killed, once its connection has
 * ended (-1 while it has not), before any credit for waiting for a CPU.
 * *teardowns and *starts (0 at first) keep the most teardowns and process
 * starts (the host driver's other device destroys and creates) counted at
 * once since then: those that begin later extend the deadline, those that
 * end do not bring it closer (when the CPU is short, they all finish late
 * together rather than one after the other). */
static int64_t
teardown_deadline(struct server_client *sc, uint32_t *teardowns, uint32_t *starts)
{
   pthread_mutex_lock(&sc->srv->lock);
   if (sc->hung_up && sc->srv->teardowns + sc->srv->starting > *teardowns + *starts) {
      *teardowns = sc->srv->teardowns;
      *starts = sc->srv->starting;
   }
   const int64_t deadline =
      sc->hung_up ? sc->hung_up_ms + teardown_allowance(sc->srv, *teardowns + *starts) : -1;
   pthread_mutex_unlock(&sc->srv->lock);
   return deadline;
}

/* A client that left before its process served it: the process has read
 * nothing of the guest, so it is stopped at once rather than left to
 * finish loading the driver for nobody; not a failed client. */
static void
stop_unserved(struct server_client *sc, pid_t pid, bool *stopped)
{
   pthread_mutex_lock(&sc->srv->lock);
   const bool unserved = sc->hung_up && sc->starting;
   pthread_mutex_unlock(&sc->srv->lock);
   if (!unserved || *stopped)
      return;
   pv_info(TAG, "client %u: left before its process (pid %d) served it: stopped", sc->id, (int)pid);
   kill(pid, SIGTERM);
   *stopped = true;
}

/* The time the client's process waited for a CPU since its connection
 * ended, as credit against its teardown deadline (vtest_watchdog.h);
 * *base is the process's wait when the watchdog first saw the hang-up
 * (-2: not read yet, -1: the kernel does not say). */
static int64_t
teardown_cpu_credit(const struct server_client *sc, pid_t pid, int64_t deadline, int64_t now,
                    int64_t *base)
{
   if (deadline < 0)
      return 0;
   if (*base == -2)
      *base = vtest_cpu_wait_ms(pid);
   if (now < deadline || *base < 0)
      return 0;
   const int64_t waited = vtest_cpu_wait_ms(pid);
   return vtest_watchdog_cpu_credit(waited >= 0 ? waited - *base : -1, deadline - sc->hung_up_ms);
}

/* Waits for the client's process. Once its connection has ended (POLLHUP:
 * the peer closed, or the process or a stopping server shut the socket
 * down) the process has teardown_timeout_ms, more while others tear down
 * too (teardown_allowance) and for the time it waited for a CPU
 * (teardown_cpu_credit), to exit; then it is killed. */
static int
wait_client_process(struct server_client *sc, pid_t pid, int *status, bool *killed)
{
   int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
   bool ctrl_open = sc->ctrl >= 0;
   bool stopped = false;
   int64_t cpu_wait_base = -2;
   uint32_t teardowns = 0, starts = 0;
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
      /* recomputed each time: teardowns and starts that began since extend it */
      const int64_t allowed = teardown_deadline(sc, &teardowns, &starts);
      stop_unserved(sc, pid, &stopped);
      const int64_t now = now_ms();
      const int64_t credit = teardown_cpu_credit(sc, pid, allowed, now, &cpu_wait_base);
      const int64_t deadline = allowed >= 0 ? allowed + credit : -1;
      if (deadline >= 0 && now >= deadline && !*killed) {
         pv_error(TAG,
                  "client %u: its process (pid %d) did not finish within %lld ms of the end "
                  "of its connection (allowed %lld ms, %u teardowns and %u process starts at "
                  "once, and %lld ms more as it waited for a CPU): killed (teardown watchdog)",
                  sc->id, (int)pid, (long long)(now - sc->hung_up_ms),
                  (long long)(allowed - sc->hung_up_ms), teardowns, starts, (long long)credit);
         kill(pid, SIGKILL);
         *killed = true;
      }
      /* Without a pidfd (kernels before 5.3) the process is polled. */
      int wait_ms = pidfd >= 0 ? -1 : 100;
      if (deadline >= 0 && !*killed) {
         /* credit grows while the process waits: look again in steps */
         const int64_t left = credit > 0 && deadline - now < 100 ? 100 : deadline - now;
         wait_ms = wait_ms < 0 || left < wait_ms ? (int)left : wait_ms;
      }
      /* events 0: only POLLHUP/POLLERR wake us, never pending input */
      struct pollfd pfds[3] = {
         { .fd = pidfd, .events = POLLIN },
         { .fd = deadline < 0 ? sc->sock : -1, .events = 0 },
         { .fd = ctrl_open ? sc->ctrl : -1, .events = POLLIN },
      };
      if (poll(pfds, 3, wait_ms) > 0) {
         /* before the hang-up: a "serving" read after it comes too late;
          * without input, a hang-up: the process closed it or exited */
         if (pfds[2].revents)
            ctrl_open = (pfds[2].revents & POLLIN) && take_recipe(sc);
         if (pfds[1].revents & (POLLHUP | POLLERR)) {
            pthread_mutex_lock(&sc->srv->lock);
            mark_hung_up_locked(sc);
            pthread_mutex_unlock(&sc->srv->lock);
         }
      }
   }
   if (pidfd >= 0)
      close(pidfd);
   return 0;
}

/* Runs the client's process and waits for it. False when it failed. */
static bool
serve_in_process(struct server_client *sc)
{
   const pid_t pid = sc->pid;
   int status;
   bool killed = false;
   if (wait_client_process(sc, pid, &status, &killed) < 0)
      return false;
   if (killed)
      return false;
   if (WIFEXITED(status) && WEXITSTATUS(status) == SANDBOX_EXIT_STATUS) {
      pv_error(TAG,
               "client %u: its process (pid %d) was stopped by its sandbox (a forbidden "
               "system call, named in its log line above)",
               sc->id, (int)pid);
      return false;
   }
   if (WIFSIGNALED(status)) {
      const int sig = WTERMSIG(status);
      /* asked to stop (e.g. with its process group), not a crash */
      if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
         pv_info(TAG, "client %u: its process (pid %d) was stopped by signal %d", sc->id, (int)pid,
                 sig);
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
         pv_info(TAG, "client %u: %llu bytes it still held returned to the memory budget", sc->id,
                 (unsigned long long)held);
   }
   pthread_mutex_lock(&sc->srv->lock);
   if (!ok)
      sc->srv->failed_clients++;
   const bool hung_up = sc->hung_up;
   if (hung_up)
      sc->srv->teardowns--;
   else if (sc->starting)
      sc->srv->starting--;
   sc->done = true;
   pthread_mutex_unlock(&sc->srv->lock);
   if (hung_up)
      pv_debug(TAG, "client %u: done %lld ms after the end of its connection", sc->id,
               (long long)(now_ms() - sc->hung_up_ms));
   poke(sc->srv->reap_efd);
   return NULL;
}

/* True when the peer closed `sock` (checked now, without waiting). */
static bool
connection_ended(int sock)
{
   struct pollfd pfd = { .fd = sock, .events = 0 };
   return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR));
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
      if (found->ctrl >= 0)
         close(found->ctrl);
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

/* How a pre-started process that never got a client ended. A crash (say,
 * while loading the driver) is logged and counted; one killed at its
 * deadline was logged then; one stopped by a signal was asked to stop. */
static void
report_retired(struct vtest_server *srv, const struct retiring *r, int status)
{
   const pid_t pid = r->p.pid;
   if (r->killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
      return;
   if (WIFSIGNALED(status) &&
       (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGHUP))
      return;
   if (WIFSIGNALED(status))
      pv_error(TAG,
               "pre-started client process (pid %d) was killed by signal %d before "
               "serving a client",
               (int)pid, WTERMSIG(status));
   else
      pv_error(TAG,
               "pre-started client process (pid %d) exited with status %d before "
               "serving a client",
               (int)pid, WEXITSTATUS(status));
   pthread_mutex_lock(&srv->lock);
   srv->failed_clients++;
   pthread_mutex_unlock(&srv->lock);
}

/* Reaps the retiring processes that exited and kills those past their
 * deadline; with `all`, until none is left. Never waits for one otherwise:
 * the accept loop calls it and must go on accepting clients while a
 * process takes its time (NVIDIA: seconds to make or destroy a device
 * while many guests come or go). */
static void
reap_retiring(struct vtest_server *srv, bool all)
{
   for (;;) {
      const int64_t now = now_ms();
      for (uint32_t i = srv->retiring_count; i-- > 0;) {
         struct retiring *r = &srv->retiring[i];
         int status = 0;
         const pid_t w = waitpid(r->p.pid, &status, WNOHANG);
         if (w == r->p.pid || (w < 0 && errno != EINTR)) {
            report_retired(srv, r, status);
            if (r->pidfd >= 0)
               close(r->pidfd);
            *r = srv->retiring[--srv->retiring_count];
            continue;
         }
         if (!r->killed && now >= r->deadline_ms) {
            pv_warn(TAG,
                    "pre-started client process (pid %d) did not exit within %lld ms of its "
                    "stop: killed",
                    (int)r->p.pid, (long long)(now - r->stopped_ms));
            kill(r->p.pid, SIGKILL);
            r->killed = true;
         }
      }
      if (!all || !srv->retiring_count)
         return;
      struct timespec ts = { 0, 5 * 1000 * 1000 };
      nanosleep(&ts, NULL);
   }
}

/* Milliseconds until reap_retiring has work that no pidfd announces, -1
 * (poll's forever) when none. */
static int
retiring_timeout(const struct vtest_server *srv)
{
   int64_t left = -1;
   const int64_t now = now_ms();
   for (uint32_t i = 0; i < srv->retiring_count; i++) {
      const struct retiring *r = &srv->retiring[i];
      /* without a pidfd (kernels before 5.3) the exit is polled */
      int64_t l = r->pidfd < 0 ? 20 : -1;
      if (!r->killed && (l < 0 || r->deadline_ms - now < l))
         l = r->deadline_ms > now ? r->deadline_ms - now : 0;
      if (l >= 0 && (left < 0 || l < left))
         left = l;
   }
   return left < 0 ? -1 : (int)left;
}

/* Stops client processes that never got a client: closing their end makes
 * a waiting one exit; one still loading the driver or making its device
 * ahead would only notice once done, for work nobody will use, so with
 * stop_busy it is sent SIGTERM (without: it has exited already). What is
 * still running at deadline_ms is killed. They are reaped by
 * reap_retiring, not waited for here. */
static void
retire_prestarted(struct vtest_server *srv, struct prestarted *ps, uint32_t n, int64_t deadline_ms,
                  bool stop_busy)
{
   const int64_t now = now_ms();
   for (uint32_t i = 0; i < n; i++) {
      if (ps[i].ctrl >= 0)
         close(ps[i].ctrl);
      ps[i].ctrl = -1;
      if (stop_busy && !ps[i].ready) {
         pv_info(TAG, "pre-started client process (pid %d) still getting ready: stopped",
                 (int)ps[i].pid);
         kill(ps[i].pid, SIGTERM);
      }
      /* full only while many outlive their deadline (killed, not yet
       * gone): wait for room, as the stop would */
      while (srv->retiring_count == VTEST_MAX_RETIRING) {
         reap_retiring(srv, false);
         if (srv->retiring_count == VTEST_MAX_RETIRING) {
            struct timespec ts = { 0, 5 * 1000 * 1000 };
            nanosleep(&ts, NULL);
         }
      }
      srv->retiring[srv->retiring_count++] = (struct retiring){
         .p = ps[i],
         .pidfd = (int)syscall(SYS_pidfd_open, ps[i].pid, 0),
         .stopped_ms = now,
         .deadline_ms = deadline_ms,
      };
   }
}

/* Gives every thread of a process the nice value `nice` (nice values are
 * per thread; threads inherit their creator's). */
static void
set_process_nice(pid_t pid, int nice)
{
   char path[32];
   snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
   DIR *d = opendir(path);
   if (!d) {
      setpriority(PRIO_PROCESS, (id_t)pid, nice);
      return;
   }
   struct dirent *e;
   while ((e = readdir(d))) {
      const int tid = atoi(e->d_name);
      if (tid > 0)
         setpriority(PRIO_PROCESS, (id_t)tid, nice);
   }
   closedir(d);
}

/* Starts client processes until cfg.prestart wait for a client. As root
 * they load the driver at a lower CPU priority, so that a refill does not
 * slow down the guests being served (they get it back with a client). */
static void
refill_pool(struct vtest_server *srv)
{
   while (srv->pool_count < srv->pool_target) {
      struct prestarted *p = &srv->pool[srv->pool_count];
      int ret = spawn_client_process(srv, p);
      if (ret < 0) {
         pv_warn(TAG, "cannot pre-start a client process: %s", strerror(-ret));
         return;
      }
      p->started_ms = now_ms();
      if (srv->renice)
         setpriority(PRIO_PROCESS, (id_t)p->pid, PRESTART_NICE);
      srv->pool_count++;
   }
}

/* Sends the latest recipe to the pool processes that have not had it:
 * each makes an instance and device from it while it waits. */
static void
send_recipes(struct vtest_server *srv)
{
   if (srv->cfg.no_premade)
      return;
   pthread_mutex_lock(&srv->lock);
   for (uint32_t i = 0; i < srv->pool_count && srv->recipe; i++) {
      struct prestarted *p = &srv->pool[i];
      if (p->recipe_gen == srv->recipe_gen)
         continue;
      const int ret = vtest_server_send_recipe(p->ctrl, srv->recipe, srv->recipe_size);
      if (ret < 0)
         pv_warn(TAG, "pre-started process %d: recipe not sent: %s", (int)p->pid, strerror(-ret));
      p->recipe_gen = srv->recipe_gen; /* not retried: the next recipe goes again */
      p->ready = false;                /* until it has made them */
   }
   pthread_mutex_unlock(&srv->lock);
}

/* A pool process that died after it was sent the current recipe may have
 * died of it (a guest's create info that crashes the driver): the recipe
 * is dropped, so that it is not sent to every process the pool starts. */
static void
forget_recipe(struct vtest_server *srv, const struct prestarted *gone)
{
   pthread_mutex_lock(&srv->lock);
   const bool current = gone->recipe_gen && gone->recipe_gen == srv->recipe_gen && srv->recipe;
   if (current) {
      free(srv->recipe);
      srv->recipe = NULL;
      srv->recipe_size = 0;
   }
   pthread_mutex_unlock(&srv->lock);
   if (current)
      pv_warn(TAG,
              "pre-started process %d ended after it was sent the context recipe: recipe "
              "dropped",
              (int)gone->pid);
}

/* Drops pool processes whose end of the socketpair hung up: they exited
 * (a crash while loading the driver). Refilled at the next accept, not
 * here, so that a driver that always crashes does not make a loop. */
static void
prune_pool(struct vtest_server *srv, const struct pollfd *pfds)
{
   for (uint32_t i = srv->pool_count; i-- > 0;) {
      if (!(pfds[i].revents & (POLLHUP | POLLERR)))
         continue;
      struct prestarted gone = srv->pool[i];
      memmove(&srv->pool[i], &srv->pool[i + 1], (srv->pool_count - i - 1) * sizeof(srv->pool[0]));
      srv->pool_count--;
      retire_prestarted(srv, &gone, 1, now_ms() + teardown_allowance(srv, 1), false);
      forget_recipe(srv, &gone);
   }
}

/* A client took a process not ready yet (still loading the driver or
 * making the device ahead), or found none: clients arrive faster than
 * processes get ready, so the pool grows by one, up to cfg.prestart_max. */
static void
grow_pool(struct vtest_server *srv, bool took_ready)
{
   srv->last_take_ms = now_ms();
   if (took_ready || srv->pool_target >= srv->cfg.prestart_max)
      return;
   srv->pool_target++;
   pv_info(TAG, "clients arrive faster than pre-started processes get ready: pool of %u",
           srv->pool_target);
}

/* Back to cfg.prestart after cfg.prestart_idle_ms without a client: the
 * newest extra processes are stopped. */
static void
shrink_pool(struct vtest_server *srv)
{
   if (srv->pool_target <= srv->cfg.prestart ||
       now_ms() - srv->last_take_ms < srv->cfg.prestart_idle_ms)
      return;
   srv->pool_target = srv->cfg.prestart;
   if (srv->pool_count > srv->pool_target) {
      const uint32_t extra = srv->pool_count - srv->pool_target;
      retire_prestarted(srv, &srv->pool[srv->pool_target], extra,
                        now_ms() + teardown_allowance(srv, extra), true);
      srv->pool_count = srv->pool_target;
   }
   pv_info(TAG, "no new client for %u ms: pool of %u again", srv->cfg.prestart_idle_ms,
           srv->pool_target);
}

/* The earlier of two poll timeouts (-1: none). */
static int
min_timeout(int a, int b)
{
   return a < 0 ? b : b < 0 || a < b ? a : b;
}

/* Milliseconds until shrink_pool has work, -1 (poll's forever) when none. */
static int
pool_shrink_timeout(const struct vtest_server *srv)
{
   if (srv->pool_target <= srv->cfg.prestart)
      return -1;
   const int64_t left = srv->last_take_ms + srv->cfg.prestart_idle_ms - now_ms();
   return left > 0 ? (int)left : 0;
}

/* Gives the client's socket to a client process, pre-started (the oldest)
 * or started now when none is left. Returns its pid or -errno. */
static pid_t
start_serving(struct vtest_server *srv, struct server_client *sc)
{
   for (;;) {
      struct prestarted p;
      const bool pre = srv->pool_count > 0;
      if (pre) {
         p = srv->pool[0];
         memmove(&srv->pool[0], &srv->pool[1], (srv->pool_count - 1) * sizeof(srv->pool[0]));
         srv->pool_count--;
      }
      if (srv->cfg.prestart)
         grow_pool(srv, pre && p.ready);
      if (!pre) {
         int ret = spawn_client_process(srv, &p);
         if (ret < 0)
            return ret;
         p.started_ms = now_ms();
      }
      const int ret = hand_over(&p, sc);
      if (ret == 0) {
         sc->ctrl = p.ctrl; /* its recipe comes back on it */
      } else {
         close(p.ctrl);
      }
      p.ctrl = -1;
      if (pre && srv->renice)
         set_process_nice(p.pid, 0);
      if (ret == 0) {
         if (pre)
            pv_info(TAG, "client %u: served by pre-started process %d (started %lld ms before, %s)",
                    sc->id, (int)p.pid, (long long)(now_ms() - p.started_ms),
                    p.ready ? "ready" : "not ready yet");
         else
            pv_info(TAG, "client %u: served by process %d, started for it%s", sc->id, (int)p.pid,
                    srv->cfg.prestart ? " (no pre-started one was left)" : "");
         return p.pid;
      }
      pv_warn(TAG, "client %u: its process (pid %d) is gone before receiving it: %s", sc->id,
              (int)p.pid, strerror(-ret));
      retire_prestarted(srv, &p, 1, now_ms() + teardown_allowance(srv, 1), false);
      if (!pre)
         return ret;
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
      /* the per-peer limits count connections: a guest that connects again
       * while its last process still tears down (a device destroy takes
       * ~100 ms on NVIDIA) is not holding that one any more */
      if (c->done || c->hung_up)
         continue;
      /* Its waiter may not have seen the hang-up yet (a loaded host): a
       * guest that closed and connected again must not be refused. */
      if ((c->peer_pid == cred.pid || c->peer_uid == cred.uid) && connection_ended(c->sock)) {
         mark_hung_up_locked(c);
         continue;
      }
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
      pv_warn(TAG,
              "client %u refused: its process (pid %d) has %u connections already "
              "(--max-clients-per-pid)",
              id, (int)cred.pid, same_pid);
      close(sock);
      return;
   }
   if (same_uid >= srv->cfg.max_clients_per_uid) {
      pv_warn(TAG,
              "client %u (pid %d) refused: its user (uid %d) has %u connections already "
              "(--max-clients-per-uid)",
              id, (int)cred.pid, (int)cred.uid, same_uid);
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
   sc->ctrl = -1;
   sc->id = id;
   sc->peer_pid = cred.pid;
   sc->peer_uid = cred.uid;
   /* Only this thread links clients: the slot stays free until then. */
   pthread_mutex_lock(&srv->lock);
   sc->slot = free_slot_locked(srv);
   pthread_mutex_unlock(&srv->lock);
   if (srv->cfg.client_exe) {
      sc->pid = start_serving(srv, sc);
      refill_pool(srv);
      if (sc->pid < 0) {
         pv_error(TAG, "client %u refused: cannot start its process: %s", id,
                  strerror((int)-sc->pid));
         close(sock);
         free(sc);
         return;
      }
   }
   /* Linked before the thread starts so that a stop always finds it. */
   pthread_mutex_lock(&srv->lock);
   int ret = pthread_create(&sc->thread, NULL, client_thread, sc);
   if (ret == 0) {
      sc->next = srv->clients;
      srv->clients = sc;
      srv->client_count++;
      /* until its process says it serves (vtest_server_send_serving) */
      sc->starting = srv->cfg.client_exe != NULL;
      srv->starting += sc->starting;
   }
   pthread_mutex_unlock(&srv->lock);
   if (ret) {
      pv_error(TAG, "client %u refused: no thread: %s", id, strerror(ret));
      if (sc->ctrl >= 0)
         close(sc->ctrl);
      if (srv->cfg.client_exe) {
         kill(sc->pid, SIGKILL);
         while (waitpid(sc->pid, NULL, 0) < 0 && errno == EINTR)
            ;
      }
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
   /* clients that left before the stop may still be tearing down */
   pthread_mutex_lock(&srv->lock);
   const uint32_t leaving = srv->teardowns;
   pthread_mutex_unlock(&srv->lock);
   retire_prestarted(srv, srv->pool, srv->pool_count,
                     now_ms() + teardown_allowance(srv, srv->pool_count + leaving), true);
   srv->pool_count = 0;
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
   reap_retiring(srv, true);
   /* every client is reaped: what counted them must be back to zero */
   pthread_mutex_lock(&srv->lock);
   const uint32_t starting = srv->starting, teardowns = srv->teardowns;
   pthread_mutex_unlock(&srv->lock);
   if (starting || teardowns)
      pv_error(TAG, "%u starts and %u teardowns still counted with no client left (a bug)",
               starting, teardowns);
   return 0;
}

int
vtest_server_run(struct vtest_server *srv, int stop_fd)
{
   pv_info(TAG, "listening on %s", srv->path);
   refill_pool(srv);
   if (srv->cfg.prestart)
      pv_info(TAG, "%u client processes pre-started (--prestart)", srv->pool_count);
   for (;;) {
      /* the pool's ends first, then ours, then the pidfds of retiring
       * processes (a negative fd is not polled) */
      struct pollfd pfds[VTEST_MAX_PRESTART + 4 + VTEST_MAX_RETIRING];
      const uint32_t np = srv->pool_count;
      for (uint32_t i = 0; i < np; i++)
         pfds[i] = (struct pollfd){ .fd = srv->pool[i].ctrl, .events = POLLIN };
      struct pollfd *own = &pfds[np];
      own[0] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
      own[1] = (struct pollfd){ .fd = srv->stop_efd, .events = POLLIN };
      own[2] = (struct pollfd){ .fd = srv->reap_efd, .events = POLLIN };
      own[3] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
      const uint32_t nr = srv->retiring_count;
      for (uint32_t i = 0; i < nr; i++)
         own[4 + i] = (struct pollfd){ .fd = srv->retiring[i].pidfd, .events = POLLIN };
      int n = poll(pfds, np + 4 + nr, min_timeout(pool_shrink_timeout(srv), retiring_timeout(srv)));
      if (n < 0) {
         if (errno == EINTR)
            continue;
         pv_error(TAG, "poll failed: %s", strerror(errno));
         break;
      }
      if (own[1].revents || (stop_fd >= 0 && own[3].revents))
         break;
      reap_retiring(srv, false);
      for (uint32_t i = 0; i < np; i++) {
         if (pfds[i].revents & POLLIN)
            read_ready(&srv->pool[i]);
      }
      prune_pool(srv, pfds);
      if (own[2].revents) {
         drain(srv->reap_efd);
         reap_clients(srv, false);
      }
      if (own[0].revents & POLLIN)
         accept_client(srv);
      shrink_pool(srv);
      send_recipes(srv);
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
   free(srv->recipe);
   free(srv);
}

uint32_t
vtest_server_recipes_received(struct vtest_server *srv)
{
   pthread_mutex_lock(&srv->lock);
   uint32_t n = srv->recipes_received;
   pthread_mutex_unlock(&srv->lock);
   return n;
}
