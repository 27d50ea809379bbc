/*
 * pv-vtest server tests against the fake renderer (tests/fakes/fake_renderer.h):
 * the handshake Mesa's venus driver does, blobs with fds, syncs and waits,
 * SUBMIT_CMD2 batches and fences, isolation of two clients, malformed
 * streams (each drops only its own client), and shutdown with clients on.
 */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vtest/vtest_protocol.h"
#include "vtest/vtest_server.h"
#include "vtest/vtest_sync.h"
#include "vtest/vtest_watchdog.h"

#include "common/test_check.h"
#include "fake_renderer.h"

static char sock_path[108];

static int
conn(void)
{
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   CHECK(fd >= 0);
   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   strcpy(addr.sun_path, sock_path);
   CHECK(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
   return fd;
}

static void
xwrite(int fd, const void *buf, size_t size)
{
   CHECK(send(fd, buf, size, MSG_NOSIGNAL) == (ssize_t)size);
}

static void
msg(int fd, uint32_t cmd, const uint32_t *data, uint32_t ndw)
{
   uint32_t hdr[2] = { ndw, cmd };
   xwrite(fd, hdr, sizeof(hdr));
   if (ndw)
      xwrite(fd, data, (size_t)ndw * 4);
}

static void
xread(int fd, void *buf, size_t size)
{
   size_t done = 0;
   while (done < size) {
      ssize_t n = read(fd, (char *)buf + done, size - done);
      CHECK(n > 0);
      done += (size_t)n;
   }
}

/* Reads a reply header, checks the command, returns its length. */
static uint32_t
reply(int fd, uint32_t cmd)
{
   uint32_t hdr[2];
   xread(fd, hdr, sizeof(hdr));
   CHECK(hdr[1] == cmd);
   return hdr[0];
}

static int
recv_fd(int fd)
{
   char byte;
   char ctrl[CMSG_SPACE(sizeof(int))];
   struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
   struct msghdr m = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof(ctrl)
   };
   CHECK(recvmsg(fd, &m, 0) == 1);
   struct cmsghdr *c = CMSG_FIRSTHDR(&m);
   CHECK(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS);
   int out;
   memcpy(&out, CMSG_DATA(c), sizeof(int));
   return out;
}

/* True when the server closed the connection (within 5 s). */
static bool
closed_by_server(int fd)
{
   struct pollfd p = { .fd = fd, .events = POLLIN };
   if (poll(&p, 1, 5000) != 1)
      return false;
   char c;
   return read(fd, &c, 1) <= 0;
}

