#include "vtest/vtest_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/dlpin.h"
#include "common/log.h"
#include "common/shmem.h"
#include "vtest/vtest_io.h"
#include "vtest/vtest_protocol.h"
#include "vtest/vtest_server.h"

#define TAG "vtest"

/* vtest has one context per connection; each client has its own renderer,
 * so the id only has to be nonzero. */
#define CTX_ID 1

#define DEFAULT_MAX_MESSAGE (64u << 20)
#define DEFAULT_MAX_SYNC_QUEUES 64
#define DEFAULT_MAX_GUEST_BYTES (4ull << 30)
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define MAX_NAME_BYTES 4096 /* CREATE_RENDERER payload */
#define MAX_CAPSET_BYTES (64u << 10)
#define MAX_BATCHES 4096
#define MAX_POINTS 4096 /* sync points of one batch or wait */
#define KEEP_BUFFER_BYTES (1u << 20)

/* A GUEST blob's memory is the server's: it stays mapped until the client's
 * renderer is destroyed, because the renderer may still use it after the
 * client dropped the resource (e.g. as a ring). */
struct guest_blob {
   struct guest_blob *next;
   struct pv_shmem shm;
   uint64_t charged; /* to the shared budget */
};

struct vtest_client {
   int sock;
   uint32_t id;
   struct vtest_client_config cfg;
   struct pv_renderer *renderer;
   struct vtest_syncs syncs;
   bool syncs_ready;
   bool has_context;
   char name[64];
   uint8_t *buf;
   size_t buf_cap;
   uint32_t next_res_id;
   struct guest_blob *guest_blobs;
   uint64_t guest_bytes;
   int64_t handshake_deadline_ms;   /* until the context exists */
   bool disconnected;               /* the peer went away while we replied */
   bool capset_only;                /* since the venus capset: only CONTEXT_INIT */
   unsigned long long dl_adds_seen; /* pv_pin_loaded_libraries' record */
   char why[192];                   /* reason the client is dropped */
};

static const char *
cmd_name(uint32_t cmd)
{
   static const char *const names[] = {
      [VCMD_GET_CAPS] = "GET_CAPS",
      [VCMD_RESOURCE_CREATE] = "RESOURCE_CREATE",
      [VCMD_RESOURCE_UNREF] = "RESOURCE_UNREF",
      [VCMD_TRANSFER_GET] = "TRANSFER_GET",
      [VCMD_TRANSFER_PUT] = "TRANSFER_PUT",
      [VCMD_SUBMIT_CMD] = "SUBMIT_CMD",
      [VCMD_RESOURCE_BUSY_WAIT] = "RESOURCE_BUSY_WAIT",
      [VCMD_CREATE_RENDERER] = "CREATE_RENDERER",
      [VCMD_GET_CAPS2] = "GET_CAPS2",
      [VCMD_PING_PROTOCOL_VERSION] = "PING_PROTOCOL_VERSION",
      [VCMD_PROTOCOL_VERSION] = "PROTOCOL_VERSION",
      [VCMD_RESOURCE_CREATE2] = "RESOURCE_CREATE2",
      [VCMD_TRANSFER_GET2] = "TRANSFER_GET2",
      [VCMD_TRANSFER_PUT2] = "TRANSFER_PUT2",
      [VCMD_GET_PARAM] = "GET_PARAM",
      [VCMD_GET_CAPSET] = "GET_CAPSET",
      [VCMD_CONTEXT_INIT] = "CONTEXT_INIT",
      [VCMD_RESOURCE_CREATE_BLOB] = "RESOURCE_CREATE_BLOB",
      [VCMD_SYNC_CREATE] = "SYNC_CREATE",
      [VCMD_SYNC_UNREF] = "SYNC_UNREF",
      [VCMD_SYNC_READ] = "SYNC_READ",
      [VCMD_SYNC_WRITE] = "SYNC_WRITE",
      [VCMD_SYNC_WAIT] = "SYNC_WAIT",
      [VCMD_SUBMIT_CMD2] = "SUBMIT_CMD2",
   };
   return cmd < sizeof(names) / sizeof(names[0]) && names[cmd] ? names[cmd] : "unknown";
}

static int __attribute__((format(printf, 3, 4)))
drop(struct vtest_client *c, int err, const char *fmt, ...)
{
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(c->why, sizeof(c->why), fmt, ap);
   va_end(ap);
   return err < 0 ? err : -EPROTO;
}

