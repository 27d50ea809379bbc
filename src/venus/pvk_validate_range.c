/*
 * Firewall rules for buffer and image ranges (pvk_validate.h): what a
 * command reads or writes must lie inside the buffer's size, the image's
 * mip levels, array layers and (per level) extent, and what a bind places
 * must lie inside the allocation.
 *
 * Checked: copies, fills, updates, blits and resolves (and their "2"
 * variants); buffer and image memory barriers (vkCmdPipelineBarrier(2),
 * vkCmdWaitEvents); buffer/image memory binds against the allocation size
 * with the driver's own memory requirements; buffer and image views;
 * index and vertex buffer offsets. Buffer <-> image copies compute the
 * bytes the buffer side spans from the format's texel block (core formats;
 * a format outside that table gets the image side checked only).
 *
 * Indirect draws and dispatches: the parameters they read (offset, count,
 * stride) inside the buffer, and the count buffer's word. The buffer is the
 * decoder's last lookup, so this costs no second lookup (buffer_of()).
 * Buffers and images that are a command's own parameters come with the
 * objects the decoder looked up (args-><name>_object, buffer_use(),
 * image_use()): no lookup at all.
 *
 * Not checked here: direct draws (the per-draw fast path has no lookups),
 * so an index or vertex range past the buffer's end is up to the driver's
 * robustness.
 */
#include <string.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_memory.h"
#include "venus/pvk_validate.h"

typedef unsigned __int128 u128;

/* --- object state by host handle --- */

struct buf {
   const struct pvk_buffer_state *s;
   uint64_t id;
   const struct vn_object *obj;
};

struct img {
   const struct pvk_image_state *s;
   uint64_t id;
};

/* Both record a command's use of the object in command buffer cb
 * (pvk_cb_use; NULL outside a command buffer). */
static struct buf
buffer_of(struct pvk_context *ctx, struct vn_object *cb, VkBuffer b)
{
   /* The decoder just looked the command's buffer up by id, which left it
    * as the table's last hit: no second lookup on the common path. */
   struct vn_object *o = ((const struct vn_object_table_head *)ctx->dispatch.objects)->last;
   if (!o || o->type != VK_OBJECT_TYPE_BUFFER || o->handle != (uint64_t)(uintptr_t)b)
      o = b ? vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_BUFFER,
                                          (uint64_t)(uintptr_t)b)
            : NULL;
   pvk_cb_use(ctx, cb, o);
   return (struct buf){ o ? o->data : NULL, o ? o->id : 0, o };
}

static struct img
image_of(struct pvk_context *ctx, struct vn_object *cb, VkImage i)
{
   struct vn_object *o = i ? vn_object_table_find_handle(
                                ctx->dispatch.objects, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)i)
                           : NULL;
   pvk_cb_use(ctx, cb, o);
   return (struct img){ o ? o->data : NULL, o ? o->id : 0 };
}

/* The same for the object the decoder resolved for a parameter
 * (args-><name>_object, _objects[i]): no lookup by host handle. */
static struct buf
buffer_use(struct pvk_context *ctx, struct vn_object *cb, struct vn_object *o)
{
   pvk_cb_use(ctx, cb, o);
   return (struct buf){ o ? o->data : NULL, o ? o->id : 0, o };
}

static struct img
image_use(struct pvk_context *ctx, struct vn_object *cb, struct vn_object *o)
{
   pvk_cb_use(ctx, cb, o);
   return (struct img){ o ? o->data : NULL, o ? o->id : 0 };
}

/* --- buffers --- */

/* [offset, offset + size) inside a buffer of `total` bytes; size may be
 * VK_WHOLE_SIZE when `whole_ok`. */
static const char *
buffer_range(const struct pvk_buffer_state *b, VkDeviceSize offset, VkDeviceSize size,
             bool whole_ok)
{
   if (!b)
      return "buffer without recorded size";
   if (!b->bound)
      return "buffer with no memory bound";
   if (whole_ok && size == VK_WHOLE_SIZE)
      return offset < b->size ? NULL : "offset beyond the buffer";
   if (offset > b->size || size > b->size - offset)
      return "range beyond the buffer";
   return NULL;
}

/* --- images --- */

static uint32_t
mip_dim(uint32_t d, uint32_t level)
{
   d = level < 32 ? d >> level : 0;
   return d ? d : 1;
}

static const char *
subresource_layers(const struct pvk_image_state *im, uint32_t mip, uint32_t base, uint32_t count)
{
   if (mip >= im->mip_levels)
      return "mip level beyond the image";
   if (count == VK_REMAINING_ARRAY_LAYERS)
      count = base < im->array_layers ? im->array_layers - base : 0;
   if (base >= im->array_layers || !count || count > im->array_layers - base)
      return "array layers beyond the image";
   return NULL;
}

static const char *
subresource_range(const struct pvk_image_state *im, const VkImageSubresourceRange *r)
{
   if (!im->bound)
      return "image with no memory bound";
   uint32_t levels = r->levelCount;
   if (levels == VK_REMAINING_MIP_LEVELS)
      levels = r->baseMipLevel < im->mip_levels ? im->mip_levels - r->baseMipLevel : 0;
   if (r->baseMipLevel >= im->mip_levels || !levels || levels > im->mip_levels - r->baseMipLevel)
      return "mip levels beyond the image";
   uint32_t layers = r->layerCount;
   if (layers == VK_REMAINING_ARRAY_LAYERS)
      layers = r->baseArrayLayer < im->array_layers ? im->array_layers - r->baseArrayLayer : 0;
   if (r->baseArrayLayer >= im->array_layers || !layers ||
       layers > im->array_layers - r->baseArrayLayer)
      return "array layers beyond the image";
   return NULL;
}

/* A box [offset, offset + extent) of one mip level. Non-3D images: z is 0
 * and the depth is 1 (or the layer count, for copies with a 3D image). */
static const char *
box(const struct pvk_image_state *im, uint32_t mip, VkOffset3D o, VkExtent3D e, uint32_t max_depth)
{
   const int64_t w = mip_dim(im->extent.width, mip), h = mip_dim(im->extent.height, mip),
                 d = im->type == VK_IMAGE_TYPE_3D ? mip_dim(im->extent.depth, mip) : 1;
   if (o.x < 0 || o.y < 0 || o.z < 0)
      return "negative offset";
   if (im->type != VK_IMAGE_TYPE_3D) {
      if (o.z != 0 || !e.depth || e.depth > max_depth)
         return "depth of a non-3D image";
      e.depth = 1;
   }
   if ((int64_t)o.x + e.width > w || (int64_t)o.y + e.height > h || (int64_t)o.z + e.depth > d)
      return "region beyond the mip level's extent";
   return NULL;
}

static const char *
image_region(const struct pvk_image_state *im, const VkImageSubresourceLayers *sub, VkOffset3D o,
             VkExtent3D e, uint32_t max_depth)
{
   if (!im)
      return "image without recorded state";
   if (!im->bound)
      return "image with no memory bound";
   const char *why = subresource_layers(im, sub->mipLevel, sub->baseArrayLayer, sub->layerCount);
   return why ? why : box(im, sub->mipLevel, o, e, max_depth);
}

/* Layers a region covers (VK_REMAINING_ARRAY_LAYERS resolved). */
static uint32_t
layer_count(const struct pvk_image_state *im, const VkImageSubresourceLayers *sub)
{
   if (sub->layerCount != VK_REMAINING_ARRAY_LAYERS)
      return sub->layerCount;
   return im && sub->baseArrayLayer < im->array_layers ? im->array_layers - sub->baseArrayLayer : 0;
}

/* YCbCr formats (VK_KHR_sampler_ycbcr_conversion from 1000156000,
 * VK_EXT_ycbcr_2plane_444_formats from 1000330000): a packed 4:2:2 format
 * copies in 2x1 blocks; a plane of a multi-planar format copies as its
 * own single-plane format, in that plane's texels (VkBufferImageCopy's
 * extent is the plane's), its bytes the unit or, for the CbCr plane of a
 * two-plane format, twice it. */
enum ycbcr_kind { YC_SINGLE, YC_PACKED_422, YC_3PLANE, YC_2PLANE };

static bool
ycbcr_block_of(VkFormat f, VkImageAspectFlags aspect, uint32_t *bytes, uint32_t *bw)
{
   static const struct {
      uint8_t kind, unit;
   } table[] = {
      { YC_PACKED_422, 4 }, { YC_PACKED_422, 4 }, { YC_3PLANE, 1 },     { YC_2PLANE, 1 },
      { YC_3PLANE, 1 },     { YC_2PLANE, 1 },     { YC_3PLANE, 1 },     { YC_SINGLE, 2 },
      { YC_SINGLE, 4 },     { YC_SINGLE, 8 },     { YC_PACKED_422, 8 }, { YC_PACKED_422, 8 },
      { YC_3PLANE, 2 },     { YC_2PLANE, 2 },     { YC_3PLANE, 2 },     { YC_2PLANE, 2 },
      { YC_3PLANE, 2 },     { YC_SINGLE, 2 },     { YC_SINGLE, 4 },     { YC_SINGLE, 8 },
      { YC_PACKED_422, 8 }, { YC_PACKED_422, 8 }, { YC_3PLANE, 2 },     { YC_2PLANE, 2 },
      { YC_3PLANE, 2 },     { YC_2PLANE, 2 },     { YC_3PLANE, 2 },     { YC_PACKED_422, 8 },
      { YC_PACKED_422, 8 }, { YC_3PLANE, 2 },     { YC_2PLANE, 2 },     { YC_3PLANE, 2 },
      { YC_2PLANE, 2 },     { YC_3PLANE, 2 },
   };
   uint32_t kind, unit;
   if ((uint32_t)f >= 1000156000u && (uint32_t)f - 1000156000u < sizeof(table) / sizeof(table[0])) {
      kind = table[f - 1000156000u].kind;
      unit = table[f - 1000156000u].unit;
   } else if ((uint32_t)f >= 1000330000u && (uint32_t)f <= 1000330003u) {
      kind = YC_2PLANE;
      unit = f == 1000330000u ? 1 : 2;
   } else {
      return false;
   }
   *bw = kind == YC_PACKED_422 ? 2 : 1;
   if (kind == YC_SINGLE || kind == YC_PACKED_422) {
      *bytes = unit;
      return aspect == VK_IMAGE_ASPECT_COLOR_BIT;
   }
   *bytes = unit;
   if (aspect == VK_IMAGE_ASPECT_PLANE_0_BIT)
      return true;
   if (aspect == VK_IMAGE_ASPECT_PLANE_1_BIT) {
      *bytes = kind == YC_2PLANE ? 2 * unit : unit;
      return true;
   }
   return aspect == VK_IMAGE_ASPECT_PLANE_2_BIT && kind == YC_3PLANE;
}

uint32_t
pvk_format_planes(VkFormat f)
{
   uint32_t bytes, bw;
   if (ycbcr_block_of(f, VK_IMAGE_ASPECT_PLANE_2_BIT, &bytes, &bw))
      return 3;
   return ycbcr_block_of(f, VK_IMAGE_ASPECT_PLANE_1_BIT, &bytes, &bw) ? 2 : 1;
}

