/*
 * Firewall rules for the state of a command buffer's recording
 * (pvk_validate.h): render pass instances begin outside one and end in
 * their last subpass, dynamic rendering ends what it began, and draws and
 * dispatches have a pipeline of their kind bound. Drivers read the state
 * these commands assume without checking it (lavapipe reads through NULL
 * for a vkCmdEndRenderPass with no render pass begun, on the renderer's
 * thread, and for a draw or dispatch with no pipeline, in its queue), and
 * a pipeline is bound at the bind point of its kind.
 *
 * Cost on the draw path: one pointer read and a flag test per direct draw
 * or dispatch (the command buffer is the decoder's object already).
 */
#include <stdlib.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_validate.h"

static struct pvk_device *
device_of(struct vn_object *cb)
{
   return pvk_device_from_base(cb->device);
}

struct pvk_command_buffer_state *
pvk_cb_state(struct pvk_context *ctx, struct vn_object *cb)
{
   if (!cb->data) {
      cb->data = calloc(1, sizeof(struct pvk_command_buffer_state));
      if (!cb->data)
         pvk_context_set_lost(ctx, "command buffer state: out of host memory");
   }
   return cb->data;
}

void
pvk_recording_set_pass(struct vn_object *cb, uint64_t render_pass, uint32_t colors,
                       const VkRect2D *area, uint32_t layers)
{
   struct pvk_command_buffer_state *st = cb->data;
   if (st) {
      st->render_pass = render_pass;
      st->colors = colors;
      st->area = *area;
      st->area_layers = layers;
   }
}

/* The colour attachments of the render pass instance cb is inside; false
 * when it is in none. */
static bool
current_colors(struct pvk_context *ctx, const struct pvk_command_buffer_state *st, uint32_t *colors)
{
   *colors = st->colors;
   if (st->subpass_count) {
      const struct vn_object *o = vn_object_table_find_handle(
         ctx->dispatch.objects, VK_OBJECT_TYPE_RENDER_PASS, st->render_pass);
      const struct pvk_render_pass_state *rp = o ? o->data : NULL;
      *colors = rp && st->subpass < rp->subpass_count ? rp->colors[st->subpass] : 0;
      return true;
   }
   return st->rendering || st->continues_pass;
}

/* VUID-vkCmdClearAttachments-pRects-00016/00017, -layerCount-01934: each
 * rectangle inside the render area and the instance's layers. lavapipe
 * clears the rectangle in the attachment's memory. A secondary that
 * continues its primary's pass does not know the instance: the box of its
 * rectangles is checked at vkCmdExecuteCommands. */
static const char *
clear_rects_why(struct pvk_command_buffer_state *st,
                const struct vn_command_vkCmdClearAttachments *args, uint32_t *bad)
{
   for (uint32_t i = 0; i < args->rectCount; i++) {
      const VkClearRect *r = &args->pRects[i];
      const int64_t x0 = r->rect.offset.x, y0 = r->rect.offset.y;
      const int64_t x1 = x0 + r->rect.extent.width, y1 = y0 + r->rect.extent.height;
      const uint64_t layers = (uint64_t)r->baseArrayLayer + r->layerCount;
      *bad = i;
      if (!r->layerCount || !r->rect.extent.width || !r->rect.extent.height)
         return "empty clear rectangle";
      if (st->subpass_count || st->rendering) {
         const int64_t ax = st->area.offset.x, ay = st->area.offset.y;
         if (x0 < ax || y0 < ay || x1 > ax + st->area.extent.width ||
             y1 > ay + st->area.extent.height)
            return "clear rectangle outside the render area";
         if (layers > st->area_layers)
            return "clear rectangle past the instance's layers";
      } else if (!st->clear_layers) {
         st->clear_x0 = x0, st->clear_y0 = y0, st->clear_x1 = x1, st->clear_y1 = y1;
         st->clear_layers = layers;
      } else {
         st->clear_x0 = x0 < st->clear_x0 ? x0 : st->clear_x0;
         st->clear_y0 = y0 < st->clear_y0 ? y0 : st->clear_y0;
         st->clear_x1 = x1 > st->clear_x1 ? x1 : st->clear_x1;
         st->clear_y1 = y1 > st->clear_y1 ? y1 : st->clear_y1;
         st->clear_layers = layers > st->clear_layers ? layers : st->clear_layers;
      }
   }
   return NULL;
}