static int
send_reply(struct vtest_client *c, uint32_t cmd, const uint32_t *data, uint32_t ndw)
{
   uint32_t small[2 + 8];
   uint32_t *msg = small;
   if (ndw > 8) {
      msg = malloc(((size_t)ndw + 2) * sizeof(uint32_t));
      if (!msg)
         return drop(c, -ENOMEM, "out of memory for a reply");
   }
   msg[VTEST_HDR_LEN] = ndw;
   msg[VTEST_HDR_CMD] = cmd;
   if (ndw)
      memcpy(msg + 2, data, (size_t)ndw * sizeof(uint32_t));
   int ret = vtest_write_full(c->sock, msg, ((size_t)ndw + 2) * sizeof(uint32_t));
   if (msg != small)
      free(msg);
   if (ret < 0)
      c->disconnected = true;
   return ret;
}

static int
send_fd(struct vtest_client *c, int fd)
{
   int ret = vtest_send_fd(c->sock, fd);
   if (ret < 0)
      c->disconnected = true;
   return ret;
}

static int
expect_len(struct vtest_client *c, uint32_t cmd, uint32_t ndw, uint32_t want)
{
   if (ndw != want)
      return drop(c, -EPROTO, "%s with %u dwords, expected %u", cmd_name(cmd), ndw, want);
   return 0;
}

static int
need_context(struct vtest_client *c, uint32_t cmd)
{
   if (!c->has_context)
      return drop(c, -EPROTO, "%s before CONTEXT_INIT", cmd_name(cmd));
   return 0;
}

static uint64_t
u64_at(const uint32_t *p)
{
   return (uint64_t)p[0] | ((uint64_t)p[1] << 32);
}

/* Parses count sync points of 3 dwords each; *out is malloc'ed (NULL when count is 0). */
static int
parse_points(struct vtest_client *c, const uint32_t *p, uint32_t count,
             struct vtest_sync_point **out)
{
   *out = NULL;
   if (!count)
      return 0;
   if (count > MAX_POINTS)
      return drop(c, -EPROTO, "%u sync points, limit %u", count, MAX_POINTS);
   struct vtest_sync_point *pts = malloc((size_t)count * sizeof(*pts));
   if (!pts)
      return drop(c, -ENOMEM, "out of memory for %u sync points", count);
   for (uint32_t i = 0; i < count; i++) {
      const uint32_t *q = p + (size_t)i * VTEST_SYNC_POINT_DWORDS;
      pts[i].id = q[0];
      pts[i].value = u64_at(q + 1);
   }
   *out = pts;
   return 0;
}

static void
handle_create_renderer(struct vtest_client *c, const uint8_t *name, uint32_t bytes)
{
   /* Only used for log lines: keep printable characters. */
   size_t n = 0;
   for (uint32_t i = 0; i < bytes && name[i] && n + 1 < sizeof(c->name); i++)
      c->name[n++] = (name[i] >= 0x20 && name[i] < 0x7f) ? (char)name[i] : '?';
   c->name[n] = '\0';
   pv_debug(TAG, "client %u: renderer name \"%s\"", c->id, c->name);
}

static int
handle_get_capset(struct vtest_client *c, const uint32_t *p)
{
   uint32_t capset_id = p[0], version = p[1];
   uint32_t max_version = 0, max_size = 0;
   const uint32_t invalid = 0;
   if (pv_renderer_get_capset_info(c->renderer, capset_id, &max_version, &max_size) < 0 ||
       version > max_version || max_size == 0 || max_size > MAX_CAPSET_BYTES)
      return send_reply(c, VCMD_GET_CAPSET, &invalid, 1);

   uint32_t ndw = 1 + (max_size + 3) / 4;
   uint32_t *data = calloc(ndw, sizeof(uint32_t));
   if (!data)
      return drop(c, -ENOMEM, "out of memory for a capset");
   uint32_t size = max_size;
   int ret;
   c->capset_only = capset_id == PV_CAPSET_VENUS;
   if (pv_renderer_get_capset(c->renderer, capset_id, version, data + 1, &size) < 0 ||
       size > max_size) {
      ret = send_reply(c, VCMD_GET_CAPSET, &invalid, 1);
   } else {
      data[0] = 1;
      ret = send_reply(c, VCMD_GET_CAPSET, data, 1 + (size + 3) / 4);
   }
   free(data);
   return ret;
}

static int
handle_context_init(struct vtest_client *c, const uint32_t *p)
{
   if (c->has_context)
      return drop(c, -EPROTO, "second CONTEXT_INIT");
   int ret = pv_context_create(c->renderer, CTX_ID, p[0], c->name[0] ? c->name : "vtest");
   if (ret < 0)
      return drop(c, ret, "cannot create a context for capset %u: %s", p[0], strerror(-ret));
   c->has_context = true;
   return 0;
}

_Static_assert(PV_BUDGET_POOLS == PV_MEMORY_POOLS, "one budget pool per renderer pool");

