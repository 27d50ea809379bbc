/*
 * Queue submission, bounded waits, and context fences
 * (pv_context_submit_fence).
 *
 * A context fence retires once every queue of the context has finished the
 * work submitted before it: at submit time we put an empty vkQueueSubmit
 * with a host VkFence on each queue (in order after that queue's earlier
 * work), and a per-context thread waits for those fences in FIFO order.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "venus/vn_context.h"
#include "venus/vn_semaphore.h"

/* The longest a guest-requested wait may block a context (ns). */
#define VN_MAX_WAIT_NS (50ull * 1000 * 1000)
/* Fence thread poll period, so that stop requests are seen (ns). */
#define VN_FENCE_POLL_NS (100ull * 1000 * 1000)

struct vn_fence_wait {
   struct vn_device *dev;
   VkFence fence;
};

struct vn_fence_entry {
   uint32_t ring_idx;
   uint64_t fence_id;
   uint32_t count;
   struct vn_fence_entry *next;
   struct vn_fence_wait waits[];
};

static void
check_device_lost(struct vn_context *ctx, VkResult r)
{
   if (r == VK_ERROR_DEVICE_LOST)
      vn_context_set_lost(ctx, "host device lost");
}

void
vn_handle_vkQueueSubmit(struct vn_context *ctx, struct vn_command_vkQueueSubmit *args)
{
   struct vn_device *dev = args->dispatch->device;
   args->ret = dev->dispatch.vkQueueSubmit(args->queue, args->submitCount, args->pSubmits,
                                         args->fence);
   check_device_lost(ctx, args->ret);
}

void
vn_handle_vkQueueSubmit2(struct vn_context *ctx, struct vn_command_vkQueueSubmit2 *args)
{
   struct vn_device *dev = args->dispatch->device;
   args->ret = dev->dispatch.vkQueueSubmit2(args->queue, args->submitCount, args->pSubmits,
                                          args->fence);
   check_device_lost(ctx, args->ret);
}

void
vn_handle_vkWaitForFences(struct vn_context *ctx, struct vn_command_vkWaitForFences *args)
{
   struct vn_device *dev = args->dispatch->device;
   const uint64_t timeout = args->timeout < VN_MAX_WAIT_NS ? args->timeout : VN_MAX_WAIT_NS;
   args->ret = dev->dispatch.vkWaitForFences(args->device, args->fenceCount, args->pFences,
                                           args->waitAll, timeout);
   check_device_lost(ctx, args->ret);
}

void
vn_handle_vkWaitSemaphores(struct vn_context *ctx, struct vn_command_vkWaitSemaphores *args)
{
   struct vn_device *dev = args->dispatch->device;
   const uint64_t timeout = args->timeout < VN_MAX_WAIT_NS ? args->timeout : VN_MAX_WAIT_NS;
   if (!args->pWaitInfo) {
      vn_context_set_lost(ctx, "vkWaitSemaphores: no wait info");
      return;
   }
   args->ret = dev->dispatch.vkWaitSemaphores(args->device, args->pWaitInfo, timeout);
   check_device_lost(ctx, args->ret);
}

void
vn_handle_vkResetFenceResource100000MESA(
   struct vn_context *ctx, struct vn_command_vkResetFenceResource100000MESA *args)
{
   struct vn_device *dev = args->dispatch->device;
   dev->dispatch.vkResetFences(args->device, 1, &args->fence);
}

void
vn_handle_vkWaitSemaphoreResource100000MESA(
   struct vn_context *ctx, struct vn_command_vkWaitSemaphoreResource100000MESA *args)
{
   /* semaphore resources (global fencing) are not offered */
}

void
vn_handle_vkImportSemaphoreResource100000MESA(
   struct vn_context *ctx, struct vn_command_vkImportSemaphoreResource100000MESA *args)
{
   const VkImportSemaphoreResourceInfo100000MESA *info = args->pImportSemaphoreResourceInfo;
   if (!info) {
      vn_context_set_lost(ctx, "semaphore import: no info");
      return;
   }
   vn_semaphore_import_signalled(ctx, args->dispatch->device, info->semaphore, info->resourceId);
}

/* --- context fences --- */

static void
fence_entry_finish(struct vn_fence_entry *e)
{
   for (uint32_t i = 0; i < e->count; i++) {
      struct vn_fence_wait *w = &e->waits[i];
      for (;;) {
         VkResult r = w->dev->dispatch.vkWaitForFences(w->dev->handle, 1, &w->fence, VK_TRUE,
                                                     VN_FENCE_POLL_NS);
         if (r != VK_TIMEOUT)
            break;
      }
      w->dev->dispatch.vkDestroyFence(w->dev->handle, w->fence, NULL);
   }
}

