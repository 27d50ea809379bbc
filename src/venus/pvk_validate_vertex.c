/*
 * Firewall rule for direct draws (pvk_validate.h, "direct draws"): the
 * vertices and instances a draw fetches lie inside the vertex buffers
 * bound (VUID-vkCmdDraw-None-02721 and the like: without robustBufferAccess
 * a fetch past the bound range reads whatever memory follows), every
 * binding the pipeline reads has a buffer bound (-None-04007), the draw is
 * inside a render pass instance (-renderpass) with a graphics pipeline
 * bound (-None-08606) that is still alive, and so are its vertex buffers.
 *
 * What a draw needs is cached per command buffer: the number of vertices
 * and of instances every binding used holds, computed on the first draw
 * after a pipeline bind, a render pass change or a removal in the object
 * table (pvk_draw_slow); a vertex buffer bind lowers the cached count to
 * its binding's when that is smaller (pvk_draw_bind_vertex_buffer). A draw
 * then costs two additions and three compares (pvk_draw_ok, inline). Element k of a binding spans
 * [k * stride, k * stride + need) of the range bound, `need` being the
 * largest attribute offset + format size: the binding holds
 * (bytes - need) / stride + 1 elements, none when need > bytes, any number
 * with stride 0. Instance-rate bindings with a divisor d fetch element
 * firstInstance + (i - firstInstance) / d (firstInstance only for d = 0):
 * the cache counts them as d = 1 and the slow path checks them exactly.
 * Indexed draws: the vertices come from the index values, which only the
 * device reads; only the instances are checked.
 */
#include <stdlib.h>
#include <string.h>

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_validate.h"
#include "venus/vn_object.h"

/* More elements than any draw can name: first + count < 2^33. */
#define PVK_DRAW_UNLIMITED (1ull << 40)

static struct pvk_device *
device_of(struct vn_object *cb)
{
   return pvk_device_from_base(cb->device);
}

/* --- pipelines: what their vertex input reads --- */

static const struct pvk_pipeline_state compute_state = { .kind = VK_PIPELINE_BIND_POINT_COMPUTE };

VkPipelineBindPoint
pvk_pipeline_kind(const struct vn_object *pipeline)
{
   const struct pvk_pipeline_state *p = pipeline->data;
   return p ? p->kind : VK_PIPELINE_BIND_POINT_MAX_ENUM;
}

void
pvk_pipeline_state_free(void *data)
{
   if (data != &compute_state)
      free(data);
}

