/*
 * Valid-usage firewall: SPIR-V modules. Every module a guest gives the host
 * driver must be valid SPIR-V for the device's Vulkan version and enabled
 * features (VUID-VkShaderModuleCreateInfo-pCode-08737, -codeSize-08735,
 * -pCode-08736): drivers compile what they are given and trust it
 * (lavapipe crashes compiling a module with one mutated word: the replay
 * fuzzer's "spirv-word" input). Checked with SPIRV-Tools' validator where
 * code reaches the driver: vkCreateShaderModule, and a
 * VkShaderModuleCreateInfo chained in a pipeline's shader stage
 * (maintenance5, graphics pipeline library).
 */
#include <spirv-tools/libspirv.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_validate.h"

#define SPIRV_MAGIC 0x07230203u

/* Bits of pvk_device.spirv_features. */
enum {
   PVK_SPIRV_SCALAR_BLOCK_LAYOUT = 1u << 0,
   PVK_SPIRV_UBO_STANDARD_LAYOUT = 1u << 1,
   PVK_SPIRV_WORKGROUP_SCALAR_LAYOUT = 1u << 2,
   PVK_SPIRV_LOCAL_SIZE_ID = 1u << 3,
};

uint32_t
pvk_spirv_features(const VkDeviceCreateInfo *info)
{
   uint32_t f = 0;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      switch (s->sType) {
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES: {
         const VkPhysicalDeviceVulkan12Features *v = (const void *)s;
         f |= v->scalarBlockLayout ? PVK_SPIRV_SCALAR_BLOCK_LAYOUT : 0;
         f |= v->uniformBufferStandardLayout ? PVK_SPIRV_UBO_STANDARD_LAYOUT : 0;
         break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SCALAR_BLOCK_LAYOUT_FEATURES:
         if (((const VkPhysicalDeviceScalarBlockLayoutFeatures *)s)->scalarBlockLayout)
            f |= PVK_SPIRV_SCALAR_BLOCK_LAYOUT;
         break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_UNIFORM_BUFFER_STANDARD_LAYOUT_FEATURES:
         if (((const VkPhysicalDeviceUniformBufferStandardLayoutFeatures *)s)
                ->uniformBufferStandardLayout)
            f |= PVK_SPIRV_UBO_STANDARD_LAYOUT;
         break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_WORKGROUP_MEMORY_EXPLICIT_LAYOUT_FEATURES_KHR:
         if (((const VkPhysicalDeviceWorkgroupMemoryExplicitLayoutFeaturesKHR *)s)
                ->workgroupMemoryExplicitLayoutScalarBlockLayout)
            f |= PVK_SPIRV_WORKGROUP_SCALAR_LAYOUT;
         break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES:
         if (((const VkPhysicalDeviceVulkan13Features *)s)->maintenance4)
            f |= PVK_SPIRV_LOCAL_SIZE_ID;
         break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_FEATURES:
         if (((const VkPhysicalDeviceMaintenance4Features *)s)->maintenance4)
            f |= PVK_SPIRV_LOCAL_SIZE_ID;
         break;
      default:
         break;
      }
   }
   return f;
}

/* The validator's environment for the device's Vulkan version (the
 * guest's apiVersion clamped to the device's). Vulkan 1.1 devices take
 * SPIR-V up to 1.4 (VK_KHR_spirv_1_4). */
static spv_target_env
target_env(const struct pvk_device *dev)
{
   uint32_t v = dev->physical_device->api_version;
   if (dev->instance->api_version && dev->instance->api_version < v)
      v = dev->instance->api_version;
   const uint32_t minor = VK_API_VERSION_MINOR(v);
   if (minor >= 3)
      return SPV_ENV_VULKAN_1_3;
   if (minor == 2)
      return SPV_ENV_VULKAN_1_2;
   if (minor == 1)
      return SPV_ENV_VULKAN_1_1_SPIRV_1_4;
   return SPV_ENV_VULKAN_1_0;
}

