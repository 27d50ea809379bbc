/*
 * Firewall rules on command buffer levels (pvk_validate.h): the level is
 * recorded at vkAllocateCommandBuffers; secondaries are not submitted
 * (pvk_cb_submit_ok), primaries not executed, only primaries execute
 * unless the guest enabled nestedCommandBuffer, only primaries begin
 * render passes (pvk_validate_recording.c), and a secondary's begin info
 * carries the inheritance the driver reads. Drivers take the level from
 * the allocation and act on it without checking: lavapipe dereferences a
 * secondary's pInheritanceInfo at vkBeginCommandBuffer, indexes the
 * inherited render pass's subpasses with its subpass, and runs whatever
 * vkCmdExecuteCommands names as a secondary.
 */
#include <stdlib.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_validate.h"
#include "venus/vn_object.h"

/* Inserts the allocated command buffers as the generated executor did,
 * each with its level. */
static void
insert_command_buffers(struct pvk_context *ctx, struct vn_object *dispatch,
                       const VkCommandBufferAllocateInfo *info, const VkCommandBuffer *ids,
                       const VkCommandBuffer *host, VkResult *ret)
{
   struct pvk_device *dev = pvk_device_from_base(dispatch->device);
   const struct vn_object *pool = vn_object_table_find_handle(
      ctx->dispatch.objects, VK_OBJECT_TYPE_COMMAND_POOL, (uint64_t)(uintptr_t)info->commandPool);
   for (uint32_t i = 0; i < info->commandBufferCount; i++) {
      if (host[i] == VK_NULL_HANDLE)
         continue;
      struct vn_object *obj =
         pvk_context_is_lost(ctx)
            ? NULL
            : vn_object_table_insert(ctx->dispatch.objects, (uint64_t)(uintptr_t)ids[i],
                                     VK_OBJECT_TYPE_COMMAND_BUFFER, (uint64_t)(uintptr_t)host[i]);
      if (!obj) {
         dev->dispatch.vkFreeCommandBuffers(dev->handle, info->commandPool, 1, &host[i]);
         *ret = VK_ERROR_OUT_OF_HOST_MEMORY;
         pvk_context_set_lost(ctx, "vkAllocateCommandBuffers: object id rejected");
         continue;
      }
      obj->device = dispatch->device;
      obj->instance = dispatch->instance;
      obj->parent_id = pool ? pool->id : 0;
      struct pvk_command_buffer_state *st = pvk_cb_state(ctx, obj);
      if (st)
         st->secondary = info->level == VK_COMMAND_BUFFER_LEVEL_SECONDARY;
   }
}

void
vn_handle_vkAllocateCommandBuffers(struct vn_dispatch_context *dctx,
                                   struct vn_command_vkAllocateCommandBuffers *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const VkCommandBufferAllocateInfo *info = args->pAllocateInfo;
   if (!info || !args->pCommandBuffers || !info->commandBufferCount) {
      pvk_context_set_lost(ctx, "vkAllocateCommandBuffers: no object ids");
      return;
   }
   /* the level is PRIMARY or SECONDARY (VUID-VkCommandBufferAllocateInfo-
    * level-parameter): the generated decoder checks enum values */
   VkCommandBuffer *host = calloc(info->commandBufferCount, sizeof(*host));
   if (!host) {
      pvk_context_set_lost(ctx, "vkAllocateCommandBuffers: out of host memory");
      return;
   }
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   args->ret = dev->dispatch.vkAllocateCommandBuffers(dev->handle, info, host);
   insert_command_buffers(ctx, args->dispatch, info, args->pCommandBuffers, host, &args->ret);
   free(host);
}

static const void *
find_next(const void *chain, VkStructureType type)
{
   for (const VkBaseInStructure *s = chain; s; s = s->pNext) {
      if (s->sType == type)
         return s;
   }
   return NULL;
}

/* What a continuing secondary inherits: NULL or why it cannot. */
static const char *
inherited_colors(struct pvk_context *ctx, struct vn_object *cb,
                 const VkCommandBufferInheritanceInfo *inh, uint32_t *colors)
{
   if (inh->renderPass) {
      const struct vn_object *o = vn_object_table_find_handle(
         ctx->dispatch.objects, VK_OBJECT_TYPE_RENDER_PASS, (uint64_t)(uintptr_t)inh->renderPass);
      const struct pvk_render_pass_state *rp = o ? o->data : NULL;
      if (!rp)
         return "render pass without recorded state";
      if (inh->subpass >= rp->subpass_count)
         return "inherited subpass past the render pass's subpasses "
                "(VUID-VkCommandBufferBeginInfo-flags-06001)";
      *colors = rp->colors[inh->subpass];
      return NULL;
   }
   const VkCommandBufferInheritanceRenderingInfo *r =
      find_next(inh->pNext, VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_RENDERING_INFO);
   if (!r)
      return "continues a render pass with neither a render pass nor "
             "VkCommandBufferInheritanceRenderingInfo (VUID-VkCommandBufferBeginInfo-flags-06002)";
   if (r->colorAttachmentCount >
          pvk_device_from_base(cb->device)->physical_device->max_color_attachments ||
       (r->colorAttachmentCount && !r->pColorAttachmentFormats))
      return "inherited colour attachments past maxColorAttachments or without formats";
   *colors = r->colorAttachmentCount;
   return NULL;
}

void
pvk_level_inherit_formats(struct pvk_command_buffer_state *st, const VkCommandBufferBeginInfo *info)
{
   const VkCommandBufferInheritanceInfo *inh = info ? info->pInheritanceInfo : NULL;
   const VkCommandBufferInheritanceRenderingInfo *r =
      inh && !inh->renderPass
         ? find_next(inh->pNext, VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_RENDERING_INFO)
         : NULL;
   if (!r)
      return;
   st->inherits_formats = true;
   /* pvk_level_begin_ok checked the count and the array */
   for (uint32_t i = 0; i < r->colorAttachmentCount && i < PVK_MAX_RENDER_FORMATS; i++)
      st->color_formats[i] = r->pColorAttachmentFormats[i];
   st->depth_format = r->depthAttachmentFormat;
   st->stencil_format = r->stencilAttachmentFormat;
}

bool
pvk_level_begin_ok(struct pvk_context *ctx, struct vn_object *cb,
                   const VkCommandBufferBeginInfo *info, bool *continues, uint32_t *colors)
{
   const struct pvk_command_buffer_state *st = cb->data;
   *continues = false;
   *colors = 0;
   if (!st || !st->secondary)
      return true;
   const VkCommandBufferInheritanceInfo *inh = info ? info->pInheritanceInfo : NULL;
   const char *why = NULL;
   if (!inh)
      why = "secondary command buffer begun without inheritance info "
            "(VUID-vkBeginCommandBuffer-commandBuffer-00051)";
   else if (info->flags & VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT)
      why = inherited_colors(ctx, cb, inh, colors);
   if (why) {
      pvk_reject(ctx, "level: vkBeginCommandBuffer: %s (command buffer %llu)", why,
                 (unsigned long long)cb->id);
      return false;
   }
   *continues = (info->flags & VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT) != 0;
   return true;
}
