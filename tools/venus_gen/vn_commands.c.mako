<%namespace name="wire" file="wire.mako"/>\
${header}
/* Commands about ${about}.
 * Argument decoders, reply encoders, executors (the host call and the
 * object table around it) and the vn_run_* entries of vn_run_table. */
#include "venus/generated/vn_protocol_internal.h"
#include "venus/vn_dispatch.h"

% for cmd in cmds:
<% layout = g.flat_layout(cmd) %>\
%   if layout is not None and g.destroy_kind(cmd)[0] is None:
${decode_flat(cmd, layout)}\
%   else:
${decode_args(cmd)}\
%   endif
${encode_reply(cmd)}\
%   if cmd['name'] not in g.manual:
${executor(cmd)}\
%   endif
${runner(cmd)}\
% endfor
##
## ---- argument decoders ------------------------------------------------
##
<%def name="handle_from_object(cmd, i, p, obj)">\
      args->${p.name} = ${obj} ? (${reg.resolve(p.type)})(uintptr_t)${obj}->handle : VK_NULL_HANDLE;
% if i == 0 and reg.handles[reg.resolve(p.type)]['dispatchable']:
      args->dispatch = ${obj};
% elif (p, 'one') in g.resolved_objects(cmd):
      args->${p.name}_object = ${obj};
% endif
</%def>\
##
## Every parameter a plain handle or a 4/8-byte scalar (vkCmdDraw and the
## like, which come by the thousand): one bounds check for all of them.
<%def name="decode_flat(cmd, layout)">\
<% name = cmd['name'] %>\
${decoder_head(cmd)}\
{
   /* fixed layout: one bounds check for the whole command */
${flat_params(cmd, layout)}\
${enum_checks(cmd)}\
}

${decoder_tail(cmd)}\
</%def>\
##
## The decoder's signature: for Gen.decode_inline commands an inline body
## (vn_run_* inlines it), then the out-of-line vn_decode_*_args() around it.
<%def name="decoder_head(cmd)">\
<% name = cmd['name'] %>\
% if g.decode_inline(cmd):
VN_CS_INLINE void
vn_decode_${name}_args_inline(struct vn_cs_decoder *dec, struct vn_command_${name} *args)
% else:
void
vn_decode_${name}_args(struct vn_cs_decoder *dec, struct vn_command_${name} *args)
% endif
</%def>\
<%def name="decoder_tail(cmd)">\
<% name = cmd['name'] %>\
% if g.decode_inline(cmd):
void
vn_decode_${name}_args(struct vn_cs_decoder *dec, struct vn_command_${name} *args)
{
   vn_decode_${name}_args_inline(dec, args);
}

% endif
</%def>\
##
## Parameters of a flat layout (or prefix), read from one bounds-checked span.
## parr: the array whose size follows the prefix (Gen.prefix_array), read
## into prefix_n with it.
<%def name="flat_params(cmd, layout, parr=None)">\
<% name = cmd['name'] %>\
   const uint8_t *span = vn_decode_peek_bytes(dec, ${g.layout_size(layout) + (8 if parr else 0)});
   if (!span)
      return;
% for i, (prm, off, size) in enumerate(layout):
%   if reg.kind(prm.type) == 'handle':
   {
      uint64_t id;
      memcpy(&id, span + ${off}, 8);
      struct vn_object *obj = vn_lookup_object(dec, id, ${g.objtype(prm.type)}, ${c_bool(g.elem_optional(prm, name))});
${handle_from_object(cmd, i, prm, 'obj')}\
   }
%   else:
   _Static_assert(sizeof(args->${prm.name}) == ${size}, "wire size of ${prm.name}");
   memcpy(&args->${prm.name}, span + ${off}, ${size});
%   endif
% endfor
% if parr:
   uint64_t prefix_n; /* the size of ${parr.name} */
   memcpy(&prefix_n, span + ${g.layout_size(layout)}, 8);
