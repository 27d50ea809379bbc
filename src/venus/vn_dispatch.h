/*
 * The dispatch interface: everything generated protocol code
 * (src/venus/generated/) needs from the renderer, and nothing more.
 * Generated decoders and executors include this header and the protocol
 * headers only, never the renderer's context.
 *
 * What generated code gets, and from where:
 * - object lookup / insert / remove by id and type: the context's object
 *   table (vn_object.h), through `ctx->objects` and the decoder's
 *   `dec->objects` (inline lookup that checks the table's recent hits first);
 * - arena allocation: vn_cs_decoder_alloc() on the decoder's arena (vn_cs.h);
 * - errors: vn_cs_decoder_set_fatal() (vn_cs.h); the renderer marks the
 *   context lost when a stream ends with a fatal decoder;
 * - reply encoding: vn_dispatch_reply_encoder(), implemented by the renderer;
 * - host calls: the handle and dispatch table of an object's instance or
 *   device (`obj->instance`, `obj->device`).
 */
#ifndef PV_VENUS_VN_DISPATCH_H
#define PV_VENUS_VN_DISPATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <vulkan/vulkan.h>

#include "venus/generated/vn_dispatch_tables.h"
#include "venus/vn_cs.h"
#include "venus/vn_object.h"

/* Host handle and dispatch table of a VkInstance / VkDevice, as generated
 * executors call through them. The renderer's instance and device state
 * start with these (they are at offset 0), and vn_object's `instance` /
 * `device` point at them. */
struct vn_dispatch_instance {
   VkInstance handle;
   struct vn_instance_dispatch dispatch;
};

struct vn_dispatch_device {
   VkDevice handle;
   struct vn_device_dispatch dispatch;
};

/* What generated code sees of a context. The renderer's context embeds it
 * and gets back to itself from it (hand-written handlers get this pointer). */
struct vn_dispatch_context {
   struct vn_object_table *objects;
   /* set once a handler refused a command (the renderer's "context lost"),
    * never cleared; here so that the per-command check below is a load */
   atomic_bool lost;
};

/* Encoder writing at the context's current reply position. Implemented by
 * the renderer (and by tests that link the generated code without it).
 * Without a reply stream it has no space: a write makes it fatal. */
struct vn_cs_encoder *vn_dispatch_reply_encoder(struct vn_dispatch_context *ctx);

/* False once the context failed (a hand-written handler refused a
 * command): a run of commands stops there. */
static inline bool
vn_dispatch_context_ok(struct vn_dispatch_context *ctx)
{
   return !atomic_load(&ctx->lost);
}

#endif
