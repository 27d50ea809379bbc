/* The venus capset and the device extensions the protocol can carry. */
#include "venus/pvk_capset.h"

#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

/* Extensions the decoder carries: those of Mesa 25.0's venus protocol
 * (vk.xml 1.4.305; a superset of Mesa 22.3's, which ignores the rest), with
 * the extension number from vk.xml and the protocol's spec version. They
 * form the capset's extension mask, which Mesa 25 guards every extension's
 * pNext structs with; the venus-mesa25-coverage test checks that each is
 * decoded. Sorted by name for bsearch. */
static const struct pvk_protocol_extension pvk_protocol_extensions[] = {
   { "VK_EXT_4444_formats", 341, 1 },
   { "VK_EXT_attachment_feedback_loop_layout", 340, 2 },
   { "VK_EXT_border_color_swizzle", 412, 1 },
   { "VK_EXT_calibrated_timestamps", 185, 2 },
   { "VK_EXT_color_write_enable", 382, 1 },
   { "VK_EXT_command_serialization", 384, 0 },
   { "VK_EXT_conditional_rendering", 82, 2 },
   { "VK_EXT_conservative_rasterization", 102, 1 },
   { "VK_EXT_custom_border_color", 288, 12 },
   { "VK_EXT_depth_clip_control", 356, 1 },
   { "VK_EXT_depth_clip_enable", 103, 1 },
   { "VK_EXT_descriptor_indexing", 162, 2 },
   { "VK_EXT_dynamic_rendering_unused_attachments", 500, 1 },
   { "VK_EXT_extended_dynamic_state", 268, 1 },
   { "VK_EXT_extended_dynamic_state2", 378, 1 },
   { "VK_EXT_extended_dynamic_state3", 456, 2 },
   { "VK_EXT_external_memory_acquire_unmodified", 454, 1 },
   { "VK_EXT_external_memory_dma_buf", 126, 1 },
   { "VK_EXT_fragment_shader_interlock", 252, 1 },
   { "VK_EXT_graphics_pipeline_library", 321, 1 },
   { "VK_EXT_host_query_reset", 262, 1 },
   { "VK_EXT_image_2d_view_of_3d", 394, 1 },
   { "VK_EXT_image_drm_format_modifier", 159, 2 },
   { "VK_EXT_image_robustness", 336, 1 },
   { "VK_EXT_image_view_min_lod", 392, 1 },
   { "VK_EXT_index_type_uint8", 266, 1 },
   { "VK_EXT_inline_uniform_block", 139, 1 },
   { "VK_EXT_line_rasterization", 260, 1 },
   { "VK_EXT_load_store_op_none", 401, 1 },
   { "VK_EXT_memory_budget", 238, 1 },
   { "VK_EXT_multi_draw", 393, 1 },
   { "VK_EXT_mutable_descriptor_type", 495, 1 },
   { "VK_EXT_non_seamless_cube_map", 423, 1 },
   { "VK_EXT_pci_bus_info", 213, 2 },
   { "VK_EXT_pipeline_creation_cache_control", 298, 3 },
   { "VK_EXT_pipeline_creation_feedback", 193, 1 },
   { "VK_EXT_primitive_topology_list_restart", 357, 1 },
   { "VK_EXT_primitives_generated_query", 383, 1 },
   { "VK_EXT_private_data", 296, 1 },
   { "VK_EXT_provoking_vertex", 255, 1 },
   { "VK_EXT_queue_family_foreign", 127, 1 },
   { "VK_EXT_rasterization_order_attachment_access", 464, 1 },
   { "VK_EXT_robustness2", 287, 1 },
   { "VK_EXT_sampler_filter_minmax", 131, 2 },
   { "VK_EXT_scalar_block_layout", 222, 1 },
   { "VK_EXT_separate_stencil_usage", 247, 1 },
   { "VK_EXT_shader_demote_to_helper_invocation", 277, 1 },
   { "VK_EXT_shader_stencil_export", 141, 1 },
   { "VK_EXT_shader_subgroup_ballot", 65, 1 },
   { "VK_EXT_shader_viewport_index_layer", 163, 1 },
   { "VK_EXT_subgroup_size_control", 226, 2 },
   { "VK_EXT_texel_buffer_alignment", 282, 1 },
   { "VK_EXT_texture_compression_astc_hdr", 67, 1 },
   { "VK_EXT_tooling_info", 246, 1 },
   { "VK_EXT_transform_feedback", 29, 1 },
   { "VK_EXT_vertex_attribute_divisor", 191, 3 },
   { "VK_EXT_vertex_input_dynamic_state", 353, 2 },
   { "VK_EXT_ycbcr_2plane_444_formats", 331, 1 },
   { "VK_KHR_16bit_storage", 84, 1 },
   { "VK_KHR_8bit_storage", 178, 1 },
   { "VK_KHR_bind_memory2", 158, 1 },
   { "VK_KHR_buffer_device_address", 258, 1 },
   { "VK_KHR_copy_commands2", 338, 1 },
   { "VK_KHR_create_renderpass2", 110, 1 },
   { "VK_KHR_dedicated_allocation", 128, 3 },
   { "VK_KHR_depth_stencil_resolve", 200, 1 },
   { "VK_KHR_descriptor_update_template", 86, 1 },
   { "VK_KHR_device_group", 61, 4 },
   { "VK_KHR_device_group_creation", 71, 1 },
   { "VK_KHR_draw_indirect_count", 170, 1 },
   { "VK_KHR_driver_properties", 197, 1 },
   { "VK_KHR_dynamic_rendering", 45, 1 },
   { "VK_KHR_external_fence", 114, 1 },
   { "VK_KHR_external_fence_capabilities", 113, 1 },
   { "VK_KHR_external_fence_fd", 116, 1 },
   { "VK_KHR_external_memory", 73, 1 },
   { "VK_KHR_external_memory_capabilities", 72, 1 },
   { "VK_KHR_external_memory_fd", 75, 1 },
   { "VK_KHR_external_semaphore", 78, 1 },
   { "VK_KHR_external_semaphore_capabilities", 77, 1 },
   { "VK_KHR_external_semaphore_fd", 80, 1 },
   { "VK_KHR_format_feature_flags2", 361, 2 },
   { "VK_KHR_fragment_shading_rate", 227, 2 },
   { "VK_KHR_get_memory_requirements2", 147, 1 },
   { "VK_KHR_get_physical_device_properties2", 60, 2 },
   { "VK_KHR_image_format_list", 148, 1 },
   { "VK_KHR_imageless_framebuffer", 109, 1 },
   { "VK_KHR_maintenance1", 70, 2 },
   { "VK_KHR_maintenance2", 118, 1 },
   { "VK_KHR_maintenance3", 169, 1 },
   { "VK_KHR_maintenance4", 414, 2 },
   { "VK_KHR_maintenance5", 471, 1 },
   { "VK_KHR_multiview", 54, 1 },
   { "VK_KHR_pipeline_library", 291, 1 },
   { "VK_KHR_push_descriptor", 81, 2 },
   { "VK_KHR_relaxed_block_layout", 145, 1 },
   { "VK_KHR_sampler_mirror_clamp_to_edge", 15, 3 },
   { "VK_KHR_sampler_ycbcr_conversion", 157, 14 },
   { "VK_KHR_separate_depth_stencil_layouts", 242, 1 },
   { "VK_KHR_shader_atomic_int64", 181, 1 },
   { "VK_KHR_shader_clock", 182, 1 },
   { "VK_KHR_shader_draw_parameters", 64, 1 },
   { "VK_KHR_shader_float16_int8", 83, 1 },
   { "VK_KHR_shader_float_controls", 198, 4 },
   { "VK_KHR_shader_integer_dot_product", 281, 1 },
   { "VK_KHR_shader_non_semantic_info", 294, 1 },
   { "VK_KHR_shader_subgroup_extended_types", 176, 1 },
   { "VK_KHR_shader_terminate_invocation", 216, 1 },
   { "VK_KHR_spirv_1_4", 237, 1 },
   { "VK_KHR_storage_buffer_storage_class", 132, 1 },
   { "VK_KHR_synchronization2", 315, 1 },
   { "VK_KHR_timeline_semaphore", 208, 2 },
   { "VK_KHR_uniform_buffer_standard_layout", 254, 1 },
   { "VK_KHR_variable_pointers", 121, 1 },
   { "VK_KHR_vulkan_memory_model", 212, 3 },
   { "VK_KHR_zero_initialize_workgroup_memory", 326, 1 },
   { "VK_MESA_venus_protocol", 385, 100000 },
   { "VK_VALVE_mutable_descriptor_type", 352, 1 },
};

