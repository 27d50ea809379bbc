${header}
#ifndef PV_VENUS_GENERATED_VN_DISPATCH_TABLES_H
#define PV_VENUS_GENERATED_VN_DISPATCH_TABLES_H

#include <vulkan/vulkan.h>

/* Host entry points, loaded with vkGetInstanceProcAddr / vkGetDeviceProcAddr.
 * A member is NULL when the host does not expose the command. */
struct vn_instance_dispatch {
% for n in instance_cmds:
   PFN_${n} ${n};
% endfor
};

struct vn_device_dispatch {
% for n in device_cmds:
   PFN_${n} ${n};
% endfor
};

void vn_instance_dispatch_init(struct vn_instance_dispatch *d,
                               PFN_vkGetInstanceProcAddr get_proc, VkInstance instance);
void vn_device_dispatch_init(struct vn_device_dispatch *d,
                             PFN_vkGetDeviceProcAddr get_proc, VkDevice device);

#endif
