/*
 * Object lifetimes against pending submissions: see pvk_lifetime.h for the
 * design. The hand-written destroy, free and reset handlers are here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_lifetime.h"
#include "venus/pvk_memory.h"
#include "venus/pvk_validate.h"

/* A wait for pending work checks for teardown this often (ns). */
#define PVK_LIFETIME_WAIT_SLICE_NS (50ull * 1000 * 1000)
/* A submission polls first when at least this many are pending, even with
 * nothing deferred and spare fences left (keeps the list short). */
#define PVK_LIFETIME_POLL_BACKLOG 32

/* vn_object.data of a fence known to be unsignalled and in no submission:
 * created unsignalled (checked once) or reset through vkResetFences since
 * its last submission. Such a fence can track the submission it is given
 * to. Fences have no other per-object state. */
static const char fence_unsignalled_tag;

struct pvk_deferred {
   struct pvk_deferred *next;
   uint64_t serial; /* run once every submission up to it has finished */
   VkObjectType type;
   uint64_t handle;
   uint64_t pool;                 /* command buffers, descriptor sets */
   struct pvk_device_memory *mem; /* device memory */
};

/* --- tracking submissions --- */

/* Makes room for `needed` elements. */
static bool
grow_to(void **array, uint32_t *capacity, uint32_t needed, size_t elem)
{
   if (needed <= *capacity)
      return true;
   uint32_t n = *capacity ? *capacity : 16;
   while (n < needed) {
      if (n > UINT32_MAX / 2)
         return false;
      n *= 2;
   }
   void *p = realloc(*array, (size_t)n * elem);
   if (!p)
      return false;
   *array = p;
   *capacity = n;
   return true;
}

static bool
grow(void **array, uint32_t *capacity, uint32_t count, size_t elem)
{
   return count < UINT32_MAX && grow_to(array, capacity, count + 1, elem);
}

VkFence
pvk_lifetime_begin_submit(struct pvk_device *dev)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   /* room for it in pending first: end_submit must not fail to track a
    * submission the driver took (it would have to wait for it) */
   if (!grow((void **)&lt->pending, &lt->pending_capacity, lt->pending_count, sizeof(*lt->pending)))
      return VK_NULL_HANDLE;
   if (lt->spare_count)
      return lt->spare[--lt->spare_count];
   const VkFenceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence = VK_NULL_HANDLE;
   if (dev->dispatch.vkCreateFence(dev->handle, &info, NULL, &fence) != VK_SUCCESS)
      return VK_NULL_HANDLE;
   return fence;
}

static void
spare_fence(struct pvk_device *dev, VkFence fence)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   if (grow((void **)&lt->spare, &lt->spare_capacity, lt->spare_count, sizeof(*lt->spare)))
      lt->spare[lt->spare_count++] = fence;
   else
      dev->dispatch.vkDestroyFence(dev->handle, fence, NULL);
}

uint64_t
pvk_lifetime_end_submit(struct pvk_device *dev, VkFence fence, bool ok)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   if (!fence)
      return 0;
   if (!ok) {
      /* an unsignalled fence the driver did not take: reusable as is */
      spare_fence(dev, fence);
      return 0;
   }
   /* begin_submit made room for it */
   lt->pending[lt->pending_count++] =
      (struct pvk_pending_submit){ .fence = fence, .serial = ++lt->submitted };
   return lt->submitted;
}

static struct vn_object *find(struct pvk_context *ctx, VkObjectType type, uint64_t handle);

struct vn_object *
pvk_lifetime_guest_fence(struct pvk_context *ctx, struct pvk_device *dev, VkFence fence)
{
   struct vn_object *obj = find(ctx, VK_OBJECT_TYPE_FENCE, (uint64_t)(uintptr_t)fence);
   if (!obj || obj->device != pvk_device_base(dev))
      return NULL;
   /* room in pending first, as begin_submit makes */
   struct pvk_lifetime *lt = &dev->lifetime;
   if (!grow((void **)&lt->pending, &lt->pending_capacity, lt->pending_count, sizeof(*lt->pending)))
      return NULL;
   if (obj->data == &fence_unsignalled_tag)
      return obj;
   /* Not known: in a submission still tracked (given again before it was
    * seen done: invalid), signalled, or created unsignalled and never
    * submitted. Only the last can track this submission. */
   if (obj->serial > lt->completed)
      return NULL;
   return dev->dispatch.vkGetFenceStatus(dev->handle, fence) == VK_NOT_READY ? obj : NULL;
}

