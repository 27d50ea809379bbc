/*
 * The valid-usage firewall: rules whose violation would make the host
 * driver read or write out of bounds or use freed memory, checked before a
 * guest call reaches it (docs/sandbox.md, "Valid-usage firewall").
 *
 * - pvk_lifetime.c: objects against pending submissions;
 * - pvk_validate_descriptor.c: descriptor writes and copies against set
 *   layouts;
 * - pvk_validate_range.c: buffer and image ranges of copies, fills,
 *   updates, binds, views and barriers against sizes, mip levels and array
 *   layers; queue families and indices (pvk_device.c);
 * - pvk_validate_cmdbuf.c: what a command buffer recorded is alive when it
 *   is submitted or executed;
 * - pvk_validate_descriptor_refs.c: no descriptor of a set names a
 *   destroyed object (made null, or the set refused when bound).
 *
 * What the rules need is recorded when objects are created, in obj->data
 * (buffers, images, descriptor set layouts, descriptor sets; device memory
 * has its own state, pvk_memory.h), and looked up by host handle through
 * the object table's handle index: one hash lookup per checked object, none
 * on the per-draw fast paths (they are not hooked).
 *
 * A violation fails the command: the context is marked lost with one log
 * line naming the rule, the command and the guest ids involved, and nothing
 * of the command reaches the driver. Other contexts are not affected.
 */
#ifndef PV_VENUS_PVK_VALIDATE_H
#define PV_VENUS_PVK_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "venus/vn_dispatch.h"
#include "venus/vn_object.h"

struct pvk_context;
struct vn_object;

/* An object a recording used: found again by id at submission, and
 * still the same object while its gen is (vn_object.h). */
struct pvk_cb_use {
   uint64_t id;
   uint64_t gen;
   VkObjectType type;
};

/* A descriptor of a set that names an object (pvk_validate_descriptor_refs.c):
 * the set by guest id, the descriptor by its slot in the set's record, and
 * the stamp that slot got when it was written. Once the set is gone or the
 * slot written again the stamps differ and the reference is stale: stale
 * ones are dropped when a list fills up, never looked for eagerly. */
struct pvk_desc_ref {
   uint64_t set;
   uint64_t stamp;
   uint32_t slot;
   uint32_t binding; /* index into the set layout's sorted bindings */
};

/* The descriptors that name an object (buffers, images through their
 * views, buffer and image views, samplers). */
struct pvk_desc_refs {
   struct pvk_desc_ref *v;
   uint32_t count, capacity;
};

/* obj->data of a VkImageView or VkBufferView */
struct pvk_view_state {
   struct pvk_cb_use parent; /* its image or buffer (id 0: none recorded) */
   /* image views: the extent of its base level and its layer count (the
    * depth slices of a 2D view of a 3D image); 0 for buffer views */
   uint32_t width, height, layers;
   VkImageUsageFlags usage;   /* its image's */
   VkFormat format;           /* image views: the view's */
   struct pvk_desc_refs refs; /* the descriptors naming it */
};

/* obj->data of a VkBuffer */
struct pvk_buffer_state {
   VkDeviceSize size;
   bool bound; /* memory bound (or sparse: its binding is not tracked) */
   /* its memory was freed: unbound, and never bound again
    * (VUID-vkBindBufferMemory-buffer-07459 holds for freed memory too) */
   bool memory_freed;
   uint64_t memory; /* host handle of the memory bound (0: none, or sparse) */
   struct pvk_desc_refs refs;
};

/* pvk_image_state::memory_freed: the whole image's memory was freed */
#define PVK_IMAGE_WHOLE_FREED (1u << 3)

/* obj->data of a VkImage */
struct pvk_image_state {
   VkImageType type;
   VkFormat format;
   VkImageCreateFlags flags; /* MUTABLE_FORMAT etc.: which view formats it allows */
   VkImageUsageFlags usage;
   VkExtent3D extent;
   uint32_t mip_levels;
   uint32_t array_layers;
   VkSampleCountFlagBits samples;
   bool bound;                /* memory bound (or sparse: its binding is not tracked) */
   uint64_t memory;           /* host handle of the memory bound (0: none, or sparse) */
   struct pvk_desc_refs refs; /* descriptors naming its views */
   /* DISJOINT images: the format's planes, each bound on its own (`bound`
    * once all are; `memory` unused); 0 for other images */
   uint32_t planes;
   uint32_t planes_bound; /* bit p: plane p bound */
   /* bit p: plane p's memory was freed; bit 3: the whole image's. Such
    * memory is unbound and never bound again (VUID-...-image-07460) */
   uint32_t memory_freed;
   uint64_t plane_memory[3]; /* host handle of each plane's memory */
};

