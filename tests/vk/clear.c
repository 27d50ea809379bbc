/* clear: vkCmdClearColorImage, then a render pass whose load op clears a
 * sub-rectangle (the rest must survive) and vkCmdClearAttachments inside it.
 * Output: the image after each step (64x64 RGBA8). */
#include "vkt.h"

#define W 64
#define H 64

static VkResult
check_pixel(const uint8_t *px, int x, int y, const uint8_t want[4])
{
   const uint8_t *p = px + ((size_t)y * W + x) * 4;
   for (int c = 0; c < 4; c++)
      VKT_EXPECT(p[c] == want[c], "pixel (%d,%d) is %u,%u,%u,%u, want %u,%u,%u,%u", x, y, p[0],
                 p[1], p[2], p[3], want[0], want[1], want[2], want[3]);
   return VK_SUCCESS;
}

static VkResult
clear_image(struct vkt_ctx *ctx, const struct vkt_image *img, uint8_t *px)
{
   /* n/255 values: exact in UNORM8 */
   const VkClearColorValue color = { .float32 = { 51 / 255.0f, 102 / 255.0f, 204 / 255.0f, 1.0f } };
   const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
   const uint8_t want[4] = { 51, 102, 204, 255 };
   VkCommandBuffer cmd;

   VKT_CHECK(vkt_begin_once(ctx, &cmd));
   vkt_image_barrier(cmd, img->image, VK_IMAGE_LAYOUT_UNDEFINED,
                     VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                     VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   vkCmdClearColorImage(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &color, 1, &range);
   VKT_CHECK(vkt_end_once(ctx, cmd));

   VKT_CHECK(vkt_read_image(ctx, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, px, W * H * 4));
   VKT_CHECK(check_pixel(px, 0, 0, want));
   VKT_CHECK(check_pixel(px, W - 1, H - 1, want));
   return vkt_output(ctx, px, W * H * 4);
}

static VkResult
clear_in_pass(struct vkt_ctx *ctx, const struct vkt_image *img, uint8_t *px)
{
   VkRenderPass pass;
   VkFramebuffer fb;
   VkCommandBuffer cmd;

   /* the image is in TRANSFER_SRC_OPTIMAL after the readback: keep its contents */
   VKT_CHECK(vkt_create_color_pass(ctx, img->format, VK_ATTACHMENT_LOAD_OP_CLEAR,
                                   VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                                   VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, &pass));
   VKT_CHECK(vkt_create_framebuffer(ctx, pass, img, &fb));

   VkClearValue clear = { .color = { .float32 = { 1.0f, 0.0f, 0.0f, 1.0f } } };
   VkRenderPassBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
      .renderPass = pass,
      .framebuffer = fb,
      .renderArea = { { 8, 8 }, { 40, 32 } },
      .clearValueCount = 1,
      .pClearValues = &clear,
   };
   VkClearAttachment att = {
      .aspectMask = VK_IMAGE_ASPECT_COLOR_BIT,
      .colorAttachment = 0,
      .clearValue = { .color = { .float32 = { 0.0f, 1.0f, 0.0f, 0.0f } } },
   };
   VkClearRect rect = { { { 16, 12 }, { 8, 8 } }, 0, 1 };

   VKT_CHECK(vkt_begin_once(ctx, &cmd));
   vkCmdBeginRenderPass(cmd, &begin, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdClearAttachments(cmd, 1, &att, 1, &rect);
   vkCmdEndRenderPass(cmd);
   VKT_CHECK(vkt_end_once(ctx, cmd));

   VKT_CHECK(vkt_read_image(ctx, img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, px, W * H * 4));
   VKT_CHECK(check_pixel(px, 0, 0, (const uint8_t[4]){ 51, 102, 204, 255 }));
   VKT_CHECK(check_pixel(px, 8, 8, (const uint8_t[4]){ 255, 0, 0, 255 }));
   VKT_CHECK(check_pixel(px, 47, 39, (const uint8_t[4]){ 255, 0, 0, 255 }));
   VKT_CHECK(check_pixel(px, 48, 40, (const uint8_t[4]){ 51, 102, 204, 255 }));
   VKT_CHECK(check_pixel(px, 16, 12, (const uint8_t[4]){ 0, 255, 0, 0 }));
   VKT_CHECK(check_pixel(px, 23, 19, (const uint8_t[4]){ 0, 255, 0, 0 }));
   return vkt_output(ctx, px, W * H * 4);
}

static VkResult
run(struct vkt_ctx *ctx)
{
   uint8_t px[W * H * 4];
   struct vkt_image img;

   VKT_CHECK(vkt_create_image(ctx, VK_FORMAT_R8G8B8A8_UNORM, W, H,
                              VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                                 VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                              &img));
   VKT_CHECK(clear_image(ctx, &img, px));
   return clear_in_pass(ctx, &img, px);
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;

   if (vkt_init(&ctx, argc, argv, "clear", NULL) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
