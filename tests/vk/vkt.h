/*
 * vkt: the small helper library shared by the Vulkan test programs.
 *
 * Each test program is headless, deterministic and writes its results (raw
 * readback bytes, query results, ...) to the file named by argv[1]; the
 * runner (tests/run-compare.sh) compares that file between a native run and a
 * run through PearVisor.
 *
 * Contract:
 *  - Every function returns VkResult; anything other than VK_SUCCESS has
 *    already been logged once (pv_error, tag "vkt") with file and line.
 *  - Objects made through the helpers (or handed to vkt_track) are destroyed
 *    by vkt_finish in reverse order of creation, so programs do not clean up.
 *  - When VK_EXT_debug_utils is available (always on lavapipe; with
 *    VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation it carries validation
 *    messages), every message of error severity is logged and makes the
 *    program fail.
 *  - vkt_finish prints "vkt: <name>: wall <seconds> s on <device>" to stderr
 *    (tests/run-compare.sh reads it) and returns the process exit status:
 *    0 only when everything succeeded.
 *
 * Typical program:
 *    int main(int argc, char **argv) {
 *       struct vkt_ctx ctx;
 *       if (vkt_init(&ctx, argc, argv, "clear", NULL) != VK_SUCCESS)
 *          return 1;
 *       return vkt_finish(&ctx, run(&ctx));
 *    }
 */
#ifndef PV_TESTS_VKT_H
#define PV_TESTS_VKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <vulkan/vulkan.h>

#include "common/log.h"

/* Logs a failed Vulkan call (or self-check) with its location. */
void vkt_fail(const char *file, int line, const char *what, VkResult result);

