/*
 * The .pvcap file format (pvk_capture.h writes it, fuzz/replay/ reads it).
 * Little-endian, every record 4-byte aligned:
 *
 *   header: "PVCAPT01", u32 version (1), u32 wire format (PV_VENUS_WIRE_FORMAT_*)
 *   records: u32 type, u32 payload size, payload, zero padding to 4 bytes
 *
 * STREAM payload: u32 command count, u32 offset of each command from the
 * start of the bytes, then the command bytes (submitted as one stream).
 * The offsets are for command-aware mutation; a replay ignores them.
 */
#ifndef PV_VENUS_PVK_CAPTURE_FORMAT_H
#define PV_VENUS_PVK_CAPTURE_FORMAT_H

#include <stdint.h>

#define PVK_CAPTURE_MAGIC "PVCAPT01"
#define PVK_CAPTURE_VERSION 1u

struct pvk_capture_header {
   char magic[8];
   uint32_t version;
   uint32_t wire_format;
};

enum pvk_capture_type {
   PVK_CAPTURE_STREAM = 1,
   PVK_CAPTURE_BLOB = 2,   /* created by the context (pv_blob_args.ctx_id) */
   PVK_CAPTURE_ATTACH = 3, /* carries the blob's args: a replay creates it if unknown */
   PVK_CAPTURE_DETACH = 4,
   PVK_CAPTURE_UNREF = 5,
   PVK_CAPTURE_FENCE = 6,
};

struct pvk_capture_record {
   uint32_t type;
   uint32_t size;
};

/* BLOB and ATTACH */
struct pvk_capture_blob {
   uint32_t res_id;
   uint32_t blob_mem;
   uint32_t blob_flags;
   uint32_t guest_pages; /* GUEST blob given backing pages (iov) */
   uint64_t blob_id;
   uint64_t size;
};

/* DETACH and UNREF */
struct pvk_capture_res {
   uint32_t res_id;
};

struct pvk_capture_fence {
   uint32_t ring_idx;
   uint32_t pad;
   uint64_t fence_id;
};

#endif
