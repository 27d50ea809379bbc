/*
 * The venus transport: every *MESA command that moves or orders commands
 * rather than calling Vulkan. Rings (create, destroy, notify, extra), the
 * reply stream, indirect command streams, and Mesa 25's ordering commands:
 *
 * - vkSubmitVirtqueueSeqnoMESA(ring, seqno), sent through the submit
 *   channel (vtest SUBMIT_CMD2 / virtio-gpu SUBMIT_3D): records that the
 *   channel has got that far.
 * - vkWaitVirtqueueSeqnoMESA(seqno), inside a ring: blocks that ring until
 *   its recorded virtqueue seqno reaches seqno.
 * - vkWaitRingSeqnoMESA(ring, seqno): blocks the caller until the ring has
 *   consumed its commands up to byte position seqno.
 *
 * A blocked caller gives the context lock up while it waits (other rings
 * and the submit channel must run for the wait to end) and wakes on ring
 * progress, on ring stop, on context teardown (pvk_transport_cancel) or on
 * context loss: never only on the guest's goodwill.
 *
 * The monitor thread (one per context, started with the first ring that
 * carries VkRingMonitorInfoMESA) sets each monitored ring's ALIVE bit at
 * half the guest's reporting period. It runs outside the context lock, so
 * it keeps reporting while a ring executes a long blocking command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_capture.h"
#include "venus/pvk_context.h"
#include "venus/pvk_resource.h"
#include "venus/pvk_ring.h"

/* Rings per context: Mesa 22.3 opens one per instance; Mesa 25 one per
 * instance plus one per guest thread that creates pipelines. Each ring is a
 * host thread and a private copy of its buffer, so both are capped. */
#define PVK_RING_MAX_PER_CONTEXT 64
#define PVK_RING_MAX_BYTES_PER_CONTEXT (64ull << 20)
/* a waiter re-checks the context's loss this often (ns) */
#define PVK_TRANSPORT_WAIT_SLICE_NS (100ull * 1000 * 1000)

static void
add_ns(struct timespec *ts, uint64_t ns)
{
   ns += (uint64_t)ts->tv_nsec;
   ts->tv_sec += (time_t)(ns / 1000000000ull);
   ts->tv_nsec = (long)(ns % 1000000000ull);
}

static void
timedwait_ns(pthread_cond_t *cond, pthread_mutex_t *mutex, uint64_t ns)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   add_ns(&ts, ns);
   pthread_cond_timedwait(cond, mutex, &ts);
}

/* --- context state --- */

void
pvk_transport_init(struct pvk_context *ctx)
{
   struct pvk_transport *t = &ctx->transport;
   pthread_mutex_init(&t->mutex, NULL);
   pthread_condattr_t attr;
   pthread_condattr_init(&attr);
   pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
   pthread_cond_init(&t->progress, &attr);
   pthread_cond_init(&t->monitor_cond, &attr);
   pthread_condattr_destroy(&attr);
   atomic_init(&t->cancel, false);
}

void
pvk_transport_cancel(struct pvk_context *ctx)
{
   struct pvk_transport *t = &ctx->transport;
   pthread_mutex_lock(&t->mutex);
   atomic_store(&t->cancel, true);
   pthread_cond_broadcast(&t->progress);
   pthread_mutex_unlock(&t->mutex);
}

bool
pvk_transport_cancelled(struct pvk_context *ctx)
{
   return atomic_load(&ctx->transport.cancel);
}

static void *
monitor_thread(void *data)
{
   struct pvk_context *ctx = data;
   struct pvk_transport *t = &ctx->transport;
   pthread_mutex_lock(&t->mutex);
   while (!t->monitor_stop) {
      uint64_t period = 0;
      for (uint32_t i = 0; i < t->monitored_count; i++) {
         struct pvk_ring *ring = t->monitored[i];
         pvk_ring_monitor(ring);
         if (!period || ring->monitor_period_ns < period)
            period = ring->monitor_period_ns;
      }
      timedwait_ns(&t->monitor_cond, &t->mutex, period ? period : PVK_TRANSPORT_WAIT_SLICE_NS);
   }
   pthread_mutex_unlock(&t->mutex);
   return NULL;
}