static bool
readable(int fd, int ms)
{
   struct pollfd p = { .fd = fd, .events = POLLIN };
   return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* What vn_renderer_vtest.c does on connect. */
static void
handshake(int fd)
{
   const char name[] = "test_vtest";
   uint32_t hdr[2] = { sizeof(name), VCMD_CREATE_RENDERER };
   xwrite(fd, hdr, sizeof(hdr));
   xwrite(fd, name, sizeof(name));

   msg(fd, VCMD_PING_PROTOCOL_VERSION, NULL, 0);
   msg(fd, VCMD_RESOURCE_BUSY_WAIT, (uint32_t[]){ 0, 0 }, 2);
   CHECK(reply(fd, VCMD_PING_PROTOCOL_VERSION) == 0);
   CHECK(reply(fd, VCMD_RESOURCE_BUSY_WAIT) == 1);
   uint32_t v;
   xread(fd, &v, 4);

   msg(fd, VCMD_PROTOCOL_VERSION, (uint32_t[]){ 3 }, 1);
   CHECK(reply(fd, VCMD_PROTOCOL_VERSION) == 1);
   xread(fd, &v, 4);
   CHECK(v == 3);

   uint32_t r[2];
   msg(fd, VCMD_GET_PARAM, (uint32_t[]){ VCMD_PARAM_MAX_SYNC_QUEUE_COUNT }, 1);
   CHECK(reply(fd, VCMD_GET_PARAM) == 2);
   xread(fd, r, 8);
   CHECK(r[0] == 1 && r[1] == 64);

   msg(fd, VCMD_GET_CAPSET, (uint32_t[]){ 4, 0 }, 2);
   CHECK(reply(fd, VCMD_GET_CAPSET) == 1 + 16);
   uint32_t caps[17];
   xread(fd, caps, sizeof(caps));
   CHECK(caps[0] == 1);
   CHECK(((uint8_t *)&caps[1])[63] == 63);

   msg(fd, VCMD_CONTEXT_INIT, (uint32_t[]){ 4 }, 1);
}

static uint32_t
sync_create(int fd, uint64_t v)
{
   msg(fd, VCMD_SYNC_CREATE, (uint32_t[]){ (uint32_t)v, (uint32_t)(v >> 32) }, 2);
   CHECK(reply(fd, VCMD_SYNC_CREATE) == 1);
   uint32_t id;
   xread(fd, &id, 4);
   return id;
}

static uint64_t
sync_read(int fd, uint32_t id)
{
   msg(fd, VCMD_SYNC_READ, &id, 1);
   CHECK(reply(fd, VCMD_SYNC_READ) == 2);
   uint64_t v;
   xread(fd, &v, 8);
   return v;
}

static int
sync_wait(int fd, uint32_t flags, uint32_t timeout, uint32_t id, uint64_t v)
{
   msg(fd, VCMD_SYNC_WAIT, (uint32_t[]){ flags, timeout, id, (uint32_t)v, (uint32_t)(v >> 32) }, 5);
   CHECK(reply(fd, VCMD_SYNC_WAIT) == 0);
   return recv_fd(fd);
}

static void
test_handshake_and_params(void)
{
   int fd = conn();
   handshake(fd);
   /* An older client gets its own version back; unknown params/capsets are invalid. */
   uint32_t v, r[2];
   msg(fd, VCMD_PROTOCOL_VERSION, (uint32_t[]){ 2 }, 1);
   CHECK(reply(fd, VCMD_PROTOCOL_VERSION) == 1);
   xread(fd, &v, 4);
   CHECK(v == 2);
   msg(fd, VCMD_GET_PARAM, (uint32_t[]){ 77 }, 1);
   CHECK(reply(fd, VCMD_GET_PARAM) == 2);
   xread(fd, r, 8);
   CHECK(r[0] == 0);
   msg(fd, VCMD_GET_CAPSET, (uint32_t[]){ 5, 0 }, 2);
   CHECK(reply(fd, VCMD_GET_CAPSET) == 1);
   xread(fd, &v, 4);
   CHECK(v == 0);
   close(fd);
}

static void
test_blobs(void)
{
   int fd = conn();
   handshake(fd);
   /* HOST3D shmem (blob id 0), as Mesa does with supports_blob_id_0. */
   msg(fd, VCMD_RESOURCE_CREATE_BLOB, (uint32_t[]){ VCMD_BLOB_TYPE_HOST3D, 1, 8192, 0, 0, 0 }, 6);
   CHECK(reply(fd, VCMD_RESOURCE_CREATE_BLOB) == 1);
   uint32_t res1;
   xread(fd, &res1, 4);
   int bfd = recv_fd(fd);
   CHECK(res1 != 0 && bfd >= 0);
   void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
   CHECK(p != MAP_FAILED);
   memset(p, 0xab, 8192);
   munmap(p, 8192);
   close(bfd);

   msg(fd, VCMD_RESOURCE_CREATE_BLOB, (uint32_t[]){ VCMD_BLOB_TYPE_GUEST, 1, 4096, 0, 0, 0 }, 6);
   CHECK(reply(fd, VCMD_RESOURCE_CREATE_BLOB) == 1);
   uint32_t res2;
   xread(fd, &res2, 4);
   bfd = recv_fd(fd);
   CHECK(res2 != 0 && res2 != res1 && bfd >= 0);
   close(bfd);

   msg(fd, VCMD_RESOURCE_UNREF, &res1, 1);
   msg(fd, VCMD_RESOURCE_UNREF, &res2, 1);
   /* Still served. */
   msg(fd, VCMD_PING_PROTOCOL_VERSION, NULL, 0);
   CHECK(reply(fd, VCMD_PING_PROTOCOL_VERSION) == 0);
   close(fd);
}

/* GUEST blobs are the server's memory: bounded per client (1 MiB here). */
static void
test_guest_blob_limit(void)
{
   int fd = conn();
   handshake(fd);
   for (int i = 0; i < 3; i++) {
      msg(fd, VCMD_RESOURCE_CREATE_BLOB, (uint32_t[]){ VCMD_BLOB_TYPE_GUEST, 1, 300000, 0, 0, 0 },
          6);
      CHECK(reply(fd, VCMD_RESOURCE_CREATE_BLOB) == 1);
      uint32_t res;
      xread(fd, &res, 4);
      close(recv_fd(fd));
   }
   msg(fd, VCMD_RESOURCE_CREATE_BLOB, (uint32_t[]){ VCMD_BLOB_TYPE_GUEST, 1, 300000, 0, 0, 0 }, 6);
   CHECK(closed_by_server(fd));
   close(fd);
}

static void
test_syncs(void)
{
   int fd = conn();
   handshake(fd);
   uint32_t a = sync_create(fd, 5);
   uint32_t b = sync_create(fd, 0x100000000ull);
   CHECK(a && b && a != b);
   CHECK(sync_read(fd, a) == 5);
   CHECK(sync_read(fd, b) == 0x100000000ull);
   msg(fd, VCMD_SYNC_WRITE, (uint32_t[]){ a, 7, 0 }, 3);
   CHECK(sync_read(fd, a) == 7);

   int w = sync_wait(fd, 0, 1000, a, 7);
   CHECK(readable(w, 0));
   close(w);

   w = sync_wait(fd, 0, UINT32_MAX, a, 9);
   CHECK(!readable(w, 20));
   msg(fd, VCMD_SYNC_WRITE, (uint32_t[]){ a, 9, 0 }, 3);
   CHECK(readable(w, 2000));
   close(w);

   /* ANY of two syncs. */
   msg(fd, VCMD_SYNC_WAIT, (uint32_t[]){ VCMD_SYNC_WAIT_FLAG_ANY, 1000, a, 100, 0, b, 0, 1 }, 8);
   CHECK(reply(fd, VCMD_SYNC_WAIT) == 0);
   w = recv_fd(fd);
   CHECK(readable(w, 0));
   close(w);

   msg(fd, VCMD_SYNC_UNREF, &a, 1);
   msg(fd, VCMD_SYNC_UNREF, &b, 1);
   msg(fd, VCMD_PING_PROTOCOL_VERSION, NULL, 0);
   CHECK(reply(fd, VCMD_PING_PROTOCOL_VERSION) == 0);
   close(fd);
}

/* SUBMIT_CMD2 with one batch: 4 dwords of commands, one sync point. */
static void
submit_one(int fd, uint32_t flags, uint32_t queue, uint32_t sync, uint64_t v)
{
   uint32_t m[1 + 8 + 4 + 3] = { 1, flags, 9, 4, 13, 1, queue, 0x1234, 0 };
   m[9] = 1; /* harmless commands for the fake renderer */
   m[13] = sync;
   m[14] = (uint32_t)v;
   m[15] = (uint32_t)(v >> 32);
   msg(fd, VCMD_SUBMIT_CMD2, m, 16);
}

static void
test_submit(void)
{
   int fd = conn();
   handshake(fd);
   uint32_t s = sync_create(fd, 0);
   /* CPU queue: signaled once the stream ran. */
   submit_one(fd, 0, 0, s, 1);
   CHECK(sync_read(fd, s) == 1);
   /* Sync queue 0: the fake renderer retires at once. */
   submit_one(fd, VCMD_SUBMIT_CMD2_FLAG_SYNC_QUEUE, 0, s, 2);
   CHECK(sync_read(fd, s) == 2);
   /* Sync queue 3: retired 50 ms later from another thread; wait on it. */
   submit_one(fd, VCMD_SUBMIT_CMD2_FLAG_SYNC_QUEUE, 3, s, 3);
   int w = sync_wait(fd, 0, 5000, s, 3);
   CHECK(readable(w, 5000));
   close(w);
   CHECK(sync_read(fd, s) == 3);
   /* A 2 MiB stream (the receive buffer grows, then is given back). */
   uint32_t big_ndw = (2u << 20) / 4;
   uint32_t *big = calloc(big_ndw, 4);
   CHECK(big);
   big[0] = 1;
   msg(fd, VCMD_SUBMIT_CMD, big, big_ndw);
   free(big);
   /* Legacy SUBMIT_CMD and an empty SUBMIT_CMD2. */
   msg(fd, VCMD_SUBMIT_CMD, (uint32_t[]){ 1, 2 }, 2);
   msg(fd, VCMD_SUBMIT_CMD2, (uint32_t[]){ 0 }, 1);
   /* A deferred fence still pending at disconnect must not crash anything. */
   submit_one(fd, VCMD_SUBMIT_CMD2_FLAG_SYNC_QUEUE, 2, s, 4);
   msg(fd, VCMD_PING_PROTOCOL_VERSION, NULL, 0);
   CHECK(reply(fd, VCMD_PING_PROTOCOL_VERSION) == 0);
   close(fd);
}

static void
test_two_clients_isolated(void)
{
   int a = conn(), b = conn();
   handshake(a);
   handshake(b);
   uint32_t sa = sync_create(a, 11);
   uint32_t sb = sync_create(b, 22);
   CHECK(sa == sb);               /* ids are per client ... */
   CHECK(sync_read(a, sa) == 11); /* ... and so are the objects */
   CHECK(sync_read(b, sb) == 22);
   /* b touching an id only a has: b alone is dropped. */
   uint32_t other = sync_create(a, 0);
   msg(b, VCMD_SYNC_READ, &other, 1);
   CHECK(closed_by_server(b));
   CHECK(sync_read(a, other) == 0);
   close(a);
   close(b);
}

struct bad_case {
   const char *what;
   bool handshake;
   uint32_t cmd;
   uint32_t len; /* header length field */
   uint32_t data[24];
   uint32_t ndw; /* dwords actually sent */
};

static const struct bad_case bad_cases[] = {
   { "unknown command", true, 99, 0, { 0 }, 0 },
   { "virgl 3D command", true, VCMD_GET_CAPS, 0, { 0 }, 0 },
   { "huge length", true, VCMD_SUBMIT_CMD2, 0x40000000u, { 1 }, 1 },
   { "huge renderer name", false, VCMD_CREATE_RENDERER, 1u << 20, { 0 }, 1 },
   { "ping with payload", true, VCMD_PING_PROTOCOL_VERSION, 1, { 0 }, 1 },
   { "short GET_CAPSET", true, VCMD_GET_CAPSET, 1, { 4 }, 1 },
   { "blob before context", false, VCMD_RESOURCE_CREATE_BLOB, 6, { 2, 1, 4096, 0, 0, 0 }, 6 },
   { "second context", true, VCMD_CONTEXT_INIT, 1, { 4 }, 1 },
   { "blob of size 0", true, VCMD_RESOURCE_CREATE_BLOB, 6, { 2, 1, 0, 0, 0, 0 }, 6 },
   { "unknown blob type", true, VCMD_RESOURCE_CREATE_BLOB, 6, { 9, 1, 4096, 0, 0, 0 }, 6 },
   { "huge guest blob", true, VCMD_RESOURCE_CREATE_BLOB, 6, { 1, 1, 0, 0x100, 0, 0 }, 6 },
   { "non-exportable blob", true, VCMD_RESOURCE_CREATE_BLOB, 6, { 2, 0, 4096, 0, 7, 0 }, 6 },
   { "SUBMIT_CMD2 empty", true, VCMD_SUBMIT_CMD2, 0, { 0 }, 0 },
   { "SUBMIT_CMD2 too many batches", true, VCMD_SUBMIT_CMD2, 2, { 1000, 0 }, 2 },
   { "SUBMIT_CMD2 cmds out of range",
     true,
     VCMD_SUBMIT_CMD2,
     9,
     { 1, 0, 5, 0xfffffffcu, 9, 0, 0, 0, 0 },
     9 },
   { "SUBMIT_CMD2 syncs out of range",
     true,
     VCMD_SUBMIT_CMD2,
     9,
     { 1, 0, 9, 0, 0xfffffff0u, 0x60000000u, 0, 0, 0 },
     9 },
   { "SUBMIT_CMD2 unknown sync",
     true,
     VCMD_SUBMIT_CMD2,
     12,
     { 1, 0, 9, 0, 9, 1, 0, 0, 0, 42, 1, 0 },
     12 },
   { "SUBMIT_CMD2 bad queue", true, VCMD_SUBMIT_CMD2, 9, { 1, 1, 9, 0, 9, 0, 64, 0, 0 }, 9 },
   { "SUBMIT_CMD2 unknown flags", true, VCMD_SUBMIT_CMD2, 9, { 1, 6, 9, 0, 9, 0, 0, 0, 0 }, 9 },
   { "stream the renderer rejects", true, VCMD_SUBMIT_CMD, 2, { FAKE_BAD_STREAM, 0 }, 2 },
   { "submit before context", false, VCMD_SUBMIT_CMD, 1, { 1 }, 1 },
   { "SYNC_WAIT bad length", true, VCMD_SYNC_WAIT, 4, { 0, 0, 1, 1 }, 4 },
   { "SYNC_WAIT unknown sync", true, VCMD_SYNC_WAIT, 5, { 0, 0, 42, 1, 0 }, 5 },
   { "SYNC_WAIT unknown flags", true, VCMD_SYNC_WAIT, 2, { 8, 0 }, 2 },
   { "SYNC_UNREF unknown", true, VCMD_SYNC_UNREF, 1, { 42 }, 1 },
   { "SYNC_WRITE unknown", true, VCMD_SYNC_WRITE, 3, { 42, 1, 0 }, 3 },
   { "SYNC_READ short", true, VCMD_SYNC_READ, 0, { 0 }, 0 },
};

static void
ping_ok(void)
{
   int fd = conn();
   msg(fd, VCMD_PING_PROTOCOL_VERSION, NULL, 0);
   CHECK(reply(fd, VCMD_PING_PROTOCOL_VERSION) == 0);
   close(fd);
}

static void
test_malformed(void)
{
   for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
      const struct bad_case *bc = &bad_cases[i];
      fprintf(stderr, "malformed: %s\n", bc->what);
      int fd = conn();
      if (bc->handshake)
         handshake(fd);
      uint32_t hdr[2] = { bc->len, bc->cmd };
      xwrite(fd, hdr, sizeof(hdr));
      /* The server may drop the client on the header alone (a length over
       * the limit): the payload's send then fails, which is no error. */
      if (bc->ndw)
         (void)send(fd, bc->data, (size_t)bc->ndw * 4, MSG_NOSIGNAL);
      CHECK(closed_by_server(fd));
      close(fd);
      ping_ok();
   }
}

