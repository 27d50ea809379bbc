/*
 * The venus capset, laid out exactly as Mesa's driver reads it
 * (virgl_renderer_capset_venus in Mesa's venus_hw.h), and the table of
 * extensions the venus protocol can carry.
 */
#ifndef PV_VENUS_PVK_CAPSET_H
#define PV_VENUS_PVK_CAPSET_H

#include <stdint.h>

struct pvk_capset_venus {
   uint32_t wire_format_version;
   uint32_t vk_xml_version;
   uint32_t vk_ext_command_serialization_spec_version;
   uint32_t vk_mesa_venus_protocol_spec_version;
   uint32_t supports_blob_id_0;
   /* bit N: extension number N is supported; bit 0: the mask is valid */
   uint32_t vk_extension_mask1[32];
   uint32_t allow_vk_wait_syncs;
   /* wire format 1 (Mesa 25) and later: */
   uint32_t supports_multiple_timelines;
   uint32_t use_guest_vram;
};

_Static_assert(sizeof(struct pvk_capset_venus) == 160, "venus capset layout");
/* What wire format 0 (Mesa 22.3) reads: the capset up to allow_vk_wait_syncs. */
#define PVK_CAPSET_VENUS_SIZE_WIRE_FORMAT_0 152

struct pvk_protocol_extension {
   const char *name;
   uint32_t number;
   uint32_t spec_version;
};

/* Fills the capset served for `wire_format` (0 or 1); returns its size. */
uint32_t pvk_capset_venus_fill(struct pvk_capset_venus *caps, uint32_t wire_format);

/* NULL when the protocol cannot carry the extension. */
const struct pvk_protocol_extension *pvk_protocol_extension_find(const char *name);

#endif
