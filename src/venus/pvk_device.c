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
#include "venus/pvk_premade.h"
#include "venus/pvk_resource.h"
#include "venus/pvk_semaphore.h"
#include "venus/pvk_validate.h"

/* A teardown's waits check the deadline and cancellation this often (ns). */
#define PVK_TEARDOWN_SLICE_NS (50ull * 1000 * 1000)

static bool
pd_has_ext(const struct pvk_physical_device *pd, const char *name)
{
   for (uint32_t i = 0; i < pd->ext_count; i++) {
      if (!strcmp(pd->exts[i].extensionName, name))
         return true;
   }
   return false;
}

static VkPhysicalDeviceRobustness2FeaturesEXT *
find_robustness2(const VkDeviceCreateInfo *info)
{
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ROBUSTNESS_2_FEATURES_EXT)
         return (VkPhysicalDeviceRobustness2FeaturesEXT *)s;
   }
   return NULL;
}

/* Whether the host device can take VK_NULL_HANDLE descriptors
 * (robustness2's nullDescriptor): the renderer enables it to fill new
 * descriptor sets (pvk_validate_descriptor.c). */
static bool
pd_null_descriptor(struct pvk_instance *inst, const struct pvk_physical_device *pd)
{
   if (!pd_has_ext(pd, VK_EXT_ROBUSTNESS_2_EXTENSION_NAME) ||
       !inst->dispatch.vkGetPhysicalDeviceFeatures2)
      return false;
   VkPhysicalDeviceRobustness2FeaturesEXT r2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ROBUSTNESS_2_FEATURES_EXT,
   };
   VkPhysicalDeviceFeatures2 f = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                   .pNext = &r2 };
   inst->dispatch.vkGetPhysicalDeviceFeatures2(pd->handle, &f);
   return r2.nullDescriptor;
}

/* Firewall: every queue create info names a family of the host device, once,
 * with 1..its queueCount queues and their priorities (the driver indexes its
 * queue arrays with them). Records the created queue counts. NULL or why not. */
static const char *
check_queue_infos(struct pvk_instance *inst, const struct pvk_physical_device *pd,
                  const VkDeviceCreateInfo *info, uint32_t *queue_counts, uint32_t *bad)
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
      else if (q->pNext)
         /* a global priority would take GPU time from other guests: the
          * host's setting (pv_renderer_set_device_policy), not offered */
         why = "pNext chain on a queue create info (no extension offered takes one)";
      if (why) {
         *bad = i;
         return why;
      }
      queue_counts[q->queueFamilyIndex] = q->queueCount;
   }
   return NULL;
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

/* Features the firewall's rules depend on (pvk_validate_vertex.c,
 * pvk_validate_recording.c): robustBufferAccess (vertex fetches past the
 * bound range are then bounded by the driver), the instance-rate divisor
 * and nested command buffers. */
static void
record_features(struct pvk_device *dev, struct pvk_instance *inst,
                const struct pvk_physical_device *pd, const VkDeviceCreateInfo *info)
{
   dev->robust_buffer_access = info->pEnabledFeatures && info->pEnabledFeatures->robustBufferAccess;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2)
         dev->robust_buffer_access |=
            ((const VkPhysicalDeviceFeatures2 *)s)->features.robustBufferAccess;
      else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VERTEX_ATTRIBUTE_DIVISOR_FEATURES)
         dev->vertex_divisor |= ((const VkPhysicalDeviceVertexAttributeDivisorFeatures *)s)
                                   ->vertexAttributeInstanceRateDivisor;
      else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_4_FEATURES)
         dev->vertex_divisor |=
            ((const VkPhysicalDeviceVulkan14Features *)s)->vertexAttributeInstanceRateDivisor;
      else if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_NESTED_COMMAND_BUFFER_FEATURES_EXT)
         dev->nested_command_buffers |=
            ((const VkPhysicalDeviceNestedCommandBufferFeaturesEXT *)s)->nestedCommandBuffer;
   }
   if (dev->nested_command_buffers && inst->dispatch.vkGetPhysicalDeviceProperties2) {
      VkPhysicalDeviceNestedCommandBufferPropertiesEXT nested = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_NESTED_COMMAND_BUFFER_PROPERTIES_EXT,
      };
      VkPhysicalDeviceProperties2 props = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                            .pNext = &nested };
      inst->dispatch.vkGetPhysicalDeviceProperties2(pd->handle, &props);
      dev->max_nesting = nested.maxCommandBufferNestingLevel;
   }
   if (!dev->max_nesting)
      dev->max_nesting = 1;
}

