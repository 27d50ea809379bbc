/* queries: precise occlusion queries around known draws (one triangle, the
 * same triangle twice, a triangle outside the viewport, nothing), read with
 * vkGetQueryPoolResults and vkCmdCopyQueryPoolResults; timestamps around
 * the work must be monotonic. Output: the occlusion counts (both ways) and
 * one word per timestamp check (1 = monotonic); no raw timestamps. */
#include "vkt.h"

#include <string.h>

#include "pc_tri.vert.h"
#include "color.frag.h"

#define W 64
#define H 64
#define OCC 4
#define TS 4
#define WAIT_BITS (VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT)

struct push {
   float offset[2];
   float size;
   float pad;
   float color[4];
};

static VkResult
create_pool(struct vkt_ctx *ctx, VkQueryType type, uint32_t count, VkQueryPool *out)
{
   VkQueryPoolCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
      .queryType = type,
      .queryCount = count,
   };
   VKT_CHECK(vkCreateQueryPool(ctx->device, &info, NULL, out));
   return vkt_track(ctx, VK_OBJECT_TYPE_QUERY_POOL, VKT_HANDLE(*out));
}

static VkResult
create_pipeline(struct vkt_ctx *ctx, VkRenderPass pass, VkPipelineLayout *layout, VkPipeline *out)
{
   VkShaderModule vert, frag;

   VKT_CHECK(vkt_create_pipeline_layout(ctx, 0, NULL, VK_SHADER_STAGE_VERTEX_BIT,
                                        sizeof(struct push), layout));
   VKT_CHECK(vkt_create_shader(ctx, spv_pc_tri_vert, sizeof(spv_pc_tri_vert), &vert));
   VKT_CHECK(vkt_create_shader(ctx, spv_color_frag, sizeof(spv_color_frag), &frag));
   struct vkt_gfx_desc desc = {
      .vert = vert,
      .frag = frag,
      .layout = *layout,
      .pass = pass,
      .width = W,
      .height = H,
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
   };
   return vkt_create_graphics_pipeline(ctx, &desc, out);
}

static void
draw(VkCommandBuffer cmd, VkPipelineLayout layout, float x, float y)
{
   struct push p = { { x, y }, 0.5f, 0.0f, { 1.0f, 1.0f, 1.0f, 1.0f } };
   vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(p), &p);
   vkCmdDraw(cmd, 3, 1, 0, 0);
}

static void
record(VkCommandBuffer cmd, const struct vkt_target *target, VkPipelineLayout layout,
       VkPipeline pipeline, VkQueryPool occ, VkQueryPool ts, bool timestamps, VkBuffer results)
{
   const float clear[4] = { 0.0f, 0.0f, 0.0f, 1.0f };

   vkCmdResetQueryPool(cmd, occ, 0, OCC);
   if (timestamps) {
      vkCmdResetQueryPool(cmd, ts, 0, TS);
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, ts, 0);
   }
   vkt_begin_target(cmd, target, clear);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
   vkCmdBeginQuery(cmd, occ, 0, VK_QUERY_CONTROL_PRECISE_BIT);
   draw(cmd, layout, -0.5f, -0.5f);
   vkCmdEndQuery(cmd, occ, 0);
   if (timestamps)
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ts, 1);
   vkCmdBeginQuery(cmd, occ, 1, VK_QUERY_CONTROL_PRECISE_BIT);
   draw(cmd, layout, -0.5f, -0.5f);
   draw(cmd, layout, -0.5f, -0.5f);
   vkCmdEndQuery(cmd, occ, 1);
   vkCmdBeginQuery(cmd, occ, 2, VK_QUERY_CONTROL_PRECISE_BIT);
   draw(cmd, layout, 3.0f, 3.0f); /* entirely outside the viewport */
   vkCmdEndQuery(cmd, occ, 2);
   vkCmdBeginQuery(cmd, occ, 3, VK_QUERY_CONTROL_PRECISE_BIT);
   vkCmdEndQuery(cmd, occ, 3);
   if (timestamps)
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ts, 2);
   vkCmdEndRenderPass(cmd);
   vkCmdCopyQueryPoolResults(cmd, occ, 0, OCC, results, 0, sizeof(uint64_t), WAIT_BITS);
   if (timestamps)
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ts, 3);
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct vkt_target target;
   struct vkt_buffer results;
   VkPipelineLayout layout;
   VkPipeline pipeline;
   VkQueryPool occ, ts;
   VkCommandBuffer cmd;
   const bool timestamps = ctx->timestamp_valid_bits != 0;

   VKT_CHECK(vkt_create_target(ctx, W, H, &target));
   VKT_CHECK(create_pipeline(ctx, target.pass, &layout, &pipeline));
   VKT_CHECK(create_pool(ctx, VK_QUERY_TYPE_OCCLUSION, OCC, &occ));
   VKT_CHECK(create_pool(ctx, VK_QUERY_TYPE_TIMESTAMP, TS, &ts));
   VKT_CHECK(vkt_create_host_buffer(ctx, OCC * sizeof(uint64_t), 0, &results));

   VKT_CHECK(vkt_begin_once(ctx, &cmd));
   record(cmd, &target, layout, pipeline, occ, ts, timestamps, results.buffer);
   VKT_CHECK(vkt_end_once(ctx, cmd));

   uint64_t counts[OCC], copied[OCC];
   VKT_CHECK(vkGetQueryPoolResults(ctx->device, occ, 0, OCC, sizeof(counts), counts,
                                   sizeof(uint64_t), WAIT_BITS));
   VKT_CHECK(vkt_invalidate_buffer(ctx, &results));
   memcpy(copied, results.map, sizeof(copied));
   /* a right triangle with 16-pixel legs covers about 128 pixels */
   VKT_EXPECT(counts[0] > 100 && counts[0] < 160, "one triangle: %llu samples",
              (unsigned long long)counts[0]);
   VKT_EXPECT(counts[1] == 2 * counts[0], "two triangles: %llu samples",
              (unsigned long long)counts[1]);
   VKT_EXPECT(counts[2] == 0 && counts[3] == 0, "empty queries: %llu, %llu samples",
              (unsigned long long)counts[2], (unsigned long long)counts[3]);
   VKT_EXPECT(memcmp(counts, copied, sizeof(counts)) == 0, "copied results differ");
   VKT_CHECK(vkt_output(ctx, counts, sizeof(counts)));
   VKT_CHECK(vkt_output(ctx, copied, sizeof(copied)));

   uint32_t monotonic[TS - 1] = { 0 };
   if (timestamps) {
      uint64_t t[TS];
      const uint64_t mask =
         ctx->timestamp_valid_bits >= 64 ? UINT64_MAX : (1ull << ctx->timestamp_valid_bits) - 1;
      VKT_CHECK(
         vkGetQueryPoolResults(ctx->device, ts, 0, TS, sizeof(t), t, sizeof(uint64_t), WAIT_BITS));
      for (int i = 0; i + 1 < TS; i++) {
         monotonic[i] = (t[i] & mask) <= (t[i + 1] & mask);
         VKT_EXPECT(monotonic[i], "timestamp %d (%llu) > timestamp %d (%llu)", i,
                    (unsigned long long)t[i], i + 1, (unsigned long long)t[i + 1]);
      }
   }
   return vkt_output(ctx, monotonic, sizeof(monotonic));
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;
   const struct vkt_options opts = { .occlusion_query_precise = true };

   if (vkt_init(&ctx, argc, argv, "queries", &opts) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
