/*
 * Firewall rules for descriptor writes and copies (pvk_validate.h).
 *
 * A descriptor set layout records its bindings (number, type, count),
 * sorted by number; a set records its layout (counted reference) and its
 * variable descriptor count. vkUpdateDescriptorSets is checked against
 * them before the driver writes into the set's storage, which it indexes
 * with the guest's binding and array element unchecked:
 *
 * - the destination (and source) binding exists in the set's layout;
 * - the descriptor type is the binding's (a mutable binding takes any
 *   type but inline uniform blocks);
 * - array element + count fit in the binding and, past its end, in the
 *   consecutive bindings, which must have the same type (VkWriteDescriptorSet
 *   "consecutive binding updates"); a variable-count binding holds only the
 *   count the set was allocated with; inline uniform blocks: byte offset and
 *   size, multiples of 4, inside the binding;
 * - buffer descriptors: offset inside the buffer, and offset + range too
 *   unless VK_WHOLE_SIZE.
 *
 * Handles in the infos were resolved by the decoder (right type, this
 * context); VK_NULL_HANDLE is passed on (nullDescriptor).
 *
 * A descriptor never written holds whatever the driver left there (lavapipe:
 * NULL, read by its queue thread at a draw that uses it). Where the renderer
 * enabled nullDescriptor (pvk_device.null_descriptor), every new set is
 * filled at allocation: null buffers, views and images, and a sampler of
 * the renderer's where a sampler is needed. Not filled (no null form): input
 * attachments, inline uniform blocks (memory, not pointers), acceleration
 * structures and mutable bindings.
 *
 * What each written descriptor names is recorded, so that descriptors
 * naming an object are made null before the object goes away
 * (pvk_validate_descriptor_refs.c); a set with one that could not be is
 * refused at vkCmdBindDescriptorSets.
 */
#include <stdlib.h>
#include <string.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_validate.h"

void
pvk_set_state_free(void *data)
{
   struct pvk_set_state *s = data;
   if (!s)
      return;
   pvk_set_layout_unref(s->layout);
   free(s->slots);
   free(s);
}

static int
cmp_binding(const void *a, const void *b)
{
   const struct pvk_layout_binding *x = a, *y = b;
   return x->binding < y->binding ? -1 : x->binding > y->binding;
}

static const VkDescriptorSetLayoutBindingFlagsCreateInfo *
binding_flags(const VkDescriptorSetLayoutCreateInfo *info)
{
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_BINDING_FLAGS_CREATE_INFO)
         return (const VkDescriptorSetLayoutBindingFlagsCreateInfo *)s;
   }
   return NULL;
}

/* --- samplers --- */

void
vn_handle_vkCreateSampler(struct vn_dispatch_context *dctx, struct vn_command_vkCreateSampler *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const VkSamplerCreateInfo *info = args->pCreateInfo;
   if (!info || !args->pSampler) {
      pvk_context_set_lost(ctx, "vkCreateSampler: missing arguments");
      return;
   }
   VkSampler handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreateSampler(dev->handle, info, NULL, &handle);
   if (args->ret != VK_SUCCESS)
      return;
   struct vn_object *obj =
      vn_object_table_insert(ctx->dispatch.objects, (uint64_t)(uintptr_t)*args->pSampler,
                             VK_OBJECT_TYPE_SAMPLER, (uint64_t)(uintptr_t)handle);
   if (!obj) {
      dev->dispatch.vkDestroySampler(dev->handle, handle, NULL);
      args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      pvk_context_set_lost(ctx, "vkCreateSampler: bad or duplicate object id");
      return;
   }
   obj->instance = args->dispatch->instance;
   obj->device = args->dispatch->device;
   /* the state of other samplers is made when a descriptor first names them */
   struct pvk_sampler_state *st = info->compareEnable ? pvk_sampler_state(ctx, obj) : NULL;
   if (st)
      st->compare = true;
}

/* The binding's immutable samplers stay on the host while the context
 * or device lives (pvk_sampler_state); false (context lost) when out of
 * memory. */
static bool
mark_immutable(struct pvk_context *ctx, const VkDescriptorSetLayoutBinding *b, bool *compare)
{
   *compare = false;
   for (uint32_t j = 0; j < b->descriptorCount; j++) {
      struct vn_object *s =
         b->pImmutableSamplers[j]
            ? vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_SAMPLER,
                                          (uint64_t)(uintptr_t)b->pImmutableSamplers[j])
            : NULL;
      struct pvk_sampler_state *st = s ? pvk_sampler_state(ctx, s) : NULL;
      if (s && !st)
         return false;
      if (st) {
         st->immutable = true;
         *compare |= st->compare;
      }
   }
   return true;
}

/* Binding numbers of a set layout stay below this. The spec sets no bound,
 * but Mesa's drivers size a layout by its largest binding number plus one
 * (lavapipe: 112 bytes each, so binding 0x80000000 asked for 240 GB at
 * vkCreateDescriptorSetLayout; fuzzer, seed 17000); at this bound a layout
 * costs lavapipe at most about 1.8 MiB. Real programs number their
 * bindings from 0 with few gaps. */
#define PVK_MAX_BINDING_NUMBER 16384u

