#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_resource.h"
#include "venus/pvk_ring.h"
#include "venus/pvk_capture.h"
#include "venus/pvk_capture_format.h"
#include "venus/pvk_trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "pearvisor/pearvisor.h"

/* Decoded arguments of one command; big enough for any sane command. */
#define PVK_CONTEXT_ARENA_LIMIT (64u << 20)
/* Decoded arguments of one command rarely take more than the arena's first
 * 64 KiB chunk; what a larger command grew it to is freed after its stream
 * (chunks this size are mmap'ed: private memory of the context until freed). */
#define PVK_CONTEXT_ARENA_KEEP (256u << 10)

struct pvk_shm *
pvk_shm_create(const char *name, uint64_t size)
{
   struct pvk_shm *s = calloc(1, sizeof(*s));
   if (!s)
      return NULL;
   if (pv_shmem_create(&s->shm, name, size) < 0) {
      free(s);
      return NULL;
   }
   atomic_init(&s->refcount, 1);
   return s;
}

struct pvk_shm *
pvk_shm_ref(struct pvk_shm *s)
{
   atomic_fetch_add(&s->refcount, 1);
   return s;
}

void
pvk_shm_unref(struct pvk_shm *s)
{
   if (s && atomic_fetch_sub(&s->refcount, 1) == 1) {
      pv_shmem_destroy(&s->shm);
      free(s);
   }
}

struct pvk_resource *
pvk_resource_ref(struct pvk_resource *res)
{
   atomic_fetch_add(&res->refcount, 1);
   return res;
}

void
pvk_resource_unref(struct pvk_resource *res)
{
   if (res && atomic_fetch_sub(&res->refcount, 1) == 1) {
      pvk_shm_unref(res->shm);
      free(res);
   }
}

void
pvk_context_reply_reset(struct pvk_context *ctx)
{
   pvk_resource_unref(ctx->reply.res);
   ctx->reply.res = NULL;
   ctx->reply.offset = 0;
   ctx->reply.size = 0;
   vn_cs_encoder_init(&ctx->reply.enc, NULL, 0);
}

struct vn_cs_encoder *
pvk_context_reply_encoder(struct pvk_context *ctx)
{
   return &ctx->reply.enc;
}

struct vn_cs_encoder *
vn_dispatch_reply_encoder(struct vn_dispatch_context *d)
{
   return pvk_context_reply_encoder(pvk_context_from_dispatch(d));
}

void
pvk_context_set_lost(struct pvk_context *ctx, const char *why)
{
   if (atomic_exchange(&ctx->dispatch.lost, true))
      return;
   pv_error("venus", "context %u (%s) lost: %s", ctx->ctx_id, ctx->name, why ? why : "?");
}

int
pvk_context_create(const struct pvk_context_create_info *info, struct pvk_context **out)
{
   struct pvk_context *ctx = calloc(1, sizeof(*ctx));
   if (!ctx)
      return -ENOMEM;
   ctx->renderer = info->renderer;
   ctx->ctx_id = info->ctx_id;
   snprintf(ctx->name, sizeof(ctx->name), "%s", info->name ? info->name : "");
   ctx->memory_limit = info->max_memory;
   ctx->budget = info->budget;
   ctx->wire_format = info->wire_format;
   ctx->policy = info->policy;
   ctx->firewall_wait_limit_ns = info->firewall_wait_limit_ns ? info->firewall_wait_limit_ns
                                                              : PVK_DEFAULT_FIREWALL_WAIT_LIMIT_NS;
   ctx->fence.retired = info->fence_retired;
   ctx->fence.data = info->fence_data;
   atomic_init(&ctx->dispatch.lost, false);

   ctx->dispatch.objects = vn_object_table_create(info->max_objects);
   if (!ctx->dispatch.objects) {
      free(ctx);
      return -ENOMEM;
   }
   vn_arena_init(&ctx->arena, PVK_CONTEXT_ARENA_LIMIT);
   ctx->trace = pvk_trace_create(ctx->ctx_id);
   ctx->capture = pvk_capture_create(ctx->ctx_id, ctx->wire_format);
   vn_cs_encoder_init(&ctx->reply.enc, NULL, 0);

   pthread_mutex_init(&ctx->mutex, NULL);
   pvk_transport_init(ctx);
   pthread_mutex_init(&ctx->fence.mutex, NULL);
   /* timed waits on it have CLOCK_MONOTONIC deadlines (pvk_now_ns) */
   pthread_condattr_t attr;
   pthread_condattr_init(&attr);
   pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
   pthread_cond_init(&ctx->fence.cond, &attr);
   pthread_condattr_destroy(&attr);
   atomic_init(&ctx->fence.abandon, false);
   *out = ctx;
   return 0;
}