/* A continuing secondary's clear rectangles inside the executing primary's
 * instance (its colour attachments: continue_why). */
static const char *
executed_clears_why(const struct pvk_command_buffer_state *st,
                    const struct pvk_command_buffer_state *sec)
{
   if (!sec || !sec->clear_layers)
      return NULL;
   if (!st->subpass_count && !st->rendering)
      return "clears attachments, outside a render pass instance";
   const int64_t ax = st->area.offset.x, ay = st->area.offset.y;
   if (sec->clear_x0 < ax || sec->clear_y0 < ay || sec->clear_x1 > ax + st->area.extent.width ||
       sec->clear_y1 > ay + st->area.extent.height || sec->clear_layers > st->area_layers)
      return "clears outside the render area or layers of the instance";
   return NULL;
}

/* VUID-vkCmdClearAttachments-renderpass (inside a render pass instance)
 * and -aspectMask-07271 (a colour attachment the current subpass has):
 * lavapipe indexes its current attachments with colorAttachment, through
 * NULL outside an instance (its queue thread crashed for the clear session
 * with vkCmdBeginRenderPass and vkCmdEndRenderPass deleted). In a
 * secondary that continues its primary's pass, against the inherited
 * subpass's colours; vkCmdExecuteCommands runs it only where the current
 * subpass has at least those. */
static const char *
clear_attachments_why(struct pvk_context *ctx, struct vn_object *cb,
                      const struct vn_command_vkCmdClearAttachments *args, uint32_t *bad)
{
   struct pvk_command_buffer_state *st = cb->data;
   if (!st || !(st->subpass_count || st->rendering || st->continues_pass))
      return "outside a render pass instance";
   uint32_t colors = 0;
   current_colors(ctx, st, &colors);
   /* a continuing secondary: its inherited subpass's (pvk_level_begin_ok) */
   for (uint32_t i = 0; i < args->attachmentCount; i++) {
      const VkClearAttachment *a = &args->pAttachments[i];
      if (!(a->aspectMask & VK_IMAGE_ASPECT_COLOR_BIT))
         continue;
      if (a->colorAttachment >= colors) {
         *bad = i;
         return "colour attachment the render pass instance does not have";
      }
   }
   return clear_rects_why(cb->data, args, bad);
}

void
vn_handle_vkCmdClearAttachments(struct vn_dispatch_context *dctx,
                                struct vn_command_vkCmdClearAttachments *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if ((args->attachmentCount && !args->pAttachments) || (args->rectCount && !args->pRects)) {
      pvk_context_set_lost(ctx, "vkCmdClearAttachments: array without elements");
      return;
   }
   uint32_t bad = 0;
   const char *why = clear_attachments_why(ctx, args->dispatch, args, &bad);
   if (why) {
      pvk_reject(ctx, "recording: vkCmdClearAttachments: %s (element %u, command buffer %llu)", why,
                 bad, (unsigned long long)args->dispatch->id);
      return;
   }
   device_of(args->dispatch)
      ->dispatch.vkCmdClearAttachments(args->commandBuffer, args->attachmentCount,
                                       args->pAttachments, args->rectCount, args->pRects);
}

bool
pvk_recording_begin(struct pvk_context *ctx, struct vn_object *cb, const char *cmd,
                    uint32_t subpasses)
{
   struct pvk_command_buffer_state *st = pvk_cb_state(ctx, cb);
   if (!st)
      return false;
   if (st->subpass_count || st->rendering) {
      pvk_reject(ctx, "recording: %s inside a render pass instance (command buffer %llu)", cmd,
                 (unsigned long long)cb->id);
      return false;
   }
   /* VUID-vkCmdBeginRenderPass-bufferlevel (and -2): a secondary runs
    * inside its primary's instance */
   if (subpasses && st->secondary) {
      pvk_reject(ctx, "level: %s in a secondary command buffer (command buffer %llu)", cmd,
                 (unsigned long long)cb->id);
      return false;
   }
   pvk_draw_state_changed(cb);
   st->subpass = 0;
   st->subpass_count = subpasses;
   st->rendering = subpasses == 0;
   return true;
}

