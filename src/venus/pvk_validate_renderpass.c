/*
 * Firewall rules for render passes, framebuffers and push constants
 * (pvk_validate.h). Drivers index a framebuffer's attachment array, the
 * clear values and their per-attachment state with the render pass's
 * attachment indices, and copy push constants into a block of
 * maxPushConstantsSize bytes:
 *
 * - render pass creation: every attachment reference of every subpass is an
 *   attachment of the pass (or VK_ATTACHMENT_UNUSED), every dependency names
 *   a subpass of the pass (or VK_SUBPASS_EXTERNAL);
 * - framebuffer creation: as many attachments (or, imageless, attachment
 *   image infos) as its render pass, each one a subpass renders to or
 *   reads at least the framebuffer's size and layers (drivers render the
 *   framebuffer's size into the attachments' memory);
 * - render pass begin: the framebuffer has the render pass's attachment
 *   count, an imageless framebuffer gets that many views, each covering it,
 *   there is a clear value for every attachment up to the last one cleared,
 *   and the render area lies inside the framebuffer;
 * - dynamic rendering: the render area and the layers rendered lie inside
 *   every attachment view;
 * - push constants: offset and size multiples of 4, inside the device's
 *   maxPushConstantsSize (no lookup: the command buffer's device has it).
 */
#include <stdlib.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_validate.h"

static const void *find_struct(const void *chain, VkStructureType type);

static bool
ref_ok(uint32_t attachment, uint32_t count)
{
   return attachment == VK_ATTACHMENT_UNUSED || attachment < count;
}

static void
insert_with_state(struct pvk_context *ctx, struct pvk_device *dev, VkObjectType type, uint64_t id,
                  uint64_t handle, void *state)
{
   struct vn_object *obj = vn_object_table_insert(ctx->dispatch.objects, id, type, handle);
   if (!obj) {
      struct vn_object o = { .type = type, .handle = handle, .device = pvk_device_base(dev) };
      vn_object_destroy_host(&o);
      if (type == VK_OBJECT_TYPE_FRAMEBUFFER)
         free(((struct pvk_framebuffer_state *)state)->uses);
      free(state);
      pvk_context_set_lost(ctx, "bad or duplicate object id");
      return;
   }
   obj->instance = pvk_instance_base(dev->instance);
   obj->device = pvk_device_base(dev);
   obj->data = state;
}

/* The recorded state; colors[] is the caller's to fill. */
static struct pvk_render_pass_state *
render_pass_state(struct pvk_context *ctx, uint32_t subpasses, uint32_t attachments, uint32_t clear)
{
   struct pvk_render_pass_state *s =
      calloc(1, sizeof(*s) + (size_t)subpasses * sizeof(s->colors[0]) + attachments);
   if (!s) {
      pvk_context_set_lost(ctx, "render pass: out of host memory");
      return NULL;
   }
   s->subpass_count = subpasses;
   s->attachment_count = attachments;
   s->clear_count = clear;
   s->sized = (uint8_t *)(s->colors + subpasses);
   return s;
}

/* An attachment a subpass renders to or reads: it must cover the
 * framebuffer (checked at framebuffer creation and render pass begin). */
static void
mark_sized(struct pvk_render_pass_state *s, uint32_t attachment)
{
   if (attachment < s->attachment_count)
      s->sized[attachment] = 1;
}

static uint32_t
view_layers_of(uint32_t view_mask)
{
   uint32_t n = 0;
   while (n < 32 && (view_mask >> n))
      n++;
   return n;
}

static void
mark_subpass(struct pvk_render_pass_state *s, const VkAttachmentReference *input, uint32_t inputs,
             const VkAttachmentReference *color, const VkAttachmentReference *resolve,
             uint32_t colors, const VkAttachmentReference *depth)
{
   for (uint32_t i = 0; i < inputs; i++)
      mark_sized(s, input[i].attachment);
   for (uint32_t i = 0; i < colors; i++) {
      mark_sized(s, color[i].attachment);
      if (resolve)
         mark_sized(s, resolve[i].attachment);
   }
   if (depth)
      mark_sized(s, depth->attachment);
}

static bool
dependency_ok(uint32_t subpass, uint32_t count)
{
   return subpass == VK_SUBPASS_EXTERNAL || subpass < count;
}

