<%namespace name="wire" file="wire.mako"/>\
${header}
#include "venus/generated/vn_protocol_internal.h"

## The sTypes a struct's pNext chain may hold, shared by its full and
## partial decoders.
% for s in chain_structs:
static const VkStructureType vn_chain_${s}[] = {
%   for e in g.extenders(s):
   ${reg.structs[e]['stype']},
%   endfor
};

% endfor
% for s, partial in decoders:
${struct_decoder(s, partial)}\
% endfor
size_t
vn_pnext_size(VkStructureType s)
{
   switch ((int32_t)s) {
% for s in stype_structs:
   case ${reg.structs[s]['stype']}: return sizeof(${s});
% endfor
   default: return 0;
   }
}

bool
vn_pnext_decode_self(struct vn_cs_decoder *dec, void *p, bool partial)
{
   switch ((int32_t)((VkBaseOutStructure *)p)->sType) {
% for s in stype_structs:
   case ${reg.structs[s]['stype']}:
%   if s in g.in_structs and s in g.out_structs:
      if (partial) vn_decode_${s}_self_partial(dec, p); else vn_decode_${s}_self(dec, p);
%   elif s in g.in_structs:
      if (partial) return false;
      vn_decode_${s}_self(dec, p);
%   else:
      if (!partial) return false;
      vn_decode_${s}_self_partial(dec, p);
%   endif
      return true;
% endfor
   default: return false;
   }
}
##
<%def name="struct_decoder(name, partial)">\
<%
   s = reg.structs[name]
   sib = {m.name: m for m in s['members']}
   sfx = '_partial' if partial else ''
%>\
% if s['union']:
void
vn_decode_${name}(struct vn_cs_decoder *dec, ${name} *val)
{
   switch (vn_decode_uint32_t(dec)) {
%   for i, m in enumerate(s['members']):
   case ${i}:
${wire.dec_member(m, 'val->', sib, name, False, '      ')}\
      break;
%   endfor
   default:
      vn_cs_decoder_set_fatal(dec, "bad union tag");
      break;
   }
}

% elif s['stype']:
void
vn_decode_${name}_self${sfx}(struct vn_cs_decoder *dec, ${name} *val)
{
${struct_members(name, partial)}\
}

void
vn_decode_${name}${sfx}(struct vn_cs_decoder *dec, ${name} *val)
{
   if (vn_decode_uint32_t(dec) != ${s['stype']}) {
      vn_cs_decoder_set_fatal(dec, "unexpected sType");
      return;
   }
   val->sType = ${s['stype']};
%   if g.extenders(name):
   val->pNext = (void *)vn_decode_pnext${sfx}(dec, vn_chain_${name}, ${len(g.extenders(name))});
%   else:
   val->pNext = (void *)vn_decode_pnext${sfx}(dec, NULL, 0);
%   endif
   vn_decode_${name}_self${sfx}(dec, val);
}

% else:
void
vn_decode_${name}${sfx}(struct vn_cs_decoder *dec, ${name} *val)
{
${struct_members(name, partial)}\
}

% endif
</%def>\
##
## The members after sType/pNext, then the extra rules of
## tools/venus_protocol.txt ("check") on a fully decoded struct.
<%def name="struct_members(name, partial)">\
<%
   s = reg.structs[name]
   sib = {m.name: m for m in s['members']}
   members = [m for m in s['members'] if m.name not in ('sType', 'pNext')]
   runs = [('one', m) for m in members] if partial else g.flat_runs(members)
%>\
% for kind, item in runs:
%   if kind == 'one':
${wire.dec_member(item, 'val->', sib, name, partial)}\
%   else:
<% size = sum(sz for _, _, sz in item) %>\
   {
      /* plain members: one bounds check for them (Gen.flat_runs) */
      const uint8_t *span = vn_decode_peek_bytes(dec, ${size});
      if (span) {
%     for m, off, sz in item:
<% rt = reg.resolve(m.type) %>\
%       if reg.kind(rt) == 'handle':
         uint64_t ${m.name}_id;
         memcpy(&${m.name}_id, span + ${off}, 8);
         struct vn_object *${m.name}_obj = vn_lookup_object(dec, ${m.name}_id, ${g.objtype(rt)}, ${c_bool(g.elem_optional(m, name))});
         val->${m.name} = ${m.name}_obj ? (${rt})(uintptr_t)${m.name}_obj->handle : VK_NULL_HANDLE;
%       else:
         _Static_assert(sizeof(val->${m.name}) == ${sz}, "wire size of ${m.name}");
         memcpy(&val->${m.name}, span + ${off}, ${sz});
%       endif
%     endfor
      } else {
%     for m, off, sz in item:
         memset(&val->${m.name}, 0, sizeof(val->${m.name}));
%     endfor
      }
   }
%   endif
% endfor
% if not partial:
%   for line in g.enum_checks(members, 'val->', sib, name):
   ${line}
%   endfor
%   for expr in g.checks.get(name, []):
   if (!dec->fatal && !(${expr}))
      vn_cs_decoder_set_fatal(dec, "invalid ${name}");
%   endfor
% endif
</%def>\
