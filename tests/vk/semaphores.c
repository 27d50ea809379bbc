/* semaphores: a chain of queue submits ordered only by binary semaphores:
 *   submit 1: fill A                                  -> s1
 *   submit 2: s1 -> copy A to B, update part of B      -> s2
 *   submit 3: s2 -> copy B to C                        -> s3, s4
 *   submit 4 (two batches in one vkQueueSubmit):
 *             s3 -> copy first half of C to D;  s4 -> second half -> fence
 * run twice with different data (semaphores are reused). Output: D after
 * each round. */
#include "vkt.h"

#include <string.h>

#define SIZE 8192
#define WAIT_NS (30ull * 1000 * 1000 * 1000)

struct chain {
   struct vkt_buffer a, b, c, d;
   VkSemaphore s[4];
   VkCommandBuffer cmd[5];
   VkFence fence;
};

static VkResult
begin(VkCommandBuffer cmd)
{
   VkCommandBufferBeginInfo info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
   };
   VKT_CHECK(vkResetCommandBuffer(cmd, 0));
   return vkBeginCommandBuffer(cmd, &info);
}

static VkResult
record(struct chain *c, uint32_t round)
{
   VkBufferCopy whole = { 0, 0, SIZE };
   VkBufferCopy first = { 0, 0, SIZE / 2 }, second = { SIZE / 2, SIZE / 2, SIZE / 2 };
   uint32_t words[16];
   VkMemoryBarrier waw = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
   };

   for (uint32_t i = 0; i < 16; i++)
      words[i] = round * 1000 + i;
   VKT_CHECK(begin(c->cmd[0]));
   vkCmdFillBuffer(c->cmd[0], c->a.buffer, 0, SIZE, 0x10101010u * round);
   VKT_CHECK(vkEndCommandBuffer(c->cmd[0]));

   VKT_CHECK(begin(c->cmd[1]));
   vkCmdCopyBuffer(c->cmd[1], c->a.buffer, c->b.buffer, 1, &whole);
   vkCmdPipelineBarrier(c->cmd[1], VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                        0, 1, &waw, 0, NULL, 0, NULL);
   vkCmdUpdateBuffer(c->cmd[1], c->b.buffer, 1024 * round, sizeof(words), words);
   VKT_CHECK(vkEndCommandBuffer(c->cmd[1]));

   VKT_CHECK(begin(c->cmd[2]));
   vkCmdCopyBuffer(c->cmd[2], c->b.buffer, c->c.buffer, 1, &whole);
   VKT_CHECK(vkEndCommandBuffer(c->cmd[2]));

   VKT_CHECK(begin(c->cmd[3]));
   vkCmdCopyBuffer(c->cmd[3], c->c.buffer, c->d.buffer, 1, &first);
   VKT_CHECK(vkEndCommandBuffer(c->cmd[3]));
   VKT_CHECK(begin(c->cmd[4]));
   vkCmdCopyBuffer(c->cmd[4], c->c.buffer, c->d.buffer, 1, &second);
   VKT_CHECK(vkEndCommandBuffer(c->cmd[4]));
   return VK_SUCCESS;
}

static VkSubmitInfo
batch(const VkCommandBuffer *cmd, const VkSemaphore *wait, uint32_t signals,
      const VkSemaphore *signal)
{
   static const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
   VkSubmitInfo info = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .waitSemaphoreCount = wait ? 1 : 0,
      .pWaitSemaphores = wait,
      .pWaitDstStageMask = wait ? &stage : NULL,
      .commandBufferCount = 1,
      .pCommandBuffers = cmd,
      .signalSemaphoreCount = signals,
      .pSignalSemaphores = signal,
   };
   return info;
}

static VkResult
run_round(struct vkt_ctx *ctx, struct chain *c, uint32_t round)
{
   VKT_CHECK(record(c, round));
   VkSubmitInfo s1 = batch(&c->cmd[0], NULL, 1, &c->s[0]);
   VkSubmitInfo s2 = batch(&c->cmd[1], &c->s[0], 1, &c->s[1]);
   VkSubmitInfo s3 = batch(&c->cmd[2], &c->s[1], 2, &c->s[2]);
   VkSubmitInfo s4[2] = { batch(&c->cmd[3], &c->s[2], 0, NULL),
                          batch(&c->cmd[4], &c->s[3], 0, NULL) };
   VKT_CHECK(vkQueueSubmit(ctx->queue, 1, &s1, VK_NULL_HANDLE));
   VKT_CHECK(vkQueueSubmit(ctx->queue, 1, &s2, VK_NULL_HANDLE));
   VKT_CHECK(vkQueueSubmit(ctx->queue, 1, &s3, VK_NULL_HANDLE));
   VKT_CHECK(vkQueueSubmit(ctx->queue, 2, s4, c->fence));
   VKT_CHECK(vkWaitForFences(ctx->device, 1, &c->fence, VK_TRUE, WAIT_NS));
   VKT_CHECK(vkResetFences(ctx->device, 1, &c->fence));

   uint8_t d[SIZE];
   VKT_CHECK(vkt_read_buffer(ctx, c->d.buffer, 0, SIZE, d));
   for (uint32_t off = 0; off < SIZE; off += 4) {
      uint32_t v, want = 0x10101010u * round;
      memcpy(&v, d + off, 4);
      if (off >= 1024 * round && off < 1024 * round + 64)
         want = round * 1000 + (off - 1024 * round) / 4;
      VKT_EXPECT(v == want, "round %u: D[%u] = 0x%08x, want 0x%08x", round, off, v, want);
   }
   return vkt_output(ctx, d, SIZE);
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct chain c;
   const VkBufferUsageFlags usage =
      VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
   VkSemaphoreCreateInfo sem_info = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
   VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkCommandBufferAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = ctx->cmd_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 5,
   };
   const VkMemoryPropertyFlags local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;

   VKT_CHECK(vkt_create_buffer(ctx, SIZE, usage, 0, local, &c.a));
   VKT_CHECK(vkt_create_buffer(ctx, SIZE, usage, 0, local, &c.b));
   VKT_CHECK(vkt_create_buffer(ctx, SIZE, usage, 0, local, &c.c));
   VKT_CHECK(vkt_create_buffer(ctx, SIZE, usage, 0, local, &c.d));
   for (int i = 0; i < 4; i++) {
      VKT_CHECK(vkCreateSemaphore(ctx->device, &sem_info, NULL, &c.s[i]));
      VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_SEMAPHORE, VKT_HANDLE(c.s[i])));
   }
   VKT_CHECK(vkCreateFence(ctx->device, &fence_info, NULL, &c.fence));
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_FENCE, VKT_HANDLE(c.fence)));
   /* freed with the pool by vkt_finish */
   VKT_CHECK(vkAllocateCommandBuffers(ctx->device, &alloc, c.cmd));

   VKT_CHECK(run_round(ctx, &c, 1));
   return run_round(ctx, &c, 2);
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;

   if (vkt_init(&ctx, argc, argv, "semaphores", NULL) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