% endif
</%def>\
##
<%def name="decode_args(cmd)">\
<%
   name = cmd['name']
   sib = {p.name: p for p in cmd['params']}
%>\
<% prefix = g.flat_prefix(cmd); parr = g.prefix_array(cmd, prefix) %>\
${decoder_head(cmd)}\
{
% if prefix:
   /* fixed-size leading parameters: one bounds check for them */
${flat_params(cmd, prefix, parr)}\
% endif
% for i, p in list(enumerate(cmd['params']))[len(prefix):]:
<%
   shape = g.param_shape(cmd, p)
   rt = reg.resolve(p.type)
   k = reg.kind(rt)
   dst = 'args->' + p.name
   ct = 'uint8_t' if k == 'void' else rt
%>\
%   if shape == 'alloc_callbacks':
   if (vn_decode_simple_pointer(dec))
      vn_cs_decoder_set_fatal(dec, "allocation callbacks are not supported");
   ${dst} = NULL;
%   elif shape in ('handle', 'destroyed_handle'):
   {
      struct vn_object *obj = vn_decode_object(dec, ${g.objtype(rt)}, ${c_bool(g.elem_optional(p, name))});
${handle_from_object(cmd, i, p, 'obj')}\
%     if shape == 'destroyed_handle':
      args->${p.name}_object = obj;
%     endif
   }
%   elif shape == 'destroyed_array':
<% lenx = g.len_expr(p, 'args->', sib) %>\
   {
      const uint64_t n = vn_decode_array_size(dec, 8);
      if (n && n != ${lenx}) vn_cs_decoder_set_fatal(dec, "array size mismatch");
      ${rt} *a = n ? vn_cs_decoder_alloc(dec, n, sizeof(*a)) : NULL;
      uint64_t *ids = n ? vn_cs_decoder_alloc(dec, n, sizeof(*ids)) : NULL;
      for (uint64_t i = 0; a && ids && i < n; i++) {
         struct vn_object *o = vn_decode_object(dec, ${g.objtype(rt)}, ${c_bool(g.elem_optional(p, name))});
         a[i] = o ? (${rt})(uintptr_t)o->handle : VK_NULL_HANDLE;
         ids[i] = o ? o->id : 0;
      }
      ${dst} = a;
      args->${p.name}_ids = ids;
   }
%   elif g.resolved_array(cmd, p):
<% lenx = g.len_expr(p, 'args->', sib) %>\
   {
      /* ids in one bounds check; host handles and objects in one allocation */
%     if parr is p:
      const uint64_t n = vn_check_array_size(dec, prefix_n, 8);
%     else:
      const uint64_t n = vn_decode_array_size(dec, 8);
%     endif
%     if g.ptr_required(p, name):
      if (n != ${lenx})
         vn_cs_decoder_set_fatal(dec, n ? "array size mismatch" : "missing required array");
%     else:
      if (n && n != ${lenx}) vn_cs_decoder_set_fatal(dec, "array size mismatch");
%     endif
      const uint8_t *ids = n ? vn_decode_peek_bytes(dec, (size_t)n * 8) : NULL;
      ${rt} *a = ids ? vn_cs_decoder_alloc_uninit(dec, n, sizeof(*a) + sizeof(struct vn_object *)) : NULL;
      struct vn_object **objs = a ? (struct vn_object **)(void *)(a + n) : NULL;
      if (a) {
         for (uint64_t i = 0; i < n; i++) {
            uint64_t id;
            memcpy(&id, ids + 8 * i, 8);
            struct vn_object *obj = vn_lookup_object(dec, id, ${g.objtype(rt)}, ${c_bool(g.elem_optional(p, name))});
            a[i] = obj ? (${rt})(uintptr_t)obj->handle : VK_NULL_HANDLE;
            objs[i] = obj;
         }
      }
      ${dst} = a;
      args->${p.name}_objects = objs;
   }
%   elif shape == 'input':
${wire.dec_member(p, 'args->', sib, name, False, count_var='prefix_n' if parr is p else None)}\
%   elif shape == 'out_pointer':
   if (vn_decode_simple_pointer(dec)) {
      ${ct} *p = vn_cs_decoder_alloc(dec, 1, sizeof(*p));
%     if k == 'handle':
      if (p) *p = (${rt})(uintptr_t)vn_decode_uint64_t(dec);
%     elif k == 'scalar' and p.name in g.count_params(cmd) and rt == 'size_t':
      if (p) *p = (size_t)vn_decode_uint64_t(dec);
%     elif k == 'scalar' and p.name in g.count_params(cmd):
      if (p) vn_decode_bytes(dec, p, sizeof(*p));
%     elif k == 'struct':
      if (p) vn_decode_${rt}_partial(dec, p);
%     endif
      ${dst} = p;
   } else {
      ${dst} = NULL;
%     if g.ptr_required(p, name):
      vn_cs_decoder_set_fatal(dec, "missing required pointer");
%     endif
   }
%   elif shape == 'out_array':
<% lenx = g.len_expr(p, 'args->', sib) %>\
   {
      const uint64_t n = vn_decode_array_size(dec, ${8 if k == 'handle' else 0});
      if (n && n != ${lenx}) vn_cs_decoder_set_fatal(dec, "array size mismatch");
%     if g.ptr_required(p, name):
      if (!n && ${lenx}) vn_cs_decoder_set_fatal(dec, "missing required array");
%     endif
      ${ct} *a = n ? vn_cs_decoder_alloc(dec, n, sizeof(*a)) : NULL;
%     if k == 'handle':
      for (uint64_t i = 0; a && i < n; i++)
         a[i] = (${rt})(uintptr_t)vn_decode_uint64_t(dec);
%     elif k == 'struct':
      for (uint64_t i = 0; a && i < n; i++)
         vn_decode_${rt}_partial(dec, &a[i]);
%     endif
      ${dst} = a;
   }
%   endif
% endfor
${enum_checks(cmd)}\
}

