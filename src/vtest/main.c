/*
 * pv-vtest: serves Mesa's venus driver (VN_DEBUG=vtest) over the vtest
 * socket protocol, one PearVisor renderer per client.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/budget.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "pearvisor/pearvisor.h"
#include "vtest/vtest_protocol.h"
#include "vtest/vtest_server.h"

#define TAG "vtest"
#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"
/* the shared memory budget in a client process (vtest_server.c's CLIENT_SHARED_FD) */
#define CLIENT_BUDGET_FD 4
/* client processes kept ready per socket: a guest that starts two or three
 * instances in a row (vulkaninfo, a game's launcher) finds each one ready */
#define DEFAULT_PRESTART 2
#define DEFAULT_PRESTART_MAX 8

static void
usage(FILE *f, const char *argv0)
{
   fprintf(f,
           "usage: %s [--socket PATH] [--socket-wire-format-1 PATH] [--validate] [--verbose]\n"
           "          [--no-fork] [--prestart N] [--prestart-max N] [--prestart-idle S]\n"
           "          [--no-premade] [limits] [--gpus LIST] [--queue-priority CLASS]\n"
           "          [--no-sandbox]\n"
           "          [--user NAME]\n"
           "  --socket PATH  serve venus wire format 0 (Mesa 22.3's driver) on PATH\n"
           "                 (default " VTEST_DEFAULT_SOCKET ", the path Mesa 22.3 always uses)\n"
           "  --socket-wire-format-1 PATH\n"
           "                 also serve wire format 1 (Mesa 25's driver, which connects to\n"
           "                 VTEST_SOCKET_NAME) on PATH; with --socket none, only that\n"
           "  --validate     run the host Vulkan driver under " VALIDATION_LAYER "\n"
           "  --verbose      log every command (PV_LOG=debug)\n"
           "  --no-fork      serve every client on a thread of this process instead of\n"
           "                 a process of its own (no sandbox, no teardown watchdog)\n"
           "  --prestart N   client processes kept ready per socket, sandboxed with the\n"
           "                 host driver loaded, each for one client (default 2, at most\n"
           "                 16; 0: start each at accept)\n"
           "  --prestart-max N  while clients take the last ready process, the pool\n"
           "                 grows by one, up to N (default 8; each waiting process\n"
           "                 holds the host driver and a device: memory for speed)\n"
           "  --prestart-idle S  back to --prestart after S seconds without a new\n"
           "                 client (default 10)\n"
           "  --no-premade   pre-started processes do not make the host instance and\n"
           "                 device ahead from the latest guest's create infos\n"
           "Limits (connections: per socket; the memory budget: both sockets together;\n"
           "SIZE in bytes, or with a K, M or G suffix):\n"
           "  --max-clients N           clients at once (default 64)\n"
           "  --max-clients-per-pid N   connections of one connecting process (default 8)\n"
           "  --max-clients-per-uid N   connections of one user (default: --max-clients)\n"
           "  --handshake-timeout S     close a connection that has not created its\n"
           "                            context within S seconds (default 10)\n"
           "  --teardown-timeout S      kill a client process still running S seconds\n"
           "                            after its connection ended (default 5; 0.25 s\n"
           "                            more per other client process tearing down or\n"
           "                            still starting then, and the time it waited\n"
           "                            for a CPU, up to 3 times that); with\n"
           "                            --no-fork, the most a client's teardown waits\n"
           "                            for its GPU work (a device still busy then is\n"
           "                            abandoned: leaked until the server exits)\n"
           "  --memory-budget SIZE      blobs + device memory in RAM (host-visible memory,\n"
           "                            any memory of a CPU or integrated GPU) of all\n"
           "                            clients together (default 3/4 of the host's RAM)\n"
           "  --vram-budget SIZE        device-local memory of a discrete GPU of all\n"
           "                            clients together, per GPU (default: the size\n"
           "                            of its device-local heaps)\n"
           "  --max-context-memory SIZE blobs + device memory of one client (default\n"
           "                            16G, at most half the host's RAM)\n"
           "  --max-guest-blob-memory SIZE\n"
           "                            guest blobs of one client (default 4G, at most\n"
           "                            a quarter of the host's RAM)\n"
           "GPUs:\n"
           "  --gpus LIST               the host GPUs clients see: host device indices\n"
           "                            in the host's enumeration order, e.g. 0 or 1,3\n"
           "                            (default: all)\n"
           "  --queue-priority CLASS    host queue global priority of every client's\n"
           "                            devices: default, low, medium, high or realtime\n"
           "                            (the driver's default where the host has no\n"
           "                            global priority extension or refuses the class:\n"
           "                            NVIDIA refuses realtime to sandboxed clients;\n"
           "                            with --no-sandbox, add --no-premade: idle realtime\n"
           "                            devices made ahead slowed the realtime client\n"
           "                            on an H200, bench/results/h200-2026-12-02)\n"
           "Sandbox of the client processes (docs/sandbox.md):\n"
           "  --no-sandbox   run them without it\n"
           "  --user NAME    when started as root, run them as NAME (default nobody)\n"
           "Stops on SIGINT or SIGTERM, within the teardown watchdog's bound.\n",
           argv0);
}