/* Formats of extensions with a single-plane texel (4444, 1555, A8, NV's
 * fixed point, ASTC HDR): bytes and block extent. */
static bool
extension_block_of(VkFormat f, uint32_t *bytes, uint32_t *bw, uint32_t *bh)
{
   *bw = *bh = 1;
   switch ((int)f) {
   case VK_FORMAT_A8_UNORM:
      *bytes = 1;
      return true;
   case VK_FORMAT_A1B5G5R5_UNORM_PACK16:
   case VK_FORMAT_A4R4G4B4_UNORM_PACK16:
   case VK_FORMAT_A4B4G4R4_UNORM_PACK16:
      *bytes = 2;
      return true;
   case VK_FORMAT_R16G16_SFIXED5_NV:
      *bytes = 4;
      return true;
   default:
      return false;
   }
}

bool
pvk_copy_block(VkFormat f, VkImageAspectFlags aspect, uint32_t *bytes, uint32_t *bw, uint32_t *bh)
{
   static const struct {
      uint16_t first, last;
      uint8_t bytes, w, h;
   } table[] = {
      { 1, 1, 1, 1, 1 },      { 2, 8, 2, 1, 1 },      { 9, 15, 1, 1, 1 },
      { 16, 22, 2, 1, 1 },    { 23, 36, 3, 1, 1 },    { 37, 57, 4, 1, 1 },
      { 58, 69, 4, 1, 1 },    { 70, 76, 2, 1, 1 },    { 77, 83, 4, 1, 1 },
      { 84, 90, 6, 1, 1 },    { 91, 97, 8, 1, 1 },    { 98, 100, 4, 1, 1 },
      { 101, 103, 8, 1, 1 },  { 104, 106, 12, 1, 1 }, { 107, 109, 16, 1, 1 },
      { 110, 112, 8, 1, 1 },  { 113, 115, 16, 1, 1 }, { 116, 118, 24, 1, 1 },
      { 119, 121, 32, 1, 1 }, { 122, 123, 4, 1, 1 },  { 131, 134, 8, 4, 4 },
      { 135, 138, 16, 4, 4 }, { 139, 140, 8, 4, 4 },  { 141, 146, 16, 4, 4 },
      { 147, 150, 8, 4, 4 },  { 151, 152, 16, 4, 4 }, { 153, 154, 8, 4, 4 },
      { 155, 156, 16, 4, 4 },
   };
   *bw = *bh = 1;
   if (f >= VK_FORMAT_D16_UNORM && f <= VK_FORMAT_D32_SFLOAT_S8_UINT) {
      /* buffer copies of depth/stencil move one aspect */
      if (aspect & VK_IMAGE_ASPECT_STENCIL_BIT)
         *bytes = 1;
      else
         *bytes = f == VK_FORMAT_D16_UNORM || f == VK_FORMAT_D16_UNORM_S8_UINT ? 2 : 4;
      return f != VK_FORMAT_S8_UINT || (aspect & VK_IMAGE_ASPECT_STENCIL_BIT);
   }
   const bool astc_ldr =
      f >= VK_FORMAT_ASTC_4x4_UNORM_BLOCK && f <= VK_FORMAT_ASTC_12x12_SRGB_BLOCK;
   const bool astc_hdr =
      f >= VK_FORMAT_ASTC_4x4_SFLOAT_BLOCK && f <= VK_FORMAT_ASTC_12x12_SFLOAT_BLOCK;
   if (astc_ldr || astc_hdr) {
      static const uint8_t astc[14][2] = { { 4, 4 },  { 5, 4 },   { 5, 5 },   { 6, 5 },  { 6, 6 },
                                           { 8, 5 },  { 8, 6 },   { 8, 8 },   { 10, 5 }, { 10, 6 },
                                           { 10, 8 }, { 10, 10 }, { 12, 10 }, { 12, 12 } };
      /* LDR: UNORM and SRGB of each size; HDR: one SFLOAT each */
      const uint32_t i = astc_ldr ? (f - VK_FORMAT_ASTC_4x4_UNORM_BLOCK) / 2
                                  : (uint32_t)(f - VK_FORMAT_ASTC_4x4_SFLOAT_BLOCK);
      *bytes = 16;
      *bw = astc[i][0];
      *bh = astc[i][1];
      return true;
   }
   if (ycbcr_block_of(f, aspect, bytes, bw))
      return true;
   if (extension_block_of(f, bytes, bw, bh))
      return true;
   for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
      if ((uint32_t)f >= table[i].first && (uint32_t)f <= table[i].last) {
         *bytes = table[i].bytes;
         *bw = table[i].w;
         *bh = table[i].h;
         return true;
      }
   }
   return false;
}

uint32_t
pvk_vertex_format_bytes(VkFormat f)
{
   uint32_t bytes, bw, bh;
   if (f >= VK_FORMAT_R4G4_UNORM_PACK8 && f <= VK_FORMAT_E5B9G9R9_UFLOAT_PACK32)
      return pvk_copy_block(f, VK_IMAGE_ASPECT_COLOR_BIT, &bytes, &bw, &bh) ? bytes : 0;
   return extension_block_of(f, &bytes, &bw, &bh) ? bytes : 0;
}

/* The buffer side of a buffer <-> image copy region. */
static const char *
buffer_image_region(const struct pvk_buffer_state *b, const struct pvk_image_state *im,
                    const VkBufferImageCopy *r)
{
   if (!b)
      return "buffer without recorded size";
   /* VUID-vkCmdCopyBufferToImage-srcBuffer-00176,
    * VUID-vkCmdCopyImageToBuffer-dstBuffer-00192 */
   if (!b->bound)
      return "buffer with no memory bound";
   if (r->bufferRowLength && r->bufferRowLength < r->imageExtent.width)
      return "bufferRowLength below the width";
   if (r->bufferImageHeight && r->bufferImageHeight < r->imageExtent.height)
      return "bufferImageHeight below the height";
   uint32_t bytes, bw, bh;
   /* a format whose texel size is not known here is not copied: the
    * driver would read or write the buffer by a size not checked */
   if (!pvk_copy_block(im->format, r->imageSubresource.aspectMask, &bytes, &bw, &bh))
      return "image format or aspect without a known texel block size";
   if (!r->imageExtent.width || !r->imageExtent.height || !r->imageExtent.depth)
      return "empty region";
   const u128 row =
      ((r->bufferRowLength ? r->bufferRowLength : r->imageExtent.width) + bw - 1) / bw;
   const u128 rows =
      ((r->bufferImageHeight ? r->bufferImageHeight : r->imageExtent.height) + bh - 1) / bh;
   const u128 slices = (u128)(im->type == VK_IMAGE_TYPE_3D ? r->imageExtent.depth : 1) *
                       layer_count(im, &r->imageSubresource);
   const u128 w = (r->imageExtent.width + bw - 1) / bw, h = (r->imageExtent.height + bh - 1) / bh;
   const u128 end = (u128)r->bufferOffset + ((slices - 1) * rows * row + (h - 1) * row + w) * bytes;
   return end <= b->size ? NULL : "buffer range of the copy beyond the buffer";
}

/* --- reporting --- */

static bool
ok_or_reject(struct pvk_context *ctx, const char *why, const char *cmd, uint32_t region,
             uint64_t src, uint64_t dst)
{
   if (!why)
      return true;
   pvk_reject(ctx, "range: %s region %u: %s (source %llu, destination %llu)", cmd, region, why,
              (unsigned long long)src, (unsigned long long)dst);
   return false;
}

static struct pvk_device *
device_of(struct vn_object *dispatch)
{
   return pvk_device_from_base(dispatch->device);
}

/* --- copies --- */

static bool
check_copy_buffer(struct pvk_context *ctx, struct vn_object *cb, const char *cmd, VkBuffer src,
                  VkBuffer dst, uint32_t n, const VkBufferCopy *r, size_t stride)
{
   const struct buf s = buffer_of(ctx, cb, src), d = buffer_of(ctx, cb, dst);
   for (uint32_t i = 0; i < n; i++) {
      const VkBufferCopy *c = (const VkBufferCopy *)((const char *)r + i * stride);
      const char *why = c->size ? buffer_range(s.s, c->srcOffset, c->size, false) : "empty region";
      if (!why)
         why = buffer_range(d.s, c->dstOffset, c->size, false);
      if (!ok_or_reject(ctx, why, cmd, i, s.id, d.id))
         return false;
   }
   return true;
}

void
vn_handle_vkCmdCopyBuffer(struct vn_dispatch_context *dctx, struct vn_command_vkCmdCopyBuffer *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (check_copy_buffer(ctx, args->dispatch, "vkCmdCopyBuffer", args->srcBuffer, args->dstBuffer,
                         args->regionCount, args->pRegions, sizeof(VkBufferCopy)))
      device_of(args->dispatch)
         ->dispatch.vkCmdCopyBuffer(args->commandBuffer, args->srcBuffer, args->dstBuffer,
                                    args->regionCount, args->pRegions);
}

/* VkBufferCopy2 holds a VkBufferCopy's fields after sType and pNext. */
_Static_assert(offsetof(VkBufferCopy2, srcOffset) + sizeof(VkBufferCopy) <= sizeof(VkBufferCopy2),
               "VkBufferCopy2 layout");

void
vn_handle_vkCmdCopyBuffer2(struct vn_dispatch_context *dctx,
                           struct vn_command_vkCmdCopyBuffer2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdCopyBuffer2))
      return;
   const VkCopyBufferInfo2 *info = args->pCopyBufferInfo;
   if (!info || (info->regionCount && !info->pRegions)) {
      pvk_context_set_lost(ctx, "vkCmdCopyBuffer2: missing regions");
      return;
   }
   if (check_copy_buffer(ctx, args->dispatch, "vkCmdCopyBuffer2", info->srcBuffer, info->dstBuffer,
                         info->regionCount,
                         info->pRegions ? (const VkBufferCopy *)&info->pRegions[0].srcOffset : NULL,
                         sizeof(VkBufferCopy2)))
      device_of(args->dispatch)->dispatch.vkCmdCopyBuffer2(args->commandBuffer, info);
}

void
vn_handle_vkCmdFillBuffer(struct vn_dispatch_context *dctx, struct vn_command_vkCmdFillBuffer *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const struct buf d = buffer_use(ctx, args->dispatch, args->dstBuffer_object);
   const char *why = args->dstOffset % 4 || (args->size != VK_WHOLE_SIZE && args->size % 4)
                        ? "offset or size not a multiple of 4"
                        : buffer_range(d.s, args->dstOffset, args->size, true);
   if (!why && !args->size)
      why = "empty fill";
   if (ok_or_reject(ctx, why, "vkCmdFillBuffer", 0, 0, d.id))
      device_of(args->dispatch)
         ->dispatch.vkCmdFillBuffer(args->commandBuffer, args->dstBuffer, args->dstOffset,
                                    args->size, args->data);
}