uint64_t
pvk_lifetime_end_guest_submit(struct pvk_context *ctx, struct pvk_device *dev,
                              struct vn_object *fence, bool ok)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   const VkFence handle = (VkFence)(uintptr_t)fence->handle;
   fence->data = NULL; /* in a submission now, or in a state a failed one left */
   if (!ok)
      return 0;
   /* pvk_lifetime_guest_fence made room for it */
   lt->pending[lt->pending_count++] = (struct pvk_pending_submit){ .fence = handle,
                                                                   .serial = ++lt->submitted,
                                                                   .guest_fence = true };
   fence->serial = lt->submitted;
   pv_debug("venus", "context %u: submission %llu tracked by the guest's fence", ctx->ctx_id,
            (unsigned long long)lt->submitted);
   return lt->submitted;
}

/* The index of `serial`'s pending entry, pending_count when it has retired
 * (binary search: serials increase along the list). */
static uint32_t
pending_index(const struct pvk_lifetime *lt, uint64_t serial)
{
   uint32_t lo = 0, hi = lt->pending_count;
   while (lo < hi) {
      const uint32_t mid = lo + (hi - lo) / 2;
      if (lt->pending[mid].serial < serial)
         lo = mid + 1;
      else
         hi = mid;
   }
   return lo < lt->pending_count && lt->pending[lo].serial == serial ? lo : lt->pending_count;
}

static struct pvk_pending_submit *
pending_of(struct pvk_lifetime *lt, uint64_t serial)
{
   const uint32_t i = pending_index(lt, serial);
   return i < lt->pending_count ? &lt->pending[i] : NULL;
}

/* Whether the submission `serial` has finished, as far as is known. */
static bool
serial_done(const struct pvk_lifetime *lt, uint64_t serial)
{
   if (serial <= lt->completed)
      return true;
   const uint32_t i = pending_index(lt, serial);
   return i < lt->pending_count && lt->pending[i].done;
}

bool
pvk_lifetime_serial_done(const struct pvk_device *dev, uint64_t serial)
{
   return serial_done(&dev->lifetime, serial);
}

/* The pending entry that `fence` (a guest fence object) tracks and that is
 * not yet known done, else NULL. */
static struct pvk_pending_submit *
tracked_by(struct pvk_lifetime *lt, const struct vn_object *fence)
{
   if (fence->serial <= lt->completed)
      return NULL;
   struct pvk_pending_submit *p = pending_of(lt, fence->serial);
   if (!p || p->done || !p->guest_fence || p->fence != (VkFence)(uintptr_t)fence->handle)
      return NULL;
   return p;
}

/* --- running deferred calls --- */

static void
destroy_host(struct pvk_context *ctx, struct pvk_device *dev, const struct pvk_deferred *d)
{
   switch (d->type) {
   case VK_OBJECT_TYPE_COMMAND_BUFFER: {
      VkCommandBuffer cb = (VkCommandBuffer)(uintptr_t)d->handle;
      dev->dispatch.vkFreeCommandBuffers(dev->handle, (VkCommandPool)(uintptr_t)d->pool, 1, &cb);
      break;
   }
   case VK_OBJECT_TYPE_DESCRIPTOR_SET: {
      VkDescriptorSet set = (VkDescriptorSet)(uintptr_t)d->handle;
      dev->dispatch.vkFreeDescriptorSets(dev->handle, (VkDescriptorPool)(uintptr_t)d->pool, 1,
                                         &set);
      break;
   }
   case VK_OBJECT_TYPE_DEVICE_MEMORY:
      pvk_device_memory_release(ctx, dev, d->handle, d->mem);
      break;
   default: {
      struct vn_object o = { .type = d->type, .handle = d->handle, .device = pvk_device_base(dev) };
      vn_object_destroy_host(&o);
      break;
   }
   }
}

static void
run_due(struct pvk_context *ctx, struct pvk_device *dev, uint64_t completed)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   while (lt->deferred && lt->deferred->serial <= completed) {
      struct pvk_deferred *d = lt->deferred;
      lt->deferred = d->next;
      if (!lt->deferred)
         lt->deferred_tail = NULL;
      destroy_host(ctx, dev, d);
      free(d);
   }
}

/* Retires the finished entries at the front of the list (querying their
 * fences when `query`, else only those marked done), recycles the
 * renderer's fences among them (reset together) and runs what is due. */
