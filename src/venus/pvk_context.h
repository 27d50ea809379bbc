/*
 * One guest Vulkan context of the Venus renderer: its object table (through
 * the embedded dispatch context generated code sees), arena, reply stream,
 * attached resources, rings and lost state. The state of instances, devices,
 * memory, resources and rings has headers of its own.
 *
 * Locking: `ctx->mutex` serializes everything that touches the context's
 * object table, arena and reply stream: command execution from the submit
 * path and from ring threads, resource attach/detach and fence submission.
 * Handlers run with it held. The renderer lock (pvk_renderer.c) is always
 * taken before a context lock, never after.
 */
#ifndef PV_VENUS_PVK_CONTEXT_H
#define PV_VENUS_PVK_CONTEXT_H

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pearvisor/pearvisor.h"
#include "venus/vn_cs.h"
#include "venus/vn_dispatch.h"
#include "venus/pvk_queue.h"
#include "venus/pvk_transport.h"

struct pv_renderer;
struct pvk_resource;
struct pvk_ring;
struct pvk_trace;
struct pvk_capture;
struct pvk_fence_entry;
struct pvk_fence_wait;

/* Resources attached to the context, by res_id. */
#define PVK_ATTACHED_BUCKETS 64
struct pvk_attached {
   struct pvk_resource *res;
   struct pvk_attached *next;
};

/* CLOCK_MONOTONIC in nanoseconds (ring polling, execution statistics). */
static inline uint64_t
pvk_now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct pvk_context {
   struct pv_renderer *renderer;
   uint32_t ctx_id;
   char name[64];

   pthread_mutex_t mutex;
   /* what generated code sees: the object table (ctx->dispatch.objects)
    * and the lost flag (ctx->dispatch.lost, pvk_context_is_lost()) */
   struct vn_dispatch_context dispatch;
   struct vn_arena arena;

   /* reply stream (vkSetReplyCommandStreamMESA / vkSeekReplyCommandStreamMESA) */
   struct {
      struct pvk_resource *res;
      uint64_t offset;
      uint64_t size;
      struct vn_cs_encoder enc;
   } reply;

   struct pvk_attached *attached[PVK_ATTACHED_BUCKETS];
   struct pvk_ring *rings;      /* live rings */
   struct pvk_ring *dead_rings; /* stopped, waiting to be joined outside the lock */
   uint32_t ring_count;         /* live rings and their buffer bytes (caps) */
   uint64_t ring_bytes;
   struct pvk_transport transport;
   /* venus wire format of the capset this context was created for:
    * 0 = Mesa 22.3's driver, 1 = Mesa 25's (PV_VENUS_WIRE_FORMAT_*) */
   uint32_t wire_format;
   uint32_t exec_depth; /* vkExecuteCommandStreamsMESA nesting */
   /* the GPUs its instances show and its devices' queue priority */
   struct pv_device_policy policy;

   struct pvk_trace *trace;     /* PV_TRACE_DIR timeline (pvk_trace.h), else NULL */
   struct pvk_capture *capture; /* PV_CAPTURE_DIR session (pvk_capture.h), else NULL */

   /* private copy of a shared-memory command stream, reused across streams */
   struct {
      void *data;
      size_t capacity;
   } stream_copy;

   /* totals logged at PV_LOG=info when the context goes away */
   struct {
      uint64_t streams;
      uint64_t bytes;
      uint64_t exec_ns;    /* outermost streams only (nested ones are inside),
                            * timed only at PV_LOG=info */
      uint64_t longest_ns; /* the longest outermost stream */
   } stats;

   struct pvk_context *next_abandoned; /* pvk_context_abandoned_count's list */

   uint64_t memory_used;                /* all pools: the per-context cap */
   uint64_t pool_used[PV_MEMORY_POOLS]; /* charged to each budget pool */
   uint64_t memory_limit;
   struct pv_memory_budget *budget; /* shared by renderers, or NULL */
   /* the longest the firewall waits on the guest's behalf for GPU work the
    * guest should have waited for itself (pvk_lifetime_wait) */
   uint64_t firewall_wait_limit_ns;

   /* fence threads (pv_context_submit_fence): one per timeline, started on
    * its first fence; entries of all timelines in one FIFO list */
   struct {
      pthread_t threads[PVK_FENCE_MAX_TIMELINES];
      bool started[PVK_FENCE_MAX_TIMELINES];
      pthread_mutex_t mutex;
      pthread_cond_t cond;
      struct pvk_fence_entry *head, *tail;
      uint32_t pending;
      bool stop;
      /* teardown gave up waiting: threads retire without waiting */
      atomic_bool abandon;
      /* host fences whose submission may still be pending, left to the
       * teardown of their device (pvk_fence_leave) */
      struct pvk_fence_wait *left;
      uint32_t left_count, left_capacity;
      void (*retired)(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id);
      void *data;
   } fence;
};

