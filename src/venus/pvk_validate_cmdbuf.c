/*
 * Firewall rule: a command buffer runs only while every object it recorded
 * is alive and still bound to the memory it had (pvk_validate.h, "recorded
 * uses"). Drivers keep pointers to what a command names: lavapipe's queue
 * thread reads a buffer, image or view freed between recording and
 * submission (fuzz/known-crashes/freed-memory-recorded-image.pvcap).
 *
 * Recording: a command naming an object appends {id, gen, type} to its
 * command buffer's list unless obj->seen says this recording listed it
 * already, so each object costs one compare after its first use.
 *
 * Submission: vn_object_table_removals() counts every removal, retirement
 * (deferred destroy) and renewal (memory freed under a bound buffer or
 * image) of the kinds recorded. Unchanged since the command buffer's uses
 * were last alive, nothing can be gone: no lookup. Otherwise each use is
 * looked up by id and its gen compared (a retired or re-created object
 * fails), and on success the count is remembered for the next submission.
 */
#include <stdlib.h>
#include <string.h>

#include "venus/pvk_context.h"
#include "venus/pvk_validate.h"
#include "venus/vn_object.h"

static const char *
kind_name(VkObjectType type)
{
   switch (type) {
   case VK_OBJECT_TYPE_BUFFER:
      return "buffer";
   case VK_OBJECT_TYPE_IMAGE:
      return "image";
   case VK_OBJECT_TYPE_BUFFER_VIEW:
      return "buffer view";
   case VK_OBJECT_TYPE_IMAGE_VIEW:
      return "image view";
   case VK_OBJECT_TYPE_DESCRIPTOR_SET:
      return "descriptor set";
   case VK_OBJECT_TYPE_FRAMEBUFFER:
      return "framebuffer";
   case VK_OBJECT_TYPE_COMMAND_BUFFER:
      return "secondary command buffer";
   case VK_OBJECT_TYPE_PIPELINE:
      return "pipeline";
   case VK_OBJECT_TYPE_RENDER_PASS:
      return "render pass";
   case VK_OBJECT_TYPE_QUERY_POOL:
      return "query pool";
   case VK_OBJECT_TYPE_EVENT:
      return "event";
   case VK_OBJECT_TYPE_SAMPLER:
      return "sampler";
   default:
      return "object";
   }
}

void
pvk_cb_state_free(void *data)
{
   struct pvk_command_buffer_state *st = data;
   if (st) {
      free(st->uses);
      free(st->secondaries);
   }
   free(st);
}

bool
pvk_validate_command_buffer_begin(struct pvk_context *ctx, struct vn_object *cb,
                                  const VkCommandBufferBeginInfo *info)
{
   bool continues = false;
   uint32_t colors = 0;
   if (!pvk_level_begin_ok(ctx, cb, info, &continues, &colors))
      return false;
   /* every command buffer has its state from vkAllocateCommandBuffers */
   struct pvk_command_buffer_state *st = pvk_cb_state(ctx, cb);
   if (!st)
      return false;
   pvk_cb_reset(ctx, cb);
   /* the use array and the level are kept for the next recording */
   const struct pvk_command_buffer_state kept = *st;
   memset(st, 0, sizeof(*st));
   st->uses = kept.uses;
   st->use_capacity = kept.use_capacity;
   st->secondaries = kept.secondaries;
   st->secondary_capacity = kept.secondary_capacity;
   st->secondary = kept.secondary;
   st->continues_pass = continues;
   st->colors = colors;
   if (continues)
      pvk_level_inherit_formats(st, info);
   st->simultaneous = info && (info->flags & VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT) != 0;
   /* nothing bound yet: all of it alive at this count (pvk_validate_vertex.c) */
   st->draw_removals = vn_object_table_removals(ctx->dispatch.objects);
   return true;
}

/* Appends u to the array *list of *count elements (room for *capacity). */
static bool
append_to(struct pvk_context *ctx, struct pvk_cb_use **list, uint32_t *count, uint32_t *capacity,
          struct pvk_cb_use u)
{
   if (*count == *capacity) {
      const uint32_t cap = *capacity ? *capacity * 2 : 16;
      struct pvk_cb_use *n = cap > *capacity ? realloc(*list, cap * sizeof(*n)) : NULL;
      if (!n) {
         pvk_context_set_lost(ctx, "command buffer uses: out of host memory");
         return false;
      }
      *list = n;
      *capacity = cap;
   }
   (*list)[(*count)++] = u;
   return true;
}

