/*
 * Host state of VkDevice objects, and object teardown (vn_device.c).
 */
#ifndef PV_VENUS_VN_DEVICE_H
#define PV_VENUS_VN_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "venus/vn_dispatch.h"

#define VN_MAX_QUEUE_FAMILIES 16
#define VN_MEMORY_BUCKETS 256

struct vn_context;
struct vn_device_memory;
struct vn_instance;
struct vn_physical_device;

/* Per VkDevice object (obj->device). Starts with the part generated
 * executors call through (vn_dispatch.h); `handle` and `dispatch` name the
 * same members. */
struct vn_device {
   union {
      struct vn_dispatch_device base;
      struct {
         VkDevice handle;
         struct vn_device_dispatch dispatch;
      };
   };
   struct vn_physical_device *physical_device;
   struct vn_instance *instance;
   bool host_ptr_import; /* VK_EXT_external_memory_host enabled */
   uint32_t queue_counts[VN_MAX_QUEUE_FAMILIES]; /* created queues per family */
   /* host VkDeviceMemory -> its object: vkFreeMemory gets host handles */
   struct vn_device_memory *memory_buckets[VN_MEMORY_BUCKETS];
};

_Static_assert(offsetof(struct vn_device, base) == 0, "obj->device points at the start");

/* The device an object belongs to (NULL for none). */
static inline struct vn_device *
vn_device_from_base(struct vn_dispatch_device *base)
{
   return (struct vn_device *)base;
}

static inline struct vn_dispatch_device *
vn_device_base(struct vn_device *dev)
{
   return dev ? &dev->base : NULL;
}

/* Destroys every object of the context, children first. When `dev` /
 * `instance` is non-NULL only that device's / instance's objects. */
void vn_context_destroy_objects(struct vn_context *ctx, struct vn_instance *instance,
                                struct vn_device *dev);

#endif
