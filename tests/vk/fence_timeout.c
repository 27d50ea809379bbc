/* fence-timeout: a 6 s vkWaitForFences on a fence nothing will signal must
 * return VK_TIMEOUT after about 6 s. Through Mesa 25's venus driver the
 * guest polls that long, and after about 3.5 s checks that the renderer
 * still sets its ring's ALIVE bit (it aborts otherwise): the renderer's
 * monitor must keep reporting while nothing happens.
 * Output: the VkResult of the wait and whether it took 6 s (+/- slack). */
#include <time.h>

#include "vkt.h"

#define WAIT_NS (6ull * 1000 * 1000 * 1000)
/* the wait may end a little early (timer granularity) or late (load) */
#define EARLY_NS (100ull * 1000 * 1000)
#define LATE_NS (20ull * 1000 * 1000 * 1000)

static uint64_t
now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static VkResult
run(struct vkt_ctx *ctx)
{
   const VkFenceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   VKT_CHECK(vkCreateFence(ctx->device, &info, NULL, &fence));
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_FENCE, VKT_HANDLE(fence)));

   const uint64_t start = now_ns();
   const VkResult r = vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, WAIT_NS);
   const uint64_t took = now_ns() - start;
   VKT_EXPECT(r == VK_TIMEOUT, "the wait returned %d", (int)r);
   VKT_EXPECT(took + EARLY_NS >= WAIT_NS && took <= WAIT_NS + LATE_NS, "the 6 s wait took %.3f s",
              (double)took / 1e9);

   /* the device still works after the long wait */
   VKT_CHECK(vkQueueWaitIdle(ctx->queue));
   VKT_CHECK(vkGetFenceStatus(ctx->device, fence) == VK_NOT_READY ? VK_SUCCESS : VK_ERROR_UNKNOWN);
   const int32_t out[2] = { (int32_t)r, 1 };
   return vkt_output(ctx, out, sizeof(out));
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;

   if (vkt_init(&ctx, argc, argv, "fence-timeout", NULL) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
