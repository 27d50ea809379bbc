/*
 * Valid-usage firewall: shader stages of pipeline creation. A stage that is
 * not exactly one bit the pipeline kind allows, or one given twice, makes
 * drivers index their per-stage arrays out of bounds (lavapipe reads NULL
 * for VkPipelineShaderStageCreateInfo.stage = 0x1f: the replay fuzzer's
 * "pipeline-stage" input). Refused before the driver sees it. Also the
 * attachment formats of dynamic rendering pipelines, and each pipeline's
 * kind (its bind point) recorded for vkCmdBindPipeline.
 */
#include <stdlib.h>

#include "common/log.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_validate.h"

#define PVK_GRAPHICS_STAGES                                                      \
   (VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_TESSELLATION_CONTROL_BIT |      \
    VK_SHADER_STAGE_TESSELLATION_EVALUATION_BIT | VK_SHADER_STAGE_GEOMETRY_BIT | \
    VK_SHADER_STAGE_FRAGMENT_BIT | VK_SHADER_STAGE_TASK_BIT_EXT | VK_SHADER_STAGE_MESH_BIT_EXT)

/* NULL, or why the stages of one pipeline are refused. */
static const char *
stages_ok(const VkPipelineShaderStageCreateInfo *stages, uint32_t count, VkShaderStageFlags allowed)
{
   VkShaderStageFlags seen = 0;
   for (uint32_t i = 0; i < count; i++) {
      const VkShaderStageFlags s = stages[i].stage;
      if (!s || (s & (s - 1)) || !(s & allowed))
         return "not a single stage bit this pipeline kind allows";
      if (seen & s)
         return "stage given twice";
      if (!stages[i].pName)
         return "no entry point name";
      seen |= s;
   }
   return NULL;
}

bool
pvk_format_has_depth(VkFormat f)
{
   return f == VK_FORMAT_D16_UNORM || f == VK_FORMAT_X8_D24_UNORM_PACK32 ||
          f == VK_FORMAT_D32_SFLOAT || f == VK_FORMAT_D16_UNORM_S8_UINT ||
          f == VK_FORMAT_D24_UNORM_S8_UINT || f == VK_FORMAT_D32_SFLOAT_S8_UINT;
}

static bool
has_stencil(VkFormat f)
{
   return f == VK_FORMAT_S8_UINT || f == VK_FORMAT_D16_UNORM_S8_UINT ||
          f == VK_FORMAT_D24_UNORM_S8_UINT || f == VK_FORMAT_D32_SFLOAT_S8_UINT;
}

/* Shader code given inline (VkShaderModuleCreateInfo chained in a stage,
 * maintenance5 / graphics pipeline library) passes the SPIR-V rule as a
 * module does (pvk_validate_spirv.c); refused there. */
static bool
inline_code_ok(struct pvk_context *ctx, struct pvk_device *dev, const char *cmd,
               const VkPipelineShaderStageCreateInfo *stages, uint32_t count, uint64_t pipeline)
{
   for (uint32_t i = 0; i < count; i++) {
      for (const VkBaseInStructure *p = stages[i].pNext; p; p = p->pNext) {
         if (p->sType == VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO &&
             !pvk_spirv_ok(ctx, dev, cmd, pipeline, (const VkShaderModuleCreateInfo *)p))
            return false;
      }
   }
   return true;
}

/* Attachment formats of dynamic rendering (VkPipelineRenderingCreateInfo,
 * read when renderPass is VK_NULL_HANDLE): colorAttachmentCount within
 * maxColorAttachments (VUID-VkPipelineRenderingCreateInfo-colorAttachmentCount-09533),
 * colour formats UNDEFINED or colour-attachment capable on the host
 * (VUID-VkGraphicsPipelineCreateInfo-renderPass-06582), depth and stencil
 * formats UNDEFINED or with that aspect (-renderPass-06587, -06588). A
 * driver maps an invalid format to nothing and reads through it (lavapipe:
 * stencilAttachmentFormat 0xfffffffd, the replay fuzzer, seed 8100). */