/* The layout's bindings, sorted; NULL (context lost) on a bad layout. */
static struct pvk_set_layout_state *
record_layout(struct pvk_context *ctx, const VkDescriptorSetLayoutCreateInfo *info)
{
   const uint32_t n = info->bindingCount;
   if (n && !info->pBindings) {
      pvk_reject(ctx, "descriptor: vkCreateDescriptorSetLayout: %u bindings without an array", n);
      return NULL;
   }
   const VkDescriptorSetLayoutBindingFlagsCreateInfo *flags = binding_flags(info);
   if (flags && flags->bindingCount && flags->bindingCount != n) {
      pvk_reject(ctx, "descriptor: vkCreateDescriptorSetLayout: %u binding flags for %u bindings",
                 flags->bindingCount, n);
      return NULL;
   }
   struct pvk_set_layout_state *l = calloc(1, sizeof(*l) + (size_t)n * sizeof(l->bindings[0]));
   if (!l) {
      pvk_context_set_lost(ctx, "vkCreateDescriptorSetLayout: out of host memory");
      return NULL;
   }
   l->refs = 1;
   l->binding_count = n;
   l->variable_binding = UINT32_MAX;
   for (uint32_t i = 0; i < n; i++) {
      const VkDescriptorSetLayoutBinding *b = &info->pBindings[i];
      if (b->binding >= PVK_MAX_BINDING_NUMBER) {
         free(l);
         pvk_reject(ctx,
                    "descriptor: vkCreateDescriptorSetLayout: binding number %u, not below %u "
                    "(host drivers allocate a layout per binding number up to its largest)",
                    b->binding, PVK_MAX_BINDING_NUMBER);
         return NULL;
      }
      const bool immutable = (b->descriptorType == VK_DESCRIPTOR_TYPE_SAMPLER ||
                              b->descriptorType == VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER) &&
                             b->pImmutableSamplers;
      l->bindings[i] = (struct pvk_layout_binding){ b->binding, b->descriptorType,
                                                    b->descriptorCount, false, immutable };
      if (immutable && !mark_immutable(ctx, b, &l->bindings[i].compare)) {
         free(l);
         return NULL;
      }
      if (flags && flags->bindingCount && flags->pBindingFlags &&
          (flags->pBindingFlags[i] & VK_DESCRIPTOR_BINDING_VARIABLE_DESCRIPTOR_COUNT_BIT))
         l->bindings[i].variable = true;
   }
   qsort(l->bindings, n, sizeof(l->bindings[0]), cmp_binding);
   for (uint32_t i = 0; i < n; i++) {
      if (i && l->bindings[i].binding == l->bindings[i - 1].binding) {
         pvk_reject(ctx, "descriptor: vkCreateDescriptorSetLayout: binding %u twice",
                    l->bindings[i].binding);
         free(l);
         return NULL;
      }
      /* a set's record: a last variable-count binding's slots are the
       * set's own count (any other one takes the layout's count) */
      struct pvk_layout_binding *b = &l->bindings[i];
      b->parts = pvk_descriptor_parts(b->type);
      b->slot_base = l->slots;
      if (!(b->variable && i == n - 1))
         l->slots += (uint64_t)b->parts * b->count;
      if (l->bindings[i].variable)
         l->variable_binding = i;
      else if (l->bindings[i].type == VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC ||
               l->bindings[i].type == VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC)
         l->dynamic_count += l->bindings[i].count;
   }
   return l;
}

/* Which per-stage limits a descriptor of `type` counts toward (bits of
 * enum pvk_desc_kind). Inline uniform blocks have limits of their own,
 * not checked. */
static uint32_t
desc_kinds(VkDescriptorType type)
{
   const uint32_t res = 1u << PVK_DESC_RESOURCES;
   switch (type) {
   case VK_DESCRIPTOR_TYPE_SAMPLER:
      return 1u << PVK_DESC_SAMPLERS;
   case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
      return 1u << PVK_DESC_SAMPLERS | 1u << PVK_DESC_SAMPLED_IMAGES | res;
   case VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE:
   case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
      return 1u << PVK_DESC_SAMPLED_IMAGES | res;
   case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
   case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER:
      return 1u << PVK_DESC_STORAGE_IMAGES | res;
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER:
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC:
      return 1u << PVK_DESC_UNIFORM_BUFFERS | res;
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC:
      return 1u << PVK_DESC_STORAGE_BUFFERS | res;
   case VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT:
      return 1u << PVK_DESC_INPUT_ATTACHMENTS | res;
   default:
      return 0;
   }
}

/* Inline uniform blocks the host driver can hold
 * (VUID-VkDescriptorSetLayoutBinding-descriptorType-08004, -02209): a size
 * up to maxInlineUniformBlockSize, a multiple of 4; per stage and per set
 * at most maxPerStageDescriptorInlineUniformBlocks and
 * maxDescriptorSetInlineUniformBlocks. lavapipe sizes a set layout's
 * per-stage block arrays by the first (an array of 8 written past at
 * vkCreateDescriptorSetLayout) and keeps sizes in 16 bits. */
static const char *
inline_blocks_why(const struct pvk_physical_device *pd, const VkDescriptorSetLayoutCreateInfo *info)
{
   uint32_t per_stage[PVK_DESC_STAGES] = { 0 }, total = 0;
   for (uint32_t i = 0; i < info->bindingCount; i++) {
      const VkDescriptorSetLayoutBinding *b = &info->pBindings[i];
      if (b->descriptorType != VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK)
         continue;
      if (b->descriptorCount > pd->inline_block_size || b->descriptorCount % 4)
         return "an inline uniform block larger than maxInlineUniformBlockSize or not of whole "
                "words";
      if (++total > pd->inline_blocks_per_set)
         return "more inline uniform blocks than maxDescriptorSetInlineUniformBlocks";
      for (uint32_t s = 0; s < PVK_DESC_STAGES; s++) {
         if ((b->stageFlags & (1u << s)) && ++per_stage[s] > pd->inline_blocks_per_stage)
            return "more inline uniform blocks for a stage than "
                   "maxPerStageDescriptorInlineUniformBlocks";
      }
   }
   return NULL;
}

/* Descriptors of a set layout against the device's per-set limits
 * (maxDescriptorSet*, the UpdateAfterBind ones for an UPDATE_AFTER_BIND_POOL
 * layout; VUID-VkPipelineLayoutCreateInfo-descriptorType-03028..03036
 * and -03037..03044 name them for the layouts that use it). Drivers size a
 * set's host memory by its layout's count (lavapipe at
 * vkAllocateDescriptorSets: 112 bytes a descriptor, so a binding of 2^31
 * descriptors would ask for 240 GB). Types without a per-set limit of their own (acceleration
 * structures, mutable descriptors) count against the largest. */