void
vn_handle_vkCreateRenderPass(struct vn_dispatch_context *dctx,
                             struct vn_command_vkCreateRenderPass *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const VkRenderPassCreateInfo *info = args->pCreateInfo;
   if (!info || !args->pRenderPass) {
      pvk_context_set_lost(ctx, "vkCreateRenderPass: missing arguments");
      return;
   }
   const uint32_t n = info->attachmentCount;
   uint32_t clear = 0;
   for (uint32_t i = 0; i < n; i++) {
      if (info->pAttachments[i].loadOp == VK_ATTACHMENT_LOAD_OP_CLEAR ||
          info->pAttachments[i].stencilLoadOp == VK_ATTACHMENT_LOAD_OP_CLEAR)
         clear = i + 1;
   }
   const char *why = NULL;
   uint32_t bad_subpass = 0;
   for (uint32_t i = 0; !why && i < n; i++) {
      if (!pvk_sample_count_ok(dev->physical_device, info->pAttachments[i].samples))
         why = "attachment sample count the device does not have";
   }
   for (uint32_t s = 0; !why && s < info->subpassCount; s++) {
      const VkSubpassDescription *d = &info->pSubpasses[s];
      bad_subpass = s;
      for (uint32_t i = 0; !why && i < d->inputAttachmentCount; i++)
         why = ref_ok(d->pInputAttachments[i].attachment, n) ? NULL : "input attachment";
      for (uint32_t i = 0; !why && i < d->colorAttachmentCount; i++) {
         why = ref_ok(d->pColorAttachments[i].attachment, n) ? NULL : "color attachment";
         if (!why && d->pResolveAttachments)
            why = ref_ok(d->pResolveAttachments[i].attachment, n) ? NULL : "resolve attachment";
      }
      if (!why && d->pDepthStencilAttachment)
         why = ref_ok(d->pDepthStencilAttachment->attachment, n) ? NULL : "depth attachment";
      for (uint32_t i = 0; !why && i < d->preserveAttachmentCount; i++)
         why = d->pPreserveAttachments[i] < n ? NULL : "preserve attachment";
   }
   for (uint32_t i = 0; !why && i < info->dependencyCount; i++) {
      if (!dependency_ok(info->pDependencies[i].srcSubpass, info->subpassCount) ||
          !dependency_ok(info->pDependencies[i].dstSubpass, info->subpassCount))
         why = "dependency subpass";
   }
   if (why) {
      pvk_reject(ctx,
                 "render pass: vkCreateRenderPass subpass %u: %s outside the pass (%u "
                 "attachments, %u subpasses)",
                 bad_subpass, why, n, info->subpassCount);
      return;
   }
   struct pvk_render_pass_state *state = render_pass_state(ctx, info->subpassCount, n, clear);
   if (!state)
      return;
   for (uint32_t i = 0; i < info->subpassCount; i++) {
      const VkSubpassDescription *d = &info->pSubpasses[i];
      state->colors[i] = d->colorAttachmentCount;
      mark_subpass(state, d->pInputAttachments, d->inputAttachmentCount, d->pColorAttachments,
                   d->pResolveAttachments, d->colorAttachmentCount, d->pDepthStencilAttachment);
   }
   const VkRenderPassMultiviewCreateInfo *mv =
      find_struct(info->pNext, VK_STRUCTURE_TYPE_RENDER_PASS_MULTIVIEW_CREATE_INFO);
   for (uint32_t i = 0; mv && mv->pViewMasks && i < mv->subpassCount; i++) {
      const uint32_t n = view_layers_of(mv->pViewMasks[i]);
      state->view_layers = n > state->view_layers ? n : state->view_layers;
   }
   VkRenderPass handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateRenderPass(dev->handle, info, NULL, &handle);
   if (args->ret != VK_SUCCESS) {
      free(state);
      return;
   }
   insert_with_state(ctx, dev, VK_OBJECT_TYPE_RENDER_PASS, (uint64_t)(uintptr_t)*args->pRenderPass,
                     (uint64_t)(uintptr_t)handle, state);
}

static const void *
find_struct(const void *chain, VkStructureType type)
{
   for (const VkBaseInStructure *s = chain; s; s = s->pNext) {
      if (s->sType == type)
         return s;
   }
   return NULL;
}