/* Adds a ring to the monitor's list, starting the monitor with the first. */
static bool
monitor_add(struct pvk_context *ctx, struct pvk_ring *ring)
{
   struct pvk_transport *t = &ctx->transport;
   bool ok = true;
   pthread_mutex_lock(&t->mutex);
   if (!t->monitor_started) {
      t->monitor_started = !pthread_create(&t->monitor, NULL, monitor_thread, ctx);
      ok = t->monitor_started;
   }
   if (ok && t->monitored_count < PVK_TRANSPORT_MAX_MONITORED) {
      t->monitored[t->monitored_count++] = ring;
      pthread_cond_signal(&t->monitor_cond); /* maybe a shorter period */
   }
   pthread_mutex_unlock(&t->mutex);
   return ok;
}

static void
monitor_remove(struct pvk_context *ctx, struct pvk_ring *ring)
{
   struct pvk_transport *t = &ctx->transport;
   pthread_mutex_lock(&t->mutex);
   for (uint32_t i = 0; i < t->monitored_count; i++) {
      if (t->monitored[i] == ring) {
         t->monitored[i] = t->monitored[--t->monitored_count];
         break;
      }
   }
   pthread_mutex_unlock(&t->mutex);
}

void
pvk_transport_fini(struct pvk_context *ctx)
{
   struct pvk_transport *t = &ctx->transport;
   pthread_mutex_lock(&t->mutex);
   t->monitor_stop = true;
   pthread_cond_signal(&t->monitor_cond);
   const bool started = t->monitor_started;
   pthread_mutex_unlock(&t->mutex);
   if (started)
      pthread_join(t->monitor, NULL);
   pthread_cond_destroy(&t->progress);
   pthread_cond_destroy(&t->monitor_cond);
   pthread_mutex_destroy(&t->mutex);
}

/* --- ring progress and waits --- */

void
pvk_transport_ring_consumed(struct pvk_context *ctx, struct pvk_ring *ring, uint32_t head)
{
   struct pvk_transport *t = &ctx->transport;
   pthread_mutex_lock(&t->mutex);
   ring->consumed = head;
   if (t->waiters)
      pthread_cond_broadcast(&t->progress);
   pthread_mutex_unlock(&t->mutex);
}

bool
pvk_transport_execute_ring_locked(struct pvk_context *ctx, struct pvk_ring *ring, const void *data,
                                  size_t size)
{
   struct pvk_ring *outer = ctx->transport.executing;
   ctx->transport.executing = ring;
   const bool ok = pvk_context_execute_locked(ctx, data, size);
   ctx->transport.executing = outer;
   return ok;
}

/* Ring positions are byte counts that wrap: reached when head is at or
 * past seqno, within half the u32 range. */
static bool
ring_seqno_reached(const struct pvk_ring *ring, uint64_t seqno)
{
   return (int32_t)(ring->consumed - (uint32_t)seqno) >= 0;
}

static bool
virtqueue_seqno_reached(const struct pvk_ring *ring, uint64_t seqno)
{
   return ring->virtqueue_seqno >= seqno;
}

/* Blocks (ctx->mutex held on entry and on return, given up meanwhile)
 * until reached(ring, seqno), the ring stops, the context is lost or torn
 * down. A direct stream (no ring executing) waits at most the firewall's
 * wait limit: it runs on the transport's thread, which in a VMM serves the
 * control queue that the teardown itself comes through. */
static void
transport_wait(struct pvk_context *ctx, struct pvk_ring *ring,
               bool (*reached)(const struct pvk_ring *, uint64_t), uint64_t seqno)
{
   struct pvk_transport *t = &ctx->transport;
   if (ctx->exec_depth) {
      /* the indirect stream's private copy is the context's: keep the lock */
      pvk_context_set_lost(ctx, "seqno wait inside vkExecuteCommandStreamsMESA");
      return;
   }
   pvk_ring_ref(ring);
   struct pvk_ring *executing = t->executing;
   const uint64_t deadline = executing ? UINT64_MAX : pvk_now_ns() + ctx->firewall_wait_limit_ns;
   pthread_mutex_unlock(&ctx->mutex);

   pthread_mutex_lock(&t->mutex);
   t->waiters++;
   bool done, overdue = false;
   while (!(done = reached(ring, seqno)) && !atomic_load(&ring->stop) && !atomic_load(&t->cancel) &&
          !pvk_context_is_lost(ctx) && !(overdue = pvk_now_ns() >= deadline))
      timedwait_ns(&t->progress, &t->mutex, PVK_TRANSPORT_WAIT_SLICE_NS);
   t->waiters--;
   pthread_mutex_unlock(&t->mutex);

   pthread_mutex_lock(&ctx->mutex);
   t->executing = executing;
   pvk_ring_unref(ring);
   /* the commands after the wait must not run as if it had ended */
   if (!done)
      pvk_context_set_lost(ctx, overdue ? "seqno wait of a direct stream outlasted the firewall's "
                                          "wait limit"
                                        : "seqno wait ended by ring stop or context teardown");
}

