/*
 * Host state of VkDevice objects, and object teardown (pvk_device.c).
 */
#ifndef PV_VENUS_PVK_DEVICE_H
#define PV_VENUS_PVK_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "venus/pvk_lifetime.h"
#include "venus/vn_dispatch.h"

#define PVK_MAX_QUEUE_FAMILIES 16
#define PVK_MEMORY_BUCKETS 256

struct pvk_context;
struct pvk_device_memory;
struct pvk_instance;
struct pvk_physical_device;

/* Per VkDevice object (obj->device). Starts with the part generated
 * executors call through (vn_dispatch.h); `handle` and `dispatch` name the
 * same members. */
struct pvk_device {
   union {
      struct vn_dispatch_device base;
      struct {
         VkDevice handle;
         struct vn_device_dispatch dispatch;
      };
   };
   struct pvk_physical_device *physical_device;
   struct pvk_instance *instance;
   bool host_ptr_import;                          /* VK_EXT_external_memory_host enabled */
   bool index_type_uint8;                         /* the indexTypeUint8 feature enabled */
   bool sparse_binding;                           /* the sparseBinding feature enabled */
   uint32_t queue_counts[PVK_MAX_QUEUE_FAMILIES]; /* created queues per family */
   /* host VkDeviceMemory -> its object: vkFreeMemory gets host handles */
   struct pvk_device_memory *memory_buckets[PVK_MEMORY_BUCKETS];
   struct pvk_lifetime lifetime; /* submissions and deferred destruction */
};

_Static_assert(offsetof(struct pvk_device, base) == 0, "obj->device points at the start");

/* The device an object belongs to (NULL for none). */
static inline struct pvk_device *
pvk_device_from_base(struct vn_dispatch_device *base)
{
   return (struct pvk_device *)base;
}

static inline struct vn_dispatch_device *
pvk_device_base(struct pvk_device *dev)
{
   return dev ? &dev->base : NULL;
}

/* Destroys every object of the context, children first. When `dev` /
 * `instance` is non-NULL only that device's / instance's objects. */
void pvk_context_destroy_objects(struct pvk_context *ctx, struct pvk_instance *instance,
                                 struct pvk_device *dev);

#endif
