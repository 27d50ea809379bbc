/*
 * A raw vtest client for end-to-end tests of pv-vtest: speaks the socket
 * protocol by hand, including everything a well-behaved client never sends.
 *
 * usage: vtest_raw_client [--socket PATH] MODE
 *   ping        Mesa's handshake, a valid venus capset, CONTEXT_INIT, a blob
 *   malformed   one connection per malformed message: each must be dropped
 *               by the server, and a fresh client must still be served
 *   disconnect  clients that vanish mid-message, with blobs, syncs and
 *               pending waits: the server must keep serving
 *   fuzz N SEED N random messages on one connection (the server may drop
 *               it at any time), then a fresh client must be served
 *   again N     N pings one after another from this one process (a guest
 *               that connects again while its last connection's process
 *               may still be tearing down)
 *   hold        handshake, print "held", then wait until the server drops
 *               the connection (exit 0 then)
 *   idle N      open N connections that send nothing, print "idle", then
 *               wait until the server has closed every one (at most 60 s);
 *               reports how many it closed at once (refused) and later
 *   budget A B  a client holds a shared-memory blob of A bytes; another
 *               client's blob of B bytes must then be refused (connection
 *               dropped), and accepted once the first client is gone
 * Exit status 0 on success.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define VCMD_GET_CAPS 1
#define VCMD_RESOURCE_UNREF 3
#define VCMD_SUBMIT_CMD 6
#define VCMD_RESOURCE_BUSY_WAIT 7
#define VCMD_CREATE_RENDERER 8
#define VCMD_PING_PROTOCOL_VERSION 10
#define VCMD_PROTOCOL_VERSION 11
#define VCMD_GET_PARAM 15
#define VCMD_GET_CAPSET 16
#define VCMD_CONTEXT_INIT 17
#define VCMD_RESOURCE_CREATE_BLOB 18
#define VCMD_SYNC_CREATE 19
#define VCMD_SYNC_WAIT 23
#define VCMD_SUBMIT_CMD2 24
#define CAPSET_VENUS 4

static const char *sock_path = "/tmp/.virgl_test";

#define FAIL(...)                                        \
   do {                                                  \
      fprintf(stderr, "vtest_raw_client: " __VA_ARGS__); \
      fprintf(stderr, "\n");                             \
      exit(1);                                           \
   } while (0)

static int
conn(void)
{
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
   if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
      FAIL("cannot connect to %s: %s", sock_path, strerror(errno));
   return fd;
}

/* Writes; false when the server already closed the connection. */
static bool
put(int fd, const void *buf, size_t size)
{
   while (size) {
      ssize_t n = send(fd, buf, size, MSG_NOSIGNAL);
      if (n <= 0)
         return false;
      buf = (const char *)buf + n;
      size -= (size_t)n;
   }
   return true;
}

static void
msg(int fd, uint32_t cmd, const uint32_t *data, uint32_t ndw)
{
   uint32_t hdr[2] = { ndw, cmd };
   if (!put(fd, hdr, sizeof(hdr)) || (ndw && !put(fd, data, (size_t)ndw * 4)))
      FAIL("server closed the connection during command %u", cmd);
}

static void
get(int fd, void *buf, size_t size)
{
   while (size) {
      ssize_t n = read(fd, buf, size);
      if (n <= 0)
         FAIL("server closed the connection while a reply was due");
      buf = (char *)buf + n;
      size -= (size_t)n;
   }
}

static uint32_t
reply(int fd, uint32_t cmd)
{
   uint32_t hdr[2];
   get(fd, hdr, sizeof(hdr));
   if (hdr[1] != cmd)
      FAIL("reply to command %u came as %u", cmd, hdr[1]);
   return hdr[0];
}

static int
recv_fd(int fd)
{
   char byte, ctrl[CMSG_SPACE(sizeof(int))];
   struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
   struct msghdr m = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof(ctrl)
   };
   if (recvmsg(fd, &m, 0) != 1)
      FAIL("no fd from the server");
   struct cmsghdr *c = CMSG_FIRSTHDR(&m);
   if (!c || c->cmsg_type != SCM_RIGHTS)
      FAIL("reply without SCM_RIGHTS");
   int out;
   memcpy(&out, CMSG_DATA(c), sizeof(out));
   return out;
}

static bool
closed_by_server(int fd)
{
   struct pollfd p = { .fd = fd, .events = POLLIN };
   if (poll(&p, 1, 10000) != 1)
      return false;
   char c;
   return read(fd, &c, 1) <= 0;
}

