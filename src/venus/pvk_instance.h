/*
 * Host state of VkInstance and VkPhysicalDevice objects (pvk_instance.c).
 */
#ifndef PV_VENUS_PVK_INSTANCE_H
#define PV_VENUS_PVK_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "venus/pvk_premade.h"
#include "venus/vn_dispatch.h"

/* Per VkInstance object (obj->instance). Starts with the part generated
 * executors call through (vn_dispatch.h); `handle` and `dispatch` name the
 * same members. */
struct pvk_instance {
   union {
      struct vn_dispatch_instance base;
      struct {
         VkInstance handle;
         struct vn_instance_dispatch dispatch;
      };
   };
   uint32_t api_version;       /* what the host instance was created with */
   uint64_t gpu_mask;          /* the host devices its guest sees (pv_device_policy) */
   uint32_t abandoned_devices; /* devices abandoned at teardown: never destroyed */
   struct pvk_key app_key;     /* its host application info, canonical (recipes) */
   /* a device made ahead on this instance that no vkCreateDevice claimed
    * yet (it came with the instance from a pv_premade), or NULL */
   struct pv_premade *premade;
};

_Static_assert(offsetof(struct pvk_instance, base) == 0, "obj->instance points at the start");

/* The instance an object belongs to (NULL for none). */
static inline struct pvk_instance *
pvk_instance_from_base(struct vn_dispatch_instance *base)
{
   return (struct pvk_instance *)base;
}

static inline struct vn_dispatch_instance *
pvk_instance_base(struct pvk_instance *inst)
{
   return inst ? &inst->base : NULL;
}

/* Per VkPhysicalDevice object (obj->data). */
struct pvk_physical_device {
   VkPhysicalDevice handle;
   uint32_t api_version; /* advertised: min(host device, protocol) */
   VkPhysicalDeviceMemoryProperties mem_props;
   VkPhysicalDeviceType device_type; /* with host_index: its budget pool (pvk_budget.h) */
   uint32_t host_index;              /* in the host's enumeration order */
   VkDeviceSize host_ptr_alignment;  /* minImportedHostPointerAlignment, 0: no import */
   uint32_t max_push_constants;      /* limits.maxPushConstantsSize (firewall) */
   uint32_t max_viewports;           /* limits.maxViewports (firewall) */
   uint32_t max_vertex_bindings;     /* limits.maxVertexInputBindings (firewall) */
   uint32_t max_vertex_attributes;   /* limits.maxVertexInputAttributes (firewall) */
   uint32_t max_color_attachments;   /* limits.maxColorAttachments (firewall) */
   uint32_t max_locations;        /* the most interface locations of any stage (firewall, SPIR-V) */
   VkPhysicalDeviceLimits limits; /* all of them, for the firewall's pipeline rules */
   /* the host's VK_KHR_global_priority, else VK_EXT_global_priority, else
    * NULL: how the renderer's queue priority reaches the host device (never
    * advertised to the guest) */
   const char *queue_priority_ext;
   /* maxPerStageDescriptorUpdateAfterBind* in pvk_desc_kind order, and
    * maxPerStageUpdateAfterBindResources (Vulkan 1.2; 0 without) */
   uint32_t uab_per_stage[7];
   /* maxDescriptorSetUpdateAfterBind*: the six pvk_desc_kind kinds before
    * PVK_DESC_RESOURCES (which has no per-set limit), then the dynamic
    * uniform and storage buffers */
   uint32_t uab_per_set[8];
   /* VkPhysicalDeviceInlineUniformBlockProperties (0 without the
    * extension): maxInlineUniformBlockSize, maxPerStageDescriptorInlineUniformBlocks,
    * maxDescriptorSetInlineUniformBlocks */
   uint32_t inline_block_size, inline_blocks_per_stage, inline_blocks_per_set;
   /* the driver's vkGetQueryPoolResults waits for the whole device to go
    * idle whatever its flags (lavapipe: lvp_query.c): a wait with no bound */
   bool query_results_wait_idle;
   /* the driver's vkQueueSubmit* waits on the calling thread, with no
    * bound, until the batch that signals each binary semaphore it waits on
    * has run (lavapipe: Mesa's vk_queue with a submit thread waits for
    * VK_SYNC_WAIT_PENDING, and lvp_queue_submit runs the commands first) */
   bool binary_waits_block_submit;
   uint32_t ext_count; /* advertised device extensions */
   VkExtensionProperties *exts;
};

/* Queries what the guest is offered of a host physical device, the
 * host_index-th the host enumerates (its memory budget pool). NULL: no
 * memory. */
struct pvk_physical_device *
pvk_physical_device_create(struct pvk_instance *inst, VkPhysicalDevice handle, uint32_t host_index);
void pvk_physical_device_free(struct pvk_physical_device *pd);

/* The host application info for a guest's (may be NULL): the guest's
 * names and versions, no pNext, apiVersion clamped to what venus and the
 * host support. False when the host is below Vulkan 1.1. */
bool pvk_host_app_info(const VkApplicationInfo *guest, VkApplicationInfo *out);

/* Creates a host instance with `app` (from pvk_host_app_info; nothing
 * else of the guest's create info reaches the host) and its dispatch. */
VkResult pvk_instance_create_host(const VkApplicationInfo *app, struct pvk_instance **out);

/* Destroys the host instance (and a pre-made device still on it) and frees
 * inst. Its other children must be gone. */
void pvk_instance_destroy_host(struct pvk_instance *inst);

/* Serializes, process-wide, the Vulkan loader calls that create or destroy
 * instances and devices or fill their dispatch tables: contexts run on many
 * threads, and the loader's bookkeeping for them is not safe against
 * concurrent creation and destruction (pv-vtest crashed in
 * vkGetDeviceProcAddr while other clients tore down). Innermost lock: never
 * take another lock while holding it. */
void pvk_loader_lock(void);
void pvk_loader_unlock(void);

#endif
