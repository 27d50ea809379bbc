${header}
/* The per-command-type tables vn_dispatch_command.c dispatches through. */
#include "venus/generated/vn_protocol_internal.h"

% for cmd in cmds:
static void
vn_decode_only_${cmd['name']}(struct vn_cs_decoder *dec)
{
   struct vn_command_${cmd['name']} args;
   memset(&args, 0, sizeof(args));
   vn_decode_${cmd['name']}_args(dec, &args);
}

% endfor
const vn_decode_only_fn vn_decode_only_table[VN_COMMAND_TYPE_COUNT] = {
% for cmd in cmds_by_number:
   [${cmd['number']}] = vn_decode_only_${cmd['name']},
% endfor
};

const vn_run_fn vn_run_table[VN_COMMAND_TYPE_COUNT] = {
% for cmd in cmds_by_number:
   [${cmd['number']}] = vn_run_${cmd['name']},
% endfor
};

const char *const vn_command_names[VN_COMMAND_TYPE_COUNT] = {
% for name, num in command_names:
   [${num}] = "${name}",
% endfor
};
