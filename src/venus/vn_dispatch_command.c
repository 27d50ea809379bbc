/*
 * One command off the stream: its header (type, flags), then the generated
 * per-type function from vn_run_table / vn_decode_only_table
 * (generated/vn_command_table.c).
 */
#include "venus/generated/vn_protocol_internal.h"

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

void
vn_dispatch_command(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec)
{
   vn_arena_reset(dec->arena);
   /* the header, type and flags: one bounds check */
   const uint8_t *header = vn_decode_peek_bytes(dec, 8);
   if (!header)
      return;
   uint32_t type, flags;
   memcpy(&type, header, 4);
   memcpy(&flags, header + 4, 4);
   if (type >= VN_COMMAND_TYPE_COUNT || !vn_run_table[type]) {
      vn_cs_decoder_set_fatal(dec, "unknown or unsupported command type");
      return;
   }
   vn_run_table[type](ctx, dec, flags);
}
