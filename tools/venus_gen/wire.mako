## Statements that decode or encode one value or member on the Venus wire
## (docs/venus-renderer.md). Included by the struct and command templates;
## `g` is the generator's model (tools/gen_venus.py: Gen), `reg` the registry.
## Every def emits whole lines, each starting with `ind`.
<%def name="dec_value(t, dst, ind, partial, out_handles, optional=False)">\
<% k = reg.kind(t); rt = reg.resolve(t) %>\
% if k == 'scalar' and not partial:
%   if rt == 'size_t':
${ind}${dst} = (size_t)vn_decode_uint64_t(dec);
%   else:
${ind}vn_decode_bytes(dec, &${dst}, sizeof(${dst}));
%   endif
% elif k == 'handle' and out_handles:
${ind}${dst} = (${rt})(uintptr_t)vn_decode_uint64_t(dec);
% elif k == 'handle' and not partial:
${ind}${dst} = vn_decode_handle_${rt}(dec, ${'true' if optional else 'false'});
% elif k == 'struct':
${ind}vn_decode_${rt}${'_partial' if partial else ''}(dec, &${dst});
% elif k == 'union':
${ind}vn_decode_${rt}(dec, &${dst});
% endif
</%def>\
##
## A struct member (prefix "val->") or a command's input parameter
## (prefix "args->"); Gen.dec_shape says which wire form it has.
## count_var: the array size, read already (Gen.prefix_array).
<%def name="dec_member(m, prefix, siblings, owner, partial, ind='   ', count_var=None)">\
<%
   shape = g.dec_shape(m, siblings, partial)
   dst = prefix + m.name
   rt = reg.resolve(m.type)
   k = reg.kind(rt)
   opt = g.elem_optional(m, owner)
   required = g.ptr_required(m, owner)
   lenx = g.len_expr(m, prefix, siblings) if m.len or m.altlen else None
