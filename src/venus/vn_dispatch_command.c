/*
 * One command off the stream: its header (type, flags), then the generated
 * per-type function from vn_run_table / vn_decode_only_table
 * (generated/vn_command_table.c). vn_dispatch_commands() runs the commands
 * that follow in the same loop, without a call per command.
 */
#include "venus/generated/vn_protocol_internal.h"
#include "venus/vn_dispatch.h"

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

/* One command off the stream; its flags (0 when the header was bad). */
static inline uint32_t
dispatch_one(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec)
{
   vn_arena_reset(dec->arena);
   /* the header, type and flags: one bounds check */
   const uint8_t *header = vn_decode_peek_bytes(dec, 8);
   if (!header)
      return 0;
   uint32_t type, flags;
   memcpy(&type, header, 4);
   memcpy(&flags, header + 4, 4);
   if (type >= VN_COMMAND_TYPE_COUNT || !vn_run_table[type]) {
      vn_cs_decoder_set_fatal(dec, "unknown or unsupported command type");
      return 0;
   }
   vn_run_table[type](ctx, dec, flags);
   return flags;
}

void
vn_dispatch_command(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec)
{
   dispatch_one(ctx, dec);
}

void
vn_dispatch_commands(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec)
{
   while (!vn_cs_decoder_done(dec) && vn_dispatch_context_ok(ctx)) {
      const uint32_t flags = dispatch_one(ctx, dec);
      if (dec->fatal || (flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT))
         return;
   }
}
