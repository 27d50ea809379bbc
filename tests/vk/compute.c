/* compute: storage buffers and push constants. Two dispatches into one
 * device-local buffer (the second overwrites a prefix with other push
 * constants); results checked on the host. Output: the destination buffer. */
#include "vkt.h"

#include "compute.comp.h"

#define N 4096
#define N2 1000 /* elements the second dispatch rewrites */

struct push {
   uint32_t mul, add, count;
};

static VkResult
make_set(struct vkt_ctx *ctx, VkBuffer src, VkBuffer dst, VkDescriptorSetLayout *set_layout,
         VkDescriptorSet *set)
{
   VkDescriptorPool pool;
   VkDescriptorSetLayoutBinding bindings[2] = {
      { 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
      { 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
   };
   VkDescriptorSetLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 2,
      .pBindings = bindings,
   };
   VKT_CHECK(vkCreateDescriptorSetLayout(ctx->device, &layout_info, NULL, set_layout));
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT, VKT_HANDLE(*set_layout)));

   VkDescriptorPoolSize size = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 };
   VkDescriptorPoolCreateInfo pool_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = 1,
      .poolSizeCount = 1,
      .pPoolSizes = &size,
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

   VkDescriptorBufferInfo infos[2] = { { src, 0, VK_WHOLE_SIZE }, { dst, 0, VK_WHOLE_SIZE } };
   VkWriteDescriptorSet write = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = *set,
      .dstBinding = 0,
      .descriptorCount = 2, /* bindings 0 and 1 */
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = infos,
   };
   vkUpdateDescriptorSets(ctx->device, 1, &write, 0, NULL);
   return VK_SUCCESS;
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct vkt_buffer src, dst;
   VkDescriptorSetLayout set_layout;
   VkDescriptorSet set;
   VkPipelineLayout layout;
   VkShaderModule comp;
   VkPipeline pipeline;
   VkCommandBuffer cmd;
   const struct push p1 = { 3, 7, N }, p2 = { 5, 1000000, N2 };

   VKT_CHECK(vkt_create_host_buffer(ctx, N * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &src));
   uint32_t *in = src.map;
   for (uint32_t i = 0; i < N; i++)
      in[i] = i * 2654435761u;
   VKT_CHECK(vkt_create_buffer(
      ctx, N * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT, 0,
      VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &dst));
   VKT_CHECK(make_set(ctx, src.buffer, dst.buffer, &set_layout, &set));
   VKT_CHECK(vkt_create_pipeline_layout(ctx, 1, &set_layout, VK_SHADER_STAGE_COMPUTE_BIT,
                                        sizeof(struct push), &layout));
   VKT_CHECK(vkt_create_shader(ctx, spv_compute_comp, sizeof(spv_compute_comp), &comp));
   VKT_CHECK(vkt_create_compute_pipeline(ctx, comp, layout, &pipeline));

   /* write-after-write on dst between the dispatches */
   VkMemoryBarrier between = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
   };
   VKT_CHECK(vkt_begin_once(ctx, &cmd));
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
   vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(p1), &p1);
   vkCmdDispatch(cmd, N / 64, 1, 1);
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &between, 0, NULL, 0, NULL);
   vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(p2), &p2);
   vkCmdDispatch(cmd, (N2 + 63) / 64, 1, 1);
   VKT_CHECK(vkt_end_once(ctx, cmd));

   uint32_t out[N];
   VKT_CHECK(vkt_read_buffer(ctx, dst.buffer, 0, sizeof(out), out));
   for (uint32_t i = 0; i < N; i++) {
      const struct push *p = i < N2 ? &p2 : &p1;
      uint32_t want = in[i] * p->mul + p->add + i;
      VKT_EXPECT(out[i] == want, "dst[%u] = %u, want %u", i, out[i], want);
   }
   return vkt_output(ctx, out, sizeof(out));
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;

   if (vkt_init(&ctx, argc, argv, "compute", NULL) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