static bool
append(struct pvk_context *ctx, struct pvk_command_buffer_state *st, struct pvk_cb_use u)
{
   return append_to(ctx, &st->uses, &st->use_count, &st->use_capacity, u);
}

/* The recording's first use: from here on its uses were alive at the
 * current removal count. */
static struct pvk_command_buffer_state *
recording_of(struct pvk_context *ctx, struct vn_object *cb)
{
   struct pvk_command_buffer_state *st = pvk_cb_state(ctx, cb);
   if (st && !st->recording) {
      st->recording = vn_object_table_serial(ctx->dispatch.objects);
      st->removals = vn_object_table_removals(ctx->dispatch.objects);
   }
   return st;
}

/* What a use of obj brings along: a view's buffer or image, a
 * framebuffer's views and their images. */
static bool
append_implied(struct pvk_context *ctx, struct pvk_command_buffer_state *st,
               const struct vn_object *obj)
{
   if ((obj->type == VK_OBJECT_TYPE_IMAGE_VIEW || obj->type == VK_OBJECT_TYPE_BUFFER_VIEW) &&
       obj->data)
      return append(ctx, st, ((const struct pvk_view_state *)obj->data)->parent);
   if (obj->type == VK_OBJECT_TYPE_FRAMEBUFFER && obj->data) {
      const struct pvk_framebuffer_state *fb = obj->data;
      for (uint32_t i = 0; i < fb->use_count; i++) {
         if (!append(ctx, st, fb->uses[i]))
            return false;
      }
   }
   return true;
}

void
pvk_cb_use_slow(struct pvk_context *ctx, struct vn_object *cb, struct vn_object *obj)
{
   struct pvk_command_buffer_state *st = recording_of(ctx, cb);
   if (!st || obj->seen == st->recording)
      return;
   if (append(ctx, st, (struct pvk_cb_use){ obj->id, obj->gen, obj->type }) &&
       append_implied(ctx, st, obj))
      obj->seen = st->recording;
}

struct pvk_view_state *
pvk_view_record_parent(struct pvk_context *ctx, struct vn_object *obj, uint64_t parent)
{
   const VkObjectType type =
      obj->type == VK_OBJECT_TYPE_IMAGE_VIEW ? VK_OBJECT_TYPE_IMAGE : VK_OBJECT_TYPE_BUFFER;
   const struct vn_object *p =
      parent ? vn_object_table_find_handle(ctx->dispatch.objects, type, parent) : NULL;
   if (!p)
      return NULL;
   struct pvk_view_state *v = calloc(1, sizeof(*v));
   if (!v) {
      pvk_context_set_lost(ctx, "view: out of host memory for its state");
      return NULL;
   }
   v->parent = (struct pvk_cb_use){ p->id, p->gen, p->type };
   obj->data = v;
   return v;
}

const struct pvk_view_state *
pvk_image_view_state(struct pvk_context *ctx, uint64_t view)
{
   const struct vn_object *v =
      view ? vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_IMAGE_VIEW, view)
           : NULL;
   return v ? v->data : NULL;
}

bool
pvk_framebuffer_record_uses(struct pvk_context *ctx, struct pvk_framebuffer_state *fb,
                            const VkFramebufferCreateInfo *info)
{
   if (!info->pAttachments || !info->attachmentCount)
      return true;
   fb->uses = calloc((size_t)info->attachmentCount * 2, sizeof(*fb->uses));
   if (!fb->uses) {
      pvk_context_set_lost(ctx, "vkCreateFramebuffer: out of host memory");
      return false;
   }
   for (uint32_t i = 0; i < info->attachmentCount; i++) {
      const struct vn_object *v =
         info->pAttachments[i]
            ? vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_IMAGE_VIEW,
                                          (uint64_t)(uintptr_t)info->pAttachments[i])
            : NULL;
      if (!v)
         continue;
      fb->uses[fb->use_count++] = (struct pvk_cb_use){ v->id, v->gen, v->type };
      if (v->data)
         fb->uses[fb->use_count++] = ((const struct pvk_view_state *)v->data)->parent;
   }
   return true;
}