void
vn_handle_vkCmdUpdateBuffer(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCmdUpdateBuffer *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const struct buf d = buffer_use(ctx, args->dispatch, args->dstBuffer_object);
   const char *why = args->dstOffset % 4 || args->dataSize % 4 || !args->dataSize ||
                           args->dataSize > 65536 || !args->pData
                        ? "offset or size not a multiple of 4, or size not in 4..65536"
                        : buffer_range(d.s, args->dstOffset, args->dataSize, false);
   if (ok_or_reject(ctx, why, "vkCmdUpdateBuffer", 0, 0, d.id))
      device_of(args->dispatch)
         ->dispatch.vkCmdUpdateBuffer(args->commandBuffer, args->dstBuffer, args->dstOffset,
                                      args->dataSize, args->pData);
}

/* Image to image (copy, resolve): both sides, the extent shared. */
static const char *
image_pair(const struct img *s, const struct img *d, const VkImageSubresourceLayers *ss,
           VkOffset3D so, const VkImageSubresourceLayers *ds, VkOffset3D dofs, VkExtent3D e)
{
   if (!s->s || !d->s)
      return "image without recorded state";
   /* with a 3D image on the other side, a 2D image's layers are the depth */
   const uint32_t sdepth = d->s->type == VK_IMAGE_TYPE_3D ? layer_count(s->s, ss) : 1;
   const uint32_t ddepth = s->s->type == VK_IMAGE_TYPE_3D ? layer_count(d->s, ds) : 1;
   const char *why = image_region(s->s, ss, so, e, sdepth);
   if (why)
      return why;
   /* between a compressed and an uncompressed format the extent is in
    * source texels: the destination covers as many of its own blocks */
   uint32_t sb, sbw, sbh, db, dbw, dbh;
   if (pvk_copy_block(s->s->format, ss->aspectMask, &sb, &sbw, &sbh) &&
       pvk_copy_block(d->s->format, ds->aspectMask, &db, &dbw, &dbh) &&
       (sbw != dbw || sbh != dbh)) {
      e.width = (uint32_t)(((uint64_t)e.width + sbw - 1) / sbw * dbw);
      e.height = (uint32_t)(((uint64_t)e.height + sbh - 1) / sbh * dbh);
   }
   return image_region(d->s, ds, dofs, e, ddepth);
}

void
vn_handle_vkCmdCopyImage(struct vn_dispatch_context *dctx, struct vn_command_vkCmdCopyImage *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const struct img s = image_use(ctx, args->dispatch, args->srcImage_object),
                    d = image_use(ctx, args->dispatch, args->dstImage_object);
   for (uint32_t i = 0; i < args->regionCount; i++) {
      const VkImageCopy *r = &args->pRegions[i];
      if (!ok_or_reject(ctx,
                        image_pair(&s, &d, &r->srcSubresource, r->srcOffset, &r->dstSubresource,
                                   r->dstOffset, r->extent),
                        "vkCmdCopyImage", i, s.id, d.id))
         return;
   }
   device_of(args->dispatch)
      ->dispatch.vkCmdCopyImage(args->commandBuffer, args->srcImage, args->srcImageLayout,
                                args->dstImage, args->dstImageLayout, args->regionCount,
                                args->pRegions);
}

void
vn_handle_vkCmdCopyImage2(struct vn_dispatch_context *dctx, struct vn_command_vkCmdCopyImage2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdCopyImage2))
      return;
   const VkCopyImageInfo2 *info = args->pCopyImageInfo;
   if (!info || (info->regionCount && !info->pRegions)) {
      pvk_context_set_lost(ctx, "vkCmdCopyImage2: missing regions");
      return;
   }
   const struct img s = image_of(ctx, args->dispatch, info->srcImage),
                    d = image_of(ctx, args->dispatch, info->dstImage);
   for (uint32_t i = 0; i < info->regionCount; i++) {
      const VkImageCopy2 *r = &info->pRegions[i];
      if (!ok_or_reject(ctx,
                        image_pair(&s, &d, &r->srcSubresource, r->srcOffset, &r->dstSubresource,
                                   r->dstOffset, r->extent),
                        "vkCmdCopyImage2", i, s.id, d.id))
         return;
   }
   device_of(args->dispatch)->dispatch.vkCmdCopyImage2(args->commandBuffer, info);
}

void
vn_handle_vkCmdResolveImage(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCmdResolveImage *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const struct img s = image_use(ctx, args->dispatch, args->srcImage_object),
                    d = image_use(ctx, args->dispatch, args->dstImage_object);
   for (uint32_t i = 0; i < args->regionCount; i++) {
      const VkImageResolve *r = &args->pRegions[i];
      if (!ok_or_reject(ctx,
                        image_pair(&s, &d, &r->srcSubresource, r->srcOffset, &r->dstSubresource,
                                   r->dstOffset, r->extent),
                        "vkCmdResolveImage", i, s.id, d.id))
         return;
   }
   device_of(args->dispatch)
      ->dispatch.vkCmdResolveImage(args->commandBuffer, args->srcImage, args->srcImageLayout,
                                   args->dstImage, args->dstImageLayout, args->regionCount,
                                   args->pRegions);
}

/* A blit side: two corners inside the level, in any order. */
static const char *
blit_side(const struct pvk_image_state *im, const VkImageSubresourceLayers *sub,
          const VkOffset3D o[2])
{
   if (!im)
      return "image without recorded state";
   /* VUID-vkCmdBlitImage-srcImage-00220, VUID-vkCmdBlitImage-dstImage-00225 */
   if (!im->bound)
      return "image with no memory bound";
   const char *why = subresource_layers(im, sub->mipLevel, sub->baseArrayLayer, sub->layerCount);
   if (why)
      return why;
   const int64_t w = mip_dim(im->extent.width, sub->mipLevel),
                 h = mip_dim(im->extent.height, sub->mipLevel),
                 d = im->type == VK_IMAGE_TYPE_3D ? mip_dim(im->extent.depth, sub->mipLevel) : 1;
   for (int k = 0; k < 2; k++) {
      if (o[k].x < 0 || o[k].y < 0 || o[k].z < 0 || o[k].x > w || o[k].y > h || o[k].z > d)
         return "blit corner beyond the mip level's extent";
   }
   return NULL;
}

void
vn_handle_vkCmdBlitImage(struct vn_dispatch_context *dctx, struct vn_command_vkCmdBlitImage *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const struct img s = image_use(ctx, args->dispatch, args->srcImage_object),
                    d = image_use(ctx, args->dispatch, args->dstImage_object);
   for (uint32_t i = 0; i < args->regionCount; i++) {
      const VkImageBlit *r = &args->pRegions[i];
      const char *why = blit_side(s.s, &r->srcSubresource, r->srcOffsets);
      if (!why)
         why = blit_side(d.s, &r->dstSubresource, r->dstOffsets);
      if (!ok_or_reject(ctx, why, "vkCmdBlitImage", i, s.id, d.id))
         return;
   }
   device_of(args->dispatch)
      ->dispatch.vkCmdBlitImage(args->commandBuffer, args->srcImage, args->srcImageLayout,
                                args->dstImage, args->dstImageLayout, args->regionCount,
                                args->pRegions, args->filter);
}

static const char *
buffer_image(const struct buf *b, const struct img *im, const VkBufferImageCopy *r)
{
   const char *why = image_region(im->s, &r->imageSubresource, r->imageOffset, r->imageExtent, 1);
   return why ? why : buffer_image_region(b->s, im->s, r);
}

void
vn_handle_vkCmdCopyBufferToImage(struct vn_dispatch_context *dctx,
                                 struct vn_command_vkCmdCopyBufferToImage *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const struct buf b = buffer_use(ctx, args->dispatch, args->srcBuffer_object);
   const struct img im = image_use(ctx, args->dispatch, args->dstImage_object);
   for (uint32_t i = 0; i < args->regionCount; i++) {
      if (!ok_or_reject(ctx, buffer_image(&b, &im, &args->pRegions[i]), "vkCmdCopyBufferToImage", i,
                        b.id, im.id))
         return;
   }
   device_of(args->dispatch)
      ->dispatch.vkCmdCopyBufferToImage(args->commandBuffer, args->srcBuffer, args->dstImage,
                                        args->dstImageLayout, args->regionCount, args->pRegions);
}

void
vn_handle_vkCmdCopyImageToBuffer(struct vn_dispatch_context *dctx,
                                 struct vn_command_vkCmdCopyImageToBuffer *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const struct buf b = buffer_use(ctx, args->dispatch, args->dstBuffer_object);
   const struct img im = image_use(ctx, args->dispatch, args->srcImage_object);
   for (uint32_t i = 0; i < args->regionCount; i++) {
      if (!ok_or_reject(ctx, buffer_image(&b, &im, &args->pRegions[i]), "vkCmdCopyImageToBuffer", i,
                        im.id, b.id))
         return;
   }
   device_of(args->dispatch)
      ->dispatch.vkCmdCopyImageToBuffer(args->commandBuffer, args->srcImage, args->srcImageLayout,
                                        args->dstBuffer, args->regionCount, args->pRegions);
}

static VkBufferImageCopy
region1(const VkBufferImageCopy2 *r)
{
   return (VkBufferImageCopy){ r->bufferOffset,     r->bufferRowLength, r->bufferImageHeight,
                               r->imageSubresource, r->imageOffset,     r->imageExtent };
}

void
vn_handle_vkCmdCopyBufferToImage2(struct vn_dispatch_context *dctx,
                                  struct vn_command_vkCmdCopyBufferToImage2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdCopyBufferToImage2))
      return;
   const VkCopyBufferToImageInfo2 *info = args->pCopyBufferToImageInfo;
   if (!info || (info->regionCount && !info->pRegions)) {
      pvk_context_set_lost(ctx, "vkCmdCopyBufferToImage2: missing regions");
      return;
   }
   const struct buf b = buffer_of(ctx, args->dispatch, info->srcBuffer);
   const struct img im = image_of(ctx, args->dispatch, info->dstImage);
   for (uint32_t i = 0; i < info->regionCount; i++) {
      const VkBufferImageCopy r = region1(&info->pRegions[i]);
      if (!ok_or_reject(ctx, buffer_image(&b, &im, &r), "vkCmdCopyBufferToImage2", i, b.id, im.id))
         return;
   }
   device_of(args->dispatch)->dispatch.vkCmdCopyBufferToImage2(args->commandBuffer, info);
}

void
vn_handle_vkCmdCopyImageToBuffer2(struct vn_dispatch_context *dctx,
                                  struct vn_command_vkCmdCopyImageToBuffer2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdCopyImageToBuffer2))
      return;
   const VkCopyImageToBufferInfo2 *info = args->pCopyImageToBufferInfo;
   if (!info || (info->regionCount && !info->pRegions)) {
      pvk_context_set_lost(ctx, "vkCmdCopyImageToBuffer2: missing regions");
      return;
   }
   const struct buf b = buffer_of(ctx, args->dispatch, info->dstBuffer);
   const struct img im = image_of(ctx, args->dispatch, info->srcImage);
   for (uint32_t i = 0; i < info->regionCount; i++) {
      const VkBufferImageCopy r = region1(&info->pRegions[i]);
      if (!ok_or_reject(ctx, buffer_image(&b, &im, &r), "vkCmdCopyImageToBuffer2", i, im.id, b.id))
         return;
   }
   device_of(args->dispatch)->dispatch.vkCmdCopyImageToBuffer2(args->commandBuffer, info);
}