/* vkCreateDevice and the new device's dispatch, under the loader lock */
static VkResult
host_create_device(struct pvk_instance *inst, const struct pvk_physical_device *pd,
                   const VkDeviceCreateInfo *info, struct pvk_device *dev, VkDevice *handle)
{
   pvk_loader_lock();
   VkResult res = inst->dispatch.vkCreateDevice(pd->handle, info, NULL, handle);
   if (res == VK_SUCCESS)
      vn_device_dispatch_init(&dev->dispatch, inst->dispatch.vkGetDeviceProcAddr, *handle);
   pvk_loader_unlock();
   return res;
}

/* vkCreateDevice with every queue at `priority` when the host takes one
 * (queues: room for info's queue infos; names: for one more extension).
 * A driver that refuses the class gets the create info as it was: the
 * guest still gets its device, at the driver's default. */
static VkResult
create_device_prioritized(struct pvk_instance *inst, const struct pvk_physical_device *pd,
                          VkDeviceCreateInfo *info, const char **names, uint32_t priority,
                          VkDeviceQueueCreateInfo *queues, struct pvk_device *dev, VkDevice *handle)
{
   if (!priority)
      return host_create_device(inst, pd, info, dev, handle);
   if (!pd->queue_priority_ext) {
      pv_warn("venus",
              "queue priority %u: the host device has no global priority extension: "
              "the driver's default",
              priority);
      return host_create_device(inst, pd, info, dev, handle);
   }
   const VkDeviceQueueGlobalPriorityCreateInfoKHR global = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_GLOBAL_PRIORITY_CREATE_INFO_KHR,
      .globalPriority = (VkQueueGlobalPriorityKHR)priority,
   };
   /* the guest's queue infos have no pNext (check_queue_infos) */
   for (uint32_t i = 0; i < info->queueCreateInfoCount; i++) {
      queues[i] = info->pQueueCreateInfos[i];
      queues[i].pNext = &global;
   }
   VkDeviceCreateInfo prioritized = *info;
   prioritized.pQueueCreateInfos = queues;
   names[prioritized.enabledExtensionCount++] = pd->queue_priority_ext;
   prioritized.ppEnabledExtensionNames = names;
   VkResult res = host_create_device(inst, pd, &prioritized, dev, handle);
   if (res == VK_ERROR_NOT_PERMITTED_KHR || res == VK_ERROR_INITIALIZATION_FAILED) {
      pv_warn("venus",
              "queue priority %u refused by the host driver (VkResult %d): the "
              "driver's default",
              priority, (int)res);
      res = host_create_device(inst, pd, info, dev, handle);
   }
   return res;
}