void
pvk_cb_use_handle(struct pvk_context *ctx, struct vn_object *cb, VkObjectType type, uint64_t handle)
{
   if (handle)
      pvk_cb_use(ctx, cb, vn_object_table_find_handle(ctx->dispatch.objects, type, handle));
}

/* The first use of cb that is gone, NULL when all are alive. */
static const struct pvk_cb_use *
first_gone(struct pvk_context *ctx, struct vn_object *cb)
{
   struct pvk_command_buffer_state *st = cb->data;
   if (!st || !st->use_count)
      return NULL;
   const uint64_t now = vn_object_table_removals(ctx->dispatch.objects);
   if (now == st->removals)
      return NULL;
   for (uint32_t i = 0; i < st->use_count; i++) {
      const struct pvk_cb_use *u = &st->uses[i];
      const struct vn_object *o = vn_object_table_lookup(ctx->dispatch.objects, u->id, u->type);
      if (!o || o->gen != u->gen)
         return u;
   }
   st->removals = now;
   return NULL;
}

static bool
alive_or_reject(struct pvk_context *ctx, const char *cmd, struct vn_object *cb, const char *vuid)
{
   const struct pvk_cb_use *u = first_gone(ctx, cb);
   if (!u)
      return true;
   pvk_reject(ctx,
              "cmdbuf: %s: command buffer %llu uses %s %llu, destroyed, reset or its memory freed "
              "since it was recorded (%s)",
              cmd, (unsigned long long)cb->id, kind_name(u->type), (unsigned long long)u->id, vuid);
   return false;
}

struct vn_object *
pvk_cb_find(struct pvk_context *ctx, VkCommandBuffer handle)
{
   /* the decoder's last hit is often this command buffer */
   struct vn_object *cb = ((const struct vn_object_table_head *)ctx->dispatch.objects)->last;
   if (cb && cb->type == VK_OBJECT_TYPE_COMMAND_BUFFER && cb->handle == (uint64_t)(uintptr_t)handle)
      return cb;
   return handle ? vn_object_table_find_handle(ctx->dispatch.objects, VK_OBJECT_TYPE_COMMAND_BUFFER,
                                               (uint64_t)(uintptr_t)handle)
                 : NULL;
}

uint64_t
pvk_cb_submit_call(struct pvk_context *ctx)
{
   return vn_object_table_serial(ctx->dispatch.objects);
}

/* The state of the secondary a primary's `secondaries` entry names, NULL
 * when it is gone. */
static struct pvk_command_buffer_state *
secondary_state(struct pvk_context *ctx, const struct pvk_cb_use *u)
{
   struct vn_object *s = vn_object_table_lookup(ctx->dispatch.objects, u->id, u->type);
   return s && s->gen == u->gen ? s->data : NULL;
}

/* VUID-vkQueueSubmit-pCommandBuffers-00071/00073 (vkQueueSubmit2:
 * commandBuffer-03875/03877) within one call: the earlier run of the same
 * call is pending when the later one is submitted. Each command buffer
 * carries the stamp of the last call that runs it, so a call of n command
 * buffers costs n compares (and a lookup per recorded secondary
 * execution), never n^2. Called once every use of `cb` is known alive. */
static bool
once_per_call(struct pvk_context *ctx, const char *cmd, struct vn_object *cb,
              struct pvk_command_buffer_state *st, uint64_t call)
{
   const bool v2 = strcmp(cmd, "vkQueueSubmit2") == 0;
   if (!st->simultaneous) {
      if (st->submit_call == call) {
         pvk_reject(ctx,
                    "lifetime: %s: command buffer %llu, begun without SIMULTANEOUS_USE, "
                    "submitted twice in the call (%s)",
                    cmd, (unsigned long long)cb->id,
                    v2 ? "VUID-vkQueueSubmit2-commandBuffer-03875"
                       : "VUID-vkQueueSubmit-pCommandBuffers-00071");
         return false;
      }
      st->submit_call = call;
   }
   st->run_serial = 0;
   for (uint32_t i = 0; i < st->secondary_count; i++) {
      struct pvk_command_buffer_state *ss = secondary_state(ctx, &st->secondaries[i]);
      const struct pvk_cb_use *u = &st->secondaries[i];
      if (!ss)
         continue; /* not reached: the uses of cb were checked alive */
      if (ss->submit_call == call) {
         pvk_reject(ctx,
                    "lifetime: %s: secondary command buffer %llu, begun without "
                    "SIMULTANEOUS_USE, runs twice in the call (the second time in command "
                    "buffer %llu) (%s)",
                    cmd, (unsigned long long)u->id, (unsigned long long)cb->id,
                    v2 ? "VUID-vkQueueSubmit2-commandBuffer-03877"
                       : "VUID-vkQueueSubmit-pCommandBuffers-00073");
         return false;
      }
      ss->submit_call = call;
      /* an earlier call's run of it may be pending: wait for it too */
      if (ss->run_serial > st->run_serial)
         st->run_serial = ss->run_serial;
   }
   return true;
}