/* --- barriers --- */

static bool
check_barriers(struct pvk_context *ctx, struct vn_object *cb, const char *cmd, uint32_t nb,
               const void *buffers, size_t bstride, size_t boff, uint32_t ni, const void *images,
               size_t istride, size_t ioff)
{
   for (uint32_t i = 0; i < nb; i++) {
      const char *p = (const char *)buffers + i * bstride + boff;
      VkBuffer handle;
      VkDeviceSize offset, size;
      /* buffer, offset, size: consecutive in both barrier structs */
      memcpy(&handle, p, sizeof(handle));
      memcpy(&offset, p + sizeof(VkBuffer), sizeof(offset));
      memcpy(&size, p + sizeof(VkBuffer) + sizeof(VkDeviceSize), sizeof(size));
      const struct buf b = buffer_of(ctx, cb, handle);
      const char *why = size ? buffer_range(b.s, offset, size, true) : "empty range";
      if (!ok_or_reject(ctx, why, cmd, i, 0, b.id))
         return false;
   }
   for (uint32_t i = 0; i < ni; i++) {
      const char *p = (const char *)images + i * istride + ioff;
      VkImage handle;
      VkImageSubresourceRange range;
      /* image, subresourceRange: consecutive in both barrier structs */
      memcpy(&handle, p, sizeof(handle));
      memcpy(&range, p + sizeof(VkImage), sizeof(range));
      const struct img im = image_of(ctx, cb, handle);
      const char *why = im.s ? subresource_range(im.s, &range) : "image without recorded state";
      if (!ok_or_reject(ctx, why, cmd, i, 0, im.id))
         return false;
   }
   return true;
}

_Static_assert(offsetof(VkBufferMemoryBarrier, offset) ==
                     offsetof(VkBufferMemoryBarrier, buffer) + sizeof(VkBuffer) &&
                  offsetof(VkBufferMemoryBarrier, size) ==
                     offsetof(VkBufferMemoryBarrier, offset) + sizeof(VkDeviceSize),
               "VkBufferMemoryBarrier layout");
_Static_assert(offsetof(VkBufferMemoryBarrier2, offset) ==
                     offsetof(VkBufferMemoryBarrier2, buffer) + sizeof(VkBuffer) &&
                  offsetof(VkBufferMemoryBarrier2, size) ==
                     offsetof(VkBufferMemoryBarrier2, offset) + sizeof(VkDeviceSize),
               "VkBufferMemoryBarrier2 layout");
_Static_assert(offsetof(VkImageMemoryBarrier, subresourceRange) ==
                  offsetof(VkImageMemoryBarrier, image) + sizeof(VkImage),
               "VkImageMemoryBarrier layout");
_Static_assert(offsetof(VkImageMemoryBarrier2, subresourceRange) ==
                  offsetof(VkImageMemoryBarrier2, image) + sizeof(VkImage),
               "VkImageMemoryBarrier2 layout");

static bool
check_barriers1(struct pvk_context *ctx, struct vn_object *cb, const char *cmd, uint32_t nb,
                const VkBufferMemoryBarrier *b, uint32_t ni, const VkImageMemoryBarrier *im)
{
   if ((nb && !b) || (ni && !im)) {
      pvk_context_set_lost(ctx, "barrier array without elements");
      return false;
   }
   return check_barriers(ctx, cb, cmd, nb, b, sizeof(*b), offsetof(VkBufferMemoryBarrier, buffer),
                         ni, im, sizeof(*im), offsetof(VkImageMemoryBarrier, image));
}

static bool
check_dependency(struct pvk_context *ctx, struct vn_object *cb, const char *cmd,
                 const VkDependencyInfo *d)
{
   if (!d || (d->bufferMemoryBarrierCount && !d->pBufferMemoryBarriers) ||
       (d->imageMemoryBarrierCount && !d->pImageMemoryBarriers)) {
      pvk_context_set_lost(ctx, "barrier array without elements");
      return false;
   }
   return check_barriers(ctx, cb, cmd, d->bufferMemoryBarrierCount, d->pBufferMemoryBarriers,
                         sizeof(VkBufferMemoryBarrier2), offsetof(VkBufferMemoryBarrier2, buffer),
                         d->imageMemoryBarrierCount, d->pImageMemoryBarriers,
                         sizeof(VkImageMemoryBarrier2), offsetof(VkImageMemoryBarrier2, image));
}

void
vn_handle_vkCmdPipelineBarrier(struct vn_dispatch_context *dctx,
                               struct vn_command_vkCmdPipelineBarrier *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (check_barriers1(ctx, args->dispatch, "vkCmdPipelineBarrier", args->bufferMemoryBarrierCount,
                       args->pBufferMemoryBarriers, args->imageMemoryBarrierCount,
                       args->pImageMemoryBarriers))
      device_of(args->dispatch)
         ->dispatch.vkCmdPipelineBarrier(
            args->commandBuffer, args->srcStageMask, args->dstStageMask, args->dependencyFlags,
            args->memoryBarrierCount, args->pMemoryBarriers, args->bufferMemoryBarrierCount,
            args->pBufferMemoryBarriers, args->imageMemoryBarrierCount, args->pImageMemoryBarriers);
}

void
vn_handle_vkCmdPipelineBarrier2(struct vn_dispatch_context *dctx,
                                struct vn_command_vkCmdPipelineBarrier2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdPipelineBarrier2))
      return;
   if (check_dependency(ctx, args->dispatch, "vkCmdPipelineBarrier2", args->pDependencyInfo))
      device_of(args->dispatch)
         ->dispatch.vkCmdPipelineBarrier2(args->commandBuffer, args->pDependencyInfo);
}

/* Events are recorded uses: lavapipe's queue thread writes and reads the
 * event's memory when the command buffer runs. */
static void
use_events(struct pvk_context *ctx, struct vn_object *cb, uint32_t count,
           struct vn_object *const *events)
{
   for (uint32_t i = 0; events && i < count; i++)
      pvk_cb_use(ctx, cb, events[i]);
}

void
vn_handle_vkCmdSetEvent(struct vn_dispatch_context *dctx, struct vn_command_vkCmdSetEvent *args)
{
   pvk_cb_use(pvk_context_from_dispatch(dctx), args->dispatch, args->event_object);
   device_of(args->dispatch)
      ->dispatch.vkCmdSetEvent(args->commandBuffer, args->event, args->stageMask);
}

void
vn_handle_vkCmdResetEvent(struct vn_dispatch_context *dctx, struct vn_command_vkCmdResetEvent *args)
{
   pvk_cb_use(pvk_context_from_dispatch(dctx), args->dispatch, args->event_object);
   device_of(args->dispatch)
      ->dispatch.vkCmdResetEvent(args->commandBuffer, args->event, args->stageMask);
}

void
vn_handle_vkCmdSetEvent2(struct vn_dispatch_context *dctx, struct vn_command_vkCmdSetEvent2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdSetEvent2))
      return;
   pvk_cb_use(ctx, args->dispatch, args->event_object);
   if (check_dependency(ctx, args->dispatch, "vkCmdSetEvent2", args->pDependencyInfo))
      device_of(args->dispatch)
         ->dispatch.vkCmdSetEvent2(args->commandBuffer, args->event, args->pDependencyInfo);
}

void
vn_handle_vkCmdResetEvent2(struct vn_dispatch_context *dctx,
                           struct vn_command_vkCmdResetEvent2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdResetEvent2))
      return;
   pvk_cb_use(ctx, args->dispatch, args->event_object);
   device_of(args->dispatch)
      ->dispatch.vkCmdResetEvent2(args->commandBuffer, args->event, args->stageMask);
}

void
vn_handle_vkCmdWaitEvents(struct vn_dispatch_context *dctx, struct vn_command_vkCmdWaitEvents *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   use_events(ctx, args->dispatch, args->eventCount, args->pEvents_objects);
   if (check_barriers1(ctx, args->dispatch, "vkCmdWaitEvents", args->bufferMemoryBarrierCount,
                       args->pBufferMemoryBarriers, args->imageMemoryBarrierCount,
                       args->pImageMemoryBarriers))
      device_of(args->dispatch)
         ->dispatch.vkCmdWaitEvents(args->commandBuffer, args->eventCount, args->pEvents,
                                    args->srcStageMask, args->dstStageMask,
                                    args->memoryBarrierCount, args->pMemoryBarriers,
                                    args->bufferMemoryBarrierCount, args->pBufferMemoryBarriers,
                                    args->imageMemoryBarrierCount, args->pImageMemoryBarriers);
}

/* --- vertex and index buffers --- */

/* VUID-vkCmdBindVertexBuffers-firstBinding-00624/00625 (the same for
 * vkCmdBindVertexBuffers2): drivers index fixed arrays with the binding. */
static bool
vertex_bindings_ok(struct pvk_context *ctx, const char *cmd, struct vn_object *dispatch,
                   uint32_t first, uint32_t count)
{
   const uint32_t max = device_of(dispatch)->physical_device->max_vertex_bindings;
   if (first < max && count <= max - first)
      return true;
   pvk_reject(ctx, "limits: %s: bindings %u..+%u outside 0..%u", cmd, first, count, max);
   return false;
}

/* VUID-vkCmdBindIndexBuffer-indexType-parameter, -indexType-08786 (not
 * VK_INDEX_TYPE_NONE_KHR), -indexType-08787 (UINT8 needs indexTypeUint8);
 * the same for vkCmdBindIndexBuffer2. A driver derives the index size from
 * it (lavapipe divides by it). */
static const char *
index_type(const struct pvk_device *dev, VkIndexType type)
{
   switch (type) {
   case VK_INDEX_TYPE_UINT16:
   case VK_INDEX_TYPE_UINT32:
      return NULL;
   case VK_INDEX_TYPE_UINT8:
      return dev->index_type_uint8 ? NULL
                                   : "VK_INDEX_TYPE_UINT8 without the indexTypeUint8 feature";
   case VK_INDEX_TYPE_NONE_KHR:
      return "VK_INDEX_TYPE_NONE_KHR";
   default:
      return "indexType not a VkIndexType";
   }
}

void
vn_handle_vkCmdBindIndexBuffer(struct vn_dispatch_context *dctx,
                               struct vn_command_vkCmdBindIndexBuffer *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const struct buf b = buffer_use(ctx, args->dispatch, args->buffer_object);
   const char *why = index_type(device_of(args->dispatch), args->indexType);
   if (!why)
      why = args->buffer && (!b.s || args->offset >= b.s->size) ? "offset beyond the buffer"
            : args->buffer && !b.s->bound                       ? "buffer with no memory bound"
                                                                : NULL;
   if (!ok_or_reject(ctx, why, "vkCmdBindIndexBuffer", 0, b.id, 0))
      return;
   device_of(args->dispatch)
      ->dispatch.vkCmdBindIndexBuffer(args->commandBuffer, args->buffer, args->offset,
                                      args->indexType);
   pvk_recording_bind_index(ctx, args->dispatch, args->indexType,
                            args->buffer ? b.s->size - args->offset : UINT64_MAX);
}

