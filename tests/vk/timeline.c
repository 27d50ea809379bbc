/* timeline: timeline semaphores signaled and waited on by host and GPU.
 * A GPU submit waits for a value the host signals only afterwards; the host
 * waits for GPU signals, for "any of" two semaphores, and reads counters.
 * Output: the buffer the submits filled, then the counter values seen. */
#include "vkt.h"

#define SIZE 1024
#define WAIT_NS (30ull * 1000 * 1000 * 1000)

static VkResult
create_timeline(struct vkt_ctx *ctx, uint64_t initial, VkSemaphore *out)
{
   VkSemaphoreTypeCreateInfo type = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
      .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
      .initialValue = initial,
   };
   VkSemaphoreCreateInfo info = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
                                  .pNext = &type };

   VKT_CHECK(vkCreateSemaphore(ctx->device, &info, NULL, out));
   return vkt_track(ctx, VK_OBJECT_TYPE_SEMAPHORE, VKT_HANDLE(*out));
}

/* A command buffer filling [offset, offset + size) of buf with value. */
static VkResult
record_fill(struct vkt_ctx *ctx, VkBuffer buf, VkDeviceSize offset, VkDeviceSize size,
            uint32_t value, VkCommandBuffer *cmd)
{
   VkCommandBufferAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = ctx->cmd_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkCommandBufferBeginInfo begin = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };

   /* freed with the pool by vkt_finish */
   VKT_CHECK(vkAllocateCommandBuffers(ctx->device, &alloc, cmd));
   VKT_CHECK(vkBeginCommandBuffer(*cmd, &begin));
   vkCmdFillBuffer(*cmd, buf, offset, size, value);
   return vkEndCommandBuffer(*cmd);
}

/* Submits cmd waiting for wait_sem >= wait_value (at transfer) and
 * signaling each signal_sems[i] to signal_values[i]. */
static VkResult
submit(struct vkt_ctx *ctx, VkCommandBuffer cmd, VkSemaphore wait_sem, uint64_t wait_value,
       uint32_t signal_count, const VkSemaphore *signal_sems, const uint64_t *signal_values)
{
   const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
   VkTimelineSemaphoreSubmitInfo values = {
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .waitSemaphoreValueCount = 1,
      .pWaitSemaphoreValues = &wait_value,
      .signalSemaphoreValueCount = signal_count,
      .pSignalSemaphoreValues = signal_values,
   };
   VkSubmitInfo info = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .pNext = &values,
      .waitSemaphoreCount = 1,
      .pWaitSemaphores = &wait_sem,
      .pWaitDstStageMask = &stage,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
      .signalSemaphoreCount = signal_count,
      .pSignalSemaphores = signal_sems,
   };
   VKT_CHECK(vkQueueSubmit(ctx->queue, 1, &info, VK_NULL_HANDLE));
   return VK_SUCCESS;
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct vkt_buffer buf;
   VkSemaphore a, b;
   VkCommandBuffer cmd1, cmd2;
   uint64_t seen[6];

   VKT_CHECK(vkt_create_buffer(ctx, SIZE,
                               VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &buf));
   VKT_CHECK(create_timeline(ctx, 0, &a));
   VKT_CHECK(create_timeline(ctx, 5, &b));
   VKT_CHECK(record_fill(ctx, buf.buffer, 0, SIZE / 2, 0x11111111u, &cmd1));
   VKT_CHECK(record_fill(ctx, buf.buffer, SIZE / 2, SIZE / 2, 0x22222222u, &cmd2));

   /* cmd1 waits for a == 1, which only the host signals, after submitting */
   const uint64_t two = 2;
   VKT_CHECK(submit(ctx, cmd1, a, 1, 1, &a, &two));
   VKT_CHECK(vkGetSemaphoreCounterValue(ctx->device, a, &seen[0]));
   VKT_EXPECT(seen[0] == 0, "a is %llu before the host signaled it", (unsigned long long)seen[0]);

   VkSemaphoreSignalInfo signal = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
      .semaphore = a,
      .value = 1,
   };
   VKT_CHECK(vkSignalSemaphore(ctx->device, &signal));
   VkSemaphoreWaitInfo wait_a2 = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
      .semaphoreCount = 1,
      .pSemaphores = &a,
      .pValues = &two,
   };
   VKT_CHECK(vkWaitSemaphores(ctx->device, &wait_a2, WAIT_NS));
   VKT_CHECK(vkGetSemaphoreCounterValue(ctx->device, a, &seen[1]));
   VKT_EXPECT(seen[1] == 2, "a is %llu after cmd1", (unsigned long long)seen[1]);

   /* cmd2 waits for a >= 2 (already reached), signals a = 3 and b = 10 */
   const VkSemaphore sems[2] = { a, b };
   const uint64_t values[2] = { 3, 10 };
   VKT_CHECK(submit(ctx, cmd2, a, 2, 2, sems, values));
   const uint64_t any_values[2] = { 100, 10 }; /* a never reaches 100 */
   VkSemaphoreWaitInfo wait_any = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
      .flags = VK_SEMAPHORE_WAIT_ANY_BIT,
      .semaphoreCount = 2,
      .pSemaphores = sems,
      .pValues = any_values,
   };
   VKT_CHECK(vkWaitSemaphores(ctx->device, &wait_any, WAIT_NS));
   VKT_CHECK(vkGetSemaphoreCounterValue(ctx->device, b, &seen[2]));
   VKT_EXPECT(seen[2] == 10, "b is %llu", (unsigned long long)seen[2]);
   /* a and b are signaled by one batch: a must be 3 once b is 10 */
   VKT_CHECK(vkGetSemaphoreCounterValue(ctx->device, a, &seen[3]));
   VKT_EXPECT(seen[3] == 3, "a is %llu after cmd2", (unsigned long long)seen[3]);

   /* a zero-timeout wait for a value not reached yet times out */
   const uint64_t four = 4;
   VkSemaphoreWaitInfo wait_a4 = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
      .semaphoreCount = 1,
      .pSemaphores = &a,
      .pValues = &four,
   };
   VkResult r = vkWaitSemaphores(ctx->device, &wait_a4, 0);
   VKT_EXPECT(r == VK_TIMEOUT, "zero-timeout wait returned %d", (int)r);
   signal.value = 4;
   VKT_CHECK(vkSignalSemaphore(ctx->device, &signal));
   VKT_CHECK(vkWaitSemaphores(ctx->device, &wait_a4, 0));
   VKT_CHECK(vkGetSemaphoreCounterValue(ctx->device, a, &seen[4]));
   VKT_CHECK(vkGetSemaphoreCounterValue(ctx->device, b, &seen[5]));

   VKT_CHECK(vkt_output_buffer(ctx, buf.buffer, 0, SIZE));
   return vkt_output(ctx, seen, sizeof(seen));
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;
   const struct vkt_options opts = { .timeline_semaphore = true };

   if (vkt_init(&ctx, argc, argv, "timeline", &opts) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