static bool
wire_format_1(struct pvk_context *ctx, const char *command)
{
   if (ctx->wire_format >= 1)
      return true;
   pv_error("venus",
            "context %u: %s is a wire format 1 (Mesa 25) command, but this context serves "
            "wire format 0 (Mesa 22.3); select wire format 1 for this guest",
            ctx->ctx_id, command);
   pvk_context_set_lost(ctx, "command of another wire format");
   return false;
}

static struct pvk_ring *
ring_find(struct pvk_context *ctx, uint64_t id)
{
   for (struct pvk_ring *r = ctx->rings; r; r = r->next) {
      if (r->id == id)
         return r;
   }
   return NULL;
}

static struct pvk_ring *
ring_get(struct pvk_context *ctx, uint64_t id, const char *command)
{
   struct pvk_ring *ring = ring_find(ctx, id);
   if (!ring) {
      pv_error("venus", "context %u: %s: unknown ring %llu", ctx->ctx_id, command,
               (unsigned long long)id);
      pvk_context_set_lost(ctx, "unknown ring");
   }
   return ring;
}

void
vn_handle_vkSubmitVirtqueueSeqnoMESA(struct vn_dispatch_context *dctx,
                                     struct vn_command_vkSubmitVirtqueueSeqnoMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!wire_format_1(ctx, "vkSubmitVirtqueueSeqnoMESA"))
      return;
   struct pvk_ring *ring = ring_get(ctx, args->ring, "vkSubmitVirtqueueSeqnoMESA");
   if (!ring)
      return;
   struct pvk_transport *t = &ctx->transport;
   pthread_mutex_lock(&t->mutex);
   if (args->seqno > ring->virtqueue_seqno)
      ring->virtqueue_seqno = args->seqno;
   if (t->waiters)
      pthread_cond_broadcast(&t->progress);
   pthread_mutex_unlock(&t->mutex);
}

void
vn_handle_vkWaitVirtqueueSeqnoMESA(struct vn_dispatch_context *dctx,
                                   struct vn_command_vkWaitVirtqueueSeqnoMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!wire_format_1(ctx, "vkWaitVirtqueueSeqnoMESA"))
      return;
   struct pvk_ring *ring = ctx->transport.executing;
   if (!ring) {
      pv_error("venus", "context %u: vkWaitVirtqueueSeqnoMESA outside a ring", ctx->ctx_id);
      pvk_context_set_lost(ctx, "vkWaitVirtqueueSeqnoMESA outside a ring");
      return;
   }
   transport_wait(ctx, ring, virtqueue_seqno_reached, args->seqno);
}

void
vn_handle_vkWaitRingSeqnoMESA(struct vn_dispatch_context *dctx,
                              struct vn_command_vkWaitRingSeqnoMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!wire_format_1(ctx, "vkWaitRingSeqnoMESA"))
      return;
   struct pvk_ring *ring = ring_get(ctx, args->ring, "vkWaitRingSeqnoMESA");
   if (ring)
      transport_wait(ctx, ring, ring_seqno_reached, args->seqno);
}

/* --- rings --- */

static void
ring_retire(struct pvk_context *ctx, struct pvk_ring *ring)
{
   monitor_remove(ctx, ring);
   pvk_ring_stop(ring);
   /* wake whoever waits on it */
   pthread_mutex_lock(&ctx->transport.mutex);
   pthread_cond_broadcast(&ctx->transport.progress);
   pthread_mutex_unlock(&ctx->transport.mutex);
   ctx->ring_count--;
   ctx->ring_bytes -= ring->buffer_size;
   ring->next = ctx->dead_rings;
   ctx->dead_rings = ring;
}

