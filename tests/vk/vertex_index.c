/* vertex-index: a device-local vertex buffer (uploaded by a staging copy),
 * a per-instance buffer and 16- and 32-bit index buffers in host-visible
 * memory; indexed, instanced draws with firstIndex, vertexOffset and
 * firstInstance. Output: the 96x96 RGBA8 target. */
#include "vkt.h"

#include <string.h>

#include "attr.vert.h"
#include "color.frag.h"

#define W 96
#define H 96
#define GRID 4 /* GRID x GRID quads */
#define QUADS (GRID * GRID)
#define VERTS (QUADS * 4)

struct vertex {
   float pos[2];
   uint8_t color[4]; /* R8G8B8A8_UNORM */
};

static void
make_geometry(struct vertex *v, uint16_t *idx16, uint32_t *idx32)
{
   for (int q = 0; q < QUADS; q++) {
      float x0 = -0.9f + (float)(q % GRID) * 0.22f, y0 = -0.9f + (float)(q / GRID) * 0.22f;
      for (int k = 0; k < 4; k++) {
         struct vertex *p = &v[q * 4 + k];
         p->pos[0] = x0 + (k & 1 ? 0.2f : 0.0f);
         p->pos[1] = y0 + (k & 2 ? 0.2f : 0.0f);
         p->color[0] = (uint8_t)(q * 16);
         p->color[1] = (uint8_t)(k * 80);
         p->color[2] = (uint8_t)(255 - q * 8);
         p->color[3] = 255;
      }
      static const uint8_t quad[6] = { 0, 1, 2, 1, 3, 2 };
      for (int k = 0; k < 6; k++) {
         idx16[q * 6 + k] = (uint16_t)(q * 4 + quad[k]);
         idx32[q * 6 + k] = (uint32_t)(q * 4 + quad[k]);
      }
   }
}

static VkResult
create_pipeline(struct vkt_ctx *ctx, VkRenderPass pass, VkPipeline *out)
{
   VkShaderModule vert, frag;
   VkPipelineLayout layout;
   VkVertexInputBindingDescription bindings[2] = {
      { 0, sizeof(struct vertex), VK_VERTEX_INPUT_RATE_VERTEX },
      { 1, 2 * sizeof(float), VK_VERTEX_INPUT_RATE_INSTANCE },
   };
   VkVertexInputAttributeDescription attrs[3] = {
      { 0, 0, VK_FORMAT_R32G32_SFLOAT, offsetof(struct vertex, pos) },
      { 1, 0, VK_FORMAT_R8G8B8A8_UNORM, offsetof(struct vertex, color) },
      { 2, 1, VK_FORMAT_R32G32_SFLOAT, 0 },
   };
   VkPipelineVertexInputStateCreateInfo input = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
      .vertexBindingDescriptionCount = 2,
      .pVertexBindingDescriptions = bindings,
      .vertexAttributeDescriptionCount = 3,
      .pVertexAttributeDescriptions = attrs,
   };

   VKT_CHECK(vkt_create_shader(ctx, spv_attr_vert, sizeof(spv_attr_vert), &vert));
   VKT_CHECK(vkt_create_shader(ctx, spv_color_frag, sizeof(spv_color_frag), &frag));
   VKT_CHECK(vkt_create_pipeline_layout(ctx, 0, NULL, 0, 0, &layout));
   struct vkt_gfx_desc desc = {
      .vert = vert,
      .frag = frag,
      .layout = layout,
      .pass = pass,
      .width = W,
      .height = H,
      .vertex_input = &input,
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
   };
   return vkt_create_graphics_pipeline(ctx, &desc, out);
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct vertex verts[VERTS];
   uint16_t idx16[QUADS * 6];
   uint32_t idx32[QUADS * 6];
   const float offsets[4][2] = { { 0, 0 }, { 0.9f, 0 }, { 0, 0.9f }, { 0.9f, 0.9f } };
   struct vkt_buffer vstage, vbuf, ibuf16, ibuf32, instbuf;
   struct vkt_target target;
   VkPipeline pipeline;
   VkCommandBuffer cmd;

   make_geometry(verts, idx16, idx32);
   VKT_CHECK(vkt_create_host_buffer(ctx, sizeof(verts), 0, &vstage));
   memcpy(vstage.map, verts, sizeof(verts));
   VKT_CHECK(vkt_create_buffer(ctx, sizeof(verts),
                               VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &vbuf));
   VKT_CHECK(vkt_create_host_buffer(ctx, sizeof(idx16), VK_BUFFER_USAGE_INDEX_BUFFER_BIT, &ibuf16));
   memcpy(ibuf16.map, idx16, sizeof(idx16));
   VKT_CHECK(vkt_create_host_buffer(ctx, sizeof(idx32), VK_BUFFER_USAGE_INDEX_BUFFER_BIT, &ibuf32));
   memcpy(ibuf32.map, idx32, sizeof(idx32));
   VKT_CHECK(
      vkt_create_host_buffer(ctx, sizeof(offsets), VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, &instbuf));
   memcpy(instbuf.map, offsets, sizeof(offsets));

   VKT_CHECK(vkt_create_target(ctx, W, H, &target));
   VKT_CHECK(create_pipeline(ctx, target.pass, &pipeline));

   const float clear[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
   VkBufferCopy region = { 0, 0, sizeof(verts) };
   VkMemoryBarrier upload = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_VERTEX_ATTRIBUTE_READ_BIT,
   };
   const VkBuffer vbufs[2] = { vbuf.buffer, instbuf.buffer };
   const VkDeviceSize voffs[2] = { 0, 0 };

   VKT_CHECK(vkt_begin_once(ctx, &cmd));
   vkCmdCopyBuffer(cmd, vstage.buffer, vbuf.buffer, 1, &region);
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_VERTEX_INPUT_BIT, 0,
                        1, &upload, 0, NULL, 0, NULL);
   vkt_begin_target(cmd, &target, clear);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
   vkCmdBindVertexBuffers(cmd, 0, 2, vbufs, voffs);
   /* all 16 quads, instances 0 and 1 (lower half of the target) */
   vkCmdBindIndexBuffer(cmd, ibuf16.buffer, 0, VK_INDEX_TYPE_UINT16);
   vkCmdDrawIndexed(cmd, QUADS * 6, 2, 0, 0, 0);
   /* quads 8..15 through vertexOffset, skipping quad 0's indices, instances 2 and 3 */
   vkCmdBindIndexBuffer(cmd, ibuf32.buffer, 0, VK_INDEX_TYPE_UINT32);
   vkCmdDrawIndexed(cmd, 7 * 6, 2, 6, 8 * 4, 2);
   vkCmdEndRenderPass(cmd);
   VKT_CHECK(vkt_end_once(ctx, cmd));

   uint8_t px[W * H * 4];
   VKT_CHECK(
      vkt_read_image(ctx, &target.img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, px, sizeof(px)));
   unsigned covered = 0;
   for (size_t i = 0; i < W * H; i++)
      covered += px[i * 4 + 3] != 0;
   /* 32 quads from draw 1 and 14 from draw 2, each about 9x9 pixels */
   VKT_EXPECT(covered > 46 * 64 && covered < 46 * 100, "%u pixels covered", covered);
   return vkt_output(ctx, px, sizeof(px));
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;

   if (vkt_init(&ctx, argc, argv, "vertex-index", NULL) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