static const char *
per_set_why(const struct pvk_physical_device *pd, const VkDescriptorSetLayoutCreateInfo *info)
{
   static const char *const names[8] = {
      "samplers",       "uniform buffers",   "storage buffers",         "sampled images",
      "storage images", "input attachments", "dynamic uniform buffers", "dynamic storage buffers",
   };
   const VkPhysicalDeviceLimits *l = &pd->limits;
   uint32_t limits[8] = {
      l->maxDescriptorSetSamplers,
      l->maxDescriptorSetUniformBuffers,
      l->maxDescriptorSetStorageBuffers,
      l->maxDescriptorSetSampledImages,
      l->maxDescriptorSetStorageImages,
      l->maxDescriptorSetInputAttachments,
      l->maxDescriptorSetUniformBuffersDynamic,
      l->maxDescriptorSetStorageBuffersDynamic,
   };
   if (info->flags & VK_DESCRIPTOR_SET_LAYOUT_CREATE_UPDATE_AFTER_BIND_POOL_BIT) {
      for (uint32_t k = 0; k < 8; k++) {
         if (pd->uab_per_set[k] > limits[k])
            limits[k] = pd->uab_per_set[k];
      }
   }
   uint32_t largest = 0;
   for (uint32_t k = 0; k < 8; k++)
      largest = limits[k] > largest ? limits[k] : largest;
   uint64_t sum[8] = { 0 }, other = 0;
   for (uint32_t i = 0; i < info->bindingCount; i++) {
      const VkDescriptorSetLayoutBinding *b = &info->pBindings[i];
      const uint32_t kinds = desc_kinds(b->descriptorType);
      for (uint32_t k = 0; k < PVK_DESC_RESOURCES; k++) {
         if (kinds & (1u << k))
            sum[k] += b->descriptorCount;
      }
      if (b->descriptorType == VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC)
         sum[6] += b->descriptorCount;
      else if (b->descriptorType == VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC)
         sum[7] += b->descriptorCount;
      else if (!kinds && b->descriptorType != VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK)
         other += b->descriptorCount;
   }
   for (uint32_t k = 0; k < 8; k++) {
      if (sum[k] > limits[k])
         return names[k];
   }
   return other > largest ? "descriptors of a type without a limit of its own" : NULL;
}

/* The layout's descriptors per stage and kind (a variable-count binding
 * counts its upper bound, as the limits' VUIDs do). */
static void
count_per_stage(struct pvk_set_layout_state *l, const VkDescriptorSetLayoutCreateInfo *info)
{
   l->update_after_bind =
      (info->flags & VK_DESCRIPTOR_SET_LAYOUT_CREATE_UPDATE_AFTER_BIND_POOL_BIT) != 0;
   for (uint32_t i = 0; i < info->bindingCount; i++) {
      const VkDescriptorSetLayoutBinding *b = &info->pBindings[i];
      const uint32_t kinds = desc_kinds(b->descriptorType);
      for (uint32_t stage = 0; kinds && stage < PVK_DESC_STAGES; stage++) {
         if (!(b->stageFlags & (1u << stage)))
            continue;
         for (uint32_t k = 0; k < PVK_DESC_KINDS; k++) {
            if (kinds & (1u << k))
               l->per_stage[stage][k] += b->descriptorCount;
         }
      }
   }
}

/* VUID-VkPipelineLayoutCreateInfo-descriptorType-03016..03022 (and the
 * UpdateAfterBind ones when a set layout is UPDATE_AFTER_BIND_POOL):
 * drivers bind a stage's descriptors into arrays sized by these limits
 * (lavapipe: its gallium caps). The stage and kind past it, or NULL. */
static const char *
per_stage_why(const struct pvk_physical_device *pd, const VkPipelineLayoutCreateInfo *info,
              struct pvk_context *ctx, uint32_t *stage_out)
{
   static const char *const names[PVK_DESC_KINDS] = {
      "samplers",       "uniform buffers",   "storage buffers", "sampled images",
      "storage images", "input attachments", "resources",
   };
   const VkPhysicalDeviceLimits *l = &pd->limits;
   const uint32_t limits[PVK_DESC_KINDS] = {
      l->maxPerStageDescriptorSamplers,
      l->maxPerStageDescriptorUniformBuffers,
      l->maxPerStageDescriptorStorageBuffers,
      l->maxPerStageDescriptorSampledImages,
      l->maxPerStageDescriptorStorageImages,
      l->maxPerStageDescriptorInputAttachments,
      l->maxPerStageResources,
   };
   uint64_t sum[PVK_DESC_STAGES][PVK_DESC_KINDS] = { { 0 } };
   bool uab = false;
   for (uint32_t i = 0; i < info->setLayoutCount; i++) {
      const struct vn_object *lo =
         vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT,
                                     (uint64_t)(uintptr_t)info->pSetLayouts[i]);
      const struct pvk_set_layout_state *sl = lo ? lo->data : NULL;
      if (!sl)
         continue;
      uab |= sl->update_after_bind;
      for (uint32_t s = 0; s < PVK_DESC_STAGES; s++) {
         for (uint32_t k = 0; k < PVK_DESC_KINDS; k++)
            sum[s][k] += sl->per_stage[s][k];
      }
   }
   for (uint32_t s = 0; s < PVK_DESC_STAGES; s++) {
      for (uint32_t k = 0; k < PVK_DESC_KINDS; k++) {
         const uint32_t max =
            uab && pd->uab_per_stage[k] > limits[k] ? pd->uab_per_stage[k] : limits[k];
         if (sum[s][k] > max) {
            *stage_out = 1u << s;
            return names[k];
         }
      }
   }
   return NULL;
}

void
vn_handle_vkCreateDescriptorSetLayout(struct vn_dispatch_context *dctx,
                                      struct vn_command_vkCreateDescriptorSetLayout *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   if (!args->pCreateInfo || !args->pSetLayout) {
      pvk_context_set_lost(ctx, "vkCreateDescriptorSetLayout: missing arguments");
      return;
   }
   struct pvk_set_layout_state *l = record_layout(ctx, args->pCreateInfo);
   if (!l)
      return;
   const char *why = inline_blocks_why(dev->physical_device, args->pCreateInfo);
   if (why) {
      free(l);
      pvk_reject(ctx, "descriptor: vkCreateDescriptorSetLayout: %s (set layout %llu)", why,
                 (unsigned long long)(uintptr_t)*args->pSetLayout);
      return;
   }
   const char *kind = per_set_why(dev->physical_device, args->pCreateInfo);
   if (kind) {
      free(l);
      pvk_reject(ctx,
                 "descriptor: vkCreateDescriptorSetLayout: more %s than the device's per-set "
                 "limit (set layout %llu)",
                 kind, (unsigned long long)(uintptr_t)*args->pSetLayout);
      return;
   }
   count_per_stage(l, args->pCreateInfo);
   VkDescriptorSetLayout handle = VK_NULL_HANDLE;
   args->ret =
      dev->dispatch.vkCreateDescriptorSetLayout(dev->handle, args->pCreateInfo, NULL, &handle);
   if (args->ret != VK_SUCCESS) {
      free(l);
      return;
   }
   struct vn_object *obj =
      vn_object_table_insert(ctx->dispatch.objects, (uint64_t)(uintptr_t)*args->pSetLayout,
                             VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT, (uint64_t)(uintptr_t)handle);
   if (!obj) {
      dev->dispatch.vkDestroyDescriptorSetLayout(dev->handle, handle, NULL);
      free(l);
      pvk_context_set_lost(ctx, "vkCreateDescriptorSetLayout: bad or duplicate object id");
      return;
   }
   obj->instance = pvk_instance_base(dev->instance);
   obj->device = pvk_device_base(dev);
   obj->data = l;
}

