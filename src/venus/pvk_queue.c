/*
 * Queue submission, bounded waits, and context fences
 * (pv_context_submit_fence).
 *
 * A context fence retires once the queues it covers have finished the work
 * submitted before it: at submit time we put an empty vkQueueSubmit with a
 * host VkFence on each such queue (in order after that queue's earlier
 * work). Wire format 0 (Mesa 22.3): every queue, and one thread retires all
 * fences in FIFO order, as before. Wire format 1 (Mesa 25): the queue bound
 * to the fence's ring (VkDeviceQueueTimelineInfoMESA), and one thread per
 * ring, so that the rings are independent timelines: a fence on ring 1
 * never waits for ring 2's work.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_capture.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_lifetime.h"
#include "venus/pvk_resource.h"
#include "venus/pvk_semaphore.h"
#include "venus/pvk_validate.h"

/* The longest a guest-requested wait may block a context (ns). */
#define PVK_MAX_WAIT_NS (50ull * 1000 * 1000)
/* Fence thread poll period, so that stop requests are seen (ns). */
#define PVK_FENCE_POLL_NS (100ull * 1000 * 1000)

struct pvk_fence_wait {
   struct pvk_device *dev;
   VkFence fence;
};

struct pvk_fence_entry {
   uint32_t ring_idx;
   uint32_t timeline; /* the thread that retires it */
   uint64_t fence_id;
   uint32_t count;
   struct pvk_fence_entry *next;
   struct pvk_fence_wait waits[];
};

static void
check_device_lost(struct pvk_context *ctx, VkResult r)
{
   if (r == VK_ERROR_DEVICE_LOST)
      pvk_context_set_lost(ctx, "host device lost");
}

/* Submits through `submit` with a tracking fence (pvk_lifetime.h): the
 * guest's own when it can serve, else the renderer's, which the guest's
 * submission carries when the guest gave no fence, else an empty
 * submission right after. Returns the serial, 0 when untracked. */
static uint64_t
tracked_submit(struct pvk_context *ctx, struct pvk_device *dev, VkQueue queue, VkFence fence,
               VkResult (*submit)(void *args, VkFence fence), void *submit_args, VkResult *ret)
{
   /* (a poll would not make the guest's fence usable: one in a submission
    * not yet seen done is pending or signalled either way) */
   struct vn_object *guest = fence ? pvk_lifetime_guest_fence(ctx, dev, fence) : NULL;
   pvk_lifetime_poll_before_submit(ctx, dev, !guest);
   if (guest) {
      *ret = submit(submit_args, fence);
      return pvk_lifetime_end_guest_submit(ctx, dev, guest, *ret == VK_SUCCESS);
   }
   VkFence track = pvk_lifetime_begin_submit(dev);
   *ret = submit(submit_args, fence ? fence : track);
   bool ok = *ret == VK_SUCCESS;
   if (ok && fence && track) {
      pv_debug("venus",
               "context %u: the guest's fence may be signalled: an empty submission "
               "tracks its submission",
               ctx->ctx_id);
      ok = dev->dispatch.vkQueueSubmit(queue, 0, NULL, track) == VK_SUCCESS;
   }
   const uint64_t serial = pvk_lifetime_end_submit(dev, track, ok);
   /* the guest's fence is in use now; untracked: until everything is done */
   if (fence && *ret == VK_SUCCESS)
      pvk_lifetime_mark_fence(ctx, fence, serial ? serial : UINT64_MAX);
   return serial;
}

static VkResult
submit1(void *data, VkFence fence)
{
   struct vn_command_vkQueueSubmit *args = data;
   return pvk_device_from_base(args->dispatch->device)
      ->dispatch.vkQueueSubmit(args->queue, args->submitCount, args->pSubmits, fence);
}

static VkResult
submit2(void *data, VkFence fence)
{
   struct vn_command_vkQueueSubmit2 *args = data;
   return pvk_device_from_base(args->dispatch->device)
      ->dispatch.vkQueueSubmit2(args->queue, args->submitCount, args->pSubmits, fence);
}

