/*
 * The fixed part of the Venus protocol code: what generated code
 * (src/venus/generated/) calls that does not depend on vk.xml, and what the
 * hand-written part needs back from the generated tables.
 *
 * tools/gen_venus.py emits only what varies with the registry (one function
 * per struct or command, switch tables by sType or command type); the loops
 * over pNext chains, strings and the command dispatch itself live in
 * vn_pnext.c, vn_decode_string.c, vn_object_parent.c and
 * vn_dispatch_command.c, compiled like any other source.
 */
#ifndef PV_VENUS_VN_PROTOCOL_SUPPORT_H
#define PV_VENUS_VN_PROTOCOL_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "venus/vn_cs.h"
#include "venus/vn_object.h"

struct vn_dispatch_context;

/* Ceiling on the number of elements of one pNext chain. */
#define VN_PNEXT_MAX_LENGTH 256

/* --- implemented by hand (vn_pnext.c, vn_decode_string.c) --------------- */

/* A char array with its size on the wire (0: NULL); the copy in the arena
 * is always NUL-terminated. */
const char *vn_decode_string(struct vn_cs_decoder *dec);
const char *const *vn_decode_string_array(struct vn_cs_decoder *dec, uint64_t count);

/* A pNext chain whose elements must have one of the `count` sTypes in
 * `allowed`. _partial: the chain of an output struct (only what the host
 * driver reads: sTypes and the members the guest fills). Out of line;
 * use vn_decode_pnext(_partial) below. */
const void *vn_decode_pnext_chain(struct vn_cs_decoder *dec, const VkStructureType *allowed,
                                  uint32_t count);
void *vn_decode_pnext_chain_partial(struct vn_cs_decoder *dec, const VkStructureType *allowed,
                                    uint32_t count);

/* Whether the stream's next item is the empty chain (a 0 marker), which
 * it then skips: most structs come without one (every barrier of a
 * command buffer), so that case costs no call. */
VN_CS_INLINE bool
vn_decode_pnext_none(struct vn_cs_decoder *dec)
{
   uint64_t marker;
   if (vn_cs_decoder_remaining(dec) < sizeof(marker))
      return false; /* the chain decoder reports the truncation */
   memcpy(&marker, dec->cur, sizeof(marker));
   if (marker)
      return false;
   dec->cur += sizeof(marker);
   return true;
}

VN_CS_INLINE const void *
vn_decode_pnext(struct vn_cs_decoder *dec, const VkStructureType *allowed, uint32_t count)
{
   return vn_decode_pnext_none(dec) ? NULL : vn_decode_pnext_chain(dec, allowed, count);
}

VN_CS_INLINE void *
vn_decode_pnext_partial(struct vn_cs_decoder *dec, const VkStructureType *allowed, uint32_t count)
{
   return vn_decode_pnext_none(dec) ? NULL : vn_decode_pnext_chain_partial(dec, allowed, count);
}
/* The elements of a chain the protocol knows, in the layout the decoder reads. */
void vn_encode_pnext(struct vn_cs_encoder *enc, const void *pnext);

/* A raw uint64_t handle (e.g. VkDebugUtilsObjectNameInfoEXT::objectHandle):
 * 0 stays 0, anything else must be an object of the given type. Inline: it
 * is in struct decoders that run per command. */
static inline uint64_t
vn_decode_typed_handle(struct vn_cs_decoder *dec, VkObjectType type)
{
   const uint64_t id = vn_decode_uint64_t(dec);
   if (!id || dec->fatal)
      return 0;
   struct vn_object *obj = dec->objects ? vn_object_table_lookup(dec->objects, id, type) : NULL;
   if (!obj) {
      vn_cs_decoder_set_fatal(dec, "unknown object id");
      return 0;
   }
   return obj->handle;
}

/* --- implemented by hand (vn_object_parent.c), for generated executors -- */

/* Guest id of the pool a host handle belongs to (0 when unknown). */
uint64_t vn_find_parent_id(struct vn_dispatch_context *ctx, VkObjectType type, uint64_t handle);
/* Drops the table entries of a pool's command buffers or descriptor sets
 * (the host frees them with the pool). */
void vn_remove_children(struct vn_dispatch_context *ctx, uint64_t parent_id, VkObjectType type);

/* --- generated (generated/vn_decode_structs.c, vn_encode_structs.c) ----- */

/* Size of the struct with sType s, 0 when the protocol has none. */
size_t vn_pnext_size(VkStructureType s);
/* Decodes the members after sType/pNext of the struct p points at (its
 * sType set); false when the protocol has no such (partial) decoder. */
bool vn_pnext_decode_self(struct vn_cs_decoder *dec, void *p, bool partial);
/* Encodes the members after sType/pNext; false for an unknown sType. */
bool vn_pnext_encode_self(struct vn_cs_encoder *enc, const void *p);

/* --- generated (generated/vn_command_table.c), indexed by command type --
 * VN_COMMAND_TYPE_COUNT entries each; NULL for commands not decoded. */

typedef void (*vn_run_fn)(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec,
                          uint32_t flags);
typedef void (*vn_decode_only_fn)(struct vn_cs_decoder *dec);

/* Decode, run, reply. */
extern const vn_run_fn vn_run_table[];
/* Decode only (fuzzing and tests). */
extern const vn_decode_only_fn vn_decode_only_table[];
/* Every command type venus-protocol names, decoded or not. */
extern const char *const vn_command_names[];

#endif