bool
pvk_recording_pipeline_bound(struct pvk_context *ctx, struct vn_object *cb, const char *cmd,
                             VkPipelineBindPoint point)
{
   const struct pvk_command_buffer_state *st = cb->data;
   if (st && (point == VK_PIPELINE_BIND_POINT_COMPUTE ? st->compute_bound : st->graphics_bound))
      return true;
   pvk_reject(ctx, "recording: %s with no %s pipeline bound (command buffer %llu)", cmd,
              point == VK_PIPELINE_BIND_POINT_COMPUTE ? "compute" : "graphics",
              (unsigned long long)cb->id);
   return false;
}

/* VUID-vkCmdBindPipeline-pipelineBindPoint-00777/00778: the bind point is
 * the pipeline's kind. Drivers bind by the pipeline's own kind (lavapipe
 * does), so a compute pipeline bound at GRAPHICS would leave the draws
 * that the recording state lets through with no graphics pipeline. The
 * decoder just looked the pipeline up by id: no second lookup. */
static const char *
bind_point_ok(struct pvk_context *ctx, VkPipelineBindPoint point, VkPipeline pipeline)
{
   if (point != VK_PIPELINE_BIND_POINT_GRAPHICS && point != VK_PIPELINE_BIND_POINT_COMPUTE)
      return "pipelineBindPoint not GRAPHICS or COMPUTE";
   const struct vn_object *o = ((const struct vn_object_table_head *)ctx->dispatch.objects)->last;
   if (!o || o->type != VK_OBJECT_TYPE_PIPELINE || o->handle != (uint64_t)(uintptr_t)pipeline)
      o = vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_PIPELINE,
                                      (uint64_t)(uintptr_t)pipeline);
   if (!o || pvk_pipeline_kind(o) != point)
      return "pipeline of another kind than pipelineBindPoint";
   return NULL;
}

/* Push constants a pipeline uses but the guest never pushed are undefined,
 * not invalid, with maintenance4 (VUID-vkCmdDispatch-maintenance4-08602
 * asks for them only without it). lavapipe binds its push constant buffer
 * only after a vkCmdPushConstants: without one the shader read through NULL
 * (fuzz/known-crashes/push-constants-never-set.pvcap). So at the first bind
 * of each kind, while the guest has pushed nothing in the command buffer,
 * zeros are pushed to that kind's stages with a layout of the renderer's
 * (nothing of the guest's to overwrite; its own pushes come after and
 * win). Only that kind's stages: lavapipe then rebuilds those stages'
 * state, which needs a pipeline of that kind bound. */
#define PVK_ZERO_PUSH_MAX 256u

static void
zero_push(struct pvk_device *dev, VkCommandBuffer cb, bool compute)
{
   static const uint8_t zeros[PVK_ZERO_PUSH_MAX];
   const VkShaderStageFlags stages =
      compute ? VK_SHADER_STAGE_COMPUTE_BIT : VK_SHADER_STAGE_ALL_GRAPHICS;
   const uint32_t max = dev->physical_device->max_push_constants;
   const uint32_t size = (max < PVK_ZERO_PUSH_MAX ? max : PVK_ZERO_PUSH_MAX) & ~3u;
   VkPipelineLayout *layout = &dev->push_layouts[compute];
   if (!size)
      return;
   if (!*layout) {
      const VkPushConstantRange range = { stages, 0, size };
      const VkPipelineLayoutCreateInfo info = {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
         .pushConstantRangeCount = 1,
         .pPushConstantRanges = &range,
      };
      if (dev->dispatch.vkCreatePipelineLayout(dev->handle, &info, NULL, layout) != VK_SUCCESS)
         *layout = VK_NULL_HANDLE;
   }
   if (*layout)
      dev->dispatch.vkCmdPushConstants(cb, *layout, stages, 0, size, zeros);
}

