/*
 * The firewall's shared part (pvk_validate.h): rejection, guest ids for log
 * lines, and the object state recorded at creation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "venus/pvk_context.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_validate.h"
#include "venus/vn_object.h"

void
pvk_reject(struct pvk_context *ctx, const char *fmt, ...)
{
   char msg[256];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(msg, sizeof(msg), fmt, ap);
   va_end(ap);
   char line[300];
   snprintf(line, sizeof(line), "firewall: %s", msg);
   pvk_context_set_lost(ctx, line);
}

uint64_t
pvk_guest_id(struct pvk_context *ctx, VkObjectType type, uint64_t handle)
{
   const struct vn_object *obj =
      handle ? vn_object_table_find_handle(ctx->dispatch.objects, type, handle) : NULL;
   return obj ? obj->id : 0;
}

void
pvk_set_layout_unref(struct pvk_set_layout_state *l)
{
   if (l && --l->refs == 0)
      free(l);
}

void
pvk_validate_free_state(struct vn_object *obj)
{
   switch (obj->type) {
   case VK_OBJECT_TYPE_BUFFER:
      if (obj->data)
         pvk_desc_refs_free(&((struct pvk_buffer_state *)obj->data)->refs);
      free(obj->data);
      break;
   case VK_OBJECT_TYPE_IMAGE:
      if (obj->data)
         pvk_desc_refs_free(&((struct pvk_image_state *)obj->data)->refs);
      free(obj->data);
      break;
   case VK_OBJECT_TYPE_BUFFER_VIEW:
   case VK_OBJECT_TYPE_IMAGE_VIEW:
      if (obj->data)
         pvk_desc_refs_free(&((struct pvk_view_state *)obj->data)->refs);
      free(obj->data);
      break;
   case VK_OBJECT_TYPE_SAMPLER: /* made when first needed */
      if (obj->data)
         pvk_desc_refs_free(&((struct pvk_sampler_state *)obj->data)->refs);
      free(obj->data);
      break;
   case VK_OBJECT_TYPE_QUERY_POOL:
   case VK_OBJECT_TYPE_RENDER_PASS:
   case VK_OBJECT_TYPE_DESCRIPTOR_POOL:
      free(obj->data);
      break;
   case VK_OBJECT_TYPE_FRAMEBUFFER:
      if (obj->data)
         free(((struct pvk_framebuffer_state *)obj->data)->uses);
      free(obj->data);
      break;
   case VK_OBJECT_TYPE_COMMAND_BUFFER:
      pvk_cb_state_free(obj->data);
      break;
   case VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT:
      pvk_set_layout_unref(obj->data);
      break;
   case VK_OBJECT_TYPE_DESCRIPTOR_SET:
      pvk_set_state_free(obj->data);
      break;
   case VK_OBJECT_TYPE_PIPELINE_LAYOUT:
      pvk_pipeline_layout_state_free(obj->data);
      break;
   case VK_OBJECT_TYPE_PIPELINE:
      pvk_pipeline_state_free(obj->data);
      break;
   default:
      return;
   }
   obj->data = NULL;
}

void
pvk_object_forget(struct pvk_context *ctx, struct vn_object *obj)
{
   pvk_validate_free_state(obj);
   vn_object_table_remove(ctx->dispatch.objects, obj);
}

void
pvk_validate_record_buffer(struct pvk_context *ctx, struct vn_object *obj,
                           const VkBufferCreateInfo *info)
{
   struct pvk_buffer_state *b = malloc(sizeof(*b));
   if (!b) {
      pvk_context_set_lost(ctx, "vkCreateBuffer: out of host memory for its state");
      return;
   }
   *b = (struct pvk_buffer_state){
      .size = info->size,
      .bound = (info->flags & VK_BUFFER_CREATE_SPARSE_BINDING_BIT) != 0,
   };
   obj->data = b;
}

void
pvk_validate_record_image(struct pvk_context *ctx, struct vn_object *obj,
                          const VkImageCreateInfo *info)
{
   struct pvk_image_state *i = malloc(sizeof(*i));
   if (!i) {
      pvk_context_set_lost(ctx, "vkCreateImage: out of host memory for its state");
      return;
   }
   *i = (struct pvk_image_state){
      .type = info->imageType,
      .format = info->format,
      .flags = info->flags,
      .usage = info->usage,
      .extent = info->extent,
      .mip_levels = info->mipLevels,
      .array_layers = info->arrayLayers,
      .samples = info->samples,
      .bound = (info->flags & VK_IMAGE_CREATE_SPARSE_BINDING_BIT) != 0,
      .memory = 0,
      .planes = (info->flags & VK_IMAGE_CREATE_DISJOINT_BIT) ? pvk_format_planes(info->format) : 0,
   };
   obj->data = i;
}

