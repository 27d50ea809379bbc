${header}
/*
 * Record calls (src/venus/vn_recorder.h): vn_call_<vkCmd*>(device, the
 * command's parameters) calls the driver directly, or, while the context's
 * recorder is active, pushes the call for the recorder's thread. Pointer
 * arguments must then stay valid until the recorder drains; fixed-size
 * arrays are copied into the record.
 */
#ifndef PV_VENUS_GENERATED_VN_RECORD_H
#define PV_VENUS_GENERATED_VN_RECORD_H

#include <string.h>

#include "venus/vn_dispatch.h"
#include "venus/vn_recorder.h"

% for name, members in records:
struct vn_record_${name} {
%   for p, m, arr in members:
   ${m};
%   endfor
};

void vn_replay_${name}(PFN_vkVoidFunction fn, const void *args);

static inline void
vn_call_${name}(const struct vn_dispatch_device *dev, ${', '.join(p.decl for p, _, _ in members)})
{
   if (!vn_recorder_active(dev->recorder)) {
      dev->dispatch.${name}(${', '.join(p.name for p, _, _ in members)});
      return;
   }
   struct vn_record_${name} *r = vn_recorder_push(dev->recorder, vn_replay_${name}, (PFN_vkVoidFunction)dev->dispatch.${name}, sizeof(*r));
%   for p, m, arr in members:
%     if arr:
   memcpy(r->${p.name}, ${p.name}, sizeof(r->${p.name}));
%     else:
   r->${p.name} = ${p.name};
%     endif
%   endfor
   vn_recorder_commit(dev->recorder);
}

% endfor
#endif
