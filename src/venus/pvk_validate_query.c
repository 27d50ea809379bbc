/*
 * Firewall rules for queries (pvk_validate.h): a query index, or a range of
 * them, inside the pool's queryCount (drivers index their per-query arrays
 * with it), and the results written by vkGetQueryPoolResults /
 * vkCmdCopyQueryPoolResults inside the guest's data or the buffer. A pool
 * records its type, count and statistics at creation.
 */
#include <stdlib.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_validate.h"

typedef unsigned __int128 u128;

void
vn_handle_vkCreateQueryPool(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCreateQueryPool *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const VkQueryPoolCreateInfo *info = args->pCreateInfo;
   if (!info || !args->pQueryPool) {
      pvk_context_set_lost(ctx, "vkCreateQueryPool: missing arguments");
      return;
   }
   struct pvk_query_pool_state *q = malloc(sizeof(*q));
   if (!q) {
      pvk_context_set_lost(ctx, "vkCreateQueryPool: out of host memory");
      return;
   }
   *q =
      (struct pvk_query_pool_state){ info->queryType, info->queryCount, info->pipelineStatistics };
   VkQueryPool handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateQueryPool(dev->handle, info, NULL, &handle);
   if (args->ret != VK_SUCCESS) {
      free(q);
      return;
   }
   struct vn_object *obj =
      vn_object_table_insert(ctx->dispatch.objects, (uint64_t)(uintptr_t)*args->pQueryPool,
                             VK_OBJECT_TYPE_QUERY_POOL, (uint64_t)(uintptr_t)handle);
   if (!obj) {
      dev->dispatch.vkDestroyQueryPool(dev->handle, handle, NULL);
      free(q);
      pvk_context_set_lost(ctx, "vkCreateQueryPool: bad or duplicate object id");
      return;
   }
   obj->instance = pvk_instance_base(dev->instance);
   obj->device = pvk_device_base(dev);
   obj->data = q;
}

static const struct pvk_query_pool_state *
pool_of(struct pvk_context *ctx, VkQueryPool pool, uint64_t *id)
{
   const struct vn_object *o = vn_object_table_find_handle(
      ctx->dispatch.objects, VK_OBJECT_TYPE_QUERY_POOL, (uint64_t)(uintptr_t)pool);
   *id = o ? o->id : 0;
   return o ? o->data : NULL;
}

/* [first, first + count) inside the pool; count 0 only when `empty_ok`. */
static bool
queries_ok(struct pvk_context *ctx, const char *cmd, VkQueryPool pool, uint32_t first,
           uint32_t count, bool empty_ok)
{
   uint64_t id;
   const struct pvk_query_pool_state *q = pool_of(ctx, pool, &id);
   if (q && first < q->count && count <= q->count - first && (count || empty_ok))
      return true;
   if (q && !count && empty_ok && first <= q->count)
      return true;
   pvk_reject(ctx, "query: %s: queries %u..+%u outside pool %llu of %u", cmd, first, count,
              (unsigned long long)id, q ? q->count : 0);
   return false;
}

/* Bytes one query's results take with `flags`. */
static uint64_t
result_size(const struct pvk_query_pool_state *q, VkQueryResultFlags flags)
{
   uint64_t values = 1;
   if (q->type == VK_QUERY_TYPE_PIPELINE_STATISTICS)
      values = (uint64_t)__builtin_popcount(q->statistics);
   else if (q->type == VK_QUERY_TYPE_TRANSFORM_FEEDBACK_STREAM_EXT)
      values = 2;
   if (flags & (VK_QUERY_RESULT_WITH_AVAILABILITY_BIT | VK_QUERY_RESULT_WITH_STATUS_BIT_KHR))
      values++;
   return values * ((flags & VK_QUERY_RESULT_64_BIT) ? 8 : 4);
}

/* `count` results `stride` apart fit in `size` bytes from `offset`. */
static const char *
results_fit(const struct pvk_query_pool_state *q, uint32_t count, VkDeviceSize stride,
            VkQueryResultFlags flags, VkDeviceSize offset, VkDeviceSize size)
{
   if (!count)
      return NULL;
   const u128 end = (u128)offset + (u128)(count - 1) * stride + result_size(q, flags);
   return end <= size ? NULL : "results beyond the destination";
}