${decoder_tail(cmd)}\
</%def>\
##
## The input parameters' enum values (Gen.enum_checks).
<%def name="enum_checks(cmd)">\
<%
   sib = {p.name: p for p in cmd['params']}
   inputs = [p for p in cmd['params'] if not g.is_output(p, cmd)]
%>\
% for line in g.enum_checks(inputs, 'args->', sib, cmd['name']):
   ${line}
% endfor
</%def>\
##
## ---- reply encoders: the return value, then every output parameter ----
##
<%def name="encode_reply(cmd)">\
<%
   name = cmd['name']
   sib = {p.name: p for p in cmd['params']}
%>\
void
vn_encode_${name}_reply(struct vn_cs_encoder *enc, const struct vn_command_${name} *args)
{
   vn_encode_uint32_t(enc, VK_COMMAND_TYPE_${name}_EXT);
% if cmd['ret'] != 'void':
${wire.enc_value(cmd['ret'], 'args->ret', '   ')}\
% endif
% for p in g.output_params(cmd):
<%
   rt = reg.resolve(p.type)
   k = reg.kind(rt)
   src = 'args->' + p.name
%>\
%   if p.len is None:
   vn_encode_simple_pointer(enc, ${src});
   if (${src})
${wire.enc_value(rt, '*' + src, '      ')}\
%   else:
<% lenx = g.len_expr(p, 'args->', sib) %>\
   if (${src}) {
      vn_encode_array_size(enc, ${lenx});
%     if k == 'void':
      vn_encode_bytes(enc, ${src}, (size_t)${lenx});
%     elif k == 'scalar' and rt != 'size_t':
      vn_encode_bytes(enc, ${src}, (size_t)${lenx} * sizeof(*${src}));
%     else:
      for (uint64_t i = 0; i < ${lenx}; i++)
${wire.enc_value(rt, src + '[i]', '         ')}\
%     endif
   } else {
      vn_encode_array_size(enc, 0);
   }
%   endif
% endfor
}