static const char *
rendering_formats_ok(struct pvk_device *dev, const VkGraphicsPipelineCreateInfo *info)
{
   if (info->renderPass)
      return NULL;
   const VkPipelineRenderingCreateInfo *r = NULL;
   for (const VkBaseInStructure *p = info->pNext; p && !r; p = p->pNext) {
      if (p->sType == VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO)
         r = (const VkPipelineRenderingCreateInfo *)p;
   }
   if (!r)
      return NULL;
   if (r->colorAttachmentCount > dev->physical_device->max_color_attachments ||
       (r->colorAttachmentCount && !r->pColorAttachmentFormats))
      return "colorAttachmentCount beyond maxColorAttachments, or no formats";
   for (uint32_t i = 0; i < r->colorAttachmentCount; i++) {
      const VkFormat f = r->pColorAttachmentFormats[i];
      if (f == VK_FORMAT_UNDEFINED)
         continue;
      VkFormatProperties props = { 0 };
      dev->instance->dispatch.vkGetPhysicalDeviceFormatProperties(dev->physical_device->handle, f,
                                                                  &props);
      if (!(props.optimalTilingFeatures & VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT))
         return "a colour attachment format the host cannot render to";
   }
   if (r->depthAttachmentFormat != VK_FORMAT_UNDEFINED &&
       !pvk_format_has_depth(r->depthAttachmentFormat))
      return "depthAttachmentFormat without a depth component";
   if (r->stencilAttachmentFormat != VK_FORMAT_UNDEFINED &&
       !has_stencil(r->stencilAttachmentFormat))
      return "stencilAttachmentFormat without a stencil component";
   return NULL;
}

/* VUID-VkSpecializationInfo-offset-00773, -pMapEntries-00774: every map
 * entry inside pData. Drivers copy each constant from pData + offset; a
 * size other than 1, 2, 4 or 8 bytes is no scalar a shader has. */
static const char *
specialization_why(const VkPipelineShaderStageCreateInfo *stages, uint32_t count)
{
   for (uint32_t i = 0; i < count; i++) {
      const VkSpecializationInfo *sp = stages[i].pSpecializationInfo;
      if (!sp)
         continue;
      if (sp->dataSize && !sp->pData)
         return "specialization data size without data";
      for (uint32_t e = 0; e < sp->mapEntryCount; e++) {
         const VkSpecializationMapEntry *m = &sp->pMapEntries[e];
         if (m->size != 1 && m->size != 2 && m->size != 4 && m->size != 8)
            return "specialization constant of a size no scalar has";
         if ((uint64_t)m->offset + m->size > sp->dataSize)
            return "specialization constant past the end of its data";
      }
   }
   return NULL;
}

static bool
dynamic_has(const VkGraphicsPipelineCreateInfo *info, VkDynamicState state)
{
   const VkPipelineDynamicStateCreateInfo *d = info->pDynamicState;
   for (uint32_t i = 0; d && d->pDynamicStates && i < d->dynamicStateCount; i++) {
      if (d->pDynamicStates[i] == state)
         return true;
   }
   return false;
}

/* Vertex input against the device's limits (VUID-VkPipelineVertexInputStateCreateInfo-
 * vertexBindingDescriptionCount-00613, -vertexAttributeDescriptionCount-00614,
 * VUID-VkVertexInputBindingDescription-binding-00618, -stride-00619,
 * VUID-VkVertexInputAttributeDescription-location-00620, -binding-00621,
 * -offset-00622): drivers keep fixed arrays indexed by binding and location. */
static const char *
vertex_input_why(const VkPhysicalDeviceLimits *l, const VkPipelineVertexInputStateCreateInfo *v)
{
   if (v->vertexBindingDescriptionCount > l->maxVertexInputBindings ||
       v->vertexAttributeDescriptionCount > l->maxVertexInputAttributes)
      return "more vertex bindings or attributes than the device has";
   for (uint32_t i = 0; i < v->vertexBindingDescriptionCount; i++) {
      const VkVertexInputBindingDescription *b = &v->pVertexBindingDescriptions[i];
      if (b->binding >= l->maxVertexInputBindings || b->stride > l->maxVertexInputBindingStride)
         return "vertex binding or stride past the device's limits";
   }
   for (uint32_t i = 0; i < v->vertexAttributeDescriptionCount; i++) {
      const VkVertexInputAttributeDescription *a = &v->pVertexAttributeDescriptions[i];
      if (a->location >= l->maxVertexInputAttributes || a->binding >= l->maxVertexInputBindings ||
          a->offset > l->maxVertexInputAttributeOffset)
         return "vertex attribute location, binding or offset past the device's limits";
   }
   for (const VkBaseInStructure *p = v->pNext; p; p = p->pNext) {
      if (p->sType != VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_DIVISOR_STATE_CREATE_INFO_EXT)
         continue;
      const VkPipelineVertexInputDivisorStateCreateInfoEXT *d =
         (const VkPipelineVertexInputDivisorStateCreateInfoEXT *)p;
      for (uint32_t i = 0; i < d->vertexBindingDivisorCount; i++) {
         if (d->pVertexBindingDivisors[i].binding >= l->maxVertexInputBindings)
            return "vertex binding divisor past the device's bindings";
      }
   }
   return NULL;
}