static const char *
subpass2_refs(const VkSubpassDescription2 *d, uint32_t n)
{
   for (uint32_t i = 0; i < d->inputAttachmentCount; i++) {
      if (!ref_ok(d->pInputAttachments[i].attachment, n))
         return "input attachment";
   }
   for (uint32_t i = 0; i < d->colorAttachmentCount; i++) {
      if (!ref_ok(d->pColorAttachments[i].attachment, n) ||
          (d->pResolveAttachments && !ref_ok(d->pResolveAttachments[i].attachment, n)))
         return "color or resolve attachment";
   }
   if (d->pDepthStencilAttachment && !ref_ok(d->pDepthStencilAttachment->attachment, n))
      return "depth attachment";
   for (uint32_t i = 0; i < d->preserveAttachmentCount; i++) {
      if (d->pPreserveAttachments[i] >= n)
         return "preserve attachment";
   }
   const VkSubpassDescriptionDepthStencilResolve *dsr =
      find_struct(d->pNext, VK_STRUCTURE_TYPE_SUBPASS_DESCRIPTION_DEPTH_STENCIL_RESOLVE);
   if (dsr && dsr->pDepthStencilResolveAttachment &&
       !ref_ok(dsr->pDepthStencilResolveAttachment->attachment, n))
      return "depth resolve attachment";
   const VkFragmentShadingRateAttachmentInfoKHR *fsr =
      find_struct(d->pNext, VK_STRUCTURE_TYPE_FRAGMENT_SHADING_RATE_ATTACHMENT_INFO_KHR);
   if (fsr && fsr->pFragmentShadingRateAttachment &&
       !ref_ok(fsr->pFragmentShadingRateAttachment->attachment, n))
      return "shading rate attachment";
   return NULL;
}

/* mark_subpass for VkSubpassDescription2 (its references are another type) */
static void
mark_subpass2(struct pvk_render_pass_state *s, const VkSubpassDescription2 *d)
{
   for (uint32_t i = 0; i < d->inputAttachmentCount; i++)
      mark_sized(s, d->pInputAttachments[i].attachment);
   for (uint32_t i = 0; i < d->colorAttachmentCount; i++) {
      mark_sized(s, d->pColorAttachments[i].attachment);
      if (d->pResolveAttachments)
         mark_sized(s, d->pResolveAttachments[i].attachment);
   }
   if (d->pDepthStencilAttachment)
      mark_sized(s, d->pDepthStencilAttachment->attachment);
   const VkSubpassDescriptionDepthStencilResolve *dsr =
      find_struct(d->pNext, VK_STRUCTURE_TYPE_SUBPASS_DESCRIPTION_DEPTH_STENCIL_RESOLVE);
   if (dsr && dsr->pDepthStencilResolveAttachment)
      mark_sized(s, dsr->pDepthStencilResolveAttachment->attachment);
}