/* The shared budget, as this client's renderer charges it. */
static bool
budget_charge(void *data, const struct pv_memory_pool *pool, uint64_t bytes)
{
   struct vtest_client *c = data;
   struct pv_shared_budget *b = c->cfg.budget;
   if (pv_shared_budget_charge(b, c->cfg.budget_slot, pool->index, bytes, pool->heap_size))
      return true;
   const unsigned long long limit = pv_shared_budget_limit(b, pool->index, pool->heap_size);
   const unsigned long long used =
      pool->index < PV_BUDGET_POOLS ? __atomic_load_n(&b->used[pool->index], __ATOMIC_RELAXED) : 0;
   if (pool->index == PV_MEMORY_POOL_RAM)
      pv_warn(TAG,
              "client %u (%s): %llu bytes refused: RAM budget of all clients %llu, %llu "
              "in use (--memory-budget)",
              c->id, c->name, (unsigned long long)bytes, limit, used);
   else
      pv_warn(TAG,
              "client %u (%s): %llu bytes refused: VRAM budget of GPU %u (heap %u) of all "
              "clients %llu, %llu in use (--vram-budget)",
              c->id, c->name, (unsigned long long)bytes, pool->index - 1, pool->heap, limit, used);
   return false;
}

static void
budget_release(void *data, uint32_t pool, uint64_t bytes)
{
   struct vtest_client *c = data;
   pv_shared_budget_release(c->cfg.budget, c->cfg.budget_slot, pool, bytes);
}

static const struct pv_memory_pool ram_pool = { .index = PV_MEMORY_POOL_RAM };

static int
create_guest_blob(struct vtest_client *c, struct pv_blob_args *args, int *fd)
{
   /* guest_bytes counts whole pages, so it may pass the limit by a page. */
   if (args->size > c->cfg.max_guest_blob_bytes ||
       c->guest_bytes > c->cfg.max_guest_blob_bytes - args->size)
      return drop(c, -ENOSPC, "guest blob of %llu bytes over the limit",
                  (unsigned long long)args->size);
   if (c->cfg.budget && !budget_charge(c, &ram_pool, args->size))
      return drop(c, -ENOSPC, "guest blob of %llu bytes refused by the memory budget",
                  (unsigned long long)args->size);
   struct guest_blob *gb = calloc(1, sizeof(*gb));
   int ret = gb ? pv_shmem_create(&gb->shm, "pv-vtest-guest-blob", args->size) : -ENOMEM;
   if (ret < 0) {
      if (c->cfg.budget)
         budget_release(c, PV_MEMORY_POOL_RAM, args->size);
      free(gb);
      return drop(c, ret, "cannot allocate a guest blob of %llu bytes: %s",
                  (unsigned long long)args->size, strerror(-ret));
   }
   struct iovec iov = { .iov_base = gb->shm.map, .iov_len = args->size };
   args->iov = &iov;
   args->iov_count = 1;
   ret = pv_resource_create_blob(c->renderer, args);
   args->iov = NULL;
   if (ret < 0) {
      pv_shmem_destroy(&gb->shm);
      free(gb);
      if (c->cfg.budget)
         budget_release(c, PV_MEMORY_POOL_RAM, args->size);
      return drop(c, ret, "guest blob %u refused: %s", args->res_id, strerror(-ret));
   }
   gb->charged = args->size;
   gb->next = c->guest_blobs;
   c->guest_blobs = gb;
   c->guest_bytes += gb->shm.size;
   *fd = gb->shm.fd;
   return 0;
}

static int
handle_create_blob(struct vtest_client *c, const uint32_t *p)
{
   int ret = need_context(c, VCMD_RESOURCE_CREATE_BLOB);
   if (ret < 0)
      return ret;
   struct pv_blob_args args = {
      .ctx_id = CTX_ID,
      .blob_mem = p[0],
      .blob_flags = p[1],
      .size = u64_at(p + 2),
      .blob_id = u64_at(p + 4),
   };
   if (!args.size)
      return drop(c, -EINVAL, "blob of size 0");
   if (c->next_res_id == 0)
      return drop(c, -ENOSPC, "resource ids exhausted");
   args.res_id = c->next_res_id++;

   int fd = -1;
   bool own_fd = false;
   switch (args.blob_mem) {
   case VCMD_BLOB_TYPE_GUEST:
      ret = create_guest_blob(c, &args, &fd);
      if (ret < 0)
         return ret;
      break;
   case VCMD_BLOB_TYPE_HOST3D:
   case VCMD_BLOB_TYPE_HOST3D_GUEST: {
      ret = pv_resource_create_blob(c->renderer, &args);
      if (ret < 0)
         return drop(c, ret, "blob (type %u flags 0x%x size %llu id %llu) refused: %s",
                     args.blob_mem, args.blob_flags, (unsigned long long)args.size,
                     (unsigned long long)args.blob_id, strerror(-ret));
      uint32_t map_info = 0;
      ret = pv_resource_export_fd(c->renderer, args.res_id, &fd, &map_info);
      if (ret < 0) {
         pv_resource_unref(c->renderer, args.res_id);
         /* Mesa's vtest client cannot take "no fd": it must be told loudly. */
         return drop(c, ret, "blob %u (flags 0x%x id %llu) cannot be exported: %s", args.res_id,
                     args.blob_flags, (unsigned long long)args.blob_id, strerror(-ret));
      }
      own_fd = true;
      break;
   }
   default:
      return drop(c, -EINVAL, "blob type %u unknown", args.blob_mem);
   }

   ret = pv_context_attach_resource(c->renderer, CTX_ID, args.res_id);
   if (ret < 0) {
      if (own_fd)
         close(fd);
      pv_resource_unref(c->renderer, args.res_id);
      return drop(c, ret, "cannot attach blob %u: %s", args.res_id, strerror(-ret));
   }

   ret = send_reply(c, VCMD_RESOURCE_CREATE_BLOB, &args.res_id, 1);
   if (ret == 0)
      ret = send_fd(c, fd);
   if (own_fd)
      close(fd);
   return ret;
}

