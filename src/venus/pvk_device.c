/*
 * Device and queue creation, and tearing down whatever a guest left behind
 * (vkDestroyDevice / vkDestroyInstance / context destroy), children first.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_memory.h"
#include "venus/pvk_resource.h"
#include "venus/pvk_semaphore.h"
#include "venus/pvk_validate.h"

static bool
pd_has_ext(const struct pvk_physical_device *pd, const char *name)
{
   for (uint32_t i = 0; i < pd->ext_count; i++) {
      if (!strcmp(pd->exts[i].extensionName, name))
         return true;
   }
   return false;
}

/* Firewall: every queue create info names a family of the host device, once,
 * with 1..its queueCount queues and their priorities (the driver indexes its
 * queue arrays with them). Records the created queue counts. */
static bool
check_queue_infos(struct pvk_context *ctx, struct pvk_instance *inst,
                  const struct pvk_physical_device *pd, const VkDeviceCreateInfo *info,
                  uint32_t *queue_counts)
{
   VkQueueFamilyProperties props[PVK_MAX_QUEUE_FAMILIES];
   uint32_t families = PVK_MAX_QUEUE_FAMILIES;
   inst->dispatch.vkGetPhysicalDeviceQueueFamilyProperties(pd->handle, &families, props);
   for (uint32_t i = 0; i < info->queueCreateInfoCount; i++) {
      const VkDeviceQueueCreateInfo *q = &info->pQueueCreateInfos[i];
      const char *why = NULL;
      if (q->queueFamilyIndex >= families)
         why = "no such queue family";
      else if (queue_counts[q->queueFamilyIndex])
         why = "queue family listed twice";
      else if (!q->queueCount || q->queueCount > props[q->queueFamilyIndex].queueCount)
         why = "queue count outside 1..the family's queueCount";
      else if (!q->pQueuePriorities)
         why = "no queue priorities";
      if (why) {
         pvk_reject(ctx, "queue: vkCreateDevice queue info %u: %s (family %u, count %u)", i, why,
                    q->queueFamilyIndex, q->queueCount);
         return false;
      }
      queue_counts[q->queueFamilyIndex] = q->queueCount;
   }
   return true;
}

/* Whether the guest enabled indexTypeUint8 (VK_KHR/EXT_index_type_uint8's
 * feature struct or Vulkan 1.4's): VK_INDEX_TYPE_UINT8 binds need it. */
static bool
enables_index_type_uint8(const VkDeviceCreateInfo *info)
{
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_INDEX_TYPE_UINT8_FEATURES &&
          ((const VkPhysicalDeviceIndexTypeUint8Features *)s)->indexTypeUint8)
         return true;
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_4_FEATURES &&
          ((const VkPhysicalDeviceVulkan14Features *)s)->indexTypeUint8)
         return true;
   }
   return false;
}

/* Whether the guest enabled sparseBinding (pEnabledFeatures or
 * VkPhysicalDeviceFeatures2): sparse buffers and images need it. */
static bool
enables_sparse_binding(const VkDeviceCreateInfo *info)
{
   if (info->pEnabledFeatures && info->pEnabledFeatures->sparseBinding)
      return true;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2 &&
          ((const VkPhysicalDeviceFeatures2 *)s)->features.sparseBinding)
         return true;
   }
   return false;
}

