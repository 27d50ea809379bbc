${header}
/* What the generated files declare for one another, and the hand-written
 * protocol support (src/venus/vn_protocol_support.h) they call. */
#ifndef PV_VENUS_GENERATED_VN_PROTOCOL_INTERNAL_H
#define PV_VENUS_GENERATED_VN_PROTOCOL_INTERNAL_H

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/vn_protocol_support.h"

% for h in handles:
static inline ${h}
vn_decode_handle_${h}(struct vn_cs_decoder *dec, bool optional)
{
   struct vn_object *obj = vn_decode_object(dec, ${reg.handles[h]['objtype']}, optional);
   return obj ? (${h})(uintptr_t)obj->handle : VK_NULL_HANDLE;
}

% endfor
% for s in in_structs:
void vn_decode_${s}(struct vn_cs_decoder *dec, ${s} *val);
%   if reg.structs[s]['stype']:
void vn_decode_${s}_self(struct vn_cs_decoder *dec, ${s} *val);
%   endif
% endfor
% for s in out_structs:
void vn_decode_${s}_partial(struct vn_cs_decoder *dec, ${s} *val);
void vn_encode_${s}(struct vn_cs_encoder *enc, const ${s} *val);
%   if reg.structs[s]['stype']:
void vn_decode_${s}_self_partial(struct vn_cs_decoder *dec, ${s} *val);
void vn_encode_${s}_self(struct vn_cs_encoder *enc, const ${s} *val);
%   endif
% endfor

/* Entries of vn_run_table (vn_command_table.c), each in the
 * vn_commands_<kind>.c of its object kind. */
% for cmd in cmds:
void vn_run_${cmd['name']}(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec, uint32_t flags);
% endfor

#endif