/* The handshake of Mesa's vn_renderer_vtest.c, checking every reply. */
static void
handshake(int fd, bool context)
{
   const char name[] = "vtest_raw_client";
   uint32_t hdr[2] = { sizeof(name), VCMD_CREATE_RENDERER };
   if (!put(fd, hdr, sizeof(hdr)) || !put(fd, name, sizeof(name)))
      FAIL("cannot send CREATE_RENDERER");
   msg(fd, VCMD_PING_PROTOCOL_VERSION, NULL, 0);
   msg(fd, VCMD_RESOURCE_BUSY_WAIT, (uint32_t[]){ 0, 0 }, 2);
   uint32_t v[2];
   if (reply(fd, VCMD_PING_PROTOCOL_VERSION) != 0)
      FAIL("bad PING reply");
   if (reply(fd, VCMD_RESOURCE_BUSY_WAIT) != 1)
      FAIL("bad BUSY_WAIT reply");
   get(fd, v, 4);
   msg(fd, VCMD_PROTOCOL_VERSION, (uint32_t[]){ 3 }, 1);
   if (reply(fd, VCMD_PROTOCOL_VERSION) != 1)
      FAIL("bad PROTOCOL_VERSION reply");
   get(fd, v, 4);
   if (v[0] != 3)
      FAIL("protocol version %u, want 3", v[0]);
   msg(fd, VCMD_GET_PARAM, (uint32_t[]){ 1 }, 1);
   if (reply(fd, VCMD_GET_PARAM) != 2)
      FAIL("bad GET_PARAM reply");
   get(fd, v, 8);
   if (!v[0] || !v[1])
      FAIL("no sync queues");
   msg(fd, VCMD_GET_CAPSET, (uint32_t[]){ CAPSET_VENUS, 0 }, 2);
   uint32_t len = reply(fd, VCMD_GET_CAPSET);
   if (len < 1 || len > 4096)
      FAIL("capset reply of %u dwords", len);
   uint32_t *caps = malloc((size_t)len * 4);
   get(fd, caps, (size_t)len * 4);
   if (!caps[0] || len < 2)
      FAIL("venus capset invalid");
   free(caps);
   if (context)
      msg(fd, VCMD_CONTEXT_INIT, (uint32_t[]){ CAPSET_VENUS }, 1);
}

static void
mode_ping(void)
{
   int fd = conn();
   handshake(fd, true);
   /* A shared-memory blob as Mesa creates them (HOST3D, mappable, blob id 0). */
   msg(fd, VCMD_RESOURCE_CREATE_BLOB, (uint32_t[]){ 2, 1, 65536, 0, 0, 0 }, 6);
   if (reply(fd, VCMD_RESOURCE_CREATE_BLOB) != 1)
      FAIL("bad CREATE_BLOB reply");
   uint32_t res;
   get(fd, &res, 4);
   int bfd = recv_fd(fd);
   void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
   if (!res || p == MAP_FAILED)
      FAIL("blob %u not mappable", res);
   memset(p, 0x5a, 65536);
   munmap(p, 65536);
   close(bfd);
   msg(fd, VCMD_RESOURCE_UNREF, &res, 1);
   msg(fd, VCMD_PING_PROTOCOL_VERSION, NULL, 0);
   if (reply(fd, VCMD_PING_PROTOCOL_VERSION) != 0)
      FAIL("bad PING reply");
   close(fd);
}

struct bad {
   const char *what;
   bool context;
   uint32_t len, cmd;
   uint32_t data[16];
   uint32_t ndw;
};