static VkResult
bind_sparse(void *data, VkFence fence)
{
   struct vn_command_vkQueueBindSparse *args = data;
   return pvk_device_from_base(args->dispatch->device)
      ->dispatch.vkQueueBindSparse(args->queue, args->bindInfoCount, args->pBindInfo, fence);
}

/* The binary semaphore operations of a submission, in order
 * (pvk_semaphore.h), appended to *ops; false when out of memory. */
struct semaphore_ops {
   struct pvk_semaphore_op *ops;
   uint32_t count, capacity;
};

static bool
add_semaphores(struct semaphore_ops *o, const VkSemaphore *sems, uint32_t n,
               enum pvk_semaphore_op_kind kind)
{
   for (uint32_t i = 0; sems && i < n; i++) {
      if (o->count == o->capacity) {
         const uint32_t cap = o->capacity ? o->capacity * 2 : 16;
         if (cap < o->capacity)
            return false;
         void *p = realloc(o->ops, (size_t)cap * sizeof(*o->ops));
         if (!p)
            return false;
         o->ops = p;
         o->capacity = cap;
      }
      o->ops[o->count++] = (struct pvk_semaphore_op){ sems[i], kind };
   }
   return true;
}

static bool
add_semaphore_infos(struct semaphore_ops *o, const VkSemaphoreSubmitInfo *infos, uint32_t n,
                    enum pvk_semaphore_op_kind kind)
{
   for (uint32_t i = 0; infos && i < n; i++) {
      if (!add_semaphores(o, &infos[i].semaphore, 1, kind))
         return false;
   }
   return true;
}

static bool
collect_submit1(struct semaphore_ops *o, const struct vn_command_vkQueueSubmit *args)
{
   for (uint32_t i = 0; args->pSubmits && i < args->submitCount; i++) {
      const VkSubmitInfo *s = &args->pSubmits[i];
      if (!add_semaphores(o, s->pWaitSemaphores, s->waitSemaphoreCount, PVK_SEMAPHORE_WAIT) ||
          !add_semaphores(o, s->pSignalSemaphores, s->signalSemaphoreCount, PVK_SEMAPHORE_SIGNAL))
         return false;
   }
   return true;
}

static bool
collect_submit2(struct semaphore_ops *o, const struct vn_command_vkQueueSubmit2 *args)
{
   for (uint32_t i = 0; args->pSubmits && i < args->submitCount; i++) {
      const VkSubmitInfo2 *s = &args->pSubmits[i];
      if (!add_semaphore_infos(o, s->pWaitSemaphoreInfos, s->waitSemaphoreInfoCount,
                               PVK_SEMAPHORE_WAIT) ||
          !add_semaphore_infos(o, s->pSignalSemaphoreInfos, s->signalSemaphoreInfoCount,
                               PVK_SEMAPHORE_SIGNAL))
         return false;
   }
   return true;
}

static bool
collect_bind_sparse(struct semaphore_ops *o, const struct vn_command_vkQueueBindSparse *args)
{
   for (uint32_t i = 0; args->pBindInfo && i < args->bindInfoCount; i++) {
      const VkBindSparseInfo *s = &args->pBindInfo[i];
      if (!add_semaphores(o, s->pWaitSemaphores, s->waitSemaphoreCount, PVK_SEMAPHORE_WAIT) ||
          !add_semaphores(o, s->pSignalSemaphores, s->signalSemaphoreCount, PVK_SEMAPHORE_SIGNAL))
         return false;
   }
   return true;
}

/* Checks and applies the binary semaphore operations the collected ops
 * describe; NULL undo with false: refused (context lost). */
static bool
semaphores_begin(struct pvk_context *ctx, struct pvk_device *dev, struct semaphore_ops *o,
                 bool collected, const char *command, struct pvk_semaphore_undo **undo)
{
   bool ok = false;
   *undo = NULL;
   if (!collected)
      pvk_context_set_lost(ctx, "out of memory");
   else
      *undo = pvk_semaphore_submit_begin(ctx, dev, o->ops, o->count, command, &ok);
   free(o->ops);
   return ok;
}

/* `call`: pvk_cb_submit_call's stamp of the guest's call (batches of one
 * call may come one at a time). */
