/*
 * Per-context table of Vulkan objects, keyed by the guest's object ids.
 *
 * The guest names every Vulkan object by a 64-bit id it picks itself (Mesa
 * venus allocates them). The host keeps, per context, id -> host handle. A
 * lookup checks the object type, so a guest cannot pass a VkBuffer id where
 * a VkImage is expected, and ids of one context never resolve in another.
 * The table caps the number of objects per context.
 */
#ifndef PV_VENUS_VN_OBJECT_H
#define PV_VENUS_VN_OBJECT_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "venus/vn_cs.h"

struct vn_dispatch_instance;
struct vn_dispatch_device;

struct vn_object {
   uint64_t id; /* guest id, never 0 */
   VkObjectType type;
   uint32_t ring_idx;  /* queues: timeline bound by VkDeviceQueueTimelineInfoMESA, 0: none */
   uint64_t handle;    /* host handle; for dispatchable types the pointer */
   uint64_t parent_id; /* owning pool (command buffers, descriptor sets), else 0 */
   struct vn_dispatch_instance *instance; /* instance, physical devices and below */
   struct vn_dispatch_device *device;     /* device-level objects (device, queue, ...) */
   void *data;                            /* per-kind state, owned by the kind's handler code */
   /* serial of the device's last submission that uses it (command buffers,
    * command pools, fences; pvk_lifetime.h), 0: none, UINT64_MAX: recorded
    * into a primary command buffer (secondaries); pending binary
    * semaphores: the submission that signals them (pvk_semaphore.h) */
   uint64_t serial;
   /* retired (vn_object_table_retire): no longer the guest's, no id */
   bool retired;
   /* unique per insert in its table, renewed by vn_object_table_renew():
    * what a command buffer's recorded use names (pvk_validate_cmdbuf.c) */
   uint64_t gen;
   /* the command buffer recording that last recorded a use of it, 0: none
    * (so that each recording lists an object once) */
   uint64_t seen;
};

/* Kinds a recorded command buffer may still refer to at submission (bit
 * `type` set): their removals, retirements and renewals are counted
 * (vn_object_table_removals). */
#define VN_OBJECT_RECORDED_TYPES                                                    \
   ((1ull << VK_OBJECT_TYPE_COMMAND_BUFFER) | (1ull << VK_OBJECT_TYPE_BUFFER) |     \
    (1ull << VK_OBJECT_TYPE_IMAGE) | (1ull << VK_OBJECT_TYPE_BUFFER_VIEW) |         \
    (1ull << VK_OBJECT_TYPE_IMAGE_VIEW) | (1ull << VK_OBJECT_TYPE_DESCRIPTOR_SET) | \
    (1ull << VK_OBJECT_TYPE_FRAMEBUFFER) | (1ull << VK_OBJECT_TYPE_PIPELINE) |      \
    (1ull << VK_OBJECT_TYPE_RENDER_PASS) | (1ull << VK_OBJECT_TYPE_QUERY_POOL) |    \
    (1ull << VK_OBJECT_TYPE_EVENT) | (1ull << VK_OBJECT_TYPE_SAMPLER))

static inline bool
vn_object_type_recorded(VkObjectType type)
{
   return (uint32_t)type < 64 && (VN_OBJECT_RECORDED_TYPES >> (uint32_t)type) & 1;
}

struct vn_object_table;

/* The start of every table, visible for the inline lookup below: the
 * objects found last, two per hash of the id (the latest and the one
 * before it in that set). Guest ids are heap addresses (Mesa 22.3: 16-byte
 * aligned, so their low bits are all the same) or a counter (Mesa 25), so
 * the set is a multiplicative hash of the whole id; two ways, because a
 * command buffer whose id shares a set with an object every draw binds
 * (a vertex buffer, a descriptor set) would otherwise push each other out
 * and both be looked up in the hash table at every command. An entry is
 * cleared when its object is removed. */