static void
test_disconnect_mid_stream(void)
{
   /* Half a header, half a payload, a wait left pending: the server keeps serving. */
   int fd = conn();
   xwrite(fd, (uint32_t[]){ 5 }, 4);
   close(fd);
   fd = conn();
   handshake(fd);
   msg(fd, VCMD_SUBMIT_CMD, NULL, 0);
   xwrite(fd, (uint32_t[]){ 100, VCMD_SUBMIT_CMD, 1, 2, 3 }, 20);
   close(fd);
   fd = conn();
   handshake(fd);
   uint32_t s = sync_create(fd, 0);
   int w = sync_wait(fd, 0, UINT32_MAX, s, 1);
   close(fd);
   close(w);
   ping_ok();
}

static void
test_sync_unit(void)
{
   struct vtest_syncs s;
   CHECK(vtest_syncs_init(&s, &(struct vtest_sync_limits){ .max_syncs = 2, .max_waits = 1 }) == 0);
   uint32_t a, b, c;
   CHECK(vtest_sync_create(&s, 0, &a) == 0);
   CHECK(vtest_sync_create(&s, 0, &b) == 0);
   CHECK(vtest_sync_create(&s, 0, &c) == -ENOSPC);
   int fd, fd2;
   struct vtest_sync_point pa = { a, 1 }, pb = { b, 1 };
   CHECK(vtest_sync_wait(&s, false, UINT32_MAX, &pa, 1, &fd) == 0);
   CHECK(vtest_sync_wait(&s, false, UINT32_MAX, &pb, 1, &fd2) == -ENOSPC);
   CHECK(vtest_sync_pending_waits(&s) == 1);
   /* Fences of one ring retire in order; another ring is untouched. */
   uint64_t f1, f2, f3;
   CHECK(vtest_fence_add(&s, 0, &pa, 1, &f1) == 0);
   CHECK(vtest_fence_add(&s, 1, &pb, 1, &f2) == 0);
   struct vtest_sync_point pa2 = { a, 2 };
   CHECK(vtest_fence_add(&s, 0, &pa2, 1, &f3) == 0);
   vtest_fence_retired(&s, 0, f3);
   uint64_t v;
   CHECK(vtest_sync_read(&s, a, &v) == 0 && v == 2);
   CHECK(vtest_sync_read(&s, b, &v) == 0 && v == 0);
   CHECK(readable(fd, 0));
   CHECK(vtest_sync_pending_waits(&s) == 0);
   CHECK(vtest_sync_pending_fences(&s) == 1);
   CHECK(vtest_sync_unref(&s, b) == 0);
   vtest_fence_retired(&s, 1, f2); /* its sync is gone: skipped */
   CHECK(vtest_sync_pending_fences(&s) == 0);
   CHECK(vtest_sync_unref(&s, b) == -ENOENT);
   close(fd);
   vtest_syncs_fini(&s);
}