static const VkDescriptorSetVariableDescriptorCountAllocateInfo *
variable_counts(const VkDescriptorSetAllocateInfo *info)
{
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_DESCRIPTOR_SET_VARIABLE_DESCRIPTOR_COUNT_ALLOCATE_INFO)
         return (const VkDescriptorSetVariableDescriptorCountAllocateInfo *)s;
   }
   return NULL;
}

/* The sampler filled sets get, made on first use; VK_NULL_HANDLE on failure. */
VkSampler
pvk_fill_sampler(struct pvk_device *dev)
{
   if (!dev->fill_sampler) {
      const VkSamplerCreateInfo info = {
         .sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
         .addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
         .addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
         .addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
         .maxLod = 0.0f,
      };
      if (dev->dispatch.vkCreateSampler(dev->handle, &info, NULL, &dev->fill_sampler) != VK_SUCCESS)
         dev->fill_sampler = VK_NULL_HANDLE;
   }
   return dev->fill_sampler;
}

/* Descriptors per vkUpdateDescriptorSets call of the fill (stack arrays). */
#define FILL_CHUNK 64

/* Fills one binding's `count` descriptors with null ones; false when it
 * needs a sampler that could not be made. */
static bool
fill_binding(struct pvk_device *dev, VkDescriptorSet set, const struct pvk_layout_binding *b,
             uint32_t count)
{
   VkDescriptorImageInfo images[FILL_CHUNK];
   VkDescriptorBufferInfo buffers[FILL_CHUNK];
   VkBufferView views[FILL_CHUNK] = { VK_NULL_HANDLE };
   VkImageLayout layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
   VkSampler sampler = VK_NULL_HANDLE;
   switch (b->type) {
   case VK_DESCRIPTOR_TYPE_SAMPLER:
      if (b->immutable)
         return true; /* nothing to write (VUID-VkWriteDescriptorSet-descriptorType-02752) */
      /* fallthrough */
   case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
      if (!b->immutable && !(sampler = pvk_fill_sampler(dev)))
         return false;
      break;
   case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
      layout = VK_IMAGE_LAYOUT_GENERAL;
      break;
   case VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE:
   case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER:
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER:
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC:
      break;
   default:
      return true; /* no null form: see the top of this file */
   }
   for (uint32_t i = 0; i < FILL_CHUNK; i++) {
      images[i] = (VkDescriptorImageInfo){ sampler, VK_NULL_HANDLE, layout };
      buffers[i] = (VkDescriptorBufferInfo){ VK_NULL_HANDLE, 0, VK_WHOLE_SIZE };
   }
   for (uint32_t done = 0; done < count;) {
      const uint32_t n = count - done < FILL_CHUNK ? count - done : FILL_CHUNK;
      const VkWriteDescriptorSet write = {
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = set,
         .dstBinding = b->binding,
         .dstArrayElement = done,
         .descriptorCount = n,
         .descriptorType = b->type,
         .pImageInfo = images,
         .pBufferInfo = buffers,
         .pTexelBufferView = views,
      };
      dev->dispatch.vkUpdateDescriptorSets(dev->handle, 1, &write, 0, NULL);
      done += n;
   }
   return true;
}

/* Fills a new set (see the top of this file); false when it could not. */
static bool
fill_set(struct pvk_device *dev, VkDescriptorSet set, const struct pvk_set_state *s)
{
   for (uint32_t i = 0; i < s->layout->binding_count; i++) {
      const struct pvk_layout_binding *b = &s->layout->bindings[i];
      if (!fill_binding(dev, set, b, b->variable ? s->variable_count : b->count))
         return false;
   }
   return true;
}

void
vn_handle_vkAllocateDescriptorSets(struct vn_dispatch_context *dctx,
                                   struct vn_command_vkAllocateDescriptorSets *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const VkDescriptorSetAllocateInfo *info = args->pAllocateInfo;
   const uint32_t n = info ? info->descriptorSetCount : 0;
   if (!n || !args->pDescriptorSets || !info->pSetLayouts) {
      pvk_context_set_lost(ctx, "vkAllocateDescriptorSets: no object ids");
      return;
   }
   const VkDescriptorSetVariableDescriptorCountAllocateInfo *var = variable_counts(info);
   if (var && var->descriptorSetCount &&
       (var->descriptorSetCount != n || !var->pDescriptorCounts)) {
      pvk_reject(ctx, "descriptor: vkAllocateDescriptorSets: %u variable counts for %u sets",
                 var->descriptorSetCount, n);
      return;
   }
   const struct vn_object *pool =
      vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_DESCRIPTOR_POOL,
                                  (uint64_t)(uintptr_t)info->descriptorPool);
   struct pvk_set_state **states = calloc(n, sizeof(*states));
   if (!pool || !states) {
      free(states);
      pvk_context_set_lost(ctx, "vkAllocateDescriptorSets: bad pool or out of host memory");
      return;
   }
   for (uint32_t i = 0; i < n; i++) {
      const struct vn_object *lo =
         vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT,
                                     (uint64_t)(uintptr_t)info->pSetLayouts[i]);
      states[i] = calloc(1, sizeof(*states[i]));
      if (!lo || !lo->data || !states[i])
         goto fail;
      struct pvk_set_layout_state *l = lo->data;
      const uint32_t vcount = var && var->descriptorSetCount ? var->pDescriptorCounts[i] : 0;
      if (l->variable_binding != UINT32_MAX && vcount > l->bindings[l->variable_binding].count) {
         pvk_reject(ctx,
                    "descriptor: vkAllocateDescriptorSets: variable count %u over the %u of "
                    "layout %llu",
                    vcount, l->bindings[l->variable_binding].count, (unsigned long long)lo->id);
         free(states[i]);
         states[i] = NULL;
         goto fail;
      }
      l->refs++;
      *states[i] = (struct pvk_set_state){ l, vcount };
   }

   VkDescriptorSet *host = calloc(n, sizeof(*host));
   if (!host)
      goto fail;
   args->ret = dev->dispatch.vkAllocateDescriptorSets(dev->handle, info, host);
   for (uint32_t i = 0; i < n; i++) {
      struct vn_object *obj = NULL;
      if (args->ret == VK_SUCCESS && host[i] && !pvk_context_is_lost(ctx))
         obj = vn_object_table_insert(ctx->dispatch.objects,
                                      (uint64_t)(uintptr_t)args->pDescriptorSets[i],
                                      VK_OBJECT_TYPE_DESCRIPTOR_SET, (uint64_t)(uintptr_t)host[i]);
      if (!obj) {
         if (args->ret == VK_SUCCESS) {
            /* the host set is freed with its pool */
            args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
            pvk_context_set_lost(ctx, "vkAllocateDescriptorSets: object id rejected");
         }
         pvk_set_state_free(states[i]);
         continue;
      }
      obj->device = args->dispatch->device;
      obj->instance = args->dispatch->instance;
      obj->parent_id = pool->id;
      obj->data = states[i];
      if (dev->null_descriptor && !fill_set(dev, host[i], states[i]))
         pvk_context_set_lost(ctx, "vkAllocateDescriptorSets: no sampler to fill the set");
   }
   free(host);
   free(states);
   return;

