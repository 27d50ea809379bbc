/* vulkan13: Vulkan 1.3 core through the guest. 300 small blended triangles
 * drawn with dynamic rendering (no render pass) and the 1.3 dynamic states
 * (cull mode, front face, topology, viewport/scissor with count), layout
 * transitions with vkCmdPipelineBarrier2, the read-back with
 * vkCmdCopyImageToBuffer2, and two vkQueueSubmit2 batches ordered by a
 * binary semaphore. Output: the 96x96 RGBA8 image. */
#include "vkt.h"

#include "pc_tri.vert.h"
#include "color.frag.h"

#define W 96
#define H 96
#define DRAWS 300
#define FORMAT VK_FORMAT_R8G8B8A8_UNORM

struct push {
   float offset[2];
   float size;
   float pad;
   float color[4];
};

static uint32_t
next_rand(uint32_t *state)
{
   *state = *state * 1664525u + 1013904223u;
   return *state >> 8;
}

static void
make_push(uint32_t *rng, struct push *p)
{
   p->offset[0] = (float)(next_rand(rng) % 1800) / 1000.0f - 0.95f;
   p->offset[1] = (float)(next_rand(rng) % 1800) / 1000.0f - 0.95f;
   p->size = 0.08f + (float)(next_rand(rng) % 150) / 1000.0f;
   p->pad = 0.0f;
   for (int c = 0; c < 3; c++)
      p->color[c] = (float)(next_rand(rng) % 256) / 255.0f;
   p->color[3] = 0.5f;
}

/* A pipeline for dynamic rendering into one FORMAT attachment, with the
 * Vulkan 1.3 dynamic states. */
static VkResult
create_pipeline(struct vkt_ctx *ctx, VkPipelineLayout layout, VkPipeline *out)
{
   VkShaderModule vert, frag;
   VKT_CHECK(vkt_create_shader(ctx, spv_pc_tri_vert, sizeof(spv_pc_tri_vert), &vert));
   VKT_CHECK(vkt_create_shader(ctx, spv_color_frag, sizeof(spv_color_frag), &frag));
   const VkPipelineShaderStageCreateInfo stages[2] = {
      { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_VERTEX_BIT,
        .module = vert,
        .pName = "main" },
      { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
        .module = frag,
        .pName = "main" },
   };
   const VkPipelineVertexInputStateCreateInfo vi = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
   };
   const VkPipelineInputAssemblyStateCreateInfo ia = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
      /* dynamic: the draws set TRIANGLE_LIST, of the same class */
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_STRIP,
   };
   const VkPipelineViewportStateCreateInfo vp = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
   };
   const VkPipelineRasterizationStateCreateInfo rs = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
      .polygonMode = VK_POLYGON_MODE_FILL,
      .lineWidth = 1.0f,
   };
   const VkPipelineMultisampleStateCreateInfo ms = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT,
   };
   const VkPipelineColorBlendAttachmentState blend = {
      .blendEnable = VK_TRUE,
      .srcColorBlendFactor = VK_BLEND_FACTOR_SRC_ALPHA,
      .dstColorBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA,
      .colorBlendOp = VK_BLEND_OP_ADD,
      .srcAlphaBlendFactor = VK_BLEND_FACTOR_ONE,
      .dstAlphaBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA,
      .alphaBlendOp = VK_BLEND_OP_ADD,
      .colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                        VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT,
   };
   const VkPipelineColorBlendStateCreateInfo cb = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
      .attachmentCount = 1,
      .pAttachments = &blend,
   };
   const VkDynamicState dynamic[] = {
      VK_DYNAMIC_STATE_CULL_MODE,          VK_DYNAMIC_STATE_FRONT_FACE,
      VK_DYNAMIC_STATE_PRIMITIVE_TOPOLOGY, VK_DYNAMIC_STATE_VIEWPORT_WITH_COUNT,
      VK_DYNAMIC_STATE_SCISSOR_WITH_COUNT,
   };
   const VkPipelineDynamicStateCreateInfo ds = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
      .dynamicStateCount = sizeof(dynamic) / sizeof(dynamic[0]),
      .pDynamicStates = dynamic,
   };
   const VkFormat format = FORMAT;
   const VkPipelineRenderingCreateInfo rendering = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
      .colorAttachmentCount = 1,
      .pColorAttachmentFormats = &format,
   };
   const VkGraphicsPipelineCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
      .pNext = &rendering,
      .stageCount = 2,
      .pStages = stages,
      .pVertexInputState = &vi,
      .pInputAssemblyState = &ia,
      .pViewportState = &vp,
      .pRasterizationState = &rs,
      .pMultisampleState = &ms,
      .pColorBlendState = &cb,
      .pDynamicState = &ds,
      .layout = layout,
   };
   VKT_CHECK(vkCreateGraphicsPipelines(ctx->device, VK_NULL_HANDLE, 1, &info, NULL, out));
   return vkt_track(ctx, VK_OBJECT_TYPE_PIPELINE, VKT_HANDLE(*out));
}