/* --- active queries of a command buffer --- */

/* The query of `pool`, `query`, `index` active in `cb`: its slot, or -1. */
static int
active_slot(const struct pvk_command_buffer_state *st, uint64_t pool, uint32_t query,
            uint32_t index)
{
   for (uint32_t i = 0; st && i < st->active_count; i++) {
      if (st->active[i].pool == pool && st->active[i].query == query &&
          st->active[i].index == index)
         return (int)i;
   }
   return -1;
}

/* VUID-vkCmdBeginQuery-queryPool-01922 (no active query of the same type),
 * VUID-vkCmdBeginQueryIndexedEXT-queryType-04753 and the like (per index);
 * records the query as active. */
static bool
begin_query(struct pvk_context *ctx, const char *cmd, struct vn_object *cb, VkQueryPool pool,
            uint32_t query, uint32_t index)
{
   if (!queries_ok(ctx, cmd, pool, query, 1, false))
      return false;
   uint64_t id;
   const struct pvk_query_pool_state *q = pool_of(ctx, pool, &id);
   struct pvk_command_buffer_state *st = pvk_cb_state(ctx, cb);
   if (!st)
      return false;
   for (uint32_t i = 0; i < st->active_count; i++) {
      if (st->active[i].type == q->type && st->active[i].index == index) {
         pvk_reject(ctx,
                    "query: %s: a query of type %d, index %u is already active (pool %llu, "
                    "query %u)",
                    cmd, q->type, index, (unsigned long long)id, query);
         return false;
      }
   }
   if (st->active_count == PVK_MAX_ACTIVE_QUERIES) {
      pvk_reject(ctx, "query: %s: more than %u active queries (pool %llu, query %u)", cmd,
                 PVK_MAX_ACTIVE_QUERIES, (unsigned long long)id, query);
      return false;
   }
   st->active[st->active_count++] =
      (struct pvk_active_query){ (uint64_t)(uintptr_t)pool, query, index, q->type };
   return true;
}

/* VUID-vkCmdEndQuery-None-01923, VUID-vkCmdEndQueryIndexedEXT-None-02342:
 * the query must be active (a driver ends a query object it never made). */
static bool
end_query(struct pvk_context *ctx, const char *cmd, struct vn_object *cb, VkQueryPool pool,
          uint32_t query, uint32_t index)
{
   if (!queries_ok(ctx, cmd, pool, query, 1, false))
      return false;
   struct pvk_command_buffer_state *st = cb->data;
   const int slot = active_slot(st, (uint64_t)(uintptr_t)pool, query, index);
   if (slot < 0) {
      uint64_t id;
      pool_of(ctx, pool, &id);
      pvk_reject(ctx,
                 "query: %s: query not active in this command buffer (pool %llu, query %u, "
                 "index %u)",
                 cmd, (unsigned long long)id, query, index);
      return false;
   }
   st->active[slot] = st->active[--st->active_count];
   return true;
}

void
vn_handle_vkCmdBeginQuery(struct vn_dispatch_context *dctx, struct vn_command_vkCmdBeginQuery *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   pvk_cb_use(ctx, args->dispatch, args->queryPool_object); /* recorded use */
   if (begin_query(ctx, "vkCmdBeginQuery", args->dispatch, args->queryPool, args->query, 0))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdBeginQuery(args->commandBuffer, args->queryPool, args->query, args->flags);
}

void
vn_handle_vkCmdEndQuery(struct vn_dispatch_context *dctx, struct vn_command_vkCmdEndQuery *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   pvk_cb_use(ctx, args->dispatch, args->queryPool_object); /* recorded use */
   if (end_query(ctx, "vkCmdEndQuery", args->dispatch, args->queryPool, args->query, 0))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdEndQuery(args->commandBuffer, args->queryPool, args->query);
}

void
vn_handle_vkCmdBeginQueryIndexedEXT(struct vn_dispatch_context *dctx,
                                    struct vn_command_vkCmdBeginQueryIndexedEXT *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   pvk_cb_use(ctx, args->dispatch, args->queryPool_object); /* recorded use */
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdBeginQueryIndexedEXT))
      return;
   if (begin_query(ctx, "vkCmdBeginQueryIndexedEXT", args->dispatch, args->queryPool, args->query,
                   args->index))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdBeginQueryIndexedEXT(args->commandBuffer, args->queryPool, args->query,
                                              args->flags, args->index);
}