/* Contexts whose teardown abandoned a device (pvk_context_teardown_objects):
 * kept with their object tables, reachable, until the process exits. The
 * registry is process-wide because the leak is: renderers come and go
 * (one per vtest client), the driver's memory stays. */
static struct {
   pthread_mutex_t mutex;
   struct pvk_context *head;
   uint32_t count;
} abandoned = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };

uint32_t
pvk_context_abandoned_count(void)
{
   pthread_mutex_lock(&abandoned.mutex);
   const uint32_t n = abandoned.count;
   pthread_mutex_unlock(&abandoned.mutex);
   return n;
}

/* What is left of a context whose devices were abandoned: their objects
 * (in the object table) and the host fences left to them. */
static void
abandon(struct pvk_context *ctx, uint32_t devices)
{
   pthread_mutex_lock(&abandoned.mutex);
   ctx->next_abandoned = abandoned.head;
   abandoned.head = ctx;
   const uint32_t n = ++abandoned.count;
   pthread_mutex_unlock(&abandoned.mutex);
   pv_warn("venus",
           "context %u (%s): teardown abandoned %u device(s) whose queues did not drain; "
           "%llu bytes stay charged; %u abandoned contexts in this process (new contexts are "
           "refused from %u)",
           ctx->ctx_id, ctx->name, devices, (unsigned long long)ctx->memory_used, n,
           PVK_MAX_ABANDONED_CONTEXTS);
}

void
pvk_context_destroy(struct pvk_context *ctx, uint64_t deadline)
{
   /* first, without the lock: a ring may hold it in a blocking wait */
   pvk_transport_cancel(ctx);
   pthread_mutex_lock(&ctx->mutex);
   pvk_ring_stop_all_locked(ctx);
   pthread_mutex_unlock(&ctx->mutex);
   pvk_ring_join_dead(ctx);
   pvk_transport_fini(ctx);

   /* The fence threads wait on host fences of our devices: stop them first
    * (they retire what is pending, by the deadline) so that destroying
    * devices is safe. */
   pvk_fence_thread_stop(ctx, deadline);

   pthread_mutex_lock(&ctx->mutex);
   const uint32_t abandoned_devices = pvk_context_teardown_objects(ctx, deadline);
   pvk_context_reply_reset(ctx);
   for (uint32_t i = 0; i < PVK_ATTACHED_BUCKETS; i++) {
      while (ctx->attached[i]) {
         struct pvk_attached *a = ctx->attached[i];
         ctx->attached[i] = a->next;
         pvk_resource_unref(a->res);
         free(a);
      }
   }
   pthread_mutex_unlock(&ctx->mutex);

   pv_info("venus",
           "context %u: %llu streams, %llu KiB, %.3f ms decoding and executing "
           "(longest stream %.3f ms)",
           ctx->ctx_id, (unsigned long long)ctx->stats.streams,
           (unsigned long long)(ctx->stats.bytes >> 10), (double)ctx->stats.exec_ns / 1e6,
           (double)ctx->stats.longest_ns / 1e6);
   pvk_trace_destroy(ctx->trace);
   ctx->trace = NULL;
   pvk_capture_destroy(ctx->capture);
   ctx->capture = NULL;
   free(ctx->stream_copy.data);
   ctx->stream_copy.data = NULL;
   vn_arena_fini(&ctx->arena);
   if (abandoned_devices) {
      /* Its memory stays allocated, so it stays charged: the shared budget
       * is not given back what the abandoned devices hold (nor the rest of
       * what the context held then, which is at most its cap). */
      ctx->budget = NULL;
      abandon(ctx, abandoned_devices);
      return;
   }
   /* Blobs may outlive their context; what they still count against it
    * goes back to the shared budget now (they are not uncharged later). */
   for (uint32_t pool = 0; ctx->budget && pool < PV_MEMORY_POOLS; pool++) {
      if (ctx->pool_used[pool])
         ctx->budget->release(ctx->budget->data, pool, ctx->pool_used[pool]);
   }
   vn_object_table_destroy(ctx->dispatch.objects);
   free(ctx->fence.left);
   pthread_mutex_destroy(&ctx->mutex);
   pthread_mutex_destroy(&ctx->fence.mutex);
   pthread_cond_destroy(&ctx->fence.cond);
   free(ctx);
}

