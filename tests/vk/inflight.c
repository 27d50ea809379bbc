/* inflight: 32 command buffers in flight at once, each with its own fence,
 * each filling and updating its own slice of one buffer. Round 1 submits in
 * order and waits for all fences at once; round 2 resets fences and command
 * buffers, re-records, submits in reverse order and waits fence by fence.
 * Output: the buffer after each round. */
#include "vkt.h"

#include <string.h>

#define COUNT 32
#define SLICE 4096 /* bytes per command buffer */
#define WAIT_NS (30ull * 1000 * 1000 * 1000)

static uint32_t
slice_value(uint32_t i, uint32_t round)
{
   return 0x01000000u * round + 0x00010101u * i;
}

static VkResult
record(VkCommandBuffer cmd, VkBuffer buf, uint32_t i, uint32_t round)
{
   VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
   };
   uint32_t stamp[4] = { i, round, 0xc0ffee00u + i, ~i };
   VkMemoryBarrier waw = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
   };

   VKT_CHECK(vkBeginCommandBuffer(cmd, &begin));
   vkCmdFillBuffer(cmd, buf, (VkDeviceSize)i * SLICE, SLICE, slice_value(i, round));
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1,
                        &waw, 0, NULL, 0, NULL);
   /* a stamp in the middle of the slice, written over the fill */
   vkCmdUpdateBuffer(cmd, buf, (VkDeviceSize)i * SLICE + SLICE / 2, sizeof(stamp), stamp);
   VKT_CHECK(vkEndCommandBuffer(cmd));
   return VK_SUCCESS;
}

static VkResult
submit(struct vkt_ctx *ctx, VkCommandBuffer cmd, VkFence fence)
{
   VkSubmitInfo info = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };
   VKT_CHECK(vkQueueSubmit(ctx->queue, 1, &info, fence));
   return VK_SUCCESS;
}

static VkResult
check(struct vkt_ctx *ctx, VkBuffer buf, uint32_t round)
{
   const size_t size = (size_t)COUNT * SLICE;
   uint8_t data[COUNT * SLICE];

   VKT_CHECK(vkt_read_buffer(ctx, buf, 0, size, data));
   for (uint32_t i = 0; i < COUNT; i++) {
      uint32_t first, stamp[2];
      memcpy(&first, data + (size_t)i * SLICE, 4);
      memcpy(stamp, data + (size_t)i * SLICE + SLICE / 2, sizeof(stamp));
      VKT_EXPECT(first == slice_value(i, round), "round %u slice %u: 0x%08x", round, i, first);
      VKT_EXPECT(stamp[0] == i && stamp[1] == round, "round %u slice %u: stamp %u/%u", round, i,
                 stamp[0], stamp[1]);
   }
   return vkt_output(ctx, data, size);
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct vkt_buffer buf;
   VkCommandBuffer cmds[COUNT];
   VkFence fences[COUNT];
   VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkCommandBufferAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = ctx->cmd_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = COUNT,
   };

   VKT_CHECK(vkt_create_buffer(ctx, (VkDeviceSize)COUNT * SLICE,
                               VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &buf));
   /* freed with the pool by vkt_finish */
   VKT_CHECK(vkAllocateCommandBuffers(ctx->device, &alloc, cmds));
   for (uint32_t i = 0; i < COUNT; i++) {
      VKT_CHECK(vkCreateFence(ctx->device, &fence_info, NULL, &fences[i]));
      VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_FENCE, VKT_HANDLE(fences[i])));
   }

   /* round 1: in order, wait for all at once */
   for (uint32_t i = 0; i < COUNT; i++) {
      VKT_CHECK(record(cmds[i], buf.buffer, i, 1));
      VKT_CHECK(submit(ctx, cmds[i], fences[i]));
   }
   VKT_CHECK(vkWaitForFences(ctx->device, COUNT, fences, VK_TRUE, WAIT_NS));
   for (uint32_t i = 0; i < COUNT; i++)
      VKT_CHECK(vkGetFenceStatus(ctx->device, fences[i]));
   VKT_CHECK(check(ctx, buf.buffer, 1));

   /* round 2: reset everything, reverse order, wait one by one */
   VKT_CHECK(vkResetFences(ctx->device, COUNT, fences));
   for (uint32_t i = 0; i < COUNT; i++) {
      VkResult r = vkGetFenceStatus(ctx->device, fences[i]);
      VKT_EXPECT(r == VK_NOT_READY, "fence %u status %d after reset", i, (int)r);
   }
   for (uint32_t k = 0; k < COUNT; k++) {
      uint32_t i = COUNT - 1 - k;
      VKT_CHECK(vkResetCommandBuffer(cmds[i], 0));
      VKT_CHECK(record(cmds[i], buf.buffer, i, 2));
      VKT_CHECK(submit(ctx, cmds[i], fences[i]));
   }
   for (uint32_t i = 0; i < COUNT; i++)
      VKT_CHECK(vkWaitForFences(ctx->device, 1, &fences[i], VK_TRUE, WAIT_NS));
   return check(ctx, buf.buffer, 2);
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;

   if (vkt_init(&ctx, argc, argv, "inflight", NULL) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
