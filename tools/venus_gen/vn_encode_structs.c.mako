<%namespace name="wire" file="wire.mako"/>\
${header}
#include "venus/generated/vn_protocol_internal.h"

% for name in out_structs:
<% s = reg.structs[name]; sib = {m.name: m for m in s['members']} %>\
%   if s['stype']:
void
vn_encode_${name}_self(struct vn_cs_encoder *enc, const ${name} *val)
{
${members(name)}\
}

void
vn_encode_${name}(struct vn_cs_encoder *enc, const ${name} *val)
{
   vn_encode_uint32_t(enc, (uint32_t)${s['stype']});
   vn_encode_pnext(enc, val->pNext);
   vn_encode_${name}_self(enc, val);
}

%   else:
void
vn_encode_${name}(struct vn_cs_encoder *enc, const ${name} *val)
{
${members(name)}\
}

%   endif
% endfor
bool
vn_pnext_encode_self(struct vn_cs_encoder *enc, const void *p)
{
   switch ((int32_t)((const VkBaseInStructure *)p)->sType) {
% for s in stype_structs:
%   if s in g.out_structs:
   case ${reg.structs[s]['stype']}: vn_encode_${s}_self(enc, p); return true;
%   endif
% endfor
   default: return false;
   }
}
##
<%def name="members(name)">\
<% s = reg.structs[name]; sib = {m.name: m for m in s['members']} %>\
% for m in s['members']:
%   if m.name not in ('sType', 'pNext'):
${wire.enc_member(m, 'val->', sib)}\
%   endif
% endfor
</%def>\