static void
retire(struct pvk_context *ctx, struct pvk_device *dev, bool query)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   uint32_t done = 0, own = 0;
   while (done < lt->pending_count) {
      const struct pvk_pending_submit *p = &lt->pending[done];
      if (!p->done &&
          !(query && dev->dispatch.vkGetFenceStatus(dev->handle, p->fence) == VK_SUCCESS))
         break;
      lt->completed = p->serial;
      own += !p->guest_fence;
      done++;
   }
   if (own) {
      /* the renderer's fences go back to the pool, reset in one call */
      const bool room = grow_to((void **)&lt->spare, &lt->spare_capacity, lt->spare_count + own,
                                sizeof(*lt->spare));
      VkFence *to = room ? lt->spare + lt->spare_count : NULL;
      uint32_t n = 0;
      for (uint32_t i = 0; i < done; i++) {
         if (lt->pending[i].guest_fence)
            continue;
         if (to)
            to[n++] = lt->pending[i].fence;
         else
            dev->dispatch.vkDestroyFence(dev->handle, lt->pending[i].fence, NULL);
      }
      if (n && dev->dispatch.vkResetFences(dev->handle, n, to) == VK_SUCCESS) {
         lt->spare_count += n;
      } else {
         for (uint32_t i = 0; i < n; i++)
            dev->dispatch.vkDestroyFence(dev->handle, to[i], NULL);
      }
   }
   if (done) {
      lt->pending_count -= done;
      memmove(lt->pending, lt->pending + done, lt->pending_count * sizeof(*lt->pending));
   }
   if (!lt->pending_count)
      lt->completed = lt->submitted;
   run_due(ctx, dev, lt->completed);
}

void
pvk_lifetime_poll(struct pvk_context *ctx, struct pvk_device *dev)
{
   retire(ctx, dev, true);
}

void
pvk_lifetime_poll_before_submit(struct pvk_context *ctx, struct pvk_device *dev, bool own_fence)
{
   const struct pvk_lifetime *lt = &dev->lifetime;
   if (lt->pending_count && (lt->deferred || lt->pending_count >= PVK_LIFETIME_POLL_BACKLOG ||
                             (own_fence && !lt->spare_count)))
      retire(ctx, dev, true);
}

void
pvk_lifetime_fence_signalled(struct pvk_context *ctx, struct pvk_device *dev, VkFence fence)
{
   struct vn_object *obj = find(ctx, VK_OBJECT_TYPE_FENCE, (uint64_t)(uintptr_t)fence);
   struct pvk_pending_submit *p = obj ? tracked_by(&dev->lifetime, obj) : NULL;
   if (!p)
      return;
   p->done = true;
   retire(ctx, dev, false);
}

bool
pvk_lifetime_wait(struct pvk_context *ctx, struct pvk_device *dev, uint64_t serial,
                  const char *what)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   if (serial > lt->submitted)
      serial = lt->submitted;
   pvk_lifetime_poll(ctx, dev);
   const uint64_t deadline = pvk_now_ns() + ctx->firewall_wait_limit_ns;
   while (lt->completed < serial && lt->pending_count) {
      VkResult r = dev->dispatch.vkWaitForFences(dev->handle, 1, &lt->pending[0].fence, VK_TRUE,
                                                 PVK_LIFETIME_WAIT_SLICE_NS);
      const bool overdue = r == VK_TIMEOUT && pvk_now_ns() >= deadline;
      if (r == VK_TIMEOUT && !overdue && !pvk_transport_cancelled(ctx) && !pvk_context_is_lost(ctx))
         continue;
      if (r != VK_SUCCESS) {
         pvk_reject(ctx, "lifetime: %s waited for pending work (serial %llu) and %s", what,
                    (unsigned long long)serial,
                    overdue           ? "it outlasted the firewall's wait limit"
                    : r == VK_TIMEOUT ? "the context ended first"
                                      : "the device failed");
         return false;
      }
      pvk_lifetime_poll(ctx, dev);
   }
   return true;
}

bool
pvk_lifetime_wait_idle(struct pvk_context *ctx, struct pvk_device *dev, uint64_t deadline_ns,
                       bool cancellable)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   pvk_lifetime_poll(ctx, dev);
   while (lt->pending_count) {
      const uint64_t now = pvk_now_ns();
      if (now >= deadline_ns ||
          (cancellable && (pvk_transport_cancelled(ctx) || pvk_context_is_lost(ctx))))
         return false;
      const uint64_t left = deadline_ns - now;
      VkResult r = dev->dispatch.vkWaitForFences(
         dev->handle, 1, &lt->pending[0].fence, VK_TRUE,
         left < PVK_LIFETIME_WAIT_SLICE_NS ? left : PVK_LIFETIME_WAIT_SLICE_NS);
      if (r == VK_ERROR_DEVICE_LOST)
         return true; /* nothing runs on a lost device; its objects may go */
      pvk_lifetime_poll(ctx, dev);
   }
   return true;
}