/* A guest that resets a fence or re-records a command buffer whose work is
 * still running breaks Vulkan's rules; the firewall waits for that work, but
 * not for ever: past this (a teardown timeout's worth) the context is lost. */
#define PVK_DEFAULT_FIREWALL_WAIT_LIMIT_NS (5ull * 1000000000ull)

struct pvk_context_create_info {
   struct pv_renderer *renderer;
   uint32_t ctx_id;
   const char *name;
   uint32_t max_objects;
   uint64_t max_memory;
   struct pv_memory_budget *budget;
   uint32_t wire_format;
   struct pv_device_policy policy;
   uint64_t firewall_wait_limit_ns; /* 0: PVK_DEFAULT_FIREWALL_WAIT_LIMIT_NS */
   void (*fence_retired)(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id);
   void *fence_data;
};

int pvk_context_create(const struct pvk_context_create_info *info, struct pvk_context **out);
/* Stops rings and the fence threads, destroys every host object left
 * behind. Every wait for the GPU ends at deadline_ns (CLOCK_MONOTONIC,
 * pvk_now_ns), plus a fence thread's poll period (100 ms) and 50 ms per
 * device whose tracked submissions have finished (to check its queues). A
 * device whose queues have not drained by then (a guest's queue waiting on
 * a semaphore nothing signals, a hung GPU) is abandoned, not destroyed
 * (pvk_context_teardown_objects): what is left of the context then stays
 * allocated, and charged to its memory budget, until the process exits. */
void pvk_context_destroy(struct pvk_context *ctx, uint64_t deadline_ns);

/* Contexts of this process whose teardown abandoned a device. The renderer
 * refuses new contexts once there are PVK_MAX_ABANDONED_CONTEXTS: each may
 * hold up to its memory cap for good. */
#define PVK_MAX_ABANDONED_CONTEXTS 4
uint32_t pvk_context_abandoned_count(void);

/* Executes a command stream. Takes ctx->mutex. -EINVAL when the stream made
 * the context lost, -ENODEV when it was lost before. */
int pvk_context_submit(struct pvk_context *ctx, const void *data, size_t size);

/* Executes a stream with ctx->mutex held (rings, vkExecuteCommandStreamsMESA).
 * Returns false when the context is (or became) lost. */
bool pvk_context_execute_locked(struct pvk_context *ctx, const void *data, size_t size);

/* Marks the context lost; logs `why` once. Safe with or without the lock. */
void pvk_context_set_lost(struct pvk_context *ctx, const char *why);
static inline bool
pvk_context_is_lost(struct pvk_context *ctx)
{
   return atomic_load(&ctx->dispatch.lost);
}

/* Encoder writing at the current reply position (vn_dispatch_reply_encoder()
 * for hand-written code). Without a reply stream it has no space: any write
 * makes it fatal (and the context lost). */
struct vn_cs_encoder *pvk_context_reply_encoder(struct pvk_context *ctx);

/* Attached resources (ctx->mutex held). lookup returns a borrowed pointer. */
int pvk_context_attach_locked(struct pvk_context *ctx, struct pvk_resource *res);
void pvk_context_detach_locked(struct pvk_context *ctx, uint32_t res_id);
struct pvk_resource *pvk_context_lookup_resource(struct pvk_context *ctx, uint32_t res_id);

/* Returns a host pointer to [offset, offset + size) of an attached resource,
 * or NULL when the resource is unknown or the range is out of bounds. */
void *pvk_context_resource_range(struct pvk_context *ctx, uint32_t res_id, uint64_t offset,
                                 uint64_t size, struct pvk_resource **res_out);

/* Memory accounting against the per-context limit (all pools together)
 * and the shared budget's pool (NULL: RAM); a refusal is logged with the
 * cap or the pool, the context and the sizes. */
bool pvk_context_charge_memory(struct pvk_context *ctx, const struct pv_memory_pool *pool,
                               uint64_t size);
void pvk_context_uncharge_memory(struct pvk_context *ctx, uint32_t pool, uint64_t size);

/* Drops the reply stream (ctx->mutex held). */
void pvk_context_reply_reset(struct pvk_context *ctx);

static inline struct pvk_context *
pvk_context_from_dispatch(struct vn_dispatch_context *d)
{
   return (struct pvk_context *)((char *)d - offsetof(struct pvk_context, dispatch));
}

#endif
