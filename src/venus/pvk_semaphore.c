/* Semaphore creation (binary or timeline is remembered) and sync-file
 * import (see pvk_semaphore.h). */
#include "venus/pvk_semaphore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_lifetime.h"
#include "venus/pvk_validate.h"
#include "venus/generated/vn_protocol_renderer.h"

/* obj->data of a timeline semaphore, and of a binary one with a signal
 * operation submitted and not yet waited for: tags, not owned memory. A
 * binary semaphore with no signal pending has NULL. */
static const char pvk_semaphore_timeline_tag;
static const char pvk_semaphore_pending_tag;

static bool
is_timeline(const VkSemaphoreCreateInfo *info)
{
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO)
         return ((const VkSemaphoreTypeCreateInfo *)s)->semaphoreType == VK_SEMAPHORE_TYPE_TIMELINE;
   }
   return false;
}

bool
pvk_semaphore_is_timeline(struct pvk_context *ctx, struct pvk_device *dev, VkSemaphore semaphore)
{
   const struct vn_object *obj = vn_object_table_find_handle(
      ctx->dispatch.objects, VK_OBJECT_TYPE_SEMAPHORE, (uint64_t)(uintptr_t)semaphore);
   return obj && obj->device == pvk_device_base(dev) && obj->data == &pvk_semaphore_timeline_tag;
}

void
vn_handle_vkCreateSemaphore(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCreateSemaphore *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   if (!args->pCreateInfo || !args->pSemaphore) {
      pvk_context_set_lost(ctx, "vkCreateSemaphore: missing arguments");
      return;
   }
   /* semaphoreType is binary or timeline: the generated decoder checks
    * every enum value against the registry */
   const uint64_t id = (uint64_t)(uintptr_t)*args->pSemaphore;
   /* Export handle types are not offered and the host's fd extension is
    * not enabled: the host driver must not see them (the chain lives in
    * the command's arena). */
   for (VkBaseOutStructure *prev = (VkBaseOutStructure *)args->pCreateInfo; prev->pNext;) {
      if (prev->pNext->sType == VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO)
         prev->pNext = prev->pNext->pNext;
      else
         prev = prev->pNext;
   }
   VkSemaphore handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateSemaphore(dev->handle, args->pCreateInfo, NULL, &handle);
   if (args->ret != VK_SUCCESS)
      return;
   struct vn_object *obj = vn_object_table_insert(
      ctx->dispatch.objects, id, VK_OBJECT_TYPE_SEMAPHORE, (uint64_t)(uintptr_t)handle);
   if (!obj) {
      dev->dispatch.vkDestroySemaphore(dev->handle, handle, NULL);
      pvk_context_set_lost(ctx, "vkCreateSemaphore: bad or duplicate object id");
      return;
   }
   obj->instance = pvk_instance_base(dev->instance);
   obj->device = pvk_device_base(dev);
   obj->data = is_timeline(args->pCreateInfo) ? (void *)&pvk_semaphore_timeline_tag : NULL;
}

void
vn_handle_vkGetPhysicalDeviceExternalSemaphoreProperties(
   struct vn_dispatch_context *dctx,
   struct vn_command_vkGetPhysicalDeviceExternalSemaphoreProperties *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   VkExternalSemaphoreProperties *props = args->pExternalSemaphoreProperties;
   if (!args->pExternalSemaphoreInfo || !props) {
      pvk_context_set_lost(ctx,
                           "vkGetPhysicalDeviceExternalSemaphoreProperties: missing arguments");
      return;
   }
   /* Only sync-file import into binary semaphores is offered (see
    * pvk_semaphore.h); host handle types (opaque fds) are never offered. */
   props->exportFromImportedHandleTypes = 0;
   props->compatibleHandleTypes = 0;
   props->externalSemaphoreFeatures = 0;
   const VkSemaphoreCreateInfo as_create = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
      .pNext = args->pExternalSemaphoreInfo->pNext,
   };
   if (args->pExternalSemaphoreInfo->handleType == VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT &&
       !is_timeline(&as_create)) {
      props->compatibleHandleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT;
      props->externalSemaphoreFeatures = VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT;
   }
}

struct semaphore_search {
   uint64_t handle;
   const struct pvk_device *dev;
   struct vn_object *found;
};

static void
semaphore_search_fn(struct vn_object *obj, void *data)
{
   struct semaphore_search *s = data;
   if (obj->type == VK_OBJECT_TYPE_SEMAPHORE && obj->handle == s->handle &&
       pvk_device_from_base(obj->device) == s->dev)
      s->found = obj;
}

/* The first queue the guest created on dev; NULL when it created none. */
static VkQueue
any_queue(const struct pvk_device *dev)
{
   for (uint32_t f = 0; f < PVK_MAX_QUEUE_FAMILIES; f++) {
      if (dev->queue_counts[f]) {
         VkQueue q = VK_NULL_HANDLE;
         dev->dispatch.vkGetDeviceQueue(dev->handle, f, 0, &q);
         return q;
      }
   }
   return VK_NULL_HANDLE;
}

