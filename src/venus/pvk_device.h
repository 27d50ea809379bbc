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
   bool host_ptr_import;  /* VK_EXT_external_memory_host enabled */
   bool index_type_uint8; /* the indexTypeUint8 feature enabled */
   bool sparse_binding;   /* the sparseBinding feature enabled */
   /* the guest enabled robustness2's robustBufferAccess2: index fetches
    * past the index buffer are defined (pvk_validate_recording.c) */
   bool robust_buffer_access2;
   /* the guest enabled robustBufferAccess: vertex fetches past the bound
    * range are bounded by the driver (pvk_validate_vertex.c) */
   bool robust_buffer_access;
   bool vertex_divisor; /* vertexAttributeInstanceRateDivisor enabled */
   /* nestedCommandBuffer enabled: secondaries may execute secondaries, at
    * most max_nesting levels deep (maxCommandBufferNestingLevel; 1 without) */
   bool nested_command_buffers;
   uint32_t max_nesting;
   uint32_t spirv_features; /* validator options its features allow (pvk_spirv_features) */
   uint32_t queue_counts[PVK_MAX_QUEUE_FAMILIES]; /* created queues per family */
   /* host VkDeviceMemory -> its object: vkFreeMemory gets host handles */
   struct pvk_device_memory *memory_buckets[PVK_MEMORY_BUCKETS];
   /* freed host-visible memory kept for reuse (pvk_memory.c), oldest
    * first, still charged to the context; at most reuse_limit bytes */
   struct pvk_device_memory *reuse;
   uint32_t reuse_count;
   uint64_t reuse_bytes, reuse_limit;
   struct pvk_lifetime lifetime; /* submissions and deferred destruction */
   /* did not go idle by its context's teardown deadline: its objects and
    * the device itself are never destroyed (the driver may still use them) */
   bool abandoned;
   /* robustness2's nullDescriptor enabled by the renderer: new descriptor
    * sets are filled with null descriptors (pvk_validate_descriptor.c) */
   bool null_descriptor;
   VkSampler fill_sampler; /* for the filled sampler descriptors, made on first use */
   /* one push constant range for the graphics [0] or compute [1] stages, for
    * the zeros pushed before a guest's first push (pvk_validate_recording.c),
    * made on first use */
   VkPipelineLayout push_layouts[2];
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

/* Creates a host device on pd for a guest's create info: the firewall's
 * checks (queue infos; with ctx, a failure is logged against it and may
 * mark it lost), only advertised extensions, the renderer's own added,
 * every queue at queue_priority (PV_QUEUE_PRIORITY_*; the driver's default
 * where the host has no global priority extension or refuses the class).
 * ctx NULL: a device made ahead (pv_premade), failures only logged. */
VkResult pvk_device_create_host(struct pvk_context *ctx, struct pvk_instance *inst,
                                struct pvk_physical_device *pd, const VkDeviceCreateInfo *guest,
                                uint32_t queue_priority, struct pvk_device **out);

/* Destroys a device that has no children and frees it. */
void pvk_device_destroy_host(struct pvk_device *dev);

/* Guest-destroyed devices and instances whose host destruction may wait
 * for the context's teardown, per context. */
#define PVK_DEFERRED_DEVICES 1
#define PVK_DEFERRED_INSTANCES 1

/* A guest's vkDestroyDevice / vkDestroyInstance (dev / instance set): the
 * objects leave the guest's table at once (vn_object_table_retire: ids
 * free, the reply does not wait) and the context's teardown destroys them,
 * as long as that leaves at most PVK_DEFERRED_DEVICES devices and
 * PVK_DEFERRED_INSTANCES instances waiting so in the context. Past that,
 * destroys the objects now, children first, once their devices are idle:
 * the guest's destroy waits for that until the context ends (its transport
 * is cancelled); a device still busy then keeps its objects for the
 * context's teardown. ctx->mutex held. */
void pvk_context_destroy_objects(struct pvk_context *ctx, struct pvk_instance *instance,
                                 struct pvk_device *dev);

/* Context teardown: destroys every object of the context, waiting for each
 * device to go idle until deadline_ns (CLOCK_MONOTONIC). A device that
 * does not is abandoned (pvk_device.abandoned, logged with the context and
 * the device): it, its objects and its instance stay in the object table,
 * never destroyed. Returns the number of abandoned devices. ctx->mutex held. */
uint32_t pvk_context_teardown_objects(struct pvk_context *ctx, uint64_t deadline_ns);

struct pv_renderer;

/* Counts devices and instances whose destroy was deferred, and those of
 * them destroyed at teardown (pvk_renderer_destroy_stats). */
void pvk_renderer_count_destroys(struct pv_renderer *r, uint32_t deferred, uint32_t finished);

#endif