void
pvk_validate_mark_bound(struct pvk_context *ctx, VkObjectType type, uint64_t handle,
                        uint64_t memory, uint32_t plane)
{
   struct vn_object *obj = vn_object_table_find_handle(ctx->dispatch.objects, type, handle);
   if (!obj || !obj->data)
      return;
   if (type == VK_OBJECT_TYPE_BUFFER) {
      struct pvk_buffer_state *b = obj->data;
      b->bound = true;
      b->memory = memory;
   } else if (type == VK_OBJECT_TYPE_IMAGE) {
      struct pvk_image_state *i = obj->data;
      if (i->planes && plane < 3) {
         i->plane_memory[plane] = memory;
         i->planes_bound |= 1u << plane;
         i->bound = i->planes_bound == (1u << i->planes) - 1;
         return;
      }
      i->bound = true;
      i->memory = memory;
   }
}

/* A DISJOINT image with a plane bound to `memory`: that plane, and so the
 * image, is unbound. */
static bool
unbind_planes(struct pvk_image_state *i, uint64_t memory)
{
   bool hit = false;
   for (uint32_t p = 0; p < 3; p++) {
      if ((i->planes_bound & (1u << p)) && i->plane_memory[p] == memory) {
         i->planes_bound &= ~(1u << p);
         i->memory_freed |= 1u << p;
         i->plane_memory[p] = 0;
         hit = true;
      }
   }
   if (hit)
      i->bound = false;
   return hit;
}

struct unbind {
   struct pvk_context *ctx;
   struct vn_object_table *table;
   uint64_t memory;
};

/* Unbinds obj from `memory` when it (a buffer, an image or a plane of a
 * DISJOINT image) was bound to it; false when it was not. */
static bool
unbind_memory(struct vn_object *obj, uint64_t memory)
{
   if (obj->type == VK_OBJECT_TYPE_BUFFER) {
      struct pvk_buffer_state *b = obj->data;
      if (b->memory != memory)
         return false;
      b->bound = false;
      b->memory_freed = true;
      b->memory = 0;
      return true;
   }
   if (obj->type != VK_OBJECT_TYPE_IMAGE)
      return false;
   struct pvk_image_state *i = obj->data;
   if (i->planes)
      return unbind_planes(i, memory);
   if (i->memory != memory)
      return false;
   i->bound = false;
   i->memory_freed |= PVK_IMAGE_WHOLE_FREED;
   i->memory = 0;
   return true;
}

static void
unbind_from(struct vn_object *obj, void *data)
{
   const struct unbind *u = data;
   if (!obj->data || !unbind_memory(obj, u->memory))
      return;
   /* descriptors naming it must not point at the freed memory */
   pvk_descriptor_refs_drop(u->ctx, obj);
   /* command buffers recorded with it must not run (pvk_cb_submit_ok) */
   vn_object_table_renew(u->table, obj);
}

void
pvk_validate_memory_freed(struct pvk_context *ctx, uint64_t memory)
{
   /* one walk of the table, only for memory that had objects bound */
   struct unbind u = { ctx, ctx->dispatch.objects, memory };
   vn_object_table_foreach(ctx->dispatch.objects, unbind_from, &u);
}

bool
pvk_sample_count_ok(const struct pvk_physical_device *pd, VkSampleCountFlags samples)
{
   const VkPhysicalDeviceLimits *l = &pd->limits;
   const VkSampleCountFlags any =
      l->framebufferColorSampleCounts | l->framebufferDepthSampleCounts |
      l->framebufferStencilSampleCounts | l->framebufferNoAttachmentsSampleCounts |
      l->sampledImageColorSampleCounts | l->sampledImageIntegerSampleCounts |
      l->sampledImageDepthSampleCounts | l->sampledImageStencilSampleCounts |
      l->storageImageSampleCounts | VK_SAMPLE_COUNT_1_BIT;
   return samples && !(samples & (samples - 1)) && (samples & any);
}