/* Runs the validator; NULL when the module is valid, else `why` filled. */
static const char *
validate(const struct pvk_device *dev, const uint32_t *code, size_t words, char *why,
         size_t why_size)
{
   spv_context sctx = spvContextCreate(target_env(dev));
   spv_validator_options opts = spvValidatorOptionsCreate();
   if (!sctx || !opts) {
      spvContextDestroy(sctx);
      spvValidatorOptionsDestroy(opts);
      return "out of host memory";
   }
   const uint32_t f = dev->spirv_features;
   spvValidatorOptionsSetScalarBlockLayout(opts, f & PVK_SPIRV_SCALAR_BLOCK_LAYOUT);
   spvValidatorOptionsSetUniformBufferStandardLayout(opts, f & PVK_SPIRV_UBO_STANDARD_LAYOUT);
   spvValidatorOptionsSetWorkgroupScalarBlockLayout(opts, f & PVK_SPIRV_WORKGROUP_SCALAR_LAYOUT);
   spvValidatorOptionsSetAllowLocalSizeId(opts, f & PVK_SPIRV_LOCAL_SIZE_ID);
   spv_const_binary_t bin = { code, words };
   spv_diagnostic diag = NULL;
   const spv_result_t res = spvValidateWithOptions(sctx, opts, &bin, &diag);
   const char *ret = NULL;
   if (res != SPV_SUCCESS) {
      snprintf(why, why_size, "invalid SPIR-V: %s",
               diag && diag->error ? diag->error : "validator failed");
      /* one log line: the validator's message may span several */
      for (char *c = why; *c; c++)
         if (*c == '\n')
            *c = ' ';
      ret = why;
   }
   spvDiagnosticDestroy(diag);
   spvValidatorOptionsDestroy(opts);
   spvContextDestroy(sctx);
   return ret;
}

bool
pvk_spirv_ok(struct pvk_context *ctx, const struct pvk_device *dev, const char *cmd,
             uint64_t guest_id, const VkShaderModuleCreateInfo *info)
{
   char buf[256];
   const char *why = NULL;
   if (!info->pCode || info->codeSize < 20 || info->codeSize % 4)
      why = "codeSize not a positive multiple of 4 holding a header, or no code";
   else if (info->pCode[0] != SPIRV_MAGIC)
      why = "not SPIR-V (magic number)";
   else
      why = validate(dev, info->pCode, info->codeSize / 4, buf, sizeof(buf));
   if (!why)
      return true;
   pvk_reject(ctx, "spirv: %s: object %llu: %s (VUID-VkShaderModuleCreateInfo-pCode-08737)", cmd,
              (unsigned long long)guest_id, why);
   return false;
}

void
vn_handle_vkCreateShaderModule(struct vn_dispatch_context *dctx,
                               struct vn_command_vkCreateShaderModule *args)
{
   static const char cmd[] = "vkCreateShaderModule";
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!args->pCreateInfo || !args->pShaderModule) {
      pvk_context_set_lost(ctx, "vkCreateShaderModule: no create info or object id");
      return;
   }
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const uint64_t id = (uint64_t)(uintptr_t)*args->pShaderModule;
   if (!pvk_spirv_ok(ctx, dev, cmd, id, args->pCreateInfo))
      return;
   VkShaderModule host = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateShaderModule(args->device, args->pCreateInfo, NULL, &host);
   if (host == VK_NULL_HANDLE)
      return;
   struct vn_object *obj = vn_object_table_insert(
      ctx->dispatch.objects, id, VK_OBJECT_TYPE_SHADER_MODULE, (uint64_t)(uintptr_t)host);
   if (!obj) {
      dev->dispatch.vkDestroyShaderModule(dev->handle, host, NULL);
      args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      pv_warn("venus", "%s: shader module id %llu rejected (bad or duplicate)", cmd,
              (unsigned long long)id);
      pvk_context_set_lost(ctx, "bad or duplicate object id");
      return;
   }
   obj->device = args->dispatch->device;
   obj->instance = args->dispatch->instance;
}
