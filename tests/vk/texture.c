/* texture: a 16x16 texture uploaded through a staging buffer, sampled
 * (linear filter) by a fragment shader with a uniform-buffer tint; one
 * descriptor set with a combined image sampler and a uniform buffer.
 * Output: the 64x64 RGBA8 target. */
#include "vkt.h"

#include <string.h>

#include "quad.vert.h"
#include "tex.frag.h"

#define W 64
#define H 64
#define TW 16
#define TH 16

static VkResult
upload_texture(struct vkt_ctx *ctx, const struct vkt_image *tex)
{
   struct vkt_buffer staging;
   VkCommandBuffer cmd;

   VKT_CHECK(vkt_create_host_buffer(ctx, TW * TH * 4, 0, &staging));
   uint8_t *p = staging.map;
   for (int y = 0; y < TH; y++) {
      for (int x = 0; x < TW; x++, p += 4) {
         p[0] = (uint8_t)(x * 16);
         p[1] = (uint8_t)(y * 16);
         p[2] = ((x / 4 + y / 4) & 1) ? 255 : 0;
         p[3] = 255;
      }
   }
   VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { TW, TH, 1 },
   };

   VKT_CHECK(vkt_begin_once(ctx, &cmd));
   vkt_image_barrier(cmd, tex->image, VK_IMAGE_LAYOUT_UNDEFINED,
                     VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                     VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   vkCmdCopyBufferToImage(cmd, staging.buffer, tex->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                          &region);
   vkt_image_barrier(cmd, tex->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                     VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                     VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
                     VK_ACCESS_SHADER_READ_BIT);
   return vkt_end_once(ctx, cmd);
}

/* Set layout, pool and one set holding the texture and the tint buffer. */
static VkResult
make_descriptors(struct vkt_ctx *ctx, const struct vkt_image *tex, const struct vkt_buffer *tint,
                 VkDescriptorSetLayout *set_layout, VkDescriptorSet *set)
{
   VkSampler sampler;
   VkDescriptorPool pool;
   VkSamplerCreateInfo sampler_info = {
      .sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
      .magFilter = VK_FILTER_LINEAR,
      .minFilter = VK_FILTER_LINEAR,
      .mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST,
      .addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
      .addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
      .addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
      .maxLod = 0.0f,
   };
   VKT_CHECK(vkCreateSampler(ctx->device, &sampler_info, NULL, &sampler));
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_SAMPLER, VKT_HANDLE(sampler)));

   VkDescriptorSetLayoutBinding bindings[2] = {
      { 0, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_FRAGMENT_BIT, NULL },
      { 1, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1, VK_SHADER_STAGE_FRAGMENT_BIT, NULL },
   };
   VkDescriptorSetLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 2,
      .pBindings = bindings,
   };
   VKT_CHECK(vkCreateDescriptorSetLayout(ctx->device, &layout_info, NULL, set_layout));
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT, VKT_HANDLE(*set_layout)));

   VkDescriptorPoolSize sizes[2] = {
      { VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1 },
      { VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1 },
   };
   VkDescriptorPoolCreateInfo pool_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = 1,
      .poolSizeCount = 2,
      .pPoolSizes = sizes,
   };
   VKT_CHECK(vkCreateDescriptorPool(ctx->device, &pool_info, NULL, &pool));
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_DESCRIPTOR_POOL, VKT_HANDLE(pool)));

   VkDescriptorSetAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = pool,
      .descriptorSetCount = 1,
      .pSetLayouts = set_layout,
   };
   VKT_CHECK(vkAllocateDescriptorSets(ctx->device, &alloc, set));

   VkDescriptorImageInfo image_info = { sampler, tex->view,
                                        VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
   VkDescriptorBufferInfo buffer_info = { tint->buffer, 0, VK_WHOLE_SIZE };
   VkWriteDescriptorSet writes[2] = {
      {
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = *set,
         .dstBinding = 0,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
         .pImageInfo = &image_info,
      },
      {
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = *set,
         .dstBinding = 1,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
         .pBufferInfo = &buffer_info,
      },
   };
   vkUpdateDescriptorSets(ctx->device, 2, writes, 0, NULL);
   return VK_SUCCESS;
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct vkt_image tex;
   struct vkt_target target;
   struct vkt_buffer tint;
   VkDescriptorSetLayout set_layout;
   VkDescriptorSet set;
   VkPipelineLayout layout;
   VkShaderModule vert, frag;
   VkPipeline pipeline;
   VkCommandBuffer cmd;
   const float tint_color[4] = { 1.0f, 0.5f, 1.0f, 1.0f };

   VKT_CHECK(vkt_create_image(ctx, VK_FORMAT_R8G8B8A8_UNORM, TW, TH,
                              VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT, &tex));
   VKT_CHECK(upload_texture(ctx, &tex));
   VKT_CHECK(
      vkt_create_host_buffer(ctx, sizeof(tint_color), VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, &tint));
   memcpy(tint.map, tint_color, sizeof(tint_color));
   VKT_CHECK(make_descriptors(ctx, &tex, &tint, &set_layout, &set));

   VKT_CHECK(vkt_create_target(ctx, W, H, &target));
   VKT_CHECK(vkt_create_pipeline_layout(ctx, 1, &set_layout, 0, 0, &layout));
   VKT_CHECK(vkt_create_shader(ctx, spv_quad_vert, sizeof(spv_quad_vert), &vert));
   VKT_CHECK(vkt_create_shader(ctx, spv_tex_frag, sizeof(spv_tex_frag), &frag));
   struct vkt_gfx_desc desc = {
      .vert = vert,
      .frag = frag,
      .layout = layout,
      .pass = target.pass,
      .width = W,
      .height = H,
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
   };
   VKT_CHECK(vkt_create_graphics_pipeline(ctx, &desc, &pipeline));

   const float clear[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
   VKT_CHECK(vkt_begin_once(ctx, &cmd));
   vkt_begin_target(cmd, &target, clear);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, layout, 0, 1, &set, 0, NULL);
   vkCmdDraw(cmd, 6, 1, 0, 0);
   vkCmdEndRenderPass(cmd);
   VKT_CHECK(vkt_end_once(ctx, cmd));

   uint8_t px[W * H * 4];
   VKT_CHECK(
      vkt_read_image(ctx, &target.img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, px, sizeof(px)));
   /* the quad spans pixels 8..55; its top-left texel is (0, 0, 0 or 255, 255) */
   const uint8_t *tl = px + (9 * W + 9) * 4, *corner = px;
   VKT_EXPECT(tl[3] == 255 && tl[0] < 16 && tl[1] < 16, "quad corner is %u,%u,%u,%u", tl[0], tl[1],
              tl[2], tl[3]);
   VKT_EXPECT(corner[3] == 0, "pixel outside the quad was drawn");
   return vkt_output(ctx, px, sizeof(px));
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;

   if (vkt_init(&ctx, argc, argv, "texture", NULL) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