fail:
   for (uint32_t i = 0; i < n; i++) {
      if (states[i] && states[i]->layout)
         pvk_set_state_free(states[i]);
      else
         free(states[i]);
   }
   free(states);
   if (!pvk_context_is_lost(ctx))
      pvk_context_set_lost(ctx, "vkAllocateDescriptorSets: bad set layout or out of host memory");
}

/* --- checks --- */

static const struct pvk_set_state *
set_state(struct pvk_context *ctx, VkDescriptorSet set, uint64_t *id)
{
   const struct vn_object *obj = vn_object_table_find_handle(
      ctx->dispatch.objects, VK_OBJECT_TYPE_DESCRIPTOR_SET, (uint64_t)(uintptr_t)set);
   *id = obj ? obj->id : 0;
   return obj ? obj->data : NULL;
}

/* Index of `binding` in the layout, or UINT32_MAX. */
static uint32_t
find_binding(const struct pvk_set_layout_state *l, uint32_t binding)
{
   uint32_t lo = 0, hi = l->binding_count;
   while (lo < hi) {
      const uint32_t mid = lo + (hi - lo) / 2;
      if (l->bindings[mid].binding == binding)
         return mid;
      if (l->bindings[mid].binding < binding)
         lo = mid + 1;
      else
         hi = mid;
   }
   return UINT32_MAX;
}

static uint32_t
binding_count(const struct pvk_set_state *s, uint32_t index)
{
   return s->layout->bindings[index].variable ? s->variable_count
                                              : s->layout->bindings[index].count;
}

static bool
type_fits(VkDescriptorType binding, VkDescriptorType write)
{
   if (binding == VK_DESCRIPTOR_TYPE_MUTABLE_EXT)
      return write != VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK &&
             write != VK_DESCRIPTOR_TYPE_MUTABLE_EXT;
   return binding == write;
}

/* Checks that [element, element + count) of `binding` and the consecutive
 * bindings after it exists with type `type`; else a reason. */
static const char *
check_span(const struct pvk_set_state *s, uint32_t binding, uint32_t element, uint32_t count,
           VkDescriptorType type)
{
   const struct pvk_set_layout_state *l = s->layout;
   uint32_t i = find_binding(l, binding);
   if (i == UINT32_MAX)
      return "no such binding in the set's layout";
   if (!type_fits(l->bindings[i].type, type))
      return "descriptor type is not the binding's";
   if (type == VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK) {
      if (element % 4 || count % 4)
         return "inline uniform block offset or size not a multiple of 4";
      if (element > binding_count(s, i) || count > binding_count(s, i) - element)
         return "inline uniform block range beyond the binding";
      return NULL;
   }
   if (element > binding_count(s, i))
      return "array element beyond the binding";
   uint64_t left = count;
   uint64_t avail = binding_count(s, i) - element;
   while (left > avail) {
      left -= avail;
      /* consecutive binding update: the next binding, same type */
      if (++i >= l->binding_count)
         return "array element + count beyond the last binding";
      if (l->bindings[i].type != l->bindings[i - 1].type)
         return "consecutive binding of another type";
      avail = binding_count(s, i);
   }
   return NULL;
}

static bool
is_buffer_type(VkDescriptorType t)
{
   return t == VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER || t == VK_DESCRIPTOR_TYPE_STORAGE_BUFFER ||
          t == VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC ||
          t == VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC;
}

static const char *
check_buffer_infos(struct pvk_context *ctx, const VkWriteDescriptorSet *w, uint64_t *buffer_id)
{
   for (uint32_t j = 0; j < w->descriptorCount; j++) {
      const VkDescriptorBufferInfo *b = &w->pBufferInfo[j];
      if (!b->buffer)
         continue;
      const struct vn_object *obj = vn_object_table_find_handle(
         ctx->dispatch.objects, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)b->buffer);
      const struct pvk_buffer_state *bs = obj ? obj->data : NULL;
      *buffer_id = obj ? obj->id : 0;
      if (!bs)
         return "buffer without recorded size";
      if (!bs->bound)
         return "buffer with no memory bound";
      if (b->offset >= bs->size)
         return "buffer offset beyond the buffer";
      if (b->range != VK_WHOLE_SIZE && (b->range == 0 || b->range > bs->size - b->offset))
         return "buffer range beyond the buffer";
   }
   return NULL;
}

/* The driver copies dataSize bytes into the descriptorCount it was given. */
static const char *
check_inline_data(const VkWriteDescriptorSet *w)
{
   for (const VkBaseInStructure *s = w->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_INLINE_UNIFORM_BLOCK) {
         const VkWriteDescriptorSetInlineUniformBlock *b =
            (const VkWriteDescriptorSetInlineUniformBlock *)s;
         return b->dataSize == w->descriptorCount && b->pData ? NULL
                                                              : "inline data size is not the count";
      }
   }
   return "inline uniform block write without its data";
}