#define VN_OBJECT_RECENT_BITS 6
#define VN_OBJECT_RECENT (1u << VN_OBJECT_RECENT_BITS)
#define VN_OBJECT_RECENT_WAYS 2
struct vn_object_table_head {
   /* way-major: a set's two entries are at [0][slot] and [1][slot], each
    * one scaled-index load from the table */
   struct vn_object *recent[VN_OBJECT_RECENT_WAYS][VN_OBJECT_RECENT];
   /* the object of the latest lookup by id (handlers that get only host
    * handles use it to skip a second lookup); cleared with its object */
   struct vn_object *last;
   /* vn_object_table_removals(), here for the draw path's inline read */
   uint64_t removals;
};

static inline uint32_t
vn_object_recent_slot(uint64_t id)
{
   return (uint32_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - VN_OBJECT_RECENT_BITS));
}

/* Creates an empty table holding at most max_objects objects. */
struct vn_object_table *vn_object_table_create(uint32_t max_objects);
/* Frees the table and its entries (not the host objects: destroy them first). */
void vn_object_table_destroy(struct vn_object_table *t);

/* Adds an object. NULL when id is 0, already used, or the table is full. */
struct vn_object *vn_object_table_insert(struct vn_object_table *t, uint64_t id, VkObjectType type,
                                         uint64_t handle);
/* NULL when missing or of another type. */
struct vn_object *vn_object_table_lookup(struct vn_object_table *t, uint64_t id, VkObjectType type);
/* An object of `type` whose host handle was `handle` when it was inserted
 * (later changes to obj->handle are not seen), a live one before a retired
 * one, or NULL. */
struct vn_object *vn_object_table_find_handle(struct vn_object_table *t, VkObjectType type,
                                              uint64_t handle);
/* Removes and frees the entry (obj is invalid afterwards). */
void vn_object_table_remove(struct vn_object_table *t, struct vn_object *obj);

uint32_t vn_object_table_count(const struct vn_object_table *t);

/* How many objects of the VN_OBJECT_RECORDED_TYPES kinds were removed,
 * retired or renewed so far: unchanged since a moment, every such object
 * alive then is alive now, with the same gen. */
uint64_t vn_object_table_removals(const struct vn_object_table *t);

/* Gives obj a new gen, as if it were removed and inserted again (a buffer
 * or image whose memory was freed: uses recorded before no longer hold). */
void vn_object_table_renew(struct vn_object_table *t, struct vn_object *obj);

/* A number never handed out before by this table (gens share it). */
uint64_t vn_object_table_serial(struct vn_object_table *t);

/* Takes obj away from the guest while its host object lives on: lookups by
 * id no longer find it and its id can be used again; foreach, lookups by
 * handle, remove and the object cap still see it (obj->retired set). For
 * host objects whose destruction is deferred (pvk_device.h). */
void vn_object_table_retire(struct vn_object_table *t, struct vn_object *obj);

/* Calls fn on every object, retired ones included; fn may remove the object it is given. */
void vn_object_table_foreach(struct vn_object_table *t,
                             void (*fn)(struct vn_object *obj, void *data), void *data);

/* Looks up an object id read from the stream in dec->objects. Returns NULL
 * for id 0 when `optional`; otherwise an unknown id, a wrong type or a
 * missing required object makes the decoder fatal and returns NULL. */
struct vn_object *vn_lookup_object_slow(struct vn_cs_decoder *dec, uint64_t id, VkObjectType type,
                                        bool optional);

/* always inline: it is the command path's most frequent step, and GCC
 * leaves it out of line in the larger run functions otherwise */
VN_CS_INLINE struct vn_object *
vn_lookup_object(struct vn_cs_decoder *dec, uint64_t id, VkObjectType type, bool optional)
{
   struct vn_object_table_head *head = (struct vn_object_table_head *)dec->objects;
   const uint32_t slot = vn_object_recent_slot(id);
   for (uint32_t way = 0; head && way < VN_OBJECT_RECENT_WAYS; way++) {
      struct vn_object *recent = head->recent[way][slot];
      if (recent && recent->id == id && recent->type == type && !dec->fatal) {
         head->last = recent;
         return recent;
      }
   }
   return vn_lookup_object_slow(dec, id, type, optional);
}

/* Decodes an object id, then vn_lookup_object(). */
static inline struct vn_object *
vn_decode_object(struct vn_cs_decoder *dec, VkObjectType type, bool optional)
{
   const uint64_t id = vn_decode_uint64_t(dec);
   return vn_lookup_object(dec, id, type, optional);
}

#endif