void
vn_handle_vkCreateRingMESA(struct vn_dispatch_context *dctx,
                           struct vn_command_vkCreateRingMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const VkRingCreateInfoMESA *info = args->pCreateInfo;
   if (ring_find(ctx, args->ring)) {
      pv_error("venus", "context %u: vkCreateRingMESA: ring %llu exists", ctx->ctx_id,
               (unsigned long long)args->ring);
      pvk_context_set_lost(ctx, "bad vkCreateRingMESA");
      return;
   }
   if (info && (ctx->ring_count >= PVK_RING_MAX_PER_CONTEXT ||
                info->bufferSize > PVK_RING_MAX_BYTES_PER_CONTEXT - ctx->ring_bytes)) {
      pv_error("venus", "context %u: vkCreateRingMESA %llu: over the cap of %u rings, %llu MiB",
               ctx->ctx_id, (unsigned long long)args->ring, PVK_RING_MAX_PER_CONTEXT,
               PVK_RING_MAX_BYTES_PER_CONTEXT >> 20);
      pvk_context_set_lost(ctx, "too many rings");
      return;
   }
   struct pvk_ring *ring = pvk_ring_create(ctx, args->ring, info);
   if (!ring)
      return;
   ctx->ring_count++;
   ctx->ring_bytes += ring->buffer_size;
   ring->next = ctx->rings;
   ctx->rings = ring;
   if ((ring->monitor_period_ns && !monitor_add(ctx, ring)) || !pvk_ring_start(ring))
      pvk_context_set_lost(ctx, "cannot start a ring or its monitor");
}

void
vn_handle_vkDestroyRingMESA(struct vn_dispatch_context *dctx,
                            struct vn_command_vkDestroyRingMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   for (struct pvk_ring **p = &ctx->rings; *p; p = &(*p)->next) {
      if ((*p)->id == args->ring) {
         struct pvk_ring *ring = *p;
         *p = ring->next;
         ring_retire(ctx, ring);
         return;
      }
   }
   ring_get(ctx, args->ring, "vkDestroyRingMESA");
}

void
vn_handle_vkNotifyRingMESA(struct vn_dispatch_context *dctx,
                           struct vn_command_vkNotifyRingMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_ring *ring = ring_get(ctx, args->ring, "vkNotifyRingMESA");
   if (ring)
      pvk_ring_notify(ring);
}

static bool
range_ok(uint64_t off, uint64_t size, uint64_t total)
{
   return off <= total && size <= total - off;
}

void
vn_handle_vkWriteRingExtraMESA(struct vn_dispatch_context *dctx,
                               struct vn_command_vkWriteRingExtraMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_ring *ring = ring_get(ctx, args->ring, "vkWriteRingExtraMESA");
   if (!ring)
      return;
   if ((args->offset & 3) || !range_ok(args->offset, 4, ring->extra_size)) {
      pvk_context_set_lost(ctx, "bad vkWriteRingExtraMESA offset");
      return;
   }
   atomic_store_explicit((atomic_uint *)(ring->extra + args->offset), args->value,
                         memory_order_seq_cst);
}

void
pvk_ring_stop_all_locked(struct pvk_context *ctx)
{
   while (ctx->rings) {
      struct pvk_ring *ring = ctx->rings;
      ctx->rings = ring->next;
      ring_retire(ctx, ring);
   }
}

void
pvk_ring_join_dead(struct pvk_context *ctx)
{
   pthread_mutex_lock(&ctx->mutex);
   struct pvk_ring *dead = ctx->dead_rings;
   ctx->dead_rings = NULL;
   pthread_mutex_unlock(&ctx->mutex);

   while (dead) {
      struct pvk_ring *ring = dead;
      dead = ring->next;
      if (ring->started && pthread_equal(ring->thread, pthread_self())) {
         /* a ring destroyed by its own commands: joined by the next caller */
         pthread_mutex_lock(&ctx->mutex);
         ring->next = ctx->dead_rings;
         ctx->dead_rings = ring;
         pthread_mutex_unlock(&ctx->mutex);
         continue;
      }
      pvk_ring_join(ring);
   }
}

/* --- reply stream and indirect command streams --- */