/* obj->data of a VkSampler, made when first needed: the descriptors
 * naming it, and whether a set layout has it as an immutable sampler
 * (lavapipe 22.3 keeps pointers to it in the layout and its sets: such a
 * sampler is kept on the host until the context or device goes,
 * pvk_lifetime.c). */
struct pvk_sampler_state {
   struct pvk_desc_refs refs;
   bool immutable;
   bool compare; /* compareEnable: it may sample views of depth formats only */
};

/* One binding of a descriptor set layout. */
struct pvk_layout_binding {
   uint32_t binding;
   VkDescriptorType type;
   uint32_t count;     /* descriptors (bytes for inline uniform blocks) */
   bool variable;      /* VK_DESCRIPTOR_BINDING_VARIABLE_DESCRIPTOR_COUNT_BIT */
   bool immutable;     /* has immutable samplers */
   bool compare;       /* one of them has compareEnable */
   uint32_t parts;     /* slots per descriptor in a set's record (pvk_descriptor_parts) */
   uint64_t slot_base; /* its first slot in a set's record */
};

/* obj->data of a VkDescriptorSetLayout, shared (counted) with the sets
 * allocated from it: a layout may be destroyed before its sets. */
/* Descriptor kinds with a per-stage limit (maxPerStageDescriptor*), and
 * their sum (maxPerStageResources); shader stages counted apart. */
enum pvk_desc_kind {
   PVK_DESC_SAMPLERS,
   PVK_DESC_UNIFORM_BUFFERS,
   PVK_DESC_STORAGE_BUFFERS,
   PVK_DESC_SAMPLED_IMAGES,
   PVK_DESC_STORAGE_IMAGES,
   PVK_DESC_INPUT_ATTACHMENTS,
   PVK_DESC_RESOURCES,
   PVK_DESC_KINDS
};
#define PVK_DESC_STAGES 16 /* VkShaderStageFlagBits 0x1..0x8000 */

struct pvk_set_layout_state {
   uint32_t refs;
   bool update_after_bind; /* UPDATE_AFTER_BIND_POOL: the *UpdateAfterBind limits */
   /* descriptors per shader stage and kind, for pipeline layouts */
   uint64_t per_stage[PVK_DESC_STAGES][PVK_DESC_KINDS];
   uint32_t binding_count;
   uint32_t variable_binding; /* index of the variable-count binding, or UINT32_MAX */
   uint32_t dynamic_count;    /* dynamic uniform/storage buffer descriptors */
   uint64_t slots;            /* slots of a set's record, but a last variable-count binding's */
   struct pvk_layout_binding bindings[]; /* sorted by binding number */
};

/* One slot of a set's record: what a descriptor (or the sampler part of a
 * combined image sampler) names, {0, 0, 0} for nothing or a null
 * descriptor. gen PVK_SLOT_STALE: it named an object destroyed since and
 * the host could not be given a null descriptor in its place. */
#define PVK_SLOT_STALE UINT64_MAX
struct pvk_desc_slot {
   uint64_t id;    /* guest id of the object named */
   uint64_t gen;   /* its gen (vn_object.h) */
   uint64_t stamp; /* unique per write of the slot (pvk_desc_ref) */
};

/* obj->data of a VkDescriptorSet */
struct pvk_set_state {
   struct pvk_set_layout_state *layout;
   uint32_t variable_count; /* descriptors of the layout's variable-count binding */
   uint32_t stale;          /* slots of PVK_SLOT_STALE */
   uint32_t slot_count;
   struct pvk_desc_slot *slots; /* allocated at the first write naming an object */
};

/* obj->data of a VkPipelineLayout: its set layouts (counted references),
 * for push descriptors. */
struct pvk_pipeline_layout_state {
   uint32_t set_count;
   struct pvk_set_layout_state *sets[]; /* NULL where the guest gave none */
};

/* obj->data of a VkQueryPool */
struct pvk_query_pool_state {
   VkQueryType type;
   uint32_t count;
   VkQueryPipelineStatisticFlags statistics;
};

/* obj->data of a VkCommandBuffer (allocated when first needed, reset by
 * vkBeginCommandBuffer): what its recording has begun and bound
 * (pvk_validate_recording.c), and the queries active in it, at most one per
 * type and index (VUID-vkCmdBeginQuery-queryPool-01922). */
#define PVK_MAX_ACTIVE_QUERIES 16
/* Vertex bindings tracked per command buffer (pvk_validate_vertex.c); on a
 * device with more (lavapipe has 32) the bindings past these are not
 * range-checked. */