</%def>\
##
## ---- executors: the host call, and the object table for what it
## ---- creates or destroys
##
<%def name="executor(cmd)">\
<%
   name = cmd['name']
   x = g.exec_model(cmd)
   dev = 'args->dispatch->device'
%>\
static void
vn_exec_${name}(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec, struct vn_command_${name} *args)
{
   if (!args->dispatch || !args->dispatch->${x.owner} || !${x.pfn}) {
      vn_cs_decoder_set_fatal(dec, "${name}: not supported by the host");
      return;
   }
   (void)ctx;
% if x.shape == 'create_one':
   if (!args->${x.param.name}) {
      vn_cs_decoder_set_fatal(dec, "${name}: no object id");
      return;
   }
   ${x.type} host = VK_NULL_HANDLE;
   ${x.ret}${x.pfn}(${g.call_args(cmd, {x.param.name: '&host'})});
   if (host == VK_NULL_HANDLE)
      return;
   struct vn_object *obj = vn_object_table_insert(ctx->objects, (uint64_t)(uintptr_t)*args->${x.param.name}, ${x.objtype}, (uint64_t)(uintptr_t)host);
   if (!obj) {
%   if x.destroy:
      ${dev}->dispatch.${x.destroy}(${dev}->handle, host, NULL);
%   endif
      args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      vn_cs_decoder_set_fatal(dec, "${name}: object id rejected");
      return;
   }
   obj->device = ${dev};
   obj->instance = args->dispatch->instance;
   obj->parent_id = ${x.parent};
% elif x.shape == 'create_many':
   const uint64_t n = ${x.count};
   if (!args->${x.param.name} || !n) {
      vn_cs_decoder_set_fatal(dec, "${name}: no object ids");
      return;
   }
   ${x.type} *host = vn_cs_decoder_alloc(dec, n, sizeof(*host));
   if (!host)
      return;
   ${x.ret}${x.pfn}(${g.call_args(cmd, {x.param.name: 'host'})});
   const uint64_t parent_id = ${x.parent};
   for (uint64_t i = 0; i < n; i++) {
      if (host[i] == VK_NULL_HANDLE)
         continue;
      struct vn_object *obj = dec->fatal ? NULL : vn_object_table_insert(ctx->objects, (uint64_t)(uintptr_t)args->${x.param.name}[i], ${x.objtype}, (uint64_t)(uintptr_t)host[i]);
      if (!obj) {
%   if x.type == 'VkCommandBuffer':
         ${dev}->dispatch.vkFreeCommandBuffers(${dev}->handle, args->pAllocateInfo->commandPool, 1, &host[i]);
%   elif x.destroy:
         ${dev}->dispatch.${x.destroy}(${dev}->handle, host[i], NULL);
%   else:
         /* freed with its pool */
%   endif
         args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
         vn_cs_decoder_set_fatal(dec, "${name}: object id rejected");
         continue;
      }
      obj->device = ${dev};
      obj->instance = args->dispatch->instance;
      obj->parent_id = parent_id;
   }
% elif x.shape == 'destroy_many':
   ${x.ret}${x.pfn}(${g.call_args(cmd)});
   for (uint64_t i = 0; args->${x.param.name}_ids && i < ${x.count}; i++) {
      struct vn_object *obj = vn_object_table_lookup(ctx->objects, args->${x.param.name}_ids[i], ${x.objtype});
      if (obj)
         vn_object_table_remove(ctx->objects, obj);
   }
% elif x.shape in ('destroy_one', 'pool_reset'):
<% o = 'args->%s_object' % x.param.name %>\
   ${x.ret}${x.pfn}(${g.call_args(cmd)});
   if (${o}) {
%   if x.children:
      vn_remove_children(ctx, ${o}->id, ${x.children});
%   endif
%   if x.shape == 'destroy_one':
      vn_object_table_remove(ctx->objects, ${o});
%   endif
   }
% else:
   ${x.ret}${x.pfn}(${g.call_args(cmd)});
% endif
}