void
vn_handle_vkCreateRenderPass2(struct vn_dispatch_context *dctx,
                              struct vn_command_vkCreateRenderPass2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCreateRenderPass2))
      return;
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const VkRenderPassCreateInfo2 *info = args->pCreateInfo;
   if (!info || !args->pRenderPass) {
      pvk_context_set_lost(ctx, "vkCreateRenderPass2: missing arguments");
      return;
   }
   const uint32_t n = info->attachmentCount;
   uint32_t clear = 0;
   for (uint32_t i = 0; i < n; i++) {
      if (info->pAttachments[i].loadOp == VK_ATTACHMENT_LOAD_OP_CLEAR ||
          info->pAttachments[i].stencilLoadOp == VK_ATTACHMENT_LOAD_OP_CLEAR)
         clear = i + 1;
   }
   const char *why = NULL;
   uint32_t bad_subpass = 0;
   for (uint32_t i = 0; !why && i < n; i++) {
      if (!pvk_sample_count_ok(dev->physical_device, info->pAttachments[i].samples))
         why = "attachment sample count the device does not have";
   }
   for (uint32_t s = 0; !why && s < info->subpassCount; s++) {
      bad_subpass = s;
      why = subpass2_refs(&info->pSubpasses[s], n);
   }
   for (uint32_t i = 0; !why && i < info->dependencyCount; i++) {
      if (!dependency_ok(info->pDependencies[i].srcSubpass, info->subpassCount) ||
          !dependency_ok(info->pDependencies[i].dstSubpass, info->subpassCount))
         why = "dependency subpass";
   }
   if (why) {
      pvk_reject(ctx,
                 "render pass: vkCreateRenderPass2 subpass %u: %s outside the pass (%u "
                 "attachments, %u subpasses)",
                 bad_subpass, why, n, info->subpassCount);
      return;
   }
   struct pvk_render_pass_state *state = render_pass_state(ctx, info->subpassCount, n, clear);
   if (!state)
      return;
   for (uint32_t i = 0; i < info->subpassCount; i++) {
      const VkSubpassDescription2 *d = &info->pSubpasses[i];
      state->colors[i] = d->colorAttachmentCount;
      mark_subpass2(state, d);
      const uint32_t n = view_layers_of(d->viewMask);
      state->view_layers = n > state->view_layers ? n : state->view_layers;
   }
   VkRenderPass handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateRenderPass2(dev->handle, info, NULL, &handle);
   if (args->ret != VK_SUCCESS) {
      free(state);
      return;
   }
   insert_with_state(ctx, dev, VK_OBJECT_TYPE_RENDER_PASS, (uint64_t)(uintptr_t)*args->pRenderPass,
                     (uint64_t)(uintptr_t)handle, state);
}

static const struct pvk_render_pass_state *
render_pass_of(struct pvk_context *ctx, VkRenderPass rp, uint64_t *id)
{
   const struct vn_object *o = vn_object_table_find_handle(
      ctx->dispatch.objects, VK_OBJECT_TYPE_RENDER_PASS, (uint64_t)(uintptr_t)rp);
   *id = o ? o->id : 0;
   return o ? o->data : NULL;
}

/* VUID-VkFramebufferCreateInfo-flags-04533/04534/04535 (and -04541..
 * for imageless ones): each attachment a subpass renders to or reads
 * covers the framebuffer; with multiview, its views' layers. Drivers size
 * rendering by the framebuffer and address the attachments' memory with
 * it. */
static const char *
covers_why(const struct pvk_render_pass_state *rp, uint32_t fb_w, uint32_t fb_h, uint32_t fb_layers,
           uint32_t w, uint32_t h, uint32_t layers)
{
   if (w < fb_w || h < fb_h)
      return "attachment smaller than the framebuffer";
   if (layers < (rp->view_layers ? rp->view_layers : fb_layers))
      return "attachment with fewer layers than the framebuffer (or its views)";
   return NULL;
}

static const char *
framebuffer_views_why(struct pvk_context *ctx, const struct pvk_render_pass_state *rp,
                      const VkFramebufferCreateInfo *info,
                      const VkFramebufferAttachmentsCreateInfo *images, uint32_t *bad)
{
   if (!info->width || !info->height || !info->layers)
      return "empty framebuffer";
   for (uint32_t i = 0; i < info->attachmentCount; i++) {
      *bad = i;
      const char *why = NULL;
      if (info->flags & VK_FRAMEBUFFER_CREATE_IMAGELESS_BIT) {
         const VkFramebufferAttachmentImageInfo *a = &images->pAttachmentImageInfos[i];
         if (rp->sized[i])
            why = covers_why(rp, info->width, info->height, info->layers, a->width, a->height,
                             a->layerCount);
      } else {
         const struct pvk_view_state *v =
            pvk_image_view_state(ctx, (uint64_t)(uintptr_t)info->pAttachments[i]);
         if (!v)
            why = "attachment without a recorded image view";
         else if (rp->sized[i])
            why = covers_why(rp, info->width, info->height, info->layers, v->width, v->height,
                             v->layers);
      }
      if (why)
         return why;
   }
   return NULL;
}

