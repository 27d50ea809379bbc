/*
 * Valid-usage firewall: shader stages of pipeline creation. A stage that is
 * not exactly one bit the pipeline kind allows, or one given twice, makes
 * drivers index their per-stage arrays out of bounds (lavapipe reads NULL
 * for VkPipelineShaderStageCreateInfo.stage = 0x1f: the replay fuzzer's
 * "pipeline-stage" input). Refused before the driver sees it.
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

/* Inserts the created pipelines' ids, as the generated executors do. */
static void
insert_pipelines(struct pvk_context *ctx, struct vn_object *dispatch, const char *cmd, uint32_t n,
                 const VkPipeline *ids, const VkPipeline *host)
{
   struct pvk_device *dev = pvk_device_from_base(dispatch->device);
   for (uint32_t i = 0; i < n; i++) {
      if (host[i] == VK_NULL_HANDLE)
         continue;
      struct vn_object *obj =
         vn_object_table_insert(ctx->dispatch.objects, (uint64_t)(uintptr_t)ids[i],
                                VK_OBJECT_TYPE_PIPELINE, (uint64_t)(uintptr_t)host[i]);
      if (!obj) {
         dev->dispatch.vkDestroyPipeline(dev->handle, host[i], NULL);
         pv_warn("venus", "%s: pipeline id %llu rejected (bad or duplicate)", cmd,
                 (unsigned long long)(uintptr_t)ids[i]);
         pvk_context_set_lost(ctx, "bad or duplicate object id");
         continue;
      }
      obj->device = dispatch->device;
      obj->instance = dispatch->instance;
   }
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
   for (uint32_t i = 0; args->pCreateInfos && i < args->createInfoCount; i++) {
      const VkGraphicsPipelineCreateInfo *info = &args->pCreateInfos[i];
      const char *why =
         stages_ok(info->pStages, info->pStages ? info->stageCount : 0, PVK_GRAPHICS_STAGES);
      if (why) {
         pvk_reject(ctx, "pipeline: %s create info %u: %s (pipeline %llu)", cmd, i, why,
                    (unsigned long long)(uintptr_t)(args->pPipelines ? args->pPipelines[i] : 0));
         return;
      }
   }
   VkPipeline *host = host_handles(ctx, cmd, args->createInfoCount, args->pPipelines);
   if (!host)
      return;
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   args->ret = dev->dispatch.vkCreateGraphicsPipelines(
      args->device, args->pipelineCache, args->createInfoCount, args->pCreateInfos, NULL, host);
   insert_pipelines(ctx, args->dispatch, cmd, args->createInfoCount, args->pPipelines, host);
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
      if (why) {
         pvk_reject(ctx, "pipeline: %s create info %u: %s (pipeline %llu)", cmd, i, why,
                    (unsigned long long)(uintptr_t)(args->pPipelines ? args->pPipelines[i] : 0));
         return;
      }
   }
   VkPipeline *host = host_handles(ctx, cmd, args->createInfoCount, args->pPipelines);
   if (!host)
      return;
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   args->ret = dev->dispatch.vkCreateComputePipelines(
      args->device, args->pipelineCache, args->createInfoCount, args->pCreateInfos, NULL, host);
   insert_pipelines(ctx, args->dispatch, cmd, args->createInfoCount, args->pPipelines, host);
   free(host);
}