#define PVK_MAX_VERTEX_BINDINGS 32u
/* Colour attachment formats of dynamic rendering a command buffer's state
 * keeps (those past it are not compared at vkCmdExecuteCommands; lavapipe
 * and NVIDIA have maxColorAttachments 8). */
#define PVK_MAX_RENDER_FORMATS 8u
/* One vertex buffer binding a pipeline (or vkCmdSetVertexInputEXT) reads:
 * element k spans [k * stride, k * stride + need) of the bound range. */
struct pvk_vertex_use {
   uint32_t binding;
   uint32_t stride;
   uint32_t need;    /* largest attribute offset + format size */
   uint32_t divisor; /* instance rate: 1 unless VK_EXT/KHR_vertex_attribute_divisor */
   bool instance;    /* VK_VERTEX_INPUT_RATE_INSTANCE */
};
/* A vertex buffer bound in a command buffer. */
struct pvk_vertex_buffer {
   uint64_t bytes; /* past the offset (the size given, or the rest); UINT64_MAX: null buffer */
   uint64_t id;    /* the buffer's guest id and gen (vn_object.h), 0: null buffer */
   uint64_t gen;
   uint32_t stride; /* vkCmdBindVertexBuffers2's pStrides */
   bool stride_set;
};
struct pvk_active_query {
   uint64_t pool; /* host handle */
   uint32_t query;
   uint32_t index;
   VkQueryType type;
};
struct pvk_command_buffer_state {
   bool simultaneous; /* begun with VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT */
   /* --- kept by vkBeginCommandBuffer (pvk_validate_cmdbuf.c) --- */
   struct pvk_cb_use *uses; /* each object once per recording (vn_object.seen) */
   uint32_t use_count;
   uint32_t use_capacity;
   uint64_t recording; /* table serial of this recording, 0: no use recorded yet */
   uint64_t removals;  /* vn_object_table_removals() when all uses were last alive */
   bool executed;      /* a secondary recorded into a primary since its last reset */
   bool secondary;     /* VK_COMMAND_BUFFER_LEVEL_SECONDARY (vkAllocateCommandBuffers) */
   /* the secondaries without SIMULTANEOUS_USE this recording executes, once
    * per vkCmdExecuteCommands (theirs included): each runs once per
    * submission of this one (pvk_cb_submit_ok) */
   struct pvk_cb_use *secondaries;
   uint32_t secondary_count;
   uint32_t secondary_capacity;
   /* pvk_cb_submit_call() of the last vkQueueSubmit(2) that runs it */
   uint64_t submit_call;
   /* --- reset by vkBeginCommandBuffer --- */
   uint32_t subpass;       /* current subpass of a render pass instance */
   uint32_t subpass_count; /* 0: no vkCmdBeginRenderPass instance open */
   bool rendering;         /* inside vkCmdBeginRendering */
   bool graphics_bound;    /* a graphics pipeline bound */
   bool compute_bound;     /* a compute pipeline bound */
   bool executes;          /* vkCmdExecuteCommands recorded (it is a primary) */
   bool guest_pushed;      /* vkCmdPushConstants recorded */
   bool zero_pushed[2];    /* zeros pushed for the graphics [0] / compute [1] stages */
   bool continues_pass;    /* begun with RENDER_PASS_CONTINUE: inside its primary's pass */
   uint64_t render_pass;   /* host handle of the open render pass instance's pass */
   uint32_t colors;        /* colour attachments of vkCmdBeginRendering's instance */
   VkRect2D area;          /* the open instance's render area */
   uint32_t area_layers;   /* and the layers vkCmdClearAttachments may clear */
   /* a continuing secondary: the box its clears cover, checked against
    * the primary's instance at vkCmdExecuteCommands (clear_layers 0: none) */
   int64_t clear_x0, clear_y0, clear_x1, clear_y1;
   uint64_t clear_layers;
   uint32_t index_size;  /* bytes per index of the bound index buffer; 0: none bound */
   uint64_t index_bytes; /* bytes it holds past the bind offset (UINT64_MAX: not checked) */
   uint32_t active_count;
   struct pvk_active_query active[PVK_MAX_ACTIVE_QUERIES];
   uint32_t nesting;     /* levels of command buffers executed below this one */
   uint64_t executed_by; /* `recording` of the primary that executed it last */
   /* secondaries: the serial of the last tracked submission that ran it
    * (pvk_cb_mark_secondaries); primaries: the highest of those of the
    * secondaries without SIMULTANEOUS_USE it executes, as of its last
    * pvk_cb_submit_ok (pvk_lifetime_command_buffer_idle waits for it) */
   uint64_t run_serial;
   /* dynamic rendering: the formats of the open vkCmdBeginRendering
    * instance's attachments (UNDEFINED: no view), or, with
    * inherits_formats, what a continuing secondary inherits
    * (VkCommandBufferInheritanceRenderingInfo) */
   bool inherits_formats;
   VkFormat color_formats[PVK_MAX_RENDER_FORMATS];
   VkFormat depth_format, stencil_format;
   /* --- direct draws (pvk_validate_vertex.c): a draw passes when
    * firstVertex + vertexCount < vertex_end, firstInstance + instanceCount
    * < instance_end and the object table's removals are still
    * draw_removals; any change that may matter sets the ends to 0, so the
    * next draw recomputes them (pvk_draw_slow) --- */
   uint64_t vertex_end;   /* vertices every used binding holds, + 1; 0: recompute */
   uint64_t instance_end; /* instances (divisor 1), + 1 */
   uint64_t draw_removals;
   const struct pvk_pipeline_state *pipeline; /* the graphics pipeline bound */
   uint64_t pipeline_id, pipeline_gen;
   uint32_t buffer_mask; /* bindings with a vertex buffer bound */
   bool input_set;       /* vkCmdSetVertexInputEXT recorded */
   uint32_t input_count;
   struct pvk_vertex_buffer buffers[PVK_MAX_VERTEX_BINDINGS];
   struct pvk_vertex_use input[PVK_MAX_VERTEX_BINDINGS]; /* vkCmdSetVertexInputEXT's */
};