void
pvk_cb_mark_secondaries(struct pvk_context *ctx, struct vn_object *cb, uint64_t serial)
{
   struct pvk_command_buffer_state *st = cb->data;
   for (uint32_t i = 0; st && i < st->secondary_count; i++) {
      struct pvk_command_buffer_state *ss = secondary_state(ctx, &st->secondaries[i]);
      if (ss)
         ss->run_serial = serial;
   }
}

bool
pvk_cb_submit_ok(struct pvk_context *ctx, const char *cmd, struct vn_object *cb, uint64_t call)
{
   struct pvk_command_buffer_state *st = cb ? cb->data : NULL;
   if (st && st->secondary) {
      pvk_reject(ctx,
                 "level: %s: command buffer %llu is a secondary command buffer "
                 "(VUID-VkSubmitInfo-pCommandBuffers-00075)",
                 cmd, (unsigned long long)cb->id);
      return false;
   }
   if (!cb)
      return true;
   if (!alive_or_reject(ctx, cmd, cb, "VUID-vkQueueSubmit-pCommandBuffers-00070"))
      return false;
   return !st || once_per_call(ctx, cmd, cb, st, call);
}

/* The primary p (its state pst) runs the secondary s (sst) once more:
 * without SIMULTANEOUS_USE, not again in the same recording
 * (VUID-vkCmdExecuteCommands-pCommandBuffers-00092/00093: executed_by
 * names the primary's recording that executed it last; recordings of two
 * primaries interleaved escape this, and are caught at submission), and
 * listed for the per-submission check (pvk_cb_submit_ok), with the
 * secondaries s executes itself. */
static bool
executes_ok(struct pvk_context *ctx, struct vn_object *p, struct pvk_command_buffer_state *pst,
            struct vn_object *s, struct pvk_command_buffer_state *sst)
{
   if (!sst->simultaneous) {
      if (sst->executed_by == pst->recording) {
         pvk_reject(ctx,
                    "lifetime: vkCmdExecuteCommands: secondary command buffer %llu, begun "
                    "without SIMULTANEOUS_USE, executed twice by command buffer %llu "
                    "(VUID-vkCmdExecuteCommands-pCommandBuffers-00092/00093)",
                    (unsigned long long)s->id, (unsigned long long)p->id);
         return false;
      }
      sst->executed_by = pst->recording;
      if (!append_to(ctx, &pst->secondaries, &pst->secondary_count, &pst->secondary_capacity,
                     (struct pvk_cb_use){ s->id, s->gen, s->type }))
         return false;
   }
   for (uint32_t i = 0; i < sst->secondary_count; i++) {
      if (!append_to(ctx, &pst->secondaries, &pst->secondary_count, &pst->secondary_capacity,
                     sst->secondaries[i]))
         return false;
   }
   return true;
}

bool
pvk_cb_execute_ok(struct pvk_context *ctx, struct vn_object *primary, struct vn_object *secondary)
{
   if (!alive_or_reject(ctx, "vkCmdExecuteCommands", secondary,
                        "VUID-vkCmdExecuteCommands-pCommandBuffers-00089"))
      return false;
   /* the secondary's uses are alive now, so they may join the primary's,
    * whose removal count is at most now */
   pvk_cb_use(ctx, primary, secondary);
   struct pvk_command_buffer_state *p = primary->data;
   const struct pvk_command_buffer_state *s = secondary->data;
   if (!p || p->recording == 0)
      return false; /* out of memory: context lost */
   if (s && s != p) {
      for (uint32_t i = 0; i < s->use_count; i++) {
         if (!append(ctx, p, s->uses[i]))
            return false;
      }
   }
   struct pvk_command_buffer_state *sw = pvk_cb_state(ctx, secondary);
   if (!sw)
      return false;
   sw->executed = true;
   return sw == p || executes_ok(ctx, primary, p, secondary, sw);
}

