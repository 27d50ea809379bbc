/*
 * Firewall rule: no descriptor the driver reads names a destroyed object
 * (pvk_validate.h, "descriptors naming destroyed objects").
 *
 * A descriptor set keeps pointers to what was written into it, and
 * lavapipe 22.3 reads every descriptor of a bound set at each draw or
 * dispatch, used by the pipeline or not; Vulkan lets a set keep a
 * destroyed object in a binding that nothing uses dynamically, so
 * refusing such a set would refuse valid programs. Instead, before the
 * host destroys a buffer, buffer view, image, image view or sampler, or
 * frees memory bound to a buffer or image, every descriptor that names it
 * (directly, or through a view of it) is written again with a null
 * descriptor (robustness2's nullDescriptor, which pvk_device.c enables
 * where the host offers it): nothing the driver reads points at freed
 * memory. Where no null descriptor can stand in (no nullDescriptor on the
 * host, input attachments, mutable descriptors) the descriptor is marked
 * stale: binding the set fails the context, and so does submitting a
 * command buffer that bound it before (the set's gen changes).
 *
 * Records: each set has one slot per descriptor (two for a combined image
 * sampler: view and sampler) holding {id, gen} of what it names and a
 * stamp unique to the write. Each object named keeps a list of references
 * {set id, slot, stamp}; an image or buffer also gets those of the
 * descriptors naming its views. A reference is live while the set exists
 * and its slot still has that stamp; stale ones are dropped when a list
 * fills up (so a list holds at most twice its live references) and never
 * searched for otherwise. A write costs one lookup per object written (two
 * for a view: its parent) and an append unless the slot already named that
 * object; a destroy costs one lookup per reference of the object.
 *
 * Submissions pending when the object is destroyed: its host destroy is
 * deferred until they finish (pvk_lifetime.c), and the null descriptor is
 * written at once; the driver reads either the old descriptor, whose
 * object still lives, or the null one.
 */
#include <stdlib.h>

#include "common/log.h"
#include "venus/pvk_context.h"
#include "venus/pvk_device.h"
#include "venus/pvk_validate.h"
#include "venus/vn_object.h"

/* A set's record of more slots than this fails the context: 384 MiB. */
#define PVK_MAX_SET_SLOTS (1u << 24)

uint32_t
pvk_descriptor_parts(VkDescriptorType type)
{
   switch (type) {
   case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
   case VK_DESCRIPTOR_TYPE_MUTABLE_EXT:
      return 2;
   case VK_DESCRIPTOR_TYPE_SAMPLER:
   case VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE:
   case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
   case VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT:
   case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER:
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER:
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC:
      return 1;
   default:
      return 0; /* inline uniform blocks (bytes), acceleration structures (not tracked) */
   }
}

void
pvk_desc_refs_free(struct pvk_desc_refs *refs)
{
   if (refs) {
      free(refs->v);
      *refs = (struct pvk_desc_refs){ 0 };
   }
}

/* The reference list of obj; a sampler's is made when `create`. */
static struct pvk_desc_refs *
refs_of(struct vn_object *obj, bool create)
{
   switch (obj->type) {
   case VK_OBJECT_TYPE_BUFFER:
      return obj->data ? &((struct pvk_buffer_state *)obj->data)->refs : NULL;
   case VK_OBJECT_TYPE_IMAGE:
      return obj->data ? &((struct pvk_image_state *)obj->data)->refs : NULL;
   case VK_OBJECT_TYPE_BUFFER_VIEW:
   case VK_OBJECT_TYPE_IMAGE_VIEW:
      return obj->data ? &((struct pvk_view_state *)obj->data)->refs : NULL;
   case VK_OBJECT_TYPE_SAMPLER:
      if (!obj->data && create)
         obj->data = calloc(1, sizeof(struct pvk_sampler_state));
      return obj->data ? &((struct pvk_sampler_state *)obj->data)->refs : NULL;
   default:
      return NULL;
   }
}

struct pvk_sampler_state *
pvk_sampler_state(struct pvk_context *ctx, struct vn_object *sampler)
{
   if (!refs_of(sampler, true))
      pvk_context_set_lost(ctx, "sampler: out of host memory for its state");
   return sampler->data;
}

static uint32_t
count_of(const struct pvk_set_state *s, uint32_t index)
{
   const struct pvk_layout_binding *b = &s->layout->bindings[index];
   return b->variable ? s->variable_count : b->count;
}