void
pvk_semaphore_import_signalled(struct pvk_context *ctx, struct pvk_device *dev,
                               VkSemaphore semaphore, uint32_t resource_id)
{
   if (resource_id != 0) {
      pv_warn("venus", "semaphore import: resource %u (only 0, a signalled sync file, exists)",
              resource_id);
      pvk_context_set_lost(ctx, "semaphore import: resource id is not 0");
      return;
   }
   /* The handle was looked up by id already; find its object for the type
    * (imports are rare: one per presented frame at most). */
   struct semaphore_search s = { (uint64_t)(uintptr_t)semaphore, dev, NULL };
   vn_object_table_foreach(ctx->dispatch.objects, semaphore_search_fn, &s);
   if (!s.found || s.found->data == &pvk_semaphore_timeline_tag) {
      pvk_context_set_lost(ctx, "semaphore import: not a binary semaphore of this device");
      return;
   }
   const VkQueue queue = any_queue(dev);
   if (!queue) {
      pvk_context_set_lost(ctx, "semaphore import: the device has no queue");
      return;
   }
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .signalSemaphoreCount = 1,
      .pSignalSemaphores = &semaphore,
   };
   /* tracked like a guest submission: destroying the semaphore waits for it */
   const VkFence fence = pvk_lifetime_begin_submit(dev);
   const VkResult r = dev->dispatch.vkQueueSubmit(queue, 1, &submit, fence);
   const uint64_t serial = pvk_lifetime_end_submit(dev, fence, r == VK_SUCCESS);
   if (r == VK_SUCCESS) {
      s.found->data = (void *)&pvk_semaphore_pending_tag;
      s.found->serial = serial ? serial : UINT64_MAX;
   }
   if (r != VK_SUCCESS)
      pvk_context_set_lost(ctx, r == VK_ERROR_DEVICE_LOST ? "host device lost"
                                                          : "semaphore import: submit failed");
}

/* --- binary semaphore waits (pvk_semaphore.h) --- */

/* obj->serial of a pending binary semaphore whose signal is in the call
 * being checked: its submission has no serial yet. */
#define SIGNAL_IN_THIS_CALL 0

struct pvk_semaphore_undo {
   uint32_t count;
   struct {
      struct vn_object *obj;
      void *data;
      uint64_t serial;
   } entries[];
};

/* On a driver whose vkQueueSubmit* blocks until the signal of each binary
 * semaphore it waits on has run (pvk_physical_device's
 * binary_waits_block_submit), waits for the signalling submission first,
 * bounded by the firewall's wait limit: the driver's own wait has no
 * bound, and a long draw before the signal would hold this thread. */
static bool
signal_ran(struct pvk_context *ctx, struct pvk_device *dev, const struct vn_object *obj,
           const char *command)
{
   if (!dev->physical_device->binary_waits_block_submit)
      return true;
   if (obj->serial == SIGNAL_IN_THIS_CALL) {
      /* only vkQueueBindSparse gets here: submissions go batch by batch */
      pvk_reject(ctx,
                 "semaphore wait: %s: binary semaphore %llu is signalled by an earlier batch "
                 "of the same call, which this host driver would wait for with no bound",
                 command, (unsigned long long)obj->id);
      return false;
   }
   if (pvk_lifetime_serial_done(dev, obj->serial))
      return true;
   char what[96];
   snprintf(what, sizeof(what), "%s (the signal of binary semaphore %llu)", command,
            (unsigned long long)obj->id);
   return pvk_lifetime_wait(ctx, dev, obj->serial, what);
}

struct pvk_semaphore_undo *
pvk_semaphore_submit_begin(struct pvk_context *ctx, struct pvk_device *dev,
                           const struct pvk_semaphore_op *ops, uint32_t count, const char *command,
                           bool *ok)
{
   *ok = true;
   if (!count)
      return NULL;
   struct pvk_semaphore_undo *undo =
      malloc(sizeof(*undo) + (size_t)count * sizeof(undo->entries[0]));
   if (!undo) {
      *ok = false;
      pvk_context_set_lost(ctx, "out of memory");
      return NULL;
   }
   undo->count = 0;
   for (uint32_t i = 0; i < count; i++) {
      struct vn_object *obj = vn_object_table_find_handle(
         ctx->dispatch.objects, VK_OBJECT_TYPE_SEMAPHORE, (uint64_t)(uintptr_t)ops[i].semaphore);
      if (!obj || obj->device != pvk_device_base(dev) || obj->data == &pvk_semaphore_timeline_tag)
         continue; /* timeline, or not this device's (the driver's rules) */
      const bool wait = ops[i].kind == PVK_SEMAPHORE_WAIT;
      if (wait && obj->data != &pvk_semaphore_pending_tag) {
         pvk_reject(ctx,
                    "semaphore wait: %s: binary semaphore %llu waited on with no signal "
                    "submitted before (VUID-vkQueueSubmit-pWaitSemaphores-03238)",
                    command, (unsigned long long)obj->id);
         *ok = false;
      } else if (wait && !signal_ran(ctx, dev, obj, command)) {
         *ok = false;
      }
      if (!*ok) {
         pvk_semaphore_submit_end(undo, false, 0);
         return NULL;
      }
      undo->entries[undo->count].obj = obj;
      undo->entries[undo->count].data = obj->data;
      undo->entries[undo->count].serial = obj->serial;
      undo->count++;
      obj->data = wait ? NULL : (void *)&pvk_semaphore_pending_tag;
      obj->serial = SIGNAL_IN_THIS_CALL;
   }
   return undo;
}

void
pvk_semaphore_submit_end(struct pvk_semaphore_undo *undo, bool submitted, uint64_t serial)
{
   if (!undo)
      return;
   /* backwards: an object touched twice gets its first state back */
   for (uint32_t i = undo->count; !submitted && i-- > 0;) {
      undo->entries[i].obj->data = undo->entries[i].data;
      undo->entries[i].obj->serial = undo->entries[i].serial;
   }
   /* untracked (0): whatever was submitted until then covers it */
   for (uint32_t i = 0; submitted && i < undo->count; i++)
      undo->entries[i].obj->serial = serial ? serial : UINT64_MAX;
   free(undo);
}