static void
queue_submit1(struct pvk_context *ctx, struct pvk_device *dev,
              struct vn_command_vkQueueSubmit *args, uint64_t call)
{
   for (uint32_t i = 0; args->pSubmits && i < args->submitCount; i++) {
      const VkSubmitInfo *s = &args->pSubmits[i];
      for (uint32_t j = 0; s->pCommandBuffers && j < s->commandBufferCount; j++) {
         struct vn_object *cb = pvk_cb_find(ctx, s->pCommandBuffers[j]);
         if (!pvk_cb_submit_ok(ctx, "vkQueueSubmit", cb, call) ||
             !pvk_lifetime_command_buffer_idle(ctx, dev, cb, "vkQueueSubmit"))
            return;
      }
   }
   struct semaphore_ops ops = { 0 };
   struct pvk_semaphore_undo *undo;
   if (!semaphores_begin(ctx, dev, &ops, collect_submit1(&ops, args), "vkQueueSubmit", &undo))
      return;
   const uint64_t serial =
      tracked_submit(ctx, dev, args->queue, args->fence, submit1, args, &args->ret);
   pvk_semaphore_submit_end(undo, args->ret == VK_SUCCESS, serial);
   for (uint32_t i = 0; serial && args->pSubmits && i < args->submitCount; i++) {
      const VkSubmitInfo *s = &args->pSubmits[i];
      for (uint32_t j = 0; s->pCommandBuffers && j < s->commandBufferCount; j++)
         pvk_lifetime_mark_command_buffer(ctx, s->pCommandBuffers[j], serial);
   }
   check_device_lost(ctx, args->ret);
}

/* On a driver that blocks on binary semaphore waits (pvk_semaphore.h), a
 * call of several batches goes to it one batch at a time, the fence with
 * the last: each batch's waits can then be waited for, bounded, before it
 * is submitted, also when an earlier batch of the call signals them.
 * Mesa's runtime submits the batches of one call one by one itself. */
static bool
one_batch_at_a_time(const struct pvk_device *dev, uint32_t batches)
{
   return batches > 1 && dev->physical_device->binary_waits_block_submit;
}

void
vn_handle_vkQueueSubmit(struct vn_dispatch_context *dctx, struct vn_command_vkQueueSubmit *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const uint64_t call = pvk_cb_submit_call(ctx);
   if (!args->pSubmits || !one_batch_at_a_time(dev, args->submitCount)) {
      queue_submit1(ctx, dev, args, call);
      return;
   }
   struct vn_command_vkQueueSubmit one = *args;
   one.submitCount = 1;
   for (uint32_t i = 0; i < args->submitCount; i++) {
      one.pSubmits = &args->pSubmits[i];
      one.fence = i + 1 == args->submitCount ? args->fence : VK_NULL_HANDLE;
      queue_submit1(ctx, dev, &one, call);
      args->ret = one.ret;
      if (one.ret != VK_SUCCESS || pvk_context_is_lost(ctx))
         return;
   }
}

static void
queue_submit2(struct pvk_context *ctx, struct pvk_device *dev,
              struct vn_command_vkQueueSubmit2 *args, uint64_t call)
{
   for (uint32_t i = 0; args->pSubmits && i < args->submitCount; i++) {
      const VkSubmitInfo2 *s = &args->pSubmits[i];
      for (uint32_t j = 0; s->pCommandBufferInfos && j < s->commandBufferInfoCount; j++) {
         struct vn_object *cb = pvk_cb_find(ctx, s->pCommandBufferInfos[j].commandBuffer);
         if (!pvk_cb_submit_ok(ctx, "vkQueueSubmit2", cb, call) ||
             !pvk_lifetime_command_buffer_idle(ctx, dev, cb, "vkQueueSubmit2"))
            return;
      }
   }
   struct semaphore_ops ops = { 0 };
   struct pvk_semaphore_undo *undo;
   if (!semaphores_begin(ctx, dev, &ops, collect_submit2(&ops, args), "vkQueueSubmit2", &undo))
      return;
   const uint64_t serial =
      tracked_submit(ctx, dev, args->queue, args->fence, submit2, args, &args->ret);
   pvk_semaphore_submit_end(undo, args->ret == VK_SUCCESS, serial);
   for (uint32_t i = 0; serial && args->pSubmits && i < args->submitCount; i++) {
      const VkSubmitInfo2 *s = &args->pSubmits[i];
      for (uint32_t j = 0; s->pCommandBufferInfos && j < s->commandBufferInfoCount; j++)
         pvk_lifetime_mark_command_buffer(ctx, s->pCommandBufferInfos[j].commandBuffer, serial);
   }
   check_device_lost(ctx, args->ret);
}