VkResult
pvk_device_create_host(struct pvk_context *ctx, struct pvk_instance *inst,
                       struct pvk_physical_device *pd, const VkDeviceCreateInfo *guest,
                       uint32_t queue_priority, struct pvk_device **out)
{
   *out = NULL;
   if ((guest->queueCreateInfoCount && !guest->pQueueCreateInfos) ||
       (guest->enabledExtensionCount && !guest->ppEnabledExtensionNames)) {
      if (ctx)
         pvk_context_set_lost(ctx, "vkCreateDevice: array without elements");
      return VK_ERROR_INITIALIZATION_FAILED;
   }
   /* queues the guest may ask for later (vkGetDeviceQueue*) */
   uint32_t queue_counts[PVK_MAX_QUEUE_FAMILIES] = { 0 };
   uint32_t bad = 0;
   const char *why = check_queue_infos(inst, pd, guest, queue_counts, &bad);
   if (why) {
      const struct VkDeviceQueueCreateInfo *q = &guest->pQueueCreateInfos[bad];
      if (ctx)
         pvk_reject(ctx, "queue: vkCreateDevice queue info %u: %s (family %u, count %u)", bad, why,
                    q->queueFamilyIndex, q->queueCount);
      else
         pv_warn("venus", "pre-made device: queue info %u: %s (family %u, count %u)", bad, why,
                 q->queueFamilyIndex, q->queueCount);
      return VK_ERROR_INITIALIZATION_FAILED;
   }

   /* the guest's extensions (only advertised ones, less the renderer's
    * own) + external_memory_host, robustness2 and the queue priority's */
   const char **names = calloc(guest->enabledExtensionCount + 3, sizeof(*names));
   if (!names)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   uint32_t count = 0;
   bool has_host_ptr = false, has_robustness2 = false;
   for (uint32_t i = 0; i < guest->enabledExtensionCount; i++) {
      const char *name = guest->ppEnabledExtensionNames[i];
      if (!name || !pd_has_ext(pd, name)) {
         free(names);
         return VK_ERROR_EXTENSION_NOT_PRESENT;
      }
      has_host_ptr |= !strcmp(name, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
      has_robustness2 |= !strcmp(name, VK_EXT_ROBUSTNESS_2_EXTENSION_NAME);
      if (!strcmp(name, PVK_SEMAPHORE_SYNC_FD_EXTENSION))
         continue; /* the renderer's own (pvk_semaphore.h) */
      names[count++] = name;
   }
   const bool host_ptr = pd->host_ptr_alignment != 0;
   if (host_ptr && !has_host_ptr)
      names[count++] = VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME;

   /* nullDescriptor, for filling new descriptor sets: set in the guest's
    * own robustness2 struct for the call (restored after), else chained */
   const bool null_descriptor = pd_null_descriptor(inst, pd);
   if (null_descriptor && !has_robustness2)
      names[count++] = VK_EXT_ROBUSTNESS_2_EXTENSION_NAME;
   VkPhysicalDeviceRobustness2FeaturesEXT *guest_r2 = find_robustness2(guest);
   const VkBool32 guest_null = guest_r2 ? guest_r2->nullDescriptor : VK_FALSE;
   VkPhysicalDeviceRobustness2FeaturesEXT r2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ROBUSTNESS_2_FEATURES_EXT,
      .pNext = (void *)guest->pNext,
      .nullDescriptor = VK_TRUE,
   };

   VkDeviceCreateInfo info = *guest;
   if (null_descriptor && !guest_r2)
      info.pNext = &r2;
   info.enabledLayerCount = 0;
   info.ppEnabledLayerNames = NULL;
   info.enabledExtensionCount = count;
   info.ppEnabledExtensionNames = names;

   struct pvk_device *dev = calloc(1, sizeof(*dev));
   if (!dev) {
      free(names);
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   }
   VkDevice handle;
   if (null_descriptor && guest_r2)
      guest_r2->nullDescriptor = VK_TRUE;
   VkDeviceQueueCreateInfo queues[PVK_MAX_QUEUE_FAMILIES]; /* one per family at most */
   VkResult res =
      create_device_prioritized(inst, pd, &info, names, queue_priority, queues, dev, &handle);
   if (guest_r2)
      guest_r2->nullDescriptor = guest_null;
   free(names);
   if (res != VK_SUCCESS) {
      free(dev);
      return res;
   }
   dev->handle = handle;
   dev->physical_device = pd;
   dev->instance = inst;
   dev->host_ptr_import = host_ptr;
   dev->reuse_limit = pvk_device_memory_reuse_limit();
   dev->index_type_uint8 = enables_index_type_uint8(guest);
   dev->robust_buffer_access2 = guest_r2 && guest_r2->robustBufferAccess2;
   record_features(dev, inst, pd, guest);
   dev->sparse_binding = enables_sparse_binding(guest);
   dev->null_descriptor = null_descriptor;
   dev->spirv_features = pvk_spirv_features(guest);
   memcpy(dev->queue_counts, queue_counts, sizeof(queue_counts));
   *out = dev;
   return VK_SUCCESS;
}

