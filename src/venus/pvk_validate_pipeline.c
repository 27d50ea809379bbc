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

static bool
has_depth(VkFormat f)
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
   if (r->depthAttachmentFormat != VK_FORMAT_UNDEFINED && !has_depth(r->depthAttachmentFormat))
      return "depthAttachmentFormat without a depth component";
   if (r->stencilAttachmentFormat != VK_FORMAT_UNDEFINED &&
       !has_stencil(r->stencilAttachmentFormat))
      return "stencilAttachmentFormat without a stencil component";
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