void
vn_handle_vkQueueSubmit2(struct vn_dispatch_context *dctx, struct vn_command_vkQueueSubmit2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkQueueSubmit2))
      return;
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const uint64_t call = pvk_cb_submit_call(ctx);
   if (!args->pSubmits || !one_batch_at_a_time(dev, args->submitCount)) {
      queue_submit2(ctx, dev, args, call);
      return;
   }
   struct vn_command_vkQueueSubmit2 one = *args;
   one.submitCount = 1;
   for (uint32_t i = 0; i < args->submitCount; i++) {
      one.pSubmits = &args->pSubmits[i];
      one.fence = i + 1 == args->submitCount ? args->fence : VK_NULL_HANDLE;
      queue_submit2(ctx, dev, &one, call);
      args->ret = one.ret;
      if (one.ret != VK_SUCCESS || pvk_context_is_lost(ctx))
         return;
   }
}

/* Tracked like a submission: its memory binds use memory and resources
 * that must outlive them, and its fence must not be left untracked. */
void
vn_handle_vkQueueBindSparse(struct vn_dispatch_context *dctx,
                            struct vn_command_vkQueueBindSparse *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   struct semaphore_ops ops = { 0 };
   struct pvk_semaphore_undo *undo;
   if (!semaphores_begin(ctx, dev, &ops, collect_bind_sparse(&ops, args), "vkQueueBindSparse",
                         &undo))
      return;
   const uint64_t serial =
      tracked_submit(ctx, dev, args->queue, args->fence, bind_sparse, args, &args->ret);
   pvk_semaphore_submit_end(undo, args->ret == VK_SUCCESS, serial);
   check_device_lost(ctx, args->ret);
}

/* Wire format 0 (allow_vk_wait_syncs = 0): one wait of at most
 * PVK_MAX_WAIT_NS; the guest polls. Wire format 1 (allow_vk_wait_syncs = 1):
 * Mesa 25 puts vkWaitForFences / vkWaitSemaphores with UINT64_MAX into a
 * ring and relies on the ring blocking until they are done; we wait in
 * slices until done, the timeout, or context teardown. Only on a ring's
 * thread: a stream submitted directly runs on the transport's thread,
 * which the context's teardown (and, in a VMM, the device's other
 * contexts) must not wait behind. */
static bool
keep_waiting(struct pvk_context *ctx, VkResult r, uint64_t *remaining)
{
   if (r != VK_TIMEOUT || ctx->wire_format < 1 || !ctx->transport.executing ||
       *remaining <= PVK_MAX_WAIT_NS || pvk_transport_cancelled(ctx) || pvk_context_is_lost(ctx))
      return false;
   *remaining -= PVK_MAX_WAIT_NS;
   return true;
}

void
vn_handle_vkWaitForFences(struct vn_dispatch_context *dctx, struct vn_command_vkWaitForFences *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   uint64_t remaining = args->timeout;
   do {
      const uint64_t slice = remaining < PVK_MAX_WAIT_NS ? remaining : PVK_MAX_WAIT_NS;
      args->ret = dev->dispatch.vkWaitForFences(args->device, args->fenceCount, args->pFences,
                                                args->waitAll, slice);
   } while (keep_waiting(ctx, args->ret, &remaining));
   /* all of them signalled: the submissions they track are done */
   if (args->ret == VK_SUCCESS && (args->waitAll || args->fenceCount == 1)) {
      for (uint32_t i = 0; args->pFences && i < args->fenceCount; i++)
         pvk_lifetime_fence_signalled(ctx, dev, args->pFences[i]);
   }
   check_device_lost(ctx, args->ret);
}