void
pvk_device_destroy_host(struct pvk_device *dev)
{
   if (!dev)
      return;
   if (dev->fill_sampler)
      dev->dispatch.vkDestroySampler(dev->handle, dev->fill_sampler, NULL);
   for (int i = 0; i < 2; i++) {
      if (dev->push_layouts[i])
         dev->dispatch.vkDestroyPipelineLayout(dev->handle, dev->push_layouts[i], NULL);
   }
   pvk_loader_lock();
   dev->dispatch.vkDestroyDevice(dev->handle, NULL);
   pvk_loader_unlock();
   free(dev);
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
   /* the device made ahead with the instance, if it was made from an
    * identical create info on this physical device; otherwise destroyed */
   struct pvk_key key = { 0 };
   const bool keyed = pvk_key_device_info(guest, &key);
   struct pvk_device *dev = pvk_premade_claim_device(inst, pd, keyed ? &key : NULL);
   if (dev) {
      pv_info("venus", "context %u: vkCreateDevice: took the device made ahead (pre-made)",
              ctx->ctx_id);
      pvk_renderer_count_premade(ctx->renderer, true);
      args->ret = VK_SUCCESS;
   } else {
      args->ret = pvk_device_create_host(ctx, inst, pd, guest, ctx->policy.queue_priority, &dev);
      if (args->ret != VK_SUCCESS) {
         pvk_key_fini(&key);
         return;
      }
   }
   /* the next guest's process makes its device ahead from this one's */
   if (keyed)
      pvk_renderer_report_recipe(ctx->renderer, inst, pd->handle, &key);
   pvk_key_fini(&key);

   struct vn_object *obj = vn_object_table_insert(ctx->dispatch.objects, id, VK_OBJECT_TYPE_DEVICE,
                                                  (uint64_t)(uintptr_t)dev->handle);
   if (!obj) {
      pvk_device_destroy_host(dev);
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
   uint64_t deadline_ns; /* for the devices to go idle (CLOCK_MONOTONIC) */
   bool cancellable;     /* a guest's destroy: give up when the context ends */
   uint32_t abandoned;   /* devices left behind */
};

static bool
teardown_covers(const struct teardown *t, const struct vn_object *obj)
{
   if (t->dev)
      return pvk_device_from_base(obj->device) == t->dev;
   if (t->instance)
      return pvk_instance_from_base(obj->instance) == t->instance ||
             (obj->device && pvk_device_from_base(obj->device)->instance == t->instance);
   return true;
}

/* Objects of an abandoned device, and its instance, stay as they are. */
static bool
teardown_selects(const struct teardown *t, const struct vn_object *obj)
{
   if (obj->device)
      return !pvk_device_from_base(obj->device)->abandoned && teardown_covers(t, obj);
   if (obj->instance && pvk_instance_from_base(obj->instance)->abandoned_devices)
      return false;
   return teardown_covers(t, obj);
}

struct queue_sweep {
   struct pvk_device *dev;
   uint64_t only; /* that queue's handle; 0: every queue of dev */
   VkFence *fences;
   uint32_t count, capacity;
   bool failed;
};

static void
count_device_queues(struct vn_object *obj, void *data)
{
   struct queue_sweep *q = data;
   if (obj->type == VK_OBJECT_TYPE_QUEUE && pvk_device_from_base(obj->device) == q->dev &&
       (!q->only || obj->handle == q->only))
      q->capacity++;
}

static void
fence_device_queue(struct vn_object *obj, void *data)
{
   struct queue_sweep *q = data;
   if (obj->type != VK_OBJECT_TYPE_QUEUE || pvk_device_from_base(obj->device) != q->dev ||
       (q->only && obj->handle != q->only) || q->count >= q->capacity)
      return;
   const VkFenceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   if (q->dev->dispatch.vkCreateFence(q->dev->handle, &info, NULL, &fence) != VK_SUCCESS) {
      q->failed = true;
      return;
   }
   if (q->dev->dispatch.vkQueueSubmit((VkQueue)(uintptr_t)obj->handle, 0, NULL, fence) !=
       VK_SUCCESS) {
      q->dev->dispatch.vkDestroyFence(q->dev->handle, fence, NULL);
      q->failed = true;
      return;
   }
   q->fences[q->count++] = fence;
}

/* An empty submission with a fence on each of the device's queues signals
 * once everything submitted to that queue before has finished, tracked or
 * not (pvk_lifetime.h): waits for them until the deadline. False when a
 * queue did not go idle in time or could not be checked. */
static bool
gave_up(const struct teardown *t)
{
   return pvk_now_ns() >= t->deadline_ns ||
          (t->cancellable && (pvk_transport_cancelled(t->ctx) || pvk_context_is_lost(t->ctx)));
}

static bool
queues_wait_idle(struct teardown *t, struct pvk_device *dev, uint64_t only)
{
   struct queue_sweep q = { .dev = dev, .only = only };
   vn_object_table_foreach(t->ctx->dispatch.objects, count_device_queues, &q);
   if (!q.capacity)
      return true;
   q.fences = calloc(q.capacity, sizeof(*q.fences));
   if (!q.fences)
      return false;
   vn_object_table_foreach(t->ctx->dispatch.objects, fence_device_queue, &q);
   /* a device found idle by its tracked fences right at the deadline gets
    * one slice for these (they were only just submitted) */
   struct teardown sweep = *t;
   const uint64_t grace = pvk_now_ns() + PVK_TEARDOWN_SLICE_NS;
   if (sweep.deadline_ns < grace)
      sweep.deadline_ns = grace;
   bool idle = !q.failed;
   for (uint32_t done = 0; idle && done < q.count;) {
      if (gave_up(&sweep)) {
         idle = false;
         break;
      }
      const uint64_t left = sweep.deadline_ns - pvk_now_ns();
      const VkResult r =
         dev->dispatch.vkWaitForFences(dev->handle, 1, &q.fences[done], VK_TRUE,
                                       left < PVK_TEARDOWN_SLICE_NS ? left : PVK_TEARDOWN_SLICE_NS);
      if (r != VK_TIMEOUT)
         done++; /* signalled, or the device is lost: nothing runs */
   }
   for (uint32_t i = 0; i < q.count; i++) {
      if (idle)
         dev->dispatch.vkDestroyFence(dev->handle, q.fences[i], NULL);
      else
         pvk_fence_leave(t->ctx, dev, q.fences[i]); /* destroyed once signalled */
   }
   free(q.fences);
   return idle;
}

static void
set_abandoned(struct pvk_device *dev, bool abandoned)
{
   if (dev->abandoned == abandoned)
      return;
   dev->abandoned = abandoned;
   if (abandoned)
      dev->instance->abandoned_devices++;
   else
      dev->instance->abandoned_devices--;
}

/* Nothing may still run on the GPU while its objects go away: waits for
 * the device's tracked submissions, its queues and the context's fences on
 * it, each with what is left of the deadline. A device that does not go
 * idle in time is abandoned: none of its objects is destroyed (the driver
 * may still use them), nor the device. */
static void
wait_idle_fn(struct vn_object *obj, void *data)
{
   struct teardown *t = data;
   if (obj->type != VK_OBJECT_TYPE_DEVICE || !teardown_covers(t, obj))
      return;
   struct pvk_device *dev = pvk_device_from_base(obj->device);
   const bool idle = pvk_lifetime_wait_idle(t->ctx, dev, t->deadline_ns, t->cancellable) &&
                     queues_wait_idle(t, dev, 0) &&
                     pvk_fence_drain_device(t->ctx, dev, t->deadline_ns, t->cancellable);
   set_abandoned(dev, !idle);
   if (idle) {
      /* destroys deferred behind work that is now done */
      pvk_lifetime_finish(t->ctx, dev);
      return;
   }
   t->abandoned++;
   if (t->cancellable) {
      pv_debug("venus", "context %u: device %llu not destroyed: the context ended first",
               t->ctx->ctx_id, (unsigned long long)obj->id);
      return;
   }
   pv_warn("venus",
           "context %u (%s): device %llu did not go idle by the teardown deadline "
           "(%u tracked submissions still pending): abandoned; its host objects and memory "
           "stay allocated until the process exits",
           t->ctx->ctx_id, t->ctx->name, (unsigned long long)obj->id, dev->lifetime.pending_count);
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
      if (obj->retired)
         pvk_renderer_count_destroys(t->ctx->renderer, 0, 1);
      pvk_device_memory_flush_reuse(t->ctx, pvk_device_from_base(obj->device));
      pvk_device_destroy_host(pvk_device_from_base(obj->device));
      break;
   case PASS_PHYSICAL_DEVICES:
      pvk_physical_device_free(obj->data);
      break;
   case PASS_INSTANCES:
      if (obj->retired)
         pvk_renderer_count_destroys(t->ctx->renderer, 0, 1);
      pvk_instance_destroy_host(pvk_instance_from_base(obj->instance));
      break;
   default:
      vn_object_destroy_host(obj);
      break;
   }
   pvk_validate_free_state(obj);
   vn_object_table_remove(t->ctx->dispatch.objects, obj);
}