static const struct bad bads[] = {
   { "unknown command", true, 0, 1000, { 0 }, 0 },
   { "virgl 3D command", true, 0, VCMD_GET_CAPS, { 0 }, 0 },
   { "4 GiB message", true, 0x40000000u, VCMD_SUBMIT_CMD, { 0 }, 1 },
   { "1 MiB renderer name", false, 1u << 20, VCMD_CREATE_RENDERER, { 0 }, 1 },
   { "short capset request", true, 1, VCMD_GET_CAPSET, { 4 }, 1 },
   { "second context", true, 1, VCMD_CONTEXT_INIT, { CAPSET_VENUS }, 1 },
   { "context of a bad capset", false, 1, VCMD_CONTEXT_INIT, { 77 }, 1 },
   { "blob before context", false, 6, VCMD_RESOURCE_CREATE_BLOB, { 2, 1, 4096, 0, 0, 0 }, 6 },
   { "blob of 2^63 bytes", true, 6, VCMD_RESOURCE_CREATE_BLOB, { 2, 1, 0, 0x80000000u, 0, 0 }, 6 },
   { "blob of an unknown memory id",
     true,
     6,
     VCMD_RESOURCE_CREATE_BLOB,
     { 2, 1, 4096, 0, 12345, 0 },
     6 },
   { "unknown venus command", true, 2, VCMD_SUBMIT_CMD, { 0x7fffffffu, 0 }, 2 },
   { "truncated venus command", true, 1, VCMD_SUBMIT_CMD, { 0 }, 1 },
   { "SUBMIT_CMD2 batch past the end",
     true,
     9,
     VCMD_SUBMIT_CMD2,
     { 1, 0, 0xfffffff0u, 0x20, 0, 0, 0, 0, 0 },
     9 },
   { "SUBMIT_CMD2 billions of batches", true, 1, VCMD_SUBMIT_CMD2, { 0xffffffffu }, 1 },
   { "SUBMIT_CMD2 unknown sync",
     true,
     12,
     VCMD_SUBMIT_CMD2,
     { 1, 0, 9, 0, 9, 1, 0, 0, 0, 99, 1, 0 },
     12 },
   { "SYNC_WAIT on an unknown sync", true, 5, VCMD_SYNC_WAIT, { 0, 0, 99, 1, 0 }, 5 },
   { "SYNC_WAIT of a bad size", true, 3, VCMD_SYNC_WAIT, { 0, 0, 1 }, 3 },
};

static void
mode_malformed(void)
{
   for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
      const struct bad *b = &bads[i];
      int fd = conn();
      if (b->context)
         handshake(fd, true);
      uint32_t hdr[2] = { b->len, b->cmd };
      put(fd, hdr, sizeof(hdr));
      if (b->ndw)
         put(fd, b->data, (size_t)b->ndw * 4);
      if (!closed_by_server(fd))
         FAIL("malformed '%s': the server did not drop the client", b->what);
      close(fd);
      mode_ping();
      fprintf(stderr, "malformed '%s': dropped, server still serving\n", b->what);
   }
}

static void
mode_disconnect(void)
{
   /* Inside a header. */
   int fd = conn();
   put(fd, (uint32_t[]){ 7 }, 4);
   close(fd);
   /* Inside a payload, after a handshake and a blob. */
   fd = conn();
   handshake(fd, true);
   msg(fd, VCMD_RESOURCE_CREATE_BLOB, (uint32_t[]){ 2, 1, 4096, 0, 0, 0 }, 6);
   reply(fd, VCMD_RESOURCE_CREATE_BLOB);
   uint32_t res;
   get(fd, &res, 4);
   close(recv_fd(fd));
   put(fd, (uint32_t[]){ 1000, VCMD_SUBMIT_CMD2, 1, 0 }, 16);
   close(fd);
   /* With a wait pending and its fd still open here. */
   fd = conn();
   handshake(fd, true);
   msg(fd, VCMD_SYNC_CREATE, (uint32_t[]){ 0, 0 }, 2);
   reply(fd, VCMD_SYNC_CREATE);
   uint32_t sync;
   get(fd, &sync, 4);
   msg(fd, VCMD_SYNC_WAIT, (uint32_t[]){ 0, UINT32_MAX, sync, 1, 0 }, 5);
   reply(fd, VCMD_SYNC_WAIT);
   int wfd = recv_fd(fd);
   close(fd);
   /* Replies nobody reads until the server blocks on them, then gone. */
   fd = conn();
   for (int i = 0; i < 100000; i++) {
      uint32_t hdr[2] = { 0, VCMD_PING_PROTOCOL_VERSION };
      if (send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL | MSG_DONTWAIT) != sizeof(hdr))
         break;
   }
   close(fd);
   mode_ping();
   close(wfd);
   fprintf(stderr, "disconnect: server still serving\n");
}

static uint32_t
rnd(uint32_t n)
{
   return (uint32_t)random() % n;
}

/* One message that is well formed most of the time, so that the server
 * gets deep into its sync, wait, fence and blob paths before a bad one
 * (1 in ~50) drops the client. Returns its size in dwords including the header. */