/* obj->data of a VkPipeline: its kind and, for graphics pipelines, the
 * vertex input the draws need (pvk_validate_vertex.c). */
struct pvk_pipeline_state {
   VkPipelineBindPoint kind;
   bool dynamic_input;  /* VK_DYNAMIC_STATE_VERTEX_INPUT_EXT */
   bool dynamic_stride; /* VK_DYNAMIC_STATE_VERTEX_INPUT_BINDING_STRIDE */
   bool unchecked;      /* a binding past PVK_MAX_VERTEX_BINDINGS */
   uint32_t use_count;
   struct pvk_vertex_use uses[];
};

/* The bind point a pipeline was created for (VK_PIPELINE_BIND_POINT_MAX_ENUM:
 * not recorded). */
VkPipelineBindPoint pvk_pipeline_kind(const struct vn_object *pipeline);
/* The state of every compute pipeline (a constant). */
const struct pvk_pipeline_state *pvk_pipeline_compute_state(void);
/* Frees obj->data of a VkPipeline. */
void pvk_pipeline_state_free(void *data);
struct pvk_device;
/* vkCreateGraphicsPipelines: the vertex input of `info` checked against
 * the device's limits (bindings and locations inside them, each described
 * once, attributes of described bindings, formats of known size) and
 * recorded in *out (NULL on refusal or out of memory: context lost). NULL
 * or why the create info is refused. */
const char *pvk_pipeline_vertex_state(struct pvk_context *ctx, const struct pvk_device *dev,
                                      const VkGraphicsPipelineCreateInfo *info,
                                      struct pvk_pipeline_state **out);
/* Bytes one vertex attribute of format f fetches (0: not in the table). */
uint32_t pvk_vertex_format_bytes(VkFormat f);

/* The texel block a buffer <-> image copy of `aspect` of an image of
 * format `f` moves: bytes and block extent (a plane of a multi-planar
 * format: that plane's). False for formats outside the renderer's tables
 * and for an aspect the format has no texels of; such copies are refused. */
bool pvk_copy_block(VkFormat f, VkImageAspectFlags aspect, uint32_t *bytes, uint32_t *bw,
                    uint32_t *bh);

/* --- direct draws (pvk_validate_vertex.c) ---
 * Recording: what the next draw depends on changed (render pass instance
 * begun or ended), a graphics pipeline (the decoder's object) or a vertex
 * buffer bound (NULL buffer: a null one; `stride` from
 * vkCmdBindVertexBuffers2, NULL: none), vkCmdExecuteCommands left the
 * primary's bindings undefined. */
void pvk_draw_state_changed(struct vn_object *cb);
void pvk_draw_bind_pipeline(struct vn_object *cb, const struct vn_object *pipeline);
void pvk_draw_bind_vertex_buffer(struct vn_object *cb, uint32_t binding,
                                 const struct vn_object *buffer, uint64_t bytes,
                                 const VkDeviceSize *stride);
void pvk_draw_forget_bindings(struct vn_object *cb);

/* A direct draw: inside a render pass instance, a graphics pipeline bound
 * and alive, every binding it reads bound to a live buffer, and, unless
 * the guest enabled robustBufferAccess, vertices (not for indexed draws:
 * the index values are read by the device) and instances inside those
 * buffers. False: rejected, naming cmd. */