void
vn_handle_vkCreateFramebuffer(struct vn_dispatch_context *dctx,
                              struct vn_command_vkCreateFramebuffer *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const VkFramebufferCreateInfo *info = args->pCreateInfo;
   if (!info || !args->pFramebuffer) {
      pvk_context_set_lost(ctx, "vkCreateFramebuffer: missing arguments");
      return;
   }
   uint64_t rp_id;
   const struct pvk_render_pass_state *rp = render_pass_of(ctx, info->renderPass, &rp_id);
   const bool imageless = info->flags & VK_FRAMEBUFFER_CREATE_IMAGELESS_BIT;
   const VkFramebufferAttachmentsCreateInfo *images =
      find_struct(info->pNext, VK_STRUCTURE_TYPE_FRAMEBUFFER_ATTACHMENTS_CREATE_INFO);
   const char *why = NULL;
   if (!rp)
      why = "render pass without recorded state";
   else if (info->attachmentCount != rp->attachment_count)
      why = "attachment count is not the render pass's";
   else if (!imageless && info->attachmentCount && !info->pAttachments)
      why = "no attachments";
   else if (imageless && (!images || images->attachmentImageInfoCount != info->attachmentCount))
      why = "imageless framebuffer without an image info per attachment";
   uint32_t bad = 0;
   if (!why)
      why = framebuffer_views_why(ctx, rp, info, images, &bad);
   if (why) {
      pvk_reject(ctx,
                 "render pass: vkCreateFramebuffer: %s (render pass %llu, attachment %u of %u, "
                 "framebuffer %ux%u, %u layers)",
                 why, (unsigned long long)rp_id, bad, info->attachmentCount, info->width,
                 info->height, info->layers);
      return;
   }
   struct pvk_framebuffer_state *state = malloc(sizeof(*state));
   if (!state) {
      pvk_context_set_lost(ctx, "vkCreateFramebuffer: out of host memory");
      return;
   }
   *state = (struct pvk_framebuffer_state){
      .attachment_count = info->attachmentCount,
      .imageless = imageless,
      .width = info->width,
      .height = info->height,
      .layers = info->layers,
   };
   if (!imageless && !pvk_framebuffer_record_uses(ctx, state, info)) {
      free(state);
      return;
   }
   VkFramebuffer handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateFramebuffer(dev->handle, info, NULL, &handle);
   if (args->ret != VK_SUCCESS) {
      free(state->uses);
      free(state);
      return;
   }
   insert_with_state(ctx, dev, VK_OBJECT_TYPE_FRAMEBUFFER, (uint64_t)(uintptr_t)*args->pFramebuffer,
                     (uint64_t)(uintptr_t)handle, state);
}

/* VUID-VkRenderPassBeginInfo-pNext-02852..02855, and for dynamic
 * rendering VUID-VkRenderingInfo-imageView-06075 and the like: the render
 * area lies inside what is rendered to. */
static bool
area_inside(const VkRect2D *a, uint32_t w, uint32_t h)
{
   return a->offset.x >= 0 && a->offset.y >= 0 &&
          (int64_t)a->offset.x + a->extent.width <= (int64_t)w &&
          (int64_t)a->offset.y + a->extent.height <= (int64_t)h;
}

static bool
begin_views_ok(struct pvk_context *ctx, const struct pvk_render_pass_state *rp,
               const struct pvk_framebuffer_state *fb, const VkRenderPassAttachmentBeginInfo *views)
{
   for (uint32_t i = 0; i < views->attachmentCount; i++) {
      const struct pvk_view_state *v =
         pvk_image_view_state(ctx, (uint64_t)(uintptr_t)views->pAttachments[i]);
      if (!v || (rp->sized[i] &&
                 covers_why(rp, fb->width, fb->height, fb->layers, v->width, v->height, v->layers)))
         return false;
   }
   return true;
}

/* On true, *subpasses and *layers (the layers vkCmdClearAttachments may
 * clear: the framebuffer's, 1 with multiview) of the instance. */