/* The loader reads VK_INSTANCE_LAYERS at vkCreateInstance, which happens
 * only once a client connects: setting it here is early enough. */
static int
enable_validation(void)
{
   const char *old = getenv("VK_INSTANCE_LAYERS");
   if (!old || !*old)
      return setenv("VK_INSTANCE_LAYERS", VALIDATION_LAYER, 1);
   if (strstr(old, VALIDATION_LAYER))
      return 0;
   size_t len = strlen(old) + sizeof(VALIDATION_LAYER) + 1;
   char *layers = malloc(len);
   if (!layers)
      return -1;
   snprintf(layers, len, "%s:%s", old, VALIDATION_LAYER);
   int ret = setenv("VK_INSTANCE_LAYERS", layers, 1);
   free(layers);
   return ret;
}

/* Host drivers keep several fds per device (NVIDIA: a dozen or more), and
 * every client owns a device: 64 clients pass the usual soft limit of 1024,
 * where vkCreateDevice fails. Raise the soft limit to the hard one. */
static void
raise_fd_limit(void)
{
   struct rlimit rl;
   if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
         pv_warn(TAG, "cannot raise the open-file limit: %s", strerror(errno));
   }
}

/* Test hooks (PV_VTEST_TEST_HOOK, read by client processes only, a
 * comma-separated list): make the process misbehave the way a broken
 * driver or a compromised renderer would, so that the tests can show what
 * the server does about it.
 *   hang-teardown  block forever once the client is gone
 *   spin-teardown  use the CPU forever once the client is gone (a
 *                  teardown that is busy, never blocked)
 *   hang-retired   block forever when the server stops this process
 *                  before it got a client (a pre-started one)
 *   hang-start:N   block forever before serving a client whose id is at
 *                  most N (as a driver load that never ends would)
 *   execve, ptrace, socket  try that forbidden system call after the
 *                  client is gone (the sandbox must stop the process) */
static bool
test_hook(const char *name, unsigned long *arg)
{
   const char *hooks = getenv("PV_VTEST_TEST_HOOK");
   const size_t len = strlen(name);
   for (const char *h = hooks; h && *h; h = strchr(h, ',') ? strchr(h, ',') + 1 : NULL) {
      if (strncmp(h, name, len) || (h[len] && h[len] != ',' && h[len] != ':'))
         continue;
      if (arg)
         *arg = h[len] == ':' ? strtoul(h + len + 1, NULL, 10) : 0;
      return true;
   }
   return false;
}

static void
hang(const char *hook)
{
   pv_warn(TAG, "test hook %s", hook);
   for (;;)
      sleep(1000);
}

static void
spin(const char *hook)
{
   pv_warn(TAG, "test hook %s", hook);
   for (volatile unsigned long n = 0;; n++)
      ;
}

