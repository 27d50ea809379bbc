/*
 * Host state of VkDeviceMemory objects (vn_memory.c).
 */
#ifndef PV_VENUS_VN_MEMORY_H
#define PV_VENUS_VN_MEMORY_H

#include <stdint.h>
#include <vulkan/vulkan.h>

struct vn_context;
struct vn_object;
struct vn_resource;
struct vn_shm;

/* Per VkDeviceMemory object (obj->data). */
struct vn_device_memory {
   VkDeviceSize size;       /* accounted size */
   uint32_t type_index;
   struct vn_shm *shm;      /* host-visible memory: the memfd it was imported from */
   struct vn_resource *res; /* imported blob resource (VkImportMemoryResourceInfoMESA) */
   struct vn_object *obj;
   struct vn_device_memory *next; /* in the device's memory_buckets */
};

/* Frees a VkDeviceMemory object: host memory, its state, the table entry. */
void vn_device_memory_destroy(struct vn_context *ctx, struct vn_object *obj);

#endif