%>\
% if shape == 'typed_handle':
${ind}${dst} = vn_decode_typed_handle(dec, ${prefix}${m.objecttype});
% elif shape in ('fixed_bytes', 'fixed_loop'):
${ind}if (vn_decode_array_size_expect(dec, ${m.array})) {
%   if shape == 'fixed_bytes':
${ind}   vn_decode_bytes(dec, ${dst}, sizeof(${dst}));
%   else:
${ind}   for (uint32_t i = 0; i < ${m.array}; i++)
${dec_value(rt, dst + '[i]', ind + '      ', partial, partial, opt)}\
%   endif
${ind}}
% elif shape == 'value':
${dec_value(rt, dst, ind, partial, False, opt)}\
% elif shape == 'string_array':
${ind}{
${ind}   const uint64_t n = vn_decode_array_size(dec, 8);
${ind}   if (n && n != ${lenx}) vn_cs_decoder_set_fatal(dec, "array size mismatch");
${ind}   ${dst} = n ? vn_decode_string_array(dec, n) : NULL;
%   if required:
${ind}   if (!n && ${lenx}) vn_cs_decoder_set_fatal(dec, "missing required array");
%   endif
${ind}}
% elif shape == 'string':
${ind}${dst} = vn_decode_string(dec);
%   if required:
${ind}if (!${dst}) vn_cs_decoder_set_fatal(dec, "missing required string");
%   endif
% elif shape == 'pointer':
${ind}if (vn_decode_simple_pointer(dec)) {
${ind}   ${rt} *p = vn_cs_decoder_alloc(dec, 1, sizeof(*p));
${ind}   if (p)
${dec_value(rt, '*p', ind + '      ', partial and not m.const, False)}\
${ind}   ${dst} = p;
${ind}} else {
${ind}   ${dst} = NULL;
%   if required and not partial:
${ind}   vn_cs_decoder_set_fatal(dec, "missing required pointer");
%   endif
${ind}}
% elif shape == 'blob':
${ind}{
%   if count_var:
${ind}   const uint64_t n = vn_check_array_size(dec, ${count_var}, 1);
%   else:
${ind}   const uint64_t n = vn_decode_array_size(dec, 1);
%   endif
${ind}   if (n && n != ${lenx}) vn_cs_decoder_set_fatal(dec, "array size mismatch");
${ind}   ${dst} = n ? (void *)vn_decode_peek_bytes(dec, (size_t)n) : NULL;
%   if required:
${ind}   if (!n && ${lenx}) vn_cs_decoder_set_fatal(dec, "missing required array");
%   endif
${ind}}
% elif shape == 'array':
${ind}{
%   if partial:
${ind}   const uint64_t n = vn_decode_array_size(dec, 0);
%   elif count_var:
${ind}   const uint64_t n = vn_check_array_size(dec, ${count_var}, ${g.min_wire(rt)});
%   else:
${ind}   const uint64_t n = vn_decode_array_size(dec, ${g.min_wire(rt)});
%   endif
%   if not partial:
%     if required:
${ind}   if (n != ${lenx})
${ind}      vn_cs_decoder_set_fatal(dec, n ? "array size mismatch" : "missing required array");
%     else:
${ind}   if (n && n != ${lenx}) vn_cs_decoder_set_fatal(dec, "array size mismatch");
%     endif
%   endif
<% plain = g.plain_struct_size(rt) if k == 'struct' and not partial else None %>\
<% in_place = m.const and m.ptr == 1 and (plain or (k == 'scalar' and not partial and g.scalar_array_is_bytes(rt))) %>\
%   if in_place:
${ind}   /* wire layout = C layout${' (Gen.plain_struct_size)' if plain else ''}: read in place */
%     if plain:
${ind}   _Static_assert(sizeof(${rt}) == ${plain}, "wire size of ${rt}");
%     endif
${ind}   ${dst} = n ? vn_decode_array_in_place(dec, (size_t)n * sizeof(${rt}), _Alignof(${rt})) : NULL;
${ind}}
%   else:
## arrays the loop below writes in full need no zero fill first
%   if (k == 'scalar' and not partial) or k == 'handle' or plain:
${ind}   ${rt} *a = n ? vn_cs_decoder_alloc_uninit(dec, n, sizeof(*a)) : NULL;
%   else:
${ind}   ${rt} *a = n ? vn_cs_decoder_alloc(dec, n, sizeof(*a)) : NULL;
%   endif
${ind}   if (a) {
%   if plain:
${ind}      /* wire layout = C layout (Gen.plain_struct_size): one copy */
${ind}      _Static_assert(sizeof(*a) == ${plain}, "wire size of ${rt}");
${ind}      vn_decode_bytes(dec, a, (size_t)n * sizeof(*a));
%   elif k == 'scalar' and not partial:
%     if g.scalar_array_is_bytes(rt):
${ind}      vn_decode_bytes(dec, a, (size_t)n * sizeof(*a));
%     else:
${ind}      for (uint64_t i = 0; i < n; i++)
${dec_value(rt, 'a[i]', ind + '         ', False, False)}\
%     endif
%   elif k != 'scalar':
${ind}      for (uint64_t i = 0; i < n; i++)
${dec_value(rt, 'a[i]', ind + '         ', partial, partial, opt)}\
%   endif
${ind}   }
${ind}   ${dst} = a;
<% cnt = g.partial_count_member(m, siblings) if partial else None %>\
%   if cnt is not None:
${ind}   ${prefix}${cnt.name} = (${cnt.type})n;
%   endif
${ind}}
%   endif
% endif
</%def>\
##
<%def name="enc_value(t, src, ind)">\
<% k = reg.kind(t); rt = reg.resolve(t) %>\
% if k == 'scalar' and rt == 'size_t':
${ind}vn_encode_uint64_t(enc, (uint64_t)${src});
% elif k == 'scalar':
${ind}vn_encode_bytes(enc, &${src}, sizeof(${src}));
% elif k == 'handle':
${ind}vn_encode_uint64_t(enc, (uint64_t)(uintptr_t)${src});
% elif k == 'struct':
${ind}vn_encode_${rt}(enc, &${src});
% else:
<% raise g.unsupported('encode ' + rt) %>\
% endif
</%def>\
##
## A member of an output struct, written back into the reply.
<%def name="enc_member(m, prefix, siblings, ind='   ')">\
<%
   rt = reg.resolve(m.type)
   k = reg.kind(rt)
   src = prefix + m.name
   shape = g.enc_shape(m)
%>\
% if shape == 'fixed':
${ind}vn_encode_array_size(enc, ${m.array});
%   if k == 'scalar' and rt != 'size_t':
${ind}vn_encode_bytes(enc, ${src}, sizeof(${src}));
%   else:
${ind}for (uint32_t i = 0; i < ${m.array}; i++)
${enc_value(rt, src + '[i]', ind + '   ')}\
%   endif
% elif shape == 'value':
${enc_value(rt, src, ind)}\
% elif shape == 'pointer':
${ind}vn_encode_simple_pointer(enc, ${src});
${ind}if (${src})
${enc_value(rt, '*' + src, ind + '   ')}\
% else:
<% lenx = g.len_expr(m, prefix, siblings) %>\
${ind}if (${src}) {
${ind}   vn_encode_array_size(enc, ${lenx});
${ind}   for (uint64_t i = 0; i < ${lenx}; i++)
${enc_value(rt, src + '[i]', ind + '      ')}\
${ind}} else {
${ind}   vn_encode_array_size(enc, 0);
${ind}}
% endif
</%def>\