struct server_thread {
   struct vtest_server *srv;
   int ret;
};

static void *
run_server(void *arg)
{
   struct server_thread *st = arg;
   st->ret = vtest_server_run(st->srv, -1);
   return NULL;
}

/* A server of wire format 1 (Mesa 25): ring 0 is the CPU timeline, signalled
 * when the batch has been consumed, without a renderer fence; ring N > 0
 * goes through the renderer's ring-indexed fences. */
static void
test_wire_format_1_rings(const char *dir)
{
   char path[108];
   snprintf(path, sizeof(path), "%s/wire1", dir);
   struct vtest_server_config cfg = { .socket_path = path, .client = { .wire_format = 1 } };
   struct server_thread st = { 0 };
   CHECK(vtest_server_create(&cfg, &st.srv) == 0);
   pthread_t t;
   CHECK(pthread_create(&t, NULL, run_server, &st) == 0);
   char saved[108];
   strcpy(saved, sock_path);
   strcpy(sock_path, path);

   int fd = conn();
   handshake(fd);
   uint32_t s = sync_create(fd, 0);
   const unsigned ring0_before = __atomic_load_n(&fake_fence_calls[0], __ATOMIC_SEQ_CST);
   const unsigned ringn_before = __atomic_load_n(&fake_fence_calls[1], __ATOMIC_SEQ_CST);
   submit_one(fd, VCMD_SUBMIT_CMD2_FLAG_SYNC_QUEUE, 0, s, 1);
   CHECK(sync_read(fd, s) == 1);
   CHECK(__atomic_load_n(&fake_fence_calls[0], __ATOMIC_SEQ_CST) == ring0_before);
   submit_one(fd, VCMD_SUBMIT_CMD2_FLAG_SYNC_QUEUE, 2, s, 2);
   int w = sync_wait(fd, 0, 5000, s, 2);
   CHECK(readable(w, 5000));
   close(w);
   CHECK(sync_read(fd, s) == 2);
   CHECK(__atomic_load_n(&fake_fence_calls[1], __ATOMIC_SEQ_CST) == ringn_before + 1);
   close(fd);

   vtest_server_stop(st.srv);
   pthread_join(t, NULL);
   vtest_server_destroy(st.srv);
   strcpy(sock_path, saved);
}