void
pvk_lifetime_destroy(struct pvk_context *ctx, struct pvk_device *dev, VkObjectType type,
                     uint64_t handle, uint64_t pool, struct pvk_device_memory *mem)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   pvk_lifetime_poll(ctx, dev);
   struct pvk_deferred d = { NULL, lt->submitted, type, handle, pool, mem };
   if (lt->completed >= lt->submitted) {
      destroy_host(ctx, dev, &d);
      return;
   }
   struct pvk_deferred *e = malloc(sizeof(*e));
   if (!e) {
      /* no memory to defer it: wait for the work instead */
      if (pvk_lifetime_wait(ctx, dev, d.serial, "destroy"))
         destroy_host(ctx, dev, &d);
      return;
   }
   *e = d;
   if (lt->deferred_tail)
      lt->deferred_tail->next = e;
   else
      lt->deferred = e;
   lt->deferred_tail = e;
   pv_debug("venus", "context %u: destroy of a %d object deferred until serial %llu", ctx->ctx_id,
            (int)type, (unsigned long long)d.serial);
}

void
pvk_lifetime_finish(struct pvk_context *ctx, struct pvk_device *dev)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   for (uint32_t i = 0; i < lt->pending_count; i++) {
      /* the device is idle: these are signalled or were never submitted;
       * the guest's fences are destroyed with the guest's objects */
      if (!lt->pending[i].guest_fence)
         dev->dispatch.vkDestroyFence(dev->handle, lt->pending[i].fence, NULL);
   }
   for (uint32_t i = 0; i < lt->spare_count; i++)
      dev->dispatch.vkDestroyFence(dev->handle, lt->spare[i], NULL);
   free(lt->pending);
   free(lt->spare);
   lt->pending = NULL;
   lt->spare = NULL;
   lt->pending_count = lt->pending_capacity = 0;
   lt->spare_count = lt->spare_capacity = 0;
   lt->completed = lt->submitted;
   run_due(ctx, dev, UINT64_MAX);
}

/* --- destroy handlers --- */

static struct vn_object *
find(struct pvk_context *ctx, VkObjectType type, uint64_t handle)
{
   return handle ? vn_object_table_find_handle(ctx->dispatch.objects, type, handle) : NULL;
}

/* Drops the guest's object and destroys the host one when it is safe. */
static void
destroy_object(struct vn_dispatch_context *dctx, struct vn_object *dispatch, VkObjectType type,
               uint64_t handle)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct vn_object *obj = find(ctx, type, handle);
   if (!obj)
      return;
   /* descriptors naming it get null ones first (pvk_validate.h) */
   pvk_descriptor_refs_drop(ctx, obj);
   pvk_object_forget(ctx, obj);
   pvk_lifetime_destroy(ctx, pvk_device_from_base(dispatch->device), type, handle, 0, NULL);
}

#define DEFERRED_DESTROY(name, field, type)                                                \
   void vn_handle_##name(struct vn_dispatch_context *dctx, struct vn_command_##name *args) \
   {                                                                                       \
      destroy_object(dctx, args->dispatch, type, (uint64_t)(uintptr_t)args->field);        \
   }

void
vn_handle_vkDestroyFence(struct vn_dispatch_context *dctx, struct vn_command_vkDestroyFence *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   struct vn_object *obj = find(ctx, VK_OBJECT_TYPE_FENCE, (uint64_t)(uintptr_t)args->fence);
   /* a guest fence tracking a submission: if it has signalled, that work
    * is done, which may let this destroy (and others) run now */
   struct pvk_pending_submit *p = obj ? tracked_by(&dev->lifetime, obj) : NULL;
   if (p && dev->dispatch.vkGetFenceStatus(dev->handle, args->fence) == VK_SUCCESS)
      p->done = true;
   destroy_object(dctx, args->dispatch, VK_OBJECT_TYPE_FENCE, (uint64_t)(uintptr_t)args->fence);
}

DEFERRED_DESTROY(vkDestroySemaphore, semaphore, VK_OBJECT_TYPE_SEMAPHORE)
DEFERRED_DESTROY(vkDestroyEvent, event, VK_OBJECT_TYPE_EVENT)
DEFERRED_DESTROY(vkDestroyQueryPool, queryPool, VK_OBJECT_TYPE_QUERY_POOL)
DEFERRED_DESTROY(vkDestroyBuffer, buffer, VK_OBJECT_TYPE_BUFFER)
DEFERRED_DESTROY(vkDestroyBufferView, bufferView, VK_OBJECT_TYPE_BUFFER_VIEW)
DEFERRED_DESTROY(vkDestroyImage, image, VK_OBJECT_TYPE_IMAGE)
DEFERRED_DESTROY(vkDestroyImageView, imageView, VK_OBJECT_TYPE_IMAGE_VIEW)
DEFERRED_DESTROY(vkDestroyPipeline, pipeline, VK_OBJECT_TYPE_PIPELINE)
DEFERRED_DESTROY(vkDestroyPipelineLayout, pipelineLayout, VK_OBJECT_TYPE_PIPELINE_LAYOUT)
/* A sampler that a set layout has as an immutable sampler: lavapipe 22.3
 * keeps pointers to it in the layout and in every set of it, and reads
 * them at draws. Which layouts and sets still live on the host is not
 * tracked (the driver keeps a layout as long as its sets and pipeline
 * layouts), so such a sampler goes to the guest at once and from the host
 * with its device (teardown destroys retired objects). */