static void
run_start_test_hook(uint32_t client_id)
{
   unsigned long last = 0;
   if (test_hook("hang-start", &last) && client_id <= last)
      hang("hang-start");
}

static void
run_retired_test_hook(void)
{
   if (test_hook("hang-retired", NULL))
      hang("hang-retired");
}

static void
run_test_hook(void)
{
   if (test_hook("hang-teardown", NULL))
      hang("hang-teardown");
   if (test_hook("spin-teardown", NULL))
      spin("spin-teardown");
   static const char *const calls[] = { "execve", "ptrace", "socket" };
   for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
      if (!test_hook(calls[i], NULL))
         continue;
      pv_warn(TAG, "test hook %s", calls[i]);
      if (i == 0) {
         char *const argv[] = { "/bin/true", NULL };
         execve(argv[0], argv, NULL);
      } else if (i == 1) {
         syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, getppid(), 0, 0);
      } else {
         int fd = socket(AF_INET, SOCK_STREAM, 0);
         if (fd >= 0)
            close(fd);
      }
      pv_warn(TAG, "test hook %s: the call returned (%s)", calls[i], strerror(errno));
   }
}

struct client_process_options {
   struct vtest_client_config cfg;
   bool sandbox;
   const char *user;
   int budget_fd;
};

static int64_t
monotonic_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A recipe came while waiting for a client: the instance and device are
 * made from it now (the ones made from an older recipe go first). */
static void
premake(void *data, const void *recipe, size_t size)
{
   struct vtest_client_config *cfg = data;
   pv_premade_destroy(cfg->premade);
   cfg->premade = NULL;
   const int64_t start = monotonic_ms();
   if (pv_premade_create(recipe, size, &cfg->device_policy, &cfg->premade) == 0)
      pv_info(TAG, "client process %d: instance and device made ahead in %lld ms", (int)getpid(),
              (long long)(monotonic_ms() - start));
   (void)vtest_server_send_ready(cfg->recipe_fd);
}

/* A client process (see vtest_server_config.client_exe): enters its
 * sandbox and loads the host driver while it waits for its one client
 * (pre-started, or started for a client already accepted), serves it and
 * exits; it dies with the server. Nothing of a guest is read before the
 * sandbox is in force. The server's ignored SIGPIPE and raised fd limit
 * carry over through exec. */