static void *
fence_thread(void *data)
{
   struct vn_context *ctx = data;
   pthread_mutex_lock(&ctx->fence.mutex);
   for (;;) {
      while (!ctx->fence.head && !ctx->fence.stop)
         pthread_cond_wait(&ctx->fence.cond, &ctx->fence.mutex);
      struct vn_fence_entry *e = ctx->fence.head;
      if (!e)
         break; /* stopped and drained */
      pthread_mutex_unlock(&ctx->fence.mutex);

      fence_entry_finish(e);
      if (ctx->fence.retired)
         ctx->fence.retired(ctx->fence.data, ctx->ctx_id, e->ring_idx, e->fence_id);

      pthread_mutex_lock(&ctx->fence.mutex);
      ctx->fence.head = e->next;
      if (!ctx->fence.head)
         ctx->fence.tail = NULL;
      ctx->fence.pending--;
      free(e);
      pthread_cond_broadcast(&ctx->fence.cond);
   }
   pthread_mutex_unlock(&ctx->fence.mutex);
   return NULL;
}

struct queue_collect {
   struct vn_fence_entry *entry;
   uint32_t capacity;
};

static void
count_queues(struct vn_object *obj, void *data)
{
   if (obj->type == VK_OBJECT_TYPE_QUEUE)
      (*(uint32_t *)data)++;
}

static void
fence_queue(struct vn_object *obj, void *data)
{
   struct queue_collect *c = data;
   if (obj->type != VK_OBJECT_TYPE_QUEUE || c->entry->count >= c->capacity)
      return;
   struct vn_device *dev = obj->device;
   const VkFenceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
   VkFence fence;
   if (dev->dispatch.vkCreateFence(dev->handle, &info, NULL, &fence) != VK_SUCCESS)
      return;
   /* an empty submission signals once the queue's earlier work is done */
   if (dev->dispatch.vkQueueSubmit((VkQueue)(uintptr_t)obj->handle, 0, NULL, fence) != VK_SUCCESS) {
      dev->dispatch.vkDestroyFence(dev->handle, fence, NULL);
      return;
   }
   c->entry->waits[c->entry->count++] = (struct vn_fence_wait){dev, fence};
}

int
vn_context_submit_fence(struct vn_context *ctx, uint32_t ring_idx, uint64_t fence_id)
{
   pthread_mutex_lock(&ctx->mutex);
   uint32_t queues = 0;
   vn_object_table_foreach(ctx->objects, count_queues, &queues);
   struct vn_fence_entry *e = calloc(1, sizeof(*e) + sizeof(e->waits[0]) * queues);
   if (!e) {
      pthread_mutex_unlock(&ctx->mutex);
      return -ENOMEM;
   }
   e->ring_idx = ring_idx;
   e->fence_id = fence_id;
   struct queue_collect c = {e, queues};
   vn_object_table_foreach(ctx->objects, fence_queue, &c);

   int ret = 0;
   pthread_mutex_lock(&ctx->fence.mutex);
   if (!ctx->fence.started) {
      if (pthread_create(&ctx->fence.thread, NULL, fence_thread, ctx)) {
         ret = -EAGAIN;
      } else {
         ctx->fence.started = true;
      }
   }
   if (ret == 0) {
      if (ctx->fence.tail)
         ctx->fence.tail->next = e;
      else
         ctx->fence.head = e;
      ctx->fence.tail = e;
      ctx->fence.pending++;
      pthread_cond_broadcast(&ctx->fence.cond);
   }
   pthread_mutex_unlock(&ctx->fence.mutex);
   if (ret) {
      fence_entry_finish(e);
      free(e);
   }
   pthread_mutex_unlock(&ctx->mutex);
   return ret;
}

static bool
entry_uses(const struct vn_fence_entry *e, const struct vn_device *dev)
{
   for (uint32_t i = 0; i < e->count; i++) {
      if (e->waits[i].dev == dev)
         return true;
   }
   return false;
}

void
vn_fence_drain_device(struct vn_context *ctx, struct vn_device *dev)
{
   pthread_mutex_lock(&ctx->fence.mutex);
   for (;;) {
      bool used = false;
      for (struct vn_fence_entry *e = ctx->fence.head; e && !used; e = e->next)
         used = entry_uses(e, dev);
      if (!used)
         break;
      pthread_cond_wait(&ctx->fence.cond, &ctx->fence.mutex);
   }
   pthread_mutex_unlock(&ctx->fence.mutex);
}

void
vn_fence_thread_stop(struct vn_context *ctx)
{
   pthread_mutex_lock(&ctx->fence.mutex);
   ctx->fence.stop = true;
   pthread_cond_broadcast(&ctx->fence.cond);
   const bool started = ctx->fence.started;
   pthread_mutex_unlock(&ctx->fence.mutex);
   if (started)
      pthread_join(ctx->fence.thread, NULL);
}
