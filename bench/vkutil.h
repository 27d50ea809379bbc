/*
 * pvbench Vulkan helpers: one instance, device, queue, command pool, fence,
 * plus buffers and images with bound memory. Used by the worker processes;
 * the driver under test is whatever ICD the loader was given
 * (VK_ICD_FILENAMES), pvbench never names one itself.
 *
 * Every function returns a VkResult; on failure it writes a one-line reason
 * into b->err (kept until the next failure) and leaves outputs untouched.
 */
#ifndef PVBENCH_VKUTIL_H
#define PVBENCH_VKUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <vulkan/vulkan.h>

struct vkb {
   VkInstance instance;
   VkPhysicalDevice pdev;
   VkDevice dev;
   VkQueue queue;
   uint32_t qfam;
   VkPhysicalDeviceProperties props;
   VkPhysicalDeviceMemoryProperties memprops;
   VkCommandPool pool;
   VkFence fence;
   /* set before vkb_init: the queue's global priority
    * (VK_KHR/EXT_global_priority), 0 for none chained */
   VkQueueGlobalPriorityKHR priority;
   char err[256];
};

struct vkb_buffer {
   VkBuffer buf;
   VkDeviceMemory mem;
   VkDeviceSize size;
   void *map; /* non-NULL when host-visible (persistently mapped) */
};

struct vkb_image {
   VkImage image;
   VkDeviceMemory mem;
   VkFormat format;
   uint32_t width, height;
};

/* Instance + first physical device + device with one graphics+compute queue,
 * a resettable command pool and an unsignaled fence. */
VkResult vkb_init(struct vkb *b);
void vkb_fini(struct vkb *b);

/* Only the instance/device part, for the creation-rate workload. */
VkResult vkb_create_instance(struct vkb *b);
VkResult vkb_create_device(struct vkb *b);

VkResult vkb_buffer_create(struct vkb *b, VkDeviceSize size, VkBufferUsageFlags usage,
                           bool host_visible, struct vkb_buffer *out);
void vkb_buffer_destroy(struct vkb *b, struct vkb_buffer *buf);

/* Optimal-tiling 2D image in device-local memory. */
VkResult vkb_image_create(struct vkb *b, uint32_t w, uint32_t h, VkFormat format,
                          VkImageUsageFlags usage, struct vkb_image *out);
void vkb_image_destroy(struct vkb *b, struct vkb_image *img);

VkResult vkb_cmd_alloc(struct vkb *b, VkCommandBuffer *out);
VkResult vkb_cmd_begin(struct vkb *b, VkCommandBuffer cmd, bool one_time);
VkResult vkb_cmd_end(struct vkb *b, VkCommandBuffer cmd);

/* Submits cmd (or nothing when cmd is VK_NULL_HANDLE) with b->fence, waits
 * for it (timeout_ns) and resets the fence. */
VkResult vkb_submit_wait(struct vkb *b, VkCommandBuffer cmd, uint64_t timeout_ns);

/* Records a layout transition of the whole colour image. */
void vkb_cmd_image_barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout from, VkImageLayout to,
                           VkAccessFlags src_access, VkAccessFlags dst_access,
                           VkPipelineStageFlags src_stage, VkPipelineStageFlags dst_stage);

/* One global memory barrier. */
void vkb_cmd_memory_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stage,
                            VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                            VkAccessFlags dst_access);

/* Buffer -> host visibility barrier after a transfer write. */
void vkb_cmd_host_read_barrier(VkCommandBuffer cmd);

VkResult vkb_shader_module(struct vkb *b, const uint32_t *code, size_t size, VkShaderModule *out);

/* Loads the driver library named by the first ICD json in VK_DRIVER_FILES /
 * VK_ICD_FILENAMES with RTLD_NODELETE, so that destroying the last instance
 * does not unload it: repeated instance creation then measures the driver,
 * not dlopen, and leak reports from third-party drivers stay attributable
 * (suppressible) under LeakSanitizer. Returns 0 or negative errno. */
int vkb_pin_driver(void);

/* Records err for a failed call and returns res, for one-line error paths. */
VkResult vkb_fail(struct vkb *b, VkResult res, const char *what);

const char *vkb_result_str(VkResult res);

#endif