bool pvk_draw_slow(struct pvk_context *ctx, struct vn_object *cb, const char *cmd,
                   uint32_t first_vertex, uint32_t vertex_count, uint32_t first_instance,
                   uint32_t instance_count, bool indexed);

static inline bool
pvk_draw_ok(struct vn_dispatch_context *dctx, struct pvk_context *ctx, struct vn_object *cb,
            const char *cmd, uint32_t first_vertex, uint32_t vertex_count, uint32_t first_instance,
            uint32_t instance_count, bool indexed)
{
   const struct pvk_command_buffer_state *st = cb->data;
   if (st && (uint64_t)first_vertex + vertex_count < st->vertex_end &&
       (uint64_t)first_instance + instance_count < st->instance_end &&
       st->draw_removals == ((const struct vn_object_table_head *)dctx->objects)->removals)
      return true;
   return pvk_draw_slow(ctx, cb, cmd, first_vertex, vertex_count, first_instance, instance_count,
                        indexed);
}

/* obj->data of a VkRenderPass */
struct pvk_render_pass_state {
   uint32_t subpass_count;
   uint32_t attachment_count;
   uint32_t clear_count; /* clear values needed: last cleared attachment + 1 */
   uint32_t view_layers; /* multiview: highest view index + 1; 0 without */
   /* per attachment: 1 where a subpass renders to or reads it as a colour,
    * resolve, depth/stencil or input attachment (it must cover the
    * framebuffer); 0 for attachments used only otherwise (shading rate) */
   uint8_t *sized;
   uint32_t colors[]; /* colour attachments of each subpass */
};

/* obj->data of a VkFramebuffer */
struct pvk_framebuffer_state {
   uint32_t attachment_count;
   bool imageless;
   uint32_t width, height, layers;
   /* its views and their images, for the command buffers that use it
    * (pvk_validate_cmdbuf.c) */
   uint32_t use_count;
   struct pvk_cb_use *uses;
};

/* obj->data of a VkDescriptorPool: how to create it again. A reset while
 * submissions are pending swaps in a fresh host pool and defers the old
 * one (pvk_lifetime.c). */
struct pvk_descriptor_pool_state {
   VkDescriptorPoolCreateFlags flags;
   uint32_t max_sets;
   bool recreatable; /* its create info is all recorded here */
   bool has_inline;  /* VkDescriptorPoolInlineUniformBlockCreateInfo */
   uint32_t inline_bindings;
   uint32_t size_count;
   VkDescriptorPoolSize sizes[];
};

/* Entry points past Vulkan 1.0 may be missing on the host (older device
 * version, extension not enabled): the call then fails the context, as
 * the generated executors do, instead of calling NULL. */