/* The set a reference names while it is live, else NULL. */
static struct vn_object *
ref_set(struct pvk_context *ctx, const struct pvk_desc_ref *r)
{
   struct vn_object *set =
      vn_object_table_lookup(ctx->dispatch.objects, r->set, VK_OBJECT_TYPE_DESCRIPTOR_SET);
   const struct pvk_set_state *s = set ? set->data : NULL;
   return s && r->slot < s->slot_count && s->slots[r->slot].stamp == r->stamp ? set : NULL;
}

static bool
add_ref(struct pvk_context *ctx, struct pvk_desc_refs *refs, const struct pvk_desc_ref *r)
{
   if (refs->count == refs->capacity) {
      /* drop the stale ones first; grow only when half are live, so the
       * list stays within twice its live references and each compaction
       * follows as many appends as it looked up */
      uint32_t live = 0;
      for (uint32_t i = 0; i < refs->count; i++) {
         if (ref_set(ctx, &refs->v[i]))
            refs->v[live++] = refs->v[i];
      }
      refs->count = live;
      if (live >= refs->capacity / 2) {
         const uint32_t cap = refs->capacity ? refs->capacity * 2 : 8;
         struct pvk_desc_ref *v =
            cap > refs->capacity ? realloc(refs->v, (size_t)cap * sizeof(*v)) : NULL;
         if (!v) {
            pvk_context_set_lost(ctx, "descriptor references: out of host memory");
            return false;
         }
         refs->v = v;
         refs->capacity = cap;
      }
   }
   refs->v[refs->count++] = *r;
   return true;
}

/* The set's record, made at its first write naming an object. */
static bool
ensure_slots(struct pvk_context *ctx, const struct vn_object *set, struct pvk_set_state *s)
{
   if (s->slots)
      return true;
   const struct pvk_set_layout_state *l = s->layout;
   uint64_t n = l->slots;
   if (l->binding_count && l->bindings[l->binding_count - 1].variable)
      n += (uint64_t)l->bindings[l->binding_count - 1].parts * s->variable_count;
   if (!n)
      return true;
   if (n > PVK_MAX_SET_SLOTS) {
      pvk_reject(ctx, "descriptor: set %llu of %llu descriptor slots: more than %u to track",
                 (unsigned long long)set->id, (unsigned long long)n, PVK_MAX_SET_SLOTS);
      return false;
   }
   s->slots = calloc(n, sizeof(*s->slots));
   if (!s->slots) {
      pvk_context_set_lost(ctx, "descriptor set record: out of host memory");
      return false;
   }
   s->slot_count = (uint32_t)n;
   return true;
}

/* One slot of a set names `obj` (NULL: nothing) from now on; `slot` is
 * inside the record. */
static bool
set_slot(struct pvk_context *ctx, const struct vn_object *set, struct pvk_set_state *s,
         uint32_t binding, uint32_t slot, struct vn_object *obj)
{
   struct pvk_desc_slot *d = &s->slots[slot];
   const bool stale = d->gen == PVK_SLOT_STALE;
   if (obj && !stale && d->id == obj->id && d->gen == obj->gen)
      return true; /* the same object again: its reference still holds */
   if (stale)
      s->stale--;
   *d = (struct pvk_desc_slot){ 0 };
   if (!obj)
      return true;
   struct pvk_desc_refs *refs = refs_of(obj, true);
   struct vn_object *parent = NULL;
   if (obj->type == VK_OBJECT_TYPE_IMAGE_VIEW || obj->type == VK_OBJECT_TYPE_BUFFER_VIEW) {
      /* a view of a destroyed image or buffer, or of freed memory, is no
       * longer valid (VUID-VkWriteDescriptorSet-descriptorType-02994 and
       * the like): its descriptor would point at freed memory */
      const struct pvk_view_state *v = obj->data;
      parent =
         v ? vn_object_table_lookup(ctx->dispatch.objects, v->parent.id, v->parent.type) : NULL;
      if (!parent || parent->gen != v->parent.gen) {
         pvk_reject(ctx,
                    "descriptor: vkUpdateDescriptorSets: %s %llu of a destroyed %s or freed "
                    "memory (set %llu)",
                    obj->type == VK_OBJECT_TYPE_IMAGE_VIEW ? "image view" : "buffer view",
                    (unsigned long long)obj->id,
                    obj->type == VK_OBJECT_TYPE_IMAGE_VIEW ? "image" : "buffer",
                    (unsigned long long)set->id);
         return false;
      }
   }
   struct pvk_desc_refs *parent_refs = parent ? refs_of(parent, false) : NULL;
   if (!refs || (parent && !parent_refs)) {
      pvk_context_set_lost(ctx, "descriptor references: object without recorded state");
      return false;
   }
   const struct pvk_desc_ref r = { set->id, vn_object_table_serial(ctx->dispatch.objects), slot,
                                   binding };
   if (!add_ref(ctx, refs, &r) || (parent_refs && !add_ref(ctx, parent_refs, &r)))
      return false;
   *d = (struct pvk_desc_slot){ obj->id, obj->gen, r.stamp };
   return true;
}