void
vn_handle_vkCmdBindPipeline(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCmdBindPipeline *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_command_buffer_state *st = pvk_cb_state(ctx, args->dispatch);
   if (!st)
      return;
   const char *why = bind_point_ok(ctx, args->pipelineBindPoint, args->pipeline);
   if (why) {
      pvk_reject(ctx, "recording: vkCmdBindPipeline: %s (bind point %d, pipeline %llu)", why,
                 (int)args->pipelineBindPoint,
                 (unsigned long long)pvk_guest_id(ctx, VK_OBJECT_TYPE_PIPELINE,
                                                  (uint64_t)(uintptr_t)args->pipeline));
      return;
   }
   /* the pipeline is the decoder's last lookup: no second one */
   struct vn_object *p = ((const struct vn_object_table_head *)ctx->dispatch.objects)->last;
   if (!p || p->type != VK_OBJECT_TYPE_PIPELINE || p->handle != (uint64_t)(uintptr_t)args->pipeline)
      p = vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_PIPELINE,
                                      (uint64_t)(uintptr_t)args->pipeline);
   pvk_cb_use(ctx, args->dispatch, p);
   device_of(args->dispatch)
      ->dispatch.vkCmdBindPipeline(args->commandBuffer, args->pipelineBindPoint, args->pipeline);
   const bool compute = args->pipelineBindPoint == VK_PIPELINE_BIND_POINT_COMPUTE;
   if (compute) {
      st->compute_bound = true;
   } else {
      st->graphics_bound = true;
      pvk_draw_bind_pipeline(args->dispatch, p);
   }
   if (!st->guest_pushed && !st->zero_pushed[compute]) {
      zero_push(device_of(args->dispatch), args->commandBuffer, compute);
      st->zero_pushed[compute] = true;
   }
}

/* lavapipe runs executed command buffers recursively in its queue thread:
 * one that executes itself, directly or through another, overflows its
 * stack. Without nestedCommandBuffer only primaries execute and only
 * secondaries are executed (levels from vkAllocateCommandBuffers), and a
 * command buffer that executes others is not executed either. With it, a
 * command buffer already executed into another since its begin executes
 * nothing more (it had to be ended first, -pCommandBuffers-00089): every
 * edge of a cycle would have to be recorded into a command buffer executed
 * already, so none closes; and nesting stays within
 * maxCommandBufferNestingLevel. */
static const char *
level_why(const struct pvk_device *dev, const struct vn_object *cb,
          const struct pvk_command_buffer_state *st, const struct vn_object *o,
          const struct pvk_command_buffer_state *other)
{
   if (o == cb)
      return "executes itself";
   if (!other || !other->secondary)
      return "is a primary command buffer (VUID-vkCmdExecuteCommands-pCommandBuffers-00088)";
   if (!dev->nested_command_buffers && other->executes)
      return "executes other command buffers";
   if (other->nesting + 1 > dev->max_nesting)
      return "nests deeper than maxCommandBufferNestingLevel";
   return NULL;
}

/* VUID-vkCmdExecuteCommands-pCommandBuffers-00096/00100 (RENDER_PASS_CONTINUE
 * inside a render pass instance, not outside), and the inherited colour
 * attachments within the current subpass's (-pBeginInfo-06020, -06027):
 * vkCmdClearAttachments in the secondary was checked against those. */
static const char *
continue_why(bool inside, uint32_t colors, const struct pvk_command_buffer_state *other)
{
   if (inside && !other->continues_pass)
      return "not begun with RENDER_PASS_CONTINUE, executed inside a render pass instance";
   if (!inside && other->continues_pass)
      return "begun with RENDER_PASS_CONTINUE, executed outside a render pass instance";
   if (inside && other->colors > colors)
      return "inherits more colour attachments than the current subpass has";
   return NULL;
}

/* Inside a vkCmdBeginRendering instance of st, a secondary that inherits
 * a dynamic rendering: the same colour attachment count
 * (VUID-vkCmdExecuteCommands-colorAttachmentCount-06027) and the formats
 * of the instance's views, VK_FORMAT_UNDEFINED where it has none
 * (-imageView-06028, -pDepthAttachment-06029/06774,
 * -pStencilAttachment-06030/06775). The secondary's pipelines were made
 * for its formats; a driver that bakes the format into the shader
 * writes that format's texel size into the attachment (lavapipe 22.3
 * compiles its fragment code for the bound attachments at each draw and
 * is not affected). */