/* The fixed-function state of a graphics pipeline where drivers index
 * fixed arrays or tables with it: the render pass's subpass
 * (VUID-VkGraphicsPipelineCreateInfo-renderPass-06046), blend attachments
 * up to maxColorAttachments, vertex input, viewport and scissor counts up
 * to maxViewports (VUID-VkPipelineViewportStateCreateInfo-viewportCount-01218,
 * -scissorCount-01219), arrays a driver reads unless the state is dynamic,
 * and the patch size
 * (VUID-VkPipelineTessellationStateCreateInfo-patchControlPoints-01214);
 * the topology's value is the generated decoder's enum check.
 * State of a pipeline library part is checked the same way when given. */
static const char *
fixed_state_why(struct pvk_context *ctx, struct pvk_device *dev,
                const VkGraphicsPipelineCreateInfo *info)
{
   const VkPhysicalDeviceLimits *l = &dev->physical_device->limits;
   if (info->renderPass) {
      const struct vn_object *o = vn_object_table_find_handle(
         ctx->dispatch.objects, VK_OBJECT_TYPE_RENDER_PASS, (uint64_t)(uintptr_t)info->renderPass);
      const struct pvk_render_pass_state *rp = o ? o->data : NULL;
      if (!rp || info->subpass >= rp->subpass_count)
         return "subpass outside its render pass";
   }
   if (info->pMultisampleState &&
       !pvk_sample_count_ok(dev->physical_device, info->pMultisampleState->rasterizationSamples))
      return "rasterizationSamples the device does not have";
   const VkPipelineColorBlendStateCreateInfo *cb = info->pColorBlendState;
   if (cb && cb->attachmentCount > l->maxColorAttachments)
      return "more blend attachments than maxColorAttachments";
   if (cb && cb->attachmentCount && !cb->pAttachments &&
       !(dynamic_has(info, VK_DYNAMIC_STATE_COLOR_BLEND_ENABLE_EXT) &&
         dynamic_has(info, VK_DYNAMIC_STATE_COLOR_BLEND_EQUATION_EXT) &&
         dynamic_has(info, VK_DYNAMIC_STATE_COLOR_WRITE_MASK_EXT)))
      return "blend attachments without their states";
   if (info->pVertexInputState && !dynamic_has(info, VK_DYNAMIC_STATE_VERTEX_INPUT_EXT)) {
      const char *why = vertex_input_why(l, info->pVertexInputState);
      if (why)
         return why;
   }
   const VkPipelineViewportStateCreateInfo *vp = info->pViewportState;
   if (vp && (vp->viewportCount > l->maxViewports || vp->scissorCount > l->maxViewports))
      return "more viewports or scissors than maxViewports";
   if (vp && vp->viewportCount && !vp->pViewports &&
       !dynamic_has(info, VK_DYNAMIC_STATE_VIEWPORT) &&
       !dynamic_has(info, VK_DYNAMIC_STATE_VIEWPORT_WITH_COUNT))
      return "viewports neither given nor dynamic";
   if (vp && vp->scissorCount && !vp->pScissors && !dynamic_has(info, VK_DYNAMIC_STATE_SCISSOR) &&
       !dynamic_has(info, VK_DYNAMIC_STATE_SCISSOR_WITH_COUNT))
      return "scissors neither given nor dynamic";
   if (info->pTessellationState &&
       (!info->pTessellationState->patchControlPoints ||
        info->pTessellationState->patchControlPoints > l->maxTessellationPatchSize))
      return "patchControlPoints outside 1..maxTessellationPatchSize";
   return NULL;
}

/* Inserts the created pipelines' ids, as the generated executors do, with
 * their state (states[i], taken; NULL: compute). */
static void
insert_pipelines(struct pvk_context *ctx, struct vn_object *dispatch, const char *cmd, uint32_t n,
                 const VkPipeline *ids, const VkPipeline *host, struct pvk_pipeline_state **states)
{
   struct pvk_device *dev = pvk_device_from_base(dispatch->device);
   for (uint32_t i = 0; i < n; i++) {
      struct pvk_pipeline_state *st = states ? states[i] : NULL;
      if (states)
         states[i] = NULL;
      if (host[i] == VK_NULL_HANDLE) {
         pvk_pipeline_state_free(st);
         continue;
      }
      struct vn_object *obj =
         vn_object_table_insert(ctx->dispatch.objects, (uint64_t)(uintptr_t)ids[i],
                                VK_OBJECT_TYPE_PIPELINE, (uint64_t)(uintptr_t)host[i]);
      if (!obj) {
         dev->dispatch.vkDestroyPipeline(dev->handle, host[i], NULL);
         pvk_pipeline_state_free(st);
         pv_warn("venus", "%s: pipeline id %llu rejected (bad or duplicate)", cmd,
                 (unsigned long long)(uintptr_t)ids[i]);
         pvk_context_set_lost(ctx, "bad or duplicate object id");
         continue;
      }
      obj->device = dispatch->device;
      obj->instance = dispatch->instance;
      /* freed by pvk_validate_free_state */
      obj->data = st ? st : (void *)pvk_pipeline_compute_state();
   }
}