void
vn_handle_vkCmdEndQueryIndexedEXT(struct vn_dispatch_context *dctx,
                                  struct vn_command_vkCmdEndQueryIndexedEXT *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   pvk_cb_use(ctx, args->dispatch, args->queryPool_object); /* recorded use */
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdEndQueryIndexedEXT))
      return;
   if (end_query(ctx, "vkCmdEndQueryIndexedEXT", args->dispatch, args->queryPool, args->query,
                 args->index))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdEndQueryIndexedEXT(args->commandBuffer, args->queryPool, args->query,
                                            args->index);
}

void
vn_handle_vkCmdResetQueryPool(struct vn_dispatch_context *dctx,
                              struct vn_command_vkCmdResetQueryPool *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   pvk_cb_use(ctx, args->dispatch, args->queryPool_object); /* recorded use */
   if (!queries_ok(ctx, "vkCmdResetQueryPool", args->queryPool, args->firstQuery, args->queryCount,
                   true))
      return;
   /* VUID-vkCmdResetQueryPool-None-02841: none of them active (a driver
    * drops the query object that the end then uses) */
   const struct pvk_command_buffer_state *st = args->dispatch->data;
   for (uint32_t i = 0; st && i < st->active_count; i++) {
      if (st->active[i].pool == (uint64_t)(uintptr_t)args->queryPool &&
          st->active[i].query - args->firstQuery < args->queryCount) {
         uint64_t id;
         pool_of(ctx, args->queryPool, &id);
         pvk_reject(ctx, "query: vkCmdResetQueryPool: query %u is active (pool %llu)",
                    st->active[i].query, (unsigned long long)id);
         return;
      }
   }
   pvk_device_from_base(args->dispatch->device)
      ->dispatch.vkCmdResetQueryPool(args->commandBuffer, args->queryPool, args->firstQuery,
                                     args->queryCount);
}

void
vn_handle_vkResetQueryPool(struct vn_dispatch_context *dctx,
                           struct vn_command_vkResetQueryPool *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkResetQueryPool))
      return;
   if (queries_ok(ctx, "vkResetQueryPool", args->queryPool, args->firstQuery, args->queryCount,
                  true))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkResetQueryPool(args->device, args->queryPool, args->firstQuery,
                                     args->queryCount);
}

void
vn_handle_vkCmdWriteTimestamp(struct vn_dispatch_context *dctx,
                              struct vn_command_vkCmdWriteTimestamp *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   pvk_cb_use(ctx, args->dispatch, args->queryPool_object); /* recorded use */
   if (queries_ok(ctx, "vkCmdWriteTimestamp", args->queryPool, args->query, 1, false))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdWriteTimestamp(args->commandBuffer, args->pipelineStage, args->queryPool,
                                        args->query);
}

void
vn_handle_vkCmdWriteTimestamp2(struct vn_dispatch_context *dctx,
                               struct vn_command_vkCmdWriteTimestamp2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   pvk_cb_use(ctx, args->dispatch, args->queryPool_object); /* recorded use */
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdWriteTimestamp2))
      return;
   if (queries_ok(ctx, "vkCmdWriteTimestamp2", args->queryPool, args->query, 1, false))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdWriteTimestamp2(args->commandBuffer, args->stage, args->queryPool,
                                         args->query);
}