void
vn_handle_vkDestroySampler(struct vn_dispatch_context *dctx,
                           struct vn_command_vkDestroySampler *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct vn_object *obj = find(ctx, VK_OBJECT_TYPE_SAMPLER, (uint64_t)(uintptr_t)args->sampler);
   const struct pvk_sampler_state *st = obj ? obj->data : NULL;
   if (!st || !st->immutable) {
      destroy_object(dctx, args->dispatch, VK_OBJECT_TYPE_SAMPLER,
                     (uint64_t)(uintptr_t)args->sampler);
      return;
   }
   pvk_descriptor_refs_drop(ctx, obj);
   pv_debug("venus", "context %u: sampler %llu is an immutable sampler: kept until its device goes",
            ctx->ctx_id, (unsigned long long)obj->id);
   vn_object_table_retire(ctx->dispatch.objects, obj);
}
DEFERRED_DESTROY(vkDestroyDescriptorSetLayout, descriptorSetLayout,
                 VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT)
DEFERRED_DESTROY(vkDestroyFramebuffer, framebuffer, VK_OBJECT_TYPE_FRAMEBUFFER)
DEFERRED_DESTROY(vkDestroyRenderPass, renderPass, VK_OBJECT_TYPE_RENDER_PASS)

struct children {
   struct pvk_context *ctx;
   const struct vn_object *pool;
   VkObjectType type;
};

/* A retired pool's id may name a live pool again (vn_object_table_retire):
 * its children are those retired with it. */
static void
forget_child(struct vn_object *obj, void *data)
{
   const struct children *c = data;
   if (obj->type == c->type && obj->parent_id == c->pool->id && obj->retired == c->pool->retired &&
       obj->device == c->pool->device)
      pvk_object_forget(c->ctx, obj);
}

/* Drops the table entries of a pool's command buffers or descriptor sets
 * (the host frees them with the pool). */
static void
forget_children(struct pvk_context *ctx, struct vn_object *pool, VkObjectType type)
{
   struct children c = { ctx, pool, type };
   vn_object_table_foreach(ctx->dispatch.objects, forget_child, &c);
}

static void
destroy_pool(struct vn_dispatch_context *dctx, struct vn_object *dispatch, VkObjectType type,
             VkObjectType child, uint64_t handle)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct vn_object *pool = find(ctx, type, handle);
   if (!pool)
      return;
   forget_children(ctx, pool, child);
   pvk_object_forget(ctx, pool);
   pvk_lifetime_destroy(ctx, pvk_device_from_base(dispatch->device), type, handle, 0, NULL);
}

void
vn_handle_vkDestroyCommandPool(struct vn_dispatch_context *dctx,
                               struct vn_command_vkDestroyCommandPool *args)
{
   destroy_pool(dctx, args->dispatch, VK_OBJECT_TYPE_COMMAND_POOL, VK_OBJECT_TYPE_COMMAND_BUFFER,
                (uint64_t)(uintptr_t)args->commandPool);
}

void
vn_handle_vkDestroyDescriptorPool(struct vn_dispatch_context *dctx,
                                  struct vn_command_vkDestroyDescriptorPool *args)
{
   destroy_pool(dctx, args->dispatch, VK_OBJECT_TYPE_DESCRIPTOR_POOL, VK_OBJECT_TYPE_DESCRIPTOR_SET,
                (uint64_t)(uintptr_t)args->descriptorPool);
}

/* vkFreeCommandBuffers / vkFreeDescriptorSets: each element of the pool. */
static void
free_children(struct vn_dispatch_context *dctx, struct vn_object *dispatch, VkObjectType type,
              VkObjectType pool_type, uint64_t pool, uint32_t count, const uint64_t *handles)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(dispatch->device);
   const struct vn_object *pool_obj = find(ctx, pool_type, pool);
   for (uint32_t i = 0; handles && i < count; i++) {
      struct vn_object *obj = find(ctx, type, handles[i]);
      if (!obj)
         continue; /* VK_NULL_HANDLE is allowed */
      if (!pool_obj || obj->parent_id != pool_obj->id) {
         pvk_reject(ctx, "lifetime: %s frees object %llu of another pool than %llu",
                    type == VK_OBJECT_TYPE_COMMAND_BUFFER ? "vkFreeCommandBuffers"
                                                          : "vkFreeDescriptorSets",
                    (unsigned long long)obj->id, (unsigned long long)(pool_obj ? pool_obj->id : 0));
         return;
      }
      pvk_object_forget(ctx, obj);
      pvk_lifetime_destroy(ctx, dev, type, handles[i], pool, NULL);
   }
}