static const char *
formats_why(const struct pvk_command_buffer_state *st, const struct pvk_command_buffer_state *other)
{
   if (!st->rendering || !other->inherits_formats)
      return NULL;
   if (other->colors != st->colors)
      return "inherits another colour attachment count than vkCmdBeginRendering's "
             "(VUID-vkCmdExecuteCommands-colorAttachmentCount-06027)";
   for (uint32_t i = 0; i < st->colors && i < PVK_MAX_RENDER_FORMATS; i++) {
      if (other->color_formats[i] != st->color_formats[i])
         return "inherits a colour attachment format other than the view's "
                "(VUID-vkCmdExecuteCommands-imageView-06028)";
   }
   if (other->depth_format != st->depth_format)
      return "inherits a depth attachment format other than the view's "
             "(VUID-vkCmdExecuteCommands-pDepthAttachment-06029/06774)";
   if (other->stencil_format != st->stencil_format)
      return "inherits a stencil attachment format other than the view's "
             "(VUID-vkCmdExecuteCommands-pStencilAttachment-06030/06775)";
   return NULL;
}

bool
pvk_recording_execute_ok(struct pvk_context *ctx, struct vn_object *cb, uint32_t count,
                         const VkCommandBuffer *cbs)
{
   struct pvk_command_buffer_state *st = pvk_cb_state(ctx, cb);
   if (!st)
      return false;
   const struct pvk_device *dev = device_of(cb);
   /* VUID-vkCmdExecuteCommands-bufferlevel */
   const char *why = !st->secondary                 ? NULL
                     : !dev->nested_command_buffers ? "recorded into a secondary command buffer"
                     : st->executed ? "recorded into a command buffer executed since its begin"
                                    : NULL;
   if (why) {
      pvk_reject(ctx, "level: vkCmdExecuteCommands: %s (command buffer %llu)", why,
                 (unsigned long long)cb->id);
      return false;
   }
   uint32_t colors = 0;
   const bool inside = current_colors(ctx, st, &colors);
   for (uint32_t i = 0; cbs && i < count; i++) {
      const uint64_t h = (uint64_t)(uintptr_t)cbs[i];
      const struct vn_object *o =
         h == cb->handle
            ? cb
            : vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_COMMAND_BUFFER, h);
      const struct pvk_command_buffer_state *other = o ? o->data : NULL;
      why = level_why(dev, cb, st, o, other);
      if (!why)
         why = continue_why(inside, colors, other);
      if (!why && inside)
         why = formats_why(st, other);
      if (!why)
         why = executed_clears_why(st, other);
      if (why) {
         pvk_reject(ctx,
                    "recording: vkCmdExecuteCommands: command buffer %llu %s (command buffer %u "
                    "of %u)",
                    (unsigned long long)(o ? o->id : 0), why, i, count);
         return false;
      }
      if (other->nesting + 1 > st->nesting)
         st->nesting = other->nesting + 1;
   }
   st->executes = true;
   /* the primary's bound state is undefined from here on */
   pvk_draw_forget_bindings(cb);
   return true;
}

/* --- index buffers: lavapipe divides the bind offset by the bound index
 * size at each indexed draw (SIGFPE in its queue thread with none bound) --- */

void
pvk_recording_bind_index(struct pvk_context *ctx, struct vn_object *cb, VkIndexType type,
                         uint64_t bytes)
{
   struct pvk_command_buffer_state *st = pvk_cb_state(ctx, cb);
   if (!st)
      return;
   st->index_size = type == VK_INDEX_TYPE_UINT32 ? 4 : type == VK_INDEX_TYPE_UINT16 ? 2 : 1;
   st->index_bytes = device_of(cb)->robust_buffer_access2 ? UINT64_MAX : bytes;
}

bool
pvk_recording_indices_ok(struct pvk_context *ctx, struct vn_object *cb, const char *cmd,
                         uint64_t first, uint64_t count)
{
   const struct pvk_command_buffer_state *st = cb->data;
   /* first + count < 2^33 and a size of at most 4: no overflow */
   if (st && st->index_size && (first + count) * st->index_size <= st->index_bytes)
      return true;
   pvk_reject(ctx, "recording: %s: %s (indices %llu..+%llu, command buffer %llu)", cmd,
              st && st->index_size ? "indices beyond the bound index buffer"
                                   : "no index buffer bound",
              (unsigned long long)first, (unsigned long long)count, (unsigned long long)cb->id);
   return false;
}

/* --- draws and dispatches: VUID-vkCmdDraw-None-08606 and the like --- */

