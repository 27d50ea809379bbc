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
 * progress, on ring stop, on context teardown (vn_transport_cancel) or on
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
#include "venus/vn_context.h"
#include "venus/vn_resource.h"
#include "venus/vn_ring.h"

/* Rings per context: Mesa 22.3 opens one per instance; Mesa 25 one per
 * instance plus one per guest thread that creates pipelines. Each ring is a
 * host thread and a private copy of its buffer, so both are capped. */
#define VN_RING_MAX_PER_CONTEXT 64
#define VN_RING_MAX_BYTES_PER_CONTEXT (64ull << 20)
/* a waiter re-checks the context's loss this often (ns) */
#define VN_TRANSPORT_WAIT_SLICE_NS (100ull * 1000 * 1000)

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
vn_transport_init(struct vn_context *ctx)
{
   struct vn_transport *t = &ctx->transport;
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
vn_transport_cancel(struct vn_context *ctx)
{
   struct vn_transport *t = &ctx->transport;
   pthread_mutex_lock(&t->mutex);
   atomic_store(&t->cancel, true);
   pthread_cond_broadcast(&t->progress);
   pthread_mutex_unlock(&t->mutex);
}

bool
vn_transport_cancelled(struct vn_context *ctx)
{
   return atomic_load(&ctx->transport.cancel);
}

static void *
monitor_thread(void *data)
{
   struct vn_context *ctx = data;
   struct vn_transport *t = &ctx->transport;
   pthread_mutex_lock(&t->mutex);
   while (!t->monitor_stop) {
      uint64_t period = 0;
      for (uint32_t i = 0; i < t->monitored_count; i++) {
         struct vn_ring *ring = t->monitored[i];
         vn_ring_monitor(ring);
         if (!period || ring->monitor_period_ns < period)
            period = ring->monitor_period_ns;
      }
      timedwait_ns(&t->monitor_cond, &t->mutex, period ? period : VN_TRANSPORT_WAIT_SLICE_NS);
   }
   pthread_mutex_unlock(&t->mutex);
   return NULL;
}

/* Adds a ring to the monitor's list, starting the monitor with the first. */
static bool
monitor_add(struct vn_context *ctx, struct vn_ring *ring)
{
   struct vn_transport *t = &ctx->transport;
   bool ok = true;
   pthread_mutex_lock(&t->mutex);
   if (!t->monitor_started) {
      t->monitor_started = !pthread_create(&t->monitor, NULL, monitor_thread, ctx);
      ok = t->monitor_started;
   }
   if (ok && t->monitored_count < VN_TRANSPORT_MAX_MONITORED) {
      t->monitored[t->monitored_count++] = ring;
      pthread_cond_signal(&t->monitor_cond); /* maybe a shorter period */
   }
   pthread_mutex_unlock(&t->mutex);
   return ok;
}

static void
monitor_remove(struct vn_context *ctx, struct vn_ring *ring)
{
   struct vn_transport *t = &ctx->transport;
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
vn_transport_fini(struct vn_context *ctx)
{
   struct vn_transport *t = &ctx->transport;
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
vn_transport_ring_consumed(struct vn_context *ctx, struct vn_ring *ring, uint32_t head)
{
   struct vn_transport *t = &ctx->transport;
   pthread_mutex_lock(&t->mutex);
   ring->consumed = head;
   if (t->waiters)
      pthread_cond_broadcast(&t->progress);
   pthread_mutex_unlock(&t->mutex);
}

bool
vn_transport_execute_ring_locked(struct vn_context *ctx, struct vn_ring *ring, const void *data,
                                 size_t size)
{
   struct vn_ring *outer = ctx->transport.executing;
   ctx->transport.executing = ring;
   const bool ok = vn_context_execute_locked(ctx, data, size);
   ctx->transport.executing = outer;
   return ok;
}

/* Ring positions are byte counts that wrap: reached when head is at or
 * past seqno, within half the u32 range. */
static bool
ring_seqno_reached(const struct vn_ring *ring, uint64_t seqno)
{
   return (int32_t)(ring->consumed - (uint32_t)seqno) >= 0;
}

static bool
virtqueue_seqno_reached(const struct vn_ring *ring, uint64_t seqno)
{
   return ring->virtqueue_seqno >= seqno;
}

/* Blocks (ctx->mutex held on entry and on return, given up meanwhile)
 * until reached(ring, seqno), the ring stops, the context is lost or torn
 * down. */
static void
transport_wait(struct vn_context *ctx, struct vn_ring *ring,
               bool (*reached)(const struct vn_ring *, uint64_t), uint64_t seqno)
{
   struct vn_transport *t = &ctx->transport;
   if (ctx->exec_depth) {
      /* the indirect stream's private copy is the context's: keep the lock */
      vn_context_set_lost(ctx, "seqno wait inside vkExecuteCommandStreamsMESA");
      return;
   }
   vn_ring_ref(ring);
   struct vn_ring *executing = t->executing;
   pthread_mutex_unlock(&ctx->mutex);

   pthread_mutex_lock(&t->mutex);
   t->waiters++;
   bool done;
   while (!(done = reached(ring, seqno)) && !atomic_load(&ring->stop) &&
          !atomic_load(&t->cancel) && !vn_context_is_lost(ctx))
      timedwait_ns(&t->progress, &t->mutex, VN_TRANSPORT_WAIT_SLICE_NS);
   t->waiters--;
   pthread_mutex_unlock(&t->mutex);

   pthread_mutex_lock(&ctx->mutex);
   t->executing = executing;
   vn_ring_unref(ring);
   /* the commands after the wait must not run as if it had ended */
   if (!done)
      vn_context_set_lost(ctx, "seqno wait ended by ring stop or context teardown");
}

static bool
wire_format_1(struct vn_context *ctx, const char *command)
{
   if (ctx->wire_format >= 1)
      return true;
   pv_error("venus",
            "context %u: %s is a wire format 1 (Mesa 25) command, but this context serves "
            "wire format 0 (Mesa 22.3); select wire format 1 for this guest",
            ctx->ctx_id, command);
   vn_context_set_lost(ctx, "command of another wire format");
   return false;
}

static struct vn_ring *
ring_find(struct vn_context *ctx, uint64_t id)
{
   for (struct vn_ring *r = ctx->rings; r; r = r->next) {
      if (r->id == id)
         return r;
   }
   return NULL;
}

static struct vn_ring *
ring_get(struct vn_context *ctx, uint64_t id, const char *command)
{
   struct vn_ring *ring = ring_find(ctx, id);
   if (!ring) {
      pv_error("venus", "context %u: %s: unknown ring %llu", ctx->ctx_id, command,
               (unsigned long long)id);
      vn_context_set_lost(ctx, "unknown ring");
   }
   return ring;
}

void
vn_handle_vkSubmitVirtqueueSeqnoMESA(struct vn_dispatch_context *dctx,
                                     struct vn_command_vkSubmitVirtqueueSeqnoMESA *args)
{
   struct vn_context *ctx = vn_context_from_dispatch(dctx);
   if (!wire_format_1(ctx, "vkSubmitVirtqueueSeqnoMESA"))
      return;
   struct vn_ring *ring = ring_get(ctx, args->ring, "vkSubmitVirtqueueSeqnoMESA");
   if (!ring)
      return;
   struct vn_transport *t = &ctx->transport;
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
   struct vn_context *ctx = vn_context_from_dispatch(dctx);
   if (!wire_format_1(ctx, "vkWaitVirtqueueSeqnoMESA"))
      return;
   struct vn_ring *ring = ctx->transport.executing;
   if (!ring) {
      pv_error("venus", "context %u: vkWaitVirtqueueSeqnoMESA outside a ring", ctx->ctx_id);
      vn_context_set_lost(ctx, "vkWaitVirtqueueSeqnoMESA outside a ring");
      return;
   }
   transport_wait(ctx, ring, virtqueue_seqno_reached, args->seqno);
}

void
vn_handle_vkWaitRingSeqnoMESA(struct vn_dispatch_context *dctx, struct vn_command_vkWaitRingSeqnoMESA *args)
{
   struct vn_context *ctx = vn_context_from_dispatch(dctx);
   if (!wire_format_1(ctx, "vkWaitRingSeqnoMESA"))
      return;
   struct vn_ring *ring = ring_get(ctx, args->ring, "vkWaitRingSeqnoMESA");
   if (ring)
      transport_wait(ctx, ring, ring_seqno_reached, args->seqno);
}

/* --- rings --- */

static void
ring_retire(struct vn_context *ctx, struct vn_ring *ring)
{
   monitor_remove(ctx, ring);
   vn_ring_stop(ring);
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
vn_handle_vkCreateRingMESA(struct vn_dispatch_context *dctx, struct vn_command_vkCreateRingMESA *args)
{
   struct vn_context *ctx = vn_context_from_dispatch(dctx);
   const VkRingCreateInfoMESA *info = args->pCreateInfo;
   if (ring_find(ctx, args->ring)) {
      pv_error("venus", "context %u: vkCreateRingMESA: ring %llu exists", ctx->ctx_id,
               (unsigned long long)args->ring);
      vn_context_set_lost(ctx, "bad vkCreateRingMESA");
      return;
   }
   if (info && (ctx->ring_count >= VN_RING_MAX_PER_CONTEXT ||
                info->bufferSize > VN_RING_MAX_BYTES_PER_CONTEXT - ctx->ring_bytes)) {
      pv_error("venus", "context %u: vkCreateRingMESA %llu: over the cap of %u rings, %llu MiB",
               ctx->ctx_id, (unsigned long long)args->ring, VN_RING_MAX_PER_CONTEXT,
               VN_RING_MAX_BYTES_PER_CONTEXT >> 20);
      vn_context_set_lost(ctx, "too many rings");
      return;
   }
   struct vn_ring *ring = vn_ring_create(ctx, args->ring, info);
   if (!ring)
      return;
   ctx->ring_count++;
   ctx->ring_bytes += ring->buffer_size;
   ring->next = ctx->rings;
   ctx->rings = ring;
   if ((ring->monitor_period_ns && !monitor_add(ctx, ring)) || !vn_ring_start(ring))
      vn_context_set_lost(ctx, "cannot start a ring or its monitor");
}

void
vn_handle_vkDestroyRingMESA(struct vn_dispatch_context *dctx, struct vn_command_vkDestroyRingMESA *args)
{
   struct vn_context *ctx = vn_context_from_dispatch(dctx);
   for (struct vn_ring **p = &ctx->rings; *p; p = &(*p)->next) {
      if ((*p)->id == args->ring) {
         struct vn_ring *ring = *p;
         *p = ring->next;
         ring_retire(ctx, ring);
         return;
      }
   }
   ring_get(ctx, args->ring, "vkDestroyRingMESA");
}

void
vn_handle_vkNotifyRingMESA(struct vn_dispatch_context *dctx, struct vn_command_vkNotifyRingMESA *args)
{
   struct vn_context *ctx = vn_context_from_dispatch(dctx);
   struct vn_ring *ring = ring_get(ctx, args->ring, "vkNotifyRingMESA");
   if (ring)
      vn_ring_notify(ring);
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
   struct vn_context *ctx = vn_context_from_dispatch(dctx);
   struct vn_ring *ring = ring_get(ctx, args->ring, "vkWriteRingExtraMESA");
   if (!ring)
      return;
   if ((args->offset & 3) || !range_ok(args->offset, 4, ring->extra_size)) {
      vn_context_set_lost(ctx, "bad vkWriteRingExtraMESA offset");
      return;
   }
   atomic_store_explicit((atomic_uint *)(ring->extra + args->offset), args->value,
                         memory_order_seq_cst);
}

void
vn_ring_stop_all_locked(struct vn_context *ctx)
{
   while (ctx->rings) {
      struct vn_ring *ring = ctx->rings;
      ctx->rings = ring->next;
      ring_retire(ctx, ring);
   }
}

void
vn_ring_join_dead(struct vn_context *ctx)
{
   pthread_mutex_lock(&ctx->mutex);
   struct vn_ring *dead = ctx->dead_rings;
   ctx->dead_rings = NULL;
   pthread_mutex_unlock(&ctx->mutex);

   while (dead) {
      struct vn_ring *ring = dead;
      dead = ring->next;
      if (ring->started && pthread_equal(ring->thread, pthread_self())) {
         /* a ring destroyed by its own commands: joined by the next caller */
         pthread_mutex_lock(&ctx->mutex);
         ring->next = ctx->dead_rings;
         ctx->dead_rings = ring;
         pthread_mutex_unlock(&ctx->mutex);
         continue;
      }
      vn_ring_join(ring);
   }
}

/* --- reply stream and indirect command streams --- */

void
vn_handle_vkSetReplyCommandStreamMESA(struct vn_dispatch_context *dctx,
                                      struct vn_command_vkSetReplyCommandStreamMESA *args)
{
   struct vn_context *ctx = vn_context_from_dispatch(dctx);
   const VkCommandStreamDescriptionMESA *s = args->pStream;
   struct vn_resource *res = NULL;
   if (!s || !vn_context_resource_range(ctx, s->resourceId, s->offset, s->size, &res)) {
      vn_context_set_lost(ctx, "bad reply command stream");
      return;
   }
   vn_resource_ref(res);
   vn_context_reply_reset(ctx);
   ctx->reply.res = res;
   ctx->reply.offset = s->offset;
   ctx->reply.size = s->size;
   vn_cs_encoder_init(&ctx->reply.enc, res->map + s->offset, s->size);
}

void
vn_handle_vkSeekReplyCommandStreamMESA(struct vn_dispatch_context *dctx,
                                       struct vn_command_vkSeekReplyCommandStreamMESA *args)
{
   struct vn_context *ctx = vn_context_from_dispatch(dctx);
   if (!ctx->reply.res || args->position > ctx->reply.size) {
      vn_context_set_lost(ctx, "bad reply stream position");
      return;
   }
   uint8_t *base = ctx->reply.res->map + ctx->reply.offset;
   vn_cs_encoder_init(&ctx->reply.enc, base + args->position, ctx->reply.size - args->position);
}

/* vkExecuteCommandStreamsMESA may not nest deeper than this. */
#define VN_MAX_EXEC_DEPTH 1
/* A fresh malloc per stream costs page faults on every large command buffer;
 * the buffer is kept while streams stay small enough. */
#define VN_STREAM_COPY_KEEP (4u << 20)

static void *
stream_copy_buffer(struct vn_context *ctx, size_t size)
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
stream_copy_trim(struct vn_context *ctx)
{
   if (ctx->stream_copy.capacity > VN_STREAM_COPY_KEEP) {
      free(ctx->stream_copy.data);
      ctx->stream_copy.data = NULL;
      ctx->stream_copy.capacity = 0;
   }
}

void
vn_handle_vkExecuteCommandStreamsMESA(struct vn_dispatch_context *dctx,
                                      struct vn_command_vkExecuteCommandStreamsMESA *args)
{
   struct vn_context *ctx = vn_context_from_dispatch(dctx);
   if (ctx->exec_depth >= VN_MAX_EXEC_DEPTH || args->dependencyCount ||
       (args->streamCount && !args->pStreams)) {
      vn_context_set_lost(ctx, "unsupported vkExecuteCommandStreamsMESA");
      return;
   }
   /* The arena is reset per nested command: copy what we still need. */
   const uint32_t count = args->streamCount;
   VkCommandStreamDescriptionMESA *descs = calloc(count ? count : 1, sizeof(*descs));
   if (!descs) {
      vn_context_set_lost(ctx, "out of memory");
      return;
   }
   memcpy(descs, args->pStreams, sizeof(*descs) * count);
   size_t *positions = NULL;
   if (args->pReplyPositions && count) {
      positions = calloc(count, sizeof(*positions));
      if (!positions) {
         free(descs);
         vn_context_set_lost(ctx, "out of memory");
         return;
      }
      memcpy(positions, args->pReplyPositions, sizeof(*positions) * count);
   }

   ctx->exec_depth++;
   for (uint32_t i = 0; i < count && !vn_context_is_lost(ctx); i++) {
      const void *src = vn_context_resource_range(ctx, descs[i].resourceId, descs[i].offset,
                                                  descs[i].size, NULL);
      if (!src) {
         vn_context_set_lost(ctx, "bad command stream description");
         break;
      }
      if (positions) {
         struct vn_command_vkSeekReplyCommandStreamMESA seek = {.position = positions[i]};
         vn_handle_vkSeekReplyCommandStreamMESA(&ctx->dispatch, &seek);
         if (vn_context_is_lost(ctx))
            break;
      }
      /* The guest may keep writing the shared memory: decode a private copy. */
      void *copy = stream_copy_buffer(ctx, descs[i].size);
      if (!copy) {
         vn_context_set_lost(ctx, "out of memory");
         break;
      }
      memcpy(copy, src, descs[i].size);
      vn_context_execute_locked(ctx, copy, descs[i].size);
   }
   stream_copy_trim(ctx);
   ctx->exec_depth--;
   free(positions);
   free(descs);
}