static void
free_states(struct pvk_pipeline_state **states, uint32_t n)
{
   for (uint32_t i = 0; states && i < n; i++)
      pvk_pipeline_state_free(states[i]);
   free(states);
}

static VkPipeline *
host_handles(struct pvk_context *ctx, const char *cmd, uint32_t n, const VkPipeline *ids)
{
   if (!n || !ids) {
      pvk_reject(ctx, "pipeline: %s: no pipeline ids", cmd);
      return NULL;
   }
   VkPipeline *host = calloc(n, sizeof(*host));
   if (!host)
      pvk_context_set_lost(ctx, "out of host memory");
   return host;
}

void
vn_handle_vkCreateGraphicsPipelines(struct vn_dispatch_context *dctx,
                                    struct vn_command_vkCreateGraphicsPipelines *args)
{
   static const char cmd[] = "vkCreateGraphicsPipelines";
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   struct pvk_pipeline_state **states =
      args->createInfoCount ? calloc(args->createInfoCount, sizeof(*states)) : NULL;
   if (args->createInfoCount && !states) {
      pvk_context_set_lost(ctx, "out of host memory");
      return;
   }
   for (uint32_t i = 0; args->pCreateInfos && i < args->createInfoCount; i++) {
      const VkGraphicsPipelineCreateInfo *info = &args->pCreateInfos[i];
      const char *why =
         stages_ok(info->pStages, info->pStages ? info->stageCount : 0, PVK_GRAPHICS_STAGES);
      if (!why)
         why = rendering_formats_ok(dev, info);
      if (!why)
         why = specialization_why(info->pStages, info->pStages ? info->stageCount : 0);
      if (!why)
         why = fixed_state_why(ctx, dev, info);
      if (!why)
         why = pvk_pipeline_vertex_state(ctx, dev, info, &states[i]);
      const uint64_t id = (uint64_t)(uintptr_t)(args->pPipelines ? args->pPipelines[i] : 0);
      if (why) {
         pvk_reject(ctx, "pipeline: %s create info %u: %s (pipeline %llu)", cmd, i, why,
                    (unsigned long long)id);
         free_states(states, args->createInfoCount);
         return;
      }
      if (!states[i] ||
          !inline_code_ok(ctx, dev, cmd, info->pStages, info->pStages ? info->stageCount : 0, id)) {
         free_states(states, args->createInfoCount);
         return;
      }
   }
   VkPipeline *host = host_handles(ctx, cmd, args->createInfoCount, args->pPipelines);
   if (!host) {
      free_states(states, args->createInfoCount);
      return;
   }
   args->ret = dev->dispatch.vkCreateGraphicsPipelines(
      args->device, args->pipelineCache, args->createInfoCount, args->pCreateInfos, NULL, host);
   insert_pipelines(ctx, args->dispatch, cmd, args->createInfoCount, args->pPipelines, host,
                    args->pCreateInfos ? states : NULL);
   free_states(states, args->createInfoCount);
   free(host);
}

void
vn_handle_vkCreateComputePipelines(struct vn_dispatch_context *dctx,
                                   struct vn_command_vkCreateComputePipelines *args)
{
   static const char cmd[] = "vkCreateComputePipelines";
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   for (uint32_t i = 0; args->pCreateInfos && i < args->createInfoCount; i++) {
      const char *why = stages_ok(&args->pCreateInfos[i].stage, 1, VK_SHADER_STAGE_COMPUTE_BIT);
      if (!why)
         why = specialization_why(&args->pCreateInfos[i].stage, 1);
      const uint64_t id = (uint64_t)(uintptr_t)(args->pPipelines ? args->pPipelines[i] : 0);
      if (why) {
         pvk_reject(ctx, "pipeline: %s create info %u: %s (pipeline %llu)", cmd, i, why,
                    (unsigned long long)id);
         return;
      }
      if (!inline_code_ok(ctx, pvk_device_from_base(args->dispatch->device), cmd,
                          &args->pCreateInfos[i].stage, 1, id))
         return;
   }
   VkPipeline *host = host_handles(ctx, cmd, args->createInfoCount, args->pPipelines);
   if (!host)
      return;
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   args->ret = dev->dispatch.vkCreateComputePipelines(
      args->device, args->pipelineCache, args->createInfoCount, args->pCreateInfos, NULL, host);
   insert_pipelines(ctx, args->dispatch, cmd, args->createInfoCount, args->pPipelines, host, NULL);
   free(host);
}