static int
handle_resource_unref(struct vtest_client *c, const uint32_t *p)
{
   /* Unknown ids are the renderer's to ignore; ids are per client anyway. */
   if (c->has_context)
      pv_context_detach_resource(c->renderer, CTX_ID, p[0]);
   pv_resource_unref(c->renderer, p[0]);
   return 0;
}

static int
submit_stream(struct vtest_client *c, const uint32_t *cmds, uint32_t ndw)
{
   if (!ndw)
      return 0;
   int ret = pv_context_submit(c->renderer, CTX_ID, cmds, (size_t)ndw * sizeof(uint32_t));
   if (ret < 0)
      return drop(c, ret, "command stream of %u dwords failed, context lost: %s", ndw,
                  strerror(-ret));
   return 0;
}

/* Checks one batch header against the payload; does not look at syncs' existence. */
static int
check_batch(struct vtest_client *c, const struct vtest_submit_batch *b, uint32_t i, uint32_t ndw)
{
   if (b->flags & ~VCMD_SUBMIT_CMD2_FLAG_SYNC_QUEUE)
      return drop(c, -EPROTO, "batch %u: unknown flags 0x%x", i, b->flags);
   if ((uint64_t)b->cmd_offset + b->cmd_size > ndw)
      return drop(c, -EPROTO, "batch %u: commands [%u, +%u) outside %u dwords", i, b->cmd_offset,
                  b->cmd_size, ndw);
   if (b->sync_count > MAX_POINTS)
      return drop(c, -EPROTO, "batch %u: %u sync points, limit %u", i, b->sync_count, MAX_POINTS);
   if ((uint64_t)b->sync_offset + (uint64_t)b->sync_count * VTEST_SYNC_POINT_DWORDS > ndw)
      return drop(c, -EPROTO, "batch %u: syncs [%u, +%u points) outside %u dwords", i,
                  b->sync_offset, b->sync_count, ndw);
   if ((b->flags & VCMD_SUBMIT_CMD2_FLAG_SYNC_QUEUE) &&
       b->sync_queue_index >= c->cfg.max_sync_queues)
      return drop(c, -EPROTO, "batch %u: sync queue %u, limit %u", i, b->sync_queue_index,
                  c->cfg.max_sync_queues);
   return 0;
}

static void
read_batch(const uint32_t *p, uint32_t i, struct vtest_submit_batch *b)
{
   const uint32_t *q = p + 1 + (size_t)i * VCMD_SUBMIT_CMD2_BATCH_DWORDS;
   b->flags = q[0];
   b->cmd_offset = q[1];
   b->cmd_size = q[2];
   b->sync_offset = q[3];
   b->sync_count = q[4];
   b->sync_queue_index = q[5];
   b->sync_queue_id = u64_at(q + 6);
}