/* One command, timed: with `trace`, into the context's timeline; at
 * PV_LOG=debug, one line when it took long (1 ms or more). */
static void
dispatch_timed(struct pvk_context *ctx, struct vn_cs_decoder *dec, bool trace)
{
   uint32_t type = 0;
   if (vn_cs_decoder_remaining(dec) >= 4)
      memcpy(&type, dec->cur, 4);
   const uint64_t start = pvk_now_ns();
   vn_dispatch_command(&ctx->dispatch, dec);
   const uint64_t end = pvk_now_ns();
   if (trace)
      pvk_trace_add(ctx->trace, type, 1, start, end);
   const uint64_t took = (end - start) / 1000u;
   if (took >= 1000 && pv_log_enabled(PV_LOG_DEBUG)) {
      const char *name = vn_command_name(type);
      pv_debug("venus", "context %u: %s took %llu us", ctx->ctx_id, name ? name : "?",
               (unsigned long long)took);
   }
}

/* After a command or a run of them: false (context lost) when the stream
 * or the reply stream went bad. */
static bool
stream_ok(struct pvk_context *ctx, const struct vn_cs_decoder *dec)
{
   if (dec->fatal) {
      pvk_context_set_lost(ctx, dec->error ? dec->error : "bad command");
      return false;
   }
   if (ctx->reply.enc.fatal) {
      pvk_context_set_lost(ctx, "reply stream overflow");
      return false;
   }
   return true;
}

static bool
decode_commands(struct pvk_context *ctx, struct vn_cs_decoder *dec)
{
   /* read once per stream: the loop below runs for every command */
   const bool trace = pvk_trace_commands(ctx->trace);
   const bool timed = trace || pv_log_enabled(PV_LOG_DEBUG);
   if (!timed && !ctx->capture) {
      /* nothing to do between commands: runs of them in one loop, which
       * stops after each command that wrote a reply */
      while (!vn_cs_decoder_done(dec) && !pvk_context_is_lost(ctx)) {
         vn_dispatch_commands(&ctx->dispatch, dec);
         if (!stream_ok(ctx, dec))
            return false;
      }
      return !pvk_context_is_lost(ctx);
   }
   while (!vn_cs_decoder_done(dec)) {
      if (pvk_context_is_lost(ctx))
         return false;
      const uint8_t *start = dec->cur;
      if (timed) {
         dispatch_timed(ctx, dec, trace);
      } else {
         vn_dispatch_command(&ctx->dispatch, dec);
      }
      if (!stream_ok(ctx, dec))
         return false;
      if (ctx->capture) {
         uint32_t type;
         memcpy(&type, start, sizeof(type));
         pvk_capture_command(ctx->capture, type, start, (size_t)(dec->cur - start));
      }
   }
   return !pvk_context_is_lost(ctx);
}

static bool
execute_stream(struct pvk_context *ctx, const void *data, size_t size)
{
   struct vn_cs_decoder dec;
   vn_cs_decoder_init(&dec, data, size, &ctx->arena, ctx->dispatch.objects);

   const uint64_t start = ctx->trace ? pvk_now_ns() : 0;
   const bool ok = decode_commands(ctx, &dec);
   if (ctx->trace)
      pvk_trace_add(ctx->trace, PVK_TRACE_STREAM, size, start, pvk_now_ns());
   if (ctx->capture && !ctx->exec_depth)
      pvk_capture_flush(ctx->capture);
   /* the outer stream is done with every decoded argument */
   if (!ctx->exec_depth)
      vn_arena_trim(&ctx->arena, PVK_CONTEXT_ARENA_KEEP);
   return ok;
}

bool
pvk_context_execute_locked(struct pvk_context *ctx, const void *data, size_t size)
{
   ctx->stats.streams++;
   ctx->stats.bytes += size;
   if (ctx->exec_depth || !pv_log_enabled(PV_LOG_INFO))
      return execute_stream(ctx, data, size);

   const uint64_t start = pvk_now_ns();
   const bool ok = execute_stream(ctx, data, size);
   const uint64_t took = pvk_now_ns() - start;
   ctx->stats.exec_ns += took;
   if (took > ctx->stats.longest_ns)
      ctx->stats.longest_ns = took;
   return ok;
}

int
pvk_context_submit(struct pvk_context *ctx, const void *data, size_t size)
{
   if (pvk_context_is_lost(ctx))
      return -ENODEV;

   pthread_mutex_lock(&ctx->mutex);
   const bool ok = pvk_context_execute_locked(ctx, data, size);
   pthread_mutex_unlock(&ctx->mutex);

   /* vkDestroyRingMESA only stops a ring; join it without the lock. */
   pvk_ring_join_dead(ctx);
   return ok ? 0 : -EINVAL;
}

