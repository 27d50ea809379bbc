/*
 * pv-vtest: serves Mesa's venus driver (VN_DEBUG=vtest) over the vtest
 * socket protocol, one PearVisor renderer per client.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"
#include "pearvisor/pearvisor.h"
#include "vtest/vtest_protocol.h"
#include "vtest/vtest_server.h"

#define TAG "vtest"
#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

static void
usage(FILE *f, const char *argv0)
{
   fprintf(f,
           "usage: %s [--socket PATH] [--socket-wire-format-1 PATH] [--validate] [--verbose]\n"
           "          [--no-fork]\n"
           "  --socket PATH  serve venus wire format 0 (Mesa 22.3's driver) on PATH\n"
           "                 (default " VTEST_DEFAULT_SOCKET ", the path Mesa 22.3 always uses)\n"
           "  --socket-wire-format-1 PATH\n"
           "                 also serve wire format 1 (Mesa 25's driver, which connects to\n"
           "                 VTEST_SOCKET_NAME) on PATH; with --socket none, only that\n"
           "  --validate     run the host Vulkan driver under " VALIDATION_LAYER "\n"
           "  --verbose      log every command (PV_LOG=debug)\n"
           "  --no-fork      serve every client on a thread of this process instead of\n"
           "                 a process of its own\n"
           "Stops cleanly on SIGINT or SIGTERM.\n",
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

/* A client process (see vtest_server_config.client_exe): serves the one
 * client on fd and exits; it dies with the server. The server's ignored
 * SIGPIPE and raised fd limit carry over through exec. */
static int
client_process_main(int fd, uint32_t id, uint32_t wire_format)
{
   const pid_t parent = getppid();
   if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent || parent == 1)
      return 1;
   const struct vtest_client_config cfg = { .wire_format = wire_format };
   vtest_client_serve(fd, id, &cfg);
   close(fd);
   return 0;
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

int
main(int argc, char **argv)
{
   static const struct option opts[] = {
      { "socket", required_argument, NULL, 's' },
      { "socket-wire-format-1", required_argument, NULL, 'W' },
      { "client-wire-format", required_argument, NULL, 'w' },
      { "validate", no_argument, NULL, 'V' },
      { "verbose", no_argument, NULL, 'v' },
      { "no-fork", no_argument, NULL, 'n' },
      { "client-fd", required_argument, NULL, 'F' },
      { "client-id", required_argument, NULL, 'I' },
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
   };
   const char *socket_wire1 = NULL;
   uint32_t client_fd = UINT32_MAX, client_id = 0, client_wire = 0;
   int c;
   while ((c = getopt_long(argc, argv, "s:vh", opts, NULL)) != -1) {
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
      case 'I':
      case 'w':
         if (!parse_u32(optarg, c == 'F' ? &client_fd : c == 'I' ? &client_id : &client_wire)) {
            usage(stderr, argv[0]);
            return 2;
         }
         break;
      case 'h':
         usage(stdout, argv[0]);
         return 0;
      default:
         usage(stderr, argv[0]);
         return 2;
      }
   }
   if (optind != argc || (client_fd != UINT32_MAX && client_fd > INT32_MAX) ||
       (!cfg.socket_path && !socket_wire1)) {
      usage(stderr, argv[0]);
      return 2;
   }
   if (client_fd != UINT32_MAX)
      return client_process_main((int)client_fd, client_id, client_wire);

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
      n++;
   }
   int ret = 0;
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
