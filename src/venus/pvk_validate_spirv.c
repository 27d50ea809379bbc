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

enum { OP_ENTRY_POINT = 15, OP_DECORATE = 71, OP_MEMBER_DECORATE = 72 };

/* Ray tracing stages' Location decorations number payloads, not interface
 * slots: any value is valid there. */
static bool
has_ray_tracing_entry(const uint32_t *code, size_t words)
{
   enum { RAY_GENERATION = 5313, CALLABLE = 5318 };
   for (size_t i = 5; i < words;) {
      const uint32_t count = code[i] >> 16;
      if (!count || count > words - i)
         return false;
      if ((code[i] & 0xffff) == OP_ENTRY_POINT && count > 1 && code[i + 1] >= RAY_GENERATION &&
          code[i + 1] <= CALLABLE)
         return true;
      i += count;
   }
   return false;
}

/* Interface decorations past the device's limits (VUID-RuntimeSpirv-
 * Location-06272, -Component-*): SPIRV-Tools does not know the limits, and
 * lavapipe indexes fixed arrays with them (a vertex output at Location
 * 32768 made vkCreateGraphicsPipelines write past its stack). Every
 * Location must be below the largest interface of any stage (not checked
 * in ray tracing modules), Component below 4, Index below 2. Runs after
 * the validator: instructions are well formed. */
static const char *
decorations_why(const struct pvk_device *dev, const uint32_t *code, size_t words, char *why,
                size_t why_size)
{
   enum { DEC_LOCATION = 30, DEC_COMPONENT = 31, DEC_INDEX = 32 };
   const uint32_t max_locations =
      has_ray_tracing_entry(code, words) ? UINT32_MAX : dev->physical_device->max_locations;
   for (size_t i = 5; i < words;) {
      const uint32_t count = code[i] >> 16, op = code[i] & 0xffff;
      if (!count || count > words - i)
         return "instruction past the end";
      const size_t dec = op == OP_DECORATE ? 2 : op == OP_MEMBER_DECORATE ? 3 : 0;
      if (dec && count > dec + 1) {
         const uint32_t kind = code[i + dec], value = code[i + dec + 1];
         const uint32_t limit = kind == DEC_LOCATION    ? max_locations
                                : kind == DEC_COMPONENT ? 4
                                : kind == DEC_INDEX     ? 2
                                                        : UINT32_MAX;
         if (value >= limit) {
            snprintf(why, why_size,
                     "decoration %u value %u of id %u at or past the device's limit %u", kind,
                     value, code[i + 1], limit);
            return why;
         }
      }
      i += count;
   }
   return NULL;
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
      why = decorations_why(dev, info->pCode, info->codeSize / 4, buf, sizeof(buf));
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
