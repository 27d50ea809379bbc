/*
 * Host state of VkDeviceMemory objects (pvk_memory.c).
 */
#ifndef PV_VENUS_PVK_MEMORY_H
#define PV_VENUS_PVK_MEMORY_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

struct pvk_context;
struct pvk_device;
struct vn_object;
struct pvk_resource;
struct pvk_shm;

/* Per VkDeviceMemory object (obj->data). */
struct pvk_device_memory {
   VkDeviceSize size; /* accounted size */
   VkDeviceSize
      alloc_size; /* VkMemoryAllocateInfo::allocationSize (binds are checked against it) */
   uint32_t type_index;
   uint32_t pool;            /* the budget pool size is charged to (pvk_budget.h) */
   bool has_binds;           /* a buffer or image was bound to it (vkFreeMemory unbinds them) */
   struct pvk_shm *shm;      /* host-visible memory: the memfd it was imported from */
   struct pvk_resource *res; /* imported blob resource (VkImportMemoryResourceInfoMESA) */
   /* host-visible memory allocated from nothing but its size and type:
    * may serve a later allocation once freed (pvk_memory.c, reuse) */
   bool reusable;
   VkDeviceMemory handle; /* the host's */
   struct vn_object *obj; /* NULL once freed */
   /* in the device's memory_buckets while live, its reuse list once freed */
   struct pvk_device_memory *next;
};

/* Frees a VkDeviceMemory object now: host memory, its state, the table
 * entry (teardown, with the device idle). */
void pvk_device_memory_destroy(struct pvk_context *ctx, struct vn_object *obj);
/* Frees host memory whose object is gone (deferred vkFreeMemory). */
void pvk_device_memory_release(struct pvk_context *ctx, struct pvk_device *dev, uint64_t handle,
                               struct pvk_device_memory *mem);
/* Frees the host memory kept for reuse on `dev` (its teardown, or to make
 * room in the context's memory budget). */
void pvk_device_memory_flush_reuse(struct pvk_context *ctx, struct pvk_device *dev);
/* PV_MEMORY_REUSE_MIB: how much freed host-visible memory a device keeps
 * for reuse (default PVK_MEMORY_REUSE_DEFAULT_MIB; 0 turns reuse off). */
#define PVK_MEMORY_REUSE_DEFAULT_MIB 64
uint64_t pvk_device_memory_reuse_limit(void);
/* The state of a live VkDeviceMemory by host handle, or NULL. */
struct pvk_device_memory *pvk_device_memory_lookup(struct pvk_device *dev, uint64_t handle);

#endif
