${header}
/*
 * Record calls (src/venus/vn_recorder.h): vn_call_<vkCmd*>(device, the
 * command's parameters) calls the driver directly, or, while the context's
 * recorder is active, pushes the call for the recorder's thread. Fixed-size
 * arrays and arrays of plain values are copied into the record (up to
 * VN_RECORD_COPY_MAX bytes; past that the recorder drains and the call is
 * made here). A record keeping any other pointer pins the decoder's arena
 * until the recorder drains.
 */
#ifndef PV_VENUS_GENERATED_VN_RECORD_H
#define PV_VENUS_GENERATED_VN_RECORD_H

#include <string.h>

#include "venus/vn_dispatch.h"
#include "venus/vn_recorder.h"

% for name, members in records:
<%
   copies = [(p, c) for p, _, _, c in members if c is not None]
   args = ', '.join(p.name for p, _, _, _ in members)
%>\
struct vn_record_${name} {
%   for p, m, arr, copy in members:
   ${m};
%   endfor
};

void vn_replay_${name}(PFN_vkVoidFunction fn, const void *args);

static inline void
vn_call_${name}(const struct vn_dispatch_device *dev, ${', '.join(p.decl for p, _, _, _ in members)})
{
   struct vn_recorder *rec = dev->recorder;
   if (!vn_recorder_active(rec)) {
      dev->dispatch.${name}(${args});
      return;
   }
%   for p, (elem, count) in copies:
   const size_t bytes_${p.name} = ${p.name} ? (size_t)${count} * sizeof(${elem}) : 0;
   const size_t size_${p.name} = vn_record_copy_size(bytes_${p.name});
%   endfor
%   if copies:
   const size_t copied = ${' + '.join('size_' + p.name for p, _ in copies)};
   if (copied > VN_RECORD_COPY_MAX) {
      vn_recorder_drain(rec);
      dev->dispatch.${name}(${args});
      return;
   }
%   endif
   struct vn_record_${name} *r = vn_recorder_push(rec, vn_replay_${name}, (PFN_vkVoidFunction)dev->dispatch.${name}, sizeof(*r)${' + copied' if copies else ''});
%   if copies:
   uint8_t *tail = (uint8_t *)(r + 1);
%   endif
%   for p, m, arr, copy in members:
%     if arr:
   memcpy(r->${p.name}, ${p.name}, sizeof(r->${p.name}));
%     elif copy:
   r->${p.name} = ${p.name} ? memcpy(tail, ${p.name}, bytes_${p.name}) : NULL;
   tail += size_${p.name};
%     else:
   r->${p.name} = ${p.name};
%     endif
%   endfor
%   if g.record_pins(members):
   rec->pinned = true;
%   endif
   vn_recorder_commit(rec);
}

% endfor
#endif