static struct vn_object *
find(struct pvk_context *ctx, VkObjectType type, uint64_t handle)
{
   return handle ? vn_object_table_find_handle(ctx->dispatch.objects, type, handle) : NULL;
}

/* Descriptor j of write w, at `slot` of binding `index` of the set. */
static bool
record_one(struct pvk_context *ctx, const struct vn_object *set, struct pvk_set_state *s,
           uint32_t index, uint64_t slot, const VkWriteDescriptorSet *w, uint32_t j)
{
   const struct pvk_layout_binding *b = &s->layout->bindings[index];
   struct vn_object *named = NULL, *sampler = NULL;
   switch (w->descriptorType) {
   case VK_DESCRIPTOR_TYPE_SAMPLER:
      if (!b->immutable && w->pImageInfo)
         named = find(ctx, VK_OBJECT_TYPE_SAMPLER, (uint64_t)(uintptr_t)w->pImageInfo[j].sampler);
      break;
   case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
      if (w->pImageInfo && !b->immutable)
         sampler = find(ctx, VK_OBJECT_TYPE_SAMPLER, (uint64_t)(uintptr_t)w->pImageInfo[j].sampler);
      /* fallthrough */
   case VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE:
   case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
   case VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT:
      if (w->pImageInfo)
         named =
            find(ctx, VK_OBJECT_TYPE_IMAGE_VIEW, (uint64_t)(uintptr_t)w->pImageInfo[j].imageView);
      break;
   case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER:
      if (w->pTexelBufferView)
         named = find(ctx, VK_OBJECT_TYPE_BUFFER_VIEW, (uint64_t)(uintptr_t)w->pTexelBufferView[j]);
      break;
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER:
   case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC:
   case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC:
      if (w->pBufferInfo)
         named = find(ctx, VK_OBJECT_TYPE_BUFFER, (uint64_t)(uintptr_t)w->pBufferInfo[j].buffer);
      break;
   default:
      return true;
   }
   if (!set_slot(ctx, set, s, index, (uint32_t)slot, named))
      return false;
   return b->parts < 2 || set_slot(ctx, set, s, index, (uint32_t)slot + 1, sampler);
}

/* Calls fn on each descriptor of [element, element + count) of binding
 * `binding` and the consecutive ones (already checked to exist) with its
 * binding index and first slot; stops at the first false. */
struct span {
   uint32_t index;
   uint32_t element;
};

static bool
span_start(const struct pvk_set_state *s, uint32_t binding, uint32_t element, struct span *sp)
{
   const struct pvk_set_layout_state *l = s->layout;
   uint32_t lo = 0, hi = l->binding_count;
   while (lo < hi) {
      const uint32_t mid = lo + (hi - lo) / 2;
      if (l->bindings[mid].binding < binding)
         lo = mid + 1;
      else
         hi = mid;
   }
   if (lo == l->binding_count || l->bindings[lo].binding != binding)
      return false;
   *sp = (struct span){ lo, element };
   return true;
}

/* The next descriptor's binding index and slot; false past the last binding. */
static bool
span_next(const struct pvk_set_state *s, struct span *sp, uint64_t *slot)
{
   while (sp->index < s->layout->binding_count && sp->element >= count_of(s, sp->index)) {
      sp->element -= count_of(s, sp->index);
      sp->index++;
   }
   if (sp->index >= s->layout->binding_count)
      return false;
   const struct pvk_layout_binding *b = &s->layout->bindings[sp->index];
   *slot = b->slot_base + (uint64_t)sp->element * b->parts;
   sp->element++;
   return true;
}

static struct vn_object *
set_of(struct pvk_context *ctx, VkDescriptorSet handle, struct pvk_set_state **s)
{
   struct vn_object *set = find(ctx, VK_OBJECT_TYPE_DESCRIPTOR_SET, (uint64_t)(uintptr_t)handle);
   *s = set ? set->data : NULL;
   return *s && (*s)->layout ? set : NULL;
}