static struct pvk_attached **
attached_bucket(struct pvk_context *ctx, uint32_t res_id)
{
   return &ctx->attached[res_id % PVK_ATTACHED_BUCKETS];
}

int
pvk_context_attach_locked(struct pvk_context *ctx, struct pvk_resource *res)
{
   if (pvk_context_lookup_resource(ctx, res->res_id))
      return 0;
   struct pvk_attached *a = calloc(1, sizeof(*a));
   if (!a)
      return -ENOMEM;
   struct pvk_attached **b = attached_bucket(ctx, res->res_id);
   a->res = pvk_resource_ref(res);
   a->next = *b;
   *b = a;
   if (ctx->capture) {
      const struct pvk_capture_blob blob = {
         .res_id = res->res_id,
         .blob_mem = res->blob_mem,
         .blob_flags = res->blob_flags,
         .guest_pages = res->blob_mem == PV_BLOB_MEM_GUEST && res->map != NULL,
         .blob_id = res->blob_id,
         .size = res->size,
      };
      pvk_capture_blob(ctx->capture, PVK_CAPTURE_ATTACH, &blob);
   }
   return 0;
}

void
pvk_context_detach_locked(struct pvk_context *ctx, uint32_t res_id)
{
   for (struct pvk_attached **p = attached_bucket(ctx, res_id); *p; p = &(*p)->next) {
      if ((*p)->res->res_id == res_id) {
         struct pvk_attached *a = *p;
         *p = a->next;
         pvk_resource_unref(a->res);
         free(a);
         if (ctx->capture)
            pvk_capture_res_id(ctx->capture, PVK_CAPTURE_DETACH, res_id);
         return;
      }
   }
}

struct pvk_resource *
pvk_context_lookup_resource(struct pvk_context *ctx, uint32_t res_id)
{
   for (struct pvk_attached *a = *attached_bucket(ctx, res_id); a; a = a->next) {
      if (a->res->res_id == res_id)
         return a->res;
   }
   return NULL;
}

void *
pvk_context_resource_range(struct pvk_context *ctx, uint32_t res_id, uint64_t offset, uint64_t size,
                           struct pvk_resource **res_out)
{
   struct pvk_resource *res = pvk_context_lookup_resource(ctx, res_id);
   if (!res || !res->map || offset > res->size || size > res->size - offset)
      return NULL;
   if (res_out)
      *res_out = res;
   return res->map + offset;
}

bool
pvk_context_charge_memory(struct pvk_context *ctx, const struct pv_memory_pool *pool, uint64_t size)
{
   const struct pv_memory_pool ram = { .index = PV_MEMORY_POOL_RAM };
   if (!pool)
      pool = &ram;
   if (pool->index >= PV_MEMORY_POOLS)
      return false;
   if (size > ctx->memory_limit || ctx->memory_used > ctx->memory_limit - size) {
      pv_warn("venus",
              "context %u (%s): %llu bytes refused: per-context memory cap %llu, "
              "%llu in use",
              ctx->ctx_id, ctx->name, (unsigned long long)size,
              (unsigned long long)ctx->memory_limit, (unsigned long long)ctx->memory_used);
      return false;
   }
   if (ctx->budget && !ctx->budget->charge(ctx->budget->data, pool, size)) {
      if (pool->index == PV_MEMORY_POOL_RAM)
         pv_warn("venus",
                 "context %u (%s): %llu bytes refused by the RAM budget shared with "
                 "other guests",
                 ctx->ctx_id, ctx->name, (unsigned long long)size);
      else
         pv_warn("venus",
                 "context %u (%s): %llu bytes refused by the VRAM budget of GPU %u "
                 "(heap %u) shared with other guests",
                 ctx->ctx_id, ctx->name, (unsigned long long)size, pool->index - 1, pool->heap);
      return false;
   }
   ctx->memory_used += size;
   ctx->pool_used[pool->index] += size;
   return true;
}

void
pvk_context_uncharge_memory(struct pvk_context *ctx, uint32_t pool, uint64_t size)
{
   if (pool >= PV_MEMORY_POOLS)
      return;
   if (size > ctx->pool_used[pool])
      size = ctx->pool_used[pool];
   ctx->pool_used[pool] -= size;
   ctx->memory_used -= size;
   if (ctx->budget && size)
      ctx->budget->release(ctx->budget->data, pool, size);
}