static bool
begin_ok(struct pvk_context *ctx, const char *cmd, const VkRenderPassBeginInfo *b,
         uint32_t *subpasses, uint32_t *layers)
{
   const char *why = NULL;
   uint64_t rp_id = 0;
   const struct vn_object *fo = NULL;
   if (!b) {
      why = "no begin info";
   } else {
      const struct pvk_render_pass_state *rp = render_pass_of(ctx, b->renderPass, &rp_id);
      fo = vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_FRAMEBUFFER,
                                       (uint64_t)(uintptr_t)b->framebuffer);
      const struct pvk_framebuffer_state *fb = fo ? fo->data : NULL;
      const VkRenderPassAttachmentBeginInfo *views =
         find_struct(b->pNext, VK_STRUCTURE_TYPE_RENDER_PASS_ATTACHMENT_BEGIN_INFO);
      if (!rp || !fb)
         why = "render pass or framebuffer without recorded state";
      else if (fb->attachment_count != rp->attachment_count)
         why = "framebuffer attachment count is not the render pass's";
      else if (fb->imageless && (!views || views->attachmentCount != fb->attachment_count))
         why = "imageless framebuffer without a view per attachment";
      else if (b->clearValueCount < rp->clear_count || (b->clearValueCount && !b->pClearValues))
         why = "fewer clear values than cleared attachments";
      else if (!rp->subpass_count)
         why = "render pass without subpasses";
      else if (!area_inside(&b->renderArea, fb->width, fb->height))
         why = "render area outside the framebuffer";
      else if (fb->imageless && !begin_views_ok(ctx, rp, fb, views))
         why = "imageless framebuffer with a view smaller than it";
      else
         *subpasses = rp->subpass_count, *layers = rp->view_layers ? 1 : fb->layers;
   }
   if (!why)
      return true;
   pvk_reject(ctx, "render pass: %s: %s (render pass %llu, framebuffer %llu)", cmd, why,
              (unsigned long long)rp_id, (unsigned long long)(fo ? fo->id : 0));
   return false;
}

void
vn_handle_vkCmdBeginRenderPass(struct vn_dispatch_context *dctx,
                               struct vn_command_vkCmdBeginRenderPass *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   uint32_t subpasses = 0, layers = 0;
   if (begin_ok(ctx, "vkCmdBeginRenderPass", args->pRenderPassBegin, &subpasses, &layers) &&
       pvk_recording_begin(ctx, args->dispatch, "vkCmdBeginRenderPass", subpasses)) {
      pvk_cb_use_render_pass(ctx, args->dispatch, args->pRenderPassBegin);
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdBeginRenderPass(args->commandBuffer, args->pRenderPassBegin,
                                         args->contents);
      pvk_recording_set_pass(args->dispatch,
                             (uint64_t)(uintptr_t)args->pRenderPassBegin->renderPass, 0,
                             &args->pRenderPassBegin->renderArea, layers);
   }
}

void
vn_handle_vkCmdBeginRenderPass2(struct vn_dispatch_context *dctx,
                                struct vn_command_vkCmdBeginRenderPass2 *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdBeginRenderPass2))
      return;
   uint32_t subpasses = 0, layers = 0;
   if (begin_ok(ctx, "vkCmdBeginRenderPass2", args->pRenderPassBegin, &subpasses, &layers) &&
       pvk_recording_begin(ctx, args->dispatch, "vkCmdBeginRenderPass2", subpasses)) {
      pvk_cb_use_render_pass(ctx, args->dispatch, args->pRenderPassBegin);
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdBeginRenderPass2(args->commandBuffer, args->pRenderPassBegin,
                                          args->pSubpassBeginInfo);
      pvk_recording_set_pass(args->dispatch,
                             (uint64_t)(uintptr_t)args->pRenderPassBegin->renderPass, 0,
                             &args->pRenderPassBegin->renderArea, layers);
   }
}

void
vn_handle_vkCmdPushConstants(struct vn_dispatch_context *dctx,
                             struct vn_command_vkCmdPushConstants *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const uint32_t max = dev->physical_device->max_push_constants;
   if (args->offset % 4 || args->size % 4 || !args->size || args->offset > max ||
       args->size > max - args->offset || !args->pValues) {
      pvk_reject(ctx, "push constants: vkCmdPushConstants: offset %u size %u outside 0..%u",
                 args->offset, args->size, max);
      return;
   }
   struct pvk_command_buffer_state *st = pvk_cb_state(ctx, args->dispatch);
   if (!st)
      return;
   dev->dispatch.vkCmdPushConstants(args->commandBuffer, args->layout, args->stageFlags,
                                    args->offset, args->size, args->pValues);
   st->guest_pushed = true; /* no zeros after it (pvk_validate_recording.c) */
}

/* --- dynamic state indices against device limits (no lookup) --- */

/* [first, first + count) inside 0..max, count not 0: drivers index
 * fixed-size state arrays with them. */