static int
client_process_main(int ctrl, struct client_process_options *o)
{
#ifdef __GLIBC__
   /* Fixed malloc thresholds: by default glibc raises both after the first
    * large free (up to 32 MiB) and then keeps that much freed memory in
    * each thread's arena for the process's life. pvbench, lavapipe, 16
    * clients: 23.1 -> 20.7 MiB of private memory per context. */
   mallopt(M_MMAP_THRESHOLD, 128 << 10);
   mallopt(M_TRIM_THRESHOLD, 128 << 10);
   /* Not capped: M_ARENA_MAX (glibc's default, an arena per allocating
    * thread up to 8 per core) at 2 saved 0.1 MiB per context with
    * lavapipe, and would make the ring thread, which allocates while the
    * driver records every guest command, share its heap lock with the
    * driver's threads (bench/results/lavapipe-tenants-2026-12-01). */
#endif
   const pid_t parent = getppid();
   uint32_t slots = 0;
   if (o->budget_fd >= 0 && pv_shared_budget_map(o->budget_fd, &o->cfg.budget, &slots) < 0) {
      pv_error(TAG, "client process %d: no memory budget", (int)getpid());
      return 1;
   }
   if (o->sandbox) {
      char name[40];
      snprintf(name, sizeof(name), "client process %d", (int)getpid());
      const struct pv_sandbox_config sb = { .user = o->user, .name = name };
      if (pv_sandbox_enter(&sb) < 0)
         return 1;
   }
   /* after the user drop, which clears it */
   if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent || parent == 1)
      return 1;
   /* Not fatal: without a host driver the guest's vkCreateInstance fails
    * the usual way. A recipe already waiting (the server sends it right
    * after starting us) loads the driver and does its first-device work
    * with the objects it makes: the throwaway ones are skipped. */
   o->cfg.recipe_fd = ctrl; /* premake says "ready" on it */
   if (vtest_server_client_pending(ctrl)) {
      /* its guest waits: the driver loads with the guest's own instance
       * (a throwaway device is one more device creation on a host
       * driver that makes them one at a time, in a burst of guests) */
      pv_debug(TAG, "client process %d: its client is waiting: no throwaway instance",
               (int)getpid());
   } else if (!vtest_server_recipe_pending(ctrl)) {
      (void)pv_host_driver_preload();
      (void)vtest_server_send_ready(ctrl);
   } else {
      pv_debug(TAG, "client process %d: a recipe is waiting: no throwaway instance", (int)getpid());
   }

   uint32_t id = 0;
   int fd = vtest_server_receive_client_ex(ctrl, &id, &o->cfg.budget_slot, premake, &o->cfg);
   if (fd < 0) {
      close(ctrl);
      pv_premade_destroy(o->cfg.premade);
      /* the server stopped (or shrank its pool) before a client came; it
       * closed the socket with our "ready" unread: a reset, not an EOF */
      if (fd == -ENODATA || fd == -ECONNRESET) {
         run_retired_test_hook();
         return 0;
      }
      pv_error(TAG, "client process %d: no client from the server: %s", (int)getpid(),
               strerror(-fd));
      return 1;
   }
   if (o->cfg.budget && o->cfg.budget_slot >= slots) {
      pv_error(TAG, "client %u: no memory budget (slot %u of %u)", id, o->cfg.budget_slot, slots);
      pv_premade_destroy(o->cfg.premade);
      return 1;
   }
   /* the guest's recipe goes back to the server on it */
   o->cfg.recipe_fd = ctrl;
   run_start_test_hook(id);
   (void)vtest_server_send_serving(ctrl);
   /* `ps` names the client each process serves */
   char comm[16];
   snprintf(comm, sizeof(comm), "pv-client %u", id);
   prctl(PR_SET_NAME, comm);
   vtest_client_serve(fd, id, &o->cfg); /* takes o->cfg.premade */
   close(fd);
   close(ctrl);
   run_test_hook();
   return 0;
}

/* SIZE: bytes, or with a K, M or G suffix. */
static bool
parse_size(const char *s, uint64_t *out)
{
   char *end;
   errno = 0;
   unsigned long long v = strtoull(s, &end, 10);
   if (errno || end == s)
      return false;
   unsigned shift = 0;
   if (*end == 'K' || *end == 'k')
      shift = 10;
   else if (*end == 'M' || *end == 'm')
      shift = 20;
   else if (*end == 'G' || *end == 'g')
      shift = 30;
   if (shift)
      end++;
   if (*end || (v << shift) >> shift != v)
      return false;
   *out = (uint64_t)v << shift;
   return true;
}

static bool
parse_u32(const char *s, uint32_t *out)
{
   char *end;
   errno = 0;
   unsigned long v = strtoul(s, &end, 10);
   if (errno || end == s || *end || v > UINT32_MAX)
      return false;
   *out = (uint32_t)v;
   return true;
}

struct listener {
   struct vtest_server_config cfg;
   struct vtest_server *srv;
   pthread_t thread;
   int ret;
};

static void *
listener_thread(void *data)
{
   struct listener *l = data;
   l->ret = vtest_server_run(l->srv, -1);
   return NULL;
}

/* One socket: served here until a signal. Several: each on a thread of its
 * own, stopped together when the signal comes. */