static bool
record_write(struct pvk_context *ctx, const VkWriteDescriptorSet *w)
{
   struct pvk_set_state *s;
   const struct vn_object *set = set_of(ctx, w->dstSet, &s);
   struct span sp;
   if (!pvk_descriptor_parts(w->descriptorType) || !w->descriptorCount)
      return true; /* inline uniform blocks: bytes, no object */
   if (!set || !span_start(s, w->dstBinding, w->dstArrayElement, &sp))
      return true; /* checked before: cannot happen */
   if (!ensure_slots(ctx, set, s))
      return false;
   for (uint32_t j = 0; j < w->descriptorCount; j++) {
      uint64_t slot;
      if (!span_next(s, &sp, &slot) || slot + s->layout->bindings[sp.index].parts > s->slot_count)
         return true;
      if (!record_one(ctx, set, s, sp.index, slot, w, j))
         return false;
   }
   return true;
}

/* What the source slot names, with its references, now in the destination. */
static bool
copy_slot(struct pvk_context *ctx, const struct vn_object *dset, struct pvk_set_state *d,
          uint32_t dindex, uint32_t dslot, const struct pvk_desc_slot *from, VkObjectType type)
{
   if (from->gen == PVK_SLOT_STALE) {
      struct pvk_desc_slot *to = &d->slots[dslot];
      if (to->gen != PVK_SLOT_STALE)
         d->stale++;
      *to = (struct pvk_desc_slot){ 0, PVK_SLOT_STALE, 0 };
      return true;
   }
   struct vn_object *obj =
      from->id ? vn_object_table_lookup(ctx->dispatch.objects, from->id, type) : NULL;
   return set_slot(ctx, dset, d, dindex, dslot, obj && obj->gen == from->gen ? obj : NULL);
}

/* The kind of object part `part` of a binding of `type` names. */
static VkObjectType
part_type(VkDescriptorType type, uint32_t part)
{
   switch (type) {
   case VK_DESCRIPTOR_TYPE_SAMPLER:
      return VK_OBJECT_TYPE_SAMPLER;
   case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
      return part ? VK_OBJECT_TYPE_SAMPLER : VK_OBJECT_TYPE_IMAGE_VIEW;
   case VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE:
   case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
   case VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT:
      return VK_OBJECT_TYPE_IMAGE_VIEW;
   case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
   case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER:
      return VK_OBJECT_TYPE_BUFFER_VIEW;
   default:
      return VK_OBJECT_TYPE_BUFFER;
   }
}

static bool
record_copy(struct pvk_context *ctx, const VkCopyDescriptorSet *c)
{
   struct pvk_set_state *s, *d;
   const struct vn_object *sset = set_of(ctx, c->srcSet, &s);
   const struct vn_object *dset = set_of(ctx, c->dstSet, &d);
   struct span ss, ds;
   if (!sset || !dset || !span_start(s, c->srcBinding, c->srcArrayElement, &ss) ||
       !span_start(d, c->dstBinding, c->dstArrayElement, &ds))
      return true; /* checked before: cannot happen */
   const struct pvk_layout_binding *sb = &s->layout->bindings[ss.index];
   if (!pvk_descriptor_parts(sb->type) || !c->descriptorCount)
      return true;
   if (!ensure_slots(ctx, dset, d))
      return false;
   for (uint32_t j = 0; j < c->descriptorCount; j++) {
      uint64_t from, to;
      if (!span_next(s, &ss, &from) || !span_next(d, &ds, &to))
         return true;
      sb = &s->layout->bindings[ss.index];
      const uint32_t parts = d->layout->bindings[ds.index].parts;
      if (to + parts > d->slot_count)
         return true;
      for (uint32_t p = 0; p < parts; p++) {
         /* a source never written through a tracked write names nothing */
         static const struct pvk_desc_slot none = { 0 };
         const struct pvk_desc_slot *f =
            p < sb->parts && s->slots && from + p < s->slot_count ? &s->slots[from + p] : &none;
         if (!copy_slot(ctx, dset, d, ds.index, (uint32_t)(to + p), f, part_type(sb->type, p)))
            return false;
      }
   }
   return true;
}

bool
pvk_descriptor_refs_update(struct pvk_context *ctx, uint32_t write_count,
                           const VkWriteDescriptorSet *writes, uint32_t copy_count,
                           const VkCopyDescriptorSet *copies)
{
   for (uint32_t i = 0; i < write_count; i++) {
      if (!record_write(ctx, &writes[i]))
         return false;
   }
   for (uint32_t i = 0; i < copy_count; i++) {
      if (!record_copy(ctx, &copies[i]))
         return false;
   }
   return true;
}