/* VUID-vkCmdDraw-None-06479: a sampler with compareEnable may sample only
 * views whose format supports depth comparison. lavapipe 22.3's LLVM
 * crashed (SEGV in llvm::simplifyInstruction) compiling the fragment
 * shader of a draw sampling an RGBA8 view with such a sampler (fuzzer,
 * seed 22000). Checked where a combined image sampler pairs the two, at
 * its write; a separate sampler and image pair only in the shader and are
 * not checked (docs/sandbox.md, "Not covered"). */
static const char *
check_compare_samplers(struct pvk_context *ctx, const struct pvk_set_state *s,
                       const VkWriteDescriptorSet *w)
{
   const uint32_t bi = find_binding(s->layout, w->dstBinding);
   const struct pvk_layout_binding *b = bi == UINT32_MAX ? NULL : &s->layout->bindings[bi];
   for (uint32_t j = 0; j < w->descriptorCount; j++) {
      const VkDescriptorImageInfo *info = &w->pImageInfo[j];
      bool compare;
      if (b && b->immutable) {
         compare = b->compare;
      } else {
         const struct vn_object *so = vn_object_table_find_handle(
            ctx->dispatch.objects, VK_OBJECT_TYPE_SAMPLER, (uint64_t)(uintptr_t)info->sampler);
         const struct pvk_sampler_state *st = so ? so->data : NULL;
         compare = st && st->compare;
      }
      if (!compare || !info->imageView)
         continue;
      const struct vn_object *vo = vn_object_table_find_handle(
         ctx->dispatch.objects, VK_OBJECT_TYPE_IMAGE_VIEW, (uint64_t)(uintptr_t)info->imageView);
      const struct pvk_view_state *v = vo ? vo->data : NULL;
      if (v && !pvk_format_has_depth(v->format))
         return "a sampler with compareEnable and a view of a format without depth "
                "(VUID-vkCmdDraw-None-06479)";
   }
   return NULL;
}

/* Writes into their dstSet, or, for push descriptors, into `push`. */
static bool
check_writes(struct pvk_context *ctx, const char *cmd, uint32_t count,
             const VkWriteDescriptorSet *writes, const struct pvk_set_state *push)
{
   for (uint32_t i = 0; i < count; i++) {
      const VkWriteDescriptorSet *w = &writes[i];
      uint64_t set_id = 0, buffer_id = 0;
      const struct pvk_set_state *s = push ? push : set_state(ctx, w->dstSet, &set_id);
      const char *why =
         s ? check_span(s, w->dstBinding, w->dstArrayElement, w->descriptorCount, w->descriptorType)
           : "unknown descriptor set";
      if (!why && is_buffer_type(w->descriptorType) && w->pBufferInfo)
         why = check_buffer_infos(ctx, w, &buffer_id);
      if (!why && w->descriptorType == VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK)
         why = check_inline_data(w);
      if (!why && w->descriptorType == VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER && w->pImageInfo)
         why = check_compare_samplers(ctx, s, w);
      if (why) {
         pvk_reject(ctx,
                    "descriptor: %s write %u: %s (set %llu, binding %u, element %u, count %u, "
                    "type %d, buffer %llu)",
                    cmd, i, why, (unsigned long long)set_id, w->dstBinding, w->dstArrayElement,
                    w->descriptorCount, (int)w->descriptorType, (unsigned long long)buffer_id);
         return false;
      }
   }
   return true;
}

bool
pvk_validate_descriptor_writes(struct pvk_context *ctx, const char *cmd, uint32_t count,
                               const VkWriteDescriptorSet *writes)
{
   return check_writes(ctx, cmd, count, writes, NULL);
}

static bool
check_copies(struct pvk_context *ctx, uint32_t count, const VkCopyDescriptorSet *copies)
{
   for (uint32_t i = 0; i < count; i++) {
      const VkCopyDescriptorSet *c = &copies[i];
      uint64_t src_id = 0, dst_id = 0;
      const struct pvk_set_state *src = set_state(ctx, c->srcSet, &src_id);
      const struct pvk_set_state *dst = set_state(ctx, c->dstSet, &dst_id);
      const char *why = NULL;
      uint32_t si = UINT32_MAX;
      if (!src || !dst)
         why = "unknown descriptor set";
      else if ((si = find_binding(src->layout, c->srcBinding)) == UINT32_MAX)
         why = "no such source binding in the set's layout";
      else if (src->layout->bindings[si].type == VK_DESCRIPTOR_TYPE_MUTABLE_EXT)
         why = "copies from mutable bindings are not supported";
      else if ((why = check_span(src, c->srcBinding, c->srcArrayElement, c->descriptorCount,
                                 src->layout->bindings[si].type)) != NULL)
         ;
      else
         why = check_span(dst, c->dstBinding, c->dstArrayElement, c->descriptorCount,
                          src->layout->bindings[si].type);
      if (why) {
         pvk_reject(ctx,
                    "descriptor: vkUpdateDescriptorSets copy %u: %s (set %llu binding %u element "
                    "%u -> set %llu binding %u element %u, count %u)",
                    i, why, (unsigned long long)src_id, c->srcBinding, c->srcArrayElement,
                    (unsigned long long)dst_id, c->dstBinding, c->dstArrayElement,
                    c->descriptorCount);
         return false;
      }
   }
   return true;
}

void
vn_handle_vkUpdateDescriptorSets(struct vn_dispatch_context *dctx,
                                 struct vn_command_vkUpdateDescriptorSets *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   if ((args->descriptorWriteCount && !args->pDescriptorWrites) ||
       (args->descriptorCopyCount && !args->pDescriptorCopies)) {
      pvk_context_set_lost(ctx, "vkUpdateDescriptorSets: array without elements");
      return;
   }
   if (!pvk_validate_descriptor_writes(ctx, "vkUpdateDescriptorSets", args->descriptorWriteCount,
                                       args->pDescriptorWrites) ||
       !check_copies(ctx, args->descriptorCopyCount, args->pDescriptorCopies) ||
       !pvk_descriptor_refs_update(ctx, args->descriptorWriteCount, args->pDescriptorWrites,
                                   args->descriptorCopyCount, args->pDescriptorCopies))
      return;
   dev->dispatch.vkUpdateDescriptorSets(args->device, args->descriptorWriteCount,
                                        args->pDescriptorWrites, args->descriptorCopyCount,
                                        args->pDescriptorCopies);
}

/* --- pipeline layouts and push descriptors --- */

