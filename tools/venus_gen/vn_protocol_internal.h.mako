${header}
/* What the generated files declare for one another, and the hand-written
 * protocol support (src/venus/vn_protocol_support.h) they call. */
#ifndef PV_VENUS_GENERATED_VN_PROTOCOL_INTERNAL_H
#define PV_VENUS_GENERATED_VN_PROTOCOL_INTERNAL_H

#include "venus/generated/vn_protocol_renderer.h"
#include "venus/vn_protocol_support.h"

## Whether a value is one the registry defines for its enum type (core and
## every extension; FlagBits: one of its bits): drivers map enums through
## switches and tables, so one outside them fails the stream.
% for t in enums:
static inline bool
vn_enum_ok_${t}(int64_t v)
{
<% runs = g.enum_ranges(t) %>\
%   for i, (a, b) in enumerate(runs):
<% lead = '   return ' if i == 0 else '          ' %>\
<% tail = ';' if i == len(runs) - 1 else ' ||' %>\
%     if a == b:
${lead}v == ${a}${tail}
%     else:
${lead}(v >= ${a} && v <= ${b})${tail}
%     endif
%   endfor
}

% endfor
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
