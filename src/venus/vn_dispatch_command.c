/*
 * One command off the stream: its header (type, flags), then the generated
 * per-type function from vn_run_table / vn_decode_only_table
 * (generated/vn_command_table.c). vn_dispatch_commands() runs the commands
 * that follow in the same loop, without a call per command, and lets runs
 * of vkCmd* commands call the driver on the context's recorder thread
 * (vn_recorder.h) while it decodes on.
 */
#include "venus/generated/vn_protocol_internal.h"
#include "venus/vn_dispatch.h"
#include "venus/vn_recorder.h"

const char *
vn_command_name(uint32_t type)
{
   return type < VN_COMMAND_TYPE_COUNT ? vn_command_names[type] : NULL;
}

void
vn_decode_command(struct vn_cs_decoder *dec)
{
   vn_arena_reset(dec->arena);
   const uint32_t type = vn_decode_uint32_t(dec);
   vn_decode_uint32_t(dec);
   if (dec->fatal)
      return;
   if (type >= VN_COMMAND_TYPE_COUNT || !vn_decode_only_table[type]) {
      vn_cs_decoder_set_fatal(dec, "unknown or unsupported command type");
      return;
   }
   vn_decode_only_table[type](dec);
}

/* The header's type, flags and run function, or NULL (the decoder is
 * then fatal). */
static inline vn_run_fn
peek_header(struct vn_cs_decoder *dec, uint32_t *type, uint32_t *flags)
{
   /* the header, type and flags: one bounds check */
   const uint8_t *header = vn_decode_peek_bytes(dec, 8);
   if (!header)
      return NULL;
   memcpy(type, header, 4);
   memcpy(flags, header + 4, 4);
   if (*type >= VN_COMMAND_TYPE_COUNT || !vn_run_table[*type]) {
      vn_cs_decoder_set_fatal(dec, "unknown or unsupported command type");
      return NULL;
   }
   return vn_run_table[*type];
}

void
vn_dispatch_command(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec)
{
   vn_arena_reset(dec->arena);
   uint32_t type, flags;
   const vn_run_fn run = peek_header(dec, &type, &flags);
   if (run)
      run(ctx, dec, flags);
}

/* While deferred calls may still read the arena (the recorder is
 * pinned), it is not reset; past this much the loop drains first, so that
 * a stream of recorded commands holds no more of the arena's limit than
 * one command did before. */
#define VN_RECORDED_ARENA_MAX ((size_t)1 << 20)

/* Before a command while the recorder is active: the driver calls pushed
 * so far have returned, unless this command records too (then they run in
 * order on the recorder's thread); the arena is reset once no pending
 * record points into it. */
static inline void
before_command(struct vn_recorder *rec, struct vn_cs_decoder *dec, uint32_t type, uint32_t flags)
{
   if (vn_recorder_pending(rec)) {
      if (vn_command_recorded[type] && !(flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT)) {
         if (!rec->pinned) {
            vn_arena_reset(dec->arena);
            return;
         }
         if (vn_arena_in_use(dec->arena) < VN_RECORDED_ARENA_MAX)
            return;
      }
      vn_recorder_drain(rec);
   }
   vn_arena_reset(dec->arena);
}

void
vn_dispatch_commands(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec)
{
   struct vn_recorder *rec = ctx->recorder;
   const bool was_active = rec ? vn_recorder_begin(rec) : false;
   const bool deferring = vn_recorder_active(rec);
   while (!vn_cs_decoder_done(dec) && vn_dispatch_context_ok(ctx)) {
      uint32_t type, flags;
      const vn_run_fn run = peek_header(dec, &type, &flags);
      if (!run)
         break;
      if (deferring)
         before_command(rec, dec, type, flags);
      else
         vn_arena_reset(dec->arena);
      run(ctx, dec, flags);
      if (dec->fatal || (flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT))
         break;
   }
   if (rec)
      vn_recorder_end(rec, was_active);
}