static void
barrier2(VkCommandBuffer cmd, VkImage image, VkImageLayout old_layout, VkImageLayout new_layout,
         VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
         VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access)
{
   const VkImageMemoryBarrier2 b = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER_2,
      .srcStageMask = src_stage,
      .srcAccessMask = src_access,
      .dstStageMask = dst_stage,
      .dstAccessMask = dst_access,
      .oldLayout = old_layout,
      .newLayout = new_layout,
      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .image = image,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
   };
   const VkDependencyInfo dep = {
      .sType = VK_STRUCTURE_TYPE_DEPENDENCY_INFO,
      .imageMemoryBarrierCount = 1,
      .pImageMemoryBarriers = &b,
   };
   vkCmdPipelineBarrier2(cmd, &dep);
}

static void
record_draws(VkCommandBuffer cmd, const struct vkt_image *img, VkPipeline pipeline,
             VkPipelineLayout layout)
{
   barrier2(cmd, img->image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
            VK_PIPELINE_STAGE_2_NONE, VK_ACCESS_2_NONE,
            VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
            VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_2_COLOR_ATTACHMENT_READ_BIT);
   const VkRenderingAttachmentInfo color = {
      .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
      .imageView = img->view,
      .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
      .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
      .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
      .clearValue.color.float32 = { 0.1f, 0.0f, 0.2f, 1.0f },
   };
   const VkRenderingInfo rendering = {
      .sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
      .renderArea = { { 0, 0 }, { W, H } },
      .layerCount = 1,
      .colorAttachmentCount = 1,
      .pColorAttachments = &color,
   };
   vkCmdBeginRendering(cmd, &rendering);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
   const VkViewport viewport = { 0, 0, (float)W, (float)H, 0, 1 };
   const VkRect2D scissor = { { 0, 0 }, { W, H } };
   vkCmdSetViewportWithCount(cmd, 1, &viewport);
   vkCmdSetScissorWithCount(cmd, 1, &scissor);
   vkCmdSetPrimitiveTopology(cmd, VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST);
   static const VkCullModeFlags cull[3] = {
      VK_CULL_MODE_NONE,
      VK_CULL_MODE_BACK_BIT,
      VK_CULL_MODE_FRONT_BIT,
   };
   uint32_t rng = 4242;
   for (int i = 0; i < DRAWS; i++) {
      struct push p;
      make_push(&rng, &p);
      /* a third of the triangles always drawn, the others culled or not
       * depending on the winding the front face names */
      vkCmdSetCullMode(cmd, cull[i % 3]);
      vkCmdSetFrontFace(cmd,
                        (i / 3) % 2 ? VK_FRONT_FACE_CLOCKWISE : VK_FRONT_FACE_COUNTER_CLOCKWISE);
      vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(p), &p);
      vkCmdDraw(cmd, 3, 1, 0, 0);
   }
   vkCmdEndRendering(cmd);
}