void
vn_handle_vkGetFenceStatus(struct vn_dispatch_context *dctx,
                           struct vn_command_vkGetFenceStatus *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   args->ret = dev->dispatch.vkGetFenceStatus(args->device, args->fence);
   if (args->ret == VK_SUCCESS)
      pvk_lifetime_fence_signalled(ctx, dev, args->fence);
   check_device_lost(ctx, args->ret);
}

void
vn_handle_vkWaitSemaphores(struct vn_dispatch_context *dctx,
                           struct vn_command_vkWaitSemaphores *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkWaitSemaphores))
      return;
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   if (!args->pWaitInfo) {
      pvk_context_set_lost(ctx, "vkWaitSemaphores: no wait info");
      return;
   }
   const VkSemaphoreWaitInfo *info = args->pWaitInfo;
   for (uint32_t i = 0; i < info->semaphoreCount; i++) {
      if (!info->pSemaphores || !pvk_semaphore_is_timeline(ctx, dev, info->pSemaphores[i])) {
         pvk_reject(ctx,
                    "semaphore: vkWaitSemaphores: semaphore %u is not a timeline semaphore "
                    "of the device",
                    i);
         return;
      }
   }
   uint64_t remaining = args->timeout;
   do {
      const uint64_t slice = remaining < PVK_MAX_WAIT_NS ? remaining : PVK_MAX_WAIT_NS;
      args->ret = dev->dispatch.vkWaitSemaphores(args->device, args->pWaitInfo, slice);
   } while (keep_waiting(ctx, args->ret, &remaining));
   check_device_lost(ctx, args->ret);
}

void
vn_handle_vkGetSemaphoreCounterValue(struct vn_dispatch_context *dctx,
                                     struct vn_command_vkGetSemaphoreCounterValue *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkGetSemaphoreCounterValue))
      return;
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   if (!args->pValue || !pvk_semaphore_is_timeline(ctx, dev, args->semaphore)) {
      pvk_reject(ctx,
                 "semaphore: vkGetSemaphoreCounterValue: semaphore %llu is not a timeline "
                 "semaphore of the device",
                 (unsigned long long)(args->semaphore_object ? args->semaphore_object->id : 0));
      return;
   }
   args->ret =
      dev->dispatch.vkGetSemaphoreCounterValue(args->device, args->semaphore, args->pValue);
   check_device_lost(ctx, args->ret);
}

/* Besides the type: the value must be above the counter's
 * (VUID-VkSemaphoreSignalInfo-value-03258); a timeline's points are kept
 * in order by drivers. Values past pending signal operations
 * (-03259) are not tracked. */
void
vn_handle_vkSignalSemaphore(struct vn_dispatch_context *dctx,
                            struct vn_command_vkSignalSemaphore *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkSignalSemaphore))
      return;
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const VkSemaphoreSignalInfo *info = args->pSignalInfo;
   uint64_t now = 0;
   const char *why =
      !info || !pvk_semaphore_is_timeline(ctx, dev, info->semaphore)
         ? "not a timeline semaphore of the device"
      : dev->dispatch.vkGetSemaphoreCounterValue(dev->handle, info->semaphore, &now) != VK_SUCCESS
         ? "its counter could not be read"
      : info->value <= now ? "value not above the semaphore's counter"
                           : NULL;
   if (why) {
      pvk_reject(ctx, "semaphore: vkSignalSemaphore: %s (value %llu, counter %llu)", why,
                 (unsigned long long)(info ? info->value : 0), (unsigned long long)now);
      return;
   }
   args->ret = dev->dispatch.vkSignalSemaphore(args->device, info);
   check_device_lost(ctx, args->ret);
}

void
vn_handle_vkResetFenceResource100000MESA(struct vn_dispatch_context *dctx,
                                         struct vn_command_vkResetFenceResource100000MESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   /* Mesa sends it after exporting a fence's sync file, which is not
    * offered (no globalFencing, no VK_KHR_external_fence_fd): a reset like
    * vkResetFences, which observes or waits for the submission first */
   pvk_lifetime_reset_fences(ctx, dev, 1, &args->fence, "vkResetFenceResource100000MESA");
}

void
vn_handle_vkWaitSemaphoreResource100000MESA(
   struct vn_dispatch_context *dctx, struct vn_command_vkWaitSemaphoreResource100000MESA *args)
{
   /* semaphore resources (global fencing) are not offered */
}