void
vn_handle_vkCmdBindVertexBuffers(struct vn_dispatch_context *dctx,
                                 struct vn_command_vkCmdBindVertexBuffers *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (args->bindingCount && (!args->pBuffers || !args->pOffsets)) {
      pvk_context_set_lost(ctx, "vkCmdBindVertexBuffers: array without elements");
      return;
   }
   if (!vertex_bindings_ok(ctx, "vkCmdBindVertexBuffers", args->dispatch, args->firstBinding,
                           args->bindingCount))
      return;
   for (uint32_t i = 0; i < args->bindingCount; i++) {
      if (!args->pBuffers[i]) { /* nullDescriptor */
         pvk_draw_bind_vertex_buffer(args->dispatch, args->firstBinding + i, NULL, 0, NULL);
         continue;
      }
      const struct buf b = buffer_use(ctx, args->dispatch, args->pBuffers_objects[i]);
      const char *why = !b.s || args->pOffsets[i] >= b.s->size ? "offset beyond the buffer"
                        : !b.s->bound                          ? "buffer with no memory bound"
                                                               : NULL;
      if (!ok_or_reject(ctx, why, "vkCmdBindVertexBuffers", i, b.id, 0))
         return;
      pvk_draw_bind_vertex_buffer(args->dispatch, args->firstBinding + i, b.obj,
                                  b.s->size - args->pOffsets[i], NULL);
   }
   device_of(args->dispatch)
      ->dispatch.vkCmdBindVertexBuffers(args->commandBuffer, args->firstBinding, args->bindingCount,
                                        args->pBuffers, args->pOffsets);
}

/* --- memory binds --- */

static const char *
bind_range(struct pvk_device *dev, VkDeviceMemory memory, VkDeviceSize offset,
           const VkMemoryRequirements *req)
{
   const struct pvk_device_memory *m = pvk_device_memory_lookup(dev, (uint64_t)(uintptr_t)memory);
   if (!m)
      return "unknown memory";
   if (req->alignment && offset % req->alignment)
      return "offset not aligned as the driver requires";
   if (offset > m->alloc_size || req->size > m->alloc_size - offset)
      return "offset + required size beyond the allocation";
   if (!(req->memoryTypeBits & (1u << m->type_index)))
      return "memory type not allowed for the object";
   return NULL;
}

/* *state: the buffer's, for a claim (NULL when it has none). */
static const char *
bind_buffer(struct pvk_context *ctx, struct pvk_device *dev, VkBuffer buffer, VkDeviceMemory memory,
            VkDeviceSize offset, uint64_t *ids, struct pvk_buffer_state **state)
{
   const struct vn_object *obj = vn_object_table_find_handle(
      ctx->dispatch.objects, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)buffer);
   struct pvk_buffer_state *b = obj ? obj->data : NULL;
   *state = b;
   ids[0] = obj ? obj->id : 0;
   ids[1] = pvk_guest_id(ctx, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)(uintptr_t)memory);
   /* the firewall's memory tracking holds one memory per buffer */
   if (b && (b->bound || b->memory_freed))
      return "buffer already bound (before, earlier in this call, or to memory freed since), or "
             "sparse (VUID-vkBindBufferMemory-buffer-07459/01030)";
   VkMemoryRequirements req;
   dev->dispatch.vkGetBufferMemoryRequirements(dev->handle, buffer, &req);
   return bind_range(dev, memory, offset, &req);
}

static const VkBindImagePlaneMemoryInfo *
plane_info(const void *chain)
{
   for (const VkBaseInStructure *s = chain; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_BIND_IMAGE_PLANE_MEMORY_INFO)
         return (const VkBindImagePlaneMemoryInfo *)s;
   }
   return NULL;
}

/* The plane index of `aspect` for an image of `planes` planes, or -1 when
 * it is not one single plane of it. */
static int
plane_index(VkImageAspectFlags aspect, uint32_t planes)
{
   const int p = aspect == VK_IMAGE_ASPECT_PLANE_0_BIT   ? 0
                 : aspect == VK_IMAGE_ASPECT_PLANE_1_BIT ? 1
                 : aspect == VK_IMAGE_ASPECT_PLANE_2_BIT ? 2
                                                         : -1;
   return p >= 0 && (uint32_t)p < planes ? p : -1;
}

/* A bind of one plane of a DISJOINT image: the plane's own requirements
 * (VUID-VkBindImageMemoryInfo-pNext-01619/01620/01621). */
static const char *
bind_plane(struct pvk_device *dev, VkImage image, VkDeviceMemory memory, VkDeviceSize offset,
           VkImageAspectFlagBits aspect)
{
   if (!dev->dispatch.vkGetImageMemoryRequirements2)
      return "a plane bind on a host device without vkGetImageMemoryRequirements2";
   VkImagePlaneMemoryRequirementsInfo plane = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_PLANE_MEMORY_REQUIREMENTS_INFO,
      .planeAspect = aspect,
   };
   const VkImageMemoryRequirementsInfo2 info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2,
      .pNext = &plane,
      .image = image,
   };
   VkMemoryRequirements2 req = { .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2 };
   dev->dispatch.vkGetImageMemoryRequirements2(dev->handle, &info, &req);
   return bind_range(dev, memory, offset, &req.memoryRequirements);
}

/* An image bind: VkBindImagePlaneMemoryInfo exactly for DISJOINT images
 * (VUID-VkBindImageMemoryInfo-pNext-01618, -image-07736,
 * VUID-vkBindImageMemory-image-01608), naming one plane of the format
 * (VUID-VkBindImagePlaneMemoryInfo-planeAspect-02283), whose own size must
 * fit; other images as a whole. Drivers that ignore the plane struct
 * (lavapipe 22.3) bind the whole image at the offset. *plane: the plane
 * bound (0 for a whole image). */
static const char *
bind_image(struct pvk_context *ctx, struct pvk_device *dev, VkImage image, VkDeviceMemory memory,
           VkDeviceSize offset, const void *chain, uint64_t *ids, uint32_t *plane,
           struct pvk_image_state **state)
{
   const struct vn_object *obj = vn_object_table_find_handle(
      ctx->dispatch.objects, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)image);
   struct pvk_image_state *im = obj ? obj->data : NULL;
   *state = im;
   ids[0] = obj ? obj->id : 0;
   ids[1] = pvk_guest_id(ctx, VK_OBJECT_TYPE_DEVICE_MEMORY, (uint64_t)(uintptr_t)memory);
   *plane = 0;
   const VkBindImagePlaneMemoryInfo *p = plane_info(chain);
   const bool disjoint = im && im->planes;
   if (p && !disjoint)
      return "VkBindImagePlaneMemoryInfo for an image created without DISJOINT "
             "(VUID-VkBindImageMemoryInfo-pNext-01618)";
   if (!p && disjoint)
      return "a DISJOINT image bound without VkBindImagePlaneMemoryInfo "
             "(VUID-VkBindImageMemoryInfo-image-07736, VUID-vkBindImageMemory-image-01608)";
   /* the firewall's memory tracking holds one memory per image or plane */
   if (!p && im && (im->bound || (im->memory_freed & PVK_IMAGE_WHOLE_FREED)))
      return "image already bound (before, earlier in this call, or to memory freed since), or "
             "sparse (VUID-VkBindImageMemoryInfo-image-07460/01045, "
             "VUID-vkBindImageMemory2-pBindInfos-04006)";
   if (p) {
      const int i = plane_index(p->planeAspect, im->planes);
      if (i < 0)
         return "planeAspect not one plane of the image's format "
                "(VUID-VkBindImagePlaneMemoryInfo-planeAspect-02283)";
      if ((im->planes_bound | im->memory_freed) & (1u << i))
         return "plane already bound (before, earlier in this call, or to memory freed since) "
                "(VUID-VkBindImageMemoryInfo-image-07460, "
                "VUID-vkBindImageMemory2-pBindInfos-04006)";
      *plane = (uint32_t)i;
      return bind_plane(dev, image, memory, offset, p->planeAspect);
   }
   VkMemoryRequirements req;
   dev->dispatch.vkGetImageMemoryRequirements(dev->handle, image, &req);
   return bind_range(dev, memory, offset, &req);
}

/* vkBind*Memory2 checks its binds in order and claims each checked
 * object (or plane) at once, so that the same one later in the call is
 * refused as already bound; a failed call gives the claims back. The
 * firewall tracks one memory per object or plane: binding one twice in a
 * call would leave it believing the memory of the last bind. */
static void
claim_buffer(struct pvk_buffer_state *b, bool claim)
{
   if (b)
      b->bound = claim;
}

static void
claim_image(struct pvk_image_state *im, const void *chain, bool claim)
{
   if (!im)
      return;
   const VkBindImagePlaneMemoryInfo *p = plane_info(chain);
   const int plane = p ? plane_index(p->planeAspect, im->planes) : -1;
   if (plane < 0) {
      im->bound = claim;
      return;
   }
   if (claim) {
      im->planes_bound |= 1u << plane;
   } else {
      im->planes_bound &= ~(1u << plane);
      im->bound = false;
   }
}

/* After a successful bind: the object is usable until its memory is
 * freed. */
static void
mark_bound(struct pvk_context *ctx, struct pvk_device *dev, VkObjectType type, uint64_t handle,
           VkDeviceMemory memory, uint32_t plane)
{
   struct pvk_device_memory *m = pvk_device_memory_lookup(dev, (uint64_t)(uintptr_t)memory);
   if (m)
      m->has_binds = true;
   pvk_validate_mark_bound(ctx, type, handle, (uint64_t)(uintptr_t)memory, plane);
}

static bool
bind_ok(struct pvk_context *ctx, const char *why, const char *cmd, uint32_t i, const uint64_t *ids)
{
   if (!why)
      return true;
   pvk_reject(ctx, "range: %s bind %u: %s (object %llu, memory %llu)", cmd, i, why,
              (unsigned long long)ids[0], (unsigned long long)ids[1]);
   return false;
}

void
vn_handle_vkBindBufferMemory(struct vn_dispatch_context *dctx,
                             struct vn_command_vkBindBufferMemory *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = device_of(args->dispatch);
   uint64_t ids[2];
   struct pvk_buffer_state *b;
   if (!bind_ok(ctx, bind_buffer(ctx, dev, args->buffer, args->memory, args->memoryOffset, ids, &b),
                "vkBindBufferMemory", 0, ids))
      return;
   args->ret = dev->dispatch.vkBindBufferMemory(args->device, args->buffer, args->memory,
                                                args->memoryOffset);
   if (args->ret == VK_SUCCESS)
      mark_bound(ctx, dev, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)args->buffer, args->memory,
                 0);
}