static void
record_readback(VkCommandBuffer cmd, const struct vkt_image *img, VkBuffer dst)
{
   barrier2(cmd, img->image, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
            VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
            VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_2_COPY_BIT,
            VK_ACCESS_2_TRANSFER_READ_BIT);
   const VkBufferImageCopy2 region = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_IMAGE_COPY_2,
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { W, H, 1 },
   };
   const VkCopyImageToBufferInfo2 copy = {
      .sType = VK_STRUCTURE_TYPE_COPY_IMAGE_TO_BUFFER_INFO_2,
      .srcImage = img->image,
      .srcImageLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
      .dstBuffer = dst,
      .regionCount = 1,
      .pRegions = &region,
   };
   vkCmdCopyImageToBuffer2(cmd, &copy);
   const VkMemoryBarrier2 to_host = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER_2,
      .srcStageMask = VK_PIPELINE_STAGE_2_COPY_BIT,
      .srcAccessMask = VK_ACCESS_2_TRANSFER_WRITE_BIT,
      .dstStageMask = VK_PIPELINE_STAGE_2_HOST_BIT,
      .dstAccessMask = VK_ACCESS_2_HOST_READ_BIT,
   };
   const VkDependencyInfo dep = {
      .sType = VK_STRUCTURE_TYPE_DEPENDENCY_INFO,
      .memoryBarrierCount = 1,
      .pMemoryBarriers = &to_host,
   };
   vkCmdPipelineBarrier2(cmd, &dep);
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct vkt_image img;
   struct vkt_buffer readback;
   VkPipelineLayout layout;
   VkPipeline pipeline;

   VKT_CHECK(vkt_create_image(ctx, FORMAT, W, H,
                              VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                              &img));
   VKT_CHECK(vkt_create_host_buffer(ctx, W * H * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback));
   VKT_CHECK(vkt_create_pipeline_layout(ctx, 0, NULL, VK_SHADER_STAGE_VERTEX_BIT,
                                        sizeof(struct push), &layout));
   VKT_CHECK(create_pipeline(ctx, layout, &pipeline));

   VkCommandBuffer cmds[2];
   const VkCommandBufferAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = ctx->cmd_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 2,
   };
   VKT_CHECK(vkAllocateCommandBuffers(ctx->device, &alloc, cmds));
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
   };
   VKT_CHECK(vkBeginCommandBuffer(cmds[0], &begin));
   record_draws(cmds[0], &img, pipeline, layout);
   VKT_CHECK(vkEndCommandBuffer(cmds[0]));
   VKT_CHECK(vkBeginCommandBuffer(cmds[1], &begin));
   record_readback(cmds[1], &img, readback.buffer);
   VKT_CHECK(vkEndCommandBuffer(cmds[1]));

   VkSemaphore drawn;
   VkFence done;
   const VkSemaphoreCreateInfo sem_info = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
   const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VKT_CHECK(vkCreateSemaphore(ctx->device, &sem_info, NULL, &drawn));
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_SEMAPHORE, VKT_HANDLE(drawn)));
   VKT_CHECK(vkCreateFence(ctx->device, &fence_info, NULL, &done));
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_FENCE, VKT_HANDLE(done)));

   /* two batches: the copy waits for the draws through the semaphore */
   const VkCommandBufferSubmitInfo cmd_info[2] = {
      { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO, .commandBuffer = cmds[0] },
      { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO, .commandBuffer = cmds[1] },
   };
   const VkSemaphoreSubmitInfo signal = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO,
      .semaphore = drawn,
      .stageMask = VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
   };
   const VkSemaphoreSubmitInfo wait = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO,
      .semaphore = drawn,
      .stageMask = VK_PIPELINE_STAGE_2_COPY_BIT,
   };
   const VkSubmitInfo2 submits[2] = {
      { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2,
        .commandBufferInfoCount = 1,
        .pCommandBufferInfos = &cmd_info[0],
        .signalSemaphoreInfoCount = 1,
        .pSignalSemaphoreInfos = &signal },
      { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2,
        .waitSemaphoreInfoCount = 1,
        .pWaitSemaphoreInfos = &wait,
        .commandBufferInfoCount = 1,
        .pCommandBufferInfos = &cmd_info[1] },
   };
   VKT_CHECK(vkQueueSubmit2(ctx->queue, 1, &submits[0], VK_NULL_HANDLE));
   VKT_CHECK(vkQueueSubmit2(ctx->queue, 1, &submits[1], done));
   VKT_CHECK(vkWaitForFences(ctx->device, 1, &done, VK_TRUE, UINT64_MAX));
   VKT_CHECK(vkt_invalidate_buffer(ctx, &readback));

   const uint8_t *px = readback.map;
   unsigned drawn_px = 0;
   for (size_t i = 0; i < W * H; i++)
      drawn_px += px[i * 4 + 1] != 0; /* the clear color has no green */
   VKT_EXPECT(drawn_px > W * H / 8 && drawn_px < W * H, "%u of %u pixels drawn", drawn_px, W * H);
   return vkt_output(ctx, px, W * H * 4);
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;
   const struct vkt_options opts = { .vulkan13 = true };

   if (vkt_init(&ctx, argc, argv, "vulkan13", &opts) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