const struct pvk_pipeline_state *
pvk_pipeline_compute_state(void)
{
   return &compute_state;
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

static bool
has_dynamic(const VkGraphicsPipelineCreateInfo *info, VkDynamicState state)
{
   const VkPipelineDynamicStateCreateInfo *d = info->pDynamicState;
   for (uint32_t i = 0; d && d->pDynamicStates && i < d->dynamicStateCount; i++) {
      if (d->pDynamicStates[i] == state)
         return true;
   }
   return false;
}

/* Adds an attribute's reach to its binding's use. */
static void
use_attribute(struct pvk_vertex_use *uses, uint32_t count, uint32_t binding, uint32_t end)
{
   for (uint32_t i = 0; i < count; i++) {
      if (uses[i].binding == binding && end > uses[i].need)
         uses[i].need = end;
   }
}

/* The divisor of `binding` (1 without one, or without the feature: the
 * driver may then ignore it, and d = 1 fetches the most). */
static uint32_t
divisor_of(const struct pvk_device *dev, const void *chain, uint32_t binding)
{
   const VkPipelineVertexInputDivisorStateCreateInfoKHR *d =
      find_next(chain, VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_DIVISOR_STATE_CREATE_INFO_KHR);
   for (uint32_t i = 0;
        dev->vertex_divisor && d && d->pVertexBindingDivisors && i < d->vertexBindingDivisorCount;
        i++) {
      if (d->pVertexBindingDivisors[i].binding == binding)
         return d->pVertexBindingDivisors[i].divisor;
   }
   return 1;
}

/* Checks a vertex input description against the device's limits and
 * itself, and fills `uses` (PVK_MAX_VERTEX_BINDINGS); NULL or why not.
 * VUID-VkPipelineVertexInputStateCreateInfo-vertexBindingDescriptionCount-
 * 00613, -vertexAttributeDescriptionCount-00614, -binding-00615,
 * -pVertexBindingDescriptions-00616, -pVertexAttributeDescriptions-00617,
 * VUID-VkVertexInputBindingDescription-binding-00618,
 * VUID-VkVertexInputAttributeDescription-location-00620 (drivers index
 * fixed arrays with bindings and locations) and the same for
 * vkCmdSetVertexInputEXT. `stride_of` etc. read either struct kind. */
struct vertex_input {
   uint32_t binding_count, attribute_count;
   const void *bindings, *attributes;
   size_t binding_size, attribute_size;
   bool dynamic; /* VkVertexInputBindingDescription2EXT: divisor inside */
   const void *chain;
};

static const char *
vertex_input_uses(const struct pvk_device *dev, const struct vertex_input *in,
                  struct pvk_vertex_use *uses, uint32_t *count, bool *unchecked, uint32_t *bad)
{
   const struct pvk_physical_device *pd = dev->physical_device;
   if (in->binding_count > pd->max_vertex_bindings ||
       in->attribute_count > pd->max_vertex_attributes)
      return "more vertex bindings or attributes than the device has";
   uint32_t seen = 0;
   *count = 0;
   for (uint32_t i = 0; i < in->binding_count; i++) {
      const char *p = (const char *)in->bindings + i * in->binding_size;
      uint32_t binding, stride, rate, divisor = 1;
      if (in->dynamic) {
         const VkVertexInputBindingDescription2EXT *b = (const void *)p;
         binding = b->binding;
         stride = b->stride;
         rate = b->inputRate;
         divisor = dev->vertex_divisor ? b->divisor : 1;
      } else {
         const VkVertexInputBindingDescription *b = (const void *)p;
         binding = b->binding;
         stride = b->stride;
         rate = b->inputRate;
         if (rate == VK_VERTEX_INPUT_RATE_INSTANCE)
            divisor = divisor_of(dev, in->chain, binding);
      }
      *bad = i;
      if (binding >= pd->max_vertex_bindings)
         return "vertex binding past maxVertexInputBindings";
      if (binding >= PVK_MAX_VERTEX_BINDINGS) {
         *unchecked = true;
         continue;
      }
      if (seen & (1u << binding))
         return "vertex binding described twice";
      seen |= 1u << binding;
      uses[(*count)++] = (struct pvk_vertex_use){
         .binding = binding,
         .stride = stride,
         .divisor = divisor,
         .instance = rate == VK_VERTEX_INPUT_RATE_INSTANCE,
      };
   }
   /* locations: at most maxVertexInputAttributes, far below 64 in practice */
   uint64_t locations[4] = { 0 };
   for (uint32_t i = 0; i < in->attribute_count; i++) {
      const char *p = (const char *)in->attributes + i * in->attribute_size;
      uint32_t location, binding, offset;
      VkFormat format;
      if (in->dynamic) {
         const VkVertexInputAttributeDescription2EXT *a = (const void *)p;
         location = a->location, binding = a->binding, format = a->format, offset = a->offset;
      } else {
         const VkVertexInputAttributeDescription *a = (const void *)p;
         location = a->location, binding = a->binding, format = a->format, offset = a->offset;
      }
      *bad = i;
      if (location >= pd->max_vertex_attributes)
         return "vertex attribute location past maxVertexInputAttributes";
      if (location < 256) {
         if (locations[location / 64] & (1ull << (location % 64)))
            return "vertex attribute location described twice";
         locations[location / 64] |= 1ull << (location % 64);
      }
      if (binding >= pd->max_vertex_bindings ||
          (binding < PVK_MAX_VERTEX_BINDINGS && !(seen & (1u << binding))))
         return "vertex attribute of a binding not described";
      const uint32_t size = pvk_vertex_format_bytes(format);
      if (!size)
         return "vertex attribute format the renderer has no size for";
      if (binding < PVK_MAX_VERTEX_BINDINGS)
         use_attribute(uses, *count, binding,
                       offset > UINT32_MAX - size ? UINT32_MAX : offset + size);
   }
   return NULL;
}

/* The vertex input of a pipeline linked from libraries: the library that
 * has one (graphics pipeline libraries). */
static const struct pvk_pipeline_state *
library_input(struct pvk_context *ctx, const VkGraphicsPipelineCreateInfo *info)
{
   const VkPipelineLibraryCreateInfoKHR *l =
      find_next(info->pNext, VK_STRUCTURE_TYPE_PIPELINE_LIBRARY_CREATE_INFO_KHR);
   for (uint32_t i = 0; l && l->pLibraries && i < l->libraryCount; i++) {
      const struct vn_object *o = vn_object_table_find_handle(
         ctx->dispatch.objects, VK_OBJECT_TYPE_PIPELINE, (uint64_t)(uintptr_t)l->pLibraries[i]);
      const struct pvk_pipeline_state *p = o ? o->data : NULL;
      if (p && p->kind == VK_PIPELINE_BIND_POINT_GRAPHICS && (p->use_count || p->dynamic_input))
         return p;
   }
   return NULL;
}

const char *
pvk_pipeline_vertex_state(struct pvk_context *ctx, const struct pvk_device *dev,
                          const VkGraphicsPipelineCreateInfo *info, struct pvk_pipeline_state **out)
{
   *out = NULL;
   struct pvk_pipeline_state *p =
      calloc(1, sizeof(*p) + PVK_MAX_VERTEX_BINDINGS * sizeof(p->uses[0]));
   if (!p) {
      pvk_context_set_lost(ctx, "vkCreateGraphicsPipelines: out of host memory");
      return NULL;
   }
   p->kind = VK_PIPELINE_BIND_POINT_GRAPHICS;
   p->dynamic_input = has_dynamic(info, VK_DYNAMIC_STATE_VERTEX_INPUT_EXT);
   p->dynamic_stride = has_dynamic(info, VK_DYNAMIC_STATE_VERTEX_INPUT_BINDING_STRIDE);
   /* ignored without a vertex shader (mesh pipelines) and in a library
    * without the vertex input interface */
   const VkGraphicsPipelineLibraryCreateInfoEXT *part =
      find_next(info->pNext, VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_LIBRARY_CREATE_INFO_EXT);
   bool vertex_stage = false;
   for (uint32_t i = 0; info->pStages && i < info->stageCount; i++)
      vertex_stage |= info->pStages[i].stage == VK_SHADER_STAGE_VERTEX_BIT;
   const bool has_input =
      part ? (part->flags & VK_GRAPHICS_PIPELINE_LIBRARY_VERTEX_INPUT_INTERFACE_BIT_EXT) != 0
           : vertex_stage || !info->stageCount;
   const VkPipelineVertexInputStateCreateInfo *vi = has_input ? info->pVertexInputState : NULL;
   const struct pvk_pipeline_state *lib =
      vi || p->dynamic_input || part ? NULL : library_input(ctx, info);
   if (lib) {
      p->dynamic_input = lib->dynamic_input;
      p->dynamic_stride |= lib->dynamic_stride;
      p->unchecked = lib->unchecked;
      p->use_count = lib->use_count;
      memcpy(p->uses, lib->uses, lib->use_count * sizeof(p->uses[0]));
   } else if (vi && !p->dynamic_input) {
      if ((vi->vertexBindingDescriptionCount && !vi->pVertexBindingDescriptions) ||
          (vi->vertexAttributeDescriptionCount && !vi->pVertexAttributeDescriptions)) {
         free(p);
         return "vertex input array without elements";
      }
      const struct vertex_input in = {
         .binding_count = vi->vertexBindingDescriptionCount,
         .attribute_count = vi->vertexAttributeDescriptionCount,
         .bindings = vi->pVertexBindingDescriptions,
         .attributes = vi->pVertexAttributeDescriptions,
         .binding_size = sizeof(VkVertexInputBindingDescription),
         .attribute_size = sizeof(VkVertexInputAttributeDescription),
         .chain = vi->pNext,
      };
      uint32_t bad = 0;
      const char *why = vertex_input_uses(dev, &in, p->uses, &p->use_count, &p->unchecked, &bad);
      if (why) {
         free(p);
         return why;
      }
   }
   *out = p;
   return NULL;
}

/* --- recording: what the draws read --- */

/* Something a draw depends on changed: the next draw recomputes. */
static inline void
draw_changed(struct pvk_command_buffer_state *st)
{
   st->vertex_end = 0;
   st->instance_end = 0;
}

void
pvk_draw_state_changed(struct vn_object *cb)
{
   struct pvk_command_buffer_state *st = cb->data;
   if (st)
      draw_changed(st);
}

void
pvk_draw_bind_pipeline(struct vn_object *cb, const struct vn_object *pipeline)
{
   struct pvk_command_buffer_state *st = cb->data;
   if (!st || !pipeline)
      return;
   st->pipeline = pipeline->data;
   st->pipeline_id = pipeline->id;
   st->pipeline_gen = pipeline->gen;
   draw_changed(st);
}

static uint64_t elements(const struct pvk_vertex_buffer *b, const struct pvk_vertex_use *use,
                         uint32_t stride);
static uint32_t stride_of(const struct pvk_command_buffer_state *st,
                          const struct pvk_vertex_use *use);

void
pvk_draw_bind_vertex_buffer(struct vn_object *cb, uint32_t binding, const struct vn_object *buffer,
                            uint64_t bytes, const VkDeviceSize *stride)
{
   struct pvk_command_buffer_state *st = cb->data;
   if (!st || binding >= PVK_MAX_VERTEX_BINDINGS)
      return;
   struct pvk_vertex_buffer *b = &st->buffers[binding];
   b->bytes = buffer ? bytes : UINT64_MAX;
   b->id = buffer ? buffer->id : 0;
   b->gen = buffer ? buffer->gen : 0;
   if (stride) {
      b->stride = *stride > UINT32_MAX ? UINT32_MAX : (uint32_t)*stride;
      b->stride_set = true;
   }
   st->buffer_mask |= 1u << binding;
   /* Cached counts valid: they stay a lower bound of the true ones if this
    * binding's count joins their minimum (the others' did not change), so
    * the next draw need not recompute; a binding the pipeline does not read
    * changes nothing. A count that grew is found by the slow path. */
   const struct pvk_pipeline_state *p = st->pipeline;
   if (!st->vertex_end || !p || pvk_device_from_base(cb->device)->robust_buffer_access)
      return;
   const struct pvk_vertex_use *uses = p->dynamic_input ? st->input : p->uses;
   const uint32_t count = p->dynamic_input ? st->input_count : p->use_count;
   for (uint32_t i = 0; i < count; i++) {
      if (uses[i].binding != binding)
         continue;
      const uint64_t end = elements(b, &uses[i], stride_of(st, &uses[i])) + 1;
      uint64_t *cached = uses[i].instance ? &st->instance_end : &st->vertex_end;
      if (end < *cached)
         *cached = end;
      if (!*cached)
         draw_changed(st);
      return;
   }
}

/* After vkCmdExecuteCommands the primary's bound state is undefined
 * ("Command Buffers": state is not inherited either way): the driver may
 * keep the secondary's (lavapipe runs it inline). Draws rebind first. */
void
pvk_draw_forget_bindings(struct vn_object *cb)
{
   struct pvk_command_buffer_state *st = cb->data;
   if (!st)
      return;
   st->graphics_bound = false;
   st->compute_bound = false;
   st->pipeline = NULL;
   st->buffer_mask = 0;
   st->input_set = false;
   st->index_size = 0;
   draw_changed(st);
}

/* VK_EXT_vertex_input_dynamic_state */
void
vn_handle_vkCmdSetVertexInputEXT(struct vn_dispatch_context *dctx,
                                 struct vn_command_vkCmdSetVertexInputEXT *args)
{
   static const char cmd[] = "vkCmdSetVertexInputEXT";
   struct pvk_context *ctx = pvk_context_from_dispatch(dctx);
   if (!PVK_HOST_HAS(ctx, args->dispatch, vkCmdSetVertexInputEXT))
      return;
   if ((args->vertexBindingDescriptionCount && !args->pVertexBindingDescriptions) ||
       (args->vertexAttributeDescriptionCount && !args->pVertexAttributeDescriptions)) {
      pvk_context_set_lost(ctx, "vkCmdSetVertexInputEXT: array without elements");
      return;
   }
   struct pvk_command_buffer_state *st = pvk_cb_state(ctx, args->dispatch);
   if (!st)
      return;
   const struct vertex_input in = {
      .binding_count = args->vertexBindingDescriptionCount,
      .attribute_count = args->vertexAttributeDescriptionCount,
      .bindings = args->pVertexBindingDescriptions,
      .attributes = args->pVertexAttributeDescriptions,
      .binding_size = sizeof(VkVertexInputBindingDescription2EXT),
      .attribute_size = sizeof(VkVertexInputAttributeDescription2EXT),
      .dynamic = true,
   };
   uint32_t bad = 0;
   bool unchecked = false;
   const char *why = vertex_input_uses(device_of(args->dispatch), &in, st->input, &st->input_count,
                                       &unchecked, &bad);
   if (why) {
      st->input_set = false;
      pvk_reject(ctx, "vertex input: %s: %s (description %u, command buffer %llu)", cmd, why, bad,
                 (unsigned long long)args->dispatch->id);
      return;
   }
   st->input_set = true;
   /* the strides given here replace those of earlier vertex buffer binds */
   for (uint32_t i = 0; i < PVK_MAX_VERTEX_BINDINGS; i++)
      st->buffers[i].stride_set = false;
   draw_changed(st);
   device_of(args->dispatch)
      ->dispatch.vkCmdSetVertexInputEXT(
         args->commandBuffer, args->vertexBindingDescriptionCount, args->pVertexBindingDescriptions,
         args->vertexAttributeDescriptionCount, args->pVertexAttributeDescriptions);
}

/* --- draws --- */

/* Elements a binding holds for `use`. */
static uint64_t
elements(const struct pvk_vertex_buffer *b, const struct pvk_vertex_use *use, uint32_t stride)
{
   if (b->bytes == UINT64_MAX)
      return PVK_DRAW_UNLIMITED; /* null buffer: fetches read zeros */
   if (use->need > b->bytes)
      return 0;
   if (!stride)
      return PVK_DRAW_UNLIMITED;
   const uint64_t n = (b->bytes - use->need) / stride + 1;
   return n < PVK_DRAW_UNLIMITED ? n : PVK_DRAW_UNLIMITED;
}

/* Whether `use` (instance rate) holds the instances of a draw, exactly. */
static bool
instances_fit(uint64_t have, const struct pvk_vertex_use *use, uint64_t first, uint64_t count)
{
   if (!use->divisor)
      return first < have;
   return first + (count - 1) / use->divisor < have;
}

static const char no_pipeline[] = "no graphics pipeline bound";

struct draw_uses {
   const struct pvk_vertex_use *uses;
   uint32_t count;
};

/* Why the draw's state is not usable (NULL: it is), and the vertex input
 * it reads. */
static const char *
draw_state(struct pvk_context *ctx, struct pvk_command_buffer_state *st, struct draw_uses *u,
           uint32_t *bad)
{
   if (!st->graphics_bound || !st->pipeline)
      return no_pipeline;
   if (!st->subpass_count && !st->rendering && !st->continues_pass)
      return "outside a render pass instance";
   const uint64_t removals = vn_object_table_removals(ctx->dispatch.objects);
   if (removals != st->draw_removals) {
      const struct vn_object *o =
         vn_object_table_lookup(ctx->dispatch.objects, st->pipeline_id, VK_OBJECT_TYPE_PIPELINE);
      if (!o || o->gen != st->pipeline_gen || o->data != st->pipeline)
         return "the bound graphics pipeline was destroyed";
   }
   const struct pvk_pipeline_state *p = st->pipeline;
   if (p->dynamic_input && !st->input_set)
      return "vertex input state never set (VK_DYNAMIC_STATE_VERTEX_INPUT_EXT)";
   u->uses = p->dynamic_input ? st->input : p->uses;
   u->count = p->dynamic_input ? st->input_count : p->use_count;
   for (uint32_t i = 0; i < u->count; i++) {
      const struct pvk_vertex_use *use = &u->uses[i];
      const struct pvk_vertex_buffer *b = &st->buffers[use->binding];
      *bad = use->binding;
      if (!(st->buffer_mask & (1u << use->binding)))
         return "a binding the pipeline reads has no vertex buffer bound";
      if (p->dynamic_stride && !b->stride_set && !p->dynamic_input)
         return "a binding's stride never set (VK_DYNAMIC_STATE_VERTEX_INPUT_BINDING_STRIDE)";
      if (removals != st->draw_removals && b->id) {
         const struct vn_object *o =
            vn_object_table_lookup(ctx->dispatch.objects, b->id, VK_OBJECT_TYPE_BUFFER);
         if (!o || o->gen != b->gen)
            return "a vertex buffer bound was destroyed or its memory freed";
      }
   }
   st->draw_removals = removals;
   return NULL;
}

static uint32_t
stride_of(const struct pvk_command_buffer_state *st, const struct pvk_vertex_use *use)
{
   const struct pvk_vertex_buffer *b = &st->buffers[use->binding];
   return st->pipeline->dynamic_stride && b->stride_set ? b->stride : use->stride;
}

/* Computes the cached ends; false (rejected) when the state is unusable. */
static bool
draw_recompute(struct pvk_context *ctx, struct vn_object *cb, struct pvk_command_buffer_state *st,
               const char *cmd, struct draw_uses *u)
{
   uint32_t bad = UINT32_MAX; /* the binding, for the binding rules */
   const char *why = draw_state(ctx, st, u, &bad);
   if (why == no_pipeline) {
      pvk_reject(ctx, "recording: %s with no graphics pipeline bound (command buffer %llu)", cmd,
                 (unsigned long long)cb->id);
      return false;
   }
   if (why && bad == UINT32_MAX) {
      pvk_reject(ctx, "draw: %s: %s (command buffer %llu)", cmd, why, (unsigned long long)cb->id);
      return false;
   }
   if (why) {
      pvk_reject(ctx, "draw: %s: %s (binding %u, command buffer %llu)", cmd, why, bad,
                 (unsigned long long)cb->id);
      return false;
   }
   uint64_t vertices = PVK_DRAW_UNLIMITED, instances = PVK_DRAW_UNLIMITED;
   if (!device_of(cb)->robust_buffer_access) {
      for (uint32_t i = 0; i < u->count; i++) {
         const struct pvk_vertex_use *use = &u->uses[i];
         const uint64_t n = elements(&st->buffers[use->binding], use, stride_of(st, use));
         if (use->instance && n < instances)
            instances = n;
         else if (!use->instance && n < vertices)
            vertices = n;
      }
   }
   st->vertex_end = vertices + 1;
   st->instance_end = instances + 1;
   return true;
}

bool
pvk_draw_slow(struct pvk_context *ctx, struct vn_object *cb, const char *cmd, uint32_t first_vertex,
              uint32_t vertex_count, uint32_t first_instance, uint32_t instance_count, bool indexed)
{
   struct pvk_command_buffer_state *st = cb->data;
   if (!st) {
      pvk_reject(ctx, "recording: %s with no graphics pipeline bound (command buffer %llu)", cmd,
                 (unsigned long long)cb->id);
      return false;
   }
   struct draw_uses u = { 0 };
   if (!draw_recompute(ctx, cb, st, cmd, &u))
      return false;
   /* nothing drawn: nothing fetched */
   if (!instance_count || (!indexed && !vertex_count))
      return true;
   if (!indexed && (uint64_t)first_vertex + vertex_count >= st->vertex_end) {
      pvk_reject(ctx,
                 "draw: %s: vertices %u..+%u beyond the bound vertex buffers (%llu vertices, "
                 "command buffer %llu)",
                 cmd, first_vertex, vertex_count, (unsigned long long)(st->vertex_end - 1),
                 (unsigned long long)cb->id);
      return false;
   }
   if ((uint64_t)first_instance + instance_count < st->instance_end)
      return true;
   for (uint32_t i = 0; i < u.count; i++) {
      const struct pvk_vertex_use *use = &u.uses[i];
      if (!use->instance)
         continue;
      const uint64_t n = elements(&st->buffers[use->binding], use, stride_of(st, use));
      if (!instances_fit(n, use, first_instance, instance_count)) {
         pvk_reject(ctx,
                    "draw: %s: instances %u..+%u beyond the vertex buffer of binding %u (%llu "
                    "elements, divisor %u, command buffer %llu)",
                    cmd, first_instance, instance_count, use->binding, (unsigned long long)n,
                    use->divisor, (unsigned long long)cb->id);
         return false;
      }
   }
   return true;
}