static uint32_t
destroy_objects(struct teardown *t)
{
   vn_object_table_foreach(t->ctx->dispatch.objects, wait_idle_fn, t);
   for (t->pass = 0; t->pass < PASS_COUNT; t->pass++)
      vn_object_table_foreach(t->ctx->dispatch.objects, teardown_fn, t);
   return t->abandoned;
}

/* Devices and instances whose guest destroy was deferred, per context (on
 * top, those of the destroy being deferred). */
struct retire_count {
   struct teardown *t;
   uint32_t devices, instances;
   uint32_t retired_devices, retired_instances; /* already retired */
};

static void
retire_count_fn(struct vn_object *obj, void *data)
{
   struct retire_count *c = data;
   const bool device = obj->type == VK_OBJECT_TYPE_DEVICE;
   if (!device && obj->type != VK_OBJECT_TYPE_INSTANCE)
      return;
   if (obj->retired) {
      c->retired_devices += device;
      c->retired_instances += !device;
   } else if (teardown_covers(c->t, obj)) {
      c->devices += device;
      c->instances += !device;
   }
}

static void
retire_fn(struct vn_object *obj, void *data)
{
   struct teardown *t = data;
   if (!obj->retired && teardown_covers(t, obj))
      vn_object_table_retire(t->ctx->dispatch.objects, obj);
}