void
vn_handle_vkCreateDevice(struct vn_dispatch_context *dctx, struct vn_command_vkCreateDevice *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct vn_object *pd_obj = args->dispatch;
   struct pvk_physical_device *pd = pd_obj->data;
   struct pvk_instance *inst = pvk_instance_from_base(pd_obj->instance);
   const VkDeviceCreateInfo *guest = args->pCreateInfo;
   if (!guest || !args->pDevice || !pd) {
      pvk_context_set_lost(ctx, "vkCreateDevice: missing arguments");
      return;
   }
   const uint64_t id = (uint64_t)(uintptr_t)*args->pDevice;
   if ((guest->queueCreateInfoCount && !guest->pQueueCreateInfos) ||
       (guest->enabledExtensionCount && !guest->ppEnabledExtensionNames)) {
      pvk_context_set_lost(ctx, "vkCreateDevice: array without elements");
      return;
   }
   /* queues the guest may ask for later (vkGetDeviceQueue*) */
   uint32_t queue_counts[PVK_MAX_QUEUE_FAMILIES] = { 0 };
   if (!check_queue_infos(ctx, inst, pd, guest, queue_counts))
      return;

   /* the guest's extensions (only advertised ones, less the renderer's
    * own) + external_memory_host */
   const char **names = calloc(guest->enabledExtensionCount + 1, sizeof(*names));
   if (!names) {
      args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   uint32_t count = 0;
   bool has_host_ptr = false;
   for (uint32_t i = 0; i < guest->enabledExtensionCount; i++) {
      const char *name = guest->ppEnabledExtensionNames[i];
      if (!name || !pd_has_ext(pd, name)) {
         free(names);
         args->ret = VK_ERROR_EXTENSION_NOT_PRESENT;
         return;
      }
      has_host_ptr |= !strcmp(name, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
      if (!strcmp(name, PVK_SEMAPHORE_SYNC_FD_EXTENSION))
         continue; /* the renderer's own (pvk_semaphore.h) */
      names[count++] = name;
   }
   const bool host_ptr = pd->host_ptr_alignment != 0;
   if (host_ptr && !has_host_ptr)
      names[count++] = VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME;

   VkDeviceCreateInfo info = *guest;
   info.enabledLayerCount = 0;
   info.ppEnabledLayerNames = NULL;
   info.enabledExtensionCount = count;
   info.ppEnabledExtensionNames = names;

   struct pvk_device *dev = calloc(1, sizeof(*dev));
   if (!dev) {
      free(names);
      args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      return;
   }
   VkDevice handle;
   pvk_loader_lock();
   args->ret = inst->dispatch.vkCreateDevice(args->physicalDevice, &info, NULL, &handle);
   if (args->ret == VK_SUCCESS)
      vn_device_dispatch_init(&dev->dispatch, inst->dispatch.vkGetDeviceProcAddr, handle);
   pvk_loader_unlock();
   free(names);
   if (args->ret != VK_SUCCESS) {
      free(dev);
      return;
   }
   dev->handle = handle;
   dev->physical_device = pd;
   dev->instance = inst;
   dev->host_ptr_import = host_ptr;
   dev->index_type_uint8 = enables_index_type_uint8(guest);
   dev->sparse_binding = enables_sparse_binding(guest);
   memcpy(dev->queue_counts, queue_counts, sizeof(queue_counts));

   struct vn_object *obj = vn_object_table_insert(ctx->dispatch.objects, id, VK_OBJECT_TYPE_DEVICE,
                                                  (uint64_t)(uintptr_t)handle);
   if (!obj) {
      pvk_loader_lock();
      dev->dispatch.vkDestroyDevice(handle, NULL);
      pvk_loader_unlock();
      free(dev);
      pvk_context_set_lost(ctx, "vkCreateDevice: bad or duplicate object id");
      return;
   }
   obj->instance = pvk_instance_base(inst);
   obj->device = pvk_device_base(dev);
}

void
vn_handle_vkDestroyDevice(struct vn_dispatch_context *dctx, struct vn_command_vkDestroyDevice *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct vn_object *obj = args->dispatch;
   if (!obj)
      return;
   pvk_context_destroy_objects(ctx, NULL, pvk_device_from_base(obj->device));
}

static bool
queue_exists(const struct pvk_device *dev, uint32_t family, uint32_t index)
{
   return family < PVK_MAX_QUEUE_FAMILIES && index < dev->queue_counts[family];
}

static struct vn_object *
get_queue(struct pvk_context *ctx, struct pvk_device *dev, VkQueue queue, uint64_t id)
{
   if (!queue) {
      pvk_context_set_lost(ctx, "vkGetDeviceQueue: no such queue");
      return NULL;
   }
   struct vn_object *obj = vn_object_table_lookup(ctx->dispatch.objects, id, VK_OBJECT_TYPE_QUEUE);
   if (obj && obj->handle == (uint64_t)(uintptr_t)queue)
      return obj; /* fetched before under the same id */
   obj = vn_object_table_insert(ctx->dispatch.objects, id, VK_OBJECT_TYPE_QUEUE,
                                (uint64_t)(uintptr_t)queue);
   if (!obj) {
      pvk_context_set_lost(ctx, "vkGetDeviceQueue: bad or duplicate object id");
      return NULL;
   }
   obj->instance = pvk_instance_base(dev->instance);
   obj->device = pvk_device_base(dev);
   return obj;
}

/* Takes VkDeviceQueueTimelineInfoMESA out of the chain (the host driver must
 * not see it) and returns its ring index, 0 when absent. The chain lives in
 * the per-command arena: unlinking it is ours to do. */
static uint32_t
take_timeline_info(VkDeviceQueueInfo2 *info)
{
   uint32_t ring_idx = 0;
   for (VkBaseOutStructure **p = (VkBaseOutStructure **)&info->pNext; *p;) {
      if ((*p)->sType == VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA) {
         ring_idx = ((const VkDeviceQueueTimelineInfoMESA *)*p)->ringIdx;
         *p = (*p)->pNext;
      } else {
         p = &(*p)->pNext;
      }
   }
   return ring_idx;
}

void
vn_handle_vkGetDeviceQueue(struct vn_dispatch_context *dctx,
                           struct vn_command_vkGetDeviceQueue *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   VkQueue queue = VK_NULL_HANDLE;
   if (!args->pQueue || !queue_exists(dev, args->queueFamilyIndex, args->queueIndex)) {
      pvk_reject(ctx, "queue: vkGetDeviceQueue: no such queue (device %llu, family %u, index %u)",
                 (unsigned long long)args->dispatch->id, args->queueFamilyIndex, args->queueIndex);
      return;
   }
   dev->dispatch.vkGetDeviceQueue(args->device, args->queueFamilyIndex, args->queueIndex, &queue);
   get_queue(ctx, dev, queue, (uint64_t)(uintptr_t)*args->pQueue);
}

void
vn_handle_vkGetDeviceQueue2(struct vn_dispatch_context *dctx,
                            struct vn_command_vkGetDeviceQueue2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   VkQueue queue = VK_NULL_HANDLE;
   if (!args->pQueue || !args->pQueueInfo ||
       !queue_exists(dev, args->pQueueInfo->queueFamilyIndex, args->pQueueInfo->queueIndex)) {
      pvk_reject(ctx, "queue: vkGetDeviceQueue2: no such queue (device %llu, family %u, index %u)",
                 (unsigned long long)args->dispatch->id,
                 args->pQueueInfo ? args->pQueueInfo->queueFamilyIndex : 0,
                 args->pQueueInfo ? args->pQueueInfo->queueIndex : 0);
      return;
   }
   const uint32_t ring_idx = take_timeline_info((VkDeviceQueueInfo2 *)args->pQueueInfo);
   if (ring_idx && ctx->wire_format < 1) {
      pv_error("venus",
               "context %u: VkDeviceQueueTimelineInfoMESA is wire format 1 (Mesa 25), "
               "this context serves wire format 0 (Mesa 22.3); select wire format 1 for this guest",
               ctx->ctx_id);
      pvk_context_set_lost(ctx, "struct of another wire format");
      return;
   }
   dev->dispatch.vkGetDeviceQueue2(args->device, args->pQueueInfo, &queue);
   struct vn_object *obj = get_queue(ctx, dev, queue, (uint64_t)(uintptr_t)*args->pQueue);
   if (obj && ring_idx)
      obj->ring_idx = ring_idx;
}

/* --- teardown --- */

enum {
   PASS_DROP_CHILDREN, /* freed with their pools */
   PASS_USERS,         /* objects that use others */
   PASS_POOLS,
   PASS_LAYOUTS,
   PASS_RESOURCES,
   PASS_MEMORY,
   PASS_QUEUES,
   PASS_DEVICES,
   PASS_PHYSICAL_DEVICES,
   PASS_INSTANCES,
   PASS_COUNT,
};

static int
object_pass(VkObjectType type)
{
   switch (type) {
   case VK_OBJECT_TYPE_COMMAND_BUFFER:
   case VK_OBJECT_TYPE_DESCRIPTOR_SET:
      return PASS_DROP_CHILDREN;
   case VK_OBJECT_TYPE_COMMAND_POOL:
   case VK_OBJECT_TYPE_DESCRIPTOR_POOL:
   case VK_OBJECT_TYPE_PIPELINE_CACHE:
   case VK_OBJECT_TYPE_SHADER_MODULE:
      return PASS_POOLS;
   case VK_OBJECT_TYPE_PIPELINE_LAYOUT:
   case VK_OBJECT_TYPE_RENDER_PASS:
   case VK_OBJECT_TYPE_SAMPLER:
   case VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT:
      return PASS_LAYOUTS;
   case VK_OBJECT_TYPE_IMAGE:
   case VK_OBJECT_TYPE_BUFFER:
   case VK_OBJECT_TYPE_SAMPLER_YCBCR_CONVERSION:
      return PASS_RESOURCES;
   case VK_OBJECT_TYPE_DEVICE_MEMORY:
      return PASS_MEMORY;
   case VK_OBJECT_TYPE_QUEUE:
      return PASS_QUEUES;
   case VK_OBJECT_TYPE_DEVICE:
      return PASS_DEVICES;
   case VK_OBJECT_TYPE_PHYSICAL_DEVICE:
      return PASS_PHYSICAL_DEVICES;
   case VK_OBJECT_TYPE_INSTANCE:
      return PASS_INSTANCES;
   default:
      return PASS_USERS;
   }
}

struct teardown {
   struct pvk_context *ctx;
   struct pvk_instance *instance; /* only this instance's objects, if set */
   struct pvk_device *dev;        /* only this device's objects, if set */
   int pass;
};

static bool
teardown_selects(const struct teardown *t, const struct vn_object *obj)
{
   if (t->dev)
      return pvk_device_from_base(obj->device) == t->dev;
   if (t->instance)
      return pvk_instance_from_base(obj->instance) == t->instance ||
             (obj->device && pvk_device_from_base(obj->device)->instance == t->instance);
   return true;
}

static void
wait_idle_fn(struct vn_object *obj, void *data)
{
   struct teardown *t = data;
   if (obj->type == VK_OBJECT_TYPE_DEVICE && teardown_selects(t, obj)) {
      pvk_fence_drain_device(t->ctx, pvk_device_from_base(obj->device));
      obj->device->dispatch.vkDeviceWaitIdle(obj->device->handle);
      /* destroys deferred behind work that is now done */
      pvk_lifetime_finish(t->ctx, pvk_device_from_base(obj->device));
   }
}

static void
teardown_fn(struct vn_object *obj, void *data)
{
   struct teardown *t = data;
   if (object_pass(obj->type) != t->pass || !teardown_selects(t, obj))
      return;
   switch (t->pass) {
   case PASS_DROP_CHILDREN:
   case PASS_QUEUES:
      break;
   case PASS_MEMORY:
      pvk_device_memory_destroy(t->ctx, obj);
      return; /* removes obj */
   case PASS_DEVICES:
      pvk_loader_lock();
      obj->device->dispatch.vkDestroyDevice(obj->device->handle, NULL);
      pvk_loader_unlock();
      free(obj->device);
      break;
   case PASS_PHYSICAL_DEVICES:
      pvk_physical_device_free(obj->data);
      break;
   case PASS_INSTANCES:
      pvk_loader_lock();
      obj->instance->dispatch.vkDestroyInstance(obj->instance->handle, NULL);
      pvk_loader_unlock();
      free(obj->instance);
      break;
   default:
      vn_object_destroy_host(obj);
      break;
   }
   pvk_validate_free_state(obj);
   vn_object_table_remove(t->ctx->dispatch.objects, obj);
}

void
pvk_context_destroy_objects(struct pvk_context *ctx, struct pvk_instance *instance,
                            struct pvk_device *dev)
{
   struct teardown t = { .ctx = ctx, .instance = instance, .dev = dev };
   /* nothing may still run on the GPU while its objects go away */
   vn_object_table_foreach(ctx->dispatch.objects, wait_idle_fn, &t);
   for (t.pass = 0; t.pass < PASS_COUNT; t.pass++)
      vn_object_table_foreach(ctx->dispatch.objects, teardown_fn, &t);
}