void
vn_handle_vkBindBufferMemory2(struct vn_dispatch_context *dctx,
                              struct vn_command_vkBindBufferMemory2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkBindBufferMemory2))
      return;
   struct pvk_device *dev = device_of(args->dispatch);
   for (uint32_t i = 0; args->pBindInfos && i < args->bindInfoCount; i++) {
      const VkBindBufferMemoryInfo *b = &args->pBindInfos[i];
      uint64_t ids[2];
      struct pvk_buffer_state *state;
      if (!bind_ok(ctx, bind_buffer(ctx, dev, b->buffer, b->memory, b->memoryOffset, ids, &state),
                   "vkBindBufferMemory2", i, ids))
         return;
      claim_buffer(state, true);
   }
   args->ret =
      dev->dispatch.vkBindBufferMemory2(args->device, args->bindInfoCount, args->pBindInfos);
   for (uint32_t i = 0; i < args->bindInfoCount; i++) {
      const VkBindBufferMemoryInfo *b = &args->pBindInfos[i];
      if (args->ret == VK_SUCCESS) {
         mark_bound(ctx, dev, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)b->buffer, b->memory, 0);
         continue;
      }
      const struct vn_object *obj = vn_object_table_find_handle(
         ctx->dispatch.objects, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)b->buffer);
      claim_buffer(obj ? obj->data : NULL, false);
   }
}

void
vn_handle_vkBindImageMemory(struct vn_dispatch_context *dctx,
                            struct vn_command_vkBindImageMemory *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = device_of(args->dispatch);
   uint64_t ids[2];
   uint32_t plane;
   struct pvk_image_state *im;
   if (!bind_ok(ctx,
                bind_image(ctx, dev, args->image, args->memory, args->memoryOffset, NULL, ids,
                           &plane, &im),
                "vkBindImageMemory", 0, ids))
      return;
   args->ret =
      dev->dispatch.vkBindImageMemory(args->device, args->image, args->memory, args->memoryOffset);
   if (args->ret == VK_SUCCESS)
      mark_bound(ctx, dev, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)args->image, args->memory, 0);
}

void
vn_handle_vkBindImageMemory2(struct vn_dispatch_context *dctx,
                             struct vn_command_vkBindImageMemory2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkBindImageMemory2))
      return;
   struct pvk_device *dev = device_of(args->dispatch);
   for (uint32_t i = 0; args->pBindInfos && i < args->bindInfoCount; i++) {
      const VkBindImageMemoryInfo *b = &args->pBindInfos[i];
      uint64_t ids[2];
      uint32_t plane;
      struct pvk_image_state *state = NULL;
      /* swapchain binds (VK_NULL_HANDLE memory) are not offered: lavapipe
       * 22.3 reads the memory of any other bind through the NULL handle */
      const char *why = !b->memory ? "no memory (VUID-VkBindImageMemoryInfo-pNext-01632)"
                                   : bind_image(ctx, dev, b->image, b->memory, b->memoryOffset,
                                                b->pNext, ids, &plane, &state);
      if (!b->memory) {
         ids[0] = pvk_guest_id(ctx, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)b->image);
         ids[1] = 0;
      }
      if (!bind_ok(ctx, why, "vkBindImageMemory2", i, ids))
         return;
      claim_image(state, b->pNext, true);
   }
   args->ret =
      dev->dispatch.vkBindImageMemory2(args->device, args->bindInfoCount, args->pBindInfos);
   for (uint32_t i = 0; i < args->bindInfoCount; i++) {
      const VkBindImageMemoryInfo *b = &args->pBindInfos[i];
      if (args->ret == VK_SUCCESS) {
         const VkBindImagePlaneMemoryInfo *p = plane_info(b->pNext);
         mark_bound(ctx, dev, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)b->image, b->memory,
                    p ? (uint32_t)plane_index(p->planeAspect, 3) : 0);
         continue;
      }
      const struct vn_object *obj = vn_object_table_find_handle(
         ctx->dispatch.objects, VK_OBJECT_TYPE_IMAGE, (uint64_t)(uintptr_t)b->image);
      claim_image(obj ? obj->data : NULL, b->pNext, false);
   }
}

/* --- views --- */

static struct pvk_view_state *
insert_view(struct pvk_context *ctx, struct pvk_device *dev, VkObjectType type, uint64_t id,
            uint64_t handle, uint64_t parent)
{
   struct vn_object *obj = vn_object_table_insert(ctx->dispatch.objects, id, type, handle);
   if (!obj) {
      struct vn_object o = { .type = type, .handle = handle, .device = pvk_device_base(dev) };
      vn_object_destroy_host(&o);
      pvk_context_set_lost(ctx, "view: bad or duplicate object id");
      return NULL;
   }
   obj->instance = pvk_instance_base(dev->instance);
   obj->device = pvk_device_base(dev);
   return pvk_view_record_parent(ctx, obj, parent);
}

/* VUID-VkImageViewCreateInfo-image-01762 (another format needs
 * MUTABLE_FORMAT), -01761 and -01583 (a compatible one: the same texel
 * block size). Drivers address a view's texels with the view's block size
 * and the image's row pitch and size: a larger block reads and writes past
 * the image. Pairs outside the block table (multi-planar, etc.) are passed
 * on for mutable images. */
static const char *
view_format_why(const struct pvk_image_state *im, VkFormat format, VkImageAspectFlags aspects)
{
   if (format == im->format)
      return NULL;
   if (!(im->flags & VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT))
      return "view format other than the image's, which is not MUTABLE_FORMAT";
   uint32_t ib, iw, ih, vb, vw, vh;
   const bool known_image = pvk_copy_block(im->format, aspects, &ib, &iw, &ih);
   const bool known_view = pvk_copy_block(format, aspects, &vb, &vw, &vh);
   if (!known_image && !known_view)
      return NULL;
   if (known_image != known_view || ib != vb)
      return "view format of another texel block size than the image's";
   if (iw == vw && ih == vh)
      return NULL;
   /* an uncompressed view of a compressed image: one texel per block */
   if ((im->flags & VK_IMAGE_CREATE_BLOCK_TEXEL_VIEW_COMPATIBLE_BIT) && vw == 1 && vh == 1)
      return NULL;
   return "view format of another block extent than the image's";
}

void
vn_handle_vkCreateBufferView(struct vn_dispatch_context *dctx,
                             struct vn_command_vkCreateBufferView *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = device_of(args->dispatch);
   const VkBufferViewCreateInfo *info = args->pCreateInfo;
   if (!info || !args->pView) {
      pvk_context_set_lost(ctx, "vkCreateBufferView: missing arguments");
      return;
   }
   const struct buf b = buffer_of(ctx, NULL, info->buffer);
   const char *why =
      info->range ? buffer_range(b.s, info->offset, info->range, true) : "empty range";
   if (!ok_or_reject(ctx, why, "vkCreateBufferView", 0, b.id, 0))
      return;
   VkBufferView handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateBufferView(dev->handle, info, NULL, &handle);
   if (args->ret == VK_SUCCESS)
      insert_view(ctx, dev, VK_OBJECT_TYPE_BUFFER_VIEW, (uint64_t)(uintptr_t)*args->pView,
                  (uint64_t)(uintptr_t)handle, (uint64_t)(uintptr_t)info->buffer);
}

/* What a framebuffer or a rendering may cover with the view. */
static void
record_view_extent(struct pvk_view_state *v, const struct pvk_image_state *im,
                   const VkImageViewCreateInfo *info)
{
   const uint32_t level = info->subresourceRange.baseMipLevel;
   v->width = (uint32_t)mip_dim(im->extent.width, level);
   v->height = (uint32_t)mip_dim(im->extent.height, level);
   v->usage = im->usage;
   v->format = info->format;
   if (im->type == VK_IMAGE_TYPE_3D) {
      const uint32_t slices = (uint32_t)mip_dim(im->extent.depth, level);
      /* a 3D view is one layer; a 2D (array) view has the slices as layers */
      v->layers = info->viewType == VK_IMAGE_VIEW_TYPE_3D ? 1
                  : info->subresourceRange.layerCount == VK_REMAINING_ARRAY_LAYERS
                     ? slices - info->subresourceRange.baseArrayLayer
                     : info->subresourceRange.layerCount;
   } else {
      const VkImageSubresourceRange *r = &info->subresourceRange;
      v->layers = r->layerCount != VK_REMAINING_ARRAY_LAYERS ? r->layerCount
                                                             : im->array_layers - r->baseArrayLayer;
   }
}

void
vn_handle_vkCreateImageView(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCreateImageView *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = device_of(args->dispatch);
   const VkImageViewCreateInfo *info = args->pCreateInfo;
   if (!info || !args->pView) {
      pvk_context_set_lost(ctx, "vkCreateImageView: missing arguments");
      return;
   }
   const struct img im = image_of(ctx, NULL, info->image);
   const char *why = "image without recorded state";
   if (im.s && im.s->type == VK_IMAGE_TYPE_3D && info->viewType != VK_IMAGE_VIEW_TYPE_3D) {
      /* a 2D (array) view of a 3D image (2D_ARRAY_COMPATIBLE): its layers
       * are the depth slices of one level */
      struct pvk_image_state slices = *im.s;
      slices.array_layers = mip_dim(im.s->extent.depth, info->subresourceRange.baseMipLevel);
      why = subresource_range(&slices, &info->subresourceRange);
   } else if (im.s) {
      why = subresource_range(im.s, &info->subresourceRange);
   }
   if (!why)
      why = view_format_why(im.s, info->format, info->subresourceRange.aspectMask);
   if (!ok_or_reject(ctx, why, "vkCreateImageView", 0, im.id, 0))
      return;
   VkImageView handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateImageView(dev->handle, info, NULL, &handle);
   if (args->ret != VK_SUCCESS)
      return;
   struct pvk_view_state *v =
      insert_view(ctx, dev, VK_OBJECT_TYPE_IMAGE_VIEW, (uint64_t)(uintptr_t)*args->pView,
                  (uint64_t)(uintptr_t)handle, (uint64_t)(uintptr_t)info->image);
   if (v)
      record_view_extent(v, im.s, info);
}

/* --- "2" variants of blits, resolves and event waits --- */

void
vn_handle_vkCmdBlitImage2(struct vn_dispatch_context *dctx, struct vn_command_vkCmdBlitImage2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdBlitImage2))
      return;
   const VkBlitImageInfo2 *info = args->pBlitImageInfo;
   if (!info || (info->regionCount && !info->pRegions)) {
      pvk_context_set_lost(ctx, "vkCmdBlitImage2: missing regions");
      return;
   }
   const struct img s = image_of(ctx, args->dispatch, info->srcImage),
                    d = image_of(ctx, args->dispatch, info->dstImage);
   for (uint32_t i = 0; i < info->regionCount; i++) {
      const VkImageBlit2 *r = &info->pRegions[i];
      const char *why = blit_side(s.s, &r->srcSubresource, r->srcOffsets);
      if (!why)
         why = blit_side(d.s, &r->dstSubresource, r->dstOffsets);
      if (!ok_or_reject(ctx, why, "vkCmdBlitImage2", i, s.id, d.id))
         return;
   }
   device_of(args->dispatch)->dispatch.vkCmdBlitImage2(args->commandBuffer, info);
}