</%def>\
##
## ---- runners: decode, execute (or the hand-written handler), reply ----
##
<%def name="runner(cmd)">\
<%
   name = cmd['name']
   repeat = g.repeatable(cmd)
%>\
% if repeat and name in g.manual_repeat_handler:
/* The commands that follow, while they are ${name} on the same command
 * buffer without a reply, are decoded here without the per-command
 * dispatch; each goes through the handler, whose check reads its
 * arguments, and a refusal ends the run. */
static void
vn_repeat_${name}(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec, struct vn_command_${name} *args)
{
   const uint64_t id = args->dispatch->id;
   while (vn_cs_decoder_remaining(dec) >= 8 + ${g.layout_size(repeat)}) {
      const uint8_t *p = dec->cur;
      uint32_t header[2];
      uint64_t next_id;
      memcpy(header, p, 8);
      memcpy(&next_id, p + 8, 8);
      if (header[0] != VK_COMMAND_TYPE_${name}_EXT || header[1] || next_id != id)
         return;
%   for prm, off, size in repeat[1:]:
      memcpy(&args->${prm.name}, p + 8 + ${off}, ${size});
%   endfor
      dec->cur = p + 8 + ${g.layout_size(repeat)};
      vn_handle_${name}(ctx, args);
      if (!vn_dispatch_context_ok(ctx))
         return;
   }
}

% elif repeat:
/* The commands that follow, while they are ${name} on the same command
 * buffer without a reply, only call the driver: decode them here
 * without the per-command dispatch. Without the entry point they go
 * through the dispatch one by one (the first command's handler may not
 * have looked for it), which reports it missing. */
static void
vn_repeat_${name}(struct vn_cs_decoder *dec, struct vn_command_${name} *args)
{
   const PFN_${name} fn = ${g.pfn_expr(cmd)};
   if (!fn)
      return;
   const uint64_t id = args->dispatch->id;
   while (vn_cs_decoder_remaining(dec) >= 8 + ${g.layout_size(repeat)}) {
      const uint8_t *p = dec->cur;
      uint32_t header[2];
      uint64_t next_id;
      memcpy(header, p, 8);
      memcpy(&next_id, p + 8, 8);
      if (header[0] != VK_COMMAND_TYPE_${name}_EXT || header[1] || next_id != id)
         return;
%   for prm, off, size in repeat[1:]:
      memcpy(&args->${prm.name}, p + 8 + ${off}, ${size});
%   endfor
      dec->cur = p + 8 + ${g.layout_size(repeat)};
      fn(${g.call_args(cmd)});
   }
}

% endif
void
vn_run_${name}(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec, uint32_t flags)
{
   struct vn_command_${name} args;
   memset(&args, 0, sizeof(args));
   vn_decode_${name}_args${'_inline' if g.decode_inline(cmd) else ''}(dec, &args);
   if (dec->fatal)
      return;
% if name in g.manual:
   vn_handle_${name}(ctx, &args);
% else:
   vn_exec_${name}(ctx, dec, &args);
% endif
% if repeat:
%   if name in g.manual:
   /* a run only after a command the handler let through */
   if (dec->fatal || !vn_dispatch_context_ok(ctx))
      return;
%   else:
   if (dec->fatal)
      return;
%   endif
   if (!(flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT)) {
%   if name in g.manual_repeat_handler:
      vn_repeat_${name}(ctx, dec, &args);
%   else:
      vn_repeat_${name}(dec, &args);
%   endif
      return;
   }
% else:
   if (dec->fatal || !(flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT))
      return;
% endif
   struct vn_cs_encoder *enc = vn_dispatch_reply_encoder(ctx);
   if (enc)
      vn_encode_${name}_reply(enc, &args);
}

</%def>\