void
pvk_pipeline_layout_state_free(struct pvk_pipeline_layout_state *p)
{
   if (!p)
      return;
   for (uint32_t i = 0; i < p->set_count; i++)
      pvk_set_layout_unref(p->sets[i]);
   free(p);
}

/* VUID-VkPushConstantRange-offset-00294/00295, -size-00296/00297/00298,
 * -stageFlags-requiredbitmask: lavapipe sizes the push constants it copies
 * at each draw by the layout's ranges (a range of 32 KiB made its queue
 * thread read past its 128-byte buffer). Returns the bad range or -1. */
static int
bad_push_constant_range(const VkPipelineLayoutCreateInfo *info, uint32_t max)
{
   for (uint32_t i = 0; i < info->pushConstantRangeCount; i++) {
      const VkPushConstantRange *r = &info->pPushConstantRanges[i];
      if (!r->stageFlags || r->offset % 4 || r->offset >= max || !r->size || r->size % 4 ||
          r->size > max - r->offset)
         return (int)i;
   }
   return -1;
}

void
vn_handle_vkCreatePipelineLayout(struct vn_dispatch_context *dctx,
                                 struct vn_command_vkCreatePipelineLayout *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   struct pvk_device *dev = pvk_device_from_base(args->dispatch->device);
   const VkPipelineLayoutCreateInfo *info = args->pCreateInfo;
   if (!info || !args->pPipelineLayout || (info->setLayoutCount && !info->pSetLayouts) ||
       (info->pushConstantRangeCount && !info->pPushConstantRanges)) {
      pvk_context_set_lost(ctx, "vkCreatePipelineLayout: missing arguments");
      return;
   }
   /* VUID-VkPipelineLayoutCreateInfo-setLayoutCount-00286: drivers keep
    * a layout's sets in an array of maxBoundDescriptorSets */
   if (info->setLayoutCount > dev->physical_device->limits.maxBoundDescriptorSets) {
      pvk_reject(ctx,
                 "descriptor: vkCreatePipelineLayout: %u set layouts, more than "
                 "maxBoundDescriptorSets %u",
                 info->setLayoutCount, dev->physical_device->limits.maxBoundDescriptorSets);
      return;
   }
   uint32_t stage = 0;
   const char *kind = per_stage_why(dev->physical_device, info, ctx, &stage);
   if (kind) {
      pvk_reject(ctx,
                 "descriptor: vkCreatePipelineLayout: more %s for stage 0x%x than its "
                 "maxPerStage limit (VUID-VkPipelineLayoutCreateInfo-descriptorType-03016..03022)",
                 kind, stage);
      return;
   }
   const int bad = bad_push_constant_range(info, dev->physical_device->max_push_constants);
   if (bad >= 0) {
      const VkPushConstantRange *r = &info->pPushConstantRanges[bad];
      pvk_reject(
         ctx,
         "descriptor: vkCreatePipelineLayout push constant range %d: offset %u size %u "
         "stages 0x%x outside maxPushConstantsSize %u (VUID-VkPushConstantRange-size-00298)",
         bad, r->offset, r->size, r->stageFlags, dev->physical_device->max_push_constants);
      return;
   }
   const uint32_t n = info->setLayoutCount;
   struct pvk_pipeline_layout_state *p = calloc(1, sizeof(*p) + (size_t)n * sizeof(p->sets[0]));
   if (!p) {
      pvk_context_set_lost(ctx, "vkCreatePipelineLayout: out of host memory");
      return;
   }
   p->set_count = n;
   for (uint32_t i = 0; i < n; i++) {
      const struct vn_object *lo =
         vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT,
                                     (uint64_t)(uintptr_t)info->pSetLayouts[i]);
      p->sets[i] = lo ? lo->data : NULL;
      if (p->sets[i])
         p->sets[i]->refs++;
   }
   VkPipelineLayout handle = VK_NULL_HANDLE;
   args->ret = dev->dispatch.vkCreatePipelineLayout(dev->handle, info, NULL, &handle);
   if (args->ret != VK_SUCCESS) {
      pvk_pipeline_layout_state_free(p);
      return;
   }
   struct vn_object *obj =
      vn_object_table_insert(ctx->dispatch.objects, (uint64_t)(uintptr_t)*args->pPipelineLayout,
                             VK_OBJECT_TYPE_PIPELINE_LAYOUT, (uint64_t)(uintptr_t)handle);
   if (!obj) {
      dev->dispatch.vkDestroyPipelineLayout(dev->handle, handle, NULL);
      pvk_pipeline_layout_state_free(p);
      pvk_context_set_lost(ctx, "vkCreatePipelineLayout: bad or duplicate object id");
      return;
   }
   obj->instance = pvk_instance_base(dev->instance);
   obj->device = pvk_device_base(dev);
   obj->data = p;
}

/* The samplers a push descriptor write names are recorded uses of the
 * command buffer (drivers read them when the commands run: lavapipe
 * enqueues the write with its handles), but for bindings with immutable
 * samplers, whose sampler field is ignored. A write's descriptors run on
 * into the next bindings (check_writes checked the span). */
static void
use_push_samplers(struct pvk_context *ctx, struct vn_object *cb,
                  const struct pvk_set_layout_state *l, const VkWriteDescriptorSet *w)
{
   if ((w->descriptorType != VK_DESCRIPTOR_TYPE_SAMPLER &&
        w->descriptorType != VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER) ||
       !w->pImageInfo)
      return;
   uint32_t i = find_binding(l, w->dstBinding), element = w->dstArrayElement;
   for (uint32_t j = 0; i < l->binding_count && j < w->descriptorCount; j++) {
      while (i < l->binding_count && element >= l->bindings[i].count) {
         element -= l->bindings[i].count;
         i++;
      }
      if (i == l->binding_count)
         return;
      if (!l->bindings[i].immutable)
         pvk_cb_use_handle(ctx, cb, VK_OBJECT_TYPE_SAMPLER,
                           (uint64_t)(uintptr_t)w->pImageInfo[j].sampler);
      element++;
   }
}

