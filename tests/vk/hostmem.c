/* hostmem: host-visible mapped memory. Buffers bound at an offset inside
 * their allocations, one mapping at a non-zero offset; the host writes,
 * flushes, the GPU copies, the host invalidates and reads back; twice, so the
 * second round checks that a persistent mapping carries new data both ways.
 * Output: what the host read back in each round. */
#include "vkt.h"

#include <string.h>

#define SIZE (64 * 1024) /* bytes copied per round */
#define BIND_OFFSET 4096 /* where the buffers sit in their memory */
#define ALLOC (SIZE + 2 * BIND_OFFSET)

struct host_block {
   VkDeviceMemory memory;
   VkBuffer buffer;
   uint8_t *map; /* mapping of [BIND_OFFSET, ALLOC) */
};

static VkResult
create_block(struct vkt_ctx *ctx, VkBufferUsageFlags usage, struct host_block *b)
{
   VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = SIZE,
      .usage = usage,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
   };
   VkMemoryRequirements req;

   VKT_CHECK(vkCreateBuffer(ctx->device, &info, NULL, &b->buffer));
   vkGetBufferMemoryRequirements(ctx->device, b->buffer, &req);
   VKT_EXPECT(BIND_OFFSET % req.alignment == 0, "buffer alignment %llu too large",
              (unsigned long long)req.alignment);
   /* non-coherent cached memory makes flush/invalidate matter, if there is one */
   int type = vkt_memory_type(ctx, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                              VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
   VKT_EXPECT(type >= 0, "no host-visible memory type");
   VkMemoryAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = ALLOC,
      .memoryTypeIndex = (uint32_t)type,
   };
   VKT_CHECK(vkAllocateMemory(ctx->device, &alloc, NULL, &b->memory));
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_DEVICE_MEMORY, VKT_HANDLE(b->memory)));
   VKT_CHECK(vkt_track(ctx, VK_OBJECT_TYPE_BUFFER, VKT_HANDLE(b->buffer)));
   VKT_CHECK(vkBindBufferMemory(ctx->device, b->buffer, b->memory, BIND_OFFSET));
   void *map;
   VKT_CHECK(vkMapMemory(ctx->device, b->memory, BIND_OFFSET, VK_WHOLE_SIZE, 0, &map));
   b->map = map;
   return VK_SUCCESS;
}

/* A range of the block's mapping, widened to nonCoherentAtomSize. */
static VkMappedMemoryRange
block_range(const struct vkt_ctx *ctx, const struct host_block *b, VkDeviceSize offset,
            VkDeviceSize size)
{
   VkDeviceSize atom = ctx->props.limits.nonCoherentAtomSize;
   VkDeviceSize start = (BIND_OFFSET + offset) / atom * atom;
   VkDeviceSize end = (BIND_OFFSET + offset + size + atom - 1) / atom * atom;
   VkMappedMemoryRange r = {
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
      .memory = b->memory,
      .offset = start,
      .size = end > ALLOC ? VK_WHOLE_SIZE : end - start,
   };
   return r;
}

static VkResult
round_trip(struct vkt_ctx *ctx, struct host_block *src, struct host_block *dst, uint32_t seed)
{
   VkCommandBuffer cmd;

   for (uint32_t i = 0; i < SIZE / 4; i++) {
      uint32_t v = (i + seed) * 2246822519u;
      memcpy(src->map + i * 4, &v, 4);
   }
   /* flush in two pieces: the first 1000 bytes and the rest */
   VkMappedMemoryRange flush[2] = { block_range(ctx, src, 0, 1000),
                                    block_range(ctx, src, 1000, SIZE - 1000) };
   VKT_CHECK(vkFlushMappedMemoryRanges(ctx->device, 2, flush));

   VkMemoryBarrier from_host = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_HOST_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
   };
   VkMemoryBarrier to_host = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
   };
   VkBufferCopy regions[2] = { { 0, 0, SIZE / 2 }, { SIZE / 2, SIZE / 2, SIZE / 2 - 256 } };
   VKT_CHECK(vkt_begin_once(ctx, &cmd));
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_HOST_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1,
                        &from_host, 0, NULL, 0, NULL);
   vkCmdCopyBuffer(cmd, src->buffer, dst->buffer, 2, regions);
   /* the last 256 bytes come from the GPU, not from the source */
   vkCmdFillBuffer(cmd, dst->buffer, SIZE - 256, 256, 0x01020304u + seed);
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                        &to_host, 0, NULL, 0, NULL);
   VKT_CHECK(vkt_end_once(ctx, cmd));

   VkMappedMemoryRange inval = block_range(ctx, dst, 0, SIZE);
   VKT_CHECK(vkInvalidateMappedMemoryRanges(ctx->device, 1, &inval));
   VKT_EXPECT(memcmp(dst->map, src->map, SIZE - 256) == 0, "round %u: copied bytes differ", seed);
   for (uint32_t i = SIZE - 256; i < SIZE; i += 4) {
      uint32_t v;
      memcpy(&v, dst->map + i, 4);
      VKT_EXPECT(v == 0x01020304u + seed, "round %u: filled word at %u is 0x%08x", seed, i, v);
   }
   return vkt_output(ctx, dst->map, SIZE);
}

static VkResult
run(struct vkt_ctx *ctx)
{
   struct host_block src, dst;

   VKT_CHECK(create_block(ctx, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &src));
   VKT_CHECK(create_block(ctx, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &dst));
   VKT_CHECK(round_trip(ctx, &src, &dst, 1));
   VKT_CHECK(round_trip(ctx, &src, &dst, 2));
   /* a fresh mapping must see what the GPU wrote last */
   vkUnmapMemory(ctx->device, dst.memory);
   void *map;
   VKT_CHECK(vkMapMemory(ctx->device, dst.memory, 0, VK_WHOLE_SIZE, 0, &map));
   dst.map = (uint8_t *)map + BIND_OFFSET;
   VkMappedMemoryRange inval = { VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, dst.memory, 0,
                                 VK_WHOLE_SIZE };
   VKT_CHECK(vkInvalidateMappedMemoryRanges(ctx->device, 1, &inval));
   VKT_EXPECT(memcmp(dst.map, src.map, SIZE - 256) == 0, "remapped memory differs");
   return VK_SUCCESS;
}

int
main(int argc, char **argv)
{
   struct vkt_ctx ctx;

   if (vkt_init(&ctx, argc, argv, "hostmem", NULL) != VK_SUCCESS)
      return 1;
   return vkt_finish(&ctx, run(&ctx));
}
