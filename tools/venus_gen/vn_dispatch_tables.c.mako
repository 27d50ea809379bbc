${header}
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/vn_dispatch.h"

## A command by its name first, then by its aliases (a host may expose a
## promoted command only by its extension name).
<%def name="load(n, handle)">\
   d->${n} = (PFN_${n})get_proc(${handle}, "${n}");
% for al in g.aliases_of(n):
   if (!d->${n})
      d->${n} = (PFN_${n})get_proc(${handle}, "${al}");
% endfor
</%def>\
void
vn_instance_dispatch_init(struct vn_instance_dispatch *d,
                          PFN_vkGetInstanceProcAddr get_proc, VkInstance instance)
{
% for n in instance_cmds:
${load(n, 'instance')}\
% endfor
}

void
vn_device_dispatch_init(struct vn_device_dispatch *d,
                        PFN_vkGetDeviceProcAddr get_proc, VkDevice device)
{
% for n in device_cmds:
${load(n, 'device')}\
% endfor
}

void
vn_object_destroy_host(struct vn_object *obj)
{
   struct vn_dispatch_device *dev = obj->device;
   if (!dev || !obj->handle)
      return;
   switch (obj->type) {
% for t, destroy in destroyers:
   case ${reg.handles[t]['objtype']}:
      if (dev->dispatch.${destroy})
         dev->dispatch.${destroy}(dev->handle, (${t})(uintptr_t)obj->handle, NULL);
      break;
% endfor
   default:
      break;
   }
}