static int
ext_cmp(const void *key, const void *elem)
{
   return strcmp(key, ((const struct pvk_protocol_extension *)elem)->name);
}

const struct pvk_protocol_extension *
pvk_protocol_extension_find(const char *name)
{
   return bsearch(name, pvk_protocol_extensions,
                  sizeof(pvk_protocol_extensions) / sizeof(pvk_protocol_extensions[0]),
                  sizeof(pvk_protocol_extensions[0]), ext_cmp);
}

uint32_t
pvk_capset_venus_fill(struct pvk_capset_venus *caps, uint32_t wire_format)
{
   memset(caps, 0, sizeof(*caps));
   caps->wire_format_version = wire_format;
   /* the protocol version the decoder is generated from (the host's vk.xml) */
   caps->vk_xml_version = VK_HEADER_VERSION_COMPLETE;
   caps->vk_ext_command_serialization_spec_version = 0;
   /* shmem blobs are HOST3D blobs with blob_id 0 */
   caps->supports_blob_id_0 = 1;
   /* bit 0: the mask is valid */
   caps->vk_extension_mask1[0] = 1;
   for (size_t i = 0; i < sizeof(pvk_protocol_extensions) / sizeof(pvk_protocol_extensions[0]);
        i++) {
      const uint32_t n = pvk_protocol_extensions[i].number;
      caps->vk_extension_mask1[n / 32] |= 1u << (n % 32);
   }
   if (wire_format == 0) {
      /* 100000: the experimental features query (large rings) is available */
      caps->vk_mesa_venus_protocol_spec_version = 100000;
      /* Mesa 22.3 polls its waits: a blocking wait would stall the context */
      caps->allow_vk_wait_syncs = 0;
      return PVK_CAPSET_VENUS_SIZE_WIRE_FORMAT_0;
   }
   /* 2: VkRingPriorityInfoMESA is understood (pvk_transport.c) */
   caps->vk_mesa_venus_protocol_spec_version = 2;
   /* vkWaitForFences / vkWaitSemaphores in a ring block that ring until
    * done, bounded by context teardown (pvk_queue.c) */
   caps->allow_vk_wait_syncs = 1;
   /* ring_idx N > 0 fences follow the queue bound to N through
    * VkDeviceQueueTimelineInfoMESA; ring 0 is the CPU timeline */
   caps->supports_multiple_timelines = 1;
   /* blobs are host allocations the VMM maps: no guest VRAM heap needed */
   caps->use_guest_vram = 0;
   return sizeof(*caps);
}