static bool
slots_ok(struct pvk_context *ctx, const char *cmd, const char *what, uint32_t first, uint32_t count,
         uint32_t max, const void *array)
{
   if (count && array && first < max && count <= max - first)
      return true;
   pvk_reject(ctx, "limits: %s: %s %u..+%u outside 0..%u", cmd, what, first, count, max);
   return false;
}

static struct pvk_physical_device *
physical_of(struct vn_object *dispatch)
{
   return pvk_device_from_base(dispatch->device)->physical_device;
}

/* VUID-vkCmdSetViewport-firstViewport-01223, -viewportCount-arraylength */
void
vn_handle_vkCmdSetViewport(struct vn_dispatch_context *dctx,
                           struct vn_command_vkCmdSetViewport *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (slots_ok(ctx, "vkCmdSetViewport", "viewports", args->firstViewport, args->viewportCount,
                physical_of(args->dispatch)->max_viewports, args->pViewports))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdSetViewport(args->commandBuffer, args->firstViewport, args->viewportCount,
                                     args->pViewports);
}

/* VUID-vkCmdSetScissor-firstScissor-00592, -scissorCount-arraylength */
void
vn_handle_vkCmdSetScissor(struct vn_dispatch_context *dctx, struct vn_command_vkCmdSetScissor *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (slots_ok(ctx, "vkCmdSetScissor", "scissors", args->firstScissor, args->scissorCount,
                physical_of(args->dispatch)->max_viewports, args->pScissors))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdSetScissor(args->commandBuffer, args->firstScissor, args->scissorCount,
                                    args->pScissors);
}

/* VUID-vkCmdSetViewportWithCount-viewportCount-03012/-arraylength */
void
vn_handle_vkCmdSetViewportWithCount(struct vn_dispatch_context *dctx,
                                    struct vn_command_vkCmdSetViewportWithCount *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdSetViewportWithCount))
      return;
   if (slots_ok(ctx, "vkCmdSetViewportWithCount", "viewports", 0, args->viewportCount,
                physical_of(args->dispatch)->max_viewports, args->pViewports))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdSetViewportWithCount(args->commandBuffer, args->viewportCount,
                                              args->pViewports);
}

/* VUID-vkCmdSetScissorWithCount-scissorCount-03397/-arraylength */
void
vn_handle_vkCmdSetScissorWithCount(struct vn_dispatch_context *dctx,
                                   struct vn_command_vkCmdSetScissorWithCount *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdSetScissorWithCount))
      return;
   if (slots_ok(ctx, "vkCmdSetScissorWithCount", "scissors", 0, args->scissorCount,
                physical_of(args->dispatch)->max_viewports, args->pScissors))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdSetScissorWithCount(args->commandBuffer, args->scissorCount,
                                             args->pScissors);
}

/* VUID-vkCmdSetColorWriteEnableEXT-attachmentCount-06656 */
void
vn_handle_vkCmdSetColorWriteEnableEXT(struct vn_dispatch_context *dctx,
                                      struct vn_command_vkCmdSetColorWriteEnableEXT *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdSetColorWriteEnableEXT))
      return;
   if (slots_ok(ctx, "vkCmdSetColorWriteEnableEXT", "attachments", 0, args->attachmentCount,
                physical_of(args->dispatch)->max_color_attachments, args->pColorWriteEnables))
      pvk_device_from_base(args->dispatch->device)
         ->dispatch.vkCmdSetColorWriteEnableEXT(args->commandBuffer, args->attachmentCount,
                                                args->pColorWriteEnables);
}

/* VUID-VkRenderingInfo-colorAttachmentCount-06106: within
 * maxColorAttachments (drivers keep fixed per-attachment state). The views
 * themselves were checked at creation (bound image, ranges). */
/* One attachment of a dynamic rendering: its views (when given) cover the
 * render area and the layers rendered (or the views of the view mask). */
static const char *
rendering_view_why(struct pvk_context *ctx, const VkRenderingInfo *info, VkImageView view)
{
   if (!view)
      return NULL;
   const struct pvk_view_state *v = pvk_image_view_state(ctx, (uint64_t)(uintptr_t)view);
   if (!v)
      return "attachment without a recorded image view";
   if (!area_inside(&info->renderArea, v->width, v->height))
      return "render area outside an attachment";
   const uint32_t layers = info->viewMask ? view_layers_of(info->viewMask) : info->layerCount;
   if (v->layers < layers)
      return "attachment with fewer layers than rendered";
   return NULL;
}

