/* Hand-encoded venus sessions of the teardown tests (test_session.h). */
#include <vulkan/vulkan.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/test_session.h"

#define T(name) VK_COMMAND_TYPE_##name##_EXT

enum {
   INSTANCE = 100,
   PHYSICAL = 200,
   DEVICE = 300,
   QUEUE = 400,
   SEMAPHORE = 800,
};

static void
set_reply(struct test_stream *e, uint32_t reply_res)
{
   ts_cmd(e, T(vkSetReplyCommandStreamMESA), 0);
   ts_u64(e, 1);
   ts_u32(e, reply_res);
   ts_u64(e, 0);
   ts_u64(e, 65536);
   ts_cmd(e, T(vkSeekReplyCommandStreamMESA), 0);
   ts_u64(e, 0);
}

void
ts_session_device(struct test_stream *e, uint32_t reply_res)
{
   set_reply(e, reply_res);
   ts_cmd(e, T(vkCreateInstance), 0);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 1); /* VkApplicationInfo: Vulkan 1.3 (timeline semaphores) */
   ts_u32(e, VK_STRUCTURE_TYPE_APPLICATION_INFO);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, VK_API_VERSION_1_3);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, INSTANCE);
   ts_cmd(e, T(vkEnumeratePhysicalDevices), 0);
   ts_u64(e, INSTANCE);
   ts_u64(e, 1);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u64(e, PHYSICAL);
   ts_cmd(e, T(vkCreateDevice), 0);
   ts_u64(e, PHYSICAL);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_f32(e, 1.0f);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, DEVICE);
   ts_cmd(e, T(vkGetDeviceQueue), 0);
   ts_u64(e, DEVICE);
   ts_u32(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 1);
   ts_u64(e, QUEUE);

   ts_cmd(e, T(vkCreateSemaphore), 0);
   ts_u64(e, DEVICE);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO);
   ts_u64(e, 0);
   ts_u32(e, VK_SEMAPHORE_TYPE_TIMELINE);
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 1);
   ts_u64(e, SEMAPHORE);
}

void
ts_session_submit(struct test_stream *e, uint64_t value)
{
   ts_cmd(e, T(vkQueueSubmit), 0);
   ts_u64(e, QUEUE);
   ts_u32(e, 1);
   ts_u64(e, 1);
   ts_u32(e, VK_STRUCTURE_TYPE_SUBMIT_INFO);
   const uint32_t waits = value ? 1 : 0;
   if (waits) {
      ts_u64(e, 1);
      ts_u32(e, VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO);
      ts_u64(e, 0);
      ts_u32(e, 1);
      ts_u64(e, 1);
      ts_u64(e, value);
      ts_u32(e, 0);
      ts_u64(e, 0);
   } else {
      ts_u64(e, 0);
   }
   ts_u32(e, waits);
   ts_u64(e, waits);
   if (waits)
      ts_u64(e, SEMAPHORE);
   ts_u64(e, waits);
   if (waits)
      ts_u32(e, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
   ts_u32(e, 0); /* no command buffers */
   ts_u64(e, 0);
   ts_u32(e, 0);
   ts_u64(e, 0);
   ts_u64(e, 0); /* no fence */
}

void
ts_session_queue_wait_idle(struct test_stream *e)
{
   ts_cmd(e, T(vkQueueWaitIdle), 0);
   ts_u64(e, QUEUE);
}