void
vn_handle_vkCmdDraw(struct vn_dispatch_context *dctx, struct vn_command_vkCmdDraw *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (pvk_draw_ok(dctx, ctx, args->dispatch, "vkCmdDraw", args->firstVertex, args->vertexCount,
                   args->firstInstance, args->instanceCount, false))
      device_of(args->dispatch)
         ->dispatch.vkCmdDraw(args->commandBuffer, args->vertexCount, args->instanceCount,
                              args->firstVertex, args->firstInstance);
}

void
vn_handle_vkCmdDrawIndexed(struct vn_dispatch_context *dctx,
                           struct vn_command_vkCmdDrawIndexed *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (pvk_recording_indices_ok(ctx, args->dispatch, "vkCmdDrawIndexed", args->firstIndex,
                                args->indexCount) &&
       pvk_draw_ok(dctx, ctx, args->dispatch, "vkCmdDrawIndexed", 0, 0, args->firstInstance,
                   args->indexCount ? args->instanceCount : 0, true))
      device_of(args->dispatch)
         ->dispatch.vkCmdDrawIndexed(args->commandBuffer, args->indexCount, args->instanceCount,
                                     args->firstIndex, args->vertexOffset, args->firstInstance);
}

/* The decoder hands multi-draw infos over as a packed array; the guest's
 * stride described its own memory. Passing it on made the driver step
 * through the decoder's array with it (Mesa's vk_cmd_enqueue copies
 * drawCount infos `stride` apart at record time): a read past the array in
 * the renderer's memory for any stride over the element size. The packed
 * stride is passed instead, and drawCount infos must be there. */
void
vn_handle_vkCmdDrawMultiEXT(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCmdDrawMultiEXT *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdDrawMultiEXT))
      return;
   if (args->drawCount && !args->pVertexInfo) {
      pvk_context_set_lost(ctx, "vkCmdDrawMultiEXT: draws without infos");
      return;
   }
   for (uint32_t i = 0; i < args->drawCount; i++) {
      if (!pvk_draw_ok(dctx, ctx, args->dispatch, "vkCmdDrawMultiEXT",
                       args->pVertexInfo[i].firstVertex, args->pVertexInfo[i].vertexCount,
                       args->firstInstance, args->instanceCount, false))
         return;
   }
   if (pvk_draw_ok(dctx, ctx, args->dispatch, "vkCmdDrawMultiEXT", 0, 0, 0, 0, false))
      device_of(args->dispatch)
         ->dispatch.vkCmdDrawMultiEXT(args->commandBuffer, args->drawCount, args->pVertexInfo,
                                      args->instanceCount, args->firstInstance,
                                      sizeof(VkMultiDrawInfoEXT));
}

void
vn_handle_vkCmdDrawMultiIndexedEXT(struct vn_dispatch_context *dctx,
                                   struct vn_command_vkCmdDrawMultiIndexedEXT *args)
{
   static const char cmd[] = "vkCmdDrawMultiIndexedEXT";
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdDrawMultiIndexedEXT))
      return;
   if (args->drawCount && !args->pIndexInfo) {
      pvk_context_set_lost(ctx, "vkCmdDrawMultiIndexedEXT: draws without infos");
      return;
   }
   for (uint32_t i = 0; i < args->drawCount; i++) {
      if (!pvk_recording_indices_ok(ctx, args->dispatch, cmd, args->pIndexInfo[i].firstIndex,
                                    args->pIndexInfo[i].indexCount) ||
          !pvk_draw_ok(dctx, ctx, args->dispatch, cmd, 0, 0, args->firstInstance,
                       args->pIndexInfo[i].indexCount ? args->instanceCount : 0, true))
         return;
   }
   if (!pvk_draw_ok(dctx, ctx, args->dispatch, cmd, 0, 0, 0, 0, true))
      return;
   device_of(args->dispatch)
      ->dispatch.vkCmdDrawMultiIndexedEXT(args->commandBuffer, args->drawCount, args->pIndexInfo,
                                          args->instanceCount, args->firstInstance,
                                          sizeof(VkMultiDrawIndexedInfoEXT), args->pVertexOffset);
}

void
vn_handle_vkCmdDispatch(struct vn_dispatch_context *dctx, struct vn_command_vkCmdDispatch *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (pvk_recording_pipeline_bound(ctx, args->dispatch, "vkCmdDispatch",
                                    VK_PIPELINE_BIND_POINT_COMPUTE))
      device_of(args->dispatch)
         ->dispatch.vkCmdDispatch(args->commandBuffer, args->groupCountX, args->groupCountY,
                                  args->groupCountZ);
}