/* A server limited to one client: a second is refused, and a slot freed by
 * a disconnect can be used again. */
static void
test_max_clients(const char *dir)
{
   char path[108];
   snprintf(path, sizeof(path), "%s/one", dir);
   struct vtest_server_config cfg = { .socket_path = path, .max_clients = 1 };
   struct server_thread st = { 0 };
   CHECK(vtest_server_create(&cfg, &st.srv) == 0);
   pthread_t t;
   CHECK(pthread_create(&t, NULL, run_server, &st) == 0);
   char saved[108];
   strcpy(saved, sock_path);
   strcpy(sock_path, path);

   int a = conn();
   handshake(a);
   int b = conn();
   CHECK(closed_by_server(b));
   close(b);
   close(a);
   /* The server notices a disconnect a moment later, then the slot is free. */
   for (int i = 0; i < 5; i++) {
      bool served = false;
      for (int tries = 0; tries < 200 && !served; tries++) {
         int fd = conn();
         uint32_t hdr[2] = { 0, VCMD_PING_PROTOCOL_VERSION };
         /* A refused connection may already be closed: no xwrite. */
         served = send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL) == sizeof(hdr) &&
                  read(fd, hdr, sizeof(hdr)) == sizeof(hdr);
         close(fd);
         if (!served)
            nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
      }
      CHECK(served);
   }

   vtest_server_stop(st.srv);
   pthread_join(t, NULL);
   vtest_server_destroy(st.srv);
   strcpy(sock_path, saved);
}