static uint32_t
fuzz_message(uint32_t *m)
{
   static const uint32_t cmds[] = { VCMD_PING_PROTOCOL_VERSION,
                                    VCMD_PROTOCOL_VERSION,
                                    VCMD_RESOURCE_BUSY_WAIT,
                                    VCMD_GET_PARAM,
                                    VCMD_GET_CAPSET,
                                    VCMD_RESOURCE_CREATE_BLOB,
                                    VCMD_RESOURCE_UNREF,
                                    VCMD_SYNC_CREATE,
                                    VCMD_SYNC_CREATE,
                                    21,
                                    21,
                                    22,
                                    VCMD_SYNC_WAIT,
                                    VCMD_SUBMIT_CMD2,
                                    VCMD_SUBMIT_CMD2 };
   uint32_t cmd = cmds[rnd(sizeof(cmds) / sizeof(cmds[0]))];
   uint32_t *p = m + 2, n = 0;
   uint32_t sync = 1 + rnd(6);
   switch (cmd) {
   case VCMD_PROTOCOL_VERSION:
      p[n++] = rnd(5);
      break;
   case VCMD_RESOURCE_BUSY_WAIT:
      p[n++] = rnd(4);
      p[n++] = rnd(2);
      break;
   case VCMD_GET_PARAM:
      p[n++] = rnd(3);
      break;
   case VCMD_GET_CAPSET:
      p[n++] = rnd(6);
      p[n++] = rnd(2);
      break;
   case VCMD_RESOURCE_CREATE_BLOB:
      p[n++] = 2;
      p[n++] = 1;
      p[n++] = 4096 * (1 + rnd(4));
      p[n++] = 0;
      p[n++] = 0;
      p[n++] = 0;
      break;
   case VCMD_RESOURCE_UNREF:
      p[n++] = rnd(8);
      break;
   case VCMD_SYNC_CREATE:
      p[n++] = rnd(3);
      p[n++] = 0;
      break;
   case 21:
      p[n++] = sync;
      break;
   case 22:
      p[n++] = sync;
      p[n++] = rnd(4);
      p[n++] = 0;
      break;
   case VCMD_SYNC_WAIT:
      p[n++] = rnd(2);
      p[n++] = rnd(3);
      for (uint32_t i = 0, k = 1 + rnd(3); i < k; i++) {
         p[n++] = 1 + rnd(6);
         p[n++] = rnd(4);
         p[n++] = 0;
      }
      break;
   case VCMD_SUBMIT_CMD2:
      /* one batch, no commands, one sync point on the CPU or a sync queue */
      p[n++] = 1;
      p[n++] = rnd(2);
      p[n++] = 9;
      p[n++] = 0;
      p[n++] = 9;
      p[n++] = 1;
      p[n++] = rnd(4);
      p[n++] = rnd(1000);
      p[n++] = 0;
      p[n++] = sync;
      p[n++] = rnd(5);
      p[n++] = 0;
      break;
   default:
      break;
   }
   if (rnd(50) == 0) {
      /* corrupt it: a random dword somewhere, or a random length */
      if (n && rnd(2))
         p[rnd(n)] = (uint32_t)random();
      else
         n = rnd(2) ? n + 1 + rnd(4) : (uint32_t)random() % 64;
   }
   m[0] = n;
   m[1] = cmd;
   return 2 + n;
}

static void
mode_fuzz(unsigned count, unsigned seed)
{
   srandom(seed);
   int fd = conn();
   handshake(fd, true);
   /* Syncs 1..6, which the messages name; unknown ones drop the client. */
   for (int i = 0; i < 6; i++) {
      msg(fd, VCMD_SYNC_CREATE, (uint32_t[]){ 0, 0 }, 2);
      reply(fd, VCMD_SYNC_CREATE);
      uint32_t id;
      get(fd, &id, 4);
   }
   unsigned sent = 0;
   for (; sent < count; sent++) {
      uint32_t m[64] = { 0 };
      uint32_t ndw = fuzz_message(m);
      if (!put(fd, m, (size_t)ndw * 4))
         break;
      /* Drain whatever came back, closing received fds, so the server never blocks on us. */
      for (;;) {
         char sink[4096], ctrl[CMSG_SPACE(4 * sizeof(int))];
         struct iovec iov = { .iov_base = sink, .iov_len = sizeof(sink) };
         struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof(ctrl)
         };
         if (recvmsg(fd, &mh, MSG_DONTWAIT) <= 0)
            break;
         for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_type == SCM_RIGHTS) {
               int rfd;
               memcpy(&rfd, CMSG_DATA(c), sizeof(rfd));
               close(rfd);
            }
         }
      }
   }
   close(fd);
   mode_ping();
   fprintf(stderr, "fuzz: %u of %u messages sent before the drop, server still serving\n", sent,
           count);
}