void
vn_handle_vkSetReplyCommandStreamMESA(struct vn_dispatch_context *dctx,
                                      struct vn_command_vkSetReplyCommandStreamMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const VkCommandStreamDescriptionMESA *s = args->pStream;
   struct pvk_resource *res = NULL;
   if (!s || !pvk_context_resource_range(ctx, s->resourceId, s->offset, s->size, &res)) {
      pvk_context_set_lost(ctx, "bad reply command stream");
      return;
   }
   pvk_resource_ref(res);
   pvk_context_reply_reset(ctx);
   ctx->reply.res = res;
   ctx->reply.offset = s->offset;
   ctx->reply.size = s->size;
   vn_cs_encoder_init(&ctx->reply.enc, res->map + s->offset, s->size);
}

void
vn_handle_vkSeekReplyCommandStreamMESA(struct vn_dispatch_context *dctx,
                                       struct vn_command_vkSeekReplyCommandStreamMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!ctx->reply.res || args->position > ctx->reply.size) {
      pvk_context_set_lost(ctx, "bad reply stream position");
      return;
   }
   uint8_t *base = ctx->reply.res->map + ctx->reply.offset;
   vn_cs_encoder_init(&ctx->reply.enc, base + args->position, ctx->reply.size - args->position);
}

/* vkExecuteCommandStreamsMESA may not nest deeper than this. */
#define PVK_MAX_EXEC_DEPTH 1
/* A fresh malloc per stream costs page faults on every large command buffer;
 * the buffer is kept while streams stay small enough. */
#define PVK_STREAM_COPY_KEEP (4u << 20)

static void *
stream_copy_buffer(struct pvk_context *ctx, size_t size)
{
   if (size <= ctx->stream_copy.capacity)
      return ctx->stream_copy.data;
   void *p = malloc(size);
   if (!p)
      return NULL;
   free(ctx->stream_copy.data);
   ctx->stream_copy.data = p;
   ctx->stream_copy.capacity = size;
   return p;
}

static void
stream_copy_trim(struct pvk_context *ctx)
{
   if (ctx->stream_copy.capacity > PVK_STREAM_COPY_KEEP) {
      free(ctx->stream_copy.data);
      ctx->stream_copy.data = NULL;
      ctx->stream_copy.capacity = 0;
   }
}

void
vn_handle_vkExecuteCommandStreamsMESA(struct vn_dispatch_context *dctx,
                                      struct vn_command_vkExecuteCommandStreamsMESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (ctx->exec_depth >= PVK_MAX_EXEC_DEPTH || args->dependencyCount ||
       (args->streamCount && !args->pStreams)) {
      pvk_context_set_lost(ctx, "unsupported vkExecuteCommandStreamsMESA");
      return;
   }
   /* The arena is reset per nested command: copy what we still need. */
   const uint32_t count = args->streamCount;
   VkCommandStreamDescriptionMESA *descs = calloc(count ? count : 1, sizeof(*descs));
   if (!descs) {
      pvk_context_set_lost(ctx, "out of memory");
      return;
   }
   memcpy(descs, args->pStreams, sizeof(*descs) * count);
   size_t *positions = NULL;
   if (args->pReplyPositions && count) {
      positions = calloc(count, sizeof(*positions));
      if (!positions) {
         free(descs);
         pvk_context_set_lost(ctx, "out of memory");
         return;
      }
      memcpy(positions, args->pReplyPositions, sizeof(*positions) * count);
   }

   ctx->exec_depth++;
   for (uint32_t i = 0; i < count && !pvk_context_is_lost(ctx); i++) {
      const void *src =
         pvk_context_resource_range(ctx, descs[i].resourceId, descs[i].offset, descs[i].size, NULL);
      if (!src) {
         pvk_context_set_lost(ctx, "bad command stream description");
         break;
      }
      if (positions) {
         struct vn_command_vkSeekReplyCommandStreamMESA seek = { .position = positions[i] };
         vn_handle_vkSeekReplyCommandStreamMESA(&ctx->dispatch, &seek);
         if (pvk_context_is_lost(ctx))
            break;
         if (ctx->capture)
            pvk_capture_reply_seek(ctx->capture, positions[i]);
      }
      /* The guest may keep writing the shared memory: decode a private copy. */
      void *copy = stream_copy_buffer(ctx, descs[i].size);
      if (!copy) {
         pvk_context_set_lost(ctx, "out of memory");
         break;
      }
      memcpy(copy, src, descs[i].size);
      pvk_context_execute_locked(ctx, copy, descs[i].size);
   }
   stream_copy_trim(ctx);
   ctx->exec_depth--;
   free(positions);
   free(descs);
}