/* A client process's side of the hand-over: anything but the server's
 * message (no fd, a short message, a wrong magic) is refused and any fd
 * that came with it closed; a closed server end is -ENODATA. */
static void
test_receive_client(void)
{
   struct {
      uint32_t magic, id, slot;
   } good = { 0x70766331u, 7, 3 }, bad = { 0x12345678u, 7, 3 };
   int sv[2], pipefd[2];
   uint32_t id = 0, slot = 0;

   CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
   CHECK(send(sv[0], &good, sizeof(good), 0) == sizeof(good)); /* no fd */
   CHECK(vtest_server_receive_client(sv[1], &id, &slot) == -EPROTO);
   CHECK(send(sv[0], &good, 8, 0) == 8); /* short */
   CHECK(vtest_server_receive_client(sv[1], &id, &slot) == -EPROTO);

   CHECK(pipe(pipefd) == 0);
   const void *bodies[2] = { &bad, &good };
   for (int i = 0; i < 2; i++) {
      struct iovec iov = { .iov_base = (void *)bodies[i], .iov_len = sizeof(good) };
      union {
         struct cmsghdr hdr;
         char buf[CMSG_SPACE(sizeof(int))];
      } ctl;
      memset(&ctl, 0, sizeof(ctl));
      struct msghdr mh = {
         .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)
      };
      struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(c), &pipefd[1], sizeof(int));
      CHECK(sendmsg(sv[0], &mh, 0) == sizeof(good));
   }
   close(pipefd[1]);
   CHECK(vtest_server_receive_client(sv[1], &id, &slot) == -EPROTO); /* wrong magic */
   const int fd = vtest_server_receive_client(sv[1], &id, &slot);
   CHECK(fd >= 0 && id == 7 && slot == 3);
   close(fd);
   /* every copy of the pipe's write end is closed: the refused one too */
   char byte;
   CHECK(read(pipefd[0], &byte, 1) == 0);
   close(pipefd[0]);
   close(sv[0]);
   CHECK(vtest_server_receive_client(sv[1], &id, &slot) == -ENODATA);
   close(sv[1]);
}

