/* draws: one render pass with 1000 small blended triangles, each placed and
 * colored by push constants (so draw order matters). Output: the 128x128
 * RGBA8 target. */
#include "vkt.h"

#include "pc_tri.vert.h"
#include "color.frag.h"

#define W 128
#define H 128
#define DRAWS 1000

struct push {
   float offset[2];
   float size;
   float pad;
   float color[4];
};

/* Deterministic pseudo-random numbers (LCG), state kept by the caller. */
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
   p->size = 0.05f + (float)(next_rand(rng) % 100) / 1000.0f;
   p->pad = 0.0f;
   for (int c = 0; c < 3; c++)
      p->color[c] = (float)(next_rand(rng) % 256) / 255.0f;
   p->color[3] = 0.5f;
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct vkt_target target;
   VkPipelineLayout layout;
   VkShaderModule vert, frag;
   VkPipeline pipeline;
   VkCommandBuffer cmd;

   VKT_CHECK(vkt_create_target(ctx, W, H, &target));
   VKT_CHECK(vkt_create_pipeline_layout(ctx, 0, NULL, VK_SHADER_STAGE_VERTEX_BIT,
                                        sizeof(struct push), &layout));
   VKT_CHECK(vkt_create_shader(ctx, spv_pc_tri_vert, sizeof(spv_pc_tri_vert), &vert));
   VKT_CHECK(vkt_create_shader(ctx, spv_color_frag, sizeof(spv_color_frag), &frag));
   struct vkt_gfx_desc desc = {
      .vert = vert,
      .frag = frag,
      .layout = layout,
      .pass = target.pass,
      .width = W,
      .height = H,
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
      .blend = true,
   };
   VKT_CHECK(vkt_create_graphics_pipeline(ctx, &desc, &pipeline));

   const float clear[4] = { 0.0f, 0.0f, 0.0f, 1.0f };
   uint32_t rng = 12345;

   VKT_CHECK(vkt_begin_once(ctx, &cmd));
   vkt_begin_target(cmd, &target, clear);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
   for (int i = 0; i < DRAWS; i++) {
      struct push p;
      make_push(&rng, &p);
      vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(p), &p);
      vkCmdDraw(cmd, 3, 1, 0, 0);
   }
   vkCmdEndRenderPass(cmd);
   VKT_CHECK(vkt_end_once(ctx, cmd));

   uint8_t px[W * H * 4];
   VKT_CHECK(
      vkt_read_image(ctx, &target.img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, px, sizeof(px)));
   unsigned covered = 0;
   for (size_t i = 0; i < W * H; i++)
      covered += (px[i * 4] | px[i * 4 + 1] | px[i * 4 + 2]) != 0;
   /* 1000 triangles of 3..10 pixel edges cover a good part of the target */
   VKT_EXPECT(covered > W * H / 4, "only %u of %u pixels drawn", covered, W * H);
   return vkt_output(ctx, px, sizeof(px));
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;

   if (vkt_init(&ctx, argc, argv, "draws", NULL) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