static int
serve(struct listener *ls, uint32_t n, int sfd)
{
   if (n == 1)
      return vtest_server_run(ls[0].srv, sfd);
   uint32_t started = 0;
   int ret = 0;
   for (; started < n; started++) {
      if (pthread_create(&ls[started].thread, NULL, listener_thread, &ls[started])) {
         ret = -EAGAIN;
         break;
      }
   }
   if (!ret) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof(si)) < 0 && errno == EINTR)
         ;
   }
   for (uint32_t i = 0; i < started; i++)
      vtest_server_stop(ls[i].srv);
   for (uint32_t i = 0; i < started; i++) {
      pthread_join(ls[i].thread, NULL);
      if (ls[i].ret < 0)
         ret = ls[i].ret;
   }
   return ret;
}

/* Defaults that depend on the host: nothing a single guest may take is
 * allowed to exceed what the host has. */
static void
default_limits(uint64_t *budget, struct vtest_client_config *c)
{
   const uint64_t ram = pv_host_ram_bytes();
   if (!*budget)
      *budget = pv_default_memory_budget();
   if (!c->max_guest_blob_bytes) {
      c->max_guest_blob_bytes = 4ull << 30;
      if (ram && ram / 4 < c->max_guest_blob_bytes)
         c->max_guest_blob_bytes = ram / 4;
   }
   /* max_memory_per_context: pv_renderer_create's default already does it */
}