_Static_assert(sizeof(VkCommandBuffer) == sizeof(uint64_t), "handles are 64-bit");

void
vn_handle_vkFreeCommandBuffers(struct vn_dispatch_context *dctx,
                               struct vn_command_vkFreeCommandBuffers *args)
{
   free_children(dctx, args->dispatch, VK_OBJECT_TYPE_COMMAND_BUFFER, VK_OBJECT_TYPE_COMMAND_POOL,
                 (uint64_t)(uintptr_t)args->commandPool, args->commandBufferCount,
                 (const uint64_t *)args->pCommandBuffers);
}

void
vn_handle_vkFreeDescriptorSets(struct vn_dispatch_context *dctx,
                               struct vn_command_vkFreeDescriptorSets *args)
{
   free_children(dctx, args->dispatch, VK_OBJECT_TYPE_DESCRIPTOR_SET,
                 VK_OBJECT_TYPE_DESCRIPTOR_POOL, (uint64_t)(uintptr_t)args->descriptorPool,
                 args->descriptorSetCount, (const uint64_t *)args->pDescriptorSets);
   args->ret = VK_SUCCESS;
}

/* --- resets: wait for the submissions that use the object --- */

/* The serial to wait for before resetting obj. */
static uint64_t
serial_of(const struct pvk_device *dev, const struct vn_object *obj)
{
   return obj->serial == UINT64_MAX ? dev->lifetime.submitted : obj->serial;
}

static bool
wait_unused(struct pvk_context *ctx, struct pvk_device *dev, struct vn_object *obj,
            const char *what)
{
   if (!obj)
      return true;
   if (!serial_done(&dev->lifetime, obj->serial) &&
       !pvk_lifetime_wait(ctx, dev, serial_of(dev, obj), what))
      return false;
   obj->serial = 0;
   return true;
}

void
vn_handle_vkBeginCommandBuffer(struct vn_dispatch_context *dctx,
                               struct vn_command_vkBeginCommandBuffer *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   if (!wait_unused(ctx, dev, args->dispatch, "vkBeginCommandBuffer"))
      return;
   if (!pvk_validate_command_buffer_begin(ctx, args->dispatch, args->pBeginInfo))
      return;
   args->ret = dev->dispatch.vkBeginCommandBuffer(args->commandBuffer, args->pBeginInfo);
}

void
vn_handle_vkResetCommandBuffer(struct vn_dispatch_context *dctx,
                               struct vn_command_vkResetCommandBuffer *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   if (!wait_unused(ctx, dev, args->dispatch, "vkResetCommandBuffer"))
      return;
   pvk_cb_reset(ctx, args->dispatch);
   args->ret = dev->dispatch.vkResetCommandBuffer(args->commandBuffer, args->flags);
}

void
vn_handle_vkResetCommandPool(struct vn_dispatch_context *dctx,
                             struct vn_command_vkResetCommandPool *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   struct vn_object *pool =
      find(ctx, VK_OBJECT_TYPE_COMMAND_POOL, (uint64_t)(uintptr_t)args->commandPool);
   /* secondaries recorded into a primary mark their pool (vkCmdExecuteCommands) */
   const bool executed = pool && pool->serial == UINT64_MAX;
   if (!wait_unused(ctx, dev, pool, "vkResetCommandPool"))
      return;
   if (executed)
      pvk_cb_pool_reset(ctx, pool);
   args->ret = dev->dispatch.vkResetCommandPool(args->device, args->commandPool, args->flags);
}