/* The teardown watchdog's credit for time spent waiting for a CPU. */
static void
test_watchdog_cpu_credit(void)
{
   CHECK(vtest_parse_schedstat_wait_ms("123456789 2500000000 42\n") == 2500);
   CHECK(vtest_parse_schedstat_wait_ms("1 0 1") == 0);
   CHECK(vtest_parse_schedstat_wait_ms("") == -1);
   CHECK(vtest_parse_schedstat_wait_ms("12") == -1);
   CHECK(vtest_parse_schedstat_wait_ms("12 x 3") == -1);
   CHECK(vtest_parse_schedstat_wait_ms("12 -3 3") == -1);
   CHECK(vtest_parse_schedstat_wait_ms("12 99999999999999999999999 3") == -1);
   /* this process: runnable waits are reported where the kernel has
    * CONFIG_SCHED_INFO, otherwise -1 (no credit) */
   const int64_t own = vtest_cpu_wait_ms(getpid());
   CHECK(own >= -1);
   CHECK(vtest_cpu_wait_ms(-5) == -1);
   /* unknown or none: no credit; capped at the maximum allowances */
   CHECK(vtest_watchdog_cpu_credit(-1, 5000) == 0);
   CHECK(vtest_watchdog_cpu_credit(0, 5000) == 0);
   CHECK(vtest_watchdog_cpu_credit(1200, 5000) == 1200);
   CHECK(vtest_watchdog_cpu_credit(100000, 5000) == 5000 * VTEST_WATCHDOG_CPU_CREDIT_MAX);
}

