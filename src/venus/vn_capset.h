/*
 * The venus capset, laid out exactly as Mesa's driver reads it
 * (virgl_renderer_capset_venus in Mesa's venus_hw.h), and the table of
 * extensions the venus protocol can carry.
 */
#ifndef PV_VENUS_VN_CAPSET_H
#define PV_VENUS_VN_CAPSET_H

#include <stdint.h>

struct vn_capset_venus {
   uint32_t wire_format_version;
   uint32_t vk_xml_version;
   uint32_t vk_ext_command_serialization_spec_version;
   uint32_t vk_mesa_venus_protocol_spec_version;
   uint32_t supports_blob_id_0;
   /* bit N: extension number N is supported; bit 0: the mask is valid */
   uint32_t vk_extension_mask1[32];
   uint32_t allow_vk_wait_syncs;
};

_Static_assert(sizeof(struct vn_capset_venus) == 152, "venus capset layout");

struct vn_protocol_extension {
   const char *name;
   uint32_t number;
   uint32_t spec_version;
};

void vn_capset_venus_fill(struct vn_capset_venus *caps);

/* NULL when the protocol cannot carry the extension. */
const struct vn_protocol_extension *vn_protocol_extension_find(const char *name);

#endif