void
vn_handle_vkImportSemaphoreResource100000MESA(
   struct vn_dispatch_context *dctx, struct vn_command_vkImportSemaphoreResource100000MESA *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const VkImportSemaphoreResourceInfo100000MESA *info = args->pImportSemaphoreResourceInfo;
   if (!info) {
      pvk_context_set_lost(ctx, "semaphore import: no info");
      return;
   }
   pvk_semaphore_import_signalled(ctx, pvk_device_from_base(args->dispatch->device),
                                  info->semaphore, info->resourceId);
}

/* --- context fences --- */

void
pvk_fence_leave(struct pvk_context *ctx, struct pvk_device *dev, VkFence fence)
{
   pthread_mutex_lock(&ctx->fence.mutex);
   const uint32_t n = ctx->fence.left_count;
   if (n == ctx->fence.left_capacity) {
      const uint32_t cap = n ? n * 2 : 8;
      void *p = realloc(ctx->fence.left, cap * sizeof(*ctx->fence.left));
      if (!p) {
         /* leaked: never destroyed, which is safe */
         pthread_mutex_unlock(&ctx->fence.mutex);
         pv_warn("venus", "context %u: out of memory: a pending host fence is leaked", ctx->ctx_id);
         return;
      }
      ctx->fence.left = p;
      ctx->fence.left_capacity = cap;
   }
   ctx->fence.left[n] = (struct pvk_fence_wait){ dev, fence };
   ctx->fence.left_count = n + 1;
   pthread_mutex_unlock(&ctx->fence.mutex);
}

/* Waits for the entry's host fences and destroys them. Once the context's
 * teardown gave up on its devices (fence.abandon), a fence still pending
 * is left to the device teardown instead: a fence thread never blocks a
 * teardown past its deadline by more than one poll period. */
static void
fence_entry_finish(struct pvk_context *ctx, struct pvk_fence_entry *e)
{
   for (uint32_t i = 0; i < e->count; i++) {
      struct pvk_fence_wait *w = &e->waits[i];
      VkResult r;
      for (;;) {
         const bool abandon = atomic_load(&ctx->fence.abandon);
         r = w->dev->dispatch.vkWaitForFences(w->dev->handle, 1, &w->fence, VK_TRUE,
                                              abandon ? 0 : PVK_FENCE_POLL_NS);
         if (r != VK_TIMEOUT || abandon)
            break;
      }
      if (r == VK_TIMEOUT)
         pvk_fence_leave(ctx, w->dev, w->fence);
      else
         w->dev->dispatch.vkDestroyFence(w->dev->handle, w->fence, NULL);
   }
}

struct fence_thread_arg {
   struct pvk_context *ctx;
   uint32_t timeline;
};

/* The first entry of a timeline (fence.mutex held). */
static struct pvk_fence_entry *
first_of(struct pvk_context *ctx, uint32_t timeline)
{
   for (struct pvk_fence_entry *e = ctx->fence.head; e; e = e->next) {
      if (e->timeline == timeline)
         return e;
   }
   return NULL;
}

static void
unlink_entry(struct pvk_context *ctx, struct pvk_fence_entry *e)
{
   struct pvk_fence_entry *prev = NULL;
   for (struct pvk_fence_entry *p = ctx->fence.head; p != e; p = p->next)
      prev = p;
   if (prev)
      prev->next = e->next;
   else
      ctx->fence.head = e->next;
   if (ctx->fence.tail == e)
      ctx->fence.tail = prev;
}

static void *
fence_thread(void *data)
{
   struct fence_thread_arg arg = *(struct fence_thread_arg *)data;
   free(data);
   struct pvk_context *ctx = arg.ctx;
   pthread_mutex_lock(&ctx->fence.mutex);
   for (;;) {
      struct pvk_fence_entry *e;
      while (!(e = first_of(ctx, arg.timeline)) && !ctx->fence.stop)
         pthread_cond_wait(&ctx->fence.cond, &ctx->fence.mutex);
      if (!e)
         break; /* stopped and drained */
      pthread_mutex_unlock(&ctx->fence.mutex);

      fence_entry_finish(ctx, e);
      if (ctx->fence.retired)
         ctx->fence.retired(ctx->fence.data, ctx->ctx_id, e->ring_idx, e->fence_id);

      pthread_mutex_lock(&ctx->fence.mutex);
      unlink_entry(ctx, e);
      ctx->fence.pending--;
      free(e);
      pthread_cond_broadcast(&ctx->fence.cond);
   }
   pthread_mutex_unlock(&ctx->fence.mutex);
   return NULL;
}