static int
run_batch(struct vtest_client *c, const uint32_t *p, const struct vtest_submit_batch *b)
{
   int ret = submit_stream(c, p + b->cmd_offset, b->cmd_size);
   if (ret < 0 || !b->sync_count)
      return ret;

   struct vtest_sync_point *pts;
   ret = parse_points(c, p + b->sync_offset, b->sync_count, &pts);
   if (ret < 0)
      return ret;
   if (!(b->flags & VCMD_SUBMIT_CMD2_FLAG_SYNC_QUEUE) ||
       (c->cfg.wire_format >= 1 && b->sync_queue_index == 0)) {
      /* The CPU sync queue (wire format 1: ring 0): the stream above has
       * already run. */
      vtest_sync_signal(&c->syncs, pts, b->sync_count);
      free(pts);
      return 0;
   }

   uint64_t fence_id;
   ret = vtest_fence_add(&c->syncs, b->sync_queue_index, pts, b->sync_count, &fence_id);
   free(pts);
   if (ret < 0)
      return drop(c, ret, "cannot track another fence: %s", strerror(-ret));
   ret = pv_context_submit_fence(c->renderer, CTX_ID, b->sync_queue_index, fence_id);
   if (ret < 0) {
      vtest_fence_cancel(&c->syncs, fence_id);
      return drop(c, ret, "fence on sync queue %u refused: %s", b->sync_queue_index,
                  strerror(-ret));
   }
   return 0;
}

static int
handle_submit_cmd2(struct vtest_client *c, const uint32_t *p, uint32_t ndw)
{
   if (!ndw)
      return drop(c, -EPROTO, "SUBMIT_CMD2 without a batch count");
   uint32_t count = p[0];
   if (count > MAX_BATCHES || 1 + (uint64_t)count * VCMD_SUBMIT_CMD2_BATCH_DWORDS > ndw)
      return drop(c, -EPROTO, "SUBMIT_CMD2 with %u batches in %u dwords", count, ndw);
   if (count) {
      int ret = need_context(c, VCMD_SUBMIT_CMD2);
      if (ret < 0)
         return ret;
   }

   /* Validate everything first: a malformed message must have no effect. */
   for (uint32_t i = 0; i < count; i++) {
      struct vtest_submit_batch b;
      read_batch(p, i, &b);
      int ret = check_batch(c, &b, i, ndw);
      if (ret < 0)
         return ret;
      struct vtest_sync_point *pts;
      ret = parse_points(c, p + b.sync_offset, b.sync_count, &pts);
      if (ret < 0)
         return ret;
      ret = vtest_sync_check(&c->syncs, pts, b.sync_count);
      free(pts);
      if (ret < 0)
         return drop(c, ret, "batch %u names an unknown sync", i);
   }
   for (uint32_t i = 0; i < count; i++) {
      struct vtest_submit_batch b;
      read_batch(p, i, &b);
      int ret = run_batch(c, p, &b);
      if (ret < 0)
         return ret;
   }
   return 0;
}

static int
handle_sync_wait(struct vtest_client *c, const uint32_t *p, uint32_t ndw)
{
   if (ndw < 2 || (ndw - 2) % VTEST_SYNC_POINT_DWORDS)
      return drop(c, -EPROTO, "SYNC_WAIT with %u dwords", ndw);
   uint32_t flags = p[0], timeout = p[1];
   uint32_t count = (ndw - 2) / VTEST_SYNC_POINT_DWORDS;
   if (flags & ~VCMD_SYNC_WAIT_FLAG_ANY)
      return drop(c, -EPROTO, "SYNC_WAIT with unknown flags 0x%x", flags);

   struct vtest_sync_point *pts;
   int ret = parse_points(c, p + 2, count, &pts);
   if (ret < 0)
      return ret;
   int fd;
   ret = vtest_sync_wait(&c->syncs, flags & VCMD_SYNC_WAIT_FLAG_ANY, timeout, pts, count, &fd);
   free(pts);
   if (ret < 0)
      return drop(c, ret, "SYNC_WAIT on %u syncs refused: %s", count, strerror(-ret));
   ret = send_reply(c, VCMD_SYNC_WAIT, NULL, 0);
   if (ret == 0)
      ret = send_fd(c, fd);
   close(fd);
   return ret;
}

static int
handle_sync(struct vtest_client *c, uint32_t cmd, const uint32_t *p, uint32_t ndw)
{
   int ret;
   switch (cmd) {
   case VCMD_SYNC_CREATE: {
      if ((ret = expect_len(c, cmd, ndw, VCMD_SYNC_CREATE_SIZE)) < 0)
         return ret;
      uint32_t id;
      ret = vtest_sync_create(&c->syncs, u64_at(p), &id);
      if (ret < 0)
         return drop(c, ret, "cannot create a sync: %s", strerror(-ret));
      return send_reply(c, cmd, &id, 1);
   }
   case VCMD_SYNC_UNREF:
      if ((ret = expect_len(c, cmd, ndw, VCMD_SYNC_UNREF_SIZE)) < 0)
         return ret;
      if (vtest_sync_unref(&c->syncs, p[0]) < 0)
         return drop(c, -ENOENT, "SYNC_UNREF of unknown sync %u", p[0]);
      return 0;
   case VCMD_SYNC_READ: {
      if ((ret = expect_len(c, cmd, ndw, VCMD_SYNC_READ_SIZE)) < 0)
         return ret;
      uint64_t v;
      if (vtest_sync_read(&c->syncs, p[0], &v) < 0)
         return drop(c, -ENOENT, "SYNC_READ of unknown sync %u", p[0]);
      const uint32_t reply[2] = { (uint32_t)v, (uint32_t)(v >> 32) };
      return send_reply(c, cmd, reply, 2);
   }
   case VCMD_SYNC_WRITE:
      if ((ret = expect_len(c, cmd, ndw, VCMD_SYNC_WRITE_SIZE)) < 0)
         return ret;
      if (vtest_sync_write(&c->syncs, p[0], u64_at(p + 1)) < 0)
         return drop(c, -ENOENT, "SYNC_WRITE of unknown sync %u", p[0]);
      return 0;
   default:
      return handle_sync_wait(c, p, ndw);
   }
}