/* --- objects going away --- */

/* The host handle of what slot `d` names if it is alive as recorded. */
static uint64_t
slot_handle(struct pvk_context *ctx, const struct pvk_desc_slot *d, VkObjectType type)
{
   const struct vn_object *o = d->id && d->gen != PVK_SLOT_STALE
                                  ? vn_object_table_lookup(ctx->dispatch.objects, d->id, type)
                                  : NULL;
   return o && o->gen == d->gen ? o->handle : 0;
}

/* Writes a null descriptor over the slot's descriptor (the other part of
 * a combined image sampler kept); false where none can stand in. */
static bool
write_null(struct pvk_context *ctx, struct pvk_device *dev, const struct vn_object *set,
           const struct pvk_set_state *s, const struct pvk_layout_binding *b, uint32_t element,
           uint32_t part)
{
   if (!dev->null_descriptor)
      return false;
   VkDescriptorImageInfo image = { VK_NULL_HANDLE, VK_NULL_HANDLE,
                                   VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
   const VkDescriptorBufferInfo buffer = { VK_NULL_HANDLE, 0, VK_WHOLE_SIZE };
   const VkBufferView view = VK_NULL_HANDLE;
   const uint64_t slot = b->slot_base + (uint64_t)element * b->parts;
   switch (b->type) {
   case VK_DESCRIPTOR_TYPE_SAMPLER:
      if (!(image.sampler = pvk_fill_sampler(dev)))
         return false;
      break;
   case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
      /* the view or the sampler goes; the other part stays as it was */
      if (part == 0)
         image.sampler =
            (VkSampler)(uintptr_t)slot_handle(ctx, &s->slots[slot + 1], VK_OBJECT_TYPE_SAMPLER);
      else
         image.imageView =
            (VkImageView)(uintptr_t)slot_handle(ctx, &s->slots[slot], VK_OBJECT_TYPE_IMAGE_VIEW);
      if (!b->immutable && !image.sampler && !(image.sampler = pvk_fill_sampler(dev)))
         return false;
      break;
   case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
      image.imageLayout = VK_IMAGE_LAYOUT_GENERAL;
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
      return false; /* input attachments, mutable descriptors: no null form */
   }
   const VkWriteDescriptorSet write = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = (VkDescriptorSet)(uintptr_t)set->handle,
      .dstBinding = b->binding,
      .dstArrayElement = element,
      .descriptorCount = 1,
      .descriptorType = b->type,
      .pImageInfo = &image,
      .pBufferInfo = &buffer,
      .pTexelBufferView = &view,
   };
   dev->dispatch.vkUpdateDescriptorSets(dev->handle, 1, &write, 0, NULL);
   return true;
}

void
pvk_descriptor_refs_drop(struct pvk_context *ctx, struct vn_object *obj)
{
   struct pvk_desc_refs *refs = refs_of(obj, false);
   if (!refs || !refs->count)
      return;
   uint32_t nulled = 0, stale = 0;
   uint64_t first_set = 0;
   for (uint32_t i = 0; i < refs->count; i++) {
      const struct pvk_desc_ref *r = &refs->v[i];
      struct vn_object *set = ref_set(ctx, r);
      struct pvk_set_state *s = set ? set->data : NULL;
      if (!s || r->binding >= s->layout->binding_count)
         continue;
      const struct pvk_layout_binding *b = &s->layout->bindings[r->binding];
      if (!b->parts || r->slot < b->slot_base)
         continue;
      const uint32_t element = (uint32_t)((r->slot - b->slot_base) / b->parts);
      const uint32_t part = (uint32_t)((r->slot - b->slot_base) % b->parts);
      first_set = first_set ? first_set : set->id;
      if (write_null(ctx, pvk_device_from_base(set->device), set, s, b, element, part)) {
         s->slots[r->slot] = (struct pvk_desc_slot){ 0 };
         nulled++;
         continue;
      }
      /* no null form: the set must not be bound again, nor run where it was */
      s->slots[r->slot] = (struct pvk_desc_slot){ 0, PVK_SLOT_STALE, 0 };
      s->stale++;
      vn_object_table_renew(ctx->dispatch.objects, set);
      stale++;
   }
   pvk_desc_refs_free(refs);
   if (nulled || stale)
      pv_debug("venus",
               "context %u: object %llu (type %d) going away: %u descriptors naming it made null, "
               "%u left stale (set %llu first)",
               ctx->ctx_id, (unsigned long long)obj->id, (int)obj->type, nulled, stale,
               (unsigned long long)first_set);
}