/* Takes the objects of a guest's destroy away from the guest (their ids
 * free) and leaves their host destruction to the context's teardown, when
 * the context then has at most PVK_DEFERRED_DEVICES devices and
 * PVK_DEFERRED_INSTANCES instances waiting so. False: destroy them now. */
static bool
retire_objects(struct teardown *t)
{
   struct retire_count c = { .t = t };
   vn_object_table_foreach(t->ctx->dispatch.objects, retire_count_fn, &c);
   if (c.devices + c.instances == 0 || c.retired_devices + c.devices > PVK_DEFERRED_DEVICES ||
       c.retired_instances + c.instances > PVK_DEFERRED_INSTANCES)
      return false;
   vn_object_table_foreach(t->ctx->dispatch.objects, retire_fn, t);
   pvk_renderer_count_destroys(t->ctx->renderer, c.devices + c.instances, 0);
   pv_info("venus",
           "context %u: %u device(s), %u instance(s) destroyed by the guest: host destroy "
           "deferred to the context's teardown",
           t->ctx->ctx_id, c.devices, c.instances);
   return true;
}

void
pvk_context_destroy_objects(struct pvk_context *ctx, struct pvk_instance *instance,
                            struct pvk_device *dev)
{
   struct teardown t = {
      .ctx = ctx, .instance = instance, .dev = dev, .deadline_ns = UINT64_MAX, .cancellable = true
   };
   if (retire_objects(&t))
      return;
   destroy_objects(&t);
}

uint32_t
pvk_context_teardown_objects(struct pvk_context *ctx, uint64_t deadline_ns)
{
   struct teardown t = { .ctx = ctx, .deadline_ns = deadline_ns };
   return destroy_objects(&t);
}

/* A guest's vkQueueWaitIdle / vkDeviceWaitIdle (Mesa's driver waits on
 * fences instead; another guest may send them): the driver's own calls
 * cannot be bounded, so an empty fenced submission on each queue is waited
 * for in slices until it is done, the context lost or its teardown. A
 * queue that never drains then holds only this context, and only until
 * its teardown. A direct stream runs on the transport's thread, which the
 * teardown itself (and a VMM's other commands) come through: there the
 * wait ends at the firewall's wait limit too. */
static VkResult
guest_wait_idle(struct pvk_context *ctx, struct pvk_device *dev, uint64_t queue)
{
   const uint64_t deadline =
      ctx->transport.executing ? UINT64_MAX : pvk_now_ns() + ctx->firewall_wait_limit_ns;
   struct teardown t = { .ctx = ctx, .deadline_ns = deadline, .cancellable = true };
   if (queues_wait_idle(&t, dev, queue)) {
      pvk_lifetime_poll(ctx, dev); /* deferred destroys now due */
      return VK_SUCCESS;
   }
   return gave_up(&t) ? VK_ERROR_DEVICE_LOST : VK_ERROR_OUT_OF_HOST_MEMORY;
}

void
vn_handle_vkQueueWaitIdle(struct vn_dispatch_context *dctx, struct vn_command_vkQueueWaitIdle *args)
{
   if (!args->dispatch || !args->dispatch->device)
      return;
   args->ret =
      guest_wait_idle(pvk_context_from_dispatch(dctx), pvk_device_from_base(args->dispatch->device),
                      (uint64_t)(uintptr_t)args->queue);
}

void
vn_handle_vkDeviceWaitIdle(struct vn_dispatch_context *dctx,
                           struct vn_command_vkDeviceWaitIdle *args)
{
   if (!args->dispatch || !args->dispatch->device)
      return;
   args->ret = guest_wait_idle(pvk_context_from_dispatch(dctx),
                               pvk_device_from_base(args->dispatch->device), 0);
}
