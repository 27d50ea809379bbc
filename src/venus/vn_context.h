/*
 * One guest Vulkan context of the Venus renderer: its object table (through
 * the embedded dispatch context generated code sees), arena, reply stream,
 * attached resources, rings and lost state. The state of instances, devices,
 * memory, resources and rings has headers of its own.
 *
 * Locking: `ctx->mutex` serializes everything that touches the context's
 * object table, arena and reply stream: command execution from the submit
 * path and from ring threads, resource attach/detach and fence submission.
 * Handlers run with it held. The renderer lock (vn_renderer.c) is always
 * taken before a context lock, never after.
 */
#ifndef PV_VENUS_VN_CONTEXT_H
#define PV_VENUS_VN_CONTEXT_H

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "venus/vn_cs.h"
#include "venus/vn_dispatch.h"
#include "venus/vn_queue.h"
#include "venus/vn_transport.h"

struct pv_renderer;
struct vn_resource;
struct vn_ring;
struct vn_trace;
struct vn_recorder;
struct vn_fence_entry;

/* Resources attached to the context, by res_id. */
#define VN_ATTACHED_BUCKETS 64
struct vn_attached {
   struct vn_resource *res;
   struct vn_attached *next;
};

/* CLOCK_MONOTONIC in nanoseconds (ring polling, execution statistics). */
static inline uint64_t
vn_now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct vn_context {
   struct pv_renderer *renderer;
   uint32_t ctx_id;
   char name[64];

   pthread_mutex_t mutex;
   /* what generated code sees: the object table (ctx->dispatch.objects) */
   struct vn_dispatch_context dispatch;
   struct vn_arena arena;

   /* reply stream (vkSetReplyCommandStreamMESA / vkSeekReplyCommandStreamMESA) */
   struct {
      struct vn_resource *res;
      uint64_t offset;
      uint64_t size;
      struct vn_cs_encoder enc;
   } reply;

   struct vn_attached *attached[VN_ATTACHED_BUCKETS];
   struct vn_ring *rings;      /* live rings */
   struct vn_ring *dead_rings; /* stopped, waiting to be joined outside the lock */
   uint32_t ring_count;        /* live rings and their buffer bytes (caps) */
   uint64_t ring_bytes;
   struct vn_transport transport;
   /* venus wire format of the capset this context was created for:
    * 0 = Mesa 22.3's driver, 1 = Mesa 25's (PV_VENUS_WIRE_FORMAT_*) */
   uint32_t wire_format;
   uint32_t exec_depth;        /* vkExecuteCommandStreamsMESA nesting */


   struct vn_trace *trace; /* PV_TRACE_DIR timeline (vn_trace.h), else NULL */
   struct vn_recorder *recorder;
   struct vn_recorder *recording;

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

   atomic_bool lost;

   uint64_t memory_used;
   uint64_t memory_limit;
   struct pv_memory_budget *budget; /* shared by renderers, or NULL */

   /* fence threads (pv_context_submit_fence): one per timeline, started on
    * its first fence; entries of all timelines in one FIFO list */
   struct {
      pthread_t threads[VN_FENCE_MAX_TIMELINES];
      bool started[VN_FENCE_MAX_TIMELINES];
      pthread_mutex_t mutex;
      pthread_cond_t cond;
      struct vn_fence_entry *head, *tail;
      uint32_t pending;
      bool stop;
      void (*retired)(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id);
      void *data;
   } fence;
};

struct vn_context_create_info {
   struct pv_renderer *renderer;
   uint32_t ctx_id;
   const char *name;
   uint32_t max_objects;
   uint64_t max_memory;
   struct pv_memory_budget *budget;
   uint32_t wire_format;
   void (*fence_retired)(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id);
   void *fence_data;
};

int vn_context_create(const struct vn_context_create_info *info, struct vn_context **out);
/* Stops rings and the fence thread, destroys every host object left behind. */
void vn_context_destroy(struct vn_context *ctx);

/* Executes a command stream. Takes ctx->mutex. -EINVAL when the stream made
 * the context lost, -ENODEV when it was lost before. */
int vn_context_submit(struct vn_context *ctx, const void *data, size_t size);

/* Executes a stream with ctx->mutex held (rings, vkExecuteCommandStreamsMESA).
 * Returns false when the context is (or became) lost. */
bool vn_context_execute_locked(struct vn_context *ctx, const void *data, size_t size);

/* Marks the context lost; logs `why` once. Safe with or without the lock. */
void vn_context_set_lost(struct vn_context *ctx, const char *why);
static inline bool
vn_context_is_lost(struct vn_context *ctx)
{
   return atomic_load(&ctx->lost);
}

/* Encoder writing at the current reply position (vn_dispatch_reply_encoder()
 * for hand-written code). Without a reply stream it has no space: any write
 * makes it fatal (and the context lost). */
struct vn_cs_encoder *vn_context_reply_encoder(struct vn_context *ctx);

/* Attached resources (ctx->mutex held). lookup returns a borrowed pointer. */
int vn_context_attach_locked(struct vn_context *ctx, struct vn_resource *res);
void vn_context_detach_locked(struct vn_context *ctx, uint32_t res_id);
struct vn_resource *vn_context_lookup_resource(struct vn_context *ctx, uint32_t res_id);

/* Returns a host pointer to [offset, offset + size) of an attached resource,
 * or NULL when the resource is unknown or the range is out of bounds. */
void *vn_context_resource_range(struct vn_context *ctx, uint32_t res_id, uint64_t offset,
                                uint64_t size, struct vn_resource **res_out);

/* Memory accounting against the per-context limit and the shared budget;
 * a refusal is logged with the cap, the context and the sizes. */
bool vn_context_charge_memory(struct vn_context *ctx, uint64_t size);
void vn_context_uncharge_memory(struct vn_context *ctx, uint64_t size);

/* Drops the reply stream (ctx->mutex held). */
void vn_context_reply_reset(struct vn_context *ctx);

static inline struct vn_context *
vn_context_from_dispatch(struct vn_dispatch_context *d)
{
   return (struct vn_context *)((char *)d - offsetof(struct vn_context, dispatch));
}

#endif
