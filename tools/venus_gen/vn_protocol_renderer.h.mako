${header}
/*
 * Venus protocol: command argument structs, decoders, reply encoders and
 * the hand-written handlers the generated dispatcher calls. Contract:
 * docs/venus-renderer.md.
 */
#ifndef PV_VENUS_GENERATED_VN_PROTOCOL_RENDERER_H
#define PV_VENUS_GENERATED_VN_PROTOCOL_RENDERER_H

#include <vulkan/vulkan.h>

#include "venus/vn_cs.h"
#include "venus/vn_object.h"
#include "venus/generated/vn_dispatch_tables.h"

struct vn_dispatch_context;

## Venus-only types (tools/venus_protocol.xml).
% for name, value in venus.stypes:
#define ${name} ((VkStructureType)${value})
% endfor

% for name in venus.types:
%   if name in reg.bitmasks:
typedef VkFlags ${name};
%   endif
% endfor

% for name in venus.types:
%   if name in reg.structs:
typedef struct ${name} {
%     for m in reg.structs[name]['members']:
   ${m.decl};
%     endfor
} ${name};

%   endif
% endfor
typedef enum VkCommandTypeEXT {
% for name, num in command_types:
   VK_COMMAND_TYPE_${name}_EXT = ${num},
% endfor
} VkCommandTypeEXT;

typedef enum VkCommandFlagBitsEXT {
   VK_COMMAND_GENERATE_REPLY_BIT_EXT = 0x00000001,
} VkCommandFlagBitsEXT;

#define VN_COMMAND_TYPE_COUNT ${command_type_count}

## The decoded arguments of a command, what its executor or handler needs
## besides (the dispatchable object; the objects of its other handles, as
## the decoder looked them up by id; what a destroy removes from the table)
## and its return value.
% for cmd in cmds:
struct vn_command_${cmd['name']} {
%   for p in cmd['params']:
   ${g.args_member_decl(p)};
%   endfor
%   if cmd['ret'] != 'void':
   ${cmd['ret']} ret;
%   endif
   struct vn_object *dispatch;
%   for p, many in g.resolved_objects(cmd):
%     if many == 'one':
   struct vn_object *${p.name}_object; /* the decoder's object of ${p.name}, NULL for none */
%     else:
   struct vn_object **${p.name}_objects; /* the decoder's objects of ${p.name}, NULL entries for none */
%     endif
%   endfor
<% dp, dk = g.destroy_kind(cmd) %>\
%   if dp is not None and cmd['name'] not in g.manual:
%     if dk == 'array':
   uint64_t *${dp.name}_ids; /* guest ids of the objects being freed */
%     else:
   struct vn_object *${dp.name}_object; /* object being destroyed */
%     endif
%   endif
};

% endfor
% for cmd in cmds:
void vn_decode_${cmd['name']}_args(struct vn_cs_decoder *dec, struct vn_command_${cmd['name']} *args);
void vn_encode_${cmd['name']}_reply(struct vn_cs_encoder *enc, const struct vn_command_${cmd['name']} *args);
% endfor

/* Hand-written handlers (tools/venus_manual.txt). They run after a
 * successful decode; they make `ret` and the outputs ready for the reply
 * encoder (output handles must hold the guest ids again). */
% for cmd in cmds:
%   if cmd['name'] in g.manual:
void vn_handle_${cmd['name']}(struct vn_dispatch_context *ctx, struct vn_command_${cmd['name']} *args);
%   endif
% endfor

/* Decodes one command from dec (resetting dec->arena first), runs it and
 * encodes its reply when asked for. Unknown command, bad stream or bad
 * object: dec becomes fatal. (src/venus/vn_dispatch_command.c) */
void vn_dispatch_command(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec);

/* vn_dispatch_command() for the commands that follow, until the stream
 * ends, dec becomes fatal, the context fails (vn_dispatch_context_ok())
 * or a command that asked for a reply has run (so that the caller can
 * check the reply stream before the next one). */
void vn_dispatch_commands(struct vn_dispatch_context *ctx, struct vn_cs_decoder *dec);

/* Decodes one command (header and arguments) without running it: for
 * fuzzing and tests. Same errors as vn_dispatch_command. */
void vn_decode_command(struct vn_cs_decoder *dec);

/* Destroys the host object of a device-level object (not the device, queues,
 * command buffers or descriptor sets: those go with their device or pool).
 * Does not touch the table. */
void vn_object_destroy_host(struct vn_object *obj);

/* Name of a command type, or NULL. */
const char *vn_command_name(uint32_t type);

#endif