void
pvk_cb_reset(struct pvk_context *ctx, struct vn_object *cb)
{
   struct pvk_command_buffer_state *st = cb->data;
   if (st && st->executed) {
      vn_object_table_renew(ctx->dispatch.objects, cb);
      st->executed = false;
   }
}

struct pool_reset {
   struct pvk_context *ctx;
   const struct vn_object *pool;
};

static void
reset_child(struct vn_object *obj, void *data)
{
   const struct pool_reset *r = data;
   if (obj->type == VK_OBJECT_TYPE_COMMAND_BUFFER && obj->parent_id == r->pool->id &&
       obj->retired == r->pool->retired && obj->device == r->pool->device)
      pvk_cb_reset(r->ctx, obj);
}

void
pvk_cb_pool_reset(struct pvk_context *ctx, struct vn_object *pool)
{
   struct pool_reset r = { ctx, pool };
   vn_object_table_foreach(ctx->dispatch.objects, reset_child, &r);
}

/* --- uses named inside structures --- */

static void
use_view(struct pvk_context *ctx, struct vn_object *cb, VkImageView view)
{
   pvk_cb_use_handle(ctx, cb, VK_OBJECT_TYPE_IMAGE_VIEW, (uint64_t)(uintptr_t)view);
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

void
pvk_cb_use_render_pass(struct pvk_context *ctx, struct vn_object *cb,
                       const VkRenderPassBeginInfo *begin)
{
   if (!begin)
      return;
   pvk_cb_use_handle(ctx, cb, VK_OBJECT_TYPE_RENDER_PASS, (uint64_t)(uintptr_t)begin->renderPass);
   pvk_cb_use_handle(ctx, cb, VK_OBJECT_TYPE_FRAMEBUFFER, (uint64_t)(uintptr_t)begin->framebuffer);
   const VkRenderPassAttachmentBeginInfo *views =
      find_next(begin->pNext, VK_STRUCTURE_TYPE_RENDER_PASS_ATTACHMENT_BEGIN_INFO);
   for (uint32_t i = 0; views && views->pAttachments && i < views->attachmentCount; i++)
      use_view(ctx, cb, views->pAttachments[i]);
}

static void
use_attachment(struct pvk_context *ctx, struct vn_object *cb, const VkRenderingAttachmentInfo *a)
{
   if (a) {
      use_view(ctx, cb, a->imageView);
      use_view(ctx, cb, a->resolveImageView);
   }
}

void
pvk_cb_use_rendering(struct pvk_context *ctx, struct vn_object *cb, const VkRenderingInfo *info)
{
   for (uint32_t i = 0; info->pColorAttachments && i < info->colorAttachmentCount; i++)
      use_attachment(ctx, cb, &info->pColorAttachments[i]);
   use_attachment(ctx, cb, info->pDepthAttachment);
   use_attachment(ctx, cb, info->pStencilAttachment);
}

void
pvk_cb_use_writes(struct pvk_context *ctx, struct vn_object *cb, uint32_t count,
                  const VkWriteDescriptorSet *writes)
{
   for (uint32_t i = 0; writes && i < count; i++) {
      const VkWriteDescriptorSet *w = &writes[i];
      /* only the array the type reads: the others are ignored */
      switch (w->descriptorType) {
      case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER:
      case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER:
      case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC:
      case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC:
         for (uint32_t j = 0; w->pBufferInfo && j < w->descriptorCount; j++)
            pvk_cb_use_handle(ctx, cb, VK_OBJECT_TYPE_BUFFER,
                              (uint64_t)(uintptr_t)w->pBufferInfo[j].buffer);
         break;
      case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
      case VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE:
      case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
      case VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT:
         for (uint32_t j = 0; w->pImageInfo && j < w->descriptorCount; j++)
            use_view(ctx, cb, w->pImageInfo[j].imageView);
         break;
      case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
      case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER:
         for (uint32_t j = 0; w->pTexelBufferView && j < w->descriptorCount; j++)
            pvk_cb_use_handle(ctx, cb, VK_OBJECT_TYPE_BUFFER_VIEW,
                              (uint64_t)(uintptr_t)w->pTexelBufferView[j]);
         break;
      default:
         break;
      }
   }
}