static void
mode_hold(void)
{
   int fd = conn();
   handshake(fd, true);
   printf("held\n");
   fflush(stdout);
   char c;
   while (read(fd, &c, 1) > 0)
      ;
   close(fd);
}

/* A fresh client's shared-memory blob of `size` bytes: true when it was
 * created, false when the server dropped the connection instead. */
static bool
try_blob(int fd, uint32_t size)
{
   uint32_t args[6] = { 2, 1, size, 0, 0, 0 };
   uint32_t hdr[2] = { 6, VCMD_RESOURCE_CREATE_BLOB };
   if (!put(fd, hdr, sizeof(hdr)) || !put(fd, args, sizeof(args)))
      return false;
   uint32_t rhdr[2], res;
   if (read(fd, rhdr, sizeof(rhdr)) != (ssize_t)sizeof(rhdr))
      return false;
   if (rhdr[1] != VCMD_RESOURCE_CREATE_BLOB || read(fd, &res, 4) != 4 || !res)
      FAIL("bad CREATE_BLOB reply");
   close(recv_fd(fd));
   return true;
}

static void
mode_budget(uint32_t a, uint32_t b)
{
   int first = conn();
   handshake(first, true);
   if (!try_blob(first, a))
      FAIL("the first blob (%u bytes) was refused", a);
   int second = conn();
   handshake(second, true);
   if (try_blob(second, b))
      FAIL("a blob of %u bytes was accepted while %u were held", b, a);
   close(second);
   close(first);
   /* the first client's memory comes back when its renderer is gone */
   for (int i = 0; i < 100; i++) {
      int third = conn();
      handshake(third, true);
      bool ok = try_blob(third, b);
      close(third);
      if (ok) {
         printf("budget: %u bytes refused while %u were held, accepted after\n", b, a);
         return;
      }
      usleep(100000);
   }
   FAIL("a blob of %u bytes still refused after the first client left", b);
}

static double
now_s(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
mode_idle(unsigned n)
{
   if (n == 0 || n > 1024)
      FAIL("idle: 1..1024 connections");
   int *fds = calloc(n, sizeof(int));
   for (unsigned i = 0; i < n; i++)
      fds[i] = conn();
   const double start = now_s();
   printf("idle: %u connections open\n", n);
   fflush(stdout);
   unsigned open = n, at_once = 0;
   double last = 0;
   while (open && now_s() - start < 60) {
      struct pollfd *p = calloc(n, sizeof(*p));
      for (unsigned i = 0; i < n; i++)
         p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
      poll(p, n, 1000);
      for (unsigned i = 0; i < n; i++) {
         char c;
         if (fds[i] < 0 || !p[i].revents || read(fds[i], &c, 1) > 0)
            continue;
         close(fds[i]);
         fds[i] = -1;
         open--;
         last = now_s() - start;
         at_once += last < 1.0;
      }
      free(p);
   }
   if (open)
      FAIL("idle: %u of %u connections still open after 60 s", open, n);
   printf("idle: the server closed all %u: %u at once (refused), %u later (the last after "
          "%.1f s)\n",
          n, at_once, n - at_once, last);
   free(fds);
}

int
main(int argc, char **argv)
{
   int i = 1;
   if (i + 1 < argc && !strcmp(argv[i], "--socket")) {
      sock_path = argv[i + 1];
      i += 2;
   }
   if (i >= argc)
      FAIL("usage: vtest_raw_client [--socket PATH] ping|malformed|disconnect|hold|fuzz N SEED");
   const char *mode = argv[i];
   if (!strcmp(mode, "ping"))
      mode_ping();
   else if (!strcmp(mode, "malformed"))
      mode_malformed();
   else if (!strcmp(mode, "disconnect"))
      mode_disconnect();
   else if (!strcmp(mode, "hold"))
      mode_hold();
   else if (!strcmp(mode, "again") && i + 1 < argc)
      for (int n = atoi(argv[i + 1]); n > 0; n--)
         mode_ping();
   else if (!strcmp(mode, "idle") && i + 1 < argc)
      mode_idle((unsigned)atoi(argv[i + 1]));
   else if (!strcmp(mode, "budget") && i + 2 < argc)
      mode_budget((uint32_t)atoi(argv[i + 1]), (uint32_t)atoi(argv[i + 2]));
   else if (!strcmp(mode, "fuzz") && i + 2 < argc)
      mode_fuzz((unsigned)atoi(argv[i + 1]), (unsigned)atoi(argv[i + 2]));
   else
      FAIL("unknown mode %s", mode);
   return 0;
}