void
vn_handle_vkCmdResolveImage2(struct vn_dispatch_context *dctx,
                             struct vn_command_vkCmdResolveImage2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdResolveImage2))
      return;
   const VkResolveImageInfo2 *info = args->pResolveImageInfo;
   if (!info || (info->regionCount && !info->pRegions)) {
      pvk_context_set_lost(ctx, "vkCmdResolveImage2: missing regions");
      return;
   }
   const struct img s = image_of(ctx, args->dispatch, info->srcImage),
                    d = image_of(ctx, args->dispatch, info->dstImage);
   for (uint32_t i = 0; i < info->regionCount; i++) {
      const VkImageResolve2 *r = &info->pRegions[i];
      if (!ok_or_reject(ctx,
                        image_pair(&s, &d, &r->srcSubresource, r->srcOffset, &r->dstSubresource,
                                   r->dstOffset, r->extent),
                        "vkCmdResolveImage2", i, s.id, d.id))
         return;
   }
   device_of(args->dispatch)->dispatch.vkCmdResolveImage2(args->commandBuffer, info);
}

void
vn_handle_vkCmdWaitEvents2(struct vn_dispatch_context *dctx,
                           struct vn_command_vkCmdWaitEvents2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdWaitEvents2))
      return;
   use_events(ctx, args->dispatch, args->eventCount, args->pEvents_objects);
   if (args->eventCount && !args->pDependencyInfos) {
      pvk_context_set_lost(ctx, "vkCmdWaitEvents2: no dependency infos");
      return;
   }
   for (uint32_t i = 0; i < args->eventCount; i++) {
      if (!check_dependency(ctx, args->dispatch, "vkCmdWaitEvents2", &args->pDependencyInfos[i]))
         return;
   }
   device_of(args->dispatch)
      ->dispatch.vkCmdWaitEvents2(args->commandBuffer, args->eventCount, args->pEvents,
                                  args->pDependencyInfos);
}

/* --- indirect draws and dispatches --- */

/* `count` records of `size` bytes, `stride` apart, from `offset`. */
static const char *
indirect_range(const struct pvk_buffer_state *b, VkDeviceSize offset, uint32_t count,
               uint32_t stride, uint32_t size)
{
   if (!count)
      return NULL;
   if (!b)
      return "buffer without recorded size";
   /* VUID-vkCmdDrawIndirect-buffer-02708 and the like */
   if (!b->bound)
      return "buffer with no memory bound";
   if (offset % 4)
      return "offset not a multiple of 4";
   if (count > 1 && (stride % 4 || stride < size))
      return "stride not a multiple of 4 or below the record size";
   const u128 end = (u128)offset + (u128)(count - 1) * stride + size;
   return end <= b->size ? NULL : "indirect records beyond the buffer";
}

static bool
indirect_ok(struct pvk_context *ctx, struct vn_object *cb, const char *cmd, VkBuffer buffer,
            VkDeviceSize offset, uint32_t count, uint32_t stride, uint32_t size)
{
   /* first: the buffer is the decoder's last hit */
   const struct buf b = buffer_of(ctx, cb, buffer);
   return ok_or_reject(ctx, indirect_range(b.s, offset, count, stride, size), cmd, 0, b.id, 0);
}

void
vn_handle_vkCmdDrawIndirect(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCmdDrawIndirect *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (indirect_ok(ctx, args->dispatch, "vkCmdDrawIndirect", args->buffer, args->offset,
                   args->drawCount, args->stride, sizeof(VkDrawIndirectCommand)) &&
       pvk_draw_ok(dctx, ctx, args->dispatch, "vkCmdDrawIndirect", 0, 0, 0, 0, true))
      device_of(args->dispatch)
         ->dispatch.vkCmdDrawIndirect(args->commandBuffer, args->buffer, args->offset,
                                      args->drawCount, args->stride);
}

void
vn_handle_vkCmdDrawIndexedIndirect(struct vn_dispatch_context *dctx,
                                   struct vn_command_vkCmdDrawIndexedIndirect *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (indirect_ok(ctx, args->dispatch, "vkCmdDrawIndexedIndirect", args->buffer, args->offset,
                   args->drawCount, args->stride, sizeof(VkDrawIndexedIndirectCommand)) &&
       pvk_draw_ok(dctx, ctx, args->dispatch, "vkCmdDrawIndexedIndirect", 0, 0, 0, 0, true) &&
       pvk_recording_indices_ok(ctx, args->dispatch, "vkCmdDrawIndexedIndirect", 0, 0))
      device_of(args->dispatch)
         ->dispatch.vkCmdDrawIndexedIndirect(args->commandBuffer, args->buffer, args->offset,
                                             args->drawCount, args->stride);
}

void
vn_handle_vkCmdDispatchIndirect(struct vn_dispatch_context *dctx,
                                struct vn_command_vkCmdDispatchIndirect *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (indirect_ok(ctx, args->dispatch, "vkCmdDispatchIndirect", args->buffer, args->offset, 1, 0,
                   sizeof(VkDispatchIndirectCommand)) &&
       pvk_recording_pipeline_bound(ctx, args->dispatch, "vkCmdDispatchIndirect",
                                    VK_PIPELINE_BIND_POINT_COMPUTE))
      device_of(args->dispatch)
         ->dispatch.vkCmdDispatchIndirect(args->commandBuffer, args->buffer, args->offset);
}

static bool
indirect_count_ok(struct pvk_context *ctx, struct vn_object *cb, const char *cmd, VkBuffer buffer,
                  VkDeviceSize offset, VkBuffer count_buffer, VkDeviceSize count_offset,
                  uint32_t max, uint32_t stride, uint32_t size)
{
   /* the count is read at execution: only the first record is known to be
    * read (a maxDrawCount beyond the buffer is valid while the count stays
    * below it) */
   if (!indirect_ok(ctx, cb, cmd, buffer, offset, max ? 1 : 0, stride, size))
      return false;
   const struct buf c = buffer_of(ctx, cb, count_buffer);
   const char *why = count_offset % 4 ? "count offset not a multiple of 4"
                                      : buffer_range(c.s, count_offset, 4, false);
   return ok_or_reject(ctx, why, cmd, 0, c.id, 0);
}

void
vn_handle_vkCmdDrawIndirectCount(struct vn_dispatch_context *dctx,
                                 struct vn_command_vkCmdDrawIndirectCount *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdDrawIndirectCount))
      return;
   if (indirect_count_ok(ctx, args->dispatch, "vkCmdDrawIndirectCount", args->buffer, args->offset,
                         args->countBuffer, args->countBufferOffset, args->maxDrawCount,
                         args->stride, sizeof(VkDrawIndirectCommand)) &&
       pvk_draw_ok(dctx, ctx, args->dispatch, "vkCmdDrawIndirectCount", 0, 0, 0, 0, true))
      device_of(args->dispatch)
         ->dispatch.vkCmdDrawIndirectCount(args->commandBuffer, args->buffer, args->offset,
                                           args->countBuffer, args->countBufferOffset,
                                           args->maxDrawCount, args->stride);
}

void
vn_handle_vkCmdDrawIndexedIndirectCount(struct vn_dispatch_context *dctx,
                                        struct vn_command_vkCmdDrawIndexedIndirectCount *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdDrawIndexedIndirectCount))
      return;
   if (indirect_count_ok(ctx, args->dispatch, "vkCmdDrawIndexedIndirectCount", args->buffer,
                         args->offset, args->countBuffer, args->countBufferOffset,
                         args->maxDrawCount, args->stride, sizeof(VkDrawIndexedIndirectCommand)) &&
       pvk_draw_ok(dctx, ctx, args->dispatch, "vkCmdDrawIndexedIndirectCount", 0, 0, 0, 0, true) &&
       pvk_recording_indices_ok(ctx, args->dispatch, "vkCmdDrawIndexedIndirectCount", 0, 0))
      device_of(args->dispatch)
         ->dispatch.vkCmdDrawIndexedIndirectCount(args->commandBuffer, args->buffer, args->offset,
                                                  args->countBuffer, args->countBufferOffset,
                                                  args->maxDrawCount, args->stride);
}

/* --- vertex and index buffers with sizes (dynamic state, maintenance5) --- */

void
vn_handle_vkCmdBindVertexBuffers2(struct vn_dispatch_context *dctx,
                                  struct vn_command_vkCmdBindVertexBuffers2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdBindVertexBuffers2))
      return;
   if (args->bindingCount && (!args->pBuffers || !args->pOffsets)) {
      pvk_context_set_lost(ctx, "vkCmdBindVertexBuffers2: array without elements");
      return;
   }
   if (!vertex_bindings_ok(ctx, "vkCmdBindVertexBuffers2", args->dispatch, args->firstBinding,
                           args->bindingCount))
      return;
   for (uint32_t i = 0; i < args->bindingCount; i++) {
      const VkDeviceSize *stride = args->pStrides ? &args->pStrides[i] : NULL;
      if (!args->pBuffers[i]) { /* nullDescriptor */
         pvk_draw_bind_vertex_buffer(args->dispatch, args->firstBinding + i, NULL, 0, stride);
         continue;
      }
      const struct buf b = buffer_use(ctx, args->dispatch, args->pBuffers_objects[i]);
      const VkDeviceSize size = args->pSizes ? args->pSizes[i] : VK_WHOLE_SIZE;
      const char *why = !b.s || args->pOffsets[i] >= b.s->size
                           ? "offset beyond the buffer"
                           : buffer_range(b.s, args->pOffsets[i], size, true);
      if (!ok_or_reject(ctx, why, "vkCmdBindVertexBuffers2", i, b.id, 0))
         return;
      pvk_draw_bind_vertex_buffer(args->dispatch, args->firstBinding + i, b.obj,
                                  size == VK_WHOLE_SIZE ? b.s->size - args->pOffsets[i] : size,
                                  stride);
   }
   device_of(args->dispatch)
      ->dispatch.vkCmdBindVertexBuffers2(args->commandBuffer, args->firstBinding,
                                         args->bindingCount, args->pBuffers, args->pOffsets,
                                         args->pSizes, args->pStrides);
}

void
vn_handle_vkCmdBindIndexBuffer2(struct vn_dispatch_context *dctx,
                                struct vn_command_vkCmdBindIndexBuffer2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdBindIndexBuffer2))
      return;
   const struct buf b = buffer_use(ctx, args->dispatch, args->buffer_object);
   const char *why = index_type(device_of(args->dispatch), args->indexType);
   if (!why && args->buffer)
      why = !b.s || args->offset >= b.s->size ? "offset beyond the buffer"
                                              : buffer_range(b.s, args->offset, args->size, true);
   if (!ok_or_reject(ctx, why, "vkCmdBindIndexBuffer2", 0, b.id, 0))
      return;
   device_of(args->dispatch)
      ->dispatch.vkCmdBindIndexBuffer2(args->commandBuffer, args->buffer, args->offset, args->size,
                                       args->indexType);
   const uint64_t rest = args->buffer ? b.s->size - args->offset : UINT64_MAX;
   pvk_recording_bind_index(
      ctx, args->dispatch, args->indexType,
      args->buffer && args->size != VK_WHOLE_SIZE && args->size < rest ? args->size : rest);
}