static int
dispatch(struct vtest_client *c, uint32_t cmd, const uint32_t *p, uint32_t ndw)
{
   int ret;
   switch (cmd) {
   case VCMD_PING_PROTOCOL_VERSION:
      if ((ret = expect_len(c, cmd, ndw, 0)) < 0)
         return ret;
      return send_reply(c, cmd, NULL, 0);
   case VCMD_PROTOCOL_VERSION: {
      if ((ret = expect_len(c, cmd, ndw, VCMD_PROTOCOL_VERSION_SIZE)) < 0)
         return ret;
      uint32_t v = p[0] < VTEST_PROTOCOL_VERSION ? p[0] : VTEST_PROTOCOL_VERSION;
      return send_reply(c, cmd, &v, 1);
   }
   case VCMD_RESOURCE_BUSY_WAIT: {
      /* Blobs have no implicit GPU usage vtest could wait for: never busy. */
      if ((ret = expect_len(c, cmd, ndw, VCMD_BUSY_WAIT_SIZE)) < 0)
         return ret;
      const uint32_t busy = 0;
      return send_reply(c, cmd, &busy, 1);
   }
   case VCMD_GET_PARAM: {
      if ((ret = expect_len(c, cmd, ndw, VCMD_GET_PARAM_SIZE)) < 0)
         return ret;
      uint32_t reply[2] = { 0, 0 };
      if (p[0] == VCMD_PARAM_MAX_SYNC_QUEUE_COUNT) {
         reply[0] = 1;
         reply[1] = c->cfg.max_sync_queues;
      }
      return send_reply(c, cmd, reply, 2);
   }
   case VCMD_GET_CAPSET:
      if ((ret = expect_len(c, cmd, ndw, VCMD_GET_CAPSET_SIZE)) < 0)
         return ret;
      return handle_get_capset(c, p);
   case VCMD_CONTEXT_INIT:
      if ((ret = expect_len(c, cmd, ndw, VCMD_CONTEXT_INIT_SIZE)) < 0)
         return ret;
      return handle_context_init(c, p);
   case VCMD_RESOURCE_CREATE_BLOB:
      if ((ret = expect_len(c, cmd, ndw, VCMD_RES_CREATE_BLOB_SIZE)) < 0)
         return ret;
      return handle_create_blob(c, p);
   case VCMD_RESOURCE_UNREF:
      if ((ret = expect_len(c, cmd, ndw, VCMD_RES_UNREF_SIZE)) < 0)
         return ret;
      return handle_resource_unref(c, p);
   case VCMD_SUBMIT_CMD:
      if ((ret = need_context(c, cmd)) < 0)
         return ret;
      return submit_stream(c, p, ndw);
   case VCMD_SUBMIT_CMD2:
      return handle_submit_cmd2(c, p, ndw);
   case VCMD_SYNC_CREATE:
   case VCMD_SYNC_UNREF:
   case VCMD_SYNC_READ:
   case VCMD_SYNC_WRITE:
   case VCMD_SYNC_WAIT:
      return handle_sync(c, cmd, p, ndw);
   default:
      /* Includes virgl's 3D commands (GET_CAPS, TRANSFER_*, ...): venus only. */
      return drop(c, -EPROTO, "unsupported command %u (%s)", cmd, cmd_name(cmd));
   }
}

/* Reads one message and runs it. Returns 1 to go on, 0 on orderly
 * disconnect, negative errno to drop the client. */