int
main(void)
{
   test_sync_unit();
   test_receive_client();
   test_watchdog_cpu_credit();

   char dir[] = "/tmp/pv-vtest-test-XXXXXX";
   CHECK(mkdtemp(dir));
   snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);

   struct vtest_server_config cfg = {
      .socket_path = sock_path,
      .client = { .max_guest_blob_bytes = 1 << 20 },
   };
   struct server_thread st = { 0 };
   CHECK(vtest_server_create(&cfg, &st.srv) == 0);
   /* A second server on a live socket is refused. */
   struct vtest_server *dup;
   CHECK(vtest_server_create(&cfg, &dup) == -EADDRINUSE);
   pthread_t t;
   CHECK(pthread_create(&t, NULL, run_server, &st) == 0);

   test_handshake_and_params();
   test_blobs();
   test_guest_blob_limit();
   test_syncs();
   test_submit();
   test_two_clients_isolated();
   test_malformed();
   test_disconnect_mid_stream();
   test_max_clients(dir);
   test_wire_format_1_rings(dir);

   /* Shutdown with a client connected and idle: it sees EOF, run returns. */
   int idle = conn();
   handshake(idle);
   vtest_server_stop(st.srv);
   CHECK(closed_by_server(idle));
   close(idle);
   pthread_join(t, NULL);
   CHECK(st.ret == 0);
   CHECK(vtest_server_client_count(st.srv) == 0);
   vtest_server_destroy(st.srv);
   CHECK(access(sock_path, F_OK) != 0);
   rmdir(dir);
   printf("test_vtest: all passed\n");
   return 0;
}