/* --- image clears --- */

/* VUID-vkCmdClearColorImage-image-00003 (bound), -baseMipLevel-01470,
 * -pRanges-01692, -baseArrayLayer-01472, -pRanges-01693; the same for
 * vkCmdClearDepthStencilImage (-image-00010, -baseMipLevel-01474, ...). */
static bool
clear_ok(struct pvk_context *ctx, struct vn_object *cb, const char *cmd, VkImage image,
         const void *value, uint32_t n, const VkImageSubresourceRange *ranges)
{
   if (!value || (n && !ranges)) { /* VUID-vkCmdClearColorImage-pColor-parameter */
      pvk_context_set_lost(ctx, "image clear: no clear value, or ranges array without elements");
      return false;
   }
   const struct img im = image_of(ctx, cb, image);
   for (uint32_t i = 0; i < n; i++) {
      const char *why = im.s ? subresource_range(im.s, &ranges[i]) : "image without recorded state";
      if (!ok_or_reject(ctx, why, cmd, i, 0, im.id))
         return false;
   }
   return true;
}

void
vn_handle_vkCmdClearColorImage(struct vn_dispatch_context *dctx,
                               struct vn_command_vkCmdClearColorImage *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (clear_ok(ctx, args->dispatch, "vkCmdClearColorImage", args->image, args->pColor,
                args->rangeCount, args->pRanges))
      device_of(args->dispatch)
         ->dispatch.vkCmdClearColorImage(args->commandBuffer, args->image, args->imageLayout,
                                         args->pColor, args->rangeCount, args->pRanges);
}

void
vn_handle_vkCmdClearDepthStencilImage(struct vn_dispatch_context *dctx,
                                      struct vn_command_vkCmdClearDepthStencilImage *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (clear_ok(ctx, args->dispatch, "vkCmdClearDepthStencilImage", args->image,
                args->pDepthStencil, args->rangeCount, args->pRanges))
      device_of(args->dispatch)
         ->dispatch.vkCmdClearDepthStencilImage(args->commandBuffer, args->image, args->imageLayout,
                                                args->pDepthStencil, args->rangeCount,
                                                args->pRanges);
}

/* --- transform feedback and conditional rendering (rare: queries allowed) --- */

/* A 4-byte word at `offset` of a bound buffer (counters, predicates). */
static const char *
word_range(const struct pvk_buffer_state *b, VkDeviceSize offset)
{
   return offset % 4 ? "offset not a multiple of 4" : buffer_range(b, offset, 4, false);
}

/* The device's VkPhysicalDeviceTransformFeedbackPropertiesEXT (zeroes when
 * the host cannot tell: everything is then refused). */
static VkPhysicalDeviceTransformFeedbackPropertiesEXT
xfb_props(struct pvk_device *dev)
{
   VkPhysicalDeviceTransformFeedbackPropertiesEXT xfb = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TRANSFORM_FEEDBACK_PROPERTIES_EXT,
   };
   VkPhysicalDeviceProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
      .pNext = &xfb,
   };
   if (dev->instance->dispatch.vkGetPhysicalDeviceProperties2)
      dev->instance->dispatch.vkGetPhysicalDeviceProperties2(dev->physical_device->handle, &props);
   return xfb;
}

/* firstBinding/firstCounterBuffer + count inside maxTransformFeedbackBuffers
 * (drivers index fixed arrays with them). */
static bool
xfb_slots_ok(struct pvk_context *ctx, struct pvk_device *dev, const char *cmd, uint32_t first,
             uint32_t count)
{
   const uint32_t max = xfb_props(dev).maxTransformFeedbackBuffers;
   if (first < max && count <= max - first)
      return true;
   pvk_reject(ctx, "range: %s: buffers %u..+%u beyond maxTransformFeedbackBuffers %u", cmd, first,
              count, max);
   return false;
}

/* VUID-vkCmdBindTransformFeedbackBuffersEXT-firstBinding-02356/02357,
 * -pOffsets-02358/02359, -pSizes-02361/02362, -pBuffers-02364 (bound). */
void
vn_handle_vkCmdBindTransformFeedbackBuffersEXT(
   struct vn_dispatch_context *dctx, struct vn_command_vkCmdBindTransformFeedbackBuffersEXT *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdBindTransformFeedbackBuffersEXT))
      return;
   struct pvk_device *dev = device_of(args->dispatch);
   const char *cmd = "vkCmdBindTransformFeedbackBuffersEXT";
   if (args->bindingCount && (!args->pBuffers || !args->pOffsets)) {
      pvk_context_set_lost(ctx, "vkCmdBindTransformFeedbackBuffersEXT: array without elements");
      return;
   }
   if (!xfb_slots_ok(ctx, dev, cmd, args->firstBinding, args->bindingCount))
      return;
   for (uint32_t i = 0; i < args->bindingCount; i++) {
      const struct buf b = buffer_use(ctx, args->dispatch, args->pBuffers_objects[i]);
      const VkDeviceSize size = args->pSizes ? args->pSizes[i] : VK_WHOLE_SIZE;
      const char *why = args->pOffsets[i] % 4 ? "offset not a multiple of 4"
                        : !size               ? "empty range"
                        : !b.s                ? "buffer without recorded size"
                        : args->pOffsets[i] >= b.s->size
                           ? "offset beyond the buffer"
                           : buffer_range(b.s, args->pOffsets[i], size, true);
      if (!ok_or_reject(ctx, why, cmd, i, 0, b.id))
         return;
   }
   dev->dispatch.vkCmdBindTransformFeedbackBuffersEXT(args->commandBuffer, args->firstBinding,
                                                      args->bindingCount, args->pBuffers,
                                                      args->pOffsets, args->pSizes);
}

/* Counter buffers of vkCmdBegin/EndTransformFeedbackEXT: a null array or
 * null handles mean none; each other one holds a word at its offset
 * (VUID-vkCmdBeginTransformFeedbackEXT-firstCounterBuffer-02368/02369,
 * -pCounterBufferOffsets-02370). */
static bool
counters_ok(struct pvk_context *ctx, struct vn_object *cb, struct pvk_device *dev, const char *cmd,
            uint32_t first, uint32_t count, const VkBuffer *buffers, const VkDeviceSize *offsets)
{
   if (!xfb_slots_ok(ctx, dev, cmd, first, count))
      return false;
   for (uint32_t i = 0; buffers && i < count; i++) {
      if (!buffers[i])
         continue;
      const struct buf b = buffer_of(ctx, cb, buffers[i]);
      if (!ok_or_reject(ctx, word_range(b.s, offsets ? offsets[i] : 0), cmd, i, b.id, 0))
         return false;
   }
   return true;
}

void
vn_handle_vkCmdBeginTransformFeedbackEXT(struct vn_dispatch_context *dctx,
                                         struct vn_command_vkCmdBeginTransformFeedbackEXT *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdBeginTransformFeedbackEXT))
      return;
   struct pvk_device *dev = device_of(args->dispatch);
   if (counters_ok(ctx, args->dispatch, dev, "vkCmdBeginTransformFeedbackEXT",
                   args->firstCounterBuffer, args->counterBufferCount, args->pCounterBuffers,
                   args->pCounterBufferOffsets))
      dev->dispatch.vkCmdBeginTransformFeedbackEXT(args->commandBuffer, args->firstCounterBuffer,
                                                   args->counterBufferCount, args->pCounterBuffers,
                                                   args->pCounterBufferOffsets);
}

void
vn_handle_vkCmdEndTransformFeedbackEXT(struct vn_dispatch_context *dctx,
                                       struct vn_command_vkCmdEndTransformFeedbackEXT *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdEndTransformFeedbackEXT))
      return;
   struct pvk_device *dev = device_of(args->dispatch);
   if (counters_ok(ctx, args->dispatch, dev, "vkCmdEndTransformFeedbackEXT",
                   args->firstCounterBuffer, args->counterBufferCount, args->pCounterBuffers,
                   args->pCounterBufferOffsets))
      dev->dispatch.vkCmdEndTransformFeedbackEXT(args->commandBuffer, args->firstCounterBuffer,
                                                 args->counterBufferCount, args->pCounterBuffers,
                                                 args->pCounterBufferOffsets);
}

/* VUID-vkCmdDrawIndirectByteCountEXT-vertexStride-02289 (the driver divides
 * by it), -counterBufferOffset-04568 (multiple of 4), the counter word
 * inside the bound buffer. */
void
vn_handle_vkCmdDrawIndirectByteCountEXT(struct vn_dispatch_context *dctx,
                                        struct vn_command_vkCmdDrawIndirectByteCountEXT *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdDrawIndirectByteCountEXT))
      return;
   struct pvk_device *dev = device_of(args->dispatch);
   const struct buf b = buffer_use(ctx, args->dispatch, args->counterBuffer_object);
   const char *why = !args->vertexStride ||
                           args->vertexStride > xfb_props(dev).maxTransformFeedbackBufferDataStride
                        ? "vertexStride 0 or beyond maxTransformFeedbackBufferDataStride"
                        : word_range(b.s, args->counterBufferOffset);
   if (ok_or_reject(ctx, why, "vkCmdDrawIndirectByteCountEXT", 0, b.id, 0) &&
       pvk_draw_ok(dctx, ctx, args->dispatch, "vkCmdDrawIndirectByteCountEXT", 0, 0, 0, 0, true))
      dev->dispatch.vkCmdDrawIndirectByteCountEXT(
         args->commandBuffer, args->instanceCount, args->firstInstance, args->counterBuffer,
         args->counterBufferOffset, args->counterOffset, args->vertexStride);
}

/* VUID-VkConditionalRenderingBeginInfoEXT-buffer-01982 (bound),
 * -offset-01983 (inside), -offset-01984 (multiple of 4). */
void
vn_handle_vkCmdBeginConditionalRenderingEXT(
   struct vn_dispatch_context *dctx, struct vn_command_vkCmdBeginConditionalRenderingEXT *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdBeginConditionalRenderingEXT))
      return;
   const VkConditionalRenderingBeginInfoEXT *info = args->pConditionalRenderingBegin;
   if (!info) {
      pvk_context_set_lost(ctx, "vkCmdBeginConditionalRenderingEXT: missing begin info");
      return;
   }
   const struct buf b = buffer_of(ctx, args->dispatch, info->buffer);
   if (ok_or_reject(ctx, word_range(b.s, info->offset), "vkCmdBeginConditionalRenderingEXT", 0,
                    b.id, 0))
      device_of(args->dispatch)
         ->dispatch.vkCmdBeginConditionalRenderingEXT(args->commandBuffer, info);
}