void
vn_handle_vkCreateDescriptorPool(struct vn_dispatch_context *dctx,
                                 struct vn_command_vkCreateDescriptorPool *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const VkDescriptorPoolCreateInfo *info = args->pCreateInfo;
   if (!info || !args->pDescriptorPool || (info->poolSizeCount && !info->pPoolSizes)) {
      pvk_context_set_lost(ctx, "vkCreateDescriptorPool: missing arguments");
      return;
   }
   struct pvk_descriptor_pool_state *st =
      calloc(1, sizeof(*st) + (size_t)info->poolSizeCount * sizeof(st->sizes[0]));
   if (!st) {
      pvk_context_set_lost(ctx, "vkCreateDescriptorPool: out of host memory");
      return;
   }
   st->flags = info->flags;
   st->max_sets = info->maxSets;
   st->size_count = info->poolSizeCount;
   memcpy(st->sizes, info->pPoolSizes, (size_t)info->poolSizeCount * sizeof(st->sizes[0]));
   st->recreatable = true;
   for (const VkBaseInStructure *p = info->pNext; p; p = p->pNext) {
      if (p->sType == VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_INLINE_UNIFORM_BLOCK_CREATE_INFO) {
         st->has_inline = true;
         st->inline_bindings = ((const VkDescriptorPoolInlineUniformBlockCreateInfo *)p)
                                  ->maxInlineUniformBlockBindings;
      } else {
         st->recreatable = false; /* mutable type lists: not kept */
      }
   }
   VkDescriptorPool handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateDescriptorPool(dev->handle, info, NULL, &handle);
   if (args->ret != VK_SUCCESS) {
      free(st);
      return;
   }
   struct vn_object *obj =
      vn_object_table_insert(ctx->dispatch.objects, (uint64_t)(uintptr_t)*args->pDescriptorPool,
                             VK_OBJECT_TYPE_DESCRIPTOR_POOL, (uint64_t)(uintptr_t)handle);
   if (!obj) {
      dev->dispatch.vkDestroyDescriptorPool(dev->handle, handle, NULL);
      free(st);
      pvk_context_set_lost(ctx, "vkCreateDescriptorPool: bad or duplicate object id");
      return;
   }
   obj->instance = pvk_instance_base(dev->instance);
   obj->device = pvk_device_base(dev);
   obj->data = st;
}

/* A reset while submissions are pending: the guest's pool becomes a fresh
 * host pool with the same create info, and the old one (with the sets the
 * pending work may read) is destroyed once that work is done. False when
 * the pool cannot be created again. */
static bool
swap_pool(struct pvk_context *ctx, struct pvk_device *dev, struct vn_object *pool)
{
   const struct pvk_descriptor_pool_state *st = pool->data;
   if (!st || !st->recreatable)
      return false;
   const VkDescriptorPoolInlineUniformBlockCreateInfo inl = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_INLINE_UNIFORM_BLOCK_CREATE_INFO,
      .maxInlineUniformBlockBindings = st->inline_bindings,
   };
   const VkDescriptorPoolCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .pNext = st->has_inline ? &inl : NULL,
      .flags = st->flags,
      .maxSets = st->max_sets,
      .poolSizeCount = st->size_count,
      .pPoolSizes = st->sizes,
   };
   VkDescriptorPool fresh = VK_NULL_HANDLE;
   if (dev->dispatch.vkCreateDescriptorPool(dev->handle, &info, NULL, &fresh) != VK_SUCCESS)
      return false;
   /* the table indexes objects by the handle they were inserted with */
   const struct vn_object saved = *pool;
   const uint64_t old = pool->handle;
   vn_object_table_remove(ctx->dispatch.objects, pool);
   struct vn_object *obj = vn_object_table_insert(
      ctx->dispatch.objects, saved.id, VK_OBJECT_TYPE_DESCRIPTOR_POOL, (uint64_t)(uintptr_t)fresh);
   if (!obj) {
      /* cannot happen (the id was just freed); keep the old pool's state */
      dev->dispatch.vkDestroyDescriptorPool(dev->handle, fresh, NULL);
      free(saved.data);
      pvk_context_set_lost(ctx, "vkResetDescriptorPool: pool could not be re-inserted");
      return true;
   }
   obj->instance = saved.instance;
   obj->device = saved.device;
   obj->data = saved.data;
   pvk_lifetime_destroy(ctx, dev, VK_OBJECT_TYPE_DESCRIPTOR_POOL, old, 0, NULL);
   return true;
}

void
vn_handle_vkResetDescriptorPool(struct vn_dispatch_context *dctx,
                                struct vn_command_vkResetDescriptorPool *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   struct vn_object *pool =
      find(ctx, VK_OBJECT_TYPE_DESCRIPTOR_POOL, (uint64_t)(uintptr_t)args->descriptorPool);
   if (!pool)
      return;
   forget_children(ctx, pool, VK_OBJECT_TYPE_DESCRIPTOR_SET);
   args->ret = VK_SUCCESS;
   pvk_lifetime_poll(ctx, dev);
   if (dev->lifetime.completed < dev->lifetime.submitted && swap_pool(ctx, dev, pool))
      return;
   /* which submissions use its sets is not tracked: all of them */
   if (!pvk_lifetime_wait(ctx, dev, dev->lifetime.submitted, "vkResetDescriptorPool"))
      return;
   args->ret = dev->dispatch.vkResetDescriptorPool(args->device, args->descriptorPool, args->flags);
}