#define PVK_HOST_HAS(ctx, dispatch_obj, fn) \
   ((dispatch_obj)->device->dispatch.fn     \
       ? true                               \
       : (pvk_context_set_lost((ctx), #fn ": not supported by the host"), false))

/* A depth or depth/stencil format. */
bool pvk_format_has_depth(VkFormat f);

/* Marks the context lost with "firewall: <rule>: <details>" (printf
 * format), logged once. */
void pvk_reject(struct pvk_context *ctx, const char *fmt, ...)
   __attribute__((format(printf, 2, 3)));

/* The guest id of a host handle of `type`, 0 if unknown (for log lines). */
uint64_t pvk_guest_id(struct pvk_context *ctx, VkObjectType type, uint64_t handle);

/* vkBeginCommandBuffer (an implicit reset): nothing begun, bound or
 * active, no use recorded; a secondary begun with RENDER_PASS_CONTINUE is
 * inside a render pass instance. False (rejected): a secondary's
 * inheritance info is missing or names a subpass the render pass lacks
 * (pvk_level_begin_ok). */
bool pvk_validate_command_buffer_begin(struct pvk_context *ctx, struct vn_object *cb,
                                       const VkCommandBufferBeginInfo *info);

/* --- command buffer levels (pvk_validate_level.c); the level is recorded
 * by vkAllocateCommandBuffers (pvk_command_buffer_state.secondary) --- */

/* A secondary's begin info: inheritance info present
 * (VUID-vkBeginCommandBuffer-commandBuffer-00051); with RENDER_PASS_CONTINUE
 * a subpass of the render pass (VUID-VkCommandBufferBeginInfo-flags-06001)
 * or VkCommandBufferInheritanceRenderingInfo (-flags-06002) with at most
 * maxColorAttachments colours. On true, *continues and *colors: whether it
 * continues a render pass instance and its colour attachment count.
 * Primaries ignore both (their begin info's inheritance is not read). */
bool pvk_level_begin_ok(struct pvk_context *ctx, struct vn_object *cb,
                        const VkCommandBufferBeginInfo *info, bool *continues, uint32_t *colors);
/* After the begin of a continuing secondary (st freshly reset): the
 * attachment formats of its VkCommandBufferInheritanceRenderingInfo, if it
 * inherits a dynamic rendering, compared at vkCmdExecuteCommands. */
void pvk_level_inherit_formats(struct pvk_command_buffer_state *st,
                               const VkCommandBufferBeginInfo *info);

/* --- recorded uses (pvk_validate_cmdbuf.c) ---
 * A command buffer is invalid once an object it recorded is destroyed, or
 * a buffer's or image's memory freed (VUID-vkQueueSubmit-pCommandBuffers-
 * 00070/00072, VUID-vkCmdExecuteCommands-pCommandBuffers-00089): the
 * driver would read the freed object when it runs. Commands that name a
 * buffer, image, view, descriptor set, pipeline, render pass or
 * framebuffer record it in their command buffer, once per recording. */
void pvk_cb_use_slow(struct pvk_context *ctx, struct vn_object *cb, struct vn_object *obj);

/* Records that cb's recording uses obj (NULL: nothing). One compare when
 * this recording listed obj already. */
static inline void
pvk_cb_use(struct pvk_context *ctx, struct vn_object *cb, struct vn_object *obj)
{
   if (!cb || !obj || cb->type != VK_OBJECT_TYPE_COMMAND_BUFFER)
      return;
   const struct pvk_command_buffer_state *st = cb->data;
   if (!st || !st->recording || obj->seen != st->recording)
      pvk_cb_use_slow(ctx, cb, obj);
}

/* The same for a host handle of `type` (one lookup; 0: nothing). */
void pvk_cb_use_handle(struct pvk_context *ctx, struct vn_object *cb, VkObjectType type,
                       uint64_t handle);

/* Uses by vkCmdBeginRenderPass(2) (the framebuffer, an imageless one's
 * views), vkCmdBeginRendering (attachment and resolve views) and
 * vkCmdPushDescriptorSet (the buffers and views written; its samplers
 * are recorded by its handler, which knows the layout's immutable ones). */
void pvk_cb_use_render_pass(struct pvk_context *ctx, struct vn_object *cb,
                            const VkRenderPassBeginInfo *begin);
void pvk_cb_use_rendering(struct pvk_context *ctx, struct vn_object *cb,
                          const VkRenderingInfo *info);
void pvk_cb_use_writes(struct pvk_context *ctx, struct vn_object *cb, uint32_t count,
                       const VkWriteDescriptorSet *writes);

/* A stamp for one vkQueueSubmit(2) call, taken before its command
 * buffers are checked (a number the table never handed out). */
uint64_t pvk_cb_submit_call(struct pvk_context *ctx);
/* Before a submission runs command buffer `cb`: false (context lost,
 * naming cmd) when an object it recorded is gone. With no removal since
 * its uses were last seen alive, no lookup at all. Also false when `cb`,
 * or a secondary it executes, was begun without SIMULTANEOUS_USE and runs
 * a second time in the same call `call` (VUID-vkQueueSubmit-pCommandBuffers-00071/00073,
 * VUID-vkQueueSubmit2-commandBuffer-03875/03877): one compare per command
 * buffer, plus one lookup per secondary execution recorded. */
bool pvk_cb_submit_ok(struct pvk_context *ctx, const char *cmd, struct vn_object *cb,
                      uint64_t call);
/* The object of command buffer `handle` (NULL: none), for the submission
 * checks above and in pvk_lifetime.h. */
struct vn_object *pvk_cb_find(struct pvk_context *ctx, VkCommandBuffer handle);

/* After the tracked submission `serial` of primary `cb`: the secondaries
 * without SIMULTANEOUS_USE it executes ran in it (their run_serial). */
void pvk_cb_mark_secondaries(struct pvk_context *ctx, struct vn_object *cb, uint64_t serial);

/* vkCmdExecuteCommands of `secondary` into `primary`: checked like a
 * submission, then the primary takes over its uses and records that it
 * runs it (re-recording or resetting the secondary invalidates it). A
 * secondary without SIMULTANEOUS_USE executed again by the primary it
 * was executed by last is refused (VUID-vkCmdExecuteCommands-pCommandBuffers-00092/00093);
 * interleaved recordings that escape this are refused at submission. */
bool pvk_cb_execute_ok(struct pvk_context *ctx, struct vn_object *primary,
                       struct vn_object *secondary);

/* vkResetCommandBuffer / vkResetCommandPool of a command buffer recorded
 * into a primary: the primary's use of it no longer holds. */
void pvk_cb_reset(struct pvk_context *ctx, struct vn_object *cb);
/* The same for every command buffer of `pool`. */
void pvk_cb_pool_reset(struct pvk_context *ctx, struct vn_object *pool);

/* Frees a command buffer's state (obj->data). */
void pvk_cb_state_free(void *data);

/* A new buffer or image view (obj) of host buffer or image `parent`: a
 * command buffer that uses the view uses the parent too. Returns its
 * state (obj->data), NULL when the parent has none or out of memory. */
struct pvk_view_state *pvk_view_record_parent(struct pvk_context *ctx, struct vn_object *obj,
                                              uint64_t parent);

/* The state of image view `view` (host handle), NULL when it has none. */
const struct pvk_view_state *pvk_image_view_state(struct pvk_context *ctx, uint64_t view);

/* vkCreateFramebuffer: the uses its views bring (fb->uses); false
 * (context lost) when out of memory. */
bool pvk_framebuffer_record_uses(struct pvk_context *ctx, struct pvk_framebuffer_state *fb,
                                 const VkFramebufferCreateInfo *info);

/* The recording state of command buffer `cb`, allocated on first use;
 * NULL (context lost) when out of memory. */
struct pvk_command_buffer_state *pvk_cb_state(struct pvk_context *ctx, struct vn_object *cb);

/* A render pass instance begins (vkCmdBeginRenderPass(2), `subpasses` > 0)
 * or dynamic rendering does (`subpasses` 0): refused inside another one
 * (VUID-vkCmdBeginRenderPass-renderpass, VUID-vkCmdBeginRendering-renderpass).
 * On true the caller records the command. */
bool pvk_recording_begin(struct pvk_context *ctx, struct vn_object *cb, const char *cmd,
                         uint32_t subpasses);

/* The open render pass instance's pass (vkCmdBeginRenderPass(2)) or
 * colour attachment count (vkCmdBeginRendering), its render area and the
 * layers it renders (1 with multiview), for vkCmdClearAttachments. */
void pvk_recording_set_pass(struct vn_object *cb, uint64_t render_pass, uint32_t colors,
                            const VkRect2D *area, uint32_t layers);

/* A draw (graphics) or dispatch (compute) needs a pipeline of that bind
 * point bound (VUID-vkCmdDraw-None-08606 and the like). */
bool pvk_recording_pipeline_bound(struct pvk_context *ctx, struct vn_object *cb, const char *cmd,
                                  VkPipelineBindPoint point);

/* After a vkCmdBindIndexBuffer(2) the firewall accepted: `bytes` past the
 * offset (UINT64_MAX for a null buffer) hold indices of `type`. */
void pvk_recording_bind_index(struct pvk_context *ctx, struct vn_object *cb, VkIndexType type,
                              uint64_t bytes);

/* An indexed draw needs an index buffer bound (VUID-vkCmdDrawIndexed-None-07312
 * and the like) and, unless the guest enabled robustBufferAccess2, indices
 * [first, first + count) inside it (VUID-vkCmdDrawIndexed-robustBufferAccess2-08798;
 * indirect draws pass 0, 0: their counts are read at execution). */
bool pvk_recording_indices_ok(struct pvk_context *ctx, struct vn_object *cb, const char *cmd,
                              uint64_t first, uint64_t count);

/* vkCmdExecuteCommands of `count` command buffers into cb: none may be cb
 * nor one that executes others (VUID-vkCmdExecuteCommands-bufferlevel,
 * -pCommandBuffers-00088: only primaries execute, only secondaries are
 * executed; without levels recorded this refuses what a cycle needs). On
 * true cb counts as executing others. */
bool pvk_recording_execute_ok(struct pvk_context *ctx, struct vn_object *cb, uint32_t count,
                              const VkCommandBuffer *cbs);

/* SPIR-V modules (pvk_validate_spirv.c): the validator's options a
 * device's enabled features allow (block layouts, LocalSizeId), recorded
 * in pvk_device.spirv_features at vkCreateDevice. */
uint32_t pvk_spirv_features(const VkDeviceCreateInfo *info);

/* Whether the module of `info` is valid SPIR-V for dev (codeSize, magic,
 * SPIRV-Tools' validator for the device's Vulkan version and features);
 * false: refused with pvk_reject naming cmd and the guest id. */
struct pvk_device;
bool pvk_spirv_ok(struct pvk_context *ctx, const struct pvk_device *dev, const char *cmd,
                  uint64_t guest_id, const VkShaderModuleCreateInfo *info);

/* Frees what the firewall recorded in obj->data (buffers, images, set
 * and pipeline layouts, descriptor sets); other kinds are left alone. */
void pvk_validate_free_state(struct vn_object *obj);

/* Removes an object from the table after freeing its recorded state. */
void pvk_object_forget(struct pvk_context *ctx, struct vn_object *obj);

/* Recording at creation (called by the create handlers in pvk_memory.c). */
void pvk_validate_record_buffer(struct pvk_context *ctx, struct vn_object *obj,
                                const VkBufferCreateInfo *info);
void pvk_validate_record_image(struct pvk_context *ctx, struct vn_object *obj,
                               const VkImageCreateInfo *info);

/* After a successful vkBind*Memory* of `handle` to host memory `memory`:
 * commands may use the object. `plane`: the plane of a DISJOINT image
 * bound (VkBindImagePlaneMemoryInfo), ignored for other objects; such an
 * image is usable once all its planes are bound. */
void pvk_validate_mark_bound(struct pvk_context *ctx, VkObjectType type, uint64_t handle,
                             uint64_t memory, uint32_t plane);

/* Planes of format f: 2 or 3 for the multi-planar YCbCr formats, else 1. */
uint32_t pvk_format_planes(VkFormat f);

/* vkFreeMemory of host memory `memory`: the buffers and images bound to it
 * count as unbound again (commands recorded afterwards must not use them). */
void pvk_validate_memory_freed(struct pvk_context *ctx, uint64_t memory);

void pvk_set_layout_unref(struct pvk_set_layout_state *l);

/* --- descriptors naming destroyed objects (pvk_validate_descriptor_refs.c) ---
 * A descriptor set keeps naming what was written into it; the driver reads
 * every descriptor of a bound set (lavapipe 22.3), used or not, and Vulkan
 * lets a set keep a destroyed object in a binding no pipeline uses. So
 * before an object that descriptors name goes away on the host, each
 * descriptor naming it is rewritten to a null descriptor (nullDescriptor,
 * pvk_device.null_descriptor) or, where none can stand in, marked stale:
 * binding such a set fails the context, and so does submitting a command
 * buffer that bound it before (its gen changes). */

/* Slots per descriptor of `type` in a set's record: 2 for combined image
 * samplers and mutable descriptors, 0 for those naming no object. */
uint32_t pvk_descriptor_parts(VkDescriptorType type);

/* After the checks of vkUpdateDescriptorSets passed, before the driver
 * writes: records what each write and copy names. False (context lost) on
 * a view of a destroyed buffer or image or freed memory, or out of memory. */
bool pvk_descriptor_refs_update(struct pvk_context *ctx, uint32_t write_count,
                                const VkWriteDescriptorSet *writes, uint32_t copy_count,
                                const VkCopyDescriptorSet *copies);

/* obj (a buffer, image, buffer or image view, sampler; else nothing) goes
 * away on the host, or (buffers, images) its memory does: every descriptor
 * naming it, directly or through a view, is rewritten or marked stale. */
void pvk_descriptor_refs_drop(struct pvk_context *ctx, struct vn_object *obj);

/* The state of a sampler (allocated on first use; NULL, context lost,
 * when out of memory). */
struct pvk_sampler_state *pvk_sampler_state(struct pvk_context *ctx, struct vn_object *sampler);

/* Frees a reference list (not the struct). */
void pvk_desc_refs_free(struct pvk_desc_refs *refs);

/* The sampler the renderer writes where a set needs one and has none of
 * the guest's (made on first use, destroyed with the device). */
struct pvk_device;
VkSampler pvk_fill_sampler(struct pvk_device *dev);
/* Frees a descriptor set's state (obj->data of a VkDescriptorSet). */
void pvk_set_state_free(void *data);
void pvk_pipeline_layout_state_free(struct pvk_pipeline_layout_state *p);

/* Checks descriptor writes against their sets' layouts (and buffer
 * descriptors against buffer sizes); false (context lost) on a violation. */
bool pvk_validate_descriptor_writes(struct pvk_context *ctx, const char *cmd, uint32_t count,
                                    const VkWriteDescriptorSet *writes);

/* A sample count the host device can have anywhere: one VkSampleCountFlagBits
 * bit among its framebuffer, sampled and storage image sample counts
 * (VUID-VkImageCreateInfo-samples-parameter and the like). Drivers size
 * and index per-sample state with it (lavapipe crashed in
 * vkCreateGraphicsPipelines on rasterizationSamples 0x80000001: the replay
 * fuzzer, seed 15000). */
struct pvk_physical_device;
bool pvk_sample_count_ok(const struct pvk_physical_device *pd, VkSampleCountFlags samples);

#endif