/* Runs a VkResult expression; on failure logs it and returns the result. */
#define VKT_CHECK(expr)                               \
   do {                                               \
      VkResult vkt_r_ = (expr);                       \
      if (vkt_r_ != VK_SUCCESS) {                     \
         vkt_fail(__FILE__, __LINE__, #expr, vkt_r_); \
         return vkt_r_;                               \
      }                                               \
   } while (0)

/* Self-check: on a false condition logs the message and returns
 * VK_ERROR_UNKNOWN from the calling function. */
#define VKT_EXPECT(cond, ...)                                                   \
   do {                                                                         \
      if (!(cond)) {                                                            \
         pv_error("vkt", "%s:%d: check failed: %s", __FILE__, __LINE__, #cond); \
         pv_error("vkt", __VA_ARGS__);                                          \
         return VK_ERROR_UNKNOWN;                                               \
      }                                                                         \
   } while (0)

/* Device features a program needs beyond Vulkan 1.1 core defaults. */
struct vkt_options {
   bool timeline_semaphore;      /* VkPhysicalDeviceTimelineSemaphoreFeatures */
   bool occlusion_query_precise; /* exact occlusion sample counts */
   bool vulkan13;                /* a Vulkan 1.3 instance and device, with the
                                    dynamicRendering and synchronization2
                                    features */
};

struct vkt_tracked {
   VkObjectType type;
   uint64_t handle;
};

struct vkt_ctx {
   const char *name;
   struct timespec start;
   FILE *out;

   VkInstance instance;
   VkDebugUtilsMessengerEXT messenger;
   PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger;
   uint32_t validation_errors; /* error-severity debug messages seen */

   VkPhysicalDevice physical_device;
   VkPhysicalDeviceProperties props;
   VkPhysicalDeviceMemoryProperties mem_props;
   uint32_t queue_family;
   uint32_t timestamp_valid_bits;

   VkDevice device;
   VkQueue queue;
   VkCommandPool cmd_pool; /* resettable command buffers */

   struct vkt_tracked *tracked; /* destroyed in reverse by vkt_finish */
   size_t tracked_count, tracked_cap;
};

/* A buffer with its own memory; map is non-NULL for host-visible memory
 * (mapped for the buffer's whole life). */
struct vkt_buffer {
   VkBuffer buffer;
   VkDeviceMemory memory;
   VkDeviceSize size;
   uint32_t memory_type;
   void *map;
};

/* A 2D, single-mip, single-layer image in device-local memory, with a view
 * when its usage allows one. */
struct vkt_image {
   VkImage image;
   VkDeviceMemory memory;
   VkImageView view;
   VkFormat format;
   uint32_t width, height;
   uint32_t texel_size; /* bytes per texel of format */
};

/* Parses argv (argv[1]: output file), creates instance, device, queue and
 * command pool; logs and cleans up on failure. opts may be NULL. */
VkResult vkt_init(struct vkt_ctx *ctx, int argc, char **argv, const char *name,
                  const struct vkt_options *opts);

/* Waits idle, destroys everything, closes the output, prints the wall time.
 * Returns the exit status (0 only if result is VK_SUCCESS, the output was
 * written and no validation error was seen). */
int vkt_finish(struct vkt_ctx *ctx, VkResult result);

/* Registers an object for destruction by vkt_finish. On allocation failure
 * destroys it at once and returns VK_ERROR_OUT_OF_HOST_MEMORY. */
VkResult vkt_track(struct vkt_ctx *ctx, VkObjectType type, uint64_t handle);
#define VKT_HANDLE(h) ((uint64_t)(uintptr_t)(h))

/* Appends bytes to the output file. */
VkResult vkt_output(struct vkt_ctx *ctx, const void *data, size_t size);

/* Index of a memory type allowed by type_bits that has all of required;
 * among those, one that also has all of preferred if any. -1 if none. */
int vkt_memory_type(const struct vkt_ctx *ctx, uint32_t type_bits, VkMemoryPropertyFlags required,
                    VkMemoryPropertyFlags preferred);

VkResult vkt_create_buffer(struct vkt_ctx *ctx, VkDeviceSize size, VkBufferUsageFlags usage,
                           VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred,
                           struct vkt_buffer *out);

/* Host-visible, coherent buffer usable as transfer source and destination. */
VkResult vkt_create_host_buffer(struct vkt_ctx *ctx, VkDeviceSize size, VkBufferUsageFlags usage,
                                struct vkt_buffer *out);

/* Invalidates the whole mapping when the memory is not host-coherent. */
VkResult vkt_invalidate_buffer(struct vkt_ctx *ctx, const struct vkt_buffer *buf);

VkResult vkt_create_image(struct vkt_ctx *ctx, VkFormat format, uint32_t width, uint32_t height,
                          VkImageUsageFlags usage, struct vkt_image *out);

VkResult vkt_create_shader(struct vkt_ctx *ctx, const uint32_t *code, size_t code_size,
                           VkShaderModule *out);

/* Render pass with one color attachment of `format`; external dependencies
 * cover transfer/color writes before and transfer reads after it. */
VkResult vkt_create_color_pass(struct vkt_ctx *ctx, VkFormat format, VkAttachmentLoadOp load_op,
                               VkImageLayout initial_layout, VkImageLayout final_layout,
                               VkRenderPass *out);

VkResult vkt_create_framebuffer(struct vkt_ctx *ctx, VkRenderPass pass, const struct vkt_image *img,
                                VkFramebuffer *out);

/* What most drawing programs render into: an RGBA8 image (color attachment,
 * transfer source), a render pass that clears it and leaves it in
 * TRANSFER_SRC_OPTIMAL (ready for vkt_read_image), and its framebuffer. */
struct vkt_target {
   struct vkt_image img;
   VkRenderPass pass;
   VkFramebuffer fb;
};

VkResult vkt_create_target(struct vkt_ctx *ctx, uint32_t width, uint32_t height,
                           struct vkt_target *out);

/* Records the start of the target's render pass over the whole image (inline
 * contents), clearing it to clear_rgba. */
void vkt_begin_target(VkCommandBuffer cmd, const struct vkt_target *t, const float clear_rgba[4]);

VkResult vkt_create_pipeline_layout(struct vkt_ctx *ctx, uint32_t set_layout_count,
                                    const VkDescriptorSetLayout *set_layouts,
                                    VkShaderStageFlags push_stages, uint32_t push_size,
                                    VkPipelineLayout *out);

/* What a simple graphics pipeline needs; vertex_input may be NULL. */
struct vkt_gfx_desc {
   VkShaderModule vert, frag;
   VkPipelineLayout layout;
   VkRenderPass pass;
   uint32_t width, height; /* static viewport and scissor */
   const VkPipelineVertexInputStateCreateInfo *vertex_input;
   VkPrimitiveTopology topology;
   bool blend; /* src-alpha / one-minus-src-alpha blending */
};

VkResult vkt_create_graphics_pipeline(struct vkt_ctx *ctx, const struct vkt_gfx_desc *desc,
                                      VkPipeline *out);

VkResult vkt_create_compute_pipeline(struct vkt_ctx *ctx, VkShaderModule comp,
                                     VkPipelineLayout layout, VkPipeline *out);

/* Allocates a primary command buffer from the context's pool and begins it
 * (one-time submit). */
VkResult vkt_begin_once(struct vkt_ctx *ctx, VkCommandBuffer *cmd);

/* Ends, submits, waits for and frees a command buffer from vkt_begin_once. */
VkResult vkt_end_once(struct vkt_ctx *ctx, VkCommandBuffer cmd);

/* Records one image memory barrier on the color aspect. */
void vkt_image_barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout old_layout,
                       VkImageLayout new_layout, VkPipelineStageFlags src_stage,
                       VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                       VkAccessFlags dst_access);

/* Copies the whole image (currently in `layout`, after any earlier work) into
 * dst (width * height * texel_size bytes, tightly packed); the image is left
 * in TRANSFER_SRC_OPTIMAL. */
VkResult vkt_read_image(struct vkt_ctx *ctx, const struct vkt_image *img, VkImageLayout layout,
                        void *dst, size_t dst_size);

/* vkt_read_image, then appends the bytes to the output. */
VkResult vkt_output_image(struct vkt_ctx *ctx, const struct vkt_image *img, VkImageLayout layout);

/* Copies size bytes at offset of a buffer (after any earlier work) into dst. */
VkResult vkt_read_buffer(struct vkt_ctx *ctx, VkBuffer buffer, VkDeviceSize offset,
                         VkDeviceSize size, void *dst);

/* vkt_read_buffer, then appends the bytes to the output. */
VkResult vkt_output_buffer(struct vkt_ctx *ctx, VkBuffer buffer, VkDeviceSize offset,
                           VkDeviceSize size);

#endif