VkResult
pvk_lifetime_reset_fences(struct pvk_context *ctx, struct pvk_device *dev, uint32_t count,
                          const VkFence *fences, const char *what)
{
   struct pvk_lifetime *lt = &dev->lifetime;
   for (uint32_t i = 0; fences && i < count; i++) {
      struct vn_object *f = find(ctx, VK_OBJECT_TYPE_FENCE, (uint64_t)(uintptr_t)fences[i]);
      if (!f)
         continue;
      /* a guest fence tracking a submission: seen signalled now, or the
       * reset waits for the work (a valid guest waited already) */
      struct pvk_pending_submit *p = tracked_by(lt, f);
      if (p && dev->dispatch.vkGetFenceStatus(dev->handle, fences[i]) == VK_SUCCESS) {
         p->done = true;
         retire(ctx, dev, false);
      }
      if (!wait_unused(ctx, dev, f, what))
         return VK_ERROR_DEVICE_LOST;
   }
   const VkResult r = dev->dispatch.vkResetFences(dev->handle, count, fences);
   for (uint32_t i = 0; fences && i < count; i++) {
      struct vn_object *f = find(ctx, VK_OBJECT_TYPE_FENCE, (uint64_t)(uintptr_t)fences[i]);
      if (f)
         f->data = r == VK_SUCCESS ? (void *)&fence_unsignalled_tag : NULL;
   }
   return r;
}

void
vn_handle_vkResetFences(struct vn_dispatch_context *dctx, struct vn_command_vkResetFences *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   args->ret =
      pvk_lifetime_reset_fences(ctx, dev, args->fenceCount, args->pFences, "vkResetFences");
}

void
vn_handle_vkCmdExecuteCommands(struct vn_dispatch_context *dctx,
                               struct vn_command_vkCmdExecuteCommands *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   if (!pvk_recording_execute_ok(ctx, args->dispatch, args->commandBufferCount,
                                 args->pCommandBuffers))
      return;
   for (uint32_t i = 0; args->pCommandBuffers && i < args->commandBufferCount; i++) {
      struct vn_object *cb =
         find(ctx, VK_OBJECT_TYPE_COMMAND_BUFFER, (uint64_t)(uintptr_t)args->pCommandBuffers[i]);
      if (!cb)
         continue;
      if (!pvk_cb_execute_ok(ctx, args->dispatch, cb))
         return;
      /* pending whenever a primary that runs it is: reset waits for all */
      cb->serial = UINT64_MAX;
      struct vn_object *pool =
         vn_object_table_lookup(ctx->dispatch.objects, cb->parent_id, VK_OBJECT_TYPE_COMMAND_POOL);
      if (pool)
         pool->serial = UINT64_MAX;
   }
   dev->dispatch.vkCmdExecuteCommands(args->commandBuffer, args->commandBufferCount,
                                      args->pCommandBuffers);
}

/* --- submissions --- */

void
pvk_lifetime_mark_command_buffer(struct pvk_context *ctx, VkCommandBuffer cb, uint64_t serial)
{
   struct vn_object *obj = find(ctx, VK_OBJECT_TYPE_COMMAND_BUFFER, (uint64_t)(uintptr_t)cb);
   if (!obj || obj->serial == UINT64_MAX)
      return;
   obj->serial = serial;
   pvk_cb_mark_secondaries(ctx, obj, serial);
   struct vn_object *pool =
      vn_object_table_lookup(ctx->dispatch.objects, obj->parent_id, VK_OBJECT_TYPE_COMMAND_POOL);
   if (pool && pool->serial != UINT64_MAX)
      pool->serial = serial;
}

bool
pvk_lifetime_command_buffer_idle(struct pvk_context *ctx, struct pvk_device *dev,
                                 struct vn_object *cb, const char *what)
{
   if (!cb || cb->serial == UINT64_MAX)
      return true;
   const struct pvk_command_buffer_state *st = cb->data;
   uint64_t serial = st && st->simultaneous ? 0 : cb->serial;
   /* and the last runs of its secondaries without SIMULTANEOUS_USE
    * (VUID-vkQueueSubmit-pCommandBuffers-00073), as pvk_cb_submit_ok found */
   if (st && st->run_serial > serial)
      serial = st->run_serial;
   if (!serial || serial_done(&dev->lifetime, serial))
      return true;
   char named[96];
   snprintf(named, sizeof(named), "%s of command buffer %llu", what, (unsigned long long)cb->id);
   return pvk_lifetime_wait(ctx, dev, serial, named);
}

void
pvk_lifetime_mark_fence(struct pvk_context *ctx, VkFence fence, uint64_t serial)
{
   struct vn_object *obj = find(ctx, VK_OBJECT_TYPE_FENCE, (uint64_t)(uintptr_t)fence);
   if (obj) {
      obj->serial = serial;
      obj->data = NULL;
   }
}