void
vn_handle_vkCmdCopyQueryPoolResults(struct vn_dispatch_context *dctx,
                                    struct vn_command_vkCmdCopyQueryPoolResults *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   pvk_cb_use(ctx, args->dispatch, args->queryPool_object); /* recorded use */
   if (!queries_ok(ctx, "vkCmdCopyQueryPoolResults", args->queryPool, args->firstQuery,
                   args->queryCount, true))
      return;
   uint64_t pool_id;
   const struct pvk_query_pool_state *q = pool_of(ctx, args->queryPool, &pool_id);
   struct vn_object *b = vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_BUFFER,
                                                     (uint64_t)(uintptr_t)args->dstBuffer);
   pvk_cb_use(ctx, args->dispatch, b);
   const struct pvk_buffer_state *bs = b ? b->data : NULL;
   const char *why =
      !bs          ? "buffer without recorded size"
      : !bs->bound ? "buffer with no memory bound"
      : args->dstOffset % 4 || args->stride % 4
         ? "offset or stride not a multiple of 4"
         : results_fit(q, args->queryCount, args->stride, args->flags, args->dstOffset, bs->size);
   if (why) {
      pvk_reject(ctx, "query: vkCmdCopyQueryPoolResults: %s (pool %llu, buffer %llu)", why,
                 (unsigned long long)pool_id, (unsigned long long)(b ? b->id : 0));
      return;
   }
   pvk_device_from_base(args->dispatch->device)
      ->dispatch.vkCmdCopyQueryPoolResults(args->commandBuffer, args->queryPool, args->firstQuery,
                                           args->queryCount, args->dstBuffer, args->dstOffset,
                                           args->stride, args->flags);
}

static VkResult
get_results_now(struct pvk_device *dev, const struct vn_command_vkGetQueryPoolResults *args,
                VkQueryResultFlags flags)
{
   return dev->dispatch.vkGetQueryPoolResults(args->device, args->queryPool, args->firstQuery,
                                              args->queryCount, args->dataSize, args->pData,
                                              args->stride, flags);
}

/* VK_QUERY_RESULT_WAIT_BIT is not passed on: the driver's own wait has no
 * bound, and a query whose work never ends, or that nothing submitted
 * makes available, would block this thread for ever (on a direct stream,
 * the transport's thread: a VMM's control queue). Asked without it, then
 * after the work submitted so far (pvk_lifetime_wait: bounded by the
 * firewall's wait limit, ended by teardown), results still not available
 * can only come from work not submitted yet: the wait would not end. A
 * driver that waits for its device idle in any case gets that bounded
 * wait first. */
static VkResult
get_results(struct pvk_context *ctx, struct pvk_device *dev,
            const struct vn_command_vkGetQueryPoolResults *args, uint64_t pool_id)
{
   const VkQueryResultFlags flags = args->flags & ~VK_QUERY_RESULT_WAIT_BIT;
   const bool waited_first = dev->physical_device->query_results_wait_idle;
   if (waited_first &&
       !pvk_lifetime_wait(ctx, dev, dev->lifetime.submitted, "vkGetQueryPoolResults"))
      return VK_ERROR_DEVICE_LOST;
   VkResult r = get_results_now(dev, args, flags);
   if (r != VK_NOT_READY || flags == args->flags)
      return r;
   if (!waited_first) {
      if (!pvk_lifetime_wait(ctx, dev, dev->lifetime.submitted, "vkGetQueryPoolResults"))
         return VK_ERROR_DEVICE_LOST;
      r = get_results_now(dev, args, flags);
      if (r != VK_NOT_READY)
         return r;
   }
   pvk_reject(ctx,
              "query: vkGetQueryPoolResults: waits for queries that no submitted work makes "
              "available (pool %llu, queries %u..%u)",
              (unsigned long long)pool_id, args->firstQuery,
              args->firstQuery + args->queryCount - 1);
   return VK_ERROR_DEVICE_LOST;
}

void
vn_handle_vkGetQueryPoolResults(struct vn_dispatch_context *dctx,
                                struct vn_command_vkGetQueryPoolResults *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!queries_ok(ctx, "vkGetQueryPoolResults", args->queryPool, args->firstQuery,
                   args->queryCount, true))
      return;
   uint64_t pool_id;
   const struct pvk_query_pool_state *q = pool_of(ctx, args->queryPool, &pool_id);
   const char *why =
      (args->dataSize && !args->pData)
         ? "no data"
         : results_fit(q, args->queryCount, args->stride, args->flags, 0, args->dataSize);
   if (why) {
      pvk_reject(ctx, "query: vkGetQueryPoolResults: %s (pool %llu, %zu bytes)", why,
                 (unsigned long long)pool_id, args->dataSize);
      return;
   }
   args->ret = get_results(ctx, pvk_device_from_base(args->dispatch->device), args, pool_id);
}
