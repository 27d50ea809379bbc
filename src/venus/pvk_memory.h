/*
 * Host state of VkDeviceMemory objects (pvk_memory.c).
 */
#ifndef PV_VENUS_PVK_MEMORY_H
#define PV_VENUS_PVK_MEMORY_H

#include <stdint.h>
#include <vulkan/vulkan.h>

struct pvk_context;
struct vn_object;
struct pvk_resource;
struct pvk_shm;

/* Per VkDeviceMemory object (obj->data). */
struct pvk_device_memory {
   VkDeviceSize size;       /* accounted size */
   uint32_t type_index;
   struct pvk_shm *shm;      /* host-visible memory: the memfd it was imported from */
   struct pvk_resource *res; /* imported blob resource (VkImportMemoryResourceInfoMESA) */
   struct vn_object *obj;
   struct pvk_device_memory *next; /* in the device's memory_buckets */
};

/* Frees a VkDeviceMemory object: host memory, its state, the table entry. */
void pvk_device_memory_destroy(struct pvk_context *ctx, struct vn_object *obj);

#endif