void
vn_handle_vkCmdDispatchBase(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCmdDispatchBase *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdDispatchBase))
      return;
   if (pvk_recording_pipeline_bound(ctx, args->dispatch, "vkCmdDispatchBase",
                                    VK_PIPELINE_BIND_POINT_COMPUTE))
      device_of(args->dispatch)
         ->dispatch.vkCmdDispatchBase(args->commandBuffer, args->baseGroupX, args->baseGroupY,
                                      args->baseGroupZ, args->groupCountX, args->groupCountY,
                                      args->groupCountZ);
}

/* --- render pass instances --- */

/* VUID-vkCmdNextSubpass-None-00909 (not past the last subpass),
 * VUID-vkCmdEndRenderPass-None-00910 (in the last one), both inside a
 * render pass instance begun by vkCmdBeginRenderPass(2) in this command
 * buffer (-renderpass). `next`: moves on a subpass; else ends. */
static bool
subpass_step(struct pvk_context *ctx, struct vn_object *cb, const char *cmd, bool next)
{
   struct pvk_command_buffer_state *st = cb->data;
   const char *why = !st || !st->subpass_count ? "no render pass instance begun"
                     : next && st->subpass + 1 >= st->subpass_count  ? "already in the last subpass"
                     : !next && st->subpass + 1 != st->subpass_count ? "not in the last subpass"
                                                                     : NULL;
   if (why) {
      pvk_reject(ctx, "recording: %s: %s (command buffer %llu)", cmd, why,
                 (unsigned long long)cb->id);
      return false;
   }
   if (next) {
      st->subpass++;
   } else {
      st->subpass = 0;
      st->subpass_count = 0;
      pvk_draw_state_changed(cb);
   }
   return true;
}

void
vn_handle_vkCmdNextSubpass(struct vn_dispatch_context *dctx,
                           struct vn_command_vkCmdNextSubpass *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (subpass_step(ctx, args->dispatch, "vkCmdNextSubpass", true))
      device_of(args->dispatch)->dispatch.vkCmdNextSubpass(args->commandBuffer, args->contents);
}

void
vn_handle_vkCmdNextSubpass2(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCmdNextSubpass2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdNextSubpass2))
      return;
   if (subpass_step(ctx, args->dispatch, "vkCmdNextSubpass2", true))
      device_of(args->dispatch)
         ->dispatch.vkCmdNextSubpass2(args->commandBuffer, args->pSubpassBeginInfo,
                                      args->pSubpassEndInfo);
}

void
vn_handle_vkCmdEndRenderPass(struct vn_dispatch_context *dctx,
                             struct vn_command_vkCmdEndRenderPass *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (subpass_step(ctx, args->dispatch, "vkCmdEndRenderPass", false))
      device_of(args->dispatch)->dispatch.vkCmdEndRenderPass(args->commandBuffer);
}

void
vn_handle_vkCmdEndRenderPass2(struct vn_dispatch_context *dctx,
                              struct vn_command_vkCmdEndRenderPass2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdEndRenderPass2))
      return;
   if (subpass_step(ctx, args->dispatch, "vkCmdEndRenderPass2", false))
      device_of(args->dispatch)
         ->dispatch.vkCmdEndRenderPass2(args->commandBuffer, args->pSubpassEndInfo);
}

/* VUID-vkCmdEndRendering-None-06161: inside dynamic rendering begun in this
 * command buffer. */
void
vn_handle_vkCmdEndRendering(struct vn_dispatch_context *dctx,
                            struct vn_command_vkCmdEndRendering *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdEndRendering))
      return;
   struct pvk_command_buffer_state *st = args->dispatch->data;
   if (!st || !st->rendering) {
      pvk_reject(ctx,
                 "recording: vkCmdEndRendering: no dynamic rendering begun (command buffer "
                 "%llu)",
                 (unsigned long long)args->dispatch->id);
      return;
   }
   st->rendering = false;
   pvk_draw_state_changed(args->dispatch);
   device_of(args->dispatch)->dispatch.vkCmdEndRendering(args->commandBuffer);
}