int
main(int argc, char **argv)
{
   enum {
      OPT_MAX_CLIENTS = 256,
      OPT_PER_PID,
      OPT_PER_UID,
      OPT_HANDSHAKE,
      OPT_TEARDOWN,
      OPT_BUDGET,
      OPT_VRAM_BUDGET,
      OPT_CTX_MEM,
      OPT_BLOB_MEM,
      OPT_NO_SANDBOX,
      OPT_NO_PREMADE,
      OPT_USER,
      OPT_BUDGET_FD,
      OPT_PRESTART,
      OPT_PRESTART_MAX,
      OPT_PRESTART_IDLE,
      OPT_QUEUE_PRIORITY,
      OPT_GPUS,
   };
   static const struct option opts[] = {
      { "socket", required_argument, NULL, 's' },
      { "socket-wire-format-1", required_argument, NULL, 'W' },
      { "client-wire-format", required_argument, NULL, 'w' },
      { "validate", no_argument, NULL, 'V' },
      { "verbose", no_argument, NULL, 'v' },
      { "no-fork", no_argument, NULL, 'n' },
      { "client-pool-fd", required_argument, NULL, 'F' },
      { "client-budget-fd", required_argument, NULL, OPT_BUDGET_FD },
      { "prestart", required_argument, NULL, OPT_PRESTART },
      { "prestart-max", required_argument, NULL, OPT_PRESTART_MAX },
      { "prestart-idle", required_argument, NULL, OPT_PRESTART_IDLE },
      { "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
      { "max-clients-per-pid", required_argument, NULL, OPT_PER_PID },
      { "max-clients-per-uid", required_argument, NULL, OPT_PER_UID },
      { "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE },
      { "teardown-timeout", required_argument, NULL, OPT_TEARDOWN },
      { "memory-budget", required_argument, NULL, OPT_BUDGET },
      { "vram-budget", required_argument, NULL, OPT_VRAM_BUDGET },
      { "max-context-memory", required_argument, NULL, OPT_CTX_MEM },
      { "max-guest-blob-memory", required_argument, NULL, OPT_BLOB_MEM },
      { "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
      { "no-premade", no_argument, NULL, OPT_NO_PREMADE },
      { "user", required_argument, NULL, OPT_USER },
      { "queue-priority", required_argument, NULL, OPT_QUEUE_PRIORITY },
      { "gpus", required_argument, NULL, OPT_GPUS },
      { "help", no_argument, NULL, 'h' },
      { 0 },
   };
   /* Our own path, read now: tools that run us (valgrind) answer it
    * correctly, while exec of /proc/self/exe would start the tool itself. */
   char self[PATH_MAX];
   const ssize_t self_len = readlink("/proc/self/exe", self, sizeof(self) - 1);
   if (self_len > 0)
      self[self_len] = '\0';
   struct vtest_server_config cfg = {
      .socket_path = VTEST_DEFAULT_SOCKET,
      .client_exe = self_len > 0 ? self : "/proc/self/exe",
      .client_shared_fd = -1,
      .prestart = DEFAULT_PRESTART,
      .prestart_max = DEFAULT_PRESTART_MAX,
   };
   struct client_process_options cpo = { .sandbox = true, .budget_fd = -1 };
   const char *socket_wire1 = NULL;
   uint32_t client_fd = UINT32_MAX, budget_fd = UINT32_MAX;
   uint32_t handshake_s = 0, teardown_s = 0, prestart_idle_s = 0;
   uint64_t budget_bytes = 0, vram_budget_bytes = 0; /* vram 0: each GPU's heaps */
   /* what client processes are told, as options of their own command line */
   const char *client_args[24];
   uint32_t nargs = 0;
   int c;
   while ((c = getopt_long(argc, argv, "s:vh", opts, NULL)) != -1) {
      bool ok = true;
      switch (c) {
      case 's':
         cfg.socket_path = strcmp(optarg, "none") ? optarg : NULL;
         break;
      case 'W':
         socket_wire1 = optarg;
         break;
      case 'V':
         if (enable_validation() < 0) {
            fprintf(stderr, "pv-vtest: cannot set VK_INSTANCE_LAYERS\n");
            return 1;
         }
         break;
      case 'v':
         /* Before the first log call: the threshold is read once. */
         setenv("PV_LOG", "debug", 1);
         break;
      case 'n':
         cfg.client_exe = NULL;
         break;
      case 'F':
         ok = parse_u32(optarg, &client_fd);
         break;
      case 'w':
         ok = parse_u32(optarg, &cpo.cfg.wire_format);
         break;
      case OPT_BUDGET_FD:
         ok = parse_u32(optarg, &budget_fd) && budget_fd <= INT32_MAX;
         cpo.budget_fd = (int)budget_fd;
         break;
      case OPT_NO_PREMADE:
         cfg.no_premade = true;
         break;
      case OPT_PRESTART:
         ok = parse_u32(optarg, &cfg.prestart) && cfg.prestart <= VTEST_MAX_PRESTART;
         break;
      case OPT_PRESTART_MAX:
         ok = parse_u32(optarg, &cfg.prestart_max) && cfg.prestart_max <= VTEST_MAX_PRESTART;
         break;
      case OPT_PRESTART_IDLE:
         ok = parse_u32(optarg, &prestart_idle_s) && prestart_idle_s && prestart_idle_s <= 3600;
         cfg.prestart_idle_ms = prestart_idle_s * 1000;
         break;
      case OPT_MAX_CLIENTS:
         ok = parse_u32(optarg, &cfg.max_clients);
         break;
      case OPT_PER_PID:
         ok = parse_u32(optarg, &cfg.max_clients_per_pid);
         break;
      case OPT_PER_UID:
         ok = parse_u32(optarg, &cfg.max_clients_per_uid);
         break;
      case OPT_HANDSHAKE:
      case OPT_TEARDOWN:
         ok = parse_u32(optarg, c == OPT_HANDSHAKE ? &handshake_s : &teardown_s) &&
              (c == OPT_HANDSHAKE ? handshake_s : teardown_s) - 1 < 3600;
         if (ok && c == OPT_HANDSHAKE) {
            cfg.client.handshake_timeout_ms = handshake_s * 1000;
            client_args[nargs++] = "--handshake-timeout";
            client_args[nargs++] = optarg;
         } else if (ok) {
            cfg.teardown_timeout_ms = teardown_s * 1000;
            cpo.cfg.teardown_timeout_ms = teardown_s * 1000; /* a client process's */
         }
         break;
      case OPT_BUDGET:
         ok = parse_size(optarg, &budget_bytes) && budget_bytes;
         break;
      case OPT_VRAM_BUDGET:
         ok = parse_size(optarg, &vram_budget_bytes) && vram_budget_bytes;
         break;
      case OPT_CTX_MEM:
      case OPT_BLOB_MEM: {
         uint64_t v = 0;
         ok = parse_size(optarg, &v) && v;
         if (c == OPT_BLOB_MEM) {
            cfg.client.max_guest_blob_bytes = v; /* passed on below */
            break;
         }
         cfg.client.renderer_limits.max_memory_per_context = v;
         client_args[nargs++] = "--max-context-memory";
         client_args[nargs++] = optarg;
         break;
      }
      case OPT_QUEUE_PRIORITY:
      case OPT_GPUS:
         ok =
            c == OPT_GPUS
               ? pv_gpu_mask_from_list(optarg, &cfg.client.device_policy.gpu_mask) == 0
               : pv_queue_priority_from_name(optarg, &cfg.client.device_policy.queue_priority) == 0;
         client_args[nargs++] = c == OPT_GPUS ? "--gpus" : "--queue-priority";
         client_args[nargs++] = optarg;
         break;
      case OPT_NO_SANDBOX:
         cpo.sandbox = false;
         client_args[nargs++] = "--no-sandbox";
         break;
      case OPT_USER:
         cpo.user = optarg;
         client_args[nargs++] = "--user";
         client_args[nargs++] = optarg;
         break;
      case 'h':
         usage(stdout, argv[0]);
         return 0;
      default:
         ok = false;
         break;
      }
      if (!ok) {
         usage(stderr, argv[0]);
         return 2;
      }
   }
   if (optind != argc || (client_fd != UINT32_MAX && client_fd > INT32_MAX) ||
       (!cfg.socket_path && !socket_wire1)) {
      usage(stderr, argv[0]);
      return 2;
   }
   if (client_fd != UINT32_MAX) {
      /* the limits the server passed on */
      cpo.cfg.handshake_timeout_ms = cfg.client.handshake_timeout_ms;
      cpo.cfg.max_guest_blob_bytes = cfg.client.max_guest_blob_bytes;
      cpo.cfg.renderer_limits = cfg.client.renderer_limits;
      cpo.cfg.device_policy = cfg.client.device_policy;
      return client_process_main((int)client_fd, &cpo);
   }
   if (cpo.user && !cfg.client_exe) {
      fprintf(stderr, "pv-vtest: --user needs client processes (not --no-fork)\n");
      return 2;
   }

   /* Client threads (--no-fork) cannot be killed: their renderers give up
    * on a GPU that does not go idle after the teardown timeout (and the
    * server waits a second more). A client process's renderer waits a
    * second longer than its watchdog, which kills it first: a killed
    * process frees what an abandoned device would leak. */
   cfg.client.teardown_timeout_ms = cfg.teardown_timeout_ms;
   char teardown_arg[16];
   const uint32_t watchdog_s = cfg.teardown_timeout_ms ? cfg.teardown_timeout_ms / 1000 : 5;
   snprintf(teardown_arg, sizeof(teardown_arg), "%u", watchdog_s < 3600 ? watchdog_s + 1 : 3600);
   client_args[nargs++] = "--teardown-timeout";
   client_args[nargs++] = teardown_arg;

   default_limits(&budget_bytes, &cfg.client);
   /* one budget for both sockets; each server's clients in a slot range
    * twice its size (finished clients hold theirs until reaped) */
   const uint32_t max_clients = cfg.max_clients ? cfg.max_clients : 64;
   if (max_clients > 1024) {
      fprintf(stderr, "pv-vtest: --max-clients: at most 1024\n");
      return 2;
   }
   int budget_mfd = -1;
   int ret = pv_shared_budget_create(budget_bytes, vram_budget_bytes, max_clients * 4,
                                     &cfg.client.budget, &budget_mfd);
   if (ret < 0) {
      pv_error(TAG, "cannot create the shared memory budget: %s", strerror(-ret));
      return 1;
   }
   /* far from fds 3 and 4, which client processes receive */
   cfg.client_shared_fd = fcntl(budget_mfd, F_DUPFD_CLOEXEC, 10);
   close(budget_mfd);
   if (cfg.client_shared_fd < 0) {
      pv_error(TAG, "cannot keep the budget's fd: %s", strerror(errno));
      return 1;
   }
   char blob_arg[24];
   snprintf(blob_arg, sizeof(blob_arg), "%llu",
            (unsigned long long)cfg.client.max_guest_blob_bytes);
   client_args[nargs++] = "--max-guest-blob-memory";
   client_args[nargs++] = blob_arg;
   client_args[nargs++] = "--client-budget-fd";
   client_args[nargs++] = "4";
   client_args[nargs] = NULL;
   cfg.client_args = client_args;
   if (!cfg.client_exe)
      pv_info(TAG, "--no-fork: client threads are not sandboxed");
   else if (cpo.sandbox && !pv_sandbox_available())
      pv_warn(TAG, "built without libseccomp: client processes get no system call filter");
   char vram[32] = "its device-local heaps";
   if (vram_budget_bytes)
      snprintf(vram, sizeof(vram), "%llu MiB", (unsigned long long)(vram_budget_bytes >> 20));
   pv_info(TAG,
           "memory budget of all clients: RAM %llu MiB, each discrete GPU %s; per client: "
           "guest blobs %llu MiB",
           (unsigned long long)(budget_bytes >> 20), vram,
           (unsigned long long)(cfg.client.max_guest_blob_bytes >> 20));

   /* Signals arrive through a signalfd in the accept loop; every thread
    * inherits the mask, so no handler ever interrupts a client thread. */
   sigset_t mask;
   sigemptyset(&mask);
   sigaddset(&mask, SIGINT);
   sigaddset(&mask, SIGTERM);
   if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0) {
      pv_error(TAG, "cannot block signals");
      return 1;
   }
   signal(SIGPIPE, SIG_IGN);
   raise_fd_limit();
   int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
   if (sfd < 0) {
      pv_error(TAG, "signalfd: %s", strerror(errno));
      return 1;
   }

   /* One server per socket, each with its wire format. */
   struct listener ls[2] = { 0 };
   uint32_t n = 0;
   if (cfg.socket_path)
      ls[n++] = (struct listener){ .cfg = cfg };
   if (socket_wire1) {
      ls[n] = (struct listener){ .cfg = cfg };
      ls[n].cfg.socket_path = socket_wire1;
      ls[n].cfg.client.wire_format = PV_VENUS_WIRE_FORMAT_MESA25;
      ls[n].cfg.budget_slot_base = max_clients * 2;
      n++;
   }
   ret = 0;
   uint32_t created = 0;
   for (; created < n; created++) {
      ret = vtest_server_create(&ls[created].cfg, &ls[created].srv);
      if (ret < 0) {
         pv_error(TAG, "cannot listen on %s: %s", ls[created].cfg.socket_path, strerror(-ret));
         break;
      }
   }
   if (ret < 0) {
      while (created)
         vtest_server_destroy(ls[--created].srv);
      close(sfd);
      return 1;
   }
   /* One line per socket on stdout so scripts and people know it is up. */
   for (uint32_t i = 0; i < n; i++)
      printf("pv-vtest: listening on %s (venus wire format %u)\n", ls[i].cfg.socket_path,
             ls[i].cfg.client.wire_format);
   fflush(stdout);

   ret = serve(ls, n, sfd);
   if (ret == -ETIMEDOUT) {
      /* a client thread is stuck in the host driver: it can be neither
       * joined nor killed, so the process ends without tearing down */
      pv_error(TAG, "stopped with a client thread still running");
      fflush(stdout);
      _exit(4);
   }
   uint32_t failed = 0;
   for (uint32_t i = 0; i < n; i++) {
      failed += vtest_server_failed_clients(ls[i].srv);
      vtest_server_destroy(ls[i].srv);
   }
   close(sfd);
   printf("pv-vtest: stopped\n");
   if (ret < 0)
      return 1;
   /* Supervisors and tests learn of a client process that crashed. */
   if (failed) {
      pv_error(TAG, "%u client process(es) failed", failed);
      return 3;
   }
   return 0;
}
