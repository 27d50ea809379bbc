${header}
/* Stub manual handlers: let unit tests and fuzzers link the decoder
 * without the renderer. They only count calls. */
#include "venus/generated/vn_protocol_renderer.h"

unsigned vn_stub_handler_calls;

% for cmd in cmds:
%   if cmd['name'] in g.manual:
void
vn_handle_${cmd['name']}(struct vn_dispatch_context *ctx, struct vn_command_${cmd['name']} *args)
{
   (void)ctx;
   (void)args;
   vn_stub_handler_calls++;
}

%   endif
% endfor
