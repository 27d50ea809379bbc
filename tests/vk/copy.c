/* copy: buffer -> image (sub-rectangle, bufferRowLength, offset), image ->
 * image, image -> buffer (sub-rectangle into a padded layout), plus
 * vkCmdFillBuffer and vkCmdUpdateBuffer; the result is predicted on the host
 * and checked. Output: the destination buffer, then image B. */
#include "vkt.h"

#include <string.h>

#define W 64
#define H 64
#define SRC_OFFSET 256 /* buffer -> image: bytes before the first texel */
#define SRC_ROW 80     /* ... texels per buffer row */
#define DST_OFFSET 64  /* image -> buffer: bytes before the first texel */
#define DST_ROW 56     /* ... texels per buffer row */
#define SRC_SIZE (SRC_OFFSET + SRC_ROW * H * 4)
#define DST_SIZE (DST_OFFSET + DST_ROW * H * 4)

static const VkOffset3D up_off = { 4, 8, 0 };
static const VkExtent3D up_ext = { 48, 40, 1 };
static const VkOffset3D down_off = { 2, 3, 0 };
static const VkExtent3D down_ext = { 50, 45, 1 };
static const uint32_t gray = 0x80808080u; /* clear color of image A */

static uint32_t
src_texel(uint32_t u, uint32_t v)
{
   return (u * 0x01030507u) ^ (v * 0x0b0d1113u) ^ 0x5a000000u;
}

/* Texel of image A (and B) at (x, y) after the upload. */
static uint32_t
image_texel(uint32_t x, uint32_t y)
{
   uint32_t ux = (uint32_t)up_off.x, uy = (uint32_t)up_off.y;
   if (x >= ux && x < ux + up_ext.width && y >= uy && y < uy + up_ext.height)
      return src_texel(x - ux, y - uy);
   return gray;
}

static void
expected_dst(uint8_t *dst, const uint8_t *update, size_t update_size)
{
   memset(dst, 0xa5, DST_SIZE);
   memcpy(dst, update, update_size);
   for (uint32_t row = 0; row < down_ext.height; row++) {
      for (uint32_t col = 0; col < down_ext.width; col++) {
         uint32_t t = image_texel(col + (uint32_t)down_off.x, row + (uint32_t)down_off.y);
         memcpy(dst + DST_OFFSET + ((size_t)row * DST_ROW + col) * 4, &t, 4);
      }
   }
}

static void
record(VkCommandBuffer cmd, const struct vkt_buffer *src, const struct vkt_buffer *dst,
       const struct vkt_image *a, const struct vkt_image *b, const uint8_t *update,
       size_t update_size)
{
   const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
   const VkImageSubresourceLayers layers = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 };

   vkt_image_barrier(cmd, a->image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                     VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT,
                     VK_ACCESS_TRANSFER_WRITE_BIT);
   vkt_image_barrier(cmd, b->image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                     VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT,
                     VK_ACCESS_TRANSFER_WRITE_BIT);
   /* 128/255 in every channel: the texel value `gray` */
   const VkClearColorValue clear = { .float32 = { 128 / 255.0f, 128 / 255.0f, 128 / 255.0f,
                                                  128 / 255.0f } };
   vkCmdClearColorImage(cmd, a->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &clear, 1, &range);
   vkt_image_barrier(cmd, a->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                     VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                     VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                     VK_ACCESS_TRANSFER_WRITE_BIT);

   VkBufferImageCopy up = {
      .bufferOffset = SRC_OFFSET,
      .bufferRowLength = SRC_ROW,
      .bufferImageHeight = H,
      .imageSubresource = layers,
      .imageOffset = up_off,
      .imageExtent = up_ext,
   };
   vkCmdCopyBufferToImage(cmd, src->buffer, a->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &up);
   vkt_image_barrier(cmd, a->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                     VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                     VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                     VK_ACCESS_TRANSFER_READ_BIT);

   VkImageCopy whole = { layers, { 0, 0, 0 }, layers, { 0, 0, 0 }, { W, H, 1 } };
   vkCmdCopyImage(cmd, a->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, b->image,
                  VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &whole);
   vkt_image_barrier(cmd, b->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                     VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                     VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                     VK_ACCESS_TRANSFER_READ_BIT);

   vkCmdFillBuffer(cmd, dst->buffer, 0, VK_WHOLE_SIZE, 0xa5a5a5a5u);
   VkMemoryBarrier waw = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
   };
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1,
                        &waw, 0, NULL, 0, NULL);
   vkCmdUpdateBuffer(cmd, dst->buffer, 0, update_size, update);
   VkBufferImageCopy down = {
      .bufferOffset = DST_OFFSET,
      .bufferRowLength = DST_ROW,
      .bufferImageHeight = 0, /* tightly packed rows count */
      .imageSubresource = layers,
      .imageOffset = down_off,
      .imageExtent = down_ext,
   };
   vkCmdCopyImageToBuffer(cmd, b->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, dst->buffer, 1,
                          &down);
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct vkt_buffer src, dst;
   struct vkt_image a, b;
   VkCommandBuffer cmd;
   uint8_t update[DST_OFFSET];

   for (size_t i = 0; i < sizeof(update); i++)
      update[i] = (uint8_t)(i * 7 + 1);
   VKT_CHECK(vkt_create_host_buffer(ctx, SRC_SIZE, 0, &src));
   memset(src.map, 0xee, SRC_SIZE);
   for (uint32_t v = 0; v < H; v++) {
      for (uint32_t u = 0; u < SRC_ROW; u++) {
         uint32_t t = src_texel(u, v);
         memcpy((uint8_t *)src.map + SRC_OFFSET + ((size_t)v * SRC_ROW + u) * 4, &t, 4);
      }
   }
   VKT_CHECK(vkt_create_buffer(ctx, DST_SIZE,
                               VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &dst));
   const VkImageUsageFlags usage =
      VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
   VKT_CHECK(vkt_create_image(ctx, VK_FORMAT_R8G8B8A8_UNORM, W, H, usage, &a));
   VKT_CHECK(vkt_create_image(ctx, VK_FORMAT_R8G8B8A8_UNORM, W, H, usage, &b));

   VKT_CHECK(vkt_begin_once(ctx, &cmd));
   record(cmd, &src, &dst, &a, &b, update, sizeof(update));
   VKT_CHECK(vkt_end_once(ctx, cmd));

   const size_t size = DST_SIZE;
   uint8_t got[DST_SIZE], want[DST_SIZE];
   VKT_CHECK(vkt_read_buffer(ctx, dst.buffer, 0, size, got));
   expected_dst(want, update, sizeof(update));
   for (size_t i = 0; i < size; i++)
      VKT_EXPECT(got[i] == want[i], "dst byte %zu is 0x%02x, want 0x%02x", i, got[i], want[i]);
   VKT_CHECK(vkt_output(ctx, got, size));
   return vkt_output_image(ctx, &b, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;

   if (vkt_init(&ctx, argc, argv, "copy", NULL) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