void
vn_handle_vkCmdPushDescriptorSet(struct vn_dispatch_context *dctx,
                                 struct vn_command_vkCmdPushDescriptorSet *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const struct vn_object *lo = vn_object_table_find_handle(
      ctx->dispatch.objects, VK_OBJECT_TYPE_PIPELINE_LAYOUT, (uint64_t)(uintptr_t)args->layout);
   const struct pvk_pipeline_layout_state *p = lo ? lo->data : NULL;
   if (!p || args->set >= p->set_count || !p->sets[args->set] ||
       (args->descriptorWriteCount && !args->pDescriptorWrites)) {
      pvk_reject(ctx, "descriptor: vkCmdPushDescriptorSet: no set %u in pipeline layout %llu",
                 args->set, (unsigned long long)(lo ? lo->id : 0));
      return;
   }
   const struct pvk_set_state push = { p->sets[args->set], 0 };
   /* the rules first: they hold whatever the host has */
   if (!check_writes(ctx, "vkCmdPushDescriptorSet", args->descriptorWriteCount,
                     args->pDescriptorWrites, &push) ||
       !PVK_HOST_HAS(ctx, args->dispatch, vkCmdPushDescriptorSet))
      return;
   pvk_cb_use_writes(ctx, args->dispatch, args->descriptorWriteCount, args->pDescriptorWrites);
   for (uint32_t i = 0; i < args->descriptorWriteCount; i++)
      use_push_samplers(ctx, args->dispatch, push.layout, &args->pDescriptorWrites[i]);
   pvk_device_from_base(args->dispatch->device)
      ->dispatch.vkCmdPushDescriptorSet(args->commandBuffer, args->pipelineBindPoint, args->layout,
                                        args->set, args->descriptorWriteCount,
                                        args->pDescriptorWrites);
}

/* Whether two set layouts are identically defined, as far as recorded
 * (what "compatible" means for VUID-vkCmdBindDescriptorSets-pDescriptorSets-00358). */
static bool
layouts_compatible(const struct pvk_set_layout_state *a, const struct pvk_set_layout_state *b)
{
   if (a == b)
      return true;
   if (a->binding_count != b->binding_count || a->variable_binding != b->variable_binding ||
       a->dynamic_count != b->dynamic_count)
      return false;
   for (uint32_t i = 0; i < a->binding_count; i++) {
      const struct pvk_layout_binding *x = &a->bindings[i], *y = &b->bindings[i];
      if (x->binding != y->binding || x->type != y->type || x->count != y->count ||
          x->variable != y->variable || x->immutable != y->immutable)
         return false;
   }
   return true;
}

/* VUID-vkCmdBindDescriptorSets-pDescriptorSets-00358: each set was
 * allocated with a layout compatible with the pipeline layout's at its
 * number. Drivers walk the set's own layout with the offsets counted for
 * the pipeline layout's (lavapipe reads pDynamicOffsets past its end for a
 * set with more dynamic descriptors). And no set holds a descriptor naming
 * a destroyed object that could not be made a null one (the driver reads
 * every descriptor of a bound set; pvk_validate_descriptor_refs.c). The
 * sets' objects are the decoder's (NULL: unbound): no lookup. Index of the
 * first set that is not, or UINT32_MAX; *why says which rule. */
static uint32_t
bad_set(const struct pvk_pipeline_layout_state *p, uint32_t first, uint32_t count,
        struct vn_object *const *sets, const char **why)
{
   for (uint32_t i = 0; i < count; i++) {
      const struct pvk_set_layout_state *want = p->sets[first + i];
      if (!sets[i])
         continue; /* unbound */
      const struct pvk_set_state *s = sets[i]->data;
      if (s && s->stale) {
         *why = "set names a destroyed object the host has no null descriptor for";
         return i;
      }
      if (!want)
         continue; /* a set number the pipeline layout leaves out */
      if (!s || !s->layout || !layouts_compatible(s->layout, want)) {
         *why = "set allocated with a layout incompatible with the pipeline layout's";
         return i;
      }
   }
   return UINT32_MAX;
}

/* Set numbers inside the pipeline layout (drivers keep a fixed array of
 * bound sets), one dynamic offset per dynamic descriptor of those sets'
 * layouts (the driver reads that many), and sets of those layouts. The
 * pipeline layout's and the sets' objects are the decoder's: no lookup. */
void
vn_handle_vkCmdBindDescriptorSets(struct vn_dispatch_context *dctx,
                                  struct vn_command_vkCmdBindDescriptorSets *args)
{
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   const struct vn_object *lo = args->layout_object;
   const struct pvk_pipeline_layout_state *p = lo ? lo->data : NULL;
   const char *why = NULL;
   uint64_t dynamic = 0;
   uint32_t bad = UINT32_MAX;
   if (!p || args->firstSet > p->set_count ||
       args->descriptorSetCount > p->set_count - args->firstSet)
      why = "sets beyond the pipeline layout";
   for (uint32_t i = 0; !why && i < args->descriptorSetCount; i++) {
      const struct pvk_set_layout_state *l = p->sets[args->firstSet + i];
      dynamic += l ? l->dynamic_count : 0;
   }
   if (!why && dynamic != args->dynamicOffsetCount)
      why = "dynamic offset count is not the layouts' dynamic descriptor count";
   if (!why && args->descriptorSetCount && !args->pDescriptorSets_objects)
      why = "no sets";
   if (!why)
      bad =
         bad_set(p, args->firstSet, args->descriptorSetCount, args->pDescriptorSets_objects, &why);
   if (why) {
      const uint64_t set = bad == UINT32_MAX
                              ? 0
                              : pvk_guest_id(ctx, VK_OBJECT_TYPE_DESCRIPTOR_SET,
                                             (uint64_t)(uintptr_t)args->pDescriptorSets[bad]);
      pvk_reject(ctx,
                 "descriptor: vkCmdBindDescriptorSets: %s (layout %llu, sets %u..+%u, %u dynamic "
                 "offsets, set %llu)",
                 why, (unsigned long long)(lo ? lo->id : 0), args->firstSet,
                 args->descriptorSetCount, args->dynamicOffsetCount, (unsigned long long)set);
      return;
   }
   for (uint32_t i = 0; i < args->descriptorSetCount; i++)
      pvk_cb_use(ctx, args->dispatch, args->pDescriptorSets_objects[i]);
   pvk_device_from_base(args->dispatch->device)
      ->dispatch.vkCmdBindDescriptorSets(args->commandBuffer, args->pipelineBindPoint, args->layout,
                                         args->firstSet, args->descriptorSetCount,
                                         args->pDescriptorSets, args->dynamicOffsetCount,
                                         args->pDynamicOffsets);
}