/* Starts the timeline's thread on its first fence (fence.mutex held). */
static int
start_timeline(struct pvk_context *ctx, uint32_t timeline)
{
   if (ctx->fence.started[timeline])
      return 0;
   if (ctx->fence.stop)
      return -ENODEV; /* pvk_fence_thread_stop joins only what it saw */
   struct fence_thread_arg *arg = malloc(sizeof(*arg));
   if (!arg)
      return -ENOMEM;
   *arg = (struct fence_thread_arg){ ctx, timeline };
   if (pthread_create(&ctx->fence.threads[timeline], NULL, fence_thread, arg)) {
      free(arg);
      return -EAGAIN;
   }
   ctx->fence.started[timeline] = true;
   return 0;
}

struct queue_collect {
   struct pvk_fence_entry *entry;
   uint32_t capacity;
   uint32_t ring_idx; /* only queues bound to it; 0: every queue */
};

static bool
queue_selected(const struct vn_object *obj, uint32_t ring_idx)
{
   return obj->type == VK_OBJECT_TYPE_QUEUE && (!ring_idx || obj->ring_idx == ring_idx);
}

static void
count_queues(struct vn_object *obj, void *data)
{
   struct queue_collect *c = data;
   if (queue_selected(obj, c->ring_idx))
      c->capacity++;
}

static void
fence_queue(struct vn_object *obj, void *data)
{
   struct queue_collect *c = data;
   if (!queue_selected(obj, c->ring_idx) || c->entry->count >= c->capacity)
      return;
   struct pvk_device *dev = pvk_device_from_base(obj->device);
   const VkFenceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   if (dev->dispatch.vkCreateFence(dev->handle, &info, NULL, &fence) != VK_SUCCESS)
      return;
   /* an empty submission signals once the queue's earlier work is done */
   if (dev->dispatch.vkQueueSubmit((VkQueue)(uintptr_t)obj->handle, 0, NULL, fence) != VK_SUCCESS) {
      dev->dispatch.vkDestroyFence(dev->handle, fence, NULL);
      return;
   }
   c->entry->waits[c->entry->count++] = (struct pvk_fence_wait){ dev, fence };
}

int
pvk_context_submit_fence(struct pvk_context *ctx, uint32_t ring_idx, uint64_t fence_id)
{
   if (ctx->capture)
      pvk_capture_fence(ctx->capture, ring_idx, fence_id);
   if (ctx->wire_format >= 1 && ring_idx >= PVK_FENCE_MAX_TIMELINES)
      return -EINVAL;
   if (ctx->wire_format >= 1 && ring_idx == 0) {
      /* the CPU timeline: what was submitted before has been consumed */
      if (ctx->fence.retired)
         ctx->fence.retired(ctx->fence.data, ctx->ctx_id, ring_idx, fence_id);
      return 0;
   }
   pthread_mutex_lock(&ctx->mutex);
   struct queue_collect c = { NULL, 0, 0 };
   if (ctx->wire_format >= 1) {
      /* the queue bound to ring_idx; a ring without a queue: every queue */
      c.ring_idx = ring_idx;
      vn_object_table_foreach(ctx->dispatch.objects, count_queues, &c);
      if (!c.capacity)
         c.ring_idx = 0;
   }
   if (!c.ring_idx)
      vn_object_table_foreach(ctx->dispatch.objects, count_queues, &c);
   struct pvk_fence_entry *e = calloc(1, sizeof(*e) + sizeof(e->waits[0]) * c.capacity);
   if (!e) {
      pthread_mutex_unlock(&ctx->mutex);
      return -ENOMEM;
   }
   e->ring_idx = ring_idx;
   e->timeline = ctx->wire_format >= 1 ? ring_idx : 0;
   e->fence_id = fence_id;
   c.entry = e;
   vn_object_table_foreach(ctx->dispatch.objects, fence_queue, &c);

   pthread_mutex_lock(&ctx->fence.mutex);
   int ret = start_timeline(ctx, e->timeline);
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
      /* no thread to wait for them: never wait here (the queue may be
       * stuck), leave them to the device teardown */
      for (uint32_t i = 0; i < e->count; i++)
         pvk_fence_leave(ctx, e->waits[i].dev, e->waits[i].fence);
      free(e);
   }
   pthread_mutex_unlock(&ctx->mutex);
   return ret;
}