static const char *
rendering_att_why(struct pvk_context *ctx, const VkRenderingInfo *info,
                  const VkRenderingAttachmentInfo *a)
{
   if (!a)
      return NULL;
   const char *why = rendering_view_why(ctx, info, a->imageView);
   if (!why && a->resolveMode != VK_RESOLVE_MODE_NONE)
      why = rendering_view_why(ctx, info, a->resolveImageView);
   return why;
}

static const char *
rendering_views_why(struct pvk_context *ctx, const VkRenderingInfo *info, uint32_t *bad)
{
   if (info->renderArea.offset.x < 0 || info->renderArea.offset.y < 0)
      return "render area at a negative offset";
   if (!info->viewMask && !info->layerCount)
      return "no layers";
   const char *why = NULL;
   for (uint32_t i = 0; !why && i < info->colorAttachmentCount; i++) {
      *bad = i;
      why = rendering_att_why(ctx, info, &info->pColorAttachments[i]);
   }
   if (!why) {
      *bad = info->colorAttachmentCount;
      why = rendering_att_why(ctx, info, info->pDepthAttachment);
   }
   if (!why) {
      *bad = info->colorAttachmentCount + 1;
      why = rendering_att_why(ctx, info, info->pStencilAttachment);
   }
   return why;
}

static VkFormat
view_format(struct pvk_context *ctx, const VkRenderingAttachmentInfo *a)
{
   const struct pvk_view_state *v =
      a && a->imageView ? pvk_image_view_state(ctx, (uint64_t)(uintptr_t)a->imageView) : NULL;
   return v ? v->format : VK_FORMAT_UNDEFINED;
}

/* The attachment formats of the instance begun, for the secondaries it
 * executes (pvk_recording_execute_ok; the views exist: checked above). */
static void
record_formats(struct pvk_context *ctx, struct vn_object *cb, const VkRenderingInfo *info)
{
   struct pvk_command_buffer_state *st = pvk_cb_state(ctx, cb);
   if (!st)
      return;
   for (uint32_t i = 0; i < info->colorAttachmentCount && i < PVK_MAX_RENDER_FORMATS; i++)
      st->color_formats[i] = view_format(ctx, &info->pColorAttachments[i]);
   st->depth_format = view_format(ctx, info->pDepthAttachment);
   st->stencil_format = view_format(ctx, info->pStencilAttachment);
}

void
vn_handle_vkCmdBeginRendering(struct vn_dispatch_context *dctx,
                              struct vn_command_vkCmdBeginRendering *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdBeginRendering))
      return;
   const VkRenderingInfo *info = args->pRenderingInfo;
   if (!info) {
      pvk_context_set_lost(ctx, "vkCmdBeginRendering: missing rendering info");
      return;
   }
   if (info->colorAttachmentCount &&
       !slots_ok(ctx, "vkCmdBeginRendering", "colour attachments", 0, info->colorAttachmentCount,
                 physical_of(args->dispatch)->max_color_attachments, info->pColorAttachments))
      return;
   uint32_t bad = 0;
   const char *why = rendering_views_why(ctx, info, &bad);
   if (why) {
      pvk_reject(ctx,
                 "render pass: vkCmdBeginRendering: %s (attachment %u, render area %d,%d %ux%u, "
                 "%u layers, view mask 0x%x)",
                 why, bad, info->renderArea.offset.x, info->renderArea.offset.y,
                 info->renderArea.extent.width, info->renderArea.extent.height, info->layerCount,
                 info->viewMask);
      return;
   }
   if (!pvk_recording_begin(ctx, args->dispatch, "vkCmdBeginRendering", 0))
      return;
   pvk_cb_use_rendering(ctx, args->dispatch, info);
   pvk_device_from_base(args->dispatch->device)
      ->dispatch.vkCmdBeginRendering(args->commandBuffer, info);
   pvk_recording_set_pass(args->dispatch, 0, info->colorAttachmentCount, &info->renderArea,
                          info->viewMask ? 1 : info->layerCount);
   record_formats(ctx, args->dispatch, info);
}