static int64_t
now_ms(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Before its context exists a client gets what is left of its handshake
 * time for each message (poll) and for each read inside it (SO_RCVTIMEO),
 * so an idle or trickling connection cannot hold its slot. */
static int
handshake_wait(struct vtest_client *c)
{
   if (c->has_context) {
      if (c->handshake_deadline_ms) {
         const struct timeval none = { 0 };
         setsockopt(c->sock, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
         c->handshake_deadline_ms = 0;
      }
      return 0;
   }
   const int64_t left = c->handshake_deadline_ms - now_ms();
   struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
   if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
      return drop(c, -ETIMEDOUT, "no context within %u ms of connecting (handshake timeout)",
                  c->cfg.handshake_timeout_ms);
   const struct timeval tv = { .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 };
   setsockopt(c->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
   return 0;
}

static int
serve_one(struct vtest_client *c)
{
   uint32_t hdr[VTEST_HDR_DWORDS];
   int ret = handshake_wait(c);
   if (ret < 0)
      return ret;
   ret = vtest_read_full(c->sock, hdr, sizeof(hdr));
   if (ret == -EAGAIN || ret == -EWOULDBLOCK)
      return drop(c, -ETIMEDOUT, "no context within %u ms of connecting (handshake timeout)",
                  c->cfg.handshake_timeout_ms);
   if (ret == -ECONNRESET)
      return 0;
   if (ret < 0) {
      c->disconnected = true;
      return drop(c, ret, "read failed: %s", strerror(-ret));
   }
   uint32_t cmd = hdr[VTEST_HDR_CMD];
   if (cmd != VCMD_CONTEXT_INIT)
      c->capset_only = false;
   /* CREATE_RENDERER alone counts its length in bytes. */
   uint64_t bytes =
      cmd == VCMD_CREATE_RENDERER ? hdr[VTEST_HDR_LEN] : (uint64_t)hdr[VTEST_HDR_LEN] * 4;
   uint64_t limit = cmd == VCMD_CREATE_RENDERER ? MAX_NAME_BYTES : c->cfg.max_message_bytes;
   if (bytes > limit)
      return drop(c, -EMSGSIZE, "command %u (%s) of %llu bytes, limit %llu", cmd, cmd_name(cmd),
                  (unsigned long long)bytes, (unsigned long long)limit);
   if (bytes > c->buf_cap) {
      size_t cap = c->buf_cap ? c->buf_cap : 4096;
      while (cap < bytes)
         cap *= 2;
      uint8_t *buf = realloc(c->buf, cap);
      if (!buf)
         return drop(c, -ENOMEM, "out of memory for a %llu-byte command",
                     (unsigned long long)bytes);
      c->buf = buf;
      c->buf_cap = cap;
   }
   ret = vtest_read_full(c->sock, c->buf, (size_t)bytes);
   if (ret == -EAGAIN || ret == -EWOULDBLOCK)
      return drop(c, -ETIMEDOUT,
                  "no context within %u ms of connecting (handshake timeout, "
                  "inside %s)",
                  c->cfg.handshake_timeout_ms, cmd_name(cmd));
   if (ret < 0) {
      c->disconnected = true;
      return drop(c, ret, "disconnected inside %s (%llu bytes)", cmd_name(cmd),
                  (unsigned long long)bytes);
   }
   pv_debug(TAG, "client %u: %s, %llu bytes", c->id, cmd_name(cmd), (unsigned long long)bytes);

   if (cmd == VCMD_CREATE_RENDERER) {
      handle_create_renderer(c, c->buf, (uint32_t)bytes);
      return 1;
   }
   ret = dispatch(c, cmd, (const uint32_t *)(void *)c->buf, (uint32_t)(bytes / 4));
   /* Whatever the command loaded (the host driver) stays loaded after the
    * loader's dlclose; best effort, cheap when nothing new was loaded. */
   (void)pv_pin_loaded_libraries(&c->dl_adds_seen);
   /* Do not keep a rare huge buffer for the rest of the connection. */
   if (c->buf_cap > KEEP_BUFFER_BYTES) {
      free(c->buf);
      c->buf = NULL;
      c->buf_cap = 0;
   }
   if (ret < 0 && c->disconnected && !c->why[0])
      drop(c, ret, "disconnected while %s was answered", cmd_name(cmd));
   return ret < 0 ? ret : 1;
}

static void
fence_retired(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   struct vtest_client *c = data;
   if (ctx_id == CTX_ID)
      vtest_fence_retired(&c->syncs, ring_idx, fence_id);
}

/* Mesa's driver (22.3 and 25 alike) asks for the capset, creates its
 * context, then checks the capset's wire format and, on a mismatch, closes
 * the connection without another word: a client that leaves right after
 * that most likely expected the other format. */
static void
report_wire_format_mismatch(const struct vtest_client *c)
{
   const uint32_t served = c->cfg.wire_format;
   pv_warn(TAG,
           "client %u (%s) disconnected right after receiving the venus capset with wire "
           "format %u (%s); if it is Mesa's venus driver it probably needs wire format %u "
           "(%s): connect it to a socket serving that (pv-vtest %s PATH, and "
           "VTEST_SOCKET_NAME=PATH for Mesa 25)",
           c->id, c->name, served, served ? "Mesa 25" : "Mesa 22.3", served ? 0 : 1,
           served ? "Mesa 22.3" : "Mesa 25", served ? "--socket" : "--socket-wire-format-1");
}

static void
client_fini(struct vtest_client *c)
{
   /* The renderer first: after this no fence callback can touch the syncs
    * and nothing uses the guest blobs' memory any more. */
   if (c->renderer) {
      (void)pv_pin_loaded_libraries(&c->dl_adds_seen);
      pv_renderer_destroy(c->renderer);
   }
   if (c->syncs_ready)
      vtest_syncs_fini(&c->syncs);
   while (c->guest_blobs) {
      struct guest_blob *gb = c->guest_blobs;
      c->guest_blobs = gb->next;
      pv_shmem_destroy(&gb->shm);
      if (c->cfg.budget)
         budget_release(c, PV_MEMORY_POOL_RAM, gb->charged);
      free(gb);
   }
   free(c->buf);
}

/* A guest's device was created: the server passes its recipe on to the
 * processes that wait for the next guests. Best effort. */
static void
device_recipe(void *data, const void *recipe, size_t size)
{
   struct vtest_client *c = data;
   const int ret = vtest_server_send_recipe(c->cfg.recipe_fd, recipe, size);
   if (ret < 0)
      pv_debug(TAG, "client %u: recipe not reported: %s", c->id, strerror(-ret));
}

int
vtest_client_serve(int sock, uint32_t client_id, const struct vtest_client_config *cfg)
{
   struct pv_premade *premade = cfg->premade; /* ours until the renderer takes it */
   struct vtest_client *c = calloc(1, sizeof(*c));
   if (!c) {
      pv_error(TAG, "client %u: out of memory", client_id);
      pv_premade_destroy(premade);
      return -ENOMEM;
   }
   c->sock = sock;
   c->id = client_id;
   c->cfg = *cfg;
   if (!c->cfg.max_message_bytes)
      c->cfg.max_message_bytes = DEFAULT_MAX_MESSAGE;
   if (!c->cfg.max_sync_queues)
      c->cfg.max_sync_queues = DEFAULT_MAX_SYNC_QUEUES;
   if (!c->cfg.max_guest_blob_bytes)
      c->cfg.max_guest_blob_bytes = DEFAULT_MAX_GUEST_BYTES;
   if (!c->cfg.handshake_timeout_ms)
      c->cfg.handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
   c->handshake_deadline_ms = now_ms() + c->cfg.handshake_timeout_ms;
   c->next_res_id = 1;

   int ret = vtest_syncs_init(&c->syncs, &cfg->sync_limits);
   if (ret == 0) {
      c->syncs_ready = true;
      const struct pv_renderer_callbacks cbs = {
         .data = c,
         .fence_retired = fence_retired,
         .device_recipe = cfg->recipe_fd > 0 ? device_recipe : NULL,
      };
      ret = pv_renderer_create(&cbs, &cfg->renderer_limits, &c->renderer);
      if (ret < 0)
         c->renderer = NULL;
      else
         ret = pv_renderer_set_venus_wire_format(c->renderer, cfg->wire_format);
      if (ret == 0)
         ret = pv_renderer_set_teardown_timeout(c->renderer, cfg->teardown_timeout_ms);
      if (ret == 0)
         ret = pv_renderer_set_device_policy(c->renderer, &cfg->device_policy);
      /* the renderer owns it from here, even on error */
      if (ret == 0 && premade)
         (void)pv_renderer_set_premade(c->renderer, premade);
      if (c->renderer)
         premade = NULL;
      const struct pv_memory_budget budget = { .charge = budget_charge,
                                               .release = budget_release,
                                               .data = c };
      if (ret == 0 && cfg->budget)
         ret = pv_renderer_set_memory_budget(c->renderer, &budget);
   }
   if (ret < 0) {
      pv_error(TAG, "client %u: cannot create a renderer: %s", client_id, strerror(-ret));
   } else {
      pv_info(TAG, "client %u: connected", client_id);
      while ((ret = serve_one(c)) > 0)
         ;
      if (c->capset_only)
         report_wire_format_mismatch(c);
      if (ret < 0 && c->disconnected)
         pv_info(TAG, "client %u (%s): gone: %s", c->id, c->name, c->why);
      else if (ret < 0)
         pv_warn(TAG, "client %u (%s): dropped: %s", c->id, c->name, c->why);
      else
         pv_info(TAG, "client %u (%s): disconnected", c->id, c->name);
      /* Tell the peer now: tearing the renderer down can take a while. */
      shutdown(sock, SHUT_RDWR);
   }
   client_fini(c);
   free(c);
   pv_premade_destroy(premade);
   return ret;
}