static bool
entry_uses(const struct pvk_fence_entry *e, const struct pvk_device *dev)
{
   for (uint32_t i = 0; i < e->count; i++) {
      if (e->waits[i].dev == dev)
         return true;
   }
   return false;
}

/* Destroys the fences left to `dev` that have signalled. True when none of
 * them is left. fence.mutex held. */
static bool
release_left(struct pvk_context *ctx, struct pvk_device *dev)
{
   uint32_t kept = 0;
   for (uint32_t i = 0; i < ctx->fence.left_count; i++) {
      struct pvk_fence_wait *w = &ctx->fence.left[i];
      if (w->dev == dev && dev->dispatch.vkGetFenceStatus(dev->handle, w->fence) != VK_NOT_READY) {
         dev->dispatch.vkDestroyFence(dev->handle, w->fence, NULL);
         continue;
      }
      ctx->fence.left[kept++] = *w;
   }
   ctx->fence.left_count = kept;
   for (uint32_t i = 0; i < kept; i++) {
      if (ctx->fence.left[i].dev == dev)
         return false;
   }
   return true;
}

bool
pvk_fence_drain_device(struct pvk_context *ctx, struct pvk_device *dev, uint64_t deadline_ns,
                       bool cancellable)
{
   pthread_mutex_lock(&ctx->fence.mutex);
   bool drained = false;
   for (;;) {
      bool used = false;
      for (struct pvk_fence_entry *e = ctx->fence.head; e && !used; e = e->next)
         used = entry_uses(e, dev);
      if (!used) {
         drained = true;
         break;
      }
      const uint64_t now = pvk_now_ns();
      if (now >= deadline_ns || (cancellable && pvk_transport_cancelled(ctx)))
         break;
      /* in slices: a cancel does not wake this wait */
      const uint64_t until =
         deadline_ns - now > PVK_MAX_WAIT_NS ? now + PVK_MAX_WAIT_NS : deadline_ns;
      const struct timespec ts = { .tv_sec = (time_t)(until / 1000000000ull),
                                   .tv_nsec = (long)(until % 1000000000ull) };
      pthread_cond_timedwait(&ctx->fence.cond, &ctx->fence.mutex, &ts);
   }
   if (drained)
      drained = release_left(ctx, dev);
   pthread_mutex_unlock(&ctx->fence.mutex);
   return drained;
}

bool
pvk_fence_thread_stop(struct pvk_context *ctx, uint64_t deadline_ns)
{
   pthread_mutex_lock(&ctx->fence.mutex);
   ctx->fence.stop = true;
   pthread_cond_broadcast(&ctx->fence.cond);
   while (ctx->fence.pending) {
      const struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000ull),
                                   .tv_nsec = (long)(deadline_ns % 1000000000ull) };
      if (pthread_cond_timedwait(&ctx->fence.cond, &ctx->fence.mutex, &ts) == ETIMEDOUT)
         break;
   }
   const uint32_t pending = ctx->fence.pending;
   if (pending)
      atomic_store(&ctx->fence.abandon, true); /* the threads see it within a poll */
   pthread_mutex_unlock(&ctx->fence.mutex);
   if (pending)
      pv_warn("venus",
              "context %u (%s): %u fences still pending at the teardown deadline: retired "
              "without their work completing",
              ctx->ctx_id, ctx->name, pending);
   /* no new timeline starts once stop is set: started[] is stable */
   for (uint32_t i = 0; i < PVK_FENCE_MAX_TIMELINES; i++) {
      if (ctx->fence.started[i])
         pthread_join(ctx->fence.threads[i], NULL);
   }
   return pending == 0;
}
